/* SPDX-License-Identifier: MIT */
/* Parsing `cargo metadata --format-version 1` into crates: one per lib, proc-macro and bin
 * target, edges from the resolve graph (renames kept, dev/build-only deps and target-specific
 * deps whose platform does not match `rustc --print cfg` dropped), activated
 * features as cfgs, and the CARGO_* variables Cargo would give rustc; then what `cargo check`
 * said (cargo-build.c). Runs nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/stamp.h"

#include "adapters/adapters-internal.h"
#include "adapters/cargo/cargo-internal.h"

#define NO_CRATE SIZE_MAX

struct pkg {
        const cJSON *obj;
        const char *id;
        const char *name;
        const char *version;
        const char *manifest; /* absolute, normalised (graph arena) */
        const char *dir;      /* its directory */
        const cJSON *node;    /* resolve.nodes[] entry, or NULL */
        bool member;          /* in workspace_members */
        bool build_script;    /* has a custom-build target */
        size_t lib;           /* crate index of its lib or proc-macro target, or NO_CRATE */
        size_t first, end;    /* its crates are [first, end) */
};

struct ctx {
        const struct pm_query *q;
        const char *origin;
        const char *rel;
        struct pm_arena *a;
        struct pkg *p;
        size_t n;
        struct pkg **sorted; /* by id */
        struct pm_graph *g;
        struct pm_error *err;
        /* `rustc --print cfg --print host-tuple` (plan step 1), or NULL when not known (captured
         * output, an old rustc): then every target-specific dependency is kept. */
        const char *target;
        size_t target_len;
        const char *cargo;             /* the cargo that ran (CARGO), or NULL when not known */
        struct pm__cargo_check *check; /* what the build step (plan step 2) said */
        bool building;                 /* the build step ran (PM__CARGO_CHECK_RAN) */
};

static int bad(struct ctx *x, const struct pkg *p, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* PM_EBADTOOLOUTPUT naming the output and the package. */
static int
bad(struct ctx *x, const struct pkg *p, const char *fmt, ...)
{
        char msg[PM_ERROR_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (p && p->name)
                return pm_error_set_at(x->err, PM_EBADTOOLOUTPUT, x->origin, 0, 0,
                                       "package '%s %s': %s", p->name,
                                       p->version ? p->version : "?", msg);
        return pm_error_set_at(x->err, PM_EBADTOOLOUTPUT, x->origin, 0, 0, "%s", msg);
}

static int
oom(struct ctx *x)
{
        return pm_error_set(x->err, -ENOMEM, "out of memory");
}

static const char *
str_or_null(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int
pkg_cmp(const void *a, const void *b)
{
        const struct pkg *const *x = a, *const *y = b;

        return strcmp((*x)->id, (*y)->id);
}

static struct pkg *
find_pkg(const struct ctx *x, const char *id)
{
        struct pkg key = { .id = id };
        const struct pkg *kp = &key;
        struct pkg **hit;

        if (!x->n)
                return NULL;
        hit = bsearch(&kp, x->sorted, x->n, sizeof(*x->sorted), pkg_cmp);
        return hit ? *hit : NULL;
}

static bool
has_kind(const cJSON *kinds, const char *k)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, kinds)
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, k) == 0)
                        return true;
        }
        return false;
}

static bool
is_lib_kind(const cJSON *kinds)
{
        return has_kind(kinds, "lib") || has_kind(kinds, "rlib") || has_kind(kinds, "dylib") ||
               has_kind(kinds, "cdylib") || has_kind(kinds, "staticlib");
}

/* CARGO_PKG_VERSION_MAJOR/MINOR/PATCH/PRE from a semver string ("1.2.3-beta.1+build"). */
static int
set_version_env(struct ctx *x, struct pm_crate *c, const char *v)
{
        static const char *const keys[] = { "CARGO_PKG_VERSION_MAJOR", "CARGO_PKG_VERSION_MINOR",
                                            "CARGO_PKG_VERSION_PATCH" };
        const char *p = v, *pre = "";
        char *s;

        for (size_t i = 0; i < 3; i++) {
                size_t n = strspn(p, "0123456789");

                s = pm_arena_strndup(x->a, p, n);
                if (!s || pm_kvlist_set(x->g, &c->env, keys[i], s) < 0)
                        return oom(x);
                p += n;
                if (*p == '.')
                        p++;
        }
        if (*p == '-') {
                pre = pm_arena_strndup(x->a, p + 1, strcspn(p + 1, "+"));
                if (!pre)
                        return oom(x);
        }
        return pm_kvlist_set(x->g, &c->env, "CARGO_PKG_VERSION_PRE", pre) < 0 ? oom(x) : 0;
}

