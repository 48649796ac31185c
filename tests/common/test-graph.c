/* SPDX-License-Identifier: MIT */
/* Tests for the crate graph: building, copying, lookup, validation failures and equality. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

/* Add a crate that passes validation: //<name>:<name>, lib, 2021, /src/<name>/lib.rs. */
static struct pm_crate *
add_valid(struct pm_graph *g, const char *name)
{
        struct pm_crate *c = pm_graph_add_crate(g);

        cr_assert_not_null(c);
        c->label = pm_graph_printf(g, "//%s:%s", name, name);
        c->build_system = pm_graph_strdup(g, "gn");
        c->display_name = pm_graph_strdup(g, name);
        c->crate_name = pm_graph_strdup(g, name);
        c->kind = PM_CRATE_LIB;
        c->edition = pm_graph_strdup(g, "2021");
        c->root_module = pm_graph_printf(g, "/src/%s/lib.rs", name);
        c->build_file = pm_graph_printf(g, "/src/%s/BUILD.gn", name);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/src"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->sources, c->root_module), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"std\""), 0);
        return c;
}

Test(common_graph, add_grows_and_keeps_content)
{
        struct pm_graph *g = pm_graph_new();
        char name[32];

        for (int i = 0; i < 500; i++) {
                (void)snprintf(name, sizeof(name), "c%d", i);
                add_valid(g, name);
        }
        cr_assert_eq(g->n_crates, 500);
        cr_assert_str_eq(g->crates[0].label, "//c0:c0");
        cr_assert_str_eq(g->crates[499].crate_name, "c499");
        cr_assert_not_null(pm_graph_find(g, "//c250:c250"));
        cr_assert_null(pm_graph_find(g, "//nope:nope"));
        cr_assert_eq(pm_graph_validate(g, false, NULL), 0);
        cr_assert_null(pm_graph_free(g));
        cr_assert_null(pm_graph_free(NULL));
}

Test(common_graph, sort_and_lookup)
{
        struct pm_graph *g = pm_graph_new();
        const char *names[] = { "zeta", "alpha", "mid", "beta", "omega" };

        for (size_t i = 0; i < 5; i++)
                add_valid(g, names[i]);
        pm_graph_sort(g);
        for (size_t i = 1; i < g->n_crates; i++)
                cr_assert_lt(strcmp(g->crates[i - 1].label, g->crates[i].label), 0);
        for (size_t i = 0; i < 5; i++) {
                char label[64];
                struct pm_crate *c;

                (void)snprintf(label, sizeof(label), "//%s:%s", names[i], names[i]);
                c = pm_graph_lookup(g, label);
                cr_assert_not_null(c, "lookup %s", label);
                cr_assert_str_eq(c->crate_name, names[i]);
        }
        cr_assert_null(pm_graph_lookup(g, "//zz:zz"));
        cr_assert_null(pm_graph_lookup(g, "//a:a"));
        pm_graph_free(g);
}

Test(common_graph, lists)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_strlist l = { 0 };
        struct pm_kvlist kv = { 0 };

        cr_assert_eq(pm_strlist_push_unique(g, &l, "a"), 0);
        cr_assert_eq(pm_strlist_push_unique(g, &l, "b"), 0);
        cr_assert_eq(pm_strlist_push_unique(g, &l, "a"), 0);
        cr_assert_eq(l.n, 2);
        cr_assert(pm_strlist_contains(&l, "b"));
        cr_assert_not(pm_strlist_contains(&l, "c"));
        cr_assert_eq(pm_kvlist_set(g, &kv, "K", "1"), 0);
        cr_assert_eq(pm_kvlist_set(g, &kv, "L", "2"), 0);
        cr_assert_eq(pm_kvlist_set(g, &kv, "K", "3"), 0);
        cr_assert_eq(kv.n, 2);
        cr_assert_str_eq(pm_kvlist_get(&kv, "K"), "3");
        cr_assert_null(pm_kvlist_get(&kv, "M"));
        pm_graph_free(g);
}

