/* SPDX-License-Identifier: MIT */
/* One synchronous adapter query: plan the commands, run them through the plan sequencer
 * (plan.c), parse their output. The adapter decides what to run; this file only hands it on. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/* The command line ("gn gen out --ide=json") or output file, for error messages, pm_malloc'd (NULL
 * on OOM). */
static char *
step_origin(const struct pm_step *step)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        if (step->output_file)
                return pm_strdup(step->output_file);
        for (char **a = step->argv; a && *a; a++) {
                if ((a != step->argv && pm_strbuf_addch(&sb, ' ') < 0) ||
                    pm_strbuf_adds(&sb, *a) < 0) {
                        pm_strbuf_release(&sb);
                        return NULL;
                }
        }
        return pm_strbuf_detach(&sb, NULL);
}

void
pm__query_builds_blobs(const struct pm__plan_result *res, size_t step, struct pm_blob *blobs)
{
        memset(blobs, 0, step * sizeof(*blobs));
        for (size_t i = 0; i < step && i < PM_PLAN_MAX_STEPS; i++) {
                blobs[i].data = res->results[i].out.buf ? res->results[i].out.buf : "";
                blobs[i].len = res->results[i].out.len;
                blobs[i].error = res->errors[i];
                blobs[i].exit_status = res->results[i].exit_status;
        }
}

int
pm__query_builds_line(const struct pm_query *q, size_t step, const struct pm_blob *blobs,
                      char **ret_line, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(q->project->build_system);
        size_t n_pm = 0, n_od = 0;
        char line[256];
        int r;

        *ret_line = NULL;
        if (!ops || !ops->query_builds || step >= PM_PLAN_MAX_STEPS)
                return 0;
        r = ops->query_builds(q, step, blobs, step, &n_pm, &n_od, err);
        if (r <= 0 || !pm__build_line(line, sizeof(line), n_pm, n_od, 0, ops->name))
                return r < 0 ? r : 0;
        *ret_line = pm_strdup(line);
        return *ret_line ? 0 : pm_error_set(err, -ENOMEM, "out of memory");
}

/* What announce_next() found: each step's line, or NULL. */
struct announce {
        const struct pm_query *q;
        const struct pm_plan *plan;
        char *lines[PM_PLAN_MAX_STEPS];
};

/* The plan's next-step callback: the announcement of the step that follows @step, when it
 * builds (pm_step.builds). */
static int
announce_next(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct announce *a = data;
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];

        if (step + 1 >= PM_PLAN_MAX_STEPS || step + 1 >= a->plan->n_steps ||
            !a->plan->steps[step + 1].builds)
                return 0;
        pm_free(a->lines[step + 1]);
        pm__query_builds_blobs(res, step + 1, blobs);
        return pm__query_builds_line(a->q, step + 1, blobs, &a->lines[step + 1], err);
}

int
pm_query_run_sync(const struct pm_config *cfg, const struct pm_project *project,
                  const char *const *scope, size_t n_scope, struct pm_graph **ret_graph,
                  struct pm_error *err)
{
        return pm_query_run_sync_with(cfg, project, scope, n_scope, NULL, NULL, NULL, ret_graph,
                                      err);
}

int
pm_query_run_sync_with(const struct pm_config *cfg, const struct pm_project *project,
                       const char *const *scope, size_t n_scope, pm_query_parse_cb parse,
                       void *userdata, const struct pm_progress *progress,
                       struct pm_graph **ret_graph, struct pm_error *err)
{
        const struct pm_adapter_ops *ops;
        struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                      .max_output = cfg->max_tool_output,
                                      .read_outputs = true,
                                      .progress = progress,
                                      .where = project->rel };
        struct pm__plan_result res;
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        char *origins[PM_PLAN_MAX_STEPS] = { NULL };
        char *programs[PM_PLAN_MAX_STEPS] = { NULL };
        struct pm_plan plan;
        struct pm_query q;
        struct announce ann = { 0 };
        struct pm_query_memo memo = { 0 };
        size_t i;
        int r;

        memset(&plan, 0, sizeof(plan));
        memset(&res, 0, sizeof(res));
        memset(blobs, 0, sizeof(blobs));
        if (!project->build_system) {
                r = pm_error_set_at(err, PM_ENOROOT, project->root, 0, 0,
                                    "no build system found in '%s'", project->root);
                goto out;
        }
        ops = pm_adapter_find(project->build_system);
        if (!ops) {
                r = pm_error_set_at(err, PM_ECONFIG, cfg->file ? cfg->file : project->root, 0, 0,
                                    "unknown build system '%s'", project->build_system);
                goto out;
        }

        q = (struct pm_query){ .config = cfg,
                               .project = project,
                               .scope = scope,
                               .n_scope = n_scope,
                               .captured = false,
                               .memo = &memo };
        r = ops->plan(&q, &plan, err);
        if (r < 0)
                goto out;
        /* A step that builds is announced by what it builds, counted from the output before it
         * (docs/cli.md, Progress): only when someone hears it, the count reads that output. */
        ann.q = &q;
        ann.plan = &plan;
        if (progress && progress->cb && ops->query_builds) {
                opts.next = announce_next;
                opts.next_data = &ann;
                opts.announce = ann.lines;
        }
        /* The steps in order, stopping at the first failing one (plan.c). */
        r = pm__plan_run_sync(&plan, &opts, &res, err);
        if (r < 0)
                goto out;
        for (i = 0; i < plan.n_steps; i++) {
                const struct pm_step *step = &plan.steps[i];

                programs[i] = pm__tool_which(step->argv[0], step->cwd);
                origins[i] = step_origin(step);
                if (!origins[i]) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                blobs[i].data = res.results[i].out.buf ? res.results[i].out.buf : "";
                blobs[i].len = res.results[i].out.len;
                blobs[i].origin = origins[i];
                blobs[i].program = programs[i];
                blobs[i].error = res.errors[i];
                blobs[i].err_text = res.results[i].err.buf;
                blobs[i].err_len = res.results[i].err.len;
                blobs[i].exit_status = res.results[i].exit_status;
        }

        if (parse)
                r = parse(&q, blobs, plan.n_steps, userdata, ret_graph, err);
        else
                r = ops->parse(&q, blobs, plan.n_steps, ret_graph, err);
out:
        if (memo.data && memo.free)
                memo.free(memo.data);
        for (i = 0; i < PM_PLAN_MAX_STEPS; i++) {
                pm_free(origins[i]);
                pm_free(programs[i]);
                pm_free(ann.lines[i]);
        }
        pm__plan_result_release(&res);
        pm_plan_release(&plan);
        return r;
}
