/* SPDX-License-Identifier: MIT */
/* Declarations shared by the bazel adapter's files only (settings, scope, jsonproto parser). */
#ifndef PROJMODEL_BAZEL_INTERNAL_H
#define PROJMODEL_BAZEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct pm_blob;
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

#include "projmodel/banned.h"

#endif