/*
 * The variables Cargo sets for rustc. rust-analyzer fills nothing in for JSON projects,
 * so without these env!("CARGO_PKG_NAME") would not resolve.
 */
static int
set_env(struct ctx *x, const struct pkg *p, struct pm_crate *c, const char *target_name)
{
        static const struct {
                const char *var;
                const char *key;
        } optional[] = {
                { "CARGO_PKG_DESCRIPTION", "description" },
                { "CARGO_PKG_HOMEPAGE", "homepage" },
                { "CARGO_PKG_REPOSITORY", "repository" },
                { "CARGO_PKG_LICENSE", "license" },
                { "CARGO_PKG_LICENSE_FILE", "license_file" },
                { "CARGO_PKG_RUST_VERSION", "rust_version" },
                { "CARGO_PKG_README", "readme" },
        };

        const cJSON *authors = cJSON_GetObjectItemCaseSensitive(p->obj, "authors"), *e;
        struct pm_kv kv[] = {
                { "CARGO_PKG_NAME", (char *)p->name },
                { "CARGO_PKG_VERSION", (char *)p->version },
                { "CARGO_MANIFEST_DIR", (char *)p->dir },
                { "CARGO_MANIFEST_PATH", (char *)p->manifest },
                { "CARGO_CRATE_NAME", c->crate_name },
        };
        char *joined = pm_arena_strdup(x->a, "");

        for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
                if (pm_kvlist_set(x->g, &c->env, kv[i].key, kv[i].value) < 0)
                        return oom(x);
        for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
                const char *v = str_or_null(p->obj, optional[i].key);

                if (pm_kvlist_set(x->g, &c->env, optional[i].var, v ? v : "") < 0)
                        return oom(x);
        }
        cJSON_ArrayForEach(e, authors)
        {
                if (!cJSON_IsString(e) || !joined)
                        continue;
                joined =
                        pm_arena_printf(x->a, "%s%s%s", joined, *joined ? ":" : "", e->valuestring);
        }
        if (!joined || pm_kvlist_set(x->g, &c->env, "CARGO_PKG_AUTHORS", joined) < 0)
                return oom(x);
        if (c->kind == PM_CRATE_BIN &&
            pm_kvlist_set(x->g, &c->env, "CARGO_BIN_NAME", target_name) < 0)
                return oom(x);
        if (p->member && pm_kvlist_set(x->g, &c->env, "CARGO_PRIMARY_PACKAGE", "1") < 0)
                return oom(x);
        /* Cargo gives rustc its own path; rust-analyzer gives its cargo's (found in PATH), and so
         * does projmodel: the runner's lookup of the cargo that ran (pm_blob.program). */
        if (x->cargo && pm_kvlist_set(x->g, &c->env, "CARGO", x->cargo) < 0)
                return oom(x);
        return set_version_env(x, c, p->version);
}

