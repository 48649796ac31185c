/* SPDX-License-Identifier: MIT */
/* pm_tool_run_sync(), the one-shot commands' way of running build tools: output, output files,
 * missing tools, failures, the timeout and the output cap. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/tool.h"

#include "testlib.h"

/* Run python3 -c @code with @timeout_ms and @max; the result code, *res and *err filled. */
static int
py(const char *code, const char *output_file, unsigned timeout_ms, size_t max,
   struct pm_tool_result *res, struct pm_error *err)
{
        char *argv[] = { (char *)"python3", (char *)"-c", (char *)code, NULL };
        struct pm_step step = { .argv = argv,
                                .cwd = (char *)"/",
                                .output_file = (char *)output_file };

        memset(res, 0, sizeof(*res));
        pm_error_init(err);
        return pm_tool_run_sync(&step, timeout_ms, max, res, err);
}

Test(cli_tool, captures_stdout)
{
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py("import sys; sys.stdout.write('x' * 300000); sys.stderr.write('note')",
                        NULL, 60000, 0, &res, &err),
                     0, "%s", err.msg);
        cr_assert_eq(res.exit_status, 0);
        cr_assert_eq(res.out.len, 300000);
        cr_assert_str_eq(res.err.buf, "note");
        pm_tool_result_release(&res);
}

Test(cli_tool, reads_the_output_file_after_success)
{
        char *dir = pm_test_mkdtemp();
        char *file = pm_test_strf("%s/out.json", dir);
        char *code = pm_test_strf("open('%s', 'w').write('{\"a\": 1}'); print('noise')", file);
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py(code, file, 60000, 0, &res, &err), 0, "%s", err.msg);
        cr_assert_str_eq(res.out.buf, "{\"a\": 1}");
        pm_tool_result_release(&res);
        (void)pm_test_rmtree(dir);
        pm_free(code);
        pm_free(file);
        pm_free(dir);
}

Test(cli_tool, missing_tool_is_enoent_naming_it)
{
        char *argv[] = { (char *)"pm-no-such-tool", NULL };
        struct pm_step step = { .argv = argv, .cwd = (char *)"/" };
        struct pm_tool_result res = { 0 };
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_tool_run_sync(&step, 1000, 0, &res, &err), -ENOENT);
        cr_assert_str_eq(err.msg, "cannot run 'pm-no-such-tool': not found in PATH");
}

Test(cli_tool, failure_quotes_the_error_line)
{
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py("import sys; print('ERROR at //a/BUILD.gn:3:1: bad'); print('  ^'); "
                        "sys.exit(3)",
                        NULL, 60000, 0, &res, &err),
                     PM_ETOOL);
        cr_assert(strstr(err.msg, "exit status 3"), "%s", err.msg);
        cr_assert(strstr(err.msg, "ERROR at //a/BUILD.gn:3:1: bad"), "%s", err.msg);
        cr_assert(strstr(err.msg, "'python3 -c"), "%s", err.msg);
        cr_assert_null(strchr(err.msg, '\n'));
}

Test(cli_tool, timeout_kills_the_tool)
{
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py("import time; time.sleep(600)", NULL, 100, 0, &res, &err), PM_ETIMEOUT);
        cr_assert(strstr(err.msg, "did not finish"), "%s", err.msg);
}

Test(cli_tool, output_cap_kills_the_tool)
{
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py("import sys\nwhile True: sys.stdout.write('y' * 65536)", NULL, 60000,
                        100000, &res, &err),
                     PM_ELIMIT);
        cr_assert(strstr(err.msg, "more than 100000 bytes"), "%s", err.msg);
}

Test(cli_tool, output_file_over_the_cap_is_elimit)
{
        char *dir = pm_test_mkdtemp();
        char *file = pm_test_strf("%s/big", dir);
        char *code = pm_test_strf("open('%s', 'w').write('z' * 5000)", file);
        struct pm_tool_result res;
        struct pm_error err;

        cr_assert_eq(py(code, file, 60000, 1000, &res, &err), PM_ELIMIT, "%s", err.msg);
        (void)pm_test_rmtree(dir);
        pm_free(code);
        pm_free(file);
        pm_free(dir);
}
