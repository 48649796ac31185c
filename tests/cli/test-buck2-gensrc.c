/* SPDX-License-Identifier: MIT */
/* What the proc-macro build of a Buck2 project also builds, through the stand-in buck2
 * (buck2-stand-in.h): reindeer's OUT_DIR and rustc_flags of a build-script run, and sources a
 * genrule writes; each served where Buck2's build report puts it, or a note when it failed. */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "buck2-stand-in.h"
#include "cli-test.h"
#include "rustc-check.h"
#include "testlib.h"

#define OUT_DIR_TARGET "root//third-party/rust:gen-0.1.0-build-script-run[out_dir]"
#define FLAGS_TARGET   "root//third-party/rust:gen-0.1.0-build-script-run[rustc_flags]"

static struct cli_fx fx;

static void
setup(void)
{
        cli_fx_init(&fx, false);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_buck2_gensrc, .init = setup, .fini = teardown);

/*
 * Add to the copy @repo what reindeer writes for a vendored crate with a build script: a
 * rust_library whose env has `OUT_DIR = $(location :X-build-script-run[out_dir])` (package
 * relative, as in the BUCK file) and that include!s gen.rs from it, and the buildscript_run target
 * (not a Rust rule: the adapter does not make a crate of it).
 */
static void
add_reindeer_build_script(const char *repo)
{
        char *targets = pm_test_strf("%s/targets.json", repo);
        char *lib = pm_test_strf("%s/third-party/rust/vendor/gen/src/lib.rs", repo);
        char *dir = pm_test_strf("%s/third-party/rust/vendor/gen/src", repo);
        char *text = pm_test_read_file(targets);
        cJSON *arr = cJSON_Parse(text), *t;
        char *out;

        cr_assert(cJSON_IsArray(arr));
        t = cJSON_Parse(
                "{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.deps\": [],"
                " \"buck.inputs\": [\"root//third-party/rust/vendor/gen/src/lib.rs\"],"
                " \"buck.package\": \"root//third-party/rust\", \"name\": \"gen-0.1.0\","
                " \"srcs\": [\"root//third-party/rust/vendor/gen/src/lib.rs\"], \"crate\": \"gen\","
                " \"crate_root\": \"vendor/gen/src/lib.rs\", \"edition\": \"2021\","
                " \"env\": {\"CARGO_MANIFEST_DIR\": \"third-party/rust/vendor/gen\","
                " \"OUT_DIR\": \"$(location :gen-0.1.0-build-script-run[out_dir])\"},"
                " \"rustc_flags\": [\"@$(location :gen-0.1.0-build-script-run[rustc_flags])\"],"
                " \"visibility\": [\"PUBLIC\"]}");
        cr_assert(t);
        cJSON_AddItemToArray(arr, t);
        t = cJSON_Parse("{\"buck.type\": \"prelude//rust/cargo_buildscript.bzl:buildscript_run\","
                        " \"buck.deps\": [\"root//third-party/rust:gen-0.1.0-build-script-build\"],"
                        " \"buck.inputs\": [], \"buck.package\": \"root//third-party/rust\","
                        " \"name\": \"gen-0.1.0-build-script-run\", \"package_name\": \"gen\","
                        " \"version\": \"0.1.0\"}");
        cr_assert(t);
        cJSON_AddItemToArray(arr, t);
        out = cJSON_Print(arr);
        cr_assert_eq(pm_test_write_file(targets, out), 0);
        cr_assert_eq(pm_test_run((const char *[]){ "mkdir", "-p", dir, NULL }, NULL, NULL, NULL,
                                 NULL, NULL),
                     0);
        cr_assert_eq(pm_test_write_file(lib, "include!(concat!(env!(\"OUT_DIR\"), \"/gen.rs\"));\n"
                                             "#[cfg(not(gen_fast))]\n"
                                             "compile_error!(\"no cfg(gen_fast)\");\n"
                                             "pub const G: &str = env!(\"GEN_GREETING\");\n"
                                             "pub fn n() -> u32 {\n    N\n}\n"),
                     0);
        cJSON_free(out);
        cJSON_Delete(arr);
        pm_free(text);
        pm_free(dir);
        pm_free(lib);
        pm_free(targets);
}

