/* SPDX-License-Identifier: MIT */
/* Fuzz target: .projmodel.json loading (pm_config_load), build-system resolution and every
 * adapter's reading of its settings section (plan(), which builds argv but runs nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "fuzz.h"

static void fail(const char *what, const struct pm_error *err) __attribute__((noreturn));

static void
fail(const char *what, const struct pm_error *err)
{
        fprintf(stderr, "fuzz-config: %s (%d '%s')\n", what, err ? err->code : 0,
                err ? err->msg : "");
        abort();
}

static void
check_error(int r, const struct pm_error *err)
{
        if (r > 0 || (r < 0 && (err->code != r || !err->msg[0])))
                fail("a failure without its error report", err);
}

/* Run each project's plan() with and without an incremental scope. */
static void
plan_all(const struct pm_config *cfg)
{
        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_project *p = &cfg->projects[i];
                const struct pm_adapter_ops *ops = pm_adapter_find(p->build_system);
                char *bf = pm_path_join(NULL, p->root, "BUILD");
                const char *scope[1] = { bf };

                if (!ops || !bf)
                        fail("a resolved project without an adapter", NULL);
                for (int pass = 0; pass < 2; pass++) {
                        struct pm_query q = { .config = cfg, .project = p };
                        struct pm_plan plan = { 0 };
                        struct pm_error err;
                        int r;

                        if (pass) {
                                q.scope = scope;
                                q.n_scope = 1;
                        }
                        pm_error_init(&err);
                        r = ops->plan(&q, &plan, &err);
                        check_error(r, &err);
                        if (r == 0 && (plan.n_steps == 0 || plan.n_steps > PM_PLAN_MAX_STEPS))
                                fail("a plan without steps", NULL);
                        for (size_t s = 0; r == 0 && s < plan.n_steps; s++)
                                if (!plan.steps[s].argv || !plan.steps[s].argv[0] ||
                                    !plan.steps[s].cwd)
                                        fail("a step without argv or cwd", NULL);
                        pm_plan_release(&plan);
                }
                pm_free(bf);
        }
}

static void
check_config(const struct pm_config *cfg)
{
        char *db, *probe;

        if (!cfg->root || !pm_path_is_absolute(cfg->root) || cfg->n_projects == 0 ||
            strcmp(cfg->projects[0].rel, ".") != 0 || strcmp(cfg->projects[0].root, cfg->root))
                fail("a configuration without its root project", NULL);
        for (size_t i = 0; i < cfg->n_projects; i++) {
                const struct pm_project *p = &cfg->projects[i];

                if (!p->root || !pm_path_is_absolute(p->root) || !p->id ||
                    !pm_path_is_under(p->root, cfg->root))
                        fail("a project root outside the monorepo", NULL);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(cfg->projects[j].id, p->id) == 0)
                                fail("two projects with one id", NULL);
                if (pm_config_project(cfg, p->id) != &cfg->projects[i])
                        fail("pm_config_project does not find a project", NULL);
        }
        probe = pm_path_join(NULL, cfg->root, "d/src/lib.rs");
        if (!probe || !pm_config_project_for_path(cfg, probe))
                fail("no project for a file under the root", NULL);
        db = pm_config_db_path(cfg);
        if (!db)
                fail("no database path", NULL);
        pm_free(db);
        pm_free(probe);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static char *root;
        struct pm_fuzz_files files;
        struct pm_config *cfg = NULL;
        struct pm_error err;
        char *text;
        size_t len;
        int r;

        if (!root) {
                /* Directories subprojects may name, one per build system, and an empty one. */
                root = pm_fuzz_path("config");
                pm_fuzz_write_str(root, "a/.gn", "buildconfig = \"//BUILDCONFIG.gn\"\n");
                pm_fuzz_write_str(root, "b/WORKSPACE", "");
                pm_fuzz_write_str(root, "c/.buckconfig", "[cells]\nroot = .\n");
                pm_fuzz_write_str(root, "d/Cargo.toml", "[package]\nname = \"d\"\n");
                pm_fuzz_write_str(root, "e/README", "");
                pm_fuzz_write_str(root, "Cargo.toml", "[workspace]\n");
        }
        text = pm_fuzz_subst_root(data, size, root, &len);
        len = pm_fuzz_extract_files(text, len, root, &files);
        pm_fuzz_write(root, ".projmodel.json", text, len);

        pm_error_init(&err);
        r = pm_config_load(root, &cfg, &err);
        check_error(r, &err);
        if (r == 0) {
                r = pm_adapter_resolve_config(cfg, &err);
                check_error(r, &err);
        }
        if (pm_fuzz_verbose())
                fprintf(stderr, "  config: %s\n",
                        r < 0 ? err.msg : cfg->projects[cfg->n_projects - 1].id);
        if (r == 0) {
                check_config(cfg);
                plan_all(cfg);
        }
        pm_config_free(cfg);
        pm_free(text);
        pm_fuzz_files_remove(&files);
        return 0;
}
