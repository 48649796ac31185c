/* SPDX-License-Identifier: MIT */
/* Type-check every crate of a rust-project.json with bare rustc, using only what the JSON says. */
#ifndef PROJMODEL_TEST_RUSTC_CHECK_H
#define PROJMODEL_TEST_RUSTC_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Run rustc on every crate of @json (NUL-terminated rust-project.json text), in dependency
 * order, with nothing but the JSON's information:
 *  - `--crate-name` from display_name ('-' becomes '_'), else from a dep name pointing at it;
 *  - `--edition`; `--crate-type lib` with `--emit=metadata`, `--crate-type bin` for build
 *    target_kind "bin", `--test` for "test", and `--crate-type proc-macro` built for real
 *    (a .so) when is_proc_macro, so dependents can load it;
 *  - `--cfg` for every entry of the crate's cfg_groups and cfg, except `debug_assertions`
 *    (`-C debug-assertions=on`, and `=off` when absent, since rustc's default is on) and
 *    `test` (implied by `--test` for test crates, dropped for the others);
 *  - `--target` when given, `env` in rustc's environment, `--extern NAME=<output>` per dep,
 *    `-L dependency=<outdir>`, `--cap-lints allow`, and distinct `-C metadata` and
 *    `-C extra-filename` per crate in one shared output dir, so transitive deps resolve;
 *  - `<sysroot>/bin/rustc` when the JSON has a sysroot holding one, else `rustc` from PATH.
 * @workdir is an existing directory: rustc runs there and writes into @workdir/rustc-out.
 * Returns 0 when every crate checks. Otherwise returns a negative value (PM_ETOOL when a crate
 * fails, PM_ESCHEMA when the JSON cannot be used, -errno) and, when @ret_report is non-NULL,
 * sets it to a pm_malloc'd report naming each failing crate with its rustc command line and
 * stderr; crates whose dependencies failed are listed as not checked.
 */
int pm_test_rustc_check_project(const char *json, const char *workdir, char **ret_report);

/* One rustc run of pm_test_rustc_check_project_with(), for its callback; borrowed for the call. */
struct pm_test_rustc_run {
        const cJSON *crate;      /* the crate's object in the JSON */
        int index;               /* its index in "crates" */
        const char *name;        /* its rustc crate name */
        bool test;               /* the --test run of a library (test_libs) */
        int status;              /* rustc's exit status */
        const char *stderr_text; /* rustc's stderr, "" when it wrote nothing */
};

struct pm_test_rustc_opts {
        /* Appended to every rustc command line (NULL-terminated, or NULL), e.g. "-D",
         * "unsafe_code", "--error-format=json". */
        const char *const *extra_args;
        /* Keep rustc's lints: no --cap-lints allow, so extra_args' -D counts. */
        bool lints;
        /* Also compile each library crate (not a proc macro) with --test, so its cfg(test) code
         * is compiled; that run builds nothing its dependents use. */
        bool test_libs;
        /* When on_crate accepts a failed run (0) of a crate others may depend on (a library or
         * proc macro, not its --test run), run rustc again with these in place of extra_args
         * (e.g. "-A", "unsafe_code" after "-D", "unsafe_code"); that run must succeed. NULL:
         * the accepted crate has no output and its dependents fail as not checked. */
        const char *const *rebuild_args;
        /* Called after each run (not the rebuild) with @ctx: 0 accepts it whatever rustc's
         * status, 1 accepts it without rebuilding a failure (its dependents are then not
         * checked), negative fails the crate (reported with rustc's command line and stderr).
         * NULL: a run passes when rustc exits 0. It may use Criterion's assertions. */
        int (*on_crate)(void *ctx, const struct pm_test_rustc_run *run);
        void *ctx;
};

/* As pm_test_rustc_check_project(), with @opts (NULL: the same). */
int pm_test_rustc_check_project_with(const char *json, const char *workdir,
                                     const struct pm_test_rustc_opts *opts, char **ret_report);

/*
 * As pm_test_rustc_check_project(), except that proc macros are not compiled: each dependent
 * loads the file the crate's proc_macro_dylib_path names (a proc macro without one, or whose
 * file is missing, fails).
 */
int pm_test_rustc_check_project_loading_dylibs(const char *json, const char *workdir,
                                               char **ret_report);

/*
 * Assert that @json (@len bytes, NUL-terminated) passes the strict validator
 * (pm_test_validate_project()) and that every crate type-checks
 * (pm_test_rustc_check_project()) in @workdir, which is created when missing. The assertion
 * messages carry the validator's or rustc's report.
 */
void pm_test_assert_project_checks(const char *json, size_t len, const char *workdir);

#endif
