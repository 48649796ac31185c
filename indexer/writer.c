/* SPDX-License-Identifier: MIT */
/* The rust-project.json writer: orders a closed crate graph topologically and renders each crate
 * in rust-analyzer's exact schema. A crate's object depends only on that crate and its deps.
 * Over 800 lines because its two renderings of that schema, the cJSON tree (pm_writer_project())
 * and the streaming printer (pm_writer_render()), share the order and the crate checks and must
 * give the same bytes (tests/writer/test-render.c): side by side, a field added to one is seen
 * missing from the other. */
#include "projmodel/writer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/banned.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

/*
 * Working state. Crates are numbered by their rank in label order (`sorted`); edges are kept
 * in compressed-sparse-row form in both directions.
 */
struct order {
        size_t n;
        const struct pm_crate **sorted; /* [n], by label */
        size_t *dep_start;              /* [n + 1]: deps of i are dep_idx[dep_start[i] ..] */
        size_t *dep_idx;                /* rank of each dep, in the crate's dep order */
        size_t *rdep_start;             /* [n + 1] */
        size_t *rdep_idx;
        size_t *indeg; /* [n] unemitted deps */
        size_t *heap;  /* [n] min-heap of ready ranks */
        size_t *order; /* [n] output position -> rank */
        size_t *pos;   /* [n] rank -> output position */
};

static void
order_release(struct order *o)
{
        pm_free(o->sorted);
        pm_free(o->dep_start);
        pm_free(o->dep_idx);
        pm_free(o->rdep_start);
        pm_free(o->rdep_idx);
        pm_free(o->indeg);
        pm_free(o->heap);
        pm_free(o->order);
        pm_free(o->pos);
}

static int
cmp_crate_ptr(const void *a, const void *b)
{
        return strcmp((*(const struct pm_crate *const *)a)->label,
                      (*(const struct pm_crate *const *)b)->label);
}

static bool
rank_of(const struct order *o, const char *label, size_t *ret)
{
        size_t lo = 0, hi = o->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(label, o->sorted[mid]->label);

                if (c == 0) {
                        *ret = mid;
                        return true;
                }
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return false;
}

static void
heap_push(size_t *heap, size_t *n, size_t v)
{
        size_t i = (*n)++;

        while (i > 0 && heap[(i - 1) / 2] > v) {
                heap[i] = heap[(i - 1) / 2];
                i = (i - 1) / 2;
        }
        heap[i] = v;
}

static size_t
heap_pop(size_t *heap, size_t *n)
{
        size_t top = heap[0], v = heap[--(*n)], i = 0;

        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= *n)
                        break;
                if (c + 1 < *n && heap[c + 1] < heap[c])
                        c++;
                if (heap[c] >= v)
                        break;
                heap[i] = heap[c];
                i = c;
        }
        if (*n > 0)
                heap[i] = v;
        return top;
}

/* Name one actual cycle among the crates left over by Kahn's algorithm: each of them still has
 * an unemitted dep, so following such deps must revisit a crate. */
static int
cycle_error(const struct order *o, struct pm_error *err)
{
        size_t *seen = NULL, start = 0, cur, step = 1;
        struct pm_strbuf sb = PM_STRBUF_INIT;
        int r;

        while (start < o->n && o->indeg[start] == 0)
                start++;
        seen = pm_calloc(o->n, sizeof(*seen));
        if (!seen || start == o->n) {
                r = pm_error_set(err, PM_ESCHEMA, "cannot write project: dependency cycle");
                goto out;
        }
        cur = start;
        while (!seen[cur]) {
                seen[cur] = step++;
                for (size_t e = o->dep_start[cur]; e < o->dep_start[cur + 1]; e++) {
                        if (o->indeg[o->dep_idx[e]] > 0) {
                                cur = o->dep_idx[e];
                                break;
                        }
                }
        }
        /* cur starts the cycle: walk it once more, printing. */
        start = cur;
        do {
                (void)pm_strbuf_addf(&sb, "'%s' -> ", o->sorted[cur]->label);
                for (size_t e = o->dep_start[cur]; e < o->dep_start[cur + 1]; e++) {
                        if (o->indeg[o->dep_idx[e]] > 0 && seen[o->dep_idx[e]]) {
                                cur = o->dep_idx[e];
                                break;
                        }
                }
        } while (cur != start);
        r = pm_error_set(err, PM_ESCHEMA, "cannot write project: dependency cycle %s'%s'",
                         sb.buf ? sb.buf : "", o->sorted[start]->label);
out:
        pm_strbuf_release(&sb);
        pm_free(seen);
        return r;
}

