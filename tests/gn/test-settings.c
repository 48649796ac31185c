/* SPDX-License-Identifier: MIT */
/* Tests for the gn adapter's registration, its "gn" settings and the `gn gen` plan. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "gn-test.h"
#include "testlib.h"

static const char tiny[] =
        "{\"build_settings\": {\"build_dir\": \"//out/\", \"root_path\": \"@ROOT@\"},\n"
        " \"targets\": {\"//b:b\": {\"type\": \"rust_library\", \"crate_name\": \"b\",\n"
        "   \"crate_root\": \"//b/lib.rs\", \"outputs\": [\"//out/obj/b/libb.rlib\"]},\n"
        "  \"//third_party/t:t\": {\"type\": \"rust_library\", \"crate_name\": \"t\",\n"
        "   \"crate_root\": \"//third_party/t/lib.rs\", \"rustflags\": [\"--edition=2018\"]}}}\n";

static int
plan_for(struct gn_fx *fx, struct pm_plan *plan)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("gn");
        struct pm_query q = { .config = fx->cfg, .project = &fx->cfg->projects[0] };

        memset(plan, 0, sizeof(*plan));
        return ops->plan(&q, plan, &fx->err);
}

Test(gn_settings, registered_with_markers_and_build_file_names)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("gn");
        bool build_gn = false, args_gn = false;

        cr_assert_not_null(ops);
        cr_assert_eq(ops->version, PM_ADAPTER_OPS_VERSION);
        cr_assert_str_eq(ops->name, "gn");
        cr_assert_str_eq(ops->markers[0], ".gn");
        cr_assert_null(ops->markers[1]);
        for (size_t i = 0; ops->build_file_names[i]; i++) {
                build_gn |= strcmp(ops->build_file_names[i], "BUILD.gn") == 0;
                args_gn |= strcmp(ops->build_file_names[i], "args.gn") == 0;
        }
        cr_assert(build_gn && args_gn);
}

Test(gn_settings, plan_is_one_gn_gen_ide_json_step)
{
        struct gn_fx fx;
        struct pm_plan plan;
        char *root_arg, *out, *output;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(plan_for(&fx, &plan), 0, "%s", fx.err.msg);
        root_arg = pm_test_strf("--root=%s", fx.root);
        out = gn_fx_path(&fx, "out");
        output = gn_fx_path(&fx, "out/project.json");
        cr_assert_eq(plan.n_steps, 1);
        cr_assert_str_eq(plan.steps[0].argv[0], "gn");
        cr_assert_str_eq(plan.steps[0].argv[1], "gen");
        cr_assert_str_eq(plan.steps[0].argv[2], out);
        cr_assert_str_eq(plan.steps[0].argv[3], root_arg);
        cr_assert_str_eq(plan.steps[0].argv[4], "--ide=json");
        cr_assert_null(plan.steps[0].argv[5]);
        cr_assert_str_eq(plan.steps[0].cwd, fx.root);
        cr_assert_str_eq(plan.steps[0].output_file, output);
        cr_assert_not(plan.steps[0].optional);
        pm_plan_release(&plan);
        pm_free(root_arg);
        pm_free(out);
        pm_free(output);
        gn_fx_release(&fx);
}

Test(gn_settings, plan_uses_gn_out_dir_and_args_settings)
{
        struct gn_fx fx;
        struct pm_plan plan;

        gn_fx_init(&fx, "{\"gn\": \"/opt/gn/bin/gn\", \"out_dir\": \"/var/tmp/gnout\","
                        " \"args\": \"is_debug=false x=\\\"y z\\\"\"}");
        cr_assert_eq(plan_for(&fx, &plan), 0, "%s", fx.err.msg);
        cr_assert_str_eq(plan.steps[0].argv[0], "/opt/gn/bin/gn");
        cr_assert_str_eq(plan.steps[0].argv[2], "/var/tmp/gnout");
        /* one argv element, never a shell */
        cr_assert_str_eq(plan.steps[0].argv[5], "--args=is_debug=false x=\"y z\"");
        cr_assert_null(plan.steps[0].argv[6]);
        cr_assert_str_eq(plan.steps[0].output_file, "/var/tmp/gnout/project.json");
        pm_plan_release(&plan);
        gn_fx_release(&fx);
}

