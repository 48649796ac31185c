/* SPDX-License-Identifier: MIT */
/* The Cargo build step through the real `projmodel export` (and `discover`'s progress line) and
 * the real cargo: build scripts' cfgs, env and OUT_DIR reach the JSON, proc macros load from the
 * dylib the JSON names (the copy a rebuild replaced is collected a week later), failures become
 * notes while the rest is served, `build_proc_macros: false` runs no build, and a missing cargo is
 * an error that keeps the last good model. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

#define DAY (24L * 3600)

TestSuite(cargo_build, .timeout = 300);

/* A build script that writes code to OUT_DIR and prints a cfg, a cfg with a value and an env
 * variable; the crate does not compile without any of them. A derive macro used by `app`. */
static const struct {
        const char *path;
        const char *content;
} workspace[] = {
        { "ws/Cargo.toml",
          "[workspace]\nmembers = [\"gen\", \"mac\", \"app\"]\nresolver = \"2\"\n" },
        { "ws/gen/Cargo.toml",
          "[package]\nname = \"gen\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" },
        { "ws/gen/build.rs", "use std::{env, fs, path::Path};\n"
                             "fn main() {\n"
                             "    let out = env::var(\"OUT_DIR\").unwrap();\n"
                             "    fs::write(Path::new(&out).join(\"gen.rs\"),\n"
                             "              \"pub fn generated() -> u32 { 42 }\\n\").unwrap();\n"
                             "    println!(\"cargo:rustc-cfg=gen_flag\");\n"
                             "    println!(\"cargo:rustc-cfg=gen_kind=\\\"fast\\\"\");\n"
                             "    println!(\"cargo:rustc-env=GEN_ENV=hello\");\n"
                             "    println!(\"cargo:rerun-if-changed=build.rs\");\n"
                             "}\n" },
        { "ws/gen/src/lib.rs",
          "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n"
          "#[cfg(not(gen_flag))]\ncompile_error!(\"the build script's cfg is missing\");\n"
          "#[cfg(gen_kind = \"fast\")]\npub fn fast() -> &'static str { env!(\"GEN_ENV\") }\n" },
        { "ws/mac/Cargo.toml", "[package]\nname = \"mac\"\nversion = \"0.1.0\"\nedition = "
                               "\"2021\"\n\n[lib]\nproc-macro = true\n" },
        { "ws/mac/src/lib.rs",
          "use proc_macro::TokenStream;\n"
          "#[proc_macro_derive(Hello)]\n"
          "pub fn hello(input: TokenStream) -> TokenStream {\n"
          "    let s = input.to_string();\n"
          "    let name = s.split_whitespace().skip_while(|w| *w != \"struct\").nth(1).unwrap()\n"
          "        .trim_end_matches(';').to_string();\n"
          "    format!(\"impl {} {{ pub fn hello() -> u32 {{ 1 }} }}\", name).parse().unwrap()\n"
          "}\n" },
        { "ws/app/Cargo.toml",
          "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
          "[dependencies]\ngen = { path = \"../gen\" }\nmac = { path = \"../mac\" }\n" },
        { "ws/app/src/lib.rs",
          "#[derive(mac::Hello)]\npub struct S;\n"
          "pub fn total() -> u32 { S::hello() + gen::generated() + gen::fast().len() as u32 }\n" },
};

struct bfx {
        char *tmp;   /* holds ws/ and cache/ */
        char *root;  /* tmp/ws */
        char *cache; /* tmp/cache: the model and projmodel's cargo target directory */
};

static void
write_rel(const struct bfx *fx, const char *rel, const char *content)
{
        char *p = pm_test_strf("%s/%s", fx->tmp, rel);

        cr_assert_eq(pm_test_write_file(p, content), 0, "%s", p);
        pm_free(p);
}

