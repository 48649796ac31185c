/* SPDX-License-Identifier: MIT */
/* Tests for the gn adapter's parser on project.json / gn desc documents written by the test in
 * the shapes GN 1000 prints (see examples/gn-monorepo). */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "gn-test.h"
#include "testlib.h"

/* A project.json (gn gen --ide=json) with every shape the adapter handles. */
static const char project_json[] =
        "{\"build_settings\": {\"build_dir\": \"//out/\", \"default_toolchain\": \"//tc:rustc\",\n"
        "  \"gen_input_files\": [\"//.gn\", \"//BUILD.gn\", \"//a/BUILD.gn\", \"//out/args.gn\"],\n"
        "  \"root_path\": \"@ROOT@\"},\n"
        " \"targets\": {\n"
        "  \"//a:a\": {\"type\": \"rust_library\", \"toolchain\": \"//tc:rustc\",\n"
        "    \"crate_name\": \"a\", \"crate_root\": \"//a/src/lib.rs\",\n"
        "    \"sources\": [\"//a/src/lib.rs\", \"//a/src/m.rs\", \"//out/gen/a/gen.rs\"],\n"
        "    \"deps\": [\"//b:b\", \"//:grp\", \"//m:m(//tc:host)\", \"//c:native\"],\n"
        "    \"rustflags\": [\"--edition\", \"2018\", \"--cfg\", \"feature=\\\"two\\\"\",\n"
        "      \"--cfg=feature=\\\"one\\\"\", \"--target=x86_64-unknown-linux-gnu\"],\n"
        "    \"rustenv\": [\"GREETING=hello=world\", \"OUT_DIR=gen/a\"],\n"
        "    \"outputs\": [\"//out/obj/a/liba.rlib\"], \"externs\": {}, \"testonly\": false},\n"
        "  \"//b:b\": {\"type\": \"rust_library\", \"toolchain\": \"//tc:rustc\",\n"
        "    \"crate_name\": \"b\", \"crate_root\": \"//b/lib.rs\",\n"
        "    \"sources\": [\"//b/lib.rs\"],\n"
        "    \"deps\": [], \"outputs\": [\"//out/obj/b/libb.rlib\"]},\n"
        "  \"//b:b(//tc:host)\": {\"type\": \"rust_library\", \"toolchain\": \"//tc:host\",\n"
        "    \"crate_name\": \"b\", \"crate_root\": \"//b/lib.rs\",\n"
        "    \"sources\": [\"//b/lib.rs\"],\n"
        "    \"outputs\": [\"//out/host/obj/b/libb.rlib\"]},\n"
        "  \"//c:c\": {\"type\": \"rust_library\", \"crate_name\": \"c-lib\",\n"
        "    \"crate_root\": \"//c/lib.rs\", \"rustflags\": [\"--edition=2021\"],\n"
        "    \"outputs\": [\"//out/obj/c/libc_lib.rlib\"]},\n"
        "  \"//c:native\": {\"type\": \"static_library\", \"sources\": [\"//c/x.c\"],\n"
        "    \"deps\": [],\n"
        "    \"outputs\": [\"//out/obj/c/libnative.a\"]},\n"
        "  \"//c:cbin\": {\"type\": \"executable\", \"sources\": [\"//c/main.c\"], \"deps\": []},\n"
        "  \"//:grp\": {\"type\": \"group\", \"deps\": [\"//:grp2\"]},\n"
        "  \"//:grp2\": {\"type\": \"group\", \"deps\": [\"//c:c\", \"//:grp\"]},\n"
        "  \"//m:m(//tc:host)\": {\"type\": \"rust_proc_macro\", \"toolchain\": \"//tc:host\",\n"
        "    \"crate_name\": \"m\", \"crate_root\": \"//m/lib.rs\",\n"
        "    \"sources\": [\"//m/lib.rs\"],\n"
        "    \"deps\": [\"//b:b(//tc:host)\"],\n"
        "    \"outputs\": [\"//out/host/obj/m/libm.so\"], \"rustflags\": [\"--edition=2021\"]},\n"
        "  \"//app:app\": {\"type\": \"executable\", \"crate_name\": \"app\",\n"
        "    \"crate_root\": \"//app/main.rs\", \"sources\": [\"//app/main.rs\"],\n"
        "    \"deps\": [\"//a:a\"], \"outputs\": [\"//out/app\"], \"rustflags\": [\"-O\"]},\n"
        "  \"//app:app_tests\": {\"type\": \"executable\", \"testonly\": true,\n"
        "    \"crate_name\": \"app_tests\", \"crate_root\": \"//app/main.rs\",\n"
        "    \"deps\": [\"//a:a\", \"//app:app\"], \"rustflags\": [\"--test\"],\n"
        "    \"outputs\": [\"//out/app_tests\"]}\n"
        " },\n"
        " \"toolchains\": {\"//tc:rustc\": {}, \"//tc:host\": {}}}\n";

