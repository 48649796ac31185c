/* SPDX-License-Identifier: MIT */
/* The bazel adapter against the real bazel 4.2.3: full and incremental cquery, --keep_going over
 * a broken package, the runner accepting --keep_going's exit codes, the bundled example end
 * to end (export, check, run and test), and as a subproject with build_proc_macros false (no
 * bazel build). Each test has its own
 * output base; the fixture's teardown shuts the server down even when the test failed. Over 800
 * lines because it is one adapter against one real tool: the tests share the bazel fixture and
 * the helpers that read what bazel did (flycheck, runnables, the daemon's view of a broken
 * build file), which are most of its length. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/client.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/tool.h"

#include "bazel-test.h"
#include "daemon.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static struct pm_bazel_ws ws;

static void
setup(void)
{
        cr_assert(pm_test_have("bazel"), "bazel is not installed");
        pm_bazel_ws_setup(&ws, "basic", NULL);
}

static void
teardown(void)
{
        pm_bazel_ws_teardown(&ws);
}

/* The example's test runs export, check, run, test and two daemons through the real Bazel; on
 * two shared cores under load that took over 300 s. */
TestSuite(bazel_query, .init = setup, .fini = teardown, .timeout = 600);

static char *
path(const char *rel)
{
        return pm_test_strf("%s/%s", ws.root, rel);
}

Test(bazel_query, full_cquery)
{
        struct pm_graph *g = NULL;
        struct pm_crate *c;
        struct pm_error err;
        int status = -1;
        char *p;

        pm_error_init(&err);
        cr_assert_eq(pm_bazel_query(&ws, NULL, 0, &g, &status, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(status, 0);
        cr_assert_eq(g->n_crates, 10, "got %zu", g->n_crates);
        cr_assert_not(g->partial);
        cr_assert_null(pm_graph_find(g, "//lib/foo:foo_test"));

        c = pm_graph_find(g, "//lib/foo:foo");
        cr_assert_not_null(c);
        cr_assert_str_eq(c->edition, "2018");
        cr_assert(pm_strlist_contains(&c->cfgs, "feature=\"std\""));
        cr_assert(pm_strlist_contains(&c->cfgs, "foo_bar"), "two-token --cfg");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "GREETING"), "hi");
        cr_assert(pm_test_crate_has_dep(c, "//lib/util:util", "util2"));
        cr_assert(pm_test_crate_has_dep(c, "//lib/extra-helpers:extra-helpers", NULL));
        cr_assert_eq(c->n_deps, 4, "the genrule dep is dropped");
        p = path("lib/foo/tests/extra.rs");
        cr_assert(pm_strlist_contains(&c->sources, p), "test srcs are folded");
        pm_free(p);

        cr_assert_eq(pm_graph_find(g, "//macros:derive_it")->kind, PM_CRATE_PROC_MACRO);
        cr_assert_eq(pm_graph_find(g, "//app:app-integration")->kind, PM_CRATE_TEST);
        cr_assert_str_eq(pm_graph_find(g, "//lib/extra-helpers:extra-helpers")->crate_name,
                         "extra_helpers");

        c = pm_graph_find(g, "@ext//:extlib");
        cr_assert_not_null(c, "deps() brings in the external repository's crate");
        cr_assert_not(c->is_workspace_member);
        p = pm_test_strf("%s/external/ext/src/lib.rs", ws.ob);
        cr_assert_str_eq(c->root_module, p);
        cr_assert_eq(access(p, R_OK), 0, "the output base path exists after the query");
        pm_free(p);

        p = path("rules.bzl");
        cr_assert(pm_strlist_contains(&g->build_files, p), ".bzl files are watched");
        pm_free(p);
        p = path("tools/BUILD.bazel");
        cr_assert(pm_strlist_contains(&g->build_files, p), "buildfiles(//...) lists every package");
        pm_free(p);
        cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s", err.msg);
        pm_graph_free(g);
}

Test(bazel_query, incremental_package)
{
        char *foo = path("lib/foo/BUILD.bazel");
        const char *scope[] = { foo };
        struct pm_graph *g = NULL;
        struct pm_plan plan;
        struct pm_crate *c;
        struct pm_error err;
        char *text;
        int status = -1;

        /* Warm the server, then change one package: a new feature, the test gone. */
        pm_error_init(&err);
        cr_assert_eq(pm_bazel_query(&ws, NULL, 0, &g, &status, NULL, &err), 0, "%s", err.msg);
        g = pm_graph_free(g);
        text = pm_test_read_file(foo);
        cr_assert_not_null(text);
        *strstr(text, "rust_test(") = '\0';
        {
                char *edited = pm_test_strf("%s", text);
                char *p = strstr(edited, "\"serde\"");

                cr_assert_not_null(p);
                memcpy(p, "\"extra\"", 7);
                cr_assert_eq(pm_test_write_file(foo, edited), 0);
                pm_free(edited);
        }

        cr_assert_eq(pm_bazel_query(&ws, scope, 1, &g, &status, &plan, &err), 0, "%s", err.msg);
        cr_assert_eq(status, 0);
        cr_assert_eq(plan.n_steps, 1);
        cr_assert(strstr(plan.steps[0].argv[3], "//lib/foo:*"), "%s", plan.steps[0].argv[3]);
        cr_assert(g->partial);
        cr_assert_eq(g->covered.n, 1);
        cr_assert_str_eq(g->covered.v[0], foo);
        cr_assert_eq(g->n_crates, 1, "only the covered package's crates");
        c = &g->crates[0];
        cr_assert_str_eq(c->label, "//lib/foo:foo");
        cr_assert(pm_strlist_contains(&c->cfgs, "feature=\"extra\""));
        cr_assert_not(pm_strlist_contains(&c->cfgs, "feature=\"serde\""));
        cr_assert_not(pm_test_crate_has_dep(c, "//lib/extra-helpers:extra-helpers", NULL),
                      "the removed test's deps are gone");
        cr_assert(pm_test_crate_has_dep(c, "@ext//:extlib", NULL), "deps on other packages stay");
        cr_assert(pm_test_crate_has_dep(c, "//lib/util:util", "util2"));
        pm_plan_release(&plan);
        pm_graph_free(g);
        pm_free(text);
        pm_free(foo);
}

static void
break_a_package(void)
{
        char *broken = path("broken/BUILD.bazel");

        cr_assert_eq(pm_test_write_file(broken, "load(\"//:rules.bzl\", \"rust_library\")\n"
                                                "rust_library(name = \"x\", srcs = [\n"),
                     0);
        pm_free(broken);
}

Test(bazel_query, keep_going_over_a_broken_package)
{
        struct pm_graph *g = NULL;
        struct pm_plan plan;
        struct pm_error err;
        int status = -1;

        break_a_package();
        pm_error_init(&err);
        cr_assert_eq(pm_bazel_query(&ws, NULL, 0, &g, &status, &plan, &err), 0, "%s", err.msg);
        cr_assert_neq(status, 0, "bazel reports the broken package");
        cr_assert(status == plan.steps[0].ok_exit_codes[0] ||
                          status == plan.steps[0].ok_exit_codes[1],
                  "exit %d is one the step accepts", status);
        cr_assert_eq(g->n_crates, 10, "every other crate is still there (%zu)", g->n_crates);
        pm_plan_release(&plan);
        pm_graph_free(g);
}

