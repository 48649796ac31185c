/* SPDX-License-Identifier: MIT */
/* pm_index_apply(): diffs, partial graphs, failures that change nothing, persistence, schema
 * versions. Real SQLite files in temporary directories where persistence matters. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

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
        int r = pm_index_open(":memory:", &idx, &err);

        cr_assert_eq(r, 0, "open: %s", err.msg);
        return idx;
}

/* a <- b <- c, all in /r, plus d with no deps. */
static struct pm_graph *
small_graph(void)
{
        struct pm_graph *g = pm_graph_new();

        cr_assert_not_null(pm_fx_crate(g, "/r", "//a:a", "a"));
        cr_assert_not_null(pm_fx_crate(g, "/r", "//b:b", "b"));
        cr_assert_not_null(pm_fx_crate(g, "/r", "//c:c", "c"));
        cr_assert_not_null(pm_fx_crate(g, "/r", "//d:d", "d"));
        cr_assert_eq(pm_fx_dep(g, "//b:b", "//a:a", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//c:c", "//b:b", "b_renamed"), 0);
        for (size_t i = 0; i < g->n_crates; i++)
                cr_assert_eq(pm_strlist_push_unique(g, &g->build_files, g->crates[i].build_file),
                             0);
        cr_assert_eq(pm_strlist_push(g, &g->build_files, "/r/.gn"), 0);
        return g;
}

static uint64_t
generation(struct pm_index *idx)
{
        struct pm_error err = { 0 };
        uint64_t gen = 99;

        cr_assert_eq(pm_index_generation(idx, &gen, &err), 0, "%s", err.msg);
        return gen;
}

static size_t
count(struct pm_index *idx)
{
        struct pm_error err = { 0 };
        size_t n = 0;

        cr_assert_eq(pm_index_count(idx, &n, &err), 0, "%s", err.msg);
        return n;
}

/* The labels as one "a,b,c" string, pm_malloc'd, to compare lists in one assertion. */
static char *
join(char *const *v, size_t n)
{
        size_t len = 1;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(v[i]) + 1;
        s = pm_malloc(len);
        cr_assert_not_null(s);
        p = s;
        *p = '\0';
        for (size_t i = 0; i < n; i++)
                p += snprintf(p, len - (size_t)(p - s), "%s%s", i ? "," : "", v[i]);
        return s;
}

static void
assert_labels(char **labels, const char *expect)
{
        char *s = join(labels, pm_labels_count(labels));

        cr_assert_str_eq(s, expect);
        pm_free(s);
        pm_labels_free(labels);
}

static void
assert_all_labels(struct pm_index *idx, const char *expect)
{
        struct pm_error err = { 0 };
        char **labels = NULL;

        cr_assert_eq(pm_index_all_labels(idx, &labels, &err), 0, "%s", err.msg);
        assert_labels(labels, expect);
}

Test(indexer_apply, empty_model_has_generation_zero)
{
        struct pm_index *idx = open_mem();

        cr_assert_eq(generation(idx), 0);
        cr_assert_eq(count(idx), 0);
        assert_all_labels(idx, "");
        pm_index_close(idx);
}

Test(indexer_apply, first_apply_adds_everything)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph();
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        char *s;

        cr_assert_eq(pm_index_apply(idx, "main", g, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.generation, 1);
        cr_assert_eq(ch.added, 4);
        cr_assert_eq(ch.removed + ch.modified + ch.unchanged, 0);
        s = join(ch.labels, ch.n_labels);
        cr_assert_str_eq(s, "//a:a,//b:b,//c:c,//d:d");
        pm_free(s);
        cr_assert_null(ch.labels[ch.n_labels]);
        s = join(ch.build_files, ch.n_build_files);
        cr_assert_str_eq(s, "/r/.gn,/r/a/BUILD.gn,/r/b/BUILD.gn,/r/c/BUILD.gn,/r/d/BUILD.gn");
        pm_free(s);
        cr_assert_eq(ch.build_files_changed, 5);
        cr_assert_eq(generation(idx), 1);
        cr_assert_eq(count(idx), 4);
        pm_change_release(&ch);
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_apply, unchanged_apply_rewrites_nothing)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph();
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "main", g, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.unchanged, 4);
        cr_assert_eq(ch.added + ch.removed + ch.modified, 0);
        cr_assert_eq(ch.n_labels, 0);
        cr_assert_eq(ch.n_build_files, 0);
        cr_assert_eq(ch.build_files_changed, 0);
        cr_assert_eq(ch.generation, 1, "a no-op apply must not bump the generation");
        cr_assert_eq(generation(idx), 1);
        pm_change_release(&ch);

        /* Deps compare as a set: reordering them is not a change. */
        {
                struct pm_crate *b = pm_graph_find(g, "//b:b");

                cr_assert_eq(pm_crate_add_dep(g, b, "//d:d", NULL), 0);
                cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
                cr_assert_eq(generation(idx), 2);
                {
                        struct pm_dep t = b->deps[0];

                        b->deps[0] = b->deps[1];
                        b->deps[1] = t;
                }
                cr_assert_eq(pm_index_apply(idx, "main", g, &ch, &err), 0, "%s", err.msg);
                cr_assert_eq(ch.unchanged, 4);
                cr_assert_eq(generation(idx), 2);
                cr_assert_eq(ch.build_files_changed, 0);
                pm_change_release(&ch);
        }
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_apply, diff_reports_added_removed_modified)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *g2 = pm_graph_new();
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        char *s;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        /* Keep a and c (c gets a new cfg), drop b and d, add e. */
        for (size_t i = 0; i < g->n_crates; i++) {
                const char *l = g->crates[i].label;

                if (strcmp(l, "//a:a") == 0 || strcmp(l, "//c:c") == 0)
                        cr_assert_not_null(pm_graph_copy_crate(g2, &g->crates[i]));
        }
        cr_assert_eq(pm_strlist_push(g2, &pm_graph_find(g2, "//c:c")->cfgs, "feature=\"x\""), 0);
        cr_assert_not_null(pm_fx_crate(g2, "/r", "//e:e", "e"));
        cr_assert_eq(pm_strlist_push(g2, &g2->build_files, "/r/.gn"), 0);
        cr_assert_eq(pm_strlist_push(g2, &g2->build_files, "/r/e/BUILD.gn"), 0);

        cr_assert_eq(pm_index_apply(idx, "main", g2, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.added, 1);
        cr_assert_eq(ch.removed, 2);
        cr_assert_eq(ch.modified, 1);
        cr_assert_eq(ch.unchanged, 1);
        cr_assert_eq(ch.generation, 2);
        s = join(ch.labels, ch.n_labels);
        cr_assert_str_eq(s, "//b:b,//c:c,//d:d,//e:e");
        pm_free(s);
        /* Watch-set changes (a, b, c, d dropped; e added) and changed crates' build files. */
        s = join(ch.build_files, ch.n_build_files);
        cr_assert_str_eq(s, "/r/a/BUILD.gn,/r/b/BUILD.gn,/r/c/BUILD.gn,/r/d/BUILD.gn,"
                            "/r/e/BUILD.gn");
        pm_free(s);
        /* a, b, c and d dropped from the watch set, e added. */
        cr_assert_eq(ch.build_files_changed, 5);
        assert_all_labels(idx, "//a:a,//c:c,//e:e");
        {
                char **bfs = NULL;

                cr_assert_eq(pm_index_build_files(idx, "main", &bfs, &err), 0, "%s", err.msg);
                assert_labels(bfs, "/r/.gn,/r/e/BUILD.gn");
        }
        pm_change_release(&ch);
        pm_graph_free(g);
        pm_graph_free(g2);
        pm_index_close(idx);
}

