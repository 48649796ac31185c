/* SPDX-License-Identifier: MIT */
/* The daemon's refresh engine: debounce and coalesce change requests, run each dirty project's
 * plan under uv_spawn, parse and apply the result on the thread pool with the worker's own
 * model handle, then publish the new generation (status, modelChanged, parked requests).
 * Never two runs at once: changes during a run make exactly one more run. Over 800 lines: the
 * worker (parse and apply) is to move beside the one-shot refresh once both run one pipeline, which
 * will leave the scheduling and notifications here (docs/architecture.md). */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/*
 * One run over the dirty projects. Invariant: srv->running points here from start to finish;
 * plan/results belong to the project being processed and are released before the next one.
 */
struct pm__refresh {
        struct pm_server *srv;
        uv_work_t work;
        double start_ms; /* pm_clock_ms() */
        bool *todo;      /* projects to query (copied from the dirty flags) */
        size_t project;  /* the project being processed */
        char **scope;    /* changed build files, or NULL: unscoped */
        size_t n_scope;
        const char **qscope; /* the part of scope under the current project */
        size_t n_qscope;
        struct pm_query q;
        const struct pm_adapter_ops *ops;
        struct pm_plan plan;
        size_t step;
        struct pm_tool_result results[PM_PLAN_MAX_STEPS];
        bool step_ok[PM_PLAN_MAX_STEPS];     /* the step succeeded (its output is to be read) */
        char *step_error[PM_PLAN_MAX_STEPS]; /* pm_blob.error of each step (pm__step_error) */
        struct pm__spawn *spawn;             /* the running step, or NULL */
        char *sysroot;                       /* copies for the worker to store */
        char *sysroot_src;

        /* Filled by the worker, read in the after-work callback. */
        int wcode;
        struct pm_error werr;
        struct pm_change wchange;
        struct pm__strset wwatch; /* the new watch set */
        bool have_wwatch;
        size_t wcrates;
        double wown_ms;
        double wread_ms, wparse_ms, wapply_ms; /* wown_ms's parts */
        struct pm_graph *wfp;                  /* holds the applied graph's fingerprints, or NULL */
        bool wpartial;                         /* the applied graph was partial */
        bool wstale;               /* another writer changed the model: forget all fingerprints */
        uint64_t known_generation; /* the loop's generation when the work was queued */
        size_t known_crates;       /* ... and its crate count */

        /* The whole run. */
        struct pm_change change; /* merged over projects */
        bool failed;
        struct pm_error first_err;
        char *err_output; /* the failing tool's output, bounded */
        double own_ms;
        double tool_ms, read_ms, parse_ms, apply_ms; /* summed over steps and projects */
        double step_start_ms;                        /* when the running step was spawned */
        bool all_partial;                            /* every graph applied was partial */
        bool applied;                                /* some graph was applied */
};

static void refresh_start(struct pm_server *srv);
static void next_project(struct pm__refresh *r);

static void
progress(struct pm_server *srv, const char *kind, const char *message)
{
        cJSON *params = cJSON_CreateObject(), *value;

        if (!params)
                return;
        cJSON_AddStringToObject(params, "token", "projmodel/refresh");
        value = cJSON_AddObjectToObject(params, "value");
        if (value) {
                cJSON_AddStringToObject(value, "kind", kind);
                if (strcmp(kind, "begin") == 0)
                        cJSON_AddStringToObject(value, "title", "projmodel");
                if (message)
                        cJSON_AddStringToObject(value, "message", message);
        }
        pm__server_broadcast(srv, false, pm__rpc_notification("$/progress", params));
}

static void
on_debounce(uv_timer_t *t)
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
                (void)uv_timer_start(&srv->debounce, on_debounce, 0, 0);
        else if (!uv_is_active((uv_handle_t *)&srv->debounce))
                (void)uv_timer_start(&srv->debounce, on_debounce, srv->cfg->debounce_ms, 0);
}

bool
pm__refresh_pending(const struct pm_server *srv)
{
        return srv->running || srv->dirty;
}

