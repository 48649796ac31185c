/* SPDX-License-Identifier: MIT */
/* Tests for finding the monorepo root and loading .projmodel.json. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "testlib.h"

static char *tmp;

static void
setup(void)
{
        tmp = pm_test_mkdtemp();
        cr_assert_not_null(tmp);
}

static void
teardown(void)
{
        cr_assert_eq(pm_test_rmtree(tmp), 0);
        pm_free(tmp);
}

/* Create @rel (a file; with a trailing '/', a directory) under the temporary tree. */
static void
touch(const char *rel, const char *content)
{
        char *p = pm_test_strf("%s/%s", tmp, rel);
        size_t n = strlen(p);

        if (p[n - 1] == '/') {
                char *f = pm_test_strf("%s.keep", p);

                cr_assert_eq(pm_test_write_file(f, ""), 0);
                pm_free(f);
        } else {
                cr_assert_eq(pm_test_write_file(p, content ? content : ""), 0);
        }
        pm_free(p);
}

static void
expect_root(const char *start_rel, const char *want_rel)
{
        char *start = pm_test_strf("%s/%s", tmp, start_rel);
        char *want = want_rel[0] ? pm_test_strf("%s/%s", tmp, want_rel) : pm_test_strf("%s", tmp);
        struct pm_error err;
        char *root = NULL;

        cr_assert_eq(pm_config_find_root(start, &root, &err), 0, "%s", err.msg);
        cr_assert_str_eq(root, want);
        pm_free(root);
        pm_free(start);
        pm_free(want);
}

TestSuite(common_config, .init = setup, .fini = teardown);

Test(common_config, find_root_nearest_config_wins)
{
        touch(".projmodel.json", "{}");
        touch("a/.projmodel.json", "{}");
        touch("a/b/.gn", "");
        touch("a/b/c/file.rs", "");
        expect_root("a/b/c/file.rs", "a");
        expect_root("a/b/c", "a");
        expect_root("a", "a");
        expect_root("", "");
}

Test(common_config, find_root_nearest_marker)
{
        touch(".gn", "");
        touch("x/WORKSPACE", "");
        touch("x/y/z/", NULL);
        touch("m/MODULE.bazel", "");
        touch("w/WORKSPACE.bazel", "");
        touch("k/.buckconfig", "");
        expect_root("x/y/z", "x");
        expect_root("m", "m");
        expect_root("w", "w");
        expect_root("k", "k");
        expect_root("x", "x");
        expect_root("", "");
}

Test(common_config, find_root_outermost_cargo)
{
        touch("Cargo.toml", "");
        touch("crates/foo/Cargo.toml", "");
        touch("crates/foo/src/lib.rs", "");
        expect_root("crates/foo/src/lib.rs", "");
}

Test(common_config, find_root_marker_beats_cargo)
{
        touch("Cargo.toml", "");
        touch("sub/.buckconfig", "");
        touch("sub/Cargo.toml", "");
        touch("sub/src/", NULL);
        expect_root("sub/src", "sub");
}

Test(common_config, find_root_relative_start)
{
        char *cwd = getcwd(NULL, 0), *root = NULL, *want = pm_test_strf("%s/r", tmp);

        touch("r/.gn", "");
        touch("r/a/", NULL);
        cr_assert_eq(chdir(tmp), 0);
        cr_assert_eq(pm_config_find_root("r/a/../a/.", &root, NULL), 0);
        cr_assert_str_eq(root, want);
        cr_assert_eq(chdir(cwd), 0);
        free(cwd);
        pm_free(root);
        pm_free(want);
}

Test(common_config, find_root_missing_start)
{
        char *start = pm_test_strf("%s/does/not/exist", tmp), *root = NULL;
        struct pm_error err;

        cr_assert_eq(pm_config_find_root(start, &root, &err), -ENOENT);
        cr_assert_null(root);
        cr_assert(strstr(err.msg, start), "%s", err.msg);
        pm_free(start);
}

Test(common_config, find_root_none)
{
        char *start = pm_test_strf("%s/empty", tmp), *root = NULL, *want;
        struct pm_error err;

        touch("empty/", NULL);
        cr_assert_eq(pm_config_find_root(start, &root, &err), PM_ENOROOT);
        cr_assert_null(root);
        want = pm_test_strf("no build system root found above '%s'", start);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
        pm_free(want);
        pm_free(start);
}

