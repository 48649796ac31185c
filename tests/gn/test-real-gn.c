/* SPDX-License-Identifier: MIT */
/* Integration: run the real gn on a copy of examples/gn-monorepo with the adapter's own plan,
 * parse what it wrote, and check the model against what the example demonstrates. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "gn-test.h"
#include "testlib.h"

#define HOST "(//build/toolchain:host)"

struct real {
        char *tmp;  /* temporary directory holding the copy */
        char *root; /* <tmp>/gn-monorepo */
        struct pm_config *cfg;
        struct pm_graph *g;
        struct pm_error err;
};

static void
real_setup(struct real *x)
{
        char *src = pm_test_strf("%s/examples/gn-monorepo", pm_test_source_root());
        char *out;

        memset(x, 0, sizeof(*x));
        pm_mem_install_hooks();
        cr_assert(pm_test_have("gn"), "gn is not installed");
        x->tmp = pm_test_mkdtemp();
        x->root = pm_test_strf("%s/gn-monorepo", x->tmp);
        cr_assert_eq(pm_test_copy_tree(src, x->root), 0, "cannot copy '%s'", src);
        /* a build directory left in the source tree must not stand in for ours */
        out = pm_test_strf("%s/out", x->root);
        (void)pm_test_rmtree(out);
        cr_assert_eq(pm_config_load(x->root, &x->cfg, &x->err), 0, "%s", x->err.msg);
        cr_assert_str_eq(x->cfg->projects[0].build_system, "gn");
        pm_free(out);
        pm_free(src);
}

static void
real_teardown(struct real *x)
{
        pm_graph_free(x->g);
        pm_config_free(x->cfg);
        (void)pm_test_rmtree(x->tmp);
        pm_free(x->tmp);
        pm_free(x->root);
}

/* Run @step (no shell) and return the contents of its output file (pm_malloc'd). */
static char *
run_step(const struct pm_step *step)
{
        char *out = NULL, *errout = NULL, *data;
        int status;

        status = pm_test_run((const char *const *)step->argv, step->cwd, NULL, NULL, &out, &errout);
        cr_assert_eq(status, 0, "%s failed (%d): %s", step->argv[0], status, errout);
        data = pm_test_read_file(step->output_file);
        cr_assert_not_null(data, "%s did not write '%s'", step->argv[0], step->output_file);
        pm_free(out);
        pm_free(errout);
        return data;
}

/* Plan, run gn gen, parse: the route the daemon takes. */
static void
real_query(struct real *x)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("gn");
        struct pm_query q = { .config = x->cfg, .project = &x->cfg->projects[0] };
        struct pm_plan plan = { 0 };
        struct pm_blob blob;
        char *data;

        cr_assert_eq(ops->plan(&q, &plan, &x->err), 0, "%s", x->err.msg);
        cr_assert_eq(plan.n_steps, 1);
        data = run_step(&plan.steps[0]);
        blob.data = data;
        blob.len = strlen(data);
        blob.origin = plan.steps[0].output_file;
        cr_assert_eq(ops->parse(&q, &blob, 1, &x->g, &x->err), 0, "%s", x->err.msg);
        pm_free(data);
        pm_plan_release(&plan);
}

static struct pm_crate *
crate(struct real *x, const char *label)
{
        struct pm_crate *c = pm_graph_find(x->g, label);

        cr_assert_not_null(c, "no crate '%s'", label);
        return c;
}

static char *
abs_path(struct real *x, const char *rel)
{
        return pm_path_join(NULL, x->root, rel);
}

Test(gn_real, gen_ide_json_gives_the_example_crates)
{
        struct real x;
        struct pm_crate *engine, *dd;
        char *p;

        real_setup(&x);
        real_query(&x);
        cr_assert_eq(x.g->n_crates, 10);
        cr_assert_eq(x.g->warnings.n, 0, "%s", x.g->warnings.n ? x.g->warnings.v[0] : "");
        cr_assert_eq(pm_graph_validate(x.g, false, &x.err), 0, "%s", x.err.msg);

        /* the proc macro lives in the host toolchain and keeps its suffix */
        cr_assert_null(pm_graph_find(x.g, "//lib/describe_derive:describe_derive"));
        dd = crate(&x, "//lib/describe_derive:describe_derive" HOST);
        cr_assert_eq(dd->kind, PM_CRATE_PROC_MACRO);
        cr_assert_str_eq(dd->display_name, "describe_derive");
        p = abs_path(&x, "out/host/obj/lib/describe_derive/libdescribe_derive.so");
        cr_assert_str_eq(dd->proc_macro_dylib, p);
        pm_free(p);

        /* aliased_deps = { utils2 = "//lib/util" }, only visible in the ninja file */
        engine = crate(&x, "//lib/engine:engine");
        cr_assert(pm_test_crate_has_dep(engine, "//lib/util:util", "utils2"));
        cr_assert(pm_test_crate_has_dep(engine, "//lib/config:config", NULL));
        cr_assert(pm_test_crate_has_dep(engine, "//lib/tables:tables", NULL));
        cr_assert(
                pm_test_crate_has_dep(engine, "//lib/describe_derive:describe_derive" HOST, NULL));
        cr_assert_eq(engine->n_deps, 4);
        /* the test crate uses the same library under its real name */
        cr_assert(pm_test_crate_has_dep(crate(&x, "//lib/engine:engine_tests"), "//lib/util:util",
                                        NULL));
        cr_assert_eq(crate(&x, "//lib/engine:engine_tests")->kind, PM_CRATE_TEST);
        cr_assert_eq(crate(&x, "//app/server:server")->kind, PM_CRATE_BIN);
        real_teardown(&x);
}

