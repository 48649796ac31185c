/* SPDX-License-Identifier: MIT */
/* Integration tests: projmodel/audit of a real spawned daemon on a copy of examples/gn-monorepo,
 * over its real socket, against the one-shot `projmodel audit --format json` (docs/protocol.md).
 * Over 800 lines because it is one method's tests on one spawned-daemon rig: the answer, its
 * scan on the thread pool and the answer kept per crate share the rig and the command to compare
 * against. */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

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

/* `projmodel audit --format @format @extra...` (up to the first NULL) run with the daemon's
 * environment and socket, and PROJMODEL_NO_DAEMON=1 when @no_daemon; *@ret_err (when not NULL)
 * gets its stderr, traced. */
static char *
audit_cli_fmt(const char *format, bool no_daemon, const char *extra1, const char *extra2,
              const char *extra3, const char *extra4, char **ret_err)
{
        const char *argv[] = { pm_test_projmodel(),
                               "audit",
                               "--root",
                               d.root,
                               "--socket",
                               d.socket,
                               "--format",
                               format,
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

        while (denv[n] && n < 13) {
                env[n] = denv[n];
                n++;
        }
        env[n++] = "PROJMODEL_TRACE=1";
        if (no_daemon)
                env[n++] = "PROJMODEL_NO_DAEMON=1";
        env[n] = NULL;
        rc = pm_test_run(argv, NULL, env, NULL, &out, &err);
        cr_assert_eq(rc, 0, "status %d, stderr: %s", rc, err);
        if (ret_err)
                *ret_err = err;
        else
                pm_free(err);
        return out;
}

static char *
audit_cli(const char *extra1, const char *extra2, const char *extra3, const char *extra4,
          char **ret_err)
{
        return audit_cli_fmt("json", false, extra1, extra2, extra3, extra4, ret_err);
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

/* `projmodel audit --format @format [@label]` through the daemon and in this process
 * (PROJMODEL_NO_DAEMON=1, on the same tree): the same bytes, and the daemon did answer. */
static char *
same_through_the_daemon(const char *format, const char *label)
{
        char *via, *here, *trace;

        via = audit_cli_fmt(format, false, label, NULL, NULL, NULL, &trace);
        cr_assert(strstr(trace, "audit: answered by the daemon"), "%s", trace);
        pm_free(trace);
        here = audit_cli_fmt(format, true, label, NULL, NULL, NULL, &trace);
        cr_assert_null(strstr(trace, "answered by the daemon"), "%s", trace);
        pm_free(trace);
        cr_assert_str_eq(via, here, "--format %s %s", format, label ? label : "");
        pm_free(here);
        return via;
}

Test(daemon_audit, text_and_sarif_through_the_daemon_equal_the_command)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *text, *one, *sarif, *json;
        cJSON *log, *r;

        /* The model is there: the first command's answer does not wait for it. */
        cJSON_Delete(pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:util\"}"));
        /* unsafe code to list: a site in a file of util's. */
        {
                char *file = pm_test_strf("%s/lib/util/src/text.rs", d.root);

                pm_test_edit_file(file, "pub fn title_case(",
                                  "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
                pm_free(file);
        }
        text = same_through_the_daemon("text", NULL);
        cr_assert(strstr(text, "lib/util/src/text.rs:3:5: unsafe block in audit_probe\n"), "%s",
                  text);
        one = same_through_the_daemon("text", "//lib/util:util");
        cr_assert(strstr(text, one), "%s", one);
        sarif = same_through_the_daemon("sarif", NULL);
        log = cJSON_Parse(sarif);
        cr_assert(cJSON_IsObject(log), "%s", sarif);
        cr_assert_str_eq(cJSON_GetObjectItem(log, "version")->valuestring, "2.1.0");
        r = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0), "results");
        cr_assert_geq(cJSON_GetArraySize(r), 1);
        cJSON_Delete(log);
        pm_free(same_through_the_daemon("sarif", "//lib/util:util"));
        json = same_through_the_daemon("json", NULL);
        /* The method's own answer in each format is what the command printed. */
        r = pm_test_call(c, "projmodel/audit", "{\"format\":\"text\"}");
        cr_assert(cJSON_IsString(r));
        cr_assert_str_eq(r->valuestring, text);
        cJSON_Delete(r);
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"format\":\"xml\"}"), PM_EPARAMS);
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"format\":1}"), PM_EPARAMS);
        pm_free(text);
        pm_free(one);
        pm_free(sarif);
        pm_free(json);
        pm_client_free(c);
}