/* One crate for target @t of package @p (kind already decided). */
static int
add_crate(struct ctx *x, struct pkg *p, const cJSON *t, enum pm_crate_kind kind)
{
        const char *name = str_or_null(t, "name"), *src = str_or_null(t, "src_path");
        const char *edition = str_or_null(t, "edition");
        const cJSON *features =
                p->node ? cJSON_GetObjectItemCaseSensitive(p->node, "features") : NULL;
        const cJSON *f;
        struct pm_crate *c;
        char *root, *dir;
        int r;

        if (!name || !*name)
                return bad(x, p, "a target has no name");
        if (!src || !pm_path_is_absolute(src))
                return bad(x, p, "target '%s' has no absolute 'src_path'", name);
        if (!edition)
                edition = str_or_null(p->obj, "edition");
        if (!edition || !pm_edition_valid(edition))
                return bad(x, p, "target '%s' has edition '%s', not 2015, 2018, 2021 or 2024", name,
                           edition ? edition : "(none)");
        c = pm_graph_add_crate(x->g);
        if (!c)
                return oom(x);
        c->kind = kind;
        c->build_system = pm_graph_strdup(x->g, "cargo");
        c->label = kind == PM_CRATE_BIN
                           ? pm_graph_printf(x->g, "cargo:%s#%s@%s:bin:%s", x->rel, p->name,
                                             p->version, name)
                           : pm_graph_printf(x->g, "cargo:%s#%s@%s", x->rel, p->name, p->version);
        c->display_name = pm_graph_strdup(x->g, name);
        c->crate_name = pm_graph_strdup(x->g, name);
        c->edition = pm_graph_strdup(x->g, edition);
        root = pm_path_normalize(x->g->arena, NULL, src);
        c->build_file = (char *)p->manifest;
        c->is_workspace_member = p->member;
        if (!c->build_system || !c->label || !c->display_name || !c->crate_name || !c->edition ||
            !root)
                return oom(x);
        for (char *s = c->crate_name; *s; s++)
                if (*s == '-')
                        *s = '_';
        if (!pm_crate_name_valid(c->crate_name, false))
                return bad(x, p, "target '%s' is not a valid crate name", name);
        c->root_module = root;
        /* A changed proc macro must be built again (its dylib is what rust-analyzer expands
         * with): its root module is watched when the build step runs. */
        if (kind == PM_CRATE_PROC_MACRO && x->building &&
            pm_strlist_push_unique(x->g, &x->g->build_files, root) < 0)
                return oom(x);
        if (pm_strlist_push(x->g, &c->sources, root) < 0)
                return oom(x);
        /* The package directory: include_str!("../README.md") and #[path] reach anywhere in
         * it, as with Cargo workspaces in rust-analyzer. */
        if (pm_strlist_push(x->g, &c->include_dirs, p->dir) < 0)
                return oom(x);
        if (!pm_path_is_under(root, p->dir)) {
                dir = pm_path_dirname(x->g->arena, root);
                if (!dir || pm_strlist_push(x->g, &c->include_dirs, dir) < 0)
                        return oom(x);
        }
        cJSON_ArrayForEach(f, features)
        {
                char *cfg;

                if (!cJSON_IsString(f))
                        return bad(x, p, "resolve node has a feature that is not a string");
                /* Cargo allows neither in a feature name; either would break the cfg string. */
                if (strpbrk(f->valuestring, "\"\\"))
                        return bad(x, p, "feature '%s' has a quote or a backslash", f->valuestring);
                cfg = pm_graph_printf(x->g, "feature=\"%s\"", f->valuestring);
                if (!cfg || pm_strlist_push_unique(x->g, &c->cfgs, cfg) < 0)
                        return oom(x);
        }
        r = set_env(x, p, c, name);
        return r;
}

/* Add target @t's source file (absolute) to the watched files. */
static int
watch_source(struct ctx *x, const struct pkg *p, const cJSON *t)
{
        const char *src = str_or_null(t, "src_path");
        char *path;

        if (!src || !pm_path_is_absolute(src))
                return bad(x, p, "a build script target has no absolute 'src_path'");
        path = pm_path_normalize(x->g->arena, NULL, src);
        if (!path || pm_strlist_push_unique(x->g, &x->g->build_files, path) < 0)
                return oom(x);
        return 0;
}

