/* SPDX-License-Identifier: MIT */
/* Tests for the adapter registry, detection, config resolution and the argv/plan helpers. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
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

static void
touch(const char *rel, const char *content)
{
        char *p = pm_test_strf("%s/%s", tmp, rel);

        cr_assert_eq(pm_test_write_file(p, content), 0);
        pm_free(p);
}

TestSuite(common_registry, .init = setup, .fini = teardown);

Test(common_registry, all_in_order_and_find)
{
        const struct pm_adapter_ops *const *all = pm_adapter_all();
        const char *names[] = { "gn", "bazel", "buck2", "cargo" };
        size_t n = 0;

        for (; all[n]; n++) {
                cr_assert_lt(n, 4);
                cr_assert_str_eq(all[n]->name, names[n]);
                cr_assert_eq(all[n]->version, PM_ADAPTER_OPS_VERSION);
                cr_assert_not_null(all[n]->plan);
                cr_assert_not_null(all[n]->parse);
                cr_assert_not_null(all[n]->markers);
                cr_assert_not_null(all[n]->build_file_names);
                cr_assert(all[n]->config_keys && all[n]->config_keys[0], "%s declares no keys",
                          all[n]->name);
                cr_assert_eq(pm_adapter_find(names[n]), all[n]);
        }
        cr_assert_eq(n, 4);
        cr_assert_null(pm_adapter_find("make"));
        cr_assert_null(pm_adapter_find(NULL));
}

static const char *
detect_in(const char *sub, const char *const *files)
{
        char *dir = pm_test_strf("%s/%s", tmp, sub);
        const struct pm_adapter_ops *ops;

        for (; *files; files++) {
                char *p = pm_test_strf("%s/%s", dir, *files);

                cr_assert_eq(pm_test_write_file(p, ""), 0);
                pm_free(p);
        }
        ops = pm_adapter_detect(dir);
        pm_free(dir);
        return ops ? ops->name : NULL;
}

Test(common_registry, detect_markers)
{
        const char *const gn[] = { ".gn", NULL };
        const char *const module[] = { "MODULE.bazel", NULL };
        const char *const ws[] = { "WORKSPACE", NULL };
        const char *const buck[] = { ".buckconfig", NULL };
        const char *const cargo[] = { "Cargo.toml", NULL };
        const char *const gn_and_cargo[] = { "Cargo.toml", ".gn", NULL };
        const char *const none[] = { "README.md", NULL };

        cr_assert_str_eq(detect_in("gn", gn), "gn");
        cr_assert_str_eq(detect_in("module", module), "bazel");
        cr_assert_str_eq(detect_in("ws", ws), "bazel");
        cr_assert_str_eq(detect_in("buck", buck), "buck2");
        cr_assert_str_eq(detect_in("cargo", cargo), "cargo");
        cr_assert_str_eq(detect_in("both", gn_and_cargo), "gn", "explicit systems before cargo");
        cr_assert_null(detect_in("none", none));
}

Test(common_registry, resolve_sets_ids_and_settings)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        touch("svc/Cargo.toml", "");
        touch("bz/MODULE.bazel", "");
        touch(".projmodel.json",
              "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"o1\"},"
              " \"subprojects\": [{\"root\": \"svc\", \"cargo\": {\"command\": \"c2\"}},"
              "                  {\"root\": \"bz\", \"build_system\": \"bazel\"}]}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg->projects[0].id, "gn:.");
        cr_assert_str_eq(cJSON_GetObjectItem(cfg->projects[0].settings, "out_dir")->valuestring,
                         "o1");
        cr_assert_str_eq(cfg->projects[1].build_system, "cargo");
        cr_assert_str_eq(cfg->projects[1].id, "cargo:svc");
        cr_assert_str_eq(cJSON_GetObjectItem(cfg->projects[1].settings, "command")->valuestring,
                         "c2");
        cr_assert_str_eq(cfg->projects[2].id, "bazel:bz");
        cr_assert_null(cfg->projects[2].settings);
        cr_assert_eq(pm_config_project(cfg, "cargo:svc"), &cfg->projects[1]);
        pm_config_free(cfg);
}

Test(common_registry, resolve_detects_without_file)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        touch("Cargo.toml", "");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(cfg->projects[0].build_system, "cargo");
        cr_assert_str_eq(cfg->projects[0].id, "cargo:.");
        cr_assert_null(cfg->projects[0].settings);
        pm_config_free(cfg);
}

Test(common_registry, resolve_unknown_build_system)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;

        touch(".projmodel.json", "{\"build_system\": \"make\"}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, cfg->file), "%s", err.msg);
        cr_assert(strstr(err.msg, "unknown build_system 'make'"), "%s", err.msg);
        pm_config_free(cfg);
}

Test(common_registry, resolve_nothing_detected)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char *want;

        touch("sub/README", "");
        touch(".projmodel.json",
              "{\"build_system\": \"gn\", \"subprojects\": [{\"root\": \"sub\"}]}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), PM_ENOROOT);
        want = pm_test_strf("no build system found in '%s/sub'", tmp);
        cr_assert(strstr(err.msg, want), "%s", err.msg);
        pm_free(want);
        pm_config_free(cfg);
}

Test(common_registry, parse_captured_reaches_the_adapter)
{
        struct pm_config *cfg = NULL;
        struct pm_graph *g = NULL;
        struct pm_error err;
        struct pm_project bogus = { .build_system = "make", .root = "/x" };

        touch("Cargo.toml", "");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        /* Not JSON: whatever the cargo adapter's state, it must refuse without a graph. */
        pm_error_init(&err);
        cr_assert_lt(pm_adapter_parse_captured(cfg, &cfg->projects[0], "not json", 8, "captured",
                                               &g, &err),
                     0);
        cr_assert_null(g);
        cr_assert_neq(err.code, 0);
        cr_assert_eq(pm_adapter_parse_captured(cfg, &bogus, "{}", 2, NULL, &g, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "'make'"), "%s", err.msg);
        pm_config_free(cfg);
}

