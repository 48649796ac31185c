/* SPDX-License-Identifier: MIT */
/* Turns GN's JSON (`gn gen --ide=json`'s project.json, or `gn desc --format=json`) into a crate
 * graph: one crate per Rust target per toolchain, deps with groups flattened, and dependency
 * renames read from the targets' ninja files. Reads files; runs nothing. Over 800 lines because
 * its passes (decode a target from the scanner's bytes or a cJSON tree, flatten its deps, read its
 * ninja renames, assemble the graph) all work on one pm__gn_ctx, and gn-incremental.c calls them
 * one by one on a partial set of targets; they stay beside the context they share. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
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

#include "adapters/gn/gn-internal.h"

static int
cmp_target(const void *a, const void *b)
{
        const struct pm__gn_target *x = a, *y = b;

        return strcmp(x->label, y->label);
}

static struct pm__gn_target *
lookup(struct pm__gn_ctx *c, const char *label)
{
        struct pm__gn_target key = { .label = label };

        return bsearch(&key, c->t, c->n, sizeof(*c->t), cmp_target);
}

static bool
is_rust_type(const char *type, bool has_crate_root, bool *ret_linkable)
{
        static const char *const binary_types[] = {
                "executable", "static_library", "shared_library", "loadable_module", NULL,
        };
        size_t i;

        *ret_linkable = false;
        if (strcmp(type, "rust_library") == 0 || strcmp(type, "rust_proc_macro") == 0) {
                *ret_linkable = true;
                return true;
        }
        for (i = 0; binary_types[i]; i++)
                if (strcmp(type, binary_types[i]) == 0)
                        return has_crate_root;
        return false;
}

static bool
has_flag(const struct pm__gn_val *flags, const char *flag)
{
        for (size_t i = 0; i < flags->n; i++)
                if (strcmp(flags->v[i], flag) == 0)
                        return true;
        return false;
}

/* ---- a target's properties, from the scanned bytes or from a cJSON tree ---- */

/*
 * The string at @p (an opening quote; the scanner checked it as strictly as cJSON does) into
 * @c->tmp. Plain strings are copied; the short escapes are decoded here; a string with a \u
 * escape goes through cJSON, so surrogates and NULs come out exactly as in a whole-document parse.
 * *ret_end is past the closing quote.
 */
static int
decode_string(struct pm__gn_ctx *c, const char *p, const char **ret, const char **ret_end)
{
        const char *q = p + 1;
        char *out, *w;

        while (*q != '"' && *q != '\\')
                q++;
        if (*q == '"') {
                *ret = pm_arena_strndup(c->tmp, p + 1, (size_t)(q - p - 1));
                *ret_end = q + 1;
                return *ret ? 0 : pm__gn_oom(c);
        }
        for (q = p + 1; *q != '"'; q++)
                if (*q == '\\')
                        q++;
        *ret_end = q + 1;
        if (memmem(p, (size_t)(q - p), "\\u", 2)) {
                cJSON *item = cJSON_ParseWithLength(p, (size_t)(q + 1 - p));

                *ret = item ? pm_arena_strdup(c->tmp, item->valuestring) : NULL;
                cJSON_Delete(item);
                return *ret ? 0 : pm__gn_oom(c);
        }
        out = pm_arena_alloc(c->tmp, (size_t)(q - p));
        if (!out)
                return pm__gn_oom(c);
        for (w = out, p++; p < q; p++) {
                if (*p != '\\') {
                        *w++ = *p;
                        continue;
                }
                switch (*++p) {
                case 'b':
                        *w++ = '\b';
                        break;
                case 'f':
                        *w++ = '\f';
                        break;
                case 'n':
                        *w++ = '\n';
                        break;
                case 'r':
                        *w++ = '\r';
                        break;
                case 't':
                        *w++ = '\t';
                        break;
                default: /* '"', '\\', '/' */
                        *w++ = *p;
                        break;
                }
        }
        *w = '\0';
        *ret = out;
        return 0;
}

static const char *
skip_ws(const char *p)
{
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
                p++;
        return p;
}

/* Past the string at @p (an opening quote). */
static const char *
skip_string(const char *p)
{
        for (p++; *p != '"'; p++)
                if (*p == '\\')
                        p++;
        return p + 1;
}

/*
 * Decode the raw JSON value @p (@len bytes, checked by the scanner) into @ret: a string, an
 * array of strings, or just what kind of value it is. The bytes past @len always hold more of
 * the checked document, so the walks below stop at the value's own closing quote or bracket.
 */
