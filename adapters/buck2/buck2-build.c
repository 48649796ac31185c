/* SPDX-License-Identifier: MIT */
/* Building a Buck2 project's proc macros: `buck2 build --build-report=FILE` of exactly those
 * targets, and reading each dylib path from Buck2's build report (docs/build-integration.md).
 * Names the report file; runs and writes nothing. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"
#include "adapters/buck2/buck2-internal.h"

#define ERROR_LINE_MAX 300 /* bytes of Buck2's error line kept for a note */

int
pm__buck2_build_plan(const struct pm_query *q, const struct pm_graph *graph,
                     const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                     struct pm_error *err)
{
        struct pm__buck2_settings s = { 0 };
        char **argv = NULL;
        char *report = NULL, *opt = NULL;
        int r;

        (void)graph;
        if (n_labels == 0)
                return 0;
        r = pm__buck2_settings_load(q, &s, err);
        if (r < 0)
                return r;
        r = -ENOMEM;
        /* The query's command and isolation dir: the IDE's builds never invalidate the user's
         * buck2 daemon. */
        argv = pm__buck2_argv_new(&s);
        report = pm__adapter_cache_file(q, "buck2-build-report");
        if (!argv || !report)
                goto out;
        opt = pm_asprintf("--build-report=%s", report);
        if (!opt)
                goto out;
        if (pm_argv_push(&argv, "build") < 0 || pm_argv_push(&argv, "--keep-going") < 0 ||
            pm_argv_push(&argv, opt) < 0 || pm_argv_push(&argv, "--show-full-json-output") < 0)
                goto out;
        for (size_t i = 0; i < n_labels; i++)
                if (pm_argv_push(&argv, labels[i]) < 0)
                        goto out;
        /* With --keep-going a failed target still leaves a report naming what did build, whatever
         * failure code Buck2 exits with (1 unknown, 2 infra, 3 user error). */
        r = pm__adapter_report_step(q, &argv, &report, (const int[]){ 1, 2, 3 }, 3, ret_plan);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(opt);
        pm_free(report);
        pm_argv_free(argv);
        pm__buck2_settings_release(&s);
        return r;
}

/*
 * The first line of the first error of @entry, or NULL. Buck2 stores each message once in the
 * report's `strings` and puts its key in `errors[].message_content`; a message_content that is no
 * key is taken as the message itself.
 */
static const char *
first_error(const cJSON *entry, const cJSON *strings, size_t *ret_len)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(entry, "errors"))
        {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message_content");
                const cJSON *text;

                if (!cJSON_IsString(m))
                        continue;
                text = cJSON_GetObjectItemCaseSensitive(strings, m->valuestring);
                if (cJSON_IsString(text))
                        m = text;
                if (m->valuestring[0]) {
                        *ret_len = strcspn(m->valuestring, "\n");
                        return m->valuestring;
                }
        }
        return NULL;
}

/* One `results` entry: the dylib of its (first successful) configuration, or its error. */
static int
read_entry(const cJSON *entry, const cJSON *strings, const char *project_root, struct pm_built *b)
{
        const cJSON *conf, *failed = NULL;
        const char *msg = NULL;
        size_t len = 0;

        cJSON_ArrayForEach(conf, cJSON_GetObjectItemCaseSensitive(entry, "configured"))
        {
                const cJSON *ok = cJSON_GetObjectItemCaseSensitive(conf, "success");
                const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(conf, "outputs"), "DEFAULT");
                const cJSON *o;

                if (!cJSON_IsString(ok) || strcmp(ok->valuestring, "SUCCESS") != 0) {
                        if (!failed)
                                failed = conf;
                        continue;
                }
                cJSON_ArrayForEach(o, outs)
                {
                        if (!cJSON_IsString(o) || !pm__adapter_is_dylib(o->valuestring))
                                continue;
                        b->dylib_path = pm_path_normalize(NULL, project_root, o->valuestring);
                        return b->dylib_path ? 0 : -ENOMEM;
                }
        }
        if (failed)
                msg = first_error(failed, strings, &len);
        if (!msg)
                msg = first_error(entry, strings, &len);
        if (!msg) {
                msg = failed ? "build failed" : "no dylib among the target's outputs";
                len = strlen(msg);
        }
        if (len > ERROR_LINE_MAX)
                len = ERROR_LINE_MAX;
        b->error = pm_strndup(msg, len);
        return b->error ? 0 : -ENOMEM;
}

int
pm__buck2_build_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                      struct pm_build_report *ret_report, struct pm_error *err)
{
        cJSON *doc = NULL;
        const cJSON *results, *strings, *root, *e;
        const char *project_root;
        size_t n = 0;
        int r;

        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "buck2 build: no build report");
        r = pm__json_parse(&outputs[0], outputs[0].origin, "a Buck2 build report", &doc, err);
        if (r < 0)
                return r;
        results = cJSON_GetObjectItemCaseSensitive(doc, "results");
        strings = cJSON_GetObjectItemCaseSensitive(doc, "strings");
        root = cJSON_GetObjectItemCaseSensitive(doc, "project_root");
        if (!cJSON_IsObject(doc) || !cJSON_IsObject(results)) {
                r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                 "%s: not a Buck2 build report (no \"results\" object)",
                                 outputs[0].origin);
                goto out;
        }
        project_root = cJSON_IsString(root) && pm_path_is_absolute(root->valuestring)
                               ? root->valuestring
                               : q->project->root;
        ret_report->items =
                pm_calloc((size_t)cJSON_GetArraySize(results) + 1, sizeof(*ret_report->items));
        r = -ENOMEM;
        if (!ret_report->items)
                goto out;
        cJSON_ArrayForEach(e, results)
        {
                struct pm_built *b = &ret_report->items[n];

                if (!cJSON_IsObject(e))
                        continue;
                b->label = pm_strdup(e->string);
                n++;
                ret_report->n = n;
                if (!b->label || read_entry(e, strings, project_root, b) < 0)
                        goto out;
        }
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0)
                pm_build_report_release(ret_report);
        cJSON_Delete(doc);
        return r;
}
