/* SPDX-License-Identifier: MIT */
/* The user's bazel-<workspace> convenience link in a cquery jsonproto result, made for real on
 * disk: the rules, build files and errors Bazel found again beneath it are dropped, and each
 * directory of the packages is lstat'ed once per parse, however many rules it holds. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"
#include "bazel-test.h"
#include "testlib.h"

PM_BAZEL_WS_SUITE(bazel_links, ws, "basic");

/* A cquery jsonproto result (as tests/bazel/data/cquery.json) of one rust_library per entry of
 * @labels ("//pkg:name"), each declared in ROOT/pkg/BUILD.bazel. pm_malloc'd. */
static char *
cquery(const char *const *labels, size_t n)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        cr_assert_eq(pm_strbuf_adds(&sb, "{\n  \"results\": ["), 0);
        for (size_t i = 0; i < n; i++) {
                const char *colon = strchr(labels[i], ':');
                int pkg_len = (int)(colon - labels[i] - 2);

                cr_assert_eq(
                        pm_strbuf_addf(
                                &sb,
                                "%s{\n    \"target\": {\n      \"type\": \"RULE\",\n"
                                "      \"rule\": {\n        \"name\": \"%s\",\n"
                                "        \"ruleClass\": \"rust_library\",\n"
                                "        \"location\": \"%s/%.*s/BUILD.bazel:3:13\",\n"
                                "        \"attribute\": [{\n          \"name\": \"srcs\",\n"
                                "          \"type\": \"LABEL_LIST\",\n"
                                "          \"stringListValue\": [\"//%.*s:lib.rs\"],\n"
                                "          \"explicitlySpecified\": true,\n"
                                "          \"nodep\": false\n        }],\n"
                                "        \"ruleInput\": [\"//%.*s:lib.rs\"]\n      }\n    },\n"
                                "    \"configuration\": {\n      \"checksum\": "
                                "\"32d956479565363098ee827e29908ac592035e9dcb87c63c11c4720373348ee0\"\n"
                                "    }\n  }",
                                i ? ", " : "", labels[i], ws.root, pkg_len, labels[i] + 2, pkg_len,
                                labels[i] + 2, pkg_len, labels[i] + 2),
                        0);
        }
        cr_assert_eq(pm_strbuf_adds(&sb, "]\n}\n"), 0);
        return pm_strbuf_detach(&sb, NULL);
}

static void
mkdirs(const char *rel)
{
        char *p = pm_test_strf("%s/%s", ws.root, rel);

        for (char *s = strchr(p + strlen(ws.root) + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
                if (!s)
                        break;
                *s = '/';
        }
        pm_free(p);
}

/* Parse @text as a ran query with @buildfiles (the `buildfiles()` step's labels) and Bazel's
 * --keep_going @errtext (or NULL). */
static struct pm_graph *
parse_ran(const char *text, const char *buildfiles, const char *errtext)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_query q = { .config = ws.cfg, .project = &ws.cfg->projects[0] };
        struct pm_blob blobs[2] = {
                { .data = text, .len = strlen(text), .origin = "bazel cquery" },
                { .data = buildfiles, .len = strlen(buildfiles), .origin = "bazel query" },
        };
        struct pm_graph *g = NULL;
        struct pm_error err;

        if (errtext) {
                blobs[0].error = "bazel exited with status 3";
                blobs[0].err_text = errtext;
                blobs[0].err_len = strlen(errtext);
        }
        pm_error_init(&err);
        cr_assert_eq(ops->parse(&q, blobs, 2, &g, &err), 0, "%s", err.msg);
        return g;
}

static bool
has_build_file(const struct pm_graph *g, const char *rel)
{
        char *p = pm_bazel_path(&ws, rel);
        bool r = pm_strlist_contains(&g->build_files, p);

        pm_free(p);
        return r;
}

/*
 * A user's bazel-basic link into the execroot of their own output base (its execroot holds
 * DO_NOT_BUILD_HERE, as Bazel makes it), which Bazel before 7.1 follows when expanding //...:
 * the rules beneath it, their build files and their errors are dropped. A rule under a link
 * to a plain directory, and the workspace's own rules, are kept.
 */
