/* SPDX-License-Identifier: MIT */
/* `projmodel test` and `projmodel run`, the testOne and run runnables: build one crate through
 * its build system and run exactly one test of it, or the binary (projmodel/check.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/check.h"
#include "projmodel/error.h"

#include "cli-internal.h"

const char pm__cli_test_usage[] =
        "test [--root DIR] [--db PATH] [--results FILE] LABEL|FILE TEST_ID";
const char pm__cli_run_usage[] = "run [--root DIR] [--db PATH] LABEL|FILE [-- ARG...]";

enum {
        OPT_DB = 256,
        OPT_RESULTS,
};

static const struct pm__cli_opt test_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root; default: found walking up from the working directory.",
          "test --root ~/src/monorepo //lib/engine:engine_tests tests::it_works" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "test --db /tmp/model.db //lib/engine:engine_tests tests::it_works" },
        { "results", required_argument, OPT_RESULTS, "FILE",
          "Write the per-test results the build system reports (Bazel: each test's test.xml) to "
          "FILE, one JSON object per line (docs/cli.md); an empty file when it reports none.",
          "test --results /tmp/results.jsonl //lib/engine:engine_tests tests::it_works" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "test --help" },
};

static const struct pm__cli_opt run_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root; default: found walking up from the working directory.",
          "run --root ~/src/monorepo //app/server:server" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "run --db /tmp/model.db //app/server:server -- --port 8080" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "run --help" },
};

const struct pm__cli_spec pm__cli_test_spec = PM__CLI_SPEC(
        "test", pm__cli_test_usage,
        "Build the tests of one crate through its build system and run exactly the test TEST_ID "
        "(libtest --exact; rust-analyzer's testOne runnable). Exits with the test's status.",
        test_opts_table);

const struct pm__cli_spec pm__cli_run_spec = PM__CLI_SPEC(
        "run", pm__cli_run_usage,
        "Build one binary crate through its build system and run it with ARGs (rust-analyzer's "
        "run runnable). Exits with the binary's status.",
        run_opts_table);

static int
parse(const struct pm__cli_spec *spec, const struct pm__cli_globals *g, int argc, char **argv,
      struct pm__cli_action *a, bool *help)
{
        struct option longopts[5];
        int c;

        *help = false;
        a->root = g->root;
        pm__cli_longopts(spec, longopts);
        /* "+": stop at the first operand, so a binary's own options are its own. */
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        a->root = optarg;
                        break;
                case OPT_DB:
                        a->db = optarg;
                        break;
                case OPT_RESULTS:
                        if (spec != &pm__cli_test_spec)
                                return pm__cli_bad_option(spec, argc, argv, NULL);
                        a->results = optarg;
                        break;
                case 'h':
                        *help = true;
                        return pm__cli_help_spec(spec);
                default:
                        return pm__cli_bad_option(spec, argc, argv, NULL);
                }
        }
        return PM_CLI_EXIT_OK;
}

static int
act(const struct pm__cli_action *a)
{
        struct pm_error err;
        int r;

        pm_error_init(&err);
        r = pm__cli_crate_action(a, &err);
        if (r < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return r;
}

int
pm__cli_cmd_test(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct pm__cli_action a = { .action = PM_CHECK_TEST };
        bool help;
        int r = parse(&pm__cli_test_spec, g, argc, argv, &a, &help);

        if (r != PM_CLI_EXIT_OK || help)
                return r;
        if (argc - optind != 2)
                return pm__cli_usage_error("test", pm__cli_test_usage,
                                           "expected LABEL|FILE and TEST_ID");
        a.target = argv[optind];
        a.test_id = argv[optind + 1];
        return act(&a);
}

int
pm__cli_cmd_run(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct pm__cli_action a = { .action = PM_CHECK_RUN };
        bool help;
        int r = parse(&pm__cli_run_spec, g, argc, argv, &a, &help);

        if (r != PM_CLI_EXIT_OK || help)
                return r;
        if (optind >= argc)
                return pm__cli_usage_error("run", pm__cli_run_usage, "expected LABEL|FILE");
        a.target = argv[optind++];
        if (optind < argc && strcmp(argv[optind], "--") == 0)
                optind++;
        a.run_args = argv + optind;
        return act(&a);
}
