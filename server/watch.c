/* SPDX-License-Identifier: MIT */
/* Following the tree: a recursive inotify watch of the root through libinotifytools (skipping
 * version control and the output directories each adapter names), its fd polled by the loop and
 * drained without blocking, and each event turned into a refresh request. libinotifytools keeps
 * global state: only one thread touches it at a time (a walk on the thread pool -- the initial
 * one, or a new tree's past watch_max_dirs or WATCH_INLINE_MAX_DIRS -- with the loop's event
 * handling paused, everything else on the loop). Over 800 lines because the walks (a queue
 * overflow's re-check of the watches is one) and the event handling share that one rule: a walk
 * pauses the events, and each event may start a walk (the records it keeps are in
 * watch-dirs.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <inotifytools/inotifytools.h>
#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "server-internal.h"

/*
 * A new directory's walk on the loop hands over to the thread pool once it has found more
 * directories than this, even below watch_max_dirs: every watch and directory listing of a big
 * tree moved in would otherwise hold up the requests the loop answers, while a directory just
 * made (empty, or a small tree copied in) stays inline and is watched before its events follow.
 */
#define WATCH_INLINE_MAX_DIRS 256

#define WATCH_MASK                                                                               \
        (IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
         IN_DONT_FOLLOW)

/* A walk on the thread pool: the initial one, a new directory's past the limit or too big for
 * the loop, or the re-check after a queue overflow (recheck_watches()). */
struct walk {
        uv_work_t work;
        struct pm_server *srv;
        char *dir;     /* the new directory, NULL for the root's initial walk or a re-check */
        uint32_t mask; /* the event that made @dir */
        bool recheck;  /* a re-check after a queue overflow */
        size_t n_watches;
        size_t n_unwatched;
        size_t n_stale; /* a re-check's: records dropped, directories walked again */
        size_t n_walked;
        int code;
        char error[512];
};

static struct walk *the_walk; /* the walk in flight: inotifytools is process-global anyway */
static int inotify_fd = -1;   /* libinotifytools' */

/*
 * Counting. srv->n_watches and srv->n_unwatched (projmodel/status's "watches" and
 * "unwatchedDirs", docs/configuration.md's watch_max_dirs) must stay exact while the tree
 * churns, or a root where build directories come and go drifts to the limit and stops watching
 * new directories. So every directory the tree watch decided on has a record here, in a tree
 * that mirrors the directories:
 *  - a watched directory (wd > 0) counts one watch. Every watched directory's parent is watched
 *    (the walk watches a directory before its children, and evicts children before parents), so
 *    the unwatched directories hang below watched ones in whole subtrees;
 *  - the top of each unwatched subtree (wd == 0, its parent watched) stands for the directories
 *    the walk found in it (`unwatched`). Nothing below it is watched, so no event tells of a
 *    change inside it: its count stays as found until the top itself goes.
 * A record goes, with everything recorded below it, when its directory does: IN_DELETE of it in
 * its (watched) parent, IN_IGNORED of its own watch (deleted, or its file system unmounted), or
 * IN_MOVED_FROM, which also drops the watches below (they would report under the old path; a
 * move within the root walks the tree again from its IN_MOVED_TO). A watch the daemon removes
 * itself (eviction) leaves the record first, so its IN_IGNORED finds no record with its wd.
 * `needed` marks a directory that holds a build file or is above one: set by the walk and by a
 * build file written into a watched directory later, never cleared (a kept watch costs less
 * than a missed build file). A build file is one of the adapter's names (BUILD.gn) or a file of
 * the model's watch set (srv->watch_dirs: a .gni a BUILD.gn imports, wherever it is): edits of
 * both start a refresh (handle_event()), so both directories are "build-file directories
 * first" (docs/protocol.md, Limits). Past the limit a walk evicts watched directories that are
 * neither needed nor above a watched one, anywhere under the root, for the needed directories
 * it found: so "more than N directories holding build files" is only said when it is true.
 * libinotifytools keeps its own tables and never drops a deleted directory's watch from them,
 * so its filename lookups are not used for these decisions; the kernel's wd is.
 */
/*
 * Is @parent/@name one of the adapters' output directories? Each entry's directory part is
 * compared literally, its last component as an fnmatch(3) pattern.
 */
static bool
adapter_output(const struct pm_server *srv, const char *parent, const char *name)
{
        size_t plen = strlen(parent);

        for (char **d = srv->watch_skip; d && *d; d++) {
                const char *slash = strrchr(*d, '/');
                size_t dlen;

                if (!slash)
                        continue;
                dlen = slash == *d ? 1 : (size_t)(slash - *d);
                if (dlen == plen && memcmp(*d, parent, plen) == 0 &&
                    fnmatch(slash + 1, name, 0) == 0)
                        return true;
        }
        return false;
}

/* Is directory @name (a child of @parent) one we never watch? */
static bool
excluded(const struct pm_server *srv, const char *parent, const char *name, const char *path)
{
        const struct pm_config *cfg = srv->cfg;
        const char *rel;

        /* Version control keeps its own state; no build system reads it. */
        if (strcmp(name, ".git") == 0 || strcmp(name, ".jj") == 0 || strcmp(name, ".hg") == 0)
                return true;
        if (adapter_output(srv, parent, name))
                return true;
        rel = path + strlen(cfg->root);
        if (*rel == '/')
                rel++;
        for (size_t i = 0; i < cfg->n_watch_exclude; i++) {
                const char *x = cfg->watch_exclude[i];

                if (strchr(x, '/') ? strcmp(rel, x) == 0 : fnmatch(x, name, 0) == 0)
                        return true;
        }
        return false;
}

/*
 * opendir() with the fd made by open(O_CLOEXEC) ourselves: it states CLOEXEC
 * and lets ThreadSanitizer see where the fd came from (it does not intercept opendir, and
 * reported fd reuse between this worker and the loop thread as a race).
 */
