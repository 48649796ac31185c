/* SPDX-License-Identifier: MIT */
/* Integration test: the status's parse warnings are kept per project. On a copy of
 * examples/mixed-monorepo (GN root, Cargo subproject; real gn and cargo), the GN project's
 * warning stays while only the Cargo project is re-queried, and while its own re-query fails. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_warnings, d, "mixed-monorepo");

#define GN_WARNING "target '//lib/core:noenv': rustenv entry 'NOEQ' is not KEY=VALUE, ignoring"

static double
refreshes(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        double n = cJSON_GetObjectItem(r, "refreshes")->valuedouble;

        cJSON_Delete(r);
        return n;
}

/* The status lists the GN project's warning, and only it. */
static void
assert_gn_warning(struct pm_client *c, const char *when)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        const cJSON *w = pm_test_status_warning(r, GN_WARNING);

        cr_assert(w, "%s: %s", when, cJSON_PrintUnformatted(r));
        cr_assert_str_eq(cJSON_GetObjectItem(w, "project")->valuestring, "gn:.");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 1, "%s", when);
        cr_assert_eq(cJSON_GetObjectItem(r, "warningsTotal")->valuedouble, 1, "%s", when);
        cJSON_Delete(r);
}

Test(daemon_warnings, a_project_keeps_its_warnings_until_it_is_parsed_again)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *gn = pm_test_strf("%s/lib/core/BUILD.gn", d.root);
        char *cargo = pm_test_strf("%s/third_party/rust/ansi/Cargo.toml", d.root);
        char *params = pm_test_strf("{\"buildfile\":\"%s\"}", cargo);
        char *old_gn = pm_test_read_file(gn), *old_cargo = pm_test_read_file(cargo), *text;
        cJSON *r;
        double n;

        cr_assert(old_gn && old_cargo);
        text = pm_test_strf("%s\nrust_library(\"noenv\") {\n  crate_root = \"src/lib.rs\"\n"
                            "  sources = [ \"src/lib.rs\" ]\n  rustenv = [ \"NOEQ\" ]\n}\n",
                            old_gn);
        cr_assert_eq(pm_test_write_file(gn, text), 0);
        pm_free(text);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        assert_gn_warning(c, "after the GN project's parse");

        /* Only the Cargo project is re-queried: its parse has no warning, GN's stays. */
        n = refreshes(c);
        text = pm_test_strf("%s# touched\n", old_cargo);
        cr_assert_eq(pm_test_write_file(cargo, text), 0);
        pm_free(text);
        cJSON_Delete(pm_test_call(c, "projmodel/rustProject", params));
        cr_assert_gt(refreshes(c), n, "the Cargo.toml edit was not applied");
        assert_gn_warning(c, "after the Cargo project's parse");

        /* The GN project's re-query fails: the model keeps its last good state, and so do its
         * warnings. */
        cr_assert_eq(pm_test_write_file(gn, "rust_library(\"broken\" {\n"), 0);
        cr_assert_eq(pm_test_call_error(c, "projmodel/refresh", NULL), PM_ETOOL);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsString(cJSON_GetObjectItem(r, "lastError")));
        cJSON_Delete(r);
        assert_gn_warning(c, "after the GN project's failed re-query");

        /* Fixed: its next parse has no warning, and the status has none. */
        cr_assert_eq(pm_test_write_file(gn, old_gn), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 0, "%s",
                     cJSON_PrintUnformatted(r));
        cr_assert_eq(cJSON_GetObjectItem(r, "warningsTotal")->valuedouble, 0);
        cJSON_Delete(r);
        pm_free(gn);
        pm_free(cargo);
        pm_free(params);
        pm_free(old_gn);
        pm_free(old_cargo);
        pm_client_free(c);
}
