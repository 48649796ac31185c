/* SPDX-License-Identifier: MIT */
/* Declarations shared by the gn adapter's files only (settings, IDE JSON parser, ninja reader). */
#ifndef PROJMODEL_GN_INTERNAL_H
#define PROJMODEL_GN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/graph.h"

#include "adapters/adapters-internal.h"

struct cJSON;
struct pm_arena;
struct pm_blob;
struct pm_error;
struct pm_query;

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
 * Parse the value of an externs variable (ninja-escaped) into pairs, as above. Exposed for the
 * reader and the tests.
 */
int pm__gn_parse_externs(struct pm_arena *a, const char *value, size_t len, const char *origin,
                         struct pm__gn_extern **ret_v, size_t *ret_n, struct pm_error *err);

#include "projmodel/banned.h"

/* One entry of the JSON's target map (gn-parse.c builds them, gn-crate.c reads them). */
struct pm__gn_target {
        const char *label;        /* borrowed from the JSON */
        const struct cJSON *json; /* the target's object */
        const char *crate_name;   /* borrowed; Rust targets only */
        char *output;             /* absolute first output (tmp arena), or NULL */
        size_t crate;             /* index into the graph's crates; Rust targets only */
        unsigned mark;            /* visit generation while flattening groups */
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
        struct pm_error *err;
};

/* gn-crate.c: errors, warnings, paths and property readers for one target, and its crate. */
int pm__gn_oom(struct pm__gn_ctx *c);
/* PM_EBADTOOLOUTPUT "cannot parse '<origin>': target '<label>' <what>". */
int pm__gn_bad_target(struct pm__gn_ctx *c, const char *label, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* PM_EBADTOOLOUTPUT "cannot parse '<origin>': <what>". */
int pm__gn_bad(struct pm__gn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a warning to the graph. */
int pm__gn_warn(struct pm__gn_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "//x" (source-relative) or "/x" (system-absolute) as an absolute path owned by @a; *ret
 * is NULL when @s is neither. */
int pm__gn_path(struct pm__gn_ctx *c, struct pm_arena *a, const char *s, char **ret);
/* A path property entry @item of @t: a GN path string, else PM_EBADTOOLOUTPUT. */
int pm__gn_target_path(struct pm__gn_ctx *c, struct pm__gn_target *t, struct pm_arena *a,
                       const char *key, const struct cJSON *item, char **ret);
/* Optional array-of-strings property: *ret NULL when absent, PM_EBADTOOLOUTPUT if mistyped. */
int pm__gn_string_array(struct pm__gn_ctx *c, struct pm__gn_target *t, const char *key,
                        const struct cJSON **ret);
/* A string property, borrowed, or NULL. */
const char *pm__gn_string_prop(const struct pm__gn_target *t, const char *key);
/* "//dir:name(//tc:tcname)" -> "dir" ("" at the root), "name", "tcname" or NULL (tmp arena). */
int pm__gn_split_label(struct pm__gn_ctx *c, const char *label, char **ret_dir, char **ret_name,
                       char **ret_tc);
/* Add the crate of Rust target @t to the graph (everything but its deps). */
int pm__gn_build_crate(struct pm__gn_ctx *c, struct pm__gn_target *t);

#endif
