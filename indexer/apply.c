/* SPDX-License-Identifier: MIT */
/* pm_index_apply(): write one adapter run into the model as a diff, in one transaction. Crates
 * are compared through a hash of their canonical form (codec.c) so unchanged ones are never
 * rewritten. Over 800 lines because reading the model's rows, diffing crates and build files
 * against the run, pruning and writing the stamp all work on one struct apply inside the one
 * transaction; the canonical form and its binds are already in codec.c. */
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
        const char **failed;  /* sorted g->failed */
        bool *keep;           /* [0, n_rows) rows kept although the graph lacks them, or NULL */
        struct strv labels;   /* for pm_change.labels */
        struct strv bfs;      /* for pm_change.build_files (sorted, deduplicated at the end) */
        size_t added, removed, modified, unchanged, kept, bf_changed;
        const char *stamp;               /* the source's new input stamp, or NULL to clear it */
        struct pm__codec codec;          /* hashes and binds crates */
        struct pm__rows_writer children; /* child rows of inserted crates not written yet */
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
        if (pm_grow(&s->v, &s->cap, s->n + 1, 16) < 0)
                return -ENOMEM;
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

static int
cmp_item(const void *a, const void *b)
{
        return strcmp(((const struct item *)a)->c->label, ((const struct item *)b)->c->label);
}

/* Step a write statement to completion and reset it. */
static int
step_done(struct apply *a, sqlite3_stmt *st, struct pm_error *err)
{
        return pm__index_step_done(a->idx, st, "cannot apply", err);
}