static DIR *
open_dir(const char *path)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                (void)close(fd);
        return d;
}

static bool is_build_file_name(const struct pm_project *p, const char *name);

/* A directory the walk found. */
struct found_dir {
        char *path;
        size_t parent;        /* its parent's index + 1, 0 for the walk's top */
        struct pm__wdir *rec; /* its record once made, or (unwatched) its subtree's top's */
        int wd;
        bool watched;
        bool gone;   /* vanished (or unreadable) before it could be watched */
        bool needed; /* holds a build file, or is above one that does */
};

struct tree_walk {
        struct found_dir *v;
        size_t n;
        size_t cap;
};

static int
found_push(struct tree_walk *t, char *path, size_t parent)
{
        if (pm_grow(&t->v, &t->cap, t->n + 1, 64) < 0)
                return -ENOMEM;
        t->v[t->n++] = (struct found_dir){ .path = path, .parent = parent };
        return 0;
}

/*
 * Watch @path; 1 watched (its wd in *@wd), 0 gone or unreadable (skipped), else -errno. The
 * kernel's wd comes from inotify_add_watch() on libinotifytools' fd, which then adds the same
 * inode again and gets the same wd: the library returns none, and its filename lookup may
 * answer a deleted directory's stale wd (see "Counting" above).
 */
static int
watch_one(const char *path, int *wd)
{
        int w = inotify_add_watch(inotify_fd, path, WATCH_MASK), e;

        if (w < 0)
                return errno == ENOENT || errno == EACCES ? 0 : -errno;
        if (inotifytools_watch_file(path, WATCH_MASK)) {
                *wd = w;
                return 1;
        }
        e = inotifytools_error();
        (void)inotify_rm_watch(inotify_fd, w);
        return e == ENOENT || e == EACCES ? 0 : -e;
}

/* List directory @i of @t: push its subdirectories that are not excluded, note a build file. */
static int
list_dir(struct pm_server *srv, struct tree_walk *t, size_t i)
{
        const struct pm_project *p = pm_config_project_for_path(srv->cfg, t->v[i].path);
        DIR *d = open_dir(t->v[i].path);
        struct dirent *e;
        int r = 0;

        if (!d)
                return 0;
        /* A file of the watch set is here (a walk's read of watch_dirs: pm_server). */
        if (pm__strset_contains(&srv->watch_dirs, t->v[i].path))
                t->v[i].needed = true;
        while ((e = readdir(d))) {
                const char *path = t->v[i].path;
                char *child;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
                        if (!t->v[i].needed && is_build_file_name(p, e->d_name))
                                t->v[i].needed = true;
                        continue;
                }
                child = pm_path_join(NULL, path, e->d_name);
                if (!child) {
                        r = -ENOMEM;
                        break;
                }
                if (e->d_type == DT_UNKNOWN) {
                        struct stat st;

                        if (lstat(child, &st) < 0 || !S_ISDIR(st.st_mode)) {
                                if (!t->v[i].needed && is_build_file_name(p, e->d_name))
                                        t->v[i].needed = true;
                                pm_free(child);
                                continue;
                        }
                }
                if (excluded(srv, path, e->d_name, child)) {
                        pm_free(child);
                        continue;
                }
                if (found_push(t, child, i + 1) < 0) {
                        pm_free(child);
                        r = -ENOMEM;
                        break;
                }
        }
        (void)closedir(d);
        return r;
}

/*
 * Make the records of walk @t (see "Counting" above): one per watched directory, one per
 * unwatched subtree's top standing for its directories. @top_parent: the record of @t's top's
 * parent, NULL for the root. Out of memory, every watched directory not recorded yet is
 * unwatched and uncounted (no deletion would take it off), and -ENOMEM is returned at the end.
 */
static int
record_walk(struct tree_walk *t, struct pm__wdir *top_parent, size_t *n_watches,
            size_t *n_unwatched)
{
        int rc = 0;

        for (size_t i = 0; i < t->n; i++) {
                struct found_dir *f = &t->v[i], *up = f->parent ? &t->v[f->parent - 1] : NULL;
                struct pm__wdir *parent = up ? up->rec : top_parent;

                if (rc < 0 || f->gone || (up && up->gone)) {
                        if (rc < 0 && f->watched && !f->gone) {
                                pm__wdir_unwatch(f->wd);
                                (*n_watches)--;
                        }
                        f->gone = true;
                        continue;
                }
                if (!f->watched && up && !up->watched) {
                        /* Inside an unwatched subtree: its top stands for it. */
                        f->rec = up->rec;
                        f->rec->unwatched++;
                        (*n_unwatched)++;
                        continue;
                }
                f->rec = pm__wdir_add(f->path, parent, f->watched ? f->wd : 0, f->needed, n_watches,
                                      n_unwatched);
                if (!f->rec) {
                        /* Not recorded: not counted, so that no deletion takes it off. */
                        if (f->watched) {
                                pm__wdir_unwatch(f->wd);
                                (*n_watches)--;
                        }
                        f->gone = true;
                        rc = -ENOMEM;
                        continue;
                }
                if (!f->watched) {
                        f->rec->unwatched = 1;
                        (*n_unwatched)++;
                }
        }
        return rc;
}

/*
 * Watch @dir and everything below it that is not excluded, up to the configuration's
 * watch_max_dirs (docs/configuration.md). Each directory is watched before it is listed, so a
 * subdirectory made meanwhile is seen either way. Past the limit the rest is still listed:
 * then the directories holding a build file and those above them (where a new one appears) go
 * first, taking the place of watched directories that hold none -- this walk's, then any
 * others under the root (pm__wdir_victim()) -- and what is left unwatched is counted in
 * *@n_unwatched: there a new source file is not noticed until the next query. PM_ELIMIT when
 * the build-file directories alone are too many. Iterative: no recursion depth.
 * @new_dir: @dir was just made (an inotify event), so it is watched even past the limit: a build
 * file written into it next would otherwise never be seen. @on_loop: give up, watching nothing,
 * when the walk reaches the limit (return 1: the rest of the tree, however big, is only listed)
 * or finds more than WATCH_INLINE_MAX_DIRS directories (return 2): that is the thread pool's work
 * (walk_subtree()); on the loop a walk costs no more than a few hundred watches.
 */
