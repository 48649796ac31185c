/* SPDX-License-Identifier: MIT */
/* Running one build-tool step to completion on a private libuv loop (the one-shot commands):
 * argv only, a timeout, output caps, and errors that quote what the tool said. */
#include "projmodel/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

/* stderr is only for error messages: keep its tail, at most this much. */
#define TOOL_STDERR_MAX (256 * 1024)
/* After SIGTERM on timeout, how long the tool gets before SIGKILL. */
#define TOOL_KILL_GRACE_MS 2000
/* How much of the tool's own message goes into our one-line error. */
#define TOOL_MSG_MAX 480
/* How much of the command line goes into an error message. */
#define TOOL_CMD_MAX 160

/* One run. Every handle is embedded; the struct lives on run_step()'s stack and the loop is
 * drained and closed before it returns. */
struct run {
        uv_loop_t loop;
        uv_process_t proc;
        uv_pipe_t out_pipe;
        uv_pipe_t err_pipe;
        uv_timer_t timer;
        struct pm_strbuf out;
        struct pm_strbuf err;
        size_t max_output;
        bool exited;      /* exit_cb ran */
        bool timed_out;   /* the timeout fired (SIGTERM sent) */
        bool killed_hard; /* SIGKILL sent */
        bool over_limit;  /* stdout grew past max_output; the tool was killed */
        int io_error;     /* first read or allocation failure, or 0 */
        int64_t exit_status;
        int term_signal;
        int open_pipes; /* pipes still reading */
};

static void on_timer(uv_timer_t *t);

static void
kill_tool(struct run *r, int sig)
{
        /* Only the tool itself: it stays in our process group, so that whoever kills ours
         * (rust-analyzer kills the discover command's group on shutdown) kills it too. An
         * error means it is already gone. */
        if (r->exited)
                return;
        (void)uv_process_kill(&r->proc, sig);
}

static void
maybe_stop_timer(struct run *r)
{
        if (r->exited && r->open_pipes == 0)
                (void)uv_timer_stop(&r->timer);
}

static void
on_tool_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
        struct run *r = proc->data;

        r->exited = true;
        r->exit_status = exit_status;
        r->term_signal = term_signal;
        maybe_stop_timer(r);
        /* Something the tool started may still hold the pipes: give it a moment, then stop
         * reading (on_timer). */
        if (r->open_pipes > 0)
                (void)uv_timer_start(&r->timer, on_timer, TOOL_KILL_GRACE_MS, 0);
}

static void
on_timer(uv_timer_t *t)
{
        struct run *r = t->data;

        if (r->exited) {
                /* The tool is gone but something it spawned holds the pipes open: stop
                 * reading, we have what we need. */
                if (r->open_pipes > 0) {
                        if (!uv_is_closing((uv_handle_t *)&r->out_pipe))
                                (void)uv_read_stop((uv_stream_t *)&r->out_pipe);
                        if (!uv_is_closing((uv_handle_t *)&r->err_pipe))
                                (void)uv_read_stop((uv_stream_t *)&r->err_pipe);
                        r->open_pipes = 0;
                }
                return;
        }
        if (!r->timed_out && !r->over_limit) {
                r->timed_out = true;
                kill_tool(r, SIGTERM);
                (void)uv_timer_start(&r->timer, on_timer, TOOL_KILL_GRACE_MS, 0);
                return;
        }
        r->killed_hard = true;
        kill_tool(r, SIGKILL);
        (void)uv_timer_start(&r->timer, on_timer, TOOL_KILL_GRACE_MS, 0);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        buf->base = pm_malloc(suggested);
        buf->len = buf->base ? suggested : 0;
}

static void
pipe_done(struct run *r, uv_stream_t *s)
{
        (void)uv_read_stop(s);
        if (r->open_pipes > 0)
                r->open_pipes--;
        maybe_stop_timer(r);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
        struct run *r = s->data;
        bool is_out = s == (uv_stream_t *)&r->out_pipe;
        struct pm_strbuf *sb = is_out ? &r->out : &r->err;
        int ret;

        if (n > 0) {
                if (is_out && r->max_output > 0 && sb->len + (size_t)n > r->max_output) {
                        if (!r->over_limit) {
                                r->over_limit = true;
                                kill_tool(r, SIGKILL);
                                r->killed_hard = true;
                        }
                } else {
                        if (!is_out && sb->len + (size_t)n > TOOL_STDERR_MAX)
                                pm_strbuf_consume(sb, sb->len + (size_t)n > TOOL_STDERR_MAX * 2
                                                              ? sb->len
                                                              : sb->len / 2);
                        ret = pm_strbuf_add(sb, buf->base, (size_t)n);
                        if (ret < 0 && !r->io_error) {
                                r->io_error = ret;
                                kill_tool(r, SIGKILL);
                        }
                }
        } else if (n < 0) {
                if (n != UV_EOF && !r->io_error)
                        r->io_error = (int)n;
                pipe_done(r, s);
        } else if (!buf->base && !r->io_error) {
                /* n == 0 with no buffer: our allocator failed. */
                r->io_error = -ENOMEM;
                kill_tool(r, SIGKILL);
                pipe_done(r, s);
        }
        pm_free(buf->base);
}

