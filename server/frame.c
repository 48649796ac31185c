/* SPDX-License-Identifier: MIT */
/* LSP base framing: the incremental Content-Length parser, the encoder, the shared reply text
 * and the nesting check that runs before cJSON sees a body. Pure byte handling: no sockets, no
 * libuv. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

void
pm__frame_parser_init(struct pm__frame_parser *p)
{
        pm_strbuf_init(&p->buf);
        p->consumed = 0;
}

void
pm__frame_parser_release(struct pm__frame_parser *p)
{
        pm_strbuf_release(&p->buf);
        p->consumed = 0;
}

int
pm__frame_feed(struct pm__frame_parser *p, const void *data, size_t len, struct pm_error *err)
{
        if (p->consumed) {
                pm_strbuf_consume(&p->buf, p->consumed);
                p->consumed = 0;
        }
        /* A buffer never needs more than one header block and one maximal body; beyond that
         * the peer is sending garbage faster than we parse it. */
        if (p->buf.len + len > (size_t)PM_RPC_MAX_HEADER + PM_RPC_MAX_FRAME + 4)
                return pm_error_set(err, PM_ELIMIT, "message larger than %u bytes",
                                    PM_RPC_MAX_FRAME);
        if (pm_strbuf_add(&p->buf, data, len) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory reading a message");
        return 0;
}

/* Find "\r\n\r\n" in the first @n bytes of @s. */
static const char *
find_header_end(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i + 3 < n; i++) {
                if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == '\r' && s[i + 3] == '\n')
                        return s + i;
        }
        return NULL;
}

/* Parse the header lines in [s, end). */
static int
parse_header(const char *s, const char *end, size_t *ret_len, struct pm_error *err)
{
        bool have_len = false;
        size_t len = 0;

        while (s < end) {
                const char *eol = s, *colon, *v;

                /* Every line ends in CRLF: @end points just past the last one. */
                while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
                        eol++;
                if (eol + 1 >= end)
                        return pm_error_set(err, PM_EPROTO, "malformed header line");
                colon = memchr(s, ':', (size_t)(eol - s));
                if (!colon || colon == s)
                        return pm_error_set(err, PM_EPROTO,
                                            "malformed header line: expected 'Name: value'");
                v = colon + 1;
                while (v < eol && (*v == ' ' || *v == '\t'))
                        v++;
                if ((size_t)(colon - s) == strlen("Content-Length") &&
                    strncasecmp(s, "Content-Length", (size_t)(colon - s)) == 0) {
                        if (have_len)
                                return pm_error_set(err, PM_EPROTO,
                                                    "duplicate 'Content-Length' header");
                        if (v == eol)
                                return pm_error_set(err, PM_EPROTO, "empty 'Content-Length'");
                        len = 0;
                        for (; v < eol; v++) {
                                if (*v == ' ' || *v == '\t')
                                        break;
                                if (*v < '0' || *v > '9')
                                        return pm_error_set(
                                                err, PM_EPROTO,
                                                "invalid 'Content-Length': not a decimal number");
                                /* Saturate: keep reading digits, never overflow. */
                                if (len <= PM_RPC_MAX_FRAME)
                                        len = len * 10 + (size_t)(*v - '0');
                        }
                        for (; v < eol; v++) {
                                if (*v != ' ' && *v != '\t')
                                        return pm_error_set(err, PM_EPROTO,
                                                            "invalid 'Content-Length'");
                        }
                        if (len > PM_RPC_MAX_FRAME)
                                return pm_error_set(err, PM_ELIMIT,
                                                    "'Content-Length' over the limit of %u bytes",
                                                    PM_RPC_MAX_FRAME);
                        have_len = true;
                }
                /* Content-Type and unknown headers are accepted and ignored (LSP allows only
                 * utf-8 anyway). */
                s = eol + 2;
        }
        if (!have_len)
                return pm_error_set(err, PM_EPROTO, "missing 'Content-Length' header");
        *ret_len = len;
        return 0;
}

int
pm__frame_next(struct pm__frame_parser *p, const char **ret_body, size_t *ret_len,
               struct pm_error *err)
{
        const char *start, *end;
        size_t hdr, body_len = 0;
        int r;