Test(common_config, load_without_file)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg->root, tmp);
        cr_assert_null(cfg->file);
        cr_assert_null(cfg->json);
        cr_assert_eq(cfg->n_projects, 1);
        cr_assert_str_eq(cfg->projects[0].rel, ".");
        cr_assert_str_eq(cfg->projects[0].root, tmp);
        cr_assert_null(cfg->projects[0].build_system);
        cr_assert_null(cfg->projects[0].settings);
        cr_assert_str_eq(cfg->rustc, "rustc");
        cr_assert_null(cfg->sysroot);
        cr_assert_eq(cfg->tool_timeout_ms, 600000);
        cr_assert_eq(cfg->max_tool_output, (size_t)1 << 30);
        cr_assert_eq(cfg->debounce_ms, 150);
        cr_assert_eq(cfg->n_watch_exclude, 0);
        cr_assert_null(pm_config_free(cfg));
        cr_assert_null(pm_config_free(NULL));
}

Test(common_config, load_missing_root)
{
        char *root = pm_test_strf("%s/nope", tmp);
        struct pm_config *cfg = NULL;
        struct pm_error err;

        cr_assert_eq(pm_config_load(root, &cfg, &err), -ENOENT);
        cr_assert_null(cfg);
        cr_assert(strstr(err.msg, root), "%s", err.msg);
        pm_free(root);
}

Test(common_config, load_every_key)
{
        struct pm_config *cfg = NULL;
        const struct pm_project *p;
        struct pm_error err;
        char *want;

        touch("svc/", NULL);
        touch("tools/py/", NULL);
        touch(".projmodel.json",
              "{\n"
              "  \"build_system\": \"gn\",\n"
              "  \"gn\": { \"args\": [\"is_debug=true\"], \"out_dir\": \"out/x\" },\n"
              "  \"subprojects\": [\n"
              "    { \"root\": \"svc/\", \"build_system\": \"cargo\", \"cargo\": { \"features\": [] } },\n"
              "    { \"root\": \"./tools/py/../py\" }\n"
              "  ],\n"
              "  \"sysroot\": \"toolchain/rust\",\n"
              "  \"sysroot_src\": \"/opt/rust/src/../library\",\n"
              "  \"rustc\": \"toolchain/bin/rustc\",\n"
              "  \"cache_dir\": \"/var/cache/pm/\",\n"
              "  \"watch_exclude\": [\"out\", \"node_modules\"],\n"
              "  \"tool_timeout_ms\": 1000,\n"
              "  \"max_tool_output\": 4096,\n"
              "  \"debounce_ms\": 20\n"
              "}\n");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        want = pm_test_strf("%s/.projmodel.json", tmp);
        cr_assert_str_eq(cfg->file, want);
        pm_free(want);
        cr_assert_eq(cfg->n_projects, 3);
        cr_assert_str_eq(cfg->projects[0].id, "gn:.");
        cr_assert_str_eq(cfg->projects[0].build_system, "gn");
        cr_assert_not_null(cfg->projects[0].settings);
        cr_assert_str_eq(cJSON_GetObjectItem(cfg->projects[0].settings, "out_dir")->valuestring,
                         "out/x");
        cr_assert_str_eq(cfg->projects[1].rel, "svc");
        cr_assert_str_eq(cfg->projects[1].id, "cargo:svc");
        cr_assert(cJSON_IsArray(cJSON_GetObjectItem(cfg->projects[1].settings, "features")));
        cr_assert_str_eq(cfg->projects[2].rel, "tools/py");
        cr_assert_null(cfg->projects[2].build_system, "detection happens later");
        cr_assert_null(cfg->projects[2].id);
        want = pm_test_strf("%s/tools/py", tmp);
        cr_assert_str_eq(cfg->projects[2].root, want);
        pm_free(want);

        want = pm_test_strf("%s/toolchain/rust", tmp);
        cr_assert_str_eq(cfg->sysroot, want);
        pm_free(want);
        cr_assert_str_eq(cfg->sysroot_src, "/opt/rust/library");
        want = pm_test_strf("%s/toolchain/bin/rustc", tmp);
        cr_assert_str_eq(cfg->rustc, want);
        pm_free(want);
        cr_assert_str_eq(cfg->cache_dir, "/var/cache/pm");
        cr_assert_eq(cfg->n_watch_exclude, 2);
        cr_assert_str_eq(cfg->watch_exclude[1], "node_modules");
        cr_assert_eq(cfg->tool_timeout_ms, 1000);
        cr_assert_eq(cfg->max_tool_output, 4096);
        cr_assert_eq(cfg->debounce_ms, 20);

        want = pm_test_strf("%s/svc/src/main.rs", tmp);
        p = pm_config_project_for_path(cfg, want);
        cr_assert_eq(p, &cfg->projects[1]);
        pm_free(want);
        want = pm_test_strf("%s/svcx/a.rs", tmp);
        cr_assert_eq(pm_config_project_for_path(cfg, want), &cfg->projects[0]);
        pm_free(want);
        cr_assert_null(pm_config_project_for_path(cfg, "/elsewhere/x.rs"));
        cr_assert_eq(pm_config_project(cfg, "cargo:svc"), &cfg->projects[1]);
        cr_assert_null(pm_config_project(cfg, "gn:svc"));
        pm_config_free(cfg);
}