/* Read one package's identity and make its crates (deps come later). */
static int
read_package(struct ctx *x, struct pkg *p)
{
        const cJSON *targets = cJSON_GetObjectItemCaseSensitive(p->obj, "targets"), *t;
        const char *manifest;
        int r;

        p->id = str_or_null(p->obj, "id");
        p->name = str_or_null(p->obj, "name");
        p->version = str_or_null(p->obj, "version");
        manifest = str_or_null(p->obj, "manifest_path");
        p->lib = NO_CRATE;
        if (!p->id || !p->name || !p->version)
                return bad(x, p, "a package has no string 'id', 'name' or 'version'");
        if (!manifest || !pm_path_is_absolute(manifest))
                return bad(x, p, "no absolute 'manifest_path'");
        if (!cJSON_IsArray(targets))
                return bad(x, p, "'targets' is not a list");
        if (cJSON_GetArraySize(targets) > PM_CARGO_MAX_TARGETS)
                return pm_error_set_at(x->err, PM_ELIMIT, x->origin, 0, 0,
                                       "package '%s %s': more than %d targets", p->name, p->version,
                                       PM_CARGO_MAX_TARGETS);
        p->manifest = pm_path_normalize(x->g->arena, NULL, manifest);
        p->dir = p->manifest ? pm_path_dirname(x->g->arena, p->manifest) : NULL;
        if (!p->dir)
                return oom(x);
        if (pm_strlist_push_unique(x->g, &x->g->build_files, p->manifest) < 0)
                return oom(x);

        cJSON_ArrayForEach(t, targets)
        {
                const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(t, "kind");

                if (!cJSON_IsObject(t) || !cJSON_IsArray(kinds))
                        return bad(x, p, "a target has no 'kind' list");
                if (!has_kind(kinds, "custom-build"))
                        continue;
                p->build_script = true;
                /* A changed build script must run again: watched when the build step runs. */
                r = x->building ? watch_source(x, p, t) : 0;
                if (r < 0)
                        return r;
        }
        p->first = x->g->n_crates;
        /* The library first: bins depend on it, and its index is the package's dep target. */
        cJSON_ArrayForEach(t, targets)
        {
                const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(t, "kind");
                bool pm = has_kind(kinds, "proc-macro");

                if (!pm && !is_lib_kind(kinds))
                        continue;
                if (p->lib != NO_CRATE)
                        return bad(x, p, "more than one library target");
                p->lib = x->g->n_crates;
                r = add_crate(x, p, t, pm ? PM_CRATE_PROC_MACRO : PM_CRATE_LIB);
                if (r < 0)
                        return r;
        }
        cJSON_ArrayForEach(t, targets)
        {
                if (!has_kind(cJSON_GetObjectItemCaseSensitive(t, "kind"), "bin"))
                        continue;
                r = add_crate(x, p, t, PM_CRATE_BIN);
                if (r < 0)
                        return r;
        }
        p->end = x->g->n_crates;
        return 0;
}

/* True if the resolve dep entry @d is a normal (not dev- or build-only) dependency. */
static int
is_normal_dep(struct ctx *x, const struct pkg *p, const cJSON *d, bool *ret)
{
        const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(d, "dep_kinds"), *k;

        /* Cargo before 1.41 wrote no dep_kinds: everything was normal then. */
        if (!kinds || cJSON_IsNull(kinds)) {
                *ret = true;
                return 0;
        }
        if (!cJSON_IsArray(kinds))
                return bad(x, p, "resolve node 'dep_kinds' is not a list");
        *ret = false;
        cJSON_ArrayForEach(k, kinds)
        {
                const cJSON *kind = cJSON_GetObjectItemCaseSensitive(k, "kind");
                const cJSON *target = cJSON_GetObjectItemCaseSensitive(k, "target");

                if (kind && !cJSON_IsNull(kind))
                        continue;
                /* A `[target.<platform>.dependencies]` entry: only when it matches the target. */
                if (cJSON_IsString(target) &&
                    !pm__cargo_platform_matches(x->target, x->target_len, target->valuestring))
                        continue;
                *ret = true;
        }
        return 0;
}

