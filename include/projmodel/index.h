/* SPDX-License-Identifier: MIT */
/* The crate model: a SQLite database of crates, deps, cfgs, env, flags, sources and build
 * files, updated as a diff in one transaction per adapter run. Only indexer/ includes sqlite3.h. */
#ifndef PROJMODEL_INDEX_H
#define PROJMODEL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "projmodel/graph.h"

struct pm_error;
struct pm_graph;
struct pm_strbuf;
struct pm_strlist;

#define PM_INDEX_SCHEMA_VERSION 7

/*
 * Metadata keys the refresh (projmodel/refresh.h) writes into the model (pm_index_meta_get()).
 * PM_META_LAST_ERROR is "" after a fully successful refresh.
 */
#define PM_META_SYSROOT         "sysroot"
#define PM_META_SYSROOT_SRC     "sysroot_src"
#define PM_META_LAST_REFRESH    "last_refresh"    /* unix time in seconds, decimal */
#define PM_META_LAST_REFRESH_MS "last_refresh_ms" /* how long it took, decimal ms */
#define PM_META_LAST_ERROR      "last_error"      /* one-line message, or "" */
#define PM_META_SYSROOT_CACHE   "sysroot_cache"   /* pm_sysroot_resolve_cached()'s memo */
/* An open model database. Not thread-safe: use one handle per thread (WAL allows a writer and
 * many readers at once). */
struct pm_index;

/*
 * What one pm_index_apply() changed. Owned by the caller; release with pm_change_release().
 * labels lists every crate added, removed or modified; build_files every build file added or
 * removed from the watch set, plus the build files of changed crates.
 */
struct pm_change {
        uint64_t generation; /* the model generation after the apply */
        size_t added, removed, modified, unchanged;
        size_t kept; /* crates the graph lacked but kept: their build file is in its `failed` */
        size_t build_files_changed; /* watch-set paths added or removed (0: same watch set) */
        char **labels;              /* pm_malloc'd array of pm_malloc'd strings */
        size_t n_labels;
        char **build_files;
        size_t n_build_files;
};

void pm_change_release(struct pm_change *change);

/*
 * Open (creating if needed) the model at @path: WAL mode, schema version checked in PRAGMA
 * user_version (an older or unknown version is rebuilt empty: it is a cache), integrity kept by
 * SQLite's transactions. *ret is owned by the caller; close with pm_index_close().
 * @path ":memory:" gives a private in-memory model (tests).
 */
int pm_index_open(const char *path, struct pm_index **ret, struct pm_error *err);
struct pm_index *pm_index_close(struct pm_index *idx);

/*
 * Apply an adapter run for subproject @source (pm_project.id) as a diff, in one transaction:
 * crates of @source absent from @g are removed (for a partial graph: only those declared by a
 * covered build file; never those declared by a file of @g's `failed`: they are kept as
 * stored and counted in pm_change.kept), new ones added, changed ones rewritten, unchanged ones
 * left alone. The build-file watch set of @source is replaced (merged for a partial graph). The
 * generation increases by one when anything changed. @g is validated first (pm_graph_validate,
 * dangling deps allowed); on any failure nothing changes. A label already owned by another source
 * is PM_EEXISTS.
 */
int pm_index_apply(struct pm_index *idx, const char *source, const struct pm_graph *g,
                   struct pm_change *ret_change, struct pm_error *err);

/*
 * The sources the configuration names (the pm_project.id of every subproject; copied). Once set,
 * every apply also removes, in its own transaction, every crate, build file and stamp of a source
 * outside the set other than its own: a subproject removed from .projmodel.json, or whose build
 * system changed (its id names the build system), leaves the model together with the run that
 * replaces it. The removals count in the apply's pm_change. NULL forgets the set.
 */
int pm_index_set_sources(struct pm_index *idx, const char *const *sources, size_t n,
                         struct pm_error *err);
/* The same removal on its own (one transaction), for a refresh that applied nothing; a no-op
 * without a set or with nothing to remove (the generation moves only when something goes). */
int pm_index_prune(struct pm_index *idx, struct pm_change *ret_change, struct pm_error *err);

