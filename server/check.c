/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` for one crate (docs/build-integration.md, "Check-on-save and
 * runnables"): the adapter's plan grown step by step (its check_step), run here, or its
 * one-command plans (check-adapter.c). What differs per build system is the adapter's. */
#include "projmodel/check.h"

#include <stdbool.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "check-internal.h"

/* One check through ops->check_step: its plan, grown while the sequencer runs it. */
struct check_run {
        const struct pm_adapter_ops *ops;
        struct pm_check_plan cp;
};

/* After step @step: the adapter reads its output and appends what follows, when it asked to. */
static int
on_next(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct check_run *run = data;
        const struct pm_tool_result *t = &res->results[step];
        struct pm_check_output o = {
                .out = t->out.buf ? t->out.buf : "",
                .out_len = t->out.len,
                .err = t->err.buf ? t->err.buf : "",
                .err_len = t->err.len,
                .status = t->term_signal ? 128 + t->term_signal : t->exit_status,
                .ok = res->ok[step],
                .error = res->errors[step],
        };
        int r;

        if (!run->cp.next[step])
                return 0;
        r = run->ops->check_step(&run->cp, step, &o, err);
        return r == PM_CHECK_STEP_FAILED ? PM__PLAN_FAILED : r;
}

/*
 * @req through @ops->check_step: its first step, then each step the adapter appends, run in
 * projmodel's process group (docs/build-integration.md); a step's failure is worded as every
 * failed step's (server/plan.c).
 */
static int
check_steps(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
            const struct pm_check_request *req, struct pm_check_result *ret, struct pm_error *err)
{
        struct pm_query q = { .config = cfg, .project = req->project };
        struct check_run run = { .ops = ops, .cp = { .q = &q, .req = req, .ret = ret } };
        struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                      .max_output = cfg->max_tool_output,
                                      .next = on_next,
                                      .next_data = &run };
        struct pm__plan_result res;
        int r;

        memset(&res, 0, sizeof(res));
        r = ops->check_step(&run.cp, 0, NULL, err);
        if (r >= 0)
                r = pm__plan_run_sync(&run.cp.plan, &opts, &res, err);
        pm__plan_result_release(&res);
        pm_plan_release(&run.cp.plan);
        if (run.cp.state && run.cp.free_state)
                run.cp.free_state(run.cp.state);
        return r;
}

int
pm_check_run(const struct pm_config *cfg, const struct pm_check_request *req,
             struct pm_check_result *ret, struct pm_error *err)
{
        const struct pm_crate *c = req->crate;
        const struct pm_adapter_ops *ops = pm_adapter_find(c->build_system);

        pm_strbuf_init(&ret->out);
        pm_strbuf_init(&ret->err);
        ret->exit_status = 0;
        if (req->action == PM_CHECK_RUN && c->kind != PM_CRATE_BIN)
                return pm_error_set(err, PM_ENOTFOUND, "'%s' is a %s, not a binary", c->label,
                                    pm_crate_kind_name(c->kind));
        if (ops && ops->check_step)
                return check_steps(cfg, ops, req, ret, err);
        if (req->action == PM_CHECK_CHECK && ops && ops->check_plan && ops->check_parse)
                return pm__check_adapter(cfg, ops, req, ret, err);
        if (req->action != PM_CHECK_CHECK && ops && ops->run_plan && ops->test_plan)
                return pm__run_adapter(cfg, ops, req, ret, err);
        return pm_error_set(err, PM_EUNSUPPORTED,
                            "projmodel %s does not support %s yet (docs/build-integration.md)",
                            req->action == PM_CHECK_CHECK  ? "check"
                            : req->action == PM_CHECK_TEST ? "test"
                                                           : "run",
                            c->build_system);
}
