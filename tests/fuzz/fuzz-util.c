/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fuzz targets: the per-process scratch tree and loading configurations. */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#define MAX_CONFIGS 8

static char *tmpdir;

static struct {
        char *rel;
        struct pm_config *cfg;
} configs[MAX_CONFIGS];

static size_t n_configs;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("fuzz: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)type;
        (void)ftw;
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

static void
cleanup(void)
{
        for (size_t i = 0; i < n_configs; i++) {
                pm_config_free(configs[i].cfg);
                pm_free(configs[i].rel);
        }
        n_configs = 0;
        if (tmpdir) {
                (void)nftw(tmpdir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
                pm_free(tmpdir);
                tmpdir = NULL;
        }
}

const char *
pm_fuzz_tmpdir(void)
{
        const char *base;
        char *t;

        if (tmpdir)
                return tmpdir;
        pm_mem_install_hooks();
        base = getenv("TMPDIR");
        t = pm_asprintf("%s/pm-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!t || !mkdtemp(t))
                die("cannot create a temporary directory: %s", strerror(errno));
        tmpdir = t;
        if (atexit(cleanup) != 0)
                die("atexit failed");
        return tmpdir;
}

char *
pm_fuzz_path(const char *rel)
{
        char *p = pm_path_join(NULL, pm_fuzz_tmpdir(), rel);

        if (!p)
                die("out of memory");
        return p;
}

/* mkdir -p of @path's parent. */
static void
make_parents(char *path)
{
        for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(path, 0700) < 0 && errno != EEXIST)
                        die("cannot create '%s': %s", path, strerror(errno));
                *s = '/';
        }
}

void
pm_fuzz_write(const char *dir, const char *rel, const void *content, size_t len)
{
        char *p = pm_path_join(NULL, dir, rel);
        const char *c = content;
        int fd;

        if (!p)
                die("out of memory");
        make_parents(p);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                die("cannot create '%s': %s", p, strerror(errno));
        while (len > 0) {
                ssize_t n = write(fd, c, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        die("cannot write '%s': %s", p, strerror(errno));
                c += n;
                len -= (size_t)n;
        }
        if (close(fd) < 0)
                die("cannot write '%s': %s", p, strerror(errno));
        pm_free(p);
}

void
pm_fuzz_write_str(const char *dir, const char *rel, const char *content)
{
        pm_fuzz_write(dir, rel, content, strlen(content));
}

char *
pm_fuzz_subst_root(const uint8_t *data, size_t size, const char *root, size_t *ret_len)
{
        static const char token[] = "@ROOT@";
        const size_t tlen = sizeof(token) - 1, rlen = strlen(root);
        size_t n = 0, out = 0;
        char *s;

        for (size_t i = 0; i + tlen <= size; i++)
                if (memcmp(data + i, token, tlen) == 0) {
                        n++;
                        i += tlen - 1;
                }
        s = pm_malloc(size + n * rlen + 1);
        if (!s)
                die("out of memory");
        for (size_t i = 0; i < size;) {
                if (i + tlen <= size && memcmp(data + i, token, tlen) == 0) {
                        memcpy(s + out, root, rlen);
                        out += rlen;
                        i += tlen;
                } else {
                        s[out++] = (char)data[i++];
                }
        }
        s[out] = '\0';
        *ret_len = out;
        return s;
}

const struct pm_config *
pm_fuzz_config(const char *rel, const char *projmodel_json)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char *root;

        for (size_t i = 0; i < n_configs; i++)
                if (strcmp(configs[i].rel, rel) == 0)
                        return configs[i].cfg;
        if (n_configs == MAX_CONFIGS)
                die("too many configurations");
        root = pm_fuzz_path(rel);
        pm_fuzz_write_str(root, ".projmodel.json", projmodel_json);
        pm_error_init(&err);
        if (pm_config_load(root, &cfg, &err) < 0 || pm_adapter_resolve_config(cfg, &err) < 0)
                die("cannot load the configuration of '%s': %s", root, err.msg);
        configs[n_configs].rel = pm_strdup(rel);
        if (!configs[n_configs].rel)
                die("out of memory");
        configs[n_configs++].cfg = cfg;
        pm_free(root);
        return cfg;
}