/* Bind the crate columns of PM__STMT_CRATE_INSERT / PM__STMT_CRATE_UPDATE. */
static int
bind_crate(struct apply *a, sqlite3_stmt *st, const struct item *it, struct pm_error *err)
{
        int r = pm__codec_bind(&a->codec, st, it->c, a->source, it->hash);

        if (r == -ENOMEM)
                return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
        if (r < 0)
                return pm_error_set(err, PM_ELIMIT, "cannot apply '%s': crate '%s' is too large",
                                    a->source, it->c->label);
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
        r = pm__rows_add(&a->children, id, it->c, err);
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
        (void)sqlite3_bind_int64(st, PM__CRATE_UPDATE_ID_COL, row->id);
        r = step_done(a, st, err);
        if (r >= 0)
                r = pm__rows_flush(&a->children, err);
        if (r >= 0)
                r = pm__rows_clear(&a->children, row->id, err);
        if (r >= 0)
                r = pm__rows_add(&a->children, row->id, it->c, err);
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

static bool
is_failed(const struct apply *a, const char *build_file)
{
        if (!build_file || a->g->failed.n == 0)
                return false;
        return bsearch(&build_file, a->failed, a->g->failed.n, sizeof(*a->failed), cmp_str);
}

static int
remove_crate(struct apply *a, const struct row *row, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        /* A partial graph only speaks for the crates of the build files it re-queried. */
        if (a->g->partial && !is_covered(a, row->build_file))
                return 0;
        /* The tool could not load its build file (or it is what such a crate depends on): the
         * graph cannot say it is gone. Its row and the edges to and from it stay as they were. */
        if (a->keep && a->keep[row - a->rows]) {
                a->kept++;
                return 0;
        }
        /* Pending rows are inserted crates', never this one's: written first all the same, so
         * the table never waits on rows of a crate id that could be reused. */
        r = pm__rows_flush(&a->children, err);
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

                if (pm_grow(&a->rows, &cap, a->n_rows + 1, 64) < 0)
                        goto oom;
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

static int
cmp_key_item(const void *key, const void *elem)
{
        return strcmp(key, ((const struct item *)elem)->c->label);
}

static int
cmp_key_row(const void *key, const void *elem)
{
        return strcmp(key, ((const struct row *)elem)->label);
}

/*
 * With failed build files: mark the rows to keep although the graph lacks them -- the crates of
 * those files, and, transitively, what they depend on that the graph lacks too (an external
 * crate only they used is not in the tool's output either), so the kept crates' edges resolve.
 */
static int
mark_kept(struct apply *a, struct pm_error *err)
{
        size_t *stack = NULL, top = 0, n = a->g->n_crates;
        char **deps = NULL;
        int r = 0;

        if (a->g->failed.n == 0 || a->n_rows == 0)
                return 0;
        a->keep = pm_calloc(a->n_rows, sizeof(*a->keep));
        stack = pm_malloc(a->n_rows * sizeof(*stack));
        if (!a->keep || !stack) {
                r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
                goto out;
        }
        for (size_t i = 0; i < a->n_rows; i++) {
                if (!is_failed(a, a->rows[i].build_file) ||
                    bsearch(a->rows[i].label, a->items, n, sizeof(*a->items), cmp_key_item))
                        continue;
                a->keep[i] = true;
                stack[top++] = i;
        }
        while (top > 0) {
                const struct row *from = &a->rows[stack[--top]];
                sqlite3_stmt *st;

                r = pm__index_stmt(a->idx, PM__STMT_DEPS, &st, err);
                if (r < 0)
                        goto out;
                (void)sqlite3_bind_int64(st, 1, from->id);
                (void)pm__bind_text(st, 2, from->label);
                r = pm__index_collect(a->idx, st, "cannot apply", &deps, err);
                if (r < 0)
                        goto out;
                for (char **d = deps; *d; d++) {
                        const struct row *row =
                                bsearch(*d, a->rows, a->n_rows, sizeof(*a->rows), cmp_key_row);

                        if (!row || a->keep[row - a->rows] ||
                            bsearch(*d, a->items, n, sizeof(*a->items), cmp_key_item))
                                continue;
                        a->keep[row - a->rows] = true;
                        stack[top++] = (size_t)(row - a->rows);
                }
                deps = pm_labels_free(deps);
        }
out:
        pm_labels_free(deps);
        pm_free(stack);
        return r;
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
                r = pm__rows_flush(&a->children, err);
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
        size_t i;
        int r;

        r = pm_graph_validate(g, true, err);
        if (r < 0)
                return pm_error_prefix(err, "cannot apply '%s'", a->source);

        a->items = pm_malloc((g->n_crates + 1) * sizeof(*a->items));
        a->covered = pm_malloc((g->covered.n + 1) * sizeof(*a->covered));
        a->failed = pm_malloc((g->failed.n + 1) * sizeof(*a->failed));
        if (!a->items || !a->covered || !a->failed)
                return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
        for (i = 0; i < g->n_crates; i++) {
                a->items[i].c = &g->crates[i];
                if (pm__crate_hash(&a->codec, &g->crates[i], &a->items[i].hash) < 0)
                        return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory",
                                            a->source);
        }
        /* Adapters mostly hand over crates in label order, which one pass proves (and then no
         * label can appear twice). */
        for (i = 1; i < g->n_crates; i++)
                if (cmp_item(&a->items[i - 1], &a->items[i]) >= 0)
                        break;
        if (i < g->n_crates) {
                qsort(a->items, g->n_crates, sizeof(*a->items), cmp_item);
                for (i = 1; i < g->n_crates; i++)
                        if (cmp_item(&a->items[i - 1], &a->items[i]) == 0)
                                return pm_error_set(err, PM_ESCHEMA,
                                                    "cannot apply '%s': crate '%s' appears twice",
                                                    a->source, a->items[i].c->label);
        }
        for (i = 0; i < g->covered.n; i++)
                a->covered[i] = g->covered.v[i];
        qsort(a->covered, g->covered.n, sizeof(*a->covered), cmp_str);
        for (i = 0; i < g->failed.n; i++)
                a->failed[i] = g->failed.v[i];
        qsort(a->failed, g->failed.n, sizeof(*a->failed), cmp_str);
        return 0;
}

/*
 * Record the source's input stamp and its graph's fingerprints (pm_graph.fingerprints, packed as
 * key NUL value NUL ..., read back by pm_index_source_fingerprints()) in the apply's transaction,
 * or forget them when there are neither: what is stored always describes the last apply.
 */
static int
write_stamp(struct apply *a, struct pm_error *err)
{
        const struct pm_kvlist *fp = &a->g->fingerprints;
        struct pm_strbuf packed = PM_STRBUF_INIT;
        sqlite3_stmt *st;
        int r;

        for (size_t i = 0; i < fp->n; i++) {
                const char *k = fp->v[i].key, *v = fp->v[i].value;

                if (pm_strbuf_add(&packed, k, strlen(k) + 1) < 0 ||
                    pm_strbuf_add(&packed, v, strlen(v) + 1) < 0) {
                        r = pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory",
                                         a->source);
                        goto out;
                }
        }
        if (packed.len > INT32_MAX) {
                r = pm_error_set(err, PM_ELIMIT, "cannot apply '%s': fingerprints too large",
                                 a->source);
                goto out;
        }
        r = pm__index_stmt(a->idx,
                           a->stamp || packed.len ? PM__STMT_STAMP_SET : PM__STMT_STAMP_CLEAR, &st,
                           err);
        if (r < 0)
                goto out;
        (void)pm__bind_text(st, 1, a->source);
        if (a->stamp)
                (void)sqlite3_bind_blob(st, 2, a->stamp, (int)strlen(a->stamp), SQLITE_STATIC);
        if (packed.len)
                (void)sqlite3_bind_blob(st, 3, packed.buf, (int)packed.len, SQLITE_STATIC);
        r = step_done(a, st, err);
out:
        pm_strbuf_release(&packed);
        return r;
}

