/* SPDX-License-Identifier: MIT */
/* The arena-backed crate graph: building it, copying crates, lookup, validation, equality. */
#include "projmodel/graph.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "common/common-internal.h"

static const char *const kind_names[_PM_CRATE_KIND_MAX] = {
        [PM_CRATE_LIB] = "lib",
        [PM_CRATE_BIN] = "bin",
        [PM_CRATE_TEST] = "test",
        [PM_CRATE_PROC_MACRO] = "proc-macro",
};

#define PM__REQ_REQ true
#define PM__REQ_OPT false
#define PM__REQ_KEY true
#define FIELD_DESC(name, type, null, json) \
        { #name, PM_FIELD_##type, PM__REQ_##null, json, offsetof(struct pm_crate, name) },

const struct pm_crate_field pm_crate_fields[PM_CRATE_N_FIELDS] = { PM_CRATE_FIELDS(FIELD_DESC) };

const char *
pm_crate_kind_name(enum pm_crate_kind kind)
{
        if ((unsigned)kind >= _PM_CRATE_KIND_MAX)
                return "unknown";
        return kind_names[kind];
}

int
pm_crate_kind_parse(const char *name, enum pm_crate_kind *ret_kind)
{
        for (int k = 0; k < _PM_CRATE_KIND_MAX; k++) {
                if (name && strcmp(name, kind_names[k]) == 0) {
                        *ret_kind = (enum pm_crate_kind)k;
                        return 0;
                }
        }
        return PM_ENOTFOUND;
}

bool
pm_edition_valid(const char *e)
{
        return e && (strcmp(e, "2015") == 0 || strcmp(e, "2018") == 0 || strcmp(e, "2021") == 0 ||
                     strcmp(e, "2024") == 0);
}

struct pm_graph *
pm_graph_new(void)
{
        struct pm_graph *g = pm_calloc(1, sizeof(*g));

        if (!g)
                return NULL;
        g->arena = pm_arena_new();
        if (!g->arena) {
                pm_free(g);
                return NULL;
        }
        return g;
}

struct pm_graph *
pm_graph_free(struct pm_graph *g)
{
        if (!g)
                return NULL;
        pm_arena_free(g->arena);
        pm_free(g);
        return NULL;
}

/*
 * Make room for one more element in an arena array. The old array stays in the arena (there is
 * no individual free); doubling keeps that waste below the live size.
 */
int
pm__arena_grow(struct pm_arena *a, void **v, size_t n, size_t *cap, size_t elem)
{
        size_t ncap;
        void *nv;

        if (n < *cap)
                return 0;
        ncap = *cap ? *cap * 2 : 8;
        if (ncap > SIZE_MAX / elem)
                return -ENOMEM;
        nv = pm_arena_alloc(a, ncap * elem);
        if (!nv)
                return -ENOMEM;
        if (n)
                memcpy(nv, *v, n * elem);
        *v = nv;
        *cap = ncap;
        return 0;
}

struct pm_crate *
pm_graph_add_crate(struct pm_graph *g)
{
        struct pm_crate *c;

        if (pm__arena_grow(g->arena, (void **)&g->crates, g->n_crates, &g->cap_crates,
                           sizeof(*g->crates)) < 0)
                return NULL;
        c = &g->crates[g->n_crates++];
        memset(c, 0, sizeof(*c));
        return c;
}

char *
pm_graph_strdup(struct pm_graph *g, const char *s)
{
        return pm_arena_strdup(g->arena, s);
}

char *
pm_graph_printf(struct pm_graph *g, const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = pm_arena_vprintf(g->arena, fmt, ap);
        va_end(ap);
        return r;
}

int
pm_strlist_push(struct pm_graph *g, struct pm_strlist *l, const char *s)
{
        char *copy = pm_arena_strdup(g->arena, s);

        if (!copy)
                return -ENOMEM;
        if (pm__arena_grow(g->arena, (void **)&l->v, l->n, &l->cap, sizeof(*l->v)) < 0)
                return -ENOMEM;
        l->v[l->n++] = copy;
        return 0;
}

static int
compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

void
pm_strlist_sort_unique(struct pm_strlist *l)
{
        size_t i, n = 0;

        if (l->n < 2)
                return;
        qsort(l->v, l->n, sizeof(l->v[0]), compare_strings);
        for (i = 0; i < l->n; i++)
                if (n == 0 || strcmp(l->v[n - 1], l->v[i]) != 0)
                        l->v[n++] = l->v[i];
        l->n = n;
}

bool
pm_strlist_contains(const struct pm_strlist *l, const char *s)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i], s) == 0)
                        return true;
        return false;
}

