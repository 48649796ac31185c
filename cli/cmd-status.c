/* SPDX-License-Identifier: MIT */
/* `projmodel status`: what the root's daemon is doing (never starts one). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "cli-internal.h"

const char pm__cli_status_usage[] = "status [--root DIR] [--socket PATH] [--json]";

enum {
        OPT_SOCKET = 256,
        OPT_JSON
};

/* status's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt status_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "status --root ~/src/monorepo" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The daemon's socket; default: derived from the root (docs/protocol.md).",
          "status --socket /tmp/pm.sock" },
        { "json", no_argument, OPT_JSON, NULL, "Print the status as a JSON object.",
          "status --json" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "status --help" },
};

const struct pm__cli_spec pm__cli_status_spec = PM__CLI_SPEC(
        "status", pm__cli_status_usage,
        "Show the running daemon's state: root, crates, last refresh.", status_opts_table);

static const char *
str(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
num(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* "warnings: N", then each listed one as "  <project>: <message>" (docs/cli.md "Warnings"). */
static void
print_warnings(const cJSON *s)
{
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(s, "warnings"), *w;
        double total = num(s, "warningsTotal");
        int listed = 0;

        (void)printf("warnings:      %.0f\n", total);
        cJSON_ArrayForEach(w, list)
        {
                if (!str(w, "message"))
                        continue;
                (void)printf("  %s: %s\n", str(w, "project") ?: "?", str(w, "message"));
                listed++;
        }
        if (total > listed)
                (void)printf("  (%.0f more not listed)\n", total - listed);
}

static void
print_human(const cJSON *s)
{
        const cJSON *last = cJSON_GetObjectItemCaseSensitive(s, "lastRefresh");
        char when[64] = "never";

        if (num(last, "time") > 0) {
                time_t t = (time_t)num(last, "time");
                struct tm tm;

                if (localtime_r(&t, &tm))
                        (void)strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
        }
        (void)printf("root:          %s\n", str(s, "root") ?: "?");
        (void)printf("socket:        %s\n", str(s, "socket") ?: "?");
        (void)printf("pid:           %.0f\n", num(s, "pid"));
        (void)printf("state:         %s\n", str(s, "state") ?: "?");
        (void)printf("generation:    %.0f\n", num(s, "generation"));
        (void)printf("crates:        %.0f\n", num(s, "crates"));
        (void)printf("last refresh:  %s (%.0f ms)%s\n", when, num(last, "durationMs"),
                     cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(last, "ok")) ? ", failed" : "");
        (void)printf("last error:    %s\n", str(s, "lastError") ?: "none");
        print_warnings(s);
        (void)printf("watching:      %.0f directories, %.0f build files, %.0f overflows\n",
                     num(s, "watches"), num(s, "watchedBuildFiles"), num(s, "overflows"));
        if (str(s, "watchError"))
                (void)printf("watch error:   %s\n", str(s, "watchError"));
        (void)printf("clients:       %.0f\n", num(s, "clients"));
        (void)printf("memory:        %.1f MiB\n", num(s, "rssBytes") / (1024.0 * 1024.0));
}

int
pm__cli_cmd_status(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(status_opts_table) / sizeof(status_opts_table[0]) + 1];
        const char *root_opt = g->root, *socket_opt = NULL;
        struct pm_client *client = NULL;
        char *text = NULL;
        cJSON *result = NULL;
        bool json = false;
        struct pm_error err;
        int c, code = PM_CLI_EXIT_ERROR;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_status_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root_opt = optarg;
                        break;
                case OPT_SOCKET:
                        socket_opt = optarg;
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_status_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_status_spec, argc, argv, NULL);
                }
        }
        if (optind != argc)
                return pm__cli_usage_error("status", pm__cli_status_usage,
                                           "unexpected argument '%s'", argv[optind]);
        if (pm__cli_daemon_attach(root_opt, socket_opt, NULL, &client, &err) < 0 ||
            pm_client_call(client, "projmodel/status", NULL, 30000, NULL, NULL, &result, &err) <
                    0) {
                pm__cli_print_error(&err);
                goto out;
        }
        if (json) {
                text = cJSON_Print(result);
                if (text)
                        (void)printf("%s\n", text);
        } else {
                print_human(result);
        }
        code = PM_CLI_EXIT_OK;
out:
        cJSON_free(text);
        cJSON_Delete(result);
        pm_client_free(client);
        return code;
}
