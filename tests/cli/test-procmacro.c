/* SPDX-License-Identifier: MIT */
/* `projmodel export` on a GN tree that was never built: it builds the proc macros and generated
 * root modules and nothing else, the JSON names the built dylibs, and dependents type-check
 * loading exactly those; a build that fails (compiler, ninja, an action) is a note. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "cli-test.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;

#define DERIVE "//lib/describe_derive:describe_derive(//build/toolchain:host)"

static void
setup_unbuilt(void)
{
        cli_fx_init(&fx, false);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_procmacro, .init = setup_unbuilt, .fini = teardown);

static bool
is_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The output file GN itself names for @label (`gn outputs`), absolute, pm_malloc'd. */
static char *
gn_output(const char *label)
{
        const char *argv[] = { "gn", "outputs", "out", label, NULL };
        char *o = NULL, *e = NULL, *nl, *abs;

        cr_assert_eq(pm_test_run(argv, fx.repo, NULL, NULL, &o, &e), 0, "gn outputs: %s%s", o, e);
        nl = strchr(o, '\n');
        if (nl)
                *nl = '\0';
        abs = pm_test_strf("%s/out/%s", fx.repo, o);
        pm_free(o);
        pm_free(e);
        return abs;
}

/* How many proc macros @p has, asserting that each names a dylib that exists. */
static int
count_dylibs(const cJSON *p)
{
        const cJSON *c;
        int n = 0;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "proc_macro_dylib_path");

                if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "is_proc_macro")))
                        continue;
                cr_assert(cJSON_IsString(d), "a proc macro without proc_macro_dylib_path");
                cr_assert(is_file(d->valuestring), "'%s' was not built", d->valuestring);
                n++;
        }
        return n;
}

/* @json, an export, is a valid rust-project.json whose every crate type-checks with bare rustc
 * in a new directory fx.tmp/check, loading the proc macros' dylibs it names. */
static void
assert_valid_and_checks(const char *json)
{
        char *work = pm_test_strf("%s/check", fx.tmp), *report = NULL;

        cr_assert_eq(pm_test_validate_project(json, strlen(json), &report), 0, "%s",
                     report ? report : "");
        cr_assert_eq(mkdir(work, 0755), 0);
        cr_assert_eq(pm_test_rustc_check_project_loading_dylibs(json, work, &report), 0, "%s",
                     report ? report : "");
        pm_free(report);
        pm_free(work);
}

Test(cli_procmacro, export_builds_only_the_proc_macros_and_they_load, .timeout = 900)
{
        char *json, *server, *rlib;
        cJSON *p;

        json = cli_fx_export(&fx, NULL);
        p = cJSON_Parse(json);
        cr_assert(p);
        cr_assert_gt(count_dylibs(p), 0);
        /* Nothing but the proc macros: the binary and the libraries are not built. */
        server = gn_output("//app/server:server");
        rlib = gn_output("//lib/engine:engine");
        cr_assert_not(is_file(server), "'%s' was built", server);
        cr_assert_not(is_file(rlib), "'%s' was built", rlib);
        assert_valid_and_checks(json);
        cJSON_Delete(p);
        pm_free(server);
        pm_free(rlib);
        pm_free(json);
}

/*
 * `projmodel export` (with environment @env, or NULL) succeeds and serves describe_derive
 * without a dylib, with its dependents and everything else still there, and warns that it was
 * not built; returns what `dump` of
 * describe_derive then prints (pm_malloc'd), where the model says why.
 */
