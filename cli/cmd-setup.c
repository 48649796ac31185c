/* SPDX-License-Identifier: MIT */
/* `projmodel setup vscode|emacs|neovim|helix`: the editor configuration that makes rust-analyzer
 * run `projmodel discover {arg}`, merged into what is there (docs/cli.md, `setup`). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "cli-internal.h"

const char pm__cli_setup_usage[] =
        "setup [--root DIR] [--print] [--program PATH] vscode|emacs|neovim|helix";

enum {
        OPT_PRINT = 256,
        OPT_PROGRAM
};

static const struct pm__cli_opt setup_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root; default: found walking up from the working directory.",
          "setup --root ~/src/monorepo vscode" },
        { "print", no_argument, OPT_PRINT, NULL,
          "Print the configuration on stdout instead of writing it.", "setup --print neovim" },
        { "program", required_argument, OPT_PROGRAM, "PATH",
          "The projmodel rust-analyzer runs; default: the absolute path of this binary.",
          "setup --program /usr/bin/projmodel helix" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "setup --help" },
};

const struct pm__cli_spec pm__cli_setup_spec = PM__CLI_SPEC(
        "setup", pm__cli_setup_usage,
        "Write the editor configuration that points rust-analyzer at `projmodel discover`, "
        "merged into an existing settings file (docs/cli.md).",
        setup_opts_table);

/* Settings files bigger than this are not an editor's settings. */
#define SETUP_FILE_MAX (16u << 20)

/* The build files rust-analyzer watches, per build system (as editors/emacs/projmodel.el). */
static const struct {
        const char *system;
        const char *files[6];
} watch_table[] = {
        { "gn", { "BUILD.gn", ".gn" } },
        { "bazel", { "BUILD", "BUILD.bazel", "MODULE.bazel", "WORKSPACE", "WORKSPACE.bazel" } },
        { "buck2", { "BUCK", "TARGETS" } },
        { "cargo", { "Cargo.toml" } },
};

/* What every editor's configuration says. */
struct setup_info {
        const char *root;    /* borrowed from the config */
        const char *program; /* absolute */
        const char *watch[16];
        size_t n_watch;
};

static void
add_watch(struct setup_info *si, const char *system)
{
        for (size_t i = 0; system && i < sizeof(watch_table) / sizeof(watch_table[0]); i++) {
                if (strcmp(system, watch_table[i].system) != 0)
                        continue;
                for (size_t j = 0; watch_table[i].files[j]; j++) {
                        bool seen = false;

                        for (size_t k = 0; k < si->n_watch; k++)
                                seen = seen || strcmp(si->watch[k], watch_table[i].files[j]) == 0;
                        if (!seen && si->n_watch < sizeof(si->watch) / sizeof(si->watch[0]))
                                si->watch[si->n_watch++] = watch_table[i].files[j];
                }
        }
}

/* The discoverConfig object (caller owns it), or NULL on out of memory. */
static cJSON *
discover_config(const struct setup_info *si)
{
        const char *cmd[] = { si->program, "discover", "{arg}" };
        cJSON *dc = cJSON_CreateObject();
        cJSON *c = cJSON_CreateStringArray(cmd, 3);
        cJSON *w = cJSON_CreateStringArray(si->watch, (int)si->n_watch);

        if (!dc || !c || !w || !cJSON_AddItemToObject(dc, "command", c)) {
                cJSON_Delete(dc);
                cJSON_Delete(c);
                cJSON_Delete(w);
                return NULL;
        }
        if (!cJSON_AddStringToObject(dc, "progressLabel", "projmodel")) {
                cJSON_Delete(dc);
                cJSON_Delete(w);
                return NULL;
        }
        if (!cJSON_AddItemToObject(dc, "filesToWatch", w)) {
                cJSON_Delete(dc);
                cJSON_Delete(w);
                return NULL;
        }
        return dc;
}

/* @s as a double-quoted string for Lua, Emacs Lisp and TOML (their common escapes). */
static int
add_quoted(struct pm_strbuf *sb, const char *s)
{
        int r = pm_strbuf_addch(sb, '"');

        for (; r == 0 && *s; s++) {
                if (*s == '"' || *s == '\\')
                        r = pm_strbuf_addch(sb, '\\');
                if (r == 0)
                        r = pm_strbuf_addch(sb, *s);
        }
        return r < 0 ? r : pm_strbuf_addch(sb, '"');
}

/* The quoted watch list joined by @sep. */
static int
add_watch_list(struct pm_strbuf *sb, const struct setup_info *si, const char *sep)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < si->n_watch; i++) {
                if (i)
                        r = pm_strbuf_adds(sb, sep);
                if (r == 0)
                        r = add_quoted(sb, si->watch[i]);
        }
        return r;
}