/* .projmodel.json with the cache directory in the test's tree and @cargo as the cargo section. */
static void
write_config(const struct bfx *fx, const char *cache, const char *cargo)
{
        char *json = pm_test_strf("{\"build_system\": \"cargo\", \"cache_dir\": \"%s\"%s%s}\n",
                                  cache, cargo ? ", \"cargo\": " : "", cargo ? cargo : "");

        write_rel(fx, "ws/.projmodel.json", json);
        pm_free(json);
}

static void
bfx_init(struct bfx *fx)
{
        memset(fx, 0, sizeof(*fx));
        fx->tmp = pm_test_mkdtemp();
        cr_assert_not_null(fx->tmp);
        fx->root = pm_test_strf("%s/ws", fx->tmp);
        fx->cache = pm_test_strf("%s/cache", fx->tmp);
        for (size_t i = 0; i < sizeof(workspace) / sizeof(workspace[0]); i++)
                write_rel(fx, workspace[i].path, workspace[i].content);
        write_config(fx, fx->cache, NULL);
}

static void
bfx_release(struct bfx *fx)
{
        if (fx->tmp)
                (void)pm_test_rmtree(fx->tmp);
        pm_free(fx->tmp);
        pm_free(fx->root);
        pm_free(fx->cache);
}

/* Run projmodel with @args (after the executable) in the workspace; its exit status. */
static int
run_projmodel(const struct bfx *fx, const char *const *args, char **ret_out, char **ret_err)
{
        const char *argv[16] = { pm_test_projmodel() };
        size_t n = 1;

        for (; *args && n + 1 < sizeof(argv) / sizeof(argv[0]); args++)
                argv[n++] = *args;
        argv[n] = NULL;
        return pm_test_run(argv, fx->root, NULL, NULL, ret_out, ret_err);
}

/* `projmodel export` that must succeed: the parsed rust-project.json; the text in *ret_text. */
static cJSON *
export_ok(const struct bfx *fx, char **ret_text)
{
        const char *args[] = { "export", "--root", fx->root, NULL };
        char *out = NULL, *err = NULL;
        int st = run_projmodel(fx, args, &out, &err);
        cJSON *p;

        cr_assert_eq(st, 0, "export failed (%d): %s", st, err);
        p = cJSON_Parse(out);
        cr_assert_not_null(p, "not JSON: %s", out);
        pm_free(err);
        if (ret_text)
                *ret_text = out;
        else
                pm_free(out);
        return p;
}

static bool
has_string(const cJSON *array, const char *s)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, array)
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
                        return true;
        }
        return false;
}

