/* SPDX-License-Identifier: MIT */
/* The Buck2 adapter's settings and the parts of .buckconfig it needs: the cell map and the
 * build file name. Reads files only. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/buck2/buck2-internal.h"

/* The "buck2" section's keys (pm_adapter_resolve_config checks them). */
const char *const pm__buck2_config_keys[] = {
        "command",          "args", "target_pattern", "default_edition", "isolation_dir",
        "test_runner_args", NULL
};

int
pm__buck2_settings_load(const struct pm_query *q, struct pm__buck2_settings *ret,
                        struct pm_error *err)
{
        const struct pm_config *cfg = q->config;
        const cJSON *section = q->project->settings;
        struct pm__buck2_settings s = { 0 };
        int r;

        r = pm_config_get_strv(cfg, section, "command", &s.command, &s.n_command, err);
        if (r < 0)
                goto out;
        if (s.n_command == 0) {
                pm_free(s.command);
                s.command = pm_calloc(2, sizeof(*s.command));
                if (!s.command) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                s.command[0] = "buck2";
                s.n_command = 1;
        }
        r = pm_config_get_strv(cfg, section, "args", &s.args, &s.n_args, err);
        if (r < 0)
                goto out;
        r = pm_config_get_string(cfg, section, "target_pattern", "//...", &s.target_pattern, err);
        if (r < 0)
                goto out;
        r = pm_config_get_string(cfg, section, "isolation_dir", ".projmodel", &s.isolation_dir,
                                 err);
        if (r < 0)
                goto out;
        r = pm__buck2_default_edition(q, &s.default_edition, err);
        if (r < 0)
                goto out;
        *ret = s;
        memset(&s, 0, sizeof(s));
out:
        pm__buck2_settings_release(&s);
        return r;
}

void
pm__buck2_settings_release(struct pm__buck2_settings *s)
{
        pm_free(s->command);
        pm_free(s->args);
        memset(s, 0, sizeof(*s));
}

char **
pm__buck2_argv_new(const struct pm__buck2_settings *s)
{
        char **argv = pm_argv_new(s->command, s->n_command);

        /* A separate isolation dir is a separate buck2 daemon: the IDE's queries and builds
         * never invalidate the user's build state. */
        if (argv && s->isolation_dir[0] &&
            (pm_argv_push(&argv, "--isolation-dir") < 0 ||
             pm_argv_push(&argv, s->isolation_dir) < 0))
                return pm_argv_free(argv);
        return argv;
}

int
pm__buck2_default_edition(const struct pm_query *q, const char **ret, struct pm_error *err)
{
        const struct pm_config *cfg = q->config;
        const cJSON *s = q->project->settings;
        const char *file = cfg->file ? cfg->file : "(no file)";
        const char *e;
        int r;

        r = pm_config_get_string(cfg, s, "default_edition", "2021", &e, err);
        if (r < 0)
                return r;
        if (!pm_edition_valid(e))
                return pm_error_set(
                        err, PM_ECONFIG,
                        "invalid '%s': key 'buck2.default_edition' must be one of 2015, 2018, 2021, 2024, not '%s'",
                        file, e);
        if (ret)
                *ret = e;
        return 0;
}

static char *
trim(char *s)
{
        char *e;

        while (*s == ' ' || *s == '\t' || *s == '\r')
                s++;
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
                *--e = '\0';
        return s;
}

/*
 * Read the cell map ([cells] or [repositories]) and [buildfile] name from .buckconfig. A
 * missing or unreadable file is no error: unknown cells then map to the project root, which is
 * what a single-cell repository means.
 */
int
pm__buck2_load_buckconfig(struct pm__buck2_ctx *x)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error ignored;
        char *path, *line, *save = NULL, *section = NULL;
        size_t n_bf = 0;
        int r = 0;

        path = pm_path_join(x->a, x->root, ".buckconfig");
        if (!path)
                return pm__buck2_oom(x);
        pm_error_init(&ignored);
        r = pm_strbuf_read_file(&sb, path, PM_BUCK2_MAX_BUCKCONFIG, &ignored);
        if (r == -ENOMEM)
                goto out;
        r = 0;
        if (!sb.buf)
                goto defaults;
        for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *l = trim(line), *eq, *key, *val;

                if (!*l || *l == '#' || *l == ';')
                        continue;
                if (*l == '[') {
                        char *end = strchr(l, ']');

                        if (end)
                                *end = '\0';
                        section = trim(l + 1);
                        continue;
                }
                eq = strchr(l, '=');
                if (!section || !eq)
                        continue;
                *eq = '\0';
                key = trim(l);
                val = trim(eq + 1);
                if ((strcmp(section, "cells") == 0 || strcmp(section, "repositories") == 0) &&
                    x->n_cells < PM__BUCK2_MAX_CELLS && *key && *val) {
                        x->cells[x->n_cells].name = pm_arena_strdup(x->a, key);
                        x->cells[x->n_cells].dir = pm_path_normalize(x->a, x->root, val);
                        if (!x->cells[x->n_cells].name || !x->cells[x->n_cells].dir) {
                                r = pm__buck2_oom(x);
                                goto out;
                        }
                        x->n_cells++;
                } else if (strcmp(section, "buildfile") == 0 &&
                           (strcmp(key, "name") == 0 || strcmp(key, "name_v2") == 0)) {
                        char *save2 = NULL;

                        for (char *n = strtok_r(val, ",", &save2);
                             n && n_bf < PM__BUCK2_MAX_BF_NAMES; n = strtok_r(NULL, ",", &save2)) {
                                n = trim(n);
                                if (!*n)
                                        continue;
                                x->bf_names[n_bf] = pm_arena_strdup(x->a, n);
                                if (!x->bf_names[n_bf]) {
                                        r = pm__buck2_oom(x);
                                        goto out;
                                }
                                n_bf++;
                        }
                }
        }
defaults:
        for (const char *const *d = pm__buck2_build_file_names(); *d; d++)
                x->bf_names[n_bf++] = *d;
        x->bf_names[n_bf] = NULL;
out:
        pm_strbuf_release(&sb);
        return r;
}

/* The directory of cell @name (@len bytes); unknown cells are the project root. */
const char *
pm__buck2_cell_dir(const struct pm__buck2_ctx *x, const char *name, size_t len)
{
        for (size_t i = 0; i < x->n_cells; i++)
                if (strlen(x->cells[i].name) == len && memcmp(x->cells[i].name, name, len) == 0)
                        return x->cells[i].dir;
        return x->root;
}
