/* SPDX-License-Identifier: MIT */
/* Synchronous model refresh for the one-shot commands: query each project, apply its graph as
 * a diff, record the sysroot and how the refresh went in the model's metadata. */
#include "projmodel/refresh.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/tool.h"

static uint64_t
now_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Move @src's lists onto the end of @dst's; @src is left empty (and released). */
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

static int
merge_change(struct pm_change *dst, struct pm_change *src)
{
        int r;

        dst->generation = src->generation;
        dst->added += src->added;
        dst->removed += src->removed;
        dst->modified += src->modified;
        dst->unchanged += src->unchanged;
        r = append_strings(&dst->labels, &dst->n_labels, &src->labels, &src->n_labels);
        if (r == 0)
                r = append_strings(&dst->build_files, &dst->n_build_files, &src->build_files,
                                   &src->n_build_files);
        return r;
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

static int
refresh_project(const struct pm_config *cfg, const struct pm_project *project, struct pm_index *idx,
                struct pm_change *change, struct pm_error *err)
{
        struct pm_change c;
        struct pm_graph *g = NULL;
        int r;

        memset(&c, 0, sizeof(c));
        r = pm_query_run_sync(cfg, project, NULL, 0, &g, err);
        if (r < 0)
                goto out;
        r = pm_index_apply(idx, project->id, g, &c, err);
        if (r < 0)
                goto out;
        r = merge_change(change, &c);
        if (r < 0)
                r = pm_error_set(err, r, "out of memory");
out:
        pm_change_release(&c);
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
pm_model_refresh_sync(const struct pm_config *cfg, struct pm_index *idx,
                      struct pm_change *ret_change, struct pm_error *err)
{
        struct pm_change change;
        struct pm_error first, perr, merr;
        char *sysroot = NULL, *sysroot_src = NULL;
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        char num[32];
        uint64_t start = now_ms();
        int first_code = 0;
        int r;

        memset(&change, 0, sizeof(change));
        pm_error_init(&first);
        pm_error_init(&merr);

        for (size_t i = 0; i < cfg->n_projects; i++) {
                pm_error_init(&perr);
                r = refresh_project(cfg, &cfg->projects[i], idx, &change, &perr);
                if (r < 0 && first_code == 0) {
                        first_code = r;
                        first = perr;
                }
        }
        if (first_code == 0) {
                r = pm_sysroot_resolve(cfg, &sysroot, &sysroot_src, &perr);
                if (r < 0) {
                        first_code = r;
                        first = perr;
                }
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
        (void)snprintf(num, sizeof(num), "%" PRIu64, now_ms() - start);
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
        if (ret_change) {
                *ret_change = change;
                memset(&change, 0, sizeof(change));
        }
        r = 0;
out:
        pm_change_release(&change);
        pm_free(sysroot);
        pm_free(sysroot_src);
        return r;
}
