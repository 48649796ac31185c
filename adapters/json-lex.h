/* SPDX-License-Identifier: MIT */
/* JSON lexing primitives shared by pm__json_check() and the gn span scanner, so both accept
 * exactly cJSON's strings, numbers and literals. Inline: the gn scanner runs them over megabytes
 * on every daemon update. Each takes the cursor by reference and the end of the input. */
#ifndef PM_ADAPTERS_JSON_LEX_H
#define PM_ADAPTERS_JSON_LEX_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Several bytes at a time (SSE2 where there, else SWAR): the input is megabytes of indented
 * output, mostly inside strings and indentation. (Whitespace runs are short: there SWAR measured
 * faster than SSE2.)
 */
#define PM__JSON_ONES  0x0101010101010101ULL
#define PM__JSON_HIGHS 0x8080808080808080ULL

static inline uint64_t
pm__json_load8(const unsigned char *p)
{
        uint64_t w;

        memcpy(&w, p, 8);
        return w;
}

/* True if a byte of @w is '"', '\\' or a control character (below 0x20). */
static inline bool
pm__json_special8(uint64_t w)
{
        uint64_t q = w ^ (PM__JSON_ONES * '"'), b = w ^ (PM__JSON_ONES * '\\');

        return (((q - PM__JSON_ONES) & ~q) | ((b - PM__JSON_ONES) & ~b) |
                ((w - PM__JSON_ONES * 0x20) & ~w)) &
               PM__JSON_HIGHS;
}

static inline bool
pm__json_is_ws(unsigned char c)
{
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

/* The first byte at or after @p that is not JSON whitespace, or @end. */
static inline const unsigned char *
pm__json_ws(const unsigned char *p, const unsigned char *end)
{
        while (end - p >= 8 && pm__json_load8(p) == PM__JSON_ONES * ' ')
                p += 8;
        while (p < end && pm__json_is_ws(*p))
                p++;
        return p;
}

/* The first byte at or after @p that is '"', '\\' or a control character, or @end. */
static inline const unsigned char *
pm__json_plain_end(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
        while (end - p >= 16) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
                __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                                      _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                                         _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));
                unsigned hit = (unsigned)_mm_movemask_epi8(m);

                if (hit)
                        return p + __builtin_ctz(hit);
                p += 16;
        }
#endif
        while (end - p >= 8 && !pm__json_special8(pm__json_load8(p)))
                p += 8;
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
                p++;
        return p;
}

static inline bool
pm__json_hex4(const unsigned char **pp, const unsigned char *end, unsigned *ret)
{
        const unsigned char *p = *pp;
        unsigned v = 0;

        if (end - p < 4)
                return false;
        for (int i = 0; i < 4; i++) {
                unsigned char c = p[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return false;
        }
        *pp = p + 4;
        *ret = v;
        return true;
}

/*
 * Just after a backslash in a string: consume one escape. cJSON rejects lone or reversed UTF-16
 * surrogates, so this does too. On failure *pp is left where the escape went wrong.
 */
static inline bool
pm__json_escape(const unsigned char **pp, const unsigned char *end)
{
        const unsigned char *p = *pp;
        unsigned u, lo;
        unsigned char c;
        bool ok = false;

        if (p == end)
                goto out;
        c = *p++;
        if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' ||
            c == 't') {
                ok = true;
                goto out;
        }
        if (c != 'u' || !pm__json_hex4(&p, end, &u) || (u >= 0xDC00 && u <= 0xDFFF))
                goto out;
        if (u >= 0xD800 && u <= 0xDBFF) {
                if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
                        goto out;
                p += 2;
                if (!pm__json_hex4(&p, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        goto out;
        }
        ok = true;
out:
        *pp = p;
        return ok;
}

static inline bool
pm__json_digits(const unsigned char **pp, const unsigned char *end)
{
        const unsigned char *p = *pp;

        while (p < end && *p >= '0' && *p <= '9')
                p++;
        if (p == *pp)
                return false;
        *pp = p;
        return true;
}

/* At '-' or a digit: consume a number (no leading zeros, as cJSON). */
static inline bool
pm__json_number(const unsigned char **pp, const unsigned char *end)
{
        const unsigned char *p = *pp;
        bool ok = false;

        if (*p == '-')
                p++;
        if (p < end && *p == '0')
                p++;
        else if (!pm__json_digits(&p, end))
                goto out;
        if (p < end && *p == '.') {
                p++;
                if (!pm__json_digits(&p, end))
                        goto out;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
                p++;
                if (p < end && (*p == '+' || *p == '-'))
                        p++;
                if (!pm__json_digits(&p, end))
                        goto out;
        }
        ok = true;
out:
        *pp = p;
        return ok;
}

/* Consume @word (@n bytes) if the input starts with it. */
static inline bool
pm__json_literal(const unsigned char **pp, const unsigned char *end, const char *word, size_t n)
{
        if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
                return false;
        *pp += n;
        return true;
}

#endif
