/* SPDX-License-Identifier: MIT */
/* An incremental topological order of the crate graph (Pearce and Kelly's algorithm) for the cycle
 * checks of folded rust_test deps (crate.c): a check searches only the part of the order the new
 * edge would invert, not everything the dependency reaches. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/mem.h"

#include "adapters/bazel/bazel-internal.h"

/* An edge added after pm__bazel_topo_new(), in a chain of its node's. */
struct link {
        long node;
        long next; /* index into links, or -1 */
};

/* A node met by a search, with its position then (the reorder sorts by it). */
struct seen {
        long ord;
        long node;
};

struct pm__bazel_topo {
        size_t n;
        /* Position of each node in the order: every node comes after the nodes it depends on.
         * Only meaningful when ordered. */
        long *ord;
        /* Whether ord is a topological order. False when the initial edges have a cycle (Bazel
         * forbids them, captured output may hold anything): every check then searches all
         * that the dependency reaches, as without an order. */
        bool ordered;
        /* The initial edges, both ways: node i depends on out[out_at[i]] .. out[out_at[i+1]-1],
         * and is depended on by in[in_at[i]] ... */
        size_t *out_at, *in_at;
        long *out, *in;
        /* The added edges: chains through links, -1 ends. */
        long *out_head, *in_head;
        struct link *links;
        size_t n_links, cap_links;
        /* A node is visited by the current search when mark[node] == gen. */
        unsigned *mark;
        unsigned gen;
        struct seen *fwd, *bwd; /* the searches' nodes, n each */
        long *slots;            /* the reorder's positions, n */
        uint64_t steps;
};

struct pm__bazel_topo *
pm__bazel_topo_free(struct pm__bazel_topo *t)
{
        if (!t)
                return NULL;
        pm_free(t->ord);
        pm_free(t->out_at);
        pm_free(t->in_at);
        pm_free(t->out);
        pm_free(t->in);
        pm_free(t->out_head);
        pm_free(t->in_head);
        pm_free(t->links);
        pm_free(t->mark);
        pm_free(t->fwd);
        pm_free(t->bwd);
        pm_free(t->slots);
        pm_free(t);
        return NULL;
}

uint64_t
pm__bazel_topo_steps(const struct pm__bazel_topo *t)
{
        return t->steps;
}

/* A new search: no node is marked. */
static void
next_gen(struct pm__bazel_topo *t)
{
        if (++t->gen == 0) {
                memset(t->mark, 0, t->n * sizeof(*t->mark));
                t->gen = 1;
        }
}

/* Depth-first post-order numbering: a node is numbered after everything it depends on. Marks:
 * gen + 1 on the path, gen + 2 done; @at (n entries) is the next edge of each node on the path. */
static void
initial_order(struct pm__bazel_topo *t, size_t *at)
{
        long *path = t->slots;
        unsigned on_path = t->gen + 1, done = t->gen + 2;
        long next = 0;

        t->ordered = true;
        for (size_t s = 0; s < t->n; s++) {
                size_t top = 0;

                if (t->mark[s] == done)
                        continue;
                path[top++] = (long)s;
                t->mark[s] = on_path;
                at[s] = t->out_at[s];
                while (top > 0) {
                        long u = path[top - 1];

                        if (at[u] < t->out_at[u + 1]) {
                                long v = t->out[at[u]++];

                                if (t->mark[v] == on_path) {
                                        t->ordered = false;
                                } else if (t->mark[v] != done) {
                                        t->mark[v] = on_path;
                                        at[v] = t->out_at[v];
                                        path[top++] = v;
                                }
                                continue;
                        }
                        t->mark[u] = done;
                        t->ord[u] = next++;
                        top--;
                }
        }
        t->gen += 2;
        next_gen(t);
}

int
pm__bazel_topo_new(size_t n, const long *from, const long *to, size_t n_edges,
                   struct pm__bazel_topo **ret)
{
        struct pm__bazel_topo *t = pm_calloc(1, sizeof(*t));
        size_t *at = NULL;
        int r = -ENOMEM;

        if (!t)
                goto out;
        t->n = n;
        t->ord = pm_calloc(n + 1, sizeof(*t->ord));
        t->out_at = pm_calloc(n + 2, sizeof(*t->out_at));
        t->in_at = pm_calloc(n + 2, sizeof(*t->in_at));
        t->out = pm_calloc(n_edges + 1, sizeof(*t->out));
        t->in = pm_calloc(n_edges + 1, sizeof(*t->in));
        t->out_head = pm_malloc((n + 1) * sizeof(*t->out_head));
        t->in_head = pm_malloc((n + 1) * sizeof(*t->in_head));
        t->mark = pm_calloc(n + 1, sizeof(*t->mark));
        t->fwd = pm_calloc(n + 1, sizeof(*t->fwd));
        t->bwd = pm_calloc(n + 1, sizeof(*t->bwd));
        t->slots = pm_calloc(n + 1, sizeof(*t->slots));
        at = pm_calloc(n + 1, sizeof(*at));
        if (!at || !t->ord || !t->out_at || !t->in_at || !t->out || !t->in || !t->out_head ||
            !t->in_head || !t->mark || !t->fwd || !t->bwd || !t->slots)
                goto out;
        /* Counting sort of the edges by their two ends. */
        for (size_t i = 0; i < n_edges; i++) {
                t->out_at[from[i] + 2]++;
                t->in_at[to[i] + 2]++;
        }
        for (size_t i = 2; i < n + 2; i++) {
                t->out_at[i] += t->out_at[i - 1];
                t->in_at[i] += t->in_at[i - 1];
        }
        for (size_t i = 0; i < n_edges; i++) {
                t->out[t->out_at[from[i] + 1]++] = to[i];
                t->in[t->in_at[to[i] + 1]++] = from[i];
        }
        for (size_t i = 0; i < n; i++)
                t->out_head[i] = t->in_head[i] = -1;
        initial_order(t, at);
        *ret = pm_steal_ptr(&t);
        r = 0;
out:
        pm_free(at);
        pm__bazel_topo_free(t);
        return r;
}

