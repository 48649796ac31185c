/* SPDX-License-Identifier: MIT */
/* The one plan sequencer: a pm_plan's steps one after the other through the step runner
 * (spawn.c) on a caller's loop, deciding in one place what comes next (the next step, one the
 * owner appends from the previous step's output, a stop at the first failing step with its
 * one-line error, an optional step's empty output) and the progress line of each step; the
 * synchronous form runs it on a private loop. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/* Bytes of a step's command line in its progress line (docs/cli.md). */
#define STEP_LINE_MAX 100

/*
 * One plan being run. Invariant: the user callback fires exactly once, from a loop callback
 * (never from pm__plan_start()); the run is freed from the kick timer's close callback, after
 * it.
 */
struct pm__plan_run {
        uv_timer_t kick; /* starts the first step from the loop */
        uv_loop_t *loop;
        const struct pm_plan *plan; /* borrowed until the callback */
        struct pm__plan_opts opts;
        size_t step;            /* the step running or next to run */
        struct pm__spawn *proc; /* the running step, or NULL */
        double step_start_ms;
        bool cancelled;
        bool ended; /* the owner ended the plan (PM__PLAN_END) */
        bool done;
        struct pm__plan_result res;
        pm__plan_cb cb;
        void *data;
};

void
pm__plan_result_release(struct pm__plan_result *res)
{
        if (!res)
                return;
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++) {
                pm_tool_result_release(&res->results[i]);
                pm_free(res->errors[i]);
                res->errors[i] = NULL;
                res->ok[i] = false;
        }
        res->code = 0;
        res->failed = 0;
        res->tool_ms = 0;
}

static void
free_run(uv_handle_t *h)
{
        struct pm__plan_run *run = h->data;

        pm__plan_result_release(&run->res);
        pm_free(run);
}

static void
finish(struct pm__plan_run *run)
{
        run->done = true;
        run->cb(run->data, &run->res);
        uv_close((uv_handle_t *)&run->kick, free_run);
}

/* The build tool's phase, before step @i runs: its announcement, else its command line,
 * shortened to stay one line. */
static void
report_step(const struct pm__plan_opts *opts, size_t i, const struct pm_step *step)
{
        char cmd[STEP_LINE_MAX] = "";
        size_t n = 0;

        if (!opts->progress || !opts->progress->cb)
                return;
        if (opts->announce && opts->announce[i]) {
                if (opts->where && strcmp(opts->where, ".") != 0)
                        pm_progress_report(opts->progress, "%s (in %s)", opts->announce[i],
                                           opts->where);
                else
                        pm_progress_report(opts->progress, "%s", opts->announce[i]);
                return;
        }
        for (char **a = step->argv; a && *a && n < sizeof(cmd); a++)
                n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", a == step->argv ? "" : " ",
                                      *a);
        if (n >= sizeof(cmd))
                memcpy(cmd + sizeof(cmd) - 4, "...", 4);
        if (opts->where && strcmp(opts->where, ".") != 0)
                pm_progress_report(opts->progress, "running %s (in %s)", cmd, opts->where);
        else
                pm_progress_report(opts->progress, "running %s", cmd);
}

/* A report file left by an earlier run (a killed process with the same pid) must not pass for
 * this one's; its directory may not exist yet. */
static int
fresh_output(const struct pm_step *s, struct pm_error *err)
{
        char *dir;
        int r;

        if (!s->output_file)
                return 0;
        dir = pm_path_dirname(NULL, s->output_file);
        if (!dir)
                return pm_error_set(err, -ENOMEM, "out of memory");
        (void)unlink(s->output_file);
        r = pm_mkdir_p(dir, err);
        pm_free(dir);
        return r;
}

/* Stop the plan at step run->step with @code and its error. */
static bool
stop(struct pm__plan_run *run, int code, const struct pm_error *err)
{
        run->res.code = code;
        run->res.err = *err;
        run->res.failed = run->step;
        return false;
}

