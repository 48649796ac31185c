/* SPDX-License-Identifier: MIT */
/* `projmodel run` of a Bazel binary stopped by the user (server/check-adapter.c): the script
 * `bazel run --script_path` wrote is removed whether the signal comes while Bazel builds or while
 * the program runs, the signal reaches the running step, and the command ends with 128 + the
 * signal. A stand-in bazel writes the script and says through a FIFO when each stage runs. */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/check.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "bazel-test.h"
#include "testlib.h"

PM_BAZEL_WS_SUITE(bazel_run_signal, ws, "basic");

/*
 * Run //app:app through a stand-in bazel whose @stage ("bazel": Bazel itself, after writing the
 * script; "program": the script) says so on a FIFO and then sleeps; send @sig to the command
 * then. Returns the command's wait status; *@ret_script gets the script's path.
 */
static int
run_and_stop(const char *stage, int sig, char **ret_script)
{
        char *fifo = pm_test_strf("%s/stage", ws.tmp);
        char *fake = pm_test_strf("%s/fake-bazel", ws.tmp);
        char *told = pm_test_strf("%s/script-path", ws.tmp);
        char *body = pm_test_strf(
                "#!/bin/sh\n"
                "for a in \"$@\"; do case \"$a\" in --script_path=*) s=\"${a#--script_path=}\";; "
                "esac; done\n"
                "printf '%%s' \"$s\" > '%s'\n"
                "printf '#!/bin/sh\\necho program > %s\\nexec sleep 20\\n' > \"$s\"\n"
                "chmod +x \"$s\"\n"
                "if [ %s = bazel ]; then echo bazel > '%s'; exec sleep 20; fi\n",
                told, fifo, stage, fifo);
        char *settings = pm_test_strf("\"output_base\": \"%s\", \"command\": \"%s\"", ws.ob, fake);
        char buf[16] = "";
        int fd, status = 0;
        pid_t pid;

        cr_assert_eq(mkfifo(fifo, 0600), 0);
        cr_assert_eq(pm_test_write_file(fake, body), 0);
        cr_assert_eq(chmod(fake, 0755), 0);
        pm_bazel_ws_settings(&ws, settings);
        pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
                /* As the CLI starts: the default dispositions, whatever the test runner set. */
                struct pm_crate c = { .label = "//app:app",
                                      .kind = PM_CRATE_BIN,
                                      .build_system = "bazel" };
                struct pm_check_request req = { .action = PM_CHECK_RUN,
                                                .crate = &c,
                                                .project = &ws.cfg->projects[0],
                                                .out_dir = ws.tmp };
                struct pm_check_result res = { 0 };
                struct pm_error err;
                sigset_t none;
                int r;

                (void)signal(SIGINT, SIG_DFL);
                (void)signal(SIGTERM, SIG_DFL);
                (void)signal(SIGHUP, SIG_DFL);
                (void)sigemptyset(&none);
                (void)sigprocmask(SIG_SETMASK, &none, NULL);
                pm_error_init(&err);
                r = pm_check_run(ws.cfg, &req, &res, &err);
                _exit(r < 0 ? 99 : res.exit_status > 255 ? 255 : res.exit_status);
        }
        /* Blocks until the stage opens the FIFO to say it runs. */
        fd = open(fifo, O_RDONLY);
        cr_assert_geq(fd, 0);
        cr_assert_gt(read(fd, buf, sizeof(buf) - 1), 0);
        (void)close(fd);
        cr_assert(strncmp(buf, stage, strlen(stage)) == 0, "'%s' ran, not '%s'", buf, stage);
        *ret_script = pm_test_read_file(told);
        cr_assert_not_null(*ret_script);
        cr_assert_eq(access(*ret_script, F_OK), 0, "the script is there while it runs");
        cr_assert_eq(kill(pid, sig), 0);
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        pm_free(fifo);
        pm_free(fake);
        pm_free(told);
        pm_free(body);
        pm_free(settings);
        return status;
}

/* Ctrl-C (SIGINT) while the program runs: it gets the signal and dies of it, the command
 * exits 130, the script is gone. */
Test(bazel_run_signal, sigint_while_the_program_runs_removes_the_script)
{
        char *script = NULL;
        int status = run_and_stop("program", SIGINT, &script);

        cr_assert(WIFEXITED(status), "the command died of signal %d before cleaning up",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        cr_assert_eq(WEXITSTATUS(status), 130);
        cr_assert_neq(access(script, F_OK), 0, "%s is left behind", script);
        pm_free(script);
}

/* SIGTERM while Bazel runs, once it has written the script: Bazel gets it, the program never
 * starts, the command exits 143 and the script is gone. */
Test(bazel_run_signal, sigterm_while_bazel_runs_removes_the_script)
{
        char *script = NULL;
        int status = run_and_stop("bazel", SIGTERM, &script);

        cr_assert(WIFEXITED(status), "the command died of signal %d before cleaning up",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        cr_assert_eq(WEXITSTATUS(status), 143);
        cr_assert_neq(access(script, F_OK), 0, "%s is left behind", script);
        pm_free(script);
}
