/* SPDX-License-Identifier: MIT */
/* `projmodel discover` speaks rust-analyzer's protocol: JSON lines on
 * stdout, exactly one terminal message and last, an absolute buildfile, nothing on stderr. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;

static void
setup(void)
{
        cli_fx_init(&fx, true);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_discover, .init = setup, .fini = teardown);

/* Run discover with @arg (and --root when @root) from @cwd; checks the protocol rules that
 * hold for every outcome and returns the last line parsed (cJSON_Delete). */
static cJSON *
discover(const char *cwd, const char *arg, bool root, int want_status)
{
        const char *argv[12] = { "discover", "--db", fx.db };
        size_t n = 3, terminal = 0, lines = 0;
        struct cli_run r;
        cJSON *last = NULL;
        char *line, *save = NULL, *copy;

        if (root) {
                argv[n++] = "--root";
                argv[n++] = fx.repo;
        }
        argv[n++] = arg;
        argv[n] = NULL;
        cli_fx_run(&fx, cwd, NULL, argv, &r);
        cr_assert_eq(r.status, want_status, "exit %d, stdout: %s", r.status, r.out);
        cr_assert_str_empty(r.err, "discover wrote on stderr: %s", r.err);
        cr_assert(r.out[0] && r.out[strlen(r.out) - 1] == '\n', "stdout: '%s'", r.out);
        cr_assert_null(strstr(r.out, "\n\n"), "blank line in stdout");

        copy = pm_test_strf("%s", r.out);
        for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                cJSON *m = cJSON_Parse(line);
                const cJSON *kind = cJSON_GetObjectItemCaseSensitive(m, "kind");

                cr_assert(cJSON_IsObject(m), "not a JSON object: %s", line);
                cr_assert(cJSON_IsString(kind));
                lines++;
                if (strcmp(kind->valuestring, "progress") == 0) {
                        cr_assert_eq(terminal, 0, "progress after the terminal message");
                        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "message")));
                } else {
                        cr_assert(strcmp(kind->valuestring, "finished") == 0 ||
                                          strcmp(kind->valuestring, "error") == 0,
                                  "unknown kind '%s'", kind->valuestring);
                        terminal++;
                }
                cJSON_Delete(last);
                last = m;
        }
        cr_assert_eq(terminal, 1, "%zu terminal messages in:\n%s", terminal, r.out);
        cr_assert_geq(lines, 1);
        if (want_status == 0) {
                char *report = NULL;

                cr_assert_eq(pm_test_validate_discover_output(r.out, &report), 0,
                             "discover output is not valid:\n%s", report ? report : "");
                pm_free(report);
        }
        pm_free(copy);
        cli_run_release(&r);
        return last;
}

/* Checks a finished message: buildfile is REPO/@buildfile_rel, and the crate rooted at
 * REPO/@root_rel is in the project as a workspace member. */
static void
assert_finished(cJSON *m, const char *buildfile_rel, const char *root_rel)
{
        char *bf = cli_fx_path(&fx, buildfile_rel);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "buildfile");
        const cJSON *project = cJSON_GetObjectItemCaseSensitive(m, "project");
        cJSON *crate;

        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "finished");
        cr_assert(cJSON_IsString(b) && b->valuestring[0] == '/');
        cr_assert_str_eq(b->valuestring, bf);
        crate = cli_crate_by_root(&fx, project, root_rel);
        cr_assert(crate, "the owning crate '%s' is not in the project", root_rel);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(crate, "is_workspace_member")));
        pm_free(bf);
}

Test(cli_discover, path_gives_its_build_files_crates_and_their_closure)
{
        char *file = cli_fx_path(&fx, "lib/engine/src/job.rs");
        char *arg = pm_test_strf("{\"path\":\"%s\"}", file);
        cJSON *m = discover("/", arg, false, 0);
        const cJSON *crates;

        assert_finished(m, "lib/engine/BUILD.gn", "lib/engine/src/lib.rs");
        /* Every crate of lib/engine/BUILD.gn (engine, engine_tests) and their closure: config,
         * util, fnv, itoa_lite, describe_derive, tables. */
        crates = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "project"),
                                                  "crates");
        cr_assert_eq(cJSON_GetArraySize(crates), 8);
        cr_assert(cli_crate_by_root(&fx, cJSON_GetObjectItemCaseSensitive(m, "project"),
                                    "lib/engine/tests/engine_test.rs"));
        cr_assert(cli_crate_by_root(&fx, cJSON_GetObjectItemCaseSensitive(m, "project"),
                                    "third_party/itoa_lite/src/lib.rs"));
        cr_assert_null(cli_crate_by_root(&fx, cJSON_GetObjectItemCaseSensitive(m, "project"),
                                         "app/server/src/main.rs"));
        cJSON_Delete(m);
        pm_free(arg);
        pm_free(file);
}

