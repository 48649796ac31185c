/* SPDX-License-Identifier: MIT */
/* The runnables of a Bazel crate: `bazel run --script_path` of a binary then its script, and
 * `bazel test` of one test (with a build event file naming each test.xml), on the query's output
 * base with its startup flags and flags (docs/build-integration.md, "Check-on-save and
 * runnables"). Names the commands; runs nothing. */
#include <errno.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

/* The name of the script `bazel run --script_path` writes: the cache file of its prefix, with
 * ".sh" for its ".json". pm_malloc'd, or NULL. */
static char *
script_path(const struct pm_query *q)
{
        char *json = pm__adapter_cache_file(q, "bazel-run");
        size_t n = json ? strlen(json) : 0;
        char *sh = n > 5 ? pm_asprintf("%.*s.sh", (int)(n - 5), json) : NULL;

        pm_free(json);
        return sh;
}

int
pm__bazel_run_plan(const struct pm_query *q, const char *label, char *const *args,
                   struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **argv = NULL, **run = NULL;
        char *script = NULL, *opt = NULL;
        int r;

        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                return r;
        /*
         * Two steps, so that Bazel's failure and the binary's own exit status are told apart
         * (`bazel run` exits 1 for a failed build, and with the binary's status when it ran):
         * `bazel run --script_path=SCRIPT LABEL` builds the binary and writes the script that
         * runs it (cd to its runfiles, BUILD_WORKSPACE_DIRECTORY and BUILD_WORKING_DIRECTORY
         * set, exec with "$@") without running it; the script then runs with the arguments, never
         * Bazel's options. The first step is the script's report (output_file): removed before
         * it runs and after the command.
         */
        script = script_path(q);
        opt = script ? pm_asprintf("--script_path=%s", script) : NULL;
        r = opt ? pm__bazel_build_argv(q, &s, "run", NULL, NULL, &argv) : -ENOMEM;
        if (r >= 0)
                r = pm_argv_push(&argv, opt);
        if (r >= 0)
                r = pm_argv_push(&argv, label);
        run = r >= 0 ? pm_argv_new((const char *const[]){ script }, 1) : NULL;
        if (r >= 0 && !run)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && args && args[i]; i++)
                r = pm_argv_push(&run, args[i]);
        if (r >= 0)
                r = pm__adapter_report_step(q, &argv, &script, NULL, 0, ret_plan);
        if (r >= 0) {
                ret_plan->steps[1].argv = pm_steal_ptr(&run);
                ret_plan->steps[1].cwd = pm_strdup(q->project->root);
                ret_plan->n_steps = 2;
                if (!ret_plan->steps[1].cwd)
                        r = -ENOMEM;
        }
        if (r < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_argv_free(run);
        pm_argv_free(argv);
        pm_free(opt);
        pm_free(script);
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
