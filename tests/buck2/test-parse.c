/* SPDX-License-Identifier: MIT */
/* The Buck2 adapter on `buck2 targets --json --output-all-attributes` files (Buck2 itself cannot
 * run here): rule defaults, select()/concat, named_deps forms, aliases, unittest folding, bad
 * input, the exported project's validity and a rustc type-check of it, and the planned argv
 * (--keep-going's broken packages: test-keep-going.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "buck2-test.h"
#include "rustc-check.h"
#include "testlib.h"

Test(buck2_parse, fixture_crates_and_attributes)
{
        struct pm_buck2_fx fx;
        struct pm_crate *c;
        char *p;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), 0, "%s", fx.err.msg);
        /* server, integration, bar-core, foo, testutil, util, derive_it, serde-lite; the
         * unittest folded into foo, the alias, genrule and cxx_library are no crates. */
        cr_assert_eq(fx.g->n_crates, 8);
        cr_assert_null(pm_graph_find(fx.g, "root//lib/foo:foo-unittest"));
        cr_assert_null(pm_graph_find(fx.g, "root//third-party/rust:serde"));
        cr_assert_null(pm_graph_find(fx.g, "root//app:native"));

        c = pm_buck2_fx_crate(&fx, "root//lib/foo:foo");
        cr_assert_str_eq(c->build_system, "buck2");
        cr_assert_str_eq(c->crate_name, "foo");
        cr_assert_eq(c->kind, PM_CRATE_LIB);
        cr_assert_str_eq(c->edition, "2021");
        pm_buck2_fx_assert_path(&fx, c->root_module, "lib/foo/src/lib.rs");
        pm_buck2_fx_assert_path(&fx, c->build_file, "lib/foo/BUCK");
        cr_assert_eq(c->sources.n, 2);
        cr_assert_eq(c->cfgs.n, 1, "the select() DEFAULT adds no --cfg=linux_fast");
        cr_assert_str_eq(c->cfgs.v[0], "feature=\"std\"");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "FOO_BANNER"), "hello from buck2");
        cr_assert(c->is_workspace_member);
        cr_assert(pm_test_crate_has_dep(c, "root//lib/util:util", NULL));
        cr_assert(pm_test_crate_has_dep(c, "root//macros:derive_it", NULL));
        /* The alias resolves to the library; the named dep keeps its name. */
        cr_assert(pm_test_crate_has_dep(c, "root//third-party/rust:serde-lite-0.1.0", "serde1"));
        cr_assert(pm_test_crate_has_dep(c, "root//third-party/rust:serde-lite-0.1.0", NULL));
        /* Folding unions the unittest's deps into the library. */
        cr_assert(pm_test_crate_has_dep(c, "root//lib/testutil:testutil", NULL));
        cr_assert_eq(c->n_deps, 5);

        c = pm_buck2_fx_crate(&fx, "root//lib/bar:bar-core");
        cr_assert_str_eq(c->crate_name, "bar_core");
        cr_assert_str_eq(c->display_name, "bar-core");
        cr_assert_str_eq(c->edition, "2021", "the default edition");
        pm_buck2_fx_assert_path(&fx, c->root_module, "lib/bar/lib.rs");
        cr_assert(pm_test_crate_has_dep(c, "root//lib/util:util", "u"), "list-form named_deps");
        cr_assert_eq(c->n_deps, 1);
        cr_assert(pm_strlist_contains(&c->cfgs, "bar_fast"), "concat's first item");
        cr_assert(pm_strlist_contains(&c->cfgs, "bar_extra"), "select() inside concat");
        cr_assert_eq(c->flags.n, 3);
        p = pm_buck2_fx_path(&fx, "lib/bar/generated/consts.rs");
        cr_assert(pm_strlist_contains(&c->sources, p), "mapped_srcs' local path");
        /* The mapped_srcs key is a genrule: a generated source at that path, built with the proc
         * macros (server/build.c). */
        cr_assert_eq(c->gen_srcs.n, 1);
        cr_assert_str_eq(c->gen_srcs.v[0].key, "root//lib/bar:gen-consts");
        cr_assert_str_eq(c->gen_srcs.v[0].value, p);
        pm_free(p);
        p = pm_buck2_fx_path(&fx, "lib/bar");
        cr_assert(pm_strlist_contains(&c->include_dirs, p));
        pm_free(p);

        c = pm_buck2_fx_crate(&fx, "root//lib/util:util");
        pm_buck2_fx_assert_path(&fx, c->build_file, "lib/util/TARGETS");

        c = pm_buck2_fx_crate(&fx, "root//macros:derive_it");
        cr_assert_eq(c->kind, PM_CRATE_PROC_MACRO);
        cr_assert_null(c->proc_macro_dylib);
        cr_assert_not_null(c->note);
        cr_assert(strstr(c->note, "proc macro") != NULL);

        c = pm_buck2_fx_crate(&fx, "root//third-party/rust:serde-lite-0.1.0");
        cr_assert_str_eq(c->crate_name, "serde_lite");
        cr_assert_str_eq(c->edition, "2018");
        cr_assert_not(c->is_workspace_member, "vendored code is not a workspace member");

        c = pm_buck2_fx_crate(&fx, "root//app:server");
        cr_assert_eq(c->kind, PM_CRATE_BIN);
        cr_assert_str_eq(c->edition, "2024");
        pm_buck2_fx_assert_path(&fx, c->root_module, "app/src/main.rs");
        cr_assert_eq(c->n_deps, 2, "the cxx_library dependency is not a crate");

        c = pm_buck2_fx_crate(&fx, "root//app:integration");
        cr_assert_eq(c->kind, PM_CRATE_TEST);
        pm_buck2_fx_assert_path(&fx, c->root_module, "app/tests/it.rs");

        p = pm_buck2_fx_path(&fx, ".buckconfig");
        cr_assert(pm_strlist_contains(&fx.g->build_files, p));
        pm_free(p);
        cr_assert_eq(pm_graph_validate(fx.g, false, &fx.err), 0, "%s", fx.err.msg);
        pm_buck2_fx_release(&fx);
}