/* pm__prune_note: a removed crate or watched file goes into the change report. */
static int
note_pruned(void *ud, const char *label, const char *build_file)
{
        struct apply *a = ud;

        if (label && strv_push(&a->labels, label) < 0)
                return -ENOMEM;
        return build_file ? strv_push(&a->bfs, build_file) : 0;
}

/* Remove the sources the configuration no longer names (sources.c), counted in the change. */
static int
prune(struct apply *a, const char *keep, struct pm_error *err)
{
        size_t crates, files;
        int r = pm__index_prune(a->idx, keep, note_pruned, a, &crates, &files, err);

        a->removed += crates;
        a->bf_changed += files;
        return r;
}

/* Hand the sorted change of @a to *@ret_change (or drop it). */
static int
finish_change(struct apply *a, struct pm_change *change, struct pm_error *err)
{
        strv_uniq(&a->labels);
        strv_uniq(&a->bfs);
        change->added = a->added;
        change->removed = a->removed;
        change->modified = a->modified;
        change->unchanged = a->unchanged;
        change->kept = a->kept;
        change->build_files_changed = a->bf_changed;
        if (strv_finish(&a->labels, &change->labels, &change->n_labels) < 0 ||
            strv_finish(&a->bfs, &change->build_files, &change->n_build_files) < 0)
                return pm_error_set(err, -ENOMEM, "cannot apply '%s': out of memory", a->source);
        return 0;
}

int
pm_index_prune(struct pm_index *idx, struct pm_change *ret_change, struct pm_error *err)
{
        struct apply a = { .idx = idx, .source = "(configuration)" };
        struct pm_change change = { 0 };
        int r;

        r = pm__index_exec(idx, PM__STMT_BEGIN_WRITE, err);
        if (r < 0)
                return r;
        r = prune(&a, NULL, err);
        if (r >= 0)
                r = bump_generation(&a, &change.generation, err);
        if (r >= 0)
                r = finish_change(&a, &change, err);
        if (r >= 0)
                r = pm__index_exec(idx, PM__STMT_COMMIT, err);
        if (r < 0) {
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
        } else if (ret_change) {
                *ret_change = change;
                change = (struct pm_change){ 0 };
        }
        pm_change_release(&change);
        strv_release(&a.labels);
        strv_release(&a.bfs);
        return r;
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
                           .codec = PM__CODEC_INIT,
                           .children = { .idx = idx } };
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
        r = prune(&a, source, err);
        if (r >= 0)
                r = read_rows(&a, err);
        if (r >= 0)
                r = mark_kept(&a, err);
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

        r = finish_change(&a, &change, err);
        if (r < 0)
                goto out;

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
        pm_free(a.failed);
        pm_free(a.keep);
        pm__codec_release(&a.codec);
        pm__rows_writer_release(&a.children);
        return r;
}
