/* SPDX-License-Identifier: MIT */
/* Declarations shared by server/'s files that run build tools: the step runner (spawn.c, tool.c)
 * and the plan sequencer (plan.c), for the daemon and the one-shot commands. No other folder
 * includes this header (tests/server does, through server-internal.h, to unit-test the
 * sequencer). */
#ifndef PROJMODEL_SERVER_PLAN_INTERNAL_H
#define PROJMODEL_SERVER_PLAN_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

struct pm_config;
struct pm_error;
struct pm_step;

/* ---- the build-tool step runner (spawn.c; tool.c drives it on a private loop) ---- */

struct pm__spawn;

/* The tool leads its own process group, and a stop signals the whole group (the daemon). Without
 * it the tool stays in the caller's group and only it is signalled (the one-shot commands:
 * whoever kills the command's group, e.g. rust-analyzer, kills the tool too). */
#define PM__SPAWN_OWN_GROUP 1u

/* @argv joined by spaces into @buf, shortened with "..." to fit (cut before a whole UTF-8
 * character). */
void pm__tool_command_line(char *const *argv, char *buf, size_t size);

/*
 * Where @tool (a step's argv[0]) is, as execvp(3) finds it: itself made absolute against @cwd
 * when it contains a '/', else the first executable regular file of that name in $PATH
 * (relative entries against @cwd). Not resolved through symlinks: a rustup proxy stays the
 * proxy. pm_malloc'd, or NULL when not found (or out of memory). For pm_blob.program.
 */
char *pm__tool_which(const char *tool, const char *cwd);

/*
 * The one wording of a failed step (@cmd: its pm__tool_command_line(), @r: what it printed and
 * how it ended): PM_ETOOL, "'<command line>' failed with exit status N: <error line>" (or "was
 * killed by signal N: ..."), the error line per pm_tool_error_line() from stderr, else stdout
 * (also when only stdout has an error-marked line, as ninja's output does),
 * and ": <error line>" left out when there is none. The step runner and the plan sequencer word
 * every failed step through it (docs/protocol.md).
 */
int pm__step_failed(const char *cmd, const struct pm_tool_result *r, struct pm_error *err);

/*
 * The error line of a failed step that ended with @r, into @buf (@size bytes; "" when it printed
 * none): per pm_tool_error_line(), an error-marked stderr line, else an error-marked stdout one
 * (ninja's, a test's streamed output), else stderr's last line, else stdout's. The one choice of
 * pm__step_failed() and of `projmodel run|test`'s "cannot run" line (check-adapter.c).
 */
void pm__step_error_line(const struct pm_tool_result *r, char *buf, size_t size);

/*
 * pm_blob.error of a step that ended with @code and @res (@err: the runner's error when @code <
 * 0): the runner's one-line message when it failed, "'<command line>' exited with status N:
 * <error line>" when a non-zero exit counted as success (ok_exit_codes), NULL when it exited 0.
 * pm_malloc'd (NULL on OOM: the line is only a diagnostic).
 */
char *pm__step_error(const struct pm_step *step, int code, const struct pm_tool_result *res,
                     const struct pm_error *err);

/* Called once on the loop when the step ended: @code 0 (success) or the error (@err filled);
 * @r holds what was captured either way (the callee releases it after the callback). */
typedef void (*pm__spawn_cb)(void *data, int code, struct pm_tool_result *r,
                             const struct pm_error *err);

/*
 * Start @step under uv_spawn (stdin /dev/null) on @loop, with a timeout (@timeout_ms, 0 = none)
 * and stdout capped at @max_output bytes (0: 1 GiB); stderr keeps its first PM_TOOL_MAX_STDERR
 * bytes. One kill policy for every stop (timeout: PM_ETIMEOUT; over the cap: PM_ELIMIT;
 * pm__spawn_kill(): -ECANCELED; unreadable output: its error): SIGTERM, then SIGKILL after
 * PM_TOOL_KILL_GRACE_MS. A failed step (exit status not accepted by pm_step_exit_ok(), or a
 * signal) is PM_ETOOL, "'<command line>' failed with exit status N: <error line>", the error
 * line per pm_tool_error_line() from stderr, else stdout. When step->output_file is set,
 * stdout is capped like stderr and the file is *not* read here. On failure to start returns an
 * error (-ENOENT naming the tool when it is missing) and never calls @cb. @flags:
 * PM__SPAWN_OWN_GROUP or 0. An any_exit step's exit status (or
 * signal) is its result, not an error, and its stderr is kept up to @max_output like stdout
 * (truncated, never killed for it). step->env, when set, is added to (and overrides
 * names of) projmodel's environment for the tool.
 */
int pm__spawn_start(struct uv_loop_s *loop, const struct pm_step *step, unsigned timeout_ms,
                    size_t max_output, unsigned flags, pm__spawn_cb cb, void *data,
                    struct pm__spawn **ret, struct pm_error *err);
/* Stop a running step (the kill policy above); its callback still fires (with ECANCELED). */
void pm__spawn_kill(struct pm__spawn *s);
/* Send @sig to a running step's process (its group with PM__SPAWN_OWN_GROUP); nothing once it
 * exited. */
void pm__spawn_signal(struct pm__spawn *s, int sig);

/* ---- the plan sequencer (plan.c) ---- */

struct pm__plan_result;

/* pm__plan_opts.next's answers besides 0 (go on) and a negative error. */
#define PM__PLAN_END 1 /* end the plan here, successfully: no further step runs */
#define PM__PLAN_FAILED                                                          \
        2 /* the step failed after all (its output says so): the plan stops with \
           * the one wording (pm__step_failed()) */

