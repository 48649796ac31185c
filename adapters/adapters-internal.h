/* SPDX-License-Identifier: MIT */
/* Declarations shared by adapters/ files only: each adapter's ops table. */
#ifndef PROJMODEL_ADAPTERS_INTERNAL_H
#define PROJMODEL_ADAPTERS_INTERNAL_H

#include "projmodel/adapter.h"

extern const struct pm_adapter_ops pm__adapter_gn;
extern const struct pm_adapter_ops pm__adapter_bazel;
extern const struct pm_adapter_ops pm__adapter_buck2;
extern const struct pm_adapter_ops pm__adapter_cargo;

#include "projmodel/banned.h"

#endif
