/* SPDX-License-Identifier: MIT */
/* Buck2 proc macros built by `projmodel export` through the stand-in buck2 (buck2-stand-in.h):
 * the argv projmodel runs, the cached dylib the JSON names, a failed build served as a note, and
 * `build_proc_macros: false` running no build; and which non-zero exits of `buck2 targets
 * --keep-going` still give a model. */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "buck2-stand-in.h"
#include "cli-test.h"
#include "testlib.h"

#define GEN_LABEL "root//lib/bar:gen-consts"

static struct cli_fx fx;

static void
setup(void)
{
        cli_fx_init(&fx, false);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

/* The --build-report=FILE argument of the @i-th (from 0) build in the argv log, or NULL. */
static char *
report_arg(const char *log, int i)
{
        const char *p = log;

        for (; (p = strstr(p, "\"--build-report=")) != NULL; p++)
                if (i-- == 0)
                        return pm_test_strf("%.*s", (int)strcspn(p + 1, "\""), p + 1);
        return NULL;
}

TestSuite(cli_buck2_build, .init = setup, .fini = teardown);

Test(cli_buck2_build, builds_exactly_the_proc_macros_and_serves_the_cached_dylib)
{
        char *repo = cli_b2_make_repo(&fx, ""), *log, *expect, *bytes;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *p = cli_b2_export_ok(&fx, repo), *argv;
        struct cli_run r;
        const cJSON *dylib;
        const char *line;

        /* One build, of exactly the fixture's genrule (bar-core's mapped_srcs) and the proc macro,
         * with the report in projmodel's cache. */
        log = cli_b2_read_log(&fx);
        line = strstr(log, "\"build\"");
        cr_assert(line, "%s", log);
        cr_assert_null(strstr(line + 1, "\"build\""), "more than one build: %s", log);
        while (line > log && line[-1] != '\n')
                line--;
        argv = cJSON_Parse(line);
        cr_assert(argv && cJSON_GetArraySize(argv) == 8, "%s", line);
        expect = pm_test_strf("--build-report=%s/", fx.cache);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 0)->valuestring, "--isolation-dir");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 1)->valuestring, ".projmodel");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 2)->valuestring, "build");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 3)->valuestring, "--keep-going");
        cr_assert(strncmp(cJSON_GetArrayItem(argv, 4)->valuestring, expect, strlen(expect)) == 0,
                  "%s", cJSON_GetArrayItem(argv, 4)->valuestring);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 5)->valuestring, "--show-full-json-output");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 6)->valuestring, GEN_LABEL);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 7)->valuestring, CLI_B2_LABEL);
        /* Read, then removed: a name per run, so no other run can overwrite it meanwhile. */
        cli_b2_assert_no_report_left(&fx);

        /* The JSON names the cache's copy of the dylib the report named, not buck-out's. */
        dylib = cJSON_GetObjectItemCaseSensitive(cli_b2_crate_of(p, repo, "macros/src/lib.rs"),
                                                 "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib));
        pm_free(expect);
        expect = pm_test_strf("%s/", fx.cache);
        cr_assert(strncmp(dylib->valuestring, expect, strlen(expect)) == 0, "%s",
                  dylib->valuestring);
        bytes = pm_test_read_file(dylib->valuestring);
        cr_assert(bytes, "%s missing", dylib->valuestring);
        cr_assert_str_eq(bytes, CLI_B2_DYLIB_BYTES "\n");
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "lib/foo/src/lib.rs"), "proc_macro_dylib_path"));
        /* And the parse's "not built" note is gone. */
        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built"), "%s", r.out);
        cli_run_release(&r);
        pm_free(bytes);
        pm_free(expect);
        cJSON_Delete(argv);
        cJSON_Delete(p);
        pm_free(log);
        pm_free(repo);
}

