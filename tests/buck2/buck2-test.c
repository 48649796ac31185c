/* SPDX-License-Identifier: MIT */
/* Fixtures shared by the Buck2 adapter's tests (tests/buck2/buck2-test.h). */
#include "buck2-test.h"

#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "testlib.h"

/* A copy of tests/buck2/fixtures/repo with @projmodel_json as its .projmodel.json (or none). */
void
pm_buck2_fx_init(struct pm_buck2_fx *fx, const char *projmodel_json)
{
        char *src = pm_test_strf("%s/tests/buck2/fixtures/repo", pm_test_source_root());
        struct pm_error err;

        memset(fx, 0, sizeof(*fx));
        fx->root = pm_test_mkdtemp();
        cr_assert_not_null(fx->root);
        cr_assert_eq(pm_test_copy_tree(src, fx->root), 0);
        pm_free(src);
        if (projmodel_json) {
                char *p = pm_test_strf("%s/.projmodel.json", fx->root);

                cr_assert_eq(pm_test_write_file(p, projmodel_json), 0);
                pm_free(p);
        }
        pm_error_init(&err);
        cr_assert_eq(pm_config_load(fx->root, &fx->cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(fx->cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(fx->cfg->projects[0].build_system, "buck2");
}

void
pm_buck2_fx_release(struct pm_buck2_fx *fx)
{
        pm_graph_free(fx->g);
        pm_config_free(fx->cfg);
        if (fx->root)
                (void)pm_test_rmtree(fx->root);
        pm_free(fx->root);
}

int
pm_buck2_fx_parse_text(struct pm_buck2_fx *fx, const char *text)
{
        char *origin = pm_test_strf("%s/targets.json", fx->root);
        int r;

        pm_graph_free(fx->g);
        fx->g = NULL;
        pm_error_init(&fx->err);
        r = pm_adapter_parse_captured(fx->cfg, &fx->cfg->projects[0], text, strlen(text), origin,
                                      &fx->g, &fx->err);
        pm_free(origin);
        return r;
}

/* Parse the fixture's own targets.json. */
int
pm_buck2_fx_parse_fixture(struct pm_buck2_fx *fx)
{
        char *p = pm_test_strf("%s/targets.json", fx->root);
        char *text = pm_test_read_file(p);
        int r;

        cr_assert_not_null(text);
        r = pm_buck2_fx_parse_text(fx, text);
        pm_free(text);
        pm_free(p);
        return r;
}

struct pm_crate *
pm_buck2_fx_crate(const struct pm_buck2_fx *fx, const char *label)
{
        struct pm_crate *c = pm_graph_find(fx->g, label);

        cr_assert_not_null(c, "no crate '%s'", label);
        return c;
}

char *
pm_buck2_fx_path(const struct pm_buck2_fx *fx, const char *rel)
{
        return pm_test_strf("%s/%s", fx->root, rel);
}

void
pm_buck2_fx_assert_path(const struct pm_buck2_fx *fx, const char *actual, const char *rel)
{
        char *p = pm_buck2_fx_path(fx, rel);

        cr_assert_not_null(actual);
        cr_assert_str_eq(actual, p);
        pm_free(p);
}