Test(daemon_audit, closure_flag_chooses_a_crate_and_what_it_depends_on)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *via, *here, *method, *by_file, *text, *file, *trace, *out = NULL, *err = NULL;
        const char *argv[] = { pm_test_projmodel(), "audit", "--root", d.root, "--closure", NULL };
        bool util = false, fnv = false;
        cJSON *doc;
        const cJSON *e;
        int rc;

        cJSON_Delete(pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:util\"}"));
        /* Through the daemon and in this process: the same bytes, util and fnv (its dependency). */
        via = audit_cli_fmt("json", false, "--closure", "//lib/util:util", NULL, NULL, &trace);
        cr_assert(strstr(trace, "audit: answered by the daemon"), "%s", trace);
        pm_free(trace);
        here = audit_cli_fmt("json", true, "--closure", "//lib/util:util", NULL, NULL, NULL);
        cr_assert_str_eq(via, here);
        pm_free(here);
        doc = cJSON_Parse(via);
        cJSON_ArrayForEach(e, doc)
        {
                const char *l = cJSON_GetObjectItem(e, "label")->valuestring;

                util |= strcmp(l, "//lib/util:util") == 0;
                fnv |= strstr(l, "fnv") != NULL;
        }
        cr_assert(util && fnv, "%s", via);
        cr_assert_lt(cJSON_GetArraySize(doc), 5, "more than util's closure: %s", via);
        cJSON_Delete(doc);
        /* The method's closure answer, printed as the command prints it. */
        method = audit_call(c, "{\"label\":\"//lib/util:util\",\"closure\":true}");
        cr_assert_str_eq(via, method);
        /* A file names its crates: the same closure (in this process: files never go to the
         * daemon), in text too. */
        file = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        by_file = audit_cli_fmt("json", false, "--closure", file, NULL, NULL, NULL);
        cr_assert_str_eq(by_file, via);
        text = audit_cli_fmt("text", false, "--closure", "//lib/util:util", NULL, NULL, NULL);
        here = audit_cli_fmt("text", true, "--closure", file, NULL, NULL, NULL);
        cr_assert_str_eq(text, here);
        pm_free(here);
        cr_assert(strstr(text, "//lib/util:util (lib"), "%s", text);
        cr_assert(strstr(text, "fnv"), "%s", text);
        /* Without a crate to start from: a usage error. */
        rc = pm_test_run(argv, NULL, pm_test_daemon_env(&d), NULL, &out, &err);
        cr_assert_eq(rc, 2, "status %d: %s", rc, err);
        cr_assert(strstr(err, "--closure needs a LABEL or FILE"), "%s", err);
        pm_free(out);
        pm_free(err);
        pm_free(via);
        pm_free(method);
        pm_free(by_file);
        pm_free(text);
        pm_free(file);
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

/* ---- the scan runs on the thread pool ---- */

/* Files of generated Rust under //lib/util:util (reached through `mod generated;`), each
 * with 2 unsafe blocks: a cold audit of them takes a while. */
#define GEN_FILES 300

static void
generate_sources(void)
{
        char *dir = pm_test_strf("%s/lib/util/src/generated", d.root);
        char *lib = pm_test_strf("%s/lib/util/src/lib.rs", d.root);
        char *mod = pm_test_strf("%s/mod.rs", dir);
        struct pm_strbuf mods = PM_STRBUF_INIT, body = PM_STRBUF_INIT;

        cr_assert_eq(mkdir(dir, 0755), 0);
        /* ~40 KB of ordinary code around the two sites. */
        for (int k = 0; k < 400; k++)
                cr_assert_eq(pm_strbuf_addf(&body,
                                            "pub fn f%d(x: &[u8]) -> usize {\n"
                                            "    // not unsafe: a comment\n"
                                            "    x.iter().filter(|b| **b == %d).count()\n}\n",
                                            k, k % 256),
                             0);
        for (int i = 0; i < GEN_FILES; i++) {
                char *file = pm_test_strf("%s/m%d.rs", dir, i);
                char *src = pm_test_strf("pub fn a() -> u8 {\n    unsafe { core::mem::zeroed() }\n}"
                                         "\npub fn b() {\n    unsafe {}\n}\n%s",
                                         body.buf);

                cr_assert_eq(pm_test_write_file(file, src), 0);
                cr_assert_eq(pm_strbuf_addf(&mods, "pub mod m%d;\n", i), 0);
                pm_free(file);
                pm_free(src);
        }
        cr_assert_eq(pm_test_write_file(mod, mods.buf), 0);
        pm_test_edit_file(lib, "pub mod text;", "pub mod text;\npub mod generated;");
        pm_strbuf_release(&mods);
        pm_strbuf_release(&body);
        pm_free(mod);
        pm_free(lib);
        pm_free(dir);
}

