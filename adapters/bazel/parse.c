/* SPDX-License-Identifier: MIT */
/* Bazel query output (cquery --output=jsonproto, query --output=streamed_jsonproto) to a crate
 * graph, re-implementing rules_rust's defaults the query cannot give (crate_root, crate_name,
 * edition, test folding). Reads bytes only; never runs Bazel. Over 800 lines because labels,
 * attribute access (select() included) and crate assembly share one private context struct;
 * labels and attributes are the split candidates. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"

#define PROC_MACRO_NOTE \
        "proc-macro dylib is built by bazel and not known to the query; run 'bazel build %s'"

/* How a rule class maps to a crate, and which file rules_rust takes as its default root. */
struct rule_class {
        const char *name;
        enum pm_crate_kind kind;
        const char *default_root; /* "lib.rs" or "main.rs" */
};

static const struct rule_class rule_classes[] = {
        { "rust_library", PM_CRATE_LIB, "lib.rs" },
        { "rust_binary", PM_CRATE_BIN, "main.rs" },
        /* rust_test uses the libtest harness, so rules_rust looks for lib.rs. */
        { "rust_test", PM_CRATE_TEST, "lib.rs" },
        { "rust_proc_macro", PM_CRATE_PROC_MACRO, "lib.rs" },
        { "rust_shared_library", PM_CRATE_LIB, "lib.rs" },
        { "rust_static_library", PM_CRATE_LIB, "lib.rs" },
};

/* A label split into its parts (arena strings). repo is NULL for the main repository. */
struct label {
        const char *repo;
        const char *pkg;
        const char *name;
};

/* One Rust rule of the result. Strings belong to the graph's arena; attrs to the document. */
struct rule {
        const char *label;      /* normalised */
        const char *name;       /* the target name (after ':') */
        struct label l;         /* the label's parts, for relative labels in attributes */
        const char *build_file; /* absolute, or NULL */
        const struct rule_class *cls;
        const cJSON *attrs;     /* the "attribute" array, or NULL */
        const char *fold_label; /* rust_test's crate attribute (normalised), or NULL */
        size_t order;           /* position in the output: the first of duplicates wins */
        long crate;             /* index into the graph's crates, or -1 */
};

struct ctx {
        const struct pm_query *q;
        const struct pm__bazel_settings *s;
        const char *origin;
        struct pm_graph *g;
        cJSON **docs; /* the parsed documents (one, or one per streamed line) */
        size_t n_docs, cap_docs;
        struct rule *rules;
        size_t n_rules, cap_rules;
        struct pm_error *err;
};

static int
oom(struct ctx *c)
{
        return pm_error_set(c->err, -ENOMEM, "out of memory parsing '%s'", c->origin);
}

static int bad(struct ctx *c, const char *label, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int
bad(struct ctx *c, const char *label, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (label)
                return pm_error_set_at(c->err, PM_EBADTOOLOUTPUT, c->origin, 0, 0,
                                       "cannot parse '%s': target '%s' %s", c->origin, label, what);
        return pm_error_set_at(c->err, PM_EBADTOOLOUTPUT, c->origin, 0, 0, "cannot parse '%s': %s",
                               c->origin, what);
}

/* ---- labels ------------------------------------------------------------------------------ */

static bool
label_chars_ok(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || *p == ' ' || *p == '\\')
                        return false;
        return true;
}

static bool
path_part_ok(const char *s)
{
        /* No component may climb out of its package: Bazel never prints one, a forged one must
         * not point outside the workspace. */
        const char *p = s;

        while (*p) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);

                if ((n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
                        return false;
                if (!slash)
                        break;
                p = slash + 1;
        }
        return true;
}

/*
 * Parse @raw (absolute, or relative to package @ctx_pkg of the main repository / @ctx_repo)
 * into @ret. Returns 0, -ENOMEM, or PM_EBADTOOLOUTPUT for a label that is not one.
 */
static int
label_parse(struct ctx *c, const char *raw, const char *ctx_repo, const char *ctx_pkg,
            struct label *ret)
{
        struct pm_arena *a = c->g->arena;
        const char *rest = raw, *colon, *slashes;
        struct label l = { NULL, NULL, NULL };

