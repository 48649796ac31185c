/* SPDX-License-Identifier: MIT */
/* Declarations shared by the gn adapter's files only (settings, IDE JSON parser, ninja reader). */
#ifndef PROJMODEL_GN_INTERNAL_H
#define PROJMODEL_GN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/graph.h"
#include "projmodel/stamp.h"

#include "adapters/adapters-internal.h"

struct cJSON;
struct pm_arena;
struct pm_blob;
struct pm_error;
struct pm_output_builder;
struct pm_query;
struct pm__gn_span;

/* Limits on what GN hands us; going over one is PM_ELIMIT or PM_EBADTOOLOUTPUT. */
#define PM_GN_MAX_JSON_BYTES  (1024UL * 1024 * 1024) /* when the config gives no max */
#define PM_GN_MAX_NINJA_BYTES (64UL * 1024 * 1024)   /* one <target>.ninja file */
#define PM_GN_MAX_LABEL       4096                   /* one label, toolchain suffix included */
#define PM_GN_MAX_PATH        4096                   /* one source-absolute path */
#define PM_GN_MAX_TARGETS     1000000                /* targets in one JSON document */

/*
 * The "gn" section of .projmodel.json, validated. Strings are borrowed from the configuration's
 * JSON except out_dir, which is pm_malloc'd; release with pm__gn_settings_release().
 */
struct pm__gn_settings {
        const char *gn;              /* the gn executable, default "gn" */
        char *out_dir;               /* absolute, normalised build directory */
        const char *args;            /* value for --args=..., or NULL to leave args.gn alone */
        const char *default_edition; /* edition of crates without --edition, default "2015" */
        const char **third_party;    /* label prefixes of third-party crates (NULL-terminated,
                                      * pm_malloc'd array of borrowed strings), or NULL */
        size_t n_third_party;
};

/*
 * Read and validate the project's "gn" settings. Errors are PM_ECONFIG naming the configuration
 * file and the key. On success @ret is filled (release with pm__gn_settings_release()).
 */
int pm__gn_settings_load(const struct pm_query *q, struct pm__gn_settings *ret,
                         struct pm_error *err);
void pm__gn_settings_release(struct pm__gn_settings *s);

/*
 * Parse one GN JSON document (a `gn gen --ide=json` project.json, or a `gn desc --format=json`
 * object) into a new graph owned by the caller. Reads the targets' ninja files next to it for
 * dependency renames. Malformed input is PM_EBADTOOLOUTPUT naming @blob's origin and the target.
 */
int pm__gn_parse(const struct pm_query *q, const struct pm__gn_settings *settings,
                 const struct pm_blob *blob, struct pm_graph **ret_graph, struct pm_error *err);

/* One `--extern NAME=PATH` of a ninja file; strings belong to the arena given to the reader. */
struct pm__gn_extern {
        char *name;
        char *path; /* as written: relative to the build directory, or absolute */
};

/*
 * Read the `externs = --extern NAME=PATH ...` variable of the ninja file @path (the first one
 * in the file; GN writes one build edge per Rust target). Returns 1 and sets *ret_v (allocated
 * from @a, NULL when empty) and *ret_n when the variable is there, 0 (both set to none) when the
 * file has no such variable. A missing file is -ENOENT; an unreadable or oversized one is
 * -errno or PM_ELIMIT; a malformed line is PM_EBADTOOLOUTPUT; all name @path.
 */
int pm__gn_ninja_read_externs(struct pm_arena *a, const char *path, struct pm__gn_extern **ret_v,
                              size_t *ret_n, struct pm_error *err);
/*
 * As pm__gn_ninja_read_externs(), also saying in *ret_file what the file read was (its fstat(),
 * or missing), for the input stamp; *ret_file is set on every return. With @dirfd >= 0 the file
 * is opened as @rel under @dirfd (the same file as @path, which names it in errors).
 */
int pm__gn_ninja_read_externs_at(struct pm_arena *a, int dirfd, const char *rel, const char *path,
                                 struct pm_stamp_file *ret_file, struct pm__gn_extern **ret_v,
                                 size_t *ret_n, struct pm_error *err);

/*
 * Parse the value of an externs variable (ninja-escaped) into pairs, as above. Exposed for the
 * reader and the tests.
 */
int pm__gn_parse_externs(struct pm_arena *a, const char *value, size_t len, const char *origin,
                         struct pm__gn_extern **ret_v, size_t *ret_n, struct pm_error *err);

