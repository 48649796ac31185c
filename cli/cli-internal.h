/* SPDX-License-Identifier: MIT */
/* Shared between the projmodel command's files: the command table entry type, the global
 * options, and the helpers every subcommand uses (configuration, model, errors). */
#ifndef PROJMODEL_CLI_INTERNAL_H
#define PROJMODEL_CLI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct pm_config;
struct pm_error;
struct pm_graph;
struct pm_index;
struct pm_progress;
struct option;
struct pm__cli_discover_req;

/* Exit codes of every command (docs/cli.md). */
#define PM_CLI_EXIT_OK    0
#define PM_CLI_EXIT_ERROR 1 /* the request failed: bad input, tool failure, no such crate... */
#define PM_CLI_EXIT_USAGE 2 /* the command line itself is wrong */

/* Set by the front binary beside the GLIBC_TUNABLES it set for the full one (front.c), which
 * takes both out of its environment at once (main.c): the tools it runs never see them. */
#define PM_CLI_TUNABLES_ENV "PROJMODEL_TUNABLES"

/* Options given before the command name (`projmodel --root DIR export`). Borrowed from argv. */
struct pm__cli_globals {
        const char *root; /* --root DIR, or NULL: found from the working directory */
        /* discover's answer in this process (--db, --no-refresh, PROJMODEL_NO_DAEMON):
         * pm__cli_discover_resolve() in the full binary (main.c); NULL in the front binary
         * (front.c), which hands those command lines to the full one instead. */
        int (*discover_local)(const struct pm__cli_discover_req *req,
                              void (*progress)(const char *message, void *userdata), void *userdata,
                              char **ret_buildfile, struct cJSON **ret_project,
                              struct pm_error *err);
};

/*
 * The binary that runs every command, `projmodel serve` included: /proc/self/exe in the full
 * binary (main.c); in the front binary, the full one it hands command lines to (front.c; NULL
 * when it is not found). Borrowed, static.
 */
const char *pm__cli_full_exe(void);

/*
 * One row of main.c's command table. Adding a command: write cli/cmd-<name>.c with a
 * pm__cli_cmd_<name>() declared below, add the row in main.c, the file in cli/meson.build, a
 * test in tests/cli/ and its section in docs/cli.md.
 */
struct pm__cli_command {
        const char *name;
        /* Runs the command. argv[0] is the command name; getopt state is fresh (optind = 0).
         * Returns the process exit code (PM_CLI_EXIT_*). */
        int (*fn)(const struct pm__cli_globals *g, int argc, char **argv);
        const char *usage; /* "export [--output FILE] ...", one or more lines, no "projmodel" */
        const struct pm__cli_spec *spec; /* its options, for the man page and completions */
};

