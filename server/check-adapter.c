/* SPDX-License-Identifier: MIT */
/* `projmodel check|run|test` through the adapter's check_plan and check_parse, run_plan and
 * test_plan (Bazel): run the plan; for check, read its report and print the diagnostics of the
 * files the report names; for run and test, tell the build tool's failure from the program's
 * status (docs/build-integration.md, "Check-on-save and runnables"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/check.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "check-internal.h"
#include "server-internal.h"

/* The adapter's one step through the plan sequencer, in projmodel's process group. */
static int
run_plan(const struct pm_config *cfg, const struct pm_plan *plan, struct pm__plan_result *res,
         struct pm_error *err)
{
        /* The report is read only when the tool exited as the plan allows; a report left by an
         * earlier run must not pass for this one's. */
        struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                      .max_output = cfg->max_tool_output,
                                      .read_outputs = true,
                                      .fresh_outputs = true };

        return pm__plan_run_sync(plan, &opts, res, err);
}

int
pm__check_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                  const struct pm_check_request *req, struct pm_check_result *ret,
                  struct pm_error *err)
{
        struct pm_query q = { .config = cfg, .project = req->project };
        struct pm_plan plan = { 0 };
        struct pm_check_report rep = { 0 };
        struct pm__plan_result res;
        struct pm_strbuf text = PM_STRBUF_INIT;
        struct pm_blob blob = { 0 };
        bool any_error = false;
        int r;

        memset(&res, 0, sizeof(res));
        r = ops->check_plan(&q, req->crate->label, &plan, err);
        if (r < 0)
                goto out;
        /* A failed build (an exit the plan does not allow) is worded as every failed step. */
        r = run_plan(cfg, &plan, &res, err);
        if (r < 0)
                goto out;
        blob.data = res.results[0].out.buf ? res.results[0].out.buf : "";
        blob.len = res.results[0].out.len;
        blob.origin = plan.steps[0].output_file;
        r = ops->check_parse(&q, req->crate->label, &blob, 1, &rep, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; rep.files[i]; i++) {
                pm_strbuf_reset(&text);
                r = pm_strbuf_read_file(&text, rep.files[i], cfg->max_tool_output, err);
                if (r < 0)
                        goto out;
                /* Lines that are not diagnostics (a sandbox's or wrapper's chatter) are
                 * dropped. */
                r = pm_check_copy_diagnostics(ret, text.buf, text.len, rep.base, rep.external_base,
                                              false, &any_error, err);
                if (r < 0)
                        goto out;
        }
        /* A build that failed before any compiler ran for the crate has nothing to show. */
        if (rep.error && !any_error) {
                r = pm_error_set(err, PM_ETOOL, "%s could not build '%s': %s", ops->name,
                                 req->crate->label, rep.error);
                goto out;
        }
        ret->exit_status = res.results[0].exit_status;
        r = 0;
out:
        /* Each run's report has its own name (adapters/argv.c): of no more use once read. */
        if (plan.steps[0].output_file)
                (void)unlink(plan.steps[0].output_file);
        pm_strbuf_release(&text);
        pm__plan_result_release(&res);
        pm_check_report_release(&rep);
        pm_plan_release(&plan);
        return r;
}

/*
 * The per-test results of a test run from its report at @path (ops->test_parse) into
 * ret->results. A run that wrote no report (the build failed before any test) has none; a
 * report that cannot be read is said on ret->err: the test's own output and status stand.
 */
static int
test_results(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
             const struct pm_query *q, const char *path, struct pm_check_result *ret,
             struct pm_error *err)
{
        struct pm_strbuf report = PM_STRBUF_INIT;
        struct pm_blob blob = { 0 };
        struct pm_error perr;
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        int r;

