/* SPDX-License-Identifier: MIT */
/* Integration tests: malformed frames and many concurrent clients against a real daemon; after
 * each abuse the daemon still answers; a client that reads nothing does not hold its stop. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_robust, d, "gn-monorepo");

static void
assert_alive(void)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);

        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "generation")));
        cJSON_Delete(r);
        pm_client_free(c);
}

/* Send @raw; return the error code of the reply the daemon sends (0 if it just closed). */
static int
send_raw_expect(const char *raw, size_t len, bool expect_close)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        struct pm_error err;
        cJSON *msg = NULL;
        int code = 0, r;

        pm_error_init(&err);
        cr_assert_eq(pm_client_send_raw(c, raw, len, &err), 0);
        r = pm_client_recv(c, PM_TEST_DAEMON_TIMEOUT_MS, &msg, &err);
        if (r == 0) {
                const cJSON *e = cJSON_GetObjectItem(msg, "error");

                cr_assert(e, "expected an error reply");
                code = (int)cJSON_GetObjectItem(e, "code")->valuedouble;
                cJSON_Delete(msg);
                msg = NULL;
        } else {
                cr_assert_eq(r, -ECONNRESET, "%s", err.msg);
        }
        if (expect_close) {
                /* Nothing more comes: the connection ends. */
                do {
                        cJSON_Delete(msg);
                        msg = NULL;
                        r = pm_client_recv(c, PM_TEST_DAEMON_TIMEOUT_MS, &msg, &err);
                } while (r == 0);
                cr_assert_eq(r, -ECONNRESET, "%s", err.msg);
        }
        pm_client_free(c);
        return code;
}

static int
send_body(const char *body)
{
        char *raw = pm_test_strf("Content-Length: %zu\r\n\r\n%s", strlen(body), body);
        int code = send_raw_expect(raw, strlen(raw), false);

        pm_free(raw);
        return code;
}

Test(daemon_robust, bad_headers_get_an_error_and_a_close)
{
        const char *bad[] = {
                "Content-Type: application/json\r\n\r\n{}",
                "Content-Length: -4\r\n\r\n{}",
                "Content-Length: abc\r\n\r\n{}",
                "garbage without a colon\r\n\r\n",
                "Content-Length: 999999999999999999999\r\n\r\n",
                "Content-Length: 16777217\r\n\r\n",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int code = send_raw_expect(bad[i], strlen(bad[i]), true);

                cr_assert(code == -32600 || code == -32007, "case %zu: code %d", i, code);
                assert_alive();
        }
}

Test(daemon_robust, bad_bodies_get_error_replies)
{
        char deep[2000];

        cr_assert_eq(send_body("{\"jsonrpc\":\"2.0\",\"id\":1,"), -32700);
        cr_assert_eq(send_body("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"projmodel/status\"}"),
                     -32600);
        cr_assert_eq(send_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such\"}"), -32601);
        cr_assert_eq(send_body("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"projmodel/crate\","
                               "\"params\":{\"label\":3}}"),
                     -32602);
        cr_assert_eq(send_body("[1,2]"), -32600);
        memset(deep, '[', sizeof(deep) - 1);
        deep[sizeof(deep) - 1] = '\0';
        cr_assert_eq(send_body(deep), -32007);
        assert_alive();
}

Test(daemon_robust, disconnect_mid_frame)
{
        const char *partial[] = { "Content-Len", "Content-Length: 100\r\n\r\n{\"jsonrpc\":",
                                  "Content-Length: 100\r\n" };

        for (size_t i = 0; i < 3; i++) {
                struct pm_client *c = pm_test_daemon_connect(&d);
                struct pm_error err;

                pm_error_init(&err);
                cr_assert_eq(pm_client_send_raw(c, partial[i], strlen(partial[i]), &err), 0);
                pm_client_free(c);
        }
        /* Also a client that disconnects with a request still being answered. */
        {
                struct pm_client *c = pm_test_daemon_connect(&d);
                struct pm_error err;

                pm_error_init(&err);
                cr_assert_eq(pm_client_send(c, "projmodel/rustProject", NULL, false, NULL, &err),
                             0);
                pm_client_free(c);
        }
        assert_alive();
}

