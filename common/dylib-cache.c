/* SPDX-License-Identifier: MIT */
/* The content-addressed proc-macro dylib cache (projmodel/dylib-cache.h). */
#include "projmodel/dylib-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

int
pm_cache_touch(const char *path)
{
        struct stat st;

        if (lstat(path, &st) < 0)
                return -errno;
        if (time(NULL) - st.st_mtime < PM_CACHE_TOUCH_S)
                return 0;
        return utimensat(AT_FDCWD, path, NULL, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Create @dir (absolute, normalised, writable copy) and its missing parents, as mkdir -p. */
static int
make_dirs(char *dir, struct pm_error *err)
{
        struct stat st;
        char *p;

        for (p = dir + 1;; p++) {
                char c = *p;

                if (c != '/' && c != '\0')
                        continue;
                *p = '\0';
                if (mkdir(dir, 0755) < 0 &&
                    !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))) {
                        int e = errno;

                        *p = c;
                        return pm_error_set_at(err, -e, dir, 0, 0,
                                               "cannot create the dylib cache folder: %s",
                                               strerror(e));
                }
                *p = c;
                if (c == '\0')
                        return 0;
        }
}

/* Read all of @path into a pm_malloc'd buffer (*ret, *len). */
static int
read_all(const char *path, unsigned char **ret, size_t *len, struct pm_error *err)
{
        unsigned char *buf = NULL;
        struct stat st;
        size_t cap, n = 0;
        int fd, r = 0;

        *ret = NULL;
        *len = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = pm_error_set_at(err, -errno, path, 0, 0, "cannot read the built dylib: %s",
                                    strerror(errno));
                goto exit;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                r = pm_error_set_at(err, -EINVAL, path, 0, 0,
                                    "the built dylib is not a regular file");
                goto exit;
        }
        cap = (size_t)st.st_size + 1;
        buf = pm_malloc(cap);
        if (!buf) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto exit;
        }
        for (;;) {
                ssize_t got;

                if (pm_grow(&buf, &cap, n + 1, 0) < 0) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto exit;
                }
                got = read(fd, buf + n, cap - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        r = pm_error_set_at(err, -errno, path, 0, 0,
                                            "cannot read the built dylib: %s", strerror(errno));
                        goto exit;
                }
                if (got == 0)
                        break;
                n += (size_t)got;
        }
        *ret = buf;
        *len = n;
        buf = NULL;
exit:
        if (fd >= 0)
                close(fd);
        pm_free(buf);
        return r;
}

/* Write @len bytes of @buf to a fresh temporary file next to @dest and rename it onto @dest. */
static int
write_atomic(const char *dest, const unsigned char *buf, size_t len, struct pm_error *err)
{
        char *tmp = NULL;
        size_t off = 0;
        int fd = -1, r = 0;

        tmp = pm_asprintf("%s.tmp-XXXXXX", dest);
        if (!tmp) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto exit;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = pm_error_set_at(err, -errno, dest, 0, 0, "cannot write the cached dylib: %s",
                                    strerror(errno));
                pm_free(tmp);
                tmp = NULL;
                goto exit;
        }
        while (off < len) {
                ssize_t put = write(fd, buf + off, len - off);

                if (put < 0 && errno == EINTR)
                        continue;
                if (put < 0) {
                        r = pm_error_set_at(err, -errno, tmp, 0, 0,
                                            "cannot write the cached dylib: %s", strerror(errno));
                        goto exit;
                }
                off += (size_t)put;
        }
        /* A library is mapped executable; mkostemp() made the file 0600. */
        if (fchmod(fd, 0755) < 0 || close(fd) < 0) {
                fd = -1;
                r = pm_error_set_at(err, -errno, tmp, 0, 0, "cannot write the cached dylib: %s",
                                    strerror(errno));
                goto exit;
        }
        fd = -1;
        if (rename(tmp, dest) < 0) {
                r = pm_error_set_at(err, -errno, dest, 0, 0, "cannot write the cached dylib: %s",
                                    strerror(errno));
                goto exit;
        }
        pm_free(tmp);
        tmp = NULL;
exit:
        if (fd >= 0)
                close(fd);
        if (tmp) {
                unlink(tmp);
                pm_free(tmp);
        }
        return r;
}

int
pm_dylib_cache_put(const char *cache_dir, const char *built_path, char **out_path,
                   struct pm_error *err)
{
        unsigned char *buf = NULL;
        char *abs_cache = NULL, *dir = NULL, *dest = NULL;
        const char *base, *dot;
        struct stat st;
        size_t len;
        uint64_t h;
        int r;

        *out_path = NULL;
        abs_cache = pm_path_absolute(cache_dir);
        if (!abs_cache) {
                r = pm_error_set_at(err, errno ? -errno : -ENOMEM, cache_dir, 0, 0,
                                    "cannot resolve the cache folder");
                goto exit;
        }
        r = read_all(built_path, &buf, &len, err);
        if (r < 0)
                goto exit;
        h = pm_hash64(buf, len, 0);
        base = pm_path_basename(built_path);
        dot = strrchr(base, '.');
        dir = pm_path_join(NULL, abs_cache, "dylibs");
        /* "lib" first: rustc takes a proc macro by path (`--extern name=path`) only when the
         * file is named lib*.so (lib*.dylib, ...); rust-analyzer loads any name. */
        dest = dot && dot != base ? pm_asprintf("%s/lib%016" PRIx64 "%s", dir ? dir : "", h, dot)
                                  : pm_asprintf("%s/lib%016" PRIx64, dir ? dir : "", h);
        if (!dir || !dest) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto exit;
        }
        r = make_dirs(dir, err);
        if (r < 0)
                goto exit;
        /* Same name, same bytes: never rewrite a file a proc-macro server may have mapped. A
         * copy collected between the stat and the touch is written again. */
        if (stat(dest, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len &&
            pm_cache_touch(dest) == 0)
                goto done;
        r = write_atomic(dest, buf, len, err);
        if (r < 0)
                goto exit;
done:
        *out_path = dest;
        dest = NULL;
exit:
        pm_free(buf);
        pm_free(abs_cache);
        pm_free(dir);
        pm_free(dest);
        return r;
}
