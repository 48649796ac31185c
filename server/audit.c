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
#include <stdint.h>
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

#define N_FORMATS 3 /* enum pm_audit_format */

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
        /*
         * Each crate's part of the answer by format and graph index, as printed (NULL until
         * rendered, dropped with the crate's inventory): an answer is these parts joined, so an
         * edit renders again only the crates holding the changed file (render.c's per-crate
         * functions give the bytes the whole document would have).
         */
        struct pm__shared_text **parts[N_FORMATS];
        /* The last answer as sent (the parts with the document's brackets and separators,
         * written to every client that asks without a copy: each write holds a reference until
         * it ends) and what it was asked with ("<format> <closure> <label>"), valid while
         * nothing changed; NULL when none. */
        char *answer_key;
        struct pm__shared_reply *answer;
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
        bool applied; /* the changes it took reached the kept scans (a later error loses none) */
        struct pm__shared_reply *answer; /* a reference to the answer (st->answer's) */
        char **unwatched; /* owned: directories of scanned files nobody watches yet */
        size_t n_unwatched;
        size_t n_files, n_checked, n_read, n_trusted, n_rendered;
        double ms;
};

static int
cancelled(struct pm_error *err)
{
        return pm_error_set(err, PM_ECANCELLED, "request cancelled");
}

static void
forget_answer(struct pm__audit_state *st)
{
        pm_free(st->answer_key);
        st->answer_key = NULL;
        st->answer = pm__shared_reply_unref(st->answer);
}

/* Forget crate @i's inventory and parts (its files changed). */
static void
forget_crate(struct pm__audit_state *st, size_t i)
{
        if (st->inv[i])
                pm_audit_drop_crate(st->a, st->inv[i]);
        st->inv[i] = NULL;
        for (int f = 0; f < N_FORMATS; f++)
                if (st->parts[f])
                        st->parts[f][i] = pm__shared_text_unref(st->parts[f][i]);
}

/* Forget every crate's inventory and parts; free the arrays too when @arrays. */
static void
forget_crates(struct pm__audit_state *st, bool arrays)
{
        size_t n = st->g ? st->g->n_crates : 0;

        if (st->a)
                pm_audit_drop_crates(st->a);
        for (int f = 0; f < N_FORMATS; f++) {
                for (size_t i = 0; st->parts[f] && i < n; i++)
                        st->parts[f][i] = pm__shared_text_unref(st->parts[f][i]);
                if (arrays) {
                        pm_free(st->parts[f]);
                        st->parts[f] = NULL;
                }
        }
        if (arrays) {
                pm_free(st->inv);
                st->inv = NULL;
        } else if (st->inv) {
                memset(st->inv, 0, n * sizeof(*st->inv));
        }
}

