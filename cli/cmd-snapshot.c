/* SPDX-License-Identifier: MIT */
/* `projmodel snapshot`: bring the model up to date, then write a consistent copy of it with the
 * content fingerprints of its build-system inputs, for daemons to start from (serve --seed). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"

#include "cli-internal.h"

const char pm__cli_snapshot_usage[] =
        "snapshot --output FILE [--root DIR] [--db PATH] [--no-refresh]";

struct snapshot_opts {
        const char *root;
        const char *db;
        const char *output;
        bool refresh;
};

static int
run_snapshot(const struct snapshot_opts *o, struct pm_error *err)
{
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        char **files = NULL, **fps = NULL, *out = NULL;
        size_t n;
        int r;

        r = pm__cli_load_config(o->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        r = pm__cli_open_model(cfg, o->db, &idx, err);
        if (r < 0)
                goto out;
        if (o->refresh) {
                r = pm_model_refresh_sync(cfg, idx, NULL, err);
                if (r < 0)
                        goto out;
        }
        /* The watch set is every file the build systems read for the model. */
        r = pm_index_build_files(idx, NULL, &files, err);
        if (r < 0)
                goto out;
        n = pm_labels_count(files);
        fps = pm_calloc(n + 1, sizeof(*fps));
        out = pm__cli_abspath(o->output);
        if (!fps || !out) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                fps[i] = pm_malloc(PM_FINGERPRINT_MAX);
                if (!fps[i]) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                pm_file_fingerprint(files[i], fps[i]);
        }
        r = pm_index_snapshot(idx, out, cfg->root, files, fps, n, err);
out:
        pm_labels_free(files);
        pm_labels_free(fps);
        pm_free(out);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}

int
pm__cli_cmd_snapshot(const struct pm__cli_globals *g, int argc, char **argv)
{
        enum {
                OPT_DB = 256,
                OPT_OUTPUT,
                OPT_NO_REFRESH
        };
        static const struct option longopts[] = {
                { "root", required_argument, NULL, 'r' },
                { "db", required_argument, NULL, OPT_DB },
                { "output", required_argument, NULL, 'o' },
                { "no-refresh", no_argument, NULL, OPT_NO_REFRESH },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct snapshot_opts o = { .root = g->root, .refresh = true };
        struct pm_error err;
        int c;

        pm_error_init(&err);
        while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        o.root = optarg;
                        break;
                case OPT_DB:
                        o.db = optarg;
                        break;
                case 'o':
                        o.output = optarg;
                        break;
                case OPT_NO_REFRESH:
                        o.refresh = false;
                        break;
                case 'h':
                        return pm__cli_help(pm__cli_snapshot_usage);
                default:
                        return pm__cli_usage_error("snapshot", pm__cli_snapshot_usage,
                                                   "invalid option");
                }
        }
        if (optind != argc)
                return pm__cli_usage_error("snapshot", pm__cli_snapshot_usage,
                                           "unexpected argument '%s'", argv[optind]);
        if (!o.output || !o.output[0] || strcmp(o.output, "-") == 0)
                return pm__cli_usage_error("snapshot", pm__cli_snapshot_usage,
                                           "--output FILE is required");
        if (run_snapshot(&o, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
