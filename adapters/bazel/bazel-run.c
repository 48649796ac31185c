/* SPDX-License-Identifier: MIT */
/* The runnables of a Bazel crate: `bazel run` of a binary and `bazel test` of one test (with a
 * build event file naming each test.xml), on the query's output base with its startup flags and
 * flags (docs/build-integration.md, "Check-on-save and runnables"). Names the command; runs
 * nothing. */
#include <errno.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

/* Make @argv the plan's one step, run in the project root; its output is the program's. */
static int
one_step(const struct pm_query *q, char ***argv, struct pm_plan *ret_plan)
{
        char *none = NULL;

        return pm__adapter_report_step(q, argv, &none, NULL, 0, ret_plan);
}

int
pm__bazel_run_plan(const struct pm_query *q, const char *label, char *const *args,
                   struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **argv = NULL;
        int r;

        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                return r;
        /* bazel run LABEL -- ARG...: the arguments after "--" are the binary's, never Bazel's
         * options; Bazel execs the binary, so its output and exit status are the command's. */
        r = pm__bazel_build_argv(q, &s, "run", NULL, NULL, &argv);
        if (r >= 0)
                r = pm_argv_push(&argv, label);
        if (r >= 0)
                r = pm_argv_push(&argv, "--");
        for (size_t i = 0; r >= 0 && args && args[i]; i++)
                r = pm_argv_push(&argv, args[i]);
        if (r >= 0)
                r = one_step(q, &argv, ret_plan);
        if (r < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_argv_free(argv);
        pm__bazel_settings_release(&s);
        return r;
}

int
pm__bazel_test_plan(const struct pm_query *q, const char *const *labels, size_t n_labels,
                    const char *test_id, struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **argv = NULL, *arg = NULL, *events = NULL;
        int r;

        if (n_labels == 0)
                return pm_error_set(err, PM_ENOTFOUND, "bazel test: no test target");
        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                return r;
        /* The build events name each test's test.xml (test_parse, bazel-test.c). */
        r = pm__bazel_build_argv(q, &s, "test", "bazel-test-events", &events, &argv);
        arg = pm_asprintf("--test_arg=%s", test_id);
        if (r >= 0 && !arg)
                r = -ENOMEM;
        /*
         * The test's output as it runs, even when Bazel has a cached result for it (the user
         * asked to run it); each test binary gets the same --test_arg values, which rules_rust's
         * libtest binaries take as `TEST_ID --exact` (--test_filter only sets
         * TESTBRIDGE_TEST_ONLY, which rules_rust does not read). "--" keeps a label from being
         * read as an option or a negative pattern.
         */
        if (r >= 0)
                r = pm_argv_push(&argv, "--test_output=streamed");
        if (r >= 0)
                r = pm_argv_push(&argv, "--nocache_test_results");
        if (r >= 0)
                r = pm_argv_push(&argv, arg);
        if (r >= 0)
                r = pm_argv_push(&argv, "--test_arg=--exact");
        if (r >= 0)
                r = pm_argv_push(&argv, "--");
        for (size_t i = 0; r >= 0 && i < n_labels; i++)
                r = pm_argv_push(&argv, labels[i]);
        if (r >= 0)
                r = pm__adapter_report_step(q, &argv, &events, (const int[]){ 3 }, 1, ret_plan);
        /* `bazel test` exits 3 when the tests were built and one failed: the test binary's own
         * status is libtest's 101 then (rules_rust's rust_test uses the libtest harness). */
        if (r >= 0)
                ret_plan->steps[0].test_failed_exit = 3;
        if (r < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(arg);
        pm_free(events);
        pm_argv_free(argv);
        pm__bazel_settings_release(&s);
        return r;
}