/* The runner (server/) must treat the step's ok_exit_codes as success, as the fixture does. */
Test(bazel_query, runner_accepts_keep_going_exit)
{
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *want;

        break_a_package();
        pm_error_init(&err);
        cr_assert_eq(pm_query_run_sync(ws.cfg, &ws.cfg->projects[0], NULL, 0, &g, &err), 0,
                     "pm_query_run_sync: %s", err.msg);
        cr_assert_eq(g->n_crates, 10);
        /* The runner's stderr names the broken file; the parse says so (adapters/bazel/parse.c). */
        cr_assert_eq(g->warnings.n, 1, "one warning, got %zu", g->warnings.n);
        want = pm_test_strf("%s/broken/BUILD.bazel:", ws.root);
        cr_assert(strncmp(g->warnings.v[0], want, strlen(want)) == 0, "want '%s...': %s", want,
                  g->warnings.v[0]);
        pm_free(want);
        /* ... and lists it, so an apply keeps the model's crates of it (indexer/apply.c). */
        want = path("broken/BUILD.bazel");
        cr_assert_eq(g->failed.n, 1, "got %zu", g->failed.n);
        cr_assert_str_eq(g->failed.v[0], want);
        cr_assert(pm_strlist_contains(&g->build_files, want), "the fix is watched");
        pm_free(want);
        pm_graph_free(g);
}

Test(bazel_query, bad_command_fails)
{
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *cfgpath = path(".projmodel.json");
        char *json = pm_test_strf("{\"bazel\": {\"output_base\": \"%s\", "
                                  "\"flags\": [\"--no_such_flag_anywhere\"]}}",
                                  ws.ob);
        int r;

        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        pm_bazel_ws_reload(&ws);
        pm_error_init(&err);
        r = pm_query_run_sync(ws.cfg, &ws.cfg->projects[0], NULL, 0, &g, &err);
        cr_assert_lt(r, 0, "an unknown flag is a failure, not an empty project");
        cr_assert_null(g);
        pm_free(cfgpath);
        pm_free(json);
}

/*
 * `projmodel check ROOT LABEL` on the fixture's model, with .projmodel.json holding @bazel (the
 * "bazel" section's members besides output_base) and cache_dir @cache. Asserts that the check
 * fails as a build tool that could not run does (docs/cli.md, "Exit codes"): exit 1, nothing on
 * stdout, one line on stderr naming the bazel command and its exit status, and no event file
 * left in @cache. Returns that exit status of bazel's (0 when the line has none); *@ret_err gets
 * the line (pm_malloc'd).
 */
static int
check_that_cannot_build(const char *cache, const char *bazel, char **ret_err)
{
        const char *argv[] = { pm_test_projmodel(), "check", "--root", ws.root,
                               "//lib/util:util",   NULL };
        char *cfgpath = path(".projmodel.json");
        char *json =
                pm_test_strf("{\"cache_dir\": \"%s\", \"bazel\": {\"output_base\": \"%s\"%s}}\n",
                             cache, ws.ob, bazel);
        char *out = NULL, *errout = NULL, *ls_out = NULL;
        const char *ls[] = { "ls", "-A", cache, NULL };
        const char *at;
        int status, bazel_status = 0;

        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        status = pm_test_run(argv, ws.root, NULL, NULL, &out, &errout);
        cr_assert_eq(status, 1, "check: exit %d, stdout %s, stderr %s", status, out, errout);
        cr_assert_str_eq(out, "", "no diagnostics when the compiler never ran");
        cr_assert(strncmp(errout, "projmodel: 'bazel --output_base=", 32) == 0, "%s", errout);
        cr_assert(strchr(errout, '\n') == errout + strlen(errout) - 1, "one line: %s", errout);
        at = strstr(errout, "' failed with exit status ");
        cr_assert_not_null(at, "%s", errout);
        cr_assert_eq(sscanf(at, "' failed with exit status %d:", &bazel_status), 1, "%s", errout);
        cr_assert_eq(pm_test_run(ls, NULL, NULL, NULL, &ls_out, NULL), 0);
        cr_assert_null(strstr(ls_out, "bazel-check-events"), "the event file is removed: %s",
                       ls_out);
        *ret_err = errout;
        pm_free(ls_out);
        pm_free(out);
        pm_free(json);
        pm_free(cfgpath);
        return bazel_status;
}

/* A check whose bazel exits with neither 0 nor 1 (a build that ran, failed or not): bazel's 2
 * for a bad command line, and the 37 Bazel 4 gives when the check's rules_rust flags name a
 * repository the workspace lacks (this fixture has no @rules_rust). Neither status is passed on:
 * `check` fails as any build tool that cannot run, exit 1 with bazel's error line, and the
 * model is left as it was. */
Test(bazel_query, check_when_bazel_cannot_build_is_one_line_and_exit_1)
{
        char *cache = pm_test_strf("%s/cache", ws.tmp), *cfgpath = path(".projmodel.json");
        char *json = pm_test_strf("{\"cache_dir\": \"%s\", \"bazel\": {\"output_base\": \"%s\"}}\n",
                                  cache, ws.ob);
        const char *export[] = { pm_test_projmodel(), "export",    "--root", ws.root,
                                 "--output",          "/dev/null", NULL };
        char *errout = NULL;
        int status;

        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        status = pm_test_run(export, ws.root, NULL, NULL, NULL, &errout);
        cr_assert_eq(status, 0, "export: %s", errout);
        pm_free(errout);

        status = check_that_cannot_build(cache, ", \"flags\": [\"--no_such_flag_anywhere\"]",
                                         &errout);
        cr_assert_eq(status, 2, "bazel's own status is in the line: %s", errout);
        cr_assert_not_null(strstr(errout, "Unrecognized option: --no_such_flag_anywhere"),
                           "bazel's error line: %s", errout);
        pm_free(errout);

        status = check_that_cannot_build(cache, "", &errout);
        cr_assert(status != 0 && status != 1 && status != 2, "exit %d: %s", status, errout);
        cr_assert_not_null(strstr(errout, "@rules_rust"), "bazel's error line: %s", errout);
        pm_free(errout);
        pm_free(json);
        pm_free(cfgpath);
        pm_free(cache);
}

/*
 * Run the flycheck runnable of the exported project @json as rust-analyzer does (program, cwd
 * verbatim; {label} and {saved_file} filled) for @label and @file. Asserts it exits 0 and that
 * every stdout line is a rustc diagnostic with absolute file names; returns how many
 * error-level diagnostics have their primary span at @file line @line (@line 0: anywhere).
 */
static int
flycheck(const char *json, const char *label, const char *file, int line)
{
        cJSON *p = cJSON_Parse(json), *r, *a, *l;
        const cJSON *fc = NULL;
        const char *argv[8];
        char *out = NULL, *errout = NULL;
        size_t n = 0;
        int status, errors = 0;

        cr_assert_not_null(p);
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runnables"))
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring, "flycheck") ==
                    0)
                        fc = r;
        }
        cr_assert_not_null(fc, "no flycheck runnable");
        argv[n++] = cJSON_GetObjectItemCaseSensitive(fc, "program")->valuestring;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(fc, "args"))
        {
                cr_assert_lt(n, 7);
                argv[n++] = strcmp(a->valuestring, "{label}") == 0        ? label
                            : strcmp(a->valuestring, "{saved_file}") == 0 ? file
                                                                          : a->valuestring;
        }
        argv[n] = NULL;
        status = pm_test_run(argv, cJSON_GetObjectItemCaseSensitive(fc, "cwd")->valuestring, NULL,
                             NULL, &out, &errout);
        cr_assert_eq(status, 0, "flycheck %s: %d %s %s", label, status, out, errout);
        for (const char *q = out; *q;) {
                const char *nl = strchr(q, '\n');
                cJSON *d = cJSON_ParseWithLength(q, nl ? (size_t)(nl - q) : strlen(q));
                const cJSON *sp;

                cr_assert(cJSON_IsObject(d), "not a JSON line in: %s", out);
                l = cJSON_GetObjectItemCaseSensitive(d, "level");
                cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(d, "spans"))
                {
                        const char *f =
                                cJSON_GetObjectItemCaseSensitive(sp, "file_name")->valuestring;

                        cr_assert(f[0] == '/', "relative file_name %s", f);
                        errors +=
                                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sp, "is_primary")) &&
                                strcmp(l->valuestring, "error") == 0 &&
                                (line == 0 ||
                                 (strcmp(f, file) == 0 &&
                                  cJSON_GetObjectItemCaseSensitive(sp, "line_start")->valueint ==
                                          line));
                }
                cJSON_Delete(d);
                q = nl ? nl + 1 : q + strlen(q);
        }
        pm_free(out);
        pm_free(errout);
        cJSON_Delete(p);
        return errors;
}

