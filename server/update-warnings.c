/* SPDX-License-Identifier: MIT */
/* The daemon's parse warnings per project: taken from each parse, kept until that project's next
 * parse replaces them (a partial one: those of the build files it re-read), listed by
 * projmodel/status (docs/protocol.md, status). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"
#include "update-internal.h"

void
pm__warnings_copy(struct pm__warnings *w, const struct pm_graph *g)
{
        const struct pm_strlist *list = &g->warnings;

        w->total = list->n;
        for (size_t i = 0; i < list->n; i++) {
                /* A Bazel warning quotes a tool's error line from up to PM_TOOL_MAX_STDERR of
                 * stderr: cut as every command prints it (graph.h). */
                char *text = pm_utf8_clip(list->v[i], PM_WARNING_MAX);
                int r = text ? pm_argv_push(&w->v, text) : -1;

                pm_free(text);
                if (r >= 0)
                        r = pm_argv_push(&w->files,
                                         i < g->warning_files.n ? g->warning_files.v[i] : "");
                if (r < 0)
                        break; /* out of memory: fewer warnings listed, still counted */
                w->n++;
        }
        w->partial = g->partial;
        for (size_t i = 0; w->partial && i < g->covered.n; i++)
                if (pm_argv_push(&w->covered, g->covered.v[i]) < 0)
                        w->partial = false; /* replace them all rather than keep stale ones */
}

void
pm__warnings_release(struct pm__warnings *w)
{
        pm_argv_free(w->v);
        pm_argv_free(w->files);
        pm_argv_free(w->covered);
        memset(w, 0, sizeof(*w));
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A warning's message and build file, borrowed: sorted, @w's say what it has already. */
struct said {
        const char *msg, *file;
};

static int
cmp_said(const void *a, const void *b)
{
        const struct said *x = a, *y = b;
        int c = strcmp(x->msg, y->msg);

        return c ? c : strcmp(x->file, y->file);
}

/*
 * Partial @w over the project's previous @old: @old's warnings about build files @w did not
 * cover come first, then @w's. 0, or -1 when out of memory (@w is then left as it was).
 * Sorted lookups: the loop thread runs it, and neither list has a bound.
 */
static int
merge(struct pm__warnings *w, const struct pm__warnings *old)
{
        size_t n_cov = pm_labels_count(w->covered), n = 0;
        char **v = NULL, **files = NULL;
        struct said *said = NULL;

        if (n_cov > 1)
                qsort(w->covered, n_cov, sizeof(*w->covered), cmp_str);
        if (w->n && old->n) {
                said = pm_calloc(w->n, sizeof(*said));
                if (!said)
                        goto oom;
                for (size_t k = 0; k < w->n; k++)
                        said[k] = (struct said){ w->v[k], w->files[k] };
                qsort(said, w->n, sizeof(*said), cmp_said);
        }
        for (size_t k = 0; k < old->n; k++) {
                const char *f = old->files[k];
                struct said key = { old->v[k], f };

                if (f[0] && n_cov && bsearch(&f, w->covered, n_cov, sizeof(*w->covered), cmp_str))
                        continue;
                /* The same note again (a proc macro that still does not build) replaces the old
                 * one rather than piling up. */
                if (said && bsearch(&key, said, w->n, sizeof(*said), cmp_said))
                        continue;
                if (pm_argv_push(&v, old->v[k]) < 0 || pm_argv_push(&files, f) < 0)
                        goto oom;
                n++;
        }
        for (size_t k = 0; k < w->n; k++) {
                if (pm_argv_push(&v, w->v[k]) < 0 || pm_argv_push(&files, w->files[k]) < 0)
                        goto oom;
        }
        pm_free(said);
        pm_argv_free(w->v);
        pm_argv_free(w->files);
        w->v = v;
        w->files = files;
        w->total += n;
        w->n += n;
        return 0;
oom:
        pm_free(said);
        pm_argv_free(v);
        pm_argv_free(files);
        return -1;
}

void
pm__warnings_store(struct pm_server *srv, size_t project, struct pm__warnings *w)
{
        if (!srv->warnings)
                srv->warnings = pm_calloc(srv->cfg->n_projects, sizeof(*srv->warnings));
        if (srv->warnings) {
                if (w->partial && merge(w, &srv->warnings[project]) < 0)
                        pm__log("out of memory keeping the parse warnings of the build files "
                                "not re-read, dropping them");
                w->covered = pm_argv_free(w->covered);
                w->partial = false;
                pm__warnings_release(&srv->warnings[project]);
                srv->warnings[project] = *w;
                memset(w, 0, sizeof(*w));
        } else {
                pm__log("out of memory keeping the parse warnings, dropping them");
                pm__warnings_release(w);
        }
}

bool
pm__warnings_global(const struct pm_server *srv, size_t project)
{
        const struct pm__warnings *w = srv->warnings ? &srv->warnings[project] : NULL;

        if (!w)
                return false;
        if (w->n < w->total)
                return true;
        for (size_t k = 0; k < w->n; k++)
                if (!w->files[k][0])
                        return true;
        return false;
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
