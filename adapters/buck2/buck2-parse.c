/* SPDX-License-Identifier: MIT */
/* Parsing `buck2 targets --json --output-all-attributes` output into crates: rule defaults
 * (crate root, crate name, edition), select()/concat values, named_deps, aliases, and the
 * folding of `<lib>-unittest` tests into their library. Reads .buckconfig; runs nothing.
 * Slightly over 800 lines: crate rules, dependency resolution and folding are one pass over
 * one context; attribute reading and .buckconfig live in buck2-attr.c and buck2-config.c. */
#include <errno.h>
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
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/buck2/buck2-internal.h"

static enum pm__buck2_rule
classify(const char *type)
{
        const char *base = strrchr(type, ':');

        /* "prelude//rules.bzl:rust_library" (legacy) and "rust_library" both occur. */
        base = base ? base + 1 : type;
        if (strcmp(base, "rust_library") == 0)
                return PM__BUCK2_RULE_LIBRARY;
        if (strcmp(base, "rust_binary") == 0)
                return PM__BUCK2_RULE_BINARY;
        if (strcmp(base, "rust_test") == 0)
                return PM__BUCK2_RULE_TEST;
        if (strcmp(base, "alias") == 0 || strcmp(base, "configured_alias") == 0)
                return PM__BUCK2_RULE_ALIAS;
        return PM__BUCK2_RULE_OTHER;
}

/*
 * Canonical "cell//pkg:name" for a dependency label written in target @t: a configuration
 * suffix (" (cfg#hash)") is dropped, ":name" is relative to @t's package and "//pkg:name" to
 * its cell. Returns a scratch string, or NULL (and *ret_bad) when @s is no target label.
 */
static char *
canonical_label(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *s,
                bool *ret_bad)
{
        const char *sp = strchr(s, ' '), *sl;
        size_t len = sp ? (size_t)(sp - s) : strlen(s);
        char *l = pm_arena_strndup(x->a, s, len);
        char *r;

        *ret_bad = false;
        if (!l)
                return NULL;
        if (l[0] == ':')
                r = pm_arena_printf(x->a, "%s//%s%s", t->cell, t->pkg, l);
        else if (l[0] == '/' && l[1] == '/')
                r = pm_arena_printf(x->a, "%s%s", t->cell, l);
        else
                r = l;
        if (!r)
                return NULL;
        sl = strstr(r, "//");
        if (!sl || !strchr(sl, ':')) {
                *ret_bad = true;
                return NULL;
        }
        return r;
}

static int
label_cmp(const void *a, const void *b)
{
        const struct pm__buck2_target *const *x = a, *const *y = b;

        return strcmp((*x)->label, (*y)->label);
}

static struct pm__buck2_target *
find_target(const struct pm__buck2_ctx *x, const char *label)
{
        struct pm__buck2_target key = { .label = label };
        const struct pm__buck2_target *kp = &key;
        struct pm__buck2_target **hit;

        if (!x->n_sorted)
                return NULL;
        hit = bsearch(&kp, x->sorted, x->n_sorted, sizeof(*x->sorted), label_cmp);
        return hit ? *hit : NULL;
}

/*
 * The absolute path of a source written in target @t: a file label "cell//dir/file.rs", an
 * absolute path, or a path relative to the package. Sources produced by another target
 * ("cell//pkg:gen") have no path before a build: *ret is NULL then.
 */
static int
source_path(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *s, char **ret)
{
        const char *sl = strstr(s, "//");

        *ret = NULL;
        if (sl) {
                const char *dir = sl == s ? pm__buck2_cell_dir(x, t->cell, strlen(t->cell))
                                          : pm__buck2_cell_dir(x, s, (size_t)(sl - s));

                if (strchr(sl, ':'))
                        return 0;
                *ret = pm_path_join(x->g->arena, dir, sl + 2);
        } else {
                *ret = pm_path_normalize(x->g->arena, t->pkg_dir, s);
        }
        return *ret ? 0 : pm__buck2_oom(x);
}

/* Add @dir unless it already is, or lies below, an include dir of @c. */
static int
add_include_dir(struct pm__buck2_ctx *x, struct pm_crate *c, const char *dir)
{
        for (size_t i = 0; i < c->include_dirs.n; i++)
                if (pm_path_is_under(dir, c->include_dirs.v[i]))
                        return 0;
        return pm_strlist_push(x->g, &c->include_dirs, dir) < 0 ? pm__buck2_oom(x) : 0;
}

/*
 * Record source @s of @t, a target label (`//pkg:gen_rs`, `:gen_rs`, a named output
 * `:gen[foo.rs]`), as one of @c's generated sources (pm_crate.gen_srcs) at @path, the file the
 * parse serves until it is built: server/build.c builds the target with the proc macros and
 * serves the file Buck2's build report names (docs/build-integration.md). *@ret_path is @path,
 * or for NULL the package's file named after the target (after the output, for a named one). A
 * source that is no label leaves *@ret_path NULL.
 */
