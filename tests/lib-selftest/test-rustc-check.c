/* SPDX-License-Identifier: MIT */
/* Self-tests of the rustc harness: a correct project checks, and each wrong fact makes it fail. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "rustc-check.h"
#include "testlib.h"

static char *dir;

/*
 * Crate `util` has a function only under cfg feature="fast"; crate `app` reaches util only
 * under the renamed name `utils2`, calls the feature-gated function, reads env GREETING at
 * compile time and uses a derive from proc macro `hello_derive`. A test crate needs
 * debug_assertions. Each fact the JSON states is therefore load-bearing.
 */
static void
setup(void)
{
        static const struct {
                const char *path, *text;
        } files[] = {
                { "util/lib.rs", "pub fn helper() -> u32 { 1 }\n"
                                 "#[cfg(feature = \"fast\")]\n"
                                 "pub fn fast() -> u32 { 2 }\n" },
                { "hello_derive/lib.rs",
                  "extern crate proc_macro;\n"
                  "use proc_macro::TokenStream;\n"
                  "#[proc_macro_derive(Hello)]\n"
                  "pub fn derive(_input: TokenStream) -> TokenStream {\n"
                  "    \"pub fn hello() -> &'static str { \\\"hi\\\" }\".parse().unwrap()\n"
                  "}\n" },
                { "app/main.rs", "use hello_derive::Hello;\n"
                                 "#[derive(Hello)]\n"
                                 "struct S;\n"
                                 "const G: &str = env!(\"GREETING\");\n"
                                 "fn main() {\n"
                                 "    let _ = (utils2::helper(), utils2::fast(), hello(), G);\n"
                                 "}\n" },
                { "app/tests.rs", "#[cfg(not(debug_assertions))]\n"
                                  "compile_error!(\"needs debug_assertions\");\n"
                                  "#[test]\n"
                                  "fn works() { assert_eq!(utils2::helper(), 1); }\n" },
        };

        dir = pm_test_mkdtemp();
        cr_assert_not_null(dir);
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char *p = pm_test_strf("%s/%s", dir, files[i].path);
                cr_assert_eq(pm_test_write_file(p, files[i].text), 0);
                pm_free(p);
        }
}

static void
teardown(void)
{
        if (dir)
                cr_expect_eq(pm_test_rmtree(dir), 0);
        pm_free(dir);
        dir = NULL;
}

/* The project with the given util cfg, rename, env and test-crate cfg. */
static char *
project(const char *util_cfg, const char *rename, const char *env, const char *test_cfg)
{
        return pm_test_strf(
                "{\"crates\":["
                "{\"display_name\":\"util\",\"root_module\":\"%1$s/util/lib.rs\","
                "\"edition\":\"2021\",\"deps\":[],\"cfg\":[%2$s],\"is_workspace_member\":true},"
                "{\"display_name\":\"app\",\"root_module\":\"%1$s/app/main.rs\","
                "\"edition\":\"2021\",\"deps\":[{\"crate\":0,\"name\":\"%3$s\"},"
                "{\"crate\":2,\"name\":\"hello_derive\"}],\"env\":{%4$s},"
                "\"is_workspace_member\":true,\"build\":{\"label\":\"//app\","
                "\"build_file\":\"%1$s/app/BUILD.gn\",\"target_kind\":\"bin\"}},"
                "{\"display_name\":\"hello-derive\",\"root_module\":\"%1$s/hello_derive/lib.rs\","
                "\"edition\":\"2018\",\"deps\":[],\"is_proc_macro\":true,"
                "\"is_workspace_member\":true},"
                "{\"display_name\":\"app_tests\",\"root_module\":\"%1$s/app/tests.rs\","
                "\"edition\":\"2024\",\"deps\":[{\"crate\":0,\"name\":\"utils2\"}],"
                "\"cfg\":[%5$s],\"is_workspace_member\":true,\"build\":{\"label\":\"//app:t\","
                "\"build_file\":\"%1$s/app/BUILD.gn\",\"target_kind\":\"test\"}}]}",
                dir, util_cfg, rename, env, test_cfg);
}

#define GOOD_CFG  "\"feature=\\\"fast\\\"\""
#define GOOD_ENV  "\"GREETING\":\"hello\""
#define GOOD_TEST "\"test\",\"debug_assertions\""

static void
expect_failure(char *json, const char *crate)
{
        char *report = NULL;
        int r;

        cr_assert_not_null(json);
        r = pm_test_rustc_check_project(json, dir, &report);
        cr_expect_lt(r, 0, "checked although wrong:\n%s", json);
        cr_expect(report && strstr(report, crate), "report does not name '%s':\n%s", crate,
                  report ? report : "(none)");
        pm_free(report);
        pm_free(json);
}

Test(lib_selftest_rustc_check, correct_project_checks, .init = setup, .fini = teardown,
     .timeout = 120)
{
        char *json = project(GOOD_CFG, "utils2", GOOD_ENV, GOOD_TEST), *report = NULL;
        int r;

        cr_assert_not_null(json);
        r = pm_test_rustc_check_project(json, dir, &report);
        cr_expect_eq(r, 0, "correct project failed:\n%s", report ? report : "");
        pm_free(report);
        pm_free(json);
}

Test(lib_selftest_rustc_check, fails_on_wrong_rename, .init = setup, .fini = teardown,
     .timeout = 120)
{
        expect_failure(project(GOOD_CFG, "util", GOOD_ENV, GOOD_TEST), "crates[1] 'app'");
}

Test(lib_selftest_rustc_check, fails_on_missing_cfg, .init = setup, .fini = teardown,
     .timeout = 120)
{
        expect_failure(project("", "utils2", GOOD_ENV, GOOD_TEST), "crates[1] 'app'");
}

Test(lib_selftest_rustc_check, fails_on_missing_env, .init = setup, .fini = teardown,
     .timeout = 120)
{
        expect_failure(project(GOOD_CFG, "utils2", "", GOOD_TEST), "crates[1] 'app'");
}

Test(lib_selftest_rustc_check, fails_without_debug_assertions, .init = setup, .fini = teardown,
     .timeout = 120)
{
        expect_failure(project(GOOD_CFG, "utils2", GOOD_ENV, "\"test\""), "crates[3] 'app_tests'");
}

Test(lib_selftest_rustc_check, reports_dependents_of_failures, .init = setup, .fini = teardown,
     .timeout = 120)
{
        char *p = pm_test_strf("%s/util/lib.rs", dir);

        cr_assert_eq(pm_test_write_file(p, "pub fn helper() -> u32 { \"not a number\" }\n"), 0);
        pm_free(p);
        expect_failure(project(GOOD_CFG, "utils2", GOOD_ENV, GOOD_TEST),
                       "crates[1] 'app': not checked, dependency crates[0] 'util' failed");
}

Test(lib_selftest_rustc_check, rejects_cycles_and_garbage, .init = setup, .fini = teardown)
{
        char *report = NULL;
        char *cyc = pm_test_strf(
                "{\"crates\":[{\"root_module\":\"%1$s/util/lib.rs\",\"edition\":\"2021\","
                "\"deps\":[{\"crate\":1,\"name\":\"b\"}]},{\"root_module\":\"%1$s/util/lib.rs\","
                "\"edition\":\"2021\",\"deps\":[{\"crate\":0,\"name\":\"a\"}]}]}",
                dir);

        expect_failure(cyc, "dependency cycle");
        cr_expect_lt(pm_test_rustc_check_project("{", dir, &report), 0);
        cr_expect(report && strstr(report, "not valid JSON"));
        pm_free(report);
}
