/* SPDX-License-Identifier: MIT */
/* The bazel adapter's settings and plans without Bazel: the settings' checks, the planned
 * command lines (query, incremental query, check, run, test) and the parsing of the check's and
 * proc-macro build's reports (Build Event Protocol JSON). */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "bazel-test.h"
#include "testlib.h"

/* The main query over target set @set: the Rust rules, their srcs' generated targets, then three
 * levels of the rules writing them and the workspace's generated files and non-Rust rules those
 * read (a chain of genrules, a generator's tools). */
#define RUST_KINDS "kind(\"(rust_.*|cargo_build_script) rule\", "
#define LEVEL(i, p)                                                                               \
        "let j" i " = filter(\"^//\", kind(\"generated file|rule\", deps(kind(rule, $g" p         \
        "), 1))) in let i" i " = $j" i " - " RUST_KINDS "$j" i ") in let g" i " = $g" p " + $i" i \
        " + kind(rule, deps(kind(\"generated file\", $i" i "), 1)) in "
#define QUERY(set)                                                                               \
        "let r = " RUST_KINDS "deps(" set ")) in "                                               \
        "let g = kind(\"generated file|rule\", labels(srcs, $r) + labels(crate_root, $r)) "      \
        "in let g0 = $g + kind(rule, deps(kind(\"generated file\", $g), 1)) in " LEVEL("1", "0") \
                LEVEL("2", "1") LEVEL("3", "2") "$r + $g3"

PM_BAZEL_WS_SUITE(bazel_plan, ws, "basic");

static int
plan(const char *const *scope, size_t n, struct pm_plan *ret, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = {
                .config = ws.cfg, .project = &ws.cfg->projects[0], .scope = scope, .n_scope = n
        };

        memset(ret, 0, sizeof(*ret));
        pm_error_init(err);
        return ops->plan(&q, ret, err);
}

static void
expect_config_error(const char *members, const char *key)
{
        struct pm_plan p;
        struct pm_error err;

        pm_bazel_ws_settings(&ws, members);
        cr_assert_eq(plan(NULL, 0, &p, &err), PM_ECONFIG, "%s", members);
        cr_assert(strstr(err.msg, ".projmodel.json"), "names the file: %s", err.msg);
        cr_assert(strstr(err.msg, key), "names '%s': %s", key, err.msg);
}

Test(bazel_plan, settings_are_validated)
{
        expect_config_error("\"query\": \"aquery\"", "bazel.query");
        expect_config_error("\"query\": 3", "bazel.query");
        expect_config_error("\"flags\": \"--config=x\"", "bazel.flags");
        expect_config_error("\"startup_flags\": [1]", "bazel.startup_flags");
        expect_config_error("\"default_edition\": \"2017\"", "bazel.default_edition");
        expect_config_error("\"command\": \"\"", "bazel.command");
        expect_config_error("\"output_base\": false", "bazel.output_base");
        expect_config_error("\"pattern\": \"\"", "bazel.pattern");
}

static size_t
argc(char **argv)
{
        size_t n = 0;

        while (argv[n])
                n++;
        return n;
}

static bool
has_arg(char **argv, const char *a)
{
        for (; *argv; argv++)
                if (strcmp(*argv, a) == 0)
                        return true;
        return false;
}

static bool
exit_code_ok(const struct pm_step *s, int code)
{
        for (size_t i = 0; i < 4; i++)
                if (s->ok_exit_codes[i] == code)
                        return true;
        return false;
}

