/* SPDX-License-Identifier: MIT */
/* The unsafe-code audit: a Rust tokenizer and the per-file scanner that lists every unsafe site
 * (docs/cli.md, `projmodel audit`). Knows nothing of SQLite, processes or the build systems. */
#ifndef PROJMODEL_AUDIT_H
#define PROJMODEL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pm_config;
struct pm_crate;
struct pm_error;
struct pm_strbuf;

/* ---- Tokens ---------------------------------------------------------------------------- */

enum pm_rust_tok {
        PM_RUST_TOK_EOF,
        PM_RUST_TOK_IDENT,    /* identifier or keyword; raw identifiers (r#x) have `raw` set */
        PM_RUST_TOK_LIFETIME, /* 'a, 'static, labels, 'r#x */
        PM_RUST_TOK_CHAR,     /* 'x', b'x' */
        PM_RUST_TOK_STRING,   /* "..", b"..", c"..", r#".."#, br"..", cr".." */
        PM_RUST_TOK_NUMBER,   /* 1, 0x1f_u8, 1.5e3f32 */
        PM_RUST_TOK_PUNCT,    /* one character, or "::", "=>", "->" */
        PM_RUST_TOK_COMMENT,  /* line, block (nested) and doc comments */
        _PM_RUST_TOK_MAX
};

/* One token: a span of the source. `line` and `column` are 1-based (column in bytes). */
struct pm_rust_token {
        enum pm_rust_tok kind;
        size_t start;      /* byte offset into the source */
        size_t len;        /* bytes */
        unsigned line;     /* of the first byte */
        unsigned column;   /* of the first byte */
        bool raw;          /* IDENT: written r#name (never a keyword) */
        bool unterminated; /* STRING, CHAR, COMMENT: the input ended inside it */
};

/* A position in a source being tokenized. Caller storage; pm_rust_lexer_init() fills it. */
struct pm_rust_lexer {
        const char *src; /* borrowed, @len bytes (need not be NUL-terminated) */
        size_t len;
        size_t pos;
        unsigned line;
        size_t line_start; /* offset of the first byte of `line` */
};

/* Start tokenizing @src (borrowed for the lexer's life). A leading shebang line is skipped. */
void pm_rust_lexer_init(struct pm_rust_lexer *lx, const char *src, size_t len);

/*
 * Read the next token into *@tok (comments included). Never fails: any byte sequence is some
 * token sequence, unknown bytes are one-byte PUNCT tokens, and EOF repeats at the end.
 */
void pm_rust_lexer_next(struct pm_rust_lexer *lx, struct pm_rust_token *tok);

/* ---- Unsafe sites ---------------------------------------------------------------------- */

/*
 * What the scanner counts. Columns: name, JSON/SARIF name, description, whether rustc's
 * `unsafe_code` lint reports it (the compiler-as-oracle tests compare exactly those).
 */
#define PM_AUDIT_KIND_MAP(X)                                                                \
        X(UNSAFE_BLOCK, "unsafe_block", "unsafe block", true)                               \
        X(UNSAFE_FN, "unsafe_fn", "unsafe fn", true)                                        \
        X(UNSAFE_METHOD, "unsafe_method", "unsafe method", true)                            \
        X(UNSAFE_TRAIT_METHOD, "unsafe_trait_method", "unsafe trait method", true)          \
        X(UNSAFE_IMPL, "unsafe_impl", "unsafe impl", true)                                  \
        X(UNSAFE_TRAIT, "unsafe_trait", "unsafe trait", true)                               \
        X(EXTERN_BLOCK, "extern_block", "extern block", false)                              \
        X(UNSAFE_EXTERN_BLOCK, "unsafe_extern_block", "unsafe extern block", true)          \
        X(NO_MANGLE, "no_mangle", "#[no_mangle]", true)                                     \
        X(EXPORT_NAME, "export_name", "#[export_name]", true)                               \
        X(LINK_SECTION, "link_section", "#[link_section]", true)                            \
        X(UNSAFE_ATTR, "unsafe_attr", "other #[unsafe(...)] attribute", false)              \
        X(ALLOW_INTERNAL_UNSAFE, "allow_internal_unsafe", "#[allow_internal_unsafe]", true) \
        X(GLOBAL_ASM, "global_asm", "global_asm!", true)                                    \
        X(ASM, "asm", "asm!", false)                                                        \
        X(UNSAFE_OTHER, "unsafe_other", "other use of the unsafe keyword", false)

