/* SPDX-License-Identifier: MIT */
/* Incremental parsing of `gn gen --ide=json` output, for the daemon. The scanner (gn-scan.c)
 * finds each target's JSON bytes without building a tree; their hashes are the fingerprints kept
 * for the next run. Given the previous run's fingerprints and the changed BUILD.gn files, only the
 * targets that can have changed go through gn-parse.c's passes (with just their dependency
 * closure loaded), giving a partial graph; whenever that cannot be proved equal to a full parse,
 * everything is parsed. Reads files (ninja files); runs nothing. Over 800 lines because deciding
 * soundly what to re-parse (diff, dependents, closure) is one argument, kept in one place. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/stamp.h"

#include "adapters/gn/gn-internal.h"

#define SETTINGS_KEY "build_settings" /* fingerprint of everything but the targets */
#define FP_HEX       32               /* hex digits: the target's bytes, then its interface */
#define IFACE_OFF    16               /* where the interface half starts */
#define SINCE_HEX    16 /* the settings entry ends with the parse's start (pm_stamp_clock()) */

/*
 * A partial parse is given up (everything is parsed) when more than a quarter of the targets
 * would be re-parsed: the bookkeeping then costs about as much as the full parse.
 */
#define TOO_MANY(k, n) ((k)*4 > (n) + 256)

/* ---- fingerprints ---- */

#define K1 0x9E3779B97F4A7C15ULL
#define K2 0xC2B2AE3D27D4EB4FULL

/*
 * What other targets' crates read of this one: its kind (type, whether it has a crate_root),
 * crate name, outputs and deps (groups are flattened; a Rust library's public deps reach its
 * dependents' externs).
 */
static uint64_t
iface_hash(const struct pm__gn_span *sp)
{
        uint64_t h = K2;

        for (size_t i = 0; i < _PM__GN_IFACE_MAX; i++) {
                /* Each property is tagged: absent, present (crate_root: only that), or bytes. */
                unsigned char tag = !sp->prop[i] ? 1 : i == PM__GN_PROP_CRATE_ROOT ? 2 : 3;

                h = pm_hash64(&tag, 1, h + i);
                if (tag == 3)
                        h = pm_hash64(sp->prop[i], sp->prop_len[i], h);
        }
        return h;
}

static void
hex64(char *out, uint64_t v)
{
        static const char digits[] = "0123456789abcdef";

        for (int i = 15; i >= 0; i--) {
                out[i] = digits[v & 15];
                v >>= 4;
        }
}

/* ---- the partial parse ---- */

/* A label's directory ("" for the root) or any byte string, borrowed. */
struct bytes {
        const char *p;
        size_t len;
};

struct byteset {
        struct bytes *v;
        size_t n;
        size_t cap;
        bool sorted;
};

enum span_flags {
        F_SEED = 1 << 0,   /* what its dependents read of it may have changed */
        F_QUEUED = 1 << 1, /* its dependents are being looked for (all of them covered) */
        F_EMIT = 1 << 2,   /* its build file is covered: its crate is in the graph */
        F_LOAD = 1 << 3,   /* decoded (emitted, or in an emitted crate's closure) */
        F_HIDDEN = 1 << 4, /* in a changed BUILD.gn with deps: which are public may have changed */
        F_SOFT = 1 << 5,   /* its dependents are being looked for (their ninja files decide) */
};

/* A label whose dependents are looked for; hard: they are covered, else their ninja files say. */
struct qent {
        const char *p;
        size_t len;
        bool hard;
};

struct inc {
        const struct pm_query *q;
        const struct pm__gn_settings *s;
        const struct pm_blob *blob;
        struct pm__gn_scan scan;
        const struct pm__gn_span **sorted; /* spans by key (pm_malloc'd) */
        bool dups;                         /* two targets with one label */
        bool have_fp;                      /* hex and settings_hex are filled */
        char *hex;                         /* FP_HEX digits per span, in span order */
        char settings_hex[FP_HEX + SINCE_HEX];
        int64_t since;        /* pm_stamp_clock() before anything is read */
        int64_t prev_since;   /* the previous run's, from its settings entry */
        unsigned char *flags; /* per span */
        struct byteset covered;
        struct byteset scope_dirs;
        struct qent *queue; /* labels whose dependents are looked for */
        size_t n_queue;
        size_t cap_queue;
        struct pm__gn_ctx nc; /* out_dir and the tmp arena, for ninja file paths */
        int out_fd;           /* nc.out_dir (O_PATH), or -1 */
        size_t n_checked;     /* ninja files looked at for F_HIDDEN's dependents */
        struct pm_arena *tmp; /* strings of the sets above; the parse's tmp arena */
        struct pm_error *err;
};

