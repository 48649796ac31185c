/* SPDX-License-Identifier: MIT */
/* Integration tests: projmodel/audit of a real spawned daemon on a copy of examples/gn-monorepo,
 * over its real socket, against the one-shot `projmodel audit --format json` (docs/protocol.md). */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_audit, d, "gn-monorepo");

/* The daemon's answer printed as the command prints its JSON. */
static char *
audit_call(struct pm_client *c, const char *params)
{
        cJSON *r = pm_test_call(c, "projmodel/audit", params);
        char *s, *out;

        cr_assert(cJSON_IsArray(r));
        s = cJSON_Print(r);
        cr_assert(s);
        out = pm_test_strf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(r);
        return out;
}

/* `projmodel audit --format json @extra...` (up to the first NULL) run with the daemon's
 * environment and socket; *@ret_err (when not NULL) gets its stderr, traced. */
static char *
audit_cli(const char *extra1, const char *extra2, const char *extra3, const char *extra4,
          char **ret_err)
{
        const char *argv[] = { pm_test_projmodel(),
                               "audit",
                               "--root",
                               d.root,
                               "--socket",
                               d.socket,
                               "--format",
                               "json",
                               extra1,
                               extra2,
                               extra3,
                               extra4,
                               NULL };
        const char *const *denv = pm_test_daemon_env(&d);
        const char *env[16];
        char *out = NULL, *err = NULL;
        size_t n = 0;
        int rc;

        while (denv[n] && n < 14) {
                env[n] = denv[n];
                n++;
        }
        env[n++] = "PROJMODEL_TRACE=1";
        env[n] = NULL;
        rc = pm_test_run(argv, NULL, env, NULL, &out, &err);
        cr_assert_eq(rc, 0, "status %d, stderr: %s", rc, err);
        if (ret_err)
                *ret_err = err;
        else
                pm_free(err);
        return out;
}

/* unsafe_sites of the crate @label in the daemon's answer. */
static int
unsafe_sites(struct pm_client *c, const char *label)
{
        char *params = pm_test_strf("{\"label\":\"%s\"}", label);
        cJSON *r = pm_test_call(c, "projmodel/audit", params);
        const cJSON *n;
        int v;

        cr_assert_eq(cJSON_GetArraySize(r), 1);
        n = cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "unsafe_sites");
        cr_assert(cJSON_IsNumber(n));
        v = n->valueint;
        cJSON_Delete(r);
        pm_free(params);
        return v;
}

Test(daemon_audit, answer_equals_the_command)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *all, *via, *oneshot, *one, *one_cli, *trace;
        cJSON *r;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        all = audit_call(c, "{}");
        /* The command in this process on the daemon's own database: the same bytes. */
        oneshot = audit_cli("--db", d.db, "--no-refresh", NULL, &trace);
        cr_assert_str_eq(all, oneshot);
        cr_assert_null(strstr(trace, "answered by the daemon"), "%s", trace);
        pm_free(trace);
        /* The command as a client of the running daemon: the same bytes again. */
        via = audit_cli(NULL, NULL, NULL, NULL, &trace);
        cr_assert_str_eq(via, oneshot);
        cr_assert(strstr(trace, "audit: answered by the daemon"), "%s", trace);
        pm_free(trace);

        one = audit_call(c, "{\"label\":\"//lib/util:util\"}");
        one_cli = audit_cli("--db", d.db, "--no-refresh", "//lib/util:util", NULL);
        cr_assert_str_eq(one, one_cli);

        /* The closure: util and what it depends on (fnv). */
        r = pm_test_call(c, "projmodel/audit", "{\"label\":\"//lib/util:util\",\"closure\":true}");
        cr_assert_geq(cJSON_GetArraySize(r), 2);
        {
                bool util = false, fnv = false;
                const cJSON *e;

                cJSON_ArrayForEach(e, r)
                {
                        const char *l = cJSON_GetObjectItem(e, "label")->valuestring;

                        util |= strcmp(l, "//lib/util:util") == 0;
                        fnv |= strstr(l, "fnv") != NULL;
                }
                cr_assert(util && fnv);
        }
        cJSON_Delete(r);
        pm_free(all);
        pm_free(via);
        pm_free(oneshot);
        pm_free(one);
        pm_free(one_cli);
        pm_client_free(c);
}

Test(daemon_audit, an_edited_source_counts_in_the_next_answer)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *file = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        int before;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        before = unsafe_sites(c, "//lib/util:util");
        pm_test_edit_file(file, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        pm_free(file);
        pm_client_free(c);
}

Test(daemon_audit, bad_params_are_errors_and_the_daemon_lives)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        cJSON *r;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"label\":5}"), PM_EPARAMS);
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"closure\":true}"), PM_EPARAMS);
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit",
                                        "{\"label\":\"//lib/util:util\",\"closure\":\"yes\"}"),
                     PM_EPARAMS);
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"label\":\"//no/such:crate\"}"),
                     PM_ENOTFOUND);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "pid")));
        cJSON_Delete(r);
        pm_client_free(c);
}
