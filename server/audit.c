/* SPDX-License-Identifier: MIT */
/* The daemon's projmodel/audit (docs/protocol.md): the unsafe-code inventory of the whole model,
 * one crate or a crate's closure, as `projmodel audit --format text|json|sarif` prints it (one
 * renderer, audit/render.c). The scan
 * runs on libuv's thread pool with the audit worker's own model handle, one audit at a time (the
 * others wait in arrival order), so a cold audit of a large tree never stalls the loop. Scans
 * are kept per file in the model, so an answer re-reads only the files whose size or mtime
 * changed. */
#include "projmodel/audit.h"

#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

/* How long one audit holds the model's write lock before it commits what it has stored and
 * takes it again: a refresh's apply waits at most that long for it (docs/model.md). */
#define AUDIT_COMMIT_MS 100.0

/*
 * What the audits keep between requests (pm_server.audit_state): the scans of every file read
 * (a pm_audit kept across runs, pm_audit_begin_run()), the graph they were made for with its
 * model generation, and each crate's inventory by graph index (NULL until an audit covered
 * it). Touched only by audit work and by the loop while none runs.
 */
struct pm__audit_state {
        struct pm_audit *a;
        struct pm_graph *g;
        uint64_t generation;
        const struct pm_audit_crate **inv;
        /* The last answer as sent (cJSON_PrintUnformatted(), written to every client that asks
         * without a copy: each write holds a reference until it ends) and what it was asked
         * with ("<format> <closure> <label>"), valid while nothing changed; NULL when none. */
        char *answer_key;
        struct pm__shared_text *answer;
};

/*
 * One projmodel/audit request. Invariant: the loop owns it while it waits on srv->audit_queue and
 * after its work ended; in between the worker fills the result fields and reads only @root,
 * @label, @closure, @format, @changed, @fresh, @distrust and @cancel (the configuration may be
 * re-read meanwhile: @root is a copy).
 */
struct pm__audit_job {
        uv_work_t work;
        struct pm_server *srv;
        struct pm__rpc_call *call;  /* owned; call->owner is NULL once nobody waits for the reply */
        struct pm__audit_job *next; /* srv->audit_queue */
        char *root;                 /* owned */
        char *label;                /* owned, or NULL: every crate */
        bool closure;
        enum pm_audit_format format;
        atomic_bool cancel; /* the reply was sent already (cancelled, stopping): stop early */
        /* Taken from the server when the job starts (see pm_server.audit_state), owned. */
        char **changed, **fresh;
        size_t n_changed, n_fresh;
        bool distrust;

        /* Filled by the worker. */
        int code;
        struct pm_error err;
        struct pm__shared_text *answer; /* a reference to the answer (st->answer's) */
        char **unwatched;               /* owned: directories of scanned files nobody watches yet */
        size_t n_unwatched;
        size_t n_files, n_checked, n_read, n_trusted;
        double ms;
};

static int
cancelled(struct pm_error *err)
{
        return pm_error_set(err, PM_ECANCELLED, "request cancelled");
}

void
pm__audit_state_free(struct pm__audit_state *st)
{
        if (!st)
                return;
        pm_audit_free(st->a);
        pm_free(st->answer_key);
        pm__shared_text_unref(st->answer);
        pm_free(st->inv);
        pm_graph_free(st->g);
        pm_free(st);
}

static void
forget_answer(struct pm__audit_state *st)
{
        pm_free(st->answer_key);
        st->answer_key = NULL;
        st->answer = pm__shared_text_unref(st->answer);
}

/* The model's crates as of now in @st (loaded again only when its generation moved). */
static int
state_graph(struct pm_index *idx, struct pm__audit_state *st, struct pm_error *err)
{
        uint64_t gen = 0;
        int r;

        r = pm_index_generation(idx, &gen, err);
        if (r < 0)
                return r;
        if (st->g && gen == st->generation)
                return 0;
        forget_answer(st);
        pm_audit_drop_crates(st->a);
        pm_free(st->inv);
        st->inv = NULL;
        pm_graph_free(st->g);
        st->g = NULL;
        r = pm_index_load(idx, NULL, 0, &st->g, err);
        if (r < 0)
                return r;
        pm_graph_sort(st->g);
        st->inv = pm_calloc(st->g->n_crates ? st->g->n_crates : 1, sizeof(*st->inv));
        if (!st->inv)
                return pm_error_set(err, -ENOMEM, "out of memory");
        st->generation = gen;
        return 0;
}

