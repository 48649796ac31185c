/* SPDX-License-Identifier: MIT */
/* The per-file unsafe scanner: walks the tokens of one Rust file with a stack of delimiter
 * frames and lists every unsafe site with its enclosing item, test scope and macro scope, plus
 * the file's out-of-line modules and include!s. Lexical and best effort: it never rejects
 * input. Reads no files; the caller hands it bytes. Over 800 lines because it is one pass: its
 * token helpers, output, frames, attributes and items all read and update the one struct scan
 * of that pass, and splitting them would put that struct in a header for no other user. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "audit-internal.h"

static const struct {
        const char *id;
        const char *desc;
        bool lint;
} kinds[] = {

#define PM__AUDIT_KIND_ROW(name, id, desc, lint) { id, desc, lint },
        PM_AUDIT_KIND_MAP(PM__AUDIT_KIND_ROW)
#undef PM__AUDIT_KIND_ROW
};

const char *
pm_audit_kind_name(enum pm_audit_kind kind)
{
        return (unsigned)kind < _PM_AUDIT_KIND_MAX ? kinds[kind].id : "?";
}

const char *
pm_audit_kind_description(enum pm_audit_kind kind)
{
        return (unsigned)kind < _PM_AUDIT_KIND_MAX ? kinds[kind].desc : "?";
}

bool
pm_audit_kind_is_lint(enum pm_audit_kind kind)
{
        return (unsigned)kind < _PM_AUDIT_KIND_MAX && kinds[kind].lint;
}

int
pm_audit_kind_parse(const char *name, enum pm_audit_kind *ret_kind)
{
        for (unsigned i = 0; i < _PM_AUDIT_KIND_MAX; i++) {
                if (strcmp(kinds[i].id, name) == 0) {
                        *ret_kind = (enum pm_audit_kind)i;
                        return 0;
                }
        }
        return PM_ENOTFOUND;
}

/* What opened a frame, or is pending at a level until its body opens. */
enum item {
        ITEM_NONE,
        ITEM_FN,
        ITEM_IMPL,
        ITEM_TRAIT,
        ITEM_MOD,
        ITEM_EXTERN,
        ITEM_MACRO,
        ITEM_OTHER, /* struct, enum, union, static, const: named, no special meaning */
};

enum frame_flags {
        FR_TEST = 1 << 0,
        FR_MACRO_DEF = 1 << 1,
        FR_MATCHER = 1 << 2, /* a macro_rules! matcher: its tokens are patterns, not code */
};

/*
 * One open delimiter (the file itself is frame 0). Besides what opened it, each frame holds the
 * statement state of its own level: whether the next token may start an item, where the
 * current statement started, and the item declared so far whose body has not opened yet.
 */
struct frame {
        char delim;        /* '{', '(', '[', or 0 for the file */
        unsigned flags;    /* enum frame_flags, inherited by inner frames */
        enum item kind;    /* what opened this frame */
        size_t path_len;   /* length of the scanner's path before this frame added its name */
        size_t dir_len;    /* length of the scanner's inline-module directory before this frame */
        long extern_site;  /* ITEM_EXTERN: index of its site, or -1 */
        bool restore_stmt; /* '(' after `pub`: the parent is still at an item start after it */

        /* The statement state of this level. */
        bool stmt;      /* the next token may start an item (after ; { } or qualifiers) */
        bool start_set; /* start_line/start_col hold the current statement's first token */
        unsigned start_line, start_col;
        bool saw_safe;    /* a `safe` qualifier in this statement (extern blocks) */
        bool last_arrow;  /* the previous token at this level was "=>" (macro rules) */
        bool prev_pub;    /* the previous token at this level was `pub` */
        bool prev_extern; /* the previous token at this level was `extern` */

        /* Pending: attributes and the item they belong to, until its body or `;`. */
        unsigned pend_flags;   /* FR_TEST from #[test] or #[cfg(test)] */
        enum item pend_kind;   /* ITEM_NONE if no item keyword seen yet */
        const char *pend_name; /* in the file's arena, or NULL */
        const char *pend_path; /* #[path = ".."] value, or NULL */
        size_t pend_sites;     /* sites from index pend_sites on wait for the item's name */
        const char *pend_abi;  /* ITEM_EXTERN: the ABI string, or "" */
        long pend_extern;      /* ITEM_EXTERN: index of its site, or -1 (in a matcher) */
};

struct scan {
        const char *src;
        size_t len;
        struct pm_rust_token *toks; /* comments dropped */
        size_t n_toks, cap_toks;
        struct pm_arena *arena;
        struct pm_audit_file *out;
        size_t cap_sites, cap_mods, cap_includes;
        struct frame *frames; /* frames[0..depth] */
        size_t depth;
        struct pm_strbuf path; /* "a::B::f" of the named frames */
        struct pm_strbuf dir;  /* "a/b/" of the inline modules */
};

/* ---- Token helpers ----------------------------------------------------------------------- */