static void
close_walk(uv_handle_t *h, void *arg)
{
        if (!uv_is_closing(h))
                uv_close(h, NULL);
}

/* "gn gen out --ide=json", shortened, into @buf. */
static void
command_line(const struct pm_step *step, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (char **a = step->argv; *a && len + 1 < size; a++) {
                int n = snprintf(buf + len, size - len, "%s%s", a == step->argv ? "" : " ", *a);

                if (n < 0)
                        break;
                len += (size_t)n;
        }
        if (len >= size && size >= 4)
                memcpy(buf + size - 4, "...", 4);
}

/*
 * The line of @text that best explains a failure: the first that starts with "error" or
 * "ERROR" (GN prints "ERROR at //x/BUILD.gn:3:1: ..." and then context lines), else the last
 * non-empty one. Copied into @buf, whitespace-trimmed; "" when @text has none.
 */
static void
summary_line(const char *text, size_t len, char *buf, size_t size)
{
        const char *best = NULL, *best_end = NULL, *last = NULL, *last_end = NULL;
        const char *p = text, *end = text + len;
        size_t n;

        buf[0] = '\0';
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                const char *s = p, *e = le;

                while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
                        s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                        e--;
                if (e > s) {
                        if (!best && (size_t)(e - s) >= 5 &&
                            (strncasecmp(s, "error", 5) == 0 || strncmp(s, "FATAL", 5) == 0)) {
                                best = s;
                                best_end = e;
                        }
                        last = s;
                        last_end = e;
                }
                p = le + 1;
        }
        if (!best) {
                best = last;
                best_end = last_end;
        }
        if (!best)
                return;
        n = (size_t)(best_end - best);
        if (n >= size) {
                n = size - 1;
                memcpy(buf, best, n);
                buf[n] = '\0';
                if (size >= 4)
                        memcpy(buf + size - 4, "...", 4);
                return;
        }
        memcpy(buf, best, n);
        buf[n] = '\0';
        /* Control characters would break the one-line contract. */
        for (char *c = buf; *c; c++)
                if ((unsigned char)*c < 0x20)
                        *c = ' ';
}

/* Close every handle and the loop. Returns 0 or a negative libuv code. */
static int
loop_teardown(struct run *r)
{
        uv_walk(&r->loop, close_walk, NULL);
        (void)uv_run(&r->loop, UV_RUN_DEFAULT);
        return uv_loop_close(&r->loop);
}

static int
spawn_error(const struct pm_step *step, int code, struct pm_error *err)
{
        const char *tool = step->argv[0];

        if (code == UV_ENOENT)
                return pm_error_set(err, -ENOENT, "cannot run '%s': not found in PATH", tool);
        if (code == UV_EACCES)
                return pm_error_set(err, -EACCES, "cannot run '%s': permission denied", tool);
        return pm_error_set(err, code, "cannot run '%s': %s", tool, uv_strerror(code));
}

int
pm_tool_run_sync(const struct pm_step *step, unsigned timeout_ms, size_t max_output,
                 struct pm_tool_result *ret, struct pm_error *err)
{
        uv_process_options_t opts;
        uv_stdio_container_t stdio[3];
        char cmd[TOOL_CMD_MAX];
        struct run r;
        bool loop_open = false;
        int devnull = -1;
        int ret_code, rc;

        if (!step || !step->argv || !step->argv[0] || !step->argv[0][0])
                return pm_error_set(err, -EINVAL, "internal bug: empty command");
        memset(&r, 0, sizeof(r));
        pm_strbuf_init(&r.out);
        pm_strbuf_init(&r.err);
        r.max_output = max_output;
        command_line(step, cmd, sizeof(cmd));

