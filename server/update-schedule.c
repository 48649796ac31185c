/* SPDX-License-Identifier: MIT */
/* When the daemon refreshes: change requests, debounce and coalescing, re-reading the
 * configuration between runs, and the start of a run. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"

#include "server-internal.h"
#include "update-internal.h"

static void refresh_start(struct pm_server *srv);

void
pm__update_debounce_cb(uv_timer_t *t)
{
        struct pm_server *srv = t->data;

        if (srv->running || srv->stopping || !srv->dirty)
                return;
        refresh_start(srv);
}

void
pm__refresh_request(struct pm_server *srv, const struct pm_project *project, const char *build_file,
                    bool immediate)
{
        if (srv->stopping)
                return;
        if (project) {
                srv->dirty_projects[project - srv->cfg->projects] = true;
        } else {
                for (size_t i = 0; i < srv->cfg->n_projects; i++)
                        srv->dirty_projects[i] = true;
        }
        if (!build_file) {
                srv->dirty_full = true;
        } else if (!srv->changed_overflow) {
                bool known = false;

                for (size_t i = 0; i < srv->n_changed && !known; i++)
                        known = strcmp(srv->changed[i], build_file) == 0;
                if (!known) {
                        char **v = NULL;

                        if (srv->n_changed < PM_WATCH_MAX_CHANGED)
                                v = pm_realloc(srv->changed, (srv->n_changed + 1) * sizeof(*v));
                        if (v) {
                                srv->changed = v;
                                v[srv->n_changed] = pm_strdup(build_file);
                                if (v[srv->n_changed])
                                        srv->n_changed++;
                                else
                                        srv->changed_overflow = true;
                        } else {
                                srv->changed_overflow = true;
                        }
                }
        }
        srv->dirty = true;
        if (srv->running)
                return; /* finish() starts exactly one more run */
        if (immediate)
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, 0, 0);
        else if (!uv_is_active((uv_handle_t *)&srv->debounce))
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, srv->cfg->debounce_ms,
                                     0);
}

bool
pm__refresh_pending(const struct pm_server *srv)
{
        return srv->running || srv->dirty;
}

void
pm__refresh_cancel(struct pm_server *srv)
{
        if (srv->running)
                pm__plan_cancel(srv->running->plan_run);
}

/*
 * Re-read .projmodel.json between runs (nothing else reads srv->cfg then: no worker runs, and the
 * startup walk has ended). The new configuration's projects all re-query; its sources replace
 * the old in the model with the next apply (pm_model_configure()). A configuration that does not
 * load keeps the old one, with the error logged.
 */
static void
reload_config(struct pm_server *srv)
{
        struct pm_config *cfg = NULL;
        bool *dirty;
        struct pm_error err;

        pm_error_init(&err);
        if (pm_config_load(srv->cfg->root, &cfg, &err) < 0 ||
            pm_adapter_resolve_config(cfg, &err) < 0) {
                pm__log("keeping the previous configuration: %s", err.msg);
                pm_free(srv->last_error);
                srv->last_error = pm_strdup(err.msg);
                goto out;
        }
        dirty = pm_calloc(cfg->n_projects, sizeof(*dirty));
        if (!dirty) {
                pm__log("out of memory re-reading the configuration, retrying later");
                pm_config_free(cfg);
                return;
        }
        pm__refresh_release(srv); /* scope_complete is per old project */
        pm__warnings_config_changed(srv, cfg);
        pm_free(srv->dirty_projects);
        for (size_t i = 0; i < cfg->n_projects; i++)
                dirty[i] = true;
        srv->dirty_projects = dirty;
        srv->dirty_full = true;
        pm_config_free(srv->cfg);
        srv->cfg = pm_steal_ptr(&cfg);
        pm__log("configuration re-read: %zu projects", srv->cfg->n_projects);
        pm__watch_config_changed(srv);
out:
        srv->reload_config = false;
        pm_config_free(cfg);
}

static void
refresh_start(struct pm_server *srv)
{
        struct pm__refresh *r;
        struct timespec ts;

        if (srv->reload_config && !pm__watch_walk_running())
                reload_config(srv);
        r = pm_calloc(1, sizeof(*r));
        if (r)
                r->todo = pm_calloc(srv->cfg->n_projects, sizeof(bool));
        if (!r || !r->todo) {
                pm__log("out of memory starting a refresh, retrying later");
                pm_free(r);
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, 1000, 0);
                return;
        }
        r->srv = srv;
        r->start_ms = pm_clock_ms();
        r->all_partial = true;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        srv->last_start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        memcpy(r->todo, srv->dirty_projects, srv->cfg->n_projects * sizeof(bool));
        memset(srv->dirty_projects, 0, srv->cfg->n_projects * sizeof(bool));
        if (!srv->dirty_full && !srv->changed_overflow && srv->n_changed) {
                r->scope = pm_steal_ptr(&srv->changed);
                r->n_scope = srv->n_changed;
        } else {
                for (size_t i = 0; i < srv->n_changed; i++)
                        pm_free(srv->changed[i]);
                pm_free(srv->changed);
                srv->changed = NULL;
        }
        srv->n_changed = 0;
        srv->changed_overflow = false;
        srv->dirty_full = false;
        srv->dirty = false;
        r->sysroot = pm_strdup(srv->sysroot);
        r->sysroot_src = pm_strdup(srv->sysroot_src);
        srv->running = r;
        pm__update_progress(srv, "begin", "refreshing the model");
        pm__update_next_project(r);
}
