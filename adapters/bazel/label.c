/* SPDX-License-Identifier: MIT */
/* Bazel labels for the jsonproto parser: parsing, normalising, and turning a main-repository label
 * into a path. */
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
int
pm__bazel_label_parse(struct pm__bazel_ctx *c, const char *raw, const char *ctx_repo,
                      const char *ctx_pkg, struct pm__bazel_label *ret)
{
        struct pm_arena *a = c->g->arena;
        const char *rest = raw, *colon, *slashes;
        struct pm__bazel_label l = { NULL, NULL, NULL };

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

char *
pm__bazel_label_string(struct pm__bazel_ctx *c, const struct pm__bazel_label *l)
{
        return pm_graph_printf(c->g, "%s%s//%s:%s", l->repo ? "@" : "", l->repo ? l->repo : "",
                               l->pkg, l->name);
}

/* The absolute path of source label @l: the workspace for the main repository, the output
 * base's external/ for others (never the execroot, whose symlinks come and go). */
char *
pm__bazel_label_path(struct pm__bazel_ctx *c, const struct pm__bazel_label *l)
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
int
pm__bazel_norm_label(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r,
                     const struct pm__bazel_label *rl, const char *raw,
                     struct pm__bazel_label *ret_l, const char **ret_s)
{
        struct pm__bazel_label l;
        int ret = pm__bazel_label_parse(c, raw, rl ? rl->repo : NULL, rl ? rl->pkg : "", &l);

        if (ret == -ENOMEM)
                return pm__bazel_oom(c);
        if (ret < 0)
                return pm__bazel_bad(c, r ? r->label : NULL, "has an invalid label '%s'", raw);
        if (ret_s) {
                *ret_s = pm__bazel_label_string(c, &l);
                if (!*ret_s)
                        return pm__bazel_oom(c);
        }
        if (ret_l)
                *ret_l = l;
        return 0;
}