/* Read @path into @sb; a missing file leaves it empty and sets *exists to false. */
static int
read_existing(const char *path, struct pm_strbuf *sb, bool *exists, struct pm_error *err)
{
        struct stat st;

        *exists = stat(path, &st) == 0;
        if (!*exists)
                return errno == ENOENT ? 0
                                       : pm_error_set(err, -errno, "%s: %s", path, strerror(errno));
        return pm_strbuf_read_file(sb, path, SETUP_FILE_MAX, err);
}

/* .vscode/settings.json with "rust-analyzer.workspace.discoverConfig" set, every other key kept. */
static int
render_vscode(const struct setup_info *si, const char *path, const struct pm_strbuf *old,
              bool exists, struct pm_strbuf *out, struct pm_error *err)
{
        static const char key[] = "rust-analyzer.workspace.discoverConfig";
        cJSON *doc = NULL, *dc = NULL;
        char *text = NULL;
        int r = 0;

        if (exists && old->len > 0) {
                /* The whole file must be the object: text after it would be lost on write. */
                if (strlen(old->buf) == old->len)
                        doc = cJSON_ParseWithOpts(old->buf, NULL, 1);
                if (!cJSON_IsObject(doc)) {
                        r = pm_error_set(err, PM_EPARAMS,
                                         "%s: not a JSON object (comments and trailing commas "
                                         "are not merged); left unchanged",
                                         path);
                        goto out;
                }
        } else if (!(doc = cJSON_CreateObject())) {
                goto oom;
        }
        if (!(dc = discover_config(si)))
                goto oom;
        /* Already what we would write: keep the file as it is, formatting included. */
        if (cJSON_Compare(cJSON_GetObjectItemCaseSensitive(doc, key), dc, 1)) {
                if (pm_strbuf_add(out, old->buf, old->len) < 0)
                        goto oom;
                goto out;
        }
        if (cJSON_GetObjectItemCaseSensitive(doc, key)) {
                if (!cJSON_ReplaceItemInObjectCaseSensitive(doc, key, dc))
                        goto oom;
        } else if (!cJSON_AddItemToObject(doc, key, dc)) {
                goto oom;
        }
        dc = NULL;
        if (!(text = cJSON_Print(doc)))
                goto oom;
        /* cJSON indents with tabs; VS Code reads them and keeps its own formatting on edit. */
        if (pm_strbuf_adds(out, text) < 0 || pm_strbuf_addch(out, '\n') < 0)
                goto oom;
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        cJSON_free(text);
        cJSON_Delete(dc);
        cJSON_Delete(doc);
        return r;
}

#define HELIX_BEGIN "# projmodel setup: begin (written by `projmodel setup helix`)\n"
#define HELIX_END   "# projmodel setup: end\n"

/* .helix/languages.toml: projmodel's block replaced or appended; the rest kept byte for byte. */
static int
render_helix(const struct setup_info *si, const char *path, const struct pm_strbuf *old,
             struct pm_strbuf *out, struct pm_error *err)
{
        static const char table[] =
                "[language-server.rust-analyzer.config.workspace.discoverConfig]";
        const char *text = old->buf ? old->buf : "";
        const char *begin = strstr(text, HELIX_BEGIN), *end = NULL;
        struct pm_strbuf block = PM_STRBUF_INIT;
        int r;

        if (begin)
                end = strstr(begin, HELIX_END);
        if (begin && !end)
                return pm_error_set(err, PM_EPARAMS,
                                    "%s: projmodel's block has no end line '%.*s'; left unchanged",
                                    path, (int)strlen(HELIX_END) - 1, HELIX_END);
        /* The same table outside our block would be a TOML duplicate: the user's to resolve. */
        {
                const char *t = strstr(text, table);

                if (t && (!begin || t < begin || t > end))
                        return pm_error_set(err, PM_EPARAMS,
                                            "%s: already sets %s outside projmodel's block; "
                                            "left unchanged",
                                            path, table);
        }
        r = pm_strbuf_adds(&block, HELIX_BEGIN);
        r = r ? r : pm_strbuf_addf(&block, "%s\ncommand = [", table);
        r = r ? r : add_quoted(&block, si->program);
        r = r ? r
              : pm_strbuf_adds(&block, ", \"discover\", \"{arg}\"]\nprogressLabel = "
                                       "\"projmodel\"\nfilesToWatch = [");
        r = r ? r : add_watch_list(&block, si, ", ");
        r = r ? r : pm_strbuf_adds(&block, "]\n" HELIX_END);
        if (begin) {
                r = r ? r : pm_strbuf_add(out, text, (size_t)(begin - text));
                r = r ? r : pm_strbuf_add(out, block.buf, block.len);
                r = r ? r : pm_strbuf_adds(out, end + strlen(HELIX_END));
        } else {
                r = r ? r : pm_strbuf_add(out, text, old->len);
                if (r == 0 && old->len > 0)
                        r = pm_strbuf_adds(out, text[old->len - 1] == '\n' ? "\n" : "\n\n");
                r = r ? r : pm_strbuf_add(out, block.buf, block.len);
        }
        pm_strbuf_release(&block);
        return r < 0 ? pm_error_set(err, -ENOMEM, "out of memory") : 0;
}