static int
cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
        int c = memcmp(a, b, alen < blen ? alen : blen);

        if (c)
                return c;
        return (alen > blen) - (alen < blen);
}

static int
cmp_span_key(const void *a, const void *b)
{
        const struct pm__gn_span *x = *(const struct pm__gn_span *const *)a;
        const struct pm__gn_span *y = *(const struct pm__gn_span *const *)b;

        return cmp_bytes(x->key, x->key_len, y->key, y->key_len);
}

static int
cmp_item(const void *a, const void *b)
{
        const struct bytes *x = a, *y = b;

        return cmp_bytes(x->p, x->len, y->p, y->len);
}

static int
oom(struct inc *x)
{
        return pm_error_set(x->err, -ENOMEM, "out of memory");
}

static int
byteset_add(struct inc *x, struct byteset *set, const char *p, size_t len)
{
        if (pm_grow(&set->v, &set->cap, set->n + 1, 16) < 0)
                return oom(x);
        set->v[set->n++] = (struct bytes){ p, len };
        set->sorted = false;
        return 0;
}

static bool
byteset_has(struct byteset *set, const char *p, size_t len)
{
        struct bytes key = { p, len };

        if (!set->sorted) {
                size_t w = 0;

                if (set->n > 1)
                        qsort(set->v, set->n, sizeof(*set->v), cmp_item);
                for (size_t i = 0; i < set->n; i++)
                        if (w == 0 || cmp_item(&set->v[w - 1], &set->v[i]) != 0)
                                set->v[w++] = set->v[i];
                set->n = w;
                set->sorted = true;
        }
        return set->n && bsearch(&key, set->v, set->n, sizeof(*set->v), cmp_item);
}

/* The directory of label @key ("//dir:name(tc)"; split as pm__gn_split_label() does). */
static struct bytes
label_dir(const char *key, size_t len)
{
        const char *base = key + 2, *end = key + len, *paren, *colon;

        paren = memchr(base, '(', (size_t)(end - base));
        if (paren)
                end = paren;
        colon = memchr(base, ':', (size_t)(end - base));
        return (struct bytes){ base, (size_t)((colon ? colon : end) - base) };
}

static int
queue_push(struct inc *x, const char *p, size_t len, bool hard)
{
        if (pm_grow(&x->queue, &x->cap_queue, x->n_queue + 1, 64) < 0)
                return oom(x);
        x->queue[x->n_queue++] = (struct qent){ p, len, hard };
        return 0;
}

/*
 * Iterate the strings of a raw JSON array (validated by the scanner). Returns 1 with the next
 * element's bytes, 0 at the end, -1 when the value is not an array of plain strings (an element
 * of another type or with an escape: the caller gives up rather than guess how GN meant it).
 */
struct strings {
        const char *p;
        const char *end;
};

static int
strings_next(struct strings *it, struct bytes *ret)
{
        const char *q;

        while (it->p < it->end && (*it->p == ' ' || *it->p == '\n' || *it->p == '\t' ||
                                   *it->p == '\r' || *it->p == ',' || *it->p == '['))
                it->p++;
        if (it->p == it->end || *it->p == ']')
                return 0;
        if (*it->p != '"')
                return -1;
        q = memchr(it->p + 1, '"', (size_t)(it->end - it->p - 1));
        if (!q || memchr(it->p + 1, '\\', (size_t)(q - it->p - 1)))
                return -1;
        *ret = (struct bytes){ it->p + 1, (size_t)(q - it->p - 1) };
        it->p = q + 1;
        return 1;
}

static int
strings_init(struct strings *it, const struct pm__gn_span *sp)
{
        it->p = sp->prop[PM__GN_PROP_DEPS];
        it->end = it->p ? it->p + sp->prop_len[PM__GN_PROP_DEPS] : NULL;
        if (it->p && *it->p != '[')
                return -1;
        return 0;
}