static int
watch_tree(struct pm_server *srv, const char *dir, bool new_dir, bool on_loop, size_t *n_watches,
           size_t *n_unwatched, char *error, size_t size)
{
        const size_t limit = srv->cfg->watch_max_dirs;
        struct tree_walk t = { 0 };
        size_t *stack = NULL, n = 0, cap = 0, over = 0, victim;
        struct pm__wdir *top_parent = NULL;
        int code = 0, r;
        char *top = pm_strdup(dir);

        if (!top || found_push(&t, top, 0) < 0) {
                pm_free(top);
                code = -ENOMEM;
                goto out;
        }
        if (new_dir) {
                char *parent = pm_path_dirname(NULL, dir);
                const struct pm__wdir *known;

                if (!parent) {
                        code = -ENOMEM;
                        goto out;
                }
                top_parent = pm__wdir_find(parent);
                pm_free(parent);
                /* Walked already, as a new directory's subdirectory: its own events follow. */
                known = pm__wdir_find(dir);
                if (known && known->wd > 0) {
                        t.v[0].gone = true; /* nothing to record again */
                        goto out;
                }
        }
        /* Depth first, as the walk found them: t.v is the order, stack the directories to list. */
        stack = pm_malloc(16 * sizeof(*stack));
        if (!stack) {
                code = -ENOMEM;
                goto out;
        }
        cap = 16;
        stack[n++] = 0;
        while (n) {
                size_t i = stack[--n], first = t.n;
                bool watch = *n_watches < limit || (i == 0 && new_dir);

                if (on_loop && (!watch || t.n > WATCH_INLINE_MAX_DIRS)) {
                        for (size_t k = 0; k < t.n; k++) {
                                if (t.v[k].watched) {
                                        pm__wdir_unwatch(t.v[k].wd);
                                        (*n_watches)--;
                                }
                        }
                        code = watch ? 2 : 1;
                        goto out;
                }
                if (watch) {
                        r = watch_one(t.v[i].path, &t.v[i].wd);
                        if (r < 0) {
                                (void)snprintf(error, size, "cannot watch '%s': %s%s", t.v[i].path,
                                               strerror(-r),
                                               r == -ENOSPC ? " (fs.inotify.max_user_watches)"
                                                            : "");
                                code = r;
                                goto out;
                        }
                        if (r == 0) {
                                t.v[i].gone = true;
                                continue;
                        }
                        t.v[i].watched = true;
                        (*n_watches)++;
                } else {
                        over++;
                }
                code = list_dir(srv, &t, i);
                if (code < 0)
                        goto out;
                /* Children in reverse, so the next one listed is the first found. */
                for (size_t k = t.n; k > first; k--) {
                        if (pm_grow(&stack, &cap, n + 1, 0) < 0) {
                                code = -ENOMEM;
                                goto out;
                        }
                        stack[n++] = k - 1;
                }
        }
        if (over == 0)
                goto out;

        /* Over the limit: a parent comes before its children in t.v. */
        for (size_t i = t.n; i-- > 1;)
                if (t.v[i].needed)
                        t.v[t.v[i].parent - 1].needed = true;
        /* The directories above this walk's top are above its build files too: never victims. */
        if (t.v[0].needed)
                for (struct pm__wdir *w = top_parent; w && !w->needed; w = w->parent)
                        w->needed = true;
        victim = t.n;
        for (size_t i = 0; i < t.n; i++) {
                if (!t.v[i].needed || t.v[i].watched || t.v[i].gone)
                        continue;
                while (*n_watches >= limit) {
                        struct pm__wdir *w;

                        while (victim > 0 && (t.v[victim - 1].needed || !t.v[victim - 1].watched))
                                victim--;
                        if (victim > 0) {
                                pm__wdir_unwatch(t.v[victim - 1].wd);
                                t.v[victim - 1].watched = false;
                                (*n_watches)--;
                                continue;
                        }
                        w = pm__wdir_victim();
                        if (!w) {
                                (void)snprintf(error, size,
                                               "more than %zu directories holding build files to "
                                               "watch under '%s' (watch_max_dirs)",
                                               limit, srv->cfg->root);
                                code = PM_ELIMIT;
                                goto out;
                        }
                        pm__wdir_evict(w, n_watches, n_unwatched);
                }
                r = watch_one(t.v[i].path, &t.v[i].wd);
                if (r < 0) {
                        (void)snprintf(error, size, "cannot watch '%s': %s%s", t.v[i].path,
                                       strerror(-r),
                                       r == -ENOSPC ? " (fs.inotify.max_user_watches)" : "");
                        code = r;
                        goto out;
                }
                t.v[i].watched = r > 0;
                t.v[i].gone = r == 0;
                *n_watches += (size_t)r;
        }
out:
        /* Whatever was watched is recorded, even after an error: it is counted. */
        if (t.n && code <= 0 && record_walk(&t, top_parent, n_watches, n_unwatched) < 0 &&
            code == 0)
                code = -ENOMEM;
        for (size_t i = 0; i < t.n; i++)
                pm_free(t.v[i].path);
        pm_free(t.v);
        pm_free(stack);
        if (code == -ENOMEM)
                (void)snprintf(error, size, "out of memory watching '%s'", dir);
        return code;
}

/* A re-check's inotify_add_watch() of a stale record's path that made a watch of its own. */
struct probe {
        char *path;
        int wd;
};

/* What recheck_watches() collects: a stack of records to visit, the stale ones, the paths of the
 * watched directories still there (kept), the probes. */
