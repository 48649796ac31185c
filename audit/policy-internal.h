/* SPDX-License-Identifier: MIT */
/* The audit policy's data, shared by audit/policy.c (the policy and its queries) and audit/vet.c
 * (the cargo-vet import) only. */
#ifndef PROJMODEL_AUDIT_POLICY_INTERNAL_H
#define PROJMODEL_AUDIT_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/audit.h"
#include "projmodel/config.h"
#include "projmodel/error.h"

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

/* A custom criterion of an imported audits.toml ([criteria.NAME] implies = ...), from @file. */
struct criterion {
        char *name;
        char **implies;
        size_t n_implies;
        const char *file;
        unsigned line;                 /* of its [criteria.NAME] in @file */
        const char *description, *url; /* description, description-url, or NULL */
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
        struct pm__index def_index; /* name: index in defs + 1 */
        const char *criteria;
};

/* Append an entry (arena copies of the strings): 0, PM_ELIMIT past MAX_ENTRIES, or -ENOMEM. */
int pm__policy_add_audited(struct pm_audit_policy *p, const char *name, size_t name_len,
                           const char *criterion, size_t crit_len, enum vet_kind kind,
                           const char *from, const char *to);
/* Whether @name is safe-to-run or safe-to-deploy. */
bool pm__policy_builtin_criterion(const char *name);
/* The imported definition of criterion @name, or NULL (borrowed from @p). */
const struct criterion *pm__policy_find_def(const struct pm_audit_policy *p, const char *name);
/* Import the audits.toml at @rel (relative to the configuration's root) into @p: 0, or an error
 * naming the file and the place in @err. */
int pm__vet_load(const struct pm_config *cfg, struct pm_audit_policy *p, const char *rel,
                 struct pm_error *err);

#endif