/* The env value of @key of crate @c, or NULL. */
static const char *
env_of(const cJSON *c, const char *key)
{
        const cJSON *v =
                cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "env"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Whether the JSON array @a has the string @s. */
static bool
has_string(const cJSON *a, const char *s)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, a)
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
                        return true;
        }
        return false;
}

/* Crate @c alone, as exported, type-checks with bare rustc (in fx.tmp/rustc-@name). */
static void
assert_checks_alone(const cJSON *c, const char *name)
{
        cJSON *one = cJSON_CreateObject();
        char *one_text, *work, *report = NULL;

        cJSON_AddItemToObject(one, "crates", cJSON_CreateArray());
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(one, "crates"),
                             cJSON_Duplicate(c, true));
        one_text = cJSON_PrintUnformatted(one);
        work = pm_test_strf("%s/rustc-%s", fx.tmp, name);
        cr_assert_eq(mkdir(work, 0700), 0);
        cr_assert_eq(pm_test_rustc_check_project(one_text, work, &report), 0, "%s", report);
        pm_free(report);
        pm_free(work);
        cJSON_free(one_text);
        cJSON_Delete(one);
}

/* reindeer's OUT_DIR (`$(location :X-build-script-run[out_dir])`): built in the same run as the
 * proc macro, served as the absolute directory Buck2's report names (no copy), in the crate's
 * include_dirs, with no "not built" note. reindeer's `rustc_flags = ["@$(location
 * :X-build-script-run[rustc_flags])"]`: that sub-target is built in the same run, and the cfgs and
 * variables of the file it names are the crate's; it type-checks with bare rustc from the JSON
 * (its lib.rs needs them). */
Test(cli_buck2_gensrc, builds_the_out_dir_and_serves_the_reported_directory)
{
        char *repo = cli_b2_make_repo(&fx, ""), *log, *want, *gen, *gen_dir;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *p;
        const cJSON *c, *dirs, *d;
        const char *out_dir;
        struct cli_run r;
        bool listed = false;

        add_reindeer_build_script(repo);
        p = cli_b2_export_ok(&fx, repo);
        /* One build, of the proc macro and the build-script run's out_dir sub-target. */
        log = cli_b2_read_log(&fx);
        cr_assert(strstr(log, "\"" OUT_DIR_TARGET "\", \"" FLAGS_TARGET "\""), "%s", log);
        cr_assert(strstr(log, "\"" CLI_B2_LABEL "\""), "%s", log);
        cr_assert_null(strstr(strstr(log, "\"build\"") + 1, "\"build\""), "%s", log);
        cli_b2_assert_no_report_left(&fx);

        c = cli_b2_crate_of(p, repo, "third-party/rust/vendor/gen/src/lib.rs");
        cr_assert(has_string(cJSON_GetObjectItemCaseSensitive(c, "cfg"), "gen_fast"));
        cr_assert(has_string(cJSON_GetObjectItemCaseSensitive(c, "cfg"), "gen_level=\"2\""));
        cr_assert_str_eq(env_of(c, "GEN_GREETING"), "hi");
        gen_dir = pm_test_strf("%s/third-party/rust/vendor/gen", repo);
        cr_assert_str_eq(env_of(c, "GEN_DIR"), gen_dir);
        pm_free(gen_dir);
        out_dir = env_of(c, "OUT_DIR");
        want = pm_test_strf("%s/buck-out/v2/gen/root/524f8da68ea2a374/third-party/rust/"
                            "__gen-0.1.0-build-script-run__/out_dir",
                            repo);
        cr_assert(out_dir, "no OUT_DIR");
        cr_assert_str_eq(out_dir, want);
        gen = pm_test_strf("%s/gen.rs", out_dir);
        cr_assert(access(gen, R_OK) == 0, "%s missing", gen);
        dirs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "source"),
                                                "include_dirs");
        cJSON_ArrayForEach(d, dirs) listed = listed || strcmp(d->valuestring, want) == 0;
        cr_assert(listed, "%s not among the include_dirs", want);
        /* The proc macro of the same run is still served. */
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built"), "%s", r.out);
        cli_run_release(&r);

        /* include!(concat!(env!("OUT_DIR"), "/gen.rs")) resolves: the crate alone, as exported. */
        assert_checks_alone(c, "gen");

        pm_free(gen);
        pm_free(want);
        pm_free(log);
        cJSON_Delete(p);
        pm_free(repo);
}