struct recheck {
        struct pm__wdir **stack, **stale;
        char **kept;
        struct probe *probes;
        size_t n_stack, n_stale, n_kept, n_probes;
        size_t cap_stack, cap_stale, cap_kept, cap_probes;
};

/* Pass 1 of recheck_watches(): sort the records from @root down into kept and stale (nothing
 * below a stale one is visited: it all goes with it). */
static int
recheck_sort(struct recheck *k, struct pm__wdir *root)
{
        if (pm_grow(&k->stack, &k->cap_stack, 1, 64) < 0)
                return -ENOMEM;
        k->stack[k->n_stack++] = root;
        while (k->n_stack) {
                struct pm__wdir *w = k->stack[--k->n_stack];
                struct stat st;

                if (w->wd > 0) {
                        /* The same inode keeps its wd; a new one gets a new wd. */
                        int wd = inotify_add_watch(inotify_fd, w->path, WATCH_MASK | IN_ONLYDIR);

                        if (wd == w->wd) {
                                if (pm_grow(&k->kept, &k->cap_kept, k->n_kept + 1, 64) < 0 ||
                                    !(k->kept[k->n_kept] = pm_strdup(w->path)))
                                        return -ENOMEM;
                                k->n_kept++;
                                for (struct pm__wdir *c = w->child; c; c = c->next) {
                                        if (pm_grow(&k->stack, &k->cap_stack, k->n_stack + 1, 64) <
                                            0)
                                                return -ENOMEM;
                                        k->stack[k->n_stack++] = c;
                                }
                                continue;
                        }
                        if (wd > 0) {
                                if (pm_grow(&k->probes, &k->cap_probes, k->n_probes + 1, 64) < 0) {
                                        (void)inotify_rm_watch(inotify_fd, wd);
                                        return -ENOMEM;
                                }
                                k->probes[k->n_probes].wd = wd;
                                k->probes[k->n_probes].path = pm_strdup(w->path);
                                if (!k->probes[k->n_probes].path) {
                                        (void)inotify_rm_watch(inotify_fd, wd);
                                        return -ENOMEM;
                                }
                                k->n_probes++;
                        }
                } else if (lstat(w->path, &st) == 0 && S_ISDIR(st.st_mode)) {
                        continue; /* an unwatched subtree's top: counted as found */
                }
                if (pm_grow(&k->stale, &k->cap_stale, k->n_stale + 1, 64) < 0)
                        return -ENOMEM;
                k->stale[k->n_stale++] = w;
        }
        return 0;
}

/*
 * Pass 3 of recheck_watches(): list watched directory @path again; each subdirectory without a
 * record is walked as a new one (its IN_CREATE was lost), a build file marks it needed. The
 * first walk error is kept in *@code and @error.
 */
static void
recheck_list(struct pm_server *srv, const char *path, size_t *n_watches, size_t *n_unwatched,
             size_t *n_walked, int *code, char *error, size_t size)
{
        struct pm__wdir *w = pm__wdir_find(path);
        const struct pm_project *p = pm_config_project_for_path(srv->cfg, path);
        struct dirent *e;
        DIR *d;

        /* Gone with a stale record above it, or evicted by a walk of this re-check. */
        if (!w || w->wd <= 0 || !(d = open_dir(path)))
                return;
        while (w->wd > 0 && *code != -ENOMEM && (e = readdir(d))) {
                char *child, err[512];
                struct stat st;
                int r;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                child = pm_path_join(NULL, path, e->d_name);
                if (!child) {
                        *code = -ENOMEM;
                        (void)snprintf(error, size, "out of memory watching '%s'", path);
                        break;
                }
                if (e->d_type != DT_DIR &&
                    (e->d_type != DT_UNKNOWN || lstat(child, &st) < 0 || !S_ISDIR(st.st_mode))) {
                        if (!w->needed && is_build_file_name(p, e->d_name))
                                pm__wdir_mark_needed(path);
                        pm_free(child);
                        continue;
                }
                if (!excluded(srv, path, e->d_name, child) && !pm__wdir_find(child)) {
                        r = watch_tree(srv, child, true, false, n_watches, n_unwatched, err,
                                       sizeof(err));
                        (*n_walked)++;
                        if (r < 0 && *code == 0) {
                                *code = r;
                                (void)snprintf(error, size, "%s", err);
                        }
                }
                pm_free(child);
        }
        (void)closedir(d);
}

/*
 * After a queue overflow events were lost (docs/protocol.md, status "overflows"), so a record
 * may be stale: its directory deleted (the watch died with it, its IN_IGNORED lost), or deleted
 * and made again (a new inode no watch follows), and a directory made meanwhile has none. So
 * every watched record is checked against the kernel: inotify_add_watch() of its path answers
 * the record's wd only while the same directory is there, a new wd for a new inode, an error
 * for none (or a file). An unwatched subtree's top is checked to be a directory still. A stale
 * record goes with everything below it, its live watches removed (a directory moved away would
 * report under the old path); then every watched directory still there is listed again and a
 * subdirectory without a record is walked as a new one (watch_tree(), as its IN_CREATE would
 * have): the directory made again is watched again and the counts are exact. The probe's own
 * watch of a new inode is the one the walk takes, else removed. A root made again is walked as
 * at the start. Then the full refresh reads a tree every change of which is seen (the caller
 * asks for it). @n_stale, @n_walked: records dropped, directories walked. 0, or the first walk
 * error with @error.
 */