static void
check_paths(struct gn_fx *fx, const char *got, const char *rel)
{
        char *want = gn_fx_path(fx, rel);

        cr_assert_not_null(got, "expected '%s'", want);
        cr_assert_str_eq(got, want);
        pm_free(want);
}

static bool
has_str(const struct pm_strlist *l, struct gn_fx *fx, const char *rel)
{
        char *want = gn_fx_path(fx, rel);
        bool found = pm_strlist_contains(l, want);

        pm_free(want);
        return found;
}

Test(gn_parse, every_rust_target_in_every_toolchain_is_a_crate)
{
        struct gn_fx fx;
        struct pm_crate *b, *bh, *m;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        /* a, b, b(host), c, m(host), app, app_tests; not the C targets or the groups. */
        cr_assert_eq(fx.g->n_crates, 7);
        cr_assert_null(pm_graph_find(fx.g, "//c:native"));
        cr_assert_null(pm_graph_find(fx.g, "//c:cbin"));
        cr_assert_null(pm_graph_find(fx.g, "//:grp"));

        b = gn_fx_crate(&fx, "//b:b");
        bh = gn_fx_crate(&fx, "//b:b(//tc:host)");
        cr_assert_neq(b, bh);
        cr_assert_str_eq(b->display_name, "b");
        cr_assert_str_eq(bh->display_name, "b");
        cr_assert_str_eq(bh->crate_name, "b");

        m = gn_fx_crate(&fx, "//m:m(//tc:host)");
        cr_assert_eq(m->kind, PM_CRATE_PROC_MACRO);
        cr_assert_str_eq(m->display_name, "m");
        check_paths(&fx, m->proc_macro_dylib, "out/host/obj/m/libm.so");
        check_paths(&fx, m->build_file, "m/BUILD.gn");

        cr_assert_eq(gn_fx_crate(&fx, "//app:app")->kind, PM_CRATE_BIN);
        cr_assert_eq(gn_fx_crate(&fx, "//app:app_tests")->kind, PM_CRATE_TEST);
        cr_assert_eq(gn_fx_crate(&fx, "//a:a")->kind, PM_CRATE_LIB);
        cr_assert_str_eq(fx.g->crates[0].build_system, "gn");
        cr_assert_eq(pm_graph_validate(fx.g, false, &fx.err), 0, "%s", fx.err.msg);
        gn_fx_release(&fx);
}

Test(gn_parse, flags_give_edition_cfgs_and_target)
{
        struct gn_fx fx;
        struct pm_crate *a, *b, *c;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        a = gn_fx_crate(&fx, "//a:a");
        cr_assert_str_eq(a->edition, "2018"); /* two-token --edition */
        cr_assert(gn_crate_has_cfg(a, "feature=\"two\""), "two-token --cfg dropped");
        cr_assert(gn_crate_has_cfg(a, "feature=\"one\""), "one-token --cfg= dropped");
        cr_assert_str_eq(a->target, "x86_64-unknown-linux-gnu");
        cr_assert_eq(a->flags.n, 6);
        cr_assert_str_eq(a->flags.v[0], "--edition");

        b = gn_fx_crate(&fx, "//b:b");
        cr_assert_str_eq(b->edition, "2015"); /* no --edition: rustc's default */
        cr_assert_null(b->target);

        c = gn_fx_crate(&fx, "//c:c");
        cr_assert_str_eq(c->edition, "2021");
        cr_assert_str_eq(c->crate_name, "c_lib");
        cr_assert_str_eq(c->display_name, "c-lib");
        gn_fx_release(&fx);
}

