/* SPDX-License-Identifier: MIT */
/* Tests for the shared fixtures in tests/lib: running commands and copying/removing trees. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "testlib.h"

Test(common_testlib, run_feeds_stdin_and_captures_both_streams)
{
        const char *const cat[] = { "cat", NULL };
        size_t n = 1 << 20;
        char *in = pm_malloc(n + 1), *out = NULL, *err = NULL;

        /* More than a pipe buffer each way: a runner that does not poll would deadlock. */
        memset(in, 'x', n);
        in[n] = '\0';
        cr_assert_eq(pm_test_run(cat, NULL, NULL, in, &out, &err), 0);
        cr_assert_eq(strlen(out), n);
        cr_assert_str_eq(err, "");
        pm_free(in);
        pm_free(out);
        pm_free(err);
}

Test(common_testlib, run_status_stderr_cwd_env)
{
        const char *const ls[] = { "ls", "/nonexistent-pm-path", NULL };
        const char *const pwd[] = { "pwd", NULL };
        const char *const env[] = { "env", NULL };
        const char *const extra[] = { "PM_TEST_VAR=hello", NULL };
        const char *const missing[] = { "pm-no-such-program", NULL };
        char *out = NULL, *err = NULL;

        cr_assert_neq(pm_test_run(ls, NULL, NULL, NULL, NULL, &err), 0);
        cr_assert(strstr(err, "nonexistent-pm-path"), "%s", err);
        pm_free(err);
        cr_assert_eq(pm_test_run(pwd, "/usr", NULL, NULL, &out, NULL), 0);
        cr_assert_str_eq(out, "/usr\n");
        pm_free(out);
        cr_assert_eq(pm_test_run(env, NULL, extra, NULL, &out, NULL), 0);
        cr_assert(strstr(out, "PM_TEST_VAR=hello\n"), "%s", out);
        pm_free(out);
        cr_assert_eq(pm_test_run(missing, NULL, NULL, NULL, NULL, NULL), 127);
        cr_assert(pm_test_have("cat"));
        cr_assert_not(pm_test_have("pm-no-such-program"));
}

Test(common_testlib, copy_and_remove_tree)
{
        char *src = pm_test_mkdtemp(), *dst = pm_test_mkdtemp();
        char *f = pm_test_strf("%s/a/b/c.txt", src), *d = pm_test_strf("%s/copy", dst);
        char *g = pm_test_strf("%s/copy/a/b/c.txt", dst), *got;
        struct stat st;

        cr_assert_eq(pm_test_write_file(f, "deep"), 0);
        cr_assert_eq(pm_test_copy_tree(src, d), 0);
        got = pm_test_read_file(g);
        cr_assert_str_eq(got, "deep");
        pm_free(got);
        cr_assert_eq(pm_test_rmtree(src), 0);
        cr_assert_eq(pm_test_rmtree(dst), 0);
        cr_assert_eq(stat(dst, &st), -1);
        cr_assert_eq(errno, ENOENT);
        cr_assert_eq(pm_test_rmtree(dst), 0, "removing a missing tree is fine");
        cr_assert_null(pm_test_read_file(g));
        pm_free(src);
        pm_free(dst);
        pm_free(f);
        pm_free(d);
        pm_free(g);
}

Test(common_testlib, roots)
{
        cr_assert_not_null(pm_test_source_root());
        cr_assert_not_null(pm_test_build_root());
        cr_assert_not_null(pm_test_projmodel());
}