/* Send @a and @b (request bodies) in one write: the daemon reads them together and handles them
 * in order within one read callback, so which reply comes first is decided by the daemon alone. */
static void
send_pair(struct pm_client *c, const char *a, const char *b)
{
        char *raw = pm_test_strf("Content-Length: %zu\r\n\r\n%sContent-Length: %zu\r\n\r\n%s",
                                 strlen(a), a, strlen(b), b);
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_client_send_raw(c, raw, strlen(raw), &err), 0, "%s", err.msg);
        pm_free(raw);
}

/* The next message, a reply (asserted); its id. */
static int
recv_reply(struct pm_client *c, cJSON **ret)
{
        struct pm_error err;
        const cJSON *id;
        cJSON *msg = NULL;

        pm_error_init(&err);
        do {
                cJSON_Delete(msg);
                msg = NULL;
                cr_assert_eq(pm_client_recv(c, PM_TEST_DAEMON_TIMEOUT_MS, &msg, &err), 0, "%s",
                             err.msg);
                id = cJSON_GetObjectItem(msg, "id");
        } while (!id); /* notifications ($/progress) */
        cr_assert(cJSON_IsNumber(id));
        *ret = msg;
        return id->valueint;
}

Test(daemon_audit, status_is_answered_while_an_audit_scans)
{
        struct pm_client *c;
        cJSON *msg, *util = NULL;
        const cJSON *e;

        generate_sources();
        c = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        /* The model is there (the audit will not wait for one). */
        cJSON_Delete(pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:util\"}"));
        /* A cold audit of every crate, then status. Were the scan on the loop, the audit's reply
         * would come first. */
        send_pair(c, "{\"jsonrpc\":\"2.0\",\"id\":100,\"method\":\"projmodel/audit\"}",
                  "{\"jsonrpc\":\"2.0\",\"id\":101,\"method\":\"projmodel/status\"}");
        cr_assert_eq(recv_reply(c, &msg), 101, "the status reply did not come first");
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "result"), "pid")));
        cJSON_Delete(msg);
        cr_assert_eq(recv_reply(c, &msg), 100);
        /* The whole answer: every generated file scanned. */
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(msg, "result"))
        {
                if (strcmp(cJSON_GetObjectItem(e, "label")->valuestring, "//lib/util:util") == 0)
                        util = (cJSON *)e;
        }
        cr_assert(util);
        cr_assert_geq(cJSON_GetObjectItem(util, "unsafe_sites")->valueint, 2 * GEN_FILES);
        cr_assert_geq(cJSON_GetArraySize(cJSON_GetObjectItem(util, "files")), GEN_FILES + 2);
        cJSON_Delete(msg);
        pm_client_free(c);
}

Test(daemon_audit, a_cancelled_or_abandoned_audit_leaves_the_daemon_serving)
{
        struct pm_client *c = pm_test_daemon_connect(&d), *gone;
        struct pm_error err;
        cJSON *msg, *r;

        pm_error_init(&err);
        generate_sources();
        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        cJSON_Delete(pm_test_call(c, "projmodel/crate", "{\"label\":\"//lib/util:util\"}"));
        /* Cancelled while it scans: answered as cancelled at once, before what follows. */
        send_pair(c, "{\"jsonrpc\":\"2.0\",\"id\":200,\"method\":\"projmodel/audit\"}",
                  "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":200}}");
        cr_assert_eq(recv_reply(c, &msg), 200);
        cr_assert(cJSON_GetObjectItem(msg, "error"), "answered, not cancelled");
        cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "error"), "code")->valueint,
                     -32800);
        cJSON_Delete(msg);
        /* A client that leaves with its audit running and another one waiting. */
        gone = pm_test_daemon_connect(&d);
        send_pair(gone, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"projmodel/audit\"}",
                  "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"projmodel/audit\"}");
        pm_client_free(gone);
        /* The daemon lives and answers the next audit in full. */
        r = pm_test_call(c, "projmodel/audit", "{\"label\":\"//lib/util:util\"}");
        cr_assert_geq(cJSON_GetObjectItem(cJSON_GetArrayItem(r, 0), "unsafe_sites")->valueint,
                      2 * GEN_FILES);
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/status", NULL);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, "pid")));
        cJSON_Delete(r);
        pm_client_free(c);
}

