/* SPDX-License-Identifier: MIT */
/* Integration tests: a BUILD.gn edit is applied incrementally (a partial graph from the
 * fingerprints stored with the model's last apply), and the daemon's whole-repo
 * rust-project.json afterwards is the same as a fresh one-shot export of the tree into a new
 * database; the daemon and the one-shot commands share one change detection. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_incremental, d, "gn-monorepo");

/* Replace the first @from in the tree's @rel file by @to. */
static void
edit(const char *rel, const char *from, const char *to)
{
        char *path = pm_test_strf("%s/%s", d.root, rel);

        pm_test_edit_file(path, from, to);
        pm_free(path);
}

/* The daemon's whole-repo rust-project.json, as compact JSON (pm_malloc'd). */
static char *
daemon_project(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", NULL);
        char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(r, "project")), *copy;

        cr_assert(s);
        copy = pm_test_strf("%s", s);
        cJSON_free(s);
        cJSON_Delete(r);
        return copy;
}

/* `projmodel export` of the tree into a fresh database, as compact JSON (pm_malloc'd). */
static char *
fresh_export(int n)
{
        char *db = pm_test_strf("%s/fresh-%d.db", d.tmp, n);
        char *out = pm_test_strf("%s/fresh-%d.json", d.tmp, n);
        const char *argv[] = { pm_test_projmodel(), "export", "--root", d.root, "--db", db,
                               "--output",          out,      NULL };
        char *err = NULL, *text, *s, *copy;
        cJSON *j;
        int rc;

        rc = pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, NULL, &err);
        cr_assert_eq(rc, 0, "export failed: %s", err);
        text = pm_test_read_file(out);
        cr_assert(text);
        j = cJSON_Parse(text);
        cr_assert(j, "export wrote bad JSON");
        s = cJSON_PrintUnformatted(j);
        cr_assert(s);
        copy = pm_test_strf("%s", s);
        cJSON_free(s);
        cJSON_Delete(j);
        pm_free(text);
        pm_free(err);
        pm_free(out);
        pm_free(db);
        return copy;
}

/* Wait for the model change a write caused; true if that refresh was partial. */
static bool
wait_change(struct pm_client *c, const char *label)
{
        cJSON *n =
                pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        static const char *const parts[] = { "toolMs",  "readMs",   "parseMs",
                                             "applyMs", "notifyMs", "buildMs" };
        double ms[sizeof(parts) / sizeof(*parts)];
        cJSON *r, *it, *last;
        bool seen = false, partial;

        cr_assert(n, "no modelChanged notification (for %s)", label);
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"))
        {
                seen |= cJSON_IsString(it) && strcmp(it->valuestring, label) == 0;
        }
        cr_assert(seen, "'%s' not among the changed crates", label);
        cJSON_Delete(n);
        r = pm_test_call(c, "projmodel/status", NULL);
        last = cJSON_GetObjectItem(r, "lastRefresh");
        partial = cJSON_IsTrue(cJSON_GetObjectItem(last, "partial"));
        /* Every part of the refresh is accounted for, and the own share is exactly read + parse +
         * apply (docs/protocol.md). */
        for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++) {
                it = cJSON_GetObjectItem(last, parts[i]);
                cr_assert(cJSON_IsNumber(it) && it->valuedouble >= 0,
                          "lastRefresh.%s missing or negative", parts[i]);
                ms[i] = it->valuedouble;
        }
        it = cJSON_GetObjectItem(last, "ownMs");
        cr_assert(cJSON_IsNumber(it));
        cr_assert(ms[1] + ms[2] + ms[3] > it->valuedouble - 0.01 &&
                          ms[1] + ms[2] + ms[3] < it->valuedouble + 0.01,
                  "readMs + parseMs + applyMs (%f) is not ownMs (%f)", ms[1] + ms[2] + ms[3],
                  it->valuedouble);
        cJSON_Delete(r);
        return partial;
}

static void
settle_and_subscribe(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/refresh", NULL);

        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_not(cJSON_IsTrue(
                cJSON_GetObjectItem(cJSON_GetObjectItem(r, "lastRefresh"), "partial")));
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);
}

