/* SPDX-License-Identifier: MIT */
/* `projmodel <command> --help` for every command: each option of the usage line described with
 * an example; an unknown option names the nearest valid one and exits 2. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;

static void
setup(void)
{
        cli_fx_init(&fx, false);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_help, .init = setup, .fini = teardown);

/* Every "--name" in @usage is described in @help ("\n  --name") with an example. */
static void
check_help(const char *cmd, const char *usage, const char *help)
{
        char example[64];

        const char *end = strchr(usage, '\n');

        for (const char *p = strstr(usage, "--"); p && p < end; p = strstr(p + 2, "--")) {
                char needle[64];
                size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");

                (void)snprintf(needle, sizeof(needle), "\n  --%.*s", (int)n, p + 2);
                cr_assert(strstr(help, needle), "%s --help does not describe '%s': %s", cmd,
                          needle + 3, help);
        }
        (void)snprintf(example, sizeof(example), "example: projmodel %s --help", cmd);
        cr_assert(strstr(help, example), "%s --help has no example: %s", cmd, help);
        cr_assert(strstr(help, "\n  --help\n"), "%s", help);
}

Test(cli_help, every_command_describes_every_option)
{
        struct cli_run top;
        const char *p;
        size_t n_commands = 0;

        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "--help", NULL }, &top);
        cr_assert_eq(top.status, 0);
        p = strstr(top.out, "commands:\n");
        cr_assert(p, "%s", top.out);
        for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1) {
                char cmd[32];
                struct cli_run r;
                size_t len = strcspn(p + 2, " \n");

                cr_assert_lt(len, sizeof(cmd));
                (void)snprintf(cmd, sizeof(cmd), "%.*s", (int)len, p + 2);
                cli_fx_run(&fx, NULL, NULL, (const char *[]){ cmd, "--help", NULL }, &r);
                cr_assert_eq(r.status, 0, "%s --help: exit %d", cmd, r.status);
                cr_assert(strncmp(r.out, "usage: projmodel ", 17) == 0, "%s", r.out);
                check_help(cmd, r.out, r.out);
                cli_run_release(&r);
                n_commands++;
        }
        cr_assert_geq(n_commands, 12, "only %zu commands listed: %s", n_commands, top.out);
        cli_run_release(&top);
}

/* @args fail with exit 2 and stderr starting with @first_line. */
static void
expect_usage_error(const char *const *args, const char *first_line)
{
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, args, &r);
        cr_assert_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
        cr_assert(strncmp(r.err, first_line, strlen(first_line)) == 0, "stderr: '%s'", r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);
}

Test(cli_help, unknown_option_names_the_nearest)
{
        expect_usage_error((const char *[]){ "export", "--outptu", "x.json", NULL },
                           "projmodel export: unknown option '--outptu' (did you mean "
                           "'--output'?)\nusage: projmodel export ");
        expect_usage_error((const char *[]){ "dump", "--formt=json", NULL },
                           "projmodel dump: unknown option '--formt=json' (did you mean "
                           "'--format'?)\n");
        expect_usage_error((const char *[]){ "status", "--jsno", NULL },
                           "projmodel status: unknown option '--jsno' (did you mean '--json'?)\n");
        expect_usage_error((const char *[]){ "export", "--output", NULL },
                           "projmodel export: option '--output' needs an argument FILE\n");
        expect_usage_error((const char *[]){ "export", "--zzzzzzzz", NULL },
                           "projmodel export: unknown option '--zzzzzzzz'\n");
}

Test(cli_help, discover_reports_the_nearest_in_its_protocol)
{
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "discover", "--no-refrsh", "{}", NULL }, &r);
        cr_assert_neq(r.status, 0);
        cr_assert(strstr(r.out, "\"kind\":\"error\""), "%s", r.out);
        cr_assert(strstr(r.out, "unknown option '--no-refrsh' (did you mean '--no-refresh'?)"),
                  "%s", r.out);
        cr_assert_str_empty(r.err, "discover wrote on stderr: %s", r.err);
        cli_run_release(&r);
}
