/* SPDX-License-Identifier: MIT */
/* Integration tests: the daemon's watcher and its watch_max_dirs (docs/configuration.md): the
 * adapter's output directory is not watched, a look-alike is; past the limit the build-file
 * directories are watched, from anywhere under the root (a .gni's too), the counts follow
 * deletions, a big tree moved in is walked on the thread pool, past the limit or not, and after a
 * queue overflow the watches are re-checked. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_watch, d, "gn-monorepo");

/* Append @text to the tree's @rel file. */
static void
append(const char *rel, const char *text)
{
        char *path = pm_test_strf("%s/%s", d.root, rel);

        pm_test_append_file(path, text);
        pm_free(path);
}

/* Make sure the first refresh is over, so that what follows is a change notification. */
static void
settle(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/refresh", NULL);

        cJSON_Delete(r);
}

/* projmodel/status's number @key. */
static double
status_number(struct pm_client *c, const char *key)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        const cJSON *v = cJSON_GetObjectItem(r, key);
        double n;

        cr_assert(cJSON_IsNumber(v), "status has no number '%s'", key);
        n = v->valuedouble;
        cJSON_Delete(r);
        return n;
}

/* How wait_status() compares. */
enum wait_for {
        AT_LEAST,
        EXACTLY
};

/* Wait until status @key is at least, or exactly, @value; false after the daemon timeout. */
static bool
wait_status(struct pm_client *c, const char *key, enum wait_for how, double value)
{
        for (int waited = 0; waited < PM_TEST_DAEMON_TIMEOUT_MS; waited += 50) {
                double n = status_number(c, key);

                if (how == AT_LEAST ? n >= value : n == value)
                        return true;
                (void)usleep(50 * 1000);
        }
        return false;
}

/* Restart the daemon on the fixture with watch_max_dirs @limit and more @settings (JSON
 * members after a comma, or ""); a settled client. */
static struct pm_client *
restart_with(unsigned limit, const char *settings)
{
        char *cfg = pm_test_strf("%s/.projmodel.json", d.root);
        char *text = pm_test_strf("{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"}, "
                                  "\"watch_max_dirs\": %u%s}\n",
                                  limit, settings);
        struct pm_client *c;

        pm_test_daemon_kill(&d, SIGTERM);
        cr_assert_eq(pm_test_write_file(cfg, text), 0);
        pm_test_daemon_start(&d);
        c = pm_test_daemon_connect(&d);
        settle(c);
        pm_free(text);
        pm_free(cfg);
        return c;
}

/* Restart the daemon on the fixture with watch_max_dirs @limit; a settled client. */
static struct pm_client *
restart_with_limit(unsigned limit)
{
        return restart_with(limit, "");
}

/* projmodel/status's "watchError", or NULL (owned by the caller). */
static char *
watch_error(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        const cJSON *e = cJSON_GetObjectItem(r, "watchError");
        char *s = cJSON_IsString(e) ? pm_test_strf("%s", e->valuestring) : NULL;

        cJSON_Delete(r);
        return s;
}

/*
 * What the watcher skips comes from the adapter: GN's out_dir ("out") is not watched, so a
 * build file written there starts no refresh, while outline/ -- a name that merely starts like
 * it -- is watched, and a BUILD.gn written there does.
 */
Test(daemon_watch, only_the_adapters_output_directory_is_skipped)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *in_out = pm_test_strf("%s/out/extra/BUILD.gn", d.root);
        char *outline = pm_test_strf("%s/outline", d.root);
        char *in_outline = pm_test_strf("%s/outline/BUILD.gn", d.root);
        double watches, refreshes;

        settle(c);
        watches = status_number(c, "watches");
        refreshes = status_number(c, "refreshes");

        cr_assert_eq(pm_test_write_file(in_out, "group(\"extra\") {}\n"), 0);
        /* Several debounce periods (150 ms) for a refresh that must not come. */
        (void)usleep(1500 * 1000);
        cr_assert_eq(status_number(c, "watches"), watches, "a directory under out/ is watched");
        cr_assert_eq(status_number(c, "refreshes"), refreshes,
                     "a build file under out/ started a refresh");

        cr_assert_eq(mkdir(outline, 0755), 0);
        cr_assert(wait_status(c, "watches", AT_LEAST, watches + 1), "outline/ is not watched");
        cr_assert_eq(pm_test_write_file(in_outline, "group(\"outline\") {}\n"), 0);
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "a BUILD.gn under outline/ started no refresh");
        pm_free(in_outline);
        pm_free(outline);
        pm_free(in_out);
        pm_client_free(c);
}