static const struct pm_rust_token eof_tok = { .kind = PM_RUST_TOK_EOF };

static const struct pm_rust_token *
tok_at(const struct scan *s, size_t i)
{
        return i < s->n_toks ? &s->toks[i] : &eof_tok;
}

static bool
is_word_n(const struct scan *s, size_t i, const char *w, size_t n)
{
        const struct pm_rust_token *t = tok_at(s, i);

        return t->kind == PM_RUST_TOK_IDENT && !t->raw && t->len == n &&
               memcmp(s->src + t->start, w, n) == 0;
}

/* is_word(s, i, "literal"): the length is known at compile time (the scanner's hottest test). */
#define is_word(s, i, w) is_word_n((s), (i), "" w, sizeof(w) - 1)

static bool
is_punct(const struct scan *s, size_t i, char c)
{
        const struct pm_rust_token *t = tok_at(s, i);

        return t->kind == PM_RUST_TOK_PUNCT && t->len == 1 && s->src[t->start] == c;
}

static bool
is_arrow(const struct scan *s, size_t i)
{
        const struct pm_rust_token *t = tok_at(s, i);

        return t->kind == PM_RUST_TOK_PUNCT && t->len == 2 && s->src[t->start] == '=';
}

static bool
is_path_sep(const struct scan *s, size_t i)
{
        const struct pm_rust_token *t = tok_at(s, i);

        return t->kind == PM_RUST_TOK_PUNCT && t->len == 2 && s->src[t->start] == ':';
}

static bool
is_kind(const struct scan *s, size_t i, enum pm_rust_tok kind)
{
        return tok_at(s, i)->kind == kind;
}

/* The identifier at @i without a raw prefix, in the arena; NULL on OOM. */
static const char *
ident_text(struct scan *s, size_t i)
{
        const struct pm_rust_token *t = tok_at(s, i);
        size_t skip = t->raw ? 2 : 0;

        return pm_arena_strndup(s->arena, s->src + t->start + skip, t->len - skip);
}

/*
 * The value of a plain string literal ("..", r".." or r#".."#) in the arena, or NULL when it is
 * not one or has escapes other than \\ \" \' (an include path with \n is not worth decoding).
 * *@ret_oom is set on out of memory.
 */
static const char *
string_value(struct scan *s, size_t i, bool *ret_oom)
{
        const struct pm_rust_token *t = tok_at(s, i);
        const char *p = s->src + t->start, *end = p + t->len;
        struct pm_strbuf sb = PM_STRBUF_INIT;
        const char *v;
        bool raw = false;

        if (t->kind != PM_RUST_TOK_STRING || t->unterminated)
                return NULL;
        if (*p == 'r') {
                raw = true;
                p++;
                while (*p == '#') {
                        p++;
                        end--;
                }
        } else if (*p != '"') {
                return NULL; /* b"..", c"..": not a path */
        }
        p++;
        end--;
        for (; p < end; p++) {
                char c = *p;

                if (c == '\\' && !raw) {
                        if (p + 1 >= end || (p[1] != '\\' && p[1] != '"' && p[1] != '\'')) {
                                pm_strbuf_release(&sb);
                                return NULL;
                        }
                        c = *++p;
                }
                if (pm_strbuf_addch(&sb, c) < 0) {
                        *ret_oom = true;
                        pm_strbuf_release(&sb);
                        return NULL;
                }
        }
        v = pm_arena_strndup(s->arena, sb.buf ? sb.buf : "", sb.len);
        if (!v)
                *ret_oom = true;
        pm_strbuf_release(&sb);
        return v;
}

/* Index of the delimiter closing the one at @i, or n_toks when unbalanced. */
static size_t
match_close(const struct scan *s, size_t i)
{
        size_t depth = 0;

        for (; i < s->n_toks; i++) {
                if (is_punct(s, i, '(') || is_punct(s, i, '[') || is_punct(s, i, '{')) {
                        depth++;
                } else if (is_punct(s, i, ')') || is_punct(s, i, ']') || is_punct(s, i, '}')) {
                        if (--depth == 0)
                                return i;
                }
        }
        return s->n_toks;
}

/* From @i, skip balanced groups until a '{' or ';' at this level: true if '{' comes first. */
static bool
body_follows(const struct scan *s, size_t i)
{
        for (; i < s->n_toks; i++) {
                if (is_punct(s, i, '{'))
                        return true;
                if (is_punct(s, i, ';') || is_punct(s, i, '}') || is_punct(s, i, ')'))
                        return false;
                if (is_punct(s, i, '(') || is_punct(s, i, '['))
                        i = match_close(s, i);
        }
        return false;
}

/* ---- Output ------------------------------------------------------------------------------ */

static struct frame *
top(struct scan *s)
{
        return &s->frames[s->depth];
}

