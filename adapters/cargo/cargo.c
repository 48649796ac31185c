/* SPDX-License-Identifier: MIT */
/* The Cargo adapter's commands: `cargo metadata --format-version 1 --offline` for a workspace
 * inside the monorepo, `rustc --print cfg --print host-tuple`, then `cargo check
 * --message-format=json` into projmodel's own target directory (parsing is in cargo-parse.c and
 * cargo-build.c). Builds argvs; runs nothing. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/cargo/cargo-internal.h"

static const char *const markers[] = { "Cargo.toml", NULL };
static const char *const build_file_names[] = { "Cargo.toml", "Cargo.lock", NULL };

/* A boolean setting of the "cargo" section, @def when absent. */
static int
get_bool(const struct pm_query *q, const char *key, bool def, bool *ret, struct pm_error *err)
{
        const cJSON *s = q->project->settings;
        const cJSON *v = s ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;

        if (!v || cJSON_IsNull(v)) {
                *ret = def;
                return 0;
        }
        if (!cJSON_IsBool(v))
                return pm_error_set_at(err, PM_ECONFIG, q->config->file ? q->config->file : "", 0,
                                       0, "'cargo.%s' must be true or false", key);
        *ret = cJSON_IsTrue(v);
        return 0;
}

/*
 * projmodel's own target directory for `cargo check`, <cache_dir>/cargo-<hash of the root>:
 * never the user's `target/`, so the IDE's build never waits on (or invalidates) theirs.
 * pm_malloc'd, NULL on OOM.
 */
static char *
target_dir(const struct pm_query *q)
{
        char *cache = pm_config_cache_dir(q->config);
        char name[64], *dir;

        if (!cache)
                return NULL;
        (void)snprintf(name, sizeof(name), "cargo-%016" PRIx64, pm_hash64_str(q->project->root, 0));
        dir = pm_path_join(NULL, cache, name);
        pm_free(cache);
        return dir;
}

/* The "cargo" section's keys (pm_adapter_resolve_config checks them). */
static const char *const config_keys[] = { "command", "features", "all_features", "offline", NULL };

static int
plan(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err)
{
        const struct pm_config *cfg = q->config;
        const struct cJSON *s = q->project->settings;
        struct pm_strbuf features = PM_STRBUF_INIT;
        const char **feats = NULL;
        const char *command;
        size_t n_feats = 0;
        bool offline, all_features, build = true;
        char **argv = NULL;
        char *cwd = NULL, *manifest = NULL, *tdir = NULL;
        int r;

        r = pm_config_get_string(cfg, s, "command", "cargo", &command, err);
        if (r < 0)
                goto out;
        r = pm_config_get_strv(cfg, s, "features", &feats, &n_feats, err);
        if (r < 0)
                goto out;
        r = get_bool(q, "offline", true, &offline, err);
        if (r < 0)
                goto out;
        r = get_bool(q, "all_features", false, &all_features, err);
        if (r < 0)
                goto out;
        r = pm_adapter_build_proc_macros(cfg, q->project, &build, err);
        if (r < 0)
                goto out;

        r = -ENOMEM;
        manifest = pm_path_join(NULL, q->project->root, "Cargo.toml");
        cwd = pm_strdup(q->project->root);
        argv = pm_argv_new((const char *const[]){ command, "metadata", "--format-version", "1" },
                           4);
        if (!manifest || !cwd || !argv)
                goto out;
        /* Offline by default: an IDE query must never hit the network or update the lock. */
        if (offline && pm_argv_push(&argv, "--offline") < 0)
                goto out;
        if (pm_argv_push(&argv, "--manifest-path") < 0 || pm_argv_push(&argv, manifest) < 0)
                goto out;
        if (all_features && pm_argv_push(&argv, "--all-features") < 0)
                goto out;
        for (size_t i = 0; i < n_feats; i++)
                if ((i > 0 && pm_strbuf_addch(&features, ',') < 0) ||
                    pm_strbuf_adds(&features, feats[i]) < 0)
                        goto out;
        if (n_feats > 0 &&
            (pm_argv_push(&argv, "--features") < 0 || pm_argv_push(&argv, features.buf) < 0))
                goto out;

        ret_plan->steps[PM__CARGO_STEP_METADATA].argv = pm_steal_ptr(&argv);
        ret_plan->steps[PM__CARGO_STEP_METADATA].cwd = pm_steal_ptr(&cwd);
        ret_plan->n_steps = 1;
        /* The target's cfgs and triple, to keep only the `[target.<platform>.dependencies]`
         * edges cargo passes (docs/model.md). Optional: without it every such edge is kept. */
        cwd = pm_strdup(q->project->root);
        argv = pm_argv_new((const char *const[]){ cfg->rustc ? cfg->rustc : "rustc", "--print",
                                                  "cfg", "--print", "host-tuple" },
                           5);
        if (!cwd || !argv)
                goto out;
        ret_plan->steps[PM__CARGO_STEP_TARGET].argv = pm_steal_ptr(&argv);
        ret_plan->steps[PM__CARGO_STEP_TARGET].cwd = pm_steal_ptr(&cwd);
        ret_plan->steps[PM__CARGO_STEP_TARGET].optional = true;
        ret_plan->n_steps = 2;
        if (!build)
                goto done;
        /*
         * What rust-analyzer runs for a Cargo workspace: it runs every build script and builds
         * every proc macro a crate of the workspace uses (their dylibs and build-script-executed
         * messages come on stdout). --all-targets, because the model holds every package of the
         * metadata, dev-dependencies included, and their scripts and macros only run for test
         * targets; --keep-going, so one failing crate does not stop the others, and cargo's exit
         * 101 with output is a partial result. Optional: a failure leaves the notes saying so.
         */
        cwd = pm_strdup(q->project->root);
        tdir = target_dir(q);
        argv = pm_argv_new((const char *const[]){ command, "check", "--quiet",
                                                  "--message-format=json", "--workspace",
                                                  "--all-targets", "--keep-going" },
                           7);
        if (!cwd || !tdir || !argv)
                goto out;
        if (offline && pm_argv_push(&argv, "--offline") < 0)
                goto out;
        if (pm_argv_push(&argv, "--manifest-path") < 0 || pm_argv_push(&argv, manifest) < 0 ||
            pm_argv_push(&argv, "--target-dir") < 0 || pm_argv_push(&argv, tdir) < 0)
                goto out;
        if (all_features && pm_argv_push(&argv, "--all-features") < 0)
                goto out;
        if (n_feats > 0 &&
            (pm_argv_push(&argv, "--features") < 0 || pm_argv_push(&argv, features.buf) < 0))
                goto out;
        ret_plan->steps[PM__CARGO_STEP_CHECK].argv = pm_steal_ptr(&argv);
        ret_plan->steps[PM__CARGO_STEP_CHECK].cwd = pm_steal_ptr(&cwd);
        ret_plan->steps[PM__CARGO_STEP_CHECK].optional = true;
        ret_plan->steps[PM__CARGO_STEP_CHECK].ok_exit_codes[0] = 101;
        /* What query_builds() counts: the other steps build nothing. */
        ret_plan->steps[PM__CARGO_STEP_CHECK].builds = true;
        ret_plan->n_steps = 3;
done:
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_strbuf_release(&features);
        pm_argv_free(argv);
        pm_free(cwd);
        pm_free(tdir);
        pm_free(manifest);
        pm_free(feats);
        return r;
}