/*
 * Past watch_max_dirs the directories holding build files are the ones watched: the fixture
 * has 24 directories (out/ apart), 16 of them holding a build file or above one; with the
 * limit at 16 the daemon watches exactly those, so an edit of any BUILD.gn still starts a
 * refresh, whichever order the walk found the directories in.
 */
Test(daemon_watch, past_the_watch_limit_every_build_file_directory_is_watched)
{
        static const char *const build_files[] = {
                "BUILD.gn",
                "app/server/BUILD.gn",
                "build/BUILD.gn",
                "lib/config/BUILD.gn",
                "lib/describe_derive/BUILD.gn",
                "lib/engine/BUILD.gn",
                "lib/tables/BUILD.gn",
                "lib/util/BUILD.gn",
                "third_party/fnv/BUILD.gn",
                "third_party/itoa_lite/BUILD.gn",
                "tools/inspect/BUILD.gn",
                "build/toolchain/BUILD.gn",
        };
        struct pm_client *c = restart_with_limit(16);
        char *fresh;

        cr_assert(wait_status(c, "unwatchedDirs", AT_LEAST, 8), "no directory left unwatched");
        cr_assert_eq(status_number(c, "watches"), 16);
        cr_assert_eq(status_number(c, "unwatchedDirs"), 8);
        for (size_t i = 0; i < sizeof(build_files) / sizeof(*build_files); i++) {
                double refreshes = status_number(c, "refreshes");

                append(build_files[i], "# edited\n");
                cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                          "an edit of %s started no refresh", build_files[i]);
        }
        /* A directory made now is watched past the limit: a build file may be written next. */
        fresh = pm_test_strf("%s/lib/fresh", d.root);
        cr_assert_eq(mkdir(fresh, 0755), 0);
        cr_assert(wait_status(c, "watches", AT_LEAST, 17), "a new directory is not watched");
        cr_assert_eq(status_number(c, "unwatchedDirs"), 8);
        pm_free(fresh);
        pm_client_free(c);
}

/*
 * The watch counts follow deletions (server/watch.c, "Counting"): with the limit at 16, every
 * watch a build-file directory's, a directory made past the limit (watched) with a tree moved
 * into it (its top watched, the two directories below it not) and then removed leaves
 * "watches" and "unwatchedDirs" where they were, 20 times over. Before, they only grew, and a
 * root where build directories come and go ran its daemon up to the limit. After the churn a
 * BUILD.gn in a new directory still starts a refresh.
 */
