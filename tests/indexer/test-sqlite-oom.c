/* SPDX-License-Identifier: MIT */
/* SQLite's allocator goes through the fault hook (indexer/sqlmem.c): out-of-memory walks over a
 * real model file reach SQLite's own allocation failures, and every failure is clean (an error,
 * no crash, no leak under ASan) and leaves the model in its last good state. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

struct state {
        uint64_t gen;
        struct pm_graph *g; /* the whole model, loaded */
};

static void
take(struct pm_index *idx, struct state *s)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_generation(idx, &s->gen, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &s->g, &err), 0, "%s", err.msg);
        pm_graph_sort(s->g);
}

static void
assert_same(struct pm_index *idx, const struct state *want, unsigned long n)
{
        struct pm_error err = { 0 };
        struct state now;

        cr_assert_eq(pm_index_check(idx, &err), 0, "step %lu: %s", n, err.msg);
        take(idx, &now);
        cr_assert_eq(now.gen, want->gen, "step %lu", n);
        cr_assert_eq(now.g->n_crates, want->g->n_crates, "step %lu", n);
        for (size_t i = 0; i < now.g->n_crates; i++)
                cr_assert(pm_crate_equal(&now.g->crates[i], &want->g->crates[i]), "step %lu: %s", n,
                          now.g->crates[i].label);
        pm_graph_free(now.g);
}

/* True when @err reports SQLite's own out-of-memory (sqlite3_errmsg() after the model path). */
static bool
from_sqlite(const struct pm_error *err, const char *path)
{
        char want[1200];

        (void)snprintf(want, sizeof(want), "'%s': out of memory", path);
        return strstr(err->msg, want) != NULL;
}

Test(sqlite_oom, sqlite_allocates_through_the_hook)
{
        struct pm_index *idx = NULL;
        struct pm_error err = { 0 };
        unsigned long before;
        void *p;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        before = pm_mem_failures();
        pm_mem_fail_at(1);
        p = sqlite3_malloc(64);
        pm_mem_fail_at(0);
        cr_assert_null(p, "the hook fails SQLite's allocation");
        cr_assert_eq(pm_mem_failures(), before + 1);
        p = sqlite3_malloc(64);
        cr_assert_not_null(p);
        cr_assert_eq(sqlite3_msize(p), 64);
        p = sqlite3_realloc(p, 1000);
        cr_assert_not_null(p);
        cr_assert_geq(sqlite3_msize(p), 1000);
        sqlite3_free(p);
        pm_index_close(idx);
}

/* Apply, load and reopen a model file with the Nth allocation failing, N = 1, 2, ... */
Test(sqlite_oom, every_failure_keeps_the_last_good_model, .timeout = 240)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/model.db", dir);
        struct pm_graph *g1 = pm_fx_synthetic(20, 0), *g2 = pm_fx_synthetic(24, 3);
        struct pm_index *idx = NULL;
        struct pm_error err = { 0 };
        struct state good;
        unsigned long n, from_sql = 0;
        int r = -ENOMEM;

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "main", g1, NULL, &err), 0, "%s", err.msg);
        take(idx, &good);

        /* The apply: adds, modifies and keeps crates. */
        for (n = 1; r == -ENOMEM && n < 200000; n++) {
                struct pm_change ch = { 0 };

                pm_error_init(&err);
                pm_mem_fail_at(n);
                r = pm_index_apply(idx, "main", g2, &ch, &err);
                pm_mem_fail_at(0);
                pm_change_release(&ch);
                if (r == -ENOMEM) {
                        cr_assert(strstr(err.msg, "out of memory"), "step %lu: %s", n, err.msg);
                        from_sql += from_sqlite(&err, path);
                        assert_same(idx, &good, n);
                }
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        cr_assert_gt(from_sql, 0, "the walk reached SQLite's own allocation failures");
        pm_graph_free(good.g);
        take(idx, &good);

        /* Loading the model. */
        r = -ENOMEM;
        for (n = 1; r == -ENOMEM && n < 200000; n++) {
                struct pm_graph *g = NULL;

                pm_mem_fail_at(n);
                r = pm_index_load(idx, NULL, 0, &g, &err);
                pm_mem_fail_at(0);
                if (r == 0) {
                        cr_assert_eq(g->n_crates, good.g->n_crates);
                        pm_graph_free(g);
                }
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        pm_index_close(idx);
        idx = NULL;

        /* Opening it again: a failed open leaks nothing and damages nothing. */
        from_sql = 0;
        r = -ENOMEM;
        for (n = 1; r == -ENOMEM && n < 200000; n++) {
                pm_error_init(&err);
                pm_mem_fail_at(n);
                r = pm_index_open(path, &idx, &err);
                pm_mem_fail_at(0);
                if (r == -ENOMEM)
                        from_sql += from_sqlite(&err, path);
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        cr_assert_gt(from_sql, 0, "opening reached SQLite's allocation failures");
        assert_same(idx, &good, 0);

        pm_graph_free(good.g);
        pm_index_close(idx);
        pm_graph_free(g1);
        pm_graph_free(g2);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(path);
        pm_free(dir);
}
