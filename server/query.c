/* SPDX-License-Identifier: MIT */
/* One synchronous adapter query: plan the commands, run them in order, parse their output.
 * The adapter decides what to run; this file only runs it. */
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

/* Bytes of a step's command line in its progress line. */
#define STEP_LINE_MAX 100

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

/* The build tool's phase, before a step runs: its command line, shortened to stay one line. */
static void
report_step(const struct pm_progress *progress, const struct pm_project *project,
            const struct pm_step *step)
{
        char cmd[STEP_LINE_MAX] = "";
        size_t n = 0;

        if (!progress || !progress->cb)
                return;
        for (char **a = step->argv; a && *a && n < sizeof(cmd); a++)
                n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", a == step->argv ? "" : " ",
                                      *a);
        if (n >= sizeof(cmd))
                memcpy(cmd + sizeof(cmd) - 4, "...", 4);
        if (project->rel && strcmp(project->rel, ".") != 0)
                pm_progress_report(progress, "running %s (in %s)", cmd, project->rel);
        else
                pm_progress_report(progress, "running %s", cmd);
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
        struct pm_tool_result results[PM_PLAN_MAX_STEPS];
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        char *origins[PM_PLAN_MAX_STEPS] = { NULL };
        char *programs[PM_PLAN_MAX_STEPS] = { NULL };
        char *errors[PM_PLAN_MAX_STEPS] = { NULL };
        struct pm_plan plan;
        struct pm_query q;
        size_t i;
        int r;

        memset(&plan, 0, sizeof(plan));
        memset(results, 0, sizeof(results));
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
                               .captured = false };
        r = ops->plan(&q, &plan, err);
        if (r < 0)
                goto out;
        if (plan.n_steps > PM_PLAN_MAX_STEPS) {
                r = pm_error_set(err, -EINVAL, "internal bug: adapter '%s' planned %zu steps",
                                 ops->name, plan.n_steps);
                goto out;
        }

        for (i = 0; i < plan.n_steps; i++) {
                const struct pm_step *step = &plan.steps[i];
                struct pm_error serr;

                pm_error_init(&serr);
                report_step(progress, project, step);
                r = pm_tool_run_sync(step, cfg->tool_timeout_ms, cfg->max_tool_output, &results[i],
                                     &serr);
                if (r < 0) {
                        /* An optional step that fails just contributes nothing. */
                        if (step->optional && r != -ENOMEM) {
                                memset(&results[i], 0, sizeof(results[i]));
                        } else {
                                if (err)
                                        *err = serr;
                                goto out;
                        }
                }
                errors[i] = pm__step_error(step, r, &results[i], &serr);
                programs[i] = pm__tool_which(step->argv[0], step->cwd);
                r = 0;
                origins[i] = step_origin(step);
                if (!origins[i]) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                blobs[i].data = results[i].out.buf ? results[i].out.buf : "";
                blobs[i].len = results[i].out.len;
                blobs[i].origin = origins[i];
                blobs[i].program = programs[i];
                blobs[i].error = errors[i];
                blobs[i].err_text = results[i].err.buf;
                blobs[i].err_len = results[i].err.len;
        }

        if (parse)
                r = parse(&q, blobs, plan.n_steps, userdata, ret_graph, err);
        else
                r = ops->parse(&q, blobs, plan.n_steps, ret_graph, err);
out:
        for (i = 0; i < PM_PLAN_MAX_STEPS; i++) {
                pm_tool_result_release(&results[i]);
                pm_free(origins[i]);
                pm_free(programs[i]);
                pm_free(errors[i]);
        }
        pm_plan_release(&plan);
        return r;
}
