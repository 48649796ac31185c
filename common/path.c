/* SPDX-License-Identifier: MIT */
/* Lexical path normalisation with rust-analyzer's semantics; never touches the file system
 * except pm_path_cwd(), pm_path_absolute(), pm_path_exists_in(), pm_path_command_take() and
 * pm_path_self_exe(). */
#include "projmodel/path.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

static char *
alloc_str(struct pm_arena *a, size_t size)
{
        return a ? pm_arena_alloc(a, size) : pm_malloc(size);
}

/*
 * Normalise @path (already joined) into @out, which has room for strlen(path) + 2 bytes.
 * Components are copied forward; ".." removes the previously written component unless that is
 * itself "..", or nothing remains of an absolute path (then it is dropped: "/.." is "/").
 */
static void
normalize_into(char *out, const char *path)
{
        bool absolute = path[0] == '/';
        size_t len = 0, base = absolute ? 1 : 0, n_comp = 0, n_up = 0;
        const char *p = path, *comp;
        size_t clen;

        if (absolute)
                out[len++] = '/';
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                comp = p;
                while (*p && *p != '/')
                        p++;
                clen = (size_t)(p - comp);
                if (clen == 1 && comp[0] == '.')
                        continue;
                if (clen == 2 && comp[0] == '.' && comp[1] == '.') {
                        if (n_comp > n_up) {
                                /* Drop the last component and its separator. */
                                while (len > base && out[len - 1] != '/')
                                        len--;
                                if (len > base)
                                        len--;
                                n_comp--;
                                continue;
                        }
                        if (absolute)
                                continue;
                        n_up++;
                }
                if (len > base)
                        out[len++] = '/';
                memcpy(out + len, comp, clen);
                len += clen;
                n_comp++;
        }
        if (len == 0)
                out[len++] = '.';
        out[len] = '\0';
}

char *
pm_path_normalize(struct pm_arena *a, const char *base, const char *path)
{
        size_t blen = 0, plen = strlen(path);
        bool join = base && path[0] != '/';
        char *tmp = NULL, *out;

        if (join) {
                blen = strlen(base);
                tmp = pm_malloc(blen + 1 + plen + 1);
                if (!tmp)
                        return NULL;
                memcpy(tmp, base, blen);
                tmp[blen] = '/';
                memcpy(tmp + blen + 1, path, plen + 1);
                path = tmp;
                plen += blen + 1;
        }
        out = alloc_str(a, plen + 2);
        if (out)
                normalize_into(out, path);
        pm_free(tmp);
        return out;
}

char *
pm_path_join(struct pm_arena *a, const char *dir, const char *rel)
{
        size_t dlen = strlen(dir), rlen = strlen(rel);
        char *tmp, *out;

        tmp = pm_malloc(dlen + 1 + rlen + 1);
        if (!tmp)
                return NULL;
        memcpy(tmp, dir, dlen);
        tmp[dlen] = '/';
        memcpy(tmp + dlen + 1, rel, rlen + 1);
        out = alloc_str(a, dlen + rlen + 3);
        if (out)
                normalize_into(out, tmp);
        pm_free(tmp);
        return out;
}

char *
pm_path_dirname(struct pm_arena *a, const char *path)
{
        size_t len = strlen(path);
        char *out;

        /* Ignore trailing slashes, then the last component, then the slashes before it. */
        while (len > 1 && path[len - 1] == '/')
                len--;
        while (len > 0 && path[len - 1] != '/')
                len--;
        while (len > 1 && path[len - 1] == '/')
                len--;
        if (len == 0) {
                path = ".";
                len = 1;
        }
        out = alloc_str(a, len + 1);
        if (!out)
                return NULL;
        memcpy(out, path, len);
        out[len] = '\0';
        return out;
}

const char *
pm_path_basename(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                return path;
        if (slash[1] == '\0' && slash == path)
                return path;
        return slash + 1;
}

bool
pm_path_is_under(const char *path, const char *dir)
{
        size_t dlen = strlen(dir);

        if (dlen == 1 && dir[0] == '/')
                return path[0] == '/';
        if (strncmp(path, dir, dlen) != 0)
                return false;
        return path[dlen] == '\0' || path[dlen] == '/';
}

