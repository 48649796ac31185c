/* SPDX-License-Identifier: MIT */
/* Tests for reading cfgs, edition and target from rustc flags, and cfg normalisation. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"

static void
push_all(struct pm_graph *g, struct pm_strlist *l, const char *const *v)
{
        for (; *v; v++)
                cr_assert_eq(pm_strlist_push(g, l, *v), 0);
}

Test(common_rustflags, both_cfg_forms)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = pm_graph_add_crate(g);
        struct pm_strlist flags = { 0 };
        struct pm_error err;
        const char *const v[] = { "--cfg",
                                  "unix",
                                  "--cfg=feature=\"std\"",
                                  "-Copt-level=2",
                                  "--cfg",
                                  "feature=alloc",
                                  "--cfg=unix",
                                  "--cfg",
                                  "feature=\"std\"",
                                  NULL };

        push_all(g, &flags, v);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &flags, &err), 0, "%s", err.msg);
        cr_assert_eq(c->cfgs.n, 3);
        cr_assert_str_eq(c->cfgs.v[0], "unix");
        cr_assert_str_eq(c->cfgs.v[1], "feature=\"std\"");
        cr_assert_str_eq(c->cfgs.v[2], "feature=\"alloc\"");
        cr_assert_null(c->edition, "edition is left alone when no flag sets it");
        cr_assert_null(c->target);
        pm_graph_free(g);
}

Test(common_rustflags, does_not_add_implicit_cfgs)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = pm_graph_add_crate(g);
        struct pm_strlist flags = { 0 };
        const char *const v[] = { "--test", "-Cdebug-assertions=on", NULL };

        push_all(g, &flags, v);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &flags, NULL), 0);
        cr_assert_eq(c->cfgs.n, 0);
        pm_graph_free(g);
}

Test(common_rustflags, edition_and_target_forms)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = pm_graph_add_crate(g), *d = pm_graph_add_crate(g);
        struct pm_strlist f1 = { 0 }, f2 = { 0 };
        const char *const v1[] = { "--edition", "2018", "--target", "aarch64-linux-android", NULL };
        const char *const v2[] = { "--edition=2024", "--target=wasm32-unknown-unknown",
                                   "--edition=2021", NULL };

        c = &g->crates[0];
        d = &g->crates[1];
        c->edition = pm_graph_strdup(g, "2015");
        push_all(g, &f1, v1);
        push_all(g, &f2, v2);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &f1, NULL), 0);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, d, &f2, NULL), 0);
        cr_assert_str_eq(c->edition, "2018");
        cr_assert_str_eq(c->target, "aarch64-linux-android");
        cr_assert_str_eq(d->edition, "2021", "the last --edition wins, as in rustc");
        cr_assert_str_eq(d->target, "wasm32-unknown-unknown");
        pm_graph_free(g);
}

Test(common_rustflags, similar_flags_are_not_matched)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = pm_graph_add_crate(g);
        struct pm_strlist flags = { 0 };
        const char *const v[] = { "--cfgx", "--editions=2018", "--target-dir", "/x", NULL };

        push_all(g, &flags, v);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &flags, NULL), 0);
        cr_assert_eq(c->cfgs.n, 0);
        cr_assert_null(c->edition);
        cr_assert_null(c->target);
        pm_graph_free(g);
}

Test(common_rustflags, errors)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = pm_graph_add_crate(g);
        struct pm_strlist f1 = { 0 }, f2 = { 0 };
        const char *const v1[] = { "--cfg", "unix", "--cfg", NULL };
        const char *const v2[] = { "--edition=2019", NULL };
        struct pm_error err;

        c->label = "//a:a";
        push_all(g, &f1, v1);
        push_all(g, &f2, v2);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &f1, &err), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(err.msg, "'--cfg' has no value"), "%s", err.msg);
        cr_assert_eq(pm_crate_apply_rustc_flags(g, c, &f2, &err), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(err.msg, "'2019'"), "%s", err.msg);
        cr_assert(strstr(err.msg, "'//a:a'"), "%s", err.msg);
        pm_graph_free(g);
}

Test(common_rustflags, cfg_normalize_quoting)
{
        struct pm_graph *g = pm_graph_new();
        const char *cases[][2] = {
                { "unix", "unix" },
                { "feature=x", "feature=\"x\"" },
                { "feature=\"x\"", "feature=\"x\"" },
                { "feature = \"x\"", "feature=\"x\"" },
                { "feature = x", "feature=\"x\"" },
                { "k=a\"b", "k=\"a\\\"b\"" },
                { "k=\"a\\\"b\"", "k=\"a\\\"b\"" },
                { "k=", "k=\"\"" },
                { "target_os=\"linux\"", "target_os=\"linux\"" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = pm_cfg_normalize(g, cases[i][0]);

                cr_assert_str_eq(got, cases[i][1], "normalize(%s) = %s", cases[i][0], got);
        }
        pm_graph_free(g);
}