        if (p->consumed) {
                pm_strbuf_consume(&p->buf, p->consumed);
                p->consumed = 0;
        }
        if (p->buf.len == 0)
                return 0;
        start = p->buf.buf;
        end = find_header_end(start, p->buf.len < PM_RPC_MAX_HEADER + 4 ? p->buf.len
                                                                        : PM_RPC_MAX_HEADER + 4);
        if (!end) {
                if (p->buf.len >= PM_RPC_MAX_HEADER + 4)
                        return pm_error_set(err, PM_EPROTO, "header longer than %u bytes",
                                            PM_RPC_MAX_HEADER);
                return 0;
        }
        /* Parse up to and including the last header line's CRLF. */
        r = parse_header(start, end + 2, &body_len, err);
        if (r < 0)
                return r;
        hdr = (size_t)(end - start) + 4;
        if (p->buf.len - hdr < body_len)
                return 0;
        *ret_body = start + hdr;
        *ret_len = body_len;
        p->consumed = hdr + body_len;
        return 1;
}

int
pm__frame_encode(struct pm_strbuf *out, const char *body, size_t len)
{
        int r;

        r = pm_strbuf_addf(out, "Content-Length: %zu\r\n\r\n", len);
        if (r < 0)
                return r;
        return pm_strbuf_add(out, body, len);
}

struct pm__shared_text *
pm__shared_text_new(char *data, size_t len, void (*free_fn)(void *))
{
        struct pm__shared_text *t = pm_malloc(sizeof(*t));

        if (!t) {
                free_fn(data);
                return NULL;
        }
        atomic_init(&t->refs, 1);
        t->len = len;
        t->data = data;
        t->free_fn = free_fn;
        return t;
}

struct pm__shared_text *
pm__shared_text_ref(struct pm__shared_text *t)
{
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
        return t;
}

struct pm__shared_text *
pm__shared_text_unref(struct pm__shared_text *t)
{
        if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
                return NULL;
        t->free_fn(t->data);
        pm_free(t);
        return NULL;
}

struct pm__shared_reply *
pm__shared_reply_new(void)
{
        struct pm__shared_reply *r = pm_calloc(1, sizeof(*r));

        if (r)
                atomic_init(&r->refs, 1);
        return r;
}

static int
reply_add_buf(struct pm__shared_reply *r, const char *s, size_t len)
{
        if (pm_grow(&r->bufs, &r->cap_bufs, r->n_bufs + 1, 64) < 0)
                return -ENOMEM;
        r->bufs[r->n_bufs++] = uv_buf_init((char *)s, (unsigned)len);
        r->len += len;
        return 0;
}

int
pm__shared_reply_add_static(struct pm__shared_reply *r, const char *s, size_t len)
{
        return len ? reply_add_buf(r, s, len) : 0;
}

int
pm__shared_reply_add_text(struct pm__shared_reply *r, struct pm__shared_text *t, size_t skip)
{
        if (pm_grow(&r->texts, &r->cap_texts, r->n_texts + 1, 64) < 0)
                return -ENOMEM;
        if (reply_add_buf(r, t->data + skip, t->len - skip) < 0)
                return -ENOMEM;
        r->texts[r->n_texts++] = pm__shared_text_ref(t);
        return 0;
}

struct pm__shared_reply *
pm__shared_reply_ref(struct pm__shared_reply *r)
{
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
        return r;
}

struct pm__shared_reply *
pm__shared_reply_unref(struct pm__shared_reply *r)
{
        if (!r || atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
                return NULL;
        for (size_t i = 0; i < r->n_texts; i++)
                pm__shared_text_unref(r->texts[i]);
        pm_free(r->texts);
        pm_free(r->bufs);
        pm_free(r);
        return NULL;
}

int
pm__frame_result_head(struct pm_strbuf *out, const cJSON *id, size_t result_len)
{
        static const char open[] = "{\"jsonrpc\":\"2.0\",\"id\":", key[] = ",\"result\":";
        char *ids = id ? cJSON_PrintUnformatted(id) : NULL;
        const char *idv = id ? ids : "null";
        int r = -ENOMEM;

        if (idv)
                r = pm_strbuf_addf(out, "Content-Length: %zu\r\n\r\n%s%s%s",
                                   strlen(open) + strlen(idv) + strlen(key) + result_len +
                                           strlen(PM__FRAME_RESULT_TAIL),
                                   open, idv, key);
        cJSON_free(ids);
        return r;
}

int
pm__json_depth_check(const char *s, size_t len, int max, struct pm_error *err)
{
        bool in_string = false;
        int depth = 0;
        size_t i;

        for (i = 0; i < len; i++) {
                char c = s[i];

                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"') {
                        in_string = true;
                } else if (c == '[' || c == '{') {
                        if (++depth > max)
                                return pm_error_set(err, PM_ELIMIT,
                                                    "message nests deeper than %d levels", max);
                } else if (c == ']' || c == '}') {
                        depth--;
                }
        }
        return 0;
}