static bool
is_group(const struct pm__gn_span *sp)
{
        return sp->prop[PM__GN_PROP_TYPE] && sp->prop_len[PM__GN_PROP_TYPE] == 7 &&
               memcmp(sp->prop[PM__GN_PROP_TYPE], "\"group\"", 7) == 0;
}

/* Sort the spans by label and fill the fingerprints. */
static int
fingerprint(struct inc *x)
{
        const struct pm__gn_scan *sc = &x->scan;
        uint64_t h;
        bool sorted = true;

        x->sorted = pm_malloc((sc->n + 1) * sizeof(*x->sorted));
        x->hex = pm_malloc((sc->n + 1) * FP_HEX);
        if (!x->sorted || !x->hex)
                return oom(x);
        for (size_t i = 0; i < sc->n; i++) {
                x->sorted[i] = &sc->v[i];
                if (i && cmp_span_key(&x->sorted[i - 1], &x->sorted[i]) >= 0)
                        sorted = false;
                hex64(x->hex + i * FP_HEX, pm_hash64(sc->v[i].value, sc->v[i].value_len, K1));
                hex64(x->hex + i * FP_HEX + IFACE_OFF, iface_hash(&sc->v[i]));
        }
        /* GN writes its targets sorted; sort only when they are not. */
        if (!sorted) {
                qsort(x->sorted, sc->n, sizeof(*x->sorted), cmp_span_key);
                for (size_t i = 1; i < sc->n; i++)
                        if (cmp_span_key(&x->sorted[i - 1], &x->sorted[i]) == 0)
                                x->dups = true;
        }

        /* Everything besides the targets that the graph depends on. */
        h = sc->settings ? pm_hash64(sc->settings, sc->settings_len, K2) : pm_hash64(NULL, 0, K1);
        h = pm_hash64_str(x->q->project->root, h);
        h = pm_hash64_str(x->s->out_dir, h);
        h = pm_hash64_str(x->s->default_edition, h);
        h = pm_hash64_str(x->s->args ? "args" : NULL, h);
        for (size_t i = 0; i < x->s->n_third_party; i++)
                h = pm_hash64_str(x->s->third_party[i], h);
        hex64(x->settings_hex, h);
        hex64(x->settings_hex + IFACE_OFF, pm_hash64_str("gn-incremental 3", h));
        hex64(x->settings_hex + FP_HEX, (uint64_t)x->since);
        x->have_fp = true;
        return 0;
}

/* Give @g the fingerprints (all targets and the settings), sorted by key. */
static int
attach_fingerprints(struct inc *x, struct pm_graph *g)
{
        const struct pm__gn_scan *sc = &x->scan;
        size_t n = sc->n + 1, key_bytes = 0, k = 0;
        struct pm_kv *kv;
        char *keys, *vals;
        bool settings_done = false;

        for (size_t i = 0; i < sc->n; i++)
                key_bytes += sc->v[i].key_len + 1;
        kv = pm_arena_alloc(g->arena, n * sizeof(*kv));
        keys = pm_arena_alloc(g->arena, key_bytes + sizeof(SETTINGS_KEY));
        vals = pm_arena_alloc(g->arena, n * (FP_HEX + 1) + SINCE_HEX);
        if (!kv || !keys || !vals)
                return oom(x);
        for (size_t i = 0; i <= sc->n; i++) {
                const struct pm__gn_span *sp = i < sc->n ? x->sorted[i] : NULL;

                if (!settings_done && (!sp || cmp_bytes(sp->key, sp->key_len, SETTINGS_KEY,
                                                        strlen(SETTINGS_KEY)) > 0)) {
                        memcpy(keys, SETTINGS_KEY, sizeof(SETTINGS_KEY));
                        memcpy(vals, x->settings_hex, FP_HEX + SINCE_HEX);
                        vals[FP_HEX + SINCE_HEX] = '\0';
                        kv[k++] = (struct pm_kv){ keys, vals };
                        keys += sizeof(SETTINGS_KEY);
                        vals += FP_HEX + SINCE_HEX + 1;
                        settings_done = true;
                }
                if (!sp)
                        break;
                memcpy(keys, sp->key, sp->key_len);
                keys[sp->key_len] = '\0';
                memcpy(vals, x->hex + (size_t)(sp - sc->v) * FP_HEX, FP_HEX);
                vals[FP_HEX] = '\0';
                kv[k++] = (struct pm_kv){ keys, vals };
                keys += sp->key_len + 1;
                vals += FP_HEX + 1;
        }
        g->fingerprints.v = kv;
        g->fingerprints.n = k;
        g->fingerprints.cap = n;
        return 0;
}