bool
pm_path_is_absolute(const char *path)
{
        return path && path[0] == '/';
}

int
pm_path_systemd_escape(const char *path, char **ret_escaped, struct pm_error *err)
{
        static const char hex[] = "0123456789abcdef";
        const char *p = path;
        char *out = NULL, *t;
        int r = 0;

        if (path[0] != '/' || strlen(path) >= PATH_MAX) {
                r = pm_error_set(err, -EINVAL, "cannot escape '%s' as a unit name", path);
                goto out;
        }
        /* At most four bytes out per byte in, plus "-" for "/" and the NUL. */
        out = pm_malloc(strlen(path) * 4 + 2);
        if (!out) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        t = out;
        while (*p) {
                const char *comp = p + strspn(p, "/");
                size_t n = strcspn(comp, "/");

                p = comp + n;
                if (n == 0 || (n == 1 && comp[0] == '.'))
                        continue;
                if (n > NAME_MAX || (n == 2 && comp[0] == '.' && comp[1] == '.')) {
                        r = pm_error_set(err, -EINVAL, "cannot escape '%s' as a unit name", path);
                        goto out;
                }
                if (t != out)
                        *t++ = '-';
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)comp[i];

                        /* systemd escapes a leading '.' so that no unit name is hidden. */
                        if ((c == '.' && t == out) ||
                            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '.')) {
                                *t++ = '\\';
                                *t++ = 'x';
                                *t++ = hex[c >> 4];
                                *t++ = hex[c & 15];
                        } else {
                                *t++ = (char)c;
                        }
                }
        }
        if (t == out)
                *t++ = '-';
        *t = '\0';
        *ret_escaped = pm_steal_ptr(&out);
out:
        pm_free(out);
        return r;
}

char *
pm_path_cwd(void)
{
        size_t size = 256;
        char *buf = NULL, *out;

        for (;;) {
                pm_free(buf);
                buf = pm_malloc(size);
                if (!buf) {
                        errno = ENOMEM;
                        return NULL;
                }
                if (getcwd(buf, size))
                        break;
                if (errno != ERANGE || size > 1024 * 1024) {
                        int e = errno;

                        pm_free(buf);
                        errno = e;
                        return NULL;
                }
                size *= 2;
        }
        out = pm_path_normalize(NULL, NULL, buf);
        pm_free(buf);
        if (!out)
                errno = ENOMEM;
        return out;
}

char *
pm_path_absolute(const char *path)
{
        char *cwd, *r;

        if (pm_path_is_absolute(path))
                return pm_path_normalize(NULL, NULL, path);
        cwd = pm_path_cwd();
        if (!cwd)
                return NULL;
        r = pm_path_normalize(NULL, cwd, path);
        pm_free(cwd);
        return r;
}

bool
pm_path_exists_in(const char *dir, const char *name)
{
        char *p = pm_path_join(NULL, dir, name);
        struct stat st;
        bool r;

        if (!p)
                return false;
        r = lstat(p, &st) == 0;
        pm_free(p);
        return r;
}

/* The command pm_path_command_take() kept (normalised, pm_malloc'd and never freed: it names
 * the process for its whole life), or NULL. Written once before any thread starts. */
static char *command;

void
pm_path_command_take(void)
{
        const char *cmd = getenv(PM_PATH_COMMAND_ENV);

        if (cmd && cmd[0] == '/' && access(cmd, X_OK) == 0) {
                pm_free(command);
                command = pm_path_normalize(NULL, NULL, cmd);
        }
        /* Like systemd's LISTEN_FDS (server/daemon.c): meant for this process, not its children. */
        (void)unsetenv(PM_PATH_COMMAND_ENV);
}

char *
pm_path_self_exe(void)
{
        char buf[4096], *r;
        ssize_t n;

        if (command) {
                r = pm_strdup(command);
                if (!r)
                        errno = ENOMEM;
                return r;
        }
        n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
        if (n <= 0 || (size_t)n >= sizeof(buf) - 1) {
                if (n > 0)
                        errno = ENAMETOOLONG;
                return NULL;
        }
        buf[n] = '\0';
        r = pm_path_normalize(NULL, NULL, buf);
        if (!r)
                errno = ENOMEM;
        return r;
}