/* Cargo's default target directory, beside the workspace's Cargo.toml, and projmodel's own when
 * the cache directory is inside the tree. */
static int
watch_skip(const struct pm_query *q, char ***ret_dirs, struct pm_error *err)
{
        char *tdir;
        int r = pm__watch_skip_push(ret_dirs, q->project->root, "target", err);

        if (r < 0)
                return r;
        tdir = target_dir(q);
        if (!tdir)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (pm_path_is_under(tdir, q->config->root))
                r = pm__watch_skip_push(ret_dirs, q->project->root, tdir, err);
        pm_free(tdir);
        return r;
}

/*
 * ops->query_builds: `cargo check` (the plan's last step) builds the proc macros and runs the
 * build scripts of the packages `cargo metadata` lists, the model's crates
 * (docs/build-integration.md, Cargo): one proc-macro target and one build script per package at
 * most. Metadata that is not JSON is the parse's to report; metadata that is stays parsed in
 * q->memo for pm__cargo_parse(), so a refresh that announces parses it once.
 */
static int
query_builds(const struct pm_query *q, size_t step, const struct pm_blob *outputs, size_t n_outputs,
             size_t *ret_proc_macros, size_t *ret_out_dirs, struct pm_error *err)
{
        const cJSON *pk, *t;
        struct pm_error perr;
        cJSON *json = NULL;
        int r;

        *ret_proc_macros = *ret_out_dirs = 0;
        if (step != PM__CARGO_STEP_CHECK || n_outputs <= PM__CARGO_STEP_METADATA ||
            !outputs[PM__CARGO_STEP_METADATA].data)
                return 0;
        if (q->memo && q->memo->data) {
                json = q->memo->data;
        } else {
                pm_error_init(&perr);
                r = pm__json_parse(&outputs[PM__CARGO_STEP_METADATA], "cargo metadata",
                                   "cargo metadata output", &json, &perr);
                if (r == -ENOMEM)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                if (r < 0)
                        return 0;
                if (q->memo) {
                        q->memo->data = json;
                        q->memo->free = pm__cargo_json_free;
                }
        }
        cJSON_ArrayForEach(pk, cJSON_GetObjectItemCaseSensitive(json, "packages"))
        {
                bool pm = false, bs = false;

                cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(pk, "targets"))
                {
                        const cJSON *k;

                        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(t, "kind"))
                        {
                                pm = pm || (cJSON_IsString(k) &&
                                            strcmp(k->valuestring, "proc-macro") == 0);
                                bs = bs || (cJSON_IsString(k) &&
                                            strcmp(k->valuestring, "custom-build") == 0);
                        }
                }
                *ret_proc_macros += pm;
                *ret_out_dirs += bs;
        }
        if (!q->memo)
                cJSON_Delete(json);
        return 1;
}

const struct pm_adapter_ops pm__adapter_cargo = {
        .version = PM_ADAPTER_OPS_VERSION,
        .name = "cargo",
        .markers = markers,
        .build_file_names = build_file_names,
        .plan = plan,
        .parse = pm__cargo_parse,
        .watch_skip = watch_skip,
        .config_keys = config_keys,
        .check_step = pm__cargo_check_step,
        .query_builds = query_builds,
};
