/* SPDX-License-Identifier: MIT */
/* Shared between the indexer's files: the open model handle, its cached prepared statements and
 * the SQLite error helpers. Nothing outside indexer/ includes this. */
#ifndef PROJMODEL_INDEXER_INTERNAL_H
#define PROJMODEL_INDEXER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "projmodel/graph.h"
#include "projmodel/strbuf.h"

struct pm_error;

/*
 * Where a PM_CRATE_FIELDS type lives in the model: PM__IF_COL_<type>(x) is x for a column of
 * `crates` (packed lists included), PM__IF_ROWS_<type>(x) is x for a list kept as rows of its
 * own table crate_<name>(crate_id, pos, path).
 */
#define PM__IF_COL_STR(...)  __VA_ARGS__
#define PM__IF_COL_PATH(...) __VA_ARGS__
#define PM__IF_COL_KIND(...) __VA_ARGS__
#define PM__IF_COL_BOOL(...) __VA_ARGS__
#define PM__IF_COL_LIST(...) __VA_ARGS__
#define PM__IF_COL_ENV(...)  __VA_ARGS__
#define PM__IF_COL_PATHS(...)
#define PM__IF_ROWS_STR(...)
#define PM__IF_ROWS_PATH(...)
#define PM__IF_ROWS_KIND(...)
#define PM__IF_ROWS_BOOL(...)
#define PM__IF_ROWS_LIST(...)
#define PM__IF_ROWS_ENV(...)
#define PM__IF_ROWS_PATHS(...) __VA_ARGS__

/* The number of crate columns that come from PM_CRATE_FIELDS (bound first, in field order,
 * followed by source, root_dir and hash; see db.c). */
#define PM__COL_ONE(name, type, null, json) PM__IF_COL_##type(+1)

enum {
        PM__CRATE_N_COLS = 0 PM_CRATE_FIELDS(PM__COL_ONE)
};

/* The statements of one row table: insert, clear (by crate id), load all / load temp.pm_q. */
#define PM__STMT_ROWS(name, type, null, json)                                 \
        PM__IF_ROWS_##type(PM__STMT_##name##_INSERT, PM__STMT_##name##_CLEAR, \
                           PM__STMT_LOAD_##name##_ALL, PM__STMT_LOAD_##name##_Q, )

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
        PM_CRATE_FIELDS(PM__STMT_ROWS) /* the row tables of PATHS fields */
        PM__STMT_DEP_INSERT,
        PM__STMT_DEP_CLEAR,
        PM__STMT_BF_OF_SOURCE,
        PM__STMT_BF_INSERT,
        PM__STMT_BF_DELETE,
        PM__STMT_SOURCE_ROWS_OF_BF,    /* a partial apply's rows: by covered build file */
        PM__STMT_SOURCE_ROWS_OF_LABEL, /* ... and by label */
        /* queries */
        PM__STMT_Q_CLEAR,
        PM__STMT_IDS_CLEAR, /* temp.pm_ids: the crate ids of temp.pm_q, for a partial load */
        PM__STMT_IDS_FILL,
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
        PM__STMT_KIND_LABELS,
        PM__STMT_BUILD_FILES,
        PM__STMT_CRATE_SOURCE,
        PM__STMT_PROC_MACRO_DIRS,
        PM__STMT_PROC_MACROS_FOR_FILE,
        /* load: every crate, or the crates named in temp.pm_q */
        PM__STMT_LOAD_CRATES_ALL,
        PM__STMT_LOAD_CRATES_Q,
        PM__STMT_LOAD_DEPS_ALL,
        PM__STMT_LOAD_DEPS_Q,
        PM__STMT_LOAD_BUILD_FILES,
        /* input stamps and cached outputs */
        PM__STMT_STAMP_GET,
        PM__STMT_STAMP_SET,
        PM__STMT_STAMP_CLEAR,
        PM__STMT_FINGERPRINTS_GET,
        PM__STMT_OUTPUT_GET,
        PM__STMT_OUTPUT_PRUNE,
        PM__STMT_OUTPUT_PUT,
        /* the configured sources (sources.c) */
        PM__STMT_ALL_SOURCES,
        PM__STMT_SOURCE_CRATES,
        PM__STMT_SOURCE_DROP_CRATES,
        PM__STMT_SOURCE_DROP_BFS,
        /* audit.c */
        PM__STMT_AUDIT_GET,
        PM__STMT_AUDIT_PUT,
        _PM__STMT_MAX
};

