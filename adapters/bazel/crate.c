/* SPDX-License-Identifier: MIT */
/* Bazel rules to crates: rules_rust's defaults (crate_root, crate_name, edition), sources, cfgs,
 * env, deps and rust_test folding. */
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

/* ---- crates ------------------------------------------------------------------------------ */

struct srcs {
        char **paths;
        struct pm__bazel_label *labels; /* each path's label */
        size_t n, cap;
};

static int
src_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key, const char *value,
       void *data)
{
        struct srcs *s = data;
        struct pm__bazel_label l;
        char *p;
        int e;

        e = pm__bazel_norm_label(c, r, &r->l, value, &l, NULL);
        if (e < 0)
                return e;
        p = pm__bazel_label_path(c, &l);
        if (!p)
                return pm__bazel_bad(c, r->label, "has a source path too long or invalid: '%s'",
                                     value);
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = pm_arena_alloc(c->g->arena, cap * sizeof(*v));
                struct pm__bazel_label *lv = pm_arena_alloc(c->g->arena, cap * sizeof(*lv));

                if (!v || !lv)
                        return pm__bazel_oom(c);
                if (s->n) {
                        memcpy(v, s->paths, s->n * sizeof(*v));
                        memcpy(lv, s->labels, s->n * sizeof(*lv));
                }
                s->paths = v;
                s->labels = lv;
                s->cap = cap;
        }
        s->labels[s->n] = l;
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
feature_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key,
           const char *value, void *data)
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
                return pm__bazel_oom(c);
        return 0;
}

static int
flag_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key, const char *value,
        void *data)
{
        struct pm_crate *cr = data;

        if (pm_strlist_push(c->g, &cr->flags, value) < 0)
                return pm__bazel_oom(c);
        return 0;
}

static int
env_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key, const char *value,
       void *data)
{
        struct pm_crate *cr = data;

        /* A folded test's env only adds keys the library lacks. */
        if (pm_kvlist_get(&cr->env, key))
                return 0;
        if (pm_kvlist_set(c->g, &cr->env, key, value) < 0)
                return pm__bazel_oom(c);
        return 0;
}

/*
 * Record in @cr's gen_srcs each of @s's sources that another rule generates (a genrule, or one of
 * its outputs): the query output names it as a GENERATED_FILE or a rule (pm__bazel_is_generated()).
 * Decided from Bazel's output only, never the disk, so a captured output parses the same on any
 * machine and a checked-in source deleted since stays one. server/build.c builds it and serves the
 * file the build events name (docs/build-integration.md).
 */
static int
generated_sources(struct pm__bazel_ctx *c, struct pm_crate *cr, const struct srcs *s)
{
        /* No label strings in the arena for a workspace that generates none of its sources. */
        if (c->n_generated == 0)
                return 0;
        for (size_t i = 0; i < s->n; i++) {
                char *label = pm__bazel_label_string(c, &s->labels[i]);
                int e;

                if (!label)
                        return pm__bazel_oom(c);
                if (!pm__bazel_is_generated(c, label))
                        continue;
                if (pm_kvlist_set(c->g, &cr->gen_srcs, label, s->paths[i]) < 0)
                        return pm__bazel_oom(c);
                e = pm__bazel_watch_generator(c, label);
                if (e < 0)
                        return e;
        }
        return 0;
}

static int
add_sources(struct pm__bazel_ctx *c, struct pm_crate *cr, const struct srcs *s)
{
        int e = generated_sources(c, cr, s);

        if (e < 0)
                return e;
        for (size_t i = 0; i < s->n; i++) {
                const char *dir;
                bool covered = false;

                if (pm_strlist_push_unique(c->g, &cr->sources, s->paths[i]) < 0)
                        return pm__bazel_oom(c);
                /* rust-analyzer only looks for modules under include_dirs: the root's
                 * directory, plus any source directory outside it. */
                dir = pm_path_dirname(c->g->arena, s->paths[i]);
                if (!dir)
                        return pm__bazel_oom(c);
                for (size_t j = 0; j < cr->include_dirs.n && !covered; j++)
                        covered = pm_path_is_under(dir, cr->include_dirs.v[j]);
                if (!covered && pm_strlist_push(c->g, &cr->include_dirs, dir) < 0)
                        return pm__bazel_oom(c);
        }
        return 0;
}