Test(bazel_plan, plan_cquery)
{
        struct pm_plan p;
        struct pm_error err;
        char *ob = pm_test_strf("--output_base=%s", ws.ob);

        pm_bazel_ws_settings(&ws, "\"output_base\": \"../ob\", \"command\": \"/opt/bazel\", "
                                  "\"startup_flags\": [\"--host_jvm_args=-Xmx1g\"], "
                                  "\"flags\": [\"--config=ide\"]");
        cr_assert_eq(plan(NULL, 0, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.n_steps, 2);
        cr_assert_str_eq(p.steps[0].argv[0], "/opt/bazel");
        cr_assert_str_eq(p.steps[0].argv[1], ob, "output_base is relative to the root");
        cr_assert_str_eq(p.steps[0].argv[2], "--host_jvm_args=-Xmx1g");
        cr_assert_str_eq(p.steps[0].argv[3], "cquery");
        cr_assert_str_eq(p.steps[0].argv[4], QUERY("//..."));
        cr_assert(has_arg(p.steps[0].argv, "--output=jsonproto"));
        cr_assert(has_arg(p.steps[0].argv, "--keep_going"));
        cr_assert_str_eq(p.steps[0].argv[argc(p.steps[0].argv) - 1], "--config=ide");
        cr_assert_str_eq(p.steps[0].cwd, ws.root);
        cr_assert_not(p.steps[0].optional);
        cr_assert(exit_code_ok(&p.steps[0], 1) && exit_code_ok(&p.steps[0], 3),
                  "--keep_going's partial-failure exits are accepted");
        cr_assert_str_eq(p.steps[1].argv[3], "query");
        cr_assert_str_eq(p.steps[1].argv[4], "buildfiles(//...)");
        cr_assert(p.steps[1].optional, "the watch list is best effort");
        pm_plan_release(&p);
        pm_free(ob);
}

Test(bazel_plan, plan_streamed_jsonproto)
{
        struct pm_plan p;
        struct pm_error err;

        pm_bazel_ws_settings(&ws, "\"query\": \"streamed_jsonproto\", \"pattern\": \"//src/...\"");
        cr_assert_eq(plan(NULL, 0, &p, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.steps[0].argv[2], "query");
        cr_assert_str_eq(p.steps[0].argv[3], QUERY("//src/..."));
        cr_assert(has_arg(p.steps[0].argv, "--output=streamed_jsonproto"));
        cr_assert(exit_code_ok(&p.steps[0], 3));
        pm_plan_release(&p);
}

Test(bazel_plan, default_output_base_is_per_root)
{
        struct pm_plan p1, p2;
        struct pm_error err;
        char *cache = pm_test_strf("%s/cache", ws.tmp);
        char *prefix = pm_test_strf("--output_base=%s/bazel-", cache);
        char *cfgpath = pm_bazel_path(&ws, ".projmodel.json");
        char *json = pm_test_strf("{\"cache_dir\": \"%s\"}\n", cache);

        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        pm_bazel_ws_reload(&ws);
        cr_assert_eq(plan(NULL, 0, &p1, &err), 0, "%s", err.msg);
        cr_assert_eq(plan(NULL, 0, &p2, &err), 0, "%s", err.msg);
        cr_assert_eq(strncmp(p1.steps[0].argv[1], prefix, strlen(prefix)), 0, "%s",
                     p1.steps[0].argv[1]);
        cr_assert_eq(strlen(p1.steps[0].argv[1]), strlen(prefix) + 16);
        cr_assert_str_eq(p1.steps[0].argv[1], p2.steps[0].argv[1], "stable");
        pm_plan_release(&p1);
        pm_plan_release(&p2);
        pm_free(cache);
        pm_free(prefix);
        pm_free(cfgpath);
        pm_free(json);
}

Test(bazel_plan, plan_incremental)
{
        char *foo = pm_bazel_path(&ws, "lib/foo/BUILD.bazel"),
             *util = pm_bazel_path(&ws, "lib/util/BUILD");
        char *bzl = pm_bazel_path(&ws, "rules.bzl"), *gone = pm_bazel_path(&ws, "gone/BUILD");
        const char *two[] = { foo, util };
        const char *with_bzl[] = { foo, bzl };
        const char *with_gone[] = { foo, gone };
        struct pm_plan p;
        struct pm_error err;

        cr_assert_eq(plan(two, 2, &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.n_steps, 1);
        cr_assert_str_eq(p.steps[0].argv[3], QUERY("//lib/foo:* + //lib/util:*"));
        pm_plan_release(&p);

        cr_assert_eq(plan(with_bzl, 2, &p, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.steps[0].argv[3], QUERY("//..."), "a .bzl change can touch any package");
        cr_assert_eq(p.n_steps, 2);
        pm_plan_release(&p);

        cr_assert_eq(plan(with_gone, 2, &p, &err), 0, "%s", err.msg);
        cr_assert_str_eq(p.steps[0].argv[3], QUERY("//..."), "a deleted package cannot be queried");
        pm_plan_release(&p);
        pm_free(foo);
        pm_free(util);
        pm_free(bzl);
        pm_free(gone);
}

/* check_plan: `bazel build` of the one label on the query's output base and flags, with the
 * rules_rust settings of the configured package and the event file as its report. */
Test(bazel_plan, check_plan)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = NULL, .project = NULL };
        char *ob = pm_test_strf("--output_base=%s", ws.ob);
        struct pm_plan p = { 0 };
        struct pm_error err;
        char **a;

        pm_bazel_ws_settings(&ws, "\"output_base\": \"../ob\", \"flags\": [\"--config=ide\"], "
                                  "\"rules_rust_settings\": \"//rust/settings\"");
        q.config = ws.cfg;
        q.project = &ws.cfg->projects[0];
        pm_error_init(&err);
        cr_assert_eq(ops->check_plan(&q, "//lib/util:util", &p, &err), 0, "%s", err.msg);
        a = p.steps[0].argv;
        cr_assert_eq(p.n_steps, 1);
        cr_assert_str_eq(a[0], "bazel");
        cr_assert_str_eq(a[1], ob);
        cr_assert_str_eq(a[2], "build");
        cr_assert(has_arg(a, "--config=ide"));
        cr_assert(has_arg(a, "--output_groups=+rustc_output"));
        /* The user's bazel-bin and the other convenience symlinks stay as they are. */
        cr_assert(has_arg(a, "--experimental_convenience_symlinks=ignore"));
        cr_assert(has_arg(a, "--//rust/settings:error_format=json"));
        cr_assert(has_arg(a, "--//rust/settings:rustc_output_diagnostics=true"));
        cr_assert_str_eq(a[argc(a) - 2], "--");
        cr_assert_str_eq(a[argc(a) - 1], "//lib/util:util");
        cr_assert(strstr(p.steps[0].output_file, "/bazel-check-events-"));
        cr_assert(exit_code_ok(&p.steps[0], 1), "a compile error still writes the events");
        pm_plan_release(&p);
        pm_bazel_ws_settings(&ws, "\"rules_rust_settings\": \"rules_rust\"");
        q.config = ws.cfg;
        q.project = &ws.cfg->projects[0];
        cr_assert_neq(ops->check_plan(&q, "//lib/util:util", &p, &err), 0);
        pm_free(ob);
}

/* build_plan: `bazel build` of the labels, asking for rules_rust's out_dir output group only
 * when one of them is a crate's out_dir_target (adapters/bazel/bazel-build.c). */
Test(bazel_plan, build_plan_asks_for_the_out_dir_group_of_a_build_script_only)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        const char *const with[] = { "//a:pm", "//b:gen", "//a:bs" };
        const char *const without[] = { "//a:pm", "//b:gen", "//a:b" };
        struct pm_graph *g = pm_graph_new();
        struct pm_plan p = { 0 };
        struct pm_error err;
        char **a;

        cr_assert_not_null(g);
        cr_assert_not_null(pm_graph_add_crate(g));
        cr_assert_not_null(pm_graph_add_crate(g));
        g->crates[1].out_dir_target = pm_graph_strdup(g, "//a:bs");
        pm_error_init(&err);
        cr_assert_eq(ops->build_plan(&q, g, with, 3, &p, &err), 0, "%s", err.msg);
        a = p.steps[0].argv;
        cr_assert_eq(p.n_steps, 1);
        cr_assert_str_eq(a[2], "build");
        cr_assert(has_arg(a, "--output_groups=+out_dir"));
        cr_assert_str_eq(a[argc(a) - 4], "--");
        cr_assert_str_eq(a[argc(a) - 1], "//a:bs");
        pm_plan_release(&p);
        memset(&p, 0, sizeof(p));
        cr_assert_eq(ops->build_plan(&q, g, without, 3, &p, &err), 0, "%s", err.msg);
        cr_assert_not(has_arg(p.steps[0].argv, "--output_groups=+out_dir"), "no build script");
        pm_plan_release(&p);
        memset(&p, 0, sizeof(p));
        cr_assert_eq(ops->build_plan(&q, NULL, with, 3, &p, &err), 0, "%s", err.msg);
        cr_assert_not(has_arg(p.steps[0].argv, "--output_groups=+out_dir"), "no graph");
        pm_plan_release(&p);
        pm_graph_free(g);
}

/* run_plan and test_plan: `bazel run|test` on the query's output base, startup flags and flags,
 * without --keep_going, never touching the user's convenience symlinks; run writes the script
 * that runs the binary (--script_path), a second step with the program's arguments; the test's
 * through --test_arg, the test labels after "--". */
Test(bazel_plan, run_and_test_plans)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = NULL, .project = NULL };
        char *ob = pm_test_strf("--output_base=%s", ws.ob);
        char *args[] = { "--workers", "3", NULL };
        const char *labels[] = { "//lib/foo:foo_test", "//lib/foo:more_test" };
        const char *const want_run[] = { "bazel",
                                         ob,
                                         "--batch",
                                         "run",
                                         "--color=no",
                                         "--curses=no",
                                         "--experimental_convenience_symlinks=ignore",
                                         "--config=ide",
                                         "SCRIPT",
                                         "//app:app",
                                         NULL };
        const char *const want_test[] = { "bazel",
                                          ob,
                                          "--batch",
                                          "test",
                                          "--color=no",
                                          "--curses=no",
                                          "--experimental_convenience_symlinks=ignore",
                                          "EVENTS",
                                          "--config=ide",
                                          "--test_output=streamed",
                                          "--nocache_test_results",
                                          "--test_arg=tests::one",
                                          "--test_arg=--exact",
                                          "--",
                                          "//lib/foo:foo_test",
                                          "//lib/foo:more_test",
                                          NULL };
        struct pm_plan p = { 0 };
        struct pm_error err;
        char *events, *script;

        pm_bazel_ws_settings(&ws, "\"output_base\": \"../ob\", \"startup_flags\": [\"--batch\"], "
                                  "\"flags\": [\"--config=ide\"]");
        q.config = ws.cfg;
        q.project = &ws.cfg->projects[0];
        pm_error_init(&err);
        cr_assert_eq(ops->run_plan(&q, "//app:app", args, &p, &err), 0, "%s", err.msg);
        /* Bazel builds and writes the script (its report), which then runs with the args. */
        cr_assert_eq(p.n_steps, 2);
        cr_assert_not_null(p.steps[0].output_file);
        cr_assert_str_eq(p.steps[0].cwd, ws.root);
        script = pm_test_strf("--script_path=%s", p.steps[0].output_file);
        for (size_t i = 0; want_run[i] || p.steps[0].argv[i]; i++)
                cr_assert(want_run[i] && p.steps[0].argv[i] &&
                                  strcmp(strcmp(want_run[i], "SCRIPT") == 0 ? script : want_run[i],
                                         p.steps[0].argv[i]) == 0,
                          "run argv[%zu] is '%s'", i, p.steps[0].argv[i]);
        cr_assert_str_eq(p.steps[1].argv[0], p.steps[0].output_file);
        cr_assert_str_eq(p.steps[1].argv[1], "--workers");
        cr_assert_str_eq(p.steps[1].argv[2], "3");
        cr_assert_null(p.steps[1].argv[3]);
        cr_assert_str_eq(p.steps[1].cwd, ws.root);
        pm_free(script);
        pm_plan_release(&p);
        cr_assert_eq(ops->test_plan(&q, labels, 2, "tests::one", &p, &err), 0, "%s", err.msg);
        cr_assert_eq(p.n_steps, 1);
        /* The build event file, named per run, is the step's report (the test results). */
        cr_assert(p.steps[0].output_file);
        events = pm_test_strf("--build_event_json_file=%s", p.steps[0].output_file);
        for (size_t i = 0; want_test[i] || p.steps[0].argv[i]; i++)
                cr_assert(
                        want_test[i] && p.steps[0].argv[i] &&
                                strcmp(strcmp(want_test[i], "EVENTS") == 0 ? events : want_test[i],
                                       p.steps[0].argv[i]) == 0,
                        "test argv[%zu] is '%s'", i, p.steps[0].argv[i]);
        pm_free(events);
        /* Bazel's "tests failed" is the test's own 101 (server/check-adapter.c). */
        cr_assert_eq(p.steps[0].test_failed_exit, 3);
        pm_plan_release(&p);
        cr_assert_neq(ops->test_plan(&q, labels, 0, "tests::one", &p, &err), 0);
        pm_free(ob);
}

