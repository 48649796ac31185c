/* SPDX-License-Identifier: MIT */
/* The daemon refresh engine's shared state (struct pm__refresh) and the calls between its files. */
#ifndef PM_SERVER_UPDATE_INTERNAL_H
#define PM_SERVER_UPDATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/tool.h"

#include "server-internal.h"

/*
 * One run over the dirty projects. Invariant: srv->running points here from start to finish;
 * plan/results belong to the project being processed and are released before the next one.
 */
struct pm__refresh {
        struct pm_server *srv;
        uv_work_t work;
        double start_ms;      /* pm_clock_ms() */
        bool *todo;           /* projects to query (copied from the dirty flags) */
        bool *rebuild;        /* projects not queried whose proc macros' sources changed */
        char **rebuild_paths; /* the files written under them (srv->rebuild_paths) */
        size_t n_rebuild_paths;
        size_t n_queried; /* projects whose build tool was queried */
        size_t project;   /* the project being processed */
        char **scope;     /* changed build files, or NULL: unscoped */
        size_t n_scope;
        const char **qscope; /* the part of scope under the current project */
        size_t n_qscope;
        struct pm_query q;
        const struct pm_adapter_ops *ops;
        struct pm_plan plan;
        struct pm_tool_result results[PM_PLAN_MAX_STEPS];
        bool step_ok[PM_PLAN_MAX_STEPS];     /* the step succeeded (its output is to be read) */
        char *step_error[PM_PLAN_MAX_STEPS]; /* pm_blob.error of each step (pm__step_error) */
        struct pm__plan_run *plan_run;       /* the running plan, or NULL */
        /* What the adapter's query_builds() parsed for the announcement (on the thread pool),
         * for the worker's parse to take (adapter.h); what is left goes in release_project(). */
        struct pm_query_memo memo;
        size_t n_counting; /* announcements being counted on the thread pool (update.c) */
        bool plan_ended;   /* the plan ended while one was: its end waits for them */
        int plan_code;     /* the ended plan's pm__plan_result code, err and failed step */
        struct pm_error plan_err;
        size_t plan_failed;
        char *sysroot; /* copies for the worker to store */
        char *sysroot_src;

        /* Filled by the worker, read in the after-work callback. */
        int wcode;
        struct pm_error werr;
        struct pm_change wchange;
        struct pm__strset wwatch; /* the new watch set */
        struct pm__strset wdirs;  /* its directories (pm__watch_dirs_of()) */
        bool have_wwatch;
        char **wproc_macro_dirs; /* the new srv->proc_macro_dirs, or NULL: unchanged */
        size_t wcrates;
        double wown_ms;                        /* read + parse + apply, not the build */
        double wread_ms, wparse_ms, wapply_ms; /* wown_ms's parts */
        double wbuild_ms;                      /* proc macros and build scripts (their tools) */
        bool wskipped;                         /* the input stamp was fresh: nothing parsed */
        bool wpartial;                         /* the applied graph was partial */
        bool wrebuild;    /* a proc-macro rebuild without a query (procmacro-rebuild.c) ran */
        char **wfallback; /* build files of proc macros it left to a query, or NULL */
        struct pm__warnings wwarnings; /* the parsed graph's warnings, with their count */
        bool wstale;                   /* another writer changed the model: no scope is complete */
        uint64_t known_generation;     /* the loop's generation when the work was queued */
        size_t known_crates;           /* ... and its crate count */

        /* The whole run. */
        struct pm_change change; /* merged over projects */
        bool failed;
        struct pm_error first_err;
        char *err_output; /* the failing tool's output, bounded */
        double own_ms;
        double tool_ms, read_ms, parse_ms, build_ms, apply_ms; /* summed over steps, projects */
        bool all_partial;                                      /* every graph applied was partial */
        bool applied;                                          /* some graph was applied */
};

/* update-schedule.c: the debounce timer's callback (starts a run when one is due). */
void pm__update_debounce_cb(uv_timer_t *t);
/* update.c: query the next dirty project of @r, or finish the run. */
void pm__update_next_project(struct pm__refresh *r);
/* update-worker.c: read the steps' output files, parse and apply (thread pool). */
void pm__update_work(uv_work_t *w);
/* update-notify.c: send $/progress (@kind "begin", "report" or "end") to initialized clients. */
void pm__update_progress(struct pm_server *srv, const char *kind, const char *message);
/* update-progress.c: the $/progress message (@message may be NULL); NULL on OOM. */
struct cJSON *pm__progress_notification(const char *kind, const char *message);
/* update-progress.c: send $/progress @kind @message to the clients that receive it (initialized
 * or subscribed, and not held: pm__progress_join()), and keep a "begin" or "report" in the
 * running refresh's log (pm__progress_replay()). */
void pm__progress_send(struct pm_server *srv, const char *kind, const char *message);
/* update-progress.c: send the lines the worker queued (loop; also before a work's result is
 * taken, so that they precede the run's end and the answers it releases). */
void pm__progress_drain(struct pm_server *srv);
/* update-progress.c: *ret for the worker's parse and apply: its lines and warnings go to the
 * queue (silent when the queue was not created). */
struct pm_progress;
void pm__progress_worker(struct pm_server *srv, struct pm_progress *ret);
/* update-notify.c: a run ended: $/progress end, projmodel/modelChanged, refreshFailed. */
void pm__update_notify_done(struct pm__refresh *r);

#endif
