/* SPDX-License-Identifier: MIT */
/* Building the proc-macro dylibs and generated files a freshly parsed graph names, through its
 * adapter's output builder, and nothing else; a failure is a note on its crate
 * (see docs/build-integration.md). */
#include "projmodel/procmacro.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/tool.h"

#include "server-internal.h"

static bool
is_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* One file the model names that does not exist yet (or is stale) and that the tool may build. */
struct want {
        const char *path;   /* borrowed from the graph, or @owned */
        struct pm_crate *c; /* the crate naming it */
        bool dylib;         /* a proc macro's dylib (else a generated source or root module) */
        bool done;
        char *owned; /* @path when it is ours (pm_malloc'd), else NULL */
        char *why;   /* pm_malloc'd: why the run meant to build it failed */
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
add_want_force(struct want **v, size_t *n, size_t *cap, const char *path, struct pm_crate *c,
               bool dylib, bool force)
{
        if (!path || (!force && (dylib ? is_file(path) : access(path, F_OK) == 0)))
                return 0;
        if (pm_grow(v, cap, *n + 1, 16) < 0)
                return -ENOMEM;
        (*v)[(*n)++] = (struct want){ .path = path, .c = c, .dylib = dylib };
        return 0;
}

static int
add_want(struct want **v, size_t *n, size_t *cap, const char *path, struct pm_crate *c, bool dylib)
{
        return add_want_force(v, n, cap, path, c, dylib, false);
}

/*
 * For every want that is a directory (a generated include dir, e.g. OUT_DIR from GN's `rustenv`):
 * the files the tool says its build writes directly into it (its own list of outputs) become the
 * wants instead. Directories outside any build directory are dropped.
 */
static int
expand_dirs(const struct pm_config *cfg, const struct pm_output_builder *ob, struct want **v,
            size_t *n, size_t *cap, struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_error perr;
        char *dir = NULL, **outs = NULL;
        size_t i, n0 = *n;
        int r = 0;

        for (i = 0; i < n0; i++) {
                struct pm_blob blob = { 0 };
                size_t len;

                if ((*v)[i].dylib || (*v)[i].done || !(*v)[i].owned)
                        continue;
                dir = ob->build_dir((*v)[i].path);
                if (!dir) {
                        (*v)[i].done = true;
                        continue;
                }
                len = strlen(dir);
                r = ob->list_plan(dir, &plan, err);
                if (r < 0)
                        goto out;
                pm_error_init(&perr);
                r = pm_tool_run_sync(&plan.steps[0], cfg->tool_timeout_ms, cfg->max_tool_output,
                                     &res, &perr);
                if (r == -ENOMEM) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                /* The tool cannot list its outputs: nothing is known to build there. */
                blob.data = res.out.buf ? res.out.buf : "";
                blob.len = res.out.buf ? res.out.len : 0;
                r = ob->list_parse(dir, &blob, &outs, err);
                if (r < 0)
                        goto out;
                for (size_t o = 0; outs && outs[o]; o++) {
                        const char *abs = outs[o];
                        char *own;
                        size_t k, n_before;

                        for (k = 0; k < n0; k++) {
                                const char *d = (*v)[k].path;
                                size_t dl = strlen(d);

                                if ((*v)[k].owned && !(*v)[k].done && strncmp(abs, d, dl) == 0 &&
                                    abs[dl] == '/' && !strchr(abs + dl + 1, '/'))
                                        break;
                        }
                        if (k == n0)
                                continue;
                        own = pm_strdup(abs);
                        n_before = *n;
                        if (!own || add_want(v, n, cap, own, (*v)[k].c, false) < 0) {
                                pm_free(own);
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        if (*n > n_before)
                                (*v)[*n - 1].owned = own;
                        else
                                pm_free(own);
                }
                /* Every missing dir under this build directory is now covered. */
                for (size_t k = 0; k < n0; k++) {
                        if ((*v)[k].owned && strncmp((*v)[k].path, dir, len) == 0)
                                (*v)[k].done = true;
                }
                outs = pm_argv_free(outs);
                pm_tool_result_release(&res);
                memset(&res, 0, sizeof(res));
                pm_plan_release(&plan);
                pm_free(dir);
                dir = NULL;
        }
out:
        pm_argv_free(outs);
        pm_tool_result_release(&res);
        pm_plan_release(&plan);
        pm_free(dir);
        return r;
}

/*
 * Run the output builder's build step in @dir on every wanted file of the @dylib class under
 * @dir, marking them done. A run that fails sets each of its wants' why (the step keeps going,
 * so the others are built); -ENOMEM only.
 */
static int
build_dir(const struct pm_config *cfg, const struct pm_output_builder *ob, struct want *w,
          size_t n_w, bool dylib, const char *dir, const struct pm_progress *progress,
          size_t *n_built)
{
        const char *what = dylib ? "proc macro" : "generated source";
        struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                      .max_output = cfg->max_tool_output };
        struct pm__plan_result res;
        const struct pm_tool_result *ran_res = &res.results[0];
        struct pm_plan plan;
        struct pm_error perr;
        size_t len = strlen(dir), n = 0, first = n_w, n_failed = 0, i;
        const char **rels = NULL;
        char *whole = NULL;
        bool ran;
        int r;

        pm_error_init(&perr);
        memset(&res, 0, sizeof(res));
        memset(&plan, 0, sizeof(plan));
        rels = pm_calloc(n_w + 1, sizeof(*rels));
        if (!rels)
                return -ENOMEM;
        for (i = 0; i < n_w; i++) {
                if (w[i].done || w[i].dylib != dylib || strncmp(w[i].path, dir, len) != 0 ||
                    w[i].path[len] != '/')
                        continue;
                rels[n++] = w[i].path + len + 1;
                w[i].done = true;
                if (first == n_w)
                        first = i;
        }
        /* A plan of this one step: its failure is worded as every failed step's. */
        r = ob->build_plan(dir, rels, n, &plan, &perr);
        if (r < 0)
                goto out;
        pm_progress_report(progress, "building %zu %s%s in '%s'", n, what, n == 1 ? "" : "s", dir);
        r = pm__plan_run_sync(&plan, &opts, &res, &perr);
        if (r == -ENOMEM)
                goto out;
        if (dylib)
                *n_built += n;
        if (r == 0) {
                pm_progress_report(progress, "built %zu %s%s", n, what, n == 1 ? "" : "s");
                goto out;
        }
        /* The step's one line, when the tool could not run or printed no compiler error. */
        {
                char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];

                whole = pm_strdup(pm_error_format(&perr, line, sizeof(line)));
        }
        if (!whole) {
                r = -ENOMEM;
                goto out;
        }
        /* The tool ran to its end (and failed), so what it did not name it built. */
        ran = r == PM_ETOOL;
        r = 0;
        for (i = first; i < n_w; i++) {
                if (w[i].dylib != dylib || !w[i].done || w[i].why ||
                    strncmp(w[i].path, dir, len) != 0 || w[i].path[len] != '/')
                        continue;
                bool named = false;

                w[i].why = ob->build_error(ran_res->out.buf ? ran_res->out.buf : "", dir,
                                           w[i].path + len + 1, whole, &named);
                if (!w[i].why) {
                        r = -ENOMEM;
                        break;
                }
                /* Not itself failed, and there and current: built while another failed. */
                if (!named && ran && is_file(w[i].path) &&
                    (!dylib || !is_stale(w[i].path, w[i].c))) {
                        pm_free(w[i].why);
                        w[i].why = NULL;
                }
                if (w[i].why)
                        n_failed++;
        }
        if (r == 0)
                pm_progress_report(progress, "built %zu of %zu %ss (%zu failed)", n - n_failed, n,
                                   what, n_failed);
out:
        pm__plan_result_release(&res);
        pm_plan_release(&plan);
        pm_free(whole);
        pm_free(rels);
        return r;
}

