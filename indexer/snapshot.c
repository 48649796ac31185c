/* SPDX-License-Identifier: MIT */
/* Snapshots of the model (SQLite's online backup) with their inputs' fingerprints, and seeding a
 * model from one: pm_index_snapshot(), pm_index_seed(). docs/cli.md describes both commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "indexer-internal.h"

/* Meta keys only a snapshot holds (and a model seeded from one, until its next snapshot). */
#define META_SNAPSHOT_ROOT "snapshot_root"
#define META_SNAPSHOT_TIME "snapshot_time"

/* Copy every page of @src's main database to @dst's, in one step (one consistent read). */
static int
backup_all(sqlite3 *dst, sqlite3 *src, const char *what, struct pm_error *err)
{
        sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
        int rc, tries = 0;

        if (!b)
                return pm_error_set(err, PM_EDB, "%s: %s", what, sqlite3_errmsg(dst));
        /* A writer holding the source locked makes the step busy: wait for it, bounded. */
        while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
                if (++tries > PM__INDEX_BUSY_TIMEOUT_MS / 10)
                        break;
                sqlite3_sleep(10);
        }
        (void)sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE)
                return pm_error_set(err, rc == SQLITE_NOMEM ? -ENOMEM : PM_EDB, "%s: %s", what,
                                    sqlite3_errstr(rc));
        return 0;
}

static int
exec_db(sqlite3 *db, const char *sql, const char *what, struct pm_error *err)
{
        int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

        if (rc != SQLITE_OK)
                return pm_error_set(err, rc == SQLITE_NOMEM ? -ENOMEM : PM_EDB, "%s: %s", what,
                                    sqlite3_errmsg(db));
        return 0;
}

/* Fill the copy's fingerprint table and meta, in one transaction. */
static int
write_inputs(sqlite3 *db, const char *root, char *const *paths, char *const *fps, size_t n,
             const char *what, struct pm_error *err)
{
        sqlite3_stmt *st = NULL;
        char now[32];
        int r, rc = SQLITE_OK;

        r = exec_db(db,
                    "BEGIN;"
                    "DROP TABLE IF EXISTS snapshot_inputs;"
                    "CREATE TABLE snapshot_inputs(path TEXT PRIMARY KEY NOT NULL,"
                    " fingerprint TEXT NOT NULL) WITHOUT ROWID;"
                    "DELETE FROM outputs;", /* renderings are cheap to redo, and large */
                    what, err);
        if (r < 0)
                return r;
        rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO snapshot_inputs VALUES (?1, ?2)", -1,
                                &st, NULL);
        for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
                (void)sqlite3_reset(st);
                rc = sqlite3_bind_text(st, 1, paths[i], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                        rc = sqlite3_bind_text(st, 2, fps[i], -1, SQLITE_STATIC);
                if (rc == SQLITE_OK)
                        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        (void)sqlite3_finalize(st);
        st = NULL;
        (void)snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(db,
                                        "INSERT OR REPLACE INTO meta(key, value) VALUES"
                                        " ('" META_SNAPSHOT_ROOT "', ?1),"
                                        " ('" META_SNAPSHOT_TIME "', ?2)",
                                        -1, &st, NULL);
        if (rc == SQLITE_OK) {
                (void)sqlite3_bind_text(st, 1, root, -1, SQLITE_STATIC);
                (void)sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
                rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        }
        (void)sqlite3_finalize(st);
        if (rc != SQLITE_OK) {
                r = pm_error_set(err, PM_EDB, "%s: %s", what, sqlite3_errmsg(db));
                (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                return r;
        }
        return exec_db(db, "COMMIT", what, err);
}

int
pm_index_snapshot(struct pm_index *idx, const char *path, const char *root, char *const *paths,
                  char *const *fingerprints, size_t n, struct pm_error *err)
{
        char what[PM_ERROR_MSG_MAX / 2];
        sqlite3 *db = NULL;
        char *tmp = NULL;
        struct stat st;
        int r, rc;

        (void)snprintf(what, sizeof(what), "cannot write snapshot '%s'", path);
        /* The snapshot replaces @path by rename: never a device node or FIFO (root could). */
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
                return pm_error_set(err, -EINVAL, "%s: not a regular file", what);
        tmp = pm_asprintf("%s.tmp-%ld", path, (long)getpid());
        if (!tmp)
                return pm_error_set(err, -ENOMEM, "%s: out of memory", what);
        (void)unlink(tmp);
        (void)pm__index_install_allocator();
        rc = sqlite3_open_v2(tmp, &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = pm_error_set(err, rc == SQLITE_NOMEM ? -ENOMEM : PM_EDB, "%s: %s", what,
                                 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
                goto out;
        }
        r = backup_all(db, idx->db, what, err);
        /* One file to publish: no WAL beside it. */
        if (r >= 0)
                r = exec_db(db, "PRAGMA journal_mode = DELETE", what, err);
        if (r >= 0)
                r = write_inputs(db, root, paths, fingerprints, n, what, err);
        if (r < 0)
                goto out;
        rc = sqlite3_close(db);
        db = NULL;
        if (rc != SQLITE_OK) {
                r = pm_error_set(err, PM_EDB, "%s: %s", what, sqlite3_errstr(rc));
                goto out;
        }
        if (rename(tmp, path) < 0)
                r = pm_error_set(err, -errno, "%s: %s", what, strerror(errno));
out:
        if (db)
                (void)sqlite3_close_v2(db);
        if (r < 0)
                (void)unlink(tmp);
        pm_free(tmp);
        return r;
}

void
pm_seed_release(struct pm_seed *s)
{
        if (!s)
                return;
        pm_labels_free(s->paths);
        pm_labels_free(s->fingerprints);
        memset(s, 0, sizeof(*s));
}

/* One text value of @db (first column of the first row of @sql, with @arg bound), or NULL. */
static int
read_value(sqlite3 *db, const char *sql, const char *arg, char **ret)
{
        sqlite3_stmt *st = NULL;
        int rc;

        *ret = NULL;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        if (rc == SQLITE_OK && arg)
                rc = sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        const char *s = (const char *)sqlite3_column_text(st, 0);

                        rc = SQLITE_OK;
                        if (s && !(*ret = pm_strdup(s)))
                                rc = SQLITE_NOMEM;
                } else if (rc == SQLITE_DONE) {
                        rc = SQLITE_OK;
                }
        }
        (void)sqlite3_finalize(st);
        return rc;
}

