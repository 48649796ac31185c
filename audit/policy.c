/* SPDX-License-Identifier: MIT */
/* The audit policy of .projmodel.json ("audit": allow_unsafe, require_forbid, owners, audited,
 * cargo_vet_audits, criteria), with the cargo-vet audits.toml files it names (audit/vet.c);
 * decides nothing about crates itself (cli/cmd-audit.c applies it). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/audit.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "audit-internal.h"
#include "policy-internal.h"

static const char *const known_keys[] = { "allow_unsafe",     "require_forbid", "owners", "audited",
                                          "cargo_vet_audits", "criteria",       NULL };

struct pm_audit_policy *
pm_audit_policy_free(struct pm_audit_policy *p)
{
        if (!p)
                return NULL;
        pm_free(p->audited);
        pm_free(p->defs);
        pm__index_release(&p->def_index);
        pm_arena_free(p->arena);
        pm_free(p);
        return NULL;
}

static int
bad(const struct pm_config *cfg, struct pm_error *err, const char *key, const char *what)
{
        return pm_error_set(err, PM_ECONFIG, "invalid '%s': 'audit.%s' %s",
                            cfg->file ? cfg->file : ".projmodel.json", key, what);
}

/* "x*" is the prefix "x". */
static char *
prefix_of(struct pm_arena *ar, const char *s)
{
        size_t n = strlen(s);

        return pm_arena_strndup(ar, s, n && s[n - 1] == '*' ? n - 1 : n);
}

int
pm__policy_add_audited(struct pm_audit_policy *p, const char *name, size_t name_len,
                       const char *criterion, size_t crit_len, enum vet_kind kind, const char *from,
                       const char *to)
{
        struct audited *a;

        if (p->n_audited >= MAX_ENTRIES)
                return PM_ELIMIT;
        if (pm_grow(&p->audited, &p->cap_audited, p->n_audited + 1, 32) < 0)
                return -ENOMEM;
        a = &p->audited[p->n_audited];
        a->name = pm_arena_strndup(p->arena, name, name_len);
        a->criterion = pm_arena_strndup(p->arena, criterion, crit_len);
        a->kind = kind;
        a->from = from ? pm_arena_strdup(p->arena, from) : NULL;
        a->to = to ? pm_arena_strdup(p->arena, to) : NULL;
        if (!a->name || !a->criterion || (from && !a->from) || (to && !a->to))
                return -ENOMEM;
        p->n_audited++;
        return 0;
}

bool
pm__policy_builtin_criterion(const char *name)
{
        return strcmp(name, "safe-to-deploy") == 0 || strcmp(name, "safe-to-run") == 0;
}

const struct criterion *
pm__policy_find_def(const struct pm_audit_policy *p, const char *name)
{
        uintptr_t i = (uintptr_t)pm__index_get(&p->def_index, NULL, name);

        return i ? &p->defs[i - 1] : NULL;
}

static bool
implies_directly(const char *have, const char *want)
{
        return strcmp(have, want) == 0 ||
               (strcmp(have, "safe-to-deploy") == 0 && strcmp(want, "safe-to-run") == 0);
}

/*
 * Fill each entry's certifies and violated_by_want: whether its criterion implies the policy's
 * criteria W, and whether W implies it. Implying is the same name, safe-to-deploy for
 * safe-to-run, or the `implies` of the imported [criteria.X] tables, followed transitively (an
 * imported file's implies may repeat a name or form a cycle). Two walks in all, each criterion
 * once: forward from W (@want[i]: W implies p->defs[i]) and backward over the implies edges
 * from the criteria whose implies name W or, when W is safe-to-run, safe-to-deploy (@cert[i]:
 * p->defs[i] implies W); a walk per entry was 10^10 steps for 100,000 entries over a chain of
 * 100,000 criteria. Every implies name is built in or defined (audit/vet.c checks), so what W
 * reaches is W, defined criteria and the two built-in ones.
 */
