/* SPDX-License-Identifier: MIT */
/* The one parse and apply both refresh paths run: the one-shot commands (refresh.c, export) and
 * the daemon's worker (update-worker.c) -- with their one change detection (the model's input
 * stamp and fingerprints, docs/architecture.md), the adapter's parse, the proc macros and dylibs
 * its own query built, then the apply as a diff. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"

#include "server-internal.h"

/* Bump when a parse of the same input may give a different graph than before (an adapter
 * change) within one projmodel version: stored stamps then no longer match. */
#define STAMP_FORMAT "2"

static uint64_t
hash_str(uint64_t h, const char *s)
{
        uint64_t len = s ? strlen(s) : UINT64_MAX;

        h = pm_hash64(&len, sizeof(len), h);
        return s ? pm_hash64(s, (size_t)len, h) : h;
}

/*
 * The stamp key of a query: everything a parse sees besides the files it reads on its own --
 * the projmodel version, the adapter, the project, the whole configuration file, whether the
 * output was captured, and the outputs themselves (with the program each ran and its error).
 */
static int
stamp_key(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs, uint64_t *ret,
          struct pm_error *err)
{
        const struct pm_config *cfg = q->config;
        char *json = NULL;
        uint64_t h = 0, n = n_outputs;

        if (cfg->json) {
                json = cJSON_PrintUnformatted(cfg->json);
                if (!json)
                        return pm_error_set(err, -ENOMEM, "out of memory");
        }
        h = hash_str(h, "projmodel " PM_VERSION " stamp " STAMP_FORMAT);
        h = hash_str(h, q->project->build_system);
        h = hash_str(h, q->project->id);
        h = hash_str(h, q->project->root);
        h = hash_str(h, cfg->root);
        h = hash_str(h, json);
        h = hash_str(h, q->captured ? "captured" : "ran");
        h = pm_hash64(&n, sizeof(n), h);
        for (size_t i = 0; i < n_outputs; i++) {
                uint64_t len = outputs[i].len;

                h = pm_hash64(&len, sizeof(len), h);
                h = pm_hash64(outputs[i].data, outputs[i].len, h);
                h = hash_str(h, outputs[i].program);
                h = hash_str(h, outputs[i].error);
        }
        cJSON_free(json);
        *ret = h;
        return 0;
}

char *
pm__kept_warning(struct pm_graph *g, const char *tool, size_t kept)
{
        /* A listed own error tells them apart too; unknown: any file of `failed` may have an
         * error of its own. */
        bool known = g->failed_own_known || g->failed_own.n > 0;
        bool none_own = known && g->failed_own.n == 0;
        /* The files named: those with an error of their own, else (none has one, or the
         * adapter cannot tell) every file that failed. */
        const struct pm_strlist *own = g->failed_own.n ? &g->failed_own : &g->failed;
        size_t n = own->n, n_deps = g->failed_own.n ? g->failed.n - g->failed_own.n : 0;
        char more[64] = "", deps[96] = "", why[256];

        if (g->failed.n == 0)
                return NULL;
        if (n > 1)
                (void)snprintf(more, sizeof(more), " and %zu other build file%s", n - 1,
                               n == 2 ? "" : "s");
        if (n_deps)
                (void)snprintf(deps, sizeof(deps),
                               kept ? ", and of %zu build file%s that depend%s on %s"
                                    : " (nor the %zu build file%s that depend%s on %s)",
                               n_deps, n_deps == 1 ? "" : "s", n_deps == 1 ? "s" : "",
                               n == 1 ? "it" : "them");
        if (kept) {
                if (none_own)
                        /* The error is in something outside them, e.g. an external repository. */
                        (void)snprintf(why, sizeof(why),
                                       "whose targets %s could not analyse because something "
                                       "they depend on failed (none has an error of its own)",
                                       tool);
                else if (!known)
                        (void)snprintf(why, sizeof(why),
                                       "which %s could not load or which depend on one it "
                                       "could not",
                                       tool);
                else
                        (void)snprintf(why, sizeof(why), "which %s could not load%s", tool, deps);
                return pm_graph_printf(g,
                                       "kept the last good state of %zu crate%s of %s%s, %s: the "
                                       "next run after the fix updates them",
                                       kept, kept == 1 ? "" : "s", own->v[0], more, why);
        }
        if (none_own)
                return pm_graph_printf(
                        g,
                        "%s could not analyse the targets of %s%s because something they depend "
                        "on failed (none has an error of its own), and the model has no earlier "
                        "state of %s: %s crates are missing until that loads",
                        tool, own->v[0], more, n == 1 ? "it" : "them", n == 1 ? "its" : "their");
        if (!known)
                return pm_graph_printf(
                        g,
                        "%s could not load %s%s (or %s on one it could not) and the model has "
                        "no earlier state of %s: %s crates are missing until %s",
                        tool, own->v[0], more, n == 1 ? "it depends" : "they depend",
                        n == 1 ? "it" : "them", n == 1 ? "its" : "their",
                        n == 1 ? "it loads" : "they load");
        return pm_graph_printf(g,
                               "%s could not load %s%s%s and the model has no earlier state "
                               "of %s: %s crates are missing until %s",
                               tool, own->v[0], more, deps, g->failed.n == 1 ? "it" : "them",
                               g->failed.n == 1 ? "its" : "their",
                               n == 1 ? "it loads" : "they load");
}

