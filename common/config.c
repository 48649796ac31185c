/* SPDX-License-Identifier: MIT */
/* Finding the monorepo root and loading .projmodel.json: the generic keys and subprojects, and
 * the one unknown-key checker every section goes through (adapters declare their sections' keys).
 */
#include "projmodel/config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#define CONFIG_FILE_NAME        "." PM_CONFIG_FILE
#define CONFIG_MAX_BYTES        (1024 * 1024)
#define CONFIG_MAX_SUBPROJECTS  1024
#define CONFIG_MAX_WATCH_EXCL   4096
#define DEFAULT_TOOL_TIMEOUT_MS 600000u
#define DEFAULT_MAX_TOOL_OUTPUT ((size_t)1 << 30)
#define DEFAULT_DEBOUNCE_MS     150u
#define DEFAULT_AUDIT_IDLE_MS   600000u
#define DEFAULT_WATCH_MAX_DIRS  120000u

/* Markers that make a directory a build-system root, nearest first (Cargo.toml is separate:
 * for Cargo the outermost workspace wins). */
static const char *const root_markers[] = { ".gn",         "MODULE.bazel",
                                            "WORKSPACE",   "WORKSPACE.bazel",
                                            ".buckconfig", NULL };

/* Adapter section names a configuration may hold. Common does not link the adapters; this list
 * only serves typo protection and must match the registry in adapters/registry.c. */
static const char *const section_names[] = { "gn", "bazel", "buck2", "cargo", NULL };

/* The keys of the top level and of a subproject entry besides the adapter sections (by hand:
 * clang-format lays an odd count out one per line). */
/* clang-format off */
static const char *const top_keys[] = {
        "build_system",    "gn",
        "bazel",           "buck2",
        "cargo",           "subprojects",
        "sysroot",         "sysroot_src",
        "cache_dir",       "seed",
        "rustc",           "watch_exclude",
        "watch_max_dirs",  "tool_timeout_ms",
        "max_tool_output", "debounce_ms",
        "audit_idle_ms",   "flycheck_runnable",
        NULL,
};
/* clang-format on */
static const char *const subproject_keys[] = { "root",  "build_system", "gn", "bazel",
                                               "buck2", "cargo",        NULL };

static bool
in_list(const char *const *list, const char *s)
{
        for (; *list; list++)
                if (strcmp(*list, s) == 0)
                        return true;
        return false;
}

/* Edit distance (insert, delete, substitute, swap two neighbours) of @a and @b, capped. */
static size_t
key_distance(const char *a, const char *b)
{
        enum {
                MAX = 64
        };

        size_t la = strnlen(a, MAX), lb = strnlen(b, MAX), d[MAX + 1][MAX + 1];

        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);

                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                }
        }
        return d[la][lb];
}

/*
 * The one unknown-key error: "unknown key '<where>.<key>' in <file> (did you mean '<k>'?)" with
 * the nearest of @known, or the list of valid keys when none is near. @where is "" at the top.
 */
static int
unknown_key(struct pm_error *err, const struct pm_config *cfg, const char *where, const char *key,
            const char *const *known)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        const char *near = NULL;
        size_t best = SIZE_MAX, len = strlen(key);
        int r;

        for (const char *const *k = known; *k; k++) {
                size_t d = key_distance(key, *k);

                if (d < best) {
                        best = d;
                        near = *k;
                }
        }
        if (near && best <= (len + 2) / 3) {
                r = pm_error_set(err, PM_ECONFIG,
                                 "unknown key '%s%s%.200s' in %s (did you mean '%s'?)", where,
                                 *where ? "." : "", key, cfg->file, near);
        } else {
                for (const char *const *k = known; *k; k++)
                        if (pm_strbuf_addf(&sb, "%s'%s'", k == known ? "" : ", ", *k) < 0)
                                goto oom;
                r = pm_error_set(err, PM_ECONFIG, "unknown key '%s%s%.200s' in %s (valid keys: %s)",
                                 where, *where ? "." : "", key, cfg->file,
                                 sb.buf ? sb.buf : "none");
        }
        pm_strbuf_release(&sb);
        return r;
oom:
        pm_strbuf_release(&sb);
        return pm_error_set(err, -ENOMEM, "out of memory");
}