Test(indexer_apply, sources_are_independent)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g1 = pm_graph_new(), *g2 = pm_graph_new(), *empty = pm_graph_new();
        struct pm_error err = { 0 };
        char *src = NULL;

        cr_assert_not_null(pm_fx_crate(g1, "/one", "//x:x", "x"));
        cr_assert_not_null(pm_fx_crate(g2, "/two", "//y:y", "y"));
        cr_assert_eq(pm_strlist_push(g2, &g2->build_files, "/two/BUILD"), 0);
        cr_assert_eq(pm_index_apply(idx, "one", g1, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "two", g2, NULL, &err), 0, "%s", err.msg);
        assert_all_labels(idx, "//x:x,//y:y");
        cr_assert_eq(pm_index_crate_source(idx, "//y:y", &src, &err), 0, "%s", err.msg);
        cr_assert_str_eq(src, "two");
        pm_free(src);
        cr_assert_eq(pm_index_crate_source(idx, "//nope:nope", &src, &err), PM_ENOTFOUND);
        /* Emptying "one" leaves "two" alone. */
        cr_assert_eq(pm_index_apply(idx, "one", empty, NULL, &err), 0, "%s", err.msg);
        assert_all_labels(idx, "//y:y");
        {
                char **bfs = NULL;

                cr_assert_eq(pm_index_build_files(idx, NULL, &bfs, &err), 0, "%s", err.msg);
                assert_labels(bfs, "/two/BUILD");
        }
        cr_assert_eq(generation(idx), 3);
        pm_graph_free(g1);
        pm_graph_free(g2);
        pm_graph_free(empty);
        pm_index_close(idx);
}

