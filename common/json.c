/* SPDX-License-Identifier: MIT */
/* cJSON helpers (projmodel/json.h): building arrays and objects with out-of-memory checks,
 * discover's finished line, and the one JSON form of a crate's fields. */
#include "projmodel/json.h"

#include <cjson/cJSON.h>

#include "projmodel/graph.h"
#include "projmodel/mem.h"

cJSON *
pm_json_strlist(const struct pm_strlist *l)
{
        cJSON *a = cJSON_CreateArray();

        for (size_t i = 0; a && i < l->n; i++) {
                cJSON *s = cJSON_CreateString(l->v[i]);

                if (!s || !cJSON_AddItemToArray(a, s)) {
                        cJSON_Delete(s);
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        return a;
}

bool
pm_json_add(cJSON *o, const char *key, cJSON *item)
{
        if (item && cJSON_AddItemToObject(o, key, item))
                return true;
        cJSON_Delete(item);
        return false;
}

cJSON *
pm_json_discover_finished(const char *buildfile, cJSON *project)
{
        cJSON *line = cJSON_CreateObject();

        if (!line || !cJSON_AddStringToObject(line, "kind", "finished") ||
            !cJSON_AddStringToObject(line, "buildfile", buildfile) ||
            !pm_json_add(line, "project", pm_steal_ptr(&project))) {
                cJSON_Delete(project);
                cJSON_Delete(line);
                return NULL;
        }
        return line;
}

/* One field of @c under @key. False on OOM. */
static bool
add_field(cJSON *o, const char *key, const struct pm_crate *c, const struct pm_crate_field *f,
          bool nulls)
{
        const char *s;

        switch (f->type) {
        case PM_FIELD_STR:
        case PM_FIELD_PATH:
                s = PM_CRATE_AT(c, f, char *);
                if (s)
                        return cJSON_AddStringToObject(o, key, s) != NULL;
                return !nulls || cJSON_AddNullToObject(o, key) != NULL;
        case PM_FIELD_KIND:
                return cJSON_AddStringToObject(
                               o, key, pm_crate_kind_name(PM_CRATE_AT(c, f, enum pm_crate_kind))) !=
                       NULL;
        case PM_FIELD_BOOL:
                return cJSON_AddBoolToObject(o, key, PM_CRATE_AT(c, f, bool)) != NULL;
        case PM_FIELD_LIST:
        case PM_FIELD_PATHS:
                return pm_json_add(o, key, pm_json_strlist(&PM_CRATE_AT(c, f, struct pm_strlist)));
        case PM_FIELD_ENV: {
                const struct pm_kvlist *l = &PM_CRATE_AT(c, f, struct pm_kvlist);
                cJSON *env = cJSON_AddObjectToObject(o, key);

                for (size_t i = 0; env && i < l->n; i++)
                        if (!cJSON_AddStringToObject(env, l->v[i].key, l->v[i].value))
                                return false;
                return env != NULL;
        }
        }
        return false;
}

bool
pm_json_crate_fields(cJSON *o, const struct pm_crate *c, unsigned flags)
{
        bool snake = flags & PM_JSON_CRATE_SNAKE;

        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++) {
                const struct pm_crate_field *f = &pm_crate_fields[k];

                if (!add_field(o, snake ? f->name : f->json, c, f, snake))
                        return false;
        }
        return true;
}