/* Render the graph as rust-project.json, validate it strictly and type-check every crate. */
Test(buck2_parse, exported_project_validates_and_type_checks, .timeout = 240)
{
        struct pm_writer_options opts = { 0 };
        struct pm_strbuf out = PM_STRBUF_INIT;
        char *work;
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), 0, "%s", fx.err.msg);
        opts.proc_macro_cwd = fx.root;
        cr_assert_eq(pm_writer_render(fx.g, &opts, &out, &fx.err), 0, "%s", fx.err.msg);
        work = pm_test_strf("%s/rustc-work", fx.root);
        pm_test_assert_project_checks(out.buf, out.len, work);
        pm_free(work);
        pm_strbuf_release(&out);
        pm_buck2_fx_release(&fx);
}

Test(buck2_parse, legacy_and_short_rule_names)
{
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx,
                                            "[{\"buck.type\": \"rust_library\", \"buck.package\": "
                                            "\"root//lib/util\", \"name\": \"util\", \"srcs\": "
                                            "[\"src/lib.rs\"]}, {\"buck.type\": "
                                            "\"prelude//rust/rust_binary.bzl:rust_binary\", "
                                            "\"buck.package\": \"root//app\", \"name\": \"x-y\", "
                                            "\"srcs\": [\"src/main.rs\", \"src/cli.rs\"], "
                                            "\"deps\": [\"//lib/util:util (prelude//platforms:"
                                            "default#abc123)\"]}]"),
                     0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->n_crates, 2);
        pm_buck2_fx_assert_path(&fx, pm_buck2_fx_crate(&fx, "root//lib/util:util")->root_module,
                                "lib/util/src/lib.rs");
        cr_assert_str_eq(pm_buck2_fx_crate(&fx, "root//app:x-y")->crate_name, "x_y");
        /* A cell-less label and a configuration suffix name the same crate. */
        cr_assert(pm_test_crate_has_dep(pm_buck2_fx_crate(&fx, "root//app:x-y"),
                                        "root//lib/util:util", NULL));
        pm_buck2_fx_release(&fx);
}