/* Print @doc (consumed) as @st's kept answer for @key (taken), a reference in *@ret. */
static int
keep_answer(struct pm__audit_state *st, cJSON *doc, char **key, struct pm__shared_text **ret,
            struct pm_error *err)
{
        char *text = cJSON_PrintUnformatted(doc);

        cJSON_Delete(doc);
        forget_answer(st);
        if (!text || !(st->answer = pm__shared_text_new(text, strlen(text), cJSON_free)))
                return pm_error_set(err, -ENOMEM, "out of memory");
        st->answer_key = pm_steal_ptr(key);
        *ret = pm__shared_text_ref(st->answer);
        return 0;
}

/* The inventory @job asks for, from the model behind @idx and what @st kept, into @job->answer
 * (worker). */
static int
audit_compute(struct pm_index *idx, struct pm__audit_state *st, struct pm__audit_job *job,
              struct pm_error *err)
{
        const struct pm_audit_crate **crates = NULL;
        struct pm_audit_store store;
        struct pm_graph *g;
        bool *on = NULL, began = false, changed = false;
        char *key = NULL;
        cJSON *doc = NULL;
        size_t n = 0;
        double t0;
        int r;

        if (!st->a) {
                r = pm_audit_new(&st->a, err);
                if (r < 0)
                        goto out;
                pm_index_audit_store(idx, &store);
                pm_audit_set_store(st->a, &store);
        }
        r = state_graph(idx, st, err);
        if (r < 0)
                goto out;
        g = st->g;
        r = pm_index_audit_begin(idx, err);
        if (r < 0)
                goto out;
        began = true;
        /* Only the files no watch vouches for are looked at (audit/inventory.c). */
        r = pm_audit_begin_run(st->a, (const char *const *)job->changed, job->n_changed,
                               (const char *const *)job->fresh, job->n_fresh, job->distrust,
                               &changed, err);
        if (r < 0 || changed) {
                /* The counts of every crate holding a changed file are off: count again (from
                 * the scans in memory). */
                forget_answer(st);
                pm_audit_drop_crates(st->a);
                memset(st->inv, 0, g->n_crates * sizeof(*st->inv));
        }
        if (r < 0)
                goto out;
        key = pm_asprintf("%d %d %s", (int)job->format, job->closure ? 1 : 0,
                          job->label ? job->label : "");
        if (!key) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (st->answer && strcmp(st->answer_key, key) == 0) {
                /* Nothing changed since the same question: the same bytes, neither rendered nor
                 * copied again (a whole-tree answer is megabytes of JSON). */
                began = false;
                r = pm_index_audit_end(idx, true, err);
                if (r == 0)
                        job->answer = pm__shared_text_ref(st->answer);
                if (r == 0)
                        r = pm_audit_unwatched_dirs(st->a, &job->unwatched, &job->n_unwatched, err);
                goto out;
        }
        on = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*on));
        crates = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*crates));
        if (!on || !crates) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < g->n_crates; i++)
                on[i] = job->label == NULL;
        if (job->label) {
                r = pm_index_mark_audit(idx, g, job->label, job->closure, on, err);
                if (r < 0)
                        goto out;
        }
        t0 = pm_clock_ms();
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                if (!on[i])
                        continue;
                if (atomic_load(&job->cancel)) {
                        r = cancelled(err);
                        break;
                }
                if (!st->inv[i])
                        r = pm_audit_add_crate(st->a, &g->crates[i], &st->inv[i], err);
                crates[n++] = st->inv[i];
                if (r == 0 && pm_clock_ms() - t0 > AUDIT_COMMIT_MS) {
                        began = false;
                        r = pm_index_audit_end(idx, true, err);
                        if (r == 0)
                                r = pm_index_audit_begin(idx, err);
                        began = r == 0;
                        t0 = pm_clock_ms();
                }
        }
        if (r < 0)
                goto out;
        began = false;
        r = pm_index_audit_end(idx, true, err);
        if (r < 0)
                goto out;
        if (job->format == PM_AUDIT_FORMAT_TEXT) {
                struct pm_strbuf text = PM_STRBUF_INIT;

                if (pm_audit_text(&text, job->root, crates, n) == 0)
                        doc = cJSON_CreateString(text.buf ? text.buf : "");
                pm_strbuf_release(&text);
        } else if (job->format == PM_AUDIT_FORMAT_SARIF) {
                doc = pm_audit_sarif(job->root, crates, n);
        } else {
                doc = pm_audit_json(job->root, crates, n);
        }
        if (!doc) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        /* Printed once, then sent as printed to this client and the next that ask. */
        r = keep_answer(st, pm_steal_ptr(&doc), &key, &job->answer, err);
        if (r == 0)
                r = pm_audit_unwatched_dirs(st->a, &job->unwatched, &job->n_unwatched, err);
