/* SPDX-License-Identifier: MIT */
/* The in-memory crate graph: what an adapter produces, what the index stores, what the writer
 * renders. It knows nothing of SQLite, JSON or processes. */
#ifndef PROJMODEL_GRAPH_H
#define PROJMODEL_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

struct pm_arena;
struct pm_error;
struct pm_stamp_file;

enum pm_crate_kind {
        PM_CRATE_LIB,
        PM_CRATE_BIN,
        PM_CRATE_TEST,
        PM_CRATE_PROC_MACRO,
        _PM_CRATE_KIND_MAX
};

/* "lib", "bin", "test", "proc-macro". */
const char *pm_crate_kind_name(enum pm_crate_kind kind);
/* Returns 0 and sets *ret_kind, or PM_ENOTFOUND for an unknown name. */
int pm_crate_kind_parse(const char *name, enum pm_crate_kind *ret_kind);

/* A list of strings; the array and strings belong to the graph's arena. */
struct pm_strlist {
        char **v;   /* v[0..n) */
        size_t n;   /* used */
        size_t cap; /* allocated */
};

/* One environment variable. */
struct pm_kv {
        char *key;
        char *value;
};

struct pm_kvlist {
        struct pm_kv *v;
        size_t n;
        size_t cap;
};

/* One dependency edge from the crate that holds it. */
struct pm_dep {
        char *label; /* model label of the dependency (must name a crate of the model) */
        char *name;  /* extern name the dependent uses (a rename), or NULL for the dep's
                      * crate_name; never contains '-' once stored */
};

/*
 * The crate schema: one line per field of struct pm_crate (all but the dependency edges, which
 * compare as a set and live in their own table). This list drives the struct, copy, equality,
 * the required-field and path checks of validation, the hash, the model's SQL columns and
 * binds, loading, and the JSON of `projmodel/crate` and `projmodel dump --json`; adding a field
 * is one line here plus its rendering (docs/model.md, "Adding a crate field").
 *
 * X(name, type, null, json):
 *   type  STR   a string (char *)
 *         PATH  an absolute, lexically normalised path (char *)
 *         KIND  enum pm_crate_kind (stored as its name)
 *         BOOL  bool
 *         LIST  a string list (struct pm_strlist), packed into the crate's row
 *         ENV   a key/value list (struct pm_kvlist), packed into the crate's row
 *         PATHS a list of absolute paths (struct pm_strlist), one row per entry in the model
 *               table crate_<name>, so queries can look paths up
 *   null  REQ (never NULL once an adapter returns the crate), OPT (NULL when absent) or KEY
 *         (REQ, and unique across the model: the label)
 *   json  the camelCase key of the projmodel/crate reply (dump uses the field name)
 */
#define PM_CRATE_FIELDS(X)                                                                        \
        /* unique model key, e.g. "//lib/foo:foo" or "//lib/foo:foo(//build/toolchain:host)" */   \
        X(label, STR, KEY, "label")                                                               \
        X(build_system, STR, REQ, "buildSystem") /* "gn", "bazel", "buck2" or "cargo" */          \
        X(display_name, STR, OPT, "displayName") /* human-readable (may contain '-') */           \
        X(crate_name, STR, REQ, "crateName")     /* the name rustc uses ('_' not '-') */          \
        X(kind, KIND, REQ, "kind")                                                                \
        X(edition, STR, REQ, "edition") /* "2015" ... "2024" */                                   \
        X(root_module, PATH, REQ, "rootModule")                                                   \
        X(target, STR, OPT, "target")     /* target triple, NULL for the host's */                \
        X(cfgs, LIST, REQ, "cfgs")        /* rust-analyzer cfgs, flag order */                    \
        X(env, ENV, REQ, "env")           /* env!() values */                                     \
        X(flags, LIST, REQ, "flags")      /* raw rustc flags of the build system */               \
        X(sources, PATHS, REQ, "sources") /* source files the build declares */                   \
        /* directories holding every file the crate uses (root dir, generated dirs) */            \
        X(include_dirs, PATHS, REQ, "includeDirs")                                                \
        X(build_file, PATH, OPT, "buildFile")                  /* the file declaring the crate */ \
        X(proc_macro_dylib, PATH, OPT, "procMacroDylib")       /* for proc macros */              \
        X(is_workspace_member, BOOL, REQ, "isWorkspaceMember") /* first-party (editable) */       \
        X(note, STR, OPT, "note") /* a remark for the user ("build script not run") */            \
        /* build targets that compile the crate's unit tests on their own (Bazel's rust_test      \
         * crate = ...), in the build system's label syntax; empty for most crates */             \
        X(test_targets, LIST, REQ, "testTargets")

