/* SPDX-License-Identifier: MIT */
/* `projmodel setup`: VS Code settings merged without losing a key, invalid JSON refused and left
 * unchanged, a second run changes nothing, the Emacs file loaded by real Emacs with eglot, the
 * Helix file parsed by Python's tomllib, the Neovim file run by real headless Neovim against a
 * language-server stand-in that records initialize (through 0.7's vim.lsp.start_client, and
 * through vim.lsp.start where it exists, as on 0.8+), never overwriting the user's file, and
 * filesToWatch following the configured build systems. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;
static char *cfg_env; /* "XDG_CONFIG_HOME=<tmp>/config" */

static void
setup(void)
{
        cli_fx_init(&fx, false);
        cfg_env = pm_test_strf("XDG_CONFIG_HOME=%s/config", fx.tmp);
}

static void
teardown(void)
{
        pm_free(cfg_env);
        cli_fx_release(&fx);
}

TestSuite(cli_setup, .init = setup, .fini = teardown);

/* `projmodel setup EDITOR` in the repo; asserts exit @status. */
static void
run_setup(const char *editor, int status, struct cli_run *r)
{
        const char *env[] = { cfg_env, NULL };

        cli_fx_run(&fx, NULL, env, (const char *[]){ "setup", editor, NULL }, r);
        cr_assert_eq(r->status, status, "setup %s: exit %d: %s%s", editor, r->status, r->out,
                     r->err);
}

/* The discoverConfig @dc names the built binary by absolute path and watches GN's files. */
static void
check_discover_config(const cJSON *dc)
{
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(dc, "command");
        const cJSON *watch = cJSON_GetObjectItemCaseSensitive(dc, "filesToWatch");
        char *self = realpath(pm_test_projmodel(), NULL);

        cr_assert(cJSON_IsArray(cmd) && cJSON_GetArraySize(cmd) == 3);
        cr_assert(self);
        cr_assert_str_eq(cJSON_GetArrayItem(cmd, 0)->valuestring, self);
        cr_assert_str_eq(cJSON_GetArrayItem(cmd, 1)->valuestring, "discover");
        cr_assert_str_eq(cJSON_GetArrayItem(cmd, 2)->valuestring, "{arg}");
        cr_assert(cli_strarr_has(watch, "BUILD.gn") && cli_strarr_has(watch, ".gn"));
        free(self);
}

/* Runs @plugin (projmodel's Neovim file) in real headless Neovim on a Rust buffer of the repo,
 * after the Lua @before (or nothing), with the recording stand-in (tests/cli/
 * lsp-record-initialize.py) as rust-analyzer, and asserts that its initialize request carried
 * the discoverConfig in initializationOptions. */
static void
run_nvim_plugin(const char *plugin, const char *before)
{
        char *rec = pm_test_strf("%s/initialize.json", fx.tmp);
        char *rs = cli_fx_path(&fx, "setup-test.rs");
        char *load = pm_test_strf("luafile %s", plugin);
        char *stub = pm_test_strf("let g:projmodel_rust_analyzer_cmd = ['python3', "
                                  "'%s/tests/cli/lsp-record-initialize.py', '%s']",
                                  pm_test_source_root(), rec);
        char *pre = pm_test_strf("lua %s", before ? before : "do end");
        char *edit = pm_test_strf("edit %s", rs);
        char *wait = pm_test_strf("lua vim.wait(60000, function() return "
                                  "vim.loop.fs_stat('%s') ~= nil end)",
                                  rec);
        char *params_text, *err = NULL;
        cJSON *params;

        cr_assert(pm_test_have("nvim"), "neovim is installed by scripts/setup.sh");
        (void)unlink(rec);
        cr_assert_eq(pm_test_write_file(rs, "fn main() {}\n"), 0);
        cr_assert_eq(
                pm_test_run((const char *[]){ "nvim", "--headless", "-u", "NONE", "-c", load, "-c",
                                              stub, "-c", pre, "-c", edit, "-c",
                                              "set filetype=rust", "-c", wait, "-c", "qa!", NULL },
                            NULL, NULL, NULL, NULL, &err),
                0, "%s", err);
        params_text = pm_test_read_file(rec);
        cr_assert(params_text, "no initialize request recorded: %s", err);
        params = cJSON_Parse(params_text);
        check_discover_config(cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(params, "initializationOptions"),
                        "workspace"),
                "discoverConfig"));
        cJSON_Delete(params);
        pm_free(params_text);
        pm_free(err);
        pm_free(wait);
        pm_free(edit);
        pm_free(pre);
        pm_free(stub);
        pm_free(load);
        pm_free(rs);
        pm_free(rec);
}