static char *
export_without_the_derive_dylib(const char *const *env)
{
        const char *args[] = { "export", "--root", fx.repo, "--db", fx.db, NULL };
        const char *dump[] = { "dump", "--root",       fx.repo, "--db",
                               fx.db,  "--no-refresh", DERIVE,  NULL };
        struct cli_run run = { 0 };
        const cJSON *c;
        cJSON *p;
        char *text;

        cli_fx_run(&fx, NULL, env, args, &run);
        cr_assert_eq(run.status, 0, "%s", run.err);
        /* The note is a warning too, printed as every warning of a refresh is. */
        cr_assert(strstr(run.err, "projmodel export: warning: proc macro " DERIVE " not built: "),
                  "%s", run.err);
        p = cJSON_Parse(run.out);
        cr_assert(p, "%s", run.out);
        cr_assert_gt(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 1);
        c = pm_test_crate_named(p, "describe_derive");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "is_proc_macro")));
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(c, "proc_macro_dylib_path"));
        (void)pm_test_crate_named(p, "engine");
        cJSON_Delete(p);
        cli_run_release(&run);
        cli_fx_run(&fx, NULL, env, dump, &run);
        cr_assert_eq(run.status, 0, "%s", run.err);
        text = pm_strdup(run.out);
        cr_assert_not_null(text);
        cli_run_release(&run);
        return text;
}

Test(cli_procmacro, a_proc_macro_that_fails_to_build_is_a_note_and_the_rest_is_served,
     .timeout = 900)
{
        char *lib = cli_fx_path(&fx, "lib/describe_derive/lib.rs");
        char *want = pm_test_strf("note: proc macro " DERIVE " not built: error");
        char *where = pm_test_strf("(%s:1:", lib);
        char *dump;

        cr_assert_eq(pm_test_write_file(lib, "this is not rust\n"), 0);
        dump = export_without_the_derive_dylib(NULL);
        /* The model says why: the crate, rustc's first error line and where. */
        cr_assert(strstr(dump, want), "%s", dump);
        cr_assert(strstr(dump, where), "%s", dump);
        pm_free(dump);
        pm_free(where);
        pm_free(want);
        pm_free(lib);
}

/*
 * A build tool that is missing: with gn and rustc on PATH but no ninja, the export still
 * succeeds, the proc macro is served without a dylib and everything else is there, and the
 * model says which tool could not run.
 */
Test(cli_procmacro, a_missing_ninja_is_a_note_and_the_rest_is_served, .timeout = 900)
{
        char *bin = pm_test_strf("%s/bin-without-ninja", fx.tmp);
        char *path = pm_test_strf("PATH=%s", bin);
        const char *env[] = { path, NULL };
        char *dump;

        cr_assert_eq(mkdir(bin, 0755), 0);
        /* gn and rustc run as found on the test's own PATH; ninja is nowhere on the new one. */
        for (const char *const *t = (const char *const[]){ "gn", "rustc", NULL }; *t; t++) {
                char *w = pm_test_strf("%s/%s", bin, *t);
                char *script =
                        pm_test_strf("#!/bin/sh\nPATH='%s' exec %s \"$@\"\n", getenv("PATH"), *t);

                cr_assert_eq(pm_test_write_file(w, script), 0);
                cr_assert_eq(chmod(w, 0755), 0);
                pm_free(script);
                pm_free(w);
        }
        dump = export_without_the_derive_dylib(env);
        cr_assert(strstr(dump, "note: proc macro " DERIVE " not built: cannot run 'ninja'"), "%s",
                  dump);
        pm_free(dump);
        pm_free(path);
        pm_free(bin);
}

