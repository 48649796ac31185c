/* SPDX-License-Identifier: MIT */
/* The bazel adapter's parser without Bazel: captured cquery jsonproto and streamed_jsonproto
 * output (good and malformed), partial parses and test folding. Settings and the planned
 * command lines are in test-plan.c. */
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "bazel-test.h"
#include "testlib.h"

PM_BAZEL_WS_SUITE(bazel_parse, ws, "basic");

static int
parse_text(const char *text, struct pm_graph **ret, struct pm_error *err)
{
        pm_error_init(err);
        return pm_adapter_parse_captured(ws.cfg, &ws.cfg->projects[0], text, strlen(text),
                                         "captured.json", ret, err);
}

static void
assert_str_in(const struct pm_strlist *l, const char *s)
{
        cr_assert(pm_strlist_contains(l, s), "'%s' missing", s);
}

static void
assert_path_in(const struct pm_strlist *l, const char *rel)
{
        char *p = pm_bazel_path(&ws, rel);

        assert_str_in(l, p);
        pm_free(p);
}

static void
assert_path_eq(const char *got, const char *rel)
{
        char *p = pm_bazel_path(&ws, rel);

        cr_assert_not_null(got);
        cr_assert_str_eq(got, p);
        pm_free(p);
}

/* What both formats of the basic workspace must give (the streamed fixture differs only in
 * //app:app's deps, which come from a select() there). */
static void
check_basic_graph(const struct pm_graph *g)
{
        struct pm_crate *c;
        struct pm_error err;
        char *p;

        cr_assert_eq(g->n_crates, 10, "got %zu crates", g->n_crates);
        cr_assert_not(g->partial);
        cr_assert_null(pm_graph_find(g, "//lib/foo:foo_test"), "a crate = test is folded");

        c = pm_graph_find(g, "//lib/foo:foo");
        cr_assert_not_null(c);
        cr_assert_eq(c->kind, PM_CRATE_LIB);
        cr_assert_str_eq(c->build_system, "bazel");
        cr_assert_str_eq(c->crate_name, "foo");
        cr_assert_str_eq(c->edition, "2018");
        assert_path_eq(c->root_module, "lib/foo/src/lib.rs");
        assert_path_eq(c->build_file, "lib/foo/BUILD.bazel");
        assert_path_in(&c->sources, "lib/foo/src/parse.rs");
        assert_path_in(&c->sources, "lib/foo/tests/extra.rs");
        assert_path_in(&c->include_dirs, "lib/foo/src");
        assert_path_in(&c->include_dirs, "lib/foo/tests");
        assert_str_in(&c->cfgs, "feature=\"std\"");
        assert_str_in(&c->cfgs, "feature=\"serde\"");
        assert_str_in(&c->cfgs, "tokio_unstable");
        assert_str_in(&c->cfgs, "foo_bar");
        cr_assert_eq(c->flags.n, 3);
        cr_assert_str_eq(pm_kvlist_get(&c->env, "GREETING"), "hi");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "TEST_ONLY"), "1", "the test's env is merged");
        cr_assert(c->is_workspace_member);
        cr_assert_eq(c->n_deps, 4);
        cr_assert(pm_test_crate_has_dep(c, "//lib/util:util", "util2"), "alias is a rename");
        cr_assert(pm_test_crate_has_dep(c, "@ext//:extlib", NULL));
        cr_assert(pm_test_crate_has_dep(c, "//macros:derive_it", NULL), "proc_macro_deps are deps");
        cr_assert(pm_test_crate_has_dep(c, "//lib/extra-helpers:extra-helpers", NULL),
                  "the folded test's deps are unioned");
        cr_assert_eq(c->test_targets.n, 1, "the folded test is the crate's test target");
        cr_assert_str_eq(c->test_targets.v[0], "//lib/foo:foo_test");

        c = pm_graph_find(g, "//lib/extra-helpers:extra-helpers");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->crate_name, "extra_helpers");
        cr_assert_str_eq(c->display_name, "extra_helpers", "as rules_rust names it");
        cr_assert_str_eq(c->edition, "2021", "the default edition");
        assert_path_eq(c->root_module, "lib/extra-helpers/src/helpers.rs");

        c = pm_graph_find(g, "//macros:derive_it");
        cr_assert_not_null(c);
        cr_assert_eq(c->kind, PM_CRATE_PROC_MACRO);
        cr_assert_null(c->proc_macro_dylib);
        cr_assert_not_null(c->note);
        cr_assert(strstr(c->note, "bazel build //macros:derive_it"), "note: %s", c->note);

        c = pm_graph_find(g, "//app:app");
        cr_assert_not_null(c);
        cr_assert_eq(c->kind, PM_CRATE_BIN);
        assert_path_eq(c->root_module, "app/src/main.rs");
        cr_assert(pm_test_crate_has_dep(c, "//lib/foo:foo", NULL));

        c = pm_graph_find(g, "//app:tool");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->crate_name, "the_tool");
        cr_assert_str_eq(c->edition, "2015");
        assert_path_eq(c->root_module, "app/src/tool_main.rs");

        c = pm_graph_find(g, "//app:app-integration");
        cr_assert_not_null(c);
        cr_assert_eq(c->kind, PM_CRATE_TEST);
        cr_assert_str_eq(c->crate_name, "app_integration");
        assert_path_eq(c->root_module, "app/tests/lib.rs");

        cr_assert_eq(pm_graph_find(g, "//ffi:ffi_shared")->kind, PM_CRATE_LIB);
        cr_assert_eq(pm_graph_find(g, "//ffi:ffi_static")->kind, PM_CRATE_LIB);

        c = pm_graph_find(g, "@ext//:extlib");
        cr_assert_not_null(c);
        cr_assert_not(c->is_workspace_member);
        cr_assert_str_eq(c->edition, "2015");
        p = pm_test_strf("%s/external/ext/src/lib.rs", ws.ob);
        cr_assert_str_eq(c->root_module, p, "external crates live in the output base");
        pm_free(p);

        assert_path_in(&g->build_files, "lib/foo/BUILD.bazel");
        assert_path_in(&g->build_files, "lib/util/BUILD");
        for (size_t i = 0; i < g->build_files.n; i++)
                cr_assert_not(strstr(g->build_files.v[i], "/external/"),
                              "no watch on the output base: %s", g->build_files.v[i]);
        pm_error_init(&err);
        cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s", err.msg);
}