        if (strlen(raw) > PM_BAZEL_MAX_LABEL || !*raw || !label_chars_ok(raw))
                return PM_EBADTOOLOUTPUT;
        if (raw[0] == '@') {
                while (*rest == '@')
                        rest++;
                slashes = strstr(rest, "//");
                if (!slashes) {
                        /* "@repo" means "@repo//:repo". */
                        if (!*rest || strchr(rest, '/') || strchr(rest, ':'))
                                return PM_EBADTOOLOUTPUT;
                        l.repo = pm_arena_strdup(a, rest);
                        l.pkg = "";
                        l.name = l.repo;
                        goto done;
                }
                /* "@//x" and "@@//x" are the main repository. */
                if (slashes > rest) {
                        l.repo = pm_arena_strndup(a, rest, (size_t)(slashes - rest));
                        if (!l.repo)
                                return -ENOMEM;
                }
                rest = slashes;
        } else if (raw[0] != '/') {
                /* Relative (":x" or "x"): Bazel prints absolute labels, but be lenient. */
                l.repo = ctx_repo;
                l.pkg = ctx_pkg;
                l.name = pm_arena_strdup(a, raw[0] == ':' ? raw + 1 : raw);
                if (!l.name)
                        return -ENOMEM;
                if (!*l.name)
                        return PM_EBADTOOLOUTPUT;
                goto done;
        }
        if (strncmp(rest, "//", 2) != 0)
                return PM_EBADTOOLOUTPUT;
        rest += 2;
        colon = strchr(rest, ':');
        if (colon) {
                l.pkg = pm_arena_strndup(a, rest, (size_t)(colon - rest));
                l.name = pm_arena_strdup(a, colon + 1);
        } else {
                /* "//pkg" means "//pkg:pkg". */
                const char *last = strrchr(rest, '/');

                l.pkg = pm_arena_strdup(a, rest);
                l.name = pm_arena_strdup(a, last ? last + 1 : rest);
        }
        if (!l.pkg || !l.name)
                return -ENOMEM;
        if (!*l.name || strchr(l.name, ':'))
                return PM_EBADTOOLOUTPUT;
done:
        if ((l.repo && (!*l.repo || strchr(l.repo, '/'))) || !path_part_ok(l.pkg) ||
            !path_part_ok(l.name) || (l.pkg[0] == '/'))
                return PM_EBADTOOLOUTPUT;
        *ret = l;
        return 0;
}

static char *
label_string(struct ctx *c, const struct label *l)
{
        return pm_graph_printf(c->g, "%s%s//%s:%s", l->repo ? "@" : "", l->repo ? l->repo : "",
                               l->pkg, l->name);
}

/* The absolute path of source label @l: the workspace for the main repository, the output
 * base's external/ for others (never the execroot, whose symlinks come and go). */
static char *
label_path(struct ctx *c, const struct label *l)
{
        const char *base = c->q->project->root;
        char *p;

        if (l->repo)
                base = pm_arena_printf(c->g->arena, "%s/external/%s", c->s->output_base, l->repo);
        if (!base)
                return NULL;
        p = pm_arena_printf(c->g->arena, "%s/%s/%s", base, l->pkg, l->name);
        if (!p)
                return NULL;
        if (strlen(p) > PM_BAZEL_MAX_PATH)
                return NULL;
        return pm_path_normalize(c->g->arena, NULL, p);
}

/* Normalise label @raw found in an attribute of rule @r (error names @r). */
static int
norm_label(struct ctx *c, const struct rule *r, const struct label *rl, const char *raw,
           struct label *ret_l, const char **ret_s)
{
        struct label l;
        int ret = label_parse(c, raw, rl ? rl->repo : NULL, rl ? rl->pkg : "", &l);

        if (ret == -ENOMEM)
                return oom(c);
        if (ret < 0)
                return bad(c, r ? r->label : NULL, "has an invalid label '%s'", raw);
        if (ret_s) {
                *ret_s = label_string(c, &l);
                if (!*ret_s)
                        return oom(c);
        }
        if (ret_l)
                *ret_l = l;
        return 0;
}

/* ---- attributes -------------------------------------------------------------------------- */

#define MAX_VALUES 64 /* select() elements concatenated in one attribute */

/*
 * The value nodes (key @field, e.g. "stringListValue") of attribute @name of @r: one for a
 * plain attribute, one per select() element (the //conditions:default branch, else the first
 * branch) for an unconfigured query's selectorList. None when the attribute is absent or
 * empty (Bazel omits empty values). Type errors are PM_EBADTOOLOUTPUT naming the target.
 */