/* The owner's say after step run->step let the plan go on (opts.next): true to go on. */
static bool
ask_next(struct pm__plan_run *run)
{
        const struct pm_step *s = &run->plan->steps[run->step];
        struct pm_error err;
        char cmd[PM_TOOL_CMD_MAX];
        int r;

        if (!run->opts.next)
                return true;
        pm_error_init(&err);
        r = run->opts.next(run->opts.next_data, run->step, &run->res, &err);
        if (r == 0 && run->plan->n_steps > PM_PLAN_MAX_STEPS)
                r = pm_error_set(&err, -EINVAL, "internal bug: a plan of %zu steps",
                                 run->plan->n_steps);
        if (r == 0)
                return true;
        if (r == PM__PLAN_END) {
                run->ended = true;
                return true;
        }
        if (r == PM__PLAN_FAILED) {
                /* Failed after all, by its output: worded as any failed step. */
                pm__tool_command_line(s->argv, cmd, sizeof(cmd));
                r = pm__step_failed(cmd, &run->res.results[run->step], &err);
                run->res.ok[run->step] = false;
                pm_free(run->res.errors[run->step]);
                run->res.errors[run->step] = pm_strdup(err.msg);
        } else if (r > 0) {
                r = pm_error_set(&err, -EINVAL, "internal bug: next step answer %d", r);
        }
        return stop(run, r, &err);
}

/*
 * The one rule after step run->step ended with @code (@err when < 0): true to go on with the
 * next step. An optional step that failed contributes empty output (its error stays in
 * errors[]); any other failure, out of memory or a cancellation stops the plan with its error.
 * When it would go on, the owner may append the next step or stop (ask_next()).
 */
static bool
step_ended(struct pm__plan_run *run, int code, const struct pm_error *err)
{
        const struct pm_step *s = &run->plan->steps[run->step];
        struct pm_tool_result *mine = &run->res.results[run->step];

        run->res.ok[run->step] = code == 0;
        run->res.errors[run->step] = pm__step_error(s, code, mine, err);
        if (code == 0)
                return ask_next(run); /* run_steps() stops before the next step when cancelled */
        if (s->optional && code != -ENOMEM && !run->cancelled) {
                pm_strbuf_reset(&mine->out);
                mine->exit_status = mine->exit_status ? mine->exit_status : 1;
                return ask_next(run);
        }
        return stop(run, code, err);
}

static void run_steps(struct pm__plan_run *run);
static bool user_stopped(const struct pm__plan_run *run);

static void
on_step_done(void *data, int code, struct pm_tool_result *res, const struct pm_error *err)
{
        struct pm__plan_run *run = data;
        const struct pm_step *s = &run->plan->steps[run->step];
        struct pm_tool_result *mine = &run->res.results[run->step];
        struct pm_error ferr;

        run->proc = NULL;
        run->res.tool_ms += pm_clock_ms() - run->step_start_ms;
        /* Take the captured output; the runner releases what is left in @res. */
        *mine = *res;
        mine->timed_out = code == PM_ETIMEOUT;
        pm_strbuf_init(&res->out);
        pm_strbuf_init(&res->err);
        pm_error_init(&ferr);
        if (code == 0 && s->output_file && run->opts.read_outputs) {
                char cmd[PM_TOOL_CMD_MAX];

                pm_strbuf_reset(&mine->out);
                code = pm_strbuf_read_file(&mine->out, s->output_file, run->opts.max_output, &ferr);
                if (code < 0) {
                        pm__tool_command_line(s->argv, cmd, sizeof(cmd));
                        (void)pm_error_prefix(&ferr, "'%s' succeeded but its output is unusable",
                                              cmd);
                }
                err = &ferr;
        }
        if (!step_ended(run, code, err)) {
                finish(run);
                return;
        }
        run->step++;
        run_steps(run);
}