static int
recheck_watches(struct pm_server *srv, size_t *n_watches, size_t *n_unwatched, size_t *n_stale,
                size_t *n_walked, char *error, size_t size)
{
        struct pm__wdir *root = pm__wdir_find(srv->cfg->root);
        struct recheck k = { 0 };
        int code = 0;

        if (root && recheck_sort(&k, root) < 0) {
                code = -ENOMEM;
                (void)snprintf(error, size, "out of memory re-checking the watches");
        }
        /* Dropped even out of memory: a stale record is worse than none. */
        for (size_t i = 0; i < k.n_stale; i++)
                pm__wdir_drop(k.stale[i], true, n_watches, n_unwatched);
        *n_stale = k.n_stale;
        /* A walk's error (watch_max_dirs, max_user_watches) stops none of the others. */
        for (size_t i = 0; code != -ENOMEM && i < k.n_kept; i++)
                recheck_list(srv, k.kept[i], n_watches, n_unwatched, n_walked, &code, error, size);
        if (code != -ENOMEM && root && !pm__wdir_find(srv->cfg->root)) {
                code = watch_tree(srv, srv->cfg->root, false, false, n_watches, n_unwatched, error,
                                  size);
                (*n_walked)++;
        }
        for (size_t i = 0; i < k.n_probes; i++) {
                const struct pm__wdir *w = pm__wdir_find(k.probes[i].path);

                /* Not the record's, nor another watch inotifytools knows (a second name of an
                 * inode watched under its first): a watch of ours no record holds. */
                if (!(w && w->wd == k.probes[i].wd) &&
                    !inotifytools_filename_from_wd(k.probes[i].wd))
                        (void)inotify_rm_watch(inotify_fd, k.probes[i].wd);
                pm_free(k.probes[i].path);
        }
        for (size_t i = 0; i < k.n_kept; i++)
                pm_free(k.kept[i]);
        pm_free(k.probes);
        pm_free(k.kept);
        pm_free(k.stale);
        pm_free(k.stack);
        return code;
}

static void on_poll(uv_poll_t *h, int status, int events);

static void
walk_cb(uv_work_t *w)
{
        struct walk *wk = w->data;

        if (wk->recheck)
                wk->code = recheck_watches(wk->srv, &wk->n_watches, &wk->n_unwatched, &wk->n_stale,
                                           &wk->n_walked, wk->error, sizeof(wk->error));
        else
                wk->code = watch_tree(wk->srv, wk->dir ? wk->dir : wk->srv->cfg->root,
                                      wk->dir != NULL, false, &wk->n_watches, &wk->n_unwatched,
                                      wk->error, sizeof(wk->error));
}

/*
 * A walk of new directory @dir (made by an event with @mask; NULL: the root's initial walk) ended
 * with @code (@error its message): what follows it, on the thread pool or inline.
 */
static void
walk_done(struct pm_server *srv, const char *dir, uint32_t mask, int code, const char *error)
{
        if (code < 0) {
                /* Part of the tree is unwatched: say so in the status. */
                pm__log("%s", error);
                pm_free(srv->watch_error);
                srv->watch_error = pm_strdup(error);
        }
        /* A moved-in tree can hold build files and sources we got no events for; a failed walk
         * means we may miss changes, or (the initial one) missed them while walking: re-query. */
        if (code < 0 || (mask & IN_MOVED_TO))
                pm__refresh_request(srv, dir ? pm_config_project_for_path(srv->cfg, dir) : NULL,
                                    NULL, false);
}

/* Take the watch set's directories that came while a walk ran (pm__watch_dirs_changed()). */
static void
take_watch_dirs(struct pm_server *srv)
{
        if (!srv->have_watch_dirs_next)
                return;
        pm__strset_release(&srv->watch_dirs);
        srv->watch_dirs = srv->watch_dirs_next;
        memset(&srv->watch_dirs_next, 0, sizeof(srv->watch_dirs_next));
        srv->have_watch_dirs_next = false;
        for (size_t i = 0; i < srv->watch_dirs.n; i++)
                pm__wdir_mark_needed(srv->watch_dirs.v[i]);
}

void
pm__watch_dirs_changed(struct pm_server *srv, struct pm__strset *dirs)
{
        pm__strset_release(&srv->watch_dirs_next);
        srv->watch_dirs_next = *dirs;
        memset(dirs, 0, sizeof(*dirs));
        srv->have_watch_dirs_next = true;
        /* A walk reads watch_dirs and the records: its end takes them (after_walk_cb()). */
        if (!the_walk)
                take_watch_dirs(srv);
}

static void
after_walk_cb(uv_work_t *w, int status)
{
        struct walk *wk = w->data;
        struct pm_server *srv = wk->srv;
        bool initial = wk->dir == NULL && !wk->recheck;

        the_walk = NULL;
        srv->n_watches = wk->n_watches;
        srv->n_unwatched = wk->n_unwatched;
        if (srv->stopping || !srv->watching) {
                inotifytools_cleanup();
                pm__wdirs_clear();
                pm_free(wk->dir);
                pm_free(wk);
                return;
        }
        take_watch_dirs(srv);
        walk_done(srv, wk->dir, wk->mask, wk->code, wk->error);
        if (wk->recheck) {
                pm__log("re-checked the watches after the overflow: %zu stale dropped, %zu "
                        "directories walked again, %zu watched",
                        wk->n_stale, wk->n_walked, srv->n_watches);
                /* Now every change is seen: the refresh reads what the lost events told. */
                pm__refresh_request(srv, NULL, NULL, false);
        }
        if (initial) {
                pm__log("watching %zu directories under '%s'", srv->n_watches, srv->cfg->root);
                if (srv->n_unwatched)
                        pm__log("not watching %zu directories without build files "
                                "(watch_max_dirs %u)",
                                srv->n_unwatched, srv->cfg->watch_max_dirs);
        }
        pm_free(wk->dir);
        pm_free(wk);
        /* The audit's watches, kept while the walk held inotifytools (pm__watch_audit_forget()). */
        if (!srv->audit_state && srv->n_audit_watches)
                pm__watch_audit_forget(srv);
        if (srv->poll_started)
                (void)uv_poll_start(&srv->inotify_poll, UV_READABLE, on_poll);
        /* Events the library read before a new directory's walk are not signalled by the fd
         * again. */
        if (!initial)
                (void)pm__watch_drain(srv);
        /* A .projmodel.json change seen before the walk: the refreshes during it could not re-read
         * the configuration (update-schedule.c, refresh_start()), and nothing else asks again. */
        if (srv->reload_config && !the_walk)
                pm__refresh_request(srv, NULL, NULL, false);
}

