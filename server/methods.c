/* SPDX-License-Identifier: MIT */
/* The daemon's JSON-RPC methods: the one method table and its handlers. Handlers run on the
 * loop thread and read the model through the server's read handle only (projmodel/audit hands
 * its scan to the thread pool, server/audit.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/project.h"
#include "projmodel/writer.h"

#include "cache-collect.h"
#include "server-internal.h"

#define CLIENT(call) ((struct pm__client *)(call)->owner)

/* ---- helpers ---- */

static cJSON *
labels_json(char **labels)
{
        struct pm_strlist l = { .v = labels, .n = pm_labels_count(labels) };

        return pm_json_strlist(&l);
}

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

/* Add @v under @key unless NULL (cJSON keeps nulls out of our replies). False on OOM. */
static bool
add_str(cJSON *o, const char *key, const char *v)
{
        return !v || cJSON_AddStringToObject(o, key, v);
}

/* The reply {@key: @value, @list_key: [@labels...]}, into *ret. */
static int
labels_reply(const char *key, const char *value, const char *list_key, char **labels, cJSON **ret,
             struct pm_error *err)
{
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddStringToObject(o, key, value) ||
            !pm_json_add(o, list_key, labels_json(labels))) {
                cJSON_Delete(o);
                return oom(err);
        }
        *ret = o;
        return 0;
}

cJSON *
pm__crate_json(const struct pm_crate *c)
{
        cJSON *o = cJSON_CreateObject(), *a;
        bool ok;

        if (!o)
                return NULL;
        ok = pm_json_crate_fields(o, c, 0);
        a = ok ? cJSON_AddArrayToObject(o, "deps") : NULL;
        ok = a != NULL;
        for (size_t i = 0; ok && i < c->n_deps; i++) {
                cJSON *d = cJSON_CreateObject();

                ok = d && cJSON_AddItemToArray(a, d) && add_str(d, "label", c->deps[i].label) &&
                     add_str(d, "name", c->deps[i].name);
        }
        if (!ok)
                o = (cJSON_Delete(o), NULL);
        return o;
}

/* The parse warnings of the model as served, as projmodel/status lists them (project by project,
 * at most PM_STATUS_MAX_WARNINGS) but as plain strings: projmodel/rustProject's. [] for none. */
static cJSON *
warnings_json(const struct pm_server *srv)
{
        cJSON *a = cJSON_CreateArray();
        size_t listed = 0;

        for (size_t i = 0; a && srv->warnings && i < srv->cfg->n_projects; i++) {
                const struct pm__warnings *w = &srv->warnings[i];

                for (size_t k = 0; a && k < w->n && listed < PM_STATUS_MAX_WARNINGS; k++) {
                        if (!cJSON_AddItemToArray(a, cJSON_CreateString(w->v[k])))
                                a = (cJSON_Delete(a), NULL);
                        listed++;
                }
        }
        return a;
}

/* Whether @call may wait for the refresh in progress (or scheduled) to answer it fresh. */
static bool
can_wait_fresh(struct pm_server *srv, struct pm__rpc_call *call)
{
        return !call->resumed && pm__refresh_pending(srv);
}

/*
 * The reply {buildfile, project, warnings} for @form and @value (projmodel/project.h: the same
 * answer `discover` gives in-process), into *ret. For PM_PROJECT_REPO the key is the root's
 * .projmodel.json, else its build system's marker file. With @discover, {warnings, finished}
 * instead, in that order: `finished` is the line `projmodel discover` prints, which it copies
 * from the reply's bytes when `warnings` is empty (docs/protocol.md).
 */
