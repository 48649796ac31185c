/* SPDX-License-Identifier: MIT */
/* Small cJSON helpers the CLI, the writer and the daemon share for building JSON. */
#ifndef PROJMODEL_JSON_H
#define PROJMODEL_JSON_H

#include <stdbool.h>

struct cJSON;
struct pm_strlist;

/* A JSON array of @l's strings, or NULL out of memory. */
struct cJSON *pm_json_strlist(const struct pm_strlist *l);

/*
 * cJSON_AddItemToObject(), which fails when it cannot copy @key, owning @item either way: false
 * (and @item deleted) when @item is NULL (a failed create) or out of memory.
 */
bool pm_json_add(struct cJSON *o, const char *key, struct cJSON *item);

#endif
