/* SPDX-License-Identifier: MIT */
/* The gn adapter's span scanner: checks a project.json as strictly as pm__json_check() and
 * records where each target's JSON (and the properties the parse reads) lies, without building a
 * tree. gn-parse.c decodes just those properties, gn-incremental.c hashes the spans; nothing here
 * allocates but the span array. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Before projmodel/banned.h, which breaks the inline atoi() of the <stdlib.h> this pulls in. */
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/gn/gn-internal.h"
#include "adapters/json-lex.h"

#define SCAN_MAX_DEPTH PM_ADAPTER_MAX_JSON_DEPTH

struct scanner {
        const unsigned char *p;
        const unsigned char *end;
        unsigned depth;
        bool too_deep;
        bool nomem;
        struct pm__gn_scan *out;
};

static void
ws(struct scanner *s)
{
        s->p = pm__json_ws(s->p, s->end);
}

/*
 * At an opening quote: skip the string (the same rules as pm__json_check(), which are cJSON's);
 * sets *escaped when it holds a backslash escape.
 */
static bool
string(struct scanner *s, bool *escaped)
{
        const unsigned char *p = s->p + 1, *end = s->end;

        for (;;) {
                p = pm__json_plain_end(p, end);
                if (p == end || *p < 0x20)
                        break;
                if (*p == '"') {
                        s->p = p + 1;
                        return true;
                }
                *escaped = true;
                p++;
                if (!pm__json_escape(&p, end))
                        break;
        }
        s->p = p;
        return false;
}

static bool
number(struct scanner *s)
{
        return pm__json_number(&s->p, s->end);
}

static bool
literal(struct scanner *s, const char *word, size_t n)
{
        return pm__json_literal(&s->p, s->end, word, n);
}

/* Called with the scanner at a member's value, which it must consume. */
typedef bool (*member_fn)(struct scanner *s, void *ctx, const unsigned char *key, size_t key_len,
                          bool escaped);

static bool value(struct scanner *s);

static bool
enter(struct scanner *s)
{
        if (s->depth == SCAN_MAX_DEPTH) {
                s->too_deep = true;
                return false;
        }
        s->depth++;
        s->p++;
        ws(s);
        return true;
}

enum next {
        NEXT_MORE, /* a ',' was read: another element follows */
        NEXT_DONE, /* @close was read: the container ended */
        NEXT_BAD,  /* anything else */
};

/* After an object member or array element: the container's end, or a comma and the next one. */
static inline enum next
after_element(struct scanner *s, unsigned char close)
{
        ws(s);
        if (s->p == s->end)
                return NEXT_BAD;
        if (*s->p == close) {
                s->p++;
                s->depth--;
                return NEXT_DONE;
        }
        if (*s->p != ',')
                return NEXT_BAD;
        s->p++;
        ws(s);
        return NEXT_MORE;
}

/* At '{': each member's key goes to @fn (NULL: skip the values). */
static bool
object(struct scanner *s, member_fn fn, void *ctx)
{
        if (!enter(s))
                return false;
        if (s->p < s->end && *s->p == '}') {
                s->p++;
                s->depth--;
                return true;
        }
        for (;;) {
                const unsigned char *key;
                bool escaped = false;
                size_t key_len;

                if (s->p == s->end || *s->p != '"')
                        return false;
                key = s->p + 1;
                if (!string(s, &escaped))
                        return false;
                key_len = (size_t)(s->p - 1 - key);
                ws(s);
                if (s->p == s->end || *s->p != ':')
                        return false;
                s->p++;
                ws(s);
                if (!(fn ? fn(s, ctx, key, key_len, escaped) : value(s)))
                        return false;
                switch (after_element(s, '}')) {
                case NEXT_DONE:
                        return true;
                case NEXT_BAD:
                        return false;
                default:
                        break;
                }
        }
}

static bool
array(struct scanner *s)
{
        if (!enter(s))
                return false;
        if (s->p < s->end && *s->p == ']') {
                s->p++;
                s->depth--;
                return true;
        }
        for (;;) {
                if (!value(s))
                        return false;
                switch (after_element(s, ']')) {
                case NEXT_DONE:
                        return true;
                case NEXT_BAD:
                        return false;
                default:
                        break;
                }
        }
}

static bool
value(struct scanner *s)
{
        bool escaped = false;

        if (s->p == s->end)
                return false;
        switch (*s->p) {
        case '{':
                return object(s, NULL, NULL);
        case '[':
                return array(s);
        case '"':
                return string(s, &escaped);
        case 't':
                return literal(s, "true", 4);
        case 'f':
                return literal(s, "false", 5);
        case 'n':
                return literal(s, "null", 4);
        default:
                if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
                        return number(s);
                return false;
        }
}

#define key_is(key, len, name) ((len) == sizeof(name) - 1 && memcmp((key), (name), (len)) == 0)

