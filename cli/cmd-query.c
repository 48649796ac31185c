/* SPDX-License-Identifier: MIT */
/* `projmodel query METHOD [PARAMS-JSON]`: one request to the root's daemon (started when none
 * runs), the reply's result printed as JSON on stdout. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "cli-internal.h"

const char pm__cli_query_usage[] =
        "query [--root DIR] [--socket PATH] [--no-start] METHOD [PARAMS-JSON]";

enum {
        OPT_SOCKET = 256,
        OPT_NO_START
};

/* query's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt query_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "query --root ~/src/monorepo projmodel/status" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The daemon's socket; default: derived from the root (docs/protocol.md).",
          "query --socket /tmp/pm.sock projmodel/status" },
        { "no-start", no_argument, OPT_NO_START, NULL,
          "Fail instead of starting the daemon when none runs.",
          "query --no-start projmodel/status" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "query --help" },
};

const struct pm__cli_spec pm__cli_query_spec = PM__CLI_SPEC(
        "query", pm__cli_query_usage,
        "Send one JSON-RPC request to the daemon (started when absent) and print its answer.",
        query_opts_table);

int
pm__cli_cmd_query(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(query_opts_table) / sizeof(query_opts_table[0]) + 1];
        const char *root_opt = g->root, *socket_opt = NULL;
        struct pm_client *client = NULL;
        char *root = NULL, *sock = NULL, *text = NULL;
        cJSON *params = NULL, *result = NULL;
        bool start = true;
        struct pm_error err;
        int c, code = PM_CLI_EXIT_ERROR;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_query_spec, longopts);
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root_opt = optarg;
                        break;
                case OPT_SOCKET:
                        socket_opt = optarg;
                        break;
                case OPT_NO_START:
                        start = false;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_query_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_query_spec, argc, argv, NULL);
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return pm__cli_usage_error("query", pm__cli_query_usage,
                                           "expected METHOD and optional PARAMS-JSON");
        if (argc - optind == 2) {
                params = cJSON_Parse(argv[optind + 1]);
                if (!params || !(cJSON_IsObject(params) || cJSON_IsArray(params))) {
                        cJSON_Delete(params);
                        return pm__cli_usage_error("query", pm__cli_query_usage,
                                                   "PARAMS-JSON must be a JSON object or array");
                }
        }
        if (pm__cli_daemon_target(root_opt, socket_opt, NULL, &root, &sock, &err) < 0 ||
            pm__cli_daemon_connect(root, sock,
                                   (start ? PM__CLI_CONNECT_START : 0) |
                                           (socket_opt ? 0 : PM__CLI_CONNECT_UNIT),
                                   &client, &err) < 0 ||
            pm_client_call(client, argv[optind], pm_steal_ptr(&params), -1, NULL, NULL, &result,
                           &err) < 0) {
                pm__cli_print_error(&err);
                goto out;
        }
        text = cJSON_Print(result);
        if (!text) {
                (void)fprintf(stderr, "projmodel: out of memory\n");
                goto out;
        }
        (void)printf("%s\n", text);
        code = fflush(stdout) == 0 ? PM_CLI_EXIT_OK : PM_CLI_EXIT_ERROR;
out:
        cJSON_free(text);
        cJSON_Delete(params);
        cJSON_Delete(result);
        pm_client_free(client);
        pm_free(root);
        pm_free(sock);
        return code;
}