out:
        if (began) {
                struct pm_error ignored;

                (void)pm_index_audit_end(idx, false, &ignored);
        }
        if (st->a) {
                job->n_files = pm_audit_files_scanned(st->a);
                job->n_checked = pm_audit_files_checked(st->a);
                job->n_read = pm_audit_files_read(st->a);
                job->n_trusted = pm_audit_dirs_trusted(st->a);
        }
        pm_free(key);
        pm_free(crates);
        pm_free(on);
        return r;
}

/* The thread-pool side: the audit worker's own model handle, kept between audits (SQLite
 * handles are never shared between threads; audits never overlap, so one handle serves all). */
static void
audit_work(uv_work_t *w)
{
        struct pm__audit_job *job = w->data;
        struct pm_server *srv = job->srv;

        double t0 = pm_clock_ms();

        pm_error_init(&job->err);
        job->code = 0;
        if (!srv->aidx)
                job->code = pm_index_open(srv->db_path, &srv->aidx, &job->err);
        /* srv->audit_state was made on the loop by start_next(): the loop reads it (status,
         * the watch) while this runs, so the worker never assigns it. */
        if (job->code == 0)
                job->code = audit_compute(srv->aidx, srv->audit_state, job, &job->err);
        job->ms = pm_clock_ms() - t0;
}

static struct pm__audit_job *
job_free(struct pm__audit_job *job)
{
        if (!job)
                return NULL;
        pm__rpc_call_free(job->call);
        pm__shared_text_unref(job->answer);
        pm_argv_free(job->changed);
        pm_argv_free(job->fresh);
        pm_argv_free(job->unwatched);
        pm_free(job->root);
        pm_free(job->label);
        pm_free(job);
        return NULL;
}

/* Send @job's error @err to its client, if one still waits, and say nobody waits any more. */
static void
reply_error(struct pm__audit_job *job, const struct pm_error *err)
{
        struct pm__client *c = job->call->owner;

        if (c)
                pm__client_send(c, pm__rpc_error(job->call->id, err));
        job->call->owner = NULL;
}

static void audit_done(uv_work_t *w, int status);

/* Start the next waiting audit, when none runs (loop). */
static void
start_next(struct pm_server *srv)
{
        struct pm__audit_job *job;
        struct pm_error err;
        int r;

        while (!srv->audit_running && (job = srv->audit_queue)) {
                srv->audit_queue = job->next;
                job->next = NULL;
                srv->n_parked--;
                job->work.data = job;
                if (!srv->audit_state)
                        srv->audit_state = pm_calloc(1, sizeof(*srv->audit_state));
                if (!srv->audit_state) {
                        pm_error_init(&err);
                        pm_error_set(&err, -ENOMEM, "out of memory");
                        reply_error(job, &err);
                        job_free(job);
                        continue;
                }
                /* What changed since the last audit, as the watches saw it until now. */
                pm__audit_before(srv);
                job->changed = pm_steal_ptr(&srv->audit_changed);
                job->n_changed = srv->n_audit_changed;
                job->fresh = pm_steal_ptr(&srv->audit_fresh);
                job->n_fresh = srv->n_audit_fresh;
                job->distrust = srv->audit_distrust;
                srv->n_audit_changed = srv->n_audit_fresh = 0;
                srv->audit_distrust = false;
                r = uv_queue_work(&srv->loop, &job->work, audit_work, audit_done);
                if (r == 0) {
                        srv->audit_running = job;
                        break;
                }
                /* Not run: what it took must reach the next one. */
                srv->audit_distrust = true;
                pm_error_init(&err);
                pm_error_set(&err, r, "cannot start the audit: %s", uv_strerror(r));
                reply_error(job, &err);
                job_free(job);
        }
}

static void
audit_done(uv_work_t *w, int status)
{
        struct pm__audit_job *job = w->data;
        struct pm_server *srv = job->srv;
        struct pm__client *c = job->call->owner;

        srv->audit_running = NULL;
        srv->audit_files = job->n_files;
        srv->audit_checked = job->n_checked;
        srv->audit_read = job->n_read;
        srv->audit_trusted = job->n_trusted;
        srv->audit_ms = job->ms;
        /* A run that failed may have taken changes it did not apply: check every file next. */
        if (job->code < 0 || status < 0)
                srv->audit_distrust = true;
        pm__audit_after(srv, job->unwatched, job->n_unwatched);
        if (c && job->code == 0 && status == 0) {
                pm__client_send_shared_result(c, job->call->id, job->answer);
        } else if (c) {
                if (job->code == 0)
                        (void)pm_error_set(&job->err, status, "%s", uv_strerror(status));
                else if (job->err.code == 0)
                        (void)pm_error_set(&job->err, job->code, "%s", pm_strerror(job->code));
                reply_error(job, &job->err);
        }
        job_free(job);
        start_next(srv);
}