static int
check_parse(const char *events, struct pm_check_report *rep, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob b = { .data = events, .len = strlen(events), .origin = "events.json" };

        memset(rep, 0, sizeof(*rep));
        pm_error_init(err);
        return ops->check_parse(&q, "//a:b", &b, 1, rep, err);
}

/* check_parse: the stderr of each failed action, the rustc_output files of the built target
 * (through nested file sets), an error line when nothing compiled, a malformed line located. */
Test(bazel_plan, check_parse_names_the_diagnostics_files)
{
        const char *failed =
                "{\"id\":{\"progress\":{}},\"progress\":{\"stderr\":\"ERROR: /r/a/BUILD:1:1: "
                "Compiling //a:b failed\\n\"}}\n"
                "{\"id\":{\"actionCompleted\":{\"label\":\"//a:c\"}},\"action\":{\"success\":"
                "false,\"exitCode\":1,\"stderr\":{\"uri\":\"file:///ob/stderr-2\"}}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//a:b\"}},\"completed\":{}}\n";
        const char *built =
                "{\"id\":{\"namedSet\":{\"id\":\"1\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/b.rustc-output\"}]}}\n"
                "{\"id\":{\"namedSet\":{\"id\":\"2\"}},\"namedSetOfFiles\":{\"fileSets\":[{\"id\":"
                "\"1\"}]}}\n"
                "{\"id\":{\"namedSet\":{\"id\":\"0\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/libb.rlib\"}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"@//a:b\"}},\"completed\":{\"success\":"
                "true,\"outputGroup\":[{\"name\":\"default\",\"fileSets\":[{\"id\":\"0\"}]},"
                "{\"name\":\"rustc_output\",\"fileSets\":[{\"id\":\"2\"}]}]}}\n";
        const char *broken = "{\"id\":{\"progress\":{}},\"progress\":{\"stderr\":\"ERROR: "
                             "/r/a/BUILD:3:1: no such target '//a:b'\\n\"}}\n"
                             "{\"id\":{\"targetCompleted\":{\"label\":\"//a:b\"}},\"completed\":"
                             "{}}\n";
        struct pm_check_report rep;
        struct pm_error err;

        cr_assert_eq(check_parse(failed, &rep, &err), 0, "%s", err.msg);
        cr_assert_str_eq(rep.files[0], "/ob/stderr-2");
        cr_assert_null(rep.files[1]);
        cr_assert_null(rep.error, "a compile failed: its diagnostics say why");
        cr_assert_str_eq(rep.base, ws.root);
        cr_assert_str_eq(rep.external_base, ws.ob);
        pm_check_report_release(&rep);

        cr_assert_eq(check_parse(built, &rep, &err), 0, "%s", err.msg);
        cr_assert_str_eq(rep.files[0], "/ob/b.rustc-output");
        cr_assert_null(rep.files[1], "only the rustc_output group");
        pm_check_report_release(&rep);

        cr_assert_eq(check_parse(broken, &rep, &err), 0, "%s", err.msg);
        cr_assert_null(rep.files[0]);
        cr_assert_str_eq(rep.error, "ERROR: /r/a/BUILD:3:1: no such target '//a:b'");
        pm_check_report_release(&rep);

        cr_assert_eq(check_parse("{\"id\":{}}\nnot json\n", &rep, &err), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(err.msg, "events.json:2"), "%s", err.msg);
}

