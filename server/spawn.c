/* SPDX-License-Identifier: MIT */
/* The one build-tool step runner: one pm_step under uv_spawn on a caller's loop (the daemon's,
 * or a one-shot command's private one), with the one timeout and kill policy, output caps and
 * error-line rule every caller shares. It never blocks the loop and never reads output files
 * (the caller does, off the loop or after it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        uv_timer_t timer;    /* the timeout, then the kill grace, then the pipe grace */
        int n_open;          /* handles still to close */
        bool own_group;      /* the tool leads its own process group (PM__SPAWN_OWN_GROUP) */
        bool exited;         /* exit callback ran */
        bool out_eof;        /* stdout pipe done */
        bool err_eof;        /* stderr pipe done */
        bool done;           /* user callback called */
        bool timed_out;      /* the timeout fired */
        bool over_limit;     /* stdout went over max_output */
        bool cancelled;      /* pm__spawn_kill() */
        bool term_sent;      /* SIGTERM sent: SIGKILL follows after the grace */
        bool keep_out;       /* stdout is the step's output (no output_file) */
        bool capture;        /* the step is any_exit */
        int io_error;        /* stdout could not be kept (out of memory), or 0 */
        struct pm_step rule; /* the step's exit-code rule only (argv and cwd not kept) */
        size_t max_output;   /* cap on r.out */
        unsigned timeout_ms;
        struct pm_tool_result r;
        pm__spawn_cb cb;
        void *data;
        char cmd[PM_TOOL_CMD_MAX]; /* the command line, shortened, for messages */
        char scratch[4096];        /* reads that no buffer could take */
};

static void
on_close(uv_handle_t *h)
{
        struct pm__spawn *s = h->data;

        if (--s->n_open > 0)
                return;
        pm_tool_result_release(&s->r);
        pm_free(s);
}

static void
send_signal(struct pm__spawn *s, int sig)
{
        if (s->exited)
                return;
        /* With its own group, the build tool's children go too; otherwise the tool stays in
         * the caller's group (so whoever kills that group kills it) and only it is signalled.
         * An error means it is already gone. */
        if (s->own_group)
                (void)uv_kill(-s->proc.pid, sig);
        (void)uv_process_kill(&s->proc, sig);
}

static void on_timer(uv_timer_t *t);

/*
 * The kill policy, for every reason a step is stopped (timeout, output cap, cancellation, a
 * read failure): SIGTERM, then SIGKILL if it is still running PM_TOOL_KILL_GRACE_MS later.
 */
static void
stop_tool(struct pm__spawn *s)
{
        if (s->exited || s->term_sent)
                return;
        s->term_sent = true;
        send_signal(s, SIGTERM);
        (void)uv_timer_start(&s->timer, on_timer, PM_TOOL_KILL_GRACE_MS, 0);
}

void
pm__tool_command_line(char *const *argv, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = '\0';
        for (char *const *a = argv; *a && len + 1 < size; a++) {
                int n = snprintf(buf + len, size - len, "%s%s", a == argv ? "" : " ", *a);

                if (n < 0)
                        break;
                len += (size_t)n;
        }
        /* Cut before a whole character: the line ends up in JSON, whose text must be UTF-8. */
        if (len >= size && size >= 4)
                memcpy(buf + pm_utf8_prefix_len(buf, size - 1, size - 4), "...", 4);
}

char *
pm__tool_which(const char *tool, const char *cwd)
{
        const char *path = getenv("PATH"), *p, *end;
        struct stat st;
        char *cand;

        if (!tool || !*tool)
                return NULL;
        if (strchr(tool, '/'))
                return pm_path_normalize(NULL, cwd, tool);
        /* execvp's search path when PATH is unset (glibc: confstr _CS_PATH). */
        if (!path)
                path = "/bin:/usr/bin";
        for (p = path;; p = end + 1) {
                end = strchr(p, ':');
                if (!end)
                        end = p + strlen(p);
                {
                        /* An empty entry is the current directory. */
                        char *dir = end > p ? pm_strndup(p, (size_t)(end - p)) : pm_strdup(".");

                        cand = dir ? pm_path_join(NULL, dir, tool) : NULL;
                        pm_free(dir);
                }
                if (cand && !pm_path_is_absolute(cand)) {
                        char *abs = pm_path_normalize(NULL, cwd, cand);

                        pm_free(cand);
                        cand = abs;
                }
                if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
                        return cand;
                pm_free(cand);
                if (!*end)
                        return NULL;
        }
}

char *
pm__step_error(const struct pm_step *step, int code, const struct pm_tool_result *res,
               const struct pm_error *err)
{
        char cmd[PM_TOOL_CMD_MAX], line[PM_TOOL_MSG_MAX];

        if (code < 0)
                return pm_strdup(err && err->msg[0] ? err->msg : "failed");
        if (!res || res->exit_status == 0)
                return NULL;
        pm__tool_command_line(step->argv, cmd, sizeof(cmd));
        pm_tool_error_line(res->err.buf, res->err.len, line, sizeof(line));
        return pm_asprintf("'%s' exited with status %d%s%s", cmd, res->exit_status,
                           line[0] ? ": " : "", line);
}