Test(common_graph, kind_names)
{
        enum pm_crate_kind k;

        cr_assert_str_eq(pm_crate_kind_name(PM_CRATE_PROC_MACRO), "proc-macro");
        cr_assert_eq(pm_crate_kind_parse("bin", &k), 0);
        cr_assert_eq(k, PM_CRATE_BIN);
        cr_assert_eq(pm_crate_kind_parse("dylib", &k), PM_ENOTFOUND);
        cr_assert(pm_edition_valid("2024"));
        cr_assert_not(pm_edition_valid("2020"));
        cr_assert_not(pm_edition_valid(NULL));
}

Test(common_graph, crate_name_check)
{
        static const char *const good[] = { "a", "_a", "a_b", "A9", "__", "x_1_y" };
        static const char *const bad[] = { "", "_", "1a", "a-b", "a.b", "a b", "é", "-" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                cr_assert(pm_crate_name_valid(good[i], false), "%s", good[i]);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                cr_assert_not(pm_crate_name_valid(bad[i], false), "%s", bad[i]);
        cr_assert_not(pm_crate_name_valid(NULL, false));
        /* GN's builder maps '-' to '_' later, so it may pass a dashed name, never '-' alone. */
        cr_assert(pm_crate_name_valid("a-b", true));
        cr_assert(pm_crate_name_valid("-a", true));
        cr_assert_not(pm_crate_name_valid("-", true));
        cr_assert_not(pm_crate_name_valid("1-a", true));
}

Test(common_graph, copy_is_deep_and_equal)
{
        struct pm_graph *g = pm_graph_new(), *h = pm_graph_new();
        struct pm_crate *a, *b, *c;

        a = add_valid(g, "a");
        add_valid(g, "b");
        a = pm_graph_find(g, "//a:a");
        a->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
        a->note = pm_graph_strdup(g, "a note");
        a->is_workspace_member = true;
        cr_assert_eq(pm_kvlist_set(g, &a->env, "CARGO_PKG_NAME", "a"), 0);
        cr_assert_eq(pm_strlist_push(g, &a->flags, "--cfg=unix"), 0);
        cr_assert_eq(pm_crate_add_dep(g, a, "//b:b", NULL), 0);
        cr_assert_eq(pm_crate_add_dep(g, a, "//b:b", "b_renamed"), 0);
        b = pm_graph_copy_crate(h, a);
        cr_assert_not_null(b);
        cr_assert_neq(b->label, a->label);
        cr_assert(pm_crate_equal(a, b));
        /* Deps are a set: their order does not matter. */
        c = pm_graph_copy_crate(h, a);
        c->deps[0] = b->deps[1];
        c->deps[1] = b->deps[0];
        cr_assert(pm_crate_equal(a, c));
        pm_graph_free(g);
        cr_assert_str_eq(b->note, "a note");
        pm_graph_free(h);
}

/* Each field difference makes two crates unequal. */
Test(common_graph, equal_detects_each_field)
{
        for (int field = 0; field < 19; field++) {
                struct pm_graph *g = pm_graph_new();
                struct pm_crate *a, *b;

                add_valid(g, "a");
                a = &g->crates[0];
                cr_assert_eq(pm_crate_add_dep(g, a, "//x:x", NULL), 0);
                cr_assert_eq(pm_kvlist_set(g, &a->env, "K", "V"), 0);
                cr_assert_eq(pm_strlist_push(g, &a->flags, "-Copt-level=0"), 0);
                b = pm_graph_copy_crate(g, a);
                a = &g->crates[0];
                cr_assert(pm_crate_equal(a, b));
                switch (field) {
                case 0:
                        b->label = "//o:o";
                        break;
                case 1:
                        b->build_system = "bazel";
                        break;
                case 2:
                        b->display_name = NULL;
                        break;
                case 3:
                        b->crate_name = "other";
                        break;
                case 4:
                        b->kind = PM_CRATE_BIN;
                        break;
                case 5:
                        b->edition = "2018";
                        break;
                case 6:
                        b->root_module = "/src/a/main.rs";
                        break;
                case 7:
                        b->target = "wasm32-unknown-unknown";
                        break;
                case 8:
                        pm_strlist_push(g, &b->cfgs, "test");
                        break;
                case 9:
                        b->env.v[0].value = "W";
                        break;
                case 10:
                        b->flags.v[0] = "-Copt-level=3";
                        break;
                case 11:
                        pm_strlist_push(g, &b->sources, "/src/a/x.rs");
                        break;
                case 12:
                        b->include_dirs.v[0] = "/other";
                        break;
                case 13:
                        b->build_file = NULL;
                        break;
                case 14:
                        b->proc_macro_dylib = "/out/libm.so";
                        break;
                case 15:
                        b->is_workspace_member = !b->is_workspace_member;
                        break;
                case 16:
                        b->note = "note";
                        break;
                case 17:
                        b->deps[0].name = "renamed";
                        break;
                case 18:
                        pm_crate_add_dep(g, b, "//y:y", NULL);
                        break;
                }
                cr_assert_not(pm_crate_equal(a, b), "field %d difference not detected", field);
                cr_assert_not(pm_crate_equal(b, a), "field %d difference not detected", field);
                pm_graph_free(g);
        }
}

Test(common_graph, validate_accepts_valid_graph)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *a;
        struct pm_error err;

        add_valid(g, "a");
        add_valid(g, "b");
        a = &g->crates[0];
        a->proc_macro_dylib = pm_graph_strdup(g, "/out/liba.so");
        cr_assert_eq(pm_crate_add_dep(g, a, "//b:b", NULL), 0);
        cr_assert_eq(pm_crate_add_dep(g, a, "//b:b", "b2"), 0);
        pm_error_init(&err);
        cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s", err.msg);
        cr_assert_eq(err.code, 0);
        pm_graph_free(g);
}

