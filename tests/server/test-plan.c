/* SPDX-License-Identifier: MIT */
/* Tests for the plan sequencer (server/plan.c) with real processes (/bin/true, /bin/false and
 * tests/server/plan-tool.c): a stop at the first failing step with that step's error line, an
 * optional step's failure, the timeout's kill, cancellation, the output cap, the progress lines,
 * the owner's next-step callback. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"

#include "server/server-internal.h"
#include "testlib.h"

/* A plan of up to PM_PLAN_MAX_STEPS steps, each argv a literal list (borrowed: never
 * released with pm_plan_release()). */
static struct pm_plan
plan_of(char **const *argvs, size_t n)
{
        struct pm_plan plan;

        memset(&plan, 0, sizeof(plan));
        for (size_t i = 0; i < n; i++) {
                plan.steps[i].argv = argvs[i];
                plan.steps[i].cwd = "/";
        }
        plan.n_steps = n;
        return plan;
}

static char *tmp;

static void
setup(void)
{
        tmp = pm_test_mkdtemp();
        cr_assert_not_null(tmp);
}

static void
teardown(void)
{
        (void)pm_test_rmtree(tmp);
        pm_free(tmp);
}

TestSuite(server_plan, .init = setup, .fini = teardown);

Test(server_plan, stops_at_the_first_failing_step_with_its_error_line)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *t[] = { "/bin/true", NULL };
        char *f[] = { PLAN_TOOL, "fail", "3", "no such target", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        struct pm_plan plan = plan_of((char **const[]){ t, f, m }, 3);
        struct pm__plan_opts opts = { .timeout_ms = 60000 };
        struct pm__plan_result res;
        struct pm_error err;
        int r;

        pm_error_init(&err);
        r = pm__plan_run_sync(&plan, &opts, &res, &err);
        cr_assert_eq(r, PM_ETOOL, "%d %s", r, err.msg);
        cr_assert_eq(res.code, PM_ETOOL);
        cr_assert_eq(res.failed, 1);
        cr_assert_str_eq(err.msg, "'" PLAN_TOOL " fail 3 no such target' failed with exit "
                                  "status 3: error: no such target");
        cr_assert(res.ok[0] && !res.ok[1] && !res.ok[2]);
        cr_assert_eq(res.results[1].exit_status, 3);
        cr_assert_str_eq(res.errors[1], err.msg);
        cr_assert_eq(access(mark, F_OK), -1, "the step after the failing one ran");

        /* /bin/false says nothing: the message is the status alone. */
        {
                char *fa[] = { "/bin/false", NULL };
                struct pm_plan p2 = plan_of((char **const[]){ fa, m }, 2);
                struct pm__plan_result res2;

                r = pm__plan_run_sync(&p2, &opts, &res2, &err);
                cr_assert_eq(r, PM_ETOOL);
                cr_assert_str_eq(err.msg, "'/bin/false' failed with exit status 1");
                cr_assert_eq(res2.failed, 0);
                pm__plan_result_release(&res2);
        }
        cr_assert_eq(access(mark, F_OK), -1);
        pm__plan_result_release(&res);
        pm_free(mark);
}

Test(server_plan, an_optional_step_that_fails_gives_empty_output_and_the_plan_goes_on)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *f[] = { PLAN_TOOL, "fail", "2", "optional", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        char *missing[] = { "/nonexistent/tool", NULL };
        struct pm_plan plan = plan_of((char **const[]){ f, missing, m }, 3);
        struct pm__plan_opts opts = { .timeout_ms = 60000 };
        struct pm__plan_result res;
        struct pm_error err;

        plan.steps[0].optional = true;
        plan.steps[1].optional = true;
        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert(!res.ok[0] && !res.ok[1] && res.ok[2]);
        cr_assert_eq(res.results[0].out.len, 0);
        cr_assert_str_eq(res.errors[0], "'" PLAN_TOOL " fail 2 optional' failed with exit status "
                                        "2: error: optional");
        cr_assert_not_null(strstr(res.errors[1], "/nonexistent/tool"), "%s", res.errors[1]);
        cr_assert_null(res.errors[2]);
        cr_assert_eq(access(mark, F_OK), 0, "the last step did not run");
        pm__plan_result_release(&res);

        /* Not optional, the missing tool stops the plan, naming it. */
        plan.steps[1].optional = false;
        (void)unlink(mark);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), -ENOENT, "%s", err.msg);
        cr_assert_str_eq(err.msg, "cannot run '/nonexistent/tool': not found in PATH");
        cr_assert_eq(res.failed, 1);
        cr_assert_eq(access(mark, F_OK), -1);
        pm__plan_result_release(&res);
        pm_free(mark);
}