static int
attr_values(struct ctx *c, const struct rule *r, const char *name, const char *field,
            const cJSON **ret, size_t *ret_n)
{
        const cJSON *attr, *sel, *el;
        size_t n = 0;

        *ret_n = 0;
        cJSON_ArrayForEach(attr, r->attrs)
        {
                const cJSON *an = cJSON_GetObjectItemCaseSensitive(attr, "name");

                if (cJSON_IsString(an) && strcmp(an->valuestring, name) == 0)
                        break;
        }
        if (!attr)
                return 0;
        sel = cJSON_GetObjectItemCaseSensitive(attr, "selectorList");
        if (!sel) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(attr, field);

                if (v)
                        ret[n++] = v;
                *ret_n = n;
                return 0;
        }
        el = cJSON_GetObjectItemCaseSensitive(sel, "elements");
        if (!cJSON_IsArray(el))
                return bad(c, r->label, "has a malformed select() in '%s'", name);
        cJSON_ArrayForEach(sel, el)
        {
                const cJSON *entries = cJSON_GetObjectItemCaseSensitive(sel, "entries");
                const cJSON *e, *pick = NULL;

                if (!cJSON_IsArray(entries))
                        return bad(c, r->label, "has a malformed select() in '%s'", name);
                cJSON_ArrayForEach(e, entries)
                {
                        const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "label");

                        if (!pick)
                                pick = e;
                        if (cJSON_IsString(l) &&
                            strcmp(l->valuestring, "//conditions:default") == 0) {
                                pick = e;
                                break;
                        }
                }
                if (!pick)
                        continue;
                if (n == MAX_VALUES)
                        return bad(c, r->label, "has too many select() elements in '%s'", name);
                pick = cJSON_GetObjectItemCaseSensitive(pick, field);
                if (pick)
                        ret[n++] = pick;
        }
        *ret_n = n;
        return 0;
}

/* A string attribute ("" when absent). Borrowed from the document. */
static int
attr_string(struct ctx *c, const struct rule *r, const char *name, const char **ret)
{
        const cJSON *v[MAX_VALUES];
        size_t n;
        int e = attr_values(c, r, name, "stringValue", v, &n);

        if (e < 0)
                return e;
        *ret = "";
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsString(v[i]))
                        return bad(c, r->label, "has a non-string '%s'", name);
                if (*v[i]->valuestring)
                        *ret = v[i]->valuestring;
        }
        return 0;
}

typedef int (*pm__bazel_item_cb)(struct ctx *c, const struct rule *r, const char *key,
                                 const char *value, void *data);