void
pm__refresh_cancel(struct pm_server *srv)
{
        if (srv->running && srv->running->spawn)
                pm__spawn_kill(srv->running->spawn);
}

/* Largest output buffer kept between runs (the rest is freed as usual). */
#define OUTPUT_SPARE_MAX (64u << 20)

static void
release_project(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;

        for (size_t i = 0; i < r->plan.n_steps && !srv->output_spare.buf; i++) {
                if (r->plan.steps[i].output_file && r->results[i].out.buf &&
                    r->results[i].out.alloc <= OUTPUT_SPARE_MAX) {
                        srv->output_spare = r->results[i].out;
                        pm_strbuf_init(&r->results[i].out);
                        pm_strbuf_reset(&srv->output_spare);
                }
        }
        pm_plan_release(&r->plan);
        memset(&r->plan, 0, sizeof(r->plan));
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++)
                pm_tool_result_release(&r->results[i]);
        memset(r->results, 0, sizeof(r->results));
        memset(r->step_ok, 0, sizeof(r->step_ok));
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++) {
                pm_free(r->step_error[i]);
                r->step_error[i] = NULL;
        }
        pm_free(r->qscope);
        r->qscope = NULL;
        r->n_qscope = 0;
        r->step = 0;
}

void
pm__refresh_release(struct pm_server *srv)
{
        pm_strbuf_release(&srv->output_spare);
        if (!srv->fingerprints)
                return;
        for (size_t i = 0; i < srv->cfg->n_projects; i++)
                pm_graph_free(srv->fingerprints[i]);
        pm_free(srv->fingerprints);
        srv->fingerprints = NULL;
}

/*
 * Forget project @i's fingerprints: after a failed run the model may lack changes the next
 * run's scope no longer names, so that run must parse everything.
 */
static void
forget_fingerprints(struct pm_server *srv, size_t i)
{
        if (srv->fingerprints)
                srv->fingerprints[i] = pm_graph_free(srv->fingerprints[i]);
}

/* Record a project's failure (the first one wins) with the tool's output. */
static void
project_failed(struct pm__refresh *r, const struct pm_error *err, const struct pm_tool_result *res)
{
        const struct pm_project *p = &r->srv->cfg->projects[r->project];

        forget_fingerprints(r->srv, r->project);
        pm__log("refresh of '%s' failed: %s", p->id, err->msg);
        if (r->failed)
                return;
        r->failed = true;
        r->first_err = *err;
        if (r->srv->cfg->n_projects > 1)
                (void)pm_error_prefix(&r->first_err, "project '%s'", p->id);
        if (res) {
                struct pm_strbuf sb = PM_STRBUF_INIT;

                if (res->err.len)
                        (void)pm_strbuf_add(&sb, res->err.buf,
                                            res->err.len < PM_STATUS_MAX_ERROR
                                                    ? res->err.len
                                                    : PM_STATUS_MAX_ERROR);
                if (res->out.len && sb.len < PM_STATUS_MAX_ERROR)
                        (void)pm_strbuf_add(&sb, res->out.buf,
                                            res->out.len < PM_STATUS_MAX_ERROR - sb.len
                                                    ? res->out.len
                                                    : PM_STATUS_MAX_ERROR - sb.len);
                pm_free(r->err_output);
                r->err_output = sb.len ? pm_strbuf_detach(&sb, NULL) : NULL;
                pm_strbuf_release(&sb);
        }
}

/* ---- the worker: read output files, parse, apply (thread pool) ---- */

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The previous fingerprints for r->q (worker): only for a scoped query, and only while no one
 * else wrote to the model since this daemon's last apply (else they may not describe it).
 */
static const struct pm_kvlist *
previous_fingerprints(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        uint64_t gen;

        if (!srv->fingerprints)
                return NULL;
        if (pm_index_generation(srv->widx, &gen, NULL) < 0 || gen != srv->fingerprints_generation) {
                r->wstale = true;
                return NULL;
        }
        if (!r->q.scope || !srv->fingerprints[r->project])
                return NULL;
        return &srv->fingerprints[r->project]->fingerprints;
}

/*
 * Keep @g's fingerprints for the next run (worker, after a successful apply): a partial graph is
 * small and kept whole; a complete one is copied from.
 */