Test(bazel_parse, cquery_jsonproto)
{
        char *text = pm_bazel_data("cquery.json", ws.root, ws.ob);
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        check_basic_graph(g);
        pm_graph_free(g);
        pm_free(text);
}

Test(bazel_parse, streamed_jsonproto)
{
        char *text = pm_bazel_data("streamed.jsonl", ws.root, ws.ob);
        struct pm_graph *g = NULL;
        struct pm_crate *c;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        check_basic_graph(g);
        c = pm_graph_find(g, "//app:app");
        cr_assert_eq(c->n_deps, 1, "select() takes the default branch only");
        pm_graph_free(g);
        pm_free(text);
}

/*
 * `query --keep_going` (Bazel 6.4+; the installed 4.2.3 has no streamed_jsonproto, so its exact
 * stderr lines here) over a tree where lib/util does not load: util is missing from the output
 * and foo, printed anyway, depends on it. foo is left out, and app, which depends on foo (the
 * apply keeps their last good state, edges included); the three BUILD files are listed as
 * failed and watched; the first error is the warning; a package whose BUILD file is gone ('no such
 * package'), an external repository's BUILD file and a .bzl file are not listed.
 */
Test(bazel_parse, keep_going_failures_are_listed)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        char *text = pm_bazel_data("streamed.jsonl", ws.root, ws.ob);
        char *cut = strstr(text, "{\"type\":\"RULE\",\"rule\":{\"name\":\"//lib/util:util\"");
        char *errtext = pm_test_strf(
                "Loading: 0 packages loaded\n"
                "ERROR: %s/lib/util/BUILD:3:13: syntax error at 'srcs': expected ,\n"
                "ERROR: package contains errors: lib/util\n"
                "ERROR: Skipping '//gone/...': no such package 'gone': BUILD file not found in "
                "any of the following directories. Add a BUILD file to a directory to mark it "
                "as a package.\n"
                "ERROR: %s/external/ext/BUILD.bazel:2:1: not the user's to fix\n"
                "ERROR: %s/rules.bzl:3:1: not a BUILD file\n"
                "WARNING: --keep_going specified, ignoring errors. Results may be inaccurate\n",
                ws.root, ws.ob, ws.root);
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob blob = { .origin = "bazel query", .error = "bazel exited with status 3" };
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *want;

        cr_assert_not_null(cut);
        memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
        blob.data = text;
        blob.len = strlen(text);
        blob.err_text = errtext;
        blob.err_len = strlen(errtext);
        pm_error_init(&err);
        cr_assert_eq(ops->parse(&q, &blob, 1, &g, &err), 0, "%s", err.msg);
        cr_assert_null(pm_graph_find(g, "//lib/util:util"));
        cr_assert_null(pm_graph_find(g, "//lib/foo:foo"), "foo lost its edge to util: left out");
        cr_assert_null(pm_graph_find(g, "//app:app"), "and app, which depends on foo");
        cr_assert_not_null(pm_graph_find(g, "//macros:derive_it"), "the rest is there");
        for (size_t i = 0; i < g->n_crates; i++)
                cr_assert_not(pm_test_crate_has_dep(&g->crates[i], "//lib/util:util", NULL));
        cr_assert_eq(g->failed.n, 3, "got %zu", g->failed.n);
        assert_path_in(&g->failed, "lib/util/BUILD");
        assert_path_in(&g->failed, "lib/foo/BUILD.bazel");
        assert_path_in(&g->failed, "app/BUILD.bazel");
        /* Only util failed of its own; foo and app are kept for depending on it. */
        cr_assert_eq(g->failed_own.n, 1, "got %zu", g->failed_own.n);
        assert_path_in(&g->failed_own, "lib/util/BUILD");
        assert_path_in(&g->build_files, "lib/util/BUILD");
        want = pm_test_strf("%s/lib/util/BUILD:3:13: syntax error at 'srcs': expected , (bazel "
                            "could not load it with --keep_going)",
                            ws.root);
        cr_assert_str_eq(g->warnings.v[0], want);
        {
                bool named = false;

                for (size_t i = 1; i < g->warnings.n; i++)
                        named = named || strstr(g->warnings.v[i], "crate '//lib/foo:foo'");
                cr_assert(named, "a warning names foo");
        }
        cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s", err.msg);
        pm_graph_free(g);
        pm_free(want);
        pm_free(errtext);
        pm_free(text);
}

