/* SPDX-License-Identifier: MIT */
/* Integration tests: every method of a real spawned daemon on a copy of examples/gn-monorepo,
 * over its real socket. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(daemon_methods, d, "gn-monorepo");

static char *
path_in(const char *rel)
{
        return pm_test_strf("%s/%s", d.root, rel);
}

Test(daemon_methods, initialize_reports_capabilities)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        cJSON *r = pm_test_call(c, "initialize", "{}");
        const cJSON *caps =
                cJSON_GetObjectItem(cJSON_GetObjectItem(r, "capabilities"), "projmodel");
        struct pm_error err;

        cr_assert_str_eq(
                cJSON_GetObjectItem(cJSON_GetObjectItem(r, "serverInfo"), "name")->valuestring,
                "projmodel");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(caps, "methods"),
                                         "projmodel/rustProject"));
        cJSON_Delete(r);
        pm_error_init(&err);
        cr_assert_eq(pm_client_send(c, "initialized", cJSON_CreateObject(), true, NULL, &err), 0);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_str_eq(cJSON_GetObjectItem(r, "root")->valuestring, d.root);
        cr_assert_str_eq(cJSON_GetObjectItem(r, "socket")->valuestring, d.socket);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "pid")));
        cJSON_Delete(r);
        pm_client_free(c);
}

Test(daemon_methods, crate_for_file_and_rust_project)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *file = path_in("lib/util/src/text.rs"), *bf = path_in("lib/util/BUILD.gn");
        char *params = pm_test_strf("{\"path\":\"%s\"}", file);
        cJSON *r, *crates;

        r = pm_test_call(c, "projmodel/crateForFile", params);
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(r, "crates"), "//lib/util:util"));
        cJSON_Delete(r);

        r = pm_test_call(c, "projmodel/rustProject", params);
        cr_assert_str_eq(cJSON_GetObjectItem(r, "buildfile")->valuestring, bf);
        crates = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates");
        /* util and its dependency fnv. */
        cr_assert_geq(cJSON_GetArraySize(crates), 2);
        cJSON_Delete(r);
        pm_free(params);

        params = pm_test_strf("{\"buildfile\":\"%s\"}", bf);
        r = pm_test_call(c, "projmodel/rustProject", params);
        cr_assert_str_eq(cJSON_GetObjectItem(r, "buildfile")->valuestring, bf);
        cJSON_Delete(r);
        pm_free(params);

        r = pm_test_call(c, "projmodel/rustProject", "{\"label\":\"//lib/util:util\"}");
        cr_assert_str_eq(cJSON_GetObjectItem(r, "buildfile")->valuestring, bf);
        cJSON_Delete(r);

        r = pm_test_call(c, "projmodel/rustProject", NULL);
        crates = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates");
        cr_assert_geq(cJSON_GetArraySize(crates), 8);
        cJSON_Delete(r);

        cr_assert_eq(pm_test_call_error(c, "projmodel/rustProject", "{\"path\":\"relative.rs\"}"),
                     PM_EPARAMS);
        cr_assert_eq(pm_test_call_error(c, "projmodel/rustProject", "{\"path\":\"/nowhere/x.rs\"}"),
                     PM_ENOTFOUND);
        cr_assert_eq(pm_test_call_error(c, "projmodel/crateForFile", "{}"), PM_EPARAMS);
        pm_free(file);
        pm_free(bf);
        pm_client_free(c);
}

/*
 * {"discover": true} without "initialize" (`projmodel discover`'s one round trip): the result is
 * {"warnings", "finished"} in that order, the finished line being {"kind", "buildfile",
 * "project"} with the project of the same request without the flag, so that the client can copy
 * the line's bytes (docs/protocol.md).
 */