/*
 * Change detection (docs/architecture.md): each source's input stamp, what its crates were last
 * built from (projmodel/stamp.h makes and checks them; the model only stores them), and the
 * fingerprints of the graph last applied (pm_graph.fingerprints), what an adapter re-parses
 * from. Every apply replaces both in its own transaction (pm_index_apply() forgets the stamp
 * and stores the graph's fingerprints, or forgets them when it has none), so what is stored
 * always describes the source's last apply, whoever made it.
 */
/* As pm_index_apply(), storing @stamp (NUL-terminated, borrowed; NULL forgets it) as @source's
 * input stamp in the same transaction. */
int pm_index_apply_stamped(struct pm_index *idx, const char *source, const struct pm_graph *g,
                           const char *stamp, struct pm_change *ret_change, struct pm_error *err);
/* @source's stamp, pm_malloc'd, or NULL when there is none. */
int pm_index_source_stamp(struct pm_index *idx, const char *source, char **ret,
                          struct pm_error *err);
/* @source's stored fingerprints, as *ret: a graph holding only pm_graph.fingerprints (owned by
 * the caller, pm_graph_free()), or NULL when there are none (or they are unreadable). */
int pm_index_source_fingerprints(struct pm_index *idx, const char *source, struct pm_graph **ret,
                                 struct pm_error *err);

/*
 * Cached outputs (a rendered rust-project.json), keyed by @key: the caller puts everything the
 * output depends on besides the model contents into the key (options, sysroot, format version).
 * An entry is only valid for the generation it was rendered from.
 *
 * pm_index_output_get() appends the entry to @out and sets *ret_hit when @key is stored for the
 * current generation; otherwise @out is untouched and *ret_hit is false.
 * pm_index_output_put() stores @data under @key if the model is still at @generation (read that
 * with pm_index_generation() *before* loading what was rendered: the generation only grows, so an
 * unchanged number proves the load saw that model); otherwise it stores nothing and returns 0.
 * Entries of older generations are dropped.
 */
/*
 * What the unsafe audit remembers per source file (docs/model.md, audit_files): the file's size,
 * mtime (ns; -1 when it was too recent to vouch for) and content hash when it was scanned, and
 * the encoded scan (pm_audit_file_encode()). pm_index_audit_get() appends the scan to @scan and
 * sets *ret_hit when @path is stored (the stamp goes to *ret_stamp); pm_index_audit_put()
 * replaces the record. Wrap many puts in pm_index_audit_begin()/pm_index_audit_end() (one write
 * transaction; @commit false rolls back).
 */
struct pm_index_audit_stamp {
        int64_t size;
        int64_t mtime_ns;
        uint64_t hash;
};

int pm_index_audit_get(struct pm_index *idx, const char *path,
                       struct pm_index_audit_stamp *ret_stamp, struct pm_strbuf *scan,
                       bool *ret_hit, struct pm_error *err);
int pm_index_audit_put(struct pm_index *idx, const char *path,
                       const struct pm_index_audit_stamp *stamp, const void *scan, size_t len,
                       struct pm_error *err);
int pm_index_audit_begin(struct pm_index *idx, struct pm_error *err);
int pm_index_audit_end(struct pm_index *idx, bool commit, struct pm_error *err);

struct pm_audit_store;

/*
 * Fill *@ret_store with @idx (borrowed: it must outlive every use of the store) as the audit's
 * store of per-file scans, through pm_index_audit_get() and pm_index_audit_put(), for
 * pm_audit_set_store(): what `projmodel audit` and the daemon's projmodel/audit both use.
 */
void pm_index_audit_store(struct pm_index *idx, struct pm_audit_store *ret_store);

/*
 * Choose the crates an audit covers, one flag per crate of @g in @on (by index; @g loaded from
 * @idx and sorted by pm_graph_sort(), so each look-up is pm_graph_lookup()'s O(log n)). With
 * @label non-NULL, mark that crate (PM_ENOTFOUND "no crate '@label' in the model" when @g lacks
 * it); then, with @closure, mark every crate a marked crate depends on transitively (a walk over
 * @g's deps, O(closure edges × log n); @idx is not read). Flags already set stay set. The daemon's
 * projmodel/audit passes its "label" and "closure"; `projmodel audit --closure` marks its arguments
 * and passes NULL, true.
 */
