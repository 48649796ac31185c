/* SPDX-License-Identifier: MIT */
/* The project-level runnables are one value in every answer (docs/cli.md, "check, test, run"):
 * `export` of the whole tree, `discover` of two files whose closures differ, in-process
 * (PROJMODEL_NO_DAEMON=1) and through a daemon, and the daemon's projmodel/rustProject carry the
 * same bytes, for GN and for a Cargo workspace; the kinds are rust-analyzer's camelCase ones,
 * the program this binary and the cwd the absolute root. "flycheck_runnable": false leaves
 * `flycheck` out of all of them, and a running daemon follows the key. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;
static char *runtime_env; /* XDG_RUNTIME_DIR=<tmp>/run: the daemons' socket directory */
static char *cache2_env;  /* XDG_CACHE_HOME=<tmp>/cache2: the in-process runs' own model */
static char *ws;          /* the Cargo workspace, when the test made one */

static void
setup(void)
{
        cli_fx_init(&fx, false);
        cli_fx_daemon_env(&fx, &runtime_env, &cache2_env);
}

/* Stop the daemons the test's discovers started. */
static void
teardown(void)
{
        cli_fx_stop_daemon(&fx, runtime_env, fx.repo);
        if (ws)
                cli_fx_stop_daemon(&fx, runtime_env, ws);
        pm_free(ws);
        pm_free(runtime_env);
        pm_free(cache2_env);
        ws = runtime_env = cache2_env = NULL;
        cli_fx_release(&fx);
}

TestSuite(cli_runnables, .init = setup, .fini = teardown, .timeout = 600);

/* @project's runnables as one compact string (cJSON_free), after @project validated as a whole
 * (@what names the answer in messages). */
static char *
runnables_of(const cJSON *project, const char *what)
{
        char *text = cJSON_PrintUnformatted(project), *errors = NULL, *s;

        cr_assert(text);
        cr_assert_eq(pm_test_validate_project(text, strlen(text), &errors), 0, "%s: %s", what,
                     errors);
        cJSON_free(text);
        s = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(project, "runnables"));
        cr_assert(s && strcmp(s, "null") != 0, "%s: no runnables", what);
        return s;
}

/*
 * The runnables docs/cli.md lists, in its order: the kinds rust-analyzer reads (camelCase), each
 * with its placeholders, this projmodel binary as the program and the absolute @root as cwd.
 */
static void
assert_runnables_shape(const char *runnables, const char *root, bool flycheck)
{
        static const struct {
                const char *kind, *args;
        } want[] = {
                { "flycheck", "[\"check\",\"{label}\",\"{saved_file}\"]" },
                { "run", "[\"run\",\"{label}\"]" },
                { "testOne", "[\"test\",\"{label}\",\"{test_id}\"]" },
        };

        char self[PATH_MAX];
        cJSON *arr = cJSON_Parse(runnables);
        const cJSON *r;
        size_t i = flycheck ? 0 : 1;

        cr_assert(realpath(pm_test_projmodel(), self), "%s", pm_test_projmodel());
        cr_assert(cJSON_IsArray(arr), "%s", runnables);
        cr_assert_eq(cJSON_GetArraySize(arr), flycheck ? 3 : 2, "%s", runnables);
        cr_assert_eq(root[0], '/');
        cJSON_ArrayForEach(r, arr)
        {
                char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(r, "args"));

                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring,
                                 want[i].kind);
                cr_assert_str_eq(args, want[i].args, "%s", want[i].kind);
                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "program")->valuestring, self);
                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "cwd")->valuestring, root);
                cr_assert_eq(cJSON_GetArraySize(r), 4, "unexpected keys in %s", runnables);
                cJSON_free(args);
                i++;
        }
        cJSON_Delete(arr);
}

