/* SPDX-License-Identifier: MIT */
/* The monorepo root, its .projmodel.json, and the subprojects (one build system each). */
#ifndef PROJMODEL_CONFIG_H
#define PROJMODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct pm_error;

#define PM_CONFIG_FILE "projmodel.json" /* looked up with a leading dot: .projmodel.json */

/*
 * One subproject: a directory whose crates one build system describes. The root project has
 * rel ".". Invariant: root is absolute and normalised; id is unique within the config.
 */
struct pm_project {
        char *id;               /* the model's source key: "<build_system>:<rel>", e.g. "gn:." */
        char *rel;              /* root relative to the monorepo root, "." for the root itself */
        char *root;             /* absolute */
        char *build_system;     /* adapter name, or NULL until pm_adapter_resolve_config() */
        struct cJSON *settings; /* the adapter's own section (e.g. the "gn" object), or NULL;
                                 * borrowed from pm_config.json */
};

/* A loaded configuration. Everything is owned by the struct; free with pm_config_free(). */
struct pm_config {
        char *root;        /* absolute, normalised monorepo root */
        char *file;        /* absolute path of .projmodel.json, or NULL when there is none */
        char *sysroot;     /* "sysroot" key, or NULL: ask `rustc --print sysroot` */
        char *sysroot_src; /* "sysroot_src" key, or NULL: <sysroot>/lib/rustlib/src/rust/library */
        char *rustc;       /* "rustc" key, default "rustc" */
        char *cache_dir;   /* "cache_dir" key: where the model lives, or NULL for the default */
        char *seed; /* "seed" key: a snapshot a daemon without a model starts from, or NULL */
        struct pm_project *projects; /* projects[0] is the root project */
        size_t n_projects;
        char **watch_exclude; /* extra directory names or relative paths not to watch */
        size_t n_watch_exclude;
        unsigned tool_timeout_ms;  /* "tool_timeout_ms", default 600000 */
        size_t max_tool_output;    /* "max_tool_output" bytes, default 1 GiB */
        unsigned debounce_ms;      /* "debounce_ms", default 150 */
        unsigned audit_idle_ms;    /* "audit_idle_ms", default 600000: the daemon keeps an
                                    * audit's scans and watches this long after the last one */
        unsigned watch_max_dirs;   /* "watch_max_dirs", default 120000: directories the daemon
                                    * watches at most (server/watch.c says which first) */
        bool no_flycheck_runnable; /* "flycheck_runnable": false: the answers' runnables leave
                                    * out `flycheck` (docs/cli.md says which rust-analyzers
                                    * reject it) */
        struct cJSON *json;        /* the parsed file, or NULL */
};

/*
 * Find the monorepo root: walk up from @start (a directory or a file) to the nearest directory
 * holding .projmodel.json; failing that, the nearest holding a build-system marker (.gn,
 * MODULE.bazel, WORKSPACE, WORKSPACE.bazel, .buckconfig); failing that, the outermost holding a
 * Cargo.toml. On success *ret_root is pm_malloc'd (caller frees). PM_ENOROOT when none,
 * -ENOENT when @start does not exist.
 */
int pm_config_find_root(const char *start, char **ret_root, struct pm_error *err);

/*
 * Load @root/.projmodel.json (if present) and validate the generic keys. Without the file the
 * result has one root project with build_system NULL (see pm_adapter_resolve_config()). Errors
 * name the file and the key (PM_ECONFIG), or the missing root (-ENOENT). On success *ret is
 * owned by the caller.
 */
int pm_config_load(const char *root, struct pm_config **ret, struct pm_error *err);

/* Frees @cfg. NULL is a no-op. Returns NULL. */
struct pm_config *pm_config_free(struct pm_config *cfg);

/* The project whose root is the longest prefix of @abs_path, or NULL. Borrowed from @cfg. */
const struct pm_project *pm_config_project_for_path(const struct pm_config *cfg,
                                                    const char *abs_path);

/* The project with id @id, or NULL. Borrowed. */
const struct pm_project *pm_config_project(const struct pm_config *cfg, const char *id);

/* The default cache directory ($XDG_CACHE_HOME/projmodel or ~/.cache/projmodel), pm_malloc'd. */
char *pm_config_default_cache_dir(void);
/* @cfg's cache directory: its "cache_dir", else pm_config_default_cache_dir(); pm_malloc'd,
 * NULL when out of memory. */
char *pm_config_cache_dir(const struct pm_config *cfg);

/*
 * The model database path for this root: <cache_dir>/<basename>-<hash of root>.db, pm_malloc'd.
 */
char *pm_config_db_path(const struct pm_config *cfg);

/* Helpers for adapters reading their section: borrowed string or @def; bool; string array
 * (NULL-terminated, pm_malloc'd array of borrowed strings, caller frees the array). Type errors
 * return PM_ECONFIG naming the file and key. */
int pm_config_get_string(const struct pm_config *cfg, const struct cJSON *section, const char *key,
                         const char *def, const char **ret, struct pm_error *err);
int pm_config_get_strv(const struct pm_config *cfg, const struct cJSON *section, const char *key,
                       const char ***ret, size_t *ret_n, struct pm_error *err);

/*
 * The one key checker for an adapter's @section (borrowed; NULL when absent) of @cfg: an object
 * whose keys are all in @known (NULL-terminated), so that a typo fails loudly rather than
 * silently running the defaults. @name is the section's key path ("bazel", or
 * "subprojects[0].bazel"). PM_ECONFIG otherwise, naming the key, the file and the nearest valid
 * key: "unknown key 'bazel.comand' in /repo/.projmodel.json (did you mean 'command'?)". The
 * top-level and subproject keys go through the same message. pm_adapter_resolve_config() runs
 * it on every section with the adapter's pm_adapter_ops.config_keys.
 */
int pm_config_check_section(const struct pm_config *cfg, const struct cJSON *section,
                            const char *name, const char *const *known, struct pm_error *err);

#endif
