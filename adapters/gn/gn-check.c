/* SPDX-License-Identifier: MIT */
/* `projmodel check|test|run` of a GN crate through ninja's own commands, the adapter's
 * check_step: its target and inputs from `ninja -t query`, its rustc command from `ninja -t
 * commands`, rerun with JSON diagnostics into projmodel's own directory
 * (docs/build-integration.md, "Check-on-save and runnables"). */
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

#include "gn-internal.h"

/* What one check found so far (pm_check_plan.state). */
struct gn_check {
        char *dir;     /* the build directory */
        char *target;  /* the crate's ninja target, relative to @dir */
        char **inputs; /* its inputs, from `ninja -t query` */
};

/* What follows a step (pm_check_plan.next): the gn_then_*() of the same name. */
enum {
        GN_THEN_QUERY = 1,
        GN_THEN_INPUTS,
        GN_THEN_COMMANDS,
        GN_THEN_RUSTC,
        GN_THEN_BUILT,
        GN_THEN_PROGRAM,
};

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
                return pm_check_oom(err);
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
                return *ret ? 0 : pm_check_oom(err);
        }
        path = pm_path_join(NULL, dir, "project.json");
        if (!path)
                return pm_check_oom(err);
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
                r = pm_check_oom(err);
                goto out;
        }
        if (!pm_path_is_under(abs, dir) || strcmp(abs, dir) == 0) {
                r = pm_error_set(err, PM_ENOTFOUND, "the output of '%s' (%s) is not under '%s'",
                                 label, abs, dir);
                goto out;
        }
        *ret = pm_strdup(abs + strlen(dir) + 1);
        r = *ret ? 0 : pm_check_oom(err);
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

/*
 * `ninja -C dir -t TOOL target`, followed by @then: `query` lists the target's inputs
 * (gn_then_query()), `commands` ends with the crate's own rustc command (gn_then_commands()).
 */
static int
gn_ninja_tool(struct pm_check_plan *cp, const char *tool, int then, struct pm_error *err)
{
        const struct gn_check *g = cp->state;
        const char *const argv[] = { "ninja", "-C", g->dir, "-t", tool, g->target };

        return pm_check_add_step(cp, pm_argv_new(argv, 6), g->dir, NULL, false, then, err);
}

/*
 * `ninja -C dir TARGETS...` for @targets (relative to the build directory; sources, outside it,
 * are left out), followed by @then; @optional: its failure is not the check's. With no input
 * left to build, check goes on to the commands at once.
 */
static int
gn_build(struct pm_check_plan *cp, char *const *targets, bool optional, int then,
         struct pm_error *err)
{
        const struct gn_check *g = cp->state;
        char **argv = pm_argv_new((const char *const[]){ "ninja", "-C", g->dir }, 3);
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
                if (then != GN_THEN_INPUTS)
                        return pm_error_set(err, PM_ENOTFOUND, "'%s' in '%s' is no ninja target",
                                            g->target, g->dir);
                return gn_ninja_tool(cp, "commands", GN_THEN_COMMANDS, err);
        }
        r = pm_check_add_step(cp, argv, g->dir, NULL, false, then, err);
        if (r == 0)
                cp->plan.steps[cp->plan.n_steps - 1].optional = optional;
        return r;
}

/*
 * After `ninja -t query` (@out, modified): its inputs (explicit, implicit and order-only). A
 * phony (GN's label alias) is followed once to the file it names, which becomes the target;
 * then check builds the inputs, test and run the target.
 */
static int
gn_then_query(struct pm_check_plan *cp, size_t step, char *out, struct pm_error *err)
{
        struct gn_check *g = cp->state;
        bool phony = false, in_inputs = false;
        char *line, *next;

        pm_argv_free(g->inputs);
        g->inputs = pm_argv_new(NULL, 0);
        if (!g->inputs)
                return pm_check_oom(err);
        for (line = out; line && *line; line = next) {
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
                        if (pm_argv_push(&g->inputs, in) < 0)
                                return pm_check_oom(err);
                }
        }
        if (phony) {
                if (!g->inputs[0] || g->inputs[1])
                        return pm_error_set(err, PM_ENOTFOUND,
                                            "'%s' in '%s' is not one GN target's output", g->target,
                                            g->dir);
                pm_free(g->target);
                g->target = pm_strdup(g->inputs[0]);
                if (!g->target)
                        return pm_check_oom(err);
                if (step == 0)
                        return gn_ninja_tool(cp, "query", GN_THEN_QUERY, err);
        }
        if (cp->req->action == PM_CHECK_CHECK)
                return gn_build(cp, g->inputs, true, GN_THEN_INPUTS, err);
        return gn_build(cp, (char *const[]){ g->target, NULL }, false, GN_THEN_BUILT, err);
}

/* After building the inputs: a failure is said on stderr and the check goes on (the crate's
 * own compile shows what is missing). */
static int
gn_then_inputs(struct pm_check_plan *cp, const struct pm_check_output *o, struct pm_error *err)
{
        if (!o->ok &&
            pm_strbuf_addf(&cp->ret->err,
                           "projmodel check: building the inputs of '%s' failed: %s\n",
                           cp->req->crate->label, o->error ? o->error : "(no error line)") < 0)
                return pm_check_oom(err);
        return gn_ninja_tool(cp, "commands", GN_THEN_COMMANDS, err);
}

int
pm__gn_last_line(const char *text, size_t len, char **ret)
{
        const char *b, *e = text + len;

        while (e > text && e[-1] == '\n')
                e--;
        for (b = e; b > text && b[-1] != '\n';)
                b--;
        *ret = NULL;
        if (b == e)
                return 0;
        *ret = pm_strndup(b, (size_t)(e - b));
        return *ret ? 0 : -ENOMEM;
}

