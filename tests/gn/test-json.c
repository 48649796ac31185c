/* SPDX-License-Identifier: MIT */
/* Tests for the allocation-free JSON syntax check that tells bad GN output from a failed
 * allocation inside cJSON. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/gn/gn-internal.h"
#include "gn-test.h"
#include "testlib.h"

static int
check(const char *s, size_t *off)
{
        return pm__json_check(s, strlen(s), off);
}

Test(gn_json, accepts_what_gn_writes)
{
        size_t off;

        cr_assert_eq(
                check("{\"a\": [1, -2.5e+3, 0, true, false, null, {}], \"b\": {\"c\": []}}", &off),
                0);
        cr_assert_eq(check(" \"\\u00e9\\ud83d\\ude00\\n\" \n", &off), 0);
        cr_assert_eq(off, strlen(" \"\\u00e9\\ud83d\\ude00\\n\" \n"));
        cr_assert_eq(check("{} x", &off), 0);
        cr_assert_eq(off, 3, "trailing data starts at byte 3");
}

Test(gn_json, rejects_what_cjson_rejects)
{
        size_t off;

        cr_assert_eq(check("{\"a\": [1, 2}", &off), -2);
        cr_assert_eq(off, 11);
        cr_assert_eq(check("{\"a\" 1}", &off), -2);
        cr_assert_eq(check("[1,]", &off), -2);
        cr_assert_eq(check("\"\\udc00\"", &off), -2);
        cr_assert_eq(check("\"\\ud800x\"", &off), -2);
        cr_assert_eq(check("\"a\tb\"", &off), -2);
        cr_assert_eq(check("[01]", &off), -2);
        cr_assert_eq(check("", &off), -2);
        cr_assert_eq(check("nul", &off), -2);
}

Test(gn_json, nesting_is_limited)
{
        char deep[2 * PM_ADAPTER_MAX_JSON_DEPTH + 8];
        size_t off, i;
        struct gn_fx fx;

        for (i = 0; i <= PM_ADAPTER_MAX_JSON_DEPTH; i++) {
                deep[i] = '[';
                deep[2 * PM_ADAPTER_MAX_JSON_DEPTH + 1 - i] = ']';
        }
        deep[2 * PM_ADAPTER_MAX_JSON_DEPTH + 2] = '\0';
        cr_assert_eq(check(deep, &off), -1);
        cr_assert_eq(check(deep + 1, &off), 0);

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, deep, true), PM_ELIMIT);
        cr_assert(strstr(fx.err.msg, fx.origin));
        gn_fx_release(&fx);
}