static void
keep_fingerprints(struct pm__refresh *r, struct pm_graph **g)
{
        const struct pm_kvlist *fp = &(*g)->fingerprints;
        struct pm_graph *h;
        struct pm_kv *v;

        r->wfp = NULL;
        if (fp->n == 0)
                return;
        if ((*g)->partial) {
                r->wfp = pm_steal_ptr(g);
                return;
        }
        h = pm_graph_new();
        v = h ? pm_arena_alloc(h->arena, fp->n * sizeof(*v)) : NULL;
        if (!v) {
                pm_graph_free(h);
                return;
        }
        for (size_t i = 0; i < fp->n; i++) {
                v[i].key = pm_graph_strdup(h, fp->v[i].key);
                v[i].value = pm_graph_strdup(h, fp->v[i].value);
                if (!v[i].key || !v[i].value) {
                        pm_graph_free(h);
                        return;
                }
        }
        h->fingerprints = (struct pm_kvlist){ .v = v, .n = fp->n, .cap = fp->n };
        r->wfp = h;
}

static void
work_cb(uv_work_t *w)
{
        struct pm__refresh *r = w->data;
        struct pm_server *srv = r->srv;
        const struct pm_project *p = &srv->cfg->projects[r->project];
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        char *programs[PM_PLAN_MAX_STEPS] = { NULL };
        struct pm_graph *g = NULL;
        char **files = NULL;
        uint64_t gen_before = 0;
        bool own_model;
        double t0;
        int code = 0;

        pm_error_init(&r->werr);
        memset(&r->wchange, 0, sizeof(r->wchange));
        r->have_wwatch = false;
        r->wfp = NULL;
        r->wpartial = false;
        if (!srv->widx) {
                /* The worker's own handle: SQLite handles are never shared between threads. */
                code = pm_index_open(srv->db_path, &srv->widx, &r->werr);
                if (code < 0)
                        goto out;
        }
        /* Its applies drop the sources the configuration (maybe re-read) no longer names. */
        code = pm_model_configure(srv->cfg, srv->widx, &r->werr);
        if (code < 0)
                goto out;
        t0 = pm_clock_ms();
        for (size_t i = 0; i < r->plan.n_steps; i++) {
                const struct pm_step *s = &r->plan.steps[i];

                if (s->output_file && r->step_ok[i]) {
                        if (!r->results[i].out.buf && srv->output_spare.buf) {
                                r->results[i].out = srv->output_spare;
                                pm_strbuf_init(&srv->output_spare);
                        }
                        pm_strbuf_reset(&r->results[i].out);
                        code = pm_strbuf_read_file(&r->results[i].out, s->output_file,
                                                   srv->cfg->max_tool_output, &r->werr);
                        if (code < 0 && !s->optional)
                                goto out;
                        code = 0;
                }
                blobs[i].data = r->results[i].out.buf ? r->results[i].out.buf : "";
                blobs[i].len = r->results[i].out.len;
                blobs[i].origin = s->output_file ? s->output_file : s->argv[0];
                programs[i] = pm__tool_which(s->argv[0], s->cwd);
                blobs[i].program = programs[i];
                blobs[i].error = r->step_error[i];
                blobs[i].err_text = r->results[i].err.buf;
                blobs[i].err_len = r->results[i].err.len;
        }
        r->wread_ms = pm_clock_ms() - t0;
        r->q.want_fingerprints = true;
        r->q.previous_fingerprints = previous_fingerprints(r);
        code = r->ops->parse(&r->q, blobs, r->plan.n_steps, &g, &r->werr);
        r->q.previous_fingerprints = NULL;
        if (code == 0)
                code = pm__build_proc_macros(&r->q, g, &r->werr);
        if (code == 0)
                code = pm__dylibs_cache(srv->cfg, g, &r->werr);
        if (code < 0)
                goto out;
        r->wparse_ms = pm_clock_ms() - t0 - r->wread_ms;
        /* Unless another writer got in since the loop last looked, the crate count and watch set
         * follow from the change alone: no need to read them back. */
        own_model = pm_index_generation(srv->widx, &gen_before, NULL) == 0 &&
                    gen_before == r->known_generation;
        code = pm_index_apply(srv->widx, p->id, g, &r->wchange, &r->werr);
        if (code < 0)
                goto out;
        r->wpartial = g->partial;
        keep_fingerprints(r, &g);
        r->wown_ms = pm_clock_ms() - t0;
        r->wapply_ms = r->wown_ms - r->wread_ms - r->wparse_ms;
        if (r->sysroot)
                (void)pm_index_meta_set(srv->widx, PM_META_SYSROOT, r->sysroot, NULL);
        if (r->sysroot_src)
                (void)pm_index_meta_set(srv->widx, PM_META_SYSROOT_SRC, r->sysroot_src, NULL);
        (void)pm_index_meta_set(srv->widx, PM_META_LAST_ERROR, "", NULL);
        {
                /* What a snapshot's age is compared with (pm_index_seed()). */
                char now[32];

                (void)snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
                (void)pm_index_meta_set(srv->widx, PM_META_LAST_REFRESH, now, NULL);
        }
        if (own_model)
                r->wcrates = r->known_crates + r->wchange.added - r->wchange.removed;
        else if (pm_index_count(srv->widx, &r->wcrates, NULL) < 0)
                r->wcrates = 0;
        /* The new watch set, sorted here so the loop only swaps pointers. */
        if (own_model && r->wchange.build_files_changed == 0)
                goto out;
        if (pm_index_build_files(srv->widx, NULL, &files, NULL) == 0) {
                r->wwatch.n = pm_labels_count(files);
                qsort(files, r->wwatch.n, sizeof(*files), cmp_str);
                r->wwatch.v = pm_steal_ptr(&files);
                r->have_wwatch = true;
        }
out:
        if (code < 0 && srv->widx) {
                char line[PM_ERROR_MSG_MAX];

                (void)snprintf(line, sizeof(line), "%s", r->werr.msg);
                (void)pm_index_meta_set(srv->widx, PM_META_LAST_ERROR, line, NULL);
        }
        pm_graph_free(g);
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++)
                pm_free(programs[i]);
        r->wcode = code;
}

