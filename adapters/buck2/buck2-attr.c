/* SPDX-License-Identifier: MIT */
/* Reading Buck2 target attributes: select() and concatenation values resolved, types checked,
 * and the error report every malformed attribute produces. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/buck2/buck2-internal.h"

int
pm__buck2_bad(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *fmt, ...)
{
        char msg[PM_ERROR_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (t)
                return pm_error_set_at(x->err, PM_EBADTOOLOUTPUT, x->origin, 0, 0,
                                       "target '%s': %s", t->label, msg);
        return pm_error_set_at(x->err, PM_EBADTOOLOUTPUT, x->origin, 0, 0, "%s", msg);
}

int
pm__buck2_oom(struct pm__buck2_ctx *x)
{
        return pm_error_set(x->err, -ENOMEM, "out of memory");
}

/*
 * Resolve select() and concatenation in an attribute value. Selectors take their DEFAULT
 * entry (Buck2 configures nothing here, and DEFAULT is what an unconfigured build means); a
 * select() without one is an error because guessing a platform would silently mislead.
 * *ret is borrowed from the tree or from x->scratch, NULL for a null or absent value.
 */
static int
resolve_value(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
              const cJSON *v, int nest, const cJSON **ret)
{
        const cJSON *type, *entries, *items, *e;
        cJSON *out = NULL;
        int r;

        *ret = NULL;
        if (!v || cJSON_IsNull(v))
                return 0;
        type = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "__type") : NULL;
        if (!type) {
                *ret = v;
                return 0;
        }
        if (nest >= PM_BUCK2_MAX_SELECT_NEST)
                return pm__buck2_bad(
                        x, t, "attribute '%s' nests select() and concatenation too deeply", attr);
        if (cJSON_IsString(type) && strcmp(type->valuestring, "selector") == 0) {
                entries = cJSON_GetObjectItemCaseSensitive(v, "entries");
                if (!cJSON_IsObject(entries))
                        return pm__buck2_bad(x, t, "attribute '%s' is a select() without 'entries'",
                                             attr);
                e = cJSON_GetObjectItemCaseSensitive(entries, "DEFAULT");
                if (!e)
                        return pm__buck2_bad(
                                x, t,
                                "attribute '%s' is a select() without a DEFAULT entry: projmodel cannot pick a configuration",
                                attr);
                return resolve_value(x, t, attr, e, nest + 1, ret);
        }
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "concat") != 0)
                return pm__buck2_bad(x, t, "attribute '%s' has unknown '__type'", attr);

        items = cJSON_GetObjectItemCaseSensitive(v, "items");
        if (!cJSON_IsArray(items))
                return pm__buck2_bad(x, t, "attribute '%s' is a concatenation without 'items'",
                                     attr);
        cJSON_ArrayForEach(e, items)
        {
                const cJSON *part;
                cJSON *c;

                r = resolve_value(x, t, attr, e, nest + 1, &part);
                if (r < 0)
                        return r;
                if (!part)
                        continue;
                if (!out) {
                        if (cJSON_IsArray(part))
                                out = cJSON_CreateArray();
                        else if (cJSON_IsObject(part))
                                out = cJSON_CreateObject();
                        else if (cJSON_IsString(part))
                                out = cJSON_CreateString("");
                        else
                                return pm__buck2_bad(x, t, "attribute '%s' concatenates a %s", attr,
                                                     cJSON_IsNumber(part) ? "number" : "boolean");
                        if (!out)
                                return pm__buck2_oom(x);
                        /* Owned by x->scratch from now on, so every exit below is clean. */
                        cJSON_AddItemToArray(x->scratch, out);
                }
                if (cJSON_IsArray(out) && cJSON_IsArray(part)) {
                        const cJSON *i;

                        cJSON_ArrayForEach(i, part)
                        {
                                c = cJSON_Duplicate(i, true);
                                if (!c || !cJSON_AddItemToArray(out, c)) {
                                        cJSON_Delete(c);
                                        return pm__buck2_oom(x);
                                }
                        }
                } else if (cJSON_IsObject(out) && cJSON_IsObject(part)) {
                        const cJSON *i;

                        cJSON_ArrayForEach(i, part)
                        {
                                c = cJSON_Duplicate(i, true);
                                if (!c)
                                        return pm__buck2_oom(x);
                                cJSON_DeleteItemFromObjectCaseSensitive(out, i->string);
                                if (!cJSON_AddItemToObject(out, i->string, c)) {
                                        cJSON_Delete(c);
                                        return pm__buck2_oom(x);
                                }
                        }
                } else if (cJSON_IsString(out) && cJSON_IsString(part)) {
                        char *s = pm_asprintf("%s%s", out->valuestring, part->valuestring);

                        if (!s)
                                return pm__buck2_oom(x);
                        if (!cJSON_SetValuestring(out, s)) {
                                pm_free(s);
                                return pm__buck2_oom(x);
                        }
                        pm_free(s);
                } else {
                        return pm__buck2_bad(
                                x, t, "attribute '%s' concatenates values of different types",
                                attr);
                }
        }
        *ret = out;
        return 0;
}

int
pm__buck2_get_attr(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
                   const cJSON **ret)
{
        return resolve_value(x, t, attr, cJSON_GetObjectItemCaseSensitive(t->obj, attr), 0, ret);
}

int
pm__buck2_get_string(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
                     const char **ret)
{
        const cJSON *v;
        int r = pm__buck2_get_attr(x, t, attr, &v);

        if (r < 0)
                return r;
        if (v && !cJSON_IsString(v))
                return pm__buck2_bad(x, t, "attribute '%s' is not a string", attr);
        *ret = v ? v->valuestring : NULL;
        return 0;
}

/* A list of strings (NULL when absent). */
int
pm__buck2_get_strlist(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
                      const cJSON **ret)
{
        const cJSON *v, *e;
        int r = pm__buck2_get_attr(x, t, attr, &v);

        if (r < 0)
                return r;
        if (v && !cJSON_IsArray(v))
                return pm__buck2_bad(x, t, "attribute '%s' is not a list of strings", attr);
        cJSON_ArrayForEach(e, v)
        {
                if (!cJSON_IsString(e))
                        return pm__buck2_bad(x, t, "attribute '%s' is not a list of strings", attr);
        }
        *ret = v;
        return 0;
}

/* A dict of strings to strings (NULL when absent). */
int
pm__buck2_get_strdict(struct pm__buck2_ctx *x, const struct pm__buck2_target *t, const char *attr,
                      const cJSON **ret)
{
        const cJSON *v, *e;
        int r = pm__buck2_get_attr(x, t, attr, &v);

        if (r < 0)
                return r;
        if (v && !cJSON_IsObject(v))
                return pm__buck2_bad(x, t, "attribute '%s' is not a dict of strings", attr);
        cJSON_ArrayForEach(e, v)
        {
                if (!cJSON_IsString(e))
                        return pm__buck2_bad(x, t, "attribute '%s' is not a dict of strings", attr);
        }
        *ret = v;
        return 0;
}
