/* SPDX-License-Identifier: MIT */
/* The batch arena: a chain of blocks freed in one go (one malloc per allocation under ASan). */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/mem.h"

#define BLOCK_SIZE  (64 * 1024)
#define ALIGN       (alignof(max_align_t))
#define LARGE_ALLOC (BLOCK_SIZE / 4)

/* One block (or, in debug builds, one allocation). The payload follows the header. */
struct block {
        struct block *next;
        size_t size; /* payload bytes */
        size_t used; /* payload bytes handed out */
        alignas(max_align_t) unsigned char data[];
};

/*
 * Invariant: head is the block new small allocations come from (NULL before the first one);
 * large allocations get their own block linked after head so head keeps its free space.
 */
struct pm_arena {
        struct block *head;
        size_t used; /* bytes handed out, for pm_arena_used() */
};

struct pm_arena *
pm_arena_new(void)
{
        return pm_calloc(1, sizeof(struct pm_arena));
}

struct pm_arena *
pm_arena_free(struct pm_arena *a)
{
        struct block *b, *next;

        if (!a)
                return NULL;
        for (b = a->head; b; b = next) {
                next = b->next;
                pm_free(b);
        }
        pm_free(a);
        return NULL;
}

static struct block *
block_new(size_t size)
{
        struct block *b;

        if (size > SIZE_MAX - sizeof(struct block))
                return NULL;
        b = pm_malloc(sizeof(struct block) + size);
        if (!b)
                return NULL;
        b->next = NULL;
        b->size = size;
        b->used = 0;
        return b;
}

#ifdef PM_ARENA_DEBUG
/* Sanitizer builds: every allocation is its own exactly-sized malloc so ASan sees overflows. */
void *
pm_arena_alloc(struct pm_arena *a, size_t size)
{
        struct block *b = block_new(size);

        if (!b)
                return NULL;
        memset(b->data, 0, size);
        b->used = size;
        b->next = a->head;
        a->head = b;
        a->used += size;
        return b->data;
}
#else
void *
pm_arena_alloc(struct pm_arena *a, size_t size)
{
        size_t rounded;
        struct block *b;
        void *p;

        if (size > SIZE_MAX - ALIGN)
                return NULL;
        rounded = (size + ALIGN - 1) & ~(ALIGN - 1);
        if (rounded == 0)
                rounded = ALIGN;

        if (rounded >= LARGE_ALLOC) {
                b = block_new(rounded);
                if (!b)
                        return NULL;
                b->used = rounded;
                if (a->head) {
                        b->next = a->head->next;
                        a->head->next = b;
                } else {
                        a->head = b;
                }
                memset(b->data, 0, rounded);
                a->used += size;
                return b->data;
        }

        b = a->head;
        if (!b || b->size - b->used < rounded) {
                b = block_new(BLOCK_SIZE);
                if (!b)
                        return NULL;
                b->next = a->head;
                a->head = b;
        }
        p = b->data + b->used;
        b->used += rounded;
        memset(p, 0, rounded);
        a->used += size;
        return p;
}
#endif

char *
pm_arena_strndup(struct pm_arena *a, const char *s, size_t n)
{
        size_t len;
        char *r;

        if (!s)
                return NULL;
        len = strnlen(s, n);
        r = pm_arena_alloc(a, len + 1);
        if (!r)
                return NULL;
        memcpy(r, s, len);
        r[len] = '\0';
        return r;
}

char *
pm_arena_strdup(struct pm_arena *a, const char *s)
{
        if (!s)
                return NULL;
        return pm_arena_strndup(a, s, strlen(s));
}

char *
pm_arena_vprintf(struct pm_arena *a, const char *fmt, va_list ap)
{
        va_list aq;
        char *r;
        int n;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return NULL;
        r = pm_arena_alloc(a, (size_t)n + 1);
        if (!r)
                return NULL;
        (void)vsnprintf(r, (size_t)n + 1, fmt, ap);
        return r;
}

char *
pm_arena_printf(struct pm_arena *a, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = pm_arena_vprintf(a, fmt, ap);
        va_end(ap);
        return r;
}

size_t
pm_arena_used(const struct pm_arena *a)
{
        return a ? a->used : 0;
}