/* A build-script run that fails: its crate keeps Buck2's value and gets a note naming the target
 * and the first line of Buck2's error; everything else is served as before. */
Test(cli_buck2_gensrc, a_failed_out_dir_is_a_note_and_the_rest_is_served)
{
        char *repo = cli_b2_make_repo(&fx, ""), *fail = pm_test_strf("%s/FAIL_OUT_DIR", repo);
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", "--format", "json", NULL };
        cJSON *p, *crates;
        const cJSON *c, *note, *list;
        struct cli_run r;

        add_reindeer_build_script(repo);
        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        p = cli_b2_export_ok(&fx, repo);
        c = cli_b2_crate_of(p, repo, "third-party/rust/vendor/gen/src/lib.rs");
        cr_assert_str_eq(env_of(c, "OUT_DIR"), "$(location :gen-0.1.0-build-script-run[out_dir])");
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));
        cli_b2_assert_no_report_left(&fx);

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        crates = cJSON_Parse(r.out);
        cr_assert(crates, "%s", r.out);
        note = NULL;
        list = cJSON_IsArray(crates) ? crates : cJSON_GetObjectItemCaseSensitive(crates, "crates");
        cJSON_ArrayForEach(c, list)
        {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "label");

                if (cJSON_IsString(l) &&
                    strcmp(l->valuestring, "root//third-party/rust:gen-0.1.0") == 0)
                        note = cJSON_GetObjectItemCaseSensitive(c, "note");
        }
        cr_assert(cJSON_IsString(note), "%s", r.out);
        cr_assert_str_eq(note->valuestring,
                         "OUT_DIR not built: " OUT_DIR_TARGET " failed: Action failed: "
                         "root//third-party/rust:gen-0.1.0-build-script-run "
                         "(prelude//platforms:default#524f8da68ea2a374) (buildscript)");
        cJSON_Delete(crates);
        cli_run_release(&r);
        cJSON_Delete(p);
        pm_free(fail);
        pm_free(repo);
}

/* Append the targets @add (@n JSON objects, as `buck2 targets --json` prints them) to the copy
 * @repo's targets.json. */
static void
add_targets(const char *repo, const char *const *add, size_t n)
{
        char *targets = pm_test_strf("%s/targets.json", repo), *text = pm_test_read_file(targets);
        cJSON *arr = cJSON_Parse(text);
        char *out;

        cr_assert(cJSON_IsArray(arr));
        for (size_t i = 0; i < n; i++) {
                cJSON *t = cJSON_Parse(add[i]);

                cr_assert(t, "%s", add[i]);
                cJSON_AddItemToArray(arr, t);
        }
        out = cJSON_Print(arr);
        cr_assert_eq(pm_test_write_file(targets, out), 0);
        cJSON_free(out);
        cJSON_Delete(arr);
        pm_free(text);
        pm_free(targets);
}

/*
 * Add to the copy @repo a genrule root//gen:gen_rs and two crates of its output: root//gen:g1
 * with `srcs = [":gen_rs"]` (its only source, so its root) and root//gen:g2 with `mapped_srcs =
 * {":gen_rs": "lib.rs"}`, both as `buck2 targets --json` prints them (canonical labels).
 */
