/* SPDX-License-Identifier: MIT */
/* Reading cfgs, edition and target out of a rustc flag list, and cfg spelling normalisation. */
#include <errno.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/strbuf.h"

#include "common/common-internal.h"

static bool
is_space(char c)
{
        return c == ' ' || c == '\t';
}

char *
pm_cfg_normalize(struct pm_graph *g, const char *cfg)
{
        const char *eq = strchr(cfg, '='), *k0 = cfg, *k1, *v0, *v1;
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *r = NULL;

        if (!eq)
                return pm_graph_strdup(g, cfg);
        /* rustc parses the flag as a meta item, so `feature = "x"` is the same as feature="x". */
        while (is_space(*k0))
                k0++;
        k1 = eq;
        while (k1 > k0 && is_space(k1[-1]))
                k1--;
        v0 = eq + 1;
        while (is_space(*v0))
                v0++;
        v1 = v0 + strlen(v0);
        while (v1 > v0 && is_space(v1[-1]))
                v1--;

        if (pm_strbuf_add(&sb, k0, (size_t)(k1 - k0)) < 0 || pm_strbuf_adds(&sb, "=\"") < 0)
                goto out;
        if (v1 - v0 >= 2 && v0[0] == '"' && v1[-1] == '"') {
                /* Already quoted: keep the value's escapes as they are. */
                if (pm_strbuf_add(&sb, v0 + 1, (size_t)(v1 - v0 - 2)) < 0)
                        goto out;
        } else {
                for (const char *p = v0; p < v1; p++) {
                        if ((*p == '"' || *p == '\\') && pm_strbuf_addch(&sb, '\\') < 0)
                                goto out;
                        if (pm_strbuf_addch(&sb, *p) < 0)
                                goto out;
                }
        }
        if (pm_strbuf_addch(&sb, '"') < 0)
                goto out;
        r = pm_graph_strdup(g, sb.buf);
out:
        pm_strbuf_release(&sb);
        return r;
}

/*
 * If flags[*i] is @name ("--cfg") or "@name=VALUE", store the value in *@ret_value, advancing
 * *@i past a separate value. Returns 1 on a match, 0 if not, PM_EBADTOOLOUTPUT without value.
 */
static int
match_flag(const struct pm_strlist *flags, size_t *i, const char *name, const char **ret_value,
           struct pm_error *err)
{
        const char *f = flags->v[*i];
        size_t n = strlen(name);

        if (strncmp(f, name, n) != 0)
                return 0;
        if (f[n] == '=') {
                *ret_value = f + n + 1;
                return 1;
        }
        if (f[n] != '\0')
                return 0;
        if (*i + 1 >= flags->n)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "rustc flag '%s' has no value", name);
        *ret_value = flags->v[++*i];
        return 1;
}

int
pm_crate_apply_rustc_flags(struct pm_graph *g, struct pm_crate *c, const struct pm_strlist *flags,
                           struct pm_error *err)
{
        const char *value = NULL;
        char *s;
        int r;

        for (size_t i = 0; i < flags->n; i++) {
                if (!flags->v[i])
                        continue;
                r = match_flag(flags, &i, "--cfg", &value, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        s = pm_cfg_normalize(g, value);
                        if (!s)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        /* rustc rejects such a flag too; keeping it would break the graph's
                         * invariant (graph.h) and fail the whole apply later. */
                        if (!pm__cfg_valid(s))
                                return pm_error_set(
                                        err, PM_EBADTOOLOUTPUT,
                                        "crate '%s': invalid --cfg '%.200s' in rustc flags",
                                        c->label ? c->label : "?", value);
                        if (pm_strlist_push_unique(g, &c->cfgs, s) < 0)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        continue;
                }
                r = match_flag(flags, &i, "--edition", &value, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (!pm_edition_valid(value))
                                return pm_error_set(
                                        err, PM_EBADTOOLOUTPUT,
                                        "crate '%s': unknown edition '%s' in rustc flags",
                                        c->label ? c->label : "?", value);
                        c->edition = pm_graph_strdup(g, value);
                        if (!c->edition)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        continue;
                }
                r = match_flag(flags, &i, "--target", &value, err);
                if (r < 0)
                        return r;
                if (r > 0) {
                        c->target = pm_graph_strdup(g, value);
                        if (!c->target)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                }
        }
        return 0;
}
