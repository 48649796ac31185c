/* SPDX-License-Identifier: MIT */
/* The refresh's $/progress messages (docs/protocol.md): the worker's lines (crates parsed, proc
 * macros built, parse warnings) cross from the thread pool to the loop through a mutex-protected
 * queue and a uv_async_t, and the loop keeps the running refresh's messages so that a client
 * that connected in the middle of a refresh and waits for it hears it from its beginning, in
 * order. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"
#include "update-internal.h"

/* One line the worker queued for the loop. */
struct pm__progress_line {
        struct pm__progress_line *next;
        char text[];
};

/* One $/progress message of the running refresh, as the loop sent it. */
struct pm__progress_entry {
        bool begin; /* else "report" */
        char *message;
};

cJSON *
pm__progress_notification(const char *kind, const char *message)
{
        cJSON *params = cJSON_CreateObject(), *value;

        if (!params)
                return NULL;
        cJSON_AddStringToObject(params, "token", "projmodel/refresh");
        value = cJSON_AddObjectToObject(params, "value");
        if (value) {
                cJSON_AddStringToObject(value, "kind", kind);
                if (strcmp(kind, "begin") == 0)
                        cJSON_AddStringToObject(value, "title", "projmodel");
                if (message)
                        cJSON_AddStringToObject(value, "message", message);
        }
        return pm__rpc_notification("$/progress", params);
}

static void
log_clear(struct pm_server *srv)
{
        for (size_t i = 0; i < srv->n_progress_log; i++)
                pm_free(srv->progress_log[i].message);
        pm_free(srv->progress_log);
        srv->progress_log = NULL;
        srv->n_progress_log = 0;
}

/* Keep @kind @message in the running refresh's log (a "begin" starts a new one). */
static void
record(struct pm_server *srv, bool begin, const char *message)
{
        struct pm__progress_entry *v;

        if (begin)
                log_clear(srv);
        if (srv->n_progress_log >= PM_PROGRESS_MAX_LOG)
                return;
        v = pm_realloc(srv->progress_log, (srv->n_progress_log + 1) * sizeof(*v));
        if (!v)
                return; /* out of memory: a late waiter misses this line */
        srv->progress_log = v;
        v[srv->n_progress_log].begin = begin;
        v[srv->n_progress_log].message = message ? pm_strdup(message) : NULL;
        if (!message || v[srv->n_progress_log].message)
                srv->n_progress_log++;
}

void
pm__progress_send(struct pm_server *srv, const char *kind, const char *message)
{
        bool begin = strcmp(kind, "begin") == 0, report = strcmp(kind, "report") == 0;
        struct pm__client *c, *next;
        cJSON *msg = pm__progress_notification(kind, message);

        if (begin || report)
                record(srv, begin, message);
        /* pm__client_send() may close (unlink) a client: keep the next pointer first. */
        for (c = srv->clients; c; c = next) {
                next = c->next;
                if (!c->initialized && !c->subscribed)
                        continue;
                /* A new refresh, or the end of the one a client joined late: heard live. */
                if (!report)
                        c->progress_held = false;
                if (c->progress_held)
                        continue;
                /* NULL (out of memory) closes the client rather than have it miss the end. */
                pm__client_send(c, msg ? cJSON_Duplicate(msg, true) : NULL);
        }
        cJSON_Delete(msg);
}

void
pm__progress_join(struct pm_server *srv, struct pm__client *c)
{
        if (!c->initialized && !c->subscribed)
                c->progress_held = srv->running != NULL;
}

void
pm__progress_hear(struct pm_server *srv, struct pm__client *c)
{
        pm__progress_join(srv, c);
        c->initialized = true;
}

void
pm__progress_replay(struct pm_server *srv, struct pm__client *c)
{
        if (!c->progress_held || !srv->running)
                return;
        c->progress_held = false;
        for (size_t i = 0; i < srv->n_progress_log && !c->closing; i++) {
                const struct pm__progress_entry *e = &srv->progress_log[i];

                /* NULL on out of memory: pm__client_send() then closes the client, which would
                 * otherwise wait without the lines its answer follows. */
                pm__client_send(
                        c, pm__progress_notification(e->begin ? "begin" : "report", e->message));
        }
}

/* ---- from the worker to the loop ---- */