#define OWNED_MARK "written by `projmodel setup"

/* Neovim: a plugin file starting rust-analyzer for the root's Rust buffers with the
 * discoverConfig in init_options (vim.lsp.start on 0.8+, vim.lsp.start_client on 0.7). */
static int
render_neovim(const struct setup_info *si, struct pm_strbuf *out)
{
        int r = pm_strbuf_adds(
                out, "-- rust-analyzer with projmodel as its project discovery (" OWNED_MARK
                     " neovim`).\nlocal root = ");

        r = r ? r : add_quoted(out, si->root);
        r = r ? r : pm_strbuf_adds(out, "\nlocal discover = {\n  command = { ");
        r = r ? r : add_quoted(out, si->program);
        r = r ? r
              : pm_strbuf_adds(out, ", \"discover\", \"{arg}\" },\n  progressLabel = "
                                    "\"projmodel\",\n  filesToWatch = { ");
        r = r ? r : add_watch_list(out, si, ", ");
        r = r ? r
              : pm_strbuf_adds(
                        out,
                        " },\n}\nlocal client_id\n"
                        "vim.api.nvim_create_autocmd(\"FileType\", {\n"
                        "  pattern = \"rust\",\n"
                        "  callback = function(args)\n"
                        "    local name = vim.api.nvim_buf_get_name(args.buf)\n"
                        "    if name:sub(1, #root + 1) ~= root .. \"/\" then return end\n"
                        "    local config = {\n"
                        "      name = \"rust-analyzer\",\n"
                        "      cmd = vim.g.projmodel_rust_analyzer_cmd or { \"rust-analyzer\" },\n"
                        "      root_dir = root,\n"
                        "      init_options = { workspace = { discoverConfig = discover } },\n"
                        "    }\n"
                        "    if vim.lsp.start then\n"
                        "      vim.lsp.start(config, { bufnr = args.buf })\n"
                        "    else\n"
                        "      client_id = client_id or vim.lsp.start_client(config)\n"
                        "      if client_id then vim.lsp.buf_attach_client(args.buf, client_id) end\n"
                        "    end\n"
                        "  end,\n"
                        "})\n");
        return r;
}

/* Emacs: eglot starts rust-analyzer with the discoverConfig in its initializationOptions. */
static int
render_emacs(const struct setup_info *si, struct pm_strbuf *out)
{
        int r = pm_strbuf_adds(out, ";;; projmodel-setup.el --- rust-analyzer with projmodel "
                                    "discover  -*- lexical-binding: t -*-\n;; " OWNED_MARK
                                    " emacs'.\n;;; Code:\n(with-eval-after-load 'eglot\n"
                                    "  (add-to-list 'eglot-server-programs\n"
                                    "               '((rust-mode rust-ts-mode)\n"
                                    "                 . (\"rust-analyzer\" :initializationOptions\n"
                                    "                    (:workspace (:discoverConfig (:command [");

        r = r ? r : add_quoted(out, si->program);
        r = r ? r
              : pm_strbuf_adds(out, " \"discover\" \"{arg}\"] :progressLabel \"projmodel\" "
                                    ":filesToWatch [");
        r = r ? r : add_watch_list(out, si, " ");
        r = r ? r
              : pm_strbuf_adds(out, "])))))))\n(provide 'projmodel-setup)\n"
                                    ";;; projmodel-setup.el ends here\n");
        return r;
}

/* $XDG_CONFIG_HOME (or ~/.config) + "/" + @rel, pm_malloc'd; NULL with @err set. */
static char *
config_path(const char *rel, struct pm_error *err)
{
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *p = NULL;

        if (xdg && xdg[0] == '/')
                p = pm_asprintf("%s/%s", xdg, rel);
        else if (home && home[0] == '/')
                p = pm_asprintf("%s/.config/%s", home, rel);
        else {
                (void)pm_error_set(err, PM_EPARAMS, "neither XDG_CONFIG_HOME nor HOME is set");
                return NULL;
        }
        if (!p)
                (void)pm_error_set(err, -ENOMEM, "out of memory");
        return p;
}