Test(common_config, rustc_name_stays_a_name)
{
        struct pm_config *cfg = NULL;

        touch(".projmodel.json", "{\"rustc\": \"rustc-nightly\"}");
        cr_assert_eq(pm_config_load(tmp, &cfg, NULL), 0);
        cr_assert_str_eq(cfg->rustc, "rustc-nightly");
        pm_config_free(cfg);
}

/* Loading @json must fail with PM_ECONFIG and a message naming the file and holding @want. */
/* @want with its "%s" (if any) replaced by @file. */
static char *
with_file(const char *want, const char *file)
{
        const char *at = strstr(want, "%s");

        if (!at)
                return pm_test_strf("%s", want);
        return pm_test_strf("%.*s%s%s", (int)(at - want), want, file, at + 2);
}

static void
expect_bad(const char *json, const char *want)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char *file = pm_test_strf("%s/.projmodel.json", tmp), *wantf;

        touch(".projmodel.json", json);
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), PM_ECONFIG, "accepted %s", json);
        cr_assert_null(cfg);
        cr_assert(strstr(err.msg, file), "'%s' does not name the file", err.msg);
        wantf = with_file(want, file);
        cr_assert(strstr(err.msg, wantf), "'%s' lacks '%s' (for %s)", err.msg, wantf, json);
        pm_free(wantf);
        pm_free(file);
}

/* @json loads, but resolving its adapter sections fails with @want ("%s" is the file). */
static void
expect_bad_section(const char *json, const char *want)
{
        struct pm_config *cfg = NULL;
        char *file = pm_test_strf("%s/.projmodel.json", tmp), *wantf = with_file(want, file);
        struct pm_error err;

        touch(".projmodel.json", json);
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), PM_ECONFIG, "accepted %s", json);
        cr_assert_str_eq(err.msg, wantf, "for %s", json);
        pm_config_free(cfg);
        pm_free(wantf);
        pm_free(file);
}

Test(common_config, every_section_rejects_unknown_keys_naming_the_nearest)
{
        touch("sub/", NULL);
        expect_bad_section("{\"build_system\": \"gn\", \"gn\": {\"outdir\": \"o\"}}",
                           "unknown key 'gn.outdir' in %s (did you mean 'out_dir'?)");
        expect_bad_section("{\"build_system\": \"bazel\", \"bazel\": {\"comand\": \"b\"}}",
                           "unknown key 'bazel.comand' in %s (did you mean 'command'?)");
        expect_bad_section(
                "{\"build_system\": \"buck2\", \"buck2\": {\"isolation-dir\": \"x\"}}",
                "unknown key 'buck2.isolation-dir' in %s (did you mean 'isolation_dir'?)");
        expect_bad_section("{\"build_system\": \"cargo\", \"cargo\": {\"feature\": []}}",
                           "unknown key 'cargo.feature' in %s (did you mean 'features'?)");
        /* A section of a build system the project does not use is checked all the same. */
        expect_bad_section("{\"build_system\": \"gn\", \"bazel\": {\"flgs\": []}}",
                           "unknown key 'bazel.flgs' in %s (did you mean 'flags'?)");
        /* So is every subproject's, named by its position. */
        expect_bad_section(
                "{\"build_system\": \"gn\", \"subprojects\": [{\"root\": \"sub\","
                " \"build_system\": \"cargo\", \"cargo\": {\"ofline\": true}}]}",
                "unknown key 'subprojects[0].cargo.ofline' in %s (did you mean 'offline'?)");
        /* Nothing near: the valid keys instead. */
        expect_bad_section("{\"build_system\": \"gn\", \"gn\": {\"zzzzzzzz\": 1}}",
                           "unknown key 'gn.zzzzzzzz' in %s (valid keys: 'out_dir', 'gn', 'args', "
                           "'default_edition', 'third_party', 'build_proc_macros')");
        /* The key every section accepts is checked for its type. */
        expect_bad_section(
                "{\"build_system\": \"gn\", \"subprojects\": [{\"root\": \"sub\","
                " \"build_system\": \"cargo\", \"cargo\": {\"build_proc_macros\": 1}}]}",
                "invalid '%s': key 'subprojects[0].cargo.build_proc_macros' must be true "
                "or false");
}

