/* SPDX-License-Identifier: MIT */
/* pm_index_mark_audit(): which crates an audit covers, on a model in a SQLite file: one label, a
 * label absent from the model, a crate's dependency closure, the closure of a marked set. */
#include <stdbool.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

static char *dir;
static struct pm_index *idx;
static struct pm_graph *g; /* loaded back from the file and sorted, as both callers do */

/*
 * app -> {left, right} -> base -> core, tool -> app, other -> core, a lone crate and a crate
 * whose dep is not in the model (half -> missing, half -> lone).
 */
static void
setup(void)
{
        static const char *const labels[][2] = {
                { "//core:core", "core" },    { "//base:base", "base" }, { "//left:left", "left" },
                { "//right:right", "right" }, { "//app:app", "app" },    { "//tool:tool", "tool" },
                { "//other:other", "other" }, { "//lone:lone", "lone" }, { "//half:half", "half" },
        };
        struct pm_graph *w = pm_graph_new();
        struct pm_error err = { 0 };
        char *path;

        dir = pm_test_mkdtemp();
        path = pm_test_strf("%s/model.db", dir);
        cr_assert_not_null(w);
        for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
                cr_assert_not_null(pm_fx_crate(w, "/w", labels[i][0], labels[i][1]));
        cr_assert_eq(pm_fx_dep(w, "//base:base", "//core:core", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//left:left", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//right:right", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//app:app", "//left:left", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//app:app", "//right:right", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//tool:tool", "//app:app", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//other:other", "//core:core", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//half:half", "//missing:missing", NULL), 0);
        cr_assert_eq(pm_fx_dep(w, "//half:half", "//lone:lone", NULL), 0);

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "w", w, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &g, &err), 0, "%s", err.msg);
        pm_graph_sort(g);
        pm_graph_free(w);
        pm_free(path);
}

static void
teardown(void)
{
        pm_graph_free(g);
        pm_index_close(idx);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(dir);
}

/* The marked labels, comma-separated, in @g's (sorted) order. */
static char *
marked(const bool *on)
{
        char buf[1024] = "";

        for (size_t i = 0; i < g->n_crates; i++) {
                if (!on[i])
                        continue;
                if (buf[0])
                        strcat(buf, ",");
                strcat(buf, g->crates[i].label);
        }
        return pm_strdup(buf);
}

static void
expect(const bool *on, const char *want)
{
        char *got = marked(on);

        cr_assert_str_eq(got, want);
        pm_free(got);
}

TestSuite(indexer_mark_audit, .init = setup, .fini = teardown);

Test(indexer_mark_audit, one_label_without_closure)
{
        struct pm_error err = { 0 };
        bool on[16] = { false };

        cr_assert_lt(g->n_crates, 16);
        cr_assert_eq(pm_index_mark_audit(idx, g, "//app:app", false, on, &err), 0, "%s", err.msg);
        expect(on, "//app:app");
}

Test(indexer_mark_audit, absent_label_is_not_found)
{
        struct pm_error err = { 0 };
        bool on[16] = { false };

        cr_assert_eq(pm_index_mark_audit(idx, g, "//nope:nope", false, on, &err), PM_ENOTFOUND);
        cr_assert_str_eq(err.msg, "no crate '//nope:nope' in the model");
        pm_error_init(&err);
        cr_assert_eq(pm_index_mark_audit(idx, g, "//nope:nope", true, on, &err), PM_ENOTFOUND);
        cr_assert_str_eq(err.msg, "no crate '//nope:nope' in the model");
        /* A dangling dep's label is no crate of the model either. */
        cr_assert_eq(pm_index_mark_audit(idx, g, "//missing:missing", true, on, &err),
                     PM_ENOTFOUND);
        expect(on, "");
}

Test(indexer_mark_audit, closure_has_the_transitive_deps_and_nothing_else)
{
        struct pm_error err = { 0 };
        bool on[16] = { false };

        cr_assert_eq(pm_index_mark_audit(idx, g, "//app:app", true, on, &err), 0, "%s", err.msg);
        /* Not tool (depends on app), not other (shares core), not lone or half. */
        expect(on, "//app:app,//base:base,//core:core,//left:left,//right:right");

        memset(on, 0, sizeof(on));
        cr_assert_eq(pm_index_mark_audit(idx, g, "//half:half", true, on, &err), 0, "%s", err.msg);
        expect(on, "//half:half,//lone:lone");

        memset(on, 0, sizeof(on));
        cr_assert_eq(pm_index_mark_audit(idx, g, "//core:core", true, on, &err), 0, "%s", err.msg);
        expect(on, "//core:core");
}

/* The CLI's way: its arguments marked already, no label, the closure of the whole set. */
Test(indexer_mark_audit, closure_of_a_marked_set)
{
        struct pm_error err = { 0 };
        bool on[16] = { false };

        on[pm_graph_lookup(g, "//left:left") - g->crates] = true;
        on[pm_graph_lookup(g, "//half:half") - g->crates] = true;
        cr_assert_eq(pm_index_mark_audit(idx, g, NULL, true, on, &err), 0, "%s", err.msg);
        expect(on, "//base:base,//core:core,//half:half,//left:left,//lone:lone");

        /* Nothing marked: nothing reached. */
        memset(on, 0, sizeof(on));
        cr_assert_eq(pm_index_mark_audit(idx, g, NULL, true, on, &err), 0, "%s", err.msg);
        expect(on, "");
}
