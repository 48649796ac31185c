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

/* One comparator of a Cargo version requirement ("<1.0", ">= 0.5", "^1.2", "~1", "=1.2.3",
 * "1.2", "*") against @ver. */
static bool
comparator_matches(const char *s, const char *end, const struct semver *ver)
{
        char op[3] = "";
        struct semver req;
        size_t k = 0;
        int c, lead;

        while (s < end && *s == ' ')
                s++;
        while (s < end && k < 2 && strchr("<>=^~", *s))
                op[k++] = *s++;
        op[k] = '\0';
        while (end > s && end[-1] == ' ')
                end--;
        if (end - s == 1 && *s == '*')
                return true;
        if (!parse_semver(s, end, &req))
                return false;
        c = cmp_semver(ver, &req, req.n);
        if (strcmp(op, "=") == 0)
                return c == 0;
        if (strcmp(op, ">") == 0)
                return c > 0;
        if (strcmp(op, ">=") == 0)
                return c >= 0;
        if (strcmp(op, "<") == 0)
                return c < 0;
        if (strcmp(op, "<=") == 0)
                return c <= 0;
        if (c < 0)
                return false;
        if (strcmp(op, "~") == 0)
                return cmp_semver(ver, &req, req.n > 1 ? 2 : 1) == 0;
        /* Caret (and no operator): the same up to the first non-zero number written. */
        for (lead = 0; lead < req.n - 1 && req.v[lead] == 0; lead++)
                ;
        return cmp_semver(ver, &req, lead + 1) == 0;
}

bool
pm__semver_req_matches(const char *req, const char *ver)
{
        struct semver v;

        if (!parse_semver(ver, ver + strlen(ver), &v))
                return false;
        for (const char *s = req;;) {
                const char *comma = strchr(s, ',');
                const char *end = comma ? comma : s + strlen(s);

                if (!comparator_matches(s, end, &v))
                        return false;
                if (!comma)
                        return true;
                s = comma + 1;
        }
}

/* One comparator between @s and @end: an operator, then "*" alone or a version with 1 to 3
 * numbers (the last may be "*"), and -pre or +build only after all three. */
static bool
comparator_valid(const char *s, const char *end)
{
        static const char *const ops[] = { ">=", "<=", "=", ">", "<", "~", "^", "" };
        int numbers = 0;

        while (s < end && *s == ' ')
                s++;
        while (end > s && end[-1] == ' ')
                end--;
        for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
                if (strncmp(s, ops[i], strlen(ops[i])) == 0) {
                        s += strlen(ops[i]);
                        break;
                }
        while (s < end && *s == ' ')
                s++;
        if (end - s == 1 && *s == '*')
                return true;
        while (s < end && numbers < 3) {
                if (*s == '*') {
                        s++;
                        return numbers > 0 && s == end;
                }
                if (*s < '0' || *s > '9')
                        return false;
                while (s < end && *s >= '0' && *s <= '9')
                        s++;
                numbers++;
                if (s < end && *s == '.' && numbers < 3)
                        s++;
                else
                        break;
        }
        if (numbers == 0 || s[-1] == '.')
                return false;
        if (s < end && (*s == '-' || *s == '+') && numbers == 3) {
                for (s++; s < end; s++)
                        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
                              (*s >= 'A' && *s <= 'Z') || *s == '.' || *s == '-' || *s == '+'))
                                return false;
                return s[-1] != '-' && s[-1] != '+';
        }
        return s == end;
}

bool
pm__semver_req_valid(const char *req)
{
        for (const char *s = req;;) {
                const char *comma = strchr(s, ',');
                const char *end = comma ? comma : s + strlen(s);

                if (!comparator_valid(s, end))
                        return false;
                if (!comma)
                        return true;
                s = comma + 1;
        }
}
