/* SPDX-License-Identifier: MIT */
/* The model follows its configuration (indexer/sources.c): once the configured sources are set,
 * an apply removes every other source's crates, watched files and stamp in its own transaction,
 * and pm_index_prune() does it alone. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

static struct pm_index *
open_mem(void)
{
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "open: %s", err.msg);
        return idx;
}

/* A graph of crates @labels (a NULL-terminated list) under root @root, watching their files. */
static struct pm_graph *
graph(const char *root, const char *const *labels)
{
        struct pm_graph *g = pm_graph_new();

        for (size_t i = 0; labels[i]; i++) {
                struct pm_crate *c = pm_fx_crate(g, root, labels[i], "c");

                cr_assert_not_null(c);
                c->root_module = pm_graph_printf(g, "%s/c%zu/src/lib.rs", root, i);
                c->build_file = pm_graph_printf(g, "%s/c%zu/Cargo.toml", root, i);
                cr_assert_eq(pm_strlist_push(g, &g->build_files, c->build_file), 0);
        }
        return g;
}

static void
apply(struct pm_index *idx, const char *source, const struct pm_graph *g, const char *stamp,
      struct pm_change *ch)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_apply_stamped(idx, source, g, stamp, ch, &err), 0, "apply: %s",
                     err.msg);
}

static void
set_sources(struct pm_index *idx, const char *const *ids, size_t n)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_set_sources(idx, ids, n, &err), 0, "%s", err.msg);
}

static size_t
count(struct pm_index *idx)
{
        struct pm_error err = { 0 };
        size_t n = 99;

        cr_assert_eq(pm_index_count(idx, &n, &err), 0, "%s", err.msg);
        return n;
}

static bool
has(char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

Test(sources, a_removed_subproject_leaves_with_the_next_apply)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *root = graph("/r", (const char *[]){ "//a:a", "//b:b", NULL });
        struct pm_graph *sub = graph("/r/sub", (const char *[]){ "sub 0.1.0 (lib)", NULL });
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        char **files = NULL, *stamp = NULL;

        set_sources(idx, (const char *[]){ "gn:.", "cargo:sub" }, 2);
        apply(idx, "gn:.", root, NULL, &ch);
        pm_change_release(&ch);
        apply(idx, "cargo:sub", sub, "a stamp", &ch);
        pm_change_release(&ch);
        cr_assert_eq(count(idx), 3);

        /* The configuration drops the subproject; the next apply of the root drops its crates. */
        set_sources(idx, (const char *[]){ "gn:." }, 1);
        apply(idx, "gn:.", root, NULL, &ch);
        cr_assert_eq(ch.removed, 1);
        cr_assert_eq(ch.unchanged, 2);
        cr_assert(has(ch.labels, ch.n_labels, "sub 0.1.0 (lib)"));
        cr_assert(has(ch.build_files, ch.n_build_files, "/r/sub/c0/Cargo.toml"));
        cr_assert_eq(ch.build_files_changed, 1);
        pm_change_release(&ch);
        cr_assert_eq(count(idx), 2);
        cr_assert_eq(pm_index_build_files(idx, NULL, &files, &err), 0, "%s", err.msg);
        cr_assert_not(has(files, pm_labels_count(files), "/r/sub/c0/Cargo.toml"),
                      "no longer watched");
        pm_labels_free(files);
        cr_assert_eq(pm_index_source_stamp(idx, "cargo:sub", &stamp, &err), 0, "%s", err.msg);
        cr_assert_null(stamp, "its stamp goes too");

        pm_index_close(idx);
        pm_graph_free(root);
        pm_graph_free(sub);
}

/* The root's build system renamed: the new source's crates take the same labels in the same
 * transaction that drops the old ones (without the drop, the labels would clash). */
