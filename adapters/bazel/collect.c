/* SPDX-License-Identifier: MIT */
/* Collecting the Rust rules of a Bazel query output (cquery jsonproto or streamed_jsonproto lines),
 * sorted and deduplicated by label. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"

/* The rule classes rules_rust defines that make a crate, and its build-script rule. */
static const struct pm__bazel_rule_class rule_classes[] = {
        { "rust_library", PM_CRATE_LIB, "lib.rs", false },
        { "rust_binary", PM_CRATE_BIN, "main.rs", false },
        /* rust_test uses the libtest harness, so rules_rust looks for lib.rs. */
        { "rust_test", PM_CRATE_TEST, "lib.rs", false },
        { "rust_proc_macro", PM_CRATE_PROC_MACRO, "lib.rs", false },
        { "rust_shared_library", PM_CRATE_LIB, "lib.rs", false },
        { "rust_static_library", PM_CRATE_LIB, "lib.rs", false },
        /* Not a crate: a build script run, named in its crate's deps (adapters/bazel/crate.c). */
        { "cargo_build_script", PM_CRATE_LIB, NULL, true },
};

/* ---- the user's convenience symlinks --------------------------------------------------- */

/* What one directory prefix of the packages is (struct pm__bazel_links): a slot is empty while
 * its prefix is NULL. */
enum link_state {
        LINK_DIR,  /* not a symlink: look at the next component */
        LINK_GONE, /* cannot be lstat'ed: nothing beneath it is through a link */
        LINK_HIT,  /* a symlink into an output base's execroot */
};

struct pm__bazel_link_slot {
        char *prefix; /* pm_malloc'd, relative to the workspace, or NULL */
        char *marker; /* pm_malloc'd: the DO_NOT_BUILD_HERE a symlink's answer looked for, or NULL
                       */
        uint64_t hash;
        enum link_state state;
};

/*
 * The lstat()s of pm__bazel_through_link(), for the tests (bazel-internal.h). Atomic rather
 * than _Thread_local: a thread-local variable in this library makes every binary linking it
 * need the dynamic loader by name, the front `projmodel` included (tests/cli/check-front.py).
 */
static _Atomic uint64_t link_lstats;

uint64_t
pm__bazel_link_lstats(void)
{
        return atomic_load_explicit(&link_lstats, memory_order_relaxed);
}

void
pm__bazel_links_release(struct pm__bazel_links *lc)
{
        for (size_t i = 0; i < lc->cap; i++) {
                pm_free(lc->v[i].prefix);
                pm_free(lc->v[i].marker);
        }
        pm_free(lc->v);
        memset(lc, 0, sizeof(*lc));
}

static struct pm__bazel_link_slot *
link_slot(struct pm__bazel_links *lc, const char *prefix, size_t n, uint64_t h)
{
        for (size_t i = h & (lc->cap - 1);; i = (i + 1) & (lc->cap - 1)) {
                struct pm__bazel_link_slot *s = &lc->v[i];

                if (!s->prefix ||
                    (s->hash == h && strncmp(s->prefix, prefix, n) == 0 && s->prefix[n] == '\0'))
                        return s;
        }
}

/* Remember @state for the first @n bytes of @prefix, and @marker (taken over); out of memory
 * only forgets it (lc->forgot). */
static void
link_remember(struct pm__bazel_links *lc, const char *prefix, size_t n, uint64_t h,
              enum link_state state, char *marker)
{
        struct pm__bazel_link_slot *s;

        if (2 * (lc->n + 1) > lc->cap) {
                size_t cap = lc->cap ? 2 * lc->cap : 64;
                struct pm__bazel_link_slot *v = pm_calloc(cap, sizeof(*v)), *old = lc->v;
                size_t old_cap = lc->cap;

                if (!v) {
                        pm_free(marker);
                        lc->forgot = true;
                        return;
                }
                lc->v = v;
                lc->cap = cap;
                for (size_t i = 0; i < old_cap; i++)
                        if (old[i].prefix)
                                *link_slot(lc, old[i].prefix, strlen(old[i].prefix), old[i].hash) =
                                        old[i];
                pm_free(old);
        }
        s = link_slot(lc, prefix, n, h);
        if (s->prefix) {
                pm_free(marker);
                return;
        }
        s->prefix = pm_strndup(prefix, n);
        if (!s->prefix) {
                pm_free(marker);
                lc->forgot = true;
                return;
        }
        s->hash = h;
        s->state = state;
        s->marker = marker;
        lc->n++;
}

