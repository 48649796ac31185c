/* SPDX-License-Identifier: MIT */
/* Cargo's version requirements ("^1.2", ">=1.0, <2", "=2.0.0", "~1.4", "*") matched against a
 * crate's version, for the cargo-vet violations of the audit policy (audit/policy.c). */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audit-internal.h"

/* A version "1.2.3-pre" as numbers; @n is how many were written (1 to 3). */
struct semver {
        unsigned long v[3];
        int n;
        bool pre;
};

static bool
parse_semver(const char *s, const char *end, struct semver *sv)
{
        memset(sv, 0, sizeof(*sv));
        while (s < end && *s == ' ')
                s++;
        while (sv->n < 3 && s < end && *s >= '0' && *s <= '9') {
                unsigned long x = 0;

                while (s < end && *s >= '0' && *s <= '9' && x < 100000000)
                        x = x * 10 + (unsigned long)(*s++ - '0');
                sv->v[sv->n++] = x;
                if (s < end && *s == '.')
                        s++;
                else
                        break;
        }
        if (s < end && *s == '*')
                s++;
        sv->pre = s < end && *s == '-';
        return sv->n > 0;
}

/* Compare @a with @b on @b's first @n numbers; a pre-release sorts before its release. */
static int
cmp_semver(const struct semver *a, const struct semver *b, int n)
{
        for (int i = 0; i < n; i++)
                if (a->v[i] != b->v[i])
                        return a->v[i] < b->v[i] ? -1 : 1;
        if (n == 3 && a->pre != b->pre)
                return a->pre ? -1 : 1;
        return 0;
}

/* One comparator of a Cargo version requirement: its operator, and "*" alone (@any) or the
 * version it compares with. */
enum op {
        OP_CARET,
        OP_EQ,
        OP_GT,
        OP_GE,
        OP_LT,
        OP_LE,
        OP_TILDE
};

struct comparator {
        enum op op;
        bool any;
        struct semver v;
};

/* The one comparator between @s and @end ("<1.0", ">= 0.5", "^1.2", "~1", "=1.2.3", "1.2",
 * "1.*", "*"): an operator, then "*" alone or a version with 1 to 3 numbers (the last may be
 * "*"), and -pre or +build only after all three; false for anything else. */
static bool
parse_comparator(const char *s, const char *end, struct comparator *c)
{
        static const struct {
                const char *text;
                enum op op;
        } ops[] = { { ">=", OP_GE }, { "<=", OP_LE },   { "=", OP_EQ },    { ">", OP_GT },
                    { "<", OP_LT },  { "~", OP_TILDE }, { "^", OP_CARET }, { "", OP_CARET } };

        memset(c, 0, sizeof(*c));
        while (s < end && *s == ' ')
                s++;
        while (end > s && end[-1] == ' ')
                end--;
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
                size_t n = strlen(ops[i].text);

                if ((size_t)(end - s) >= n && strncmp(s, ops[i].text, n) == 0) {
                        s += n;
                        c->op = ops[i].op;
                        break;
                }
        }
        while (s < end && *s == ' ')
                s++;
        if (end - s == 1 && *s == '*') {
                c->any = true;
                return true;
        }
        while (s < end && c->v.n < 3) {
                unsigned long x = 0;

                if (*s == '*')
                        return c->v.n > 0 && ++s == end;
                if (*s < '0' || *s > '9')
                        return false;
                /* Numbers past 10^8 stop growing: no version has them, and none overflows. */
                for (; s < end && *s >= '0' && *s <= '9'; s++)
                        if (x < 100000000)
                                x = x * 10 + (unsigned long)(*s - '0');
                c->v.v[c->v.n++] = x;
                if (s < end && *s == '.' && c->v.n < 3)
                        s++;
                else
                        break;
        }
        if (c->v.n == 0 || s[-1] == '.')
                return false;
        if (s < end && (*s == '-' || *s == '+') && c->v.n == 3) {
                c->v.pre = *s == '-';
                for (s++; s < end; s++)
                        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
                              (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '-' || *s == '+'))
                                return false;
                return s[-1] != '-' && s[-1] != '+';
        }
        return s == end;
}

/* Whether @ver matches comparator @c. */
static bool
comparator_matches(const struct comparator *c, const struct semver *ver)
{
        const struct semver *req = &c->v;
        int cmp, lead;

        if (c->any)
                return true;
        cmp = cmp_semver(ver, req, req->n);
        switch (c->op) {
        case OP_EQ:
                return cmp == 0;
        case OP_GT:
                return cmp > 0;
        case OP_GE:
                return cmp >= 0;
        case OP_LT:
                return cmp < 0;
        case OP_LE:
                return cmp <= 0;
        case OP_TILDE:
                return cmp >= 0 && cmp_semver(ver, req, req->n > 1 ? 2 : 1) == 0;
        case OP_CARET:
                break;
        }
        if (cmp < 0)
                return false;
        /* Caret (and no operator): the same up to the first non-zero number written. */
        for (lead = 0; lead < req->n - 1 && req->v[lead] == 0; lead++)
                ;
        return cmp_semver(ver, req, lead + 1) == 0;
}

/* Whether every comparator of @req (joined by ',') parses and, with @ver, matches it. */
static bool
all_comparators(const char *req, const struct semver *ver)
{
        for (const char *s = req;;) {
                const char *comma = strchr(s, ',');
                const char *end = comma ? comma : s + strlen(s);
                struct comparator c;

                if (!parse_comparator(s, end, &c) || (ver && !comparator_matches(&c, ver)))
                        return false;
                if (!comma)
                        return true;
                s = comma + 1;
        }
}

bool
pm__semver_req_matches(const char *req, const char *ver)
{
        struct semver v;

        return parse_semver(ver, ver + strlen(ver), &v) && all_comparators(req, &v);
}

bool
pm__semver_req_valid(const char *req)
{
        return all_comparators(req, NULL);
}
