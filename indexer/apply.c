/* SPDX-License-Identifier: MIT */
/* pm_index_apply(): write one adapter run into the model as a diff, in one transaction. Crates
 * are compared through a hash of their canonical form so unchanged ones are never rewritten. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "indexer-internal.h"

/* An apply adding at least this many crates to an empty model builds the indexes afterwards. */
#define BULK_MIN_CRATES 256

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/*
 * Child rows (sources, include dirs, deps) of inserted crates are written ROWS_PER_INSERT at a
 * time with one multi-row INSERT: a 10,000-crate model has some 60,000 of them, and a statement
 * step per row costs more than the row.
 */
#define ROWS_PER_INSERT 16

enum child_table {
        CHILD_SOURCES,
        CHILD_INCDIRS,
        CHILD_DEPS,
        _CHILD_MAX
};

struct child_row {
        int64_t crate_id;
        int64_t pos;
        const char *text[2]; /* borrowed from the graph */
};

struct child_batch {
        struct child_row rows[ROWS_PER_INSERT];
        size_t n;
        sqlite3_stmt *multi; /* ROWS_PER_INSERT rows, prepared on first use */
};

/* A growable list of pm_malloc'd strings (the change report is built from two of these). */
struct strv {
        char **v;
        size_t n;
        size_t cap;
};

/* One crate of the graph being applied, in label order. */
struct item {
        const struct pm_crate *c;
        uint64_t hash;
};

/* One crate of the source as stored before the apply, in label order. */
struct row {
        int64_t id;
        char *label;
        uint64_t hash;
        char *build_file;
};

struct apply {
        struct pm_index *idx;
        const char *source;
        const struct pm_graph *g;
        struct item *items; /* [0, g->n_crates) sorted by label */
        struct row *rows;   /* [0, n_rows) sorted by label */
        size_t n_rows;
        const char **covered; /* sorted g->covered */
        struct strv labels;   /* for pm_change.labels */
        struct strv bfs;      /* for pm_change.build_files (sorted, deduplicated at the end) */
        size_t added, removed, modified, unchanged, bf_changed;
        const char *stamp; /* the source's new input stamp, or NULL to clear it */
        /* Packed list columns of the crate being written (bound SQLITE_STATIC until its
         * statement is stepped); reused from crate to crate. */
        struct pm_strbuf cfgs, env, flags;
        struct child_batch child[_CHILD_MAX]; /* rows of inserted crates not written yet */
};

static const struct {
        const char *table;
        const char *cols;
        int n_text; /* text columns after crate_id and pos */
        enum pm__stmt single;
} child_tables[_CHILD_MAX] = {
        [CHILD_SOURCES] = { "crate_sources", "crate_id, pos, path", 1, PM__STMT_SOURCE_INSERT },
        [CHILD_INCDIRS] = { "crate_include_dirs", "crate_id, pos, path", 1,
                            PM__STMT_INCDIR_INSERT },
        [CHILD_DEPS] = { "deps", "crate_id, pos, dep_label, name", 2, PM__STMT_DEP_INSERT },
};

static void
strv_release(struct strv *s)
{
        for (size_t i = 0; i < s->n; i++)
                pm_free(s->v[i]);
        pm_free(s->v);
        *s = (struct strv){ 0 };
}