static int
project_reply(struct pm_server *srv, enum pm_project_form form, const char *value, bool discover,
              cJSON **ret, struct pm_error *err)
{
        struct pm_project_request req = { .form = form, .value = value };
        struct pm_writer_options opts = { 0 };
        const struct pm_project *p0 = &srv->cfg->projects[0];
        const struct pm_adapter_ops *ops;
        char *repo_bf = NULL, *bf = NULL, *self = NULL;
        cJSON *project = NULL, *res = NULL;
        int r;

        if (form == PM_PROJECT_REPO) {
                ops = p0->build_system ? pm_adapter_find(p0->build_system) : NULL;
                repo_bf = pm_path_join(NULL, srv->cfg->root,
                                       srv->cfg->file                           ? ".projmodel.json"
                                       : ops && ops->markers && ops->markers[0] ? ops->markers[0]
                                                                                : ".");
                if (!repo_bf) {
                        r = oom(err);
                        goto out;
                }
                req.repo_buildfile = repo_bf;
        }
        opts.sysroot = srv->sysroot;
        opts.sysroot_src = srv->sysroot_src;
        opts.proc_macro_cwd = srv->cfg->root;
        /* The runnables name this binary, as the one-shot discover does (docs/cli.md). */
        errno = 0;
        self = pm_path_self_exe();
        if (!self && errno == ENOMEM) {
                r = oom(err);
                goto out;
        }
        opts.runnables_program = self;
        opts.no_flycheck = srv->cfg->no_flycheck_runnable;
        opts.pretty = false;
        r = pm_project_json(srv->idx, &req, &opts, &bf, &project, err);
        if (r < 0)
                goto out;
        res = cJSON_CreateObject();
        /* The warnings too, with every answer: `discover` prints them as the one-shot does
         * (docs/protocol.md). The finished line is built as the in-process discover's. */
        if (discover) {
                if (!res || !pm_json_add(res, "warnings", warnings_json(srv)) ||
                    !pm_json_add(res, "finished",
                                 pm_json_discover_finished(bf, pm_steal_ptr(&project)))) {
                        r = oom(err);
                        goto out;
                }
        } else if (!res || !cJSON_AddStringToObject(res, "buildfile", bf) ||
                   !pm_json_add(res, "project", pm_steal_ptr(&project)) ||
                   !pm_json_add(res, "warnings", warnings_json(srv))) {
                r = oom(err);
                goto out;
        }
        *ret = pm_steal_ptr(&res);
out:
        cJSON_Delete(res);
        cJSON_Delete(project);
        pm_free(bf);
        pm_free(repo_bf);
        pm_free(self);
        return r;
}

/* An absolute, normalised path parameter, pm_malloc'd. */
static int
param_path(const cJSON *params, const char *key, bool required, char **ret, struct pm_error *err)
{
        const char *v;
        int r;

        r = pm__param_string(params, key, required, &v, err);
        if (r < 0)
                return r;
        if (!v) {
                *ret = NULL;
                return 0;
        }
        if (!pm_path_is_absolute(v))
                return pm_error_set(err, PM_EPARAMS, "parameter '%s' must be an absolute path",
                                    key);
        *ret = pm_path_normalize(NULL, NULL, v);
        return *ret ? 0 : oom(err);
}

/* True if @path changed after the last refresh started (its change may not be applied yet). */
static bool
newer_than_model(struct pm_server *srv, const char *path)
{
        struct stat st;
        uint64_t ns;

        if (stat(path, &st) < 0)
                return false;
        ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
        return ns >= srv->last_start_ns;
}

/* ---- handlers ---- */

static int
m_initialize(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        cJSON *res = cJSON_CreateObject(), *caps, *pm, *info, *methods;

        if (!res)
                return oom(err);
        caps = cJSON_AddObjectToObject(res, "capabilities");
        pm = caps ? cJSON_AddObjectToObject(caps, "projmodel") : NULL;
        methods = pm ? cJSON_AddArrayToObject(pm, "methods") : NULL;
        for (size_t i = 0; methods && i < pm__n_methods; i++) {
                if (!cJSON_AddItemToArray(methods, cJSON_CreateString(pm__methods[i].name)))
                        methods = NULL;
        }
        if (methods) {
                const char *notes[] = { "projmodel/modelChanged", "projmodel/refreshFailed",
                                        "$/progress" };

                if (!pm_json_add(pm, "notifications", cJSON_CreateStringArray(notes, 3)))
                        methods = NULL;
        }
        info = methods ? cJSON_AddObjectToObject(res, "serverInfo") : NULL;
        if (!info || !cJSON_AddStringToObject(info, "name", "projmodel") ||
            !cJSON_AddStringToObject(info, "version", PM_VERSION)) {
                cJSON_Delete(res);
                return oom(err);
        }
        pm__progress_hear(ctx, CLIENT(call));
        *ret = res;
        return 0;
}

