/* SPDX-License-Identifier: MIT */
/* The daemon's life and its clients: startup (lock, socket, model, watcher, first refresh),
 * accepting and checking peers, reading frames, dispatching, writing replies under limits,
 * parking requests until a model exists, and a clean stop. Over 800 lines because startup, the
 * clients and stopping share the client list and the loop's handles; its sections (writing,
 * dispatching, start and stop) are the split points should it grow. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/client.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/server.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "cache-collect.h"
#include "server-internal.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

void
pm__log(const char *fmt, ...)
{
        char ts[32];
        struct timespec now;
        struct tm tm;
        va_list ap;

        (void)clock_gettime(CLOCK_REALTIME, &now);
        (void)localtime_r(&now.tv_sec, &tm);
        (void)strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld projmodel[%d]: ", ts, now.tv_nsec / 1000000, (int)getpid());
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        fflush(stderr);
}

/* ---- writing ---- */

/*
 * One message in a client's queue of output (struct pm__client's out_head). The queue is written
 * by client_pump(): as much as the socket takes now with uv_try_write() (up to IOV_MAX bufs per
 * writev), and when it is full, one uv_write() of at most WRITE_BUFS bufs whose callback (the
 * socket writable again) goes on. No uv_write() gets more bufs than that: libuv (1.44) allocates
 * its own copy of a longer array after it has counted the request as active, and a failed
 * allocation leaves it counted, so that the loop would never end. A reply of 10,000 pieces is so
 * written in a few large writev() calls per wakeup, not one small write per WRITE_BUFS pieces.
 */
#define WRITE_BUFS 4
#define TRY_BUFS   1024 /* Linux's IOV_MAX: what one writev() takes */

struct pm__write_req {
        uv_write_t req;
        struct pm__write_req *next; /* the client's queue */
        struct pm__client *c;
        size_t len;                      /* bytes of the whole message */
        uv_buf_t *bufs;                  /* owned (unless &one): what is left to write */
        size_t n_bufs;                   /* bufs in @bufs */
        size_t at;                       /* the first buf not yet handed to the socket */
        uv_buf_t one;                    /* @bufs of a message in one piece */
        struct pm__shared_reply *shared; /* a reference to its middle part, or NULL */
        char data[];                     /* the framed message, or its head */
};

static void on_client_closed(uv_handle_t *h);
static void write_req_free(struct pm__write_req *w);
static void client_pump(struct pm__client *c);

/* Take @c off the server: no more reads, no parked calls, not in the list. */
static void
client_detach(struct pm__client *c)
{
        struct pm_server *srv = c->srv;
        struct pm__rpc_call **lists[2] = { &srv->parked_model, &srv->parked_fresh };

        c->closing = true;
        /* Drop what this client parked: nobody will read the replies. */
        for (size_t i = 0; i < 2; i++) {
                struct pm__rpc_call **pp = lists[i];

                while (*pp) {
                        if ((*pp)->owner == c) {
                                struct pm__rpc_call *dead = *pp;

                                *pp = dead->next;
                                srv->n_parked--;
                                pm__rpc_call_free(dead);
                        } else {
                                pp = &(*pp)->next;
                        }
                }
        }
        pm__audit_forget_client(srv, c);
        if (c->prev)
                c->prev->next = c->next;
        else
                srv->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        c->prev = c->next = NULL;
        srv->n_clients--;
        (void)uv_read_stop((uv_stream_t *)&c->pipe);
}