int pm__cli_cmd_export(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_dump(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_audit(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_discover(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_snapshot(const struct pm__cli_globals *g, int argc, char **argv);

/* The usage lines of each command, shared by main.c's table and the commands' --help. */
extern const char pm__cli_export_usage[];
extern const char pm__cli_dump_usage[];
extern const char pm__cli_audit_usage[];
extern const char pm__cli_discover_usage[];
extern const char pm__cli_snapshot_usage[];

/*
 * One option of a command: the single source of its getopt_long entry, its --help text and
 * (later) its man page entry. A command keeps a table of these in a struct pm__cli_spec and
 * builds its getopt_long array from it with pm__cli_longopts(), so options and help cannot
 * drift apart (docs/cli.md).
 */
struct pm__cli_opt {
        const char *name;    /* long name without "--" */
        int has_arg;         /* no_argument or required_argument */
        int val;             /* what getopt_long returns: the short letter or an OPT_* value */
        const char *arg;     /* the argument's metavariable ("FILE"), or NULL */
        const char *help;    /* one sentence */
        const char *example; /* a full command line using the option, without "projmodel " */
};

/* A command's description for --help: its usage line, a summary and its options. */
struct pm__cli_spec {
        const char *name;
        const char *usage; /* the same string as main.c's table row */
        const char *summary;
        const struct pm__cli_opt *opts;
        size_t n_opts;
};

/* Each command's spec, defined in its cli/cmd-<name>.c; main.c's table points at them so
 * `projmodel --man` and `--completions` are generated from the same rows as --help. */
extern const struct pm__cli_spec pm__cli_export_spec, pm__cli_dump_spec, pm__cli_audit_spec,
        pm__cli_discover_spec, pm__cli_snapshot_spec, pm__cli_serve_spec, pm__cli_query_spec,
        pm__cli_status_spec, pm__cli_stop_spec;

/* The man page projmodel(1) in roff on stdout, from @n_cmds rows of @cmds (options.c). */
int pm__cli_print_man(const struct pm__cli_command *cmds, size_t n_cmds);

/* A completion script for @shell ("bash", "zsh" or "fish") on stdout, from the same rows;
 * PM_CLI_EXIT_USAGE for another shell. */
int pm__cli_print_completions(const char *shell, const struct pm__cli_command *cmds, size_t n_cmds);

#define PM__CLI_SPEC(cmd, use, sum, table)                                        \
        {                                                                         \
                .name = (cmd), .usage = (use), .summary = (sum), .opts = (table), \
                .n_opts = sizeof(table) / sizeof((table)[0])                      \
        }

/* The getopt_long array of @spec into @out (spec->n_opts + 1 entries, the last all zero). */
void pm__cli_longopts(const struct pm__cli_spec *spec, struct option *out);

/* Print the usage line, summary and each option with its help and example on stdout (for
 * --help); returns PM_CLI_EXIT_OK. */
int pm__cli_help_spec(const struct pm__cli_spec *spec);

/*
 * After getopt_long returned '?' or ':': print "projmodel <cmd>: unknown option '--outptu'
 * (did you mean '--output'?)" (or "option '--output' needs an argument FILE") and the usage
 * line on stderr; returns PM_CLI_EXIT_USAGE. @msg_ret, when not NULL, receives the message
 * instead of printing it (pm_malloc'd), for commands that must keep stderr silent.
 */
int pm__cli_bad_option(const struct pm__cli_spec *spec, int argc, char **argv, char **msg_ret);

/* The option of @spec nearest @word by edit distance (@word without leading dashes or "=..."),
 * or NULL when none is close (distance more than a third of the name's length, at least 2). */
const struct pm__cli_opt *pm__cli_nearest_option(const struct pm__cli_spec *spec, const char *word);

/* Print "projmodel: <file>: <message>" (one line: newlines become spaces) on stderr. */
void pm__cli_print_error(const struct pm_error *err);

/* Print "projmodel <cmd>: <message>" and "usage: projmodel <usage>" on stderr; returns
 * PM_CLI_EXIT_USAGE. */
int pm__cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Print "usage: projmodel <usage>" on stdout (for --help); returns PM_CLI_EXIT_OK. */
int pm__cli_help(const char *usage);

/* The version line, for --version. */
void pm__cli_print_version(void);

/*
 * Find and load the configuration: @root_opt (a directory, made absolute against the working
 * directory) when given, else the root found walking up from @start (NULL = the working
 * directory). Build systems are resolved (pm_adapter_resolve_config()). *ret is owned by the
 * caller (pm_config_free()).
 */
int pm__cli_load_config(const char *root_opt, const char *start, struct pm_config **ret,
                        struct pm_error *err);

/*
 * Open the model of @cfg: @db_opt when given, else pm_config_db_path(). The directory holding
 * it is created (mode 0700) when missing. *ret is owned by the caller (pm_index_close()).
 */
int pm__cli_open_model(const struct pm_config *cfg, const char *db_opt, struct pm_index **ret,
                       struct pm_error *err);

/*
 * The sysroot to write: the model's stored one (the last refresh's) when @use_stored and it is
 * there, else resolved now (pm_sysroot_resolve_cached(): rustc is asked only when the model
 * holds no answer for the same toolchain setup). Both pm_malloc'd.
 */
int pm__cli_sysroot(const struct pm_config *cfg, struct pm_index *idx, bool use_stored,
                    char **ret_sysroot, char **ret_sysroot_src, struct pm_error *err);

/* pm_path_absolute(): @path made absolute against the working directory and normalised,
 * pm_malloc'd or NULL. */
char *pm__cli_abspath(const char *path);

/*
 * With PROJMODEL_TRACE set (to anything but "" or "0"), print "projmodel: trace: <what> (N.N ms)"
 * on stderr, N being the wall time since the previous trace line (or the first call). For
 * benchmarks and for tests that must know which path a command took (cache hit or not).
 */
void pm__cli_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The progress of a one-shot refresh (projmodel/refresh.h) and of export's build and write.
 * Phases for a person at a terminal (docs/cli.md "Progress"): "projmodel CMD: <phase>" lines on
 * stderr, but only when stderr is a terminal (isatty), so pipes, log files, rust-analyzer and
 * the tests see none. Warnings (docs/cli.md "Warnings"): the parsed graphs' pm_graph.warnings go
 * to stderr as "projmodel CMD: warning: <text>" terminal or not. For every command that
 * refreshes the model in this process (export, dump, audit, snapshot; check, run and test when
 * the model lacks the crate) -- not discover, which keeps stderr silent and sends both as
 * progress lines. Never NULL; @cmd is a string literal.
 */
const struct pm_progress *pm__cli_progress(const char *cmd);

/* The warn callback of pm__cli_progress(): @userdata is the command's name. */
void pm__cli_warn(const char *message, void *userdata);

/* Progress reports of a discover resolution. @message is borrowed for the call only. */
typedef void (*pm__cli_progress_cb)(const char *message, void *userdata);

enum pm__cli_discover_kind {
        PM__CLI_DISCOVER_PATH,      /* {"path": ...}: a source file rust-analyzer opened */
        PM__CLI_DISCOVER_BUILDFILE, /* {"buildfile": ...}: a watched build file changed */
        PM__CLI_DISCOVER_LABEL,     /* {"label": ...}: buck2-style, a crate by label */
};

/* One discover request, already decoded from the JSON argument. Strings are borrowed. */
struct pm__cli_discover_req {
        enum pm__cli_discover_kind kind;
        const char *value; /* absolute normalised path, or the label */
        const char *root;  /* --root, or NULL: from the path (or the working directory) */
        const char *db;    /* --db, or NULL */
        bool refresh;      /* query the build systems first (false: --no-refresh) */
};

/*
 * The "get the project for this argument" part of discover: find the root and configuration,
 * refresh the model, and answer with pm_project_answer() (projmodel/project.h), rendered
 * compact with the sysroot. On success *ret_buildfile (absolute, pm_malloc'd) is the project's
 * key and *ret_project (cJSON_Delete) the rust-project.json object. @progress may be NULL.
 * The daemon client replaces this with a request to the daemon, which answers the same.
 */
int pm__cli_discover_resolve(const struct pm__cli_discover_req *req, pm__cli_progress_cb progress,
                             void *userdata, char **ret_buildfile, struct cJSON **ret_project,
                             struct pm_error *err);

/* ---- check, test, run (cmd-check.c, cmd-test.c): one crate through its build system ---- */

int pm__cli_cmd_check(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_test(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_run(const struct pm__cli_globals *g, int argc, char **argv);
extern const char pm__cli_check_usage[], pm__cli_test_usage[], pm__cli_run_usage[];
extern const struct pm__cli_spec pm__cli_check_spec, pm__cli_test_spec, pm__cli_run_spec;

/* What `check`, `test` and `run` ask for. Strings borrowed from argv. */
struct pm__cli_action {
        int action;            /* enum pm_check_action */
        const char *root;      /* --root, or NULL */
        const char *db;        /* --db, or NULL */
        const char *target;    /* LABEL or FILE */
        const char *test_id;   /* test: TEST_ID */
        char *const *run_args; /* run: the binary's arguments, or NULL */
        const char *results;   /* test: --results FILE, or NULL */
};

/*
 * Find the crate @a->target names in the model (refreshing it once when the model does not
 * have it), do the action (pm_check_run()) and copy its output to stdout and stderr. Returns the
 * exit status to use (check: 0; test, run: the program's), or an error (one line, naming the
 * label or file) when nothing could run.
 */
int pm__cli_crate_action(const struct pm__cli_action *a, struct pm_error *err);

#include "projmodel/banned.h"

/* ---- The daemon's client commands (serve, query, status, stop) and cli/client.c ---- */

struct pm_client;

int pm__cli_cmd_serve(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_query(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_status(const struct pm__cli_globals *g, int argc, char **argv);
int pm__cli_cmd_stop(const struct pm__cli_globals *g, int argc, char **argv);
/* cmd-setup.c: editor configuration pointing rust-analyzer at `projmodel discover`. */
int pm__cli_cmd_setup(const struct pm__cli_globals *g, int argc, char **argv);
extern const char pm__cli_serve_usage[];
extern const char pm__cli_query_usage[];
extern const char pm__cli_status_usage[];
extern const char pm__cli_stop_usage[];
extern const char pm__cli_setup_usage[];
extern const struct pm__cli_spec pm__cli_setup_spec;

/*
 * The daemon a command talks to: the root (@root_opt, else found walking up from @start or the
 * working directory) and its socket (@socket_opt, else pm_server_default_socket(): where a
 * daemon the client starts listens). Both pm_malloc'd.
 */
int pm__cli_daemon_target(const char *root_opt, const char *socket_opt, const char *start,
                          char **ret_root, char **ret_socket, struct pm_error *err);

/* How pm__cli_daemon_connect() looks for a daemon when none listens on its socket. */
enum pm__cli_connect_flags {
        /* Try the socket projmodel@.socket listens on for the root ($XDG_RUNTIME_DIR/projmodel/
         * <root as systemd-escape --path>.sock, docs/protocol.md): for a socket derived from
         * the root, not one the user named with --socket. */
        PM__CLI_CONNECT_UNIT = 1 << 0,
        /* Then run `projmodel serve` for the root, on the socket given, and retry (bounded). */
        PM__CLI_CONNECT_START = 1 << 1,
};

/*
 * Connect to the socket-activated daemon of @root: the socket projmodel@.socket listens on
 * ($XDG_RUNTIME_DIR/projmodel/<root as systemd-escape --path>.sock, docs/protocol.md), when it
 * exists, something listens on it and it is ours alone (cli/client.c says what is checked).
 * 0 with *ret NULL when there is no such daemon; -EPERM when the socket is not ours alone. On
 * success *ret (pm_client_free()) and, when @ret_sock is non-NULL, *ret_sock (the socket's
 * path, pm_malloc'd) are owned by the caller.
 */
int pm__cli_unit_connect(const char *root, struct pm_client **ret, char **ret_sock,
                         struct pm_error *err);

/*
 * Connect to the daemon on @sock, else as @flags say. -ENOENT/-ECONNREFUSED without
 * PM__CLI_CONNECT_START when no daemon runs; -EPERM when the unit's socket is not ours alone.
 * *ret owned by the caller (pm_client_free()).
 */
int pm__cli_daemon_connect(const char *root, const char *sock, enum pm__cli_connect_flags flags,
                           struct pm_client **ret, struct pm_error *err);

/*
 * For status and stop: connect to the running daemon of @root_opt / @socket_opt (see
 * pm__cli_daemon_target(); without @socket_opt also a socket-activated one,
 * PM__CLI_CONNECT_UNIT), never starting one. When none listens, fails with -ENOENT or
 * -ECONNREFUSED and "no daemon serves '<root>' (socket '<socket>')". On success *ret_root
 * (pm_malloc'd; pass NULL when not wanted) and *ret_client (pm_client_free()) are owned by the
 * caller.
 */
int pm__cli_daemon_attach(const char *root_opt, const char *socket_opt, char **ret_root,
                          struct pm_client **ret_client, struct pm_error *err);

/*
 * pm__cli_discover_resolve() answered by the daemon (started when needed) instead of in this
 * process, in one request (docs/protocol.md, projmodel/rustProject's "discover"). @socket_opt
 * may be NULL. Outputs: *ret_buildfile and *ret_line, the finished line `discover` prints
 * (without its newline; pm__cli_discover_line()'s bytes), both pm_malloc'd.
 */
int pm__cli_discover_via_daemon(const struct pm__cli_discover_req *req, const char *socket_opt,
                                pm__cli_progress_cb progress, void *userdata, char **ret_buildfile,
                                char **ret_line, struct pm_error *err);

/*
 * discover's finished line {"kind":"finished","buildfile":@buildfile,"project":@project}, compact
 * (pm_json_discover_finished(), the daemon's too), pm_malloc'd; NULL out of memory. @project
 * is consumed.
 */
char *pm__cli_discover_line(const char *buildfile, struct cJSON *project);

#endif