static void
assert_same(char *daemon, char *fresh, const char *what)
{
        cr_assert_str_eq(daemon, fresh, "after %s, the daemon's model differs from a fresh export",
                         what);
        pm_free(daemon);
        pm_free(fresh);
}

Test(daemon_incremental, aliased_deps_edit_is_partial_and_equals_a_fresh_export)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *before;

        settle_and_subscribe(c);
        before = daemon_project(c);
        /* Only the ninja file shows a rename: the JSON of //lib/engine:engine is unchanged. */
        edit("lib/engine/BUILD.gn", "utils2 = \"//lib/util\"", "utils3 = \"//lib/util\"");
        cr_assert(wait_change(c, "//lib/engine:engine"), "the update was not incremental");
        {
                char *after = daemon_project(c);

                cr_assert(strstr(after, "\"utils3\""), "the rename is not in the model");
                cr_assert_str_neq(before, after);
                pm_free(before);
                assert_same(after, fresh_export(1), "an aliased_deps edit");
        }
        pm_client_free(c);
}

Test(daemon_incremental, new_target_and_flags_edits_equal_a_fresh_export)
{
        struct pm_client *c = pm_test_daemon_connect(&d);

        settle_and_subscribe(c);
        /* A new target next to util, and util's flags: util's own crates are re-parsed. */
        edit("lib/util/BUILD.gn", "    \"2018\",\n  ]\n",
             "    \"2018\",\n    \"--cfg=feature=\\\"fast\\\"\",\n  ]\n");
        edit("lib/util/BUILD.gn", "rust_library(\"util\") {",
             "rust_library(\"util_extra\") {\n  crate_root = \"src/lib.rs\"\n"
             "  sources = [ \"src/lib.rs\" ]\n  deps = [ \":util\" ]\n}\n\n"
             "rust_library(\"util\") {");
        cr_assert(wait_change(c, "//lib/util:util_extra"), "the update was not incremental");
        assert_same(daemon_project(c), fresh_export(1), "a new target and a flags edit");

        /* Remove it again. */
        edit("lib/util/BUILD.gn", "rust_library(\"util_extra\")", "group(\"util_extra\")");
        edit("lib/util/BUILD.gn",
             "  crate_root = \"src/lib.rs\"\n  sources = [ \"src/lib.rs\" ]\n"
             "  deps = [ \":util\" ]\n}",
             "  deps = [ \":util\" ]\n}");
        cr_assert(wait_change(c, "//lib/util:util_extra"), "the update was not incremental");
        assert_same(daemon_project(c), fresh_export(2), "a target turned into a group");
        pm_client_free(c);
}

Test(daemon_incremental, a_hub_edit_is_partial_and_equals_a_fresh_export)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *before;

        settle_and_subscribe(c);
        /*
         * lib/util is the hub (config, engine and engine_tests depend on it) and has deps: a new
         * target in its BUILD.gn could have changed which of util's deps are public, which only
         * the dependents' ninja files show. GN rewrites none of them, so only util's file is
         * re-parsed.
         */
        edit("lib/util/BUILD.gn", "rust_library(\"util\") {",
             "rust_library(\"util_extra\") {\n  crate_root = \"src/lib.rs\"\n"
             "  sources = [ \"src/lib.rs\" ]\n}\n\nrust_library(\"util\") {");
        cr_assert(wait_change(c, "//lib/util:util_extra"), "the hub edit was not incremental");
        before = daemon_project(c);
        assert_same(daemon_project(c), fresh_export(1), "a new target in the hub's BUILD.gn");

        /* util's dep turns public: GN rewrites its dependents' ninja files (they gain
         * --extern fnv), and those dependents are re-parsed, still incrementally. */
        edit("lib/util/BUILD.gn", "  deps = [ \"//third_party/fnv\" ]",
             "  public_deps = [ \"//third_party/fnv\" ]");
        cr_assert(wait_change(c, "//lib/engine:engine"),
                  "the public_deps edit was not incremental");
        {
                char *after = daemon_project(c);

                cr_assert_str_neq(before, after, "the new externs are not in the model");
                pm_free(before);
                assert_same(after, fresh_export(2), "util's deps turned public");
        }
        pm_client_free(c);
}

