/* SPDX-License-Identifier: MIT */
/* Helpers shared by the projmodel subcommands: error and usage output, loading the
 * configuration, opening the model, choosing the sysroot. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "cli-internal.h"

void
pm__cli_print_error(const struct pm_error *err)
{
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        const char *msg;

        if (err->file[0] && err->line == 0 && strstr(err->msg, err->file))
                /* The message already names the file ("cannot parse '/x/p.json': ..."). */
                msg = err->msg;
        else
                msg = pm_error_format(err, line, sizeof(line));
        if (msg != line) {
                (void)snprintf(line, sizeof(line), "%s", msg);
                msg = line;
        }
        for (char *c = line; *c; c++)
                if (*c == '\n' || *c == '\r')
                        *c = ' ';
        (void)fprintf(stderr, "projmodel: %s\n", msg[0] ? msg : pm_strerror(err->code));
}

int
pm__cli_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
        va_list ap;

        (void)fprintf(stderr, "projmodel%s%s: ", cmd ? " " : "", cmd ? cmd : "");
        va_start(ap, fmt);
        (void)vfprintf(stderr, fmt, ap);
        va_end(ap);
        (void)fprintf(stderr, "\nusage: projmodel %s\n", usage);
        return PM_CLI_EXIT_USAGE;
}

int
pm__cli_help(const char *usage)
{
        (void)printf("usage: projmodel %s\n", usage);
        return PM_CLI_EXIT_OK;
}

void
pm__cli_print_version(void)
{
        (void)printf("projmodel %s\n", PM_VERSION);
}

char *
pm__cli_abspath(const char *path)
{
        return pm_path_absolute(path);
}

int
pm__cli_load_config(const char *root_opt, const char *start, struct pm_config **ret,
                    struct pm_error *err)
{
        struct pm_config *cfg = NULL;
        char *root = NULL, *from = NULL;
        struct stat st;
        int r;

        if (root_opt) {
                root = pm__cli_abspath(root_opt);
                if (!root) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                if (stat(root, &st) < 0) {
                        r = -errno;
                        r = pm_error_set_at(err, r, root, 0, 0, "cannot use root: %s",
                                            r == -ENOENT ? "no such directory" : strerror(-r));
                        goto out;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = pm_error_set_at(err, -ENOTDIR, root, 0, 0,
                                            "cannot use root: not a directory");
                        goto out;
                }
        } else {
                from = start ? pm__cli_abspath(start) : pm_path_cwd();
                if (!from) {
                        r = pm_error_set(err, -errno ? -errno : -ENOMEM,
                                         "cannot find the working directory");
                        goto out;
                }
                r = pm_config_find_root(from, &root, err);
                if (r < 0) {
                        if (err && !err->file[0] && !strstr(err->msg, from))
                                (void)snprintf(err->file, sizeof(err->file), "%s", from);
                        goto out;
                }
        }

        r = pm_config_load(root, &cfg, err);
        if (r < 0)
                goto out;
        r = pm_adapter_resolve_config(cfg, err);
        if (r < 0) {
                if (err && !err->file[0] && !strstr(err->msg, root))
                        (void)snprintf(err->file, sizeof(err->file), "%s", root);
                goto out;
        }
        *ret = pm_steal_ptr(&cfg);
out:
        pm_config_free(cfg);
        pm_free(root);
        pm_free(from);
        return r;
}

int
pm__cli_open_model(const struct pm_config *cfg, const char *db_opt, struct pm_index **ret,
                   struct pm_error *err)
{
        char *path = NULL, *dir = NULL;
        int r;

        path = db_opt ? pm__cli_abspath(db_opt) : pm_config_db_path(cfg);
        if (!path) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        dir = pm_path_dirname(NULL, path);
        if (!dir) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_mkdir_p(dir, err);
        if (r < 0)
                goto out;
        r = pm_index_open(path, ret, err);
out:
        pm_free(path);
        pm_free(dir);
        return r;
}

int
pm__cli_sysroot(const struct pm_config *cfg, struct pm_index *idx, bool use_stored,
                char **ret_sysroot, char **ret_sysroot_src, struct pm_error *err)
{
        char *sysroot = NULL, *src = NULL;
        int r = 0;

        if (use_stored) {
                r = pm_index_meta_get(idx, PM_META_SYSROOT, &sysroot, err);
                if (r == 0)
                        r = pm_index_meta_get(idx, PM_META_SYSROOT_SRC, &src, err);
                if (r < 0)
                        goto out;
        }
        if (!sysroot || !sysroot[0] || !src || !src[0]) {
                pm_free(sysroot);
                pm_free(src);
                sysroot = src = NULL;
                r = pm_sysroot_resolve_cached(cfg, idx, &sysroot, &src, err);
                if (r < 0)
                        goto out;
        }
        *ret_sysroot = pm_steal_ptr(&sysroot);
        *ret_sysroot_src = pm_steal_ptr(&src);
out:
        pm_free(sysroot);
        pm_free(src);
        return r;
}

void
pm__cli_trace(const char *fmt, ...)
{
        static int enabled = -1;
        static double last;
        const char *env;
        double now;
        va_list ap;

        if (enabled < 0) {
                env = getenv("PROJMODEL_TRACE");
                enabled = env && env[0] && strcmp(env, "0") != 0;
                last = pm_clock_ms();
        }
        if (!enabled)
                return;
        now = pm_clock_ms();
        (void)fputs("projmodel: trace: ", stderr);
        va_start(ap, fmt);
        (void)vfprintf(stderr, fmt, ap);
        va_end(ap);
        (void)fprintf(stderr, " (%.1f ms)\n", now - last);
        last = now;
}

/* pm__cli_progress()'s phases: one line each; the command's name is the userdata. */
static void
tty_progress(const char *message, void *userdata)
{
        (void)fprintf(stderr, "projmodel %s: %s\n", (const char *)userdata, message);
        (void)fflush(stderr);
}

void
pm__cli_warn(const char *message, void *userdata)
{
        (void)fprintf(stderr, "projmodel %s: warning: %s\n", (const char *)userdata, message);
        (void)fflush(stderr);
}

const struct pm_progress *
pm__cli_progress(const char *cmd)
{
        static struct pm_progress p;

        p.cb = isatty(STDERR_FILENO) ? tty_progress : NULL;
        p.userdata = (void *)cmd;
        p.warn = pm__cli_warn;
        return &p;
}
