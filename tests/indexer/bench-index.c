/* SPDX-License-Identifier: MIT */
/* Times the model on a synthetic GN-like graph: cold apply, no-change apply, a partial rewrite,
 * load, closure (SQL, and the audit's walk over the loaded model) and rendering rust-project.json.
 * Usage: bench-index [N_CRATES] [DB_PATH]. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "graph-fixture.h"

static double
clock_ms(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall time since the last call, and process CPU time in *cpu: on a busy machine the CPU time
 * is the steadier figure. */
static double last_wall, last_cpu, cpu;

static void
start(void)
{
        last_wall = clock_ms(CLOCK_MONOTONIC);
        last_cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

static double
elapsed(void)
{
        cpu = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - last_cpu;
        return clock_ms(CLOCK_MONOTONIC) - last_wall;
}

static int
fail(const char *what, const struct pm_error *err)
{
        fprintf(stderr, "bench-index: %s: %s\n", what, err->msg);
        return 1;
}

int
main(int argc, char **argv)
{
        size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
        char path[4096];
        struct pm_graph *g = NULL, *g2 = NULL, *loaded = NULL;
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        struct pm_change ch = { 0 };
        char **labels = NULL;
        bool *on = NULL;
        size_t n_on;
        const char *top;
        double wall;
        int rc = 1;

        if (n == 0)
                n = 10000;
        if (argc > 2)
                (void)snprintf(path, sizeof(path), "%s", argv[2]);
        else
                (void)snprintf(path, sizeof(path), "%s/pm-bench-%ld.db",
                               getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
        g = pm_fx_synthetic(n, 0);
        g2 = pm_fx_synthetic(n, 10);
        if (!g || !g2) {
                fprintf(stderr, "bench-index: out of memory\n");
                goto out;
        }
        top = g->crates[n - 1].label;
        printf("bench-index: %zu crates, model '%s'\n", n, path);

        if (pm_index_open(path, &idx, &err) < 0) {
                rc = fail("open", &err);
                goto out;
        }
        start();
        if (pm_index_apply(idx, "bench", g, &ch, &err) < 0) {
                rc = fail("cold apply", &err);
                goto out;
        }
        wall = elapsed();
        printf("cold apply:        %8.1f ms (cpu %7.1f)  (added %zu)\n", wall, cpu, ch.added);
        pm_change_release(&ch);

        start();
        if (pm_index_apply(idx, "bench", g, &ch, &err) < 0) {
                rc = fail("no-change apply", &err);
                goto out;
        }
        wall = elapsed();
        printf("no-change apply:   %8.1f ms (cpu %7.1f)  (unchanged %zu)\n", wall, cpu,
               ch.unchanged);
        pm_change_release(&ch);

        start();
        if (pm_index_apply(idx, "bench", g2, &ch, &err) < 0) {
                rc = fail("10%% apply", &err);
                goto out;
        }
        wall = elapsed();
        printf("10%% modified:      %8.1f ms (cpu %7.1f)  (modified %zu)\n", wall, cpu,
               ch.modified);
        pm_change_release(&ch);

        start();
        if (pm_index_load(idx, NULL, 0, &loaded, &err) < 0) {
                rc = fail("load", &err);
                goto out;
        }
        wall = elapsed();
        printf("load all:          %8.1f ms (cpu %7.1f)  (%zu crates)\n", wall, cpu,
               loaded->n_crates);

        start();
        if (pm_writer_render(loaded, NULL, &sb, &err) < 0) {
                rc = fail("render", &err);
                goto out;
        }
        wall = elapsed();
        printf("render all:        %8.1f ms (cpu %7.1f)  (%zu bytes)\n", wall, cpu, sb.len);

        /* The audit's closure of the same crate, walked over the loaded model. */
        pm_graph_sort(loaded);
        on = pm_calloc(loaded->n_crates ? loaded->n_crates : 1, sizeof(*on));
        if (!on) {
                fprintf(stderr, "bench-index: out of memory\n");
                goto out;
        }
        start();
        if (pm_index_mark_audit(idx, loaded, top, true, on, &err) < 0) {
                rc = fail("mark audit", &err);
                goto out;
        }
        wall = elapsed();
        n_on = 0;
        for (size_t i = 0; i < loaded->n_crates; i++)
                n_on += on[i];
        printf("audit closure:     %8.1f ms (cpu %7.1f)  (%zu crates)\n", wall, cpu, n_on);
        pm_graph_free(loaded);
        loaded = NULL;

        start();
        if (pm_index_closure(idx, &top, 1, &labels, &err) < 0) {
                rc = fail("closure", &err);
                goto out;
        }
        wall = elapsed();
        printf("closure of top:    %8.1f ms (cpu %7.1f)  (%zu crates)\n", wall, cpu,
               pm_labels_count(labels));
        start();
        if (pm_index_load(idx, (const char *const *)labels, pm_labels_count(labels), &loaded,
                          &err) < 0) {
                rc = fail("load closure", &err);
                goto out;
        }
        wall = elapsed();
        printf("load closure:      %8.1f ms (cpu %7.1f)\n", wall, cpu);
        pm_graph_free(loaded);
        loaded = NULL;
        pm_labels_free(labels);
        labels = NULL;

        start();
        if (pm_index_crates_for_file(idx, "/repo/c5/crate_55/deep/new.rs", &labels, &err) < 0) {
                rc = fail("crates for file", &err);
                goto out;
        }
        wall = elapsed();
        printf("crates for file:   %8.3f ms (cpu %7.1f)  (%zu)\n", wall, cpu,
               pm_labels_count(labels));
        rc = 0;
out:
        pm_free(on);
        pm_labels_free(labels);
        pm_strbuf_release(&sb);
        pm_index_close(idx);
        if (argc <= 2) {
                char wal[4200];

                (void)unlink(path);
                (void)snprintf(wal, sizeof(wal), "%s-wal", path);
                (void)unlink(wal);
                (void)snprintf(wal, sizeof(wal), "%s-shm", path);
                (void)unlink(wal);
        }
        pm_graph_free(loaded);
        pm_graph_free(g);
        pm_graph_free(g2);
        return rc;
}
