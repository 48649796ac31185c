/* SPDX-License-Identifier: MIT */
/* The daemon's update after only proc-macro sources changed (GN): the adapter's output builder
 * rebuilds those proc macros and the model gets their new cached copies, without a query or a
 * parse. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/tool.h"

#include "server-internal.h"

void
pm__rebuild_release(struct pm__rebuild *rb)
{
        pm_change_release(&rb->change);
        rb->fallback = pm_labels_free(rb->fallback);
        if (rb->warnings)
                pm__warnings_release(rb->warnings);
        pm_free(rb->warnings);
        memset(rb, 0, sizeof(*rb));
}

/* @path is @dir (@len bytes of it) or below it. */
static bool
under(const char *path, const char *dir, size_t len)
{
        return len > 0 && strncmp(path, dir, len) == 0 &&
               (path[len] == '/' || path[len] == '\0' || dir[len - 1] == '/');
}

/* A path of @paths is under @c's root-module directory or one of its include dirs: the
 * directories the watcher follows for it (pm_index_proc_macro_dirs()). */
static bool
touched(const struct pm_crate *c, char *const *paths, size_t n)
{
        const char *slash = strrchr(c->root_module, '/');
        size_t root_len = slash ? (size_t)(slash - c->root_module) : 0;

        for (size_t i = 0; i < n; i++) {
                if (under(paths[i], c->root_module, root_len ? root_len : 1))
                        return true;
                for (size_t k = 0; k < c->include_dirs.n; k++)
                        if (under(paths[i], c->include_dirs.v[k], strlen(c->include_dirs.v[k])))
                                return true;
        }
        return false;
}

