/* SPDX-License-Identifier: MIT */
/* discover answered in this process, without the daemon (--db, --no-refresh,
 * PROJMODEL_NO_DAEMON): the model opened and refreshed here. Apart from cmd-discover.c so that
 * the front binary (cli/front.c) links no SQLite. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/project.h"
#include "projmodel/refresh.h"
#include "projmodel/writer.h"

#include "cli-internal.h"

static void progress_msg(pm__cli_progress_cb progress, void *userdata, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
progress_msg(pm__cli_progress_cb progress, void *userdata, const char *fmt, ...)
{
        char buf[PM_ERROR_MSG_MAX];
        va_list ap;

        if (!progress)
                return;
        va_start(ap, fmt);
        (void)vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        progress(buf, userdata);
}

/* The refresh's phases and warnings, both as discover progress lines (stderr stays silent). */
struct discover_phases {
        pm__cli_progress_cb progress;
        void *userdata;
};

static void
phase_msg(const char *message, void *userdata)
{
        const struct discover_phases *d = userdata;

        d->progress(message, d->userdata);
}

static void
phase_warn(const char *message, void *userdata)
{
        const struct discover_phases *d = userdata;

        progress_msg(d->progress, d->userdata, "warning: %s", message);
}

int
pm__cli_discover_resolve(const struct pm__cli_discover_req *req, pm__cli_progress_cb progress,
                         void *userdata, char **ret_buildfile, struct cJSON **ret_project,
                         struct pm_error *err)
{
        struct pm_project_request preq = { .value = req->value };
        struct pm_project_answer answer = { 0 };
        /* The refresh's and the build's own phases: the build tool's steps, the crates parsed,
         * the proc macros built; the parse's warnings. */
        struct discover_phases dp = { progress, userdata };
        const struct pm_progress phases = { phase_msg, &dp, phase_warn };
        struct pm_writer_options wopts;
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        char *sysroot = NULL, *sysroot_src = NULL, *self = NULL;
        int r;

        r = pm__cli_load_config(req->root, req->kind == PM__CLI_DISCOVER_LABEL ? NULL : req->value,
                                &cfg, err);
        if (r < 0)
                goto out;
        progress_msg(progress, userdata, "loading the model of '%s'", cfg->root);
        r = pm__cli_open_model(cfg, req->db, &idx, err);
        if (r < 0)
                goto out;
        if (req->refresh) {
                progress_msg(progress, userdata, "querying the build system of '%s'", cfg->root);
                r = pm_model_refresh_sync(cfg, idx, NULL, progress ? &phases : NULL, err);
                if (r < 0)
                        goto out;
        }
        preq.form = req->kind == PM__CLI_DISCOVER_PATH        ? PM_PROJECT_PATH
                    : req->kind == PM__CLI_DISCOVER_BUILDFILE ? PM_PROJECT_BUILDFILE
                                                              : PM_PROJECT_LABEL;
        /* The same answer the daemon gives (projmodel/project.h). */
        r = pm_project_answer(idx, &preq, &answer, err);
        if (r < 0)
                goto out;
        r = pm__cli_sysroot(cfg, idx, true, &sysroot, &sysroot_src, err);
        if (r < 0)
                goto out;
        progress_msg(progress, userdata, "writing the project of '%s'", answer.buildfile);
        memset(&wopts, 0, sizeof(wopts));
        wopts.sysroot = sysroot;
        wopts.sysroot_src = sysroot_src;
        wopts.proc_macro_cwd = cfg->root;
        /* The runnables name this binary (docs/cli.md "check, test, run"). */
        errno = 0;
        self = pm_path_self_exe();
        if (!self && errno == ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        wopts.runnables_program = self;
        wopts.no_flycheck = cfg->no_flycheck_runnable;
        wopts.pretty = false;
        r = pm_writer_project(answer.graph, &wopts, ret_project, err);
        if (r < 0)
                goto out;
        *ret_buildfile = pm_steal_ptr(&answer.buildfile);
out:
        pm_project_answer_release(&answer);
        pm_free(sysroot);
        pm_free(sysroot_src);
        pm_free(self);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}
