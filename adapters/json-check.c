/* SPDX-License-Identifier: MIT */
/* An allocation-free JSON syntax check run before cJSON: it gives the byte offset of a syntax
 * error and lets a later cJSON failure be told apart as out-of-memory (cJSON reports both as
 * NULL). It is at least as strict as cJSON, so "valid here" means "cJSON accepts it".
 * pm__json_parse() puts the two together for the adapters. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* Before projmodel/banned.h, which breaks the inline atoi() of the <stdlib.h> this pulls in. */
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"

#include "adapters/adapters-internal.h"
#include "adapters/json-lex.h"

struct scan {
        const unsigned char *p;
        const unsigned char *end;
};

static void
skip_ws(struct scan *s)
{
        s->p = pm__json_ws(s->p, s->end);
}

/* At the opening quote. On a control character the error offset is just past it. */
static bool
string(struct scan *s)
{
        const unsigned char *p = s->p + 1;
        bool ok = false;

        for (;;) {
                p = pm__json_plain_end(p, s->end);
                if (p == s->end)
                        break;
                if (*p == '"') {
                        p++;
                        ok = true;
                        break;
                }
                if (*p++ < 0x20)
                        break;
                if (!pm__json_escape(&p, s->end))
                        break;
        }
        s->p = p;
        return ok;
}

static bool
literal(struct scan *s, const char *word)
{
        return pm__json_literal(&s->p, s->end, word, strlen(word));
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
                                ok = pm__json_number(&s.p, s.end);
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
