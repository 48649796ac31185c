/* SPDX-License-Identifier: MIT */
/* Rule attributes for the Bazel jsonproto parser: strings, lists and dicts, select() branches
 * included. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"

/* ---- attributes -------------------------------------------------------------------------- */

#define MAX_VALUES 64 /* select() elements concatenated in one attribute */

/*
 * The value nodes (key @field, e.g. "stringListValue") of attribute @name of @r: one for a
 * plain attribute, one per select() element (the //conditions:default branch, else the first
 * branch) for an unconfigured query's selectorList. None when the attribute is absent or
 * empty (Bazel omits empty values). Type errors are PM_EBADTOOLOUTPUT naming the target.
 */
static int
attr_values(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
            const char *field, const cJSON **ret, size_t *ret_n)
{
        const cJSON *attr, *sel, *el;
        size_t n = 0;

        *ret_n = 0;
        cJSON_ArrayForEach(attr, r->attrs)
        {
                const cJSON *an = cJSON_GetObjectItemCaseSensitive(attr, "name");

                if (cJSON_IsString(an) && strcmp(an->valuestring, name) == 0)
                        break;
        }
        if (!attr)
                return 0;
        sel = cJSON_GetObjectItemCaseSensitive(attr, "selectorList");
        if (!sel) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(attr, field);

                if (v)
                        ret[n++] = v;
                *ret_n = n;
                return 0;
        }
        el = cJSON_GetObjectItemCaseSensitive(sel, "elements");
        if (!cJSON_IsArray(el))
                return pm__bazel_bad(c, r->label, "has a malformed select() in '%s'", name);
        cJSON_ArrayForEach(sel, el)
        {
                const cJSON *entries = cJSON_GetObjectItemCaseSensitive(sel, "entries");
                const cJSON *e, *pick = NULL;

                if (!cJSON_IsArray(entries))
                        return pm__bazel_bad(c, r->label, "has a malformed select() in '%s'", name);
                cJSON_ArrayForEach(e, entries)
                {
                        const cJSON *l = cJSON_GetObjectItemCaseSensitive(e, "label");

                        if (!pick)
                                pick = e;
                        if (cJSON_IsString(l) &&
                            strcmp(l->valuestring, "//conditions:default") == 0) {
                                pick = e;
                                break;
                        }
                }
                if (!pick)
                        continue;
                if (n == MAX_VALUES)
                        return pm__bazel_bad(c, r->label, "has too many select() elements in '%s'",
                                             name);
                pick = cJSON_GetObjectItemCaseSensitive(pick, field);
                if (pick)
                        ret[n++] = pick;
        }
        *ret_n = n;
        return 0;
}

/* A string attribute ("" when absent). Borrowed from the document. */
int
pm__bazel_attr_string(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                      const char **ret)
{
        const cJSON *v[MAX_VALUES];
        size_t n;
        int e = attr_values(c, r, name, "stringValue", v, &n);

        if (e < 0)
                return e;
        *ret = "";
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsString(v[i]))
                        return pm__bazel_bad(c, r->label, "has a non-string '%s'", name);
                if (*v[i]->valuestring)
                        *ret = v[i]->valuestring;
        }
        return 0;
}

/* Call @cb for each string of list attribute @name. */
int
pm__bazel_attr_list(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                    pm__bazel_item_cb cb, void *data)
{
        const cJSON *v[MAX_VALUES], *it;
        size_t n, count = 0;
        int e = attr_values(c, r, name, "stringListValue", v, &n);

        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsArray(v[i]))
                        return pm__bazel_bad(c, r->label, "has a non-list '%s'", name);
                cJSON_ArrayForEach(it, v[i])
                {
                        if (!cJSON_IsString(it))
                                return pm__bazel_bad(c, r->label, "has a non-string item in '%s'",
                                                     name);
                        if (++count > PM_BAZEL_MAX_LIST)
                                return pm__bazel_bad(c, r->label, "has too many items in '%s'",
                                                     name);
                        e = cb(c, r, NULL, it->valuestring, data);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}

/* Call @cb for each {key, value} of dict attribute @name (@field: its value key). */
int
pm__bazel_attr_dict(struct pm__bazel_ctx *c, const struct pm__bazel_rule *r, const char *name,
                    const char *field, pm__bazel_item_cb cb, void *data)
{
        const cJSON *v[MAX_VALUES], *it;
        size_t n, count = 0;
        int e = attr_values(c, r, name, field, v, &n);

        if (e < 0)
                return e;
        for (size_t i = 0; i < n; i++) {
                if (!cJSON_IsArray(v[i]))
                        return pm__bazel_bad(c, r->label, "has a non-dict '%s'", name);
                cJSON_ArrayForEach(it, v[i])
                {
                        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "key");
                        const cJSON *val = cJSON_GetObjectItemCaseSensitive(it, "value");

                        if (!cJSON_IsString(k) || (val && !cJSON_IsString(val)))
                                return pm__bazel_bad(c, r->label, "has a malformed entry in '%s'",
                                                     name);
                        if (++count > PM_BAZEL_MAX_LIST)
                                return pm__bazel_bad(c, r->label, "has too many items in '%s'",
                                                     name);
                        e = cb(c, r, k->valuestring, val ? val->valuestring : "", data);
                        if (e < 0)
                                return e;
                }
        }
        return 0;
}