#define PM__CRATE_CTYPE_STR                      char *
#define PM__CRATE_CTYPE_PATH                     char *
#define PM__CRATE_CTYPE_KIND                     enum pm_crate_kind
#define PM__CRATE_CTYPE_BOOL                     bool
#define PM__CRATE_CTYPE_LIST                     struct pm_strlist
#define PM__CRATE_CTYPE_ENV                      struct pm_kvlist
#define PM__CRATE_CTYPE_PATHS                    struct pm_strlist
#define PM__CRATE_MEMBER(name, type, null, json) PM__CRATE_CTYPE_##type name;

/*
 * One crate. Invariants once an adapter returns it: the REQ fields above are non-NULL; every
 * path is absolute and lexically normalised; cfgs use rust-analyzer's syntax (`unix`,
 * `feature="x"`, value quoted); edition is one of "2015", "2018", "2021", "2024". All strings
 * belong to the owning graph's arena.
 */
struct pm_crate {
        PM_CRATE_FIELDS(PM__CRATE_MEMBER)
        struct pm_dep *deps; /* deps[0..n_deps) */
        size_t n_deps;
        size_t cap_deps;
        /*
         * Not a field of the model (never stored, compared or rendered): the build-system target
         * whose output directory is the crate's OUT_DIR (Buck2's `cell//pkg:x-build-script-run
         * [out_dir]`, Bazel's cargo_build_script label), set by the adapter's parse and built by
         * server/build.c before the graph is applied, or NULL. In the graph's arena.
         */
        char *out_dir_target;
        /*
         * Not a field of the model either: the crate's sources that another target generates,
         * each as key the build-system label the crate's sources name it by (Bazel's genrule
         * `//pkg:gen_rs` or its output file `//pkg:generated.rs`) and value the path the parse
         * gave it, which does not exist until that target is built. Set by the adapter's parse;
         * server/build.c builds the targets and puts the files the build reported in place of
         * those paths (docs/build-integration.md). Empty for most crates. In the graph's arena.
         */
        struct pm_kvlist gen_srcs;
};

enum pm_crate_field_type {
        PM_FIELD_STR,
        PM_FIELD_PATH,
        PM_FIELD_KIND,
        PM_FIELD_BOOL,
        PM_FIELD_LIST,
        PM_FIELD_ENV,
        PM_FIELD_PATHS,
};

/* One line of PM_CRATE_FIELDS at run time. */
struct pm_crate_field {
        const char *name; /* the member name, also the model column and dump's JSON key */
        enum pm_crate_field_type type;
        bool required;
        const char *json; /* camelCase key of the projmodel/crate reply */
        size_t offset;    /* offsetof(struct pm_crate, name) */
};

/* PM_CRATE_FIELD_label, ...: a field's index in pm_crate_fields[]. */
#define PM__CRATE_FIELD_ID(name, type, null, json) PM_CRATE_FIELD_##name,

enum pm_crate_field_id {
        PM_CRATE_FIELDS(PM__CRATE_FIELD_ID) PM_CRATE_N_FIELDS
};

/* PM_CRATE_FIELDS in order. */
extern const struct pm_crate_field pm_crate_fields[PM_CRATE_N_FIELDS];

/* Field @f of crate @c as an lvalue of type T (char *, bool, struct pm_strlist, ...). */
#define PM_CRATE_AT(c, f, T) (*(T *)(void *)((char *)(c) + (f)->offset))

/*
 * The most bytes of one warning (pm_graph.warnings) wherever it is printed or listed: every
 * command's stderr and discover's progress lines, the daemon's status and $/progress. A longer
 * one is cut by the one function pm_utf8_clip(text, PM_WARNING_MAX) (strbuf.h): before a whole
 * UTF-8 character, ending with "..." (docs/cli.md "Warnings").
 */
