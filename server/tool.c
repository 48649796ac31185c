/* SPDX-License-Identifier: MIT */
/* Running one build-tool step to completion for the one-shot commands: the daemon's step
 * runner (spawn.c) on a private libuv loop, then the step's output file. */
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

/* What the runner handed over when the step ended. */
struct sync_run {
        bool done;
        int code;
        struct pm_error err;
        struct pm_tool_result res;
};

static void
on_done(void *data, int code, struct pm_tool_result *res, const struct pm_error *err)
{
        struct sync_run *sr = data;

        sr->done = true;
        sr->code = code;
        if (err)
                sr->err = *err;
        sr->res.exit_status = res->exit_status;
        sr->res.term_signal = res->term_signal;
        sr->res.timed_out = code == PM_ETIMEOUT;
        sr->res.out = res->out;
        sr->res.err = res->err;
        pm_strbuf_init(&res->out);
        pm_strbuf_init(&res->err);
}

static void
close_walk(uv_handle_t *h, void *arg)
{
        (void)arg;
        if (!uv_is_closing(h))
                uv_close(h, NULL);
}

static int
run_sync(const struct pm_step *step, unsigned timeout_ms, size_t max_output, unsigned flags,
         struct pm_tool_result *ret, struct pm_error *err)
{
        struct sync_run sr;
        char cmd[PM_TOOL_CMD_MAX];
        uv_loop_t loop;
        int r;

        if (!step || !step->argv || !step->argv[0] || !step->argv[0][0])
                return pm_error_set(err, -EINVAL, "internal bug: empty command");
        memset(&sr, 0, sizeof(sr));
        pm_error_init(&sr.err);
        pm_strbuf_init(&sr.res.out);
        pm_strbuf_init(&sr.res.err);
        r = uv_loop_init(&loop);
        if (r < 0)
                return pm_error_set(err, r, "cannot run '%s': %s", step->argv[0], uv_strerror(r));
        /* The one runner the daemon uses too, with the tool left in our process group. */
        r = pm__spawn_start(&loop, step, timeout_ms, max_output, flags, on_done, &sr, NULL, err);
        (void)uv_run(&loop, UV_RUN_DEFAULT);
        uv_walk(&loop, close_walk, NULL);
        (void)uv_run(&loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&loop) < 0 && r == 0 && sr.code == 0) {
                r = pm_error_set(err, -EBUSY, "internal bug: tool loop not drained");
                goto out;
        }
        if (r < 0)
                goto out;
        if (!sr.done) {
                r = pm_error_set(err, -EINVAL, "internal bug: '%s' never ended", step->argv[0]);
                goto out;
        }
        if (sr.code < 0) {
                r = sr.code;
                if (err)
                        *err = sr.err;
                goto out;
        }
        if (step->output_file) {
                struct pm_error ferr;

                pm_error_init(&ferr);
                pm_strbuf_reset(&sr.res.out);
                r = pm_strbuf_read_file(&sr.res.out, step->output_file, max_output, &ferr);
                if (r < 0) {
                        if (err)
                                *err = ferr;
                        pm__tool_command_line(step->argv, cmd, sizeof(cmd));
                        (void)pm_error_prefix(err, "'%s' succeeded but its output is unusable",
                                              cmd);
                        goto out;
                }
        }
        *ret = sr.res;
        pm_strbuf_init(&sr.res.out);
        pm_strbuf_init(&sr.res.err);
        r = 0;
out:
        pm_tool_result_release(&sr.res);
        return r;
}

int
pm_tool_run_sync(const struct pm_step *step, unsigned timeout_ms, size_t max_output,
                 struct pm_tool_result *ret, struct pm_error *err)
{
        return run_sync(step, timeout_ms, max_output, 0, ret, err);
}

int
pm_tool_run_capture(const struct pm_step *step, unsigned timeout_ms, size_t max_output,
                    struct pm_tool_result *ret, struct pm_error *err)
{
        return run_sync(step, timeout_ms, max_output, PM__SPAWN_CAPTURE, ret, err);
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
