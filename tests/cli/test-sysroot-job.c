/* SPDX-License-Identifier: MIT */
/* The sysroot job of a failing export (server/sysroot.c): `rustc --print sysroot` runs on a
 * second thread while the build tools run, and the export fails after that thread finished and
 * after a child whose exec failed exited. Nothing of the thread may be left over: under the
 * ThreadSanitizer build (scripts/test.sh) the exit check of every process is read back. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

/* The names of the files in @dir starting with "tsan", joined by spaces; "" when none. */
static char *
tsan_reports(const char *dir)
{
        struct dirent *de;
        char *all = pm_test_strf("%s", "");
        DIR *d = opendir(dir);

        cr_assert(d, "cannot open '%s'", dir);
        while ((de = readdir(d)) != NULL) {
                char *path, *text, *next;

                if (strncmp(de->d_name, "tsan", 4) != 0)
                        continue;
                path = pm_test_strf("%s/%s", dir, de->d_name);
                text = pm_test_read_file(path);
                next = pm_test_strf("%s%s:\n%s\n", all, path, text ? text : "");
                pm_free(all);
                all = next;
                pm_free(text);
                pm_free(path);
        }
        (void)closedir(d);
        return all;
}

/*
 * A Cargo root whose configured cargo takes a while and fails (so the sysroot thread is done
 * by then) and a Cargo subproject whose configured cargo does not exist (the fork of its child
 * happens after the sysroot thread finished, and that child exits without exec). The export
 * fails naming the first project, and no process reports a leaked thread.
 */
Test(cli_sysroot_job, failing_export_leaves_no_thread_behind, .timeout = 300)
{
        struct cli_fx fx;
        struct cli_run r;
        char *root, *sub, *slow, *rustc, *marker, *logs, *tsan_env = NULL, *reports;
        const char *env[2] = { NULL, NULL };
        const char *tsan = getenv("TSAN_OPTIONS");

        cli_fx_init(&fx, false);
        root = pm_test_strf("%s/cargo-repo", fx.tmp);
        sub = pm_test_strf("%s/sub", root);
        slow = pm_test_strf("%s/slow-cargo", fx.tmp);
        rustc = pm_test_strf("%s/rustc", fx.tmp);
        marker = pm_test_strf("%s/rustc-asked", fx.tmp);
        logs = pm_test_strf("%s/logs", fx.tmp);
        cli_write_script(slow, "#!/bin/sh\nsleep 1.5\necho 'error: broken' >&2\nexit 1\n");
        {
                char *text = pm_test_strf("#!/bin/sh\ntouch '%s'\nexec rustc \"$@\"\n", marker);

                cli_write_script(rustc, text);
                pm_free(text);
        }
        {
                char *json = pm_test_strf(
                        "{\"build_system\": \"cargo\", \"rustc\": \"%s\",\n"
                        " \"cargo\": {\"command\": \"%s\"},\n"
                        " \"subprojects\": [{\"root\": \"sub\", \"build_system\": \"cargo\",\n"
                        "   \"cargo\": {\"command\": \"%s/no-such-cargo\"}}]}\n",
                        rustc, slow, fx.tmp);

                cli_cargo_package(root, "a", json);
                cli_cargo_package(sub, "b", NULL);
                pm_free(json);
        }
        cr_assert_eq(mkdir(logs, 0755), 0);
        if (tsan) {
                /* Later options win: every process's reports land in @logs, read below. */
                tsan_env = pm_test_strf("TSAN_OPTIONS=%s log_path=%s/tsan", tsan, logs);
                env[0] = tsan_env;
        }

        cli_fx_run(&fx, root, env,
                   (const char *const[]){ "export", "--root", root, "--db", fx.db, NULL }, &r);
        cr_assert_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, "project 'cargo:.'"), "stderr: %s", r.err);
        cr_assert(strstr(r.err, "exit status 1"), "stderr: %s", r.err);
        cr_assert_eq(access(marker, F_OK), 0, "the sysroot was not asked while the tools ran");
        reports = tsan_reports(logs);
        cr_assert_str_empty(reports, "ThreadSanitizer reported: %s", reports);

        pm_free(reports);
        cli_run_release(&r);
        pm_free(tsan_env);
        pm_free(logs);
        pm_free(marker);
        pm_free(rustc);
        pm_free(slow);
        pm_free(sub);
        pm_free(root);
        cli_fx_release(&fx);
}

/*
 * The sysroot thread runs while the build tools' children exit, so it must block every signal
 * (include/projmodel/thread.h): a SIGCHLD it took as it returned was lost under
 * ThreadSanitizer and left `projmodel discover` waiting for a zombie `gn`. The configured rustc
 * reads the thread's mask from /proc while the thread waits for it, and its own mask, which
 * must be empty again.
 */
Test(cli_sysroot_job, the_sysroot_thread_blocks_signals_and_rustc_does_not, .timeout = 300)
{
        struct cli_fx fx;
        struct cli_run r;
        char *root, *rustc, *thread_mask, *child_mask, *text;
        unsigned long long blocked = 0;

        cli_fx_init(&fx, false);
        root = pm_test_strf("%s/cargo-repo", fx.tmp);
        rustc = pm_test_strf("%s/rustc", fx.tmp);
        thread_mask = pm_test_strf("%s/thread-mask", fx.tmp);
        child_mask = pm_test_strf("%s/child-mask", fx.tmp);
        /* Only the sysroot thread's own run (`--print sysroot`) looks: the thread waits for it,
         * so it is there to be read. The Cargo plan's `rustc --print cfg` runs from the loop
         * meanwhile and may look as the thread ends; its mask is not the question. */
        text = pm_test_strf("#!/bin/sh\n"
                            "case \"$*\" in *'--print sysroot'*)\n"
                            "  for t in /proc/$PPID/task/*; do\n"
                            "    [ \"$(cat \"$t/comm\")\" = pm-sysroot ] && "
                            "sed -n 's/^SigBlk:[[:space:]]*//p' \"$t/status\" > '%s'\n"
                            "  done\n"
                            "  sed -n 's/^SigBlk:[[:space:]]*//p' /proc/self/status > '%s' ;;\n"
                            "esac\n"
                            "exec rustc \"$@\"\n",
                            thread_mask, child_mask);
        cli_write_script(rustc, text);
        pm_free(text);
        {
                char *json =
                        pm_test_strf("{\"build_system\": \"cargo\", \"rustc\": \"%s\"}\n", rustc);

                cli_cargo_package(root, "a", json);
                pm_free(json);
        }

        cli_fx_run(&fx, root, NULL,
                   (const char *const[]){ "export", "--root", root, "--db", fx.db, NULL }, &r);
        cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
        text = pm_test_read_file(thread_mask);
        cr_assert(text, "rustc was not run by the sysroot thread");
        blocked = strtoull(text, NULL, 16);
        /* Bit n-1 stands for signal n. */
        cr_assert(blocked & (1ULL << (SIGCHLD - 1)), "SIGCHLD not blocked: %s", text);
        cr_assert(blocked & (1ULL << (SIGTERM - 1)), "SIGTERM not blocked: %s", text);
        pm_free(text);
        text = pm_test_read_file(child_mask);
        cr_assert(text, "rustc did not record its own mask");
        cr_assert_eq(strtoull(text, NULL, 16), 0ULL, "rustc started with signals blocked: %s",
                     text);

        pm_free(text);
        cli_run_release(&r);
        pm_free(child_mask);
        pm_free(thread_mask);
        pm_free(rustc);
        pm_free(root);
        cli_fx_release(&fx);
}
