/* SPDX-License-Identifier: MIT */
/* A partial pm_index_load() costs the crates it loads, not the model: the SQLite virtual-machine
 * steps of loading the same crates are the same in a model of 200 crates and one of 5,000. */
#include <stdint.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "vm-steps.h"

#define N_LOADED 20

/* Steps of loading the first N_LOADED crates of a synthetic model of @n crates. */
static uint64_t
load_steps(size_t n)
{
        struct pm_graph *g = pm_fx_synthetic(n, 0), *loaded = NULL;
        const char *labels[N_LOADED];
        struct pm_index *idx = NULL;
        struct pm_change ch = { 0 };
        struct pm_error err;
        uint64_t before, after;

        pm_error_init(&err);
        cr_assert_not_null(g);
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "gn:.", g, &ch, &err), 0, "%s", err.msg);
        pm_change_release(&ch);
        for (size_t i = 0; i < N_LOADED; i++)
                labels[i] = g->crates[i].label;
        /* Once to prepare every statement, then the measured load. */
        cr_assert_eq(pm_index_load(idx, labels, N_LOADED, &loaded, &err), 0, "%s", err.msg);
        loaded = pm_graph_free(loaded);
        before = pm_fx_vm_steps(idx);
        cr_assert_eq(pm_index_load(idx, labels, N_LOADED, &loaded, &err), 0, "%s", err.msg);
        after = pm_fx_vm_steps(idx);
        cr_assert_eq(loaded->n_crates, N_LOADED);
        cr_assert_gt(loaded->crates[N_LOADED - 1].sources.n, 0, "child rows were not loaded");
        pm_graph_free(loaded);
        pm_index_close(idx);
        pm_graph_free(g);
        return after - before;
}

Test(indexer_load_cost, a_partial_load_does_not_grow_with_the_model)
{
        uint64_t small = load_steps(200), large = load_steps(5000);

        cr_assert_gt(small, 0);
        /* Same crates, same rows: only B-tree depth may differ, never a pass over the model. */
        cr_assert_leq(large, small + small / 10,
                      "loading %d crates took %llu steps in a 5,000-crate model, %llu in a "
                      "200-crate one",
                      N_LOADED, (unsigned long long)large, (unsigned long long)small);
}