        rc = uv_loop_init(&r.loop);
        if (rc < 0) {
                ret_code = pm_error_set(err, rc, "cannot run '%s': %s", step->argv[0],
                                        uv_strerror(rc));
                goto out;
        }
        loop_open = true;

        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0) {
                ret_code =
                        pm_error_set(err, -errno, "cannot open '/dev/null': %s", strerror(errno));
                goto out;
        }
        (void)uv_pipe_init(&r.loop, &r.out_pipe, 0);
        (void)uv_pipe_init(&r.loop, &r.err_pipe, 0);
        (void)uv_timer_init(&r.loop, &r.timer);
        r.out_pipe.data = &r;
        r.err_pipe.data = &r;
        r.timer.data = &r;
        r.proc.data = &r;

        stdio[0].flags = UV_INHERIT_FD;
        stdio[0].data.fd = devnull;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&r.out_pipe;
        stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[2].data.stream = (uv_stream_t *)&r.err_pipe;

        memset(&opts, 0, sizeof(opts));
        opts.file = step->argv[0];
        opts.args = step->argv;
        opts.cwd = step->cwd;
        opts.exit_cb = on_tool_exit;
        opts.stdio = stdio;
        opts.stdio_count = 3;
        opts.flags = 0;

        rc = uv_spawn(&r.loop, &r.proc, &opts);
        (void)close(devnull);
        devnull = -1;
        if (rc < 0) {
                ret_code = spawn_error(step, rc, err);
                goto out;
        }
        r.open_pipes = 2;
        rc = uv_read_start((uv_stream_t *)&r.out_pipe, on_alloc, on_read);
        if (rc == 0)
                rc = uv_read_start((uv_stream_t *)&r.err_pipe, on_alloc, on_read);
        if (rc < 0) {
                r.io_error = rc;
                kill_tool(&r, SIGKILL);
                r.open_pipes = 0;
        }
        if (timeout_ms > 0)
                (void)uv_timer_start(&r.timer, on_timer, timeout_ms, 0);
        else
                /* Only to stop reading pipes held by leftover children after the exit. */
                (void)uv_timer_start(&r.timer, on_timer, UINT32_MAX, 0);

        (void)uv_run(&r.loop, UV_RUN_DEFAULT);

        if (r.io_error) {
                ret_code = pm_error_set(err, r.io_error, "cannot read the output of '%s': %s", cmd,
                                        pm_strerror(r.io_error));
                goto out;
        }
        if (r.over_limit) {
                ret_code = pm_error_set(err, PM_ELIMIT,
                                        "'%s' printed more than %zu bytes (max_tool_output)", cmd,
                                        max_output);
                goto out;
        }
        if (r.timed_out) {
                ret_code = pm_error_set(err, PM_ETIMEOUT,
                                        "'%s' did not finish within %u ms (tool_timeout_ms)", cmd,
                                        timeout_ms);
                goto out;
        }
        if (r.term_signal != 0 || !pm_step_exit_ok(step, (int)r.exit_status, r.out.len)) {
                char line[TOOL_MSG_MAX];

                summary_line(r.err.buf ? r.err.buf : "", r.err.len, line, sizeof(line));
                /* Some tools (GN) print their errors on stdout. */
                if (!line[0])
                        summary_line(r.out.buf ? r.out.buf : "", r.out.len, line, sizeof(line));
                if (r.term_signal != 0)
                        ret_code = pm_error_set(err, PM_ETOOL, "'%s' was killed by signal %d%s%s",
                                                cmd, r.term_signal, line[0] ? ": " : "", line);
                else
                        ret_code =
                                pm_error_set(err, PM_ETOOL, "'%s' failed with exit status %d%s%s",
                                             cmd, (int)r.exit_status, line[0] ? ": " : "", line);
                goto out;
        }
        if (step->output_file) {
                struct pm_error ferr;

                pm_error_init(&ferr);
                pm_strbuf_reset(&r.out);
                rc = pm_strbuf_read_file(&r.out, step->output_file, max_output, &ferr);
                if (rc < 0) {
                        ret_code = rc;
                        if (err)
                                *err = ferr;
                        (void)pm_error_prefix(err, "'%s' succeeded but its output is unusable",
                                              cmd);
                        goto out;
                }
        }

        loop_open = false;
        rc = loop_teardown(&r);
        if (rc < 0) {
                ret_code = pm_error_set(err, rc, "internal bug: tool loop not drained");
                goto out;
        }
        ret->exit_status = (int)r.exit_status;
        ret->term_signal = r.term_signal;
        ret->timed_out = false;
        ret->out = r.out;
        ret->err = r.err;
        pm_strbuf_init(&r.out);
        pm_strbuf_init(&r.err);
        ret_code = 0;
out:
        if (devnull >= 0)
                (void)close(devnull);
        if (loop_open)
                (void)loop_teardown(&r);
        pm_strbuf_release(&r.out);
        pm_strbuf_release(&r.err);
        return ret_code;
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