enum pm_audit_kind {
#define PM__AUDIT_KIND_ENUM(name, id, desc, lint) PM_AUDIT_##name,
        PM_AUDIT_KIND_MAP(PM__AUDIT_KIND_ENUM)
#undef PM__AUDIT_KIND_ENUM
        _PM_AUDIT_KIND_MAX
};

/* "unsafe_block", ... (static), or "?" out of range. */
const char *pm_audit_kind_name(enum pm_audit_kind kind);
/* "unsafe block", ... (static), or "?". */
const char *pm_audit_kind_description(enum pm_audit_kind kind);
/* True for the kinds rustc's unsafe_code lint reports. */
bool pm_audit_kind_is_lint(enum pm_audit_kind kind);
/* Returns 0 and sets *ret_kind, or PM_ENOTFOUND. */
int pm_audit_kind_parse(const char *name, enum pm_audit_kind *ret_kind);

enum pm_audit_site_flags {
        PM_AUDIT_IN_TEST = 1 << 0,      /* under #[cfg(test)], #[test] or a test-only module */
        PM_AUDIT_IN_MACRO_DEF = 1 << 1, /* inside a macro_rules! definition */
        PM_AUDIT_DECL = 1 << 2,         /* an unsafe fn without a body (trait declaration) */
};

/* One site. Strings belong to the owning pm_audit_file. */
struct pm_audit_site {
        enum pm_audit_kind kind;
        unsigned line;    /* 1-based: the item's first token after its attributes, the `unsafe`
                           * of a block, the `#` of an attribute, the macro name of asm! */
        unsigned column;  /* 1-based byte column of the same token */
        unsigned flags;   /* enum pm_audit_site_flags */
        char *item;       /* enclosing item path inside the file ("Foo::bar", "<Foo as Send>",
                           * "" at file level); for item sites, the item itself */
        char *detail;     /* extern blocks: ABI and item counts; attributes: their name; or NULL */
        unsigned n_items; /* extern blocks: foreign items */
        unsigned n_safe;  /* extern blocks: items marked `safe` (edition 2024) */
};

/* An out-of-line module `mod name;` the file declares (where to find its file). */
struct pm_audit_mod {
        char *name;       /* the module name (r# stripped) */
        char *path_attr;  /* the #[path = ".."] value, or NULL */
        char *inline_dir; /* the enclosing inline modules as a relative directory ("a/b/"), each
                           * replaced by its own #[path] when it has one; "" at file level */
        unsigned line;
        unsigned flags; /* PM_AUDIT_IN_TEST when the declaration is under a test cfg */
};

/* An include!("...") the file makes. */
struct pm_audit_include {
        char *path; /* the literal path, or NULL when it is not a plain string (concat!, env!) */
        unsigned line;
        unsigned flags; /* PM_AUDIT_IN_TEST, PM_AUDIT_IN_MACRO_DEF */
};

/*
 * What one file holds. Owned by the caller: fill with pm_audit_scan(), free the contents with
 * pm_audit_file_release() (which also accepts a zeroed struct).
 */
struct pm_audit_file {
        struct pm_audit_site *sites; /* in source order */
        size_t n_sites;
        struct pm_audit_mod *mods;
        size_t n_mods;
        struct pm_audit_include *includes;
        size_t n_includes;
        bool forbid_unsafe;  /* #![forbid(unsafe_code)] at file level */
        bool deny_unsafe;    /* #![deny(unsafe_code)] at file level */
        bool test_only;      /* #![cfg(test)] at file level */
        unsigned lex_errors; /* unterminated strings, chars or comments */
        /* private */
        void *priv_;
};

/* Upper bound on nesting of (), [], {} in one file; deeper input fails with PM_ELIMIT. */
#define PM_AUDIT_MAX_DEPTH 512

/*
 * Scan @len bytes of Rust source at @src (borrowed) and fill *@ret (which must be zeroed or
 * released). Returns 0, -ENOMEM, or PM_ELIMIT for nesting beyond PM_AUDIT_MAX_DEPTH; on failure
 * *@ret is left empty. Malformed Rust is not an error: the scan is lexical and best effort.
 */
int pm_audit_scan(const char *src, size_t len, struct pm_audit_file *ret, struct pm_error *err);

/* Free what pm_audit_scan() put in @f and zero it. */
void pm_audit_file_release(struct pm_audit_file *f);

/*
 * Append @f to @out in a compact encoding (JSON) that pm_audit_file_decode() reads back exactly.
 * Returns 0 or -ENOMEM.
 */
int pm_audit_file_encode(const struct pm_audit_file *f, struct pm_strbuf *out);

