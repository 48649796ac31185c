/* SPDX-License-Identifier: MIT */
/* The spawned-daemon fixture (daemon.h): fork + exec of the built projmodel, no shell. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "testlib.h"

static char env_runtime[4096], env_cache[4096];
static const char *env_vec[4];

const char *const *
pm_test_daemon_env(const struct pm_test_daemon *d)
{
        (void)snprintf(env_runtime, sizeof(env_runtime), "XDG_RUNTIME_DIR=%s", d->runtime);
        (void)snprintf(env_cache, sizeof(env_cache), "XDG_CACHE_HOME=%s", d->cache);
        env_vec[0] = env_runtime;
        env_vec[1] = env_cache;
        env_vec[2] = NULL;
        return env_vec;
}

void
pm_test_daemon_start(struct pm_test_daemon *d)
{
        struct timespec pause = { 0, 2 * 1000 * 1000 };
        struct pm_client *c = NULL;
        struct pm_error err;
        pid_t pid;

        pid = fork();
        cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

                if (fd >= 0) {
                        (void)dup2(fd, 1);
                        (void)dup2(fd, 2);
                }
                (void)setenv("XDG_RUNTIME_DIR", d->runtime, 1);
                (void)setenv("XDG_CACHE_HOME", d->cache, 1);
                execl(pm_test_projmodel(), "projmodel", "serve", "--foreground", "--root", d->root,
                      "--socket", d->socket, "--db", d->db, d->seed ? "--seed" : (char *)NULL,
                      d->seed, (char *)NULL);
                _exit(127);
        }
        d->pid = pid;
        /* Wait for the socket: connect attempts, bounded; the daemon's death ends it early. */
        for (int i = 0; i < 15000; i++) {
                int status;

                pm_error_init(&err);
                if (pm_client_connect(d->socket, &c, &err) == 0) {
                        cJSON *st = NULL;
                        int r;

                        /* Accepting is not enough (a dying daemon's socket may linger in a
                         * child for a moment): it must answer. */
                        r = pm_client_call(c, "projmodel/status", NULL, 1000, NULL, NULL, &st,
                                           &err);
                        cJSON_Delete(st);
                        pm_client_free(c);
                        if (r == 0)
                                return;
                }
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        d->pid = -1;
                        cr_assert_fail("the daemon exited during startup (status %d), log:\n%s",
                                       status, pm_test_read_file(d->log));
                }
                (void)nanosleep(&pause, NULL);
        }
        cr_assert_fail("the daemon did not listen on '%s'", d->socket);
}

/* The paths of @d below its directory d->tmp, on tree @root (owned: pm_malloc'd by the caller),
 * with its runtime and cache directories made. */
static void
daemon_paths(struct pm_test_daemon *d, char *root)
{
        d->root = root;
        d->runtime = pm_test_strf("%s/run", d->tmp);
        d->cache = pm_test_strf("%s/cache", d->tmp);
        d->socket = pm_test_strf("%s/run/projmodel/test.sock", d->tmp);
        d->db = pm_test_strf("%s/cache/model.db", d->tmp);
        d->log = pm_test_strf("%s/daemon.log", d->tmp);
        cr_assert_eq(mkdir(d->runtime, 0700), 0);
        cr_assert_eq(mkdir(d->cache, 0700), 0);
}

void
pm_test_daemon_setup_at(struct pm_test_daemon *d, const char *root, const char *dir)
{
        memset(d, 0, sizeof(*d));
        d->pid = -1;
        pm_mem_install_hooks();
        d->tmp = pm_test_strf("%s", dir);
        cr_assert_eq(mkdir(d->tmp, 0700), 0, "cannot make '%s'", d->tmp);
        daemon_paths(d, pm_test_strf("%s", root));
        pm_test_daemon_start(d);
}

void
pm_test_daemon_copy(struct pm_test_daemon *d, const char *example)
{
        char *src;

        memset(d, 0, sizeof(*d));
        d->pid = -1;
        pm_mem_install_hooks();
        d->tmp = pm_test_mkdtemp();
        cr_assert(d->tmp);
        daemon_paths(d, pm_test_strf("%s/repo", d->tmp));
        src = pm_test_strf("%s/examples/%s", pm_test_source_root(), example);
        cr_assert_eq(pm_test_copy_tree(src, d->root), 0, "cannot copy '%s'", src);
        pm_free(src);
        /* A build output left in the source tree must not leak into the copy's model. */
        src = pm_test_strf("%s/out", d->root);
        (void)pm_test_rmtree(src);
        pm_free(src);
}

void
pm_test_daemon_setup(struct pm_test_daemon *d, const char *example)
{
        pm_test_daemon_copy(d, example);
        pm_test_daemon_start(d);
}

