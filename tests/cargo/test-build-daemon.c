/* SPDX-License-Identifier: MIT */
/* The Cargo build step through the daemon's own runner (server/update.c): a build script added to
 * the vendored Cargo workspace of examples/mixed-monorepo reaches projmodel/rustProject, with
 * CARGO naming the cargo that ran, and an edit of the script is watched and runs it again; a
 * proc macro added there is served from the dylib cache, and an edit of its source is rebuilt
 * and served under a new path, and the old copy is collected a week later; the refresh announces
 * its `cargo check` step by what it builds. */
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(cargo_build_daemon, d, "mixed-monorepo");

#define DAY (24L * 3600)

static const char *
env_of(const cJSON *crate, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(crate, "env"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

Test(cargo_build_daemon, a_build_script_reaches_the_daemons_answer)
{
        char *build_rs = pm_test_strf("%s/third_party/rust/ansi/build.rs", d.root);
        struct pm_client *c = pm_test_daemon_connect(&d);
        const cJSON *ansi, *cfg, *inc;
        const char *out_dir, *cargo;
        cJSON *r;

        cr_assert_eq(pm_test_write_file(build_rs, "fn main() {\n"
                                                  "    println!(\"cargo:rustc-cfg=ansi_gen\");\n"
                                                  "    println!(\"cargo:rustc-env=ANSI_GEN=1\");\n"
                                                  "}\n"),
                     0);
        /* A build.rs beside Cargo.toml changes no build file: ask for the refresh. */
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/rustProject", NULL);
        ansi = pm_test_crate_named(cJSON_GetObjectItemCaseSensitive(r, "project"), "ansi");
        cfg = cJSON_GetObjectItemCaseSensitive(ansi, "cfg");
        inc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ansi, "source"),
                                               "include_dirs");
        cr_assert(pm_test_json_array_has(cfg, "ansi_gen"));
        cr_assert(pm_test_json_array_has(cfg, "feature=\"color\""), "the features stay");
        cr_assert_str_eq(env_of(ansi, "ANSI_GEN"), "1");
        out_dir = env_of(ansi, "OUT_DIR");
        cr_assert(out_dir && strncmp(out_dir, d.cache, strlen(d.cache)) == 0,
                  "OUT_DIR '%s' is in the daemon's cache directory '%s'", out_dir, d.cache);
        cr_assert(pm_test_json_array_has(inc, out_dir));
        cargo = env_of(ansi, "CARGO");
        cr_assert(cargo && cargo[0] == '/', "CARGO '%s'", cargo ? cargo : "(none)");
        cJSON_Delete(r);

        /* The build script is watched now: editing it runs it again, without being asked. */
        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        cr_assert_eq(pm_test_write_file(build_rs, "fn main() {\n"
                                                  "    println!(\"cargo:rustc-cfg=ansi_gen2\");\n"
                                                  "}\n"),
                     0);
        r = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert_not_null(r, "no modelChanged after the build script changed");
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/rustProject", NULL);
        ansi = pm_test_crate_named(cJSON_GetObjectItemCaseSensitive(r, "project"), "ansi");
        cfg = cJSON_GetObjectItemCaseSensitive(ansi, "cfg");
        cr_assert(pm_test_json_array_has(cfg, "ansi_gen2"));
        cr_assert_not(pm_test_json_array_has(cfg, "ansi_gen"));
        cr_assert_null(env_of(ansi, "ANSI_GEN"));
        cJSON_Delete(r);
        pm_client_free(c);
        pm_free(build_rs);
}

/* shout's proc_macro_dylib_path in the daemon's answer (asserted), pm_malloc'd. */
static char *
shout_dylib(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", NULL);
        const cJSON *shout =
                pm_test_crate_named(cJSON_GetObjectItemCaseSensitive(r, "project"), "shout");
        const cJSON *dy = cJSON_GetObjectItemCaseSensitive(shout, "proc_macro_dylib_path");
        char *path;

        cr_assert(cJSON_IsString(dy), "shout has no proc_macro_dylib_path");
        path = pm_strdup(dy->valuestring);
        cr_assert(path);
        cJSON_Delete(r);
        return path;
}

