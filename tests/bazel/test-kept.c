/* SPDX-License-Identifier: MIT */
/* The kept-state warning after a --keep_going query (server/parse-apply.c, pm__kept_warning()):
 * honest whether no build file failed of its own (Bazel tells them apart) or the adapter cannot
 * tell (an empty pm_graph.failed_own means one or the other, pm_graph.failed_own_known says
 * which). */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "bazel-test.h"
#include "server/server-internal.h"
#include "testlib.h"

PM_BAZEL_WS_SUITE(bazel_kept, ws, "basic");

static void
assert_has(const char *s, const char *needle)
{
        cr_assert_not_null(s);
        cr_assert(strstr(s, needle), "'%s' not in: %s", needle, s);
}

static void
assert_lacks(const char *s, const char *needle)
{
        cr_assert_null(strstr(s, needle), "'%s' in: %s", needle, s);
}

/*
 * Only //app:app's analysis failed, with a package of an external repository (not the user's
 * to fix, so not listed): app's BUILD file is kept for a dependency's failure, none of its own.
 * The warning must not say bazel could not load it, with or without an earlier state.
 */
Test(bazel_kept, none_failed_of_its_own)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        char *text = pm_bazel_data("streamed.jsonl", ws.root, ws.ob);
        char *errtext = pm_test_strf(
                "ERROR: %s/external/ext/BUILD.bazel:2:1: syntax error at 'deps': expected ,\n"
                "ERROR: errors encountered while analyzing target '//app:app': it will not be "
                "built\n",
                ws.ob);
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob blob = { .origin = "bazel query",
                                .error = "bazel exited with status 3",
                                .data = text,
                                .len = strlen(text),
                                .err_text = errtext,
                                .err_len = strlen(errtext) };
        char *app = pm_bazel_path(&ws, "app/BUILD.bazel");
        struct pm_graph *g = NULL;
        struct pm_error err;
        char *w;

        pm_error_init(&err);
        cr_assert_eq(ops->parse(&q, &blob, 1, &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g->failed.n, 1, "got %zu", g->failed.n);
        cr_assert_str_eq(g->failed.v[0], app);
        cr_assert_eq(g->failed_own.n, 0);
        cr_assert(g->failed_own_known, "bazel tells a file's own error from a dependency's");
        w = pm__kept_warning(g, "bazel", 1);
        assert_has(w, "kept the last good state of 1 crate of ");
        assert_has(w, app);
        assert_has(w, "whose targets bazel could not analyse because something they depend on "
                      "failed (none has an error of its own)");
        assert_lacks(w, "could not load");
        w = pm__kept_warning(g, "bazel", 0);
        assert_has(w, "bazel could not analyse the targets of ");
        assert_has(w, "(none has an error of its own), and the model has no earlier state of "
                      "it: its crates are missing until that loads");
        assert_lacks(w, "could not load");
        pm_graph_free(g);
        pm_free(app);
        pm_free(errtext);
        pm_free(text);
}

/* An adapter that lists failed files without telling which failed of their own: each may be
 * either, and the warning says so rather than that bazel could not load them all. */
Test(bazel_kept, cannot_tell)
{
        struct pm_graph *g = pm_graph_new();
        char *w;

        cr_assert_not_null(g);
        cr_assert_eq(pm_strlist_push(g, &g->failed, "/r/a/BUILD"), 0);
        cr_assert_eq(pm_strlist_push(g, &g->failed, "/r/b/BUILD"), 0);
        w = pm__kept_warning(g, "tool", 3);
        cr_assert_str_eq(w, "kept the last good state of 3 crates of /r/a/BUILD and 1 other build "
                            "file, which tool could not load or which depend on one it could "
                            "not: the next run after the fix updates them");
        w = pm__kept_warning(g, "tool", 0);
        cr_assert_str_eq(w, "tool could not load /r/a/BUILD and 1 other build file (or they depend "
                            "on one it could not) and the model has no earlier state of them: "
                            "their crates are missing until they load");
        /* Told apart, one of its own: named and counted as before. */
        cr_assert_eq(pm_strlist_push(g, &g->failed_own, "/r/b/BUILD"), 0);
        w = pm__kept_warning(g, "tool", 3);
        cr_assert_str_eq(w, "kept the last good state of 3 crates of /r/b/BUILD, which tool could "
                            "not load, and of 1 build file that depends on it: the next run "
                            "after the fix updates them");
        pm_graph_free(g);
}
