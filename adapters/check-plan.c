/* SPDX-License-Identifier: MIT */
/* What every adapter's check_step shares (include/projmodel/check-plan.h): appending a step, and
 * a compiler's diagnostics or a program's own output as the check's result. */
#include "projmodel/check-plan.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

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
pm_check_oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

int
pm_check_add_step(struct pm_check_plan *cp, char **argv, const char *cwd, char **env, bool any_exit,
                  int next, struct pm_error *err)
{
        struct pm_step *s;

        if (!argv) {
                pm_argv_free(env);
                return pm_check_oom(err);
        }
        if (cp->plan.n_steps >= PM_PLAN_MAX_STEPS) {
                pm_argv_free(argv);
                pm_argv_free(env);
                return pm_error_set(err, -EINVAL, "internal bug: a check of more than %d steps",
                                    PM_PLAN_MAX_STEPS);
        }
        s = &cp->plan.steps[cp->plan.n_steps];
        s->argv = argv;
        s->env = env;
        s->any_exit = any_exit;
        s->cwd = pm_strdup(cwd);
        cp->next[cp->plan.n_steps++] = next;
        return s->cwd ? 0 : pm_check_oom(err);
}

int
pm_check_then_program(struct pm_check_plan *cp, const struct pm_check_output *o,
                      struct pm_error *err)
{
        cp->ret->exit_status = o->status;
        if (pm_strbuf_add(&cp->ret->out, o->out, o->out_len) < 0 ||
            pm_strbuf_add(&cp->ret->err, o->err, o->err_len) < 0)
                return pm_check_oom(err);
        return 0;
}

int
pm_check_copy_diagnostics(struct pm_check_result *ret, const char *text, size_t len,
                          const char *base, const char *external_base, bool keep_other,
                          bool *any_error, struct pm_error *err)
{
        for (const char *p = text, *end = text ? text + len : NULL; p && p < end && *p;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                bool is_error = false;
                int r = pm_check_diagnostic_line(p, n, base, external_base, &ret->out, &is_error);

                if (r < 0)
                        return pm_check_oom(err);
                *any_error |= is_error;
                if (r == 0 && keep_other &&
                    (pm_strbuf_add(&ret->err, p, n) < 0 || pm_strbuf_addch(&ret->err, '\n') < 0))
                        return pm_check_oom(err);
                p = nl ? nl + 1 : end;
        }
        return 0;
}

int
pm_check_then_diagnostics(struct pm_check_plan *cp, const struct pm_check_output *o, bool on_stderr,
                          const char *base, struct pm_error *err)
{
        bool any_error = false;

        cp->ret->exit_status = o->status;
        if (pm_check_copy_diagnostics(cp->ret, on_stderr ? o->err : o->out,
                                      on_stderr ? o->err_len : o->out_len, base, NULL, on_stderr,
                                      &any_error, err) < 0)
                return -ENOMEM;
        if (!on_stderr && pm_strbuf_add(&cp->ret->err, o->err, o->err_len) < 0)
                return pm_check_oom(err);
        return cp->ret->exit_status != 0 && !any_error ? PM_CHECK_STEP_FAILED : 0;
}

/* libtest's arguments: a test's id and --exact, then the user's arguments. */
int
pm_check_push_program_args(const struct pm_check_request *req, char ***argv)
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
