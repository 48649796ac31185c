/* SPDX-License-Identifier: MIT */
/* Running the configured build tool: argv under uv_spawn, with a timeout and an output cap.
 * Owned by server/; the synchronous form serves the one-shot commands. */
#ifndef PROJMODEL_TOOL_H
#define PROJMODEL_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/strbuf.h"

struct pm_blob;
struct pm_config;
struct pm_error;
struct pm_graph;
struct pm_index;
struct pm_project;
struct pm_progress;
struct pm_query;
struct pm_step;

/* What one command did. Owned by the caller; release with pm_tool_result_release(). */
struct pm_tool_result {
        int exit_status;      /* exit code, or -1 when killed by a signal */
        int term_signal;      /* signal number, or 0 */
        bool timed_out;       /* killed after the timeout */
        struct pm_strbuf out; /* stdout, or the step's output_file contents */
        struct pm_strbuf err; /* stderr (capped) */
};

void pm_tool_result_release(struct pm_tool_result *r);

/*
 * Run one step to completion on a private libuv loop (for the one-shot commands), as a plan of
 * one step through the daemon's plan sequencer (server/plan.c), its output_file read. Fails with
 * -ENOENT (tool missing, naming it), PM_ETIMEOUT, PM_ELIMIT (more than @max_output bytes) or
 * PM_ETOOL (non-zero exit, with the last line of stderr in the message). On success *ret holds
 * the output.
 */
int pm_tool_run_sync(const struct pm_step *step, unsigned timeout_ms, size_t max_output,
                     struct pm_tool_result *ret, struct pm_error *err);

/*
 * Run the whole query for @project synchronously: plan, run every step, parse. On success
 * *ret_graph is owned by the caller. Errors name the tool or the target.
 */
int pm_query_run_sync(const struct pm_config *cfg, const struct pm_project *project,
                      const char *const *scope, size_t n_scope, struct pm_graph **ret_graph,
                      struct pm_error *err);

/*
 * The parse half of pm_query_run_sync_with(): called once, after every step ran, with
 * @outputs[i] step i's output (borrowed for the call) and the query the plan was made for. Same
 * contract as pm_adapter_ops.parse, except that it may succeed with *ret_graph NULL ("nothing to
 * apply", e.g. the model already holds what the outputs describe).
 */
typedef int (*pm_query_parse_cb)(const struct pm_query *q, const struct pm_blob *outputs,
                                 size_t n_outputs, void *userdata, struct pm_graph **ret_graph,
                                 struct pm_error *err);

/* As pm_query_run_sync(), with @parse (NULL: the adapter's own) turning the outputs into a
 * graph; @progress (may be NULL, projmodel/refresh.h) hears each step before it runs. */
int pm_query_run_sync_with(const struct pm_config *cfg, const struct pm_project *project,
                           const char *const *scope, size_t n_scope, pm_query_parse_cb parse,
                           void *userdata, const struct pm_progress *progress,
                           struct pm_graph **ret_graph, struct pm_error *err);

/*
 * Resolve the sysroot: the configuration's, or `<rustc> --print sysroot`. sysroot_src is the
 * configuration's or <sysroot>/lib/rustlib/src/rust/library. Both pm_malloc'd.
 */
int pm_sysroot_resolve(const struct pm_config *cfg, char **ret_sysroot, char **ret_sysroot_src,
                       struct pm_error *err);

/*
 * As pm_sysroot_resolve(), but `rustc --print sysroot` (a process, tens of ms through rustup) is
 * asked only when @idx holds no answer for the same question: the answer is kept in the meta key
 * PM_META_SYSROOT_CACHE with a hash of what decides it (the rustc setting, PATH,
 * RUSTUP_TOOLCHAIN, RUSTUP_HOME, the rustc found in PATH, rust-toolchain files from the root
 * up, rustup's settings.toml) and used while that hash matches and the directory exists.
 * Failing to read or write the cache is not an error (it is only a cache).
 */
int pm_sysroot_resolve_cached(const struct pm_config *cfg, struct pm_index *idx, char **ret_sysroot,
                              char **ret_sysroot_src, struct pm_error *err);

/*
 * The two halves of pm_sysroot_resolve_cached(), for a caller that runs pm_sysroot_resolve() on
 * another thread (a pm_index handle belongs to one thread): pm_sysroot_lookup_cached() returns 1
 * with both paths set (pm_malloc'd) when no process needs to run (configured, or remembered),
 * else 0; pm_sysroot_remember() stores what pm_sysroot_resolve() found (errors ignored). The
 * answer is remembered in the model and, as `sysroot-<key>`, in the cache directory, so a fresh
 * model finds it too; the key covers everything that decides rustc's answer.
 */
int pm_sysroot_lookup_cached(const struct pm_config *cfg, struct pm_index *idx, char **ret_sysroot,
                             char **ret_sysroot_src);
void pm_sysroot_remember(const struct pm_config *cfg, struct pm_index *idx, const char *sysroot);

/*
 * pm_sysroot_resolve() on a second thread, so that `rustc --print sysroot` (a process, tens of
 * ms through rustup, nearly all of it waiting) overlaps the caller's own work (running the build
 * tool, parsing, writing the model). @cfg must outlive the job. pm_sysroot_job_start() returns
 * NULL when no thread could be started (then resolve in place); pm_sysroot_job_finish() waits
 * for the thread's result, hands over pm_sysroot_resolve()'s result (paths pm_malloc'd, or its
 * error) and frees the job. Every started job must be finished exactly once, on every path
 * (error returns included): @cfg is read until then. The thread is detached (server/sysroot.c
 * says why), so nothing of it is left behind once finish() returned. The job touches no
 * pm_index: remember the answer afterwards (pm_sysroot_remember()) on the caller's thread.
 */
struct pm_sysroot_job;
struct pm_sysroot_job *pm_sysroot_job_start(const struct pm_config *cfg);
int pm_sysroot_job_finish(struct pm_sysroot_job *job, char **ret_sysroot, char **ret_sysroot_src,
                          struct pm_error *err);

#endif