/* Build every wanted file of one class, one run per build directory. -ENOMEM only. */
static int
build_class(const struct pm_config *cfg, const struct pm_output_builder *ob, struct want *w,
            size_t n_w, bool dylib, const struct pm_progress *progress, size_t *n_built)
{
        char *dir = NULL;
        size_t i;
        int r = 0;

        for (i = 0; i < n_w && r >= 0; i++) {
                if (w[i].done || w[i].dylib != dylib)
                        continue;
                dir = ob->build_dir(w[i].path);
                if (!dir) {
                        /* A missing source file outside any build directory is not ours to
                         * build; a dylib that no build directory holds cannot be built. */
                        w[i].done = true;
                        if (dylib) {
                                w[i].why = ob->no_build_dir(w[i].path);
                                if (!w[i].why)
                                        r = -ENOMEM;
                        }
                        continue;
                }
                r = build_dir(cfg, ob, w, n_w, dylib, dir, progress, n_built);
                pm_free(dir);
                dir = NULL;
        }
        return r;
}

/* Append @text to @c's note ("; "-separated). -ENOMEM only. */
static int
add_note(struct pm_graph *g, struct pm_crate *c, const char *text)
{
        char *note =
                pm_graph_printf(g, "%s%s%s", c->note ? c->note : "", c->note ? "; " : "", text);

        if (!note)
                return -ENOMEM;
        c->note = note;
        return 0;
}

