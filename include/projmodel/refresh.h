/* SPDX-License-Identifier: MIT */
/* Refreshing the stored model from the build systems, synchronously (the one-shot commands;
 * the daemon does the same on its loop). Owned by server/. */
#ifndef PROJMODEL_REFRESH_H
#define PROJMODEL_REFRESH_H

struct pm_change;
struct pm_config;
struct pm_error;
struct pm_index;

/*
 * Metadata keys the refresh writes into the model (pm_index_meta_get()).
 * PM_META_LAST_ERROR is "" after a fully successful refresh.
 */
#define PM_META_SYSROOT         "sysroot"
#define PM_META_SYSROOT_SRC     "sysroot_src"
#define PM_META_LAST_REFRESH    "last_refresh"    /* unix time in seconds, decimal */
#define PM_META_LAST_REFRESH_MS "last_refresh_ms" /* how long it took, decimal ms */
#define PM_META_LAST_ERROR      "last_error"      /* one-line message, or "" */

/*
 * Query every project of @cfg (pm_query_run_sync()) and apply each graph to @idx under the
 * project's id (pm_index_apply()), then resolve the sysroot and store it with the refresh time
 * and duration in @idx's metadata.
 *
 * A project whose query or apply fails is left exactly as it was in @idx; the other projects
 * are still refreshed. The first failure is returned with the project named in the message
 * (and its file in err->file when the tool did not name one), and stored as
 * PM_META_LAST_ERROR.
 *
 * @cfg must have every build_system resolved (pm_adapter_resolve_config()).
 * @ret_change, when non-NULL, receives the sum of all projects' changes (released with
 * pm_change_release() by the caller); it is written only on success.
 */
int pm_model_refresh_sync(const struct pm_config *cfg, struct pm_index *idx,
                          struct pm_change *ret_change, struct pm_error *err);

#endif