Test(indexer_apply, partial_graph_only_touches_covered_build_files)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *p = pm_graph_new();
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        char **bfs = NULL;
        char *s;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        /* Re-query /r/b/BUILD.gn (now declares b2 instead of b) and /r/d/BUILD.gn (d changed). */
        p->partial = true;
        cr_assert_eq(pm_strlist_push(p, &p->covered, "/r/b/BUILD.gn"), 0);
        cr_assert_eq(pm_strlist_push(p, &p->covered, "/r/d/BUILD.gn"), 0);
        {
                struct pm_crate *b2 = pm_fx_crate(p, "/r", "//b:b2", "b2");

                cr_assert_not_null(b2);
                b2->build_file = pm_graph_strdup(p, "/r/b/BUILD.gn");
                cr_assert_eq(pm_fx_dep(p, "//b:b2", "//a:a", NULL), 0);
        }
        cr_assert_not_null(pm_graph_copy_crate(p, pm_graph_find(g, "//d:d")));
        pm_graph_find(p, "//d:d")->is_workspace_member = false;
        cr_assert_eq(pm_strlist_push(p, &p->build_files, "/r/b/BUILD.gn"), 0);
        cr_assert_eq(pm_strlist_push(p, &p->build_files, "/r/b/extra.gni"), 0);

        cr_assert_eq(pm_index_apply(idx, "main", p, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.added, 1);
        cr_assert_eq(ch.removed, 1);
        cr_assert_eq(ch.modified, 1);
        cr_assert_eq(ch.unchanged, 0);
        s = join(ch.labels, ch.n_labels);
        cr_assert_str_eq(s, "//b:b,//b:b2,//d:d");
        pm_free(s);
        s = join(ch.build_files, ch.n_build_files);
        cr_assert_str_eq(s, "/r/b/BUILD.gn,/r/b/extra.gni,/r/d/BUILD.gn");
        pm_free(s);
        cr_assert_eq(ch.build_files_changed, 1, "only extra.gni is new to the watch set");
        /* a and c were not covered: still there, c's dep on the vanished b stays (dangling). */
        assert_all_labels(idx, "//a:a,//b:b2,//c:c,//d:d");
        /* The watch set is merged, not replaced. */
        cr_assert_eq(pm_index_build_files(idx, "main", &bfs, &err), 0, "%s", err.msg);
        assert_labels(bfs, "/r/.gn,/r/a/BUILD.gn,/r/b/BUILD.gn,/r/b/extra.gni,/r/c/BUILD.gn,"
                           "/r/d/BUILD.gn");
        pm_change_release(&ch);
        pm_graph_free(g);
        pm_graph_free(p);
        pm_index_close(idx);
}