Test(gn_parse, rustc_builtin_cfgs_follow_the_flags)
{
        struct gn_fx fx;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        /* rustc's default opt-level 0 means debug assertions; -O turns them off. */
        cr_assert(gn_crate_has_cfg(gn_fx_crate(&fx, "//b:b"), "debug_assertions"));
        cr_assert_not(gn_crate_has_cfg(gn_fx_crate(&fx, "//app:app"), "debug_assertions"));
        cr_assert(gn_crate_has_cfg(gn_fx_crate(&fx, "//app:app_tests"), "test"));
        cr_assert_not(gn_crate_has_cfg(gn_fx_crate(&fx, "//app:app"), "test"));
        gn_fx_release(&fx);
}

Test(gn_parse, env_sources_and_include_dirs_are_absolute)
{
        struct gn_fx fx;
        struct pm_crate *a;
        char *out_dir;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        a = gn_fx_crate(&fx, "//a:a");
        check_paths(&fx, a->root_module, "a/src/lib.rs");
        check_paths(&fx, a->build_file, "a/BUILD.gn");
        cr_assert_eq(a->sources.n, 3);
        cr_assert(has_str(&a->sources, &fx, "a/src/m.rs"));
        cr_assert(has_str(&a->sources, &fx, "out/gen/a/gen.rs"));
        /* split at the first '=' only */
        cr_assert_str_eq(pm_kvlist_get(&a->env, "GREETING"), "hello=world");
        /* rustc runs in the build directory: a relative OUT_DIR is relative to it */
        out_dir = gn_fx_path(&fx, "out/gen/a");
        cr_assert_str_eq(pm_kvlist_get(&a->env, "OUT_DIR"), out_dir);
        cr_assert(has_str(&a->include_dirs, &fx, "a/src"));
        cr_assert(has_str(&a->include_dirs, &fx, "out/gen/a"));
        cr_assert_eq(a->include_dirs.n, 2);
        cr_assert(a->is_workspace_member);
        pm_free(out_dir);
        gn_fx_release(&fx);
}

Test(gn_parse, deps_flatten_groups_and_skip_non_rust)
{
        struct gn_fx fx;
        struct pm_crate *a, *t;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        a = gn_fx_crate(&fx, "//a:a");
        /* b directly, c through grp -> grp2 (a cycle back to grp), m across toolchains; the
         * static_library is not a Rust dependency. */
        cr_assert_eq(a->n_deps, 3);
        cr_assert(pm_test_crate_has_dep(a, "//b:b", NULL));
        cr_assert(pm_test_crate_has_dep(a, "//c:c", NULL));
        cr_assert(pm_test_crate_has_dep(a, "//m:m(//tc:host)", NULL));
        cr_assert(pm_test_crate_has_dep(gn_fx_crate(&fx, "//m:m(//tc:host)"), "//b:b(//tc:host)",
                                        NULL));
        /* an executable is never linked into another crate */
        t = gn_fx_crate(&fx, "//app:app_tests");
        cr_assert_eq(t->n_deps, 1);
        cr_assert(pm_test_crate_has_dep(t, "//a:a", NULL));
        gn_fx_release(&fx);
}

