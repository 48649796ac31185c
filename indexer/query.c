/* SPDX-License-Identifier: MIT */
/* Label queries over the model: owners of a file, closures, (reverse) dependencies, names,
 * prefix search and the watch set. Each returns a sorted, NULL-terminated label array. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "indexer-internal.h"

/* One-statement query binding @arg (may be NULL) to ?1. */
static int
query1(struct pm_index *idx, enum pm__stmt which, const char *arg, const char *what, char ***ret,
       struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        r = pm__index_stmt(idx, which, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, arg);
        return pm__index_collect(idx, st, what, ret, err);
}

/*
 * Files are matched by declared source or root module first. Failing that, walk up the file's
 * ancestors from the deepest: the first directory that is some crate's include dir (or, for a
 * crate without include dirs, its root module's directory) names the owners.
 */
int
pm_index_crates_for_file(struct pm_index *idx, const char *abs_file, char ***ret,
                         struct pm_error *err)
{
        char **labels = NULL;
        char *dir = NULL;
        sqlite3_stmt *st;
        size_t len;
        int r;

        if (!abs_file || abs_file[0] != '/')
                return pm_error_set(err, -EINVAL, "cannot find crates for '%s': not absolute",
                                    abs_file ? abs_file : "(null)");
        r = query1(idx, PM__STMT_FOR_FILE, abs_file, "cannot find crates for file", &labels, err);
        if (r < 0)
                return r;
        if (labels[0])
                goto done;

        dir = pm_strdup(abs_file);
        if (!dir) {
                r = pm_error_set(err, -ENOMEM, "cannot find crates for '%s': out of memory",
                                 abs_file);
                goto out;
        }
        len = strlen(dir);
        r = pm__index_stmt(idx, PM__STMT_FOR_DIR, &st, err);
        if (r < 0)
                goto out;
        /* The file itself may be an include dir (a directory query): start with it. */
        for (;;) {
                (void)sqlite3_reset(st);
                (void)sqlite3_bind_text(st, 1, dir, (int)len, SQLITE_STATIC);
                labels = pm_labels_free(labels);
                r = pm__index_collect(idx, st, "cannot find crates for file", &labels, err);
                if (r < 0 || labels[0] || len == 1)
                        break;
                while (len > 1 && dir[len - 1] != '/')
                        len--;
                if (len > 1)
                        len--; /* drop the '/' too, except for the root "/" */
        }
        if (r < 0)
                goto out;
done:
        *ret = pm_steal_ptr(&labels);
out:
        pm_free(dir);
        pm_labels_free(labels);
        return r;
}

int
pm_index_crates_for_build_file(struct pm_index *idx, const char *abs_build_file, char ***ret,
                               struct pm_error *err)
{
        return query1(idx, PM__STMT_FOR_BUILD_FILE, abs_build_file,
                      "cannot find crates for build file", ret, err);
}

int
pm_index_closure(struct pm_index *idx, const char *const *labels, size_t n, char ***ret,
                 struct pm_error *err)
{
        sqlite3_stmt *st;
        int r;

        /* One read transaction: the label check and the closure see the same snapshot. */
        r = pm__index_exec(idx, PM__STMT_BEGIN_READ, err);
        if (r < 0)
                return r;
        r = pm__index_fill_q(idx, labels, n, err);
        if (r >= 0)
                r = pm__index_check_q(idx, err);
        if (r >= 0)
                r = pm__index_stmt(idx, PM__STMT_CLOSURE, &st, err);
        if (r >= 0)
                r = pm__index_collect(idx, st, "cannot compute closure", ret, err);
        if (r < 0) {
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
                return r;
        }
        return pm__index_exec(idx, PM__STMT_COMMIT, err);
}

/* The id of crate @label, PM_ENOTFOUND if unknown. */
static int
crate_id(struct pm_index *idx, const char *label, int64_t *ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_EXISTS, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, label);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *ret = sqlite3_column_int64(st, 0);
        else if (rc == SQLITE_DONE)
                r = pm_error_set(err, PM_ENOTFOUND, "unknown crate '%s'", label);
        else
                r = pm__index_sqlite_error(idx, rc, "cannot find crate", err);
        (void)sqlite3_reset(st);
        return r;
}