Test(buck2_parse, configured_default_edition)
{
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(
                &fx, "{\"build_system\": \"buck2\", \"buck2\": {\"default_edition\": \"2018\"}}");
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), 0, "%s", fx.err.msg);
        cr_assert_str_eq(pm_buck2_fx_crate(&fx, "root//lib/util:util")->edition, "2018");
        cr_assert_str_eq(pm_buck2_fx_crate(&fx, "root//lib/foo:foo")->edition, "2021");
        pm_buck2_fx_release(&fx);
}

Test(buck2_parse, bad_default_edition_is_a_config_error)
{
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(
                &fx, "{\"build_system\": \"buck2\", \"buck2\": {\"default_edition\": \"2020\"}}");
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), PM_ECONFIG);
        cr_assert(strstr(fx.err.msg, "key 'buck2.default_edition'") != NULL, "%s", fx.err.msg);
        cr_assert(strstr(fx.err.msg, "2020") != NULL, "%s", fx.err.msg);
        cr_assert_null(fx.g);
        pm_buck2_fx_release(&fx);
}

/* Each bad input fails with PM_EBADTOOLOUTPUT naming the file and what is wrong. */
static void
expect_bad(const char *text, const char *needle1, const char *needle2)
{
        struct pm_buck2_fx fx;
        char *origin;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, text), PM_EBADTOOLOUTPUT, "%s: %s", text,
                     fx.err.msg);
        cr_assert_null(fx.g);
        origin = pm_test_strf("%s/targets.json", fx.root);
        cr_assert_str_eq(fx.err.file, origin);
        pm_free(origin);
        cr_assert(strstr(fx.err.msg, needle1) != NULL, "'%s' not in '%s'", needle1, fx.err.msg);
        if (needle2)
                cr_assert(strstr(fx.err.msg, needle2) != NULL, "'%s' not in '%s'", needle2,
                          fx.err.msg);
        pm_buck2_fx_release(&fx);
}

#define LIB(extra)                                                                 \
        "[{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.package\": " \
        "\"root//lib/foo\", \"name\": \"foo\", \"srcs\": [\"src/lib.rs\"]" extra "}]"

Test(buck2_parse, truncated_json)
{
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(
                             &fx, "[{\"buck.type\": \"prelude//rules.bzl:rust_library\",\n"
                                  "  \"buck.package\": \"root//lib"),
                     PM_EBADTOOLOUTPUT);
        cr_assert_null(fx.g);
        cr_assert(strstr(fx.err.file, "targets.json") != NULL);
        cr_assert_eq(fx.err.line, 2);
        pm_buck2_fx_release(&fx);
}

Test(buck2_parse, not_an_array)
{
        expect_bad("{\"root//lib/foo:foo\": {}}", "not a JSON array", NULL);
}

Test(buck2_parse, wrong_attribute_types)
{
        expect_bad(LIB(", \"deps\": \"root//lib/util:util\""), "'root//lib/foo:foo'",
                   "'deps' is not a list of strings");
        expect_bad(LIB(", \"deps\": [1]"), "'root//lib/foo:foo'", "'deps'");
        expect_bad(LIB(", \"edition\": 2021"), "'root//lib/foo:foo'", "'edition' is not a string");
        expect_bad(LIB(", \"edition\": \"2020\""), "'root//lib/foo:foo'", "edition '2020'");
        expect_bad(LIB(", \"proc_macro\": \"yes\""), "'root//lib/foo:foo'", "'proc_macro'");
        expect_bad(LIB(", \"env\": {\"A\": 1}"), "'root//lib/foo:foo'", "'env'");
        expect_bad(LIB(", \"named_deps\": [[\"a\"]]"), "'root//lib/foo:foo'", "named_deps");
        expect_bad(LIB(", \"deps\": [\"lib/util\"]"), "'root//lib/foo:foo'", "'lib/util'");
        expect_bad("[{\"buck.type\": \"rust_library\", \"name\": \"foo\"}]", "entry 0",
                   "buck.package");
        expect_bad("[42]", "entry 0", "not an object");
}