static int
decode_value(struct pm__gn_ctx *c, const char *p, size_t len, struct pm__gn_val *ret)
{
        const char *q, *end;
        size_t n = 0;
        int r;

        *ret = (struct pm__gn_val){ .kind = PM__GN_OTHER };
        if (!p) {
                ret->kind = PM__GN_ABSENT;
                return 0;
        }
        if (len > 0 && *p == '"') {
                ret->kind = PM__GN_STRING;
                return decode_string(c, p, &ret->s, &end);
        }
        if (len == 0 || *p != '[')
                return 0;
        /* Count the entries; any that is not a string settles it. */
        for (q = skip_ws(p + 1); *q != ']';) {
                if (*q != '"') {
                        ret->kind = PM__GN_ARRAY_OTHER;
                        return 0;
                }
                q = skip_ws(skip_string(q));
                n++;
                if (*q == ',')
                        q = skip_ws(q + 1);
        }
        ret->kind = PM__GN_STRINGS;
        ret->n = n;
        ret->v = pm_arena_alloc(c->tmp, (n ? n : 1) * sizeof(*ret->v));
        if (!ret->v)
                return pm__gn_oom(c);
        q = skip_ws(p + 1);
        for (size_t i = 0; i < n; i++) {
                r = decode_string(c, q, &ret->v[i], &end);
                if (r < 0)
                        return r;
                q = skip_ws(end);
                if (*q == ',')
                        q = skip_ws(q + 1);
        }
        return 0;
}

int
pm__gn_target_from_span(struct pm__gn_ctx *c, const struct pm__gn_span *sp, struct pm__gn_target *t)
{
        int r;

        memset(t, 0, sizeof(*t));
        t->label = pm_arena_strndup(c->tmp, sp->key, sp->key_len);
        if (!t->label)
                return pm__gn_oom(c);
        t->is_object = sp->value_len > 0 && sp->value[0] == '{';
        for (size_t i = 0; i < _PM__GN_PROP_MAX; i++) {
                r = decode_value(c, sp->prop[i], sp->prop_len[i], &t->prop[i]);
                if (r < 0)
                        return r;
        }
        return pm__gn_load_target(c, t);
}

/* The same from a cJSON value (strings borrowed from the tree, which outlives the parse). */
static int
val_from_json(struct pm__gn_ctx *c, const cJSON *item, struct pm__gn_val *ret)
{
        const cJSON *e;
        size_t n = 0;

        *ret = (struct pm__gn_val){ .kind = PM__GN_OTHER };
        if (!item) {
                ret->kind = PM__GN_ABSENT;
        } else if (cJSON_IsString(item)) {
                ret->kind = PM__GN_STRING;
                ret->s = item->valuestring;
        } else if (cJSON_IsArray(item)) {
                cJSON_ArrayForEach(e, item)
                {
                        if (!cJSON_IsString(e)) {
                                ret->kind = PM__GN_ARRAY_OTHER;
                                return 0;
                        }
                        n++;
                }
                ret->kind = PM__GN_STRINGS;
                ret->n = n;
                ret->v = pm_arena_alloc(c->tmp, (n ? n : 1) * sizeof(*ret->v));
                if (!ret->v)
                        return pm__gn_oom(c);
                n = 0;
                for (e = item->child; e; e = e->next)
                        ret->v[n++] = e->valuestring;
        }
        return 0;
}

static int
target_from_json(struct pm__gn_ctx *c, const cJSON *item, struct pm__gn_target *t)
{
        int r;

        memset(t, 0, sizeof(*t));
        t->label = item->string;
        t->is_object = cJSON_IsObject(item);
        for (size_t i = 0; t->is_object && i < _PM__GN_PROP_MAX; i++) {
                r = val_from_json(c,
                                  cJSON_GetObjectItemCaseSensitive(
                                          item, pm__gn_prop_name((enum pm__gn_prop)i)),
                                  &t->prop[i]);
                if (r < 0)
                        return r;
        }
        return pm__gn_load_target(c, t);
}

