/* SPDX-License-Identifier: MIT */
/* Fuzz target: the Rust tokenizer and unsafe scanner (audit/) on arbitrary bytes. Tokens must
 * tile the input in order within bounds, and every scan must succeed (or hit the nesting limit)
 * with sites that name a valid kind, a line of the input and an item. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"

#include "fuzz.h"

static void fail(const char *what) __attribute__((noreturn));

static void
fail(const char *what)
{
        fprintf(stderr, "fuzz-audit: %s\n", what);
        abort();
}

static unsigned
count_lines(const uint8_t *data, size_t size)
{
        unsigned n = 1;

        for (size_t i = 0; i < size; i++)
                n += data[i] == '\n';
        return n;
}

static void
check_tokens(const uint8_t *data, size_t size)
{
        struct pm_rust_lexer lx;
        size_t end = 0;

        pm_rust_lexer_init(&lx, (const char *)data, size);
        for (size_t n = 0; n <= size + 1; n++) {
                struct pm_rust_token t;

                pm_rust_lexer_next(&lx, &t);
                if (t.kind == PM_RUST_TOK_EOF) {
                        if (t.start != size)
                                fail("EOF before the end of the input");
                        return;
                }
                if (t.len == 0 || t.start < end || t.start + t.len > size)
                        fail("a token out of order, empty or out of bounds");
                if ((unsigned)t.kind >= _PM_RUST_TOK_MAX || t.line == 0 || t.column == 0)
                        fail("a token with a bad kind or position");
                end = t.start + t.len;
        }
        fail("more tokens than bytes");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pm_audit_file f = { 0 };
        struct pm_error err;
        unsigned lines = count_lines(data, size);
        int r;

        check_tokens(data, size);
        pm_error_init(&err);
        r = pm_audit_scan((const char *)data, size, &f, &err);
        if (r < 0 && (r != PM_ELIMIT || err.code != r))
                fail("a scan failure other than the nesting limit");
        if (r < 0 && (f.sites || f.n_sites))
                fail("a failed scan left sites");
        for (size_t i = 0; i < f.n_sites; i++) {
                const struct pm_audit_site *s = &f.sites[i];

                if ((unsigned)s->kind >= _PM_AUDIT_KIND_MAX || !s->item || s->line == 0 ||
                    s->line > lines || s->column == 0)
                        fail("a site with a bad kind, item or position");
        }
        for (size_t i = 0; i < f.n_mods; i++)
                if (!f.mods[i].name || !f.mods[i].inline_dir || f.mods[i].line > lines)
                        fail("a module without a name or directory");
        if (pm_fuzz_verbose())
                fprintf(stderr, "  audit: %d, %zu sites, %zu mods, %zu includes\n", r, f.n_sites,
                        f.n_mods, f.n_includes);
        pm_audit_file_release(&f);
        return 0;
}