/* The runnables of `export --root @root` (its own database), its crate count in *ret_n. */
static char *
export_runnables(const char *root, int *ret_n)
{
        char *db = pm_test_strf("%s/export.db", fx.tmp), *s;
        const char *args[] = { "export", "--root", root, "--db", db, NULL };
        struct cli_run r;
        cJSON *p;

        cli_fx_run(&fx, root, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        *ret_n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates"));
        s = runnables_of(p, "export");
        cJSON_Delete(p);
        cli_run_release(&r);
        pm_free(db);
        return s;
}

/*
 * The runnables of `discover {"path": @file}` run in @root, through the daemon (started on first
 * use) or in-process; asserts which of the two answered and the protocol. The project's crate
 * count goes to *ret_n, its build file to *ret_bf (pm_malloc'd).
 */
static char *
discover_runnables(const char *root, const char *file, bool daemon, int *ret_n, char **ret_bf)
{
        char *arg = pm_test_strf("{\"path\":\"%s\"}", file), *errors = NULL, **messages = NULL;
        char *what = pm_test_strf("discover %s %s", file, daemon ? "(daemon)" : "(in-process)");
        const char *argv[] = { "discover", arg, NULL };
        const char *env_daemon[] = { runtime_env, NULL };
        const char *env_local[] = { runtime_env, cache2_env, "PROJMODEL_NO_DAEMON=1", NULL };
        const cJSON *project;
        struct cli_run r;
        cJSON *fin;
        char *s;

        cli_fx_run(&fx, root, daemon ? env_daemon : env_local, argv, &r);
        cr_assert_eq(r.status, 0, "%s:\n%s%s", what, r.out, r.err);
        cr_assert_str_empty(r.err, "%s wrote on stderr: %s", what, r.err);
        cr_assert_eq(pm_test_validate_discover_output(r.out, &errors), 0, "%s: %s", what, errors);
        fin = cli_discover_lines(r.out, &messages);
        cr_assert(cli_message_index(messages, daemon ? "asking the projmodel daemon"
                                                     : "loading the model of") >= 0,
                  "%s: not answered as asked:\n%s", what, r.out);
        project = cJSON_GetObjectItemCaseSensitive(fin, "project");
        *ret_n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(project, "crates"));
        *ret_bf =
                pm_test_strf("%s", cJSON_GetObjectItemCaseSensitive(fin, "buildfile")->valuestring);
        s = runnables_of(project, what);
        cJSON_Delete(fin);
        pm_labels_free(messages);
        pm_free(errors);
        cli_run_release(&r);
        pm_free(what);
        pm_free(arg);
        return s;
}

/* The runnables of the running daemon's projmodel/rustProject with @params (NULL: the whole
 * tree), asked through `projmodel query --no-start` in @root. */
static char *
rust_project_runnables(const char *root, const char *params)
{
        const char *argv[] = { "query", "--no-start", "projmodel/rustProject", params, NULL };
        const char *env[] = { runtime_env, NULL };
        char *what = pm_test_strf("projmodel/rustProject %s", params ? params : "{}"), *s;
        struct cli_run r;
        cJSON *res;

        cli_fx_run(&fx, root, env, argv, &r);
        cr_assert_eq(r.status, 0, "%s: %s", what, r.err);
        res = cJSON_Parse(r.out);
        cr_assert(res, "%s: %s", what, r.out);
        s = runnables_of(cJSON_GetObjectItemCaseSensitive(res, "project"), what);
        cJSON_Delete(res);
        cli_run_release(&r);
        pm_free(what);
        return s;
}

/*
 * Every answer about @root carries the runnables of its export, byte for byte: discover of
 * @file_a and of @file_b (whose closures differ: other build files, other crate counts),
 * in-process then through a daemon, and the daemon's rustProject for each file and for the
 * whole tree.
 */
