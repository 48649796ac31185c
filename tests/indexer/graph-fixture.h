/* SPDX-License-Identifier: MIT */
/* Crate-graph builders for the indexer and writer tests and the index benchmark. No Criterion
 * here, so bench/ can link it too. */
#ifndef PROJMODEL_TEST_GRAPH_FIXTURE_H
#define PROJMODEL_TEST_GRAPH_FIXTURE_H

#include <stddef.h>

struct pm_crate;
struct pm_graph;

/*
 * Add a minimal valid crate to @g: crate_name @name, root module @root/<name>/src/lib.rs, build
 * file @root/<name>/BUILD.gn, edition 2021, a lib, a workspace member. Returns the crate (valid
 * until the next add) or NULL on out of memory.
 */
struct pm_crate *pm_fx_crate(struct pm_graph *g, const char *root, const char *label,
                             const char *name);

/* Add a dep from @from to @to (found by label) with @rename (may be NULL). Returns 0 or < 0. */
int pm_fx_dep(struct pm_graph *g, const char *from, const char *to, const char *rename);

/*
 * A synthetic graph of @n crates shaped like a large GN monorepo: crate i lives in
 * /repo/c<i/10>/ (ten crates per build file), has 4 cfgs, 2 env vars, 6 flags, 3 sources, one
 * include dir and up to 4 deps on lower-numbered crates. @variant changes the note of every
 * crate whose index is a multiple of @variant (0 = none), to make a "modified" apply.
 * Returns a graph owned by the caller or NULL on out of memory.
 */
struct pm_graph *pm_fx_synthetic(size_t n, size_t variant);

#endif