/*
 * After `ninja -t commands` (@o): the crate's own rustc command (its last line, read alone:
 * pm__gn_last_line()), to run with JSON diagnostics and metadata only into projmodel's own
 * directory.
 */
static int
gn_then_commands(struct pm_check_plan *cp, const struct pm_check_output *o, struct pm_error *err)
{
        const struct gn_check *g = cp->state;
        const struct pm_check_request *req = cp->req;
        char **env = NULL, **cmd = NULL, **argv = NULL;
        char *out = NULL, *last = NULL;
        int r;

        if (pm__gn_last_line(o->out, o->out_len, &last) < 0) {
                r = pm_check_oom(err);
                goto out;
        }
        if (!last) {
                r = pm_error_set(err, PM_ETOOL, "ninja gives no command for '%s' in '%s'",
                                 g->target, g->dir);
                goto out;
        }
        r = pm_check_split_command(last, &env, &cmd, err);
        if (r < 0) {
                (void)pm_error_prefix(err, "the command ninja runs for '%s'", req->crate->label);
                goto out;
        }
        for (size_t i = 1; cmd[i]; i++) {
                if (cmd[i][0] == '@' &&
                    !pm_path_exists_in(cmd[i][1] == '/' ? "/" : g->dir, cmd[i] + 1)) {
                        r = pm_error_set(err, PM_EUNSUPPORTED,
                                         "the rustc command of '%s' reads the response file '%s', "
                                         "which ninja writes only while it builds the target",
                                         req->crate->label, cmd[i] + 1);
                        goto out;
                }
        }
        if (!is_rustc(cp->q->config, cmd[0])) {
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
                r = pm_check_oom(err);
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
                        r = pm_check_oom(err);
                        goto out;
                }
        }
        if (pm_argv_push(&argv, "--error-format=json") < 0 ||
            pm_argv_push(&argv, "--emit=metadata") < 0 || pm_argv_push(&argv, "--out-dir") < 0 ||
            pm_argv_push(&argv, out) < 0) {
                r = pm_check_oom(err);
                goto out;
        }
        /* rustc's exit status is the check's result: a type error is not a failed step. */
        r = pm_check_add_step(cp, pm_steal_ptr(&argv), g->dir, env[0] ? pm_steal_ptr(&env) : NULL,
                              true, GN_THEN_RUSTC, err);
out:
        pm_argv_free(env);
        pm_argv_free(cmd);
        pm_argv_free(argv);
        pm_free(out);
        pm_free(last);
        return r;
}

/* GN test and run, after ninja built the target (in the user's build directory: the binary is
 * what the user runs): the binary runs with the test id or @args. */
static int
gn_then_built(struct pm_check_plan *cp, struct pm_error *err)
{
        const struct gn_check *g = cp->state;
        char *bin = pm_path_join(NULL, g->dir, g->target);
        char **argv = bin ? pm_argv_new((const char *const[]){ bin }, 1) : NULL;
        int r = argv ? 0 : -ENOMEM;

        if (r >= 0)
                r = pm_check_push_program_args(cp->req, &argv);
        pm_free(bin);
        if (r < 0) {
                pm_argv_free(argv);
                return pm_check_oom(err);
        }
        return pm_check_add_step(cp, argv, g->dir, NULL, true, GN_THEN_PROGRAM, err);
}

static void
gn_check_free(void *state)
{
        struct gn_check *g = state;

        pm_argv_free(g->inputs);
        pm_free(g->target);
        pm_free(g->dir);
        pm_free(g);
}

/* The first step: `ninja -t query` of the crate's target in the project's build directory. GN
 * builds a crate's tests only in a target of its own. */
static int
gn_begin(struct pm_check_plan *cp, struct pm_error *err)
{
        const struct pm_crate *c = cp->req->crate;
        struct gn_check *g;
        int r;

        if (cp->req->action == PM_CHECK_TEST && c->kind != PM_CRATE_TEST)
                return pm_error_set(err, PM_ENOTFOUND,
                                    "'%s' is a %s, not a test target (GN builds tests only in "
                                    "targets compiled with --test)",
                                    c->label, pm_crate_kind_name(c->kind));
        g = pm_calloc(1, sizeof(*g));
        if (!g)
                return pm_check_oom(err);
        cp->state = g;
        cp->free_state = gn_check_free;
        r = gn_build_dir(cp->q->config, cp->req->project, &g->dir, err);
        if (r >= 0)
                r = gn_target(g->dir, c->label, &g->target, err);
        if (r >= 0)
                r = gn_ninja_tool(cp, "query", GN_THEN_QUERY, err);
        return r;
}

int
pm__gn_check_step(struct pm_check_plan *cp, size_t step, const struct pm_check_output *o,
                  struct pm_error *err)
{
        char *text = NULL;
        int r;

        if (!o)
                return gn_begin(cp, err);
        switch (cp->next[step]) {
        case GN_THEN_QUERY:
                /* Read line by line in place, as a copy: the output is the server's. */
                text = pm_strdup(o->out);
                if (!text)
                        return pm_check_oom(err);
                r = gn_then_query(cp, step, text, err);
                pm_free(text);
                return r;
        case GN_THEN_COMMANDS:
                return gn_then_commands(cp, o, err);
        case GN_THEN_INPUTS:
                return gn_then_inputs(cp, o, err);
        case GN_THEN_RUSTC:
                /* rustc's JSON diagnostics (on stderr, paths relative to the build directory,
                 * where ninja runs it) for rust-analyzer, the rest for the user. */
                return pm_check_then_diagnostics(cp, o, true, ((struct gn_check *)cp->state)->dir,
                                                 err);
        case GN_THEN_BUILT:
                return gn_then_built(cp, err);
        default:
                return pm_check_then_program(cp, o, err);
        }
}
