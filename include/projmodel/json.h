/* SPDX-License-Identifier: MIT */
/* Small cJSON helpers the CLI, the writer and the daemon share for building JSON. */
#ifndef PROJMODEL_JSON_H
#define PROJMODEL_JSON_H

#include <stdbool.h>

struct cJSON;
struct pm_crate;
struct pm_strlist;

/* A JSON array of @l's strings, or NULL out of memory. */
struct cJSON *pm_json_strlist(const struct pm_strlist *l);

/*
 * `projmodel discover`'s finished line, {"kind":"finished","buildfile":@buildfile,"project":
 * @project} in that key order (docs/protocol.md; cli/client.c reads "buildfile" from the bytes):
 * the one builder of the line the CLI prints in-process (cli/cmd-discover.c) and the daemon
 * renders for it (server/methods.c), so the two cannot drift. @project is consumed, also on
 * failure. Owned by the caller (cJSON_Delete()), or NULL out of memory.
 */
struct cJSON *pm_json_discover_finished(const char *buildfile, struct cJSON *project);

/*
 * cJSON_AddItemToObject(), which fails when it cannot copy @key, owning @item either way: false
 * (and @item deleted) when @item is NULL (a failed create) or out of memory.
 */
bool pm_json_add(struct cJSON *o, const char *key, struct cJSON *item);

/* Options of pm_json_crate_fields(). */
enum {
        /* Keys are the field names (`build_system`), absent strings are null: the form of
         * `projmodel dump --format json`. Without it: camelCase keys (`buildSystem`) and absent
         * strings left out, the projmodel/crate reply (docs/protocol.md). */
        PM_JSON_CRATE_SNAKE = 1 << 0,
};

/*
 * Add every field of PM_CRATE_FIELDS (include/projmodel/graph.h) of @c to object @o, in schema
 * order; the dependency edges are left to the caller. False when out of memory.
 */
bool pm_json_crate_fields(struct cJSON *o, const struct pm_crate *c, unsigned flags);

#endif
