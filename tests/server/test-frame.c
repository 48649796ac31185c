/* SPDX-License-Identifier: MIT */
/* Unit tests of the daemon's LSP framing: the incremental Content-Length parser, its limits, and
 * the nesting check that runs before cJSON. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server/server-internal.h"

static int
feed_str(struct pm__frame_parser *p, const char *s)
{
        struct pm_error err;

        pm_error_init(&err);
        return pm__frame_feed(p, s, strlen(s), &err);
}

static int
next(struct pm__frame_parser *p, char *out, size_t size, struct pm_error *err)
{
        const char *body;
        size_t len;
        int r;

        pm_error_init(err);
        r = pm__frame_next(p, &body, &len, err);
        if (r == 1)
                (void)snprintf(out, size, "%.*s", (int)len, body);
        return r;
}

Test(server_frame, parses_one_frame)
{
        struct pm__frame_parser p;
        struct pm_error err;
        char out[64];

        pm__frame_parser_init(&p);
        cr_assert_eq(feed_str(&p, "Content-Length: 2\r\n\r\n{}"), 0);
        cr_assert_eq(next(&p, out, sizeof(out), &err), 1);
        cr_assert_str_eq(out, "{}");
        cr_assert_eq(next(&p, out, sizeof(out), &err), 0);
        pm__frame_parser_release(&p);
}

Test(server_frame, accepts_content_type_and_case)
{
        struct pm__frame_parser p;
        struct pm_error err;
        char out[64];

        pm__frame_parser_init(&p);
        feed_str(&p, "content-length:3\r\nContent-Type: application/vscode-jsonrpc; "
                     "charset=utf-8\r\n\r\n[1]");
        cr_assert_eq(next(&p, out, sizeof(out), &err), 1);
        cr_assert_str_eq(out, "[1]");
        pm__frame_parser_release(&p);
}

Test(server_frame, byte_by_byte_and_pipelined)
{
        const char *in = "Content-Length: 5\r\n\r\nhelloContent-Length: 3\r\n\r\nabc";
        struct pm__frame_parser p;
        struct pm_error err;
        char out[64];
        int got = 0;

        pm__frame_parser_init(&p);
        for (size_t i = 0; in[i]; i++) {
                cr_assert_eq(pm__frame_feed(&p, in + i, 1, &err), 0);
                while (next(&p, out, sizeof(out), &err) == 1) {
                        cr_assert_str_eq(out, got == 0 ? "hello" : "abc");
                        got++;
                }
        }
        cr_assert_eq(got, 2);
        pm__frame_parser_release(&p);
}

Test(server_frame, rejects_missing_length)
{
        struct pm__frame_parser p;
        struct pm_error err;
        char out[8];

        pm__frame_parser_init(&p);
        feed_str(&p, "Content-Type: x\r\n\r\n{}");
        cr_assert_eq(next(&p, out, sizeof(out), &err), PM_EPROTO);
        cr_assert(strstr(err.msg, "Content-Length"), "%s", err.msg);
        pm__frame_parser_release(&p);
}

Test(server_frame, rejects_negative_and_garbage_length)
{
        const char *bad[] = { "Content-Length: -5\r\n\r\n",
                              "Content-Length: 1x\r\n\r\n",
                              "Content-Length: \r\n\r\n",
                              "no colon here\r\n\r\n",
                              "\r\n\r\n",
                              "Content-Length: 1\r\nContent-Length: 1\r\n\r\n" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct pm__frame_parser p;
                struct pm_error err;
                char out[8];

                pm__frame_parser_init(&p);
                feed_str(&p, bad[i]);
                cr_assert_eq(next(&p, out, sizeof(out), &err), PM_EPROTO, "input %zu", i);
                pm__frame_parser_release(&p);
        }
}

Test(server_frame, rejects_huge_length_without_allocating)
{
        struct pm__frame_parser p;
        struct pm_error err;
        char out[8];

        pm__frame_parser_init(&p);
        feed_str(&p, "Content-Length: 99999999999999999999999999\r\n\r\n");
        cr_assert_eq(next(&p, out, sizeof(out), &err), PM_ELIMIT);
        pm__frame_parser_release(&p);
        pm__frame_parser_init(&p);
        feed_str(&p, "Content-Length: 16777217\r\n\r\n");
        cr_assert_eq(next(&p, out, sizeof(out), &err), PM_ELIMIT);
        cr_assert_lt(p.buf.alloc, 4096);
        pm__frame_parser_release(&p);
}

Test(server_frame, rejects_endless_header)
{
        struct pm__frame_parser p;
        struct pm_error err;
        char chunk[1024], out[8];
        int r = 0;

        memset(chunk, 'a', sizeof(chunk));
        pm__frame_parser_init(&p);
        for (int i = 0; i < 16 && r == 0; i++) {
                cr_assert_eq(pm__frame_feed(&p, chunk, sizeof(chunk), &err), 0);
                r = next(&p, out, sizeof(out), &err);
        }
        cr_assert_eq(r, PM_EPROTO);
        pm__frame_parser_release(&p);
}

Test(server_frame, encode_round_trips)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm__frame_parser p;
        struct pm_error err;
        char out[64];

        cr_assert_eq(pm__frame_encode(&sb, "{\"a\":1}", 7), 0);
        cr_assert_str_eq(sb.buf, "Content-Length: 7\r\n\r\n{\"a\":1}");
        pm__frame_parser_init(&p);
        cr_assert_eq(pm__frame_feed(&p, sb.buf, sb.len, &err), 0);
        cr_assert_eq(next(&p, out, sizeof(out), &err), 1);
        cr_assert_str_eq(out, "{\"a\":1}");
        pm__frame_parser_release(&p);
        pm_strbuf_release(&sb);
}

Test(server_frame, nesting_limit_skips_strings)
{
        struct pm_error err;
        char deep[200];

        memset(deep, '[', sizeof(deep));
        cr_assert_eq(pm__json_depth_check(deep, sizeof(deep), 64, &err), PM_ELIMIT);
        cr_assert_eq(pm__json_depth_check("{\"a\":\"[[[[[[[[[[\\\"[[[[\"}", 23, 3, &err), 0);
        cr_assert_eq(pm__json_depth_check("[[[]]]", 6, 3, &err), 0);
        cr_assert_eq(pm__json_depth_check("[[[[]]]]", 8, 3, &err), PM_ELIMIT);
}