static int
generated_source(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, struct pm_crate *c,
                 const char *s, const char *path, char **ret_path)
{
        size_t len;
        const char *name;
        char *l, *sub;
        bool not_label;

        *ret_path = NULL;
        l = canonical_label(x, t, s, &not_label);
        if (not_label)
                return 0;
        if (!l)
                return pm__buck2_oom(x);
        /* A genrule's named output `gen[foo.rs]` (`outs = {"foo.rs": [...]}`) is the file the
         * crate sees as foo.rs, so its name, not the target's, can make it the crate root. */
        if (!path && (name = strrchr(l, '[')) && name[1] != ']' && l[strlen(l) - 1] == ']') {
                sub = pm_arena_strndup(x->a, name + 1, strlen(name) - 2);
                path = sub ? pm_path_normalize(x->g->arena, t->pkg_dir, sub) : NULL;
        } else if (!path) {
                name = strrchr(l, ':') + 1;
                len = strcspn(name, "[");
                path = pm_arena_printf(x->g->arena, "%s/%.*s", t->pkg_dir, (int)len, name);
        }
        if (!path || pm_kvlist_set(x->g, &c->gen_srcs, l, path) < 0)
                return pm__buck2_oom(x);
        *ret_path = (char *)path;
        return 0;
}

static bool
is_default_root(const char *base, enum pm__buck2_rule rule, const char *crate)
{
        size_t n = crate ? strlen(crate) : 0;

        if (crate && strncmp(base, crate, n) == 0 && strcmp(base + n, ".rs") == 0)
                return true;
        if (rule == PM__BUCK2_RULE_LIBRARY)
                return strcmp(base, "lib.rs") == 0;
        if (rule == PM__BUCK2_RULE_BINARY)
                return strcmp(base, "main.rs") == 0;
        return strcmp(base, "main.rs") == 0 || strcmp(base, "lib.rs") == 0;
}

/*
 * The prelude's crate-root rule: the crate_root attribute, else the one source named lib.rs
 * (libraries), main.rs (binaries), either (tests) or <crate>.rs, else the only source.
 */
static int
crate_root(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, struct pm_crate *c,
           const char *crate, const struct pm_strlist *candidates)
{
        const char *attr = NULL, *found = NULL;
        size_t n_found = 0;
        int r;

        r = pm__buck2_get_string(x, t, "crate_root", &attr);
        if (r < 0)
                return r;
        if (attr && *attr) {
                char *p;

                r = source_path(x, t, attr, &p);
                if (r < 0)
                        return r;
                if (!p)
                        return pm__buck2_bad(
                                x, t, "crate_root '%s' is a generated target, not a file", attr);
                c->root_module = p;
                return 0;
        }
        for (size_t i = 0; i < candidates->n; i++) {
                if (is_default_root(pm_path_basename(candidates->v[i]), t->rule, crate)) {
                        found = candidates->v[i];
                        n_found++;
                }
        }
        if (n_found == 1) {
                c->root_module = (char *)found;
                return 0;
        }
        if (candidates->n == 1) {
                c->root_module = candidates->v[0];
                return 0;
        }
        return pm__buck2_bad(
                x, t,
                n_found > 1
                        ? "has no crate_root and several srcs could be its root"
                        : "has no crate_root and none of its srcs is lib.rs, main.rs or <crate>.rs");
}

