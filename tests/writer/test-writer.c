/* SPDX-License-Identifier: MIT */
/* The rust-project.json writer: every field, renames, ordering, errors, closure stability, and a
 * real tree checked by the strict validator and by rustc itself. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "graph-fixture.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static cJSON *
render(const struct pm_graph *g, const struct pm_writer_options *opts)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        cJSON *root;

        cr_assert_eq(pm_writer_render(g, opts, &sb, &err), 0, "%s", err.msg);
        cr_assert_gt(sb.len, 1);
        cr_assert_eq(sb.buf[sb.len - 1], '\n');
        cr_assert_null(memchr(sb.buf, '\n', sb.len - 1), "compact output has one line");
        root = cJSON_Parse(sb.buf);
        cr_assert_not_null(root);
        pm_strbuf_release(&sb);
        return root;
}

static void
assert_no_null(const cJSON *item, const char *path)
{
        cr_assert(!cJSON_IsNull(item), "null at %s", path);
        for (const cJSON *c = item->child; c; c = c->next)
                assert_no_null(c, c->string ? c->string : path);
}

static const cJSON *
crate_at(const cJSON *root, int i)
{
        const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "crates"), i);

        cr_assert_not_null(c, "no crate %d", i);
        return c;
}

static const cJSON *
field(const cJSON *obj, const char *key)
{
        return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const char *
str(const cJSON *obj, const char *key)
{
        const cJSON *v = field(obj, key);

        cr_assert(cJSON_IsString(v), "'%s' is not a string", key);
        return v->valuestring;
}

/* The labels in output order, recovered through root_module (unique in these graphs). */
static const struct pm_crate *
crate_by_root(const struct pm_graph *g, const char *root)
{
        for (size_t i = 0; i < g->n_crates; i++)
                if (strcmp(g->crates[i].root_module, root) == 0)
                        return &g->crates[i];
        cr_assert_fail("no crate with root '%s'", root);
        return NULL;
}

