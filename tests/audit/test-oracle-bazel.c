/* SPDX-License-Identifier: MIT */
/* The compiler as the oracle on the Bazel trees (oracle-tree.c): the crate graph the real bazel
 * gives for tests/bazel/ws/basic and examples/bazel-monorepo, each crate compiled by rustc with
 * -D unsafe_code in dependency order, its unsafe_code errors the audit's sites. One test per tree
 * (each starts a Bazel server on its own output base and shuts it down), apart from the other
 * oracle tests so that Meson runs them beside the rest. */
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "oracle-tree.h"
#include "testlib.h"

/*
 * Copy tests/bazel/ws/ext beside @fixture_rel's copy when @with_ext (ws/basic's WORKSPACE names
 * it as ../ext), give the copy's .projmodel.json (its own, if it has one) an output base in the
 * temporary directory, export (which builds what the crates need: build scripts' cfgs, env and
 * OUT_DIR, docs/configuration.md) and audit it, shut Bazel down, and compare. Returns the number of
 * crates; *@ret_sites and *@ret_test_sites as pm_oracle_compare_tree().
 */
static size_t
bazel_tree(const char *fixture_rel, bool with_ext, const struct pm_oracle_stub *stubs,
           size_t n_stubs, size_t *ret_sites, size_t *ret_test_sites)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *ob = pm_test_strf("%s/ob", tmp), *out_dir = pm_test_strf("%s/out", tmp);
        char *src = pm_test_strf("%s/%s", pm_test_source_root(), fixture_rel);
        char *cfg_path = pm_test_strf("%s/.projmodel.json", ws), *ob_arg, *cfg_text, *text;
        char *err = NULL;
        const char *shutdown[] = { "bazel", NULL, "shutdown", NULL };
        cJSON *cfg, *bazel, *audit, *project;
        size_t n;
        int status;

        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        if (with_ext) {
                char *ext_src = pm_test_strf("%s/tests/bazel/ws/ext", pm_test_source_root());
                char *ext = pm_test_strf("%s/ext", tmp);

                cr_assert_eq(pm_test_copy_tree(ext_src, ext), 0);
                pm_free(ext);
                pm_free(ext_src);
        }
        cfg_text = access(cfg_path, F_OK) == 0 ? pm_test_read_file(cfg_path) : pm_strdup("{}");
        cfg = cJSON_Parse(cfg_text);
        cr_assert(cJSON_IsObject(cfg), "%s", cfg_text);
        bazel = cJSON_GetObjectItem(cfg, "bazel");
        if (!bazel)
                bazel = cJSON_AddObjectToObject(cfg, "bazel");
        cr_assert_not_null(cJSON_AddStringToObject(bazel, "output_base", ob));
        text = cJSON_Print(cfg);
        cr_assert_eq(pm_test_write_file(cfg_path, text), 0);

        status = pm_oracle_model(ws, tmp, NULL, &audit, &project, &err);
        /* Before any assertion: no JVM outlives the test (tests/bazel/bazel-test.c does the
         * same). */
        ob_arg = pm_test_strf("--output_base=%s", ob);
        shutdown[1] = ob_arg;
        if (access(ob, F_OK) == 0)
                (void)pm_test_run(shutdown, ws, NULL, NULL, NULL, NULL);
        cr_assert_eq(status, 0, "projmodel on %s: %s", fixture_rel, err);
        n = pm_oracle_compare_tree(ws, out_dir, audit, project, stubs, n_stubs, ret_sites,
                                   ret_test_sites);
        cJSON_Delete(audit);
        cJSON_Delete(project);
        cJSON_Delete(cfg);
        cJSON_free(text);
        (void)pm_test_rmtree(tmp);
        pm_free(err);
        pm_free(ob_arg);
        pm_free(cfg_text);
        pm_free(cfg_path);
        pm_free(src);
        pm_free(out_dir);
        pm_free(ob);
        pm_free(ws);
        pm_free(tmp);
        return n;
}

/* tests/bazel/ws/basic: a graph fixture whose sources are mostly empty files; two binaries do
 * not compile on their own, having no main, and are compared all the same (the unsafe_code lint
 * runs before rustc looks for main). Its external repository @ext (tests/bazel/ws/ext) is
 * compiled from the output base, where Bazel put it. */
Test(audit_oracle_bazel, bazel_test_workspace_agrees_with_rustc)
{
        static const struct pm_oracle_stub stubs[] = {
                { "//app:app", "E0601", "app/src/main.rs is an empty stub, no fn main" },
                { "//app:tool", "E0601", "app/src/tool_main.rs is an empty stub, no fn main" },
        };
        size_t sites = 0, test_sites = 0, n;

        cr_assert(pm_test_have("bazel") && pm_test_have("rustc"),
                  "bazel and rustc are needed (see scripts/setup.sh)");
        n = bazel_tree("tests/bazel/ws/basic", true, stubs, sizeof(stubs) / sizeof(stubs[0]),
                       &sites, &test_sites);
        cr_assert_eq(n, 10, "tests/bazel/ws/basic has 10 crates, %zu compared", n);
        cr_assert_eq(sites, 0, "no unsafe code in tests/bazel/ws/basic");
        cr_assert_eq(test_sites, 0, "no unsafe code in tests/bazel/ws/basic's tests");
}

/* examples/bazel-monorepo: every crate compiles, the build script's cfg and environment
 * (lib/build_info) and the vendored @vendored_fnv from the output base included. */
Test(audit_oracle_bazel, bazel_example_agrees_with_rustc)
{
        size_t sites = 0, test_sites = 0, n;

        cr_assert(pm_test_have("bazel") && pm_test_have("rustc"),
                  "bazel and rustc are needed (see scripts/setup.sh)");
        n = bazel_tree("examples/bazel-monorepo", false, NULL, 0, &sites, &test_sites);
        cr_assert_eq(n, 8, "examples/bazel-monorepo has 8 crates, %zu compared", n);
        cr_assert_eq(sites, 0, "no unsafe code in examples/bazel-monorepo");
        cr_assert_eq(test_sites, 0, "no unsafe code in examples/bazel-monorepo's tests");
}