/* One broken property per case; validation must reject it with the expected words. */
static void
expect_invalid(void (*breakit)(struct pm_graph *, struct pm_crate *), bool allow_dangling,
               const char *want)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err;

        add_valid(g, "b");
        add_valid(g, "a");
        breakit(g, &g->crates[1]);
        cr_assert_eq(pm_graph_validate(g, allow_dangling, &err), PM_ESCHEMA, "want '%s'", want);
        cr_assert_eq(err.code, PM_ESCHEMA);
        cr_assert(strstr(err.msg, want), "message '%s' lacks '%s'", err.msg, want);
        pm_graph_free(g);
}

static void
no_label(struct pm_graph *g, struct pm_crate *c)
{
        c->label = NULL;
}

static void
no_build_system(struct pm_graph *g, struct pm_crate *c)
{
        c->build_system = NULL;
}

static void
no_crate_name(struct pm_graph *g, struct pm_crate *c)
{
        c->crate_name = NULL;
}

static void
dashed_crate_name(struct pm_graph *g, struct pm_crate *c)
{
        c->crate_name = "my-crate";
}

static void
digit_crate_name(struct pm_graph *g, struct pm_crate *c)
{
        c->crate_name = "9lives";
}

static void
no_edition(struct pm_graph *g, struct pm_crate *c)
{
        c->edition = NULL;
}

static void
bad_edition(struct pm_graph *g, struct pm_crate *c)
{
        c->edition = "2019";
}

static void
no_root(struct pm_graph *g, struct pm_crate *c)
{
        c->root_module = NULL;
}

static void
relative_root(struct pm_graph *g, struct pm_crate *c)
{
        c->root_module = "src/lib.rs";
}

static void
unnormalised_root(struct pm_graph *g, struct pm_crate *c)
{
        c->root_module = "/src/a/../a/lib.rs";
}

static void
relative_build_file(struct pm_graph *g, struct pm_crate *c)
{
        c->build_file = "BUILD.gn";
}

static void
relative_include_dir(struct pm_graph *g, struct pm_crate *c)
{
        pm_strlist_push(g, &c->include_dirs, "out/gen");
}

static void
relative_source(struct pm_graph *g, struct pm_crate *c)
{
        pm_strlist_push(g, &c->sources, "a/x.rs");
}

static void
relative_dylib(struct pm_graph *g, struct pm_crate *c)
{
        c->proc_macro_dylib = "libm.so";
}

static void
unquoted_cfg(struct pm_graph *g, struct pm_crate *c)
{
        pm_strlist_push(g, &c->cfgs, "feature=std");
}

static void
bad_cfg_name(struct pm_graph *g, struct pm_crate *c)
{
        pm_strlist_push(g, &c->cfgs, "my-cfg");
}

static void
dangling_dep(struct pm_graph *g, struct pm_crate *c)
{
        pm_crate_add_dep(g, c, "//missing:missing", NULL);
}

