/* SPDX-License-Identifier: MIT */
/* Crate-graph builders shared by the indexer/writer tests and tests/indexer/bench-index.c. */
#include "graph-fixture.h"

#include <stdio.h>

#include "projmodel/graph.h"

struct pm_crate *
pm_fx_crate(struct pm_graph *g, const char *root, const char *label, const char *name)
{
        struct pm_crate *c = pm_graph_add_crate(g);

        if (!c)
                return NULL;
        c->label = pm_graph_strdup(g, label);
        c->build_system = pm_graph_strdup(g, "gn");
        c->display_name = pm_graph_strdup(g, name);
        c->crate_name = pm_graph_strdup(g, name);
        c->kind = PM_CRATE_LIB;
        c->edition = pm_graph_strdup(g, "2021");
        c->root_module = pm_graph_printf(g, "%s/%s/src/lib.rs", root, name);
        c->build_file = pm_graph_printf(g, "%s/%s/BUILD.gn", root, name);
        c->is_workspace_member = true;
        if (!c->label || !c->build_system || !c->display_name || !c->crate_name || !c->edition ||
            !c->root_module || !c->build_file)
                return NULL;
        return c;
}

int
pm_fx_dep(struct pm_graph *g, const char *from, const char *to, const char *rename)
{
        struct pm_crate *c = pm_graph_find(g, from);

        if (!c)
                return -1;
        return pm_crate_add_dep(g, c, to, rename);
}

struct pm_graph *
pm_fx_synthetic(size_t n, size_t variant)
{
        struct pm_graph *g = pm_graph_new();
        int r = 0;

        if (!g)
                return NULL;
        for (size_t i = 0; i < n && r == 0; i++) {
                struct pm_crate *c = pm_graph_add_crate(g);
                size_t dir = i / 10;
                size_t targets[4] = { i / 2, i / 3, i > 7 ? i - 7 : 0, i > 1 ? i - 1 : 0 };

                if (!c)
                        goto fail;
                c->label = pm_graph_printf(g, "//c%zu:crate_%zu", dir, i);
                c->build_system = pm_graph_strdup(g, "gn");
                c->display_name = pm_graph_printf(g, "crate-%zu", i);
                c->crate_name = pm_graph_printf(g, "crate_%zu", i);
                c->kind = i % 50 == 49 ? PM_CRATE_BIN : PM_CRATE_LIB;
                c->edition = pm_graph_strdup(g, "2021");
                c->root_module = pm_graph_printf(g, "/repo/c%zu/crate_%zu/lib.rs", dir, i);
                c->build_file = pm_graph_printf(g, "/repo/c%zu/BUILD.gn", dir);
                c->is_workspace_member = i % 3 != 0;
                if (variant && i % variant == 0)
                        c->note = pm_graph_strdup(g, "changed");
                r |= pm_strlist_push(g, &c->cfgs, "unix");
                r |= pm_strlist_push(g, &c->cfgs, "debug_assertions");
                r |= pm_strlist_push(g, &c->cfgs, "feature=\"std\"");
                r |= pm_strlist_push(g, &c->cfgs, "feature=\"alloc\"");
                r |= pm_kvlist_set(g, &c->env, "CARGO_PKG_NAME", c->display_name);
                r |= pm_kvlist_set(g, &c->env, "OUT_DIR", "/repo/out/gen");
                r |= pm_strlist_push(g, &c->flags, "--edition=2021");
                r |= pm_strlist_push(g, &c->flags, "--cfg");
                r |= pm_strlist_push(g, &c->flags, "feature=\"std\"");
                r |= pm_strlist_push(g, &c->flags, "-Copt-level=2");
                r |= pm_strlist_push(g, &c->flags, "-Cdebuginfo=1");
                r |= pm_strlist_push(g, &c->flags, "--cap-lints=warn");
                for (int s = 0; s < 3; s++) {
                        char *src = pm_graph_printf(g, "/repo/c%zu/crate_%zu/%s.rs", dir, i,
                                                    s == 0   ? "lib"
                                                    : s == 1 ? "util"
                                                             : "tests");

                        r |= src ? pm_strlist_push(g, &c->sources, src) : -1;
                }
                {
                        char *inc = pm_graph_printf(g, "/repo/c%zu/crate_%zu", dir, i);

                        r |= inc ? pm_strlist_push(g, &c->include_dirs, inc) : -1;
                }
                if (!c->label || !c->display_name || !c->crate_name || !c->root_module ||
                    !c->build_file || !c->build_system || !c->edition)
                        goto fail;
                for (size_t d = 0; d < 4 && i > 0; d++) {
                        char label[64];
                        bool dup = false;

                        for (size_t e = 0; e < d; e++)
                                dup |= targets[e] == targets[d];
                        if (dup || targets[d] >= i)
                                continue;
                        (void)snprintf(label, sizeof(label), "//c%zu:crate_%zu", targets[d] / 10,
                                       targets[d]);
                        r |= pm_crate_add_dep(g, c, label, NULL);
                }
                if (r == 0 && i % 10 == 0)
                        r = pm_strlist_push_unique(g, &g->build_files, c->build_file);
        }
        if (r == 0)
                return g;
fail:
        pm_graph_free(g);
        return NULL;
}
