/* SPDX-License-Identifier: MIT */
/* Integration tests: the daemon follows the tree. A BUILD.gn edit shows up as modelChanged and
 * in projmodel/rustProject; a syntax error keeps the last good model and recovers; a daemon
 * killed mid-update restarts with an intact database (the watcher's own: test-daemon-watch.c). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "rustc-check.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_update, d, "gn-monorepo");

/* Append @text to the tree's @rel file. */
static void
append(const char *rel, const char *text)
{
        char *path = pm_test_strf("%s/%s", d.root, rel);

        pm_test_append_file(path, text);
        pm_free(path);
}

/* Does @label's project (by label) list a crate whose display_name is @name? */
static bool
project_has_crate(struct pm_client *c, const char *path_rel, const char *name)
{
        char *params = pm_test_strf("{\"path\":\"%s/%s\"}", d.root, path_rel);
        cJSON *r = pm_test_call(c, "projmodel/rustProject", params), *it;
        bool found = false;

        cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates"))
        {
                const cJSON *n = cJSON_GetObjectItem(it, "display_name");

                found |= cJSON_IsString(n) && strcmp(n->valuestring, name) == 0;
        }
        cJSON_Delete(r);
        pm_free(params);
        return found;
}

/* Does util's crate in its rust-project.json list a dep named tables? */
static bool
util_depends_on_tables(struct pm_client *c)
{
        char *params = pm_test_strf("{\"path\":\"%s/lib/util/src/lib.rs\"}", d.root);
        cJSON *r = pm_test_call(c, "projmodel/rustProject", params), *it, *dep;
        bool found = false;

        cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates"))
        {
                const cJSON *n = cJSON_GetObjectItem(it, "display_name");

                if (!cJSON_IsString(n) || strcmp(n->valuestring, "util") != 0)
                        continue;
                cJSON_ArrayForEach(dep, cJSON_GetObjectItem(it, "deps"))
                {
                        const cJSON *dn = cJSON_GetObjectItem(dep, "name");

                        found |= cJSON_IsString(dn) && strcmp(dn->valuestring, "tables") == 0;
                }
        }
        cJSON_Delete(r);
        pm_free(params);
        return found;
}

/* Make sure the first refresh is over, so that what follows is a change notification. */
static void
settle(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/refresh", NULL);

        cJSON_Delete(r);
}

Test(daemon_update, build_file_edit_adds_a_dependency)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        cJSON *r, *n, *params;

        settle(c);
        cr_assert(!util_depends_on_tables(c));
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
        /* util gains a dependency on tables. */
        {
                char *path = pm_test_strf("%s/lib/util/BUILD.gn", d.root);

                pm_test_edit_file(path, "deps = [ \"//third_party/fnv\" ]",
                                  "deps = [ \"//third_party/fnv\", \"//lib/tables\" ]");
                pm_free(path);
        }
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no modelChanged notification");
        params = cJSON_GetObjectItem(n, "params");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(params, "labels"), "//lib/util:util"));
        cr_assert_geq(cJSON_GetObjectItem(params, "generation")->valuedouble, 2);
        cJSON_Delete(n);
        cr_assert(util_depends_on_tables(c));
        pm_client_free(c);
}

#define DERIVE "//lib/describe_derive:describe_derive(//build/toolchain:host)"

/* The rust-project.json the daemon serves for @label (pm_malloc'd text) and, in *ret_dylib,
 * describe_derive's proc_macro_dylib_path in it (pm_malloc'd, asserted). */
static char *
served_for(struct pm_client *c, const char *label, char **ret_dylib)
{
        char *params = pm_test_strf("{\"label\":\"%s\"}", label), *text;
        cJSON *r = pm_test_call(c, "projmodel/rustProject", params), *it;
        const cJSON *project = cJSON_GetObjectItem(r, "project");

        *ret_dylib = NULL;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(project, "crates"))
        {
                const cJSON *n = cJSON_GetObjectItem(it, "display_name");
                const cJSON *dy = cJSON_GetObjectItem(it, "proc_macro_dylib_path");

                if (cJSON_IsString(n) && strcmp(n->valuestring, "describe_derive") == 0 &&
                    cJSON_IsString(dy))
                        *ret_dylib = pm_strdup(dy->valuestring);
        }
        cr_assert(*ret_dylib, "describe_derive has no proc_macro_dylib_path");
        text = cJSON_PrintUnformatted(project);
        cr_assert(text);
        cJSON_Delete(r);
        pm_free(params);
        return text;
}

