/* SPDX-License-Identifier: MIT */
/* The Rust tokenizer under the unsafe audit: comments (nested), strings of every prefix and raw
 * depth, char literals versus lifetimes, raw identifiers. Lexical only; never fails. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "projmodel/audit.h"

#include "audit-internal.h"

void
pm_rust_lexer_init(struct pm_rust_lexer *lx, const char *src, size_t len)
{
        memset(lx, 0, sizeof(*lx));
        lx->src = src;
        lx->len = len;
        lx->line = 1;
        /* A shebang line, unless it is really an inner attribute "#![" (the Reference's rule,
         * whitespace between "#!" and "[" ignored here). */
        if (len >= 2 && src[0] == '#' && src[1] == '!') {
                size_t i = 2;

                while (i < len && (src[i] == ' ' || src[i] == '\t'))
                        i++;
                if (i >= len || src[i] != '[') {
                        while (lx->pos < len && src[lx->pos] != '\n')
                                lx->pos++;
                }
        }
}

static bool
is_ident_start(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
is_ident_continue(unsigned char c)
{
        return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int
peek(const struct pm_rust_lexer *lx, size_t off)
{
        return lx->pos + off < lx->len ? (unsigned char)lx->src[lx->pos + off] : -1;
}

/* Advance one byte, keeping line and line_start right. */
static void
bump(struct pm_rust_lexer *lx)
{
        if (lx->pos >= lx->len)
                return;
        if (lx->src[lx->pos] == '\n') {
                lx->line++;
                lx->line_start = lx->pos + 1;
        }
        lx->pos++;
}

/* The length of the UTF-8 sequence starting with @c (1 for anything malformed). */
static size_t
utf8_len(int c)
{
        if (c >= 0xf0 && c < 0xf8)
                return 4;
        if (c >= 0xe0)
                return c < 0xf0 ? 3 : 1;
        if (c >= 0xc0)
                return 2;
        return 1;
}

static void
skip_ident(struct pm_rust_lexer *lx)
{
        while (peek(lx, 0) >= 0 && is_ident_continue((unsigned char)peek(lx, 0)))
                bump(lx);
}

/* After the opening quote: a quoted string with backslash escapes. */
static void
lex_quoted(struct pm_rust_lexer *lx, struct pm_rust_token *tok)
{
        for (;;) {
                int c = peek(lx, 0);

                if (c < 0) {
                        tok->unterminated = true;
                        return;
                }
                bump(lx);
                if (c == '\\') {
                        bump(lx);
                } else if (c == '"') {
                        return;
                }
        }
}

/* At the first '#' or '"' after the r of a raw string: r#*"...."#*, no escapes. */
static void
lex_raw(struct pm_rust_lexer *lx, struct pm_rust_token *tok)
{
        size_t hashes = 0;

        while (peek(lx, 0) == '#') {
                hashes++;
                bump(lx);
        }
        bump(lx); /* the '"', checked by the caller */
        for (;;) {
                int c = peek(lx, 0);
                size_t n = 0;

                if (c < 0) {
                        tok->unterminated = true;
                        return;
                }
                bump(lx);
                if (c != '"')
                        continue;
                while (n < hashes && peek(lx, 0) == '#') {
                        n++;
                        bump(lx);
                }
                if (n == hashes)
                        return;
        }
}

/* True if the bytes from offset @off are a raw string opening: #*" */
static bool
raw_string_ahead(const struct pm_rust_lexer *lx, size_t off)
{
        while (peek(lx, off) == '#')
                off++;
        return peek(lx, off) == '"';
}

/* At a quote ('): a char literal ('x', '\n', '\u{..}', 'é') or a lifetime/label ('a, 'r#a). */
static void
lex_quote(struct pm_rust_lexer *lx, struct pm_rust_token *tok)
{
        int c = peek(lx, 1);

        if (c == '\\') {
                /* An escaped char: up to the closing quote on this line. */
                tok->kind = PM_RUST_TOK_CHAR;
                bump(lx);
                bump(lx);
                bump(lx);
                for (;;) {
                        int d = peek(lx, 0);

                        if (d < 0 || d == '\n') {
                                tok->unterminated = true;
                                return;
                        }
                        bump(lx);
                        if (d == '\'')
                                return;
                }
        }
        if (c >= 0) {
                size_t n = utf8_len(c);

                if (peek(lx, 1 + n) == '\'' && c != '\'') {
                        tok->kind = PM_RUST_TOK_CHAR;
                        for (size_t i = 0; i < n + 2; i++)
                                bump(lx);
                        return;
                }
        }
        bump(lx);
        if (c >= 0 && is_ident_start((unsigned char)c)) {
                tok->kind = PM_RUST_TOK_LIFETIME;
                if (c == 'r' && peek(lx, 1) == '#' && peek(lx, 2) >= 0 &&
                    is_ident_start((unsigned char)peek(lx, 2))) {
                        bump(lx);
                        bump(lx);
                }
                skip_ident(lx);
                return;
        }
        /* A lone quote ('' or ' at the end): one punctuation byte. */
        tok->kind = PM_RUST_TOK_PUNCT;
}

static void
lex_number(struct pm_rust_lexer *lx)
{
        bool hex = peek(lx, 0) == '0' && (peek(lx, 1) == 'x' || peek(lx, 1) == 'X');

        for (;;) {
                int c = peek(lx, 0);

                if (c >= 0 && is_ident_continue((unsigned char)c)) {
                        bump(lx);
                        if (!hex && (c == 'e' || c == 'E') &&
                            (peek(lx, 0) == '+' || peek(lx, 0) == '-') && peek(lx, 1) >= '0' &&
                            peek(lx, 1) <= '9')
                                bump(lx);
                } else if (c == '.' && !hex && peek(lx, 1) >= '0' && peek(lx, 1) <= '9') {
                        bump(lx);
                } else {
                        return;
                }
        }
}

/* At the opening slash-star: a block comment, nested ones included. */
static void
lex_block_comment(struct pm_rust_lexer *lx, struct pm_rust_token *tok)
{
        size_t depth = 1;

        bump(lx);
        bump(lx);
        while (depth > 0) {
                int c = peek(lx, 0);

                if (c < 0) {
                        tok->unterminated = true;
                        return;
                }
                if (c == '/' && peek(lx, 1) == '*') {
                        depth++;
                        bump(lx);
                } else if (c == '*' && peek(lx, 1) == '/') {
                        depth--;
                        bump(lx);
                }
                bump(lx);
        }
}

void
pm_rust_lexer_next(struct pm_rust_lexer *lx, struct pm_rust_token *tok)
{
        int c;

        while (lx->pos < lx->len) {
                c = (unsigned char)lx->src[lx->pos];
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
                        break;
                bump(lx);
        }
        memset(tok, 0, sizeof(*tok));
        tok->start = lx->pos;
        tok->line = lx->line;
        tok->column = (unsigned)(lx->pos - lx->line_start + 1);
        c = peek(lx, 0);
        if (c < 0) {
                tok->kind = PM_RUST_TOK_EOF;
                return;
        }
        if (c == '/' && peek(lx, 1) == '/') {
                tok->kind = PM_RUST_TOK_COMMENT;
                while (peek(lx, 0) >= 0 && peek(lx, 0) != '\n')
                        bump(lx);
        } else if (c == '/' && peek(lx, 1) == '*') {
                tok->kind = PM_RUST_TOK_COMMENT;
                lex_block_comment(lx, tok);
        } else if (c == '"') {
                tok->kind = PM_RUST_TOK_STRING;
                bump(lx);
                lex_quoted(lx, tok);
        } else if (c == '\'') {
                lex_quote(lx, tok);
        } else if (c >= '0' && c <= '9') {
                tok->kind = PM_RUST_TOK_NUMBER;
                lex_number(lx);
        } else if (is_ident_start((unsigned char)c)) {
                int c1 = peek(lx, 1), c2 = peek(lx, 2);

                if (c == 'r' && raw_string_ahead(lx, 1)) {
                        /* r"..", r#".."# */
                        tok->kind = PM_RUST_TOK_STRING;
                        bump(lx);
                        lex_raw(lx, tok);
                } else if ((c == 'b' || c == 'c') && c1 == 'r' && raw_string_ahead(lx, 2)) {
                        /* br"..", cr#".."# */
                        tok->kind = PM_RUST_TOK_STRING;
                        bump(lx);
                        bump(lx);
                        lex_raw(lx, tok);
                } else if ((c == 'b' || c == 'c') && c1 == '"') {
                        tok->kind = PM_RUST_TOK_STRING;
                        bump(lx);
                        bump(lx);
                        lex_quoted(lx, tok);
                } else if (c == 'b' && c1 == '\'') {
                        /* b'x', b'\'' : always a byte char, never a lifetime */
                        bump(lx);
                        lex_quote(lx, tok);
                        if (tok->kind != PM_RUST_TOK_CHAR)
                                tok->kind = PM_RUST_TOK_CHAR;
                } else if (c == 'r' && c1 == '#' && c2 >= 0 && is_ident_start((unsigned char)c2)) {
                        tok->kind = PM_RUST_TOK_IDENT;
                        tok->raw = true;
                        bump(lx);
                        bump(lx);
                        skip_ident(lx);
                } else {
                        tok->kind = PM_RUST_TOK_IDENT;
                        skip_ident(lx);
                }
        } else {
                tok->kind = PM_RUST_TOK_PUNCT;
                if ((c == ':' && peek(lx, 1) == ':') || (c == '=' && peek(lx, 1) == '>') ||
                    (c == '-' && peek(lx, 1) == '>'))
                        bump(lx);
                bump(lx);
        }
        tok->len = lx->pos - tok->start;
}