/* Break @build (the example's lib/config/BUILD.bazel): drop the comma after its srcs. Its text
 * goes to *@ret_old (pm_malloc'd). NULL when done, else what went wrong (pm_malloc'd). */
static char *
break_config(const char *build, char **ret_old)
{
        char *old = pm_test_read_file(build), *broken, *what = NULL;
        char *comma = old ? strstr(old, "srcs = [\"src/lib.rs\"],") : NULL;

        *ret_old = old;
        if (!comma)
                return pm_test_strf("no 'srcs = [\"src/lib.rs\"],' in %s", build);
        comma += strlen("srcs = [\"src/lib.rs\"]");
        broken = pm_test_strf("%.*s%s", (int)(comma - old), old, comma + 1);
        if (pm_test_write_file(build, broken) != 0)
                what = pm_test_strf("cannot write %s", build);
        pm_free(broken);
        return what;
}

/*
 * lib/config/BUILD.bazel of the example @root loses a comma: `projmodel export` (@argv, writing
 * @out) still exits 0, says on stderr which BUILD file and line Bazel could not load and that the
 * crates it skipped (config and, as cquery's analysis fails for them, its dependents) kept their
 * last good state: the JSON is byte for byte the last good export @good, and type-checks with
 * rustc in @workdir. Fixed back, the next export is silent and still @good. NULL when so, else
 * what went wrong (pm_malloc'd): the caller asserts after shutting Bazel down.
 */
static char *
broken_build_file_warns(const char *root, const char *const *argv, const char *out,
                        const char *good, const char *workdir)
{
        char *build = pm_test_strf("%s/lib/config/BUILD.bazel", root);
        char *want = pm_test_strf("projmodel export: warning: %s:6:", build);
        char *kept = pm_test_strf("crates of %s", build);
        char *old = NULL, *errout = NULL, *errout2 = NULL, *json = NULL, *json2 = NULL;
        char *report = NULL, *what, *line;
        int status = -1, status2 = -1;

        what = break_config(build, &old);
        if (what)
                goto out;
        status = pm_test_run(argv, root, NULL, NULL, NULL, &errout);
        json = pm_test_read_file(out);
        if (pm_test_write_file(build, old) == 0) {
                status2 = pm_test_run(argv, root, NULL, NULL, NULL, &errout2);
                json2 = pm_test_read_file(out);
        }
        line = errout ? strstr(errout, "warning: kept the last good state of ") : NULL;
        if (status != 0 || !errout || !strstr(errout, want) || !strstr(errout, "syntax error") ||
            !line || !strstr(line, kept))
                what = pm_test_strf("broken BUILD file: exit %d, want '%s...syntax error' and "
                                    "'kept the last good state of N %s' in: %s",
                                    status, want, kept, errout ? errout : "");
        else if (!json || strcmp(json, good) != 0)
                what = pm_test_strf("broken BUILD file: the export is not the last good one:\n%s\n"
                                    "want:\n%s",
                                    json ? json : "(none)", good);
        else if (pm_test_rustc_check_project_loading_dylibs(json, workdir, &report) != 0)
                what = pm_test_strf("broken BUILD file: the export does not type-check: %s",
                                    report);
        else if (status2 != 0 || !errout2 || strstr(errout2, "warning"))
                what = pm_test_strf("fixed BUILD file: exit %d, stderr: %s", status2,
                                    errout2 ? errout2 : "");
        else if (!json2 || strcmp(json2, good) != 0)
                what = pm_test_strf("fixed BUILD file: the export changed:\n%s",
                                    json2 ? json2 : "");
out:
        pm_free(build);
        pm_free(want);
        pm_free(kept);
        pm_free(old);
        pm_free(errout);
        pm_free(errout2);
        pm_free(json);
        pm_free(json2);
        pm_free(report);
        return what;
}

/* The daemon's compact rust-project.json for @params (NULL: the whole repository). */
static char *
daemon_project(struct pm_client *c, const char *params)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", params);
        char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "project"));
        char *copy = pm_test_strf("%s", text ? text : "");

        cJSON_free(text);
        cJSON_Delete(r);
        return copy;
}

/* The daemon's status warnings' messages, one a line (pm_malloc'd). */
static char *
daemon_warnings(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL), *w;
        char *all = pm_test_strf("%s", "");

        cJSON_ArrayForEach(w, cJSON_GetObjectItem(r, "warnings"))
        {
                const cJSON *m = cJSON_GetObjectItem(w, "message");
                char *more = pm_test_strf("%s%s\n", all, cJSON_IsString(m) ? m->valuestring : "");

                pm_free(all);
                all = more;
        }
        cJSON_Delete(r);
        return all;
}

/*
 * The same through a real daemon on the example @root (the warm Bazel server of the exports, a
 * model of its own under @tmp): lib/config/BUILD.bazel breaks, and rustProject for it (which
 * waits for the incremental refresh the save starts) still answers its crate, the status names
 * the file, its line and the kept state, and the whole repository is what it was; fixed, no
 * warning and the same repository again. NULL when so, else what went wrong (pm_malloc'd).
 */
/*
 * An edit of //lib/build_info's build.rs (a source of its cargo_build_script) is watched: without
 * being asked, the daemon re-queries, Bazel runs the script again, modelChanged comes, and the
 * next answer carries the cfg and variable the edited script prints. build.rs is restored. NULL
 * when so, else what went wrong (pm_malloc'd).
 */
static char *
daemon_reruns_build_script(struct pm_client *c, const char *root)
{
        char *build_rs = pm_test_strf("%s/lib/build_info/build.rs", root);
        char *old = pm_test_read_file(build_rs), *edited = NULL, *now = NULL, *what = NULL;
        const char *tail;
        cJSON *n;

        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        tail = old ? strrchr(old, '}') : NULL;
        if (!tail)
                return pm_test_strf("cannot read %s", build_rs);
        edited = pm_test_strf("%.*s    println!(\"cargo:rustc-cfg=build_info_edited\");\n"
                              "    println!(\"cargo:rustc-env=BUILD_INFO_EDITED=yes\");\n}\n",
                              (int)(tail - old), old);
        if (pm_test_write_file(build_rs, edited) != 0) {
                what = pm_test_strf("cannot write %s", build_rs);
                goto out;
        }
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cJSON_Delete(n);
        now = daemon_project(c, NULL);
        if (!strstr(now, "\"build_info_edited\"") || !strstr(now, "\"BUILD_INFO_EDITED\":\"yes\""))
                what = pm_test_strf("build.rs edited: the answer lacks its new cfg and env: %s",
                                    now);
out:
        (void)pm_test_write_file(build_rs, old);
        pm_free(build_rs);
        pm_free(old);
        pm_free(edited);
        pm_free(now);
        return what;
}