Test(cli_setup, vscode_merges_keeps_other_keys_and_is_idempotent)
{
        static const char before[] =
                "{\"editor.tabSize\": 2, \"files.exclude\": {\"out\": true},\n"
                " \"rust-analyzer.workspace.discoverConfig\": {\"command\": [\"old\"]},\n"
                " \"rust-analyzer.cargo.features\": [\"a\", \"b\"]}\n";
        char *path = cli_fx_path(&fx, ".vscode/settings.json");
        char *dir = cli_fx_path(&fx, ".vscode"), *text, *again;
        cJSON *old = cJSON_Parse(before), *now;
        struct cli_run r;
        struct stat st1, st2;

        cr_assert_eq(mkdir(dir, 0755), 0);
        cr_assert_eq(pm_test_write_file(path, before), 0);
        run_setup("vscode", 0, &r);
        cr_assert(strstr(r.out, "wrote: ") && strstr(r.out, path), "%s", r.out);
        cli_run_release(&r);
        text = pm_test_read_file(path);
        now = cJSON_Parse(text);
        cr_assert(cJSON_IsObject(now), "%s", text);
        /* Every other key, with its value, is still there. */
        for (const cJSON *k = old->child; k; k = k->next) {
                if (strcmp(k->string, "rust-analyzer.workspace.discoverConfig") == 0)
                        continue;
                cr_assert(cJSON_Compare(k, cJSON_GetObjectItemCaseSensitive(now, k->string), 1),
                          "lost or changed %s: %s", k->string, text);
        }
        cr_assert_eq(cJSON_GetArraySize(now), cJSON_GetArraySize(old));
        check_discover_config(
                cJSON_GetObjectItemCaseSensitive(now, "rust-analyzer.workspace.discoverConfig"));

        /* A second run: same bytes, same file (not rewritten). */
        cr_assert_eq(stat(path, &st1), 0);
        run_setup("vscode", 0, &r);
        cr_assert(strstr(r.out, "unchanged: "), "%s", r.out);
        cli_run_release(&r);
        cr_assert_eq(stat(path, &st2), 0);
        cr_assert_eq(st1.st_ino, st2.st_ino);
        again = pm_test_read_file(path);
        cr_assert_str_eq(again, text);
        pm_free(again);

        /* The user's own formatting of the same settings is not rewritten either. */
        again = cJSON_PrintUnformatted(now);
        cr_assert_eq(pm_test_write_file(path, again), 0);
        run_setup("vscode", 0, &r);
        cr_assert(strstr(r.out, "unchanged: "), "%s", r.out);
        cli_run_release(&r);
        pm_free(text);
        text = pm_test_read_file(path);
        cr_assert_str_eq(text, again);
        cJSON_free(again);
        pm_free(text);
        cJSON_Delete(now);
        cJSON_Delete(old);
        pm_free(dir);
        pm_free(path);
}

