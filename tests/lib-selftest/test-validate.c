/* SPDX-License-Identifier: MIT */
/* Self-tests of the strict validator: it accepts a correct project and rejects each violation. */
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "testlib.h"
#include "validate.h"

static char *dir;

/* A tree with every file and directory the good project names. */
static void
setup(void)
{
        static const char *const files[] = {
                "a/src/lib.rs", "a/BUILD.gn", "m/lib.rs",          "m/libmac.so",
                "b/main.rs",    "b/BUILD.gn", "sysroot/bin/rustc", NULL,
        };

        dir = pm_test_mkdtemp();
        cr_assert_not_null(dir);
        for (size_t i = 0; files[i]; i++) {
                char *p = pm_test_strf("%s/%s", dir, files[i]);
                cr_assert_eq(pm_test_write_file(p, "\n"), 0, "cannot write '%s'", p);
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

/* The reference project: every optional field used once, all of it valid. */
static char *
good_json(void)
{
        return pm_test_strf(
                "{\"sysroot\":\"%1$s/sysroot\","
                "\"sysroot_src\":\"%1$s/sysroot/lib/rustlib/src/rust/library\","
                "\"cfg_groups\":{\"g\":[\"feature=\\\"g\\\"\",\"unix\"]},"
                "\"crates\":["
                "{\"display_name\":\"alpha-core\",\"root_module\":\"%1$s/a/src/lib.rs\","
                "\"edition\":\"2021\",\"version\":\"1.2.3-rc.1+build.5\",\"deps\":[],"
                "\"cfg_groups\":[\"g\"],\"cfg\":[\"feature=\\\"x\\\"\",\"debug_assertions\"],"
                "\"target\":\"x86_64-unknown-linux-gnu\",\"env\":{\"OUT_DIR\":\"%1$s/a\"},"
                "\"crate_attrs\":[\"no_std\"],\"is_proc_macro\":false,"
                "\"is_workspace_member\":true,"
                "\"source\":{\"include_dirs\":[\"%1$s/a\"],\"exclude_dirs\":[\"%1$s/a/target\"]},"
                "\"repository\":\"https://example.org/a\","
                "\"build\":{\"label\":\"//a:alpha\",\"build_file\":\"%1$s/a/BUILD.gn\","
                "\"target_kind\":\"lib\"},\"proc_macro_cwd\":\"%1$s\"},"
                "{\"display_name\":\"mac\",\"root_module\":\"%1$s/m/lib.rs\",\"edition\":\"2018\","
                "\"deps\":[],\"is_proc_macro\":true,"
                "\"proc_macro_dylib_path\":\"%1$s/m/libmac.so\",\"is_workspace_member\":false},"
                "{\"display_name\":\"beta\",\"root_module\":\"%1$s/b/main.rs\","
                "\"edition\":\"2024\",\"deps\":[{\"crate\":0,\"name\":\"alpha\"},"
                "{\"crate\":1,\"name\":\"mac\"}],\"is_workspace_member\":true,"
                "\"build\":{\"label\":\"//b:beta\",\"build_file\":\"%1$s/b/BUILD.gn\","
                "\"target_kind\":\"bin\"}}],"
                "\"runnables\":[{\"program\":\"ninja\",\"args\":[\"-C\",\"out\",\"{label}\"],"
                "\"cwd\":\"%1$s\",\"kind\":\"flycheck\"}]}",
                dir);
}

/* @s with every "@D" replaced by the temp dir, pm_malloc'd. */
static char *
subst_dir(const char *s)
{
        size_t dlen = strlen(dir), n = 0;
        char *out, *o;

        for (const char *p = strstr(s, "@D"); p; p = strstr(p + 2, "@D"))
                n++;
        out = pm_malloc(strlen(s) + n * dlen + 1);
        cr_assert_not_null(out);
        o = out;
        while (*s) {
                if (s[0] == '@' && s[1] == 'D') {
                        memcpy(o, dir, dlen);
                        o += dlen;
                        s += 2;
                } else {
                        *o++ = *s++;
                }
        }
        *o = '\0';
        return out;
}

/*
 * Apply one edit to @root: @path is '/'-separated object keys and array indices; the last
 * component is set to @value (JSON text, "@D" replaced by the temp dir) or deleted if NULL.
 */
static void
apply_edit(cJSON *root, const char *path, const char *value)
{
        char *copy = pm_strdup(path), *save = NULL, *comp, *next;
        cJSON *cur = root, *val = NULL;

        cr_assert_not_null(copy);
        comp = strtok_r(copy, "/", &save);
        while (comp) {
                bool is_index = comp[0] >= '0' && comp[0] <= '9';
                long idx = is_index ? strtol(comp, NULL, 10) : -1;

                next = strtok_r(NULL, "/", &save);
                if (!next) {
                        if (value) {
                                char *text = subst_dir(value);
                                val = cJSON_Parse(text);
                                cr_assert_not_null(val, "bad test value '%s'", text);
                                pm_free(text);
                        }
                        if (is_index && val && idx == cJSON_GetArraySize(cur))
                                cr_assert(cJSON_AddItemToArray(cur, val)); /* append */
                        else if (is_index && val)
                                cr_assert(cJSON_ReplaceItemInArray(cur, (int)idx, val));
                        else if (is_index)
                                cJSON_DeleteItemFromArray(cur, (int)idx);
                        else if (val && cJSON_GetObjectItemCaseSensitive(cur, comp))
                                cr_assert(cJSON_ReplaceItemInObjectCaseSensitive(cur, comp, val));
                        else if (val)
                                cr_assert(cJSON_AddItemToObject(cur, comp, val));
                        else
                                cJSON_DeleteItemFromObjectCaseSensitive(cur, comp);
                        break;
                }
                cur = is_index ? cJSON_GetArrayItem(cur, (int)idx)
                               : cJSON_GetObjectItemCaseSensitive(cur, comp);
                cr_assert_not_null(cur, "no '%s' in test path '%s'", comp, path);
                comp = next;
        }
        pm_free(copy);
}

/* One violation: an edit of the good project and a phrase the report must contain. */
struct vcase {
        const char *path;
        const char *value; /* JSON, NULL deletes */
        const char *expect;
};

static const struct vcase cases[] = {
        { "bogus", "1", "(top level): unknown key 'bogus'" },
        { "cfg_groups", "null", "cfg_groups: expected an object, got null" },
        { "runnables", "null", "runnables: expected an array, got null" },
        { "sysroot", "\"@D/nosuch\"", "sysroot: '" },
        { "sysroot", "\"sysroot\"", "sysroot: path 'sysroot' is not absolute" },
        { "sysroot_src", NULL, "sysroot: given without 'sysroot_src'" },
        { "sysroot_project", "[]", "sysroot_project: expected an object" },
        { "crates", NULL, "missing required 'crates'" },
        { "crates", "{}", "crates: expected an array" },
        { "crates/0", "null", "crates[0]: expected a crate object" },
        { "crates/0/bogus", "true", "crates[0]: unknown key 'bogus'" },
        { "crates/0/root_module", NULL, "crates[0]: missing required 'root_module'" },
        { "crates/0/root_module", "\"a/src/lib.rs\"", "not absolute" },
        { "crates/0/root_module", "\"@D/a/src/../src/lib.rs\"", "is not normalised" },
        { "crates/0/root_module", "\"@D/a/src/nope.rs\"", "does not exist" },
        { "crates/0/root_module", "\"@D/a/src\"", "is not a regular file" },
        { "crates/0/root_module", "\"@D/a/BUILD.gn\"", "is not a .rs file" },
        { "crates/0/root_module", "null", "root_module: expected a string, got null" },
        { "crates/0/edition", NULL, "missing required 'edition'" },
        { "crates/0/edition", "\"2020\"", "'2020' is not one of" },
        { "crates/0/edition", "2021", "edition: expected a string, got a number" },
        { "crates/0/version", "\"1.2\"", "'1.2' is not full semver" },
        { "crates/0/version", "\"01.2.3\"", "is not full semver" },
        { "crates/0/version", "\"1.2.3-\"", "is not full semver" },
        { "crates/0/version", "null", "version: expected a string, got null" },
        { "crates/0/display_name", "null", "display_name: expected a string, got null" },
        { "crates/0/display_name", "\"a b\"", "does not give a valid crate name" },
        { "crates/0/deps", NULL, "crates[0]: missing required 'deps'" },
        { "crates/0/deps", "null", "deps: expected an array" },
        { "crates/2/deps/0/crate", "5", "index 5 is not an integer in [0, 3)" },
        { "crates/2/deps/0/crate", "-1", "is not an integer in" },
        { "crates/2/deps/0/crate", "0.5", "is not an integer in" },
        { "crates/2/deps/0/crate", "\"0\"", "expected an integer index, got a string" },
        { "crates/2/deps/0/crate", "2", "crate depends on itself" },
        { "crates/2/deps/0/crate", NULL, "missing required 'crate'" },
        { "crates/2/deps/0/name", NULL, "missing required 'name'" },
        { "crates/2/deps/0/name", "\"alpha-core\"", "contains '-'" },
        { "crates/2/deps/0/name", "\"9lives\"", "not an identifier" },
        { "crates/2/deps/0/name", "\"crate\"", "not an identifier" },
        { "crates/2/deps/0/extra", "1", "deps[0]: unknown key 'extra'" },
        { "crates/2/deps/1/name", "\"alpha\"", "dependency name 'alpha' is used twice" },
        { "crates/0/deps", "[{\"crate\":2,\"name\":\"beta\"}]", "dependency cycle" },
        { "crates/0/cfg", "[\"feature=x\"]", "value should be in double quotes" },
        { "crates/0/cfg", "[\"feature = \\\"x\\\"\"]", "has an invalid key" },
        { "crates/0/cfg", "[\"feature=\\\"x\"]", "value should be in double quotes" },
        { "crates/0/cfg", "[\"\"]", "is not an identifier" },
        { "crates/0/cfg", "[1]", "cfg[0]: expected a string" },
        { "crates/0/cfg", "null", "cfg: expected an array" },
        { "cfg_groups/g", "[\"bad=x\"]", "cfg_groups.g[0]: cfg 'bad=x'" },
        { "crates/0/cfg_groups", "[\"nope\"]", "no top-level cfg group 'nope'" },
        { "crates/0/cfg_groups", "null", "cfg_groups: expected an array" },
        { "crates/0/env", "{\"K\":1}", "env.K: expected a string, got a number" },
        { "crates/0/env", "{\"K\":null}", "env.K: expected a string, got null" },
        { "crates/0/env", "null", "env: expected an object" },
        { "crates/0/target", "\"\"", "is not a target triple" },
        { "crates/0/crate_attrs", "[\"#![no_std]\"]", "must not include the #![...]" },
        { "crates/0/source/include_dirs", NULL, "missing required 'include_dirs'" },
        { "crates/0/source/exclude_dirs", NULL, "missing required 'exclude_dirs'" },
        { "crates/0/source/include_dirs", "[\"@D/b\"]", "is under none of include_dirs" },
        { "crates/0/source/include_dirs", "[\"a\",\"@D/a\"]", "include_dirs[0]: path 'a'" },
        { "crates/0/source/include_dirs", "[\"@D/zz\",\"@D/a\"]", "does not exist" },
        { "crates/0/source/include_dirs", "[]", "empty" },
        { "crates/0/source/exclude_dirs", "[\"@D/a/src\"]", "excludes root_module" },
        { "crates/0/source/exclude_dirs", "null", "exclude_dirs: expected an array" },
        { "crates/0/source/extra", "[]", "source: unknown key 'extra'" },
        { "crates/0/source", "null", "source: expected an object" },
        { "crates/0/build/target_kind", "\"library\"", "is not one of bin, lib, test" },
        { "crates/0/build/target_kind", NULL, "missing required 'target_kind'" },
        { "crates/0/build/label", NULL, "missing required 'label'" },
        { "crates/0/build/build_file", "\"BUILD.gn\"", "is not absolute" },
        { "crates/0/build/build_file", "\"@D/a/NOPE.gn\"", "does not exist" },
        { "crates/0/build", "null", "build: expected an object" },
        { "crates/0/is_proc_macro", "\"yes\"", "is_proc_macro: expected a boolean" },
        { "crates/0/is_proc_macro", "null", "is_proc_macro: expected a boolean, got null" },
        { "crates/0/proc_macro_dylib_path", "\"@D/m/libmac.so\"",
          "given but is_proc_macro is not true" },
        { "crates/1/proc_macro_dylib_path", "\"@D/m/nope.so\"", "does not exist" },
        { "crates/1/proc_macro_dylib_path", "\"libmac.so\"", "is not absolute" },
        { "crates/0/is_workspace_member", NULL, "missing 'is_workspace_member'" },
        { "crates/0/is_workspace_member", "\"true\"", "expected a boolean" },
        { "crates/0/proc_macro_cwd", "\"@D/nope\"", "does not exist" },
        { "crates/0/repository", "null", "repository: expected a string" },
        { "crates/1/display_name", "\"std\"", "sysroot crate 'std' listed" },
        { "crates/1/display_name", "\"core\"", "sysroot crate 'core' listed" },
        { "crates/2/deps/0/name", "\"alloc\"", "'alloc' is a sysroot crate" },
        { "runnables/0/kind", "\"runAll\"", "unknown kind 'runAll'" },
        { "runnables/0/cwd", "\"out\"", "is not absolute" },
        { "runnables/0/args", NULL, "missing required 'args'" },
        { "runnables/0/program", "null", "program: expected a string" },
        { "runnables/0/program", "\"bin/projmodel\"", "is a relative path" },
        { "runnables/0/program", "\"@D/nope/projmodel\"", "is not an executable file" },
        { "runnables/0/kind", "\"testMod\"", "rejected by rust-analyzer before 2026" },
        { "runnables/0/kind", "\"test_one\"", "unknown kind 'test_one'" },
        { "runnables/0/args", "[\"{test_id}\"]", "placeholder '{test_id}' is not filled" },
        { "runnables/1",
          "{\"program\":\"ninja\",\"args\":[],\"cwd\":\"@D\","
          "\"kind\":\"flycheck\"}",
          "second 'flycheck' runnable" },
        { "runnables/1",
          "{\"program\":\"x\",\"args\":[\"{label}{saved_file}\"],"
          "\"cwd\":\"@D\",\"kind\":\"flycheck\"}",
          "only the first placeholder" },
};

Test(lib_selftest_validate, accepts_the_reference_project, .init = setup, .fini = teardown)
{
        char *json = good_json(), *errors = NULL;
        int r;

        r = pm_test_validate_project(json, strlen(json), &errors);
        cr_expect_eq(r, 0, "reference project rejected:\n%s", errors ? errors : "");
        pm_free(errors);
        pm_free(json);
}

Test(lib_selftest_validate, accepts_minimal_and_null_sysroot)
{
        static const char *const ok[] = {
                "{\"crates\":[]}",
                "  {\"crates\":[],\"sysroot\":null,\"sysroot_src\":null,"
                "\"sysroot_project\":null}\n",
        };

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                char *errors = NULL;
                int r = pm_test_validate_project(ok[i], strlen(ok[i]), &errors);

                cr_expect_eq(r, 0, "'%s' rejected:\n%s", ok[i], errors ? errors : "");
                pm_free(errors);
        }
}

Test(lib_selftest_validate, rejects_each_violation, .init = setup, .fini = teardown)
{
        char *good = good_json();

        cr_assert_not_null(good);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cJSON *root = cJSON_Parse(good);
                char *text, *errors = NULL;
                int r;

                cr_assert_not_null(root);
                apply_edit(root, cases[i].path, cases[i].value);
                text = cJSON_PrintUnformatted(root);
                cr_assert_not_null(text);
                r = pm_test_validate_project(text, strlen(text), &errors);
                cr_expect_lt(r, 0, "case %zu (%s = %s) accepted", i, cases[i].path,
                             cases[i].value ? cases[i].value : "<deleted>");
                if (r < 0) {
                        cr_assert_not_null(errors);
                        cr_expect(strstr(errors, cases[i].expect) != NULL,
                                  "case %zu (%s): report lacks '%s':\n%s", i, cases[i].path,
                                  cases[i].expect, errors);
                }
                pm_free(errors);
                cJSON_free(text);
                cJSON_Delete(root);
        }
        pm_free(good);
}

