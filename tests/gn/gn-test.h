/* SPDX-License-Identifier: MIT */
/* Fixtures shared by the gn adapter tests: a temporary project root with a .projmodel.json, and
 * running the adapter's parse on a JSON document written by the test. */
#ifndef PROJMODEL_TESTS_GN_TEST_H
#define PROJMODEL_TESTS_GN_TEST_H

#include <stdbool.h>

#include "projmodel/error.h"

struct pm_config;
struct pm_crate;
struct pm_graph;

struct gn_fx {
        char *root;            /* temporary project root, pm_malloc'd */
        struct pm_config *cfg; /* loaded from root/.projmodel.json */
        struct pm_graph *g;    /* the last successful parse, or NULL */
        char *origin;          /* <root>/out/project.json */
        struct pm_error err;   /* the last failure */
        unsigned long fail_at; /* when non-zero, fail that allocation of the next parse */
};

/* A fresh root whose .projmodel.json is {"build_system": "gn", "gn": @gn_section} (section
 * omitted when NULL), loaded into fx->cfg. */
void gn_fx_init(struct gn_fx *fx, const char *gn_section);
void gn_fx_release(struct gn_fx *fx);

/* @tmpl with every "@ROOT@" replaced by fx->root; pm_malloc'd. */
char *gn_fx_subst(const struct gn_fx *fx, const char *tmpl);

/* Parse @tmpl (after gn_fx_subst) as the gn adapter's output; returns parse's result. */
int gn_fx_parse(struct gn_fx *fx, const char *tmpl, bool captured);

/* Write @content (after gn_fx_subst) to root/@rel. */
void gn_fx_write(const struct gn_fx *fx, const char *rel, const char *content);

/* The crate @label of fx->g (asserts it exists). */
struct pm_crate *gn_fx_crate(const struct gn_fx *fx, const char *label);

/* fx->root + "/" + @rel, normalised; pm_malloc'd. */
char *gn_fx_path(const struct gn_fx *fx, const char *rel);

bool gn_crate_has_cfg(const struct pm_crate *c, const char *cfg);
bool gn_graph_has_warning(const struct pm_graph *g, const char *needle);

#endif
