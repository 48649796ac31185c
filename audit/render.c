/* SPDX-License-Identifier: MIT */
/* The audit's documents (docs/cli.md, `projmodel audit --format text|json|sarif`): one renderer
 * for the command and the daemon's projmodel/audit (docs/protocol.md), so both give the same
 * bytes. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

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
pm_audit_json_crate(const char *root, const struct pm_audit_crate *ac)
{
        struct report rp = { root };

        return json_crate(&rp, ac);
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

/* ---- text ---- */

static int
text_crate(struct pm_strbuf *sb, const struct report *rp, const struct pm_audit_crate *ac)
{
        const struct pm_crate *c = ac->crate;
        int r;

        r = pm_strbuf_addf(
                sb, "%s (%s, %s): %zu unsafe site%s, %zu in tests; unsafe_code: %s%s\n", c->label,
                pm_crate_kind_name(c->kind), c->is_workspace_member ? "first-party" : "third-party",
                ac->n_sites, ac->n_sites == 1 ? "" : "s", ac->n_test_sites,
                ac->root_forbids  ? "forbidden by the root"
                : ac->root_denies ? "denied by the root"
                                  : "allowed by the root",
                ac->build_lint != PM_AUDIT_LINT_NONE
                        ? (ac->build_lint == PM_AUDIT_LINT_FORBID ? ", forbidden by the build"
                                                                  : ", denied by the build")
                        : "");
        for (int k = 0; r == 0 && k < _PM_AUDIT_KIND_MAX; k++)
                if (ac->counts[k] || ac->test_counts[k])
                        r = pm_strbuf_addf(sb, "  %-22s %zu%s%.0zu%s\n", pm_audit_kind_name(k),
                                           ac->counts[k], ac->test_counts[k] ? " (+" : "",
                                           ac->test_counts[k],
                                           ac->test_counts[k] ? " in tests)" : "");
        for (size_t i = 0; r == 0 && i < ac->n_sources; i++) {
                const struct pm_audit_source *src = &ac->sources[i];

                if (src->flags & PM_AUDIT_SRC_MISSING) {
                        r = pm_strbuf_addf(sb, "  %s: %s file not found\n", rel(rp, src->path),
                                           pm_audit_role_name(src->role));
                        continue;
                }
                for (size_t k = 0; r == 0 && k < src->scan->n_sites; k++) {
                        const struct pm_audit_site *s = &src->scan->sites[k];

                        r = pm_strbuf_addf(sb, "  %s:%u:%u: %s%s%s%s%s\n", rel(rp, src->path),
                                           s->line, s->column, pm_audit_kind_description(s->kind),
                                           s->item[0] ? " in " : "", s->item,
                                           pm_audit_site_in_test(src, s) ? " [test]" : "",
                                           (s->flags & PM_AUDIT_IN_MACRO_DEF)
                                                   ? " [in a macro definition]"
                                                   : "");
                }
        }
        return r;
}

/* ---- SARIF 2.1.0 ---- */

