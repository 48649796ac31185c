/* SPDX-License-Identifier: MIT */
/* The Buck2 adapter: `buck2 targets //... --json --output-all-attributes` into a
 * crate graph. It reads .buckconfig and stats build files; it runs nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/buck2/buck2-internal.h"

static const char *const markers[] = { ".buckconfig", NULL };
static const char *const build_file_names[] = { "BUCK", "TARGETS", "BUCK.v2", "TARGETS.v2", NULL };

static int
plan(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__buck2_settings s = { 0 };
        char **argv = NULL;
        char *cwd = NULL;
        int r;

        /* Validated here (the edition too) so a bad setting fails before Buck2 runs. */
        r = pm__buck2_settings_load(q, &s, err);
        if (r < 0)
                return r;
        r = -ENOMEM;
        argv = pm__buck2_argv_new(&s);
        if (!argv)
                goto out;
        if (pm_argv_push(&argv, "targets") < 0 || pm_argv_push(&argv, "--json") < 0 ||
            pm_argv_push(&argv, "--output-all-attributes") < 0 ||
            pm_argv_push(&argv, "--keep-going") < 0)
                goto out;
        for (size_t i = 0; i < s.n_args; i++)
                if (pm_argv_push(&argv, s.args[i]) < 0)
                        goto out;
        if (pm_argv_push(&argv, s.target_pattern) < 0)
                goto out;
        cwd = pm_strdup(q->project->root);
        if (!cwd)
                goto out;

        ret_plan->steps[0].argv = pm_steal_ptr(&argv);
        ret_plan->steps[0].cwd = pm_steal_ptr(&cwd);
        /* With --keep-going, Buck2 prints the packages it could load and a "buck.error" entry
         * per broken one: one broken BUCK file must not blank the model. Current versions exit
         * 0 then, older ones 1 or 2 (3 is taken too); parse takes such an exit only with that
         * output (pm__buck2_keep_going_output()). */
        ret_plan->steps[0].ok_exit_codes[0] = 1;
        ret_plan->steps[0].ok_exit_codes[1] = 2;
        ret_plan->steps[0].ok_exit_codes[2] = 3;
        ret_plan->n_steps = 1;
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(cwd);
        pm_argv_free(argv);
        pm__buck2_settings_release(&s);
        return r;
}

/* Everything Buck2 writes (every isolation dir's too) is under buck-out at the project root. */
static int
watch_skip(const struct pm_query *q, char ***ret_dirs, struct pm_error *err)
{
        return pm__watch_skip_push(ret_dirs, q->project->root, "buck-out", err);
}

const struct pm_adapter_ops pm__adapter_buck2 = {
        .version = PM_ADAPTER_OPS_VERSION,
        .name = "buck2",
        .markers = markers,
        .build_file_names = build_file_names,
        .plan = plan,
        .parse = pm__buck2_parse,
        .watch_skip = watch_skip,
        .build_plan = pm__buck2_build_plan,
        .build_parse = pm__buck2_build_parse,
        .config_keys = pm__buck2_config_keys,
        .check_step = pm__buck2_check_step,
};

const char *const *
pm__buck2_build_file_names(void)
{
        return build_file_names;
}
