/* SPDX-License-Identifier: MIT */
/* Running one build-tool step to completion for the one-shot commands: a plan of that one step
 * through the plan sequencer (plan.c) on a private libuv loop, its output file read. */
#include "projmodel/tool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

int
pm_tool_run_sync(const struct pm_step *step, unsigned timeout_ms, size_t max_output,
                 struct pm_tool_result *ret, struct pm_error *err)
{
        struct pm__plan_opts opts = { .timeout_ms = timeout_ms,
                                      .max_output = max_output,
                                      .read_outputs = true };
        struct pm__plan_result res;
        struct pm_plan plan;
        int r;

        if (!step || !step->argv || !step->argv[0] || !step->argv[0][0])
                return pm_error_set(err, -EINVAL, "internal bug: empty command");
        /* A plan of this one step (borrowed, never released), through the one sequencer with
         * the tool left in our process group. */
        memset(&plan, 0, sizeof(plan));
        plan.steps[0] = *step;
        plan.steps[0].optional = false;
        plan.n_steps = 1;
        r = pm__plan_run_sync(&plan, &opts, &res, err);
        if (r == 0) {
                *ret = res.results[0];
                memset(&res.results[0], 0, sizeof(res.results[0]));
        }
        pm__plan_result_release(&res);
        return r;
}

void
pm_tool_result_release(struct pm_tool_result *r)
{
        if (!r)
                return;
        pm_strbuf_release(&r->out);
        pm_strbuf_release(&r->err);
        r->exit_status = 0;
        r->term_signal = 0;
        r->timed_out = false;
}
