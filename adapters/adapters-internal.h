/* SPDX-License-Identifier: MIT */
/* Declarations shared by adapters/ files only: each adapter's ops table, and the JSON syntax
 * check (and the parse built on it) every JSON-reading adapter runs before cJSON. */
#ifndef PROJMODEL_ADAPTERS_INTERNAL_H
#define PROJMODEL_ADAPTERS_INTERNAL_H

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
