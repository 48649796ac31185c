/* SPDX-License-Identifier: MIT */
/* Declarations shared by adapters/ files only: each adapter's ops table, the JSON syntax check
 * (and the parse built on it) every JSON-reading adapter runs before cJSON, and the report file
 * of a build_plan(). */
#ifndef PROJMODEL_ADAPTERS_INTERNAL_H
#define PROJMODEL_ADAPTERS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/adapter.h"

struct cJSON;
struct pm_error;

extern const struct pm_adapter_ops pm__adapter_gn;
extern const struct pm_adapter_ops pm__adapter_bazel;
extern const struct pm_adapter_ops pm__adapter_buck2;
extern const struct pm_adapter_ops pm__adapter_cargo;

/*
 * Append @project_root/@rel (normalised; @rel may end in an fnmatch pattern) to *@dirs, for
 * pm_adapter_ops.watch_skip. Returns 0 or -ENOMEM (with @err set).
 */
int pm__watch_skip_push(char ***dirs, const char *project_root, const char *rel,
                        struct pm_error *err);

/*
 * The file a build_plan() has its tool write its report to, for @q's project: in projmodel's
 * cache directory (the configured one, else the default), named "<prefix>-<hash of the project
 * root>-<pid>-<n>.json", n counting the calls in this process, so that no other run (another
 * project, the daemon and an export of the same root, two workers) writes or reads the same
 * file. The runner removes it once read (server/build.c). pm_malloc'd, or NULL (OOM).
 */
char *pm__adapter_cache_file(const struct pm_query *q, const char *prefix);

/*
 * Make @ret_plan (zeroed) the one step of a build_plan(): *@argv run in @q's project root, its
 * report read from the file *@report. Both are taken (set to NULL) on success and left to the
 * caller on failure. @ok_exit_codes (@n_ok of them, at most four kept) are the tool's exit
 * codes that still leave a report. Returns 0 or -ENOMEM (no error set: the caller's own OOM
 * exit reports it).
 */
int pm__adapter_report_step(const struct pm_query *q, char ***argv, char **report,
                            const int *ok_exit_codes, size_t n_ok, struct pm_plan *ret_plan);

/* Whether @path names a shared library a proc-macro server loads (.so, .dylib, .dll): how a
 * build_parse() picks the dylib among a target's outputs. */
bool pm__adapter_is_dylib(const char *path);

/*
 * A build-script runner's flags file (adapters/buildscript.c), one rustc flag a line: each
 * `--cfg=X`'s X appended to *@cfgs and, when @env is not NULL, each `--env-set=NAME=value`
 * (Buck2's; a `$(abspath REL)` value made @base/REL) to *@env as "NAME=value"; other flags are
 * ignored. Lists as pm_argv_push() makes them. Returns 0 or -ENOMEM.
 */
int pm__buildscript_flags(const char *data, size_t len, const char *base, char ***cfgs,
                          char ***env);

/*
 * rules_rust's env file of a build script (`<name>.env`): "NAME=value" lines, a line ending in a
 * backslash continued by the next, `${pwd}` replaced by @exec_root and `${out_dir}` by @out_dir
 * (either may be NULL: left as written). Each appended to *@env. Returns 0 or -ENOMEM.
 */
int pm__buildscript_env(const char *data, size_t len, const char *exec_root, const char *out_dir,
                        char ***env);

#define PM_ADAPTER_MAX_JSON_DEPTH 256 /* nesting of the JSON document */

/*
 * Check that @data is one JSON value (plus trailing whitespace) without allocating. Returns 0
 * with *ret_offset at the end of the value, -1 when nested deeper than PM_ADAPTER_MAX_JSON_DEPTH,
 * -2 on a syntax error; *ret_offset is then the offending byte.
 */
int pm__json_check(const char *data, size_t len, size_t *ret_offset);

/*
 * Parse @blob (one tool output) with cJSON after pm__json_check(), so that a cJSON failure can
 * only mean out of memory. @origin (borrowed) names the output in errors, with the line of the
 * offending byte; @expected completes "not valid JSON (<expected> expected)". Returns 0 and
 * *ret_json, owned by the caller (cJSON_Delete()); PM_ELIMIT when nested deeper than
 * PM_ADAPTER_MAX_JSON_DEPTH, PM_EBADTOOLOUTPUT on a syntax error, -ENOMEM. Trailing data after
 * the value is left to cJSON, which ignores it.
 */
int pm__json_parse(const struct pm_blob *blob, const char *origin, const char *expected,
                   struct cJSON **ret_json, struct pm_error *err);

#include "projmodel/banned.h"

#endif
