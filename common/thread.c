/* SPDX-License-Identifier: MIT */
/* projmodel's helper threads start with every signal blocked (include/projmodel/thread.h). */
#include "projmodel/thread.h"

#include <signal.h>

/*
 * Why block rather than rely on any thread running the handler: under ThreadSanitizer a signal
 * is queued on the thread that took it and its handler runs at that thread's next intercepted
 * call; a helper thread that takes SIGCHLD as it returns never makes one, and the child's exit
 * is lost -- the loop that spawned the child then waits for its timeout with the child a
 * zombie (seen in `projmodel discover` while the sysroot thread of server/sysroot.c finished).
 */
int
pm_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
        sigset_t all, old;
        int r;

        (void)sigfillset(&all);
        r = pthread_sigmask(SIG_SETMASK, &all, &old);
        if (r != 0)
                return -r;
        r = pthread_create(thread, attr, start, arg);
        /* Cannot fail: @old is the mask the call above returned. */
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        return -r;
}
