/* SPDX-License-Identifier: MIT */
/* Declarations shared by the Cargo adapter's own files (adapters/cargo/ only). */
#ifndef PROJMODEL_ADAPTERS_CARGO_INTERNAL_H
#define PROJMODEL_ADAPTERS_CARGO_INTERNAL_H

#include <stddef.h>

#include "projmodel/adapter.h"
#include "projmodel/banned.h"

struct pm_error;
struct pm_graph;

/* Limits on `cargo metadata` output. */
#define PM_CARGO_MAX_PACKAGES 100000 /* packages in one workspace's metadata */
#define PM_CARGO_MAX_TARGETS  1000   /* targets of one package */

/* ops->parse: the JSON object of `cargo metadata --format-version 1` in outputs[0]. */
int pm__cargo_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                    struct pm_graph **ret_graph, struct pm_error *err);

#include "projmodel/banned.h"

#endif
