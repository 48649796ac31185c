/* SPDX-License-Identifier: MIT */
/* Out-of-memory walks: every method of the daemon's table, decoded and invoked
 * against a real model and loop with the Nth allocation failing, for N = 1, 2, ...; and, on the
 * same daemon rig, the refresh's $/progress from a worker thread to a client that waits. Over 800
 * lines because every method of the table gets its own walk (a Test each, so a failure names the
 * method), all on the one rig that starts a daemon around the shared model. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"

#include "server/server-internal.h"
#include "server/update-internal.h"
#include "testlib.h"

/*
 * What the walks run against, built once per test: a temp root with a .gn marker, its loaded
 * config, and an in-memory model of five crates (deps, a rename, cfgs, env, a proc macro, a crate
 * without a build file). Every walk step gets a fresh daemon around it (struct rig): a real libuv
 * loop with the handles pm__server_stop() closes, and one real client on a socketpair, so the
 * handlers that talk to clients (cancel, exit) run their real code. The steps share the model,
 * as requests do in the daemon, so a step that fails half-way through must leave it as it was.
 *
 * Not walked: the parts of "projmodel/refresh" and "rustProject" that run after the debounce
 * timer fires (the refresh itself spawns build tools; tests/integration covers it). The walk
 * covers their request side (the request is parked and a run is scheduled) and, for refresh,
 * the reply built when the run has ended (a resumed call).
 */
static struct {
        char *root;
        char *socket_path;
        char *db_path;
        struct pm_config *cfg;
        struct pm_index *idx;
        uint64_t generation;
        size_t n_crates;
} fx;

static char *
rootf(const char *rel)
{
        char *p = pm_path_join(NULL, fx.root, rel);

        cr_assert_not_null(p);
        return p;
}

static struct pm_crate *
add_crate(struct pm_graph *g, const char *dir, const char *name, enum pm_crate_kind kind,
          bool with_build_file)
{
        struct pm_crate *c = pm_graph_add_crate(g);

        cr_assert_not_null(c);
        c->label = pm_graph_printf(g, "//%s:%s", dir, name);
        c->build_system = pm_graph_strdup(g, "gn");
        c->display_name = pm_graph_printf(g, "%s-crate", name);
        c->crate_name = pm_graph_printf(g, "%s_crate", name);
        c->kind = kind;
        c->edition = pm_graph_strdup(g, "2021");
        c->root_module = pm_graph_printf(g, "%s/%s/src/lib.rs", fx.root, dir);
        if (with_build_file)
                c->build_file = pm_graph_printf(g, "%s/%s/BUILD.gn", fx.root, dir);
        c->is_workspace_member = true;
        cr_assert(c->label && c->build_system && c->display_name && c->crate_name && c->edition &&
                  c->root_module);
        cr_assert_eq(pm_strlist_push(g, &c->sources, c->root_module), 0);
        cr_assert_eq(
                pm_strlist_push(g, &c->include_dirs, pm_graph_printf(g, "%s/%s/src", fx.root, dir)),
                0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
        cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"std\""), 0);
        cr_assert_eq(pm_kvlist_set(g, &c->env, "CARGO_PKG_NAME", name), 0);
        cr_assert_eq(pm_strlist_push(g, &c->flags, "--cfg=unix"), 0);
        if (c->build_file)
                cr_assert_eq(pm_strlist_push_unique(g, &g->build_files, c->build_file), 0);
        return c;
}

