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

enum {
        OPT_DB = 256,
        OPT_OUTPUT,
        OPT_NO_REFRESH
};

/* snapshot's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt snapshot_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "snapshot --root ~/src/monorepo --output model.db" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "snapshot --db /tmp/model.db --output copy.db" },
        { "output", required_argument, 'o', "FILE", "Where to write the snapshot (required).",
          "snapshot --output model-snapshot.db" },
        { "no-refresh", no_argument, OPT_NO_REFRESH, NULL,
          "Do not run the build systems: use the model as it was last refreshed.",
          "snapshot --no-refresh --output model.db" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "snapshot --help" },
};

const struct pm__cli_spec pm__cli_snapshot_spec = PM__CLI_SPEC(
        "snapshot", pm__cli_snapshot_usage,
        "Refresh, then write a copy of the model that daemons can start from (serve --seed FILE).",
        snapshot_opts_table);

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
                r = pm_model_refresh_sync(cfg, idx, NULL, pm__cli_progress("snapshot"), err);
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
        struct option longopts[sizeof(snapshot_opts_table) / sizeof(snapshot_opts_table[0]) + 1];
        struct snapshot_opts o = { .root = g->root, .refresh = true };
        struct pm_error err;
        int c;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_snapshot_spec, longopts);
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
                        return pm__cli_help_spec(&pm__cli_snapshot_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_snapshot_spec, argc, argv, NULL);
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