/*
 * A graph that names /r/b/BUILD.gn in `failed` (it did not load): b, missing from it, keeps its
 * row and edges (c -> b -> a), and so does a, which only b depended on and the graph lacks too;
 * d, gone from a file that loaded, is removed. The same in a partial graph covering b. Once the
 * file loads again, the next complete graph removes what it lacks as usual.
 */
Test(indexer_apply, failed_build_files_keep_their_crates)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *f = pm_graph_new(), *p = pm_graph_new();
        struct pm_graph *loaded = NULL;
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };
        const char *all[] = { "//c:c" };
        char **closure = NULL;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_not_null(pm_graph_copy_crate(f, pm_graph_find(g, "//c:c")));
        cr_assert_eq(pm_strlist_push(f, &f->failed, "/r/b/BUILD.gn"), 0);
        cr_assert_eq(pm_index_apply(idx, "main", f, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.kept, 2);
        cr_assert_eq(ch.removed, 1, "d's file loaded: d is gone");
        cr_assert_eq(ch.unchanged, 1);
        pm_change_release(&ch);
        assert_all_labels(idx, "//a:a,//b:b,//c:c");
        cr_assert_eq(pm_index_closure(idx, all, 1, &closure, &err), 0, "%s", err.msg);
        assert_labels(closure, "//a:a,//b:b,//c:c");
        cr_assert_eq(pm_index_load(idx, NULL, 0, &loaded, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_graph_validate(loaded, false, &err), 0, "no dangling edge: %s", err.msg);
        cr_assert(pm_crate_equal(pm_graph_find(loaded, "//b:b"), pm_graph_find(g, "//b:b")));
        pm_graph_free(loaded);

        /* An incremental query of b alone that does not load b. */
        p->partial = true;
        cr_assert_eq(pm_strlist_push(p, &p->covered, "/r/b/BUILD.gn"), 0);
        cr_assert_eq(pm_strlist_push(p, &p->failed, "/r/b/BUILD.gn"), 0);
        cr_assert_eq(pm_index_apply(idx, "main", p, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.kept, 1);
        cr_assert_eq(ch.removed, 0);
        pm_change_release(&ch);
        assert_all_labels(idx, "//a:a,//b:b,//c:c");

        /* Loaded again, without a: a goes. */
        f->failed.n = 0;
        cr_assert_not_null(pm_graph_copy_crate(f, pm_graph_find(g, "//b:b")));
        cr_assert_eq(pm_index_apply(idx, "main", f, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.kept, 0);
        cr_assert_eq(ch.removed, 1);
        pm_change_release(&ch);
        assert_all_labels(idx, "//b:b,//c:c");
        pm_graph_free(g);
        pm_graph_free(f);
        pm_graph_free(p);
        pm_index_close(idx);
}

/* What a failed apply must leave exactly as it was. */
struct snapshot {
        uint64_t gen;
        char *labels;
        char *bfs;
};

static void
take(struct pm_index *idx, struct snapshot *s)
{
        struct pm_error err = { 0 };
        char **v = NULL;

        s->gen = generation(idx);
        cr_assert_eq(pm_index_all_labels(idx, &v, &err), 0, "%s", err.msg);
        s->labels = join(v, pm_labels_count(v));
        pm_labels_free(v);
        cr_assert_eq(pm_index_build_files(idx, NULL, &v, &err), 0, "%s", err.msg);
        s->bfs = join(v, pm_labels_count(v));
        pm_labels_free(v);
}

static void
assert_same(struct pm_index *idx, struct snapshot *before)
{
        struct snapshot now;

        take(idx, &now);
        cr_assert_eq(now.gen, before->gen);
        cr_assert_str_eq(now.labels, before->labels);
        cr_assert_str_eq(now.bfs, before->bfs);
        pm_free(now.labels);
        pm_free(now.bfs);
}

static void
snapshot_release(struct snapshot *s)
{
        pm_free(s->labels);
        pm_free(s->bfs);
}

Test(indexer_apply, invalid_graph_changes_nothing)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *bad = small_graph();
        struct pm_change ch = { .generation = 1234 };
        struct pm_error err = { 0 };
        struct snapshot before;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        take(idx, &before);
        pm_graph_find(bad, "//a:a")->edition = pm_graph_strdup(bad, "2017");
        cr_assert_not_null(pm_fx_crate(bad, "/r", "//new:new", "new"));
        cr_assert_eq(pm_index_apply(idx, "main", bad, &ch, &err), PM_ESCHEMA);
        cr_assert(strstr(err.msg, "//a:a"), "%s", err.msg);
        cr_assert_eq(ch.generation, 1234, "ret_change written on failure");
        assert_same(idx, &before);

        /* Relative paths are invalid too. */
        pm_graph_find(bad, "//a:a")->edition = pm_graph_strdup(bad, "2018");
        pm_graph_find(bad, "//b:b")->root_module = pm_graph_strdup(bad, "b/lib.rs");
        cr_assert_eq(pm_index_apply(idx, "main", bad, &ch, &err), PM_ESCHEMA);
        assert_same(idx, &before);
        snapshot_release(&before);
        pm_graph_free(g);
        pm_graph_free(bad);
        pm_index_close(idx);
}

Test(indexer_apply, label_of_another_source_changes_nothing)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *other = pm_graph_new();
        struct pm_error err = { 0 };
        struct snapshot before;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        take(idx, &before);
        /* The clash is found after other rows were written: they must roll back. */
        cr_assert_not_null(pm_fx_crate(other, "/o", "//0first:x", "x"));
        cr_assert_not_null(pm_fx_crate(other, "/o", "//c:c", "c"));
        cr_assert_not_null(pm_fx_crate(other, "/o", "//z:z", "z"));
        cr_assert_eq(pm_strlist_push(other, &other->build_files, "/o/BUILD"), 0);
        cr_assert_eq(pm_index_apply(idx, "other", other, NULL, &err), PM_EEXISTS);
        cr_assert(strstr(err.msg, "'//c:c'") && strstr(err.msg, "'main'"), "%s", err.msg);
        assert_same(idx, &before);
        snapshot_release(&before);
        pm_graph_free(g);
        pm_graph_free(other);
        pm_index_close(idx);
}

Test(indexer_apply, out_of_memory_anywhere_changes_nothing)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = small_graph(), *g2 = pm_fx_synthetic(30, 0);
        struct pm_error err = { 0 };
        struct snapshot before;
        unsigned long n;
        int r = -ENOMEM;

        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_not_null(g2);
        take(idx, &before);
        for (n = 1; r == -ENOMEM && n < 100000; n++) {
                struct pm_change ch = { 0 };

                pm_mem_fail_at(n);
                r = pm_index_apply(idx, "main", g2, &ch, &err);
                pm_mem_fail_at(0);
                if (r == -ENOMEM) {
                        assert_same(idx, &before);
                        continue;
                }
                cr_assert_eq(r, 0, "%s", err.msg);
                cr_assert_eq(ch.added, 30);
                cr_assert_eq(ch.removed, 4);
                pm_change_release(&ch);
        }
        cr_assert_eq(r, 0);
        cr_assert_gt(n, 10, "the walk should have failed several allocations");
        cr_assert_eq(count(idx), 30);
        snapshot_release(&before);
        pm_graph_free(g);
        pm_graph_free(g2);
        pm_index_close(idx);
}

