/* SPDX-License-Identifier: MIT */
/* The SQLite virtual-machine steps a model handle has run, for the tests that measure what one
 * load or one answer costs (test-load-cost.c, test-discover-cost.c). Reads the handle's
 * statements through indexer/indexer-internal.h: tests only. */
#ifndef PROJMODEL_TEST_VM_STEPS_H
#define PROJMODEL_TEST_VM_STEPS_H

#include <stdint.h>

#include "../../indexer/indexer-internal.h"

/* Virtual-machine steps run so far by every cached statement of @idx. */
static inline uint64_t
pm_fx_vm_steps(struct pm_index *idx)
{
        uint64_t n = 0;

        for (size_t i = 0; i < _PM__STMT_MAX; i++)
                if (idx->stmts[i])
                        n += (uint64_t)sqlite3_stmt_status(idx->stmts[i], SQLITE_STMTSTATUS_VM_STEP,
                                                           0);
        return n;
}

#endif
