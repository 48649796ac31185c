/* SPDX-License-Identifier: MIT */
/* Fixtures for the projmodel command tests: a built copy of examples/gn-monorepo in a temporary
 * directory, its own model database and cache directory, and running the command on it; a
 * generated Cargo workspace beside it. */
#ifndef PROJMODEL_TESTS_CLI_TEST_H
#define PROJMODEL_TESTS_CLI_TEST_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

struct cli_fx {
        char *tmp;   /* the test's temporary directory (removed by cli_fx_release) */
        char *repo;  /* tmp/repo: the copy of examples/gn-monorepo */
        char *db;    /* tmp/model.db: passed as --db */
        char *cache; /* tmp/cache: XDG_CACHE_HOME */
};

/* Copy the example into a fresh directory; with @build, also `gn gen out` and `ninja -C out`
 * there, so the proc macro's .so and the generated code exist. */
void cli_fx_init(struct cli_fx *fx, bool build);
void cli_fx_release(struct cli_fx *fx);

/* fx->repo + "/" + @rel; pm_malloc'd. */
char *cli_fx_path(const struct cli_fx *fx, const char *rel);

/* What one run of the command did. Strings pm_malloc'd; release with cli_run_release(). */
struct cli_run {
        int status;
        char *out;
        char *err;
};

void cli_run_release(struct cli_run *r);

/*
 * Run projmodel with @args (NULL-terminated) in @cwd (NULL = fx->repo), with XDG_CACHE_HOME at
 * fx->cache plus @env ("K=V", NULL-terminated, may be NULL). `--db fx->db` is NOT added: the
 * tests pass it themselves where the command takes it.
 */
void cli_fx_run(const struct cli_fx *fx, const char *cwd, const char *const *env,
                const char *const *args, struct cli_run *ret);

/*
 * For a test that starts daemons: fx->tmp/run made (0700), *ret_runtime_env
 * "XDG_RUNTIME_DIR=<tmp>/run" (their socket directory) and, when @ret_cache2_env is not NULL,
 * *ret_cache2_env "XDG_CACHE_HOME=<tmp>/cache2" (the in-process runs' own model, apart from the
 * daemon's). pm_malloc'd.
 */
void cli_fx_daemon_env(const struct cli_fx *fx, char **ret_runtime_env, char **ret_cache2_env);

/* `projmodel stop --root @root` with @runtime_env: a daemon the test may have started (none may
 * run: the status is ignored). */
void cli_fx_stop_daemon(const struct cli_fx *fx, const char *runtime_env, const char *root);

/* `projmodel export --root REPO --db DB [extra...]` to stdout; asserts success, returns the
 * output (pm_malloc'd). */
char *cli_fx_export(const struct cli_fx *fx, const char *const *extra);

/* True if @s is exactly one line ending in '\n' that starts with "projmodel: " and contains
 * @needle. */
bool cli_one_error_line(const char *s, const char *needle);

/* The crate of @project (a rust-project.json object) whose root_module is REPO/@rel, or NULL. */
struct cJSON *cli_crate_by_root(const struct cli_fx *fx, const struct cJSON *project,
                                const char *rel);

/* True if the JSON string array @arr holds @s. */
bool cli_strarr_has(const struct cJSON *arr, const char *s);

/*
 * Assert that @out (a discover's stdout) is rust-analyzer's discover protocol
 * (docs/cli.md, "discover"): every line one compact JSON object, each either
 * {"kind":"progress","message":string} or, as the last line and only there,
 * {"kind":"finished","buildfile":absolute path,"project":object}. Returns the finished message
 * (cJSON_Delete) and, in *ret_messages, the progress messages in order (pm_malloc'd,
 * NULL-terminated; free with pm_labels_free()).
 */
struct cJSON *cli_discover_lines(const char *out, char ***ret_messages);

/* A Cargo workspace in fx->tmp/ws, returned (pm_malloc'd): member `calc` (a library with two
 * unit tests) and `app` (a binary depending on it), with a .projmodel.json choosing cargo,
 * offline. */
char *cli_fx_cargo_workspace(const struct cli_fx *fx);

/* A Cargo package @name at @root (Cargo.toml and an empty src/main.rs), and, unless @config is
 * NULL, @config as its .projmodel.json. Asserts on failure. */
void cli_cargo_package(const char *root, const char *name, const char *config);

/* @text written to @path, made executable: a stand-in for a tool. Asserts on failure. */
void cli_write_script(const char *path, const char *text);

/* The index in @messages (NULL-terminated) of the first one holding @needle, or -1. */
int cli_message_index(char *const *messages, const char *needle);

#endif