static int
m_initialized(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        return 0;
}

static int
m_shutdown(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;

        /* The reply first: a "shutdown" that fails must not have shut the client out. */
        *ret = cJSON_CreateNull();
        if (!*ret)
                return oom(err);
        CLIENT(call)->shutdown = true;
        srv->shutdown_requested = true;
        return 0;
}

static int
m_exit(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;

        /* One client's "exit" stops the shared daemon only after its own "shutdown". */
        if (CLIENT(call)->shutdown) {
                pm__log("client %llu asked to stop", (unsigned long long)CLIENT(call)->serial);
                pm__server_stop(srv);
        }
        return 0;
}

static int
m_cancel(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        struct pm__rpc_call **lists[2] = { &srv->parked_model, &srv->parked_fresh };
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(call->params, "id");
        struct pm_error cerr;

        pm_error_init(&cerr);
        pm_error_set(&cerr, PM_ECANCELLED, "request cancelled");
        for (size_t i = 0; i < 2; i++) {
                for (struct pm__rpc_call **pp = lists[i]; *pp; pp = &(*pp)->next) {
                        struct pm__rpc_call *c = *pp;

                        if (c->owner != call->owner || !pm__rpc_same_id(c->id, id))
                                continue;
                        *pp = c->next;
                        srv->n_parked--;
                        pm__client_send(CLIENT(c), pm__rpc_error(c->id, &cerr));
                        pm__rpc_call_free(c);
                        return 0;
                }
        }
        (void)pm__audit_cancel(srv, CLIENT(call), id);
        return 0; /* already answered: nothing to do */
}

static int
m_crate_for_file(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        char *path = NULL, **labels = NULL;
        int r;

        r = param_path(call->params, "path", true, &path, err);
        if (r < 0)
                goto out;
        r = pm_index_crates_for_file(srv->idx, path, &labels, err);
        if (r < 0)
                goto out;
        if ((!labels || !labels[0]) && can_wait_fresh(srv, call)) {
                r = pm__server_park(srv, &srv->parked_fresh, call, err);
                goto out;
        }
        r = labels_reply("path", path, "crates", labels, ret, err);
out:
        pm_labels_free(labels);
        pm_free(path);
        return r;
}

static int
m_rust_project(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        char *path = NULL, *bf = NULL;
        const char *label = NULL;
        bool discover = false;
        int r;

        if (call->params && !cJSON_IsObject(call->params)) {
                r = pm_error_set(err, PM_EPARAMS, "params must be an object");
                goto out;
        }
        r = pm__param_bool(call->params, "discover", false, &discover, err);
        if (r == 0)
                r = param_path(call->params, "path", false, &path, err);
        if (r == 0)
                r = param_path(call->params, "buildfile", false, &bf, err);
        if (r == 0)
                r = pm__param_string(call->params, "label", false, &label, err);
        if (r < 0)
                goto out;
        if (!!path + !!bf + !!label > 1) {
                r = pm_error_set(err, PM_EPARAMS,
                                 "give at most one of 'path', 'buildfile' and 'label'");
                goto out;
        }
        if (bf) {
                /* The editor asks right after saving: make sure that save is in the model. */
                if (!call->resumed && newer_than_model(srv, bf) && !srv->running) {
                        const struct pm_project *p = pm_config_project_for_path(srv->cfg, bf);

                        pm__refresh_request(srv, p, bf, true);
                }
                if (can_wait_fresh(srv, call)) {
                        r = pm__server_park(srv, &srv->parked_fresh, call, err);
                        goto out;
                }
                r = project_reply(srv, PM_PROJECT_BUILDFILE, bf, discover, ret, err);
        } else if (path) {
                r = project_reply(srv, PM_PROJECT_PATH, path, discover, ret, err);
                if (r == PM_ENOTFOUND && can_wait_fresh(srv, call)) {
                        /* A new file: the refresh under way may give it an owner. */
                        pm_error_init(err);
                        r = pm__server_park(srv, &srv->parked_fresh, call, err);
                }
        } else if (label) {
                r = project_reply(srv, PM_PROJECT_LABEL, label, discover, ret, err);
        } else {
                r = project_reply(srv, PM_PROJECT_REPO, NULL, discover, ret, err);
        }
out:
        pm_free(path);
        pm_free(bf);
        return r;
}

