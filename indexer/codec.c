/* SPDX-License-Identifier: MIT */
/* The codec between a struct pm_crate and its model rows, driven by PM_CRATE_FIELDS
 * (include/projmodel/graph.h): the crate hash, the crate-row binds and reads, list packing, and
 * the batched child rows. apply.c writes through it, load.c reads through it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "indexer-internal.h"

void
pm__codec_release(struct pm__codec *k)
{
        for (size_t i = 0; i < PM_CRATE_N_FIELDS; i++)
                pm_strbuf_release(&k->packed[i]);
        pm_strbuf_release(&k->canon);
        pm_free(k->deps);
        k->deps = NULL;
        k->cap_deps = 0;
}

/*
 * The canonical serialization: every string is tagged so NULL, "" and adjacent strings cannot
 * collide by concatenation; lists carry their length.
 */
static int
canon_str(struct pm_strbuf *sb, const char *s)
{
        if (!s)
                return pm_strbuf_addch(sb, 1);
        if (pm_strbuf_addch(sb, 2) < 0)
                return -ENOMEM;
        return pm_strbuf_add(sb, s, strlen(s) + 1);
}

static int
canon_u64(struct pm_strbuf *sb, uint64_t v)
{
        unsigned char b[8];

        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)(v >> (8 * i));
        return pm_strbuf_add(sb, (const char *)b, sizeof(b));
}

static int
canon_strlist(struct pm_strbuf *sb, const struct pm_strlist *l)
{
        int r = canon_u64(sb, l->n);

        for (size_t i = 0; r >= 0 && i < l->n; i++)
                r = canon_str(sb, l->v[i]);
        return r;
}

static int
canon_field(struct pm_strbuf *sb, const struct pm_crate *c, const struct pm_crate_field *f)
{
        switch (f->type) {
        case PM_FIELD_STR:
        case PM_FIELD_PATH:
                return canon_str(sb, PM_CRATE_AT(c, f, char *));
        case PM_FIELD_KIND:
                return canon_u64(sb, (uint64_t)PM_CRATE_AT(c, f, enum pm_crate_kind));
        case PM_FIELD_BOOL:
                return pm_strbuf_addch(sb, PM_CRATE_AT(c, f, bool) ? 1 : 0);
        case PM_FIELD_LIST:
        case PM_FIELD_PATHS:
                return canon_strlist(sb, &PM_CRATE_AT(c, f, struct pm_strlist));
        case PM_FIELD_ENV: {
                const struct pm_kvlist *l = &PM_CRATE_AT(c, f, struct pm_kvlist);
                int r = canon_u64(sb, l->n);

                for (size_t i = 0; r >= 0 && i < l->n; i++)
                        if (canon_str(sb, l->v[i].key) < 0 || canon_str(sb, l->v[i].value) < 0)
                                r = -ENOMEM;
                return r;
        }
        }
        return 0;
}

static int
cmp_nullable(const char *a, const char *b)
{
        if (!a || !b)
                return (a != NULL) - (b != NULL);
        return strcmp(a, b);
}

static int
cmp_dep(const void *pa, const void *pb)
{
        const struct pm_dep *a = *(const struct pm_dep *const *)pa;
        const struct pm_dep *b = *(const struct pm_dep *const *)pb;
        int c = strcmp(a->label, b->label);

        return c ? c : cmp_nullable(a->name, b->name);
}

