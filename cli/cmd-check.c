/* SPDX-License-Identifier: MIT */
/* `projmodel check`, the flycheck runnable: one crate in check mode through its build system,
 * its diagnostics as JSON lines (projmodel/check.h); and the crate lookup `test` and `run` share.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/check.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"

#include "cli-internal.h"

const char pm__cli_check_usage[] = "check [--root DIR] [--db PATH] LABEL|FILE [SAVED_FILE]";

enum {
        OPT_DB = 256,
};

static const struct pm__cli_opt check_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root; default: found walking up from the working directory.",
          "check --root ~/src/monorepo //lib/engine:engine" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "check --db /tmp/model.db //lib/engine:engine" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "check --help" },
};

const struct pm__cli_spec pm__cli_check_spec = PM__CLI_SPEC(
        "check", pm__cli_check_usage,
        "Check one crate (by label, or the crate owning FILE) through its build system, into "
        "projmodel's own output directory, and print the compiler's diagnostics as JSON lines "
        "(rust-analyzer's flycheck runnable). Exits 0 when the compiler ran, whatever it found.",
        check_opts_table);

/* True when @arg names a file rather than a label (labels start with "//", "@" or "cargo:"). */
static bool
is_file_arg(const char *arg)
{
        if (strncmp(arg, "//", 2) == 0 || arg[0] == '@' || strncmp(arg, "cargo:", 6) == 0)
                return false;
        return arg[0] == '/' || access(arg, F_OK) == 0;
}

/*
 * The label @arg names: itself, or the crate owning the file @arg (the first non-test owner, or
 * for @want_test the first test owner). PM_ENOTFOUND when the model has none.
 */
static int
find_label(struct pm_index *idx, const char *arg, bool want_test, char **ret, struct pm_error *err)
{
        char **owners = NULL, *abs = NULL;
        struct pm_graph *g = NULL;
        int r;

        if (!is_file_arg(arg)) {
                r = pm_index_load(idx, &arg, 1, &g, NULL);
                pm_graph_free(g);
                if (r < 0)
                        return pm_error_set(err, PM_ENOTFOUND, "no crate has the label '%s'", arg);
                *ret = pm_strdup(arg);
                return *ret ? 0 : pm_error_set(err, -ENOMEM, "out of memory");
        }
        abs = pm__cli_abspath(arg);
        if (!abs)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = pm_index_crates_for_file(idx, abs, &owners, err);
        if (r < 0)
                goto out;
        if (!owners[0]) {
                r = pm_error_set(err, PM_ENOTFOUND, "no crate owns '%s'", abs);
                goto out;
        }
        r = pm_index_load(idx, (const char *const *)owners, pm_labels_count(owners), &g, err);
        if (r < 0)
                goto out;
        *ret = NULL;
        for (size_t i = 0; i < g->n_crates && !*ret; i++)
                if ((g->crates[i].kind == PM_CRATE_TEST) == want_test)
                        *ret = pm_strdup(g->crates[i].label);
        if (!*ret)
                *ret = pm_strdup(owners[0]);
        if (!*ret)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_graph_free(g);
        pm_labels_free(owners);
        pm_free(abs);
        return r;
}

/* <the model database's path without ".db">.build: projmodel's own build outputs for the root. */
static char *
out_dir_of(const struct pm_config *cfg, const char *db_opt)
{
        char *db = db_opt ? pm__cli_abspath(db_opt) : pm_config_db_path(cfg);
        char *dir;
        size_t n;

        if (!db)
                return NULL;
        n = strlen(db);
        if (n > 3 && strcmp(db + n - 3, ".db") == 0)
                db[n - 3] = '\0';
        dir = pm_asprintf("%s.build", db);
        pm_free(db);
        return dir;
}