static char *
daemon_keeps_broken_build_file(const char *tmp, const char *root)
{
        struct pm_test_daemon d = { .pid = -1 };
        struct pm_client *c;
        char *build = pm_test_strf("%s/lib/config/BUILD.bazel", root);
        char *params = pm_test_strf("{\"buildfile\": \"%s\"}", build);
        char *want = pm_test_strf("%s:6:", build);
        char *dir = pm_test_strf("%s/daemon", tmp);
        char *old = NULL, *before, *now = NULL, *warnings = NULL, *what;

        pm_test_daemon_setup_at(&d, root, dir);
        pm_free(dir);
        c = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        before = daemon_project(c, NULL);
        what = break_config(build, &old);
        if (what)
                goto out;
        now = daemon_project(c, params);
        warnings = daemon_warnings(c);
        if (!strstr(now, "\"//lib/config:config\""))
                what = pm_test_strf("broken: rustProject lost //lib/config:config: %s", now);
        else if (!strstr(warnings, want) || !strstr(warnings, "kept the last good state of"))
                what = pm_test_strf("broken: want '%s' and the kept state in the status "
                                    "warnings: %s",
                                    want, warnings);
        pm_free(now);
        now = daemon_project(c, NULL);
        if (!what && strcmp(now, before) != 0)
                what = pm_test_strf("broken: the repository changed:\n%s\nwas:\n%s", now, before);
        if (pm_test_write_file(build, old) != 0 && !what)
                what = pm_test_strf("cannot write %s", build);
        pm_free(now);
        now = daemon_project(c, params);
        pm_free(now);
        pm_free(warnings);
        warnings = daemon_warnings(c);
        now = daemon_project(c, NULL);
        if (!what && *warnings)
                what = pm_test_strf("fixed: warnings left: %s", warnings);
        if (!what && strcmp(now, before) != 0)
                what = pm_test_strf("fixed: the repository changed:\n%s\nwas:\n%s", now, before);
        if (!what)
                what = daemon_reruns_build_script(c, root);
out:
        pm_client_free(c);
        pm_test_daemon_destroy(&d);
        pm_free(build);
        pm_free(params);
        pm_free(want);
        pm_free(old);
        pm_free(before);
        pm_free(now);
        pm_free(warnings);
        return what;
}

/* The "bazel.command" of the example: logs each argv (JSON, a line) to bazel-argv.log beside
 * itself, then execs the real bazel, so the test sees what reached Bazel. */
static const char bazel_logged[] = "#!/usr/bin/env python3\n"
                                   "import json, os, sys\n"
                                   "here = os.path.dirname(os.path.abspath(__file__))\n"
                                   "with open(os.path.join(here, 'bazel-argv.log'), 'a') as f:\n"
                                   "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
                                   "os.execvp('bazel', ['bazel'] + sys.argv[1:])\n";

/*
 * Run the runnable @kind of the exported project @json as rust-analyzer does (program and cwd
 * verbatim, every {label} and {test_id} replaced). Returns the exit status; *out and *err
 * pm_malloc'd.
 */
static int
runnable(const char *json, const char *kind, const char *label, const char *test_id, char **out,
         char **err)
{
        cJSON *p = cJSON_Parse(json), *r, *a;
        const cJSON *found = NULL;
        const char *argv[8];
        char *owned[8] = { NULL };
        size_t n = 0;
        int status;

        cr_assert_not_null(p);
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "runnables"))
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring, kind) == 0)
                        found = r;
        }
        cr_assert_not_null(found, "no %s runnable", kind);
        argv[n++] = cJSON_GetObjectItemCaseSensitive(found, "program")->valuestring;
        cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(found, "args"))
        {
                const char *v = a->valuestring, *ph = strstr(v, "{label}")     ? "{label}"
                                                      : strstr(v, "{test_id}") ? "{test_id}"
                                                                               : NULL;
                const char *p2 = ph ? strstr(v, ph) : NULL;

                cr_assert_lt(n, 7);
                owned[n] = p2 ? pm_test_strf("%.*s%s%s", (int)(p2 - v), v,
                                             strcmp(ph, "{label}") == 0 ? label : test_id,
                                             p2 + strlen(ph))
                              : pm_test_strf("%s", v);
                argv[n] = owned[n];
                n++;
        }
        argv[n] = NULL;
        status = pm_test_run(argv, cJSON_GetObjectItemCaseSensitive(found, "cwd")->valuestring,
                             NULL, NULL, out, err);
        for (size_t i = 0; i < n; i++)
                pm_free(owned[i]);
        cJSON_Delete(p);
        return status;
}

/* The last line of the argv log @log, pm_malloc'd ("" when none). */
static char *
last_argv(const char *log)
{
        char *text = pm_test_read_file(log), *last;
        size_t n = text ? strlen(text) : 0;

        while (n > 0 && text[n - 1] == '\n')
                text[--n] = '\0';
        last = text ? strrchr(text, '\n') : NULL;
        last = pm_test_strf("%s", last ? last + 1 : text ? text : "");
        pm_free(text);
        return last;
}

/* @argv (a logged argv, as last_argv() gives it) without its `"--build_event_json_file=..."`
 * element, which names a new file on each run; NULL when it has none. pm_malloc'd. */
static char *
without_events(const char *argv)
{
        const char *at = strstr(argv, ", \"--build_event_json_file=");
        const char *end = at ? strchr(at + 3, '"') : NULL;

        return end ? pm_test_strf("%.*s%s", (int)(at - argv), argv, end + 1) : NULL;
}

/*
 * `projmodel VERB` of @argv (after the command, from the label on; @argv[0] is the binary
 * when @verb is "run") with a type error added to @rel under @root: exit 1, nothing on stdout
 * and one stderr line "projmodel: cannot VERB 'LABEL': <bazel> exited with status 1: ERROR:
 * ...". NULL when so, else what went wrong (pm_malloc'd). @rel is restored.
 */
static char *
cannot_build(const char *root, const char *rel, const char *const *argv, const char *verb)
{
        char *file = pm_test_strf("%s/%s", root, rel), *old = pm_test_read_file(file);
        char *broken = pm_test_strf("%s\nfn broken() -> u32 { \"x\" }\n", old);
        const char *full[12] = { pm_test_projmodel(), verb };
        const char *const *label = strcmp(verb, "run") == 0 ? argv + 2 : argv;
        char *out = NULL, *err = NULL, *want, *what = NULL;
        size_t n = 2;
        int st = -1;

        for (const char *const *a = label; *a && n < 11; a++)
                full[n++] = *a;
        full[n] = NULL;
        want = pm_test_strf("projmodel: cannot %s '%s': bazel-logged exited with status 1: ERROR: ",
                            verb, label[0]);
        if (pm_test_write_file(file, broken) != 0)
                what = pm_test_strf("cannot write %s", file);
        else
                st = pm_test_run(full, root, NULL, NULL, &out, &err);
        (void)pm_test_write_file(file, old);
        if (!what && (st != 1 || strcmp(out, "") != 0 || strncmp(err, want, strlen(want)) != 0 ||
                      strchr(err, '\n') != err + strlen(err) - 1))
                what = pm_test_strf("%s with a type error in %s: exit %d (want 1), stdout '%s', "
                                    "stderr (want one line '%s...'): %s",
                                    verb, rel, st, out, want, err);
        pm_free(want);
        pm_free(out);
        pm_free(err);
        pm_free(broken);
        pm_free(old);
        pm_free(file);
        return what;
}

