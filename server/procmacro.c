/* SPDX-License-Identifier: MIT */
/* Building the proc-macro dylibs a GN model names with ninja, and nothing else (see
 * docs/build-integration.md). */
#include "projmodel/procmacro.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/tool.h"

static bool
is_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One file the model names that does not exist yet and that ninja may build. */
struct want {
        const char *path;  /* borrowed from the graph */
        const char *label; /* the crate naming it */
        bool dylib;        /* a proc macro's dylib (else a generated source or root module) */
        bool done;
        char *owned; /* @path when it is ours (pm_malloc'd), else NULL */
};

static bool
is_dir(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* True if @path exists and was modified after @d's file. */
static bool
newer(const char *path, const struct stat *d)
{
        struct stat st;

        return path && stat(path, &st) == 0 &&
               (st.st_mtim.tv_sec > d->st_mtim.tv_sec || (st.st_mtim.tv_sec == d->st_mtim.tv_sec &&
                                                          st.st_mtim.tv_nsec > d->st_mtim.tv_nsec));
}

/* True if @dylib exists and a file it is built from (root module, declared sources, build
 * file) is newer: stat calls only, so an unchanged tree starts no process. */
static bool
is_stale(const char *dylib, const struct pm_crate *c)
{
        struct stat d;
        size_t i;

        if (stat(dylib, &d) != 0)
                return false;
        if (newer(c->root_module, &d) || newer(c->build_file, &d))
                return true;
        for (i = 0; i < c->sources.n; i++) {
                if (newer(c->sources.v[i], &d))
                        return true;
        }
        return false;
}

static int
add_want_force(struct want **v, size_t *n, size_t *cap, const char *path, const char *label,
               bool dylib, bool force)
{
        if (!path || (!force && (dylib ? is_file(path) : access(path, F_OK) == 0)))
                return 0;
        if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                struct want *nv = pm_realloc(*v, nc * sizeof(*nv));

                if (!nv)
                        return -ENOMEM;
                *v = nv;
                *cap = nc;
        }
        (*v)[(*n)++] = (struct want){ .path = path, .label = label, .dylib = dylib };
        return 0;
}

static int
add_want(struct want **v, size_t *n, size_t *cap, const char *path, const char *label, bool dylib)
{
        return add_want_force(v, n, cap, path, label, dylib, false);
}

/* The nearest directory above @path holding build.ninja, pm_malloc'd, or NULL. */
static char *
ninja_dir(const char *path)
{
        char *dir = pm_strdup(path);
        char *slash;

        while (dir && (slash = strrchr(dir, '/')) && slash != dir) {
                *slash = '\0';
                if (pm_path_exists_in(dir, "build.ninja"))
                        return dir;
        }
        pm_free(dir);
        return NULL;
}

/*
 * For every want that is a directory (a generated include dir, e.g. OUT_DIR from `rustenv`):
 * the files ninja says it writes directly into it (`ninja -t targets all`, ninja's own list of
 * outputs) become the wants instead. Directories outside any build directory are dropped.
 */