/*
 * Resolve every dep to a rank (a dangling dep is an error naming both crates), then order the
 * crates: Kahn's algorithm taking the smallest label among the ready crates each time, so the
 * output is deterministic and deps come first.
 */
static int
order_crates(const struct pm_graph *g, struct order *o, struct pm_error *err)
{
        size_t n = g->n_crates, n_edges = 0, n_heap = 0, k = 0;

        o->n = n;
        for (size_t i = 0; i < n; i++)
                n_edges += g->crates[i].n_deps;
        o->sorted = pm_malloc((n + 1) * sizeof(*o->sorted));
        o->dep_start = pm_calloc(n + 1, sizeof(size_t));
        o->dep_idx = pm_malloc((n_edges + 1) * sizeof(size_t));
        o->rdep_start = pm_calloc(n + 2, sizeof(size_t));
        o->rdep_idx = pm_malloc((n_edges + 1) * sizeof(size_t));
        o->indeg = pm_calloc(n + 1, sizeof(size_t));
        o->heap = pm_malloc((n + 1) * sizeof(size_t));
        o->order = pm_malloc((n + 1) * sizeof(size_t));
        o->pos = pm_malloc((n + 1) * sizeof(size_t));
        if (!o->sorted || !o->dep_start || !o->dep_idx || !o->rdep_start || !o->rdep_idx ||
            !o->indeg || !o->heap || !o->order || !o->pos)
                return pm_error_set(err, -ENOMEM, "cannot write project: out of memory");

        for (size_t i = 0; i < n; i++) {
                if (!g->crates[i].label)
                        return pm_error_set(err, PM_ESCHEMA, "crate #%zu: missing label", i);
                o->sorted[i] = &g->crates[i];
        }
        /* Graphs often come in label order (adapters, loads): one pass proves it. */
        for (k = 1; k < n; k++)
                if (cmp_crate_ptr(&o->sorted[k - 1], &o->sorted[k]) > 0)
                        break;
        if (k < n)
                qsort(o->sorted, n, sizeof(*o->sorted), cmp_crate_ptr);
        k = 0;
        for (size_t i = 1; i < n; i++)
                if (strcmp(o->sorted[i - 1]->label, o->sorted[i]->label) == 0)
                        return pm_error_set(err, PM_ESCHEMA,
                                            "cannot write project: crate '%s' appears twice",
                                            o->sorted[i]->label);

        for (size_t i = 0, e = 0; i < n; i++) {
                const struct pm_crate *c = o->sorted[i];

                o->dep_start[i] = e;
                for (size_t d = 0; d < c->n_deps; d++, e++) {
                        size_t j;

                        if (!c->deps[d].label || !rank_of(o, c->deps[d].label, &j))
                                return pm_error_set(
                                        err, PM_ESCHEMA,
                                        "cannot write project: crate '%s' depends on '%s', which is not in the project",
                                        c->label, c->deps[d].label ? c->deps[d].label : "(null)");
                        o->dep_idx[e] = j;
                        o->rdep_start[j + 2]++;
                }
                o->indeg[i] = c->n_deps;
        }
        o->dep_start[n] = n_edges;
        /* Counting sort of the reverse edges: rdep_start[j + 1] becomes the fill cursor. */
        for (size_t j = 0; j < n; j++)
                o->rdep_start[j + 2] += o->rdep_start[j + 1];
        for (size_t i = 0; i < n; i++)
                for (size_t e = o->dep_start[i]; e < o->dep_start[i + 1]; e++)
                        o->rdep_idx[o->rdep_start[o->dep_idx[e] + 1]++] = i;

        for (size_t i = 0; i < n; i++)
                if (o->indeg[i] == 0)
                        heap_push(o->heap, &n_heap, i);
        while (n_heap > 0) {
                size_t i = heap_pop(o->heap, &n_heap);

                o->pos[i] = k;
                o->order[k++] = i;
                for (size_t e = o->rdep_start[i]; e < o->rdep_start[i + 1]; e++)
                        if (--o->indeg[o->rdep_idx[e]] == 0)
                                heap_push(o->heap, &n_heap, o->rdep_idx[e]);
        }
        if (k < n)
                return cycle_error(o, err);
        return 0;
}