static cJSON *
sarif_result(const struct report *rp, const struct pm_audit_crate *ac,
             const struct pm_audit_source *src, const struct pm_audit_site *s)
{
        const char *file = rel(rp, src->path);
        bool under = file != src->path;
        char *msg = pm_asprintf("%s%s%s%s (crate %s)", pm_audit_kind_description(s->kind),
                                s->item[0] ? " in `" : "", s->item, s->item[0] ? "`" : "",
                                ac->crate->label);
        char *uri = under ? NULL : pm_asprintf("file://%s", src->path);
        cJSON *o = cJSON_CreateObject(), *loc, *phys, *art, *reg, *logical, *props, *ll;
        bool ok = msg && (under || uri) && o && add_str(o, "ruleId", pm_audit_kind_name(s->kind)) &&
                  cJSON_AddNumberToObject(o, "ruleIndex", s->kind) && add_str(o, "level", "note") &&
                  cJSON_AddObjectToObject(o, "message") &&
                  add_str(cJSON_GetObjectItem(o, "message"), "text", msg) &&
                  (loc = cJSON_AddArrayToObject(o, "locations"));

        ok = ok && (phys = cJSON_CreateObject()) && cJSON_AddItemToArray(loc, phys);
        ok = ok && (art = cJSON_AddObjectToObject(phys, "physicalLocation"));
        ok = ok && (reg = cJSON_AddObjectToObject(art, "artifactLocation")) &&
             add_str(reg, "uri", under ? file : uri) &&
             (!under || add_str(reg, "uriBaseId", "SRCROOT"));
        ok = ok && (reg = cJSON_AddObjectToObject(art, "region")) &&
             cJSON_AddNumberToObject(reg, "startLine", s->line) &&
             cJSON_AddNumberToObject(reg, "startColumn", s->column);
        if (ok && s->item[0]) {
                ok = (logical = cJSON_AddArrayToObject(phys, "logicalLocations")) &&
                     (ll = cJSON_CreateObject()) && cJSON_AddItemToArray(logical, ll) &&
                     add_str(ll, "fullyQualifiedName", s->item);
        }
        ok = ok && (props = cJSON_AddObjectToObject(o, "properties")) &&
             add_str(props, "crate", ac->crate->label) &&
             cJSON_AddBoolToObject(props, "test", pm_audit_site_in_test(src, s)) &&
             cJSON_AddBoolToObject(props, "macroDefinition",
                                   (s->flags & PM_AUDIT_IN_MACRO_DEF) != 0);
        pm_free(msg);
        pm_free(uri);
        if (!ok) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* Append @ac's results to the array @results; false when out of memory. */
static bool
sarif_add_results(const struct report *rp, const struct pm_audit_crate *ac, cJSON *results)
{
        bool ok = true;

        for (size_t j = 0; ok && j < ac->n_sources; j++) {
                const struct pm_audit_source *src = &ac->sources[j];

                for (size_t k = 0; ok && src->scan && k < src->scan->n_sites; k++) {
                        cJSON *res = sarif_result(rp, ac, src, &src->scan->sites[k]);

                        ok = res && cJSON_AddItemToArray(results, res);
                        if (!ok)
                                cJSON_Delete(res);
                }
        }
        return ok;
}

static cJSON *
sarif_log(const struct report *rp, const struct pm_audit_crate *const *crates, size_t n)
{
        cJSON *log = cJSON_CreateObject(), *runs = NULL, *run = NULL, *driver = NULL, *rules = NULL,
              *results = NULL, *base = NULL;
        char *root_uri = pm_asprintf("file://%s/", rp->root);
        bool ok =
                log && root_uri &&
                add_str(log, "$schema", "https://json.schemastore.org/sarif-2.1.0.json") &&
                add_str(log, "version", "2.1.0") && (runs = cJSON_AddArrayToObject(log, "runs")) &&
                (run = cJSON_CreateObject()) && cJSON_AddItemToArray(runs, run) &&
                (driver =
                         cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver")) &&
                add_str(driver, "name", "projmodel") && add_str(driver, "version", PM_VERSION) &&
                (rules = cJSON_AddArrayToObject(driver, "rules"));

        for (int k = 0; ok && k < _PM_AUDIT_KIND_MAX; k++) {
                cJSON *rule = cJSON_CreateObject();

                ok = rule && cJSON_AddItemToArray(rules, rule) &&
                     add_str(rule, "id", pm_audit_kind_name(k)) &&
                     add_str(cJSON_AddObjectToObject(rule, "shortDescription"), "text",
                             pm_audit_kind_description(k));
        }
        ok = ok && (base = cJSON_AddObjectToObject(run, "originalUriBaseIds")) &&
             add_str(cJSON_AddObjectToObject(base, "SRCROOT"), "uri", root_uri) &&
             (results = cJSON_AddArrayToObject(run, "results"));
        for (size_t i = 0; ok && i < n; i++)
                ok = sarif_add_results(rp, crates[i], results);
        pm_free(root_uri);
        if (!ok) {
                cJSON_Delete(log);
                return NULL;
        }
        return log;
}

cJSON *
pm_audit_sarif(const char *root, const struct pm_audit_crate *const *crates, size_t n)
{
        struct report rp = { root };

        return sarif_log(&rp, crates, n);
}

cJSON *
pm_audit_sarif_results(const char *root, const struct pm_audit_crate *ac)
{
        struct report rp = { root };
        cJSON *results = cJSON_CreateArray();

        if (results && !sarif_add_results(&rp, ac, results))
                results = (cJSON_Delete(results), NULL);
        return results;
}

int
pm_audit_text_crate(struct pm_strbuf *sb, const char *root, const struct pm_audit_crate *ac)
{
        struct report rp = { root };

        return text_crate(sb, &rp, ac);
}

int
pm_audit_text(struct pm_strbuf *sb, const char *root, const struct pm_audit_crate *const *crates,
              size_t n)
{
        struct report rp = { root };
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++) {
                if (i > 0)
                        r = pm_strbuf_addch(sb, '\n');
                if (r == 0)
                        r = text_crate(sb, &rp, crates[i]);
        }
        return r;
}

int
pm_audit_format_parse(const char *name, enum pm_audit_format *ret)
{
        static const char *const names[] = { "text", "json", "sarif" };

        for (int i = 0; i < 3; i++)
                if (strcmp(name, names[i]) == 0) {
                        *ret = (enum pm_audit_format)i;
                        return 0;
                }
        return PM_ENOTFOUND;
}

int
pm_audit_render(struct pm_strbuf *sb, enum pm_audit_format format, const char *root,
                const struct pm_audit_crate *const *crates, size_t n)
{
        cJSON *doc;
        char *s;
        int r;

        if (format == PM_AUDIT_FORMAT_TEXT)
                return pm_audit_text(sb, root, crates, n);
        doc = format == PM_AUDIT_FORMAT_SARIF ? pm_audit_sarif(root, crates, n)
                                              : pm_audit_json(root, crates, n);
        s = doc ? cJSON_Print(doc) : NULL;
        r = s ? pm_strbuf_adds(sb, s) : -ENOMEM;
        if (r == 0)
                r = pm_strbuf_addch(sb, '\n');
        cJSON_free(s);
        cJSON_Delete(doc);
        return r;
}