Test(sources, a_renamed_build_system_replaces_its_crates_in_one_transaction)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = graph("/r", (const char *[]){ "//a:a", "//b:b", NULL });
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        uint64_t gen = 0, gen2 = 0;

        set_sources(idx, (const char *[]){ "gn:." }, 1);
        apply(idx, "gn:.", g, NULL, &ch);
        pm_change_release(&ch);
        cr_assert_eq(pm_index_generation(idx, &gen, &err), 0);

        set_sources(idx, (const char *[]){ "bazel:." }, 1);
        apply(idx, "bazel:.", g, NULL, &ch);
        cr_assert_eq(ch.removed, 2);
        cr_assert_eq(ch.added, 2);
        cr_assert_eq(ch.generation, gen + 1, "one transaction, one generation");
        pm_change_release(&ch);
        cr_assert_eq(pm_index_generation(idx, &gen2, &err), 0);
        cr_assert_eq(gen2, gen + 1);
        cr_assert_eq(count(idx), 2);
        {
                char *src = NULL;

                cr_assert_eq(pm_index_crate_source(idx, "//a:a", &src, &err), 0, "%s", err.msg);
                cr_assert_str_eq(src, "bazel:.");
                pm_free(src);
        }
        pm_index_close(idx);
        pm_graph_free(g);
}

/* An apply that fails keeps everything, the stale source included. */
Test(sources, a_failed_apply_prunes_nothing)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *a = graph("/r", (const char *[]){ "//a:a", NULL });
        struct pm_graph *s = graph("/s", (const char *[]){ "//s:s", NULL });
        struct pm_graph *clash = graph("/t", (const char *[]){ "//a:a", NULL });
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };

        apply(idx, "gn:.", a, NULL, &ch);
        pm_change_release(&ch);
        apply(idx, "cargo:s", s, NULL, &ch);
        pm_change_release(&ch);
        set_sources(idx, (const char *[]){ "gn:.", "cargo:t" }, 2);
        /* //a:a belongs to gn:., which the configuration keeps: PM_EEXISTS, rolled back. */
        cr_assert_eq(pm_index_apply(idx, "cargo:t", clash, &ch, &err), PM_EEXISTS, "%s", err.msg);
        cr_assert_eq(count(idx), 2, "cargo:s is still there");
        pm_index_close(idx);
        pm_graph_free(a);
        pm_graph_free(s);
        pm_graph_free(clash);
}

Test(sources, prune_alone)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *a = graph("/r", (const char *[]){ "//a:a", NULL });
        struct pm_graph *s = graph("/s", (const char *[]){ "//s:s", "//s:t", NULL });
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        uint64_t gen = 0;

        apply(idx, "gn:.", a, NULL, &ch);
        pm_change_release(&ch);
        apply(idx, "cargo:s", s, NULL, &ch);
        pm_change_release(&ch);
        cr_assert_eq(pm_index_generation(idx, &gen, &err), 0);

        /* Without a configured set nothing goes. */
        cr_assert_eq(pm_index_prune(idx, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.removed, 0);
        cr_assert_eq(ch.generation, gen);
        pm_change_release(&ch);

        set_sources(idx, (const char *[]){ "gn:." }, 1);
        cr_assert_eq(pm_index_prune(idx, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.removed, 2);
        cr_assert_eq(ch.n_labels, 2);
        cr_assert_eq(ch.generation, gen + 1);
        pm_change_release(&ch);
        cr_assert_eq(count(idx), 1);

        /* Nothing left to drop: the generation stays. */
        cr_assert_eq(pm_index_prune(idx, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.removed, 0);
        cr_assert_eq(ch.generation, gen + 1);
        pm_change_release(&ch);

        /* Forgetting the set stops pruning. */
        set_sources(idx, NULL, 0);
        apply(idx, "cargo:s", s, NULL, &ch);
        pm_change_release(&ch);
        apply(idx, "gn:.", a, NULL, &ch);
        cr_assert_eq(ch.removed, 0);
        pm_change_release(&ch);
        cr_assert_eq(count(idx), 3);
        pm_index_close(idx);
        pm_graph_free(a);
        pm_graph_free(s);
}