Test(daemon_methods, rust_project_discover_renders_the_finished_line)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *file = path_in("lib/util/src/text.rs"), *bf = path_in("lib/util/BUILD.gn");
        char *params = pm_test_strf("{\"path\":\"%s\",\"discover\":true}", file);
        char *plain = pm_test_strf("{\"path\":\"%s\"}", file);
        char *head = pm_test_strf("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"warnings\":[],"
                                  "\"finished\":{\"kind\":\"finished\",\"buildfile\":\"%s\","
                                  "\"project\":{",
                                  bf);
        const char *progress = "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",";
        struct pm_error err;
        const char *body;
        size_t len;
        cJSON *msg, *finished, *r;
        int64_t id;

        pm_error_init(&err);
        cr_assert_eq(
                pm_client_send(c, "projmodel/rustProject", cJSON_Parse(params), false, &id, &err),
                0, "%s", err.msg);
        cr_assert_eq(id, 1);
        /* Before the reply, the refresh the daemon may be running: $/progress, which the flag
         * asked for. */
        do
                cr_assert_eq(pm_client_recv_body(c, 60000, &body, &len, &err), 0, "%s", err.msg);
        while (len > strlen(progress) && memcmp(body, progress, strlen(progress)) == 0);
        cr_assert(len > strlen(head) && memcmp(body, head, strlen(head)) == 0,
                  "reply does not begin with\n%s:\n%.*s", head, (int)len, body);
        cr_assert(memcmp(body + len - 3, "}}}", 3) == 0, "reply ends with '%.*s'", 3,
                  body + len - 3);
        msg = cJSON_ParseWithLength(body, len);
        finished = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "result"), "finished");
        r = pm_test_call(c, "projmodel/rustProject", plain);
        cr_assert(cJSON_Compare(cJSON_GetObjectItem(finished, "project"),
                                cJSON_GetObjectItem(r, "project"), true));
        cr_assert_null(cJSON_GetObjectItem(r, "finished"));
        cr_assert_eq(pm_test_call_error(c, "projmodel/rustProject", "{\"discover\":1}"),
                     PM_EPARAMS);
        cJSON_Delete(r);
        cJSON_Delete(msg);
        pm_free(head);
        pm_free(plain);
        pm_free(params);
        pm_free(file);
        pm_free(bf);
        pm_client_free(c);
}

/* The daemon builds GN proc macros on its worker: once started, on a tree that was never built,
 * the dylib it serves exists, as a content-addressed copy in its cache directory. */
Test(daemon_methods, rust_project_serves_a_built_proc_macro_dylib)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *dir = pm_test_strf("%s/projmodel/dylibs/", d.cache);
        cJSON *r = pm_test_call(c, "projmodel/rustProject", NULL), *crate;
        struct stat st;
        int n = 0;

        cJSON_ArrayForEach(crate, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "project"), "crates"))
        {
                const cJSON *dy = cJSON_GetObjectItem(crate, "proc_macro_dylib_path");

                if (!cJSON_IsTrue(cJSON_GetObjectItem(crate, "is_proc_macro")))
                        continue;
                cr_assert(cJSON_IsString(dy), "a proc macro without proc_macro_dylib_path");
                cr_assert(strncmp(dy->valuestring, dir, strlen(dir)) == 0, "'%s' not under '%s'",
                          dy->valuestring, dir);
                cr_assert_eq(stat(dy->valuestring, &st), 0, "'%s' does not exist", dy->valuestring);
                cr_assert(S_ISREG(st.st_mode));
                n++;
        }
        cr_assert_gt(n, 0, "no proc macro served");
        cJSON_Delete(r);
        pm_free(dir);
        pm_client_free(c);
}

