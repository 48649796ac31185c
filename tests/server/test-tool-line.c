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
        pm__tool_error_line(text.buf, text.len, line, sizeof(line));
        cr_assert_str_eq(line, want.buf);

        pm__tool_error_line("x\nError: short " EURO "\n", 20, line, sizeof(line));
        cr_assert_str_eq(line, "Error: short " EURO);
        pm__tool_error_line("abcdef", 6, line, 3); /* no room for "...": a plain cut */
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