/* projmodel/status once it reports a collection of the cache directory (bounded wait). */
static cJSON *
wait_collected(struct pm_client *c)
{
        for (int i = 0; i < PM_TEST_DAEMON_TIMEOUT_MS / 100; i++) {
                cJSON *r = pm_test_call(c, "projmodel/status", NULL);
                const cJSON *at = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(r, "cache"), "collected");

                cr_assert(cJSON_IsNumber(at), "no cache.collected in the status");
                if (at->valuedouble > 0)
                        return r;
                cJSON_Delete(r);
                usleep(100 * 1000);
        }
        cr_assert_fail("the daemon did not collect the cache directory");
        return NULL;
}

/*
 * A proc macro of the Cargo workspace (used by table-fmt, so cargo builds its dylib) is served
 * from the content-addressed cache; an edit of its source (a watched build file for Cargo,
 * docs/build-integration.md) makes the daemon run cargo again without being asked, and the next
 * answer names a new copy while the old one stays as it was.
 */
Test(cargo_build_daemon, a_proc_macro_source_edit_is_rebuilt_and_served_under_a_new_path)
{
        char *ws = pm_test_strf("%s/third_party/rust", d.root);
        char *dir = pm_test_strf("%s/projmodel/dylibs/", d.cache);
        char *path, *lib, *before, *after;
        struct pm_client *c = pm_test_daemon_connect(&d);
        struct stat st;
        cJSON *n, *status;
        const cJSON *cache;
        char *stamp;

        path = pm_test_strf("%s/shout", ws);
        cr_assert_eq(mkdir(path, 0755), 0);
        pm_free(path);
        path = pm_test_strf("%s/shout/src", ws);
        cr_assert_eq(mkdir(path, 0755), 0);
        pm_free(path);
        path = pm_test_strf("%s/shout/Cargo.toml", ws);
        cr_assert_eq(pm_test_write_file(path, "[package]\nname = \"shout\"\nversion = \"0.1.0\"\n"
                                              "edition = \"2021\"\n\n[lib]\nproc-macro = true\n"),
                     0);
        pm_free(path);
        lib = pm_test_strf("%s/shout/src/lib.rs", ws);
        cr_assert_eq(pm_test_write_file(lib, "extern crate proc_macro;\n"
                                             "use proc_macro::TokenStream;\n"
                                             "#[proc_macro]\n"
                                             "pub fn shout(_: TokenStream) -> TokenStream {\n"
                                             "    \"1\".parse().unwrap()\n"
                                             "}\n"),
                     0);
        path = pm_test_strf("%s/Cargo.toml", ws);
        pm_test_edit_file(path, "members = [\"ansi\", \"table-fmt\"]",
                          "members = [\"ansi\", \"table-fmt\", \"shout\"]");
        pm_free(path);
        path = pm_test_strf("%s/table-fmt/Cargo.toml", ws);
        pm_test_edit_file(path, "[dependencies]\n",
                          "[dependencies]\nshout = { path = \"../shout\" }\n");
        pm_free(path);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        before = shout_dylib(c);
        cr_assert(strncmp(before, dir, strlen(dir)) == 0, "'%s' is not under '%s'", before, dir);
        cr_assert_eq(stat(before, &st), 0, "'%s' does not exist", before);

        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        pm_test_edit_file(lib, "\"1\".parse()", "\"2\".parse()");
        /* A refresh the Cargo.toml edits above started after the explicit one may notify
         * first: wait on until an answer names another copy (a few notifications at most). */
        after = NULL;
        for (int i = 0; i < 4 && (!after || strcmp(after, before) == 0); i++) {
                n = pm_test_wait_notification(c, "projmodel/modelChanged",
                                              PM_TEST_DAEMON_TIMEOUT_MS);
                cr_assert_not_null(n, "no modelChanged after the proc macro's source changed");
                cJSON_Delete(n);
                pm_free(after);
                after = shout_dylib(c);
        }
        cr_assert_str_neq(after, before, "the edited proc macro is served from the old copy");
        cr_assert(strncmp(after, dir, strlen(dir)) == 0, "'%s' is not under '%s'", after, dir);
        cr_assert_eq(stat(after, &st), 0, "'%s' does not exist", after);
        cr_assert_eq(stat(before, &st), 0, "the old copy '%s' was removed", before);

        /* A week after no model names the old copy, a daemon collects it after a refresh; the
         * copy in use stays however old (indexer/collect.c). The daily stamp is set back. */
        pm_test_age_path(before, 30 * DAY);
        pm_test_age_path(after, 30 * DAY);
        stamp = pm_test_strf("%s/projmodel/collected", d.cache);
        cr_assert_eq(access(stamp, F_OK), 0, "the daemon's first refresh collected the cache");
        pm_test_age_path(stamp, 2 * DAY);
        pm_client_free(c);
        cr_assert_eq(pm_test_daemon_kill(&d, SIGTERM), 0);
        pm_test_daemon_start(&d);
        c = pm_test_daemon_connect(&d);
        status = wait_collected(c);
        cache = cJSON_GetObjectItemCaseSensitive(status, "cache");
        cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cache, "error")));
        cr_assert_geq(cJSON_GetObjectItemCaseSensitive(cache, "models")->valuedouble, 1);
        cr_assert_geq(cJSON_GetObjectItemCaseSensitive(cache, "inUse")->valuedouble, 1);
        cr_assert_geq(cJSON_GetObjectItemCaseSensitive(cache, "removed")->valuedouble, 1);
        cr_assert_neq(stat(before, &st), 0, "the old copy '%s' was not collected", before);
        cr_assert_eq(stat(after, &st), 0, "the copy in use '%s' was collected", after);
        pm_free(stamp);
        cJSON_Delete(status);
        pm_free(after);
        pm_free(before);
        pm_free(lib);
        pm_free(dir);
        pm_free(ws);
        pm_client_free(c);
}