/* deps/rdeps: ?1 = the crate's id, ?2 = its label. Unknown labels are PM_ENOTFOUND. */
static int
dep_query(struct pm_index *idx, enum pm__stmt which, const char *label, char ***ret,
          struct pm_error *err)
{
        sqlite3_stmt *st;
        int64_t id = 0;
        int r;

        if (!label)
                return pm_error_set(err, -EINVAL, "cannot query dependencies: no label");
        r = pm__index_exec(idx, PM__STMT_BEGIN_READ, err);
        if (r < 0)
                return r;
        r = crate_id(idx, label, &id, err);
        if (r >= 0)
                r = pm__index_stmt(idx, which, &st, err);
        if (r >= 0) {
                (void)sqlite3_bind_int64(st, 1, id);
                (void)pm__bind_text(st, 2, label);
                r = pm__index_collect(idx, st, "cannot query dependencies", ret, err);
        }
        if (r < 0) {
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
                return r;
        }
        return pm__index_exec(idx, PM__STMT_COMMIT, err);
}

int
pm_index_deps(struct pm_index *idx, const char *label, bool transitive, char ***ret,
              struct pm_error *err)
{
        return dep_query(idx, transitive ? PM__STMT_DEPS_TRANSITIVE : PM__STMT_DEPS, label, ret,
                         err);
}

int
pm_index_rdeps(struct pm_index *idx, const char *label, bool transitive, char ***ret,
               struct pm_error *err)
{
        return dep_query(idx, transitive ? PM__STMT_RDEPS_TRANSITIVE : PM__STMT_RDEPS, label, ret,
                         err);
}

int
pm_index_lookup_name(struct pm_index *idx, const char *name, char ***ret, struct pm_error *err)
{
        return query1(idx, PM__STMT_LOOKUP_NAME, name, "cannot look up name", ret, err);
}

int
pm_index_search(struct pm_index *idx, const char *prefix, size_t limit, char ***ret,
                struct pm_error *err)
{
        sqlite3_stmt *st;
        char *upper;
        int r;

        if (!prefix)
                prefix = "";
        upper = pm_asprintf("%s\xff", prefix);
        if (!upper)
                return pm_error_set(err, -ENOMEM, "cannot search '%s': out of memory", prefix);
        r = pm__index_stmt(idx, PM__STMT_SEARCH, &st, err);
        if (r >= 0) {
                (void)pm__bind_text(st, 1, prefix);
                (void)pm__bind_text(st, 2, upper);
                (void)sqlite3_bind_int64(st, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
                r = pm__index_collect(idx, st, "cannot search", ret, err);
        }
        pm_free(upper);
        return r;
}

int
pm_index_all_labels(struct pm_index *idx, char ***ret, struct pm_error *err)
{
        return query1(idx, PM__STMT_ALL_LABELS, NULL, "cannot list crates", ret, err);
}

int
pm_index_kind_labels(struct pm_index *idx, enum pm_crate_kind kind, char ***ret,
                     struct pm_error *err)
{
        return query1(idx, PM__STMT_KIND_LABELS, pm_crate_kind_name(kind), "cannot list crates",
                      ret, err);
}

int
pm_index_build_files(struct pm_index *idx, const char *source, char ***ret, struct pm_error *err)
{
        return query1(idx, PM__STMT_BUILD_FILES, source, "cannot list build files", ret, err);
}

int
pm_index_proc_macro_dirs(struct pm_index *idx, char ***ret, struct pm_error *err)
{
        return query1(idx, PM__STMT_PROC_MACRO_DIRS, NULL, "cannot list proc-macro directories",
                      ret, err);
}

int
pm_index_proc_macros_for_file(struct pm_index *idx, const char *abs_file, char ***ret,
                              struct pm_error *err)
{
        return query1(idx, PM__STMT_PROC_MACROS_FOR_FILE, abs_file,
                      "cannot find proc macros for file", ret, err);
}

int
pm_index_crate_source(struct pm_index *idx, const char *label, char **ret, struct pm_error *err)
{
        char **v = NULL;
        int r;

        r = query1(idx, PM__STMT_CRATE_SOURCE, label, "cannot find crate", &v, err);
        if (r < 0)
                return r;
        if (!v[0]) {
                pm_labels_free(v);
                return pm_error_set(err, PM_ENOTFOUND, "unknown crate '%s'", label);
        }
        *ret = pm_steal_ptr(&v[0]);
        pm_free(v);
        return 0;
}