/* The proc_macro_dylib_path served for describe_derive by a fresh export, pm_malloc'd. */
static char *
served_dylib(void)
{
        char *json = cli_fx_export(&fx, NULL), *path;
        cJSON *p = cJSON_Parse(json);
        const cJSON *d;

        cr_assert(p, "%s", json);
        d = cJSON_GetObjectItemCaseSensitive(pm_test_crate_named(p, "describe_derive"),
                                             "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(d), "describe_derive has no proc_macro_dylib_path");
        path = pm_strdup(d->valuestring);
        cJSON_Delete(p);
        pm_free(json);
        return path;
}

Test(cli_procmacro, the_dylib_served_is_a_cache_copy_a_rebuild_leaves_alone, .timeout = 900)
{
        char *lib = cli_fx_path(&fx, "lib/describe_derive/lib.rs");
        char *dir = pm_test_strf("%s/projmodel/dylibs/", fx.cache);
        char *first, *second, *src, *changed;
        struct stat a, b;

        first = served_dylib();
        cr_assert(strncmp(first, dir, strlen(dir)) == 0, "'%s' is not under '%s'", first, dir);
        cr_assert_eq(stat(first, &a), 0, "'%s' does not exist", first);
        /* The proc macro changes: ninja rewrites GN's output in place, the served copy stays. */
        src = pm_test_read_file(lib);
        cr_assert(src);
        changed = pm_test_strf("%s\nfn _added_by_the_test() -> u32 { 7 }\n", src);
        cr_assert_eq(pm_test_write_file(lib, changed), 0);
        second = served_dylib();
        cr_assert_str_neq(first, second);
        cr_assert(strncmp(second, dir, strlen(dir)) == 0, "'%s' is not under '%s'", second, dir);
        cr_assert(is_file(second), "'%s' does not exist", second);
        cr_assert_eq(stat(first, &b), 0, "'%s' was removed", first);
        cr_assert_eq(a.st_ino, b.st_ino);
        cr_assert_eq(a.st_size, b.st_size);
        cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
        cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
        pm_free(first);
        pm_free(second);
        pm_free(src);
        pm_free(changed);
        pm_free(dir);
        pm_free(lib);
}

/* `export` with PROJMODEL_TRACE: its stderr (pm_malloc'd). */
static char *
traced_export(void)
{
        const char *args[] = { "export", "--root", fx.repo, "--db", fx.db, NULL };
        const char *env[] = { "PROJMODEL_TRACE=1", NULL };
        struct cli_run run = { 0 };
        char *err;

        cli_fx_run(&fx, NULL, env, args, &run);
        cr_assert_eq(run.status, 0, "%s", run.err);
        err = pm_steal_ptr(&run.err);
        cli_run_release(&run);
        return err;
}

Test(cli_procmacro, a_changed_proc_macro_is_rebuilt_and_an_unchanged_one_is_not, .timeout = 900)
{
        char *lib = cli_fx_path(&fx, "lib/describe_derive/lib.rs");
        char *src, *changed, *t, *dylib;
        struct stat a, b;

        t = traced_export();
        pm_free(t);
        dylib = gn_output(DERIVE);
        cr_assert_eq(stat(dylib, &a), 0, "'%s' was not built", dylib);
        /* Nothing changed: nothing is built. */
        t = traced_export();
        pm_free(t);
        cr_assert_eq(stat(dylib, &b), 0);
        cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
        cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
        /* The proc macro's source changes: the next export rebuilds it. */
        src = pm_test_read_file(lib);
        cr_assert(src);
        changed = pm_test_strf("%s\nfn _added_by_the_test() {}\n", src);
        cr_assert_eq(pm_test_write_file(lib, changed), 0);
        t = traced_export();
        pm_free(t);
        cr_assert_eq(stat(dylib, &b), 0);
        cr_assert(b.st_mtim.tv_sec > a.st_mtim.tv_sec ||
                  (b.st_mtim.tv_sec == a.st_mtim.tv_sec && b.st_mtim.tv_nsec > a.st_mtim.tv_nsec));
        pm_free(src);
        pm_free(changed);
        pm_free(dylib);
        pm_free(lib);
}

/* The stat of @path, asserted to exist. */
static struct stat
stat_of(const char *path)
{
        struct stat st;

        cr_assert_eq(stat(path, &st), 0, "'%s' does not exist", path);
        return st;
}

/*
 * The export just after one that built the proc macro finds its input stamp fresh: the build's
 * own writes (the dylib) are recorded as the build left them. So it neither parses nor starts
 * ninja. An edit of the proc macro's source afterwards is still seen: rebuilt, a new copy served.
 */
Test(cli_procmacro, the_export_after_a_build_skips_the_parse_and_an_edit_rebuilds, .timeout = 900)
{
        const char *gen[] = { "gn", "gen", "out", NULL };
        char *lib = cli_fx_path(&fx, "lib/describe_derive/lib.rs");
        char *o = NULL, *e = NULL, *t, *src, *changed, *dylib, *first, *second;
        struct stat a, b;

        /* GN's ninja files written now, not in the first export's own clock tick (which its
         * stamp could not trust: tests/cli/test-cache.c). */
        cr_assert_eq(pm_test_run(gen, fx.repo, NULL, NULL, &o, &e), 0, "gn gen: %s%s", o, e);
        pm_free(o);
        pm_free(e);
        dylib = gn_output(DERIVE);
        cr_assert_not(is_file(dylib));
        t = traced_export();
        cr_assert_null(strstr(t, "parse skipped"), "%s", t);
        pm_free(t);
        a = stat_of(dylib);
        /* The second export: neither parsed nor built. */
        t = traced_export();
        cr_assert(strstr(t, "refresh: parse skipped"), "%s", t);
        pm_free(t);
        first = served_dylib();
        b = stat_of(dylib);
        cr_assert(a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec,
                  "the dylib was rebuilt");
        /* The proc macro's source changes: parsed, rebuilt, a new copy served. */
        src = pm_test_read_file(lib);
        cr_assert(src);
        changed = pm_test_strf("%s\nfn _added_by_the_test() -> u64 { 11 }\n", src);
        cr_assert_eq(pm_test_write_file(lib, changed), 0);
        t = traced_export();
        cr_assert_null(strstr(t, "parse skipped"), "%s", t);
        pm_free(t);
        b = stat_of(dylib);
        cr_assert(b.st_mtim.tv_sec > a.st_mtim.tv_sec || (b.st_mtim.tv_sec == a.st_mtim.tv_sec &&
                                                          b.st_mtim.tv_nsec > a.st_mtim.tv_nsec),
                  "the dylib was not rebuilt");
        /* And after that build, again nothing to do. */
        t = traced_export();
        cr_assert(strstr(t, "refresh: parse skipped"), "%s", t);
        pm_free(t);
        second = served_dylib();
        cr_assert_str_neq(first, second);
        cr_assert(is_file(second), "'%s' does not exist", second);
        pm_free(src);
        pm_free(changed);
        pm_free(first);
        pm_free(second);
        pm_free(dylib);
        pm_free(lib);
}

Test(cli_procmacro, build_proc_macros_false_builds_no_dylib, .timeout = 900)
{
        char *conf = cli_fx_path(&fx, ".projmodel.json");
        char *dylib, *t;

        cr_assert_eq(pm_test_write_file(conf, "{\"build_system\": \"gn\", \"gn\": "
                                              "{\"out_dir\": \"out\", "
                                              "\"build_proc_macros\": false}}\n"),
                     0);
        t = traced_export();
        /* GN's own output name, asked once export has generated the build directory. */
        dylib = gn_output(DERIVE);
        cr_assert_not(is_file(dylib), "'%s' was built with build_proc_macros false", dylib);
        pm_free(t);
        /* Switched back on, the next export builds it. */
        cr_assert_eq(pm_test_write_file(conf, "{\"build_system\": \"gn\", \"gn\": "
                                              "{\"out_dir\": \"out\", "
                                              "\"build_proc_macros\": true}}\n"),
                     0);
        t = traced_export();
        cr_assert(is_file(dylib), "'%s' was not built", dylib);
        pm_free(t);
        pm_free(dylib);
        pm_free(conf);
}

/* One-shot discover (PROJMODEL_NO_DAEMON) on the unbuilt tree, of a file whose closure holds the
 * proc macro: it builds it, and says so in protocol progress lines before the finished line. */
Test(cli_procmacro, discover_reports_building_the_proc_macros, .timeout = 900)
{
        char *arg = pm_test_strf("{\"path\": \"%s/app/server/src/main.rs\"}", fx.repo);
        char *building, *built;
        const char *args[] = { "discover", "--root", fx.repo, "--db", fx.db, arg, NULL };
        const char *env[] = { "PROJMODEL_NO_DAEMON=1", NULL };
        struct cli_run run = { 0 };
        char **msgs = NULL;
        cJSON *fin;
        int n, at_building, at_built;

        cli_fx_run(&fx, NULL, env, args, &run);
        cr_assert_eq(run.status, 0, "%s", run.out);
        cr_assert_str_eq(run.err, "", "discover wrote on stderr");
        fin = cli_discover_lines(run.out, &msgs);
        /* N is the number of proc macros the answer names, each now built. */
        n = count_dylibs(cJSON_GetObjectItemCaseSensitive(fin, "project"));
        cr_assert_eq(n, 1, "%s", run.out);
        building = pm_test_strf("building %d proc macro in '%s/out'", n, fx.repo);
        built = pm_test_strf("built %d proc macro", n);
        at_building = cli_message_index(msgs, building);
        at_built = cli_message_index(msgs, built);
        cr_assert_geq(at_building, 0, "no '%s' in:\n%s", building, run.out);
        cr_assert_gt(at_built, at_building, "no '%s' after '%s':\n%s", built, building, run.out);
        cr_assert_geq(cli_message_index(msgs, "gn: parsed 10 crates"), 0, "%s", run.out);
        /* Built now: the next discover builds nothing and says nothing about it. */
        cli_run_release(&run);
        pm_labels_free(msgs);
        cJSON_Delete(fin);
        cli_fx_run(&fx, NULL, env, args, &run);
        cr_assert_eq(run.status, 0, "%s", run.out);
        fin = cli_discover_lines(run.out, &msgs);
        cr_assert_eq(cli_message_index(msgs, "proc macro"), -1, "%s", run.out);
        cJSON_Delete(fin);
        pm_labels_free(msgs);
        cli_run_release(&run);
        pm_free(building);
        pm_free(built);
        pm_free(arg);
}

/* Append @text to the repository file @rel. */
static void
append_to(const char *rel, const char *text)
{
        char *path = cli_fx_path(&fx, rel);
        char *old = pm_test_read_file(path), *now;

        cr_assert_not_null(old, "cannot read '%s'", path);
        now = pm_test_strf("%s%s", old, text);
        cr_assert_eq(pm_test_write_file(path, now), 0);
        pm_free(now);
        pm_free(old);
        pm_free(path);
}

/*
 * A crate whose root module is an action's output under the build directory, on a tree that
 * was never built: export builds the root module (generated files are built like the dylibs,
 * docs/build-integration.md), the crate names it, and every crate type-checks with bare rustc
 * from the JSON. No `sources`: the root module alone names the file (server/procmacro.c also
 * builds what ninja writes into a missing include dir, which the root module's directory is).
 */
Test(cli_procmacro, export_builds_a_generated_root_module, .timeout = 900)
{
        char *script = cli_fx_path(&fx, "tools/codegen/gen_root.py");
        char *root = cli_fx_path(&fx, "out/gen/lib/tables/genroot/lib.rs");
        char *json;
        const cJSON *c;
        cJSON *p;

        cr_assert_eq(pm_test_write_file(script,
                                        "import sys\n"
                                        "with open(sys.argv[1], 'w') as f:\n"
                                        "    f.write('pub fn answer() -> u32 { 42 }\\n')\n"),
                     0);
        append_to("lib/tables/BUILD.gn",
                  "\naction(\"gen_root_rs\") {\n"
                  "  script = \"//tools/codegen/gen_root.py\"\n"
                  "  outputs = [ \"$target_gen_dir/genroot/lib.rs\" ]\n"
                  "  args = [ rebase_path(\"$target_gen_dir/genroot/lib.rs\", root_build_dir) ]\n"
                  "}\n"
                  "rust_library(\"genroot\") {\n"
                  "  crate_name = \"genroot\"\n"
                  "  crate_root = \"$target_gen_dir/genroot/lib.rs\"\n"
                  "  rustflags = [ \"--edition=2021\" ]\n"
                  "  deps = [ \":gen_root_rs\" ]\n"
                  "}\n");
        json = cli_fx_export(&fx, NULL);
        cr_assert(is_file(root), "the generated root module '%s' was not built", root);
        p = cJSON_Parse(json);
        cr_assert(p, "%s", json);
        c = pm_test_crate_named(p, "genroot");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring, root);
        assert_valid_and_checks(json);
        cJSON_Delete(p);
        pm_free(json);
        pm_free(root);
        pm_free(script);
}