int
pm_graph_warn_about(struct pm_graph *g, const char *build_file, const char *msg)
{
        /* Files of the warnings pushed without one (the whole output), then this one's. */
        while (g->warning_files.n < g->warnings.n)
                if (pm_strlist_push(g, &g->warning_files, "") < 0)
                        return -ENOMEM;
        if (pm_strlist_push(g, &g->warnings, msg) < 0 ||
            pm_strlist_push(g, &g->warning_files, build_file ? build_file : "") < 0)
                return -ENOMEM;
        return 0;
}

int
pm_strlist_push_unique(struct pm_graph *g, struct pm_strlist *l, const char *s)
{
        if (pm_strlist_contains(l, s))
                return 0;
        return pm_strlist_push(g, l, s);
}

int
pm_kvlist_set(struct pm_graph *g, struct pm_kvlist *l, const char *key, const char *value)
{
        char *v = pm_arena_strdup(g->arena, value), *k;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->v[i].key, key) == 0) {
                        l->v[i].value = v;
                        return 0;
                }
        }
        k = pm_arena_strdup(g->arena, key);
        if (!k)
                return -ENOMEM;
        if (pm__arena_grow(g->arena, (void **)&l->v, l->n, &l->cap, sizeof(*l->v)) < 0)
                return -ENOMEM;
        l->v[l->n].key = k;
        l->v[l->n].value = v;
        l->n++;
        return 0;
}

const char *
pm_kvlist_get(const struct pm_kvlist *l, const char *key)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].key, key) == 0)
                        return l->v[i].value;
        return NULL;
}

int
pm_crate_add_dep(struct pm_graph *g, struct pm_crate *c, const char *label, const char *name)
{
        char *l = pm_arena_strdup(g->arena, label), *n = NULL;

        if (!l)
                return -ENOMEM;
        if (name) {
                n = pm_arena_strdup(g->arena, name);
                if (!n)
                        return -ENOMEM;
        }
        if (pm__arena_grow(g->arena, (void **)&c->deps, c->n_deps, &c->cap_deps, sizeof(*c->deps)) <
            0)
                return -ENOMEM;
        c->deps[c->n_deps].label = l;
        c->deps[c->n_deps].name = n;
        c->n_deps++;
        return 0;
}

/* Copy @s (NULL allowed) into @g, reporting OOM through *@failed. */
static char *
dup_or_fail(struct pm_graph *g, const char *s, bool *failed)
{
        char *r;

        if (!s)
                return NULL;
        r = pm_arena_strdup(g->arena, s);
        if (!r)
                *failed = true;
        return r;
}

