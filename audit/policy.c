/* SPDX-License-Identifier: MIT */
/* The audit policy of .projmodel.json ("audit": allow_unsafe, require_forbid, owners, audited,
 * cargo_vet_audits, criteria) and the import of cargo-vet audits.toml files. Reads the audits
 * files it names; decides nothing about crates itself (cli/cmd-audit.c applies it). */
#include "config.h"

#include <errno.h>
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

#define MAX_ENTRIES 100000

struct owner {
        char *prefix;
        char **who; /* NULL-terminated */
};

/* How an audited entry certifies its crate (cargo-vet's audit entries, or the inline map). */
enum vet_kind {
        VET_INLINE,    /* "audited" in .projmodel.json: every version */
        VET_FULL,      /* [[audits.NAME]] version = "V": V in its entirety */
        VET_DELTA,     /* delta = "A -> B": B, when A is certified */
        VET_VIOLATION, /* violation = "REQ": the versions REQ matches fail the criterion */
        VET_TRUSTED,   /* [[trusted.NAME]]: every version its publisher released */
        VET_WILDCARD,  /* [[wildcard-audits.NAME]]: the same */
};

struct audited {
        char *name;
        char *criterion;
        enum vet_kind kind;
        char *from; /* VET_DELTA: A */
        char *to;   /* VET_FULL: V; VET_DELTA: B; VET_VIOLATION: REQ */
        /* Filled once the policy is loaded (criteria_flags()): the criterion certifies the
         * policy's criteria, or the policy's criteria imply it (what a violation breaks). */
        bool certifies, violated_by_want;
};

/* A custom criterion of an imported audits.toml ([criteria.NAME] implies = ...). */
struct criterion {
        char *name;
        char **implies;
        size_t n_implies;
};

struct pm_audit_policy {
        struct pm_arena *arena;
        bool present;
        bool require_forbid;
        char **allow; /* allow_unsafe prefixes */
        size_t n_allow;
        struct owner *owners;
        size_t n_owners;
        struct audited *audited;
        size_t n_audited, cap_audited;
        struct criterion *defs;
        size_t n_defs, cap_defs;
        const char *criteria;
};

static const char *const known_keys[] = { "allow_unsafe",     "require_forbid", "owners", "audited",
                                          "cargo_vet_audits", "criteria",       NULL };

struct pm_audit_policy *
pm_audit_policy_free(struct pm_audit_policy *p)
{
        if (!p)
                return NULL;
        pm_free(p->audited);
        pm_free(p->defs);
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

static int
add_audited(struct pm_audit_policy *p, const char *name, size_t name_len, const char *criterion,
            size_t crit_len, enum vet_kind kind, const char *from, const char *to)
{
        struct audited *a;

        if (p->n_audited >= MAX_ENTRIES)
                return PM_ELIMIT;
        if (p->n_audited == p->cap_audited) {
                size_t cap = p->cap_audited ? p->cap_audited * 2 : 32;
                void *v = pm_realloc(p->audited, cap * sizeof(*p->audited));

                if (!v)
                        return -ENOMEM;
                p->audited = v;
                p->cap_audited = cap;
        }
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

static bool
builtin_criterion(const char *name)
{
        return strcmp(name, "safe-to-deploy") == 0 || strcmp(name, "safe-to-run") == 0;
}

static const struct criterion *
find_def(const struct pm_audit_policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_defs; i++)
                if (strcmp(p->defs[i].name, name) == 0)
                        return &p->defs[i];
        return NULL;
}

static bool
implies_directly(const char *have, const char *want)
{
        return strcmp(have, want) == 0 ||
               (strcmp(have, "safe-to-deploy") == 0 && strcmp(want, "safe-to-run") == 0);
}

/*
 * Whether an audit for @have also certifies @want: the same, safe-to-deploy for safe-to-run,
 * or through the `implies` of the imported [criteria.X] tables. Breadth first, each criterion
 * once (@seen and @queue hold n_defs each; @seen is all false on entry and on return): an
 * imported file's implies may repeat a name or form a cycle.
 */
static bool
implies(const struct pm_audit_policy *p, const char *have, const char *want, bool *seen,
        size_t *queue)
{
        const struct criterion *d = find_def(p, have);
        bool found = implies_directly(have, want);
        size_t n = 0;

        if (!found && d) {
                seen[d - p->defs] = true;
                queue[n++] = (size_t)(d - p->defs);
        }
        for (size_t q = 0; !found && q < n; q++) {
                d = &p->defs[queue[q]];
                for (size_t i = 0; !found && i < d->n_implies; i++) {
                        const struct criterion *e = find_def(p, d->implies[i]);

                        found = implies_directly(d->implies[i], want);
                        if (!found && e && !seen[e - p->defs]) {
                                seen[e - p->defs] = true;
                                queue[n++] = (size_t)(e - p->defs);
                        }
                }
        }
        while (n > 0)
                seen[queue[--n]] = false;
        return found;
}

/* Fill each entry's certifies and violated_by_want, once, for the policy's criteria. */
static int
criteria_flags(struct pm_audit_policy *p)
{
        bool *seen = pm_calloc(p->n_defs + 1, sizeof(*seen));
        size_t *queue = pm_calloc(p->n_defs + 1, sizeof(*queue));
        int r = seen && queue ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < p->n_audited; i++) {
                struct audited *a = &p->audited[i];

                a->certifies = implies(p, a->criterion, p->criteria, seen, queue);
                a->violated_by_want = implies(p, p->criteria, a->criterion, seen, queue);
        }
        pm_free(seen);
        pm_free(queue);
        return r;
}

