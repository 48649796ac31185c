/* SPDX-License-Identifier: MIT */
/* Helpers shared by the fuzz targets: the per-process scratch tree and loading configurations. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "fuzz.h"

#define MAX_CONFIGS 8

static char *tmpdir;

static struct {
        char *rel;
        struct pm_config *cfg;
} configs[MAX_CONFIGS];

static size_t n_configs;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
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

bool
pm_fuzz_verbose(void)
{
        static int verbose = -1;

        if (verbose < 0) {
                const char *v = getenv("PM_FUZZ_VERBOSE");

                verbose = v && *v && strcmp(v, "0") != 0;
        }
        return verbose;
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

/* A section name is a plain relative path: no "..", no absolute path, no odd bytes. */
static bool
safe_rel(const char *s, size_t n)
{
        if (n == 0 || n > 200 || s[0] == '/')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-' || c == '/'))
                        return false;
                if (c == '.' && i + 1 < n && s[i + 1] == '.')
                        return false;
        }
        return true;
}

/* Create @path's missing parent directories, recording them in @files. False on failure. */
static bool
make_parents_soft(char *path, struct pm_fuzz_files *files)
{
        bool ok = true;

        for (char *s = strchr(path + 1, '/'); s && ok; s = strchr(s + 1, '/')) {
                *s = '\0';
                if (mkdir(path, 0700) == 0) {
                        if (files->n_dirs < PM_FUZZ_MAX_FILES * 8)
                                files->dirs[files->n_dirs++] = pm_strdup(path);
                } else if (errno != EEXIST) {
                        ok = false;
                }
                *s = '/';
        }
        return ok;
}

/* Write one section as a new file; false (nothing written) when it cannot be. */
static bool
write_section(const char *dir, const char *rel, size_t n, const char *body, size_t len,
              struct pm_fuzz_files *files)
{
        char *name = pm_strndup(rel, n), *p;
        struct stat st;
        bool ok = false;
        int fd;

        p = name ? pm_path_join(NULL, dir, name) : NULL;
        if (!p)
                die("out of memory");
        /* Never replace the fixed tree (.projmodel.json...): the next input must see it too. */
        if (lstat(p, &st) == 0 || !make_parents_soft(p, files))
                goto out;
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                goto out;
        files->paths[files->n++] = pm_steal_ptr(&p);
        while (len > 0) {
                ssize_t w = write(fd, body, len);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        die("cannot write a section: %s", strerror(errno));
                body += w;
                len -= (size_t)w;
        }
        (void)close(fd);
        ok = true;
out:
        pm_free(p);
        pm_free(name);
        return ok;
}

size_t
pm_fuzz_extract_files(const char *text, size_t len, const char *dir, struct pm_fuzz_files *files)
{
        static const char marker[] = "\n@@FILE ";
        const size_t mlen = sizeof(marker) - 1;
        const char *end = text + len, *sec, *main_end;

        memset(files, 0, sizeof(*files));
        sec = memmem(text, len, marker, mlen);
        main_end = sec ? sec : end;
        while (sec) {
                const char *name = sec + mlen, *eol, *body, *next;
                size_t n;

                eol = memchr(name, '\n', (size_t)(end - name));
                if (!eol)
                        break;
                body = eol + 1;
                next = memmem(body, (size_t)(end - body), marker, mlen);
                n = (size_t)(eol - name);
                if (safe_rel(name, n) && files->n < PM_FUZZ_MAX_FILES)
                        (void)write_section(dir, name, n, body,
                                            (size_t)((next ? next : end) - body), files);
                sec = next;
        }
        return (size_t)(main_end - text);
}

void
pm_fuzz_files_remove(struct pm_fuzz_files *files)
{
        for (size_t i = 0; i < files->n; i++) {
                (void)unlink(files->paths[i]);
                pm_free(files->paths[i]);
        }
        /* Innermost first: they were created outermost first. */
        for (size_t i = files->n_dirs; i > 0; i--) {
                if (files->dirs[i - 1])
                        (void)rmdir(files->dirs[i - 1]);
                pm_free(files->dirs[i - 1]);
        }
        files->n = files->n_dirs = 0;
}

void
pm_fuzz_adapter(const struct pm_config *cfg, const char *origin_rel, const uint8_t *data,
                size_t size)
{
        struct pm_fuzz_files files;
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *text, *origin;
        size_t len;
        int r;

        text = pm_fuzz_subst_root(data, size, cfg->root, &len);
        len = pm_fuzz_extract_files(text, len, cfg->root, &files);
        origin = pm_path_join(NULL, cfg->root, origin_rel);
        if (!origin)
                die("out of memory");
        pm_error_init(&err);
        r = pm_adapter_parse_captured(cfg, &cfg->projects[0], text, len, origin, &g, &err);
        if (r > 0)
                die("parse returned %d", r);
        if (r == 0 && !g)
                die("parse succeeded without a graph");
        if (r < 0 && g)
                die("parse failed (%s) but returned a graph", err.msg);
        if (r < 0 && (err.code != r || !err.msg[0]))
                die("parse failed with %d (%s) but the error says %d '%s'", r, pm_error_name(r),
                    err.code, err.msg);
        if (pm_fuzz_verbose())
                fprintf(stderr, "  parse: %s, %zu crates, %zu warnings%s%s\n",
                        r < 0 ? pm_error_name(r) : "ok", g ? g->n_crates : 0, g ? g->warnings.n : 0,
                        r < 0 ? ": " : "", r < 0 ? err.msg : "");
        if (g) {
                /* The invariants every adapter promises (graph.h), dangling deps allowed. */
                r = pm_graph_validate(g, true, &err);
                if (r < 0)
                        die("parse returned an invalid graph: %s", err.msg);
                pm_graph_free(g);
        }
        pm_free(origin);
        pm_free(text);
        pm_fuzz_files_remove(&files);
}
