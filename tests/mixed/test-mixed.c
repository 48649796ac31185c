/* SPDX-License-Identifier: MIT */
/* One model for several build systems, through the projmodel command: a GN root with a Cargo
 * subproject (examples/mixed-monorepo, real gn and cargo), and Buck2 and Cargo captured output
 * through `export --query-output`, including bad output that must leave the model alone. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

struct fx {
        char *root;
        char *db;
        char *env_cache; /* "XDG_CACHE_HOME=...": nothing may land in the user's cache */
};

static void
fx_init(struct fx *fx, const char *example_rel)
{
        char *src = pm_test_strf("%s/%s", pm_test_source_root(), example_rel);

        memset(fx, 0, sizeof(*fx));
        fx->root = pm_test_mkdtemp();
        cr_assert_not_null(fx->root);
        cr_assert_eq(pm_test_copy_tree(src, fx->root), 0);
        fx->db = pm_test_strf("%s/.model.db", fx->root);
        fx->env_cache = pm_test_strf("XDG_CACHE_HOME=%s/.cache", fx->root);
        pm_free(src);
}

static void
fx_release(struct fx *fx)
{
        (void)pm_test_rmtree(fx->root);
        pm_free(fx->root);
        pm_free(fx->db);
        pm_free(fx->env_cache);
}

/* Run `projmodel CMD --root R --db D ARGS...`; returns the exit status. */
static int
pm(const struct fx *fx, const char *cmd, const char *const *args, char **ret_out, char **ret_err)
{
        const char *argv[16] = { pm_test_projmodel(), cmd, "--root", fx->root, "--db", fx->db };
        const char *env[] = { fx->env_cache, NULL };
        size_t n = 6;

        for (; args && *args && n < 15; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        return pm_test_run(argv, fx->root, env, NULL, ret_out, ret_err);
}

/* The crate with @label in a `dump --format json` array, or NULL. */
static const cJSON *
find(const cJSON *arr, const char *label)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, arr)
        {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "label");

                if (cJSON_IsString(l) && strcmp(l->valuestring, label) == 0)
                        return c;
        }
        return NULL;
}

static const char *
field(const cJSON *c, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);

        cr_assert(cJSON_IsString(v), "no string '%s'", key);
        return v->valuestring;
}

static cJSON *
dump_json(const struct fx *fx, const char *const *extra)
{
        const char *args[8] = { "--format", "json" };
        char *out = NULL, *err = NULL;
        size_t n = 2;
        cJSON *j;
        int st;

        for (; extra && *extra && n < 7; extra++)
                args[n++] = *extra;
        args[n] = NULL;
        st = pm(fx, "dump", args, &out, &err);
        cr_assert_eq(st, 0, "dump failed: %s", err);
        j = cJSON_Parse(out);
        cr_assert(cJSON_IsArray(j), "dump output: %s", out);
        pm_free(out);
        pm_free(err);
        return j;
}

#define ANSI  "cargo:third_party/rust#ansi@0.3.0"
#define TABLE "cargo:third_party/rust#table-fmt@1.2.0"