Test(buck2_parse, missing_crate_root)
{
        expect_bad("[{\"buck.type\": \"rust_library\", \"buck.package\": \"root//lib/foo\", "
                   "\"name\": \"foo\", \"srcs\": [\"src/a.rs\", \"src/b.rs\"]}]",
                   "'root//lib/foo:foo'", "no crate_root");
        expect_bad("[{\"buck.type\": \"rust_library\", \"buck.package\": \"root//lib/foo\", "
                   "\"name\": \"foo\"}]",
                   "'root//lib/foo:foo'", "no crate_root");
}

Test(buck2_parse, selector_without_default)
{
        expect_bad(LIB(", \"rustc_flags\": {\"__type\": \"selector\", \"entries\": "
                       "{\"root//os:linux\": [\"--cfg=x\"]}}"),
                   "'root//lib/foo:foo'", "'rustc_flags' is a select() without a DEFAULT entry");
        expect_bad(LIB(", \"features\": {\"__type\": \"concat\", \"items\": [[\"a\"], "
                       "{\"__type\": \"selector\", \"entries\": {\"root//c:x\": [\"b\"]}}]}"),
                   "'root//lib/foo:foo'", "'features' is a select() without a DEFAULT entry");
        expect_bad(LIB(", \"features\": {\"__type\": \"concat\", \"items\": [[\"a\"], \"b\"]}"),
                   "'root//lib/foo:foo'", "different types");
}

Test(buck2_parse, out_of_memory_is_reported_cleanly)
{
        struct pm_buck2_fx fx;
        char *text, *p;
        int r;

        pm_mem_install_hooks();
        pm_buck2_fx_init(&fx, NULL);
        p = pm_test_strf("%s/targets.json", fx.root);
        text = pm_test_read_file(p);
        for (unsigned long n = 1;; n++) {
                pm_error_init(&fx.err);
                (void)pm_mem_fail_at(n);
                r = pm_adapter_parse_captured(fx.cfg, &fx.cfg->projects[0], text, strlen(text), p,
                                              &fx.g, &fx.err);
                (void)pm_mem_fail_at(0);
                if (r == 0)
                        break;
                cr_assert_eq(r, -ENOMEM, "allocation %lu: %s", n, fx.err.msg);
                cr_assert_null(fx.g);
                cr_assert(n < 100000);
        }
        cr_assert_eq(fx.g->n_crates, 8);
        pm_free(text);
        pm_free(p);
        pm_buck2_fx_release(&fx);
}

Test(buck2_plan, default_command)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("buck2");
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_adapter_detect(fx.root), ops, "the .buckconfig marker");
        q.config = fx.cfg;
        q.project = &fx.cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_eq(plan.n_steps, 1);
        pm_test_assert_argv(plan.steps[0].argv,
                            (const char *const[]){ "buck2", "--isolation-dir", ".projmodel",
                                                   "targets", "--json", "--output-all-attributes",
                                                   "--keep-going", "//...", NULL });
        cr_assert_str_eq(plan.steps[0].cwd, fx.root);
        cr_assert_null(plan.steps[0].output_file);
        pm_plan_release(&plan);
        pm_buck2_fx_release(&fx);
}

Test(buck2_plan, configured_command)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("buck2");
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx,
                         "{\"build_system\": \"buck2\", \"buck2\": {\"command\": [\"/opt/buck2/bin/"
                         "buck2\", \"--no-buckd\"], \"args\": [\"-c\", \"rust.x=1\"], "
                         "\"target_pattern\": \"root//lib/...\", \"isolation_dir\": \".ide\"}}");
        q.config = fx.cfg;
        q.project = &fx.cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &fx.err), 0, "%s", fx.err.msg);
        pm_test_assert_argv(plan.steps[0].argv,
                            (const char *const[]){ "/opt/buck2/bin/buck2", "--no-buckd",
                                                   "--isolation-dir", ".ide", "targets", "--json",
                                                   "--output-all-attributes", "--keep-going", "-c",
                                                   "rust.x=1", "root//lib/...", NULL });
        pm_plan_release(&plan);
        pm_buck2_fx_release(&fx);
}

