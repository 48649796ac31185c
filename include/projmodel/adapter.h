/* SPDX-License-Identifier: MIT */
/* Build-system adapters: what command to run, and how its output becomes a crate graph.
 * Adapters never run processes or touch sockets (server/ and cli/ do); they read files, and
 * check_step creates directories under projmodel's own output directory. */
#ifndef PROJMODEL_ADAPTER_H
#define PROJMODEL_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>

struct pm_check_output;
struct pm_check_plan;
struct pm_config;
struct pm_error;
struct pm_strbuf;
struct pm_graph;
struct pm_kvlist;
struct pm_project;

#define PM_ADAPTER_OPS_VERSION 10
#define PM_PLAN_MAX_STEPS      8

/*
 * One command to run. argv[0] is looked up in PATH; it is never given to a shell. When
 * output_file is set, the step's output is that file's contents after the command succeeds
 * (GN's --ide=json writes a file); otherwise it is the command's stdout.
 */
struct pm_step {
        char **argv;       /* NULL-terminated */
        char *cwd;         /* absolute working directory */
        char *output_file; /* absolute, or NULL for stdout */
        bool optional;     /* a failure of this step is not an error; its output is empty */
        /*
         * Non-zero exit codes that still count as success, 0 entries unused: the tool printed
         * usable (possibly partial) output despite errors, e.g. bazel --keep_going exits 3
         * (query) or 1 (cquery). An accepted non-zero exit with empty output is still a failure.
         */
        int ok_exit_codes[4];
        char **env; /* "NAME=value" entries (NULL-terminated) set for this step on top of, and
                     * overriding, projmodel's environment; NULL for none */
        /*
         * test_plan only: the tool's exit status for "the tests ran and one failed" (Bazel's 3),
         * which `projmodel test` reports as libtest's own 101, the status of a failed test binary
         * (what GN's test binary and `cargo test` exit with); 0: none, the status is passed on.
         * When set, the status is the tool's, not the binary's: any other than 0 and this one
         * (or a signal) means the tool could not build or run the tests, an error naming the
         * crate and the tool's error line (server/check-adapter.c).
         */
        int test_failed_exit;
        /*
         * The exit status is the program's own result, not the step's success (a `projmodel
         * run|test` program, a compiler reporting errors): any exit status or signal counts as
         * success and the plan's owner reads it; stderr is kept up to the output cap like stdout.
         * A timeout, the output cap and a cancellation still fail the step.
         */
        bool any_exit;
        /*
         * plan() of an adapter with query_builds only: the step builds inside the query (Cargo's
         * `cargo check`), and query_builds() counts what for its announcement. It is asked about
         * these steps only: a refresh counts on the daemon's thread pool, a job per step.
         */
        bool builds;
};

/*
 * The commands for one query, run in order by the one plan sequencer (server/plan.c): a step
 * that fails (an exit status pm_step_exit_ok() refuses, a signal, a timeout) stops the query,
 * unless it is optional, whose failure gives empty output and the next step runs. The plan's
 * owner in server/ may append a step built from the previous one's output (its next-step
 * callback, server/server-internal.h).
 * Owned by the caller; release with pm_plan_release().
 */
struct pm_plan {
        struct pm_step steps[PM_PLAN_MAX_STEPS];
        size_t n_steps;
};

void pm_plan_release(struct pm_plan *plan);

/*
 * True if a step that exited with @exit_status (and was not killed by a signal) succeeded: 0, or
 * one of its ok_exit_codes when it still printed something (@output_len > 0 or an output_file),
 * or any status for an any_exit step.
 * The one step runner (server/spawn.c), under the plan sequencer that the one-shot commands and
 * the daemon share, decides through this one function.
 */
bool pm_step_exit_ok(const struct pm_step *step, int exit_status, size_t output_len);