/* The current item path plus @name ("" and NULL allowed), in the arena. */
static const char *
item_path(struct scan *s, const char *name)
{
        if (!name || !name[0])
                return pm_arena_strndup(s->arena, s->path.buf ? s->path.buf : "", s->path.len);
        if (s->path.len == 0)
                return pm_arena_strdup(s->arena, name);
        return pm_arena_printf(s->arena, "%s::%s", s->path.buf, name);
}

/*
 * Add a site at token @i (or at @line/@col when @line > 0) with the current frame's flags.
 * @item NULL leaves it to be named when the pending item's name is known. Sites inside macro
 * matchers are patterns, not code, and are dropped. Returns 0 or -ENOMEM.
 */
static int
add_site(struct scan *s, enum pm_audit_kind kind, size_t i, unsigned line, unsigned col,
         const char *item, long *ret_index)
{
        struct frame *f = top(s);
        struct pm_audit_site *site;
        unsigned fl = f->flags | f->pend_flags;

        if (ret_index)
                *ret_index = -1;
        if (f->flags & FR_MATCHER)
                return 0;
        if (pm_grow(&s->out->sites, &s->cap_sites, s->out->n_sites + 1, 16) < 0)
                return -ENOMEM;
        site = &s->out->sites[s->out->n_sites];
        memset(site, 0, sizeof(*site));
        site->kind = kind;
        site->line = line ? line : tok_at(s, i)->line;
        site->column = line ? col : tok_at(s, i)->column;
        site->flags = ((fl & FR_TEST) ? PM_AUDIT_IN_TEST : 0) |
                      ((fl & FR_MACRO_DEF) ? PM_AUDIT_IN_MACRO_DEF : 0);
        site->item = (char *)item;
        if (ret_index)
                *ret_index = (long)s->out->n_sites;
        s->out->n_sites++;
        return 0;
}

/* Name every site still waiting at this level (attributes) after the pending item, and give
 * them the pending test flag (an attribute may come before #[cfg(test)]). */
static int
settle_pending_sites(struct scan *s)
{
        struct frame *f = top(s);
        const char *item = NULL;

        for (size_t k = f->pend_sites; k < s->out->n_sites; k++) {
                struct pm_audit_site *site = &s->out->sites[k];

                if (site->item)
                        continue;
                if (!item && !(item = item_path(s, f->pend_name)))
                        return -ENOMEM;
                site->item = (char *)item;
                if (f->pend_flags & FR_TEST)
                        site->flags |= PM_AUDIT_IN_TEST;
        }
        f->pend_sites = s->out->n_sites;
        return 0;
}

/* End of a statement at this level (`;`, `,`, or a body closed): forget what was pending. */
static int
end_statement(struct scan *s)
{
        struct frame *f = top(s);

        if (settle_pending_sites(s) < 0)
                return -ENOMEM;
        f->stmt = true;
        f->start_set = false;
        f->saw_safe = false;
        f->pend_flags = 0;
        f->pend_kind = ITEM_NONE;
        f->pend_name = NULL;
        f->pend_path = NULL;
        f->pend_abi = NULL;
        return 0;
}

static int
add_mod(struct scan *s, const char *name, unsigned line, unsigned flags)
{
        struct pm_audit_mod *m;

        if (pm_grow(&s->out->mods, &s->cap_mods, s->out->n_mods + 1, 8) < 0)
                return -ENOMEM;
        m = &s->out->mods[s->out->n_mods];
        memset(m, 0, sizeof(*m));
        m->name = (char *)name;
        m->path_attr = (char *)top(s)->pend_path;
        m->inline_dir = pm_arena_strndup(s->arena, s->dir.buf ? s->dir.buf : "", s->dir.len);
        m->line = line;
        m->flags = flags;
        if (!m->inline_dir)
                return -ENOMEM;
        s->out->n_mods++;
        return 0;
}

static int
add_include(struct scan *s, const char *path, unsigned line)
{
        struct pm_audit_include *inc;
        unsigned fl = top(s)->flags | top(s)->pend_flags;

        if (top(s)->flags & FR_MATCHER)
                return 0;
        if (pm_grow(&s->out->includes, &s->cap_includes, s->out->n_includes + 1, 4) < 0)
                return -ENOMEM;
        inc = &s->out->includes[s->out->n_includes++];
        inc->path = (char *)path;
        inc->line = line;
        inc->flags = ((fl & FR_TEST) ? PM_AUDIT_IN_TEST : 0) |
                     ((fl & FR_MACRO_DEF) ? PM_AUDIT_IN_MACRO_DEF : 0);
        return 0;
}

/* ---- Frames ------------------------------------------------------------------------------ */