/* PM_ENOTFOUND naming @label when the model has no such crate. */
static int
check_label(struct pm_server *srv, const char *label, struct pm_error *err)
{
        char *source = NULL;
        int r = pm_index_crate_source(srv->idx, label, &source, err);

        pm_free(source);
        if (r == PM_ENOTFOUND)
                return pm_error_set(err, PM_ENOTFOUND, "no crate '%s' in the model", label);
        return r;
}

static int
m_crate(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        struct pm_graph *g = NULL;
        const char *label;
        char *source = NULL;
        cJSON *o = NULL;
        int r;

        r = pm__param_string(call->params, "label", true, &label, err);
        if (r == 0)
                r = check_label(srv, label, err);
        if (r == 0)
                r = pm_index_load(srv->idx, &label, 1, &g, err);
        if (r == 0)
                r = pm_index_crate_source(srv->idx, label, &source, err);
        if (r < 0)
                goto out;
        o = g->n_crates ? pm__crate_json(&g->crates[0]) : NULL;
        if (!o) {
                r = oom(err);
                goto out;
        }
        if (!add_str(o, "source", source)) {
                r = oom(err);
                goto out;
        }
        *ret = pm_steal_ptr(&o);
out:
        cJSON_Delete(o);
        pm_free(source);
        pm_graph_free(g);
        return r;
}

static int
deps_common(struct pm_server *srv, struct pm__rpc_call *call, bool reverse, cJSON **ret,
            struct pm_error *err)
{
        const char *label;
        bool transitive;
        char **labels = NULL;
        cJSON *o = NULL;
        int r;

        r = pm__param_string(call->params, "label", true, &label, err);
        if (r == 0)
                r = pm__param_bool(call->params, "transitive", false, &transitive, err);
        if (r == 0)
                r = check_label(srv, label, err);
        if (r < 0)
                goto out;
        r = reverse ? pm_index_rdeps(srv->idx, label, transitive, &labels, err)
                    : pm_index_deps(srv->idx, label, transitive, &labels, err);
        if (r < 0)
                goto out;
        r = labels_reply("label", label, "labels", labels, &o, err);
        if (r == 0 && !cJSON_AddBoolToObject(o, "transitive", transitive))
                r = oom(err);
        if (r < 0)
                goto out;
        *ret = pm_steal_ptr(&o);
out:
        cJSON_Delete(o);
        pm_labels_free(labels);
        return r;
}

static int
m_deps(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        return deps_common(ctx, call, false, ret, err);
}

static int
m_rdeps(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        return deps_common(ctx, call, true, ret, err);
}

static int
m_audit(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        return pm__audit_request(ctx, call, err);
}

static int
m_search(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        const char *query;
        unsigned long limit;
        char **labels = NULL;
        int r;

        r = pm__param_string(call->params, "query", true, &query, err);
        if (r == 0)
                r = pm__param_uint(call->params, "limit", 50, PM_SEARCH_MAX_LIMIT, &limit, err);
        if (r == 0)
                r = pm_index_search(srv->idx, query, limit, &labels, err);
        if (r == 0)
                r = labels_reply("query", query, "labels", labels, ret, err);
        pm_labels_free(labels);
        return r;
}