/* One target a build reported on: a proc macro, or a crate's OUT_DIR target. */
struct pm_built {
        char *label;      /* the crate's model label (a proc macro), or the out_dir_target of
                           * the crates whose OUT_DIR it builds (include/projmodel/graph.h) */
        char *dylib_path; /* absolute path of the built dylib as the tool reported it, or NULL
                           * when it was not built */
        char *out_dir;    /* absolute path of the OUT_DIR directory the target built, as the tool
                           * reported it, or NULL */
        char *error;      /* when not built: the tool's first error line for it, or NULL */
        /*
         * What the build script behind an OUT_DIR target told rustc, as its build system's runner
         * recorded it (rules_rust's `<name>.flags` and `<name>.env`, Buck2's `[rustc_flags]`):
         * NULL-terminated (pm_argv_push()), or NULL. cfgs: each `--cfg=X`'s X (`name` or
         * `name="value"`); env: "NAME=value" entries, paths made absolute.
         */
        char **cfgs;
        char **env;
        /* The files a target that generates sources built (Bazel's default outputs of a genrule,
         * from the build events; Buck2's outputs of a target without dylib, or of a sub-target
         * such as a genrule's named output `T[foo.rs]`), absolute, NULL-terminated (pm_argv_free()
         * releases it), or NULL. */
        char **files;
        /* For such a target: the directory its package's outputs go to, where the build system
         * joins a crate's checked-in and generated sources when it compiles them from one place
         * (Bazel: `.../bin/<package>`, beside which rules_rust links the checked-in srcs), or
         * NULL when the tool does not say. server/srcmirror.c lays the crate out the same. */
        char *pkg_dir;
};

/* What one build run reported, owned by the caller; release with pm_build_report_release(). */
struct pm_build_report {
        struct pm_built *items;
        size_t n;
};

void pm_build_report_release(struct pm_build_report *report);

/*
 * What a check build reported (check_parse): the files holding the compiler's JSON diagnostics
 * (one per line, other lines ignored) and how to make their relative file names absolute.
 * Owned by the caller; release with pm_check_report_release().
 */
struct pm_check_report {
        char **files;        /* absolute, NULL-terminated (possibly empty) */
        char *base;          /* directory of relative file names (the project root) */
        char *external_base; /* directory of "external/..." file names, or NULL */
        char *error;         /* when the build failed and no compiler ran for the crate (a
                              * BUILD error, an unknown label): the tool's first error line */
};

void pm_check_report_release(struct pm_check_report *report);

/* The bytes one step produced (borrowed from whoever ran it). */
struct pm_blob {
        const char *data; /* NUL-terminated for convenience */
        size_t len;
        const char *origin; /* the file name or the command, for error messages */
        /*
         * Set by the step runners, NULL for captured output. program: the step's argv[0] as it
         * ran, absolute (looked up in PATH as execvp does, symlinks kept), or NULL when not
         * found; for output that must name its tool (Cargo's CARGO variable). error: one line
         * saying how a step that still counts went wrong (an optional step that failed: data
         * is then empty; a non-zero exit accepted by ok_exit_codes), else NULL.
         */
        const char *program;
        const char *error;
        /* Set by the step runners: the head of the step's stderr (NUL-terminated), or NULL. */
        const char *err_text;
        size_t err_len;
        /*
         * Set by the step runners: the step's exit status (pm_tool_result's, -1 for a signal),
         * non-zero when it still counts (ok_exit_codes, an optional step's failure); 0 when it
         * exited 0 and for captured output. For a parse that takes such an exit only when the
         * output shows why (Buck2's --keep-going, adapters/buck2/buck2-error.c).
         */
        int exit_status;
};

/*
 * What to query. scope, when non-NULL, lists absolute build files that changed: an adapter that
 * can re-query only what they declare does so and returns a partial graph; one that cannot
 * ignores it and returns a complete graph.
 */
