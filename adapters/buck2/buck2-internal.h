/* SPDX-License-Identifier: MIT */
/* Declarations shared by the Buck2 adapter's own files (adapters/buck2/ only). */
#ifndef PROJMODEL_ADAPTERS_BUCK2_INTERNAL_H
#define PROJMODEL_ADAPTERS_BUCK2_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "projmodel/adapter.h"
#include "projmodel/banned.h"
#include "projmodel/graph.h"

struct cJSON;
struct pm_arena;
struct pm_error;

/* Limits on `buck2 targets` output. */
#define PM_BUCK2_MAX_TARGETS     500000 /* objects in the output array */
#define PM_BUCK2_MAX_ALIAS_HOPS  32     /* alias -> alias -> ... chains */
#define PM_BUCK2_MAX_SELECT_NEST 16     /* select() inside concat inside select() ... */
#define PM_BUCK2_MAX_BUCKCONFIG  (1 << 20)

#define PM__BUCK2_NO_FOLD      SIZE_MAX
#define PM__BUCK2_MAX_CELLS    256
#define PM__BUCK2_MAX_BF_NAMES 8

enum pm__buck2_rule {
        PM__BUCK2_RULE_OTHER,
        PM__BUCK2_RULE_LIBRARY,
        PM__BUCK2_RULE_BINARY,
        PM__BUCK2_RULE_TEST,
        PM__BUCK2_RULE_ALIAS,
};

/* One object of the output array. Strings live in the scratch arena or in the cJSON tree. */
struct pm__buck2_target {
        const struct cJSON *obj;
        const char *label;   /* "cell//pkg:name" */
        const char *cell;    /* "root" */
        const char *pkg;     /* package path inside its cell, "" for the cell root */
        const char *pkg_dir; /* absolute */
        const char *name;
        enum pm__buck2_rule rule;
        size_t crate; /* index into the graph's crates (Rust rules only) */
        size_t fold;  /* index of the library target this test folds into, or PM__BUCK2_NO_FOLD */
};

struct pm__buck2_cell {
        char *name;
        char *dir; /* absolute */
};

/* One parse: what every buck2-*.c helper needs. */
struct pm__buck2_ctx {
        const struct pm_query *q;
        const char *root;
        const char *origin;
        const char *edition;
        struct pm_arena *a;    /* scratch: freed when the parse ends */
        struct cJSON *scratch; /* values made by resolving concat */
        struct pm__buck2_cell cells[PM__BUCK2_MAX_CELLS];
        size_t n_cells;
        const char *bf_names[PM__BUCK2_MAX_BF_NAMES + 5];
        struct pm__buck2_target *t;
        size_t n;
        struct pm__buck2_target **sorted; /* by label, for lookups */
        size_t n_sorted;
        /* The packages of the "buck.error" entries ("cell//pkg", in g's arena), and per crate
         * whether it depends on a target of one of them (allocated when there are any). */
        struct pm_strlist failed_pkgs;
        bool *lost;
        struct pm_graph *g;
        struct pm_error *err;
};

