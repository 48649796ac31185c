/* SPDX-License-Identifier: MIT */
/* The blocking JSON-RPC client of the daemon's socket (projmodel/client.h): connect, send framed
 * requests, read framed replies with a deadline. Used by the one-shot commands and the tests. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

struct pm_client {
        int fd;
        int64_t next_id;
        struct pm__frame_parser parser;
};

int
pm_client_connect(const char *socket_path, struct pm_client **ret, struct pm_error *err)
{
        struct sockaddr_un sa;
        struct pm_client *c = NULL;
        int fd = -1, r = 0;

        memset(&sa, 0, sizeof(sa));
        sa.sun_family = AF_UNIX;
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                return pm_error_set(err, PM_ELIMIT, "socket path '%s' too long", socket_path);
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return pm_error_set(err, -errno, "cannot create a socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                r = pm_error_set(err, -errno, "cannot connect to '%s': %s", socket_path,
                                 strerror(errno));
                goto out;
        }
        c = pm_calloc(1, sizeof(*c));
        if (!c) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        c->fd = pm_steal_fd(&fd);
        c->next_id = 1;
        pm__frame_parser_init(&c->parser);
        *ret = c;
out:
        if (fd >= 0)
                (void)close(fd);
        return r;
}

struct pm_client *
pm_client_free(struct pm_client *c)
{
        if (!c)
                return NULL;
        if (c->fd >= 0)
                (void)close(c->fd);
        pm__frame_parser_release(&c->parser);
        pm_free(c);
        return NULL;
}

int
pm_client_check_peer(const struct pm_client *c, const char *socket_path, struct pm_error *err)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return pm_error_set(err, -errno, "cannot check who listens on '%s': %s",
                                    socket_path, strerror(errno));
        if (cred.uid != geteuid())
                return pm_error_set(err, -EPERM, "the daemon on '%s' runs as uid %u, not us",
                                    socket_path, (unsigned)cred.uid);
        return 0;
}

int
pm_client_peer_pid(const struct pm_client *c, pid_t *ret_pid, struct pm_error *err)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return pm_error_set(err, -errno, "cannot ask the daemon's pid: %s",
                                    strerror(errno));
        *ret_pid = cred.pid;
        return 0;
}

static int
write_all(int fd, const char *p, size_t n, struct pm_error *err)
{
        while (n) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return pm_error_set(err, -errno, "cannot write to the daemon: %s",
                                            strerror(errno));
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

int
pm_client_send_raw(struct pm_client *c, const void *data, unsigned long len, struct pm_error *err)
{
        return write_all(c->fd, data, len, err);
}

int
pm_client_send(struct pm_client *c, const char *method, struct cJSON *params, bool notification,
               int64_t *ret_id, struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        cJSON *msg = cJSON_CreateObject();
        char *body = NULL;
        int64_t id = c->next_id;
        int r;

        if (!msg || !cJSON_AddStringToObject(msg, "jsonrpc", "2.0") ||
            (!notification && !cJSON_AddNumberToObject(msg, "id", (double)id)) ||
            !cJSON_AddStringToObject(msg, "method", method)) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        /* A request whose params could not be added must not go without them. */
        if (params && !pm_json_add(msg, "params", pm_steal_ptr(&params))) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        body = cJSON_PrintUnformatted(msg);
        if (!body || pm__frame_encode(&sb, body, strlen(body)) < 0) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = write_all(c->fd, sb.buf, sb.len, err);
        if (r < 0)
                goto out;
        if (!notification) {
                c->next_id++;
                if (ret_id)
                        *ret_id = id;
        }
out:
        cJSON_Delete(params);
        cJSON_Delete(msg);
        cJSON_free(body);
        pm_strbuf_release(&sb);
        return r;
}

static int64_t
now_ms(void)
{
        return (int64_t)pm_clock_ms();
}

int
pm_client_recv_body(struct pm_client *c, int timeout_ms, const char **ret_body, size_t *ret_len,
                    struct pm_error *err)
{
        int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
        char buf[65536];
        int r;