struct pm_query {
        const struct pm_config *config;   /* borrowed */
        const struct pm_project *project; /* borrowed */
        const char *const *scope;         /* changed build files, or NULL for everything */
        size_t n_scope;
        bool captured; /* parsing output captured earlier (--query-output):
                        * no step ran, files beside it may be missing */
        /*
         * Incremental parsing. want_fingerprints asks parse() to fill pm_graph.fingerprints
         * (the daemon does; server/parse-apply.c stores them with the apply). previous_fingerprints
         * (borrowed, sorted by key) are those stored with the model's last apply of this project,
         * or NULL; they come only with a scope that lists every build file changed since that
         * apply, and with them an adapter may re-parse only what changed since and return a partial
         * graph.
         */
        bool want_fingerprints;
        const struct pm_kvlist *previous_fingerprints;
        /*
         * What query_builds() parsed of the output before a building step, kept for parse() of
         * the same run so the output is parsed once (Cargo: the `cargo metadata` JSON). Borrowed:
         * its owner, server/query.c, calls memo->free(memo->data) after parse(); an adapter that
         * takes data sets it NULL. NULL when the caller keeps nothing.
         */
        struct pm_query_memo *memo;
};

/* struct pm_query's memo: one adapter-private object and how to free it. */
struct pm_query_memo {
        void *data;
        void (*free)(void *data);
};

/*
 * Building the outputs a parsed graph already names, when the build system writes its build
 * directory at query time and its parse names every output path in it (GN: each proc macro's
 * dylib and each generated source is a file of a ninja build directory). server/procmacro.c
 * decides what is missing or stale, runs these steps and reads what they printed through these
 * functions (docs/build-integration.md). Static, owned by the adapter.
 */
struct pm_output_builder {
        const char *tool; /* the program the steps run, for progress lines and notes ("ninja") */
        /* The build directory holding the output @path (absolute): the nearest directory above
         * it that the tool builds in; pm_malloc'd, or NULL when there is none (or no memory). */
        char *(*build_dir)(const char *path);
        /* Why the output @path, under no build directory, cannot be built: one line,
         * pm_malloc'd, NULL on out of memory. */
        char *(*no_build_dir)(const char *path);
        /* Fill @ret_plan (zeroed by the caller) with one step printing every output of the
         * build directory @dir on its stdout. */
        int (*list_plan)(const char *dir, struct pm_plan *ret_plan, struct pm_error *err);
        /* The outputs that step printed (@out, possibly empty when it failed), absolute,
         * appended to *@ret_paths (a NULL-terminated argv, pm_argv_push(); the caller frees it
         * with pm_argv_free()). -ENOMEM only. */
        int (*list_parse)(const char *dir, const struct pm_blob *out, char ***ret_paths,
                          struct pm_error *err);
        /* Fill @ret_plan (zeroed by the caller) with one step building @outputs (relative to
         * @dir, borrowed) in @dir, keeping on past failures so the others are built. */
        int (*build_plan)(const char *dir, const char *const *outputs, size_t n_outputs,
                          struct pm_plan *ret_plan, struct pm_error *err);
        /*
         * Why that step did not build @output (relative to @dir), from what it printed (@out):
         * the compiler's first error line for it (its location made absolute), else the tool's
         * own reason, else @fallback. pm_malloc'd, NULL on out of memory. *@named is set when
         * the tool's output names @output as failed.
         */
        char *(*build_error)(const char *out, const char *dir, const char *output,
                             const char *fallback, bool *named);
        /*
         * Without a query: set the proc_macro_dylib of each crate of @g flagged in @only (one flag
         * per crate) to its output as the last query wrote it (never guessed); a crate it finds
         * none for loses its flag (all of them when that cannot be read). -ENOMEM only. NULL when
         * only a query can say (the daemon then queries instead of rebuilding).
         */
        int (*current_dylibs)(const struct pm_query *q, struct pm_graph *g, bool *only,
                              struct pm_error *err);
};

/*
 * The adapter interface. Adding a field means bumping PM_ADAPTER_OPS_VERSION and appending;
 * fields are never reordered.
 */