Test(cli_buck2_build, a_failed_build_is_a_note_and_the_rest_is_served)
{
        char *repo = cli_b2_make_repo(&fx, ""), *fail = pm_test_strf("%s/FAIL", repo), *good_text,
             *bad_text;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *good = cli_b2_export_ok(&fx, repo), *bad;
        cJSON *c;
        struct cli_run r;
        char *log, *first, *second;

        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        bad = cli_b2_export_ok(&fx, repo);
        /* A report written by a failed build (exit 3) is removed too, and each run had its own. */
        cli_b2_assert_no_report_left(&fx);
        log = cli_b2_read_log(&fx);
        first = report_arg(log, 0);
        second = report_arg(log, 1);
        cr_assert(first && second, "%s", log);
        cr_assert_str_neq(first, second);
        pm_free(first);
        pm_free(second);
        pm_free(log);
        c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(bad, "crates"), 0);
        cr_assert(c);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(bad, repo, "macros/src/lib.rs"), "proc_macro_dylib_path"));
        /* Everything else is as before: drop the dylib from the good answer and compare. */
        cJSON_DeleteItemFromObjectCaseSensitive(
                (cJSON *)cli_b2_crate_of(good, repo, "macros/src/lib.rs"), "proc_macro_dylib_path");
        good_text = cJSON_PrintUnformatted(good);
        bad_text = cJSON_PrintUnformatted(bad);
        cr_assert_str_eq(bad_text, good_text);

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built by projmodel"), "%s", r.out);
        cr_assert(strstr(r.out,
                         "proc macro " CLI_B2_LABEL " not built: Action failed: " CLI_B2_LABEL
                         " (prelude//platforms:default#524f8da68ea2a374) (rustc)\n"),
                  "%s", r.out);
        cli_run_release(&r);
        cJSON_free(good_text);
        cJSON_free(bad_text);
        cJSON_Delete(good);
        cJSON_Delete(bad);
        pm_free(fail);
        pm_free(repo);
}

Test(cli_buck2_build, build_proc_macros_false_runs_no_build)
{
        char *repo = cli_b2_make_repo(&fx, ", \"build_proc_macros\": false"), *log;
        cJSON *p = cli_b2_export_ok(&fx, repo);

        log = cli_b2_read_log(&fx);
        cr_assert_null(strstr(log, "\"build\""), "%s", log);
        cr_assert(strstr(log, "\"targets\""), "%s", log);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path"));
        cJSON_Delete(p);
        pm_free(log);
        pm_free(repo);
}

/* Through the daemon (server/update-worker.c): discover of the proc macro's root
 * module serves the cached dylib the build report named. */
Test(cli_buck2_build, the_daemon_builds_and_serves_the_dylib_too)
{
        char *repo = cli_b2_make_repo(&fx, ""), *run = pm_test_strf("%s/run", fx.tmp);
        char *run_env = pm_test_strf("XDG_RUNTIME_DIR=%s", run);
        char *file = pm_test_strf("{\"path\":\"%s/macros/src/lib.rs\"}", repo), *log, *expect, *at;
        const char *env[] = { run_env, NULL };
        const char *argv[] = { "discover", file, NULL };
        const char *stop[] = { "stop", "--root", repo, NULL };
        struct cli_run r, s;

        cr_assert_eq(mkdir(run, 0700), 0);
        cli_fx_run(&fx, repo, env, argv, &r);
        cli_fx_run(&fx, repo, env, stop, &s);
        cli_run_release(&s);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "asking the projmodel daemon"), "%s", r.out);
        expect = pm_test_strf("\"proc_macro_dylib_path\":\"%s/", fx.cache);
        at = strstr(r.out, expect);
        cr_assert(at, "%s", r.out);
        log = cli_b2_read_log(&fx);
        cr_assert(strstr(log,
                         "\"--show-full-json-output\", \"" GEN_LABEL "\", \"" CLI_B2_LABEL "\"]"),
                  "%s", log);
        cli_b2_assert_no_report_left(&fx);
        cli_run_release(&r);
        pm_free(expect);
        pm_free(log);
        pm_free(file);
        pm_free(run_env);
        pm_free(run);
        pm_free(repo);
}

/* One-shot discover (PROJMODEL_NO_DAEMON): the build step (server/build.c) reports building and
 * built through the refresh's progress, as protocol lines before the finished one. */
