/* SPDX-License-Identifier: MIT */
/* Building the proc macros of a freshly parsed graph through its adapter's build_plan and
 * build_parse (include/projmodel/adapter.h): the tool runs here, the adapter reads its report.
 * A target that fails to build leaves its crate without a dylib and with a note; the rest of the
 * answer is unchanged (docs/build-integration.md). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/procmacro.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"
#include "srcmirror.h"

#define NOTE_MAX 400

/*
 * Add to @c's note that "<@kind><@name>" was not built ("<@failed> failed: " before the reason
 * when @failed, the target that did not build it), and why: @why (the build did not run, or its
 * report could not be read), else @b's error (@b: the report's item, NULL when absent), else its
 * absence from the build report. The one wording of every output this file builds.
 */
static int
note_unbuilt(struct pm_graph *g, struct pm_crate *c, const char *kind, const char *name,
             const char *failed, const struct pm_built *b, const char *why)
{
        const char *reason = why ? why : b && b->error ? b->error : "absent from the build report";
        char *note = pm_graph_printf(g, "%s%s%s%s not built: %s%s%.*s", c->note ? c->note : "",
                                     c->note ? "; " : "", kind, name, failed ? failed : "",
                                     failed ? " failed: " : "", NOTE_MAX, reason);

        if (!note)
                return -ENOMEM;
        c->note = note;
        return 0;
}

/*
 * Run the plan's steps through the one sequencer (plan.c) into @res and @blobs, each report file
 * removed first (an earlier run's must not pass for this one's) and read after its step; a step
 * that could not run or failed sets *ret_why (pm_malloc'd) to its one-line error and stops.
 * -ENOMEM only.
 */
static int
run_plan(const struct pm_config *cfg, const struct pm_plan *plan, struct pm__plan_result *res,
         struct pm_blob *blobs, char **ret_why)
{
        struct pm__plan_opts opts = { .timeout_ms = cfg->tool_timeout_ms,
                                      .max_output = cfg->max_tool_output,
                                      .read_outputs = true,
                                      .fresh_outputs = true };
        struct pm_error perr;
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        int r;

        pm_error_init(&perr);
        r = pm__plan_run_sync(plan, &opts, res, &perr);
        if (r == -ENOMEM)
                return -ENOMEM;
        if (r < 0) {
                *ret_why = pm_strdup(pm_error_format(&perr, line, sizeof(line)));
                return *ret_why ? 0 : -ENOMEM;
        }
        for (size_t i = 0; i < plan->n_steps; i++) {
                const struct pm_step *s = &plan->steps[i];

                blobs[i].data = res->results[i].out.buf ? res->results[i].out.buf : "";
                blobs[i].len = res->results[i].out.len;
                blobs[i].origin = s->output_file ? s->output_file : s->argv[0];
        }
        return 0;
}

/* A build report and its items' labels indexed (index_report()): each crate looks up its few
 * labels among thousands of items. */
struct report {
        struct pm_build_report r;
        struct pm_strv_index *labels;
};

/* Index the labels of @rep's items (NULL ones left out). -ENOMEM only. */
static int
index_report(struct report *rep)
{
        const char **labels = pm_calloc(rep->r.n + 1, sizeof(*labels));
        int r;

        if (!labels)
                return -ENOMEM;
        for (size_t j = 0; j < rep->r.n; j++)
                labels[j] = rep->r.items[j].label;
        r = pm_strv_index_new(labels, rep->r.n, &rep->labels);
        pm_free(labels);
        return r;
}

/* The first item of @rep for @label, or NULL. */
static const struct pm_built *
find_item(const struct report *rep, const char *label, size_t len)
{
        size_t at;

        /* @len bytes of @label, which is all of it or what comes before its sub-target. */
        return pm_strv_index_find(rep->labels, label, len, &at) ? &rep->r.items[at] : NULL;
}

/*
 * Serve @c's OUT_DIR from @b (NULL: absent from the report), else note why not. The directory is
 * the build system's own output, not a copy: it rebuilds it in place, and rust-analyzer re-reads
 * the files of an include directory when they change (a proc-macro server keeps a dylib loaded,
 * which is why dylibs are copied, dylibs.c).
 */