int
pm_config_find_root(const char *start, char **ret_root, struct pm_error *err)
{
        char *dir = NULL, *abs = NULL, *up, *config_dir = NULL, *marker_dir = NULL,
             *cargo_dir = NULL, *found;
        struct stat st;
        int r = 0;

        abs = pm_path_absolute(start);
        if (!abs) {
                r = pm_error_set(err, -ENOMEM, "cannot find the root of '%s': out of memory",
                                 start);
                goto out;
        }
        if (stat(abs, &st) < 0) {
                r = pm_error_set(err, -errno, "cannot find the root of '%s': %s", start,
                                 strerror(errno));
                goto out;
        }
        dir = S_ISDIR(st.st_mode) ? pm_steal_ptr(&abs) : pm_path_dirname(NULL, abs);
        if (!dir) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }

        /* Walk to "/" once, remembering the nearest config, nearest marker, outermost Cargo. */
        for (;;) {
                if (!config_dir && pm_path_exists_in(dir, CONFIG_FILE_NAME)) {
                        config_dir = pm_strdup(dir);
                        if (!config_dir)
                                break;
                }
                if (!marker_dir) {
                        for (size_t i = 0; root_markers[i]; i++) {
                                if (pm_path_exists_in(dir, root_markers[i])) {
                                        marker_dir = pm_strdup(dir);
                                        break;
                                }
                        }
                }
                if (pm_path_exists_in(dir, "Cargo.toml")) {
                        pm_free(cargo_dir);
                        cargo_dir = pm_strdup(dir);
                }
                if (config_dir || strcmp(dir, "/") == 0)
                        break;
                up = pm_path_dirname(NULL, dir);
                if (!up)
                        break;
                pm_free(dir);
                dir = up;
        }

        found = config_dir ? config_dir : marker_dir ? marker_dir : cargo_dir;
        if (!found) {
                r = pm_error_set(
                        err, PM_ENOROOT,
                        "no build system root found above '%s' (no .projmodel.json, .gn, MODULE.bazel, WORKSPACE, .buckconfig or Cargo.toml)",
                        start);
                goto out;
        }
        found = pm_strdup(found);
        if (!found) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        *ret_root = found;
out:
        pm_free(config_dir);
        pm_free(marker_dir);
        pm_free(cargo_dir);
        pm_free(dir);
        pm_free(abs);
        return r;
}

struct pm_config *
pm_config_free(struct pm_config *cfg)
{
        if (!cfg)
                return NULL;
        for (size_t i = 0; i < cfg->n_projects; i++) {
                pm_free(cfg->projects[i].id);
                pm_free(cfg->projects[i].rel);
                pm_free(cfg->projects[i].root);
                pm_free(cfg->projects[i].build_system);
        }
        pm_free(cfg->projects);
        for (size_t i = 0; i < cfg->n_watch_exclude; i++)
                pm_free(cfg->watch_exclude[i]);
        pm_free(cfg->watch_exclude);
        pm_free(cfg->root);
        pm_free(cfg->file);
        pm_free(cfg->sysroot);
        pm_free(cfg->sysroot_src);
        pm_free(cfg->seed);
        pm_free(cfg->rustc);
        pm_free(cfg->cache_dir);
        cJSON_Delete(cfg->json);
        pm_free(cfg);
        return NULL;
}

/* Report a bad value: "invalid '<file>': key '<key>' <what>". */
static int __attribute__((format(printf, 4, 5)))
config_error(struct pm_error *err, const struct pm_config *cfg, const char *key, const char *fmt,
             ...)
{
        char what[PM_ERROR_MSG_MAX];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        return pm_error_set(err, PM_ECONFIG, "invalid '%s': key '%s' %s",
                            cfg->file ? cfg->file : "(no file)", key, what);
}

/* Store a copy of string @item in *@dst; paths are made absolute against the root. */
static int
get_str(struct pm_config *cfg, const cJSON *item, const char *key, bool is_path, char **dst,
        struct pm_error *err)
{
        char *s;

        if (!cJSON_IsString(item) || !item->valuestring[0])
                return config_error(err, cfg, key, "must be a non-empty string");
        if (is_path)
                s = pm_path_normalize(NULL, cfg->root, item->valuestring);
        else
                s = pm_strdup(item->valuestring);
        if (!s)
                return pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(*dst);
        *dst = s;
        return 0;
}

static int
get_positive(struct pm_config *cfg, const cJSON *item, const char *key, double max, double *ret,
             struct pm_error *err)
{
        double v;

