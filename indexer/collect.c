/* SPDX-License-Identifier: MIT */
/* Collecting a cache directory: the dylib copies (<cache>/dylibs/) and joined source directories
 * (<cache>/srcs/) that no model database of the directory names, once left alone long enough
 * (the ages in projmodel/dylib-cache.h; docs/build-integration.md, "The cache directory"). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "projmodel/dylib-cache.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "indexer-internal.h"

#define STAMP_NAME   "collected" /* its mtime: when the directory was last collected */
#define STAMP_SKEW_S 2           /* how far ahead of time() the stamp may be (collected_lately()) */
#define GONE_PREFIX  ".gc-"      /* an entry being removed */
#define MODELS_NAME  "models"    /* links to the models kept outside the directory */
#define MAX_DEPTH    64          /* a joined source directory is as deep as its crate's sources */

/*
 * A set of entry names: v[0, sorted) is sorted and unique, v[sorted, n) appended since. A model
 * names one entry once per cached rendering that holds it, so a name already in the sorted part
 * is not copied again, and a full array is compacted before it grows: the set stays as large as
 * its distinct names, not as their occurrences.
 */
struct names {
        char **v;
        size_t n, sorted, cap;
};

static void
names_release(struct names *s)
{
        for (size_t i = 0; i < s->n; i++)
                pm_free(s->v[i]);
        pm_free(s->v);
        memset(s, 0, sizeof(*s));
}

static int
cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and deduplicate the whole set: lookups (names_has()) need it. */
static void
names_compact(struct names *s)
{
        size_t k = 0;

        if (s->n)
                qsort(s->v, s->n, sizeof(*s->v), cmp_names);
        for (size_t i = 0; i < s->n; i++) {
                if (k && strcmp(s->v[k - 1], s->v[i]) == 0)
                        pm_free(s->v[i]);
                else
                        s->v[k++] = s->v[i];
        }
        s->n = s->sorted = k;
}

/* Whether the sorted part holds the @len bytes at @p. */
static bool
names_sorted_has(const struct names *s, const char *p, size_t len)
{
        size_t lo = 0, hi = s->sorted;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strncmp(s->v[mid], p, len);

                if (c == 0 && s->v[mid][len] != '\0')
                        c = 1;
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

static int
names_add(struct names *s, const char *p, size_t len)
{
        char *copy;

        if (names_sorted_has(s, p, len))
                return 0;
        if (s->n == s->cap) {
                if (s->n > s->sorted) {
                        names_compact(s);
                        if (names_sorted_has(s, p, len))
                                return 0;
                }
                /* Grow when compacting freed less than half: the next compaction is then at
                 * least half an array of additions away, as with plain doubling. */
                if (2 * s->n >= s->cap && pm_grow(&s->v, &s->cap, s->cap + 1, 64) < 0)
                        return -ENOMEM;
        }
        copy = pm_strndup(p, len);
        if (!copy)
                return -ENOMEM;
        s->v[s->n++] = copy;
        return 0;
}

static bool
names_has(const struct names *s, const char *name)
{
        return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_names) != NULL;
}

static bool
name_char(char c)
{
        return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/*
 * Every entry name @text (@len bytes, any column's value) names after a "/dylibs/" or "/srcs/".
 * Matching the folders' names rather than the cache's path keeps an entry a model names through
 * another spelling of the directory (a link, a snapshot from another machine); a user's own
 * "srcs" folder only keeps a name no entry has.
 */
static int
scan_value(struct names *refs, const char *text, size_t len)
{
        static const char *const dirs[] = { "/dylibs/", "/srcs/" };
        const char *end = text + len;

        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                size_t dlen = strlen(dirs[i]);
                const char *p = text, *q;

                while (p < end && (q = memmem(p, (size_t)(end - p), dirs[i], dlen))) {
                        const char *s = q + dlen, *e = s;

                        while (e < end && name_char(*e))
                                e++;
                        if (e > s && names_add(refs, s, (size_t)(e - s)) < 0)
                                return -ENOMEM;
                        p = e;
                }
        }
        return 0;
}

