/* SPDX-License-Identifier: MIT */
/* The proc-macro dylib cache (common/dylib-cache.c): a copy named by content, reused and never
 * rewritten, a rebuild landing beside the old copy instead of over it, and clear failures. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/dylib-cache.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"

#include "testlib.h"

/* How many entries of @dir have a name containing @needle. */
static int
count_entries(const char *dir, const char *needle)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && strstr(e->d_name, needle))
                        n++;
        closedir(d);
        return n;
}

Test(common_dylib_cache, copies_under_the_content_hash_and_reuses_it)
{
        char *tmp = pm_test_mkdtemp(),
             *built = pm_test_strf("%s/target/libderive_foo-1a2b.so", tmp);
        char *cache = pm_test_strf("%s/cache", tmp), *dylibs = pm_test_strf("%s/dylibs", cache);
        const char *content = "\177ELF pretend library v1";
        char *want = pm_test_strf("%s/lib%016" PRIx64 ".so", dylibs,
                                  pm_hash64(content, strlen(content), 0));
        char *got = NULL, *again = NULL, *text;
        struct pm_error err;
        struct stat st, st2;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(built, content), 0);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &got, &err), 0, "%s", err.msg);
        cr_assert_str_eq(got, want);
        text = pm_test_read_file(got);
        cr_assert_str_eq(text, content);
        cr_assert_eq(stat(got, &st), 0);
        cr_assert(st.st_mode & S_IXUSR, "a cached library must be executable");
        /* Same content again: the same file, not rewritten (a loaded library keeps its inode). */
        cr_assert_eq(pm_dylib_cache_put(cache, built, &again, &err), 0, "%s", err.msg);
        cr_assert_str_eq(again, got);
        cr_assert_eq(stat(again, &st2), 0);
        cr_assert_eq(st.st_ino, st2.st_ino);
        cr_assert_eq(count_entries(dylibs, ""), 1, "no temporary file is left behind");
        pm_free(text);
        pm_free(again);
        pm_free(got);
        pm_free(want);
        pm_test_rmtree(tmp);
        pm_free(dylibs);
        pm_free(cache);
        pm_free(built);
        pm_free(tmp);
}

/* Reuse renews a day-old copy's mtime, in place, so the cache's collection never takes a copy
 * in use (projmodel/dylib-cache.h); a younger copy keeps its mtime. */
Test(common_dylib_cache, reuse_renews_an_old_copy_in_place)
{
        char *tmp = pm_test_mkdtemp(), *built = pm_test_strf("%s/libmac.so", tmp);
        char *cache = pm_test_strf("%s/cache", tmp), *got = NULL, *again = NULL;
        struct timespec old[2] = { { .tv_sec = time(NULL) - 30 * 24 * 3600 },
                                   { .tv_sec = time(NULL) - 30 * 24 * 3600 } };
        struct timespec hour[2] = { { .tv_sec = time(NULL) - 3600 },
                                    { .tv_sec = time(NULL) - 3600 } };
        struct pm_error err;
        struct stat st, st2;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(built, "\177ELF v1"), 0);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(utimensat(AT_FDCWD, got, old, 0), 0);
        cr_assert_eq(stat(got, &st), 0);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &again, &err), 0, "%s", err.msg);
        cr_assert_str_eq(again, got);
        cr_assert_eq(stat(got, &st2), 0);
        cr_assert_eq(st.st_ino, st2.st_ino, "not rewritten");
        cr_assert_geq(st2.st_mtime, time(NULL) - 60, "a 30-day-old copy in use is renewed");

        cr_assert_eq(utimensat(AT_FDCWD, got, hour, 0), 0);
        pm_free(again);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &again, &err), 0, "%s", err.msg);
        cr_assert_eq(stat(got, &st2), 0);
        cr_assert_eq(st2.st_mtime, hour[1].tv_sec, "an hour-old copy keeps its mtime");
        /* A copy that went meanwhile is made again. */
        cr_assert_eq(pm_cache_touch(got), 0);
        cr_assert_eq(unlink(got), 0);
        cr_assert_eq(pm_cache_touch(got), -ENOENT);
        pm_free(again);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &again, &err), 0, "%s", err.msg);
        cr_assert_eq(access(got, R_OK), 0);
        pm_free(again);
        pm_free(got);
        pm_test_rmtree(tmp);
        pm_free(cache);
        pm_free(built);
        pm_free(tmp);
}

Test(common_dylib_cache, a_rebuild_never_overwrites_the_old_copy)
{
        char *tmp = pm_test_mkdtemp(), *built = pm_test_strf("%s/libm.so", tmp);
        char *cache = pm_test_strf("%s/c", tmp), *dylibs = pm_test_strf("%s/dylibs", cache);
        char *first = NULL, *second = NULL, *text;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(built, "version one"), 0);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &first, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_test_write_file(built, "version two!"), 0);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &second, &err), 0, "%s", err.msg);
        cr_assert_str_neq(first, second);
        text = pm_test_read_file(first);
        cr_assert_str_eq(text, "version one");
        pm_free(text);
        text = pm_test_read_file(second);
        cr_assert_str_eq(text, "version two!");
        pm_free(text);
        cr_assert_eq(count_entries(dylibs, ".so"), 2);
        cr_assert_eq(count_entries(dylibs, "tmp"), 0);
        pm_free(first);
        pm_free(second);
        pm_test_rmtree(tmp);
        pm_free(dylibs);
        pm_free(cache);
        pm_free(built);
        pm_free(tmp);
}

Test(common_dylib_cache, a_relative_cache_dir_gives_an_absolute_path)
{
        char *tmp = pm_test_mkdtemp(), *built = pm_test_strf("%s/macro.dylib", tmp);
        char *cwd = getcwd(NULL, 0), *got = NULL;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(built, "bytes"), 0);
        cr_assert_eq(chdir(tmp), 0);
        cr_assert_eq(pm_dylib_cache_put("rel/cache", built, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(chdir(cwd), 0);
        cr_assert_eq(got[0], '/', "%s", got);
        cr_assert(strncmp(got, tmp, strlen(tmp)) == 0, "%s not under %s", got, tmp);
        cr_assert(strstr(got, "/rel/cache/dylibs/") != NULL, "%s", got);
        cr_assert_eq(strcmp(got + strlen(got) - 6, ".dylib"), 0, "%s keeps the extension", got);
        free(cwd);
        pm_free(got);
        pm_test_rmtree(tmp);
        pm_free(built);
        pm_free(tmp);
}

Test(common_dylib_cache, a_missing_dylib_is_an_error_naming_it)
{
        char *tmp = pm_test_mkdtemp(), *built = pm_test_strf("%s/nope.so", tmp);
        char *cache = pm_test_strf("%s/c", tmp);
        char *got = (char *)"unset";
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_dylib_cache_put(cache, built, &got, &err), -ENOENT);
        cr_assert_null(got);
        cr_assert_str_eq(err.file, built);
        cr_assert(strstr(err.msg, "built dylib") != NULL, "%s", err.msg);
        pm_test_rmtree(tmp);
        pm_free(cache);
        pm_free(built);
        pm_free(tmp);
}