        if (!cJSON_IsNumber(item))
                return config_error(err, cfg, key, "must be a positive integer");
        v = item->valuedouble;
        if (!(v >= 1) || v != floor(v))
                return config_error(err, cfg, key, "must be a positive integer, not %g", v);
        if (v > max)
                return config_error(err, cfg, key, "must be at most %.0f", max);
        *ret = v;
        return 0;
}

static int
get_watch_exclude(struct pm_config *cfg, const cJSON *item, struct pm_error *err)
{
        const cJSON *e;
        int n = cJSON_GetArraySize(item);

        if (!cJSON_IsArray(item))
                return config_error(err, cfg, "watch_exclude", "must be an array of strings");
        if (n > CONFIG_MAX_WATCH_EXCL)
                return config_error(err, cfg, "watch_exclude", "has more than %d entries",
                                    CONFIG_MAX_WATCH_EXCL);
        cfg->watch_exclude = pm_calloc((size_t)n + 1, sizeof(char *));
        if (!cfg->watch_exclude)
                return pm_error_set(err, -ENOMEM, "out of memory");
        cJSON_ArrayForEach(e, item)
        {
                if (!cJSON_IsString(e) || !e->valuestring[0])
                        return config_error(err, cfg, "watch_exclude",
                                            "must be an array of non-empty strings");
                cfg->watch_exclude[cfg->n_watch_exclude] = pm_strdup(e->valuestring);
                if (!cfg->watch_exclude[cfg->n_watch_exclude])
                        return pm_error_set(err, -ENOMEM, "out of memory");
                cfg->n_watch_exclude++;
        }
        return 0;
}

/* Reject duplicate keys: cJSON keeps both and the second would silently be ignored. */
static int
check_duplicates(struct pm_config *cfg, const cJSON *obj, const char *where, struct pm_error *err)
{
        for (const cJSON *a = obj->child; a; a = a->next)
                for (const cJSON *b = a->next; b; b = b->next)
                        if (a->string && b->string && strcmp(a->string, b->string) == 0)
                                return pm_error_set(err, PM_ECONFIG,
                                                    "invalid '%s': duplicate key '%s%s'", cfg->file,
                                                    where, a->string);
        return 0;
}

static int
add_project(struct pm_config *cfg, const char *rel, const char *build_system, struct pm_error *err)
{
        struct pm_project *p;

        p = &cfg->projects[cfg->n_projects];
        memset(p, 0, sizeof(*p));
        p->rel = pm_strdup(rel);
        p->root = pm_path_normalize(NULL, cfg->root, rel);
        if (build_system) {
                p->build_system = pm_strdup(build_system);
                p->id = pm_asprintf("%s:%s", build_system, rel);
        }
        cfg->n_projects++;
        if (!p->rel || !p->root || (build_system && (!p->build_system || !p->id)))
                return pm_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int
load_subproject(struct pm_config *cfg, const cJSON *sub, int idx, struct pm_error *err)
{
        const char *bs = NULL, *rel;
        char key[64], *abs = NULL, *relnorm = NULL;
        const cJSON *item;
        struct stat st;
        int r = 0;

        (void)snprintf(key, sizeof(key), "subprojects[%d]", idx);
        if (!cJSON_IsObject(sub))
                return config_error(err, cfg, key, "must be an object");
        r = check_duplicates(cfg, sub, key, err);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(item, sub)
        {
                if (strcmp(item->string, "root") == 0)
                        continue;
                if (strcmp(item->string, "build_system") == 0) {
                        if (!cJSON_IsString(item) || !item->valuestring[0])
                                return pm_error_set(
                                        err, PM_ECONFIG,
                                        "invalid '%s': key '%s.build_system' must be a non-empty string",
                                        cfg->file, key);
                        bs = item->valuestring;
                        continue;
                }
                if (in_list(section_names, item->string)) {
                        if (!cJSON_IsObject(item))
                                return pm_error_set(err, PM_ECONFIG,
                                                    "invalid '%s': key '%s.%s' must be an object",
                                                    cfg->file, key, item->string);
                        continue;
                }
                return unknown_key(err, cfg, key, item->string, subproject_keys);
        }
        item = cJSON_GetObjectItemCaseSensitive(sub, "root");
        if (!cJSON_IsString(item) || !item->valuestring[0])
                return pm_error_set(err, PM_ECONFIG,
                                    "invalid '%s': key '%s.root' must be a non-empty string",
                                    cfg->file, key);
        rel = item->valuestring;
        if (pm_path_is_absolute(rel))
                return pm_error_set(
                        err, PM_ECONFIG,
                        "invalid '%s': key '%s.root' must be relative to '%s', not '%s'", cfg->file,
                        key, cfg->root, rel);
        abs = pm_path_normalize(NULL, cfg->root, rel);
        relnorm = pm_path_normalize(NULL, NULL, rel);
        if (!abs || !relnorm) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!pm_path_is_under(abs, cfg->root) || strcmp(abs, cfg->root) == 0) {
                r = pm_error_set(
                        err, PM_ECONFIG,
                        "invalid '%s': key '%s.root' ('%s') must name a directory below '%s'",
                        cfg->file, key, rel, cfg->root);
                goto out;
        }
        if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                r = pm_error_set(err, PM_ECONFIG,
                                 "invalid '%s': key '%s.root': directory '%s' does not exist",
                                 cfg->file, key, abs);
                goto out;
        }
        for (size_t i = 1; i < cfg->n_projects; i++) {
                if (strcmp(cfg->projects[i].rel, relnorm) == 0) {
                        r = pm_error_set(err, PM_ECONFIG,
                                         "invalid '%s': key '%s.root': '%s' is listed twice",
                                         cfg->file, key, relnorm);
                        goto out;
                }
        }
        r = add_project(cfg, relnorm, bs, err);