static void
after_work_cb(uv_work_t *w, int status)
{
        struct pm__refresh *r = w->data;
        struct pm_server *srv = r->srv;

        if (r->wstale) {
                pm__log("the model was changed by another writer: parsing everything");
                for (size_t i = 0; srv->fingerprints && i < srv->cfg->n_projects; i++)
                        forget_fingerprints(srv, i);
                r->wstale = false;
        }
        if (r->wcode < 0) {
                project_failed(r, &r->werr, NULL);
        } else {
                if (!srv->fingerprints)
                        srv->fingerprints =
                                pm_calloc(srv->cfg->n_projects, sizeof(struct pm_graph *));
                if (srv->fingerprints) {
                        pm_graph_free(srv->fingerprints[r->project]);
                        srv->fingerprints[r->project] = pm_steal_ptr(&r->wfp);
                        srv->fingerprints_generation = r->wchange.generation;
                }
                r->all_partial = r->all_partial && r->wpartial;
                r->applied = true;
                r->own_ms += r->wown_ms;
                r->read_ms += r->wread_ms;
                r->parse_ms += r->wparse_ms;
                r->apply_ms += r->wapply_ms;
                if (pm__change_merge(&r->change, &r->wchange) < 0)
                        pm__log("out of memory collecting changes, ignoring");
                srv->generation = r->wchange.generation ? r->wchange.generation : srv->generation;
                srv->n_crates = r->wcrates;
                if (r->have_wwatch) {
                        pm__strset_release(&srv->watch_set);
                        srv->watch_set = r->wwatch;
                        memset(&r->wwatch, 0, sizeof(r->wwatch));
                        r->have_wwatch = false;
                }
        }
        pm_change_release(&r->wchange);
        pm__strset_release(&r->wwatch);
        r->wfp = pm_graph_free(r->wfp);
        release_project(r);
        /* Parsing a large tool output leaves tens of MB free in the worker's malloc arena:
         * give it back, the daemon lives long and mostly idles. */
        (void)malloc_trim(0);
        r->project++;
        next_project(r);
}