/* Classify one target-map entry and check the properties every later pass relies on. */
int
pm__gn_load_target(struct pm__gn_ctx *c, struct pm__gn_target *t)
{
        const struct pm__gn_val *root = &t->prop[PM__GN_PROP_CRATE_ROOT];
        const struct pm__gn_val *outputs, *arr;
        const char *type;
        size_t len;
        int r;

        len = t->label ? strlen(t->label) : 0;
        if (len == 0 || len > PM_GN_MAX_LABEL || strncmp(t->label, "//", 2) != 0)
                return pm__gn_bad(c, "target label '%.200s' is not of the form '//dir:name'",
                                  t->label ? t->label : "");
        if (!t->is_object)
                return pm__gn_bad_target(c, t->label, "is not an object");
        type = pm__gn_string_prop(t, PM__GN_PROP_TYPE);
        if (!type)
                return pm__gn_bad_target(c, t->label, "has no 'type' string");

        if (root->kind != PM__GN_ABSENT && root->kind != PM__GN_STRING)
                return pm__gn_bad_target(c, t->label, "has 'crate_root' that is not a string");
        t->is_group = strcmp(type, "group") == 0;
        t->is_rust = is_rust_type(type, root->kind != PM__GN_ABSENT, &t->linkable);
        if (t->is_group) {
                r = pm__gn_string_array(c, t, PM__GN_PROP_DEPS, &arr);
                if (r < 0)
                        return r;
        }
        if (!t->is_rust)
                return 0;

        if (root->kind == PM__GN_ABSENT)
                return pm__gn_bad_target(c, t->label, "has no crate_root");
        t->crate_name = pm__gn_string_prop(t, PM__GN_PROP_CRATE_NAME);
        if (!t->crate_name || !t->crate_name[0])
                return pm__gn_bad_target(c, t->label, "has no crate_name");
        if (!pm_crate_name_valid(t->crate_name, true))
                return pm__gn_bad_target(c, t->label, "has crate_name '%.200s', not an identifier",
                                         t->crate_name);

        r = pm__gn_string_array(c, t, PM__GN_PROP_RUSTFLAGS, &arr);
        if (r < 0)
                return r;
        if (strcmp(type, "rust_proc_macro") == 0)
                t->kind = PM_CRATE_PROC_MACRO;
        else if (strcmp(type, "executable") == 0)
                t->kind = arr && has_flag(arr, "--test") ? PM_CRATE_TEST : PM_CRATE_BIN;
        else
                t->kind = PM_CRATE_LIB;

        r = pm__gn_string_array(c, t, PM__GN_PROP_DEPS, &arr);
        if (r < 0)
                return r;
        r = pm__gn_string_array(c, t, PM__GN_PROP_OUTPUTS, &outputs);
        if (r < 0)
                return r;
        if (outputs && outputs->n > 0) {
                r = pm__gn_target_path(c, t, c->tmp, "outputs", outputs->v[0], &t->output);
                if (r < 0)
                        return r;
        }
        if (t->kind == PM_CRATE_PROC_MACRO && !t->output)
                return pm__gn_bad_target(c, t->label, "is a proc macro without 'outputs'");
        return 0;
}

static int
push_stack(struct pm__gn_ctx *c, size_t idx, size_t *n)
{
        if (pm_grow(&c->stack, &c->cap_stack, *n + 1, 16) < 0)
                return pm__gn_oom(c);
        c->stack[(*n)++] = idx;
        return 0;
}

/*
 * Visit the deps of @from: Rust libraries are collected in @ret (indexes, tmp arena), groups
 * are pushed for expansion (a group's deps replace it), everything else is ignored. @owner is
 * the Rust target whose deps these are, for warnings.
 */
