/* SPDX-License-Identifier: MIT */
/* SQLite's allocator routed through projmodel's (common/mem.c), so the fault hook tests use to
 * fail the Nth allocation reaches SQLite too, and the out-of-memory walks cover its failure
 * paths. Installed once, before SQLite is first used (pm_index_open()). */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "projmodel/mem.h"

#include "indexer-internal.h"

/* Each block carries its size in front (SQLite asks for it back), padded to keep malloc's
 * alignment. */
#define HEADER 16

static void *
sql_malloc(int n)
{
        unsigned char *p;

        if (n <= 0)
                return NULL;
        p = pm_malloc((size_t)n + HEADER);
        if (!p)
                return NULL;
        memcpy(p, &(int64_t){ n }, sizeof(int64_t));
        return p + HEADER;
}

static void
sql_free(void *p)
{
        if (p)
                pm_free((unsigned char *)p - HEADER);
}

static void *
sql_realloc(void *p, int n)
{
        unsigned char *q;

        if (!p)
                return sql_malloc(n);
        if (n <= 0) {
                sql_free(p);
                return NULL;
        }
        q = pm_realloc((unsigned char *)p - HEADER, (size_t)n + HEADER);
        if (!q)
                return NULL;
        memcpy(q, &(int64_t){ n }, sizeof(int64_t));
        return q + HEADER;
}

static int
sql_size(void *p)
{
        int64_t n;

        if (!p)
                return 0;
        memcpy(&n, (unsigned char *)p - HEADER, sizeof(n));
        return (int)n;
}

static int
sql_roundup(int n)
{
        return (n + 7) & ~7;
}

static int
sql_init(void *data)
{
        (void)data;
        return SQLITE_OK;
}

static void
sql_shutdown(void *data)
{
        (void)data;
}

static const sqlite3_mem_methods methods = {
        .xMalloc = sql_malloc,
        .xFree = sql_free,
        .xRealloc = sql_realloc,
        .xSize = sql_size,
        .xRoundup = sql_roundup,
        .xInit = sql_init,
        .xShutdown = sql_shutdown,
        .pAppData = NULL,
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int installed = SQLITE_MISUSE;

static void
install(void)
{
        /* SQLITE_MISUSE when SQLite was initialised before (a caller used it directly): then it
         * keeps its own allocator, which is never mixed with this one. */
        installed = sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
}

bool
pm__index_install_allocator(void)
{
        (void)pthread_once(&once, install);
        return installed == SQLITE_OK;
}