static int
criteria_flags(struct pm_audit_policy *p)
{
        size_t n = p->n_defs, n_edges = 0, k = 0;
        const struct criterion *d = pm__policy_find_def(p, p->criteria);
        bool run = strcmp(p->criteria, "safe-to-run") == 0,
             deploy = strcmp(p->criteria, "safe-to-deploy") == 0;
        bool *want, *cert;
        size_t *queue, *pos, *from;
        int r = 0;

        for (size_t i = 0; i < n; i++)
                n_edges += p->defs[i].n_implies;
        want = pm_calloc(n + 1, sizeof(*want));
        cert = pm_calloc(n + 1, sizeof(*cert));
        queue = pm_calloc(n + 1, sizeof(*queue));
        pos = pm_calloc(n + 1, sizeof(*pos));
        from = pm_calloc(n_edges + 1, sizeof(*from));
        if (!want || !cert || !queue || !pos || !from) {
                r = -ENOMEM;
                goto out;
        }
        /* Forward from W: what it implies. */
        if (d) {
                want[d - p->defs] = true;
                queue[k++] = (size_t)(d - p->defs);
        }
        for (size_t q = 0; q < k; q++) {
                d = &p->defs[queue[q]];
                for (size_t i = 0; i < d->n_implies; i++) {
                        const struct criterion *e = pm__policy_find_def(p, d->implies[i]);

                        run = run || strcmp(d->implies[i], "safe-to-run") == 0;
                        deploy = deploy || strcmp(d->implies[i], "safe-to-deploy") == 0;
                        if (e && !want[e - p->defs]) {
                                want[e - p->defs] = true;
                                queue[k++] = (size_t)(e - p->defs);
                        }
                }
        }
        /* The reversed edges: from[pos[e] .. pos[e + 1]) are the criteria whose implies name
         * p->defs[e] (counted, summed, then filled from each range's end down to its start). */
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < p->defs[i].n_implies; j++)
                        if ((d = pm__policy_find_def(p, p->defs[i].implies[j])))
                                pos[d - p->defs]++;
        for (size_t i = 1; i <= n; i++)
                pos[i] += pos[i - 1];
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < p->defs[i].n_implies; j++)
                        if ((d = pm__policy_find_def(p, p->defs[i].implies[j])))
                                from[--pos[d - p->defs]] = i;
        /* Backward from the criteria whose implies name W (or safe-to-deploy for safe-to-run). */
        k = 0;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; !cert[i] && j < p->defs[i].n_implies; j++)
                        if (implies_directly(p->defs[i].implies[j], p->criteria)) {
                                cert[i] = true;
                                queue[k++] = i;
                        }
        for (size_t q = 0; q < k; q++)
                for (size_t j = pos[queue[q]]; j < pos[queue[q] + 1]; j++)
                        if (!cert[from[j]]) {
                                cert[from[j]] = true;
                                queue[k++] = from[j];
                        }
        for (size_t i = 0; i < p->n_audited; i++) {
                struct audited *a = &p->audited[i];
                const char *c = a->criterion;
                size_t x;

                d = pm__policy_find_def(p, c);
                x = d ? (size_t)(d - p->defs) : n;
                a->certifies = implies_directly(c, p->criteria) || cert[x];
                a->violated_by_want = strcmp(c, p->criteria) == 0 || want[x] ||
                                      (deploy && implies_directly("safe-to-deploy", c)) ||
                                      (run && strcmp(c, "safe-to-run") == 0);
        }
out:
        pm_free(want);
        pm_free(cert);
        pm_free(queue);
        pm_free(pos);
        pm_free(from);
        return r;
}

/* A string or an array of strings, as arena copies appended to *@v. */
static int
strings(struct pm_audit_policy *p, const cJSON *item, char ***v, size_t *n)
{
        size_t count = cJSON_IsString(item) ? 1 : (size_t)cJSON_GetArraySize(item);
        char **out = pm_arena_alloc(p->arena, (count + 1) * sizeof(*out));
        const cJSON *e;
        size_t k = 0;

        if (!out)
                return -ENOMEM;
        if (cJSON_IsString(item)) {
                out[k++] = item->valuestring;
        } else {
                cJSON_ArrayForEach(e, item)
                {
                        if (!cJSON_IsString(e))
                                return PM_ECONFIG;
                        out[k++] = e->valuestring;
                }
        }
        *v = out;
        *n = k;
        return 0;
}

/* strings() of @item when it is an array (or, with @one, a string), else bad() with @what for
 * @key; out of memory says so. */
static int
key_strings(const struct pm_config *cfg, struct pm_audit_policy *p, const cJSON *item, bool one,
            const char *key, const char *what, char ***v, size_t *n, struct pm_error *err)
{
        int r = cJSON_IsArray(item) || (one && cJSON_IsString(item)) ? strings(p, item, v, n)
                                                                     : PM_ECONFIG;

        if (r == PM_ECONFIG)
                return bad(cfg, err, key, what);
        if (r < 0)
                return pm_error_set(err, r, "out of memory");
        return 0;
}