static void
fx_setup(void)
{
        struct pm_error err = { 0 };
        struct pm_graph *g = pm_graph_new();
        struct pm_crate *c;
        char *marker;

        /* As pm_server_run() does: cJSON's and libuv's allocations are walked too. */
        pm_mem_install_hooks();
        cr_assert_eq(uv_replace_allocator(pm_malloc, pm_realloc, pm_calloc, pm_free), 0);
        fx.root = pm_test_mkdtemp();
        cr_assert_not_null(fx.root);
        marker = rootf(".gn");
        cr_assert_eq(pm_test_write_file(marker, "buildconfig = \"//BUILDCONFIG.gn\"\n"), 0);
        pm_free(marker);
        fx.socket_path = rootf("never-bound.sock");
        cr_assert_eq(pm_config_load(fx.root, &fx.cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(fx.cfg, &err), 0, "%s", err.msg);

        cr_assert_not_null(g);
        add_crate(g, "base", "base", PM_CRATE_LIB, true);
        c = add_crate(g, "macros", "derive", PM_CRATE_PROC_MACRO, true);
        c->proc_macro_dylib = pm_graph_printf(g, "%s/out/libderive.so", fx.root);
        c = add_crate(g, "lib", "mid", PM_CRATE_LIB, true);
        cr_assert_eq(pm_crate_add_dep(g, c, "//base:base", "base_renamed"), 0);
        cr_assert_eq(pm_crate_add_dep(g, c, "//macros:derive", NULL), 0);
        c = add_crate(g, "app", "app", PM_CRATE_BIN, true);
        cr_assert_eq(pm_crate_add_dep(g, c, "//lib:mid", NULL), 0);
        c->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
        c->note = pm_graph_strdup(g, "build script not run");
        c = add_crate(g, "loose", "loose", PM_CRATE_LIB, false);
        cr_assert_eq(pm_crate_add_dep(g, c, "//base:base", NULL), 0);
        cr_assert_eq(pm_strlist_push(g, &g->build_files, fx.cfg->projects[0].root), 0);

        /* A file, not ":memory:": the audit worker opens the model with its own handle. */
        fx.db_path = rootf("model.db");
        cr_assert_eq(pm_index_open(fx.db_path, &fx.idx, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_apply(fx.idx, fx.cfg->projects[0].id, g, NULL, &err), 0, "%s",
                     err.msg);
        cr_assert_eq(pm_index_generation(fx.idx, &fx.generation, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_count(fx.idx, &fx.n_crates, &err), 0, "%s", err.msg);
        cr_assert_eq(fx.n_crates, 5);
        pm_graph_free(g);
}

static void
fx_teardown(void)
{
        fx.idx = pm_index_close(fx.idx);
        fx.cfg = pm_config_free(fx.cfg);
        cr_assert_eq(pm_test_rmtree(fx.root), 0);
        pm_free(fx.root);
        pm_free(fx.socket_path);
        pm_free(fx.db_path);
}

/* ---- one daemon around the shared model ---- */

struct rig {
        struct pm_server srv;
        struct pm__client *c; /* the client (freed by the daemon when it closes it) */
        int peer;             /* our end of the client's socketpair */
};

static void
rig_start(struct rig *g)
{
        int sv[2];

        memset(g, 0, sizeof(*g));
        g->srv.cfg = fx.cfg;
        g->srv.idx = fx.idx;
        g->srv.socket_path = fx.socket_path;
        g->srv.db_path = fx.db_path;
        g->srv.lock_fd = g->srv.ready_fd = -1;
        g->srv.generation = fx.generation;
        g->srv.n_crates = fx.n_crates;
        g->srv.have_model = g->srv.sysroot_done = g->srv.first_done = true;
        g->srv.refreshes = 1;
        g->srv.last_ok = true;
        g->srv.last_refresh_ms = 12;
        /* Nothing on disk is newer than the model: rustProject must not schedule a run. */
        g->srv.last_start_ns = UINT64_MAX;
        g->srv.dirty_projects = pm_calloc(fx.cfg->n_projects, sizeof(bool));
        cr_assert_not_null(g->srv.dirty_projects);

        cr_assert_eq(uv_loop_init(&g->srv.loop), 0);
        cr_assert_eq(uv_pipe_init(&g->srv.loop, &g->srv.listener, 0), 0);
        cr_assert_eq(uv_timer_init(&g->srv.loop, &g->srv.debounce), 0);
        g->srv.debounce.data = &g->srv;
        cr_assert_eq(uv_signal_init(&g->srv.loop, &g->srv.sigterm), 0);
        cr_assert_eq(uv_signal_init(&g->srv.loop, &g->srv.sigint), 0);
        g->srv.sigterm.data = g->srv.sigint.data = &g->srv;

        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        g->c = pm_calloc(1, sizeof(*g->c));
        cr_assert_not_null(g->c);
        g->c->srv = &g->srv;
        g->c->serial = ++g->srv.next_serial;
        pm__frame_parser_init(&g->c->parser);
        cr_assert_eq(uv_pipe_init(&g->srv.loop, &g->c->pipe, 0), 0);
        cr_assert_eq(uv_pipe_open(&g->c->pipe, sv[0]), 0);
        g->srv.clients = g->c;
        g->srv.n_clients = 1;
        g->peer = sv[1];
}

/*
 * Stop the daemon as pm_server_run() does, drain the loop, assert that nothing is left open,
 * and return what the client received (each message printed on its own line, pm_malloc'd).
 */
static char *
rig_stop(struct rig *g)
{
        struct pm__frame_parser p;
        struct pm_strbuf got;
        struct pm_error err = { 0 };
        char buf[4096];
        const char *body;
        size_t len;
        ssize_t n;
        int r;

        pm__server_stop(&g->srv);
        cr_assert_eq(g->srv.n_parked, 0);
        cr_assert_eq(g->srv.n_clients, 0);
        (void)uv_run(&g->srv.loop, UV_RUN_DEFAULT);
        cr_assert_eq(uv_loop_close(&g->srv.loop), 0, "handles left open");
        pm__audit_forget(&g->srv);
        g->srv.aidx = pm_index_close(g->srv.aidx);
        pm_free(g->srv.dirty_projects);
        for (size_t i = 0; i < g->srv.n_changed; i++)
                pm_free(g->srv.changed[i]);
        pm_free(g->srv.changed);

        /* The daemon closed its end: read everything up to EOF. */
        pm__frame_parser_init(&p);
        pm_strbuf_init(&got);
        while ((n = read(g->peer, buf, sizeof(buf))) > 0)
                cr_assert_eq(pm__frame_feed(&p, buf, (size_t)n, &err), 0, "%s", err.msg);
        cr_assert_eq(n, 0, "read: %s", strerror(errno));
        while ((r = pm__frame_next(&p, &body, &len, &err)) == 1) {
                cJSON *msg = cJSON_ParseWithLength(body, len);
                char *s;

                cr_assert_not_null(msg, "the client got a broken message");
                cr_assert_str_eq(cJSON_GetObjectItem(msg, "jsonrpc")->valuestring, "2.0");
                s = cJSON_PrintUnformatted(msg);
                cr_assert_not_null(s);
                cr_assert_eq(pm_strbuf_adds(&got, s), 0);
                cr_assert_eq(pm_strbuf_addch(&got, '\n'), 0);
                cJSON_free(s);
                cJSON_Delete(msg);
        }
        cr_assert_eq(r, 0, "%s", err.msg);
        pm__frame_parser_release(&p);
        cr_assert_eq(close(g->peer), 0);
        return pm_strbuf_detach(&got, NULL);
}

/* The daemon state a request may change; compared whole. */
struct state {
        bool initialized, subscribed, shutdown, shutdown_requested, stopping, dirty, dirty_full,
                changed_overflow;
        size_t n_parked, n_clients, n_changed;
        uint64_t generation;
};

/* The daemon's part of the state (the client may be freed once the loop has run). */
static void
take_server_state(struct rig *g, struct state *s)
{
        s->shutdown_requested = g->srv.shutdown_requested;
        s->stopping = g->srv.stopping;
        s->dirty = g->srv.dirty;
        s->dirty_full = g->srv.dirty_full;
        s->n_parked = g->srv.n_parked;
        s->n_clients = g->srv.n_clients;
        s->n_changed = g->srv.n_changed;
        s->changed_overflow = g->srv.changed_overflow;
        s->generation = g->srv.generation;
}

static void
take_state(struct rig *g, struct state *s)
{
        memset(s, 0, sizeof(*s));
        /* A closed client is freed only on the loop: its flags are still readable here. */
        s->initialized = g->c->initialized;
        s->subscribed = g->c->subscribed;
        s->shutdown = g->c->shutdown;
        take_server_state(g, s);
}

/* ---- the walk ---- */

struct req {
        const char *body;
        void (*prepare)(struct rig *g); /* set up the daemon state the request needs, or NULL */
        bool resumed;                   /* run as a call resumed after a refresh */
        bool expect_error;              /* the normal reply is an error reply */
        bool run_loop; /* the handler replies from the loop later (thread-pool work): run the
                        * loop until it has, with allocations still failing */
};

/* What one decode + invoke gave. */
struct outcome {
        int decode;      /* pm__rpc_decode's code */
        bool parked;     /* the handler kept the call */
        char *reply;     /* printed reply, or NULL for none */
        struct state st; /* the daemon after the request */
        char *received;  /* what the client received until the daemon stopped */
};

/* The printed reply without what differs from run to run (the status's RSS). */
static char *
print_reply(cJSON *reply)
{
        cJSON *result = cJSON_GetObjectItem(reply, "result");
        char *s;

        if (cJSON_IsObject(result))
                cJSON_DeleteItemFromObjectCaseSensitive(result, "rssBytes");
        s = cJSON_PrintUnformatted(reply);
        cr_assert_not_null(s);
        return s;
}

static void
run_once(const struct req *rq, unsigned long fail_at, unsigned long *ret_made,
         struct state *ret_before, struct outcome *o)
{
        struct pm__rpc_call *call = NULL;
        struct pm_error err = { 0 };
        cJSON *reply = NULL;
        uint64_t gen = 0;
        size_t count = 0;
        struct rig g;

        memset(o, 0, sizeof(*o));
        rig_start(&g);
        if (rq->prepare)
                rq->prepare(&g);
        take_state(&g, ret_before);

        pm_mem_fail_at(fail_at);
        o->decode = pm__rpc_decode(pm__methods, pm__n_methods, rq->body, strlen(rq->body), &call,
                                   &reply);
        if (o->decode == 0) {
                call->owner = g.c;
                call->resumed = rq->resumed;
                if (pm__rpc_invoke(call, &g.srv, &reply) == PM__RPC_PARKED)
                        o->parked = true;
                else
                        call = pm__rpc_call_free(call);
        }
        /* No handle of the rig is active: this returns once the work and its reply are done.
         * The client's flags are taken before (a reply that cannot be built frees it). */
        if (rq->run_loop) {
                take_state(&g, &o->st);
                (void)uv_run(&g.srv.loop, UV_RUN_DEFAULT);
        }
        *ret_made = pm_mem_fail_at(0);

        if (reply) {
                o->reply = print_reply(reply);
                cJSON_Delete(reply);
        }
        if (rq->run_loop)
                take_server_state(&g, &o->st);
        else
                take_state(&g, &o->st);
        /* The model is only read by requests. */
        cr_assert_eq(pm_index_generation(fx.idx, &gen, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_index_count(fx.idx, &count, &err), 0, "%s", err.msg);
        cr_assert_eq(gen, fx.generation, "the model changed");
        cr_assert_eq(count, fx.n_crates, "the model changed");
        o->received = rig_stop(&g);
}

static void
outcome_release(struct outcome *o)
{
        cJSON_free(o->reply);
        pm_free(o->received);
}

/* The error name of a printed error reply, or NULL when it is not one. */
static char *
error_name(const char *reply)
{
        cJSON *r = cJSON_Parse(reply), *e;
        const cJSON *name;
        char *s = NULL;

        cr_assert_not_null(r);
        e = cJSON_GetObjectItem(r, "error");
        name = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "data"), "name");
        if (e) {
                cr_assert(cJSON_IsString(name), "error reply without a name: %s", reply);
                s = pm_strdup(name->valuestring);
                cr_assert_not_null(s);
        }
        cJSON_Delete(r);
        return s;
}

static void
walk(const struct req *rq)
{
        struct outcome base, o;
        struct state before;
        unsigned long made, n;
        char *name;

        /* The normal outcome. */
        run_once(rq, 0, &made, &before, &base);
        cr_assert_eq(base.decode, 0, "%s: decode failed", rq->body);
        cr_assert_gt(made, 0, "%s: the request allocated nothing", rq->body);
        if (base.reply) {
                name = error_name(base.reply);
                cr_assert_eq(!!name, rq->expect_error, "%s: %s", rq->body, base.reply);
                pm_free(name);
        }

        for (n = 1;; n++) {
                run_once(rq, n, &made, &before, &o);
                if (made < n) {
                        /* No allocation failed: exactly the normal outcome. */
                        cr_assert_eq(o.decode, base.decode);
                        cr_assert_eq(o.parked, base.parked);
                        cr_assert_str_eq(o.reply ? o.reply : "(none)",
                                         base.reply ? base.reply : "(none)");
                        cr_assert_str_eq(o.received, base.received);
                        cr_assert(memcmp(&o.st, &base.st, sizeof(o.st)) == 0);
                        outcome_release(&o);
                        break;
                }
                name = o.reply ? error_name(o.reply) : NULL;
                if (o.reply && base.reply && strcmp(o.reply, base.reply) == 0) {
                        /* The failure was absorbed (a cache, a retry): the normal reply. */
                        cr_assert(memcmp(&o.st, &base.st, sizeof(o.st)) == 0,
                                  "%s, n=%lu: normal reply but a different state", rq->body, n);
                } else if (o.reply) {
                        /* Otherwise only an out-of-memory error, and nothing half-done. */
                        cr_assert(name, "%s, n=%lu: a success reply unlike the normal one: %s",
                                  rq->body, n, o.reply);
                        cr_assert_str_eq(name, "ENOMEM", "%s, n=%lu: %s", rq->body, n, o.reply);
                        cr_assert(memcmp(&o.st, &before, sizeof(o.st)) == 0,
                                  "%s, n=%lu: failed, but the daemon state changed", rq->body, n);
                } else if (o.parked && rq->run_loop) {
                        /* Replied from the loop: the normal reply, an out-of-memory error or
                         * nothing (no reply could be built: the client was closed). */
                        cr_assert(base.parked, "%s, n=%lu: parked", rq->body, n);
                        if (o.received[0] && strcmp(o.received, base.received) != 0) {
                                char *got = error_name(o.received);

                                cr_assert(got,
                                          "%s, n=%lu: a success reply unlike the normal one: %s",
                                          rq->body, n, o.received);
                                cr_assert_str_eq(got, "ENOMEM", "%s, n=%lu: %s", rq->body, n,
                                                 o.received);
                                pm_free(got);
                        }
                } else if (o.parked) {
                        cr_assert(base.parked, "%s, n=%lu: parked", rq->body, n);
                        if (o.st.n_changed != base.st.n_changed) {
                                /* Could not remember the changed build file: the run is
                                 * unscoped instead (pm__refresh_request). */
                                cr_assert(o.st.changed_overflow && !base.st.changed_overflow);
                                o.st.n_changed = base.st.n_changed;
                                o.st.changed_overflow = false;
                        }
                        cr_assert(memcmp(&o.st, &base.st, sizeof(o.st)) == 0,
                                  "%s, n=%lu: parked, but a different state", rq->body, n);
                } else if (!base.reply && !base.parked) {
                        /* A notification: no reply either way. */
                } else {
                        /*
                         * No reply could be built: the daemon closes the client
                         * (pm__client_send of NULL), which must not hang or half-apply.
                         */
                        cr_assert(o.decode < 0 || base.reply, "%s, n=%lu", rq->body, n);
                }
                pm_free(name);
                outcome_release(&o);
                cr_assert_lt(n, 200000, "%s: the walk does not end", rq->body);
        }
        cr_assert_gt(n, 1, "%s: no allocation was ever failed", rq->body);
        outcome_release(&base);
}

#define REQ(id, method, params) \
        "{\"jsonrpc\":\"2.0\",\"id\":" #id ",\"method\":\"" method "\",\"params\":" params "}"
#define NOTE(method, params) "{\"jsonrpc\":\"2.0\",\"method\":\"" method "\",\"params\":" params "}"

static void
walk_body(const char *body)
{
        struct req rq = { .body = body };

        walk(&rq);
}

/* A request {"@key": "<root>/@rel"} to @method. */
static void
walk_rooted(const char *method, const char *key, const char *rel)
{
        char *body = pm_test_strf("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"%s\","
                                  "\"params\":{\"%s\":\"%s/%s\"}}",
                                  method, key, fx.root, rel);

        cr_assert_not_null(body);
        walk_body(body);
        pm_free(body);
}

TestSuite(server_oom, .init = fx_setup, .fini = fx_teardown, .timeout = 300);

/* Every method of the table has a walk below; this fails when one is added without one. */
Test(server_oom, every_method_is_walked)
{
        static const char *const walked[] = {
                "initialize",
                "initialized",
                "shutdown",
                "exit",
                "$/cancelRequest",
                "projmodel/crateForFile",
                "projmodel/rustProject",
                "projmodel/crate",
                "projmodel/deps",
                "projmodel/rdeps",
                "projmodel/search",
                "projmodel/audit",
                "projmodel/status",
                "projmodel/refresh",
                "projmodel/subscribe",
        };
        size_t n = sizeof(walked) / sizeof(walked[0]);

        cr_assert_eq(pm__n_methods, n);
        for (size_t i = 0; i < pm__n_methods; i++) {
                bool found = false;

                for (size_t j = 0; j < n && !found; j++)
                        found = strcmp(pm__methods[i].name, walked[j]) == 0;
                cr_assert(found, "method '%s' has no out-of-memory walk", pm__methods[i].name);
        }
}

Test(server_oom, initialize)
{
        walk_body(REQ(1, "initialize", "{\"processId\":null,\"capabilities\":{}}"));
}

Test(server_oom, initialized)
{
        walk_body(NOTE("initialized", "{}"));
}

Test(server_oom, shutdown)
{
        walk_body(REQ("s", "shutdown", "null"));
}

static void
prepare_shutdown(struct rig *g)
{
        g->c->shutdown = true;
}

/* Park a "projmodel/crate" request with id 42 of the rig's client, as the daemon does while a
 * refresh runs. */
static void
prepare_parked(struct rig *g)
{
        static const char body[] = REQ(42, "projmodel/crate", "{\"label\":\"//base:base\"}");
        struct pm__rpc_call *call = NULL;
        struct pm_error err = { 0 };
        cJSON *reply = NULL;

        cr_assert_eq(pm__rpc_decode(pm__methods, pm__n_methods, body, strlen(body), &call, &reply),
                     0);
        call->owner = g->c;
        cr_assert_eq(pm__server_park(&g->srv, &g->srv.parked_fresh, call, &err), PM__RPC_PARKED);
}

static void
prepare_shutdown_parked(struct rig *g)
{
        prepare_shutdown(g);
        prepare_parked(g);
}

Test(server_oom, exit)
{
        struct req plain = { .body = NOTE("exit", "null") };
        struct req after_shutdown = { .body = NOTE("exit", "null"),
                                      .prepare = prepare_shutdown_parked };

        walk(&plain);
        walk(&after_shutdown);
}

Test(server_oom, cancel_request)
{
        struct req cancel = { .body = NOTE("$/cancelRequest", "{\"id\":42}"),
                              .prepare = prepare_parked };
        struct req unknown = { .body = NOTE("$/cancelRequest", "{\"id\":43}"),
                               .prepare = prepare_parked };

        walk(&cancel);
        walk(&unknown);
}

Test(server_oom, crate_for_file)
{
        walk_rooted("projmodel/crateForFile", "path", "lib/src/lib.rs");
        walk_rooted("projmodel/crateForFile", "path", "lib/src/inner/x.rs");
        walk_rooted("projmodel/crateForFile", "path", "elsewhere.rs");
}

Test(server_oom, rust_project_whole)
{
        walk_body(REQ(3, "projmodel/rustProject", "{}"));
}

Test(server_oom, rust_project_path)
{
        walk_rooted("projmodel/rustProject", "path", "app/src/lib.rs");
        /* Owned by a crate without a build file: keyed by its root module. */
        walk_rooted("projmodel/rustProject", "path", "loose/src/lib.rs");
}

Test(server_oom, rust_project_buildfile)
{
        walk_rooted("projmodel/rustProject", "buildfile", "lib/BUILD.gn");
}

/* A refresh is under way: the request waits for it. */
static void
prepare_pending(struct rig *g)
{
        g->srv.dirty = true;
}

/* The build file was saved after the last refresh started: the request schedules one (scoped
 * to that file) and waits for it. */
static void
prepare_saved(struct rig *g)
{
        g->srv.last_start_ns = 0;
}

Test(server_oom, rust_project_waits)
{
        char *bf = rootf("lib/BUILD.gn");
        char *by_bf = pm_test_strf(REQ(3, "projmodel/rustProject", "{\"buildfile\":\"%s\"}"), bf);
        char *by_new =
                pm_test_strf(REQ(3, "projmodel/rustProject", "{\"path\":\"%s/new.rs\"}"), fx.root);
        struct req pending = { .body = by_bf, .prepare = prepare_pending };
        struct req saved = { .body = by_bf, .prepare = prepare_saved };
        struct req new_file = { .body = by_new, .prepare = prepare_pending };

        cr_assert_eq(pm_test_write_file(bf, "rust_library(\"mid\") {}\n"), 0);
        walk(&pending);
        walk(&saved);
        walk(&new_file);
        pm_free(by_new);
        pm_free(by_bf);
        pm_free(bf);
}

Test(server_oom, rust_project_label)
{
        walk_body(REQ(3, "projmodel/rustProject", "{\"label\":\"//app:app\"}"));
        walk_body(REQ(3, "projmodel/rustProject", "{\"label\":\"//loose:loose\"}"));
}

Test(server_oom, crate)
{
        walk_body(REQ(4, "projmodel/crate", "{\"label\":\"//app:app\"}"));
        walk_body(REQ(4, "projmodel/crate", "{\"label\":\"//macros:derive\"}"));
}

Test(server_oom, deps)
{
        walk_body(REQ(5, "projmodel/deps", "{\"label\":\"//app:app\"}"));
        walk_body(REQ(5, "projmodel/deps", "{\"label\":\"//app:app\",\"transitive\":true}"));
}

Test(server_oom, rdeps)
{
        walk_body(REQ(6, "projmodel/rdeps", "{\"label\":\"//base:base\",\"transitive\":true}"));
}

Test(server_oom, search)
{
        walk_body(REQ(7, "projmodel/search", "{\"query\":\"//\",\"limit\":3}"));
}

Test(server_oom, audit)
{
        char *src = rootf("app/src/lib.rs");

        /* A file to scan (the other crates' roots do not exist: listed as missing). */
        cr_assert_eq(pm_test_write_file(src, "pub unsafe fn f() {}\nfn g() { unsafe {} }\n"), 0);
        walk(&(struct req){ .body = REQ(8, "projmodel/audit", "{}"), .run_loop = true });
        walk(&(struct req){
                .body = REQ(8, "projmodel/audit", "{\"label\":\"//app:app\",\"closure\":true}"),
                .run_loop = true });
        walk(&(struct req){ .body = REQ(8, "projmodel/audit", "{\"label\":\"//no:such\"}"),
                            .run_loop = true });
        walk(&(struct req){ .body = REQ(8, "projmodel/audit", "{\"format\":\"text\"}"),
                            .run_loop = true });
        walk(&(struct req){
                .body = REQ(8, "projmodel/audit", "{\"label\":\"//app:app\",\"format\":\"sarif\"}"),
                .run_loop = true });
        /* Bad params are answered at once, without a scan. */
        walk(&(struct req){ .body = REQ(8, "projmodel/audit", "{\"closure\":true}"),
                            .expect_error = true });
        pm_free(src);
}

Test(server_oom, status)
{
        walk_body(REQ(8, "projmodel/status", "null"));
}

static void
prepare_failed_refresh(struct rig *g)
{
        static char msg[] = "gn gen failed: 'BUILD.gn' line 3";

        g->srv.last_ok = false;
        g->srv.last_error = msg;
}

Test(server_oom, refresh)
{
        /* The request: a run is scheduled and the call waits for it. */
        struct req request = { .body = REQ(9, "projmodel/refresh", "null") };
        /* The reply once the run has ended, as a resumed call; and after a failed run. */
        struct req ended = { .body = REQ(9, "projmodel/refresh", "null"), .resumed = true };
        struct req failed = { .body = REQ(9, "projmodel/refresh", "null"),
                              .prepare = prepare_failed_refresh,
                              .resumed = true,
                              .expect_error = true };

        walk(&request);
        walk(&ended);
        walk(&failed);
}

Test(server_oom, subscribe)
{
        walk_body(REQ(10, "projmodel/subscribe", "{}"));
}

/* Walk the decode of a malformed @body whose normal outcome is @code with @reply0 (or none). */
static void
walk_decode_error(const char *body, int code, cJSON *reply0)
{
        char *base = reply0 ? print_reply(reply0) : NULL;
        unsigned long made, n;

        for (n = 1;; n++) {
                struct pm__rpc_call *call = NULL;
                cJSON *reply = NULL;
                char *got = NULL, *name = NULL;
                int r;

                pm_mem_fail_at(n);
                r = pm__rpc_decode(pm__methods, pm__n_methods, body, strlen(body), &call, &reply);
                made = pm_mem_fail_at(0);
                cr_assert_lt(r, 0, "%s, n=%lu: a malformed message decoded", body, n);
                if (reply)
                        got = print_reply(reply);
                if (made < n) {
                        cr_assert_eq(r, code);
                        cr_assert_str_eq(got ? got : "(none)", base ? base : "(none)");
                } else if (got && !(base && strcmp(got, base) == 0)) {
                        name = error_name(got);
                        cr_assert(name, "%s, n=%lu: %s", body, n, got);
                        cr_assert_str_eq(name, "ENOMEM", "%s, n=%lu: %s", body, n, got);
                }
                pm_free(name);
                cJSON_free(got);
                cJSON_Delete(reply);
                if (made < n)
                        break;
        }
        cr_assert_gt(n, 1, "%s: no allocation was ever failed", body);
        cJSON_free(base);
}

/* Malformed messages: the error reply, or an out-of-memory one, never a crash or a leak. */
Test(server_oom, malformed)
{
        static const char *const bodies[] = {
                REQ(11, "projmodel/nope", "{\"a\":[1,2,{\"b\":\"c\"}]}"),
                "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":3,\"params\":{\"a\":[1]}}",
                "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"projmodel/crate\",\"params\":[1,",
                REQ(11, "projmodel/crate", "{\"label\":7}"),
                REQ(11, "projmodel/crate", "{\"label\":\"//no:such\"}"),
                NOTE("projmodel/nope", "{\"a\":1}"),
        };

        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                struct pm__rpc_call *call = NULL;
                cJSON *reply = NULL;
                struct req rq = { .body = bodies[i], .expect_error = true };
                int r = pm__rpc_decode(pm__methods, pm__n_methods, bodies[i], strlen(bodies[i]),
                                       &call, &reply);

                if (r == 0) {
                        /* Decodes, fails in its handler: a request walk. */
                        pm__rpc_call_free(call);
                        walk(&rq);
                } else {
                        walk_decode_error(bodies[i], r, reply);
                }
                cJSON_Delete(reply);
        }
}

/* ---- the refresh's $/progress (server/update-progress.c) ---- */

/* A refresh worker: its parse's lines and warnings, from a thread-pool-like thread. */
static void
progress_worker(void *arg)
{
        struct pm_progress *p = arg;

        p->cb("gn: parsed 3 crates", p->userdata);
        p->warn("target '//a:a': rustenv entry 'X' is not KEY=VALUE, ignoring", p->userdata);
        p->cb("building 1 proc macro in '/r/out'", p->userdata);
}

/* The "message" of each $/progress in @received (one message a line), then "reply" for a reply,
 * one a line. */
static char *
progress_transcript(const char *received)
{
        struct pm_strbuf sb;
        const char *line = received, *nl;

        pm_strbuf_init(&sb);
        for (; (nl = strchr(line, '\n')); line = nl + 1) {
                char *text = pm_test_strf("%.*s", (int)(nl - line), line);
                cJSON *m = cJSON_Parse(text);
                const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "params"), "value");

                cr_assert_not_null(m);
                if (cJSON_GetObjectItem(m, "id"))
                        cr_assert_eq(pm_strbuf_adds(&sb, "reply"), 0);
                else
                        cr_assert_eq(
                                pm_strbuf_adds(&sb, cJSON_GetObjectItem(v, "message")->valuestring),
                                0);
                cr_assert_eq(pm_strbuf_addch(&sb, '\n'), 0);
                cJSON_Delete(m);
                pm_free(text);
        }
        return pm_strbuf_detach(&sb, NULL);
}

