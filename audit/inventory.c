/* SPDX-License-Identifier: MIT */
/* The crate inventory of the unsafe audit: which files make up a crate (root, declared sources,
 * the module tree, include!s) and what their scans add up to. Reads source files; knows nothing
 * of the model database or the build tools. Over 800 lines because the run's file table and
 * its keeping between runs (pm_audit_begin_run(), for the daemon) share its private structs. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "audit-internal.h"

/* One file seen by the run, read and scanned once. */
struct file {
        char *path; /* in the run's arena */
        uint64_t hash;
        bool missing;
        bool symlink; /* its own events happen in its target's directory: never trusted */
        bool stale;   /* pm_audit_begin_run() was told it changed */
        bool listed;  /* in pm_audit.untrusted */
        unsigned long changed_run;        /* the pm_audit_begin_run() that found it changed, or 0 */
        size_t dir_len;                   /* bytes of its directory in @path */
        struct pm_audit_file_stamp stamp; /* when loaded (mtime_ns -1: too recent to vouch) */
        struct pm_audit_file scan;
        unsigned long seen_by; /* the crate sequence number that last listed it */
        size_t seen_index;     /* its index in that crate's sources */
        /* The crates whose walk looked at it (their @looked), so that its change reaches them
         * without a look at every crate (mark_changed()); owned array. */
        struct crate_rec **by;
        size_t n_by, cap_by;
};

/* A set of directories (open addressing on pm_hash64 of the path, size a power of two). */
struct dirset {
        char **v;
        uint64_t *h;
        size_t size, n;
};

/* A crate's inventory and what its walk looked at, so that a file's change reaches exactly the
 * crates it can change (pm_audit_crate_changed()). */
struct crate_rec {
        struct pm_audit_crate pub;
        struct file **looked; /* every file the walk asked for: its sources and the module
                               * files it tried (x.rs missing, x/mod.rs), repeats allowed */
        size_t n_looked, cap_looked;
        size_t index;              /* in pm_audit.crates */
        unsigned long changed_run; /* the run that found one of @looked changed, or 0 */
};

struct pm_audit {
        struct pm_arena *arena;
        struct file **table; /* open addressing on pm_hash64(path), size a power of two */
        size_t table_size;
        size_t n_files;
        size_t bytes;
        struct crate_rec **crates; /* every crate handed out, to free them */
        size_t n_crates, cap_crates;
        unsigned long seq;
        unsigned long run;           /* pm_audit_begin_run() calls so far */
        struct pm_audit_store store; /* zeroed when none */
        size_t n_read;               /* files whose bytes were read */
        size_t n_checked;            /* files stat'ed again by the last pm_audit_begin_run() */
        struct dirset trusted;       /* watched directories (pm_audit_begin_run()) */
        /*
         * The files no watch vouches for (untrusted directory, symlink, reported changed): all
         * a run checks, so that a run with nothing changed touches no other file. Invariant,
         * unless @relist: every file not trusted() is listed (a listed one may have become
         * trusted since; the next run drops it). @relist (out of memory, distrust): rebuild it
         * from the whole table at the next run.
         */
        struct file **untrusted;
        size_t n_untrusted, cap_untrusted;
        bool relist;
        /* The crates the last run found changed (pm_audit_changed_crates()), each once. */
        struct crate_rec **changed;
        size_t n_changed, cap_changed;
        struct pm__audit_tokbuf toks; /* reused by every scan */
        struct pm_strbuf readbuf;     /* reused by every read */
};

static const char *const role_names[_PM_AUDIT_ROLE_MAX] = {
        "root",
        "declared",
        "module",
        "include",
};

const char *
pm_audit_role_name(enum pm_audit_role role)
{
        return (unsigned)role < _PM_AUDIT_ROLE_MAX ? role_names[role] : "?";
}

bool
pm_audit_site_in_test(const struct pm_audit_source *src, const struct pm_audit_site *s)
{
        return (s->flags & PM_AUDIT_IN_TEST) || (src->flags & PM_AUDIT_SRC_TEST) ||
               (src->scan && src->scan->test_only);
}

