/* SPDX-License-Identifier: MIT */
/* The daemon refresh's worker on the thread pool: read the steps' output files, then the one
 * parse and apply (parse-apply.c) with the worker's own model handle, telling it whether the
 * watcher's scope is complete, and note what the loop publishes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/tool.h"

#include "server-internal.h"
#include "update-internal.h"

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Whether r->q's scope lists every build-file write since the model's last apply of the project
 * (worker): the watcher saw them all since this daemon's own last successful run of it, unless
 * another writer changed the model since (its apply may predate writes the scope no longer names).
 */
static bool
scope_complete(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        uint64_t gen;

        if (!srv->scope_complete)
                return false;
        if (pm_index_generation(srv->widx, &gen, NULL) < 0 || gen != srv->scope_generation) {
                r->wstale = true;
                return false;
        }
        return r->q.scope && srv->scope_complete[r->project];
}

/*
 * The project's proc macros whose sources changed, rebuilt without a query (worker). The model's
 * own writes keep the watcher's scope valid (the fingerprints are kept), but they do not make an
 * incomplete one complete; another writer's apply since the daemon's last one still does
 * (r->wstale).
 */
static int
rebuild(struct pm__refresh *r, const struct pm_progress *progress)
{
        struct pm_server *srv = r->srv;
        struct pm__rebuild rb;
        bool own_model;
        int code;

        r->wrebuild = true;
        r->wpartial = true;
        code = pm__procmacro_rebuild(srv->widx, srv->cfg, &srv->cfg->projects[r->project],
                                     r->rebuild_paths, r->n_rebuild_paths, progress, &rb, &r->werr);
        r->wbuild_ms = rb.build_ms;
        r->wread_ms = r->wparse_ms = 0;
        r->wown_ms = r->wapply_ms = rb.apply_ms;
        r->wfallback = pm_steal_ptr(&rb.fallback);
        r->wcrates = r->known_crates;
        if (code < 0 || !rb.applied)
                goto out;
        if (rb.warnings) {
                r->wwarnings = *rb.warnings;
                memset(rb.warnings, 0, sizeof(*rb.warnings));
        }
        if (srv->scope_complete && (!rb.have_gen_before || rb.gen_before != srv->scope_generation))
                r->wstale = true;
        own_model = rb.have_gen_before && rb.gen_before == r->known_generation;
        r->wchange = rb.change;
        memset(&rb.change, 0, sizeof(rb.change));
        if (own_model)
                r->wcrates = r->known_crates + r->wchange.added - r->wchange.removed;
        else if (pm_index_count(srv->widx, &r->wcrates, NULL) < 0)
                r->wcrates = 0;
        if (r->wchange.n_labels > 0 &&
            pm_index_proc_macro_dirs(srv->widx, &r->wproc_macro_dirs, NULL) < 0)
                r->wproc_macro_dirs = NULL;
out:
        pm__rebuild_release(&rb);
        return code;
}

