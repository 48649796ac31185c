/* SPDX-License-Identifier: MIT */
/* Unit tests: a pm_audit kept between runs (audit/inventory.c, pm_audit_begin_run()): a run
 * looks only at the files no watched directory vouches for, and at those reported changed. */
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "testlib.h"

/* One run with @changed (NULL-terminated, may be NULL) and @watched directory (may be NULL);
 * returns how many files it stat'ed again, *@ret_changed whether any holds something new. */
static size_t
run(struct pm_audit *a, const char *const *changed, const char *watched, bool distrust,
    bool *ret_changed)
{
        struct pm_error err;
        size_t n = 0;
        bool any = false;

        pm_error_init(&err);
        while (changed && changed[n])
                n++;
        cr_assert_eq(pm_audit_begin_run(a, changed, n, watched ? &watched : NULL, watched ? 1 : 0,
                                        distrust, &any, &err),
                     0, "%s", err.msg);
        if (ret_changed)
                *ret_changed = any;
        return pm_audit_files_checked(a);
}

/* The directories pm_audit_unwatched_dirs() names, joined by spaces in sorted order. */
static char *
unwatched(struct pm_audit *a)
{
        struct pm_error err;
        char **v = NULL, *out;
        size_t n = 0;

        pm_error_init(&err);
        cr_assert_eq(pm_audit_unwatched_dirs(a, &v, &n, &err), 0, "%s", err.msg);
        if (n == 2 && strcmp(v[0], v[1]) > 0) {
                char *t = v[0];

                v[0] = v[1];
                v[1] = t;
        }
        out = pm_test_strf("%s %s", n > 0 ? v[0] : "", n > 1 ? v[1] : "");
        cr_assert_leq(n, 2);
        for (size_t i = 0; i < n; i++)
                pm_free(v[i]);
        pm_free(v);
        return out;
}

Test(audit_keep, a_run_looks_only_at_files_no_watch_vouches_for)
{
        char *tmp = pm_test_mkdtemp();
        char *src = pm_test_strf("%s/src", tmp), *ext = pm_test_strf("%s/ext", tmp);
        char *lib = pm_test_strf("%s/lib.rs", src), *a_rs = pm_test_strf("%s/a.rs", src);
        char *b_rs = pm_test_strf("%s/b.rs", src), *e_rs = pm_test_strf("%s/e.rs", ext);
        char *want, *got;
        const char *changed[] = { a_rs, NULL };
        const struct pm_audit_crate *inv = NULL;
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c;
        struct pm_audit *a = NULL;
        struct pm_error err;
        bool any;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(lib, "mod a;\nmod b;\n#[path = \"../ext/e.rs\"]\nmod e;\n"),
                     0);
        cr_assert_eq(pm_test_write_file(a_rs, "pub fn a() {}\n"), 0);
        cr_assert_eq(pm_test_write_file(b_rs, "pub unsafe fn b() {}\n"), 0);
        cr_assert_eq(pm_test_write_file(e_rs, "pub fn e() {}\n"), 0);
        cr_assert(g && (c = pm_graph_add_crate(g)));
        c->label = pm_graph_strdup(g, "//src:lib");
        c->root_module = pm_graph_strdup(g, lib);
        cr_assert_eq(pm_audit_new(&a, &err), 0);
        cr_assert_eq(pm_audit_add_crate(a, c, &inv, &err), 0, "%s", err.msg);
        cr_assert_eq(inv->n_sources, 4);
        cr_assert_eq(pm_audit_files_scanned(a), 4);

        /* Nothing watched yet: every file is checked; then src/ is (watched before this run). */
        cr_assert_eq(run(a, NULL, src, false, &any), 4);
        cr_assert_not(any);
        want = pm_test_strf("%s ", ext);
        got = unwatched(a);
        cr_assert_str_eq(got, want);
        pm_free(got);
        /* From now on only ext/e.rs, outside any watch. */
        cr_assert_eq(run(a, NULL, NULL, false, &any), 1);
        cr_assert_eq(run(a, NULL, NULL, false, &any), 1);
        cr_assert_not(any);
        /* A watched file reported changed is checked (once, however often reported). */
        cr_assert_eq(pm_test_write_file(a_rs, "pub fn a() {\n    unsafe {}\n}\n"), 0);
        {
                const char *twice[] = { a_rs, a_rs, NULL };

                cr_assert_eq(run(a, twice, NULL, false, &any), 2);
        }
        cr_assert(any, "the edit of a.rs was not seen");
        cr_assert_eq(run(a, changed, NULL, false, &any), 2);
        cr_assert_not(any, "a.rs did not change again");
        cr_assert_eq(run(a, NULL, NULL, false, &any), 1);
        /* A lost watch: every file checked again until src/ is watched again. */
        cr_assert_eq(run(a, NULL, NULL, true, &any), 4);
        pm_free(want);
        want = pm_test_strf("%s %s", ext, src);
        got = unwatched(a);
        cr_assert_str_eq(got, want);
        pm_free(got);
        cr_assert_eq(run(a, NULL, src, false, &any), 4);
        cr_assert_eq(run(a, NULL, NULL, false, &any), 1);

        pm_free(want);
        pm_audit_free(a);
        pm_graph_free(g);
        pm_test_rmtree(tmp);
        pm_free(e_rs);
        pm_free(b_rs);
        pm_free(a_rs);
        pm_free(lib);
        pm_free(ext);
        pm_free(src);
        pm_free(tmp);
}

