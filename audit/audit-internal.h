/* SPDX-License-Identifier: MIT */
/* Declarations shared by audit/ files only. No other folder includes this. */
#ifndef PROJMODEL_AUDIT_INTERNAL_H
#define PROJMODEL_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "projmodel/audit.h"

/* A token array kept from one scan to the next (inventory.c scans thousands of files): no
 * allocation, copy or page fault per file. Zero it to start; free v with pm_free(). */
struct pm__audit_tokbuf {
        struct pm_rust_token *v;
        size_t cap;
};

/* pm_audit_scan() with @tb's array for the tokens (grown as needed, kept in @tb). */
int pm__audit_scan_buf(const char *src, size_t len, struct pm_audit_file *ret,
                       struct pm__audit_tokbuf *tb, struct pm_error *err);

struct cJSON;

/*
 * Parse @len bytes of TOML (audit/toml.c: what cargo-vet's audits.toml uses) into a new cJSON
 * object tree, *@ret owned by the caller (cJSON_Delete). Tables are objects, arrays of tables
 * arrays of objects, dates strings. PM_ECONFIG naming @file and the line for anything it does
 * not read, or -ENOMEM.
 */
int pm__toml_parse(const char *text, size_t len, const char *file, struct cJSON **ret,
                   struct pm_error *err);
/* The 1-based line that defines @item of a pm__toml_parse() tree (its key, or its [table] or
 * [[table]] header; an array element's own line), or 0 for a number or the root. */
unsigned pm__toml_line(const struct cJSON *item);

/*
 * A hash index of (@scope, @name) to a value: names within a TOML table (@scope the table), or
 * the policy's criteria (@scope NULL). Zero it to start. Borrows @name, which must outlive its
 * entry; a value of NULL reads as absent. pm__index_put() replaces an existing entry's value and
 * returns 0 or -ENOMEM; pm__index_release() frees the table, not the names or values.
 */
struct pm__index_slot {
        const void *scope;
        const char *name;
        void *value;
};

struct pm__index {
        struct pm__index_slot *v;
        size_t n, cap;
};

void *pm__index_get(const struct pm__index *ix, const void *scope, const char *name);
int pm__index_put(struct pm__index *ix, const void *scope, const char *name, void *value);
void pm__index_release(struct pm__index *ix);

/* Whether @req is a Cargo version requirement pm__semver_req_matches() reads: comparators
 * (=, >, >=, <, <=, ~, ^ or none, then MAJOR[.MINOR[.PATCH]] with an optional .* and
 * -pre/+build), joined by ',', or "*". */
bool pm__semver_req_valid(const char *req);

/* Whether version @ver matches Cargo requirement @req (comparators joined by ','); false when
 * either does not parse. */
bool pm__semver_req_matches(const char *req, const char *ver);

#include "projmodel/banned.h"

#endif