/* Append a copy of @s to the NULL-terminated *@v unless it is there. -ENOMEM only. */
static int
push_unique(char ***v, const char *s)
{
        size_t n = 0;
        char **nv;

        for (; *v && (*v)[n]; n++)
                if (strcmp((*v)[n], s) == 0)
                        return 0;
        nv = pm_realloc(*v, (n + 2) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        nv[n] = pm_strdup(s);
        nv[n + 1] = NULL;
        return nv[n] ? 0 : -ENOMEM;
}

/*
 * Each crate of @g flagged in @only gets its proc_macro_dylib from @ob (the output the last query
 * wrote, never guessed: GN's project.json). A crate it names no output for loses its flag and its
 * build file goes to rb->fallback (the query writes the outputs again). -ENOMEM only.
 */
static int
current_dylibs(const struct pm_output_builder *ob, const struct pm_config *cfg,
               const struct pm_project *p, struct pm_graph *g, bool *only, struct pm__rebuild *rb,
               struct pm_error *err)
{
        const struct pm_query q = { .config = cfg, .project = p };
        bool *before = pm_calloc(g->n_crates + 1, sizeof(*before));
        int r;

        if (!before)
                return pm_error_set(err, -ENOMEM, "out of memory");
        memcpy(before, only, g->n_crates * sizeof(*before));
        r = ob->current_dylibs(&q, g, only, err);
        for (size_t i = 0; r == 0 && i < g->n_crates; i++)
                if (before[i] && !only[i] &&
                    push_unique(&rb->fallback, g->crates[i].build_file) < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(before);
        return r;
}

/*
 * The proc macros of @p (in the model @idx) whose watched directories hold a path of
 * @paths: their labels into *@ret (NULL-terminated, pm_labels_free()), and the build files of
 * those the model serves without a dylib (never built, or their last build failed: their note
 * is the parse's to replace) into rb->fallback.
 */
static int
select_touched(struct pm_index *idx, const struct pm_project *p, char *const *paths, size_t n_paths,
               struct pm__rebuild *rb, char ***ret, struct pm_error *err)
{
        struct pm_graph *pms = NULL;
        char **labels = NULL, *source = NULL;
        int r;

        *ret = NULL;
        r = pm_index_kind_labels(idx, PM_CRATE_PROC_MACRO, &labels, err);
        if (r < 0 || !labels[0])
                goto out;
        r = pm_index_load(idx, (const char *const *)labels, pm_labels_count(labels), &pms, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < pms->n_crates; i++) {
                const struct pm_crate *c = &pms->crates[i];

                if (strcmp(c->build_system, p->build_system) != 0 || !c->build_file ||
                    !touched(c, paths, n_paths))
                        continue;
                pm_free(source);
                source = NULL;
                r = pm_index_crate_source(idx, c->label, &source, err);
                if (r < 0)
                        goto out;
                if (strcmp(source, p->id) != 0)
                        continue;
                r = push_unique(c->proc_macro_dylib ? ret : &rb->fallback,
                                c->proc_macro_dylib ? c->label : c->build_file);
                if (r < 0) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
out:
        pm_free(source);
        pm_labels_free(labels);
        pm_graph_free(pms);
        return r;
}

/*
 * The graph to apply: every crate of the touched proc macros' build files, as the model holds
 * them, partial over those files (so nothing else is touched), with the stored fingerprints
 * (they describe the query's output, which did not change) and no input stamp (the sources it
 * recorded changed: the next query parses). @only flags the touched proc macros.
 */
static int
load_partial(struct pm_index *idx, const struct pm_project *p, char **touched_labels,
             struct pm_graph **ret, bool **ret_only, struct pm_error *err)
{
        struct pm_graph *g = NULL, *fp = NULL, *one = NULL;
        char **labels = NULL, **files = NULL;
        bool *only = NULL;
        int r = 0;

        one = NULL;
        /* The build files of the touched crates, then all their crates. */
        r = pm_index_load(idx, (const char *const *)touched_labels, pm_labels_count(touched_labels),
                          &one, err);
        for (size_t i = 0; r >= 0 && i < one->n_crates; i++)
                if (push_unique(&files, one->crates[i].build_file) < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && files && files[i]; i++) {
                char **in_file = NULL;

                r = pm_index_crates_for_build_file(idx, files[i], &in_file, err);
                for (size_t k = 0; r >= 0 && in_file[k]; k++)
                        if (push_unique(&labels, in_file[k]) < 0)
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                pm_labels_free(in_file);
        }
        if (r < 0)
                goto out;
        r = pm_index_load(idx, (const char *const *)labels, pm_labels_count(labels), &g, err);
        if (r < 0)
                goto out;
        g->partial = true;
        for (size_t i = 0; files[i]; i++)
                if (pm_strlist_push(g, &g->covered, files[i]) < 0)
                        goto oom;
        r = pm_index_source_fingerprints(idx, p->id, &fp, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; fp && i < fp->fingerprints.n; i++)
                if (pm_kvlist_set(g, &g->fingerprints, fp->fingerprints.v[i].key,
                                  fp->fingerprints.v[i].value) < 0)
                        goto oom;
        only = pm_calloc(g->n_crates + 1, sizeof(*only));
        if (!only)
                goto oom;
        for (size_t i = 0; i < g->n_crates; i++)
                for (size_t k = 0; touched_labels[k] && !only[i]; k++)
                        only[i] = strcmp(g->crates[i].label, touched_labels[k]) == 0;
        *ret = pm_steal_ptr(&g);
        *ret_only = pm_steal_ptr(&only);
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_free(only);
        pm_labels_free(labels);
        pm_labels_free(files);
        pm_graph_free(one);
        pm_graph_free(fp);
        pm_graph_free(g);
        return r;
}

bool
pm__procmacro_can_rebuild(const struct pm_project *p)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(p->build_system);

        return ops && ops->outputs && ops->outputs->current_dylibs;
}

int
pm__procmacro_rebuild(struct pm_index *idx, const struct pm_config *cfg, const struct pm_project *p,
                      char *const *paths, size_t n_paths, const struct pm_progress *progress,
                      struct pm__rebuild *rb, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(p->build_system);
        struct pm_graph *g = NULL;
        char **touched_labels = NULL;
        bool *only = NULL, build;
        size_t n_only = 0;
        double t0 = pm_clock_ms();
        int r;

        memset(rb, 0, sizeof(*rb));
        if (!pm__procmacro_can_rebuild(p))
                return 0;
        /* Without builds the dylib served is the query's own output, for the user to build. */
        r = pm_adapter_build_proc_macros(cfg, p, &build, err);
        if (r < 0 || !build)
                return r;
        r = select_touched(idx, p, paths, n_paths, rb, &touched_labels, err);
        if (r < 0 || !touched_labels)
                goto out;
        r = load_partial(idx, p, touched_labels, &g, &only, err);
        if (r < 0)
                goto out;
        rb->n_proc_macros = pm_labels_count(touched_labels);
        pm_progress_report(progress, "rebuilding %zu proc macro%s of '%s' with %s",
                           rb->n_proc_macros, rb->n_proc_macros == 1 ? "" : "s", p->rel,
                           ops->outputs->tool);
        r = current_dylibs(ops->outputs, cfg, p, g, only, rb, err);
        for (size_t i = 0; r == 0 && i < g->n_crates; i++)
                n_only += only[i];
        if (r == 0 && n_only > 0)
                r = pm__procmacro_build_only(cfg, ops, g, only, progress, NULL, err);
        rb->build_ms = pm_clock_ms() - t0;
        if (r < 0 || n_only == 0)
                goto out;
        if (g->warnings.n > 0) {
                rb->warnings = pm_calloc(1, sizeof(*rb->warnings));
                if (!rb->warnings) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                pm__warnings_copy(rb->warnings, g);
                rb->warnings->covered = pm_argv_free(rb->warnings->covered);
                rb->warnings->partial = true;
        }
        t0 = pm_clock_ms();
        rb->have_gen_before = pm_index_generation(idx, &rb->gen_before, NULL) == 0;
        r = pm_index_apply_stamped(idx, p->id, g, NULL, &rb->change, err);
        rb->apply_ms = pm_clock_ms() - t0;
        if (r == 0)
                rb->applied = true;
out:
        pm_free(only);
        pm_labels_free(touched_labels);
        pm_graph_free(g);
        return r;
}