/* A crate @label rooted at @root (in @g). */
static struct pm_crate *
crate_at(struct pm_graph *g, const char *label, const char *root)
{
        struct pm_crate *c = pm_graph_add_crate(g);

        cr_assert(c);
        c->label = pm_graph_strdup(g, label);
        c->root_module = pm_graph_strdup(g, root);
        return c;
}

/* Whether pm_audit_changed_crates() lists exactly @want (NULL-terminated), each once. */
static bool
changed_are(const struct pm_audit *a, const struct pm_audit_crate *const *want)
{
        const struct pm_audit_crate *const *v;
        size_t n = pm_audit_changed_crates(a, &v), n_want = 0;

        while (want[n_want])
                n_want++;
        if (n != n_want)
                return false;
        for (size_t i = 0; i < n_want; i++) {
                size_t seen = 0;

                for (size_t k = 0; k < n; k++)
                        seen += v[k] == want[i];
                if (seen != 1)
                        return false;
        }
        return true;
}

Test(audit_keep, a_change_reaches_only_the_crates_that_looked_at_the_file)
{
        char *tmp = pm_test_mkdtemp();
        char *one = pm_test_strf("%s/one/lib.rs", tmp), *two = pm_test_strf("%s/two/lib.rs", tmp);
        char *x_dir = pm_test_strf("%s/one/x", tmp), *x_mod = pm_test_strf("%s/one/x/mod.rs", tmp);
        const struct pm_audit_crate *inv1 = NULL, *inv2 = NULL;
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c1, *c2;
        struct pm_audit *a = NULL;
        struct pm_error err;
        bool any;

        pm_error_init(&err);
        /* one's `mod x;` has neither x.rs nor x/mod.rs: listed as the missing x.rs. */
        cr_assert_eq(pm_test_write_file(one, "mod x;\n"), 0);
        cr_assert_eq(pm_test_write_file(two, "pub fn t() {}\n"), 0);
        cr_assert(g);
        c1 = crate_at(g, "//one:one", one);
        c2 = crate_at(g, "//two:two", two);
        cr_assert_eq(pm_audit_new(&a, &err), 0);
        cr_assert_eq(pm_audit_add_crate(a, c1, &inv1, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_audit_add_crate(a, c2, &inv2, &err), 0, "%s", err.msg);
        cr_assert_eq(inv1->n_sources, 2);
        cr_assert(inv1->sources[1].flags & PM_AUDIT_SRC_MISSING);
        run(a, NULL, NULL, false, &any);
        cr_assert_not(any);
        cr_assert_not(pm_audit_crate_changed(a, inv1));
        cr_assert_not(pm_audit_crate_changed(a, inv2));

        /* two's root edited: two is out of date, one is not. */
        cr_assert_eq(pm_test_write_file(two, "pub unsafe fn t() {}\n"), 0);
        {
                const char *changed[] = { two, NULL };

                run(a, changed, NULL, false, &any);
        }
        cr_assert(any);
        cr_assert(pm_audit_crate_changed(a, inv2));
        cr_assert_not(pm_audit_crate_changed(a, inv1));
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ inv2, NULL }));
        pm_audit_drop_crate(a, inv2);
        /* Dropped, it is off the list (the daemon drops them as it reads it). */
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ NULL }));
        cr_assert_eq(pm_audit_add_crate(a, c2, &inv2, &err), 0, "%s", err.msg);
        cr_assert_eq(inv2->n_sites, 1);

        /* x/mod.rs appears: not one of one's sources, but a file its walk looked for. */
        cr_assert_eq(mkdir(x_dir, 0755), 0);
        cr_assert_eq(pm_test_write_file(x_mod, "pub unsafe fn x() {}\n"), 0);
        {
                const char *changed[] = { x_mod, NULL };

                run(a, changed, NULL, false, &any);
        }
        cr_assert(any);
        cr_assert(pm_audit_crate_changed(a, inv1));
        cr_assert_not(pm_audit_crate_changed(a, inv2));
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ inv1, NULL }));
        /* Dropped alone (the other crate stays valid) and counted again with the new file. */
        pm_audit_drop_crate(a, inv1);
        cr_assert_eq(inv2->n_sites, 1);
        cr_assert_eq(pm_audit_add_crate(a, c1, &inv1, &err), 0, "%s", err.msg);
        cr_assert_eq(inv1->n_sites, 1);
        cr_assert_str_eq(inv1->sources[1].path, x_mod);
        /* Nothing changed since: neither is out of date. */
        run(a, NULL, NULL, false, &any);
        cr_assert_not(any);
        cr_assert_not(pm_audit_crate_changed(a, inv1));
        cr_assert_not(pm_audit_crate_changed(a, inv2));
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ NULL }));

        pm_audit_free(a);
        pm_graph_free(g);
        pm_test_rmtree(tmp);
        pm_free(x_mod);
        pm_free(x_dir);
        pm_free(two);
        pm_free(one);
        pm_free(tmp);
}