Test(indexer_apply, persists_across_close_and_reopen)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/model.db", dir);
        struct pm_graph *g = small_graph(), *loaded = NULL;
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        char *v = NULL;

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_meta_set(idx, "sysroot", "/opt/rust", &err), 0, "%s", err.msg);
        pm_index_close(idx);

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(generation(idx), 1);
        cr_assert_eq(count(idx), 4);
        cr_assert_eq(pm_index_meta_get(idx, "sysroot", &v, &err), 0, "%s", err.msg);
        cr_assert_str_eq(v, "/opt/rust");
        pm_free(v);
        cr_assert_eq(pm_index_meta_get(idx, "nothing", &v, &err), 0, "%s", err.msg);
        cr_assert_null(v);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &loaded, &err), 0, "%s", err.msg);
        cr_assert_eq(loaded->n_crates, 4);
        for (size_t i = 0; i < g->n_crates; i++)
                cr_assert(
                        pm_crate_equal(&g->crates[i], pm_graph_lookup(loaded, g->crates[i].label)),
                        "%s", g->crates[i].label);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        pm_graph_free(loaded);
        pm_index_close(idx);

        /* WAL mode is on for a file. */
        {
                sqlite3 *db = NULL;
                sqlite3_stmt *st = NULL;

                cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
                cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
                             SQLITE_OK);
                cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
                cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
                sqlite3_finalize(st);
                sqlite3_close(db);
        }
        pm_graph_free(g);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(path);
        pm_free(dir);
}