Test(daemon_watch, watch_counts_return_after_directories_come_and_go)
{
        struct pm_client *c = restart_with_limit(16);
        char *made = pm_test_strf("%s/lib/churn", d.root);
        char *moved = pm_test_strf("%s/lib/churn/tree", d.root);
        char *tree = pm_test_strf("%s/churn-tree", d.tmp);
        char *leaf = pm_test_strf("%s/churn-tree/a/b/notes.txt", d.tmp);
        char *after = pm_test_strf("%s/lib/after", d.root);
        char *after_build = pm_test_strf("%s/lib/after/BUILD.gn", d.root);
        double refreshes;

        cr_assert(wait_status(c, "unwatchedDirs", AT_LEAST, 8), "no directory left unwatched");
        cr_assert_eq(status_number(c, "watches"), 16);
        cr_assert_eq(status_number(c, "unwatchedDirs"), 8);
        for (int round = 0; round < 20; round++) {
                cr_assert_eq(mkdir(made, 0755), 0);
                cr_assert(wait_status(c, "watches", EXACTLY, 17), "round %d: lib/churn not watched",
                          round);
                cr_assert_eq(pm_test_write_file(leaf, "churn\n"), 0);
                cr_assert_eq(rename(tree, moved), 0);
                cr_assert(wait_status(c, "unwatchedDirs", EXACTLY, 10),
                          "round %d: the moved tree's a/ and a/b/ are not counted", round);
                cr_assert_eq(status_number(c, "watches"), 18, "round %d", round);
                cr_assert_eq(pm_test_rmtree(made), 0);
                cr_assert(wait_status(c, "watches", EXACTLY, 16),
                          "round %d: removed directories still counted as watched", round);
                cr_assert(wait_status(c, "unwatchedDirs", EXACTLY, 8),
                          "round %d: removed directories still counted as unwatched", round);
        }
        cr_assert_eq(mkdir(after, 0755), 0);
        cr_assert(wait_status(c, "watches", EXACTLY, 17), "lib/after is not watched");
        refreshes = status_number(c, "refreshes");
        cr_assert_eq(pm_test_write_file(after_build, "group(\"after\") {}\n"), 0);
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "a BUILD.gn in lib/after started no refresh");
        pm_free(after_build);
        pm_free(after);
        pm_free(leaf);
        pm_free(tree);
        pm_free(moved);
        pm_free(made);
        pm_client_free(c);
}

/*
 * A tree moved in past the limit takes the watches its build-file directories need from
 * directories without build files anywhere under the root, not only from within itself: with
 * the limit at 20 the fixture's 16 build-file directories and 4 others are watched, and a moved
 * tree of 4 directories, 2 of them holding a BUILD.gn, takes 3 of those 4 (its own top is
 * watched past the limit, as a new directory). Before, it reported a false "more than 20
 * directories holding build files" and left its BUILD.gn files unwatched.
 */
Test(daemon_watch, a_moved_in_tree_takes_watches_from_anywhere)
{
        struct pm_client *c = restart_with_limit(20);
        char *tree = pm_test_strf("%s/moved", d.tmp);
        char *target = pm_test_strf("%s/moved", d.root);
        char *build = pm_test_strf("%s/moved/lib2/BUILD.gn", d.tmp);
        char *deep = pm_test_strf("%s/moved/lib2/deep/BUILD.gn", d.tmp);
        char *plain = pm_test_strf("%s/moved/plain/notes.txt", d.tmp);
        double refreshes;
        cJSON *r;

        cr_assert(wait_status(c, "unwatchedDirs", AT_LEAST, 4), "no directory left unwatched");
        cr_assert_eq(status_number(c, "watches"), 20);
        cr_assert_eq(status_number(c, "unwatchedDirs"), 4);
        cr_assert_eq(pm_test_write_file(build, "group(\"lib2\") {}\n"), 0);
        cr_assert_eq(pm_test_write_file(deep, "group(\"deep\") {}\n"), 0);
        cr_assert_eq(pm_test_write_file(plain, "plain\n"), 0);
        refreshes = status_number(c, "refreshes");
        cr_assert_eq(rename(tree, target), 0);
        /* A moved-in tree is re-queried once watched. */
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "no refresh after the move");
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(!cJSON_IsString(cJSON_GetObjectItem(r, "watchError")), "watchError: %s",
                  cJSON_GetObjectItem(r, "watchError")->valuestring);
        cJSON_Delete(r);
        cr_assert_eq(status_number(c, "watches"), 20);
        cr_assert_eq(status_number(c, "unwatchedDirs"), 4 + 3 + 1);
        refreshes = status_number(c, "refreshes");
        append("moved/lib2/deep/BUILD.gn", "# edited\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of moved/lib2/deep/BUILD.gn started no refresh");
        pm_free(plain);
        pm_free(deep);
        pm_free(build);
        pm_free(target);
        pm_free(tree);
        pm_client_free(c);
}