static const char *
target_kind(enum pm_crate_kind kind)
{
        switch (kind) {
        case PM_CRATE_BIN:
                return "bin";
        case PM_CRATE_TEST:
                return "test";
        case PM_CRATE_LIB:
        case PM_CRATE_PROC_MACRO:
        case _PM_CRATE_KIND_MAX:
                break;
        }
        return "lib";
}

static bool
add_str(cJSON *obj, const char *key, const char *value)
{
        return pm_json_add(obj, key, cJSON_CreateString(value));
}

/* deps[]: the extern name is the rename or the dep's crate name, never with '-'. */
static cJSON *
deps_array(const struct order *o, size_t rank)
{
        const struct pm_crate *c = o->sorted[rank];
        cJSON *a = cJSON_CreateArray();

        for (size_t d = 0; a && d < c->n_deps; d++) {
                size_t j = o->dep_idx[o->dep_start[rank] + d];
                const char *name = c->deps[d].name ? c->deps[d].name : o->sorted[j]->crate_name;
                cJSON *dep = cJSON_CreateObject();
                cJSON *s = cJSON_CreateString(name);
                bool ok = dep && s;

                if (ok) {
                        for (char *p = s->valuestring; *p; p++)
                                if (*p == '-')
                                        *p = '_';
                        ok = pm_json_add(dep, "crate", cJSON_CreateNumber((double)o->pos[j]));
                }
                if (ok) {
                        ok = pm_json_add(dep, "name", s);
                        s = NULL; /* consumed either way */
                }
                if (!ok || !cJSON_AddItemToArray(a, dep)) {
                        cJSON_Delete(s);
                        cJSON_Delete(dep);
                        cJSON_Delete(a);
                        return NULL;
                }
        }
        return a;
}

static cJSON *
source_object(const struct pm_crate *c)
{
        cJSON *src = cJSON_CreateObject();
        cJSON *inc = NULL;

        if (!src)
                return NULL;
        if (c->include_dirs.n > 0) {
                inc = pm_json_strlist(&c->include_dirs);
        } else {
                char *dir = pm_path_dirname(NULL, c->root_module);
                cJSON *s = dir ? cJSON_CreateString(dir) : NULL;

                pm_free(dir);
                inc = cJSON_CreateArray();
                if (!s || !inc || !cJSON_AddItemToArray(inc, s)) {
                        cJSON_Delete(s);
                        cJSON_Delete(inc);
                        inc = NULL;
                }
        }
        if (!pm_json_add(src, "include_dirs", inc) ||
            !pm_json_add(src, "exclude_dirs", cJSON_CreateArray())) {
                cJSON_Delete(src);
                return NULL;
        }
        return src;
}