/* The `report` messages of the $/progress notifications heard while waiting, in order. */
struct heard {
        char *lines[256];
        size_t n;
};

static void
hear(void *userdata, const cJSON *msg)
{
        struct heard *h = userdata;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "method");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(msg, "params"), "value");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(v, "kind");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(v, "message");

        if (!cJSON_IsString(m) || strcmp(m->valuestring, "$/progress") != 0 ||
            !cJSON_IsString(kind) || strcmp(kind->valuestring, "report") != 0 ||
            !cJSON_IsString(text) || h->n >= sizeof(h->lines) / sizeof(h->lines[0]))
                return;
        h->lines[h->n] = pm_strdup(text->valuestring);
        cr_assert(h->lines[h->n]);
        h->n++;
}

/* The index of the first line of @h that starts with @prefix, or -1. */
static long
heard_at(const struct heard *h, const char *prefix)
{
        for (size_t i = 0; i < h->n; i++)
                if (strncmp(h->lines[i], prefix, strlen(prefix)) == 0)
                        return (long)i;
        return -1;
}

/*
 * The daemon's refresh announces the Cargo query's `cargo check` step as the worker announces
 * the other adapters' builds and as the one-shot discover does (docs/cli.md, Progress), counted
 * from `cargo metadata`: ansi's build script (one OUT_DIR), no proc macro; between the query
 * and the parse.
 */
Test(cargo_build_daemon, the_refresh_announces_what_cargo_check_builds)
{
        char *build_rs = pm_test_strf("%s/third_party/rust/ansi/build.rs", d.root);
        struct pm_client *c = pm_test_daemon_connect(&d);
        struct heard h = { .n = 0 };
        long at_query, at_building, at_parsed;
        struct pm_error err;
        cJSON *result = NULL;
        int r;

        cr_assert_eq(pm_test_write_file(build_rs, "fn main() {}\n"), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        pm_error_init(&err);
        /* The refresh's notifications all come before its answer (docs/protocol.md). */
        r = pm_client_call(c, "projmodel/refresh", NULL, PM_TEST_DAEMON_TIMEOUT_MS, hear, &h,
                           &result, &err);
        cr_assert_eq(r, 0, "refresh failed: %s", err.msg);
        cJSON_Delete(result);
        at_query = heard_at(&h, "querying cargo for 'third_party/rust'");
        at_building = heard_at(&h, "building ");
        at_parsed = heard_at(&h, "cargo in third_party/rust: parsed ");
        cr_assert_geq(at_building, 0, "no building line among %zu", h.n);
        cr_assert_str_eq(h.lines[at_building],
                         "building 1 OUT_DIR with cargo (in third_party/rust)");
        cr_assert_geq(at_query, 0, "no querying line");
        cr_assert_gt(at_building, at_query);
        cr_assert_gt(at_parsed, at_building, "parsed at %ld", at_parsed);
        for (size_t i = 0; i < h.n; i++)
                pm_free(h.lines[i]);
        pm_free(build_rs);
        pm_client_free(c);
}