/* ---- steps on the loop ---- */

static void run_step(struct pm__refresh *r);

static void
on_step_done(void *data, int code, struct pm_tool_result *res, const struct pm_error *err)
{
        struct pm__refresh *r = data;
        struct pm_tool_result *mine = &r->results[r->step];
        const struct pm_step *s = &r->plan.steps[r->step];

        r->spawn = NULL;
        r->tool_ms += pm_clock_ms() - r->step_start_ms;
        r->step_ok[r->step] = code == 0;
        r->step_error[r->step] = pm__step_error(s, code, res, err);
        /* Take the captured output; the runner releases what is left in @res. */
        mine->exit_status = res->exit_status;
        mine->term_signal = res->term_signal;
        mine->timed_out = res->timed_out;
        mine->out = res->out;
        mine->err = res->err;
        pm_strbuf_init(&res->out);
        pm_strbuf_init(&res->err);
        if (r->srv->stopping) {
                release_project(r);
                r->project = r->srv->cfg->n_projects;
                next_project(r);
                return;
        }
        if (code < 0 && !s->optional) {
                project_failed(r, err, mine);
                release_project(r);
                r->project++;
                next_project(r);
                return;
        }
        if (code < 0) {
                /* An optional step that failed contributes empty output. */
                pm_strbuf_reset(&mine->out);
                mine->exit_status = 1;
        }
        r->step++;
        run_step(r);
}

static void
run_step(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        struct pm_error err;
        int code;

        pm_error_init(&err);
        while (r->step < r->plan.n_steps) {
                const struct pm_step *s = &r->plan.steps[r->step];

                r->step_start_ms = pm_clock_ms();
                code = pm__spawn_start(&srv->loop, s, srv->cfg->tool_timeout_ms,
                                       srv->cfg->max_tool_output, PM__SPAWN_OWN_GROUP, on_step_done,
                                       r, &r->spawn, &err);
                if (code == 0)
                        return;
                if (!s->optional) {
                        project_failed(r, &err, NULL);
                        release_project(r);
                        r->project++;
                        next_project(r);
                        return;
                }
                r->results[r->step].exit_status = 1;
                r->step_error[r->step] = pm__step_error(s, code, NULL, &err);
                r->step++;
        }
        r->work.data = r;
        r->known_generation = srv->generation;
        r->known_crates = srv->n_crates;
        code = uv_queue_work(&srv->loop, &r->work, work_cb, after_work_cb);
        if (code < 0) {
                pm_error_set(&err, code, "cannot queue the model update: %s", uv_strerror(code));
                project_failed(r, &err, NULL);
                release_project(r);
                r->project++;
                next_project(r);
        }
}