void
pm__progress_drain(struct pm_server *srv)
{
        struct pm__progress_line *l, *next;

        if (!srv->progress_ready)
                return;
        /* libuv coalesces async sends: one wake-up may stand for many lines. */
        uv_mutex_lock(&srv->progress_lock);
        l = srv->progress_queue;
        srv->progress_queue = NULL;
        srv->progress_tail = &srv->progress_queue;
        srv->n_progress_queued = 0;
        uv_mutex_unlock(&srv->progress_lock);
        for (; l; l = next) {
                next = l->next;
                pm__update_progress(srv, "report", l->text);
                pm_free(l);
        }
}

static void
on_async(uv_async_t *a)
{
        pm__progress_drain(a->data);
}

/* Queue @prefix@text for the loop (worker thread). Dropped when the daemon is stopping, the
 * queue is full or memory is short: progress lines are never worth failing a refresh for. */
static void
queue_line(struct pm_server *srv, const char *prefix, const char *text)
{
        size_t lp = strlen(prefix), lt = strlen(text);
        struct pm__progress_line *l = pm_malloc(sizeof(*l) + lp + lt + 1);

        if (!l)
                return;
        l->next = NULL;
        memcpy(l->text, prefix, lp);
        memcpy(l->text + lp, text, lt + 1);
        uv_mutex_lock(&srv->progress_lock);
        if (!srv->progress_closed && srv->n_progress_queued < PM_PROGRESS_MAX_QUEUED) {
                *srv->progress_tail = l;
                srv->progress_tail = &l->next;
                srv->n_progress_queued++;
                l = NULL;
                /* Under the lock: the loop closes the handle only after setting
                 * progress_closed under it, so this never sends to a closing handle. */
                (void)uv_async_send(&srv->progress_async);
        }
        uv_mutex_unlock(&srv->progress_lock);
        pm_free(l);
}

static void
worker_line(const char *message, void *userdata)
{
        queue_line(userdata, "", message);
}

/* A parse warning reads as it does in the one-shot discover (cli/cmd-discover.c), cut as the
 * daemon keeps it (update-warnings.c, PM_WARNING_MAX), so that discover knows it again in the
 * answer's list. */
static void
worker_warning(const char *message, void *userdata)
{
        char *text = pm_utf8_clip(message, PM_WARNING_MAX);

        queue_line(userdata, "warning: ", text ? text : message);
        pm_free(text);
}

void
pm__progress_worker(struct pm_server *srv, struct pm_progress *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (!srv->progress_ready)
                return;
        ret->cb = worker_line;
        ret->warn = worker_warning;
        ret->userdata = srv;
}

/* ---- lifetime ---- */

int
pm__progress_init(struct pm_server *srv, struct pm_error *err)
{
        int r = uv_mutex_init(&srv->progress_lock);

        if (r < 0)
                return pm_error_set(err, r, "cannot create a mutex: %s", uv_strerror(r));
        r = uv_async_init(&srv->loop, &srv->progress_async, on_async);
        if (r < 0) {
                uv_mutex_destroy(&srv->progress_lock);
                return pm_error_set(err, r, "cannot create an async handle: %s", uv_strerror(r));
        }
        srv->progress_async.data = srv;
        srv->progress_queue = NULL;
        srv->progress_tail = &srv->progress_queue;
        srv->progress_ready = true;
        return 0;
}

void
pm__progress_close(struct pm_server *srv)
{
        if (!srv->progress_ready || uv_is_closing((uv_handle_t *)&srv->progress_async))
                return;
        uv_mutex_lock(&srv->progress_lock);
        srv->progress_closed = true;
        uv_mutex_unlock(&srv->progress_lock);
        uv_close((uv_handle_t *)&srv->progress_async, NULL);
}

void
pm__progress_release(struct pm_server *srv)
{
        struct pm__progress_line *l, *next;

        log_clear(srv);
        if (!srv->progress_ready)
                return;
        for (l = srv->progress_queue; l; l = next) {
                next = l->next;
                pm_free(l);
        }
        srv->progress_queue = NULL;
        srv->progress_tail = &srv->progress_queue;
        srv->n_progress_queued = 0;
        uv_mutex_destroy(&srv->progress_lock);
        srv->progress_ready = false;
}
