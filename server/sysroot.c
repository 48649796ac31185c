/* SPDX-License-Identifier: MIT */
/* Finding the Rust toolchain root for rust-project.json: the configuration's, or what
 * `rustc --print sysroot` says (remembered in the model while nothing that decides it changed).
 * sysroot_src is always returned. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/thread.h"
#include "projmodel/tool.h"

/* `rustc --print sysroot` prints one path; anything longer is not a sysroot. */
#define SYSROOT_OUTPUT_MAX (64 * 1024)
/* rustup may have to set up the toolchain on first use, so be generous. */
#define SYSROOT_TIMEOUT_MS (120 * 1000)

static const char *
rustc_of(const struct pm_config *cfg)
{
        return cfg->rustc && cfg->rustc[0] ? cfg->rustc : "rustc";
}

static int
ask_rustc(const struct pm_config *cfg, char **ret, struct pm_error *err)
{
        const char *rustc = rustc_of(cfg);
        char *argv[] = { (char *)rustc, (char *)"--print", (char *)"sysroot", NULL };
        struct pm_step step = { .argv = argv, .cwd = cfg->root, .output_file = NULL };
        struct pm_tool_result res = { 0 };
        char *s = NULL, *start, *end;
        int r;

        r = pm_tool_run_sync(&step, SYSROOT_TIMEOUT_MS, SYSROOT_OUTPUT_MAX, &res, err);
        if (r < 0)
                goto out;
        start = res.out.buf ? res.out.buf : "";
        while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
                start++;
        end = start + strlen(start);
        while (end > start &&
               (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                end--;
        if (end == start || memchr(start, '\n', (size_t)(end - start))) {
                r = pm_error_set(err, PM_ETOOL,
                                 "'%s --print sysroot' printed no single path, set \"sysroot\" in "
                                 "the configuration",
                                 rustc);
                goto out;
        }
        s = pm_strndup(start, (size_t)(end - start));
        if (!s) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!pm_path_is_absolute(s)) {
                r = pm_error_set(err, PM_ETOOL, "'%s --print sysroot' printed a relative path '%s'",
                                 rustc, s);
                goto out;
        }
        *ret = pm_path_normalize(NULL, NULL, s);
        if (!*ret)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_free(s);
        pm_tool_result_release(&res);
        return r;
}

/* Add @path's identity (or its absence) to @sb. */
static int
add_file_state(struct pm_strbuf *sb, const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return pm_strbuf_addf(sb, "%s -\n", path);
        return pm_strbuf_addf(sb, "%s %jd %ld %jd %ld %jd %ju\n", path, (intmax_t)st.st_mtim.tv_sec,
                              st.st_mtim.tv_nsec, (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
                              (intmax_t)st.st_size, (uintmax_t)st.st_ino);
}

/* The first executable @name in PATH (a name with a '/' is taken as it is), or NULL. */
static char *
find_in_path(const char *name)
{
        const char *path = getenv("PATH"), *p;

        if (strchr(name, '/'))
                return pm_strdup(name);
        for (p = path; p && *p;) {
                const char *end = strchr(p, ':');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                char *file = pm_asprintf("%.*s/%s", (int)len, len ? p : ".", name);

                if (file && access(file, X_OK) == 0)
                        return file;
                pm_free(file);
                p = end ? end + 1 : p + len;
        }
        return NULL;
}

/*
 * The hash of everything that decides what `rustc --print sysroot` answers when run in the
 * root: which rustc (setting, PATH, the binary found), rustup's toolchain choice (environment,
 * rust-toolchain files from the root up, settings.toml). Returns 0 or -ENOMEM.
 */
static int
sysroot_question(const struct pm_config *cfg, const char *rustc, uint64_t *ret)
{
        static const char *const env[] = { "PATH", "RUSTUP_TOOLCHAIN", "RUSTUP_HOME", "HOME",
                                           NULL };
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *bin = find_in_path(rustc), *dir = pm_strdup(cfg->root), *file = NULL;
        const char *home = getenv("RUSTUP_HOME");
        int r;

        r = pm_strbuf_addf(&sb, "rustc=%s\nroot=%s\n", rustc, cfg->root);
        for (size_t i = 0; r >= 0 && env[i]; i++) {
                const char *v = getenv(env[i]);

                r = pm_strbuf_addf(&sb, "%s%s%s\n", env[i], v ? "=" : "", v ? v : "");
        }
        if (r >= 0 && bin)
                r = add_file_state(&sb, bin);
        /* rustup looks for a toolchain file in the working directory and every parent. */
        while (r >= 0 && dir) {
                char *parent;

                file = pm_path_join(NULL, dir, "rust-toolchain");
                r = file ? add_file_state(&sb, file) : -ENOMEM;
                pm_free(file);
                file = pm_path_join(NULL, dir, "rust-toolchain.toml");
                if (r >= 0)
                        r = file ? add_file_state(&sb, file) : -ENOMEM;
                pm_free(file);
                file = NULL;
                if (strcmp(dir, "/") == 0)
                        break;
                parent = pm_path_dirname(NULL, dir);
                pm_free(dir);
                dir = parent;
                if (!dir)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                if (home && home[0])
                        file = pm_path_join(NULL, home, "settings.toml");
                else if (getenv("HOME"))
                        file = pm_path_join(NULL, getenv("HOME"), ".rustup/settings.toml");
                if (file)
                        r = add_file_state(&sb, file);
        }
        if (r >= 0)
                *ret = pm_hash64(sb.buf, sb.len, 0);
        pm_free(file);
        pm_free(dir);
        pm_free(bin);
        pm_strbuf_release(&sb);
        return r < 0 ? -ENOMEM : 0;
}

/*
 * The answer is also kept as a one-line file in the cache directory, keyed the same way, so a
 * fresh model (a new checkout, a deleted model) needs no rustc either. pm_malloc'd path or NULL.
 */
static char *
answer_file(const struct pm_config *cfg, uint64_t key)
{
        char *dir = pm_config_cache_dir(cfg);
        char *path = dir ? pm_asprintf("%s/sysroot-%016" PRIx64, dir, key) : NULL;

        pm_free(dir);
        return path;
}

/* @dir, pm_malloc'd, if it is an absolute path to an existing directory; else NULL. */
static char *
existing_dir(const char *dir)
{
        struct stat st;

        if (pm_path_is_absolute(dir) && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
                return pm_strdup(dir);
        return NULL;
}

/* The cached answer for @key (the model's "<16 hex digits of key>\n<sysroot>" memo, else the
 * cache directory's file), if its directory still exists. */
static char *
cached_answer(const struct pm_config *cfg, struct pm_index *idx, uint64_t key)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char head[32];
        char *value = NULL, *ret = NULL, *file;

        (void)snprintf(head, sizeof(head), "%016" PRIx64 "\n", key);
        if (idx && pm_index_meta_get(idx, PM_META_SYSROOT_CACHE, &value, NULL) == 0 && value &&
            strncmp(value, head, strlen(head)) == 0)
                ret = existing_dir(value + strlen(head));
        pm_free(value);
        if (ret)
                return ret;
        file = answer_file(cfg, key);
        if (file && pm_strbuf_read_file(&sb, file, PATH_MAX, NULL) == 0 && sb.len > 0) {
                if (sb.buf[sb.len - 1] == '\n')
                        sb.buf[--sb.len] = '\0';
                ret = existing_dir(sb.buf);
        }
        pm_strbuf_release(&sb);
        pm_free(file);
        return ret;
}

void
pm_sysroot_remember(const struct pm_config *cfg, struct pm_index *idx, const char *sysroot)
{
        uint64_t key;
        char *value, *file, *dir;

        if (!sysroot || cfg->sysroot || sysroot_question(cfg, rustc_of(cfg), &key) < 0)
                return;
        value = pm_asprintf("%016" PRIx64 "\n%s", key, sysroot);
        if (value && idx)
                (void)pm_index_meta_set(idx, PM_META_SYSROOT_CACHE, value, NULL);
        pm_free(value);
        /* Best effort: without a cache directory the model's memo still serves. */
        file = answer_file(cfg, key);
        dir = file ? pm_path_dirname(NULL, file) : NULL;
        if (dir && pm_mkdir_p(dir, NULL) == 0)
                (void)pm_write_file_atomic(file, sysroot, strlen(sysroot), NULL);
        pm_free(dir);
        pm_free(file);
}

/* `rustc --print sysroot`, through @idx's memo when there is one. */
static int
rustc_sysroot(const struct pm_config *cfg, struct pm_index *idx, char **ret, struct pm_error *err)
{
        uint64_t key = 0;
        int r;

        if (sysroot_question(cfg, rustc_of(cfg), &key) == 0) {
                *ret = cached_answer(cfg, idx, key);
                if (*ret)
                        return 0;
        }
        r = ask_rustc(cfg, ret, err);
        if (r == 0)
                pm_sysroot_remember(cfg, idx, *ret);
        return r;
}

static int
resolve(const struct pm_config *cfg, struct pm_index *idx, char **ret_sysroot,
        char **ret_sysroot_src, struct pm_error *err)
{
        char *sysroot = NULL, *src = NULL;
        int r;

        if (cfg->sysroot) {
                sysroot = pm_path_normalize(NULL, cfg->root, cfg->sysroot);
                if (!sysroot) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        } else {
                r = rustc_sysroot(cfg, idx, &sysroot, err);
                if (r < 0)
                        goto out;
        }
        if (cfg->sysroot_src)
                src = pm_path_normalize(NULL, cfg->root, cfg->sysroot_src);
        else
                src = pm_path_join(NULL, sysroot, "lib/rustlib/src/rust/library");
        if (!src) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        *ret_sysroot = pm_steal_ptr(&sysroot);
        *ret_sysroot_src = pm_steal_ptr(&src);
        r = 0;
out:
        pm_free(sysroot);
        pm_free(src);
        return r;
}

int
pm_sysroot_resolve(const struct pm_config *cfg, char **ret_sysroot, char **ret_sysroot_src,
                   struct pm_error *err)
{
        return resolve(cfg, NULL, ret_sysroot, ret_sysroot_src, err);
}

int
pm_sysroot_resolve_cached(const struct pm_config *cfg, struct pm_index *idx, char **ret_sysroot,
                          char **ret_sysroot_src, struct pm_error *err)
{
        return resolve(cfg, idx, ret_sysroot, ret_sysroot_src, err);
}

int
pm_sysroot_lookup_cached(const struct pm_config *cfg, struct pm_index *idx, char **ret_sysroot,
                         char **ret_sysroot_src)
{
        uint64_t key;
        char *cached;

        if (!cfg->sysroot) {
                if (sysroot_question(cfg, rustc_of(cfg), &key) < 0)
                        return 0;
                cached = cached_answer(cfg, idx, key);
                if (!cached)
                        return 0;
                pm_free(cached);
        }
        /* Now resolve() runs no process. */
        return resolve(cfg, idx, ret_sysroot, ret_sysroot_src, NULL) == 0 ? 1 : 0;
}

/*
 * The job's thread is detached, and pm_sysroot_job_finish() waits for its result on @done
 * instead of pthread_join(): a thread that finished but was not joined yet stays in the
 * process's thread table, and a child forked meanwhile (uv_spawn of a build tool whose exec then
 * fails, or whose working directory is gone) inherits that table and reports it as leaked when
 * it exits (ThreadSanitizer's exit check runs in the child too). A detached thread is never such
 * an entry, so every path -- the success path, an error return of the caller, a failing child --
 * leaves nothing behind once finish() returned.
 */
struct pm_sysroot_job {
        pthread_mutex_t lock;
        pthread_cond_t done_cond;
        bool done; /* under @lock: the fields below are final */
        const struct pm_config *cfg;
        char *sysroot, *sysroot_src;
        struct pm_error err;
        int r;
};

static void *
job_main(void *userdata)
{
        struct pm_sysroot_job *job = userdata;
        char *sysroot = NULL, *sysroot_src = NULL;
        struct pm_error err;
        int r;

        /* Named, so that its signal mask can be read in /proc (tests/cli/test-sysroot-job.c). */
        (void)pthread_setname_np(pthread_self(), "pm-sysroot");
        pm_error_init(&err);
        r = pm_sysroot_resolve(job->cfg, &sysroot, &sysroot_src, &err);
        (void)pthread_mutex_lock(&job->lock);
        job->r = r;
        job->err = err;
        job->sysroot = sysroot;
        job->sysroot_src = sysroot_src;
        job->done = true;
        (void)pthread_cond_signal(&job->done_cond);
        /* The last touch of @job: finish() may free it as soon as the lock is released. */
        (void)pthread_mutex_unlock(&job->lock);
        return NULL;
}

struct pm_sysroot_job *
pm_sysroot_job_start(const struct pm_config *cfg)
{
        struct pm_sysroot_job *job = pm_calloc(1, sizeof(*job));
        pthread_attr_t attr;
        pthread_t thread;
        bool started = false;

        if (!job)
                return NULL;
        job->cfg = cfg;
        pm_error_init(&job->err);
        if (pthread_mutex_init(&job->lock, NULL) != 0) {
                pm_free(job);
                return NULL;
        }
        if (pthread_cond_init(&job->done_cond, NULL) != 0)
                goto fail_mutex;
        if (pthread_attr_init(&attr) != 0)
                goto fail_cond;
        if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
            pm_thread_create(&thread, &attr, job_main, job) == 0)
                started = true;
        (void)pthread_attr_destroy(&attr);
        if (started)
                return job;
fail_cond:
        (void)pthread_cond_destroy(&job->done_cond);
fail_mutex:
        (void)pthread_mutex_destroy(&job->lock);
        pm_free(job);
        return NULL;
}

int
pm_sysroot_job_finish(struct pm_sysroot_job *job, char **ret_sysroot, char **ret_sysroot_src,
                      struct pm_error *err)
{
        int r;

        if (!job)
                return pm_error_set(err, -EINVAL, "internal bug: no sysroot job");
        (void)pthread_mutex_lock(&job->lock);
        while (!job->done)
                (void)pthread_cond_wait(&job->done_cond, &job->lock);
        (void)pthread_mutex_unlock(&job->lock);
        r = job->r;
        if (r < 0) {
                if (err)
                        *err = job->err;
        } else {
                *ret_sysroot = pm_steal_ptr(&job->sysroot);
                *ret_sysroot_src = pm_steal_ptr(&job->sysroot_src);
        }
        pm_free(job->sysroot);
        pm_free(job->sysroot_src);
        (void)pthread_cond_destroy(&job->done_cond);
        (void)pthread_mutex_destroy(&job->lock);
        pm_free(job);
        return r;
}
