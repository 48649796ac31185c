/* SPDX-License-Identifier: MIT */
/* Where a configuration's files live: its cache directory and the model database in it. */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/config.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

char *
pm_config_default_cache_dir(void)
{
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

        /* The XDG spec says relative values are invalid and must be ignored. */
        if (xdg && pm_path_is_absolute(xdg))
                return pm_path_join(NULL, xdg, "projmodel");
        if (home && pm_path_is_absolute(home))
                return pm_path_join(NULL, home, ".cache/projmodel");
        return pm_asprintf("/tmp/projmodel-%u", (unsigned)getuid());
}

char *
pm_config_cache_dir(const struct pm_config *cfg)
{
        return cfg->cache_dir ? pm_strdup(cfg->cache_dir) : pm_config_default_cache_dir();
}

char *
pm_config_db_path(const struct pm_config *cfg)
{
        uint64_t h = pm_hash64_str(cfg->root, 0); /* the same root finds the same model */
        const char *base;
        char *dir, *r;

        base = pm_path_basename(cfg->root);
        if (!base[0] || strcmp(base, "/") == 0)
                base = "root";
        dir = pm_config_cache_dir(cfg);
        if (!dir)
                return NULL;
        r = pm_asprintf("%s/%s-%016" PRIx64 ".db", dir, base, h);
        pm_free(dir);
        return r;
}
