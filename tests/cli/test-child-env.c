/* SPDX-License-Identifier: MIT */
/* PROJMODEL_COMMAND, which the front binary sets for the full one (cli/front.c), reaches no
 * build tool: gn, ninja and rustc, wrapped on PATH to record their environment, never see it
 * under `export` nor under a daemon's refresh, while the runnables of both still name the front
 * `projmodel` (pm_path_command_take(), docs/cli.md "Installing"). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static const char *const tools[] = { "gn", "ninja", "rustc" };

static struct cli_fx fx;
static char *log_path;    /* what the wrapped tools recorded: one "TOOL VALUE" line per run */
static char *path_env;    /* PATH=<tmp>/bin:<PATH>: the wrappers first */
static char *runtime_env; /* XDG_RUNTIME_DIR=<tmp>/run: the daemon's socket directory */

/* <tmp>/bin/@tool: append "@tool $PROJMODEL_COMMAND" (or "unset") to the log, then run the real
 * @tool, found on the PATH without <tmp>/bin (so ninja's rustc is the wrapper again). */
static void
write_wrapper(const char *bin, const char *tool)
{
        char *file = pm_test_strf("%s/%s", bin, tool);
        char *text = pm_test_strf("#!/bin/sh\n"
                                  "echo \"%s ${PROJMODEL_COMMAND-unset}\" >> '%s'\n"
                                  "real=$(PATH='%s'; command -v %s)\n"
                                  "exec \"$real\" \"$@\"\n",
                                  tool, log_path, getenv("PATH"), tool);

        cr_assert_eq(pm_test_write_file(file, text), 0);
        cr_assert_eq(chmod(file, 0755), 0);
        pm_free(text);
        pm_free(file);
}

static void
setup(void)
{
        char *bin;

        cli_fx_init(&fx, false);
        cli_fx_daemon_env(&fx, &runtime_env, NULL);
        bin = pm_test_strf("%s/bin", fx.tmp);
        cr_assert_eq(mkdir(bin, 0700), 0);
        log_path = pm_test_strf("%s/tools.log", fx.tmp);
        for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
                write_wrapper(bin, tools[i]);
        path_env = pm_test_strf("PATH=%s:%s", bin, getenv("PATH"));
        pm_free(bin);
}

static void
teardown(void)
{
        cli_fx_stop_daemon(&fx, runtime_env, fx.repo);
        pm_free(log_path);
        pm_free(path_env);
        pm_free(runtime_env);
        log_path = path_env = runtime_env = NULL;
        cli_fx_release(&fx);
}

TestSuite(cli_child_env, .init = setup, .fini = teardown, .timeout = 600);

/* Every line of the log says "unset", and gn ran (@what names the run); the log is emptied. */
static void
assert_tools_saw_no_command(const char *what)
{
        char *text = pm_test_read_file(log_path), *line, *save = NULL;
        int gn = 0;

        cr_assert(text, "%s: no build tool ran", what);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                const char *value = strchr(line, ' ');

                cr_assert(value && strcmp(value + 1, "unset") == 0,
                          "%s: a build tool inherited PROJMODEL_COMMAND: '%s'", what, line);
                gn += strncmp(line, "gn ", 3) == 0;
        }
        cr_assert_gt(gn, 0, "%s: gn did not run through its wrapper", what);
        pm_free(text);
        cr_assert_eq(pm_test_write_file(log_path, ""), 0);
}

/* The program of @project's runnables (all the same, tests/cli/test-runnables.c) is the front
 * binary the test runs. */
static void
assert_runnables_name_the_front(const cJSON *project, const char *what)
{
        const cJSON *r =
                cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(project, "runnables"), 0);
        const cJSON *program = cJSON_GetObjectItemCaseSensitive(r, "program");
        char self[PATH_MAX];

        cr_assert(realpath(pm_test_projmodel(), self), "%s", pm_test_projmodel());
        cr_assert(cJSON_IsString(program), "%s: no runnables", what);
        cr_assert_str_eq(program->valuestring, self, "%s", what);
}

Test(cli_child_env, no_build_tool_inherits_projmodel_command)
{
        const char *env[] = { path_env, runtime_env, NULL };
        struct cli_run r;
        cJSON *res;

        /* The one-shot path: gn gen, then ninja (and its rustc) for the proc macro. */
        cli_fx_run(&fx, NULL, env,
                   (const char *const[]){ "export", "--root", fx.repo, "--db", fx.db, NULL }, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        res = cJSON_Parse(r.out);
        cr_assert(res, "%s", r.out);
        assert_runnables_name_the_front(res, "export");
        cJSON_Delete(res);
        cli_run_release(&r);
        assert_tools_saw_no_command("export");

        /* A daemon the full binary starts (query, not discover's front), and its refresh. */
        cli_fx_run(&fx, NULL, env,
                   (const char *const[]){ "query", "--root", fx.repo, "projmodel/refresh", NULL },
                   &r);
        cr_assert_eq(r.status, 0, "refresh: %s%s", r.out, r.err);
        cli_run_release(&r);
        assert_tools_saw_no_command("the daemon's refresh");
        cli_fx_run(&fx, NULL, env,
                   (const char *const[]){ "query", "--no-start", "--root", fx.repo,
                                          "projmodel/rustProject", NULL },
                   &r);
        cr_assert_eq(r.status, 0, "rustProject: %s", r.err);
        res = cJSON_Parse(r.out);
        cr_assert(res, "%s", r.out);
        assert_runnables_name_the_front(cJSON_GetObjectItemCaseSensitive(res, "project"),
                                        "the daemon's rustProject");
        cJSON_Delete(res);
        cli_run_release(&r);
}
