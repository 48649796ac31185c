/* SPDX-License-Identifier: MIT */
/* Allocation wrappers with the fault-injection hook tests use to fail the Nth allocation. */
#include "projmodel/mem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/*
 * Fault hook state. Process-wide on purpose: a per-object allocator would not reach cJSON. The
 * daemon allocates from libuv's thread pool too, so both are atomic (relaxed: they order
 * nothing else). fail_at == 0 means "never fail".
 */
static atomic_ulong alloc_count;
static atomic_ulong fail_at;
/* Allocations that returned NULL, injected or real (pm_mem_failures()). */
static atomic_ulong failures;

/* Count @p as a failure when NULL; returns @p. */
static void *
counted(void *p)
{
        if (!p)
                atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
        return p;
}

/* Count one allocation; true if the hook says this one must fail. */
static int
should_fail(void)
{
        unsigned long n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
        unsigned long at = atomic_load_explicit(&fail_at, memory_order_relaxed);

        return at && n == at;
}

void *
pm_malloc(size_t size)
{
        if (should_fail())
                return counted(NULL);
        return counted(malloc(size ? size : 1));
}

void *
pm_calloc(size_t n, size_t size)
{
        if (should_fail())
                return counted(NULL);
        if (n == 0 || size == 0)
                return counted(calloc(1, 1));
        return counted(calloc(n, size));
}

void *
pm_realloc(void *p, size_t size)
{
        if (should_fail())
                return counted(NULL);
        return counted(realloc(p, size ? size : 1));
}

void
pm_free(void *p)
{
        free(p);
}

int
pm_grow_(void *items, size_t *cap, size_t need, size_t size, size_t first)
{
        size_t ncap = *cap ? *cap : first ? first : 1;
        void *old, *nv;

        if (need <= *cap)
                return 0;
        while (ncap < need)
                ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
        if (size && ncap > SIZE_MAX / size)
                return -ENOMEM;
        /* @items is the address of the caller's typed pointer: read and written by bytes, not
         * through a void ** the pointer was not declared as. */
        memcpy(&old, items, sizeof(old));
        nv = pm_realloc(old, ncap * size);
        if (!nv)
                return -ENOMEM;
        memcpy(items, &nv, sizeof(nv));
        *cap = ncap;
        return 0;
}

char *
pm_strdup(const char *s)
{
        if (!s)
                return NULL;
        return pm_strndup(s, strlen(s));
}

char *
pm_strndup(const char *s, size_t n)
{
        size_t len;
        char *r;

        if (!s)
                return NULL;
        len = strnlen(s, n);
        r = pm_malloc(len + 1);
        if (!r)
                return NULL;
        memcpy(r, s, len);
        r[len] = '\0';
        return r;
}

char *
pm_vasprintf(const char *fmt, va_list ap)
{
        va_list aq;
        char *r;
        int n;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return NULL;
        r = pm_malloc((size_t)n + 1);
        if (!r)
                return NULL;
        (void)vsnprintf(r, (size_t)n + 1, fmt, ap);
        return r;
}

char *
pm_asprintf(const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = pm_vasprintf(fmt, ap);
        va_end(ap);
        return r;
}

unsigned long
pm_mem_fail_at(unsigned long nth)
{
        unsigned long made = atomic_exchange_explicit(&alloc_count, 0, memory_order_relaxed);

        atomic_store_explicit(&fail_at, nth, memory_order_relaxed);
        return made;
}

unsigned long
pm_mem_failures(void)
{
        return atomic_load_explicit(&failures, memory_order_relaxed);
}

static void *
cjson_malloc(size_t size)
{
        return pm_malloc(size);
}

void
pm_mem_install_hooks(void)
{
        cJSON_Hooks hooks = { .malloc_fn = cjson_malloc, .free_fn = pm_free };

        cJSON_InitHooks(&hooks);
}
