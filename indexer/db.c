/* SPDX-License-Identifier: MIT */
/* The model database itself: opening (WAL, pragmas), the versioned schema, the prepared-statement
 * cache and small helpers (meta, generation, label lists). Queries and apply live elsewhere. Over
 * 800 lines because the schema and the SQL of every prepared statement sit together, so that a
 * schema change and every statement that reads it are reviewed in one file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "indexer-internal.h"

/*
 * The schema. Child tables reference crates by id with ON DELETE CASCADE so removing a crate
 * is one statement; deps point at their target by label so a partial apply (or a dependency not
 * loaded yet) needs no fix-up. docs/model.md documents every column; keep the two in sync and
 * bump PM_INDEX_SCHEMA_VERSION on any change (an old model is then rebuilt empty).
 */
#define SQL_NULL_REQ                       " NOT NULL"
#define SQL_NULL_OPT                       ""
#define SQL_NULL_KEY                       " NOT NULL UNIQUE"
#define SQL_COLDEF(name, type, null, json) SQL_COLDEF_##type(name, null)
#define SQL_COLDEF_STR(n, null)            " " #n " TEXT" SQL_NULL_##null ","
#define SQL_COLDEF_PATH(n, null)           " " #n " TEXT" SQL_NULL_##null ","
#define SQL_COLDEF_KIND(n, null)           " " #n " TEXT NOT NULL,"
#define SQL_COLDEF_BOOL(n, null)           " " #n " INTEGER NOT NULL,"
#define SQL_COLDEF_LIST(n, null)           " " #n " BLOB,"
#define SQL_COLDEF_ENV(n, null)            " " #n " BLOB,"
#define SQL_COLDEF_PATHS(n, null)
#define SQL_ROWS_TABLE(name, type, null, json)                                \
        PM__IF_ROWS_##type("CREATE TABLE crate_" #name "("                    \
                           " crate_id INTEGER NOT NULL REFERENCES crates(id)" \
                           " ON DELETE CASCADE,"                              \
                           " pos INTEGER NOT NULL,"                           \
                           " path TEXT NOT NULL,"                             \
                           " PRIMARY KEY(crate_id, pos)) WITHOUT ROWID;")

static const char schema_sql[] =
        "CREATE TABLE meta("
        " key TEXT PRIMARY KEY NOT NULL,"
        " value TEXT) WITHOUT ROWID;"
        "CREATE TABLE crates("
        " id INTEGER PRIMARY KEY," PM_CRATE_FIELDS(
                SQL_COLDEF) " source TEXT NOT NULL,"
                            " root_dir TEXT NOT NULL,"
                            " hash INTEGER NOT NULL);" PM_CRATE_FIELDS(
                                    SQL_ROWS_TABLE) "CREATE TABLE deps("
                                                    " crate_id INTEGER NOT NULL REFERENCES crates(id) ON DELETE CASCADE,"
                                                    " pos INTEGER NOT NULL,"
                                                    " dep_label TEXT NOT NULL,"
                                                    " name TEXT,"
                                                    " PRIMARY KEY(crate_id, pos)) WITHOUT ROWID;"
                                                    "CREATE TABLE build_files("
                                                    " source TEXT NOT NULL,"
                                                    " path TEXT NOT NULL,"
                                                    " PRIMARY KEY(source, path)) WITHOUT ROWID;"
                                                    "CREATE INDEX build_files_by_path ON build_files(path);"
                                                    "CREATE TABLE source_stamps("
                                                    " source TEXT PRIMARY KEY NOT NULL,"
                                                    " stamp BLOB,"
                                                    " fingerprints BLOB);"
                                                    "CREATE TABLE outputs("
                                                    " key TEXT PRIMARY KEY NOT NULL,"
                                                    " generation INTEGER NOT NULL,"
                                                    " data BLOB NOT NULL);"
                                                    "CREATE TABLE audit_files("
                                                    " path TEXT PRIMARY KEY NOT NULL,"
                                                    " size INTEGER NOT NULL,"
                                                    " mtime_ns INTEGER NOT NULL,"
                                                    " hash INTEGER NOT NULL,"
                                                    " scan BLOB NOT NULL) WITHOUT ROWID;";

/*
 * The secondary indexes of the crate tables, kept apart from schema_sql so that a bulk apply
 * into an empty model can drop them and build them afterwards (pm__index_drop_indexes()): one
 * sorted build is several times cheaper than 10,000 random inserts into each of them.
 */
