/* SPDX-License-Identifier: MIT */
/* One GN target's properties to one crate: path forms, flags (edition, cfgs, target, rustc's
 * implied cfgs), env, include dirs; plus the error and warning helpers the parser shares. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/gn/gn-internal.h"

int
pm__gn_oom(struct pm__gn_ctx *c)
{
        return pm_error_set(c->err, -ENOMEM, "out of memory");
}

/* PM_EBADTOOLOUTPUT "cannot parse '<origin>': target '<label>' <what>". */
int
pm__gn_bad_target(struct pm__gn_ctx *c, const char *label, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pm_error_set_at(c->err, PM_EBADTOOLOUTPUT, c->origin, 0, 0,
                               "cannot parse '%s': target '%s' %s", c->origin, label, what);
}

int
pm__gn_bad(struct pm__gn_ctx *c, const char *fmt, ...)
{
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pm_error_set_at(c->err, PM_EBADTOOLOUTPUT, c->origin, 0, 0, "cannot parse '%s': %s",
                               c->origin, what);
}

/* A warning about build file @file (NULL: the whole output). */
static int
vwarn(struct pm__gn_ctx *c, const char *file, const char *fmt, va_list ap)
{
        char *msg, *clipped = NULL;
        int r = 0;

        msg = pm_vasprintf(fmt, ap);
        /* Cut as every command prints a warning (graph.h), never inside a character. */
        if (msg)
                clipped = pm_utf8_clip(msg, PM_WARNING_MAX);
        if (!clipped || pm_graph_warn_about(c->g, file, clipped) < 0)
                r = pm__gn_oom(c);
        pm_free(clipped);
        pm_free(msg);
        return r;
}

int
pm__gn_warn(struct pm__gn_ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vwarn(c, NULL, fmt, ap);
        va_end(ap);
        return r;
}

int
pm__gn_warn_target(struct pm__gn_ctx *c, const char *label, const char *fmt, ...)
{
        char *dir, *name, *tc, *file;
        va_list ap;
        int r;

        /* The file that declares it, as its crate's build_file says. */
        r = pm__gn_split_label(c, label, &dir, &name, &tc);
        if (r < 0)
                return r;
        file = pm_path_join(c->tmp, c->root, dir[0] ? dir : ".");
        file = file ? pm_path_join(c->tmp, file, "BUILD.gn") : NULL;
        if (!file)
                return pm__gn_oom(c);
        va_start(ap, fmt);
        r = vwarn(c, file, fmt, ap);
        va_end(ap);
        return r;
}

int
pm__gn_clip(const char *s, size_t max)
{
        return (int)pm_utf8_prefix_len(s, strlen(s), max);
}

/*
 * GN's path forms: "//x" is relative to the source root, "/x" is system-absolute (files and
 * build directories outside the root). Anything else is not something GN writes. The result
 * belongs to @a; *ret is NULL when @s is not a path GN would print.
 */
int
pm__gn_path(struct pm__gn_ctx *c, struct pm_arena *a, const char *s, char **ret)
{
        char *p;

        *ret = NULL;
        if (strlen(s) > PM_GN_MAX_PATH || s[0] != '/')
                return 0;
        if (s[1] == '/')
                p = pm_path_join(a, c->root, s + 2);
        else
                p = pm_path_normalize(a, NULL, s);
        if (!p)
                return pm__gn_oom(c);
        *ret = p;
        return 0;
}

/* A target path property entry: a source-absolute path, else PM_EBADTOOLOUTPUT. */
int
pm__gn_target_path(struct pm__gn_ctx *c, struct pm__gn_target *t, struct pm_arena *a,
                   const char *key, const char *s, char **ret)
{
        int r;

        r = pm__gn_path(c, a, s, ret);
        if (r < 0)
                return r;
        if (!*ret)
                return pm__gn_bad_target(c, t->label,
                                         "has %s '%.200s' that is not source-absolute ('//...')",
                                         key, s);
        return 0;
}

