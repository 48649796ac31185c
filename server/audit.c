/* SPDX-License-Identifier: MIT */
/* The daemon's projmodel/audit (docs/protocol.md): the unsafe-code inventory of the whole model,
 * one crate or a crate's closure, as the JSON `projmodel audit --format json` prints. Scans are
 * kept per file in the model, so an answer re-reads only the files whose size or mtime changed. */
#include "projmodel/audit.h"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

/* Mark @label and, with @closure, every crate it depends on transitively. */
static int
select_crates(struct pm_server *srv, const struct pm_graph *g, const char *label, bool closure,
              bool *on, struct pm_error *err)
{
        char **deps = NULL;
        size_t found = 0;
        int r = 0;

        if (closure) {
                r = pm_index_deps(srv->idx, label, true, &deps, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < g->n_crates; i++) {
                const char *l = g->crates[i].label;

                if (strcmp(l, label) == 0) {
                        on[i] = true;
                        found++;
                }
                for (size_t k = 0; deps && deps[k]; k++)
                        if (strcmp(l, deps[k]) == 0)
                                on[i] = true;
        }
        pm_labels_free(deps);
        if (found == 0)
                return pm_error_set(err, PM_ENOTFOUND, "no crate '%s' in the model", label);
        return 0;
}

int
pm__audit_reply(struct pm_server *srv, const cJSON *params, cJSON **ret, struct pm_error *err)
{
        const struct pm_audit_crate **crates = NULL;
        struct pm_graph *g = NULL;
        struct pm_audit *a = NULL;
        struct pm_audit_store store;
        const char *label = NULL;
        bool closure = false, *on = NULL, began = false;
        size_t n = 0;
        int r;

        r = pm__param_string(params, "label", false, &label, err);
        if (r == 0)
                r = pm__param_bool(params, "closure", false, &closure, err);
        if (r == 0 && closure && !label)
                r = pm_error_set(err, PM_EPARAMS, "parameter 'closure' needs a 'label'");
        if (r == 0)
                r = pm_index_load(srv->idx, NULL, 0, &g, err);
        if (r < 0)
                goto out;
        pm_graph_sort(g);
        on = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*on));
        crates = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*crates));
        if (!on || !crates) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < g->n_crates; i++)
                on[i] = label == NULL;
        if (label) {
                r = select_crates(srv, g, label, closure, on, err);
                if (r < 0)
                        goto out;
        }
        r = pm_audit_new(&a, err);
        if (r < 0)
                goto out;
        pm_index_audit_store(srv->idx, &store);
        pm_audit_set_store(a, &store);
        r = pm_index_audit_begin(srv->idx, err);
        if (r < 0)
                goto out;
        began = true;
        for (size_t i = 0; r == 0 && i < g->n_crates; i++)
                if (on[i])
                        r = pm_audit_add_crate(a, &g->crates[i], &crates[n++], err);
        if (r < 0)
                goto out;
        began = false;
        r = pm_index_audit_end(srv->idx, true, err);
        if (r < 0)
                goto out;
        *ret = pm_audit_json(srv->cfg->root, crates, n);
        if (!*ret)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        if (began) {
                struct pm_error ignored;

                (void)pm_index_audit_end(srv->idx, false, &ignored);
        }
        pm_audit_free(a);
        pm_free(crates);
        pm_free(on);
        pm_graph_free(g);
        return r;
}
