/* SPDX-License-Identifier: MIT */
/* The JSON-RPC 2.0 dispatcher: decode and validate one message against a method table, run its
 * handler, build replies and notifications. It knows nothing of sockets or of the model. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"

#include "server-internal.h"

struct pm__rpc_call *
pm__rpc_call_free(struct pm__rpc_call *call)
{
        if (!call)
                return NULL;
        cJSON_Delete(call->root);
        pm_free(call);
        return NULL;
}

struct cJSON *
pm__rpc_result(const struct cJSON *id, struct cJSON *result)
{
        cJSON *reply = cJSON_CreateObject(), *idc;

        if (!reply)
                goto fail;
        if (!cJSON_AddStringToObject(reply, "jsonrpc", "2.0"))
                goto fail;
        idc = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
        if (!pm_json_add(reply, "id", idc))
                goto fail;
        if (!result)
                result = cJSON_CreateNull();
        if (!result || !cJSON_AddItemToObject(reply, "result", result))
                goto fail;
        return reply;
fail:
        cJSON_Delete(result);
        cJSON_Delete(reply);
        return NULL;
}

struct cJSON *
pm__rpc_error(const struct cJSON *id, const struct pm_error *err)
{
        cJSON *reply = NULL, *idc, *e, *data;

        reply = cJSON_CreateObject();
        if (!reply || !cJSON_AddStringToObject(reply, "jsonrpc", "2.0"))
                goto fail;
        idc = id ? cJSON_Duplicate(id, true) : cJSON_CreateNull();
        if (!pm_json_add(reply, "id", idc))
                goto fail;
        e = cJSON_AddObjectToObject(reply, "error");
        if (!e)
                goto fail;
        if (!cJSON_AddNumberToObject(e, "code", pm_error_rpc_code(err->code)))
                goto fail;
        if (!cJSON_AddStringToObject(e, "message", err->msg[0] ? err->msg : pm_strerror(err->code)))
                goto fail;
        data = cJSON_AddObjectToObject(e, "data");
        if (!data || !cJSON_AddStringToObject(data, "name", pm_error_name(err->code)))
                goto fail;
        if (err->file[0]) {
                if (!cJSON_AddStringToObject(data, "file", err->file))
                        goto fail;
                if (err->line > 0 && !cJSON_AddNumberToObject(data, "line", err->line))
                        goto fail;
        }
        return reply;
fail:
        cJSON_Delete(reply);
        return NULL;
}

struct cJSON *
pm__rpc_notification(const char *method, struct cJSON *params)
{
        cJSON *msg = cJSON_CreateObject();

        if (!msg || !cJSON_AddStringToObject(msg, "jsonrpc", "2.0") ||
            !cJSON_AddStringToObject(msg, "method", method))
                goto fail;
        if (params && !cJSON_AddItemToObject(msg, "params", params))
                goto fail;
        return msg;
fail:
        cJSON_Delete(params);
        cJSON_Delete(msg);
        return NULL;
}

bool
pm__rpc_same_id(const struct cJSON *a, const struct cJSON *b)
{
        if (!a || !b)
                return false;
        if (cJSON_IsString(a) && cJSON_IsString(b))
                return strcmp(a->valuestring, b->valuestring) == 0;
        return cJSON_IsNumber(a) && cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
}

static const struct pm__rpc_method *
find_method(const struct pm__rpc_method *table, size_t n, const char *name)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(table[i].name, name) == 0)
                        return &table[i];
        }
        return NULL;
}

int
pm__rpc_decode(const struct pm__rpc_method *table, size_t n, const char *body, size_t len,
               struct pm__rpc_call **ret_call, struct cJSON **ret_reply)
{
        struct pm_error err;
        struct pm__rpc_call *call = NULL;
        cJSON *root = NULL;
        const cJSON *id = NULL, *v, *method, *params;
        unsigned long failures;
        int r;

        pm_error_init(&err);
        *ret_reply = NULL;
        r = pm__json_depth_check(body, len, PM_RPC_MAX_NESTING, &err);
        if (r < 0)
                goto out;
        failures = pm_mem_failures();
        root = cJSON_ParseWithLength(body, len);
        if (!root) {
                /* cJSON says NULL for both: an allocation failure is not the client's error. */
                if (pm_mem_failures() != failures)
                        r = pm_error_set(&err, -ENOMEM, "out of memory");
                else
                        r = pm_error_set(&err, PM_EPARSE, "invalid JSON in message");
                goto out;
        }
        if (cJSON_IsArray(root)) {
                r = pm_error_set(&err, PM_EPROTO, "batch requests are not supported");
                goto out;
        }
        if (!cJSON_IsObject(root)) {
                r = pm_error_set(&err, PM_EPROTO, "a message must be a JSON object");
                goto out;
        }
        id = cJSON_GetObjectItemCaseSensitive(root, "id");
        if (id && !cJSON_IsString(id) && !(cJSON_IsNumber(id) && isfinite(id->valuedouble)) &&
            !cJSON_IsNull(id)) {
                id = NULL;
                r = pm_error_set(&err, PM_EPROTO, "'id' must be a number or a string");
                goto out;
        }
        if (id && cJSON_IsNull(id))
                id = NULL;
        v = cJSON_GetObjectItemCaseSensitive(root, "jsonrpc");
        if (!cJSON_IsString(v) || strcmp(v->valuestring, "2.0") != 0) {
                r = pm_error_set(&err, PM_EPROTO, "'jsonrpc' must be \"2.0\"");
                goto out;
        }
        method = cJSON_GetObjectItemCaseSensitive(root, "method");
        if (!cJSON_IsString(method)) {
                r = pm_error_set(&err, PM_EPROTO, "'method' must be a string");
                goto out;
        }
        params = cJSON_GetObjectItemCaseSensitive(root, "params");
        if (params && !cJSON_IsObject(params) && !cJSON_IsArray(params) && !cJSON_IsNull(params)) {
                r = pm_error_set(&err, PM_EPROTO, "'params' must be an object or an array");
                goto out;
        }
        if (params && cJSON_IsNull(params))
                params = NULL;
        call = pm_calloc(1, sizeof(*call));
        if (!call) {
                r = pm_error_set(&err, -ENOMEM, "out of memory");
                goto out;
        }
        call->m = find_method(table, n, method->valuestring);
        if (!call->m) {
                r = pm_error_set(&err, PM_EMETHOD, "unknown method '%.200s'", method->valuestring);
                goto out;
        }
        call->root = pm_steal_ptr(&root);
        call->id = id;
        call->method = method->valuestring;
        call->params = params;
        *ret_call = pm_steal_ptr(&call);
        r = 0;
