/* SPDX-License-Identifier: MIT */
/* One file's scan as bytes and back, so the model can keep it between audits: a compact JSON
 * object {"v":1,"f":forbid,"d":deny,"t":test_only,"e":lex_errors,"s":[sites],"m":[mods],
 * "i":[includes]} with each entry an array. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "audit-internal.h"

#define CODEC_VERSION 1

static cJSON *
str_or_null(const char *s)
{
        return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Append the items to the array @a; false on OOM (what was made is freed). */
static bool
push_all(cJSON *a, cJSON **items, size_t n)
{
        bool ok = true;

        for (size_t i = 0; i < n; i++) {
                if (!ok || !items[i] || !cJSON_AddItemToArray(a, items[i])) {
                        cJSON_Delete(items[i]);
                        ok = false;
                }
        }
        return ok;
}

int
pm_audit_file_encode(const struct pm_audit_file *f, struct pm_strbuf *out)
{
        cJSON *o = cJSON_CreateObject(), *s, *m, *inc;
        char *text = NULL;
        bool ok = o && cJSON_AddNumberToObject(o, "v", CODEC_VERSION) &&
                  cJSON_AddBoolToObject(o, "f", f->forbid_unsafe) &&
                  cJSON_AddBoolToObject(o, "d", f->deny_unsafe) &&
                  cJSON_AddBoolToObject(o, "t", f->test_only) &&
                  cJSON_AddNumberToObject(o, "e", f->lex_errors) &&
                  (s = cJSON_AddArrayToObject(o, "s")) && (m = cJSON_AddArrayToObject(o, "m")) &&
                  (inc = cJSON_AddArrayToObject(o, "i"));
        int r;

        for (size_t k = 0; ok && k < f->n_sites; k++) {
                const struct pm_audit_site *x = &f->sites[k];
                cJSON *e = cJSON_CreateArray();
                cJSON *items[] = { cJSON_CreateNumber(x->kind),    cJSON_CreateNumber(x->line),
                                   cJSON_CreateNumber(x->column),  cJSON_CreateNumber(x->flags),
                                   str_or_null(x->item),           str_or_null(x->detail),
                                   cJSON_CreateNumber(x->n_items), cJSON_CreateNumber(x->n_safe) };

                ok = push_all(e ? e : s, items, sizeof(items) / sizeof(items[0])) && e &&
                     cJSON_AddItemToArray(s, e);
                if (!ok)
                        cJSON_Delete(e);
        }
        for (size_t k = 0; ok && k < f->n_mods; k++) {
                const struct pm_audit_mod *x = &f->mods[k];
                cJSON *e = cJSON_CreateArray();
                cJSON *items[] = { str_or_null(x->name), str_or_null(x->path_attr),
                                   str_or_null(x->inline_dir), cJSON_CreateNumber(x->line),
                                   cJSON_CreateNumber(x->flags) };

                ok = push_all(e ? e : m, items, sizeof(items) / sizeof(items[0])) && e &&
                     cJSON_AddItemToArray(m, e);
                if (!ok)
                        cJSON_Delete(e);
        }
        for (size_t k = 0; ok && k < f->n_includes; k++) {
                const struct pm_audit_include *x = &f->includes[k];
                cJSON *e = cJSON_CreateArray();
                cJSON *items[] = { str_or_null(x->path), cJSON_CreateNumber(x->line),
                                   cJSON_CreateNumber(x->flags) };

                ok = push_all(e ? e : inc, items, sizeof(items) / sizeof(items[0])) && e &&
                     cJSON_AddItemToArray(inc, e);
                if (!ok)
                        cJSON_Delete(e);
        }
        text = ok ? cJSON_PrintUnformatted(o) : NULL;
        r = text ? pm_strbuf_adds(out, text) : -ENOMEM;
        cJSON_free(text);
        cJSON_Delete(o);
        return r;
}

/* Element @i of array @a as a number in [0, @max], else false. */
static bool
num(const cJSON *a, int i, double max, unsigned *ret)
{
        const cJSON *x = cJSON_GetArrayItem(a, i);

        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > max)
                return false;
        *ret = (unsigned)x->valuedouble;
        return true;
}