static int
push_frame(struct scan *s, size_t i, struct pm_error *err)
{
        struct frame *parent = top(s), *f;
        char delim = s->src[tok_at(s, i)->start];
        bool body = delim == '{' || parent->pend_kind == ITEM_MACRO;
        enum item kind = body ? parent->pend_kind : ITEM_NONE;
        const char *name = body ? parent->pend_name : NULL;
        const char *dirname = NULL;
        unsigned flags = parent->flags | parent->pend_flags;

        if (s->depth + 1 >= PM_AUDIT_MAX_DEPTH)
                return pm_error_set_at(err, PM_ELIMIT, "", (int)tok_at(s, i)->line,
                                       (int)tok_at(s, i)->column,
                                       "nesting deeper than %d delimiters", PM_AUDIT_MAX_DEPTH);
        if (parent->kind == ITEM_MACRO && !parent->last_arrow)
                flags |= FR_MATCHER;
        if (kind == ITEM_MACRO)
                flags |= FR_MACRO_DEF;
        if (kind == ITEM_MOD)
                dirname = parent->pend_path ? parent->pend_path : name;
        if (body && settle_pending_sites(s) < 0)
                return -ENOMEM;

        f = &s->frames[++s->depth];
        memset(f, 0, sizeof(*f));
        f->delim = delim;
        f->flags = flags;
        f->kind = kind;
        f->path_len = s->path.len;
        f->dir_len = s->dir.len;
        f->extern_site = kind == ITEM_EXTERN ? parent->pend_extern : -1;
        f->restore_stmt = delim == '(' && parent->prev_pub;
        f->stmt = true;
        f->pend_sites = s->out->n_sites;
        if (name && kind != ITEM_EXTERN &&
            ((s->path.len && pm_strbuf_adds(&s->path, "::") < 0) ||
             pm_strbuf_adds(&s->path, name) < 0))
                return -ENOMEM;
        if (dirname && (pm_strbuf_adds(&s->dir, dirname) < 0 || pm_strbuf_addch(&s->dir, '/') < 0))
                return -ENOMEM;
        if (body) {
                /* The item's body is open: its level no longer waits for anything. */
                parent->pend_flags = 0;
                parent->pend_kind = ITEM_NONE;
                parent->pend_name = NULL;
                parent->pend_path = NULL;
        }
        return 0;
}

static int
pop_frame(struct scan *s)
{
        struct frame *f = top(s), *parent;
        bool brace = f->delim == '{';
        bool restore = f->restore_stmt;
        bool macro = f->kind == ITEM_MACRO;

        if (s->depth == 0)
                return 0; /* a stray closer */
        if (settle_pending_sites(s) < 0)
                return -ENOMEM;
        s->path.len = f->path_len;
        if (s->path.buf)
                s->path.buf[s->path.len] = '\0';
        s->dir.len = f->dir_len;
        if (s->dir.buf)
                s->dir.buf[s->dir.len] = '\0';
        s->depth--;
        parent = top(s);
        parent->last_arrow = false;
        parent->prev_pub = false;
        parent->prev_extern = false;
        if (brace || macro)
                return end_statement(s);
        parent->stmt = restore;
        return 0;
}

/* ---- Attributes -------------------------------------------------------------------------- */

/* True if the tokens [@b, @e) of a cfg(...) say "test only": `test` or `all(.., test, ..)`. */
static bool
cfg_is_test(const struct scan *s, size_t b, size_t e)
{
        if (e == b + 1 && is_word(s, b, "test"))
                return true;
        if (is_word(s, b, "all") && is_punct(s, b + 1, '(')) {
                size_t close = match_close(s, b + 1);

                for (size_t k = b + 2; k < close && k < e; k++) {
                        if (is_punct(s, k, '(') || is_punct(s, k, '['))
                                k = match_close(s, k);
                        else if (is_word(s, k, "test") &&
                                 (is_punct(s, k - 1, '(') || is_punct(s, k - 1, ',')) &&
                                 (is_punct(s, k + 1, ')') || is_punct(s, k + 1, ',')))
                                return true;
                }
        }
        return false;
}

static bool
has_word(const struct scan *s, size_t b, size_t e, const char *w)
{
        for (size_t k = b; k < e; k++)
                if (is_word_n(s, k, w, strlen(w)))
                        return true;
        return false;
}

static int
attr_kind(const struct scan *s, size_t k, enum pm_audit_kind *ret)
{
        if (is_word(s, k, "no_mangle"))
                *ret = PM_AUDIT_NO_MANGLE;
        else if (is_word(s, k, "export_name"))
                *ret = PM_AUDIT_EXPORT_NAME;
        else if (is_word(s, k, "link_section"))
                *ret = PM_AUDIT_LINK_SECTION;
        else
                return -1;
        return 0;
}

/*
 * The attribute starting at '#' (@i). Records its site (unsafe attributes), test scope, #[path]
 * or the file's forbid/deny(unsafe_code). Returns the index after its ']', or 0 on OOM.
 */