/*
 * A client that joins in the middle of a refresh hears nothing of it until a request of its waits
 * for it; then every message of that refresh, in order: the loop's, and the worker's that crossed
 * through the queue and the async handle (all of them however libuv coalesced the wake-ups).
 */
Test(server_oom, a_late_waiter_hears_the_refresh_from_its_beginning)
{
        struct pm__refresh *run = pm_calloc(1, sizeof(*run));
        struct pm_error err = { 0 };
        struct pm_progress p;
        uv_thread_t t;
        struct rig g;
        char *got, *lines;

        cr_assert_not_null(run);
        rig_start(&g);
        cr_assert_eq(pm__progress_init(&g.srv, &err), 0, "%s", err.msg);
        g.srv.running = run;
        pm__update_progress(&g.srv, "begin", "refreshing the model");
        pm__update_progress(&g.srv, "report", "querying gn for '.'");
        /* initialize, during the run. */
        pm__progress_join(&g.srv, g.c);
        g.c->initialized = true;
        pm__progress_worker(&g.srv, &p);
        cr_assert_eq(uv_thread_create(&t, progress_worker, &p), 0);
        cr_assert_eq(uv_thread_join(&t), 0);
        /* The wake-up is pending: the loop drains the queue (one async callback or several). */
        while (g.srv.n_progress_log < 5)
                (void)uv_run(&g.srv.loop, UV_RUN_ONCE);
        prepare_parked(&g); /* a request waits for the run: what it missed, in order */
        pm__update_progress(&g.srv, "report", "built 1 proc macro");
        g.srv.running = NULL;
        pm__update_progress(&g.srv, "end", "generation 2, 3 crates");
        pm_free(run);
        got = rig_stop(&g); /* the parked request is answered "cancelled" */
        pm__progress_release(&g.srv);
        lines = progress_transcript(got);
        cr_assert_str_eq(lines, "refreshing the model\n"
                                "querying gn for '.'\n"
                                "gn: parsed 3 crates\n"
                                "warning: target '//a:a': rustenv entry 'X' is not KEY=VALUE, "
                                "ignoring\n"
                                "building 1 proc macro in '/r/out'\n"
                                "built 1 proc macro\n"
                                "generation 2, 3 crates\n"
                                "reply\n");
        pm_free(lines);
        pm_free(got);
}
