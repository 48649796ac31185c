/* SPDX-License-Identifier: MIT */
/* The Rust tokenizer (audit/lex.c): token kinds and spans for the forms the unsafe scanner
 * depends on: nested comments, every string prefix and raw depth, chars versus lifetimes, raw
 * identifiers, numbers, positions, and never failing on truncated input. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/audit.h"

/* Tokenize @src and render "KIND:text" per token, space-separated, into @out. */
static void
render(const char *src, char *out, size_t size)
{
        static const char *const names[] = { "eof", "id", "lt", "ch", "str", "num", "p", "com" };
        struct pm_rust_lexer lx;
        size_t used = 0;

        out[0] = '\0';
        pm_rust_lexer_init(&lx, src, strlen(src));
        for (int guard = 0; guard < 200; guard++) {
                struct pm_rust_token t;
                int n;

                pm_rust_lexer_next(&lx, &t);
                if (t.kind == PM_RUST_TOK_EOF)
                        return;
                n = snprintf(out + used, size - used, "%s%s%s:%.*s%s", used ? " " : "",
                             names[t.kind], t.raw ? "(raw)" : "", (int)t.len, src + t.start,
                             t.unterminated ? "(!)" : "");
                cr_assert(n > 0 && (size_t)n < size - used);
                used += (size_t)n;
        }
        cr_assert_fail("no EOF after 200 tokens");
}

#define LEXES(src, want)                                           \
        do {                                                       \
                char buf_[2048];                                   \
                render(src, buf_, sizeof(buf_));                   \
                cr_expect_str_eq(buf_, want, "tokens of %s", src); \
        } while (0)

Test(audit_lex, comments_nest_and_doc_comments_are_comments)
{
        LEXES("a /* x /* y */ z */ b", "id:a com:/* x /* y */ z */ id:b");
        LEXES("/// doc\n//! inner\nx", "com:/// doc com://! inner id:x");
        LEXES("/**/ /***/ c", "com:/**/ com:/***/ id:c");
        LEXES("/* open /* never closed */", "com:/* open /* never closed */(!)");
}

Test(audit_lex, strings_of_every_prefix_and_raw_depth)
{
        LEXES("\"a\\\"b\" x", "str:\"a\\\"b\" id:x");
        LEXES("r\"a\\\" x", "str:r\"a\\\" id:x");
        LEXES("r#\"a\"b\"# x", "str:r#\"a\"b\"# id:x");
        LEXES("r##\"a\"#b\"## x", "str:r##\"a\"#b\"## id:x");
        LEXES("b\"u\" br#\"v\"# c\"w\" cr\"z\"", "str:b\"u\" str:br#\"v\"# str:c\"w\" str:cr\"z\"");
        LEXES("\"line\nbreak\" y", "str:\"line\nbreak\" id:y");
        LEXES("\"never closed", "str:\"never closed(!)");
        LEXES("r#\"never closed\"", "str:r#\"never closed\"(!)");
}

Test(audit_lex, chars_versus_lifetimes)
{
        LEXES("'a' 'a '\\'' '\"' b'x' b'\\''", "ch:'a' lt:'a ch:'\\'' ch:'\"' ch:b'x' ch:b'\\''");
        LEXES("&'static str", "p:& lt:'static id:str");
        LEXES("'\\u{1F600}' '\xc3\xa9'", "ch:'\\u{1F600}' ch:'\xc3\xa9'");
        LEXES("'outer: loop", "lt:'outer p:: id:loop");
        LEXES("<'a,'b>", "p:< lt:'a p:, lt:'b p:>");
        LEXES("'r#try", "lt:'r#try");
}

Test(audit_lex, raw_identifiers_and_keywords)
{
        LEXES("r#unsafe r#fn UnsafeCell", "id(raw):r#unsafe id(raw):r#fn id:UnsafeCell");
        LEXES("a::b => c -> d", "id:a p::: id:b p:=> id:c p:-> id:d");
}

Test(audit_lex, numbers)
{
        LEXES("1.0e-3f64 0x1F_u8 0..10 t.0",
              "num:1.0e-3f64 num:0x1F_u8 num:0 p:. p:. num:10 id:t p:. num:0");
}

Test(audit_lex, positions_and_shebang)
{
        const char *src = "#!/bin/run x\nfn\n  main";
        struct pm_rust_lexer lx;
        struct pm_rust_token t;

        pm_rust_lexer_init(&lx, src, strlen(src));
        pm_rust_lexer_next(&lx, &t);
        cr_assert_eq(t.kind, PM_RUST_TOK_IDENT);
        cr_assert_eq(t.line, 2);
        cr_assert_eq(t.column, 1);
        pm_rust_lexer_next(&lx, &t);
        cr_assert_eq(t.line, 3);
        cr_assert_eq(t.column, 3);
        pm_rust_lexer_next(&lx, &t);
        cr_assert_eq(t.kind, PM_RUST_TOK_EOF);
        pm_rust_lexer_next(&lx, &t);
        cr_assert_eq(t.kind, PM_RUST_TOK_EOF, "EOF repeats");
        LEXES("#![forbid(unsafe_code)]", "p:# p:! p:[ id:forbid p:( id:unsafe_code p:) p:]");
}