static int
serve_out_dir(struct pm_graph *g, struct pm_crate *c, const struct pm_built *b, const char *why)
{
        if (!why && b && b->out_dir) {
                char *dir = pm_graph_strdup(g, b->out_dir);

                if (!dir || pm_kvlist_set(g, &c->env, "OUT_DIR", dir) < 0 ||
                    pm_strlist_push_unique(g, &c->include_dirs, dir) < 0)
                        return -ENOMEM;
                /* The script's cfgs and env, as the Cargo adapter applies cargo's
                 * build-script-executed (adapters/cargo/cargo-build.c). */
                for (char **e = b->cfgs; e && *e; e++) {
                        char *cfg = pm_cfg_normalize(g, *e);

                        if (!cfg || pm_strlist_push_unique(g, &c->cfgs, cfg) < 0)
                                return -ENOMEM;
                }
                for (char **e = b->env; e && *e; e++) {
                        size_t k = strcspn(*e, "=");
                        char *key = pm_graph_printf(g, "%.*s", (int)k, *e);

                        if (!key)
                                return -ENOMEM;
                        if (!(*e)[k] || strcmp(key, "OUT_DIR") == 0)
                                continue;
                        if (pm_kvlist_set(g, &c->env, key, *e + k + 1) < 0)
                                return -ENOMEM;
                }
                return 0;
        }
        return note_unbuilt(g, c, "OUT_DIR", "", c->out_dir_target, b, why);
}

/*
 * Put the files the targets generating @c's sources built (@report; @why: the build did not
 * run) in place of the paths the parse gave those sources (pm_crate.gen_srcs): the root module
 * when it was one (the target's only file, else its first `.rs`), the source, and each file's
 * directory among include_dirs beside the package's. Like an OUT_DIR, served where the build
 * system wrote them, not copied. A target that did not build leaves its path and a note.
 * Counts the sources in *@n and those served in *@n_built.
 */
static int
serve_generated(struct pm_graph *g, struct pm_crate *c, const struct report *report,
                const char *why, size_t *n, size_t *n_built)
{
        for (size_t i = 0; i < c->gen_srcs.n; i++) {
                const char *label = c->gen_srcs.v[i].key, *path = c->gen_srcs.v[i].value;
                const struct pm_built *b = why ? NULL : find_item(report, label, strlen(label));
                const char *root = NULL;
                bool replaced = false;

                (*n)++;
                /* A failed sub-target (`T[foo.rs]`) may be reported under its target (adapter.h):
                 * that item's error, never the target's own files. */
                if (!why && !b && label[strcspn(label, "[")]) {
                        b = find_item(report, label, strcspn(label, "["));
                        if (b && b->files)
                                b = NULL;
                }
                if (!b || !b->files || !b->files[0]) {
                        if (note_unbuilt(g, c, "generated source ", label, NULL, b, why) < 0)
                                return -ENOMEM;
                        continue;
                }
                for (char **f = b->files; *f && !root; f++) {
                        size_t len = strlen(*f);

                        if (len > 3 && strcmp(*f + len - 3, ".rs") == 0)
                                root = *f;
                }
                if (!b->files[1] || !root)
                        root = b->files[0];
                if (strcmp(c->root_module, path) == 0 &&
                    !(c->root_module = pm_graph_strdup(g, root)))
                        return -ENOMEM;
                for (char **f = b->files; *f; f++) {
                        char *file = pm_graph_strdup(g, *f);
                        char *dir = pm_path_dirname(g->arena, *f);
                        bool placed = false;

                        if (!file || !dir || pm_strlist_push_unique(g, &c->include_dirs, dir) < 0)
                                return -ENOMEM;
                        /* The first file takes the source's place, the others follow. */
                        for (size_t j = 0; j < c->sources.n && !replaced; j++) {
                                if (strcmp(c->sources.v[j], path) == 0) {
                                        c->sources.v[j] = file;
                                        replaced = placed = true;
                                }
                        }
                        if (!placed && pm_strlist_push_unique(g, &c->sources, file) < 0)
                                return -ENOMEM;
                }
                (*n_built)++;
        }
        return 0;
}

