/* SPDX-License-Identifier: MIT */
/* Refreshing the stored model from the build systems, synchronously (the one-shot commands;
 * the daemon does the same on its loop). Owned by server/. */
#ifndef PROJMODEL_REFRESH_H
#define PROJMODEL_REFRESH_H

#include <stddef.h>

#include "projmodel/index.h" /* the PM_META_* keys */

struct pm_blob;
struct pm_change;
struct pm_config;
struct pm_error;
struct pm_graph;
struct pm_index;
struct pm_query;

/*
 * Progress of a long refresh, for rust-analyzer's discover protocol or a person at a terminal
 * (docs/cli.md "Progress"): @cb receives one short line per phase -- the build tool's step, the
 * crates parsed, the proc macros being built and built -- borrowed for the call, on the thread
 * doing the work. Every function taking a `const struct pm_progress *` accepts NULL: silent.
 */
typedef void (*pm_progress_cb)(const char *message, void *userdata);

struct pm_progress {
        pm_progress_cb cb;
        void *userdata;
        /*
         * Optional, separate from @cb: each of the parsed graph's warnings (pm_graph.warnings,
         * e.g. a BUILD file Bazel skipped with --keep_going), once per parse -- not repeated when
         * an unchanged input skips the parse (pm_model_apply_outputs()). Same @userdata.
         */
        pm_progress_cb warn;
};

/* Format one line and hand it to @p's callback; nothing when @p or its callback is NULL. */
void pm_progress_report(const struct pm_progress *p, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Hand @text to @p's warn callback; nothing when @p or its warn callback is NULL. */
void pm_progress_warn(const struct pm_progress *p, const char *text);

/*
 * Query every project of @cfg (pm_query_run_sync()) and apply each graph to @idx under the
 * project's id (pm_index_apply()), then resolve the sysroot and store it with the refresh time
 * and duration in @idx's metadata.
 *
 * A project whose query or apply fails is left exactly as it was in @idx; the other projects
 * are still refreshed. The first failure is returned with the project named in the message
 * (and its file in err->file when the tool did not name one), and stored as
 * PM_META_LAST_ERROR.
 *
 * @cfg must have every build_system resolved (pm_adapter_resolve_config()).
 * @ret_change, when non-NULL, receives the sum of all projects' changes (released with
 * pm_change_release() by the caller); it is written only on success. @progress (may be NULL)
 * hears each project's steps, parse and proc-macro build.
 */
int pm_model_refresh_sync(const struct pm_config *cfg, struct pm_index *idx,
                          struct pm_change *ret_change, const struct pm_progress *progress,
                          struct pm_error *err);

/*
 * Tell @idx which sources @cfg names (pm_index_set_sources()), so its applies drop every other
 * source's crates in their own transaction: the model follows the configuration.
 */
int pm_model_configure(const struct pm_config *cfg, struct pm_index *idx, struct pm_error *err);

/*
 * As pm_model_refresh_sync(), also handing over the graph that was applied when @cfg has one
 * project and its output was parsed (*ret_graph, owned by the caller; NULL otherwise: nothing
 * was parsed, or several projects). A caller rendering the whole model can render that graph
 * instead of loading the model back. `rustc --print sysroot`, when it has to run, runs
 * meanwhile on a second thread.
 */
int pm_model_refresh_sync_graph(const struct pm_config *cfg, struct pm_index *idx,
                                struct pm_change *ret_change, struct pm_graph **ret_graph,
                                const struct pm_progress *progress, struct pm_error *err);

/*
 * The parse-and-apply half of a refresh, for outputs at hand (the steps' outputs, or captured
 * output with @q->captured): parse @outputs with the adapter of @q->project and apply the graph
 * to @idx under the project's id -- unless the model already holds exactly what they describe,
 * in which case nothing is parsed or written. "Already holds" is proven by the project's input
 * stamp (projmodel/stamp.h): stored by the last apply made here, for the same outputs, settings
 * and projmodel version, and every file that parse read (GN's ninja files) still unchanged.
 * Adapters that do not list their inputs (pm_graph.inputs_known) are always parsed.
 *
 * @ret_change is pm_index_apply()'s (with nothing parsed: zero counts and the current
 * generation). @ret_graph, when non-NULL, receives the graph that was applied (owned by the
 * caller) or NULL when nothing was parsed. Errors are the parse's or the apply's.
 */
int pm_model_apply_outputs(struct pm_index *idx, const struct pm_query *q,
                           const struct pm_blob *outputs, size_t n_outputs,
                           struct pm_change *ret_change, struct pm_graph **ret_graph,
                           struct pm_error *err);

#endif