static void
dashed_dep_name(struct pm_graph *g, struct pm_crate *c)
{
        pm_crate_add_dep(g, c, "//b:b", "b-renamed");
}

static void
dashed_dep_crate_name(struct pm_graph *g, struct pm_crate *c)
{
        /* No rename: the dep's crate_name is the extern name, validated via the dep. */
        pm_crate_add_dep(g, c, "//b:b", NULL);
        g->crates[0].crate_name = "b-b";
}

static void
duplicate_label(struct pm_graph *g, struct pm_crate *c)
{
        c->label = g->crates[0].label;
}

Test(common_graph, validate_rejects_each_problem)
{
        expect_invalid(no_label, false, "missing label");
        expect_invalid(no_build_system, false, "crate '//a:a': missing build_system");
        expect_invalid(no_crate_name, false, "crate '//a:a': missing crate_name");
        expect_invalid(dashed_crate_name, false, "crate_name 'my-crate'");
        expect_invalid(digit_crate_name, false, "crate_name '9lives'");
        expect_invalid(no_edition, false, "missing edition");
        expect_invalid(bad_edition, false, "edition '2019'");
        expect_invalid(no_root, false, "missing root_module");
        expect_invalid(relative_root, false, "root_module 'src/lib.rs' is not absolute");
        expect_invalid(unnormalised_root, false, "is not normalised");
        expect_invalid(relative_build_file, false, "build_file 'BUILD.gn' is not absolute");
        expect_invalid(relative_include_dir, false, "include_dirs 'out/gen' is not absolute");
        expect_invalid(relative_source, false, "sources 'a/x.rs' is not absolute");
        expect_invalid(relative_dylib, false, "proc_macro_dylib 'libm.so'");
        expect_invalid(unquoted_cfg, false, "cfg 'feature=std'");
        expect_invalid(bad_cfg_name, false, "cfg 'my-cfg'");
        expect_invalid(dangling_dep, false, "dependency '//missing:missing' is not a crate");
        expect_invalid(dashed_dep_name, false, "name 'b-renamed'");
        expect_invalid(dashed_dep_name, true, "name 'b-renamed'");
        expect_invalid(duplicate_label, false, "crate '//b:b': duplicate label");
}

Test(common_graph, validate_dep_crate_name_with_dash)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err;

        add_valid(g, "b");
        add_valid(g, "a");
        dashed_dep_crate_name(g, &g->crates[1]);
        /* The dep itself is invalid too; whichever is reported first, it is a schema error. */
        cr_assert_eq(pm_graph_validate(g, false, &err), PM_ESCHEMA);
        cr_assert(strstr(err.msg, "b-b"), "%s", err.msg);
        pm_graph_free(g);
}

Test(common_graph, validate_allows_dangling_when_asked)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err;

        add_valid(g, "a");
        cr_assert_eq(pm_crate_add_dep(g, &g->crates[0], "//elsewhere:x", NULL), 0);
        cr_assert_eq(pm_graph_validate(g, true, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_graph_validate(g, false, &err), PM_ESCHEMA);
        pm_graph_free(g);
}

Test(common_graph, cfg_syntax)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err;
        const char *good[] = { "unix", "feature=\"a b\"", "k=\"\"", "k=\"with \\\"esc\\\"\"" };
        const char *bad[] = { "", "k=", "k=\"x", "k=\"a\"b\"", "=\"x\"", "k = \"x\"" };

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                g->n_crates = 0;
                add_valid(g, "a");
                pm_strlist_push(g, &g->crates[0].cfgs, good[i]);
                cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s: %s", good[i], err.msg);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                g->n_crates = 0;
                add_valid(g, "a");
                pm_strlist_push(g, &g->crates[0].cfgs, bad[i]);
                cr_assert_eq(pm_graph_validate(g, false, &err), PM_ESCHEMA, "accepted %s", bad[i]);
        }
        pm_graph_free(g);
}

Test(common_graph, add_crate_oom)
{
        struct pm_graph *g = pm_graph_new();

        pm_mem_fail_at(1);
        cr_assert_null(pm_graph_add_crate(g));
        pm_mem_fail_at(0);
        cr_assert_eq(g->n_crates, 0);
        cr_assert_not_null(pm_graph_add_crate(g));
        pm_graph_free(g);
}
