/* SPDX-License-Identifier: MIT */
/* The model follows its configuration: the set of configured sources, and the removal of every
 * other source's crates, watched files and stamp inside an apply's transaction (apply.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "indexer-internal.h"

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
pm_index_set_sources(struct pm_index *idx, const char *const *sources, size_t n,
                     struct pm_error *err)
{
        char **v = NULL;

        if (sources) {
                v = pm_calloc(n + 1, sizeof(*v));
                if (!v)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                for (size_t i = 0; i < n; i++) {
                        v[i] = pm_strdup(sources[i]);
                        if (!v[i]) {
                                pm_labels_free(v);
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        }
                }
                qsort(v, n, sizeof(*v), cmp_str);
        }
        pm_labels_free(idx->sources);
        idx->sources = v;
        idx->n_sources = v ? n : 0;
        return 0;
}

static bool
configured(const struct pm_index *idx, const char *keep, const char *source)
{
        if (keep && strcmp(keep, source) == 0)
                return true;
        return bsearch(&source, idx->sources, idx->n_sources, sizeof(*idx->sources), cmp_str);
}

/* Report and delete the crates of @source. */
static int
drop_crates(struct pm_index *idx, const char *source, pm__prune_note note, void *ud, size_t *n,
            struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_SOURCE_CRATES, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, source);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                if (note(ud, (const char *)sqlite3_column_text(st, 0),
                         (const char *)sqlite3_column_text(st, 1)) < 0) {
                        (void)sqlite3_reset(st);
                        return pm_error_set(err, -ENOMEM, "cannot prune '%s': out of memory",
                                            source);
                }
                (*n)++;
        }
        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(idx, rc, "cannot prune", err);
        r = pm__index_stmt(idx, PM__STMT_SOURCE_DROP_CRATES, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, source);
        return pm__index_step_done(idx, st, "cannot prune", err);
}

/* Report and delete the watched files and the stamp of @source. */
static int
drop_files(struct pm_index *idx, const char *source, pm__prune_note note, void *ud, size_t *n,
           struct pm_error *err)
{
        sqlite3_stmt *st;
        char **files = NULL;
        int r;

        r = pm__index_stmt(idx, PM__STMT_BF_OF_SOURCE, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, source);
        r = pm__index_collect(idx, st, "cannot prune", &files, err);
        if (r < 0)
                return r;
        for (char **p = files; *p; p++) {
                if (note(ud, NULL, *p) < 0) {
                        r = pm_error_set(err, -ENOMEM, "cannot prune '%s': out of memory", source);
                        goto out;
                }
                (*n)++;
        }
        r = pm__index_stmt(idx, PM__STMT_SOURCE_DROP_BFS, &st, err);
        if (r < 0)
                goto out;
        (void)pm__bind_text(st, 1, source);
        r = pm__index_step_done(idx, st, "cannot prune", err);
        if (r < 0)
                goto out;
        r = pm__index_stmt(idx, PM__STMT_STAMP_CLEAR, &st, err);
        if (r < 0)
                goto out;
        (void)pm__bind_text(st, 1, source);
        r = pm__index_step_done(idx, st, "cannot prune", err);
out:
        pm_labels_free(files);
        return r;
}

int
pm__index_prune(struct pm_index *idx, const char *keep, pm__prune_note note, void *ud,
                size_t *ret_crates, size_t *ret_files, struct pm_error *err)
{
        sqlite3_stmt *st;
        char **all = NULL;
        int r;

        *ret_crates = *ret_files = 0;
        if (!idx->sources)
                return 0;
        r = pm__index_stmt(idx, PM__STMT_ALL_SOURCES, &st, err);
        if (r < 0)
                return r;
        r = pm__index_collect(idx, st, "cannot prune", &all, err);
        for (char **p = all; r >= 0 && *p; p++) {
                if (configured(idx, keep, *p))
                        continue;
                r = drop_crates(idx, *p, note, ud, ret_crates, err);
                if (r >= 0)
                        r = drop_files(idx, *p, note, ud, ret_files, err);
        }
        pm_labels_free(all);
        return r;
}