/* Call @cb for each string of list attribute @name. */
static int
attr_list(struct ctx *c, const struct rule *r, const char *name, pm__bazel_item_cb cb, void *data)
{
        const cJSON *v[MAX_VALUES], *it;
        size_t n, count = 0;
        int e = attr_values(c, r, name, "stringListValue", v, &n);

        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsArray(v[i]))
                        return bad(c, r->label, "has a non-list '%s'", name);
                cJSON_ArrayForEach(it, v[i])
                {
                        if (!cJSON_IsString(it))
                                return bad(c, r->label, "has a non-string item in '%s'", name);
                        if (++count > PM_BAZEL_MAX_LIST)
                                return bad(c, r->label, "has too many items in '%s'", name);
                        e = cb(c, r, NULL, it->valuestring, data);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

/* Call @cb for each {key, value} of dict attribute @name (@field: its value key). */
static int
attr_dict(struct ctx *c, const struct rule *r, const char *name, const char *field,
          pm__bazel_item_cb cb, void *data)
{
        const cJSON *v[MAX_VALUES], *it;
        size_t n, count = 0;
        int e = attr_values(c, r, name, field, v, &n);

        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsArray(v[i]))
                        return bad(c, r->label, "has a non-dict '%s'", name);
                cJSON_ArrayForEach(it, v[i])
                {
                        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
                        const cJSON *val = cJSON_GetObjectItemCaseSensitive(it, "value");

                        if (!cJSON_IsString(k) || (val && !cJSON_IsString(val)))
                                return bad(c, r->label, "has a malformed entry in '%s'", name);
                        if (++count > PM_BAZEL_MAX_LIST)
                                return bad(c, r->label, "has too many items in '%s'", name);
                        e = cb(c, r, k->valuestring, val ? val->valuestring : "", data);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

/* ---- collecting the rules ---------------------------------------------------------------- */

static const struct rule_class *
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
location_file(struct ctx *c, const char *loc)
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

static int
add_target(struct ctx *c, const cJSON *t)
{
        const cJSON *type, *rule, *name, *cls, *attrs, *loc;
        const struct rule_class *rc;
        struct rule *r;
        struct label l;
        const char *fold = "";
        int e;

        if (!cJSON_IsObject(t))
                return bad(c, NULL, "a target is not an object");
        type = cJSON_GetObjectItemCaseSensitive(t, "type");
        if (!cJSON_IsString(type))
                return bad(c, NULL, "a target has no 'type'");
        if (strcmp(type->valuestring, "RULE") != 0)
                return 0;
        rule = cJSON_GetObjectItemCaseSensitive(t, "rule");
        if (!cJSON_IsObject(rule))
                return bad(c, NULL, "a RULE target has no 'rule' object");
        name = cJSON_GetObjectItemCaseSensitive(rule, "name");
        if (!cJSON_IsString(name))
                return bad(c, NULL, "a rule has no 'name'");
        cls = cJSON_GetObjectItemCaseSensitive(rule, "ruleClass");
        if (!cJSON_IsString(cls))
                return bad(c, name->valuestring, "has no 'ruleClass'");
        rc = find_class(cls->valuestring);
        if (!rc)
                return 0; /* not a Rust rule (captured output may hold anything) */
        attrs = cJSON_GetObjectItemCaseSensitive(rule, "attribute");
        if (attrs && !cJSON_IsArray(attrs))
                return bad(c, name->valuestring, "has a non-list 'attribute'");
        loc = cJSON_GetObjectItemCaseSensitive(rule, "location");
        if (loc && !cJSON_IsString(loc))
                return bad(c, name->valuestring, "has a non-string 'location'");
        if (c->n_rules == PM_BAZEL_MAX_TARGETS)
                return pm_error_set(c->err, PM_ELIMIT, "cannot parse '%s': more than %d targets",
                                    c->origin, PM_BAZEL_MAX_TARGETS);
        if (c->n_rules == c->cap_rules) {
                size_t cap = c->cap_rules ? c->cap_rules * 2 : 64;
                struct rule *v = pm_realloc(c->rules, cap * sizeof(*v));

                if (!v)
                        return oom(c);
                c->rules = v;
                c->cap_rules = cap;
        }
        r = &c->rules[c->n_rules];
        memset(r, 0, sizeof(*r));
        r->crate = -1;
        r->order = c->n_rules;
        r->cls = rc;
        r->attrs = attrs;
        e = norm_label(c, NULL, NULL, name->valuestring, &l, &r->label);
        if (e < 0)
                return e;
        r->name = l.name;
        r->l = l;
        if (loc) {
                r->build_file = location_file(c, loc->valuestring);
                if (!r->build_file)
                        return bad(c, r->label, "has a malformed location '%s'", loc->valuestring);
        }
        c->n_rules++;
        if (rc->kind == PM_CRATE_TEST) {
                e = attr_string(c, r, "crate", &fold);
                if (e < 0)
                        return e;
                if (*fold) {
                        e = norm_label(c, r, &l, fold, NULL, &r->fold_label);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

static int
keep_doc(struct ctx *c, cJSON *doc)
{
        if (c->n_docs == c->cap_docs) {
                size_t cap = c->cap_docs ? c->cap_docs * 2 : 16;
                cJSON **v = pm_realloc(c->docs, cap * sizeof(*v));

                if (!v) {
                        cJSON_Delete(doc);
                        return oom(c);
                }
                c->docs = v;
                c->cap_docs = cap;
        }
        c->docs[c->n_docs++] = doc;
        return 0;
}

/* Streamed: one Target per line, blank lines ignored. */
static int
parse_lines(struct ctx *c, const char *data, size_t len)
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
static int
collect(struct ctx *c, const struct pm_blob *blob)
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
                        return bad(c, NULL, "expected a cquery result with 'results'");
                return 0;
        }
        if (!cJSON_IsArray(results))
                return bad(c, NULL, "'results' is not a list");
        cJSON_ArrayForEach(it, results)
        {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(it, "target");

                if (!t)
                        return bad(c, NULL, "a result has no 'target'");
                e = add_target(c, t);
                if (e < 0)
                        return e;
        }
        return 0;
}

static int
rule_cmp(const void *a, const void *b)
{
        const struct rule *x = a, *y = b;
        int d = strcmp(x->label, y->label);

        if (d)
                return d;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort by label and drop duplicates (cquery prints a target once per configuration, e.g. a
 * proc macro in the exec configuration too): the first one printed wins. */
static void
sort_rules(struct ctx *c)
{
        size_t j = 0;

        if (c->n_rules == 0)
                return;
        qsort(c->rules, c->n_rules, sizeof(*c->rules), rule_cmp);
        for (size_t i = 1; i < c->n_rules; i++)
                if (strcmp(c->rules[i].label, c->rules[j].label) != 0)
                        c->rules[++j] = c->rules[i];
        c->n_rules = j + 1;
}

static struct rule *
lookup(struct ctx *c, const char *label)
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

/* ---- crates ------------------------------------------------------------------------------ */

struct srcs {
        char **paths;
        size_t n, cap;
};

static int
src_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct srcs *s = data;
        struct label l;
        char *p;
        int e;

        e = norm_label(c, r, &r->l, value, &l, NULL);
        if (e < 0)
                return e;
        p = label_path(c, &l);
        if (!p)
                return bad(c, r->label, "has a source path too long or invalid: '%s'", value);
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = pm_arena_alloc(c->g->arena, cap * sizeof(*v));

                if (!v)
                        return oom(c);
                if (s->n)
                        memcpy(v, s->paths, s->n * sizeof(*v));
                s->paths = v;
                s->cap = cap;
        }
        s->paths[s->n++] = p;
        return 0;
}

static const char *
shortest_with_basename(const struct srcs *s, const char *base)
{
        const char *best = NULL;

        for (size_t i = 0; i < s->n; i++)
                if (strcmp(pm_path_basename(s->paths[i]), base) == 0 &&
                    (!best || strlen(s->paths[i]) < strlen(best)))
                        best = s->paths[i];
        return best;
}

static int
feature_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct pm_crate *cr = data;
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *cfg = NULL;
        int e = pm_strbuf_adds(&sb, "feature=\"");

        /* Escaped, so a '"' or '\\' in a feature name cannot end the cfg's string early. */
        for (const char *p = value; e >= 0 && *p; p++) {
                if (*p == '"' || *p == '\\')
                        e = pm_strbuf_addch(&sb, '\\');
                if (e >= 0)
                        e = pm_strbuf_addch(&sb, *p);
        }
        if (e >= 0)
                e = pm_strbuf_addch(&sb, '"');
        if (e >= 0)
                cfg = pm_graph_strdup(c->g, sb.buf);
        pm_strbuf_release(&sb);
        if (!cfg || pm_strlist_push_unique(c->g, &cr->cfgs, cfg) < 0)
                return oom(c);
        return 0;
}

static int
flag_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct pm_crate *cr = data;

        if (pm_strlist_push(c->g, &cr->flags, value) < 0)
                return oom(c);
        return 0;
}