/*
 * A file two crates share (a library and its test target, one root): its change lists both,
 * once each, from the file's own record of who looked at it; a crate dropped since is off that
 * record (it would be a freed crate on the list), and one added again is on it once more.
 */
Test(audit_keep, a_shared_files_change_lists_each_crate_once_and_no_dropped_one)
{
        char *tmp = pm_test_mkdtemp(), *lib = pm_test_strf("%s/lib/lib.rs", tmp);
        const struct pm_audit_crate *inv1 = NULL, *inv2 = NULL;
        const char *changed[] = { lib, NULL };
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c1, *c2;
        struct pm_audit *a = NULL;
        struct pm_error err;
        bool any;

        pm_error_init(&err);
        cr_assert_eq(pm_test_write_file(lib, "pub fn f() {}\n"), 0);
        cr_assert(g);
        c1 = crate_at(g, "//lib:lib", lib);
        c2 = crate_at(g, "//lib:lib_test", lib);
        cr_assert_eq(pm_audit_new(&a, &err), 0);
        cr_assert_eq(pm_audit_add_crate(a, c1, &inv1, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_audit_add_crate(a, c2, &inv2, &err), 0, "%s", err.msg);

        cr_assert_eq(pm_test_write_file(lib, "pub unsafe fn f() {}\n"), 0);
        run(a, changed, NULL, false, &any);
        cr_assert(any);
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ inv1, inv2, NULL }));
        /* The test target goes (its label left the model): the next change lists the library
         * alone. */
        pm_audit_drop_crate(a, inv2);
        pm_audit_drop_crate(a, inv1);
        cr_assert_eq(pm_audit_add_crate(a, c1, &inv1, &err), 0, "%s", err.msg);
        cr_assert_eq(inv1->n_sites, 1);
        cr_assert_eq(pm_test_write_file(lib, "pub fn f() {}\n"), 0);
        run(a, changed, NULL, false, &any);
        cr_assert(any);
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ inv1, NULL }));
        /* Back, it is reached again. */
        pm_audit_drop_crate(a, inv1);
        cr_assert_eq(pm_audit_add_crate(a, c1, &inv1, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_audit_add_crate(a, c2, &inv2, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_test_write_file(lib, "pub unsafe fn f() {}\nunsafe fn g() {}\n"), 0);
        run(a, changed, NULL, false, &any);
        cr_assert(changed_are(a, (const struct pm_audit_crate *const[]){ inv1, inv2, NULL }));

        pm_audit_free(a);
        pm_graph_free(g);
        pm_test_rmtree(tmp);
        pm_free(lib);
        pm_free(tmp);
}
