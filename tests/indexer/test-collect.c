/* SPDX-License-Identifier: MIT */
/* Collecting a cache directory (pm_index_cache_collect()): on real model files, what any model
 * names stays, what none names goes once old, young entries, unreadable models and the daily
 * limit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "projmodel/dylib-cache.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

#define DAY (24L * 3600)

struct cfx {
        char *tmp, *cache;
        char *keep; /* a user's file beside the cache, inside the directory links point at */
};

static void
cfx_init(struct cfx *fx)
{
        char *user;

        fx->tmp = pm_test_mkdtemp();
        cr_assert_not_null(fx->tmp);
        fx->cache = pm_test_strf("%s/cache", fx->tmp);
        cr_assert_eq(mkdir(fx->cache, 0700), 0);
        user = pm_test_strf("%s/user", fx->tmp);
        cr_assert_eq(mkdir(user, 0755), 0);
        fx->keep = pm_test_strf("%s/file.rs", user);
        cr_assert_eq(pm_test_write_file(fx->keep, "fn main() {}\n"), 0);
        pm_free(user);
}

static void
cfx_release(struct cfx *fx)
{
        pm_test_rmtree(fx->tmp);
        pm_free(fx->tmp);
        pm_free(fx->cache);
        pm_free(fx->keep);
}

/* "<cache>/<rel>", pm_malloc'd. */
static char *
at(const struct cfx *fx, const char *rel)
{
        return pm_test_strf("%s/%s", fx->cache, rel);
}

/* Set the mtime of <cache>/<rel> (not followed) to @age_s seconds ago. */
static void
age(const struct cfx *fx, const char *rel, long age_s)
{
        char *p = at(fx, rel);

        pm_test_age_path(p, age_s);
        pm_free(p);
}

static time_t
mtime_of(const struct cfx *fx, const char *rel)
{
        struct stat sb;
        char *p = at(fx, rel);

        cr_assert_eq(lstat(p, &sb), 0, "%s", p);
        pm_free(p);
        return sb.st_mtime;
}

static bool
exists(const struct cfx *fx, const char *rel)
{
        struct stat sb;
        char *p = at(fx, rel);
        bool r = lstat(p, &sb) == 0;

        pm_free(p);
        return r;
}

/* A file at <cache>/<rel> of @size bytes, @age_s seconds old. */
static void
plant_file(const struct cfx *fx, const char *rel, size_t size, time_t age_s)
{
        char *p = at(fx, rel), *text = pm_calloc(size + 1, 1);

        memset(text, 'x', size);
        cr_assert_eq(pm_test_write_file(p, text), 0, "%s", p);
        age(fx, rel, age_s);
        pm_free(text);
        pm_free(p);
}

/* A joined source directory <cache>/srcs/<name>: links at two depths, @age_s seconds old. */
static void
plant_srcs(const struct cfx *fx, const char *name, time_t age_s)
{
        char *dir = pm_test_strf("%s/srcs/%s", fx->cache, name);
        char *sub = pm_test_strf("%s/sub", dir), *l1 = pm_test_strf("%s/lib.rs", dir),
             *l2 = pm_test_strf("%s/gen.rs", sub), *rel = pm_test_strf("srcs/%s", name),
             *user = pm_test_strf("%s/user", fx->tmp);

        cr_assert_eq(mkdir(dir, 0755), 0, "%s", dir);
        cr_assert_eq(mkdir(sub, 0755), 0);
        cr_assert_eq(symlink("/nonexistent/lib.rs", l1), 0);
        cr_assert_eq(symlink(user, l2), 0);
        age(fx, rel, age_s);
        pm_free(dir);
        pm_free(sub);
        pm_free(l1);
        pm_free(l2);
        pm_free(rel);
        pm_free(user);
}

/*
 * The model <cache>/<name>.db with one crate per dylib of @dylibs (proc macros naming
 * <cache>/dylibs/<dylib>) and, when @srcs is set, a crate served from <cache>/srcs/<srcs>.
 */
