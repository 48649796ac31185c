/* SPDX-License-Identifier: MIT */
/* One discover answer (pm_project_answer(), what the daemon's discover and `projmodel discover`
 * run) costs the crates it answers with, not the model: the SQLite virtual-machine steps of the
 * same answer are the same in a model of 200 crates and one of 5,000. */
#include <stdint.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/project.h"

#include "graph-fixture.h"
#include "vm-steps.h"

/*
 * Steps of answering @req in a synthetic model of @n crates (graph-fixture.c: crate i depends
 * only on lower-numbered crates, so crate 105's closure is the same in every model of more
 * than 110 crates). @ret_crates gets the answer's crate count.
 */
static uint64_t
answer_steps(size_t n, const struct pm_project_request *req, size_t *ret_crates)
{
        struct pm_graph *g = pm_fx_synthetic(n, 0);
        struct pm_project_answer a = { 0 };
        struct pm_index *idx = NULL;
        struct pm_change ch = { 0 };
        struct pm_error err;
        uint64_t before, after;

        pm_error_init(&err);
        cr_assert_not_null(g);
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "gn:.", g, &ch, &err), 0, "%s", err.msg);
        pm_change_release(&ch);
        /* Once to prepare every statement (a warm daemon), then the measured answer. */
        cr_assert_eq(pm_project_answer(idx, req, &a, &err), 0, "%s", err.msg);
        pm_project_answer_release(&a);
        before = pm_fx_vm_steps(idx);
        cr_assert_eq(pm_project_answer(idx, req, &a, &err), 0, "%s", err.msg);
        after = pm_fx_vm_steps(idx);
        cr_assert_gt(a.graph->n_crates, 1, "the answer has no dependencies");
        *ret_crates = a.graph->n_crates;
        pm_project_answer_release(&a);
        pm_index_close(idx);
        pm_graph_free(g);
        return after - before;
}

static void
assert_flat(const struct pm_project_request *req)
{
        size_t small_n, large_n;
        uint64_t small = answer_steps(200, req, &small_n),
                 large = answer_steps(5000, req, &large_n);

        cr_assert_eq(small_n, large_n, "the same request gave %zu crates, then %zu", small_n,
                     large_n);
        cr_assert_gt(small, 0);
        /* Same crates, same rows: only B-tree depth may differ, never a pass over the model. */
        cr_assert_leq(large, small + small / 10,
                      "answering '%s' (%zu crates) took %llu steps in a 5,000-crate model, %llu in "
                      "a 200-crate one",
                      req->value, small_n, (unsigned long long)large, (unsigned long long)small);
}

Test(indexer_discover_cost, a_file_answer_does_not_grow_with_the_model)
{
        assert_flat(&(struct pm_project_request){ .form = PM_PROJECT_PATH,
                                                  .value = "/repo/c10/crate_105/util.rs" });
}

Test(indexer_discover_cost, a_build_file_answer_does_not_grow_with_the_model)
{
        assert_flat(&(struct pm_project_request){ .form = PM_PROJECT_BUILDFILE,
                                                  .value = "/repo/c10/BUILD.gn" });
}

Test(indexer_discover_cost, a_label_answer_does_not_grow_with_the_model)
{
        assert_flat(&(struct pm_project_request){ .form = PM_PROJECT_LABEL,
                                                  .value = "//c10:crate_105" });
}
