/* SPDX-License-Identifier: MIT */
/* Unit tests of the JSON-RPC dispatcher against a small method table: envelope validation,
 * error codes, notifications, parking, parameter helpers, and the daemon's real table. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "server/server-internal.h"

static int
h_echo(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        (*(int *)ctx)++;
        *ret = call->params ? cJSON_Duplicate(call->params, true) : cJSON_CreateNull();
        return 0;
}

static int
h_fail(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        return pm_error_set(err, PM_ENOTFOUND, "no crate '%s'", "x");
}

static int
h_park(void *ctx, struct pm__rpc_call *call, cJSON **ret, struct pm_error *err)
{
        *(struct pm__rpc_call **)ctx = call;
        return PM__RPC_PARKED;
}

static const struct pm__rpc_method table[] = {
        { "echo", h_echo, 0 },
        { "fail", h_fail, 0 },
        { "note", h_echo, PM_RPC_NOTIFICATION },
};

static const struct pm__rpc_method park_table[] = {
        { "park", h_park, 0 },
};

/* Decode and invoke @body; returns the reply (or NULL) and the decode code in *code. */
static cJSON *
roundtrip(const char *body, int *ctx, int *code)
{
        struct pm__rpc_call *call = NULL;
        cJSON *reply = NULL;

        *code = pm__rpc_decode(table, 3, body, strlen(body), &call, &reply);
        if (*code < 0)
                return reply;
        cr_assert_eq(pm__rpc_invoke(call, ctx, &reply), 0);
        pm__rpc_call_free(call);
        return reply;
}

static int
error_code(const cJSON *reply)
{
        const cJSON *e = cJSON_GetObjectItem(reply, "error");

        cr_assert(e, "not an error reply");
        return (int)cJSON_GetObjectItem(e, "code")->valuedouble;
}

Test(server_dispatch, result_keeps_id)
{
        int ctx = 0, code;
        cJSON *r = roundtrip("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"echo\","
                             "\"params\":{\"x\":1}}",
                             &ctx, &code);

        cr_assert_eq(code, 0);
        cr_assert_eq(ctx, 1);
        cr_assert_str_eq(cJSON_GetObjectItem(r, "id")->valuestring, "a");
        cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "result"), "x")->valueint, 1);
        cJSON_Delete(r);
}

Test(server_dispatch, error_codes)
{
        struct {
                const char *body;
                int rpc;
        } cases[] = {
                { "{not json", -32700 },
                { "[]", -32600 },
                { "42", -32600 },
                { "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"echo\"}", -32600 },
                { "{\"id\":1,\"method\":\"echo\"}", -32600 },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", -32600 },
                { "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"echo\"}", -32600 },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":3}", -32600 },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nope\"}", -32601 },
                { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"fail\"}", -32004 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int ctx = 0, code;
                cJSON *r = roundtrip(cases[i].body, &ctx, &code);

                cr_assert(r, "case %zu: no reply", i);
                cr_assert_eq(error_code(r), cases[i].rpc, "case %zu: %d", i, error_code(r));
                cJSON_Delete(r);
        }
}

Test(server_dispatch, error_reply_names_code)
{
        int ctx = 0, code;
        cJSON *r = roundtrip("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"fail\"}", &ctx, &code);
        const cJSON *e = cJSON_GetObjectItem(r, "error");

        cr_assert_str_eq(cJSON_GetObjectItem(e, "message")->valuestring, "no crate 'x'");
        cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "data"), "name")->valuestring,
                         "PM_ENOTFOUND");
        cr_assert_eq(cJSON_GetObjectItem(r, "id")->valueint, 5);
        cJSON_Delete(r);
}

Test(server_dispatch, too_deep_is_refused_before_parsing)
{
        char body[400];
        int ctx = 0, code;
        cJSON *r;

        memset(body, '[', sizeof(body) - 1);
        body[sizeof(body) - 1] = '\0';
        r = roundtrip(body, &ctx, &code);
        cr_assert_eq(code, PM_ELIMIT);
        cr_assert_eq(error_code(r), -32007);
        cJSON_Delete(r);
}

