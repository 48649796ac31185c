/* SPDX-License-Identifier: MIT */
/* Fuzz target: the daemon's LSP framing (fed in input-chosen chunk sizes), then JSON-RPC decode
 * and dispatch of every frame through the daemon's own method table against an in-memory model.
 * "exit" and "projmodel/refresh" are left out: they stop or re-query through the event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "fuzz.h"
#include "server/server-internal.h"

#define MAX_METHODS 32

static struct pm__rpc_method table[MAX_METHODS];
static size_t n_table;
static struct pm_server srv;

static void fail(const char *what, const char *detail) __attribute__((noreturn));

static void
fail(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz-frame: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
        abort();
}

static void
must(int r, const struct pm_error *err)
{
        if (r < 0)
                fail("cannot build the model", err->msg);
}

/* One crate of the model, under the per-process root so path queries can find it. */
static struct pm_crate *
add_crate(struct pm_graph *g, const char *label, const char *name, const char *dir,
          const char *root_rel, bool build_file)
{
        const char *root = srv.cfg->root;
        struct pm_crate *c = pm_graph_add_crate(g);

        if (!c)
                fail("out of memory", NULL);
        c->label = pm_graph_strdup(g, label);
        c->build_system = pm_graph_strdup(g, "cargo");
        c->display_name = pm_graph_strdup(g, name);
        c->crate_name = pm_graph_strdup(g, name);
        c->edition = pm_graph_strdup(g, "2021");
        c->root_module = pm_graph_printf(g, "%s/%s/%s", root, dir, root_rel);
        if (build_file)
                c->build_file = pm_graph_printf(g, "%s/%s/Cargo.toml", root, dir);
        c->is_workspace_member = true;
        if (pm_strlist_push(g, &c->sources, c->root_module) < 0 ||
            pm_strlist_push(g, &c->include_dirs, pm_graph_printf(g, "%s/%s", root, dir)) < 0 ||
            pm_strlist_push(g, &c->cfgs, "feature=\"std\"") < 0 ||
            pm_kvlist_set(g, &c->env, "CARGO_PKG_NAME", name) < 0)
                fail("out of memory", NULL);
        return c;
}

static void
setup(void)
{
        struct pm_change change = { 0 };
        struct pm_graph *g;
        struct pm_error err;
        struct pm_crate *c;

        srv.cfg = (struct pm_config *)pm_fuzz_config("frame", "{\"build_system\": \"cargo\"}\n");
        pm_error_init(&err);
        must(pm_index_open(":memory:", &srv.idx, &err), &err);
        g = pm_graph_new();
        if (!g)
                fail("out of memory", NULL);
        add_crate(g, "b 0.1.0", "b", "b", "src/lib.rs", true);
        c = add_crate(g, "a 0.1.0", "a", "a", "src/lib.rs", true);
        must(pm_crate_add_dep(g, c, "b 0.1.0", "bee"), &err);
        c = add_crate(g, "m 0.1.0", "m", "m", "lib.rs", false);
        c->kind = PM_CRATE_PROC_MACRO;
        must(pm_crate_add_dep(g, c, "b 0.1.0", NULL), &err);
        c = add_crate(g, "app 0.1.0", "app", "app", "src/main.rs", true);
        c->kind = PM_CRATE_BIN;
        must(pm_crate_add_dep(g, c, "a 0.1.0", NULL), &err);
        must(pm_crate_add_dep(g, c, "m 0.1.0", NULL), &err);
        must(pm_graph_validate(g, false, &err), &err);
        must(pm_index_apply(srv.idx, srv.cfg->projects[0].id, g, &change, &err), &err);
        srv.generation = change.generation;
        srv.n_crates = g->n_crates;
        srv.have_model = true;
        srv.first_done = true;
        srv.last_ok = true;
        /* Files never look newer than the model: no handler asks for a refresh. */
        srv.last_start_ns = UINT64_MAX;
        pm_change_release(&change);
        pm_graph_free(g);

        for (size_t i = 0; i < pm__n_methods; i++) {
                if (strcmp(pm__methods[i].name, "exit") == 0 ||
                    strcmp(pm__methods[i].name, "projmodel/refresh") == 0)
                        continue;
                if (n_table == MAX_METHODS)
                        fail("too many methods", NULL);
                table[n_table++] = pm__methods[i];
        }
}

static void
free_parked(struct pm__rpc_call **list)
{
        while (*list) {
                struct pm__rpc_call *c = *list;

                *list = c->next;
                pm__rpc_call_free(c);
        }
}