void
pm__update_work(uv_work_t *w)
{
        struct pm__refresh *r = w->data;
        struct pm_server *srv = r->srv;
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        char *programs[PM_PLAN_MAX_STEPS] = { NULL };
        struct pm_graph *g = NULL;
        char **files = NULL;
        struct pm__parse_apply pa = { .want_fingerprints = true, .want_gen_before = true };
        /* Its lines and warnings reach the clients as $/progress (update-progress.c). */
        struct pm_progress progress;
        bool own_model;
        double t0;
        int code = 0;

        pm_error_init(&r->werr);
        pm__progress_worker(srv, &progress);
        pa.progress = &progress;
        memset(&r->wchange, 0, sizeof(r->wchange));
        r->have_wwatch = false;
        r->wproc_macro_dirs = NULL;
        r->wskipped = false;
        r->wpartial = false;
        r->wrebuild = false;
        r->wfallback = NULL;
        if (!srv->widx) {
                /* The worker's own handle: SQLite handles are never shared between threads. */
                code = pm_index_open(srv->db_path, &srv->widx, &r->werr);
                if (code < 0)
                        goto out;
        }
        /* Its applies drop the sources the configuration (maybe re-read) no longer names. */
        code = pm_model_configure(srv->cfg, srv->widx, &r->werr);
        if (code < 0)
                goto out;
        if (r->rebuild[r->project] && !r->todo[r->project]) {
                code = rebuild(r, &progress);
                goto out;
        }
        t0 = pm_clock_ms();
        for (size_t i = 0; i < r->plan.n_steps; i++) {
                const struct pm_step *s = &r->plan.steps[i];

                if (s->output_file && r->step_ok[i]) {
                        if (!r->results[i].out.buf && srv->output_spare.buf) {
                                r->results[i].out = srv->output_spare;
                                pm_strbuf_init(&srv->output_spare);
                        }
                        pm_strbuf_reset(&r->results[i].out);
                        code = pm_strbuf_read_file(&r->results[i].out, s->output_file,
                                                   srv->cfg->max_tool_output, &r->werr);
                        if (code < 0 && !s->optional)
                                goto out;
                        code = 0;
                }
                blobs[i].data = r->results[i].out.buf ? r->results[i].out.buf : "";
                blobs[i].len = r->results[i].out.len;
                blobs[i].origin = s->output_file ? s->output_file : s->argv[0];
                programs[i] = pm__tool_which(s->argv[0], s->cwd);
                blobs[i].program = programs[i];
                blobs[i].error = r->step_error[i];
                blobs[i].err_text = r->results[i].err.buf;
                blobs[i].err_len = r->results[i].err.len;
                blobs[i].exit_status = r->results[i].exit_status;
        }
        r->wread_ms = pm_clock_ms() - t0;
        pa.scope_complete = scope_complete(r);
        code = pm__parse_apply(srv->widx, &r->q, blobs, r->plan.n_steps, &pa, &r->wchange, &g,
                               &r->werr);
        if (code < 0)
                goto out;
        r->wparse_ms = pa.parse_ms;
        r->wbuild_ms = pa.build_ms;
        /* Unless another writer got in since the loop last looked, the crate count and watch set
         * follow from the change alone: no need to read them back. */
        own_model = pa.have_gen_before && pa.gen_before == r->known_generation;
        r->wskipped = pa.skipped;
        r->wpartial = g && g->partial;
        if (g)
                pm__warnings_copy(&r->wwarnings, g);
        r->wown_ms = pm_clock_ms() - t0 - r->wbuild_ms;
        r->wapply_ms = r->wown_ms - r->wread_ms - r->wparse_ms;
        if (r->sysroot)
                (void)pm_index_meta_set(srv->widx, PM_META_SYSROOT, r->sysroot, NULL);
        if (r->sysroot_src)
                (void)pm_index_meta_set(srv->widx, PM_META_SYSROOT_SRC, r->sysroot_src, NULL);
        (void)pm_index_meta_set(srv->widx, PM_META_LAST_ERROR, "", NULL);
        {
                /* What a snapshot's age is compared with (pm_index_seed()). */
                char now[32];

                (void)snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
                (void)pm_index_meta_set(srv->widx, PM_META_LAST_REFRESH, now, NULL);
        }
        if (own_model)
                r->wcrates = r->known_crates + r->wchange.added - r->wchange.removed;
        else if (pm_index_count(srv->widx, &r->wcrates, NULL) < 0)
                r->wcrates = 0;
        /* Proc macros may have come, gone or moved: where their sources are, again. */
        if ((!own_model || r->wchange.n_labels > 0) &&
            pm_index_proc_macro_dirs(srv->widx, &r->wproc_macro_dirs, NULL) < 0)
                r->wproc_macro_dirs = NULL;
        /* The new watch set, sorted here so the loop only swaps pointers. */
        if (own_model && r->wchange.build_files_changed == 0)
                goto out;
        if (pm_index_build_files(srv->widx, NULL, &files, NULL) == 0) {
                r->wwatch.n = pm_labels_count(files);
                qsort(files, r->wwatch.n, sizeof(*files), cmp_str);
                r->wwatch.v = pm_steal_ptr(&files);
                r->have_wwatch = true;
                /* Out of memory: the old watch set and its directories stay, as a whole. */
                if (pm__watch_dirs_of(&r->wwatch, &r->wdirs) < 0) {
                        pm__strset_release(&r->wwatch);
                        r->have_wwatch = false;
                }
        }
out:
        if (code < 0 && srv->widx) {
                char line[PM_ERROR_MSG_MAX];

                (void)snprintf(line, sizeof(line), "%s", r->werr.msg);
                (void)pm_index_meta_set(srv->widx, PM_META_LAST_ERROR, line, NULL);
        }
        pm_graph_free(g);
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++)
                pm_free(programs[i]);
        r->wcode = code;
}
