/* SPDX-License-Identifier: MIT */
/* `projmodel export`: refresh the model (or apply captured tool output) and write the whole
 * repository's rust-project.json. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "cli-internal.h"

const char pm__cli_export_usage[] =
        "export [--root DIR] [--db PATH] [--output FILE] [--pretty] [--no-refresh] "
        "[--query-output FILE [--build-system NAME]]";

struct export_opts {
        const char *root;
        const char *db;
        const char *output;
        const char *query_output;
        const char *build_system;
        bool pretty;
        bool refresh;
};

/* The project --query-output describes: the root project if it uses @build_system (or any
 * build system when NULL), else the first subproject that does. */
static const struct pm_project *
captured_project(const struct pm_config *cfg, const char *build_system)
{
        if (!build_system)
                return &cfg->projects[0];
        for (size_t i = 0; i < cfg->n_projects; i++)
                if (cfg->projects[i].build_system &&
                    strcmp(cfg->projects[i].build_system, build_system) == 0)
                        return &cfg->projects[i];
        return NULL;
}

/* The --query-output route: parse a file of captured tool output instead of running the tool,
 * and apply it as that project's graph. */
static int
apply_captured(const struct pm_config *cfg, struct pm_index *idx, const struct export_opts *o,
               struct pm_error *err)
{
        struct pm_strbuf data = PM_STRBUF_INIT;
        const struct pm_project *project;
        struct pm_change change;
        struct pm_graph *g = NULL;
        char *file = NULL;
        int r;

        memset(&change, 0, sizeof(change));
        if (o->build_system && !pm_adapter_find(o->build_system)) {
                r = pm_error_set(err, PM_ECONFIG, "unknown build system '%s'", o->build_system);
                goto out;
        }
        project = captured_project(cfg, o->build_system);
        if (!project) {
                r = pm_error_set_at(err, PM_ECONFIG, cfg->file ? cfg->file : cfg->root, 0, 0,
                                    "no project uses build system '%s'", o->build_system);
                goto out;
        }
        file = pm__cli_abspath(o->query_output);
        if (!file) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_strbuf_read_file(&data, file, cfg->max_tool_output, err);
        if (r < 0)
                goto out;
        r = pm_adapter_parse_captured(cfg, project, data.buf ? data.buf : "", data.len, file, &g,
                                      err);
        if (r < 0) {
                if (err && !err->file[0] && !strstr(err->msg, file))
                        (void)snprintf(err->file, sizeof(err->file), "%s", file);
                goto out;
        }
        r = pm_index_apply(idx, project->id, g, &change, err);
out:
        pm_change_release(&change);
        pm_graph_free(g);
        pm_strbuf_release(&data);
        pm_free(file);
        return r;
}

static int
write_output(const char *output, const struct pm_strbuf *sb, struct pm_error *err)
{
        char *path;
        int r;

        if (!output || strcmp(output, "-") == 0) {
                if (sb->len > 0 && fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
                        return pm_error_set(err, -EIO, "cannot write to standard output");
                if (fflush(stdout) != 0)
                        return pm_error_set(err, -errno, "cannot write to standard output: %s",
                                            strerror(errno));
                return 0;
        }
        path = pm__cli_abspath(output);
        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = pm_write_file_atomic(path, sb->buf ? sb->buf : "", sb->len, err);
        pm_free(path);
        return r;
}

static int
run_export(const struct export_opts *o, struct pm_error *err)
{
        struct pm_writer_options wopts;
        struct pm_strbuf out = PM_STRBUF_INIT;
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        struct pm_graph *g = NULL;
        char *sysroot = NULL, *sysroot_src = NULL;
        int r;

        r = pm__cli_load_config(o->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        r = pm__cli_open_model(cfg, o->db, &idx, err);
        if (r < 0)
                goto out;
        if (o->query_output)
                r = apply_captured(cfg, idx, o, err);
        else if (o->refresh)
                r = pm_model_refresh_sync(cfg, idx, NULL, err);
        if (r < 0)
                goto out;
        r = pm__cli_sysroot(cfg, idx, true, &sysroot, &sysroot_src, err);
        if (r < 0)
                goto out;
        r = pm_index_load(idx, NULL, 0, &g, err);
        if (r < 0)
                goto out;

        memset(&wopts, 0, sizeof(wopts));
        wopts.sysroot = sysroot;
        wopts.sysroot_src = sysroot_src;
        wopts.proc_macro_cwd = cfg->root;
        wopts.pretty = o->pretty;
        r = pm_writer_render(g, &wopts, &out, err);
        if (r < 0)
                goto out;
        r = write_output(o->output, &out, err);
out:
        pm_strbuf_release(&out);
        pm_graph_free(g);
        pm_free(sysroot);
        pm_free(sysroot_src);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}

int
pm__cli_cmd_export(const struct pm__cli_globals *gl, int argc, char **argv)
{
        enum {
                OPT_DB = 256,
                OPT_QUERY_OUTPUT,
                OPT_BUILD_SYSTEM,
                OPT_NO_REFRESH
        };
        static const struct option longopts[] = {
                { "root", required_argument, NULL, 'r' },
                { "db", required_argument, NULL, OPT_DB },
                { "output", required_argument, NULL, 'o' },
                { "pretty", no_argument, NULL, 'p' },
                { "no-refresh", no_argument, NULL, OPT_NO_REFRESH },
                { "query-output", required_argument, NULL, OPT_QUERY_OUTPUT },
                { "build-system", required_argument, NULL, OPT_BUILD_SYSTEM },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct export_opts o = { .root = gl->root, .refresh = true };
        struct pm_error err;
        int c;

        while ((c = getopt_long(argc, argv, "ho:p", longopts, NULL)) != -1) {
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
                case 'p':
                        o.pretty = true;
                        break;
                case OPT_NO_REFRESH:
                        o.refresh = false;
                        break;
                case OPT_QUERY_OUTPUT:
                        o.query_output = optarg;
                        break;
                case OPT_BUILD_SYSTEM:
                        o.build_system = optarg;
                        break;
                case 'h':
                        return pm__cli_help(pm__cli_export_usage);
                default:
                        return pm__cli_usage_error("export", pm__cli_export_usage,
                                                   "unknown option or missing argument '%s'",
                                                   argv[optind - 1]);
                }
        }
        if (optind < argc)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "unexpected argument '%s'", argv[optind]);
        if (o.build_system && !o.query_output)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "--build-system needs --query-output");
        if (o.query_output && !o.refresh)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "--query-output and --no-refresh exclude each other");

        pm_error_init(&err);
        if (run_export(&o, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
