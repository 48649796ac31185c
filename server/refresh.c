/* SPDX-License-Identifier: MIT */
/* Synchronous model refresh for the one-shot commands: query each project, parse and apply its
 * outputs through the one pipeline the daemon runs too (parse-apply.c), record the sysroot and
 * how the refresh went in the model's metadata. */
#include "projmodel/refresh.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"

void
pm_progress_report(const struct pm_progress *p, const char *fmt, ...)
{
        char line[PM_ERROR_MSG_MAX];
        va_list ap;

        if (!p || !p->cb)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        p->cb(line, p->userdata);
}

void
pm_progress_warn(const struct pm_progress *p, const char *text)
{
        char *clipped;

        if (!p || !p->warn)
                return;
        /* Cut here, once for every command and the daemon's $/progress (PM_WARNING_MAX). */
        clipped = pm_utf8_clip(text, PM_WARNING_MAX);
        p->warn(clipped ? clipped : text, p->userdata);
        pm_free(clipped);
}

/* Move @src's list onto the end of @dst's; @src is left empty (and released). */
static int
append_strings(char ***dst, size_t *n_dst, char ***src, size_t *n_src)
{
        char **v;

        if (*n_src == 0)
                return 0;
        v = pm_realloc(*dst, (*n_dst + *n_src + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        memcpy(v + *n_dst, *src, *n_src * sizeof(*v));
        *n_dst += *n_src;
        v[*n_dst] = NULL;
        *dst = v;
        pm_free(*src);
        *src = NULL;
        *n_src = 0;
        return 0;
}

int
pm__change_merge(struct pm_change *dst, struct pm_change *src)
{
        int r;

        r = append_strings(&dst->labels, &dst->n_labels, &src->labels, &src->n_labels);
        if (r == 0)
                r = append_strings(&dst->build_files, &dst->n_build_files, &src->build_files,
                                   &src->n_build_files);
        if (r < 0)
                return r;
        dst->generation = src->generation;
        dst->added += src->added;
        dst->removed += src->removed;
        dst->modified += src->modified;
        dst->unchanged += src->unchanged;
        dst->kept += src->kept;
        dst->build_files_changed += src->build_files_changed;
        return 0;
}

/* Make @err name @project: its root as the file unless the tool named one, and its id when
 * there are several projects. */
static void
name_project(const struct pm_config *cfg, const struct pm_project *project, struct pm_error *err)
{
        if (!err)
                return;
        if (cfg->n_projects > 1)
                (void)pm_error_prefix(err, "project '%s'", project->id);
        if (!err->file[0] && !strstr(err->msg, project->root))
                (void)snprintf(err->file, sizeof(err->file), "%s", project->root);
}

/* The state refresh_project() hands to its parse callback. */
struct refresh_parse {
        struct pm_index *idx;
        struct pm_change change;
        struct pm_graph *graph; /* what was applied, when the caller keeps it */
        const struct pm_progress *progress;
        bool keep_graph;
        bool applied;
};

/* pm_query_parse_cb: parse and apply in one go, so an unchanged input skips both. */
static int
parse_and_apply(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                void *userdata, struct pm_graph **ret_graph, struct pm_error *err)
{
        struct refresh_parse *rp = userdata;
        struct pm__parse_apply pa = { .progress = rp->progress };
        int r;

        r = pm__parse_apply(rp->idx, q, outputs, n_outputs, &pa, &rp->change,
                            rp->keep_graph ? &rp->graph : NULL, err);
        if (r < 0)
                return r;
        rp->applied = true;
        *ret_graph = NULL;
        return 0;
}

static int
refresh_project(const struct pm_config *cfg, const struct pm_project *project, struct pm_index *idx,
                struct pm_change *change, struct pm_graph **ret_graph,
                const struct pm_progress *progress, struct pm_error *err)
{
        struct refresh_parse rp = { .idx = idx,
                                    .keep_graph = ret_graph != NULL,
                                    .progress = progress };
        struct pm_graph *g = NULL;
        int r;

        r = pm_query_run_sync_with(cfg, project, NULL, 0, parse_and_apply, &rp, progress, &g, err);
        if (r < 0)
                goto out;
        if (!rp.applied) {
                r = pm_error_set(err, -EINVAL, "internal bug: query of '%s' applied nothing",
                                 project->id);
                goto out;
        }
        r = pm__change_merge(change, &rp.change);
        if (r < 0) {
                r = pm_error_set(err, r, "out of memory");
                goto out;
        }
        if (ret_graph)
                *ret_graph = pm_steal_ptr(&rp.graph);
out:
        pm_change_release(&rp.change);
        pm_graph_free(rp.graph);
        pm_graph_free(g);
        if (r < 0)
                name_project(cfg, project, err);
        return r;
}

static int
store_meta(struct pm_index *idx, const char *key, const char *value, struct pm_error *err)
{
        return pm_index_meta_set(idx, key, value ? value : "", err);
}

int
pm_model_configure(const struct pm_config *cfg, struct pm_index *idx, struct pm_error *err)
{
        const char **ids = pm_calloc(cfg->n_projects + 1, sizeof(*ids));
        size_t n = 0;
        int r;

        if (!ids)
                return pm_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < cfg->n_projects; i++)
                if (cfg->projects[i].id)
                        ids[n++] = cfg->projects[i].id;
        r = pm_index_set_sources(idx, ids, n, err);
        pm_free(ids);
        return r;
}

/*
 * Collect the cache directory (pm_index_cache_collect(): at most once a day, whoever asks). A
 * one-shot command has no status to show a failure in, and a failure costs disk only: the
 * daemon's status reports it (docs/protocol.md, "cache").
 */
static void
collect_cache(const struct pm_config *cfg, const struct pm_index *idx)
{
        struct pm_cache_stats stats;
        struct pm_error cerr;
        char *dir = pm_config_cache_dir(cfg), *abs = dir ? pm_path_absolute(dir) : NULL;

        pm_error_init(&cerr);
        if (abs)
                (void)pm_index_cache_collect(abs, pm_index_path(idx), &stats, &cerr);
        pm_free(dir);
        pm_free(abs);
}

int
pm_model_refresh_sync(const struct pm_config *cfg, struct pm_index *idx,
                      struct pm_change *ret_change, const struct pm_progress *progress,
                      struct pm_error *err)
{
        return pm_model_refresh_sync_graph(cfg, idx, ret_change, NULL, progress, err);
}

int
pm_model_refresh_sync_graph(const struct pm_config *cfg, struct pm_index *idx,
                            struct pm_change *ret_change, struct pm_graph **ret_graph,
                            const struct pm_progress *progress, struct pm_error *err)
{
        struct pm_change change;
        struct pm_error first, perr, merr;
        struct pm_sysroot_job *job = NULL;
        struct pm_graph *g = NULL;
        char *sysroot = NULL, *sysroot_src = NULL;
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        char num[32];
        double start = pm_clock_ms();
        int first_code = 0;
        int r;

        memset(&change, 0, sizeof(change));
        pm_error_init(&first);
        pm_error_init(&merr);

        /* Every apply below drops the sources the configuration no longer names. */
        r = pm_model_configure(cfg, idx, err);
        if (r < 0)
                return r;
        /* When rustc must be asked, it runs while the build tools do. */
        if (!pm_sysroot_lookup_cached(cfg, idx, &sysroot, &sysroot_src))
                job = pm_sysroot_job_start(cfg);
        for (size_t i = 0; i < cfg->n_projects; i++) {
                pm_error_init(&perr);
                r = refresh_project(cfg, &cfg->projects[i], idx, &change,
                                    ret_graph && cfg->n_projects == 1 ? &g : NULL, progress, &perr);
                if (r < 0 && first_code == 0) {
                        first_code = r;
                        first = perr;
                }
        }
        {
                /* Nothing applied (every input unchanged, or no project left): drop them now. */
                struct pm_change pruned = { 0 };

                pm_error_init(&perr);
                r = pm_index_prune(idx, &pruned, &perr);
                if (r == 0 && pm__change_merge(&change, &pruned) < 0)
                        r = pm_error_set(&perr, -ENOMEM, "out of memory");
                pm_change_release(&pruned);
                if (r < 0 && first_code == 0) {
                        first_code = r;
                        first = perr;
                }
        }
        if (job) {
                pm_error_init(&perr);
                r = pm_sysroot_job_finish(pm_steal_ptr(&job), &sysroot, &sysroot_src, &perr);
                if (r == 0)
                        pm_sysroot_remember(cfg, idx, sysroot);
                else if (first_code == 0) {
                        first_code = r;
                        first = perr;
                }
        } else if (!sysroot) {
                pm_error_init(&perr);
                r = pm_sysroot_resolve_cached(cfg, idx, &sysroot, &sysroot_src, &perr);
                if (r < 0 && first_code == 0) {
                        first_code = r;
                        first = perr;
                }
        }
        if (first_code != 0) {
                /* A failed refresh stores no sysroot (as before: it was not asked). */
                pm_free(sysroot);
                pm_free(sysroot_src);
                sysroot = sysroot_src = NULL;
        }

        /* Record how it went. A failure here matters less than the refresh's own. */
        if (sysroot) {
                r = store_meta(idx, PM_META_SYSROOT, sysroot, &merr);
                if (r == 0)
                        r = store_meta(idx, PM_META_SYSROOT_SRC, sysroot_src, &merr);
                if (r < 0)
                        goto meta_failed;
        }
        (void)snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
        r = store_meta(idx, PM_META_LAST_REFRESH, num, &merr);
        if (r < 0)
                goto meta_failed;
        (void)snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)(pm_clock_ms() - start));
        r = store_meta(idx, PM_META_LAST_REFRESH_MS, num, &merr);
        if (r < 0)
                goto meta_failed;
        r = store_meta(idx, PM_META_LAST_ERROR,
                       first_code ? pm_error_format(&first, line, sizeof(line)) : "", &merr);
meta_failed:
        if (first_code == 0 && r < 0) {
                first_code = r;
                first = merr;
        }

        if (first_code < 0) {
                if (err)
                        *err = first;
                r = first_code;
                goto out;
        }
        collect_cache(cfg, idx);
        if (ret_change) {
                *ret_change = change;
                memset(&change, 0, sizeof(change));
        }
        if (ret_graph)
                *ret_graph = pm_steal_ptr(&g);
        r = 0;
out:
        pm_change_release(&change);
        pm_graph_free(g);
        pm_free(sysroot);
        pm_free(sysroot_src);
        return r;
}