Test(daemon_methods, crate_deps_rdeps_search)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        cJSON *r;

        r = pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:util\"}");
        cr_assert_str_eq(cJSON_GetObjectItem(r, "crateName")->valuestring, "util");
        cr_assert_str_eq(cJSON_GetObjectItem(r, "edition")->valuestring, "2018");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "isWorkspaceMember")));
        cJSON_Delete(r);
        cr_assert_eq(pm_test_call_error(c, "projmodel/crate", "{\"label\":\"//no:such\"}"),
                     PM_ENOTFOUND);

        r = pm_test_call(c, "projmodel/deps", "{\"label\":\"//lib/util:util\"}");
        cr_assert(
                pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//third_party/fnv:fnv"));
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/deps",
                         "{\"label\":\"//app/server:server\",\"transitive\":true}");
        cr_assert(
                pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//third_party/fnv:fnv"));
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/rdeps", "{\"label\":\"//third_party/fnv:fnv\"}");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//lib/util:util"));
        cr_assert(!pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//app/server:server"));
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/rdeps",
                         "{\"label\":\"//third_party/fnv:fnv\",\"transitive\":true}");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//app/server:server"));
        cJSON_Delete(r);
        cr_assert_eq(pm_test_call_error(c, "projmodel/deps",
                                        "{\"label\":\"//lib/util:util\",\"transitive\":1}"),
                     PM_EPARAMS);

        r = pm_test_call(c, "projmodel/search", "{\"query\":\"//lib/\",\"limit\":2}");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "labels")), 2);
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/search", "{\"query\":\"util\"}");
        cr_assert(pm_test_json_array_has(cJSON_GetObjectItem(r, "labels"), "//lib/util:util"));
        cJSON_Delete(r);
        cr_assert_eq(pm_test_call_error(c, "projmodel/search", "{\"query\":\"x\",\"limit\":-1}"),
                     PM_EPARAMS);
        pm_client_free(c);
}

static double
status_number(const cJSON *status, const char *key)
{
        const cJSON *v = cJSON_GetObjectItem(status, key);

        cr_assert(cJSON_IsNumber(v), "no number '%s' in the status", key);
        return v->valuedouble;
}

/* GN's rustenv warning for a target of lib/util/BUILD.gn named @name (crate "noenv"). */
static char *
with_noenv_target(const char *old, const char *name, const char *entry)
{
        return pm_test_strf("%s\nrust_library(\"%s\") {\n  crate_name = \"noenv\"\n"
                            "  crate_root = \"src/lib.rs\"\n  sources = [ \"src/lib.rs\" ]\n"
                            "  rustenv = [ \"%s\" ]\n}\n",
                            old, name, entry);
}

/*
 * The project's parse warnings (pm_graph.warnings) are in the status, each saying its project,
 * and stay while the project is not re-parsed; an update scoped to another build file of the
 * same project re-parses all of it, so they stay complete (docs/protocol.md, status). A warning
 * longer than a status line is cut on a character with "...". The example itself gives none.
 */