/* The status' audit figure @key (docs/protocol.md, status "audit"). */
static double
audit_status(struct pm_client *c, const char *key)
{
        cJSON *r = pm_test_call(c, "projmodel/status", NULL);
        const cJSON *a = cJSON_GetObjectItem(r, "audit");
        const cJSON *v = cJSON_GetObjectItem(a, key);
        double x;

        cr_assert(cJSON_IsNumber(v) || cJSON_IsBool(v), "no audit.%s in the status", key);
        x = cJSON_IsBool(v) ? (cJSON_IsTrue(v) ? 1 : 0) : v->valuedouble;
        cJSON_Delete(r);
        return x;
}

/* True if the daemon's answer for @label lists a source whose path ends with @suffix. */
static bool
lists_file(struct pm_client *c, const char *label, const char *suffix)
{
        char *params = pm_test_strf("{\"label\":\"%s\"}", label);
        char *all = audit_call(c, params);
        bool found = strstr(all, suffix) != NULL;

        pm_free(all);
        pm_free(params);
        return found;
}

Test(daemon_audit, the_watch_keeps_the_kept_audit_current)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *text = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        char *lib = pm_test_strf("%s/lib/util/src/lib.rs", d.root);
        char *probe = pm_test_strf("%s/lib/util/src/audit_probe.rs", d.root);
        char *late = pm_test_strf("%s/lib/util/src/audit_late.rs", d.root);
        char *original = pm_test_read_file(text);
        int before;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        /* Nothing is kept and no audit watch is added before the first audit (docs/protocol.md,
         * "Keeping the audit current"). */
        cr_assert_eq(audit_status(c, "kept"), 0);
        cr_assert_eq(audit_status(c, "watches"), 0);
        before = unsafe_sites(c, "//lib/util:util");
        /* The first audit asks for the directories' watches, the second checks its files once
         * more under them; from the third on nothing is stat'ed or read. */
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before);
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before);
        cr_assert_eq(audit_status(c, "kept"), 1);
        cr_assert_gt(audit_status(c, "trustedDirs"), 0);
        cr_assert_eq(audit_status(c, "checked"), 0);
        cr_assert_eq(audit_status(c, "read"), 0);
        /* The whole tree twice (the second answer is the kept one): the command's bytes. */
        {
                char *first = audit_call(c, "{}"), *again = audit_call(c, "{}");
                char *oneshot = audit_cli("--db", d.db, "--no-refresh", NULL, NULL);

                cr_assert_str_eq(first, oneshot);
                cr_assert_str_eq(again, oneshot);
                pm_free(oneshot);
                pm_free(again);
                pm_free(first);
        }

        /* An unsafe block added: the next audit counts it, no refresh asked. */
        pm_test_edit_file(text, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        /* And removed again. */
        cr_assert_eq(pm_test_write_file(text, original), 0);
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before);

        /* A file added through `mod x;`. */
        cr_assert_eq(pm_test_write_file(probe, "pub fn p() {\n    unsafe {}\n}\n"), 0);
        pm_test_edit_file(lib, "pub mod text;", "pub mod text;\npub mod audit_probe;");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        cr_assert(lists_file(c, "//lib/util:util", "lib/util/src/audit_probe.rs"));

        /* A `mod x;` whose file comes later: missing, then counted once it is written. */
        pm_test_edit_file(lib, "pub mod text;", "pub mod text;\npub mod audit_late;");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        cr_assert_eq(pm_test_write_file(late, "pub unsafe fn l() {}\n"), 0);
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 2);

        /* A module file deleted: its sites go with it. */
        cr_assert_eq(unlink(probe), 0);
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        /* Listed as missing while declared; gone with its declaration. */
        pm_test_edit_file(lib, "pub mod audit_probe;", "");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        cr_assert_not(lists_file(c, "//lib/util:util", "lib/util/src/audit_probe.rs"));

        pm_free(original);
        pm_free(late);
        pm_free(probe);
        pm_free(lib);
        pm_free(text);
        pm_client_free(c);
}