struct worker {
        pthread_t thread;
        char *params;
        char *expect_bf;
        bool ok;
        char why[1100];
};

static void *
worker_main(void *arg)
{
        struct worker *w = arg;
        struct pm_client *c = NULL;
        struct pm_error err;
        cJSON *res = NULL;
        const cJSON *bf;

        pm_error_init(&err);
        if (pm_client_connect(d.socket, &c, &err) < 0) {
                (void)snprintf(w->why, sizeof(w->why), "connect: %s", err.msg);
                return NULL;
        }
        if (pm_client_call(c, "projmodel/rustProject", cJSON_Parse(w->params),
                           PM_TEST_DAEMON_TIMEOUT_MS, NULL, NULL, &res, &err) < 0) {
                (void)snprintf(w->why, sizeof(w->why), "call: %s", err.msg);
                pm_client_free(c);
                return NULL;
        }
        bf = cJSON_GetObjectItem(res, "buildfile");
        w->ok = cJSON_IsString(bf) && strcmp(bf->valuestring, w->expect_bf) == 0 &&
                cJSON_GetArraySize(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(res, "project"), "crates")) >= 1;
        if (!w->ok)
                (void)snprintf(w->why, sizeof(w->why), "wrong reply");
        cJSON_Delete(res);
        pm_client_free(c);
        return NULL;
}

Test(daemon_robust, many_concurrent_clients)
{
        enum {
                N = 120
        };
        static struct worker w[N];
        const char *files[] = { "lib/util/src/lib.rs", "lib/engine/src/job.rs",
                                "app/server/src/main.rs", "third_party/fnv/lib.rs" };
        const char *bfs[] = { "lib/util/BUILD.gn", "lib/engine/BUILD.gn", "app/server/BUILD.gn",
                              "third_party/fnv/BUILD.gn" };

        for (int i = 0; i < N; i++) {
                w[i].params = pm_test_strf("{\"path\":\"%s/%s\"}", d.root, files[i % 4]);
                w[i].expect_bf = pm_test_strf("%s/%s", d.root, bfs[i % 4]);
        }
        for (int i = 0; i < N; i++)
                cr_assert_eq(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
        for (int i = 0; i < N; i++)
                cr_assert_eq(pthread_join(w[i].thread, NULL), 0);
        for (int i = 0; i < N; i++) {
                cr_expect(w[i].ok, "client %d: %s", i, w[i].why);
                pm_free(w[i].params);
                pm_free(w[i].expect_bf);
        }
        assert_alive();
}

/* A client that reads none of its replies (megabytes queued for it) cannot hold the daemon's
 * stop: SIGTERM still ends it with a clean exit (server/daemon.c, PM_STOP_FLUSH_MS). */
Test(daemon_robust, a_client_with_unread_replies_does_not_hold_the_stop)
{
        static const char body[] =
                "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"projmodel/rustProject\"}";
        char *raw = pm_test_strf("Content-Length: %zu\r\n\r\n%s", strlen(body), body);
        struct pm_client *c = pm_test_daemon_connect(&d);
        struct pm_error err;
        int status;

        pm_error_init(&err);
        /* A model first: until then the requests would be parked, and get short replies. */
        cJSON_Delete(pm_test_call(c, "projmodel/rustProject", NULL));
        for (int i = 0; i < 200; i++)
                cr_assert_eq(pm_client_send_raw(c, raw, strlen(raw), &err), 0, "%s", err.msg);
        /* One loop reads in arrival order: when another client is answered, the daemon has
         * read these requests and queued what the socket does not hold. */
        assert_alive();
        status = pm_test_daemon_kill(&d, SIGTERM);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "wait status %#x", status);
        pm_client_free(c);
        pm_free(raw);
}