/* base <- {left, right(renames base to base2)} <- app <- tool, in /w. */
static struct pm_graph *
diamond(void)
{
        struct pm_graph *g = pm_graph_new();

        cr_assert_not_null(pm_fx_crate(g, "/w", "//tool:tool", "tool"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//app:app", "app"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//right:right", "right"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//left:left", "left"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//base:base", "base"));
        cr_assert_eq(pm_fx_dep(g, "//tool:tool", "//app:app", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//right:right", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//left:left", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//left:left", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//right:right", "//base:base", "base2"), 0);
        return g;
}

Test(writer_project, every_field_of_a_crate)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_writer_options opts = { .sysroot = "/opt/rust",
                                          .sysroot_src = "/opt/rust/lib/rustlib/src/rust/library",
                                          .proc_macro_cwd = "/w" };
        struct pm_crate *c;
        const cJSON *j, *dep, *src, *build;
        cJSON *root;

        c = pm_fx_crate(g, "/w", "//d:my_derive", "my_derive");
        cr_assert_not_null(c);
        c->display_name = pm_graph_strdup(g, "my-derive");
        c->kind = PM_CRATE_PROC_MACRO;
        c->edition = pm_graph_strdup(g, "2018");
        c->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
        c->proc_macro_dylib = pm_graph_strdup(g, "/w/out/libmy_derive.so");
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"a b\""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "OUT_DIR", "/w/out/gen"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "QUOTED", "say \"hi\""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/my_derive"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/out/gen"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, "--cfg=ignored_by_writer"), 0);
        c = pm_fx_crate(g, "/w", "//b:bin", "bin");
        cr_assert_not_null(c);
        c->display_name = NULL;
        c->kind = PM_CRATE_BIN;
        c->root_module = pm_graph_strdup(g, "/w/bin/main.rs");
        /* A lib with a dylib set is no proc macro: no dylib path in the output. */
        c = pm_fx_crate(g, "/w", "//ext:ext", "ext");
        cr_assert_not_null(c);
        c->is_workspace_member = false;
        c->proc_macro_dylib = pm_graph_strdup(g, "/w/out/libext.so");
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//d:my_derive", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//ext:ext", "ext_renamed"), 0);

        root = render(g, &opts);
        assert_no_null(root, "root");
        cr_assert_str_eq(str(root, "sysroot"), "/opt/rust");
        cr_assert_str_eq(str(root, "sysroot_src"), "/opt/rust/lib/rustlib/src/rust/library");
        cr_assert_eq(cJSON_GetArraySize(field(root, "crates")), 3);

        /* Order: ext and my_derive (no deps, by label: //d < //ext), then bin. */
        j = crate_at(root, 0);
        cr_assert_str_eq(str(j, "display_name"), "my-derive");
        cr_assert_str_eq(str(j, "root_module"), "/w/my_derive/src/lib.rs");
        cr_assert_str_eq(str(j, "edition"), "2018");
        cr_assert(cJSON_IsArray(field(j, "deps")));
        cr_assert_eq(cJSON_GetArraySize(field(j, "deps")), 0);
        cr_assert_str_eq(cJSON_GetArrayItem(field(j, "cfg"), 0)->valuestring, "feature=\"a b\"");
        cr_assert_str_eq(cJSON_GetArrayItem(field(j, "cfg"), 1)->valuestring, "unix");
        cr_assert_str_eq(str(field(j, "env"), "OUT_DIR"), "/w/out/gen");
        cr_assert_str_eq(str(field(j, "env"), "QUOTED"), "say \"hi\"");
        cr_assert(cJSON_IsTrue(field(j, "is_workspace_member")));
        src = field(j, "source");
        cr_assert_eq(cJSON_GetArraySize(field(src, "include_dirs")), 2);
        cr_assert_str_eq(cJSON_GetArrayItem(field(src, "include_dirs"), 1)->valuestring,
                         "/w/out/gen");
        cr_assert(cJSON_IsArray(field(src, "exclude_dirs")));
        cr_assert_eq(cJSON_GetArraySize(field(src, "exclude_dirs")), 0);
        cr_assert(cJSON_IsTrue(field(j, "is_proc_macro")));
        cr_assert_str_eq(str(j, "proc_macro_dylib_path"), "/w/out/libmy_derive.so");
        cr_assert_str_eq(str(j, "target"), "x86_64-unknown-linux-gnu");
        cr_assert_str_eq(str(j, "proc_macro_cwd"), "/w");
        build = field(j, "build");
        cr_assert_str_eq(str(build, "label"), "//d:my_derive");
        cr_assert_str_eq(str(build, "build_file"), "/w/my_derive/BUILD.gn");
        cr_assert_str_eq(str(build, "target_kind"), "lib");
        cr_assert_null(field(j, "flags"), "flags are not part of the schema");

        j = crate_at(root, 1);
        cr_assert_str_eq(str(j, "display_name"), "ext");
        cr_assert(cJSON_IsFalse(field(j, "is_workspace_member")));
        cr_assert(cJSON_IsFalse(field(j, "is_proc_macro")));
        cr_assert_null(field(j, "proc_macro_dylib_path"));
        cr_assert_null(field(j, "target"));
        cr_assert_null(field(j, "build"), "no build section for non-members");
        cr_assert_eq(cJSON_GetArraySize(field(j, "cfg")), 0);
        cr_assert(cJSON_IsObject(field(j, "env")));
        cr_assert_null(field(j, "env")->child);
        /* No include dirs: the root module's directory. */
        cr_assert_str_eq(
                cJSON_GetArrayItem(field(field(j, "source"), "include_dirs"), 0)->valuestring,
                "/w/ext/src");

        j = crate_at(root, 2);
        cr_assert_str_eq(str(j, "display_name"), "bin", "falls back to crate_name");
        cr_assert_str_eq(str(field(j, "build"), "target_kind"), "bin");
        dep = cJSON_GetArrayItem(field(j, "deps"), 0);
        cr_assert_eq(field(dep, "crate")->valueint, 0);
        cr_assert_str_eq(str(dep, "name"), "my_derive");
        dep = cJSON_GetArrayItem(field(j, "deps"), 1);
        cr_assert_eq(field(dep, "crate")->valueint, 1);
        cr_assert_str_eq(str(dep, "name"), "ext_renamed");
        cJSON_Delete(root);
        pm_graph_free(g);
}

Test(writer_project, optional_top_level_fields_are_omitted)
{
        struct pm_graph *g = diamond();
        struct pm_writer_options opts = { 0 };
        cJSON *root = render(g, &opts);

        cr_assert_null(field(root, "sysroot"));
        cr_assert_null(field(root, "sysroot_src"));
        cr_assert_null(field(crate_at(root, 0), "proc_macro_cwd"));
        cJSON_Delete(root);
        root = render(g, NULL);
        cr_assert_eq(cJSON_GetArraySize(field(root, "crates")), 5);
        cJSON_Delete(root);
        pm_graph_free(g);
}

Test(writer_project, test_target_kind_and_dash_in_dep_names)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c;
        const cJSON *dep;
        cJSON *root;

        cr_assert_not_null(pm_fx_crate(g, "/w", "//lib:lib", "the_lib"));
        c = pm_fx_crate(g, "/w", "//lib:lib_test", "lib_test");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_TEST;
        /* A rename that slipped through with '-' still comes out as a valid extern name. */
        cr_assert_eq(pm_fx_dep(g, "//lib:lib_test", "//lib:lib", "the-lib"), 0);
        root = render(g, NULL);
        cr_assert_str_eq(str(field(crate_at(root, 1), "build"), "target_kind"), "test");
        dep = cJSON_GetArrayItem(field(crate_at(root, 1), "deps"), 0);
        cr_assert_str_eq(str(dep, "name"), "the_lib");
        cJSON_Delete(root);
        pm_graph_free(g);
}

