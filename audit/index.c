/* SPDX-License-Identifier: MIT */
/* A hash index of names within scopes (audit-internal.h): the TOML reader's keys per table and
 * the audit policy's criteria, so neither looks a name up by scanning every other. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "projmodel/hash.h"
#include "projmodel/mem.h"

#include "audit-internal.h"

static size_t
slot_of(const struct pm__index *ix, const void *scope, const char *name)
{
        size_t mask = ix->cap - 1,
               i = (size_t)pm_hash64_str(name, (uint64_t)(uintptr_t)scope) & mask;

        while (ix->v[i].name && (ix->v[i].scope != scope || strcmp(ix->v[i].name, name) != 0))
                i = (i + 1) & mask;
        return i;
}

void *
pm__index_get(const struct pm__index *ix, const void *scope, const char *name)
{
        return ix->cap ? ix->v[slot_of(ix, scope, name)].value : NULL;
}

int
pm__index_put(struct pm__index *ix, const void *scope, const char *name, void *value)
{
        size_t i;

        /* At most half full, so a probe ends soon and always at an empty slot. */
        if (2 * (ix->n + 1) > ix->cap) {
                struct pm__index old = *ix;

                ix->cap = old.cap ? old.cap * 2 : 64;
                ix->v = pm_calloc(ix->cap, sizeof(*ix->v));
                if (!ix->v) {
                        *ix = old;
                        return -ENOMEM;
                }
                for (size_t k = 0; k < old.cap; k++)
                        if (old.v[k].name)
                                ix->v[slot_of(ix, old.v[k].scope, old.v[k].name)] = old.v[k];
                pm_free(old.v);
        }
        i = slot_of(ix, scope, name);
        if (!ix->v[i].name)
                ix->n++;
        ix->v[i] = (struct pm__index_slot){ scope, name, value };
        return 0;
}

void
pm__index_release(struct pm__index *ix)
{
        pm_free(ix->v);
        memset(ix, 0, sizeof(*ix));
}