out:
        if (r < 0) {
                /* Notifications get no reply, even an error one (JSON-RPC 2.0 §4.1), except for
                 * framing-level garbage where we cannot tell. */
                bool is_notification = root && cJSON_IsObject(root) &&
                                       !cJSON_GetObjectItemCaseSensitive(root, "id") &&
                                       cJSON_IsString(cJSON_GetObjectItem(root, "method")) &&
                                       r != PM_EPARSE && r != PM_ELIMIT;
                if (!is_notification)
                        *ret_reply = pm__rpc_error(id, &err);
        }
        pm_free(call);
        cJSON_Delete(root);
        return r;
}

int
pm__rpc_invoke(struct pm__rpc_call *call, void *ctx, struct cJSON **ret_reply)
{
        struct pm_error err;
        cJSON *result = NULL;
        int r;

        pm_error_init(&err);
        *ret_reply = NULL;
        r = call->m->handler(ctx, call, &result, &err);
        if (r == PM__RPC_PARKED)
                return r;
        if ((call->m->flags & PM_RPC_NOTIFICATION) || !call->id) {
                cJSON_Delete(result);
                return 0;
        }
        if (r < 0) {
                if (err.code == 0)
                        pm_error_set(&err, r, "%s", pm_strerror(r));
                *ret_reply = pm__rpc_error(call->id, &err);
        } else {
                *ret_reply = pm__rpc_result(call->id, pm_steal_ptr(&result));
        }
        cJSON_Delete(result);
        return 0;
}

int
pm__param_string(const struct cJSON *params, const char *key, bool required, const char **ret,
                 struct pm_error *err)
{
        const cJSON *v =
                cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;

        if (!v || cJSON_IsNull(v)) {
                if (required)
                        return pm_error_set(err, PM_EPARAMS, "missing parameter '%s'", key);
                *ret = NULL;
                return 0;
        }
        if (!cJSON_IsString(v))
                return pm_error_set(err, PM_EPARAMS, "parameter '%s' must be a string", key);
        *ret = v->valuestring;
        return 0;
}

int
pm__param_bool(const struct cJSON *params, const char *key, bool def, bool *ret,
               struct pm_error *err)
{
        const cJSON *v =
                cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;

        if (!v || cJSON_IsNull(v)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsBool(v))
                return pm_error_set(err, PM_EPARAMS, "parameter '%s' must be a boolean", key);
        *ret = cJSON_IsTrue(v);
        return 0;
}

int
pm__param_uint(const struct cJSON *params, const char *key, unsigned long def, unsigned long max,
               unsigned long *ret, struct pm_error *err)
{
        const cJSON *v =
                cJSON_IsObject(params) ? cJSON_GetObjectItemCaseSensitive(params, key) : NULL;

        if (!v || cJSON_IsNull(v)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
                return pm_error_set(err, PM_EPARAMS,
                                    "parameter '%s' must be a non-negative integer", key);
        /* Bound first, so that the cast below is defined. */
        if (v->valuedouble > (double)max)
                return pm_error_set(err, PM_EPARAMS, "parameter '%s' over the limit of %lu", key,
                                    max);
        if (v->valuedouble != (double)(unsigned long)v->valuedouble)
                return pm_error_set(err, PM_EPARAMS, "parameter '%s' must be an integer", key);
        *ret = (unsigned long)v->valuedouble;
        return 0;
}