Test(gn_real, both_cfg_spellings_and_every_edition_form)
{
        struct real x;

        real_setup(&x);
        real_query(&x);
        /* "--cfg", "feature=\"extra\"" (two tokens, which GN's own exporter drops) */
        cr_assert(gn_crate_has_cfg(crate(&x, "//lib/engine:engine"), "feature=\"extra\""));
        /* "--cfg=feature=\"fast\"" */
        cr_assert(gn_crate_has_cfg(crate(&x, "//lib/config:config"), "feature=\"fast\""));
        cr_assert(gn_crate_has_cfg(crate(&x, "//lib/config:config"), "debug_assertions"));

        cr_assert_str_eq(crate(&x, "//third_party/itoa_lite:itoa_lite")->edition, "2015");
        cr_assert_str_eq(crate(&x, "//third_party/fnv:fnv")->edition, "2015");
        cr_assert_str_eq(crate(&x, "//lib/util:util")->edition, "2018");
        cr_assert_str_eq(crate(&x, "//lib/config:config")->edition, "2021");
        cr_assert_str_eq(crate(&x, "//lib/tables:tables")->edition, "2024");
        cr_assert_str_eq(crate(&x, "//tools/inspect:inspect")->edition, "2024");
        real_teardown(&x);
}

Test(gn_real, env_generated_code_and_build_files)
{
        struct real x;
        struct pm_crate *tables;
        char *gen, *p;

        real_setup(&x);
        real_query(&x);
        cr_assert_str_eq(pm_kvlist_get(&crate(&x, "//lib/config:config")->env, "GREETING"),
                         "hello");
        tables = crate(&x, "//lib/tables:tables");
        gen = abs_path(&x, "out/gen/lib/tables");
        cr_assert_str_eq(pm_kvlist_get(&tables->env, "OUT_DIR"), gen);
        cr_assert(pm_strlist_contains(&tables->include_dirs, gen));

        /* gen_input_files: every BUILD.gn, .gn and args.gn GN read */
        p = abs_path(&x, "lib/engine/BUILD.gn");
        cr_assert(pm_strlist_contains(&x.g->build_files, p));
        pm_free(p);
        p = abs_path(&x, "build/BUILDCONFIG.gn");
        cr_assert(pm_strlist_contains(&x.g->build_files, p));
        pm_free(p);
        p = abs_path(&x, ".gn");
        cr_assert(pm_strlist_contains(&x.g->build_files, p));
        pm_free(p);
        p = abs_path(&x, "out/args.gn");
        cr_assert(pm_strlist_contains(&x.g->build_files, p));
        pm_free(p);
        p = abs_path(&x, "lib/engine/BUILD.gn");
        cr_assert_str_eq(crate(&x, "//lib/engine:engine")->build_file, p);
        pm_free(p);
        pm_free(gen);
        real_teardown(&x);
}

Test(gn_real, captured_desc_output_parses_to_the_same_graph)
{
        struct real x;
        struct pm_graph *ide;
        char *out_dir, *desc = NULL, *errout = NULL, *origin;
        struct pm_blob blob;
        struct pm_query q;
        struct pm_crate *c;

        real_setup(&x);
        real_query(&x);
        ide = pm_steal_ptr(&x.g);
        out_dir = abs_path(&x, "out");
        {
                const char *argv[] = { "gn", "desc", out_dir, "//*", "--format=json", NULL };

                cr_assert_eq(pm_test_run(argv, x.root, NULL, NULL, &desc, &errout), 0, "%s",
                             errout);
        }
        origin = pm_test_strf("%s/desc.json", x.tmp);
        q = (struct pm_query){ .config = x.cfg, .project = &x.cfg->projects[0], .captured = true };
        blob = (struct pm_blob){ .data = desc, .len = strlen(desc), .origin = origin };
        cr_assert_eq(pm_adapter_find("gn")->parse(&q, &blob, 1, &x.g, &x.err), 0, "%s", x.err.msg);
        cr_assert_eq(x.g->n_crates, ide->n_crates);
        pm_graph_foreach_crate(x.g, c) {
                struct pm_crate *other = pm_graph_find(ide, c->label);

                cr_assert_not_null(other, "%s", c->label);
                cr_assert(pm_crate_equal(c, other), "'%s' differs between desc and ide json",
                          c->label);
        }
        pm_graph_free(ide);
        pm_free(out_dir);
        pm_free(desc);
        pm_free(errout);
        pm_free(origin);
        real_teardown(&x);
}

Test(gn_real, ninja_builds_the_proc_macro_dylib_the_model_names, .timeout = 600)
{
        struct real x;
        const char *dylib;
        char *out_dir, *out = NULL, *errout = NULL, *so;

        real_setup(&x);
        real_query(&x);
        dylib = crate(&x, "//lib/describe_derive:describe_derive" HOST)->proc_macro_dylib;
        /* gn gen does not build anything: the dylib exists only after ninja */
        cr_assert_null(pm_test_read_file(dylib));
        out_dir = abs_path(&x, "out");
        {
                const char *argv[] = { "ninja", "-C", out_dir,
                                       "host/obj/lib/describe_derive/libdescribe_derive.so", NULL };

                cr_assert_eq(pm_test_run(argv, x.root, NULL, NULL, &out, &errout), 0, "%s%s", out,
                             errout);
        }
        so = pm_test_read_file(dylib);
        cr_assert_not_null(so, "'%s' not built", dylib);
        cr_assert(memcmp(so, "\177ELF", 4) == 0);
        pm_free(so);
        pm_free(out_dir);
        pm_free(out);
        pm_free(errout);
        real_teardown(&x);
}
