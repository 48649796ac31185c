/* SPDX-License-Identifier: MIT */
/* The Cargo adapter against the real `cargo metadata --offline` on path-only workspaces the
 * tests write: renamed deps, features, proc macros, build scripts, dev/build-only deps,
 * non-members; bad input; the exported project's validity and a rustc type-check of it. Over 800
 * lines because it is the one adapter's tests on one fixture (struct fx, the workspaces it
 * writes): cargo's output has that many shapes, each a test of a few dozen lines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "rustc-check.h"
#include "testlib.h"

struct fx {
        char *tmp;  /* holds ws/ (the project root) and ext/ (outside the workspace) */
        char *root; /* tmp/ws */
        struct pm_config *cfg;
        struct pm_graph *g;
        struct pm_error err;
        char *metadata; /* cargo metadata stdout */
};

static const struct {
        const char *path;
        const char *content;
} workspace[] = {
        { "ws/Cargo.toml", "[workspace]\nmembers = [\"foo\", \"app\", \"mac\", \"devonly\", "
                           "\"buildonly\"]\nresolver = \"2\"\n" },
        { "ws/foo/Cargo.toml", "[package]\nname = \"foo\"\nversion = \"0.2.1\"\nedition = "
                               "\"2021\"\ndescription = \"the foo crate\"\nauthors = [\"A <a@x>\", "
                               "\"B\"]\n\n[features]\ndefault = [\"std\"]\nstd = []\nextra = []\n"
                               "unused = []\n" },
        { "ws/foo/build.rs", "fn main() {}\n" },
        { "ws/foo/src/lib.rs",
          "pub const NAME: &str = env!(\"CARGO_PKG_NAME\");\n"
          "pub const DESC: &str = env!(\"CARGO_PKG_DESCRIPTION\");\n"
          "#[cfg(feature = \"std\")]\npub fn f() -> u32 { 1 }\n"
          "#[cfg(feature = \"extra\")]\npub fn extra() -> u32 { 2 }\n"
          "#[cfg(feature = \"unused\")]\ncompile_error!(\"feature unused is not enabled\");\n" },
        { "ws/mac/Cargo.toml", "[package]\nname = \"my-mac\"\nversion = \"1.0.0-beta.1\"\n"
                               "edition = \"2018\"\n\n[lib]\nproc-macro = true\n" },
        { "ws/mac/src/lib.rs", "extern crate proc_macro;\nuse proc_macro::TokenStream;\n"
                               "#[proc_macro]\npub fn m(_i: TokenStream) -> TokenStream {\n"
                               "    \"40u32\".parse().unwrap()\n}\n" },
        { "ws/app/Cargo.toml",
          "[package]\nname = \"app-x\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n"
          "[dependencies]\nfoo2 = { package = \"foo\", path = \"../foo\", features = "
          "[\"extra\"] }\nmy-mac = { path = \"../mac\" }\nvlib = { path = \"../../ext/vlib\" }\n\n"
          "[dev-dependencies]\ndevonly = { path = \"../devonly\" }\n\n"
          "[build-dependencies]\nbuildonly = { path = \"../buildonly\" }\n\n"
          "[[bin]]\nname = \"app-cli\"\npath = \"src/main.rs\"\n" },
        { "ws/app/build.rs", "fn main() { buildonly::b(); }\n" },
        { "ws/app/src/lib.rs",
          "pub const VERSION: &str = env!(\"CARGO_PKG_VERSION\");\n"
          "pub fn g() -> u32 { foo2::f() + foo2::extra() + my_mac::m!() + vlib::V }\n" },
        { "ws/app/src/main.rs", "fn main() {\n    println!(\"{} {} {}\", env!(\"CARGO_BIN_NAME\"), "
                                "app_x::VERSION, app_x::g());\n}\n" },
        { "ws/devonly/Cargo.toml",
          "[package]\nname = \"devonly\"\nversion = \"0.0.1\"\nedition = \"2021\"\n" },
        { "ws/devonly/src/lib.rs", "pub fn d() {}\n" },
        { "ws/buildonly/Cargo.toml",
          "[package]\nname = \"buildonly\"\nversion = \"0.0.1\"\nedition = \"2015\"\n" },
        { "ws/buildonly/src/lib.rs", "pub fn b() {}\n" },
        { "ext/vlib/Cargo.toml",
          "[package]\nname = \"vlib\"\nversion = \"3.0.0\"\nedition = \"2021\"\n\n[workspace]\n" },
        { "ext/vlib/src/lib.rs", "pub const V: u32 = 3;\n" },
};

static char *
run_cargo_metadata(const char *root)
{
        char *manifest = pm_test_strf("%s/Cargo.toml", root), *out = NULL, *errout = NULL;
        const char *argv[] = { "cargo",     "metadata",        "--format-version", "1",
                               "--offline", "--manifest-path", manifest,           NULL };
        int st = pm_test_run(argv, root, NULL, NULL, &out, &errout);

        cr_assert_eq(st, 0, "cargo metadata failed (%d): %s", st, errout ? errout : "");
        pm_free(errout);
        pm_free(manifest);
        return out;
}

