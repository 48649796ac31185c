/* SPDX-License-Identifier: MIT */
/* Declarations shared by `projmodel check|test|run`'s files in server/: the plan one check grows
 * step by step (check.c), and each build system's steps (check-gn.c, check-cargo.c,
 * check-buck2.c, and the adapters' own plans in check-adapter.c). No other folder includes it. */
#ifndef PROJMODEL_SERVER_CHECK_INTERNAL_H
#define PROJMODEL_SERVER_CHECK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/adapter.h"
#include "projmodel/tool.h"

#include "plan-internal.h"

struct pm_adapter_ops;
struct pm_check_request;
struct pm_check_result;
struct pm_config;
struct pm_error;

/*
 * Each build system's steps depend on the previous step's output (GN's target, then its inputs,
 * then its rustc command), so a check is a plan grown one step at a time through the plan
 * sequencer's next-step callback (server/plan.c): the sequencer decides stop or go on and words
 * a failed step; each step's handler reads its output and appends the next step.
 */
struct pm__check_run;

/* What follows step @step: append the next step, or end (0 with nothing appended,
 * PM__PLAN_FAILED when its output says it failed, an error). */
typedef int (*pm__check_then_cb)(struct pm__check_run *cr, size_t step, struct pm__plan_result *res,
                                 struct pm_error *err);

/* One `projmodel check|test|run`: its plan and what its steps found. Released by
 * pm_check_run() (check.c) whatever the build system. */
struct pm__check_run {
        const struct pm_config *cfg;               /* borrowed */
        const struct pm_check_request *req;        /* borrowed */
        struct pm_check_result *ret;               /* borrowed: the caller's result */
        struct pm_plan plan;                       /* owned: pm_plan_release() */
        pm__check_then_cb then[PM_PLAN_MAX_STEPS]; /* per step; NULL: nothing follows it */
        /* GN (check-gn.c) */
        char *dir;     /* owned: the build directory */
        char *target;  /* owned: the crate's ninja target, relative to @dir */
        char **inputs; /* owned: its inputs, from `ninja -t query` */
};

/* Sets @err to -ENOMEM "out of memory" and returns it. */
int pm__check_oom(struct pm_error *err);

/* The exit status a shell would show for @res: 128 + the signal when one ended it. */
int pm__check_status(const struct pm_tool_result *res);

/*
 * Append the step running @argv (taken, also on error) in @cwd with @env (taken, may be NULL),
 * followed by @then. @any_exit: the exit status is the compiler's or program's (pm_step).
 */
int pm__check_add_step(struct pm__check_run *cr, char **argv, const char *cwd, char **env,
                       bool any_exit, pm__check_then_cb then, struct pm_error *err);

/* Run the plan from its first step, in projmodel's process group (docs/build-integration.md). */
int pm__check_run_plan(struct pm__check_run *cr, struct pm_error *err);

/* A pm__check_then_cb for a test's or binary's own run: its output and exit status are the
 * result. */
int pm__check_then_program(struct pm__check_run *cr, size_t step, struct pm__plan_result *res,
                           struct pm_error *err);

/*
 * Each line of @text (@len bytes) a diagnostic on ret->out, file names absolute against @base;
 * with @keep_other, the lines that are not JSON go to ret->err. *any_error when one is an error.
 */
int pm__check_copy_diagnostics(struct pm__check_run *cr, const char *text, size_t len,
                               const char *base, bool keep_other, bool *any_error,
                               struct pm_error *err);

/*
 * Append the arguments of @req's program to *@argv: for a test, its id and --exact (libtest's
 * filter, docs/build-integration.md), then req->run_args. 0 or -ENOMEM (*@argv stays the
 * caller's).
 */
int pm__check_push_program_args(const struct pm_check_request *req, char ***argv);

/*
 * A compiler's step (rustc, cargo) @r ended: its exit status is the result, its JSON diagnostics
 * on stderr (@on_stderr; the other lines go to ret->err) or on stdout (its stderr goes to
 * ret->err) go to ret->out, file names absolute against @base. PM__PLAN_FAILED when it failed
 * and printed no error diagnostic (the step's failure, in the sequencer's one wording).
 */
int pm__check_then_diagnostics(struct pm__check_run *cr, const struct pm_tool_result *r,
                               bool on_stderr, const char *base, struct pm_error *err);

/* Each build system's check, test or run of cr->req into cr->ret, as pm_check_run(): GN through
 * ninja's own commands (check-gn.c), Cargo through cargo (check-cargo.c), Buck2 through its
 * [diag.json] subtarget (check-buck2.c). */
int pm__check_gn(struct pm__check_run *cr, struct pm_error *err);
int pm__check_cargo(struct pm__check_run *cr, struct pm_error *err);
int pm__check_buck2(struct pm__check_run *cr, struct pm_error *err);

/*
 * `projmodel check` of @req through @ops->check_plan and check_parse (server/check-adapter.c):
 * as pm_check_run().
 */
int pm__check_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                      const struct pm_check_request *req, struct pm_check_result *ret,
                      struct pm_error *err);

/*
 * `projmodel run|test` of @req through @ops->run_plan or test_plan (server/check-adapter.c): the
 * program's stdout, stderr and exit status into @ret, as pm_check_run(). A test of a crate that
 * is not a test and has no pm_crate.test_targets is PM_ENOTFOUND naming it.
 */
int pm__run_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                    const struct pm_check_request *req, struct pm_check_result *ret,
                    struct pm_error *err);

#endif
