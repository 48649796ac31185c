/* SPDX-License-Identifier: MIT */
/* The one 64-bit hash of projmodel (projmodel/hash.h): XXH64, written out here so nothing needs
 * the xxhash library. */
#include "projmodel/hash.h"

#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static uint64_t
rotl(uint64_t x, int r)
{
        return (x << r) | (x >> (64 - r));
}

static uint64_t
read64(const unsigned char *p)
{
        uint64_t v;

        memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap64(v);
#endif
        return v;
}

static uint32_t
read32(const unsigned char *p)
{
        uint32_t v;

        memcpy(&v, p, sizeof(v));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        v = __builtin_bswap32(v);
#endif
        return v;
}

static uint64_t
round64(uint64_t acc, uint64_t input)
{
        acc += input * P2;
        acc = rotl(acc, 31);
        return acc * P1;
}

static uint64_t
merge64(uint64_t acc, uint64_t val)
{
        acc ^= round64(0, val);
        return acc * P1 + P4;
}

uint64_t
pm_hash64(const void *data, size_t len, uint64_t seed)
{
        const unsigned char *p = data ? data : (const unsigned char *)"";
        const unsigned char *end = p + len;
        uint64_t h;

        if (len >= 32) {
                const unsigned char *limit = end - 32;
                uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;

                do {
                        v1 = round64(v1, read64(p));
                        v2 = round64(v2, read64(p + 8));
                        v3 = round64(v3, read64(p + 16));
                        v4 = round64(v4, read64(p + 24));
                        p += 32;
                } while (p <= limit);
                h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
                h = merge64(h, v1);
                h = merge64(h, v2);
                h = merge64(h, v3);
                h = merge64(h, v4);
        } else {
                h = seed + P5;
        }
        h += (uint64_t)len;
        while (p + 8 <= end) {
                h ^= round64(0, read64(p));
                h = rotl(h, 27) * P1 + P4;
                p += 8;
        }
        if (p + 4 <= end) {
                h ^= (uint64_t)read32(p) * P1;
                h = rotl(h, 23) * P2 + P3;
                p += 4;
        }
        while (p < end) {
                h ^= (*p++) * P5;
                h = rotl(h, 11) * P1;
        }
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
}

uint64_t
pm_hash64_str(const char *s, uint64_t seed)
{
        /* The NUL is hashed too, so chained strings cannot run together, and NULL (no bytes)
         * differs from "" (one byte). */
        return s ? pm_hash64(s, strlen(s) + 1, seed) : pm_hash64(NULL, 0, seed);
}