Test(gn_settings, default_edition_applies_to_crates_without_edition_flag)
{
        struct gn_fx fx;

        gn_fx_init(&fx, "{\"default_edition\": \"2021\"}");
        cr_assert_eq(gn_fx_parse(&fx, tiny, true), 0, "%s", fx.err.msg);
        cr_assert_str_eq(gn_fx_crate(&fx, "//b:b")->edition, "2021");
        cr_assert_str_eq(gn_fx_crate(&fx, "//third_party/t:t")->edition, "2018");
        gn_fx_release(&fx);
}

Test(gn_settings, third_party_prefixes_are_not_workspace_members)
{
        struct gn_fx fx;

        gn_fx_init(&fx, "{\"third_party\": [\"//third_party/\"]}");
        cr_assert_eq(gn_fx_parse(&fx, tiny, true), 0, "%s", fx.err.msg);
        cr_assert(gn_fx_crate(&fx, "//b:b")->is_workspace_member);
        cr_assert_not(gn_fx_crate(&fx, "//third_party/t:t")->is_workspace_member);
        gn_fx_release(&fx);
}

static void
expect_config_error(const char *section, const char *key)
{
        struct gn_fx fx;
        struct pm_plan plan;

        gn_fx_init(&fx, section);
        cr_assert_eq(plan_for(&fx, &plan), PM_ECONFIG, "%s accepted", section);
        cr_assert(strstr(fx.err.msg, fx.cfg->file), "no file in '%s'", fx.err.msg);
        cr_assert(strstr(fx.err.msg, key), "no key '%s' in '%s'", key, fx.err.msg);
        cr_assert_eq(gn_fx_parse(&fx, tiny, true), PM_ECONFIG);
        gn_fx_release(&fx);
}

Test(gn_settings, wrong_types_are_config_errors_naming_file_and_key)
{
        expect_config_error("{\"out_dir\": 3}", "gn.out_dir");
        expect_config_error("{\"out_dir\": \"\"}", "gn.out_dir");
        expect_config_error("{\"out_dir\": \".\"}", "gn.out_dir");
        expect_config_error("{\"gn\": [\"gn\"]}", "gn.gn");
        expect_config_error("{\"args\": false}", "gn.args");
        expect_config_error("{\"default_edition\": \"2020\"}", "gn.default_edition");
        expect_config_error("{\"default_edition\": 2021}", "gn.default_edition");
        expect_config_error("{\"third_party\": \"//third_party/\"}", "gn.third_party");
        expect_config_error("{\"third_party\": [\"third_party/\"]}", "gn.third_party");
}

Test(gn_settings, unknown_key_fails_resolving_with_the_nearest_key)
{
        struct gn_fx fx;

        gn_fx_init(&fx, "{\"outdir\": \"out\"}");
        cr_assert_eq(pm_adapter_resolve_config(fx.cfg, &fx.err), PM_ECONFIG);
        cr_assert(strstr(fx.err.msg, "unknown key 'gn.outdir' in ") &&
                          strstr(fx.err.msg, fx.cfg->file) &&
                          strstr(fx.err.msg, "(did you mean 'out_dir'?)"),
                  "%s", fx.err.msg);
        gn_fx_release(&fx);
}

Test(gn_settings, args_setting_keeps_the_rewritten_args_gn_out_of_the_watch_set)
{
        struct gn_fx fx;
        char *args_gn;

        gn_fx_init(&fx, "{\"args\": \"x=1\"}");
        cr_assert_eq(gn_fx_parse(&fx,
                                 "{\"build_settings\": {\"build_dir\": \"//out/\","
                                 " \"gen_input_files\": [\"//BUILD.gn\", \"//out/args.gn\"]},"
                                 " \"targets\": {}}",
                                 true),
                     0, "%s", fx.err.msg);
        args_gn = gn_fx_path(&fx, "out/args.gn");
        cr_assert_not(pm_strlist_contains(&fx.g->build_files, args_gn));
        cr_assert_eq(fx.g->build_files.n, 1);
        pm_free(args_gn);
        gn_fx_release(&fx);
}