int
pm_audit_new(struct pm_audit **ret, struct pm_error *err)
{
        struct pm_audit *a = pm_calloc(1, sizeof(*a));

        if (!a || !(a->arena = pm_arena_new()) ||
            !(a->table = pm_calloc(1024, sizeof(*a->table)))) {
                pm_audit_free(a);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        a->table_size = 1024;
        *ret = a;
        return 0;
}

struct pm_audit *
pm_audit_free(struct pm_audit *a)
{
        if (!a)
                return NULL;
        pm_audit_drop_crates(a);
        for (size_t i = 0; a->table && i < a->table_size; i++) {
                if (a->table[i]) {
                        pm_audit_file_release(&a->table[i]->scan);
                        pm_free(a->table[i]->by);
                }
        }
        pm_free(a->changed);
        pm_free(a->toks.v);
        pm_strbuf_release(&a->readbuf);
        pm_free(a->crates);
        pm_free(a->untrusted);
        for (size_t i = 0; i < a->trusted.size; i++)
                pm_free(a->trusted.v[i]);
        pm_free(a->trusted.v);
        pm_free(a->trusted.h);
        pm_free(a->table);
        pm_arena_free(a->arena);
        pm_free(a);
        return NULL;
}

size_t
pm_audit_files_scanned(const struct pm_audit *a)
{
        return a->n_files;
}

void
pm_audit_set_store(struct pm_audit *a, const struct pm_audit_store *store)
{
        a->store = *store;
}

size_t
pm_audit_files_read(const struct pm_audit *a)
{
        return a->n_read;
}

size_t
pm_audit_bytes_read(const struct pm_audit *a)
{
        return a->bytes;
}

static int
grow_table(struct pm_audit *a)
{
        size_t size = a->table_size * 2;
        struct file **t = pm_calloc(size, sizeof(*t));

        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < a->table_size; i++) {
                struct file *f = a->table[i];
                size_t k;

                if (!f)
                        continue;
                for (k = f->hash & (size - 1); t[k]; k = (k + 1) & (size - 1))
                        ;
                t[k] = f;
        }
        pm_free(a->table);
        a->table = t;
        a->table_size = size;
        return 0;
}

/* A file written this recently may change again within the mtime's granularity unseen. */
#define RECENT_NS 2000000000LL