Test(indexer_apply, other_schema_version_is_rebuilt_empty)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/model.db", dir);
        struct pm_graph *g = small_graph();
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        sqlite3 *db = NULL;

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        pm_index_close(idx);

        /* Pretend a future projmodel wrote it, with a table this version does not know. */
        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db,
                                  "PRAGMA user_version = 999;"
                                  "CREATE TABLE future(x);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
        sqlite3_close(db);

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(count(idx), 0);
        cr_assert_eq(generation(idx), 0);
        cr_assert_eq(pm_index_apply(idx, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(count(idx), 4);
        pm_index_close(idx);

        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        {
                sqlite3_stmt *st = NULL;

                cr_assert_eq(sqlite3_prepare_v2(db,
                                                "SELECT (SELECT user_version FROM"
                                                " pragma_user_version),"
                                                " (SELECT count(*) FROM sqlite_schema"
                                                " WHERE name = 'future')",
                                                -1, &st, NULL),
                             SQLITE_OK);
                cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
                cr_assert_eq(sqlite3_column_int(st, 0), PM_INDEX_SCHEMA_VERSION);
                cr_assert_eq(sqlite3_column_int(st, 1), 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        pm_graph_free(g);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(path);
        pm_free(dir);
}

Test(indexer_apply, two_handles_see_each_others_commits)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/model.db", dir);
        struct pm_graph *g = small_graph();
        struct pm_error err = { 0 };
        struct pm_index *w = NULL, *r = NULL;

        cr_assert_eq(pm_index_open(path, &w, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_open(path, &r, &err), 0, "%s", err.msg);
        cr_assert_eq(count(r), 0);
        cr_assert_eq(pm_index_apply(w, "main", g, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(count(r), 4);
        cr_assert_eq(generation(r), 1);
        pm_index_close(r);
        pm_index_close(w);
        pm_graph_free(g);
        cr_assert_eq(pm_test_rmtree(dir), 0);
        pm_free(path);
        pm_free(dir);
}

Test(indexer_apply, large_graph_reapply_is_a_no_op)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = pm_fx_synthetic(2000, 0), *g2 = pm_fx_synthetic(2000, 7);
        struct pm_change ch = { 0 };
        struct pm_error err = { 0 };

        cr_assert_not_null(g);
        cr_assert_not_null(g2);
        cr_assert_eq(pm_index_apply(idx, "big", g, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.added, 2000);
        pm_change_release(&ch);
        cr_assert_eq(pm_index_apply(idx, "big", g, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.unchanged, 2000);
        cr_assert_eq(ch.generation, 1);
        pm_change_release(&ch);
        /* Every 7th crate gets a note: exactly those are rewritten. */
        cr_assert_eq(pm_index_apply(idx, "big", g2, &ch, &err), 0, "%s", err.msg);
        cr_assert_eq(ch.modified, (2000 + 6) / 7);
        cr_assert_eq(ch.unchanged, 2000 - (2000 + 6) / 7);
        cr_assert_eq(ch.generation, 2);
        pm_change_release(&ch);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        pm_graph_free(g);
        pm_graph_free(g2);
        pm_index_close(idx);
}