/* A member of one target: the properties the parse reads are recorded. */
static bool
target_prop(struct scanner *s, void *ctx, const unsigned char *key, size_t len, bool escaped)
{
        struct pm__gn_span *sp = ctx;
        const unsigned char *start = s->p;
        int i;

        /* cJSON would match an escaped spelling of a property name; we would not. */
        if (escaped)
                s->out->unsure = true;
        if (!value(s))
                return false;
        if (key_is(key, len, "type"))
                i = PM__GN_PROP_TYPE;
        else if (key_is(key, len, "crate_root"))
                i = PM__GN_PROP_CRATE_ROOT;
        else if (key_is(key, len, "crate_name"))
                i = PM__GN_PROP_CRATE_NAME;
        else if (key_is(key, len, "outputs"))
                i = PM__GN_PROP_OUTPUTS;
        else if (key_is(key, len, "deps"))
                i = PM__GN_PROP_DEPS;
        else if (key_is(key, len, "rustflags"))
                i = PM__GN_PROP_RUSTFLAGS;
        else if (key_is(key, len, "sources"))
                i = PM__GN_PROP_SOURCES;
        else if (key_is(key, len, "inputs"))
                i = PM__GN_PROP_INPUTS;
        else if (key_is(key, len, "rustenv"))
                i = PM__GN_PROP_RUSTENV;
        else
                return true;
        if (!sp->prop[i]) {
                sp->prop[i] = (const char *)start;
                sp->prop_len[i] = (size_t)(s->p - start);
        }
        return true;
}

/* A member of the target map: one target. */
static bool
target_entry(struct scanner *s, void *ctx, const unsigned char *key, size_t len, bool escaped)
{
        struct pm__gn_scan *out = s->out;
        const unsigned char *start = s->p;
        struct pm__gn_span *sp;

        (void)ctx;
        if (escaped)
                out->unsure = true;
        if (out->n == PM_GN_MAX_TARGETS) {
                /* The full parse reports the limit. */
                out->unsure = true;
                return value(s);
        }
        if (pm_grow(&out->v, &out->cap, out->n + 1, 1024) < 0) {
                s->nomem = true;
                return false;
        }
        sp = &out->v[out->n++];
        memset(sp, 0, sizeof(*sp));
        sp->key = (const char *)key;
        sp->key_len = len;
        /* Spans are only appended here, so @sp stays valid while its value is scanned. */
        if (s->p < s->end && *s->p == '{') {
                if (!object(s, target_prop, sp))
                        return false;
        } else {
                out->unsure = true;
                if (!value(s))
                        return false;
        }
        sp->value = (const char *)start;
        sp->value_len = (size_t)(s->p - start);
        return true;
}

static bool
settings_entry(struct scanner *s, void *ctx, const unsigned char *key, size_t len, bool escaped)
{
        const unsigned char *start = s->p;

        (void)ctx;
        if (escaped)
                s->out->unsure = true;
        if (!value(s))
                return false;
        if (!s->out->build_dir && key_is(key, len, "build_dir")) {
                s->out->build_dir = (const char *)start;
                s->out->build_dir_len = (size_t)(s->p - start);
        }
        return true;
}

struct doc_state {
        bool seen_targets;
        bool seen_settings;
};

/* A member of the document: cJSON reads the first "targets" and "build_settings". */
static bool
doc_entry(struct scanner *s, void *ctx, const unsigned char *key, size_t len, bool escaped)
{
        struct doc_state *st = ctx;
        struct pm__gn_scan *out = s->out;
        const unsigned char *start = s->p;

        if (escaped)
                out->unsure = true;
        if (!st->seen_targets && key_is(key, len, "targets")) {
                st->seen_targets = true;
                if (s->p == s->end || *s->p != '{') {
                        out->unsure = true;
                        return value(s);
                }
                out->ide = true;
                return object(s, target_entry, NULL);
        }
        if (!st->seen_settings && key_is(key, len, "build_settings")) {
                st->seen_settings = true;
                if (s->p < s->end && *s->p == '{') {
                        if (!object(s, settings_entry, NULL))
                                return false;
                } else if (!value(s)) {
                        return false;
                }
                out->settings = (const char *)start;
                out->settings_len = (size_t)(s->p - start);
                return true;
        }
        return value(s);
}

void
pm__gn_scan_release(struct pm__gn_scan *s)
{
        pm_free(s->v);
        memset(s, 0, sizeof(*s));
}

int
pm__gn_scan(const char *data, size_t len, struct pm__gn_scan *ret, size_t *ret_offset)
{
        struct scanner s = { .p = (const unsigned char *)data,
                             .end = (const unsigned char *)data + len,
                             .out = ret };
        struct doc_state st = { 0 };
        bool ok;

        memset(ret, 0, sizeof(*ret));
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                s.p += 3;
        ws(&s);
        if (s.p < s.end && *s.p == '{')
                ok = object(&s, doc_entry, &st);
        else
                ok = value(&s);
        if (ok) {
                ws(&s);
                ok = s.p == s.end;
        }
        if (ok)
                return 0;
        *ret_offset = (size_t)(s.p - (const unsigned char *)data);
        if (s.nomem)
                return -ENOMEM;
        return s.too_deep ? PM_ELIMIT : PM_EBADTOOLOUTPUT;
}