/* Violations that only raw text can express. */
Test(lib_selftest_validate, rejects_bad_documents)
{
        static const struct {
                const char *json;
                const char *expect;
        } bad[] = {
                { "", "not valid JSON" },
                { "{\"crates\":[]", "not valid JSON" },
                { "{\"crates\":[]} x", "trailing data" },
                { "{\"crates\":[],\"crates\":[]}", "duplicate key 'crates'" },
                { "[]", "expected an object, got an array" },
                { "{}", "missing required 'crates'" },
                { "{\"crates\":[],\"sysroot_src\":\"/x\",\"sysroot\":null,\"cfg_groups\":{\"a\":[],"
                  "\"a\":[]}}",
                  "cfg_groups: duplicate key 'a'" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *errors = NULL;
                int r = pm_test_validate_project(bad[i].json, strlen(bad[i].json), &errors);

                cr_expect_lt(r, 0, "'%s' accepted", bad[i].json);
                if (r < 0)
                        cr_expect(errors && strstr(errors, bad[i].expect),
                                  "'%s': report lacks '%s':\n%s", bad[i].json, bad[i].expect,
                                  errors ? errors : "(none)");
                pm_free(errors);
        }
}

Test(lib_selftest_validate, length_is_respected)
{
        const char *json = "{\"crates\":[]}garbage";

        cr_expect_eq(pm_test_validate_project(json, strlen("{\"crates\":[]}"), NULL), 0);
        cr_expect_lt(pm_test_validate_project(json, strlen(json), NULL), 0);
}

static char *
finished_line(const char *project)
{
        return pm_test_strf(
                "{\"kind\":\"finished\",\"buildfile\":\"%s/b/BUILD.gn\",\"project\":%s}", dir,
                project);
}

Test(lib_selftest_validate, accepts_good_discover_output, .init = setup, .fini = teardown)
{
        char *good = good_json();
        cJSON *root = cJSON_Parse(good);
        char *compact = cJSON_PrintUnformatted(root);
        char *fin = finished_line(compact);
        char *out =
                pm_test_strf("{\"kind\":\"progress\",\"message\":\"loading graph\"}\n%s\n", fin);
        const char *err_only = "{\"kind\":\"error\",\"error\":\"no crate owns '/x.rs'\","
                               "\"source\":null}\n";
        char *errors = NULL;

        cr_expect_eq(pm_test_validate_discover_output(out, &errors), 0, "rejected:\n%s",
                     errors ? errors : "");
        pm_free(errors);
        errors = NULL;
        cr_expect_eq(pm_test_validate_discover_output(err_only, &errors), 0, "rejected:\n%s",
                     errors ? errors : "");
        pm_free(errors);
        pm_free(out);
        pm_free(fin);
        cJSON_free(compact);
        cJSON_Delete(root);
        pm_free(good);
}

Test(lib_selftest_validate, rejects_bad_discover_output, .init = setup, .fini = teardown)
{
        const char *prog = "{\"kind\":\"progress\",\"message\":\"m\"}";
        const char *errl = "{\"kind\":\"error\",\"error\":\"e\"}";
        char *fin = finished_line("{\"crates\":[]}");
        char *bad_project = finished_line("{\"crates\":[{\"root_module\":\"/nonexistent/x.rs\","
                                          "\"edition\":\"2020\",\"deps\":[]}]}");

        struct {
                char *out;
                const char *expect;
        } bad[] = {
                { pm_test_strf("%s", ""), "empty" },
                { pm_test_strf("%s\n\n%s\n", prog, fin), "line 2: blank line" },
                { pm_test_strf("%s\n%s", prog, fin), "line 2: not terminated by a newline" },
                { pm_test_strf("{\"kind\": \"progress\",\"message\":\"m\"}\n%s\n", fin),
                  "line 1: not compact" },
                { pm_test_strf("{\"kind\":\"progress\",\n\"message\":\"m\"}\n%s\n", fin),
                  "line 1: not valid JSON" },
                { pm_test_strf("%s\n%s\n", fin, fin), "2 terminal messages" },
                { pm_test_strf("%s\n%s\n", fin, prog), "is not the last line" },
                { pm_test_strf("%s\n", prog), "no terminal message" },
                { pm_test_strf("{\"kind\":\"done\"}\n%s\n", fin), "unknown kind 'done'" },
                { pm_test_strf("{\"message\":\"m\"}\n%s\n", fin), "missing string 'kind'" },
                { pm_test_strf("{\"kind\":\"progress\"}\n%s\n", fin), "progress without" },
                { pm_test_strf("{\"kind\":\"error\"}\n"), "error without 'error'" },
                { pm_test_strf("{\"kind\":\"error\",\"error\":\"e\",\"source\":3}\n"),
                  "source: expected a string" },
                { pm_test_strf("not json\n%s\n", errl), "line 1: not valid JSON" },
                { pm_test_strf("[1]\n%s\n", errl), "expected a JSON object" },
                { pm_test_strf("{\"kind\":\"finished\",\"buildfile\":\"b/BUILD.gn\","
                               "\"project\":{\"crates\":[]}}\n"),
                  "buildfile: path 'b/BUILD.gn' is not absolute" },
                { pm_test_strf("{\"kind\":\"finished\",\"buildfile\":\"%s/b/../b/BUILD.gn\","
                               "\"project\":{\"crates\":[]}}\n",
                               dir),
                  "is not normalised" },
                { pm_test_strf("{\"kind\":\"finished\",\"buildfile\":\"%s/b/BUILD.gn\"}\n", dir),
                  "finished without 'project'" },
                { pm_test_strf("%s\n", bad_project), "line 1: project.crates[0].edition" },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char *errors = NULL;
                int r;

                cr_assert_not_null(bad[i].out);
                r = pm_test_validate_discover_output(bad[i].out, &errors);
                cr_expect_lt(r, 0, "case %zu accepted:\n%s", i, bad[i].out);
                if (r < 0)
                        cr_expect(errors && strstr(errors, bad[i].expect),
                                  "case %zu: report lacks '%s':\n%s", i, bad[i].expect,
                                  errors ? errors : "(none)");
                pm_free(errors);
                pm_free(bad[i].out);
        }
        pm_free(fin);
        pm_free(bad_project);
}