int pm_index_mark_audit(struct pm_index *idx, const struct pm_graph *g, const char *label,
                        bool closure, bool *on, struct pm_error *err);

int pm_index_output_get(struct pm_index *idx, const char *key, struct pm_strbuf *out, bool *ret_hit,
                        struct pm_error *err);
int pm_index_output_put(struct pm_index *idx, const char *key, uint64_t generation,
                        const void *data, size_t len, struct pm_error *err);

/* The current generation (0 for an empty model never applied). */
int pm_index_generation(struct pm_index *idx, uint64_t *ret, struct pm_error *err);

/* Key/value metadata (sysroot, last refresh, last error...). *ret pm_malloc'd or NULL. */
int pm_index_meta_get(struct pm_index *idx, const char *key, char **ret, struct pm_error *err);
int pm_index_meta_set(struct pm_index *idx, const char *key, const char *value,
                      struct pm_error *err);

/* Number of crates. */
int pm_index_count(struct pm_index *idx, size_t *ret, struct pm_error *err);

/*
 * Label queries. Each fills a pm_malloc'd NULL-terminated array of pm_malloc'd labels (free
 * with pm_labels_free()), sorted by label, and returns 0 (an empty result is not an error).
 */
/* Crates owning @abs_file: by declared sources and root modules first; if none, by the longest
 * include dir containing it. */
int pm_index_crates_for_file(struct pm_index *idx, const char *abs_file, char ***ret,
                             struct pm_error *err);
/* Crates declared by build file @abs_build_file. */
int pm_index_crates_for_build_file(struct pm_index *idx, const char *abs_build_file, char ***ret,
                                   struct pm_error *err);
/* The transitive dependency closure of @labels (including them). Unknown labels: PM_ENOTFOUND. */
int pm_index_closure(struct pm_index *idx, const char *const *labels, size_t n, char ***ret,
                     struct pm_error *err);
/* Direct (transitive = false) or transitive dependencies / reverse dependencies of one crate,
 * excluding itself. */
int pm_index_deps(struct pm_index *idx, const char *label, bool transitive, char ***ret,
                  struct pm_error *err);
int pm_index_rdeps(struct pm_index *idx, const char *label, bool transitive, char ***ret,
                   struct pm_error *err);
/* Crates whose crate name or display name equals @name. */
int pm_index_lookup_name(struct pm_index *idx, const char *name, char ***ret, struct pm_error *err);
/* Crates whose label, crate name or display name starts with @prefix, at most @limit. */
int pm_index_search(struct pm_index *idx, const char *prefix, size_t limit, char ***ret,
                    struct pm_error *err);
/* Every label (sorted). */
int pm_index_all_labels(struct pm_index *idx, char ***ret, struct pm_error *err);
/* The labels of the crates of one kind (sorted), e.g. the proc macros. */
int pm_index_kind_labels(struct pm_index *idx, enum pm_crate_kind kind, char ***ret,
                         struct pm_error *err);
/* The watch set: all build files of all sources (or of @source when non-NULL). */
int pm_index_build_files(struct pm_index *idx, const char *source, char ***ret,
                         struct pm_error *err);
/*
 * Where the proc macros' sources are (the daemon watches them: docs/build-integration.md): for
 * every proc-macro crate, its root module's directory and each of its include dirs, each
 * followed by the crate's build file ("" when it has none), as pairs in one NULL-terminated
 * array (free with pm_labels_free()), sorted by directory.
 */
int pm_index_proc_macro_dirs(struct pm_index *idx, char ***ret, struct pm_error *err);
/* Proc-macro crates that declare @abs_file as a source or as their root module (never by
 * include dir: a file no crate lists is not theirs). */
int pm_index_proc_macros_for_file(struct pm_index *idx, const char *abs_file, char ***ret,
                                  struct pm_error *err);