out:
        pm_free(abs);
        pm_free(relnorm);
        return r;
}

/* 1-based line and column of @pos in @text. */
static void
position_of(const char *text, const char *pos, int *ret_line, int *ret_col)
{
        int line = 1, col = 1;

        for (const char *p = text; p < pos && *p; p++) {
                if (*p == '\n') {
                        line++;
                        col = 1;
                } else {
                        col++;
                }
        }
        *ret_line = line;
        *ret_col = col;
}

static int
parse_file(struct pm_config *cfg, struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        const char *end = NULL;
        int r, line, col;

        r = pm_strbuf_read_file(&sb, cfg->file, CONFIG_MAX_BYTES, err);
        if (r < 0)
                goto out;
        cfg->json = cJSON_ParseWithLengthOpts(sb.buf ? sb.buf : "", sb.len, &end, false);
        if (!cfg->json) {
                if (!end) {
                        r = pm_error_set(err, -ENOMEM, "cannot parse '%s': out of memory",
                                         cfg->file);
                        goto out;
                }
                position_of(sb.buf ? sb.buf : "", end, &line, &col);
                r = pm_error_set_at(err, PM_ECONFIG, cfg->file, line, col,
                                    "cannot parse '%s': invalid JSON near line %d", cfg->file,
                                    line);
                goto out;
        }
        if (!cJSON_IsObject(cfg->json))
                r = pm_error_set(err, PM_ECONFIG, "invalid '%s': the top level must be an object",
                                 cfg->file);
out:
        pm_strbuf_release(&sb);
        return r;
}