Test(cli_setup, vscode_new_file_and_invalid_json_left_unchanged)
{
        static const char bad[] = "{\n  // a comment VS Code allows\n  \"a\": 1,\n}\n";
        char *path = cli_fx_path(&fx, ".vscode/settings.json"), *text;
        cJSON *j;
        struct cli_run r;

        /* No .vscode yet: made. */
        run_setup("vscode", 0, &r);
        cli_run_release(&r);
        text = pm_test_read_file(path);
        j = cJSON_Parse(text);
        cr_assert_eq(cJSON_GetArraySize(j), 1, "%s", text);
        check_discover_config(
                cJSON_GetObjectItemCaseSensitive(j, "rust-analyzer.workspace.discoverConfig"));
        cJSON_Delete(j);
        pm_free(text);

        cr_assert_eq(pm_test_write_file(path, bad), 0);
        run_setup("vscode", 1, &r);
        cr_assert(cli_one_error_line(r.err, path), "%s", r.err);
        cr_assert(strstr(r.err, "left unchanged"), "%s", r.err);
        cli_run_release(&r);
        text = pm_test_read_file(path);
        cr_assert_str_eq(text, bad);
        pm_free(text);

        /* Text after the object would be lost on rewrite: refused too. */
        cr_assert_eq(pm_test_write_file(path, "{\"a\": 1}\n{\"b\": 2}\n"), 0);
        run_setup("vscode", 1, &r);
        cr_assert(cli_one_error_line(r.err, path), "%s", r.err);
        cli_run_release(&r);
        text = pm_test_read_file(path);
        cr_assert_str_eq(text, "{\"a\": 1}\n{\"b\": 2}\n");
        pm_free(text);
        pm_free(path);
}

Test(cli_setup, emacs_file_loads_in_real_emacs_with_eglot)
{
        char *file = pm_test_strf("%s/config/emacs/projmodel-setup.el", fx.tmp);
        char *form =
                pm_test_strf("(progn (require 'eglot) (load \"%s\" nil t)"
                             " (let ((e (assoc '(rust-mode rust-ts-mode) eglot-server-programs)))"
                             "  (princ (json-encode (plist-get (plist-get (plist-get (cddr e)"
                             " :initializationOptions) :workspace) :discoverConfig)))))",
                             file);
        char *out = NULL, *err = NULL;
        cJSON *dc;
        struct cli_run r;

        cr_assert(pm_test_have("emacs"), "emacs is installed by scripts/setup.sh");
        run_setup("emacs", 0, &r);
        cr_assert(strstr(r.out, file), "%s", r.out);
        cli_run_release(&r);
        run_setup("emacs", 0, &r);
        cr_assert(strstr(r.out, "unchanged: "), "%s", r.out);
        cli_run_release(&r);
        cr_assert_eq(pm_test_run((const char *[]){ "emacs", "--batch", "--eval", form, NULL }, NULL,
                                 NULL, NULL, &out, &err),
                     0, "%s", err);
        dc = cJSON_Parse(out);
        cr_assert(dc, "emacs printed: %s / %s", out, err);
        check_discover_config(dc);
        cJSON_Delete(dc);
        pm_free(out);
        pm_free(err);
        pm_free(form);
        pm_free(file);
}

Test(cli_setup, helix_block_appended_then_replaced_valid_toml)
{
        static const char user[] = "[[language]]\nname = \"rust\"\nauto-format = true\n";
        char *path = cli_fx_path(&fx, ".helix/languages.toml");
        char *dir = cli_fx_path(&fx, ".helix"), *text, *again, *out = NULL, *err = NULL;
        const char *py = "import json,sys,tomllib\n"
                         "d=tomllib.load(open(sys.argv[1],'rb'))\n"
                         "assert d['language'][0]['auto-format'] is True\n"
                         "print(json.dumps(d['language-server']['rust-analyzer']['config']"
                         "['workspace']['discoverConfig']))\n";
        cJSON *dc;
        struct cli_run r;

        cr_assert_eq(mkdir(dir, 0755), 0);
        cr_assert_eq(pm_test_write_file(path, user), 0);
        run_setup("helix", 0, &r);
        cli_run_release(&r);
        text = pm_test_read_file(path);
        cr_assert(strncmp(text, user, strlen(user)) == 0, "user's lines changed: %s", text);
        run_setup("helix", 0, &r);
        cr_assert(strstr(r.out, "unchanged: "), "%s", r.out);
        cli_run_release(&r);
        again = pm_test_read_file(path);
        cr_assert_str_eq(again, text);
        cr_assert_eq(pm_test_run((const char *[]){ "python3", "-c", py, path, NULL }, NULL, NULL,
                                 NULL, &out, &err),
                     0, "%s", err);
        dc = cJSON_Parse(out);
        check_discover_config(dc);
        cJSON_Delete(dc);
        pm_free(out);
        pm_free(err);
        pm_free(again);
        pm_free(text);
        pm_free(dir);
        pm_free(path);
}