int
pm__bazel_watch_build_script(struct pm__bazel_ctx *c, struct pm__bazel_rule *r)
{
        struct srcs srcs = { 0 };
        int e = pm__bazel_attr_list(c, r, "srcs", src_cb, &srcs);

        for (size_t i = 0; e == 0 && i < srcs.n; i++)
                if (pm_path_is_under(srcs.paths[i], c->q->project->root) &&
                    !pm_path_is_under(srcs.paths[i], c->s->output_base) &&
                    pm_strlist_push(c->g, &c->g->build_files, srcs.paths[i]) < 0)
                        e = pm__bazel_oom(c);
        return e;
}

/* Make the crate of rule @r (not a folding test). */
int
pm__bazel_make_crate(struct pm__bazel_ctx *c, struct pm__bazel_rule *r)
{
        struct pm_crate *cr;
        struct srcs srcs = { 0 }, root_src = { 0 };
        const char *crate_name, *crate_root, *edition, *root = NULL;
        char *name;
        int e;

        e = pm__bazel_attr_list(c, r, "srcs", src_cb, &srcs);
        if (e < 0)
                return e;
        e = pm__bazel_attr_string(c, r, "crate_root", &crate_root);
        if (e < 0)
                return e;
        e = pm__bazel_attr_string(c, r, "crate_name", &crate_name);
        if (e < 0)
                return e;
        e = pm__bazel_attr_string(c, r, "edition", &edition);
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
                return pm__bazel_oom(c);
        if (!pm_crate_name_valid(name, false))
                return pm__bazel_bad(c, r->label, "has an invalid crate name '%s'", name);

        if (*crate_root) {
                struct srcs one = { 0 };

                e = src_cb(c, r, NULL, crate_root, &one);
                if (e < 0)
                        return e;
                root = one.paths[0];
                root_src = one;
        } else {
                /* rules_rust's crate_root_src(): the only src, else the shortest
                 * lib.rs/main.rs, else <name>.rs, else <crate_name>.rs. */
                char *byname = pm_graph_printf(c->g, "%s.rs", r->name);
                char *bycrate = pm_graph_printf(c->g, "%s.rs", name);

                if (!byname || !bycrate)
                        return pm__bazel_oom(c);
                if (srcs.n == 1)
                        root = srcs.paths[0];
                if (!root)
                        root = shortest_with_basename(&srcs, r->cls->default_root);
                if (!root)
                        root = shortest_with_basename(&srcs, byname);
                if (!root)
                        root = shortest_with_basename(&srcs, bycrate);
                if (!root)
                        return pm__bazel_bad(c, r->label,
                                             "has no crate_root and no %s among its srcs",
                                             r->cls->default_root);
        }
        if (!*edition)
                edition = c->s->default_edition;
        if (!pm_edition_valid(edition))
                return pm__bazel_bad(c, r->label, "has an invalid edition '%s'", edition);

        cr = pm_graph_add_crate(c->g);
        if (!cr)
                return pm__bazel_oom(c);
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
                return pm__bazel_oom(c);
        if (cr->kind == PM_CRATE_PROC_MACRO) {
                cr->note = pm_graph_printf(c->g, PROC_MACRO_NOTE, r->label);
                if (!cr->note)
                        return pm__bazel_oom(c);
        }
        {
                char *dir = pm_path_dirname(c->g->arena, root);

                if (!dir || pm_strlist_push(c->g, &cr->include_dirs, dir) < 0 ||
                    pm_strlist_push(c->g, &cr->sources, root) < 0)
                        return pm__bazel_oom(c);
        }
        e = generated_sources(c, cr, &root_src);
        if (e < 0)
                return e;
        e = add_sources(c, cr, &srcs);
        if (e < 0)
                return e;
        e = pm__bazel_attr_list(c, r, "crate_features", feature_cb, cr);
        if (e < 0)
                return e;
        e = pm__bazel_attr_list(c, r, "rustc_flags", flag_cb, cr);
        if (e < 0)
                return e;
        e = pm_crate_apply_rustc_flags(c->g, cr, &cr->flags, c->err);
        if (e < 0)
                return e == -ENOMEM ? e
                                    : pm_error_prefix(c->err, "cannot parse '%s': target '%s'",
                                                      c->origin, r->label);
        if (!pm_edition_valid(cr->edition))
                return pm__bazel_bad(c, r->label, "has an invalid --edition '%s' in rustc_flags",
                                     cr->edition);
        return pm__bazel_attr_dict(c, r, "rustc_env", "stringDictValue", env_cb, cr);
}