/*
 * Each error of its own gets a warning with its file and line (editors show it there): two broken
 * BUILD files, and a dependency on a target its package lacks (a typo). Bazel's echo of a broken
 * package in the packages that depend on it ("no such target ... defined by <broken file>",
 * printed once per target) is not one, nor is an external repository's error.
 */
Test(bazel_parse, keep_going_warns_each_error_at_its_line)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        char *text = pm_bazel_data("streamed.jsonl", ws.root, ws.ob);
        char *errtext = pm_test_strf(
                "ERROR: %s/lib/util/BUILD:3:13: syntax error at 'srcs': expected ,\n"
                "ERROR: package contains errors: lib/util\n"
                "ERROR: %s/lib/foo/BUILD.bazel:7:5: syntax error at 'edition': expected ,\r\n"
                "ERROR: %s/app/BUILD.bazel:4:12: no such target '//lib/util:util': target 'util' "
                "not declared in package 'lib/util' defined by %s/lib/util/BUILD and referenced by "
                "'//app:app'\n"
                "ERROR: %s/app/BUILD.bazel:4:12: no such target '//lib/util:util': target 'util' "
                "not declared in package 'lib/util' defined by %s/lib/util/BUILD and referenced by "
                "'//app:app'\n"
                "ERROR: %s/macros/BUILD.bazel:5:9: no such target '//lib/bar:barr': target 'barr' "
                "not declared in package 'lib/bar' defined by %s/lib/bar/BUILD.bazel and "
                "referenced by '//macros:derive_it'\n"
                "ERROR: %s/external/ext/BUILD.bazel:2:1: not the user's to fix\n",
                ws.root, ws.root, ws.root, ws.root, ws.root, ws.root, ws.root, ws.root, ws.ob);
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob blob = { .origin = "bazel query", .error = "bazel exited with status 3" };
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *want[3];
        size_t located = 0;

        want[0] = pm_test_strf("%s/lib/util/BUILD:3:13: syntax error at 'srcs': expected , "
                               "(bazel could not load it with --keep_going)",
                               ws.root);
        want[1] = pm_test_strf("%s/lib/foo/BUILD.bazel:7:5: syntax error at 'edition': expected "
                               ", (bazel could not load it with --keep_going)",
                               ws.root);
        want[2] = pm_test_strf("%s/macros/BUILD.bazel:5:9: no such target '//lib/bar:barr': "
                               "target 'barr' not declared in package 'lib/bar' defined by "
                               "%s/lib/bar/BUILD.bazel and referenced by '//macros:derive_it' "
                               "(bazel could not load it with --keep_going)",
                               ws.root, ws.root);
        blob.data = text;
        blob.len = strlen(text);
        blob.err_text = errtext;
        blob.err_len = strlen(errtext);
        pm_error_init(&err);
        cr_assert_eq(ops->parse(&q, &blob, 1, &g, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < 3; i++)
                cr_assert_str_eq(g->warnings.v[i], want[i]);
        for (size_t i = 0; i < g->warnings.n; i++) {
                cr_assert_null(strstr(g->warnings.v[i], "app/BUILD.bazel:4:12"), "%s",
                               g->warnings.v[i]);
                cr_assert_null(strstr(g->warnings.v[i], "not the user's"), "%s", g->warnings.v[i]);
                located += g->warnings.v[i][0] == '/';
        }
        cr_assert_eq(located, 3);
        assert_path_in(&g->failed, "app/BUILD.bazel");
        pm_graph_free(g);
        for (size_t i = 0; i < 3; i++)
                pm_free(want[i]);
        pm_free(errtext);
        pm_free(text);
}