#define PM_WARNING_MAX 480

/*
 * A crate graph and everything an adapter run learnt. All memory belongs to the graph's arena;
 * pm_graph_free() releases it in one go.
 *
 * A graph is "complete" when it describes every crate of its subproject; an incremental query
 * (partial == true) describes only the crates declared by the build files in `covered`, and
 * applying it leaves other crates alone.
 */
struct pm_graph {
        struct pm_arena *arena;  /* owns every string and array below */
        struct pm_crate *crates; /* crates[0..n_crates), in no particular order */
        size_t n_crates;
        size_t cap_crates;
        struct pm_strlist build_files; /* absolute files the build tool read (watch set) */
        bool partial;                  /* only the crates of `covered` are described */
        struct pm_strlist covered;     /* with partial: the build files re-queried */
        struct pm_strlist warnings;    /* non-fatal problems ("target X: ..., ignoring"),
                                        * each at most PM_WARNING_MAX bytes when printed */
        /*
         * The build file (absolute) each warning is about, when the adapter knows it
         * (pm_graph_warn_about()): v[i] goes with warnings.v[i], "" for a warning about the whole
         * output, and warnings past its end are about the whole output too. The daemon replaces
         * a build file's warnings when a partial graph covers that file, and keeps the others.
         */
        struct pm_strlist warning_files;
        /*
         * Build files (absolute) the tool could not load or analyse this run (a syntax error
         * Bazel's --keep_going skipped): the graph does not describe their crates, so applying
         * it keeps the model's crates declared by these files that the graph lacks, as they
         * were (their last good state, with their edges), instead of deleting them. Any
         * adapter may fill it (and lists the files in build_files too, so their fix is
         * watched); an input stamp is never stored for such a graph.
         */
        struct pm_strlist failed;
        /*
         * The files of `failed` with an error of their own (a syntax error, a package that does
         * not load), as opposed to those listed because a file they depend on failed (their
         * targets' analysis failed with it): the warning after the apply names and counts these.
         * Empty either when none has an error of its own (failed_own_known) or when the
         * adapter does not tell them apart (every file of `failed` may have one).
         */
        struct pm_strlist failed_own;
        /* The adapter told own errors from a dependency's failure, so an empty failed_own means
         * none: each file of `failed` failed with something outside them (an external
         * repository's package), and the warning says so (server/parse-apply.c). */
        bool failed_own_known;
        /*
         * Adapter state for the next incremental query (pm_query.previous_fingerprints), sorted
         * by key, or empty: GN gives one entry per target of its output (label -> hash of the
         * target's JSON) plus one for its settings, for every target even in a partial graph.
         */
        struct pm_kvlist fingerprints;
        /*
         * With inputs_known, the adapter promises that the graph depends only on the query
         * (configuration, project, step outputs) and on the files in `inputs` (absolute; files it
         * looked for and did not find are listed too), so an unchanged query with unchanged
         * inputs gives the same graph (projmodel/stamp.h). Adapters that cannot promise this
         * leave it false and are always re-parsed.
         */
        struct pm_strlist inputs;
        bool inputs_known;
        /* NULL, or what the parse saw of each file of `inputs` (same order; in the arena), so
         * the stamp need not stat them again (pm_stamp_make_known()). */
        struct pm_stamp_file *input_files;
        /*
         * The crates' proc_macro_dylib paths are what a build run by the query itself reported
         * (Cargo's build step), in the tool's own output directory, which its next run may
         * rewrite in place: the server copies each into the content-addressed dylib cache
         * (projmodel/dylib-cache.h) before the graph is applied.
         */
        bool dylibs_built;
};

/* A new empty graph owned by the caller (free with pm_graph_free()), or NULL on OOM. */
struct pm_graph *pm_graph_new(void);
/* Frees @g and all it owns. NULL is a no-op. Returns NULL. */
struct pm_graph *pm_graph_free(struct pm_graph *g);

/* Append a zeroed crate; returns it (owned by @g, valid until the next add) or NULL on OOM. */
struct pm_crate *pm_graph_add_crate(struct pm_graph *g);