Test(common_config, every_documented_section_key_is_accepted)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        /* The keys docs/configuration.md documents for each section (values are checked later). */
        touch(".projmodel.json",
              "{\"build_system\": \"gn\","
              " \"gn\": {\"out_dir\": 1, \"gn\": 1, \"args\": 1, \"default_edition\": 1,"
              "        \"third_party\": 1},"
              " \"bazel\": {\"command\": 1, \"startup_flags\": 1, \"flags\": 1, \"query\": 1,"
              "           \"default_edition\": 1, \"pattern\": 1, \"output_base\": 1},"
              " \"buck2\": {\"command\": 1, \"args\": 1, \"target_pattern\": 1,"
              "           \"default_edition\": 1, \"isolation_dir\": 1},"
              " \"cargo\": {\"command\": 1, \"features\": 1, \"all_features\": 1, \"offline\": 1,"
              "           \"build_proc_macros\": true}}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        pm_config_free(cfg);
}

Test(common_config, bad_keys)
{
        touch("sub/", NULL);
        expect_bad("{\"build_sytem\": \"gn\"}",
                   "unknown key 'build_sytem' in %s (did you mean 'build_system'?)");
        expect_bad("{\"debounce\": 5}",
                   "unknown key 'debounce' in %s (did you mean 'debounce_ms'?)");
        expect_bad("{\"zzzzzzzz\": 5}",
                   "unknown key 'zzzzzzzz' in %s (valid keys: 'build_system', ");
        expect_bad("{\"build_system\": 3}", "key 'build_system' must be a non-empty string");
        expect_bad("{\"build_system\": \"\"}", "key 'build_system'");
        expect_bad("{\"gn\": []}", "key 'gn' must be an object");
        expect_bad("{\"bazel\": \"x\"}", "key 'bazel' must be an object");
        expect_bad("{\"buck2\": 1}", "key 'buck2'");
        expect_bad("{\"cargo\": null}", "key 'cargo'");
        expect_bad("{\"sysroot\": 1}", "key 'sysroot' must be a non-empty string");
        expect_bad("{\"sysroot_src\": \"\"}", "key 'sysroot_src'");
        expect_bad("{\"rustc\": false}", "key 'rustc'");
        expect_bad("{\"cache_dir\": {}}", "key 'cache_dir'");
        expect_bad("{\"watch_exclude\": \"out\"}", "key 'watch_exclude' must be an array");
        expect_bad("{\"watch_exclude\": [\"out\", 3]}", "key 'watch_exclude'");
        expect_bad("{\"tool_timeout_ms\": 0}", "key 'tool_timeout_ms' must be a positive integer");
        expect_bad("{\"tool_timeout_ms\": -5}", "key 'tool_timeout_ms'");
        expect_bad("{\"tool_timeout_ms\": 1.5}", "key 'tool_timeout_ms'");
        expect_bad("{\"tool_timeout_ms\": \"10\"}", "key 'tool_timeout_ms'");
        expect_bad("{\"tool_timeout_ms\": 1e12}", "key 'tool_timeout_ms' must be at most");
        expect_bad("{\"max_tool_output\": 0}", "key 'max_tool_output'");
        expect_bad("{\"debounce_ms\": true}", "key 'debounce_ms'");
        expect_bad("{\"subprojects\": {}}", "key 'subprojects' must be an array");
        expect_bad("{\"debounce_ms\": 5, \"debounce_ms\": 6}", "duplicate key 'debounce_ms'");
        expect_bad("[]", "the top level must be an object");
}

