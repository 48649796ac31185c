/* SPDX-License-Identifier: MIT */
/* The daemon's collection of its cache directory (server/cache-collect.c), for server/update.c,
 * methods.c and daemon.c. */
#ifndef PROJMODEL_SERVER_CACHE_COLLECT_H
#define PROJMODEL_SERVER_CACHE_COLLECT_H

#include <stdbool.h>

struct cJSON;
struct pm_server;

/*
 * After a refresh: unless the daemon asked within the hour or a collection is running, collect
 * the cache directory (pm_index_cache_collect(), which itself runs once a day per directory) on
 * the thread pool, then log what it did and keep it for the status. Out of memory: not now.
 */
void pm__cache_collect_after(struct pm_server *srv);

/* The status' "cache" object (docs/protocol.md); false when out of memory. */
bool pm__cache_status(struct pm_server *srv, struct cJSON *o);

/* Free what the collection keeps (srv->collect; NULL after). At teardown, once the loop ended:
 * a running collection holds it until its after-work callback. */
void pm__cache_collect_free(struct pm_server *srv);

#endif