const char *
pm__gn_prop_name(enum pm__gn_prop prop)
{
        static const char *const names[_PM__GN_PROP_MAX] = {
                [PM__GN_PROP_TYPE] = "type",
                [PM__GN_PROP_CRATE_ROOT] = "crate_root",
                [PM__GN_PROP_CRATE_NAME] = "crate_name",
                [PM__GN_PROP_OUTPUTS] = "outputs",
                [PM__GN_PROP_DEPS] = "deps",
                [PM__GN_PROP_RUSTFLAGS] = "rustflags",
                [PM__GN_PROP_SOURCES] = "sources",
                [PM__GN_PROP_INPUTS] = "inputs",
                [PM__GN_PROP_RUSTENV] = "rustenv",
        };

        return (unsigned)prop < _PM__GN_PROP_MAX ? names[prop] : "?";
}

/* An optional array-of-strings property: NULL when absent, PM_EBADTOOLOUTPUT when mistyped. */
int
pm__gn_string_array(struct pm__gn_ctx *c, struct pm__gn_target *t, enum pm__gn_prop prop,
                    const struct pm__gn_val **ret)
{
        const struct pm__gn_val *v = &t->prop[prop];

        *ret = NULL;
        switch (v->kind) {
        case PM__GN_ABSENT:
                return 0;
        case PM__GN_STRINGS:
                *ret = v;
                return 0;
        case PM__GN_ARRAY_OTHER:
                return pm__gn_bad_target(c, t->label, "has a '%s' entry that is not a string",
                                         pm__gn_prop_name(prop));
        case PM__GN_STRING:
        case PM__GN_OTHER:
                break;
        }
        return pm__gn_bad_target(c, t->label, "has '%s' that is not an array",
                                 pm__gn_prop_name(prop));
}

const char *
pm__gn_string_prop(const struct pm__gn_target *t, enum pm__gn_prop prop)
{
        return t->prop[prop].kind == PM__GN_STRING ? t->prop[prop].s : NULL;
}

/*
 * Split "//dir:name(//tc:tcname)" into the directory ("dir", "" for the root), the name and
 * the toolchain's name ("tcname", or NULL without a suffix). Strings belong to the tmp arena.
 */
int
pm__gn_split_label(struct pm__gn_ctx *c, const char *label, char **ret_dir, char **ret_name,
                   char **ret_tc)
{
        const char *base = label + 2;
        const char *paren = strchr(base, '(');
        const char *end = paren ? paren : base + strlen(base);
        const char *colon = memchr(base, ':', (size_t)(end - base));
        char *dir, *name, *tc = NULL;

        if (colon) {
                dir = pm_arena_strndup(c->tmp, base, (size_t)(colon - base));
                name = pm_arena_strndup(c->tmp, colon + 1, (size_t)(end - colon - 1));
        } else {
                const char *slash = end;

                while (slash > base && slash[-1] != '/')
                        slash--;
                dir = pm_arena_strndup(c->tmp, base, (size_t)(end - base));
                name = pm_arena_strndup(c->tmp, slash, (size_t)(end - slash));
        }
        if (!dir || !name)
                return pm__gn_oom(c);
        if (paren) {
                const char *close = strchr(paren, ')');
                const char *tcend = close ? close : paren + strlen(paren);
                const char *tcname = tcend;

                while (tcname > paren + 1 && tcname[-1] != ':' && tcname[-1] != '/')
                        tcname--;
                tc = pm_arena_strndup(c->tmp, tcname, (size_t)(tcend - tcname));
                if (!tc)
                        return pm__gn_oom(c);
        }
        *ret_dir = dir;
        *ret_name = name;
        *ret_tc = tc;
        return 0;
}

/* Parse a `-C opt-level=...`/`-C debug-assertions=...` value of @flags the way rustc does. */
static bool
debug_assertions_on(const struct pm_strlist *flags)
{
        bool opt = false;
        int explicit_da = -1;
        size_t i;

        for (i = 0; i < flags->n; i++) {
                const char *f = flags->v[i];
                const char *cg = NULL;

                if (strcmp(f, "-O") == 0) {
                        opt = true;
                        continue;
                }
                if (strcmp(f, "-C") == 0 || strcmp(f, "--codegen") == 0) {
                        if (i + 1 < flags->n)
                                cg = flags->v[++i];
                } else if (strncmp(f, "-C", 2) == 0) {
                        cg = f + 2;
                } else if (strncmp(f, "--codegen=", 10) == 0) {
                        cg = f + 10;
                }
                if (!cg)
                        continue;
                if (strncmp(cg, "opt-level=", 10) == 0) {
                        opt = strcmp(cg + 10, "0") != 0;
                } else if (strcmp(cg, "debug-assertions") == 0) {
                        explicit_da = 1;
                } else if (strncmp(cg, "debug-assertions=", 17) == 0) {
                        const char *v = cg + 17;

                        explicit_da = strcmp(v, "on") == 0 || strcmp(v, "yes") == 0 ||
                                      strcmp(v, "y") == 0 || strcmp(v, "true") == 0;
                }
        }
        return explicit_da >= 0 ? explicit_da == 1 : !opt;
}