/* Copy @s into @g's arena. NULL gives NULL. */
char *pm_graph_strdup(struct pm_graph *g, const char *s);
char *pm_graph_printf(struct pm_graph *g, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Append warning @msg about build file @build_file (absolute; NULL: the whole output) to @g's
 * warnings and warning_files. Returns 0 or -ENOMEM. */
int pm_graph_warn_about(struct pm_graph *g, const char *build_file, const char *msg);

/* Append a copy of @s to @l. Returns 0 or -ENOMEM. */
int pm_strlist_push(struct pm_graph *g, struct pm_strlist *l, const char *s);
/* As pm_strlist_push(), unless an equal string is already there (returns 0 then). */
int pm_strlist_push_unique(struct pm_graph *g, struct pm_strlist *l, const char *s);
bool pm_strlist_contains(const struct pm_strlist *l, const char *s);
/*
 * Sort @l and drop duplicates, in O(n log n). For long lists (a watch set of thousands of build
 * files) push everything and call this once, instead of pm_strlist_push_unique() per item.
 */
void pm_strlist_sort_unique(struct pm_strlist *l);

/* Set @key to @value (replacing an existing key). Returns 0 or -ENOMEM. */
int pm_kvlist_set(struct pm_graph *g, struct pm_kvlist *l, const char *key, const char *value);
/* Borrowed value of @key, or NULL. */
const char *pm_kvlist_get(const struct pm_kvlist *l, const char *key);

/* Append a dependency (copies both strings; @name may be NULL). Returns 0 or -ENOMEM. */
int pm_crate_add_dep(struct pm_graph *g, struct pm_crate *c, const char *label, const char *name);

/*
 * Copy crate @src (from any graph) into @g, deep. Returns the copy (owned by @g) or NULL.
 */
struct pm_crate *pm_graph_copy_crate(struct pm_graph *g, const struct pm_crate *src);

/* Find a crate by label (linear; for large graphs use pm_graph_index()). Borrowed or NULL. */
struct pm_crate *pm_graph_find(const struct pm_graph *g, const char *label);

/*
 * Sort crates by label and build a lookup so pm_graph_lookup() is O(log n). Any later add
 * invalidates it.
 */
void pm_graph_sort(struct pm_graph *g);
struct pm_crate *pm_graph_lookup(const struct pm_graph *g, const char *label);

/*
 * Check the invariants above for every crate (required fields, absolute paths, edition values,
 * dep names without '-', deps naming crates of @g unless @allow_dangling). On failure returns
 * PM_ESCHEMA naming the crate's label and what is wrong.
 */
int pm_graph_validate(const struct pm_graph *g, bool allow_dangling, struct pm_error *err);

/*
 * Compare two crates field by field (deps compared as sets of (label, name)). True if equal:
 * the index uses this to leave unchanged crates alone.
 */
bool pm_crate_equal(const struct pm_crate *a, const struct pm_crate *b);

/*
 * Parse one rustc flag list the way rustc does, for adapters: fills @c's cfgs (from "--cfg X",
 * "--cfg=X"; a value is re-quoted to `key="v"` form), edition ("--edition X", "--edition=X",
 * left unchanged if absent), target ("--target X", "--target=X"). Unknown flags are ignored.
 */
int pm_crate_apply_rustc_flags(struct pm_graph *g, struct pm_crate *c,
                               const struct pm_strlist *flags, struct pm_error *err);

/*
 * Normalise one cfg spelling to rust-analyzer's: `feature=x` and `feature="x"` both give
 * `feature="x"`; a bare name is unchanged. Returns an arena string or NULL on OOM.
 */
char *pm_cfg_normalize(struct pm_graph *g, const char *cfg);

/*
 * The one crate-name check: true if @name is what rustc accepts as a crate or extern name (an
 * ASCII identifier, not `_` alone). With @dash_is_underscore, '-' counts as '_' (for adapters
 * whose crate builder maps it later). Every adapter and pm_graph_validate use this.
 */
bool pm_crate_name_valid(const char *name, bool dash_is_underscore);

/* True if @e is "2015", "2018", "2021" or "2024". */
bool pm_edition_valid(const char *e);

/* Iterate crates: `pm_graph_foreach_crate(g, c) { ... }`. */
#define pm_graph_foreach_crate(g, c) \
        for ((c) = (g)->crates; (c) < (g)->crates + (g)->n_crates; (c)++)

#endif