static int
load_keys(struct pm_config *cfg, struct pm_error *err)
{
        const char *bs = NULL;
        const cJSON *item, *subs = NULL;
        double v = 0;
        int r, n;

        r = check_duplicates(cfg, cfg->json, "", err);
        if (r < 0)
                return r;
        cJSON_ArrayForEach(item, cfg->json)
        {
                const char *k = item->string;

                if (strcmp(k, "build_system") == 0) {
                        if (!cJSON_IsString(item) || !item->valuestring[0])
                                return config_error(err, cfg, k, "must be a non-empty string");
                        bs = item->valuestring;
                } else if (in_list(section_names, k)) {
                        if (!cJSON_IsObject(item))
                                return config_error(err, cfg, k, "must be an object");
                } else if (strcmp(k, "audit") == 0) {
                        /* Read by audit/policy.c (pm_audit_policy_load()). */
                        if (!cJSON_IsObject(item))
                                return config_error(err, cfg, k, "must be an object");
                } else if (strcmp(k, "subprojects") == 0) {
                        if (!cJSON_IsArray(item))
                                return config_error(err, cfg, k, "must be an array of objects");
                        subs = item;
                } else if (strcmp(k, "sysroot") == 0) {
                        r = get_str(cfg, item, k, true, &cfg->sysroot, err);
                } else if (strcmp(k, "sysroot_src") == 0) {
                        r = get_str(cfg, item, k, true, &cfg->sysroot_src, err);
                } else if (strcmp(k, "cache_dir") == 0) {
                        r = get_str(cfg, item, k, true, &cfg->cache_dir, err);
                } else if (strcmp(k, "seed") == 0) {
                        r = get_str(cfg, item, k, true, &cfg->seed, err);
                } else if (strcmp(k, "rustc") == 0) {
                        /* A bare name is looked up in PATH; anything with '/' is a path. */
                        r = get_str(cfg, item, k, false, &cfg->rustc, err);
                        if (r == 0 && strchr(cfg->rustc, '/')) {
                                char *p = pm_path_normalize(NULL, cfg->root, cfg->rustc);

                                if (!p)
                                        return pm_error_set(err, -ENOMEM, "out of memory");
                                pm_free(cfg->rustc);
                                cfg->rustc = p;
                        }
                } else if (strcmp(k, "watch_exclude") == 0) {
                        r = get_watch_exclude(cfg, item, err);
                } else if (strcmp(k, "tool_timeout_ms") == 0) {
                        r = get_positive(cfg, item, k, UINT_MAX, &v, err);
                        if (r == 0)
                                cfg->tool_timeout_ms = (unsigned)v;
                } else if (strcmp(k, "audit_idle_ms") == 0) {
                        r = get_positive(cfg, item, k, UINT_MAX, &v, err);
                        if (r == 0)
                                cfg->audit_idle_ms = (unsigned)v;
                } else if (strcmp(k, "watch_max_dirs") == 0) {
                        r = get_positive(cfg, item, k, UINT_MAX, &v, err);
                        if (r == 0)
                                cfg->watch_max_dirs = (unsigned)v;
                } else if (strcmp(k, "flycheck_runnable") == 0) {
                        if (!cJSON_IsBool(item))
                                return config_error(err, cfg, k, "must be true or false");
                        cfg->no_flycheck_runnable = cJSON_IsFalse(item);
                } else if (strcmp(k, "debounce_ms") == 0) {
                        r = get_positive(cfg, item, k, UINT_MAX, &v, err);
                        if (r == 0)
                                cfg->debounce_ms = (unsigned)v;
                } else if (strcmp(k, "max_tool_output") == 0) {
                        /* 2^53: the largest integer a JSON number carries exactly. */
                        r = get_positive(cfg, item, k, 9007199254740992.0, &v, err);
                        if (r == 0)
                                cfg->max_tool_output = (size_t)v;
                } else {
                        return unknown_key(err, cfg, "", k, top_keys);
                }
                if (r < 0)
                        return r;
        }

        n = subs ? cJSON_GetArraySize(subs) : 0;
        if (n > CONFIG_MAX_SUBPROJECTS)
                return config_error(err, cfg, "subprojects", "has more than %d entries",
                                    CONFIG_MAX_SUBPROJECTS);
        pm_free(cfg->projects);
        cfg->n_projects = 0;
        cfg->projects = pm_calloc((size_t)n + 1, sizeof(*cfg->projects));
        if (!cfg->projects)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = add_project(cfg, ".", bs, err);
        if (r < 0)
                return r;
        if (bs)
                cfg->projects[0].settings = cJSON_GetObjectItemCaseSensitive(cfg->json, bs);
        for (int i = 0; i < n; i++) {
                const cJSON *sub = cJSON_GetArrayItem(subs, i);

                r = load_subproject(cfg, sub, i, err);
                if (r < 0)
                        return r;
                if (cfg->projects[cfg->n_projects - 1].build_system)
                        cfg->projects[cfg->n_projects - 1].settings =
                                cJSON_GetObjectItemCaseSensitive(
                                        sub, cfg->projects[cfg->n_projects - 1].build_system);
        }
        return 0;
}