/*
 * Decode @len bytes written by pm_audit_file_encode() into *@ret (zeroed or released). Returns
 * 0, -ENOMEM, or PM_EPARSE when the bytes are not such an encoding (*@ret left empty).
 */
int pm_audit_file_decode(const char *data, size_t len, struct pm_audit_file *ret,
                         struct pm_error *err);

/* ---- Crate inventory ------------------------------------------------------------------- */

/* How a file came to belong to a crate. */
enum pm_audit_role {
        PM_AUDIT_ROLE_ROOT,     /* the crate root (root_module) */
        PM_AUDIT_ROLE_DECLARED, /* listed in the build system's sources */
        PM_AUDIT_ROLE_MODULE,   /* reached through `mod x;` (or #[path]) from another file */
        PM_AUDIT_ROLE_INCLUDE,  /* reached through include!("...") */
        _PM_AUDIT_ROLE_MAX
};

/* "root", "declared", "module", "include". */
const char *pm_audit_role_name(enum pm_audit_role role);

enum pm_audit_source_flags {
        PM_AUDIT_SRC_TEST = 1 << 0, /* only compiled for tests (#[cfg(test)] mod, #![cfg(test)]) */
        PM_AUDIT_SRC_MISSING = 1 << 1, /* named but not readable (cfg'd-out platform modules) */
};

/* One file of a crate. */
struct pm_audit_source {
        const char *path; /* absolute, normalised; owned by the pm_audit */
        enum pm_audit_role role;
        unsigned flags;                   /* enum pm_audit_source_flags */
        const struct pm_audit_file *scan; /* shared by every crate holding the file; NULL when
                                           * missing */
};

/* How the build passes the unsafe_code lint (-F/-D unsafe_code in the crate's flags). */
enum pm_audit_lint_level {
        PM_AUDIT_LINT_NONE,
        PM_AUDIT_LINT_DENY,
        PM_AUDIT_LINT_FORBID,
};

/* The inventory of one crate. Everything belongs to the pm_audit that made it. */
struct pm_audit_crate {
        const struct pm_crate *crate;    /* borrowed from the caller's graph */
        struct pm_audit_source *sources; /* root first, then declared, then reached ones */
        size_t n_sources;
        bool root_forbids;                      /* the root file has #![forbid(unsafe_code)] */
        bool root_denies;                       /* the root file has #![deny(unsafe_code)] */
        enum pm_audit_lint_level build_lint;    /* from the crate's rustc flags */
        size_t counts[_PM_AUDIT_KIND_MAX];      /* sites outside test code, by kind */
        size_t test_counts[_PM_AUDIT_KIND_MAX]; /* sites in test code, by kind */
        size_t n_sites;                         /* outside test code, all kinds */
        size_t n_test_sites;                    /* in test code */
};

/* True if site @s of @src counts as test code (its own scope or its file's). */
bool pm_audit_site_in_test(const struct pm_audit_source *src, const struct pm_audit_site *s);

/* Upper bounds: bytes of one source file, files of one crate. Beyond: PM_ELIMIT. */
#define PM_AUDIT_MAX_FILE_BYTES  ((size_t)64 << 20)
#define PM_AUDIT_MAX_CRATE_FILES 100000

/*
 * An audit run: the files read so far (each read and scanned once however many crates hold it)
 * and the crates inventoried. Owned by the caller: pm_audit_new(), pm_audit_free().
 */
struct pm_audit;

int pm_audit_new(struct pm_audit **ret, struct pm_error *err);
/* Frees @a and everything it handed out. NULL is a no-op. Returns NULL. */
struct pm_audit *pm_audit_free(struct pm_audit *a);

/*
 * Inventory crate @c (borrowed; must outlive @a): scan its root, its declared sources, and every
 * file reached from them through `mod x;`, #[path] and include!("literal"), following rustc's
 * module file rules. A file that cannot be read is listed as missing, not an error. Sets
 * *@ret (owned by @a). Errors: -ENOMEM, PM_ELIMIT, -errno for a read error other than a missing
 * file.
 */
int pm_audit_add_crate(struct pm_audit *a, const struct pm_crate *c,
                       const struct pm_audit_crate **ret, struct pm_error *err);

/* How many distinct files @a has read and scanned so far (for tests and benchmarks). */
size_t pm_audit_files_scanned(const struct pm_audit *a);
/* Bytes read so far. */
size_t pm_audit_bytes_read(const struct pm_audit *a);

/* What a file was when it was scanned: size, mtime in ns (-1: too recent to vouch for), hash. */
struct pm_audit_file_stamp {
        int64_t size;
        int64_t mtime_ns;
        uint64_t hash; /* pm_hash64() of the bytes */
};