Test(common_config, bad_subprojects)
{
        touch("sub/", NULL);
        touch("file", "");
        expect_bad("{\"subprojects\": [3]}", "key 'subprojects[0]' must be an object");
        expect_bad("{\"subprojects\": [{}]}", "key 'subprojects[0].root' must be");
        expect_bad("{\"subprojects\": [{\"root\": 1}]}", "key 'subprojects[0].root'");
        expect_bad("{\"subprojects\": [{\"root\": \"/abs\"}]}", "must be relative");
        expect_bad("{\"subprojects\": [{\"root\": \"../x\"}]}", "must name a directory below");
        expect_bad("{\"subprojects\": [{\"root\": \"sub/..\"}]}", "must name a directory below");
        expect_bad("{\"subprojects\": [{\"root\": \"missing\"}]}", "does not exist");
        expect_bad("{\"subprojects\": [{\"root\": \"file\"}]}", "does not exist");
        expect_bad("{\"subprojects\": [{\"root\": \"sub\"}, {\"root\": \"./sub/\"}]}",
                   "'sub' is listed twice");
        expect_bad(
                "{\"subprojects\": [{\"root\": \"sub\", \"bulid_system\": \"gn\"}]}",
                "unknown key 'subprojects[0].bulid_system' in %s (did you mean 'build_system'?)");
        expect_bad("{\"subprojects\": [{\"root\": \"sub\", \"build_system\": 1}]}",
                   "key 'subprojects[0].build_system'");
        expect_bad("{\"subprojects\": [{\"root\": \"sub\", \"gn\": 1}]}",
                   "key 'subprojects[0].gn' must be an object");
}

Test(common_config, json_syntax_error_gives_line)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char *file = pm_test_strf("%s/.projmodel.json", tmp);

        touch(".projmodel.json", "{\n  \"build_system\": \"gn\",\n  \"debounce_ms\": ,\n}\n");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, file), "%s", err.msg);
        cr_assert(strstr(err.msg, "line 3"), "%s", err.msg);
        cr_assert_eq(err.line, 3);
        cr_assert_str_eq(err.file, file);
        pm_free(file);
}

Test(common_config, empty_file_is_a_syntax_error)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        touch(".projmodel.json", "");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "invalid JSON"), "%s", err.msg);
}

Test(common_config, db_path)
{
        struct pm_config *cfg = NULL, *cfg2 = NULL;
        char *p, *p2, *want;
        const char *base;

        touch("a/", NULL);
        touch(".projmodel.json", "{\"cache_dir\": \"/cache\"}");
        cr_assert_eq(pm_config_load(tmp, &cfg, NULL), 0);
        p = pm_config_db_path(cfg);
        base = strrchr(tmp, '/') + 1;
        want = pm_test_strf("/cache/%s-", base);
        cr_assert(strncmp(p, want, strlen(want)) == 0, "%s", p);
        cr_assert_eq(strlen(p), strlen(want) + 16 + 3, "%s", p);
        cr_assert_str_eq(p + strlen(p) - 3, ".db");
        pm_free(want);

        cr_assert_eq(setenv("XDG_CACHE_HOME", "/xdg", 1), 0);
        want = pm_test_strf("%s/a", tmp);
        cr_assert_eq(pm_config_load(want, &cfg2, NULL), 0);
        p2 = pm_config_db_path(cfg2);
        cr_assert(strncmp(p2, "/xdg/projmodel/a-", 17) == 0, "no cache_dir key: %s", p2);
        pm_free(p2);
        pm_free(want);
        pm_config_free(cfg2);

        /* Same root, same name; the hash part is stable. */
        p2 = pm_config_db_path(cfg);
        cr_assert_str_eq(p, p2);
        pm_free(p2);
        pm_free(p);
        pm_config_free(cfg);
}

Test(common_config, default_cache_dir)
{
        char *d;

        cr_assert_eq(setenv("XDG_CACHE_HOME", "/xdg/cache", 1), 0);
        d = pm_config_default_cache_dir();
        cr_assert_str_eq(d, "/xdg/cache/projmodel");
        pm_free(d);
        cr_assert_eq(setenv("XDG_CACHE_HOME", "relative", 1), 0);
        cr_assert_eq(setenv("HOME", "/home/u", 1), 0);
        d = pm_config_default_cache_dir();
        cr_assert_str_eq(d, "/home/u/.cache/projmodel");
        pm_free(d);
        cr_assert_eq(unsetenv("XDG_CACHE_HOME"), 0);
        d = pm_config_default_cache_dir();
        cr_assert_str_eq(d, "/home/u/.cache/projmodel");
        pm_free(d);
}

