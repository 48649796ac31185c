/* SPDX-License-Identifier: MIT */
/* The unsafe audit's per-file records (audit_files): a cache of scans keyed by path with the
 * file's size, mtime and content hash, so a second audit re-reads only changed files, and the
 * model as the audit's store of them (projmodel/audit.h). Losing it costs time only. Also which
 * crates an audit covers (a label, a dependency closure), for the daemon and the CLI alike. */
#include "projmodel/audit.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "indexer-internal.h"

int
pm_index_audit_get(struct pm_index *idx, const char *path, struct pm_index_audit_stamp *ret_stamp,
                   struct pm_strbuf *scan, bool *ret_hit, struct pm_error *err)
{
        sqlite3_stmt *st;
        bool hit = false;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_AUDIT_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, path);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const void *p = sqlite3_column_blob(st, 3);
                size_t len = (size_t)sqlite3_column_bytes(st, 3);

                ret_stamp->size = sqlite3_column_int64(st, 0);
                ret_stamp->mtime_ns = sqlite3_column_int64(st, 1);
                ret_stamp->hash = (uint64_t)sqlite3_column_int64(st, 2);
                if (pm_strbuf_add(scan, p ? p : "", len) < 0)
                        r = pm_error_set(err, -ENOMEM,
                                         "cannot read the audit of '%s': out of memory", path);
                else
                        hit = true;
        } else if (rc != SQLITE_DONE) {
                r = pm__index_sqlite_error(idx, rc, "cannot read an audit record", err);
        }
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret_hit = hit;
        return 0;
}

int
pm_index_audit_put(struct pm_index *idx, const char *path, const struct pm_index_audit_stamp *stamp,
                   const void *scan, size_t len, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        if (len > INT32_MAX)
                return 0; /* too large for one SQLite value: simply not remembered */
        r = pm__index_stmt(idx, PM__STMT_AUDIT_PUT, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, path);
        (void)sqlite3_bind_int64(st, 2, stamp->size);
        (void)sqlite3_bind_int64(st, 3, stamp->mtime_ns);
        (void)sqlite3_bind_int64(st, 4, (sqlite3_int64)stamp->hash);
        (void)sqlite3_bind_blob(st, 5, len ? scan : "", (int)len, SQLITE_STATIC);
        return pm__index_step_done(idx, st, "cannot store an audit record", err);
}

int
pm_index_audit_begin(struct pm_index *idx, struct pm_error *err)
{
        return pm__index_exec(idx, PM__STMT_BEGIN_WRITE, err);
}

int
pm_index_audit_end(struct pm_index *idx, bool commit, struct pm_error *err)
{
        return pm__index_exec(idx, commit ? PM__STMT_COMMIT : PM__STMT_ROLLBACK, err);
}

static int
store_get(void *ud, const char *path, struct pm_audit_file_stamp *ret_stamp, struct pm_strbuf *scan,
          bool *ret_hit, struct pm_error *err)
{
        struct pm_index_audit_stamp st = { 0 };
        bool hit = false;
        int r = pm_index_audit_get(ud, path, &st, scan, &hit, err);

        if (r == 0 && hit) {
                ret_stamp->size = st.size;
                ret_stamp->mtime_ns = st.mtime_ns;
                ret_stamp->hash = st.hash;
        }
        if (r == 0)
                *ret_hit = hit;
        return r;
}

static int
store_put(void *ud, const char *path, const struct pm_audit_file_stamp *stamp, const char *scan,
          size_t len, struct pm_error *err)
{
        struct pm_index_audit_stamp st = { stamp->size, stamp->mtime_ns, stamp->hash };

        return pm_index_audit_put(ud, path, &st, scan, len, err);
}

void
pm_index_audit_store(struct pm_index *idx, struct pm_audit_store *ret_store)
{
        ret_store->get = store_get;
        ret_store->put = store_put;
        ret_store->ud = idx;
}

/*
 * The closure is walked over @g, which is the model already in memory: a recursive SQL query
 * costs about a microsecond per row, and a closure that is the whole model (an audit of every
 * crate) would pay that for every crate and edge.
 */
int
pm_index_mark_audit(struct pm_index *idx, const struct pm_graph *g, const char *label, bool closure,
                    bool *on, struct pm_error *err)
{
        size_t *stack = NULL, n = 0;
        int r = 0;

        (void)idx;
        if (label) {
                const struct pm_crate *c = pm_graph_lookup(g, label);

                if (!c)
                        return pm_error_set(err, PM_ENOTFOUND, "no crate '%s' in the model", label);
                on[c - g->crates] = true;
        }
        if (!closure)
                return 0;
        /* Each crate is pushed once, when first marked: the stack never exceeds n_crates. */
        stack = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*stack));
        if (!stack) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < g->n_crates; i++)
                if (on[i])
                        stack[n++] = i;
        while (n > 0) {
                const struct pm_crate *c = &g->crates[stack[--n]];

                for (size_t k = 0; k < c->n_deps; k++) {
                        const struct pm_crate *d = pm_graph_lookup(g, c->deps[k].label);

                        /* A dep outside the model (allowed dangling) reaches nothing. */
                        if (!d || on[d - g->crates])
                                continue;
                        on[d - g->crates] = true;
                        stack[n++] = (size_t)(d - g->crates);
                }
        }
out:
        pm_free(stack);
        return r;
}
