/* SPDX-License-Identifier: MIT */
/* The content-addressed proc-macro dylib cache: a built dylib is copied to a file named by its
 * content, so a rebuild never overwrites a library a running proc-macro server has loaded. */
#ifndef PROJMODEL_DYLIB_CACHE_H
#define PROJMODEL_DYLIB_CACHE_H

struct pm_error;

/*
 * Copy the dylib at @built_path (as a build tool reported it) to
 * "<@cache_dir>/dylibs/lib<content hash>.<ext>", where the hash is 16 hex digits of pm_hash64() of
 * the bytes and <ext> is @built_path's extension ("so", "dylib", "dll"; none when it has none).
 * Creates @cache_dir and its "dylibs" folder when missing. The copy is written to a temporary
 * file in the same folder and renamed into place, so a reader sees either no file or the whole
 * one; a file already cached under that name is reused and never rewritten. Both paths are
 * borrowed. On success *out_path is the absolute, normalised cached path, pm_malloc'd and owned
 * by the caller (pm_free); on failure it is NULL and @err names the file that could not be read
 * or written.
 */
int pm_dylib_cache_put(const char *cache_dir, const char *built_path, char **out_path,
                       struct pm_error *err);

#endif