Test(bazel_parse, empty_results)
{
        static const char *const inputs[] = { "{\n}\n", "", "\n\n", "{\"results\": []}" };
        struct pm_graph *g;
        struct pm_error err;

        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
                g = NULL;
                cr_assert_eq(parse_text(inputs[i], &g, &err), 0, "input %zu: %s", i, err.msg);
                cr_assert_eq(g->n_crates, 0);
                pm_graph_free(g);
        }
}

/* One streamed line for rule @cls named @label with @attrs (JSON array members). */
static char *
line(const char *label, const char *cls, const char *attrs)
{
        return pm_test_strf("{\"type\":\"RULE\",\"rule\":{\"name\":\"%s\",\"ruleClass\":\"%s\","
                            "\"location\":\"%s/a/BUILD:1:1\",\"attribute\":[%s]}}\n",
                            label, cls, ws.root, attrs);
}

static void
expect_bad(const char *text, const char *needle)
{
        struct pm_graph *g = NULL;
        struct pm_error err;
        int r = parse_text(text, &g, &err);

        cr_assert_eq(r, PM_EBADTOOLOUTPUT, "got %d (%s) for: %s", r, err.msg, text);
        cr_assert_null(g);
        cr_assert(strstr(err.msg, "captured.json"), "names the origin: %s", err.msg);
        cr_assert(strstr(err.msg, needle), "'%s' not in: %s", needle, err.msg);
}

#define SRCS(...) \
        "{\"name\":\"srcs\",\"type\":\"LABEL_LIST\",\"stringListValue\":[" __VA_ARGS__ "]}"

Test(bazel_parse, malformed_output)
{
        char *t;

        expect_bad("not json", "line 1");
        expect_bad("{\"results\": 3}", "'results'");
        expect_bad("{\"results\": [{\"configuration\": {}}]}", "'target'");
        expect_bad("{\"something\": 1}", "results");
        expect_bad("{\"type\":\"RULE\"}", "'rule'");
        expect_bad("{\"type\":\"RULE\",\"rule\":{\"ruleClass\":\"rust_library\"}}", "'name'");
        expect_bad("{\"type\":\"RULE\",\"rule\":{\"name\":\"//a:b\",\"ruleClass\":\"rust_library\","
                   "\"attribute\":{}}}",
                   "'//a:b'");

        t = line("//a:b", "rust_library", SRCS("\"//a:x.rs\", \"//a:y.rs\""));
        expect_bad(t, "target '//a:b' has no crate_root");
        pm_free(t);

        t = line("//a:b", "rust_library",
                 SRCS("\"//a:lib.rs\"") ",{\"name\":\"edition\",\"type\":\"STRING\","
                                        "\"stringValue\":\"2017\"}");
        expect_bad(t, "invalid edition '2017'");
        pm_free(t);

        t = line("//a:b", "rust_library", SRCS("\"//a/../../etc:passwd.rs\""));
        expect_bad(t, "invalid label");
        pm_free(t);

        t = line("//a:b", "rust_library", "{\"name\":\"srcs\",\"stringListValue\":\"x\"}");
        expect_bad(t, "non-list 'srcs'");
        pm_free(t);

        t = line("//a:b", "rust_library",
                 SRCS("\"//a:lib.rs\"") ",{\"name\":\"crate_name\",\"stringValue\":\"a.b\"}");
        expect_bad(t, "invalid crate name 'a.b'");
        pm_free(t);

        /* '_' alone is no crate name for rustc: rejected here, naming the target. */
        t = line("//a:b", "rust_library",
                 SRCS("\"//a:lib.rs\"") ",{\"name\":\"crate_name\",\"stringValue\":\"_\"}");
        expect_bad(t, "target '//a:b' has an invalid crate name '_'");
        pm_free(t);

        /* Nor is a target name that becomes '_' once '-' is read as '_'. */
        t = line("//a:-", "rust_library", SRCS("\"//a:lib.rs\""));
        expect_bad(t, "target '//a:-' has an invalid crate name '_'");
        pm_free(t);

        t = line("//a:b", "rust_library",
                 SRCS("\"//a:lib.rs\"") ",{\"name\":\"aliases\",\"labelKeyedStringDictValue\":"
                                        "[{\"key\":\"//x:y\"}]}");
        expect_bad(t, "invalid alias");
        pm_free(t);
}

