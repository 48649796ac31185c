/* SPDX-License-Identifier: MIT */
/* server/dylibs.c: the dylibs a query's own build reported are served from the content-addressed
 * cache; one that cannot be copied keeps its path and says why; other graphs are left alone. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "server/server-internal.h"
#include "testlib.h"

/* A graph with one proc macro whose dylib is @dylib. */
static struct pm_graph *
graph_with(const char *dylib, bool built)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c = g ? pm_graph_add_crate(g) : NULL;

        cr_assert_not_null(c);
        c->label = pm_graph_strdup(g, "cargo:.#m@1.0.0");
        c->kind = PM_CRATE_PROC_MACRO;
        c->proc_macro_dylib = pm_graph_strdup(g, dylib);
        g->dylibs_built = built;
        return g;
}

Test(server_dylibs, built_dylibs_are_served_from_the_cache)
{
        char *tmp = pm_test_mkdtemp(), *built = pm_test_strf("%s/t/libm-1.so", tmp);
        char *cache = pm_test_strf("%s/cache", tmp), *dylibs = pm_test_strf("%s/dylibs/", cache);
        char *missing = pm_test_strf("%s/t/libgone.so", tmp);
        struct pm_config cfg = { .cache_dir = cache };
        struct pm_error err;
        struct pm_graph *g;

        cr_assert_eq(pm_test_write_file(built, "\177ELF v1"), 0);
        pm_error_init(&err);
        /* A build the query ran: the JSON will name the copy. */
        g = graph_with(built, true);
        cr_assert_eq(pm__dylibs_cache(&cfg, g, &err), 0, "%s", err.msg);
        cr_assert(strncmp(g->crates[0].proc_macro_dylib, dylibs, strlen(dylibs)) == 0, "%s",
                  g->crates[0].proc_macro_dylib);
        cr_assert_null(g->crates[0].note);
        pm_graph_free(g);
        /* Paths the query did not build (GN's outputs, built later) are left alone. */
        g = graph_with(built, false);
        cr_assert_eq(pm__dylibs_cache(&cfg, g, &err), 0, "%s", err.msg);
        cr_assert_str_eq(g->crates[0].proc_macro_dylib, built);
        pm_graph_free(g);
        /* Not there: served as reported, with a note naming the file. */
        g = graph_with(missing, true);
        cr_assert_eq(pm__dylibs_cache(&cfg, g, &err), 0, "%s", err.msg);
        cr_assert_str_eq(g->crates[0].proc_macro_dylib, missing);
        cr_assert(g->crates[0].note && strstr(g->crates[0].note, "dylib not copied to the cache") &&
                          strstr(g->crates[0].note, "libgone.so"),
                  "%s", g->crates[0].note ? g->crates[0].note : "(no note)");
        pm_graph_free(g);
        (void)pm_test_rmtree(tmp);
        pm_free(tmp);
        pm_free(built);
        pm_free(cache);
        pm_free(dylibs);
        pm_free(missing);
}