/* Lines in the file at @path (0 when it does not exist). */
static size_t
count_lines(const char *path)
{
        char *text = pm_test_read_file(path);
        size_t n = 0;

        for (const char *p = text; p && *p; p++)
                n += *p == '\n';
        pm_free(text);
        return n;
}

/*
 * Make the daemon run gn through a wrapper that logs each run to the returned file
 * (pm_malloc'd), by rewriting .projmodel.json's "gn.gn"; returns once a refresh has run it.
 */
static char *
log_gn_runs(struct pm_client *c)
{
        char *log = pm_test_strf("%s/gn-runs.log", d.tmp);
        char *wrapper = pm_test_strf("%s/gn-logged", d.tmp);
        char *script = pm_test_strf("#!/bin/sh\necho \"$*\" >> '%s'\nexec gn \"$@\"\n", log);
        char *cfg = pm_test_strf("%s/.projmodel.json", d.root);
        char *text = pm_test_strf(
                "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\", \"gn\": \"%s\"}}\n",
                wrapper);

        cr_assert_eq(pm_test_write_file(wrapper, script), 0);
        cr_assert_eq(chmod(wrapper, 0755), 0);
        cr_assert_eq(pm_test_write_file(cfg, text), 0);
        /* The daemon re-reads its configuration when it sees the write: bounded. */
        for (int i = 0; count_lines(log) == 0; i++) {
                cr_assert_lt(i, 100, "the daemon never ran gn through '%s'", wrapper);
                settle(c);
        }
        settle(c);
        pm_free(text);
        pm_free(cfg);
        pm_free(script);
        pm_free(wrapper);
        return log;
}

/* projmodel/status's lastRefresh.queried: the projects the last run queried. */
static double
last_queried(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        const cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "lastRefresh"), "queried");
        double v;

        cr_assert(cJSON_IsNumber(q), "status has no lastRefresh.queried");
        v = q->valuedouble;
        cJSON_Delete(r);
        return v;
}

/*
 * Settles, logs gn's runs (*@ret_log, the log's path, pm_malloc'd; *@ret_runs, how many so far)
 * and subscribes @c: returns the dylib served for DERIVE before a proc-macro edit, pm_malloc'd.
 */
static char *
before_a_proc_macro_edit(struct pm_client *c, char **ret_log, size_t *ret_runs)
{
        char *json, *before;
        cJSON *r;

        settle(c);
        *ret_log = log_gn_runs(c);
        *ret_runs = count_lines(*ret_log);
        json = served_for(c, DERIVE, &before);
        cJSON_free(json);
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
        return before;
}

/*
 * An edit of a proc macro's source (no build file changes) rebuilds it with ninja alone (gn does
 * not run): modelChanged names it, the served dylib is a new content-addressed copy, and a
 * dependent using what only the new expansion generates type-checks with rustc loading that
 * copy. Then a BUILD.gn edit in the same batch as another such edit takes the query (gn runs)
 * and still serves the rebuilt proc macro.
 */