static void
client_close(struct pm__client *c)
{
        if (c->closing)
                return;
        client_detach(c);
        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void
on_client_closed(uv_handle_t *h)
{
        struct pm__client *c = container_of(h, struct pm__client, pipe);
        struct pm_server *srv = c->srv;

        if (c->flushing) {
                if (c->prev)
                        c->prev->next = c->next;
                else
                        srv->flushing = c->next;
                if (c->next)
                        c->next->prev = c->prev;
                /* The last reply of a stop written: its bound is of no more use. */
                if (!srv->flushing && srv->stop_timer_open) {
                        srv->stop_timer_open = false;
                        uv_close((uv_handle_t *)&srv->stop_timer, NULL);
                }
        }

        /* A write in flight was cancelled before this callback: the queue is ours to free. */
        while (c->out_head) {
                struct pm__write_req *w = c->out_head;

                c->out_head = w->next;
                c->pending_out -= w->len;
                write_req_free(w);
        }
        pm__frame_parser_release(&c->parser);
        pm_free(c);
}

static void
on_flushed(uv_shutdown_t *req, int status)
{
        struct pm__client *c = container_of(req, struct pm__client, shutdown_req);

        /* Cancelled (UV_ECANCELED) by the stop's uv_close: already closing. */
        if (!uv_is_closing((uv_handle_t *)&c->pipe))
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

/* Close @c once what is queued has been written (after an error reply on a broken stream). */
static void
client_close_after_flush(struct pm__client *c)
{
        struct pm_server *srv = c->srv;

        if (c->closing)
                return;
        client_detach(c);
        c->flushing = true;
        c->prev = NULL;
        c->next = srv->flushing;
        if (srv->flushing)
                srv->flushing->prev = c;
        srv->flushing = c;
        /* What is still in the queue goes first: client_pump() shuts down when it is empty. */
        c->shutdown_after_out = true;
        client_pump(c);
}

static void
write_req_free(struct pm__write_req *w)
{
        pm__shared_reply_unref(w->shared);
        if (w->bufs != &w->one)
                pm_free(w->bufs);
        pm_free(w);
}

/* The stream broke under @c's output: close it (also when it was only flushing). */
static void
client_abort(struct pm__client *c)
{
        if (!c->closing)
                client_close(c);
        else if (!uv_is_closing((uv_handle_t *)&c->pipe))
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void
on_written(uv_write_t *req, int status)
{
        struct pm__write_req *w = req->data;
        struct pm__client *c = w->c;

        c->out_busy = false;
        /* Cancelled by uv_close() (on_client_closed() frees the queue) or a broken stream. */
        if (status < 0) {
                client_abort(c);
                return;
        }
        client_pump(c);
}

/*
 * Write @c's queue until it is empty or the socket is full; then one uv_write() waits for the
 * socket (on_written() comes back here). A client flushing before its close is shut down once
 * the queue is empty.
 */
static void
client_pump(struct pm__client *c)
{
        struct pm__write_req *w;

        if (uv_is_closing((uv_handle_t *)&c->pipe))
                return;
        while (!c->out_busy && (w = c->out_head) != NULL) {
                while (w->at < w->n_bufs) {
                        size_t left = w->n_bufs - w->at, at = w->at;
                        int r = uv_try_write((uv_stream_t *)&c->pipe, w->bufs + at,
                                             (unsigned)(left < TRY_BUFS ? left : TRY_BUFS));
                        size_t done = r > 0 ? (size_t)r : 0;

                        if (r < 0 && r != UV_EAGAIN) {
                                client_abort(c);
                                return;
                        }
                        while (w->at < w->n_bufs && done >= w->bufs[w->at].len)
                                done -= w->bufs[w->at++].len;
                        if (w->at < w->n_bufs) {
                                w->bufs[w->at].base += done;
                                w->bufs[w->at].len -= done;
                        }
                        if (r <= 0 && w->at == at)
                                break; /* full: wait below */
                }
                if (w->at < w->n_bufs) {
                        size_t left = w->n_bufs - w->at;
                        unsigned k = (unsigned)(left < WRITE_BUFS ? left : WRITE_BUFS);

                        w->req.data = w;
                        if (uv_write(&w->req, (uv_stream_t *)&c->pipe, w->bufs + w->at, k,
                                     on_written) < 0) {
                                client_abort(c);
                                return;
                        }
                        w->at += k;
                        c->out_busy = true;
                        return;
                }
                c->out_head = w->next;
                if (!c->out_head)
                        c->out_tail = NULL;
                c->pending_out -= w->len;
                write_req_free(w);
        }
        if (!c->out_head && c->shutdown_after_out) {
                c->shutdown_after_out = false;
                if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->pipe, on_flushed) < 0)
                        uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        }
}

/*
 * Queue @w (its len, bufs and n_bufs set; it is @c's now) after @c's output and write what the
 * socket takes now.
 */
static void
client_write(struct pm__client *c, struct pm__write_req *w)
{
        w->c = c;
        w->next = NULL;
        w->at = 0;
        c->pending_out += w->len;
        if (c->out_tail)
                c->out_tail->next = w;
        else
                c->out_head = w;
        c->out_tail = w;
        client_pump(c);
}

/* Is @c over its output limit with @len more bytes? Then it is closed. */
static bool
client_over_limit(struct pm__client *c, size_t len)
{
        if (c->pending_out + len <= PM_RPC_MAX_PENDING_OUT)
                return false;
        pm__log("client %llu: more than %u bytes of replies unread, closing",
                (unsigned long long)c->serial, PM_RPC_MAX_PENDING_OUT);
        client_close(c);
        return true;
}

/* A reply we cannot build leaves the client waiting forever: close it instead. */
static void
client_oom(struct pm__client *c)
{
        pm__log("client %llu: out of memory building a reply, closing",
                (unsigned long long)c->serial);
        client_close(c);
}

void
pm__client_send_shared_result(struct pm__client *c, const cJSON *id,
                              struct pm__shared_reply *result)
{
        struct pm_strbuf head = PM_STRBUF_INIT;
        struct pm__write_req *w = NULL;
        uv_buf_t *bufs = NULL;
        size_t n = result->n_bufs + 2;

        if (c->closing)
                goto out;
        if (pm__frame_result_head(&head, id, result->len) < 0)
                goto oom;
        if (client_over_limit(c, head.len + result->len + strlen(PM__FRAME_RESULT_TAIL)))
                goto out;
        w = pm_calloc(1, sizeof(*w) + head.len);
        bufs = pm_malloc(n * sizeof(*bufs));
        if (!w || !bufs)
                goto oom;
        memcpy(w->data, head.buf, head.len);
        w->len = head.len + result->len + strlen(PM__FRAME_RESULT_TAIL);
        /* A reply of megabytes goes through the socket in as few wakeups of this loop and the
         * client as the system allows (it caps the size at net.core.wmem_max): each one costs a
         * scheduling delay on a loaded machine. */
        if (w->len > PM_RPC_BIG_REPLY) {
                int size = (int)(w->len < PM_RPC_MAX_SNDBUF ? w->len : PM_RPC_MAX_SNDBUF);

                (void)uv_send_buffer_size((uv_handle_t *)&c->pipe, &size);
        }
        /* The writes read the pieces until they end: the message holds a reference until then
         * (its bufs point into them, the bytes are not copied). */
        w->shared = pm__shared_reply_ref(result);
        bufs[0] = uv_buf_init(w->data, (unsigned)head.len);
        memcpy(bufs + 1, result->bufs, result->n_bufs * sizeof(*bufs));
        bufs[n - 1] =
                uv_buf_init((char *)PM__FRAME_RESULT_TAIL, (unsigned)strlen(PM__FRAME_RESULT_TAIL));
        w->bufs = pm_steal_ptr(&bufs);
        w->n_bufs = n;
        client_write(c, pm_steal_ptr(&w));
        goto out;
oom:
        client_oom(c);
out:
        if (w)
                write_req_free(w);
        pm_free(bufs);
        pm_strbuf_release(&head);
}

void
pm__client_send(struct pm__client *c, struct cJSON *msg)
{
        struct pm__write_req *w = NULL;
        char *body = NULL;
        char hdr[64];
        size_t len, hlen;

        if (!msg)
                goto oom;
        if (c->closing)
                goto out;
        body = cJSON_PrintUnformatted(msg);
        if (!body)
                goto oom;
        len = strlen(body);
        hlen = (size_t)snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", len);
        if (client_over_limit(c, hlen + len))
                goto out;
        w = pm_malloc(sizeof(*w) + hlen + len);
        if (!w)
                goto oom;
        memcpy(w->data, hdr, hlen);
        memcpy(w->data + hlen, body, len);
        w->len = hlen + len;
        w->shared = NULL;
        w->one = uv_buf_init(w->data, (unsigned)w->len);
        w->bufs = &w->one;
        w->n_bufs = 1;
        client_write(c, w);
        goto out;
oom:
        client_oom(c);
out:
        cJSON_free(body);
        cJSON_Delete(msg);
}

void
pm__server_broadcast(struct pm_server *srv, bool subscribed, struct cJSON *msg)
{
        struct pm__client *c, *next;

        /* pm__client_send() may close (unlink) a client: keep the next pointer first. */
        for (c = srv->clients; c; c = next) {
                next = c->next;
                if (subscribed ? !c->subscribed : !(c->initialized || c->subscribed))
                        continue;
                pm__client_send(c, cJSON_Duplicate(msg, true));
        }
        cJSON_Delete(msg);
}

/* ---- dispatching ---- */

int
pm__server_park(struct pm_server *srv, struct pm__rpc_call **list, struct pm__rpc_call *call,
                struct pm_error *err)
{
        struct pm__rpc_call **pp = list;

        if (srv->n_parked >= PM_RPC_MAX_PARKED)
                return pm_error_set(err, PM_ELIMIT, "more than %u requests waiting",
                                    PM_RPC_MAX_PARKED);
        while (*pp)
                pp = &(*pp)->next;
        call->next = NULL;
        *pp = call;
        srv->n_parked++;
        /* Waiting for a refresh that is under way: hear it from its beginning. */
        if (call->owner)
                pm__progress_replay(srv, call->owner);
        return PM__RPC_PARKED;
}

/* Run @call (owned) for its client: park it when it needs a model that is not there yet. */
static void
run_call(struct pm_server *srv, struct pm__rpc_call *call)
{
        struct pm__client *c = call->owner;
        struct pm_error err;
        cJSON *reply = NULL;
        int r;

        pm_error_init(&err);
        if ((call->m->flags & PM_RPC_DISCOVER_PARAM) && !c->initialized &&
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(call->params, "discover")))
                pm__progress_hear(srv, c);
        if ((call->m->flags & PM_RPC_NEEDS_MODEL) &&
            (!srv->have_model || !(srv->sysroot_done || srv->sysroot))) {
                if (!srv->first_done || pm__refresh_pending(srv) || !srv->sysroot_done) {
                        r = pm__server_park(srv, &srv->parked_model, call, &err);
                        if (r == PM__RPC_PARKED)
                                return;
                } else {
                        r = pm_error_set(&err, PM_ENOMODEL, "no model yet: %s",
                                         srv->last_error ? srv->last_error
                                                         : "the build system gave no crates");
                }
                if (call->id)
                        pm__client_send(c, pm__rpc_error(call->id, &err));
                pm__rpc_call_free(call);
                return;
        }
        if (c->shutdown && !(call->m->flags & PM_RPC_AFTER_SHUTDOWN)) {
                pm_error_set(&err, PM_EPROTO, "request after 'shutdown'");
                if (call->id)
                        pm__client_send(c, pm__rpc_error(call->id, &err));
                pm__rpc_call_free(call);
                return;
        }
        r = pm__rpc_invoke(call, srv, &reply);
        if (r == PM__RPC_PARKED)
                return;
        if (reply)
                pm__client_send(c, reply);
        pm__rpc_call_free(call);
}