/* pm__mirror_sources() of @c with the package output directories the build reported for the
 * targets generating its sources. -ENOMEM only. */
static int
mirror(const struct pm_query *q, struct pm_graph *g, struct pm_crate *c,
       const struct report *report, char **cache, struct pm_error *err)
{
        const char **dirs = pm_calloc(c->gen_srcs.n + 1, sizeof(*dirs));
        int r;

        if (!dirs)
                return pm_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < c->gen_srcs.n; i++) {
                const char *label = c->gen_srcs.v[i].key;
                const struct pm_built *b = find_item(report, label, strlen(label));

                dirs[i] = b ? b->pkg_dir : NULL;
        }
        r = pm__mirror_sources(q, g, c, dirs, c->gen_srcs.n, cache, err);
        pm_free(dirs);
        return r;
}

/* Whether @c is one this build is for: a proc macro without dylib, a crate with an OUT_DIR
 * target, or with generated sources (include/projmodel/graph.h), of build system @name. */
static bool
wanted(const struct pm_crate *c, const char *name, bool *ret_pm, bool *ret_od, bool *ret_gen)
{
        *ret_pm = c->kind == PM_CRATE_PROC_MACRO && !c->proc_macro_dylib;
        *ret_od = c->out_dir_target != NULL;
        *ret_gen = c->gen_srcs.n > 0;
        return (*ret_pm || *ret_od || *ret_gen) && strcmp(c->build_system, name) == 0;
}

bool
pm__build_line(char *buf, size_t size, size_t n_pm, size_t n_od, size_t n_gen, const char *tool)
{
        const size_t count[] = { n_pm, n_od, n_gen };
        const char *what[] = { "proc macro", "OUT_DIR", "generated source" };
        size_t parts = (n_pm > 0) + (n_od > 0) + (n_gen > 0), done = 0, len;

        if (size == 0)
                return parts > 0;
        len = (size_t)snprintf(buf, size, "building");
        for (size_t k = 0; k < 3 && len < size; k++) {
                if (count[k] == 0)
                        continue;
                done++;
                len += (size_t)snprintf(buf + len, size - len, "%s%zu %s%s",
                                        done == 1       ? " "
                                        : done == parts ? " and "
                                                        : ", ",
                                        count[k], what[k], count[k] == 1 ? "" : "s");
        }
        if (len < size)
                (void)snprintf(buf + len, size - len, " with %s", tool);
        if (parts == 0)
                buf[0] = '\0';
        return parts > 0;
}

/*
 * Make the input stamp (projmodel/stamp.h) of a graph whose parse listed its inputs cover what
 * its build of proc macros read, as the GN build does (procmacro.c): every build file, each
 * proc macro's root module and sources, and its dylib as the build left it. An edit of any of
 * them, or the user's own build rewriting a dylib, makes the next refresh parse and build again
 * (docs/model.md). No stamp when the build did not run (@why: the next refresh tries again) or
 * built anything else (@others): a build script or a generator reads files the graph does not
 * name (a build script's data, a generator's tool built from Rust sources), and skipping its
 * build would leave an OUT_DIR or a generated source stale. -ENOMEM only.
 */
