/* SPDX-License-Identifier: MIT */
/* A reader of the JUnit XML subset Bazel writes as a test's test.xml (testsuite, testcase,
 * failure, error, skipped; attributes, the five predefined entities and character references,
 * CDATA, comments, processing instructions), one callback per test case. Bytes only. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"

/* Deepest element nesting accepted (Bazel's files are 4 deep). */
#define MAX_DEPTH 64
/* Most bytes of a message kept (the text of a <failure> can be a whole test log). */
#define MAX_MESSAGE 4000

struct reader {
        const char *p, *end, *start;
        const char *origin;
        struct pm_error *err;
        pm__junit_cb cb;
        void *ud;
        struct pm__junit_case tc; /* the open testcase's strings, in the bufs below */
        bool in_case;
        int result_depth; /* depth of the open <failure>/<error>/<skipped>, or 0 */
        bool collect;     /* ... which decides the outcome: its text is the message */
        struct pm_strbuf suite, name, classname, message, text;
};

static int
bad(struct reader *rd, const char *what)
{
        return pm_error_set_at(rd->err, PM_EBADTOOLOUTPUT, rd->origin, 0, 0,
                               "not a JUnit XML file: %s at byte %zu", what,
                               (size_t)(rd->p - rd->start));
}

static int
oom(struct reader *rd)
{
        return pm_error_set(rd->err, -ENOMEM, "out of memory");
}

static bool
starts(const struct reader *rd, const char *s)
{
        size_t n = strlen(s);

        return (size_t)(rd->end - rd->p) >= n && memcmp(rd->p, s, n) == 0;
}

/* Skip past the next @s (or fail naming @what). */
static int
skip_past(struct reader *rd, const char *s, const char *what)
{
        size_t n = strlen(s);

        for (; rd->p + n <= rd->end; rd->p++)
                if (memcmp(rd->p, s, n) == 0) {
                        rd->p += n;
                        return 0;
                }
        rd->p = rd->end;
        return bad(rd, what);
}

static bool
is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.' || c == ':' || (unsigned char)c >= 0x80;
}

static void
skip_space(struct reader *rd)
{
        while (rd->p < rd->end && is_space(*rd->p))
                rd->p++;
}

/* A name at rd->p: its start and length (0 when there is none). */
static size_t
name(struct reader *rd, const char **ret)
{
        const char *s = rd->p;

        while (rd->p < rd->end && is_name_char(*rd->p))
                rd->p++;
        *ret = s;
        return (size_t)(rd->p - s);
}

/* The reference at rd->p ('&'), decoded onto @sb (NULL: checked only). */
static int
entity(struct reader *rd, struct pm_strbuf *sb)
{
        static const struct {
                const char *name;
                char c;
        } named[] = {
                { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' }
        };

        uint32_t cp = 0;
        bool hex;
        size_t digits = 0;

        rd->p++;
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
                if (starts(rd, named[i].name)) {
                        rd->p += strlen(named[i].name);
                        return sb && pm_strbuf_addch(sb, named[i].c) < 0 ? oom(rd) : 0;
                }
        }
        if (rd->p >= rd->end || *rd->p != '#')
                return bad(rd, "an unknown entity");
        rd->p++;
        hex = rd->p < rd->end && *rd->p == 'x';
        rd->p += hex;
        for (; rd->p < rd->end && *rd->p != ';'; rd->p++, digits++) {
                char c = *rd->p;
                uint32_t d;

                if (c >= '0' && c <= '9')
                        d = (uint32_t)(c - '0');
                else if (hex && c >= 'a' && c <= 'f')
                        d = (uint32_t)(c - 'a' + 10);
                else if (hex && c >= 'A' && c <= 'F')
                        d = (uint32_t)(c - 'A' + 10);
                else
                        return bad(rd, "a bad character reference");
                cp = cp * (hex ? 16 : 10) + d;
                if (cp > 0x10ffff)
                        return bad(rd, "a character reference out of range");
        }
        if (rd->p >= rd->end || digits == 0 || cp == 0 || (cp >= 0xd800 && cp <= 0xdfff))
                return bad(rd, "a bad character reference");
        rd->p++;
        return sb && pm_strbuf_add_utf8(sb, cp) < 0 ? oom(rd) : 0;
}

/* Character data up to the next '<', onto @sb (NULL: checked only). */
static int
text(struct reader *rd, struct pm_strbuf *sb)
{
        while (rd->p < rd->end && *rd->p != '<') {
                const char *s = rd->p;
                int r;

                while (rd->p < rd->end && *rd->p != '<' && *rd->p != '&')
                        rd->p++;
                if (sb && pm_strbuf_add(sb, s, (size_t)(rd->p - s)) < 0)
                        return oom(rd);
                if (rd->p < rd->end && *rd->p == '&' && (r = entity(rd, sb)) < 0)
                        return r;
        }
        return 0;
}