int
pm_test_daemon_kill(struct pm_test_daemon *d, int sig)
{
        struct timespec pause = { 0, 10 * 1000 * 1000 };
        int status = 0;
        pid_t r;

        if (d->pid <= 0)
                return 0;
        (void)kill(d->pid, sig);
        /* Bounded: a daemon that does not stop (a client with unread replies held it once)
         * would hold the test, and the failure being reported, until meson's timeout. */
        for (int i = 0; i < PM_TEST_DAEMON_STOP_MS / 10; i++) {
                r = waitpid(d->pid, &status, WNOHANG);
                if (r == d->pid || (r < 0 && errno != EINTR))
                        goto out;
                (void)nanosleep(&pause, NULL);
        }
        fprintf(stderr, "the daemon did not stop within %d ms of signal %d: killed\n",
                PM_TEST_DAEMON_STOP_MS, sig);
        (void)kill(d->pid, SIGKILL);
        while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
                ;
out:
        d->pid = -1;
        return status;
}

void
pm_test_daemon_destroy(struct pm_test_daemon *d)
{
        (void)pm_test_daemon_kill(d, SIGTERM);
        /* PM_TEST_DAEMON_LOG=1 shows what the daemon said, for debugging a failure. */
        if (getenv("PM_TEST_DAEMON_LOG") && d->log) {
                char *log = pm_test_read_file(d->log);

                fprintf(stderr, "---- daemon log ----\n%s----\n", log ? log : "");
                pm_free(log);
        }
        if (d->tmp)
                (void)pm_test_rmtree(d->tmp);
        pm_free(d->tmp);
        pm_free(d->root);
        pm_free(d->runtime);
        pm_free(d->cache);
        pm_free(d->socket);
        pm_free(d->db);
        pm_free(d->log);
        pm_free(d->seed);
        memset(d, 0, sizeof(*d));
        d->pid = -1;
}

struct pm_client *
pm_test_daemon_connect(const struct pm_test_daemon *d)
{
        struct pm_client *c = NULL;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_client_connect(d->socket, &c, &err), 0, "connect: %s", err.msg);
        return c;
}

static cJSON *
parse_params(const char *params_json)
{
        cJSON *p;

        if (!params_json)
                return NULL;
        p = cJSON_Parse(params_json);
        cr_assert(p, "bad test params '%s'", params_json);
        return p;
}

cJSON *
pm_test_call(struct pm_client *c, const char *method, const char *params_json)
{
        struct pm_error err;
        cJSON *result = NULL;
        int r;

        pm_error_init(&err);
        r = pm_client_call(c, method, parse_params(params_json), PM_TEST_DAEMON_TIMEOUT_MS, NULL,
                           NULL, &result, &err);
        cr_assert_eq(r, 0, "%s %s failed: %s (%s)", method, params_json ? params_json : "", err.msg,
                     pm_error_name(r));
        return result;
}

int
pm_test_call_error(struct pm_client *c, const char *method, const char *params_json)
{
        struct pm_error err;
        cJSON *result = NULL;
        int r;

        pm_error_init(&err);
        r = pm_client_call(c, method, parse_params(params_json), PM_TEST_DAEMON_TIMEOUT_MS, NULL,
                           NULL, &result, &err);
        cJSON_Delete(result);
        cr_assert_lt(r, 0, "%s %s unexpectedly succeeded", method, params_json ? params_json : "");
        return r;
}

cJSON *
pm_test_wait_notification(struct pm_client *c, const char *method, int timeout_ms)
{
        struct timespec start, now;

        (void)clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                struct pm_error err;
                cJSON *msg = NULL;
                const cJSON *m;
                long left;

                (void)clock_gettime(CLOCK_MONOTONIC, &now);
                left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
                                     (now.tv_nsec - start.tv_nsec) / 1000000);
                if (left <= 0)
                        return NULL;
                pm_error_init(&err);
                if (pm_client_recv(c, (int)left, &msg, &err) < 0)
                        return NULL;
                m = cJSON_GetObjectItemCaseSensitive(msg, "method");
                if (cJSON_IsString(m) && strcmp(m->valuestring, method) == 0)
                        return msg;
                cJSON_Delete(msg);
        }
}

bool
pm_test_json_array_has(const cJSON *a, const char *s)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, a)
        {
                if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
                        return true;
        }
        return false;
}

const cJSON *
pm_test_status_warning(const cJSON *status, const char *needle)
{
        const cJSON *it;

        cJSON_ArrayForEach(it, cJSON_GetObjectItem(status, "warnings"))
        {
                const cJSON *m = cJSON_GetObjectItem(it, "message");

                if (cJSON_IsString(m) && strstr(m->valuestring, needle))
                        return it;
        }
        return NULL;
}