void
pm__server_resume(struct pm_server *srv, struct pm__rpc_call *call)
{
        call->resumed = true;
        run_call(srv, call);
}

void
pm__server_resume_list(struct pm_server *srv, struct pm__rpc_call **list)
{
        struct pm__rpc_call *l = *list, *next;

        /* Detach first: a resumed call may park again on the same list. */
        *list = NULL;
        for (; l; l = next) {
                next = l->next;
                l->next = NULL;
                srv->n_parked--;
                pm__server_resume(srv, l);
        }
}

static void
handle_frame(struct pm__client *c, const char *body, size_t len)
{
        struct pm__rpc_call *call = NULL;
        cJSON *reply = NULL;
        int r;

        r = pm__rpc_decode(pm__methods, pm__n_methods, body, len, &call, &reply);
        if (r < 0) {
                if (reply)
                        pm__client_send(c, reply);
                return;
        }
        call->owner = c;
        run_call(c->srv, call);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct pm__client *c = container_of(h, struct pm__client, pipe);

        /* Reads are handled synchronously in on_read, so one buffer serves every client. */
        buf->base = c->srv->read_buf;
        buf->len = c->srv->read_buf ? PM_RPC_READ_CHUNK : 0;
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
        struct pm__client *c = container_of(stream, struct pm__client, pipe);
        struct pm_error err;
        const char *body;
        size_t len;
        int r;

        if (nread < 0) {
                /* EOF or a reset, possibly in the middle of a frame: just forget the client. */
                client_close(c);
                return;
        }
        if (nread == 0)
                return;
        pm_error_init(&err);
        r = pm__frame_feed(&c->parser, buf->base, (size_t)nread, &err);
        while (r >= 0 && !c->closing) {
                r = pm__frame_next(&c->parser, &body, &len, &err);
                if (r <= 0)
                        break;
                handle_frame(c, body, len);
        }
        if (r < 0 && !c->closing) {
                /* The stream cannot be resynchronised after a bad header: say why, then close. */
                pm__log("client %llu: %s, closing", (unsigned long long)c->serial, err.msg);
                pm__client_send(c, pm__rpc_error(NULL, &err));
                client_close_after_flush(c);
        }
}