void
pm__audit_state_free(struct pm__audit_state *st)
{
        if (!st)
                return;
        forget_answer(st);
        forget_crates(st, true);
        pm_audit_free(st->a);
        pm_graph_free(st->g);
        pm_free(st);
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
        forget_crates(st, true);
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

/* What comes between two crates' parts of a @format answer, once per document. */
static const char *
separator(enum pm_audit_format format)
{
        return format == PM_AUDIT_FORMAT_TEXT ? "\\n" : ",";
}

/*
 * @text (printed by cJSON, consumed) as a shared text in *@ret: @sep, then @text without its
 * first and last byte when @strip (a string's quotes, an array's brackets); empty when that
 * leaves nothing.
 */
static int
share_printed(const char *sep, char *text, bool strip, struct pm__shared_text **ret)
{
        size_t len = text ? strlen(text) : 0, seplen = strlen(sep);
        const char *from = text;
        char *buf;

        if (!text)
                return -ENOMEM;
        if (strip && len >= 2) {
                from++;
                len -= 2;
        }
        buf = pm_malloc(len ? seplen + len + 1 : 1);
        if (buf && len) {
                memcpy(buf, sep, seplen);
                memcpy(buf + seplen, from, len);
                len += seplen;
        }
        if (buf)
                buf[len] = '\0';
        cJSON_free(text);
        if (!buf)
                return -ENOMEM;
        *ret = pm__shared_text_new(buf, len, pm_free);
        return *ret ? 0 : -ENOMEM;
}

/* Crate @ac's part of a @format answer (see pm__audit_state.parts) into *@ret: the separator,
 * then what the whole document holds for the crate (nothing for a crate without SARIF
 * results); the first part of an answer is sent without its separator. */
static int
render_part(enum pm_audit_format format, const char *root, const struct pm_audit_crate *ac,
            struct pm__shared_text **ret, struct pm_error *err)
{
        cJSON *doc = NULL;
        int r = -ENOMEM;

        if (format == PM_AUDIT_FORMAT_TEXT) {
                struct pm_strbuf text = PM_STRBUF_INIT;

                /* The JSON string of the whole text is the crates' escaped texts joined by an
                 * escaped newline: cJSON escapes byte by byte. */
                if (pm_audit_text_crate(&text, root, ac) == 0)
                        doc = cJSON_CreateString(text.buf ? text.buf : "");
                pm_strbuf_release(&text);
        } else if (format == PM_AUDIT_FORMAT_SARIF) {
                doc = pm_audit_sarif_results(root, ac);
        } else {
                doc = pm_audit_json_crate(root, ac);
        }
        if (doc)
                r = share_printed(separator(format), cJSON_PrintUnformatted(doc),
                                  format != PM_AUDIT_FORMAT_JSON, ret);
        cJSON_Delete(doc);
        return r < 0 ? pm_error_set(err, r, "out of memory") : 0;
}

/*
 * The @format answer made of @st's parts of the @n crates @idx (graph indices, each rendered),
 * kept in @st for @key (taken), a reference in *@ret: exactly the bytes cJSON_PrintUnformatted()
 * gives for the whole document (the JSON array, the SARIF log, the text as a string).
 */
static int
assemble_answer(struct pm__audit_state *st, enum pm_audit_format format, const char *root,
                const size_t *idx, size_t n, char **key, struct pm__shared_reply **ret,
                struct pm_error *err)
{
        struct pm__shared_reply *reply = pm__shared_reply_new();
        struct pm__shared_text *head = NULL;
        const char *open = "[", *close = "]";
        size_t skip = strlen(separator(format));
        int r = reply ? 0 : -ENOMEM;

        if (r == 0 && format == PM_AUDIT_FORMAT_TEXT) {
                open = close = "\"";
        } else if (r == 0 && format == PM_AUDIT_FORMAT_SARIF) {
                /* The log of no crate ends with its empty results array: the parts go inside
                 * (each crate's results, none for a crate without sites). */
                static const char tail[] = "[]}]}";
                cJSON *log = pm_audit_sarif(root, NULL, 0);

                r = share_printed("", log ? cJSON_PrintUnformatted(log) : NULL, false, &head);
                cJSON_Delete(log);
                if (r == 0 && (head->len < strlen(tail) ||
                               strcmp(head->data + head->len - strlen(tail), tail) != 0))
                        r = -EINVAL;
                if (r == 0) {
                        head->len -= strlen(tail) - 1; /* up to the results' '[' */
                        r = pm__shared_reply_add_text(reply, head, 0);
                }
                open = "";
                close = tail + 1;
        }
        if (r == 0)
                r = pm__shared_reply_add_static(reply, open, strlen(open));
        for (size_t k = 0; r == 0 && k < n; k++) {
                struct pm__shared_text *part = st->parts[format][idx[k]];

                if (part->len == 0)
                        continue;
                r = pm__shared_reply_add_text(reply, part, skip);
                skip = 0;
        }
        if (r == 0)
                r = pm__shared_reply_add_static(reply, close, strlen(close));
        pm__shared_text_unref(head);
        if (r < 0) {
                pm__shared_reply_unref(reply);
                return r == -EINVAL ? pm_error_set(err, r,
                                                   "the SARIF log has no results array at its end")
                                    : pm_error_set(err, r, "out of memory");
        }
        forget_answer(st);
        st->answer = reply;
        st->answer_key = pm_steal_ptr(key);
        *ret = pm__shared_reply_ref(reply);
        return 0;
}

/* The inventory @job asks for, from the model behind @idx and what @st kept, into @job->answer
 * (worker). */
static int
audit_compute(struct pm_index *idx, struct pm__audit_state *st, struct pm__audit_job *job,
              struct pm_error *err)
{
        struct pm_audit_store store;
        struct pm_graph *g;
        bool *on = NULL, began = false, changed = false;
        size_t *idxs = NULL, n = 0, nc;
        char *key = NULL;
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
        nc = g->n_crates ? g->n_crates : 1;
        for (int f = 0; f < N_FORMATS; f++) {
                if (!st->parts[f] && !(st->parts[f] = pm_calloc(nc, sizeof(*st->parts[f])))) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
        r = pm_index_audit_begin(idx, err);
        if (r < 0)
                goto out;
        began = true;
        /* Only the files no watch vouches for are looked at (audit/inventory.c). */
        r = pm_audit_begin_run(st->a, (const char *const *)job->changed, job->n_changed,
                               (const char *const *)job->fresh, job->n_fresh, job->distrust,
                               &changed, err);
        if (r < 0) {
                /* Which files changed is not known: count every crate again (the next run
                 * checks what this one left unchecked, audit/inventory.c). */
                forget_answer(st);
                forget_crates(st, false);
                goto out;
        }
        if (changed) {
                /* The counts of every crate holding a changed file are off: those crates are
                 * counted (from the scans in memory) and rendered again, no other. They are
                 * the run's list, not a look at every crate: an edit costs what it changed. */
                const struct pm_audit_crate *const *v;
                size_t n_changed = pm_audit_changed_crates(st->a, &v);

                forget_answer(st);
                /* Dropping a crate takes it off the list: the last one first, until none. */
                while (n_changed > 0) {
                        const struct pm_audit_crate *ac = v[n_changed - 1];
                        uintptr_t at = (uintptr_t)ac->crate, first = (uintptr_t)g->crates;
                        size_t i = (at - first) / sizeof(*g->crates);

                        if (at >= first && i < g->n_crates && st->inv[i] == ac) {
                                forget_crate(st, i);
                        } else {
                                /* Not one of this graph's inventories: never handed out here. */
                                pm_audit_drop_crate(st->a, ac);
                        }
                        n_changed = pm_audit_changed_crates(st->a, &v);
                }
        }
        /* What the run took is in the kept state now: an error below (a bad label, a
         * cancellation) loses no change. */
        job->applied = true;
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
                        job->answer = pm__shared_reply_ref(st->answer);
                if (r == 0)
                        r = pm_audit_unwatched_dirs(st->a, &job->unwatched, &job->n_unwatched, err);
                goto out;
        }
        on = pm_calloc(nc, sizeof(*on));
        idxs = pm_calloc(nc, sizeof(*idxs));
        if (!on || !idxs) {
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
                struct pm__shared_text **part = &st->parts[job->format][i];

                if (!on[i])
                        continue;
                if (atomic_load(&job->cancel)) {
                        r = cancelled(err);
                        break;
                }
                if (!st->inv[i])
                        r = pm_audit_add_crate(st->a, &g->crates[i], &st->inv[i], err);
                if (r == 0 && !*part) {
                        r = render_part(job->format, job->root, st->inv[i], part, err);
                        job->n_rendered += r == 0;
                }
                idxs[n++] = i;
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
        /* The parts joined, referenced, not copied: sent as they are to this client and the
         * next that ask. */
        r = assemble_answer(st, job->format, job->root, idxs, n, &key, &job->answer, err);
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
        pm_free(idxs);
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
        pm__shared_reply_unref(job->answer);
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
        srv->audit_rendered = job->n_rendered;
        srv->audit_ms = job->ms;
        /* A run that ended before the changes it took reached the kept scans: check every
         * file next. One that failed later (a label not in the model, a cancellation) lost
         * nothing. */
        if (!job->applied || status < 0)
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
