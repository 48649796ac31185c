/* SPDX-License-Identifier: MIT */
/* Tests for the allocation wrappers, the fault hook, and the arena. */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

Test(common_mem, strdup_and_printf)
{
        char *s = pm_strdup("hello"), *t = pm_strndup("hello", 3),
             *u = pm_asprintf("%d-%s", 4, "x");

        cr_assert_str_eq(s, "hello");
        cr_assert_str_eq(t, "hel");
        cr_assert_str_eq(u, "4-x");
        cr_assert_null(pm_strdup(NULL));
        pm_free(s);
        pm_free(t);
        pm_free(u);
}

Test(common_mem, fault_hook_fails_nth_allocation)
{
        void *a, *b, *c;

        pm_mem_fail_at(2);
        a = pm_malloc(8);
        b = pm_malloc(8);
        c = pm_malloc(8);
        cr_assert_not_null(a);
        cr_assert_null(b);
        cr_assert_not_null(c);
        cr_assert_eq(pm_mem_fail_at(0), 3);
        pm_free(a);
        pm_free(c);
}

Test(common_mem, fault_hook_counts_and_disables)
{
        void *p;

        pm_mem_fail_at(0);
        p = pm_calloc(2, 4);
        pm_free(p);
        p = pm_realloc(NULL, 4);
        pm_free(p);
        cr_assert_eq(pm_mem_fail_at(0), 2);
        for (int i = 0; i < 10; i++) {
                p = pm_malloc(1);
                cr_assert_not_null(p);
                pm_free(p);
        }
}

Test(common_mem, realloc_failure_keeps_block)
{
        char *p = pm_malloc(4), *q;

        memcpy(p, "abc", 4);
        pm_mem_fail_at(1);
        q = pm_realloc(p, 1 << 20);
        pm_mem_fail_at(0);
        cr_assert_null(q);
        cr_assert_str_eq(p, "abc");
        pm_free(p);
}

Test(common_mem, cjson_goes_through_hooks)
{
        cJSON *j;

        pm_mem_install_hooks();
        pm_mem_install_hooks();
        pm_mem_fail_at(1);
        j = cJSON_Parse("{\"a\": 1}");
        pm_mem_fail_at(0);
        cr_assert_null(j, "cJSON's first allocation should have failed through pm_malloc");
        j = cJSON_Parse("{\"a\": 1}");
        cr_assert_not_null(j);
        cr_assert_gt(pm_mem_fail_at(0), 0);
        cJSON_Delete(j);
}

Test(common_mem, steal)
{
        char *p = pm_strdup("x"), *q;
        int fd = 7;

        q = pm_steal_ptr(&p);
        cr_assert_null(p);
        cr_assert_str_eq(q, "x");
        cr_assert_eq(pm_steal_fd(&fd), 7);
        cr_assert_eq(fd, -1);
        pm_free(q);
}

/* pm_grow(): @first elements the first time, then doubling until @need fits (one realloc per
 * growth, none when it fits); a failed or oversized growth leaves the array and its capacity. */
Test(common_mem, grow_doubles_and_keeps_the_array_on_failure)
{
        uint64_t *v = NULL;
        size_t cap = 0;

        pm_mem_fail_at(0);
        cr_assert_eq(pm_grow(&v, &cap, 1, 4), 0);
        cr_assert_not_null(v);
        cr_assert_eq(cap, 4);
        for (size_t i = 0; i < 4; i++)
                v[i] = i;
        cr_assert_eq(pm_grow(&v, &cap, 4, 4), 0);
        cr_assert_eq(pm_mem_fail_at(0), 1, "no allocation when it fits");
        cr_assert_eq(pm_grow(&v, &cap, 5, 4), 0);
        cr_assert_eq(cap, 8);
        cr_assert_eq(pm_grow(&v, &cap, 33, 4), 0);
        cr_assert_eq(cap, 64, "doubled until 33 fit");
        cr_assert_eq(pm_mem_fail_at(0), 2, "one realloc per growth");
        for (size_t i = 0; i < 4; i++)
                cr_assert_eq(v[i], i, "element %zu kept", i);
        pm_mem_fail_at(1);
        cr_assert_eq(pm_grow(&v, &cap, 65, 4), -ENOMEM);
        pm_mem_fail_at(0);
        cr_assert_eq(cap, 64);
        cr_assert_eq(v[3], 3);
        cr_assert_eq(pm_grow(&v, &cap, SIZE_MAX / 4, 4), -ENOMEM, "a size past SIZE_MAX");
        cr_assert_eq(cap, 64);
        cr_assert_eq(pm_mem_fail_at(0), 0, "no realloc of an overflowed size");
        pm_free(v);
}

Test(common_arena, alloc_is_zeroed_and_aligned)
{
        struct pm_arena *a = pm_arena_new();

        cr_assert_not_null(a);
        for (size_t size = 1; size < 200; size += 7) {
                unsigned char *p = pm_arena_alloc(a, size);

                cr_assert_not_null(p);
                cr_assert_eq((uintptr_t)p % alignof(max_align_t), 0);
                for (size_t i = 0; i < size; i++)
                        cr_assert_eq(p[i], 0);
                memset(p, 0xff, size);
        }
        cr_assert_null(pm_arena_free(a));
}

Test(common_arena, many_and_large_allocations)
{
        struct pm_arena *a = pm_arena_new();
        char *small[2000];
        char *large;

        for (int i = 0; i < 2000; i++) {
                small[i] = pm_arena_printf(a, "string %d", i);
                cr_assert_not_null(small[i]);
        }
        large = pm_arena_alloc(a, 1 << 20);
        cr_assert_not_null(large);
        memset(large, 'x', 1 << 20);
        /* Small allocations after a large one still come from the chain and stay intact. */
        cr_assert_str_eq(pm_arena_strdup(a, "after"), "after");
        for (int i = 0; i < 2000; i++) {
                char want[32];

                (void)snprintf(want, sizeof(want), "string %d", i);
                cr_assert_str_eq(small[i], want);
        }
        cr_assert_geq(pm_arena_used(a), (size_t)(1 << 20));
        pm_arena_free(a);
}

Test(common_arena, strdup_variants)
{
        struct pm_arena *a = pm_arena_new();

        cr_assert_str_eq(pm_arena_strdup(a, "abc"), "abc");
        cr_assert_str_eq(pm_arena_strndup(a, "abcdef", 2), "ab");
        cr_assert_str_eq(pm_arena_strndup(a, "ab", 10), "ab");
        cr_assert_null(pm_arena_strdup(a, NULL));
        cr_assert_str_eq(pm_arena_printf(a, "%s=%d", "k", 5), "k=5");
        cr_assert_eq(pm_arena_used(NULL), 0);
        pm_arena_free(a);
        cr_assert_null(pm_arena_free(NULL));
}

Test(common_arena, out_of_memory_returns_null)
{
        struct pm_arena *a = pm_arena_new();

        pm_mem_fail_at(1);
        cr_assert_null(pm_arena_alloc(a, 1 << 20));
        pm_mem_fail_at(0);
        cr_assert_null(pm_arena_alloc(a, SIZE_MAX));
        cr_assert_not_null(pm_arena_alloc(a, 16));
        pm_arena_free(a);
}