int
pm__cli_crate_action(const struct pm__cli_action *a, struct pm_error *err)
{
        struct pm_check_result res = { 0 };
        struct pm_check_request req = { .action = a->action,
                                        .test_id = a->test_id,
                                        .run_args = a->run_args };
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        struct pm_graph *g = NULL;
        char *label = NULL, *source = NULL, *out_dir = NULL;
        bool want_test = a->action == PM_CHECK_TEST;
        int r;

        r = pm__cli_load_config(a->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        r = pm__cli_open_model(cfg, a->db, &idx, err);
        if (r < 0)
                goto out;
        /* The model as stored answers a warm save at once; only what it lacks refreshes it. */
        r = find_label(idx, a->target, want_test, &label, NULL);
        if (r < 0) {
                r = pm_model_refresh_sync(cfg, idx, NULL,
                                          pm__cli_progress(a->action == PM_CHECK_TEST  ? "test"
                                                           : a->action == PM_CHECK_RUN ? "run"
                                                                                       : "check"),
                                          err);
                if (r >= 0)
                        r = find_label(idx, a->target, want_test, &label, err);
                if (r < 0)
                        goto out;
        }
        r = pm_index_load(idx, (const char *const *)&label, 1, &g, err);
        if (r >= 0)
                r = pm_index_crate_source(idx, label, &source, err);
        if (r < 0)
                goto out;
        /* A GN library's tests live in a --test target with the same crate root. */
        if (want_test && g->crates[0].kind != PM_CRATE_TEST &&
            strcmp(g->crates[0].build_system, "gn") == 0) {
                char *t = NULL;

                if (find_label(idx, g->crates[0].root_module, true, &t, NULL) >= 0 && t &&
                    strcmp(t, label) != 0) {
                        pm_graph_free(g);
                        g = NULL;
                        r = pm_index_load(idx, (const char *const *)&t, 1, &g, err);
                }
                pm_free(t);
                if (r < 0)
                        goto out;
        }
        req.crate = &g->crates[0];
        req.project = pm_config_project(cfg, source);
        out_dir = out_dir_of(cfg, a->db);
        if (!out_dir) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!req.project) {
                r = pm_error_set(err, PM_ENOTFOUND, "'%s' belongs to no configured project", label);
                goto out;
        }
        req.out_dir = out_dir;
        r = pm_check_run(cfg, &req, &res, err);
        if (r < 0)
                goto out;
        /* The per-test results, where the build system reports them (docs/cli.md). */
        if (a->results &&
            (r = pm_write_file_atomic(a->results, res.results.buf ? res.results.buf : "",
                                      res.results.len, err)) < 0)
                goto out;
        (void)fwrite(res.out.buf ? res.out.buf : "", 1, res.out.len, stdout);
        (void)fflush(stdout);
        (void)fwrite(res.err.buf ? res.err.buf : "", 1, res.err.len, stderr);
        r = a->action == PM_CHECK_CHECK ? 0 : res.exit_status > 255 ? 255 : res.exit_status;
out:
        pm_check_result_release(&res);
        pm_graph_free(g);
        pm_free(label);
        pm_free(source);
        pm_free(out_dir);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}

int
pm__cli_cmd_check(const struct pm__cli_globals *g, int argc, char **argv)
{
        struct option longopts[sizeof(check_opts_table) / sizeof(check_opts_table[0]) + 1];
        struct pm__cli_action a = { .action = PM_CHECK_CHECK, .root = g->root };
        struct pm_error err;
        int c, r;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_check_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        a.root = optarg;
                        break;
                case OPT_DB:
                        a.db = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_check_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_check_spec, argc, argv, NULL);
                }
        }
        if (optind >= argc || argc - optind > 2)
                return pm__cli_usage_error("check", pm__cli_check_usage,
                                           "expected LABEL|FILE and an optional SAVED_FILE");
        /* rust-analyzer passes the saved file too; the label alone decides the crate. */
        a.target = argv[optind];
        r = pm__cli_crate_action(&a, &err);
        if (r < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
