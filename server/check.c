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
        r->exit_status = 0;
}

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

/* Run @argv in @cwd (with @env, may be NULL), keeping whatever it printed and its status. */
static int
capture(const struct pm_config *cfg, char **argv, const char *cwd, char **env,
        struct pm_tool_result *res, struct pm_error *err)
{
        struct pm_step step = { .argv = argv, .cwd = (char *)cwd, .env = env };

        pm_tool_result_release(res);
        return pm_tool_run_capture(&step, cfg->tool_timeout_ms, cfg->max_tool_output, res, err);
}

static int
status_of(const struct pm_tool_result *res)
{
        return res->term_signal ? 128 + res->term_signal : res->exit_status;
}

/* The first line starting with @prefix in @text into @buf; false when none. */
static bool
find_line(const char *text, const char *prefix, char *buf, size_t size)
{
        size_t pl = strlen(prefix);

        for (const char *p = text; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);

                if (n >= pl && strncmp(p, prefix, pl) == 0) {
                        (void)snprintf(buf, size, "%.*s", (int)n, p);
                        return true;
                }
                p = nl ? nl + 1 : p + n;
        }
        return false;
}

/* The most telling line of what a tool printed (its first error), for a one-line message. */
static void
first_error(const struct pm_tool_result *res, char *buf, size_t size)
{
        buf[0] = '\0';
        if (find_line(res->err.buf, "error", buf, size) ||
            find_line(res->out.buf, "error", buf, size) ||
            find_line(res->out.buf, "FAILED", buf, size) ||
            find_line(res->err.buf, "ninja: error", buf, size) ||
            find_line(res->err.buf, "", buf, size))
                return;
        (void)find_line(res->out.buf, "", buf, size);
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

/*
 * `ninja -t query @target`: its inputs (explicit, implicit and order-only) into *ret_inputs.
 * A phony (GN's label alias) is followed to the file it names, which becomes *target.
 */
static int
ninja_inputs(const struct pm_config *cfg, const char *dir, char **target, char ***ret_inputs,
             struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        char **inputs = NULL;
        int r = 0;

        for (int hop = 0; hop < 2; hop++) {
                char *argv[] = { "ninja", "-C", (char *)dir, "-t", "query", *target, NULL };
                bool phony = false, in_inputs = false;
                char *line, *next;

                pm_argv_free(inputs);
                inputs = pm_argv_new(NULL, 0);
                if (!inputs) {
                        r = oom(err);
                        goto out;
                }
                r = capture(cfg, argv, dir, NULL, &res, err);
                if (r < 0)
                        goto out;
                if (res.exit_status != 0) {
                        char line1[300];

                        first_error(&res, line1, sizeof(line1));
                        r = pm_error_set(err, PM_ENOTFOUND,
                                         "ninja knows no target '%s' in '%s': %s", *target, dir,
                                         line1);
                        goto out;
                }
                for (line = res.out.buf; line && *line; line = next) {
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
                                if (pm_argv_push(&inputs, in) < 0) {
                                        r = oom(err);
                                        goto out;
                                }
                        }
                }
                if (!phony)
                        break;
                if (!inputs[0] || inputs[1]) {
                        r = pm_error_set(err, PM_ENOTFOUND,
                                         "'%s' in '%s' is not one GN target's output", *target,
                                         dir);
                        goto out;
                }
                pm_free(*target);
                *target = pm_strdup(inputs[0]);
                if (!*target) {
                        r = oom(err);
                        goto out;
                }
        }
        *ret_inputs = pm_steal_ptr(&inputs);
out:
        pm_tool_result_release(&res);
        pm_argv_free(inputs);
        return r;
}

/* `ninja -C @dir @targets...` (@targets relative to @dir, built files only). */
static int
ninja_build(const struct pm_config *cfg, const char *dir, char *const *targets,
            struct pm_tool_result *res, struct pm_error *err)
{
        char **argv = pm_argv_new((const char *const[]){ "ninja", "-C", dir }, 3);
        size_t n = 0;
        int r;

