/* SPDX-License-Identifier: MIT */
/* Reading the targets' ninja files ahead, on a second thread, while the full parse decodes the
 * targets and builds their crates: a 10,000-target tree has 10,000 ninja files to open and read,
 * as much time as the rest of the parse. add_deps then takes the results it would have read
 * itself (same file list, same stamp data, same errors: a failed read is done again in place). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"
#include "projmodel/thread.h"

#include "adapters/gn/gn-internal.h"

/* Below this many files a thread costs more than it saves. */
#define PREFETCH_MIN 64

struct pm__gn_prefetch {
        struct pm__gn_prefetch_slot *slots; /* pm_malloc'd */
        size_t n;
        atomic_size_t next;        /* the next slot to read; n or more: none left (or stopped) */
        int dirfd;                 /* the build directory, or -1 */
        size_t rel_off;            /* a slot's path relative to dirfd starts here */
        struct pm_arena *arena[2]; /* the worker's, the parse thread's */
        pthread_t thread;
        bool started;
};

/* Read slots until none is left; @a is the caller's own arena. */
static void
drain(struct pm__gn_prefetch *pf, struct pm_arena *a)
{
        struct pm_error err;

        for (;;) {
                size_t k = atomic_fetch_add(&pf->next, 1);
                struct pm__gn_prefetch_slot *s;

                if (k >= pf->n)
                        return;
                s = &pf->slots[k];
                pm_error_init(&err);
                s->r = pm__gn_ninja_read_externs_at(a, pf->dirfd, s->path + pf->rel_off, s->path,
                                                    &s->file, &s->ext, &s->n_ext, &err);
        }
}

static void *
worker(void *userdata)
{
        struct pm__gn_prefetch *pf = userdata;

        drain(pf, pf->arena[0]);
        return NULL;
}

/* The worker's first reads wait on nothing: it starts from the front, the parse later takes the
 * rest in pm__gn_prefetch_finish(). */
int
pm__gn_prefetch_start(struct pm__gn_ctx *c, const char *const *paths, size_t n,
                      struct pm__gn_prefetch_slot **ret_slots)
{
        struct pm__gn_prefetch *pf;

        *ret_slots = NULL;
        if (n < PREFETCH_MIN || c->out_dir_fd < 0)
                return 0;
        pf = pm_calloc(1, sizeof(*pf));
        if (!pf)
                return pm__gn_oom(c);
        c->prefetch = pf;
        pf->slots = pm_calloc(n, sizeof(*pf->slots));
        pf->arena[0] = pm_arena_new();
        pf->arena[1] = pm_arena_new();
        if (!pf->slots || !pf->arena[0] || !pf->arena[1])
                return pm__gn_oom(c);
        for (size_t i = 0; i < n; i++)
                pf->slots[i].path = paths[i];
        pf->n = n;
        pf->dirfd = c->out_dir_fd;
        pf->rel_off = strlen(c->out_dir) + 1;
        atomic_init(&pf->next, 0);
        /* No thread: everything is read in place, as without a prefetch. */
        if (pm_thread_create(&pf->thread, NULL, worker, pf) != 0) {
                pf->n = 0;
                return 0;
        }
        pf->started = true;
        *ret_slots = pf->slots;
        return 0;
}

void
pm__gn_prefetch_finish(struct pm__gn_ctx *c)
{
        struct pm__gn_prefetch *pf = c->prefetch;

        if (!pf || !pf->started)
                return;
        drain(pf, pf->arena[1]);
        (void)pthread_join(pf->thread, NULL);
        pf->started = false;
}

void
pm__gn_prefetch_free(struct pm__gn_ctx *c)
{
        struct pm__gn_prefetch *pf = c->prefetch;

        if (!pf)
                return;
        if (pf->started) {
                /* Stop early (a failed parse): the worker ends after the file it is reading. */
                atomic_store(&pf->next, pf->n);
                (void)pthread_join(pf->thread, NULL);
        }
        pm_arena_free(pf->arena[0]);
        pm_arena_free(pf->arena[1]);
        pm_free(pf->slots);
        pm_free(pf);
        c->prefetch = NULL;
}