/* The project-relative directory of changed build file @path, or false if not a BUILD.gn. */
static bool
scope_dir(const char *root, const char *path, struct bytes *ret)
{
        size_t rl = strlen(root), pl = strlen(path);
        const size_t bl = strlen("/BUILD.gn");

        if (pl < bl || strcmp(path + pl - bl, "/BUILD.gn") != 0 || strncmp(path, root, rl) != 0)
                return false;
        if (pl == rl + bl) {
                *ret = (struct bytes){ "", 0 };
                return true;
        }
        if (path[rl] != '/' || pl <= rl + 1 + bl)
                return false;
        *ret = (struct bytes){ path + rl + 1, pl - rl - 1 - bl };
        return true;
}

/*
 * Compare with the previous fingerprints: changed, new and removed targets get their build
 * files covered, and those whose interface may have changed become seeds. Returns 1 to go on,
 * 0 to parse everything.
 */
static int
diff_previous(struct inc *x)
{
        const struct pm_kvlist *prev = x->q->previous_fingerprints;
        const struct pm__gn_scan *sc = &x->scan;
        size_t i = 0, j = 0, changed = 0;
        const char *ps = NULL;
        int r;

        for (size_t k = 0; k < prev->n; k++) {
                bool settings;

                if (!prev->v[k].key || !prev->v[k].value)
                        return 0;
                settings = strcmp(prev->v[k].key, SETTINGS_KEY) == 0;
                if (strlen(prev->v[k].value) != FP_HEX + (settings ? SINCE_HEX : 0))
                        return 0;
                if (k && strcmp(prev->v[k - 1].key, prev->v[k].key) >= 0)
                        return 0;
                if (settings)
                        ps = prev->v[k].value;
        }
        if (!ps || memcmp(ps, x->settings_hex, FP_HEX) != 0)
                return 0;
        {
                uint64_t v = 0;

                for (size_t k = FP_HEX; k < FP_HEX + SINCE_HEX; k++) {
                        char ch = ps[k];

                        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
                                return 0;
                        v = v << 4 | (uint64_t)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
                }
                x->prev_since = (int64_t)v;
        }

        while (i < sc->n || j < prev->n) {
                const struct pm__gn_span *sp = i < sc->n ? x->sorted[i] : NULL;
                const struct pm_kv *pv = j < prev->n ? &prev->v[j] : NULL;
                struct bytes dir;
                int c;

                if (pv && strcmp(pv->key, SETTINGS_KEY) == 0) {
                        j++;
                        continue;
                }
                if (!sp)
                        c = 1;
                else if (!pv)
                        c = -1;
                else
                        c = cmp_bytes(sp->key, sp->key_len, pv->key, strlen(pv->key));
                if (c > 0) {
                        /* Removed: its crate goes, its dependents changed too (or will warn). */
                        if (strncmp(pv->key, "//", 2) != 0)
                                return 0;
                        dir = label_dir(pv->key, strlen(pv->key));
                        r = byteset_add(x, &x->covered, dir.p, dir.len);
                        if (r >= 0)
                                r = queue_push(x, pv->key, strlen(pv->key), true);
                        if (r < 0)
                                return r;
                        changed++;
                        j++;
                } else {
                        size_t idx = (size_t)(sp - sc->v);
                        const char *hex = x->hex + idx * FP_HEX;

                        if (c == 0 && memcmp(hex, pv->value, FP_HEX) == 0) {
                                i++;
                                j++;
                                continue;
                        }
                        dir = label_dir(sp->key, sp->key_len);
                        r = byteset_add(x, &x->covered, dir.p, dir.len);
                        if (r < 0)
                                return r;
                        if (c < 0 ||
                            memcmp(hex + IFACE_OFF, pv->value + IFACE_OFF, FP_HEX - IFACE_OFF) != 0)
                                x->flags[idx] |= F_SEED;
                        changed++;
                        i++;
                        if (c == 0)
                                j++;
                }
                if (TOO_MANY(changed, sc->n))
                        return 0;
        }
        return 1;
}

