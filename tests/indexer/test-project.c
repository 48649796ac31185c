/* SPDX-License-Identifier: MIT */
/* The project-answer rule (projmodel/project.h): a file, crate or build file maps to its key,
 * and a key's project is the closure of every crate it keys; crates without a build file are
 * keyed by their root module; a member with a build file answers for a shared file; an apply
 * committing in the middle of an answer does not tear it. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <sqlite3.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/project.h"
#include "projmodel/writer.h"

#include "graph-fixture.h"
#include "testlib.h"

static struct pm_index *idx;

/*
 * /w/a/BUILD.gn declares a (lib) and a_test (its test, another root module); a depends on
 * base; x depends on a (so x is not in a's project). 0ext, a non-member declared elsewhere,
 * also lists a's shared.rs. v and v_alt have no build file and share a root module; w has
 * none either and depends on v.
 */
static void
setup(void)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_error err = { 0 };
        struct pm_crate *c;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        c = pm_fx_crate(g, "/w", "//a:a", "a");
        cr_assert_not_null(c);
        cr_assert_eq(pm_strlist_push(g, &c->sources, "/w/a/src/shared.rs"), 0);
        c = pm_fx_crate(g, "/w", "//a:a_test", "a_test");
        cr_assert_not_null(c);
        c->kind = PM_CRATE_TEST;
        c->root_module = pm_graph_strdup(g, "/w/a/tests/t.rs");
        c->build_file = pm_graph_strdup(g, "/w/a/BUILD.gn");
        cr_assert_not_null(pm_fx_crate(g, "/w", "//base:base", "base"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//x:x", "x"));
        c = pm_fx_crate(g, "/w", "//0ext:ext", "ext");
        cr_assert_not_null(c);
        c->is_workspace_member = false;
        cr_assert_eq(pm_strlist_push(g, &c->sources, "/w/a/src/shared.rs"), 0);
        for (int i = 0; i < 3; i++) {
                static const char *const labels[] = { "//vendor:v", "//vendor:v_alt",
                                                      "//vendor:w" };
                static const char *const roots[] = { "/w/vendor/v/lib.rs", "/w/vendor/v/lib.rs",
                                                     "/w/vendor/w/lib.rs" };

                c = pm_fx_crate(g, "/w", labels[i], i == 2 ? "w" : "v");
                cr_assert_not_null(c);
                c->root_module = pm_graph_strdup(g, roots[i]);
                c->build_file = NULL;
                c->is_workspace_member = false;
        }
        cr_assert_eq(pm_fx_dep(g, "//a:a", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//a:a_test", "//a:a", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//x:x", "//a:a", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//vendor:w", "//vendor:v", NULL), 0);
        cr_assert_eq(pm_index_apply(idx, "w", g, NULL, &err), 0, "%s", err.msg);
        pm_graph_free(g);
}

static void
teardown(void)
{
        pm_index_close(idx);
}

TestSuite(indexer_project, .init = setup, .fini = teardown);

/* Answer @form/@value and check the key and the project's labels (comma-joined, sorted). */
static void
expect(enum pm_project_form form, const char *value, const char *want_bf, const char *want)
{
        struct pm_project_request req = { .form = form, .value = value };
        struct pm_project_answer a = { 0 };
        struct pm_error err = { 0 };
        char buf[1024] = "";
        size_t len = 0;

        cr_assert_eq(pm_project_answer(idx, &req, &a, &err), 0, "'%s': %s", value, err.msg);
        cr_assert_str_eq(a.buildfile, want_bf, "key of '%s'", value);
        for (size_t i = 0; i < a.graph->n_crates; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
                                        a.graph->crates[i].label);
        cr_assert_str_eq(buf, want, "project of '%s'", value);
        pm_project_answer_release(&a);
}

Test(indexer_project, every_form_of_one_build_file_gives_its_crates_and_their_closure)
{
        const char *want = "//a:a,//a:a_test,//base:base";

        expect(PM_PROJECT_PATH, "/w/a/src/lib.rs", "/w/a/BUILD.gn", want);
        expect(PM_PROJECT_PATH, "/w/a/tests/t.rs", "/w/a/BUILD.gn", want);
        expect(PM_PROJECT_LABEL, "//a:a", "/w/a/BUILD.gn", want);
        expect(PM_PROJECT_LABEL, "//a:a_test", "/w/a/BUILD.gn", want);
        expect(PM_PROJECT_BUILDFILE, "/w/a/BUILD.gn", "/w/a/BUILD.gn", want);
        /* A dependent's project takes a's closure, not a's build file's other crates. */
        expect(PM_PROJECT_LABEL, "//x:x", "/w/x/BUILD.gn", "//a:a,//base:base,//x:x");
}

Test(indexer_project, a_member_with_a_build_file_answers_for_a_shared_file)
{
        /* //0ext:ext sorts first but is no workspace member. */
        expect(PM_PROJECT_PATH, "/w/a/src/shared.rs", "/w/a/BUILD.gn",
               "//a:a,//a:a_test,//base:base");
        expect(PM_PROJECT_LABEL, "//0ext:ext", "/w/ext/BUILD.gn", "//0ext:ext");
}

Test(indexer_project, crates_without_a_build_file_are_keyed_by_their_root_module)
{
        expect(PM_PROJECT_PATH, "/w/vendor/v/lib.rs", "/w/vendor/v/lib.rs",
               "//vendor:v,//vendor:v_alt");
        expect(PM_PROJECT_LABEL, "//vendor:v_alt", "/w/vendor/v/lib.rs",
               "//vendor:v,//vendor:v_alt");
        expect(PM_PROJECT_BUILDFILE, "/w/vendor/v/lib.rs", "/w/vendor/v/lib.rs",
               "//vendor:v,//vendor:v_alt");
        expect(PM_PROJECT_LABEL, "//vendor:w", "/w/vendor/w/lib.rs", "//vendor:v,//vendor:w");
}

Test(indexer_project, whole_repository)
{
        struct pm_project_request req = { .form = PM_PROJECT_REPO, .repo_buildfile = "/w/.gn" };
        struct pm_project_answer a = { 0 };
        struct pm_error err = { 0 };

        cr_assert_eq(pm_project_answer(idx, &req, &a, &err), 0, "%s", err.msg);
        cr_assert_str_eq(a.buildfile, "/w/.gn");
        cr_assert_eq(a.graph->n_crates, 8);
        pm_project_answer_release(&a);
        req.repo_buildfile = NULL;
        cr_assert_eq(pm_project_answer(idx, &req, &a, &err), 0, "%s", err.msg);
        cr_assert_null(a.buildfile);
        pm_project_answer_release(&a);
}

Test(indexer_project, nothing_answers)
{
        static const struct {
                enum pm_project_form form;
                const char *value, *msg;
        } cases[] = {
                { PM_PROJECT_PATH, "/w/nowhere.rs", "no crate owns '/w/nowhere.rs'" },
                { PM_PROJECT_BUILDFILE, "/w/none/BUILD.gn",
                  "no crate is declared in '/w/none/BUILD.gn'" },
                { PM_PROJECT_BUILDFILE, "/w/a/src/lib.rs",
                  "no crate is declared in '/w/a/src/lib.rs'" },
                { PM_PROJECT_LABEL, "//no:no", "no crate '//no:no' in the model" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct pm_project_request req = { .form = cases[i].form, .value = cases[i].value };
                struct pm_project_answer a = { 0 };
                struct pm_error err = { 0 };

                cr_assert_eq(pm_project_answer(idx, &req, &a, &err), PM_ENOTFOUND, "%s",
                             cases[i].value);
                cr_assert_str_eq(err.msg, cases[i].msg);
                cr_assert_null(a.buildfile);
                cr_assert_null(a.graph);
        }
}

Test(indexer_project, json_renders_the_answer)
{
        struct pm_project_request req = { .form = PM_PROJECT_PATH, .value = "/w/a/tests/t.rs" };
        struct pm_writer_options opts = { .proc_macro_cwd = "/w" };
        struct pm_error err = { 0 };
        char *bf = NULL;
        cJSON *p = NULL;

        cr_assert_eq(pm_project_json(idx, &req, &opts, &bf, &p, &err), 0, "%s", err.msg);
        cr_assert_str_eq(bf, "/w/a/BUILD.gn");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 3);
        cJSON_Delete(p);
        pm_free(bf);
}

/* Out of memory at every allocation of every form: an error naming it, nothing leaked (ASan),
 * and the same answer once memory is back. */
Test(indexer_project, out_of_memory_anywhere_fails_cleanly)
{
        static const struct pm_project_request reqs[] = {
                { PM_PROJECT_PATH, "/w/a/src/shared.rs", NULL },
                { PM_PROJECT_BUILDFILE, "/w/vendor/v/lib.rs", NULL },
                { PM_PROJECT_LABEL, "//x:x", NULL },
                { PM_PROJECT_REPO, NULL, "/w/.gn" },
        };
        struct pm_writer_options opts = { .proc_macro_cwd = "/w" };

        pm_mem_install_hooks();
        for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
                for (unsigned long nth = 1;; nth++) {
                        struct pm_error err = { 0 };
                        unsigned long before = pm_mem_failures();
                        char *bf = NULL;
                        cJSON *p = NULL;
                        int r;

                        cr_assert_lt(nth, 100000, "no end to the allocations");
                        pm_mem_fail_at(nth);
                        r = pm_project_json(idx, &reqs[i], &opts, &bf, &p, &err);
                        pm_mem_fail_at(0);
                        if (pm_mem_failures() == before) {
                                cr_assert_eq(r, 0, "%s", err.msg);
                                cJSON_Delete(p);
                                pm_free(bf);
                                break;
                        }
                        cr_assert_lt(r, 0, "request %zu succeeded despite failure %lu", i, nth);
                        cr_assert(err.msg[0], "request %zu, failure %lu: no message", i, nth);
                        cr_assert_null(p);
                        cr_assert_null(bf);
                }
        }
}

/* ---- one snapshot ---- */

static sqlite3 *opened;        /* the connection pm_index_open() made last (auto extension) */
static struct pm_index *other; /* a second handle on the same file, the concurrent writer */
static bool seen_closure, applied;

static int
capture_connection(sqlite3 *db, const char **errmsg, const struct sqlite3_api_routines *api)
{
        opened = db;
        return SQLITE_OK;
}

/* On the reader's statements: once the closure has run, the next load commits a model without
 * //base:base through the other handle, between the answer's queries. */
static int
apply_between(unsigned type, void *ctx, void *stmt, void *sql)
{
        struct pm_graph *g;
        struct pm_error err = { 0 };

        if (strncmp(sql, "WITH RECURSIVE cl", 17) == 0)
                seen_closure = true;
        if (!seen_closure || applied || strcmp(sql, "DELETE FROM temp.pm_q") != 0)
                return 0;
        applied = true;
        g = pm_graph_new();
        cr_assert_not_null(pm_fx_crate(g, "/w", "//a:a", "a"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//x:x", "x"));
        cr_assert_eq(pm_fx_dep(g, "//x:x", "//a:a", NULL), 0);
        cr_assert_eq(pm_index_apply(other, "w", g, NULL, &err), 0, "%s", err.msg);
        pm_graph_free(g);
        return 0;
}

Test(indexer_project, the_answer_is_one_snapshot)
{
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/model.db", dir);
        struct pm_project_request req = { .form = PM_PROJECT_LABEL, .value = "//x:x" };
        struct pm_project_answer a = { 0 };
        struct pm_index *reader = NULL;
        struct pm_graph *g = pm_graph_new();
        struct pm_error err = { 0 };

        cr_assert_eq(sqlite3_auto_extension((void (*)(void))capture_connection), SQLITE_OK);
        cr_assert_eq(pm_index_open(path, &reader, &err), 0, "%s", err.msg);
        cr_assert_eq(sqlite3_cancel_auto_extension((void (*)(void))capture_connection), 1);
        cr_assert_not_null(opened);
        cr_assert_not_null(pm_fx_crate(g, "/w", "//a:a", "a"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//base:base", "base"));
        cr_assert_not_null(pm_fx_crate(g, "/w", "//x:x", "x"));
        cr_assert_eq(pm_fx_dep(g, "//a:a", "//base:base", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//x:x", "//a:a", NULL), 0);
        cr_assert_eq(pm_index_apply(reader, "w", g, NULL, &err), 0, "%s", err.msg);
        pm_graph_free(g);
        cr_assert_eq(pm_index_open(path, &other, &err), 0, "%s", err.msg);

        cr_assert_eq(sqlite3_trace_v2(opened, SQLITE_TRACE_STMT, apply_between, NULL), SQLITE_OK);
        cr_assert_eq(pm_project_answer(reader, &req, &a, &err), 0, "%s", err.msg);
        cr_assert(applied, "the concurrent apply did not run");
        /* The model as it was when the answer began, whole. */
        cr_assert_eq(a.graph->n_crates, 3);
        cr_assert_not_null(pm_graph_find(a.graph, "//base:base"));
        pm_project_answer_release(&a);
        (void)sqlite3_trace_v2(opened, 0, NULL, NULL);
        /* The next answer sees the apply. */
        cr_assert_eq(pm_project_answer(reader, &req, &a, &err), 0, "%s", err.msg);
        cr_assert_eq(a.graph->n_crates, 2);
        pm_project_answer_release(&a);

        pm_index_close(other);
        pm_index_close(reader);
        other = NULL;
        (void)pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}
