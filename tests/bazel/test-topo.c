/* SPDX-License-Identifier: MIT */
/* The folded tests' cycle checks (adapters/bazel/topo.c): the same answers as a search of the
 * whole graph, on seeded random graphs, and a cost in visited nodes that does not grow with the
 * graph. */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "adapters/bazel/bazel-internal.h"

/* A small deterministic generator (the tests must repeat exactly). */
static uint64_t
next_rand(uint64_t *s)
{
        *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
        return *s >> 33;
}

/* The reference: edges as an n * n matrix, reachability by a plain depth-first search. */
struct naive {
        size_t n;
        bool *edge;
        bool *seen;
        long *stack;
};

static bool
naive_reaches(struct naive *g, long from, long to)
{
        size_t top = 0;

        memset(g->seen, 0, g->n);
        g->stack[top++] = from;
        g->seen[from] = true;
        while (top > 0) {
                long u = g->stack[--top];

                for (size_t v = 0; v < g->n; v++) {
                        if (!g->edge[(size_t)u * g->n + v] || g->seen[v])
                                continue;
                        if ((long)v == to)
                                return true;
                        g->seen[v] = true;
                        g->stack[top++] = (long)v;
                }
        }
        return false;
}

/*
 * @n nodes with @n_initial random initial edges (@acyclic: each from a node to one earlier in a
 * random permutation, so the initial order is not the numbering), then @n_adds random edges
 * checked by both pm__bazel_topo_add() and the reference.
 */
static void
check_random(uint64_t seed0, size_t n, size_t n_initial, bool acyclic, size_t n_adds)
{
        uint64_t seed = seed0;
        struct naive g = { n, pm_calloc(n * n, 1), pm_calloc(n, 1), pm_calloc(n, sizeof(long)) };
        long *perm = pm_calloc(n, sizeof(*perm));
        long *from = pm_calloc(n_initial, sizeof(*from));
        long *to = pm_calloc(n_initial, sizeof(*to));
        struct pm__bazel_topo *t = NULL;
        size_t cycles = 0, added = 0;

        cr_assert(g.edge && g.seen && g.stack && perm && from && to);
        for (size_t i = 0; i < n; i++)
                perm[i] = (long)i;
        for (size_t i = n - 1; i > 0; i--) {
                size_t j = next_rand(&seed) % (i + 1);
                long x = perm[i];

                perm[i] = perm[j];
                perm[j] = x;
        }
        for (size_t i = 0; i < n_initial; i++) {
                size_t a = next_rand(&seed) % n, b = next_rand(&seed) % n;

                if (acyclic && a == b)
                        b = (a + 1) % n;
                if (acyclic && a < b) {
                        size_t x = a;

                        a = b;
                        b = x;
                }
                from[i] = perm[a];
                to[i] = perm[b];
                g.edge[(size_t)from[i] * n + (size_t)to[i]] = true;
        }
        cr_assert_eq(pm__bazel_topo_new(n, from, to, n_initial, &t), 0);
        for (size_t i = 0; i < n_adds; i++) {
                long a = (long)(next_rand(&seed) % n), b = (long)(next_rand(&seed) % n);
                bool want = a == b || naive_reaches(&g, b, a), got = !want;

                cr_assert_eq(pm__bazel_topo_add(t, a, b, &got), 0);
                cr_assert_eq(got, want, "seed %llu, add %zu: %ld -> %ld: cycle %d, expected %d",
                             (unsigned long long)seed0, i, a, b, got, want);
                if (!got)
                        g.edge[(size_t)a * n + (size_t)b] = true;
                cycles += got;
                added += !got;
        }
        /* Both answers must have been exercised, or the comparison proves little. */
        cr_assert_gt(cycles, 0);
        cr_assert_gt(added, 0);
        pm__bazel_topo_free(t);
        pm_free(g.edge);
        pm_free(g.seen);
        pm_free(g.stack);
        pm_free(perm);
        pm_free(from);
        pm_free(to);
}

Test(bazel_topo, answers_as_a_full_search_on_random_acyclic_graphs)
{
        for (uint64_t seed = 1; seed <= 20; seed++)
                check_random(seed, 60, 90, true, 400);
}

Test(bazel_topo, answers_as_a_full_search_when_the_initial_edges_have_a_cycle)
{
        for (uint64_t seed = 1; seed <= 20; seed++)
                check_random(seed, 40, 60, false, 200);
}

Test(bazel_topo, a_self_edge_is_a_cycle)
{
        struct pm__bazel_topo *t = NULL;
        bool cycle = false;

        cr_assert_eq(pm__bazel_topo_new(2, NULL, NULL, 0, &t), 0);
        cr_assert_eq(pm__bazel_topo_add(t, 1, 1, &cycle), 0);
        cr_assert(cycle);
        pm__bazel_topo_free(t);
}

/*
 * Visited nodes of the last 100 of @n/2 checks in a graph of two chains (a[i] depends on a[i-1],
 * b[i] on b[i-1]; nodes 2i and 2i+1), each check the edge a[i] -> b[i]: how the generated Bazel
 * workspace's tests (bench/gen-bazel-workspace.py) fold into their package's library and depend
 * on earlier libraries. A search of what b[i] reaches visits i nodes.
 */
static uint64_t
fold_steps(size_t n)
{
        long *from = pm_calloc(n, sizeof(*from)), *to = pm_calloc(n, sizeof(*to));
        struct pm__bazel_topo *t = NULL;
        size_t n_edges = 0;
        uint64_t before = 0, steps;

        cr_assert(from && to);
        for (size_t i = 2; i < n; i++) {
                from[n_edges] = (long)i;
                to[n_edges++] = (long)i - 2;
        }
        cr_assert_eq(pm__bazel_topo_new(n, from, to, n_edges, &t), 0);
        for (size_t i = 0; i < n / 2; i++) {
                bool cycle = true;

                if (i == n / 2 - 100)
                        before = pm__bazel_topo_steps(t);
                cr_assert_eq(pm__bazel_topo_add(t, 2 * (long)i, 2 * (long)i + 1, &cycle), 0);
                cr_assert_not(cycle, "a[%zu] -> b[%zu] is no cycle", i, i);
        }
        steps = pm__bazel_topo_steps(t) - before;
        /* And a real cycle is still found: b[0] -> a[last] (a[last] reaches b[0]). */
        {
                bool cycle = false;

                cr_assert_eq(pm__bazel_topo_add(t, 1, 2 * (long)(n / 2 - 1), &cycle), 0);
                cr_assert(cycle);
        }
        pm__bazel_topo_free(t);
        pm_free(from);
        pm_free(to);
        return steps;
}

Test(bazel_topo, a_check_costs_the_same_in_a_graph_of_400_nodes_and_of_40000)
{
        uint64_t small = fold_steps(400), large = fold_steps(40000);

        cr_assert_gt(small, 0);
        cr_assert_eq(large, small,
                     "100 checks visited %llu nodes in a graph of 40,000, %llu in one of 400",
                     (unsigned long long)large, (unsigned long long)small);
}