/* One dep string of the reverse index (who names which label). */
struct rdep {
        const char *p;
        size_t len;
        size_t from; /* the span naming it */
        size_t next; /* the next entry of the same bucket + 1, or 0 */
};

/*
 * Whether the ninja file of @sp may differ from what the previous run's model was made from:
 * GN rewrites a target's ninja file only when its content changes, so one last changed before
 * the previous parse started (its mtime and ctime, on the clock pm_stamp_clock() reads, below
 * that start) is the one that parse saw, or an earlier run had already parsed. Anything else
 * (newer, missing, unreadable) counts as changed. Returns 1 changed, 0 unchanged, -ENOMEM.
 */
static int
ninja_changed(struct inc *x, const struct pm__gn_span *sp)
{
        char rel[PM_GN_MAX_LABEL + 32], *label, *path;
        struct stat st;
        int64_t m, c;
        int r;

        x->n_checked++;
        /* The path written in place: a hub's edit stats thousands (README, "The daemon"). */
        if (x->out_fd >= 0 && pm__gn_ninja_rel(sp->key, sp->key_len, rel, sizeof(rel)) > 0) {
                if (fstatat(x->out_fd, rel, &st, 0) != 0)
                        return 1;
        } else {
                label = pm_arena_strndup(x->tmp, sp->key, sp->key_len);
                if (!label)
                        return oom(x);
                r = pm__gn_ninja_path(&x->nc, label, &path);
                if (r < 0)
                        return r;
                if (stat(path, &st) != 0)
                        return 1;
        }
        m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        c = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        return m >= x->prev_since || c >= x->prev_since;
}

/* What becomes of dependent @d of a soft queue entry: 1 cover it, 0 not, or -ENOMEM. */
static int
soft_dependent(struct inc *x, const struct pm__gn_span *d)
{
        /* A group declares no crate; one without a crate_root is not Rust. */
        if (is_group(d) || !d->prop[PM__GN_PROP_CRATE_ROOT])
                return 0;
        /* A Rust crate whose externs add_deps does not read: covered, as before. */
        if (!pm__gn_may_read_ninja(d))
                return 1;
        return ninja_changed(x, d);
}

/*
 * Cover the build files of every target that reaches a seed through deps (transitively: public
 * deps reach dependents' externs at any depth). Groups are followed but declare no crate.
 * Dependents of F_HIDDEN targets (whose deps may have turned public or private, which GN's JSON
 * does not show) are followed the same way, but covered only when their own ninja file, where
 * GN writes the externs that makes, changed. Returns 1 to go on, 0 to parse everything.
 */