static int
env_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct pm_crate *cr = data;

        /* A folded test's env only adds keys the library lacks. */
        if (pm_kvlist_get(&cr->env, key))
                return 0;
        if (pm_kvlist_set(c->g, &cr->env, key, value) < 0)
                return oom(c);
        return 0;
}

static int
add_sources(struct ctx *c, struct pm_crate *cr, const struct srcs *s)
{
        for (size_t i = 0; i < s->n; i++) {
                const char *dir;
                bool covered = false;

                if (pm_strlist_push_unique(c->g, &cr->sources, s->paths[i]) < 0)
                        return oom(c);
                /* rust-analyzer only looks for modules under include_dirs: the root's
                 * directory, plus any source directory outside it. */
                dir = pm_path_dirname(c->g->arena, s->paths[i]);
                if (!dir)
                        return oom(c);
                for (size_t j = 0; j < cr->include_dirs.n && !covered; j++)
                        covered = pm_path_is_under(dir, cr->include_dirs.v[j]);
                if (!covered && pm_strlist_push(c->g, &cr->include_dirs, dir) < 0)
                        return oom(c);
        }
        return 0;
}

/* Make the crate of rule @r (not a folding test). */
static int
make_crate(struct ctx *c, struct rule *r)
{
        struct pm_crate *cr;
        struct srcs srcs = { 0 };
        const char *crate_name, *crate_root, *edition, *root = NULL;
        char *name;
        int e;

        e = attr_list(c, r, "srcs", src_cb, &srcs);
        if (e < 0)
                return e;
        e = attr_string(c, r, "crate_root", &crate_root);
        if (e < 0)
                return e;
        e = attr_string(c, r, "crate_name", &crate_name);
        if (e < 0)
                return e;
        e = attr_string(c, r, "edition", &edition);
        if (e < 0)
                return e;

        if (*crate_name) {
                name = pm_graph_strdup(c->g, crate_name);
        } else {
                name = pm_graph_strdup(c->g, r->name);
                for (char *p = name; p && *p; p++)
                        if (*p == '-')
                                *p = '_';
        }
        if (!name)
                return oom(c);
        if (!pm_crate_name_valid(name, false))
                return bad(c, r->label, "has an invalid crate name '%s'", name);

        if (*crate_root) {
                struct srcs one = { 0 };

                e = src_cb(c, r, NULL, crate_root, &one);
                if (e < 0)
                        return e;
                root = one.paths[0];
        } else {
                /* rules_rust's crate_root_src(): the only src, else the shortest
                 * lib.rs/main.rs, else <name>.rs, else <crate_name>.rs. */
                char *byname = pm_graph_printf(c->g, "%s.rs", r->name);
                char *bycrate = pm_graph_printf(c->g, "%s.rs", name);

                if (!byname || !bycrate)
                        return oom(c);
                if (srcs.n == 1)
                        root = srcs.paths[0];
                if (!root)
                        root = shortest_with_basename(&srcs, r->cls->default_root);
                if (!root)
                        root = shortest_with_basename(&srcs, byname);
                if (!root)
                        root = shortest_with_basename(&srcs, bycrate);
                if (!root)
                        return bad(c, r->label, "has no crate_root and no %s among its srcs",
                                   r->cls->default_root);
        }
        if (!*edition)
                edition = c->s->default_edition;
        if (!pm_edition_valid(edition))
                return bad(c, r->label, "has an invalid edition '%s'", edition);

        cr = pm_graph_add_crate(c->g);
        if (!cr)
                return oom(c);
        r->crate = (long)(cr - c->g->crates);
        cr->label = pm_graph_strdup(c->g, r->label);
        cr->build_system = pm_graph_strdup(c->g, "bazel");
        /* rules_rust's display_name is the crate name, not the target name. */
        cr->display_name = pm_graph_strdup(c->g, name);
        cr->crate_name = name;
        cr->kind = r->cls->kind;
        cr->edition = pm_graph_strdup(c->g, edition);
        cr->root_module = pm_graph_strdup(c->g, root);
        cr->build_file = pm_graph_strdup(c->g, r->build_file);
        cr->is_workspace_member = r->label[0] != '@';
        if (!cr->label || !cr->build_system || !cr->display_name || !cr->edition ||
            !cr->root_module || (r->build_file && !cr->build_file))
                return oom(c);
        if (cr->kind == PM_CRATE_PROC_MACRO) {
                cr->note = pm_graph_printf(c->g, PROC_MACRO_NOTE, r->label);
                if (!cr->note)
                        return oom(c);
        }
        {
                char *dir = pm_path_dirname(c->g->arena, root);

                if (!dir || pm_strlist_push(c->g, &cr->include_dirs, dir) < 0 ||
                    pm_strlist_push(c->g, &cr->sources, root) < 0)
                        return oom(c);
        }
        e = add_sources(c, cr, &srcs);
        if (e < 0)
                return e;
        e = attr_list(c, r, "crate_features", feature_cb, cr);
        if (e < 0)
                return e;
        e = attr_list(c, r, "rustc_flags", flag_cb, cr);
        if (e < 0)
                return e;
        e = pm_crate_apply_rustc_flags(c->g, cr, &cr->flags, c->err);
        if (e < 0)
                return e == -ENOMEM ? e
                                    : pm_error_prefix(c->err, "cannot parse '%s': target '%s'",
                                                      c->origin, r->label);
        if (!pm_edition_valid(cr->edition))
                return bad(c, r->label, "has an invalid --edition '%s' in rustc_flags",
                           cr->edition);
        return attr_dict(c, r, "rustc_env", "stringDictValue", env_cb, cr);
}