/* A string or an array of strings (@what names the key for the error), as a NULL-terminated
 * arena array in *@ret. */
static int
vet_strings(struct pm_audit_policy *p, const cJSON *v, const char *path, const char *where,
            const char *what, char ***ret, struct pm_error *err)
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
                return pm_error_set(err, PM_ECONFIG,
                                    "cannot import '%s': %s: '%s' must be a criterion name or an "
                                    "array of them",
                                    path, where, what);
        for (size_t i = 0; i < k; i++)
                if (!(out[i] = pm_arena_strdup(p->arena, out[i])))
                        return pm_error_set(err, -ENOMEM, "out of memory");
        out[k] = NULL;
        *ret = out;
        return 0;
}

static int
add_def(struct pm_audit_policy *p, const cJSON *def, const char *path, struct pm_error *err)
{
        const cJSON *imp = cJSON_GetObjectItemCaseSensitive(def, "implies");
        struct criterion *c;
        char **v = NULL;
        char where[300];
        int r;

        (void)snprintf(where, sizeof(where), "[criteria.%s]", def->string);
        if (!cJSON_IsObject(def))
                return pm_error_set(err, PM_ECONFIG, "cannot import '%s': %s must be a table", path,
                                    where);
        if (builtin_criterion(def->string))
                return pm_error_set(err, PM_ECONFIG,
                                    "cannot import '%s': %s redefines a built-in criterion", path,
                                    where);
        if (imp) {
                r = vet_strings(p, imp, path, where, "implies", &v, err);
                if (r < 0)
                        return r;
        }
        if (p->n_defs == p->cap_defs) {
                size_t cap = p->cap_defs ? p->cap_defs * 2 : 16;
                void *nv = p->n_defs >= MAX_ENTRIES ? NULL
                                                    : pm_realloc(p->defs, cap * sizeof(*p->defs));

                if (!nv)
                        return pm_error_set(err, -ENOMEM, "cannot import '%s': too many criteria",
                                            path);
                p->defs = nv;
                p->cap_defs = cap;
        }
        c = &p->defs[p->n_defs];
        c->name = pm_arena_strdup(p->arena, def->string);
        c->implies = v;
        c->n_implies = 0;
        while (v && v[c->n_implies])
                c->n_implies++;
        if (!c->name)
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
add_entry(struct pm_audit_policy *p, const char *table, const char *name, const cJSON *e,
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
        char where[300], **crit = NULL, *from = NULL, *to = NULL;
        int r;

        (void)snprintf(where, sizeof(where), "[[%s.%s]] entry %zu", table, name, index + 1);
        if (!cJSON_IsObject(e))
                return pm_error_set(err, PM_ECONFIG, "cannot import '%s': %s must be a table", path,
                                    where);
        if (!cJSON_GetObjectItemCaseSensitive(e, "criteria"))
                return pm_error_set(err, PM_ECONFIG, "cannot import '%s': %s has no 'criteria'",
                                    path, where);
        r = vet_strings(p, cJSON_GetObjectItemCaseSensitive(e, "criteria"), path, where, "criteria",
                        &crit, err);
        if (r < 0)
                return r;
        if (kind == VET_FULL || kind == VET_DELTA || kind == VET_VIOLATION) {
                const cJSON *which = version ? version : delta ? delta : violation;

                if ((version != NULL) + (delta != NULL) + (violation != NULL) != 1)
                        return pm_error_set(err, PM_ECONFIG,
                                            "cannot import '%s': %s needs exactly one of "
                                            "'version', 'delta' and 'violation'",
                                            path, where);
                if (!cJSON_IsString(which) || !which->valuestring[0])
                        return pm_error_set(err, PM_ECONFIG,
                                            "cannot import '%s': %s: '%s' must be a string", path,
                                            where, which->string);
                if (kind == VET_DELTA) {
                        r = split_delta(p, which->valuestring, &from, &to);
                        if (r == PM_ECONFIG)
                                return pm_error_set(err, r,
                                                    "cannot import '%s': %s: delta '%s' is not "
                                                    "'VERSION -> VERSION'",
                                                    path, where, which->valuestring);
                        if (r < 0)
                                return pm_error_set(err, r, "out of memory");
                } else {
                        to = which->valuestring;
                }
        }
        for (size_t i = 0; crit[i]; i++) {
                if (!builtin_criterion(crit[i]) && !find_def(p, crit[i]))
                        return pm_error_set(err, PM_ECONFIG,
                                            "cannot import '%s': %s: criterion '%s' is neither "
                                            "safe-to-run, safe-to-deploy nor a [criteria.%s] of "
                                            "the file",
                                            path, where, crit[i], crit[i]);
                r = add_audited(p, name, strlen(name), crit[i], strlen(crit[i]), kind, from, to);
                if (r < 0)
                        return pm_error_set(err, r, "cannot import '%s'", path);
        }
        return 0;
}

/*
 * cargo-vet's audits.toml as it is (docs/configuration.md, "Audit policy"): its [criteria.X]
 * tables (implies) and every entry of [[audits.NAME]], [[trusted.NAME]] and
 * [[wildcard-audits.NAME]]. Any other table, an entry without criteria, an audit that is not
 * exactly one of version, delta and violation, or a criterion the file does not define is an
 * error naming it. Other keys (who, notes, user-id, start, end, ...) are not needed.
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
                        return pm_error_set(
                                err, PM_ECONFIG,
                                "cannot import '%s': '%s' is not a table of an audits.toml (it "
                                "holds criteria, audits, wildcard-audits and trusted)%s",
                                path, t->string,
                                strcmp(t->string, "policy") == 0 ||
                                                strcmp(t->string, "imports") == 0 ||
                                                strcmp(t->string, "exemptions") == 0 ||
                                                strcmp(t->string, "cargo-vet") == 0
                                        ? "; this looks like cargo-vet's config.toml"
                                        : "");
                if (!cJSON_IsObject(t))
                        return pm_error_set(err, PM_ECONFIG,
                                            "cannot import '%s': '%s' must be a table", path,
                                            t->string);
        }
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(doc, "criteria"))
        {
                r = add_def(p, t, path, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; tables[i]; i++)
                cJSON_ArrayForEach(crate, cJSON_GetObjectItemCaseSensitive(doc, tables[i]))
                {
                        size_t k = 0;

                        if (!cJSON_IsArray(crate))
                                return pm_error_set(err, PM_ECONFIG,
                                                    "cannot import '%s': '%s.%s' must be an array "
                                                    "of tables ([[%s.%s]])",
                                                    path, tables[i], crate->string, tables[i],
                                                    crate->string);
                        cJSON_ArrayForEach(e, crate)
                        {
                                r = add_entry(p, tables[i], crate->string, e, k++, path, err);
                                if (r < 0)
                                        return r;
                        }
                }
        for (size_t i = 0; i < p->n_defs; i++)
                for (size_t k = 0; k < p->defs[i].n_implies; k++)
                        if (!builtin_criterion(p->defs[i].implies[k]) &&
                            !find_def(p, p->defs[i].implies[k]))
                                return pm_error_set(err, PM_ECONFIG,
                                                    "cannot import '%s': [criteria.%s] implies "
                                                    "'%s', which is not defined",
                                                    path, p->defs[i].name, p->defs[i].implies[k]);
        return 0;
}

static int
load_vet(const struct pm_config *cfg, struct pm_audit_policy *p, const char *rel,
         struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *path = pm_path_normalize(NULL, cfg->root, rel);
        cJSON *doc = NULL;
        int r;

        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = pm_strbuf_read_file(&sb, path, (size_t)64 << 20, err);
        if (r < 0)
                pm_error_prefix(err, "audit.cargo_vet_audits");
        if (r == 0)
                r = pm__toml_parse(sb.buf ? sb.buf : "", sb.len, path, &doc, err);
        if (r == 0)
                r = import_vet(p, doc, path, err);
        cJSON_Delete(doc);
        pm_strbuf_release(&sb);
        pm_free(path);
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
                r = cJSON_IsArray(item) ? strings(p, item, &v, &n) : PM_ECONFIG;
                if (r == PM_ECONFIG) {
                        r = bad(cfg, err, "allow_unsafe", "must be an array of label prefixes");
                        goto out;
                }
                for (size_t i = 0; r == 0 && i < n; i++)
                        if (!(v[i] = prefix_of(p->arena, v[i])))
                                r = -ENOMEM;
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
        if (item)
                p->criteria = pm_arena_strdup(p->arena, item->valuestring);
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
                        r = -ENOMEM;
                        goto out;
                }
                cJSON_ArrayForEach(e, item)
                {
                        struct owner *o = &p->owners[p->n_owners];

                        if (!(cJSON_IsArray(e) || cJSON_IsString(e)) ||
                            strings(p, e, &o->who, &n) == PM_ECONFIG) {
                                r = bad(cfg, err, "owners", "values must be lists of reviewers");
                                goto out;
                        }
                        o->prefix = prefix_of(p->arena, e->string);
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
                        if (!(cJSON_IsArray(e) || cJSON_IsString(e)) ||
                            strings(p, e, &v, &n) == PM_ECONFIG) {
                                r = bad(cfg, err, "audited", "values must be criteria names");
                                goto out;
                        }
                        for (size_t i = 0; r == 0 && i < n; i++)
                                r = add_audited(p, e->string, strlen(e->string), v[i], strlen(v[i]),
                                                VET_INLINE, NULL, NULL);
                }
        }
        item = cJSON_GetObjectItemCaseSensitive(sec, "cargo_vet_audits");
        if (item) {
                if (!(cJSON_IsArray(item) || cJSON_IsString(item)) ||
                    strings(p, item, &v, &n) == PM_ECONFIG) {
                        r = bad(cfg, err, "cargo_vet_audits", "must be a path or a list of paths");
                        goto out;
                }
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = load_vet(cfg, p, v[i], err);
        }
out:
        if (r == 0)
                r = criteria_flags(p);
        if (r == -ENOMEM || r == PM_ELIMIT)
                r = pm_error_set(err, r, "cannot load the audit policy");
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
        if (depth > 64 || *budget == 0)
                return false;
        --*budget;
        for (size_t i = 0; i < p->n_audited; i++) {
                const struct audited *a = &p->audited[i];

                if ((a->kind != VET_FULL && a->kind != VET_DELTA) || strcmp(a->name, name) != 0 ||
                    strcmp(a->to, ver) != 0 || !a->certifies)
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

        /* A recorded violation of what the policy's criteria imply wins, whatever else is
         * recorded. */
        for (size_t i = 0; i < p->n_audited; i++) {
                const struct audited *a = &p->audited[i];

                if (a->kind == VET_VIOLATION && strcmp(a->name, name) == 0 && a->violated_by_want &&
                    (!version || pm__semver_req_matches(a->to, version)))
                        return false;
        }
        for (size_t i = 0; i < p->n_audited; i++) {
                const struct audited *a = &p->audited[i];

                if (strcmp(a->name, name) != 0 || a->kind == VET_VIOLATION || !a->certifies)
                        continue;
                /* Without the crate's version any audit of it counts (docs/configuration.md). */
                if (a->kind == VET_INLINE || a->kind == VET_TRUSTED || a->kind == VET_WILDCARD ||
                    !version)
                        return true;
        }
        return version && reached(p, name, version, 0, &budget);
}