int
pm__crate_hash(struct pm__codec *k, const struct pm_crate *c, uint64_t *ret)
{
        struct pm_strbuf *sb = &k->canon;
        int r = 0;

        pm_strbuf_reset(sb);
        for (size_t i = 0; r >= 0 && i < PM_CRATE_N_FIELDS; i++)
                r = canon_field(sb, c, &pm_crate_fields[i]);
        if (r >= 0 && c->n_deps > k->cap_deps) {
                const struct pm_dep **nd = pm_realloc(k->deps, c->n_deps * sizeof(*nd));

                if (!nd)
                        return -ENOMEM;
                k->deps = nd;
                k->cap_deps = c->n_deps;
        }
        for (size_t i = 0; i < c->n_deps; i++)
                k->deps[i] = &c->deps[i];
        if (c->n_deps > 1)
                qsort(k->deps, c->n_deps, sizeof(*k->deps), cmp_dep);
        if (r >= 0)
                r = canon_u64(sb, c->n_deps);
        for (size_t i = 0; r >= 0 && i < c->n_deps; i++)
                if (canon_str(sb, k->deps[i]->label) < 0 || canon_str(sb, k->deps[i]->name) < 0)
                        r = -ENOMEM;
        if (r < 0)
                return -ENOMEM;
        *ret = pm_hash64(sb->buf, sb->len, 0);
        return 0;
}

/*
 * Pack a list field into @sb (docs/model.md, "Packed lists"): each string followed by a NUL
 * byte, env as key, NUL, value, NUL. An empty list packs to nothing (stored as NULL).
 */
static int
pack(struct pm_strbuf *sb, const struct pm_crate *c, const struct pm_crate_field *f)
{
        pm_strbuf_reset(sb);
        if (f->type == PM_FIELD_ENV) {
                const struct pm_kvlist *l = &PM_CRATE_AT(c, f, struct pm_kvlist);

                for (size_t i = 0; i < l->n; i++)
                        if (pm_strbuf_add(sb, l->v[i].key, strlen(l->v[i].key) + 1) < 0 ||
                            pm_strbuf_add(sb, l->v[i].value, strlen(l->v[i].value) + 1) < 0)
                                return -ENOMEM;
        } else {
                const struct pm_strlist *l = &PM_CRATE_AT(c, f, struct pm_strlist);

                for (size_t i = 0; i < l->n; i++)
                        if (pm_strbuf_add(sb, l->v[i], strlen(l->v[i]) + 1) < 0)
                                return -ENOMEM;
        }
        return 0;
}

int
pm__codec_bind(struct pm__codec *k, sqlite3_stmt *st, const struct pm_crate *c, const char *source,
               uint64_t hash)
{
        const char *slash = strrchr(c->root_module, '/');
        int dirlen = slash && slash != c->root_module ? (int)(slash - c->root_module) : 1;
        int col = 1;

        for (size_t i = 0; i < PM_CRATE_N_FIELDS; i++) {
                const struct pm_crate_field *f = &pm_crate_fields[i];
                struct pm_strbuf *sb = &k->packed[i];

                switch (f->type) {
                case PM_FIELD_STR:
                case PM_FIELD_PATH:
                        (void)pm__bind_text(st, col++, PM_CRATE_AT(c, f, char *));
                        break;
                case PM_FIELD_KIND:
                        (void)pm__bind_text(
                                st, col++,
                                pm_crate_kind_name(PM_CRATE_AT(c, f, enum pm_crate_kind)));
                        break;
                case PM_FIELD_BOOL:
                        (void)sqlite3_bind_int(st, col++, PM_CRATE_AT(c, f, bool) ? 1 : 0);
                        break;
                case PM_FIELD_LIST:
                case PM_FIELD_ENV:
                        if (pack(sb, c, f) < 0)
                                return -ENOMEM;
                        if (sb->len > INT32_MAX)
                                return PM_ELIMIT;
                        if (sb->len == 0)
                                (void)sqlite3_bind_null(st, col++);
                        else
                                (void)sqlite3_bind_blob(st, col++, sb->buf, (int)sb->len,
                                                        SQLITE_STATIC);
                        break;
                case PM_FIELD_PATHS:
                        break;
                }
        }
        (void)pm__bind_text(st, col++, source);
        /* root_dir: the root module's directory (validated paths are absolute). */
        (void)sqlite3_bind_text(st, col++, c->root_module, dirlen, SQLITE_STATIC);
        (void)sqlite3_bind_int64(st, col, (sqlite3_int64)hash);
        return 0;
}