/* One attribute value (quoted), decoded into @sb when @sb is not NULL. */
static int
attr_value(struct reader *rd, struct pm_strbuf *sb)
{
        char q;

        if (rd->p >= rd->end || (*rd->p != '"' && *rd->p != '\''))
                return bad(rd, "an attribute value without quotes");
        q = *rd->p++;
        while (rd->p < rd->end && *rd->p != q) {
                const char *s = rd->p;
                int r;

                if (*rd->p == '<')
                        return bad(rd, "'<' in an attribute value");
                while (rd->p < rd->end && *rd->p != q && *rd->p != '&' && *rd->p != '<')
                        rd->p++;
                if (sb && pm_strbuf_add(sb, s, (size_t)(rd->p - s)) < 0)
                        return oom(rd);
                if (rd->p < rd->end && *rd->p == '&' && (r = entity(rd, sb)) < 0)
                        return r;
        }
        if (rd->p >= rd->end)
                return bad(rd, "an unterminated attribute value");
        rd->p++;
        return 0;
}

static bool
is(const char *s, size_t n, const char *want)
{
        return strlen(want) == n && memcmp(s, want, n) == 0;
}

/* Which buffer an attribute of element @el goes to (NULL: not kept); @msg: where a result
 * element's message goes (NULL unless it is the testcase's deciding result). */
static struct pm_strbuf *
attr_buf(struct reader *rd, const char *el, size_t el_n, const char *a, size_t a_n,
         struct pm_strbuf *msg)
{
        if (is(el, el_n, "testsuite") && is(a, a_n, "name"))
                return &rd->suite;
        if (is(el, el_n, "testcase") && is(a, a_n, "name"))
                return &rd->name;
        if (is(el, el_n, "testcase") && is(a, a_n, "classname"))
                return &rd->classname;
        if (msg && is(a, a_n, "message"))
                return msg;
        return NULL;
}

static const char *
str(const struct pm_strbuf *sb)
{
        return sb->buf ? sb->buf : "";
}

/* The open testcase ended: hand it over. */
static int
end_case(struct reader *rd)
{
        int r;

        rd->in_case = false;
        if (rd->tc.outcome != PM__JUNIT_OK && !rd->message.len && rd->text.len) {
                /* No message attribute: the element's text, trimmed, as its message. */
                const char *t = rd->text.buf;
                size_t n = rd->text.len;

                while (n && is_space(*t))
                        t++, n--;
                while (n && is_space(t[n - 1]))
                        n--;
                if (pm_strbuf_add(&rd->message, t, n) < 0)
                        return oom(rd);
        }
        rd->tc.suite = str(&rd->suite);
        rd->tc.name = str(&rd->name);
        rd->tc.classname = rd->classname.len ? rd->classname.buf : NULL;
        rd->tc.message = rd->message.len ? rd->message.buf : NULL;
        r = rd->cb(rd->ud, &rd->tc);
        return r < 0 ? pm_error_set(rd->err, r, "out of memory") : 0;
}

/* A start tag at rd->p (after the "<"): its name into *el and *el_n, *empty for "<x/>". */
static int
start_tag(struct reader *rd, const char **el, size_t *el_n, bool *empty, int depth)
{
        struct pm_strbuf *msg = NULL;
        int r;

        *el_n = name(rd, el);
        if (*el_n == 0)
                return bad(rd, "a tag without a name");
        if (is(*el, *el_n, "testcase") && !rd->in_case) {
                pm_strbuf_reset(&rd->name);
                pm_strbuf_reset(&rd->classname);
                pm_strbuf_reset(&rd->message);
                pm_strbuf_reset(&rd->text);
                rd->tc.outcome = PM__JUNIT_OK;
                rd->in_case = true;
        } else if (is(*el, *el_n, "testsuite")) {
                pm_strbuf_reset(&rd->suite);
        } else if (rd->in_case && !rd->result_depth &&
                   (is(*el, *el_n, "failure") || is(*el, *el_n, "error") ||
                    is(*el, *el_n, "skipped"))) {
                /* The first result element decides (a failure outranks a skip). */
                if (rd->tc.outcome == PM__JUNIT_OK ||
                    (rd->tc.outcome == PM__JUNIT_SKIPPED && !is(*el, *el_n, "skipped"))) {
                        rd->tc.outcome =
                                is(*el, *el_n, "skipped") ? PM__JUNIT_SKIPPED : PM__JUNIT_FAILED;
                        pm_strbuf_reset(&rd->message);
                        pm_strbuf_reset(&rd->text);
                        msg = &rd->message;
                }
                rd->result_depth = depth;
                rd->collect = msg != NULL;
        }
        for (;;) {
                const char *a;
                size_t a_n;

                skip_space(rd);
                if (rd->p >= rd->end)
                        return bad(rd, "an unterminated tag");
                if (*rd->p == '>') {
                        rd->p++;
                        *empty = false;
                        return 0;
                }
                if (starts(rd, "/>")) {
                        rd->p += 2;
                        *empty = true;
                        return 0;
                }
                a_n = name(rd, &a);
                if (a_n == 0)
                        return bad(rd, "a bad attribute");
                skip_space(rd);
                if (rd->p >= rd->end || *rd->p != '=')
                        return bad(rd, "an attribute without '='");
                rd->p++;
                skip_space(rd);
                r = attr_value(rd, attr_buf(rd, *el, *el_n, a, a_n, msg));
                if (r < 0)
                        return r;
        }
}

