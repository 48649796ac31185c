/* SPDX-License-Identifier: MIT */
/* The unsafe scanner (audit/scan.c) against the annotated corpus in tests/audit/corpus: every
 * line's "//~ kind[@test][@macro][@decl][#items/safe][=item]" markers must be exactly the sites
 * found on it, and the "//~! ..." lines exactly the file's facts (forbid, deny, test_only,
 * out-of-line modules, include!s). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "testlib.h"

struct lines {
        char **v;
        size_t n;
};

static void
push(struct lines *l, char *s)
{
        l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
        cr_assert_not_null(l->v);
        l->v[l->n++] = s;
}

static int
cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
lines_free(struct lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                pm_free(l->v[i]);
        free(l->v);
}

/*
 * The expected facts of @text: for each "//~ a b" marker, "LINE:a" and "LINE:b" (item names
 * only when the marker gives one, so @with_item is remembered per entry as a '=' in it), and
 * "! rest" for each "//~! rest" line.
 */
static void
expected(const char *text, struct lines *sites, struct lines *facts)
{
        unsigned line = 1;

        for (const char *p = text; *p;) {
                const char *eol = strchr(p, '\n');
                size_t n = eol ? (size_t)(eol - p) : strlen(p);
                char *ln = pm_strndup(p, n);
                char *m = strstr(ln, "//~");

                if (m && m[3] == '!') {
                        push(facts, pm_test_strf("! %s", m + 5));
                } else if (m && strchr(m, '=')) {
                        /* One site whose item name may hold spaces: "<Foo as Send>". */
                        push(sites, pm_test_strf("%u:%s", line, m + 4));
                } else if (m) {
                        char *save = NULL;

                        for (char *w = strtok_r(m + 3, " ", &save); w;
                             w = strtok_r(NULL, " ", &save))
                                push(sites, pm_test_strf("%u:%s", line, w));
                }
                pm_free(ln);
                line++;
                p = eol ? eol + 1 : p + n;
        }
}

/* The same shape for what the scanner found; item names for entries whose marker named one. */
static char *
describe_site(const struct pm_audit_site *s, bool with_item)
{
        char extra[64] = "";

        if (s->kind == PM_AUDIT_EXTERN_BLOCK || s->kind == PM_AUDIT_UNSAFE_EXTERN_BLOCK)
                (void)snprintf(extra, sizeof(extra), "#%u/%u", s->n_items, s->n_safe);
        return pm_test_strf("%u:%s%s%s%s%s%s%s", s->line, pm_audit_kind_name(s->kind),
                            (s->flags & PM_AUDIT_IN_TEST) ? "@test" : "",
                            (s->flags & PM_AUDIT_IN_MACRO_DEF) ? "@macro" : "",
                            (s->flags & PM_AUDIT_DECL) ? "@decl" : "", extra, with_item ? "=" : "",
                            with_item ? s->item : "");
}

/* Both sorted: report every entry only one side has. */
static void
expect_same(const char *file, const char *what, const struct lines *got, const struct lines *want)
{
        size_t i = 0, k = 0;

        while (i < got->n || k < want->n) {
                int c = i == got->n ? 1 : k == want->n ? -1 : strcmp(got->v[i], want->v[k]);

                if (c < 0)
                        cr_expect_fail("%s: unexpected %s %s", file, what, got->v[i++]);
                else if (c > 0)
                        cr_expect_fail("%s: missing %s %s", file, what, want->v[k++]);
                else
                        i++, k++;
        }
}

static void
check_file(const char *dir, const char *name)
{
        char *path = pm_test_strf("%s/%s", dir, name);
        char *text = pm_test_read_file(path);
        struct lines want = { 0 }, want_facts = { 0 }, got = { 0 }, got_facts = { 0 };
        struct pm_audit_file f = { 0 };
        struct pm_error err;
        int r;

        cr_assert_not_null(text, "cannot read %s", path);
        expected(text, &want, &want_facts);
        pm_error_init(&err);
        r = pm_audit_scan(text, strlen(text), &f, &err);
        cr_assert_eq(r, 0, "%s: %s", name, err.msg);
        cr_expect_eq(f.lex_errors, 0, "%s: %u unterminated tokens", name, f.lex_errors);
        for (size_t i = 0; i < f.n_sites; i++) {
                char *plain = describe_site(&f.sites[i], false);
                bool named = false;

                cr_assert_not_null(f.sites[i].item, "%s: site without an item", name);
                /* Compare with the item when the marker on that line for this kind names one. */
                for (size_t k = 0; k < want.n; k++)
                        if (strncmp(want.v[k], plain, strlen(plain)) == 0 &&
                            want.v[k][strlen(plain)] == '=')
                                named = true;
                push(&got, named ? describe_site(&f.sites[i], true) : plain);
                if (named)
                        pm_free(plain);
        }
        if (f.forbid_unsafe)
                push(&got_facts, pm_test_strf("! forbid"));
        if (f.deny_unsafe)
                push(&got_facts, pm_test_strf("! deny"));
        if (f.test_only)
                push(&got_facts, pm_test_strf("! test_only"));
        for (size_t i = 0; i < f.n_mods; i++)
                push(&got_facts,
                     pm_test_strf("! mod%s %s %s %s",
                                  (f.mods[i].flags & PM_AUDIT_IN_TEST) ? "@test" : "",
                                  f.mods[i].name, f.mods[i].path_attr ? f.mods[i].path_attr : "-",
                                  f.mods[i].inline_dir[0] ? f.mods[i].inline_dir : "-"));
        for (size_t i = 0; i < f.n_includes; i++)
                push(&got_facts,
                     pm_test_strf("! include %s", f.includes[i].path ? f.includes[i].path : "-"));

        if (want.n > 1) /* qsort's base may not be NULL, even for 0 items */
                qsort(want.v, want.n, sizeof(char *), cmp);
        if (got.n > 1) /* qsort's base may not be NULL, even for 0 items */
                qsort(got.v, got.n, sizeof(char *), cmp);
        if (want_facts.n > 1) /* qsort's base may not be NULL, even for 0 items */
                qsort(want_facts.v, want_facts.n, sizeof(char *), cmp);
        if (got_facts.n > 1) /* qsort's base may not be NULL, even for 0 items */
                qsort(got_facts.v, got_facts.n, sizeof(char *), cmp);
        expect_same(name, "site", &got, &want);
        expect_same(name, "fact", &got_facts, &want_facts);
        lines_free(&want);
        lines_free(&got);
        lines_free(&want_facts);
        lines_free(&got_facts);
        pm_audit_file_release(&f);
        pm_free(text);
        pm_free(path);
}

Test(audit_scan, corpus_markers_are_exactly_the_sites)
{
        char *dir = pm_test_strf("%s/tests/audit/corpus", pm_test_source_root());
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t n = 0;

        cr_assert_not_null(d, "cannot open %s", dir);
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);

                if (len < 3 || strcmp(e->d_name + len - 3, ".rs") != 0)
                        continue;
                check_file(dir, e->d_name);
                n++;
        }
        closedir(d);
        cr_assert_geq(n, 8, "the corpus has %zu files", n);
        pm_free(dir);
}