/* Unpack a list column into @c's field @f; PM_EDB when the blob is damaged. */
static int
unpack(struct pm_graph *g, struct pm_crate *c, const struct pm_crate_field *f, sqlite3_stmt *st,
       int col)
{
        const char *p = sqlite3_column_blob(st, col);
        size_t len = (size_t)sqlite3_column_bytes(st, col);
        const char *end;

        if (!p || len == 0)
                return 0;
        end = p + len; /* not before the NULL check: NULL + 0 is undefined */
        if (end[-1] != '\0')
                return PM_EDB;
        while (p < end) {
                const char *s = p, *v;

                p += strlen(p) + 1;
                if (f->type == PM_FIELD_ENV) {
                        if (p >= end)
                                return PM_EDB;
                        v = p;
                        p += strlen(p) + 1;
                        if (pm_kvlist_set(g, &PM_CRATE_AT(c, f, struct pm_kvlist), s, v) < 0)
                                return -ENOMEM;
                } else if (pm_strlist_push(g, &PM_CRATE_AT(c, f, struct pm_strlist), s) < 0) {
                        return -ENOMEM;
                }
        }
        return 0;
}

int
pm__codec_read(struct pm_graph *g, struct pm_crate *c, sqlite3_stmt *st, const char **ret_what)
{
        int col = 1, r;

        for (size_t i = 0; i < PM_CRATE_N_FIELDS; i++) {
                const struct pm_crate_field *f = &pm_crate_fields[i];
                const char *s;

                *ret_what = f->name;
                switch (f->type) {
                case PM_FIELD_STR:
                case PM_FIELD_PATH:
                        s = (const char *)sqlite3_column_text(st, col++);
                        if (!s)
                                break;
                        PM_CRATE_AT(c, f, char *) = pm_graph_strdup(g, s);
                        if (!PM_CRATE_AT(c, f, char *))
                                return -ENOMEM;
                        break;
                case PM_FIELD_KIND:
                        s = (const char *)sqlite3_column_text(st, col++);
                        if (pm_crate_kind_parse(s, &PM_CRATE_AT(c, f, enum pm_crate_kind)) < 0)
                                return PM_EDB;
                        break;
                case PM_FIELD_BOOL:
                        PM_CRATE_AT(c, f, bool) = sqlite3_column_int(st, col++) != 0;
                        break;
                case PM_FIELD_LIST:
                case PM_FIELD_ENV:
                        r = unpack(g, c, f, st, col++);
                        if (r < 0)
                                return r;
                        break;
                case PM_FIELD_PATHS:
                        break;
                }
        }
        return 0;
}

static void
bind_row(sqlite3_stmt *st, int col, int n_text, const struct pm__rows_row *row)
{
        (void)sqlite3_bind_int64(st, col, row->crate_id);
        (void)sqlite3_bind_int64(st, col + 1, row->pos);
        for (int k = 0; k < n_text; k++)
                (void)pm__bind_text(st, col + 2 + k, row->text[k]);
}

/* The multi-row INSERT of table @t, prepared on first use. */
static int
multi_stmt(struct pm__rows_writer *w, enum pm__rows t, struct pm_error *err)
{
        const struct pm__rows_table *tab = &pm__rows_tables[t];
        struct pm_strbuf sql = PM_STRBUF_INIT;
        int r, rc;

        if (w->batch[t].multi)
                return 0;
        r = pm_strbuf_addf(&sql, "INSERT INTO %s(%s) VALUES ", tab->table, tab->cols);
        for (int i = 0; r >= 0 && i < PM__ROWS_PER_INSERT; i++)
                r = pm_strbuf_adds(&sql, tab->n_text == 1 ? "(?,?,?)," : "(?,?,?,?),");
        if (r < 0) {
                pm_strbuf_release(&sql);
                return pm_error_set(err, -ENOMEM, "cannot apply: out of memory");
        }
        sql.buf[sql.len - 1] = '\0'; /* the last comma */
        rc = sqlite3_prepare_v3(w->idx->db, sql.buf, -1, SQLITE_PREPARE_PERSISTENT,
                                &w->batch[t].multi, NULL);
        pm_strbuf_release(&sql);
        if (rc != SQLITE_OK)
                return pm__index_sqlite_error(w->idx, rc, "cannot apply", err);
        return 0;
}