Test(cli_setup, neovim_file_starts_the_server_and_never_overwrites_the_users)
{
        char *dir = pm_test_strf("%s/config/nvim/plugin", fx.tmp);
        char *file = pm_test_strf("%s/projmodel.lua", dir), *text, *root;
        const char *mkdir_argv[] = { "mkdir", "-p", dir, NULL };
        struct cli_run r;

        run_setup("neovim", 0, &r);
        cli_run_release(&r);
        text = pm_test_read_file(file);
        root = pm_test_strf("local root = \"%s\"", fx.repo);
        cr_assert(strstr(text, root), "%s", text);
        cr_assert(strstr(text, "init_options = { workspace = { discoverConfig = discover } }"));
        cr_assert(strstr(text, "vim.lsp.start_client"), "%s", text);
        pm_free(text);
        pm_free(root);

        /* Real Neovim (Debian's 0.7.2: vim.lsp.start_client) starts the language server with
         * the discoverConfig in its initialize request's initializationOptions. */
        run_nvim_plugin(file, NULL);

        cr_assert_eq(pm_test_run(mkdir_argv, NULL, NULL, NULL, NULL, NULL), 0);
        cr_assert_eq(pm_test_write_file(file, "-- mine\n"), 0);
        run_setup("neovim", 1, &r);
        cr_assert(cli_one_error_line(r.err, file), "%s", r.err);
        cli_run_release(&r);
        text = pm_test_read_file(file);
        cr_assert_str_eq(text, "-- mine\n");
        pm_free(text);
        pm_free(file);
        pm_free(dir);
}

/* Neovim 0.8+ has vim.lsp.start, and the file must use it there (one client per root, attached
 * to the buffer it is called for). Debian 12 ships 0.7.2 only, so the test puts a vim.lsp.start
 * in it that records its arguments and does what 0.8's does for a new client (start, attach):
 * the file takes that path, with the buffer and a config naming the server and the root, and
 * the server still receives the discoverConfig. */
Test(cli_setup, neovim_file_uses_vim_lsp_start_where_neovim_has_it)
{
        char *file = pm_test_strf("%s/config/nvim/plugin/projmodel.lua", fx.tmp);
        char *calls = pm_test_strf("%s/lsp-start.json", fx.tmp);
        char *rs = cli_fx_path(&fx, "setup-test.rs");
        char *shim = pm_test_strf(
                "vim.lsp.start = function(config, opts) "
                "local f = assert(io.open('%s', 'w')) "
                "f:write(vim.fn.json_encode({ name = config.name, root_dir = config.root_dir, "
                "bufnr = opts and opts.bufnr, buffer = vim.api.nvim_buf_get_name(opts and "
                "opts.bufnr or -1) })) f:close() "
                "local id = vim.lsp.start_client(config) "
                "vim.lsp.buf_attach_client(opts.bufnr, id) return id end",
                calls);
        char *text;
        cJSON *j;
        struct cli_run r;

        run_setup("neovim", 0, &r);
        cli_run_release(&r);
        run_nvim_plugin(file, shim);
        text = pm_test_read_file(calls);
        cr_assert(text, "the file did not call vim.lsp.start");
        j = cJSON_Parse(text);
        cr_assert(j, "%s", text);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "name")->valuestring, "rust-analyzer");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "root_dir")->valuestring, fx.repo);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "bufnr")), "%s", text);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "buffer")->valuestring, rs);
        cJSON_Delete(j);
        pm_free(text);
        pm_free(shim);
        pm_free(rs);
        pm_free(calls);
        pm_free(file);
}