Test(server_plan, a_step_past_its_timeout_is_killed_and_stops_the_plan)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *h[] = { PLAN_TOOL, "hang", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        struct pm_plan plan = plan_of((char **const[]){ h, m }, 2);
        struct pm__plan_opts opts = { .timeout_ms = 50 };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), PM_ETIMEOUT, "%s", err.msg);
        cr_assert_str_eq(err.msg,
                         "'" PLAN_TOOL " hang' did not finish within 50 ms (tool_timeout_ms)");
        cr_assert(res.results[0].timed_out);
        cr_assert_eq(res.results[0].term_signal, SIGTERM);
        cr_assert_eq(access(mark, F_OK), -1);
        pm__plan_result_release(&res);
        pm_free(mark);
}

Test(server_plan, output_over_the_cap_stops_the_step)
{
        char *p[] = { PLAN_TOOL, "print", "100000", NULL };
        char *t[] = { "/bin/true", NULL };
        struct pm_plan plan = plan_of((char **const[]){ p, t }, 2);
        struct pm__plan_opts opts = { .timeout_ms = 60000, .max_output = 1000 };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), PM_ELIMIT, "%s", err.msg);
        cr_assert_str_eq(err.msg, "'" PLAN_TOOL " print 100000' printed more than 1000 bytes "
                                  "(max_tool_output)");
        cr_assert(!res.ok[1], "the step after it ran");
        pm__plan_result_release(&res);

        /* Under the cap, the output is the step's. */
        p[2] = "1000";
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert_eq(res.results[0].out.len, 1000);
        cr_assert(res.ok[0] && res.ok[1]);
        pm__plan_result_release(&res);
}

/* ---- on a loop of the test's own: cancellation ---- */

struct async_run {
        struct pm__plan_run *run;
        bool done;
        int code;
        struct pm_error err;
        size_t failed;
        int lines;
        bool cancel_on_second_line;
};

static void
on_done(void *data, struct pm__plan_result *res)
{
        struct async_run *a = data;

        a->done = true;
        a->code = res->code;
        a->err = res->err;
        a->failed = res->failed;
        a->run = NULL;
}

static void
on_line(const char *line, void *data)
{
        struct async_run *a = data;

        (void)line;
        if (++a->lines == 2 && a->cancel_on_second_line)
                pm__plan_cancel(a->run);
}

static void
cancel_now(uv_timer_t *t)
{
        struct async_run *a = t->data;

        pm__plan_cancel(a->run);
        uv_close((uv_handle_t *)t, NULL);
}

static void
run_loop(uv_loop_t *loop)
{
        cr_assert_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
        cr_assert_eq(uv_loop_close(loop), 0, "a handle was left open");
}

