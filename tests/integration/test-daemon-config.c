/* SPDX-License-Identifier: MIT */
/* Integration test: the daemon follows its configuration. On a copy of examples/mixed-monorepo
 * (GN root, Cargo subproject; real gn and cargo), editing .projmodel.json makes the daemon
 * re-read it: a subproject dropped from it loses its crates in the next update. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_config, d, "mixed-monorepo");

/* How many crates projmodel/search finds for @query. */
static int
found(struct pm_client *c, const char *query)
{
        char *params = pm_test_strf("{\"query\":\"%s\"}", query);
        cJSON *r = pm_test_call(c, "projmodel/search", params);
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(r, "labels"));

        cJSON_Delete(r);
        pm_free(params);
        return n;
}

Test(daemon_config, a_subproject_dropped_from_the_configuration_leaves_the_model)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *cfg = pm_test_strf("%s/.projmodel.json", d.root);
        cJSON *r, *n, *params;

        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        cr_assert_eq(found(c, "cargo:third_party/rust#"), 2, "the Cargo crates are served");
        cr_assert_eq(found(c, "//"), 2, "and GN's");
        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cJSON_Delete(r);

        cr_assert_eq(pm_test_write_file(cfg, "{\"build_system\": \"gn\","
                                             " \"gn\": {\"out_dir\": \"out\"}}\n"),
                     0);
        n = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert(n, "no modelChanged notification");
        params = cJSON_GetObjectItem(n, "params");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(params, "labels"),
                                         "cargo:third_party/rust#ansi@0.3.0"));
        cJSON_Delete(n);
        cr_assert_eq(found(c, "cargo:"), 0, "the dropped subproject's crates stay");
        cr_assert_eq(found(c, "//"), 2, "GN's crates stay");
        pm_free(cfg);
        pm_client_free(c);
}