Test(common_registry, argv_helpers)
{
        const char *parts[] = { "gn", "desc", "out" };
        char **argv = pm_argv_new(parts, 3);

        cr_assert_str_eq(argv[0], "gn");
        cr_assert_neq((void *)argv[0], (void *)parts[0]);
        cr_assert_null(argv[3]);
        cr_assert_eq(pm_argv_push(&argv, "--format=json"), 0);
        cr_assert_str_eq(argv[3], "--format=json");
        cr_assert_null(argv[4]);
        cr_assert_null(pm_argv_free(argv));
        cr_assert_null(pm_argv_free(NULL));

        argv = NULL;
        cr_assert_eq(pm_argv_push(&argv, "first"), 0);
        cr_assert_str_eq(argv[0], "first");
        cr_assert_null(argv[1]);
        pm_mem_fail_at(2);
        cr_assert_eq(pm_argv_push(&argv, "second"), -ENOMEM);
        pm_mem_fail_at(0);
        cr_assert_null(argv[1], "argv unchanged on failure");
        pm_argv_free(argv);

        pm_mem_fail_at(2);
        cr_assert_null(pm_argv_new(parts, 3));
        pm_mem_fail_at(0);
}

/* pm_strv_repeats() flags every occurrence of a string but its first, wherever the others
 * are (sorted, the first of a run is the earliest one, adapters/argv.c). */
Test(common_registry, strv_repeats_flags_all_but_the_first_occurrence)
{
        const char *v[] = { "//b:gen", "//a:pm", "//b:gen", "//c:bs", "//a:pm", "//b:gen", "" };
        const bool want[] = { false, false, true, false, true, true, false };
        bool got[7], none = true;

        memset(got, 1, sizeof(got));
        cr_assert_eq(pm_strv_repeats(v, 7, got), 0);
        for (size_t i = 0; i < 7; i++)
                cr_assert_eq(got[i], want[i], "string %zu ('%s')", i, v[i]);
        cr_assert_eq(pm_strv_repeats(v, 0, &none), 0);
        cr_assert(none, "no string, no flag written");
        pm_mem_fail_at(1);
        cr_assert_eq(pm_strv_repeats(v, 7, got), -ENOMEM);
        pm_mem_fail_at(0);
}

/* pm_strv_index_find() finds a string's first occurrence, by all of the key or its first bytes
 * (a label before its sub-target), never a longer or shorter string, and skips NULL entries. */
Test(common_registry, strv_index_finds_the_first_occurrence)
{
        const char *v[] = { "//b:gen", NULL, "//a:pm", "//b:gen", "//a:pm[x]", "//a:pm", "" };
        struct pm_strv_index *ix = NULL;
        size_t at = 99;

        cr_assert_eq(pm_strv_index_new(v, 7, &ix), 0);
        cr_assert(pm_strv_index_find(ix, "//b:gen", 7, &at));
        cr_assert_eq(at, 0);
        cr_assert(pm_strv_index_find(ix, "//a:pm", 6, &at));
        cr_assert_eq(at, 2, "the first of the two");
        cr_assert(pm_strv_index_find(ix, "//a:pm[x]", 9, &at));
        cr_assert_eq(at, 4);
        cr_assert(pm_strv_index_find(ix, "//a:pm[y]", 6, &at), "the key's first bytes");
        cr_assert_eq(at, 2);
        cr_assert(pm_strv_index_find(ix, "", 0, &at));
        cr_assert_eq(at, 6);
        at = 99;
        cr_assert_not(pm_strv_index_find(ix, "//a:p", 5, &at), "a prefix of a string");
        cr_assert_not(pm_strv_index_find(ix, "//b:gen2", 8, &at), "a longer string");
        cr_assert_not(pm_strv_index_find(ix, "//c:x", 5, &at));
        cr_assert_eq(at, 99, "nothing written when not found");
        ix = pm_strv_index_free(ix);
        cr_assert_null(pm_strv_index_free(NULL));
        cr_assert_eq(pm_strv_index_new(v, 0, &ix), 0);
        cr_assert_not(pm_strv_index_find(ix, "", 0, &at), "an empty index has nothing");
        ix = pm_strv_index_free(ix);
        pm_mem_fail_at(1);
        cr_assert_eq(pm_strv_index_new(v, 7, &ix), -ENOMEM);
        pm_mem_fail_at(0);
        cr_assert_null(ix, "nothing returned on failure");
}