Test(cli_setup, print_writes_nothing_and_bad_editor_is_usage)
{
        const char *env[] = { cfg_env, NULL };
        char *path = cli_fx_path(&fx, ".vscode/settings.json");
        cJSON *j;
        struct cli_run r;

        cli_fx_run(&fx, NULL, env, (const char *[]){ "setup", "--print", "vscode", NULL }, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        j = cJSON_Parse(r.out);
        check_discover_config(
                cJSON_GetObjectItemCaseSensitive(j, "rust-analyzer.workspace.discoverConfig"));
        cJSON_Delete(j);
        cli_run_release(&r);
        cr_assert(access(path, F_OK) != 0, "--print wrote %s", path);

        run_setup("vim", 2, &r);
        cr_assert(strstr(r.err, "unknown editor 'vim'"), "%s", r.err);
        cli_run_release(&r);
        pm_free(path);
}

/*
 * filesToWatch follows the root's build systems: a Bazel root with a Cargo subproject watches
 * Bazel's and Cargo's files and not GN's, in every editor's form.
 */
Test(cli_setup, files_to_watch_follow_the_configured_build_systems)
{
        const char *env[] = { cfg_env, NULL };
        char *root = pm_test_strf("%s/mixed", fx.tmp);
        char *sub = pm_test_strf("%s/mixed/tools/cli", fx.tmp);
        char *cfg = pm_test_strf("%s/mixed/.projmodel.json", fx.tmp);
        const cJSON *watch;
        cJSON *j;
        struct cli_run r;

        cr_assert_eq(pm_mkdir_p(sub, NULL), 0);
        cr_assert_eq(pm_test_write_file(cfg, "{\"build_system\": \"bazel\", \"subprojects\": "
                                             "[{\"root\": \"tools/cli\", \"build_system\": "
                                             "\"cargo\"}]}\n"),
                     0);
        cli_fx_run(&fx, NULL, env,
                   (const char *[]){ "setup", "--print", "--root", root, "vscode", NULL }, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        j = cJSON_Parse(r.out);
        watch = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(j, "rust-analyzer.workspace.discoverConfig"),
                "filesToWatch");
        cr_assert(cli_strarr_has(watch, "BUILD.bazel") && cli_strarr_has(watch, "BUILD") &&
                          cli_strarr_has(watch, "MODULE.bazel") &&
                          cli_strarr_has(watch, "WORKSPACE") && cli_strarr_has(watch, "Cargo.toml"),
                  "%s", r.out);
        cr_assert(!cli_strarr_has(watch, "BUILD.gn") && !cli_strarr_has(watch, "BUCK"), "%s",
                  r.out);
        cJSON_Delete(j);
        cli_run_release(&r);
        for (const char *const *e = (const char *const[]){ "emacs", "neovim", "helix", NULL }; *e;
             e++) {
                cli_fx_run(&fx, NULL, env,
                           (const char *[]){ "setup", "--print", "--root", root, *e, NULL }, &r);
                cr_assert_eq(r.status, 0, "setup %s: %s", *e, r.err);
                cr_assert(strstr(r.out, "\"BUILD.bazel\"") && strstr(r.out, "\"Cargo.toml\"") &&
                                  !strstr(r.out, "\"BUILD.gn\""),
                          "setup %s:\n%s", *e, r.out);
                cli_run_release(&r);
        }
        pm_free(cfg);
        pm_free(sub);
        pm_free(root);
}
