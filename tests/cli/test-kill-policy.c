/* SPDX-License-Identifier: MIT */
/* The step runner's kill policy through `projmodel export` (server/spawn.c): a build tool still
 * running at tool_timeout_ms gets SIGTERM, and one that ignores it is killed PM_TOOL_KILL_GRACE_MS
 * (2 s) later; the export fails with the timeout, naming the command, and the daemon does the
 * same; `projmodel stop` returns only once the daemon has killed such a tool and exited. The tool
 * is Cargo's configured `command` (argv only, as the adapter allows). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
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

/*
 * A Cargo root (*ret_root, fx->tmp/cargo-repo) whose `cargo` (*ret_tool) writes its pid to
 * *ret_pidfile, writes "yes" to *ret_termed on SIGTERM and otherwise ignores it, and runs for two
 * minutes; tools time out after @timeout_ms. pm_malloc'd.
 */
static void
stubborn_root(const struct cli_fx *fx, unsigned timeout_ms, char **ret_root, char **ret_tool,
              char **ret_termed, char **ret_pidfile)
{
        char *text, *json;

        *ret_root = pm_test_strf("%s/cargo-repo", fx->tmp);
        *ret_tool = pm_test_strf("%s/stubborn-cargo", fx->tmp);
        *ret_termed = pm_test_strf("%s/got-sigterm", fx->tmp);
        *ret_pidfile = pm_test_strf("%s/pid", fx->tmp);
        text = pm_test_strf("#!/bin/sh\n"
                            "echo $$ > '%s'\n"
                            "trap \"echo yes > '%s'\" TERM\n"
                            "i=0\n"
                            "while [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done\n",
                            *ret_pidfile, *ret_termed);
        cli_write_script(*ret_tool, text);
        pm_free(text);
        json = pm_test_strf("{\"build_system\": \"cargo\", \"tool_timeout_ms\": %u,"
                            " \"cargo\": {\"command\": \"%s\"}}\n",
                            timeout_ms, *ret_tool);
        cli_cargo_package(*ret_root, "a", json);
        pm_free(json);
}

/* Whether process @pid has exited: gone, or a zombie its parent has not reaped. */
static bool
exited(long pid)
{
        char *path = pm_test_strf("/proc/%ld/stat", pid);
        char *stat = pm_test_read_file(path);
        const char *paren = stat ? strrchr(stat, ')') : NULL;
        bool r = !stat || (paren && paren[1] == ' ' && paren[2] == 'Z');

        pm_free(stat);
        pm_free(path);
        return r;
}

/* @termed says the tool (@who, for the message) got SIGTERM. */
static void
assert_got_sigterm(const char *termed, const char *who)
{
        char *text = pm_test_read_file(termed);

        cr_assert(text && strcmp(text, "yes\n") == 0, "%s never got SIGTERM", who);
        pm_free(text);
}

Test(cli_kill_policy, a_tool_ignoring_sigterm_is_killed_after_the_grace, .timeout = 300)
{
        struct cli_fx fx;
        struct cli_run r;
        char *root, *tool, *termed, *pidfile, *pidtext;
        double start, took;
        long pid;

        cli_fx_init(&fx, false);
        stubborn_root(&fx, 2000, &root, &tool, &termed, &pidfile);

        start = now_s();
        cli_fx_run(&fx, root, NULL,
                   (const char *const[]){ "export", "--root", root, "--db", fx.db, NULL }, &r);
        took = now_s() - start;
        cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, "did not finish within 2000 ms (tool_timeout_ms)"),
                  "stderr: %s", r.err);
        cr_assert(strstr(r.err, tool), "the command is not named: %s", r.err);
        /* SIGTERM came first, and was ignored... */
        assert_got_sigterm(termed, "the tool");
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
                assert_got_sigterm(termed, "the daemon's tool");
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

/*
 * `projmodel stop` while the daemon's first refresh runs a tool that ignores SIGTERM: the daemon
 * closes the connection at once but lives on for the kill grace (2 s) until it has killed and
 * reaped the tool. stop returns only after that, so neither the daemon nor its tool is left
 * running (writing into a cache a test, or a script, removes next).
 */
Test(cli_kill_policy, stop_returns_once_the_daemon_has_exited, .timeout = 300)
{
        struct cli_fx fx;
        struct cli_run r;
        char *root, *tool, *termed, *pidfile, *run_env, *pidtext = NULL;
        const char *pidat;
        long daemon_pid = 0, tool_pid;
        struct timespec pause = { 0, 20 * 1000 * 1000 };

        cli_fx_init(&fx, false);
        stubborn_root(&fx, 600000, &root, &tool, &termed, &pidfile);
        cli_fx_daemon_env(&fx, &run_env, NULL);
        cli_fx_run(&fx, root, (const char *const[]){ run_env, NULL },
                   (const char *const[]){ "serve", "--root", root, NULL }, &r);
        cr_assert_eq(r.status, 0, "serve: %s %s", r.out, r.err);
        cli_run_release(&r);
        /* The first refresh has started the tool. */
        for (int i = 0; i < 6000 && !pidtext; i++) {
                pidtext = pm_test_read_file(pidfile);
                if (pidtext && !strchr(pidtext, '\n')) { /* written but not finished */
                        pm_free(pidtext);
                        pidtext = NULL;
                }
                if (!pidtext)
                        (void)nanosleep(&pause, NULL);
        }
        cr_assert(pidtext, "the daemon never ran %s", tool);
        tool_pid = strtol(pidtext, NULL, 10);
        cr_assert_gt(tool_pid, 0);

        cli_fx_run(&fx, root, (const char *const[]){ run_env, NULL },
                   (const char *const[]){ "stop", "--root", root, NULL }, &r);
        cr_assert_eq(r.status, 0, "stop: %s %s", r.out, r.err);
        pidat = strstr(r.out, "(pid ");
        cr_assert(pidat && sscanf(pidat, "(pid %ld)", &daemon_pid) == 1 && daemon_pid > 0,
                  "stop: %s", r.out);
        cr_assert(exited(daemon_pid), "stop returned while the daemon %ld still ran", daemon_pid);
        cr_assert(exited(tool_pid), "the daemon's tool %ld still runs", tool_pid);
        assert_got_sigterm(termed, "the daemon's tool");

        cli_run_release(&r);
        pm_free(pidtext);
        pm_free(run_env);
        pm_free(pidfile);
        pm_free(termed);
        pm_free(tool);
        pm_free(root);
        cli_fx_release(&fx);
}