/* Write the workspace, load its configuration (@projmodel_json or detection) and run cargo. */
static void
fx_init(struct fx *fx, const char *projmodel_json)
{
        struct pm_error err;

        memset(fx, 0, sizeof(*fx));
        fx->tmp = pm_test_mkdtemp();
        cr_assert_not_null(fx->tmp);
        for (size_t i = 0; i < sizeof(workspace) / sizeof(workspace[0]); i++) {
                char *p = pm_test_strf("%s/%s", fx->tmp, workspace[i].path);

                cr_assert_eq(pm_test_write_file(p, workspace[i].content), 0);
                pm_free(p);
        }
        fx->root = pm_test_strf("%s/ws", fx->tmp);
        if (projmodel_json) {
                char *p = pm_test_strf("%s/.projmodel.json", fx->root);

                cr_assert_eq(pm_test_write_file(p, projmodel_json), 0);
                pm_free(p);
        }
        pm_error_init(&err);
        cr_assert_eq(pm_config_load(fx->root, &fx->cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(fx->cfg, &err), 0, "%s", err.msg);
        cr_assert_str_eq(fx->cfg->projects[0].build_system, "cargo");
        fx->metadata = run_cargo_metadata(fx->root);
}

static void
fx_release(struct fx *fx)
{
        pm_graph_free(fx->g);
        pm_config_free(fx->cfg);
        pm_free(fx->metadata);
        if (fx->tmp)
                (void)pm_test_rmtree(fx->tmp);
        pm_free(fx->tmp);
        pm_free(fx->root);
}

static int
fx_parse(struct fx *fx, const char *text)
{
        pm_graph_free(fx->g);
        fx->g = NULL;
        pm_error_init(&fx->err);
        return pm_adapter_parse_captured(fx->cfg, &fx->cfg->projects[0], text, strlen(text),
                                         "metadata.json", &fx->g, &fx->err);
}

static struct pm_crate *
crate(const struct fx *fx, const char *label)
{
        struct pm_crate *c = pm_graph_find(fx->g, label);

        cr_assert_not_null(c, "no crate '%s'", label);
        return c;
}

static void
assert_path(const struct fx *fx, const char *actual, const char *rel)
{
        char *p = pm_test_strf("%s/%s", fx->root, rel);

        cr_assert_not_null(actual);
        cr_assert_str_eq(actual, p);
        pm_free(p);
}

#define FOO   "cargo:.#foo@0.2.1"
#define MAC   "cargo:.#my-mac@1.0.0-beta.1"
#define APP   "cargo:.#app-x@0.1.0"
#define CLI   "cargo:.#app-x@0.1.0:bin:app-cli"
#define VLIB  "cargo:.#vlib@3.0.0"
#define DEV   "cargo:.#devonly@0.0.1"
#define BUILD "cargo:.#buildonly@0.0.1"

Test(cargo_parse, real_workspace)
{
        struct pm_crate *c;
        struct fx fx;
        char *p;

        fx_init(&fx, NULL);
        cr_assert_eq(fx_parse(&fx, fx.metadata), 0, "%s", fx.err.msg);
        /* foo, my-mac, app-x's lib and bin, devonly, buildonly, vlib; build scripts are no
         * crates. */
        cr_assert_eq(fx.g->n_crates, 7);

        c = crate(&fx, FOO);
        cr_assert_str_eq(c->build_system, "cargo");
        cr_assert_eq(c->kind, PM_CRATE_LIB);
        cr_assert_str_eq(c->crate_name, "foo");
        cr_assert_str_eq(c->edition, "2021");
        assert_path(&fx, c->root_module, "foo/src/lib.rs");
        assert_path(&fx, c->build_file, "foo/Cargo.toml");
        assert_path(&fx, c->include_dirs.v[0], "foo");
        cr_assert(c->is_workspace_member);
        /* app enables "extra" on its renamed dep: the unified features apply to foo. */
        cr_assert(pm_strlist_contains(&c->cfgs, "feature=\"std\""));
        cr_assert(pm_strlist_contains(&c->cfgs, "feature=\"default\""));
        cr_assert(pm_strlist_contains(&c->cfgs, "feature=\"extra\""));
        cr_assert_not(pm_strlist_contains(&c->cfgs, "feature=\"unused\""));
        cr_assert_not_null(c->note);
        cr_assert(strstr(c->note, "build script not run by projmodel") != NULL, "%s", c->note);
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_NAME"), "foo");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_VERSION"), "0.2.1");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_VERSION_MINOR"), "2");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_DESCRIPTION"), "the foo crate");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_AUTHORS"), "A <a@x>:B");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_CRATE_NAME"), "foo");
        assert_path(&fx, pm_kvlist_get(&c->env, "CARGO_MANIFEST_DIR"), "foo");
        cr_assert_eq(c->n_deps, 0);

        c = crate(&fx, MAC);
        cr_assert_eq(c->kind, PM_CRATE_PROC_MACRO);
        cr_assert_str_eq(c->crate_name, "my_mac");
        cr_assert_str_eq(c->display_name, "my_mac");
        cr_assert_str_eq(c->edition, "2018");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_VERSION_PRE"), "beta.1");
        cr_assert_not_null(c->note);

        c = crate(&fx, APP);
        cr_assert_str_eq(c->crate_name, "app_x");
        cr_assert_str_eq(c->edition, "2024");
        cr_assert(pm_test_crate_has_dep(c, FOO, "foo2"), "the rename keeps its extern name");
        cr_assert(pm_test_crate_has_dep(c, MAC, NULL));
        cr_assert(pm_test_crate_has_dep(c, VLIB, NULL));
        cr_assert_eq(c->n_deps, 3, "no dev- or build-only deps");
        cr_assert_not_null(c->note, "app has a build script too");

        c = crate(&fx, CLI);
        cr_assert_eq(c->kind, PM_CRATE_BIN);
        cr_assert_str_eq(c->crate_name, "app_cli");
        cr_assert_str_eq(c->display_name, "app-cli");
        assert_path(&fx, c->root_module, "app/src/main.rs");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_BIN_NAME"), "app-cli");
        cr_assert(pm_test_crate_has_dep(c, APP, NULL), "a bin depends on its package's lib");
        cr_assert(pm_test_crate_has_dep(c, FOO, "foo2"));
        cr_assert_eq(c->n_deps, 4);

        c = crate(&fx, VLIB);
        cr_assert_not(c->is_workspace_member);
        cr_assert_null(pm_kvlist_get(&c->env, "CARGO_PRIMARY_PACKAGE"));
        cr_assert(crate(&fx, DEV)->is_workspace_member);
        cr_assert_eq(crate(&fx, BUILD)->edition[3], '5');

        p = pm_test_strf("%s/Cargo.lock", fx.root);
        cr_assert(pm_strlist_contains(&fx.g->build_files, p));
        pm_free(p);
        p = pm_test_strf("%s/app/Cargo.toml", fx.root);
        cr_assert(pm_strlist_contains(&fx.g->build_files, p));
        pm_free(p);
        cr_assert_eq(pm_graph_validate(fx.g, false, &fx.err), 0, "%s", fx.err.msg);
        fx_release(&fx);
}