struct pm_adapter_ops {
        int version;      /* PM_ADAPTER_OPS_VERSION */
        const char *name; /* "gn", "bazel", "buck2", "cargo" */
        /* Marker files, NULL-terminated, any one of which in a root means this build system. */
        const char *const *markers;
        /* File names whose change means "re-query" (BUILD.gn, BUILD.bazel, ...),
         * NULL-terminated; the watcher also watches every file of pm_graph.build_files. */
        const char *const *build_file_names;
        /* Fill @ret_plan (zeroed by the caller) with the commands for @q. */
        int (*plan)(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err);
        /*
         * Turn the steps' outputs (outputs[i] is step i's; with q->captured a single blob, the
         * main query output) into a graph owned by the caller. Malformed output fails with
         * PM_EBADTOOLOUTPUT naming the file or target; nothing is returned then.
         */
        int (*parse)(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                     struct pm_graph **ret_graph, struct pm_error *err);
        /*
         * (Version 2.) The directories of @q->project's build outputs, which the watcher must
         * skip: each an absolute normalised path whose last component may be an fnmatch(3)
         * pattern ("/repo/bazel-*"; the directory part is taken literally), appended to
         * *ret_dirs (a NULL-terminated argv, pm_argv_push(); the caller frees it with
         * pm_argv_free()). Settings errors are PM_ECONFIG as from plan(). NULL: none. The
         * watcher adds `.git` (and the other version-control directories) itself.
         */
        int (*watch_skip)(const struct pm_query *q, char ***ret_dirs, struct pm_error *err);
        /* (Version 3.) The keys of this adapter's configuration section ("gn": {...}),
         * NULL-terminated; pm_adapter_resolve_config() rejects any other key in every such
         * section of the file, whichever build system the project uses. */
        const char *const *config_keys;
        /*
         * (Version 4.) Building what rust-analyzer loads (docs/build-integration.md). NULL when
         * the adapter does not build, or builds inside its query (Cargo's build-script and
         * proc-macro artifacts come with the query's own output).
         *
         * build_plan fills @ret_plan (zeroed by the caller) with the commands that build
         * @labels (borrowed: model labels of proc-macro crates of @graph, which is
         * @q->project's latest graph, borrowed, and the out_dir_target of its crates that have
         * one) and nothing they do not need. Each step's report
         * (Bazel's build event JSON, Buck2's build report, ...) is its stdout or output_file;
         * a partial failure that still writes a report belongs in ok_exit_codes.
         *
         * build_parse reads those steps' outputs into @ret_report (zeroed by the caller): one
         * item per label it can say something about, with the dylib path or OUT_DIR directory
         * taken from the tool's report (never guessed). A label absent from the report was not
         * built. A failed target the tool reports without its sub-target (Buck2's `T` for
         * `T[out_dir]`) is an item labelled without it, with its error. Malformed
         * reports fail with PM_EBADTOOLOUTPUT naming the file.
         */
        int (*build_plan)(const struct pm_query *q, const struct pm_graph *graph,
                          const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                          struct pm_error *err);
        int (*build_parse)(const struct pm_query *q, const struct pm_blob *outputs,
                           size_t n_outputs, struct pm_build_report *ret_report,
                           struct pm_error *err);
        /*
         * (Version 5.) Check-on-save (`projmodel check`, docs/build-integration.md) through one
         * command and its report. NULL when the adapter has check_step instead.
         *
         * check_plan fills @ret_plan (zeroed by the caller) with the one command that builds
         * @label (a model label of @q->project) with the compiler's JSON diagnostics kept, its
         * report in the step's output_file, and a failed build with a report in
         * ok_exit_codes. check_parse reads that report (@outputs: the output file's bytes)
         * into @ret_report (zeroed by the caller). Malformed reports fail with
         * PM_EBADTOOLOUTPUT naming the file.
         */
        int (*check_plan)(const struct pm_query *q, const char *label, struct pm_plan *ret_plan,
                          struct pm_error *err);
        int (*check_parse)(const struct pm_query *q, const char *label,
                           const struct pm_blob *outputs, size_t n_outputs,
                           struct pm_check_report *ret_report, struct pm_error *err);
        /*
         * (Version 6.) The runnables' `projmodel run` and `projmodel test`
         * (docs/build-integration.md). NULL when the adapter has check_step instead.
         * Each fills @ret_plan (zeroed by the caller): its last step's stdout, stderr and exit
         * status are the program's, passed on to the user unchanged (test_failed_exit aside);
         * the steps before it build what it runs and must exit 0, else `projmodel run|test`
         * fails with one line naming the crate and the tool's error line. A step's output_file
         * is removed before it runs and after the command.
         *
         * run_plan builds the binary @label (a model label of @q->project) and runs it with
         * @args (NULL-terminated, or NULL). test_plan builds the test targets @labels (build
         * system labels, as pm_crate.test_targets or a test crate's label) and runs exactly the
         * test @test_id of each (its path in the crate, libtest's --exact).
         */
        int (*run_plan)(const struct pm_query *q, const char *label, char *const *args,
                        struct pm_plan *ret_plan, struct pm_error *err);
        int (*test_plan)(const struct pm_query *q, const char *const *labels, size_t n_labels,
                         const char *test_id, struct pm_plan *ret_plan, struct pm_error *err);
        /*
         * (Version 7.) The per-test results of a test_plan run whose step names an output_file
         * (its report, read when the tool exited, whatever its status: @outputs): one JSON line
         * per test case appended to @ret_lines, in the shape docs/cli.md gives (`projmodel test
         * --results`). NULL when the build system reports none. A report that cannot be read
         * is PM_EBADTOOLOUTPUT naming the file.
         */
        int (*test_parse)(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                          struct pm_strbuf *ret_lines, struct pm_error *err);
        /*
         * (Version 8.) The outputs the parse names, built by server/procmacro.c after each
         * parse (struct pm_output_builder), instead of build_plan/build_parse. NULL when the
         * adapter builds through build_plan or not at all.
         */
        const struct pm_output_builder *outputs;
        /*
         * (Version 9.) `projmodel check|test|run` as a plan grown one step at a time, each step
         * built from the previous one's output (GN's ninja target, then its inputs, then its
         * rustc command): server/check.c runs the steps and calls this after each (struct
         * pm_check_plan, include/projmodel/check-plan.h). With @o NULL (@step 0): append the
         * first step of cp->req. After a step @step (@o its output) whose cp->next[@step] is
         * set: read @o, write the result into cp->ret and append what follows, or end (0 with
         * nothing appended, PM_CHECK_STEP_FAILED when @o says the step failed, an error). It may
         * create directories under cp->req->out_dir (projmodel's own) for its steps. Used
         * instead of check_plan, run_plan and test_plan; NULL when the adapter has those or no
         * way to check.
         */
        int (*check_step)(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                          struct pm_error *err);
        /*
         * (Version 10.) What step @step of plan()'s plan builds, for an adapter that builds
         * inside its query (Cargo's `cargo check`), counted from the output of the steps before
         * it (@outputs, @n_outputs == @step, as parse() gets them): *@ret_proc_macros, the proc
         * macros, and *@ret_out_dirs, the build scripts whose OUT_DIR it makes. Asked only about
         * the steps plan() marks builds (struct pm_step). The refresh
         * announces such a step as the build steps are ("building N proc macros with cargo",
         * docs/cli.md, Progress) instead of by its command line. Returns 1 for a building step
         * (counts filled), 0 for any other or output it cannot count (the parse reports that),
         * -ENOMEM. NULL: every step is announced by its command line.
         */
        int (*query_builds)(const struct pm_query *q, size_t step, const struct pm_blob *outputs,
                            size_t n_outputs, size_t *ret_proc_macros, size_t *ret_out_dirs,
                            struct pm_error *err);
};

