/* SPDX-License-Identifier: MIT */
/* Check-on-save, one test, one binary (`projmodel check|test|run`): one crate through its build
 * system, into projmodel's own output directory. Owned by server/ (it runs processes); the
 * request, the result and the plan an adapter grows for them are in check-plan.h. */
#ifndef PROJMODEL_CHECK_H
#define PROJMODEL_CHECK_H

#include "projmodel/check-plan.h"

struct pm_config;
struct pm_error;

/*
 * Do @req (docs/build-integration.md "Check-on-save and runnables" says how per build system).
 * Returns 0 when the compiler or program ran, whatever it reported: a type error is a result.
 * Errors, one line each: the build system has no way to do it (PM_EUNSUPPORTED), the tool is
 * missing (-ENOENT), the crate is not of the right kind (PM_ENOTFOUND), the build tool's own
 * command cannot be run without a shell (PM_EBADTOOLOUTPUT), a dependency build that failed
 * before anything could run (PM_ETOOL).
 */
int pm_check_run(const struct pm_config *cfg, const struct pm_check_request *req,
                 struct pm_check_result *ret, struct pm_error *err);

#endif