Test(server_plan, cancel_kills_the_running_step_and_runs_no_other)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *h[] = { PLAN_TOOL, "hang", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        struct pm_plan plan = plan_of((char **const[]){ h, m }, 2);
        struct pm__plan_opts opts = { .timeout_ms = 0 }; /* none: only the cancel ends it */
        struct async_run a = { 0 };
        struct pm_error err;
        uv_loop_t loop;
        uv_timer_t t;

        pm_error_init(&err);
        cr_assert_eq(uv_loop_init(&loop), 0);
        cr_assert_eq(pm__plan_start(&loop, &plan, &opts, on_done, &a, &a.run, &err), 0, "%s",
                     err.msg);
        cr_assert(!a.done, "the callback fired from pm__plan_start()");
        /* Started after the plan's own first tick: the step is running when this fires. */
        t.data = &a;
        cr_assert_eq(uv_timer_init(&loop, &t), 0);
        cr_assert_eq(uv_timer_start(&t, cancel_now, 0, 0), 0);
        run_loop(&loop);
        cr_assert(a.done);
        cr_assert_eq(a.code, -ECANCELED);
        cr_assert_str_eq(a.err.msg, "'" PLAN_TOOL " hang' cancelled");
        cr_assert_eq(access(mark, F_OK), -1, "a step ran after the cancel");
        pm_free(mark);
}

Test(server_plan, cancel_while_a_step_starts_stops_it_and_the_progress_names_each_step)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *t[] = { "/bin/true", NULL };
        char *h[] = { PLAN_TOOL, "hang", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        struct pm_plan plan = plan_of((char **const[]){ t, h, m }, 3);
        struct async_run a = { .cancel_on_second_line = true };
        struct pm_progress progress = { .cb = on_line, .userdata = &a };
        struct pm__plan_opts opts = { .progress = &progress, .where = "sub" };
        struct pm_error err;
        uv_loop_t loop;

        pm_error_init(&err);
        cr_assert_eq(uv_loop_init(&loop), 0);
        cr_assert_eq(pm__plan_start(&loop, &plan, &opts, on_done, &a, &a.run, &err), 0, "%s",
                     err.msg);
        run_loop(&loop);
        cr_assert(a.done);
        cr_assert_eq(a.lines, 2, "one progress line per step started");
        cr_assert_eq(a.code, -ECANCELED, "%d %s", a.code, a.err.msg);
        cr_assert_eq(a.failed, 1);
        cr_assert_eq(access(mark, F_OK), -1);
        pm_free(mark);
}

static void
keep_line(const char *line, void *data)
{
        struct pm_strbuf *sb = data;

        cr_assert_eq(pm_strbuf_addf(sb, "%s\n", line), 0);
}

Test(server_plan, each_step_has_its_progress_line)
{
        char *t[] = { "/bin/true", "a", NULL };
        char *t2[] = { "/bin/true", "b", NULL };
        struct pm_plan plan = plan_of((char **const[]){ t, t2 }, 2);
        struct pm_strbuf lines = PM_STRBUF_INIT;
        struct pm_progress progress = { .cb = keep_line, .userdata = &lines };
        struct pm__plan_opts opts = { .progress = &progress, .where = "lib" };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert_str_eq(lines.buf, "running /bin/true a (in lib)\nrunning /bin/true b (in lib)\n");
        pm__plan_result_release(&res);
        pm_strbuf_release(&lines);
}

/* ---- the next-step callback: a plan whose steps depend on the previous step's output ---- */

struct next_state {
        struct pm_plan *plan; /* the owner's plan, appended to */
        char *argv[4];        /* the appended step's argv (its file name pm_malloc'd) */
        size_t calls[PM_PLAN_MAX_STEPS];
        size_t n_calls;
        int answer; /* after step 0, when not appending */
};

/* After step 0, append `mark <tmp>/<step 0's output>`, or answer st->answer. */
static int
next_step(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct next_state *st = data;

        st->calls[st->n_calls++] = step;
        if (step != 0)
                return 0;
        if (st->answer < 0)
                return pm_error_set(err, st->answer, "the owner says no");
        if (st->answer)
                return st->answer;
        st->argv[0] = PLAN_TOOL;
        st->argv[1] = "mark";
        st->argv[2] = pm_test_strf("%s/%s", tmp, res->results[0].out.buf);
        st->argv[3] = NULL;
        st->plan->steps[st->plan->n_steps].argv = st->argv;
        st->plan->steps[st->plan->n_steps].cwd = "/";
        st->plan->n_steps++;
        return 0;
}