static int
visit_deps(struct pm__gn_ctx *c, const struct pm__gn_target *owner,
           const struct pm__gn_target *from, size_t *ret, size_t *n_ret, size_t *n_stack)
{
        const struct pm__gn_val *deps = &from->prop[PM__GN_PROP_DEPS];
        int r;

        for (size_t i = 0; deps->kind == PM__GN_STRINGS && i < deps->n; i++) {
                struct pm__gn_target *d = lookup(c, deps->v[i]);

                if (!d) {
                        r = pm__gn_warn_target(c, owner->label,
                                               "target '%s': dependency '%.*s' is not in the gn "
                                               "output, ignoring",
                                               owner->label, pm__gn_clip(deps->v[i], 300),
                                               deps->v[i]);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (d->mark == c->mark)
                        continue;
                d->mark = c->mark;
                if (d->is_rust && d->linkable) {
                        ret[(*n_ret)++] = (size_t)(d - c->t);
                } else if (d->is_group) {
                        r = push_stack(c, (size_t)(d - c->t), n_stack);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static size_t
put(char *buf, size_t at, size_t size, const char *s, size_t n)
{
        if (at < size && n < size - at)
                memcpy(buf + at, s, n);
        return at + n;
}

size_t
pm__gn_ninja_rel(const char *label, size_t len, char *buf, size_t size)
{
        const char *base = label + 2, *end = label + len;
        const char *paren = memchr(base, '(', (size_t)(end - base));
        const char *nend = paren ? paren : end;
        const char *colon = memchr(base, ':', (size_t)(nend - base));
        const char *dend = colon ? colon : nend, *name = colon ? colon + 1 : nend;
        size_t n = 0;

        if (!colon)
                while (name > base && name[-1] != '/')
                        name--;
        if (paren) {
                const char *close = memchr(paren, ')', (size_t)(end - paren));
                const char *tcend = close ? close : end, *tc = tcend;

                while (tc > paren + 1 && tc[-1] != ':' && tc[-1] != '/')
                        tc--;
                n = put(buf, n, size, tc, (size_t)(tcend - tc));
                n = put(buf, n, size, "/", 1);
        }
        n = put(buf, n, size, "obj/", 4);
        n = put(buf, n, size, base, (size_t)(dend - base));
        if (dend > base)
                n = put(buf, n, size, "/", 1);
        n = put(buf, n, size, name, (size_t)(nend - name));
        n = put(buf, n, size, ".ninja", 6);
        if (n >= size)
                return 0;
        buf[n] = '\0';
        return n;
}

int
pm__gn_ninja_path(struct pm__gn_ctx *c, const char *label, char **ret)
{
        size_t len = strlen(label), dl = strlen(c->out_dir);
        /* The relative path is at most the label plus "/" "obj/" "/" ".ninja". */
        size_t size = dl + 1 + len + 16;
        char *p = pm_arena_alloc(c->tmp, size);

        if (!p)
                return pm__gn_oom(c);
        memcpy(p, c->out_dir, dl);
        p[dl] = '/';
        if (pm__gn_ninja_rel(label, len, p + dl + 1, size - dl - 1) == 0)
                return pm__gn_oom(c);
        *ret = p;
        return 0;
}

static void
open_out_dir(struct pm__gn_ctx *c)
{
        if (c->out_dir_opened)
                return;
        /* One walk to the build directory; each ninja file is opened from there. */
        c->out_dir_opened = true;
        c->out_dir_fd = strcmp(c->out_dir, "/") != 0
                                ? open(c->out_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
                                : -1;
}

/*
 * The `--extern NAME=PATH` list of @t's ninja file, PATHs made absolute. Returns 1 when the file
 * has an externs variable, 0 when it has none or is missing (counted for one warning).
 */
static int
read_externs(struct pm__gn_ctx *c, const struct pm__gn_target *t, struct pm__gn_extern **ret_v,
             size_t *ret_n)
{
        const struct pm__gn_prefetch_slot *pre = t->prefetch;
        struct pm_stamp_file file;
        char *path = NULL;
        size_t i;
        int r;

        if (pre)
                path = (char *)pre->path;
        else {
                r = pm__gn_ninja_path(c, t->label, &path);
                if (r < 0)
                        return r;
        }
        /* The result depends on this file, present or not (projmodel/stamp.h). */
        if (pm_strlist_push(c->g, &c->g->inputs, path) < 0)
                return pm__gn_oom(c);
        if (pre && (pre->r >= 0 || pre->r == -ENOENT || pre->r == -ENOTDIR)) {
                /* Read ahead; an error is met again below, with its message. */
                r = pre->r;
                file = pre->file;
                *ret_v = pre->ext;
                *ret_n = pre->n_ext;
        } else {
                open_out_dir(c);
                r = pm__gn_ninja_read_externs_at(c->tmp, c->out_dir_fd,
                                                 path + strlen(c->out_dir) + 1, path, &file, ret_v,
                                                 ret_n, c->err);
        }
        /* What the stamp records of it, seen as it was read (one stat() less per file). */
        if (c->g->input_files && c->g->inputs.n <= c->cap_input_files)
                c->g->input_files[c->g->inputs.n - 1] = file;
        else
                c->g->input_files = NULL;
        if (r == -ENOENT || r == -ENOTDIR) {
                pm_error_init(c->err);
                if (c->n_missing_ninja++ == 0)
                        c->first_missing_ninja = path;
                return 0;
        }
        if (r <= 0)
                return r;
        for (i = 0; i < *ret_n; i++) {
                char *abs = pm_path_normalize(c->tmp, c->out_dir, (*ret_v)[i].path);

                if (!abs)
                        return pm__gn_oom(c);
                (*ret_v)[i].path = abs;
        }
        return 1;
}

void
pm__gn_ctx_close(struct pm__gn_ctx *c)
{
        pm__gn_prefetch_free(c);
        if (c->out_dir_opened && c->out_dir_fd >= 0)
                (void)close(c->out_dir_fd);
        c->out_dir_opened = false;
        c->out_dir_fd = -1;
}

static int
cmp_output(const void *a, const void *b)
{
        const struct pm__gn_target *const *x = a, *const *y = b;

        return strcmp((*x)->output, (*y)->output);
}

/* The linkable Rust target whose first output is @path, or NULL. */
static struct pm__gn_target *
lookup_output(struct pm__gn_ctx *c, const char *path)
{
        struct pm__gn_target key = { .output = (char *)path }, *kp = &key, **hit;

        hit = bsearch(&kp, c->by_output, c->n_by_output, sizeof(*c->by_output), cmp_output);
        return hit ? *hit : NULL;
}

/* Allocate c->found and index the linkable Rust targets of c->t by output, for add_deps. */
int
pm__gn_index_outputs(struct pm__gn_ctx *c)
{
        size_t i;

        c->found = pm_malloc((c->n ? c->n : 1) * sizeof(*c->found));
        c->by_output = pm_arena_alloc(c->tmp, (c->n ? c->n : 1) * sizeof(*c->by_output));
        /* add_deps reads at most one ninja file per target. */
        c->cap_input_files = c->n + 1;
        c->g->input_files =
                c->g->inputs.n == 0
                        ? pm_arena_alloc(c->g->arena,
                                         c->cap_input_files * sizeof(*c->g->input_files))
                        : NULL;
        if (!c->found || !c->by_output || (c->g->inputs.n == 0 && !c->g->input_files))
                return pm__gn_oom(c);
        c->n_by_output = 0;
        for (i = 0; i < c->n; i++)
                if (c->t[i].is_rust && c->t[i].linkable && c->t[i].output)
                        c->by_output[c->n_by_output++] = &c->t[i];
        for (i = 1; i < c->n_by_output; i++)
                if (cmp_output(&c->by_output[i - 1], &c->by_output[i]) > 0)
                        break;
        if (i < c->n_by_output)
                qsort(c->by_output, c->n_by_output, sizeof(*c->by_output), cmp_output);
        return 0;
}

/* One warning for all the Rust targets add_deps found without a ninja file. */
int
pm__gn_warn_missing_ninja(struct pm__gn_ctx *c)
{
        if (c->n_missing_ninja == 0)
                return 0;
        return pm__gn_warn(c,
                           "%zu targets have no ninja file (e.g. '%.*s'): dependency renames "
                           "(aliased_deps) are unknown and data_deps count as deps; run 'gn gen' "
                           "to fix",
                           c->n_missing_ninja, pm__gn_clip(c->first_missing_ninja, 300),
                           c->first_missing_ninja);
}

/*
 * The deps of Rust target @t. GN's JSON `deps` mixes linked deps with data_deps and shows no
 * renames; the ninja file's externs line is exactly what rustc gets. So: candidates come from
 * the JSON (groups flattened); when the ninja file has an externs line, it decides which
 * targets are deps and under which names; without it the candidates are used under their crate
 * names.
 */
int
pm__gn_add_deps(struct pm__gn_ctx *c, struct pm__gn_target *t)
{
        struct pm__gn_extern *ext = NULL;
        size_t n_found = 0, n_stack = 0, n_ext = 0, i;
        int r;

        c->mark++;
        t->mark = c->mark;
        r = visit_deps(c, t, t, c->found, &n_found, &n_stack);
        while (r >= 0 && n_stack > 0) {
                const struct pm__gn_target *grp = &c->t[c->stack[--n_stack]];

                r = visit_deps(c, t, grp, c->found, &n_found, &n_stack);
        }
        if (r < 0 || n_found == 0)
                return r;

        r = read_externs(c, t, &ext, &n_ext);
        if (r < 0)
                return r;
        if (r == 0) {
                for (i = 0; i < n_found; i++) {
                        if (pm_crate_add_dep(c->g, &c->g->crates[t->crate], c->t[c->found[i]].label,
                                             NULL) < 0)
                                return pm__gn_oom(c);
                }
                return 0;
        }

        c->mark++;
        t->mark = c->mark;
        for (i = 0; i < n_ext; i++) {
                struct pm__gn_target *d = lookup_output(c, ext[i].path);
                const char *name = NULL;

                /* Prebuilt externs (a target's own `externs`) are not crates of the model. */
                if (!d || d->mark == c->mark)
                        continue;
                d->mark = c->mark;
                if (strcmp(ext[i].name, d->crate_name) != 0)
                        name = ext[i].name;
                if (pm_crate_add_dep(c->g, &c->g->crates[t->crate], d->label, name) < 0)
                        return pm__gn_oom(c);
        }
        return 0;
}

static int
add_build_file(struct pm__gn_ctx *c, const char *path)
{
        /*
         * With the `args` setting every `gn gen --args=...` rewrites <out>/args.gn (GN does not
         * write it only-if-changed), so watching it would make each query trigger the next.
         * The setting lives in .projmodel.json, which is watched anyway.
         */
        if (c->s->args && strcmp(pm_path_basename(path), "args.gn") == 0 &&
            pm_path_is_under(path, c->out_dir))
                return 0;
        /* Duplicates go in finish_build_files(): thousands of files make per-push checks
         * quadratic. */
        if (pm_strlist_push(c->g, &c->g->build_files, path) < 0)
                return pm__gn_oom(c);
        return 0;
}

/* build_settings of the IDE JSON: the build directory and GN's own watch list. */
static int
load_build_settings(struct pm__gn_ctx *c, const cJSON *bs)
{
        const cJSON *item, *e;
        int r;

        if (!cJSON_IsObject(bs))
                return pm__gn_bad(c, "'build_settings' is not an object");

        item = cJSON_GetObjectItemCaseSensitive(bs, "root_path");
        if (item) {
                char *rp;

                if (!cJSON_IsString(item) || !pm_path_is_absolute(item->valuestring) ||
                    strlen(item->valuestring) > PM_GN_MAX_PATH)
                        return pm__gn_bad(c, "'build_settings.root_path' is not an absolute path");
                rp = pm_path_normalize(c->tmp, NULL, item->valuestring);
                if (!rp)
                        return pm__gn_oom(c);
                if (strcmp(rp, c->root) != 0) {
                        r = pm__gn_warn(c,
                                        "'%s' was generated for root '%.*s'; paths are mapped to "
                                        "'%.*s'",
                                        c->origin, pm__gn_clip(rp, 300), rp,
                                        pm__gn_clip(c->root, 300), c->root);
                        if (r < 0)
                                return r;
                }
        }

        item = cJSON_GetObjectItemCaseSensitive(bs, "default_toolchain");
        if (item) {
                if (!cJSON_IsString(item))
                        return pm__gn_bad(c, "'build_settings.default_toolchain' is not a string");
                c->default_toolchain = item->valuestring;
        }

        item = cJSON_GetObjectItemCaseSensitive(bs, "build_dir");
        if (item) {
                char *dir = NULL;

                if (cJSON_IsString(item)) {
                        r = pm__gn_path(c, c->tmp, item->valuestring, &dir);
                        if (r < 0)
                                return r;
                }
                if (!dir)
                        return pm__gn_bad(
                                c, "'build_settings.build_dir' is not a source-absolute path");
                c->out_dir = dir;
        }

        item = cJSON_GetObjectItemCaseSensitive(bs, "gen_input_files");
        if (item && !cJSON_IsArray(item))
                return pm__gn_bad(c, "'build_settings.gen_input_files' is not an array");
        cJSON_ArrayForEach(e, item)
        {
                char *p = NULL;

                if (cJSON_IsString(e)) {
                        r = pm__gn_path(c, c->g->arena, e->valuestring, &p);
                        if (r < 0)
                                return r;
                }
                if (!p)
                        return pm__gn_bad(c,
                                          "'build_settings.gen_input_files' holds '%.200s', not a "
                                          "source-absolute path",
                                          cJSON_IsString(e) ? e->valuestring : "(not a string)");
                r = add_build_file(c, p);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Every pass after the targets are loaded into c->t (in document order). */
static int
finish_parse(struct pm__gn_ctx *c, bool ide)
{
        size_t i;
        char *p;
        int r;

        /* GN writes its targets sorted, which one pass proves (and then no label appears
         * twice). */
        for (i = 1; i < c->n; i++)
                if (strcmp(c->t[i - 1].label, c->t[i].label) >= 0)
                        break;
        if (i < c->n) {
                qsort(c->t, c->n, sizeof(*c->t), cmp_target);
                for (i = 1; i < c->n; i++)
                        if (strcmp(c->t[i - 1].label, c->t[i].label) == 0)
                                return pm__gn_bad_target(c, c->t[i].label, "appears twice");
        }

        for (i = 0; i < c->n; i++) {
                if (!c->t[i].is_rust)
                        continue;
                r = pm__gn_build_crate(c, &c->t[i]);
                if (r < 0)
                        return r;
        }
        r = pm__gn_index_outputs(c);
        if (r < 0)
                return r;
        pm__gn_prefetch_finish(c);
        for (i = 0; i < c->n; i++) {
                if (!c->t[i].is_rust)
                        continue;
                r = pm__gn_add_deps(c, &c->t[i]);
                if (r < 0)
                        return r;
        }
        r = pm__gn_warn_missing_ninja(c);
        if (r < 0)
                return r;

        if (!ide) {
                /* desc output lists no inputs: watch what declares the crates. */
                p = pm_path_join(c->g->arena, c->root, ".gn");
                if (!p)
                        return pm__gn_oom(c);
                r = add_build_file(c, p);
                if (r < 0)
                        return r;
                for (i = 0; i < c->g->n_crates; i++) {
                        r = add_build_file(c, c->g->crates[i].build_file);
                        if (r < 0)
                                return r;
                }
        }
        p = pm_path_join(c->g->arena, c->out_dir, "args.gn");
        if (!p)
                return pm__gn_oom(c);
        r = add_build_file(c, p);
        if (r < 0)
                return r;
        pm_strlist_sort_unique(&c->g->build_files);
        return 0;
}

/* The whole document as a cJSON tree: `gn desc` output, and shapes the scanner does not model. */
static int
parse_doc(struct pm__gn_ctx *c, const cJSON *doc)
{
        const cJSON *targets, *bs, *item;
        bool ide;
        size_t n;
        int r;

        if (!cJSON_IsObject(doc))
                return pm__gn_bad(c, "not a JSON object");
        bs = cJSON_GetObjectItemCaseSensitive(doc, "build_settings");
        targets = cJSON_GetObjectItemCaseSensitive(doc, "targets");
        ide = bs || targets;
        if (ide) {
                if (!cJSON_IsObject(targets))
                        return pm__gn_bad(c, "'targets' is missing or not an object");
                if (bs) {
                        r = load_build_settings(c, bs);
                        if (r < 0)
                                return r;
                }
        } else {
                /* `gn desc --format=json`: the document is the target map itself. */
                targets = doc;
        }

        n = 0;
        cJSON_ArrayForEach(item, targets)
        {
                if (++n > PM_GN_MAX_TARGETS)
                        return pm_error_set_at(c->err, PM_ELIMIT, c->origin, 0, 0,
                                               "cannot parse '%s': more than %d targets", c->origin,
                                               PM_GN_MAX_TARGETS);
        }
        c->t = pm_arena_alloc(c->tmp, (n ? n : 1) * sizeof(*c->t));
        if (!c->t)
                return pm__gn_oom(c);
        c->n = 0;
        cJSON_ArrayForEach(item, targets)
        {
                r = target_from_json(c, item, &c->t[c->n]);
                if (r < 0)
                        return r;
                c->n++;
        }
        return finish_parse(c, ide);
}

/*
 * An IDE document the scanner modelled (sc->ide, not sc->unsure): only build_settings goes
 * through cJSON; each target's properties are decoded from its bytes.
 */
/* Raw type values of the Rust targets whose ninja file add_deps can read (a binary needs a
 * crate_root too). Anything spelled otherwise is simply not read ahead. */
bool
pm__gn_may_read_ninja(const struct pm__gn_span *sp)
{
        static const char *const linkable[] = { "\"rust_library\"", "\"rust_proc_macro\"", NULL };
        static const char *const binary[] = { "\"executable\"", "\"static_library\"",
                                              "\"shared_library\"", "\"loadable_module\"", NULL };
        const char *type = sp->prop[PM__GN_PROP_TYPE];
        size_t len = sp->prop_len[PM__GN_PROP_TYPE];

        /* No deps, no ninja file read. */
        if (!type || !sp->prop[PM__GN_PROP_DEPS] ||
            !memchr(sp->prop[PM__GN_PROP_DEPS], '"', sp->prop_len[PM__GN_PROP_DEPS]))
                return false;
        for (size_t i = 0; linkable[i]; i++)
                if (len == strlen(linkable[i]) && memcmp(type, linkable[i], len) == 0)
                        return true;
        for (size_t i = 0; binary[i]; i++)
                if (len == strlen(binary[i]) && memcmp(type, binary[i], len) == 0)
                        return sp->prop[PM__GN_PROP_CRATE_ROOT] != NULL;
        return false;
}

/*
 * Start reading ahead the ninja files add_deps will likely read; *ret_slot_of maps each span
 * to its slot (NULL entries, or no map at all when nothing is read ahead).
 */
static int
start_prefetch(struct pm__gn_ctx *c, const struct pm__gn_scan *sc,
               struct pm__gn_prefetch_slot ***ret_slot_of)
{
        struct pm__gn_prefetch_slot **slot_of, *slots;
        const char **paths;
        size_t n = 0;
        int r;

        *ret_slot_of = NULL;
        slot_of = pm_arena_alloc(c->tmp, (sc->n + 1) * sizeof(*slot_of));
        paths = pm_arena_alloc(c->tmp, (sc->n + 1) * sizeof(*paths));
        if (!slot_of || !paths)
                return pm__gn_oom(c);
        for (size_t i = 0; i < sc->n; i++) {
                const struct pm__gn_span *sp = &sc->v[i];
                char *label, *path;

                if (!pm__gn_may_read_ninja(sp))
                        continue;
                label = pm_arena_strndup(c->tmp, sp->key, sp->key_len);
                if (!label)
                        return pm__gn_oom(c);
                /* A label the parse rejects later is not read ahead either. */
                if (sp->key_len < 2 || sp->key_len > PM_GN_MAX_LABEL ||
                    strncmp(label, "//", 2) != 0)
                        continue;
                r = pm__gn_ninja_path(c, label, &path);
                if (r < 0)
                        return r;
                paths[n++] = path;
        }
        open_out_dir(c);
        r = pm__gn_prefetch_start(c, paths, n, &slots);
        if (r < 0 || !slots)
                return r;
        n = 0;
        for (size_t i = 0; i < sc->n; i++) {
                const struct pm__gn_span *sp = &sc->v[i];

                slot_of[i] = NULL;
                if (!pm__gn_may_read_ninja(sp) || sp->key_len < 2 ||
                    sp->key_len > PM_GN_MAX_LABEL || memcmp(sp->key, "//", 2) != 0)
                        continue;
                slot_of[i] = &slots[n++];
        }
        *ret_slot_of = slot_of;
        return 0;
}

static int
parse_scanned(struct pm__gn_ctx *c, const struct pm__gn_scan *sc)
{
        struct pm__gn_prefetch_slot **slot_of = NULL;
        int r;

        if (sc->settings) {
                /* The bytes passed the scanner's check, as strict as cJSON: NULL is OOM. */
                cJSON *bs = cJSON_ParseWithLength(sc->settings, sc->settings_len);

                if (!bs)
                        return pm__gn_oom(c);
                r = load_build_settings(c, bs);
                if (r >= 0 && c->default_toolchain) {
                        /* It points into @bs: keep a copy. */
                        c->default_toolchain = pm_arena_strdup(c->tmp, c->default_toolchain);
                        if (!c->default_toolchain)
                                r = pm__gn_oom(c);
                }
                cJSON_Delete(bs);
                if (r < 0)
                        return r;
        }
        c->t = pm_arena_alloc(c->tmp, (sc->n ? sc->n : 1) * sizeof(*c->t));
        if (!c->t)
                return pm__gn_oom(c);
        r = start_prefetch(c, sc, &slot_of);
        if (r < 0)
                return r;
        for (c->n = 0; c->n < sc->n; c->n++) {
                r = pm__gn_target_from_span(c, &sc->v[c->n], &c->t[c->n]);
                if (r < 0)
                        return r;
                c->t[c->n].prefetch = slot_of ? slot_of[c->n] : NULL;
        }
        return finish_parse(c, true);
}

int
pm__gn_parse(const struct pm_query *q, const struct pm__gn_settings *settings,
             const struct pm_blob *blob, struct pm_graph **ret_graph, struct pm_error *err)
{
        struct pm__gn_ctx c = {
                .q = q,
                .s = settings,
                .origin = blob->origin ? blob->origin : "gn output",
                .err = err,
        };
        struct pm__gn_scan scan = { 0 };
        size_t max = PM_GN_MAX_JSON_BYTES;
        cJSON *doc = NULL;
        size_t off = 0;
        int r;

        if (q->config && q->config->max_tool_output)
                max = q->config->max_tool_output;
        if (blob->len > max)
                return pm_error_set_at(err, PM_ELIMIT, c.origin, 0, 0,
                                       "cannot parse '%s': %zu bytes is more than the %zu allowed",
                                       c.origin, blob->len, max);
        if (!blob->data || blob->len == 0)
                return pm_error_set_at(err, PM_EBADTOOLOUTPUT, c.origin, 0, 0,
                                       "cannot parse '%s': empty output", c.origin);

        c.root = q->project->root;
        c.tmp = pm_arena_new();
        c.g = pm_graph_new();
        if (!c.tmp || !c.g) {
                r = pm__gn_oom(&c);
                goto out;
        }
        c.out_dir = pm_arena_strdup(c.tmp, settings->out_dir);
        if (!c.out_dir) {
                r = pm__gn_oom(&c);
                goto out;
        }

        /* Usually the scanner finds every target's properties without a tree. */
        r = pm__gn_scan(blob->data, blob->len, &scan, &off);
        if (r == -ENOMEM) {
                r = pm__gn_oom(&c);
                goto out;
        }
        if (r == 0 && scan.ide && !scan.unsure) {
                r = parse_scanned(&c, &scan);
                if (r < 0)
                        goto out;
                goto done;
        }

        /* cJSON says NULL both for bad syntax and for a failed allocation: check first. */
        r = pm__json_check(blob->data, blob->len, &off);
        if (r == -1) {
                r = pm_error_set_at(err, PM_ELIMIT, c.origin, 0, 0,
                                    "cannot parse '%s': JSON nested deeper than %d at byte %zu",
                                    c.origin, PM_ADAPTER_MAX_JSON_DEPTH, off);
                goto out;
        }
        if (r < 0) {
                r = pm_error_set_at(err, PM_EBADTOOLOUTPUT, c.origin, 0, 0,
                                    "cannot parse '%s': invalid JSON at byte %zu", c.origin, off);
                goto out;
        }
        if (off < blob->len) {
                r = pm_error_set_at(err, PM_EBADTOOLOUTPUT, c.origin, 0, 0,
                                    "cannot parse '%s': trailing data at byte %zu", c.origin, off);
                goto out;
        }
        doc = cJSON_ParseWithLength(blob->data, blob->len);
        if (!doc) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }

        r = parse_doc(&c, doc);
        if (r < 0)
                goto out;
done:
        /* Besides the JSON, only the ninja files listed in inputs were read. */
        c.g->inputs_known = true;

        *ret_graph = pm_steal_ptr(&c.g);
        r = 0;
out:
        pm__gn_ctx_close(&c);
        pm__gn_scan_release(&scan);
        cJSON_Delete(doc);
        pm_free(c.stack);
        pm_free(c.found);
        pm_graph_free(c.g);
        pm_arena_free(c.tmp);
        return r;
}