static int
cover_dependents(struct inc *x)
{
        const struct pm__gn_scan *sc = &x->scan;
        struct rdep *e = NULL;
        size_t *heads = NULL, n_e = 0, cap_e = 0, mask, found = 0;
        int r = 1;

        for (size_t i = 0; i < sc->n; i++) {
                bool hard = x->flags[i] & F_SEED;

                if (!hard && !(x->flags[i] & F_HIDDEN))
                        continue;
                x->flags[i] |= hard ? F_QUEUED : F_SOFT;
                r = queue_push(x, sc->v[i].key, sc->v[i].key_len, hard);
                if (r < 0)
                        goto out;
        }
        r = 1;
        if (x->n_queue == 0)
                goto out;

        for (size_t i = 0; i < sc->n; i++) {
                struct strings it;
                struct bytes b;
                int k;

                if (strings_init(&it, &sc->v[i]) < 0) {
                        r = 0;
                        goto out;
                }
                while (it.p && (k = strings_next(&it, &b)) != 0) {
                        if (k < 0) {
                                r = 0;
                                goto out;
                        }
                        if (pm_grow(&e, &cap_e, n_e + 1, 4096) < 0) {
                                r = oom(x);
                                goto out;
                        }
                        e[n_e++] = (struct rdep){ b.p, b.len, i, 0 };
                }
        }
        for (mask = 1; mask < 2 * n_e + 1; mask <<= 1)
                ;
        heads = pm_calloc(mask, sizeof(*heads));
        if (!heads) {
                r = oom(x);
                goto out;
        }
        mask--;
        for (size_t k = 0; k < n_e; k++) {
                size_t b = (size_t)pm_hash64(e[k].p, e[k].len, K1) & mask;

                e[k].next = heads[b];
                heads[b] = k + 1;
        }

        for (size_t qi = 0; qi < x->n_queue; qi++) {
                struct qent label = x->queue[qi];
                size_t k = heads[(size_t)pm_hash64(label.p, label.len, K1) & mask];

                for (; k; k = e[k - 1].next) {
                        const struct rdep *d = &e[k - 1];
                        const struct pm__gn_span *from = &sc->v[d->from];
                        unsigned char *fl = &x->flags[d->from];
                        int cover;

                        if (d->len != label.len || memcmp(d->p, label.p, label.len) != 0 ||
                            (*fl & F_QUEUED) || (!label.hard && (*fl & F_SOFT)))
                                continue;
                        *fl |= label.hard ? F_QUEUED : F_SOFT;
                        cover = label.hard ? !is_group(from) : soft_dependent(x, from);
                        if (cover < 0) {
                                r = cover;
                                goto out;
                        }
                        if (cover) {
                                struct bytes dir = label_dir(from->key, from->key_len);

                                r = byteset_add(x, &x->covered, dir.p, dir.len);
                                if (r < 0)
                                        goto out;
                        }
                        r = queue_push(x, from->key, from->key_len, label.hard);
                        if (r < 0)
                                goto out;
                        if (cover && TOO_MANY(++found, sc->n)) {
                                r = 0;
                                goto out;
                        }
                }
        }
        r = 1;
out:
        pm_free(e);
        pm_free(heads);
        return r;
}

static const struct pm__gn_span *
find_span(struct inc *x, const struct bytes *label)
{
        struct pm__gn_span key = { .key = label->p, .key_len = label->len };
        const struct pm__gn_span *kp = &key, **hit;

        hit = bsearch(&kp, x->sorted, x->scan.n, sizeof(*x->sorted), cmp_span_key);
        return hit ? *hit : NULL;
}

/* Mark the targets of covered build files, and everything they depend on, for loading. */
static int
mark_load(struct inc *x, size_t *ret_n_load)
{
        const struct pm__gn_scan *sc = &x->scan;
        size_t *stack = NULL, n_stack = 0, n_emit = 0, n_load = 0;
        int r;

        stack = pm_malloc((sc->n + 1) * sizeof(*stack));
        if (!stack)
                return oom(x);
        for (size_t i = 0; i < sc->n; i++) {
                struct bytes dir = label_dir(sc->v[i].key, sc->v[i].key_len);

                if (!byteset_has(&x->covered, dir.p, dir.len))
                        continue;
                x->flags[i] |= F_EMIT | F_LOAD;
                stack[n_stack++] = i;
                n_emit++;
                n_load++;
        }
        r = 0;
        if (TOO_MANY(n_emit, sc->n))
                goto out;
        while (n_stack > 0) {
                struct strings it;
                struct bytes b;
                int k;

                if (strings_init(&it, &sc->v[stack[--n_stack]]) < 0)
                        goto out;
                while (it.p && (k = strings_next(&it, &b)) != 0) {
                        const struct pm__gn_span *d;
                        size_t idx;

                        if (k < 0)
                                goto out;
                        d = find_span(x, &b);
                        /* A dep that is not in the output: add_deps warns as a full parse does. */
                        if (!d)
                                continue;
                        idx = (size_t)(d - sc->v);
                        if (x->flags[idx] & F_LOAD)
                                continue;
                        x->flags[idx] |= F_LOAD;
                        stack[n_stack++] = idx;
                        n_load++;
                }
        }
        *ret_n_load = n_load;
        r = 1;
out:
        pm_free(stack);
        return r;
}

/* The build directory as the full parse reads it from build_settings.build_dir. */
static int
out_dir(struct inc *x, struct pm__gn_ctx *c)
{
        const struct pm__gn_scan *sc = &x->scan;
        char *raw, *dir = NULL;
        int r;

        if (!sc->build_dir) {
                c->out_dir = pm_arena_strdup(c->tmp, x->s->out_dir);
                return c->out_dir ? 1 : oom(x);
        }
        if (sc->build_dir_len < 2 || sc->build_dir[0] != '"' ||
            memchr(sc->build_dir, '\\', sc->build_dir_len))
                return 0;
        raw = pm_arena_strndup(c->tmp, sc->build_dir + 1, sc->build_dir_len - 2);
        if (!raw)
                return oom(x);
        r = pm__gn_path(c, c->tmp, raw, &dir);
        if (r < 0)
                return r;
        if (!dir)
                return 0;
        c->out_dir = dir;
        return 1;
}