/* Start the next step that can start; finish when none is left or the plan stops. */
static void
run_steps(struct pm__plan_run *run)
{
        struct pm_error err;
        int code;

        while (!run->ended && run->step < run->plan->n_steps) {
                const struct pm_step *s = &run->plan->steps[run->step];

                pm_error_init(&err);
                if (run->cancelled || user_stopped(run)) {
                        char cmd[PM_TOOL_CMD_MAX];

                        pm__tool_command_line(s->argv, cmd, sizeof(cmd));
                        code = pm_error_set(&err, -ECANCELED, "'%s' cancelled", cmd);
                } else {
                        code = run->opts.fresh_outputs ? fresh_output(s, &err) : 0;
                }
                if (code == 0) {
                        report_step(&run->opts, run->step, s);
                        run->step_start_ms = pm_clock_ms();
                        code = pm__spawn_start(run->loop, s, run->opts.timeout_ms,
                                               run->opts.max_output, run->opts.spawn_flags,
                                               on_step_done, run, &run->proc, &err);
                        if (code == 0) {
                                /* Cancelled while it was being started (its progress line). */
                                if (run->cancelled)
                                        pm__spawn_kill(run->proc);
                                return;
                        }
                        /* No process: the result keeps exit status 0 and no output. */
                }
                if (!step_ended(run, code, &err))
                        break;
                run->step++;
        }
        finish(run);
}

static void
on_kick(uv_timer_t *t)
{
        run_steps(t->data);
}

int
pm__plan_start(struct uv_loop_s *loop, const struct pm_plan *plan, const struct pm__plan_opts *opts,
               pm__plan_cb cb, void *data, struct pm__plan_run **ret, struct pm_error *err)
{
        struct pm__plan_run *run;
        int r;

        if (plan->n_steps > PM_PLAN_MAX_STEPS)
                return pm_error_set(err, -EINVAL, "internal bug: a plan of %zu steps",
                                    plan->n_steps);
        run = pm_calloc(1, sizeof(*run));
        if (!run)
                return pm_error_set(err, -ENOMEM, "out of memory");
        run->loop = loop;
        run->plan = plan;
        run->opts = *opts;
        run->cb = cb;
        run->data = data;
        pm_error_init(&run->res.err);
        run->kick.data = run;
        (void)uv_timer_init(loop, &run->kick);
        r = uv_timer_start(&run->kick, on_kick, 0, 0);
        if (r < 0) {
                run->done = true;
                uv_close((uv_handle_t *)&run->kick, free_run);
                return pm_error_set(err, r, "cannot start the build tool: %s", uv_strerror(r));
        }
        if (ret)
                *ret = run;
        return 0;
}

void
pm__plan_cancel(struct pm__plan_run *run)
{
        if (!run || run->done)
                return;
        run->cancelled = true;
        /* A running step ends through the kill policy; a step not started yet never starts. */
        if (run->proc)
                pm__spawn_kill(run->proc);
}

/* What the private loop's run handed over. */
struct sync_plan {
        bool done;
        struct pm__plan_result res;
        struct pm__plan_run *run; /* until done */
};

/* ---- the user's signals while a one-shot command's plan runs (pm__plan_signals_catch()) ---- */

static const int caught_signals[3] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t first_caught; /* what pm__plan_signals_release() returns */
static _Atomic int to_pass; /* a signal the loop has yet to pass on, or 0 (atomic: the loop
                             * takes it with an exchange, so a second signal is never lost) */
static volatile sig_atomic_t to_pass_group; /* ... sent by the terminal to the whole group */
static uv_async_t *volatile caught_async;   /* the running plan's loop, or NULL */

/* A plan that passes the user's signals on starts no step once one was caught: one caught
 * before the loop ran (while the plan was built) would otherwise start the first step anyway,
 * and a terminal's Ctrl-C, already delivered to the group, never reach it. */
static bool
user_stopped(const struct pm__plan_run *run)
{
        return run->opts.pass_signals && first_caught;
}