        for (;;) {
                struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
                int wait;
                ssize_t n;

                r = pm__frame_next(&c->parser, ret_body, ret_len, err);
                if (r < 0)
                        return r;
                if (r == 1)
                        return 0;
                wait = deadline < 0 ? -1 : (int)(deadline - now_ms());
                if (deadline >= 0 && wait <= 0)
                        return pm_error_set(err, PM_ETIMEOUT, "no reply from the daemon");
                r = poll(&pfd, 1, wait);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return pm_error_set(err, -errno, "poll: %s", strerror(errno));
                }
                if (r == 0)
                        continue;
                n = read(c->fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return pm_error_set(err, -errno, "cannot read from the daemon: %s",
                                            strerror(errno));
                }
                if (n == 0)
                        return pm_error_set(err, -ECONNRESET, "the daemon closed the connection");
                r = pm__frame_feed(&c->parser, buf, (size_t)n, err);
                if (r < 0)
                        return r;
        }
}

int
pm_client_recv(struct pm_client *c, int timeout_ms, struct cJSON **ret, struct pm_error *err)
{
        const char *body;
        size_t len;
        cJSON *msg;
        int r;

        r = pm_client_recv_body(c, timeout_ms, &body, &len, err);
        if (r < 0)
                return r;
        msg = cJSON_ParseWithLength(body, len);
        if (!msg)
                return pm_error_set(err, PM_EPARSE, "invalid JSON from the daemon");
        *ret = msg;
        return 0;
}

/* The projmodel code for an error reply: error.data.name, else by JSON-RPC code. */
static int
code_from_reply(const cJSON *e)
{
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(e, "data");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(data, "name");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");

        for (int v = -4001; v >= -4100; v--) {
                if (cJSON_IsString(name) && strcmp(pm_error_name(v), name->valuestring) == 0)
                        return v;
        }
        for (int v = -4001; v >= -4100; v--) {
                if (cJSON_IsNumber(code) && pm_error_rpc_code(v) == (int)code->valuedouble &&
                    pm_error_rpc_code(v) != -32603)
                        return v;
        }
        return PM_EPROTO;
}

int
pm_client_reply(struct cJSON *msg, int64_t id, pm_client_notify_cb cb, void *userdata,
                struct cJSON **ret_result, struct pm_error *err)
{
        cJSON *mid = cJSON_GetObjectItemCaseSensitive(msg, "id"), *e, *result;
        int r = 0;

        if (!mid || cJSON_IsNull(mid)) {
                e = cJSON_GetObjectItemCaseSensitive(msg, "error");
                if (e) {
                        /* An error about the stream itself (no id): fatal. */
                        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

                        r = pm_error_set(err, code_from_reply(e), "%s",
                                         cJSON_IsString(m) ? m->valuestring : "protocol error");
                        goto out;
                }
                if (cb)
                        cb(userdata, msg);
                goto out;
        }
        if (!cJSON_IsNumber(mid) || (int64_t)mid->valuedouble != id)
                goto out;
        e = cJSON_GetObjectItemCaseSensitive(msg, "error");
        if (e) {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

                r = pm_error_set(err, code_from_reply(e), "%s",
                                 cJSON_IsString(m) ? m->valuestring : "error reply");
                goto out;
        }
        result = cJSON_DetachItemFromObjectCaseSensitive(msg, "result");
        if (!result) {
                r = pm_error_set(err, PM_EPROTO, "reply without 'result'");
                goto out;
        }
        *ret_result = result;
        r = 1;
out:
        cJSON_Delete(msg);
        return r;
}

int
pm_client_call(struct pm_client *c, const char *method, struct cJSON *params, int timeout_ms,
               pm_client_notify_cb cb, void *userdata, struct cJSON **ret_result,
               struct pm_error *err)
{
        int64_t id;
        int r;

        r = pm_client_send(c, method, params, false, &id, err);
        if (r < 0)
                return r;
        for (;;) {
                cJSON *msg = NULL;

                r = pm_client_recv(c, timeout_ms, &msg, err);
                if (r < 0)
                        return r;
                r = pm_client_reply(msg, id, cb, userdata, ret_result, err);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}