/*
 * Build the partial graph: load the marked targets (decoding only their bytes), then run
 * gn-parse.c's passes on them, emitting crates for the covered ones. Returns 1 with *ret_g, 0
 * to parse everything.
 */
static int
build_partial(struct inc *x, size_t n_load, struct pm_graph **ret_g)
{
        const struct pm__gn_scan *sc = &x->scan;
        struct pm__gn_ctx c = {
                .q = x->q,
                .s = x->s,
                .origin = x->blob->origin ? x->blob->origin : "gn output",
                .root = x->q->project->root,
                .tmp = x->tmp,
                .err = x->err,
        };
        bool *emit = NULL;
        int r;

        c.g = pm_graph_new();
        c.t = pm_arena_alloc(x->tmp, (n_load + 1) * sizeof(*c.t));
        emit = pm_calloc(n_load + 1, sizeof(*emit));
        if (!c.g || !c.t || !emit) {
                r = oom(x);
                goto out;
        }
        r = out_dir(x, &c);
        if (r <= 0)
                goto out;

        /* In label order, so c.t is sorted as gn-parse.c's lookups expect. */
        for (size_t k = 0; k < sc->n; k++) {
                const struct pm__gn_span *sp = x->sorted[k];
                size_t idx = (size_t)(sp - sc->v);

                if (!(x->flags[idx] & F_LOAD))
                        continue;
                r = pm__gn_target_from_span(&c, sp, &c.t[c.n]);
                if (r < 0)
                        goto out;
                emit[c.n] = x->flags[idx] & F_EMIT;
                c.n++;
        }
        for (size_t k = 0; k < c.n; k++) {
                if (!emit[k] || !c.t[k].is_rust)
                        continue;
                r = pm__gn_build_crate(&c, &c.t[k]);
                if (r < 0)
                        goto out;
        }
        r = pm__gn_index_outputs(&c);
        if (r < 0)
                goto out;
        for (size_t k = 0; k < c.n; k++) {
                if (!emit[k] || !c.t[k].is_rust)
                        continue;
                r = pm__gn_add_deps(&c, &c.t[k]);
                if (r < 0)
                        goto out;
        }
        r = pm__gn_warn_missing_ninja(&c);
        if (r < 0)
                goto out;

        c.g->partial = true;
        for (size_t i = 0; i < x->covered.n; i++) {
                const struct bytes *d = &x->covered.v[i];
                char *dir = d->len ? pm_arena_strndup(x->tmp, d->p, d->len) : (char *)".";
                char *p = dir ? pm_path_join(x->tmp, c.root, dir) : NULL;

                p = p ? pm_path_join(c.g->arena, p, "BUILD.gn") : NULL;
                if (!p || pm_strlist_push(c.g, &c.g->covered, p) < 0) {
                        r = oom(x);
                        goto out;
                }
        }
        *ret_g = pm_steal_ptr(&c.g);
        r = 1;
out:
        pm__gn_ctx_close(&c);
        pm_free(emit);
        pm_free(c.stack);
        pm_free(c.found);
        pm_graph_free(c.g);
        return r;
}

