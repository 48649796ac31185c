/* SPDX-License-Identifier: MIT */
/* `projmodel stop`: ask the root's daemon to exit (shutdown, then exit) and wait until it has
 * closed the connection. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "cli-internal.h"

const char pm__cli_stop_usage[] = "stop [--root DIR] [--socket PATH]";

enum {
        OPT_SOCKET = 256
};

/* stop's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt stop_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "stop --root ~/src/monorepo" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The daemon's socket; default: derived from the root (docs/protocol.md).",
          "stop --socket /tmp/pm.sock" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "stop --help" },
};

const struct pm__cli_spec pm__cli_stop_spec = PM__CLI_SPEC(
        "stop", pm__cli_stop_usage, "Stop the daemon serving the root.", stop_opts_table);

int
pm__cli_cmd_stop(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(stop_opts_table) / sizeof(stop_opts_table[0]) + 1];
        const char *root_opt = g->root, *socket_opt = NULL;
        struct pm_client *client = NULL;
        char *root = NULL;
        cJSON *result = NULL, *msg = NULL;
        struct pm_error err;
        double pid = 0;
        int c, r, code = PM_CLI_EXIT_ERROR;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_stop_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root_opt = optarg;
                        break;
                case OPT_SOCKET:
                        socket_opt = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_stop_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_stop_spec, argc, argv, NULL);
                }
        }
        if (optind != argc)
                return pm__cli_usage_error("stop", pm__cli_stop_usage, "unexpected argument '%s'",
                                           argv[optind]);
        r = pm__cli_daemon_attach(root_opt, socket_opt, &root, &client, &err);
        if (r < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        r = pm_client_call(client, "projmodel/status", NULL, 30000, NULL, NULL, &result, &err);
        if (r == 0) {
                const cJSON *p = cJSON_GetObjectItemCaseSensitive(result, "pid");

                pid = cJSON_IsNumber(p) ? p->valuedouble : 0;
                cJSON_Delete(result);
                result = NULL;
                r = pm_client_call(client, "shutdown", NULL, 30000, NULL, NULL, &result, &err);
        }
        if (r == 0)
                r = pm_client_send(client, "exit", NULL, true, NULL, &err);
        /* Wait for the daemon to close our connection: it has stopped listening by then. */
        while (r == 0) {
                r = pm_client_recv(client, 30000, &msg, &err);
                cJSON_Delete(msg);
                msg = NULL;
        }
        if (r != -ECONNRESET) {
                pm__cli_print_error(&err);
                goto out;
        }
        (void)printf("stopped the daemon of '%s' (pid %.0f)\n", root, pid);
        code = PM_CLI_EXIT_OK;
out:
        cJSON_Delete(result);
        pm_client_free(client);
        pm_free(root);
        return code;
}