#define ROWS_INDEX_NAME(name, type, null, json) PM__IF_ROWS_##type("crate_" #name "_by_path", )
#define ROWS_INDEX_SQL(name, type, null, json) \
        PM__IF_ROWS_##type("CREATE INDEX crate_" #name "_by_path ON crate_" #name "(path)", )

static const char *const index_names[] = {
        "crates_by_source",     "crates_by_root_module",
        "crates_by_root_dir",   "crates_by_build_file",
        "crates_by_crate_name", "crates_by_display_name",
        "crates_proc_macros",   PM_CRATE_FIELDS(ROWS_INDEX_NAME) "deps_by_label",
};

static const char *const index_sql[] = {
        "CREATE INDEX crates_by_source ON crates(source, label)",
        "CREATE INDEX crates_by_root_module ON crates(root_module)",
        "CREATE INDEX crates_by_root_dir ON crates(root_dir)",
        "CREATE INDEX crates_by_build_file ON crates(build_file)",
        "CREATE INDEX crates_by_crate_name ON crates(crate_name)",
        "CREATE INDEX crates_by_display_name ON crates(display_name)",
        /* Only the proc macros: the daemon lists their directories after every apply that
         * changed a crate (pm_index_proc_macro_dirs()), which must not read every crate. */
        "CREATE INDEX crates_proc_macros ON crates(root_dir, build_file)"
        " WHERE kind = 'proc-macro'",
        PM_CRATE_FIELDS(ROWS_INDEX_SQL) "CREATE INDEX deps_by_label ON deps(dep_label)",
};

#define COL_NAME(name, type, null, json)  PM__IF_COL_##type(#name ", ")
#define COL_QMARK(name, type, null, json) PM__IF_COL_##type("?, ")
#define COL_SET(name, type, null, json)   PM__IF_COL_##type(#name " = ?, ")
/* Column 0 the id, then the field columns in PM_CRATE_FIELDS order (codec.c reads them). */
#define LOAD_CRATE_COLUMNS "SELECT id, " PM_CRATE_FIELDS(COL_NAME) "source FROM crates"
/*
 * A partial load's child rows: driven from temp.pm_ids (the wanted crate ids, in id order) with
 * CROSS JOIN, which SQLite never reorders, so each crate costs one primary-key range lookup and
 * the rows come out in (crate_id, pos) order without a sort: proportional to the crates loaded,
 * not to the model. (An IN (...) over the wanted ids let the planner pick a scan of the whole
 * table in key order instead, to skip the sort.)
 */
#define FROM_Q(table) \
        " FROM temp.pm_ids i CROSS JOIN " table " t ON t.crate_id = i.id ORDER BY i.id, t.pos"
