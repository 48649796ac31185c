/* SPDX-License-Identifier: MIT */
/* Bad input to `projmodel export`: each fails with exit 1 and one stderr line naming the file
 * or target, and leaves the stored model serving the previous export unchanged. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;
static char *before; /* the export made before the bad input */

static void
setup(void)
{
        cli_fx_init(&fx, false);
        before = cli_fx_export(&fx, NULL);
        cr_assert(strstr(before, "\"crates\""));
}

static void
teardown(void)
{
        pm_free(before);
        before = NULL;
        cli_fx_release(&fx);
}

TestSuite(cli_bad_input, .init = setup, .fini = teardown);

/* Run export with @args after `export --db DB` and @env; expect failure with one line
 * naming @needle, then check the model still exports exactly as before. */
static void
expect_failure(const char *const *env, const char *const *args, const char *needle)
{
        const char *argv[24] = { "export", "--db", fx.db };
        size_t n = 3;
        struct cli_run r;
        char *after;

        for (; args && *args; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        cli_fx_run(&fx, NULL, env, argv, &r);
        cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, needle), "stderr is not one line naming '%s': '%s'",
                  needle, r.err);
        cr_assert_str_empty(r.out, "a failed export wrote output: %s", r.out);
        cli_run_release(&r);

        after = cli_fx_export(&fx, (const char *[]){ "--no-refresh", NULL });
        cr_assert_str_eq(after, before, "the stored model changed");
        pm_free(after);
}

/* `gn gen out --ide=json` in the repo; returns out/project.json's text (pm_malloc'd). */
static char *
captured_project_json(void)
{
        const char *gen[] = { "gn", "gen", "out", "--ide=json", NULL };
        char *path = cli_fx_path(&fx, "out/project.json");
        char *text;

        cr_assert_eq(pm_test_run(gen, fx.repo, NULL, NULL, NULL, NULL), 0);
        text = pm_test_read_file(path);
        cr_assert(text);
        pm_free(path);
        return text;
}

Test(cli_bad_input, truncated_query_output)
{
        char *text = captured_project_json();
        char *file = pm_test_strf("%s/truncated.json", fx.tmp);

        text[strlen(text) / 2] = '\0';
        cr_assert_eq(pm_test_write_file(file, text), 0);
        expect_failure(NULL,
                       (const char *[]){ "--root", fx.repo, "--build-system", "gn",
                                         "--query-output", file, NULL },
                       file);
        pm_free(file);
        pm_free(text);
}

Test(cli_bad_input, malformed_query_output)
{
        char *file = pm_test_strf("%s/malformed.json", fx.tmp);

        cr_assert_eq(pm_test_write_file(file, "{\"targets\": [1, 2, 3], \"build_settings\": 7}"),
                     0);
        expect_failure(NULL,
                       (const char *[]){ "--root", fx.repo, "--build-system", "gn",
                                         "--query-output", file, NULL },
                       file);
        pm_free(file);
}

Test(cli_bad_input, target_without_crate_root)
{
        char *text = captured_project_json();
        char *file = pm_test_strf("%s/no-crate-root.json", fx.tmp);
        cJSON *j = cJSON_Parse(text);
        cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "targets"),
                                                    "//lib/util:util");
        char *out;

        cr_assert(t, "no //lib/util:util in GN's project.json");
        cr_assert(cJSON_HasObjectItem(t, "crate_root"));
        cJSON_DeleteItemFromObjectCaseSensitive(t, "crate_root");
        out = cJSON_Print(j);
        cr_assert_eq(pm_test_write_file(file, out), 0);
        expect_failure(NULL,
                       (const char *[]){ "--root", fx.repo, "--build-system", "gn",
                                         "--query-output", file, NULL },
                       "//lib/util:util");
        cJSON_free(out);
        cJSON_Delete(j);
        pm_free(file);
        pm_free(text);
}

Test(cli_bad_input, gn_not_in_path)
{
        char *bin = pm_test_strf("%s/emptybin", fx.tmp);
        char *path_env = pm_test_strf("PATH=%s", bin);
        const char *mk[] = { "mkdir", "-p", bin, NULL };

        cr_assert_eq(pm_test_run(mk, NULL, NULL, NULL, NULL, NULL), 0);
        expect_failure((const char *[]){ path_env, NULL },
                       (const char *[]){ "--root", fx.repo, NULL }, "cannot run 'gn'");
        pm_free(path_env);
        pm_free(bin);
}

Test(cli_bad_input, build_file_syntax_error)
{
        char *build = cli_fx_path(&fx, "lib/util/BUILD.gn");

        cr_assert_eq(pm_test_write_file(build, "rust_library(\"util\") {\n  crate_name =\n}\n"), 0);
        expect_failure(NULL, (const char *[]){ "--root", fx.repo, NULL }, "lib/util/BUILD.gn");
        pm_free(build);
}

Test(cli_bad_input, root_without_build_system)
{
        char *empty = pm_test_strf("%s/empty", fx.tmp);

        char *readme = pm_test_strf("%s/README", empty);

        /* A directory with a file but no build-system marker. */
        cr_assert_eq(pm_test_write_file(readme, "nothing to build here\n"), 0);
        pm_free(readme);
        expect_failure(NULL, (const char *[]){ "--root", empty, NULL }, empty);
        pm_free(empty);
}

Test(cli_bad_input, missing_root)
{
        char *missing = pm_test_strf("%s/does-not-exist", fx.tmp);

        expect_failure(NULL, (const char *[]){ "--root", missing, NULL }, missing);
        pm_free(missing);
}

/* Export with .projmodel.json holding @json: exit 1 with one line naming the unknown key @key,
 * the file and @near; then the old file is put back. */
static void
expect_config_typo(const char *json, const char *key, const char *near)
{
        char *cfg = cli_fx_path(&fx, ".projmodel.json");
        char *old = pm_test_read_file(cfg);
        char *want = pm_test_strf("unknown key '%s' in %s (did you mean '%s'?)", key, cfg, near);
        const char *argv[] = { "export", "--db", fx.db, "--root", fx.repo, NULL };
        struct cli_run r;

        cr_assert(old);
        cr_assert_eq(pm_test_write_file(cfg, json), 0);
        cli_fx_run(&fx, NULL, NULL, argv, &r);
        cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, want), "stderr is not one line naming '%s': '%s'", want,
                  r.err);
        cr_assert_str_empty(r.out, "a failed export wrote output: %s", r.out);
        cli_run_release(&r);
        cr_assert_eq(pm_test_write_file(cfg, old), 0);
        pm_free(want);
        pm_free(old);
        pm_free(cfg);
}

/* A typo in any section of .projmodel.json stops the export with the file, the key and the
 * nearest valid key, rather than running the tool with the defaults. */
Test(cli_bad_input, config_key_typo)
{
        char *after;

        expect_config_typo("{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"},"
                           " \"bazel\": {\"comand\": \"bazel\"}}\n",
                           "bazel.comand", "command");
        expect_config_typo("{\"build_system\": \"gn\", \"gn\": {\"outdir\": \"out\"}}\n",
                           "gn.outdir", "out_dir");
        expect_config_typo("{\"build_system\": \"gn\", \"debounce\": 5}\n", "debounce",
                           "debounce_ms");
        after = cli_fx_export(&fx, (const char *[]){ "--no-refresh", NULL });
        cr_assert_str_eq(after, before, "the stored model changed");
        pm_free(after);
}