Test(cli_buck2_build, discover_reports_the_build_in_progress_lines)
{
        char *repo = cli_b2_make_repo(&fx, ""), *db = pm_test_strf("%s/b2.db", fx.tmp);
        char *file = pm_test_strf("{\"path\":\"%s/macros/src/lib.rs\"}", repo);
        const char *env[] = { "PROJMODEL_NO_DAEMON=1", NULL };
        const char *argv[] = { "discover", "--db", db, file, NULL };
        struct cli_run r;
        char **msgs = NULL;
        cJSON *fin;
        int at_building, at_built;

        cli_fx_run(&fx, repo, env, argv, &r);
        cr_assert_eq(r.status, 0, "%s", r.out);
        cr_assert_str_eq(r.err, "");
        fin = cli_discover_lines(r.out, &msgs);
        at_building =
                cli_message_index(msgs, "building 1 proc macro and 1 generated source with buck2");
        at_built = cli_message_index(msgs, "built 1 proc macro");
        cr_assert_geq(at_building, 0, "%s", r.out);
        cr_assert_gt(at_built, at_building, "%s", r.out);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                          cli_b2_crate_of(cJSON_GetObjectItemCaseSensitive(fin, "project"), repo,
                                          "macros/src/lib.rs"),
                          "proc_macro_dylib_path")),
                  "%s", r.out);
        cJSON_Delete(fin);
        pm_labels_free(msgs);
        cli_run_release(&r);
        pm_free(file);
        pm_free(db);
        pm_free(repo);
}

/* True if the crate at @from depends on the crate at @to (root modules relative to @repo). */
static bool
depends_on(const cJSON *p, const char *repo, const char *from, const char *to)
{
        const cJSON *crates = cJSON_GetObjectItemCaseSensitive(p, "crates"), *d;
        const cJSON *target = cli_b2_crate_of(p, repo, to);
        int i = 0, n = cJSON_GetArraySize(crates);

        while (i < n && cJSON_GetArrayItem(crates, i) != target)
                i++;
        cJSON_ArrayForEach(d,
                           cJSON_GetObjectItemCaseSensitive(cli_b2_crate_of(p, repo, from), "deps"))
        {
                if (cJSON_GetObjectItemCaseSensitive(d, "crate")->valueint == i)
                        return true;
        }
        return false;
}

/*
 * Make the stand-in's `targets` print @repo's list with package root//lib/util replaced by its
 * "buck.error" entry, as --keep-going does for a package it cannot load, and exit @status.
 */
static void
break_util(const char *repo, int status)
{
        char *targets = pm_test_strf("%s/targets.json", repo);
        char *exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        char *err_file = pm_test_strf("%s/TARGETS_STDERR", repo);
        char *text = pm_test_read_file(targets), *out, *code = pm_test_strf("%d\n", status);
        cJSON *arr = cJSON_Parse(text), *obj, *next;

        cr_assert(cJSON_IsArray(arr));
        for (obj = arr->child; obj; obj = next) {
                next = obj->next;
                if (strcmp(cJSON_GetObjectItem(obj, "buck.package")->valuestring,
                           "root//lib/util") == 0)
                        cJSON_Delete(cJSON_DetachItemViaPointer(arr, obj));
        }
        obj = cJSON_Parse("{\"buck.package\": \"root//lib/util\", \"buck.error\": \"Error parsing: "
                          "`root//lib/util:TARGETS`\\n\\nCaused by:\\n    error: Parse error: "
                          "unexpected new line here\\n     --> lib/util/TARGETS:3:20\\n\"}");
        cr_assert(obj);
        cJSON_AddItemToArray(arr, obj);
        out = cJSON_Print(arr);
        cr_assert_eq(pm_test_write_file(targets, out), 0);
        cr_assert_eq(pm_test_write_file(exit_file, code), 0);
        cr_assert_eq(pm_test_write_file(err_file, "Command failed: \n1 package failed to load\n"),
                     0);
        cJSON_free(out);
        cJSON_Delete(arr);
        pm_free(code);
        pm_free(text);
        pm_free(err_file);
        pm_free(exit_file);
        pm_free(targets);
}

/*
 * A Buck2 that exits 2 (1 for early versions) with --keep-going's partial list: the export has
 * the other packages' crates and warns of the broken one; a crate that depends on its targets
 * is named in a warning with the dependency, and once the model has it, keeps its last good
 * state, the edge included.
 */