static void
make_model_at(const struct cfx *fx, const char *path, const char *name, const char *const *dylibs,
              const char *srcs)
{
        struct pm_graph *g = pm_graph_new();
        struct pm_index *idx = NULL;
        struct pm_error err = { 0 };

        cr_assert_not_null(g);
        for (size_t i = 0; dylibs && dylibs[i]; i++) {
                char *label = pm_test_strf("//%s:mac%zu", name, i),
                     *cname = pm_test_strf("mac%zu", i);
                struct pm_crate *c = pm_fx_crate(g, "/repo", label, cname);

                cr_assert_not_null(c);
                c->kind = PM_CRATE_PROC_MACRO;
                c->proc_macro_dylib = pm_graph_printf(g, "%s/dylibs/%s", fx->cache, dylibs[i]);
                pm_free(label);
                pm_free(cname);
        }
        if (srcs) {
                char *label = pm_test_strf("//%s:mixed", name);
                struct pm_crate *c = pm_fx_crate(g, "/repo", label, "mixed");
                char *dir = pm_test_strf("%s/srcs/%s", fx->cache, srcs);

                cr_assert_not_null(c);
                c->root_module = pm_graph_printf(g, "%s/lib.rs", dir);
                cr_assert_eq(pm_strlist_push(g, &c->include_dirs, dir), 0);
                pm_free(label);
                pm_free(dir);
        }
        cr_assert_eq(pm_index_open(path, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(idx, "//", g, NULL, &err), 0, "%s", err.msg);
        pm_index_close(idx);
        pm_graph_free(g);
}

static void
make_model(const struct cfx *fx, const char *name, const char *const *dylibs, const char *srcs)
{
        char *path = pm_test_strf("%s/%s.db", fx->cache, name);

        make_model_at(fx, path, name, dylibs, srcs);
        pm_free(path);
}

/* How many entries the directory @dir has, "." and ".." aside. */
static int
count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        cr_assert_not_null(d, "%s", dir);
        while ((de = readdir(d)))
                n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        closedir(d);
        return n;
}

static int
collect(const struct cfx *fx, struct pm_cache_stats *stats, struct pm_error *err)
{
        pm_error_init(err);
        return pm_index_cache_collect(fx->cache, NULL, stats, err);
}

static void
mkdirs(const struct cfx *fx)
{
        char *d = at(fx, "dylibs"), *s = at(fx, "srcs");

        cr_assert_eq(mkdir(d, 0755), 0);
        cr_assert_eq(mkdir(s, 0755), 0);
        pm_free(d);
        pm_free(s);
}

