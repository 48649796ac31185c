/* SPDX-License-Identifier: MIT */
/* The label queries: file owners (with the include-dir fallback), closures and (reverse)
 * dependencies on a diamond, names, prefix search, build files, metadata. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"

static struct pm_index *idx;

/*
 * The diamond: app -> {left, right} -> base, plus tool -> app, a lone crate and a crate whose
 * dep is not in the model. Paths under /w.
 */
static void
setup(void)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err = { 0 };
        struct pm_crate *c;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_not_null(pm_fx_crate(g, "/w", "//base:base", "base"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//left:left", "left"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//right:right", "right"));
        c = pm_fx_crate(g, "/w", "//app:app", "app");
        cr_assert_not_null(c);
        c->display_name = pm_graph_strdup(g, "my-app");
        c->kind = PM_CRATE_BIN;
        c->root_module = pm_graph_strdup(g, "/w/app/src/main.rs");
        cr_assert_eq(pm_strlist_push(g, &c->sources, "/w/app/src/main.rs"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->sources, "/w/app/src/cli.rs"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/app"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/out/gen/app"), 0);
        /* A test crate sharing app's root dir and a source with it. */
        c = pm_fx_crate(g, "/w", "//app:app_test", "app_test");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_TEST;
        c->root_module = pm_graph_strdup(g, "/w/app/src/main.rs");
        c->build_file = pm_graph_strdup(g, "/w/app/BUILD.gn");
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/app/src"), 0);
        c = pm_fx_crate(g, "/w", "//tool:tool", "tool");
        cr_assert_not_null(c);
        c->display_name = pm_graph_strdup(g, "app");
        cr_assert_not_null(pm_fx_crate(g, "/w", "//lone:lone", "lone"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//half:half", "half"));

        cr_assert_eq(pm_fx_dep(g, "//left:left", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//right:right", "//base:base", "base2"), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//left:left", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//right:right", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app_test", "//app:app", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//tool:tool", "//app:app", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//half:half", "//missing:missing", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//half:half", "//lone:lone", NULL), 0);
        cr_assert_eq(pm_index_apply(idx, "w", g, NULL, &err), 0, "%s", err.msg);
        pm_graph_free(g);
}

static void
teardown(void)
{
        pm_index_close(idx);
}

static void
expect(int r, const struct pm_error *err, char **labels, const char *want)
{
        char buf[4096] = "";
        size_t len = 0;

        cr_assert_eq(r, 0, "%s", err->msg);
        cr_assert_not_null(labels);
        for (char **p = labels; *p; p++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                        p == labels ? "" : ",", *p);
        cr_assert_str_eq(buf, want);
        pm_labels_free(labels);
}

TestSuite(indexer_query, .init = setup, .fini = teardown);

Test(indexer_query, crates_for_file_by_source_and_root_module)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_crates_for_file(idx, "/w/app/src/main.rs", &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test");
        r = pm_index_crates_for_file(idx, "/w/app/src/cli.rs", &v, &err);
        expect(r, &err, v, "//app:app");
        r = pm_index_crates_for_file(idx, "/w/base/src/lib.rs", &v, &err);
        expect(r, &err, v, "//base:base");
}

Test(indexer_query, crates_for_file_falls_back_to_longest_include_dir)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        /* /w/app/src is app_test's include dir, longer than app's /w/app. */
        r = pm_index_crates_for_file(idx, "/w/app/src/sub/new.rs", &v, &err);
        expect(r, &err, v, "//app:app_test");
        r = pm_index_crates_for_file(idx, "/w/app/build.rs", &v, &err);
        expect(r, &err, v, "//app:app");
        r = pm_index_crates_for_file(idx, "/w/out/gen/app/x/y.rs", &v, &err);
        expect(r, &err, v, "//app:app");
        /* No include dirs: the root module's directory stands in (as in the written JSON). */
        r = pm_index_crates_for_file(idx, "/w/left/src/other.rs", &v, &err);
        expect(r, &err, v, "//left:left");
        /* A prefix that is not a path component does not count. */
        r = pm_index_crates_for_file(idx, "/w/app2/lib.rs", &v, &err);
        expect(r, &err, v, "");
        r = pm_index_crates_for_file(idx, "/elsewhere/x.rs", &v, &err);
        expect(r, &err, v, "");
        cr_assert_eq(pm_index_crates_for_file(idx, "relative.rs", &v, &err), -EINVAL);
}

Test(indexer_query, crates_for_build_file)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_crates_for_build_file(idx, "/w/app/BUILD.gn", &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test");
        r = pm_index_crates_for_build_file(idx, "/w/none/BUILD.gn", &v, &err);
        expect(r, &err, v, "");
}

Test(indexer_query, closure_is_transitive_and_deduplicated)
{
        const char *one[] = { "//app:app" };
        const char *two[] = { "//tool:tool", "//left:left", "//tool:tool" };
        const char *half[] = { "//half:half" };
        const char *bad[] = { "//app:app", "//nope:nope" };
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_closure(idx, one, 1, &v, &err);
        expect(r, &err, v, "//app:app,//base:base,//left:left,//right:right");
        r = pm_index_closure(idx, two, 3, &v, &err);
        expect(r, &err, v, "//app:app,//base:base,//left:left,//right:right,//tool:tool");
        /* A dangling dep is not part of the closure. */
        r = pm_index_closure(idx, half, 1, &v, &err);
        expect(r, &err, v, "//half:half,//lone:lone");
        cr_assert_eq(pm_index_closure(idx, bad, 2, &v, &err), PM_ENOTFOUND);
        cr_assert(strstr(err.msg, "'//nope:nope'"), "%s", err.msg);
        r = pm_index_closure(idx, one, 0, &v, &err);
        expect(r, &err, v, "");
}

Test(indexer_query, deps_direct_and_transitive)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_deps(idx, "//tool:tool", false, &v, &err);
        expect(r, &err, v, "//app:app");
        r = pm_index_deps(idx, "//tool:tool", true, &v, &err);
        expect(r, &err, v, "//app:app,//base:base,//left:left,//right:right");
        r = pm_index_deps(idx, "//base:base", true, &v, &err);
        expect(r, &err, v, "");
        r = pm_index_deps(idx, "//half:half", false, &v, &err);
        expect(r, &err, v, "//lone:lone");
        cr_assert_eq(pm_index_deps(idx, "//nope:nope", false, &v, &err), PM_ENOTFOUND);
}

Test(indexer_query, rdeps_direct_and_transitive)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_rdeps(idx, "//base:base", false, &v, &err);
        expect(r, &err, v, "//left:left,//right:right");
        r = pm_index_rdeps(idx, "//base:base", true, &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test,//left:left,//right:right,//tool:tool");
        r = pm_index_rdeps(idx, "//tool:tool", true, &v, &err);
        expect(r, &err, v, "");
        cr_assert_eq(pm_index_rdeps(idx, "//nope:nope", true, &v, &err), PM_ENOTFOUND);
}

Test(indexer_query, lookup_name_matches_crate_and_display_names)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        /* app's crate_name, and tool's display name. */
        r = pm_index_lookup_name(idx, "app", &v, &err);
        expect(r, &err, v, "//app:app,//tool:tool");
        r = pm_index_lookup_name(idx, "my-app", &v, &err);
        expect(r, &err, v, "//app:app");
        r = pm_index_lookup_name(idx, "ap", &v, &err);
        expect(r, &err, v, "");
}

Test(indexer_query, search_by_prefix_with_limit)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_search(idx, "ap", 10, &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test,//tool:tool");
        r = pm_index_search(idx, "ap", 2, &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test");
        r = pm_index_search(idx, "//l", 10, &v, &err);
        expect(r, &err, v, "//left:left,//lone:lone");
        r = pm_index_search(idx, "my-", 10, &v, &err);
        expect(r, &err, v, "//app:app");
        r = pm_index_search(idx, "", 3, &v, &err);
        expect(r, &err, v, "//app:app,//app:app_test,//base:base");
        r = pm_index_search(idx, "zzz", 10, &v, &err);
        expect(r, &err, v, "");
        /* LIKE metacharacters are literal. */
        r = pm_index_search(idx, "%", 10, &v, &err);
        expect(r, &err, v, "");
}

Test(indexer_query, all_labels_sorted)
{
        struct pm_error err = { 0 };
        char **v = NULL;
        int r;

        r = pm_index_all_labels(idx, &v, &err);
        expect(r, &err, v,
               "//app:app,//app:app_test,//base:base,//half:half,//left:left,//lone:lone,"
               "//right:right,//tool:tool");
}

Test(indexer_query, meta_roundtrip_and_overwrite)
{
        struct pm_error err = { 0 };
        char *v = NULL;

        cr_assert_eq(pm_index_meta_set(idx, "last_error", "boom", &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_meta_set(idx, "last_error", "fine", &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_meta_get(idx, "last_error", &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(v, "fine");
        pm_free(v);
}

Test(indexer_query, labels_count_and_free_accept_null)
{
        cr_assert_eq(pm_labels_count(NULL), 0);
        cr_assert_null(pm_labels_free(NULL));
}
