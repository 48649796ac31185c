/* SPDX-License-Identifier: MIT */
/* Shared between the indexer's files: the open model handle, its cached prepared statements and
 * the SQLite error helpers. Nothing outside indexer/ includes this. */
#ifndef PROJMODEL_INDEXER_INTERNAL_H
#define PROJMODEL_INDEXER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct pm_error;

/* Milliseconds a statement waits for another connection's lock before failing with PM_EBUSY. */
#define PM__INDEX_BUSY_TIMEOUT_MS 5000

/* The meta key holding the model generation. */
#define PM__INDEX_META_GENERATION "generation"

/*
 * Every statement the indexer runs more than once. Each is prepared on first use and kept for
 * the life of the handle (SQLITE_PREPARE_PERSISTENT); pm__index_stmt() hands it out reset and
 * with its bindings cleared. The SQL text lives in db.c's table, indexed by this enum.
 */
enum pm__stmt {
        PM__STMT_BEGIN_READ,
        PM__STMT_BEGIN_WRITE,
        PM__STMT_COMMIT,
        PM__STMT_ROLLBACK,
        PM__STMT_META_GET,
        PM__STMT_META_SET,
        PM__STMT_COUNT,
        /* apply */
        PM__STMT_SOURCE_ROWS,
        PM__STMT_CRATE_INSERT,
        PM__STMT_CRATE_UPDATE,
        PM__STMT_CRATE_DELETE,
        PM__STMT_CRATE_OWNER,
        PM__STMT_SOURCE_INSERT,
        PM__STMT_SOURCE_CLEAR,
        PM__STMT_INCDIR_INSERT,
        PM__STMT_INCDIR_CLEAR,
        PM__STMT_DEP_INSERT,
        PM__STMT_DEP_CLEAR,
        PM__STMT_BF_OF_SOURCE,
        PM__STMT_BF_INSERT,
        PM__STMT_BF_DELETE,
        PM__STMT_SOURCE_ROWS_OF_BF,    /* a partial apply's rows: by covered build file */
        PM__STMT_SOURCE_ROWS_OF_LABEL, /* ... and by label */
        /* queries */
        PM__STMT_Q_CLEAR,
        PM__STMT_Q_INSERT,
        PM__STMT_Q_MISSING,
        PM__STMT_FOR_FILE,
        PM__STMT_FOR_DIR,
        PM__STMT_FOR_BUILD_FILE,
        PM__STMT_CLOSURE,
        PM__STMT_EXISTS,
        PM__STMT_DEPS,
        PM__STMT_DEPS_TRANSITIVE,
        PM__STMT_RDEPS,
        PM__STMT_RDEPS_TRANSITIVE,
        PM__STMT_LOOKUP_NAME,
        PM__STMT_SEARCH,
        PM__STMT_ALL_LABELS,
        PM__STMT_BUILD_FILES,
        PM__STMT_CRATE_SOURCE,
        /* load: every crate, or the crates named in temp.pm_q */
        PM__STMT_LOAD_CRATES_ALL,
        PM__STMT_LOAD_CRATES_Q,
        PM__STMT_LOAD_SOURCES_ALL,
        PM__STMT_LOAD_SOURCES_Q,
        PM__STMT_LOAD_INCDIRS_ALL,
        PM__STMT_LOAD_INCDIRS_Q,
        PM__STMT_LOAD_DEPS_ALL,
        PM__STMT_LOAD_DEPS_Q,
        PM__STMT_LOAD_BUILD_FILES,
        /* input stamps and cached outputs */
        PM__STMT_STAMP_GET,
        PM__STMT_STAMP_SET,
        PM__STMT_STAMP_CLEAR,
        PM__STMT_OUTPUT_GET,
        PM__STMT_OUTPUT_PRUNE,
        PM__STMT_OUTPUT_PUT,
        _PM__STMT_MAX
};

/* An open model. Invariant: every cached statement is reset (holds no read lock) between calls. */
struct pm_index {
        sqlite3 *db;
        char *path;                         /* pm_malloc'd, for error messages */
        sqlite3_stmt *stmts[_PM__STMT_MAX]; /* prepared lazily, finalized by pm_index_close() */
};

/*
 * The cached statement @which, reset with cleared bindings, in *ret (borrowed from @idx; reset
 * it with sqlite3_reset() when done so it releases its snapshot).
 */
int pm__index_stmt(struct pm_index *idx, enum pm__stmt which, sqlite3_stmt **ret,
                   struct pm_error *err);

/* Map an SQLite result code to -ENOMEM, PM_EBUSY or PM_EDB, with sqlite3_errmsg() in @err,
 * prefixed by @what (e.g. "cannot apply 'gn'"). Returns the code. */
int pm__index_sqlite_error(struct pm_index *idx, int rc, const char *what, struct pm_error *err);

/* Run one cached statement without result rows (BEGIN, COMMIT, ...). */
int pm__index_exec(struct pm_index *idx, enum pm__stmt which, struct pm_error *err);

/* Bind a possibly NULL string (SQLITE_STATIC: the string must outlive the step). */
int pm__bind_text(sqlite3_stmt *st, int col, const char *s);

/* Step @st to its end, collecting column 0 of every row into a NULL-terminated pm_malloc'd
 * array of pm_malloc'd strings in *ret (NULL values skipped). Resets @st. */
int pm__index_collect(struct pm_index *idx, sqlite3_stmt *st, const char *what, char ***ret,
                      struct pm_error *err);

/* Fill temp.pm_q with @labels (cleared first). Must run inside a transaction. */
int pm__index_fill_q(struct pm_index *idx, const char *const *labels, size_t n,
                     struct pm_error *err);

/* PM_ENOTFOUND naming the first label of temp.pm_q with no crate, or 0. */
int pm__index_check_q(struct pm_index *idx, struct pm_error *err);

/*
 * Drop / create the secondary indexes of the crate tables (not the UNIQUE label index), inside
 * the caller's transaction. Cached statements re-prepare themselves after the schema change.
 */
int pm__index_drop_indexes(struct pm_index *idx, struct pm_error *err);
int pm__index_create_indexes(struct pm_index *idx, struct pm_error *err);

/* Read the generation inside the current transaction (0 if never set). */
int pm__index_read_generation(struct pm_index *idx, uint64_t *ret, struct pm_error *err);

#include "projmodel/banned.h"

#endif
