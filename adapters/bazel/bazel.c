/* SPDX-License-Identifier: MIT */
/* The bazel adapter's ops: settings, the cquery/query command line, incremental scope. Parsing
 * the jsonproto output is parse.c's job; nothing here runs a process. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

#define DEFAULT_PATTERN "//..."

/* The attributes the parser reads; asking Bazel for only these shrinks its output ~10x. */
#define RULE_ATTRS                                                                        \
        "srcs,crate_root,crate_name,edition,deps,proc_macro_deps,aliases,crate_features," \
        "rustc_flags,rustc_env,crate"

static const char *const markers[] = { "MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel", NULL };
static const char *const build_file_names[] = { "BUILD",     "BUILD.bazel",     "MODULE.bazel",
                                                "WORKSPACE", "WORKSPACE.bazel", NULL };

/* Same wording as common/config.c's errors: "invalid '<file>': key 'bazel.x' must ...". */
static int
config_error(const struct pm_config *cfg, const char *key, const char *what, struct pm_error *err)
{
        return pm_error_set(err, PM_ECONFIG, "invalid '%s': key '%s' %s",
                            cfg->file ? cfg->file : "(no file)", key, what);
}

void
pm__bazel_settings_release(struct pm__bazel_settings *s)
{
        if (!s)
                return;
        pm_free(s->startup_flags);
        pm_free(s->flags);
        pm_free(s->output_base);
        memset(s, 0, sizeof(*s));
}

int
pm__bazel_settings_load(const struct pm_query *q, struct pm__bazel_settings *ret,
                        struct pm_error *err)
{
        const struct pm_config *cfg = q->config;
        const cJSON *section = q->project->settings;
        struct pm__bazel_settings s = { 0 };
        const char *query = NULL, *output_base = NULL;
        char *cache_dir = NULL;
        int r;

        if (section && !cJSON_IsObject(section)) {
                r = config_error(cfg, "bazel", "must be an object", err);
                goto out;
        }
        r = pm_config_get_string(cfg, section, "command", "bazel", &s.command, err);
        if (r < 0)
                goto out;
        if (!*s.command) {
                r = config_error(cfg, "bazel.command", "must not be empty", err);
                goto out;
        }
        r = pm_config_get_strv(cfg, section, "startup_flags", &s.startup_flags, &s.n_startup_flags,
                               err);
        if (r < 0)
                goto out;
        r = pm_config_get_strv(cfg, section, "flags", &s.flags, &s.n_flags, err);
        if (r < 0)
                goto out;
        r = pm_config_get_string(cfg, section, "query", "cquery", &query, err);
        if (r < 0)
                goto out;
        if (strcmp(query, "cquery") == 0) {
                s.query = PM__BAZEL_CQUERY;
        } else if (strcmp(query, "streamed_jsonproto") == 0) {
                s.query = PM__BAZEL_STREAMED_JSONPROTO;
        } else {
                r = config_error(cfg, "bazel.query", "must be \"cquery\" or \"streamed_jsonproto\"",
                                 err);
                goto out;
        }
        r = pm_config_get_string(cfg, section, "default_edition", "2021", &s.default_edition, err);
        if (r < 0)
                goto out;
        if (!pm_edition_valid(s.default_edition)) {
                r = config_error(cfg, "bazel.default_edition",
                                 "must be \"2015\", \"2018\", \"2021\" or \"2024\"", err);
                goto out;
        }
        r = pm_config_get_string(cfg, section, "pattern", DEFAULT_PATTERN, &s.pattern, err);
        if (r < 0)
                goto out;
        if (!*s.pattern) {
                r = config_error(cfg, "bazel.pattern", "must not be empty", err);
                goto out;
        }
        r = pm_config_get_string(cfg, section, "rules_rust_settings", "@rules_rust//rust/settings",
                                 &s.rules_rust_settings, err);
        if (r < 0)
                goto out;
        if (!strstr(s.rules_rust_settings, "//")) {
                r = config_error(cfg, "bazel.rules_rust_settings",
                                 "must be a package label such as \"@rules_rust//rust/settings\"",
                                 err);
                goto out;
        }
        r = pm_config_get_string(cfg, section, "output_base", NULL, &output_base, err);
        if (r < 0)
                goto out;
        if (output_base) {
                if (!*output_base) {
                        r = config_error(cfg, "bazel.output_base", "must not be empty", err);
                        goto out;
                }
                /* Relative to the subproject root, like every path of the section. */
                s.output_base = pm_path_normalize(NULL, q->project->root, output_base);
        } else {
                /* A private output base: the IDE's queries never wait on the user's build,
                 * and the user's flags never evict our cache. */
                cache_dir = pm_config_cache_dir(cfg);
                if (!cache_dir) {
                        r = -ENOMEM;
                        goto out;
                }
                {
                        char name[64];

                        (void)snprintf(name, sizeof(name), "bazel-%016" PRIx64,
                                       pm_hash64_str(q->project->root, 0) /* one per root */);
                        s.output_base = pm_path_join(NULL, cache_dir, name);
                }
        }
        if (!s.output_base) {
                r = -ENOMEM;
                goto out;
        }
        *ret = s;
        memset(&s, 0, sizeof(s));
        r = 0;
out:
        if (r < 0 && r == -ENOMEM)
                pm_error_set(err, r, "out of memory reading the bazel settings");
        pm_free(cache_dir);
        pm__bazel_settings_release(&s);
        return r;
}

