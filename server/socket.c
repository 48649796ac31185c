/* SPDX-License-Identifier: MIT */
/* Where a root's daemon listens and how it claims the root: socket path, its private directory
 * (0700, ours), the lock file that keeps a second daemon out, and the log file path. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/server.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

/* "<basename>-<hash>" for @root, pm_malloc'd. The basename is cut so paths stay short. */
static char *
root_stem(const char *root)
{
        const char *base = pm_path_basename(root);

        if (!base[0])
                base = "root";
        return pm_asprintf("%.32s-%016" PRIx64, base, pm_hash64_str(root, 0));
}

int
pm_server_default_socket(const char *root, char **ret, struct pm_error *err)
{
        struct sockaddr_un sa;
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char *stem = NULL, *path = NULL;
        int r = 0;

        stem = root_stem(root);
        if (!stem) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (xdg && xdg[0] == '/')
                path = pm_asprintf("%s/projmodel/%s.sock", xdg, stem);
        else
                path = pm_asprintf("/tmp/projmodel-%u/%s.sock", (unsigned)getuid(), stem);
        if (!path) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (strlen(path) >= sizeof(sa.sun_path)) {
                r = pm_error_set(err, PM_ELIMIT,
                                 "socket path '%s' longer than %zu bytes, use --socket", path,
                                 sizeof(sa.sun_path) - 1);
                goto out;
        }
        *ret = pm_steal_ptr(&path);
out:
        pm_free(stem);
        pm_free(path);
        return r;
}

char *
pm_server_default_log(const char *root)
{
        char *cache = pm_config_default_cache_dir(), *stem = root_stem(root), *r = NULL;

        if (cache && stem)
                r = pm_asprintf("%s/%s.log", cache, stem);
        pm_free(cache);
        pm_free(stem);
        return r;
}

int
pm_server_socket_dir_check(const char *dir, bool tighten, struct pm_error *err)
{
        struct stat st;
        int r = 0;

        /* lstat: a symlink planted by someone else must not redirect us. */
        if (lstat(dir, &st) < 0) {
                r = pm_error_set(err, -errno, "cannot stat '%s': %s", dir, strerror(errno));
                goto out;
        }
        if (!tighten) {
                /* A client only looks, and names all it found (docs/protocol.md, "Access"). */
                if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                        r = pm_error_set(err, -EPERM,
                                         "socket directory '%s' (uid %u, mode %03o) is not a "
                                         "directory of uid %u with mode 0700",
                                         dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777),
                                         (unsigned)geteuid());
                goto out;
        }
        if (!S_ISDIR(st.st_mode)) {
                r = pm_error_set(err, -ENOTDIR, "socket directory '%s' is not a directory", dir);
                goto out;
        }
        if (st.st_uid != geteuid()) {
                r = pm_error_set(err, -EPERM, "socket directory '%s' belongs to uid %u, not us",
                                 dir, (unsigned)st.st_uid);
                goto out;
        }
        /* Ours but too open (an old umask or a manual mkdir): tighten it. */
        if ((st.st_mode & 0077) != 0 && chmod(dir, 0700) < 0)
                r = pm_error_set(err, -EPERM, "socket directory '%s' has mode %03o, expected 0700",
                                 dir, (unsigned)(st.st_mode & 0777));
out:
        return r;
}

int
pm_server_socket_dir_ensure(const char *socket_path, struct pm_error *err)
{
        char *dir = pm_path_dirname(NULL, socket_path);
        int r = 0;

        if (!dir)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = pm_mkdir_p(dir, err);
        if (r < 0)
                goto out;
        r = pm_server_socket_dir_check(dir, true, err);
out:
        pm_free(dir);
        return r;
}

int
pm__server_lock(const char *socket_path, int *ret_fd, struct pm_error *err)
{
        char *path = pm_asprintf("%s.lock", socket_path);
        int fd = -1, r = 0;

        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = pm_error_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
                goto out;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        r = pm_error_set(err, PM_EBUSY, "a daemon already serves this root on '%s'",
                                         socket_path);
                else
                        r = pm_error_set(err, -errno, "cannot lock '%s': %s", path,
                                         strerror(errno));
                goto out;
        }
        *ret_fd = pm_steal_fd(&fd);
out:
        if (fd >= 0)
                (void)close(fd);
        pm_free(path);
        return r;
}
