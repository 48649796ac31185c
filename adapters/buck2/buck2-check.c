/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` of a Buck2 crate, the adapter's check_step: check through the
 * prelude's [diag.json] subtarget, test and run through buck2 (docs/build-integration.md,
 * "Check-on-save and runnables"). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/check-plan.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "buck2-internal.h"

/* `<command> [--isolation-dir D] <verb>` from the "buck2" settings the model was queried with. */
static int
buck2_argv(const struct pm_config *cfg, const struct pm_check_request *req, const char *verb,
           char ***ret, struct pm_error *err)
{
        const cJSON *s = req->project->settings;
        const char **command = NULL, *isolation;
        size_t n_command = 0;
        char **argv = NULL;
        int r;

        r = pm_config_get_strv(cfg, s, "command", &command, &n_command, err);
        if (r >= 0)
                r = pm_config_get_string(cfg, s, "isolation_dir", ".projmodel", &isolation, err);
        if (r < 0)
                goto out;
        argv = n_command ? pm_argv_new(command, n_command)
                         : pm_argv_new((const char *const[]){ "buck2" }, 1);
        r = argv ? 0 : -ENOMEM;
        /* The isolation dir of projmodel's queries: a buck2 daemon and buck-out of its own. */
        if (r >= 0 && isolation[0]) {
                r = pm_argv_push(&argv, "--isolation-dir");
                if (r >= 0)
                        r = pm_argv_push(&argv, isolation);
        }
        if (r >= 0)
                r = pm_argv_push(&argv, verb);
        if (r < 0) {
                r = pm_check_oom(err);
                goto out;
        }
        *ret = pm_steal_ptr(&argv);
out:
        pm_argv_free(argv);
        pm_free(command);
        return r;
}

/*
 * The arguments `buck2 test LABEL --` hands its test runner to run exactly @test_id: the
 * "buck2.test_runner_args" setting with each "{test_id}" replaced, by default
 * `--test-arg TEST_ID --exact` (the open-source runner passes --test-arg values to the test
 * binary: libtest's TEST_ID --exact). Appended to *argv.
 */
static int
buck2_test_args(const struct pm_config *cfg, const struct pm_check_request *req, char ***argv,
                struct pm_error *err)
{
        static const char *const def[] = { "--test-arg", "{test_id}", "--exact" };
        const cJSON *s = req->project->settings;
        bool configured = s && cJSON_GetObjectItemCaseSensitive(s, "test_runner_args");
        const char **set = NULL;
        size_t n = 0;
        int r;

        r = pm_config_get_strv(cfg, s, "test_runner_args", &set, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < (configured ? n : sizeof(def) / sizeof(def[0])); i++) {
                const char *a = configured ? set[i] : def[i];
                const char *ph = strstr(a, "{test_id}");
                char *filled = ph ? pm_asprintf("%.*s%s%s", (int)(ph - a), a, req->test_id,
                                                ph + strlen("{test_id}"))
                                  : pm_strdup(a);

                r = filled ? pm_argv_push(argv, filled) : -ENOMEM;
                pm_free(filled);
        }
        pm_free(set);
        return r < 0 ? pm_check_oom(err) : 0;
}

/* After `buck2 build LABEL[diag.json] --show-full-json-output`: the diagnostics file it names. */
static int
buck2_then_check(struct pm_check_plan *cp, const struct pm_check_output *o, struct pm_error *err)
{
        struct pm_strbuf diag = PM_STRBUF_INIT;
        cJSON *shown = cJSON_ParseWithLength(o->out, o->out_len);
        const cJSON *path = shown && cJSON_IsObject(shown) ? shown->child : NULL;
        bool any_error = false;
        int ret;

        if (!cJSON_IsString(path) || !pm_path_is_absolute(path->valuestring)) {
                ret = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                   "buck2 build %s[diag.json] --show-full-json-output named no "
                                   "output file",
                                   cp->req->crate->label);
                goto out;
        }
        ret = pm_strbuf_read_file(&diag, path->valuestring, cp->q->config->max_tool_output, err);
        if (ret >= 0)
                ret = pm_check_copy_diagnostics(cp->ret, diag.buf, diag.len, cp->req->project->root,
                                                NULL, false, &any_error, err);
out:
        cJSON_Delete(shown);
        pm_strbuf_release(&diag);
        return ret;
}

/* What follows the one step (pm_check_plan.next). */
enum {
        BUCK2_THEN_CHECK = 1,
        BUCK2_THEN_PROGRAM
};

/*
 * Buck2 check: `buck2 build LABEL[diag.json] --show-full-json-output` builds the prelude's
 * rustc-diagnostics subtarget (written even when rustc fails) and prints {"<target>": "<absolute
 * path>"}; each line of that file is a rustc JSON diagnostic, paths relative to the project root
 * (where buck2 runs rustc). run: `buck2 run LABEL -- ARG...`; test: `buck2 test LABEL --
 * <test runner arguments>` (buck2_test_args()).
 */
static int
buck2_begin(struct pm_check_plan *cp, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "build", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        const struct pm_check_request *req = cp->req;
        char **argv = NULL, *target = NULL;
        int r;

        r = buck2_argv(cp->q->config, req, verbs[req->action], &argv, err);
        if (r < 0)
                goto out;
        target = req->action == PM_CHECK_CHECK ? pm_asprintf("%s[diag.json]", req->crate->label)
                                               : pm_strdup(req->crate->label);
        r = target ? pm_argv_push(&argv, target) : -ENOMEM;
        if (r >= 0 && req->action == PM_CHECK_CHECK)
                r = pm_argv_push(&argv, "--show-full-json-output");
        if (r >= 0 && req->action != PM_CHECK_CHECK)
                r = pm_argv_push(&argv, "--");
        for (size_t i = 0;
             r >= 0 && req->action == PM_CHECK_RUN && req->run_args && req->run_args[i]; i++)
                r = pm_argv_push(&argv, req->run_args[i]);
        if (r < 0) {
                r = pm_check_oom(err);
                goto out;
        }
        if (req->action == PM_CHECK_TEST) {
                r = buck2_test_args(cp->q->config, req, &argv, err);
                if (r < 0)
                        goto out;
        }
        /* A failed check build is the step's (the one wording); run's and test's status is the
         * program's. */
        r = pm_check_add_step(
                cp, pm_steal_ptr(&argv), req->project->root, NULL, req->action != PM_CHECK_CHECK,
                req->action == PM_CHECK_CHECK ? BUCK2_THEN_CHECK : BUCK2_THEN_PROGRAM, err);
out:
        pm_argv_free(argv);
        pm_free(target);
        return r;
}

int
pm__buck2_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                     struct pm_error *err)
{
        if (!o)
                return buck2_begin(cp, err);
        if (cp->next[step] == BUCK2_THEN_CHECK)
                return buck2_then_check(cp, o, err);
        return pm_check_then_program(cp, o, err);
}