        for (size_t i = 0; argv && targets[i]; i++) {
                /* Sources live outside the build directory; ninja need not hear of them. */
                if (targets[i][0] == '/' || strncmp(targets[i], "../", 3) == 0)
                        continue;
                if (pm_argv_push(&argv, targets[i]) < 0) {
                        argv = pm_argv_free(argv);
                        break;
                }
                n++;
        }
        if (!argv)
                return oom(err);
        r = n ? capture(cfg, argv, dir, NULL, res, err) : 0;
        pm_argv_free(argv);
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
 * GN check: the target's own rustc command from `ninja -t commands` (its last line), run with
 * JSON diagnostics and metadata only into @out_dir, after ninja built the target's inputs.
 */
static int
gn_check(const struct pm_config *cfg, const struct pm_check_request *req, const char *dir,
         char *target, char *const *inputs, struct pm_check_result *ret, struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        char **env = NULL, **cmd = NULL, **argv = NULL;
        char *out = NULL, *last = NULL;
        bool any_error = false;
        int r;

        r = ninja_build(cfg, dir, inputs, &res, err);
        if (r < 0)
                goto out;
        if (res.exit_status != 0) {
                /* The crate's own compile shows what is missing; say why on stderr. */
                (void)pm_strbuf_addf(&ret->err,
                                     "projmodel check: building the inputs of '%s' failed\n",
                                     req->crate->label);
                (void)pm_strbuf_add(&ret->err, res.out.buf ? res.out.buf : "", res.out.len);
        }
        {
                char *argv1[] = { "ninja", "-C", (char *)dir, "-t", "commands", target, NULL };

                r = capture(cfg, argv1, dir, NULL, &res, err);
                if (r < 0)
                        goto out;
        }
        for (char *p = res.out.buf; p && *p;) {
                char *nl = strchr(p, '\n');

                if (nl)
                        *nl = '\0';
                if (*p)
                        last = p;
                p = nl ? nl + 1 : p + strlen(p);
        }
        if (res.exit_status != 0 || !last) {
                r = pm_error_set(err, PM_ETOOL, "ninja gives no command for '%s' in '%s'", target,
                                 dir);
                goto out;
        }
        r = pm_check_split_command(last, &env, &cmd, err);
        if (r < 0) {
                (void)pm_error_prefix(err, "the command ninja runs for '%s'", req->crate->label);
                goto out;
        }
        for (size_t i = 1; cmd[i]; i++) {
                if (cmd[i][0] == '@' &&
                    !pm_path_exists_in(cmd[i][1] == '/' ? "/" : dir, cmd[i] + 1)) {
                        r = pm_error_set(err, PM_EUNSUPPORTED,
                                         "the rustc command of '%s' reads the response file '%s', "
                                         "which ninja writes only while it builds the target",
                                         req->crate->label, cmd[i] + 1);
                        goto out;
                }
        }
        if (!is_rustc(cfg, cmd[0])) {
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
        r = capture(cfg, argv, dir, env[0] ? env : NULL, &res, err);
        if (r < 0)
                goto out;
        ret->exit_status = status_of(&res);
        /* rustc prints its JSON diagnostics on stderr. */
        for (const char *p = res.err.buf; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                bool is_error = false;

                r = pm_check_diagnostic_line(p, n, dir, NULL, &ret->out, &is_error);
                if (r < 0) {
                        r = oom(err);
                        goto out;
                }
                any_error |= is_error;
                if (r == 0 &&
                    (pm_strbuf_add(&ret->err, p, n) < 0 || pm_strbuf_addch(&ret->err, '\n') < 0)) {
                        r = oom(err);
                        goto out;
                }
                p = nl ? nl + 1 : p + n;
        }
        r = 0;
        if (ret->exit_status != 0 && !any_error)
                r = pm_error_set(err, PM_ETOOL, "rustc failed for '%s' with exit status %d",
                                 req->crate->label, ret->exit_status);
out:
        pm_tool_result_release(&res);
        pm_argv_free(env);
        pm_argv_free(cmd);
        pm_argv_free(argv);
        pm_free(out);
        return r;
}

/* GN test and run: ninja builds the target (in the user's build directory: the binary is what
 * the user runs), then the binary runs with @args. */
static int
gn_run(const struct pm_config *cfg, const struct pm_check_request *req, const char *dir,
       const char *target, struct pm_check_result *ret, struct pm_error *err)
{
        struct pm_tool_result res = { 0 };
        char *const targets[] = { (char *)target, NULL };
        char **argv = NULL;
        char *bin = NULL, line[300];
        int r;

        r = ninja_build(cfg, dir, targets, &res, err);
        if (r < 0)
                goto out;
        if (res.exit_status != 0) {
                first_error(&res, line, sizeof(line));
                r = pm_error_set(err, PM_ETOOL, "ninja could not build '%s': %s", req->crate->label,
                                 line);
                goto out;
        }
        bin = pm_path_join(NULL, dir, target);
        argv = bin ? pm_argv_new((const char *const[]){ bin }, 1) : NULL;
        if (!argv) {
                r = oom(err);
                goto out;
        }
        if (req->action == PM_CHECK_TEST) {
                if (pm_argv_push(&argv, req->test_id) < 0 || pm_argv_push(&argv, "--exact") < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        for (size_t i = 0; req->run_args && req->run_args[i]; i++) {
                if (pm_argv_push(&argv, req->run_args[i]) < 0) {
                        r = oom(err);
                        goto out;
                }
        }
        r = capture(cfg, argv, dir, NULL, &res, err);
        if (r < 0)
                goto out;
        ret->exit_status = status_of(&res);
        if (pm_strbuf_add(&ret->out, res.out.buf ? res.out.buf : "", res.out.len) < 0 ||
            pm_strbuf_add(&ret->err, res.err.buf ? res.err.buf : "", res.err.len) < 0)
                r = oom(err);
out:
        pm_tool_result_release(&res);
        pm_argv_free(argv);
        pm_free(bin);
        return r;
}

static int
gn_do(const struct pm_config *cfg, const struct pm_check_request *req, struct pm_check_result *ret,
      struct pm_error *err)
{
        char *dir = NULL, *target = NULL, **inputs = NULL;
        int r;

        r = gn_build_dir(cfg, req->project, &dir, err);
        if (r >= 0)
                r = gn_target(dir, req->crate->label, &target, err);
        if (r >= 0)
                r = ninja_inputs(cfg, dir, &target, &inputs, err);
        if (r < 0)
                goto out;
        if (req->action == PM_CHECK_CHECK)
                r = gn_check(cfg, req, dir, target, inputs, ret, err);
        else
                r = gn_run(cfg, req, dir, target, ret, err);
out:
        pm_argv_free(inputs);
        pm_free(target);
        pm_free(dir);
        return r;
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

static int
cargo_do(const struct pm_config *cfg, const struct pm_check_request *req,
         struct pm_check_result *ret, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "check", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        struct pm_tool_result res = { 0 };
        char **argv = NULL;
        bool any_error = false;
        int r;

        r = pm_mkdir_p(req->out_dir, err);
        if (r >= 0)
                r = cargo_argv(cfg, req, verbs[req->action], &argv, err);
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
        r = capture(cfg, argv, req->project->root, NULL, &res, err);
        if (r < 0)
                goto out;
        ret->exit_status = status_of(&res);
        if (req->action != PM_CHECK_CHECK) {
                if (pm_strbuf_add(&ret->out, res.out.buf ? res.out.buf : "", res.out.len) < 0 ||
                    pm_strbuf_add(&ret->err, res.err.buf ? res.err.buf : "", res.err.len) < 0)
                        r = oom(err);
                goto out;
        }
        /* cargo prints one JSON message per line on stdout; rustc's paths are relative to the
         * workspace root, where cargo runs it for workspace members. */
        for (const char *p = res.out.buf; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);
                bool is_error = false;

                r = pm_check_diagnostic_line(p, n, req->project->root, NULL, &ret->out, &is_error);
                if (r < 0) {
                        r = oom(err);
                        goto out;
                }
                any_error |= is_error;
                p = nl ? nl + 1 : p + n;
        }
        r = pm_strbuf_add(&ret->err, res.err.buf ? res.err.buf : "", res.err.len) < 0 ? oom(err)
                                                                                      : 0;
        if (r >= 0 && ret->exit_status != 0 && !any_error) {
                char line[300];

                first_error(&res, line, sizeof(line));
                r = pm_error_set(err, PM_ETOOL, "cargo check of '%s' failed: %s", req->crate->label,
                                 line);
        }
out:
        pm_tool_result_release(&res);
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

/*
 * Buck2 check: `buck2 build LABEL[diag.json] --show-full-json-output` builds the prelude's
 * rustc-diagnostics subtarget (written even when rustc fails) and prints {"<target>": "<absolute
 * path>"}; each line of that file is a rustc JSON diagnostic, paths relative to the project root
 * (where buck2 runs rustc). run: `buck2 run LABEL -- ARG...`; test: `buck2 test LABEL --
 * <test runner arguments>` (buck2_test_args()).
 */
static int
buck2_do(const struct pm_config *cfg, const struct pm_check_request *req,
         struct pm_check_result *ret, struct pm_error *err)
{
        static const char *const verbs[] = {
                [PM_CHECK_CHECK] = "build", [PM_CHECK_TEST] = "test", [PM_CHECK_RUN] = "run"
        };
        struct pm_tool_result res = { 0 };
        struct pm_strbuf diag = PM_STRBUF_INIT;
        char **argv = NULL, *target = NULL, line[300];
        cJSON *shown = NULL;
        const cJSON *path;
        int r;

        r = buck2_argv(cfg, req, verbs[req->action], &argv, err);
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
                r = buck2_test_args(cfg, req, &argv, err);
                if (r < 0)
                        goto out;
        }
        r = capture(cfg, argv, req->project->root, NULL, &res, err);
        if (r < 0)
                goto out;
        if (req->action != PM_CHECK_CHECK) {
                ret->exit_status = status_of(&res);
                if (pm_strbuf_add(&ret->out, res.out.buf ? res.out.buf : "", res.out.len) < 0 ||
                    pm_strbuf_add(&ret->err, res.err.buf ? res.err.buf : "", res.err.len) < 0)
                        r = oom(err);
                goto out;
        }
        if (res.exit_status != 0) {
                first_error(&res, line, sizeof(line));
                r = pm_error_set(err, PM_ETOOL, "buck2 could not build '%s': %s", target, line);
                goto out;
        }
        shown = cJSON_ParseWithLength(res.out.buf ? res.out.buf : "", res.out.len);
        path = shown && cJSON_IsObject(shown) ? shown->child : NULL;
        if (!cJSON_IsString(path) || !pm_path_is_absolute(path->valuestring)) {
                r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                 "buck2 build %s --show-full-json-output named no output file",
                                 target);
                goto out;
        }
        r = pm_strbuf_read_file(&diag, path->valuestring, cfg->max_tool_output, err);
        if (r < 0)
                goto out;
        for (const char *p = diag.buf; p && *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) : strlen(p);

                if (pm_check_diagnostic_line(p, n, req->project->root, NULL, &ret->out, NULL) < 0) {
                        r = oom(err);
                        goto out;
                }
                p = nl ? nl + 1 : p + n;
        }
        r = 0;
out:
        cJSON_Delete(shown);
        pm_strbuf_release(&diag);
        pm_tool_result_release(&res);
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
        if (strcmp(bs, "gn") == 0)
                return gn_do(cfg, req, ret, err);
        if (strcmp(bs, "cargo") == 0)
                return cargo_do(cfg, req, ret, err);
        if (strcmp(bs, "buck2") == 0)
                return buck2_do(cfg, req, ret, err);
        ops = pm_adapter_find(bs);
        if (req->action == PM_CHECK_CHECK && ops && ops->check_plan && ops->check_parse)
                return pm__check_adapter(cfg, ops, req, ret, err);
        if (req->action != PM_CHECK_CHECK && ops && ops->run_plan && ops->test_plan)
                return pm__run_adapter(cfg, ops, req, ret, err);
        return pm_error_set(err, PM_EUNSUPPORTED,
                            "projmodel %s does not support %s yet (docs/build-integration.md)",
                            req->action == PM_CHECK_CHECK  ? "check"
                            : req->action == PM_CHECK_TEST ? "test"
                                                           : "run",
                            bs);
}