static size_t
scan_attribute(struct scan *s, size_t i, int *ret_r)
{
        struct frame *f = top(s);
        bool inner = is_punct(s, i + 1, '!');
        size_t open = i + 1 + (inner ? 1 : 0);
        size_t close = match_close(s, open);
        size_t a = open + 1; /* first token of the attribute */
        enum pm_audit_kind kind;
        int r = 0;

        if (attr_kind(s, a, &kind) == 0) {
                r = add_site(s, kind, i, 0, 0, NULL, NULL);
        } else if (is_word(s, a, "unsafe") && is_punct(s, a + 1, '(')) {
                if (attr_kind(s, a + 2, &kind) < 0)
                        kind = PM_AUDIT_UNSAFE_ATTR;
                r = add_site(s, kind, i, 0, 0, NULL, NULL);
                if (r == 0 && kind == PM_AUDIT_UNSAFE_ATTR && s->out->n_sites &&
                    !(f->flags & FR_MATCHER) && is_kind(s, a + 2, PM_RUST_TOK_IDENT)) {
                        const char *d = ident_text(s, a + 2);

                        if (!d)
                                r = -ENOMEM;
                        s->out->sites[s->out->n_sites - 1].detail = (char *)d;
                }
        } else if (is_word(s, a, "allow_internal_unsafe")) {
                r = add_site(s, PM_AUDIT_ALLOW_INTERNAL_UNSAFE, i, 0, 0, NULL, NULL);
        } else if (is_word(s, a, "cfg_attr") && is_punct(s, a + 1, '(')) {
                for (size_t k = a + 2; r == 0 && k < close; k++)
                        if (attr_kind(s, k, &kind) == 0 && !is_punct(s, k - 1, '='))
                                r = add_site(s, kind, i, 0, 0, NULL, NULL);
        } else if (is_word(s, a, "cfg") && is_punct(s, a + 1, '(')) {
                size_t e = match_close(s, a + 1);

                if (cfg_is_test(s, a + 2, e))
                        f->pend_flags |= FR_TEST;
        } else if (is_word(s, a, "test") && (a + 1 == close || is_punct(s, a + 1, '('))) {
                f->pend_flags |= FR_TEST;
        } else if (is_kind(s, a, PM_RUST_TOK_IDENT) && is_path_sep(s, a + 1)) {
                /* tokio::test, async_std::test: a path ending in ::test */
                size_t k = a;

                while (is_kind(s, k, PM_RUST_TOK_IDENT) && is_path_sep(s, k + 1))
                        k += 2;
                if (k > a && is_word(s, k, "test"))
                        f->pend_flags |= FR_TEST;
        } else if (is_word(s, a, "path") && is_punct(s, a + 1, '=')) {
                bool oom = false;

                f->pend_path = string_value(s, a + 2, &oom);
                if (oom)
                        r = -ENOMEM;
        } else if (inner && (is_word(s, a, "forbid") || is_word(s, a, "deny")) && s->depth == 0 &&
                   has_word(s, a + 1, close, "unsafe_code")) {
                if (is_word(s, a, "forbid"))
                        s->out->forbid_unsafe = true;
                else
                        s->out->deny_unsafe = true;
        }
        if (inner && (f->pend_flags & FR_TEST)) {
                /* #![cfg(test)]: the enclosing module (or the whole file) is test code. */
                f->flags |= FR_TEST;
                f->pend_flags &= ~(unsigned)FR_TEST;
                if (s->depth == 0)
                        s->out->test_only = true;
        }
        *ret_r = r;
        return close + 1;
}

/* ---- Items ------------------------------------------------------------------------------- */

/* The name of the impl starting after `impl` at @i: "Type" or "<Type as Trait>". */
static const char *
impl_name(struct scan *s, size_t i)
{
        size_t angle = 0, last = SIZE_MAX, trait_last = SIZE_MAX;
        bool seen_for = false;

        if (is_punct(s, i, '<')) {
                for (angle = 1, i++; i < s->n_toks && angle > 0; i++) {
                        if (is_punct(s, i, '<'))
                                angle++;
                        else if (is_punct(s, i, '>'))
                                angle--;
                        else if (is_punct(s, i, '{') || is_punct(s, i, ';'))
                                break;
                }
        }
        for (angle = 0; i < s->n_toks; i++) {
                if (is_punct(s, i, '{') || is_punct(s, i, ';') || is_word(s, i, "where"))
                        break;
                if (is_punct(s, i, '<')) {
                        angle++;
                } else if (is_punct(s, i, '>')) {
                        if (angle)
                                angle--;
                } else if (angle == 0 && is_word(s, i, "for") && !seen_for &&
                           !is_punct(s, i + 1, '<')) {
                        seen_for = true;
                        trait_last = last;
                        last = SIZE_MAX;
                } else if (angle == 0 && is_kind(s, i, PM_RUST_TOK_IDENT) &&
                           !is_word(s, i, "dyn") && !is_word(s, i, "mut") &&
                           !is_word(s, i, "const")) {
                        last = i;
                }
        }
        if (seen_for) {
                const char *t = last == SIZE_MAX ? "_" : ident_text(s, last);
                const char *tr = trait_last == SIZE_MAX ? "_" : ident_text(s, trait_last);

                if (!t || !tr)
                        return NULL;
                return pm_arena_printf(s->arena, "<%s as %s>", t, tr);
        }
        return last == SIZE_MAX ? pm_arena_strdup(s->arena, "_") : ident_text(s, last);
}

