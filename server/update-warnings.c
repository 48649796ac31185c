/* SPDX-License-Identifier: MIT */
/* The daemon's parse warnings per project: taken from each parse, kept until that project's next
 * parse, listed by projmodel/status (docs/protocol.md, status). */
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"
#include "update-internal.h"

void
pm__warnings_copy(struct pm__warnings *w, const struct pm_strlist *list)
{
        w->total = list->n;
        for (size_t i = 0; i < list->n && w->n < PM_STATUS_MAX_WARNINGS; i++) {
                /* A Bazel warning quotes a tool's error line from up to PM_TOOL_MAX_STDERR of
                 * stderr: cut as every command prints it (graph.h). */
                char *text = pm_utf8_clip(list->v[i], PM_WARNING_MAX);
                int r = text ? pm_argv_push(&w->v, text) : -1;

                pm_free(text);
                if (r < 0)
                        break; /* out of memory: fewer warnings listed, still counted */
                w->n++;
        }
}

void
pm__warnings_release(struct pm__warnings *w)
{
        pm_argv_free(w->v);
        memset(w, 0, sizeof(*w));
}

void
pm__warnings_store(struct pm_server *srv, size_t project, struct pm__warnings *w)
{
        if (!srv->warnings)
                srv->warnings = pm_calloc(srv->cfg->n_projects, sizeof(*srv->warnings));
        if (srv->warnings) {
                pm__warnings_release(&srv->warnings[project]);
                srv->warnings[project] = *w;
                memset(w, 0, sizeof(*w));
        } else {
                pm__log("out of memory keeping the parse warnings, dropping them");
                pm__warnings_release(w);
        }
}

bool
pm__warnings_any(const struct pm_server *srv, size_t project)
{
        return srv->warnings && srv->warnings[project].total > 0;
}

void
pm__warnings_config_changed(struct pm_server *srv, const struct pm_config *cfg)
{
        struct pm__warnings *next = NULL;

        if (!srv->warnings)
                return;
        next = pm_calloc(cfg->n_projects, sizeof(*next));
        /* A project that stays (same id) keeps its warnings until its re-query replaces them. */
        for (size_t i = 0; next && i < cfg->n_projects; i++)
                for (size_t j = 0; j < srv->cfg->n_projects; j++)
                        if (strcmp(cfg->projects[i].id, srv->cfg->projects[j].id) == 0) {
                                next[i] = srv->warnings[j];
                                memset(&srv->warnings[j], 0, sizeof(srv->warnings[j]));
                                break;
                        }
        pm__warnings_free(srv);
        srv->warnings = next;
}

void
pm__warnings_free(struct pm_server *srv)
{
        for (size_t i = 0; srv->warnings && i < srv->cfg->n_projects; i++)
                pm__warnings_release(&srv->warnings[i]);
        pm_free(srv->warnings);
        srv->warnings = NULL;
}

bool
pm__warnings_status(const struct pm_server *srv, cJSON *o)
{
        cJSON *a = cJSON_AddArrayToObject(o, "warnings");
        size_t listed = 0, total = 0;
        bool ok = a != NULL;

        for (size_t i = 0; ok && srv->warnings && i < srv->cfg->n_projects; i++) {
                const struct pm__warnings *w = &srv->warnings[i];

                total += w->total;
                for (size_t k = 0; ok && k < w->n && listed < PM_STATUS_MAX_WARNINGS; k++) {
                        cJSON *e = cJSON_CreateObject();

                        if (!e || !cJSON_AddItemToArray(a, e)) {
                                cJSON_Delete(e);
                                return false;
                        }
                        ok = cJSON_AddStringToObject(e, "project", srv->cfg->projects[i].id) &&
                             cJSON_AddStringToObject(e, "message", w->v[k]);
                        listed++;
                }
        }
        return ok && cJSON_AddNumberToObject(o, "warningsTotal", (double)total);
}