Test(common_registry, plan_release)
{
        struct pm_plan plan = { 0 };
        const char *parts[] = { "cargo", "metadata" };

        plan.steps[0].argv = pm_argv_new(parts, 2);
        plan.steps[0].cwd = pm_strdup("/r");
        plan.steps[1].argv = pm_argv_new(parts, 1);
        plan.steps[1].output_file = pm_strdup("/r/out.json");
        plan.n_steps = 1; /* a half-built second step must be released too */
        pm_plan_release(&plan);
        cr_assert_eq(plan.n_steps, 0);
        cr_assert_null(plan.steps[0].argv);
        cr_assert_null(plan.steps[1].output_file);
        pm_plan_release(&plan);
}

/* The directories each adapter tells the watcher to skip, from its own settings. */
Test(common_registry, watch_skip_names_each_adapters_outputs)
{
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char **dirs = NULL;
        char *expected[7];

        touch("svc/Cargo.toml", "");
        touch("bz/MODULE.bazel", "");
        touch("b2/.buckconfig", "");
        touch(".projmodel.json",
              "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"build/out.gn\"},"
              " \"cache_dir\": \".cache\","
              " \"subprojects\": [{\"root\": \"svc\"},"
              "   {\"root\": \"bz\", \"bazel\": {\"output_base\": \"/var/tmp/ob\"}},"
              "   {\"root\": \"b2\"}]}");
        cr_assert_eq(pm_config_load(tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_adapter_ops *ops = pm_adapter_find(cfg->projects[i].build_system);
                struct pm_query q = { .config = cfg, .project = &cfg->projects[i] };

                cr_assert_not_null(ops->watch_skip, "%s", ops->name);
                pm_error_init(&err);
                cr_assert_eq(ops->watch_skip(&q, &dirs, &err), 0, "%s", err.msg);
        }
        expected[0] = pm_test_strf("%s/build/out.gn", tmp);
        expected[1] = pm_test_strf("%s/svc/target", tmp);
        /* Cargo's build step's target directory, since the cache directory is in the tree. */
        expected[2] = pm_test_strf("%s/.cache/cargo-%016" PRIx64, tmp,
                                   pm_hash64_str(cfg->projects[1].root, 0));
        expected[3] = pm_test_strf("%s/bz/bazel-*", tmp);
        expected[4] = pm_test_strf("%s", "/var/tmp/ob");
        expected[5] = pm_test_strf("%s/b2/buck-out", tmp);
        expected[6] = NULL;
        pm_test_assert_argv(dirs, (const char *const *)expected);
        for (size_t i = 0; expected[i]; i++)
                pm_free(expected[i]);
        pm_argv_free(dirs);
        pm_config_free(cfg);
}

/* A child's environment (pm_env_merge()): "NAME=value" replaces the inherited NAME, "NAME"
 * unsets it, everything else is inherited as is. */
Test(common_registry, env_merge_sets_replaces_and_unsets)
{
        char set[] = "PM_TEST_SET=new", unset[] = "PM_TEST_UNSET";
        char *extra[] = { set, unset, NULL };
        char **env;
        size_t seen_set = 0, seen_keep = 0;

        cr_assert_eq(setenv("PM_TEST_SET", "old", 1), 0);
        cr_assert_eq(setenv("PM_TEST_UNSET", "gone", 1), 0);
        cr_assert_eq(setenv("PM_TEST_KEEP", "kept", 1), 0);
        env = pm_env_merge(extra);
        cr_assert_not_null(env);
        for (char **e = env; *e; e++) {
                cr_assert(strncmp(*e, "PM_TEST_UNSET", 13) != 0, "%s", *e);
                cr_assert_str_neq(*e, "PM_TEST_SET=old");
                seen_set += strcmp(*e, "PM_TEST_SET=new") == 0;
                seen_keep += strcmp(*e, "PM_TEST_KEEP=kept") == 0;
        }
        cr_assert_eq(seen_set, 1);
        cr_assert_eq(seen_keep, 1);
        pm_free(env);
}