static int64_t
now_ns(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return INT64_MAX;
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Fill @f: missing, or scanned. With a store, a record whose size and mtime match is decoded
 * without reading the file; one whose hash matches the bytes is decoded without scanning them;
 * otherwise the file is scanned and its record replaced.
 */
static int
load_file(struct pm_audit *a, struct file *f, struct pm_error *err)
{
        struct pm_strbuf rec = PM_STRBUF_INIT, *sbp = &a->readbuf;
        struct pm_audit_file_stamp old = { 0 }, cur = { 0 };
        bool hit = false, scanned = false;
        struct stat st;
        int r = 0;
        int s = lstat(f->path, &st);

        if (s == 0 && S_ISLNK(st.st_mode)) {
                f->symlink = true;
                s = stat(f->path, &st);
        }
        if (s < 0) {
                if (errno != ENOENT && errno != ENOTDIR && errno != ENAMETOOLONG && errno != ELOOP)
                        return pm_error_set_at(err, -errno, f->path, 0, 0, "cannot read: %s",
                                               strerror(errno));
                f->missing = true;
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                f->missing = true;
                return 0;
        }
        cur.size = (int64_t)st.st_size;
        cur.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        if (a->store.get) {
                r = a->store.get(a->store.ud, f->path, &old, &rec, &hit, err);
                if (r < 0)
                        goto out;
        }
        if (hit && old.mtime_ns >= 0 && old.size == cur.size && old.mtime_ns == cur.mtime_ns) {
                r = pm_audit_file_decode(rec.buf ? rec.buf : "", rec.len, &f->scan, err);
                f->stamp = old;
                if (r != PM_EPARSE)
                        goto out; /* answered by the record (or out of memory) */
                hit = false;
        }
        pm_strbuf_reset(sbp);
        r = pm_strbuf_read_file(sbp, f->path, PM_AUDIT_MAX_FILE_BYTES, err);
        if (r == -ENOENT || r == -ENOTDIR || r == -EISDIR) {
                f->missing = true;
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        a->n_read++;
        a->bytes += sbp->len;
        cur.hash = pm_hash64(sbp->buf ? sbp->buf : "", sbp->len, 0);
        r = PM_EPARSE;
        if (hit && old.hash == cur.hash)
                r = pm_audit_file_decode(rec.buf ? rec.buf : "", rec.len, &f->scan, err);
        if (r == PM_EPARSE) {
                r = pm__audit_scan_buf(sbp->buf ? sbp->buf : "", sbp->len, &f->scan, &a->toks, err);
                if (r < 0) {
                        pm_error_prefix(err, "%s", f->path);
                        goto out;
                }
                scanned = true;
        }
        if (cur.mtime_ns > now_ns() - RECENT_NS)
                cur.mtime_ns = -1;
        f->stamp = cur;
        if (r < 0 || !a->store.put)
                goto out;
        if (scanned) {
                pm_strbuf_reset(&rec);
                r = pm_audit_file_encode(&f->scan, &rec);
                if (r < 0) {
                        r = pm_error_set(err, r, "out of memory");
                        goto out;
                }
        }
        if (scanned || old.size != cur.size || old.mtime_ns != cur.mtime_ns)
                r = a->store.put(a->store.ud, f->path, &cur, rec.buf ? rec.buf : "", rec.len, err);
out:
        pm_strbuf_release(&rec);
        /* One huge file does not pin its buffer for the rest of the run. */
        if (sbp->alloc > ((size_t)4 << 20))
                pm_strbuf_release(sbp);
        return r;
}

static bool trusted(const struct pm_audit *a, const struct file *f);

/* Put @f on @a's untrusted list (a no-op when it is there); out of memory: @a relists. */
static void
list_untrusted(struct pm_audit *a, struct file *f)
{
        if (f->listed || a->relist)
                return;
        if (pm_grow(&a->untrusted, &a->cap_untrusted, a->n_untrusted + 1, 256) < 0) {
                a->relist = true;
                return;
        }
        a->untrusted[a->n_untrusted++] = f;
        f->listed = true;
}

/* The run's entry for @path, read and scanned on first use (missing files are remembered). */
static int
get_file(struct pm_audit *a, const char *path, struct file **ret, struct pm_error *err)
{
        uint64_t h = pm_hash64(path, strlen(path), 0);
        struct file *f;
        size_t k;
        int r;

        for (k = h & (a->table_size - 1); a->table[k]; k = (k + 1) & (a->table_size - 1)) {
                if (a->table[k]->hash == h && strcmp(a->table[k]->path, path) == 0) {
                        *ret = a->table[k];
                        return 0;
                }
        }
        f = pm_arena_alloc(a->arena, sizeof(*f));
        if (!f)
                return pm_error_set(err, -ENOMEM, "out of memory");
        memset(f, 0, sizeof(*f));
        if (!(f->path = pm_arena_strdup(a->arena, path)))
                return pm_error_set(err, -ENOMEM, "out of memory");
        f->hash = h;
        f->dir_len = (size_t)(strrchr(f->path, '/') ? strrchr(f->path, '/') - f->path : 0);
        r = load_file(a, f, err);
        if (r < 0)
                return r;
        a->table[k] = f;
        a->n_files++;
        if (!trusted(a, f))
                list_untrusted(a, f);
        if (a->n_files * 2 > a->table_size && grow_table(a) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        *ret = f;
        return 0;
}

/* A crate being inventoried: its sources double as the work queue. */
struct walk {
        struct pm_audit *a;
        struct pm_audit_crate *c;
        struct crate_rec *rec; /* the record around @c */
        size_t cap;
        bool *mod_rs;        /* parallel to c->sources: the file owns its directory (mod.rs-like) */
        struct pm_arena *ar; /* the walk's paths: one arena per crate, not per file */
};

/* get_file() for the walk: the crate remembers it looked at the file, whatever it found. */
static int
walk_file(struct walk *w, const char *path, struct file **ret, struct pm_error *err)
{
        struct crate_rec *rec = w->rec;
        struct file *f;
        int r = get_file(w->a, path, ret, err);

        if (r < 0)
                return r;
        if (pm_grow(&rec->looked, &rec->cap_looked, rec->n_looked + 1, 16) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        rec->looked[rec->n_looked++] = *ret;
        /* A crate's walk is done before the next one starts: looked at before by this crate,
         * the file has it last. */
        f = *ret;
        if (f->n_by && f->by[f->n_by - 1] == rec)
                return 0;
        if (pm_grow(&f->by, &f->cap_by, f->n_by + 1, 2) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        f->by[f->n_by++] = rec;
        return 0;
}

/*
 * Add @path with @role unless the crate lists it already; a declared file first reached as a
 * module takes the module's test scope. *@ret_file gets the entry.
 */
static int
add_source(struct walk *w, const char *path, enum pm_audit_role role, unsigned flags, bool mod_rs,
           struct file **ret_file, struct pm_error *err)
{
        struct pm_audit_crate *c = w->c;
        struct pm_audit_source *src;
        struct file *f = NULL;
        int r;

        r = walk_file(w, path, &f, err);
        if (r < 0)
                return r;
        if (ret_file)
                *ret_file = f;
        if (f->seen_by == w->a->seq) {
                src = &c->sources[f->seen_index];
                if (src->role == PM_AUDIT_ROLE_DECLARED && role == PM_AUDIT_ROLE_MODULE) {
                        src->role = PM_AUDIT_ROLE_MODULE;
                        src->flags = (src->flags & ~(unsigned)PM_AUDIT_SRC_TEST) |
                                     (flags & PM_AUDIT_SRC_TEST);
                }
                return 0;
        }
        if (c->n_sources >= PM_AUDIT_MAX_CRATE_FILES)
                return pm_error_set(err, PM_ELIMIT, "crate '%s' has more than %d files",
                                    c->crate->label, PM_AUDIT_MAX_CRATE_FILES);
        if (c->n_sources == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 16;
                void *p = pm_realloc(c->sources, cap * sizeof(*c->sources));
                void *q;

                if (!p)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                c->sources = p;
                q = pm_realloc(w->mod_rs, cap * sizeof(*w->mod_rs));
                if (!q)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                w->mod_rs = q;
                w->cap = cap;
        }
        f->seen_by = w->a->seq;
        f->seen_index = c->n_sources;
        src = &c->sources[c->n_sources];
        src->path = f->path;
        src->role = role;
        src->flags = flags | (f->missing ? PM_AUDIT_SRC_MISSING : 0);
        src->scan = f->missing ? NULL : &f->scan;
        w->mod_rs[c->n_sources] = mod_rs;
        c->n_sources++;
        return 0;
}

static bool
ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The directory a file's `mod x;` resolves in (rustc's rule): the file's own directory for
 * mod.rs-like files (crate roots, mod.rs, #[path] files), else that directory plus the file's
 * stem ("a/b.rs" -> "a/b").
 */
static char *
module_dir(struct pm_arena *ar, const char *path, bool mod_rs)
{
        char *dir = pm_path_dirname(ar, path);
        const char *base = pm_path_basename(path);
        size_t stem = strlen(base);

        if (!dir || mod_rs)
                return dir;
        if (ends_with(base, ".rs"))
                stem -= 3;
        return pm_arena_printf(ar, "%s/%.*s", dir, (int)stem, base);
}

/* Follow the `mod` declarations and include!s of source @i. */
static int
follow(struct walk *w, size_t i, struct pm_error *err)
{
        const struct pm_audit_source *src = &w->c->sources[i];
        const struct pm_audit_file *scan = src->scan;
        unsigned test = src->flags & PM_AUDIT_SRC_TEST;
        struct pm_arena *ar = w->ar;
        const char *path = src->path;
        char *own_dir = NULL, *mod_dir = NULL;
        int r = 0;

        if (!scan)
                goto out;
        if (!ar || !(own_dir = pm_path_dirname(ar, path)) ||
            !(mod_dir = module_dir(ar, path, w->mod_rs[i]))) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (scan->test_only)
                test = PM_AUDIT_SRC_TEST;
        for (size_t k = 0; r == 0 && k < scan->n_mods; k++) {
                const struct pm_audit_mod *m = &scan->mods[k];
                unsigned fl = test | ((m->flags & PM_AUDIT_IN_TEST) ? PM_AUDIT_SRC_TEST : 0);
                char *first, *second = NULL;
                struct file *f = NULL;

                if (m->path_attr) {
                        /* Relative to the file's directory, or inside inline modules to the
                         * directory those modules make. */
                        first = m->inline_dir[0] ? pm_arena_printf(ar, "%s/%s%s", mod_dir,
                                                                   m->inline_dir, m->path_attr)
                                                 : pm_path_join(ar, own_dir, m->path_attr);
                        if (first)
                                first = pm_path_normalize(ar, NULL, first);
                } else {
                        first = pm_arena_printf(ar, "%s/%s%s.rs", mod_dir, m->inline_dir, m->name);
                        second = pm_arena_printf(ar, "%s/%s%s/mod.rs", mod_dir, m->inline_dir,
                                                 m->name);
                        if (first)
                                first = pm_path_normalize(ar, NULL, first);
                        if (second)
                                second = pm_path_normalize(ar, NULL, second);
                        if (!second) {
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                                break;
                        }
                }
                if (!first) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                if (second) {
                        r = walk_file(w, first, &f, err);
                        if (r == 0 && f->missing) {
                                struct file *g = NULL;

                                r = walk_file(w, second, &g, err);
                                if (r == 0 && !g->missing)
                                        r = add_source(w, second, PM_AUDIT_ROLE_MODULE, fl, true,
                                                       NULL, err);
                                else if (r == 0)
                                        r = add_source(w, first, PM_AUDIT_ROLE_MODULE, fl, false,
                                                       NULL, err);
                                continue;
                        }
                        if (r == 0)
                                r = add_source(w, first, PM_AUDIT_ROLE_MODULE, fl, false, NULL,
                                               err);
                } else {
                        /* #[path] files own their directory like mod.rs. */
                        r = add_source(w, first, PM_AUDIT_ROLE_MODULE, fl, true, NULL, err);
                }
        }
        for (size_t k = 0; r == 0 && k < scan->n_includes; k++) {
                const struct pm_audit_include *inc = &scan->includes[k];
                unsigned fl = test | ((inc->flags & PM_AUDIT_IN_TEST) ? PM_AUDIT_SRC_TEST : 0);
                char *p;

                if (!inc->path || (inc->flags & PM_AUDIT_IN_MACRO_DEF))
                        continue;
                p = pm_path_join(ar, own_dir, inc->path);
                if (!p) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                r = add_source(w, p, PM_AUDIT_ROLE_INCLUDE, fl, w->mod_rs[i], NULL, err);
        }
out:
        return r;
}

/* The level flag @f (with its argument @next when separate) sets for unsafe_code: 'F', 'D',
 * 'A' (also -W: not an error), 'W' for --force-warn, or 0 when it is not about unsafe_code. */
static char
lint_flag(const char *f, const char *next)
{
        static const struct {
                const char *joined, *opt, *eq;
                char level;
        } forms[] = {
                { "-Funsafe_code", "-F", "--forbid=unsafe_code", 'F' },
                { "-Dunsafe_code", "-D", "--deny=unsafe_code", 'D' },
                { "-Aunsafe_code", "-A", "--allow=unsafe_code", 'A' },
                { "-Wunsafe_code", "-W", "--warn=unsafe_code", 'A' },
        };

        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
                if (strcmp(f, forms[i].joined) == 0 || strcmp(f, forms[i].eq) == 0 ||
                    (strcmp(f, forms[i].opt) == 0 && strcmp(next, "unsafe_code") == 0))
                        return forms[i].level;
        if (strcmp(f, "--forbid") == 0 && strcmp(next, "unsafe_code") == 0)
                return 'F';
        if (strcmp(f, "--deny") == 0 && strcmp(next, "unsafe_code") == 0)
                return 'D';
        if ((strcmp(f, "--allow") == 0 || strcmp(f, "--warn") == 0) &&
            strcmp(next, "unsafe_code") == 0)
                return 'A';
        if ((strcmp(f, "--force-warn") == 0 && strcmp(next, "unsafe_code") == 0) ||
            strcmp(f, "--force-warn=unsafe_code") == 0)
                return 'W';
        return 0;
}

/*
 * How the crate's rustc flags leave the unsafe_code lint, as rustc reads them (the oracle test
 * checks each case against rustc): the last of -D, -A and -W wins; -F stays whatever follows,
 * and so does --force-warn (so of the two the first given wins); --cap-lints allow or warn makes
 * it no error at all.
 */
static enum pm_audit_lint_level
build_lint(const struct pm_crate *c)
{
        enum pm_audit_lint_level level = PM_AUDIT_LINT_NONE;
        bool forced = false, capped = false;

        for (size_t i = 0; i < c->flags.n; i++) {
                const char *f = c->flags.v[i];
                const char *next = i + 1 < c->flags.n ? c->flags.v[i + 1] : "";
                char l = lint_flag(f, next);

                if ((strcmp(f, "--cap-lints") == 0 &&
                     (strcmp(next, "allow") == 0 || strcmp(next, "warn") == 0)) ||
                    strcmp(f, "--cap-lints=allow") == 0 || strcmp(f, "--cap-lints=warn") == 0)
                        capped = true;
                if (l == 'W' && level != PM_AUDIT_LINT_FORBID)
                        forced = true;
                if (l == 'F' && !forced)
                        level = PM_AUDIT_LINT_FORBID;
                else if (level != PM_AUDIT_LINT_FORBID && l)
                        level = l == 'D' ? PM_AUDIT_LINT_DENY : PM_AUDIT_LINT_NONE;
        }
        return capped || forced ? PM_AUDIT_LINT_NONE : level;
}

int
pm_audit_add_crate(struct pm_audit *a, const struct pm_crate *c, const struct pm_audit_crate **ret,
                   struct pm_error *err)
{
        struct walk w = { .a = a };
        struct crate_rec *rec;
        struct pm_audit_crate *ac;
        int r = 0;

        if (pm_grow(&a->crates, &a->cap_crates, a->n_crates + 1, 64) < 0)
                return pm_error_set(err, -ENOMEM, "out of memory");
        rec = pm_calloc(1, sizeof(*rec));
        if (!rec)
                return pm_error_set(err, -ENOMEM, "out of memory");
        rec->index = a->n_crates;
        a->crates[a->n_crates++] = rec;
        ac = &rec->pub;
        ac->crate = c;
        w.c = ac;
        w.rec = rec;
        a->seq++;
        w.ar = pm_arena_new();
        if (!w.ar) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }

        r = add_source(&w, c->root_module, PM_AUDIT_ROLE_ROOT, 0, true, NULL, err);
        for (size_t i = 0; r == 0 && i < c->sources.n; i++) {
                const char *s = c->sources.v[i];

                if (ends_with(s, ".rs"))
                        r = add_source(&w, s, PM_AUDIT_ROLE_DECLARED, 0,
                                       strcmp(pm_path_basename(s), "mod.rs") == 0, NULL, err);
        }
        for (size_t i = 0; r == 0 && i < ac->n_sources; i++)
                r = follow(&w, i, err);
        if (r < 0)
                goto out;

        ac->build_lint = build_lint(c);
        if (ac->sources[0].scan) {
                ac->root_forbids = ac->sources[0].scan->forbid_unsafe;
                ac->root_denies = ac->sources[0].scan->deny_unsafe;
        }
        for (size_t i = 0; i < ac->n_sources; i++) {
                const struct pm_audit_source *src = &ac->sources[i];

                for (size_t k = 0; src->scan && k < src->scan->n_sites; k++) {
                        const struct pm_audit_site *s = &src->scan->sites[k];

                        if (pm_audit_site_in_test(src, s)) {
                                ac->test_counts[s->kind]++;
                                ac->n_test_sites++;
                        } else {
                                ac->counts[s->kind]++;
                                ac->n_sites++;
                        }
                }
        }
        *ret = ac;
out:
        /* A crate not handed out is not kept either. */
        if (r < 0)
                pm_audit_drop_crate(a, ac);
        pm_free(w.mod_rs);
        pm_arena_free(w.ar);
        return r;
}

/* ---- Keeping an audit between runs ---------------------------------------------------- */

/* Free @rec, first taken off its files' crates and @a's changed crates. */
static void
free_crate(struct pm_audit *a, struct crate_rec *rec)
{
        for (size_t i = 0; i < rec->n_looked; i++) {
                struct file *f = rec->looked[i];

                /* Crates come and go newest first: it is usually last. */
                for (size_t k = f->n_by; k-- > 0;) {
                        if (f->by[k] == rec) {
                                f->by[k] = f->by[--f->n_by];
                                break;
                        }
                }
        }
        if (rec->changed_run == a->run) {
                for (size_t k = 0; k < a->n_changed; k++) {
                        if (a->changed[k] == rec) {
                                a->changed[k] = a->changed[--a->n_changed];
                                break;
                        }
                }
        }
        pm_free(rec->pub.sources);
        pm_free(rec->looked);
        pm_free(rec);
}

void
pm_audit_drop_crates(struct pm_audit *a)
{
        /* Newest first: each is then last among its files' crates (free_crate()), so a file that
         * every crate reads costs one step per crate, not a scan of them all. */
        for (size_t i = a->n_crates; i-- > 0;)
                free_crate(a, a->crates[i]);
        a->n_crates = 0;
}

void
pm_audit_drop_crate(struct pm_audit *a, const struct pm_audit_crate *ac)
{
        /* @pub is the record's first member: the crate is the record. */
        struct crate_rec *rec = (struct crate_rec *)(uintptr_t)ac;
        size_t i = rec->index;

        /* The last crate takes its place. */
        a->crates[i] = a->crates[--a->n_crates];
        a->crates[i]->index = i;
        free_crate(a, rec);
}

bool
pm_audit_crate_changed(const struct pm_audit *a, const struct pm_audit_crate *ac)
{
        const struct crate_rec *rec = (const struct crate_rec *)ac;

        return rec->changed_run == a->run;
}

size_t
pm_audit_changed_crates(const struct pm_audit *a, const struct pm_audit_crate *const **ret)
{
        /* @pub is each record's first member: the array of records is one of crates. */
        *ret = (const struct pm_audit_crate *const *)(const void *)a->changed;
        return a->n_changed;
}

size_t
pm_audit_files_checked(const struct pm_audit *a)
{
        return a->n_checked;
}

static bool
dirset_find(const struct dirset *s, const char *dir, size_t len, uint64_t h, size_t *ret_k)
{
        size_t k;

        if (!s->size)
                return false;
        for (k = h & (s->size - 1); s->v[k]; k = (k + 1) & (s->size - 1)) {
                if (s->h[k] == h && strncmp(s->v[k], dir, len) == 0 && s->v[k][len] == '\0') {
                        *ret_k = k;
                        return true;
                }
        }
        *ret_k = k;
        return false;
}

static int
dirset_add(struct dirset *s, const char *dir)
{
        size_t len = strlen(dir), k = 0; /* set by dirset_find(); -O3 cannot tell */
        uint64_t h = pm_hash64(dir, len, 0);

        if ((s->n + 1) * 2 > s->size) {
                size_t size = s->size ? s->size * 2 : 256;
                char **v = pm_calloc(size, sizeof(*v));
                uint64_t *hv = pm_calloc(size, sizeof(*hv));

                if (!v || !hv) {
                        pm_free(v);
                        pm_free(hv);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < s->size; i++) {
                        if (!s->v[i])
                                continue;
                        for (k = s->h[i] & (size - 1); v[k]; k = (k + 1) & (size - 1))
                                ;
                        v[k] = s->v[i];
                        hv[k] = s->h[i];
                }
                pm_free(s->v);
                pm_free(s->h);
                s->v = v;
                s->h = hv;
                s->size = size;
        }
        if (dirset_find(s, dir, len, h, &k))
                return 0;
        s->v[k] = pm_strdup(dir);
        if (!s->v[k])
                return -ENOMEM;
        s->h[k] = h;
        s->n++;
        return 0;
}

static void
dirset_clear(struct dirset *s)
{
        for (size_t i = 0; i < s->size; i++) {
                pm_free(s->v[i]);
                s->v[i] = NULL;
        }
        s->n = 0;
}

/* Is @f vouched for by a watch of its directory (so neither stat'ed nor read)? */
static bool
trusted(const struct pm_audit *a, const struct file *f)
{
        size_t k;

        return !f->symlink && !f->stale &&
               dirset_find(&a->trusted, f->path, f->dir_len, pm_hash64(f->path, f->dir_len, 0), &k);
}

static struct file *
find_file(const struct pm_audit *a, const char *path)
{
        uint64_t h = pm_hash64(path, strlen(path), 0);

        for (size_t k = h & (a->table_size - 1); a->table[k]; k = (k + 1) & (a->table_size - 1))
                if (a->table[k]->hash == h && strcmp(a->table[k]->path, path) == 0)
                        return a->table[k];
        return NULL;
}

/* @f changed in this run: so did every crate that looked at it (listed once in @a->changed). A
 * crate not listed for want of memory is still out of date: -ENOMEM, and the caller drops
 * every crate (pm_audit_begin_run()). */
static int
mark_changed(struct pm_audit *a, struct file *f)
{
        f->changed_run = a->run;
        for (size_t i = 0; i < f->n_by; i++) {
                struct crate_rec *rec = f->by[i];

                if (rec->changed_run == a->run)
                        continue;
                rec->changed_run = a->run;
                if (pm_grow(&a->changed, &a->cap_changed, a->n_changed + 1, 16) < 0)
                        return -ENOMEM;
                a->changed[a->n_changed++] = rec;
        }
        return 0;
}

/*
 * Bring @f up to date: unchanged when its stat matches the stamp it was loaded with (and that
 * stamp can vouch), else loaded again. *@changed is set when what it holds differs.
 */
static int
recheck(struct pm_audit *a, struct file *f, bool *changed, struct pm_error *err)
{
        bool was_missing = f->missing;
        uint64_t was_hash = f->stamp.hash;
        struct stat st;
        int r;

        a->n_checked++;
        if (!f->stale) {
                int s = stat(f->path, &st);

                if (s < 0 && f->missing)
                        return 0;
                if (s == 0 && !f->missing && S_ISREG(st.st_mode) && f->stamp.mtime_ns >= 0 &&
                    f->stamp.size == (int64_t)st.st_size &&
                    f->stamp.mtime_ns ==
                            (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec)
                        return 0;
        }
        pm_audit_file_release(&f->scan);
        f->missing = f->symlink = f->stale = false;
        memset(&f->stamp, 0, sizeof(f->stamp));
        r = load_file(a, f, err);
        if (r < 0) {
                /* Listed as missing until it can be read: the next run tries again. */
                pm_audit_file_release(&f->scan);
                f->missing = true;
                f->stale = true;
                *changed = true;
                if (mark_changed(a, f) < 0)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                return r;
        }
        if (f->missing != was_missing || (!f->missing && f->stamp.hash != was_hash)) {
                *changed = true;
                if (mark_changed(a, f) < 0)
                        return pm_error_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

/* Rebuild @a's untrusted list from the whole table (after a distrust or out of memory). */
static int
relist(struct pm_audit *a, struct pm_error *err)
{
        a->relist = false;
        for (size_t i = 0; i < a->n_untrusted; i++)
                a->untrusted[i]->listed = false;
        a->n_untrusted = 0;
        for (size_t i = 0; i < a->table_size && !a->relist; i++)
                if (a->table[i] && !trusted(a, a->table[i]))
                        list_untrusted(a, a->table[i]);
        return a->relist ? pm_error_set(err, -ENOMEM, "out of memory") : 0;
}

int
pm_audit_begin_run(struct pm_audit *a, const char *const *changed, size_t n_changed,
                   const char *const *watched, size_t n_watched, bool distrust, bool *ret_changed,
                   struct pm_error *err)
{
        bool any = false;
        size_t keep = 0;
        int r = 0;

        a->run++;
        a->n_changed = 0;
        a->n_checked = 0;
        a->n_read = 0;
        a->bytes = 0;
        if (distrust) {
                dirset_clear(&a->trusted);
                a->relist = true;
        }
        for (size_t i = 0; i < n_changed; i++) {
                struct file *f = find_file(a, changed[i]);

                if (f) {
                        f->stale = true;
                        list_untrusted(a, f);
                }
        }
        if (a->relist)
                r = relist(a, err);
        /* Only the files no watch vouches for: a run with nothing changed touches no other. */
        for (size_t i = 0; r == 0 && i < a->n_untrusted; i++) {
                struct file *f = a->untrusted[i];

                if (!trusted(a, f))
                        r = recheck(a, f, &any, err);
        }
        /* Watched since before this run's stat: from now on their events say what changes. */
        for (size_t i = 0; r == 0 && i < n_watched; i++)
                if (dirset_add(&a->trusted, watched[i]) < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0) {
                /* What was left unchecked must be checked next run. */
                a->relist = true;
                goto out;
        }
        for (size_t i = 0; i < a->n_untrusted; i++) {
                struct file *f = a->untrusted[i];

                if (trusted(a, f))
                        f->listed = false;
                else
                        a->untrusted[keep++] = f;
        }
        a->n_untrusted = keep;
out:
        *ret_changed = any;
        return r;
}

/* Add @f's directory to @v (and @seen) unless trusted or there already. */
static int
add_unwatched(const struct pm_audit *a, const struct file *f, struct dirset *seen, char ***v,
              size_t *n)
{
        size_t k;
        uint64_t h;
        char *dir;
        char **nv;

        if (f->symlink || f->dir_len == 0)
                return 0;
        h = pm_hash64(f->path, f->dir_len, 0);
        if (dirset_find(&a->trusted, f->path, f->dir_len, h, &k) ||
            dirset_find(seen, f->path, f->dir_len, h, &k))
                return 0;
        dir = pm_strndup(f->path, f->dir_len);
        nv = pm_realloc(*v, (*n + 2) * sizeof(**v));
        if (nv)
                *v = nv;
        if (!dir || !nv || dirset_add(seen, dir) < 0) {
                pm_free(dir);
                return -ENOMEM;
        }
        (*v)[(*n)++] = dir;
        (*v)[*n] = NULL;
        return 0;
}

int
pm_audit_unwatched_dirs(const struct pm_audit *a, char ***ret, size_t *ret_n, struct pm_error *err)
{
        struct dirset seen = { 0 };
        char **v = NULL;
        size_t n = 0;
        int r = 0;

        /* Every file outside a trusted directory is on the untrusted list (unless it is to be
         * rebuilt): a run with nothing changed and every directory watched walks nothing. */
        if (a->relist) {
                for (size_t i = 0; r == 0 && i < a->table_size; i++)
                        if (a->table[i])
                                r = add_unwatched(a, a->table[i], &seen, &v, &n);
        } else {
                for (size_t i = 0; r == 0 && i < a->n_untrusted; i++)
                        r = add_unwatched(a, a->untrusted[i], &seen, &v, &n);
        }
        for (size_t i = 0; i < seen.size; i++)
                pm_free(seen.v[i]);
        pm_free(seen.v);
        pm_free(seen.h);
        if (r < 0) {
                while (n)
                        pm_free(v[--n]);
                pm_free(v);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

size_t
pm_audit_dirs_trusted(const struct pm_audit *a)
{
        return a->trusted.n;
}