/* Mark @w and queue it in @v, unless already visited or, when ordered, its position is outside
 * (@lo, @hi): no path through it can lead where the search goes. */
static void
visit(struct pm__bazel_topo *t, long w, long lo, long hi, struct seen *v, size_t *n)
{
        if (t->mark[w] == t->gen || (t->ordered && (t->ord[w] <= lo || t->ord[w] >= hi)))
                return;
        t->mark[w] = t->gen;
        v[(*n)++] = (struct seen){ t->ord[w], w };
}

/*
 * Visit from @start the nodes its edges (@forward: what it depends on; else: what depends on it)
 * lead to, breadth first, into @v (*@ret_n of them). Returns true as soon as it meets @stop.
 */
static bool
search(struct pm__bazel_topo *t, long start, bool forward, long lo, long hi, long stop,
       struct seen *v, size_t *ret_n)
{
        const size_t *at = forward ? t->out_at : t->in_at;
        const long *edges = forward ? t->out : t->in;
        const long *head = forward ? t->out_head : t->in_head;
        bool found = false;
        size_t n = 0;

        next_gen(t);
        t->mark[start] = t->gen;
        v[n++] = (struct seen){ t->ord[start], start };
        for (size_t i = 0; i < n && !found; i++) {
                long u = v[i].node;

                t->steps++;
                for (size_t k = at[u]; k < at[u + 1] && !found; k++) {
                        found = edges[k] == stop;
                        visit(t, edges[k], lo, hi, v, &n);
                }
                for (long l = head[u]; l >= 0 && !found; l = t->links[l].next) {
                        found = t->links[l].node == stop;
                        visit(t, t->links[l].node, lo, hi, v, &n);
                }
        }
        *ret_n = n;
        return found;
}

static int
seen_cmp(const void *a, const void *b)
{
        const struct seen *x = a, *y = b;

        return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int
push_link(struct pm__bazel_topo *t, long *head, long node)
{
        if (pm_grow(&t->links, &t->cap_links, t->n_links + 1, 64) < 0)
                return -ENOMEM;
        t->links[t->n_links] = (struct link){ node, *head };
        *head = (long)t->n_links++;
        return 0;
}

int
pm__bazel_topo_add(struct pm__bazel_topo *t, long from, long to, bool *ret_cycle)
{
        size_t n_fwd = 0, n_bwd = 0, i = 0, j = 0, k = 0;

        if (from == to) {
                *ret_cycle = true;
                return 0;
        }
        /* @to comes first already: it cannot reach @from, and the order stays valid. */
        if (t->ordered && t->ord[to] < t->ord[from])
                goto add;
        /* What @to reaches between the two positions (nothing before @from can reach it). */
        if (search(t, to, true, t->ordered ? t->ord[from] : 0, t->ordered ? t->ord[to] + 1 : 0,
                   from, t->fwd, &n_fwd)) {
                *ret_cycle = true;
                return 0;
        }
        if (!t->ordered)
                goto add;
        /* What reaches @from between them; then those go after what @to reaches, in the same
         * positions. */
        (void)search(t, from, false, t->ord[from] - 1, t->ord[to], -1, t->bwd, &n_bwd);
        qsort(t->fwd, n_fwd, sizeof(*t->fwd), seen_cmp);
        qsort(t->bwd, n_bwd, sizeof(*t->bwd), seen_cmp);
        while (i < n_fwd || j < n_bwd)
                t->slots[k++] = j == n_bwd || (i < n_fwd && t->fwd[i].ord < t->bwd[j].ord)
                                        ? t->fwd[i++].ord
                                        : t->bwd[j++].ord;
        for (i = 0; i < n_fwd; i++)
                t->ord[t->fwd[i].node] = t->slots[i];
        for (j = 0; j < n_bwd; j++)
                t->ord[t->bwd[j].node] = t->slots[n_fwd + j];
add:
        if (push_link(t, &t->out_head[from], to) < 0 || push_link(t, &t->in_head[to], from) < 0)
                return -ENOMEM;
        *ret_cycle = false;
        return 0;
}