static int
strv_push(struct strv *s, const char *str)
{
        if (s->n == s->cap) {
                size_t ncap = s->cap ? s->cap * 2 : 16;
                char **nv = pm_realloc(s->v, ncap * sizeof(*nv));

                if (!nv)
                        return -ENOMEM;
                s->v = nv;
                s->cap = ncap;
        }
        s->v[s->n] = pm_strdup(str);
        if (!s->v[s->n])
                return -ENOMEM;
        s->n++;
        return 0;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort and drop duplicates. */
static void
strv_uniq(struct strv *s)
{
        size_t w = 0;

        if (s->n == 0)
                return;
        qsort(s->v, s->n, sizeof(*s->v), cmp_str);
        for (size_t i = 1; i < s->n; i++) {
                if (strcmp(s->v[i], s->v[w]) == 0)
                        pm_free(s->v[i]);
                else
                        s->v[++w] = s->v[i];
        }
        s->n = w + 1;
}

/* Hand @s over as a NULL-terminated array (the pm_change form). */
static int
strv_finish(struct strv *s, char ***ret, size_t *ret_n)
{
        char **v = pm_realloc(s->v, (s->n + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        v[s->n] = NULL;
        *ret = v;
        *ret_n = s->n;
        *s = (struct strv){ 0 };
        return 0;
}

void
pm_change_release(struct pm_change *change)
{
        if (!change)
                return;
        for (size_t i = 0; change->labels && i < change->n_labels; i++)
                pm_free(change->labels[i]);
        pm_free(change->labels);
        for (size_t i = 0; change->build_files && i < change->n_build_files; i++)
                pm_free(change->build_files[i]);
        pm_free(change->build_files);
        *change = (struct pm_change){ 0 };
}

/* FNV-1a over a canonical serialization: every string is tagged so NULL, "" and adjacent
 * strings cannot collide by concatenation; lists carry their length. */
static void
fnv_byte(uint64_t *h, unsigned char b)
{
        *h = (*h ^ b) * FNV_PRIME;
}

static void
fnv_str(uint64_t *h, const char *s)
{
        if (!s) {
                fnv_byte(h, 1);
                return;
        }
        fnv_byte(h, 2);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                *h = (*h ^ *p) * FNV_PRIME;
        fnv_byte(h, 0);
}

static void
fnv_u64(uint64_t *h, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                fnv_byte(h, (unsigned char)(v >> (8 * i)));
}

static void
fnv_strlist(uint64_t *h, const struct pm_strlist *l)
{
        fnv_u64(h, l->n);
        for (size_t i = 0; i < l->n; i++)
                fnv_str(h, l->v[i]);
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

/*
 * The crate's hash: every field that pm_crate_equal() compares. Deps are hashed in sorted order
 * because they compare as a set; @scratch holds at least c->n_deps pointers.
 */
static uint64_t
crate_hash(const struct pm_crate *c, const struct pm_dep **scratch)
{
        uint64_t h = FNV_OFFSET;

        fnv_str(&h, c->label);
        fnv_str(&h, c->build_system);
        fnv_str(&h, c->display_name);
        fnv_str(&h, c->crate_name);
        fnv_u64(&h, (uint64_t)c->kind);
        fnv_str(&h, c->edition);
        fnv_str(&h, c->root_module);
        fnv_str(&h, c->target);
        fnv_strlist(&h, &c->cfgs);
        fnv_u64(&h, c->env.n);
        for (size_t i = 0; i < c->env.n; i++) {
                fnv_str(&h, c->env.v[i].key);
                fnv_str(&h, c->env.v[i].value);
        }
        fnv_strlist(&h, &c->flags);
        fnv_strlist(&h, &c->sources);
        fnv_strlist(&h, &c->include_dirs);
        fnv_str(&h, c->build_file);
        fnv_str(&h, c->proc_macro_dylib);
        fnv_byte(&h, c->is_workspace_member ? 1 : 0);
        fnv_str(&h, c->note);
        for (size_t i = 0; i < c->n_deps; i++)
                scratch[i] = &c->deps[i];
        qsort(scratch, c->n_deps, sizeof(*scratch), cmp_dep);
        fnv_u64(&h, c->n_deps);
        for (size_t i = 0; i < c->n_deps; i++) {
                fnv_str(&h, scratch[i]->label);
                fnv_str(&h, scratch[i]->name);
        }
        return h;
}

static int
cmp_item(const void *a, const void *b)
{
        return strcmp(((const struct item *)a)->c->label, ((const struct item *)b)->c->label);
}

/* Step a write statement to completion and reset it. */
static int
step_done(struct apply *a, sqlite3_stmt *st, struct pm_error *err)
{
        int rc = sqlite3_step(st);

        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(a->idx, rc, "cannot apply", err);
        return 0;
}

/*
 * Pack a string list into @sb: each string followed by a NUL byte (docs/model.md). The strings
 * hold no NUL, so the packing is unambiguous; an empty list packs to nothing (stored as NULL).
 */
static int
pack_strlist(struct pm_strbuf *sb, const struct pm_strlist *l)
{
        pm_strbuf_reset(sb);
        for (size_t i = 0; i < l->n; i++)
                if (pm_strbuf_add(sb, l->v[i], strlen(l->v[i]) + 1) < 0)
                        return -ENOMEM;
        return 0;
}

/* Env packs as key, NUL, value, NUL for each variable in order. */
static int
pack_env(struct pm_strbuf *sb, const struct pm_kvlist *l)
{
        pm_strbuf_reset(sb);
        for (size_t i = 0; i < l->n; i++)
                if (pm_strbuf_add(sb, l->v[i].key, strlen(l->v[i].key) + 1) < 0 ||
                    pm_strbuf_add(sb, l->v[i].value, strlen(l->v[i].value) + 1) < 0)
                        return -ENOMEM;
        return 0;
}

static void
bind_packed(sqlite3_stmt *st, int col, const struct pm_strbuf *sb)
{
        if (sb->len == 0)
                (void)sqlite3_bind_null(st, col);
        else
                (void)sqlite3_bind_blob(st, col, sb->buf, (int)sb->len, SQLITE_STATIC);
}

/*
 * Bind the 18 crate columns of PM__STMT_CRATE_INSERT / PM__STMT_CRATE_UPDATE. The packed lists
 * live in @a's buffers until the next call.
 */
static int
bind_crate(struct apply *a, sqlite3_stmt *st, const struct item *it, struct pm_error *err)
{
        const char *source = a->source;
        const struct pm_crate *c = it->c;
        const char *slash = strrchr(c->root_module, '/');
        int dirlen = slash && slash != c->root_module ? (int)(slash - c->root_module) : 1;

        (void)pm__bind_text(st, 1, c->label);
        (void)pm__bind_text(st, 2, source);
        (void)pm__bind_text(st, 3, c->build_system);
        (void)pm__bind_text(st, 4, c->display_name);
        (void)pm__bind_text(st, 5, c->crate_name);
        (void)pm__bind_text(st, 6, pm_crate_kind_name(c->kind));
        (void)pm__bind_text(st, 7, c->edition);
        (void)pm__bind_text(st, 8, c->root_module);
        /* root_dir: the root module's directory (validated paths are absolute). */
        (void)sqlite3_bind_text(st, 9, c->root_module, dirlen, SQLITE_STATIC);
        (void)pm__bind_text(st, 10, c->target);
        (void)pm__bind_text(st, 11, c->build_file);
        (void)pm__bind_text(st, 12, c->proc_macro_dylib);
        (void)sqlite3_bind_int(st, 13, c->is_workspace_member ? 1 : 0);
        (void)pm__bind_text(st, 14, c->note);
        (void)sqlite3_bind_int64(st, 15, (sqlite3_int64)it->hash);
        if (pack_strlist(&a->cfgs, &c->cfgs) < 0 || pack_env(&a->env, &c->env) < 0 ||
            pack_strlist(&a->flags, &c->flags) < 0)
                return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
        if (a->cfgs.len > INT32_MAX || a->env.len > INT32_MAX || a->flags.len > INT32_MAX)
                return pm_error_set(err, PM_ELIMIT, "cannot apply '%s': crate '%s' is too large",
                                    a->source, c->label);
        bind_packed(st, 16, &a->cfgs);
        bind_packed(st, 17, &a->env);
        bind_packed(st, 18, &a->flags);
        return 0;
}

static void
bind_child_row(sqlite3_stmt *st, int col, int n_text, const struct child_row *row)
{
        (void)sqlite3_bind_int64(st, col, row->crate_id);
        (void)sqlite3_bind_int64(st, col + 1, row->pos);
        for (int k = 0; k < n_text; k++)
                (void)pm__bind_text(st, col + 2 + k, row->text[k]);
}

/* Write the pending rows of @which: one multi-row INSERT when the batch is full, else a row at
 * a time (the cached single-row statement). */
static int
flush_children(struct apply *a, enum child_table which, struct pm_error *err)
{
        struct child_batch *b = &a->child[which];
        int n_cols = 2 + child_tables[which].n_text;
        sqlite3_stmt *st;
        int r, rc;

        if (b->n == ROWS_PER_INSERT) {
                if (!b->multi) {
                        struct pm_strbuf sql = PM_STRBUF_INIT;

                        r = pm_strbuf_addf(&sql, "INSERT INTO %s(%s) VALUES ",
                                           child_tables[which].table, child_tables[which].cols);
                        for (int i = 0; r >= 0 && i < ROWS_PER_INSERT; i++)
                                r = pm_strbuf_adds(&sql, n_cols == 3 ? "(?,?,?)," : "(?,?,?,?),");
                        if (r < 0) {
                                pm_strbuf_release(&sql);
                                return pm_error_set(err, -ENOMEM,
                                                    "cannot apply '%s': out of memory", a->source);
                        }
                        sql.buf[sql.len - 1] = '\0'; /* the last comma */
                        rc = sqlite3_prepare_v3(a->idx->db, sql.buf, -1, SQLITE_PREPARE_PERSISTENT,
                                                &b->multi, NULL);
                        pm_strbuf_release(&sql);
                        if (rc != SQLITE_OK)
                                return pm__index_sqlite_error(a->idx, rc, "cannot apply", err);
                }
                for (size_t i = 0; i < b->n; i++)
                        bind_child_row(b->multi, 1 + (int)i * n_cols, child_tables[which].n_text,
                                       &b->rows[i]);
                b->n = 0;
                return step_done(a, b->multi, err);
        }
        r = pm__index_stmt(a->idx, child_tables[which].single, &st, err);
        for (size_t i = 0; r >= 0 && i < b->n; i++) {
                bind_child_row(st, 1, child_tables[which].n_text, &b->rows[i]);
                r = step_done(a, st, err);
        }
        b->n = 0;
        return r;
}

static int
flush_all_children(struct apply *a, struct pm_error *err)
{
        int r = 0;

        for (int t = 0; r >= 0 && t < _CHILD_MAX; t++)
                r = flush_children(a, (enum child_table)t, err);
        return r;
}

static int
add_child(struct apply *a, enum child_table which, int64_t id, size_t pos, const char *t0,
          const char *t1, struct pm_error *err)
{
        struct child_batch *b = &a->child[which];

        b->rows[b->n++] = (struct child_row){ id, (int64_t)pos, { t0, t1 } };
        return b->n == ROWS_PER_INSERT ? flush_children(a, which, err) : 0;
}

/* Queue the child rows of crate @id (written by the next flush, at the latest the apply's). */
static int
write_children(struct apply *a, int64_t id, const struct pm_crate *c, struct pm_error *err)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < c->sources.n; i++)
                r = add_child(a, CHILD_SOURCES, id, i, c->sources.v[i], NULL, err);
        for (size_t i = 0; r >= 0 && i < c->include_dirs.n; i++)
                r = add_child(a, CHILD_INCDIRS, id, i, c->include_dirs.v[i], NULL, err);
        for (size_t i = 0; r >= 0 && i < c->n_deps; i++)
                r = add_child(a, CHILD_DEPS, id, i, c->deps[i].label, c->deps[i].name, err);
        return r;
}

static int
clear_children(struct apply *a, int64_t id, struct pm_error *err)
{
        static const enum pm__stmt clears[] = {
                PM__STMT_SOURCE_CLEAR,
                PM__STMT_INCDIR_CLEAR,
                PM__STMT_DEP_CLEAR,
        };

        for (size_t i = 0; i < sizeof(clears) / sizeof(clears[0]); i++) {
                sqlite3_stmt *st;
                int r = pm__index_stmt(a->idx, clears[i], &st, err);

                if (r < 0)
                        return r;
                (void)sqlite3_bind_int64(st, 1, id);
                r = step_done(a, st, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int
note_change(struct apply *a, const char *label, const char *bf1, const char *bf2,
            struct pm_error *err)
{
        if (strv_push(&a->labels, label) < 0 || (bf1 && strv_push(&a->bfs, bf1) < 0) ||
            (bf2 && strv_push(&a->bfs, bf2) < 0))
                return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
        return 0;
}

static int
insert_crate(struct apply *a, const struct item *it, struct pm_error *err)
{
        sqlite3_stmt *st;
        int64_t id;
        int r, rc;

        r = pm__index_stmt(a->idx, PM__STMT_CRATE_INSERT, &st, err);
        if (r < 0)
                return r;
        r = bind_crate(a, st, it, err);
        if (r < 0) {
                (void)sqlite3_reset(st);
                return r;
        }
        rc = sqlite3_step(st);
        (void)sqlite3_reset(st);
        if (rc == SQLITE_CONSTRAINT_UNIQUE) {
                char *owner = NULL;

                r = pm__index_stmt(a->idx, PM__STMT_CRATE_OWNER, &st, err);
                if (r < 0)
                        return r;
                (void)pm__bind_text(st, 1, it->c->label);
                if (sqlite3_step(st) == SQLITE_ROW)
                        owner = pm_strdup((const char *)sqlite3_column_text(st, 0));
                (void)sqlite3_reset(st);
                r = pm_error_set(err, PM_EEXISTS,
                                 "cannot apply '%s': crate '%s' already belongs to '%s'", a->source,
                                 it->c->label, owner ? owner : "another source");
                pm_free(owner);
                return r;
        }
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(a->idx, rc, "cannot apply", err);
        id = sqlite3_last_insert_rowid(a->idx->db);
        r = write_children(a, id, it->c, err);
        if (r < 0)
                return r;
        a->added++;
        return note_change(a, it->c->label, it->c->build_file, NULL, err);
}

static int
update_crate(struct apply *a, const struct row *row, const struct item *it, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        if (row->hash == it->hash) {
                a->unchanged++;
                return 0;
        }
        r = pm__index_stmt(a->idx, PM__STMT_CRATE_UPDATE, &st, err);
        if (r < 0)
                return r;
        r = bind_crate(a, st, it, err);
        if (r < 0) {
                (void)sqlite3_reset(st);
                return r;
        }
        (void)sqlite3_bind_int64(st, 19, row->id);
        r = step_done(a, st, err);
        if (r >= 0)
                r = flush_all_children(a, err);
        if (r >= 0)
                r = clear_children(a, row->id, err);
        if (r >= 0)
                r = write_children(a, row->id, it->c, err);
        if (r < 0)
                return r;
        a->modified++;
        return note_change(a, it->c->label, row->build_file, it->c->build_file, err);
}

static bool
is_covered(const struct apply *a, const char *build_file)
{
        if (!build_file || a->g->covered.n == 0)
                return false;
        return bsearch(&build_file, a->covered, a->g->covered.n, sizeof(*a->covered), cmp_str);
}

static int
remove_crate(struct apply *a, const struct row *row, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        /* A partial graph only speaks for the crates of the build files it re-queried. */
        if (a->g->partial && !is_covered(a, row->build_file))
                return 0;
        /* Pending rows are inserted crates', never this one's: written first all the same, so
         * the table never waits on rows of a crate id that could be reused. */
        r = flush_all_children(a, err);
        if (r < 0)
                return r;
        r = pm__index_stmt(a->idx, PM__STMT_CRATE_DELETE, &st, err);
        if (r < 0)
                return r;
        (void)sqlite3_bind_int64(st, 1, row->id);
        r = step_done(a, st, err);
        if (r < 0)
                return r;
        a->removed++;
        return note_change(a, row->label, row->build_file, NULL, err);
}

static void
free_rows(struct apply *a)
{
        for (size_t i = 0; i < a->n_rows; i++) {
                pm_free(a->rows[i].label);
                pm_free(a->rows[i].build_file);
        }
        pm_free(a->rows);
        a->rows = NULL;
        a->n_rows = 0;
}

/* Append the rows (id, label, hash, build_file) @st yields to a->rows, and reset it. */
static int
collect_rows(struct apply *a, sqlite3_stmt *st, size_t *ret_cap, struct pm_error *err)
{
        size_t cap = *ret_cap;
        int rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct row *row;
                const char *bf = (const char *)sqlite3_column_text(st, 3);

                if (a->n_rows == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        struct row *nr = pm_realloc(a->rows, ncap * sizeof(*nr));

                        if (!nr)
                                goto oom;
                        a->rows = nr;
                        cap = ncap;
                }
                row = &a->rows[a->n_rows];
                *row = (struct row){ .id = sqlite3_column_int64(st, 0),
                                     .hash = (uint64_t)sqlite3_column_int64(st, 2) };
                row->label = pm_strdup((const char *)sqlite3_column_text(st, 1));
                row->build_file = bf ? pm_strdup(bf) : NULL;
                a->n_rows++;
                if (!row->label || (bf && !row->build_file))
                        goto oom;
        }
        *ret_cap = cap;
        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(a->idx, rc, "cannot apply", err);
        return 0;
oom:
        *ret_cap = cap;
        (void)sqlite3_reset(st);
        return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
}

static int
cmp_row(const void *x, const void *y)
{
        return strcmp(((const struct row *)x)->label, ((const struct row *)y)->label);
}

/*
 * Read (id, label, hash, build_file) of the crates of @a->source the diff can touch, sorted by
 * label: all of them for a complete graph. A partial graph touches only the crates of its
 * covered build files and those it names, so an incremental update costs in proportion to its
 * size, not to the model's.
 */
static int
read_rows(struct apply *a, struct pm_error *err)
{
        const struct pm_graph *g = a->g;
        sqlite3_stmt *st;
        size_t cap = 0, w = 0;
        int r;

        if (!g->partial) {
                r = pm__index_stmt(a->idx, PM__STMT_SOURCE_ROWS, &st, err);
                if (r < 0)
                        return r;
                (void)pm__bind_text(st, 1, a->source);
                return collect_rows(a, st, &cap, err);
        }
        for (size_t i = 0; i < g->covered.n + g->n_crates; i++) {
                bool by_bf = i < g->covered.n;

                r = pm__index_stmt(
                        a->idx, by_bf ? PM__STMT_SOURCE_ROWS_OF_BF : PM__STMT_SOURCE_ROWS_OF_LABEL,
                        &st, err);
                if (r < 0)
                        return r;
                (void)pm__bind_text(st, 1, a->source);
                (void)pm__bind_text(st, 2,
                                    by_bf ? g->covered.v[i] : g->crates[i - g->covered.n].label);
                r = collect_rows(a, st, &cap, err);
                if (r < 0)
                        return r;
        }
        /* A crate can come up by build file and by label: keep one row per label. */
        if (a->n_rows > 1)
                qsort(a->rows, a->n_rows, sizeof(*a->rows), cmp_row);
        for (size_t i = 0; i < a->n_rows; i++) {
                if (w > 0 && strcmp(a->rows[w - 1].label, a->rows[i].label) == 0) {
                        pm_free(a->rows[i].label);
                        pm_free(a->rows[i].build_file);
                        continue;
                }
                a->rows[w++] = a->rows[i];
        }
        a->n_rows = w;
        return 0;
}

/* True when the whole model is empty (not just this source). */
static int
model_empty(struct apply *a, bool *ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(a->idx, PM__STMT_COUNT, &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0) == 0;
        else
                r = pm__index_sqlite_error(a->idx, rc, "cannot apply", err);
        (void)sqlite3_reset(st);
        return r;
}

/* Walk the stored rows and the graph, both sorted by label, like a merge. */
static int
diff_crates(struct apply *a, struct pm_error *err)
{
        size_t i = 0, j = 0, n = a->g->n_crates;
        bool bulk = false;
        int r = 0;

        /* Filling an empty model (the first refresh): build the indexes once at the end. */
        if (a->n_rows == 0 && n >= BULK_MIN_CRATES) {
                r = model_empty(a, &bulk, err);
                if (r >= 0 && bulk)
                        r = pm__index_drop_indexes(a->idx, err);
        }

        while (r >= 0 && (i < n || j < a->n_rows)) {
                int c;

                if (i == n)
                        c = 1;
                else if (j == a->n_rows)
                        c = -1;
                else
                        c = strcmp(a->items[i].c->label, a->rows[j].label);
                if (c < 0)
                        r = insert_crate(a, &a->items[i++], err);
                else if (c > 0)
                        r = remove_crate(a, &a->rows[j++], err);
                else
                        r = update_crate(a, &a->rows[j++], &a->items[i++], err);
        }
        if (r >= 0)
                r = flush_all_children(a, err);
        if (r >= 0 && bulk)
                r = pm__index_create_indexes(a->idx, err);
        return r;
}

/*
 * Extend the source's watch set with a partial graph's files (stored files stay), reporting the
 * new ones; without reading the stored set.
 */
static int
add_build_files(struct apply *a, struct pm_error *err)
{
        const struct pm_strlist *nl = &a->g->build_files;
        sqlite3_stmt *ins;
        int r;

        for (size_t k = 0; k < nl->n; k++) {
                r = pm__index_stmt(a->idx, PM__STMT_BF_INSERT, &ins, err);
                if (r < 0)
                        return r;
                (void)pm__bind_text(ins, 1, a->source);
                (void)pm__bind_text(ins, 2, nl->v[k]);
                r = step_done(a, ins, err);
                if (r < 0)
                        return r;
                if (sqlite3_changes(a->idx->db) == 0)
                        continue;
                if (strv_push(&a->bfs, nl->v[k]) < 0)
                        return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory",
                                            a->source);
                a->bf_changed++;
        }
        return 0;
}

/*
 * Replace (complete graph) or extend (partial graph) the source's watch set. Both the stored
 * set and the new one are walked sorted; every path added or dropped is reported.
 */
static int
diff_build_files(struct apply *a, struct pm_error *err)
{
        const struct pm_strlist *nl = &a->g->build_files;
        sqlite3_stmt *st = NULL, *ins = NULL, *del = NULL;
        char **old = NULL;
        const char **nv = NULL;
        size_t n_old, n_new = 0, i = 0, j = 0;
        int r;

        if (a->g->partial)
                return add_build_files(a, err);
        r = pm__index_stmt(a->idx, PM__STMT_BF_OF_SOURCE, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, a->source);
        r = pm__index_collect(a->idx, st, "cannot apply", &old, err);
        if (r < 0)
                return r;
        n_old = pm_labels_count(old);

        nv = pm_malloc((nl->n + 1) * sizeof(*nv));
        if (!nv) {
                r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
                goto out;
        }
        for (size_t k = 0; k < nl->n; k++)
                nv[k] = nl->v[k];
        qsort(nv, nl->n, sizeof(*nv), cmp_str);
        for (size_t k = 0; k < nl->n; k++)
                if (n_new == 0 || strcmp(nv[n_new - 1], nv[k]) != 0)
                        nv[n_new++] = nv[k];

        r = pm__index_stmt(a->idx, PM__STMT_BF_INSERT, &ins, err);
        if (r >= 0)
                r = pm__index_stmt(a->idx, PM__STMT_BF_DELETE, &del, err);
        while (r >= 0 && (i < n_old || j < n_new)) {
                int c;

                if (i == n_old)
                        c = 1;
                else if (j == n_new)
                        c = -1;
                else
                        c = strcmp(old[i], nv[j]);
                if (c == 0) {
                        i++;
                        j++;
                        continue;
                }
                st = c < 0 ? del : ins;
                (void)pm__bind_text(st, 1, a->source);
                (void)pm__bind_text(st, 2, c < 0 ? old[i] : nv[j]);
                r = step_done(a, st, err);
                if (r >= 0 && strv_push(&a->bfs, c < 0 ? old[i] : nv[j]) < 0)
                        r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory",
                                         a->source);
                a->bf_changed++;
                if (c < 0)
                        i++;
                else
                        j++;
        }
out:
        pm_free(nv);
        pm_labels_free(old);
        return r;
}

static int
bump_generation(struct apply *a, uint64_t *ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        uint64_t gen;
        int r;

        r = pm__index_read_generation(a->idx, &gen, err);
        if (r < 0)
                return r;
        if (a->added + a->removed + a->modified + a->bf_changed == 0) {
                *ret = gen;
                return 0;
        }
        gen++;
        r = pm__index_stmt(a->idx, PM__STMT_META_SET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, PM__INDEX_META_GENERATION);
        (void)sqlite3_bind_int64(st, 2, (sqlite3_int64)gen);
        r = step_done(a, st, err);
        if (r < 0)
                return r;
        *ret = gen;
        return 0;
}

/* Validate, hash and sort the graph before any database work. */
static int
prepare_items(struct apply *a, struct pm_error *err)
{
        const struct pm_graph *g = a->g;
        const struct pm_dep **scratch = NULL;
        size_t max_deps = 0, i;
        int r;

        r = pm_graph_validate(g, true, err);
        if (r < 0)
                return pm_error_prefix(err, "cannot apply '%s'", a->source);

        a->items = pm_malloc((g->n_crates + 1) * sizeof(*a->items));
        a->covered = pm_malloc((g->covered.n + 1) * sizeof(*a->covered));
        for (i = 0; i < g->n_crates; i++)
                if (g->crates[i].n_deps > max_deps)
                        max_deps = g->crates[i].n_deps;
        scratch = pm_malloc((max_deps + 1) * sizeof(*scratch));
        if (!a->items || !a->covered || !scratch) {
                r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
                goto out;
        }
        for (i = 0; i < g->n_crates; i++)
                a->items[i] = (struct item){ .c = &g->crates[i],
                                             .hash = crate_hash(&g->crates[i], scratch) };
        /* Adapters mostly hand over crates in label order, which one pass proves (and then no
         * label can appear twice). */
        for (i = 1; i < g->n_crates; i++)
                if (cmp_item(&a->items[i - 1], &a->items[i]) >= 0)
                        break;
        if (i < g->n_crates) {
                qsort(a->items, g->n_crates, sizeof(*a->items), cmp_item);
                for (i = 1; i < g->n_crates; i++)
                        if (cmp_item(&a->items[i - 1], &a->items[i]) == 0) {
                                r = pm_error_set(err, PM_ESCHEMA,
                                                 "cannot apply '%s': crate '%s' appears twice",
                                                 a->source, a->items[i].c->label);
                                goto out;
                        }
        }
        for (i = 0; i < g->covered.n; i++)
                a->covered[i] = g->covered.v[i];
        qsort(a->covered, g->covered.n, sizeof(*a->covered), cmp_str);
out:
        pm_free(scratch);
        return r;
}

/* Record (or, with a NULL stamp, forget) the source's input stamp in the apply's transaction. */
static int
write_stamp(struct apply *a, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        r = pm__index_stmt(a->idx, a->stamp ? PM__STMT_STAMP_SET : PM__STMT_STAMP_CLEAR, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, a->source);
        if (a->stamp)
                (void)sqlite3_bind_blob(st, 2, a->stamp, (int)strlen(a->stamp), SQLITE_STATIC);
        return step_done(a, st, err);
}

int
pm_index_apply(struct pm_index *idx, const char *source, const struct pm_graph *g,
               struct pm_change *ret_change, struct pm_error *err)
{
        return pm_index_apply_stamped(idx, source, g, NULL, ret_change, err);
}

int
pm_index_apply_stamped(struct pm_index *idx, const char *source, const struct pm_graph *g,
                       const char *stamp, struct pm_change *ret_change, struct pm_error *err)
{
        struct apply a = { .idx = idx,
                           .source = source,
                           .g = g,
                           .stamp = stamp,
                           .cfgs = PM_STRBUF_INIT,
                           .env = PM_STRBUF_INIT,
                           .flags = PM_STRBUF_INIT };
        struct pm_change change = { 0 };
        bool in_tx = false;
        int r;

        if (!source || !*source)
                return pm_error_set(err, -EINVAL, "cannot apply: empty source name");
        if (stamp && strlen(stamp) > INT32_MAX)
                return pm_error_set(err, PM_ELIMIT, "cannot apply '%s': input stamp too large",
                                    source);
        r = prepare_items(&a, err);
        if (r < 0)
                goto out;

        r = pm__index_exec(idx, PM__STMT_BEGIN_WRITE, err);
        if (r < 0)
                goto out;
        in_tx = true;
        r = read_rows(&a, err);
        if (r >= 0)
                r = diff_crates(&a, err);
        if (r >= 0)
                r = diff_build_files(&a, err);
        if (r >= 0)
                r = bump_generation(&a, &change.generation, err);
        if (r >= 0)
                r = write_stamp(&a, err);
        if (r < 0)
                goto out;

        strv_uniq(&a.labels);
        strv_uniq(&a.bfs);
        change.added = a.added;
        change.removed = a.removed;
        change.modified = a.modified;
        change.unchanged = a.unchanged;
        change.build_files_changed = a.bf_changed;
        if (strv_finish(&a.labels, &change.labels, &change.n_labels) < 0 ||
            strv_finish(&a.bfs, &change.build_files, &change.n_build_files) < 0) {
                r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", source);
                goto out;
        }

        r = pm__index_exec(idx, PM__STMT_COMMIT, err);
        if (r < 0)
                goto out;
        in_tx = false;
        if (ret_change)
                *ret_change = change;
        else
                pm_change_release(&change);
        change = (struct pm_change){ 0 };
out:
        if (in_tx)
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
        pm_change_release(&change);
        strv_release(&a.labels);
        strv_release(&a.bfs);
        free_rows(&a);
        pm_free(a.items);
        pm_free(a.covered);
        pm_strbuf_release(&a.cfgs);
        pm_strbuf_release(&a.env);
        pm_strbuf_release(&a.flags);
        for (int t = 0; t < _CHILD_MAX; t++)
                (void)sqlite3_finalize(a.child[t].multi);
        return r;
}
