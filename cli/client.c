/* SPDX-License-Identifier: MIT */
/* The daemon side of the command line: which root and socket a command means, connecting (and
 * starting `projmodel serve` in the background when nothing listens), and discover's request
 * to the daemon. */
#include "projmodel/client.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h" /* pm_argv_push */
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/server.h"

#include "cli-internal.h"

/* How long a client waits for a daemon it started to listen (connect attempts every few ms). */
#define CONNECT_RETRY_NS  (2 * 1000 * 1000) /* 2 ms between attempts */
#define CONNECT_MAX_TRIES 10000             /* about 20 s in all */

int
pm__cli_daemon_target(const char *root_opt, const char *socket_opt, const char *start,
                      char **ret_root, char **ret_socket, struct pm_error *err)
{
        char *root = NULL, *from = NULL, *sock = NULL;
        int r = 0;

        if (root_opt) {
                root = pm__cli_abspath(root_opt);
        } else {
                from = start ? pm__cli_abspath(start) : pm_path_cwd();
                if (!from) {
                        r = pm_error_set(err, -ENOMEM, "cannot find the working directory");
                        goto out;
                }
                r = pm_config_find_root(from, &root, err);
                if (r < 0)
                        goto out;
        }
        if (!root) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (socket_opt)
                sock = pm__cli_abspath(socket_opt);
        else
                r = pm_server_default_socket(root, &sock, err);
        if (r < 0)
                goto out;
        if (!sock) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        *ret_root = pm_steal_ptr(&root);
        *ret_socket = pm_steal_ptr(&sock);
out:
        pm_free(root);
        pm_free(from);
        pm_free(sock);
        return r;
}

/* Start `projmodel serve --root ROOT --socket SOCK` (it daemonizes; its first process exits
 * once the socket listens, or with 1 when another daemon won the lock). stdio is /dev/null so
 * the daemon never holds the caller's pipes (rust-analyzer waits for discover's stdout). */
static int
start_daemon(const char *root, const char *sock, struct pm_error *err)
{
        posix_spawn_file_actions_t fa;
        char *argv[] = { (char *)"projmodel",
                         (char *)"serve",
                         (char *)"--root",
                         (char *)root,
                         (char *)"--socket",
                         (char *)sock,
                         NULL };
        const char *exe = pm__cli_full_exe();
        char *self = NULL, *var = NULL, **env = NULL, *extra[2] = { NULL, NULL };
        bool have_fa = false;
        pid_t pid;
        int r, status;

        if (!exe) {
                r = pm_error_set(err, -ENOENT, "cannot start 'projmodel serve': %s",
                                 "the full projmodel binary is missing");
                goto out;
        }
        /* Without it (out of memory, no /proc) the daemon names the full binary: still runs. */
        self = pm_path_self_exe();
        /* The daemon's PROJMODEL_COMMAND names the command this client was run as (@self, the
         * front `projmodel`, docs/cli.md "Installing"), or is unset: no process of ours keeps
         * the variable (pm_path_command_take()), so the daemon gets it here, explicitly, and its
         * runnables never name the full binary started. */
        var = self ? pm_asprintf("%s=%s", PM_PATH_COMMAND_ENV, self) : NULL;
        extra[0] = var ? var : (char *)PM_PATH_COMMAND_ENV;
        env = self && !var ? NULL : pm_env_merge(extra);
        if (!env || posix_spawn_file_actions_init(&fa) != 0) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        have_fa = true;
        (void)posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        (void)posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        (void)posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        r = posix_spawn(&pid, exe, &fa, NULL, argv, env);
        if (r != 0) {
                r = pm_error_set(err, -r, "cannot start 'projmodel serve': %s", strerror(r));
                goto out;
        }
        while (waitpid(pid, &status, 0) < 0) {
                if (errno != EINTR) {
                        r = pm_error_set(err, -errno, "cannot wait for 'projmodel serve'");
                        goto out;
                }
        }
        /* Exit 1 usually means another client's daemon won the race: connecting decides. */
        r = 0;
out:
        if (have_fa)
                (void)posix_spawn_file_actions_destroy(&fa);
        pm_free(env);
        pm_free(var);
        pm_free(self);
        return r;
}

/*
 * The socket projmodel@.socket listens on for @root (data/systemd/): %t/projmodel/%i.sock, %t
 * being $XDG_RUNTIME_DIR and %i the root escaped by `systemd-escape --path`. *ret_sock is
 * pm_malloc'd, or NULL when there is no such socket to try: XDG_RUNTIME_DIR unset or not
 * absolute (pm_server_default_socket() does not use it then either), a root systemd cannot
 * escape, or a path too long for a socket address, which systemd could not have bound.
 */
