/* SPDX-License-Identifier: MIT */
/* Check-on-save, one test, one binary (`projmodel check|test|run`): one crate through its build
 * system, into projmodel's own output directory. Owned by server/ (it runs processes). */
#ifndef PROJMODEL_CHECK_H
#define PROJMODEL_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/strbuf.h"

struct pm_config;
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

/*
 * Do @req (docs/build-integration.md "Check-on-save and runnables" says how per build system).
 * Returns 0 when the compiler or program ran, whatever it reported: a type error is a result.
 * Errors, one line each: the build system has no way to do it (PM_EUNSUPPORTED), the tool is
 * missing (-ENOENT), the crate is not of the right kind (PM_ENOTFOUND), the build tool's own
 * command cannot be run without a shell (PM_EBADTOOLOUTPUT), a dependency build that failed
 * before anything could run (PM_ETOOL).
 */
int pm_check_run(const struct pm_config *cfg, const struct pm_check_request *req,
                 struct pm_check_result *ret, struct pm_error *err);

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
