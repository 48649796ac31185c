/* SPDX-License-Identifier: MIT */
/* pm_index_load(): rebuild a pm_graph from the model. The crates table (with its packed list
 * columns, decoded by codec.c) and each child table are read in bulk, one statement per table
 * ordered by crate id, never one query per crate. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "indexer-internal.h"

/* Crate id -> index into g->crates, sorted by id for bsearch. */
struct id_map {
        int64_t id;
        size_t index;
};

struct load {
        struct pm_index *idx;
        struct pm_graph *g;
        struct id_map *ids;
        size_t n_ids;
};

static int
cmp_id(const void *a, const void *b)
{
        int64_t x = ((const struct id_map *)a)->id, y = ((const struct id_map *)b)->id;

        return (x > y) - (x < y);
}

static const char *
col(sqlite3_stmt *st, int i)
{
        return (const char *)sqlite3_column_text(st, i);
}

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "cannot load model: out of memory");
}

static int
load_crates(struct load *l, enum pm__stmt which, struct pm_error *err)
{
        struct pm_graph *g = l->g;
        sqlite3_stmt *st;
        size_t cap = 0;
        int r, rc;

        r = pm__index_stmt(l->idx, which, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct pm_crate *c;
                const char *what;

                if (pm_grow(&l->ids, &cap, l->n_ids + 1, 64) < 0) {
                        r = oom(err);
                        goto out;
                }
                c = pm_graph_add_crate(g);
                if (!c) {
                        r = oom(err);
                        goto out;
                }
                l->ids[l->n_ids].id = sqlite3_column_int64(st, 0);
                l->ids[l->n_ids].index = g->n_crates - 1;
                l->n_ids++;
                r = pm__codec_read(g, c, st, &what);
                if (r == -ENOMEM) {
                        r = oom(err);
                        goto out;
                }
                if (r < 0) {
                        r = pm_error_set(err, PM_EDB,
                                         "model '%s' is damaged: crate '%s' has a bad %s column",
                                         l->idx->path, c->label ? c->label : "?", what);
                        goto out;
                }
        }
        if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(l->idx, rc, "cannot load model", err);
        if (l->n_ids > 1) /* ids is NULL for an empty model, and qsort(NULL, 0) is undefined */
                qsort(l->ids, l->n_ids, sizeof(*l->ids), cmp_id);
out:
        (void)sqlite3_reset(st);
        return r;
}

/* Rows come ordered by (crate_id, pos); consecutive rows of one crate reuse the lookup. */
static int
load_child(struct load *l, enum pm__rows t, enum pm__stmt which, struct pm_error *err)
{
        struct pm_graph *g = l->g;
        struct pm_crate *c = NULL;
        int64_t cur = 0;
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(l->idx, which, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t id = sqlite3_column_int64(st, 0);

                if (!c || id != cur) {
                        struct id_map key = { .id = id }, *m;

                        m = bsearch(&key, l->ids, l->n_ids, sizeof(*l->ids), cmp_id);
                        if (!m) {
                                r = pm_error_set(err, PM_EDB,
                                                 "model '%s' is damaged: row of unknown crate %lld",
                                                 l->idx->path, (long long)id);
                                goto out;
                        }
                        c = &g->crates[m->index];
                        cur = id;
                }
                if (pm__rows_tables[t].field < 0)
                        r = pm_crate_add_dep(g, c, col(st, 1), col(st, 2));
                else
                        r = pm_strlist_push(g,
                                            &PM_CRATE_AT(c,
                                                         &pm_crate_fields[pm__rows_tables[t].field],
                                                         struct pm_strlist),
                                            col(st, 1));
                if (r < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(l->idx, rc, "cannot load model", err);
out:
        (void)sqlite3_reset(st);
        return r;
}

static int
load_build_files(struct load *l, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(l->idx, PM__STMT_LOAD_BUILD_FILES, &st, err);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (pm_strlist_push(l->g, &l->g->build_files, col(st, 0)) < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(l->idx, rc, "cannot load model", err);
out:
        (void)sqlite3_reset(st);
        return r;
}

int
pm_index_load(struct pm_index *idx, const char *const *labels, size_t n, struct pm_graph **ret,
              struct pm_error *err)
{
        struct load l = { .idx = idx };
        bool in_tx = false;
        int r;

        l.g = pm_graph_new();
        if (!l.g)
                return oom(err);
        /* One read transaction so a concurrent apply cannot tear the graph. */
        r = pm__index_exec(idx, PM__STMT_BEGIN_READ, err);
        if (r < 0)
                goto out;
        in_tx = true;
        if (labels) {
                r = pm__index_fill_q(idx, labels, n, err);
                if (r >= 0)
                        r = pm__index_check_q(idx, err);
                if (r >= 0)
                        r = load_crates(&l, PM__STMT_LOAD_CRATES_Q, err);
                /* The child statements are driven from the ids (db.c's FROM_Q). */
                if (r >= 0)
                        r = pm__index_exec(idx, PM__STMT_IDS_CLEAR, err);
                if (r >= 0)
                        r = pm__index_exec(idx, PM__STMT_IDS_FILL, err);
        } else {
                r = load_crates(&l, PM__STMT_LOAD_CRATES_ALL, err);
                if (r >= 0)
                        r = load_build_files(&l, err);
        }
        for (int t = 0; r >= 0 && t < _PM__ROWS_MAX && l.n_ids > 0; t++)
                r = load_child(&l, (enum pm__rows)t,
                               labels ? pm__rows_tables[t].load_q : pm__rows_tables[t].load_all,
                               err);
        if (r < 0)
                goto out;
        r = pm__index_exec(idx, PM__STMT_COMMIT, err);
        if (r < 0)
                goto out;
        in_tx = false;
        /* Rows came in label order already; this builds the lookup for pm_graph_lookup(). */
        pm_graph_sort(l.g);
        *ret = pm_steal_ptr(&l.g);
out:
        if (in_tx)
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
        pm_free(l.ids);
        pm_graph_free(l.g);
        return r;
}
