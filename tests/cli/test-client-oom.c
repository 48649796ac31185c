/* SPDX-License-Identifier: MIT */
/* discover's daemon path in-process (cli/client.c: cli/'s objects but main.c's) against a real
 * daemon the projmodel command started, with the Nth allocation failing for N = 1, 2, ...:
 * every failure is said as out of memory, never as a bad reply from the daemon (docs/cli.md,
 * exit 1 with the reason). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "cli-test.h"
#include "cli/cli-internal.h"
#include "testlib.h"

/* main.c's, which this executable does not link (Criterion has the main): no daemon is
 * started from here, the test's command started it. */
const char *
pm__cli_full_exe(void)
{
        return NULL;
}

Test(cli_client_oom, discover_via_the_daemon_fails_only_as_out_of_memory, .timeout = 600)
{
        struct cli_fx fx;
        char *runtime_env, *arg, *file;
        const char *argv[] = { "discover", NULL, NULL };
        const char *env[] = { NULL, NULL };
        struct cli_run run;
        char *want_bf;
        bool done = false;

        cli_fx_init(&fx, false);
        cli_fx_daemon_env(&fx, &runtime_env, NULL);
        file = cli_fx_path(&fx, "lib/engine/src/lib.rs");
        want_bf = cli_fx_path(&fx, "lib/engine/BUILD.gn");
        arg = pm_test_strf("{\"path\":\"%s\"}", file);
        /* The daemon, started by the command as rust-analyzer's first discover starts it. */
        argv[1] = arg;
        env[0] = runtime_env;
        cli_fx_run(&fx, NULL, env, argv, &run);
        cr_assert_eq(run.status, 0, "discover: %s", run.err);
        cli_run_release(&run);
        cr_assert_eq(putenv(runtime_env), 0);
        pm_mem_install_hooks();
        for (unsigned long n = 1; !done; n++) {
                struct pm__cli_discover_req req = { .kind = PM__CLI_DISCOVER_PATH,
                                                    .value = file,
                                                    /* --root: the walk is of the daemon
                                                     * path, not of finding the root */
                                                    .root = fx.repo,
                                                    .refresh = true };
                char *bf = NULL, *line = NULL;
                unsigned long failed;
                struct pm_error err;
                int r;

                cr_assert_lt(n, 10000, "no end to the walk");
                pm_error_init(&err);
                failed = pm_mem_failures();
                (void)pm_mem_fail_at(n);
                r = pm__cli_discover_via_daemon(&req, NULL, NULL, NULL, &bf, &line, &err);
                (void)pm_mem_fail_at(0);
                if (pm_mem_failures() == failed) {
                        /* No allocation failed: the walk has passed the last one. */
                        cr_assert_eq(r, 0, "%s", err.msg);
                        cr_assert_str_eq(bf, want_bf);
                        cr_assert(strstr(line, "{\"kind\":\"finished\",") == line, "%s", line);
                        done = true;
                } else {
                        cr_assert(r == 0 || r == -ENOMEM,
                                  "allocation %lu failed, and the request with %d: %s", n, r,
                                  err.msg);
                }
                pm_free(bf);
                pm_free(line);
        }
        cli_fx_stop_daemon(&fx, runtime_env, fx.repo);
        pm_free(arg);
        pm_free(file);
        pm_free(want_bf);
        cli_fx_release(&fx);
        pm_free(runtime_env);
}