static bool
is_build_file_name(const char *base)
{
        return strcmp(base, "BUILD") == 0 || strcmp(base, "BUILD.bazel") == 0;
}

/* Package names go into a query expression: allow only what needs no quoting there. */
static bool
package_name_ok(const char *pkg)
{
        for (const char *p = pkg; *p; p++) {
                if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("/-._+=,@~", *p))
                        continue;
                return false;
        }
        return true;
}

int
pm__bazel_scope(const struct pm_query *q, const struct pm__bazel_settings *s, bool *ret_partial,
                char ***ret_covered, char ***ret_pkgs, struct pm_error *err)
{
        char **covered = NULL, **pkgs = NULL;
        char *file = NULL, *dir = NULL;
        const char *root = q->project->root;
        bool partial = false;
        int r = 0;

        if (!q->scope || q->n_scope == 0 || q->n_scope > PM_BAZEL_MAX_SCOPE ||
            strcmp(s->pattern, DEFAULT_PATTERN) != 0)
                goto done;
        covered = pm_argv_new(NULL, 0);
        pkgs = pm_argv_new(NULL, 0);
        if (!covered || !pkgs)
                goto oom;
        for (size_t i = 0; i < q->n_scope; i++) {
                const char *rel;

                file = pm_path_normalize(NULL, root, q->scope[i]);
                if (!file)
                        goto oom;
                if (!is_build_file_name(pm_path_basename(file)) || !pm_path_is_under(file, root))
                        goto done;
                dir = pm_path_dirname(NULL, file);
                if (!dir)
                        goto oom;
                rel = dir + strlen(root);
                while (*rel == '/')
                        rel++;
                if (!package_name_ok(rel))
                        goto done;
                if (pm_argv_push(&covered, file) < 0)
                        goto oom;
                {
                        bool seen = false;

                        for (char **p = pkgs; *p; p++)
                                seen = seen || strcmp(*p, rel) == 0;
                        if (!seen && pm_argv_push(&pkgs, rel) < 0)
                                goto oom;
                }
                pm_free(file);
                file = NULL;
                pm_free(dir);
                dir = NULL;
        }
        partial = true;
done:
        if (!partial) {
                covered = pm_argv_free(covered);
                pkgs = pm_argv_free(pkgs);
        }
        *ret_partial = partial;
        *ret_covered = pm_steal_ptr(&covered);
        if (ret_pkgs)
                *ret_pkgs = pm_steal_ptr(&pkgs);
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory computing the bazel query scope");
out:
        pm_free(file);
        pm_free(dir);
        pm_argv_free(covered);
        pm_argv_free(pkgs);
        return r;
}

/* How many generators deep the query follows a generated source's inputs (a chain of genrules,
 * the rules of a generator's tools): each level is one `deps(..., 1)` of the last level's rules. */
#define GEN_LEVELS 4
#define RUST_KINDS "kind(\"(rust_.*|cargo_build_script) rule\", "

/* The query expression: the Rust rules of the pattern and of everything they depend on (so
 * external crates are described too), with the build scripts whose out_dir is a crate's OUT_DIR,
 * or of the changed packages only; then the targets of their srcs and crate_root that are no
 * source file (a genrule's output, the genrule), by which the parse tells a generated source
 * from a checked-in one without looking at the disk (adapters/bazel/crate.c); then, GEN_LEVELS
 * deep, the rules writing those and the workspace's generated files and non-Rust rules they read,
 * whose inputs the daemon watches (adapters/bazel/collect.c, pm__bazel_watch_generator()). */