static int
add_include_dir_of(struct pm__gn_ctx *c, struct pm_crate *crate, const char *file)
{
        char *dir = pm_path_dirname(c->tmp, file);

        if (!dir || pm_strlist_push_unique(c->g, &crate->include_dirs, dir) < 0)
                return pm__gn_oom(c);
        return 0;
}

/* Sources (and inputs) under the build directory are generated: their dirs must be included. */
static int
add_paths(struct pm__gn_ctx *c, struct pm__gn_target *t, struct pm_crate *crate,
          enum pm__gn_prop prop, bool list)
{
        const struct pm__gn_val *arr;
        int r;

        r = pm__gn_string_array(c, t, prop, &arr);
        if (r < 0 || !arr)
                return r;
        for (size_t i = 0; i < arr->n; i++) {
                char *p;

                r = pm__gn_target_path(c, t, c->g->arena, pm__gn_prop_name(prop), arr->v[i], &p);
                if (r < 0)
                        return r;
                if (list && pm_strlist_push_unique(c->g, &crate->sources, p) < 0)
                        return pm__gn_oom(c);
                if (pm_path_is_under(p, c->out_dir)) {
                        r = add_include_dir_of(c, crate, p);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int
add_env(struct pm__gn_ctx *c, struct pm__gn_target *t, struct pm_crate *crate)
{
        const struct pm__gn_val *arr;
        int r;

        r = pm__gn_string_array(c, t, PM__GN_PROP_RUSTENV, &arr);
        if (r < 0 || !arr)
                return r;
        for (size_t i = 0; i < arr->n; i++) {
                const char *kv = arr->v[i];
                const char *eq = strchr(kv, '=');
                char *key, *value;

                if (!eq || eq == kv) {
                        r = pm__gn_warn_target(
                                c, t->label,
                                "target '%s': rustenv entry '%.*s' is not KEY=VALUE, ignoring",
                                t->label, pm__gn_clip(kv, 200), kv);
                        if (r < 0)
                                return r;
                        continue;
                }
                key = pm_arena_strndup(c->tmp, kv, (size_t)(eq - kv));
                if (!key)
                        return pm__gn_oom(c);
                value = (char *)eq + 1;
                if (strcmp(key, "OUT_DIR") == 0 && value[0]) {
                        /* rustc runs in the build directory, so a relative OUT_DIR is relative
                         * to it; rust-analyzer needs it absolute and inside include_dirs. */
                        value = pm_path_normalize(c->tmp, c->out_dir, value);
                        if (!value)
                                return pm__gn_oom(c);
                        if (pm_strlist_push_unique(c->g, &crate->include_dirs, value) < 0)
                                return pm__gn_oom(c);
                }
                if (pm_kvlist_set(c->g, &crate->env, key, value) < 0)
                        return pm__gn_oom(c);
        }
        return 0;
}

static bool
is_third_party(const struct pm__gn_ctx *c, const char *label)
{
        size_t i;

        for (i = 0; i < c->s->n_third_party; i++)
                if (strncmp(label, c->s->third_party[i], strlen(c->s->third_party[i])) == 0)
                        return true;
        return false;
}

/* Reject what rustc would reject before the shared flag reader sees it, naming the target. */
static int
check_flags(struct pm__gn_ctx *c, const struct pm__gn_target *t, const struct pm_strlist *flags)
{
        static const char *const valued[] = { "--cfg", "--edition", "--target", NULL };
        size_t i, k;

        for (i = 0; i < flags->n; i++) {
                const char *f = flags->v[i];

                for (k = 0; valued[k]; k++)
                        if (strcmp(f, valued[k]) == 0 && i + 1 == flags->n)
                                return pm__gn_bad_target(c, t->label,
                                                         "has rustflag '%s' without a value", f);
                if (strcmp(f, "--edition") == 0 && !pm_edition_valid(flags->v[i + 1]))
                        return pm__gn_bad_target(c, t->label, "has an unknown edition '%.40s'",
                                                 flags->v[i + 1]);
                if (strncmp(f, "--edition=", 10) == 0 && !pm_edition_valid(f + 10))
                        return pm__gn_bad_target(c, t->label, "has an unknown edition '%.40s'",
                                                 f + 10);
        }
        return 0;
}

/* Create the crate of Rust target @t (everything but its deps). */
int
pm__gn_build_crate(struct pm__gn_ctx *c, struct pm__gn_target *t)
{
        const struct pm__gn_val *flags;
        struct pm_crate *crate;
        char *dir = NULL, *name = NULL, *tc = NULL, *p = NULL;
        int r;

        crate = pm_graph_add_crate(c->g);
        if (!crate)
                return pm__gn_oom(c);
        t->crate = c->g->n_crates - 1;
        crate->label = pm_graph_strdup(c->g, t->label);
        crate->build_system = pm_graph_strdup(c->g, "gn");
        crate->display_name = pm_graph_strdup(c->g, t->crate_name);
        crate->crate_name = pm_graph_strdup(c->g, t->crate_name);
        crate->edition = pm_graph_strdup(c->g, c->s->default_edition);
        if (!crate->label || !crate->build_system || !crate->display_name || !crate->crate_name ||
            !crate->edition)
                return pm__gn_oom(c);
        for (p = crate->crate_name; *p; p++)
                if (*p == '-')
                        *p = '_';
        crate->kind = t->kind;
        crate->is_workspace_member = !is_third_party(c, t->label);

        r = pm__gn_target_path(c, t, c->g->arena, "crate_root",
                               pm__gn_string_prop(t, PM__GN_PROP_CRATE_ROOT), &crate->root_module);
        if (r < 0)
                return r;
        r = add_include_dir_of(c, crate, crate->root_module);
        if (r < 0)
                return r;

        r = pm__gn_string_array(c, t, PM__GN_PROP_RUSTFLAGS, &flags);
        if (r < 0)
                return r;
        for (size_t i = 0; flags && i < flags->n; i++) {
                if (pm_strlist_push(c->g, &crate->flags, flags->v[i]) < 0)
                        return pm__gn_oom(c);
        }
        r = check_flags(c, t, &crate->flags);
        if (r < 0)
                return r;
        r = pm_crate_apply_rustc_flags(c->g, crate, &crate->flags, c->err);
        if (r < 0) {
                if (r == PM_EBADTOOLOUTPUT || r == PM_ESCHEMA) {
                        (void)pm_error_prefix(c->err, "cannot parse '%s': target '%s'", c->origin,
                                              t->label);
                        c->err->code = PM_EBADTOOLOUTPUT;
                        return PM_EBADTOOLOUTPUT;
                }
                return r;
        }
        if (!pm_edition_valid(crate->edition))
                return pm__gn_bad_target(c, t->label, "has an unknown edition '%.40s'",
                                         crate->edition);
        /* rustc's built-in cfgs that the flags imply (GN passes raw rustc flags). */
        if (crate->kind == PM_CRATE_TEST && pm_strlist_push_unique(c->g, &crate->cfgs, "test") < 0)
                return pm__gn_oom(c);
        if (debug_assertions_on(&crate->flags) &&
            pm_strlist_push_unique(c->g, &crate->cfgs, "debug_assertions") < 0)
                return pm__gn_oom(c);

        r = add_paths(c, t, crate, PM__GN_PROP_SOURCES, true);
        if (r < 0)
                return r;
        r = add_paths(c, t, crate, PM__GN_PROP_INPUTS, false);
        if (r < 0)
                return r;
        r = add_env(c, t, crate);
        if (r < 0)
                return r;

        r = pm__gn_split_label(c, t->label, &dir, &name, &tc);
        if (r < 0)
                return r;
        crate->build_file = pm_path_join(c->g->arena, c->root, dir[0] ? dir : ".");
        if (crate->build_file)
                crate->build_file = pm_path_join(c->g->arena, crate->build_file, "BUILD.gn");
        if (!crate->build_file)
                return pm__gn_oom(c);
        if (t->kind == PM_CRATE_PROC_MACRO) {
                crate->proc_macro_dylib = pm_graph_strdup(c->g, t->output);
                if (!crate->proc_macro_dylib)
                        return pm__gn_oom(c);
        }
        return 0;
}
