/* SPDX-License-Identifier: MIT */
/* The import of cargo-vet audits.toml files into the audit policy (audit/policy.c): criteria,
 * audits, trusted and wildcard-audits entries, each checked as docs/configuration.md says. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/audit.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "audit-internal.h"
#include "policy-internal.h"

/* The `implies` entries of one [criteria.X] (docs/configuration.md): a definition met again is
 * compared with the first name by name (same_def()), so this bounds that work; cargo-vet's
 * criteria imply one or two others. */
#define MAX_IMPLIES 64

/*
 * An error about @item of the file @path, naming the file and @item's line (@outer's when @item
 * has none, as a number has not: pm__toml_line()), as TOML errors do, so the message (of the
 * form "[[audits.NAME]] entry N: ...") reads "FILE:LINE: ..." (pm_error_format()).
 */
static int __attribute__((format(printf, 6, 7)))
vet_fail(struct pm_error *err, int code, const char *path, const cJSON *item, const cJSON *outer,
         const char *fmt, ...)
{
        char msg[PM_ERROR_MSG_MAX];
        unsigned line = pm__toml_line(item);
        va_list ap;

        if (line == 0)
                line = pm__toml_line(outer);
        va_start(ap, fmt);
        (void)vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return pm_error_set_at(err, code, path, (int)line, 0, "%s", msg);
}

/* A string or an array of strings (@what names the key for the error), as a NULL-terminated
 * arena array in *@ret. */
static int
vet_strings(struct pm_audit_policy *p, const cJSON *v, const cJSON *outer, const char *path,
            const char *where, const char *what, char ***ret, struct pm_error *err)
{
        size_t n = cJSON_IsString(v) ? 1 : cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
        char **out = pm_arena_alloc(p->arena, (n + 1) * sizeof(*out));
        const cJSON *e;
        size_t k = 0;

        if (!out)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (cJSON_IsString(v)) {
                out[k++] = v->valuestring;
        } else if (cJSON_IsArray(v)) {
                cJSON_ArrayForEach(e, v)
                {
                        if (!cJSON_IsString(e))
                                break;
                        out[k++] = e->valuestring;
                }
        }
        if (k == 0 || k != n)
                return vet_fail(err, PM_ECONFIG, path, v, outer,
                                "%s: '%s' must be a criterion name or an array of them", where,
                                what);
        for (size_t i = 0; i < k; i++)
                if (!(out[i] = pm_arena_strdup(p->arena, out[i])))
                        return pm_error_set(err, -ENOMEM, "out of memory");
        out[k] = NULL;
        *ret = out;
        return 0;
}

/* An optional string @key of table @def (an arena copy in *@ret), or PM_ECONFIG. */
static int
def_text(struct pm_audit_policy *p, const cJSON *def, const char *key, const char **ret)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(def, key);

        *ret = NULL;
        if (!v)
                return 0;
        if (!cJSON_IsString(v))
                return PM_ECONFIG;
        *ret = pm_arena_strdup(p->arena, v->valuestring);
        return *ret ? 0 : -ENOMEM;
}

