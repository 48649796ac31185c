/* SPDX-License-Identifier: MIT */
/* Fixtures for the bazel adapter's tests (see bazel-test.h). Bazel servers are shut down here,
 * even when a test failed, so no JVM outlives its test. */
#include "bazel-test.h"

#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "testlib.h"

static char *
fixture_dir(const char *name)
{
        return pm_test_strf("%s/tests/bazel/ws/%s", pm_test_source_root(), name);
}

void
pm_bazel_ws_reload(struct pm_bazel_ws *w)
{
        struct pm_error err;
        int r;

        pm_error_init(&err);
        w->cfg = pm_config_free(w->cfg);
        r = pm_config_load(w->root, &w->cfg, &err);
        cr_assert_eq(r, 0, "config: %s", err.msg);
        r = pm_adapter_resolve_config(w->cfg, &err);
        cr_assert_eq(r, 0, "resolve: %s", err.msg);
        cr_assert_str_eq(w->cfg->projects[0].build_system, "bazel");
}

void
pm_bazel_ws_settings(struct pm_bazel_ws *w, const char *members)
{
        char *cfgpath = pm_test_strf("%s/.projmodel.json", w->root);
        char *json = pm_test_strf("{\"bazel\": {%s}}\n", members);

        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        pm_free(cfgpath);
        pm_free(json);
        pm_bazel_ws_reload(w);
}

void
pm_bazel_ws_setup(struct pm_bazel_ws *w, const char *fixture, const char *extra_settings)
{
        char *src, *dst, *ext_src, *ext_dst, *cfgpath, *json;

        memset(w, 0, sizeof(*w));
        w->tmp = pm_test_mkdtemp();
        cr_assert_not_null(w->tmp);
        w->root = pm_test_strf("%s/%s", w->tmp, fixture);
        w->ob = pm_test_strf("%s/ob", w->tmp);
        src = fixture_dir(fixture);
        dst = w->root;
        cr_assert_eq(pm_test_copy_tree(src, dst), 0, "copy %s", src);
        ext_src = fixture_dir("ext");
        ext_dst = pm_test_strf("%s/ext", w->tmp);
        cr_assert_eq(pm_test_copy_tree(ext_src, ext_dst), 0, "copy %s", ext_src);
        cfgpath = pm_test_strf("%s/.projmodel.json", w->root);
        json = pm_test_strf("{\"bazel\": {\"output_base\": \"%s\"%s%s}}\n", w->ob,
                            extra_settings ? ", " : "", extra_settings ? extra_settings : "");
        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        pm_free(src);
        pm_free(ext_src);
        pm_free(ext_dst);
        pm_free(cfgpath);
        pm_free(json);
        pm_bazel_ws_reload(w);
}

void
pm_bazel_ws_teardown(struct pm_bazel_ws *w)
{
        if (w->ob && w->root) {
                char *ob = pm_test_strf("--output_base=%s", w->ob);
                const char *argv[] = { "bazel", ob, "shutdown", NULL };

                /* Only if this test started a server: shutdown would otherwise start one. */
                if (access(w->ob, F_OK) == 0)
                        (void)pm_test_run(argv, w->root, NULL, NULL, NULL, NULL);
                pm_free(ob);
        }
        if (w->tmp) {
                /* Bazel makes its output base read-only in places; rmtree copes or we leak a
                 * temporary directory, never a test failure. */
                (void)pm_test_rmtree(w->tmp);
        }
        pm_config_free(w->cfg);
        pm_free(w->tmp);
        pm_free(w->root);
        pm_free(w->ob);
        memset(w, 0, sizeof(*w));
}

static bool
exit_ok(const struct pm_step *s, int status)
{
        if (status == 0)
                return true;
        for (size_t i = 0; i < sizeof(s->ok_exit_codes) / sizeof(s->ok_exit_codes[0]); i++)
                if (s->ok_exit_codes[i] != 0 && s->ok_exit_codes[i] == status)
                        return true;
        return false;
}

int
pm_bazel_query(struct pm_bazel_ws *w, const char *const *scope, size_t n_scope,
               struct pm_graph **ret_graph, int *ret_exit, struct pm_plan *ret_plan,
               struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        const struct pm_project *p = &w->cfg->projects[0];
        struct pm_query q = { .config = w->cfg, .project = p, .scope = scope, .n_scope = n_scope };
        struct pm_plan plan;
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        char *outs[PM_PLAN_MAX_STEPS] = { NULL };
        int r;

        memset(&plan, 0, sizeof(plan));
        memset(blobs, 0, sizeof(blobs));
        cr_assert_not_null(ops);
        r = ops->plan(&q, &plan, err);
        cr_assert_eq(r, 0, "plan: %s", err->msg);
        for (size_t i = 0; i < plan.n_steps; i++) {
                const struct pm_step *s = &plan.steps[i];
                char *errout = NULL;
                int status = pm_test_run((const char *const *)s->argv, s->cwd, NULL, NULL, &outs[i],
                                         &errout);

                if (i == 0 && ret_exit)
                        *ret_exit = status;
                if (!exit_ok(s, status)) {
                        cr_assert(s->optional, "step %zu ('%s %s') exited %d: %s", i, s->argv[0],
                                  s->argv[3], status, errout);
                        outs[i][0] = '\0';
                }
                pm_free(errout);
                blobs[i].data = outs[i];
                blobs[i].len = strlen(outs[i]);
                blobs[i].origin = s->argv[0];
        }
        r = ops->parse(&q, blobs, plan.n_steps, ret_graph, err);
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++)
                pm_free(outs[i]);
        if (ret_plan)
                *ret_plan = plan;
        else
                pm_plan_release(&plan);
        return r;
}

struct pm_crate *
pm_bazel_crate(const struct pm_graph *g, const char *label)
{
        return pm_graph_find(g, label);
}

static char *
replace_all(const char *s, const char *from, const char *to)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        const char *p;

        while ((p = strstr(s, from))) {
                cr_assert_eq(pm_strbuf_add(&sb, s, (size_t)(p - s)), 0);
                cr_assert_eq(pm_strbuf_adds(&sb, to), 0);
                s = p + strlen(from);
        }
        cr_assert_eq(pm_strbuf_adds(&sb, s), 0);
        return pm_strbuf_detach(&sb, NULL);
}

char *
pm_bazel_data(const char *name, const char *root, const char *ob)
{
        char *path = pm_test_strf("%s/tests/bazel/data/%s", pm_test_source_root(), name);
        char *text = pm_test_read_file(path), *a, *b;

        cr_assert_not_null(text, "cannot read %s", path);
        a = replace_all(text, "@ROOT@", root);
        b = replace_all(a, "@OB@", ob);
        pm_free(path);
        pm_free(text);
        pm_free(a);
        return b;
}

char *
pm_bazel_path(const struct pm_bazel_ws *w, const char *rel)
{
        return pm_test_strf("%s/%s", w->root, rel);
}