int
pm__audit_request(struct pm_server *srv, struct pm__rpc_call *call, struct pm_error *err)
{
        struct pm__audit_job *job = NULL, **pp;
        const char *label = NULL, *fmt = NULL;
        enum pm_audit_format format = PM_AUDIT_FORMAT_JSON;
        bool closure = false;
        int r;

        r = pm__param_string(call->params, "label", false, &label, err);
        if (r == 0)
                r = pm__param_bool(call->params, "closure", false, &closure, err);
        if (r == 0)
                r = pm__param_string(call->params, "format", false, &fmt, err);
        if (r == 0 && closure && !label)
                r = pm_error_set(err, PM_EPARAMS, "parameter 'closure' needs a 'label'");
        if (r == 0 && fmt && pm_audit_format_parse(fmt, &format) < 0)
                r = pm_error_set(err, PM_EPARAMS,
                                 "parameter 'format' must be \"text\", \"json\" or \"sarif\"");
        /* A notification gets no reply: nothing to scan for. */
        if (r < 0 || !call->id)
                return r;
        if (srv->n_parked >= PM_RPC_MAX_PARKED)
                return pm_error_set(err, PM_ELIMIT, "more than %u requests waiting",
                                    PM_RPC_MAX_PARKED);
        job = pm_calloc(1, sizeof(*job));
        if (!job)
                return pm_error_set(err, -ENOMEM, "out of memory");
        job->srv = srv;
        job->closure = closure;
        job->format = format;
        atomic_init(&job->cancel, false);
        job->root = pm_strdup(srv->cfg->root);
        job->label = label ? pm_strdup(label) : NULL;
        if (!job->root || (label && !job->label)) {
                job_free(job);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        /* From here the job owns the call: it waits in line, then runs. */
        job->call = call;
        for (pp = &srv->audit_queue; *pp; pp = &(*pp)->next)
                ;
        *pp = job;
        srv->n_parked++;
        start_next(srv);
        return PM__RPC_PARKED;
}

void
pm__audit_forget_client(struct pm_server *srv, const struct pm__client *c)
{
        struct pm__audit_job **pp = &srv->audit_queue;

        if (srv->audit_running && srv->audit_running->call->owner == c) {
                srv->audit_running->call->owner = NULL;
                atomic_store(&srv->audit_running->cancel, true);
        }
        while (*pp) {
                struct pm__audit_job *job = *pp;

                if (job->call->owner == c) {
                        *pp = job->next;
                        srv->n_parked--;
                        job_free(job);
                } else {
                        pp = &job->next;
                }
        }
}

bool
pm__audit_cancel(struct pm_server *srv, const struct pm__client *c, const struct cJSON *id)
{
        struct pm__audit_job **pp, *run = srv->audit_running;
        struct pm_error err;

        pm_error_init(&err);
        (void)cancelled(&err);
        if (run && run->call->owner == c && pm__rpc_same_id(run->call->id, id)) {
                reply_error(run, &err);
                atomic_store(&run->cancel, true);
                return true;
        }
        for (pp = &srv->audit_queue; *pp; pp = &(*pp)->next) {
                struct pm__audit_job *job = *pp;

                if (job->call->owner != c || !pm__rpc_same_id(job->call->id, id))
                        continue;
                *pp = job->next;
                srv->n_parked--;
                reply_error(job, &err);
                job_free(job);
                return true;
        }
        return false;
}

void
pm__audit_stop(struct pm_server *srv)
{
        struct pm__audit_job *job;
        struct pm_error err;

        pm__audit_close(srv);
        pm_error_init(&err);
        pm_error_set(&err, PM_ECANCELLED, "the daemon is stopping");
        if (srv->audit_running) {
                reply_error(srv->audit_running, &err);
                atomic_store(&srv->audit_running->cancel, true);
        }
        while ((job = srv->audit_queue)) {
                srv->audit_queue = job->next;
                srv->n_parked--;
                reply_error(job, &err);
                job_free(job);
        }
}