Test(bazel_parse, malformed_line_is_located)
{
        char *good = line("//a:b", "rust_library", SRCS("\"//a:lib.rs\""));
        char *text = pm_test_strf("%s{\"type\": \"RULE\", broken\n", good);
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), PM_EBADTOOLOUTPUT);
        cr_assert_eq(err.line, 2, "line %d: %s", err.line, err.msg);
        cr_assert(strstr(err.msg, "line 2"), "%s", err.msg);
        pm_free(good);
        pm_free(text);
}

Test(bazel_parse, labels_are_normalised)
{
        char *a = line("//a", "rust_library",
                       SRCS("\"//a:lib.rs\"") ",{\"name\":\"deps\",\"stringListValue\":"
                                              "[\"//c\", \"@//c:c\", \"//gen:not_rust\"]}");
        char *c = line("@@//c", "rust_library", SRCS("\":lib.rs\""));
        char *text = pm_test_strf("%s%s", a, c);
        struct pm_graph *g = NULL;
        struct pm_crate *cr;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 2);
        cr = pm_graph_find(g, "//a:a");
        cr_assert_not_null(cr, "//a means //a:a");
        cr_assert_eq(cr->n_deps, 1, "duplicates merge, non-Rust deps are dropped");
        cr_assert(pm_test_crate_has_dep(cr, "//c:c", NULL));
        cr = pm_graph_find(g, "//c:c");
        cr_assert_not_null(cr);
        assert_path_eq(cr->root_module, "c/lib.rs");
        cr_assert(cr->is_workspace_member);
        pm_graph_free(g);
        pm_free(a);
        pm_free(c);
        pm_free(text);
}

Test(bazel_parse, duplicate_configurations_keep_the_first)
{
        char *a = line("//a:b", "rust_library",
                       SRCS("\"//a:lib.rs\"") ",{\"name\":\"edition\",\"stringValue\":\"2018\"}");
        char *b = line("//a:b", "rust_library", SRCS("\"//a:lib.rs\""));
        char *text = pm_test_strf("{\"results\":[{\"target\":%.*s},{\"target\":%.*s}]}",
                                  (int)strlen(a) - 1, a, (int)strlen(b) - 1, b);
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 1);
        cr_assert_str_eq(g->crates[0].edition, "2018");
        pm_graph_free(g);
        pm_free(a);
        pm_free(b);
        pm_free(text);
}

Test(bazel_parse, test_folding_into_a_missing_crate_warns)
{
        char *t = line("//a:t", "rust_test",
                       SRCS("\"//a:t.rs\"") ",{\"name\":\"crate\",\"stringValue\":\"//a:lib\"}");
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(t, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 0);
        cr_assert_eq(g->warnings.n, 1);
        cr_assert(strstr(g->warnings.v[0], "//a:t"), "%s", g->warnings.v[0]);
        pm_graph_free(g);
        pm_free(t);
}

/* rules_rust: a cargo_build_script in a crate's deps makes no crate and no edge; it is the
 * target whose out_dir is the crate's OUT_DIR (built by server/build.c). */
