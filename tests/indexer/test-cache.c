/* SPDX-License-Identifier: MIT */
/* What the model remembers besides crates: input stamps (stored by an apply, forgotten by a
 * plain one), cached outputs valid for one generation, the packed list columns, and the bulk
 * path that builds the indexes after filling an empty model. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

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

static uint64_t
generation(struct pm_index *idx)
{
        struct pm_error err = { 0 };
        uint64_t gen = 99;

        cr_assert_eq(pm_index_generation(idx, &gen, &err), 0, "%s", err.msg);
        return gen;
}

static void
apply(struct pm_index *idx, const char *source, const struct pm_graph *g, const char *stamp)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_apply_stamped(idx, source, g, stamp, NULL, &err), 0, "%s", err.msg);
}

static char *
stamp_of(struct pm_index *idx, const char *source)
{
        struct pm_error err = { 0 };
        char *s = (char *)"unset";

        cr_assert_eq(pm_index_source_stamp(idx, source, &s, &err), 0, "%s", err.msg);
        return s;
}

/* The cached output under @key: pm_malloc'd, or NULL on a miss. */
static char *
output(struct pm_index *idx, const char *key)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        bool hit = true;

        cr_assert_eq(pm_index_output_get(idx, key, &sb, &hit, &err), 0, "%s", err.msg);
        if (!hit) {
                cr_assert_eq(sb.len, 0);
                pm_strbuf_release(&sb);
                return NULL;
        }
        return pm_strbuf_detach(&sb, NULL);
}

static void
put(struct pm_index *idx, const char *key, uint64_t gen, const char *data)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_output_put(idx, key, gen, data, strlen(data), &err), 0, "%s",
                     err.msg);
}

Test(indexer_cache, stamp_is_stored_with_the_apply_and_forgotten_by_a_plain_one)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = pm_fx_synthetic(5, 0), *g2 = pm_fx_synthetic(6, 0);
        struct pm_error err = { 0 };
        char *s;

        cr_assert_null(stamp_of(idx, "gn:."));
        apply(idx, "gn:.", g, "stamp one");
        s = stamp_of(idx, "gn:.");
        cr_assert_str_eq(s, "stamp one");
        pm_free(s);
        cr_assert_null(stamp_of(idx, "cargo:x"), "stamps are per source");

        /* Unchanged graph, new stamp: replaced. */
        apply(idx, "gn:.", g, "stamp two");
        s = stamp_of(idx, "gn:.");
        cr_assert_str_eq(s, "stamp two");
        pm_free(s);

        /* A failing apply leaves the stamp as it was. */
        {
                struct pm_graph *bad = pm_graph_new();
                struct pm_crate *c = pm_fx_crate(bad, "/r", "//x:x", "x");

                c->edition = (char *)"1999";
                cr_assert_neq(pm_index_apply_stamped(idx, "gn:.", bad, "stamp three", NULL, &err),
                              0);
                pm_graph_free(bad);
        }
        s = stamp_of(idx, "gn:.");
        cr_assert_str_eq(s, "stamp two");
        pm_free(s);

        /* Any other writer of the source (the daemon's plain apply) makes it unknown. */
        cr_assert_eq(pm_index_apply(idx, "gn:.", g2, NULL, &err), 0, "%s", err.msg);
        cr_assert_null(stamp_of(idx, "gn:."));
        pm_graph_free(g);
        pm_graph_free(g2);
        pm_index_close(idx);
}

Test(indexer_cache, output_is_valid_for_its_generation_only)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = pm_fx_synthetic(5, 0), *g2 = pm_fx_synthetic(5, 2);
        uint64_t gen;
        char *s;

        apply(idx, "gn:.", g, NULL);
        gen = generation(idx);
        cr_assert_null(output(idx, "k"));
        put(idx, "k", gen, "rendered");
        put(idx, "k pretty", gen, "rendered pretty");
        s = output(idx, "k");
        cr_assert_str_eq(s, "rendered");
        pm_free(s);
        s = output(idx, "k pretty");
        cr_assert_str_eq(s, "rendered pretty", "each key has its own entry");
        pm_free(s);
        cr_assert_null(output(idx, "other options"));

        /* A no-change apply keeps the generation, so the entries stay valid. */
        apply(idx, "gn:.", g, NULL);
        cr_assert_eq(generation(idx), gen);
        s = output(idx, "k");
        cr_assert_str_eq(s, "rendered");
        pm_free(s);

        /* A change moves the generation: every entry is stale. */
        apply(idx, "gn:.", g2, NULL);
        cr_assert_eq(generation(idx), gen + 1);
        cr_assert_null(output(idx, "k"));
        cr_assert_null(output(idx, "k pretty"));

        /* A rendering of the old generation (loaded before the change) is refused. */
        put(idx, "k", gen, "stale");
        cr_assert_null(output(idx, "k"));
        put(idx, "k", gen + 1, "fresh");
        s = output(idx, "k");
        cr_assert_str_eq(s, "fresh");
        pm_free(s);
        pm_graph_free(g);
        pm_graph_free(g2);
        pm_index_close(idx);
}