/* Check the snapshot @src is one of this schema and @root; its last refresh in *ret_time. */
static int
check_snapshot(sqlite3 *src, const char *path, const char *root, double *ret_time,
               struct pm_error *err)
{
        char *v = NULL;
        int rc, version, r = 0;

        rc = read_value(src, "PRAGMA user_version", NULL, &v);
        if (rc != SQLITE_OK) {
                r = pm_error_set(err, PM_EDB, "cannot read snapshot '%s': %s", path,
                                 sqlite3_errmsg(src));
                goto out;
        }
        version = v ? (int)strtol(v, NULL, 10) : 0;
        pm_free(v);
        v = NULL;
        if (version != PM_INDEX_SCHEMA_VERSION) {
                r = pm_error_set(err, PM_EDB,
                                 "snapshot '%s' holds model version %d, this projmodel reads %d",
                                 path, version, PM_INDEX_SCHEMA_VERSION);
                goto out;
        }
        rc = read_value(src, "SELECT count(*) FROM snapshot_inputs", NULL, &v);
        pm_free(v);
        v = NULL;
        if (rc == SQLITE_OK)
                rc = read_value(src, "SELECT value FROM meta WHERE key = ?1", META_SNAPSHOT_ROOT,
                                &v);
        if (rc != SQLITE_OK || !v) {
                r = pm_error_set(err, PM_EDB,
                                 "'%s' is not a projmodel snapshot (write one with 'projmodel "
                                 "snapshot')",
                                 path);
                goto out;
        }
        if (strcmp(v, root) != 0) {
                r = pm_error_set(err, PM_ECONFIG, "snapshot '%s' was taken of '%s', not of '%s'",
                                 path, v ? v : "?", root);
                goto out;
        }
        pm_free(v);
        v = NULL;
        (void)read_value(src, "SELECT value FROM meta WHERE key = ?1", PM_META_LAST_REFRESH, &v);
        *ret_time = v ? strtod(v, NULL) : 0;
out:
        pm_free(v);
        return r;
}

