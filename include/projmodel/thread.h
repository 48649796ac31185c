/* SPDX-License-Identifier: MIT */
/* Starting projmodel's own helper threads, which never take a signal. */
#ifndef PROJMODEL_THREAD_H
#define PROJMODEL_THREAD_H

#include <pthread.h>

/*
 * pthread_create() with every signal blocked in the new thread (the caller's mask is kept).
 * A process-directed signal -- SIGCHLD for libuv's child watcher, SIGTERM for the daemon's
 * signal handles -- is then never delivered to a helper thread, so it cannot be lost with a
 * thread that exits right after taking it; the kernel hands it to a thread that runs a loop.
 * Children that a helper spawns through libuv start with an empty mask (uv_spawn() resets it).
 * Returns 0 or a negative errno; @attr may be NULL.
 */
int pm_thread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *),
                     void *arg);

#endif