Test(buck2_plan, bad_settings)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("buck2");
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, "{\"build_system\": \"buck2\", \"buck2\": {\"command\": \"buck2\"}}");
        q.config = fx.cfg;
        q.project = &fx.cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &fx.err), PM_ECONFIG);
        cr_assert(strstr(fx.err.msg, "command") != NULL, "%s", fx.err.msg);
        cr_assert_eq(plan.n_steps, 0);
        pm_buck2_fx_release(&fx);

        pm_buck2_fx_init(
                &fx, "{\"build_system\": \"buck2\", \"buck2\": {\"default_edition\": \"2020\"}}");
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), PM_ECONFIG,
                     "captured output checks settings too");
        cr_assert(strstr(fx.err.msg, "buck2.default_edition") != NULL, "%s", fx.err.msg);
        pm_buck2_fx_release(&fx);
}

/* build_parse on @report as the build step's output file; fills @ret. */
static int
build_parse(struct pm_buck2_fx *fx, const char *report, struct pm_build_report *ret)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("buck2");
        struct pm_query q = { .config = fx->cfg, .project = &fx->cfg->projects[0] };
        struct pm_blob b = { .data = report, .len = strlen(report), .origin = "/c/report.json" };

        memset(ret, 0, sizeof(*ret));
        pm_error_init(&fx->err);
        return ops->build_parse(&q, &b, 1, ret, &fx->err);
}

Test(buck2_build, report_dylibs_errors_and_bad_reports)
{
        struct pm_build_report rep;
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        /* A success (path relative to project_root), a failure (its message in `strings`, keyed
         * by message_content, as Buck2 writes it), and an entry with no dylib. */
        cr_assert_eq(
                build_parse(
                        &fx,
                        "{\"success\": false, \"project_root\": \"/p\", \"results\": {"
                        "\"root//m:a\": {\"configured\": {\"cfg#1\": {\"success\": "
                        "\"SUCCESS\", \"outputs\": {\"DEFAULT\": [\"buck-out/x/a.rmeta\", "
                        "\"buck-out/x/liba.so\"]}, \"errors\": []}}, \"errors\": []},"
                        "\"root//m:b\": {\"configured\": {\"cfg#1\": {\"success\": \"FAIL\", "
                        "\"outputs\": {}, \"errors\": [{\"message_content\": \"77\", "
                        "\"action_error\": null, \"cause_index\": 0}]}}, \"errors\": []},"
                        "\"root//m:c\": {\"configured\": {\"cfg#1\": {\"success\": "
                        "\"SUCCESS\", \"outputs\": {\"DEFAULT\": [\"x.txt\"]}}}}},"
                        "\"failures\": {}, \"strings\": {\"77\": \"Action failed: rustc\\nmore\"}}",
                        &rep),
                0, "%s", fx.err.msg);
        cr_assert_eq(rep.n, 3);
        cr_assert_str_eq(rep.items[0].label, "root//m:a");
        cr_assert_str_eq(rep.items[0].dylib_path, "/p/buck-out/x/liba.so");
        cr_assert_null(rep.items[1].dylib_path);
        cr_assert_str_eq(rep.items[1].error, "Action failed: rustc");
        cr_assert_null(rep.items[2].dylib_path);
        cr_assert_str_eq(rep.items[2].error, "no dylib among the target's outputs");
        /* Its files, absolute, for a target that generates sources (server/build.c). */
        cr_assert(rep.items[2].files && rep.items[2].files[0]);
        cr_assert_str_eq(rep.items[2].files[0], "/p/x.txt");
        cr_assert_null(rep.items[2].files[1]);
        cr_assert_null(rep.items[0].files);
        pm_build_report_release(&rep);

        /* Not a report: one error naming the file. */
        cr_assert_eq(build_parse(&fx, "[1, 2]", &rep), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(fx.err.msg, "not a Buck2 build report"), "%s", fx.err.msg);
        cr_assert_eq(rep.n, 0);
        cr_assert_eq(build_parse(&fx, "{\"results\": {", &rep), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(fx.err.file, "/c/report.json"), "%s", fx.err.file);
        pm_buck2_fx_release(&fx);
}