Test(cargo_parse, exported_project_validates_and_type_checks, .timeout = 240)
{
        struct pm_writer_options opts = { 0 };
        struct pm_strbuf out = PM_STRBUF_INIT;
        char *work;
        struct fx fx;

        fx_init(&fx, NULL);
        cr_assert_eq(fx_parse(&fx, fx.metadata), 0, "%s", fx.err.msg);
        opts.proc_macro_cwd = fx.root;
        cr_assert_eq(pm_writer_render(fx.g, &opts, &out, &fx.err), 0, "%s", fx.err.msg);
        work = pm_test_strf("%s/rustc-work", fx.tmp);
        pm_test_assert_project_checks(out.buf, out.len, work);
        pm_free(work);
        pm_strbuf_release(&out);
        fx_release(&fx);
}

/* The adapter's own plan, run for real, parsed as live (not captured) output. */
Test(cargo_parse, planned_command_runs)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("cargo");
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_blob blob = { 0 };
        char *out = NULL, *errout = NULL;
        struct fx fx;
        int st;

        fx_init(&fx, NULL);
        q.config = fx.cfg;
        q.project = &fx.cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &fx.err), 0, "%s", fx.err.msg);
        st = pm_test_run((const char *const *)plan.steps[0].argv, plan.steps[0].cwd, NULL, NULL,
                         &out, &errout);
        cr_assert_eq(st, 0, "%s", errout);
        blob.data = out;
        blob.len = strlen(out);
        blob.origin = "cargo metadata";
        cr_assert_eq(ops->parse(&q, &blob, 1, &fx.g, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->n_crates, 7);
        pm_free(out);
        pm_free(errout);
        pm_plan_release(&plan);
        fx_release(&fx);
}

/* A refresh that announces `cargo check` counts from the `cargo metadata` JSON (query_builds)
 * and keeps it in q.memo, and the parse takes it from there: the JSON is parsed once
 * (include/projmodel/adapter.h, struct pm_query). */
