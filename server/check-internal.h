/* SPDX-License-Identifier: MIT */
/* Declarations shared by `projmodel check|test|run`'s files in server/: the driver (check.c) and
 * the adapters' one-command plans (check-adapter.c). No other folder includes it. */
#ifndef PROJMODEL_SERVER_CHECK_INTERNAL_H
#define PROJMODEL_SERVER_CHECK_INTERNAL_H

#include "plan-internal.h"

struct pm_adapter_ops;
struct pm_check_request;
struct pm_check_result;
struct pm_config;
struct pm_error;

/*
 * `projmodel check` of @req through @ops->check_plan and check_parse (server/check-adapter.c):
 * as pm_check_run().
 */
int pm__check_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                      const struct pm_check_request *req, struct pm_check_result *ret,
                      struct pm_error *err);

/*
 * `projmodel run|test` of @req through @ops->run_plan or test_plan (server/check-adapter.c): the
 * program's stdout, stderr and exit status into @ret, as pm_check_run(). A test of a crate that
 * is not a test and has no pm_crate.test_targets is PM_ENOTFOUND naming it.
 */
int pm__run_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                    const struct pm_check_request *req, struct pm_check_result *ret,
                    struct pm_error *err);

#endif