/* libinotifytools does not export its fd: find the inotify fd it just opened. */
static int
find_inotify_fd(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        int found = -1;

        if (!d)
                return -errno;
        while ((e = readdir(d))) {
                char link[64], target[64];
                ssize_t n;
                int fd;

                if (e->d_name[0] < '0' || e->d_name[0] > '9')
                        continue;
                fd = (int)strtol(e->d_name, NULL, 10);
                if (fd == dirfd(d))
                        continue;
                (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
                n = readlink(link, target, sizeof(target) - 1);
                if (n < 0)
                        continue;
                target[n] = '\0';
                if (strcmp(target, "anon_inode:inotify") == 0 && fd > found)
                        found = fd;
        }
        (void)closedir(d);
        return found >= 0 ? found : -ENOENT;
}

/* Fill srv->watch_skip from every project's adapter. A project whose settings are bad keeps
 * its outputs watched (its queries fail and say why); only out of memory fails. */
static int
collect_watch_skip(struct pm_server *srv, struct pm_error *err)
{
        const struct pm_config *cfg = srv->cfg;

        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_project *p = &cfg->projects[i];
                const struct pm_adapter_ops *ops =
                        p->build_system ? pm_adapter_find(p->build_system) : NULL;
                struct pm_query q = { .config = cfg, .project = p };
                struct pm_error perr;
                int r;

                if (!ops || !ops->watch_skip)
                        continue;
                pm_error_init(&perr);
                r = ops->watch_skip(&q, &srv->watch_skip, &perr);
                if (r == -ENOMEM)
                        return pm_error_set(err, r, "out of memory");
                if (r < 0)
                        pm__log("watching the outputs of project '%s' too: %s", p->id, perr.msg);
        }
        for (char **d = srv->watch_skip; d && *d; d++)
                pm__log("not watching '%s'", *d);
        return 0;
}

void
pm__watch_config_changed(struct pm_server *srv)
{
        struct pm_error err;

        srv->watch_skip = pm_argv_free(srv->watch_skip);
        pm_error_init(&err);
        if (collect_watch_skip(srv, &err) < 0)
                pm__log("watching every output directory: %s", err.msg);
}