#include "projmodel/banned.h"

/*
 * The target properties the parse reads, in the order the scanner records their raw JSON. The
 * first _PM__GN_IFACE_MAX are what other targets' deps read of a target (its interface, for the
 * incremental fingerprints).
 */
enum pm__gn_prop {
        PM__GN_PROP_TYPE,
        PM__GN_PROP_CRATE_ROOT,
        PM__GN_PROP_CRATE_NAME,
        PM__GN_PROP_OUTPUTS,
        PM__GN_PROP_DEPS,
        PM__GN_PROP_RUSTFLAGS,
        PM__GN_PROP_SOURCES,
        PM__GN_PROP_INPUTS,
        PM__GN_PROP_RUSTENV,
        _PM__GN_PROP_MAX
};

#define _PM__GN_IFACE_MAX (PM__GN_PROP_DEPS + 1)

/* What a property holds, as far as the parse cares. */
enum pm__gn_vkind {
        PM__GN_ABSENT,
        PM__GN_STRING,      /* s */
        PM__GN_STRINGS,     /* an array of strings: v[0..n) */
        PM__GN_ARRAY_OTHER, /* an array with an entry that is not a string */
        PM__GN_OTHER,       /* anything else (null, a number, an object, ...) */
};

/* One property's value, decoded (strings in the parse's tmp arena or borrowed from the JSON). */
struct pm__gn_val {
        enum pm__gn_vkind kind;
        const char *s;
        const char **v;
        size_t n;
};

/* One ninja file read ahead (gn-prefetch.c); ext and n_ext in the prefetch's arenas. */
struct pm__gn_prefetch_slot {
        const char *path; /* absolute, under the build directory */
        struct pm__gn_extern *ext;
        size_t n_ext;
        struct pm_stamp_file file;
        int r; /* pm__gn_ninja_read_externs_at()'s result */
};

/* One entry of the JSON's target map (gn-parse.c builds them, gn-crate.c reads them). */
struct pm__gn_target {
        const char *label;                        /* tmp arena or borrowed from the JSON */
        bool is_object;                           /* the entry is a JSON object */
        struct pm__gn_val prop[_PM__GN_PROP_MAX]; /* its properties (first occurrence) */
        struct pm__gn_prefetch_slot *prefetch;    /* its ninja file read ahead, or NULL */
        const char *crate_name;                   /* borrowed; Rust targets only */
        char *output;                             /* absolute first output (tmp arena), or NULL */
        size_t crate;  /* index into the graph's crates; Rust targets only */
        unsigned mark; /* visit generation while flattening groups */
        bool is_group;
        bool is_rust;
        bool linkable; /* a Rust dependency can name it: rust_library, rust_proc_macro */
        enum pm_crate_kind kind;
};

/* One parse: everything the passes share. Arrays and strings are owned as noted. */
struct pm__gn_ctx {
        const struct pm_query *q;
        const struct pm__gn_settings *s;
        const char *origin;
        const char *root;              /* absolute project root */
        char *out_dir;                 /* absolute build directory (tmp arena) */
        const char *default_toolchain; /* or NULL (desc output does not say) */
        struct pm_arena *tmp;
        struct pm_graph *g;
        struct pm__gn_target *t;
        size_t n;
        size_t *stack; /* group expansion (pm_malloc'd) */
        size_t cap_stack;
        size_t *found;                    /* one target's Rust deps, n entries (pm_malloc'd) */
        struct pm__gn_target **by_output; /* linkable Rust targets sorted by output (tmp arena) */
        size_t n_by_output;
        unsigned mark;
        size_t n_missing_ninja;
        char *first_missing_ninja;
        size_t cap_input_files; /* entries of g->input_files */
        int out_dir_fd;         /* out_dir opened for the ninja files (O_PATH), or -1 */
        bool out_dir_opened;    /* out_dir_fd was tried (close it with pm__gn_ctx_close()) */
        struct pm__gn_prefetch *prefetch; /* ninja files read ahead, or NULL */
        struct pm_error *err;
};

/* Close what the ctx opened (the build directory, a prefetch). */
void pm__gn_ctx_close(struct pm__gn_ctx *c);