/* Entries by crate name, then by the version they certify (or violate), so that a crate's
 * entries, and those reaching one version of it, are found by binary search (find()). */
static int
cmp_key(const struct audited *a, const char *name, const char *to)
{
        int c = strcmp(a->name, name);

        return c || !to ? c : strcmp(a->to ? a->to : "", to);
}

static int
cmp_audited(const void *x, const void *y)
{
        const struct audited *b = y;

        return cmp_key(x, b->name, b->to ? b->to : "");
}

/* The entries of @name (with @to NULL) or of @name certifying @to: [return, *@end). */
static size_t
find(const struct pm_audit_policy *p, const char *name, const char *to, size_t *end)
{
        size_t lo = 0, hi = p->n_audited, first;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cmp_key(&p->audited[mid], name, to) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        first = lo;
        hi = p->n_audited;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cmp_key(&p->audited[mid], name, to) <= 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *end = lo;
        return first;
}

int
pm_audit_policy_load(const struct pm_config *cfg, struct pm_audit_policy **ret,
                     struct pm_error *err)
{
        const cJSON *sec = cfg->json ? cJSON_GetObjectItemCaseSensitive(cfg->json, "audit") : NULL;
        struct pm_audit_policy *p = pm_calloc(1, sizeof(*p));
        const cJSON *item;
        char **v;
        size_t n;
        int r = 0;

