/* SPDX-License-Identifier: MIT */
/* Fixtures for the gn adapter tests (see gn-test.h). */
#include "gn-test.h"

#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "testlib.h"

void
gn_fx_init(struct gn_fx *fx, const char *gn_section)
{
        char *cfg_path, *cfg_text;
        int r;

        memset(fx, 0, sizeof(*fx));
        pm_mem_install_hooks();
        fx->root = pm_test_mkdtemp();
        cr_assert_not_null(fx->root);
        cfg_path = pm_test_strf("%s/.projmodel.json", fx->root);
        if (gn_section)
                cfg_text = pm_test_strf("{\"build_system\": \"gn\", \"gn\": %s}\n", gn_section);
        else
                cfg_text = pm_test_strf("{\"build_system\": \"gn\"}\n");
        cr_assert_eq(pm_test_write_file(cfg_path, cfg_text), 0);
        r = pm_config_load(fx->root, &fx->cfg, &fx->err);
        cr_assert_eq(r, 0, "pm_config_load: %s", fx->err.msg);
        cr_assert_str_eq(fx->cfg->projects[0].build_system, "gn");
        fx->origin = pm_test_strf("%s/out/project.json", fx->root);
        pm_free(cfg_path);
        pm_free(cfg_text);
}

void
gn_fx_release(struct gn_fx *fx)
{
        pm_graph_free(fx->g);
        pm_config_free(fx->cfg);
        if (fx->root)
                (void)pm_test_rmtree(fx->root);
        pm_free(fx->root);
        pm_free(fx->origin);
        memset(fx, 0, sizeof(*fx));
}

char *
gn_fx_subst(const struct gn_fx *fx, const char *tmpl)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        const char *p = tmpl, *hit;

        while ((hit = strstr(p, "@ROOT@"))) {
                cr_assert_eq(pm_strbuf_add(&sb, p, (size_t)(hit - p)), 0);
                cr_assert_eq(pm_strbuf_adds(&sb, fx->root), 0);
                p = hit + 6;
        }
        cr_assert_eq(pm_strbuf_adds(&sb, p), 0);
        return pm_strbuf_detach(&sb, NULL);
}

int
gn_fx_parse(struct gn_fx *fx, const char *tmpl, bool captured)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("gn");
        struct pm_query q = { 0 };
        struct pm_graph *g = NULL;
        struct pm_blob blob;
        char *doc;
        int r;

        cr_assert_not_null(ops);
        doc = gn_fx_subst(fx, tmpl);
        q.config = fx->cfg;
        q.project = &fx->cfg->projects[0];
        q.captured = captured;
        blob.data = doc;
        blob.len = strlen(doc);
        blob.origin = fx->origin;
        pm_error_init(&fx->err);
        if (fx->fail_at)
                (void)pm_mem_fail_at(fx->fail_at);
        r = ops->parse(&q, &blob, 1, &g, &fx->err);
        (void)pm_mem_fail_at(0);
        if (r == 0) {
                cr_assert_not_null(g);
                fx->g = pm_graph_free(fx->g);
                fx->g = g;
        } else {
                cr_assert_null(g, "a failed parse must not return a graph");
        }
        pm_free(doc);
        return r;
}

void
gn_fx_write(const struct gn_fx *fx, const char *rel, const char *content)
{
        char *path = pm_test_strf("%s/%s", fx->root, rel);
        char *text = gn_fx_subst(fx, content);

        cr_assert_eq(pm_test_write_file(path, text), 0);
        pm_free(path);
        pm_free(text);
}

struct pm_crate *
gn_fx_crate(const struct gn_fx *fx, const char *label)
{
        struct pm_crate *c;

        cr_assert_not_null(fx->g);
        c = pm_graph_find(fx->g, label);
        cr_assert_not_null(c, "no crate '%s'", label);
        return c;
}

char *
gn_fx_path(const struct gn_fx *fx, const char *rel)
{
        return pm_path_join(NULL, fx->root, rel);
}

bool
gn_crate_has_cfg(const struct pm_crate *c, const char *cfg)
{
        return pm_strlist_contains(&c->cfgs, cfg);
}

bool
gn_graph_has_warning(const struct pm_graph *g, const char *needle)
{
        for (size_t i = 0; i < g->warnings.n; i++)
                if (strstr(g->warnings.v[i], needle))
                        return true;
        return false;
}
