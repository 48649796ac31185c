/* SPDX-License-Identifier: MIT */
/* Declarations shared by the bazel adapter's files only (settings, scope, and the jsonproto parser
 * split over parse.c, label.c, attr.c, collect.c and crate.c). */
#ifndef PROJMODEL_BAZEL_INTERNAL_H
#define PROJMODEL_BAZEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "projmodel/graph.h"

struct pm_blob;
struct pm_build_report;
struct pm_check_report;
struct pm_plan;
struct pm_error;
struct pm_graph;
struct pm_query;

/* Limits on what Bazel hands us; going over one is PM_ELIMIT or PM_EBADTOOLOUTPUT. */
#define PM_BAZEL_MAX_TARGETS    1000000 /* targets in one query result */
#define PM_BAZEL_MAX_LABEL      4096    /* one label */
#define PM_BAZEL_MAX_PATH       4096    /* one absolute path made from a label */
#define PM_BAZEL_MAX_LIST       100000  /* entries of one attribute value */
#define PM_BAZEL_MAX_SCOPE      256     /* changed BUILD files re-queried incrementally */
#define PM_BAZEL_MAX_FOLD_DEPTH 8       /* rust_test crate = rust_test crate = ... */

/* The query flavours of the "query" setting. */
enum pm__bazel_query {
        PM__BAZEL_CQUERY,             /* cquery --output=jsonproto (Bazel 4.2 and later) */
        PM__BAZEL_STREAMED_JSONPROTO, /* query --output=streamed_jsonproto (Bazel 6.4+) */
};

/*
 * The "bazel" section of .projmodel.json, validated. Strings are borrowed from the
 * configuration's JSON except output_base, which is pm_malloc'd; release with
 * pm__bazel_settings_release().
 */
struct pm__bazel_settings {
        const char *command;        /* the bazel executable, default "bazel" */
        const char **startup_flags; /* NULL-terminated, pm_malloc'd array, or NULL */
        size_t n_startup_flags;
        const char **flags; /* extra query flags, as above */
        size_t n_flags;
        char *output_base; /* absolute, normalised */
        enum pm__bazel_query query;
        const char *default_edition; /* edition of crates without one, default "2021" */
        const char *pattern;         /* the target pattern, default "//..." */
        /* The package of rules_rust's build settings (error_format, rustc_output_diagnostics),
         * default "@rules_rust//rust/settings" */
        const char *rules_rust_settings;
};

/*
 * Read and validate the project's "bazel" settings. Errors are PM_ECONFIG naming the
 * configuration file and the key. On success @ret is filled (release with
 * pm__bazel_settings_release()).
 */
int pm__bazel_settings_load(const struct pm_query *q, struct pm__bazel_settings *ret,
                            struct pm_error *err);
void pm__bazel_settings_release(struct pm__bazel_settings *s);

/*
 * The start of every `bazel build|run|test` projmodel runs: command, the query's output base
 * and startup flags, @verb ("build" adds --keep_going), --color=no --curses=no, with @prefix
 * the build event JSON file (a new name under the cache directory, into *@ret_events), then the
 * configured flags. On success *@ret_events (when @prefix; may be NULL without) and *@ret_argv
 * are the caller's (pm_free(), pm_argv_free()); -ENOMEM otherwise.
 */
int pm__bazel_build_argv(const struct pm_query *q, const struct pm__bazel_settings *s,
                         const char *verb, const char *prefix, char **ret_events, char ***ret_argv);

/*
 * Whether @q is an incremental query: its scope lists only BUILD and BUILD.bazel files under
 * the project root (decided lexically, so plan and parse agree even if a file vanishes in
 * between) and @s queries the default pattern. A .bzl, WORKSPACE or MODULE.bazel file in the
 * scope means "everything". When incremental, *ret_covered gets the normalised build files and
 * *ret_pkgs their package names ("" for the root package, "lib/foo"); both are pm_malloc'd
 * NULL-terminated arrays of pm_malloc'd strings (free with pm_argv_free()), NULL otherwise.
 * Returns 0 or -ENOMEM.
 */