/* Field order follows rust-analyzer's crate schema, so output is stable and diffable. */
static cJSON *
crate_object(const struct order *o, size_t rank, const struct pm_writer_options *opts)
{
        const struct pm_crate *c = o->sorted[rank];
        bool proc_macro = c->kind == PM_CRATE_PROC_MACRO;
        cJSON *obj = cJSON_CreateObject();
        cJSON *env = cJSON_CreateObject();
        bool ok;

        ok = obj && env;
        for (size_t i = 0; ok && i < c->env.n; i++)
                ok = add_str(env, c->env.v[i].key, c->env.v[i].value);
        ok = ok && add_str(obj, "display_name", c->display_name ? c->display_name : c->crate_name);
        ok = ok && add_str(obj, "root_module", c->root_module);
        ok = ok && add_str(obj, "edition", c->edition);
        ok = ok && pm_json_add(obj, "deps", deps_array(o, rank));
        ok = ok && pm_json_add(obj, "cfg", pm_json_strlist(&c->cfgs));
        if (ok) {
                ok = pm_json_add(obj, "env", env);
                env = NULL;
        }
        ok = ok &&
             pm_json_add(obj, "is_workspace_member", cJSON_CreateBool(c->is_workspace_member));
        ok = ok && pm_json_add(obj, "source", source_object(c));
        ok = ok && pm_json_add(obj, "is_proc_macro", cJSON_CreateBool(proc_macro));
        if (ok && proc_macro && c->proc_macro_dylib)
                ok = add_str(obj, "proc_macro_dylib_path", c->proc_macro_dylib);
        if (ok && c->target)
                ok = add_str(obj, "target", c->target);
        if (ok && opts && opts->proc_macro_cwd)
                ok = add_str(obj, "proc_macro_cwd", opts->proc_macro_cwd);
        if (ok && c->is_workspace_member && c->build_file) {
                cJSON *build = cJSON_CreateObject();

                ok = build && add_str(build, "label", c->label) &&
                     add_str(build, "build_file", c->build_file) &&
                     add_str(build, "target_kind", target_kind(c->kind));
                if (!ok)
                        cJSON_Delete(build);
                else
                        ok = pm_json_add(obj, "build", build);
        }
        cJSON_Delete(env);
        if (!ok) {
                cJSON_Delete(obj);
                return NULL;
        }
        return obj;
}

static bool
strlist_has_null(const struct pm_strlist *l)
{
        for (size_t i = 0; i < l->n; i++)
                if (!l->v[i])
                        return true;
        return false;
}

/*
 * What the writer needs so that no JSON value is ever null. Deliberately not
 * pm_graph_validate(): the model was validated when applied, and dep names are made valid here
 * ('-' to '_') rather than rejected.
 */
static int
check_crate(const struct pm_crate *c, struct pm_error *err)
{
        const char *missing = NULL;

        if (!c->label)
                return pm_error_set(err, PM_ESCHEMA, "cannot write project: crate without label");
        if (!c->crate_name)
                missing = "crate_name";
        else if (!c->edition)
                missing = "edition";
        else if (!c->root_module)
                missing = "root_module";
        else if (strlist_has_null(&c->cfgs))
                missing = "a cfg";
        else if (strlist_has_null(&c->include_dirs))
                missing = "an include dir";
        for (size_t i = 0; !missing && i < c->env.n; i++)
                if (!c->env.v[i].key || !c->env.v[i].value)
                        missing = "an env key or value";
        if (missing)
                return pm_error_set(err, PM_ESCHEMA, "cannot write project: crate '%s' has no %s",
                                    c->label, missing);
        return 0;
}

/*
 * The project-level runnables (docs/cli.md "check, run, test"), with the placeholders
 * rust-analyzer fills for each kind. `flycheck` is newer than `run` and `testOne`: the
 * rust-analyzers between the two reject the whole file (docs/cli.md says which), so the
 * configuration can leave it out (runnable_wanted()).
 * They name no crate, so every closure carries the same bytes.
 */
static const struct {
        const char *kind;
        const char *args[4];
} runnables[] = {
        { "flycheck", { "check", "{label}", "{saved_file}", NULL } },
        { "run", { "run", "{label}", NULL } },
        { "testOne", { "test", "{label}", "{test_id}", NULL } },
};

/* Whether runnables[@i] is written: `flycheck` only unless the configuration leaves it out. */
static bool
runnable_wanted(const struct pm_writer_options *opts, size_t i)
{
        return !opts->no_flycheck || strcmp(runnables[i].kind, "flycheck") != 0;
}

static cJSON *
runnables_array(const struct pm_writer_options *opts)
{
        cJSON *arr = cJSON_CreateArray();

        for (size_t i = 0; arr && i < sizeof(runnables) / sizeof(runnables[0]); i++) {
                cJSON *r, *args;

                if (!runnable_wanted(opts, i))
                        continue;
                r = cJSON_CreateObject();
                args = r ? cJSON_AddArrayToObject(r, "args") : NULL;
                bool ok = args && add_str(r, "program", opts->runnables_program) &&
                          add_str(r, "cwd", opts->proc_macro_cwd) &&
                          add_str(r, "kind", runnables[i].kind);

                for (size_t k = 0; ok && runnables[i].args[k]; k++) {
                        cJSON *a = cJSON_CreateString(runnables[i].args[k]);

                        ok = a && cJSON_AddItemToArray(args, a);
                        if (!ok)
                                cJSON_Delete(a);
                }
                if (!ok || !cJSON_AddItemToArray(arr, r)) {
                        cJSON_Delete(r);
                        cJSON_Delete(arr);
                        return NULL;
                }
        }
        return arr;
}

