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

#include <cjson/cJSON.h>
#include <uv.h>

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
 * One projmodel/audit request. Invariant: the loop owns it while it waits on srv->audit_queue and
 * after its work ended; in between the worker fills the result fields and reads only @root,
 * @label, @closure, @format and @cancel (the configuration may be re-read meanwhile: @root is a
 * copy).
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

        /* Filled by the worker. */
        int code;
        struct pm_error err;
        cJSON *result;
};

static int
cancelled(struct pm_error *err)
{
        return pm_error_set(err, PM_ECANCELLED, "request cancelled");
}

/* The inventory @job asks for, from the model behind @idx, into *@ret (worker). */
static int
audit_compute(struct pm_index *idx, struct pm__audit_job *job, cJSON **ret, struct pm_error *err)
{
        const struct pm_audit_crate **crates = NULL;
        struct pm_graph *g = NULL;
        struct pm_audit *a = NULL;
        struct pm_audit_store store;
        bool *on = NULL, began = false;
        size_t n = 0;
        double t0;
        int r;

        r = pm_index_load(idx, NULL, 0, &g, err);
        if (r < 0)
                goto out;
        pm_graph_sort(g);
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
        r = pm_audit_new(&a, err);
        if (r < 0)
                goto out;
        pm_index_audit_store(idx, &store);
        pm_audit_set_store(a, &store);
        r = pm_index_audit_begin(idx, err);
        if (r < 0)
                goto out;
        began = true;
        t0 = pm_clock_ms();
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                if (!on[i])
                        continue;
                if (atomic_load(&job->cancel)) {
                        r = cancelled(err);
                        break;
                }
                r = pm_audit_add_crate(a, &g->crates[i], &crates[n++], err);
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
                        *ret = cJSON_CreateString(text.buf ? text.buf : "");
                pm_strbuf_release(&text);
        } else if (job->format == PM_AUDIT_FORMAT_SARIF) {
                *ret = pm_audit_sarif(job->root, crates, n);
        } else {
                *ret = pm_audit_json(job->root, crates, n);
        }
        if (!*ret)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        if (began) {
                struct pm_error ignored;

                (void)pm_index_audit_end(idx, false, &ignored);
        }
        pm_audit_free(a);
        pm_free(crates);
        pm_free(on);
        pm_graph_free(g);
        return r;
}

/* The thread-pool side: the audit worker's own model handle, kept between audits (SQLite
 * handles are never shared between threads; audits never overlap, so one handle serves all). */
static void
audit_work(uv_work_t *w)
{
        struct pm__audit_job *job = w->data;
        struct pm_server *srv = job->srv;

        pm_error_init(&job->err);
        job->code = 0;
        if (!srv->aidx)
                job->code = pm_index_open(srv->db_path, &srv->aidx, &job->err);
        if (job->code == 0)
                job->code = audit_compute(srv->aidx, job, &job->result, &job->err);
}

static struct pm__audit_job *
job_free(struct pm__audit_job *job)
{
        if (!job)
                return NULL;
        pm__rpc_call_free(job->call);
        cJSON_Delete(job->result);
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
                r = uv_queue_work(&srv->loop, &job->work, audit_work, audit_done);
                if (r == 0) {
                        srv->audit_running = job;
                        break;
                }
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
        if (c && job->code == 0 && status == 0) {
                pm__client_send(c, pm__rpc_result(job->call->id, pm_steal_ptr(&job->result)));
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