Test(mixed, gn_root_with_cargo_subproject_is_one_model, .timeout = 240)
{
        const cJSON *c, *deps;
        struct fx fx;
        cJSON *all;

        fx_init(&fx, "examples/mixed-monorepo");
        all = dump_json(&fx, NULL);
        cr_assert_eq(cJSON_GetArraySize(all), 4);
        c = find(all, "//app:app");
        cr_assert_not_null(c);
        cr_assert_str_eq(field(c, "build_system"), "gn");
        cr_assert_str_eq(field(c, "source"), "gn:.");
        c = find(all, TABLE);
        cr_assert_not_null(c);
        cr_assert_str_eq(field(c, "build_system"), "cargo");
        cr_assert_str_eq(field(c, "source"), "cargo:third_party/rust");
        deps = cJSON_GetObjectItemCaseSensitive(c, "deps");
        cr_assert_eq(cJSON_GetArraySize(deps), 1);
        cr_assert_str_eq(field(cJSON_GetArrayItem(deps, 0), "label"), ANSI);
        cr_assert_str_eq(field(cJSON_GetArrayItem(deps, 0), "name"), "term");
        cr_assert_str_eq(field(find(all, ANSI), "build_system"), "cargo");
        cJSON_Delete(all);

        /* Queries by path pick the project whose root is the longest prefix. */
        all = dump_json(&fx,
                        (const char *const[]){ "--no-refresh",
                                               "third_party/rust/table-fmt/src/lib.rs", NULL });
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_assert_str_eq(field(cJSON_GetArrayItem(all, 0), "label"), TABLE);
        cJSON_Delete(all);
        all = dump_json(&fx, (const char *const[]){ "--no-refresh", "lib/core/src/lib.rs", NULL });
        cr_assert_eq(cJSON_GetArraySize(all), 1);
        cr_assert_str_eq(field(cJSON_GetArrayItem(all, 0), "build_system"), "gn");
        cJSON_Delete(all);
        fx_release(&fx);
}

Test(mixed, export_validates_and_type_checks, .timeout = 300)
{
        char *out = NULL, *err = NULL, *report = NULL, *work, *keep;
        struct fx fx;
        int st;

        fx_init(&fx, "examples/mixed-monorepo");
        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert_eq(pm_test_validate_project(out, strlen(out), &report), 0, "%s", report);
        cr_assert(strstr(out, "\"display_name\":\"table_fmt\"") != NULL);
        cr_assert(strstr(out, "\"display_name\":\"core_lib\"") != NULL);
        work = pm_test_strf("%s/rustc-work", fx.root);
        keep = pm_test_strf("%s/.keep", work);
        cr_assert_eq(pm_test_write_file(keep, ""), 0);
        st = pm_test_rustc_check_project(out, work, &report);
        cr_assert_eq(st, 0, "rustc check: %s", report);
        pm_free(keep);
        pm_free(work);
        pm_free(out);
        pm_free(err);
        fx_release(&fx);
}

Test(mixed, discover_a_cargo_file_in_a_gn_tree, .timeout = 240)
{
        char *out = NULL, *err = NULL, *report = NULL, *arg;
        struct fx fx;
        int st;

        fx_init(&fx, "examples/mixed-monorepo");
        arg = pm_test_strf("{\"path\": \"%s/third_party/rust/table-fmt/src/lib.rs\"}", fx.root);
        st = pm(&fx, "discover", (const char *const[]){ arg, NULL }, &out, &err);
        cr_assert_eq(st, 0, "discover failed: %s", err);
        cr_assert_eq(pm_test_validate_discover_output(out, &report), 0, "%s\n%s", report, out);
        cr_assert(strstr(out, "\"kind\":\"finished\"") != NULL, "%s", out);
        cr_assert(strstr(out, "\"display_name\":\"table_fmt\"") != NULL, "%s", out);
        cr_assert(strstr(out, "\"display_name\":\"ansi\"") != NULL, "%s", out);
        cr_assert(strstr(out, "core_lib") == NULL, "the GN crates are not in its closure");
        pm_free(arg);
        pm_free(out);
        pm_free(err);
        fx_release(&fx);
}

/*
 * The model follows .projmodel.json: a Cargo subproject added and exported, then removed from
 * the configuration with its directory deleted: the next export no longer lists its crates
 * (before, they stayed, with root modules that no longer exist).
 */
