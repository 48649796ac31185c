/* SPDX-License-Identifier: MIT */
/* Harness self-test: a deliberate leak that the sanitizer build must report. */
#include <criterion/criterion.h>

#include "projmodel/mem.h"

/*
 * LeakSanitizer can miss leaks in forked children (google/sanitizers#1182), and Criterion runs
 * every test in one. This test leaks on purpose, in the same harness configuration as the real
 * suites (criterion_args, TAP, test_env); tests/canary/meson.build registers it, in sanitizer
 * builds only, as a test that must fail. If it ever passes, leaks in the real suites go unseen.
 */
static void *volatile sink;

Test(canary, leak_is_reported)
{
        char *p = pm_malloc(4096);

        cr_assert_not_null(p);
        p[0] = 'x';
        /* The only reference goes through a volatile store that is then overwritten: nothing
         * left on the stack or in a register can keep the block reachable. */
        sink = p;
        sink = NULL;
        p = NULL;
}