/* An element ended (at @depth): close the result or the testcase it was. */
static int
end_element(struct reader *rd, const char *el, size_t el_n, int depth)
{
        if (rd->result_depth == depth) {
                rd->result_depth = 0;
                rd->collect = false;
        }
        if (rd->in_case && is(el, el_n, "testcase"))
                return end_case(rd);
        return 0;
}

int
pm__junit_read(const char *data, size_t len, const char *origin, pm__junit_cb cb, void *ud,
               struct pm_error *err)
{
        struct reader rd = { .p = data,
                             .end = data + len,
                             .start = data,
                             .origin = origin,
                             .err = err,
                             .cb = cb,
                             .ud = ud };
        const char *open[MAX_DEPTH];
        size_t open_n[MAX_DEPTH];
        int depth = 0, r = 0;
        bool root_seen = false;

        while (rd.p < rd.end) {
                const char *el;
                size_t el_n;
                bool empty = false;

                if (*rd.p != '<') {
                        struct pm_strbuf *sb = NULL;
                        const char *s = rd.p;

                        if (rd.collect && rd.text.len < MAX_MESSAGE)
                                sb = &rd.text;
                        r = text(&rd, sb);
                        if (r < 0)
                                goto out;
                        /* Outside the root only blanks. */
                        for (; depth == 0 && s < rd.p; s++)
                                if (!is_space(*s)) {
                                        rd.p = s;
                                        r = bad(&rd, "text outside the root element");
                                        goto out;
                                }
                        continue;
                }
                if (starts(&rd, "<!--")) {
                        r = skip_past(&rd, "-->", "an unterminated comment");
                } else if (starts(&rd, "<![CDATA[")) {
                        const char *s = rd.p + 9;

                        if (depth == 0) {
                                r = bad(&rd, "CDATA outside the root element");
                                goto out;
                        }
                        r = skip_past(&rd, "]]>", "an unterminated CDATA section");
                        if (r == 0 && rd.collect && rd.text.len < MAX_MESSAGE &&
                            pm_strbuf_add(&rd.text, s, (size_t)(rd.p - 3 - s)) < 0)
                                r = oom(&rd);
                } else if (starts(&rd, "<?")) {
                        r = skip_past(&rd, "?>", "an unterminated processing instruction");
                } else if (starts(&rd, "<!")) {
                        /* A DOCTYPE without an internal subset. */
                        if (depth > 0) {
                                r = bad(&rd, "a declaration inside an element");
                                goto out;
                        }
                        r = skip_past(&rd, ">", "an unterminated declaration");
                } else if (starts(&rd, "</")) {
                        rd.p += 2;
                        el_n = name(&rd, &el);
                        skip_space(&rd);
                        if (depth == 0 || el_n != open_n[depth - 1] ||
                            memcmp(el, open[depth - 1], el_n) != 0) {
                                r = bad(&rd, "a closing tag that does not match");
                                goto out;
                        }
                        if (rd.p >= rd.end || *rd.p != '>') {
                                r = bad(&rd, "an unterminated closing tag");
                                goto out;
                        }
                        rd.p++;
                        r = end_element(&rd, el, el_n, depth);
                        depth--;
                } else {
                        rd.p++;
                        if (depth == 0 && root_seen) {
                                r = bad(&rd, "a second root element");
                                goto out;
                        }
                        if (depth == MAX_DEPTH) {
                                r = bad(&rd, "elements nested too deep");
                                goto out;
                        }
                        root_seen = true;
                        r = start_tag(&rd, &el, &el_n, &empty, depth + 1);
                        if (r == 0 && empty) {
                                r = end_element(&rd, el, el_n, depth + 1);
                        } else if (r == 0) {
                                open[depth] = el;
                                open_n[depth] = el_n;
                                depth++;
                        }
                }
                if (r < 0)
                        goto out;
        }
        if (depth > 0)
                r = bad(&rd, "an element left open at the end");
        else if (!root_seen)
                r = bad(&rd, "no root element");
out:
        pm_strbuf_release(&rd.suite);
        pm_strbuf_release(&rd.name);
        pm_strbuf_release(&rd.classname);
        pm_strbuf_release(&rd.message);
        pm_strbuf_release(&rd.text);
        return r;
}