static int
build_parse(const char *events, struct pm_build_report *rep, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob b = { .data = events, .len = strlen(events), .origin = "events.json" };

        memset(rep, 0, sizeof(*rep));
        pm_error_init(err);
        return ops->build_parse(&q, &b, 1, rep, err);
}

/* A cargo_build_script's out_dir, as Bazel 4 reports it: `directoryOutput` (name and pathPrefix
 * under the execroot of the `workspaceInfo` event); without it, the `.out_dir` component of a
 * file of its out_dir output group. A failed one: the compiler's first error after Bazel's. */
Test(bazel_plan, build_parse_reads_the_out_dir)
{
        const char *dir = "{\"id\":{\"workspace\":{}},\"workspaceInfo\":{\"localExecRoot\":"
                          "\"/ob/execroot/ws\"}}\n"
                          "{\"id\":{\"namedSet\":{\"id\":\"0\"}},\"namedSetOfFiles\":{\"files\":[{"
                          "\"name\":\"a/a_bs.out_dir/gen.rs\",\"uri\":\"file:///ob/execroot/ws/"
                          "bazel-out/k8-fastbuild/bin/a/a_bs.out_dir/gen.rs\"}]}}\n"
                          "{\"id\":{\"targetCompleted\":{\"label\":\"//a:a_bs\"}},\"completed\":{"
                          "\"success\":true,\"outputGroup\":[{\"name\":\"out_dir\",\"fileSets\":[{"
                          "\"id\":\"0\"}]}],\"directoryOutput\":[{\"name\":\"a/a_bs.out_dir\","
                          "\"pathPrefix\":[\"bazel-out\",\"k8-fastbuild\",\"bin\"]}]}}\n";
        const char *files_only =
                "{\"id\":{\"namedSet\":{\"id\":\"0\"}},\"namedSetOfFiles\":{\"files\":[{"
                "\"name\":\"a/a_bs.out_dir/sub/gen.rs\",\"uri\":\"file:///x/bin/a/"
                "a_bs.out_dir/sub/gen.rs\"}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"@//a:a_bs\"}},\"completed\":{"
                "\"success\":true,\"outputGroup\":[{\"name\":\"out_dir\",\"fileSets\":[{"
                "\"id\":\"0\"}]}]}}\n";
        const char *failed =
                "{\"id\":{\"progress\":{}},\"progress\":{\"stderr\":\"ERROR: /r/a/BUILD:1:1: "
                "Compiling build script //a:a_bs failed\\nerror[E0308]: mismatched types\\n\"}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//a:a_bs\"}},\"completed\":{}}\n";
        struct pm_build_report rep;
        struct pm_error err;

        cr_assert_eq(build_parse(dir, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 1);
        cr_assert_str_eq(rep.items[0].label, "//a:a_bs");
        cr_assert_str_eq(rep.items[0].out_dir,
                         "/ob/execroot/ws/bazel-out/k8-fastbuild/bin/a/a_bs.out_dir");
        cr_assert_null(rep.items[0].error);
        pm_build_report_release(&rep);

        cr_assert_eq(build_parse(files_only, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 1);
        cr_assert_str_eq(rep.items[0].out_dir, "/x/bin/a/a_bs.out_dir");
        pm_build_report_release(&rep);

        cr_assert_eq(build_parse(failed, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 1);
        cr_assert_null(rep.items[0].out_dir);
        cr_assert_str_eq(rep.items[0].error, "error[E0308]: mismatched types");
        pm_build_report_release(&rep);
}

/* A target generating sources: the files of its default output group, through nested file
 * sets, each once in the order found (the first `.rs` or the first file is the crate root,
 * server/build.c), however often the sets repeat them; no dylib among them is its error. */
Test(bazel_plan, build_parse_lists_a_generating_targets_files_once_in_order)
{
        const char *events =
                "{\"id\":{\"namedSet\":{\"id\":\"1\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/bin/a/gen.rs\"},{\"uri\":\"file:///ob/bin/a/../a/inc.h\"}]}}\n"
                "{\"id\":{\"namedSet\":{\"id\":\"0\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/bin/a/data.txt\"},{\"uri\":\"file:///ob/bin/a/gen.rs\"},{\"uri\":"
                "\"relative/x.rs\"}],\"fileSets\":[{\"id\":\"1\"}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//a:gen\"}},\"completed\":{\"success\":"
                "true,\"outputGroup\":[{\"name\":\"default\",\"fileSets\":[{\"id\":\"0\"},{\"id\":"
                "\"1\"}]}]}}\n";
        struct pm_build_report rep;
        struct pm_error err;

        cr_assert_eq(build_parse(events, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 1);
        cr_assert_not_null(rep.items[0].files);
        cr_assert_str_eq(rep.items[0].files[0], "/ob/bin/a/data.txt");
        cr_assert_str_eq(rep.items[0].files[1], "/ob/bin/a/gen.rs");
        cr_assert_str_eq(rep.items[0].files[2], "/ob/bin/a/inc.h");
        cr_assert_null(rep.items[0].files[3]);
        cr_assert_null(rep.items[0].dylib_path);
        cr_assert_str_eq(rep.items[0].error, "no dylib among the target's outputs");
        pm_build_report_release(&rep);
}

/* Each target once, in the order of its first targetCompleted event (a repeat, "@//" or not,
 * is left out), and a file set repeated under one id read from its first event: what the
 * report gives does not depend on the lookups being indexed (adapters/bazel/bazel-build.c). */
Test(bazel_plan, build_parse_keeps_each_targets_first_event_and_sets_first_id)
{
        const char *events =
                "{\"id\":{\"namedSet\":{\"id\":\"1\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/bin/b/first.rs\"}]}}\n"
                "{\"id\":{\"namedSet\":{\"id\":\"1\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/bin/b/second.rs\"}]}}\n"
                "{\"id\":{\"namedSet\":{\"id\":\"0\"}},\"namedSetOfFiles\":{\"files\":[{\"uri\":"
                "\"file:///ob/bin/a/libpm.so\"}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//b:gen\"}},\"completed\":{\"success\":"
                "true,\"outputGroup\":[{\"name\":\"default\",\"fileSets\":[{\"id\":\"1\"}]}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"@//a:pm\"}},\"completed\":{\"success\":"
                "true,\"outputGroup\":[{\"name\":\"default\",\"fileSets\":[{\"id\":\"0\"}]}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//b:gen\"}},\"completed\":{\"success\":"
                "false}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//a:pm\"}},\"completed\":{\"success\":"
                "false}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//c:x\"}},\"completed\":{\"success\":"
                "false}}\n";
        struct pm_build_report rep;
        struct pm_error err;

        cr_assert_eq(build_parse(events, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 3);
        cr_assert_str_eq(rep.items[0].label, "//b:gen");
        cr_assert_not_null(rep.items[0].files);
        cr_assert_str_eq(rep.items[0].files[0], "/ob/bin/b/first.rs");
        cr_assert_null(rep.items[0].files[1]);
        cr_assert_str_eq(rep.items[1].label, "//a:pm");
        cr_assert_str_eq(rep.items[1].dylib_path, "/ob/bin/a/libpm.so");
        cr_assert_null(rep.items[1].error);
        cr_assert_str_eq(rep.items[2].label, "//c:x");
        cr_assert_str_eq(rep.items[2].error, "build failed");
        pm_build_report_release(&rep);
}

/* The cfgs and env of a build script, from the files rules_rust's cargo_build_script declares
 * beside its out_dir (`<name>.flags`, `<name>.env`) in the format its runner writes: `--cfg=X`
 * lines among flags projmodel ignores; "NAME=value" lines with `${pwd}` (the execroot of the
 * events) and `${out_dir}`, a line continued by a trailing backslash and a value ending in an
 * escaped one. A build script without those files (an other rule's out_dir) gives none. */
Test(bazel_plan, build_parse_reads_the_build_script_flags_and_env)
{
        char *exec = pm_test_strf("%s/ob/execroot/ws", ws.tmp);
        char *bin = pm_test_strf("%s/bazel-out/k8-fastbuild/bin/a", exec);
        char *flags = pm_test_strf("%s/a_bs.flags", bin);
        char *env = pm_test_strf("%s/a_bs.env", bin);
        char *gen = pm_test_strf("%s/a_bs.out_dir/gen.rs", bin);
        char *events = pm_test_strf(
                "{\"id\":{\"workspace\":{}},\"workspaceInfo\":{\"localExecRoot\":\"%s\"}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//a:a_bs\"}},\"completed\":{"
                "\"success\":true,\"directoryOutput\":[{\"name\":\"a/a_bs.out_dir\","
                "\"pathPrefix\":[\"bazel-out\",\"k8-fastbuild\",\"bin\"]}]}}\n"
                "{\"id\":{\"targetCompleted\":{\"label\":\"//b:b_bs\"}},\"completed\":{"
                "\"success\":true,\"directoryOutput\":[{\"name\":\"b/b_bs.out_dir\","
                "\"pathPrefix\":[\"bazel-out\",\"k8-fastbuild\",\"bin\"]}]}}\n",
                exec);
        char *want_dir = pm_test_strf("GEN=%s/a_bs.out_dir/x.rs", bin);
        char *want_root = pm_test_strf("ROOT=%s/include", exec);
        struct pm_build_report rep;
        struct pm_error err;

        cr_assert_eq(pm_test_write_file(gen, ""), 0);
        cr_assert_eq(pm_test_write_file(flags, "-Lnative=/x\n--cfg=fast\n--cfg=level=\"2\"\n"
                                               "-Clink-arg=-s\n--check-cfg=cfg(fast)"),
                     0);
        cr_assert_eq(pm_test_write_file(env, "GREETING=hi there\nGEN=${out_dir}/x.rs\n"
                                             "ROOT=${pwd}/include\nTWO=a\\\nb\nBS=c\\\\\n"
                                             "not a variable\n"),
                     0);
        cr_assert_eq(build_parse(events, &rep, &err), 0, "%s", err.msg);
        cr_assert_eq(rep.n, 2);
        cr_assert_str_eq(rep.items[0].label, "//a:a_bs");
        cr_assert_not_null(rep.items[0].cfgs);
        cr_assert_str_eq(rep.items[0].cfgs[0], "fast");
        cr_assert_str_eq(rep.items[0].cfgs[1], "level=\"2\"");
        cr_assert_null(rep.items[0].cfgs[2]);
        cr_assert_not_null(rep.items[0].env);
        cr_assert_str_eq(rep.items[0].env[0], "GREETING=hi there");
        cr_assert_str_eq(rep.items[0].env[1], want_dir);
        cr_assert_str_eq(rep.items[0].env[2], want_root);
        cr_assert_str_eq(rep.items[0].env[3], "TWO=a\nb");
        cr_assert_str_eq(rep.items[0].env[4], "BS=c\\");
        cr_assert_null(rep.items[0].env[5]);
        cr_assert_str_eq(rep.items[1].label, "//b:b_bs");
        cr_assert_not_null(rep.items[1].out_dir);
        cr_assert_null(rep.items[1].cfgs);
        cr_assert_null(rep.items[1].env);
        pm_build_report_release(&rep);
        pm_free(exec);
        pm_free(bin);
        pm_free(flags);
        pm_free(env);
        pm_free(gen);
        pm_free(events);
        pm_free(want_dir);
        pm_free(want_root);
}