int
pm__watch_start(struct pm_server *srv, struct pm_error *err)
{
        struct walk *wk;
        int fd, r;

        r = collect_watch_skip(srv, err);
        if (r < 0)
                return r;

        if (!inotifytools_initialize())
                return pm_error_set(err, -inotifytools_error(), "cannot initialise inotify: %s",
                                    strerror(inotifytools_error()));
        fd = find_inotify_fd();
        if (fd < 0) {
                inotifytools_cleanup();
                return pm_error_set(err, fd, "cannot find libinotifytools' inotify fd");
        }
        /* The library opens it without O_CLOEXEC: tools we spawn must not inherit it. */
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        inotify_fd = fd;
        wk = pm_calloc(1, sizeof(*wk));
        if (!wk) {
                inotifytools_cleanup();
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        wk->srv = srv;
        wk->work.data = wk;
        r = uv_poll_init(&srv->loop, &srv->inotify_poll, fd);
        if (r < 0) {
                pm_free(wk);
                inotifytools_cleanup();
                return pm_error_set(err, r, "cannot poll the inotify fd: %s", uv_strerror(r));
        }
        srv->inotify_poll.data = srv;
        srv->poll_started = true;
        /* Events queue in the kernel during the walk; polling starts when it ends, since
         * inotifytools is only touched by one thread at a time. */
        r = uv_queue_work(&srv->loop, &wk->work, walk_cb, after_walk_cb);
        if (r < 0) {
                pm_free(wk);
                uv_close((uv_handle_t *)&srv->inotify_poll, NULL);
                srv->poll_started = false;
                inotifytools_cleanup();
                return pm_error_set(err, r, "cannot start watching: %s", uv_strerror(r));
        }
        the_walk = wk;
        srv->watching = true;
        return 0;
}

void
pm__watch_stop(struct pm_server *srv)
{
        if (!srv->watching)
                return;
        srv->watching = false;
        if (srv->poll_started) {
                (void)uv_poll_stop(&srv->inotify_poll);
                uv_close((uv_handle_t *)&srv->inotify_poll, NULL);
                srv->poll_started = false;
        }
        /* A walk still running owns inotifytools: its after-callback cleans up. */
        if (!the_walk) {
                inotifytools_cleanup();
                pm__wdirs_clear();
        }
}

static bool
is_build_file_name(const struct pm_project *p, const char *name)
{
        const struct pm_adapter_ops *ops =
                p && p->build_system ? pm_adapter_find(p->build_system) : NULL;

        if (strcmp(name, ".projmodel.json") == 0)
                return true;
        if (!ops || !ops->build_file_names)
                return false;
        for (const char *const *n = ops->build_file_names; *n; n++) {
                if (strcmp(*n, name) == 0)
                        return true;
        }
        return false;
}

bool
pm__watch_walk_running(void)
{
        return the_walk != NULL;
}

static bool
ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

/* Editors' hidden and backup files ('.x.swp', 'x~') are not sources. */
static bool
is_source_name(const char *name)
{
        return name[0] != '.' && name[0] != '\0' && name[strlen(name) - 1] != '~';
}

/* Is @path under directory @dir (with or without its trailing slash)? */
static bool
in_dir(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        return strncmp(path, dir, len) == 0 && (path[len] == '/' || dir[len - 1] == '/');
}

/* Is @path, named @name, a source under some proc macro's source directory? */
static bool
under_proc_macro_dir(const struct pm_server *srv, const char *path, const char *name)
{
        if (!is_source_name(name))
                return false;
        for (char **d = srv->proc_macro_dirs; d && d[0] && d[1]; d += 2) {
                if (in_dir(path, d[0]))
                        return true;
        }
        return false;
}

/*
 * A file @name at @path under a proc macro's source directory (srv->proc_macro_dirs) was
 * written, moved or removed: ask for a rebuild of each such proc macro (update-schedule.c: GN's
 * are rebuilt with ninja alone, procmacro-rebuild.c; another build system's are re-queried,
 * scoped to the build file; docs/build-integration.md); a proc macro without a build file
 * re-queries its project. True if one matched.
 */
static bool
proc_macro_source_changed(struct pm_server *srv, const char *path, const char *name)
{
        bool found = false;

        if (!is_source_name(name))
                return false;
        for (char **d = srv->proc_macro_dirs; d && d[0] && d[1]; d += 2) {
                if (!in_dir(path, d[0]))
                        continue;
                if (d[1][0])
                        pm__refresh_request_proc_macro(
                                srv, pm_config_project_for_path(srv->cfg, d[1]), d[1], path);
                else
                        pm__refresh_request(srv, pm_config_project_for_path(srv->cfg, path), NULL,
                                            false);
                found = true;
        }
        return found;
}

/* Does a proc-macro crate of the model declare @path (a source or its root module)? An index
 * error answers no: the caller then takes the query, which is never wrong. */
static bool
lists_proc_macro_source(struct pm_server *srv, const char *path)
{
        struct pm_error err;
        char **labels = NULL;
        bool listed;

        pm_error_init(&err);
        if (!srv->idx)
                return false;
        if (pm_index_proc_macros_for_file(srv->idx, path, &labels, &err) < 0) {
                pm__log("%s", err.msg);
                return false;
        }
        listed = labels[0] != NULL;
        pm_labels_free(labels);
        return listed;
}

static bool
under_root(const struct pm_server *srv, const char *path)
{
        size_t n = strlen(srv->cfg->root);

        return strncmp(path, srv->cfg->root, n) == 0 &&
               (path[n] == '/' || path[n] == '\0' || (n > 0 && path[n - 1] == '/'));
}

/*
 * Queue walk @wk (its dir, mask or recheck set) on the thread pool; events wait in the kernel
 * meanwhile, and are handled in order after it (a queue overflow re-checks the watches). 0
 * queued (@wk is the after-callback's), else -errno (@wk freed: the caller does it here).
 */
static int
queue_walk(struct pm_server *srv, struct walk *wk)
{
        int r;

        wk->srv = srv;
        wk->work.data = wk;
        wk->n_watches = srv->n_watches;
        wk->n_unwatched = srv->n_unwatched;
        if (srv->poll_started)
                (void)uv_poll_stop(&srv->inotify_poll);
        r = uv_queue_work(&srv->loop, &wk->work, walk_cb, after_walk_cb);
        if (r < 0) {
                if (srv->poll_started)
                        (void)uv_poll_start(&srv->inotify_poll, UV_READABLE, on_poll);
                pm_free(wk->dir);
                pm_free(wk);
                return r;
        }
        the_walk = wk;
        return 0;
}

/*
 * Walk new directory @path (made by an event with @mask) on the thread pool, as the initial walk:
 * past the limit the tree is only listed, and a tree moved in may be any size (@big: the walk on
 * the loop found more than WATCH_INLINE_MAX_DIRS directories, else it reached the limit). 0
 * queued, else -errno (the caller walks it here).
 */
static int
walk_subtree(struct pm_server *srv, const char *path, uint32_t mask, bool big)
{
        struct walk *wk = pm_calloc(1, sizeof(*wk));
        int r;

        if (!wk || !(wk->dir = pm_strdup(path))) {
                pm_free(wk);
                return -ENOMEM;
        }
        wk->mask = mask;
        r = queue_walk(srv, wk);
        if (r < 0)
                return r;
        if (big)
                pm__log("walking '%s' on the thread pool (more than %d directories)", path,
                        WATCH_INLINE_MAX_DIRS);
        else
                pm__log("walking '%s' on the thread pool (past watch_max_dirs %u)", path,
                        srv->cfg->watch_max_dirs);
        return 0;
}

static void
handle_event(struct pm_server *srv, const struct inotify_event *ev)
{
        const struct pm_project *p;
        const char *dir, *name;
        char *path = NULL, *parent = NULL;

        if (ev->mask & IN_Q_OVERFLOW) {
                struct walk *wk = pm_calloc(1, sizeof(*wk));
                size_t n_stale = 0, n_walked = 0;
                char error[512] = "";
                int r;

                pm__audit_distrust(srv);
                srv->overflows++;
                pm__log("inotify queue overflow: re-checking the watches, then re-querying "
                        "everything");
                /* On the thread pool, a walk of every watched directory; its end asks for the
                 * refresh (after_walk_cb()). */
                if (wk) {
                        wk->recheck = true;
                        if (queue_walk(srv, wk) == 0)
                                return;
                }
                r = recheck_watches(srv, &srv->n_watches, &srv->n_unwatched, &n_stale, &n_walked,
                                    error, sizeof(error));
                walk_done(srv, NULL, 0, r, error);
                pm__refresh_request(srv, NULL, NULL, false);
                return;
        }
        if (ev->mask & IN_IGNORED) {
                /* A watch is gone: the directory was deleted (its IN_DELETE_SELF came first) or
                 * unmounted, or we removed it, and then its record is gone or has another wd. */
                const char *gone = inotifytools_filename_from_wd(ev->wd);
                struct pm__wdir *w = gone && gone[0] ? pm__wdir_find_slashed(gone) : NULL;

                if (w && w->wd == ev->wd)
                        pm__wdir_drop(w, false, &srv->n_watches, &srv->n_unwatched);
                return;
        }
        dir = inotifytools_filename_from_wd(ev->wd);
        if (!dir)
                return;
        name = ev->len ? ev->name : "";
        path = pm_path_join(NULL, dir, name);
        if (!path)
                return;
        pm__audit_watch_event(srv, path, ev->mask);
        /* Directories outside the root are watched for the audit only. */
        if (!under_root(srv, path))
                goto out;
        p = pm_config_project_for_path(srv->cfg, path);
        if (ev->mask & IN_ISDIR) {
                if (!name[0])
                        goto out;
                if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
                        struct pm__wdir *w = pm__wdir_find(path);

                        /* Moved away, its watches would report under the old path: drop them. */
                        if (w)
                                pm__wdir_drop(w, (ev->mask & IN_MOVED_FROM) != 0, &srv->n_watches,
                                              &srv->n_unwatched);
                }
                parent = pm_path_dirname(NULL, path);
                if (parent && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
                    !excluded(srv, parent, name, path)) {
                        char error[512];
                        int r = watch_tree(srv, path, true, true, &srv->n_watches,
                                           &srv->n_unwatched, error, sizeof(error));

                        if (r > 0 && walk_subtree(srv, path, ev->mask, r == 2) == 0)
                                goto out; /* its after-callback goes on */
                        if (r > 0)
                                r = watch_tree(srv, path, true, false, &srv->n_watches,
                                               &srv->n_unwatched, error, sizeof(error));
                        walk_done(srv, path, ev->mask, r, error);
                } else if (parent && (ev->mask & (IN_DELETE | IN_MOVED_FROM)) &&
                           !excluded(srv, parent, name, path)) {
                        pm__refresh_request(srv, p, NULL, false);
                }
                goto out;
        }
        if (is_build_file_name(p, name) && (ev->mask & (IN_CREATE | IN_CLOSE_WRITE | IN_MOVED_TO)))
                pm__wdir_mark_needed(dir);
        if (pm__strset_contains(&srv->watch_set, path) || is_build_file_name(p, name)) {
                if (strcmp(name, ".projmodel.json") == 0) {
                        srv->reload_config = true;
                        pm__refresh_request(srv, NULL, NULL, false);
                } else
                        pm__refresh_request(srv, p, path, false);
        } else if (ends_with(name, ".rs") &&
                   (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO))) {
                /* File ownership changes: the build system decides who owns the new file. But an
                 * editor that saves by rename, or by delete and create, changes no ownership of a
                 * file a proc macro already lists: that is an edit of its source. The model is
                 * asked only for files under a proc macro's directories, a list in memory. */
                if (!under_proc_macro_dir(srv, path, name) || !lists_proc_macro_source(srv, path) ||
                    !proc_macro_source_changed(srv, path, name))
                        pm__refresh_request(srv, p, NULL, false);
        } else if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) {
                (void)proc_macro_source_changed(srv, path, name);
        }