/* What both renderers do first: every crate writable (check_crate), then in dependency order. */
static int
check_and_order(const struct pm_graph *g, struct order *o, struct pm_error *err)
{
        for (size_t i = 0; i < g->n_crates; i++) {
                int r = check_crate(&g->crates[i], err);

                if (r < 0)
                        return r;
        }
        return order_crates(g, o, err);
}

int
pm_writer_project(const struct pm_graph *g, const struct pm_writer_options *opts,
                  struct cJSON **ret, struct pm_error *err)
{
        struct order o = { 0 };
        cJSON *root = NULL, *crates;
        int r;

        r = check_and_order(g, &o, err);
        if (r < 0)
                goto out;

        root = cJSON_CreateObject();
        if (!root || (opts && opts->sysroot && !add_str(root, "sysroot", opts->sysroot)) ||
            (opts && opts->sysroot_src && !add_str(root, "sysroot_src", opts->sysroot_src)))
                goto oom;
        if (opts && opts->runnables_program && opts->proc_macro_cwd &&
            !pm_json_add(root, "runnables", runnables_array(opts)))
                goto oom;
        crates = cJSON_AddArrayToObject(root, "crates");
        if (!crates)
                goto oom;
        for (size_t k = 0; k < o.n; k++) {
                cJSON *c = crate_object(&o, o.order[k], opts);

                if (!c)
                        goto oom;
                if (!cJSON_AddItemToArray(crates, c)) {
                        cJSON_Delete(c);
                        goto oom;
                }
        }
        *ret = pm_steal_ptr(&root);
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "cannot write project: out of memory");
out:
        cJSON_Delete(root);
        order_release(&o);
        return r;
}

/*
 * The streaming printer behind pm_writer_render(): the same bytes cJSON_PrintPreallocated() gives
 * for the tree pm_writer_project() builds (cJSON 1.7's layout: compact, or tabs for depth, ":\t"
 * after keys and ", " between array elements; its string escapes and integer numbers), without
 * building the tree: for 10,000 crates that is a few hundred thousand nodes, each allocated,
 * printed and freed. tests/writer/test-render.c holds the two paths byte for byte together.
 */
#define JW_MAX_DEPTH 16

struct jw {
        struct pm_strbuf *sb;
        bool pretty;
        bool nomem;
        unsigned depth;
        bool first[JW_MAX_DEPTH]; /* no member or element written yet at this depth */
};

static void
jw_add(struct jw *w, const char *p, size_t len)
{
        if (!w->nomem && pm_strbuf_add(w->sb, p, len) < 0)
                w->nomem = true;
}

static void
jw_ch(struct jw *w, char c)
{
        jw_add(w, &c, 1);
}

static void
jw_tabs(struct jw *w, unsigned n)
{
        static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

        jw_add(w, tabs, n < sizeof(tabs) - 1 ? n : sizeof(tabs) - 1);
}

/* A JSON string as cJSON prints it: the two-character escapes, \u00XX (lowercase) for other
 * control characters, every other byte as it is. */