static bool
peer_allowed(struct pm__client *c)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        uv_os_fd_t fd;

        if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0)
                return false;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return false;
        return cred.uid == geteuid();
}

static void
on_connection(uv_stream_t *listener, int status)
{
        struct pm_server *srv = container_of(listener, struct pm_server, listener);
        struct pm__client *c;

        if (status < 0) {
                pm__log("accept failed: %s", uv_strerror(status));
                return;
        }
        c = pm_calloc(1, sizeof(*c));
        if (!c) {
                pm__log("out of memory accepting a client");
                return;
        }
        c->srv = srv;
        c->serial = ++srv->next_serial;
        pm__frame_parser_init(&c->parser);
        (void)uv_pipe_init(&srv->loop, &c->pipe, 0);
        if (uv_accept(listener, (uv_stream_t *)&c->pipe) < 0) {
                c->closing = true;
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
                return;
        }
        if (!peer_allowed(c)) {
                pm__log("client %llu: peer is another user, refused",
                        (unsigned long long)c->serial);
                c->closing = true;
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
                return;
        }
        if (srv->n_clients >= PM_RPC_MAX_CLIENTS || srv->stopping) {
                pm__log("client %llu: more than %u clients, refused", (unsigned long long)c->serial,
                        PM_RPC_MAX_CLIENTS);
                c->closing = true;
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
                return;
        }
        c->next = srv->clients;
        if (srv->clients)
                srv->clients->prev = c;
        srv->clients = c;
        srv->n_clients++;
        (void)uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

/* ---- start and stop ---- */

static void
on_signal(uv_signal_t *s, int signum)
{
        struct pm_server *srv = s->data;

        pm__log("signal %d, stopping", signum);
        pm__server_stop(srv);
}

static void
noop_close(uv_handle_t *h)
{
}

/* The stop's bound: a client that still has replies unread does not get them (its pending
 * writes and shutdown are cancelled), so the daemon exits. */
static void
on_stop_timer(uv_timer_t *t)
{
        struct pm_server *srv = t->data;

        for (struct pm__client *c = srv->flushing; c; c = c->next) {
                if (uv_is_closing((uv_handle_t *)&c->pipe))
                        continue;
                pm__log("client %llu: %zu bytes of replies unread at stop, closing",
                        (unsigned long long)c->serial, c->pending_out);
                uv_close((uv_handle_t *)&c->pipe, on_client_closed);
        }
        if (srv->stop_timer_open) {
                srv->stop_timer_open = false;
                uv_close((uv_handle_t *)t, NULL);
        }
}

void
pm__server_stop(struct pm_server *srv)
{
        struct pm__client *c;
        struct pm_error err;

        if (srv->stopping)
                return;
        srv->stopping = true;
        pm_error_init(&err);
        pm_error_set(&err, PM_ECANCELLED, "the daemon is stopping");
        /* Parked calls get a reply before their clients go. */
        for (size_t i = 0; i < 2; i++) {
                struct pm__rpc_call **list = i ? &srv->parked_fresh : &srv->parked_model, *l;

                l = *list;
                *list = NULL;
                while (l) {
                        struct pm__rpc_call *next = l->next;

                        if (l->id)
                                pm__client_send(l->owner, pm__rpc_error(l->id, &err));
                        srv->n_parked--;
                        pm__rpc_call_free(l);
                        l = next;
                }
        }
        pm__audit_stop(srv);
        while ((c = srv->clients))
                client_close_after_flush(c);
        /* Bounded by a timer, closed when the last of them is (on_client_closed()). */
        if (srv->flushing && uv_timer_init(&srv->loop, &srv->stop_timer) == 0) {
                srv->stop_timer.data = srv;
                srv->stop_timer_open = true;
                (void)uv_timer_start(&srv->stop_timer, on_stop_timer, PM_STOP_FLUSH_MS, 0);
        }
        if (!uv_is_closing((uv_handle_t *)&srv->listener)) {
                uv_close((uv_handle_t *)&srv->listener, noop_close);
                /* Still ours (we hold the lock): new clients now start a new daemon. A socket
                 * systemd passed stays: its next connection activates us again. */
                if (!srv->listener_inherited)
                        (void)unlink(srv->socket_path);
        }
        uv_close((uv_handle_t *)&srv->sigterm, noop_close);
        uv_close((uv_handle_t *)&srv->sigint, noop_close);
        uv_close((uv_handle_t *)&srv->debounce, noop_close);
        pm__progress_close(srv);
        pm__watch_stop(srv);
        pm__refresh_cancel(srv);
}

/* Tell the daemonizing parent how startup went, once: "ok" or "error: ...". */
static void
report_ready(int fd, const struct pm_error *err)
{
        char line[PM_ERROR_MSG_MAX + 16];
        int n;

        if (fd < 0)
                return;
        if (err)
                n = snprintf(line, sizeof(line), "error: %s\n", err->msg);
        else
                n = snprintf(line, sizeof(line), "ok\n");
        if (n > 0 && write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
                pm__log("cannot report startup to the parent: %s", strerror(errno));
        (void)close(fd);
}

static int cmp_str(const void *a, const void *b);

/* Load what the stored model holds, so it is served at once. */
static int
load_stored(struct pm_server *srv, struct pm_error *err)
{
        char **files = NULL;
        char *v = NULL;
        int r;

        r = pm_index_generation(srv->idx, &srv->generation, err);
        if (r < 0)
                return r;
        r = pm_index_count(srv->idx, &srv->n_crates, err);
        if (r < 0)
                return r;
        srv->have_model = srv->generation > 0 && srv->n_crates > 0;
        if (pm_index_meta_get(srv->idx, PM_META_SYSROOT, &v, NULL) == 0 && v && v[0])
                srv->sysroot = pm_steal_ptr(&v);
        pm_free(v);
        v = NULL;
        if (pm_index_meta_get(srv->idx, PM_META_SYSROOT_SRC, &v, NULL) == 0 && v && v[0])
                srv->sysroot_src = pm_steal_ptr(&v);
        pm_free(v);
        r = pm_index_build_files(srv->idx, NULL, &files, err);
        if (r < 0)
                return r;
        srv->watch_set.n = pm_labels_count(files);
        qsort(files, srv->watch_set.n, sizeof(*files), cmp_str);
        srv->watch_set.v = files;
        if (pm__watch_dirs_of(&srv->watch_set, &srv->watch_dirs) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        return pm_index_proc_macro_dirs(srv->idx, &srv->proc_macro_dirs, err);
}

/*
 * Start from the snapshot srv->seed_file when the model is missing or older than it
 * (docs/cli.md): the model becomes the snapshot, then each build file the snapshot fingerprinted
 * is compared with this tree's. *ret_changed lists those that differ (pm_malloc'd,
 * NULL-terminated; NULL when not seeded). A snapshot that cannot be used is logged and kept in
 * the status: the daemon then starts cold. Fails only with -ENOMEM.
 */
static int
seed_model(struct pm_server *srv, char ***ret_changed, struct pm_error *err)
{
        struct pm_seed s = { 0 };
        struct pm_error serr;
        char **changed = NULL;
        uint64_t gen = 0;
        size_t n = 0, k = 0;
        int r;

        *ret_changed = NULL;
        if (!srv->seed_file)
                return 0;
        pm_error_init(&serr);
        r = pm_index_generation(srv->idx, &gen, &serr);
        if (r >= 0)
                r = pm_index_count(srv->idx, &n, &serr);
        if (r >= 0)
                r = pm_index_seed(srv->idx, srv->seed_file, srv->cfg->root, gen > 0 && n > 0, &s,
                                  &serr);
        if (r == -ENOMEM) {
                *err = serr;
                goto out;
        }
        r = 0;
        if (serr.code < 0) {
                pm__log("starting without the snapshot: %s", serr.msg);
                srv->seed_error = pm_strdup(serr.msg);
                goto out;
        }
        if (!s.seeded) {
                pm__log("the model is newer than the snapshot '%s': not using it", srv->seed_file);
                goto out;
        }
        changed = pm_calloc(s.n + 1, sizeof(*changed));
        if (!changed) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < s.n; i++) {
                char fp[PM_FINGERPRINT_MAX];

                pm_file_fingerprint(s.paths[i], fp);
                if (strcmp(fp, s.fingerprints[i]) != 0)
                        changed[k++] = pm_steal_ptr(&s.paths[i]);
        }
        srv->seeded = true;
        srv->seed_changed = k;
        pm__log("started from the snapshot '%s': %zu of its %zu build files differ here",
                srv->seed_file, k, s.n);
        *ret_changed = pm_steal_ptr(&changed);
out:
        pm_seed_release(&s);
        return r;
}

bool
pm_server_socket_activated(void)
{
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

        return pid && fds && strtol(pid, NULL, 10) == (long)getpid() && strtol(fds, NULL, 10) >= 1;
}

/*
 * The listening socket systemd passed (socket activation, pm_server_socket_activated(): the
 * socket is fd 3), or -1. The variables are cleared so build tools we spawn do not take them
 * for theirs; the fd is made close-on-exec for the same reason.
 */
static int
inherited_listener(void)
{
        int accepting = 0, type = 0, fd = -1;
        socklen_t len = sizeof(accepting);

        if (pm_server_socket_activated())
                fd = 3;
        (void)unsetenv("LISTEN_PID");
        (void)unsetenv("LISTEN_FDS");
        (void)unsetenv("LISTEN_FDNAMES");
        if (fd < 0)
                return -1;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 || !accepting)
                return -1;
        len = sizeof(type);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
                return -1;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
}

static int
start_listening(struct pm_server *srv, struct pm_error *err)
{
        int r, fd = inherited_listener();

        if (fd >= 0) {
                /* systemd owns the socket file: never unlink or re-bind it. */
                r = uv_pipe_init(&srv->loop, &srv->listener, 0);
                if (r == 0)
                        r = uv_pipe_open(&srv->listener, fd);
                if (r == 0)
                        r = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
                if (r < 0)
                        return pm_error_set(err, r, "cannot serve the socket systemd passed: %s",
                                            uv_strerror(r));
                srv->listener_inherited = true;
                pm__log("listening on the socket passed by systemd (LISTEN_FDS)");
                return 0;
        }
        /* We hold the lock, so a socket file left there is a dead daemon's. */
        (void)unlink(srv->socket_path);
        r = uv_pipe_init(&srv->loop, &srv->listener, 0);
        if (r == 0)
                r = uv_pipe_bind(&srv->listener, srv->socket_path);
        if (r < 0)
                return pm_error_set(err, r, "cannot bind '%s': %s", srv->socket_path,
                                    uv_strerror(r));
        (void)chmod(srv->socket_path, 0600);
        r = uv_listen((uv_stream_t *)&srv->listener, 128, on_connection);
        if (r < 0)
                return pm_error_set(err, r, "cannot listen on '%s': %s", srv->socket_path,
                                    uv_strerror(r));
        return 0;
}

/*
 * Does a daemon answer on @path? Accepting is not enough: a process that inherited a dead
 * daemon's fds (a child between fork and exec) keeps the socket listening for a moment without
 * ever answering. Startup only: blocking here is fine.
 */
static bool
socket_alive(const char *path)
{
        struct pm_client *c = NULL;
        struct pm_error err;
        cJSON *result = NULL;
        bool alive;

        pm_error_init(&err);
        if (pm_client_connect(path, &c, &err) < 0)
                return false;
        alive = pm_client_call(c, "projmodel/status", NULL, 1000, NULL, NULL, &result, &err) == 0;
        cJSON_Delete(result);
        pm_client_free(c);
        return alive;
}

static void
walk_close(uv_handle_t *h, void *arg)
{
        if (!uv_is_closing(h))
                uv_close(h, NULL);
}

int
pm_server_run(const struct pm_server_options *opts, struct pm_error *err)
{
        struct pm_server *srv = NULL;
        char *root = NULL, *db_dir = NULL, **seed_changed = NULL;
        bool loop_init = false, listening = false, opts_ready_done = false;
        int r;

        pm_mem_install_hooks();
        /* libuv's allocations through the fault hook too. pm_malloc is malloc
         * underneath, so blocks libuv allocated before this stay compatible. */
        (void)uv_replace_allocator(pm_malloc, pm_realloc, pm_calloc, pm_free);
        srv = pm_calloc(1, sizeof(*srv));
        if (!srv) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        srv->lock_fd = -1;
        srv->ready_fd = opts->ready_fd;
        if (opts->root) {
                root = pm_path_normalize(NULL, NULL, opts->root);
        } else {
                char *cwd = pm_path_cwd();

                r = cwd ? pm_config_find_root(cwd, &root, err)
                        : pm_error_set(err, -errno, "cannot get the working directory");
                pm_free(cwd);
                if (r < 0)
                        goto out;
        }
        if (!root) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_config_load(root, &srv->cfg, err);
        if (r < 0)
                goto out;
        r = pm_adapter_resolve_config(srv->cfg, err);
        if (r < 0)
                goto out;
        srv->dirty_projects = pm_calloc(srv->cfg->n_projects, sizeof(bool));
        srv->rebuild_projects = pm_calloc(srv->cfg->n_projects, sizeof(bool));
        srv->read_buf = pm_malloc(PM_RPC_READ_CHUNK);
        if (!srv->dirty_projects || !srv->rebuild_projects || !srv->read_buf) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (opts->socket_path)
                srv->socket_path = pm_path_normalize(NULL, NULL, opts->socket_path);
        else if ((r = pm_server_default_socket(srv->cfg->root, &srv->socket_path, err)) < 0)
                goto out;
        srv->db_path = opts->db_path ? pm_strdup(opts->db_path) : pm_config_db_path(srv->cfg);
        if (!srv->socket_path || !srv->db_path) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_server_socket_dir_ensure(srv->socket_path, err);
        if (r < 0)
                goto out;
        r = pm__server_lock(srv->socket_path, &srv->lock_fd, err);
        /* A daemon that no longer accepts connections is on its way out (stopping, or killed
         * with a child still holding the lock for a moment): wait for it, bounded. A live one
         * makes us refuse at once. */
        for (int i = 0; r == PM_EBUSY && i < 400 && !socket_alive(srv->socket_path); i++) {
                struct timespec pause = { 0, 5 * 1000 * 1000 };

                (void)nanosleep(&pause, NULL);
                pm_error_init(err);
                r = pm__server_lock(srv->socket_path, &srv->lock_fd, err);
        }
        if (r < 0)
                goto out;
        db_dir = pm_path_dirname(NULL, srv->db_path);
        r = db_dir ? pm_mkdir_p(db_dir, err) : pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(db_dir);
        if (r < 0)
                goto out;
        r = pm_index_open(srv->db_path, &srv->idx, err);
        if (r < 0)
                goto out;
        if (opts->seed || srv->cfg->seed) {
                srv->seed_file = pm_path_absolute(opts->seed ? opts->seed : srv->cfg->seed);
                if (!srv->seed_file) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
        r = seed_model(srv, &seed_changed, err);
        if (r < 0)
                goto out;
        r = load_stored(srv, err);
        if (r < 0)
                goto out;

        r = uv_loop_init(&srv->loop);
        if (r < 0) {
                r = pm_error_set(err, r, "cannot create the event loop: %s", uv_strerror(r));
                goto out;
        }
        loop_init = true;
        (void)uv_timer_init(&srv->loop, &srv->debounce);
        srv->debounce.data = srv;
        (void)uv_signal_init(&srv->loop, &srv->sigterm);
        (void)uv_signal_init(&srv->loop, &srv->sigint);
        srv->sigterm.data = srv->sigint.data = srv;
        (void)uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
        (void)uv_signal_start(&srv->sigint, on_signal, SIGINT);
        r = pm__progress_init(srv, err);
        if (r < 0)
                goto out;
        /* A client that vanishes while we write must not kill the daemon. */
        (void)signal(SIGPIPE, SIG_IGN);
        r = start_listening(srv, err);
        if (r < 0)
                goto out;
        listening = true;
        pm__log("serving '%s' on '%s' (model '%s', generation %llu, %zu crates)", srv->cfg->root,
                srv->socket_path, srv->db_path, (unsigned long long)srv->generation, srv->n_crates);

        r = pm__watch_start(srv, err);
        if (r < 0) {
                /* Not fatal: the model still serves, refreshes come on request; say so. */
                pm__log("cannot watch '%s': %s", srv->cfg->root, err->msg);
                pm_free(srv->watch_error);
                srv->watch_error = pm_strdup(err->msg);
                pm_error_init(err);
        }
        r = pm__sysroot_start(srv, err);
        if (r < 0) {
                pm__log("%s", err->msg);
                pm_error_init(err);
        }
        if (!srv->seeded) {
                pm__refresh_request(srv, NULL, NULL, true);
        } else {
                /* Re-query only what differs from the snapshot; nothing differs: no query. */
                for (char **p = seed_changed; *p; p++)
                        pm__refresh_request(srv, pm_config_project_for_path(srv->cfg, *p), *p,
                                            true);
                srv->first_done = srv->seed_changed == 0;
        }
        report_ready(srv->ready_fd, NULL);
        srv->ready_fd = -1;
        opts_ready_done = true;

        (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
        r = 0;
out:
        if (r < 0 && !opts_ready_done)
                report_ready(opts->ready_fd, err);
        if (loop_init) {
                if (!srv->stopping)
                        pm__server_stop(srv);
                (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
                uv_walk(&srv->loop, walk_close, NULL);
                (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
                if (uv_loop_close(&srv->loop) < 0)
                        pm__log("internal bug: handles left open at exit");
        }
        if (srv) {
                if (listening && !srv->listener_inherited)
                        (void)unlink(srv->socket_path);
                pm__strset_release(&srv->watch_set);
                pm__strset_release(&srv->watch_dirs);
                pm__strset_release(&srv->watch_dirs_next);
                srv->proc_macro_dirs = pm_labels_free(srv->proc_macro_dirs);
                srv->idx = pm_index_close(srv->idx);
                srv->widx = pm_index_close(srv->widx);
                pm__audit_forget(srv);
                srv->aidx = pm_index_close(srv->aidx);
                if (srv->lock_fd >= 0)
                        (void)close(srv->lock_fd);
                for (size_t i = 0; i < srv->n_changed; i++)
                        pm_free(srv->changed[i]);
                pm_free(srv->changed);
                pm_free(srv->dirty_projects);
                pm__refresh_forget_rebuilds(srv);
                pm__refresh_release(srv);
                pm__progress_release(srv);
                pm_free(srv->read_buf);
                pm_free(srv->sysroot);
                pm_free(srv->sysroot_src);
                pm_free(srv->last_error);
                pm_free(srv->last_error_output);
                pm__warnings_free(srv);
                pm_free(srv->watch_error);
                pm_argv_free(srv->watch_skip);
                pm_free(srv->seed_file);
                pm_free(srv->seed_error);
                pm__cache_collect_free(srv);
                pm_free(srv->socket_path);
                pm_free(srv->db_path);
                pm_config_free(srv->cfg);
                pm_free(srv);
        }
        pm_labels_free(seed_changed);
        pm_free(root);
        return r;
}

void
pm__strset_release(struct pm__strset *s)
{
        pm_labels_free(s->v);
        s->v = NULL;
        s->n = 0;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

bool
pm__strset_contains(const struct pm__strset *s, const char *str)
{
        return s->n && bsearch(&str, s->v, s->n, sizeof(char *), cmp_str) != NULL;
}
