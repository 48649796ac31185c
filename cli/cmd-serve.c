/* SPDX-License-Identifier: MIT */
/* `projmodel serve`: run the daemon for one root, in the foreground or daemonized (the first
 * process exits once the socket listens, reporting startup errors). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/server.h"
#include "projmodel/strbuf.h"

#include "cli-internal.h"

const char pm__cli_serve_usage[] =
        "serve [--root DIR] [--socket PATH] [--db FILE] [--log FILE] [--seed FILE] [--foreground]";

enum {
        OPT_SOCKET = 256,
        OPT_DB,
        OPT_LOG,
        OPT_SEED,
        OPT_FOREGROUND
};

/* serve's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt serve_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "serve --root ~/src/monorepo" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The daemon's socket; default: derived from the root (docs/protocol.md).",
          "serve --socket /tmp/pm.sock" },
        { "db", required_argument, OPT_DB, "FILE",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "serve --db /tmp/model.db" },
        { "log", required_argument, OPT_LOG, "FILE", "Append the daemon's log to FILE.",
          "serve --log /tmp/projmodel.log" },
        { "seed", required_argument, OPT_SEED, "FILE",
          "Start from the snapshot in FILE (projmodel snapshot) when the model is empty or older.",
          "serve --seed model-snapshot.db" },
        { "foreground", no_argument, OPT_FOREGROUND, NULL,
          "Stay attached to the terminal instead of detaching.",
          "serve --foreground --log /dev/stderr" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "serve --help" },
};

const struct pm__cli_spec pm__cli_serve_spec = PM__CLI_SPEC(
        "serve", pm__cli_serve_usage,
        "Run the daemon for one monorepo: it keeps the model fresh as build files change and answers on a Unix socket.",
        serve_opts_table);

/* Point stdin at /dev/null and stdout/stderr at @log (appending; /dev/null if unusable). */
static void
redirect_stdio(const char *log)
{
        int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int out = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;

        if (out < 0)
                out = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (in >= 0) {
                (void)dup2(in, STDIN_FILENO);
                (void)close(in);
        }
        if (out >= 0) {
                (void)dup2(out, STDOUT_FILENO);
                (void)dup2(out, STDERR_FILENO);
                (void)close(out);
        }
}