static void
jw_str_as(struct jw *w, const char *s, bool dash_to_underscore)
{
        const unsigned char *p = (const unsigned char *)s, *run = p;

        jw_ch(w, '"');
        for (; *p; p++) {
                unsigned char c = *p;
                char esc[8];
                size_t n = 2;

                if (c == '-' && dash_to_underscore) {
                        jw_add(w, (const char *)run, (size_t)(p - run));
                        jw_ch(w, '_');
                        run = p + 1;
                        continue;
                }
                if (c >= 32 && c != '"' && c != '\\')
                        continue;
                jw_add(w, (const char *)run, (size_t)(p - run));
                run = p + 1;
                esc[0] = '\\';
                switch (c) {
                case '"':
                case '\\':
                        esc[1] = (char)c;
                        break;
                case '\b':
                        esc[1] = 'b';
                        break;
                case '\f':
                        esc[1] = 'f';
                        break;
                case '\n':
                        esc[1] = 'n';
                        break;
                case '\r':
                        esc[1] = 'r';
                        break;
                case '\t':
                        esc[1] = 't';
                        break;
                default:
                        esc[1] = 'u';
                        esc[2] = '0';
                        esc[3] = '0';
                        esc[4] = "0123456789abcdef"[c >> 4];
                        esc[5] = "0123456789abcdef"[c & 15];
                        n = 6;
                        break;
                }
                jw_add(w, esc, n);
        }
        jw_add(w, (const char *)run, (size_t)(p - run));
        jw_ch(w, '"');
}

static void
jw_str(struct jw *w, const char *s)
{
        jw_str_as(w, s, false);
}

static void
jw_open(struct jw *w, char c)
{
        jw_ch(w, c);
        if (w->depth + 1 >= JW_MAX_DEPTH) {
                w->nomem = true; /* cannot happen: the schema is four levels deep */
                return;
        }
        w->first[++w->depth] = true;
        if (c == '{' && w->pretty)
                jw_ch(w, '\n');
}

static void
jw_close(struct jw *w, char c)
{
        if (c == '}' && w->pretty) {
                if (!w->first[w->depth])
                        jw_ch(w, '\n');
                jw_tabs(w, w->depth - 1);
        }
        jw_ch(w, c);
        w->depth--;
}

/* Start an object member: separator, indentation, key. */
static void
jw_key(struct jw *w, const char *key)
{
        if (!w->first[w->depth])
                jw_add(w, w->pretty ? ",\n" : ",", w->pretty ? 2 : 1);
        w->first[w->depth] = false;
        if (w->pretty)
                jw_tabs(w, w->depth);
        jw_str(w, key);
        jw_add(w, ":\t", w->pretty ? 2 : 1);
}

/* Start an array element. */
static void
jw_elem(struct jw *w)
{
        if (!w->first[w->depth])
                jw_add(w, ", ", w->pretty ? 2 : 1);
        w->first[w->depth] = false;
}

static void
jw_key_str(struct jw *w, const char *key, const char *value)
{
        jw_key(w, key);
        jw_str(w, value);
}

static void
jw_key_bool(struct jw *w, const char *key, bool value)
{
        jw_key(w, key);
        if (value)
                jw_add(w, "true", 4);
        else
                jw_add(w, "false", 5);
}

static void
jw_strlist(struct jw *w, const struct pm_strlist *l)
{
        jw_open(w, '[');
        for (size_t i = 0; i < l->n; i++) {
                jw_elem(w);
                jw_str(w, l->v[i]);
        }
        jw_close(w, ']');
}