static void
add_genrule(const char *repo)
{
        const char *add[] = {
                "{\"buck.type\": \"prelude//rules.bzl:genrule\", \"buck.deps\": [], \"buck.inputs\": [],"
                " \"buck.package\": \"root//gen\", \"name\": \"gen_rs\", \"out\": \"gen_rs.rs\"}",
                "{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.deps\": [],"
                " \"buck.inputs\": [], \"buck.package\": \"root//gen\", \"name\": \"g1\","
                " \"srcs\": [\"root//gen:gen_rs\"], \"edition\": \"2021\"}",
                "{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.deps\": [],"
                " \"buck.inputs\": [], \"buck.package\": \"root//gen\", \"name\": \"g2\","
                " \"srcs\": [], \"mapped_srcs\": {\"root//gen:gen_rs\": \"lib.rs\"},"
                " \"edition\": \"2021\"}",
        };

        add_targets(repo, add, sizeof(add) / sizeof(add[0]));
}

/* Assert that crate @name of @p has the root module @want, no note, and type-checks alone with
 * bare rustc from the exported JSON (in fx.tmp/rustc-@name). */
static void
assert_served_and_checks(const cJSON *p, const char *name, const char *want)
{
        const cJSON *c = pm_test_crate_named(p, name);
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "root_module");

        cr_assert(cJSON_IsString(m), "%s has no root_module", name);
        cr_assert_str_eq(m->valuestring, want);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(c, "note"));
        assert_checks_alone(c, name);
}

/*
 * Export a copy of the repository after @add put a genrule and two crates of its output, @a and
 * @b, in it: one build ran, of the generated source @built (a quoted label) and the proc macro,
 * and both crates are served at @out (relative to the copy) and type-check with bare rustc.
 */
static void
assert_built_and_served(void (*add)(const char *), const char *built, const char *out,
                        const char *a, const char *b)
{
        char *repo = cli_b2_make_repo(&fx, ""), *log, *want;
        cJSON *p;

        add(repo);
        p = cli_b2_export_ok(&fx, repo);
        log = cli_b2_read_log(&fx);
        cr_assert(strstr(log, built), "%s", log);
        cr_assert(strstr(log, "\"" CLI_B2_LABEL "\""), "%s", log);
        cr_assert_null(strstr(strstr(log, "\"build\"") + 1, "\"build\""), "%s", log);
        want = pm_test_strf("%s/%s", repo, out);
        assert_served_and_checks(p, a, want);
        assert_served_and_checks(p, b, want);
        cli_b2_assert_no_report_left(&fx);
        pm_free(want);
        pm_free(log);
        cJSON_Delete(p);
        pm_free(repo);
}

/* A crate whose sources a genrule writes (`srcs` or `mapped_srcs` naming its label): the genrule
 * is built in the same run as the proc macro, and the crate's root is the file Buck2's report
 * names, so it type-checks with bare rustc from the exported JSON. */
Test(cli_buck2_gensrc, builds_generated_sources_and_serves_the_reported_file)
{
        assert_built_and_served(
                add_genrule, "\"root//gen:gen_rs\"",
                "buck-out/v2/gen/root/524f8da68ea2a374/gen/__gen_rs__/out/gen_rs.rs", "g1", "g2");
}

/* A genrule that fails: its crates keep the parse's paths and get the note naming the target and
 * the first line of Buck2's error; the proc macro is still served. */
Test(cli_buck2_gensrc, a_failed_generated_source_is_a_note)
{
        char *repo = cli_b2_make_repo(&fx, ""), *fail = pm_test_strf("%s/FAIL_GEN", repo);
        char *path = pm_test_strf("%s/gen/gen_rs", repo);
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        struct cli_run r;
        cJSON *p;
        const cJSON *c;

        add_genrule(repo);
        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        p = cli_b2_export_ok(&fx, repo);
        c = pm_test_crate_named(p, "g1");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring, path);
        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "generated source root//gen:gen_rs not built: Action failed: "
                                "root//gen:gen_rs (prelude//platforms:default#524f8da68ea2a374) "
                                "(genrule)"),
                  "%s", r.out);
        cli_run_release(&r);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));
        cJSON_Delete(p);
        pm_free(path);
        pm_free(fail);
        pm_free(repo);
}