static int
sqlite_failed(sqlite3 *db, int rc, const char *path, struct pm_error *err)
{
        if ((rc & 0xff) == SQLITE_NOMEM)
                return pm_error_set(err, -ENOMEM, "out of memory");
        return pm_error_set_at(err, PM_EDB, path, 0, 0, "cannot read the model: %s",
                               db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Scan one table's every text and blob value; SQLITE_DONE, or the failing code. */
static int
scan_table(sqlite3 *db, const char *table, struct names *refs)
{
        sqlite3_stmt *st = NULL;
        char *sql = sqlite3_mprintf("SELECT * FROM \"%w\"", table);
        int rc;

        if (!sql)
                return SQLITE_NOMEM;
        rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
                rc = sqlite3_step(st);
                for (int c = 0; rc == SQLITE_ROW && c < sqlite3_column_count(st); c++) {
                        int type = sqlite3_column_type(st, c);
                        const void *p;

                        if (type != SQLITE_TEXT && type != SQLITE_BLOB)
                                continue;
                        p = sqlite3_column_blob(st, c);
                        if (p && scan_value(refs, p, (size_t)sqlite3_column_bytes(st, c)) < 0)
                                rc = SQLITE_NOMEM;
                }
        }
        sqlite3_finalize(st);
        sqlite3_free(sql);
        return rc;
}

/*
 * Add every entry name the model database @path holds anywhere to @refs. Every table and column
 * is read, not the current schema's: a model of another projmodel version, or its cached
 * renderings, keeps what it names too. One read transaction, so a concurrent apply is seen whole
 * or not at all.
 */
static int
scan_model(const char *path, struct names *refs, struct pm_error *err)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_busy_timeout(db, PM__INDEX_BUSY_TIMEOUT_MS);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'",
                                        -1, &st, NULL);
        while (rc == SQLITE_OK || rc == SQLITE_ROW) {
                rc = sqlite3_step(st);
                if (rc == SQLITE_ROW) {
                        const char *t = (const char *)sqlite3_column_text(st, 0);
                        int tr = t ? scan_table(db, t, refs) : SQLITE_NOMEM;

                        if (tr != SQLITE_DONE) {
                                rc = tr;
                                break;
                        }
                }
        }
        if (rc != SQLITE_DONE)
                r = sqlite_failed(db, rc, path, err);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return r;
}

/* Whether @name is a model database of the directory: "<name>.db", as pm_config_db_path()
 * names them (not their "-wal" and "-shm" files). */
static bool
is_model(const char *name)
{
        size_t len = strlen(name);

        return len > 3 && strcmp(name + len - 3, ".db") == 0;
}

/*
 * Read every model of the folder @path into @refs; @stats counts them. In the cache directory
 * itself (@links false) they are its files; in its "models" folder (@links true), links to the
 * models kept elsewhere (register_model()), and a link whose model is gone is removed.
 */
static int
scan_models(const char *path, bool links, struct names *refs, struct pm_cache_stats *stats,
            struct pm_error *err)
{
        DIR *dir = opendir(path);
        struct dirent *de;
        struct stat sb;
        int r = 0;

        if (!dir)
                return errno == ENOENT && links
                               ? 0
                               : pm_error_set_at(err, -errno, path, 0, 0,
                                                 "cannot read the cache folder: %s",
                                                 strerror(errno));
        while (r == 0 && (de = readdir(dir))) {
                char *model;

                if (!is_model(de->d_name))
                        continue;
                if (fstatat(dirfd(dir), de->d_name, &sb, links ? 0 : AT_SYMLINK_NOFOLLOW) < 0) {
                        if (links && errno == ENOENT)
                                (void)unlinkat(dirfd(dir), de->d_name, 0);
                        continue;
                }
                if (!S_ISREG(sb.st_mode))
                        continue;
                model = pm_path_join(NULL, path, de->d_name);
                if (!model) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                r = scan_model(model, refs, err);
                stats->models += r == 0;
                pm_free(model);
        }
        closedir(dir);
        return r;
}

/*
 * Make the model @model, when it lives outside the cache directory @cache (`--db`), known to
 * every collection of the directory: a link "models/<hash of its path>.db" to it, made in one
 * rename. Best effort: a model not registered keeps its entries young until it is (each of its
 * refreshes asks for a collection, and so registers it, right after it applied).
 */
static void
register_model(const char *cache, const char *model)
{
        char *dir, *link = NULL, *folder = NULL;

        if (!model || !pm_path_is_absolute(model))
                return;
        dir = pm_path_dirname(NULL, model);
        if (!dir || (strcmp(dir, cache) == 0 && is_model(pm_path_basename(model))))
                goto out;
        folder = pm_path_join(NULL, cache, MODELS_NAME);
        link = pm_asprintf("%s/%016" PRIx64 ".db", folder ? folder : "", pm_hash64_str(model, 0));
        if (!folder || !link || (mkdir(folder, 0700) < 0 && errno != EEXIST))
                goto out;
        (void)pm_symlink_replace(link, model);
out:
        pm_free(dir);
        pm_free(folder);
        pm_free(link);
}