static int
unit_socket(const char *root, char **ret_sock, struct pm_error *err)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        struct sockaddr_un sa;
        struct pm_error escape_err;
        char *inst = NULL, *sock = NULL;
        int r = 0;

        *ret_sock = NULL;
        if (!xdg || xdg[0] != '/')
                goto out;
        r = pm_path_systemd_escape(root, &inst, &escape_err);
        if (r < 0) {
                r = r == -ENOMEM ? pm_error_set(err, r, "out of memory") : 0;
                goto out;
        }
        sock = pm_asprintf("%s/projmodel/%s.sock", xdg, inst);
        if (!sock) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (strlen(sock) < sizeof(sa.sun_path))
                *ret_sock = pm_steal_ptr(&sock);
out:
        pm_free(inst);
        pm_free(sock);
        return r;
}

/*
 * Connect to the socket-activated daemon of @root (unit_socket()), when its socket exists and
 * something listens on it; otherwise 0 with *ret left NULL. The socket must be reachable by
 * its owner only, as the daemon demands of the default one (pm_server_socket_dir_check();
 * docs/protocol.md, "Access"): the socket and its directory (lstat: no symlink) belong to us,
 * the directory has no group or other access, and the process listening runs as us
 * (SO_PEERCRED). -EPERM naming the culprit when one of those fails: talking to a daemon
 * another user could have planted there would hand it our requests. Declared in
 * cli/cli-internal.h: serve checks the same socket before starting a daemon.
 */
int
pm__cli_unit_connect(const char *root, struct pm_client **ret, char **ret_sock,
                     struct pm_error *err)
{
        struct pm_client *c = NULL;
        struct pm_error conn_err;
        struct stat st;
        char *sock = NULL, *dir = NULL;
        int r;

        r = unit_socket(root, &sock, err);
        if (r < 0 || !sock)
                goto out;
        if (lstat(sock, &st) < 0) {
                r = errno == ENOENT || errno == ENOTDIR
                            ? 0
                            : pm_error_set(err, -errno, "cannot stat '%s': %s", sock,
                                           strerror(errno));
                goto out;
        }
        if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
                r = pm_error_set(err, -EPERM, "'%s' is not a socket of uid %u", sock,
                                 (unsigned)geteuid());
                goto out;
        }
        dir = pm_path_dirname(NULL, sock);
        if (!dir) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_server_socket_dir_check(dir, false, err);
        if (r < 0)
                goto out;
        r = pm_client_connect(sock, &c, &conn_err);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                r = 0; /* a socket file left behind, no unit listening: as if none */
                goto out;
        }
        if (r == 0)
                r = pm_client_check_peer(c, sock, &conn_err);
        if (r < 0) {
                *err = conn_err;
                goto out;
        }
        *ret = pm_steal_ptr(&c);
        if (ret_sock)
                *ret_sock = pm_steal_ptr(&sock);
out:
        pm_client_free(c);
        pm_free(dir);
        pm_free(sock);
        return r;
}

int
pm__cli_daemon_connect(const char *root, const char *sock, enum pm__cli_connect_flags flags,
                       struct pm_client **ret, struct pm_error *err)
{
        struct timespec pause = { 0, CONNECT_RETRY_NS };
        struct pm_client *unit = NULL;
        int r;

        r = pm_client_connect(sock, ret, err);
        if (r == 0 || (r != -ENOENT && r != -ECONNREFUSED))
                return r;
        /* Nothing on the default socket: a socket-activated daemon, then (docs/protocol.md,
         * "systemd socket activation"). Its error replaces the default socket's. */
        if (flags & PM__CLI_CONNECT_UNIT) {
                int u = pm__cli_unit_connect(root, &unit, NULL, err);

                if (u < 0)
                        return u;
                if (unit) {
                        *ret = unit;
                        return 0;
                }
        }
        if (!(flags & PM__CLI_CONNECT_START))
                return r;
        pm_error_init(err);
        r = start_daemon(root, sock, err);
        if (r < 0)
                return r;
        for (int i = 0; i < CONNECT_MAX_TRIES; i++) {
                pm_error_init(err);
                r = pm_client_connect(sock, ret, err);
                if (r == 0 || (r != -ENOENT && r != -ECONNREFUSED))
                        return r;
                (void)nanosleep(&pause, NULL);
        }
        return pm_error_set(err, PM_ETIMEOUT, "the daemon for '%s' did not start (see '%s')", root,
                            sock);
}

int
pm__cli_daemon_attach(const char *root_opt, const char *socket_opt, char **ret_root,
                      struct pm_client **ret_client, struct pm_error *err)
{
        struct pm_client *client = NULL;
        char *root = NULL, *sock = NULL;
        int r;

