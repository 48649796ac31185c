/* SPDX-License-Identifier: MIT */
/* The projmodel command: global options, then dispatch through the command table. Each
 * command lives in its own cli/cmd-<name>.c. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "cli-internal.h"

/*
 * The commands, in the order `projmodel --help` lists them. Adding one: see the checklist
 * above struct pm__cli_command in cli-internal.h.
 */
static const struct pm__cli_command commands[] = {
        { "export", pm__cli_cmd_export, pm__cli_export_usage, &pm__cli_export_spec },
        { "dump", pm__cli_cmd_dump, pm__cli_dump_usage, &pm__cli_dump_spec },
        { "audit", pm__cli_cmd_audit, pm__cli_audit_usage, &pm__cli_audit_spec },
        { "discover", pm__cli_cmd_discover, pm__cli_discover_usage, &pm__cli_discover_spec },
        { "check", pm__cli_cmd_check, pm__cli_check_usage, &pm__cli_check_spec },
        { "test", pm__cli_cmd_test, pm__cli_test_usage, &pm__cli_test_spec },
        { "run", pm__cli_cmd_run, pm__cli_run_usage, &pm__cli_run_spec },
        { "snapshot", pm__cli_cmd_snapshot, pm__cli_snapshot_usage, &pm__cli_snapshot_spec },
        { "serve", pm__cli_cmd_serve, pm__cli_serve_usage, &pm__cli_serve_spec },
        { "query", pm__cli_cmd_query, pm__cli_query_usage, &pm__cli_query_spec },
        { "status", pm__cli_cmd_status, pm__cli_status_usage, &pm__cli_status_spec },
        { "stop", pm__cli_cmd_stop, pm__cli_stop_usage, &pm__cli_stop_spec },
        { "setup", pm__cli_cmd_setup, pm__cli_setup_usage, &pm__cli_setup_spec },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
print_usage(FILE *f)
{
        (void)fprintf(f, "usage: projmodel [--root DIR] <command> [options]\n"
                         "       projmodel --help | --version\n\n"
                         "commands:\n");
        for (size_t i = 0; i < N_COMMANDS; i++)
                (void)fprintf(f, "  %s\n", commands[i].usage);
        (void)fprintf(f, "\n`projmodel <command> --help` describes one command; docs/cli.md has "
                         "the details.\n");
}

const char *
pm__cli_full_exe(void)
{
        return "/proc/self/exe";
}

int
main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "root", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                /* Hidden: the build generates projmodel.1 and the completions from these. */
                { "man", no_argument, NULL, 'M' },
                { "completions", required_argument, NULL, 'C' },
                { NULL, 0, NULL, 0 },
        };
        struct pm__cli_globals g = { .root = NULL, .discover_local = pm__cli_discover_resolve };
        const char *name;
        int c;

        pm_mem_install_hooks();
        /* Before anything runs a child: the front's PROJMODEL_COMMAND, and the GLIBC_TUNABLES
         * it set (front.c, huge_heap()), are for this process. */
        pm_path_command_take();
        if (getenv(PM_CLI_TUNABLES_ENV)) {
                (void)unsetenv("GLIBC_TUNABLES");
                (void)unsetenv(PM_CLI_TUNABLES_ENV);
        }

        /* "+": stop at the command name; what follows is the command's. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        g.root = optarg;
                        break;
                case 'h':
                        print_usage(stdout);
                        return PM_CLI_EXIT_OK;
                case 'V':
                        pm__cli_print_version();
                        return PM_CLI_EXIT_OK;
                case 'M':
                        return pm__cli_print_man(commands, N_COMMANDS);
                case 'C':
                        return pm__cli_print_completions(optarg, commands, N_COMMANDS);
                default:
                        (void)fprintf(stderr, "projmodel: unknown or incomplete option '%s'\n",
                                      argv[optind - 1]);
                        print_usage(stderr);
                        return PM_CLI_EXIT_USAGE;
                }
        }
        if (optind >= argc) {
                print_usage(stderr);
                return PM_CLI_EXIT_USAGE;
        }
        name = argv[optind];
        if (strcmp(name, "help") == 0) {
                for (size_t i = 0; optind + 1 < argc && i < N_COMMANDS; i++)
                        if (strcmp(argv[optind + 1], commands[i].name) == 0)
                                return pm__cli_help(commands[i].usage);
                print_usage(stdout);
                return PM_CLI_EXIT_OK;
        }
        for (size_t i = 0; i < N_COMMANDS; i++) {
                if (strcmp(name, commands[i].name) == 0) {
                        int sub_argc = argc - optind;
                        char **sub_argv = argv + optind;

                        /* Fresh getopt state for the command's own parsing; commands report bad
                         * options themselves (discover must keep stderr silent). */
                        optind = 0;
                        opterr = 0;
                        return commands[i].fn(&g, sub_argc, sub_argv);
                }
        }
        (void)fprintf(stderr, "projmodel: unknown command '%s'\n", name);
        print_usage(stderr);
        return PM_CLI_EXIT_USAGE;
}