/* The name token after a keyword at @i ("$name" in macro transcribers), or "_". */
static const char *
name_after(struct scan *s, size_t i)
{
        if (is_kind(s, i, PM_RUST_TOK_IDENT))
                return ident_text(s, i);
        if (is_punct(s, i, '$') && is_kind(s, i + 1, PM_RUST_TOK_IDENT)) {
                const char *n = ident_text(s, i + 1);

                return n ? pm_arena_printf(s->arena, "$%s", n) : NULL;
        }
        return pm_arena_strdup(s->arena, "_");
}

/* The statement start of the current level, for item sites (rustc reports items there). */
static void
item_start(struct scan *s, size_t i, unsigned *line, unsigned *col)
{
        struct frame *f = top(s);

        *line = f->start_set ? f->start_line : tok_at(s, i)->line;
        *col = f->start_set ? f->start_col : tok_at(s, i)->column;
}

/* Set the item pending at this level, naming the attribute sites waiting for it. */
static int
set_pending(struct scan *s, enum item kind, const char *name)
{
        struct frame *f = top(s);

        if (!name)
                return -ENOMEM;
        f->pend_kind = kind;
        f->pend_name = name;
        return settle_pending_sites(s);
}

/* `unsafe` at @i: what it qualifies decides the site. */
static int
scan_unsafe(struct scan *s, size_t i)
{
        struct frame *f = top(s);
        size_t j = i + 1;
        unsigned line, col;
        enum pm_audit_kind kind;
        const char *name;
        long idx;
        int r;

        item_start(s, i, &line, &col);
        if (is_punct(s, j, '{'))
                return add_site(s, PM_AUDIT_UNSAFE_BLOCK, i, 0, 0, item_path(s, f->pend_name),
                                NULL);
        if (is_word(s, j, "extern")) {
                size_t k = j + 1 + (is_kind(s, j + 1, PM_RUST_TOK_STRING) ? 1 : 0);

                if (is_punct(s, k, '{')) {
                        const char *abi =
                                k > j + 1 ? pm_arena_strndup(s->arena,
                                                             s->src + tok_at(s, j + 1)->start,
                                                             tok_at(s, j + 1)->len)
                                          : "";

                        if (!abi || add_site(s, PM_AUDIT_UNSAFE_EXTERN_BLOCK, i, line, col,
                                             item_path(s, NULL), &idx) < 0)
                                return -ENOMEM;
                        if (idx >= 0)
                                s->out->sites[idx].detail = (char *)abi;
                        f->pend_abi = abi;
                        f->pend_extern = idx;
                        return set_pending(s, ITEM_EXTERN, "");
                }
                if (is_word(s, k, "fn"))
                        j = k;
        }
        if (is_word(s, j, "fn")) {
                if (is_punct(s, j + 1, '('))
                        return 0; /* the type unsafe fn(..) */
                if (f->kind == ITEM_EXTERN)
                        return 0; /* a foreign item marked unsafe (edition 2024) */
                kind = f->kind == ITEM_IMPL    ? PM_AUDIT_UNSAFE_METHOD
                       : f->kind == ITEM_TRAIT ? PM_AUDIT_UNSAFE_TRAIT_METHOD
                                               : PM_AUDIT_UNSAFE_FN;
                name = name_after(s, j + 1);
                r = add_site(s, kind, i, line, col, name ? item_path(s, name) : NULL, &idx);
                if (r == 0 && idx >= 0 && !body_follows(s, j + 1))
                        s->out->sites[idx].flags |= PM_AUDIT_DECL;
                return name ? r : -ENOMEM;
        }
        if (is_word(s, j, "impl")) {
                name = impl_name(s, j + 1);
                return add_site(s, PM_AUDIT_UNSAFE_IMPL, i, line, col,
                                name ? item_path(s, name) : NULL, NULL) < 0 ||
                                       !name
                               ? -ENOMEM
                               : 0;
        }
        if (is_word(s, j, "trait") || (is_word(s, j, "auto") && is_word(s, j + 1, "trait"))) {
                name = name_after(s, j + (is_word(s, j, "auto") ? 2 : 1));
                return add_site(s, PM_AUDIT_UNSAFE_TRAIT, i, line, col,
                                name ? item_path(s, name) : NULL, NULL) < 0 ||
                                       !name
                               ? -ENOMEM
                               : 0;
        }
        if (f->kind == ITEM_EXTERN && (is_word(s, j, "static") || is_word(s, j, "type")))
                return 0;
        if (is_punct(s, j, '(') && is_punct(s, i - 1, '['))
                return 0; /* #[unsafe(..)] is the attribute scanner's */
        return add_site(s, PM_AUDIT_UNSAFE_OTHER, i, 0, 0, item_path(s, f->pend_name), NULL);
}

