/* SPDX-License-Identifier: MIT */
/* What the model remembers to avoid work: each source's input stamp (what its crates were built
 * from) and its adapter's fingerprints (what to re-parse), and rendered outputs keyed by
 * generation. Both are caches: losing them costs time only. */
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
pm_index_source_stamp(struct pm_index *idx, const char *source, char **ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        char *stamp = NULL;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_STAMP_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, source);
        rc = sqlite3_step(st);
        /* A row without a stamp holds only fingerprints. */
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                const void *p = sqlite3_column_blob(st, 0);
                size_t len = (size_t)sqlite3_column_bytes(st, 0);

                stamp = pm_strndup(p ? p : "", len);
                if (!stamp)
                        r = pm_error_set(err, -ENOMEM,
                                         "cannot read the stamp of '%s': out of memory", source);
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                r = pm__index_sqlite_error(idx, rc, "cannot read stamp", err);
        }
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret = stamp;
        return 0;
}

/* Unpack @len bytes of key NUL value NUL ... into a new graph's fingerprints; NULL (not an
 * error: the store is a cache) when they do not come in pairs. */
static int
unpack_fingerprints(const char *p, size_t len, struct pm_graph **ret)
{
        struct pm_graph *g;
        struct pm_kv *v;
        size_t n = 0, k = 0;

        *ret = NULL;
        if (len == 0 || p[len - 1] != '\0')
                return 0;
        for (size_t i = 0; i < len; i++)
                n += p[i] == '\0';
        if (n % 2)
                return 0;
        g = pm_graph_new();
        v = g ? pm_arena_alloc(g->arena, (n / 2) * sizeof(*v)) : NULL;
        if (!v) {
                pm_graph_free(g);
                return -ENOMEM;
        }
        for (const char *s = p, *end = p + len; s < end; k++) {
                size_t kl = strlen(s);

                v[k].key = pm_graph_strdup(g, s);
                s += kl + 1;
                v[k].value = pm_graph_strdup(g, s);
                s += strlen(s) + 1;
                if (!v[k].key || !v[k].value) {
                        pm_graph_free(g);
                        return -ENOMEM;
                }
        }
        g->fingerprints = (struct pm_kvlist){ .v = v, .n = k, .cap = n / 2 };
        *ret = g;
        return 0;
}

int
pm_index_source_fingerprints(struct pm_index *idx, const char *source, struct pm_graph **ret,
                             struct pm_error *err)
{
        sqlite3_stmt *st;
        struct pm_graph *g = NULL;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_FINGERPRINTS_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, source);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                r = unpack_fingerprints(sqlite3_column_blob(st, 0),
                                        (size_t)sqlite3_column_bytes(st, 0), &g);
                if (r < 0)
                        r = pm_error_set(err, r,
                                         "cannot read the fingerprints of '%s': out of memory",
                                         source);
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                r = pm__index_sqlite_error(idx, rc, "cannot read fingerprints", err);
        }
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret = g;
        return 0;
}

int
pm_index_output_get(struct pm_index *idx, const char *key, struct pm_strbuf *out, bool *ret_hit,
                    struct pm_error *err)
{
        sqlite3_stmt *st;
        bool hit = false;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_OUTPUT_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, key);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const void *p = sqlite3_column_blob(st, 0);
                size_t len = (size_t)sqlite3_column_bytes(st, 0);

                if (pm_strbuf_add(out, p ? p : "", len) < 0)
                        r = pm_error_set(err, -ENOMEM, "cannot read cached output: out of memory");
                else
                        hit = true;
        } else if (rc != SQLITE_DONE) {
                r = pm__index_sqlite_error(idx, rc, "cannot read cached output", err);
        }
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret_hit = hit;
        return 0;
}

static int
step_reset(struct pm_index *idx, sqlite3_stmt *st, struct pm_error *err)
{
        int rc = sqlite3_step(st);

        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(idx, rc, "cannot store output", err);
        return 0;
}

int
pm_index_output_put(struct pm_index *idx, const char *key, uint64_t generation, const void *data,
                    size_t len, struct pm_error *err)
{
        sqlite3_stmt *st;
        uint64_t now;
        bool in_tx = false;
        int r;

        if (len > INT32_MAX)
                return 0; /* too large for one SQLite value: simply not cached */
        r = pm__index_exec(idx, PM__STMT_BEGIN_WRITE, err);
        if (r < 0)
                return r;
        in_tx = true;
        r = pm__index_read_generation(idx, &now, err);
        if (r < 0 || now != generation)
                goto out;
        r = pm__index_stmt(idx, PM__STMT_OUTPUT_PRUNE, &st, err);
        if (r < 0)
                goto out;
        (void)sqlite3_bind_int64(st, 1, (sqlite3_int64)generation);
        r = step_reset(idx, st, err);
        if (r < 0)
                goto out;
        r = pm__index_stmt(idx, PM__STMT_OUTPUT_PUT, &st, err);
        if (r < 0)
                goto out;
        (void)pm__bind_text(st, 1, key);
        (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)generation);
        (void)sqlite3_bind_blob(st, 3, len ? data : "", (int)len, SQLITE_STATIC);
        r = step_reset(idx, st, err);
out:
        if (r < 0) {
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
                return r;
        }
        if (in_tx)
                r = pm__index_exec(idx, PM__STMT_COMMIT, err);
        return r;
}