/* The crate a rule's contributions go to: its own, or (rust_test crate = ...) the target's. */
static struct rule *
owner(struct ctx *c, struct rule *r)
{
        for (int depth = 0; r && depth < PM_BAZEL_MAX_FOLD_DEPTH; depth++) {
                if (!r->fold_label)
                        return r;
                r = lookup(c, r->fold_label);
        }
        return NULL;
}

struct dep_state {
        struct pm_crate *crate;
        bool folded; /* the deps of a rust_test folded into crate: skip cycles */
        const struct rule *self;
        struct label rl;
        /* aliases of the rule: normalised label -> name */
        const char **alias_keys;
        const char **alias_vals;
        size_t n_aliases, cap_aliases;
};

static int
alias_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct dep_state *d = data;
        const char *k;
        char *v;
        int e;

        e = norm_label(c, r, &d->rl, key, NULL, &k);
        if (e < 0)
                return e;
        v = pm_graph_strdup(c->g, value);
        if (!v)
                return oom(c);
        /* An extern name never has '-' (rust-analyzer rejects it); rules_rust maps it. */
        for (char *p = v; *p; p++)
                if (*p == '-')
                        *p = '_';
        if (!pm_crate_name_valid(v, false))
                return bad(c, r->label, "has an invalid alias '%s'", value);
        if (d->n_aliases == d->cap_aliases) {
                size_t cap = d->cap_aliases ? d->cap_aliases * 2 : 4;
                const char **nk = pm_arena_alloc(c->g->arena, cap * sizeof(*nk));
                const char **nv = pm_arena_alloc(c->g->arena, cap * sizeof(*nv));

                if (!nk || !nv)
                        return oom(c);
                if (d->n_aliases) {
                        memcpy(nk, d->alias_keys, d->n_aliases * sizeof(*nk));
                        memcpy(nv, d->alias_vals, d->n_aliases * sizeof(*nv));
                }
                d->alias_keys = nk;
                d->alias_vals = nv;
                d->cap_aliases = cap;
        }
        d->alias_keys[d->n_aliases] = k;
        d->alias_vals[d->n_aliases++] = v;
        return 0;
}