static int
add_deps(struct ctx *x, struct pkg *p)
{
        const cJSON *deps = p->node ? cJSON_GetObjectItemCaseSensitive(p->node, "deps") : NULL;
        const cJSON *d;
        int r;

        if (deps && !cJSON_IsArray(deps))
                return bad(x, p, "resolve node 'deps' is not a list");
        for (size_t i = p->first; i < p->end; i++) {
                struct pm_crate *c = &x->g->crates[i];

                if (c->kind == PM_CRATE_BIN && p->lib != NO_CRATE &&
                    pm_crate_add_dep(x->g, c, x->g->crates[p->lib].label, NULL) < 0)
                        return oom(x);
                cJSON_ArrayForEach(d, deps)
                {
                        const char *name = str_or_null(d, "name"), *id = str_or_null(d, "pkg");
                        const struct pm_crate *dc;
                        struct pkg *dp;
                        bool normal = false;
                        char *n;

                        if (!name || !id)
                                return bad(x, p, "resolve dependency without 'name' or 'pkg'");
                        dp = find_pkg(x, id);
                        if (!dp)
                                return bad(x, p, "dependency '%s' is not among the packages", id);
                        r = is_normal_dep(x, p, d, &normal);
                        if (r < 0)
                                return r;
                        if (!normal)
                                continue;
                        if (dp->lib == NO_CRATE) {
                                char *w = pm_graph_printf(
                                        x->g,
                                        "package '%s %s': dependency '%s' has no library target, ignoring",
                                        p->name, p->version, dp->name);

                                if (!w || pm_strlist_push_unique(x->g, &x->g->warnings, w) < 0)
                                        return oom(x);
                                continue;
                        }
                        dc = &x->g->crates[dp->lib];
                        n = pm_arena_strdup(x->a, name);
                        if (!n)
                                return oom(x);
                        for (char *s = n; *s; s++)
                                if (*s == '-')
                                        *s = '_';
                        if (!pm_crate_name_valid(n, false))
                                return bad(x, p, "dependency name '%s' is not an identifier", name);
                        /* A rename ("foo2 = { package = "foo" }") keeps its extern name. */
                        if (pm_crate_add_dep(x->g, c, dc->label,
                                             strcmp(n, dc->crate_name) == 0 ? NULL : n) < 0)
                                return oom(x);
                }
        }
        return 0;
}

static int
read_members(struct ctx *x, const cJSON *json)
{
        const cJSON *members = cJSON_GetObjectItemCaseSensitive(json, "workspace_members"), *m;

        if (!cJSON_IsArray(members))
                return bad(x, NULL, "no 'workspace_members' list (cargo metadata output expected)");
        cJSON_ArrayForEach(m, members)
        {
                struct pkg *p;

                if (!cJSON_IsString(m))
                        return bad(x, NULL,
                                   "'workspace_members' has an entry that is not a string");
                p = find_pkg(x, m->valuestring);
                if (!p)
                        return bad(x, NULL, "workspace member '%s' is not among the packages",
                                   m->valuestring);
                p->member = true;
        }
        return 0;
}

static int
read_resolve(struct ctx *x, const cJSON *json)
{
        const cJSON *resolve = cJSON_GetObjectItemCaseSensitive(json, "resolve"), *nodes, *n;

        if (!cJSON_IsObject(resolve))
                return bad(x, NULL, "no 'resolve' graph (was --no-deps passed to cargo metadata?)");
        nodes = cJSON_GetObjectItemCaseSensitive(resolve, "nodes");
        if (!cJSON_IsArray(nodes))
                return bad(x, NULL, "'resolve.nodes' is not a list");
        cJSON_ArrayForEach(n, nodes)
        {
                const char *id = str_or_null(n, "id");
                struct pkg *p = id ? find_pkg(x, id) : NULL;

                if (!p)
                        return bad(x, NULL, "resolve node '%s' is not among the packages",
                                   id ? id : "(no id)");
                p->node = n;
        }
        return 0;
}