        r = pm__cli_daemon_target(root_opt, socket_opt, NULL, &root, &sock, err);
        if (r < 0)
                goto out;
        r = pm__cli_daemon_connect(root, sock, socket_opt ? 0 : PM__CLI_CONNECT_UNIT, &client, err);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                pm_error_init(err);
                r = pm_error_set(err, r, "no daemon serves '%s' (socket '%s')", root, sock);
        }
        if (r < 0)
                goto out;
        if (ret_root)
                *ret_root = pm_steal_ptr(&root);
        *ret_client = pm_steal_ptr(&client);
out:
        pm_client_free(client);
        pm_free(root);
        pm_free(sock);
        return r;
}

struct discover_progress {
        pm__cli_progress_cb cb;
        void *userdata;
        char **warned; /* the "warning: ..." lines printed (pm_argv_push), or NULL */
};

/* One progress line; a warning line is remembered, so that the answer's list does not repeat
 * it. */
static void
progress_line(struct discover_progress *dp, const char *message)
{
        if (!dp->cb)
                return;
        if (strncmp(message, "warning: ", 9) == 0)
                (void)pm_argv_push(&dp->warned, message); /* OOM: it may be printed twice */
        dp->cb(message, dp->userdata);
}

/* $/progress notifications become discover progress lines. */
static void
on_notification(void *userdata, const cJSON *msg)
{
        struct discover_progress *dp = userdata;
        const cJSON *method = cJSON_GetObjectItemCaseSensitive(msg, "method");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(params, "value");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(value, "message");

        if (!cJSON_IsString(method) || strcmp(method->valuestring, "$/progress") != 0)
                return;
        if (cJSON_IsString(m))
                progress_line(dp, m->valuestring);
}

/*
 * The answer's warnings (those of the model it comes from) as "warning: <text>" lines, as the
 * in-process discover prints them, except those the refresh it waited for already printed.
 */
static void
answer_warnings(struct discover_progress *dp, const cJSON *warnings)
{
        const cJSON *w;

        cJSON_ArrayForEach(w, warnings)
        {
                bool seen = false;
                char *line;

                if (!cJSON_IsString(w))
                        continue;
                for (char **p = dp->warned; p && *p && !seen; p++)
                        seen = strcmp(*p + 9, w->valuestring) == 0;
                line = seen ? NULL : pm_malloc(strlen(w->valuestring) + 10);
                if (!line)
                        continue; /* seen, or out of memory: a progress line is not worth failing */
                memcpy(line, "warning: ", 9);
                memcpy(line + 9, w->valuestring, strlen(w->valuestring) + 1);
                progress_line(dp, line);
                pm_free(line);
        }
}

/*
 * The finished line's "buildfile" into *@ret (pm_malloc'd), from its bytes @line of @len: they
 * begin {"kind":"finished","buildfile":"..." (pm_json_discover_finished()'s key order).
 * PM_EPROTO when they do not, -ENOMEM when out of memory: each said as what it is.
 */
static int
line_buildfile(const char *line, size_t len, char **ret, struct pm_error *err)
{
        static const char head[] = "{\"kind\":\"finished\",\"buildfile\":\"";
        const char *s = NULL, *end = NULL;
        const cJSON *v = NULL;
        unsigned long failures;
        cJSON *j = NULL;
        char *bf = NULL;
        int r;

        if (len >= sizeof(head) - 1 && memcmp(line, head, sizeof(head) - 1) == 0) {
                s = line + sizeof(head) - 1;
                end = memchr(s, '"', len - (size_t)(s - line));
        }
        if (!end) {
                r = pm_error_set(err, PM_EPROTO, "daemon reply without a 'buildfile'");
                goto out;
        }
        if (!memchr(s, '\\', (size_t)(end - s))) {
                bf = pm_strndup(s, (size_t)(end - s));
        } else {
                /* An escape in the path (rare): the whole line parsed once, as the slow path
                 * does. cJSON's NULL is bad JSON or out of memory: pm_mem_failures() tells. */
                failures = pm_mem_failures();
                j = cJSON_ParseWithLength(line, len);
                v = cJSON_GetObjectItemCaseSensitive(j, "buildfile");
                if ((!j && pm_mem_failures() == failures) || (j && !cJSON_IsString(v))) {
                        r = pm_error_set(err, PM_EPROTO, "daemon reply without a 'buildfile'");
                        goto out;
                }
                bf = j ? pm_strdup(v->valuestring) : NULL;
        }
        if (!bf) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        *ret = bf;
        r = 0;
out:
        cJSON_Delete(j);
        return r;
}

/*
 * The reply to request @id (its body @body of @len) when it is {"warnings":[],"finished":LINE}
 * exactly as the daemon renders it (server/methods.c, project_reply(); docs/protocol.md): LINE's
 * bytes into *ret_line, as `discover` prints them, without parsing or printing them again (for
 * a 17 KB answer those were most of the client's own instructions: README, "Figures").
 * False for anything else, which the caller parses.
 */
