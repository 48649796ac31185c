/* SPDX-License-Identifier: MIT */
/* The audit's JSON document (docs/cli.md, `projmodel audit --format json`): one renderer for the
 * command and the daemon's projmodel/audit (docs/protocol.md), so both give the same bytes. */
#include "config.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/audit.h"
#include "projmodel/graph.h"
#include "projmodel/path.h"

struct report {
        const char *root;
};

/* @path relative to the root when under it, else as is. Borrowed from @path. */
static const char *
rel(const struct report *rp, const char *path)
{
        size_t n = strlen(rp->root);

        if (pm_path_is_under(path, rp->root) && path[n] == '/')
                return path + n + 1;
        return path;
}

const char *
pm_audit_lint_name(enum pm_audit_lint_level l)
{
        return l == PM_AUDIT_LINT_FORBID ? "forbid" : l == PM_AUDIT_LINT_DENY ? "deny" : "none";
}

static bool
add_str(cJSON *o, const char *key, const char *v)
{
        return cJSON_AddStringToObject(o, key, v) != NULL;
}

static cJSON *
json_site(const struct report *rp, const struct pm_audit_source *src, const struct pm_audit_site *s)
{
        cJSON *o = cJSON_CreateObject();
        bool ok = o && add_str(o, "kind", pm_audit_kind_name(s->kind)) &&
                  add_str(o, "file", rel(rp, src->path)) &&
                  cJSON_AddNumberToObject(o, "line", s->line) &&
                  cJSON_AddNumberToObject(o, "column", s->column) && add_str(o, "item", s->item) &&
                  cJSON_AddBoolToObject(o, "test", pm_audit_site_in_test(src, s)) &&
                  cJSON_AddBoolToObject(o, "macro_definition",
                                        (s->flags & PM_AUDIT_IN_MACRO_DEF) != 0);

        if (ok && (s->flags & PM_AUDIT_DECL))
                ok = cJSON_AddBoolToObject(o, "declaration", true) != NULL;
        if (ok && (s->kind == PM_AUDIT_EXTERN_BLOCK || s->kind == PM_AUDIT_UNSAFE_EXTERN_BLOCK))
                ok = add_str(o, "abi", s->detail ? s->detail : "") &&
                     cJSON_AddNumberToObject(o, "items", s->n_items) &&
                     cJSON_AddNumberToObject(o, "safe_items", s->n_safe);
        else if (ok && s->detail)
                ok = add_str(o, "attribute", s->detail);
        if (!ok) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

static cJSON *
json_counts(const size_t *counts)
{
        cJSON *o = cJSON_CreateObject();

        for (int k = 0; o && k < _PM_AUDIT_KIND_MAX; k++) {
                if (counts[k] &&
                    !cJSON_AddNumberToObject(o, pm_audit_kind_name(k), (double)counts[k])) {
                        cJSON_Delete(o);
                        return NULL;
                }
        }
        return o;
}

static cJSON *
json_crate(const struct report *rp, const struct pm_audit_crate *ac)
{
        const struct pm_crate *c = ac->crate;
        cJSON *o = cJSON_CreateObject(), *files, *sites;
        bool ok = o && add_str(o, "label", c->label) && add_str(o, "crate_name", c->crate_name) &&
                  add_str(o, "kind", pm_crate_kind_name(c->kind)) &&
                  add_str(o, "edition", c->edition) &&
                  cJSON_AddBoolToObject(o, "first_party", c->is_workspace_member) &&
                  cJSON_AddNumberToObject(o, "unsafe_sites", (double)ac->n_sites) &&
                  cJSON_AddNumberToObject(o, "test_sites", (double)ac->n_test_sites) &&
                  cJSON_AddBoolToObject(o, "root_forbids_unsafe", ac->root_forbids) &&
                  cJSON_AddBoolToObject(o, "root_denies_unsafe", ac->root_denies) &&
                  add_str(o, "build_unsafe_code", pm_audit_lint_name(ac->build_lint));

        if (ok) {
                cJSON *n = json_counts(ac->counts), *t = json_counts(ac->test_counts);

                ok = n && cJSON_AddItemToObject(o, "counts", n);
                if (!ok)
                        cJSON_Delete(n);
                ok = ok && t && cJSON_AddItemToObject(o, "test_counts", t);
                if (!ok)
                        cJSON_Delete(t);
        }
        ok = ok && (files = cJSON_AddArrayToObject(o, "files")) &&
             (sites = cJSON_AddArrayToObject(o, "sites"));
        for (size_t i = 0; ok && i < ac->n_sources; i++) {
                const struct pm_audit_source *src = &ac->sources[i];
                cJSON *f = cJSON_CreateObject();

                ok = f && cJSON_AddItemToArray(files, f) &&
                     add_str(f, "path", rel(rp, src->path)) &&
                     add_str(f, "role", pm_audit_role_name(src->role)) &&
                     cJSON_AddBoolToObject(f, "test",
                                           (src->flags & PM_AUDIT_SRC_TEST) ||
                                                   (src->scan && src->scan->test_only)) &&
                     cJSON_AddBoolToObject(f, "missing", (src->flags & PM_AUDIT_SRC_MISSING) != 0);
                if (!f)
                        break;
                for (size_t k = 0; ok && src->scan && k < src->scan->n_sites; k++) {
                        cJSON *s = json_site(rp, src, &src->scan->sites[k]);

                        ok = s && cJSON_AddItemToArray(sites, s);
                        if (!ok)
                                cJSON_Delete(s);
                }
        }
        if (!ok) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

cJSON *
pm_audit_json(const char *root, const struct pm_audit_crate *const *crates, size_t n)
{
        struct report rp = { root };
        cJSON *doc = cJSON_CreateArray();

        for (size_t i = 0; doc && i < n; i++) {
                cJSON *o = json_crate(&rp, crates[i]);

                if (!o || !cJSON_AddItemToArray(doc, o)) {
                        cJSON_Delete(o);
                        cJSON_Delete(doc);
                        return NULL;
                }
        }
        return doc;
}
