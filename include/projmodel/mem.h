/* SPDX-License-Identifier: MIT */
/* Allocation wrappers with a fault hook, ownership hand-off helpers, and the batch arena. */
#ifndef PROJMODEL_MEM_H
#define PROJMODEL_MEM_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Every allocation in projmodel goes through these, and pm_mem_install_hooks() routes cJSON's
 * (and, from server/, libuv's) allocations through them too, so tests can fail the Nth
 * allocation anywhere. They return NULL on failure; nothing aborts on out-of-memory.
 */
void *pm_malloc(size_t size);
void *pm_calloc(size_t n, size_t size);
void *pm_realloc(void *p, size_t size);
void pm_free(void *p);
/* Returns a pm_malloc'd copy, or NULL for NULL input or out of memory. */
char *pm_strdup(const char *s);
char *pm_strndup(const char *s, size_t n);
/* pm_malloc'd printf result, or NULL. */
char *pm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *pm_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/*
 * Test hook: make the @nth allocation from now on fail (1 = the next one), or disable with 0.
 * Returns how many allocations were made since the previous call.
 */
unsigned long pm_mem_fail_at(unsigned long nth);

/*
 * How many allocations have returned NULL so far (injected or real), process-wide. A caller
 * whose callee cannot tell out-of-memory from bad input (cJSON_Parse) compares it before and
 * after the call.
 */
unsigned long pm_mem_failures(void);

/* Route cJSON's allocator through pm_malloc/pm_free. Idempotent. */
void pm_mem_install_hooks(void);

/*
 * Make room for @need elements of @size bytes in the pm_malloc'd array *@items (NULL when
 * *@cap is 0) of capacity *@cap: when *@cap is smaller, reallocate it to @first elements
 * (the first time) or double its capacity until it holds @need, so a series of appends copies
 * each element a bounded number of times. The array stays the caller's; on failure it and
 * *@cap are unchanged. Returns 0, or -ENOMEM (out of memory or a size past SIZE_MAX).
 * pm_grow() passes the element size of @pp's array itself.
 */
int pm_grow_(void *items, size_t *cap, size_t need, size_t size, size_t first);

#define pm_grow(pp, cap, need, first) pm_grow_((pp), (cap), (need), sizeof(**(pp)), (first))

/* Return *@pp and set it to NULL: a visible ownership transfer (libinput steal()). */
static inline void *
pm_steal_ptr_(void **pp)
{
        void *p = *pp;
        *pp = NULL;
        return p;
}

#define pm_steal_ptr(pp) pm_steal_ptr_((void **)(pp))

/* Return *@fdp and set it to -1. */
static inline int
pm_steal_fd(int *fdp)
{
        int fd = *fdp;
        *fdp = -1;
        return fd;
}

/*
 * A block-chain arena for short-lived batches (one adapter parse, one request). There is no
 * individual free: everything goes with pm_arena_free(). In sanitizer builds (PM_ARENA_DEBUG)
 * each allocation is its own malloc so ASan sees overflows.
 */
struct pm_arena;

/* Returns a new arena owned by the caller, or NULL on out of memory. */
struct pm_arena *pm_arena_new(void);
/* Frees the arena and everything allocated from it. NULL is a no-op. Returns NULL. */
struct pm_arena *pm_arena_free(struct pm_arena *a);
/* Zeroed, max-aligned memory owned by @a, or NULL on out of memory. */
void *pm_arena_alloc(struct pm_arena *a, size_t size);
/* Copies owned by @a. NULL input gives NULL. */
char *pm_arena_strdup(struct pm_arena *a, const char *s);
char *pm_arena_strndup(struct pm_arena *a, const char *s, size_t n);
char *pm_arena_printf(struct pm_arena *a, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* pm_arena_printf() with a va_list, for wrappers; @ap is used up as by vsnprintf(). */
char *pm_arena_vprintf(struct pm_arena *a, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
/* Bytes handed out so far (for limits and benchmarks). */
size_t pm_arena_used(const struct pm_arena *a);

#endif