Test(server_dispatch, notifications_get_no_reply)
{
        int ctx = 0, code;
        cJSON *r;

        r = roundtrip("{\"jsonrpc\":\"2.0\",\"method\":\"note\"}", &ctx, &code);
        cr_assert_null(r);
        cr_assert_eq(ctx, 1);
        r = roundtrip("{\"jsonrpc\":\"2.0\",\"method\":\"echo\"}", &ctx, &code);
        cr_assert_null(r);
        /* An unknown notification is dropped silently (JSON-RPC 2.0 section 4.1). */
        r = roundtrip("{\"jsonrpc\":\"2.0\",\"method\":\"unknown\"}", &ctx, &code);
        cr_assert_eq(code, PM_EMETHOD);
        cr_assert_null(r);
}

Test(server_dispatch, parked_call_belongs_to_handler)
{
        const char *body = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"park\"}";
        struct pm__rpc_call *call = NULL, *parked = NULL;
        cJSON *reply = NULL;

        cr_assert_eq(pm__rpc_decode(park_table, 1, body, strlen(body), &call, &reply), 0);
        cr_assert_eq(pm__rpc_invoke(call, &parked, &reply), PM__RPC_PARKED);
        cr_assert_null(reply);
        cr_assert_eq(parked, call);
        reply = pm__rpc_result(parked->id, cJSON_CreateTrue());
        cr_assert_eq(cJSON_GetObjectItem(reply, "id")->valueint, 9);
        cJSON_Delete(reply);
        pm__rpc_call_free(parked);
}

Test(server_dispatch, param_helpers)
{
        cJSON *p = cJSON_Parse("{\"s\":\"x\",\"b\":true,\"n\":5,\"neg\":-1,\"f\":1.5,"
                               "\"big\":1e300}");
        struct pm_error err;
        const char *s;
        unsigned long n;
        bool b;

        cr_assert_eq(pm__param_string(p, "s", true, &s, &err), 0);
        cr_assert_str_eq(s, "x");
        cr_assert_eq(pm__param_string(p, "missing", true, &s, &err), PM_EPARAMS);
        cr_assert_eq(pm__param_string(p, "b", false, &s, &err), PM_EPARAMS);
        cr_assert_eq(pm__param_bool(p, "b", false, &b, &err), 0);
        cr_assert(b);
        cr_assert_eq(pm__param_uint(p, "n", 0, 10, &n, &err), 0);
        cr_assert_eq(n, 5);
        cr_assert_eq(pm__param_uint(p, "neg", 0, 10, &n, &err), PM_EPARAMS);
        cr_assert_eq(pm__param_uint(p, "f", 0, 10, &n, &err), PM_EPARAMS);
        cr_assert_eq(pm__param_uint(p, "big", 0, 10, &n, &err), PM_EPARAMS);
        cr_assert_eq(pm__param_uint(p, "absent", 7, 10, &n, &err), 0);
        cr_assert_eq(n, 7);
        cJSON_Delete(p);
}

Test(server_dispatch, real_table_is_consistent)
{
        /* Every method appears once; notifications are the LSP ones. */
        for (size_t i = 0; i < pm__n_methods; i++) {
                cr_assert(pm__methods[i].handler);
                for (size_t j = i + 1; j < pm__n_methods; j++)
                        cr_assert_str_neq(pm__methods[i].name, pm__methods[j].name);
                if (pm__methods[i].flags & PM_RPC_NOTIFICATION)
                        cr_assert(strcmp(pm__methods[i].name, "initialized") == 0 ||
                                  strcmp(pm__methods[i].name, "exit") == 0 ||
                                  strcmp(pm__methods[i].name, "$/cancelRequest") == 0);
                if (strncmp(pm__methods[i].name, "projmodel/", 10) == 0 &&
                    strcmp(pm__methods[i].name, "projmodel/status") != 0 &&
                    strcmp(pm__methods[i].name, "projmodel/refresh") != 0 &&
                    strcmp(pm__methods[i].name, "projmodel/subscribe") != 0)
                        cr_assert(pm__methods[i].flags & PM_RPC_NEEDS_MODEL, "%s",
                                  pm__methods[i].name);
        }
}