Test(daemon_update, a_proc_macro_source_edit_rebuilds_its_dylib)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *lib = pm_test_strf("%s/lib/describe_derive/lib.rs", d.root);
        char *util = pm_test_strf("%s/lib/util/BUILD.gn", d.root);
        char *dir = pm_test_strf("%s/projmodel/dylibs/", d.cache);
        char *work = pm_test_strf("%s/check", d.tmp);
        char *before, *after, *third, *json, *report = NULL, *gn_log;
        size_t gn_runs;
        struct stat st;
        cJSON *r, *n;

        before = before_a_proc_macro_edit(c, &gn_log, &gn_runs);
        /* The derive now also generates `fn edited_by_the_test() -> u8`. */
        pm_test_edit_file(lib, "pub const FIELD_COUNT: usize = {fields};",
                          "pub const FIELD_COUNT: usize = {fields}; "
                          "pub fn edited_by_the_test() -> u8 {{ 7 }}");
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no modelChanged after the proc macro's source changed");
        cr_assert(pm_test_json_array_has(
                cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"), DERIVE));
        cJSON_Delete(n);
        cr_assert_eq(count_lines(gn_log), gn_runs, "gn ran for a proc macro's source edit");
        cr_assert_eq(last_queried(c), 0);
        /* The rebuild is the refresh's buildMs, not its parseMs or ownMs (docs/protocol.md). */
        r = pm_test_call(c, "projmodel/status", NULL);
        {
                const cJSON *last = cJSON_GetObjectItem(r, "lastRefresh");
                const cJSON *build = cJSON_GetObjectItem(last, "buildMs");
                double sum;

                cr_assert(cJSON_IsNumber(build) && build->valuedouble > 0,
                          "the dylib was rebuilt yet lastRefresh.buildMs is not positive");
                sum = build->valuedouble;
                for (const char *const *k = (const char *const[]){ "toolMs", "readMs", "parseMs",
                                                                   "applyMs", NULL };
                     *k; k++)
                        sum += cJSON_GetObjectItem(last, *k)->valuedouble;
                /* durationMs is whole milliseconds, and notifyMs comes after it. */
                cr_assert(sum < cJSON_GetObjectItem(last, "durationMs")->valuedouble + 1,
                          "tool + read + parse + build + apply (%f) exceed durationMs", sum);
        }
        cJSON_Delete(r);
        append("lib/engine/src/lib.rs",
               "\npub fn uses_the_edited_derive() -> u8 { Engine::edited_by_the_test() }\n");
        json = served_for(c, "//lib/engine:engine", &after);
        cr_assert_str_neq(before, after);
        cr_assert(strncmp(after, dir, strlen(dir)) == 0, "'%s' is not under '%s'", after, dir);
        cr_assert_eq(stat(after, &st), 0, "'%s' does not exist", after);
        cr_assert_eq(stat(before, &st), 0, "the old copy '%s' was removed", before);
        cr_assert_eq(mkdir(work, 0755), 0);
        cr_assert_eq(pm_test_rustc_check_project_loading_dylibs(json, work, &report), 0, "%s",
                     report ? report : "");
        cJSON_free(json);
        pm_free(report);
        report = NULL;

        /* A BUILD.gn edit and a proc macro edit in one batch: the query, which rebuilds too. */
        cr_assert_eq(count_lines(gn_log), gn_runs);
        pm_test_edit_file(util, "deps = [ \"//third_party/fnv\" ]",
                          "deps = [ \"//third_party/fnv\", \"//lib/tables\" ]");
        pm_test_edit_file(lib, "pub fn edited_by_the_test() -> u8 {{ 7 }}",
                          "pub fn edited_by_the_test() -> u8 {{ 8 }}");
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no modelChanged after a BUILD.gn and a proc macro edit");
        cr_assert(pm_test_json_array_has(
                          cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"), DERIVE),
                  "the proc macro is not in the batch's modelChanged");
        cr_assert(pm_test_json_array_has(
                cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"),
                "//lib/util:util"));
        cJSON_Delete(n);
        cr_assert_eq(count_lines(gn_log), gn_runs + 1, "gn did not run for the BUILD.gn edit");
        cr_assert_eq(last_queried(c), 1);
        json = served_for(c, DERIVE, &third);
        cr_assert_str_neq(third, after);
        cr_assert(strncmp(third, dir, strlen(dir)) == 0, "'%s' is not under '%s'", third, dir);
        cr_assert(util_depends_on_tables(c));
        cJSON_free(json);
        pm_free(third);
        pm_free(gn_log);
        pm_free(before);
        pm_free(after);
        pm_free(work);
        pm_free(dir);
        pm_free(util);
        pm_free(lib);
        pm_client_free(c);
}

/* Replace @from by @to in @path as editors that save by rename do: the whole new text goes to a
 * temporary file beside it, renamed over @path (a new inode: inotify reports IN_MOVED_TO). */
static void
save_by_rename(const char *path, const char *from, const char *to)
{
        char *tmp = pm_test_strf("%s.saving", path);
        char *text = pm_test_read_file(path), *at, *edited;

        cr_assert(text, "cannot read '%s'", path);
        at = strstr(text, from);
        cr_assert(at, "'%s' not in '%s'", from, path);
        *at = '\0';
        edited = pm_test_strf("%s%s%s", text, to, at + strlen(from));
        cr_assert_eq(pm_test_write_file(tmp, edited), 0);
        cr_assert_eq(rename(tmp, path), 0, "cannot rename '%s' over '%s'", tmp, path);
        pm_free(edited);
        pm_free(text);
        pm_free(tmp);
}

/* Wait for the modelChanged of a proc macro rebuild of describe_derive, with gn not run since
 * @gn_runs and no project queried; returns the new served dylib (pm_malloc'd), not @before. */
static char *
rebuilt_without_query(struct pm_client *c, const char *gn_log, size_t gn_runs, const char *before,
                      const char *how)
{
        char *json, *after;
        cJSON *n =
                pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);

        cr_assert(n, "no modelChanged after the proc macro's source was saved %s", how);
        cr_assert(pm_test_json_array_has(
                          cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"), DERIVE),
                  "saved %s: the proc macro is not in modelChanged", how);
        cJSON_Delete(n);
        cr_assert_eq(count_lines(gn_log), gn_runs, "gn ran for a proc macro's source saved %s",
                     how);
        cr_assert_eq(last_queried(c), 0, "saved %s: a project was queried", how);
        json = served_for(c, DERIVE, &after);
        cJSON_free(json);
        cr_assert_str_neq(after, before, "saved %s: the served dylib did not change", how);
        return after;
}

/*
 * Editors that save a proc macro's source by renaming a temporary file over it, or by deleting
 * and creating it again, change no file ownership: the daemon rebuilds the proc macro with ninja
 * alone, as for a write in place (gn does not run), and serves the new dylib.
 */
Test(daemon_update, a_proc_macro_source_saved_by_rename_rebuilds_without_gn)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *lib = pm_test_strf("%s/lib/describe_derive/lib.rs", d.root);
        char *before, *renamed, *recreated, *gn_log, *text, *edited;
        size_t gn_runs;

        before = before_a_proc_macro_edit(c, &gn_log, &gn_runs);

        save_by_rename(lib, "pub const FIELD_COUNT: usize = {fields};",
                       "pub const FIELD_COUNT: usize = {fields}; "
                       "pub fn saved_by_rename() -> u8 {{ 1 }}");
        renamed = rebuilt_without_query(c, gn_log, gn_runs, before, "by rename");

        /* A changed expansion, so that the dylib changes too (a comment might not). */
        text = pm_test_read_file(lib);
        cr_assert(text && strstr(text, "{{ 1 }}"));
        *strstr(text, "{{ 1 }}") = '\0';
        edited = pm_test_strf("%s{{ 2 }}%s", text, text + strlen(text) + strlen("{{ 1 }}"));
        cr_assert_eq(unlink(lib), 0);
        cr_assert_eq(pm_test_write_file(lib, edited), 0);
        recreated = rebuilt_without_query(c, gn_log, gn_runs, renamed, "by delete and create");

        pm_free(recreated);
        pm_free(edited);
        pm_free(text);
        pm_free(renamed);
        pm_free(before);
        pm_free(gn_log);
        pm_free(lib);
        pm_client_free(c);
}

/* Wait for the modelChanged naming DERIVE (others are dropped), bounded; @why says after what. */
static void
wait_for_the_derive(struct pm_client *c, const char *why)
{
        for (int i = 0;; i++) {
                cJSON *n = pm_test_wait_notification(c, "projmodel/modelChanged",
                                                     PM_TEST_DAEMON_TIMEOUT_MS);
                bool named;

                cr_assert(n, "no modelChanged naming the proc macro after %s", why);
                named = pm_test_json_array_has(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"), DERIVE);
                cJSON_Delete(n);
                if (named)
                        return;
                cr_assert_lt(i, 10, "no modelChanged naming the proc macro after %s", why);
        }
}

/* describe_derive's proc_macro_dylib_path as the daemon serves it, pm_malloc'd, or NULL. */
static char *
derive_dylib(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", "{\"label\":\"" DERIVE "\"}"), *it;
        char *dylib = NULL;

        cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates"))
        {
                const cJSON *n = cJSON_GetObjectItem(it, "display_name");
                const cJSON *dy = cJSON_GetObjectItem(it, "proc_macro_dylib_path");

                if (cJSON_IsString(n) && strcmp(n->valuestring, "describe_derive") == 0 &&
                    cJSON_IsString(dy))
                        dylib = pm_strdup(dy->valuestring);
        }
        cJSON_Delete(r);
        return dylib;
}

/* What `projmodel status` prints for this daemon (asserted to succeed), pm_malloc'd. */
static char *
status_text(void)
{
        const char *argv[] = { pm_test_projmodel(), "--root", d.root, "status",
                               "--socket",          d.socket, NULL };
        char *out = NULL, *errs = NULL;
        int st = pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, &out, &errs);

        cr_assert_eq(st, 0, "projmodel status: exit %d: %s", st, errs);
        pm_free(errs);
        return out;
}

/*
 * A proc macro whose source stops compiling: the daemon's rebuild (ninja alone) fails, the
 * crate is served without a dylib, and projmodel/status and `projmodel status` list the note
 * naming the target and rustc's first error line with its place; once the source is fixed, the
 * daemon builds it again, serves a dylib and the note is gone (docs/build-integration.md).
 */
Test(daemon_update, a_proc_macro_that_stops_compiling_is_in_the_status_until_fixed)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *lib = pm_test_strf("%s/lib/describe_derive/lib.rs", d.root);
        char *where = pm_test_strf("(%s:6:", lib);
        const char *note = "proc macro " DERIVE " not built: error[E0308]: mismatched types";
        const cJSON *w;
        char *dylib, *text;
        cJSON *r;

        settle(c);
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
        pm_test_edit_file(lib, "extern crate proc_macro;\n",
                          "extern crate proc_macro;\n\nfn broken() -> u8 { \"not a u8\" }\n");
        wait_for_the_derive(c, "the proc macro's source broke");
        dylib = derive_dylib(c);
        cr_assert_null(dylib, "a dylib is served for a proc macro that does not compile: %s",
                       dylib);
        r = pm_test_call(c, "projmodel/status", NULL);
        w = pm_test_status_warning(r, note);
        cr_assert(w, "the status does not name the proc macro and rustc's error");
        cr_assert(strstr(cJSON_GetObjectItem(w, "message")->valuestring, where), "%s",
                  cJSON_GetObjectItem(w, "message")->valuestring);
        cr_assert_str_eq(cJSON_GetObjectItem(w, "project")->valuestring, "gn:.");
        cJSON_Delete(r);
        text = status_text();
        cr_assert(strstr(text, note), "%s", text);
        pm_free(text);

        pm_test_edit_file(lib, "\nfn broken() -> u8 { \"not a u8\" }\n", "");
        wait_for_the_derive(c, "the proc macro's source was fixed");
        dylib = derive_dylib(c);
        cr_assert(dylib, "no dylib served once the proc macro compiles again");
        pm_free(dylib);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_null(pm_test_status_warning(r, "proc macro " DERIVE " not built"),
                       "the note stayed in the status after the fix");
        cJSON_Delete(r);
        text = status_text();
        cr_assert_null(strstr(text, "not built"), "%s", text);
        pm_free(text);
        pm_free(where);
        pm_free(lib);
        pm_client_free(c);
}

