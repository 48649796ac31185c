/* SPDX-License-Identifier: MIT */
/* The audit policy of .projmodel.json ("audit": allow_unsafe, require_forbid, owners, audited,
 * cargo_vet_audits, criteria) and the import of cargo-vet audits.toml files. Reads the audits
 * files it names; decides nothing about crates itself (cli/cmd-audit.c applies it). */
#include "config.h"

#include <errno.h>
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

struct audited {
        char *name;
        char *criterion;
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
            size_t crit_len)
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
        if (!a->name || !a->criterion)
                return -ENOMEM;
        p->n_audited++;
        return 0;
}

/* Every "quoted" string of @line (no escapes: criteria names have none), added for @name. */
static int
add_quoted(struct pm_audit_policy *p, const char *name, size_t name_len, const char *line,
           const char *end)
{
        for (const char *q = line; q < end; q++) {
                const char *e;
                int r;

                if (*q != '"')
                        continue;
                e = memchr(q + 1, '"', (size_t)(end - q - 1));
                if (!e)
                        return 0;
                r = add_audited(p, name, name_len, q + 1, (size_t)(e - q - 1));
                if (r < 0)
                        return r;
                q = e;
        }
        return 0;
}

/*
 * cargo-vet's audits.toml as cargo-vet writes it: `[[audits.NAME]]` (or `[[trusted.NAME]]`)
 * tables with `criteria = "x"` or `criteria = ["x", "y"]`. Versions are not compared: the
 * model's crates often carry none (docs/configuration.md says so).
 */
static int
import_vet(struct pm_audit_policy *p, const char *text, size_t len)
{
        const char *name = NULL;
        size_t name_len = 0;

        for (const char *l = text; l < text + len;) {
                const char *eol = memchr(l, '\n', (size_t)(text + len - l));
                const char *end = eol ? eol : text + len;
                int r = 0;

                while (l < end && (*l == ' ' || *l == '\t'))
                        l++;
                if (*l == '[') {
                        name = NULL;
                        if (end - l > 9 && (strncmp(l, "[[audits.", 9) == 0 ||
                                            strncmp(l, "[[trusted.", 10) == 0)) {
                                const char *n = strchr(l, '.') + 1, *ne = n;

                                while (ne < end && *ne != ']')
                                        ne++;
                                if (*n == '"' && ne > n + 1 && ne[-1] == '"') {
                                        n++;
                                        ne--;
                                }
                                name = n;
                                name_len = (size_t)(ne - n);
                        }
                } else if (name && strncmp(l, "criteria", 8) == 0) {
                        r = add_quoted(p, name, name_len, l + 8, end);
                }
                if (r < 0)
                        return r;
                l = eol ? eol + 1 : end;
        }
        return 0;
}

static int
load_vet(const struct pm_config *cfg, struct pm_audit_policy *p, const char *rel,
         struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *path = pm_path_normalize(NULL, cfg->root, rel);
        int r;

        if (!path)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = pm_strbuf_read_file(&sb, path, (size_t)64 << 20, err);
        if (r == 0) {
                r = import_vet(p, sb.buf ? sb.buf : "", sb.len);
                if (r < 0)
                        r = pm_error_set(err, r, "cannot import '%s'", path);
        } else {
                pm_error_prefix(err, "audit.cargo_vet_audits");
        }
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
                                r = add_audited(p, e->string, strlen(e->string), v[i],
                                                strlen(v[i]));
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

bool
pm_audit_policy_audited(const struct pm_audit_policy *p, const char *name)
{
        for (size_t i = 0; i < p->n_audited; i++) {
                const struct audited *a = &p->audited[i];

                if (strcmp(a->name, name) != 0)
                        continue;
                if (strcmp(a->criterion, p->criteria) == 0 ||
                    (strcmp(p->criteria, "safe-to-run") == 0 &&
                     strcmp(a->criterion, "safe-to-deploy") == 0))
                        return true;
        }
        return false;
}