/*
 * A big tree moved in past the limit is listed on the thread pool, not on the loop that answers
 * requests (the daemon's log says so), and comes out counted as a smaller one does: with the
 * limit at 20, a 1,641-directory tree with one BUILD.gn two levels down has its top and the two
 * directories to the build file watched, three of the fixture's watches taken for them, and
 * the rest counted unwatched. A directory made while it is walked is handled after it, and the
 * BUILD.gn's edit starts a refresh.
 */
Test(daemon_watch, a_big_tree_moved_in_is_walked_on_the_thread_pool)
{
        struct pm_client *c = restart_with_limit(20);
        char *tree = pm_test_strf("%s/big", d.tmp);
        char *target = pm_test_strf("%s/big", d.root);
        char *fresh = pm_test_strf("%s/lib/fresh", d.root);
        char *line = pm_test_strf("walking '%s' on the thread pool", target);
        char *log, *build;
        double refreshes;

        cr_assert(wait_status(c, "unwatchedDirs", AT_LEAST, 4), "no directory left unwatched");
        cr_assert_eq(status_number(c, "watches"), 20);
        cr_assert_eq(mkdir(tree, 0755), 0);
        for (int i = 0; i < 40; i++) {
                char *dir = pm_test_strf("%s/d%02d", tree, i);

                cr_assert_eq(mkdir(dir, 0755), 0);
                for (int j = 0; j < 40; j++) {
                        char *sub = pm_test_strf("%s/e%02d", dir, j);

                        cr_assert_eq(mkdir(sub, 0755), 0);
                        pm_free(sub);
                }
                pm_free(dir);
        }
        build = pm_test_strf("%s/d07/e00/BUILD.gn", tree);
        cr_assert_eq(pm_test_write_file(build, "group(\"big\") {}\n"), 0);
        pm_free(build);
        cr_assert_eq(rename(tree, target), 0);
        cr_assert_eq(mkdir(fresh, 0755), 0);
        cr_assert(wait_status(c, "watches", EXACTLY, 21),
                  "big/, its two and lib/fresh not watched");
        cr_assert(wait_status(c, "unwatchedDirs", EXACTLY, 4 + 3 + 1641 - 3),
                  "the big tree is not counted");
        log = pm_test_read_file(d.log);
        cr_assert(log && strstr(log, line), "no '%s' in the log", line);
        refreshes = status_number(c, "refreshes");
        append("big/d07/e00/BUILD.gn", "# edited\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of big/d07/e00/BUILD.gn started no refresh");
        pm_free(log);
        pm_free(line);
        pm_free(fresh);
        pm_free(target);
        pm_free(tree);
        pm_client_free(c);
}

/*
 * Far below the limit (the default 120,000) a tree moved in is still walked on the thread pool
 * once it passes the loop's few hundred directories (server/watch.c, WATCH_INLINE_MAX_DIRS): a
 * 321-directory tree is logged as walked there and comes out fully watched, its nested BUILD.gn
 * starting a refresh when edited; an empty directory made next is still watched on the loop.
 * Before, the loop watched and listed the whole tree itself.
 */
