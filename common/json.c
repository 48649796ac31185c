/* SPDX-License-Identifier: MIT */
/* cJSON helpers (projmodel/json.h): building arrays and objects with out-of-memory checks. */
#include "projmodel/json.h"

#include <cjson/cJSON.h>

#include "projmodel/graph.h"

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