/* Read the inputs' fingerprints from @idx (now the copy) into @s, then drop the table. */
static int
take_inputs(struct pm_index *idx, struct pm_seed *s, struct pm_error *err)
{
        sqlite3_stmt *st = NULL;
        size_t cap = 0;
        int r = 0, rc;

        rc = sqlite3_prepare_v2(idx->db, "SELECT path, fingerprint FROM snapshot_inputs", -1, &st,
                                NULL);
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
                rc = sqlite3_step(st);
                if (rc != SQLITE_ROW)
                        break;
                if (s->n + 2 > cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        char **a = pm_realloc(s->paths, ncap * sizeof(*a));
                        char **b = a ? pm_realloc(s->fingerprints, ncap * sizeof(*b)) : NULL;

                        if (a)
                                s->paths = a;
                        if (!b) {
                                rc = SQLITE_NOMEM;
                                break;
                        }
                        s->fingerprints = b;
                        cap = ncap;
                }
                s->paths[s->n] = pm_strdup((const char *)sqlite3_column_text(st, 0));
                s->fingerprints[s->n] = pm_strdup((const char *)sqlite3_column_text(st, 1));
                s->n++;
                s->paths[s->n] = s->fingerprints[s->n] = NULL;
                if (!s->paths[s->n - 1] || !s->fingerprints[s->n - 1]) {
                        rc = SQLITE_NOMEM;
                        break;
                }
        }
        (void)sqlite3_finalize(st);
        if (rc == SQLITE_NOMEM)
                r = pm_error_set(err, -ENOMEM, "cannot seed the model: out of memory");
        else if (rc != SQLITE_DONE)
                r = pm__index_sqlite_error(idx, rc, "cannot seed the model", err);
        else if (!s->paths && !(s->paths = pm_calloc(1, sizeof(char *))))
                r = pm_error_set(err, -ENOMEM, "cannot seed the model: out of memory");
        else if (!s->fingerprints && !(s->fingerprints = pm_calloc(1, sizeof(char *))))
                r = pm_error_set(err, -ENOMEM, "cannot seed the model: out of memory");
        /* The model is now this daemon's own: its fingerprints are not the snapshot's. */
        if (r >= 0) {
                rc = sqlite3_exec(idx->db, "DROP TABLE snapshot_inputs", NULL, NULL, NULL);
                if (rc != SQLITE_OK)
                        r = pm__index_sqlite_error(idx, rc, "cannot seed the model", err);
        }
        return r;
}

int
pm_index_seed(struct pm_index *idx, const char *path, const char *root, bool only_if_newer,
              struct pm_seed *ret, struct pm_error *err)
{
        char what[PM_ERROR_MSG_MAX / 2];
        struct pm_seed s = { 0 };
        sqlite3 *src = NULL;
        double snap_time = 0;
        char *v = NULL;
        int r, rc;

        (void)snprintf(what, sizeof(what), "cannot seed the model from '%s'", path);
        (void)pm__index_install_allocator();
        rc = sqlite3_open_v2(path, &src,
                             SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK) {
                r = pm_error_set(err, rc == SQLITE_NOMEM ? -ENOMEM : PM_EDB,
                                 "cannot read snapshot '%s': %s", path,
                                 src ? sqlite3_errmsg(src) : sqlite3_errstr(rc));
                goto out;
        }
        r = check_snapshot(src, path, root, &snap_time, err);
        if (r < 0)
                goto out;
        if (only_if_newer) {
                r = pm_index_meta_get(idx, PM_META_LAST_REFRESH, &v, err);
                if (r < 0)
                        goto out;
                if (v && strtod(v, NULL) >= snap_time)
                        goto done;
        }
        r = backup_all(idx->db, src, what, err);
        if (r >= 0)
                r = take_inputs(idx, &s, err);
        if (r < 0)
                goto out;
        s.seeded = true;
done:
        *ret = s;
        memset(&s, 0, sizeof(s));
out:
        pm_free(v);
        pm_seed_release(&s);
        (void)sqlite3_close_v2(src);
        return r;
}
