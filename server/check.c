/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` for one crate, per build system (docs/build-integration.md,
 * "Check-on-save and runnables"): GN through ninja's own commands, Cargo through cargo, Buck2
 * through its [diag.json] subtarget, Bazel's through its adapter (check-adapter.c). */
#include "projmodel/check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "server-internal.h"

void
pm_check_result_release(struct pm_check_result *r)
{
        if (!r)
                return;
        pm_strbuf_release(&r->out);
        pm_strbuf_release(&r->err);
        pm_strbuf_release(&r->results);
        r->exit_status = 0;
}

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

static int
status_of(const struct pm_tool_result *res)
{
        return res->term_signal ? 128 + res->term_signal : res->exit_status;
}

/*
 * ---- the plan ----
 *
 * Each build system's steps depend on the previous step's output (GN's target, then its inputs,
 * then its rustc command), so a check is a plan grown one step at a time through the plan
 * sequencer's next-step callback (server/plan.c): the sequencer decides stop or go on and words
 * a failed step; each step's handler here reads its output and appends the next step.
 */

struct check_run;

/* What follows step @step: append the next step, or end (0 with nothing appended,
 * PM__PLAN_FAILED when its output says it failed, an error). */
typedef int (*then_fn)(struct check_run *cr, size_t step, struct pm__plan_result *res,
                       struct pm_error *err);

/* One `projmodel check|test|run`: its plan and what its steps found. */
struct check_run {
        const struct pm_config *cfg;
        const struct pm_check_request *req;
        struct pm_check_result *ret;
        struct pm_plan plan;             /* owned: pm_plan_release() */
        then_fn then[PM_PLAN_MAX_STEPS]; /* per step; NULL: nothing follows it */
        /* GN */
        char *dir;     /* the build directory */
        char *target;  /* the crate's ninja target, relative to @dir */
        char **inputs; /* its inputs, from `ninja -t query` */
};

/*
 * Append the step running @argv (taken, also on error) in @cwd with @env (taken, may be NULL),
 * followed by @then. @any_exit: the exit status is the compiler's or program's (pm_step).
 */
static int
add_step(struct check_run *cr, char **argv, const char *cwd, char **env, bool any_exit,
         then_fn then, struct pm_error *err)
{
        struct pm_step *s;

        if (!argv) {
                pm_argv_free(env);
                return oom(err);
        }
        if (cr->plan.n_steps >= PM_PLAN_MAX_STEPS) {
                pm_argv_free(argv);
                pm_argv_free(env);
                return pm_error_set(err, -EINVAL, "internal bug: a check of more than %d steps",
                                    PM_PLAN_MAX_STEPS);
        }
        s = &cr->plan.steps[cr->plan.n_steps];
        s->argv = argv;
        s->env = env;
        s->any_exit = any_exit;
        s->cwd = pm_strdup(cwd);
        cr->then[cr->plan.n_steps++] = then;
        return s->cwd ? 0 : oom(err);
}

static int
on_next(void *data, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        struct check_run *cr = data;

        return cr->then[step] ? cr->then[step](cr, step, res, err) : 0;
}

/* Run the plan from its first step, in projmodel's process group (docs/build-integration.md). */
static int
run_check(struct check_run *cr, struct pm_error *err)
{
        struct pm__plan_opts opts = { .timeout_ms = cr->cfg->tool_timeout_ms,
                                      .max_output = cr->cfg->max_tool_output,
                                      .next = on_next,
                                      .next_data = cr };
        struct pm__plan_result res;
        int r;

        r = pm__plan_run_sync(&cr->plan, &opts, &res, err);
        pm__plan_result_release(&res);
        return r;
}

/* A test's or binary's own run: its output and exit status are the result. */
static int
then_program(struct check_run *cr, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        const struct pm_tool_result *r = &res->results[step];

        cr->ret->exit_status = status_of(r);
        if (pm_strbuf_add(&cr->ret->out, r->out.buf ? r->out.buf : "", r->out.len) < 0 ||
            pm_strbuf_add(&cr->ret->err, r->err.buf ? r->err.buf : "", r->err.len) < 0)
                return oom(err);
        return 0;
}

/*
 * Each line of @text (@len bytes) a diagnostic on ret->out, file names absolute against @base;
 * with @keep_other, the lines that are not JSON go to ret->err. *any_error when one is an error.
 */
static int
copy_diagnostics(struct check_run *cr, const char *text, size_t len, const char *base,
                 bool keep_other, bool *any_error, struct pm_error *err)
{
        for (const char *p = text, *end = text ? text + len : NULL; p && p < end && *p;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                bool is_error = false;
                int r = pm_check_diagnostic_line(p, n, base, NULL, &cr->ret->out, &is_error);

                if (r < 0)
                        return oom(err);
                *any_error |= is_error;
                if (r == 0 && keep_other &&
                    (pm_strbuf_add(&cr->ret->err, p, n) < 0 ||
                     pm_strbuf_addch(&cr->ret->err, '\n') < 0))
                        return oom(err);
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* ---- GN ---- */

/* The project's GN build directory (the "gn.out_dir" setting, relative to its root). */
static int
gn_build_dir(const struct pm_config *cfg, const struct pm_project *p, char **ret,
             struct pm_error *err)
{
        const char *out_dir;
        int r = pm_config_get_string(cfg, p->settings, "out_dir", "out", &out_dir, err);

        if (r < 0)
                return r;
        *ret = pm_path_normalize(NULL, p->root, out_dir);
        if (!*ret)
                return oom(err);
        if (!pm_path_exists_in(*ret, "build.ninja"))
                return pm_error_set(err, -ENOENT, "no build.ninja in '%s' (run gn gen first)",
                                    *ret);
        return 0;
}

/*
 * The ninja target of GN label @label in @dir: the phony GN writes for a default-toolchain target
 * ("//a/b:c" is "a/b:c"), else the target's first output from GN's project.json, relative to
 * @dir.
 */
static int
gn_target(const char *dir, const char *label, char **ret, struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        cJSON *root = NULL;
        const cJSON *t, *outs, *rp;
        char *path = NULL, *abs = NULL;
        int r;

        if (strncmp(label, "//", 2) != 0)
                return pm_error_set(err, PM_ENOTFOUND, "'%s' is not a GN label", label);
        if (!strchr(label, '(')) {
                *ret = pm_strdup(label + 2);
                return *ret ? 0 : oom(err);
        }
        path = pm_path_join(NULL, dir, "project.json");
        if (!path)
                return oom(err);
        r = pm_strbuf_read_file(&sb, path, (size_t)1 << 30, err);
        if (r < 0)
                goto out;
        root = cJSON_ParseWithLength(sb.buf, sb.len);
        t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "targets"),
                                             label);
        outs = cJSON_GetObjectItemCaseSensitive(t, "outputs");
        rp = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(root, "build_settings"), "root_path");
        if (!cJSON_IsArray(outs) || !cJSON_IsString(cJSON_GetArrayItem(outs, 0)) ||
            !cJSON_IsString(rp) ||
            strncmp(cJSON_GetArrayItem(outs, 0)->valuestring, "//", 2) != 0) {
                r = pm_error_set(err, PM_ENOTFOUND, "%s names no output for '%s'", path, label);
                goto out;
        }
        abs = pm_path_normalize(NULL, rp->valuestring,
                                cJSON_GetArrayItem(outs, 0)->valuestring + 2);
        if (!abs) {
                r = oom(err);
                goto out;
        }
        if (!pm_path_is_under(abs, dir) || strcmp(abs, dir) == 0) {
                r = pm_error_set(err, PM_ENOTFOUND, "the output of '%s' (%s) is not under '%s'",
                                 label, abs, dir);
                goto out;
        }
        *ret = pm_strdup(abs + strlen(dir) + 1);
        r = *ret ? 0 : oom(err);
out:
        pm_free(abs);
        pm_free(path);
        cJSON_Delete(root);
        pm_strbuf_release(&sb);
        return r;
}

/* True for a flag that names an output, an incremental directory (the user's) or an error
 * format, which check replaces or drops; *skip_next when its value is the next word (@next). */
static bool
is_output_flag(const char *a, const char *next, bool *skip_next)
{
        static const char *const two[] = { "--emit",         "-o",     "--out-dir",
                                           "--error-format", "--json", NULL };

        *skip_next = false;
        if (strncmp(a, "-Cincremental=", 14) == 0)
                return true;
        if (strcmp(a, "-C") == 0 && next && strncmp(next, "incremental=", 12) == 0) {
                *skip_next = true;
                return true;
        }
        for (size_t i = 0; two[i]; i++) {
                size_t n = strlen(two[i]);

                if (strcmp(a, two[i]) == 0) {
                        *skip_next = true;
                        return true;
                }
                if (strncmp(a, two[i], n) == 0 && a[n] == '=')
                        return true;
        }
        return strncmp(a, "-o", 2) == 0 && a[2] != '\0';
}

/* True if @prog is a rustc: the configured one, or named rustc. */
static bool
is_rustc(const struct pm_config *cfg, const char *prog)
{
        const char *b = pm_path_basename(prog);

        return strcmp(prog, cfg->rustc) == 0 || strcmp(b, pm_path_basename(cfg->rustc)) == 0 ||
               strcmp(b, "rustc") == 0;
}

static int gn_then_query(struct check_run *cr, size_t step, struct pm__plan_result *res,
                         struct pm_error *err);
static int gn_then_commands(struct check_run *cr, size_t step, struct pm__plan_result *res,
                            struct pm_error *err);

/*
 * `ninja -C dir -t TOOL target`, followed by @then: `query` lists the target's inputs
 * (gn_then_query()), `commands` ends with the crate's own rustc command (gn_then_commands()).
 */
static int
gn_ninja_tool(struct check_run *cr, const char *tool, then_fn then, struct pm_error *err)
{
        const char *const argv[] = { "ninja", "-C", cr->dir, "-t", tool, cr->target };

        return add_step(cr, pm_argv_new(argv, 6), cr->dir, NULL, false, then, err);
}

static int gn_then_inputs(struct check_run *cr, size_t step, struct pm__plan_result *res,
                          struct pm_error *err);
static int gn_then_built(struct check_run *cr, size_t step, struct pm__plan_result *res,
                         struct pm_error *err);

/*
 * `ninja -C dir TARGETS...` for @targets (relative to the build directory; sources, outside it,
 * are left out), followed by @then; @optional: its failure is not the check's. With no input
 * left to build, check goes on to the commands at once.
 */
static int
gn_build(struct check_run *cr, char *const *targets, bool optional, then_fn then,
         struct pm_error *err)
{
        char **argv = pm_argv_new((const char *const[]){ "ninja", "-C", cr->dir }, 3);
        size_t n = 0;
        int r;

        for (size_t i = 0; argv && targets[i]; i++) {
                /* Sources live outside the build directory; ninja need not hear of them. */
                if (targets[i][0] == '/' || strncmp(targets[i], "../", 3) == 0)
                        continue;
                if (pm_argv_push(&argv, targets[i]) < 0)
                        argv = pm_argv_free(argv);
                n++;
        }
        if (argv && n == 0) {
                pm_argv_free(argv);
                if (then != gn_then_inputs)
                        return pm_error_set(err, PM_ENOTFOUND, "'%s' in '%s' is no ninja target",
                                            cr->target, cr->dir);
                return gn_ninja_tool(cr, "commands", gn_then_commands, err);
        }
        r = add_step(cr, argv, cr->dir, NULL, false, then, err);
        if (r == 0)
                cr->plan.steps[cr->plan.n_steps - 1].optional = optional;
        return r;
}

/*
 * After `ninja -t query`: its inputs (explicit, implicit and order-only). A phony (GN's label
 * alias) is followed once to the file it names, which becomes the target; then check builds the
 * inputs, test and run the target.
 */
static int
gn_then_query(struct check_run *cr, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        bool phony = false, in_inputs = false;
        char *line, *next;

        pm_argv_free(cr->inputs);
        cr->inputs = pm_argv_new(NULL, 0);
        if (!cr->inputs)
                return oom(err);
        for (line = res->results[step].out.buf; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, "  input: ", 9) == 0) {
                        phony = strcmp(line + 9, "phony") == 0;
                        in_inputs = true;
                } else if (strncmp(line, "  ", 2) == 0 && line[2] != ' ') {
                        in_inputs = false;
                } else if (in_inputs && strncmp(line, "    ", 4) == 0) {
                        const char *in = line + 4;

                        if (strncmp(in, "|| ", 3) == 0)
                                in += 3;
                        else if (strncmp(in, "| ", 2) == 0)
                                in += 2;
                        if (pm_argv_push(&cr->inputs, in) < 0)
                                return oom(err);
                }
        }
        if (phony) {
                if (!cr->inputs[0] || cr->inputs[1])
                        return pm_error_set(err, PM_ENOTFOUND,
                                            "'%s' in '%s' is not one GN target's output",
                                            cr->target, cr->dir);
                pm_free(cr->target);
                cr->target = pm_strdup(cr->inputs[0]);
                if (!cr->target)
                        return oom(err);
                if (step == 0)
                        return gn_ninja_tool(cr, "query", gn_then_query, err);
        }
        if (cr->req->action == PM_CHECK_CHECK)
                return gn_build(cr, cr->inputs, true, gn_then_inputs, err);
        return gn_build(cr, (char *const[]){ cr->target, NULL }, false, gn_then_built, err);
}

/* After building the inputs: a failure is said on stderr and the check goes on (the crate's
 * own compile shows what is missing). */
static int
gn_then_inputs(struct check_run *cr, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        if (!res->ok[step] &&
            pm_strbuf_addf(&cr->ret->err,
                           "projmodel check: building the inputs of '%s' failed: %s\n",
                           cr->req->crate->label,
                           res->errors[step] ? res->errors[step] : "(no error line)") < 0)
                return oom(err);
        return gn_ninja_tool(cr, "commands", gn_then_commands, err);
}

static int gn_then_rustc(struct check_run *cr, size_t step, struct pm__plan_result *res,
                         struct pm_error *err);

/*
 * After `ninja -t commands`: the crate's own rustc command (its last line), to run with JSON
 * diagnostics and metadata only into projmodel's own directory.
 */
static int
gn_then_commands(struct check_run *cr, size_t step, struct pm__plan_result *res,
                 struct pm_error *err)
{
        const struct pm_check_request *req = cr->req;
        char **env = NULL, **cmd = NULL, **argv = NULL;
        char *out = NULL, *last = NULL;
        int r;

        for (char *p = res->results[step].out.buf; p && *p;) {
                char *nl = strchr(p, '\n');

                if (nl)
                        *nl = '\0';
                if (*p)
                        last = p;
                p = nl ? nl + 1 : p + strlen(p);
        }
        if (!last) {
                r = pm_error_set(err, PM_ETOOL, "ninja gives no command for '%s' in '%s'",
                                 cr->target, cr->dir);
                goto out;
        }
        r = pm_check_split_command(last, &env, &cmd, err);
        if (r < 0) {
                (void)pm_error_prefix(err, "the command ninja runs for '%s'", req->crate->label);
                goto out;
        }
        for (size_t i = 1; cmd[i]; i++) {
                if (cmd[i][0] == '@' &&
                    !pm_path_exists_in(cmd[i][1] == '/' ? "/" : cr->dir, cmd[i] + 1)) {
                        r = pm_error_set(err, PM_EUNSUPPORTED,
                                         "the rustc command of '%s' reads the response file '%s', "
                                         "which ninja writes only while it builds the target",
                                         req->crate->label, cmd[i] + 1);
                        goto out;
                }
        }
        if (!is_rustc(cr->cfg, cmd[0])) {
                r = pm_error_set(err, PM_EUNSUPPORTED,
                                 "the command ninja runs for '%s' is '%s', not rustc: projmodel "
                                 "check needs GN's rust tools to run rustc directly",
                                 req->crate->label, cmd[0]);
                goto out;
        }
        out = pm_asprintf("%s/gn-%016llx", req->out_dir,
                          (unsigned long long)pm_hash64_str(req->crate->label, 0));
        argv = pm_argv_new(NULL, 0);
        if (!out || !argv) {
                r = oom(err);
                goto out;
        }
        r = pm_mkdir_p(out, err);
        if (r < 0)
                goto out;
        for (size_t i = 0; cmd[i]; i++) {
                bool skip;

                if (is_output_flag(cmd[i], cmd[i + 1], &skip)) {
                        if (skip && cmd[i + 1])
                                i++;
                        continue;
                }
                if (pm_argv_push(&argv, cmd[i]) < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        if (pm_argv_push(&argv, "--error-format=json") < 0 ||
            pm_argv_push(&argv, "--emit=metadata") < 0 || pm_argv_push(&argv, "--out-dir") < 0 ||
            pm_argv_push(&argv, out) < 0) {
                r = oom(err);
                goto out;
        }
        /* rustc's exit status is the check's result: a type error is not a failed step. */
        r = add_step(cr, pm_steal_ptr(&argv), cr->dir, env[0] ? pm_steal_ptr(&env) : NULL, true,
                     gn_then_rustc, err);
out:
        pm_argv_free(env);
        pm_argv_free(cmd);
        pm_argv_free(argv);
        pm_free(out);
        return r;
}

/* After rustc: its JSON diagnostics (on stderr) for rust-analyzer, the rest for the user. A
 * failure that printed no error diagnostic is the step's (the one wording). */
static int
gn_then_rustc(struct check_run *cr, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        const struct pm_tool_result *r = &res->results[step];
        bool any_error = false;

        cr->ret->exit_status = status_of(r);
        if (copy_diagnostics(cr, r->err.buf, r->err.len, cr->dir, true, &any_error, err) < 0)
                return -ENOMEM;
        return cr->ret->exit_status != 0 && !any_error ? PM__PLAN_FAILED : 0;
}

/* GN test and run, after ninja built the target (in the user's build directory: the binary is
 * what the user runs): the binary runs with the test id or @args. */
static int
gn_then_built(struct check_run *cr, size_t step, struct pm__plan_result *res, struct pm_error *err)
{
        const struct pm_check_request *req = cr->req;
        char *bin = pm_path_join(NULL, cr->dir, cr->target);
        char **argv = bin ? pm_argv_new((const char *const[]){ bin }, 1) : NULL;
        int r = argv ? 0 : -ENOMEM;

        (void)step;
        (void)res;
        if (r >= 0 && req->action == PM_CHECK_TEST) {
                r = pm_argv_push(&argv, req->test_id);
                if (r >= 0)
                        r = pm_argv_push(&argv, "--exact");
        }
        for (size_t i = 0; r >= 0 && req->run_args && req->run_args[i]; i++)
                r = pm_argv_push(&argv, req->run_args[i]);
        pm_free(bin);
        if (r < 0) {
                pm_argv_free(argv);
                return oom(err);
        }
        return add_step(cr, argv, cr->dir, NULL, true, then_program, err);
}

static int
gn_do(struct check_run *cr, struct pm_error *err)
{
        int r;

        r = gn_build_dir(cr->cfg, cr->req->project, &cr->dir, err);
        if (r >= 0)
                r = gn_target(cr->dir, cr->req->crate->label, &cr->target, err);
        if (r >= 0)
                r = gn_ninja_tool(cr, "query", gn_then_query, err);
        return r < 0 ? r : run_check(cr, err);
}

/* ---- Cargo ---- */

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
                return oom(err);
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
        return r < 0 ? oom(err) : 0;
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
                r = oom(err);
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

/* After `cargo check`: one JSON message per line on stdout (rustc's paths are relative to the
 * workspace root, where cargo runs it for workspace members), its stderr for the user. A failure
 * that printed no error diagnostic is the step's (the one wording). */
static int
cargo_then_check(struct check_run *cr, size_t step, struct pm__plan_result *res,
                 struct pm_error *err)
{
        const struct pm_tool_result *r = &res->results[step];
        bool any_error = false;

        cr->ret->exit_status = status_of(r);
        if (copy_diagnostics(cr, r->out.buf, r->out.len, cr->req->project->root, false, &any_error,
                             err) < 0 ||
            pm_strbuf_add(&cr->ret->err, r->err.buf ? r->err.buf : "", r->err.len) < 0)
                return oom(err);
        return cr->ret->exit_status != 0 && !any_error ? PM__PLAN_FAILED : 0;
}

static int
cargo_do(struct check_run *cr, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "check", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        const struct pm_check_request *req = cr->req;
        char **argv = NULL;
        int r;

        r = pm_mkdir_p(req->out_dir, err);
        if (r >= 0)
                r = cargo_argv(cr->cfg, req, verbs[req->action], &argv, err);
        if (r < 0)
                goto out;
        if (req->action != PM_CHECK_CHECK) {
                r = pm_argv_push(&argv, "--");
                if (r >= 0 && req->action == PM_CHECK_TEST) {
                        r = pm_argv_push(&argv, req->test_id);
                        if (r >= 0)
                                r = pm_argv_push(&argv, "--exact");
                }
                for (size_t i = 0; r >= 0 && req->run_args && req->run_args[i]; i++)
                        r = pm_argv_push(&argv, req->run_args[i]);
                if (r < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        /* cargo's exit status is the result: 101 for a crate with errors, or the program's. */
        r = add_step(cr, pm_steal_ptr(&argv), req->project->root, NULL, true,
                     req->action == PM_CHECK_CHECK ? cargo_then_check : then_program, err);
        if (r >= 0)
                r = run_check(cr, err);
out:
        pm_argv_free(argv);
        return r;
}

/* ---- Buck2 ---- */

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
                r = oom(err);
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
        return r < 0 ? oom(err) : 0;
}

/* After `buck2 build LABEL[diag.json] --show-full-json-output`: the diagnostics file it names. */
static int
buck2_then_check(struct check_run *cr, size_t step, struct pm__plan_result *res,
                 struct pm_error *err)
{
        const struct pm_tool_result *r = &res->results[step];
        struct pm_strbuf diag = PM_STRBUF_INIT;
        cJSON *shown = cJSON_ParseWithLength(r->out.buf ? r->out.buf : "", r->out.len);
        const cJSON *path = shown && cJSON_IsObject(shown) ? shown->child : NULL;
        bool any_error = false;
        int ret;

        if (!cJSON_IsString(path) || !pm_path_is_absolute(path->valuestring)) {
                ret = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                   "buck2 build %s[diag.json] --show-full-json-output named no "
                                   "output file",
                                   cr->req->crate->label);
                goto out;
        }
        ret = pm_strbuf_read_file(&diag, path->valuestring, cr->cfg->max_tool_output, err);
        if (ret >= 0)
                ret = copy_diagnostics(cr, diag.buf, diag.len, cr->req->project->root, false,
                                       &any_error, err);
out:
        cJSON_Delete(shown);
        pm_strbuf_release(&diag);
        return ret;
}

/*
 * Buck2 check: `buck2 build LABEL[diag.json] --show-full-json-output` builds the prelude's
 * rustc-diagnostics subtarget (written even when rustc fails) and prints {"<target>": "<absolute
 * path>"}; each line of that file is a rustc JSON diagnostic, paths relative to the project root
 * (where buck2 runs rustc). run: `buck2 run LABEL -- ARG...`; test: `buck2 test LABEL --
 * <test runner arguments>` (buck2_test_args()).
 */
static int
buck2_do(struct check_run *cr, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "build", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        const struct pm_check_request *req = cr->req;
        char **argv = NULL, *target = NULL;
        int r;

        r = buck2_argv(cr->cfg, req, verbs[req->action], &argv, err);
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
                r = oom(err);
                goto out;
        }
        if (req->action == PM_CHECK_TEST) {
                r = buck2_test_args(cr->cfg, req, &argv, err);
                if (r < 0)
                        goto out;
        }
        /* A failed check build is the step's (the one wording); run's and test's status is the
         * program's. */
        r = add_step(cr, pm_steal_ptr(&argv), req->project->root, NULL,
                     req->action != PM_CHECK_CHECK,
                     req->action == PM_CHECK_CHECK ? buck2_then_check : then_program, err);
        if (r >= 0)
                r = run_check(cr, err);
out:
        pm_argv_free(argv);
        pm_free(target);
        return r;
}

int
pm_check_run(const struct pm_config *cfg, const struct pm_check_request *req,
             struct pm_check_result *ret, struct pm_error *err)
{
        const struct pm_crate *c = req->crate;
        const char *bs = c->build_system;
        const struct pm_adapter_ops *ops;
        struct check_run cr = { .cfg = cfg, .req = req, .ret = ret };
        int r;

        pm_strbuf_init(&ret->out);
        pm_strbuf_init(&ret->err);
        ret->exit_status = 0;
        if (req->action == PM_CHECK_RUN && c->kind != PM_CRATE_BIN)
                return pm_error_set(err, PM_ENOTFOUND, "'%s' is a %s, not a binary", c->label,
                                    pm_crate_kind_name(c->kind));
        if (req->action == PM_CHECK_TEST && strcmp(bs, "gn") == 0 && c->kind != PM_CRATE_TEST)
                return pm_error_set(err, PM_ENOTFOUND,
                                    "'%s' is a %s, not a test target (GN builds tests only in "
                                    "targets compiled with --test)",
                                    c->label, pm_crate_kind_name(c->kind));
        ops = pm_adapter_find(bs);
        if (strcmp(bs, "gn") == 0)
                r = gn_do(&cr, err);
        else if (strcmp(bs, "cargo") == 0)
                r = cargo_do(&cr, err);
        else if (strcmp(bs, "buck2") == 0)
                r = buck2_do(&cr, err);
        else if (req->action == PM_CHECK_CHECK && ops && ops->check_plan && ops->check_parse)
                r = pm__check_adapter(cfg, ops, req, ret, err);
        else if (req->action != PM_CHECK_CHECK && ops && ops->run_plan && ops->test_plan)
                r = pm__run_adapter(cfg, ops, req, ret, err);
        else
                r = pm_error_set(err, PM_EUNSUPPORTED,
                                 "projmodel %s does not support %s yet (docs/build-integration.md)",
                                 req->action == PM_CHECK_CHECK  ? "check"
                                 : req->action == PM_CHECK_TEST ? "test"
                                                                : "run",
                                 bs);
        pm_plan_release(&cr.plan);
        pm_argv_free(cr.inputs);
        pm_free(cr.target);
        pm_free(cr.dir);
        return r;
}