Test(daemon_update, syntax_error_keeps_model_and_recovers)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *path = pm_test_strf("%s/lib/util/BUILD.gn", d.root);
        char *good;
        cJSON *r, *n;
        double gen;

        settle(c);
        good = pm_test_read_file(path);
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        gen = cJSON_GetObjectItem(r, "generation")->valuedouble;
        cJSON_Delete(r);
        append("lib/util/BUILD.gn", "\nrust_library(\"broken\" {\n");
        n = pm_test_wait_notification(c, "projmodel/refreshFailed", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no refreshFailed notification");
        cr_assert(
                strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "error")->valuestring,
                       "BUILD.gn"));
        cJSON_Delete(n);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(r, "lastError")));
        cr_assert(strstr(cJSON_GetObjectItem(r, "lastError")->valuestring, "Expected comma"), "%s",
                  cJSON_GetObjectItem(r, "lastError")->valuestring);
        cr_assert_eq(cJSON_GetObjectItem(r, "generation")->valuedouble, gen);
        cJSON_Delete(r);
        /* The last good model still serves. */
        cr_assert(project_has_crate(c, "lib/util/src/lib.rs", "util"));

        /* Fixing the file recovers by itself: a refresh ends without error. */
        cr_assert_eq(pm_test_write_file(path, good), 0);
        for (int i = 0; i < 100; i++) {
                const cJSON *e;

                r = pm_test_call(c, "projmodel/refresh", NULL);
                cJSON_Delete(r);
                r = pm_test_call(c, "projmodel/status", NULL);
                e = cJSON_GetObjectItem(r, "lastError");
                if (cJSON_IsNull(e)) {
                        cJSON_Delete(r);
                        break;
                }
                cJSON_Delete(r);
                cr_assert_lt(i, 99, "the daemon did not recover");
        }
        pm_free(good);
        pm_free(path);
        pm_client_free(c);
}