static const char *
env_of(const cJSON *crate, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(crate, "env"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
is_kind(const char *path, mode_t kind)
{
        struct stat st;

        return path && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static bool
under(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        return path && strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The build script's cfgs, env and OUT_DIR are in gen's crate, OUT_DIR in projmodel's cache. */
static void
assert_build_script_applied(const struct bfx *fx, const cJSON *p)
{
        const cJSON *gen = pm_test_crate_named(p, "gen");
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(gen, "cfg");
        const cJSON *inc = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(gen, "source"), "include_dirs");
        const char *out_dir = env_of(gen, "OUT_DIR");
        char *genrs;

        cr_assert(has_string(cfg, "gen_flag"), "cfg of the build script");
        cr_assert(has_string(cfg, "gen_kind=\"fast\""),
                  "cfg with a value, as rust-analyzer reads it");
        cr_assert_str_eq(env_of(gen, "GEN_ENV"), "hello");
        cr_assert(is_kind(out_dir, S_IFDIR), "OUT_DIR '%s' exists", out_dir);
        cr_assert(under(out_dir, fx->cache), "OUT_DIR '%s' is in projmodel's cache", out_dir);
        cr_assert(has_string(inc, out_dir), "OUT_DIR is an include dir");
        genrs = pm_test_strf("%s/gen.rs", out_dir);
        cr_assert(is_kind(genrs, S_IFREG), "the build script wrote '%s'", genrs);
        pm_free(genrs);
}

Test(cargo_build, export_applies_build_scripts_and_loads_the_built_proc_macro)
{
        char *text = NULL, *report = NULL, *work, *target, *out = NULL, *dump_err = NULL, *appdir;
        char *dylibs, *first_dylib, *second_dylib, *stamp, *before, *after;
        const char *dump[] = { "dump", "--root", NULL, "--no-refresh", NULL };
        const cJSON *mac, *app, *dylib;
        const char *cargo;
        struct bfx fx;
        cJSON *p;

        bfx_init(&fx);
        p = export_ok(&fx, &text);
        assert_build_script_applied(&fx, p);

        mac = pm_test_crate_named(p, "mac");
        dylib = cJSON_GetObjectItemCaseSensitive(mac, "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib), "the proc macro has a dylib");
        cr_assert(is_kind(dylib->valuestring, S_IFREG), "'%s' exists", dylib->valuestring);
        dylibs = pm_test_strf("%s/dylibs", fx.cache);
        cr_assert(under(dylib->valuestring, dylibs), "'%s' is in the content-addressed cache",
                  dylib->valuestring);
        first_dylib = pm_test_strf("%s", dylib->valuestring);

        /* CARGO as cargo sets it: an absolute path to a cargo that runs. */
        app = pm_test_crate_named(p, "app");
        cargo = env_of(app, "CARGO");
        cr_assert(cargo && cargo[0] == '/', "CARGO '%s' is absolute", cargo ? cargo : "(none)");
        cr_assert_eq(access(cargo, X_OK), 0, "CARGO '%s' is executable", cargo);
        appdir = pm_test_strf("%s/app", fx.root);
        cr_assert_str_eq(env_of(app, "CARGO_MANIFEST_DIR"), appdir);
        pm_free(appdir);

        /* Never the user's target directory. */
        target = pm_test_strf("%s/target", fx.root);
        cr_assert_not(is_kind(target, S_IFDIR), "'%s' was written", target);

        /* What rust-analyzer would get type-checks, loading exactly the dylib the JSON names. */
        cr_assert_eq(pm_test_validate_project(text, strlen(text), &report), 0, "%s",
                     report ? report : "");
        work = pm_test_strf("%s/check", fx.tmp);
        cr_assert_eq(mkdir(work, 0755), 0);
        cr_assert_eq(pm_test_rustc_check_project_loading_dylibs(text, work, &report), 0, "%s",
                     report ? report : "");

        /* The build-script note is gone: the script ran. */
        dump[2] = fx.root;
        cr_assert_eq(run_projmodel(&fx, dump, &out, &dump_err), 0, "%s", dump_err);
        cr_assert_null(strstr(out, "build script"), "%s", out);
        cr_assert_null(strstr(out, "not built"), "%s", out);

        /* A changed proc macro is a new file; the one rust-analyzer may have loaded stays as it
         * was (cargo rebuilds its own output in place). */
        before = pm_test_read_file(first_dylib);
        cr_assert_not_null(before);
        write_rel(&fx, "ws/mac/src/lib.rs",
                  "use proc_macro::TokenStream;\n"
                  "#[proc_macro_derive(Hello)]\n"
                  "pub fn hello(_input: TokenStream) -> TokenStream {\n"
                  "    \"impl S { pub fn hello() -> u32 { 2 } }\".parse().unwrap()\n"
                  "}\n");
        cJSON_Delete(p);
        p = export_ok(&fx, NULL);
        dylib = cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "mac"),
                                                 "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib) && under(dylib->valuestring, dylibs));
        cr_assert_str_neq(dylib->valuestring, first_dylib, "the rebuilt proc macro has a new path");
        after = pm_test_read_file(first_dylib);
        cr_assert(after && memcmp(before, after, strlen(before)) == 0, "'%s' was rewritten",
                  first_dylib);

        /* A week after no model names it, the old copy is collected by the next command; the
         * copy in use stays however old (indexer/collect.c). The daily stamp is set back. */
        pm_test_age_path(first_dylib, 30 * DAY);
        pm_test_age_path(dylib->valuestring, 30 * DAY);
        stamp = pm_test_strf("%s/collected", fx.cache);
        pm_test_age_path(stamp, 2 * DAY);
        second_dylib = pm_test_strf("%s", dylib->valuestring);
        cJSON_Delete(p);
        p = export_ok(&fx, NULL);
        cr_assert_neq(access(first_dylib, F_OK), 0, "'%s' was not collected", first_dylib);
        cr_assert_eq(access(second_dylib, R_OK), 0, "'%s' in use was collected", second_dylib);
        dylib = cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "mac"),
                                                 "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib));
        cr_assert_str_eq(dylib->valuestring, second_dylib);

        pm_free(before);
        pm_free(after);
        pm_free(first_dylib);
        pm_free(second_dylib);
        pm_free(stamp);
        pm_free(dylibs);
        pm_free(out);
        pm_free(dump_err);
        pm_free(target);
        pm_free(work);
        pm_free(report);
        pm_free(text);
        cJSON_Delete(p);
        bfx_release(&fx);
}

/* Members that fail: a build script that panics, a crate with a type error, a proc macro that
 * does not compile (used by another member, so cargo tries to build it). */
static void
add_failing_members(const struct bfx *fx)
{
        write_rel(fx, "ws/Cargo.toml",
                  "[workspace]\nmembers = [\"gen\", \"mac\", \"app\", \"bad\", \"broken\", "
                  "\"badmac\", \"usesbad\"]\nresolver = \"2\"\n");
        write_rel(fx, "ws/bad/Cargo.toml",
                  "[package]\nname = \"bad\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        write_rel(fx, "ws/bad/build.rs", "fn main() { panic!(\"boom in build script\"); }\n");
        write_rel(fx, "ws/bad/src/lib.rs", "pub fn b() {}\n");
        write_rel(fx, "ws/broken/Cargo.toml",
                  "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
        write_rel(fx, "ws/broken/src/lib.rs", "pub fn x() -> u32 { \"not a number\" }\n");
        write_rel(fx, "ws/badmac/Cargo.toml",
                  "[package]\nname = \"badmac\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                  "[lib]\nproc-macro = true\n");
        write_rel(fx, "ws/badmac/src/lib.rs",
                  "use proc_macro::TokenStream;\n"
                  "#[proc_macro_derive(Bad)]\n"
                  "pub fn bad(_i: TokenStream) -> TokenStream { 42 }\n");
        write_rel(fx, "ws/usesbad/Cargo.toml",
                  "[package]\nname = \"usesbad\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                  "[dependencies]\nbadmac = { path = \"../badmac\" }\n");
        write_rel(fx, "ws/usesbad/src/lib.rs", "#[derive(badmac::Bad)]\npub struct T;\n");
}

/* `projmodel dump --no-refresh` of the model as it is (text). */
static char *
dump_model(const struct bfx *fx)
{
        const char *args[] = { "dump", "--root", fx->root, "--no-refresh", NULL };
        char *out = NULL, *err = NULL;

        cr_assert_eq(run_projmodel(fx, args, &out, &err), 0, "%s", err);
        pm_free(err);
        return out;
}

/* The dump's note of crate @label (up to the end of its line), pm_malloc'd. */
static char *
note_of(const char *dump, const char *label)
{
        char *head = pm_test_strf("\n%s\n", label);
        const char *at = strstr(dump, head), *note, *next;

        cr_assert_not_null(at, "no crate '%s' in the dump:\n%s", label, dump);
        at += strlen(head);
        next = strstr(at, "\ncargo:");
        note = strstr(at, "  note: ");
        cr_assert(note && (!next || note < next), "crate '%s' has no note:\n%s", label, dump);
        note += strlen("  note: ");
        pm_free(head);
        return pm_test_strf("%.*s", (int)strcspn(note, "\n"), note);
}

Test(cargo_build, failures_are_notes_and_a_missing_cargo_keeps_the_model)
{
        const char *args[] = { "export", "--root", NULL, NULL };
        char *dump, *note, *out = NULL, *err = NULL, *cargo;
        struct bfx fx;
        cJSON *p;
        int st;

        bfx_init(&fx);
        add_failing_members(&fx);
        /* The rest is served: the good build script and proc macro are applied. */
        p = export_ok(&fx, NULL);
        assert_build_script_applied(&fx, p);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "mac"),
                                                                  "proc_macro_dylib_path")));
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "badmac"),
                                                        "proc_macro_dylib_path"));
        cr_assert_null(env_of(pm_test_crate_named(p, "bad"), "OUT_DIR"));
        cJSON_Delete(p);

        /* Each failure is a note on its crate, with cargo's or rustc's own words. */
        dump = dump_model(&fx);
        note = note_of(dump, "cargo:.#bad@0.1.0");
        cr_assert(strstr(note, "build script failed in `cargo check`: error: failed to run custom "
                               "build command for `bad v0.1.0"),
                  "%s", note);
        /* What the script itself said: where it panicked, and the message. */
        cr_assert(strstr(note, "panicked at bad/build.rs:1:") &&
                          strstr(note, "boom in build script"),
                  "%s", note);
        pm_free(note);
        note = note_of(dump, "cargo:.#badmac@0.1.0");
        cr_assert(strstr(note, "proc macro not built: error: mismatched types at "), "%s", note);
        cr_assert(strstr(note, "badmac/src/lib.rs:3"), "%s", note);
        pm_free(note);
        cr_assert_null(strstr(dump, "cargo:.#gen@0.1.0\n  note"), "%s", dump);
        pm_free(dump);

        /* A cargo that is not there: one clear error, and the model keeps its last good state. */
        cargo = pm_test_strf("%s/no-such-cargo", fx.tmp);
        write_config(&fx, fx.cache, (out = pm_test_strf("{\"command\": \"%s\"}", cargo)));
        pm_free(out);
        out = NULL;
        args[2] = fx.root;
        st = run_projmodel(&fx, args, &out, &err);
        cr_assert_neq(st, 0);
        cr_assert(strstr(err, cargo) && strstr(err, "not found"), "%s", err);
        cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
        dump = dump_model(&fx);
        cr_assert(strstr(dump, "cargo:.#gen@0.1.0"), "%s", dump);
        cr_assert(strstr(dump, "OUT_DIR"), "the build script's OUT_DIR is still there: %s", dump);
        pm_free(dump);
        pm_free(out);
        pm_free(err);
        pm_free(cargo);
        bfx_release(&fx);
}

