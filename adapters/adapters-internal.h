/* SPDX-License-Identifier: MIT */
/* Declarations shared by adapters/ files only: each adapter's ops table, and the JSON syntax
 * check every JSON-reading adapter runs before cJSON. */
#ifndef PROJMODEL_ADAPTERS_INTERNAL_H
#define PROJMODEL_ADAPTERS_INTERNAL_H

#include <stddef.h>

#include "projmodel/adapter.h"

extern const struct pm_adapter_ops pm__adapter_gn;
extern const struct pm_adapter_ops pm__adapter_bazel;
extern const struct pm_adapter_ops pm__adapter_buck2;
extern const struct pm_adapter_ops pm__adapter_cargo;

#define PM_ADAPTER_MAX_JSON_DEPTH 256 /* nesting of the JSON document */

/*
 * Check that @data is one JSON value (plus trailing whitespace) without allocating. Returns 0
 * with *ret_offset at the end of the value, -1 when nested deeper than PM_ADAPTER_MAX_JSON_DEPTH,
 * -2 on a syntax error; *ret_offset is then the offending byte.
 */
int pm__json_check(const char *data, size_t len, size_t *ret_offset);

#include "projmodel/banned.h"

#endif
