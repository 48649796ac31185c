/* SPDX-License-Identifier: MIT */
/* The one 64-bit hash (common/hash.c): XXH64 against the reference vectors, the string form,
 * chaining, and independence from alignment. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/hash.h"

#include "testlib.h"

Test(common_hash, matches_the_xxh64_reference)
{
        static const char long_text[] = "Nobody inspects the spammish repetition";

        cr_assert_eq(pm_hash64("", 0, 0), 0xEF46DB3751D8E999ULL);
        cr_assert_eq(pm_hash64(NULL, 0, 0), 0xEF46DB3751D8E999ULL);
        cr_assert_eq(pm_hash64("a", 1, 0), 0xD24EC4F1A98C6E5BULL);
        cr_assert_eq(pm_hash64("abc", 3, 0), 0x44BC2CF5AD770999ULL);
        cr_assert_eq(pm_hash64(long_text, strlen(long_text), 0), 0xFBCEA83C8A378BF1ULL);
        cr_assert_neq(pm_hash64("abc", 3, 1), pm_hash64("abc", 3, 0), "the seed counts");
}

Test(common_hash, strings_hash_with_their_terminator)
{
        cr_assert_eq(pm_hash64_str("abc", 7), pm_hash64("abc", 4, 7));
        cr_assert_neq(pm_hash64_str(NULL, 0), pm_hash64_str("", 0), "NULL is not \"\"");
        /* Chained strings cannot run together. */
        cr_assert_neq(pm_hash64_str("bc", pm_hash64_str("a", 0)),
                      pm_hash64_str("c", pm_hash64_str("ab", 0)));
        cr_assert_eq(pm_hash64_str("a", pm_hash64_str("b", 0)),
                     pm_hash64_str("a", pm_hash64_str("b", 0)));
}

Test(common_hash, every_length_and_alignment_agrees)
{
        char buf[200], moved[201];

        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (char)(i * 7 + 3);
        /* Every tail length (0..199, through the 32-byte, 8, 4 and 1-byte steps), aligned and
         * not: the same bytes give the same hash, and one more byte another. */
        memcpy(moved + 1, buf, sizeof(buf));
        for (size_t n = 0; n < sizeof(buf); n++) {
                cr_assert_eq(pm_hash64(buf, n, 42), pm_hash64(moved + 1, n, 42), "length %zu", n);
                cr_assert_neq(pm_hash64(buf, n, 42), pm_hash64(buf, n + 1, 42), "length %zu", n);
        }
}