Test(gn_parse, gen_input_files_and_args_gn_are_build_files)
{
        struct gn_fx fx;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        cr_assert(has_str(&fx.g->build_files, &fx, ".gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, "BUILD.gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, "a/BUILD.gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, "out/args.gn"));
        cr_assert_eq(fx.g->build_files.n, 4, "args.gn listed twice?");
        cr_assert_not(fx.g->partial);
        gn_fx_release(&fx);
}

Test(gn_parse, ninja_externs_give_renames_and_drop_data_deps)
{
        struct gn_fx fx;
        struct pm_crate *a, *m;

        gn_fx_init(&fx, NULL);
        /* What GN writes for //a:a: c is in the JSON deps (as a data_dep would be) but not
         * linked; b is renamed. */
        gn_fx_write(&fx, "out/obj/a/a.ninja",
                    "crate_name = a\n"
                    "build obj/a/liba.rlib: rust_rlib ../a/src/lib.rs\n"
                    "  source_file_part = lib.rs\n"
                    "  externs = --extern bee=obj/b/libb.rlib --extern "
                    "m=host/obj/m/libm.so --extern prebuilt=/opt/libprebuilt.rlib\n"
                    "  rustdeps = -Ldependency=obj/b\n");
        gn_fx_write(&fx, "out/host/obj/m/m.ninja",
                    "build host/obj/m/libm.so: host_rust_macro ../m/lib.rs\n"
                    "  externs = --extern b_host=host/obj/b/libb.rlib\n");
        gn_fx_write(&fx, "out/obj/app/app_tests.ninja",
                    "build app_tests: rust_bin ../app/main.rs\n"
                    "  externs = --extern a=obj/a/liba.rlib\n");
        gn_fx_write(&fx, "out/obj/app/app.ninja",
                    "build app: rust_bin ../app/main.rs\n  externs = --extern a=obj/a/liba.rlib\n");
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);

        a = gn_fx_crate(&fx, "//a:a");
        cr_assert_eq(a->n_deps, 2);
        cr_assert(pm_test_crate_has_dep(a, "//b:b", "bee"));
        cr_assert(pm_test_crate_has_dep(a, "//m:m(//tc:host)", NULL));
        m = gn_fx_crate(&fx, "//m:m(//tc:host)");
        cr_assert(pm_test_crate_has_dep(m, "//b:b(//tc:host)", "b_host"));
        cr_assert(pm_test_crate_has_dep(gn_fx_crate(&fx, "//app:app"), "//a:a", NULL));
        cr_assert_not(gn_graph_has_warning(fx.g, "ninja"), "%s",
                      fx.g->warnings.n ? fx.g->warnings.v[0] : "");
        cr_assert_eq(pm_graph_validate(fx.g, false, &fx.err), 0, "%s", fx.err.msg);
        gn_fx_release(&fx);
}

Test(gn_parse, missing_ninja_files_fall_back_to_crate_names_with_a_warning)
{
        struct gn_fx fx;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx, project_json, true), 0, "%s", fx.err.msg);
        cr_assert(pm_test_crate_has_dep(gn_fx_crate(&fx, "//a:a"), "//b:b", NULL));
        cr_assert(gn_graph_has_warning(fx.g, "no ninja file"));
        cr_assert(gn_graph_has_warning(fx.g, "aliased_deps"));
        gn_fx_release(&fx);
}

Test(gn_parse, root_path_of_another_checkout_warns_and_maps_to_the_project)
{
        struct gn_fx fx;
        char *doc;
        const char *p;

        gn_fx_init(&fx, NULL);
        p = strstr(project_json, "\"root_path\": \"@ROOT@\"");
        cr_assert_not_null(p);
        doc = pm_test_strf("%.*s\"root_path\": \"/elsewhere/src\"%s", (int)(p - project_json),
                           project_json, p + strlen("\"root_path\": \"@ROOT@\""));
        cr_assert_eq(gn_fx_parse(&fx, doc, true), 0, "%s", fx.err.msg);
        cr_assert(gn_graph_has_warning(fx.g, "/elsewhere/src"));
        check_paths(&fx, gn_fx_crate(&fx, "//b:b")->root_module, "b/lib.rs");
        pm_free(doc);
        gn_fx_release(&fx);
}

/* `gn desc OUT <pattern> --format=json`: the same target objects, keyed by label at top level. */
static const char desc_json[] =
        "{\n"
        "   \"//:all\": {\"deps\": [\"//app:app\"], \"metadata\": {}, \"public\": \"*\",\n"
        "      \"testonly\": false, \"toolchain\": \"//tc:rustc\", \"type\": \"group\",\n"
        "      \"visibility\": [\"*\"]},\n"
        "   \"//app:app\": {\"type\": \"executable\", \"crate_name\": \"app\",\n"
        "      \"crate_root\": \"//app/main.rs\", \"sources\": [\"//app/main.rs\"],\n"
        "      \"deps\": [\"//lib:lib\"], \"outputs\": [\"//out/app\"]},\n"
        "   \"//lib:lib\": {\"type\": \"rust_library\", \"crate_name\": \"lib\",\n"
        "      \"crate_root\": \"//lib/lib.rs\", \"rustflags\": [\"--edition=2024\"],\n"
        "      \"outputs\": [\"//out/obj/lib/liblib.rlib\"]}\n"
        "}\n";