/* A source outside the root (docs/protocol.md, "Keeping the audit current"): the first audit
 * asks for a watch of its directory (server/watch.c, pm__watch_audit_dirs()), the next ones
 * trust it, and an edit there reaches the next answer through that watch, no refresh asked. */
Test(daemon_audit, a_source_outside_the_root_gets_its_own_watch_after_an_audit)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *ext = pm_test_strf("%s/ext", d.tmp), *e_rs = pm_test_strf("%s/ext/e.rs", d.tmp);
        char *lib = pm_test_strf("%s/lib/util/src/lib.rs", d.root);
        int before, i;

        /* lib/util/src/../../../../ext is <tmp>/ext, beside the root <tmp>/repo. */
        cr_assert_eq(mkdir(ext, 0755), 0);
        cr_assert_eq(pm_test_write_file(e_rs, "pub fn e() {}\n"), 0);
        pm_test_edit_file(lib, "pub mod text;",
                          "pub mod text;\n#[path = \"../../../../ext/e.rs\"]\npub mod e;");
        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        /* No audit yet: no watch outside the root. */
        cr_assert_eq(audit_status(c, "watches"), 0);
        before = unsafe_sites(c, "//lib/util:util");
        cr_assert_eq(audit_status(c, "watches"), 1, "<tmp>/ext is not watched");
        cr_assert(lists_file(c, "//lib/util:util", "/ext/e.rs"));
        /* The second audit checked the files under the new watch: the third stats none, not
         * even e.rs, whose directory only that watch covers. */
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before);
        cr_assert_eq(audit_status(c, "checked"), 0);

        /* An unsafe block added out there: the watch queues the path (bounded wait), and the
         * next answer counts it. */
        pm_test_edit_file(e_rs, "pub fn e() {}", "pub fn e() {\n    unsafe {}\n}");
        for (i = 0; i < 600 && audit_status(c, "pendingChanges") == 0; i++)
                usleep(50 * 1000);
        cr_assert_gt(audit_status(c, "pendingChanges"), 0, "no event for e.rs after 30 s");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        cr_assert_eq(audit_status(c, "read"), 1);
        cr_assert_eq(audit_status(c, "watches"), 1);

        pm_free(lib);
        pm_free(e_rs);
        pm_free(ext);
        pm_client_free(c);
}

Test(daemon_audit, the_kept_audit_is_dropped_when_idle)
{
        char *cfg = pm_test_strf("%s/.projmodel.json", d.root);
        char *text = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        struct pm_client *c;
        int before, i;

        (void)pm_test_daemon_kill(&d, SIGTERM);
        cr_assert_eq(pm_test_write_file(cfg, "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": "
                                             "\"out\"}, \"audit_idle_ms\": 200}\n"),
                     0);
        pm_test_daemon_start(&d);
        c = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        before = unsafe_sites(c, "//lib/util:util");
        /* Bounded wait for the idle timer: the kept scans go. */
        for (i = 0; i < 600 && audit_status(c, "kept") == 1; i++)
                usleep(50 * 1000);
        cr_assert_eq(audit_status(c, "kept"), 0, "the audit is still kept after 30 s");
        cr_assert_eq(audit_status(c, "watches"), 0);
        /* Changes while nothing is kept still count in the next audit. */
        pm_test_edit_file(text, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        cr_assert_eq(unsafe_sites(c, "//lib/util:util"), before + 1);
        pm_free(text);
        pm_free(cfg);
        pm_client_free(c);
}

/* The daemon's whole-tree answer (the result), printed unformatted. */
static char *
whole_tree(struct pm_client *c)
{
        cJSON *r = pm_test_call(c, "projmodel/audit", "{}");
        char *s = cJSON_PrintUnformatted(r);

        cr_assert(cJSON_IsArray(r) && s);
        cJSON_Delete(r);
        return s;
}

Test(daemon_audit, a_warm_whole_tree_answer_after_an_edit_is_the_commands)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *text = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        char *before, *after, *again, *oneshot;
        double checked;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        /* The first audit asks for the watches, the second checks the files under them: the
         * third is answered from what was kept, no file read. */
        for (int i = 0; i < 3; i++)
                pm_free(audit_call(c, "{}"));
        before = audit_call(c, "{}");
        cr_assert_eq(audit_status(c, "read"), 0);
        checked = audit_status(c, "checked");
        cr_assert_null(strstr(before, "audit_probe"));

        pm_test_edit_file(text, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        after = audit_call(c, "{}");
        /* Only the edited file was looked at again, and the answer is the command's. */
        cr_assert_eq(audit_status(c, "read"), 1);
        cr_assert_eq(audit_status(c, "checked"), checked + 1);
        cr_assert(strstr(after, "audit_probe"), "the new site is not in the warm answer");
        oneshot = audit_cli("--db", d.db, "--no-refresh", NULL, NULL);
        cr_assert_str_eq(after, oneshot);
        /* Nothing changed since: the kept answer, the same bytes. */
        again = audit_call(c, "{}");
        cr_assert_str_eq(again, after);
        cr_assert_eq(audit_status(c, "read"), 0);
        cr_assert_eq(audit_status(c, "checked"), checked);

        pm_free(oneshot);
        pm_free(again);
        pm_free(after);
        pm_free(before);
        pm_free(text);
        pm_client_free(c);
}

/* ---- the answer kept as one part per crate ---- */

/* Read exactly @n bytes from @fd into @buf (bounded wait). */
static void
read_exactly(int fd, char *buf, size_t n)
{
        size_t got = 0;

        while (got < n) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                cr_assert_eq(poll(&p, 1, PM_TEST_DAEMON_TIMEOUT_MS), 1, "no reply in time");
                k = read(fd, buf + got, n - got);
                cr_assert_gt(k, 0, "the daemon closed the connection");
                got += (size_t)k;
        }
}