/* reindeer's OUT_DIR is a $(location ...[out_dir]) macro Buck2 expands only when it builds: the
 * crate names the sub-target to build (canonical, as `buck2 build` takes it; reindeer writes it
 * package-relative), and until a build serves the directory its note says so (the value is
 * served as Buck2 printed it). A value that is more than the one macro names nothing to build. */
Test(buck2_parse, unbuilt_out_dir_is_a_note)
{
        struct pm_buck2_fx fx;
        struct pm_crate *c;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(
                pm_buck2_fx_parse_text(&fx, LIB(", \"env\": {\"OUT_DIR\": \"$(location "
                                                "root//lib/foo:foo-build-script-run[out_dir])\"}")),
                0, "%s", fx.err.msg);
        c = pm_buck2_fx_crate(&fx, "root//lib/foo:foo");
        cr_assert_not_null(c->note);
        cr_assert_str_eq(c->note, "OUT_DIR not built by projmodel: it is `$(location "
                                  "root//lib/foo:foo-build-script-run[out_dir])`, so what the "
                                  "crate include!s from it is missing");
        cr_assert_str_eq(c->out_dir_target, "root//lib/foo:foo-build-script-run[out_dir]");
        pm_buck2_fx_release(&fx);

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, LIB(", \"env\": {\"OUT_DIR\": \"$(location "
                                                     ":foo-build-script-run[out_dir])\"}")),
                     0, "%s", fx.err.msg);
        cr_assert_str_eq(pm_buck2_fx_crate(&fx, "root//lib/foo:foo")->out_dir_target,
                         "root//lib/foo:foo-build-script-run[out_dir]");
        pm_buck2_fx_release(&fx);

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, LIB(", \"env\": {\"OUT_DIR\": \"$(location "
                                                     ":foo-build-script-run[out_dir])/sub\"}")),
                     0, "%s", fx.err.msg);
        c = pm_buck2_fx_crate(&fx, "root//lib/foo:foo");
        cr_assert_null(c->out_dir_target);
        cr_assert_not_null(c->note);
        pm_buck2_fx_release(&fx);
}

/* The build script behind a reindeer OUT_DIR is watched: the `rust_binary` the run target
 * depends on has its sources among the graph's build files (so editing build.rs refreshes and
 * builds the out_dir again); a crate whose run target is not in the output watches nothing. */