/*
 * Where a run keeps scans between runs (the model, see pm_index_audit_get()). get() appends the
 * encoded scan of @path to @scan and sets *ret_hit when it has one; put() replaces it. Both
 * return 0 or a negative error and fill @err. @ud is the store's own.
 */
struct pm_audit_store {
        int (*get)(void *ud, const char *path, struct pm_audit_file_stamp *ret_stamp,
                   struct pm_strbuf *scan, bool *ret_hit, struct pm_error *err);
        int (*put)(void *ud, const char *path, const struct pm_audit_file_stamp *stamp,
                   const char *scan, size_t len, struct pm_error *err);
        void *ud;
};

/*
 * Use @store (copied; its @ud borrowed) for the files read from now on: a file whose size and
 * mtime match its record is not read at all; one whose bytes hash as recorded is not scanned
 * again; any other is scanned and its record replaced.
 */
void pm_audit_set_store(struct pm_audit *a, const struct pm_audit_store *store);

/* Files whose bytes were read (not answered by the store on size and mtime alone). */
size_t pm_audit_files_read(const struct pm_audit *a);

/*
 * Keeping a pm_audit between runs (the daemon, docs/protocol.md projmodel/audit): its files stay
 * read and scanned, and each run starts with pm_audit_begin_run(). Files in a *trusted*
 * directory (one watched since before they were last checked) are taken as they are, without a
 * stat; the others are stat'ed and loaded again when their size or mtime moved (or their mtime
 * was too recent to vouch for them). Symlinked files are never trusted: their changes happen in
 * their target's directory.
 *
 * pm_audit_begin_run(): @changed (absolute paths) changed since the last run (a watch said so);
 * @watched directories have been watched since before this call and are trusted once it has
 * checked their files; @distrust forgets every trusted directory first (a watch was lost).
 * *@ret_changed is set when any file holds something other than before: the crates
 * inventoried so far are then out of date (pm_audit_drop_crates()). Returns 0, -ENOMEM, or a
 * read error (the file is listed as missing and tried again next run).
 */
int pm_audit_begin_run(struct pm_audit *a, const char *const *changed, size_t n_changed,
                       const char *const *watched, size_t n_watched, bool distrust,
                       bool *ret_changed, struct pm_error *err);
/* Free every pm_audit_crate handed out so far (their pointers become invalid); files stay. */
void pm_audit_drop_crates(struct pm_audit *a);
/*
 * True when a file that crate @ac (handed out by @a) was made of, or a module file its walk
 * looked for and did not use, held something else at the last pm_audit_begin_run(): its
 * inventory is out of date. Crates with no such file stay as they are (the daemon renders only
 * the changed ones again, docs/protocol.md).
 */
bool pm_audit_crate_changed(const struct pm_audit *a, const struct pm_audit_crate *ac);
/*
 * The crates pm_audit_crate_changed() is true for, each once, in *@ret (borrowed from @a: valid
 * until the next pm_audit_begin_run() or until a crate is dropped), without a look at the
 * others: each file knows the crates that looked at it. Returns how many.
 */
size_t pm_audit_changed_crates(const struct pm_audit *a, const struct pm_audit_crate *const **ret);
/* Free the one crate @ac handed out by @a (its pointer becomes invalid); files stay. */
void pm_audit_drop_crate(struct pm_audit *a, const struct pm_audit_crate *ac);
/*
 * The directories of @a's files that are not trusted (symlinked files aside), in *@ret (owned,
 * NULL-terminated, pm_argv_free()) and *@ret_n: what a caller should watch. 0 or -ENOMEM.
 */
int pm_audit_unwatched_dirs(const struct pm_audit *a, char ***ret, size_t *ret_n,
                            struct pm_error *err);
/* Files stat'ed by the last pm_audit_begin_run(); trusted directories. */
size_t pm_audit_files_checked(const struct pm_audit *a);
size_t pm_audit_dirs_trusted(const struct pm_audit *a);

/* ---- Rendering ------------------------------------------------------------------------- */

struct cJSON;

/* "forbid", "deny" or "none". */
const char *pm_audit_lint_name(enum pm_audit_lint_level l);

/*
 * The JSON inventory of @crates (docs/cli.md, `audit --format json`): an array with one object
 * per crate, paths relative to @root when under it. The same document for the command and the
 * daemon's projmodel/audit. Owned by the caller (cJSON_Delete()); NULL when out of memory.
 */
struct cJSON *pm_audit_json(const char *root, const struct pm_audit_crate *const *crates, size_t n);