/*
 * The run and testOne runnables of the exported example @json (root @root, output base @ob,
 * bazel through bazel_logged, which logs to @log) on the warm output base: `bazel run` prints
 * the binary's output and passes its exit status on (2 for --workers 0); `bazel test` of the
 * engine's folded rust_test runs exactly the one test and not the other in the same binary; a
 * failing test of the integration crate exits 101 as the test binary does (Bazel's "tests
 * failed" 3 made the test's own status); a library with
 * no test target is one line and exit 1. NULL when all holds, else what went wrong
 * (pm_malloc'd): the caller asserts after shutting Bazel down.
 */
static char *
runnables_reach_bazel(const char *json, const char *root, const char *ob, const char *log)
{
        char *lib_rs = pm_test_strf("%s/tests/integration/lib.rs", root);
        char *old = pm_test_read_file(lib_rs), *failing = NULL;
        char *out = NULL, *err = NULL, *argv = NULL, *want = NULL, *what = NULL;
        const char *bad_run[] = {
                pm_test_projmodel(), "run", "//app/server:server", "--", "--workers", "0", NULL
        };
        const char *no_tests[] = { pm_test_projmodel(), "test", "//lib/config:config", "x", NULL };
        char *results_path = pm_test_strf("%s/../results.jsonl", root);
        const char *with_results[] = { pm_test_projmodel(),
                                       "test",
                                       "--results",
                                       results_path,
                                       "//tests/integration:integration",
                                       "fails",
                                       NULL };
        char *bare = NULL, *results = NULL;
        int st;

        st = runnable(json, "run", "//app/server:server", NULL, &out, &err);
        argv = last_argv(log);
        want = pm_test_strf("[\"--output_base=%s\", \"run\", \"--color=no\", \"--curses=no\", "
                            "\"--experimental_convenience_symlinks=ignore\", \"--script_path=",
                            ob);
        if (st != 0 || !strstr(out, "Engine v3 (fast): job 'hello' -> worker "))
                what = pm_test_strf("run: exit %d, stdout '%s', stderr: %s", st, out, err);
        else if (strncmp(argv, want, strlen(want)) != 0 ||
                 !strstr(argv, ".sh\", \"//app/server:server\"]"))
                what = pm_test_strf("run reached bazel as %s, want %s...sh //app/server:server",
                                    argv, want);
        if (what)
                goto out;
        pm_free(out);
        pm_free(err);
        st = pm_test_run(bad_run, root, NULL, NULL, &out, &err);
        /* Only the binary's stderr: Bazel's progress went with the build step. */
        if (st != 2 || strcmp(out, "") != 0 ||
            strcmp(err, "server: --workers must be at least 1\n") != 0) {
                what = pm_test_strf("run -- --workers 0: exit %d (want the binary's 2), stdout "
                                    "'%s', stderr: %s",
                                    st, out, err);
                goto out;
        }
        pm_free(out);
        pm_free(err);
        pm_free(argv);
        pm_free(want);
        /* The library's label: its unit tests are the folded rust_test's. */
        st = runnable(json, "testOne", "//lib/engine:engine", "tests::same_job_same_worker", &out,
                      &err);
        argv = last_argv(log);
        want = pm_test_strf("[\"--output_base=%s\", \"test\", \"--color=no\", \"--curses=no\", "
                            "\"--experimental_convenience_symlinks=ignore\", "
                            "\"--test_output=streamed\", \"--nocache_test_results\", "
                            "\"--test_arg=tests::same_job_same_worker\", \"--test_arg=--exact\", "
                            "\"--\", \"//lib/engine:engine_test\"]",
                            ob);
        if (st != 0 || !strstr(out, "\ntest tests::same_job_same_worker ... ok\n") ||
            !strstr(out, " 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out") ||
            strstr(out, "describes_itself"))
                what = pm_test_strf("testOne engine: exit %d, stdout: %s\nstderr: %s", st, out,
                                    err);
        else if (!(bare = without_events(argv)) || strcmp(bare, want) != 0)
                what = pm_test_strf("testOne reached bazel as %s, want %s with a build event file",
                                    argv, want);
        if (what)
                goto out;
        pm_free(out);
        pm_free(err);
        /* A test crate of its own, with a failing test added beside the passing one. */
        failing = pm_test_strf("%s\n#[test]\nfn fails() {\n    assert_eq!(1, 2);\n}\n", old);
        if (pm_test_write_file(lib_rs, failing) != 0) {
                what = pm_test_strf("cannot write %s", lib_rs);
                out = err = NULL;
                goto out;
        }
        st = runnable(json, "testOne", "//tests/integration:integration", "fails", &out, &err);
        if (st != 101 || !strstr(out, "\ntest fails ... FAILED\n") ||
            strstr(out, "engine_describes_itself")) {
                (void)pm_test_write_file(lib_rs, old);
                what = pm_test_strf("testOne of a failing test: exit %d (want the test's 101), "
                                    "stdout: %s\nstderr: %s",
                                    st, out, err);
                goto out;
        }
        pm_free(out);
        pm_free(err);
        /* Its per-test results: the #[test] by name, from libtest's lines in the test.log Bazel
         * wrote (its test.xml has one case for the target; docs/cli.md, test --results). The
         * message is the panic, whose thread id varies. */
        st = pm_test_run(with_results, root, NULL, NULL, &out, &err);
        (void)pm_test_write_file(lib_rs, old);
        pm_free(results);
        results = pm_test_read_file(results_path);
        if (st != 101 || !results ||
            strncmp(results,
                    "{\"type\":\"test\",\"target\":\"//tests/integration:integration\","
                    "\"suite\":\"\",\"name\":\"fails\",\"event\":\"failed\",\"message\":"
                    "\"thread 'fails' ",
                    strlen("{\"type\":\"test\",\"target\":\"//tests/integration:integration\","
                           "\"suite\":\"\",\"name\":\"fails\",\"event\":\"failed\",\"message\":"
                           "\"thread 'fails' ")) != 0 ||
            !strstr(results, "panicked at tests/integration/lib.rs:") ||
            strchr(results, '\n') != results + strlen(results) - 1) {
                what = pm_test_strf("test --results of a failing test: exit %d, results: %s\n"
                                    "stderr: %s",
                                    st, results ? results : "(none)", err);
                goto out;
        }
        pm_free(out);
        pm_free(err);
        /* Bazel could not build: exit 1 and one line naming the crate and bazel's ERROR line,
         * never bazel's 1 passed on with its output as if the program had exited 1. */
        what = cannot_build(root, "tests/integration/lib.rs", with_results + 4, "test");
        if (!what)
                what = cannot_build(root, "app/server/src/main.rs", bad_run, "run");
        if (what) {
                out = err = NULL;
                goto out;
        }
        st = pm_test_run(no_tests, root, NULL, NULL, &out, &err);
        if (st != 1 || strcmp(err, "projmodel: '//lib/config:config' is a lib with no test "
                                   "target: no test of the model compiles it (bazel: a "
                                   "rust_test with crate = \"//lib/config:config\")\n") != 0)
                what = pm_test_strf("test of a library without tests: exit %d, stderr: %s", st,
                                    err);
out:
        pm_free(out);
        pm_free(err);
        pm_free(argv);
        pm_free(want);
        pm_free(failing);
        pm_free(old);
        pm_free(lib_rs);
        pm_free(bare);
        pm_free(results);
        pm_free(results_path);
        return what;
}