Test(cli_discover, buildfile_gives_the_crates_it_declares)
{
        char *file = cli_fx_path(&fx, "lib/util/BUILD.gn");
        char *arg = pm_test_strf("{\"buildfile\":\"%s\"}", file);
        cJSON *m = discover("/", arg, false, 0);

        assert_finished(m, "lib/util/BUILD.gn", "lib/util/src/lib.rs");
        cJSON_Delete(m);
        pm_free(arg);
        pm_free(file);
}

Test(cli_discover, label_with_root)
{
        cJSON *m = discover("/", "{\"label\":\"//lib/config:config\"}", true, 0);

        assert_finished(m, "lib/config/BUILD.gn", "lib/config/src/lib.rs");
        cJSON_Delete(m);
}

Test(cli_discover, label_from_the_working_directory)
{
        cJSON *m = discover(fx.repo, "{\"label\":\"//tools/inspect:inspect\"}", false, 0);

        assert_finished(m, "tools/inspect/BUILD.gn", "tools/inspect/main.rs");
        cJSON_Delete(m);
}

Test(cli_discover, unowned_file_is_one_error_line)
{
        char *file = cli_fx_path(&fx, "docs/orphan.rs");
        char *arg = pm_test_strf("{\"path\":\"%s\"}", file);
        cJSON *m;

        cr_assert_eq(pm_test_write_file(file, "fn main() {}\n"), 0);
        m = discover("/", arg, false, 1);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "error");
        cr_assert(strstr(cJSON_GetObjectItemCaseSensitive(m, "error")->valuestring, file));
        cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(m, "source")));
        cJSON_Delete(m);
        pm_free(arg);
        pm_free(file);
}

Test(cli_discover, bad_argument_is_one_error_line)
{
        cJSON *m = discover("/", "{\"nope\":1}", true, 1);

        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "error");
        cJSON_Delete(m);
        m = discover("/", "not json", true, 1);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "error");
        cJSON_Delete(m);
}

Test(cli_discover, failures_are_logged_to_the_log_file_only)
{
        char *log = pm_test_strf("%s/discover.log", fx.tmp);
        const char *argv[] = { "discover", "--db", fx.db,
                               "--log",    log,    "{\"path\":\"/nonexistent/x.rs\"}",
                               NULL };
        struct cli_run r;
        char *text;

        cli_fx_run(&fx, "/", NULL, argv, &r);
        cr_assert_eq(r.status, 1);
        cr_assert_str_empty(r.err);
        cr_assert(strstr(r.out, "\"kind\":\"error\""));
        text = pm_test_read_file(log);
        cr_assert(text && strstr(text, "/nonexistent/x.rs"), "log: %s", text);
        pm_free(text);
        cli_run_release(&r);
        pm_free(log);
}

/* A parse warning (docs/cli.md "Warnings") is a progress line and stderr stays silent; export
 * prints the same warning on stderr and still exits 0 (on its own model: with the same input
 * already in fx.db its parse, and the warning, would be skipped). */
Test(cli_discover, parse_warnings_are_progress_lines)
{
        char *build = cli_fx_path(&fx, "lib/util/BUILD.gn");
        char *old = pm_test_read_file(build), *bad, *file = cli_fx_path(&fx, "lib/util/src/lib.rs");
        char *arg = pm_test_strf("{\"path\":\"%s\"}", file), *db2 = pm_test_strf("%s.2", fx.db);
        const char *want = "\"warning: target '//lib/util:noenv': rustenv entry 'NOEQ' is not "
                           "KEY=VALUE, ignoring\"";
        const char *argv[] = { "discover", "--db", fx.db, arg, NULL };
        const char *export[] = { "export", "--db", db2, "--root", fx.repo, NULL };
        char *report = NULL;
        struct cli_run r;

        cr_assert_not_null(old);
        bad = pm_test_strf("%s\nrust_library(\"noenv\") {\n  crate_root = \"src/lib.rs\"\n"
                           "  sources = [ \"src/lib.rs\" ]\n  rustenv = [ \"NOEQ\" ]\n}\n",
                           old);
        cr_assert_eq(pm_test_write_file(build, bad), 0);
        cli_fx_run(&fx, "/", NULL, argv, &r);
        cr_assert_eq(r.status, 0, "%s", r.out);
        cr_assert_str_empty(r.err, "discover wrote on stderr: %s", r.err);
        cr_assert(strstr(r.out, want), "no progress line %s in:\n%s", want, r.out);
        cr_assert_eq(pm_test_validate_discover_output(r.out, &report), 0, "%s", report);
        cli_run_release(&r);
        cli_fx_run(&fx, NULL, NULL, export, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.err, "projmodel export: warning: target '//lib/util:noenv': rustenv"),
                  "stderr: %s", r.err);
        cli_run_release(&r);
        pm_free(report);
        pm_free(build);
        pm_free(old);
        pm_free(bad);
        pm_free(file);
        pm_free(arg);
        pm_free(db2);
}