/* Apply the @n replacements @pairs (from, to; each of the first @from) to the tree's @rel file
 * and write it once: one watcher event, so one refresh sees the whole edit. */
static void
rewrite(const char *rel, const char *const *pairs, size_t n)
{
        char *path = pm_test_strf("%s/%s", d.root, rel);
        char *text = pm_test_read_file(path);

        cr_assert(text, "cannot read %s", path);
        for (size_t i = 0; i < n; i++) {
                char *at = strstr(text, pairs[2 * i]), *next;

                cr_assert(at, "'%s' not in %s", pairs[2 * i], rel);
                *at = '\0';
                next = pm_test_strf("%s%s%s", text, pairs[2 * i + 1], at + strlen(pairs[2 * i]));
                pm_free(text);
                text = next;
        }
        cr_assert_eq(pm_test_write_file(path, text), 0);
        pm_free(text);
        pm_free(path);
}

/* After each edit the daemon's model must be a fresh export's: a refresh that re-parses fewer
 * targets than the edit changed (a dependent in another directory, a config's users) fails. */
static void
assert_step(struct pm_client *c, const char *label, bool want_partial, int n, const char *what)
{
        bool partial = wait_change(c, label);

        if (want_partial)
                cr_assert(partial, "%s was not applied incrementally", what);
        assert_same(daemon_project(c), fresh_export(n), what);
}

Test(daemon_incremental, one_build_file_edits_equal_a_fresh_export)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *extra = pm_test_strf("%s/lib/extra", d.root);
        char *p;

        settle_and_subscribe(c);
        {
                const char *add_dep[] = { "deps = [ \":gen_tables_rs\" ]",
                                          "deps = [\n    \":gen_tables_rs\",\n"
                                          "    \"//third_party/fnv\",\n  ]" };

                rewrite("lib/tables/BUILD.gn", add_dep, 1);
                assert_step(c, "//lib/tables:tables", true, 1, "a new dep");
        }
        {
                const char *add_target[] = {
                        "rust_library(\"tables\") {",
                        "rust_library(\"tables_extra\") {\n  crate_root = \"src/lib.rs\"\n"
                        "  sources = [ \"src/lib.rs\" ]\n}\n\nrust_library(\"tables\") {",
                        "\"//third_party/fnv\",", "\"//third_party/fnv\",\n    \":tables_extra\","
                };

                rewrite("lib/tables/BUILD.gn", add_target, 2);
                assert_step(c, "//lib/tables:tables_extra", true, 2, "a new target and its use");
        }
        {
                /* The target and the dep that names it, in one write (else GN fails between). */
                const char *rename[] = { "(\"tables_extra\")", "(\"tables_more\")",
                                         "\":tables_extra\"", "\":tables_more\"" };

                rewrite("lib/tables/BUILD.gn", rename, 2);
                assert_step(c, "//lib/tables:tables_more", true, 3, "a renamed target");
        }
        {
                const char *del[] = { "rust_library(\"tables_more\") {\n  crate_root = "
                                      "\"src/lib.rs\"\n  sources = [ \"src/lib.rs\" ]\n}\n\n",
                                      "", "\n    \":tables_more\",", "" };

                rewrite("lib/tables/BUILD.gn", del, 2);
                assert_step(c, "//lib/tables:tables_more", true, 4, "a deleted target");
        }
        {
                /* A new directory's BUILD.gn, loaded because an existing one now names it: GN's
                 * list of the files it read changes, so this one may parse everything. */
                const char *use[] = { "\"//third_party/fnv\",",
                                      "\"//third_party/fnv\",\n    \"//lib/extra\"," };

                p = pm_test_strf("%s/src/lib.rs", extra);
                cr_assert_eq(pm_test_write_file(p, "pub fn extra() {}\n"), 0);
                pm_free(p);
                p = pm_test_strf("%s/BUILD.gn", extra);
                cr_assert_eq(pm_test_write_file(p, "rust_library(\"extra\") {\n"
                                                   "  crate_root = \"src/lib.rs\"\n"
                                                   "  sources = [ \"src/lib.rs\" ]\n}\n"),
                             0);
                pm_free(p);
                rewrite("lib/tables/BUILD.gn", use, 1);
                assert_step(c, "//lib/extra:extra", false, 5, "a new directory's target");
        }
        {
                /* A config in util's BUILD.gn that util passes on to its dependents in other
                 * directories (config, engine, ...): their flags change, util's file alone was
                 * written. */
                const char *cfg[] = { "rust_library(\"util\") {",
                                      "config(\"util_flags\") {\n"
                                      "  rustflags = [ \"--cfg=util_flag\" ]\n}\n\n"
                                      "rust_library(\"util\") {\n"
                                      "  public_configs = [ \":util_flags\" ]" };
                const char *cfg_edit[] = { "--cfg=util_flag", "--cfg=util_flag_two" };

                rewrite("lib/util/BUILD.gn", cfg, 1);
                assert_step(c, "//lib/config:config", true, 6, "a public config");
                /* Only the config's body: no target of lib/util/BUILD.gn says anything new. */
                rewrite("lib/util/BUILD.gn", cfg_edit, 1);
                assert_step(c, "//lib/engine:engine", true, 7, "a config's flags");
        }
        pm_free(extra);
        pm_client_free(c);
}

