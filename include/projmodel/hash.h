/* SPDX-License-Identifier: MIT */
/* The one 64-bit hash function of projmodel: crate hashes, input stamps, fingerprints, cache and
 * socket names all use it. */
#ifndef PROJMODEL_HASH_H
#define PROJMODEL_HASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * A 64-bit hash of @len bytes (XXH64 with @seed; @data may be NULL when @len is 0). Stable across
 * runs, machines and byte orders, so it may name files and be stored. Not cryptographic: it only
 * guards against accidental equality. Chain calls by passing the previous hash as the seed.
 */
uint64_t pm_hash64(const void *data, size_t len, uint64_t seed);

/* pm_hash64() of @s with its terminating NUL (NULL hashes as no bytes, unlike ""). Chain as
 * pm_hash64(). */
uint64_t pm_hash64_str(const char *s, uint64_t seed);

#endif
