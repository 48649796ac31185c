/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` for one crate, per build system (docs/build-integration.md,
 * "Check-on-save and runnables"): which build system's steps run (check-gn.c, check-cargo.c,
 * check-buck2.c, or the adapter's own plan, check-adapter.c), and the plan they grow. */
#include "projmodel/check.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "check-internal.h"

void
pm_check_result_release(struct pm_check_result *r)
{
        if (!r)
                return;
        pm_strbuf_release(&r->out);
        pm_strbuf_release(&r->err);
        pm_strbuf_release(&r->results);
        r->exit_status = 0;
}

int
pm__check_oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

int
pm__check_status(const struct pm_tool_result *res)
{
        return res->term_signal ? 128 + res->term_signal : res->exit_status;
}

/*
 * Append the step running @argv (taken, also on error) in @cwd with @env (taken, may be NULL),
 * followed by @then. @any_exit: the exit status is the compiler's or program's (pm_step).
 */
int
pm__check_add_step(struct pm__check_run *cr, char **argv, const char *cwd, char **env,
                   bool any_exit, pm__check_then_cb then, struct pm_error *err)
{
        struct pm_step *s;

        if (!argv) {
                pm_argv_free(env);
                return pm__check_oom(err);
        }
        if (cr->plan.n_steps >= PM_PLAN_MAX_STEPS) {
                pm_argv_free(argv);
                pm_argv_free(env);
                return pm_error_set(err, -EINVAL, "internal bug: a check of more than %d steps",
                                    PM_PLAN_MAX_STEPS);
        }
        s = &cr->plan.steps[cr->plan.n_steps];
        s->argv = argv;
        s->env = env;
        s->any_exit = any_exit;
        s->cwd = pm_strdup(cwd);
        cr->then[cr->plan.n_steps++] = then;
        return s->cwd ? 0 : pm__check_oom(err);
}

static int
on_next(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct pm__check_run *cr = data;

        return cr->then[step] ? cr->then[step](cr, step, res, err) : 0;
}

/* Run the plan from its first step, in projmodel's process group (docs/build-integration.md). */
int
pm__check_run_plan(struct pm__check_run *cr, struct pm_error *err)
{
        struct pm__plan_opts opts = { .timeout_ms = cr->cfg->tool_timeout_ms,
                                      .max_output = cr->cfg->max_tool_output,
                                      .next = on_next,
                                      .next_data = cr };
        struct pm__plan_result res;
        int r;

        r = pm__plan_run_sync(&cr->plan, &opts, &res, err);
        pm__plan_result_release(&res);
        return r;
}

/* A test's or binary's own run: its output and exit status are the result. */
int
pm__check_then_program(struct pm__check_run *cr, size_t step, struct pm__plan_result *res,
                       struct pm_error *err)
{
        const struct pm_tool_result *r = &res->results[step];

        cr->ret->exit_status = pm__check_status(r);
        if (pm_strbuf_add(&cr->ret->out, r->out.buf ? r->out.buf : "", r->out.len) < 0 ||
            pm_strbuf_add(&cr->ret->err, r->err.buf ? r->err.buf : "", r->err.len) < 0)
                return pm__check_oom(err);
        return 0;
}

/*
 * Each line of @text (@len bytes) a diagnostic on ret->out, file names absolute against @base;
 * with @keep_other, the lines that are not JSON go to ret->err. *any_error when one is an error.
 */
int
pm__check_copy_diagnostics(struct pm__check_run *cr, const char *text, size_t len, const char *base,
                           bool keep_other, bool *any_error, struct pm_error *err)
{
        for (const char *p = text, *end = text ? text + len : NULL; p && p < end && *p;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                bool is_error = false;
                int r = pm_check_diagnostic_line(p, n, base, NULL, &cr->ret->out, &is_error);

                if (r < 0)
                        return pm__check_oom(err);
                *any_error |= is_error;
                if (r == 0 && keep_other &&
                    (pm_strbuf_add(&cr->ret->err, p, n) < 0 ||
                     pm_strbuf_addch(&cr->ret->err, '\n') < 0))
                        return pm__check_oom(err);
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* libtest's arguments: a test's id and --exact, then the user's arguments. */
int
pm__check_push_program_args(const struct pm_check_request *req, char ***argv)
{
        int r = 0;

        if (req->action == PM_CHECK_TEST) {
                r = pm_argv_push(argv, req->test_id);
                if (r >= 0)
                        r = pm_argv_push(argv, "--exact");
        }
        for (size_t i = 0; r >= 0 && req->run_args && req->run_args[i]; i++)
                r = pm_argv_push(argv, req->run_args[i]);
        return r;
}

/*
 * A compiler's step (rustc, cargo): its exit status, its JSON diagnostics on stderr (@on_stderr,
 * the other lines for the user) or stdout (stderr for the user), file names absolute against
 * @base. A failure that printed no error diagnostic is the step's (the one wording).
 */
int
pm__check_then_diagnostics(struct pm__check_run *cr, const struct pm_tool_result *r, bool on_stderr,
                           const char *base, struct pm_error *err)
{
        const struct pm_strbuf *json = on_stderr ? &r->err : &r->out;
        bool any_error = false;

        cr->ret->exit_status = pm__check_status(r);
        if (pm__check_copy_diagnostics(cr, json->buf, json->len, base, on_stderr, &any_error, err) <
            0)
                return -ENOMEM;
        if (!on_stderr &&
            pm_strbuf_add(&cr->ret->err, r->err.buf ? r->err.buf : "", r->err.len) < 0)
                return pm__check_oom(err);
        return cr->ret->exit_status != 0 && !any_error ? PM__PLAN_FAILED : 0;
}

int
pm_check_run(const struct pm_config *cfg, const struct pm_check_request *req,
             struct pm_check_result *ret, struct pm_error *err)
{
        const struct pm_crate *c = req->crate;
        const char *bs = c->build_system;
        const struct pm_adapter_ops *ops;
        struct pm__check_run cr = { .cfg = cfg, .req = req, .ret = ret };
        int r;

        pm_strbuf_init(&ret->out);
        pm_strbuf_init(&ret->err);
        ret->exit_status = 0;
        if (req->action == PM_CHECK_RUN && c->kind != PM_CRATE_BIN)
                return pm_error_set(err, PM_ENOTFOUND, "'%s' is a %s, not a binary", c->label,
                                    pm_crate_kind_name(c->kind));
        if (req->action == PM_CHECK_TEST && strcmp(bs, "gn") == 0 && c->kind != PM_CRATE_TEST)
                return pm_error_set(err, PM_ENOTFOUND,
                                    "'%s' is a %s, not a test target (GN builds tests only in "
                                    "targets compiled with --test)",
                                    c->label, pm_crate_kind_name(c->kind));
        ops = pm_adapter_find(bs);
        if (strcmp(bs, "gn") == 0)
                r = pm__check_gn(&cr, err);
        else if (strcmp(bs, "cargo") == 0)
                r = pm__check_cargo(&cr, err);
        else if (strcmp(bs, "buck2") == 0)
                r = pm__check_buck2(&cr, err);
        else if (req->action == PM_CHECK_CHECK && ops && ops->check_plan && ops->check_parse)
                r = pm__check_adapter(cfg, ops, req, ret, err);
        else if (req->action != PM_CHECK_CHECK && ops && ops->run_plan && ops->test_plan)
                r = pm__run_adapter(cfg, ops, req, ret, err);
        else
                r = pm_error_set(err, PM_EUNSUPPORTED,
                                 "projmodel %s does not support %s yet (docs/build-integration.md)",
                                 req->action == PM_CHECK_CHECK  ? "check"
                                 : req->action == PM_CHECK_TEST ? "test"
                                                                : "run",
                                 bs);
        pm_plan_release(&cr.plan);
        pm_argv_free(cr.inputs);
        pm_free(cr.target);
        pm_free(cr.dir);
        return r;
}
