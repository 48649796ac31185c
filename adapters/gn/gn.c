/* SPDX-License-Identifier: MIT */
/* The gn adapter: its settings, the `gn gen --ide=json` plan, and the ops table. Parsing lives in
 * gn-parse.c and gn-ninja.c; nothing here runs a process. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"
#include "adapters/gn/gn-internal.h"

static const char *const markers[] = { ".gn", NULL };
static const char *const build_file_names[] = { "BUILD.gn", ".gn", "args.gn", NULL };

/* The "gn" section's keys (pm_adapter_resolve_config checks them). */
static const char *const config_keys[] = {
        "out_dir", "gn", "args", "default_edition", "third_party", NULL,
};

static const char *
config_file(const struct pm_query *q)
{
        if (q->config && q->config->file)
                return q->config->file;
        return ".projmodel.json";
}

static int
bad_key(const struct pm_query *q, struct pm_error *err, const char *key, const char *what)
{
        return pm_error_set_at(err, PM_ECONFIG, config_file(q), 0, 0,
                               "invalid '%s': key 'gn.%s' %s", config_file(q), key, what);
}

/* A string setting: absent gives @def; present must be a non-empty string. */
static int
get_string(const struct pm_query *q, const cJSON *section, const char *key, const char *def,
           const char **ret, struct pm_error *err)
{
        const cJSON *item = section ? cJSON_GetObjectItemCaseSensitive(section, key) : NULL;

        if (!item || cJSON_IsNull(item)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsString(item) || !item->valuestring[0])
                return bad_key(q, err, key, "must be a non-empty string");
        *ret = item->valuestring;
        return 0;
}

void
pm__gn_settings_release(struct pm__gn_settings *s)
{
        pm_free(s->out_dir);
        pm_free(s->third_party);
        memset(s, 0, sizeof(*s));
}

int
pm__gn_settings_load(const struct pm_query *q, struct pm__gn_settings *ret, struct pm_error *err)
{
        struct pm__gn_settings s = { 0 };
        const cJSON *section = q->project ? q->project->settings : NULL;
        const cJSON *item;
        const char *out_dir = NULL;
        int r;

        if (!q->project || !q->project->root || !pm_path_is_absolute(q->project->root))
                return pm_error_set(err, -EINVAL, "internal bug: gn query without a project root");
        if (section && !cJSON_IsObject(section))
                return bad_key(q, err, "", "must be an object");

        r = get_string(q, section, "gn", "gn", &s.gn, err);
        if (r < 0)
                goto out;
        r = get_string(q, section, "out_dir", "out", &out_dir, err);
        if (r < 0)
                goto out;
        r = get_string(q, section, "default_edition", "2015", &s.default_edition, err);
        if (r < 0)
                goto out;
        if (!pm_edition_valid(s.default_edition)) {
                r = bad_key(q, err, "default_edition", "must be one of 2015, 2018, 2021, 2024");
                goto out;
        }

        item = section ? cJSON_GetObjectItemCaseSensitive(section, "args") : NULL;
        if (item && !cJSON_IsNull(item)) {
                if (!cJSON_IsString(item)) {
                        r = bad_key(q, err, "args", "must be a string");
                        goto out;
                }
                s.args = item->valuestring;
        }

        item = section ? cJSON_GetObjectItemCaseSensitive(section, "third_party") : NULL;
        if (item && !cJSON_IsNull(item)) {
                const cJSON *p;
                size_t n = 0;

                if (!cJSON_IsArray(item)) {
                        r = bad_key(q, err, "third_party", "must be an array of label prefixes");
                        goto out;
                }
                s.third_party = pm_calloc((size_t)cJSON_GetArraySize(item) + 1, sizeof(char *));
                if (!s.third_party) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                cJSON_ArrayForEach(p, item)
                {
                        if (!cJSON_IsString(p) || strncmp(p->valuestring, "//", 2) != 0) {
                                r = bad_key(q, err, "third_party",
                                            "must hold label prefixes starting with '//'");
                                goto out;
                        }
                        s.third_party[n++] = p->valuestring;
                }
                s.n_third_party = n;
        }

        /* Relative to the project root, like the `gn gen out` a user would type there. */
        s.out_dir = pm_path_normalize(NULL, q->project->root, out_dir);
        if (!s.out_dir) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (strcmp(s.out_dir, q->project->root) == 0) {
                r = bad_key(q, err, "out_dir", "must not be the project root");
                goto out;
        }

        *ret = s;
        memset(&s, 0, sizeof(s));
        r = 0;
out:
        pm__gn_settings_release(&s);
        return r;
}

/*
 * One step: `gn gen <out> --root=<root> --ide=json [--args=...]`. GN writes <out>/project.json
 * (and the ninja files the parser reads for dependency renames) and regenerates only what
 * changed, so a full re-query is cheap.
 */
static int
plan(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__gn_settings s = { 0 };
        char **argv = NULL;
        char *root_arg = NULL, *args_arg = NULL, *cwd = NULL, *output = NULL;
        int r;

        r = pm__gn_settings_load(q, &s, err);
        if (r < 0)
                goto out;

        root_arg = pm_asprintf("--root=%s", q->project->root);
        if (s.args)
                args_arg = pm_asprintf("--args=%s", s.args);
        cwd = pm_strdup(q->project->root);
        output = pm_path_join(NULL, s.out_dir, "project.json");
        if (!root_arg || (s.args && !args_arg) || !cwd || !output) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        {
                const char *parts[] = { s.gn, "gen", s.out_dir, root_arg, "--ide=json", args_arg };

                argv = pm_argv_new(parts, args_arg ? 6 : 5);
        }
        if (!argv) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }

        ret_plan->steps[0].argv = pm_steal_ptr(&argv);
        ret_plan->steps[0].cwd = pm_steal_ptr(&cwd);
        ret_plan->steps[0].output_file = pm_steal_ptr(&output);
        ret_plan->steps[0].optional = false;
        ret_plan->n_steps = 1;
        r = 0;
out:
        pm_argv_free(argv);
        pm_free(root_arg);
        pm_free(args_arg);
        pm_free(cwd);
        pm_free(output);
        pm__gn_settings_release(&s);
        return r;
}

static int
parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
      struct pm_graph **ret_graph, struct pm_error *err)
{
        struct pm__gn_settings s = { 0 };
        int r;

        if (n_outputs < 1 || !outputs)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "gn produced no output");

        r = pm__gn_settings_load(q, &s, err);
        if (r < 0)
                return r;
        if (q->want_fingerprints && !q->captured)
                r = pm__gn_parse_incremental(q, &s, &outputs[0], ret_graph, err);
        else
                r = pm__gn_parse(q, &s, &outputs[0], ret_graph, err);
        pm__gn_settings_release(&s);
        return r;
}

/* The build directory (gn.out_dir) holds everything GN and ninja write. */
static int
watch_skip(const struct pm_query *q, char ***ret_dirs, struct pm_error *err)
{
        struct pm__gn_settings s = { 0 };
        int r;

        r = pm__gn_settings_load(q, &s, err);
        if (r == 0)
                r = pm__watch_skip_push(ret_dirs, q->project->root, s.out_dir, err);
        pm__gn_settings_release(&s);
        return r;
}

const struct pm_adapter_ops pm__adapter_gn = {
        .version = PM_ADAPTER_OPS_VERSION,
        .name = "gn",
        .markers = markers,
        .build_file_names = build_file_names,
        .plan = plan,
        .parse = parse,
        .watch_skip = watch_skip,
        .config_keys = config_keys,
        .outputs = &pm__gn_outputs,
        .check_step = pm__gn_check_step,
};