static bool
has_component(const char *path, const char *comp)
{
        size_t n = strlen(comp);

        for (const char *p = path; p && *p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
                if (strncmp(p, comp, n) == 0 && (p[n] == '/' || p[n] == '\0'))
                        return true;
        return false;
}

int
pm__buck2_build_file_of(struct pm__buck2_ctx *x, const char *pkg_dir, char **ret)
{
        char *first = NULL;

        for (size_t i = 0; x->bf_names[i]; i++) {
                char *p = pm_path_join(x->g->arena, pkg_dir, x->bf_names[i]);

                if (!p)
                        return -ENOMEM;
                if (!first)
                        first = p;
                if (access(p, F_OK) == 0) {
                        *ret = p;
                        return 0;
                }
        }
        /* Captured output may come without the tree: name the file Buck2 would have read. */
        *ret = first;
        return first ? 0 : -ENOMEM;
}

static int
set_build_file(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, struct pm_crate *c)
{
        char *bf;

        if (pm__buck2_build_file_of(x, t->pkg_dir, &bf) < 0)
                return pm__buck2_oom(x);
        c->build_file = bf;
        return pm_strlist_push_unique(x->g, &x->g->build_files, c->build_file) < 0
                       ? pm__buck2_oom(x)
                       : 0;
}

/* True if @name with '-' read as '_' is @crate_name. */
static bool
same_name(const char *name, const char *crate_name)
{
        for (; *name && *crate_name; name++, crate_name++)
                if (*name != *crate_name && !(*name == '-' && *crate_name == '_'))
                        return false;
        return *name == *crate_name;
}

/*
 * @c's out_dir_target from an OUT_DIR value that is exactly `$(location LABEL)` (reindeer writes
 * `$(location :x-build-script-run[out_dir])`): LABEL made canonical, its sub-target kept, as
 * `buck2 build` takes it. Any other value (a path after the macro, two macros) is left alone.
 */
static int
out_dir_target(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, struct pm_crate *c,
               const char *v)
{
        static const char macro[] = "$(location ";
        size_t len = strlen(v);
        char *inner, *l;
        bool not_label;

        if (strncmp(v, macro, sizeof(macro) - 1) != 0 || len < sizeof(macro) + 1 ||
            v[len - 1] != ')')
                return 0;
        inner = pm_arena_strndup(x->a, v + sizeof(macro) - 1, len - sizeof(macro));
        if (!inner)
                return pm__buck2_oom(x);
        if (!inner[0] || strpbrk(inner, " $()"))
                return 0;
        l = canonical_label(x, t, inner, &not_label);
        if (not_label)
                return 0;
        if (!l || !(c->out_dir_target = pm_graph_strdup(x->g, l)))
                return pm__buck2_oom(x);
        return 0;
}

/*
 * Watch the build script behind @c's OUT_DIR: reindeer's `X-build-script-run` lists the
 * `rust_binary` it runs (`X-build-script-build`) among its deps, and that binary's sources
 * become build files of the graph, so an edit of build.rs makes the next refresh build the
 * out_dir again (as the Bazel adapter does for a cargo_build_script's srcs). A run target or
 * script that is not in the output is left unwatched: its package was not queried.
 */
static int
watch_build_script(struct pm__buck2_ctx *x, const struct pm_crate *c)
{
        const char *sub = strchr(c->out_dir_target, '[');
        char *label = pm_arena_strndup(x->a, c->out_dir_target,
                                       sub ? (size_t)(sub - c->out_dir_target)
                                           : strlen(c->out_dir_target));
        const struct pm__buck2_target *run;
        const cJSON *deps, *e;
        int r;

        if (!label)
                return pm__buck2_oom(x);
        run = find_target(x, label);
        if (!run)
                return 0;
        r = pm__buck2_get_strlist(x, run, "buck.deps", &deps);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, deps)
        {
                const struct pm__buck2_target *script;
                const cJSON *srcs, *s;
                bool not_label;
                char *l = canonical_label(x, run, e->valuestring, &not_label);

                if (not_label)
                        continue;
                if (!l)
                        return pm__buck2_oom(x);
                script = find_target(x, l);
                if (!script || script->rule != PM__BUCK2_RULE_BINARY)
                        continue;
                r = pm__buck2_get_strlist(x, script, "srcs", &srcs);
                if (r < 0)
                        return r;
                cJSON_ArrayForEach(s, srcs)
                {
                        char *p;

                        r = source_path(x, script, s->valuestring, &p);
                        if (r < 0)
                                return r;
                        if (p && pm_strlist_push_unique(x->g, &x->g->build_files, p) < 0)
                                return pm__buck2_oom(x);
                }
        }
        return 0;
}