Test(bazel_parse, cargo_build_script_in_deps_is_the_out_dir_target)
{
        char *a = line("//a:a", "rust_library",
                       SRCS("\"//a:lib.rs\"") ",{\"name\":\"deps\",\"stringListValue\":"
                                              "[\":a_bs\", \"//c\"]}");
        char *bs = line("//a:a_bs", "cargo_build_script", SRCS("\"//a:build.rs\""));
        char *c = line("//c:c", "rust_library", SRCS("\"//c:lib.rs\""));
        char *text = pm_test_strf("%s%s%s", a, bs, c);
        struct pm_graph *g = NULL;
        struct pm_crate *cr;
        struct pm_error err;
        char *want;
        bool watched = false;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 2, "the build script is no crate");
        cr_assert_eq(g->warnings.n, 0, "%s", g->warnings.n ? g->warnings.v[0] : "");
        cr = pm_graph_find(g, "//a:a");
        cr_assert_not_null(cr);
        cr_assert_str_eq(cr->out_dir_target, "//a:a_bs");
        cr_assert_str_eq(cr->note, "OUT_DIR not built by projmodel: //a:a_bs is not run, so what "
                                   "the crate include!s from it is missing");
        cr_assert_eq(cr->n_deps, 1);
        cr_assert(pm_test_crate_has_dep(cr, "//c:c", NULL));
        cr_assert_null(pm_graph_find(g, "//c:c")->out_dir_target);
        /* The script's source is watched: an edit of it re-queries, and the build runs it. */
        want = pm_test_strf("%s/a/build.rs", ws.root);
        for (size_t i = 0; i < g->build_files.n && !watched; i++)
                watched = strcmp(g->build_files.v[i], want) == 0;
        cr_assert(watched, "%s is a build file", want);
        pm_free(want);
        pm_graph_free(g);
        pm_free(a);
        pm_free(bs);
        pm_free(c);
        pm_free(text);
}

/*
 * Whether a source is generated comes from the output alone (adapters/bazel/crate.c): the query
 * adds the srcs' targets that are no source file, a GENERATED_FILE (//a:out.rs) or a rule
 * (//a:gen_rs, a genrule). The checked-in lib.rs and gone.rs, absent from this workspace, stay
 * sources; out.rs, present on disk (a stale copy), is still generated. The generating rules'
 * checked-in srcs are watched.
 */
Test(bazel_parse, generated_sources_come_from_the_output_not_the_disk)
{
        char *stale = pm_bazel_path(&ws, "a/out.rs"), *dir = pm_bazel_path(&ws, "a");
        char *lib = pm_bazel_path(&ws, "a/lib.rs"), *gen_rs = pm_bazel_path(&ws, "a/gen_rs");
        /* Rule //a:a, then the targets the query adds for its srcs. */
        static const char crate[] =
                "{\"target\": {\"type\":\"RULE\",\"rule\":{\"name\":\"//a:a\","
                "\"ruleClass\":\"rust_library\",\"location\":\"%s/a/BUILD:1:1\",\"attribute\":[" SRCS(
                        "\"//a:lib.rs\", \"//a:gone.rs\", \"//a:gen_rs\", \"//a:out.rs\"") "]}}}";
        static const char lib_src[] =
                "{\"target\": {\"type\":\"SOURCE_FILE\",\"sourceFile\":{\"name\":\"//a:lib.rs\"}}}";
        static const char out[] = "{\"target\": {\"type\":\"GENERATED_FILE\",\"generatedFile\":{"
                                  "\"name\":\"//a:out.rs\",\"generatingRule\":\"//a:out_rs\"}}}";
        static const char gen[] =
                "{\"target\": {\"type\":\"RULE\",\"rule\":{\"name\":\"//a:gen_rs\","
                "\"ruleClass\":\"genrule\",\"attribute\":[" SRCS("\"gen.in\", \":out.rs\"") "]}}}";
        static const char out_rs[] =
                "{\"target\": {\"type\":\"RULE\",\"rule\":{\"name\":\"//a:out_rs\","
                "\"ruleClass\":\"genrule\",\"attribute\":[" SRCS("\"//a:tmpl.txt\"") "]}}}";
        char *first = pm_test_strf(crate, ws.root);
        char *text = pm_test_strf("{\"results\": [%s, %s, %s, %s, %s]}", first, lib_src, out, gen,
                                  out_rs);
        struct pm_graph *g = NULL;
        struct pm_crate *cr;
        struct pm_error err;

        cr_assert_eq(mkdir(dir, 0755), 0);
        cr_assert_eq(pm_test_write_file(stale, "pub fn stale() {}\n"), 0);
        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 1, "a genrule is no crate");
        cr = pm_graph_find(g, "//a:a");
        cr_assert_not_null(cr);
        cr_assert_str_eq(cr->root_module, lib);
        cr_assert_eq(cr->gen_srcs.n, 2, "generated: %zu", cr->gen_srcs.n);
        cr_assert_str_eq(pm_kvlist_get(&cr->gen_srcs, "//a:gen_rs"), gen_rs);
        cr_assert_str_eq(pm_kvlist_get(&cr->gen_srcs, "//a:out.rs"), stale,
                         "a generated file present on disk is still generated");
        cr_assert_null(pm_kvlist_get(&cr->gen_srcs, "//a:gone.rs"),
                       "a checked-in source missing on disk is no generated one");
        cr_assert_null(pm_kvlist_get(&cr->gen_srcs, "//a:lib.rs"));
        /* The generators' checked-in inputs are watched (the rule of a GENERATED_FILE too); a
         * generated input (out.rs) is no file to watch. */
        assert_path_in(&g->build_files, "a/gen.in");
        assert_path_in(&g->build_files, "a/tmpl.txt");
        cr_assert_not(pm_strlist_contains(&g->build_files, stale), "out.rs is not watched");
        pm_graph_free(g);
        pm_free(stale);
        pm_free(dir);
        pm_free(lib);
        pm_free(gen_rs);
        pm_free(first);
        pm_free(text);
}