Test(bazel_links, rules_through_the_users_bazel_link_are_dropped)
{
        static const char *const labels[] = {
                "//lib/util:util",
                "//bazel-basic/lib/util:util",
                "//bazel-basic/lib/foo:foo",
                "//linked/x:x",
        };
        char *user_ob = pm_test_strf("%s/user-ob", ws.tmp);
        char *execroot = pm_test_strf("%s/execroot", user_ob);
        char *marker = pm_test_strf("%s/DO_NOT_BUILD_HERE", execroot);
        char *main_repo = pm_test_strf("%s/basic", execroot);
        char *lib = pm_bazel_path(&ws, "lib");
        char *main_lib = pm_test_strf("%s/lib", main_repo);
        char *link = pm_bazel_path(&ws, "bazel-basic");
        char *plain = pm_test_strf("%s/plain", ws.tmp);
        char *plain_link = pm_bazel_path(&ws, "linked");
        char *text = cquery(labels, sizeof(labels) / sizeof(labels[0]));
        char *errtext = pm_test_strf("ERROR: %s/bazel-basic/lib/foo/BUILD.bazel:2:1: syntax "
                                     "error at 'srcs': expected ,\n",
                                     ws.root);
        struct pm_graph *g;

        cr_assert_eq(mkdir(user_ob, 0755), 0);
        cr_assert_eq(mkdir(execroot, 0755), 0);
        cr_assert_eq(pm_test_write_file(marker, ""), 0);
        /* The execroot's main repository: a directory of links to the workspace's top-level
         * entries, as Bazel makes it. */
        cr_assert_eq(mkdir(main_repo, 0755), 0);
        cr_assert_eq(symlink(lib, main_lib), 0);
        cr_assert_eq(symlink(main_repo, link), 0);
        cr_assert_eq(mkdir(plain, 0755), 0);
        cr_assert_eq(symlink(plain, plain_link), 0);
        mkdirs("linked/x");
        g = parse_ran(text,
                      "//lib/util:BUILD\n//bazel-basic/lib/util:BUILD\n"
                      "//bazel-basic/lib/foo:BUILD.bazel\n//linked/x:BUILD.bazel\n@ext//:BUILD\n",
                      errtext);
        cr_assert_not_null(pm_graph_find(g, "//lib/util:util"));
        cr_assert_not_null(pm_graph_find(g, "//linked/x:x"), "a plain link is the user's");
        cr_assert_null(pm_graph_find(g, "//bazel-basic/lib/util:util"));
        cr_assert_null(pm_graph_find(g, "//bazel-basic/lib/foo:foo"));
        cr_assert_eq(g->n_crates, 2, "got %zu", g->n_crates);
        cr_assert(has_build_file(g, "lib/util/BUILD"));
        cr_assert(has_build_file(g, "linked/x/BUILD.bazel"));
        for (size_t i = 0; i < g->build_files.n; i++)
                cr_assert_null(strstr(g->build_files.v[i], "/bazel-basic/"), "%s",
                               g->build_files.v[i]);
        cr_assert_eq(g->failed.n, 0, "its error is the same file's, seen again: %s",
                     g->failed.n ? g->failed.v[0] : "");
        /* What the parse looked at is what its input stamp records: each link, the execroot
         * marker it found, a plain directory. */
        cr_assert(g->inputs_known);
        cr_assert(pm_strlist_contains(&g->inputs, link), "%s", link);
        cr_assert(pm_strlist_contains(&g->inputs, marker), "%s", marker);
        cr_assert(pm_strlist_contains(&g->inputs, plain_link), "%s", plain_link);
        cr_assert(pm_strlist_contains(&g->inputs, lib), "%s", lib);
        pm_graph_free(g);
        pm_free(text);
        pm_free(errtext);
        pm_free(user_ob);
        pm_free(execroot);
        pm_free(marker);
        pm_free(main_repo);
        pm_free(link);
        pm_free(lib);
        pm_free(main_lib);
        pm_free(plain);
        pm_free(plain_link);
}

