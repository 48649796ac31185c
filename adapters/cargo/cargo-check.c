/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` of a Cargo crate through cargo, with the settings the model was
 * queried with: the adapter's check_step (docs/build-integration.md, "Check-on-save and
 * runnables"). */
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
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "cargo-internal.h"

/*
 * `-p NAME@VERSION` and the target selector of a Cargo crate, from its model label
 * "cargo:<rel>#<name>@<version>[~<hash>][:bin:<bin>]" (adapters/cargo/cargo-parse.c).
 */
static int
cargo_selector(const struct pm_crate *c, char ***argv, struct pm_error *err)
{
        const char *hash = strchr(c->label, '#'), *end;
        char *spec;
        int r;

        if (!hash || strncmp(c->label, "cargo:", 6) != 0)
                return pm_error_set(err, PM_ENOTFOUND, "'%s' is not a Cargo label", c->label);
        end = hash + 1 + strcspn(hash + 1, "~:");
        spec = pm_asprintf("%.*s", (int)(end - hash - 1), hash + 1);
        if (!spec)
                return pm_check_oom(err);
        r = pm_argv_push(argv, "-p");
        if (r >= 0)
                r = pm_argv_push(argv, spec);
        if (r >= 0 && c->kind == PM_CRATE_BIN) {
                r = pm_argv_push(argv, "--bin");
                if (r >= 0)
                        r = pm_argv_push(argv, c->display_name ? c->display_name : c->crate_name);
        } else if (r >= 0) {
                r = pm_argv_push(argv, "--lib");
        }
        pm_free(spec);
        return r < 0 ? pm_check_oom(err) : 0;
}

/* `cargo [--offline] <verb> --manifest-path R/Cargo.toml <selector> --target-dir T <features>`,
 * with the "cargo" settings the model was queried with (docs/configuration.md). */
static int
cargo_argv(const struct pm_config *cfg, const struct pm_check_request *req, const char *verb,
           char ***ret, struct pm_error *err)
{
        const cJSON *s = req->project->settings;
        const cJSON *off = s ? cJSON_GetObjectItemCaseSensitive(s, "offline") : NULL;
        const cJSON *all = s ? cJSON_GetObjectItemCaseSensitive(s, "all_features") : NULL;
        const char *command, **feats = NULL;
        struct pm_strbuf fl = PM_STRBUF_INIT;
        char *manifest = NULL, *target = NULL, **argv = NULL;
        size_t n_feats = 0;
        int r;

        r = pm_config_get_string(cfg, s, "command", "cargo", &command, err);
        if (r >= 0)
                r = pm_config_get_strv(cfg, s, "features", &feats, &n_feats, err);
        if (r < 0)
                goto out;
        manifest = pm_path_join(NULL, req->project->root, "Cargo.toml");
        target = pm_asprintf("%s/cargo-%016llx", req->out_dir,
                             (unsigned long long)pm_hash64_str(req->project->root, 0));
        argv = pm_argv_new((const char *const[]){ command }, 1);
        r = manifest && target && argv ? 0 : -ENOMEM;
        if (r >= 0 && cJSON_IsTrue(off))
                r = pm_argv_push(&argv, "--offline");
        if (r >= 0)
                r = pm_argv_push(&argv, verb);
        if (r >= 0 && strcmp(verb, "check") == 0)
                r = pm_argv_push(&argv, "--message-format=json");
        /* The test profile: the crate with cfg(test), as rust-analyzer sees member crates. */
        if (r >= 0 && strcmp(verb, "check") == 0)
                r = pm_argv_push(&argv, "--profile=test");
        if (r >= 0)
                r = pm_argv_push(&argv, "--manifest-path");
        if (r >= 0)
                r = pm_argv_push(&argv, manifest);
        if (r >= 0)
                r = pm_argv_push(&argv, "--target-dir");
        if (r >= 0)
                r = pm_argv_push(&argv, target);
        if (r >= 0 && cJSON_IsTrue(all))
                r = pm_argv_push(&argv, "--all-features");
        for (size_t i = 0; r >= 0 && i < n_feats; i++)
                r = pm_strbuf_addf(&fl, "%s%s", i ? "," : "", feats[i]);
        if (r >= 0 && n_feats)
                r = pm_argv_push(&argv, "--features");
        if (r >= 0 && n_feats)
                r = pm_argv_push(&argv, fl.buf);
        if (r < 0) {
                r = pm_check_oom(err);
                goto out;
        }
        r = cargo_selector(req->crate, &argv, err);
        if (r < 0)
                goto out;
        *ret = pm_steal_ptr(&argv);
out:
        pm_argv_free(argv);
        pm_free(manifest);
        pm_free(target);
        pm_free(feats);
        pm_strbuf_release(&fl);
        return r;
}

/* What follows a step (pm_check_plan.next): cargo's step is the only one. */
enum {
        CARGO_THEN_CHECK = 1,
        CARGO_THEN_PROGRAM
};

/* The one step: `cargo check|test|run`, whose exit status is the result. */
static int
cargo_begin(struct pm_check_plan *cp, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "check", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        const struct pm_check_request *req = cp->req;
        char **argv = NULL;
        int r;

        r = pm_mkdir_p(req->out_dir, err);
        if (r >= 0)
                r = cargo_argv(cp->q->config, req, verbs[req->action], &argv, err);
        if (r < 0)
                goto out;
        if (req->action != PM_CHECK_CHECK) {
                r = pm_argv_push(&argv, "--");
                if (r >= 0)
                        r = pm_check_push_program_args(req, &argv);
                if (r < 0) {
                        r = pm_check_oom(err);
                        goto out;
                }
        }
        /* cargo's exit status is the result: 101 for a crate with errors, or the program's. */
        r = pm_check_add_step(cp, pm_steal_ptr(&argv), req->project->root, NULL, true,
                              req->action == PM_CHECK_CHECK ? CARGO_THEN_CHECK : CARGO_THEN_PROGRAM,
                              err);
out:
        pm_argv_free(argv);
        return r;
}

int
pm__cargo_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                     struct pm_error *err)
{
        if (!o)
                return cargo_begin(cp, err);
        /* After `cargo check`: one JSON message per line on stdout (rustc's paths are relative
         * to the workspace root, where cargo runs it for workspace members), its stderr for the
         * user. */
        if (cp->next[step] == CARGO_THEN_CHECK)
                return pm_check_then_diagnostics(cp, o, false, cp->req->project->root, err);
        return pm_check_then_program(cp, o, err);
}