Test(cargo_parse, query_builds_keeps_the_metadata_json_for_the_parse)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("cargo");
        struct pm_query_memo memo = { 0 };
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_blob blobs[PM_PLAN_MAX_STEPS];
        size_t n_pm = 0, n_od = 0;
        char *out = NULL, *errout = NULL;
        struct fx fx;
        int st;

        memset(blobs, 0, sizeof(blobs));
        fx_init(&fx, NULL);
        q.config = fx.cfg;
        q.project = &fx.cfg->projects[0];
        q.memo = &memo;
        cr_assert_eq(ops->plan(&q, &plan, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_geq(plan.n_steps, 2);
        st = pm_test_run((const char *const *)plan.steps[0].argv, plan.steps[0].cwd, NULL, NULL,
                         &out, &errout);
        cr_assert_eq(st, 0, "%s", errout);
        blobs[0].data = out;
        blobs[0].len = strlen(out);
        blobs[0].origin = "cargo metadata";
        /* The check is the plan's last step, announced from the output of those before it,
         * and the only one marked as building (struct pm_step): a refresh counts no other. */
        for (size_t i = 0; i < plan.n_steps; i++)
                cr_assert_eq(plan.steps[i].builds, i == plan.n_steps - 1, "step %zu", i);
        cr_assert_eq(ops->query_builds(&q, plan.n_steps - 1, blobs, plan.n_steps - 1, &n_pm, &n_od,
                                       &fx.err),
                     1, "%s", fx.err.msg);
        cr_assert_not_null(memo.data, "the metadata JSON was not kept for the parse");
        cr_assert_not_null(memo.free);
        cr_assert_eq(ops->parse(&q, blobs, 1, &fx.g, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_null(memo.data, "the parse did not take the kept JSON");
        cr_assert_eq(fx.g->n_crates, 7);
        pm_free(out);
        pm_free(errout);
        pm_plan_release(&plan);
        fx_release(&fx);
}

Test(cargo_parse, subproject_labels_use_its_root)
{
        struct pm_error err;
        struct pm_config *cfg = NULL;
        const struct pm_project *p;
        struct pm_graph *g = NULL;
        struct fx fx;
        char *mono;

        fx_init(&fx, NULL);
        /* The same workspace as a subproject "ws" of a monorepo rooted at its parent. */
        mono = pm_test_strf("%s/.projmodel.json", fx.tmp);
        cr_assert_eq(pm_test_write_file(mono, "{\"build_system\": \"cargo\", \"subprojects\": "
                                              "[{\"root\": \"ws\", \"build_system\": \"cargo\"}]}"),
                     0);
        pm_error_init(&err);
        cr_assert_eq(pm_config_load(fx.tmp, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        p = pm_config_project_for_path(cfg, fx.root);
        cr_assert_not_null(p);
        cr_assert_str_eq(p->rel, "ws");
        cr_assert_eq(pm_adapter_parse_captured(cfg, p, fx.metadata, strlen(fx.metadata), "m.json",
                                               &g, &err),
                     0, "%s", err.msg);
        cr_assert_not_null(pm_graph_find(g, "cargo:ws#foo@0.2.1"));
        cr_assert_not_null(pm_graph_find(g, "cargo:ws#app-x@0.1.0:bin:app-cli"));
        pm_graph_free(g);
        pm_config_free(cfg);
        pm_free(mono);
        fx_release(&fx);
}

static void
expect_bad(struct fx *fx, const char *text, const char *needle)
{
        cr_assert_eq(fx_parse(fx, text), PM_EBADTOOLOUTPUT, "want '%s', got %s", needle,
                     fx->err.msg);
        cr_assert_null(fx->g);
        cr_assert_str_eq(fx->err.file, "metadata.json");
        cr_assert(strstr(fx->err.msg, needle) != NULL, "'%s' not in '%s'", needle, fx->err.msg);
}

/* The real output with @from replaced by @to (first occurrence). */
static char *
edit(const struct fx *fx, const char *from, const char *to)
{
        const char *at = strstr(fx->metadata, from);

        cr_assert_not_null(at, "'%s' not in the metadata", from);
        return pm_test_strf("%.*s%s%s", (int)(at - fx->metadata), fx->metadata, to,
                            at + strlen(from));
}

Test(cargo_parse, malformed_output)
{
        struct fx fx;
        char *t, *id;
        size_t half;

        fx_init(&fx, NULL);
        half = strlen(fx.metadata) / 2;
        t = pm_test_strf("%.*s", (int)half, fx.metadata);
        cr_assert_eq(fx_parse(&fx, t), PM_EBADTOOLOUTPUT);
        cr_assert_str_eq(fx.err.file, "metadata.json");
        cr_assert(strstr(fx.err.msg, "not valid JSON") != NULL, "%s", fx.err.msg);
        pm_free(t);

        expect_bad(&fx, "[]", "no 'packages' list");
        expect_bad(&fx, "{\"packages\": {}}", "no 'packages' list");
        t = edit(&fx, "\"resolve\":{", "\"resolve\":null,\"x\":{");
        expect_bad(&fx, t, "no 'resolve' graph");
        pm_free(t);
        t = edit(&fx, "\"src_path\":", "\"src_path\":7,\"x\":");
        expect_bad(&fx, t, "no absolute 'src_path'");
        cr_assert(strstr(fx.err.msg, "package '") != NULL, "names the package: %s", fx.err.msg);
        pm_free(t);
        t = edit(&fx, "\"edition\":\"2021\"", "\"edition\":\"2020\"");
        expect_bad(&fx, t, "edition '2020'");
        pm_free(t);
        t = edit(&fx, "\"targets\":[", "\"targets\":{},\"x\":[");
        expect_bad(&fx, t, "'targets' is not a list");
        pm_free(t);
        /* A resolve edge to a package that is not listed. */
        id = strstr(fx.metadata, "\"pkg\":\"");
        cr_assert_not_null(id);
        t = edit(&fx, "\"pkg\":\"", "\"pkg\":\"nope");
        expect_bad(&fx, t, "is not among the packages");
        pm_free(t);
        fx_release(&fx);
}

Test(cargo_plan, default_and_configured)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("cargo");
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_error err;
        struct pm_config *cfg = NULL;
        char *root = pm_test_mkdtemp(), *p, *manifest;

        p = pm_test_strf("%s/Cargo.toml", root);
        cr_assert_eq(pm_test_write_file(p, "[workspace]\n"), 0);
        cr_assert_eq(pm_adapter_detect(root), ops, "the Cargo.toml marker");
        pm_error_init(&err);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &err), 0, "%s", err.msg);
        manifest = pm_test_strf("%s/Cargo.toml", cfg->projects[0].root);
        pm_test_assert_argv(plan.steps[0].argv,
                            (const char *const[]){ "cargo", "metadata", "--format-version", "1",
                                                   "--offline", "--manifest-path", manifest,
                                                   NULL });
        cr_assert_str_eq(plan.steps[0].cwd, cfg->projects[0].root);
        pm_plan_release(&plan);
        pm_config_free(cfg);
        cfg = NULL;
        pm_free(p);

        /* The build step: projmodel's own target directory under cache_dir, one per root. */
        p = pm_test_strf("%s/.projmodel.json", root);
        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"cache_dir\": "
                                           "\"/cache\"}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        memset(&plan, 0, sizeof(plan));
        cr_assert_eq(ops->plan(&q, &plan, &err), 0, "%s", err.msg);
        cr_assert_eq(plan.n_steps, 3);
        cr_assert(plan.steps[2].optional);
        cr_assert_eq(plan.steps[2].ok_exit_codes[0], 101, "cargo's exit with partial output");
        cr_assert_str_eq(plan.steps[2].cwd, cfg->projects[0].root);
        cr_assert_eq(strncmp(plan.steps[2].argv[11], "/cache/cargo-", 13), 0, "%s",
                     plan.steps[2].argv[11]);
        pm_test_assert_argv(plan.steps[2].argv,
                            (const char *const[]){ "cargo", "check", "--quiet",
                                                   "--message-format=json", "--workspace",
                                                   "--all-targets", "--keep-going", "--offline",
                                                   "--manifest-path", manifest, "--target-dir",
                                                   plan.steps[2].argv[11], NULL });
        pm_plan_release(&plan);
        pm_config_free(cfg);
        cfg = NULL;

        /* "build_proc_macros": false: no build step. */
        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"cargo\": "
                                           "{\"build_proc_macros\": false}}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        memset(&plan, 0, sizeof(plan));
        cr_assert_eq(ops->plan(&q, &plan, &err), 0, "%s", err.msg);
        cr_assert_eq(plan.n_steps, 2);
        pm_plan_release(&plan);
        pm_config_free(cfg);
        cfg = NULL;

        /* Not a boolean: an error naming the file and key when the configuration loads. */
        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"subprojects\": "
                                           "[], \"cargo\": {\"build_proc_macros\": \"no\"}}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "key 'cargo.build_proc_macros' must be true or false") &&
                          strstr(err.msg, p),
                  "%s", err.msg);
        pm_config_free(cfg);
        cfg = NULL;

        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"cargo\": {\"command\": "
                                           "\"/opt/cargo\", \"features\": [\"a\", \"b/c\"], "
                                           "\"all_features\": true, \"offline\": false}}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        memset(&plan, 0, sizeof(plan));
        cr_assert_eq(ops->plan(&q, &plan, &err), 0, "%s", err.msg);
        pm_test_assert_argv(plan.steps[0].argv,
                            (const char *const[]){ "/opt/cargo", "metadata", "--format-version",
                                                   "1", "--manifest-path", manifest,
                                                   "--all-features", "--features", "a,b/c", NULL });
        pm_plan_release(&plan);
        pm_config_free(cfg);
        cfg = NULL;

        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"cargo\": "
                                           "{\"offline\": \"yes\"}}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        memset(&plan, 0, sizeof(plan));
        cr_assert_eq(ops->plan(&q, &plan, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "cargo.offline") != NULL, "%s", err.msg);
        cr_assert_eq(plan.n_steps, 0);
        pm_config_free(cfg);
        cfg = NULL;

        cr_assert_eq(pm_test_write_file(p, "{\"build_system\": \"cargo\", \"cargo\": "
                                           "{\"feature\": [\"a\"]}}"),
                     0);
        cr_assert_eq(pm_config_load(root, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), PM_ECONFIG);
        cr_assert(strstr(err.msg, "unknown key 'cargo.feature' in ") != NULL &&
                          strstr(err.msg, "(did you mean 'features'?)") != NULL,
                  "%s", err.msg);
        pm_config_free(cfg);
        pm_free(manifest);
        pm_free(p);
        (void)pm_test_rmtree(root);
        pm_free(root);
}

Test(cargo_parse, out_of_memory_is_reported_cleanly)
{
        struct fx fx;
        int r;

        pm_mem_install_hooks();
        fx_init(&fx, NULL);
        for (unsigned long n = 1;; n++) {
                pm_error_init(&fx.err);
                (void)pm_mem_fail_at(n);
                r = pm_adapter_parse_captured(fx.cfg, &fx.cfg->projects[0], fx.metadata,
                                              strlen(fx.metadata), "metadata.json", &fx.g, &fx.err);
                (void)pm_mem_fail_at(0);
                if (r == 0)
                        break;
                cr_assert_eq(r, -ENOMEM, "allocation %lu: %s", n, fx.err.msg);
                cr_assert_null(fx.g);
                cr_assert(n < 100000);
        }
        cr_assert_eq(fx.g->n_crates, 7);
        fx_release(&fx);
}

/*
 * Two packages of one name and version from different sources (a registry crate and a git fork,
 * say) must not share a label: each gets one naming its package id's hash, and the dependent's
 * edge goes to the package the resolve names.
 */
Test(cargo_parse, same_name_and_version_from_two_sources)
{
        struct fx fx;
        const char *a = "registry+https://example.invalid/index#dup@1.0.0";
        const char *b = "git+https://example.invalid/dup.git#dup@1.0.0";
        char *text, *git_manifest;
        const struct pm_crate *app = NULL;
        size_t n_dup = 0;

        fx_init(&fx, NULL);
        text = pm_test_strf(
                "{\"version\": 1, \"workspace_members\": [\"path+file://%s#app@0.1.0\"],"
                " \"workspace_root\": \"%s\", \"packages\": ["
                "{\"name\": \"dup\", \"version\": \"1.0.0\", \"id\": \"%s\", \"manifest_path\":"
                " \"%s/a/Cargo.toml\", \"edition\": \"2021\", \"dependencies\": [], \"features\": {},"
                " \"targets\": [{\"kind\": [\"lib\"], \"crate_types\": [\"lib\"], \"name\": \"dup\","
                " \"src_path\": \"%s/a/src/lib.rs\", \"edition\": \"2021\"}]},"
                "{\"name\": \"dup\", \"version\": \"1.0.0\", \"id\": \"%s\", \"manifest_path\":"
                " \"%s/b/Cargo.toml\", \"edition\": \"2021\", \"dependencies\": [], \"features\": {},"
                " \"targets\": [{\"kind\": [\"lib\"], \"crate_types\": [\"lib\"], \"name\": \"dup\","
                " \"src_path\": \"%s/b/src/lib.rs\", \"edition\": \"2021\"}]},"
                "{\"name\": \"app\", \"version\": \"0.1.0\", \"id\": \"path+file://%s#app@0.1.0\","
                " \"manifest_path\": \"%s/Cargo.toml\", \"edition\": \"2021\", \"dependencies\": [],"
                " \"features\": {}, \"targets\": [{\"kind\": [\"lib\"], \"crate_types\": [\"lib\"],"
                " \"name\": \"app\", \"src_path\": \"%s/src/lib.rs\", \"edition\": \"2021\"}]}],"
                " \"resolve\": {\"root\": null, \"nodes\": ["
                "{\"id\": \"%s\", \"deps\": [], \"features\": []},"
                "{\"id\": \"%s\", \"deps\": [], \"features\": []},"
                "{\"id\": \"path+file://%s#app@0.1.0\", \"features\": [], \"deps\": [{\"name\":"
                " \"dup\", \"pkg\": \"%s\", \"dep_kinds\": [{\"kind\": null, \"target\": null}]}]}]}}",
                fx.root, fx.root, a, fx.root, fx.root, b, fx.root, fx.root, fx.root, fx.root,
                fx.root, a, b, fx.root, b);
        cr_assert_eq(fx_parse(&fx, text), 0, "%s", fx.err.msg);
        for (size_t i = 0; i < fx.g->n_crates; i++) {
                const struct pm_crate *c = &fx.g->crates[i];

                if (strcmp(c->crate_name, "dup") == 0) {
                        n_dup++;
                        cr_assert(strncmp(c->label, "cargo:.#dup@1.0.0~", 18) == 0,
                                  "'%s' does not name its package id", c->label);
                }
                if (strcmp(c->crate_name, "app") == 0)
                        app = c;
        }
        cr_assert_eq(n_dup, 2);
        cr_assert_str_neq(pm_graph_find(fx.g, fx.g->crates[0].label)->label, fx.g->crates[1].label);
        cr_assert_not_null(app);
        cr_assert_eq(app->n_deps, 1);
        git_manifest = pm_test_strf("%s/b/Cargo.toml", fx.root);
        cr_assert_str_eq(pm_graph_find(fx.g, app->deps[0].label)->build_file, git_manifest,
                         "the edge goes to the git package the resolve names");
        pm_free(git_manifest);
        pm_free(text);
        fx_release(&fx);
}

/* Run one planned step as the daemon would (argv, cwd; no shell); its stdout, or "" if optional
 * and failed. */
static char *
run_step(const struct pm_step *st)
{
        char *out = NULL, *errout = NULL;
        int rc = pm_test_run((const char *const *)st->argv, st->cwd, NULL, NULL, &out, &errout);

        cr_assert(rc == 0 || st->optional, "%s failed (%d): %s", st->argv[0], rc, errout);
        pm_free(errout);
        if (rc != 0 || !out) {
                pm_free(out);
                out = pm_strdup("");
        }
        return out;
}

Test(cargo_parse, target_specific_dependencies_follow_the_target_cfg, .timeout = 120)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("cargo");
        char *tmp = pm_test_mkdtemp(), *host = NULL, *toml, *p, *outs[2];
        const char *host_argv[] = { "rustc", "--print", "host-tuple", NULL };
        const char *names[] = { "never", "win", "nix", "host" };
        struct pm_config *cfg = NULL;
        struct pm_query q = { 0 };
        struct pm_plan plan = { 0 };
        struct pm_graph *g = NULL;
        struct pm_blob blobs[2];
        struct pm_error err;
        struct pm_crate *top;

        cr_assert_eq(pm_test_run(host_argv, NULL, NULL, NULL, &host, NULL), 0);
        host[strcspn(host, "\n")] = '\0';
        toml = pm_test_strf(
                "[package]\nname = \"top\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                "[target.'cfg(any())'.dependencies]\nnever = { path = \"../never\" }\n\n"
                "[target.'cfg(windows)'.dependencies]\nwin = { path = \"../win\" }\n\n"
                "[target.'cfg(all(unix, not(target_os = \"macos\")))'.dependencies]\n"
                "nix = { path = \"../nix\" }\n\n"
                "[target.%s.dependencies]\nhost = { path = \"../host\" }\n",
                host);
        p = pm_test_strf("%s/ws/top/Cargo.toml", tmp);
        cr_assert_eq(pm_test_write_file(p, toml), 0);
        pm_free(p);
        p = pm_test_strf("%s/ws/Cargo.toml", tmp);
        cr_assert_eq(pm_test_write_file(p, "[workspace]\nmembers = [\"top\", \"never\", \"win\", "
                                           "\"nix\", \"host\"]\nresolver = \"2\"\n"),
                     0);
        pm_free(p);
        p = pm_test_strf("%s/ws/top/src/lib.rs", tmp);
        cr_assert_eq(pm_test_write_file(p, "pub fn t() {}\n"), 0);
        pm_free(p);
        for (size_t i = 0; i < 4; i++) {
                p = pm_test_strf("%s/ws/%s/Cargo.toml", tmp, names[i]);
                cr_assert_eq(pm_test_write_file(
                                     p, (toml = (pm_free(toml),
                                                 pm_test_strf("[package]\nname = \"%s\"\nversion "
                                                              "= \"0.1.0\"\nedition = \"2021\"\n",
                                                              names[i])))),
                             0);
                pm_free(p);
                p = pm_test_strf("%s/ws/%s/src/lib.rs", tmp, names[i]);
                cr_assert_eq(pm_test_write_file(p, "pub fn f() {}\n"), 0);
                pm_free(p);
        }
        p = pm_test_strf("%s/ws", tmp);
        pm_error_init(&err);
        cr_assert_eq(pm_config_load(p, &cfg, &err), 0, "%s", err.msg);
        cr_assert_eq(pm_adapter_resolve_config(cfg, &err), 0, "%s", err.msg);
        q.config = cfg;
        q.project = &cfg->projects[0];
        cr_assert_eq(ops->plan(&q, &plan, &err), 0, "%s", err.msg);
        /* metadata, the target's cfg, then the build step (not run here: cargo_build tests it). */
        cr_assert_eq(plan.n_steps, 3);
        for (size_t i = 0; i < 2; i++) {
                outs[i] = run_step(&plan.steps[i]);
                blobs[i] = (struct pm_blob){ .data = outs[i],
                                             .len = strlen(outs[i]),
                                             .origin = plan.steps[i].argv[0] };
        }
        cr_assert(strstr(outs[1], host) != NULL, "the target step names the host: %s", outs[1]);

        cr_assert_eq(ops->parse(&q, blobs, 2, &g, &err), 0, "%s", err.msg);
        top = pm_graph_find(g, "cargo:.#top@0.1.0");
        cr_assert_not_null(top);
        cr_assert(!pm_test_crate_has_dep(top, "cargo:.#never@0.1.0", NULL), "cfg(any()) is false");
        cr_assert(!pm_test_crate_has_dep(top, "cargo:.#win@0.1.0", NULL), "not windows");
        cr_assert(pm_test_crate_has_dep(top, "cargo:.#nix@0.1.0", NULL), "unix, not macos");
        cr_assert(pm_test_crate_has_dep(top, "cargo:.#host@0.1.0", NULL), "the host triple");
        cr_assert_eq(top->n_deps, 2);
        pm_graph_free(g);
        g = NULL;

        /* Without the target step's output nothing is known: every edge is kept, as before. */
        cr_assert_eq(ops->parse(&q, blobs, 1, &g, &err), 0, "%s", err.msg);
        top = pm_graph_find(g, "cargo:.#top@0.1.0");
        cr_assert_not_null(top);
        cr_assert_eq(top->n_deps, 4);
        pm_graph_free(g);
        pm_plan_release(&plan);
        pm_config_free(cfg);
        pm_free(outs[0]);
        pm_free(outs[1]);
        pm_free(toml);
        pm_free(host);
        pm_free(p);
        (void)pm_test_rmtree(tmp);
        pm_free(tmp);
}

/* The `id` of package @name in the fixture's metadata, pm_malloc'd. */
static char *
package_id(const struct fx *fx, const char *name)
{
        cJSON *m = cJSON_Parse(fx->metadata), *p;
        char *id = NULL;

        cr_assert_not_null(m);
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(m, "packages"))
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring, name) == 0)
                        id = pm_strdup(cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring);
        }
        cJSON_Delete(m);
        cr_assert_not_null(id, "no package '%s'", name);
        return id;
}

