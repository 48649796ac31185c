/* SPDX-License-Identifier: MIT */
/* pm_index_load() gives back exactly what was applied; pm_index_check() notices damage. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

/* A crate with every field set, including the optional ones. */
static void
add_full_crate(struct pm_graph *g)
{
        struct pm_crate *c = pm_fx_crate(g, "/f", "//full:derive(//tc:host)", "full_derive");

        cr_assert_not_null(c);
        c->display_name = pm_graph_strdup(g, "full-derive");
        c->kind = PM_CRATE_PROC_MACRO;
        c->edition = pm_graph_strdup(g, "2018");
        c->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
        c->proc_macro_dylib = pm_graph_strdup(g, "/f/out/libfull_derive.so");
        c->is_workspace_member = false;
        c->note = pm_graph_strdup(g, "build script not run");
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"a b\""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "Z_LAST", "1"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "A_FIRST", "with \"quotes\" and =="), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "EMPTY", ""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, "--cfg"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, "feature=\"a b\""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->sources, "/f/full_derive/src/lib.rs"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/f/full_derive"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/f/out/gen"), 0);
        cr_assert_eq(pm_crate_add_dep(g, c, "//dep:dep", "renamed"), 0);
        cr_assert_eq(pm_crate_add_dep(g, c, "//gone:gone", NULL), 0);
}

static void
assert_same_crates(const struct pm_graph *want, const struct pm_graph *got)
{
        cr_assert_eq(got->n_crates, want->n_crates);
        for (size_t i = 0; i < want->n_crates; i++) {
                const struct pm_crate *c = pm_graph_lookup(got, want->crates[i].label);

                cr_assert_not_null(c, "'%s' not loaded", want->crates[i].label);
                cr_assert(pm_crate_equal(&want->crates[i], c), "'%s' differs",
                          want->crates[i].label);
        }
}

Test(indexer_load, roundtrip_equals_what_was_applied)
{
        struct pm_graph *g = pm_graph_new(), *got = NULL;
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        const struct pm_crate *c;

        add_full_crate(g);
        cr_assert_not_null(pm_fx_crate(g, "/f", "//dep:dep", "dep"));
        cr_assert_eq(pm_strlist_push(g, &g->build_files, "/f/dep/BUILD.gn"), 0);
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "f", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &got, &err), 0, "%s", err.msg);
        assert_same_crates(g, got);
        /* Order matters where the model keeps it: env and cfg as given. */
        c = pm_graph_lookup(got, "//full:derive(//tc:host)");
        cr_assert_str_eq(c->env.v[0].key, "Z_LAST");
        cr_assert_str_eq(c->env.v[1].value, "with \"quotes\" and ==");
        cr_assert_str_eq(c->env.v[2].value, "");
        cr_assert_str_eq(c->cfgs.v[0], "feature=\"a b\"");
        cr_assert_str_eq(c->deps[0].name, "renamed");
        cr_assert_null(c->deps[1].name);
        cr_assert_eq(got->build_files.n, 1);
        cr_assert_str_eq(got->build_files.v[0], "/f/dep/BUILD.gn");
        pm_graph_free(got);
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_load, subset_keeps_dep_labels)
{
        struct pm_graph *g = pm_graph_new(), *got = NULL;
        const char *want[] = { "//full:derive(//tc:host)" };
        const char *bad[] = { "//full:derive(//tc:host)", "//gone:gone" };
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;

        add_full_crate(g);
        cr_assert_not_null(pm_fx_crate(g, "/f", "//dep:dep", "dep"));
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "f", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_load(idx, want, 1, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(got->n_crates, 1);
        cr_assert(pm_crate_equal(pm_graph_find(g, want[0]), &got->crates[0]));
        cr_assert_eq(got->crates[0].n_deps, 2);
        pm_graph_free(got);
        got = NULL;
        cr_assert_eq(pm_index_load(idx, bad, 2, &got, &err), PM_ENOTFOUND);
        cr_assert_null(got);
        cr_assert(strstr(err.msg, "'//gone:gone'"), "%s", err.msg);
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_load, large_roundtrip)
{
        struct pm_graph *g = pm_fx_synthetic(3000, 0), *got = NULL;
        const char *some[] = { "//c10:crate_100", "//c299:crate_2999" };
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;

        cr_assert_not_null(g);
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "big", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &got, &err), 0, "%s", err.msg);
        assert_same_crates(g, got);
        cr_assert_eq(got->build_files.n, 300);
        pm_graph_free(got);
        cr_assert_eq(pm_index_load(idx, some, 2, &got, &err), 0, "%s", err.msg);
        cr_assert_eq(got->n_crates, 2);
        cr_assert(pm_crate_equal(pm_graph_find(g, some[0]), pm_graph_lookup(got, some[0])));
        cr_assert(pm_crate_equal(pm_graph_find(g, some[1]), pm_graph_lookup(got, some[1])));
        pm_graph_free(got);
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_load, integrity_check_reports_damage)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/model.db", dir);
        struct pm_graph *g = pm_fx_synthetic(500, 0);
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        char junk[4096];
        struct stat st;
        int fd, r;

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "s", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        pm_index_close(idx); /* the last close checkpoints the WAL into the file */

        /* Overwrite the second half of the file: b-tree pages, not the header or schema. */
        fd = open(path, O_WRONLY | O_CLOEXEC);
        cr_assert_geq(fd, 0);
        cr_assert_eq(fstat(fd, &st), 0);
        cr_assert_gt(st.st_size, 16 * 4096);
        memset(junk, 0x5a, sizeof(junk));
        for (off_t off = st.st_size / 2 / 4096 * 4096; off < st.st_size; off += 4096 * 3)
                cr_assert_eq(pwrite(fd, junk, sizeof(junk), off), (ssize_t)sizeof(junk));
        close(fd);

        r = pm_index_open(path, &idx, &err);
        if (r == 0) {
                r = pm_index_check(idx, &err);
                pm_index_close(idx);
        }
        cr_assert_eq(r, PM_EDB, "damage not reported (%d): %s", r, err.msg);
        cr_assert(strstr(err.msg, path), "%s", err.msg);
        pm_graph_free(g);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(path);
        pm_free(dir);
}