Test(daemon_watch, a_tree_of_hundreds_of_directories_is_walked_on_the_thread_pool)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *tree = pm_test_strf("%s/wide", d.tmp);
        char *target = pm_test_strf("%s/wide", d.root);
        char *fresh = pm_test_strf("%s/lib/fresh", d.root);
        char *line = pm_test_strf("walking '%s' on the thread pool", target);
        char *fresh_line = pm_test_strf("walking '%s' on the thread pool", fresh);
        char *log, *build;
        double watches, refreshes;

        settle(c);
        cr_assert(wait_status(c, "watches", AT_LEAST, 1), "the root is not watched");
        watches = status_number(c, "watches");
        cr_assert_eq(mkdir(tree, 0755), 0);
        for (int i = 0; i < 20; i++) {
                char *dir = pm_test_strf("%s/d%02d", tree, i);

                cr_assert_eq(mkdir(dir, 0755), 0);
                for (int j = 0; j < 15; j++) {
                        char *sub = pm_test_strf("%s/e%02d", dir, j);

                        cr_assert_eq(mkdir(sub, 0755), 0);
                        pm_free(sub);
                }
                pm_free(dir);
        }
        build = pm_test_strf("%s/d07/e00/BUILD.gn", tree);
        cr_assert_eq(pm_test_write_file(build, "group(\"wide\") {}\n"), 0);
        pm_free(build);
        cr_assert_eq(rename(tree, target), 0);
        cr_assert(wait_status(c, "watches", EXACTLY, watches + 1 + 20 + 20 * 15),
                  "the moved tree is not watched");
        cr_assert_eq(status_number(c, "unwatchedDirs"), 0);
        log = pm_test_read_file(d.log);
        cr_assert(log && strstr(log, line), "no '%s' in the log", line);
        pm_free(log);
        refreshes = status_number(c, "refreshes");
        append("wide/d07/e00/BUILD.gn", "# edited\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of wide/d07/e00/BUILD.gn started no refresh");
        cr_assert_eq(mkdir(fresh, 0755), 0);
        cr_assert(wait_status(c, "watches", EXACTLY, watches + 1 + 20 + 20 * 15 + 1),
                  "lib/fresh is not watched");
        log = pm_test_read_file(d.log);
        cr_assert(log && !strstr(log, fresh_line), "an empty directory was walked on the pool");
        pm_free(log);
        pm_free(fresh_line);
        pm_free(line);
        pm_free(fresh);
        pm_free(target);
        pm_free(tree);
        pm_client_free(c);
}

/*
 * A directory holding only a file of the watch set -- a .gni a BUILD.gn imports, no build file
 * of its own -- is a build-file directory (docs/protocol.md, Limits): never a victim of the
 * evictions past watch_max_dirs. With the directories without build files excluded, the fixture
 * has 16 build-file directories and build/rust/ holding defaults.gni; with the limit at 18 all 17
 * are watched, and a tree moved in with a BUILD.gn one level down (its top watched past the
 * limit as a new directory) finds no victim: "more than 18 directories holding build files",
 * true (19), and an edit of defaults.gni still starts a refresh. Before, build/rust/ was evicted
 * for it and the edit was never seen.
 */
Test(daemon_watch, a_directory_holding_only_a_gni_is_never_evicted)
{
        char *gni = pm_test_strf("%s/build/rust/defaults.gni", d.root);
        char *util = pm_test_strf("%s/lib/util/BUILD.gn", d.root);
        char *tree = pm_test_strf("%s/moved", d.tmp);
        char *target = pm_test_strf("%s/moved", d.root);
        char *build = pm_test_strf("%s/moved/lib2/BUILD.gn", d.tmp);
        struct pm_client *c;
        double refreshes;
        char *error;

        cr_assert_eq(pm_test_write_file(gni, "util_edition = \"2018\"\n"), 0);
        pm_test_edit_file(util, "rust_library(\"util\") {",
                          "import(\"//build/rust/defaults.gni\")\nrust_library(\"util\") {");
        c = restart_with(18, ", \"watch_exclude\": [\"src\", \"tests\", \"codegen\"]");
        cr_assert(wait_status(c, "watches", EXACTLY, 17), "not every directory is watched");
        cr_assert_eq(status_number(c, "unwatchedDirs"), 0);
        refreshes = status_number(c, "refreshes");
        append("build/rust/defaults.gni", "# edited\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of build/rust/defaults.gni started no refresh");

        cr_assert_eq(pm_test_write_file(build, "group(\"lib2\") {}\n"), 0);
        refreshes = status_number(c, "refreshes");
        cr_assert_eq(rename(tree, target), 0);
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "no refresh after the move");
        settle(c);
        refreshes = status_number(c, "refreshes");
        append("build/rust/defaults.gni", "# edited again\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of build/rust/defaults.gni started no refresh after the move");
        error = watch_error(c);
        cr_assert(error && strstr(error, "more than 18 directories holding build files"),
                  "watchError: %s", error ? error : "(none)");
        pm_free(error);
        pm_free(build);
        pm_free(target);
        pm_free(tree);
        pm_free(util);
        pm_free(gni);
        pm_client_free(c);
}