Test(mixed, a_subproject_removed_from_the_configuration_leaves_the_model, .timeout = 300)
{
        static const char base[] = "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"},"
                                   " \"subprojects\": [{\"root\": \"third_party/rust\","
                                   " \"build_system\": \"cargo\"}%s]}\n";
        char *out = NULL, *err = NULL, *report = NULL, *cfg, *path, *dir, *json;
        struct fx fx;
        int st;

        fx_init(&fx, "examples/mixed-monorepo");
        dir = pm_test_strf("%s/tools/extra", fx.root);
        path = pm_test_strf("%s/src/lib.rs", dir);
        cr_assert_eq(pm_test_write_file(path, "pub fn extra() {}\n"), 0);
        pm_free(path);
        path = pm_test_strf("%s/Cargo.toml", dir);
        cr_assert_eq(pm_test_write_file(path, "[package]\nname = \"extra_tool\"\n"
                                              "version = \"0.1.0\"\nedition = \"2021\"\n"),
                     0);
        pm_free(path);
        cfg = pm_test_strf("%s/.projmodel.json", fx.root);
        json = pm_test_strf(base, ", {\"root\": \"tools/extra\", \"build_system\": \"cargo\"}");
        cr_assert_eq(pm_test_write_file(cfg, json), 0);
        pm_free(json);

        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert(strstr(out, "\"display_name\":\"extra_tool\"") != NULL, "%s", out);
        pm_free(out);
        pm_free(err);

        json = pm_test_strf(base, "");
        cr_assert_eq(pm_test_write_file(cfg, json), 0);
        pm_free(json);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert(strstr(out, "extra_tool") == NULL, "the removed subproject's crates stay: %s",
                  out);
        cr_assert(strstr(out, "\"display_name\":\"table_fmt\"") != NULL, "%s", out);
        cr_assert_eq(pm_test_validate_project(out, strlen(out), &report), 0, "%s", report);
        pm_free(out);
        pm_free(err);

        /* And again, with every remaining input unchanged (nothing is re-applied). */
        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert(strstr(out, "extra_tool") == NULL, "%s", out);
        pm_free(out);
        pm_free(err);
        pm_free(cfg);
        pm_free(dir);
        fx_release(&fx);
}

/* The root's build system changed (GN to a Cargo workspace): GN's crates go in the same
 * transaction as Cargo's arrive, and so do the subproject's, which the configuration dropped. */