/* Write the pending rows of @t: one multi-row INSERT when the batch is full, else a row at a
 * time (the cached single-row statement). */
static int
flush_table(struct pm__rows_writer *w, enum pm__rows t, struct pm_error *err)
{
        const struct pm__rows_table *tab = &pm__rows_tables[t];
        int n_cols = 2 + tab->n_text;
        sqlite3_stmt *st;
        int r;

        if (w->batch[t].n == PM__ROWS_PER_INSERT) {
                r = multi_stmt(w, t, err);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < w->batch[t].n; i++)
                        bind_row(w->batch[t].multi, 1 + (int)i * n_cols, tab->n_text,
                                 &w->batch[t].rows[i]);
                w->batch[t].n = 0;
                return pm__index_step_done(w->idx, w->batch[t].multi, "cannot apply", err);
        }
        r = pm__index_stmt(w->idx, tab->insert, &st, err);
        for (size_t i = 0; r >= 0 && i < w->batch[t].n; i++) {
                bind_row(st, 1, tab->n_text, &w->batch[t].rows[i]);
                r = pm__index_step_done(w->idx, st, "cannot apply", err);
        }
        w->batch[t].n = 0;
        return r;
}

int
pm__rows_flush(struct pm__rows_writer *w, struct pm_error *err)
{
        int r = 0;

        for (int t = 0; r >= 0 && t < _PM__ROWS_MAX; t++)
                r = flush_table(w, (enum pm__rows)t, err);
        return r;
}

static int
add_row(struct pm__rows_writer *w, enum pm__rows t, int64_t id, size_t pos, const char *t0,
        const char *t1, struct pm_error *err)
{
        w->batch[t].rows[w->batch[t].n++] = (struct pm__rows_row){ id, (int64_t)pos, { t0, t1 } };
        return w->batch[t].n == PM__ROWS_PER_INSERT ? flush_table(w, t, err) : 0;
}

int
pm__rows_add(struct pm__rows_writer *w, int64_t id, const struct pm_crate *c, struct pm_error *err)
{
        int r = 0;

        for (int t = 0; r >= 0 && t < _PM__ROWS_MAX; t++) {
                const struct pm__rows_table *tab = &pm__rows_tables[t];

                if (tab->field < 0) {
                        for (size_t i = 0; r >= 0 && i < c->n_deps; i++)
                                r = add_row(w, (enum pm__rows)t, id, i, c->deps[i].label,
                                            c->deps[i].name, err);
                } else {
                        const struct pm_strlist *l =
                                &PM_CRATE_AT(c, &pm_crate_fields[tab->field], struct pm_strlist);

                        for (size_t i = 0; r >= 0 && i < l->n; i++)
                                r = add_row(w, (enum pm__rows)t, id, i, l->v[i], NULL, err);
                }
        }
        return r;
}

int
pm__rows_clear(struct pm__rows_writer *w, int64_t id, struct pm_error *err)
{
        for (int t = 0; t < _PM__ROWS_MAX; t++) {
                sqlite3_stmt *st;
                int r = pm__index_stmt(w->idx, pm__rows_tables[t].clear, &st, err);

                if (r < 0)
                        return r;
                (void)sqlite3_bind_int64(st, 1, id);
                r = pm__index_step_done(w->idx, st, "cannot apply", err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void
pm__rows_writer_release(struct pm__rows_writer *w)
{
        for (int t = 0; t < _PM__ROWS_MAX; t++) {
                (void)sqlite3_finalize(w->batch[t].multi);
                w->batch[t].multi = NULL;
                w->batch[t].n = 0;
        }
}