/*
 * Whether crate index @from reaches crate index @to through deps. A folded test's deps join its
 * library's crate, and a test may depend on a crate that depends on the library (legal in Bazel,
 * where the test compiles separately): such an edge would make a cycle rust-analyzer rejects.
 */
static int
reaches(struct ctx *c, long from, long to, bool *ret)
{
        size_t n = c->g->n_crates, top = 0;
        long *stack = pm_calloc(n + 1, sizeof(*stack));
        bool *seen = pm_calloc(n + 1, sizeof(*seen));
        bool found = false;

        if (!stack || !seen) {
                pm_free(stack);
                pm_free(seen);
                return oom(c);
        }
        stack[top++] = from;
        seen[from] = true;
        while (top > 0 && !found) {
                const struct pm_crate *cr = &c->g->crates[stack[--top]];

                for (size_t i = 0; i < cr->n_deps && !found; i++) {
                        const struct rule *t = lookup(c, cr->deps[i].label);

                        if (!t || t->crate < 0 || seen[t->crate])
                                continue;
                        found = t->crate == to;
                        seen[t->crate] = true;
                        stack[top++] = t->crate;
                }
        }
        pm_free(stack);
        pm_free(seen);
        *ret = found;
        return 0;
}

static int
dep_cb(struct ctx *c, const struct rule *r, const char *key, const char *value, void *data)
{
        struct dep_state *d = data;
        const char *label, *alias = NULL;
        struct rule *t;
        int e;

        e = norm_label(c, r, &d->rl, value, NULL, &label);
        if (e < 0)
                return e;
        t = lookup(c, label);
        /* Not a Rust rule of the result (a genrule, a filegroup...): rust-analyzer has no
         * use for it. A dependency on a folding test makes no crate edge either. */
        if (!t || t->fold_label || t == d->self)
                return 0;
        for (size_t i = 0; i < d->n_aliases; i++)
                if (strcmp(d->alias_keys[i], label) == 0)
                        alias = d->alias_vals[i];
        for (size_t i = 0; i < d->crate->n_deps; i++)
                if (strcmp(d->crate->deps[i].label, label) == 0)
                        return 0;
        if (d->folded) {
                bool cycle = false;
                char *w;

                e = reaches(c, t->crate, d->self->crate, &cycle);
                if (e < 0)
                        return e;
                if (cycle) {
                        w = pm_graph_printf(
                                c->g,
                                "target '%s': dependency '%s' depends on crate '%s' the test folds into, ignoring",
                                r->label, label, d->self->label);
                        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0)
                                return oom(c);
                        return 0;
                }
        }
        if (pm_crate_add_dep(c->g, d->crate, label, alias) < 0)
                return oom(c);
        return 0;
}

/* Add rule @r's deps, proc_macro_deps (and, for a folding test, srcs and env) to @own's crate. */
static int
add_deps(struct ctx *c, struct rule *r, struct rule *own)
{
        struct dep_state d = { 0 };
        int e;

        d.crate = &c->g->crates[own->crate];
        d.self = own;
        d.folded = r != own;
        d.rl = r->l;
        e = attr_dict(c, r, "aliases", "labelKeyedStringDictValue", alias_cb, &d);
        if (e < 0)
                return e;
        e = attr_list(c, r, "deps", dep_cb, &d);
        if (e < 0)
                return e;
        e = attr_list(c, r, "proc_macro_deps", dep_cb, &d);
        if (e < 0)
                return e;
        if (r != own) {
                struct srcs srcs = { 0 };

                e = attr_list(c, r, "srcs", src_cb, &srcs);
                if (e < 0)
                        return e;
                e = add_sources(c, d.crate, &srcs);
                if (e < 0)
                        return e;
                e = attr_dict(c, r, "rustc_env", "stringDictValue", env_cb, d.crate);
        }
        return e;
}

