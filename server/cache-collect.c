/* SPDX-License-Identifier: MIT */
/* The daemon's side of collecting the cache directory (pm_index_cache_collect(), index.h): run
 * on the thread pool after a refresh, its figures and failure kept for the status. A daemon runs
 * for weeks and every changed proc macro or joined source set leaves an entry behind. */
#include "cache-collect.h"

#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/stamp.h"

#include "server-internal.h"

/* How often a daemon asks: the directory's own stamp makes most asks a single stat. */
#define ASK_EVERY_MS (3600.0 * 1000.0)

struct pm__collect {
        uv_work_t work;
        bool running;
        double asked_ms;  /* pm_clock_ms() of the last ask */
        char *dir;        /* the cache directory, absolute */
        char *db;         /* the daemon's model (borrowed from the server for the worker) */
        double collected; /* unix time of the last collection that ran, 0: none */
        struct pm_cache_stats stats, last;
        struct pm_error err;
        int r;
        char *error; /* the last failure, pm_malloc'd, or NULL */
};

static void
collect_work(uv_work_t *w)
{
        struct pm__collect *c = w->data;

        pm_error_init(&c->err);
        c->r = pm_index_cache_collect(c->dir, c->db, &c->stats, &c->err);
}

static void
collect_done(uv_work_t *w, int status)
{
        struct pm__collect *c = w->data;
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 8];

        c->running = false;
        if (status < 0) {
                c->r = status;
                (void)pm_error_set(&c->err, status, "%s", uv_strerror(status));
        }
        if (c->r < 0) {
                pm_free(c->error);
                c->error = pm_strdup(pm_error_format(&c->err, line, sizeof(line)));
                pm__log("cache %s not collected: %s", c->dir, line);
        } else if (c->stats.ran) {
                pm_free(c->error);
                c->error = NULL;
                c->last = c->stats;
                c->collected = (double)time(NULL);
                pm__log("cache %s collected: %zu models read, %zu entries in use, %zu kept for "
                        "now, %zu removed (%llu bytes)",
                        c->dir, c->last.models, c->last.kept, c->last.young, c->last.removed,
                        (unsigned long long)c->last.bytes);
        }
}

void
pm__cache_collect_after(struct pm_server *srv)
{
        struct pm__collect *c = srv->collect;
        double now = pm_clock_ms();
        char *dir;

        if (!c) {
                c = pm_calloc(1, sizeof(*c));
                dir = c ? pm_config_cache_dir(srv->cfg) : NULL;
                if (c)
                        c->dir = dir ? pm_path_absolute(dir) : NULL;
                pm_free(dir);
                if (!c || !c->dir) {
                        pm_free(c);
                        return;
                }
                c->work.data = c;
                srv->collect = c;
        } else if (c->running || now - c->asked_ms < ASK_EVERY_MS) {
                return;
        }
        if (srv->stopping)
                return;
        c->db = srv->db_path;
        if (uv_queue_work(&srv->loop, &c->work, collect_work, collect_done) < 0)
                return;
        c->running = true;
        c->asked_ms = now;
}

bool
pm__cache_status(struct pm_server *srv, cJSON *o)
{
        static const struct pm_cache_stats none;
        const struct pm__collect *c = srv->collect;
        const struct pm_cache_stats *s = c ? &c->last : &none;
        cJSON *j = cJSON_AddObjectToObject(o, "cache");

        return j && cJSON_AddNumberToObject(j, "collected", c ? c->collected : 0) &&
               cJSON_AddNumberToObject(j, "models", (double)s->models) &&
               cJSON_AddNumberToObject(j, "inUse", (double)s->kept) &&
               cJSON_AddNumberToObject(j, "keptForNow", (double)s->young) &&
               cJSON_AddNumberToObject(j, "removed", (double)s->removed) &&
               cJSON_AddNumberToObject(j, "bytesRemoved", (double)s->bytes) &&
               (c && c->error ? cJSON_AddStringToObject(j, "error", c->error) != NULL
                              : cJSON_AddNullToObject(j, "error") != NULL);
}

void
pm__cache_collect_free(struct pm_server *srv)
{
        struct pm__collect *c = srv->collect;

        if (!c)
                return;
        pm_free(c->dir);
        pm_free(c->error);
        pm_free(c);
        srv->collect = NULL;
}