Test(gn_parse, desc_output_is_accepted)
{
        struct gn_fx fx;
        struct pm_crate *app;

        gn_fx_init(&fx, "{\"out_dir\": \"build/x\"}");
        cr_assert_eq(gn_fx_parse(&fx, desc_json, true), 0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->n_crates, 2);
        app = gn_fx_crate(&fx, "//app:app");
        cr_assert_str_eq(gn_fx_crate(&fx, "//lib:lib")->edition, "2024");
        /* no ninja files under build/x: the JSON deps, under crate names */
        cr_assert_eq(app->n_deps, 1);
        cr_assert(pm_test_crate_has_dep(app, "//lib:lib", NULL));
        cr_assert(gn_graph_has_warning(fx.g, "build/x/obj/app/app.ninja"));
        /* no gen_input_files in desc output: the declaring BUILD.gn files and .gn are watched */
        cr_assert(has_str(&fx.g->build_files, &fx, "app/BUILD.gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, "lib/BUILD.gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, ".gn"));
        cr_assert(has_str(&fx.g->build_files, &fx, "build/x/args.gn"));
        gn_fx_release(&fx);
}

Test(gn_parse, desc_output_reads_renames_from_the_configured_out_dir)
{
        struct gn_fx fx;
        struct pm_crate *app;
        char *doc, *p;

        gn_fx_init(&fx, "{\"out_dir\": \"bld\"}");
        doc = pm_test_strf("%s", desc_json);
        while ((p = strstr(doc, "//out/")))
                memcpy(p, "//bld/", 6);
        gn_fx_write(&fx, "bld/obj/app/app.ninja",
                    "build app: rust_bin ../app/main.rs\n"
                    "  externs = --extern renamed=obj/lib/liblib.rlib\n");
        cr_assert_eq(gn_fx_parse(&fx, doc, true), 0, "%s", fx.err.msg);
        app = gn_fx_crate(&fx, "//app:app");
        cr_assert_eq(app->n_deps, 1);
        cr_assert(pm_test_crate_has_dep(app, "//lib:lib", "renamed"));
        pm_free(doc);
        gn_fx_release(&fx);
}

Test(gn_parse, out_dir_outside_the_root_uses_system_absolute_paths)
{
        struct gn_fx fx;
        char *doc;

        gn_fx_init(&fx, NULL);
        /* GN prints files outside the source root as "/abs/..." (one slash). */
        doc = pm_test_strf(
                "{\"build_settings\": {\"build_dir\": \"@ROOT@-out/\", \"root_path\": \"@ROOT@\"},"
                " \"targets\": {\"//m:m\": {\"type\": \"rust_proc_macro\", \"crate_name\": \"m\","
                " \"crate_root\": \"//m/lib.rs\", \"outputs\": [\"@ROOT@-out/obj/m/libm.so\"]}}}");
        cr_assert_eq(gn_fx_parse(&fx, doc, true), 0, "%s", fx.err.msg);
        {
                char *want = pm_test_strf("%s-out/obj/m/libm.so", fx.root);
                char *args = pm_test_strf("%s-out/args.gn", fx.root);

                cr_assert_str_eq(gn_fx_crate(&fx, "//m:m")->proc_macro_dylib, want);
                cr_assert(pm_strlist_contains(&fx.g->build_files, args));
                pm_free(want);
                pm_free(args);
        }
        pm_free(doc);
        gn_fx_release(&fx);
}

Test(gn_parse, failing_allocations_fail_cleanly)
{
        struct gn_fx fx;
        unsigned long n;
        int r = -ENOMEM;

        gn_fx_init(&fx, NULL);
        gn_fx_write(&fx, "out/obj/a/a.ninja", "  externs = --extern bee=obj/b/libb.rlib\n");
        for (n = 1; n < 100000 && r == -ENOMEM; n++) {
                fx.fail_at = n;
                r = gn_fx_parse(&fx, project_json, true);
                cr_assert(r == 0 || r == -ENOMEM, "allocation %lu: %d %s", n, r, fx.err.msg);
        }
        cr_assert_eq(r, 0);
        fx.fail_at = 0;
        cr_assert(n > 10, "the parse should allocate");
        cr_assert(pm_test_crate_has_dep(gn_fx_crate(&fx, "//a:a"), "//b:b", "bee"));
        gn_fx_release(&fx);
}
