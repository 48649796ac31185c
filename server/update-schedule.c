/* SPDX-License-Identifier: MIT */
/* When the daemon refreshes: change requests of three kinds (full, build files, proc-macro
 * sources), debounce and coalescing, re-reading the configuration between runs, and the start
 * of a run. */
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

/*
 * Add a copy of @s to the set *@v of *@n strings, at most PM_WATCH_MAX_CHANGED; false when it is
 * full or out of memory (the caller then widens what it asks for).
 */
static bool
remember(char ***v, size_t *n, const char *s)
{
        char **nv;

        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i], s) == 0)
                        return true;
        if (*n >= PM_WATCH_MAX_CHANGED)
                return false;
        nv = pm_realloc(*v, (*n + 1) * sizeof(*nv));
        if (!nv)
                return false;
        *v = nv;
        nv[*n] = pm_strdup(s);
        if (!nv[*n])
                return false;
        (*n)++;
        return true;
}

static void
forget(char ***v, size_t *n)
{
        for (size_t i = 0; i < *n; i++)
                pm_free((*v)[i]);
        pm_free(*v);
        *v = NULL;
        *n = 0;
}

/* A change is waiting: arm the debounce, unless a run is going (its finish() starts one more). */
static void
arm(struct pm_server *srv, bool immediate)
{
        srv->dirty = true;
        if (srv->running)
                return;
        if (immediate)
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, 0, 0);
        else if (!uv_is_active((uv_handle_t *)&srv->debounce))
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, srv->cfg->debounce_ms,
                                     0);
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
        if (!build_file)
                srv->dirty_full = true;
        else if (!srv->changed_overflow && !remember(&srv->changed, &srv->n_changed, build_file))
                srv->changed_overflow = true;
        arm(srv, immediate);
}

void
pm__refresh_request_proc_macro(struct pm_server *srv, const struct pm_project *project,
                               const char *build_file, const char *path)
{
        if (srv->stopping)
                return;
        /* Only some build systems' proc macros can be rebuilt without a query
         * (procmacro-rebuild.c); more paths than can be remembered take the query too. */
        if (!project || !pm__procmacro_can_rebuild(project) ||
            !remember(&srv->rebuild_paths, &srv->n_rebuild_paths, path) ||
            !remember(&srv->rebuild_files, &srv->n_rebuild_files, build_file)) {
                pm__refresh_request(srv, project, build_file, false);
                return;
        }
        srv->rebuild_projects[project - srv->cfg->projects] = true;
        arm(srv, false);
}

void
pm__refresh_forget_rebuilds(struct pm_server *srv)
{
        pm_free(srv->rebuild_projects);
        srv->rebuild_projects = NULL;
        forget(&srv->rebuild_paths, &srv->n_rebuild_paths);
        forget(&srv->rebuild_files, &srv->n_rebuild_files);
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
        bool *dirty, *rebuild;
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
        rebuild = pm_calloc(cfg->n_projects, sizeof(*rebuild));
        if (!dirty || !rebuild) {
                pm__log("out of memory re-reading the configuration, retrying later");
                pm_free(dirty);
                pm_free(rebuild);
                pm_config_free(cfg);
                return;
        }
        pm__refresh_release(srv); /* scope_complete is per old project */
        pm__warnings_config_changed(srv, cfg);
        pm_free(srv->dirty_projects);
        for (size_t i = 0; i < cfg->n_projects; i++)
                dirty[i] = true;
        srv->dirty_projects = dirty;
        /* Every project is queried: no proc macro waits for a rebuild of its own. */
        pm_free(srv->rebuild_projects);
        srv->rebuild_projects = rebuild;
        forget(&srv->rebuild_paths, &srv->n_rebuild_paths);
        forget(&srv->rebuild_files, &srv->n_rebuild_files);
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
        if (r) {
                r->todo = pm_calloc(srv->cfg->n_projects, sizeof(bool));
                r->rebuild = pm_calloc(srv->cfg->n_projects, sizeof(bool));
        }
        if (!r || !r->todo || !r->rebuild) {
                pm__log("out of memory starting a refresh, retrying later");
                if (r) {
                        pm_free(r->todo);
                        pm_free(r->rebuild);
                }
                pm_free(r);
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, 1000, 0);
                return;
        }
        r->srv = srv;
        r->start_ms = pm_clock_ms();
        r->all_partial = true;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        srv->last_start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        /* A project queried anyway takes its proc macros' build files into the scope: its parse
         * re-reads them and procmacro.c rebuilds what is stale (the path without the rebuild). */
        for (size_t i = 0; i < srv->n_rebuild_files; i++) {
                const struct pm_project *p =
                        pm_config_project_for_path(srv->cfg, srv->rebuild_files[i]);

                if (p && srv->dirty_projects[p - srv->cfg->projects] && !srv->changed_overflow &&
                    !remember(&srv->changed, &srv->n_changed, srv->rebuild_files[i]))
                        srv->changed_overflow = true;
        }
        forget(&srv->rebuild_files, &srv->n_rebuild_files);
        for (size_t i = 0; i < srv->cfg->n_projects; i++)
                r->rebuild[i] = srv->rebuild_projects[i] && !srv->dirty_projects[i];
        memset(srv->rebuild_projects, 0, srv->cfg->n_projects * sizeof(bool));
        r->rebuild_paths = pm_steal_ptr(&srv->rebuild_paths);
        r->n_rebuild_paths = srv->n_rebuild_paths;
        srv->n_rebuild_paths = 0;
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