/* Fill the crate of Rust target @t from its attributes (deps come later). */
static int
build_crate(struct pm__buck2_ctx *x, struct pm__buck2_target *t)
{
        struct pm_crate *c = &x->g->crates[t->crate];
        struct pm_strlist candidates = { 0 };
        const cJSON *list, *e;
        const char *crate = NULL, *edition = NULL;
        char *name_, *root_dir;
        int r;

        c->label = pm_graph_strdup(x->g, t->label);
        c->build_system = pm_graph_strdup(x->g, "buck2");
        if (!c->label || !c->build_system)
                return pm__buck2_oom(x);
        c->kind = t->rule == PM__BUCK2_RULE_BINARY ? PM_CRATE_BIN
                  : t->rule == PM__BUCK2_RULE_TEST ? PM_CRATE_TEST
                                                   : PM_CRATE_LIB;

        r = pm__buck2_get_string(x, t, "crate", &crate);
        if (r < 0)
                return r;
        if (crate && *crate) {
                c->crate_name = pm_graph_strdup(x->g, crate);
        } else {
                c->crate_name = name_ = pm_graph_strdup(x->g, t->name);
                for (; name_ && *name_; name_++)
                        if (*name_ == '-')
                                *name_ = '_';
        }
        if (!c->crate_name)
                return pm__buck2_oom(x);
        if (!pm_crate_name_valid(c->crate_name, false))
                return pm__buck2_bad(x, t, "has crate name '%.200s', which is not an identifier",
                                     c->crate_name);
        /* The target name unless it cannot be the crate's name ("serde-1.0.200" with
         * crate = "serde"): rust-analyzer derives a crate name from display_name. */
        c->display_name =
                pm_graph_strdup(x->g, same_name(t->name, c->crate_name) ? t->name : c->crate_name);
        if (!c->display_name)
                return pm__buck2_oom(x);

        r = pm__buck2_get_string(x, t, "edition", &edition);
        if (r < 0)
                return r;
        if (edition && !pm_edition_valid(edition))
                return pm__buck2_bad(x, t, "edition '%s' is not 2015, 2018, 2021 or 2024", edition);
        c->edition = pm_graph_strdup(x->g, edition ? edition : x->edition);
        if (!c->edition)
                return pm__buck2_oom(x);

        r = pm__buck2_get_strlist(x, t, "srcs", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                char *p;

                r = source_path(x, t, e->valuestring, &p);
                if (r == 0 && !p)
                        r = generated_source(x, t, c, e->valuestring, NULL, &p);
                if (r < 0)
                        return r;
                if (p && (pm_strlist_push_unique(x->g, &c->sources, p) < 0 ||
                          pm_strlist_push(x->g, &candidates, p) < 0))
                        return pm__buck2_oom(x);
        }
        /* mapped_srcs: {source: local path}; the local path is where the (usually generated)
         * file appears inside the crate, relative to the package. */
        r = pm__buck2_get_strdict(x, t, "mapped_srcs", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                char *p = pm_path_normalize(x->g->arena, t->pkg_dir, e->valuestring), *gen;

                r = p ? generated_source(x, t, c, e->string, p, &gen) : 0;
                if (r < 0)
                        return r;
                if (!p || pm_strlist_push_unique(x->g, &c->sources, p) < 0 ||
                    pm_strlist_push(x->g, &candidates, p) < 0)
                        return pm__buck2_oom(x);
        }
        r = crate_root(x, t, c, crate && *crate ? crate : c->crate_name, &candidates);
        if (r < 0)
                return r;
        root_dir = pm_path_dirname(x->g->arena, c->root_module);
        if (!root_dir)
                return pm__buck2_oom(x);
        r = add_include_dir(x, c, root_dir);
        for (size_t i = 0; r == 0 && i < c->sources.n; i++) {
                char *d = pm_path_dirname(x->g->arena, c->sources.v[i]);

                r = d ? add_include_dir(x, c, d) : pm__buck2_oom(x);
        }
        if (r < 0)
                return r;

        r = pm__buck2_get_strlist(x, t, "features", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                char *cfg = pm_graph_printf(x->g, "feature=\"%s\"", e->valuestring);

                if (!cfg || pm_strlist_push_unique(x->g, &c->cfgs, cfg) < 0)
                        return pm__buck2_oom(x);
        }
        r = pm__buck2_get_strlist(x, t, "rustc_flags", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                if (pm_strlist_push(x->g, &c->flags, e->valuestring) < 0)
                        return pm__buck2_oom(x);
        }
        r = pm_crate_apply_rustc_flags(x->g, c, &c->flags, x->err);
        if (r < 0)
                return r == -ENOMEM ? r : pm__buck2_bad(x, t, "rustc_flags: %s", x->err->msg);

        r = pm__buck2_get_strdict(x, t, "env", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                const char *v = e->valuestring;
                char *abs = NULL;

                /* Buck2 runs rustc from the project root. */
                if (strcmp(e->string, "CARGO_MANIFEST_DIR") == 0 && !pm_path_is_absolute(v)) {
                        abs = pm_path_normalize(x->g->arena, x->root, v);
                        if (!abs)
                                return pm__buck2_oom(x);
                        v = abs;
                }
                if (pm_kvlist_set(x->g, &c->env, e->string, v) < 0)
                        return pm__buck2_oom(x);
                /* reindeer's build-script output: a macro Buck2 expands only when it builds, so
                 * the served value is not a directory until server/build.c builds the target and
                 * puts the directory from Buck2's build report in its place
                 * (docs/build-integration.md); the note stays when nothing builds it. */
                if (strcmp(e->string, "OUT_DIR") == 0 && strstr(v, "$(location ")) {
                        r = out_dir_target(x, t, c, v);
                        if (r < 0)
                                return r;
                        c->note = pm_graph_printf(
                                x->g,
                                "OUT_DIR not built by projmodel: it is `%s`, so what the crate "
                                "include!s from it is missing",
                                v);
                        if (!c->note)
                                return pm__buck2_oom(x);
                }
        }

        if (t->rule == PM__BUCK2_RULE_LIBRARY) {
                const cJSON *pm;

                r = pm__buck2_get_attr(x, t, "proc_macro", &pm);
                if (r < 0)
                        return r;
                if (pm && !cJSON_IsBool(pm))
                        return pm__buck2_bad(x, t, "attribute 'proc_macro' is not a boolean");
                if (cJSON_IsTrue(pm)) {
                        c->kind = PM_CRATE_PROC_MACRO;
                        c->note = pm_graph_strdup(
                                x->g,
                                "proc macro not built by projmodel: `buck2 targets` has no dylib path, so its macros are not expanded");
                        if (!c->note)
                                return pm__buck2_oom(x);
                }
        }
        /* Third-party code vendored by reindeer has its sources under .../vendor/<crate>; a
         * cell outside the project root is someone else's code too. */
        c->is_workspace_member = pm_path_is_under(c->root_module, x->root) &&
                                 !has_component(c->root_module + strlen(x->root), "vendor");
        return set_build_file(x, t, c);
}