/* The bytes of the result of projmodel/audit with @params as the daemon wrote them, through a
 * socket of this test's own (no parsing on the way: the test sees what the client gets). */
static char *
raw_audit(const char *params)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char *req = pm_test_strf("{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"projmodel/"
                                 "audit\",\"params\":%s}",
                                 params);
        char *msg = pm_test_strf("Content-Length: %zu\r\n\r\n%s", strlen(req), req);
        const char *head = "{\"jsonrpc\":\"2.0\",\"id\":77,\"result\":";
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        char *body = NULL, *out;
        size_t len = 0;

        cr_assert_geq(fd, 0);
        cr_assert_lt(strlen(d.socket), sizeof(sa.sun_path));
        strcpy(sa.sun_path, d.socket);
        cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        cr_assert_eq(write(fd, msg, strlen(msg)), (ssize_t)strlen(msg));
        /* Messages until the reply (notifications have no "id":77). */
        do {
                char hdr[64] = { 0 };
                size_t i = 0;

                pm_free(body);
                while (i + 1 < sizeof(hdr) && !strstr(hdr, "\r\n\r\n"))
                        read_exactly(fd, hdr + i++, 1);
                cr_assert_eq(sscanf(hdr, "Content-Length: %zu", &len), 1, "%s", hdr);
                body = pm_malloc(len + 1);
                cr_assert(body);
                read_exactly(fd, body, len);
                body[len] = '\0';
        } while (strncmp(body, head, strlen(head)) != 0);
        close(fd);
        cr_assert_eq(body[len - 1], '}');
        out = pm_test_strf("%.*s", (int)(len - strlen(head) - 1), body + strlen(head));
        pm_free(body);
        pm_free(msg);
        pm_free(req);
        return out;
}

/* What the daemon must write for `projmodel audit --format @format`: the command's document
 * (the text as a JSON string) printed unformatted. */
static char *
expected_result(const char *format)
{
        char *out = audit_cli_fmt(format, true, "--db", d.db, "--no-refresh", NULL, NULL);
        cJSON *doc = strcmp(format, "text") == 0 ? cJSON_CreateString(out) : cJSON_Parse(out);
        char *s = cJSON_PrintUnformatted(doc);

        cr_assert(s, "%s", out);
        cJSON_Delete(doc);
        pm_free(out);
        return s;
}