/* Remove @name under @dfd and everything below it, never following a link. */
static int
remove_tree(int dfd, const char *name, int depth)
{
        struct dirent *de;
        DIR *d;
        int fd, r = 0;

        if (unlinkat(dfd, name, 0) == 0)
                return 0;
        if (errno != EISDIR || depth >= MAX_DEPTH)
                return -errno;
        fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                int q;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                q = remove_tree(dirfd(d), de->d_name, depth + 1);
                if (q < 0 && r == 0)
                        r = q;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

/*
 * Remove the entry @name of the folder @dfd when no model names it and it is PM_CACHE_KEEP_S
 * old. It is first renamed aside and its age read again: whoever reuses an entry renews its mtime
 * first (pm_cache_touch()), so a reuse racing this either shows in the second reading, and the
 * entry is put back, or finds the entry gone and makes it again.
 */
static void
sweep_entry(int dfd, const char *name, const struct names *refs, time_t now,
            struct pm_cache_stats *stats)
{
        char gone[NAME_MAX + 1];
        struct stat sb;

        if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (names_has(refs, name)) {
                stats->kept++;
                if (now - sb.st_mtime >= PM_CACHE_TOUCH_S)
                        (void)utimensat(dfd, name, NULL, AT_SYMLINK_NOFOLLOW);
                return;
        }
        if (now - sb.st_mtime < PM_CACHE_KEEP_S) {
                stats->young++;
                return;
        }
        if (strncmp(name, GONE_PREFIX, strlen(GONE_PREFIX)) == 0) {
                /* Left by a collection that stopped half-way. */
                (void)snprintf(gone, sizeof(gone), "%s", name);
        } else {
                if (snprintf(gone, sizeof(gone), GONE_PREFIX "%s", name) >= (int)sizeof(gone) ||
                    renameat(dfd, name, dfd, gone) < 0)
                        return;
                if (fstatat(dfd, gone, &sb, AT_SYMLINK_NOFOLLOW) < 0)
                        return;
                if (now - sb.st_mtime < PM_CACHE_KEEP_S) {
                        /* Reused meanwhile. Made again meanwhile instead: this copy goes. */
                        if (renameat2(dfd, gone, dfd, name, RENAME_NOREPLACE) == 0) {
                                stats->young++;
                                return;
                        }
                }
        }
        if (remove_tree(dfd, gone, 0) == 0) {
                stats->removed++;
                stats->bytes += S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
        }
}

/* Sweep the folder @sub of @cache. Its names are read first: the sweep renames entries. */
static int
sweep(const char *cache, const char *sub, const struct names *refs, time_t now,
      struct pm_cache_stats *stats, struct pm_error *err)
{
        struct names here = { 0 };
        struct dirent *de;
        char *path = pm_path_join(NULL, cache, sub);
        DIR *d = path ? opendir(path) : NULL;
        int r = 0;

        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (!d) {
                r = errno == ENOENT
                            ? 0
                            : pm_error_set_at(err, -errno, path, 0, 0,
                                              "cannot read the cache folder: %s", strerror(errno));
                pm_free(path);
                return r;
        }
        while (r == 0 && (de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        r = names_add(&here, de->d_name, strlen(de->d_name));
        if (r < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r == 0 && i < here.n; i++)
                sweep_entry(dirfd(d), here.v[i], refs, now, stats);
        closedir(d);
        names_release(&here);
        pm_free(path);
        return r;
}

/* Whether @cache was collected less than PM_CACHE_INTERVAL_S ago; if not, it is now. */
static bool
collected_lately(int dfd, time_t now)
{
        struct stat sb;
        int fd;

        /* A stamp further ahead than STAMP_SKEW_S is from a clock set back since, and is not
         * trusted. One a second ahead is not: a file's times can be finer than time()'s coarse
         * clock (Linux's multigrain timestamps), so the stamp written a moment ago can read as
         * the next second. */
        if (fstatat(dfd, STAMP_NAME, &sb, 0) == 0 && now - sb.st_mtime < PM_CACHE_INTERVAL_S &&
            sb.st_mtime - now <= STAMP_SKEW_S)
                return true;
        fd = openat(dfd, STAMP_NAME, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
                (void)futimens(fd, NULL);
                close(fd);
        }
        return false;
}

int
pm_index_cache_collect(const char *cache_dir, const char *model, struct pm_cache_stats *ret,
                       struct pm_error *err)
{
        struct names refs = { 0 };
        time_t now = time(NULL);
        char *models = NULL;
        DIR *dir;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        dir = opendir(cache_dir);
        if (!dir) {
                if (errno == ENOENT)
                        return 0;
                return pm_error_set_at(err, -errno, cache_dir, 0, 0,
                                       "cannot read the cache folder: %s", strerror(errno));
        }
        register_model(cache_dir, model);
        if (collected_lately(dirfd(dir), now))
                goto out;
        ret->ran = true;
        models = pm_path_join(NULL, cache_dir, MODELS_NAME);
        if (!models) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = scan_models(cache_dir, false, &refs, ret, err);
        if (r == 0)
                r = scan_models(models, true, &refs, ret, err);
        if (r < 0)
                goto out;
        names_compact(&refs);
        r = sweep(cache_dir, "dylibs", &refs, now, ret, err);
        if (r == 0)
                r = sweep(cache_dir, "srcs", &refs, now, ret, err);
out:
        closedir(dir);
        names_release(&refs);
        pm_free(models);
        return r;
}
