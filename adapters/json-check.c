/* SPDX-License-Identifier: MIT */
/* An allocation-free JSON syntax check run before cJSON: it gives the byte offset of a syntax
 * error and lets a later cJSON failure be told apart as out-of-memory (cJSON reports both as
 * NULL). It is at least as strict as cJSON, so "valid here" means "cJSON accepts it".
 * pm__json_parse() puts the two together for the adapters. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"

#include "adapters/adapters-internal.h"

struct scan {
        const unsigned char *p;
        const unsigned char *end;
};

static void
skip_ws(struct scan *s)
{
        while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
                s->p++;
}

static bool
hex4(struct scan *s, unsigned *ret)
{
        unsigned v = 0;
        int i;

        if (s->end - s->p < 4)
                return false;
        for (i = 0; i < 4; i++) {
                unsigned char c = s->p[i];

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
        s->p += 4;
        *ret = v;
        return true;
}

/* At the opening quote. cJSON rejects lone or reversed UTF-16 surrogates, so this does too. */
static bool
string(struct scan *s)
{
        s->p++;
        while (s->p < s->end) {
                unsigned char c = *s->p++;
                unsigned u, lo;

                if (c == '"')
                        return true;
                if (c < 0x20)
                        return false;
                if (c != '\\')
                        continue;
                if (s->p == s->end)
                        return false;
                c = *s->p++;
                if (strchr("\"\\/bfnrt", c) && c)
                        continue;
                if (c != 'u' || !hex4(s, &u))
                        return false;
                if (u >= 0xDC00 && u <= 0xDFFF)
                        return false;
                if (u >= 0xD800 && u <= 0xDBFF) {
                        if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
                                return false;
                        s->p += 2;
                        if (!hex4(s, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                                return false;
                }
        }
        return false;
}

static bool
digits(struct scan *s)
{
        const unsigned char *start = s->p;

        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
                s->p++;
        return s->p > start;
}

static bool
number(struct scan *s)
{
        if (*s->p == '-')
                s->p++;
        if (s->p < s->end && *s->p == '0')
                s->p++;
        else if (!digits(s))
                return false;
        if (s->p < s->end && *s->p == '.') {
                s->p++;
                if (!digits(s))
                        return false;
        }
        if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
                s->p++;
                if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
                        s->p++;
                if (!digits(s))
                        return false;
        }
        return true;
}

static bool
literal(struct scan *s, const char *word)
{
        size_t n = strlen(word);

        if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return false;
        s->p += n;
        return true;
}

/*
 * Iterative, with the open containers in a bit stack (1 = object), so depth costs no C stack.
 */
int
pm__json_check(const char *data, size_t len, size_t *ret_offset)
{
        unsigned char stack[PM_ADAPTER_MAX_JSON_DEPTH / 8 + 1] = { 0 };
        struct scan s = { (const unsigned char *)data, (const unsigned char *)data + len };
        size_t depth = 0;
        bool want_value = true;

        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                s.p += 3;
        for (;;) {
                skip_ws(&s);
                if (!want_value && depth == 0)
                        break;
                if (s.p == s.end)
                        goto bad;
                if (want_value) {
                        unsigned char c = *s.p;
                        bool ok;

                        if (c == '{' || c == '[') {
                                if (depth == PM_ADAPTER_MAX_JSON_DEPTH) {
                                        *ret_offset = (size_t)(s.p - (const unsigned char *)data);
                                        return -1;
                                }
                                if (c == '{')
                                        stack[depth / 8] |= (unsigned char)(1u << (depth % 8));
                                else
                                        stack[depth / 8] &= (unsigned char)~(1u << (depth % 8));
                                depth++;
                                s.p++;
                                skip_ws(&s);
                                if (s.p < s.end && *s.p == (c == '{' ? '}' : ']')) {
                                        s.p++;
                                        depth--;
                                        want_value = false;
                                } else if (c == '{') {
                                        if (s.p == s.end || *s.p != '"' || !string(&s))
                                                goto bad;
                                        skip_ws(&s);
                                        if (s.p == s.end || *s.p != ':')
                                                goto bad;
                                        s.p++;
                                }
                                continue;
                        }
                        if (c == '"')
                                ok = string(&s);
                        else if (c == '-' || (c >= '0' && c <= '9'))
                                ok = number(&s);
                        else
                                ok = literal(&s, "true") || literal(&s, "false") ||
                                     literal(&s, "null");
                        if (!ok)
                                goto bad;
                        want_value = false;
                        continue;
                }
                /* After a value: close a container, or a comma and the next member. */
                {
                        bool obj = stack[(depth - 1) / 8] & (1u << ((depth - 1) % 8));

                        if (*s.p == (obj ? '}' : ']')) {
                                s.p++;
                                depth--;
                                continue;
                        }
                        if (*s.p != ',')
                                goto bad;
                        s.p++;
                        if (obj) {
                                skip_ws(&s);
                                if (s.p == s.end || *s.p != '"' || !string(&s))
                                        goto bad;
                                skip_ws(&s);
                                if (s.p == s.end || *s.p != ':')
                                        goto bad;
                                s.p++;
                        }
                        want_value = true;
                }
        }
        *ret_offset = (size_t)(s.p - (const unsigned char *)data);
        return 0;
bad:
        *ret_offset = (size_t)(s.p - (const unsigned char *)data);
        return -2;
}

/* The 1-based line of byte @off of @s, for error messages. */
static int
line_of(const char *s, size_t off)
{
        int line = 1;

        for (size_t i = 0; i < off; i++)
                if (s[i] == '\n')
                        line++;
        return line;
}

int
pm__json_parse(const struct pm_blob *blob, const char *origin, const char *expected,
               struct cJSON **ret_json, struct pm_error *err)
{
        size_t off = 0;
        cJSON *json;
        int check;

        /* cJSON reports a syntax error and out-of-memory alike: check the syntax first
         * (without allocating), so a later cJSON failure can only be out-of-memory. */
        check = pm__json_check(blob->data, blob->len, &off);
        if (check == -1)
                return pm_error_set_at(err, PM_ELIMIT, origin, line_of(blob->data, off), 0,
                                       "JSON nesting deeper than %d", PM_ADAPTER_MAX_JSON_DEPTH);
        if (check < 0)
                return pm_error_set_at(err, PM_EBADTOOLOUTPUT, origin, line_of(blob->data, off), 0,
                                       "not valid JSON (%s expected)", expected);
        json = cJSON_ParseWithLength(blob->data, blob->len);
        if (!json)
                return pm_error_set(err, -ENOMEM, "out of memory");
        *ret_json = json;
        return 0;
}