int pm__bazel_scope(const struct pm_query *q, const struct pm__bazel_settings *s, bool *ret_partial,
                    char ***ret_covered, char ***ret_pkgs, struct pm_error *err);

/*
 * Parse one query output (cquery jsonproto, or streamed_jsonproto lines; the format is
 * detected) and, when @buildfiles is non-NULL, the `buildfiles()` label list, into a new graph
 * owned by the caller. With @partial, only crates declared by the @covered build files are
 * returned and the graph is marked partial. Malformed input is PM_EBADTOOLOUTPUT naming @blob's
 * origin and the target.
 */
int pm__bazel_parse(const struct pm_query *q, const struct pm__bazel_settings *s,
                    const struct pm_blob *blob, const struct pm_blob *buildfiles, bool partial,
                    const char *const *covered, size_t n_covered, struct pm_graph **ret_graph,
                    struct pm_error *err);

/* The ops' build_plan and build_parse (bazel-build.c): `bazel build --keep_going
 * --build_event_json_file=FILE` of the proc-macro targets with the query's output base, and the
 * dylib of each from the file's targetCompleted and namedSetOfFiles events. */
int pm__bazel_build_plan(const struct pm_query *q, const struct pm_graph *graph,
                         const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                         struct pm_error *err);
int pm__bazel_build_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                          struct pm_build_report *ret_report, struct pm_error *err);

/* The adapter's check_plan and check_parse (bazel-check.c). */
int pm__bazel_check_plan(const struct pm_query *q, const char *label, struct pm_plan *ret_plan,
                         struct pm_error *err);
int pm__bazel_check_parse(const struct pm_query *q, const char *label,
                          const struct pm_blob *outputs, size_t n_outputs,
                          struct pm_check_report *ret_report, struct pm_error *err);

/* The adapter's run_plan and test_plan (bazel-run.c): `bazel run LABEL -- ARG...` and `bazel
 * test LABELS` with libtest told to run exactly one test. */
int pm__bazel_run_plan(const struct pm_query *q, const char *label, char *const *args,
                       struct pm_plan *ret_plan, struct pm_error *err);
/* The adapter's test_parse (bazel-test.c): the test.xml of every testResult event. */
struct pm_strbuf;
int pm__bazel_test_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                         struct pm_strbuf *ret_lines, struct pm_error *err);
int pm__bazel_test_plan(const struct pm_query *q, const char *const *labels, size_t n_labels,
                        const char *test_id, struct pm_plan *ret_plan, struct pm_error *err);

/*
 * The build events of @blob (a --build_event_json_file: one JSON object a line) into
 * *ret_events (*ret_n of them), each freed by the caller with cJSON_Delete() and the array with
 * pm_free(). A line that is not an object is PM_EBADTOOLOUTPUT naming @blob's origin and line.
 */
int pm__bazel_events_read(const struct pm_blob *blob, cJSON ***ret_events, size_t *ret_n,
                          struct pm_error *err);

/*
 * What pm__bazel_through_link() learnt of each directory prefix ("lib", "lib/foo") during one
 * parse, so that each directory is lstat'ed once however many rules its packages hold (a hash
 * table; zeroed is empty). Owned by the parse; release with pm__bazel_links_release().
 */
struct pm__bazel_link_slot;

struct pm__bazel_links {
        struct pm__bazel_link_slot *v;
        size_t n, cap; /* cap is 0 or a power of two */
        /* An answer could not be kept (out of memory): the parse cannot list what it looked at,
         * so its graph gets no input stamp. */
        bool forgot;
};

void pm__bazel_links_release(struct pm__bazel_links *lc);

/*
 * Push onto @g's inputs every path the answers of @lc were read from, under the workspace
 * @root: each directory lstat'ed and, for a symlink, the DO_NOT_BUILD_HERE looked for beside the
 * execroot it leads to, so that the input stamp (projmodel/stamp.h) sees a link made, removed or
 * pointed elsewhere. -ENOMEM only.
 */