/* The example's proc macro as the export at @out serves it: asserts the crate is there and is a
 * proc macro; returns its proc_macro_dylib_path (pm_malloc'd) or NULL when it has none. */
static char *
served_derive_dylib(const char *out)
{
        char *text = pm_test_read_file(out), *dylib = NULL;
        cJSON *p = text ? cJSON_Parse(text) : NULL, *c;
        bool found = false;

        cr_assert_not_null(p, "%s", text ? text : out);
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "display_name");
                const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "proc_macro_dylib_path");

                if (!cJSON_IsString(n) || strcmp(n->valuestring, "describe_derive") != 0)
                        continue;
                cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "is_proc_macro")));
                found = true;
                dylib = cJSON_IsString(d) ? pm_test_strf("%s", d->valuestring) : NULL;
        }
        cr_assert(found, "no describe_derive crate: %s", text);
        cr_assert(strstr(text, "\"//lib/engine:engine\""), "the rest is served: %s", text);
        cJSON_Delete(p);
        pm_free(text);
        return dylib;
}

/* The input stamp the model @db keeps for @source ("bazel:." for the root project, "bazel:bz"
 * for the subproject bz; pm_malloc'd), or NULL. */
static char *
bazel_stamp(const char *db, const char *source)
{
        struct pm_index *idx = NULL;
        struct pm_error err;
        char *stamp = NULL;

        pm_error_init(&err);
        cr_assert_eq(pm_index_open(db, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_source_stamp(idx, source, &stamp, &err), 0, "%s", err.msg);
        pm_index_close(idx);
        return stamp;
}

/* How many `bazel build` runs the logging wrapper's @log holds. */
static int
builds_logged(const char *log)
{
        char *text = pm_test_read_file(log);
        int n = 0;

        for (const char *p = text; p && (p = strstr(p, "\"build\"")); p++)
                n++;
        pm_free(text);
        return n;
}

/*
 * `projmodel export` (@argv, in @cwd) of the bundled example at @root with build_proc_macros on,
 * whose last export built and served @built: the next export keeps an input stamp (the dylib it
 * covers is older than its parse now), the one after skips the parse and the build, and an
 * edit of the proc macro's source makes the next one build it again and serve a new copy.
 * NULL when all holds, else what went wrong (pm_malloc'd).
 */
static char *
skip_then_rebuild(const char *const *argv, const char *cwd, const char *root, const char *db,
                  const char *out, const char *log, const char *built)
{
        char *src = pm_test_strf("%s/lib/describe_derive/lib.rs", root);
        char *errout = NULL, *why = NULL, *stamp = NULL, *dylib = NULL;
        int n_builds = 0;

        for (int i = 0; i < 3 && !why; i++) {
                n_builds = builds_logged(log);
                if (i == 2)
                        pm_test_edit_file(src, "\\\"{0}\\\"", "\\\"{0}!\\\"");
                pm_free(errout);
                errout = NULL;
                if (pm_test_run(argv, cwd, NULL, NULL, NULL, &errout) != 0) {
                        why = pm_test_strf("export %d: %s", i + 1, errout);
                        break;
                }
                pm_free(dylib);
                dylib = served_derive_dylib(out);
                if (i == 0 && !(stamp = bazel_stamp(db, "bazel:bz")))
                        why = pm_test_strf("no input stamp after a build with nothing to do");
                else if (i == 1 && builds_logged(log) != n_builds)
                        why = pm_test_strf("bazel build ran for an unchanged export");
                else if (i < 2 && (!dylib || strcmp(dylib, built) != 0))
                        why = pm_test_strf("export %d served '%s', not '%s'", i + 1, dylib, built);
                else if (i == 2 && builds_logged(log) != n_builds + 1)
                        why = pm_test_strf("%d bazel builds after the edit of %s",
                                           builds_logged(log) - n_builds, src);
                else if (i == 2 && (!dylib || strcmp(dylib, built) == 0))
                        why = pm_test_strf("served '%s' after the proc macro changed", dylib);
        }
        pm_free(dylib);
        pm_free(stamp);
        pm_free(errout);
        pm_free(src);
        return why;
}

/*
 * `"build_proc_macros": false` in the bazel section of a subproject (the bundled example under a
 * Cargo root whose own section says the same): export serves the proc macro without
 * proc_macro_dylib_path, and no `bazel build` reached Bazel (bazel_logged logs every argv) nor
 * wrote the dylib in the output base; with nothing to build, the model keeps an input stamp
 * for the subproject. Switched on, the next export builds and serves it; an unchanged export
 * after that skips the parse and the build, and an edit of the proc macro's source builds it
 * again (skip_then_rebuild()). The pattern is the engine's crates, which hold the proc macro
 * and no build script: a graph with an OUT_DIR to build never skips its build.
 */
Test(bazel_query, build_proc_macros_false_in_a_subproject_runs_no_bazel_build)
{
        char *src = pm_test_strf("%s/examples/bazel-monorepo", pm_test_source_root());
        char *mono = pm_test_strf("%s/mono", ws.tmp);
        char *root = pm_test_strf("%s/mono/bz", ws.tmp);
        char *ob = pm_test_strf("%s/bz-ob", ws.tmp);
        char *wrapper = pm_test_strf("%s/bazel-logged", ws.tmp);
        char *log = pm_test_strf("%s/bazel-argv.log", ws.tmp);
        char *cfgpath = pm_test_strf("%s/.projmodel.json", mono);
        char *db = pm_test_strf("%s/model.db", ws.tmp);
        char *out = pm_test_strf("%s/rust-project.json", ws.tmp);
        char *shutdown_ob = pm_test_strf("--output_base=%s", ob);
        const char *argv[] = { pm_test_projmodel(), "export", "--root", mono, "--db", db,
                               "--output",          out,      NULL };
        const char *find[] = { "find", ob, "-name", "libdescribe_derive.so", NULL };
        const char *shutdown[] = { "bazel", shutdown_ob, "shutdown", NULL };
        char *errout = NULL, *logged = NULL, *found = NULL, *off = NULL, *on = NULL, *json[2];
        char *stamp[2] = { NULL, NULL }, *skipped = NULL;
        int status;

        cr_assert_eq(mkdir(mono, 0755), 0);
        cr_assert_eq(pm_test_copy_tree(src, root), 0);
        /* The subproject's settings come from the monorepo's file, not one of its own. */
        json[0] = pm_test_strf("%s/.projmodel.json", root);
        cr_assert_eq(unlink(json[0]), 0);
        pm_free(json[0]);
        cr_assert_eq(pm_test_write_file(wrapper, bazel_logged), 0);
        cr_assert_eq(chmod(wrapper, 0755), 0);
        json[0] = pm_test_strf("%s/Cargo.toml", mono);
        cr_assert_eq(pm_test_write_file(json[0], "[package]\nname = \"mono\"\nversion = "
                                                 "\"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n"),
                     0);
        pm_free(json[0]);
        json[0] = pm_test_strf("%s/src/lib.rs", mono);
        cr_assert_eq(pm_test_write_file(json[0], "pub fn mono() {}\n"), 0);
        pm_free(json[0]);
        for (int i = 0; i < 2; i++)
                json[i] = pm_test_strf(
                        "{\"build_system\": \"cargo\", \"cache_dir\": \"%s/cache\", "
                        "\"cargo\": {\"build_proc_macros\": false}, \"subprojects\": [{\"root\": "
                        "\"bz\", \"build_system\": \"bazel\", \"bazel\": {\"output_base\": "
                        "\"%s\", \"command\": \"%s\", \"default_edition\": \"2021\", "
                        "\"pattern\": \"//lib/engine/...\", \"build_proc_macros\": %s}}]}\n",
                        ws.tmp, ob, wrapper, i == 0 ? "false" : "true");
        cr_assert_eq(pm_test_write_file(cfgpath, json[0]), 0);
        status = pm_test_run(argv, mono, NULL, NULL, NULL, &errout);
        if (status == 0) {
                stamp[0] = bazel_stamp(db, "bazel:bz");
                off = served_derive_dylib(out);
                logged = pm_test_read_file(log);
                (void)pm_test_run(find, mono, NULL, NULL, &found, NULL);
                /* Switched on: the next export builds it (and the test's wrapper sees it). */
                cr_assert_eq(pm_test_write_file(cfgpath, json[1]), 0);
                pm_free(errout);
                errout = NULL;
                status = pm_test_run(argv, mono, NULL, NULL, NULL, &errout);
                if (status == 0) {
                        on = served_derive_dylib(out);
                        stamp[1] = bazel_stamp(db, "bazel:bz");
                        if (on)
                                skipped = skip_then_rebuild(argv, mono, root, db, out, log, on);
                }
        }
        (void)pm_test_run(shutdown, root, NULL, NULL, NULL, NULL);
        cr_assert_eq(status, 0, "projmodel export: %s", errout);
        cr_assert_null(off, "served '%s' with build_proc_macros false", off);
        cr_assert_not_null(logged, "bazel never ran");
        cr_assert(strstr(logged, "\"cquery\"") || strstr(logged, "\"query\""), "%s", logged);
        cr_assert_null(strstr(logged, "\"build\""), "bazel build ran: %s", logged);
        cr_assert_str_eq(found ? found : "", "", "the dylib was built");
        cr_assert_not_null(on, "no dylib with build_proc_macros true");
        /* Nothing to build, the parse read nothing but the query output and the directories it
         * looked at for links: the next unchanged export skips it (parse-apply.c). With the
         * build on, the stamp also covers the proc macro's sources and its dylib, which the
         * build just wrote: trusted only by the next export (skip_then_rebuild()). */
        cr_assert_not_null(stamp[0], "no input stamp without anything to build");
        cr_assert_null(stamp[1],
                       "an input stamp for a graph whose dylib was built after its parse");
        cr_assert_null(skipped, "%s", skipped);
        pm_free(stamp[0]);
        pm_free(skipped);
        pm_free(logged);
        logged = pm_test_read_file(log);
        cr_assert(strstr(logged, "\"build\""), "%s", logged);
        pm_free(json[0]);
        pm_free(json[1]);
        pm_free(on);
        pm_free(found);
        pm_free(logged);
        pm_free(errout);
        pm_free(shutdown_ob);
        pm_free(out);
        pm_free(db);
        pm_free(cfgpath);
        pm_free(log);
        pm_free(wrapper);
        pm_free(ob);
        pm_free(root);
        pm_free(mono);
        pm_free(src);
}

/* The convenience symlinks a `bazel build` makes in the example's root @root, "NAME -> TARGET"
 * a line (pm_malloc'd). */
static char *
user_links(const char *root)
{
        static const char *const names[] = { "bazel-bin", "bazel-out", "bazel-testlogs",
                                             "bazel-example" };
        char *text = pm_test_strf("%s", ""), *more;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char *link = pm_test_strf("%s/%s", root, names[i]), target[4096];
                ssize_t n = readlink(link, target, sizeof(target) - 1);

                target[n > 0 ? n : 0] = '\0';
                more = pm_test_strf("%s%s -> %s\n", text, names[i], target);
                pm_free(text);
                pm_free(link);
                text = more;
        }
        return text;
}

