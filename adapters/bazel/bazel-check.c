/* SPDX-License-Identifier: MIT */
/* Check-on-save for a Bazel crate: `bazel build` of its target with rules_rust's JSON
 * diagnostics settings on the query's output base, and the files holding those diagnostics from
 * the build event JSON file (docs/build-integration.md). Names files; runs and writes nothing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

/* rules_rust's output group of the rustc diagnostics files (rustc_output_diagnostics). */
#define OUTPUT_GROUP "rustc_output"

int
pm__bazel_check_plan(const struct pm_query *q, const char *label, struct pm_plan *ret_plan,
                     struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **argv = NULL;
        char *events = NULL, *fmt = NULL, *keep = NULL;
        int r;

        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                return r;
        r = pm__bazel_build_argv(q, &s, "build", "bazel-check-events", &events, &argv);
        if (r < 0)
                goto out;
        r = -ENOMEM;
        fmt = pm_asprintf("--%s:error_format=json", s.rules_rust_settings);
        keep = pm_asprintf("--%s:rustc_output_diagnostics=true", s.rules_rust_settings);
        if (!fmt || !keep)
                goto out;
        /* rules_rust: rustc's JSON diagnostics on stderr and, for a compile that succeeded
         * (possibly from the cache), in a file of the rustc_output output group. */
        if (pm_argv_push(&argv, "--output_groups=+" OUTPUT_GROUP) < 0 ||
            pm_argv_push(&argv, fmt) < 0 || pm_argv_push(&argv, keep) < 0 ||
            pm_argv_push(&argv, "--") < 0 || pm_argv_push(&argv, label) < 0)
                goto out;
        /* A compile error fails the build (exit 1) with the event file written. */
        r = pm__adapter_report_step(q, &argv, &events, (const int[]){ 1 }, 1, ret_plan);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(keep);
        pm_free(fmt);
        pm_free(events);
        pm_argv_free(argv);
        pm__bazel_settings_release(&s);
        return r;
}

static const cJSON *
id_of(const cJSON *ev, const char *kind)
{
        return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "id"), kind);
}

/* An absolute local path from a build event File's "file://" uri, or NULL. Borrowed. */
static const char *
file_path(const cJSON *file)
{
        const cJSON *uri = cJSON_GetObjectItemCaseSensitive(file, "uri");

        if (!cJSON_IsString(uri) || strncmp(uri->valuestring, "file://", 7) != 0 ||
            !pm_path_is_absolute(uri->valuestring + 7))
                return NULL;
        return uri->valuestring + 7;
}

/* Append the files of the named set @id (and the sets it includes, depth-bounded). */
static int
push_set(cJSON *const *ev, size_t n, const char *id, int depth, char ***files)
{
        const cJSON *f;

        if (depth > 64)
                return 0;
        for (size_t i = 0; i < n; i++) {
                const cJSON *nid = cJSON_GetObjectItemCaseSensitive(id_of(ev[i], "namedSet"), "id");
                const cJSON *set = cJSON_GetObjectItemCaseSensitive(ev[i], "namedSetOfFiles");

                if (!cJSON_IsString(nid) || strcmp(nid->valuestring, id) != 0)
                        continue;
                cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(set, "files"))
                {
                        const char *p = file_path(f);

                        if (p && pm_argv_push(files, p) < 0)
                                return -ENOMEM;
                }
                cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(set, "fileSets"))
                {
                        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(f, "id");

                        if (cJSON_IsString(sid) &&
                            push_set(ev, n, sid->valuestring, depth + 1, files) < 0)
                                return -ENOMEM;
                }
                break;
        }
        return 0;
}

/* The rustc_output files of the successful targetCompleted event @ev. */
static int
push_completed(cJSON *const *evs, size_t n, const cJSON *ev, char ***files)
{
        const cJSON *completed = cJSON_GetObjectItemCaseSensitive(ev, "completed");
        const cJSON *g, *fs;

        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(completed, "outputGroup"))
        {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");

                if (!cJSON_IsString(name) || strcmp(name->valuestring, OUTPUT_GROUP) != 0)
                        continue;
                cJSON_ArrayForEach(fs, cJSON_GetObjectItemCaseSensitive(g, "fileSets"))
                {
                        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(fs, "id");

                        if (cJSON_IsString(sid) && push_set(evs, n, sid->valuestring, 0, files) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/*
 * The diagnostics files of a check build: the stderr of every compile action that failed (the
 * crate's own or a dependency's: Bazel publishes failed actions, with their stderr in a file),
 * and when the target was built, its rustc_output files (warnings, also from a cached compile).
 * A failed target with no failed action (a BUILD or analysis error) gets report->error.
 */
int
pm__bazel_check_parse(const struct pm_query *q, const char *label, const struct pm_blob *outputs,
                      size_t n_outputs, struct pm_check_report *ret_report, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        cJSON **ev = NULL;
        size_t n = 0;
        bool built = false, failed_action = false;
        int r;

        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "bazel build: no build event file");
        r = pm__bazel_settings_load(q, &s, err);
        if (r >= 0)
                r = pm__bazel_events_read(&outputs[0], &ev, &n, err);
        if (r < 0)
                goto out;
        r = -ENOMEM;
        ret_report->files = pm_argv_new(NULL, 0);
        ret_report->base = pm_strdup(q->project->root);
        ret_report->external_base = pm_strdup(s.output_base);
        if (!ret_report->files || !ret_report->base || !ret_report->external_base)
                goto out;
        for (size_t i = 0; i < n; i++) {
                const cJSON *action = cJSON_GetObjectItemCaseSensitive(ev[i], "action");
                const cJSON *tl =
                        cJSON_GetObjectItemCaseSensitive(id_of(ev[i], "targetCompleted"), "label");

                if (id_of(ev[i], "actionCompleted") && cJSON_IsObject(action)) {
                        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(action, "success");
                        const char *p =
                                file_path(cJSON_GetObjectItemCaseSensitive(action, "stderr"));

                        failed_action |= !cJSON_IsTrue(ok);
                        if (p && pm_argv_push(&ret_report->files, p) < 0)
                                goto out;
                } else if (cJSON_IsString(tl) &&
                           strcmp(pm__bazel_plain_label(tl->valuestring),
                                  pm__bazel_plain_label(label)) == 0 &&
                           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetObjectItemCaseSensitive(ev[i], "completed"),
                                   "success"))) {
                        built = true;
                        if (push_completed(ev, n, ev[i], &ret_report->files) < 0)
                                goto out;
                }
        }
        if (!built && !failed_action) {
                ret_report->error = pm__bazel_progress_error(ev, n, label);
                if (!ret_report->error)
                        ret_report->error = pm_strdup("the build failed before compiling it");
                if (!ret_report->error)
                        goto out;
        }
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0)
                pm_check_report_release(ret_report);
        for (size_t i = 0; i < n; i++)
                cJSON_Delete(ev[i]);
        pm_free(ev);
        pm__bazel_settings_release(&s);
        return r;
}