/* A reply must be a JSON-RPC response object that cJSON can print. */
static void
check_reply(cJSON *reply)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "jsonrpc");
        char *s;

        if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0 ||
            !cJSON_HasObjectItem(reply, "id") ||
            cJSON_HasObjectItem(reply, "result") == cJSON_HasObjectItem(reply, "error"))
                fail("a malformed reply", NULL);
        s = cJSON_PrintUnformatted(reply);
        if (!s)
                fail("an unprintable reply", NULL);
        if (pm_fuzz_verbose())
                fprintf(stderr, "  reply: %.300s\n", s);
        cJSON_free(s);
}

/* Frame @body again and parse it back: the same bytes must come out. */
static void
check_encode(const char *body, size_t len)
{
        struct pm_strbuf out = PM_STRBUF_INIT;
        struct pm__frame_parser p;
        struct pm_error err;
        const char *b2 = NULL;
        size_t l2 = 0;

        pm_error_init(&err);
        pm__frame_parser_init(&p);
        if (pm__frame_encode(&out, body, len) < 0 || pm__frame_feed(&p, out.buf, out.len, &err) < 0)
                fail("cannot re-frame a body", err.msg);
        if (pm__frame_next(&p, &b2, &l2, &err) != 1 || l2 != len || memcmp(b2, body, len) != 0)
                fail("a re-framed body does not parse back", err.msg);
        pm__frame_parser_release(&p);
        pm_strbuf_release(&out);
}

static void
dispatch(struct pm__client *client, const char *body, size_t len)
{
        struct pm__rpc_call *call = NULL;
        cJSON *reply = NULL;
        char *text;
        size_t tlen;
        int r;

        /* Seeds name model paths as @ROOT@/...; substituting after framing keeps lengths. */
        text = pm_fuzz_subst_root((const uint8_t *)body, len, srv.cfg->root, &tlen);
        r = pm__rpc_decode(table, n_table, text, tlen, &call, &reply);
        if (r > 0)
                fail("decode returned a positive code", NULL);
        if (r == 0) {
                if (!call || reply)
                        fail("decode succeeded without a call", NULL);
                call->owner = client;
                r = pm__rpc_invoke(call, &srv, &reply);
                if (r == PM__RPC_PARKED) {
                        if (reply)
                                fail("a parked call replied", NULL);
                } else if (r != 0) {
                        fail("invoke failed", NULL);
                } else {
                        if (!reply && call->id && !(call->m->flags & PM_RPC_NOTIFICATION))
                                fail("a request without a reply", call->method);
                        pm__rpc_call_free(call);
                }
        } else if (call) {
                fail("decode failed but returned a call", NULL);
        }
        if (reply)
                check_reply(reply);
        cJSON_Delete(reply);
        pm_free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pm__client client = { 0 };
        struct pm__frame_parser p;
        struct pm_error err;
        size_t chunk, off = 0;
        int r = 0;

        if (!srv.idx)
                setup();
        if (size == 0)
                return 0;
        /* The first byte picks the read size, as a socket would split the stream. */
        chunk = (size_t)data[0] % 64 + 1;
        if (data[0] >= 192)
                chunk = size;
        data++;
        size--;
        pm__frame_parser_init(&p);
        client.srv = &srv;
        while (off < size && r >= 0) {
                size_t n = size - off < chunk ? size - off : chunk;

                pm_error_init(&err);
                r = pm__frame_feed(&p, data + off, n, &err);
                off += n;
                while (r >= 0) {
                        const char *body = NULL;
                        size_t len = 0;

                        pm_error_init(&err);
                        r = pm__frame_next(&p, &body, &len, &err);
                        if (r <= 0)
                                break;
                        if (len > PM_RPC_MAX_FRAME || body + len > p.buf.buf + p.buf.len)
                                fail("a frame outside the buffer", NULL);
                        check_encode(body, len);
                        dispatch(&client, body, len);
                }
                if (r < 0 && (err.code != r || !err.msg[0]))
                        fail("a framing error without its report", NULL);
                if (r < 0 && pm_fuzz_verbose())
                        fprintf(stderr, "  framing: %s\n", err.msg);
        }
        pm__frame_parser_release(&p);
        free_parked(&srv.parked_model);
        free_parked(&srv.parked_fresh);
        srv.n_parked = 0;
        srv.shutdown_requested = false;
        return 0;
}