Test(daemon_audit, an_edit_renders_only_the_crates_of_the_edited_file_again)
{
        static const char *const formats[] = { "json", "text", "sarif" };
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *text = pm_test_strf("%s/lib/util/src/text.rs", d.root);
        size_t crates = 0, holders = 0;
        cJSON *all;

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        all = pm_test_call(c, "projmodel/audit", "{}");
        /* Every crate rendered once; the crates holding text.rs are the ones to render again. */
        cr_assert_eq(audit_status(c, "rendered"), cJSON_GetArraySize(all));
        for (const cJSON *cr = all ? all->child : NULL; cr; cr = cr->next, crates++) {
                const cJSON *f;

                cJSON_ArrayForEach(f, cJSON_GetObjectItem(cr, "files"))
                {
                        const char *path = cJSON_GetObjectItem(f, "path")->valuestring;

                        holders += strcmp(path, "lib/util/src/text.rs") == 0;
                }
        }
        cJSON_Delete(all);
        cr_assert_geq(holders, 1);
        cr_assert_gt(crates, holders + 2, "%zu crates: too few to tell", crates);
        for (size_t i = 0; i < 3; i++) {
                char *params = pm_test_strf("{\"format\":\"%s\"}", formats[i]);
                char *raw = raw_audit(params);
                char *want = expected_result(formats[i]);

                cr_assert_str_eq(raw, want, "--format %s", formats[i]);
                pm_free(raw);
                pm_free(params);
                cJSON_free(want);
        }
        /* The watches vouch for the files from now on. */
        pm_free(raw_audit("{}"));
        cr_assert_eq(audit_status(c, "rendered"), 0);

        pm_test_edit_file(text, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        for (size_t i = 0; i < 3; i++) {
                char *params = pm_test_strf("{\"format\":\"%s\"}", formats[i]);
                char *raw = raw_audit(params);
                char *want = expected_result(formats[i]);

                /* The command's bytes, of which only the edited file's crates were rendered
                 * again (in this format: the others' parts were dropped with them). */
                cr_assert_str_eq(raw, want, "--format %s after the edit", formats[i]);
                cr_assert(strstr(raw, "audit_probe"), "--format %s", formats[i]);
                cr_assert_eq(audit_status(c, "rendered"), holders, "--format %s", formats[i]);
                cr_assert_eq(audit_status(c, "read"), i == 0 ? 1 : 0);
                pm_free(raw);
                cJSON_free(want);
                /* Asked again, nothing changed: the kept answer, nothing rendered. */
                raw = raw_audit(params);
                cr_assert_eq(audit_status(c, "rendered"), 0);
                pm_free(raw);
                pm_free(params);
        }
        pm_free(text);
        pm_client_free(c);
}

Test(daemon_audit, a_failed_audit_keeps_what_the_audits_kept)
{
        struct pm_client *c = pm_test_daemon_connect(&d);
        char *text = pm_test_strf("%s/lib/util/src/text.rs", d.root);

        cJSON_Delete(pm_test_call(c, "initialize", "{}"));
        /* The first audit asks for the watches, the second checks the files under them: from
         * the third on no file is stat'ed. */
        for (int i = 0; i < 3; i++)
                pm_free(audit_call(c, "{}"));
        cr_assert_eq(audit_status(c, "checked"), 0);
        cr_assert_gt(audit_status(c, "files"), 0);
        /* A label not in the model is an error of that request... */
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"label\":\"//no/such:crate\"}"),
                     PM_ENOTFOUND);
        /* ...which change nothing of what was kept: the next audit stats no file either. */
        pm_free(audit_call(c, "{}"));
        cr_assert_eq(audit_status(c, "checked"), 0);
        cr_assert_eq(audit_status(c, "read"), 0);
        cr_assert_eq(audit_status(c, "rendered"), 0);
        /* An edit made before a failing request is still counted by the next one. */
        pm_test_edit_file(text, "pub fn title_case(",
                          "pub fn audit_probe() {\n    unsafe {}\n}\n\npub fn title_case(");
        cr_assert_eq(pm_test_call_error(c, "projmodel/audit", "{\"label\":\"//no/such:crate\"}"),
                     PM_ENOTFOUND);
        cr_assert_eq(audit_status(c, "read"), 1);
        {
                char *after = audit_call(c, "{}");
                char *oneshot = audit_cli("--db", d.db, "--no-refresh", NULL, NULL);

                cr_assert(strstr(after, "audit_probe"), "the edit is not in the answer");
                cr_assert_str_eq(after, oneshot);
                cr_assert_eq(audit_status(c, "checked"), 0);
                cr_assert_eq(audit_status(c, "read"), 0);
                pm_free(oneshot);
                pm_free(after);
        }
        pm_free(text);
        pm_client_free(c);
}