static char *
query_expression(const struct pm__bazel_settings *s, char *const *pkgs)
{
        struct pm_arena *a = pm_arena_new();
        char *set, *expr = NULL, *lets;

        if (!a)
                return NULL;
        if (!pkgs) {
                set = pm_arena_strdup(a, s->pattern);
        } else {
                set = pm_arena_strdup(a, "");
                for (char *const *p = pkgs; set && *p; p++)
                        set = pm_arena_printf(a, "%s%s//%s:*", set, p == pkgs ? "" : " + ", *p);
        }
        lets = pm_arena_printf(
                a, "let g0 = $g + kind(rule, deps(kind(\"generated file\", $g), 1)) in ");
        for (int i = 1; lets && i < GEN_LEVELS; i++)
                lets = pm_arena_printf(
                        a,
                        "%slet j%d = filter(\"^//\", kind(\"generated file|rule\", "
                        "deps(kind(rule, $g%d), 1))) in "
                        "let i%d = $j%d - " RUST_KINDS "$j%d) in "
                        "let g%d = $g%d + $i%d + kind(rule, deps(kind(\"generated file\", $i%d), 1)) in ",
                        lets, i, i - 1, i, i, i, i, i - 1, i, i);
        if (set && lets)
                expr = pm_asprintf("let r = " RUST_KINDS "deps(%s)) in "
                                   "let g = kind(\"generated file|rule\", labels(srcs, $r) + "
                                   "labels(crate_root, $r)) in "
                                   "%s$r + $g%d",
                                   set, lets, GEN_LEVELS - 1);
        pm_arena_free(a);
        return expr;
}

/* bazel --output_base=OB STARTUP... */
static int
push_prefix(char ***argv, const struct pm__bazel_settings *s)
{
        char *ob = pm_asprintf("--output_base=%s", s->output_base);
        int r;

        if (!ob)
                return -ENOMEM;
        r = pm_argv_push(argv, s->command);
        if (r == 0)
                r = pm_argv_push(argv, ob);
        for (size_t i = 0; r == 0 && i < s->n_startup_flags; i++)
                r = pm_argv_push(argv, s->startup_flags[i]);
        pm_free(ob);
        return r;
}

static int
push_all(char ***argv, const char *const *v, size_t n)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < n; i++)
                r = pm_argv_push(argv, v[i]);
        return r;
}

/* The main query step. --keep_going prints what it could and exits 1 (cquery) or 3 (query)
 * when a package is broken: one bad BUILD file must not blank the project (§G.5). */
static int
main_step(const struct pm_query *q, const struct pm__bazel_settings *s, char *const *pkgs,
          struct pm_step *step)
{
        static const char *const common[] = {
                "--keep_going",
                "--noimplicit_deps",
                "--proto:output_rule_attrs=" RULE_ATTRS,
                "--proto:default_values=false",
        };
        char *expr = query_expression(s, pkgs);
        char **argv = pm_argv_new(NULL, 0);
        int r = -ENOMEM;

        if (!expr || !argv || push_prefix(&argv, s) < 0)
                goto out;
        if (s->query == PM__BAZEL_CQUERY) {
                const char *const v[] = { "cquery", expr, "--output=jsonproto" };

                r = push_all(&argv, v, 3);
                step->ok_exit_codes[0] = 1;
                step->ok_exit_codes[1] = 3;
        } else {
                const char *const v[] = { "query", expr, "--output=streamed_jsonproto" };

                r = push_all(&argv, v, 3);
                step->ok_exit_codes[0] = 3;
        }
        if (r == 0)
                r = push_all(&argv, common, sizeof(common) / sizeof(common[0]));
        if (r == 0)
                r = push_all(&argv, s->flags, s->n_flags);
        if (r < 0)
                goto out;
        step->cwd = pm_strdup(q->project->root);
        if (!step->cwd) {
                r = -ENOMEM;
                goto out;
        }
        step->argv = pm_steal_ptr(&argv);
out:
        pm_free(expr);
        pm_argv_free(argv);
        return r;
}