/* Element @i as an arena string (NULL for JSON null when @nullable); false if malformed/OOM. */
static bool
str(struct pm_arena *ar, const cJSON *a, int i, bool nullable, char **ret, bool *oom)
{
        const cJSON *x = cJSON_GetArrayItem(a, i);

        if (nullable && cJSON_IsNull(x)) {
                *ret = NULL;
                return true;
        }
        if (!cJSON_IsString(x))
                return false;
        *ret = pm_arena_strdup(ar, x->valuestring);
        if (!*ret)
                *oom = true;
        return *ret != NULL;
}

int
pm_audit_file_decode(const char *data, size_t len, struct pm_audit_file *ret, struct pm_error *err)
{
        cJSON *o = cJSON_ParseWithLength(data, len);
        const cJSON *s = cJSON_GetObjectItem(o, "s"), *m = cJSON_GetObjectItem(o, "m");
        const cJSON *inc = cJSON_GetObjectItem(o, "i"), *v = cJSON_GetObjectItem(o, "v");
        struct pm_audit_file f = { 0 };
        struct pm_arena *ar = NULL;
        bool oom = false, ok;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        ok = cJSON_IsNumber(v) && v->valueint == CODEC_VERSION && cJSON_IsArray(s) &&
             cJSON_IsArray(m) && cJSON_IsArray(inc);
        if (!ok)
                goto bad;
        f.forbid_unsafe = cJSON_IsTrue(cJSON_GetObjectItem(o, "f"));
        f.deny_unsafe = cJSON_IsTrue(cJSON_GetObjectItem(o, "d"));
        f.test_only = cJSON_IsTrue(cJSON_GetObjectItem(o, "t"));
        if (cJSON_IsNumber(cJSON_GetObjectItem(o, "e")))
                f.lex_errors = (unsigned)cJSON_GetObjectItem(o, "e")->valuedouble;
        ar = pm_arena_new();
        f.n_sites = (size_t)cJSON_GetArraySize(s);
        f.n_mods = (size_t)cJSON_GetArraySize(m);
        f.n_includes = (size_t)cJSON_GetArraySize(inc);
        f.sites = pm_calloc(f.n_sites ? f.n_sites : 1, sizeof(*f.sites));
        f.mods = pm_calloc(f.n_mods ? f.n_mods : 1, sizeof(*f.mods));
        f.includes = pm_calloc(f.n_includes ? f.n_includes : 1, sizeof(*f.includes));
        f.priv_ = ar;
        if (!ar || !f.sites || !f.mods || !f.includes) {
                oom = true;
                goto bad;
        }
        for (size_t k = 0; k < f.n_sites; k++) {
                const cJSON *x = cJSON_GetArrayItem(s, (int)k);
                struct pm_audit_site *y = &f.sites[k];
                unsigned kind;

                if (!num(x, 0, _PM_AUDIT_KIND_MAX - 1, &kind) || !num(x, 1, 4e9, &y->line) ||
                    !num(x, 2, 4e9, &y->column) || !num(x, 3, 7, &y->flags) ||
                    !str(ar, x, 4, false, &y->item, &oom) ||
                    !str(ar, x, 5, true, &y->detail, &oom) || !num(x, 6, 4e9, &y->n_items) ||
                    !num(x, 7, 4e9, &y->n_safe))
                        goto bad;
                y->kind = (enum pm_audit_kind)kind;
        }
        for (size_t k = 0; k < f.n_mods; k++) {
                const cJSON *x = cJSON_GetArrayItem(m, (int)k);
                struct pm_audit_mod *y = &f.mods[k];

                if (!str(ar, x, 0, false, &y->name, &oom) ||
                    !str(ar, x, 1, true, &y->path_attr, &oom) ||
                    !str(ar, x, 2, false, &y->inline_dir, &oom) || !num(x, 3, 4e9, &y->line) ||
                    !num(x, 4, 7, &y->flags))
                        goto bad;
        }
        for (size_t k = 0; k < f.n_includes; k++) {
                const cJSON *x = cJSON_GetArrayItem(inc, (int)k);
                struct pm_audit_include *y = &f.includes[k];

                if (!str(ar, x, 0, true, &y->path, &oom) || !num(x, 1, 4e9, &y->line) ||
                    !num(x, 2, 7, &y->flags))
                        goto bad;
        }
        cJSON_Delete(o);
        *ret = f;
        return 0;
bad:
        r = oom ? pm_error_set(err, -ENOMEM, "out of memory decoding an audit record")
                : pm_error_set(err, PM_EPARSE, "malformed audit record");
        cJSON_Delete(o);
        pm_audit_file_release(&f);
        return r;
}
