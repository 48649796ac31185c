/* SPDX-License-Identifier: MIT */
/* Declarations shared by the Buck2 adapter's own files (adapters/buck2/ only). */
#ifndef PROJMODEL_ADAPTERS_BUCK2_INTERNAL_H
#define PROJMODEL_ADAPTERS_BUCK2_INTERNAL_H

#include <stddef.h>

#include "projmodel/adapter.h"

struct pm_error;
struct pm_graph;

/* Limits on `buck2 targets` output (style rule 24). */
#define PM_BUCK2_MAX_TARGETS     500000 /* objects in the output array */
#define PM_BUCK2_MAX_DEPTH       64     /* JSON nesting */
#define PM_BUCK2_MAX_ALIAS_HOPS  32     /* alias -> alias -> ... chains */
#define PM_BUCK2_MAX_SELECT_NEST 16     /* select() inside concat inside select() ... */
#define PM_BUCK2_MAX_BUCKCONFIG  (1 << 20)

/*
 * The "buck2.default_edition" setting ("2021" unless configured), validated. *ret (when
 * non-NULL) is borrowed from the configuration. PM_ECONFIG for a value that is no edition.
 */
int pm__buck2_default_edition(const struct pm_query *q, const char **ret, struct pm_error *err);

/* ops->parse: the JSON array of `buck2 targets --json` in outputs[0]. */
int pm__buck2_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                    struct pm_graph **ret_graph, struct pm_error *err);

/* The adapter's build file names, NULL-terminated, in preference order. */
const char *const *pm__buck2_build_file_names(void);

#include "projmodel/banned.h"

#endif