Test(cargo_build, build_proc_macros_false_runs_no_build)
{
        char *cache2, *dump, *note;
        struct bfx fx;
        cJSON *p;
        DIR *d;

        bfx_init(&fx);
        /* A cache of its own: had cargo check run, its target directory would be in it. */
        cache2 = pm_test_strf("%s/cache2", fx.tmp);
        write_config(&fx, cache2, "{\"build_proc_macros\": false}");
        p = export_ok(&fx, NULL);
        cr_assert_null(env_of(pm_test_crate_named(p, "gen"), "OUT_DIR"));
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "mac"),
                                                        "proc_macro_dylib_path"));
        cJSON_Delete(p);
        d = opendir(cache2);
        cr_assert_not_null(d, "the model is in '%s'", cache2);
        for (struct dirent *e; (e = readdir(d));)
                cr_assert(strncmp(e->d_name, "cargo-", 6) != 0, "cargo check ran into '%s'",
                          e->d_name);
        closedir(d);
        dump = dump_model(&fx);
        note = note_of(dump, "cargo:.#gen@0.1.0");
        cr_assert(strstr(note, "build_proc_macros is false"), "%s", note);
        pm_free(note);
        note = note_of(dump, "cargo:.#mac@0.1.0");
        cr_assert(strstr(note, "build_proc_macros is false"), "%s", note);
        pm_free(note);
        pm_free(dump);
        pm_free(cache2);
        bfx_release(&fx);
}