static bool
copy_finished(const char *body, size_t len, int64_t id, char **ret_line)
{
        char head[96];
        int n = snprintf(head, sizeof(head),
                         "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"warnings\":[],"
                         "\"finished\":",
                         (long long)id);

        if (n <= 0 || (size_t)n >= sizeof(head) || len < (size_t)n + 3 ||
            memcmp(body, head, (size_t)n) != 0 || body[n] != '{' || body[len - 2] != '}' ||
            body[len - 1] != '}')
                return false;
        *ret_line = pm_strndup(body + n, len - (size_t)n - 2);
        return true;
}

/*
 * The reply's result parsed (@result, borrowed): its warnings as progress lines, then the
 * finished line, the daemon's ("finished") or, from a daemon older than the "discover" param,
 * made here from "buildfile" and "project" (pm__cli_discover_line()).
 */
static int
parsed_finished(struct discover_progress *dp, cJSON *result, char **ret_line, struct pm_error *err)
{
        cJSON *finished = cJSON_GetObjectItemCaseSensitive(result, "finished");
        cJSON *bf = cJSON_GetObjectItemCaseSensitive(result, "buildfile");
        cJSON *project = cJSON_DetachItemFromObjectCaseSensitive(result, "project");

        answer_warnings(dp, cJSON_GetObjectItemCaseSensitive(result, "warnings"));
        if (cJSON_IsObject(finished)) {
                cJSON_Delete(project);
                *ret_line = cJSON_PrintUnformatted(finished);
        } else if (cJSON_IsString(bf) && cJSON_IsObject(project)) {
                *ret_line = pm__cli_discover_line(bf->valuestring, project);
        } else {
                cJSON_Delete(project);
                return pm_error_set(
                        err, PM_EPROTO,
                        "daemon reply without 'finished', or 'buildfile' and 'project'");
        }
        return *ret_line ? 0 : pm_error_set(err, -ENOMEM, "out of memory");
}

int
pm__cli_discover_via_daemon(const struct pm__cli_discover_req *req, const char *socket_opt,
                            pm__cli_progress_cb progress, void *userdata, char **ret_buildfile,
                            char **ret_line, struct pm_error *err)
{
        struct discover_progress dp = { progress, userdata, NULL };
        struct pm_client *c = NULL;
        char *root = NULL, *sock = NULL, *line = NULL;
        cJSON *params = NULL, *msg = NULL, *result = NULL;
        const char *body;
        size_t len;
        int64_t id;
        int r;

        r = pm__cli_daemon_target(req->root, socket_opt,
                                  req->kind == PM__CLI_DISCOVER_LABEL ? NULL : req->value, &root,
                                  &sock, err);
        if (r < 0)
                goto out;
        r = pm__cli_daemon_connect(root, sock,
                                   PM__CLI_CONNECT_START | (socket_opt ? 0 : PM__CLI_CONNECT_UNIT),
                                   &c, err);
        if (r < 0)
                goto out;
        /* One round trip: "discover": true has the daemon send $/progress while it indexes for
         * us, as "initialize" would, and render the finished line (docs/protocol.md). */
        params = cJSON_CreateObject();
        if (!params ||
            !cJSON_AddStringToObject(params,
                                     req->kind == PM__CLI_DISCOVER_PATH        ? "path"
                                     : req->kind == PM__CLI_DISCOVER_BUILDFILE ? "buildfile"
                                                                               : "label",
                                     req->value) ||
            !cJSON_AddTrueToObject(params, "discover")) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (progress)
                progress("asking the projmodel daemon", userdata);
        r = pm_client_send(c, "projmodel/rustProject", pm_steal_ptr(&params), false, &id, err);
        while (r == 0) {
                r = pm_client_recv_body(c, -1, &body, &len, err);
                if (r < 0)
                        goto out;
                if (copy_finished(body, len, id, &line)) {
                        r = line ? 0 : pm_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                /* A notification ($/progress while a refresh runs), an error, warnings, or
                 * another daemon's rendering: parsed. */
                msg = cJSON_ParseWithLength(body, len);
                if (!msg) {
                        r = pm_error_set(err, PM_EPARSE, "invalid JSON from the daemon");
                        goto out;
                }
                r = pm_client_reply(pm_steal_ptr(&msg), id, on_notification, &dp, &result, err);
                if (r == 1)
                        r = parsed_finished(&dp, result, &line, err);
                else if (r == 0)
                        continue;
                break;
        }
        if (r < 0)
                goto out;
        r = line_buildfile(line, strlen(line), ret_buildfile, err);
        if (r < 0)
                goto out;
        *ret_line = pm_steal_ptr(&line);
out:
        pm_argv_free(dp.warned);
        cJSON_Delete(params);
        cJSON_Delete(result);
        pm_free(line);
        pm_client_free(c);
        pm_free(root);
        pm_free(sock);
        return r;
}