Test(collect, removes_only_old_entries_no_model_names)
{
        static const char *const a_dylibs[] = { "libaaaaaaaaaaaaaaaa.so", NULL };
        static const char *const b_dylibs[] = { "libbbbbbbbbbbbbbbbb.so", NULL };
        struct pm_cache_stats st;
        struct pm_error err;
        struct cfx fx;

        cfx_init(&fx);
        mkdirs(&fx);
        /* Two models of the directory, as two roots' daemons leave them. */
        make_model(&fx, "a-0000000000000001", a_dylibs, "1111111111111111");
        make_model(&fx, "b-0000000000000002", b_dylibs, NULL);

        plant_file(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so", 10, 30 * DAY);
        plant_file(&fx, "dylibs/libbbbbbbbbbbbbbbbb.so", 10, 30 * DAY);
        plant_file(&fx, "dylibs/libcccccccccccccccc.so", 100, 30 * DAY);
        plant_file(&fx, "dylibs/libdddddddddddddddd.so", 10, 2 * DAY);
        plant_file(&fx, "dylibs/libeeeeeeeeeeeeeeee.so.tmp-Ab12Cd", 7, 8 * DAY);
        plant_srcs(&fx, "1111111111111111", 30 * DAY);
        plant_srcs(&fx, "2222222222222222", 30 * DAY);
        plant_srcs(&fx, ".gc-3333333333333333", 30 * DAY);
        plant_file(&fx, "notes.txt", 3, 30 * DAY);

        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert(st.ran);
        cr_expect_eq(st.models, 2);
        cr_expect_eq(st.kept, 3, "in use: aaaa (model a), bbbb (model b), srcs 1111 (model a)");
        cr_expect_eq(st.young, 1, "dddd is two days old");
        cr_expect_eq(st.removed, 4, "cccc, the stale temporary file, srcs 2222 and .gc-3333");
        cr_expect_eq(st.bytes, 107);

        cr_assert(exists(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so"));
        cr_assert(exists(&fx, "dylibs/libbbbbbbbbbbbbbbbb.so"), "another model's entry stays");
        cr_assert(exists(&fx, "srcs/1111111111111111/sub/gen.rs"));
        cr_assert(exists(&fx, "dylibs/libdddddddddddddddd.so"));
        cr_assert_not(exists(&fx, "dylibs/libcccccccccccccccc.so"));
        cr_assert_not(exists(&fx, "dylibs/libeeeeeeeeeeeeeeee.so.tmp-Ab12Cd"));
        cr_assert_not(exists(&fx, "srcs/2222222222222222"));
        cr_assert_not(exists(&fx, "srcs/.gc-2222222222222222"));
        cr_assert_not(exists(&fx, "srcs/.gc-3333333333333333"));
        cr_assert(exists(&fx, "notes.txt"), "only the dylibs and srcs folders are collected");
        cr_assert(exists(&fx, "a-0000000000000001.db") && exists(&fx, "b-0000000000000002.db"));
        /* Links were removed, not followed: what srcs 2222's link to a directory points at is
         * still there. */
        cr_assert_eq(access(fx.keep, R_OK), 0, "%s", fx.keep);

        /* What is in use is younger than the limit again: a model dropping it later gives a
         * rust-analyzer holding the last answer the whole grace period. */
        cr_assert_geq(mtime_of(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so"), time(NULL) - 60);
        cr_assert_geq(mtime_of(&fx, "srcs/1111111111111111"), time(NULL) - 60);
        cr_assert_lt(mtime_of(&fx, "dylibs/libdddddddddddddddd.so"), time(NULL) - DAY,
                     "an entry no model names is not renewed");

        cfx_release(&fx);
}

Test(collect, runs_once_a_day_per_directory)
{
        struct pm_cache_stats st;
        struct pm_error err;
        struct cfx fx;

        cfx_init(&fx);
        mkdirs(&fx);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert(st.ran);
        plant_file(&fx, "dylibs/libcccccccccccccccc.so", 10, 30 * DAY);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert_not(st.ran, "collected a moment ago");
        cr_assert(exists(&fx, "dylibs/libcccccccccccccccc.so"));
        /* A stamp a second ahead of time() is one just written with a finer clock; one an hour
         * ahead is from a clock set back since. */
        age(&fx, "collected", -1);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert_not(st.ran, "the stamp is a second ahead");
        age(&fx, "collected", -3600);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert(st.ran, "the stamp is an hour ahead");
        cr_assert_eq(st.removed, 1);
        plant_file(&fx, "dylibs/libcccccccccccccccc.so", 10, 30 * DAY);

        /* The stamp is the directory's, so another process reads it too. */
        age(&fx, "collected", DAY + 60);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert(st.ran);
        cr_assert_eq(st.removed, 1);
        cr_assert_not(exists(&fx, "dylibs/libcccccccccccccccc.so"));

        /* No cache directory yet: nothing to do. */
        pm_test_rmtree(fx.cache);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert_not(st.ran);
        cfx_release(&fx);
}

Test(collect, any_table_of_any_model_keeps_what_it_names)
{
        struct pm_cache_stats st;
        struct pm_error err;
        struct cfx fx;
        sqlite3 *db;
        char *path, *sql;

        cfx_init(&fx);
        mkdirs(&fx);
        /* A model of another schema version (an older projmodel's), naming a directory and a
         * dylib in columns this version does not have. */
        path = at(&fx, "old-0000000000000003.db");
        sql = pm_test_strf(
                "CREATE TABLE things(x TEXT, y BLOB);"
                "INSERT INTO things VALUES('%s/srcs/4444444444444444/lib.rs', NULL);"
                "INSERT INTO things VALUES(NULL, CAST('[\"%s/dylibs/libffffffffffffffff.so\"]' AS BLOB));",
                fx.cache, fx.cache);
        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        plant_srcs(&fx, "4444444444444444", 30 * DAY);
        plant_file(&fx, "dylibs/libffffffffffffffff.so", 10, 30 * DAY);
        plant_file(&fx, "dylibs/libcccccccccccccccc.so", 10, 30 * DAY);

        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert_eq(st.models, 1);
        cr_assert(exists(&fx, "srcs/4444444444444444/lib.rs"));
        cr_assert(exists(&fx, "dylibs/libffffffffffffffff.so"));
        cr_assert_not(exists(&fx, "dylibs/libcccccccccccccccc.so"));
        pm_free(path);
        pm_free(sql);
        cfx_release(&fx);
}

/* A model with @rows rows naming the dylib aaaa, and one naming bbbb; collect it (stamp reset)
 * and return how many allocations the collection made. */
static unsigned long
collect_repeating(const struct cfx *fx, int rows)
{
        struct pm_cache_stats st;
        struct pm_error err;
        sqlite3 *db;
        char *path = at(fx, "rep-0000000000000005.db"), *stamp = at(fx, "collected");
        char *sql = pm_test_strf(
                "DROP TABLE IF EXISTS t; CREATE TABLE t(x TEXT);"
                "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)"
                " INSERT INTO t SELECT '[\"%s/dylibs/libaaaaaaaaaaaaaaaa.so\"]' FROM c;"
                "INSERT INTO t VALUES('%s/dylibs/libbbbbbbbbbbbbbbbb.so');",
                rows, fx->cache, fx->cache);
        unsigned long made;

        cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
        cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
        sqlite3_close(db);
        (void)unlink(stamp);
        plant_file(fx, "dylibs/libcccccccccccccccc.so", 10, 30 * DAY);
        (void)pm_mem_fail_at(0);
        cr_assert_eq(collect(fx, &st, &err), 0, "%s", err.msg);
        made = pm_mem_fail_at(0);
        cr_assert(st.ran);
        cr_assert_eq(st.kept, 2);
        cr_assert_eq(st.removed, 1);
        cr_assert(exists(fx, "dylibs/libaaaaaaaaaaaaaaaa.so"));
        cr_assert(exists(fx, "dylibs/libbbbbbbbbbbbbbbbb.so"));
        pm_free(path);
        pm_free(stamp);
        pm_free(sql);
        return made;
}

/* The cached renderings repeat a proc macro's path once per closure: what the collection holds
 * grows with the names, not with their occurrences (each would be one more allocation). */
Test(collect, memory_follows_the_names_not_their_occurrences)
{
        unsigned long one, many;
        struct cfx fx;

        cfx_init(&fx);
        mkdirs(&fx);
        plant_file(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so", 10, 30 * DAY);
        plant_file(&fx, "dylibs/libbbbbbbbbbbbbbbbb.so", 10, 30 * DAY);
        one = collect_repeating(&fx, 1);
        many = collect_repeating(&fx, 50000);
        cr_assert_lt(many, one + 5000, "%lu allocations for 50,000 rows, %lu for one", many, one);
        cfx_release(&fx);
}

Test(collect, an_unreadable_model_stops_it_before_anything_goes)
{
        struct pm_cache_stats st;
        struct pm_error err;
        struct cfx fx;

        cfx_init(&fx);
        mkdirs(&fx);
        plant_file(&fx, "broken-0000000000000004.db", 4096, 0);
        plant_file(&fx, "dylibs/libcccccccccccccccc.so", 10, 30 * DAY);

        cr_assert_eq(collect(&fx, &st, &err), PM_EDB, "%s", err.msg);
        cr_assert(strstr(err.file, "broken-0000000000000004.db"), "'%s'", err.file);
        cr_assert(strstr(err.msg, "cannot read the model"), "%s", err.msg);
        cr_assert(exists(&fx, "dylibs/libcccccccccccccccc.so"), "nothing removed");
        cfx_release(&fx);
}

/* A model kept outside the directory (`projmodel serve --db`) keeps what it names once it asked
 * for a collection itself, in every later one; once it is gone, so are its entries. */
Test(collect, a_model_elsewhere_is_read_once_it_asked)
{
        static const char *const dylibs[] = { "libaaaaaaaaaaaaaaaa.so", NULL };
        struct pm_cache_stats st;
        struct pm_error err;
        struct cfx fx;
        char *model, *links;

        cfx_init(&fx);
        mkdirs(&fx);
        model = pm_test_strf("%s/model.db", fx.tmp);
        make_model_at(&fx, model, "elsewhere", dylibs, NULL);
        plant_file(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so", 10, 30 * DAY);

        pm_error_init(&err);
        cr_assert_eq(pm_index_cache_collect(fx.cache, model, &st, &err), 0, "%s", err.msg);
        cr_assert_eq(st.models, 1);
        cr_assert_eq(st.kept, 1);
        cr_assert(exists(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so"));
        links = at(&fx, "models");
        cr_assert_eq(count_entries(links), 1);

        /* Another process's collection, which knows nothing of that model, reads it too. */
        age(&fx, "collected", 2 * DAY);
        age(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so", 30 * DAY);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert(st.ran);
        cr_assert_eq(st.models, 1);
        cr_assert(exists(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so"));

        /* The model removed: its link and its old entries go. */
        cr_assert_eq(unlink(model), 0);
        age(&fx, "collected", 2 * DAY);
        age(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so", 30 * DAY);
        cr_assert_eq(collect(&fx, &st, &err), 0, "%s", err.msg);
        cr_assert_eq(st.models, 0);
        cr_assert_eq(st.removed, 1);
        cr_assert_not(exists(&fx, "dylibs/libaaaaaaaaaaaaaaaa.so"));
        cr_assert_eq(count_entries(links), 0, "the link to the removed model is gone");
        pm_free(links);
        pm_free(model);
        cfx_release(&fx);
}
