/* SPDX-License-Identifier: MIT */
/* Bazel query output (cquery --output=jsonproto, query --output=streamed_jsonproto) to a crate
 * graph: the entry point, the shared error helpers, buildfiles() and partial results. The parser's
 * steps live in label.c, attr.c, collect.c, crate.c and failed.c. Reads bytes only; never runs
 * Bazel. */
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

int
pm__bazel_oom(struct pm__bazel_ctx *c)
{
        return pm_error_set(c->err, -ENOMEM, "out of memory parsing '%s'", c->origin);
}

int
pm__bazel_bad(struct pm__bazel_ctx *c, const char *label, const char *fmt, ...)
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
add_buildfiles(struct pm__bazel_ctx *c, const struct pm_blob *b)
{
        const char *p = b->data, *end = b->data + b->len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                char *line = pm_arena_strndup(c->g->arena, p, (size_t)(le - p));
                struct pm__bazel_label l;
                char *path;
                int e;

                if (!line)
                        return pm__bazel_oom(c);
                p = le + 1;
                if (!*line || line[0] == '@')
                        continue;
                e = pm__bazel_label_parse(c, line, NULL, "", &l);
                if (e == -ENOMEM)
                        return pm__bazel_oom(c);
                if (e < 0)
                        return pm__bazel_bad(c, NULL, "'buildfiles' printed an invalid label '%s'",
                                             line);
                if (*l.pkg && pm__bazel_through_link(&c->links, c->q->project->root, l.pkg))
                        continue; /* seen through the user's bazel-<workspace> link */
                path = pm__bazel_label_path(c, &l);
                if (!path)
                        return pm__bazel_bad(c, NULL, "'buildfiles' printed an invalid label '%s'",
                                             line);
                if (pm_strlist_push(c->g, &c->g->build_files, path) < 0)
                        return pm__bazel_oom(c);
        }
        return 0;
}

/* Drop the crates not declared by a covered build file (partial graphs describe only those). */
static int
keep_covered(struct pm__bazel_ctx *c, const char *const *covered, size_t n_covered)
{
        size_t j = 0;

        for (size_t i = 0; i < c->n_rules; i++) {
                struct pm__bazel_rule *r = &c->rules[i], *own;

                if (!r->fold_label || !in_list(covered, n_covered, r->build_file))
                        continue;
                own = pm__bazel_owner(c, r);
                if (own && own->crate >= 0 && !in_list(covered, n_covered, own->build_file)) {
                        char *w = pm_graph_printf(
                                c->g,
                                "target '%s': its crate '%s' is outside the re-queried packages, ignoring until the next full query",
                                r->label, own->label);

                        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0)
                                return pm__bazel_oom(c);
                }
        }
        for (size_t i = 0; i < c->g->n_crates; i++)
                if (in_list(covered, n_covered, c->g->crates[i].build_file))
                        c->g->crates[j++] = c->g->crates[i];
        c->g->n_crates = j;
        c->g->partial = true;
        for (size_t i = 0; i < n_covered; i++)
                if (pm_strlist_push_unique(c->g, &c->g->covered, covered[i]) < 0)
                        return pm__bazel_oom(c);
        return 0;
}

/*
 * Leave out the crates that depend on a target of a package Bazel could not load (c->lost), and
 * those that depend on them, as cquery's failed analysis does: their build files join g->failed,
 * so the apply keeps them as they were, edges included, and no crate of the graph has an edge to
 * a crate the model may not have.
 */
static int
drop_lost(struct pm__bazel_ctx *c)
{
        size_t j = 0, n = c->g->n_crates;
        long *map = NULL;
        bool more = true;

        while (more) {
                more = false;
                for (size_t i = 0; i < n; i++) {
                        const struct pm_crate *cr = &c->g->crates[i];

                        for (size_t k = 0; !c->lost[i] && k < cr->n_deps; k++) {
                                const struct pm__bazel_rule *t =
                                        pm__bazel_lookup(c, cr->deps[k].label);

                                if (t && t->crate >= 0 && c->lost[t->crate])
                                        more = c->lost[i] = true;
                        }
                }
        }
        for (size_t i = 0; i < n && !map; i++)
                if (c->lost[i]) {
                        map = pm_calloc(n, sizeof(*map));
                        if (!map)
                                return pm__bazel_oom(c);
                }
        if (!map)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct pm_crate *cr = &c->g->crates[i];

                map[i] = -1;
                if (!c->lost[i]) {
                        map[i] = (long)j;
                        c->g->crates[j++] = *cr;
                        continue;
                }
                if (cr->build_file) {
                        char *w = pm_graph_printf(
                                c->g,
                                "crate '%s' depends on a package bazel could not load: its last good state is kept",
                                cr->label);

                        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0 ||
                            pm_strlist_push_unique(c->g, &c->g->failed, cr->build_file) < 0) {
                                pm_free(map);
                                return pm__bazel_oom(c);
                        }
                }
        }
        c->g->n_crates = j;
        for (size_t i = 0; i < c->n_rules; i++)
                if (c->rules[i].crate >= 0)
                        c->rules[i].crate = map[c->rules[i].crate];
        pm_free(map);
        return 0;
}

