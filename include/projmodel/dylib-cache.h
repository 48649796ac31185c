/* SPDX-License-Identifier: MIT */
/* The content-addressed proc-macro dylib cache: a built dylib is copied to a file named by its
 * content, so a rebuild never overwrites a library a running proc-macro server has loaded; and
 * the ages that let the cache directory be collected (pm_index_cache_collect(), index.h). */
#ifndef PROJMODEL_DYLIB_CACHE_H
#define PROJMODEL_DYLIB_CACHE_H

struct pm_error;

/*
 * The cache directory's entries (the dylib copies here, server/srcmirror.c's joined source
 * directories) are named by what they hold and shared by every model of the directory, so no
 * model owns one. pm_index_cache_collect() removes an entry no model names once its mtime is
 * PM_CACHE_KEEP_S old; whoever serves an entry renews its mtime when it is PM_CACHE_TOUCH_S old
 * (pm_cache_touch()), so an entry in use is always younger than the collector's limit and an
 * entry dropped from the models is kept at least PM_CACHE_KEEP_S - 2 * PM_CACHE_TOUCH_S for a
 * rust-analyzer still holding the last answer. Touching only a day-old entry keeps the mtime of
 * a loaded dylib stable (rust-analyzer's proc-macro server keys what it loaded by path and mtime).
 */
#define PM_CACHE_KEEP_S     (7 * 24 * 3600)
#define PM_CACHE_TOUCH_S    (24 * 3600)
#define PM_CACHE_INTERVAL_S (24 * 3600) /* one collection per directory and day at most */

/*
 * Renew the mtime of the cache entry @path (file or directory, not followed when a link) when
 * it is at least PM_CACHE_TOUCH_S old. Returns 0, or a negative errno (-ENOENT: the entry is
 * gone, e.g. collected meanwhile, and must be made again).
 */
int pm_cache_touch(const char *path);

/*
 * Copy the dylib at @built_path (as a build tool reported it) to
 * "<@cache_dir>/dylibs/lib<content hash>.<ext>", where the hash is 16 hex digits of pm_hash64() of
 * the bytes and <ext> is @built_path's extension ("so", "dylib", "dll"; none when it has none).
 * Creates @cache_dir and its "dylibs" folder when missing. The copy is written to a temporary
 * file in the same folder and renamed into place, so a reader sees either no file or the whole
 * one; a file already cached under that name is reused (pm_cache_touch()) and never rewritten. Both
 * paths are borrowed. On success *out_path is the absolute, normalised cached path, pm_malloc'd and
 * owned by the caller (pm_free); on failure it is NULL and @err names the file that could not be
 * read or written.
 */
int pm_dylib_cache_put(const char *cache_dir, const char *built_path, char **out_path,
                       struct pm_error *err);

#endif
