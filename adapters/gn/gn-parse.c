/* SPDX-License-Identifier: MIT */
/* Turns GN's JSON (`gn gen --ide=json`'s project.json, or `gn desc --format=json`) into a crate
 * graph: one crate per Rust target per toolchain, deps with groups flattened, and dependency
 * renames read from the targets' ninja files. Reads files; runs nothing. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
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
has_flag(const cJSON *flags, const char *flag)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, flags)
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, flag) == 0)
                        return true;
        }
        return false;
}

/* What rustc accepts as --crate-name once '-' becomes '_' (the crate builder does that). */
static bool
crate_name_ok(const char *s)
{
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '-') ||
            ((*s == '_' || *s == '-') && !s[1]))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
                        return false;
        return true;
}

/* Classify one target-map entry and check the properties every later pass relies on. */
int
pm__gn_load_target(struct pm__gn_ctx *c, const cJSON *item, struct pm__gn_target *t)
{
        const cJSON *type, *root, *outputs, *arr;
        size_t len;
        int r;

        t->label = item->string;
        t->json = item;
        len = t->label ? strlen(t->label) : 0;
        if (len == 0 || len > PM_GN_MAX_LABEL || strncmp(t->label, "//", 2) != 0)
                return pm__gn_bad(c, "target label '%.200s' is not of the form '//dir:name'",
                                  t->label ? t->label : "");
        if (!cJSON_IsObject(item))
                return pm__gn_bad_target(c, t->label, "is not an object");
        type = cJSON_GetObjectItemCaseSensitive(item, "type");
        if (!cJSON_IsString(type))
                return pm__gn_bad_target(c, t->label, "has no 'type' string");

        root = cJSON_GetObjectItemCaseSensitive(item, "crate_root");
        if (root && !cJSON_IsString(root))
                return pm__gn_bad_target(c, t->label, "has 'crate_root' that is not a string");
        t->is_group = strcmp(type->valuestring, "group") == 0;
        t->is_rust = is_rust_type(type->valuestring, root != NULL, &t->linkable);
        if (t->is_group) {
                r = pm__gn_string_array(c, t, "deps", &arr);
                if (r < 0)
                        return r;
        }
        if (!t->is_rust)
                return 0;

        if (!root)
                return pm__gn_bad_target(c, t->label, "has no crate_root");
        t->crate_name = pm__gn_string_prop(t, "crate_name");
        if (!t->crate_name || !t->crate_name[0])
                return pm__gn_bad_target(c, t->label, "has no crate_name");
        if (!crate_name_ok(t->crate_name))
                return pm__gn_bad_target(c, t->label, "has crate_name '%.200s', not an identifier",
                                         t->crate_name);

        r = pm__gn_string_array(c, t, "rustflags", &arr);
        if (r < 0)
                return r;
        if (strcmp(type->valuestring, "rust_proc_macro") == 0)
                t->kind = PM_CRATE_PROC_MACRO;
        else if (strcmp(type->valuestring, "executable") == 0)
                t->kind = arr && has_flag(arr, "--test") ? PM_CRATE_TEST : PM_CRATE_BIN;
        else
                t->kind = PM_CRATE_LIB;

        r = pm__gn_string_array(c, t, "deps", &arr);
        if (r < 0)
                return r;
        r = pm__gn_string_array(c, t, "outputs", &outputs);
        if (r < 0)
                return r;
        if (outputs && cJSON_GetArraySize(outputs) > 0) {
                r = pm__gn_target_path(c, t, c->tmp, "outputs", cJSON_GetArrayItem(outputs, 0),
                                       &t->output);
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
        if (*n == c->cap_stack) {
                size_t cap = c->cap_stack ? 2 * c->cap_stack : 16;
                size_t *s = pm_realloc(c->stack, cap * sizeof(*s));

                if (!s)
                        return pm__gn_oom(c);
                c->stack = s;
                c->cap_stack = cap;
        }
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
        const cJSON *deps = cJSON_GetObjectItemCaseSensitive(from->json, "deps");
        const cJSON *e;
        int r;

        cJSON_ArrayForEach(e, deps)
        {
                struct pm__gn_target *d = lookup(c, e->valuestring);

                if (!d) {
                        r = pm__gn_warn(c,
                                        "target '%s': dependency '%.300s' is not in the gn output, "
                                        "ignoring",
                                        owner->label, e->valuestring);
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

/* Where GN wrote @t's ninja file: <out>/[<toolchain name>/]obj/<dir>/<name>.ninja. */
static int
ninja_path(struct pm__gn_ctx *c, const struct pm__gn_target *t, char **ret)
{
        char *dir = NULL, *name = NULL, *tc = NULL, *p = NULL;
        int r;

        r = pm__gn_split_label(c, t->label, &dir, &name, &tc);
        if (r < 0)
                return r;
        p = pm_arena_printf(c->tmp, "%s/%s%sobj/%s%s%s.ninja", c->out_dir, tc ? tc : "",
                            tc ? "/" : "", dir, dir[0] ? "/" : "", name);
        if (!p)
                return pm__gn_oom(c);
        *ret = p;
        return 0;
}

/*
 * The `--extern NAME=PATH` list of @t's ninja file, PATHs made absolute. Returns 1 when the file
 * has an externs variable, 0 when it has none or is missing (counted for one warning).
 */
static int
read_externs(struct pm__gn_ctx *c, const struct pm__gn_target *t, struct pm__gn_extern **ret_v,
             size_t *ret_n)
{
        char *path = NULL;
        size_t i;
        int r;

        r = ninja_path(c, t, &path);
        if (r < 0)
                return r;
        /* The result depends on this file, present or not (projmodel/stamp.h). */
        if (pm_strlist_push(c->g, &c->g->inputs, path) < 0)
                return pm__gn_oom(c);
        r = pm__gn_ninja_read_externs(c->tmp, path, ret_v, ret_n, c->err);
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
        if (!c->found || !c->by_output)
                return pm__gn_oom(c);
        c->n_by_output = 0;
        for (i = 0; i < c->n; i++)
                if (c->t[i].is_rust && c->t[i].linkable && c->t[i].output)
                        c->by_output[c->n_by_output++] = &c->t[i];
        if (c->n_by_output > 1)
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
                           "%zu targets have no ninja file (e.g. '%.300s'): dependency renames "
                           "(aliased_deps) are unknown and data_deps count as deps; run 'gn gen' "
                           "to fix",
                           c->n_missing_ninja, c->first_missing_ninja);
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
                                        "'%s' was generated for root '%.300s'; paths are mapped to "
                                        "'%.300s'",
                                        c->origin, rp, c->root);
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

static int
parse_doc(struct pm__gn_ctx *c, const cJSON *doc)
{
        const cJSON *targets, *bs, *item;
        bool ide;
        size_t i, n;
        char *p;
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
                r = pm__gn_load_target(c, item, &c->t[c->n]);
                if (r < 0)
                        return r;
                c->n++;
        }
        if (c->n > 1)
                qsort(c->t, c->n, sizeof(*c->t), cmp_target);
        for (i = 1; i < c->n; i++)
                if (strcmp(c->t[i - 1].label, c->t[i].label) == 0)
                        return pm__gn_bad_target(c, c->t[i].label, "appears twice");

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
        /* Besides the JSON, only the ninja files listed in inputs were read. */
        c.g->inputs_known = true;

        *ret_graph = pm_steal_ptr(&c.g);
        r = 0;
out:
        cJSON_Delete(doc);
        pm_free(c.stack);
        pm_free(c.found);
        pm_graph_free(c.g);
        pm_arena_free(c.tmp);
        return r;
}