Test(daemon_update, sigkill_during_update_keeps_database)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        struct pm_index *idx = NULL;
        struct pm_error err;
        cJSON *r, *n;
        double gen;

        settle(c);
        r = pm_test_call(c, "initialize", "{}");
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/status", NULL);
        gen = cJSON_GetObjectItem(r, "generation")->valuedouble;
        cJSON_Delete(r);
        append("lib/util/BUILD.gn", "\nrust_library(\"extra\") {\n  crate_root = \"src/lib.rs\"\n"
                                    "  sources = [ \"src/lib.rs\" ]\n}\n");
        /* Kill as soon as the update has begun. */
        n = pm_test_wait_notification(c, "$/progress", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no progress");
        cJSON_Delete(n);
        pm_test_daemon_kill(&d, SIGKILL);
        pm_client_free(c);
        pm_error_init(&err);
        cr_assert_eq(pm_index_open(d.db, &idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_check(idx, &err), 0, "%s", err.msg);
        pm_index_close(idx);

        /* Restart: the last good model serves at once, then it catches up. */
        pm_test_daemon_start(&d);
        c = pm_test_daemon_connect(&d);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_geq(cJSON_GetObjectItem(r, "generation")->valuedouble, gen);
        cJSON_Delete(r);
        cr_assert(project_has_crate(c, "lib/util/src/lib.rs", "util"));
        r = pm_test_call(c, "projmodel/refresh", NULL);
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:extra\"}");
        cJSON_Delete(r);
        pm_client_free(c);
}

