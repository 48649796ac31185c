/* SPDX-License-Identifier: MIT */
/* A TOML reader for the files the audit policy imports (cargo-vet's audits.toml): tables, arrays
 * of tables, dotted and quoted keys, the four string forms, integers, floats, booleans, dates
 * (kept as strings), arrays and inline tables, into a cJSON tree. Anything else is an error
 * naming the file and line. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "audit-internal.h"

/* Nesting of arrays and inline tables; deeper input is an error, not a deep recursion. */
#define MAX_DEPTH 64
/* MAX_DEPTH as text, for the messages that name it. */
#define STR_(x) #x
#define STR(x)  STR_(x)

struct toml {
        const char *s, *end;
        unsigned line;
        const char *file;
        struct pm_error *err;
        unsigned depth;
        /* Every key of every table, so a lookup (a key defined twice, a table named again) is
         * not a scan of the table: cargo-vet's [criteria] or [audits] may hold 100,000 names. */
        struct pm__index keys;
};

/* The item @key of table @tab, or NULL. */
static cJSON *
lookup(const struct toml *t, const cJSON *tab, const char *key)
{
        return pm__index_get(&t->keys, tab, key);
}

/* Index @item, just added to @tab (or NULL when adding failed: out of memory). */
static int
indexed(struct toml *t, const cJSON *tab, cJSON *item)
{
        if (!item || pm__index_put(&t->keys, tab, item->string, item) < 0)
                return -ENOMEM;
        return 0;
}

/*
 * Record @line in @item as the line that defines it (the key, or the [table] / [[table]] header),
 * once: audit/vet.c's errors name it (pm__toml_line()). A cJSON item that is not a number does
 * not use valueint, so it holds the line; a number's line is its table's.
 */
static void
at_line(cJSON *item, unsigned line)
{
        if (item && !cJSON_IsNumber(item) && item->valueint == 0)
                item->valueint = (int)line;
}

unsigned
pm__toml_line(const struct cJSON *item)
{
        return item && !cJSON_IsNumber(item) && item->valueint > 0 ? (unsigned)item->valueint : 0;
}

static int
fail(struct toml *t, const char *what)
{
        return pm_error_set_at(t->err, PM_ECONFIG, t->file, (int)t->line, 0,
                               "not a TOML file cargo-vet writes: %s", what);
}

static int
oom(struct toml *t)
{
        return pm_error_set(t->err, -ENOMEM, "out of memory");
}

/* Spaces and tabs. */
static void
blank(struct toml *t)
{
        while (t->s < t->end && (*t->s == ' ' || *t->s == '\t'))
                t->s++;
}

/* Blanks, comments and newlines (inside arrays). */
static void
space(struct toml *t)
{
        for (;;) {
                blank(t);
                if (t->s < t->end && *t->s == '#') {
                        while (t->s < t->end && *t->s != '\n')
                                t->s++;
                } else if (t->s < t->end && (*t->s == '\n' || *t->s == '\r')) {
                        t->line += *t->s == '\n';
                        t->s++;
                } else {
                        return;
                }
        }
}

/* After a value or header: blanks, an optional comment, then the end of the line or file. */
static int
end_of_line(struct toml *t)
{
        blank(t);
        if (t->s < t->end && *t->s == '#')
                while (t->s < t->end && *t->s != '\n')
                        t->s++;
        if (t->s < t->end && *t->s == '\r')
                t->s++;
        if (t->s < t->end && *t->s != '\n')
                return fail(t, "text after a value on the same line");
        return 0;
}

static bool
bare_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
}

/* One escape after a backslash in a basic string. */
static int
escape(struct toml *t, struct pm_strbuf *sb)
{
        static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
        const char *k;
        uint32_t cp = 0;
        size_t n;

        if (t->s >= t->end)
                return fail(t, "unterminated string");
        k = strchr(from, *t->s);
        if (k && *t->s) {
                t->s++;
                return pm_strbuf_addch(sb, to[k - from]) < 0 ? oom(t) : 0;
        }
        if (*t->s != 'u' && *t->s != 'U')
                return fail(t, "unknown escape in a string");
        n = *t->s == 'u' ? 4 : 8;
        t->s++;
        if ((size_t)(t->end - t->s) < n)
                return fail(t, "short \\u escape");
        for (size_t i = 0; i < n; i++) {
                char c = t->s[i];
                uint32_t d = c >= '0' && c <= '9'   ? (uint32_t)(c - '0')
                             : c >= 'a' && c <= 'f' ? (uint32_t)(c - 'a' + 10)
                             : c >= 'A' && c <= 'F' ? (uint32_t)(c - 'A' + 10)
                                                    : 16;

                if (d == 16)
                        return fail(t, "bad \\u escape");
                cp = cp * 16 + d;
        }
        t->s += n;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return fail(t, "\\u escape out of range");
        return pm_strbuf_add_utf8(sb, cp) < 0 ? oom(t) : 0;
}