Test(buck2_parse, build_script_sources_are_watched)
{
        static const char targets[] =
                "[{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.package\": "
                "\"root//lib/foo\", \"name\": \"foo\", \"srcs\": [\"src/lib.rs\"],"
                " \"env\": {\"OUT_DIR\": \"$(location :foo-build-script-run[out_dir])\"}},"
                " {\"buck.type\": \"prelude//rust/cargo_buildscript.bzl:buildscript_run\","
                " \"buck.package\": \"root//lib/foo\", \"name\": \"foo-build-script-run\","
                " \"buck.deps\": [\"root//lib/foo:foo-build-script-build (cfg#1)\"]},"
                " {\"buck.type\": \"prelude//rules.bzl:rust_binary\", \"buck.package\": "
                "\"root//lib/foo\", \"name\": \"foo-build-script-build\","
                " \"srcs\": [\"build.rs\", \"build/util.rs\"], \"crate_root\": \"build.rs\"}]";
        struct pm_buck2_fx fx;
        char *build_rs, *util_rs, *lib_rs;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, targets), 0, "%s", fx.err.msg);
        build_rs = pm_test_strf("%s/lib/foo/build.rs", fx.root);
        util_rs = pm_test_strf("%s/lib/foo/build/util.rs", fx.root);
        lib_rs = pm_test_strf("%s/lib/foo/src/lib.rs", fx.root);
        cr_assert(pm_strlist_contains(&fx.g->build_files, build_rs));
        cr_assert(pm_strlist_contains(&fx.g->build_files, util_rs));
        cr_assert_not(pm_strlist_contains(&fx.g->build_files, lib_rs));
        pm_buck2_fx_release(&fx);

        /* The run target is not in the output: nothing to follow. */
        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, LIB(", \"env\": {\"OUT_DIR\": \"$(location "
                                                     ":foo-build-script-run[out_dir])\"}")),
                     0, "%s", fx.err.msg);
        for (size_t i = 0; i < fx.g->build_files.n; i++)
                cr_assert_null(strstr(fx.g->build_files.v[i], ".rs"), "%s", fx.g->build_files.v[i]);
        pm_buck2_fx_release(&fx);
        pm_free(build_rs);
        pm_free(util_rs);
        pm_free(lib_rs);
}

/* A sub-target's outputs: Buck2 reports `T[out_dir]` under the unconfigured `T`, with the outputs
 * keyed by the sub-target names joined by '|' ("DEFAULT" for T itself); the item is named as it
 * was requested. A failed one has no outputs, so its error is T's. */
Test(buck2_build, report_sub_target_directories)
{
        struct pm_build_report rep;
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(
                build_parse(&fx,
                            "{\"success\": false, \"project_root\": \"/p\", \"results\": {"
                            "\"root//t:a-build-script-run\": {\"configured\": {\"cfg#1\": {"
                            "\"success\": \"SUCCESS\", \"outputs\": {\"out_dir\": "
                            "[\"buck-out/v2/gen/root/h/t/__a-build-script-run__/out_dir\"]}, "
                            "\"errors\": []}}, \"errors\": []},"
                            "\"root//t:n\": {\"configured\": {\"cfg#1\": {\"success\": "
                            "\"SUCCESS\", \"outputs\": {\"x|y\": [\"buck-out/n/y\"]}}}},"
                            "\"root//t:b-build-script-run\": {\"configured\": {\"cfg#1\": {"
                            "\"success\": \"FAIL\", \"outputs\": {}, \"errors\": [{"
                            "\"message_content\": \"9\", \"action_error\": null, "
                            "\"cause_index\": 0}]}}, \"errors\": []}},"
                            "\"failures\": {}, \"strings\": {\"9\": \"Action failed: b\\npanic\"}}",
                            &rep),
                0, "%s", fx.err.msg);
        cr_assert_eq(rep.n, 3);
        for (size_t i = 0; i < rep.n; i++) {
                const struct pm_built *b = &rep.items[i];

                cr_assert_null(b->dylib_path);
                if (strcmp(b->label, "root//t:a-build-script-run[out_dir]") == 0) {
                        cr_assert_str_eq(
                                b->out_dir,
                                "/p/buck-out/v2/gen/root/h/t/__a-build-script-run__/out_dir");
                } else if (strcmp(b->label, "root//t:n[x][y]") == 0) {
                        cr_assert_str_eq(b->out_dir, "/p/buck-out/n/y");
                } else {
                        cr_assert_str_eq(b->label, "root//t:b-build-script-run");
                        cr_assert_null(b->out_dir);
                        cr_assert_str_eq(b->error, "Action failed: b");
                }
        }
        pm_build_report_release(&rep);
        pm_buck2_fx_release(&fx);
}

/* A genrule's named output as a source (`srcs = [":gen[lib.rs]"]`, Buck2's syntax for `outs =
 * {"lib.rs": [...]}`): a generated source labelled with its sub-target, at the package's file
 * named after the output, which the crate-root rule then finds beside a checked-in source. */
