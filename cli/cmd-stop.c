/* SPDX-License-Identifier: MIT */
/* `projmodel stop`: ask the root's daemon to exit (shutdown, then exit) and wait until it has
 * exited. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "cli-internal.h"

const char pm__cli_stop_usage[] = "stop [--root DIR] [--socket PATH]";

enum {
        OPT_SOCKET = 256
};

/*
 * How long stop waits for the daemon to exit once it has closed the connection. Its own bounds
 * come first: replies unread for 2 s are dropped, a build tool ignoring SIGTERM is killed 2 s
 * later (server/server-internal.h), but a parse or apply already running is finished, which at
 * 100,000 crates takes seconds (README, "Figures").
 */
#define STOP_EXIT_WAIT_MS 60000

/* stop's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt stop_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "stop --root ~/src/monorepo" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The daemon's socket; default: derived from the root (docs/protocol.md).",
          "stop --socket /tmp/pm.sock" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "stop --help" },
};

const struct pm__cli_spec pm__cli_stop_spec = PM__CLI_SPEC(
        "stop", pm__cli_stop_usage, "Stop the daemon serving the root.", stop_opts_table);

/*
 * A pidfd for the daemon behind @client, opened while it is surely alive (connected), so the wait
 * cannot follow a reused pid: -1 when there is nothing to wait for in this pid namespace. The
 * daemon's own pid (@daemon_pid, from projmodel/status) must be the socket's peer: a socket
 * systemd passed has systemd as its peer, and a daemon in another pid namespace none, and then
 * stop returns when the connection closes, as the daemon has stopped listening by then.
 */
static int
daemon_pidfd(const struct pm_client *client, double daemon_pid)
{
        struct pm_error err;
        pid_t peer = 0;

        pm_error_init(&err);
        if (pm_client_peer_pid(client, &peer, &err) < 0 || peer <= 0 || (double)peer != daemon_pid)
                return -1;
        return pidfd_open(peer, 0);
}

/* Wait until the process of @pidfd has exited (it becomes readable then, zombie or reaped). */
static int
wait_exit(int pidfd, const char *root, double pid, struct pm_error *err)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        int n;

        do
                n = poll(&p, 1, STOP_EXIT_WAIT_MS);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return pm_error_set(err, -errno,
                                    "cannot wait for the daemon of '%s' (pid %.0f): %s", root, pid,
                                    strerror(errno));
        if (n == 0)
                return pm_error_set(err, -ETIMEDOUT,
                                    "the daemon of '%s' (pid %.0f) closed its connections but had "
                                    "not exited %d s later",
                                    root, pid, STOP_EXIT_WAIT_MS / 1000);
        return 0;
}

int
pm__cli_cmd_stop(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(stop_opts_table) / sizeof(stop_opts_table[0]) + 1];
        const char *root_opt = g->root, *socket_opt = NULL;
        struct pm_client *client = NULL;
        char *root = NULL;
        cJSON *result = NULL, *msg = NULL;
        struct pm_error err;
        double pid = 0;
        int c, r, code = PM_CLI_EXIT_ERROR, pidfd = -1;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_stop_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root_opt = optarg;
                        break;
                case OPT_SOCKET:
                        socket_opt = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_stop_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_stop_spec, argc, argv, NULL);
                }
        }
        if (optind != argc)
                return pm__cli_usage_error("stop", pm__cli_stop_usage, "unexpected argument '%s'",
                                           argv[optind]);
        r = pm__cli_daemon_attach(root_opt, socket_opt, &root, &client, &err);
        if (r < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        r = pm_client_call(client, "projmodel/status", NULL, 30000, NULL, NULL, &result, &err);
        if (r == 0) {
                const cJSON *p = cJSON_GetObjectItemCaseSensitive(result, "pid");

                pid = cJSON_IsNumber(p) ? p->valuedouble : 0;
                pidfd = daemon_pidfd(client, pid);
                cJSON_Delete(result);
                result = NULL;
                r = pm_client_call(client, "shutdown", NULL, 30000, NULL, NULL, &result, &err);
        }
        if (r == 0)
                r = pm_client_send(client, "exit", NULL, true, NULL, &err);
        /* Wait for the daemon to close our connection, then for it to exit: a script that starts
         * the next daemon, or removes the cache, right after stop must not meet this one. */
        while (r == 0) {
                r = pm_client_recv(client, 30000, &msg, &err);
                cJSON_Delete(msg);
                msg = NULL;
        }
        if (r != -ECONNRESET) {
                pm__cli_print_error(&err);
                goto out;
        }
        if (pidfd >= 0 && wait_exit(pidfd, root, pid, &err) < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        (void)printf("stopped the daemon of '%s' (pid %.0f)\n", root, pid);
        code = PM_CLI_EXIT_OK;
out:
        if (pidfd >= 0)
                (void)close(pidfd);
        cJSON_Delete(result);
        pm_client_free(client);
        pm_free(root);
        return code;
}
