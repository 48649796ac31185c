/* SPDX-License-Identifier: MIT */
/* Fixtures shared by the Buck2 adapter's tests: a copy of tests/buck2/fixtures/repo with its
 * configuration loaded, and `buck2 targets --json` text parsed as captured output. */
#ifndef PROJMODEL_TEST_BUCK2_H
#define PROJMODEL_TEST_BUCK2_H

#include "projmodel/error.h"

struct pm_config;
struct pm_crate;
struct pm_graph;

struct pm_buck2_fx {
        char *root;            /* the copy, a temporary directory */
        struct pm_config *cfg; /* loaded and resolved */
        struct pm_graph *g;    /* the last parse's graph, or NULL */
        struct pm_error err;   /* the last parse's error */
};

/* A copy of tests/buck2/fixtures/repo with @projmodel_json as its .projmodel.json (or none).
 * Asserts on failure. */
void pm_buck2_fx_init(struct pm_buck2_fx *fx, const char *projmodel_json);
/* Free the graph and configuration, remove the copy. */
void pm_buck2_fx_release(struct pm_buck2_fx *fx);
/* Parse @text as captured `buck2 targets` output of the copy into fx->g (fx->err): parse's
 * result. */
int pm_buck2_fx_parse_text(struct pm_buck2_fx *fx, const char *text);
/* Parse the copy's own targets.json. */
int pm_buck2_fx_parse_fixture(struct pm_buck2_fx *fx);
/* The crate labelled @label of fx->g; asserts that there is one. */
struct pm_crate *pm_buck2_fx_crate(const struct pm_buck2_fx *fx, const char *label);
/* @rel under the copy, pm_malloc'd. */
char *pm_buck2_fx_path(const struct pm_buck2_fx *fx, const char *rel);
/* Assert that @actual is @rel under the copy. */
void pm_buck2_fx_assert_path(const struct pm_buck2_fx *fx, const char *actual, const char *rel);

#endif