void
pm__step_error_line(const struct pm_tool_result *r, char *buf, size_t size)
{
        char out_line[PM_TOOL_MSG_MAX];

        /*
         * Most tools report on stderr; GN reports build file errors on stdout, and ninja prints
         * the failing command's own errors (rustc's "error[E0425]: ...") on stdout and only
         * "ninja: build stopped: subcommand failed." on stderr: an error-marked stdout line
         * explains more than an unmarked stderr one.
         */
        if (!pm_tool_error_line(r->err.buf, r->err.len, buf, size) &&
            (pm_tool_error_line(r->out.buf, r->out.len, out_line, sizeof(out_line)) || !buf[0]))
                (void)snprintf(buf, size, "%s", out_line);
}

int
pm__step_failed(const char *cmd, const struct pm_tool_result *r, struct pm_error *err)
{
        char line[PM_TOOL_MSG_MAX];

        pm__step_error_line(r, line, sizeof(line));
        if (r->term_signal)
                return pm_error_set(err, PM_ETOOL, "'%s' was killed by signal %d%s%s", cmd,
                                    r->term_signal, line[0] ? ": " : "", line);
        return pm_error_set(err, PM_ETOOL, "'%s' failed with exit status %d%s%s", cmd,
                            r->exit_status, line[0] ? ": " : "", line);
}

static void
maybe_finish(struct pm__spawn *s)
{
        struct pm_error err;
        int code = 0;

        if (s->done || !s->exited || !s->out_eof || !s->err_eof)
                return;
        s->done = true;
        pm_error_init(&err);
        (void)uv_timer_stop(&s->timer);
        if (s->cancelled) {
                code = pm_error_set(&err, -ECANCELED, "'%s' cancelled", s->cmd);
        } else if (s->io_error) {
                code = pm_error_set(&err, s->io_error, "cannot read the output of '%s': %s", s->cmd,
                                    pm_strerror(s->io_error));
        } else if (s->over_limit) {
                code = pm_error_set(&err, PM_ELIMIT,
                                    "'%s' printed more than %zu bytes (max_tool_output)", s->cmd,
                                    s->max_output);
        } else if (s->timed_out) {
                code = pm_error_set(&err, PM_ETIMEOUT,
                                    "'%s' did not finish within %u ms (tool_timeout_ms)", s->cmd,
                                    s->timeout_ms);
        } else if (s->capture) {
                /* The exit status is the caller's to read. */
        } else if (s->r.term_signal != 0 ||
                   !pm_step_exit_ok(&s->rule, s->r.exit_status, s->r.out.len)) {
                code = pm__step_failed(s->cmd, &s->r, &err);
        }
        s->cb(s->data, code, &s->r, &err);
        uv_close((uv_handle_t *)&s->proc, on_close);
        uv_close((uv_handle_t *)&s->out, on_close);
        uv_close((uv_handle_t *)&s->err, on_close);
        uv_close((uv_handle_t *)&s->timer, on_close);
}

static void
stop_reading(struct pm__spawn *s)
{
        if (!s->out_eof)
                (void)uv_read_stop((uv_stream_t *)&s->out);
        if (!s->err_eof)
                (void)uv_read_stop((uv_stream_t *)&s->err);
        s->out_eof = s->err_eof = true;
}

static void
on_timer(uv_timer_t *t)
{
        struct pm__spawn *s = t->data;

        if (s->exited) {
                /* The tool is gone but something it started holds the pipes open: stop
                 * reading, what it printed is here. */
                stop_reading(s);
                maybe_finish(s);
                return;
        }
        if (!s->term_sent) {
                s->timed_out = true;
                stop_tool(s);
                return;
        }
        send_signal(s, SIGKILL);
}