/* The lstat()s of one parse of @per_pkg rules in each of 5 packages deep/a/b/c/d/pN. */
static uint64_t
lstats_of(size_t per_pkg)
{
        const char **labels = pm_calloc(5 * per_pkg, sizeof(*labels));
        char *text;
        struct pm_graph *g;
        uint64_t before;

        for (size_t p = 0; p < 5; p++)
                for (size_t i = 0; i < per_pkg; i++)
                        labels[p * per_pkg + i] = pm_test_strf("//deep/a/b/c/d/p%zu:r%zu", p, i);
        text = cquery(labels, 5 * per_pkg);
        before = pm__bazel_link_lstats();
        g = parse_ran(text, "", NULL);
        cr_assert_eq(g->n_crates, 5 * per_pkg);
        pm_graph_free(g);
        for (size_t i = 0; i < 5 * per_pkg; i++)
                pm_free((char *)labels[i]);
        pm_free(labels);
        pm_free(text);
        return pm__bazel_link_lstats() - before;
}

/*
 * Looking for the user's link costs one lstat() per directory of the packages in a parse, not
 * one per component per rule: 5 packages five levels deep are 10 directories (deep, deep/a, ...,
 * deep/a/b/c/d, and the 5 packages), whether they hold 1 rule each or 200.
 */
Test(bazel_links, each_directory_is_lstated_once_per_parse)
{
        uint64_t one, many;

        for (size_t p = 0; p < 5; p++) {
                char *rel = pm_test_strf("deep/a/b/c/d/p%zu", p);

                mkdirs(rel);
                pm_free(rel);
        }
        one = lstats_of(1);
        many = lstats_of(200);
        cr_assert_eq(one, 10, "got %llu", (unsigned long long)one);
        cr_assert_eq(many, one, "%llu lstats for 200 rules a package, %llu for 1",
                     (unsigned long long)many, (unsigned long long)one);
}

/*
 * What the parse looked at is enough for its input stamp (projmodel/stamp.h): the stamp of an
 * unchanged tree is fresh, and a directory of the packages replaced by a link into an
 * execroot, as the user's `bazel build` makes it, makes it stale, so the next export parses
 * again and drops the rules found through it.
 */
Test(bazel_links, the_input_stamp_sees_a_directory_become_a_link)
{
        static const char *const labels[] = { "//side/x:x" };
        char *text = cquery(labels, 1);
        char *side = pm_bazel_path(&ws, "side"), *ob = pm_test_strf("%s/ob2", ws.tmp);
        char *execroot = pm_test_strf("%s/execroot", ob);
        char *main_repo = pm_test_strf("%s/basic", execroot);
        char *marker = pm_test_strf("%s/DO_NOT_BUILD_HERE", execroot);
        char *stamp = NULL;
        struct pm_graph *g;
        struct pm_error err;
        int64_t since;

        mkdirs("side/x");
        (void)nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
        since = pm_stamp_clock();
        g = parse_ran(text, "", NULL);
        cr_assert_eq(g->n_crates, 1);
        cr_assert(g->inputs_known);
        pm_error_init(&err);
        cr_assert_eq(pm_stamp_make(7, &g->inputs, since, &stamp, &err), 0, "%s", err.msg);
        cr_assert_not_null(stamp, "the tree was made before the parse");
        cr_assert(pm_stamp_fresh(stamp, 7));
        pm_graph_free(g);

        /* side/ becomes a link into an execroot. */
        cr_assert_eq(mkdir(ob, 0755), 0);
        cr_assert_eq(mkdir(execroot, 0755), 0);
        cr_assert_eq(mkdir(main_repo, 0755), 0);
        cr_assert_eq(pm_test_write_file(marker, ""), 0);
        pm_test_rmtree(side);
        cr_assert_eq(symlink(main_repo, side), 0);
        cr_assert_not(pm_stamp_fresh(stamp, 7), "a directory of the packages became a link");
        pm_free(stamp);
        pm_free(text);
        pm_free(side);
        pm_free(ob);
        pm_free(main_repo);
        pm_free(execroot);
        pm_free(marker);
}