/* Parse the fixture's metadata as a live run whose build step printed @check. */
static int
parse_with_check(struct fx *fx, const char *check, const char *step_error)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("cargo");
        struct pm_query q = { .config = fx->cfg, .project = &fx->cfg->projects[0] };
        struct pm_blob blobs[3] = {
                { .data = fx->metadata,
                  .len = strlen(fx->metadata),
                  .origin = "metadata",
                  .program = "/opt/rust/bin/cargo" },
                { .data = "", .len = 0, .origin = "rustc" },
                { .data = check,
                  .len = strlen(check),
                  .origin = "cargo check",
                  .error = step_error },
        };

        pm_graph_free(fx->g);
        fx->g = NULL;
        pm_error_init(&fx->err);
        return ops->parse(&q, blobs, 3, &fx->g, &fx->err);
}

Test(cargo_parse, build_step_messages)
{
        char *foo_id, *mac_id, *check, *out_dir, *watched;
        const struct pm_crate *c;
        struct fx fx;
        int r;

        fx_init(&fx, NULL);
        foo_id = package_id(&fx, "foo");
        mac_id = package_id(&fx, "my-mac");
        out_dir = pm_test_strf("%s/t/debug/build/foo-1/out", fx.tmp);
        check = pm_test_strf(
                /* Text a tool printed: passed through by cargo, not a message. */
                "hello from a proc macro\n"
                "{\"reason\":\"compiler-artifact\",\"package_id\":\"%s\",\"target\":{\"kind\":"
                "[\"custom-build\"],\"name\":\"build-script-build\"},\"filenames\":[\"/x/b\"]}\n"
                /* An earlier run of the same script: the last one wins. */
                "{\"reason\":\"build-script-executed\",\"package_id\":\"%s\",\"cfgs\":[\"old\"],"
                "\"env\":[],\"out_dir\":\"/old\"}\n"
                "{\"reason\":\"build-script-executed\",\"package_id\":\"%s\",\"linked_libs\":[],"
                "\"cfgs\":[\"has_x\",\"kind = \\\"fast\\\"\",\"bad\\\"cfg\",\"v=unquoted\"],"
                "\"env\":[[\"GEN\",\"1\"],[\"CARGO_PKG_NAME\",\"renamed\"]],\"out_dir\":\"%s\"}\n"
                "{\"reason\":\"compiler-artifact\",\"package_id\":\"%s\",\"target\":{\"kind\":"
                "[\"proc-macro\"],\"name\":\"my_mac\"},\"filenames\":[\"/t/libmy_mac.rmeta\"]}\n"
                "{\"reason\":\"compiler-artifact\",\"package_id\":\"%s\",\"target\":{\"kind\":"
                "[\"proc-macro\"],\"name\":\"my_mac\"},\"filenames\":[\"/t/libmy_mac-1.so\"]}\n"
                "{\"reason\":\"build-finished\",\"success\":true}\n",
                foo_id, foo_id, foo_id, out_dir, mac_id, mac_id);
        cr_assert_eq(parse_with_check(&fx, check, NULL), 0, "%s", fx.err.msg);
        c = crate(&fx, FOO);
        cr_assert(pm_strlist_contains(&c->cfgs, "has_x"));
        cr_assert(pm_strlist_contains(&c->cfgs, "kind=\"fast\""), "spaces dropped");
        cr_assert_not(pm_strlist_contains(&c->cfgs, "old"), "the last run wins");
        for (size_t i = 0; i < c->cfgs.n; i++)
                cr_assert(strncmp(c->cfgs.v[i], "bad", 3) != 0 && c->cfgs.v[i][0] != 'v',
                          "'%s' is no cfg rustc accepts", c->cfgs.v[i]);
        cr_assert_str_eq(pm_kvlist_get(&c->env, "GEN"), "1");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO_PKG_NAME"), "renamed", "as rustc sees it");
        cr_assert_str_eq(pm_kvlist_get(&c->env, "OUT_DIR"), out_dir);
        cr_assert_str_eq(pm_kvlist_get(&c->env, "CARGO"), "/opt/rust/bin/cargo");
        cr_assert(pm_strlist_contains(&c->include_dirs, out_dir));
        cr_assert_null(c->note, "%s", c->note);
        c = crate(&fx, MAC);
        cr_assert_str_eq(c->proc_macro_dylib, "/t/libmy_mac-1.so", "the dylib, not the .rmeta");
        cr_assert_null(c->note, "%s", c->note);
        cr_assert_eq(pm_graph_validate(fx.g, false, &fx.err), 0, "%s", fx.err.msg);
        /* What the build step builds is watched: a change must run or build it again. */
        watched = pm_test_strf("%s/foo/build.rs", fx.root);
        cr_assert(pm_strlist_contains(&fx.g->build_files, watched), "%s", watched);
        pm_free(watched);
        watched = pm_test_strf("%s/mac/src/lib.rs", fx.root);
        cr_assert(pm_strlist_contains(&fx.g->build_files, watched), "%s", watched);
        pm_free(check);
        /* Captured output builds nothing: nothing more is watched. */
        cr_assert_eq(fx_parse(&fx, fx.metadata), 0, "%s", fx.err.msg);
        cr_assert_not(pm_strlist_contains(&fx.g->build_files, watched), "%s", watched);
        pm_free(watched);

        /* The proc macro did not compile: rustc's message is its note. */
        check = pm_test_strf(
                "{\"reason\":\"compiler-message\",\"package_id\":\"%s\",\"target\":{\"kind\":"
                "[\"proc-macro\"],\"name\":\"my_mac\"},\"message\":{\"level\":\"error\","
                "\"message\":\"mismatched types\",\"spans\":[{\"file_name\":\"mac/src/lib.rs\","
                "\"line_start\":3,\"is_primary\":true}]}}\n",
                mac_id);
        cr_assert_eq(parse_with_check(&fx, check, "'cargo check' exited with status 101"), 0, "%s",
                     fx.err.msg);
        c = crate(&fx, MAC);
        cr_assert_null(c->proc_macro_dylib);
        cr_assert_str_eq(c->note, "proc macro not built: error: mismatched types at "
                                  "mac/src/lib.rs:3");
        c = crate(&fx, FOO);
        cr_assert(strstr(c->note, "build script did not run in `cargo check`"), "%s", c->note);
        pm_free(check);

        /* The step failed outright: its error line on every crate it left out. */
        cr_assert_eq(parse_with_check(&fx, "",
                                      "'cargo check' failed with exit status 101: error: "
                                      "the lock file needs to be updated"),
                     0, "%s", fx.err.msg);
        c = crate(&fx, FOO);
        cr_assert(strstr(c->note, "build script not run: 'cargo check' failed with exit status "
                                  "101: error: the lock file"),
                  "%s", c->note);
        c = crate(&fx, MAC);
        cr_assert(strstr(c->note, "proc macro not built: 'cargo check' failed"), "%s", c->note);

        /* Every allocation of the build step's reading fails cleanly. */
        check = pm_test_strf("{\"reason\":\"build-script-executed\",\"package_id\":\"%s\","
                             "\"cfgs\":[\"a\"],\"env\":[[\"K\",\"V\"]],\"out_dir\":\"%s\"}\n",
                             foo_id, out_dir);
        pm_mem_install_hooks();
        for (unsigned long n = 1;; n++) {
                (void)pm_mem_fail_at(n);
                r = parse_with_check(&fx, check, NULL);
                (void)pm_mem_fail_at(0);
                if (r == 0)
                        break;
                cr_assert_eq(r, -ENOMEM, "allocation %lu: %s", n, fx.err.msg);
                cr_assert_null(fx.g);
                cr_assert(n < 100000);
        }
        cr_assert_str_eq(pm_kvlist_get(&crate(&fx, FOO)->env, "K"), "V");
        pm_free(check);
        pm_free(out_dir);
        pm_free(foo_id);
        pm_free(mac_id);
        fx_release(&fx);
}