static void
finish(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        cJSON *params, *arr;
        char msg[64];

        srv->running = NULL;
        srv->refreshes++;
        srv->first_done = true;
        srv->last_refresh_time = (double)time(NULL);
        srv->last_refresh_ms = (double)(uint64_t)(pm_clock_ms() - r->start_ms);
        srv->last_own_ms = r->own_ms;
        srv->last_tool_ms = r->tool_ms;
        srv->last_read_ms = r->read_ms;
        srv->last_parse_ms = r->parse_ms;
        srv->last_apply_ms = r->apply_ms;
        srv->last_notify_ms = 0;
        srv->last_partial = r->applied && r->all_partial;
        srv->last_ok = !r->failed;
        if (srv->generation > 0 && srv->n_crates > 0)
                srv->have_model = true;
        pm_free(srv->last_error);
        pm_free(srv->last_error_output);
        srv->last_error = NULL;
        srv->last_error_output = NULL;
        if (r->failed) {
                char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 8];

                srv->last_error = pm_strdup(pm_error_format(&r->first_err, line, sizeof(line)));
                srv->last_error_output = pm_steal_ptr(&r->err_output);
        }
        if (!srv->stopping) {
                double notify_start = pm_clock_ms();

                (void)snprintf(msg, sizeof(msg), "generation %llu, %zu crates",
                               (unsigned long long)srv->generation, srv->n_crates);
                progress(srv, "end", r->failed ? "failed" : msg);
                if (r->change.n_labels || r->change.n_build_files) {
                        bool ok;

                        params = cJSON_CreateObject();
                        ok = params &&
                             cJSON_AddNumberToObject(params, "generation", (double)srv->generation);
                        /* cJSON_CreateStringArray() gives NULL for no strings: say []. */
                        arr = !ok                  ? NULL
                              : r->change.n_labels ? cJSON_CreateStringArray(
                                                             (const char *const *)r->change.labels,
                                                             (int)r->change.n_labels)
                                                   : cJSON_CreateArray();
                        ok = arr && cJSON_AddItemToObject(params, "labels", arr);
                        if (!ok)
                                cJSON_Delete(arr);
                        arr = !ok ? NULL
                              : r->change.n_build_files
                                      ? cJSON_CreateStringArray(
                                                (const char *const *)r->change.build_files,
                                                (int)r->change.n_build_files)
                                      : cJSON_CreateArray();
                        ok = arr && cJSON_AddItemToObject(params, "buildFiles", arr);
                        if (!ok)
                                cJSON_Delete(arr);
                        ok = ok &&
                             cJSON_AddNumberToObject(params, "added", (double)r->change.added) &&
                             cJSON_AddNumberToObject(params, "removed",
                                                     (double)r->change.removed) &&
                             cJSON_AddNumberToObject(params, "modified",
                                                     (double)r->change.modified);
                        if (!ok)
                                params = (cJSON_Delete(params), NULL);
                        /* Out of memory: NULL closes the subscribers (pm__client_send), which
                         * then reconnect and resync, rather than missing a change. */
                        pm__server_broadcast(
                                srv, true,
                                params ? pm__rpc_notification("projmodel/modelChanged", params)
                                       : NULL);
                }
                if (r->failed) {
                        params = cJSON_CreateObject();
                        if (params) {
                                cJSON_AddNumberToObject(params, "generation",
                                                        (double)srv->generation);
                                cJSON_AddStringToObject(params, "error",
                                                        srv->last_error ? srv->last_error : "");
                                if (srv->last_error_output)
                                        cJSON_AddStringToObject(params, "output",
                                                                srv->last_error_output);
                                pm__server_broadcast(
                                        srv, true,
                                        pm__rpc_notification("projmodel/refreshFailed", params));
                        }
                }
                srv->last_notify_ms = pm_clock_ms() - notify_start;
                pm__log("refresh %llu done in %.0f ms (own %.1f ms): generation %llu, %zu crates, "
                        "%zu changed%s",
                        (unsigned long long)srv->refreshes, srv->last_refresh_ms, r->own_ms,
                        (unsigned long long)srv->generation, srv->n_crates, r->change.n_labels,
                        r->failed ? ", failed" : "");
        }
        pm_change_release(&r->change);
        for (size_t i = 0; i < r->n_scope; i++)
                pm_free(r->scope[i]);
        pm_free(r->scope);
        pm_free(r->todo);
        pm_free(r->sysroot);
        pm_free(r->sysroot_src);
        pm_free(r->err_output);
        pm_free(r);
        if (srv->stopping)
                return;
        pm__server_resume_list(srv, &srv->parked_model);
        /* Requests waiting for fresh answers wait until no known change is left unapplied. */
        if (!srv->dirty)
                pm__server_resume_list(srv, &srv->parked_fresh);
        if (srv->dirty)
                (void)uv_timer_start(&srv->debounce, on_debounce, srv->cfg->debounce_ms, 0);
}