/*
 * The SARIF 2.1.0 log of @crates (docs/cli.md, `audit --format sarif`): one rule per kind, one
 * note result per site, paths relative to the SRCROOT base @root. Owned by the caller; NULL when
 * out of memory.
 */
struct cJSON *pm_audit_sarif(const char *root, const struct pm_audit_crate *const *crates,
                             size_t n);

/* The text report of @crates (docs/cli.md, `audit --format text`), appended to @sb. 0 or
 * -ENOMEM. */
int pm_audit_text(struct pm_strbuf *sb, const char *root,
                  const struct pm_audit_crate *const *crates, size_t n);

/*
 * One crate's part of each document, for a caller that keeps the parts and joins them (the
 * daemon, server/audit.c): pm_audit_json()'s array holds the objects of pm_audit_json_crate();
 * the "results" of pm_audit_sarif()'s one run are those of pm_audit_sarif_results(), crate
 * after crate; pm_audit_text() is the pm_audit_text_crate() texts separated by one "\n". The
 * cJSON values are owned by the caller (NULL when out of memory); the text is appended to @sb
 * (0 or -ENOMEM).
 */
struct cJSON *pm_audit_json_crate(const char *root, const struct pm_audit_crate *ac);
struct cJSON *pm_audit_sarif_results(const char *root, const struct pm_audit_crate *ac);
int pm_audit_text_crate(struct pm_strbuf *sb, const char *root, const struct pm_audit_crate *ac);

/* The formats of `projmodel audit --format` and of projmodel/audit's "format" parameter. */
enum pm_audit_format {
        PM_AUDIT_FORMAT_TEXT,
        PM_AUDIT_FORMAT_JSON,
        PM_AUDIT_FORMAT_SARIF,
};

/* "text", "json" or "sarif": 0 with *@ret set, else PM_ENOTFOUND. */
int pm_audit_format_parse(const char *name, enum pm_audit_format *ret);

/*
 * Exactly what `projmodel audit --format @format` prints for @crates, appended to @sb: the text
 * report, or the JSON or SARIF document printed by cJSON_Print() plus a newline. 0 or -ENOMEM.
 */
int pm_audit_render(struct pm_strbuf *sb, enum pm_audit_format format, const char *root,
                    const struct pm_audit_crate *const *crates, size_t n);

/* ---- Policy ---------------------------------------------------------------------------- */

/*
 * The "audit" section of .projmodel.json (docs/configuration.md): which crates may contain
 * unsafe (label prefixes), whether the others must forbid it, who reviews unsafe per prefix,
 * and which third-party crates are audited to which criteria (inline, or cargo-vet audits.toml
 * files imported as they are). Owned by the caller: pm_audit_policy_free().
 */
struct pm_audit_policy;

/*
 * Read @cfg's "audit" section (an empty policy allowing everything when there is none) and the
 * audits.toml files it names. PM_ECONFIG naming the key for a malformed section, -errno naming
 * an unreadable audits file.
 */
int pm_audit_policy_load(const struct pm_config *cfg, struct pm_audit_policy **ret,
                         struct pm_error *err);
struct pm_audit_policy *pm_audit_policy_free(struct pm_audit_policy *p);

/* True when the section exists (--check has something to check). */
bool pm_audit_policy_present(const struct pm_audit_policy *p);
/* True if @label matches an allow_unsafe prefix ("//third_party/rust/", "//base/ffi:*"). */
bool pm_audit_policy_allows_unsafe(const struct pm_audit_policy *p, const char *label);
/* "require_forbid": crates not allowed unsafe must forbid unsafe_code (root or build flag). */
bool pm_audit_policy_requires_forbid(const struct pm_audit_policy *p);
/* The reviewers of the longest owners prefix matching @label, NULL-terminated (borrowed), or
 * NULL when none matches. */
const char *const *pm_audit_policy_owners(const struct pm_audit_policy *p, const char *label);
/*
 * True if version @version (NULL: unknown) of the crate named @name (package or crate name) is
 * audited at the required criteria ("criteria", default "safe-to-deploy"; safe-to-deploy
 * implies safe-to-run, and the imported [criteria.X] tables' implies hold): an inline entry, a
 * trusted or wildcard entry, or a full audit of a version from which audited deltas lead to
 * @version (with @version unknown, any audit of the crate), and no recorded violation matching
 * @version (any, when unknown) of a criterion the required one implies.
 */
bool pm_audit_policy_audited(const struct pm_audit_policy *p, const char *name,
                             const char *version);
/* The required criteria (borrowed). */
const char *pm_audit_policy_criteria(const struct pm_audit_policy *p);

#endif