/* Returns 1 with a partial graph, 0 when everything must be parsed. */
static int
try_partial(struct inc *x, struct pm_graph **ret_g)
{
        const struct pm_query *q = x->q;
        const struct pm__gn_scan *sc = &x->scan;
        size_t n_load = 0;
        int r;

        if (!q->previous_fingerprints || !q->scope || q->n_scope == 0 || x->dups)
                return 0;
        for (size_t i = 0; i < sc->n; i++)
                if (sc->v[i].key_len < 2 || sc->v[i].key_len > PM_GN_MAX_LABEL ||
                    memcmp(sc->v[i].key, "//", 2) != 0)
                        return 0; /* the full parse names the bad label */

        /* Only BUILD.gn files: .gni, .gn, args.gn and the like can change anything. */
        for (size_t i = 0; i < q->n_scope; i++) {
                struct bytes dir;

                if (!q->scope[i] || !scope_dir(q->project->root, q->scope[i], &dir))
                        return 0;
                r = byteset_add(x, &x->scope_dirs, dir.p, dir.len);
                if (r >= 0)
                        r = byteset_add(x, &x->covered, dir.p, dir.len);
                if (r < 0)
                        return r;
        }

        x->flags = pm_calloc(sc->n + 1, sizeof(*x->flags));
        if (!x->flags)
                return oom(x);
        r = diff_previous(x);
        if (r <= 0)
                return r;
        /*
         * What a changed BUILD.gn says but the JSON does not show: aliased_deps (the target's own
         * ninja file: its crate is re-parsed, its build file being covered) and whether deps are
         * public (its dependents' externs: those whose ninja file GN rewrote are re-parsed too).
         */
        for (size_t i = 0; i < sc->n; i++) {
                const struct pm__gn_span *sp = &sc->v[i];
                struct bytes dir = label_dir(sp->key, sp->key_len);

                if (sp->prop[PM__GN_PROP_DEPS] &&
                    memchr(sp->prop[PM__GN_PROP_DEPS], '"', sp->prop_len[PM__GN_PROP_DEPS]) &&
                    byteset_has(&x->scope_dirs, dir.p, dir.len))
                        x->flags[i] |= F_HIDDEN;
        }
        x->nc = (struct pm__gn_ctx){
                .q = q, .s = x->s, .root = q->project->root, .tmp = x->tmp, .err = x->err
        };
        r = out_dir(x, &x->nc);
        if (r <= 0)
                return r;
        x->out_fd = strcmp(x->nc.out_dir, "/") != 0
                            ? open(x->nc.out_dir, O_PATH | O_DIRECTORY | O_CLOEXEC)
                            : -1;
        r = cover_dependents(x);
        if (r <= 0)
                return r;
        r = mark_load(x, &n_load);
        if (r <= 0)
                return r;
        return build_partial(x, n_load, ret_g);
}

int
pm__gn_parse_incremental(const struct pm_query *q, const struct pm__gn_settings *settings,
                         const struct pm_blob *blob, struct pm_graph **ret_graph,
                         struct pm_error *err)
{
        struct inc x = { .q = q,
                         .s = settings,
                         .blob = blob,
                         .err = err,
                         .since = pm_stamp_clock(),
                         .out_fd = -1 };
        struct pm_graph *g = NULL;
        size_t max = PM_GN_MAX_JSON_BYTES, off = 0;
        int r;

        if (q->config && q->config->max_tool_output)
                max = q->config->max_tool_output;
        /* Empty, oversized: the full parse says so. */
        if (!blob->data || blob->len == 0 || blob->len > max)
                return pm__gn_parse(q, settings, blob, ret_graph, err);

        x.tmp = pm_arena_new();
        if (!x.tmp) {
                r = oom(&x);
                goto out;
        }
        r = pm__gn_scan(blob->data, blob->len, &x.scan, &off);
        if (r == -ENOMEM) {
                r = oom(&x);
                goto out;
        }
        /* Bad JSON or a shape the scanner does not model: the full parse decides, unfingerprinted
         * (the next run parses everything again). */
        if (r == 0 && x.scan.ide && !x.scan.unsure) {
                r = fingerprint(&x);
                if (r < 0)
                        goto out;
                r = try_partial(&x, &g);
                if (r < 0)
                        goto out;
        }
        if (!g) {
                r = pm__gn_parse(q, settings, blob, &g, err);
                if (r < 0)
                        goto out;
        }
        if (x.have_fp && !x.dups) {
                r = attach_fingerprints(&x, g);
                if (r < 0)
                        goto out;
        }
        *ret_graph = pm_steal_ptr(&g);
        r = 0;
out:
        pm_graph_free(g);
        pm_free(x.sorted);
        pm_free(x.hex);
        pm_free(x.flags);
        pm_free(x.covered.v);
        pm_free(x.scope_dirs.v);
        pm_free(x.queue);
        pm__gn_scan_release(&x.scan);
        if (x.out_fd >= 0)
                (void)close(x.out_fd);
        pm_arena_free(x.tmp);
        return r;
}
