/* SPDX-License-Identifier: MIT */
/* Strict checkers for what projmodel hands rust-analyzer: rust-project.json and discover output. */
#ifndef PROJMODEL_TEST_VALIDATE_H
#define PROJMODEL_TEST_VALIDATE_H

#include <stddef.h>

/*
 * Check @json (@len bytes, need not be NUL-terminated) against rust-analyzer's rust-project.json
 * schema, plus projmodel's own stricter rules:
 *  - only known keys with the right types at every level, no duplicate keys, no `null` except
 *    for sysroot, sysroot_src and sysroot_project;
 *  - `sysroot` (an existing directory) comes with `sysroot_src`;
 *  - every crate has root_module (absolute, normalised, an existing .rs file), edition,
 *    deps (in-range indices, not itself, names that are identifiers without '-', no duplicate
 *    names) and an explicit is_workspace_member;
 *  - cfg strings are `flag` or `key="value"`; version is full semver; env values are strings;
 *  - source has include_dirs (existing absolute directories, one of which holds root_module)
 *    and exclude_dirs; build has label, an existing absolute build_file and a known
 *    target_kind; proc_macro_dylib_path exists when is_proc_macro;
 *  - the dependency graph has no cycle; no std/core/alloc crate is listed when sysroot_src is.
 * Returns 0 if valid. Otherwise returns PM_ESCHEMA (or -ENOMEM) and, when @ret_errors is
 * non-NULL, sets it to a pm_malloc'd report with one problem per line, each starting with the
 * JSON path of the offending value (e.g. `crates[3].deps[0].name: ...`).
 */
int pm_test_validate_project(const char *json, size_t len, char **ret_errors);

/*
 * Check @stdout_text (NUL-terminated) as the stdout of one discover invocation (§5.3): every
 * line a compact one-line JSON object terminated by '\n', no blank lines, kind progress
 * {message}, error {error, source?} or finished {buildfile, project}, exactly one terminal
 * message and it comes last, finished.buildfile absolute, normalised and existing, and the
 * project valid as for pm_test_validate_project(). Returns and reports as above.
 */
int pm_test_validate_discover_output(const char *stdout_text, char **ret_errors);

#endif
