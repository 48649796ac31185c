/* SPDX-License-Identifier: MIT */
/* The bazel adapter (placeholder until it is written). */
#include "projmodel/adapter.h"
#include "projmodel/error.h"

#include "adapters/adapters-internal.h"

static const char *const markers[] = { NULL };
static const char *const build_file_names[] = { NULL };

static int
plan(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err)
{
        return pm_error_set(err, PM_EUNSUPPORTED, "the bazel adapter is not written yet");
}

static int
parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
      struct pm_graph **ret_graph, struct pm_error *err)
{
        return pm_error_set(err, PM_EUNSUPPORTED, "the bazel adapter is not written yet");
}

const struct pm_adapter_ops pm__adapter_bazel = {
        .version = PM_ADAPTER_OPS_VERSION,
        .name = "bazel",
        .markers = markers,
        .build_file_names = build_file_names,
        .plan = plan,
        .parse = parse,
};