/* Make describe_derive (@path, whose text was @orig) depend on an action running @script, a
 * Python script with text @text that exits 1 (written beside it). */
static void
action_that_fails(const char *path, const char *orig, const char *script, const char *text)
{
        char *build = pm_test_strf("action(\"spec\") {\n"
                                   "  script = \"%s\"\n"
                                   "  outputs = [ \"$target_gen_dir/spec.txt\" ]\n"
                                   "  args = []\n"
                                   "}\n"
                                   "%.*s  deps = [ \":spec\" ]\n}\n",
                                   script, (int)(strrchr(orig, '}') - orig), orig);
        char *rel = pm_test_strf("lib/describe_derive/%s", script);
        char *file = cli_fx_path(&fx, rel);

        cr_assert_eq(pm_test_write_file(file, text), 0);
        cr_assert_eq(pm_test_write_file(path, build), 0);
        pm_free(file);
        pm_free(rel);
        pm_free(build);
}

/*
 * ninja failing for a reason that is not a compile error: the proc macro needs an input file
 * that does not exist (ninja stops before running anything), or an action it depends on exits
 * 1. Either way the rest is served, the proc macro has no dylib, and its note names the target
 * and the first error line: the script's own when it printed one, else ninja's.
 */
Test(cli_procmacro, a_build_failing_outside_the_compiler_is_a_note_naming_ninjas_error,
     .timeout = 900)
{
        const char *build = "lib/describe_derive/BUILD.gn";
        char *path = cli_fx_path(&fx, build), *orig = pm_test_read_file(path);
        char *old, *dump, *want;

        cr_assert_not_null(orig);
        /* An input that is missing: ninja's own error, quoted in the failed step's line. */
        old = pm_test_strf("%.*s  inputs = [ \"spec.txt\" ]\n}\n", (int)(strrchr(orig, '}') - orig),
                           orig);
        cr_assert_eq(pm_test_write_file(path, old), 0);
        pm_free(old);
        dump = export_without_the_derive_dylib(NULL);
        want = pm_test_strf("note: proc macro " DERIVE " not built: 'ninja -C %s/out -k 0 ",
                            fx.repo);
        cr_assert(strstr(dump, want), "%s", dump);
        cr_assert(strstr(dump, "' failed with exit status 1: ninja: error: "
                               "'../lib/describe_derive/spec.txt', needed by "),
                  "%s", dump);
        pm_free(want);
        pm_free(dump);
        /* An action the proc macro depends on exits 1 without a word: ninja's FAILED line names
         * its output (in the host toolchain's directory, as the proc macro's), without the space
         * ninja ends it with. */
        action_that_fails(path, orig, "silent.py", "import sys\nsys.exit(1)\n");
        dump = export_without_the_derive_dylib(NULL);
        cr_assert(strstr(dump, "note: proc macro " DERIVE " not built: FAILED: "
                               "host/gen/lib/describe_derive/spec.txt\n"),
                  "%s", dump);
        pm_free(dump);
        /* One that says why on stderr: its own line is the note, not ninja's FAILED line. */
        action_that_fails(path, orig, "fail.py",
                          "import sys\nprint('reading the spec', flush=True)\n"
                          "sys.stderr.write('spec: no such table\\n')\nsys.exit(1)\n");
        dump = export_without_the_derive_dylib(NULL);
        cr_assert(strstr(dump, "note: proc macro " DERIVE " not built: spec: no such table\n"),
                  "%s", dump);
        pm_free(dump);
        pm_free(orig);
        pm_free(path);
}