/* The adapter named @name, or NULL. Borrowed (static). */
const struct pm_adapter_ops *pm_adapter_find(const char *name);

/* The registry: all adapters, NULL-terminated. */
const struct pm_adapter_ops *const *pm_adapter_all(void);

/* The adapter whose markers are present in directory @root, or NULL. */
const struct pm_adapter_ops *pm_adapter_detect(const char *root);

/*
 * Fill each project's build_system that the configuration left unset by detection, check every
 * named build system exists, and check every adapter section of the file (top level and each
 * subproject) against that adapter's config_keys plus the keys every section accepts
 * ("build_proc_macros", a boolean). PM_ECONFIG (naming the file) or PM_ENOROOT.
 */
int pm_adapter_resolve_config(struct pm_config *cfg, struct pm_error *err);

/*
 * The project's "build_proc_macros" setting, a key every adapter section accepts besides its own
 * config_keys (docs/configuration.md): whether projmodel builds what rust-analyzer loads (proc
 * macros, build scripts) for @project. True when absent; PM_ECONFIG naming the file and key when
 * it is not a boolean (pm_adapter_resolve_config() already rejects that).
 */
int pm_adapter_build_proc_macros(const struct pm_config *cfg, const struct pm_project *project,
                                 bool *ret, struct pm_error *err);

