/* SPDX-License-Identifier: MIT */
/* The daemon: one long-running process per monorepo root serving JSON-RPC (LSP framing) on a
 * Unix socket, keeping the model fresh as the tree changes. Owned by server/. */
#ifndef PROJMODEL_SERVER_H
#define PROJMODEL_SERVER_H

#include <stdbool.h>

struct pm_error;

/* Options of one daemon run. Every string is borrowed for the duration of pm_server_run(). */
struct pm_server_options {
        const char *root;        /* monorepo root (absolute), or NULL: found from the cwd */
        const char *socket_path; /* or NULL: pm_server_default_socket() */
        const char *db_path;     /* or NULL: pm_config_db_path() */
        const char *seed;        /* a snapshot to start from (projmodel snapshot), or NULL: the
                                  * configuration's "seed" */
        int ready_fd;            /* when >= 0: "ok\n" or "error: <message>\n" is written here
                                  * once the socket listens (or startup failed), then it is
                                  * closed; the daemonizing parent waits on it */
};

/*
 * Run the daemon until it is told to stop (`exit` after `shutdown`, SIGTERM or SIGINT).
 * Startup failures return an error before serving: PM_EBUSY when another daemon holds the root's
 * lock (the message names the socket), PM_ENOROOT/PM_ECONFIG for the configuration, -errno for
 * the socket directory (wrong owner or mode is -EPERM). Returns 0 after a clean stop.
 * Logs go to stderr (the daemonizing caller points it at a log file).
 */
int pm_server_run(const struct pm_server_options *opts, struct pm_error *err);

/*
 * The default socket for @root: $XDG_RUNTIME_DIR/projmodel/<basename>-<hash>.sock, or
 * /tmp/projmodel-<uid>/<basename>-<hash>.sock without XDG_RUNTIME_DIR. *ret is pm_malloc'd.
 * PM_ELIMIT when the path does not fit a Unix socket address.
 */
int pm_server_default_socket(const char *root, char **ret, struct pm_error *err);

/*
 * Check that @dir, a socket's directory, is a real directory (lstat: no symlink) of this user
 * with no group or other access. With @tighten (the daemon, which owns it), a directory of ours
 * that is too open is chmod'ed to 0700; -ENOTDIR or -EPERM naming what is wrong otherwise.
 * Without @tighten (a client, which must not change it), -EPERM naming its uid and mode when
 * any check fails. Both: -errno when it cannot be stat'ed.
 */
int pm_server_socket_dir_check(const char *dir, bool tighten, struct pm_error *err);

/*
 * Create the directory holding @socket_path (mode 0700) when missing, and check it belongs to
 * this user and is not accessible by others (pm_server_socket_dir_check() with tighten).
 */
int pm_server_socket_dir_ensure(const char *socket_path, struct pm_error *err);

/*
 * Whether this process was passed a listening socket by systemd (socket activation: LISTEN_PID
 * is our pid and LISTEN_FDS is at least 1, docs/protocol.md), which pm_server_run() then serves
 * instead of binding one. Reads the environment only; pm_server_run() clears it.
 */
bool pm_server_socket_activated(void);

/* The log file a daemonized server writes: <cache dir>/<basename>-<hash>.log, pm_malloc'd. */
char *pm_server_default_log(const char *root);

#endif
