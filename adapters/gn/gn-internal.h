/* SPDX-License-Identifier: MIT */
/* Declarations shared by the gn adapter's files only (settings, IDE JSON parser, ninja reader). */
#ifndef PROJMODEL_GN_INTERNAL_H
#define PROJMODEL_GN_INTERNAL_H

#include <stddef.h>

struct pm_arena;
struct pm_blob;
struct pm_error;
struct pm_graph;
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
 * in the file; GN writes one build edge per Rust target). On success *ret_v (allocated from @a,
 * NULL when there are none) and *ret_n are set. A missing file is -ENOENT; an unreadable or
 * oversized one is -errno or PM_ELIMIT; a malformed line is PM_EBADTOOLOUTPUT; all name @path.
 */
int pm__gn_ninja_read_externs(struct pm_arena *a, const char *path, struct pm__gn_extern **ret_v,
                              size_t *ret_n, struct pm_error *err);

/*
 * Parse the value of an externs variable (ninja-escaped) into pairs, as above. Exposed for the
 * reader and the tests.
 */
int pm__gn_parse_externs(struct pm_arena *a, const char *value, size_t len, const char *origin,
                         struct pm__gn_extern **ret_v, size_t *ret_n, struct pm_error *err);

#endif