Test(mixed, a_changed_build_system_drops_the_old_crates, .timeout = 300)
{
        char *out = NULL, *err = NULL, *path;
        struct fx fx;
        int st;

        fx_init(&fx, "examples/mixed-monorepo");
        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert(strstr(out, "\"display_name\":\"core_lib\"") != NULL, "%s", out);
        pm_free(out);
        pm_free(err);
        path = pm_test_strf("%s/.projmodel.json", fx.root);
        cr_assert_eq(pm_test_write_file(path, "{\"build_system\": \"cargo\"}\n"), 0);
        pm_free(path);
        path = pm_test_strf("%s/Cargo.toml", fx.root);
        cr_assert_eq(pm_test_write_file(path, "[workspace]\nmembers = [\"tools/extra\"]\n"
                                              "resolver = \"2\"\n"),
                     0);
        pm_free(path);
        path = pm_test_strf("%s/tools/extra/Cargo.toml", fx.root);
        cr_assert_eq(pm_test_write_file(path, "[package]\nname = \"extra_tool\"\n"
                                              "version = \"0.1.0\"\nedition = \"2021\"\n"),
                     0);
        pm_free(path);
        path = pm_test_strf("%s/tools/extra/src/lib.rs", fx.root);
        cr_assert_eq(pm_test_write_file(path, "pub fn extra() {}\n"), 0);
        pm_free(path);
        st = pm(&fx, "export", NULL, &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert(strstr(out, "\"display_name\":\"extra_tool\"") != NULL, "%s", out);
        cr_assert(strstr(out, "core_lib") == NULL, "GN's crates stay: %s", out);
        cr_assert(strstr(out, "table_fmt") == NULL, "the dropped subproject's crates stay: %s",
                  out);
        pm_free(out);
        pm_free(err);
        fx_release(&fx);
}

/* Buck2 cannot run here: its captured output goes through `export --query-output`. */
Test(mixed, buck2_captured_output_and_bad_output_keeps_the_model, .timeout = 240)
{
        char *out = NULL, *err = NULL, *report = NULL, *bad, *targets;
        struct fx fx;
        cJSON *all;
        int st;

        fx_init(&fx, "tests/buck2/fixtures/repo");
        targets = pm_test_strf("%s/targets.json", fx.root);
        st = pm(&fx, "export",
                (const char *const[]){ "--query-output", targets, "--build-system", "buck2", NULL },
                &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        cr_assert_eq(pm_test_validate_project(out, strlen(out), &report), 0, "%s", report);
        pm_free(out);
        pm_free(err);

        bad = pm_test_strf("%s/bad.json", fx.root);
        cr_assert_eq(pm_test_write_file(bad, "[{\"buck.type\": \"prelude//rules.bzl:rust_library\","
                                             " \"buck.package\": \"root//lib/foo\", \"name\": "
                                             "\"foo\", \"srcs\": [\"src/lib.rs\"], \"rustc_flags\":"
                                             " {\"__type\": \"selector\", \"entries\": "
                                             "{\"root//os:linux\": []}}}]"),
                     0);
        st = pm(&fx, "export",
                (const char *const[]){ "--query-output", bad, "--build-system", "buck2", NULL },
                &out, &err);
        cr_assert_eq(st, 1, "bad output must fail: %s", err);
        cr_assert(strstr(err, "root//lib/foo:foo") != NULL, "%s", err);
        cr_assert(strstr(err, "bad.json") != NULL, "%s", err);
        cr_assert(strstr(err, "DEFAULT") != NULL, "%s", err);
        pm_free(out);
        pm_free(err);

        all = dump_json(&fx, (const char *const[]){ "--no-refresh", NULL });
        cr_assert_eq(cJSON_GetArraySize(all), 8, "the model still holds the good output");
        cr_assert_str_eq(field(find(all, "root//lib/bar:bar-core"), "build_system"), "buck2");
        cJSON_Delete(all);
        pm_free(bad);
        pm_free(targets);
        fx_release(&fx);
}

/* Captured cargo metadata lands in the Cargo subproject of the mixed tree. */
Test(mixed, cargo_captured_output_for_a_subproject, .timeout = 240)
{
        char *out = NULL, *err = NULL, *meta, *manifest, *file;
        const char *argv[] = { "cargo", "metadata",  "--format-version",
                               "1",     "--offline", "--manifest-path",
                               NULL,    NULL };
        struct fx fx;
        cJSON *all;
        int st;

        fx_init(&fx, "examples/mixed-monorepo");
        manifest = pm_test_strf("%s/third_party/rust/Cargo.toml", fx.root);
        argv[6] = manifest;
        st = pm_test_run(argv, fx.root, NULL, NULL, &meta, &err);
        cr_assert_eq(st, 0, "%s", err);
        pm_free(err);
        file = pm_test_strf("%s/metadata.json", fx.root);
        cr_assert_eq(pm_test_write_file(file, meta), 0);
        st = pm(&fx, "export",
                (const char *const[]){ "--query-output", file, "--build-system", "cargo", NULL },
                &out, &err);
        cr_assert_eq(st, 0, "export failed: %s", err);
        all = dump_json(&fx, (const char *const[]){ "--no-refresh", NULL });
        cr_assert_not_null(find(all, TABLE));
        cr_assert_eq(strcmp(field(find(all, TABLE), "source"), "cargo:third_party/rust"), 0);
        cJSON_Delete(all);

        /* Truncated metadata: exit 1, naming the file; the Cargo crates stay. */
        meta[strlen(meta) / 2] = '\0';
        cr_assert_eq(pm_test_write_file(file, meta), 0);
        pm_free(out);
        pm_free(err);
        st = pm(&fx, "export",
                (const char *const[]){ "--query-output", file, "--build-system", "cargo", NULL },
                &out, &err);
        cr_assert_eq(st, 1);
        cr_assert(strstr(err, "metadata.json") != NULL, "%s", err);
        all = dump_json(&fx, (const char *const[]){ "--no-refresh", NULL });
        cr_assert_not_null(find(all, TABLE));
        cr_assert_not_null(find(all, ANSI));
        cJSON_Delete(all);
        pm_free(out);
        pm_free(err);
        pm_free(meta);
        pm_free(file);
        pm_free(manifest);
        fx_release(&fx);
}
