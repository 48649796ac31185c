/* SPDX-License-Identifier: MIT */
/* The loop's side of what projmodel/audit keeps between requests (docs/protocol.md, "Keeping the
 * audit current"): watch events of files become the next audit's changed paths, the directories
 * of audited files get watched (the root's tree watch, or a watch of their own outside it), and
 * audit_idle_ms after the last audit the kept scans and those extra watches are dropped. */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/mem.h"

#include "server-internal.h"

/* More changed paths than this between two audits: stat every file instead of listing them. */
#define AUDIT_MAX_CHANGED 100000

void
pm__audit_distrust(struct pm_server *srv)
{
        if (!srv->audit_state)
                return;
        srv->audit_distrust = true;
        srv->audit_changed = pm_argv_free(srv->audit_changed);
        srv->n_audit_changed = 0;
}

void
pm__audit_watch_event(struct pm_server *srv, const char *path, uint32_t mask)
{
        if (!srv->audit_state || srv->audit_distrust)
                return;
        /* A directory gone or moved away takes its watches with it: its files (and any kept
         * under its old name) are checked by stat until watched again. */
        if ((mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) ||
            ((mask & IN_ISDIR) && (mask & (IN_DELETE | IN_MOVED_FROM)))) {
                pm__audit_distrust(srv);
                return;
        }
        if (mask & IN_ISDIR)
                return;
        if (srv->n_audit_changed >= AUDIT_MAX_CHANGED ||
            pm_argv_push(&srv->audit_changed, path) < 0) {
                pm__audit_distrust(srv);
                return;
        }
        srv->n_audit_changed++;
}

void
pm__audit_forget(struct pm_server *srv)
{
        pm__audit_state_free(srv->audit_state);
        srv->audit_state = NULL;
        srv->audit_changed = pm_argv_free(srv->audit_changed);
        srv->audit_fresh = pm_argv_free(srv->audit_fresh);
        srv->n_audit_changed = srv->n_audit_fresh = 0;
        srv->audit_distrust = false;
        pm__watch_audit_forget(srv);
}

static void
on_idle(uv_timer_t *t)
{
        struct pm_server *srv = t->data;

        if (srv->audit_running || srv->audit_queue)
                return; /* the audit's end re-arms it */
        pm__log("no audit for %u ms: dropping the kept scans and %zu audit watches",
                srv->cfg->audit_idle_ms, srv->n_audit_watches);
        pm__audit_forget(srv);
}

void
pm__audit_before(struct pm_server *srv)
{
        if (srv->audit_idle_init)
                (void)uv_timer_stop(&srv->audit_idle);
        /* Events the kernel holds for files written before this request was sent. */
        if (srv->audit_state && !pm__watch_drain(srv))
                srv->audit_distrust = true;
}

void
pm__audit_after(struct pm_server *srv, char **dirs, size_t n)
{
        if (!srv->audit_state || srv->stopping)
                return;
        pm__watch_audit_dirs(srv, dirs, n, &srv->audit_fresh, &srv->n_audit_fresh);
        if (!srv->audit_idle_init) {
                if (uv_timer_init(&srv->loop, &srv->audit_idle) < 0)
                        return;
                srv->audit_idle.data = srv;
                srv->audit_idle_init = true;
                /* Never what keeps the loop running. */
                uv_unref((uv_handle_t *)&srv->audit_idle);
        }
        (void)uv_timer_start(&srv->audit_idle, on_idle, srv->cfg->audit_idle_ms, 0);
}

void
pm__audit_close(struct pm_server *srv)
{
        if (srv->audit_idle_init && !uv_is_closing((uv_handle_t *)&srv->audit_idle))
                uv_close((uv_handle_t *)&srv->audit_idle, NULL);
}

bool
pm__audit_status(struct pm_server *srv, cJSON *o)
{
        cJSON *a = cJSON_AddObjectToObject(o, "audit");

        return a && cJSON_AddBoolToObject(a, "kept", srv->audit_state != NULL) &&
               cJSON_AddNumberToObject(a, "files", (double)srv->audit_files) &&
               cJSON_AddNumberToObject(a, "checked", (double)srv->audit_checked) &&
               cJSON_AddNumberToObject(a, "read", (double)srv->audit_read) &&
               cJSON_AddNumberToObject(a, "trustedDirs", (double)srv->audit_trusted) &&
               cJSON_AddNumberToObject(a, "rendered", (double)srv->audit_rendered) &&
               cJSON_AddNumberToObject(a, "watches", (double)srv->n_audit_watches) &&
               cJSON_AddNumberToObject(a, "pendingChanges", (double)srv->n_audit_changed) &&
               cJSON_AddNumberToObject(a, "lastMs", srv->audit_ms);
}
