/* SPDX-License-Identifier: MIT */
/* The gn adapter's span scanner: checks a project.json as strictly as pm__json_check() and
 * records where each target's JSON (and the properties the parse reads) lies, without building a
 * tree. gn-parse.c decodes just those properties, gn-incremental.c hashes the spans; nothing here
 * allocates but the span array. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/gn/gn-internal.h"

#define SCAN_MAX_DEPTH PM_ADAPTER_MAX_JSON_DEPTH

struct scanner {
        const unsigned char *p;
        const unsigned char *end;
        unsigned depth;
        bool too_deep;
        bool nomem;
        struct pm__gn_scan *out;
};

/*
 * Several bytes at a time (SSE2 where there, else SWAR): the scanner runs over megabytes of GN's
 * indented output on every daemon update, mostly inside strings and indentation. (Whitespace runs
 * are short: there SWAR measured faster than SSE2.)
 */
#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static uint64_t
load8(const unsigned char *p)
{
        uint64_t w;

        memcpy(&w, p, 8);
        return w;
}

/* True if a byte of @w is '"', '\\' or a control character (below 0x20). */
static bool
special8(uint64_t w)
{
        uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

        return (((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w)) & HIGHS;
}

static bool
is_ws(unsigned char c)
{
        return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

static void
ws(struct scanner *s)
{
        const unsigned char *p = s->p, *end = s->end;

        while (end - p >= 8 && load8(p) == ONES * ' ')
                p += 8;
        while (p < end && is_ws(*p))
                p++;
        s->p = p;
}

/* The first byte at or after @p that is '"', '\\' or a control character, or @end. */
static const unsigned char *
plain_end(const unsigned char *p, const unsigned char *end)
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
        while (end - p >= 8 && !special8(load8(p)))
                p += 8;
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
                p++;
        return p;
}

static bool
hex4(const unsigned char **pp, const unsigned char *end, unsigned *ret)
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
 * At an opening quote: skip the string (the same rules as pm__json_check(), which are cJSON's);
 * sets *escaped when it holds a backslash escape.
 */
static bool
string(struct scanner *s, bool *escaped)
{
        const unsigned char *p = s->p + 1, *end = s->end;

        for (;;) {
                unsigned u, lo;
                unsigned char c;

                p = plain_end(p, end);
                if (p == end || *p < 0x20)
                        break;
                if (*p == '"') {
                        s->p = p + 1;
                        return true;
                }
                *escaped = true;
                if (++p == end)
                        break;
                c = *p++;
                if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                    c == 'r' || c == 't')
                        continue;
                if (c != 'u' || !hex4(&p, end, &u) || (u >= 0xDC00 && u <= 0xDFFF))
                        break;
                if (u >= 0xD800 && u <= 0xDBFF) {
                        if (end - p < 2 || p[0] != '\\' || p[1] != 'u')
                                break;
                        p += 2;
                        if (!hex4(&p, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                                break;
                }
        }
        s->p = p;
        return false;
}

static bool
digits(struct scanner *s)
{
        const unsigned char *start = s->p;

        while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
                s->p++;
        return s->p > start;
}

static bool
number(struct scanner *s)
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
literal(struct scanner *s, const char *word, size_t n)
{
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
                return false;
        s->p += n;
        return true;
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
                ws(s);
                if (s->p == s->end)
                        return false;
                if (*s->p == '}') {
                        s->p++;
                        s->depth--;
                        return true;
                }
                if (*s->p != ',')
                        return false;
                s->p++;
                ws(s);
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
                ws(s);
                if (s->p == s->end)
                        return false;
                if (*s->p == ']') {
                        s->p++;
                        s->depth--;
                        return true;
                }
                if (*s->p != ',')
                        return false;
                s->p++;
                ws(s);
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
        if (out->n == out->cap) {
                size_t cap = out->cap ? 2 * out->cap : 1024;
                struct pm__gn_span *v = pm_realloc(out->v, cap * sizeof(*v));

                if (!v) {
                        s->nomem = true;
                        return false;
                }
                out->v = v;
                out->cap = cap;
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
