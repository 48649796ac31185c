/* SPDX-License-Identifier: MIT */
/* The adapter registry, build-system detection and resolving each project's build system. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"

/*
 * Every adapter, in detection order: a directory with both a .gn and a Cargo.toml is a GN
 * project that vendors crates, so the explicit build systems come before Cargo.
 */
static const struct pm_adapter_ops *const registry[] = {
        &pm__adapter_gn, &pm__adapter_bazel, &pm__adapter_buck2, &pm__adapter_cargo, NULL,
};

const struct pm_adapter_ops *const *
pm_adapter_all(void)
{
        return registry;
}

const struct pm_adapter_ops *
pm_adapter_find(const char *name)
{
        if (!name)
                return NULL;
        for (size_t i = 0; registry[i]; i++)
                if (strcmp(registry[i]->name, name) == 0)
                        return registry[i];
        return NULL;
}

const struct pm_adapter_ops *
pm_adapter_detect(const char *root)
{
        for (size_t i = 0; registry[i]; i++) {
                const char *const *m = registry[i]->markers;

                for (; m && *m; m++)
                        if (pm_path_exists_in(root, *m))
                                return registry[i];
        }
        return NULL;
}

/* The JSON object that configures project @i: the top level for the root, else its entry. */
static const cJSON *
project_object(const struct pm_config *cfg, size_t i)
{
        const cJSON *subs;

        if (!cfg->json)
                return NULL;
        if (i == 0)
                return cfg->json;
        subs = cJSON_GetObjectItemCaseSensitive(cfg->json, "subprojects");
        return cJSON_GetArrayItem(subs, (int)i - 1);
}

/* Keys every adapter section accepts besides the adapter's own (docs/configuration.md). */
static const char *const common_keys[] = { "build_proc_macros", NULL };

/* The keys of @ops's section: its config_keys, then common_keys (each once). */
static int
section_keys(const struct pm_adapter_ops *ops, const char **known, size_t cap, struct pm_error *err)
{
        size_t n = 0;

        for (const char *const *k = ops->config_keys; k && *k; k++)
                if (n + 1 < cap)
                        known[n++] = *k;
        for (const char *const *k = common_keys; *k; k++) {
                bool dup = false;

                for (size_t i = 0; i < n; i++)
                        dup = dup || strcmp(known[i], *k) == 0;
                if (!dup && n + 1 < cap)
                        known[n++] = *k;
        }
        known[n] = NULL;
        if (n + 1 >= cap)
                return pm_error_set(err, -EINVAL, "internal bug: adapter '%s' has too many keys",
                                    ops->name);
        return 0;
}

/* A common key's value, when present, has its type: true or false. */
static int
check_common_values(const struct pm_config *cfg, const cJSON *section, const char *where,
                    struct pm_error *err)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(section, "build_proc_macros");

        if (v && !cJSON_IsBool(v))
                return pm_error_set(
                        err, PM_ECONFIG,
                        "invalid '%s': key '%s.build_proc_macros' must be true or false",
                        cfg->file ? cfg->file : "(no file)", where);
        return 0;
}

/* Every adapter section of the file, wherever it is and whichever adapter the project uses. */
static int
check_sections(const struct pm_config *cfg, struct pm_error *err)
{
        const struct pm_adapter_ops *const *all = pm_adapter_all();
        const char *known[64];
        char where[64];
        int r;

        for (size_t i = 0; i < cfg->n_projects; i++) {
                const cJSON *obj = project_object(cfg, i);

                if (!obj)
                        continue;
                for (size_t a = 0; all[a]; a++) {
                        const cJSON *section = cJSON_GetObjectItemCaseSensitive(obj, all[a]->name);

                        if (!section)
                                continue;
                        if (i == 0)
                                (void)snprintf(where, sizeof(where), "%s", all[a]->name);
                        else
                                (void)snprintf(where, sizeof(where), "subprojects[%zu].%s", i - 1,
                                               all[a]->name);
                        r = section_keys(all[a], known, sizeof(known) / sizeof(known[0]), err);
                        if (r == 0)
                                r = pm_config_check_section(cfg, section, where, known, err);
                        if (r == 0 && cJSON_IsObject(section))
                                r = check_common_values(cfg, section, where, err);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int
pm_adapter_resolve_config(struct pm_config *cfg, struct pm_error *err)
{
        const struct pm_adapter_ops *ops;
        const cJSON *obj;
        char *id, *bs;

        for (size_t i = 0; i < cfg->n_projects; i++) {
                struct pm_project *p = &cfg->projects[i];

                if (!p->build_system) {
                        ops = pm_adapter_detect(p->root);
                        if (!ops)
                                return pm_error_set(
                                        err, PM_ENOROOT,
                                        "no build system found in '%s' (no .projmodel.json, .gn, MODULE.bazel, WORKSPACE, .buckconfig or Cargo.toml)",
                                        p->root);
                        bs = pm_strdup(ops->name);
                        if (!bs)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        p->build_system = bs;
                } else if (!pm_adapter_find(p->build_system)) {
                        return pm_error_set(
                                err, PM_ECONFIG,
                                "invalid '%s': unknown build_system '%s' for '%s' (known: gn, bazel, buck2, cargo)",
                                cfg->file ? cfg->file : p->root, p->build_system, p->rel);
                }
                id = pm_asprintf("%s:%s", p->build_system, p->rel);
                if (!id)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                pm_free(p->id);
                p->id = id;
                obj = project_object(cfg, i);
                p->settings = obj ? cJSON_GetObjectItemCaseSensitive(obj, p->build_system) : NULL;
        }
        return check_sections(cfg, err);
}

int
pm_adapter_parse_captured(const struct pm_config *cfg, const struct pm_project *project,
                          const char *data, size_t len, const char *origin,
                          struct pm_graph **ret_graph, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(project->build_system);
        struct pm_query q = {
                .config = cfg,
                .project = project,
                .captured = true,
        };
        struct pm_blob blob = {
                .data = data,
                .len = len,
                .origin = origin ? origin : "(captured output)",
        };

        if (!ops)
                return pm_error_set(err, PM_ECONFIG, "unknown build_system '%s' for '%s'",
                                    project->build_system ? project->build_system : "(none)",
                                    project->root);
        return ops->parse(&q, &blob, 1, ret_graph, err);
}

int
pm_adapter_build_proc_macros(const struct pm_config *cfg, const struct pm_project *project,
                             bool *ret, struct pm_error *err)
{
        const cJSON *v = project->settings ? cJSON_GetObjectItemCaseSensitive(project->settings,
                                                                              "build_proc_macros")
                                           : NULL;

        *ret = true;
        if (!v || cJSON_IsNull(v))
                return 0;
        if (!cJSON_IsBool(v))
                return pm_error_set(
                        err, PM_ECONFIG,
                        "invalid '%s': key '%s.build_proc_macros' must be true or false",
                        cfg->file ? cfg->file : "(no file)",
                        project->build_system ? project->build_system : "?");
        *ret = cJSON_IsTrue(v);
        return 0;
}
