/* SPDX-License-Identifier: MIT */
/* The records behind the watcher's counts (server/watch.c, "Counting"): one per watched
 * directory and per unwatched subtree's top, by path, in a tree that mirrors the directories;
 * evictions past watch_max_dirs. Touched by one thread at a time, as libinotifytools. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <inotifytools/inotifytools.h>

#include "projmodel/hash.h"
#include "projmodel/mem.h"

#include "server-internal.h"

/* The records by path: open addressing, linear probing, TOMB for a removed slot. */
static struct {
        struct pm__wdir **v;
        size_t cap, live, used; /* used: live + tombstones */
        size_t scan;            /* where the search for an eviction victim goes on */
} dirs;
static struct pm__wdir tomb;
#define TOMB (&tomb)

/* The slot a path of @len bytes hashes to: by length, so that a prefix of a longer string (a
 * path with its trailing slash, pm__wdir_find_slashed()) is looked up without a copy. */
static size_t
dirs_home(const char *path, size_t len)
{
        return (size_t)pm_hash64(path, len, 0) & (dirs.cap - 1);
}

/* The record of the first @len bytes of @path, or NULL. */
static struct pm__wdir *
find_len(const char *path, size_t len)
{
        if (!dirs.cap)
                return NULL;
        for (size_t i = dirs_home(path, len);; i = (i + 1) & (dirs.cap - 1)) {
                struct pm__wdir *w = dirs.v[i];

                if (!w)
                        return NULL;
                if (w != TOMB && strncmp(w->path, path, len) == 0 && w->path[len] == '\0')
                        return w;
        }
}

struct pm__wdir *
pm__wdir_find(const char *path)
{
        return find_len(path, strlen(path));
}

/* Room for one more record: grow (or clean tombstones) at 3/4 full. */
static int
dirs_reserve(void)
{
        struct pm__wdir **old = dirs.v, **v;
        size_t old_cap = dirs.cap, cap;

        if ((dirs.used + 1) * 4 < dirs.cap * 3)
                return 0;
        cap = old_cap ? old_cap : 64;
        while ((dirs.live + 1) * 2 >= cap)
                cap *= 2;
        v = pm_calloc(cap, sizeof(*v));
        if (!v)
                return -ENOMEM;
        dirs.v = v;
        dirs.cap = cap;
        dirs.used = dirs.live;
        dirs.scan = 0;
        for (size_t i = 0; i < old_cap; i++) {
                size_t j;

                if (!old[i] || old[i] == TOMB)
                        continue;
                for (j = dirs_home(old[i]->path, strlen(old[i]->path)); v[j];
                     j = (j + 1) & (cap - 1))
                        ;
                v[j] = old[i];
        }
        pm_free(old);
        return 0;
}

static void
dirs_remove(struct pm__wdir *w)
{
        for (size_t i = dirs_home(w->path, strlen(w->path));; i = (i + 1) & (dirs.cap - 1)) {
                if (dirs.v[i] == w) {
                        dirs.v[i] = TOMB;
                        dirs.live--;
                        return;
                }
        }
}

/* Stop watching @wd (a directory watched by watch_one()); its IN_IGNORED follows. */
void
pm__wdir_unwatch(int wd)
{
        (void)inotifytools_remove_watch_by_wd(wd);
}

/*
 * Forget @top and every record below it, taking them off the counts; @unwatch: also remove
 * their watches (a directory moved away). Iterative: no recursion depth.
 */
void
pm__wdir_drop(struct pm__wdir *top, bool unwatch, size_t *n_watches, size_t *n_unwatched)
{
        struct pm__wdir *w = top;

        if (top->parent) {
                if (top->wd > 0)
                        top->parent->n_watched_children--;
                if (top->prev)
                        top->prev->next = top->next;
                else
                        top->parent->child = top->next;
                if (top->next)
                        top->next->prev = top->prev;
        }
        while (w) {
                struct pm__wdir *up;

                if (w->child) {
                        w = w->child;
                        continue;
                }
                up = w == top ? NULL : w->parent;
                if (up) {
                        up->child = w->next;
                        if (w->next)
                                w->next->prev = NULL;
                }
                if (w->wd > 0) {
                        if (unwatch)
                                pm__wdir_unwatch(w->wd);
                        if (*n_watches)
                                (*n_watches)--;
                } else {
                        *n_unwatched -= w->unwatched < *n_unwatched ? w->unwatched : *n_unwatched;
                }
                dirs_remove(w);
                pm_free(w->path);
                pm_free(w);
                w = up;
        }
}

/* A record for @path below @parent (NULL: the root), replacing one already there; NULL when
 * out of memory. The caller counts it. */