/*
 * After an inotify queue overflow the watches are re-checked (server/watch.c,
 * recheck_watches()): with the daemon stopped (SIGSTOP: nothing reads its queue) the tree gets
 * more events than fs.inotify.max_queued_events, so the kernel queues an overflow and drops the
 * rest; then lib/util/ is deleted and made again (a new inode: its old watch died, the events
 * saying so were dropped) and lib/made/ is made. Once the daemon goes on, an edit of the
 * re-made lib/util/BUILD.gn and a BUILD.gn written into lib/made/ each start a refresh, and the
 * watch count is exact. Before, the overflow only re-queried: the records of lib/util/ kept the
 * dead watches, nothing watched the new directories, and those edits were never seen.
 */
Test(daemon_watch, after_a_queue_overflow_directories_made_meanwhile_are_watched)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *util = pm_test_strf("%s/lib/util", d.root);
        char *copy = pm_test_strf("%s/util-copy", d.tmp);
        char *made = pm_test_strf("%s/lib/made", d.root);
        char *made_build = pm_test_strf("%s/lib/made/BUILD.gn", d.root);
        char *noise[2] = { pm_test_strf("%s/noise-a", d.root), pm_test_strf("%s/noise-b", d.root) };
        char *queue = pm_test_read_file("/proc/sys/fs/inotify/max_queued_events");
        double watches, refreshes;
        long limit;
        int status;

        cr_assert(queue, "cannot read fs.inotify.max_queued_events");
        limit = strtol(queue, NULL, 10);
        cr_assert_gt(limit, 0);
        if (limit > 1L << 22)
                cr_skip_test("fs.inotify.max_queued_events is %ld: too many events to make", limit);
        settle(c);
        cr_assert(wait_status(c, "watches", AT_LEAST, 1), "the root is not watched");
        watches = status_number(c, "watches");
        refreshes = status_number(c, "refreshes");
        cr_assert_eq(pm_test_copy_tree(util, copy), 0);

        cr_assert_eq(kill(d.pid, SIGSTOP), 0);
        cr_assert_eq(waitpid(d.pid, &status, WUNTRACED), d.pid);
        cr_assert(WIFSTOPPED(status), "the daemon did not stop");
        /* One IN_CLOSE_WRITE per close, two names taking turns: the kernel merges an event only
         * with the same one just before it. */
        for (long i = 0; i < limit + 64; i++) {
                int fd = open(noise[i & 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                cr_assert_geq(fd, 0, "cannot open '%s'", noise[i & 1]);
                cr_assert_eq(close(fd), 0);
        }
        cr_assert_eq(pm_test_rmtree(util), 0);
        cr_assert_eq(pm_test_copy_tree(copy, util), 0);
        cr_assert_eq(mkdir(made, 0755), 0);
        cr_assert_eq(kill(d.pid, SIGCONT), 0);

        cr_assert(wait_status(c, "overflows", EXACTLY, 1), "no queue overflow");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "no refresh after the overflow");
        refreshes = status_number(c, "refreshes");
        append("lib/util/BUILD.gn", "# edited\n");
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "an edit of lib/util/BUILD.gn, made again, started no refresh");
        refreshes = status_number(c, "refreshes");
        cr_assert_eq(pm_test_write_file(made_build, "group(\"made\") {}\n"), 0);
        cr_assert(wait_status(c, "refreshes", AT_LEAST, refreshes + 1),
                  "a BUILD.gn written into lib/made/ started no refresh");
        /* lib/util/ and lib/util/src/ watched again, lib/made/ new. */
        cr_assert_eq(status_number(c, "watches"), watches + 1);
        cr_assert_eq(status_number(c, "unwatchedDirs"), 0);
        pm_free(noise[1]);
        pm_free(noise[0]);
        pm_free(queue);
        pm_free(made_build);
        pm_free(made);
        pm_free(copy);
        pm_free(util);
        pm_client_free(c);
}