/* gn-prefetch.c: reading ninja files ahead on a second thread (c->out_dir_fd must be open). */
struct pm__gn_prefetch;
/*
 * Start reading the @n ninja files @paths (strings that outlive the prefetch) ahead; *ret_slots
 * is one slot per path (valid until pm__gn_prefetch_free()), or NULL when nothing is read ahead
 * (few files, no thread). Fails only with -ENOMEM.
 */
int pm__gn_prefetch_start(struct pm__gn_ctx *c, const char *const *paths, size_t n,
                          struct pm__gn_prefetch_slot **ret_slots);
/* Read what is left on this thread, then wait for the worker: every slot is filled. */
void pm__gn_prefetch_finish(struct pm__gn_ctx *c);
/* Stop the worker (if still running) and free everything; NULL prefetch is a no-op. */
void pm__gn_prefetch_free(struct pm__gn_ctx *c);

/* gn-crate.c: errors, warnings, paths and property readers for one target, and its crate. */
int pm__gn_oom(struct pm__gn_ctx *c);
/* PM_EBADTOOLOUTPUT "cannot parse '<origin>': target '<label>' <what>". */
int pm__gn_bad_target(struct pm__gn_ctx *c, const char *label, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* PM_EBADTOOLOUTPUT "cannot parse '<origin>': <what>". */
int pm__gn_bad(struct pm__gn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a warning to the graph, cut to PM_WARNING_MAX bytes by pm_utf8_clip() (graph.h). */
int pm__gn_warn(struct pm__gn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The precision for "%.*s" that prints at most @max bytes of @s and no part of a UTF-8
 * character (pm_utf8_prefix_len()): a quoted piece of a warning cut to size. @max <= INT_MAX. */
int pm__gn_clip(const char *s, size_t max);
/* As pm__gn_warn(), about target @label ("//dir:name..."): about its BUILD.gn (pm_graph.h). */
int pm__gn_warn_target(struct pm__gn_ctx *c, const char *label, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* "//x" (source-relative) or "/x" (system-absolute) as an absolute path owned by @a; *ret
 * is NULL when @s is neither. */
int pm__gn_path(struct pm__gn_ctx *c, struct pm_arena *a, const char *s, char **ret);
/* A path property entry @s of @t (property @key): a GN path, else PM_EBADTOOLOUTPUT. */
int pm__gn_target_path(struct pm__gn_ctx *c, struct pm__gn_target *t, struct pm_arena *a,
                       const char *key, const char *s, char **ret);
/* Optional array-of-strings property: *ret NULL when absent, PM_EBADTOOLOUTPUT if mistyped. */
int pm__gn_string_array(struct pm__gn_ctx *c, struct pm__gn_target *t, enum pm__gn_prop prop,
                        const struct pm__gn_val **ret);
/* A string property, borrowed, or NULL. */
const char *pm__gn_string_prop(const struct pm__gn_target *t, enum pm__gn_prop prop);
/* The JSON key of @prop ("crate_root"). */
const char *pm__gn_prop_name(enum pm__gn_prop prop);
/* "//dir:name(//tc:tcname)" -> "dir" ("" at the root), "name", "tcname" or NULL (tmp arena). */
int pm__gn_split_label(struct pm__gn_ctx *c, const char *label, char **ret_dir, char **ret_name,
                       char **ret_tc);
/* Add the crate of Rust target @t to the graph (everything but its deps). */
int pm__gn_build_crate(struct pm__gn_ctx *c, struct pm__gn_target *t);

/* gn-parse.c's passes, shared with gn-incremental.c (which runs them on a subset of targets). */
/*
 * Fill @t from the scanned target-map entry @sp (label: its key, which has no escapes), decoding
 * only the properties the parse reads. Then pm__gn_load_target().
 */
int pm__gn_target_from_span(struct pm__gn_ctx *c, const struct pm__gn_span *sp,
                            struct pm__gn_target *t);
/* Classify @t (label and properties filled) and check what every later pass relies on. */
int pm__gn_load_target(struct pm__gn_ctx *c, struct pm__gn_target *t);
/* Allocate c->found and index the linkable Rust targets of c->t (sorted by label) by output. */
int pm__gn_index_outputs(struct pm__gn_ctx *c);
/* Add the deps of Rust target @t (its crate built) from c->t and its ninja file. */
int pm__gn_add_deps(struct pm__gn_ctx *c, struct pm__gn_target *t);
/* Where GN wrote the ninja file of target @label (tmp arena):
 * <out>/[<toolchain name>/]obj/<dir>/<name>.ninja. */
int pm__gn_ninja_path(struct pm__gn_ctx *c, const char *label, char **ret);
/* The same path relative to the build directory, for @label's @len bytes (which start with
 * "//"), written into @buf of @size bytes with its NUL: its length, or 0 if it does not fit. No
 * allocation: the daemon's partial parse stats thousands of them (gn-incremental.c). */
size_t pm__gn_ninja_rel(const char *label, size_t len, char *buf, size_t size);
/* The one warning about targets without a ninja file, if add_deps met any. */
int pm__gn_warn_missing_ninja(struct pm__gn_ctx *c);

/* gn-incremental.c: fingerprints and partial graphs for the daemon. */

/* One entry of the target map, as bytes of the scanned document (nothing is copied). */
struct pm__gn_span {
        const char *key; /* the label as written (escapes kept), key_len bytes, no quotes */
        size_t key_len;
        const char *value; /* the target's JSON value, value_len bytes */
        size_t value_len;
        const char *prop[_PM__GN_PROP_MAX]; /* first occurrence's raw value, or NULL */
        size_t prop_len[_PM__GN_PROP_MAX];
};

/*
 * What pm__gn_scan() found. ide: the document is an object with a "targets" object. unsure:
 * something the scanner does not model the way cJSON reads it (a key with an escape at the
 * document, build-settings, target-map or target level; a target that is not an object; too many
 * targets); the caller must then parse everything with cJSON.
 */
struct pm__gn_scan {
        struct pm__gn_span *v; /* the target map in document order (pm_malloc'd) */
        size_t n;
        size_t cap;
        const char *settings; /* raw "build_settings" value, or NULL */
        size_t settings_len;
        const char *build_dir; /* raw "build_settings.build_dir" value, or NULL */
        size_t build_dir_len;
        bool ide;
        bool unsure;
};

/*
 * Check that @data is one JSON value (BOM and surrounding whitespace allowed), as strictly as
 * pm__json_check(), and record the spans of GN's target map without building a tree. Returns 0
 * with @ret filled (release with pm__gn_scan_release(), also after a failure), -ENOMEM, or
 * PM_EBADTOOLOUTPUT (bad syntax, trailing data) / PM_ELIMIT (nesting) with *ret_offset at the
 * offending byte.
 */
int pm__gn_scan(const char *data, size_t len, struct pm__gn_scan *ret, size_t *ret_offset);
void pm__gn_scan_release(struct pm__gn_scan *s);

/* A Rust target whose ninja file add_deps reads (gn-parse.c; by its raw type and deps). */
bool pm__gn_may_read_ninja(const struct pm__gn_span *sp);

/*
 * parse() for the daemon (q->want_fingerprints): as pm__gn_parse(), plus the graph's
 * fingerprints; with q->previous_fingerprints and a scope of BUILD.gn files, a partial graph of
 * the targets those files and the changed targets affect, when that is provably the same as
 * parsing everything would give for them.
 */
int pm__gn_parse_incremental(const struct pm_query *q, const struct pm__gn_settings *settings,
                             const struct pm_blob *blob, struct pm_graph **ret_graph,
                             struct pm_error *err);

/* gn-outputs.c: ninja's building of the outputs a GN graph names (adapter.h). */
extern const struct pm_output_builder pm__gn_outputs;

/*
 * The tool's own line for the failed edge whose "FAILED:" line is at @failed in ninja's output
 * (gn-outputs.c), into @buf; reads nothing past the edge's output, which ends at ninja's next
 * status ("[N/M] ..."), "FAILED: " or "ninja: " line, or at a NUL: one failed edge of many
 * costs its own length, not the rest of the output. Returns whether the line is error-marked.
 */
bool pm__gn_edge_error(const char *failed, const char *dir, char *buf, size_t size);

/*
 * The last non-empty line of @text (@len bytes) into *@ret (pm_malloc'd; NULL when there is
 * none), read from the end: ninja's `-t commands` prints every command a target's build runs,
 * megabytes for a deep target, and a check needs only the last, the crate's own (gn-check.c).
 * 0 or -ENOMEM.
 */
int pm__gn_last_line(const char *text, size_t len, char **ret);

struct pm_check_output;
struct pm_check_plan;

/* `projmodel check|test|run` of one GN crate, step by step: the adapter's check_step
 * (adapters/gn/gn-check.c, include/projmodel/adapter.h). */
int pm__gn_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                      struct pm_error *err);

#endif