/* Project gn:.'s warnings in the status: asserts warningsTotal is @total and that @text is
 * listed (NULL: none is). */
static void
assert_warnings(struct pm_client *c, size_t total, const char *text)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        cJSON *total_j = cJSON_GetObjectItem(r, "warningsTotal");

        cr_assert(cJSON_IsNumber(total_j) && total_j->valuedouble == (double)total,
                  "warningsTotal is not %zu: %s", total, cJSON_PrintUnformatted(r));
        if (text)
                cr_assert(pm_test_status_warning(r, text), "'%s' not listed", text);
        else
                cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 0);
        cJSON_Delete(r);
}

Test(daemon_incremental, a_warning_survives_partial_updates_of_other_build_files)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        const char *text =
                "target '//lib/config:config': rustenv entry 'GREETING' is not KEY=VALUE";

        settle_and_subscribe(c);
        /* A warning about lib/config/BUILD.gn, which stays while that file is broken. */
        edit("lib/config/BUILD.gn", "rustenv = [ \"GREETING=hello\" ]",
             "rustenv = [ \"GREETING\" ]");
        cr_assert(wait_change(c, "//lib/config:config"), "the update was not incremental");
        assert_warnings(c, 1, text);
        /* Edits of another file stay incremental and keep it... */
        edit("lib/util/BUILD.gn", "rust_library(\"util\") {",
             "rust_library(\"util_extra\") {\n  crate_root = \"src/lib.rs\"\n"
             "  sources = [ \"src/lib.rs\" ]\n}\n\nrust_library(\"util\") {");
        cr_assert(wait_change(c, "//lib/util:util_extra"), "a project with a warning parsed whole");
        assert_warnings(c, 1, text);
        assert_same(daemon_project(c), fresh_export(1), "an edit while another file warns");
        /* ...a re-read of lib/config that still warns replaces it (not twice)... */
        edit("lib/config/BUILD.gn", "\"--edition=2021\",", "\"--edition=2018\",");
        cr_assert(wait_change(c, "//lib/config:config"), "the update was not incremental");
        assert_warnings(c, 1, text);
        /* ...and the fix drops it, still incrementally. */
        edit("lib/config/BUILD.gn", "rustenv = [ \"GREETING\" ]",
             "rustenv = [ \"GREETING=hello\" ]");
        cr_assert(wait_change(c, "//lib/config:config"), "the update was not incremental");
        assert_warnings(c, 0, NULL);
        assert_same(daemon_project(c), fresh_export(2), "the fix");
        pm_client_free(c);
}