/* A string of any of the four forms at t->s, into @sb (NUL-terminated on success). */
static int
string(struct toml *t, struct pm_strbuf *sb)
{
        char q = *t->s;
        bool multi = t->end - t->s >= 3 && t->s[1] == q && t->s[2] == q;
        int r = 0;

        t->s += multi ? 3 : 1;
        if (multi && t->s < t->end && *t->s == '\n') { /* a newline right after """ is dropped */
                t->line++;
                t->s++;
        } else if (multi && t->end - t->s >= 2 && t->s[0] == '\r' && t->s[1] == '\n') {
                t->line++;
                t->s += 2;
        }
        for (;;) {
                char c;

                if (t->s >= t->end)
                        return fail(t, "unterminated string");
                c = *t->s;
                if (c == q && (!multi || (t->end - t->s >= 3 && t->s[1] == q && t->s[2] == q))) {
                        t->s += multi ? 3 : 1;
                        /* """a"""" ends with up to two quotes of content. */
                        while (multi && t->s < t->end && *t->s == q && r == 0) {
                                r = pm_strbuf_addch(sb, q);
                                t->s++;
                        }
                        break;
                }
                if (c == '\n' && !multi)
                        return fail(t, "newline in a one-line string");
                if (c == '\\' && q == '"') {
                        t->s++;
                        if (multi && t->s < t->end &&
                            (*t->s == '\n' || *t->s == ' ' || *t->s == '\t' || *t->s == '\r')) {
                                /* A line-ending backslash trims the whitespace after it. */
                                while (t->s < t->end && (*t->s == ' ' || *t->s == '\t' ||
                                                         *t->s == '\r' || *t->s == '\n')) {
                                        t->line += *t->s == '\n';
                                        t->s++;
                                }
                                continue;
                        }
                        r = escape(t, sb);
                } else {
                        t->line += c == '\n';
                        t->s++;
                        r = pm_strbuf_addch(sb, c) < 0 ? oom(t) : 0;
                }
                if (r < 0)
                        return r;
        }
        if (r == 0 && pm_strbuf_add(sb, "", 0) < 0)
                r = oom(t);
        return r;
}

/* One key part: bare or quoted (one-line), into @sb. */
static int
key_part(struct toml *t, struct pm_strbuf *sb)
{
        const char *b = t->s;

        pm_strbuf_reset(sb);
        blank(t);
        if (t->s < t->end && (*t->s == '"' || *t->s == '\'')) {
                if (t->end - t->s >= 3 && t->s[1] == *t->s && t->s[2] == *t->s)
                        return fail(t, "a multi-line string as a key");
                return string(t, sb);
        }
        b = t->s;
        while (t->s < t->end && bare_char(*t->s))
                t->s++;
        if (t->s == b)
                return fail(t, "expected a key");
        return pm_strbuf_add(sb, b, (size_t)(t->s - b)) < 0 ? oom(t) : 0;
}

/*
 * Walk @tab by one key part, creating a table when absent: an array of tables stands for its
 * last table. Sets *@ret; an existing value that is not a table is an error.
 */
static int
descend(struct toml *t, cJSON *tab, const char *key, cJSON **ret)
{
        cJSON *v = lookup(t, tab, key);

        if (!v) {
                v = cJSON_AddObjectToObject(tab, key);
                if (indexed(t, tab, v) < 0)
                        return oom(t);
                at_line(v, t->line);
        } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0 &&
                   cJSON_IsObject(cJSON_GetArrayItem(v, cJSON_GetArraySize(v) - 1))) {
                v = cJSON_GetArrayItem(v, cJSON_GetArraySize(v) - 1);
        } else if (!cJSON_IsObject(v)) {
                return fail(t, "a key is both a value and a table");
        }
        *ret = v;
        return 0;
}

