/* SPDX-License-Identifier: MIT */
/* Evaluating a dependency's platform (`[target.'cfg(..)'.dependencies]`, or a triple) against
 * the output of `rustc --print cfg --print host-tuple`, as cargo does when it decides which
 * edges to pass to rustc. Reads bytes; runs nothing. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "adapters/cargo/cargo-internal.h"

/* The target's lines: `rustc --print cfg` then the host tuple. */
struct target {
        const char *target;
        size_t target_len;
};

/* True if one line of x->target is exactly the @n bytes at @s. */
static bool
target_has(const struct target *x, const char *s, size_t n)
{
        const char *p = x->target, *end = x->target + x->target_len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = (size_t)((nl ? nl : end) - p);

                if (len == n && memcmp(p, s, n) == 0)
                        return true;
                p = nl ? nl + 1 : end;
        }
        return false;
}

static const char *
skip_space(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/*
 * Evaluate one cfg predicate at *s (name, name = "value", all(..), any(..), not(..)) against
 * x->target, the way cargo evaluates a `[target.'cfg(..)'.dependencies]` key. Returns 1 or 0,
 * or -1 on a syntax error; advances *s past the predicate.
 */
static int
cfg_eval(const struct target *x, const char **s, int depth)
{
        const char *p = skip_space(*s), *name = p, *val;
        size_t n;
        int r = -1;

        if (depth > 64)
                return -1;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
               *p == '_')
                p++;
        n = (size_t)(p - name);
        if (n == 0)
                return -1;
        p = skip_space(p);
        if (*p == '(') {
                bool all = n == 3 && memcmp(name, "all", 3) == 0;
                bool any = n == 3 && memcmp(name, "any", 3) == 0;
                bool not = n == 3 && memcmp(name, "not", 3) == 0;
                int acc = all ? 1 : 0, count = 0;

                if (!all && !any && !not )
                        return -1;
                p = skip_space(p + 1);
                while (*p != ')') {
                        int v = cfg_eval(x, &p, depth + 1);

                        if (v < 0)
                                return -1;
                        count++;
                        acc = all ? (acc && v) : (acc || v);
                        p = skip_space(p);
                        if (*p == ',')
                                p = skip_space(p + 1);
                        else if (*p != ')')
                                return -1;
                }
                if (not &&count != 1)
                        return -1;
                r = not ? !acc : acc;
                p++;
        } else if (*p == '=') {
                char line[256];

                p = skip_space(p + 1);
                if (*p != '"')
                        return -1;
                val = ++p;
                while (*p && *p != '"')
                        p++;
                if (*p != '"' || n + (size_t)(p - val) + 4 > sizeof(line))
                        return -1;
                (void)snprintf(line, sizeof(line), "%.*s=\"%.*s\"", (int)n, name, (int)(p - val),
                               val);
                r = target_has(x, line, strlen(line));
                p++;
        } else {
                r = target_has(x, name, n);
        }
        *s = p;
        return r;
}

/*
 * Whether cargo would pass a dependency whose dep_kinds entry names @platform ("cfg(..)" or a
 * target triple) when building for @target. Unknown target or unreadable predicate: kept.
 */
bool
pm__cargo_platform_matches(const char *target, size_t target_len, const char *platform)
{
        const struct target t = { target, target_len }, *x = &t;
        const char *p = platform;
        int v;

        if (!x->target)
                return true;
        if (strncmp(p, "cfg(", 4) != 0)
                return target_has(x, p, strlen(p)); /* a triple: the host-tuple line */
        p += 4;
        v = cfg_eval(x, &p, 0);
        if (v < 0 || *skip_space(p) != ')' || *skip_space(skip_space(p) + 1) != '\0')
                return true;
        return v == 1;
}