static void
assert_same_runnables_everywhere(const char *root, const char *file_a, const char *file_b,
                                 bool flycheck)
{
        const char *files[] = { file_a, file_b };
        int n_export, n[2][2];
        char *want = export_runnables(root, &n_export), *got, *bf[2][2];

        assert_runnables_shape(want, root, flycheck);
        for (int d = 0; d < 2; d++) {
                for (int f = 0; f < 2; f++) {
                        got = discover_runnables(root, files[f], d, &n[d][f], &bf[d][f]);
                        cr_assert_str_eq(got, want, "discover %s %s:\n%s\nexport:\n%s", files[f],
                                         d ? "through the daemon" : "in-process", got, want);
                        cJSON_free(got);
                }
                /* Two closures, not one project answered twice. */
                cr_assert_neq(n[d][0], n[d][1], "%s and %s: both %d crates", file_a, file_b,
                              n[d][0]);
                cr_assert_str_neq(bf[d][0], bf[d][1]);
        }
        for (int f = 0; f < 2; f++) {
                char *params = pm_test_strf("{\"path\":\"%s\"}", files[f]);

                cr_assert_eq(n[0][f], n[1][f], "%s: the daemon's closure differs", files[f]);
                got = rust_project_runnables(root, params);
                cr_assert_str_eq(got, want, "rustProject %s:\n%s\nexport:\n%s", params, got, want);
                cJSON_free(got);
                pm_free(params);
                pm_free(bf[0][f]);
                pm_free(bf[1][f]);
        }
        got = rust_project_runnables(root, NULL);
        cr_assert_str_eq(got, want, "rustProject of the whole tree:\n%s\nexport:\n%s", got, want);
        cJSON_free(got);
        cJSON_free(want);
}

/* lib/util's closure is util and fnv (3 crates with its test), app/server's 8. */
Test(cli_runnables, gn_every_answer_carries_the_same_bytes)
{
        char *util = cli_fx_path(&fx, "lib/util/src/lib.rs");
        char *server = cli_fx_path(&fx, "app/server/src/main.rs");

        assert_same_runnables_everywhere(fx.repo, util, server, true);
        pm_free(server);
        pm_free(util);
}

/* calc's closure is calc, app's app and calc. */
Test(cli_runnables, cargo_every_answer_carries_the_same_bytes)
{
        char *calc, *app;

        ws = cli_fx_cargo_workspace(&fx);
        calc = pm_test_strf("%s/calc/src/lib.rs", ws);
        app = pm_test_strf("%s/app/src/main.rs", ws);
        assert_same_runnables_everywhere(ws, calc, app, true);
        pm_free(app);
        pm_free(calc);
}

/* Write the example's .projmodel.json with @extra (a top-level key and value) added. */
static void
write_config(const char *extra)
{
        char *path = cli_fx_path(&fx, ".projmodel.json");
        char *text = pm_test_strf("{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"}, %s}",
                                  extra);

        cr_assert_eq(pm_test_write_file(path, text), 0);
        pm_free(text);
        pm_free(path);
}

/*
 * "flycheck_runnable": false (for a rust-analyzer that knows runnables but not the flycheck
 * kind, docs/cli.md): every answer leaves flycheck out and keeps run and testOne, byte for
 * byte alike; set back to true, the running daemon's next answer has it again.
 */
Test(cli_runnables, flycheck_runnable_false_leaves_it_out_of_every_answer)
{
        char *util = cli_fx_path(&fx, "lib/util/src/lib.rs");
        char *server = cli_fx_path(&fx, "app/server/src/main.rs");
        char *got = NULL;

        write_config("\"flycheck_runnable\": false");
        assert_same_runnables_everywhere(fx.repo, util, server, false);
        write_config("\"flycheck_runnable\": true");
        /* The daemon reloads the file after its debounce: ask until it has. */
        for (int i = 0; i < 600; i++) {
                cJSON_free(got);
                got = rust_project_runnables(fx.repo, NULL);
                if (strstr(got, "\"flycheck\""))
                        break;
                usleep(100 * 1000);
        }
        assert_runnables_shape(got, fx.repo, true);
        cJSON_free(got);
        pm_free(server);
        pm_free(util);
}

/* A value that is not a boolean is an error naming the file and the key. */
Test(cli_runnables, flycheck_runnable_must_be_a_boolean)
{
        char *db = pm_test_strf("%s/export.db", fx.tmp);
        const char *args[] = { "export", "--root", fx.repo, "--db", db, NULL };
        struct cli_run r;

        write_config("\"flycheck_runnable\": \"no\"");
        cli_fx_run(&fx, fx.repo, NULL, args, &r);
        cr_assert_neq(r.status, 0, "export accepted a string: %s", r.out);
        cr_assert(strstr(r.err, ".projmodel.json") && strstr(r.err, "flycheck_runnable") &&
                          strstr(r.err, "true or false"),
                  "%s", r.err);
        cli_run_release(&r);
        pm_free(db);
}