static bool
is_qualifier(const struct scan *s, size_t i)
{
        const struct pm_rust_token *t = tok_at(s, i);

        if (t->kind != PM_RUST_TOK_IDENT || t->raw || t->len < 3 || t->len > 7)
                return false;
        return is_word(s, i, "pub") || is_word(s, i, "unsafe") || is_word(s, i, "const") ||
               is_word(s, i, "async") || is_word(s, i, "default") || is_word(s, i, "extern") ||
               is_word(s, i, "safe") || is_word(s, i, "auto") || is_word(s, i, "crate");
}

/* One identifier at @i with the level's statement state before it. */
static int
scan_ident(struct scan *s, size_t i)
{
        struct frame *f = top(s);
        bool stmt = f->stmt;
        const struct pm_rust_token *t = tok_at(s, i);
        unsigned line, col;

        if (t->raw)
                return 0;
        if (is_word(s, i, "unsafe"))
                return scan_unsafe(s, i);
        if (is_punct(s, i + 1, '!')) {
                if ((is_word(s, i, "global_asm") || is_word(s, i, "asm") ||
                     is_word(s, i, "naked_asm")) &&
                    !is_word(s, i - 1, "macro_rules")) {
                        bool global = is_word(s, i, "global_asm");

                        item_start(s, i, &line, &col);
                        return add_site(s, global ? PM_AUDIT_GLOBAL_ASM : PM_AUDIT_ASM, i,
                                        global ? line : 0, global ? col : 0,
                                        item_path(s, f->pend_name), NULL);
                }
                if (is_word(s, i, "include") && is_punct(s, i + 2, '(')) {
                        bool oom = false;
                        const char *p =
                                is_punct(s, i + 4, ')') ? string_value(s, i + 3, &oom) : NULL;

                        return oom ? -ENOMEM : add_include(s, p, t->line);
                }
                if (is_word(s, i, "macro_rules") && stmt) {
                        const char *name = name_after(s, i + 2);

                        return set_pending(s, ITEM_MACRO,
                                           name ? pm_arena_printf(s->arena, "%s!", name) : NULL);
                }
                return 0;
        }
        if (is_word(s, i, "extern") && !is_word(s, i - 1, "unsafe")) {
                size_t k = i + 1 + (is_kind(s, i + 1, PM_RUST_TOK_STRING) ? 1 : 0);
                long idx;

                if (!is_punct(s, k, '{'))
                        return 0;
                item_start(s, i, &line, &col);
                f->pend_abi = k > i + 1
                                      ? pm_arena_strndup(s->arena, s->src + tok_at(s, i + 1)->start,
                                                         tok_at(s, i + 1)->len)
                                      : "";
                if (!f->pend_abi ||
                    add_site(s, PM_AUDIT_EXTERN_BLOCK, i, line, col, item_path(s, NULL), &idx) < 0)
                        return -ENOMEM;
                if (idx >= 0)
                        s->out->sites[idx].detail = (char *)f->pend_abi;
                f->pend_extern = idx;
                return set_pending(s, ITEM_EXTERN, "");
        }
        if (!stmt)
                return 0;
        if (is_word(s, i, "safe"))
                f->saw_safe = true;
        if (f->kind == ITEM_EXTERN && f->extern_site >= 0 &&
            (is_word(s, i, "fn") || is_word(s, i, "static") || is_word(s, i, "type"))) {
                struct pm_audit_site *site = &s->out->sites[f->extern_site];

                site->n_items++;
                if (f->saw_safe)
                        site->n_safe++;
        }
        if (is_word(s, i, "fn") && !is_punct(s, i + 1, '('))
                return set_pending(s, ITEM_FN, name_after(s, i + 1));
        if (is_word(s, i, "impl"))
                return set_pending(s, ITEM_IMPL, impl_name(s, i + 1));
        if (is_word(s, i, "trait"))
                return set_pending(s, ITEM_TRAIT, name_after(s, i + 1));
        if ((is_word(s, i, "struct") || is_word(s, i, "enum") || is_word(s, i, "union") ||
             is_word(s, i, "static") ||
             (is_word(s, i, "const") && !is_word(s, i + 1, "fn") &&
              !is_word(s, i + 1, "unsafe"))) &&
            is_kind(s, i + 1, PM_RUST_TOK_IDENT) && !is_qualifier(s, i + 1))
                return set_pending(s, ITEM_OTHER,
                                   name_after(s, i + 1 + (is_word(s, i + 1, "mut") ? 1 : 0)));
        if (is_word(s, i, "mod") && is_kind(s, i + 1, PM_RUST_TOK_IDENT)) {
                const char *name = ident_text(s, i + 1);

                if (!name)
                        return -ENOMEM;
                if (is_punct(s, i + 2, ';'))
                        return add_mod(s, name, t->line,
                                       ((f->flags | f->pend_flags) & FR_TEST) ? PM_AUDIT_IN_TEST
                                                                              : 0);
                return set_pending(s, ITEM_MOD, name);
        }
        return 0;
}

