/* SPDX-License-Identifier: MIT */
/* The daemon's update after only proc-macro sources changed (GN): ninja rebuilds those proc
 * macros and the model gets their new cached copies, without a GN query or a parse. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/* Largest project.json read (GN's JSON of a 10,000-target tree is tens of MB). */
#define PROJECT_JSON_MAX ((size_t)1 << 30)

void
pm__rebuild_release(struct pm__rebuild *rb)
{
        pm_change_release(&rb->change);
        rb->fallback = pm_labels_free(rb->fallback);
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
 * GN's output of each crate of @g flagged in @only, as the last `gn gen` wrote it in
 * <out_dir>/project.json (the target's first output: the path the GN adapter serves and
 * server/procmacro.c builds, never guessed), into that crate's proc_macro_dylib. A crate the file
 * names no output for loses its flag and its build file goes to rb->fallback (the query writes the
 * file again); so do all of them when the file cannot be read. -ENOMEM only.
 */
static int
gn_outputs(const struct pm_config *cfg, const struct pm_project *p, struct pm_graph *g, bool *only,
           struct pm__rebuild *rb, struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error ferr;
        const char *out_dir;
        char *dir = NULL, *path = NULL;
        const cJSON *targets = NULL, *rp = NULL;
        cJSON *root = NULL;
        int r;

        pm_error_init(&ferr);
        r = pm_config_get_string(cfg, p->settings, "out_dir", "out", &out_dir, &ferr);
        if (r == 0) {
                dir = pm_path_normalize(NULL, p->root, out_dir);
                path = dir ? pm_path_join(NULL, dir, "project.json") : NULL;
                if (!path) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                r = pm_strbuf_read_file(&sb, path, PROJECT_JSON_MAX, &ferr);
        }
        if (r == -ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (r == 0) {
                root = cJSON_ParseWithLength(sb.buf, sb.len);
                targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
                rp = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(root, "build_settings"), "root_path");
        }
        r = 0;
        for (size_t i = 0; i < g->n_crates; i++) {
                struct pm_crate *c = &g->crates[i];
                const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(targets, c->label), "outputs");
                const cJSON *o = cJSON_GetArrayItem(outs, 0);
                char *abs;

                if (!only[i])
                        continue;
                if (!cJSON_IsString(rp) || !cJSON_IsString(o) ||
                    strncmp(o->valuestring, "//", 2) != 0) {
                        only[i] = false;
                        if (push_unique(&rb->fallback, c->build_file) < 0) {
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        continue;
                }
                abs = pm_path_normalize(NULL, rp->valuestring, o->valuestring + 2);
                c->proc_macro_dylib = abs ? pm_graph_strdup(g, abs) : NULL;
                pm_free(abs);
                if (!c->proc_macro_dylib) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
out:
        cJSON_Delete(root);
        pm_strbuf_release(&sb);
        pm_free(path);
        pm_free(dir);
        return r;
}

/*
 * The proc macros of @p (GN, in the model @idx) whose watched directories hold a path of
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

                if (strcmp(c->build_system, "gn") != 0 || !c->build_file ||
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
 * (they describe GN's JSON, which did not change) and no input stamp (the sources it recorded
 * changed: the next query parses). @only flags the touched proc macros.
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
        return p->build_system && strcmp(p->build_system, "gn") == 0;
}

int
pm__procmacro_rebuild(struct pm_index *idx, const struct pm_config *cfg, const struct pm_project *p,
                      char *const *paths, size_t n_paths, const struct pm_progress *progress,
                      struct pm__rebuild *rb, struct pm_error *err)
{
        struct pm_graph *g = NULL;
        char **touched_labels = NULL;
        bool *only = NULL, build;
        size_t n_only = 0;
        double t0 = pm_clock_ms();
        int r;

        memset(rb, 0, sizeof(*rb));
        /* Without builds the dylib served is GN's own output, for the user's ninja to fill. */
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
        pm_progress_report(progress, "rebuilding %zu proc macro%s of '%s' with ninja",
                           rb->n_proc_macros, rb->n_proc_macros == 1 ? "" : "s", p->rel);
        r = gn_outputs(cfg, p, g, only, rb, err);
        for (size_t i = 0; r == 0 && i < g->n_crates; i++)
                n_only += only[i];
        if (r == 0 && n_only > 0)
                r = pm__procmacro_build_only(cfg, g, only, progress, NULL, err);
        rb->build_ms = pm_clock_ms() - t0;
        if (r < 0 || n_only == 0)
                goto out;
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
