/* SPDX-License-Identifier: MIT */
/* Integration tests: who may reach the daemon (directory and socket modes, another uid), the
 * one-daemon-per-root lock, and `projmodel discover` as a thin client (also many at once). */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/server.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_access, d, "gn-monorepo");

Test(daemon_access, socket_dir_and_socket_are_private)
{
        struct stat st;
        char *dir = pm_test_strf("%s/projmodel", d.runtime);

        cr_assert_eq(stat(dir, &st), 0);
        cr_assert_eq(st.st_mode & 0777, 0700, "mode %o", st.st_mode & 0777);
        cr_assert_eq(st.st_uid, geteuid());
        cr_assert_eq(lstat(d.socket, &st), 0);
        cr_assert(S_ISSOCK(st.st_mode));
        cr_assert_eq(st.st_mode & 0077, 0, "mode %o", st.st_mode & 0777);
        pm_free(dir);
}

Test(daemon_access, other_uid_cannot_connect)
{
        pid_t pid;
        int status;

        if (geteuid() != 0) {
                /* Without root we cannot become another user: the modes above are the guard.
                 * Check the same property the kernel enforces: no access bits for others. */
                struct stat st;
                char *dir = pm_test_strf("%s/projmodel", d.runtime);

                cr_assert_eq(stat(dir, &st), 0);
                cr_assert_eq(st.st_mode & 0007, 0);
                pm_free(dir);
                return;
        }
        pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                int fd;

                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(3);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        _exit(4);
                (void)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d.socket);
                if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        _exit(1); /* reached the daemon: the test fails */
                _exit(errno == EACCES || errno == EPERM ? 0 : 2);
        }
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status));
        cr_assert_eq(WEXITSTATUS(status), 0, "child status %d", WEXITSTATUS(status));
}

Test(daemon_access, second_daemon_refuses)
{
        const char *argv[] = { pm_test_projmodel(), "serve",  "--foreground", "--root", d.root,
                               "--socket",          d.socket, "--db",         d.db,     NULL };
        char *out = NULL, *err = NULL;
        int rc = pm_test_run(argv, NULL, pm_test_daemon_env(&d), NULL, &out, &err);

        cr_assert_eq(rc, 1, "status %d, stderr: %s", rc, err);
        cr_assert(strstr(err, "already serves"), "%s", err);
        pm_free(out);
        pm_free(err);
        /* The first one is unharmed. */
        {
                struct pm_client *c = pm_test_daemon_connect(&d);
                cJSON *r = pm_test_call(c, "projmodel/status", NULL);

                cJSON_Delete(r);
                pm_client_free(c);
        }
}

/* Check one discover run's output: progress lines, then exactly one terminal line, last. */
static void
check_discover_output(const char *out, const char *expect_bf)
{
        const char *line = out, *nl;
        int terminal = 0, lines = 0;
        cJSON *last = NULL;

        cr_assert(out && out[0], "no output");
        while ((nl = strchr(line, '\n'))) {
                cJSON *msg = cJSON_ParseWithLength(line, (size_t)(nl - line));
                const cJSON *kind;

                cr_assert(msg, "not JSON: %.*s", (int)(nl - line), line);
                kind = cJSON_GetObjectItem(msg, "kind");
                cr_assert(cJSON_IsString(kind));
                if (strcmp(kind->valuestring, "progress") != 0) {
                        terminal++;
                        cJSON_Delete(last);
                        last = msg;
                } else {
                        cr_assert_eq(terminal, 0, "progress after the terminal line");
                        cJSON_Delete(msg);
                }
                lines++;
                line = nl + 1;
        }
        cr_assert_eq(*line, '\0', "unterminated last line");
        cr_assert_eq(terminal, 1);
        cr_assert_str_eq(cJSON_GetObjectItem(last, "kind")->valuestring, "finished", "%s", out);
        cr_assert_str_eq(cJSON_GetObjectItem(last, "buildfile")->valuestring, expect_bf);
        cJSON_Delete(last);
}

Test(daemon_access, discover_is_a_thin_client)
{
        char *arg = pm_test_strf("{\"path\":\"%s/lib/util/src/lib.rs\"}", d.root);
        char *bf = pm_test_strf("%s/lib/util/BUILD.gn", d.root);
        const char *argv[] = { pm_test_projmodel(), "discover", arg, NULL };
        char *out = NULL, *err = NULL;
        char *env[4];
        int rc;

        /* Point the client at the fixture's socket through its XDG_RUNTIME_DIR: the socket
         * there is the default one only for the default name, so use a daemon of our own. */
        pm_test_daemon_kill(&d, SIGTERM);
        env[0] = (char *)pm_test_daemon_env(&d)[0];
        env[1] = (char *)pm_test_daemon_env(&d)[1];
        env[2] = NULL;
        rc = pm_test_run(argv, d.root, (const char *const *)env, NULL, &out, &err);
        cr_assert_eq(rc, 0);
        cr_assert_str_eq(err, "", "stderr must stay empty: %s", err);
        check_discover_output(out, bf);
        pm_free(out);
        pm_free(err);
        /* A second run reuses the daemon the first one started. */
        rc = pm_test_run(argv, d.root, (const char *const *)env, NULL, &out, &err);
        cr_assert_eq(rc, 0);
        check_discover_output(out, bf);
        pm_free(out);
        pm_free(err);
        {
                const char *stop[] = { pm_test_projmodel(), "stop", "--root", d.root, NULL };

                rc = pm_test_run(stop, NULL, (const char *const *)env, NULL, &out, &err);
                cr_assert_eq(rc, 0, "stop: %s", err);
                pm_free(out);
                pm_free(err);
        }
        pm_free(arg);
        pm_free(bf);
}

Test(daemon_access, concurrent_discovers_start_one_daemon)
{
        enum {
                N = 16
        };

        char *arg = pm_test_strf("{\"path\":\"%s/lib/engine/src/job.rs\"}", d.root);
        char *bf = pm_test_strf("%s/lib/engine/BUILD.gn", d.root);
        const char *argv[] = { pm_test_projmodel(), "discover", arg, NULL };
        const char *const *env;
        pid_t pids[N];

        pm_test_daemon_kill(&d, SIGTERM);
        env = pm_test_daemon_env(&d);
        /* Each child runs one discover and checks its output itself. */
        for (int i = 0; i < N; i++) {
                pids[i] = fork();
                cr_assert_geq(pids[i], 0);
                if (pids[i] == 0) {
                        char *out = NULL, *err = NULL;
                        int rc = pm_test_run(argv, d.root, env, NULL, &out, &err);

                        if (rc != 0 || !err || err[0] || !out ||
                            !strstr(out, "\"kind\":\"finished\""))
                                _exit(1);
                        check_discover_output(out, bf);
                        _exit(0);
                }
        }
        for (int i = 0; i < N; i++) {
                int status;

                cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
                cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "discover %d failed", i);
        }
        {
                const char *stop[] = { pm_test_projmodel(), "stop", "--root", d.root, NULL };
                char *out = NULL, *err = NULL;

                cr_assert_eq(pm_test_run(stop, NULL, env, NULL, &out, &err), 0, "%s", err);
                pm_free(out);
                pm_free(err);
        }
        pm_free(arg);
        pm_free(bf);
}