Test(buck2_parse, named_output_source_is_generated)
{
        struct pm_buck2_fx fx;
        struct pm_crate *c;
        char *p;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(
                             &fx, "[{\"buck.type\": \"prelude//rules.bzl:rust_library\", "
                                  "\"buck.package\": \"root//lib/foo\", \"name\": \"foo\", "
                                  "\"srcs\": [\"root//lib/foo:gen[lib.rs]\", \"src/parse.rs\"], "
                                  "\"mapped_srcs\": {\"root//lib/foo:gen[t.rs]\": \"m/t.rs\"}}]"),
                     0, "%s", fx.err.msg);
        c = pm_buck2_fx_crate(&fx, "root//lib/foo:foo");
        p = pm_buck2_fx_path(&fx, "lib/foo/lib.rs");
        cr_assert_str_eq(c->root_module, p);
        cr_assert_eq(c->gen_srcs.n, 2);
        cr_assert_str_eq(c->gen_srcs.v[0].key, "root//lib/foo:gen[lib.rs]");
        cr_assert_str_eq(c->gen_srcs.v[0].value, p);
        pm_free(p);
        cr_assert_str_eq(c->gen_srcs.v[1].key, "root//lib/foo:gen[t.rs]");
        pm_buck2_fx_assert_path(&fx, c->gen_srcs.v[1].value, "lib/foo/m/t.rs");
        pm_buck2_fx_release(&fx);
}

/* A genrule's named output `T[foo.rs]` is reported under T, keyed "foo.rs": its item has the
 * files (server/build.c serves them for a generated source). T itself asked for too has its own
 * item with its files; a target whose report lists no output at all (Buck2 leaves out an empty
 * provider) or no configuration gets an error saying so, not that it has no dylib. */
Test(buck2_build, report_named_outputs_and_empty_targets)
{
        struct pm_build_report rep;
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(
                build_parse(&fx,
                            "{\"success\": true, \"project_root\": \"/p\", \"results\": {"
                            "\"root//gen:gen\": {\"configured\": {\"cfg#1\": {\"success\": "
                            "\"SUCCESS\", \"outputs\": {\"foo.rs\": "
                            "[\"buck-out/v2/gen/root/h/gen/__gen__/out/foo.rs\"], \"DEFAULT\": "
                            "[\"buck-out/v2/gen/root/h/gen/__gen__/out\"]}, \"errors\": []}}, "
                            "\"errors\": []},"
                            "\"root//gen:empty\": {\"configured\": {\"cfg#1\": {\"success\": "
                            "\"SUCCESS\", \"outputs\": {}, \"errors\": []}}, \"errors\": []},"
                            "\"root//gen:none\": {\"configured\": {}, \"errors\": []}},"
                            "\"failures\": {}, \"strings\": {}}",
                            &rep),
                0, "%s", fx.err.msg);
        cr_assert_eq(rep.n, 4);
        cr_assert_str_eq(rep.items[0].label, "root//gen:gen[foo.rs]");
        cr_assert(rep.items[0].files && rep.items[0].files[0]);
        cr_assert_str_eq(rep.items[0].files[0], "/p/buck-out/v2/gen/root/h/gen/__gen__/out/foo.rs");
        cr_assert_null(rep.items[0].files[1]);
        cr_assert_null(rep.items[0].error);
        cr_assert_str_eq(rep.items[1].label, "root//gen:gen");
        cr_assert(rep.items[1].files && rep.items[1].files[0]);
        cr_assert_str_eq(rep.items[1].files[0], "/p/buck-out/v2/gen/root/h/gen/__gen__/out");
        cr_assert_str_eq(rep.items[2].label, "root//gen:empty");
        cr_assert_str_eq(rep.items[2].error, "root//gen:empty produced no output");
        cr_assert_null(rep.items[2].files);
        cr_assert_str_eq(rep.items[3].label, "root//gen:none");
        cr_assert_str_eq(rep.items[3].error, "no configuration of the target was built");
        pm_build_report_release(&rep);
        pm_buck2_fx_release(&fx);
}