/* An open model. Invariant: every cached statement is reset (holds no read lock) between calls. */
struct pm_index {
        sqlite3 *db;
        char *path;                         /* pm_malloc'd, for error messages */
        sqlite3_stmt *stmts[_PM__STMT_MAX]; /* prepared lazily, finalized by pm_index_close() */
        unsigned read_depth;                /* open PM__STMT_BEGIN_READs (pm__index_exec()) */
        char **sources; /* pm_index_set_sources(): NULL-terminated, sorted; NULL = not set */
        size_t n_sources;
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

/*
 * Run one cached statement without result rows (BEGIN, COMMIT, ...). Read transactions nest:
 * a PM__STMT_BEGIN_READ inside another joins it (and its snapshot), and the COMMIT or ROLLBACK
 * that ends the inner one only closes the outer one's count; so a caller can run several
 * multi-statement reads (closure, then load) on one snapshot.
 */
int pm__index_exec(struct pm_index *idx, enum pm__stmt which, struct pm_error *err);

/* Bind a possibly NULL string (SQLITE_STATIC: the string must outlive the step). */
int pm__bind_text(sqlite3_stmt *st, int col, const char *s);

/* Step @st to its end, collecting every column of every row, in order, into a NULL-terminated
 * pm_malloc'd array of pm_malloc'd strings in *ret (NULL values skipped: a statement of several
 * columns gives none). Resets @st. */
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

/*
 * The child tables of a crate: one per PATHS field of PM_CRATE_FIELDS (crate_<name>), then deps.
 * Each keeps its list's order in `pos`.
 */
#define PM__ROWS_ID(name, type, null, json) PM__IF_ROWS_##type(PM__ROWS_##name, )

enum pm__rows {
        PM_CRATE_FIELDS(PM__ROWS_ID) PM__ROWS_DEPS,
        _PM__ROWS_MAX
};

struct pm__rows_table {
        const char *table; /* "crate_sources", ..., "deps" */
        const char *cols;  /* the insert's columns */
        int n_text;        /* text columns after crate_id and pos: 1, or 2 for deps */
        enum pm__stmt insert, clear, load_all, load_q;
        int field; /* the PATHS field (enum pm_crate_field_id), or -1 for deps */
};

extern const struct pm__rows_table pm__rows_tables[_PM__ROWS_MAX];

/*
 * The codec between a struct pm_crate and its model rows (codec.c): the hash that tells apply
 * which crates changed, the column binds of PM__STMT_CRATE_INSERT / _UPDATE, the column reads of
 * PM__STMT_LOAD_CRATES_*, and the packing of list columns. Its buffers are reused from crate to
 * crate; pm__codec_release() frees them.
 */
struct pm__codec {
        struct pm_strbuf packed[PM_CRATE_N_FIELDS]; /* packed list columns, bound STATIC */
        struct pm_strbuf canon;                     /* the canonical form being hashed */
        const struct pm_dep **deps;                 /* sorting scratch */
        size_t cap_deps;
};

#define PM__CODEC_INIT                  \
        {                               \
                .canon = PM_STRBUF_INIT \
        }
void pm__codec_release(struct pm__codec *k);

/*
 * The crate's hash: XXH64 of a canonical serialization of every field pm_crate_equal()
 * compares (deps in sorted order, as they compare as a set). -ENOMEM on OOM.
 */
int pm__crate_hash(struct pm__codec *k, const struct pm_crate *c, uint64_t *ret);

/*
 * Bind the crate columns of PM__STMT_CRATE_INSERT / _UPDATE: ?1..?PM__CRATE_N_COLS the fields,
 * then source, root_dir and hash (the update's id is ?PM__CRATE_N_COLS + 4). Packed lists stay
 * in @k until the next bind. Returns 0, -ENOMEM or PM_ELIMIT (a list over 2 GiB).
 */
#define PM__CRATE_UPDATE_ID_COL (PM__CRATE_N_COLS + 4)
int pm__codec_bind(struct pm__codec *k, sqlite3_stmt *st, const struct pm_crate *c,
                   const char *source, uint64_t hash);

/*
 * Fill @c's column fields from a PM__STMT_LOAD_CRATES_* row (column 0 is the id, the fields
 * follow in order). Returns 0, -ENOMEM, or PM_EDB for a bad kind or a damaged list column
 * (then *ret_what names the column).
 */
int pm__codec_read(struct pm_graph *g, struct pm_crate *c, sqlite3_stmt *st, const char **ret_what);

/*
 * Batches the child rows of inserted crates into multi-row INSERTs (a 10,000-crate model has
 * some 60,000 of them, and a statement step per row costs more than the row).
 */
#define PM__ROWS_PER_INSERT 16

struct pm__rows_row {
        int64_t crate_id;
        int64_t pos;
        const char *text[2]; /* borrowed from the graph */
};

struct pm__rows_writer {
        struct pm_index *idx;

        struct {
                struct pm__rows_row rows[PM__ROWS_PER_INSERT];
                size_t n;
                sqlite3_stmt *multi; /* PM__ROWS_PER_INSERT rows, prepared on first use */
        } batch[_PM__ROWS_MAX];
};

/* Queue the child rows of crate @id (written by the next flush). */
int pm__rows_add(struct pm__rows_writer *w, int64_t id, const struct pm_crate *c,
                 struct pm_error *err);
/* Write every queued row. */
int pm__rows_flush(struct pm__rows_writer *w, struct pm_error *err);
/* Delete every child row of crate @id. */
int pm__rows_clear(struct pm__rows_writer *w, int64_t id, struct pm_error *err);
void pm__rows_writer_release(struct pm__rows_writer *w);

/* Step a write statement to completion and reset it; @what prefixes an error. */
int pm__index_step_done(struct pm_index *idx, sqlite3_stmt *st, const char *what,
                        struct pm_error *err);

/*
 * Route SQLite's allocations through pm_malloc() and friends (sqlmem.c), once per process,
 * before SQLite's first use. False when SQLite was already initialised with its own allocator.
 */
bool pm__index_install_allocator(void);

/* Called by pm__index_prune() for every crate (@label, its build file or NULL) and every
 * watched file (@label NULL) it removes. Returns 0 or -ENOMEM. */
typedef int (*pm__prune_note)(void *ud, const char *label, const char *build_file);

/*
 * Inside the caller's write transaction: remove every crate, build file and stamp of a source
 * that is not in idx->sources and is not @keep (may be NULL). No-op when no set is configured.
 * Counts what went into *ret_crates and *ret_files.
 */
int pm__index_prune(struct pm_index *idx, const char *keep, pm__prune_note note, void *ud,
                    size_t *ret_crates, size_t *ret_files, struct pm_error *err);

#include "projmodel/banned.h"

#endif