/*
 * Add to the copy @repo a genrule root//gen:gen with a named output (`outs = {"foo.rs":
 * ["foo.rs"]}`) and two crates of it by Buck2's sub-target syntax: root//gen:g3 with `srcs =
 * [":gen[foo.rs]"]` and root//gen:g4 with `mapped_srcs = {":gen[foo.rs]": "lib.rs"}`.
 */
static void
add_named_output(const char *repo)
{
        const char *add[] = {
                "{\"buck.type\": \"prelude//rules.bzl:genrule\", \"buck.deps\": [], \"buck.inputs\": [],"
                " \"buck.package\": \"root//gen\", \"name\": \"gen\","
                " \"outs\": {\"foo.rs\": [\"foo.rs\"]}}",
                "{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.deps\": [],"
                " \"buck.inputs\": [], \"buck.package\": \"root//gen\", \"name\": \"g3\","
                " \"srcs\": [\"root//gen:gen[foo.rs]\"], \"edition\": \"2021\"}",
                "{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.deps\": [],"
                " \"buck.inputs\": [], \"buck.package\": \"root//gen\", \"name\": \"g4\","
                " \"srcs\": [], \"mapped_srcs\": {\"root//gen:gen[foo.rs]\": \"lib.rs\"},"
                " \"edition\": \"2021\"}",
        };

        add_targets(repo, add, sizeof(add) / sizeof(add[0]));
}

/* A genrule's named output as a crate's source (`srcs` or `mapped_srcs` naming `gen[foo.rs]`):
 * the sub-target is built in the same run as the proc macro, and the crate's root is the file
 * Buck2's report names for it (under the unconfigured target, keyed "foo.rs"), so it type-checks
 * with bare rustc from the exported JSON. */
Test(cli_buck2_gensrc, builds_a_named_output_and_serves_the_reported_file)
{
        assert_built_and_served(add_named_output, "\"root//gen:gen[foo.rs]\"",
                                "buck-out/v2/gen/root/524f8da68ea2a374/gen/__gen__/out/foo.rs",
                                "g3", "g4");
}

/* `dump --no-refresh` of @repo; asserts that it has @note. */
static void
assert_dump_has(const char *repo, const char *note)
{
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        struct cli_run r;

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, note), "no '%s' in:\n%s", note, r.out);
        cli_run_release(&r);
}

/*
 * Export a copy of the repository after @add put a genrule and crates of its output in it and
 * the stand-in's @marker file made the genrule fail or write nothing: `dump` has @note, and the
 * proc macro is still served.
 */
static void
assert_gen_note(void (*add)(const char *), const char *marker, const char *note)
{
        char *repo = cli_b2_make_repo(&fx, ""), *path = pm_test_strf("%s/%s", repo, marker);
        cJSON *p;

        add(repo);
        cr_assert_eq(pm_test_write_file(path, ""), 0);
        p = cli_b2_export_ok(&fx, repo);
        assert_dump_has(repo, note);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                cli_b2_crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));
        cJSON_Delete(p);
        pm_free(path);
        pm_free(repo);
}

/* A named output whose genrule fails: Buck2 reports the failure under the target, without the
 * sub-target, and the note gives that error rather than "absent from the build report". */
Test(cli_buck2_gensrc, a_failed_named_output_is_a_note_with_the_error)
{
        assert_gen_note(add_named_output, "FAIL_GEN",
                        "generated source root//gen:gen[foo.rs] not built: Action failed: "
                        "root//gen:gen (prelude//platforms:default#524f8da68ea2a374) (genrule)");
}

/* A genrule that builds without output (no "DEFAULT" key in its report entry): the note says
 * that the target produced no output, naming it, not that it has no dylib. */
Test(cli_buck2_gensrc, an_empty_genrule_is_a_note_naming_it)
{
        assert_gen_note(add_genrule, "EMPTY_GEN",
                        "generated source root//gen:gen_rs not built: root//gen:gen_rs "
                        "produced no output");
}