/* crate_object(), printed. */
static void
print_crate(struct jw *w, const struct order *o, size_t rank, const struct pm_writer_options *opts)
{
        const struct pm_crate *c = o->sorted[rank];
        bool proc_macro = c->kind == PM_CRATE_PROC_MACRO;
        char num[32];

        jw_open(w, '{');
        jw_key_str(w, "display_name", c->display_name ? c->display_name : c->crate_name);
        jw_key_str(w, "root_module", c->root_module);
        jw_key_str(w, "edition", c->edition);
        jw_key(w, "deps");
        jw_open(w, '[');
        for (size_t d = 0; d < c->n_deps; d++) {
                size_t j = o->dep_idx[o->dep_start[rank] + d];
                const char *name = c->deps[d].name ? c->deps[d].name : o->sorted[j]->crate_name;

                jw_elem(w);
                jw_open(w, '{');
                jw_key(w, "crate");
                jw_add(w, num, (size_t)snprintf(num, sizeof(num), "%zu", o->pos[j]));
                jw_key(w, "name");
                jw_str_as(w, name, true);
                jw_close(w, '}');
        }
        jw_close(w, ']');
        jw_key(w, "cfg");
        jw_strlist(w, &c->cfgs);
        jw_key(w, "env");
        jw_open(w, '{');
        for (size_t i = 0; i < c->env.n; i++)
                jw_key_str(w, c->env.v[i].key, c->env.v[i].value);
        jw_close(w, '}');
        jw_key_bool(w, "is_workspace_member", c->is_workspace_member);
        jw_key(w, "source");
        jw_open(w, '{');
        jw_key(w, "include_dirs");
        if (c->include_dirs.n > 0) {
                jw_strlist(w, &c->include_dirs);
        } else {
                char *dir = pm_path_dirname(NULL, c->root_module);

                if (!dir)
                        w->nomem = true;
                jw_open(w, '[');
                jw_elem(w);
                jw_str(w, dir ? dir : "");
                jw_close(w, ']');
                pm_free(dir);
        }
        jw_key(w, "exclude_dirs");
        jw_open(w, '[');
        jw_close(w, ']');
        jw_close(w, '}');
        jw_key_bool(w, "is_proc_macro", proc_macro);
        if (proc_macro && c->proc_macro_dylib)
                jw_key_str(w, "proc_macro_dylib_path", c->proc_macro_dylib);
        if (c->target)
                jw_key_str(w, "target", c->target);
        if (opts && opts->proc_macro_cwd)
                jw_key_str(w, "proc_macro_cwd", opts->proc_macro_cwd);
        if (c->is_workspace_member && c->build_file) {
                jw_key(w, "build");
                jw_open(w, '{');
                jw_key_str(w, "label", c->label);
                jw_key_str(w, "build_file", c->build_file);
                jw_key_str(w, "target_kind", target_kind(c->kind));
                jw_close(w, '}');
        }
        jw_close(w, '}');
}

int
pm_writer_render(const struct pm_graph *g, const struct pm_writer_options *opts,
                 struct pm_strbuf *out, struct pm_error *err)
{
        struct jw w = { .sb = out, .pretty = opts && opts->pretty };
        struct order o = { 0 };
        size_t start = out->len;
        int r;

        r = check_and_order(g, &o, err);
        if (r < 0)
                goto out;
        /* One allocation up front (about 550 bytes a crate compact, 700 indented). */
        if (pm_strbuf_grow(out, (w.pretty ? 1024 : 768) * (g->n_crates + 1) + 4096) < 0)
                w.nomem = true;

        jw_open(&w, '{');
        if (opts && opts->sysroot)
                jw_key_str(&w, "sysroot", opts->sysroot);
        if (opts && opts->sysroot_src)
                jw_key_str(&w, "sysroot_src", opts->sysroot_src);
        if (opts && opts->runnables_program && opts->proc_macro_cwd) {
                jw_key(&w, "runnables");
                jw_open(&w, '[');
                for (size_t i = 0; i < sizeof(runnables) / sizeof(runnables[0]); i++) {
                        if (!runnable_wanted(opts, i))
                                continue;
                        jw_elem(&w);
                        jw_open(&w, '{');
                        jw_key(&w, "args");
                        jw_open(&w, '[');
                        for (size_t k = 0; runnables[i].args[k]; k++) {
                                jw_elem(&w);
                                jw_str(&w, runnables[i].args[k]);
                        }
                        jw_close(&w, ']');
                        jw_key_str(&w, "program", opts->runnables_program);
                        jw_key_str(&w, "cwd", opts->proc_macro_cwd);
                        jw_key_str(&w, "kind", runnables[i].kind);
                        jw_close(&w, '}');
                }
                jw_close(&w, ']');
        }
        jw_key(&w, "crates");
        jw_open(&w, '[');
        for (size_t k = 0; k < o.n && !w.nomem; k++) {
                jw_elem(&w);
                print_crate(&w, &o, o.order[k], opts);
        }
        jw_close(&w, ']');
        jw_close(&w, '}');
        jw_ch(&w, '\n');
        if (w.nomem) {
                r = pm_error_set(err, -ENOMEM, "cannot write project: out of memory");
                goto out;
        }
        r = 0;
out:
        if (r < 0 && out->buf) {
                out->len = start;
                out->buf[start] = '\0';
        }
        order_release(&o);
        return r;
}
