/* SPDX-License-Identifier: MIT */
/* Tests for lexical path normalisation and the path helpers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "testlib.h"

struct norm_case {
        const char *base;
        const char *in;
        const char *out;
};

static const struct norm_case norm_cases[] = {
        { NULL, "/", "/" },
        { NULL, "/a/b", "/a/b" },
        { NULL, "/a/b/", "/a/b" },
        { NULL, "//a//b//", "/a/b" },
        { NULL, "/a/./b/.", "/a/b" },
        { NULL, "/a/b/../c", "/a/c" },
        { NULL, "/a/b/../../..", "/" },
        { NULL, "/..", "/" },
        { NULL, "/../a", "/a" },
        { NULL, "/a/b/c/../../d/./e/..", "/a/d" },
        { NULL, "a/b", "a/b" },
        { NULL, "a/../..", ".." },
        { NULL, "../a/../b", "../b" },
        { NULL, "./", "." },
        { NULL, "", "." },
        { NULL, "a/..", "." },
        { NULL, "../../x", "../../x" },
        { "/base/dir", "x.rs", "/base/dir/x.rs" },
        { "/base/dir", "../x.rs", "/base/x.rs" },
        { "/base/dir", "../../../x.rs", "/x.rs" },
        { "/base/dir", "/abs/x.rs", "/abs/x.rs" },
        { "/base/dir/", ".", "/base/dir" },
        { "/", "a", "/a" },
        { NULL, "/a/..b/.c", "/a/..b/.c" },
        { NULL, "/a/.../b", "/a/.../b" },
};

Test(common_path, normalize_cases)
{
        for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
                const struct norm_case *c = &norm_cases[i];
                char *got = pm_path_normalize(NULL, c->base, c->in);

                cr_assert_str_eq(got, c->out, "normalize(%s, %s) = %s, want %s",
                                 c->base ? c->base : "NULL", c->in, got, c->out);
                pm_free(got);
        }
}

Test(common_path, normalize_into_arena)
{
        struct pm_arena *a = pm_arena_new();

        cr_assert_str_eq(pm_path_normalize(a, "/r", "x/../y"), "/r/y");
        cr_assert_str_eq(pm_path_join(a, "/r/", "/s"), "/r/s");
        cr_assert_str_eq(pm_path_dirname(a, "/r/s/t.rs"), "/r/s");
        pm_arena_free(a);
}

Test(common_path, join)
{
        char *p;

        p = pm_path_join(NULL, "/a/b", "c/d.rs");
        cr_assert_str_eq(p, "/a/b/c/d.rs");
        pm_free(p);
        p = pm_path_join(NULL, "/a/b/", "../c");
        cr_assert_str_eq(p, "/a/c");
        pm_free(p);
        p = pm_path_join(NULL, "rel", "x");
        cr_assert_str_eq(p, "rel/x");
        pm_free(p);
}

Test(common_path, dirname)
{
        const char *cases[][2] = {
                { "/a/b/c.rs", "/a/b" }, { "/x", "/" },  { "/", "/" }, { "a/b", "a" }, { "a", "." },
                { "/a/b/", "/a" },       { "//a", "/" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *d = pm_path_dirname(NULL, cases[i][0]);

                cr_assert_str_eq(d, cases[i][1], "dirname(%s) = %s", cases[i][0], d);
                pm_free(d);
        }
}

Test(common_path, basename)
{
        cr_assert_str_eq(pm_path_basename("/a/b/c.rs"), "c.rs");
        cr_assert_str_eq(pm_path_basename("c.rs"), "c.rs");
        cr_assert_str_eq(pm_path_basename("/x"), "x");
        cr_assert_str_eq(pm_path_basename("/"), "/");
}

Test(common_path, is_under)
{
        cr_assert(pm_path_is_under("/a/b", "/a"));
        cr_assert(pm_path_is_under("/a", "/a"));
        cr_assert(pm_path_is_under("/a/b/c", "/a/b"));
        cr_assert(pm_path_is_under("/anything", "/"));
        cr_assert_not(pm_path_is_under("/ab", "/a"));
        cr_assert_not(pm_path_is_under("/a", "/a/b"));
        cr_assert_not(pm_path_is_under("/b/a", "/a"));
}

Test(common_path, is_absolute)
{
        cr_assert(pm_path_is_absolute("/x"));
        cr_assert_not(pm_path_is_absolute("x"));
        cr_assert_not(pm_path_is_absolute(""));
        cr_assert_not(pm_path_is_absolute(NULL));
}

Test(common_path, cwd_is_normalised)
{
        char *cwd, *tmp = strdup("/tmp/pm-cwd-XXXXXX"), *want;

        cr_assert_not_null(mkdtemp(tmp));
        cr_assert_eq(chdir(tmp), 0);
        cwd = pm_path_cwd();
        want = pm_path_normalize(NULL, NULL, tmp);
        cr_assert_str_eq(cwd, want);
        cr_assert_eq(chdir("/"), 0);
        cr_assert_eq(rmdir(tmp), 0);
        pm_free(cwd);
        pm_free(want);
        free(tmp);
}

/*
 * pm_path_systemd_escape() against the real `systemd-escape --path` (the instance name the
 * projmodel@.socket unit of a root gets, docs/protocol.md "systemd socket activation") on
 * awkward roots: what it escapes, what it drops, what it refuses.
 */