        if (!p || !(p->arena = pm_arena_new())) {
                pm_audit_policy_free(p);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        p->criteria = "safe-to-deploy";
        if (!sec)
                goto out;
        p->present = true;
        r = pm_config_check_section(cfg, sec, "audit", known_keys, err);
        if (r < 0)
                goto out;
        item = cJSON_GetObjectItemCaseSensitive(sec, "allow_unsafe");
        if (item) {
                r = key_strings(cfg, p, item, false, "allow_unsafe",
                                "must be an array of label prefixes", &v, &n, err);
                for (size_t i = 0; r == 0 && i < n; i++)
                        if (!(v[i] = prefix_of(p->arena, v[i])))
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                if (r < 0)
                        goto out;
                p->allow = v;
                p->n_allow = n;
        }
        item = cJSON_GetObjectItemCaseSensitive(sec, "require_forbid");
        if (item && !cJSON_IsBool(item)) {
                r = bad(cfg, err, "require_forbid", "must be true or false");
                goto out;
        }
        p->require_forbid = cJSON_IsTrue(item);
        item = cJSON_GetObjectItemCaseSensitive(sec, "criteria");
        if (item && !cJSON_IsString(item)) {
                r = bad(cfg, err, "criteria", "must be a string");
                goto out;
        }
        if (item && !(p->criteria = pm_arena_strdup(p->arena, item->valuestring))) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        item = cJSON_GetObjectItemCaseSensitive(sec, "owners");
        if (item) {
                const cJSON *e;

                if (!cJSON_IsObject(item)) {
                        r = bad(cfg, err, "owners", "must be an object of prefix: [reviewers]");
                        goto out;
                }
                p->owners = pm_arena_alloc(p->arena, ((size_t)cJSON_GetArraySize(item) + 1) *
                                                             sizeof(*p->owners));
                if (!p->owners) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                cJSON_ArrayForEach(e, item)
                {
                        struct owner *o = &p->owners[p->n_owners];

                        r = key_strings(cfg, p, e, true, "owners",
                                        "values must be lists of reviewers", &o->who, &n, err);
                        if (r < 0)
                                goto out;
                        if (!(o->prefix = prefix_of(p->arena, e->string))) {
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                goto out;
                        }
                        p->n_owners++;
                }
        }
        item = cJSON_GetObjectItemCaseSensitive(sec, "audited");
        if (item) {
                const cJSON *e;

                if (!cJSON_IsObject(item)) {
                        r = bad(cfg, err, "audited", "must be an object of crate: criteria");
                        goto out;
                }
                cJSON_ArrayForEach(e, item)
                {
                        r = key_strings(cfg, p, e, true, "audited", "values must be criteria names",
                                        &v, &n, err);
                        if (r < 0)
                                goto out;
                        for (size_t i = 0; r == 0 && i < n; i++)
                                r = pm__policy_add_audited(p, e->string, strlen(e->string), v[i],
                                                           strlen(v[i]), VET_INLINE, NULL, NULL);
                        if (r < 0) {
                                r = r == PM_ELIMIT
                                            ? bad(cfg, err, "audited", "has too many entries")
                                            : pm_error_set(err, r, "out of memory");
                                goto out;
                        }
                }
        }
        item = cJSON_GetObjectItemCaseSensitive(sec, "cargo_vet_audits");
        if (item) {
                r = key_strings(cfg, p, item, true, "cargo_vet_audits",
                                "must be a path or a list of paths", &v, &n, err);
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = pm__vet_load(cfg, p, v[i], err);
        }
out:
        /* Every failure above set its own message (one naming the file, the entry or the limit),
         * which the caller shows as is. */
        if (r == 0 && (r = criteria_flags(p)) < 0)
                r = pm_error_set(err, r, "out of memory");
        if (r == 0 && p->n_audited > 1)
                qsort(p->audited, p->n_audited, sizeof(*p->audited), cmp_audited);
        if (r < 0) {
                pm_audit_policy_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

bool
pm_audit_policy_present(const struct pm_audit_policy *p)
{
        return p->present;
}

bool
pm_audit_policy_allows_unsafe(const struct pm_audit_policy *p, const char *label)
{
        if (!p->present)
                return true;
        for (size_t i = 0; i < p->n_allow; i++)
                if (strncmp(label, p->allow[i], strlen(p->allow[i])) == 0)
                        return true;
        return false;
}

bool
pm_audit_policy_requires_forbid(const struct pm_audit_policy *p)
{
        return p->require_forbid;
}

const char *const *
pm_audit_policy_owners(const struct pm_audit_policy *p, const char *label)
{
        const struct owner *best = NULL;

        for (size_t i = 0; i < p->n_owners; i++) {
                size_t n = strlen(p->owners[i].prefix);

                if (strncmp(label, p->owners[i].prefix, n) == 0 &&
                    (!best || n > strlen(best->prefix)))
                        best = &p->owners[i];
        }
        return best ? (const char *const *)best->who : NULL;
}

const char *
pm_audit_policy_criteria(const struct pm_audit_policy *p)
{
        return p->criteria;
}

/*
 * Whether version @ver of @name is certified for the policy's criteria: a full audit of a version
 * from which deltas lead to @ver, each entry certifying them. @budget bounds the walk of a
 * crate's deltas.
 */
static bool
reached(const struct pm_audit_policy *p, const char *name, const char *ver, unsigned depth,
        unsigned *budget)
{
        size_t end;

        if (depth > 64 || *budget == 0)
                return false;
        --*budget;
        /* Only the entries ending at @ver: a step costs a binary search, not a scan of every
         * entry (100,000 steps over 100,000 entries took minutes). */
        for (size_t i = find(p, name, ver, &end); i < end; i++) {
                const struct audited *a = &p->audited[i];

                if ((a->kind != VET_FULL && a->kind != VET_DELTA) || !a->certifies)
                        continue;
                if (a->kind == VET_FULL ||
                    (strcmp(a->from, ver) != 0 && reached(p, name, a->from, depth + 1, budget)))
                        return true;
        }
        return false;
}

bool
pm_audit_policy_audited(const struct pm_audit_policy *p, const char *name, const char *version)
{
        unsigned budget = 100000;
        size_t first, end;

        /* A recorded violation of what the policy's criteria imply wins, whatever else is
         * recorded. */
        first = find(p, name, NULL, &end);
        for (size_t i = first; i < end; i++) {
                const struct audited *a = &p->audited[i];

                if (a->kind == VET_VIOLATION && a->violated_by_want &&
                    (!version || pm__semver_req_matches(a->to, version)))
                        return false;
        }
        for (size_t i = first; i < end; i++) {
                const struct audited *a = &p->audited[i];

                if (a->kind == VET_VIOLATION || !a->certifies)
                        continue;
                /* Without the crate's version any audit of it counts (docs/configuration.md). */
                if (a->kind == VET_INLINE || a->kind == VET_TRUSTED || a->kind == VET_WILDCARD ||
                    !version)
                        return true;
        }
        return version && reached(p, name, version, 0, &budget);
}