static bool
same_text(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

/* Whether @c says what a new definition of it says: the same texts, the same implies (as sets). */
static bool
same_def(const struct criterion *c, const char *description, const char *url, char **implies)
{
        size_t n = 0;

        if (!same_text(c->description, description) || !same_text(c->url, url))
                return false;
        for (; implies && implies[n]; n++) {
                bool found = false;

                for (size_t i = 0; !found && i < c->n_implies; i++)
                        found = strcmp(c->implies[i], implies[n]) == 0;
                if (!found)
                        return false;
        }
        for (size_t i = 0; i < c->n_implies; i++) {
                bool found = false;

                for (size_t k = 0; !found && k < n; k++)
                        found = strcmp(c->implies[i], implies[k]) == 0;
                if (!found)
                        return false;
        }
        return true;
}

/*
 * [criteria.NAME] of @path. Criteria are one namespace across every imported file (an audit of
 * one file may name a criterion of that file or of one imported before it): the same definition
 * again is accepted, a different one is an error naming both files (docs/configuration.md).
 */
static int
add_def(struct pm_audit_policy *p, const cJSON *parent, const cJSON *def, const char *path,
        struct pm_error *err)
{
        const cJSON *imp = cJSON_GetObjectItemCaseSensitive(def, "implies");
        const struct criterion *old;
        const char *description = NULL, *url = NULL;
        struct criterion *c;
        char **v = NULL;
        char where[300];
        int r;

        (void)snprintf(where, sizeof(where), "[criteria.%s]", def->string);
        if (!cJSON_IsObject(def))
                return vet_fail(err, PM_ECONFIG, path, def, parent, "%s must be a table", where);
        if (pm__policy_builtin_criterion(def->string))
                return vet_fail(err, PM_ECONFIG, path, def, parent,
                                "%s redefines a built-in criterion", where);
        if (imp) {
                r = vet_strings(p, imp, def, path, where, "implies", &v, err);
                if (r < 0)
                        return r;
                if ((size_t)cJSON_GetArraySize(imp) > MAX_IMPLIES)
                        return vet_fail(err, PM_ELIMIT, path, imp, def,
                                        "%s implies more than %d criteria", where, MAX_IMPLIES);
        }
        r = def_text(p, def, "description", &description);
        if (r == 0)
                r = def_text(p, def, "description-url", &url);
        if (r == PM_ECONFIG)
                return vet_fail(err, r, path, def, NULL,
                                "%s: 'description' and 'description-url' must be strings", where);
        if (r < 0)
                return pm_error_set(err, r, "out of memory");
        old = pm__policy_find_def(p, def->string);
        if (old && same_def(old, description, url, v))
                return 0;
        if (old)
                return vet_fail(err, PM_ECONFIG, path, def, NULL,
                                "%s differs from its definition in '%s' (the criteria of all "
                                "imported files are one namespace)",
                                where, old->file);
        if (p->n_defs >= MAX_ENTRIES)
                return vet_fail(err, PM_ELIMIT, path, def, NULL, "too many criteria (at most %d)",
                                MAX_ENTRIES);
        if (pm_grow(&p->defs, &p->cap_defs, p->n_defs + 1, 16) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        c = &p->defs[p->n_defs];
        c->name = pm_arena_strdup(p->arena, def->string);
        c->implies = v;
        c->n_implies = 0;
        c->file = path;
        c->line = pm__toml_line(def);
        c->description = description;
        c->url = url;
        while (v && v[c->n_implies])
                c->n_implies++;
        if (!c->name ||
            pm__index_put(&p->def_index, NULL, c->name, (void *)(uintptr_t)(p->n_defs + 1)) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        p->n_defs++;
        return 0;
}

/* "A -> B" into its two versions (arena copies). */
static int
split_delta(struct pm_audit_policy *p, const char *s, char **a, char **b)
{
        const char *arrow = strstr(s, "->"), *e;

        if (!arrow)
                return PM_ECONFIG;
        for (e = arrow; e > s && e[-1] == ' '; e--)
                ;
        while (*s == ' ')
                s++;
        *a = pm_arena_strndup(p->arena, s, (size_t)(e - s));
        for (s = arrow + 2; *s == ' '; s++)
                ;
        for (e = s + strlen(s); e > s && e[-1] == ' '; e--)
                ;
        *b = pm_arena_strndup(p->arena, s, (size_t)(e - s));
        if (!*a || !*b)
                return -ENOMEM;
        return **a && **b && !strchr(*b, '>') ? 0 : PM_ECONFIG;
}

/* One entry of [[audits.NAME]], [[trusted.NAME]] or [[wildcard-audits.NAME]]. */
static int
add_entry(struct pm_audit_policy *p, const char *table, const cJSON *crate, const cJSON *e,
          size_t index, const char *path, struct pm_error *err)
{
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(e, "version"),
                    *delta = cJSON_GetObjectItemCaseSensitive(e, "delta"),
                    *violation = cJSON_GetObjectItemCaseSensitive(e, "violation");
        enum vet_kind kind = strcmp(table, "audits") != 0
                                     ? (strcmp(table, "trusted") == 0 ? VET_TRUSTED : VET_WILDCARD)
                             : version ? VET_FULL
                             : delta   ? VET_DELTA
                                       : VET_VIOLATION;
        const char *name = crate->string;
        char where[300], **crit = NULL, *from = NULL, *to = NULL;
        int r;

        (void)snprintf(where, sizeof(where), "[[%s.%s]] entry %zu", table, name, index + 1);
        if (!cJSON_IsObject(e))
                return vet_fail(err, PM_ECONFIG, path, e, crate, "%s must be a table", where);
        if (!cJSON_GetObjectItemCaseSensitive(e, "criteria"))
                return vet_fail(err, PM_ECONFIG, path, e, crate, "%s has no 'criteria'", where);
        r = vet_strings(p, cJSON_GetObjectItemCaseSensitive(e, "criteria"), e, path, where,
                        "criteria", &crit, err);
        if (r < 0)
                return r;
        if (kind == VET_FULL || kind == VET_DELTA || kind == VET_VIOLATION) {
                const cJSON *which = version ? version : delta ? delta : violation;

                if ((version != NULL) + (delta != NULL) + (violation != NULL) != 1)
                        return vet_fail(err, PM_ECONFIG, path, e, crate,
                                        "%s needs exactly one of 'version', 'delta' and "
                                        "'violation'",
                                        where);
                if (!cJSON_IsString(which) || !which->valuestring[0])
                        return vet_fail(err, PM_ECONFIG, path, which, e,
                                        "%s: '%s' must be a string", where, which->string);
                if (kind == VET_DELTA) {
                        r = split_delta(p, which->valuestring, &from, &to);
                        if (r == PM_ECONFIG)
                                return vet_fail(err, r, path, which, e,
                                                "%s: delta '%s' is not 'VERSION -> VERSION'", where,
                                                which->valuestring);
                        if (r < 0)
                                return pm_error_set(err, r, "out of memory");
                } else {
                        to = which->valuestring;
                }
                /* A requirement pm__semver_req_matches() cannot read would match no version,
                 * and the crate would pass as audited. */
                if (kind == VET_VIOLATION && !pm__semver_req_valid(to))
                        return vet_fail(err, PM_ECONFIG, path, which, e,
                                        "%s: violation '%s' is not a Cargo version requirement "
                                        "(e.g. '>=1.0.0, <1.6.1')",
                                        where, to);
        }
        for (size_t i = 0; crit[i]; i++) {
                if (!pm__policy_builtin_criterion(crit[i]) && !pm__policy_find_def(p, crit[i]))
                        return vet_fail(err, PM_ECONFIG, path,
                                        cJSON_GetObjectItemCaseSensitive(e, "criteria"), e,
                                        "%s: criterion '%s' is neither safe-to-run, "
                                        "safe-to-deploy nor a [criteria.%s] of this file or an "
                                        "earlier one",
                                        where, crit[i], crit[i]);
                r = pm__policy_add_audited(p, name, strlen(name), crit[i], strlen(crit[i]), kind,
                                           from, to);
                if (r == PM_ELIMIT)
                        return vet_fail(err, r, path, e, crate, "more than %d audit entries",
                                        MAX_ENTRIES);
                if (r < 0)
                        return pm_error_set(err, r, "out of memory");
        }
        return 0;
}

/*
 * cargo-vet's audits.toml as it is (docs/configuration.md, "Audit policy"): its [criteria.X]
 * tables (implies) and every entry of [[audits.NAME]], [[trusted.NAME]] and
 * [[wildcard-audits.NAME]]. Any other table, an entry without criteria, an audit that is not
 * exactly one of version, delta and violation, or a criterion neither the file nor one imported
 * before it defines is an error naming it. Other keys (who, notes, user-id, start, end, ...) are
 * not needed.
 */
static int
import_vet(struct pm_audit_policy *p, const cJSON *doc, const char *path, struct pm_error *err)
{
        static const char *const tables[] = { "audits", "trusted", "wildcard-audits", NULL };
        const cJSON *t, *crate, *e;
        int r = 0;

        cJSON_ArrayForEach(t, doc)
        {
                bool known = strcmp(t->string, "criteria") == 0;

                for (size_t i = 0; tables[i]; i++)
                        known = known || strcmp(t->string, tables[i]) == 0;
                if (!known)
                        return vet_fail(err, PM_ECONFIG, path, t, NULL,
                                        "'%s' is not a table of an audits.toml (it holds criteria, "
                                        "audits, wildcard-audits and trusted)%s",
                                        t->string,
                                        strcmp(t->string, "policy") == 0 ||
                                                        strcmp(t->string, "imports") == 0 ||
                                                        strcmp(t->string, "exemptions") == 0 ||
                                                        strcmp(t->string, "cargo-vet") == 0
                                                ? "; this looks like cargo-vet's config.toml"
                                                : "");
                if (!cJSON_IsObject(t))
                        return vet_fail(err, PM_ECONFIG, path, t, NULL, "'%s' must be a table",
                                        t->string);
        }
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "criteria"))
        {
                r = add_def(p, cJSON_GetObjectItemCaseSensitive(doc, "criteria"), t, path, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; tables[i]; i++)
                cJSON_ArrayForEach(crate, cJSON_GetObjectItemCaseSensitive(doc, tables[i]))
                {
                        size_t k = 0;

                        if (!cJSON_IsArray(crate))
                                return vet_fail(err, PM_ECONFIG, path, crate, NULL,
                                                "'%s.%s' must be an array of tables ([[%s.%s]])",
                                                tables[i], crate->string, tables[i], crate->string);
                        cJSON_ArrayForEach(e, crate)
                        {
                                r = add_entry(p, tables[i], crate, e, k++, path, err);
                                if (r < 0)
                                        return r;
                        }
                }
        for (size_t i = 0; i < p->n_defs; i++)
                for (size_t k = 0; k < p->defs[i].n_implies; k++)
                        if (!pm__policy_builtin_criterion(p->defs[i].implies[k]) &&
                            !pm__policy_find_def(p, p->defs[i].implies[k]))
                                return pm_error_set_at(err, PM_ECONFIG, p->defs[i].file,
                                                       (int)p->defs[i].line, 0,
                                                       "[criteria.%s] implies '%s', which is not "
                                                       "defined",
                                                       p->defs[i].name, p->defs[i].implies[k]);
        return 0;
}

int
pm__vet_load(const struct pm_config *cfg, struct pm_audit_policy *p, const char *rel,
             struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *full = pm_path_normalize(NULL, cfg->root, rel);
        const char *path = full ? pm_arena_strdup(p->arena, full) : NULL;
        cJSON *doc = NULL;
        int r;

        pm_free(full);
        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        /* 64 MiB: Chromium's and Mozilla's aggregated audits.toml are under 2 MiB, and the parse
         * is linear (each key indexed once, audit/toml.c), so this bounds memory, not time; a
         * larger file is an error naming it (pm_strbuf_read_file()). */
        r = pm_strbuf_read_file(&sb, path, (size_t)64 << 20, err);
        if (r < 0)
                pm_error_prefix(err, "audit.cargo_vet_audits");
        if (r == 0)
                r = pm__toml_parse(sb.buf ? sb.buf : "", sb.len, path, &doc, err);
        if (r == 0)
                r = import_vet(p, doc, path, err);
        cJSON_Delete(doc);
        pm_strbuf_release(&sb);
        return r;
}