Test(common_path, systemd_escape_matches_systemd)
{
        static const char *const roots[] = {
                "/",
                "//",
                "/home/me/src/monorepo",
                "/home/me/src/monorepo/",
                "//srv//mono//",
                "/home/me/my repo/sub dir",
                "/srv/my-repo-2/x--y",
                "/srv/repo.v2/a.b.c",
                "/.hidden/repo",
                "/srv/.dot/.x",
                "/...",
                "/a/..b/c..",
                "/a/./b/.",
                "/home/j\xc3\xa9r\xc3\xb4me/\xe6\x97\xa5\xe6\x9c\xac",
                "/bytes/\x01\x1f\x7f\x80\xff",
                "/a:b_c.d/E",
                "/back\\slash/tab\there",
                "/~user/A+B=C,@%$#!&'()*;[]{}|<>?\"`^",
        };
        const char *refused[] = { "/a/../b", "/..", "/a/..", NULL /* long_comp */ };
        struct pm_error err = { 0 };
        char long_comp[300], *escaped = NULL;

        cr_assert(pm_test_have("systemd-escape"), "systemd-escape is needed (systemd)");
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
                const char *argv[] = { "systemd-escape", "--path", "--", roots[i], NULL };
                char *want = NULL, *got = NULL;

                cr_assert_eq(pm_test_run(argv, NULL, NULL, NULL, &want, NULL), 0,
                             "systemd-escape --path '%s' failed", roots[i]);
                cr_assert(strlen(want) > 0 && want[strlen(want) - 1] == '\n');
                want[strlen(want) - 1] = '\0';
                cr_assert_eq(pm_path_systemd_escape(roots[i], &got, &err), 0, "'%s': %s", roots[i],
                             err.msg);
                cr_assert_str_eq(got, want, "'%s': ours '%s', systemd's '%s'", roots[i], got, want);
                pm_free(got);
                pm_free(want);
        }
        /* ".." cannot be escaped reversibly, nor can a component over NAME_MAX (255) bytes. */
        memset(long_comp, 'a', sizeof(long_comp));
        long_comp[0] = '/';
        long_comp[1 + 255] = '\0';
        cr_assert_eq(pm_test_run((const char *[]){ "systemd-escape", "--path", long_comp, NULL },
                                 NULL, NULL, NULL, NULL, NULL),
                     0);
        cr_assert_eq(pm_path_systemd_escape(long_comp, &escaped, &err), 0, "%s", err.msg);
        cr_assert_eq(strlen(escaped), 255);
        pm_free(escaped);
        long_comp[1 + 255] = 'a';
        long_comp[1 + 256] = '\0';
        refused[sizeof(refused) / sizeof(refused[0]) - 1] = long_comp;
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                const char *argv[] = { "systemd-escape", "--path", "--", refused[i], NULL };

                escaped = NULL;
                cr_assert_neq(pm_test_run(argv, NULL, NULL, NULL, NULL, NULL), 0,
                              "systemd-escape escaped '%.40s'", refused[i]);
                cr_assert_eq(pm_path_systemd_escape(refused[i], &escaped, &err), -EINVAL, "'%.40s'",
                             refused[i]);
                cr_assert_null(escaped);
        }
        /* systemd-escape only warns for a relative path; a root is never one. */
        escaped = NULL;
        cr_assert_eq(pm_path_systemd_escape("home/me", &escaped, &err), -EINVAL);
        cr_assert_null(escaped);
}