/* After each token of this level that is not an attribute or a delimiter. */
static void
after_token(struct scan *s, size_t i)
{
        struct frame *f = top(s);
        bool qual = is_qualifier(s, i) || (f->prev_extern && is_kind(s, i, PM_RUST_TOK_STRING));

        f->stmt = f->stmt && qual;
        f->last_arrow = is_arrow(s, i);
        f->prev_pub = is_word(s, i, "pub");
        f->prev_extern = is_word(s, i, "extern");
}

static int
scan_tokens(struct scan *s, struct pm_error *err)
{
        size_t i = 0;
        int r = 0;

        while (r == 0 && i < s->n_toks) {
                struct frame *f = top(s);
                const struct pm_rust_token *t = &s->toks[i];

                if (is_punct(s, i, '#') && (is_punct(s, i + 1, '[') ||
                                            (is_punct(s, i + 1, '!') && is_punct(s, i + 2, '[')))) {
                        i = scan_attribute(s, i, &r);
                        continue;
                }
                if (f->stmt && !f->start_set && t->kind != PM_RUST_TOK_PUNCT) {
                        f->start_set = true;
                        f->start_line = t->line;
                        f->start_col = t->column;
                }
                if (is_punct(s, i, '{') || is_punct(s, i, '(') || is_punct(s, i, '[')) {
                        r = push_frame(s, i, err);
                } else if (is_punct(s, i, '}') || is_punct(s, i, ')') || is_punct(s, i, ']')) {
                        r = pop_frame(s);
                } else if (is_punct(s, i, ';') ||
                           (is_punct(s, i, ',') && f->pend_kind == ITEM_NONE)) {
                        /* A comma inside an item's generics or where clause is not its end. */
                        r = end_statement(s);
                        f->last_arrow = false;
                } else {
                        if (t->kind == PM_RUST_TOK_IDENT)
                                r = scan_ident(s, i);
                        after_token(s, i);
                }
                i++;
        }
        while (r == 0 && s->depth > 0)
                r = pop_frame(s);
        if (r == 0)
                r = settle_pending_sites(s);
        return r;
}

/* Tokenize the whole file, dropping comments. */
static int
lex_all(struct scan *s)
{
        struct pm_rust_lexer lx;

        pm_rust_lexer_init(&lx, s->src, s->len);
        for (;;) {
                struct pm_rust_token t;

                pm_rust_lexer_next(&lx, &t);
                if (t.unterminated)
                        s->out->lex_errors++;
                if (t.kind == PM_RUST_TOK_EOF)
                        return 0;
                if (t.kind == PM_RUST_TOK_COMMENT)
                        continue;
                /* Rust averages more than 5 bytes per token: one allocation for most files
                 * instead of a doubling series of copies. */
                if (pm_grow(&s->toks, &s->cap_toks, s->n_toks + 1, s->len / 3 + 256) < 0)
                        return -ENOMEM;
                s->toks[s->n_toks++] = t;
        }
}

int
pm_audit_scan(const char *src, size_t len, struct pm_audit_file *ret, struct pm_error *err)
{
        struct pm__audit_tokbuf tb = { 0 };
        int r = pm__audit_scan_buf(src, len, ret, &tb, err);

        pm_free(tb.v);
        return r;
}

int
pm__audit_scan_buf(const char *src, size_t len, struct pm_audit_file *ret,
                   struct pm__audit_tokbuf *tb, struct pm_error *err)
{
        struct scan s = { .src = src, .len = len, .out = ret, .toks = tb->v, .cap_toks = tb->cap };
        int r;

        memset(ret, 0, sizeof(*ret));
        pm_strbuf_init(&s.path);
        pm_strbuf_init(&s.dir);
        s.arena = pm_arena_new();
        s.frames = pm_calloc(PM_AUDIT_MAX_DEPTH, sizeof(*s.frames));
        if (!s.arena || !s.frames) {
                r = pm_error_set(err, -ENOMEM, "out of memory scanning rust source");
                goto out;
        }
        ret->priv_ = s.arena;
        s.frames[0].stmt = true;
        s.frames[0].extern_site = -1;
        r = lex_all(&s);
        if (r == 0)
                r = scan_tokens(&s, err);
        if (r == -ENOMEM)
                pm_error_set(err, r, "out of memory scanning rust source");
out:
        if (r < 0) {
                ret->priv_ = NULL;
                pm_arena_free(s.arena);
                pm_audit_file_release(ret);
        }
        tb->v = s.toks;
        tb->cap = s.cap_toks;
        pm_free(s.frames);
        pm_strbuf_release(&s.path);
        pm_strbuf_release(&s.dir);
        return r;
}

void
pm_audit_file_release(struct pm_audit_file *f)
{
        if (!f)
                return;
        pm_free(f->sites);
        pm_free(f->mods);
        pm_free(f->includes);
        pm_arena_free(f->priv_);
        memset(f, 0, sizeof(*f));
}