Test(writer_project, topological_order_ties_by_label)
{
        static const char *const want[] = { "//base:base", "//left:left", "//right:right",
                                            "//app:app", "//tool:tool" };
        struct pm_graph *g = diamond();
        cJSON *root;

        /* Extra roots with no deps sort among the first by label. */
        cr_assert_not_null(pm_fx_crate(g, "/w", "//aaa:aaa", "aaa"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//zzz:zzz", "zzz"));
        root = render(g, NULL);
        cr_assert_str_eq(str(field(crate_at(root, 0), "build"), "label"), "//aaa:aaa");
        cr_assert_str_eq(str(field(crate_at(root, 1), "build"), "label"), want[0]);
        for (int i = 1; i < 5; i++)
                cr_assert_str_eq(str(field(crate_at(root, i + 1), "build"), "label"), want[i]);
        cr_assert_str_eq(str(field(crate_at(root, 6), "build"), "label"), "//zzz:zzz");
        /* app's deps keep their declared order (right, then left) with correct indices. */
        {
                const cJSON *deps = field(crate_at(root, 4), "deps");

                cr_assert_eq(field(cJSON_GetArrayItem(deps, 0), "crate")->valueint, 3);
                cr_assert_eq(field(cJSON_GetArrayItem(deps, 1), "crate")->valueint, 2);
        }
        cJSON_Delete(root);
        pm_graph_free(g);
}

Test(writer_project, dangling_dep_names_both_crates)
{
        struct pm_graph *g = diamond();
        struct pm_error err = { 0 };
        cJSON *root = NULL;

        cr_assert_eq(pm_fx_dep(g, "//left:left", "//gone:gone", NULL), 0);
        cr_assert_eq(pm_writer_project(g, NULL, &root, &err), PM_ESCHEMA);
        cr_assert_null(root);
        cr_assert(strstr(err.msg, "'//left:left'") && strstr(err.msg, "'//gone:gone'"), "%s",
                  err.msg);
        pm_graph_free(g);
}

Test(writer_project, cycle_is_an_error_naming_the_cycle)
{
        struct pm_graph *g = diamond();
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };

        cr_assert_eq(pm_fx_dep(g, "//base:base", "//app:app", NULL), 0);
        cr_assert_eq(pm_writer_render(g, NULL, &sb, &err), PM_ESCHEMA);
        cr_assert_eq(sb.len, 0);
        cr_assert(strstr(err.msg, "cycle"), "%s", err.msg);
        cr_assert(strstr(err.msg, "'//app:app'") && strstr(err.msg, "'//base:base'"), "%s",
                  err.msg);
        cr_assert_null(strstr(err.msg, "//tool:tool"), "tool is not on the cycle: %s", err.msg);
        pm_graph_free(g);

        g = pm_graph_new();
        cr_assert_not_null(pm_fx_crate(g, "/w", "//self:self", "self_"));
        cr_assert_eq(pm_fx_dep(g, "//self:self", "//self:self", NULL), 0);
        cr_assert_eq(pm_writer_render(g, NULL, &sb, &err), PM_ESCHEMA);
        cr_assert(strstr(err.msg, "'//self:self' -> '//self:self'"), "%s", err.msg);
        pm_graph_free(g);
}

Test(writer_project, missing_required_field_is_an_error)
{
        struct pm_graph *g = diamond();
        struct pm_error err = { 0 };
        cJSON *root = NULL;

        pm_graph_find(g, "//left:left")->edition = NULL;
        cr_assert_eq(pm_writer_project(g, NULL, &root, &err), PM_ESCHEMA);
        cr_assert(strstr(err.msg, "'//left:left'") && strstr(err.msg, "edition"), "%s", err.msg);
        pm_graph_free(g);
}

/* Print crate @i of @root with every deps[].crate index replaced by the dep's label. */
static char *
crate_by_labels(const cJSON *root, const struct pm_graph *g, int i)
{
        const cJSON *crates = field(root, "crates");
        cJSON *copy = cJSON_Duplicate(crate_at(root, i), true);
        const cJSON *dep;
        char *s;

        cJSON_ArrayForEach(dep, field(copy, "deps"))
        {
                const cJSON *target = cJSON_GetArrayItem(crates, field(dep, "crate")->valueint);
                const char *label = crate_by_root(g, str(target, "root_module"))->label;

                cr_assert(cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)dep, "crate",
                                                                 cJSON_CreateString(label)));
        }
        s = cJSON_PrintUnformatted(copy);
        cJSON_Delete(copy);
        return s;
}

