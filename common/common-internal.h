/* SPDX-License-Identifier: MIT */
/* Declarations shared by common/ files only. No other folder includes this. */
#ifndef PROJMODEL_COMMON_INTERNAL_H
#define PROJMODEL_COMMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

struct pm_arena;

/*
 * Make room for one more element of size @elem in the arena array *@v holding @n of *@cap.
 * Grows by doubling; the old array stays in the arena. Returns 0 or -ENOMEM (*@v unchanged).
 */
int pm__arena_grow(struct pm_arena *a, void **v, size_t n, size_t *cap, size_t elem);

/* True if @cfg is in rust-analyzer's syntax: `name` or `name="value"`. */
bool pm__cfg_valid(const char *cfg);

#include "projmodel/banned.h"

#endif