Test(daemon_methods, status_lists_the_last_refresh_warnings)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *build = path_in("lib/util/BUILD.gn"), *engine = path_in("lib/engine/BUILD.gn");
        char *old = pm_test_read_file(build), *old_engine = pm_test_read_file(engine), *bad;
        char *params = pm_test_strf("{\"buildfile\":\"%s\"}", engine), *touched;
        struct pm_strbuf name = PM_STRBUF_INIT, entry = PM_STRBUF_INIT, want = PM_STRBUF_INIT;
        const char *text = "target '//lib/util:noenv': rustenv entry 'NOEQ' is not KEY=VALUE";
        const cJSON *w;
        cJSON *r;
        double refreshes;

        cr_assert_not_null(old);
        cr_assert_not_null(old_engine);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsArray(cJSON_GetObjectItem(r, "warnings")));
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 0);
        cr_assert_eq(status_number(r, "warningsTotal"), 0);
        cJSON_Delete(r);

        bad = with_noenv_target(old, "noenv", "NOEQ");
        cr_assert_eq(pm_test_write_file(build, bad), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/status", NULL);
        w = pm_test_status_warning(r, text);
        cr_assert(w, "%s", cJSON_PrintUnformatted(r));
        cr_assert_str_eq(cJSON_GetObjectItem(w, "project")->valuestring, "gn:.");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 1);
        cr_assert_eq(status_number(r, "warningsTotal"), 1);
        refreshes = status_number(r, "refreshes");
        cJSON_Delete(r);

        /* Another build file of the project changes: its update must not lose util's warning
         * (a partial one replaces only the warnings of the files it re-read). */
        touched = pm_test_strf("%s# touched\n", old_engine);
        cr_assert_eq(pm_test_write_file(engine, touched), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/rustProject", params));
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_gt(status_number(r, "refreshes"), refreshes, "the edit was not applied");
        cr_assert(pm_test_status_warning(r, text), "%s", cJSON_PrintUnformatted(r));
        cr_assert_eq(status_number(r, "warningsTotal"), 1);
        cJSON_Delete(r);

        /*
         * A target name of 300 more bytes and an entry of 3-byte characters: past the status's
         * 480 bytes (PM_WARNING_MAX, include/projmodel/graph.h), where a plain cut would split
         * the 44th character. The warning keeps 43 of them and ends with "...".
         */
        cr_assert_eq(pm_test_long_gn_warning(&name, &entry, &want), 0);
        cr_assert_leq(want.len, 480);
        pm_free(bad);
        bad = with_noenv_target(old, name.buf, entry.buf);
        cr_assert_eq(pm_test_write_file(build, bad), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/status", NULL);
        w = pm_test_status_warning(r, "rustenv entry 'NOEQ");
        cr_assert(w, "%s", cJSON_PrintUnformatted(r));
        cr_assert_str_eq(cJSON_GetObjectItem(w, "message")->valuestring, want.buf);
        cJSON_Delete(r);

        cr_assert_eq(pm_test_write_file(build, old), 0);
        cr_assert_eq(pm_test_write_file(engine, old_engine), 0);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "warnings")), 0);
        cr_assert_eq(status_number(r, "warningsTotal"), 0);
        cJSON_Delete(r);
        pm_strbuf_release(&name);
        pm_strbuf_release(&entry);
        pm_strbuf_release(&want);
        pm_free(build);
        pm_free(engine);
        pm_free(old);
        pm_free(old_engine);
        pm_free(bad);
        pm_free(params);
        pm_free(touched);
        pm_client_free(c);
}

Test(daemon_methods, refresh_subscribe_cancel_shutdown)
{
        struct pm_client *c = pm_test_daemon_connect(&d), *c2;
        struct pm_error err;
        cJSON *r, *msg = NULL;
        int rc;

        r = pm_test_call(c, "projmodel/subscribe", NULL);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "generation")));
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/refresh", NULL);
        cr_assert_geq(cJSON_GetObjectItem(r, "generation")->valuedouble, 1);
        cr_assert_geq(cJSON_GetObjectItem(r, "crates")->valuedouble, 8);
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert_geq(cJSON_GetObjectItem(r, "refreshes")->valuedouble, 1);
        cr_assert(cJSON_IsNull(cJSON_GetObjectItem(r, "lastError")));
        cJSON_Delete(r);

        /* Cancelling an unknown or finished request is harmless. */
        pm_error_init(&err);
        cr_assert_eq(pm_client_send(c, "$/cancelRequest", cJSON_Parse("{\"id\":12345}"), true, NULL,
                                    &err),
                     0);
        r = pm_test_call(c, "projmodel/status", NULL);
        cJSON_Delete(r);

        /* shutdown + exit from one client stops the daemon for everyone. */
        c2 = pm_test_daemon_connect(&d);
        r = pm_test_call(c2, "shutdown", NULL);
        cr_assert(cJSON_IsNull(r));
        cJSON_Delete(r);
        cr_assert_eq(pm_test_call_error(c2, "projmodel/status", NULL), PM_EPROTO);
        cr_assert_eq(pm_client_send(c2, "exit", NULL, true, NULL, &err), 0);
        do {
                cJSON_Delete(msg);
                msg = NULL;
                rc = pm_client_recv(c2, PM_TEST_DAEMON_TIMEOUT_MS, &msg, &err);
        } while (rc == 0);
        cr_assert_eq(rc, -ECONNRESET, "%s", err.msg);
        cr_assert_eq(WEXITSTATUS(pm_test_daemon_kill(&d, 0)), 0);
        pm_client_free(c2);
        pm_client_free(c);
}