/*
 * `a.b.c` at t->s: descends *@tab through a and b (made as tables where missing) and leaves
 * the last part in @k. At most MAX_DEPTH parts: each is a nested cJSON object, which
 * cJSON_Delete() frees recursively.
 */
static int
dotted_key(struct toml *t, cJSON **tab, struct pm_strbuf *k)
{
        unsigned parts = 1;
        int r = key_part(t, k);

        while (r == 0) {
                blank(t);
                if (t->s >= t->end || *t->s != '.')
                        break;
                t->s++;
                if (++parts > MAX_DEPTH)
                        return fail(t, "a dotted key of more than " STR(MAX_DEPTH) " parts");
                r = descend(t, *tab, k->buf, tab);
                if (r == 0)
                        r = key_part(t, k);
        }
        return r;
}

static int value(struct toml *t, cJSON **ret);

/* `key.part = value` into @tab. */
static int
key_value(struct toml *t, cJSON *tab)
{
        struct pm_strbuf k = PM_STRBUF_INIT;
        cJSON *v = NULL;
        unsigned line = t->line;
        int r = dotted_key(t, &tab, &k);

        if (r < 0)
                goto out;
        if (t->s >= t->end || *t->s != '=') {
                r = fail(t, "expected '=' after a key");
                goto out;
        }
        t->s++;
        blank(t);
        if (lookup(t, tab, k.buf)) {
                r = fail(t, "a key defined twice");
                goto out;
        }
        r = value(t, &v);
        if (r == 0)
                at_line(v, line);
        if (r == 0 && !cJSON_AddItemToObject(tab, k.buf, v)) {
                cJSON_Delete(v);
                r = oom(t);
        } else if (r == 0 && indexed(t, tab, v) < 0) {
                r = oom(t);
        }
out:
        pm_strbuf_release(&k);
        return r;
}

/* [ v, v, ... ] with newlines and comments between. */
static int
array(struct toml *t, cJSON **ret)
{
        cJSON *a = cJSON_CreateArray(), *v;
        unsigned line;
        int r = a ? 0 : oom(t);

        t->s++;
        while (r == 0) {
                space(t);
                if (t->s < t->end && *t->s == ']') {
                        t->s++;
                        break;
                }
                line = t->line;
                r = value(t, &v);
                if (r < 0)
                        break;
                at_line(v, line);
                if (!cJSON_AddItemToArray(a, v)) {
                        cJSON_Delete(v);
                        r = oom(t);
                        break;
                }
                space(t);
                if (t->s < t->end && *t->s == ',')
                        t->s++;
                else if (t->s >= t->end || *t->s != ']')
                        r = fail(t, "expected ',' or ']' in an array");
        }
        if (r < 0)
                cJSON_Delete(a);
        else
                *ret = a;
        return r;
}

/* { k = v, k = v } on one line. */
static int
inline_table(struct toml *t, cJSON **ret)
{
        cJSON *o = cJSON_CreateObject();
        int r = o ? 0 : oom(t);

        t->s++;
        blank(t);
        if (r == 0 && t->s < t->end && *t->s == '}')
                t->s++;
        else
                while (r == 0) {
                        r = key_value(t, o);
                        blank(t);
                        if (r < 0)
                                break;
                        if (t->s < t->end && *t->s == '}') {
                                t->s++;
                                break;
                        }
                        if (t->s < t->end && *t->s == ',')
                                t->s++;
                        else
                                r = fail(t, "expected ',' or '}' in an inline table");
                }
        if (r < 0)
                cJSON_Delete(o);
        else
                *ret = o;
        return r;
}

