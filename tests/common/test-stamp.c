/* SPDX-License-Identifier: MIT */
/* Input stamps (common/stamp.c): a stamp noticing every kind of change to the files it records,
 * including a file appearing, and refusing to vouch for files written in the clock tick it was made
 * in. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"

#include "testlib.h"

/* Set @path's mtime to @sec seconds after the epoch (ctime becomes "now"). */
static void
set_mtime(const char *path, time_t sec)
{
        struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

        cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct fx {
        char *dir;
        char *a, *b, *missing;
        struct pm_graph *g; /* owns the inputs list */
};

static void
fx_init(struct fx *f)
{
        f->dir = pm_test_mkdtemp();
        f->a = pm_test_strf("%s/a.ninja", f->dir);
        f->b = pm_test_strf("%s/sub dir/b.ninja", f->dir);
        f->missing = pm_test_strf("%s/missing.ninja", f->dir);
        cr_assert_eq(pm_test_write_file(f->a, "externs = --extern x=y\n"), 0);
        cr_assert_eq(pm_test_write_file(f->b, "nothing\n"), 0);
        f->g = pm_graph_new();
        cr_assert_eq(pm_strlist_push(f->g, &f->g->inputs, f->a), 0);
        cr_assert_eq(pm_strlist_push(f->g, &f->g->inputs, f->b), 0);
        cr_assert_eq(pm_strlist_push(f->g, &f->g->inputs, f->missing), 0);
}

static void
fx_release(struct fx *f)
{
        pm_graph_free(f->g);
        pm_test_rmtree(f->dir);
        pm_free(f->dir);
        pm_free(f->a);
        pm_free(f->b);
        pm_free(f->missing);
}

/* A stamp made as if the parse had started far in the future: every file is old enough. */
static char *
make(struct fx *f, uint64_t key)
{
        char *s = NULL;

        cr_assert_eq(pm_stamp_make(key, &f->g->inputs, INT64_MAX, &s, NULL), 0);
        cr_assert_not_null(s);
        return s;
}

Test(common_stamp, unchanged_files_are_fresh_and_the_key_must_match)
{
        struct fx f;
        char *s;

        fx_init(&f);
        s = make(&f, 42);
        cr_assert(pm_stamp_fresh(s, 42));
        cr_assert_not(pm_stamp_fresh(s, 43), "another tool output");
        cr_assert_not(pm_stamp_fresh(NULL, 42));
        cr_assert_not(pm_stamp_fresh("garbage", 42));
        pm_free(s);
        fx_release(&f);
}

Test(common_stamp, a_same_size_rewrite_is_noticed)
{
        struct fx f;
        char *s;

        fx_init(&f);
        set_mtime(f.a, 1000000);
        s = make(&f, 1);
        cr_assert(pm_stamp_fresh(s, 1));
        /* Same length, same (restored) mtime: only the ctime and inode tell. */
        cr_assert_eq(pm_test_write_file(f.a, "externs = --extern z=y\n"), 0);
        set_mtime(f.a, 1000000);
        cr_assert_not(pm_stamp_fresh(s, 1));
        pm_free(s);
        fx_release(&f);
}

Test(common_stamp, a_missing_input_that_appears_is_noticed)
{
        struct fx f;
        char *s;

        fx_init(&f);
        s = make(&f, 1);
        cr_assert(strstr(s, "- "), "the missing file is recorded");
        cr_assert(pm_stamp_fresh(s, 1));
        cr_assert_eq(pm_test_write_file(f.missing, "new\n"), 0);
        cr_assert_not(pm_stamp_fresh(s, 1));
        pm_free(s);
        fx_release(&f);
}

Test(common_stamp, a_removed_input_is_noticed)
{
        struct fx f;
        char *s;

        fx_init(&f);
        s = make(&f, 1);
        cr_assert_eq(unlink(f.b), 0);
        cr_assert_not(pm_stamp_fresh(s, 1));
        pm_free(s);
        fx_release(&f);
}

Test(common_stamp, files_of_the_current_clock_tick_are_not_trusted)
{
        struct fx f;
        char *s = (char *)"unset";

        fx_init(&f);
        /* The parse "started" before the files were written: they may change unseen. */
        cr_assert_eq(pm_stamp_make(1, &f.g->inputs, 0, &s, NULL), 0);
        cr_assert_null(s);
        /* A parse that started after they were last written can vouch for them. */
        set_mtime(f.a, 1000000);
        set_mtime(f.b, 1000000);
        s = (char *)"unset";
        cr_assert_eq(pm_stamp_make(1, &f.g->inputs, pm_stamp_clock() + 1000000000LL, &s, NULL), 0);
        cr_assert_not_null(s);
        pm_free(s);
        fx_release(&f);
}

Test(common_stamp, a_path_with_a_newline_gets_no_stamp)
{
        struct fx f;
        char *s = (char *)"unset";
        char *odd;

        fx_init(&f);
        odd = pm_test_strf("%s/a\nb", f.dir);
        cr_assert_eq(pm_strlist_push(f.g, &f.g->inputs, odd), 0);
        cr_assert_eq(pm_stamp_make(1, &f.g->inputs, INT64_MAX, &s, NULL), 0);
        cr_assert_null(s);
        pm_free(odd);
        fx_release(&f);
}

/* A record taken after the parse (a dylib the refresh built) is judged by its own clock. */
Test(common_stamp, a_record_with_its_own_clock_is_judged_by_it)
{
        struct pm_stamp_file files[3];
        struct fx f;
        char *s = (char *)"unset";
        int64_t since = 0;

        fx_init(&f);
        for (size_t i = 0; i < 3; i++)
                cr_assert_eq(pm_stamp_file_stat(f.g->inputs.v[i], &files[i]), 0);
        /* a and b were written after the parse's clock: not trusted as they are... */
        cr_assert_eq(pm_stamp_make_known(1, &f.g->inputs, files, since, &s, NULL), 0);
        cr_assert_null(s);
        /* ...but recorded after they were written, with the clock read then, they are. */
        files[0].since_ns = files[1].since_ns = pm_stamp_clock() + 1000000000LL;
        cr_assert_eq(pm_stamp_make_known(1, &f.g->inputs, files, since, &s, NULL), 0);
        cr_assert_not_null(s);
        cr_assert(pm_stamp_fresh(s, 1));
        pm_free(s);
        /* A record whose own clock is not past the file's times is still refused. */
        files[1].since_ns = files[1].mtime_ns;
        s = (char *)"unset";
        cr_assert_eq(pm_stamp_make_known(1, &f.g->inputs, files, since, &s, NULL), 0);
        cr_assert_null(s);
        fx_release(&f);
}
