/* SPDX-License-Identifier: MIT */
/* The compiler as the oracle, shared by tests/audit/test-oracle*.c: rustc's unsafe_code sites
 * against the audit's, for one crate or for a whole tree compiled in dependency order. */
#ifndef PROJMODEL_TEST_ORACLE_TREE_H
#define PROJMODEL_TEST_ORACLE_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Assert that the unsafe_code diagnostics in rustc's JSON @rustc_stderr point at exactly the
 * lint sites (docs/cli.md's audit table) the audit lists for @crate (an element of `projmodel
 * audit --format json`), the sites in a macro definition aside (rustc reports where they
 * expand); test sites count only with @test. Returns how many sites rustc reported.
 */
size_t pm_oracle_check_sites(const cJSON *crate, const char *rustc_stderr, bool test);

/* A crate of a tree that does not compile on its own: its label, the one rustc error code it
 * fails with (any other error still fails the test) and why, for the failure message. */
struct pm_oracle_stub {
        const char *label;
        const char *code;
        const char *why;
};

/*
 * `projmodel export --db DB --output P` (with @extra_args, NULL-terminated, after them, may be
 * NULL) then `projmodel audit --db DB --no-refresh --format json` on @ws: one query of the build
 * system serves both. *@ret_audit and *@ret_project get the parsed documents (cJSON_Delete), and
 * on failure NULL and *@ret_err the command's stderr (pm_free). Returns the first non-zero exit
 * status, or 0; asserts nothing, so that a caller can stop a build system's server first.
 */
int pm_oracle_model(const char *ws, const char *tmp, const char *const *extra_args,
                    cJSON **ret_audit, cJSON **ret_project, char **ret_err);

/*
 * Compile every crate of @project (rust-project.json, the export of @ws) with rustc -D
 * unsafe_code in dependency order, as tests/lib/rustc-check.c compiles an export (its --extern,
 * cfgs, target, environment, sysroot rustc; a library's metadata for its dependents built again
 * with -A unsafe_code when the lint refused it), and each library crate once more with --test,
 * writing under @out_dir (created); and assert per run that it compiles but for unsafe_code
 * errors (or, for one of @stubs, with only its error code) and that the sites match
 * (pm_oracle_check_sites(): test code in a --test run and in a test crate). The crates of @audit
 * and @project must be the same (matched by label). Returns the number of crates compared;
 * *@ret_sites gets the sites rustc reported in all but the libraries' --test runs,
 * *@ret_test_sites those of the --test runs (a library's other sites again, and its test
 * code's).
 */
size_t pm_oracle_compare_tree(const char *ws, const char *out_dir, const cJSON *audit,
                              const cJSON *project, const struct pm_oracle_stub *stubs,
                              size_t n_stubs, size_t *ret_sites, size_t *ret_test_sites);

#endif