Test(server_plan, the_owner_appends_the_next_step_from_the_output_of_the_last)
{
        char *p[] = { PLAN_TOOL, "print", "5", NULL };
        char *mark = pm_test_strf("%s/xxxxx", tmp);
        struct pm_plan plan = plan_of((char **const[]){ p }, 1);
        struct next_state st = { .plan = &plan };
        struct pm__plan_opts opts = { .timeout_ms = 60000, .next = next_step, .next_data = &st };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert_eq(plan.n_steps, 2);
        cr_assert_eq(st.n_calls, 2, "asked after each step");
        cr_assert(st.calls[0] == 0 && st.calls[1] == 1);
        cr_assert(res.ok[0] && res.ok[1]);
        cr_assert_eq(access(mark, F_OK), 0, "the appended step did not run");
        pm__plan_result_release(&res);
        pm_free(st.argv[2]);
        pm_free(mark);
}

Test(server_plan, the_owner_ends_the_plan_or_stops_it_with_an_error)
{
        char *mark = pm_test_strf("%s/ran", tmp);
        char *t[] = { "/bin/true", NULL };
        char *m[] = { PLAN_TOOL, "mark", mark, NULL };
        struct pm_plan plan = plan_of((char **const[]){ t, m }, 2);
        struct next_state st = { .plan = &plan, .answer = PM__PLAN_END };
        struct pm__plan_opts opts = { .timeout_ms = 60000, .next = next_step, .next_data = &st };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert(res.ok[0] && !res.ok[1]);
        cr_assert_eq(access(mark, F_OK), -1, "a step ran after the owner ended the plan");
        pm__plan_result_release(&res);

        st.answer = PM_ENOTFOUND;
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), PM_ENOTFOUND, "%s", err.msg);
        cr_assert_str_eq(err.msg, "the owner says no");
        cr_assert_eq(res.failed, 0);
        cr_assert_eq(access(mark, F_OK), -1);
        pm__plan_result_release(&res);
        pm_free(mark);
}

/* An any_exit step's status is the owner's to read; if its output says it failed after all, the
 * plan words it as every failed step. A step that failed is not the owner's to judge. */
Test(server_plan, an_any_exit_step_is_judged_by_its_owner_in_the_one_wording)
{
        char *f[] = { PLAN_TOOL, "fail", "3", "boom", NULL };
        struct pm_plan plan = plan_of((char **const[]){ f }, 1);
        struct next_state st = { .plan = &plan, .answer = PM__PLAN_FAILED };
        struct pm__plan_opts opts = { .timeout_ms = 60000 };
        struct pm__plan_result res;
        struct pm_error err;

        pm_error_init(&err);
        plan.steps[0].any_exit = true;
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), 0, "%s", err.msg);
        cr_assert(res.ok[0]);
        cr_assert_eq(res.results[0].exit_status, 3);
        cr_assert_not_null(strstr(res.results[0].err.buf, "more context"), "stderr kept whole");
        pm__plan_result_release(&res);

        opts.next = next_step;
        opts.next_data = &st;
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), PM_ETOOL, "%s", err.msg);
        cr_assert_str_eq(err.msg, "'" PLAN_TOOL " fail 3 boom' failed with exit status 3: error: "
                                  "boom");
        cr_assert_str_eq(res.errors[0], err.msg);
        cr_assert(!res.ok[0]);
        pm__plan_result_release(&res);

        /* Not any_exit: the plan stops at the failure without asking. */
        plan.steps[0].any_exit = false;
        st.n_calls = 0;
        cr_assert_eq(pm__plan_run_sync(&plan, &opts, &res, &err), PM_ETOOL, "%s", err.msg);
        cr_assert_eq(st.n_calls, 0, "asked after a failed step");
        pm__plan_result_release(&res);
}