Test(common_config, db_path_uses_default_and_differs_per_root)
{
        struct pm_config *a = NULL, *b = NULL;
        char *pa, *pb, *dir;

        touch("x/one/", NULL);
        touch("y/one/", NULL);
        cr_assert_eq(setenv("XDG_CACHE_HOME", "/xdg", 1), 0);
        dir = pm_test_strf("%s/x/one", tmp);
        cr_assert_eq(pm_config_load(dir, &a, NULL), 0);
        pm_free(dir);
        dir = pm_test_strf("%s/y/one", tmp);
        cr_assert_eq(pm_config_load(dir, &b, NULL), 0);
        pm_free(dir);
        pa = pm_config_db_path(a);
        pb = pm_config_db_path(b);
        cr_assert(strncmp(pa, "/xdg/projmodel/one-", 19) == 0, "%s", pa);
        cr_assert(strncmp(pb, "/xdg/projmodel/one-", 19) == 0, "%s", pb);
        cr_assert_str_neq(pa, pb);
        pm_free(pa);
        pm_free(pb);
        pm_config_free(a);
        pm_config_free(b);
}

Test(common_config, section_getters)
{
        struct pm_config *cfg = NULL;
        const cJSON *gn;
        const char *s, **v;
        struct pm_error err;
        size_t n;

        touch(".projmodel.json",
              "{\"gn\": {\"out\": \"o\", \"num\": 3, \"args\": [\"a\", \"b\"], \"bad\": [1]}}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        gn = cJSON_GetObjectItem(cfg->json, "gn");
        cr_assert_eq(pm_config_get_string(cfg, gn, "out", "d", &s, &err), 0);
        cr_assert_str_eq(s, "o");
        cr_assert_eq(pm_config_get_string(cfg, gn, "missing", "d", &s, &err), 0);
        cr_assert_str_eq(s, "d");
        cr_assert_eq(pm_config_get_string(cfg, NULL, "out", "d", &s, &err), 0);
        cr_assert_str_eq(s, "d");
        cr_assert_eq(pm_config_get_string(cfg, gn, "num", "d", &s, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "key 'gn.num' must be a string"), "%s", err.msg);
        cr_assert(strstr(err.msg, cfg->file), "%s", err.msg);

        cr_assert_eq(pm_config_get_strv(cfg, gn, "args", &v, &n, &err), 0);
        cr_assert_eq(n, 2);
        cr_assert_str_eq(v[1], "b");
        cr_assert_null(v[2]);
        pm_free(v);
        cr_assert_eq(pm_config_get_strv(cfg, gn, "missing", &v, &n, &err), 0);
        cr_assert_eq(n, 0);
        cr_assert_null(v[0]);
        pm_free(v);
        cr_assert_eq(pm_config_get_strv(cfg, gn, "bad", &v, &n, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "key 'gn.bad'"), "%s", err.msg);
        cr_assert_eq(pm_config_get_strv(cfg, gn, "out", &v, &n, &err), PM_ECONFIG);
        pm_config_free(cfg);
}

Test(common_config, load_oom_does_not_leak)
{
        struct pm_config *cfg = NULL;
        int r;

        touch("sub/", NULL);
        touch(".projmodel.json",
              "{\"build_system\": \"gn\", \"sysroot\": \"s\", \"watch_exclude\": [\"a\"],"
              " \"subprojects\": [{\"root\": \"sub\", \"build_system\": \"cargo\"}]}");
        for (unsigned long n = 1; n < 1000; n++) {
                pm_mem_fail_at(n);
                r = pm_config_load(tmp, &cfg, NULL);
                pm_mem_fail_at(0);
                if (r == 0)
                        break;
                cr_assert_null(cfg);
                cr_assert(r == -ENOMEM || r == PM_ECONFIG, "n=%lu r=%d", n, r);
        }
        cr_assert_eq(r, 0);
        cr_assert_eq(cfg->n_projects, 2);
        pm_config_free(cfg);
}