/*
 * Make the input stamp (projmodel/stamp.h) cover what a proc macro is built from and the dylib
 * itself: the parse of GN's JSON does not read them, and without them an export after an edit
 * of the proc macro (or the user's own ninja run) would skip the parse, and so the build. Only
 * when the graph's inputs are known. stamp_add() pushes one proc macro's paths, noting where
 * its dylib is in @dylibs (room for one per crate); stamp_cover() then records, once for all of
 * them and before any build, what the inputs from @n0 on are now, keeping what the parse saw of
 * its own; stamp_built() records the dylibs again as the build left them. -ENOMEM only.
 */
static int
stamp_add(struct pm_graph *g, const struct pm_crate *c, size_t *dylibs, size_t *n_dylibs)
{
        const char *add[2] = { c->root_module, c->proc_macro_dylib };

        if (!g->inputs_known)
                return 0;
        for (size_t i = 0; i < 2 + c->sources.n; i++) {
                const char *p = i < 2 ? add[i] : c->sources.v[i - 2];

                if (!p)
                        continue;
                if (pm_strlist_push(g, &g->inputs, p) < 0)
                        return -ENOMEM;
                if (i == 1)
                        dylibs[(*n_dylibs)++] = g->inputs.n - 1;
        }
        return 0;
}

static int
stamp_cover(struct pm_graph *g, size_t n0)
{
        struct pm_stamp_file *files;

        if (!g->inputs_known || !g->input_files || g->inputs.n == n0)
                return 0;
        files = pm_arena_alloc(g->arena, g->inputs.n * sizeof(*files));
        if (!files)
                return -ENOMEM;
        memcpy(files, g->input_files, n0 * sizeof(*files));
        for (size_t i = n0; i < g->inputs.n; i++) {
                if (pm_stamp_file_stat(g->inputs.v[i], &files[i]) < 0) {
                        /* The stamp asks stat() itself and meets the error. */
                        g->input_files = NULL;
                        return 0;
                }
        }
        g->input_files = files;
        return 0;
}

/*
 * After the builds, each dylib input is recorded as the build left it, so the export after a
 * build finds its stamp fresh (the root module and sources keep their pre-build records: an
 * edit during the build is still seen). The records carry their own clock
 * (pm_stamp_file.since_ns), read after the build; a dylib written in that clock tick is first
 * waited out (the clock is a coarse one: a tick of a few ms, only after a build ran), else the
 * stamp could not trust it. A dylib the user's ninja rewrites later no longer matches.
 */