/* The crate a rule's contributions go to: its own, or (rust_test crate = ...) the target's. */
struct pm__bazel_rule *
pm__bazel_owner(struct pm__bazel_ctx *c, struct pm__bazel_rule *r)
{
        for (int depth = 0; r && depth < PM_BAZEL_MAX_FOLD_DEPTH; depth++) {
                if (!r->fold_label)
                        return r;
                r = pm__bazel_lookup(c, r->fold_label);
        }
        return NULL;
}

struct dep_state {
        struct pm_crate *crate;
        bool folded; /* the deps of a rust_test folded into crate: skip cycles */
        const struct pm__bazel_rule *self;
        struct pm__bazel_label rl;
        /* aliases of the rule: normalised label -> name */
        const char **alias_keys;
        const char **alias_vals;
        size_t n_aliases, cap_aliases;
};

static int
alias_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key,
         const char *value, void *data)
{
        struct dep_state *d = data;
        const char *k;
        char *v;
        int e;

        e = pm__bazel_norm_label(c, r, &d->rl, key, NULL, &k);
        if (e < 0)
                return e;
        v = pm_graph_strdup(c->g, value);
        if (!v)
                return pm__bazel_oom(c);
        /* An extern name never has '-' (rust-analyzer rejects it); rules_rust maps it. */
        for (char *p = v; *p; p++)
                if (*p == '-')
                        *p = '_';
        if (!pm_crate_name_valid(v, false))
                return pm__bazel_bad(c, r->label, "has an invalid alias '%s'", value);
        if (d->n_aliases == d->cap_aliases) {
                size_t cap = d->cap_aliases ? d->cap_aliases * 2 : 4;
                const char **nk = pm_arena_alloc(c->g->arena, cap * sizeof(*nk));
                const char **nv = pm_arena_alloc(c->g->arena, cap * sizeof(*nv));

                if (!nk || !nv)
                        return pm__bazel_oom(c);
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
 * The crate graph so far (every library's own deps; the folded tests' come next) in a topological
 * order, for the folded tests' cycle checks. Made once, not per check: one search of the graph
 * per folded dep made parsing quadratic in the crates.
 */
static int
make_topo(struct pm__bazel_ctx *c)
{
        size_t n = c->g->n_crates, n_edges = 0;
        long *from = NULL, *to = NULL;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                n_edges += c->g->crates[i].n_deps;
        from = pm_calloc(n_edges + 1, sizeof(*from));
        to = pm_calloc(n_edges + 1, sizeof(*to));
        if (!from || !to)
                goto oom;
        n_edges = 0;
        for (size_t i = 0; i < n; i++) {
                const struct pm_crate *cr = &c->g->crates[i];

                for (size_t k = 0; k < cr->n_deps; k++) {
                        const struct pm__bazel_rule *t = pm__bazel_lookup(c, cr->deps[k].label);

                        if (!t || t->crate < 0)
                                continue;
                        from[n_edges] = (long)i;
                        to[n_edges++] = t->crate;
                }
        }
        if (pm__bazel_topo_new(n, from, to, n_edges, &c->topo) < 0)
                goto oom;
        goto out;
oom:
        r = pm__bazel_oom(c);
out:
        pm_free(from);
        pm_free(to);
        return r;
}

static int
dep_cb(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *key, const char *value,
       void *data)
{
        struct dep_state *d = data;
        const char *label, *alias = NULL;
        struct pm__bazel_label l;
        struct pm__bazel_rule *t;
        int e;

        e = pm__bazel_norm_label(c, r, &d->rl, value, &l, &label);
        if (e < 0)
                return e;
        t = pm__bazel_lookup(c, label);
        /* A target of a package Bazel could not load (`query` prints the dependent anyway): the
         * edge cannot be made, so the crate is left out and keeps its last good state. */
        if (!t && c->lost && pm__bazel_label_failed(c, &l)) {
                c->lost[d->self->crate] = true;
                return 0;
        }
        /* Not a Rust rule of the result (a genrule, a filegroup...): rust-analyzer has no
         * use for it. A dependency on a folding test makes no crate edge either. */
        if (!t || t->fold_label || t == d->self)
                return 0;
        /* rules_rust: a cargo_build_script in deps gives the crate its out_dir as OUT_DIR
         * (BuildInfo); server/build.c builds it (docs/build-integration.md). */
        if (t->cls->build_script) {
                struct pm_crate *cr = d->crate;

                if (cr->out_dir_target)
                        return 0;
                cr->out_dir_target = pm_graph_strdup(c->g, label);
                /* Until a build serves it (not with --query-output or build_proc_macros: false). */
                cr->note = pm_graph_printf(c->g,
                                           "%s%sOUT_DIR not built by projmodel: %s is not run, so "
                                           "what the crate include!s from it is missing",
                                           cr->note ? cr->note : "", cr->note ? "; " : "", label);
                return cr->out_dir_target && cr->note ? 0 : pm__bazel_oom(c);
        }
        for (size_t i = 0; i < d->n_aliases; i++)
                if (strcmp(d->alias_keys[i], label) == 0)
                        alias = d->alias_vals[i];
        for (size_t i = 0; i < d->crate->n_deps; i++)
                if (strcmp(d->crate->deps[i].label, label) == 0)
                        return 0;
        /*
         * A folded test's deps join its library's crate, and a test may depend on a crate that
         * depends on the library (legal in Bazel, where the test compiles separately): such an
         * edge would make a cycle rust-analyzer rejects.
         */
        if (d->folded) {
                bool cycle = false;
                char *w;

                if (!c->topo) {
                        e = make_topo(c);
                        if (e < 0)
                                return e;
                }
                if (pm__bazel_topo_add(c->topo, d->self->crate, t->crate, &cycle) < 0)
                        return pm__bazel_oom(c);
                if (cycle) {
                        w = pm_graph_printf(
                                c->g,
                                "target '%s': dependency '%s' depends on crate '%s' the test folds into, ignoring",
                                r->label, label, d->self->label);
                        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0)
                                return pm__bazel_oom(c);
                        return 0;
                }
        }
        if (pm_crate_add_dep(c->g, d->crate, label, alias) < 0)
                return pm__bazel_oom(c);
        return 0;
}

/* Add rule @r's deps, proc_macro_deps (and, for a folding test, srcs, env and its label as a
 * test target) to @own's crate. */
int
pm__bazel_add_deps(struct pm__bazel_ctx *c, struct pm__bazel_rule *r, struct pm__bazel_rule *own)
{
        struct dep_state d = { 0 };
        int e;

        d.crate = &c->g->crates[own->crate];
        d.self = own;
        d.folded = r != own;
        d.rl = r->l;
        e = pm__bazel_attr_dict(c, r, "aliases", "labelKeyedStringDictValue", alias_cb, &d);
        if (e < 0)
                return e;
        e = pm__bazel_attr_list(c, r, "deps", dep_cb, &d);
        if (e < 0)
                return e;
        e = pm__bazel_attr_list(c, r, "proc_macro_deps", dep_cb, &d);
        if (e < 0)
                return e;
        if (r != own) {
                struct srcs srcs = { 0 };

                /* The test target `projmodel test` builds for the crate
                 * (server/check-adapter.c). */
                if (pm_strlist_push_unique(c->g, &d.crate->test_targets, r->label) < 0)
                        return pm__bazel_oom(c);
                e = pm__bazel_attr_list(c, r, "srcs", src_cb, &srcs);
                if (e < 0)
                        return e;
                e = add_sources(c, d.crate, &srcs);
                if (e < 0)
                        return e;
                e = pm__bazel_attr_dict(c, r, "rustc_env", "stringDictValue", env_cb, d.crate);
        }
        return e;
}