static int
label_cmp(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
pkg_name_version_cmp(const void *a, const void *b)
{
        const struct pkg *x = *(const struct pkg *const *)a, *y = *(const struct pkg *const *)b;
        int c = strcmp(x->name, y->name);

        return c ? c : strcmp(x->version, y->version);
}

/* Give the crates of package @p labels that also name a hash of its package id. */
static int
relabel_package(struct ctx *x, const struct pkg *p)
{
        uint32_t h = (uint32_t)pm_hash64(p->id, strlen(p->id), 0);

        for (size_t i = p->first; i < p->end; i++) {
                struct pm_crate *c = &x->g->crates[i];

                c->label =
                        c->kind == PM_CRATE_BIN
                                ? pm_graph_printf(x->g, "cargo:%s#%s@%s~%08" PRIx32 ":bin:%s",
                                                  x->rel, p->name, p->version, h, c->display_name)
                                : pm_graph_printf(x->g, "cargo:%s#%s@%s~%08" PRIx32, x->rel,
                                                  p->name, p->version, h);
                if (!c->label)
                        return oom(x);
        }
        return 0;
}

/*
 * Packages of one name and version from different sources (a registry crate and a git fork of
 * it, say) would share the label "cargo:<rel>#<name>@<version>": each of them gets a label that
 * also names a hash of its package id instead. Runs before add_deps(), which copies labels.
 */
static int
disambiguate_labels(struct ctx *x)
{
        struct pkg **v;
        size_t i, j;
        int r = 0;

        if (x->n < 2)
                return 0;
        v = pm_malloc(x->n * sizeof(*v));
        if (!v)
                return oom(x);
        for (i = 0; i < x->n; i++)
                v[i] = &x->p[i];
        qsort(v, x->n, sizeof(*v), pkg_name_version_cmp);
        for (i = 0; i < x->n && r == 0; i = j) {
                for (j = i + 1; j < x->n && pkg_name_version_cmp(&v[i], &v[j]) == 0; j++)
                        ;
                for (size_t k = i; j - i > 1 && k < j && r == 0; k++)
                        r = relabel_package(x, v[k]);
        }
        pm_free(v);
        return r;
}

static int
check_labels(struct ctx *x)
{
        const char **v;
        size_t n = x->g->n_crates;
        int r = 0;

        if (n < 2)
                return 0;
        v = pm_malloc(n * sizeof(*v));
        if (!v)
                return oom(x);
        for (size_t i = 0; i < n; i++)
                v[i] = x->g->crates[i].label;
        qsort(v, n, sizeof(*v), label_cmp);
        for (size_t i = 1; i < n && r == 0; i++)
                if (strcmp(v[i - 1], v[i]) == 0)
                        r = bad(x, NULL, "two crates would have the label '%s'", v[i]);
        pm_free(v);
        return r;
}

static int
parse_metadata(struct ctx *x, const cJSON *json)
{
        const cJSON *packages = cJSON_GetObjectItemCaseSensitive(json, "packages"), *pk;
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(json, "version");
        size_t i = 0;
        int r;

        if (!cJSON_IsObject(json) || !cJSON_IsArray(packages))
                return bad(x, NULL, "no 'packages' list (cargo metadata output expected)");
        if (version && (!cJSON_IsNumber(version) || version->valuedouble != 1))
                return bad(x, NULL, "format version is not 1");
        x->n = (size_t)cJSON_GetArraySize(packages);
        if (x->n > PM_CARGO_MAX_PACKAGES)
                return pm_error_set_at(x->err, PM_ELIMIT, x->origin, 0, 0,
                                       "%zu packages, more than the limit of %d", x->n,
                                       PM_CARGO_MAX_PACKAGES);
        x->p = pm_arena_alloc(x->a, (x->n ? x->n : 1) * sizeof(*x->p));
        x->sorted = pm_arena_alloc(x->a, (x->n ? x->n : 1) * sizeof(*x->sorted));
        if (!x->p || !x->sorted)
                return oom(x);
        cJSON_ArrayForEach(pk, packages)
        {
                if (!cJSON_IsObject(pk))
                        return bad(x, NULL, "package %zu is not an object", i);
                x->p[i].obj = pk;
                x->p[i].id = str_or_null(pk, "id");
                if (!x->p[i].id)
                        return bad(x, NULL, "package %zu has no 'id'", i);
                x->sorted[i] = &x->p[i];
                i++;
        }
        qsort(x->sorted, x->n, sizeof(*x->sorted), pkg_cmp);
        for (i = 1; i < x->n; i++)
                if (strcmp(x->sorted[i - 1]->id, x->sorted[i]->id) == 0)
                        return bad(x, NULL, "package '%s' is listed twice", x->sorted[i]->id);
        r = read_members(x, json);
        if (r == 0)
                r = read_resolve(x, json);
        for (i = 0; r == 0 && i < x->n; i++)
                r = read_package(x, &x->p[i]);
        if (r == 0)
                r = disambiguate_labels(x);
        if (r == 0)
                r = check_labels(x);
        for (i = 0; r == 0 && i < x->n; i++)
                r = add_deps(x, &x->p[i]);
        for (i = 0; r == 0 && i < x->n; i++) {
                struct pm__cargo_pkg cp = { .id = x->p[i].id,
                                            .name = x->p[i].name,
                                            .version = x->p[i].version,
                                            .build_script = x->p[i].build_script,
                                            .first = x->p[i].first,
                                            .end = x->p[i].end };

                r = pm__cargo_check_apply(x->check, x->g, &cp, x->err);
        }
        return r;
}

/* Cargo.lock beside the workspace manifest, when there is one (it changes the resolve). */
static int
add_lockfile(struct ctx *x, const cJSON *json)
{
        const char *ws = str_or_null(json, "workspace_root");
        char *lock;

        if (!ws || !pm_path_is_absolute(ws))
                return 0;
        lock = pm_path_join(x->g->arena, ws, "Cargo.lock");
        if (!lock)
                return oom(x);
        if (access(lock, F_OK) != 0)
                return 0;
        return pm_strlist_push_unique(x->g, &x->g->build_files, lock) < 0 ? oom(x) : 0;
}

/* Whether the build step ran: it did when its output is there; else it was switched off, or
 * nothing ran at all. */
static int
check_mode(const struct pm_query *q, size_t n_outputs, enum pm__cargo_check_mode *ret,
           struct pm_error *err)
{
        bool build = true;
        int r;

        *ret = PM__CARGO_CHECK_CAPTURED;
        if (q->captured)
                return 0;
        if (n_outputs > PM__CARGO_STEP_CHECK) {
                *ret = PM__CARGO_CHECK_RAN;
                return 0;
        }
        r = pm_adapter_build_proc_macros(q->config, q->project, &build, err);
        if (r < 0)
                return r;
        if (!build)
                *ret = PM__CARGO_CHECK_OFF;
        return 0;
}

void
pm__cargo_json_free(void *json)
{
        cJSON_Delete(json);
}

int
pm__cargo_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                struct pm_graph **ret_graph, struct pm_error *err)
{
        struct ctx x = { .q = q, .err = err };
        enum pm__cargo_check_mode mode;
        cJSON *json = NULL;
        int r;

        if (n_outputs < 1 || !outputs[0].data)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "cargo metadata produced no output");
        x.origin = outputs[0].origin ? outputs[0].origin : "cargo metadata";
        if (!q->captured && n_outputs >= 2 && outputs[1].data && outputs[1].len > 0) {
                x.target = outputs[1].data;
                x.target_len = outputs[1].len;
        }
        x.rel = q->project->rel ? q->project->rel : ".";
        if (!q->captured)
                x.cargo = outputs[0].program;
        r = check_mode(q, n_outputs, &mode, err);
        if (r < 0)
                return r;
        x.building = mode == PM__CARGO_CHECK_RAN;
        /* The metadata query_builds() parsed to announce the check (cargo.c), or parse it now. */
        if (q->memo && q->memo->data && q->memo->free == pm__cargo_json_free) {
                json = pm_steal_ptr(&q->memo->data);
        } else {
                r = pm__json_parse(&outputs[0], x.origin, "cargo metadata output", &json, err);
                if (r < 0)
                        return r;
        }
        r = pm__cargo_check_read(
                mode, mode == PM__CARGO_CHECK_RAN ? &outputs[PM__CARGO_STEP_CHECK] : NULL, &x.check,
                err);
        if (r < 0)
                goto out;
        r = -ENOMEM;
        x.a = pm_arena_new();
        x.g = pm_graph_new();
        if (!x.a || !x.g) {
                r = oom(&x);
                goto out;
        }
        x.g->dylibs_built = x.building;
        r = parse_metadata(&x, json);
        if (r == 0)
                r = add_lockfile(&x, json);
        if (r < 0)
                goto out;
        *ret_graph = pm_steal_ptr(&x.g);
out:
        pm_graph_free(x.g);
        pm_arena_free(x.a);
        pm__cargo_check_free(x.check);
        cJSON_Delete(json);
        return r;
}
