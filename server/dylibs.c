/* SPDX-License-Identifier: MIT */
/* Serving built proc macros from the content-addressed dylib cache (common/dylib-cache.c): the
 * dylibs a query's own build reported are copied there before the graph is applied, so
 * rust-analyzer never has a file loaded that the next build rewrites in place. */
#include <errno.h>
#include <stdbool.h>

#include "projmodel/config.h"
#include "projmodel/dylib-cache.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "server-internal.h"

int
pm__dylib_cache_crate(const struct pm_config *cfg, struct pm_graph *g, struct pm_crate *c,
                      char **cache, struct pm_error *err)
{
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        char *cached = NULL, *copy, *note;
        struct pm_error perr;
        int r;

        if (!c->proc_macro_dylib)
                return 0;
        if (!*cache) {
                *cache = pm_config_cache_dir(cfg);
                if (!*cache)
                        return pm_error_set(err, -ENOMEM, "out of memory");
        }
        pm_error_init(&perr);
        r = pm_dylib_cache_put(*cache, c->proc_macro_dylib, &cached, &perr);
        if (r == -ENOMEM)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0) {
                /* Unreadable or not writable: served as the build reported it, and the crate
                 * says why it is not a stable copy. */
                note = pm_graph_printf(g, "%s%sdylib not copied to the cache: %s",
                                       c->note ? c->note : "", c->note ? "; " : "",
                                       pm_error_format(&perr, line, sizeof(line)));
                if (!note)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                c->note = note;
                return 0;
        }
        copy = pm_graph_strdup(g, cached);
        pm_free(cached);
        if (!copy)
                return pm_error_set(err, -ENOMEM, "out of memory");
        c->proc_macro_dylib = copy;
        return 0;
}

int
pm__dylibs_cache(const struct pm_config *cfg, struct pm_graph *g, struct pm_error *err)
{
        char *cache = NULL;
        int r = 0;

        if (!g || !g->dylibs_built)
                return 0;
        for (size_t i = 0; i < g->n_crates && r == 0; i++)
                r = pm__dylib_cache_crate(cfg, g, &g->crates[i], &cache, err);
        pm_free(cache);
        return r;
}