/* A snapshot replaces its file by rename: a FIFO (or /dev/null) at the path is refused and left
 * as it is, not replaced. */
Test(indexer_load, snapshot_refuses_a_non_regular_file)
{
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/fifo", dir);
        struct pm_index *idx = NULL;
        struct pm_error err = { 0 };
        struct stat st;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(mkfifo(path, 0600), 0);
        cr_assert_lt(pm_index_snapshot(idx, path, "/w", NULL, NULL, 0, &err), 0);
        cr_assert(strstr(err.msg, path) && strstr(err.msg, "not a regular file"), "%s", err.msg);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert(S_ISFIFO(st.st_mode), "the FIFO was replaced");
        pm_index_close(idx);
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

/* Where the proc macros' sources are, for the daemon's watch: each proc macro's root-module
 * directory and include dirs, each with the crate's build file; other crates are not listed. */
Test(indexer_load, proc_macro_dirs_pair_each_directory_with_its_build_file)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        char **v = NULL;

        add_full_crate(g);
        cr_assert_not_null(pm_fx_crate(g, "/f", "//dep:dep", "dep"));
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_proc_macro_dirs(idx, &v, &err), 0, "%s", err.msg);
        cr_assert_null(v[0], "an empty model has none");
        pm_labels_free(v);
        cr_assert_eq(pm_index_apply(idx, "f", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_proc_macro_dirs(idx, &v, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_labels_count(v), 6);
        cr_assert_str_eq(v[0], "/f/full_derive");
        cr_assert_str_eq(v[1], "/f/full_derive/BUILD.gn");
        cr_assert_str_eq(v[2], "/f/full_derive/src");
        cr_assert_str_eq(v[3], "/f/full_derive/BUILD.gn");
        cr_assert_str_eq(v[4], "/f/out/gen");
        cr_assert_str_eq(v[5], "/f/full_derive/BUILD.gn");
        pm_labels_free(v);
        pm_graph_free(g);
        pm_index_close(idx);
}

/* The files the proc macros declare, for the daemon's watch: a file moved or created onto one is
 * an edit of that proc macro; a new file beside it, or another crate's, is not. */
Test(indexer_load, proc_macros_for_file_are_only_declared_files)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        char **v = NULL;

        add_full_crate(g);
        cr_assert_not_null(pm_fx_crate(g, "/f", "//dep:dep", "dep"));
        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "f", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_proc_macros_for_file(idx, "/f/full_derive/src/lib.rs", &v, &err), 0,
                     "%s", err.msg);
        cr_assert_eq(pm_labels_count(v), 1);
        cr_assert_str_eq(v[0], "//full:derive(//tc:host)");
        pm_labels_free(v);
        /* In the proc macro's include dir, yet no crate lists it: the build system decides. */
        cr_assert_eq(pm_index_proc_macros_for_file(idx, "/f/full_derive/src/new.rs", &v, &err), 0,
                     "%s", err.msg);
        cr_assert_null(v[0]);
        pm_labels_free(v);
        cr_assert_eq(pm_index_proc_macros_for_file(idx, "/f/dep/src/lib.rs", &v, &err), 0, "%s",
                     err.msg);
        cr_assert_null(v[0], "a library's source is not a proc macro's");
        pm_labels_free(v);
        pm_graph_free(g);
        pm_index_close(idx);
}