static void
next_project(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        const struct pm_project *p;
        struct pm_error err;
        char msg[256];
        int code;

        pm_error_init(&err);
        while (r->project < srv->cfg->n_projects && (!r->todo[r->project] || srv->stopping))
                r->project++;
        if (r->project >= srv->cfg->n_projects) {
                finish(r);
                return;
        }
        p = &srv->cfg->projects[r->project];
        r->ops = p->build_system ? pm_adapter_find(p->build_system) : NULL;
        if (!r->ops) {
                pm_error_set(&err, PM_ECONFIG, "no build system for project '%s'", p->id);
                goto failed;
        }
        /* Narrow to the changed build files under this project, when all changes were build
         * files; the adapter decides whether it can use that. */
        if (r->scope) {
                r->qscope = pm_calloc(r->n_scope + 1, sizeof(*r->qscope));
                if (!r->qscope) {
                        pm_error_set(&err, -ENOMEM, "out of memory");
                        goto failed;
                }
                for (size_t i = 0; i < r->n_scope; i++) {
                        if (pm_config_project_for_path(srv->cfg, r->scope[i]) == p)
                                r->qscope[r->n_qscope++] = r->scope[i];
                }
        }
        memset(&r->q, 0, sizeof(r->q));
        r->q.config = srv->cfg;
        r->q.project = p;
        r->q.scope = r->n_qscope ? r->qscope : NULL;
        r->q.n_scope = r->n_qscope;
        memset(&r->plan, 0, sizeof(r->plan));
        code = r->ops->plan(&r->q, &r->plan, &err);
        if (code < 0)
                goto failed;
        (void)snprintf(msg, sizeof(msg), "querying %s for '%s'", r->ops->name, p->rel);
        progress(srv, "report", msg);
        r->step = 0;
        run_step(r);
        return;
failed:
        project_failed(r, &err, NULL);
        release_project(r);
        r->project++;
        next_project(r);
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
        pm__refresh_release(srv); /* the fingerprints are per old project */
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
                (void)uv_timer_start(&srv->debounce, on_debounce, 1000, 0);
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
        progress(srv, "begin", "refreshing the model");
        next_project(r);
}

/* ---- the sysroot, once at startup ---- */

static void
on_sysroot(void *data, int code, struct pm_tool_result *res, const struct pm_error *err)
{
        struct pm_server *srv = data;
        char *s, *raw;
        size_t n;

        if (code < 0 || !res->out.buf) {
                pm__log("cannot resolve the sysroot, writing projects without it: %s", err->msg);
                goto out;
        }
        n = res->out.len;
        while (n && (res->out.buf[n - 1] == '\n' || res->out.buf[n - 1] == '\r'))
                n--;
        raw = pm_strndup(res->out.buf, n);
        s = raw ? pm_path_normalize(NULL, NULL, raw) : NULL;
        pm_free(raw);
        if (s && pm_path_is_absolute(s)) {
                pm_free(srv->sysroot);
                pm_free(srv->sysroot_src);
                srv->sysroot = s;
                srv->sysroot_src = pm_path_join(NULL, s, "lib/rustlib/src/rust/library");
        } else {
                pm_free(s);
        }
out:
        srv->sysroot_done = true;
        if (!srv->stopping)
                pm__server_resume_list(srv, &srv->parked_model);
}

int
pm__sysroot_start(struct pm_server *srv, struct pm_error *err)
{
        struct pm_step step;
        char *argv[4];
        int r;

        if (srv->cfg->sysroot) {
                pm_free(srv->sysroot);
                pm_free(srv->sysroot_src);
                srv->sysroot = pm_strdup(srv->cfg->sysroot);
                srv->sysroot_src = srv->cfg->sysroot_src
                                           ? pm_strdup(srv->cfg->sysroot_src)
                                           : pm_path_join(NULL, srv->cfg->sysroot,
                                                          "lib/rustlib/src/rust/library");
                srv->sysroot_done = true;
                return 0;
        }
        argv[0] = srv->cfg->rustc ? srv->cfg->rustc : (char *)"rustc";
        argv[1] = (char *)"--print";
        argv[2] = (char *)"sysroot";
        argv[3] = NULL;
        memset(&step, 0, sizeof(step));
        step.argv = argv;
        step.cwd = srv->cfg->root;
        r = pm__spawn_start(&srv->loop, &step, 60000, 1 << 20, PM__SPAWN_OWN_GROUP, on_sysroot, srv,
                            NULL, err);
        if (r < 0)
                srv->sysroot_done = true;
        return r;
}