out:
        pm_free(parent);
        pm_free(path);
}

bool
pm__watch_drain(struct pm_server *srv)
{
        struct inotify_event *ev;

        if (!srv->watching || the_walk)
                return false;
        /* A zero timeout makes each call non-blocking. */
        while (srv->watching && !the_walk && (ev = inotifytools_next_events(0, 1)))
                handle_event(srv, ev);
        return srv->watching && !the_walk;
}

/*
 * The audit's directories: one under the root is trusted only if the tree watch has it (a
 * second watch of the same inode would rename the tree's); one outside is watched here if its
 * path is canonical (no two names for one watched inode) and does not lead back into the root,
 * up to PM_WATCH_MAX_AUDIT_DIRS. Its events only ever reach the audit (handle_event).
 */
void
pm__watch_audit_dirs(struct pm_server *srv, char *const *dirs, size_t n, char ***fresh,
                     size_t *n_fresh)
{
        if (!srv->watching || the_walk)
                return;
        for (size_t i = 0; i < n; i++) {
                char *slashed = pm_asprintf("%s/", dirs[i]);
                char *real = NULL;
                bool inside = under_root(srv, dirs[i]), ok = false;
                const struct pm__wdir *w = inside ? pm__wdir_find(dirs[i]) : NULL;

                if (!slashed)
                        break;
                if (inside ? w && w->wd > 0 : inotifytools_wd_from_filename(slashed) >= 0) {
                        ok = true;
                } else if (!inside && srv->n_audit_watches < PM_WATCH_MAX_AUDIT_DIRS &&
                           (real = realpath(dirs[i], NULL)) && strcmp(real, dirs[i]) == 0 &&
                           !under_root(srv, real) &&
                           inotifytools_watch_file(dirs[i], WATCH_MASK & ~IN_DONT_FOLLOW)) {
                        ok = pm_argv_push(&srv->audit_watches, slashed) == 0;
                        if (ok)
                                srv->n_audit_watches++;
                }
                if (ok && pm_argv_push(fresh, dirs[i]) == 0)
                        (*n_fresh)++;
                free(real);
                pm_free(slashed);
        }
}

void
pm__watch_audit_forget(struct pm_server *srv)
{
        /* The walk holds inotifytools: its end (after_walk_cb()) comes back for them. */
        if (srv->watching && the_walk)
                return;
        for (size_t i = 0; i < srv->n_audit_watches; i++) {
                int wd = srv->watching ? inotifytools_wd_from_filename(srv->audit_watches[i]) : -1;

                if (wd >= 0)
                        (void)inotifytools_remove_watch_by_wd(wd);
        }
        srv->audit_watches = pm_argv_free(srv->audit_watches);
        srv->n_audit_watches = 0;
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
        struct pm_server *srv = h->data;

        if (status < 0) {
                pm__log("inotify poll failed: %s", uv_strerror(status));
                return;
        }
        /* Drain completely: events the library buffered are not signalled by the fd again. */
        (void)pm__watch_drain(srv);
}