/* Write @data to @path (its directory made first) unless it already holds exactly that. */
static int
write_if_changed(const char *path, const struct pm_strbuf *old, bool exists,
                 const struct pm_strbuf *data, bool *changed, struct pm_error *err)
{
        char *dir = NULL, *slash;
        int r;

        *changed =
                !(exists && old->len == data->len && memcmp(old->buf, data->buf, data->len) == 0);
        if (!*changed)
                return 0;
        if (!(dir = pm_strdup(path)))
                return pm_error_set(err, -ENOMEM, "out of memory");
        slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = '\0';
        r = pm_mkdir_p(dir, err);
        pm_free(dir);
        if (r < 0)
                return r;
        return pm_write_file_atomic(path, data->buf, data->len, err);
}

static int
run_setup(const char *editor, const char *root_opt, const char *program_opt, bool print,
          struct pm_error *err)
{
        struct setup_info si = { 0 };
        struct pm_strbuf old = PM_STRBUF_INIT, out = PM_STRBUF_INIT;
        struct pm_config *cfg = NULL;
        char *self = NULL, *path = NULL;
        bool exists = false, changed = false;
        int r;

        r = pm__cli_load_config(root_opt, NULL, &cfg, err);
        if (r < 0)
                goto out;
        si.root = cfg->root;
        for (size_t i = 0; i < cfg->n_projects; i++)
                add_watch(&si, cfg->projects[i].build_system);
        /* An absolute program: rust-analyzer's environment need not have projmodel on PATH. */
        self = program_opt ? pm__cli_abspath(program_opt) : pm_path_self_exe();
        if (!self) {
                r = pm_error_set(err, errno == ENOMEM ? -ENOMEM : PM_EPARAMS,
                                 "cannot name the projmodel binary; pass --program PATH");
                goto out;
        }
        si.program = self;

        if (strcmp(editor, "vscode") == 0)
                path = pm_asprintf("%s/.vscode/settings.json", cfg->root);
        else if (strcmp(editor, "helix") == 0)
                path = pm_asprintf("%s/.helix/languages.toml", cfg->root);
        else if (strcmp(editor, "neovim") == 0)
                path = config_path("nvim/plugin/projmodel.lua", err);
        else
                path = config_path("emacs/projmodel-setup.el", err);
        if (!path) {
                r = err->code ? err->code : pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = read_existing(path, &old, &exists, err);
        if (r < 0)
                goto out;
        if (strcmp(editor, "vscode") == 0)
                r = render_vscode(&si, path, &old, exists, &out, err);
        else if (strcmp(editor, "helix") == 0)
                r = render_helix(&si, path, &old, &out, err);
        else {
                /* A whole file of ours: never overwrite one the user wrote. */
                if (exists && !strstr(old.buf ? old.buf : "", OWNED_MARK)) {
                        r = pm_error_set(err, PM_EPARAMS,
                                         "%s: exists and was not written by projmodel setup; "
                                         "left unchanged",
                                         path);
                        goto out;
                }
                r = strcmp(editor, "neovim") == 0 ? render_neovim(&si, &out)
                                                  : render_emacs(&si, &out);
                if (r < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        }
        if (r < 0)
                goto out;
        if (print) {
                (void)fwrite(out.buf, 1, out.len, stdout);
                goto out;
        }
        r = write_if_changed(path, &old, exists, &out, &changed, err);
        if (r < 0)
                goto out;
        (void)printf("%s: %s\n", changed ? "wrote" : "unchanged", path);
        if (strcmp(editor, "emacs") == 0)
                (void)printf("add (load \"%s\") to your Emacs init file\n", path);
out:
        pm_strbuf_release(&old);
        pm_strbuf_release(&out);
        pm_free(path);
        pm_free(self);
        pm_config_free(cfg);
        return r;
}

int
pm__cli_cmd_setup(const struct pm__cli_globals *gl, int argc, char **argv)
{
        struct option longopts[sizeof(setup_opts_table) / sizeof(setup_opts_table[0]) + 1];
        static const char *const editors[] = { "vscode", "emacs", "neovim", "helix" };
        const char *root = gl->root, *program = NULL;
        struct pm_error err;
        bool print = false, known = false;
        int c;

        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_setup_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        root = optarg;
                        break;
                case OPT_PRINT:
                        print = true;
                        break;
                case OPT_PROGRAM:
                        program = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_setup_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_setup_spec, argc, argv, NULL);
                }
        }
        if (argc - optind != 1)
                return pm__cli_usage_error("setup", pm__cli_setup_usage,
                                           "expected one editor: vscode, emacs, neovim or helix");
        for (size_t i = 0; i < sizeof(editors) / sizeof(editors[0]); i++)
                known = known || strcmp(argv[optind], editors[i]) == 0;
        if (!known)
                return pm__cli_usage_error("setup", pm__cli_setup_usage,
                                           "unknown editor '%s': expected vscode, emacs, neovim "
                                           "or helix",
                                           argv[optind]);
        if (run_setup(argv[optind], root, program, print, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
