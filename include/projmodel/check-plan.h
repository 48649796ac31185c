/* SPDX-License-Identifier: MIT */
/* A `projmodel check|test|run` plan an adapter grows step by step (pm_adapter_ops.check_step),
 * with what the request asks and what its steps found. Owned by adapters/ (adapters/check-*.c). */
#ifndef PROJMODEL_CHECK_PLAN_H
#define PROJMODEL_CHECK_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/adapter.h"
#include "projmodel/strbuf.h"

struct pm_crate;
struct pm_error;
struct pm_project;

enum pm_check_action {
        PM_CHECK_CHECK, /* the crate in check mode: compiler diagnostics as JSON lines */
        PM_CHECK_TEST,  /* build the crate's tests, run exactly one */
        PM_CHECK_RUN,   /* build the binary, run it */
};

/* One request. Everything is borrowed for the call. */
struct pm_check_request {
        enum pm_check_action action;
        const struct pm_crate *crate;     /* the crate, as the model holds it */
        const struct pm_project *project; /* its subproject (build system and settings) */
        const char *test_id;              /* PM_CHECK_TEST: the test's path in the crate */
        char *const *run_args;            /* PM_CHECK_RUN: arguments for the binary, or NULL */
        const char *out_dir; /* absolute: projmodel's own build outputs (created when missing),
                              * never the user's build directory */
};

/* What ran. Owned by the caller; release with pm_check_result_release(). */
struct pm_check_result {
        int exit_status;      /* the compiler's, test's or binary's (128 + signal when killed) */
        struct pm_strbuf out; /* check: one diagnostic per line (cargo `compiler-message` or bare
                               * rustc JSON), every span's file_name absolute; test/run: the
                               * program's stdout */
        struct pm_strbuf err; /* for the user's stderr: the build tool's and program's */
        /* test: one JSON line per test case the build system reported (docs/cli.md, `test
         * --results`; Bazel's test.xml), empty when it reports none */
        struct pm_strbuf results;
};

void pm_check_result_release(struct pm_check_result *r);

/* What one finished step of a check plan gave; borrowed for the call. */
struct pm_check_output {
        const char *out; /* stdout, NUL-terminated, never NULL */
        size_t out_len;
        const char *err; /* stderr, NUL-terminated, never NULL */
        size_t err_len;
        int status;        /* the exit status a shell would show: 128 + the signal */
        bool ok;           /* it succeeded (false: an optional step that failed) */
        const char *error; /* when !ok: one line saying how it failed, or NULL */
};

/* A check_step's say that the step failed after all (its output says so): the plan stops, and
 * the failure is worded as every failed step's (server/plan.c). */
#define PM_CHECK_STEP_FAILED 1

/*
 * One `projmodel check|test|run` being grown (docs/build-integration.md, "Check-on-save and
 * runnables"). The server (server/check.c) fills the borrowed fields, runs each step the adapter
 * appends and, after a step whose next[] is not 0, calls check_step with its output; the adapter
 * appends what follows (pm_check_add_step()) and writes the result into @ret.
 * Released by the server: pm_plan_release(&plan), then free_state(state) when both are set.
 */
struct pm_check_plan {
        const struct pm_query *q;           /* borrowed: the configuration and the project */
        const struct pm_check_request *req; /* borrowed */
        struct pm_check_result *ret;        /* borrowed: the caller's result */
        struct pm_plan plan;                /* owned: the steps so far */
        int next[PM_PLAN_MAX_STEPS]; /* per step: the adapter's own tag for what follows it, 0:
                                      * nothing (the plan goes on or ends) */
        void *state;                 /* the adapter's, or NULL */
        void (*free_state)(void *state);
};

/* Sets @err to -ENOMEM "out of memory" and returns it. */
int pm_check_oom(struct pm_error *err);

/*
 * Append the step running @argv (taken, also on error) in @cwd with @env (taken, may be NULL),
 * followed by the adapter's @next (0: nothing). @any_exit: the exit status is the compiler's or
 * program's (pm_step).
 */
int pm_check_add_step(struct pm_check_plan *cp, char **argv, const char *cwd, char **env,
                      bool any_exit, int next, struct pm_error *err);

/* A test's or binary's own run @o: its output and exit status are the result. */
int pm_check_then_program(struct pm_check_plan *cp, const struct pm_check_output *o,
                          struct pm_error *err);

/*
 * Each line of @text (@len bytes, may be NULL when @len is 0; a NUL byte ends it) a diagnostic
 * on @ret->out per pm_check_diagnostic_line(), file names absolute against @base (or
 * @external_base, may be NULL, for "external/" ones); with @keep_other, the lines that are not
 * JSON go to @ret->err, else they are dropped (a sandbox's or wrapper's chatter). *@any_error
 * is set when one is an error; it is left as it was otherwise. 0, or -ENOMEM (what was copied
 * before stays in @ret). Used by the adapters' check steps and the server's report reader
 * (server/check-adapter.c).
 */
int pm_check_copy_diagnostics(struct pm_check_result *ret, const char *text, size_t len,
                              const char *base, const char *external_base, bool keep_other,
                              bool *any_error, struct pm_error *err);

/*
 * A compiler's step (rustc, cargo) @o ended: its exit status is the result, its JSON diagnostics
 * on stderr (@on_stderr; the other lines go to ret->err) or on stdout (its stderr goes to
 * ret->err) go to ret->out, file names absolute against @base. PM_CHECK_STEP_FAILED when it
 * failed and printed no error diagnostic.
 */
int pm_check_then_diagnostics(struct pm_check_plan *cp, const struct pm_check_output *o,
                              bool on_stderr, const char *base, struct pm_error *err);

/*
 * Append the arguments of @req's program to *@argv: for a test, its id and --exact (libtest's
 * filter, docs/build-integration.md), then req->run_args. 0 or -ENOMEM (*@argv stays the
 * caller's).
 */
int pm_check_push_program_args(const struct pm_check_request *req, char ***argv);

/*
 * Split one shell command line as ninja prints it, without a shell: words separated by blanks,
 * '...' and "..." quoting, backslash escapes; leading NAME=value words are the environment.
 * Anything a shell would interpret (| & ; < > ( ) $ ` * ? [ ] { } ~ #, a newline, an unmatched
 * quote) is PM_EBADTOOLOUTPUT naming it. *ret_env and *ret_argv are NULL-terminated,
 * pm_argv_free()'d by the caller (*ret_env may be empty, *ret_argv never is).
 */
int pm_check_split_command(const char *line, char ***ret_env, char ***ret_argv,
                           struct pm_error *err);

/*
 * One line of compiler output (@len bytes) as a diagnostic line for rust-analyzer, appended to
 * @out with its newline: a rustc JSON diagnostic, or a cargo `compiler-message` around one, with
 * each span's file_name (children and macro expansions included) made absolute against @base,
 * or against @external_base (may be NULL) for names under "external/" (Bazel's external
 * repositories, which live under its output base).
 * Other cargo JSON messages are copied unchanged. Returns 1 when a line was appended, 0 when
 * @line is not JSON (the caller keeps it for stderr), -ENOMEM. *ret_error (may be NULL) is set
 * when the line is an error-level diagnostic.
 */
int pm_check_diagnostic_line(const char *line, size_t len, const char *base,
                             const char *external_base, struct pm_strbuf *out, bool *ret_error);

#endif
