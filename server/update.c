/* SPDX-License-Identifier: MIT */
/* The daemon refresh's run over the dirty projects on the loop: plan each project, run its steps
 * through the plan sequencer (plan.c), hand them to the worker (update-worker.c), take its result,
 * publish the run. Never two runs at once: changes during a run make exactly one more run
 * (update-schedule.c). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/tool.h"

#include "cache-collect.h"
#include "server-internal.h"
#include "update-internal.h"

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
        /* What the parse did not take: a skipped or failed one, or no parse at all. */
        if (r->memo.data && r->memo.free)
                r->memo.free(r->memo.data);
        memset(&r->memo, 0, sizeof(r->memo));
}

void
pm__refresh_release(struct pm_server *srv)
{
        pm_strbuf_release(&srv->output_spare);
        pm_free(srv->scope_complete);
        srv->scope_complete = NULL;
}

/*
 * After a failed run of project @i the model may lack changes the next run's scope no longer
 * names: that run must parse everything.
 */
static void
scope_incomplete(struct pm_server *srv, size_t i)
{
        if (srv->scope_complete)
                srv->scope_complete[i] = false;
}

/* Record a project's failure (the first one wins) with the tool's output. */
static void
project_failed(struct pm__refresh *r, const struct pm_error *err, const struct pm_tool_result *res)
{
        const struct pm_project *p = &r->srv->cfg->projects[r->project];

        scope_incomplete(r->srv, r->project);
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

static void
after_work_cb(uv_work_t *w, int status)
{
        struct pm__refresh *r = w->data;
        struct pm_server *srv = r->srv;

        pm__progress_drain(srv); /* the worker's last lines, before what its result releases */
        if (r->wstale) {
                pm__log("the model was changed by another writer: parsing everything");
                for (size_t i = 0; srv->scope_complete && i < srv->cfg->n_projects; i++)
                        scope_incomplete(srv, i);
                r->wstale = false;
        }
        if (r->wcode < 0) {
                project_failed(r, &r->werr, NULL);
        } else if (r->wrebuild) {
                /* The model's own write: the scope stays as complete as it was. */
                if (r->wchange.generation)
                        srv->scope_generation = r->wchange.generation;
        } else {
                if (!srv->scope_complete)
                        srv->scope_complete = pm_calloc(srv->cfg->n_projects, sizeof(bool));
                if (srv->scope_complete) {
                        srv->scope_complete[r->project] = true;
                        srv->scope_generation = r->wchange.generation;
                }
        }
        if (r->wcode >= 0) {
                r->all_partial = r->all_partial && r->wpartial;
                r->applied = true;
                /* The project's warnings are replaced by its parse's; a failed run keeps those of
                 * the model it keeps serving, and so does a skipped parse (docs/protocol.md,
                 * status). A proc-macro rebuild only adds the notes of what it could not build
                 * (pm__rebuild.warnings). */
                if (!r->wskipped && (!r->wrebuild || r->wwarnings.partial))
                        pm__warnings_store(srv, r->project, &r->wwarnings);
                r->own_ms += r->wown_ms;
                r->read_ms += r->wread_ms;
                r->parse_ms += r->wparse_ms;
                r->build_ms += r->wbuild_ms;
                r->apply_ms += r->wapply_ms;
                if (pm__change_merge(&r->change, &r->wchange) < 0)
                        pm__log("out of memory collecting changes, ignoring");
                srv->generation = r->wchange.generation ? r->wchange.generation : srv->generation;
                srv->n_crates = r->wcrates;
                if (r->wproc_macro_dirs) {
                        pm_labels_free(srv->proc_macro_dirs);
                        srv->proc_macro_dirs = pm_steal_ptr(&r->wproc_macro_dirs);
                }
                if (r->have_wwatch) {
                        pm__strset_release(&srv->watch_set);
                        srv->watch_set = r->wwatch;
                        memset(&r->wwatch, 0, sizeof(r->wwatch));
                        r->have_wwatch = false;
                        pm__watch_dirs_changed(srv, &r->wdirs);
                }
        }
        /* Proc macros the rebuild could not serve: their build files are queried next run. */
        for (char **f = r->wfallback; f && *f; f++)
                pm__refresh_request(srv, pm_config_project_for_path(srv->cfg, *f), *f, false);
        r->wfallback = pm_labels_free(r->wfallback);
        pm_change_release(&r->wchange);
        pm__strset_release(&r->wwatch);
        pm__strset_release(&r->wdirs);
        r->wproc_macro_dirs = pm_labels_free(r->wproc_macro_dirs);
        pm__warnings_release(&r->wwarnings);
        release_project(r);
        /* Parsing a large tool output leaves tens of MB free in the worker's malloc arena:
         * give it back, the daemon lives long and mostly idles. */
        (void)malloc_trim(0);
        r->project++;
        pm__update_next_project(r);
}

/* ---- the project's plan on the loop ---- */

/* Hand the project to the worker (update-worker.c). */
static void
queue_work(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        struct pm_error err;
        int code;

        pm_error_init(&err);
        r->work.data = r;
        r->known_generation = srv->generation;
        r->known_crates = srv->n_crates;
        code = uv_queue_work(&srv->loop, &r->work, pm__update_work, after_work_cb);
        if (code < 0) {
                pm_error_set(&err, code, "cannot queue the model update: %s", uv_strerror(code));
                project_failed(r, &err, NULL);
                release_project(r);
                r->project++;
                pm__update_next_project(r);
        }
}

/* The project's plan ended (on_plan_done()) and no announcement is being counted any more: hand
 * its outputs to the worker, or record why not. */
static void
plan_ended(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;

        r->plan_ended = false;
        if (srv->stopping) {
                release_project(r);
                r->project = srv->cfg->n_projects;
                pm__update_next_project(r);
                return;
        }
        if (r->plan_code < 0) {
                project_failed(r, &r->plan_err, &r->results[r->plan_failed]);
                release_project(r);
                r->project++;
                pm__update_next_project(r);
                return;
        }
        queue_work(r);
}

static void
on_plan_done(void *data, struct pm__plan_result *res)
{
        struct pm__refresh *r = data;

        r->plan_run = NULL;
        r->tool_ms += res->tool_ms;
        /* Take the steps' outputs and errors for the worker; the sequencer releases the rest. */
        for (size_t i = 0; i < r->plan.n_steps; i++) {
                r->results[i] = res->results[i];
                memset(&res->results[i], 0, sizeof(res->results[i]));
                r->step_ok[i] = res->ok[i];
                r->step_error[i] = pm_steal_ptr(&res->errors[i]);
        }
        r->plan_code = res->code;
        r->plan_err = res->err;
        r->plan_failed = res->failed;
        /* A count still reads the outputs (and fills r->memo): the worker, or their release,
         * waits for it (count_done()). */
        r->plan_ended = true;
        if (r->n_counting == 0)
                plan_ended(r);
}

static void
finish(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;

        srv->running = NULL;
        srv->refreshes++;
        srv->first_done = true;
        srv->last_refresh_time = (double)time(NULL);
        srv->last_refresh_ms = (double)(uint64_t)(pm_clock_ms() - r->start_ms);
        srv->last_own_ms = r->own_ms;
        srv->last_tool_ms = r->tool_ms;
        srv->last_read_ms = r->read_ms;
        srv->last_parse_ms = r->parse_ms;
        srv->last_build_ms = r->build_ms;
        srv->last_apply_ms = r->apply_ms;
        srv->last_notify_ms = 0;
        srv->last_partial = r->applied && r->all_partial;
        srv->last_queried = r->n_queried;
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

                pm__update_notify_done(r);
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
        pm_free(r->rebuild);
        for (size_t i = 0; i < r->n_rebuild_paths; i++)
                pm_free(r->rebuild_paths[i]);
        pm_free(r->rebuild_paths);
        pm_free(r->sysroot);
        pm_free(r->sysroot_src);
        pm_free(r->err_output);
        pm_free(r);
        if (srv->stopping)
                return;
        pm__server_resume_list(srv, &srv->parked_model);
        pm__cache_collect_after(srv);
        /* Requests waiting for fresh answers wait until no known change is left unapplied. */
        if (!srv->dirty)
                pm__server_resume_list(srv, &srv->parked_fresh);
        if (srv->dirty)
                (void)uv_timer_start(&srv->debounce, pm__update_debounce_cb, srv->cfg->debounce_ms,
                                     0);
}

/*
 * One announcement of a step that builds inside the query (Cargo's `cargo check`), counted on the
 * thread pool: counting parses the output of the steps before it (the whole `cargo metadata`
 * JSON), which the loop must not (docs/architecture.md). The step itself starts meanwhile.
 */
struct count_job {
        uv_work_t work;
        struct pm__refresh *r;
        size_t step;                             /* the step announced */
        struct pm_blob blobs[PM_PLAN_MAX_STEPS]; /* [0, step): borrowed from the plan's outputs */
        char *line;                              /* the announcement, or NULL */
};

/* On the thread pool: the line, the parsed output kept in r->memo for the worker's parse
 * (include/projmodel/adapter.h), so the output is parsed once. A line that cannot be counted
 * is none. */
static void
count_work(uv_work_t *w)
{
        struct count_job *job = w->data;
        struct pm_error lerr;

        pm_error_init(&lerr);
        if (pm__query_builds_line(&job->r->q, job->step, job->blobs, &job->line, &lerr) < 0)
                job->line = NULL;
}

/*
 * On the loop: send the line worded as the one-shot query words it (server/query.c,
 * server/plan.c: " (in <subproject>)"), as the worker announces the other adapters' builds
 * ("building 2 proc macros and 1 OUT_DIR with cargo", docs/cli.md, Progress); then a plan that
 * ended meanwhile goes on (plan_ended()). Its line always precedes the worker's.
 */
static void
count_done(uv_work_t *w, int status)
{
        struct count_job *job = w->data;
        struct pm__refresh *r = job->r;
        const char *where = r->q.project->rel;
        char msg[320];

        (void)status;
        if (job->line && !r->srv->stopping) {
                if (where && strcmp(where, ".") != 0)
                        (void)snprintf(msg, sizeof(msg), "%s (in %s)", job->line, where);
                else
                        (void)snprintf(msg, sizeof(msg), "%s", job->line);
                pm__update_progress(r->srv, "report", msg);
        }
        pm_free(job->line);
        pm_free(job);
        if (--r->n_counting == 0 && r->plan_ended)
                plan_ended(r);
}

/*
 * The plan's next-step callback: the step that follows @step is counted for its announcement
 * on the thread pool (count_job) when it builds (pm_step.builds); no job for the others, which
 * query_builds() would not count. Never fails the plan: a progress line is not worth a refresh
 * (update-progress.c).
 */
static int
announce_next(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct pm__refresh *r = data;
        struct count_job *job;

        (void)err;
        if (step + 1 >= r->plan.n_steps || r->srv->stopping || !r->ops->query_builds ||
            !r->plan.steps[step + 1].builds)
                return 0;
        job = pm_calloc(1, sizeof(*job));
        if (!job)
                return 0;
        job->r = r;
        job->step = step + 1;
        job->work.data = job;
        pm__query_builds_blobs(res, job->step, job->blobs);
        if (uv_queue_work(&r->srv->loop, &job->work, count_work, count_done) < 0) {
                pm_free(job);
                return 0;
        }
        r->n_counting++;
        return 0;
}

void
pm__update_next_project(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        struct pm__plan_opts opts = { .timeout_ms = srv->cfg->tool_timeout_ms,
                                      .max_output = srv->cfg->max_tool_output,
                                      .spawn_flags = PM__SPAWN_OWN_GROUP,
                                      .next = announce_next,
                                      .next_data = r };
        const struct pm_project *p;
        struct pm_error err;
        char msg[256];
        int code;

        pm_error_init(&err);
        while (r->project < srv->cfg->n_projects &&
               (!(r->todo[r->project] || r->rebuild[r->project]) || srv->stopping))
                r->project++;
        if (r->project >= srv->cfg->n_projects) {
                finish(r);
                return;
        }
        p = &srv->cfg->projects[r->project];
        /* Only proc-macro sources changed: no query, the worker rebuilds them. */
        if (!r->todo[r->project]) {
                memset(&r->plan, 0, sizeof(r->plan));
                queue_work(r);
                return;
        }
        r->ops = p->build_system ? pm_adapter_find(p->build_system) : NULL;
        if (!r->ops) {
                pm_error_set(&err, PM_ECONFIG, "no build system for project '%s'", p->id);
                goto failed;
        }
        /* Narrow to the changed build files under this project, when all changes were build
         * files; the adapter decides whether it can use that. Not while the project has a
         * warning about no build file in particular: a partial graph replaces only the warnings
         * of the build files it re-read (update-warnings.c), so that one would stay forever. */
        if (r->scope && pm__warnings_global(srv, r->project)) {
                pm__log("project '%s' has a warning about no build file: querying all of it",
                        p->id);
        } else if (r->scope) {
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
        r->q.memo = &r->memo;
        memset(&r->plan, 0, sizeof(r->plan));
        code = r->ops->plan(&r->q, &r->plan, &err);
        if (code < 0)
                goto failed;
        (void)snprintf(msg, sizeof(msg), "querying %s for '%s'", r->ops->name, p->rel);
        pm__update_progress(srv, "report", msg);
        /* The steps through the one sequencer (plan.c), the tools in their own process groups
         * so that a cancel stops what they started too. */
        code = pm__plan_start(&srv->loop, &r->plan, &opts, on_plan_done, r, &r->plan_run, &err);
        if (code < 0)
                goto failed;
        r->n_queried++;
        return;
failed:
        project_failed(r, &err, NULL);
        release_project(r);
        r->project++;
        pm__update_next_project(r);
}
