/* SPDX-License-Identifier: MIT */
/* The daemon's asynchronous tool runner: one pm_step under uv_spawn on the daemon's loop, with a
 * timeout and output caps. It never blocks the loop and never reads output files (the refresh
 * worker does that on the thread pool). */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/*
 * One running step. Invariant: freed only from the last close callback (n_open reaches 0), and
 * the user callback fires exactly once, before any handle is closed.
 */
struct pm__spawn {
        uv_process_t proc;
        uv_pipe_t out;
        uv_pipe_t err;
        uv_timer_t timer;
        int n_open;          /* handles still to close */
        bool exited;         /* exit callback ran */
        bool out_eof;        /* stdout pipe done */
        bool err_eof;        /* stderr pipe done */
        bool done;           /* user callback called */
        bool timed_out;      /* the timer fired */
        bool over_limit;     /* stdout went over max_output */
        bool cancelled;      /* pm__spawn_kill() */
        bool keep_out;       /* stdout is the step's output (no output_file) */
        struct pm_step rule; /* the step's exit-code rule only (argv and cwd not kept) */
        size_t max_output;   /* cap on r.out */
        unsigned timeout_ms;
        struct pm_tool_result r;
        pm__spawn_cb cb;
        void *data;
        char *tool; /* argv[0], for messages */
};

static void
on_close(uv_handle_t *h)
{
        struct pm__spawn *s = h->data;

        if (--s->n_open > 0)
                return;
        pm_tool_result_release(&s->r);
        pm_free(s->tool);
        pm_free(s);
}

static void
kill_group(struct pm__spawn *s)
{
        if (s->exited)
                return;
        /* The step runs in its own session (UV_PROCESS_DETACHED), so its pid is its process
         * group: kill the build tool's children too. */
        (void)uv_kill(-s->proc.pid, SIGKILL);
        (void)uv_process_kill(&s->proc, SIGKILL);
}

/* The first non-empty line of @sb (bounded), for messages. */
static void
first_line(const struct pm_strbuf *sb, const char **ret, int *ret_len)
{
        const char *p = sb->buf, *end = sb->buf + sb->len, *nl;

        *ret = "";
        *ret_len = 0;
        if (!p)
                return;
        while (p < end) {
                nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        nl = end;
                if (nl > p && !(nl == p + 1 && *p == '\r')) {
                        *ret = p;
                        *ret_len = (int)((nl - p) > 400 ? 400 : (nl - p));
                        return;
                }
                p = nl + 1;
        }
}

static void
maybe_finish(struct pm__spawn *s)
{
        struct pm_error err;
        const char *line;
        int code = 0, n;

        if (s->done || !s->exited || !s->out_eof || !s->err_eof)
                return;
        s->done = true;
        pm_error_init(&err);
        (void)uv_timer_stop(&s->timer);
        if (s->cancelled) {
                code = pm_error_set(&err, -ECANCELED, "'%s' cancelled", s->tool);
        } else if (s->timed_out) {
                code = pm_error_set(&err, PM_ETIMEOUT, "'%s' timed out after %u ms, killed",
                                    s->tool, s->timeout_ms);
        } else if (s->over_limit) {
                code = pm_error_set(&err, PM_ELIMIT, "'%s' printed more than %zu bytes, killed",
                                    s->tool, s->max_output);
        } else if (s->r.term_signal != 0 ||
                   !pm_step_exit_ok(&s->rule, s->r.exit_status, s->r.out.len)) {
                /* GN reports build file errors on stdout, most tools on stderr. */
                first_line(&s->r.err, &line, &n);
                if (n == 0)
                        first_line(&s->r.out, &line, &n);
                if (s->r.term_signal)
                        code = pm_error_set(&err, PM_ETOOL, "'%s' killed by signal %d%s%.*s",
                                            s->tool, s->r.term_signal, n ? ": " : "", n, line);
                else
                        code = pm_error_set(&err, PM_ETOOL, "'%s' exited with status %d%s%.*s",
                                            s->tool, s->r.exit_status, n ? ": " : "", n, line);
        }
        s->cb(s->data, code, &s->r, &err);
        uv_close((uv_handle_t *)&s->proc, on_close);
        uv_close((uv_handle_t *)&s->out, on_close);
        uv_close((uv_handle_t *)&s->err, on_close);
        uv_close((uv_handle_t *)&s->timer, on_close);
}