static int
expand_dirs(const struct pm_config *cfg, struct want **v, size_t *n, size_t *cap,
            struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        char *dir = NULL;
        size_t i, n0 = *n;
        int r = 0;

        for (i = 0; i < n0; i++) {
                const char *argv[] = { "ninja", "-C", NULL, "-t", "targets", "all", NULL };
                struct pm_step step = { 0 };
                char *line, *next;
                size_t len;

                if ((*v)[i].dylib || (*v)[i].done || !(*v)[i].owned)
                        continue;
                dir = ninja_dir((*v)[i].path);
                if (!dir) {
                        (*v)[i].done = true;
                        continue;
                }
                argv[2] = dir;
                step.argv = (char **)argv;
                step.cwd = dir;
                r = pm_tool_run_sync(&step, cfg->tool_timeout_ms, cfg->max_tool_output, &res, err);
                if (r < 0)
                        goto out;
                len = strlen(dir);
                for (line = res.out.buf; line && *line; line = next) {
                        char *colon, *abs;
                        size_t k;

                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        colon = strstr(line, ": ");
                        if (!colon)
                                continue;
                        *colon = '\0';
                        abs = pm_asprintf("%s/%s", dir, line);
                        if (!abs) {
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        for (k = 0; k < n0; k++) {
                                const char *d = (*v)[k].path;
                                size_t dl = strlen(d);

                                if ((*v)[k].owned && !(*v)[k].done && strncmp(abs, d, dl) == 0 &&
                                    abs[dl] == '/' && !strchr(abs + dl + 1, '/'))
                                        break;
                        }
                        if (k == n0 || add_want(v, n, cap, abs, (*v)[k].label, false) < 0) {
                                pm_free(abs);
                                if (k == n0)
                                        continue;
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        (*v)[*n - 1].owned = abs;
                }
                /* Every missing dir under this build directory is now covered. */
                for (size_t k = 0; k < n0; k++) {
                        if ((*v)[k].owned && strncmp((*v)[k].path, dir, len) == 0)
                                (*v)[k].done = true;
                }
                pm_tool_result_release(&res);
                memset(&res, 0, sizeof(res));
                pm_free(dir);
                dir = NULL;
        }
out:
        pm_tool_result_release(&res);
        pm_free(dir);
        return r;
}

/* Run `ninja -C @dir` on every wanted file of the @dylib class under @dir, marking them done. */
static int
build_dir(const struct pm_config *cfg, struct want *w, size_t n_w, bool dylib, const char *dir,
          size_t *n_built, struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        struct pm_step step = { 0 };
        size_t len = strlen(dir), n = 3, i;
        char **argv = NULL;
        int r;

        argv = pm_calloc(n_w + 4, sizeof(*argv));
        if (!argv) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        argv[0] = "ninja";
        argv[1] = "-C";
        argv[2] = (char *)dir;
        for (i = 0; i < n_w; i++) {
                if (w[i].done || w[i].dylib != dylib || strncmp(w[i].path, dir, len) != 0 ||
                    w[i].path[len] != '/')
                        continue;
                argv[n++] = (char *)w[i].path + len + 1;
                w[i].done = true;
        }
        step.argv = argv;
        step.cwd = (char *)dir;
        r = pm_tool_run_sync(&step, cfg->tool_timeout_ms, cfg->max_tool_output, &res, err);
        if (r < 0) {
                if (dylib)
                        (void)pm_error_prefix(err, "building %zu proc macro%s in '%s'", n - 3,
                                              n - 3 == 1 ? "" : "s", dir);
                else
                        (void)pm_error_prefix(err, "building %zu generated source%s in '%s'", n - 3,
                                              n - 3 == 1 ? "" : "s", dir);
                goto out;
        }
        if (dylib)
                *n_built += n - 3;
out:
        pm_tool_result_release(&res);
        pm_free(argv);
        return r;
}

/* Build every wanted file of one class, one ninja run per build directory. */
static int
build_class(const struct pm_config *cfg, struct want *w, size_t n_w, bool dylib, size_t *n_built,
            struct pm_error *err)
{
        char *dir = NULL;
        size_t i;
        int r = 0;

        for (i = 0; i < n_w && r >= 0; i++) {
                if (w[i].done || w[i].dylib != dylib)
                        continue;
                dir = ninja_dir(w[i].path);
                if (!dir) {
                        /* A missing source file outside any build directory is not ours to
                         * build; a dylib that no build directory holds is an error. */
                        w[i].done = true;
                        if (dylib)
                                r = pm_error_set(err, -ENOENT,
                                                 "cannot build proc macro '%s': no build.ninja "
                                                 "above '%s' (run gn gen first)",
                                                 w[i].label, w[i].path);
                        continue;
                }
                r = build_dir(cfg, w, n_w, dylib, dir, n_built, err);
                pm_free(dir);
                dir = NULL;
        }
        return r;
}

/*
 * Whether the GN project owning @c wants its proc macros built ("build_proc_macros", default
 * true, docs/configuration.md): the GN project whose root is the longest prefix of the crate's
 * root module. A crate under no GN project keeps the default.
 */
static int
wants_dylib(const struct pm_config *cfg, const struct pm_crate *c, bool *ret, struct pm_error *err)
{
        const struct pm_project *best = NULL;
        size_t best_len = 0;

        *ret = true;
        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_project *p = &cfg->projects[i];
                size_t n = strlen(p->root);

                if (!p->build_system || strcmp(p->build_system, "gn") != 0 || n < best_len ||
                    strncmp(c->root_module, p->root, n) != 0 ||
                    (c->root_module[n] != '/' && c->root_module[n] != '\0'))
                        continue;
                best = p;
                best_len = n;
        }
        return best ? pm_adapter_build_proc_macros(cfg, best, ret, err) : 0;
}

int
pm_procmacro_build_sync(const struct pm_config *cfg, const struct pm_graph *g, size_t *ret_built,
                        struct pm_error *err)
{
        const struct pm_crate *c;
        struct want *w = NULL;
        size_t n_w = 0, cap = 0, built = 0, i;
        int r = 0;

        if (ret_built)
                *ret_built = 0;
        if (!g)
                goto out;
        pm_graph_foreach_crate(g, c) {
                bool dylib = true;

                if (strcmp(c->build_system, "gn") != 0)
                        continue;
                if (c->kind == PM_CRATE_PROC_MACRO) {
                        r = wants_dylib(cfg, c, &dylib, err);
                        if (r < 0)
                                goto out;
                }
                if (dylib && c->kind == PM_CRATE_PROC_MACRO && c->proc_macro_dylib &&
                    is_stale(c->proc_macro_dylib, c)) {
                        /* Built before its sources or BUILD.gn last changed: ninja rebuilds it. */
                        r = add_want_force(&w, &n_w, &cap, c->proc_macro_dylib, c->label, true,
                                           true);
                        if (r < 0) {
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                }
                r = add_want(&w, &n_w, &cap, c->root_module, c->label, false);
                for (i = 0; r >= 0 && i < c->sources.n; i++)
                        r = add_want(&w, &n_w, &cap, c->sources.v[i], c->label, false);
                for (i = 0; r >= 0 && i < c->include_dirs.n; i++) {
                        const char *d = c->include_dirs.v[i];

                        if (is_dir(d))
                                continue;
                        r = add_want(&w, &n_w, &cap, d, c->label, false);
                        if (r >= 0 && n_w && w[n_w - 1].path == d) {
                                w[n_w - 1].owned = pm_strdup(d);
                                if (!w[n_w - 1].owned)
                                        r = -ENOMEM;
                                else
                                        w[n_w - 1].path = w[n_w - 1].owned;
                        }
                }
                if (r >= 0 && dylib && c->kind == PM_CRATE_PROC_MACRO)
                        r = add_want(&w, &n_w, &cap, c->proc_macro_dylib, c->label, true);
                if (r < 0) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
        r = expand_dirs(cfg, &w, &n_w, &cap, err);
        if (r < 0)
                goto out;
        /* Generated sources first: a failing proc macro must not keep them from existing. */
        r = build_class(cfg, w, n_w, false, &built, err);
        if (r >= 0)
                r = build_class(cfg, w, n_w, true, &built, err);
out:
        for (i = 0; i < n_w; i++)
                pm_free(w[i].owned);
        pm_free(w);
        if (r >= 0 && ret_built)
                *ret_built = built;
        return r;
}