/*
 * Parse captured output of @project's build system from @data (the --query-output route).
 * Equivalent to ops->parse with q.captured = true.
 */
int pm_adapter_parse_captured(const struct pm_config *cfg, const struct pm_project *project,
                              const char *data, size_t len, const char *origin,
                              struct pm_graph **ret_graph, struct pm_error *err);

/*
 * Make a NULL-terminated argv owned by the caller from a list of strings (borrowed), for plan()
 * implementations. Returns NULL on OOM.
 */
char **pm_argv_new(const char *const *parts, size_t n);
/* Append a copy of @arg to a pm_malloc'd argv, reallocating. Returns 0 or -ENOMEM. */
int pm_argv_push(char ***argv, const char *arg);
char **pm_argv_free(char **argv);
/*
 * Which of the @n strings of @v repeat an earlier one: @ret_repeat[i] (@n flags, all set) is
 * true for every occurrence of a string but its first, in O(n log n) instead of a search of the
 * ones before per string. Returns 0 or -ENOMEM.
 */
int pm_strv_repeats(const char *const *v, size_t n, bool *ret_repeat);
/*
 * A lookup of the @n strings of @v by value (NULL entries are left out), sorted once so that
 * each lookup is a binary search instead of a scan of them all. *@ret_index is owned by the
 * caller (pm_strv_index_free()); the strings are borrowed and must outlive it, @v need not.
 * Returns 0 or -ENOMEM.
 */
struct pm_strv_index;
int pm_strv_index_new(const char *const *v, size_t n, struct pm_strv_index **ret_index);
/* The first i with v[i] equal to the @len bytes of @key (all of it or a prefix, no NUL among
 * them) into *@ret_at: true, or false when none is. */
bool pm_strv_index_find(const struct pm_strv_index *index, const char *key, size_t len,
                        size_t *ret_at);
/* NULL is a no-op. Returns NULL. */
struct pm_strv_index *pm_strv_index_free(struct pm_strv_index *index);

/*
 * The environment a child runs with: environ with each entry of @extra (NULL-terminated)
 * applied, as git's run-command.h takes a child's env: "NAME=value" sets NAME, replacing any
 * environ entry of that name, and "NAME" (no '=') unsets it. The server's steps (pm_step.env,
 * server/spawn.c) and the daemon the CLI starts (cli/client.c) get theirs from it. A pm_calloc'd,
 * NULL-terminated array (pm_free() it, not pm_argv_free()) of borrowed strings, environ's and
 * @extra's, valid while both are; NULL on out of memory.
 */
char **pm_env_merge(char *const *extra);

#endif