int
pm__bazel_parse(const struct pm_query *q, const struct pm__bazel_settings *s,
                const struct pm_blob *blob, const struct pm_blob *buildfiles, bool partial,
                const char *const *covered, size_t n_covered, struct pm_graph **ret_graph,
                struct pm_error *err)
{
        struct pm__bazel_ctx c = { 0 };
        int r;

        c.q = q;
        c.s = s;
        c.origin = blob->origin ? blob->origin : "bazel query output";
        c.err = err;
        c.g = pm_graph_new();
        if (!c.g) {
                r = pm__bazel_oom(&c);
                goto out;
        }
        r = pm__bazel_collect(&c, blob);
        if (r == 0)
                r = pm__bazel_failures(&c, blob);
        if (r < 0)
                goto out;
        pm__bazel_sort_rules(&c);
        for (size_t i = 0; i < c.n_rules; i++) {
                if (c.rules[i].cls->build_script)
                        r = pm__bazel_watch_build_script(&c, &c.rules[i]);
                if (c.rules[i].fold_label || c.rules[i].cls->build_script) {
                        if (r < 0)
                                goto out;
                        continue;
                }
                r = pm__bazel_make_crate(&c, &c.rules[i]);
                if (r < 0)
                        goto out;
        }
        if (c.g->failed.n) {
                c.lost = pm_calloc(c.g->n_crates + 1, sizeof(*c.lost));
                if (!c.lost) {
                        r = pm__bazel_oom(&c);
                        goto out;
                }
        }
        /* Libraries' own deps first, so the folded tests' cycle checks see the whole graph. */
        for (size_t i = 0; i < 2 * c.n_rules; i++) {
                struct pm__bazel_rule *rl = &c.rules[i % c.n_rules], *own;

                if ((i < c.n_rules) == (rl->fold_label != NULL) || rl->cls->build_script)
                        continue;
                own = pm__bazel_owner(&c, rl);
                if (!own || own->crate < 0) {
                        char *w = pm_graph_printf(
                                c.g,
                                "target '%s': crate '%s' is not a Rust target of the query result, ignoring",
                                rl->label, rl->fold_label);

                        if (!w || pm_strlist_push(c.g, &c.g->warnings, w) < 0) {
                                r = pm__bazel_oom(&c);
                                goto out;
                        }
                        continue;
                }
                r = pm__bazel_add_deps(&c, rl, own);
                if (r < 0)
                        goto out;
        }
        if (c.lost) {
                r = drop_lost(&c);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < c.g->n_crates; i++) {
                const char *bf = c.g->crates[i].build_file;

                if (bf && !pm_path_is_under(bf, s->output_base) &&
                    pm_strlist_push(c.g, &c.g->build_files, bf) < 0) {
                        r = pm__bazel_oom(&c);
                        goto out;
                }
        }
        if (buildfiles && buildfiles->data) {
                r = add_buildfiles(&c, buildfiles);
                if (r < 0)
                        goto out;
        }
        /* Pushed with duplicates (a package's every crate names its BUILD file), deduplicated
         * once: a pm_strlist_push_unique() each is quadratic in the packages. */
        pm_strlist_sort_unique(&c.g->build_files);
        /* Besides the outputs, the parse read only the directories it looked at for the user's
         * links (and the BUILD files of failed packages it looked for, failed.c): never a crate's
         * sources (crate.c), so an unchanged query output skips the next parse. */
        if (!c.links.forgot) {
                r = pm__bazel_links_inputs(&c.links, q->project->root, c.g);
                if (r < 0) {
                        r = pm__bazel_oom(&c);
                        goto out;
                }
                c.g->inputs_known = true;
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
        pm_free(c.generated);
        pm_free(c.lost);
        pm__bazel_topo_free(c.topo);
        pm__bazel_links_release(&c.links);
        pm_graph_free(c.g);
        return r;
}