/* The progress line of @stdout_text (discover's protocol lines) whose message starts with
 * @prefix: its index among the progress lines, the message in *@ret (pm_malloc'd), or -1. */
static int
progress_line(const char *stdout_text, const char *prefix, char **ret)
{
        const char *p = stdout_text;
        int i = 0;

        *ret = NULL;
        while (p && *p) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                cJSON *l = cJSON_ParseWithLength(p, len);
                const cJSON *kind = cJSON_GetObjectItemCaseSensitive(l, "kind");
                const cJSON *msg = cJSON_GetObjectItemCaseSensitive(l, "message");

                if (cJSON_IsString(kind) && strcmp(kind->valuestring, "progress") == 0 &&
                    cJSON_IsString(msg)) {
                        if (strncmp(msg->valuestring, prefix, strlen(prefix)) == 0)
                                *ret = pm_test_strf("%s", msg->valuestring);
                        else
                                i++;
                }
                cJSON_Delete(l);
                if (*ret)
                        return i;
                p = nl ? nl + 1 : NULL;
        }
        return -1;
}

/* One-shot discover (PROJMODEL_NO_DAEMON): `cargo check` is announced by what it builds, as the
 * other adapters' build steps are (server/build.c, docs/cli.md Progress), counted from `cargo
 * metadata`: two proc macros (a second one, used by app too) and gen's build script. */