static int
m_status(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        *ret = pm__server_status(ctx);
        return *ret ? 0 : oom(err);
}

static int
m_refresh(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        cJSON *o;

        if (!call->resumed) {
                /* Answered when a run that started after this request has ended. */
                pm__refresh_request(srv, NULL, NULL, true);
                return pm__server_park(srv, &srv->parked_fresh, call, err);
        }
        if (!srv->last_ok)
                return pm_error_set(err, PM_ETOOL, "%s",
                                    srv->last_error ? srv->last_error : "refresh failed");
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddNumberToObject(o, "generation", (double)srv->generation) ||
            !cJSON_AddNumberToObject(o, "crates", (double)srv->n_crates) ||
            !cJSON_AddNumberToObject(o, "durationMs", srv->last_refresh_ms)) {
                cJSON_Delete(o);
                return oom(err);
        }
        *ret = o;
        return 0;
}

static int
m_subscribe(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        struct pm_server *srv = ctx;
        cJSON *o = cJSON_CreateObject();

        if (!o || !cJSON_AddNumberToObject(o, "generation", (double)srv->generation)) {
                cJSON_Delete(o);
                return oom(err);
        }
        pm__progress_join(srv, CLIENT(call));
        CLIENT(call)->subscribed = true;
        *ret = o;
        return 0;
}

/*
 * The method table: the only place a method is registered. The dispatcher checks `flags`
 * before the handler runs (PM_RPC_NEEDS_MODEL parks the request until a model is loaded).
 *
 * Adding a method:
 *  1. write its handler above (`m_<name>`, params through pm__param_*, errors as pm_error);
 *  2. add its row here with the right flags;
 *  3. a Criterion test in tests/server/ if it has parsing of its own;
 *  4. an integration test in tests/integration/test-daemon-methods.c;
 *  5. its section in docs/protocol.md (request and reply examples, errors).
 */
const struct pm__rpc_method pm__methods[] = {
        { "initialize", m_initialize, 0 },
        { "initialized", m_initialized, PM_RPC_NOTIFICATION },
        { "shutdown", m_shutdown, PM_RPC_MUTATES },
        { "exit", m_exit, PM_RPC_NOTIFICATION | PM_RPC_MUTATES | PM_RPC_AFTER_SHUTDOWN },
        { "$/cancelRequest", m_cancel, PM_RPC_NOTIFICATION | PM_RPC_AFTER_SHUTDOWN },
        { "projmodel/crateForFile", m_crate_for_file, PM_RPC_NEEDS_MODEL },
        { "projmodel/rustProject", m_rust_project, PM_RPC_NEEDS_MODEL | PM_RPC_DISCOVER_PARAM },
        { "projmodel/crate", m_crate, PM_RPC_NEEDS_MODEL },
        { "projmodel/deps", m_deps, PM_RPC_NEEDS_MODEL },
        { "projmodel/rdeps", m_rdeps, PM_RPC_NEEDS_MODEL },
        { "projmodel/search", m_search, PM_RPC_NEEDS_MODEL },
        { "projmodel/audit", m_audit, PM_RPC_NEEDS_MODEL },
        { "projmodel/status", m_status, 0 },
        { "projmodel/refresh", m_refresh, PM_RPC_MUTATES },
        { "projmodel/subscribe", m_subscribe, 0 },
};

const size_t pm__n_methods = sizeof(pm__methods) / sizeof(pm__methods[0]);

/* ---- status ---- */

