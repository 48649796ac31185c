/* SPDX-License-Identifier: MIT */
/* PROJMODEL_COMMAND, and the GLIBC_TUNABLES giving a one-shot command's heap huge pages, which the
 * front binary sets for the full one (cli/front.c), reach no build tool: gn, ninja and rustc,
 * wrapped on PATH to record their environment, never see them under `export` nor under a
 * daemon's refresh, while the runnables of both still name the front `projmodel`
 * (pm_path_command_take(), docs/cli.md "Installing"); the daemon itself gets no huge pages, and
 * a user's own GLIBC_TUNABLES is left alone. */
#include <limits.h>
#include <stdio.h>
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

/* <tmp>/bin/@tool: append "@tool $PROJMODEL_COMMAND $GLIBC_TUNABLES PARENT" (each "unset" when
 * unset; PARENT: the GLIBC_TUNABLES its parent process was started with) to the log, then run
 * the real @tool, found on the PATH without <tmp>/bin (so ninja's rustc is the wrapper again). */
static void
write_wrapper(const char *bin, const char *tool)
{
        char *file = pm_test_strf("%s/%s", bin, tool);
        char *text = pm_test_strf(
                "#!/bin/sh\n"
                "parent=$(tr '\\0' '\\n' < /proc/$PPID/environ | sed -n 's/^GLIBC_TUNABLES=//p')\n"
                "echo \"%s ${PROJMODEL_COMMAND-unset} ${GLIBC_TUNABLES-unset} ${parent:-unset}\" "
                ">> '%s'\n"
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

/*
 * Every tool of the log saw no PROJMODEL_COMMAND and the GLIBC_TUNABLES @tunables ("unset": none),
 * gn ran, and gn's parent, the projmodel process that ran it, was started with @parent (@what
 * names the run); the log is emptied.
 */
static void
assert_tools_saw(const char *what, const char *tunables, const char *parent)
{
        char *text = pm_test_read_file(log_path), *line, *save = NULL;
        int gn = 0;

        cr_assert(text, "%s: no build tool ran", what);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char tool[16], cmd[PATH_MAX], tun[128], par[128];

                cr_assert_eq(sscanf(line, "%15s %4095s %127s %127s", tool, cmd, tun, par), 4,
                             "%s: '%s'", what, line);
                cr_assert_str_eq(cmd, "unset", "%s: a build tool inherited PROJMODEL_COMMAND: '%s'",
                                 what, line);
                cr_assert_str_eq(tun, tunables, "%s: '%s'", what, line);
                if (strcmp(tool, "gn") == 0) {
                        cr_assert_str_eq(par, parent, "%s: projmodel started with '%s'", what, par);
                        gn++;
                }
        }
        cr_assert_gt(gn, 0, "%s: gn did not run through its wrapper", what);
        pm_free(text);
        cr_assert_eq(pm_test_write_file(log_path, ""), 0);
}

static void
assert_tools_saw_no_command(const char *what, const char *parent)
{
        assert_tools_saw(what, "unset", parent);
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
        /* The one-shot full binary's heap is in huge pages (cli/front.c), its tools' are not. */
        assert_tools_saw_no_command("export", "glibc.malloc.hugetlb=1");

        /* A daemon the full binary starts (query, not discover's front), and its refresh. */
        cli_fx_run(&fx, NULL, env,
                   (const char *const[]){ "query", "--root", fx.repo, "projmodel/refresh", NULL },
                   &r);
        cr_assert_eq(r.status, 0, "refresh: %s%s", r.out, r.err);
        cli_run_release(&r);
        /* A daemon runs for weeks: it keeps the default pages. */
        assert_tools_saw_no_command("the daemon's refresh", "unset");
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

/* A user's own GLIBC_TUNABLES reaches projmodel and its tools as it is. */
Test(cli_child_env, a_users_glibc_tunables_are_left_alone)
{
        const char *env[] = { path_env, runtime_env, "GLIBC_TUNABLES=glibc.malloc.perturb=0",
                              NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, env,
                   (const char *const[]){ "export", "--root", fx.repo, "--db", fx.db, NULL }, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cli_run_release(&r);
        assert_tools_saw("export", "glibc.malloc.perturb=0", "glibc.malloc.perturb=0");
}
