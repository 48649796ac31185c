/* SPDX-License-Identifier: MIT */
/* Tests for the one-line wording of a tool's failure (server/spawn.c): the command line and the
 * error line are cut before a whole UTF-8 character, since both end up in JSON replies. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/strbuf.h"

#include "server/server-internal.h"

#define EURO "\xe2\x82\xac" /* 3 bytes */

Test(server_tool_line, a_long_error_line_is_cut_before_a_whole_character)
{
        struct pm_strbuf text = PM_STRBUF_INIT, want = PM_STRBUF_INIT;
        char line[PM_TOOL_MSG_MAX];

        /* "error: " and 300 euro signs: a byte cut at 476 would keep one byte of the 157th. */
        cr_assert_eq(pm_strbuf_adds(&text, "note: context\nerror: "), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "error: "), 0);
        for (int i = 0; i < 300; i++)
                cr_assert_eq(pm_strbuf_adds(&text, EURO), 0);
        for (int i = 0; i < 156; i++)
                cr_assert_eq(pm_strbuf_adds(&want, EURO), 0);
        cr_assert_eq(pm_strbuf_adds(&text, "\nlast line\n"), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "..."), 0);
        pm_tool_error_line(text.buf, text.len, line, sizeof(line));
        cr_assert_str_eq(line, want.buf);

        pm_tool_error_line("x\nError: short " EURO "\n", 20, line, sizeof(line));
        cr_assert_str_eq(line, "Error: short " EURO);
        pm_tool_error_line("abcdef", 6, line, 3); /* no room for "...": a plain cut */
        cr_assert_str_eq(line, "ab");
        pm_strbuf_release(&text);
        pm_strbuf_release(&want);
}

Test(server_tool_line, a_long_command_line_is_cut_before_a_whole_character)
{
        struct pm_strbuf arg = PM_STRBUF_INIT, want = PM_STRBUF_INIT;
        char cmd[PM_TOOL_CMD_MAX];

        /* "gn " and 100 euro signs: a byte cut at 156 would keep one byte of the 52nd. */
        cr_assert_eq(pm_strbuf_adds(&want, "gn "), 0);
        for (int i = 0; i < 100; i++)
                cr_assert_eq(pm_strbuf_adds(&arg, EURO), 0);
        for (int i = 0; i < 51; i++)
                cr_assert_eq(pm_strbuf_adds(&want, EURO), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "..."), 0);
        {
                char *argv[] = { "gn", arg.buf, NULL };

                pm__tool_command_line(argv, cmd, sizeof(cmd));
        }
        cr_assert_str_eq(cmd, want.buf);
        {
                char *argv[] = { "gn", "gen", "out", NULL };

                pm__tool_command_line(argv, cmd, sizeof(cmd));
                cr_assert_str_eq(cmd, "gn gen out");
        }
        pm_strbuf_release(&arg);
        pm_strbuf_release(&want);
}

/* Fill @r as a step that exited with status 1 printing @out and @err. */
static void
failed_step(struct pm_tool_result *r, const char *out, const char *err)
{
        memset(r, 0, sizeof(*r));
        r->exit_status = 1;
        cr_assert_eq(pm_strbuf_adds(&r->out, out), 0);
        cr_assert_eq(pm_strbuf_adds(&r->err, err), 0);
}

Test(server_tool_line, the_error_line_comes_from_where_the_error_is)
{
        struct pm_tool_result r;
        struct pm_error err;

        /* ninja: the failing rustc's error on stdout, only "build stopped" on stderr. */
        failed_step(&r,
                    "[1/2] RUST lib\nFAILED: obj/lib.rlib\nrustc --crate-name lib\n"
                    "error[E0425]: cannot find value `x` in this scope\n",
                    "ninja: build stopped: subcommand failed.\n");
        pm_error_init(&err);
        cr_assert_lt(pm__step_failed("ninja -C out lib", &r, &err), 0);
        cr_assert_str_eq(err.msg, "'ninja -C out lib' failed with exit status 1: "
                                  "error[E0425]: cannot find value `x` in this scope");
        pm_tool_result_release(&r);

        /* A marked stderr line wins over a marked stdout one. */
        failed_step(&r, "error: on stdout\n", "note: first\nerror: on stderr\n");
        cr_assert_lt(pm__step_failed("tool", &r, &err), 0);
        cr_assert_str_eq(err.msg, "'tool' failed with exit status 1: error: on stderr");
        pm_tool_result_release(&r);

        /* Nothing marked: stderr's last line, else stdout's. */
        failed_step(&r, "out line\n", "err line\n");
        cr_assert_lt(pm__step_failed("tool", &r, &err), 0);
        cr_assert_str_eq(err.msg, "'tool' failed with exit status 1: err line");
        pm_tool_result_release(&r);
        failed_step(&r, "out line\n", "");
        cr_assert_lt(pm__step_failed("tool", &r, &err), 0);
        cr_assert_str_eq(err.msg, "'tool' failed with exit status 1: out line");
        pm_tool_result_release(&r);
}