/* The package of canonical label @l ("cell//pkg:name") when Buck2 could not load it, else NULL. */
static const char *
failed_package(const struct pm__buck2_ctx *x, const char *l)
{
        size_t n = (size_t)(strchr(strstr(l, "//"), ':') - l);

        for (size_t i = 0; i < x->failed_pkgs.n; i++)
                if (strlen(x->failed_pkgs.v[i]) == n && strncmp(x->failed_pkgs.v[i], l, n) == 0)
                        return x->failed_pkgs.v[i];
        return NULL;
}

/* The crate @t's deps go to: its own, or its library's when it is a folded test. */
static size_t
crate_of(const struct pm__buck2_ctx *x, const struct pm__buck2_target *t)
{
        return t->fold == PM__BUCK2_NO_FOLD ? t->crate : x->t[t->fold].crate;
}

/* Warn that @t's @label is not in the output; when its package failed to load, @t's crate is
 * left out (x->lost) so that the apply keeps its last good state, edge included, as the Bazel
 * adapter does (docs/build-integration.md, "Partial results"). */
static int
dep_missing(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *label)
{
        const char *pkg = x->lost ? failed_package(x, label) : NULL;
        char *w;

        if (pkg) {
                size_t c = crate_of(x, t);

                x->lost[c] = true;
                w = pm_graph_printf(x->g,
                                    "crate '%s' depends on '%s' of package '%s' (%s): its last "
                                    "good state is kept",
                                    x->g->crates[c].label, label, pkg, PM__BUCK2_KEEP_GOING);
        } else {
                w = pm_graph_printf(
                        x->g, "target '%s': dependency '%s' is not in the buck2 output, ignoring",
                        t->label, label);
        }
        return !w || pm_strlist_push(x->g, &x->g->warnings, w) < 0 ? pm__buck2_oom(x) : 0;
}

/*
 * The Rust target a dependency label means, following aliases, or NULL when it is not a Rust
 * target of this output (C++ deps of Rust crates are normal and ignored silently).
 */
static int
resolve_dep(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
            const char *label, struct pm__buck2_target **ret)
{
        struct pm__buck2_target *d;
        const char *actual;
        bool not_label;
        char *l;
        int r;

        *ret = NULL;
        l = canonical_label(x, t, label, &not_label);
        if (not_label)
                return pm__buck2_bad(x, t, "attribute '%s' has '%s', which is not a target label",
                                     attr, label);
        if (!l)
                return pm__buck2_oom(x);
        for (int hops = 0;; hops++) {
                d = find_target(x, l);
                if (!d)
                        return dep_missing(x, t, l);
                if (d->rule != PM__BUCK2_RULE_ALIAS)
                        break;
                if (hops >= PM_BUCK2_MAX_ALIAS_HOPS)
                        return pm__buck2_bad(x, d, "alias chain is longer than %d",
                                             PM_BUCK2_MAX_ALIAS_HOPS);
                r = pm__buck2_get_string(x, d, "actual", &actual);
                if (r < 0)
                        return r;
                if (!actual)
                        return pm__buck2_bad(x, d, "alias has no 'actual'");
                l = canonical_label(x, d, actual, &not_label);
                if (not_label)
                        return pm__buck2_bad(x, d, "'actual' is '%s', which is not a target label",
                                             actual);
                if (!l)
                        return pm__buck2_oom(x);
        }
        if (d->rule == PM__BUCK2_RULE_OTHER)
                return 0;
        if (d->fold != PM__BUCK2_NO_FOLD)
                d = &x->t[d->fold];
        *ret = d;
        return 0;
}

static int
add_dep(struct pm__buck2_ctx *x, struct pm_crate *c, const struct pm__buck2_target *dep,
        const char *name)
{
        const struct pm_crate *dc = &x->g->crates[dep->crate];
        char *n = NULL;

        if (strcmp(dc->label, c->label) == 0)
                return 0;
        if (name) {
                n = pm_arena_strdup(x->a, name);
                if (!n)
                        return pm__buck2_oom(x);
                for (char *p = n; *p; p++)
                        if (*p == '-')
                                *p = '_';
                if (strcmp(n, dc->crate_name) == 0)
                        n = NULL;
        }
        for (size_t i = 0; i < c->n_deps; i++)
                if (strcmp(c->deps[i].label, dc->label) == 0 &&
                    (c->deps[i].name == n || (n && c->deps[i].name && !strcmp(c->deps[i].name, n))))
                        return 0;
        return pm_crate_add_dep(x->g, c, dc->label, n) < 0 ? pm__buck2_oom(x) : 0;
}