static int
stamp_build(struct pm_graph *g, const char *name, const char *why, size_t others)
{
        if (!g->inputs_known)
                return 0;
        if (why || others) {
                g->inputs_known = false;
                return 0;
        }
        /* What the parse saw of its own inputs is not all: the stamp stat()s each one. */
        g->input_files = NULL;
        for (size_t i = 0; i < g->build_files.n; i++)
                if (pm_strlist_push(g, &g->inputs, g->build_files.v[i]) < 0)
                        return -ENOMEM;
        for (size_t i = 0; i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];

                if (c->kind != PM_CRATE_PROC_MACRO || strcmp(c->build_system, name) != 0)
                        continue;
                if ((c->root_module && pm_strlist_push(g, &g->inputs, c->root_module) < 0) ||
                    (c->proc_macro_dylib &&
                     pm_strlist_push(g, &g->inputs, c->proc_macro_dylib) < 0))
                        return -ENOMEM;
                for (size_t k = 0; k < c->sources.n; k++)
                        if (pm_strlist_push(g, &g->inputs, c->sources.v[k]) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* What pm__build_proc_macros() builds a label for. */
enum label_kind {
        LABEL_GEN,
        LABEL_PM,
        LABEL_OD
};

int
pm__build_proc_macros(const struct pm_query *q, struct pm_graph *g,
                      const struct pm_progress *progress, struct pm_error *err)
{
        const struct pm_adapter_ops *ops = pm_adapter_find(q->project->build_system);
        struct pm_plan plan = { 0 };
        struct pm__plan_result res = { 0 };
        struct pm_blob blobs[PM_PLAN_MAX_STEPS] = { 0 };
        struct report report = { 0 };
        const char **labels = NULL;
        enum label_kind *kinds = NULL;
        bool *repeat = NULL;
        char *why = NULL, *cache = NULL, line[256];
        size_t n = 0, n_all, n_pm = 0, n_od = 0, n_built = 0, n_od_built = 0, n_od_crates = 0;
        size_t n_gen = 0, n_gen_labels = 0, n_gen_srcs = 0, n_gen_built = 0;
        bool build, named, is_pm, is_od, is_gen;
        int r;

        /* Captured output (--query-output) runs no tool: the build may not even be here. */
        if (!g || q->captured || !ops)
                return 0;
        /* The parse names every output already (GN): its output builder builds the missing
         * ones (procmacro.c). */
        named = ops->outputs != NULL;
        if (!named && (!ops->build_plan || !ops->build_parse))
                return 0;
        r = pm_adapter_build_proc_macros(q->config, q->project, &build, err);
        if (r < 0)
                return r;
        if (named)
                return pm_procmacro_build_sync(q->config, ops, g, build, progress, NULL, err);
        if (!build)
                return 0;
        r = -ENOMEM;
        for (size_t i = 0; i < g->n_crates; i++)
                n_gen_labels += g->crates[i].gen_srcs.n;
        labels = pm_calloc(2 * g->n_crates + n_gen_labels + 1, sizeof(*labels));
        kinds = pm_calloc(2 * g->n_crates + n_gen_labels + 1, sizeof(*kinds));
        repeat = pm_calloc(2 * g->n_crates + n_gen_labels + 1, sizeof(*repeat));
        if (!labels || !kinds || !repeat)
                goto out;
        /* One label per proc macro, one per distinct OUT_DIR target (crates of one package, a
         * library and its tests, share their build script's), one per distinct target that
         * generates sources: every candidate in order, then each OUT_DIR or generating target
         * that repeats an earlier label dropped (sorted, not searched: thousands of crates). */
        for (size_t i = 0; i < g->n_crates; i++) {
                struct pm_crate *c = &g->crates[i];

                if (!wanted(c, ops->name, &is_pm, &is_od, &is_gen))
                        continue;
                for (size_t k = 0; k < c->gen_srcs.n; k++) {
                        kinds[n] = LABEL_GEN;
                        labels[n++] = c->gen_srcs.v[k].key;
                }
                if (is_pm) {
                        kinds[n] = LABEL_PM;
                        labels[n++] = c->label;
                }
                if (is_od) {
                        kinds[n] = LABEL_OD;
                        labels[n++] = c->out_dir_target;
                }
        }
        if (pm_strv_repeats(labels, n, repeat) < 0)
                goto out;
        n_all = n;
        n = 0;
        for (size_t i = 0; i < n_all; i++) {
                if (repeat[i] && kinds[i] != LABEL_PM)
                        continue;
                labels[n++] = labels[i];
                n_pm += kinds[i] == LABEL_PM;
                n_od += kinds[i] == LABEL_OD;
                n_gen += kinds[i] == LABEL_GEN;
        }
        r = 0;
        if (n == 0)
                goto out;
        r = ops->build_plan(q, g, labels, n, &plan, err);
        if (r < 0)
                goto out;
        if (pm__build_line(line, sizeof(line), n_pm, n_od, n_gen, ops->name))
                pm_progress_report(progress, "%s", line);
        r = run_plan(q->config, &plan, &res, blobs, &why);
        if (r < 0)
                goto out;
        if (!why) {
                struct pm_error perr;
                char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];

                pm_error_init(&perr);
                r = ops->build_parse(q, blobs, plan.n_steps, &report.r, &perr);
                if (r == -ENOMEM)
                        goto out;
                if (r < 0 && !(why = pm_strdup(pm_error_format(&perr, line, sizeof(line))))) {
                        r = -ENOMEM;
                        goto out;
                }
                r = 0;
        }
        /* Empty when the build did not run or its report could not be read. */
        r = index_report(&report);
        if (r < 0)
                goto out;
        /* The build's outcome replaces the parse's "not built" notes (graph.h). */
        for (size_t i = 0; i < g->n_crates; i++)
                if (wanted(&g->crates[i], ops->name, &is_pm, &is_od, &is_gen) && (is_pm || is_od))
                        g->crates[i].note = NULL;
        for (size_t i = 0; i < g->n_crates && r == 0; i++) {
                struct pm_crate *c = &g->crates[i];
                const struct pm_built *b;

                if (!wanted(c, ops->name, &is_pm, &is_od, &is_gen))
                        continue;
                if (is_gen) {
                        size_t before = n_gen_built;

                        r = serve_generated(g, c, &report, why, &n_gen_srcs, &n_gen_built);
                        /* A checked-in root's `mod gen;` next to a built gen.rs (srcmirror.c). */
                        if (r == 0 && n_gen_built > before)
                                r = mirror(q, g, c, &report, &cache, err);
                        if (r < 0)
                                break;
                }
                if (is_od) {
                        /* A failed sub-target may be reported under its target (adapter.h). */
                        b = why ? NULL
                                : find_item(&report, c->out_dir_target, strlen(c->out_dir_target));
                        if (!why && !b)
                                b = find_item(&report, c->out_dir_target,
                                              strcspn(c->out_dir_target, "["));
                        r = serve_out_dir(g, c, b, why);
                        n_od_crates++;
                        n_od_built += !why && b && b->out_dir;
                }
                if (!is_pm || r < 0)
                        continue;
                b = why ? NULL : find_item(&report, c->label, strlen(c->label));
                if (b && b->dylib_path) {
                        c->proc_macro_dylib = pm_graph_strdup(g, b->dylib_path);
                        r = c->proc_macro_dylib ? 0 : -ENOMEM;
                        n_built++;
                } else {
                        r = note_unbuilt(g, c, "proc macro ", c->label, NULL, b, why);
                }
        }
        if (r == 0)
                r = stamp_build(g, ops->name, why, n_od + n_gen);
        /* The dylibs named now are the build's own: copy them to the cache (dylibs.c). */
        g->dylibs_built = true;
        if (r == 0 && n_pm > 0 && n_built == n_pm)
                pm_progress_report(progress, "built %zu proc macro%s", n_pm, n_pm == 1 ? "" : "s");
        else if (r == 0 && n_pm > 0)
                pm_progress_report(progress, "built %zu of %zu proc macros (%zu failed)", n_built,
                                   n_pm, n_pm - n_built);
        if (r == 0 && n_od > 0)
                pm_progress_report(progress, "served a built OUT_DIR to %zu of %zu crate%s",
                                   n_od_built, n_od_crates, n_od_crates == 1 ? "" : "s");
        if (r == 0 && n_gen_srcs > 0 && n_gen_built == n_gen_srcs)
                pm_progress_report(progress, "built %zu generated source%s", n_gen_srcs,
                                   n_gen_srcs == 1 ? "" : "s");
        else if (r == 0 && n_gen_srcs > 0)
                pm_progress_report(progress, "built %zu of %zu generated sources (%zu failed)",
                                   n_gen_built, n_gen_srcs, n_gen_srcs - n_gen_built);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        /* Each run's report has its own name (adapters/argv.c): read or not, it is of no more
         * use, and left there it would pile up in the cache directory. */
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++)
                if (plan.steps[i].output_file)
                        (void)unlink(plan.steps[i].output_file);
        pm_strv_index_free(report.labels);
        pm_build_report_release(&report.r);
        pm__plan_result_release(&res);
        pm_plan_release(&plan);
        pm_free(why);
        pm_free(cache);
        pm_free(labels);
        pm_free(kinds);
        pm_free(repeat);
        return r;
}