static int
copy_strlist(struct pm_graph *g, struct pm_strlist *dst, const struct pm_strlist *src)
{
        for (size_t i = 0; i < src->n; i++)
                if (pm_strlist_push(g, dst, src->v[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Copy field @f of @src into @c (in @g's arena). Returns 0 or -ENOMEM. */
static int
copy_field(struct pm_graph *g, struct pm_crate *c, const struct pm_crate *src,
           const struct pm_crate_field *f)
{
        bool failed = false;

        switch (f->type) {
        case PM_FIELD_STR:
        case PM_FIELD_PATH:
                PM_CRATE_AT(c, f, char *) = dup_or_fail(g, PM_CRATE_AT(src, f, char *), &failed);
                return failed ? -ENOMEM : 0;
        case PM_FIELD_KIND:
                PM_CRATE_AT(c, f, enum pm_crate_kind) = PM_CRATE_AT(src, f, enum pm_crate_kind);
                return 0;
        case PM_FIELD_BOOL:
                PM_CRATE_AT(c, f, bool) = PM_CRATE_AT(src, f, bool);
                return 0;
        case PM_FIELD_LIST:
        case PM_FIELD_PATHS:
                return copy_strlist(g, &PM_CRATE_AT(c, f, struct pm_strlist),
                                    &PM_CRATE_AT(src, f, struct pm_strlist));
        case PM_FIELD_ENV: {
                const struct pm_kvlist *l = &PM_CRATE_AT(src, f, struct pm_kvlist);

                for (size_t i = 0; i < l->n; i++)
                        if (pm_kvlist_set(g, &PM_CRATE_AT(c, f, struct pm_kvlist), l->v[i].key,
                                          l->v[i].value) < 0)
                                return -ENOMEM;
                return 0;
        }
        }
        return 0;
}

struct pm_crate *
pm_graph_copy_crate(struct pm_graph *g, const struct pm_crate *src)
{
        struct pm_crate *c;

        c = pm_graph_add_crate(g);
        if (!c)
                return NULL;
        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++)
                if (copy_field(g, c, src, &pm_crate_fields[k]) < 0)
                        goto fail;
        for (size_t i = 0; i < src->n_deps; i++)
                if (pm_crate_add_dep(g, c, src->deps[i].label, src->deps[i].name) < 0)
                        goto fail;
        if (src->out_dir_target && !(c->out_dir_target = pm_graph_strdup(g, src->out_dir_target)))
                goto fail;
        for (size_t i = 0; i < src->gen_srcs.n; i++)
                if (pm_kvlist_set(g, &c->gen_srcs, src->gen_srcs.v[i].key,
                                  src->gen_srcs.v[i].value) < 0)
                        goto fail;
        return c;
fail:
        /* Drop the half-built crate; its strings stay in the arena until the graph goes. */
        g->n_crates--;
        return NULL;
}

struct pm_crate *
pm_graph_find(const struct pm_graph *g, const char *label)
{
        for (size_t i = 0; i < g->n_crates; i++)
                if (g->crates[i].label && strcmp(g->crates[i].label, label) == 0)
                        return &g->crates[i];
        return NULL;
}

static int
crate_cmp(const void *a, const void *b)
{
        const struct pm_crate *x = a, *y = b;

        if (!x->label || !y->label)
                return (x->label != NULL) - (y->label != NULL);
        return strcmp(x->label, y->label);
}

void
pm_graph_sort(struct pm_graph *g)
{
        if (g->n_crates > 1)
                qsort(g->crates, g->n_crates, sizeof(*g->crates), crate_cmp);
}

struct pm_crate *
pm_graph_lookup(const struct pm_graph *g, const char *label)
{
        struct pm_crate key = { .label = (char *)label };

        if (!g->n_crates || !label)
                return NULL;
        return bsearch(&key, g->crates, g->n_crates, sizeof(*g->crates), crate_cmp);
}

static bool
str_eq(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static bool
strlist_eq(const struct pm_strlist *a, const struct pm_strlist *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!str_eq(a->v[i], b->v[i]))
                        return false;
        return true;
}

static bool
kvlist_eq(const struct pm_kvlist *a, const struct pm_kvlist *b)
{
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!str_eq(a->v[i].key, b->v[i].key) || !str_eq(a->v[i].value, b->v[i].value))
                        return false;
        return true;
}

/* True if every dep of @a also appears in @b. */
static bool
deps_subset(const struct pm_crate *a, const struct pm_crate *b)
{
        for (size_t i = 0; i < a->n_deps; i++) {
                bool found = false;

                for (size_t j = 0; j < b->n_deps && !found; j++)
                        found = str_eq(a->deps[i].label, b->deps[j].label) &&
                                str_eq(a->deps[i].name, b->deps[j].name);
                if (!found)
                        return false;
        }
        return true;
}

static bool
field_eq(const struct pm_crate *a, const struct pm_crate *b, const struct pm_crate_field *f)
{
        switch (f->type) {
        case PM_FIELD_STR:
        case PM_FIELD_PATH:
                return str_eq(PM_CRATE_AT(a, f, char *), PM_CRATE_AT(b, f, char *));
        case PM_FIELD_KIND:
                return PM_CRATE_AT(a, f, enum pm_crate_kind) ==
                       PM_CRATE_AT(b, f, enum pm_crate_kind);
        case PM_FIELD_BOOL:
                return PM_CRATE_AT(a, f, bool) == PM_CRATE_AT(b, f, bool);
        case PM_FIELD_LIST:
        case PM_FIELD_PATHS:
                return strlist_eq(&PM_CRATE_AT(a, f, struct pm_strlist),
                                  &PM_CRATE_AT(b, f, struct pm_strlist));
        case PM_FIELD_ENV:
                return kvlist_eq(&PM_CRATE_AT(a, f, struct pm_kvlist),
                                 &PM_CRATE_AT(b, f, struct pm_kvlist));
        }
        return false;
}

bool
pm_crate_equal(const struct pm_crate *a, const struct pm_crate *b)
{
        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++)
                if (!field_eq(a, b, &pm_crate_fields[k]))
                        return false;
        return a->n_deps == b->n_deps && deps_subset(a, b) && deps_subset(b, a);
}

/* The one identifier check: @len bytes of @s as rustc reads a crate, extern or cfg name. */
static bool
ident_ok(const char *s, size_t len, bool dash_is_underscore)
{
        if (len == 0)
                return false;
        if (len == 1 && (s[0] == '_' || (dash_is_underscore && s[0] == '-')))
                return false;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                bool ok = ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (dash_is_underscore && ch == '-') || (i > 0 && ch >= '0' && ch <= '9');

                if (!ok)
                        return false;
        }
        return true;
}

bool
pm_crate_name_valid(const char *name, bool dash_is_underscore)
{
        return name && ident_ok(name, strlen(name), dash_is_underscore);
}

bool
pm__cfg_valid(const char *cfg)
{
        const char *eq = strchr(cfg, '=');
        size_t vlen;

        if (!eq)
                return ident_ok(cfg, strlen(cfg), false);
        if (!ident_ok(cfg, (size_t)(eq - cfg), false))
                return false;
        vlen = strlen(eq + 1);
        if (vlen < 2 || eq[1] != '"' || eq[vlen] != '"')
                return false;
        /* An unescaped quote inside the value would end it early; a backslash escaping the
         * closing quote would leave it open (an escaped backslash before it is fine). */
        for (size_t i = 2; i < vlen; i++) {
                if (eq[i] == '\\') {
                        if (i + 1 >= vlen)
                                return false;
                        i++;
                } else if (eq[i] == '"') {
                        return false;
                }
        }
        return true;
}

/* A path field must be absolute and already normalised: the model compares paths as strings. */
static int
check_path(const struct pm_crate *c, const char *field, const char *path, struct pm_error *err)
{
        char *norm;
        bool same;

        if (!pm_path_is_absolute(path))
                return pm_error_set(err, PM_ESCHEMA, "crate '%s': %s '%s' is not absolute",
                                    c->label, field, path);
        norm = pm_path_normalize(NULL, NULL, path);
        if (!norm)
                return pm_error_set(err, -ENOMEM, "crate '%s': out of memory", c->label);
        same = strcmp(norm, path) == 0;
        pm_free(norm);
        if (!same)
                return pm_error_set(err, PM_ESCHEMA, "crate '%s': %s '%s' is not normalised",
                                    c->label, field, path);
        return 0;
}

static int
check_path_list(const struct pm_crate *c, const char *field, const struct pm_strlist *l,
                struct pm_error *err)
{
        int r;

        for (size_t i = 0; i < l->n; i++) {
                if (!l->v[i])
                        return pm_error_set(err, PM_ESCHEMA, "crate '%s': %s has a null entry",
                                            c->label, field);
                r = check_path(c, field, l->v[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int
label_ptr_cmp(const void *a, const void *b)
{
        const struct pm_crate *const *x = a, *const *y = b;

        return strcmp((*x)->label, (*y)->label);
}

static const struct pm_crate *
sorted_find(const struct pm_crate **sorted, size_t n, const char *label)
{
        struct pm_crate key = { .label = (char *)label };
        const struct pm_crate *kp = &key;
        const struct pm_crate **hit;

        hit = bsearch(&kp, sorted, n, sizeof(*sorted), label_ptr_cmp);
        return hit ? *hit : NULL;
}

static int
validate_crate(const struct pm_crate *c, const struct pm_crate **sorted, size_t n,
               bool allow_dangling, struct pm_error *err)
{
        const struct pm_crate *dep;
        const char *name;
        int r;

        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++) {
                const struct pm_crate_field *f = &pm_crate_fields[k];
                const char *v;

                if (f->type != PM_FIELD_STR && f->type != PM_FIELD_PATH)
                        continue;
                v = PM_CRATE_AT(c, f, char *);
                if (!v && f->required)
                        return pm_error_set(err, PM_ESCHEMA, "crate '%s': missing %s", c->label,
                                            f->name);
        }
        if (!pm_crate_name_valid(c->crate_name, false))
                return pm_error_set(err, PM_ESCHEMA,
                                    "crate '%s': crate_name '%s' is not a valid identifier",
                                    c->label, c->crate_name);
        if (!pm_edition_valid(c->edition))
                return pm_error_set(err, PM_ESCHEMA,
                                    "crate '%s': edition '%s' is not 2015, 2018, 2021 or 2024",
                                    c->label, c->edition);
        if ((unsigned)c->kind >= _PM_CRATE_KIND_MAX)
                return pm_error_set(err, PM_ESCHEMA, "crate '%s': invalid kind %d", c->label,
                                    (int)c->kind);
        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++) {
                const struct pm_crate_field *f = &pm_crate_fields[k];

                r = 0;
                if (f->type == PM_FIELD_PATH && PM_CRATE_AT(c, f, char *))
                        r = check_path(c, f->name, PM_CRATE_AT(c, f, char *), err);
                else if (f->type == PM_FIELD_PATHS)
                        r = check_path_list(c, f->name, &PM_CRATE_AT(c, f, struct pm_strlist), err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->cfgs.n; i++)
                if (!c->cfgs.v[i] || !pm__cfg_valid(c->cfgs.v[i]))
                        return pm_error_set(
                                err, PM_ESCHEMA,
                                "crate '%s': cfg '%s' is not `name` or `name=\"value\"`", c->label,
                                c->cfgs.v[i] ? c->cfgs.v[i] : "(null)");
        for (size_t i = 0; i < c->env.n; i++)
                if (!c->env.v[i].key || !c->env.v[i].value || !c->env.v[i].key[0])
                        return pm_error_set(err, PM_ESCHEMA,
                                            "crate '%s': env entry %zu has no key or value",
                                            c->label, i);
        for (size_t i = 0; i < c->n_deps; i++) {
                if (!c->deps[i].label)
                        return pm_error_set(err, PM_ESCHEMA,
                                            "crate '%s': dependency %zu has no label", c->label, i);
                dep = sorted_find(sorted, n, c->deps[i].label);
                if (!dep && !allow_dangling)
                        return pm_error_set(
                                err, PM_ESCHEMA,
                                "crate '%s': dependency '%s' is not a crate of the model", c->label,
                                c->deps[i].label);
                name = c->deps[i].name ? c->deps[i].name : dep ? dep->crate_name : NULL;
                if (name && !pm_crate_name_valid(name, false))
                        return pm_error_set(
                                err, PM_ESCHEMA,
                                "crate '%s': dependency '%s' has name '%s', which is not a valid identifier",
                                c->label, c->deps[i].label, name);
        }
        return 0;
}

int
pm_graph_validate(const struct pm_graph *g, bool allow_dangling, struct pm_error *err)
{
        const struct pm_crate **sorted = NULL;
        int r = 0;

        for (size_t i = 0; i < g->n_crates; i++)
                if (!g->crates[i].label || !g->crates[i].label[0])
                        return pm_error_set(err, PM_ESCHEMA, "crate #%zu: missing label", i);

        if (g->n_crates) {
                sorted = pm_malloc(g->n_crates * sizeof(*sorted));
                if (!sorted)
                        return pm_error_set(err, -ENOMEM,
                                            "cannot validate the graph: out of memory");
                for (size_t i = 0; i < g->n_crates; i++)
                        sorted[i] = &g->crates[i];
                qsort(sorted, g->n_crates, sizeof(*sorted), label_ptr_cmp);
                for (size_t i = 1; i < g->n_crates; i++) {
                        if (strcmp(sorted[i - 1]->label, sorted[i]->label) == 0) {
                                r = pm_error_set(err, PM_ESCHEMA, "crate '%s': duplicate label",
                                                 sorted[i]->label);
                                goto out;
                        }
                }
        }
        for (size_t i = 0; i < g->n_crates; i++) {
                r = validate_crate(&g->crates[i], sorted, g->n_crates, allow_dangling, err);
                if (r < 0)
                        goto out;
        }
out:
        pm_free(sorted);
        return r;
}