#define LOAD_CHILD(cols, table)                                                                \
        [PM__STMT_LOAD_##table##_ALL] = "SELECT t.crate_id, " cols " FROM " table_name_##table \
                " t ORDER BY t.crate_id, t.pos",                                               \
        [PM__STMT_LOAD_##table##_Q] = "SELECT t.crate_id, " cols FROM_Q(table_name_##table)
#define table_name_DEPS "deps"
#define ROWS_SQL(name, type, null, json)                                                        \
        PM__IF_ROWS_##type(                                                                     \
                [PM__STMT_##name##_INSERT] =                                                    \
                        "INSERT INTO crate_" #name "(crate_id, pos, path) VALUES (?1, ?2, ?3)", \
                [PM__STMT_##name##_CLEAR] = "DELETE FROM crate_" #name " WHERE crate_id = ?1",  \
                [PM__STMT_LOAD_##name##_ALL] = "SELECT t.crate_id, t.path FROM crate_" #name    \
                                               " t ORDER BY t.crate_id, t.pos",                 \
                [PM__STMT_LOAD_##name##_Q] = "SELECT t.crate_id, t.path" FROM_Q("crate_" #name), )
#define ROWS_TABLE(name, type, null, json)                                                  \
        PM__IF_ROWS_##type(                                                                 \
                [PM__ROWS_##name] = { "crate_" #name, "crate_id, pos, path", 1,             \
                                      PM__STMT_##name##_INSERT, PM__STMT_##name##_CLEAR,    \
                                      PM__STMT_LOAD_##name##_ALL, PM__STMT_LOAD_##name##_Q, \
                                      PM_CRATE_FIELD_##name }, )

const struct pm__rows_table pm__rows_tables[_PM__ROWS_MAX] = {
        PM_CRATE_FIELDS(ROWS_TABLE)[PM__ROWS_DEPS] = { "deps", "crate_id, pos, dep_label, name", 2,
                                                       PM__STMT_DEP_INSERT, PM__STMT_DEP_CLEAR,
                                                       PM__STMT_LOAD_DEPS_ALL, PM__STMT_LOAD_DEPS_Q,
                                                       -1 },
};

/* The crate columns bound by codec.c's pm__codec_bind(): the fields, source, root_dir, hash;
 * then the id for updates. */
static const char *const stmt_sql[_PM__STMT_MAX] = {
        [PM__STMT_BEGIN_READ] = "BEGIN",
        [PM__STMT_BEGIN_WRITE] = "BEGIN IMMEDIATE",
        [PM__STMT_COMMIT] = "COMMIT",
        [PM__STMT_ROLLBACK] = "ROLLBACK",
        [PM__STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
        [PM__STMT_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2)"
                              " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [PM__STMT_COUNT] = "SELECT count(*) FROM crates",
        [PM__STMT_SOURCE_ROWS] = "SELECT id, label, hash, build_file FROM crates"
                                 " WHERE source = ?1 ORDER BY label",
        [PM__STMT_CRATE_INSERT] = "INSERT INTO crates(" PM_CRATE_FIELDS(
                COL_NAME) "source, root_dir, hash) VALUES (" PM_CRATE_FIELDS(COL_QMARK) "?, ?, ?)",
        [PM__STMT_CRATE_UPDATE] = "UPDATE crates SET " PM_CRATE_FIELDS(
                COL_SET) "source = ?, root_dir = ?, hash = ? WHERE id = ?",
        [PM__STMT_CRATE_DELETE] = "DELETE FROM crates WHERE id = ?1",
        [PM__STMT_CRATE_OWNER] = "SELECT source FROM crates WHERE label = ?1",
        PM_CRATE_FIELDS(ROWS_SQL)[PM__STMT_DEP_INSERT] =
                "INSERT INTO deps(crate_id, pos, dep_label, name) VALUES (?1, ?2, ?3, ?4)",
        [PM__STMT_DEP_CLEAR] = "DELETE FROM deps WHERE crate_id = ?1",
        [PM__STMT_BF_OF_SOURCE] = "SELECT path FROM build_files WHERE source = ?1 ORDER BY path",
        [PM__STMT_BF_INSERT] = "INSERT OR IGNORE INTO build_files(source, path) VALUES (?1, ?2)",
        [PM__STMT_SOURCE_ROWS_OF_BF] = "SELECT id, label, hash, build_file FROM crates"
                                       " WHERE build_file = ?2 AND source = ?1",
        [PM__STMT_SOURCE_ROWS_OF_LABEL] = "SELECT id, label, hash, build_file FROM crates"
                                          " WHERE label = ?2 AND source = ?1",
        [PM__STMT_BF_DELETE] = "DELETE FROM build_files WHERE source = ?1 AND path = ?2",
        [PM__STMT_Q_CLEAR] = "DELETE FROM temp.pm_q",
        [PM__STMT_IDS_CLEAR] = "DELETE FROM temp.pm_ids",
        [PM__STMT_IDS_FILL] = "INSERT OR IGNORE INTO temp.pm_ids(id)"
                              " SELECT c.id FROM temp.pm_q q CROSS JOIN crates c"
                              " ON c.label = q.label",
        [PM__STMT_Q_INSERT] = "INSERT OR IGNORE INTO temp.pm_q(label) VALUES (?1)",
        [PM__STMT_Q_MISSING] = "SELECT q.label FROM temp.pm_q q WHERE NOT EXISTS"
                               " (SELECT 1 FROM crates c WHERE c.label = q.label)"
                               " ORDER BY q.label LIMIT 1",
        [PM__STMT_FOR_FILE] = "SELECT label FROM crates WHERE root_module = ?1"
                              " UNION SELECT c.label FROM crate_sources s"
                              " JOIN crates c ON c.id = s.crate_id WHERE s.path = ?1"
                              " ORDER BY 1",
        /* A crate without include dirs is rendered with its root module's directory (see
         * writer.c), so it owns that directory here too. */
        [PM__STMT_FOR_DIR] = "SELECT c.label FROM crate_include_dirs d"
                             " JOIN crates c ON c.id = d.crate_id WHERE d.path = ?1"
                             " UNION SELECT c.label FROM crates c WHERE c.root_dir = ?1"
                             " AND NOT EXISTS (SELECT 1 FROM crate_include_dirs d"
                             " WHERE d.crate_id = c.id)"
                             " ORDER BY 1",
        [PM__STMT_FOR_BUILD_FILE] = "SELECT label FROM crates WHERE build_file = ?1"
                                    " ORDER BY label",
        [PM__STMT_CLOSURE] = "WITH RECURSIVE cl(label) AS (SELECT label FROM temp.pm_q"
                             " UNION SELECT d.dep_label FROM cl JOIN crates c ON c.label = cl.label"
                             " JOIN deps d ON d.crate_id = c.id)"
                             " SELECT cl.label FROM cl JOIN crates c ON c.label = cl.label"
                             " ORDER BY 1",
        [PM__STMT_EXISTS] = "SELECT id FROM crates WHERE label = ?1",
        [PM__STMT_DEPS] = "SELECT DISTINCT d.dep_label FROM deps d"
                          " JOIN crates t ON t.label = d.dep_label"
                          " WHERE d.crate_id = ?1 AND d.dep_label <> ?2 ORDER BY 1",
        [PM__STMT_DEPS_TRANSITIVE] = "WITH RECURSIVE cl(id) AS (SELECT ?1"
                                     " UNION SELECT t.id FROM cl JOIN deps d ON d.crate_id = cl.id"
                                     " JOIN crates t ON t.label = d.dep_label)"
                                     " SELECT c.label FROM cl JOIN crates c ON c.id = cl.id"
                                     " WHERE c.label <> ?2 ORDER BY 1",
        [PM__STMT_RDEPS] = "SELECT DISTINCT c.label FROM deps d JOIN crates c ON c.id = d.crate_id"
                           " WHERE d.dep_label = ?2 AND c.label <> ?2 ORDER BY 1",
        [PM__STMT_RDEPS_TRANSITIVE] = "WITH RECURSIVE cl(label) AS (SELECT ?2"
                                      " UNION SELECT c.label FROM cl"
                                      " JOIN deps d ON d.dep_label = cl.label"
                                      " JOIN crates c ON c.id = d.crate_id)"
                                      " SELECT label FROM cl WHERE label <> ?2 ORDER BY 1",
        [PM__STMT_LOOKUP_NAME] = "SELECT label FROM crates WHERE crate_name = ?1"
                                 " UNION SELECT label FROM crates WHERE display_name = ?1"
                                 " ORDER BY 1",
        /* ?2 is ?1 followed by the byte 0xff, which no UTF-8 string contains: the range
         * [?1, ?2) is exactly the strings starting with ?1, and it can use the indexes. */
        [PM__STMT_SEARCH] = "SELECT label FROM crates WHERE label >= ?1 AND label < ?2"
                            " UNION SELECT label FROM crates"
                            " WHERE crate_name >= ?1 AND crate_name < ?2"
                            " UNION SELECT label FROM crates"
                            " WHERE display_name >= ?1 AND display_name < ?2"
                            " ORDER BY 1 LIMIT ?3",
        [PM__STMT_ALL_LABELS] = "SELECT label FROM crates ORDER BY label",
        [PM__STMT_KIND_LABELS] = "SELECT label FROM crates WHERE kind = ?1 ORDER BY label",
        [PM__STMT_BUILD_FILES] = "SELECT DISTINCT path FROM build_files"
                                 " WHERE ?1 IS NULL OR source = ?1 ORDER BY path",
        [PM__STMT_CRATE_SOURCE] = "SELECT source FROM crates WHERE label = ?1",
        [PM__STMT_PROC_MACRO_DIRS] = "SELECT root_dir, coalesce(build_file, '') FROM crates"
                                     " WHERE kind = 'proc-macro'"
                                     " UNION SELECT d.path, coalesce(c.build_file, '')"
                                     /* CROSS JOIN: from the proc macros' index to their
                                      * include dirs, never a scan of every crate's. */
                                     " FROM crates c CROSS JOIN crate_include_dirs d"
                                     " ON d.crate_id = c.id"
                                     " WHERE c.kind = 'proc-macro' ORDER BY 1, 2",
        /* Only the declared sources and root modules (no include-dir fallback): the daemon asks
         * whether a file created or moved in is one a proc macro already builds (watch.c). */
        [PM__STMT_PROC_MACROS_FOR_FILE] = "SELECT label FROM crates"
                                          " WHERE root_module = ?1 AND kind = 'proc-macro'"
                                          " UNION SELECT c.label FROM crate_sources s"
                                          " JOIN crates c ON c.id = s.crate_id"
                                          " WHERE s.path = ?1 AND c.kind = 'proc-macro'"
                                          " ORDER BY 1",
        [PM__STMT_LOAD_CRATES_ALL] = LOAD_CRATE_COLUMNS " ORDER BY label",
        [PM__STMT_LOAD_CRATES_Q] =
                LOAD_CRATE_COLUMNS " WHERE label IN (SELECT label FROM temp.pm_q) ORDER BY label",
        LOAD_CHILD("t.dep_label, t.name", DEPS),
        [PM__STMT_LOAD_BUILD_FILES] = "SELECT DISTINCT path FROM build_files ORDER BY path",
        [PM__STMT_STAMP_GET] = "SELECT stamp FROM source_stamps WHERE source = ?1",
        [PM__STMT_STAMP_SET] = "INSERT INTO source_stamps(source, stamp, fingerprints)"
                               " VALUES (?1, ?2, ?3) ON CONFLICT(source) DO UPDATE SET"
                               " stamp = excluded.stamp, fingerprints = excluded.fingerprints",
        [PM__STMT_FINGERPRINTS_GET] = "SELECT fingerprints FROM source_stamps WHERE source = ?1",
        [PM__STMT_STAMP_CLEAR] = "DELETE FROM source_stamps WHERE source = ?1",
        /* A cached output is valid only for the generation it was rendered from. */
        [PM__STMT_OUTPUT_GET] = "SELECT data FROM outputs WHERE key = ?1 AND generation ="
                                " coalesce((SELECT CAST(value AS INTEGER) FROM meta"
                                " WHERE key = 'generation'), 0)",
        /* Every apply prunes (sources.c): one index seek per source, where a plain UNION of
         * the columns read every crate's and build file's row (a loose index scan). */
        [PM__STMT_ALL_SOURCES] =
                "WITH RECURSIVE"
                " c(s) AS (SELECT min(source) FROM crates UNION ALL"
                " SELECT (SELECT min(source) FROM crates WHERE source > c.s) FROM c"
                " WHERE c.s IS NOT NULL),"
                " b(s) AS (SELECT min(source) FROM build_files UNION ALL"
                " SELECT (SELECT min(source) FROM build_files WHERE source > b.s) FROM b"
                " WHERE b.s IS NOT NULL)"
                " SELECT s FROM c WHERE s IS NOT NULL UNION SELECT s FROM b WHERE s IS NOT NULL"
                " UNION SELECT source FROM source_stamps ORDER BY 1",
        [PM__STMT_SOURCE_CRATES] = "SELECT label, build_file FROM crates WHERE source = ?1",
        [PM__STMT_SOURCE_DROP_CRATES] = "DELETE FROM crates WHERE source = ?1",
        [PM__STMT_SOURCE_DROP_BFS] = "DELETE FROM build_files WHERE source = ?1",
        [PM__STMT_OUTPUT_PRUNE] = "DELETE FROM outputs WHERE generation <> ?1",
        [PM__STMT_OUTPUT_PUT] = "INSERT INTO outputs(key, generation, data) VALUES (?1, ?2, ?3)"
                                " ON CONFLICT(key) DO UPDATE SET generation = excluded.generation,"
                                " data = excluded.data",
        [PM__STMT_AUDIT_GET] = "SELECT size, mtime_ns, hash, scan FROM audit_files WHERE path = ?1",
        [PM__STMT_AUDIT_PUT] =
                "INSERT OR REPLACE INTO audit_files(path, size, mtime_ns, hash, scan)"
                " VALUES (?1, ?2, ?3, ?4, ?5)",
};

int
pm__index_sqlite_error(struct pm_index *idx, int rc, const char *what, struct pm_error *err)
{
        int code;

        switch (rc & 0xff) {
        case SQLITE_NOMEM:
                code = -ENOMEM;
                break;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                code = PM_EBUSY;
                break;
        default:
                code = PM_EDB;
                break;
        }
        return pm_error_set(err, code, "%s: '%s': %s", what, idx->path,
                            idx->db ? sqlite3_errmsg(idx->db) : sqlite3_errstr(rc));
}

int
pm__index_stmt(struct pm_index *idx, enum pm__stmt which, sqlite3_stmt **ret, struct pm_error *err)
{
        sqlite3_stmt *st = idx->stmts[which];
        int rc;

        if (!st) {
                rc = sqlite3_prepare_v3(idx->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                        &st, NULL);
                if (rc != SQLITE_OK)
                        return pm__index_sqlite_error(idx, rc, "cannot prepare query", err);
                idx->stmts[which] = st;
        } else {
                (void)sqlite3_reset(st);
                (void)sqlite3_clear_bindings(st);
        }
        *ret = st;
        return 0;
}

int
pm__index_step_done(struct pm_index *idx, sqlite3_stmt *st, const char *what, struct pm_error *err)
{
        int rc = sqlite3_step(st);

        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(idx, rc, what, err);
        return 0;
}

int
pm__index_exec(struct pm_index *idx, enum pm__stmt which, struct pm_error *err)
{
        bool ends = which == PM__STMT_COMMIT || which == PM__STMT_ROLLBACK;
        sqlite3_stmt *st;
        int r, rc;

        if (which == PM__STMT_BEGIN_READ && idx->read_depth > 0) {
                idx->read_depth++;
                return 0;
        }
        if (ends && idx->read_depth > 1) {
                idx->read_depth--;
                return 0;
        }
        if (ends)
                idx->read_depth = 0;
        r = pm__index_stmt(idx, which, &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return pm__index_sqlite_error(idx, rc, stmt_sql[which], err);
        if (which == PM__STMT_BEGIN_READ)
                idx->read_depth = 1;
        return 0;
}

int
pm__bind_text(sqlite3_stmt *st, int col, const char *s)
{
        if (!s)
                return sqlite3_bind_null(st, col);
        return sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC);
}

char **
pm_labels_free(char **labels)
{
        if (!labels)
                return NULL;
        for (char **p = labels; *p; p++)
                pm_free(*p);
        pm_free(labels);
        return NULL;
}

size_t
pm_labels_count(char *const *labels)
{
        size_t n = 0;

        if (!labels)
                return 0;
        while (labels[n])
                n++;
        return n;
}

int
pm__index_collect(struct pm_index *idx, sqlite3_stmt *st, const char *what, char ***ret,
                  struct pm_error *err)
{
        char **v = NULL;
        size_t n = 0, cap = 0;
        int r = 0, rc;

        for (int col = 0;; col = (col + 1) % sqlite3_column_count(st)) {
                const char *s;

                if (col == 0) {
                        rc = sqlite3_step(st);
                        if (rc == SQLITE_DONE)
                                break;
                        if (rc != SQLITE_ROW) {
                                r = pm__index_sqlite_error(idx, rc, what, err);
                                goto out;
                        }
                }
                s = (const char *)sqlite3_column_text(st, col);
                if (!s)
                        continue;
                if (pm_grow(&v, &cap, n + 2, 16) < 0) {
                        r = pm_error_set(err, -ENOMEM, "%s: out of memory", what);
                        goto out;
                }
                v[n] = pm_strdup(s);
                if (!v[n]) {
                        r = pm_error_set(err, -ENOMEM, "%s: out of memory", what);
                        goto out;
                }
                v[++n] = NULL;
        }
        if (!v) {
                v = pm_calloc(1, sizeof(*v));
                if (!v) {
                        r = pm_error_set(err, -ENOMEM, "%s: out of memory", what);
                        goto out;
                }
        }
        *ret = pm_steal_ptr(&v);
out:
        (void)sqlite3_reset(st);
        if (v) {
                v[n] = NULL;
                pm_labels_free(v);
        }
        return r;
}

int
pm__index_fill_q(struct pm_index *idx, const char *const *labels, size_t n, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_exec(idx, PM__STMT_Q_CLEAR, err);
        if (r < 0)
                return r;
        r = pm__index_stmt(idx, PM__STMT_Q_INSERT, &st, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (!labels[i])
                        return pm_error_set(err, -EINVAL, "cannot query: label %zu is NULL", i);
                (void)sqlite3_reset(st);
                rc = pm__bind_text(st, 1, labels[i]);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st);
                if (rc != SQLITE_DONE) {
                        (void)sqlite3_reset(st);
                        return pm__index_sqlite_error(idx, rc, "cannot query labels", err);
                }
        }
        (void)sqlite3_reset(st);
        return 0;
}

int
pm__index_check_q(struct pm_index *idx, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_Q_MISSING, &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = pm_error_set(err, PM_ENOTFOUND, "unknown crate '%s'",
                                 (const char *)sqlite3_column_text(st, 0));
        else if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(idx, rc, "cannot query labels", err);
        (void)sqlite3_reset(st);
        return r;
}

/* Run a multi-statement SQL text that returns nothing (schema setup only). */
static int
exec_script(struct pm_index *idx, const char *sql, const char *what, struct pm_error *err)
{
        int rc = sqlite3_exec(idx->db, sql, NULL, NULL, NULL);

        if (rc != SQLITE_OK)
                return pm__index_sqlite_error(idx, rc, what, err);
        return 0;
}

static int
read_user_version(struct pm_index *idx, int *ret, struct pm_error *err)
{
        sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(idx->db, "PRAGMA user_version", -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                (void)sqlite3_finalize(st);
                return pm__index_sqlite_error(idx, rc, "cannot open model", err);
        }
        *ret = sqlite3_column_int(st, 0);
        (void)sqlite3_finalize(st);
        return 0;
}

/* Drop every table of the main database (an outdated cache), inside the caller's transaction. */
static int
drop_all(struct pm_index *idx, struct pm_error *err)
{
        sqlite3_stmt *st = NULL;
        char **names = NULL;
        int r, rc;

        rc = sqlite3_prepare_v2(idx->db,
                                "SELECT name FROM main.sqlite_schema WHERE type = 'table'"
                                " AND name NOT LIKE 'sqlite_%'",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return pm__index_sqlite_error(idx, rc, "cannot rebuild model", err);
        r = pm__index_collect(idx, st, "cannot rebuild model", &names, err);
        (void)sqlite3_finalize(st);
        if (r < 0)
                return r;
        for (char **p = names; *p; p++) {
                char *sql = sqlite3_mprintf("DROP TABLE main.\"%w\"", *p);

                if (!sql) {
                        r = pm_error_set(err, -ENOMEM, "cannot rebuild model: out of memory");
                        break;
                }
                r = exec_script(idx, sql, "cannot rebuild model", err);
                sqlite3_free(sql);
                if (r < 0)
                        break;
        }
        pm_labels_free(names);
        return r;
}

int
pm__index_drop_indexes(struct pm_index *idx, struct pm_error *err)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < sizeof(index_names) / sizeof(index_names[0]); i++) {
                char *sql = sqlite3_mprintf("DROP INDEX IF EXISTS main.\"%w\"", index_names[i]);

                if (!sql)
                        return pm_error_set(err, -ENOMEM, "cannot apply: out of memory");
                r = exec_script(idx, sql, "cannot apply", err);
                sqlite3_free(sql);
        }
        return r;
}

int
pm__index_create_indexes(struct pm_index *idx, struct pm_error *err)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < sizeof(index_sql) / sizeof(index_sql[0]); i++)
                r = exec_script(idx, index_sql[i], "cannot create indexes", err);
        return r;
}

/*
 * Make sure the main database has the current schema. The check runs under BEGIN IMMEDIATE so
 * two processes opening a fresh file do not both create it.
 */
static int
ensure_schema(struct pm_index *idx, struct pm_error *err)
{
        char *sql = NULL;
        int version = 0, r;

        r = read_user_version(idx, &version, err);
        if (r < 0)
                return r;
        if (version == PM_INDEX_SCHEMA_VERSION)
                return 0;

        r = exec_script(idx, "BEGIN IMMEDIATE", "cannot create model", err);
        if (r < 0)
                return r;
        r = read_user_version(idx, &version, err);
        if (r < 0 || version == PM_INDEX_SCHEMA_VERSION)
                goto out;
        r = drop_all(idx, err);
        if (r < 0)
                goto out;
        r = exec_script(idx, schema_sql, "cannot create model", err);
        if (r >= 0)
                r = pm__index_create_indexes(idx, err);
        if (r < 0)
                goto out;
        sql = sqlite3_mprintf("PRAGMA user_version = %d", PM_INDEX_SCHEMA_VERSION);
        if (!sql) {
                r = pm_error_set(err, -ENOMEM, "cannot create model: out of memory");
                goto out;
        }
        r = exec_script(idx, sql, "cannot create model", err);
out:
        sqlite3_free(sql);
        if (r < 0) {
                (void)sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        return exec_script(idx, "COMMIT", "cannot create model", err);
}

int
pm_index_open(const char *path, struct pm_index **ret, struct pm_error *err)
{
        struct pm_index *idx = NULL;
        int r, rc;

        (void)pm__index_install_allocator();
        idx = pm_calloc(1, sizeof(*idx));
        if (!idx)
                return pm_error_set(err, -ENOMEM, "cannot open model '%s': out of memory", path);
        idx->path = pm_strdup(path);
        if (!idx->path) {
                r = pm_error_set(err, -ENOMEM, "cannot open model '%s': out of memory", path);
                goto out;
        }
        rc = sqlite3_open_v2(path, &idx->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = pm__index_sqlite_error(idx, rc, "cannot open model", err);
                goto out;
        }
        rc = sqlite3_busy_timeout(idx->db, PM__INDEX_BUSY_TIMEOUT_MS);
        if (rc != SQLITE_OK) {
                r = pm__index_sqlite_error(idx, rc, "cannot open model", err);
                goto out;
        }
        /* journal_mode answers "memory" for ":memory:", which is fine. */
        r = exec_script(idx,
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                        " PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY;",
                        "cannot open model", err);
        if (r < 0)
                goto out;
        r = ensure_schema(idx, err);
        if (r < 0)
                goto out;
        /* After the schema: dropping an outdated schema must not run cascades. */
        r = exec_script(idx,
                        "PRAGMA foreign_keys = ON;"
                        "CREATE TEMP TABLE IF NOT EXISTS pm_q(label TEXT PRIMARY KEY NOT NULL)"
                        " WITHOUT ROWID;"
                        "CREATE TEMP TABLE IF NOT EXISTS pm_ids(id INTEGER PRIMARY KEY);",
                        "cannot open model", err);
        if (r < 0)
                goto out;
        *ret = pm_steal_ptr(&idx);
out:
        pm_index_close(idx);
        return r;
}

const char *
pm_index_path(const struct pm_index *idx)
{
        return idx->path;
}

struct pm_index *
pm_index_close(struct pm_index *idx)
{
        if (!idx)
                return NULL;
        for (size_t i = 0; i < _PM__STMT_MAX; i++)
                (void)sqlite3_finalize(idx->stmts[i]);
        /* sqlite3_close_v2 frees what it can even with a statement leaked by a bug. */
        (void)sqlite3_close_v2(idx->db);
        pm_labels_free(idx->sources);
        pm_free(idx->path);
        pm_free(idx);
        return NULL;
}

int
pm__index_read_generation(struct pm_index *idx, uint64_t *ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        uint64_t gen = 0;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_META_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, PM__INDEX_META_GENERATION);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                gen = (uint64_t)sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(idx, rc, "cannot read generation", err);
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret = gen;
        return 0;
}

int
pm_index_generation(struct pm_index *idx, uint64_t *ret, struct pm_error *err)
{
        return pm__index_read_generation(idx, ret, err);
}

int
pm_index_meta_get(struct pm_index *idx, const char *key, char **ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        char *value = NULL;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_META_GET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, key);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *s = (const char *)sqlite3_column_text(st, 0);

                if (s) {
                        value = pm_strdup(s);
                        if (!value)
                                r = pm_error_set(err, -ENOMEM,
                                                 "cannot read meta '%s': out of memory", key);
                }
        } else if (rc != SQLITE_DONE) {
                r = pm__index_sqlite_error(idx, rc, "cannot read meta", err);
        }
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret = value;
        return 0;
}

int
pm_index_meta_set(struct pm_index *idx, const char *key, const char *value, struct pm_error *err)
{
        sqlite3_stmt *st;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_META_SET, &st, err);
        if (r < 0)
                return r;
        (void)pm__bind_text(st, 1, key);
        (void)pm__bind_text(st, 2, value);
        rc = sqlite3_step(st);
        (void)sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return pm__index_sqlite_error(idx, rc, "cannot write meta", err);
        return 0;
}

int
pm_index_count(struct pm_index *idx, size_t *ret, struct pm_error *err)
{
        sqlite3_stmt *st;
        size_t n = 0;
        int r, rc;

        r = pm__index_stmt(idx, PM__STMT_COUNT, &st, err);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                n = (size_t)sqlite3_column_int64(st, 0);
        else
                r = pm__index_sqlite_error(idx, rc, "cannot count crates", err);
        (void)sqlite3_reset(st);
        if (r < 0)
                return r;
        *ret = n;
        return 0;
}

int
pm_index_check(struct pm_index *idx, struct pm_error *err)
{
        sqlite3_stmt *st = NULL;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(idx->db, "PRAGMA integrity_check", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return pm__index_sqlite_error(idx, rc, "cannot check model", err);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                const char *msg = (const char *)sqlite3_column_text(st, 0);

                if (!msg || strcmp(msg, "ok") != 0)
                        r = pm_error_set(err, PM_EDB, "model '%s' is damaged: %s", idx->path,
                                         msg ? msg : "no answer");
        } else {
                r = pm__index_sqlite_error(idx, rc, "cannot check model", err);
        }
        (void)sqlite3_finalize(st);
        if (r < 0)
                return r;

        /* integrity_check does not look at foreign keys. */
        rc = sqlite3_prepare_v2(idx->db, "PRAGMA foreign_key_check", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return pm__index_sqlite_error(idx, rc, "cannot check model", err);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                r = pm_error_set(err, PM_EDB, "model '%s' is damaged: dangling row in '%s'",
                                 idx->path, (const char *)sqlite3_column_text(st, 0));
        else if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(idx, rc, "cannot check model", err);
        (void)sqlite3_finalize(st);
        return r;
}