/*
 * The plan owner's say after step @step ended and the plan would go on (it succeeded, or it is
 * optional and failed): it may append steps to its plan (the one given to pm__plan_start(),
 * which the run borrows; n_steps grows, the steps that ran or run stay as they are), built from
 * that step's output (res->results[@step], which it may take, zeroing it). Returns 0 to go on
 * with the plan's next step (none left: the plan ends successfully), PM__PLAN_END,
 * PM__PLAN_FAILED, or a negative error with @err filled, which stops the plan (res->failed is
 * @step). Called on the loop, also when the plan was cancelled (its next step then does not
 * start).
 */
typedef int (*pm__plan_next_cb)(void *data, size_t step, struct pm__plan_result *res,
                                struct pm_error *err);

/* How pm__plan_start() runs a plan's steps. */
struct pm__plan_opts {
        unsigned timeout_ms;  /* each step's (tool_timeout_ms), 0 = none */
        size_t max_output;    /* each step's output cap (max_tool_output), 0 = 1 GiB */
        unsigned spawn_flags; /* PM__SPAWN_OWN_GROUP (the daemon) or 0 */
        /* Read each step's output_file into its result when it succeeded, on the loop (the
         * one-shot commands; the daemon's worker reads them off the loop instead). */
        bool read_outputs;
        /* Remove each step's output_file before it runs and create its directory (a report
         * whose name may be an earlier run's, build.c). */
        bool fresh_outputs;
        /* Hears "running <command line> (in <where>)" before each step (docs/cli.md); NULL:
         * silent. Borrowed until the callback, like @where (a project's rel, or NULL). */
        const struct pm_progress *progress;
        const char *where;
        /* With @progress: per step (PM_PLAN_MAX_STEPS entries), the line announcing it in place
         * of its command line, or NULL; the next-step callback may set a later step's (a query
         * step that builds, query.c). Borrowed like @progress; NULL: none. */
        char *const *announce;
        /* pm__plan_run_sync() only, between pm__plan_signals_catch() and _release(): a SIGINT,
         * SIGTERM or SIGHUP the command receives goes on to the running step (unless the
         * terminal sent it to the whole process group, the step's too) and no further step
         * starts: the step decides how to end, as under a shell. */
        bool pass_signals;
        /* The next-step callback (above) with its @data, for a plan whose steps depend on the
         * previous step's output (server/check.c); NULL: the plan is what it is. */
        pm__plan_next_cb next;
        void *next_data;
};

/* What a plan's run did, step by step (indices as in the plan). Owned by whoever holds it:
 * pm__plan_result_release(). */
struct pm__plan_result {
        /* each step's capture, or its output_file with read_outputs; empty for a step that did
         * not run, and for an optional step that failed */
        struct pm_tool_result results[PM_PLAN_MAX_STEPS];
        bool ok[PM_PLAN_MAX_STEPS];      /* the step ran and succeeded */
        char *errors[PM_PLAN_MAX_STEPS]; /* pm_blob.error of each step (pm__step_error()) */
        int code;                        /* 0, or the error of the step that stopped the plan */
        struct pm_error err; /* with @code: that step's one-line error (pm__spawn_start()) */
        size_t failed;       /* with @code: that step */
        double tool_ms;      /* summed over the steps, spawn to end */
};

void pm__plan_result_release(struct pm__plan_result *res);

/* Called once, on the loop, when the plan ended; @res is the callee's (the caller takes what
 * it keeps, zeroing it; the rest is released after the callback). */
typedef void (*pm__plan_cb)(void *data, struct pm__plan_result *res);

struct pm__plan_run;

/*
 * Run @plan's steps in order on @loop, each through pm__spawn_start() with @opts' timeout,
 * output cap and flags (the one kill policy and error line). The one sequencing rule of every
 * caller: a step that fails (could not start, failed, timed out, went over the cap, its
 * output_file unreadable with read_outputs) stops the plan with its error, unless it is
 * optional (then its output is empty, its error in errors[], and the next step runs); out of
 * memory always stops. After each step that lets it go on, @opts->next may append the next
 * step or stop the plan. @cb fires once, from a later loop iteration, never from here. @plan and
 * @opts' pointers are borrowed until then. Errors (before any step runs): a plan of more than
 * PM_PLAN_MAX_STEPS steps, or the loop refusing a timer. *@ret (may be NULL) is the run, for
 * pm__plan_cancel(), valid until @cb.
 */
int pm__plan_start(struct uv_loop_s *loop, const struct pm_plan *plan,
                   const struct pm__plan_opts *opts, pm__plan_cb cb, void *data,
                   struct pm__plan_run **ret, struct pm_error *err);

/* Stop @run: the running step through the kill policy, no further step; its callback still
 * fires, with -ECANCELED ("'<command line>' cancelled"). NULL or an ended run: nothing. */
void pm__plan_cancel(struct pm__plan_run *run);

/*
 * pm__plan_start() on a private loop, to its end (the one-shot commands). *@ret is filled
 * whatever the outcome (the caller releases it); returns res->code, with @err its error, or an
 * error of pm__plan_start().
 */
int pm__plan_run_sync(const struct pm_plan *plan, const struct pm__plan_opts *opts,
                      struct pm__plan_result *ret, struct pm_error *err);

/*
 * A one-shot command that leaves files behind unless it ends its own way (`projmodel run`'s
 * script, server/check-adapter.c) catches SIGINT, SIGTERM and SIGHUP from
 * pm__plan_signals_catch() until pm__plan_signals_release(), which restores what was there and
 * returns the first signal caught (0: none), so it cleans up, then ends as interrupted. One
 * catcher at a time, on the command's main thread.
 */
struct pm__plan_signals {
        struct sigaction old[3];
};

void pm__plan_signals_catch(struct pm__plan_signals *s);
int pm__plan_signals_release(struct pm__plan_signals *s);

#endif