Test(cli_buck2_build, keep_going_exit_keeps_the_other_packages)
{
        char *repo = cli_b2_make_repo(&fx, ""), *saved = pm_test_strf("%s/targets.json", repo);
        char *good_targets = pm_test_read_file(saved), *exit_file;
        char *want_new = pm_test_strf("buck2 could not load %s/lib/util/TARGETS (nor the 3 build "
                                      "files that depend on it) and the model has no earlier "
                                      "state of them: their crates are missing until it loads",
                                      repo);
        char *want_kept = pm_test_strf("warning: kept the last good state of 5 crates of "
                                       "%s/lib/util/TARGETS, which buck2 could not load, and of 3 "
                                       "build files that depend on it: the next run after the "
                                       "fix updates them\n",
                                       repo);
        const char *args[] = { "export", "--root", repo, NULL };
        struct cli_run r;
        cJSON *p;

        /* No earlier state: the crates that depend on root//lib/util wait for it. */
        break_util(repo, 2);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cr_assert(strstr(r.err, "lib/util/TARGETS:3:20: Parse error: unexpected new line here "
                                "(buck2 could not load it with --keep-going)"),
                  "%s", r.err);
        cr_assert(strstr(r.err, "crate 'root//lib/foo:foo' depends on 'root//lib/util:util' of "
                                "package 'root//lib/util' (buck2 could not load it with "
                                "--keep-going)"),
                  "%s", r.err);
        /* The one file that failed is named and counted, not the dependents' files. */
        cr_assert(strstr(r.err, want_new), "want '%s' in: %s", want_new, r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        (void)cli_b2_crate_of(p, repo, "lib/testutil/src/lib.rs");
        (void)cli_b2_crate_of(p, repo, "macros/src/lib.rs");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 3, "%s",
                     r.out);
        cJSON_Delete(p);
        cli_run_release(&r);

        /* Fixed: every crate. */
        cr_assert_eq(pm_test_write_file(saved, good_targets), 0);
        exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        cr_assert_eq(unlink(exit_file), 0);
        p = cli_b2_export_ok(&fx, repo);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 8);
        cr_assert(depends_on(p, repo, "lib/foo/src/lib.rs", "lib/util/src/lib.rs"));
        cJSON_Delete(p);

        /* Broken again, exit 1: the crates of the last good state, edges included. */
        break_util(repo, 1);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cr_assert(strstr(r.err, "root//lib/util"), "%s", r.err);
        cr_assert(strstr(r.err, want_kept), "want '%s' in: %s", want_kept, r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 8, "%s",
                     r.out);
        cr_assert(depends_on(p, repo, "lib/foo/src/lib.rs", "lib/util/src/lib.rs"));
        cr_assert(depends_on(p, repo, "lib/bar/lib.rs", "lib/util/src/lib.rs"));
        cJSON_Delete(p);
        cli_run_release(&r);
        pm_free(want_kept);
        pm_free(want_new);
        pm_free(exit_file);
        pm_free(good_targets);
        pm_free(saved);
        pm_free(repo);
}

/* A Buck2 that exits 1 having printed no --keep-going list (a bad flag, a daemon that died):
 * the export fails with buck2's error line, and says why the exit does not count. */
Test(cli_buck2_build, keep_going_exit_without_the_list_is_an_error)
{
        char *repo = cli_b2_make_repo(&fx, ""), *targets = pm_test_strf("%s/targets.json", repo);
        char *exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        char *err_file = pm_test_strf("%s/TARGETS_STDERR", repo);
        const char *args[] = { "export", "--root", repo, NULL };
        const char *line;
        struct cli_run r;

        cr_assert_eq(pm_test_write_file(targets, "[{\"buck.type\": \"prelude//rules.bzl:rust_"), 0);
        cr_assert_eq(pm_test_write_file(exit_file, "1\n"), 0);
        cr_assert_eq(pm_test_write_file(err_file,
                                        "Starting new buck2 daemon...\nError: Buck2 daemon "
                                        "shutdown while processing a request\n"
                                        "Command failed: \n"),
                     0);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_neq(r.status, 0, "%s", r.out);
        cr_assert_str_eq(r.out, "");
        line = strstr(r.err, "' exited with status 1: Error: Buck2 daemon shutdown while "
                             "processing a request (not --keep-going's partial list: its output "
                             "is not complete JSON)\n");
        cr_assert(line, "%s", r.err);
        cr_assert_eq(strchr(r.err, '\n'), line + strlen(line) - 1, "one line: %s", r.err);
        cli_run_release(&r);
        pm_free(err_file);
        pm_free(exit_file);
        pm_free(targets);
        pm_free(repo);
}