Test(writer_project, crate_objects_identical_in_any_closure)
{
        struct pm_graph *full = diamond(), *part = pm_graph_new();
        struct pm_writer_options opts = { .sysroot = "/opt/rust",
                                          .sysroot_src = "/opt/rust/lib/rustlib/src/rust/library",
                                          .proc_macro_cwd = "/w" };
        cJSON *a, *b;
        int n_part;

        /* The closure of //right:right, plus an unrelated crate. */
        cr_assert_not_null(pm_graph_copy_crate(part, pm_graph_find(full, "//base:base")));
        cr_assert_not_null(pm_graph_copy_crate(part, pm_graph_find(full, "//right:right")));
        cr_assert_not_null(pm_fx_crate(part, "/w", "//aaa:aaa", "aaa"));
        cr_assert_not_null(pm_fx_crate(full, "/w", "//other:other", "other"));
        a = render(full, &opts);
        b = render(part, &opts);
        n_part = cJSON_GetArraySize(field(b, "crates"));
        cr_assert_eq(n_part, 3);
        for (int i = 0; i < n_part; i++) {
                const char *root_module = str(crate_at(b, i), "root_module");
                const struct pm_crate *c = crate_by_root(part, root_module);
                char *sa = NULL, *sb = crate_by_labels(b, part, i);

                if (strcmp(c->label, "//aaa:aaa") == 0) {
                        cJSON_free(sb);
                        continue;
                }
                for (int k = 0; k < cJSON_GetArraySize(field(a, "crates")); k++)
                        if (strcmp(str(crate_at(a, k), "root_module"), root_module) == 0)
                                sa = crate_by_labels(a, full, k);
                cr_assert_not_null(sa, "'%s' missing from the full project", c->label);
                cr_assert_str_eq(sa, sb);
                cJSON_free(sa);
                cJSON_free(sb);
        }
        cJSON_Delete(a);
        cJSON_Delete(b);
        pm_graph_free(full);
        pm_graph_free(part);
}

