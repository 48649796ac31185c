/* SPDX-License-Identifier: MIT */
/* The step runner's kill policy through `projmodel export` (server/spawn.c): a build tool still
 * running at tool_timeout_ms gets SIGTERM, and one that ignores it is killed PM_TOOL_KILL_GRACE_MS
 * (2 s) later; the export fails with the timeout, naming the command, and the daemon does the
 * same. The tool is Cargo's configured `command` (argv only, as the adapter allows). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static double
now_s(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(cli_kill_policy, a_tool_ignoring_sigterm_is_killed_after_the_grace, .timeout = 300)
{
        struct cli_fx fx;
        struct cli_run r;
        char *root, *tool, *termed, *pidfile, *text, *pidtext;
        double start, took;
        long pid;

        cli_fx_init(&fx, false);
        root = pm_test_strf("%s/cargo-repo", fx.tmp);
        tool = pm_test_strf("%s/stubborn-cargo", fx.tmp);
        termed = pm_test_strf("%s/got-sigterm", fx.tmp);
        pidfile = pm_test_strf("%s/pid", fx.tmp);
        text = pm_test_strf("#!/bin/sh\n"
                            "echo $$ > '%s'\n"
                            "trap \"echo yes > '%s'\" TERM\n"
                            "i=0\n"
                            "while [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done\n",
                            pidfile, termed);
        cli_write_script(tool, text);
        pm_free(text);
        {
                char *json = pm_test_strf("{\"build_system\": \"cargo\", \"tool_timeout_ms\": 2000,"
                                          " \"cargo\": {\"command\": \"%s\"}}\n",
                                          tool);

                cli_cargo_package(root, "a", json);
                pm_free(json);
        }

        start = now_s();
        cli_fx_run(&fx, root, NULL,
                   (const char *const[]){ "export", "--root", root, "--db", fx.db, NULL }, &r);
        took = now_s() - start;
        cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, "did not finish within 2000 ms (tool_timeout_ms)"),
                  "stderr: %s", r.err);
        cr_assert(strstr(r.err, tool), "the command is not named: %s", r.err);
        /* SIGTERM came first, and was ignored... */
        text = pm_test_read_file(termed);
        cr_assert(text && strcmp(text, "yes\n") == 0, "the tool never got SIGTERM");
        pm_free(text);
        /* ...so SIGKILL followed after the grace, not after the tool's own two minutes. */
        cr_assert_geq(took, 3.9, "killed after %.2f s: no grace after SIGTERM", took);
        cr_assert_lt(took, 60.0, "took %.2f s: the tool was not killed", took);
        pidtext = pm_test_read_file(pidfile);
        cr_assert(pidtext);
        pid = strtol(pidtext, NULL, 10);
        cr_assert_gt(pid, 0);
        cr_assert(kill((pid_t)pid, 0) < 0 && errno == ESRCH, "the tool %ld still runs", pid);

        pm_free(pidtext);
        cli_run_release(&r);

        /* The daemon runs its steps with the same runner and policy. */
        {
                char *run = pm_test_strf("%s/run", fx.tmp);
                char *run_env = pm_test_strf("XDG_RUNTIME_DIR=%s", run);
                const char *env[] = { run_env, NULL };
                cJSON *st;
                const cJSON *e;

                cr_assert_eq(mkdir(run, 0700), 0);
                cr_assert_eq(unlink(termed), 0);
                cli_fx_run(
                        &fx, root, env,
                        (const char *const[]){ "query", "--root", root, "projmodel/refresh", NULL },
                        &r);
                cli_run_release(&r);
                cli_fx_run(&fx, root, env,
                           (const char *const[]){ "status", "--root", root, "--json", NULL }, &r);
                st = cJSON_Parse(r.out);
                cr_assert(st, "status: %s %s", r.out, r.err);
                e = cJSON_GetObjectItem(st, "lastError");
                cr_assert(cJSON_IsString(e), "status: %s", r.out);
                cr_assert(strstr(e->valuestring, "did not finish within 2000 ms (tool_timeout_ms)"),
                          "%s", e->valuestring);
                cJSON_Delete(st);
                cli_run_release(&r);
                text = pm_test_read_file(termed);
                cr_assert(text && strcmp(text, "yes\n") == 0,
                          "the daemon's tool never got SIGTERM");
                pm_free(text);
                cli_fx_run(&fx, root, env, (const char *const[]){ "stop", "--root", root, NULL },
                           &r);
                cli_run_release(&r);
                pm_free(run_env);
                pm_free(run);
        }
        pm_free(pidfile);
        pm_free(termed);
        pm_free(tool);
        pm_free(root);
        cli_fx_release(&fx);
}
