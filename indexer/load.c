/* SPDX-License-Identifier: MIT */
/* pm_index_load(): rebuild a pm_graph from the model. The crates table (with its packed list
 * columns) and each child table are read in bulk, one statement per table ordered by crate id,
 * never one query per crate. */
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

/*
 * Unpack a list column (apply.c's packing: each string followed by a NUL) by calling @push for
 * every string, or every (key, value) pair when @pairs. A blob that does not end in NUL (or has
 * an odd number of strings for pairs) is damage.
 */
static int
unpack(struct load *l, struct pm_crate *c, sqlite3_stmt *st, int i, int which, struct pm_error *err)
{
        const char *p = sqlite3_column_blob(st, i);
        size_t len = (size_t)sqlite3_column_bytes(st, i);
        const char *end;
        int r = 0;

        if (!p || len == 0)
                return 0;
        end = p + len; /* not before the NULL check: NULL + 0 is undefined */
        if (end[-1] != '\0')
                goto damaged;
        while (p < end && r >= 0) {
                const char *s = p, *v;

                p += strlen(p) + 1;
                switch (which) {
                case 0:
                        r = pm_strlist_push(l->g, &c->cfgs, s);
                        break;
                case 1:
                        if (p >= end)
                                goto damaged;
                        v = p;
                        p += strlen(p) + 1;
                        r = pm_kvlist_set(l->g, &c->env, s, v);
                        break;
                default:
                        r = pm_strlist_push(l->g, &c->flags, s);
                        break;
                }
        }
        if (r < 0)
                return oom(err);
        return 0;
damaged:
        return pm_error_set(err, PM_EDB, "model '%s' is damaged: crate '%s' has a bad list column",
                            l->idx->path, c->label);
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
                enum pm_crate_kind kind;

                if (l->n_ids == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        struct id_map *n = pm_realloc(l->ids, ncap * sizeof(*n));

                        if (!n) {
                                r = oom(err);
                                goto out;
                        }
                        l->ids = n;
                        cap = ncap;
                }
                if (pm_crate_kind_parse(col(st, 5), &kind) < 0) {
                        r = pm_error_set(err, PM_EDB,
                                         "model '%s' is damaged: crate '%s' has kind '%s'",
                                         l->idx->path, col(st, 1), col(st, 5));
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
                c->label = pm_graph_strdup(g, col(st, 1));
                c->build_system = pm_graph_strdup(g, col(st, 2));
                c->display_name = pm_graph_strdup(g, col(st, 3));
                c->crate_name = pm_graph_strdup(g, col(st, 4));
                c->kind = kind;
                c->edition = pm_graph_strdup(g, col(st, 6));
                c->root_module = pm_graph_strdup(g, col(st, 7));
                c->target = pm_graph_strdup(g, col(st, 8));
                c->build_file = pm_graph_strdup(g, col(st, 9));
                c->proc_macro_dylib = pm_graph_strdup(g, col(st, 10));
                c->is_workspace_member = sqlite3_column_int(st, 11) != 0;
                c->note = pm_graph_strdup(g, col(st, 12));
                if (!c->label || !c->build_system || !c->crate_name || !c->edition ||
                    !c->root_module || (!c->display_name && col(st, 3)) ||
                    (!c->target && col(st, 8)) || (!c->build_file && col(st, 9)) ||
                    (!c->proc_macro_dylib && col(st, 10)) || (!c->note && col(st, 12))) {
                        r = oom(err);
                        goto out;
                }
                r = unpack(l, c, st, 13, 0, err);
                if (r >= 0)
                        r = unpack(l, c, st, 14, 1, err);
                if (r >= 0)
                        r = unpack(l, c, st, 15, 2, err);
                if (r < 0)
                        goto out;
        }
        if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(l->idx, rc, "cannot load model", err);
        if (l->n_ids > 1) /* ids is NULL for an empty model, and qsort(NULL, 0) is undefined */
                qsort(l->ids, l->n_ids, sizeof(*l->ids), cmp_id);
out:
        (void)sqlite3_reset(st);
        return r;
}

enum child {
        CHILD_SOURCES,
        CHILD_INCDIRS,
        CHILD_DEPS,
        _CHILD_MAX
};

/* Rows come ordered by (crate_id, pos); consecutive rows of one crate reuse the lookup. */
static int
load_child(struct load *l, enum child kind, enum pm__stmt which, struct pm_error *err)
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
                switch (kind) {
                case CHILD_SOURCES:
                        r = pm_strlist_push(g, &c->sources, col(st, 1));
                        break;
                case CHILD_INCDIRS:
                        r = pm_strlist_push(g, &c->include_dirs, col(st, 1));
                        break;
                case CHILD_DEPS:
                        r = pm_crate_add_dep(g, c, col(st, 1), col(st, 2));
                        break;
                case _CHILD_MAX:
                        break;
                }
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
        static const enum pm__stmt all[_CHILD_MAX] = {
                PM__STMT_LOAD_SOURCES_ALL,
                PM__STMT_LOAD_INCDIRS_ALL,
                PM__STMT_LOAD_DEPS_ALL,
        };

        static const enum pm__stmt some[_CHILD_MAX] = {
                PM__STMT_LOAD_SOURCES_Q,
                PM__STMT_LOAD_INCDIRS_Q,
                PM__STMT_LOAD_DEPS_Q,
        };
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
        } else {
                r = load_crates(&l, PM__STMT_LOAD_CRATES_ALL, err);
                if (r >= 0)
                        r = load_build_files(&l, err);
        }
        for (size_t k = 0; r >= 0 && k < _CHILD_MAX && l.n_ids > 0; k++)
                r = load_child(&l, (enum child)k, labels ? some[k] : all[k], err);
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