Test(writer_project, pretty_output_is_the_same_json)
{
        struct pm_graph *g = diamond();
        struct pm_writer_options pretty = { .pretty = true };
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        cJSON *compact = render(g, NULL), *p;

        cr_assert_eq(pm_strbuf_adds(&sb, "prefix:"), 0);
        cr_assert_eq(pm_writer_render(g, &pretty, &sb, &err), 0, "%s", err.msg);
        cr_assert_eq(strncmp(sb.buf, "prefix:", 7), 0, "render appends");
        cr_assert_not_null(strchr(sb.buf + 7, '\n'));
        cr_assert_eq(sb.buf[sb.len - 1], '\n');
        p = cJSON_Parse(sb.buf + 7);
        cr_assert(cJSON_Compare(p, compact, true));
        cJSON_Delete(p);
        cJSON_Delete(compact);
        pm_strbuf_release(&sb);
        pm_graph_free(g);
}

Test(writer_project, deterministic_across_input_order)
{
        struct pm_graph *g = diamond(), *r = pm_graph_new();
        struct pm_strbuf s1 = PM_STRBUF_INIT, s2 = PM_STRBUF_INIT;
        struct pm_error err = { 0 };

        for (size_t i = g->n_crates; i-- > 0;)
                cr_assert_not_null(pm_graph_copy_crate(r, &g->crates[i]));
        cr_assert_eq(pm_writer_render(g, NULL, &s1, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_writer_render(r, NULL, &s2, &err), 0, "%s", err.msg);
        cr_assert_str_eq(s1.buf, s2.buf);
        pm_strbuf_release(&s1);
        pm_strbuf_release(&s2);
        pm_graph_free(g);
        pm_graph_free(r);
}

Test(writer_project, out_of_memory_is_reported)
{
        struct pm_graph *g = diamond();
        struct pm_error err = { 0 };
        unsigned long n;
        int r = -ENOMEM;

        pm_mem_install_hooks();
        for (n = 1; r == -ENOMEM && n < 10000; n++) {
                struct pm_strbuf sb = PM_STRBUF_INIT;

                pm_mem_fail_at(n);
                r = pm_writer_render(g, NULL, &sb, &err);
                pm_mem_fail_at(0);
                if (r == -ENOMEM)
                        cr_assert_eq(sb.len, 0);
                pm_strbuf_release(&sb);
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        /* The ordering's arrays and the output buffer at least (the render builds no tree). */
        cr_assert_gt(n, 10);
        pm_graph_free(g);
}

/*
 * A real tree: base (cfg feature="fast"), derive (a proc macro), mid (renames base), app (a bin
 * using all three). The output must pass the strict validator and type-check with rustc.
 */
Test(writer_project, real_tree_validates_and_type_checks, .timeout = 120)
{
        char *dir = pm_test_mkdtemp();
        struct pm_graph *g = pm_graph_new();
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_writer_options opts = { .proc_macro_cwd = dir };
        struct pm_error err = { 0 };
        char *errors = NULL, *report = NULL;
        struct pm_crate *c;
        char *p;

        cr_assert_not_null(dir);
        p = pm_test_strf("%s/base/src/lib.rs", dir);
        cr_assert_eq(pm_test_write_file(p, "#[cfg(feature = \"fast\")]\n"
                                           "pub fn speed() -> u32 { 1 }\n"),
                     0);
        pm_free(p);
        p = pm_test_strf("%s/derive/lib.rs", dir);
        cr_assert_eq(pm_test_write_file(p, "extern crate proc_macro;\n"
                                           "use proc_macro::TokenStream;\n"
                                           "#[proc_macro_derive(Hello)]\n"
                                           "pub fn hello(_i: TokenStream) -> TokenStream {\n"
                                           "    \"impl Hello for S { }\".parse().unwrap()\n"
                                           "}\n"),
                     0);
        pm_free(p);
        p = pm_test_strf("%s/mid/src/lib.rs", dir);
        cr_assert_eq(pm_test_write_file(p, "pub fn twice() -> u32 { b::speed() * 2 }\n"), 0);
        pm_free(p);
        p = pm_test_strf("%s/app/src/main.rs", dir);
        cr_assert_eq(pm_test_write_file(p, "trait Hello {}\n"
                                           "#[derive(my_derive::Hello)]\n"
                                           "struct S;\n"
                                           "fn main() { let _ = (mid::twice(), S); }\n"),
                     0);
        pm_free(p);
        p = pm_test_strf("%s/BUILD.gn", dir);
        cr_assert_eq(pm_test_write_file(p, "# stands in for the build file\n"), 0);
        pm_free(p);

        c = pm_fx_crate(g, dir, "//base:base", "base");
        cr_assert_not_null(c);
        c->build_file = pm_graph_printf(g, "%s/BUILD.gn", dir);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"fast\""), 0);
        c = pm_fx_crate(g, dir, "//derive:derive", "my_derive");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_PROC_MACRO;
        c->display_name = pm_graph_strdup(g, "my-derive");
        c->root_module = pm_graph_printf(g, "%s/derive/lib.rs", dir);
        c->build_file = pm_graph_printf(g, "%s/BUILD.gn", dir);
        c->is_workspace_member = false;
        c = pm_fx_crate(g, dir, "//mid:mid", "mid");
        cr_assert_not_null(c);
        c->build_file = pm_graph_printf(g, "%s/BUILD.gn", dir);
        c = pm_fx_crate(g, dir, "//app:app", "app");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_BIN;
        c->root_module = pm_graph_printf(g, "%s/app/src/main.rs", dir);
        c->build_file = pm_graph_printf(g, "%s/BUILD.gn", dir);
        cr_assert_eq(pm_fx_dep(g, "//mid:mid", "//base:base", "b"), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//mid:mid", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//app:app", "//derive:derive", NULL), 0);
        cr_assert_eq(pm_graph_validate(g, false, &err), 0, "%s", err.msg);

        cr_assert_eq(pm_writer_render(g, &opts, &sb, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_test_validate_project(sb.buf, sb.len, &errors), 0, "%s\n%s",
                     errors ? errors : "", sb.buf);
        cr_assert_eq(pm_test_rustc_check_project(sb.buf, dir, &report), 0, "%s",
                     report ? report : "");
        pm_free(errors);
        pm_free(report);
        pm_strbuf_release(&sb);
        pm_graph_free(g);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(dir);
}

Test(writer_project, runnables_only_when_a_program_is_given)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_writer_options opts = { .proc_macro_cwd = "/w" };
        struct pm_error err = { 0 };
        const cJSON *runs, *r;
        cJSON *root = NULL;
        int n = 0;

        cr_assert_not_null(pm_fx_crate(g, "/w", "//a:a", "a"));
        cr_assert_eq(pm_writer_project(g, &opts, &root, &err), 0);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(root, "runnables"));
        cJSON_Delete(root);
        opts.runnables_program = "/opt/bin/projmodel";
        cr_assert_eq(pm_writer_project(g, &opts, &root, &err), 0);
        runs = cJSON_GetObjectItemCaseSensitive(root, "runnables");
        cr_assert(cJSON_IsArray(runs));
        cJSON_ArrayForEach(r, runs)
        {
                const char *kind = cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring;
                const cJSON *args = cJSON_GetObjectItemCaseSensitive(r, "args");

                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "program")->valuestring,
                                 "/opt/bin/projmodel");
                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(r, "cwd")->valuestring, "/w");
                cr_assert_str_eq(cJSON_GetArrayItem(args, 1)->valuestring, "{label}");
                if (strcmp(kind, "flycheck") == 0)
                        cr_assert_str_eq(cJSON_GetArrayItem(args, 2)->valuestring, "{saved_file}");
                else if (strcmp(kind, "testOne") == 0)
                        cr_assert_str_eq(cJSON_GetArrayItem(args, 2)->valuestring, "{test_id}");
                else
                        cr_assert_str_eq(kind, "run");
                n++;
        }
        cr_assert_eq(n, 3);
        cJSON_Delete(root);
        pm_graph_free(g);
}