int
pm__bazel_links_inputs(const struct pm__bazel_links *lc, const char *root, struct pm_graph *g)
{
        for (size_t i = 0; i < lc->cap; i++) {
                const struct pm__bazel_link_slot *s = &lc->v[i];
                char *p;

                if (!s->prefix)
                        continue;
                p = pm_graph_printf(g, "%s/%s", root, s->prefix);
                if (!p || pm_strlist_push(g, &g->inputs, p) < 0)
                        return -ENOMEM;
                if (s->marker && pm_strlist_push(g, &g->inputs, s->marker) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* What the directory @root/@rel[0, @i) is: one lstat() (and for a symlink one realpath() and
 * access() of *@ret_marker, pm_malloc'd, else NULL; *@ret_lost when out of memory for it). */
static enum link_state
link_probe(const char *root, const char *rel, size_t i, char **ret_marker, bool *ret_lost)
{
        char path[2 * PM_BAZEL_MAX_PATH + 2];
        struct stat st;
        char *real, *ex;
        bool hit = false;

        if ((size_t)snprintf(path, sizeof(path), "%s/%.*s", root, (int)i, rel) >= sizeof(path))
                return LINK_GONE;
        atomic_fetch_add_explicit(&link_lstats, 1, memory_order_relaxed);
        if (lstat(path, &st) != 0)
                return LINK_GONE;
        if (!S_ISLNK(st.st_mode))
                return LINK_DIR;
        real = realpath(path, NULL);
        ex = real ? strstr(real, "/execroot/") : NULL;
        if (ex && (size_t)snprintf(path, sizeof(path), "%.*s/execroot/DO_NOT_BUILD_HERE",
                                   (int)(ex - real), real) < sizeof(path)) {
                hit = access(path, F_OK) == 0;
                *ret_marker = pm_strdup(path);
                *ret_lost = !*ret_marker;
        }
        free(real); /* realpath()'s own allocation */
        return hit ? LINK_HIT : LINK_DIR;
}

bool
pm__bazel_through_link(struct pm__bazel_links *lc, const char *root, const char *rel)
{
        size_t n = strlen(rel);

        for (size_t i = 1; i <= n; i++) {
                enum link_state state;
                struct pm__bazel_link_slot *s = NULL;
                uint64_t h = 0;

                if (i < n && rel[i] != '/')
                        continue;
                if (lc) {
                        h = pm_hash64(rel, i, 0);
                        s = lc->cap ? link_slot(lc, rel, i, h) : NULL;
                }
                if (s && s->prefix) {
                        state = s->state;
                } else {
                        char *marker = NULL;
                        bool lost = false;

                        state = link_probe(root, rel, i, &marker, &lost);
                        if (lc) {
                                lc->forgot |= lost;
                                link_remember(lc, rel, i, h, state, marker);
                        } else {
                                pm_free(marker);
                        }
                }
                if (state != LINK_DIR)
                        return state == LINK_HIT;
        }
        return false;
}

/* ---- collecting the rules ---------------------------------------------------------------- */

static const struct pm__bazel_rule_class *
find_class(const char *name)
{
        for (size_t i = 0; i < sizeof(rule_classes) / sizeof(rule_classes[0]); i++)
                if (strcmp(rule_classes[i].name, name) == 0)
                        return &rule_classes[i];
        return NULL;
}

/* "<path>:line:col" (or "<path>:line") to the path; relative locations (--relative_locations)
 * are relative to the workspace. */
static char *
location_file(struct pm__bazel_ctx *c, const char *loc)
{
        size_t n = strlen(loc);

        for (int i = 0; i < 2; i++) {
                size_t j = n;

                while (j > 0 && loc[j - 1] >= '0' && loc[j - 1] <= '9')
                        j--;
                if (j == n || j == 0 || loc[j - 1] != ':')
                        break;
                n = j - 1;
        }
        if (n == 0 || n > PM_BAZEL_MAX_PATH)
                return NULL;
        {
                char *file = pm_arena_strndup(c->g->arena, loc, n);

                if (!file)
                        return NULL;
                return pm_path_normalize(c->g->arena, c->q->project->root, file);
        }
}

/*
 * Remember target @name (a GENERATED_FILE's, or a rule's that makes no crate) as generated: the
 * query expression (adapters/bazel/bazel.c) adds the targets of the Rust rules' srcs and
 * crate_root that are no source file, so a crate's source is generated exactly when its label is
 * here, whatever the disk holds (docs/build-integration.md, Bazel).
 */
static int
add_generated(struct pm__bazel_ctx *c, const cJSON *name, const cJSON *rule, const cJSON *rule_obj)
{
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(rule_obj, "attribute");
        const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(rule_obj, "ruleInput");
        struct pm__bazel_generated *gen;
        int e;

        if (!cJSON_IsString(name))
                return pm__bazel_bad(c, NULL, "a generated file or rule has no 'name'");
        if (c->n_generated == PM_BAZEL_MAX_TARGETS)
                return pm_error_set(c->err, PM_ELIMIT, "cannot parse '%s': more than %d targets",
                                    c->origin, PM_BAZEL_MAX_TARGETS);
        if (pm_grow(&c->generated, &c->cap_generated, c->n_generated + 1, 16) < 0)
                return pm__bazel_oom(c);
        gen = &c->generated[c->n_generated];
        memset(gen, 0, sizeof(*gen));
        e = pm__bazel_norm_label(c, NULL, NULL, name->valuestring, &gen->l, &gen->label);
        if (e == 0 && cJSON_IsString(rule))
                e = pm__bazel_norm_label(c, NULL, NULL, rule->valuestring, NULL, &gen->rule);
        if (e < 0)
                return e;
        gen->attrs = cJSON_IsArray(attrs) ? attrs : NULL;
        gen->inputs = cJSON_IsArray(inputs) ? inputs : NULL;
        c->n_generated++;
        return 0;
}

static int
add_target(struct pm__bazel_ctx *c, const cJSON *t)
{
        const cJSON *type, *rule, *name, *cls, *attrs, *loc;
        const struct pm__bazel_rule_class *rc;
        struct pm__bazel_rule *r;
        struct pm__bazel_label l;
        const char *fold = "";
        int e;

        if (!cJSON_IsObject(t))
                return pm__bazel_bad(c, NULL, "a target is not an object");
        type = cJSON_GetObjectItemCaseSensitive(t, "type");
        if (!cJSON_IsString(type))
                return pm__bazel_bad(c, NULL, "a target has no 'type'");
        if (strcmp(type->valuestring, "GENERATED_FILE") == 0) {
                const cJSON *gf = cJSON_GetObjectItemCaseSensitive(t, "generatedFile");

                return add_generated(c, cJSON_GetObjectItemCaseSensitive(gf, "name"),
                                     cJSON_GetObjectItemCaseSensitive(gf, "generatingRule"), NULL);
        }
        if (strcmp(type->valuestring, "RULE") != 0)
                return 0;
        rule = cJSON_GetObjectItemCaseSensitive(t, "rule");
        if (!cJSON_IsObject(rule))
                return pm__bazel_bad(c, NULL, "a RULE target has no 'rule' object");
        name = cJSON_GetObjectItemCaseSensitive(rule, "name");
        if (!cJSON_IsString(name))
                return pm__bazel_bad(c, NULL, "a rule has no 'name'");
        cls = cJSON_GetObjectItemCaseSensitive(rule, "ruleClass");
        if (!cJSON_IsString(cls))
                return pm__bazel_bad(c, name->valuestring, "has no 'ruleClass'");
        rc = find_class(cls->valuestring);
        /* Not a Rust rule: a genrule a crate names in srcs, or anything captured output holds. */
        if (!rc)
                return add_generated(c, name, name, rule);
        attrs = cJSON_GetObjectItemCaseSensitive(rule, "attribute");
        if (attrs && !cJSON_IsArray(attrs))
                return pm__bazel_bad(c, name->valuestring, "has a non-list 'attribute'");
        loc = cJSON_GetObjectItemCaseSensitive(rule, "location");
        if (loc && !cJSON_IsString(loc))
                return pm__bazel_bad(c, name->valuestring, "has a non-string 'location'");
        if (c->n_rules == PM_BAZEL_MAX_TARGETS)
                return pm_error_set(c->err, PM_ELIMIT, "cannot parse '%s': more than %d targets",
                                    c->origin, PM_BAZEL_MAX_TARGETS);
        if (pm_grow(&c->rules, &c->cap_rules, c->n_rules + 1, 64) < 0)
                return pm__bazel_oom(c);
        r = &c->rules[c->n_rules];
        memset(r, 0, sizeof(*r));
        r->crate = -1;
        r->order = c->n_rules;
        r->cls = rc;
        r->attrs = attrs;
        e = pm__bazel_norm_label(c, NULL, NULL, name->valuestring, &l, &r->label);
        if (e < 0)
                return e;
        /* A rule Bazel found beneath the user's bazel-<workspace> link: the same BUILD file
         * seen through the user's execroot, not a crate of its own. */
        if (!l.repo && *l.pkg && pm__bazel_through_link(&c->links, c->q->project->root, l.pkg))
                return 0;
        r->name = l.name;
        r->l = l;
        if (loc) {
                r->build_file = location_file(c, loc->valuestring);
                if (!r->build_file)
                        return pm__bazel_bad(c, r->label, "has a malformed location '%s'",
                                             loc->valuestring);
        }
        c->n_rules++;
        if (rc->kind == PM_CRATE_TEST) {
                e = pm__bazel_attr_string(c, r, "crate", &fold);
                if (e < 0)
                        return e;
                if (*fold) {
                        e = pm__bazel_norm_label(c, r, &l, fold, NULL, &r->fold_label);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

static int
keep_doc(struct pm__bazel_ctx *c, cJSON *doc)
{
        if (pm_grow(&c->docs, &c->cap_docs, c->n_docs + 1, 16) < 0) {
                cJSON_Delete(doc);
                return pm__bazel_oom(c);
        }
        c->docs[c->n_docs++] = doc;
        return 0;
}

/* Streamed: one Target per line, blank lines ignored. */
static int
parse_lines(struct pm__bazel_ctx *c, const char *data, size_t len)
{
        size_t line = 0;
        const char *p = data, *end = data + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                const char *q = p;
                cJSON *doc;
                int e;

                line++;
                while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
                        q++;
                if (q == le) {
                        p = le + 1;
                        continue;
                }
                doc = cJSON_ParseWithLength(q, (size_t)(le - q));
                if (!doc)
                        return pm_error_set_at(c->err, PM_EBADTOOLOUTPUT, c->origin, (int)line, 0,
                                               "cannot parse '%s': line %zu is not a JSON target",
                                               c->origin, line);
                e = keep_doc(c, doc);
                if (e < 0)
                        return e;
                e = add_target(c, doc);
                if (e < 0) {
                        if (c->err)
                                c->err->line = (int)line;
                        return e;
                }
                p = le + 1;
        }
        return 0;
}

/* Detect the format: one cquery object {"results": [...]} ("{}" when empty), else NDJSON. */
int
pm__bazel_collect(struct pm__bazel_ctx *c, const struct pm_blob *blob)
{
        cJSON *doc, *results, *it;
        int e;

        doc = cJSON_ParseWithLength(blob->data, blob->len);
        if (!doc || !cJSON_IsObject(doc) || cJSON_HasObjectItem(doc, "type")) {
                /* Not one object (or a single streamed line): line by line. */
                cJSON_Delete(doc);
                return parse_lines(c, blob->data, blob->len);
        }
        e = keep_doc(c, doc);
        if (e < 0)
                return e;
        results = cJSON_GetObjectItemCaseSensitive(doc, "results");
        if (!results) {
                if (doc->child)
                        return pm__bazel_bad(c, NULL, "expected a cquery result with 'results'");
                return 0;
        }
        if (!cJSON_IsArray(results))
                return pm__bazel_bad(c, NULL, "'results' is not a list");
        cJSON_ArrayForEach(it, results)
        {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "target");

                if (!t)
                        return pm__bazel_bad(c, NULL, "a result has no 'target'");
                e = add_target(c, t);
                if (e < 0)
                        return e;
        }
        return 0;
}

static int
gen_cmp(const void *a, const void *b)
{
        const struct pm__bazel_generated *x = a, *y = b;

        return strcmp(x->label, y->label);
}

static struct pm__bazel_generated *
find_generated(const struct pm__bazel_ctx *c, const char *label)
{
        struct pm__bazel_generated key = { .label = label };

        return c->n_generated
                       ? bsearch(&key, c->generated, c->n_generated, sizeof(*c->generated), gen_cmp)
                       : NULL;
}

bool
pm__bazel_is_generated(const struct pm__bazel_ctx *c, const char *label)
{
        return find_generated(c, label) != NULL;
}

/* How many generators deep pm__bazel_watch_generator() follows generated inputs: more than the
 * query prints (adapters/bazel/bazel.c, GEN_LEVELS), and a bound on its recursion. */
#define WATCH_DEPTH 16

static int watch_rule(struct pm__bazel_ctx *c, struct pm__bazel_generated *gen, int depth);

static int
watch_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key,
         const char *value, void *data)
{
        struct pm__bazel_generated *gen;
        struct pm__bazel_label l;
        const char *label;
        char *p;
        int e = pm__bazel_norm_label(c, r, &r->l, value, &l, &label);

        (void)key;
        if (e < 0 || l.repo)
                return e;
        /* A generated input (a chain of genrules, a tool the output prints) is no file of the
         * workspace to watch: its own rule's inputs are. */
        gen = find_generated(c, label);
        if (gen)
                return watch_rule(c, gen, *(const int *)data + 1);
        p = pm__bazel_label_path(c, &l);
        if (!p)
                return pm__bazel_bad(c, r->label, "has a source path too long or invalid: '%s'",
                                     value);
        if (pm_path_is_under(p, c->q->project->root) && !pm_path_is_under(p, c->s->output_base) &&
            pm_strlist_push(c->g, &c->g->build_files, p) < 0)
                return pm__bazel_oom(c);
        return 0;
}

/* Watch the inputs of generated target @gen's rule, once per parse: every label it reads
 * (`ruleInput`), or its `srcs` where the output has no `ruleInput`. */
static int
watch_rule(struct pm__bazel_ctx *c, struct pm__bazel_generated *gen, int depth)
{
        struct pm__bazel_rule r = { 0 };

        /* A GENERATED_FILE's rule is printed too (the query of adapters/bazel/bazel.c). */
        if (gen->rule && !gen->attrs && !gen->inputs && strcmp(gen->rule, gen->label) != 0)
                gen = find_generated(c, gen->rule);
        if (!gen || gen->watched || depth > WATCH_DEPTH)
                return 0;
        gen->watched = true;
        r.label = gen->label;
        r.name = gen->l.name;
        r.l = gen->l;
        r.attrs = gen->attrs;
        r.crate = -1;
        if (gen->inputs) {
                const cJSON *it;
                size_t count = 0;

                cJSON_ArrayForEach(it, gen->inputs)
                {
                        int e;

                        if (!cJSON_IsString(it))
                                return pm__bazel_bad(c, r.label, "has a non-string 'ruleInput'");
                        if (++count > PM_BAZEL_MAX_LIST)
                                return pm__bazel_bad(c, r.label,
                                                     "has too many items in 'ruleInput'");
                        e = watch_cb(c, &r, NULL, it->valuestring, &depth);
                        if (e < 0)
                                return e;
                }
                return 0;
        }
        if (!gen->attrs)
                return 0;
        return pm__bazel_attr_list(c, &r, "srcs", watch_cb, &depth);
}

int
pm__bazel_watch_generator(struct pm__bazel_ctx *c, const char *label)
{
        struct pm__bazel_generated *gen = find_generated(c, label);

        return gen ? watch_rule(c, gen, 0) : 0;
}

static int
rule_cmp(const void *a, const void *b)
{
        const struct pm__bazel_rule *x = a, *y = b;
        int d = strcmp(x->label, y->label);

        if (d)
                return d;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by label and drop duplicates (cquery prints a target once per configuration, e.g. a
 * proc macro in the exec configuration too): the first one printed wins. */
void
pm__bazel_sort_rules(struct pm__bazel_ctx *c)
{
        size_t j = 0;

        if (c->n_generated) {
                qsort(c->generated, c->n_generated, sizeof(*c->generated), gen_cmp);
                for (size_t i = 1; i < c->n_generated; i++)
                        if (strcmp(c->generated[i].label, c->generated[j].label) != 0)
                                c->generated[++j] = c->generated[i];
                c->n_generated = j + 1;
                j = 0;
        }
        if (c->n_rules == 0)
                return;
        qsort(c->rules, c->n_rules, sizeof(*c->rules), rule_cmp);
        for (size_t i = 1; i < c->n_rules; i++)
                if (strcmp(c->rules[i].label, c->rules[j].label) != 0)
                        c->rules[++j] = c->rules[i];
        c->n_rules = j + 1;
}

struct pm__bazel_rule *
pm__bazel_lookup(struct pm__bazel_ctx *c, const char *label)
{
        size_t lo = 0, hi = c->n_rules;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int d = strcmp(label, c->rules[mid].label);

                if (d == 0)
                        return &c->rules[mid];
                if (d < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}