/* The daemonizing parent: wait for the child's "ok" or "error: ..." line. */
static int
wait_ready(int fd, pid_t child)
{
        char buf[PM_ERROR_MSG_MAX + 16];
        size_t n = 0;
        ssize_t r;
        int status;

        while (n < sizeof(buf) - 1) {
                r = read(fd, buf + n, sizeof(buf) - 1 - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        buf[n] = '\0';
        (void)close(fd);
        /* The intermediate child exits right after forking the daemon. */
        (void)waitpid(child, &status, 0);
        if (strncmp(buf, "ok", 2) == 0)
                return PM_CLI_EXIT_OK;
        if (n && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        (void)fprintf(stderr, "projmodel serve: %s\n",
                      strncmp(buf, "error: ", 7) == 0 ? buf + 7 : "the daemon failed to start");
        return PM_CLI_EXIT_ERROR;
}

/*
 * Refuse to start when a socket-activated daemon serves @root (pm__cli_unit_connect()). serve
 * without --socket listens on the default socket, which clients try before the unit's
 * (docs/protocol.md, "systemd socket activation"): a second daemon there would take the unit
 * daemon's clients. So this fails as when a daemon holds the default socket's lock (PM_EBUSY,
 * exit 1, which the editors' start takes for "already running", editors/emacs/projmodel.el),
 * naming the unit's socket. A unit socket that is not ours alone (-EPERM) fails serve too,
 * rather than being passed over: a daemon started beside it would hide the problem for good
 * (every later client reaches that daemon first and never looks at the unit's socket) while
 * the user who enabled the unit believes it serves the root, and the clients refuse that socket
 * the same way. --socket serves elsewhere on purpose. Connecting has systemd start the unit's
 * daemon when it is not running yet, as status (which the editors run next) would anyway.
 */
static int
refuse_unit_daemon(const char *root, struct pm_error *err)
{
        struct pm_client *unit = NULL;
        char *sock = NULL;
        int r;

        r = pm__cli_unit_connect(root, &unit, &sock, err);
        if (r == 0 && unit)
                r = pm_error_set(err, PM_EBUSY, "a daemon already serves this root on '%s'", sock);
        pm_client_free(unit);
        pm_free(sock);
        return r;
}

int
pm__cli_cmd_serve(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(serve_opts_table) / sizeof(serve_opts_table[0]) + 1];
        struct pm_server_options opts = { .ready_fd = -1 };
        const char *root_opt = g->root, *socket_opt = NULL, *db = NULL, *log = NULL, *seed = NULL;
        char *root = NULL, *sock = NULL, *log_own = NULL, *db_abs = NULL, *seed_abs = NULL;
        bool foreground = false;
        struct pm_error err;
        int c, pipefd[2], code = PM_CLI_EXIT_ERROR;
        pid_t pid;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_serve_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root_opt = optarg;
                        break;
                case OPT_SOCKET:
                        socket_opt = optarg;
                        break;
                case OPT_DB:
                        db = optarg;
                        break;
                case OPT_LOG:
                        log = optarg;
                        break;
                case OPT_SEED:
                        seed = optarg;
                        break;
                case OPT_FOREGROUND:
                        foreground = true;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_serve_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_serve_spec, argc, argv, NULL);
                }
        }
        if (optind != argc)
                return pm__cli_usage_error("serve", pm__cli_serve_usage, "unexpected argument '%s'",
                                           argv[optind]);
        if (pm__cli_daemon_target(root_opt, socket_opt, NULL, &root, &sock, &err) < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        /* A daemon systemd started (LISTEN_FDS) is the unit's daemon itself. */
        if (!socket_opt && !pm_server_socket_activated() && refuse_unit_daemon(root, &err) < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        if (db && !(db_abs = pm__cli_abspath(db)))
                goto out;
        opts.root = root;
        opts.socket_path = sock;
        if (seed && !(seed_abs = pm__cli_abspath(seed)))
                goto out;
        opts.db_path = db_abs;
        opts.seed = seed_abs;
        if (foreground) {
                if (log)
                        redirect_stdio(log);
                if (pm_server_run(&opts, &err) < 0) {
                        pm__cli_print_error(&err);
                        goto out;
                }
                code = PM_CLI_EXIT_OK;
                goto out;
        }
        if (log) {
                log_own = pm__cli_abspath(log);
        } else {
                log_own = pm_server_default_log(root);
                if (log_own) {
                        char *dir = pm_path_dirname(NULL, log_own);

                        if (dir)
                                (void)pm_mkdir_p(dir, NULL);
                        pm_free(dir);
                }
        }
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                (void)fprintf(stderr, "projmodel serve: pipe: %s\n", strerror(errno));
                goto out;
        }
        (void)fflush(NULL);
        pid = fork();
        if (pid < 0) {
                (void)fprintf(stderr, "projmodel serve: fork: %s\n", strerror(errno));
                (void)close(pipefd[0]);
                (void)close(pipefd[1]);
                goto out;
        }
        if (pid > 0) {
                (void)close(pipefd[1]);
                code = wait_ready(pipefd[0], pid);
                goto out;
        }
        /* Child: a new session (out of the caller's process group, which rust-analyzer kills),
         * then fork again so the daemon is not a session leader and the parent reaps at once. */
        (void)close(pipefd[0]);
        if (setsid() < 0)
                _exit(1);
        pid = fork();
        if (pid < 0)
                _exit(1);
        if (pid > 0)
                _exit(0);
        redirect_stdio(log_own);
        if (chdir("/") < 0)
                _exit(1);
        opts.ready_fd = pipefd[1];
        code = pm_server_run(&opts, &err) < 0 ? PM_CLI_EXIT_ERROR : PM_CLI_EXIT_OK;
        if (code != PM_CLI_EXIT_OK)
                pm__cli_print_error(&err);
out:
        pm_free(root);
        pm_free(sock);
        pm_free(log_own);
        pm_free(db_abs);
        pm_free(seed_abs);
        return code;
}