/* A generated target's rule, printed with its inputs (@inputs: the "ruleInput" items). */
#define GEN_RULE(name, cls, inputs)                                                            \
        "{\"target\": {\"type\":\"RULE\",\"rule\":{\"name\":\"" name "\",\"ruleClass\":\"" cls \
        "\",\"attribute\":[],\"ruleInput\":[" inputs "]}}}"

/*
 * A generator's inputs are every label its rule reads (its `ruleInput`: srcs, tools), followed
 * through what the query prints of them (adapters/bazel/bazel.c): a generated input to the rule
 * writing it (a chain of genrules), a tool that is a rule to its own inputs. Only the checked-in
 * files at the ends are watched; an external input, a generated file and a rule are not. An
 * output whose rules read each other (no Bazel prints one) still ends.
 */
Test(bazel_parse, a_generators_inputs_are_watched_through_chains_and_tools)
{
        static const char crate[] =
                "{\"target\": {\"type\":\"RULE\",\"rule\":{\"name\":\"//a:a\","
                "\"ruleClass\":\"rust_library\",\"location\":\"%s/a/BUILD:1:1\","
                "\"attribute\":[" SRCS("\"//a:second\"") "]}}}";
        static const char first_rs[] =
                "{\"target\": {\"type\":\"GENERATED_FILE\",\"generatedFile\":{"
                "\"name\":\"//a:first.rs\",\"generatingRule\":\"//a:first\"}}}";
        static const char second[] = GEN_RULE(
                "//a:second", "genrule",
                "\"//a:first.rs\", \"//tools:stamp\", \"@bazel_tools//tools/genrule:genrule-setup.sh\"");
        static const char first[] =
                GEN_RULE("//a:first", "genrule", "\"//a:chain.in\", \"//a:second\"");
        static const char stamp[] = GEN_RULE("//tools:stamp", "filegroup", "\"//tools:stamp.sh\"");
        char *head = pm_test_strf(crate, ws.root);
        char *text = pm_test_strf("{\"results\": [%s, %s, %s, %s, %s]}", head, first_rs, second,
                                  first, stamp);
        char *not_watched[] = { pm_bazel_path(&ws, "a/first.rs"), pm_bazel_path(&ws, "a/second"),
                                pm_bazel_path(&ws, "tools/stamp"),
                                pm_bazel_path(&ws, "tools/genrule/genrule-setup.sh") };
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 1, "no generator is a crate");
        cr_assert_eq(pm_graph_find(g, "//a:a")->gen_srcs.n, 1);
        assert_path_in(&g->build_files, "a/chain.in");
        assert_path_in(&g->build_files, "tools/stamp.sh");
        for (size_t i = 0; i < sizeof(not_watched) / sizeof(*not_watched); i++) {
                cr_assert_not(pm_strlist_contains(&g->build_files, not_watched[i]),
                              "'%s' is watched", not_watched[i]);
                pm_free(not_watched[i]);
        }
        pm_graph_free(g);
        pm_free(head);
        pm_free(text);
}