int pm__bazel_links_inputs(const struct pm__bazel_links *lc, const char *root, struct pm_graph *g);

/*
 * Whether @rel (a path relative to the workspace @root: a package, a BUILD file) goes through one
 * of the user's convenience symlinks: a component that is a symlink into an output base's
 * execroot (whose "execroot" directory holds Bazel's DO_NOT_BUILD_HERE). Bazel before 7.1
 * follows the user's bazel-<workspace> link when its own output base is another one, as
 * projmodel's is, so `//...` also finds every package again beneath it (docs/configuration.md).
 * Each prefix's answer is kept in @lc (NULL: none kept), for the rest of the parse.
 */
bool pm__bazel_through_link(struct pm__bazel_links *lc, const char *root, const char *rel);
/* The lstat()s pm__bazel_through_link() made so far in this process, for the tests
 * (tests/bazel/test-links.c: one per directory, not per rule). */
uint64_t pm__bazel_link_lstats(void);

/* The main repository's "@@//a:b" / "@//a:b" as the model writes it, "//a:b". Borrowed. */
const char *pm__bazel_plain_label(const char *l);

/*
 * Why @label failed, from the progress events' stderr: the first compiler "error" line after
 * Bazel's "ERROR: ..." line naming the target, else that line itself. pm_malloc'd, or NULL.
 */
char *pm__bazel_progress_error(cJSON *const *ev, size_t n, const char *label);

/* ---- the jsonproto parser's private context (parse.c, label.c, attr.c, collect.c, crate.c) ----
 */

/* How a rule class maps to a crate, and which file rules_rust takes as its default root. */
struct pm__bazel_rule_class {
        const char *name;
        enum pm_crate_kind kind;
        const char *default_root; /* "lib.rs" or "main.rs" */
        /* No crate: rules_rust's cargo_build_script, whose out_dir is the OUT_DIR of the crates
         * that have it in their deps (pm_crate.out_dir_target). */
        bool build_script;
};

/* A label split into its parts (arena strings). repo is NULL for the main repository. */
struct pm__bazel_label {
        const char *repo;
        const char *pkg;
        const char *name;
};

/* One Rust rule of the result. Strings belong to the graph's arena; attrs to the document. */
struct pm__bazel_rule {
        const char *label;        /* normalised */
        const char *name;         /* the target name (after ':') */
        struct pm__bazel_label l; /* the label's parts, for relative labels in attributes */
        const char *build_file;   /* absolute, or NULL */
        const struct pm__bazel_rule_class *cls;
        const cJSON *attrs;     /* the "attribute" array, or NULL */
        const char *fold_label; /* rust_test's crate attribute (normalised), or NULL */
        size_t order;           /* position in the output: the first of duplicates wins */
        long crate;             /* index into the graph's crates, or -1 */
};

/* A target that generates files (collect.c), strings in the graph's arena. */
struct pm__bazel_generated {
        const char *label; /* normalised */
        const char *rule;  /* the rule writing it (a GENERATED_FILE's generatingRule, normalised;
                            * a rule's own label), or NULL */
        struct pm__bazel_label l;
        const cJSON *attrs;  /* a rule's "attribute" array (its srcs), or NULL */
        const cJSON *inputs; /* a rule's "ruleInput" array (every label it reads), or NULL */
        bool watched;        /* its inputs were added by pm__bazel_watch_generator() */
};

struct pm__bazel_ctx {
        const struct pm_query *q;
        const struct pm__bazel_settings *s;
        const char *origin;
        struct pm_graph *g;
        cJSON **docs; /* the parsed documents (one, or one per streamed line) */
        size_t n_docs, cap_docs;
        struct pm__bazel_rule *rules;
        size_t n_rules, cap_rules;
        struct pm_error *err;
        /* [0, g->n_crates) once the crates are made: the crate depends on a target of a package
         * Bazel could not load (pm__bazel_label_failed()), so it is left out and kept as it was */
        bool *lost;
        /* The crate graph in a topological order, made at the first folded test's dep (crate.c),
         * or NULL */
        struct pm__bazel_topo *topo;
        struct pm__bazel_links links; /* pm__bazel_through_link()'s answers so far */
        /* The targets the output names as a GENERATED_FILE or as a rule other than a Rust one
         * (a genrule in a crate's srcs): sorted by label and unique after
         * pm__bazel_sort_rules(); a pm_malloc'd array */
        struct pm__bazel_generated *generated;
        size_t n_generated, cap_generated;
};