/* Add @t's deps and named_deps to crate @c (its own, or its library's when folded). */
static int
add_deps(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, struct pm_crate *c)
{
        const cJSON *list, *e;
        struct pm__buck2_target *d;
        int r;

        r = pm__buck2_get_strlist(x, t, "deps", &list);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, list)
        {
                r = resolve_dep(x, t, "deps", e->valuestring, &d);
                if (r == 0 && d)
                        r = add_dep(x, c, d, NULL);
                if (r < 0)
                        return r;
        }
        r = pm__buck2_get_attr(x, t, "named_deps", &list);
        if (r < 0)
                return r;
        if (list && !cJSON_IsObject(list) && !cJSON_IsArray(list))
                return pm__buck2_bad(x, t, "attribute 'named_deps' is neither a dict nor a list");
        cJSON_ArrayForEach(e, list)
        {
                const char *name, *label;

                if (cJSON_IsObject(list)) {
                        if (!cJSON_IsString(e))
                                return pm__buck2_bad(x, t, "named_deps '%s' is not a label",
                                                     e->string);
                        name = e->string;
                        label = e->valuestring;
                } else {
                        /* The list form: [[name, label], ...]. */
                        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 ||
                            !cJSON_IsString(cJSON_GetArrayItem(e, 0)) ||
                            !cJSON_IsString(cJSON_GetArrayItem(e, 1)))
                                return pm__buck2_bad(
                                        x, t,
                                        "attribute 'named_deps' is a list whose entries are not [name, label] pairs");
                        name = cJSON_GetArrayItem(e, 0)->valuestring;
                        label = cJSON_GetArrayItem(e, 1)->valuestring;
                }
                if (!*name)
                        return pm__buck2_bad(x, t, "attribute 'named_deps' has an empty name");
                if (!pm_crate_name_valid(name, false))
                        return pm__buck2_bad(x, t,
                                             "attribute 'named_deps' has name '%.200s', which is "
                                             "not an identifier",
                                             name);
                r = resolve_dep(x, t, "named_deps", label, &d);
                if (r == 0 && d)
                        r = add_dep(x, c, d, name);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Merge test @t's sources into library @lib (deps are merged by add_deps()). */
static int
fold_into(struct pm__buck2_ctx *x, struct pm__buck2_target *t, struct pm__buck2_target *lib)
{
        struct pm_crate *tc = &x->g->crates[t->crate], *lc = &x->g->crates[lib->crate];
        int r = 0;

        t->fold = (size_t)(lib - x->t);
        for (size_t i = 0; r == 0 && i < tc->sources.n; i++)
                r = pm_strlist_push_unique(x->g, &lc->sources, tc->sources.v[i]);
        for (size_t i = 0; r == 0 && i < tc->include_dirs.n; i++)
                r = pm_strlist_push_unique(x->g, &lc->include_dirs, tc->include_dirs.v[i]);
        return r < 0 ? pm__buck2_oom(x) : 0;
}

/*
 * Fold tests into libraries as Buck2's rust-project does: a rust_test
 * named "<lib>-unittest" next to library <lib>, or one a library lists in `tests` that has the
 * library's crate root (so it is the same crate compiled with --test).
 */