static void
stamp_built(struct pm_graph *g, const size_t *dylibs, size_t n_dylibs)
{
        struct pm_stamp_file f;
        int64_t now = 0;

        if (!g->inputs_known || !g->input_files || n_dylibs == 0)
                return;
        for (int tries = 0; tries < 100; tries++) {
                int64_t newest = 0;

                for (size_t k = 0; k < n_dylibs; k++) {
                        if (pm_stamp_file_stat(g->inputs.v[dylibs[k]], &f) == 0 && !f.missing) {
                                newest = f.mtime_ns > newest ? f.mtime_ns : newest;
                                newest = f.ctime_ns > newest ? f.ctime_ns : newest;
                        }
                }
                now = pm_stamp_clock();
                if (newest < now)
                        break;
                (void)nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
        }
        for (size_t k = 0; k < n_dylibs; k++) {
                if (pm_stamp_file_stat(g->inputs.v[dylibs[k]], &f) < 0) {
                        g->input_files = NULL;
                        return;
                }
                /* pm_stamp_make_known() still refuses a record that is not older than now. */
                f.since_ns = now;
                g->input_files[dylibs[k]] = f;
        }
}

/*
 * After the builds: each proc macro asked for is served only when its dylib exists and is
 * current; else it loses its path and gets a note naming it and why. Generated files that
 * the tool failed to write give their crate one note.
 */
static int
settle(struct pm_graph *g, const struct pm_output_builder *ob, struct want *w, size_t n_w)
{
        int r = 0;

        for (size_t i = 0; i < n_w && r == 0; i++) {
                struct pm_crate *c = w[i].c;
                char *text;
                size_t k;

                if (w[i].dylib) {
                        /* A run that succeeded may leave a dylib older than its build file
                         * (GN's ninja found its command unchanged): it is current. */
                        if (is_file(w[i].path) && !w[i].why)
                                continue;
                        text = w[i].why ? pm_asprintf("proc macro %s not built: %.400s", c->label,
                                                      w[i].why)
                                        : pm_asprintf("proc macro %s not built: %s did not "
                                                      "write it",
                                                      c->label, ob->tool);
                        c->proc_macro_dylib = NULL;
                } else {
                        if (!w[i].why || access(w[i].path, F_OK) == 0)
                                continue;
                        /* One note per crate. */
                        for (k = 0; k < i; k++)
                                if (!w[k].dylib && w[k].c == c && w[k].why &&
                                    access(w[k].path, F_OK) != 0)
                                        break;
                        if (k < i)
                                continue;
                        text = pm_asprintf("generated file '%s' not built: %.400s", w[i].path,
                                           w[i].why);
                }
                r = text ? add_note(g, c, text) : -ENOMEM;
                /* A warning of its build file too, so that the daemon's status lists it until a
                 * parse of that file replaces it (docs/protocol.md, status). */
                if (r == 0)
                        r = pm_graph_warn_about(g, c->build_file, text);
                pm_free(text);
        }
        return r;
}

/*
 * pm_procmacro_build_sync(), or with @only (one flag per crate of @g) the daemon's rebuild after a
 * proc macro's sources changed (pm__procmacro_rebuild()): only the flagged crates, and each
 * flagged dylib is handed to the tool whatever its time, since its record of what rustc read
 * (GN's ninja: the depfile) knows every module (the time rule here knows only the declared ones)
 * and rebuilds nothing current. Only the crates of @ops's build system, through its output
 * builder; nothing when it has none.
 */
static int
build_sync(const struct pm_config *cfg, const struct pm_adapter_ops *ops, struct pm_graph *g,
           bool dylibs, const bool *only, const struct pm_progress *progress, size_t *ret_built,
           struct pm_error *err)
{
        const struct pm_output_builder *ob = ops ? ops->outputs : NULL;
        struct pm_crate *c;
        struct want *w = NULL;
        size_t n_w = 0, cap = 0, built = 0, n_inputs = 0, n_dylibs = 0, i;
        size_t *dylib_inputs = NULL;
        char *cache = NULL;
        int r = 0;

