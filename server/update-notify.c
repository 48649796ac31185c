/* SPDX-License-Identifier: MIT */
/* What the daemon refresh tells clients: $/progress, projmodel/modelChanged and
 * projmodel/refreshFailed (docs/protocol.md). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/index.h"
#include "projmodel/stamp.h"

#include "server-internal.h"
#include "update-internal.h"

void
pm__update_progress(struct pm_server *srv, const char *kind, const char *message)
{
        pm__progress_send(srv, kind, message);
}

void
pm__update_notify_done(struct pm__refresh *r)
{
        struct pm_server *srv = r->srv;
        cJSON *params, *arr;
        char msg[64];

        (void)snprintf(msg, sizeof(msg), "generation %llu, %zu crates",
                       (unsigned long long)srv->generation, srv->n_crates);
        pm__update_progress(srv, "end", r->failed ? "failed" : msg);
        if (r->change.n_labels || r->change.n_build_files) {
                bool ok;

                params = cJSON_CreateObject();
                ok = params &&
                     cJSON_AddNumberToObject(params, "generation", (double)srv->generation);
                /* cJSON_CreateStringArray() gives NULL for no strings: say []. */
                arr = !ok ? NULL
                      : r->change.n_labels
                              ? cJSON_CreateStringArray((const char *const *)r->change.labels,
                                                        (int)r->change.n_labels)
                              : cJSON_CreateArray();
                ok = arr && cJSON_AddItemToObject(params, "labels", arr);
                if (!ok)
                        cJSON_Delete(arr);
                arr = !ok ? NULL
                      : r->change.n_build_files
                              ? cJSON_CreateStringArray((const char *const *)r->change.build_files,
                                                        (int)r->change.n_build_files)
                              : cJSON_CreateArray();
                ok = arr && cJSON_AddItemToObject(params, "buildFiles", arr);
                if (!ok)
                        cJSON_Delete(arr);
                ok = ok && cJSON_AddNumberToObject(params, "added", (double)r->change.added) &&
                     cJSON_AddNumberToObject(params, "removed", (double)r->change.removed) &&
                     cJSON_AddNumberToObject(params, "modified", (double)r->change.modified);
                if (!ok)
                        params = (cJSON_Delete(params), NULL);
                /* Out of memory: NULL closes the subscribers (pm__client_send), which
                 * then reconnect and resync, rather than missing a change. */
                pm__server_broadcast(srv, true,
                                     params ? pm__rpc_notification("projmodel/modelChanged", params)
                                            : NULL);
        }
        if (r->failed) {
                params = cJSON_CreateObject();
                if (params) {
                        cJSON_AddNumberToObject(params, "generation", (double)srv->generation);
                        cJSON_AddStringToObject(params, "error",
                                                srv->last_error ? srv->last_error : "");
                        if (srv->last_error_output)
                                cJSON_AddStringToObject(params, "output", srv->last_error_output);
                        pm__server_broadcast(
                                srv, true, pm__rpc_notification("projmodel/refreshFailed", params));
                }
        }
}