/* The optional watch-list step: every BUILD and .bzl file the pattern's packages load. */
static int
buildfiles_step(const struct pm_query *q, const struct pm__bazel_settings *s, struct pm_step *step)
{
        char *expr = pm_asprintf("buildfiles(%s)", s->pattern);
        char **argv = pm_argv_new(NULL, 0);
        int r = -ENOMEM;

        if (!expr || !argv || push_prefix(&argv, s) < 0)
                goto out;
        {
                const char *const v[] = { "query", expr, "--output=label", "--keep_going" };

                r = push_all(&argv, v, 4);
        }
        if (r == 0)
                r = push_all(&argv, s->flags, s->n_flags);
        if (r < 0)
                goto out;
        step->cwd = pm_strdup(q->project->root);
        if (!step->cwd) {
                r = -ENOMEM;
                goto out;
        }
        step->optional = true;
        step->ok_exit_codes[0] = 3;
        step->argv = pm_steal_ptr(&argv);
out:
        pm_free(expr);
        pm_argv_free(argv);
        return r;
}

static int
plan(const struct pm_query *q, struct pm_plan *ret_plan, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        struct pm_plan p = { 0 };
        char **covered = NULL, **pkgs = NULL;
        bool partial = false;
        int r;

        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                goto out;
        r = pm__bazel_scope(q, &s, &partial, &covered, &pkgs, err);
        if (r < 0)
                goto out;
        /* A deleted BUILD file is no package to query: fall back to everything. The parser
         * still treats the result as partial over the scope, which is sound: a complete
         * result describes the covered files' crates too. */
        for (char **c = covered; partial && c && *c; c++)
                if (access(*c, F_OK) < 0)
                        pkgs = pm_argv_free(pkgs);
        r = main_step(q, &s, partial ? pkgs : NULL, &p.steps[0]);
        if (r < 0)
                goto oom;
        p.n_steps = 1;
        if (!partial) {
                r = buildfiles_step(q, &s, &p.steps[1]);
                if (r < 0)
                        goto oom;
                p.n_steps = 2;
        }
        *ret_plan = p;
        memset(&p, 0, sizeof(p));
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory planning the bazel query");
out:
        pm_plan_release(&p);
        pm_argv_free(covered);
        pm_argv_free(pkgs);
        pm__bazel_settings_release(&s);
        return r;
}

static int
parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
      struct pm_graph **ret_graph, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **covered = NULL;
        bool partial = false;
        size_t n_covered = 0;
        int r;

        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "no bazel query output to parse");
        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                goto out;
        r = pm__bazel_scope(q, &s, &partial, &covered, NULL, err);
        if (r < 0)
                goto out;
        for (char **c = covered; c && *c; c++)
                n_covered++;
        r = pm__bazel_parse(q, &s, &outputs[0], !q->captured && n_outputs > 1 ? &outputs[1] : NULL,
                            partial, (const char *const *)covered, n_covered, ret_graph, err);
out:
        pm_argv_free(covered);
        pm__bazel_settings_release(&s);
        return r;
}

/* The convenience symlinks (bazel-bin, bazel-out, bazel-<workspace>...) and the output base
 * projmodel's queries use (bazel.output_base), wherever it is. */
static int
watch_skip(const struct pm_query *q, char ***ret_dirs, struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        int r;

        r = pm__bazel_settings_load(q, &s, err);
        if (r == 0)
                r = pm__watch_skip_push(ret_dirs, q->project->root, "bazel-*", err);
        if (r == 0)
                r = pm__watch_skip_push(ret_dirs, q->project->root, s.output_base, err);
        pm__bazel_settings_release(&s);
        return r;
}

/* The "bazel" section's keys (pm_adapter_resolve_config checks them). */
static const char *const config_keys[] = {
        "command",     "startup_flags",       "flags", "query", "default_edition", "pattern",
        "output_base", "rules_rust_settings", NULL,
};

const struct pm_adapter_ops pm__adapter_bazel = {
        .version = PM_ADAPTER_OPS_VERSION,
        .name = "bazel",
        .markers = markers,
        .build_file_names = build_file_names,
        .plan = plan,
        .parse = parse,
        .watch_skip = watch_skip,
        .config_keys = config_keys,
        .build_plan = pm__bazel_build_plan,
        .build_parse = pm__bazel_build_parse,
        .check_plan = pm__bazel_check_plan,
        .check_parse = pm__bazel_check_parse,
        .run_plan = pm__bazel_run_plan,
        .test_plan = pm__bazel_test_plan,
        .test_parse = pm__bazel_test_parse,
};