Test(daemon_incremental, a_failed_run_makes_the_next_update_full)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *path = pm_test_strf("%s/lib/util/BUILD.gn", d.root), *good;
        cJSON *n, *r;

        settle_and_subscribe(c);
        good = pm_test_read_file(path);
        cr_assert(good);
        /* A failing gn run forgets the fingerprints... */
        cr_assert_eq(pm_test_write_file(path, "rust_library(\"broken\" {\n"), 0);
        n = pm_test_wait_notification(c, "projmodel/refreshFailed", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no refreshFailed notification");
        cJSON_Delete(n);
        /* ...so the fix is parsed in full, whatever its scope. */
        edit("lib/engine/BUILD.gn", "utils2 = \"//lib/util\"", "utils4 = \"//lib/util\"");
        n = pm_test_wait_notification(c, "projmodel/refreshFailed", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "util is still broken");
        cJSON_Delete(n);
        cr_assert_eq(pm_test_write_file(path, good), 0);
        cr_assert_not(wait_change(c, "//lib/engine:engine"), "partial after a failed run");
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "lastError")));
        cJSON_Delete(r);
        assert_same(daemon_project(c), fresh_export(1), "recovering from a failed run");
        pm_free(good);
        pm_free(path);
        pm_client_free(c);
}

/* pm_client_notify_cb: keep each $/progress message's text, one per line. */
static void
collect_progress(void *userdata, const cJSON *msg)
{
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(msg, "method");
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(msg, "params"),
                                                 "value"),
                "message");
        char **log = userdata, *next;

        if (!cJSON_IsString(m) || strcmp(m->valuestring, "$/progress") != 0 ||
            !cJSON_IsString(text))
                return;
        next = pm_test_strf("%s%s\n", *log ? *log : "", text->valuestring);
        pm_free(*log);
        *log = next;
}

Test(daemon_incremental, export_and_restarted_daemon_share_the_stamp_and_the_fingerprints)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        const char *const *denv = pm_test_daemon_env(&d);
        const char *env[16];
        const char *argv[] = { pm_test_projmodel(), "export", "--root", d.root, "--db", d.db,
                               "--output",          "-",      NULL };
        struct pm_error err;
        char *out = NULL, *errs = NULL, *log = NULL;
        cJSON *r = NULL;
        size_t n = 0;

        /* The daemon's first run stored its stamp and fingerprints; stop it. */
        settle_and_subscribe(c);
        pm_client_free(c);
        pm_test_daemon_kill(&d, SIGTERM);

        /* A one-shot export into the daemon's model parses nothing: the daemon's stamp is fresh. */
        while (denv[n] && n < 13) {
                env[n] = denv[n];
                n++;
        }
        env[n++] = "PROJMODEL_NO_DAEMON=1";
        env[n++] = "PROJMODEL_TRACE=1";
        env[n] = NULL;
        cr_assert_eq(pm_test_run(argv, d.root, env, NULL, &out, &errs), 0, "export: %s", errs);
        cr_assert(strstr(errs, "refresh: parse skipped"), "export:\n%s", errs);
        cr_assert(strstr(out, "\"utils2\""), "the export lacks the model");

        /* Nor do the restarted daemon's refreshes: the stamp is still fresh. */
        pm_test_daemon_start(&d);
        c = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        pm_error_init(&err);
        cr_assert_eq(pm_client_call(c, "projmodel/refresh", NULL, PM_TEST_DAEMON_TIMEOUT_MS,
                                    collect_progress, &log, &r, &err),
                     0, "%s", err.msg);
        cJSON_Delete(r);
        cr_assert(log && strstr(log, "gn: input unchanged, parse skipped"), "progress:\n%s",
                  log ? log : "");
        cr_assert_not(strstr(log, "parsed"), "progress:\n%s", log);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_eq(
                cJSON_GetObjectItem(cJSON_GetObjectItem(r, "lastRefresh"), "parseMs")->valuedouble,
                0);
        cJSON_Delete(r);

        /* The next BUILD.gn edit is partial: the fingerprints the daemon stored before it
         * stopped are still those of the model. */
        edit("lib/engine/BUILD.gn", "utils2 = \"//lib/util\"", "utils6 = \"//lib/util\"");
        cr_assert(wait_change(c, "//lib/engine:engine"), "the update was not incremental");
        assert_same(daemon_project(c), fresh_export(1), "an update after a restart");
        pm_free(log);
        pm_free(out);
        pm_free(errs);
        pm_client_free(c);
}