static void
on_caught(int sig, siginfo_t *si, void *uc)
{
        int saved = errno;
        uv_async_t *a = caught_async;

        (void)uc;
        if (!first_caught)
                first_caught = sig;
        /* The terminal's Ctrl-C (SI_KERNEL) reached the step already: it is in our group. */
        to_pass_group = si && si->si_code == SI_KERNEL;
        to_pass = sig;
        if (a)
                (void)uv_async_send(a); /* async-signal-safe (uv.h) */
        errno = saved;
}

void
pm__plan_signals_catch(struct pm__plan_signals *s)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = on_caught;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        /* One handler at a time: to_pass_group and to_pass describe the same signal. */
        (void)sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < 3; i++)
                (void)sigaddset(&sa.sa_mask, caught_signals[i]);
        first_caught = 0;
        to_pass = 0;
        for (size_t i = 0; i < 3; i++)
                (void)sigaction(caught_signals[i], &sa, &s->old[i]);
}

int
pm__plan_signals_release(struct pm__plan_signals *s)
{
        for (size_t i = 0; i < 3; i++)
                (void)sigaction(caught_signals[i], &s->old[i], NULL);
        return first_caught;
}

/* On the loop: pass a caught signal on to the running step, and start no further step. */
static void
on_caught_async(uv_async_t *a)
{
        struct sync_plan *sp = a->data;
        bool group = to_pass_group;
        int sig = atomic_exchange(&to_pass, 0);

        if (!sig || sp->done || !sp->run || sp->run->done)
                return;
        sp->run->cancelled = true;
        if (sp->run->proc && !group)
                pm__spawn_signal(sp->run->proc, sig);
}

static void
on_sync_done(void *data, struct pm__plan_result *res)
{
        struct sync_plan *sp = data;

        sp->done = true;
        sp->run = NULL;
        sp->res = *res;
        memset(res, 0, sizeof(*res));
}

static void
close_walk(uv_handle_t *h, void *arg)
{
        (void)arg;
        if (!uv_is_closing(h))
                uv_close(h, NULL);
}

int
pm__plan_run_sync(const struct pm_plan *plan, const struct pm__plan_opts *opts,
                  struct pm__plan_result *ret, struct pm_error *err)
{
        struct sync_plan sp;
        uv_loop_t loop;
        uv_async_t async;
        bool armed = false;
        int r;

        memset(&sp, 0, sizeof(sp));
        memset(ret, 0, sizeof(*ret));
        pm_error_init(&ret->err);
        r = uv_loop_init(&loop);
        if (r < 0)
                return pm_error_set(err, r, "cannot run the build tool: %s", uv_strerror(r));
        /* The one sequencer the daemon uses too, on a loop of our own. */
        r = pm__plan_start(&loop, plan, opts, on_sync_done, &sp, &sp.run, err);
        if (r == 0 && opts->pass_signals && uv_async_init(&loop, &async, on_caught_async) == 0) {
                async.data = &sp;
                uv_unref((uv_handle_t *)&async); /* the plan's end ends the loop */
                caught_async = &async;
                armed = true;
                /* One caught before the loop was there stops the plan at its first step
                 * (user_stopped()). */
        }
        (void)uv_run(&loop, UV_RUN_DEFAULT);
        /* Only the run that armed it: plans without pass_signals run on other threads too
         * (the sysroot job beside an export), and must not touch it. */
        if (armed)
                caught_async = NULL;
        uv_walk(&loop, close_walk, NULL);
        (void)uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) < 0 && r == 0)
                r = pm_error_set(err, -EBUSY, "internal bug: tool loop not drained");
        if (r == 0 && !sp.done)
                r = pm_error_set(err, -EINVAL, "internal bug: the plan never ended");
        if (r < 0) {
                pm__plan_result_release(&sp.res);
                return r;
        }
        *ret = sp.res;
        if (ret->code < 0 && err)
                *err = ret->err;
        return ret->code;
}