/* The source (subproject id) of a crate, pm_malloc'd. PM_ENOTFOUND if unknown. */
int pm_index_crate_source(struct pm_index *idx, const char *label, char **ret,
                          struct pm_error *err);

char **pm_labels_free(char **labels);
size_t pm_labels_count(char *const *labels);

/*
 * Load full crates into a new graph owned by the caller: @labels (NULL = every crate).
 * Unknown labels: PM_ENOTFOUND. Deps keep their labels even when the dep is not loaded.
 */
int pm_index_load(struct pm_index *idx, const char *const *labels, size_t n, struct pm_graph **ret,
                  struct pm_error *err);

/*
 * Snapshots (projmodel snapshot, serve --seed; docs/cli.md). A snapshot is a copy of the model
 * made with SQLite's online backup (one consistent read of every page, even while a daemon
 * applies), as a self-contained rollback-journal file, plus a table of the content fingerprints
 * (pm_file_fingerprint()) of its build-system inputs and the root it was taken of: paths in the
 * model are absolute, so a snapshot only serves a checkout at the same root.
 */
/* Write the snapshot of @idx to @path (atomically: a temporary file renamed over it). @paths and
 * @fingerprints (@n each, borrowed) are the inputs' fingerprints; @root the monorepo root. */
int pm_index_snapshot(struct pm_index *idx, const char *path, const char *root, char *const *paths,
                      char *const *fingerprints, size_t n, struct pm_error *err);

/* What pm_index_seed() did. Owned by the caller; release with pm_seed_release(). */
struct pm_seed {
        bool seeded;         /* the model was replaced by the snapshot */
        char **paths;        /* the snapshot's inputs (pm_malloc'd, NULL-terminated), when seeded */
        char **fingerprints; /* ... and their fingerprints, same order */
        size_t n;
};

void pm_seed_release(struct pm_seed *s);

/*
 * Replace the model of @idx by the snapshot at @path, taken of @root, and hand back its inputs'
 * fingerprints. With @only_if_newer, nothing is replaced (ret->seeded false) unless the
 * snapshot's last refresh (PM_META_LAST_REFRESH) is later than the model's.
 * A file that is not a snapshot of this schema version and root is an error naming it
 * (PM_EDB, PM_ECONFIG for another root) and leaves the model as it was.
 */
int pm_index_seed(struct pm_index *idx, const char *path, const char *root, bool only_if_newer,
                  struct pm_seed *ret, struct pm_error *err);

/* What one pm_index_cache_collect() did. */
struct pm_cache_stats {
        bool ran;       /* false: the directory was collected less than PM_CACHE_INTERVAL_S ago */
        size_t models;  /* model databases read */
        size_t kept;    /* entries a model names */
        size_t young;   /* entries no model names, not yet PM_CACHE_KEEP_S old */
        size_t removed; /* entries removed */
        uint64_t bytes; /* bytes of the files removed (a joined directory's links count 0) */
};

/*
 * Collect the cache directory @cache_dir (absolute, normalised, borrowed): remove each entry of
 * its "dylibs" and "srcs" folders that no model database of the directory names and that is
 * PM_CACHE_KEEP_S old, and renew the mtime of the entries they name (projmodel/dylib-cache.h
 * says why). The models are its "*.db" files and those its "models" folder links to, read-only,
 * whatever their schema version. @model, the caller's model path (borrowed; NULL or ":memory:"
 * for none), is linked there first when it lives elsewhere (`--db`), so every later collection
 * reads it. At most one collection per PM_CACHE_INTERVAL_S per directory, across processes (its
 * "collected" file's mtime); a missing directory is nothing to do. A model that cannot be read
 * stops the collection before anything is removed (PM_EDB naming the file). Never touches the
 * models, the user's files or anything else of the directory.
 */
int pm_index_cache_collect(const char *cache_dir, const char *model, struct pm_cache_stats *ret,
                           struct pm_error *err);

/* The path @idx was opened at (borrowed, valid until pm_index_close()). */
const char *pm_index_path(const struct pm_index *idx);

/* PRAGMA integrity_check; PM_EDB with SQLite's first message when the file is damaged. */
int pm_index_check(struct pm_index *idx, struct pm_error *err);

#endif