struct pm__wdir *
pm__wdir_add(const char *path, struct pm__wdir *parent, int wd, bool needed, size_t *n_watches,
             size_t *n_unwatched)
{
        struct pm__wdir *w = pm__wdir_find(path);

        if (w)
                pm__wdir_drop(w, false, n_watches, n_unwatched);
        if (dirs_reserve() < 0)
                return NULL;
        w = pm_calloc(1, sizeof(*w));
        if (!w)
                return NULL;
        w->path = pm_strdup(path);
        if (!w->path) {
                pm_free(w);
                return NULL;
        }
        w->wd = wd;
        w->needed = needed;
        w->parent = parent;
        if (parent) {
                w->next = parent->child;
                if (w->next)
                        w->next->prev = w;
                parent->child = w;
                if (wd > 0)
                        parent->n_watched_children++;
        }
        for (size_t i = dirs_home(path, strlen(path));; i = (i + 1) & (dirs.cap - 1)) {
                if (!dirs.v[i] || dirs.v[i] == TOMB) {
                        dirs.used += !dirs.v[i];
                        dirs.v[i] = w;
                        dirs.live++;
                        break;
                }
        }
        return w;
}

/* Forget every record (the watch stops; inotifytools_cleanup() drops the watches). */
void
pm__wdirs_clear(void)
{
        for (size_t i = 0; i < dirs.cap; i++) {
                if (dirs.v[i] && dirs.v[i] != TOMB) {
                        pm_free(dirs.v[i]->path);
                        pm_free(dirs.v[i]);
                }
        }
        pm_free(dirs.v);
        dirs.v = NULL;
        dirs.cap = dirs.live = dirs.used = dirs.scan = 0;
}

/* @path's record (a trailing slash ignored), or NULL. Allocates nothing: it runs for every
 * IN_IGNORED, where a failed copy would leave the record and its counts behind. */
struct pm__wdir *
pm__wdir_find_slashed(const char *path)
{
        size_t len = strlen(path);

        return find_len(path, len >= 2 && path[len - 1] == '/' ? len - 1 : len);
}

/* A build file appeared in directory @dir: it and those above it are needed. */
void
pm__wdir_mark_needed(const char *dir)
{
        for (struct pm__wdir *w = pm__wdir_find_slashed(dir); w && !w->needed; w = w->parent)
                w->needed = true;
}

/*
 * A watched directory that is neither needed nor above a watched one, other than the root:
 * one an over-limit walk may take the watch of. The scan goes on where the last one stopped,
 * so a run of evictions costs one pass over the table; NULL when there is none.
 */
struct pm__wdir *
pm__wdir_victim(void)
{
        for (size_t k = 0; k < dirs.cap; k++) {
                size_t i = (dirs.scan + k) & (dirs.cap - 1);
                struct pm__wdir *w = dirs.v[i];

                if (w && w != TOMB && w->wd > 0 && !w->needed && !w->n_watched_children &&
                    w->parent) {
                        dirs.scan = i + 1;
                        return w;
                }
        }
        return NULL;
}

/* Take @w's watch: it becomes the top of an unwatched subtree, with the ones below it. */
void
pm__wdir_evict(struct pm__wdir *w, size_t *n_watches, size_t *n_unwatched)
{
        size_t below = 0;

        while (w->child) {
                below += w->child->unwatched;
                pm__wdir_drop(w->child, false, n_watches, n_unwatched);
        }
        pm__wdir_unwatch(w->wd);
        w->wd = 0;
        w->parent->n_watched_children--;
        if (*n_watches)
                (*n_watches)--;
        w->unwatched = 1 + below;
        *n_unwatched += w->unwatched;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int
pm__watch_dirs_of(const struct pm__strset *files, struct pm__strset *out)
{
        char **v = pm_calloc(files->n + 1, sizeof(*v));
        size_t n = 0, m = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < files->n; i++) {
                const char *slash = strrchr(files->v[i], '/');

                if (!slash || slash == files->v[i])
                        continue;
                v[n] = pm_strndup(files->v[i], (size_t)(slash - files->v[i]));
                if (!v[n]) {
                        pm_labels_free(v);
                        return -ENOMEM;
                }
                n++;
        }
        qsort(v, n, sizeof(*v), cmp_str);
        for (size_t i = 0; i < n; i++) {
                if (m && strcmp(v[m - 1], v[i]) == 0)
                        pm_free(v[i]);
                else
                        v[m++] = v[i];
        }
        v[m] = NULL;
        out->v = v;
        out->n = m;
        return 0;
}