/*
 * After the apply of a graph with build files its tool could not load (pm_graph.failed): one
 * warning (pm__kept_warning()) saying whether the model kept their crates' last good state, or
 * had none to keep (the first run), so they are missing until the files load. Added to @g's
 * warnings too.
 */
static int
warn_kept(const struct pm_adapter_ops *ops, struct pm_graph *g, const struct pm_change *change,
          const struct pm_progress *progress, struct pm_error *err)
{
        char *w;

        if (g->failed.n == 0)
                return 0;
        w = pm__kept_warning(g, ops->name, change->kept);
        if (!w || pm_strlist_push(g, &g->warnings, w) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        pm_progress_warn(progress, w);
        return 0;
}

/*
 * The stamp says the model already holds what @outputs describe: nothing to parse. Sources the
 * configuration no longer names still go (the apply would have dropped them), and the caller
 * still gets the generation.
 */
static int
skip(struct pm_index *idx, struct pm__parse_apply *pa, struct pm_change *change,
     struct pm_error *err)
{
        if (pa->want_gen_before)
                pa->have_gen_before = pm_index_generation(idx, &pa->gen_before, NULL) == 0;
        pa->skipped = true;
        return pm_index_prune(idx, change, err);
}

int
pm__parse_apply(struct pm_index *idx, const struct pm_query *query, const struct pm_blob *outputs,
                size_t n_outputs, struct pm__parse_apply *pa, struct pm_change *ret_change,
                struct pm_graph **ret_graph, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(query->project->build_system);
        struct pm_query q = *query;
        struct pm_change change = { 0 };
        struct pm_graph *g = NULL, *prev = NULL;
        char *old = NULL, *stamp = NULL;
        uint64_t key = 0;
        /* A sub-project's place, in progress lines (NULL at the root). */
        const char *in = q.project->rel && strcmp(q.project->rel, ".") != 0 ? q.project->rel : NULL;
        double t0 = pm_clock_ms();
        int64_t since;
        size_t n_warned;
        int r;

        pa->parse_ms = 0;
        pa->build_ms = 0;
        pa->have_gen_before = false;
        pa->skipped = false;
        if (!ops)
                return pm_error_set(err, PM_ECONFIG, "unknown build_system '%s' for '%s'",
                                    q.project->build_system ? q.project->build_system : "(none)",
                                    q.project->root);
        /* Whole run: the same outputs and every file the last parse read unchanged. A scoped
         * query's outputs that match describe the same complete graph, of which the model holds
         * all. */
        r = stamp_key(&q, outputs, n_outputs, &key, err);
        if (r < 0)
                goto out;
        r = pm_index_source_stamp(idx, q.project->id, &old, err);
        if (r < 0)
                goto out;
        if (pm_stamp_fresh(old, key)) {
                pm_progress_report(pa->progress, "%s%s%s: input unchanged, parse skipped",
                                   ops->name, in ? " in " : "", in ? in : "");
                /* What query_builds() parsed for the parse is of no more use (adapter.h). */
                if (q.memo && q.memo->data && q.memo->free) {
                        q.memo->free(q.memo->data);
                        q.memo->data = NULL;
                }
                r = skip(idx, pa, &change, err);
                if (r < 0)
                        goto out;
                goto done;
        }
        /* Per target: what the last apply's graph was made of, for an adapter that can re-parse
         * only the targets of a scope that lists every build file changed since that apply. */
        q.want_fingerprints = pa->want_fingerprints;
        if (q.scope && pa->scope_complete) {
                r = pm_index_source_fingerprints(idx, q.project->id, &prev, err);
                if (r < 0)
                        goto out;
                q.previous_fingerprints = prev ? &prev->fingerprints : NULL;
        }

        /* Before the parse opens any file: what changes after this is caught (stamp.h). */
        since = pm_stamp_clock();
        r = ops->parse(&q, outputs, n_outputs, &g, err);
        if (r == 0) {
                pm_progress_report(pa->progress, "%s%s%s: parsed %zu crate%s", ops->name,
                                   in ? " in " : "", in ? in : "", g->n_crates,
                                   g->n_crates == 1 ? "" : "s");
                for (size_t i = 0; i < g->warnings.n; i++)
                        pm_progress_warn(pa->progress, g->warnings.v[i]);
                /* The build is the tools' time, not the parse's (docs/protocol.md, status). */
                pa->parse_ms = pm_clock_ms() - t0;
                n_warned = g->warnings.n;
                r = pm__build_proc_macros(&q, g, pa->progress, err);
                /* What it could not build is a warning too (docs/build-integration.md). */
                for (size_t i = n_warned; r == 0 && i < g->warnings.n; i++)
                        pm_progress_warn(pa->progress, g->warnings.v[i]);
        }
        if (r == 0)
                r = pm__dylibs_cache(q.config, g, err);
        if (r < 0)
                goto out;
        pa->build_ms = pm_clock_ms() - t0 - pa->parse_ms;
        /* No stamp while a build file does not load: the run after its fix must parse. */
        if (g->inputs_known && !g->partial && g->failed.n == 0) {
                r = pm_stamp_make_known(key, &g->inputs, g->input_files, since, &stamp, err);
                if (r < 0)
                        goto out;
        }
        /* Just before the apply: the caller tells its own writes from another writer's. */
        if (pa->want_gen_before)
                pa->have_gen_before = pm_index_generation(idx, &pa->gen_before, NULL) == 0;
        r = pm_index_apply_stamped(idx, q.project->id, g, stamp, &change, err);
        if (r < 0)
                goto out;
        r = warn_kept(ops, g, &change, pa->progress, err);
        if (r < 0)
                goto out;
done:
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
        pm_graph_free(prev);
        pm_free(old);
        pm_free(stamp);
        return r;
}

int
pm_model_apply_outputs(struct pm_index *idx, const struct pm_query *q,
                       const struct pm_blob *outputs, size_t n_outputs,
                       struct pm_change *ret_change, struct pm_graph **ret_graph,
                       struct pm_error *err)
{
        struct pm__parse_apply pa = { 0 };

        return pm__parse_apply(idx, q, outputs, n_outputs, &pa, ret_change, ret_graph, err);
}