static void
on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
        struct pm__spawn *s = p->data;

        s->exited = true;
        s->r.exit_status = term_signal ? -1 : (int)exit_status;
        s->r.term_signal = term_signal;
        maybe_finish(s);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        static char scratch[64 * 1024];
        struct pm__spawn *s = h->data;
        struct pm_strbuf *sb = (uv_pipe_t *)h == &s->out ? &s->r.out : &s->r.err;

        /* Grow the capture buffer directly; on OOM read into scratch and drop the bytes (the
         * caps make that a "too much output" case). */
        if (pm_strbuf_grow(sb, 64 * 1024) == 0) {
                buf->base = sb->buf + sb->len;
                buf->len = sb->alloc - sb->len - 1;
        } else {
                buf->base = scratch;
                buf->len = sizeof(scratch);
        }
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
        struct pm__spawn *s = stream->data;
        bool is_out = (uv_pipe_t *)stream == &s->out;
        struct pm_strbuf *sb = is_out ? &s->r.out : &s->r.err;
        size_t cap = is_out && s->keep_out ? s->max_output : PM_TOOL_MAX_STDERR;

        if (nread < 0) {
                (void)uv_read_stop(stream);
                if (is_out)
                        s->out_eof = true;
                else
                        s->err_eof = true;
                maybe_finish(s);
                return;
        }
        if (nread == 0 || !sb->buf || buf->base != sb->buf + sb->len)
                return;
        sb->len += (size_t)nread;
        sb->buf[sb->len] = '\0';
        if (sb->len > cap) {
                if (is_out && s->keep_out) {
                        s->over_limit = true;
                        kill_group(s);
                }
                /* Keep the head of diagnostics: the first error is the useful one. */
                sb->len = cap;
                sb->buf[sb->len] = '\0';
        }
}

static void
on_timeout(uv_timer_t *t)
{
        struct pm__spawn *s = t->data;

        s->timed_out = true;
        kill_group(s);
}

void
pm__spawn_kill(struct pm__spawn *s)
{
        if (!s || s->done)
                return;
        s->cancelled = true;
        kill_group(s);
}

int
pm__spawn_start(struct uv_loop_s *loop, const struct pm_step *step, unsigned timeout_ms,
                size_t max_output, pm__spawn_cb cb, void *data, struct pm__spawn **ret,
                struct pm_error *err)
{
        uv_process_options_t opts;
        uv_stdio_container_t stdio[3];
        struct pm__spawn *s = NULL;
        int r;

        if (!step->argv || !step->argv[0])
                return pm_error_set(err, -EINVAL, "internal bug: empty argv");
        s = pm_calloc(1, sizeof(*s));
        if (!s)
                return pm_error_set(err, -ENOMEM, "out of memory");
        s->tool = pm_strdup(pm_path_basename(step->argv[0]));
        if (!s->tool) {
                pm_free(s);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        pm_strbuf_init(&s->r.out);
        pm_strbuf_init(&s->r.err);
        s->keep_out = step->output_file == NULL;
        /* Only what pm_step_exit_ok() reads: the plan may be released before we are freed. */
        memcpy(s->rule.ok_exit_codes, step->ok_exit_codes, sizeof(s->rule.ok_exit_codes));
        s->rule.output_file = step->output_file ? s->tool : NULL;
        s->max_output = max_output ? max_output : (size_t)1 << 30;
        s->timeout_ms = timeout_ms;
        s->cb = cb;
        s->data = data;
        s->proc.data = s->out.data = s->err.data = s->timer.data = s;

        (void)uv_pipe_init(loop, &s->out, 0);
        (void)uv_pipe_init(loop, &s->err, 0);
        (void)uv_timer_init(loop, &s->timer);
        memset(&opts, 0, sizeof(opts));
        memset(stdio, 0, sizeof(stdio));
        stdio[0].flags = UV_IGNORE;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&s->out;
        stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[2].data.stream = (uv_stream_t *)&s->err;
        opts.file = step->argv[0];
        opts.args = step->argv;
        opts.cwd = step->cwd;
        opts.flags = UV_PROCESS_DETACHED;
        opts.stdio = stdio;
        opts.stdio_count = 3;
        opts.exit_cb = on_exit_cb;
        r = uv_spawn(loop, &s->proc, &opts);
        if (r < 0) {
                /* uv_spawn failed: the process handle must still be closed. */
                s->n_open = 4;
                s->done = true;
                uv_close((uv_handle_t *)&s->proc, on_close);
                uv_close((uv_handle_t *)&s->out, on_close);
                uv_close((uv_handle_t *)&s->err, on_close);
                uv_close((uv_handle_t *)&s->timer, on_close);
                if (r == UV_ENOENT)
                        return pm_error_set(err, -ENOENT, "cannot run '%s': not found in PATH",
                                            step->argv[0]);
                return pm_error_set(err, r, "cannot run '%s': %s", step->argv[0], uv_strerror(r));
        }
        s->n_open = 4;
        (void)uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
        (void)uv_read_start((uv_stream_t *)&s->err, on_alloc, on_read);
        if (timeout_ms)
                (void)uv_timer_start(&s->timer, on_timeout, timeout_ms, 0);
        if (ret)
                *ret = s;
        return 0;
}
