/* SPDX-License-Identifier: MIT */
/* Integration test: a daemon started on a tree whose proc macro does not compile (real gn,
 * ninja and rustc on a copy of examples/gn-monorepo) serves the rest with the note in its
 * status and in `dump`, and builds the proc macro once its source is fixed. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "rustc-check.h"
#include "testlib.h"

#define DERIVE "//lib/describe_derive:describe_derive(//build/toolchain:host)"
#define BROKEN "\nfn broken() -> u8 { \"not a u8\" }\n"

static struct pm_test_daemon d;

/* The copy's proc macro is broken before the daemon first sees the tree (never built: the
 * fixture drops any out/ the example holds). */
static void
setup_broken(void)
{
        char *lib;

        pm_test_daemon_copy(&d, "gn-monorepo");
        lib = pm_test_strf("%s/lib/describe_derive/lib.rs", d.root);
        pm_test_edit_file(lib, "extern crate proc_macro;\n", "extern crate proc_macro;\n" BROKEN);
        pm_free(lib);
        pm_test_daemon_start(&d);
}

static void
teardown(void)
{
        pm_test_daemon_destroy(&d);
}

TestSuite(daemon_procmacro, .init = setup_broken, .fini = teardown, .timeout = 300);

/* projmodel/rustProject for engine (which uses the derive): owned by the caller. */
static cJSON *
engine_project(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/rustProject", "{\"label\":\"//lib/engine:engine\"}");
        cJSON *p = cJSON_DetachItemFromObject(r, "project");

        cr_assert(p, "projmodel/rustProject has no project");
        cJSON_Delete(r);
        return p;
}

/* How many crates the model holds (projmodel/search of every GN label). */
static int
model_size(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/search", "{\"query\":\"//\"}");
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(r, "labels"));

        cJSON_Delete(r);
        return n;
}

/* What `projmodel @cmd` prints against this daemon and its model (asserted to succeed),
 * pm_malloc'd. */
static char *
run_text(const char *const *argv)
{
        char *out = NULL, *errs = NULL;
        int st = pm_test_run(argv, d.root, pm_test_daemon_env(&d), NULL, &out, &errs);

        cr_assert_eq(st, 0, "projmodel %s: exit %d: %s", argv[1], st, errs);
        pm_free(errs);
        return out;
}

static char *
status_text(void)
{
        const char *argv[] = { pm_test_projmodel(), "status", "--root", d.root,
                               "--socket",          d.socket, NULL };

        return run_text(argv);
}

static char *
dump_text(void)
{
        const char *argv[] = { pm_test_projmodel(), "dump", "--root", d.root, "--db", d.db,
                               "--no-refresh",      DERIVE, NULL };

        return run_text(argv);
}

/* Wait for the modelChanged naming DERIVE (others are dropped), bounded. */
static void
wait_for_the_derive(struct pm_client *c)
{
        for (int i = 0;; i++) {
                cJSON *n = pm_test_wait_notification(c, "projmodel/modelChanged",
                                                     PM_TEST_DAEMON_TIMEOUT_MS);
                bool named;

                cr_assert(n, "no modelChanged naming the proc macro after its source was fixed");
                named = pm_test_json_array_has(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "labels"), DERIVE);
                cJSON_Delete(n);
                if (named)
                        return;
                cr_assert_lt(i, 10, "no modelChanged naming the proc macro after the fix");
        }
}

/*
 * The daemon's first model, made from a tree whose proc macro never compiled: the proc macro is
 * served without proc_macro_dylib_path, every other crate is served, and projmodel/status,
 * `projmodel status` and `dump` name the target with rustc's first error line and its place.
 * Once the source is fixed, the daemon builds it: the next answer names an existing
 * content-addressed copy that rustc loads to type-check its dependent, and the note is gone
 * (docs/build-integration.md).
 */
Test(daemon_procmacro, a_daemon_started_on_a_broken_proc_macro_serves_the_rest_until_fixed)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *lib = pm_test_strf("%s/lib/describe_derive/lib.rs", d.root);
        char *where = pm_test_strf("(%s:6:", lib);
        char *dir = pm_test_strf("%s/projmodel/dylibs/", d.cache);
        char *work = pm_test_strf("%s/check", d.tmp);
        const char *note = "proc macro " DERIVE " not built: error[E0308]: mismatched types";
        const cJSON *w, *derive, *dy;
        char *text, *json, *report = NULL;
        int n_crates, n_served;
        struct stat st;
        cJSON *r, *p;

        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        p = engine_project(c);
        derive = pm_test_crate_named(p, "describe_derive");
        cr_assert(derive, "the broken proc macro is not served");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(derive, "is_proc_macro")));
        cr_assert_null(cJSON_GetObjectItem(derive, "proc_macro_dylib_path"),
                       "a dylib is served for a proc macro that never compiled");
        cr_assert(pm_test_crate_named(p, "engine"), "the proc macro's dependent is not served");
        n_served = cJSON_GetArraySize(cJSON_GetObjectItem(p, "crates"));
        cJSON_Delete(p);
        n_crates = model_size(c);
        cr_assert_gt(n_crates, 2);

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
        text = dump_text();
        cr_assert(strstr(text, note), "%s", text);
        cr_assert(strstr(text, where), "%s", text);
        pm_free(text);

        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        pm_test_edit_file(lib, BROKEN, "\n");
        wait_for_the_derive(c);
        p = engine_project(c);
        derive = pm_test_crate_named(p, "describe_derive");
        cr_assert(derive);
        dy = cJSON_GetObjectItem(derive, "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dy), "no dylib served once the proc macro compiles");
        cr_assert(strncmp(dy->valuestring, dir, strlen(dir)) == 0, "'%s' is not under '%s'",
                  dy->valuestring, dir);
        cr_assert_eq(stat(dy->valuestring, &st), 0, "'%s' does not exist", dy->valuestring);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(p, "crates")), n_served);
        cr_assert_eq(model_size(c), n_crates, "the model lost or gained crates");
        json = cJSON_PrintUnformatted(p);
        cr_assert(json);
        cr_assert_eq(mkdir(work, 0755), 0);
        cr_assert_eq(pm_test_rustc_check_project_loading_dylibs(json, work, &report), 0, "%s",
                     report ? report : "");
        cJSON_free(json);
        cJSON_Delete(p);

        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_null(pm_test_status_warning(r, "proc macro " DERIVE " not built"),
                       "the note stayed in the status after the fix");
        cJSON_Delete(r);
        text = status_text();
        cr_assert_null(strstr(text, "not built"), "%s", text);
        pm_free(text);
        text = dump_text();
        cr_assert_null(strstr(text, "not built"), "%s", text);
        pm_free(text);
        pm_free(report);
        pm_free(work);
        pm_free(dir);
        pm_free(where);
        pm_free(lib);
        pm_client_free(c);
}
