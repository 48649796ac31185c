/* SPDX-License-Identifier: MIT */
/* A crate mixing checked-in and generated sources served from one directory under the cache
 * directory, of links to the checked-in files and copies of the built ones, laid out as its build
 * compiles it (rules_rust), so that a checked-in root's `mod gen;` finds the built gen.rs
 * (docs/build-integration.md, Generated sources). */
#include "srcmirror.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/config.h"
#include "projmodel/dylib-cache.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

/* One file of the mirror: @rel (relative to the mirror) is @target (absolute): a link to a
 * checked-in source, a copy of a built one (@gen). */
struct entry {
        const char *rel;
        const char *target;
        bool gen;
};

/* Files larger than this are not Rust sources a build generates for a crate. */
#define GEN_MAX (64u << 20)

/*
 * Make @path a copy of the built file @target, rewritten (in one rename) only when the bytes
 * differ. A copy rather than a link: when a rebuild rewrites @target, a link's target changes
 * with no event on the link, and rust-analyzer, which watches the crate's include dirs, would
 * keep the old text; the rewritten copy is an event in the mirror (docs/build-integration.md).
 */
static int
copy_built(const char *path, const char *target, char **ret_why)
{
        struct pm_strbuf now = PM_STRBUF_INIT, was = PM_STRBUF_INIT;
        struct pm_error perr;
        struct stat sb;
        int r;

        pm_error_init(&perr);
        r = pm_strbuf_read_file(&now, target, GEN_MAX, &perr);
        if (r == 0 && lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
            (size_t)sb.st_size == now.len && pm_strbuf_read_file(&was, path, GEN_MAX, NULL) == 0 &&
            was.len == now.len && (now.len == 0 || memcmp(was.buf, now.buf, now.len) == 0))
                goto out;
        if (r == 0)
                r = pm_write_file_atomic(path, now.buf, now.len, &perr);
        if (r < 0 && r != -ENOMEM)
                *ret_why = pm_strdup(perr.msg);
out:
        pm_strbuf_release(&now);
        pm_strbuf_release(&was);
        return r;
}

/*
 * Where @src sits in the directory its crate compiles from, or NULL: a checked-in source under
 * the package directory @pkgdir at its path there, a built file under one of the @n directories
 * @dirs its build reported for the package's outputs (pm_built.pkg_dir) at its path below that
 * (rules_rust's transform_sources() links each checked-in src to the same relative path beside
 * the generated ones, and leaves a file of another package where it is).
 */
static const char *
place(const char *src, const char *pkgdir, const char *const *dirs, size_t n, bool *ret_gen)
{
        if (pm_path_is_under(src, pkgdir) && strlen(src) > strlen(pkgdir)) {
                *ret_gen = false;
                return src + strlen(pkgdir) + 1;
        }
        for (size_t i = 0; i < n; i++) {
                if (dirs[i] && pm_path_is_under(src, dirs[i]) && strlen(src) > strlen(dirs[i])) {
                        *ret_gen = true;
                        return src + strlen(dirs[i]) + 1;
                }
        }
        return NULL;
}

/* Create the files of @v (@n) under @dir; on failure *@ret_why names the file (pm_malloc'd). */
static int
make_links(const char *dir, const struct entry *v, size_t n, char **ret_why)
{
        struct pm_error perr;
        int r = 0;

        for (size_t i = 0; i < n && r == 0; i++) {
                char *path = pm_asprintf("%s/%s", dir, v[i].rel);
                char *parent = path ? pm_strdup(path) : NULL;

                if (!path || !parent) {
                        pm_free(path);
                        pm_free(parent);
                        return -ENOMEM;
                }
                *strrchr(parent, '/') = '\0';
                pm_error_init(&perr);
                r = pm_mkdir_p(parent, &perr);
                if (r < 0 && r != -ENOMEM)
                        *ret_why = pm_strdup(perr.msg);
                if (r == 0 && v[i].gen)
                        r = copy_built(path, v[i].target, ret_why);
                else if (r == 0)
                        r = pm_symlink_replace(path, v[i].target);
                if (r < 0 && r != -ENOMEM && !*ret_why)
                        *ret_why = pm_asprintf("cannot link '%s': %s", path, pm_strerror(r));
                pm_free(path);
                pm_free(parent);
        }
        return r;
}

int
pm__mirror_sources(const struct pm_query *q, struct pm_graph *g, struct pm_crate *c,
                   const char *const *dirs, size_t n_dirs, char **cache, struct pm_error *err)
{
        struct entry *v = NULL;
        size_t n = 0, n_gen = 0;
        const char *pkgdir;
        char *dir = NULL, *why = NULL, *root = NULL, *gdir;
        uint64_t h;
        int r = -ENOMEM;

        /* Only a package of the workspace: its directory is the BUILD file's. */
        pkgdir = c->build_file ? pm_path_dirname(g->arena, c->build_file) : NULL;
        if (!pkgdir || !pm_path_is_under(pkgdir, q->project->root)) {
                r = pkgdir || !c->build_file ? 0 : -ENOMEM;
                goto out;
        }
        v = pm_calloc(c->sources.n + 1, sizeof(*v));
        if (!v)
                goto out;
        h = pm_hash64_str(c->label, 0);
        for (size_t i = 0; i < c->sources.n; i++) {
                bool gen = false;
                const char *rel = place(c->sources.v[i], pkgdir, dirs, n_dirs, &gen);

                if (!rel)
                        continue;
                v[n].rel = rel;
                v[n].gen = gen;
                v[n++].target = c->sources.v[i];
                n_gen += gen;
                h = pm_hash64_str(c->sources.v[i], pm_hash64_str(rel, h));
        }
        /* Nothing to join: all checked in, or all generated (served where Bazel wrote them). */
        r = 0;
        if (n_gen == 0 || n_gen == n)
                goto out;
        if (!*cache) {
                *cache = pm_config_cache_dir(q->config);
                if (!*cache) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        /* Named by the crate and its links, so a changed set of sources gets a new directory and
         * no link of a removed source lingers in the one rust-analyzer reads. */
        dir = pm_asprintf("%s/srcs/%016" PRIx64, *cache, h);
        if (!dir) {
                r = -ENOMEM;
                goto out;
        }
        /* Renewed before its links are checked, so a collection (projmodel/dylib-cache.h)
         * either sees it young or has moved it away, and make_links() then makes it again. */
        (void)pm_cache_touch(dir);
        r = make_links(dir, v, n, &why);
        if (r == -ENOMEM)
                goto out;
        if (r < 0) {
                char *note = pm_graph_printf(g, "%s%ssources not joined in one directory: %s",
                                             c->note ? c->note : "", c->note ? "; " : "",
                                             why ? why : "cannot make it");

                r = note ? 0 : -ENOMEM;
                if (note)
                        c->note = note;
                goto out;
        }
        /* The root module and the crate's directories through the links; `sources` keep the
         * files the user edits (the daemon maps a saved file to its crate by them). */
        r = -ENOMEM;
        for (size_t i = 0; i < n && !root; i++)
                if (strcmp(c->root_module, v[i].target) == 0 &&
                    !(root = pm_asprintf("%s/%s", dir, v[i].rel)))
                        goto out;
        gdir = pm_graph_strdup(g, dir);
        if (!gdir || (root && !(c->root_module = pm_graph_strdup(g, root))) ||
            pm_strlist_push_unique(g, &c->include_dirs, gdir) < 0)
                goto out;
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(v);
        pm_free(dir);
        pm_free(why);
        pm_free(root);
        return r;
}