/* A bare value: true, false, a number, or a date and time (kept as its text). */
static int
scalar(struct toml *t, cJSON **ret)
{
        const char *b = t->s;
        char buf[64];
        size_t n;
        bool date;

        while (t->s < t->end && (bare_char(*t->s) || *t->s == '.' || *t->s == ':' || *t->s == '+' ||
                                 (*t->s == ' ' && t->s - b == 10 && b[4] == '-')))
                t->s++;
        n = (size_t)(t->s - b);
        if (n == 0 || n >= sizeof(buf))
                return fail(t, "expected a value");
        memcpy(buf, b, n);
        buf[n] = '\0';
        date = n >= 10 && buf[4] == '-' && buf[7] == '-';
        if (strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0) {
                *ret = cJSON_CreateBool(buf[0] == 't');
        } else if (date || (n >= 8 && buf[2] == ':')) {
                *ret = cJSON_CreateString(buf);
        } else {
                char *e, *w = buf;
                double d;

                for (const char *p = buf; *p; p++)
                        if (*p != '_')
                                *w++ = *p;
                *w = '\0';
                errno = 0;
                d = strncmp(buf, "0x", 2) == 0 || strncmp(buf, "0o", 2) == 0 ||
                                    strncmp(buf, "0b", 2) == 0
                            ? (double)strtoll(buf + 2, &e,
                                              buf[1] == 'x'   ? 16
                                              : buf[1] == 'o' ? 8
                                                              : 2)
                            : strtod(buf, &e);
                if (*e || errno)
                        return fail(t, "expected a value");
                *ret = cJSON_CreateNumber(d);
        }
        return *ret ? 0 : oom(t);
}

static int
value(struct toml *t, cJSON **ret)
{
        int r;

        if (t->s >= t->end || *t->s == '\n' || *t->s == '#')
                return fail(t, "expected a value");
        if (t->depth >= MAX_DEPTH)
                return fail(t, "arrays or tables nested too deep");
        t->depth++;
        if (*t->s == '"' || *t->s == '\'') {
                struct pm_strbuf sb = PM_STRBUF_INIT;

                r = string(t, &sb);
                if (r == 0 && !(*ret = cJSON_CreateString(sb.buf ? sb.buf : "")))
                        r = oom(t);
                pm_strbuf_release(&sb);
        } else if (*t->s == '[') {
                r = array(t, ret);
        } else if (*t->s == '{') {
                r = inline_table(t, ret);
        } else {
                r = scalar(t, ret);
        }
        t->depth--;
        return r;
}

/* [a.b] or [[a.b]] at t->s; sets *@cur to the table lines after it fill. */
static int
header(struct toml *t, cJSON *root, cJSON **cur)
{
        struct pm_strbuf k = PM_STRBUF_INIT;
        bool aot = t->end - t->s >= 2 && t->s[1] == '[';
        cJSON *tab = root, *v;
        int r;

        t->s += aot ? 2 : 1;
        r = dotted_key(t, &tab, &k);
        if (r < 0)
                goto out;
        if (t->s >= t->end || *t->s != ']' || (aot && (t->end - t->s < 2 || t->s[1] != ']'))) {
                r = fail(t, aot ? "expected ']]' after a table name" : "expected ']'");
                goto out;
        }
        t->s += aot ? 2 : 1;
        v = lookup(t, tab, k.buf);
        if (aot) {
                if (!v && indexed(t, tab, (v = cJSON_AddArrayToObject(tab, k.buf))) < 0) {
                        r = oom(t);
                        goto out;
                }
                at_line(v, t->line);
                if (!cJSON_IsArray(v)) {
                        r = fail(t, "[[table]] of a name that is not an array of tables");
                        goto out;
                }
                tab = cJSON_CreateObject();
                if (!tab || !cJSON_AddItemToArray(v, tab)) {
                        cJSON_Delete(tab);
                        r = oom(t);
                        goto out;
                }
                at_line(tab, t->line);
        } else if (v && !cJSON_IsObject(v)) {
                r = fail(t, "[table] of a name that is already a value");
                goto out;
        } else if (!v && indexed(t, tab, (v = cJSON_AddObjectToObject(tab, k.buf))) < 0) {
                r = oom(t);
                goto out;
        } else {
                tab = v;
        }
        at_line(tab, t->line);
        *cur = tab;
        r = end_of_line(t);
out:
        pm_strbuf_release(&k);
        return r;
}

int
pm__toml_parse(const char *text, size_t len, const char *file, cJSON **ret, struct pm_error *err)
{
        struct toml t = { .s = text, .end = text + len, .line = 1, .file = file, .err = err };
        cJSON *root = cJSON_CreateObject(), *cur = root;
        int r = root ? 0 : oom(&t);

        if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
                t.s += 3;
        while (r == 0) {
                space(&t);
                if (t.s >= t.end)
                        break;
                if (*t.s == '[')
                        r = header(&t, root, &cur);
                else if ((r = key_value(&t, cur)) == 0)
                        r = end_of_line(&t);
        }
        pm__index_release(&t.keys);
        if (r < 0) {
                cJSON_Delete(root);
                return r;
        }
        *ret = root;
        return 0;
}