/* Files under //lib/util:util dense with unsafe blocks: a whole-tree answer of megabytes, more
 * than a socket holds, so its write to a client that does not read stays pending. */
#define DENSE_FILES 100
#define DENSE_SITES 200

static void
generate_dense_sources(void)
{
        char *dir = pm_test_strf("%s/lib/util/src/dense", d.root);
        char *lib = pm_test_strf("%s/lib/util/src/lib.rs", d.root);
        char *mod = pm_test_strf("%s/mod.rs", dir);
        struct pm_strbuf mods = PM_STRBUF_INIT, body = PM_STRBUF_INIT;

        cr_assert_eq(mkdir(dir, 0755), 0);
        for (int k = 0; k < DENSE_SITES; k++)
                cr_assert_eq(pm_strbuf_addf(&body, "pub fn f%d() {\n    unsafe {}\n}\n", k), 0);
        for (int i = 0; i < DENSE_FILES; i++) {
                char *file = pm_test_strf("%s/m%d.rs", dir, i);

                cr_assert_eq(pm_test_write_file(file, body.buf), 0);
                cr_assert_eq(pm_strbuf_addf(&mods, "pub mod m%d;\n", i), 0);
                pm_free(file);
        }
        cr_assert_eq(pm_test_write_file(mod, mods.buf), 0);
        pm_test_edit_file(lib, "pub mod text;", "pub mod text;\npub mod dense;");
        pm_strbuf_release(&mods);
        pm_strbuf_release(&body);
        pm_free(mod);
        pm_free(lib);
        pm_free(dir);
}

/* Send the request body @a, not waiting for its reply. */
static void
send_one(struct pm_client *c, const char *a)
{
        char *raw = pm_test_strf("Content-Length: %zu\r\n\r\n%s", strlen(a), a);
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_client_send_raw(c, raw, strlen(raw), &err), 0, "%s", err.msg);
        pm_free(raw);
}

Test(daemon_audit, concurrent_clients_get_whole_answers_while_the_kept_one_is_replaced)
{
        char *file = pm_test_strf("%s/lib/util/src/dense/m7.rs", d.root);
        struct pm_client *a, *b;
        char *first, *second, *s;
        unsigned n;
        cJSON *msg;

        generate_dense_sources();
        a = pm_test_daemon_connect(&d);
        b = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(a, "initialize", "{}"));
        cJSON_Delete(pm_test_call(b, "initialize", "{}"));
        first = whole_tree(a);
        cr_assert_gt(strlen(first), 2u << 20, "an answer of %zu bytes is too small", strlen(first));
        /* a asks again, as many times as it takes to fill more than a socket holds (the daemon
         * asks for a send buffer of at most 8 MiB, doubled by the kernel), and reads nothing
         * yet; b asks after it (audits run in arrival order): when b has its answer, a's writes
         * of the same kept text are queued and the last ones pending. */
        n = (24u << 20) / strlen(first) + 1;
        for (unsigned i = 0; i < n; i++) {
                char *req = pm_test_strf(
                        "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"projmodel/audit\"}", 300 + i);

                send_one(a, req);
                pm_free(req);
        }
        s = whole_tree(b);
        cr_assert_str_eq(s, first, "two clients got different answers");
        cJSON_free(s);
        /* An edit: b's next audit replaces the kept answer while a's writes of the old one are
         * still pending (they must keep the old text alive until they end). */
        pm_test_edit_file(file, "pub fn f0()", "pub fn probe() {\n    unsafe {}\n}\npub fn f0()");
        second = whole_tree(b);
        cr_assert(strstr(second, "\"probe\""), "the edit is not in the answer");
        cr_assert_str_neq(second, first);
        /* a's answers, whole and as they were asked (before the edit). */
        for (unsigned i = 0; i < n; i++) {
                cr_assert_eq(recv_reply(a, &msg), (int)(300 + i));
                s = cJSON_PrintUnformatted(cJSON_GetObjectItem(msg, "result"));
                cr_assert(s);
                cr_assert_str_eq(s, first, "a's pending answer %u was not sent whole", i);
                cJSON_free(s);
                cJSON_Delete(msg);
        }
        /* And a's next answer is the new one. */
        s = whole_tree(a);
        cr_assert_str_eq(s, second);
        cJSON_free(s);

        cJSON_free(second);
        cJSON_free(first);
        pm_free(file);
        pm_client_free(b);
        pm_client_free(a);
}