/* Set PM_ENOMEM on the context's error, naming the output being parsed; returns -ENOMEM. */
int pm__bazel_oom(struct pm__bazel_ctx *c);
/* Set PM_EBADTOOLOUTPUT "cannot parse ORIGIN: target LABEL WHAT" (@label may be NULL). */
int pm__bazel_bad(struct pm__bazel_ctx *c, const char *label, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Labels (label.c). Strings are allocated from the graph's arena. */
int pm__bazel_label_parse(struct pm__bazel_ctx *c, const char *raw, const char *ctx_repo,
                          const char *ctx_pkg, struct pm__bazel_label *ret);
char *pm__bazel_label_string(struct pm__bazel_ctx *c, const struct pm__bazel_label *l);
char *pm__bazel_label_path(struct pm__bazel_ctx *c, const struct pm__bazel_label *l);
int pm__bazel_norm_label(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r,
                         const struct pm__bazel_label *rl, const char *raw,
                         struct pm__bazel_label *ret_l, const char **ret_s);

/* Attributes (attr.c); strings are borrowed from the parsed document. */
typedef int (*pm__bazel_item_cb)(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r,
                                 const char *key, const char *value, void *data);
int pm__bazel_attr_string(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                          const char **ret);
int pm__bazel_attr_list(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                        pm__bazel_item_cb cb, void *data);
int pm__bazel_attr_dict(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                        const char *field, pm__bazel_item_cb cb, void *data);

/*
 * The failures of a --keep_going query (failed.c): when @blob's step failed and still counted,
 * the BUILD files of the project its stderr blames (a load error's file, the packages that
 * contain errors or were not found, the targets whose analysis failed) go into g->failed and
 * g->build_files, and one warning names the first error's file and line.
 */
int pm__bazel_failures(struct pm__bazel_ctx *c, const struct pm_blob *blob);
/* Whether label @l is in a package whose BUILD file is in g->failed. */
bool pm__bazel_label_failed(struct pm__bazel_ctx *c, const struct pm__bazel_label *l);

/* Collecting the rules (collect.c): fill c->rules and c->docs from @blob, then sort them. */
int pm__bazel_collect(struct pm__bazel_ctx *c, const struct pm_blob *blob);
void pm__bazel_sort_rules(struct pm__bazel_ctx *c);
/* The rule with normalised @label after pm__bazel_sort_rules(), or NULL. */
struct pm__bazel_rule *pm__bazel_lookup(struct pm__bazel_ctx *c, const char *label);
/* Whether the output names normalised @label as a file a rule generates or as a rule (whose
 * outputs are then the files), after pm__bazel_sort_rules(). Decided from the output alone. */
bool pm__bazel_is_generated(const struct pm__bazel_ctx *c, const char *label);
/* Add the checked-in inputs of the rule writing generated source @label in the workspace to the
 * graph's build files (its `ruleInput`, else its `srcs`: a genrule's srcs, tools and the files of
 * its tools), following the rules of the generated inputs the output prints (a chain of
 * genrules): the daemon watches them, an edit re-queries and the build writes the source again
 * (docs/build-integration.md). */
int pm__bazel_watch_generator(struct pm__bazel_ctx *c, const char *label);

/* Crates (crate.c): a rule's crate, the rule owning a folded test's crate, and deps. */
int pm__bazel_make_crate(struct pm__bazel_ctx *c, struct pm__bazel_rule *r);

/* Add the sources of build-script rule @r (rules_rust's cargo_build_script) in the workspace to
 * the graph's build files: the daemon watches them, and an edit re-queries, so the next build
 * runs the script again (docs/build-integration.md). */
int pm__bazel_watch_build_script(struct pm__bazel_ctx *c, struct pm__bazel_rule *r);

struct pm__bazel_rule *pm__bazel_owner(struct pm__bazel_ctx *c, struct pm__bazel_rule *r);
int pm__bazel_add_deps(struct pm__bazel_ctx *c, struct pm__bazel_rule *r,
                       struct pm__bazel_rule *own);

/*
 * An incremental topological order of a graph of nodes 0 .. n-1 (topo.c; Pearce and Kelly, "A
 * dynamic topological sort algorithm for directed acyclic graphs", 2006). Checking an edge costs
 * the nodes between its two ends in the order, not the graph: folding N tests into N crates is
 * not N searches of everything. Owned by the caller; pm__bazel_topo_free(NULL) is a no-op.
 */
struct pm__bazel_topo;

/* A new order of @n nodes and @n_edges edges, edge i from @from[i] to @to[i] ("from depends on
 * to"; both < @n). A cycle among them is allowed: every check then searches all that the edge's
 * target reaches. Returns 0 or -ENOMEM. */
int pm__bazel_topo_new(size_t n, const long *from, const long *to, size_t n_edges,
                       struct pm__bazel_topo **ret);
struct pm__bazel_topo *pm__bazel_topo_free(struct pm__bazel_topo *t);
/* Whether node @to reaches node @from through the edges (so the edge @from -> @to would close a
 * cycle; @from == @to is one): *@ret_cycle is set, and when false the edge is added. Returns 0
 * or -ENOMEM. */
int pm__bazel_topo_add(struct pm__bazel_topo *t, long from, long to, bool *ret_cycle);
/* Nodes visited by the checks so far, for tests (tests/bazel/test-topo.c). */
uint64_t pm__bazel_topo_steps(const struct pm__bazel_topo *t);

#include "projmodel/banned.h"

/* junit.c: one test case of a JUnit XML report (Bazel's test.xml). */
enum pm__junit_outcome {
        PM__JUNIT_OK,
        PM__JUNIT_FAILED,  /* a <failure> or an <error> */
        PM__JUNIT_SKIPPED, /* a <skipped> */
};

/* Strings borrowed for the callback only, entities decoded. */
struct pm__junit_case {
        const char *suite;     /* the enclosing testsuite's name ("" when none) */
        const char *name;      /* the testcase's name ("" when none) */
        const char *classname; /* or NULL */
        enum pm__junit_outcome outcome;
        const char *message; /* failed or skipped: the result's message attribute, else its text
                              * (CDATA included, blanks trimmed, at most about 4000 bytes), or
                              * NULL */
};

/* Called once per testcase, in file order; a negative return (-ENOMEM) stops the read. */
typedef int (*pm__junit_cb)(void *ud, const struct pm__junit_case *c);

/*
 * Read the JUnit XML @data (@len bytes, from @origin) and call @cb for each <testcase>. The subset
 * Bazel writes: elements with attributes, the five predefined entities and decimal or hex
 * character references, CDATA, comments, processing instructions and a DOCTYPE without an
 * internal subset. Anything else that is not well-formed XML (an unknown entity, a mismatched or
 * unclosed tag, text outside the root) is PM_EBADTOOLOUTPUT naming @origin and the byte offset.
 * Other elements (properties, system-out) are read and skipped.
 */
int pm__junit_read(const char *data, size_t len, const char *origin, pm__junit_cb cb, void *ud,
                   struct pm_error *err);

/*
 * Call @cb for each libtest result line of the test log @data (@len bytes): `test NAME ... ok`,
 * `... FAILED` (message: what libtest printed under `---- NAME stdout ----`, or NULL) and
 * `... ignored[, REASON]` (message: REASON); suite "" and no class. Other lines are skipped;
 * *@ret_n is the number of cases. A negative return is @cb's (or -ENOMEM).
 */
int pm__libtest_log_read(const char *data, size_t len, pm__junit_cb cb, void *ud, size_t *ret_n);

#endif