Test(daemon_update, new_rust_file_gets_an_owner)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *file = pm_test_strf("%s/lib/util/src/extra.rs", d.root);
        char *params = pm_test_strf("{\"path\":\"%s\"}", file);
        cJSON *r;

        settle(c);
        cr_assert_eq(pm_test_write_file(file, "pub fn extra() {}\n"), 0);
        /* Owned by include dir even before GN lists it. */
        r = pm_test_call(c, "projmodel/crateForFile", params);
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(r, "crates"), "//lib/util:util"));
        cJSON_Delete(r);
        pm_free(params);
        pm_free(file);
        pm_client_free(c);
}

/*
 * One runner, one error-line rule: the same GN error reads the same in `projmodel export`'s
 * error and in the daemon's projmodel/status (and its refreshFailed notification), from the
 * quoted command on.
 */
Test(daemon_update, gn_error_reads_the_same_in_export_and_status)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *db = pm_test_strf("%s/export.db", d.tmp);
        const char *argv[] = { pm_test_projmodel(), "export", "--root", d.root, "--db", db, NULL };
        char *out = NULL, *errs = NULL, *nl;
        const char *from_export, *from_status, *from_note;
        cJSON *r, *n;
        int st;

        settle(c);
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
        append("lib/util/BUILD.gn", "\nrust_library(\"broken\" {\n");
        n = pm_test_wait_notification(c, "projmodel/refreshFailed", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no refreshFailed notification");
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(r, "lastError")));

        st = pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, &out, &errs);
        cr_assert_eq(st, 1, "export: exit %d, stderr: %s", st, errs);
        nl = strchr(errs, '\n');
        cr_assert(nl && nl[1] == '\0', "export's error is not one line: %s", errs);
        *nl = '\0';
        from_export = strstr(errs, "'gn ");
        from_status = strstr(cJSON_GetObjectItem(r, "lastError")->valuestring, "'gn ");
        from_note =
                strstr(cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "error")->valuestring,
                       "'gn ");
        cr_assert(from_export, "export: %s", errs);
        cr_assert(from_status, "status: %s", cJSON_GetObjectItem(r, "lastError")->valuestring);
        cr_assert(from_note);
        cr_assert(strstr(from_export, "ERROR at //lib/util/BUILD.gn:"), "%s", from_export);
        cr_assert_str_eq(from_status, from_export);
        cr_assert_str_eq(from_note, from_export);
        cJSON_Delete(n);
        cJSON_Delete(r);
        pm_free(errs);
        pm_free(out);
        pm_free(db);
        pm_client_free(c);
}
