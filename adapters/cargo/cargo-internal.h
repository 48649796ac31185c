/* SPDX-License-Identifier: MIT */
/* Declarations shared by the Cargo adapter's own files (adapters/cargo/ only). */
#ifndef PROJMODEL_ADAPTERS_CARGO_INTERNAL_H
#define PROJMODEL_ADAPTERS_CARGO_INTERNAL_H

#include <stddef.h>

#include "projmodel/adapter.h"
#include "projmodel/banned.h"

struct pm_error;
struct pm_graph;

/* Limits on `cargo metadata` output. */
#define PM_CARGO_MAX_PACKAGES 100000 /* packages in one workspace's metadata */
#define PM_CARGO_MAX_TARGETS  1000   /* targets of one package */

#include <stdbool.h>

/* The plan's steps (cargo.c): outputs[i] of parse() is step i's. */
#define PM__CARGO_STEP_METADATA 0 /* cargo metadata */
#define PM__CARGO_STEP_TARGET   1 /* rustc --print cfg --print host-tuple (optional) */
#define PM__CARGO_STEP_CHECK    2 /* cargo check --message-format=json (optional, skippable) */

/* Whether the build step's output is there to read. */
enum pm__cargo_check_mode {
        PM__CARGO_CHECK_CAPTURED, /* no step ran (--query-output, or a caller without it) */
        PM__CARGO_CHECK_OFF,      /* "build_proc_macros": false: not planned */
        PM__CARGO_CHECK_RAN,      /* planned and run (its output may still be empty) */
};

/* What cargo-build.c needs of one package of the metadata. */
struct pm__cargo_pkg {
        const char *id; /* cargo metadata's package `id`, cargo check's `package_id` */
        const char *name;
        const char *version;
        bool build_script;
        size_t first, end; /* its crates are graph->crates[first, end) */
};

/* The messages of `cargo check --message-format=json` that matter (cargo-build.c). */
struct pm__cargo_check;

/*
 * Read the check step's JSON lines (@blob, borrowed; its error line is kept by reference, so
 * @blob must outlive *ret) when @mode is PM__CARGO_CHECK_RAN; lines that are not JSON objects
 * are text cargo passed through and are skipped. On success *ret is owned by the caller
 * (pm__cargo_check_free()). Fails only with -ENOMEM.
 */
int pm__cargo_check_read(enum pm__cargo_check_mode mode, const struct pm_blob *blob,
                         struct pm__cargo_check **ret, struct pm_error *err);
void pm__cargo_check_free(struct pm__cargo_check *c);

/*
 * Apply what the check said about package @p to its crates in @g: the build script's cfgs, env
 * and OUT_DIR (also an include dir) when it ran, each proc macro's dylib (absolute, as cargo
 * reported it), and a note on every crate whose build script or proc macro did not run or
 * build, saying why. -ENOMEM only.
 */
int pm__cargo_check_apply(const struct pm__cargo_check *c, struct pm_graph *g,
                          const struct pm__cargo_pkg *p, struct pm_error *err);

/*
 * Whether cargo passes a dependency whose dep_kinds entry names @platform ("cfg(..)" or a target
 * triple) when building for @target (@target_len bytes of `rustc --print cfg --print
 * host-tuple` output; NULL when unknown). Unknown target or unreadable predicate: true (kept).
 */
bool pm__cargo_platform_matches(const char *target, size_t target_len, const char *platform);

/* q->memo's free for the cargo metadata JSON query_builds() keeps (cargo.c): cJSON_Delete. */
void pm__cargo_json_free(void *json);

/*
 * ops->parse: the JSON object of `cargo metadata --format-version 1` in outputs[0], or the one
 * query_builds() left parsed in q->memo (taken from it).
 */
int pm__cargo_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                    struct pm_graph **ret_graph, struct pm_error *err);

#include "projmodel/banned.h"

struct pm_check_output;
struct pm_check_plan;

/* `projmodel check|test|run` of one Cargo crate, step by step: the adapter's check_step
 * (adapters/cargo/cargo-check.c, include/projmodel/adapter.h). */
int pm__cargo_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                         struct pm_error *err);

#endif