int
pm_config_load(const char *root, struct pm_config **ret, struct pm_error *err)
{
        struct pm_config *cfg = NULL;
        struct stat st;
        char *path;
        int r = 0;

        cfg = pm_calloc(1, sizeof(*cfg));
        if (!cfg)
                return pm_error_set(err, -ENOMEM, "out of memory");
        cfg->tool_timeout_ms = DEFAULT_TOOL_TIMEOUT_MS;
        cfg->max_tool_output = DEFAULT_MAX_TOOL_OUTPUT;
        cfg->debounce_ms = DEFAULT_DEBOUNCE_MS;
        cfg->audit_idle_ms = DEFAULT_AUDIT_IDLE_MS;
        cfg->watch_max_dirs = DEFAULT_WATCH_MAX_DIRS;
        cfg->root = pm_path_absolute(root);
        cfg->rustc = pm_strdup("rustc");
        if (!cfg->root || !cfg->rustc) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (stat(cfg->root, &st) < 0) {
                r = pm_error_set(err, -errno, "cannot load the configuration of '%s': %s",
                                 cfg->root, strerror(errno));
                goto out;
        }
        if (!S_ISDIR(st.st_mode)) {
                r = pm_error_set(err, -ENOTDIR,
                                 "cannot load the configuration of '%s': not a directory",
                                 cfg->root);
                goto out;
        }

        path = pm_path_join(NULL, cfg->root, CONFIG_FILE_NAME);
        if (!path) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (stat(path, &st) == 0) {
                cfg->file = path;
                r = parse_file(cfg, err);
                if (r == 0)
                        r = load_keys(cfg, err);
        } else {
                pm_free(path);
                cfg->projects = pm_calloc(1, sizeof(*cfg->projects));
                if (!cfg->projects)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                else
                        r = add_project(cfg, ".", NULL, err);
        }
        if (r < 0)
                goto out;
        *ret = pm_steal_ptr(&cfg);
out:
        pm_config_free(cfg);
        return r;
}

const struct pm_project *
pm_config_project_for_path(const struct pm_config *cfg, const char *abs_path)
{
        const struct pm_project *best = NULL;

        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_project *p = &cfg->projects[i];

                if (pm_path_is_under(abs_path, p->root) &&
                    (!best || strlen(p->root) > strlen(best->root)))
                        best = p;
        }
        return best;
}

const struct pm_project *
pm_config_project(const struct pm_config *cfg, const char *id)
{
        for (size_t i = 0; i < cfg->n_projects; i++)
                if (cfg->projects[i].id && id && strcmp(cfg->projects[i].id, id) == 0)
                        return &cfg->projects[i];
        return NULL;
}

/* "section.key" when @section is a named member, else "key". */
static void
key_path(const cJSON *section, const char *key, char *buf, size_t size)
{
        if (section && section->string)
                (void)snprintf(buf, size, "%s.%s", section->string, key);
        else
                (void)snprintf(buf, size, "%s", key);
}

int
pm_config_check_section(const struct pm_config *cfg, const struct cJSON *section, const char *name,
                        const char *const *known, struct pm_error *err)
{
        const cJSON *k;

        if (section && !cJSON_IsObject(section))
                return config_error(err, cfg, name, "must be an object");
        cJSON_ArrayForEach(k, section)
        {
                if (!in_list(known, k->string))
                        return unknown_key(err, cfg, name, k->string, known);
        }
        return 0;
}

int
pm_config_get_string(const struct pm_config *cfg, const struct cJSON *section, const char *key,
                     const char *def, const char **ret, struct pm_error *err)
{
        const cJSON *item = section ? cJSON_GetObjectItemCaseSensitive(section, key) : NULL;
        char kp[256];

        if (!item || cJSON_IsNull(item)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsString(item)) {
                key_path(section, key, kp, sizeof(kp));
                return config_error(err, cfg, kp, "must be a string");
        }
        *ret = item->valuestring;
        return 0;
}

int
pm_config_get_strv(const struct pm_config *cfg, const struct cJSON *section, const char *key,
                   const char ***ret, size_t *ret_n, struct pm_error *err)
{
        const cJSON *item = section ? cJSON_GetObjectItemCaseSensitive(section, key) : NULL;
        const cJSON *e;
        const char **v;
        size_t n = 0;
        int size;
        char kp[256];

        if (item && !cJSON_IsNull(item) && !cJSON_IsArray(item)) {
                key_path(section, key, kp, sizeof(kp));
                return config_error(err, cfg, kp, "must be an array of strings");
        }
        size = item && cJSON_IsArray(item) ? cJSON_GetArraySize(item) : 0;
        v = pm_calloc((size_t)size + 1, sizeof(*v));
        if (!v)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (size > 0) {
                cJSON_ArrayForEach(e, item)
                {
                        if (!cJSON_IsString(e)) {
                                pm_free(v);
                                key_path(section, key, kp, sizeof(kp));
                                return config_error(err, cfg, kp, "must be an array of strings");
                        }
                        v[n++] = e->valuestring;
                }
        }
        *ret = v;
        if (ret_n)
                *ret_n = n;
        return 0;
}