        pm_error_init(&perr);
        if (access(path, F_OK) != 0)
                return 0;
        r = pm_strbuf_read_file(&report, path, cfg->max_tool_output, &perr);
        if (r == 0) {
                blob.data = report.buf ? report.buf : "";
                blob.len = report.len;
                blob.origin = path;
                r = ops->test_parse(q, &blob, 1, &ret->results, &perr);
        }
        if (r == -ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
        } else if (r < 0) {
                r = pm_strbuf_addf(&ret->err, "projmodel: no test results: %s\n",
                                   pm_error_format(&perr, line, sizeof(line)));
                if (r < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        }
        pm_strbuf_release(&report);
        return r;
}

/*
 * The test targets of @c for `projmodel test`: a test crate's own label, then the targets that
 * compile its unit tests on their own (pm_crate.test_targets: Bazel's rust_test crate = ...).
 * Borrowed strings in a pm_malloc'd array; PM_ENOTFOUND naming the crate when there are none.
 */
static int
test_labels(const struct pm_crate *c, const char ***ret, size_t *ret_n, struct pm_error *err)
{
        const char **v = pm_calloc(c->test_targets.n + 1, sizeof(*v));
        size_t n = 0;

        if (!v)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (c->kind == PM_CRATE_TEST)
                v[n++] = c->label;
        for (size_t i = 0; i < c->test_targets.n; i++)
                v[n++] = c->test_targets.v[i];
        if (n == 0) {
                pm_free(v);
                return pm_error_set(err, PM_ENOTFOUND,
                                    "'%s' is a %s with no test target: no test of the model "
                                    "compiles it (%s: a rust_test with crate = \"%s\")",
                                    c->label, pm_crate_kind_name(c->kind), c->build_system,
                                    c->label);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/*
 * @req's crate could not be built or run: the build tool's step @s ended with @res, an exit the
 * plan does not take as the program's (docs/cli.md: `projmodel run|test` then exit 1 with one
 * line on stderr). The line names the crate, the tool, its status and its first error line, so
 * Bazel's 1 (build failed), 2 (command line), 4 (no test) or 37 never pass for the program's.
 */
static int
could_not_run(const struct pm_check_request *req, const struct pm_step *s,
              const struct pm_tool_result *res, struct pm_error *err)
{
        const char *verb = req->action == PM_CHECK_TEST ? "test" : "run";
        const char *tool = pm_path_basename(s->argv[0]);
        char line[PM_TOOL_MSG_MAX];

        /* As every failed step's line is picked (a test's streamed output on stdout too). */
        pm__step_error_line(res, line, sizeof(line));
        if (res->term_signal)
                return pm_error_set(err, PM_ETOOL, "cannot %s '%s': %s was killed by signal %d%s%s",
                                    verb, req->crate->label, tool, res->term_signal,
                                    line[0] ? ": " : "", line);
        return pm_error_set(err, PM_ETOOL, "cannot %s '%s': %s exited with status %d%s%s", verb,
                            req->crate->label, tool, res->exit_status, line[0] ? ": " : "", line);
}

int
pm__run_adapter(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                const struct pm_check_request *req, struct pm_check_result *ret,
                struct pm_error *err)
{
        struct pm_query q = { .config = cfg, .project = req->project };
        struct pm_plan plan = { 0 };
        struct pm__plan_result pres;
        const struct pm_tool_result *res;
        const struct pm_step *last;
        const char **labels = NULL;
        struct pm__plan_signals sigs;
        size_t n_labels = 0;
        int r, caught;

        memset(&pres, 0, sizeof(pres));
        /* Until the run's files are removed (Bazel's run script, the test events): the user's
         * Ctrl-C or kill must not end the command before it cleans up (docs/cli.md). */
        pm__plan_signals_catch(&sigs);
        if (req->action == PM_CHECK_TEST) {
                r = test_labels(req->crate, &labels, &n_labels, err);
                if (r >= 0)
                        r = ops->test_plan(&q, labels, n_labels, req->test_id, &plan, err);
        } else {
                r = ops->run_plan(&q, req->crate->label, req->run_args, &plan, err);
        }
        if (r < 0)
                goto out;
        if (plan.n_steps == 0) {
                r = pm_error_set(err, -EINVAL, "internal bug: a %s plan of no step", ops->name);
                goto out;
        }
        /* The last step's exit status is the result; the steps before it build what it runs
         * (adapter.h: run_plan, test_plan). */
        last = &plan.steps[plan.n_steps - 1];
        plan.steps[plan.n_steps - 1].any_exit = true;
        {
                /* The step's stdout is the program's: a report (the test results) is read
                 * below, whatever the exit status, and an earlier run's is removed first. */
                struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                              .max_output = cfg->max_tool_output,
                                              .fresh_outputs = true,
                                              .pass_signals = true };

                r = pm__plan_run_sync(&plan, &opts, &pres, err);
        }
        if (r == PM_ETOOL && pres.failed + 1 < plan.n_steps)
                r = could_not_run(req, &plan.steps[pres.failed], &pres.results[pres.failed], err);
        if (r < 0)
                goto out;
        res = &pres.results[plan.n_steps - 1];
        /* A test runner's status other than "passed" and "a test failed" (adapter.h:
         * test_failed_exit): it could not build or run the tests. */
        if (req->action == PM_CHECK_TEST && last->test_failed_exit &&
            (res->term_signal ||
             (res->exit_status != 0 && res->exit_status != last->test_failed_exit))) {
                r = could_not_run(req, last, res, err);
                goto out;
        }
        if (req->action == PM_CHECK_TEST && last->output_file && ops->test_parse &&
            !res->term_signal) {
                r = test_results(cfg, ops, &q, last->output_file, ret, err);
                if (r < 0)
                        goto out;
        }
        ret->exit_status = res->term_signal ? 128 + res->term_signal : res->exit_status;
        /* The test's own status, as GN's and Cargo's `test` give it (docs/cli.md). */
        if (req->action == PM_CHECK_TEST && !res->term_signal && res->exit_status != 0 &&
            res->exit_status == last->test_failed_exit)
                ret->exit_status = 101;
        if (pm_strbuf_add(&ret->out, res->out.buf ? res->out.buf : "", res->out.len) < 0 ||
            pm_strbuf_add(&ret->err, res->err.buf ? res->err.buf : "", res->err.len) < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        /* Each run's report (test events, run script) has its own name: of no more use now. */
        for (size_t i = 0; i < plan.n_steps; i++)
                if (plan.steps[i].output_file)
                        (void)unlink(plan.steps[i].output_file);
        caught = pm__plan_signals_release(&sigs);
        /* Stopped by the user before the program ended its own way: the status a shell gives
         * a command its signal ended, now that nothing is left behind. */
        if (caught && r < 0) {
                pm_error_init(err);
                ret->exit_status = 128 + caught;
                r = pm_strbuf_addf(&ret->err, "projmodel: %s of '%s' interrupted by signal %d\n",
                                   req->action == PM_CHECK_TEST ? "test" : "run", req->crate->label,
                                   caught) < 0
                            ? pm_error_set(err, -ENOMEM, "out of memory")
                            : 0;
        }
        pm__plan_result_release(&pres);
        pm_plan_release(&plan);
        pm_free(labels);
        return r;
}