static int
fold_tests(struct pm__buck2_ctx *x)
{
        const cJSON *tests, *e;
        struct pm__buck2_target *d;
        int r;

        for (size_t i = 0; i < x->n; i++) {
                struct pm__buck2_target *lib = &x->t[i];

                if (lib->rule != PM__BUCK2_RULE_LIBRARY)
                        continue;
                r = pm__buck2_get_strlist(x, lib, "tests", &tests);
                if (r < 0)
                        return r;
                cJSON_ArrayForEach(e, tests)
                {
                        bool not_label;
                        char *l = canonical_label(x, lib, e->valuestring, &not_label);

                        if (not_label)
                                continue;
                        if (!l)
                                return pm__buck2_oom(x);
                        d = find_target(x, l);
                        if (d && d->rule == PM__BUCK2_RULE_TEST && d->fold == PM__BUCK2_NO_FOLD &&
                            strcmp(x->g->crates[d->crate].root_module,
                                   x->g->crates[lib->crate].root_module) == 0) {
                                r = fold_into(x, d, lib);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        for (size_t i = 0; i < x->n; i++) {
                struct pm__buck2_target *t = &x->t[i];
                size_t n = strlen(t->name), sl = strlen("-unittest");
                char *l;

                if (t->rule != PM__BUCK2_RULE_TEST || t->fold != PM__BUCK2_NO_FOLD || n <= sl ||
                    strcmp(t->name + n - sl, "-unittest") != 0)
                        continue;
                l = pm_arena_printf(x->a, "%s//%s:%.*s", t->cell, t->pkg, (int)(n - sl), t->name);
                if (!l)
                        return pm__buck2_oom(x);
                d = find_target(x, l);
                if (d && d->rule == PM__BUCK2_RULE_LIBRARY) {
                        r = fold_into(x, t, d);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Read the target fields every object must have; non-target entries are skipped. */
static int
read_target(struct pm__buck2_ctx *x, const cJSON *obj, size_t idx, struct pm__buck2_target *t)
{
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "buck.type");
        const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(obj, "buck.package");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "name");
        const char *sl;

        t->obj = obj;
        t->fold = PM__BUCK2_NO_FOLD;
        if (!cJSON_IsString(pkg) || !cJSON_IsString(name) || !cJSON_IsString(type)) {
                if (cJSON_IsString(name))
                        return pm__buck2_bad(
                                x, NULL,
                                "entry %zu ('%s') has no string 'buck.type' and 'buck.package'",
                                idx, name->valuestring);
                return pm__buck2_bad(
                        x, NULL, "entry %zu has no string 'buck.type', 'buck.package' and 'name'",
                        idx);
        }
        sl = strstr(pkg->valuestring, "//");
        if (!sl || strchr(pkg->valuestring, ':') || !*name->valuestring ||
            strchr(name->valuestring, '/') || strchr(name->valuestring, ':'))
                return pm__buck2_bad(x, NULL, "entry %zu: '%s' and '%s' make no target label", idx,
                                     pkg->valuestring, name->valuestring);
        t->name = name->valuestring;
        t->label = pm_arena_printf(x->a, "%s:%s", pkg->valuestring, t->name);
        t->cell = sl == pkg->valuestring ? "root"
                                         : pm_arena_strndup(x->a, pkg->valuestring,
                                                            (size_t)(sl - pkg->valuestring));
        t->pkg = sl + 2;
        if (!t->label || !t->cell)
                return pm__buck2_oom(x);
        t->pkg_dir = pm_path_join(x->a, pm__buck2_cell_dir(x, t->cell, strlen(t->cell)), t->pkg);
        if (!t->pkg_dir)
                return pm__buck2_oom(x);
        t->rule = classify(type->valuestring);
        return 0;
}

/*
 * Leave out, too, the crates that depend on a crate left out (x->lost), so that no crate of the
 * graph has an edge to one the model may not have (as the Bazel adapter's drop_lost()).
 */
static int
spread_lost(struct pm__buck2_ctx *x)
{
        for (bool more = true; more;) {
                more = false;
                for (size_t i = 0; i < x->n; i++) {
                        const struct pm__buck2_target *t = &x->t[i];
                        const struct pm_crate *c;

                        if (t->rule == PM__BUCK2_RULE_OTHER || t->rule == PM__BUCK2_RULE_ALIAS ||
                            t->fold != PM__BUCK2_NO_FOLD || x->lost[t->crate])
                                continue;
                        c = &x->g->crates[t->crate];
                        for (size_t k = 0; k < c->n_deps; k++) {
                                const struct pm__buck2_target *d = find_target(x, c->deps[k].label);
                                char *w;

                                if (!d || !x->lost[d->crate])
                                        continue;
                                x->lost[t->crate] = more = true;
                                w = pm_graph_printf(x->g,
                                                    "crate '%s' depends on '%s', whose last good "
                                                    "state is kept: so is its own",
                                                    c->label, c->deps[k].label);
                                if (!w || pm_strlist_push(x->g, &x->g->warnings, w) < 0)
                                        return pm__buck2_oom(x);
                                break;
                        }
                }
        }
        return 0;
}

static int
parse_targets(struct pm__buck2_ctx *x, const cJSON *arr)
{
        const cJSON *obj;
        size_t i = 0, n_rust = 0;
        int r;

        x->n = 0;
        cJSON_ArrayForEach(obj, arr)
        {
                i++;
                if (!cJSON_IsObject(obj))
                        return pm__buck2_bad(x, NULL, "entry %zu is not an object", i - 1);
                if (cJSON_GetObjectItemCaseSensitive(obj, "buck.error")) {
                        r = pm__buck2_error_entry(x, obj);
                        if (r < 0)
                                return r;
                        continue;
                }
                r = read_target(x, obj, i - 1, &x->t[x->n]);
                if (r < 0)
                        return r;
                x->n++;
        }

        for (i = 0; i < x->n; i++)
                x->sorted[i] = &x->t[i];
        qsort(x->sorted, x->n, sizeof(*x->sorted), label_cmp);
        x->n_sorted = 0;
        for (i = 0; i < x->n; i++) {
                /* `ctargets` lists a target once per configuration: the first one wins. */
                if (x->n_sorted &&
                    strcmp(x->sorted[x->n_sorted - 1]->label, x->sorted[i]->label) == 0) {
                        x->sorted[i]->rule = PM__BUCK2_RULE_OTHER;
                        continue;
                }
                x->sorted[x->n_sorted++] = x->sorted[i];
        }

        for (i = 0; i < x->n; i++) {
                struct pm__buck2_target *t = &x->t[i];

                if (t->rule == PM__BUCK2_RULE_OTHER || t->rule == PM__BUCK2_RULE_ALIAS)
                        continue;
                if (!pm_graph_add_crate(x->g))
                        return pm__buck2_oom(x);
                t->crate = n_rust++;
        }
        if (x->failed_pkgs.n && !(x->lost = pm_arena_alloc(x->a, n_rust + 1)))
                return pm__buck2_oom(x);
        for (i = 0; i < x->n; i++) {
                if (x->t[i].rule == PM__BUCK2_RULE_OTHER || x->t[i].rule == PM__BUCK2_RULE_ALIAS)
                        continue;
                r = build_crate(x, &x->t[i]);
                if (r < 0)
                        return r;
        }
        /* After every crate is built: the script is a crate of its own (a rust_binary). */
        for (i = 0; i < x->n; i++) {
                const struct pm_crate *c;

                if (x->t[i].rule == PM__BUCK2_RULE_OTHER || x->t[i].rule == PM__BUCK2_RULE_ALIAS)
                        continue;
                c = &x->g->crates[x->t[i].crate];
                if (c->out_dir_target) {
                        r = watch_build_script(x, c);
                        if (r < 0)
                                return r;
                }
        }
        r = fold_tests(x);
        if (r < 0)
                return r;
        for (i = 0; i < x->n; i++) {
                struct pm__buck2_target *t = &x->t[i];

                if (t->rule == PM__BUCK2_RULE_OTHER || t->rule == PM__BUCK2_RULE_ALIAS)
                        continue;
                r = add_deps(x, t, &x->g->crates[crate_of(x, t)]);
                if (r < 0)
                        return r;
        }
        return x->lost ? spread_lost(x) : 0;
}

/* Drop the crates of folded tests, keeping the order of the rest, and the crates left out
 * (x->lost), their build files failed so that the apply keeps them as they were. */
static int
compact(struct pm__buck2_ctx *x)
{
        size_t w = 0;

        for (size_t i = 0; i < x->n; i++) {
                struct pm__buck2_target *t = &x->t[i];

                if (t->rule == PM__BUCK2_RULE_OTHER || t->rule == PM__BUCK2_RULE_ALIAS ||
                    t->fold != PM__BUCK2_NO_FOLD)
                        continue;
                if (x->lost && x->lost[t->crate]) {
                        if (pm_strlist_push_unique(x->g, &x->g->failed,
                                                   x->g->crates[t->crate].build_file) < 0)
                                return pm__buck2_oom(x);
                        continue;
                }
                x->g->crates[w++] = x->g->crates[t->crate];
        }
        x->g->n_crates = w;
        return 0;
}

int
pm__buck2_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                struct pm_graph **ret_graph, struct pm_error *err)
{
        struct pm__buck2_ctx x = { .q = q, .root = q->project->root, .err = err };
        struct pm_error json_err;
        cJSON *json = NULL;
        char *bc;
        size_t n;
        int r, json_r;

        if (n_outputs < 1 || !outputs[0].data)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "buck2 produced no output");
        x.origin = outputs[0].origin ? outputs[0].origin : "buck2 targets";
        /* One parse serves the exit's check and the targets: its syntax error stands only when
         * the exit says the list is complete (a non-zero one is explained by the check). */
        pm_error_init(&json_err);
        json_r = pm__json_parse(&outputs[0], x.origin, "buck2 targets --json output", &json,
                                &json_err);
        if (json_r == -ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        /* A non-zero exit is --keep-going's partial list, or buck2's failure. */
        r = pm__buck2_keep_going_output(&outputs[0], json, err);
        if (r < 0)
                goto out;
        r = pm__buck2_default_edition(q, &x.edition, err);
        if (r < 0)
                goto out;
        if (json_r < 0) {
                if (err)
                        *err = json_err;
                r = json_r;
                goto out;
        }
        if (!cJSON_IsArray(json)) {
                r = pm__buck2_bad(&x, NULL,
                                  "not a JSON array (buck2 targets --json output expected)");
                goto out;
        }
        n = (size_t)cJSON_GetArraySize(json);
        if (n > PM_BUCK2_MAX_TARGETS) {
                r = pm_error_set_at(err, PM_ELIMIT, x.origin, 0, 0,
                                    "%zu targets, more than the limit of %d", n,
                                    PM_BUCK2_MAX_TARGETS);
                goto out;
        }

        r = -ENOMEM;
        x.a = pm_arena_new();
        x.scratch = cJSON_CreateArray();
        x.g = pm_graph_new();
        if (!x.a || !x.scratch || !x.g)
                goto oom;
        x.t = pm_arena_alloc(x.a, (n ? n : 1) * sizeof(*x.t));
        x.sorted = pm_arena_alloc(x.a, (n ? n : 1) * sizeof(*x.sorted));
        if (!x.t || !x.sorted)
                goto oom;
        r = pm__buck2_load_buckconfig(&x);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0)
                goto out;
        r = parse_targets(&x, json);
        if (r < 0)
                goto out;
        r = compact(&x);
        if (r < 0)
                goto out;
        bc = pm_path_join(x.g->arena, x.root, ".buckconfig");
        if (!bc || pm_strlist_push_unique(x.g, &x.g->build_files, bc) < 0)
                goto oom;

        *ret_graph = pm_steal_ptr(&x.g);
        r = 0;
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_graph_free(x.g);
        cJSON_Delete(x.scratch);
        pm_arena_free(x.a);
        cJSON_Delete(json);
        return r;
}