/* PM_EBADTOOLOUTPUT naming the output file and target @t (may be NULL). Returns the code. */
int pm__buck2_bad(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* -ENOMEM with its message. */
int pm__buck2_oom(struct pm__buck2_ctx *x);

/*
 * Attribute @attr of @t with select() resolved to DEFAULT and concatenations joined; *ret is
 * borrowed (from the parse tree or x->scratch) and NULL when absent or null. The typed forms
 * fail with PM_EBADTOOLOUTPUT naming the target and attribute when the type is wrong.
 */
int pm__buck2_get_attr(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
                       const struct cJSON **ret);
int pm__buck2_get_string(struct pm__buck2_ctx *x, const struct pm__buck2_target *t,
                         const char *attr, const char **ret);
int pm__buck2_get_strlist(struct pm__buck2_ctx *x, const struct pm__buck2_target *t,
                          const char *attr, const struct cJSON **ret);
int pm__buck2_get_strdict(struct pm__buck2_ctx *x, const struct pm__buck2_target *t,
                          const char *attr, const struct cJSON **ret);

/* Fill x->cells and x->bf_names from <root>/.buckconfig (defaults when it is missing). */
int pm__buck2_load_buckconfig(struct pm__buck2_ctx *x);
/* The directory of cell @name (@len bytes); unknown cells are the project root. Borrowed. */
const char *pm__buck2_cell_dir(const struct pm__buck2_ctx *x, const char *name, size_t len);

/* The absolute build file of the package in @pkg_dir (absolute): the first of x->bf_names that
 * exists, else the first name (captured output may come without its tree). *ret is owned by
 * x->g's arena. -ENOMEM (no message set) on out of memory. */
int pm__buck2_build_file_of(struct pm__buck2_ctx *x, const char *pkg_dir, char **ret);

/* The end of the warning of a package Buck2 could not load (buck2-error.c). */
#define PM__BUCK2_KEEP_GOING "buck2 could not load it with --keep-going"

/*
 * A "buck.error" entry of `buck2 targets --keep-going` (buck2-error.c): a warning
 * "FILE:LINE:COL: MESSAGE (buck2 could not load it with --keep-going)" at the place Buck2's error
 * names (FILE absolute), else "package 'CELL//PKG': buck2 could not load it with --keep-going:
 * TEXT"; the package's build file in x->g's failed and build files, and the package in
 * x->failed_pkgs. -ENOMEM on OOM.
 */
int pm__buck2_error_entry(struct pm__buck2_ctx *x, const struct cJSON *obj);

/*
 * Whether @out, the output of `buck2 targets --keep-going`, is one to parse (buck2-error.c):
 * always when out->exit_status is 0. Buck2 exits 0 when a package fails to load, but early
 * versions exit 1, mid-2023 ones 2, and 3 is taken too (the plan's ok_exit_codes); for those
 * only when stdout is one complete JSON array with at least one "buck.error" entry (the packages
 * it went past), so that a failure of another kind (a bad flag, the daemon) is not read as an
 * empty or partial model. @json is @out's data as parse parsed it, once (borrowed), or NULL when
 * it is not valid JSON. Returns 0 when it is; else PM_ETOOL "<out->error> (not --keep-going's
 * partial list: WHY)", without out->error "'<origin>' exited with status N: <stderr's error
 * line> (...)", the line picked as the step runners pick it. Allocates nothing.
 */
int pm__buck2_keep_going_output(const struct pm_blob *out, const struct cJSON *json,
                                struct pm_error *err);

/* The "buck2" section's keys, NULL-terminated (pm_adapter_ops.config_keys). */
extern const char *const pm__buck2_config_keys[];

/*
 * The "buck2" section of .projmodel.json, validated: what the query plan (buck2.c) and the build
 * plan (buck2-build.c) both read. Strings are borrowed from the configuration's JSON; the arrays
 * are pm_malloc'd. Release with pm__buck2_settings_release().
 */
struct pm__buck2_settings {
        const char **command; /* NULL-terminated: the configured "command", else {"buck2"} */
        size_t n_command;
        const char **args; /* extra `buck2 targets` arguments, NULL-terminated, or NULL */
        size_t n_args;
        const char *target_pattern;  /* default "//..." */
        const char *isolation_dir;   /* default ".projmodel"; "" for the user's own daemon */
        const char *default_edition; /* default "2021" */
};

/* Read and validate the project's "buck2" settings: PM_ECONFIG naming the file and the key, or
 * -ENOMEM. On success @ret is filled. */
int pm__buck2_settings_load(const struct pm_query *q, struct pm__buck2_settings *ret,
                            struct pm_error *err);
void pm__buck2_settings_release(struct pm__buck2_settings *s);

/* A new argv (pm_argv_free()) starting every buck2 run: the command, then `--isolation-dir DIR`
 * unless the isolation dir is "". NULL on OOM. */
char **pm__buck2_argv_new(const struct pm__buck2_settings *s);

/*
 * The "buck2" section's "default_edition" setting ("2021" unless configured), validated. *ret
 * (when non-NULL) is borrowed from the configuration. PM_ECONFIG for a value that is no edition.
 */
int pm__buck2_default_edition(const struct pm_query *q, const char **ret, struct pm_error *err);

/* ops->parse: the JSON array of `buck2 targets --json` in outputs[0]. */
int pm__buck2_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                    struct pm_graph **ret_graph, struct pm_error *err);

/* The adapter's build file names, NULL-terminated, in preference order. */
const char *const *pm__buck2_build_file_names(void);

#include "projmodel/banned.h"

/* The ops' build_plan and build_parse (buck2-build.c): `buck2 build --build-report=FILE` of the
 * proc-macro targets, and each dylib read from that report. */
int pm__buck2_build_plan(const struct pm_query *q, const struct pm_graph *graph,
                         const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                         struct pm_error *err);
int pm__buck2_build_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                          struct pm_build_report *ret_report, struct pm_error *err);

struct pm_check_output;
struct pm_check_plan;

/* `projmodel check|test|run` of one Buck2 crate, step by step: the adapter's check_step
 * (adapters/buck2/buck2-check.c, include/projmodel/adapter.h). */
int pm__buck2_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                         struct pm_error *err);

#endif
