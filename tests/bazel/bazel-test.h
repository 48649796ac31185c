/* SPDX-License-Identifier: MIT */
/* Fixtures shared by the bazel adapter's tests: a copied workspace with its own output base, a
 * loaded configuration, running a plan's steps, and Bazel's shutdown. */
#ifndef PROJMODEL_TEST_BAZEL_H
#define PROJMODEL_TEST_BAZEL_H

#include <stdbool.h>
#include <stddef.h>

struct pm_config;
struct pm_crate;
struct pm_error;
struct pm_graph;
struct pm_plan;

/* A temporary copy of tests/bazel/ws/<fixture> (plus ws/ext beside it). */
struct pm_bazel_ws {
        char *tmp;             /* the temporary directory */
        char *root;            /* tmp/<fixture>, the workspace */
        char *ob;              /* tmp/ob, the output base the configuration names */
        struct pm_config *cfg; /* loaded and resolved */
};

/*
 * Copy fixture @fixture to a new temporary directory and write its .projmodel.json with a
 * "bazel" section holding output_base plus @extra_settings (JSON members without braces, e.g.
 * "\"query\": \"cquery\"", or NULL). Asserts on failure.
 */
void pm_bazel_ws_setup(struct pm_bazel_ws *w, const char *fixture, const char *extra_settings);

/* Write .projmodel.json as {"bazel": {@members}} (JSON members without braces; no output_base
 * unless given) and reload the configuration. Asserts on failure. */
void pm_bazel_ws_settings(struct pm_bazel_ws *w, const char *members);

/* Reload the configuration after editing .projmodel.json. */
void pm_bazel_ws_reload(struct pm_bazel_ws *w);

/* `bazel --output_base=OB shutdown` (if a server may run), remove the directory. Safe on a
 * half-built or already torn down fixture. */
void pm_bazel_ws_teardown(struct pm_bazel_ws *w);

/*
 * Plan (with @scope), run every step like the runner must (exit 0 or one of the step's
 * ok_exit_codes; an optional step's failure gives empty output), parse. Returns what parse
 * returned; *ret_exit gets the main step's exit status. *ret_plan, when non-NULL, receives the
 * plan (release with pm_plan_release()).
 */
int pm_bazel_query(struct pm_bazel_ws *w, const char *const *scope, size_t n_scope,
                   struct pm_graph **ret_graph, int *ret_exit, struct pm_plan *ret_plan,
                   struct pm_error *err);

/* The crate labelled @label or NULL (dependencies: pm_test_crate_has_dep()). */
struct pm_crate *pm_bazel_crate(const struct pm_graph *g, const char *label);

/* The text of file tests/bazel/data/@name with @ROOT@ and @OB@ replaced, pm_malloc'd. */
char *pm_bazel_data(const char *name, const char *root, const char *ob);

/* @w's root + "/" + @rel, pm_malloc'd. */
char *pm_bazel_path(const struct pm_bazel_ws *w, const char *rel);

/*
 * The fixture of a Criterion suite whose every test gets a fresh copy of tests/bazel/ws/@fixture
 * and needs no Bazel: defines `static struct pm_bazel_ws @var`, set up before each test and torn
 * down after it (Criterion's .init and .fini take no arguments, hence a macro).
 */
#define PM_BAZEL_WS_SUITE(suite, var, fixture)          \
        static struct pm_bazel_ws var;                  \
        static void suite##_setup(void)                 \
        {                                               \
                pm_bazel_ws_setup(&var, fixture, NULL); \
        }                                               \
        static void suite##_teardown(void)              \
        {                                               \
                pm_bazel_ws_teardown(&var);             \
        }                                               \
        TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown, .timeout = 60)

#endif