/* The bundled example end to end: `projmodel export` runs bazel through the real runner, builds
 * the proc macro and the cargo_build_script with `bazel build` on the query's output base, names
 * the copy of the dylib in the cache and the build script's out_dir as OUT_DIR; the result
 * passes the strict validator and a rustc type-check of every crate loading exactly that dylib
 * (lib/build_info include!s a file its build script wrote). Its flycheck runnable (`projmodel
 * check` through `bazel build` with the stand-in's rules_rust settings, on the same output base)
 * reports nothing on a clean crate and a type error at its file and line; its run and testOne
 * runnables reach `bazel run` and `bazel test` with the expected argv (runnables_reach_bazel();
 * bazel is the logging wrapper bazel_logged). A broken BUILD file is a warning and keeps the
 * last good state, in export (broken_build_file_warns()) and in the daemon
 * (daemon_keeps_broken_build_file()). Then the proc macro and the build script are broken: the
 * proc macro is served without a dylib and the crate without OUT_DIR, each with a note naming
 * the target and rustc's first error line, and the rest is served. */
Test(bazel_query, example_exports_a_valid_project)
{
        char *src = pm_test_strf("%s/examples/bazel-monorepo", pm_test_source_root());
        char *root = pm_test_strf("%s/example", ws.tmp);
        char *ob = pm_test_strf("%s/example-ob", ws.tmp);
        char *cache = pm_test_strf("%s/cache", ws.tmp);
        char *cfgpath = pm_test_strf("%s/.projmodel.json", root);
        char *wrapper = pm_test_strf("%s/bazel-logged", ws.tmp);
        char *log = pm_test_strf("%s/bazel-argv.log", ws.tmp);
        char *json = pm_test_strf("{\"build_system\": \"bazel\", \"cache_dir\": \"%s\", "
                                  "\"bazel\": {\"output_base\": \"%s\", \"command\": \"%s\", "
                                  "\"rules_rust_settings\": \"//rust/settings\"}}\n",
                                  cache, ob, wrapper);
        char *db2 = pm_test_strf("%s/model2.db", ws.tmp);
        char *out = pm_test_strf("%s/rust-project.json", ws.tmp);
        char *macro = pm_test_strf("%s/lib/describe_derive/lib.rs", root);
        char *cached = pm_test_strf("\"proc_macro_dylib_path\":\"%s/dylibs/", cache);
        char *shutdown_ob = pm_test_strf("--output_base=%s", ob);
        char *config_rs = pm_test_strf("%s/lib/config/src/lib.rs", root);
        char *build_rs = pm_test_strf("%s/lib/build_info/build.rs", root);
        /* rules_rust's out_dir of the stand-in cargo_build_script, in the query's output base. */
        char *out_dir = pm_test_strf("\"OUT_DIR\":\"%s/execroot/bazel_monorepo/bazel-out/", ob);
        char *bi_dir =
                pm_test_strf("\"BUILD_INFO_DIR\":\"%s/execroot/bazel_monorepo/bazel-out/", ob);
        /* The default model (in cache_dir): the one the flycheck runnable finds. */
        const char *argv[] = {
                pm_test_projmodel(), "export", "--root", root, "--output", out, NULL
        };
        const char *argv2[] = { pm_test_projmodel(), "export", "--root", root, "--db", db2,
                                "--output",          out,      NULL };
        const char *dump[] = { pm_test_projmodel(),
                               "dump",
                               "--root",
                               root,
                               "--db",
                               db2,
                               "--no-refresh",
                               "//lib/describe_derive:describe_derive",
                               NULL };
        const char *dump_bs[] = {
                pm_test_projmodel(),           "dump", "--root", root, "--db", db2, "--no-refresh",
                "//lib/build_info:build_info", NULL
        };
        const char *shutdown[] = { "bazel", shutdown_ob, "shutdown", NULL };
        char *user_ob = pm_test_strf("--output_base=%s/user-ob", ws.tmp);
        const char *user_build[] = { "bazel", user_ob, "build", "//lib/config:config", NULL };
        const char *user_shutdown[] = { "bazel", user_ob, "shutdown", NULL };
        char *errout = NULL, *text, *report = NULL, *dumped = NULL, *old, *left, *warned = NULL;
        char *ran = NULL, *links = NULL, *links_after = NULL;
        char *dumped_bs = NULL;
        int status;

        cr_assert_eq(pm_test_copy_tree(src, root), 0);
        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        cr_assert_eq(pm_test_write_file(wrapper, bazel_logged), 0);
        cr_assert_eq(chmod(wrapper, 0755), 0);
        /* The user's own build made the convenience symlinks, into the user's output base. */
        status = pm_test_run(user_build, root, NULL, NULL, NULL, &errout);
        cr_assert_eq(status, 0, "the user's bazel build: %s", errout);
        pm_free(errout);
        errout = NULL;
        links = user_links(root);
        cr_assert(strstr(links, "bazel-bin -> ") && strstr(links, "/user-ob/execroot/"), "%s",
                  links);
        status = pm_test_run(argv, root, NULL, NULL, NULL, &errout);
        if (status == 0) {
                int line;

                text = pm_test_read_file(out);
                cr_assert_not_null(text);
                cr_assert_eq(flycheck(text, "//lib/config:config", config_rs, 0), 0);
                old = pm_test_read_file(config_rs);
                cr_assert_not_null(old);
                report = pm_test_strf("%s\npub fn broken() -> u32 { \"x\" }\n", old);
                cr_assert_eq(pm_test_write_file(config_rs, report), 0);
                line = 0;
                for (const char *c = report; *c; c++)
                        line += *c == '\n';
                cr_assert_eq(flycheck(text, "//lib/config:config", config_rs, line), 1,
                             "a type error at %s:%d", config_rs, line);
                cr_assert_eq(pm_test_write_file(config_rs, old), 0);
                ran = runnables_reach_bazel(text, root, ob, log);
                /* Export's proc-macro build, check, run and test left them as they were. */
                links_after = user_links(root);
                pm_free(report);
                report = NULL;
                pm_free(old);
                /* A broken BUILD file keeps the last good state, in export and in the daemon. */
                warned = broken_build_file_warns(root, argv, out, text, ws.tmp);
                if (!warned)
                        warned = daemon_keeps_broken_build_file(ws.tmp, root);
                pm_free(text);
                /* Broken on the same warm output base: only the proc macro and the build script
                 * are rebuilt. */
                old = pm_test_read_file(build_rs);
                cr_assert_not_null(old);
                text = pm_test_strf("%s\nfn broken() -> u32 { \"x\" }\n", old);
                cr_assert_eq(pm_test_write_file(build_rs, text), 0);
                pm_free(text);
                pm_free(old);
                old = pm_test_read_file(macro);
                cr_assert_not_null(old);
                text = pm_test_strf("%s\nfn broken() -> u32 { \"x\" }\n", old);
                cr_assert_eq(pm_test_write_file(macro, text), 0);
                pm_free(text);
                pm_free(old);
                text = pm_test_read_file(out);
                cr_assert_not_null(text);
                cr_assert(strstr(text, "\"//lib/engine:engine\""), "the engine crate is exported");
                cr_assert(strstr(text, "/external/vendored_fnv/lib.rs"),
                          "the vendored crate is exported");
                cr_assert(strstr(text, cached), "the dylib is served from the cache: %s", text);
                /* The build script's out_dir as Bazel's build events name it; the type-check
                 * below include!s build_info.rs from it. */
                cr_assert(strstr(text, out_dir), "OUT_DIR is the built out_dir: %s", text);
                /* The script's cargo:rustc-cfg and cargo:rustc-env, from rules_rust's
                 * build_info_bs.flags and .env beside it: build_info's compile_error! and env!
                 * below need them. */
                cr_assert(strstr(text, "\"build_info_generated\""), "%s", text);
                cr_assert(strstr(text, "\"build_info_profile=\\\"example\\\"\""), "%s", text);
                cr_assert(strstr(text, "\"BUILD_INFO_GREETING\":\"hello from build.rs\""), "%s",
                          text);
                cr_assert(strstr(text, bi_dir), "${out_dir} made the out_dir: %s", text);
                cr_assert_eq(pm_test_validate_project(text, strlen(text), &report), 0, "%s",
                             report);
                cr_assert_eq(pm_test_rustc_check_project_loading_dylibs(text, ws.tmp, &report), 0,
                             "%s", report);
                pm_free(text);
                pm_free(errout);
                errout = NULL;
                status = pm_test_run(argv2, root, NULL, NULL, NULL, &errout);
                cr_assert_eq(status, 0, "export with a broken proc macro: %s", errout);
                /* A build script's data is not in the graph: its build is never skipped. */
                text = bazel_stamp(db2, "bazel:.");
                cr_assert_null(text, "an input stamp with an OUT_DIR to build: %s", text);
                status = pm_test_run(dump, root, NULL, NULL, &dumped, NULL);
                if (status == 0)
                        status = pm_test_run(dump_bs, root, NULL, NULL, &dumped_bs, NULL);
        }
        (void)pm_test_run(shutdown, root, NULL, NULL, NULL, NULL);
        (void)pm_test_run(user_shutdown, root, NULL, NULL, NULL, NULL);
        cr_assert_eq(status, 0, "projmodel export/dump: %s", errout);
        cr_assert_null(ran, "%s", ran);
        cr_assert_str_eq(links_after ? links_after : "", links,
                         "projmodel moved the user's convenience symlinks");
        cr_assert_null(warned, "%s", warned);
        text = pm_test_read_file(out);
        cr_assert_not_null(text);
        cr_assert_null(strstr(text, "proc_macro_dylib_path"), "the broken proc macro has no dylib");
        cr_assert(strstr(text, "\"//lib/engine:engine\""), "the rest is served");
        cr_assert(strstr(dumped, "proc macro //lib/describe_derive:describe_derive not built: "
                                 "error[E0308]: mismatched types"),
                  "the note names the target and rustc's first error: %s", dumped);
        cr_assert(strstr(dumped_bs, "note: OUT_DIR not built: //lib/build_info:build_info_bs "
                                    "failed: error[E0308]: mismatched types"),
                  "the note names the build script and rustc's first error: %s", dumped_bs);
        /* Each build's event file was removed once read, the failed build's too. */
        left = pm_test_find_prefix(cache, "bazel-build-events-");
        cr_assert_null(left, "%s/%s left behind", cache, left);
        left = pm_test_find_prefix(cache, "bazel-check-events-");
        cr_assert_null(left, "%s/%s left behind by the checks", cache, left);
        pm_free(report);
        pm_free(text);
        pm_free(dumped);
        pm_free(dumped_bs);
        pm_free(errout);
        pm_free(src);
        pm_free(root);
        pm_free(ob);
        pm_free(cache);
        pm_free(cfgpath);
        pm_free(json);
        pm_free(db2);
        pm_free(out);
        pm_free(macro);
        pm_free(cached);
        pm_free(shutdown_ob);
        pm_free(config_rs);
        pm_free(wrapper);
        pm_free(log);
        pm_free(build_rs);
        pm_free(out_dir);
        pm_free(bi_dir);
        pm_free(links);
        pm_free(links_after);
        pm_free(user_ob);
}