static bool
in_list(const char *const *v, size_t n, const char *s)
{
        for (size_t i = 0; s && i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

/* The `buildfiles()` labels of the main repository as absolute paths (external repositories'
 * files belong to Bazel's output base, not to the user). */
static int
add_buildfiles(struct ctx *c, const struct pm_blob *b)
{
        const char *p = b->data, *end = b->data + b->len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                char *line = pm_arena_strndup(c->g->arena, p, (size_t)(le - p));
                struct label l;
                char *path;
                int e;

                if (!line)
                        return oom(c);
                p = le + 1;
                if (!*line || line[0] == '@')
                        continue;
                e = label_parse(c, line, NULL, "", &l);
                if (e == -ENOMEM)
                        return oom(c);
                if (e < 0)
                        return bad(c, NULL, "'buildfiles' printed an invalid label '%s'", line);
                path = label_path(c, &l);
                if (!path)
                        return bad(c, NULL, "'buildfiles' printed an invalid label '%s'", line);
                if (pm_strlist_push_unique(c->g, &c->g->build_files, path) < 0)
                        return oom(c);
        }
        return 0;
}

/* Drop the crates not declared by a covered build file (partial graphs describe only those). */
static int
keep_covered(struct ctx *c, const char *const *covered, size_t n_covered)
{
        size_t j = 0;

        for (size_t i = 0; i < c->n_rules; i++) {
                struct rule *r = &c->rules[i], *own;

                if (!r->fold_label || !in_list(covered, n_covered, r->build_file))
                        continue;
                own = owner(c, r);
                if (own && own->crate >= 0 && !in_list(covered, n_covered, own->build_file)) {
                        char *w = pm_graph_printf(
                                c->g,
                                "target '%s': its crate '%s' is outside the re-queried packages, ignoring until the next full query",
                                r->label, own->label);

                        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0)
                                return oom(c);
                }
        }
        for (size_t i = 0; i < c->g->n_crates; i++)
                if (in_list(covered, n_covered, c->g->crates[i].build_file))
                        c->g->crates[j++] = c->g->crates[i];
        c->g->n_crates = j;
        c->g->partial = true;
        for (size_t i = 0; i < n_covered; i++)
                if (pm_strlist_push_unique(c->g, &c->g->covered, covered[i]) < 0)
                        return oom(c);
        return 0;
}

int
pm__bazel_parse(const struct pm_query *q, const struct pm__bazel_settings *s,
                const struct pm_blob *blob, const struct pm_blob *buildfiles, bool partial,
                const char *const *covered, size_t n_covered, struct pm_graph **ret_graph,
                struct pm_error *err)
{
        struct ctx c = { 0 };
        int r;

        c.q = q;
        c.s = s;
        c.origin = blob->origin ? blob->origin : "bazel query output";
        c.err = err;
        c.g = pm_graph_new();
        if (!c.g) {
                r = oom(&c);
                goto out;
        }
        r = collect(&c, blob);
        if (r < 0)
                goto out;
        sort_rules(&c);
        for (size_t i = 0; i < c.n_rules; i++) {
                if (c.rules[i].fold_label)
                        continue;
                r = make_crate(&c, &c.rules[i]);
                if (r < 0)
                        goto out;
        }
        /* Libraries' own deps first, so the folded tests' cycle checks see the whole graph. */
        for (size_t i = 0; i < 2 * c.n_rules; i++) {
                struct rule *rl = &c.rules[i % c.n_rules], *own;

                if ((i < c.n_rules) == (rl->fold_label != NULL))
                        continue;
                own = owner(&c, rl);
                if (!own || own->crate < 0) {
                        char *w = pm_graph_printf(
                                c.g,
                                "target '%s': crate '%s' is not a Rust target of the query result, ignoring",
                                rl->label, rl->fold_label);

                        if (!w || pm_strlist_push(c.g, &c.g->warnings, w) < 0) {
                                r = oom(&c);
                                goto out;
                        }
                        continue;
                }
                r = add_deps(&c, rl, own);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < c.g->n_crates; i++) {
                const char *bf = c.g->crates[i].build_file;

                if (bf && !pm_path_is_under(bf, s->output_base) &&
                    pm_strlist_push_unique(c.g, &c.g->build_files, bf) < 0) {
                        r = oom(&c);
                        goto out;
                }
        }
        if (buildfiles && buildfiles->data) {
                r = add_buildfiles(&c, buildfiles);
                if (r < 0)
                        goto out;
        }
        if (partial) {
                r = keep_covered(&c, covered, n_covered);
                if (r < 0)
                        goto out;
        }
        *ret_graph = pm_steal_ptr(&c.g);
        r = 0;
out:
        for (size_t i = 0; i < c.n_docs; i++)
                cJSON_Delete(c.docs[i]);
        pm_free(c.docs);
        pm_free(c.rules);
        pm_graph_free(c.g);
        return r;
}