cJSON *
pm__server_status(struct pm_server *srv)
{
        cJSON *o = cJSON_CreateObject(), *last;
        size_t rss = 0;
        bool ok;

        if (!o)
                return NULL;
        ok = add_str(o, "root", srv->cfg->root) && add_str(o, "socket", srv->socket_path) &&
             add_str(o, "database", srv->db_path) &&
             cJSON_AddNumberToObject(o, "pid", (double)getpid()) &&
             add_str(o, "version", PM_VERSION) &&
             add_str(o, "state",
                     srv->running       ? "refreshing"
                     : srv->dirty       ? "scheduled"
                     : !srv->have_model ? "starting"
                                        : "idle") &&
             cJSON_AddNumberToObject(o, "generation", (double)srv->generation) &&
             cJSON_AddNumberToObject(o, "crates", (double)srv->n_crates) &&
             cJSON_AddBoolToObject(o, "haveModel", srv->have_model) &&
             cJSON_AddNumberToObject(o, "refreshes", (double)srv->refreshes);
        last = ok ? cJSON_AddObjectToObject(o, "lastRefresh") : NULL;
        ok = last != NULL;
        if (ok && srv->refreshes)
                ok = cJSON_AddNumberToObject(last, "time", srv->last_refresh_time) &&
                     cJSON_AddNumberToObject(last, "durationMs", srv->last_refresh_ms) &&
                     cJSON_AddNumberToObject(last, "ownMs", srv->last_own_ms) &&
                     cJSON_AddNumberToObject(last, "toolMs", srv->last_tool_ms) &&
                     cJSON_AddNumberToObject(last, "readMs", srv->last_read_ms) &&
                     cJSON_AddNumberToObject(last, "parseMs", srv->last_parse_ms) &&
                     cJSON_AddNumberToObject(last, "buildMs", srv->last_build_ms) &&
                     cJSON_AddNumberToObject(last, "applyMs", srv->last_apply_ms) &&
                     cJSON_AddNumberToObject(last, "notifyMs", srv->last_notify_ms) &&
                     cJSON_AddBoolToObject(last, "partial", srv->last_partial) &&
                     cJSON_AddNumberToObject(last, "queried", (double)srv->last_queried) &&
                     cJSON_AddBoolToObject(last, "ok", srv->last_ok);
        if (ok && srv->last_error)
                ok = cJSON_AddStringToObject(o, "lastError", srv->last_error) &&
                     add_str(o, "lastErrorOutput", srv->last_error_output);
        else if (ok)
                ok = cJSON_AddNullToObject(o, "lastError") != NULL;
        ok = ok && pm__warnings_status(srv, o);
        ok = ok && add_str(o, "sysroot", srv->sysroot) &&
             cJSON_AddBoolToObject(o, "watching", srv->watching) &&
             cJSON_AddNumberToObject(o, "watches", (double)srv->n_watches) &&
             cJSON_AddNumberToObject(o, "unwatchedDirs", (double)srv->n_unwatched) &&
             cJSON_AddNumberToObject(o, "watchedBuildFiles", (double)srv->watch_set.n) &&
             cJSON_AddNumberToObject(o, "overflows", (double)srv->overflows) &&
             add_str(o, "watchError", srv->watch_error) &&
             cJSON_AddNumberToObject(o, "clients", (double)srv->n_clients) &&
             pm__audit_status(srv, o) && pm__cache_status(srv, o);
        if (ok && srv->seed_file) {
                cJSON *seed = cJSON_AddObjectToObject(o, "seed");

                ok = seed && add_str(seed, "file", srv->seed_file) &&
                     cJSON_AddBoolToObject(seed, "seeded", srv->seeded) &&
                     cJSON_AddNumberToObject(seed, "changedBuildFiles",
                                             (double)srv->seed_changed) &&
                     add_str(seed, "error", srv->seed_error);
        } else if (ok) {
                ok = cJSON_AddNullToObject(o, "seed") != NULL;
        }
        if (ok && uv_resident_set_memory(&rss) == 0)
                ok = cJSON_AddNumberToObject(o, "rssBytes", (double)rss) != NULL;
        if (!ok)
                o = (cJSON_Delete(o), NULL);
        return o;
}