Test(bazel_parse, partial_parse_keeps_covered_crates)
{
        char *foo = pm_bazel_path(&ws, "lib/foo/BUILD.bazel"),
             *gone = pm_bazel_path(&ws, "gone/BUILD");
        const char *scope[] = { foo, gone };
        char *text = pm_bazel_data("cquery.json", ws.root, ws.ob);
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = {
                .config = ws.cfg, .project = &ws.cfg->projects[0], .scope = scope, .n_scope = 2
        };
        struct pm_blob blob = { .data = text, .len = strlen(text), .origin = "cquery" };
        struct pm_graph *g = NULL;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(ops->parse(&q, &blob, 1, &g, &err), 0, "%s", err.msg);
        cr_assert(g->partial);
        cr_assert_eq(g->covered.n, 2);
        cr_assert(pm_strlist_contains(&g->covered, foo));
        cr_assert(pm_strlist_contains(&g->covered, gone), "a deleted file's crates go away");
        cr_assert_eq(g->n_crates, 1);
        cr_assert_str_eq(g->crates[0].label, "//lib/foo:foo");
        cr_assert_eq(g->crates[0].n_deps, 4, "deps outside the covered packages stay");
        cr_assert_eq(pm_graph_validate(g, true, &err), 0, "%s", err.msg);
        pm_graph_free(g);
        pm_free(text);
        pm_free(foo);
        pm_free(gone);
}

Test(bazel_parse, default_edition_setting)
{
        char *text = pm_bazel_data("cquery.json", ws.root, ws.ob);
        struct pm_graph *g = NULL;
        struct pm_error err;

        pm_bazel_ws_settings(&ws, "\"default_edition\": \"2024\"");
        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_str_eq(pm_graph_find(g, "//lib/util:util")->edition, "2024");
        cr_assert_str_eq(pm_graph_find(g, "//lib/foo:foo")->edition, "2018");
        pm_graph_free(g);
        pm_free(text);
}

Test(bazel_parse, folded_test_deps_never_make_a_cycle)
{
        char *l = line("//a:l", "rust_library", SRCS("\"//a:lib.rs\""));
        char *m = line("//a:m", "rust_library",
                       SRCS("\"//a:m.rs\"") ",{\"name\":\"deps\",\"stringListValue\":[\"//a:l\"]}");
        char *t = line("//a:t", "rust_test",
                       SRCS("\"//a:t.rs\"") ",{\"name\":\"crate\",\"stringValue\":\"//a:l\"},"
                                            "{\"name\":\"deps\",\"stringListValue\":[\"//a:m\"]}");
        char *text = pm_test_strf("%s%s%s", l, m, t);
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 2);
        cr_assert_eq(pm_graph_find(g, "//a:l")->n_deps, 0, "l -> m -> l would be a cycle");
        cr_assert_eq(g->warnings.n, 1);
        cr_assert(strstr(g->warnings.v[0], "'//a:m'"), "%s", g->warnings.v[0]);
        pm_graph_free(g);
        pm_free(l);
        pm_free(m);
        pm_free(t);
        pm_free(text);
}

/* Two libraries, each with a test that folds into it and depends on the other: the first test's
 * edge reorders the crates (adapters/bazel/topo.c), the second would close the cycle. */
Test(bazel_parse, folded_tests_into_two_crates_make_no_cycle_between_them)
{
        char *a = line("//a:a", "rust_library", SRCS("\"//a:a.rs\""));
        char *b = line("//a:b", "rust_library", SRCS("\"//a:b.rs\""));
        char *ta =
                line("//a:ta", "rust_test",
                     SRCS("\"//a:ta.rs\"") ",{\"name\":\"crate\",\"stringValue\":\"//a:a\"},"
                                           "{\"name\":\"deps\",\"stringListValue\":[\"//a:b\"]}");
        char *tb =
                line("//a:tb", "rust_test",
                     SRCS("\"//a:tb.rs\"") ",{\"name\":\"crate\",\"stringValue\":\"//a:b\"},"
                                           "{\"name\":\"deps\",\"stringListValue\":[\"//a:a\"]}");
        char *text = pm_test_strf("%s%s%s%s", a, b, ta, tb);
        struct pm_graph *g = NULL;
        struct pm_error err;

        cr_assert_eq(parse_text(text, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->n_crates, 2);
        cr_assert_eq(pm_graph_find(g, "//a:a")->n_deps, 1, "ta's dep on b joins a");
        cr_assert_eq(pm_graph_find(g, "//a:b")->n_deps, 0, "b -> a -> b would be a cycle");
        cr_assert_eq(g->warnings.n, 1);
        cr_assert(strstr(g->warnings.v[0], "'//a:tb'"), "%s", g->warnings.v[0]);
        pm_graph_free(g);
        pm_free(a);
        pm_free(b);
        pm_free(ta);
        pm_free(tb);
        pm_free(text);
}
