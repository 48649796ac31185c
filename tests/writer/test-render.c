/* SPDX-License-Identifier: MIT */
/* pm_writer_render() prints without building a cJSON tree: its bytes must be exactly what cJSON
 * prints for pm_writer_project()'s tree, compact and indented, on every field and on odd strings.
 */
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
#include "testlib.h"

/* Render @g both ways and require the same bytes. */
static void
assert_same_bytes(const struct pm_graph *g, const struct pm_writer_options *opts)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        cJSON *root = NULL;
        char *tree;

        cr_assert_eq(pm_writer_project(g, opts, &root, &err), 0, "%s", err.msg);
        tree = opts->pretty ? cJSON_Print(root) : cJSON_PrintUnformatted(root);
        cr_assert_not_null(tree);
        /* Appends, after what is already there. */
        cr_assert_eq(pm_strbuf_adds(&sb, "prefix"), 0);
        cr_assert_eq(pm_writer_render(g, opts, &sb, &err), 0, "%s", err.msg);
        cr_assert_eq(sb.len, 6 + strlen(tree) + 1, "lengths differ (pretty=%d)", opts->pretty);
        cr_assert_eq(memcmp(sb.buf, "prefix", 6), 0);
        if (memcmp(sb.buf + 6, tree, strlen(tree)) != 0) {
                size_t i = 0;

                while (sb.buf[6 + i] == tree[i])
                        i++;
                cr_assert_fail("byte %zu differs (pretty=%d): streamed '%.40s', tree '%.40s'", i,
                               opts->pretty, sb.buf + 6 + i, tree + i);
        }
        cr_assert_eq(sb.buf[sb.len - 1], '\n');
        cJSON_free(tree);
        cJSON_Delete(root);
        pm_strbuf_release(&sb);
}

static void
assert_same_both_ways(const struct pm_graph *g, struct pm_writer_options opts)
{
        opts.pretty = false;
        assert_same_bytes(g, &opts);
        opts.pretty = true;
        assert_same_bytes(g, &opts);
}

Test(writer_render, same_bytes_as_the_tree_on_every_field)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_writer_options opts = { .sysroot = "/opt/rust",
                                          .sysroot_src = "/opt/rust/lib/rustlib/src/rust/library",
                                          .proc_macro_cwd = "/w",
                                          .runnables_program = "/usr/bin/projmodel" };
        struct pm_crate *c;

        c = pm_fx_crate(g, "/w", "//d:my_derive", "my_derive");
        cr_assert_not_null(c);
        c->display_name = pm_graph_strdup(g, "my-derive");
        c->kind = PM_CRATE_PROC_MACRO;
        c->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
        c->proc_macro_dylib = pm_graph_strdup(g, "/w/out/libmy_derive.so");
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"a b\""), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "OUT_DIR", "/w/out/gen"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "ODD", "tab\there\nnl\r\b\f\x01\x1f\x7f/\\"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "UTF8", "gr\xc3\xbc\xc3\x9f \xe2\x82\xac"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/my_derive"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/w/out/gen"), 0);
        c = pm_fx_crate(g, "/w", "//b:bin", "bin");
        cr_assert_not_null(c);
        c->display_name = NULL;
        c->kind = PM_CRATE_BIN;
        c->root_module = pm_graph_strdup(g, "/w/bin/main.rs");
        c = pm_fx_crate(g, "/w", "//t:t-test", "t_test");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_TEST;
        c->crate_name = pm_graph_strdup(g, "t-test");
        /* No include dirs (the root module's directory is written), no build file, not a
         * member, a dylib that is not written (not a proc macro). */
        c = pm_fx_crate(g, "/w", "//ext:ext", "ext");
        cr_assert_not_null(c);
        c->is_workspace_member = false;
        c->proc_macro_dylib = pm_graph_strdup(g, "/w/out/libext.so");
        c = pm_fx_crate(g, "/w", "//nb:nb", "nb");
        cr_assert_not_null(c);
        c->build_file = NULL;
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//d:my_derive", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//ext:ext", "ext_renamed"), 0);
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//t:t-test", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//b:bin", "//nb:nb", "dash-ed"), 0);
        cr_assert_eq(pm_fx_dep(g, "//t:t-test", "//nb:nb", NULL), 0);
        for (size_t i = 0; i < g->n_crates; i++) {
                g->crates[i].include_dirs.n = strcmp(g->crates[i].label, "//ext:ext") == 0
                                                      ? 0
                                                      : g->crates[i].include_dirs.n;
        }

        assert_same_both_ways(g, opts);
        /* Without the optional top-level and per-crate options. */
        assert_same_both_ways(g, (struct pm_writer_options){ 0 });
        pm_graph_free(g);
}

Test(writer_render, same_bytes_as_the_tree_on_an_empty_graph)
{
        struct pm_graph *g = pm_graph_new();

        cr_assert_not_null(g);
        assert_same_both_ways(g,
                              (struct pm_writer_options){ .sysroot = "/s", .sysroot_src = "/s/l" });
        assert_same_both_ways(g, (struct pm_writer_options){ 0 });
        pm_graph_free(g);
}

Test(writer_render, same_bytes_as_the_tree_on_a_large_graph, .timeout = 120)
{
        struct pm_graph *g = pm_fx_synthetic(2000, 7);

        cr_assert_not_null(g);
        assert_same_both_ways(g, (struct pm_writer_options){ .sysroot = "/opt/rust",
                                                             .sysroot_src = "/opt/rust/lib",
                                                             .proc_macro_cwd = "/repo" });
        pm_graph_free(g);
}

Test(writer_render, errors_leave_the_buffer_as_it_was)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };

        cr_assert_not_null(pm_fx_crate(g, "/w", "//a:a", "a"));
        cr_assert_eq(pm_crate_add_dep(g, &g->crates[0], "//missing:missing", NULL), 0);
        cr_assert_eq(pm_strbuf_adds(&sb, "keep"), 0);
        cr_assert_eq(pm_writer_render(g, &(struct pm_writer_options){ 0 }, &sb, &err), PM_ESCHEMA);
        cr_assert(strstr(err.msg, "//missing:missing"), "%s", err.msg);
        cr_assert_eq(sb.len, 4);
        cr_assert_str_eq(sb.buf, "keep");
        pm_strbuf_release(&sb);
        pm_graph_free(g);
}