        if (ret_built)
                *ret_built = 0;
        if (!g || !ob)
                goto out;
        n_inputs = g->inputs.n;
        dylib_inputs = pm_calloc(g->n_crates + 1, sizeof(*dylib_inputs));
        if (!dylib_inputs) {
                r = -ENOMEM;
                goto out;
        }
        pm_graph_foreach_crate(g, c) {
                bool dylib = dylibs && c->kind == PM_CRATE_PROC_MACRO && c->proc_macro_dylib;

                if (strcmp(c->build_system, ops->name) != 0 || (only && !only[c - g->crates]))
                        continue;
                if (dylib && (r = stamp_add(g, c, dylib_inputs, &n_dylibs)) < 0)
                        goto out;
                if (dylib && (only || is_stale(c->proc_macro_dylib, c))) {
                        /* Built before its sources or build file last changed: rebuilt. */
                        r = add_want_force(&w, &n_w, &cap, c->proc_macro_dylib, c, true, true);
                        if (r < 0)
                                goto out;
                }
                r = add_want(&w, &n_w, &cap, c->root_module, c, false);
                for (i = 0; r >= 0 && i < c->sources.n; i++)
                        r = add_want(&w, &n_w, &cap, c->sources.v[i], c, false);
                for (i = 0; r >= 0 && i < c->include_dirs.n; i++) {
                        const char *d = c->include_dirs.v[i];

                        if (is_dir(d))
                                continue;
                        r = add_want(&w, &n_w, &cap, d, c, false);
                        if (r >= 0 && n_w && w[n_w - 1].path == d) {
                                w[n_w - 1].owned = pm_strdup(d);
                                if (!w[n_w - 1].owned)
                                        r = -ENOMEM;
                                else
                                        w[n_w - 1].path = w[n_w - 1].owned;
                        }
                }
                if (r >= 0 && dylib)
                        r = add_want(&w, &n_w, &cap, c->proc_macro_dylib, c, true);
                if (r < 0)
                        goto out;
        }
        /* Before any build: a dylib built now makes the next parse run again, never skip. */
        r = stamp_cover(g, n_inputs);
        if (r >= 0)
                r = expand_dirs(cfg, ob, &w, &n_w, &cap, err);
        if (r < 0)
                goto out;
        /* Generated sources first: a failing proc macro must not keep them from existing. */
        r = build_class(cfg, ob, w, n_w, false, progress, &built);
        if (r >= 0)
                r = build_class(cfg, ob, w, n_w, true, progress, &built);
        if (r >= 0)
                r = settle(g, ob, w, n_w);
        if (r < 0)
                goto out;
        /* Before the copies to the cache: what is copied is at least as new as the record. */
        if (built)
                stamp_built(g, dylib_inputs, n_dylibs);
        /* Every dylib served is a content-addressed copy that no rebuild rewrites (dylibs.c). */
        pm_graph_foreach_crate(g, c) {
                if (!dylibs || c->kind != PM_CRATE_PROC_MACRO ||
                    strcmp(c->build_system, ops->name) != 0 || (only && !only[c - g->crates]))
                        continue;
                r = pm__dylib_cache_crate(cfg, g, c, &cache, err);
                if (r < 0)
                        goto out;
        }
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        for (i = 0; i < n_w; i++) {
                pm_free(w[i].owned);
                pm_free(w[i].why);
        }
        pm_free(w);
        pm_free(dylib_inputs);
        pm_free(cache);
        if (r >= 0 && ret_built)
                *ret_built = built;
        return r;
}

int
pm_procmacro_build_sync(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                        struct pm_graph *g, bool dylibs, const struct pm_progress *progress,
                        size_t *ret_built, struct pm_error *err)
{
        return build_sync(cfg, ops, g, dylibs, NULL, progress, ret_built, err);
}

int
pm__procmacro_build_only(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                         struct pm_graph *g, const bool *only, const struct pm_progress *progress,
                         size_t *ret_built, struct pm_error *err)
{
        return build_sync(cfg, ops, g, true, only, progress, ret_built, err);
}