Test(indexer_cache, outputs_and_stamps_persist_and_a_binary_blob_round_trips)
{
        char *dir = pm_test_mkdtemp();
        char *path = pm_test_strf("%s/m.db", dir);
        struct pm_graph *g = pm_fx_synthetic(3, 0);
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err = { 0 };
        struct pm_index *idx = NULL;
        static const char blob[] = "a\0b\nc";
        bool hit = false;
        char *s;

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        apply(idx, "gn:.", g, "the stamp");
        cr_assert_eq(pm_index_output_put(idx, "k", generation(idx), blob, sizeof(blob), &err), 0,
                     "%s", err.msg);
        pm_index_close(idx);

        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        s = stamp_of(idx, "gn:.");
        cr_assert_str_eq(s, "the stamp");
        pm_free(s);
        cr_assert_eq(pm_index_output_get(idx, "k", &sb, &hit, &err), 0, "%s", err.msg);
        cr_assert(hit);
        cr_assert_eq(sb.len, sizeof(blob));
        cr_assert_eq(memcmp(sb.buf, blob, sizeof(blob)), 0);
        pm_strbuf_release(&sb);
        pm_index_close(idx);
        pm_graph_free(g);
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

Test(indexer_cache, packed_lists_round_trip_with_empty_and_odd_strings)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = pm_graph_new(), *l = NULL;
        struct pm_error err = { 0 };
        struct pm_crate *c = pm_fx_crate(g, "/r", "//a:a", "a");
        const struct pm_crate *got;

        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"x y\""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, ""), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, "--cfg=a\tb"), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "EMPTY", ""), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "K", "v=1\nline"), 0);
        cr_assert_not_null(pm_fx_crate(g, "/r", "//b:b", "b"), "a crate with empty lists");
        apply(idx, "gn:.", g, NULL);
        cr_assert_eq(pm_index_load(idx, NULL, 0, &l, &err), 0, "%s", err.msg);
        cr_assert_eq(l->n_crates, 2);
        got = pm_graph_lookup(l, "//a:a");
        cr_assert(got);
        cr_assert(pm_crate_equal(got, pm_graph_find(g, "//a:a")));
        cr_assert_eq(got->env.n, 2);
        cr_assert_str_eq(got->env.v[0].value, "");
        cr_assert_str_eq(got->env.v[1].value, "v=1\nline");
        got = pm_graph_lookup(l, "//b:b");
        cr_assert(pm_crate_equal(got, pm_graph_find(g, "//b:b")));
        cr_assert_eq(got->cfgs.n + got->flags.n + got->env.n, 0);
        pm_graph_free(l);
        pm_graph_free(g);
        pm_index_close(idx);
}

Test(indexer_cache, bulk_fill_of_an_empty_model_builds_working_indexes)
{
        struct pm_index *idx = open_mem();
        struct pm_graph *g = pm_fx_synthetic(600, 0), *other = pm_graph_new();
        struct pm_error err = { 0 };
        char **labels = NULL;

        /* 600 crates into an empty model: the indexes are dropped and built afterwards. */
        apply(idx, "gn:.", g, NULL);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_crates_for_file(idx, g->crates[10].root_module, &labels, &err), 0,
                     "%s", err.msg);
        cr_assert_eq(pm_labels_count(labels), 1);
        cr_assert_str_eq(labels[0], g->crates[10].label);
        labels = pm_labels_free(labels);
        cr_assert_eq(pm_index_lookup_name(idx, g->crates[20].crate_name, &labels, &err), 0);
        cr_assert_geq(pm_labels_count(labels), 1);
        labels = pm_labels_free(labels);
        cr_assert_eq(pm_index_crates_for_build_file(idx, g->crates[30].build_file, &labels, &err),
                     0);
        cr_assert_geq(pm_labels_count(labels), 1);
        labels = pm_labels_free(labels);

        /* A second source goes the ordinary way; a label clash is still caught. */
        cr_assert_not_null(pm_fx_crate(other, "/o", g->crates[0].label, "dup"));
        cr_assert_eq(pm_index_apply(idx, "cargo:o", other, NULL, &err), PM_EEXISTS);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        pm_graph_free(other);
        pm_graph_free(g);
        pm_index_close(idx);
}
