/* SPDX-License-Identifier: MIT */
/* Tests for reading `externs` (the aliased_deps renames) from GN-generated ninja files. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/gn/gn-internal.h"
#include "testlib.h"

static void
parse(struct pm_arena *a, const char *value, struct pm__gn_extern **v, size_t *n)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm__gn_parse_externs(a, value, strlen(value), "x.ninja", v, n, &err), 0, "%s",
                     err.msg);
}

Test(gn_ninja, pairs_in_both_spellings_with_ninja_escapes)
{
        struct pm_arena *a = pm_arena_new();
        struct pm__gn_extern *v;
        size_t n;

        parse(a,
              " --extern utils2=obj/lib/my$ dir/libutil.rlib -Lfoo --extern=b=/abs/c$:d/libb.rlib"
              " --extern core --extern d=obj/x$$y.rlib",
              &v, &n);
        cr_assert_eq(n, 3);
        cr_assert_str_eq(v[0].name, "utils2");
        cr_assert_str_eq(v[0].path, "obj/lib/my dir/libutil.rlib");
        cr_assert_str_eq(v[1].name, "b");
        cr_assert_str_eq(v[1].path, "/abs/c:d/libb.rlib");
        cr_assert_str_eq(v[2].name, "d");
        cr_assert_str_eq(v[2].path, "obj/x$y.rlib");
        parse(a, "", &v, &n);
        cr_assert_eq(n, 0);
        cr_assert_null(v);
        pm_arena_free(a);
}

Test(gn_ninja, extern_without_value_is_bad_tool_output)
{
        struct pm_arena *a = pm_arena_new();
        struct pm__gn_extern *v;
        struct pm_error err = { 0 };
        size_t n;

        cr_assert_eq(
                pm__gn_parse_externs(a, "--extern a=x --extern", 21, "/o/x.ninja", &v, &n, &err),
                PM_EBADTOOLOUTPUT);
        cr_assert(strstr(err.msg, "/o/x.ninja"));
        pm_arena_free(a);
}

Test(gn_ninja, file_reader_finds_the_edge_variable_and_continuations)
{
        struct pm_arena *a = pm_arena_new();
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/obj/t.ninja", dir);
        struct pm__gn_extern *v;
        struct pm_error err = { 0 };
        size_t n;

        cr_assert_eq(pm_test_write_file(path, "crate_name = t\n"
                                              "rustflags = --externs-not-this\n"
                                              "build obj/libt.rlib: rust_rlib ../t.rs\n"
                                              "  externs = --extern a=obj/liba.rlib $\n"
                                              "      --extern b=obj/libb.rlib\n"
                                              "  rustdeps = -Ldependency=obj\n"),
                     0);
        cr_assert_eq(pm__gn_ninja_read_externs(a, path, &v, &n, &err), 1, "%s", err.msg);
        cr_assert_eq(n, 2);
        cr_assert_str_eq(v[1].name, "b");
        cr_assert_str_eq(v[1].path, "obj/libb.rlib");

        cr_assert_eq(pm_test_write_file(path, "build x: stamp\n"), 0);
        cr_assert_eq(pm__gn_ninja_read_externs(a, path, &v, &n, &err), 0);
        cr_assert_eq(n, 0);

        cr_assert_eq(pm_test_rmtree(dir), 0);
        cr_assert_eq(pm__gn_ninja_read_externs(a, path, &v, &n, &err), -ENOENT);
        pm_free(path);
        pm_free(dir);
        pm_arena_free(a);
}

/* Where GN writes a target's ninja file, for every label shape; the relative form (the daemon's
 * partial parse stats these) is the absolute one without its build directory. */
Test(gn_ninja, ninja_file_paths_of_every_label_shape)
{
        static const char *const cases[][2] = {
                { "//a/b:c", "obj/a/b/c.ninja" },
                { "//:root", "obj/root.ninja" },
                { "//a/b", "obj/a/b/b.ninja" },
                { "//a:c(//build/toolchain:host)", "host/obj/a/c.ninja" },
                { "//a/b(//tc)", "tc/obj/a/b/b.ninja" },
        };
        struct pm_error err = { 0 };
        struct pm__gn_ctx c = { .tmp = pm_arena_new(), .out_dir = "/w/out", .err = &err };
        char buf[64], *path;

        cr_assert_not_null(c.tmp);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *label = cases[i][0], *want = cases[i][1];

                cr_assert_eq(pm__gn_ninja_rel(label, strlen(label), buf, sizeof(buf)),
                             strlen(want));
                cr_assert_str_eq(buf, want);
                cr_assert_eq(pm__gn_ninja_path(&c, label, &path), 0, "%s", err.msg);
                cr_assert_eq(strncmp(path, "/w/out/", 7), 0, "%s", path);
                cr_assert_str_eq(path + 7, want);
                /* A buffer one byte short of the path and its NUL: nothing written. */
                cr_assert_eq(pm__gn_ninja_rel(label, strlen(label), buf, strlen(want)), 0);
        }
        pm_arena_free(c.tmp);
}