static void
on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
        struct pm__spawn *s = p->data;

        s->exited = true;
        s->r.exit_status = term_signal ? -1 : (int)exit_status;
        s->r.term_signal = term_signal;
        if (!s->out_eof || !s->err_eof)
                (void)uv_timer_start(&s->timer, on_timer, PM_TOOL_KILL_GRACE_MS, 0);
        maybe_finish(s);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
        struct pm__spawn *s = h->data;
        struct pm_strbuf *sb = (uv_pipe_t *)h == &s->out ? &s->r.out : &s->r.err;

        (void)suggested;
        /* Grow the capture buffer directly; on OOM read into scratch and drop the bytes. */
        if (pm_strbuf_grow(sb, 64 * 1024) == 0) {
                buf->base = sb->buf + sb->len;
                buf->len = sb->alloc - sb->len - 1;
        } else {
                buf->base = s->scratch;
                buf->len = sizeof(s->scratch);
        }
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
        struct pm__spawn *s = stream->data;
        bool is_out = (uv_pipe_t *)stream == &s->out;
        struct pm_strbuf *sb = is_out ? &s->r.out : &s->r.err;
        size_t cap = (is_out && s->keep_out) || s->capture ? s->max_output : PM_TOOL_MAX_STDERR;

        if (nread < 0) {
                (void)uv_read_stop(stream);
                if (is_out)
                        s->out_eof = true;
                else
                        s->err_eof = true;
                maybe_finish(s);
                return;
        }
        if (nread == 0)
                return;
        if (!sb->buf || buf->base != sb->buf + sb->len) {
                /* Dropped for lack of memory: only the step's output must be whole. */
                if (is_out && s->keep_out && !s->io_error) {
                        s->io_error = -ENOMEM;
                        stop_tool(s);
                }
                return;
        }
        if (s->over_limit || s->io_error)
                return;
        sb->len += (size_t)nread;
        sb->buf[sb->len] = '\0';
        if (sb->len > cap) {
                if (is_out && s->keep_out) {
                        s->over_limit = true;
                        stop_tool(s);
                }
                /* Keep the head of diagnostics: the first error is the useful one. */
                sb->len = cap;
                sb->buf[sb->len] = '\0';
        }
}

void
pm__spawn_kill(struct pm__spawn *s)
{
        if (!s || s->done)
                return;
        s->cancelled = true;
        stop_tool(s);
}

void
pm__spawn_signal(struct pm__spawn *s, int sig)
{
        if (s && !s->done)
                send_signal(s, sig);
}

int
pm__spawn_start(struct uv_loop_s *loop, const struct pm_step *step, unsigned timeout_ms,
                size_t max_output, unsigned flags, pm__spawn_cb cb, void *data,
                struct pm__spawn **ret, struct pm_error *err)
{
        uv_process_options_t opts;
        uv_stdio_container_t stdio[3];
        struct pm__spawn *s = NULL;
        char **env = NULL;
        const char *tool;
        int r;

        if (!step || !step->argv || !step->argv[0] || !step->argv[0][0])
                return pm_error_set(err, -EINVAL, "internal bug: empty command");
        tool = step->argv[0];
        if (step->env && !(env = pm_env_merge(step->env)))
                return pm_error_set(err, -ENOMEM, "out of memory");
        s = pm_calloc(1, sizeof(*s));
        if (!s) {
                pm_free(env);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        pm__tool_command_line(step->argv, s->cmd, sizeof(s->cmd));
        pm_strbuf_init(&s->r.out);
        pm_strbuf_init(&s->r.err);
        s->own_group = (flags & PM__SPAWN_OWN_GROUP) != 0;
        s->keep_out = step->output_file == NULL;
        s->capture = step->any_exit;
        /* Only what pm_step_exit_ok() reads: the plan may be released before we are freed. */
        memcpy(s->rule.ok_exit_codes, step->ok_exit_codes, sizeof(s->rule.ok_exit_codes));
        s->rule.output_file = step->output_file ? s->cmd : NULL;
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
        opts.file = tool;
        opts.args = step->argv;
        opts.cwd = step->cwd;
        opts.flags = s->own_group ? UV_PROCESS_DETACHED : 0;
        opts.stdio = stdio;
        opts.stdio_count = 3;
        opts.exit_cb = on_exit_cb;
        opts.env = env;
        r = uv_spawn(loop, &s->proc, &opts);
        pm_free(env); /* the child has its copy once uv_spawn returned */
        s->n_open = 4;
        if (r < 0) {
                /* uv_spawn failed: the process handle must still be closed. */
                s->done = true;
                uv_close((uv_handle_t *)&s->proc, on_close);
                uv_close((uv_handle_t *)&s->out, on_close);
                uv_close((uv_handle_t *)&s->err, on_close);
                uv_close((uv_handle_t *)&s->timer, on_close);
                if (r == UV_ENOENT)
                        return pm_error_set(err, -ENOENT, "cannot run '%s': not found in PATH",
                                            tool);
                if (r == UV_EACCES)
                        return pm_error_set(err, -EACCES, "cannot run '%s': permission denied",
                                            tool);
                return pm_error_set(err, r, "cannot run '%s': %s", tool, uv_strerror(r));
        }
        r = uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
        if (r == 0)
                r = uv_read_start((uv_stream_t *)&s->err, on_alloc, on_read);
        if (r < 0) {
                s->io_error = r;
                stop_reading(s);
                stop_tool(s);
        } else if (timeout_ms) {
                (void)uv_timer_start(&s->timer, on_timer, timeout_ms, 0);
        }
        if (ret)
                *ret = s;
        return 0;
}