Test(cargo_build, discover_announces_the_proc_macros_and_build_scripts_cargo_check_builds)
{
        const char *env[] = { "PROJMODEL_NO_DAEMON=1", NULL };
        char *db, *file, *out = NULL, *err = NULL, *building, *parsed, *running;
        int st, at_building, at_parsed;
        struct bfx fx;

        bfx_init(&fx);
        write_rel(
                &fx, "ws/Cargo.toml",
                "[workspace]\nmembers = [\"gen\", \"mac\", \"mac2\", \"app\"]\nresolver = \"2\"\n");
        write_rel(&fx, "ws/mac2/Cargo.toml",
                  "[package]\nname = \"mac2\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                  "[lib]\nproc-macro = true\n");
        write_rel(&fx, "ws/mac2/src/lib.rs",
                  "use proc_macro::TokenStream;\n#[proc_macro]\n"
                  "pub fn two(_: TokenStream) -> TokenStream { \"2\".parse().unwrap() }\n");
        write_rel(&fx, "ws/app/Cargo.toml",
                  "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
                  "[dependencies]\ngen = { path = \"../gen\" }\nmac = { path = \"../mac\" }\n"
                  "mac2 = { path = \"../mac2\" }\n");
        db = pm_test_strf("%s/discover.db", fx.tmp);
        file = pm_test_strf("{\"path\":\"%s/app/src/lib.rs\"}", fx.root);
        {
                const char *argv[] = { pm_test_projmodel(), "discover", "--db", db, file, NULL };

                st = pm_test_run(argv, fx.root, env, NULL, &out, &err);
        }
        cr_assert_eq(st, 0, "discover failed (%d): %s", st, err);
        at_building = progress_line(out, "building ", &building);
        at_parsed = progress_line(out, "cargo: parsed ", &parsed);
        cr_assert_geq(at_building, 0, "no building line: %s", out);
        cr_assert_str_eq(building, "building 2 proc macros and 1 OUT_DIR with cargo");
        cr_assert_gt(at_parsed, at_building, "%s", out);
        /* The line stands for the step: its command line is not printed besides. */
        cr_assert_eq(progress_line(out, "running cargo check", &running), -1, "%s", out);
        /* And cargo did build them: the answer names a dylib. */
        cr_assert(strstr(out, "\"proc_macro_dylib_path\""), "%s", out);
        pm_free(parsed);
        pm_free(building);
        pm_free(err);
        pm_free(out);
        pm_free(file);
        pm_free(db);
        bfx_release(&fx);
}
