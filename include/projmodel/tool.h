/* SPDX-License-Identifier: MIT */
/* Running the configured build tool: argv under uv_spawn, with a timeout and an output cap.
 * Owned by server/; the synchronous form serves the one-shot commands. */
#ifndef PROJMODEL_TOOL_H
#define PROJMODEL_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/strbuf.h"

struct pm_config;
struct pm_error;
struct pm_graph;
struct pm_project;
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
 * Run one step to completion on a private libuv loop (for the one-shot commands). Fails with
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
 * Resolve the sysroot: the configuration's, or `<rustc> --print sysroot`. sysroot_src is the
 * configuration's or <sysroot>/lib/rustlib/src/rust/library. Both pm_malloc'd.
 */
int pm_sysroot_resolve(const struct pm_config *cfg, char **ret_sysroot, char **ret_sysroot_src,
                       struct pm_error *err);

#endif
