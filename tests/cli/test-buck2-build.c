/* SPDX-License-Identifier: MIT */
/* Buck2 proc macros built by `projmodel export` through a stand-in buck2 (Buck2 cannot run here)
 * that writes Buck2's build report: the argv projmodel runs, the cached dylib the JSON names, a
 * failed build served as a note, and `build_proc_macros: false` running no build; and which
 * non-zero exits of `buck2 targets --keep-going` still give a model. */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "cli-test.h"
#include "rustc-check.h"
#include "testlib.h"

#define LABEL          "root//macros:derive_it"
#define GEN_LABEL      "root//lib/bar:gen-consts"
#define OUT_DIR_TARGET "root//third-party/rust:gen-0.1.0-build-script-run[out_dir]"
#define FLAGS_TARGET   "root//third-party/rust:gen-0.1.0-build-script-run[rustc_flags]"
#define DYLIB_BYTES    "not really ELF, but the bytes the cache must copy"

static struct cli_fx fx;

/*
 * `targets --json`: the project's targets.json (the fixture's unless a test changed it), and with
 * a file TARGETS_EXIT the exit status it holds, after printing the file TARGETS_STDERR on stderr
 * (older Buck2 exits non-zero with --keep-going's partial list). `build --keep-going
 * --build-report=FILE
 * --show-full-json-output T...`: per target a dylib under buck-out and a build report in Buck2's
 * format (results -> label -> configured -> configuration -> success/outputs/errors, paths
 * relative to project_root, each error's message_content a key of the report's `strings`,
 * `failures` empty), stdout {"T": "/abs/dylib"}; with a file FAIL in the project, every target
 * fails with rustc's error in its report entry and buck2 exits 3. A sub-target `T[out_dir]`
 * (reindeer's build-script run) writes gen.rs into a directory under buck-out, reported under the
 * unconfigured `T` with the outputs keyed by the sub-target's name, as Buck2's build report keys
 * them ("out_dir"; "DEFAULT" for the target itself); `T[rustc_flags]` writes the file
 * prelude/rust/tools/buildscript_run.py writes there (`--cfg=X` and `--env-set=NAME=value` lines,
 * `$(abspath REL)` for a path), its output under the same `T`; with a file FAIL_OUT_DIR it fails
 * instead, with the build script's panic as its error. A genrule (its `buck.type` in targets.json)
 * writes its `out` under buck-out, its DEFAULT output; with a file FAIL_GEN it fails. Every argv is
 * appended to argv.log beside the script.
 */
static const char fake_buck2[] =
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "with open(os.path.join(here, 'argv.log'), 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "argv = sys.argv[1:]\n"
        "root = os.getcwd()\n"
        "if 'targets' in argv:\n"
        "    sys.stdout.write(open(os.path.join(root, 'targets.json')).read())\n"
        "    if os.path.exists(os.path.join(root, 'TARGETS_EXIT')):\n"
        "        sys.stderr.write(open(os.path.join(root, 'TARGETS_STDERR')).read())\n"
        "        sys.exit(int(open(os.path.join(root, 'TARGETS_EXIT')).read()))\n"
        "    sys.exit(0)\n"
        "report = [a for a in argv if a.startswith('--build-report=')][0].split('=', 1)[1]\n"
        "targets = [a for a in argv[argv.index('build') + 1:] if not a.startswith('-')]\n"
        "fail = os.path.exists(os.path.join(root, 'FAIL'))\n"
        "bad = fail\n"
        "cfg = 'prelude//platforms:default#524f8da68ea2a374'\n"
        "FLAGS = ('--cfg=gen_fast\\n--cfg=gen_level=\"2\"\\n--env-set=GEN_GREETING=hi\\n'\n"
        "         '--env-set=GEN_DIR=$(abspath third-party/rust/vendor/gen)\\n-lfoo\\n')\n"
        "results, strings, shown = {}, {}, {}\n"
        "for i, t in enumerate(targets):\n"
        "    base, _, sub = t.partition('[')\n"
        "    pkg, name = base.split('//', 1)[1].split(':')\n"
        "    if sub:\n"
        "        key = sub.rstrip(']').replace('][', '|')\n"
        "        if os.path.exists(os.path.join(root, 'FAIL_OUT_DIR')):\n"
        "            msg = ('Action failed: ' + base + ' (' + cfg + ') (buildscript)\\n'\n"
        "                   \"thread 'main' panicked at build.rs:2:5\")\n"
        "            k = str(1469598103934665603 + 100 + i)\n"
        "            strings[k] = msg\n"
        "            err = {'message_content': k, 'action_error': None, 'cause_index': i}\n"
        "            entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                     'configured_graph_size': None, 'errors': [err]}\n"
        "            bad = True\n"
        "        else:\n"
        "            rel = ('buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name +\n"
        "                   '__/' + key.replace('|', '/'))\n"
        "            if key == 'rustc_flags':\n"
        "                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "                open(os.path.join(root, rel), 'w').write(FLAGS)\n"
        "            else:\n"
        "                os.makedirs(os.path.join(root, rel), exist_ok=True)\n"
        "                open(os.path.join(root, rel, 'gen.rs'), 'w').write('pub const N: u32 = 7;\\n')\n"
        "            entry = {'success': 'SUCCESS', 'outputs': {key: [rel]},\n"
        "                     'other_outputs': {}, 'configured_graph_size': 3, 'errors': []}\n"
        "            shown[t] = os.path.join(root, rel)\n"
        "        old = results.get(base, {}).get('configured', {}).get(cfg)\n"
        "        if old and old['success'] == 'SUCCESS' and entry['success'] == 'SUCCESS':\n"
        "            old['outputs'].update(entry['outputs'])\n"
        "        elif not old or entry['success'] != 'SUCCESS':\n"
        "            results[base] = {'configured': {cfg: entry}, 'errors': []}\n"
        "        continue\n"
        "    rule = [x for x in json.load(open(os.path.join(root, 'targets.json')))\n"
        "            if x.get('buck.package') == base.split(':')[0] and x.get('name') == name]\n"
        "    genrule = bool(rule) and rule[0]['buck.type'].endswith(':genrule')\n"
        "    if genrule and os.path.exists(os.path.join(root, 'FAIL_GEN')):\n"
        "        key = str(1469598103934665603 + 200 + i)\n"
        "        strings[key] = 'Action failed: ' + t + ' (' + cfg + ') (genrule)\\nexit 1'\n"
        "        err = {'message_content': key, 'action_error': None, 'cause_index': i}\n"
        "        entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                 'configured_graph_size': None, 'errors': [err]}\n"
        "        bad = True\n"
        "    elif genrule:\n"
        "        rel = ('buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name +\n"
        "               '__/out/' + rule[0].get('out', name))\n"
        "        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "        open(os.path.join(root, rel), 'w').write('pub const N: u32 = 3;\\n')\n"
        "        entry = {'success': 'SUCCESS', 'outputs': {'DEFAULT': [rel]},\n"
        "                 'other_outputs': {}, 'configured_graph_size': 2, 'errors': []}\n"
        "        shown[t] = os.path.join(root, rel)\n"
        "    elif fail:\n"
        "        msg = ('Action failed: ' + t + ' (' + cfg + ') (rustc)\\n'\n"
        "               'error[E0308]: mismatched types\\n --> ' + pkg + '/src/lib.rs:3:5')\n"
        "        key = str(1469598103934665603 + i)\n"
        "        strings[key] = msg\n"
        "        err = {'message_content': key, 'action_error': None, 'cause_index': i}\n"
        "        entry = {'success': 'FAIL', 'outputs': {}, 'other_outputs': {},\n"
        "                 'configured_graph_size': None, 'errors': [err]}\n"
        "    else:\n"
        "        rel = ('buck-out/v2/gen/root/524f8da68ea2a374/' + pkg + '/__' + name +\n"
        "               '__/lib' + name + '-proc-macro.so')\n"
        "        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)\n"
        "        open(os.path.join(root, rel), 'w').write('" DYLIB_BYTES "\\n')\n"
        "        entry = {'success': 'SUCCESS', 'outputs': {'DEFAULT': [rel]},\n"
        "                 'other_outputs': {}, 'configured_graph_size': 42, 'errors': []}\n"
        "        shown[t] = os.path.join(root, rel)\n"
        "    results[t] = {'configured': {cfg: entry}, 'errors': []}\n"
        "doc = {'trace_id': '3e8e8c70-1d2c-4c3a-9e1e-0b2f6f3c1a11', 'success': not bad,\n"
        "       'results': results, 'failures': {}, 'project_root': root,\n"
        "       'truncated': False, 'strings': strings}\n"
        "open(report, 'w').write(json.dumps(doc))\n"
        "print(json.dumps(shown))\n"
        "sys.exit(3 if bad else 0)\n";

/* A copy of the Buck2 fixture at tmp/b2 using the stand-in, with @extra settings. */
static char *
make_repo(const char *extra)
{
        char *repo = pm_test_strf("%s/b2", fx.tmp),
             *src = pm_test_strf("%s/tests/buck2/fixtures/repo", pm_test_source_root());
        char *fake = pm_test_strf("%s/fake-buck2", fx.tmp);
        char *conf = pm_test_strf("%s/.projmodel.json", repo), *text;

        cr_assert_eq(pm_test_copy_tree(src, repo), 0);
        cr_assert_eq(pm_test_write_file(fake, fake_buck2), 0);
        cr_assert_eq(chmod(fake, 0755), 0);
        text = pm_test_strf("{\"build_system\": \"buck2\", \"buck2\": {\"command\": [\"%s\"]%s}}\n",
                            fake, extra);
        cr_assert_eq(pm_test_write_file(conf, text), 0);
        pm_free(text);
        pm_free(conf);
        pm_free(fake);
        pm_free(src);
        return repo;
}

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

static cJSON *
export_ok(const char *repo)
{
        const char *args[] = { "export", "--root", repo, NULL };
        struct cli_run r;
        cJSON *p;

        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        cli_run_release(&r);
        return p;
}

static const cJSON *
crate_of(const cJSON *p, const char *repo, const char *rel)
{
        char *want = pm_test_strf("%s/%s", repo, rel);
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "root_module");

                if (cJSON_IsString(m) && strcmp(m->valuestring, want) == 0) {
                        pm_free(want);
                        return c;
                }
        }
        cr_assert_fail("no crate with root_module %s", want);
        return NULL;
}

static char *
read_log(void)
{
        char *log = pm_test_strf("%s/argv.log", fx.tmp), *text = pm_test_read_file(log);

        cr_assert(text, "%s not written", log);
        pm_free(log);
        return text;
}

/* No build report is left in projmodel's cache directory once it was read. */
static void
assert_no_report_left(void)
{
        char *dir = pm_test_strf("%s/projmodel", fx.cache);
        char *left = pm_test_find_prefix(dir, "buck2-build-report-");

        cr_assert_null(left, "%s/%s left behind", dir, left);
        pm_free(dir);
}

/* The --build-report=FILE argument of the @i-th (from 0) build in the argv log, or NULL. */
static char *
report_arg(const char *log, int i)
{
        const char *p = log;

        for (; (p = strstr(p, "\"--build-report=")) != NULL; p++)
                if (i-- == 0)
                        return pm_test_strf("%.*s", (int)strcspn(p + 1, "\""), p + 1);
        return NULL;
}

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

TestSuite(cli_buck2_build, .init = setup, .fini = teardown);

Test(cli_buck2_build, builds_exactly_the_proc_macros_and_serves_the_cached_dylib)
{
        char *repo = make_repo(""), *log, *expect, *bytes;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *p = export_ok(repo), *argv;
        struct cli_run r;
        const cJSON *dylib;
        const char *line;

        /* One build, of exactly the fixture's genrule (bar-core's mapped_srcs) and the proc macro,
         * with the report in projmodel's cache. */
        log = read_log();
        line = strstr(log, "\"build\"");
        cr_assert(line, "%s", log);
        cr_assert_null(strstr(line + 1, "\"build\""), "more than one build: %s", log);
        while (line > log && line[-1] != '\n')
                line--;
        argv = cJSON_Parse(line);
        cr_assert(argv && cJSON_GetArraySize(argv) == 8, "%s", line);
        expect = pm_test_strf("--build-report=%s/", fx.cache);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 0)->valuestring, "--isolation-dir");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 1)->valuestring, ".projmodel");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 2)->valuestring, "build");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 3)->valuestring, "--keep-going");
        cr_assert(strncmp(cJSON_GetArrayItem(argv, 4)->valuestring, expect, strlen(expect)) == 0,
                  "%s", cJSON_GetArrayItem(argv, 4)->valuestring);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 5)->valuestring, "--show-full-json-output");
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 6)->valuestring, GEN_LABEL);
        cr_assert_str_eq(cJSON_GetArrayItem(argv, 7)->valuestring, LABEL);
        /* Read, then removed: a name per run, so no other run can overwrite it meanwhile. */
        assert_no_report_left();

        /* The JSON names the cache's copy of the dylib the report named, not buck-out's. */
        dylib = cJSON_GetObjectItemCaseSensitive(crate_of(p, repo, "macros/src/lib.rs"),
                                                 "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib));
        pm_free(expect);
        expect = pm_test_strf("%s/", fx.cache);
        cr_assert(strncmp(dylib->valuestring, expect, strlen(expect)) == 0, "%s",
                  dylib->valuestring);
        bytes = pm_test_read_file(dylib->valuestring);
        cr_assert(bytes, "%s missing", dylib->valuestring);
        cr_assert_str_eq(bytes, DYLIB_BYTES "\n");
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(crate_of(p, repo, "lib/foo/src/lib.rs"),
                                                        "proc_macro_dylib_path"));
        /* And the parse's "not built" note is gone. */
        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built"), "%s", r.out);
        cli_run_release(&r);
        pm_free(bytes);
        pm_free(expect);
        cJSON_Delete(argv);
        cJSON_Delete(p);
        pm_free(log);
        pm_free(repo);
}

Test(cli_buck2_build, a_failed_build_is_a_note_and_the_rest_is_served)
{
        char *repo = make_repo(""), *fail = pm_test_strf("%s/FAIL", repo), *good_text, *bad_text;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *good = export_ok(repo), *bad;
        cJSON *c;
        struct cli_run r;
        char *log, *first, *second;

        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        bad = export_ok(repo);
        /* A report written by a failed build (exit 3) is removed too, and each run had its own. */
        assert_no_report_left();
        log = read_log();
        first = report_arg(log, 0);
        second = report_arg(log, 1);
        cr_assert(first && second, "%s", log);
        cr_assert_str_neq(first, second);
        pm_free(first);
        pm_free(second);
        pm_free(log);
        c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(bad, "crates"), 0);
        cr_assert(c);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(crate_of(bad, repo, "macros/src/lib.rs"),
                                                        "proc_macro_dylib_path"));
        /* Everything else is as before: drop the dylib from the good answer and compare. */
        cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)crate_of(good, repo, "macros/src/lib.rs"),
                                                "proc_macro_dylib_path");
        good_text = cJSON_PrintUnformatted(good);
        bad_text = cJSON_PrintUnformatted(bad);
        cr_assert_str_eq(bad_text, good_text);

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built by projmodel"), "%s", r.out);
        cr_assert(strstr(r.out, "proc macro " LABEL " not built: Action failed: " LABEL
                                " (prelude//platforms:default#524f8da68ea2a374) (rustc)\n"),
                  "%s", r.out);
        cli_run_release(&r);
        cJSON_free(good_text);
        cJSON_free(bad_text);
        cJSON_Delete(good);
        cJSON_Delete(bad);
        pm_free(fail);
        pm_free(repo);
}

Test(cli_buck2_build, build_proc_macros_false_runs_no_build)
{
        char *repo = make_repo(", \"build_proc_macros\": false"), *log;
        cJSON *p = export_ok(repo);

        log = read_log();
        cr_assert_null(strstr(log, "\"build\""), "%s", log);
        cr_assert(strstr(log, "\"targets\""), "%s", log);
        cr_assert_null(cJSON_GetObjectItemCaseSensitive(crate_of(p, repo, "macros/src/lib.rs"),
                                                        "proc_macro_dylib_path"));
        cJSON_Delete(p);
        pm_free(log);
        pm_free(repo);
}

/* Through the daemon (server/update-worker.c): discover of the proc macro's root
 * module serves the cached dylib the build report named. */
Test(cli_buck2_build, the_daemon_builds_and_serves_the_dylib_too)
{
        char *repo = make_repo(""), *run = pm_test_strf("%s/run", fx.tmp);
        char *run_env = pm_test_strf("XDG_RUNTIME_DIR=%s", run);
        char *file = pm_test_strf("{\"path\":\"%s/macros/src/lib.rs\"}", repo), *log, *expect, *at;
        const char *env[] = { run_env, NULL };
        const char *argv[] = { "discover", file, NULL };
        const char *stop[] = { "stop", "--root", repo, NULL };
        struct cli_run r, s;

        cr_assert_eq(mkdir(run, 0700), 0);
        cli_fx_run(&fx, repo, env, argv, &r);
        cli_fx_run(&fx, repo, env, stop, &s);
        cli_run_release(&s);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "asking the projmodel daemon"), "%s", r.out);
        expect = pm_test_strf("\"proc_macro_dylib_path\":\"%s/", fx.cache);
        at = strstr(r.out, expect);
        cr_assert(at, "%s", r.out);
        log = read_log();
        cr_assert(strstr(log, "\"--show-full-json-output\", \"" GEN_LABEL "\", \"" LABEL "\"]"),
                  "%s", log);
        assert_no_report_left();
        cli_run_release(&r);
        pm_free(expect);
        pm_free(log);
        pm_free(file);
        pm_free(run_env);
        pm_free(run);
        pm_free(repo);
}

/* One-shot discover (PROJMODEL_NO_DAEMON): the build step (server/build.c) reports building and
 * built through the refresh's progress, as protocol lines before the finished one. */
Test(cli_buck2_build, discover_reports_the_build_in_progress_lines)
{
        char *repo = make_repo(""), *db = pm_test_strf("%s/b2.db", fx.tmp);
        char *file = pm_test_strf("{\"path\":\"%s/macros/src/lib.rs\"}", repo);
        const char *env[] = { "PROJMODEL_NO_DAEMON=1", NULL };
        const char *argv[] = { "discover", "--db", db, file, NULL };
        struct cli_run r;
        char **msgs = NULL;
        cJSON *fin;
        int at_building, at_built;

        cli_fx_run(&fx, repo, env, argv, &r);
        cr_assert_eq(r.status, 0, "%s", r.out);
        cr_assert_str_eq(r.err, "");
        fin = cli_discover_lines(r.out, &msgs);
        at_building =
                cli_message_index(msgs, "building 1 proc macro and 1 generated source with buck2");
        at_built = cli_message_index(msgs, "built 1 proc macro");
        cr_assert_geq(at_building, 0, "%s", r.out);
        cr_assert_gt(at_built, at_building, "%s", r.out);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                          crate_of(cJSON_GetObjectItemCaseSensitive(fin, "project"), repo,
                                   "macros/src/lib.rs"),
                          "proc_macro_dylib_path")),
                  "%s", r.out);
        cJSON_Delete(fin);
        pm_labels_free(msgs);
        cli_run_release(&r);
        pm_free(file);
        pm_free(db);
        pm_free(repo);
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

/* reindeer's OUT_DIR (`$(location :X-build-script-run[out_dir])`): built in the same run as the
 * proc macro, served as the absolute directory Buck2's report names (no copy), in the crate's
 * include_dirs, with no "not built" note. reindeer's `rustc_flags = ["@$(location
 * :X-build-script-run[rustc_flags])"]`: that sub-target is built in the same run, and the cfgs and
 * variables of the file it names are the crate's; it type-checks with bare rustc from the JSON
 * (its lib.rs needs them). */
Test(cli_buck2_build, builds_the_out_dir_and_serves_the_reported_directory)
{
        char *repo = make_repo(""), *log, *want, *gen, *one_text, *work, *gen_dir;
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        cJSON *p, *one;
        const cJSON *c, *dirs, *d;
        const char *out_dir;
        struct cli_run r;
        bool listed = false;
        char *report = NULL;

        add_reindeer_build_script(repo);
        p = export_ok(repo);
        /* One build, of the proc macro and the build-script run's out_dir sub-target. */
        log = read_log();
        cr_assert(strstr(log, "\"" OUT_DIR_TARGET "\", \"" FLAGS_TARGET "\""), "%s", log);
        cr_assert(strstr(log, "\"" LABEL "\""), "%s", log);
        cr_assert_null(strstr(strstr(log, "\"build\"") + 1, "\"build\""), "%s", log);
        assert_no_report_left();

        c = crate_of(p, repo, "third-party/rust/vendor/gen/src/lib.rs");
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
                crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));

        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_null(strstr(r.out, "not built"), "%s", r.out);
        cli_run_release(&r);

        /* include!(concat!(env!("OUT_DIR"), "/gen.rs")) resolves: the crate alone, as exported. */
        one = cJSON_CreateObject();
        cJSON_AddItemToObject(one, "crates", cJSON_CreateArray());
        cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(one, "crates"),
                             cJSON_Duplicate(c, true));
        one_text = cJSON_PrintUnformatted(one);
        work = pm_test_strf("%s/rustc-gen", fx.tmp);
        cr_assert_eq(mkdir(work, 0700), 0);
        cr_assert_eq(pm_test_rustc_check_project(one_text, work, &report), 0, "%s", report);

        pm_free(report);
        pm_free(work);
        cJSON_free(one_text);
        cJSON_Delete(one);
        pm_free(gen);
        pm_free(want);
        pm_free(log);
        cJSON_Delete(p);
        pm_free(repo);
}

/* A build-script run that fails: its crate keeps Buck2's value and gets a note naming the target
 * and the first line of Buck2's error; everything else is served as before. */
Test(cli_buck2_build, a_failed_out_dir_is_a_note_and_the_rest_is_served)
{
        char *repo = make_repo(""), *fail = pm_test_strf("%s/FAIL_OUT_DIR", repo);
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", "--format", "json", NULL };
        cJSON *p, *crates;
        const cJSON *c, *note, *list;
        struct cli_run r;

        add_reindeer_build_script(repo);
        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        p = export_ok(repo);
        c = crate_of(p, repo, "third-party/rust/vendor/gen/src/lib.rs");
        cr_assert_str_eq(env_of(c, "OUT_DIR"), "$(location :gen-0.1.0-build-script-run[out_dir])");
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));
        assert_no_report_left();

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

/* True if the crate at @from depends on the crate at @to (root modules relative to @repo). */
static bool
depends_on(const cJSON *p, const char *repo, const char *from, const char *to)
{
        const cJSON *crates = cJSON_GetObjectItemCaseSensitive(p, "crates"), *d;
        const cJSON *target = crate_of(p, repo, to);
        int i = 0, n = cJSON_GetArraySize(crates);

        while (i < n && cJSON_GetArrayItem(crates, i) != target)
                i++;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(crate_of(p, repo, from), "deps"))
        {
                if (cJSON_GetObjectItemCaseSensitive(d, "crate")->valueint == i)
                        return true;
        }
        return false;
}

/*
 * Make the stand-in's `targets` print @repo's list with package root//lib/util replaced by its
 * "buck.error" entry, as --keep-going does for a package it cannot load, and exit @status.
 */
static void
break_util(const char *repo, int status)
{
        char *targets = pm_test_strf("%s/targets.json", repo);
        char *exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        char *err_file = pm_test_strf("%s/TARGETS_STDERR", repo);
        char *text = pm_test_read_file(targets), *out, *code = pm_test_strf("%d\n", status);
        cJSON *arr = cJSON_Parse(text), *obj, *next;

        cr_assert(cJSON_IsArray(arr));
        for (obj = arr->child; obj; obj = next) {
                next = obj->next;
                if (strcmp(cJSON_GetObjectItem(obj, "buck.package")->valuestring,
                           "root//lib/util") == 0)
                        cJSON_Delete(cJSON_DetachItemViaPointer(arr, obj));
        }
        obj = cJSON_Parse("{\"buck.package\": \"root//lib/util\", \"buck.error\": \"Error parsing: "
                          "`root//lib/util:TARGETS`\\n\\nCaused by:\\n    error: Parse error: "
                          "unexpected new line here\\n     --> lib/util/TARGETS:3:20\\n\"}");
        cr_assert(obj);
        cJSON_AddItemToArray(arr, obj);
        out = cJSON_Print(arr);
        cr_assert_eq(pm_test_write_file(targets, out), 0);
        cr_assert_eq(pm_test_write_file(exit_file, code), 0);
        cr_assert_eq(pm_test_write_file(err_file, "Command failed: \n1 package failed to load\n"),
                     0);
        cJSON_free(out);
        cJSON_Delete(arr);
        pm_free(code);
        pm_free(text);
        pm_free(err_file);
        pm_free(exit_file);
        pm_free(targets);
}

/*
 * A Buck2 that exits 2 (1 for early versions) with --keep-going's partial list: the export has
 * the other packages' crates and warns of the broken one; a crate that depends on its targets
 * is named in a warning with the dependency, and once the model has it, keeps its last good
 * state, the edge included.
 */
Test(cli_buck2_build, keep_going_exit_keeps_the_other_packages)
{
        char *repo = make_repo(""), *saved = pm_test_strf("%s/targets.json", repo);
        char *good_targets = pm_test_read_file(saved), *exit_file;
        char *want_new = pm_test_strf("buck2 could not load %s/lib/util/TARGETS (nor the 3 build "
                                      "files that depend on it) and the model has no earlier "
                                      "state of them: their crates are missing until it loads",
                                      repo);
        char *want_kept = pm_test_strf("warning: kept the last good state of 5 crates of "
                                       "%s/lib/util/TARGETS, which buck2 could not load, and of 3 "
                                       "build files that depend on it: the next run after the "
                                       "fix updates them\n",
                                       repo);
        const char *args[] = { "export", "--root", repo, NULL };
        struct cli_run r;
        cJSON *p;

        /* No earlier state: the crates that depend on root//lib/util wait for it. */
        break_util(repo, 2);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cr_assert(strstr(r.err, "lib/util/TARGETS:3:20: Parse error: unexpected new line here "
                                "(buck2 could not load it with --keep-going)"),
                  "%s", r.err);
        cr_assert(strstr(r.err, "crate 'root//lib/foo:foo' depends on 'root//lib/util:util' of "
                                "package 'root//lib/util' (buck2 could not load it with "
                                "--keep-going)"),
                  "%s", r.err);
        /* The one file that failed is named and counted, not the dependents' files. */
        cr_assert(strstr(r.err, want_new), "want '%s' in: %s", want_new, r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        (void)crate_of(p, repo, "lib/testutil/src/lib.rs");
        (void)crate_of(p, repo, "macros/src/lib.rs");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 3, "%s",
                     r.out);
        cJSON_Delete(p);
        cli_run_release(&r);

        /* Fixed: every crate. */
        cr_assert_eq(pm_test_write_file(saved, good_targets), 0);
        exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        cr_assert_eq(unlink(exit_file), 0);
        p = export_ok(repo);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 8);
        cr_assert(depends_on(p, repo, "lib/foo/src/lib.rs", "lib/util/src/lib.rs"));
        cJSON_Delete(p);

        /* Broken again, exit 1: the crates of the last good state, edges included. */
        break_util(repo, 1);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cr_assert(strstr(r.err, "root//lib/util"), "%s", r.err);
        cr_assert(strstr(r.err, want_kept), "want '%s' in: %s", want_kept, r.err);
        p = cJSON_Parse(r.out);
        cr_assert(p, "%s", r.out);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 8, "%s",
                     r.out);
        cr_assert(depends_on(p, repo, "lib/foo/src/lib.rs", "lib/util/src/lib.rs"));
        cr_assert(depends_on(p, repo, "lib/bar/lib.rs", "lib/util/src/lib.rs"));
        cJSON_Delete(p);
        cli_run_release(&r);
        pm_free(want_kept);
        pm_free(want_new);
        pm_free(exit_file);
        pm_free(good_targets);
        pm_free(saved);
        pm_free(repo);
}

/* A Buck2 that exits 1 having printed no --keep-going list (a bad flag, a daemon that died):
 * the export fails with buck2's error line, and says why the exit does not count. */
Test(cli_buck2_build, keep_going_exit_without_the_list_is_an_error)
{
        char *repo = make_repo(""), *targets = pm_test_strf("%s/targets.json", repo);
        char *exit_file = pm_test_strf("%s/TARGETS_EXIT", repo);
        char *err_file = pm_test_strf("%s/TARGETS_STDERR", repo);
        const char *args[] = { "export", "--root", repo, NULL };
        const char *line;
        struct cli_run r;

        cr_assert_eq(pm_test_write_file(targets, "[{\"buck.type\": \"prelude//rules.bzl:rust_"), 0);
        cr_assert_eq(pm_test_write_file(exit_file, "1\n"), 0);
        cr_assert_eq(pm_test_write_file(err_file,
                                        "Starting new buck2 daemon...\nError: Buck2 daemon "
                                        "shutdown while processing a request\n"
                                        "Command failed: \n"),
                     0);
        cli_fx_run(&fx, repo, NULL, args, &r);
        cr_assert_neq(r.status, 0, "%s", r.out);
        cr_assert_str_eq(r.out, "");
        line = strstr(r.err, "' exited with status 1: Error: Buck2 daemon shutdown while "
                             "processing a request (not --keep-going's partial list: its output "
                             "is not complete JSON)\n");
        cr_assert(line, "%s", r.err);
        cr_assert_eq(strchr(r.err, '\n'), line + strlen(line) - 1, "one line: %s", r.err);
        cli_run_release(&r);
        pm_free(err_file);
        pm_free(exit_file);
        pm_free(targets);
        pm_free(repo);
}

/*
 * Add to the copy @repo a genrule root//gen:gen_rs and two crates of its output: root//gen:g1
 * with `srcs = [":gen_rs"]` (its only source, so its root) and root//gen:g2 with `mapped_srcs =
 * {":gen_rs": "lib.rs"}`, both as `buck2 targets --json` prints them (canonical labels).
 */
static void
add_genrule(const char *repo)
{
        char *targets = pm_test_strf("%s/targets.json", repo), *text = pm_test_read_file(targets);
        cJSON *arr = cJSON_Parse(text);
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
        char *out;

        cr_assert(cJSON_IsArray(arr));
        for (size_t i = 0; i < sizeof(add) / sizeof(add[0]); i++) {
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

/* The crate of @p whose display_name is @label. */
static const cJSON *
crate_named(const cJSON *p, const char *label)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "display_name");

                if (cJSON_IsString(l) && strcmp(l->valuestring, label) == 0)
                        return c;
        }
        cr_assert_fail("no crate %s", label);
        return NULL;
}

/* A crate whose sources a genrule writes (`srcs` or `mapped_srcs` naming its label): the genrule
 * is built in the same run as the proc macro, and the crate's root is the file Buck2's report
 * names, so it type-checks with bare rustc from the exported JSON. */
Test(cli_buck2_build, builds_generated_sources_and_serves_the_reported_file)
{
        char *repo = make_repo(""), *log, *want, *one_text, *work, *report = NULL;
        const char *names[] = { "g1", "g2" };
        cJSON *p;

        add_genrule(repo);
        p = export_ok(repo);
        log = read_log();
        cr_assert(strstr(log, "\"root//gen:gen_rs\""), "%s", log);
        cr_assert(strstr(log, "\"" LABEL "\""), "%s", log);
        cr_assert_null(strstr(strstr(log, "\"build\"") + 1, "\"build\""), "%s", log);
        want = pm_test_strf("%s/buck-out/v2/gen/root/524f8da68ea2a374/gen/__gen_rs__/out/gen_rs.rs",
                            repo);
        for (size_t i = 0; i < 2; i++) {
                const cJSON *c = crate_named(p, names[i]);
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "root_module");
                cJSON *one = cJSON_CreateObject();

                cr_assert(cJSON_IsString(m));
                cr_assert_str_eq(m->valuestring, want);
                cr_assert_null(cJSON_GetObjectItemCaseSensitive(c, "note"));
                cJSON_AddItemToObject(one, "crates", cJSON_CreateArray());
                cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(one, "crates"),
                                     cJSON_Duplicate(c, true));
                one_text = cJSON_PrintUnformatted(one);
                work = pm_test_strf("%s/rustc-g%zu", fx.tmp, i);
                cr_assert_eq(mkdir(work, 0700), 0);
                cr_assert_eq(pm_test_rustc_check_project(one_text, work, &report), 0, "%s", report);
                pm_free(report);
                report = NULL;
                pm_free(work);
                cJSON_free(one_text);
                cJSON_Delete(one);
        }
        assert_no_report_left();
        pm_free(want);
        pm_free(log);
        cJSON_Delete(p);
        pm_free(repo);
}

/* A genrule that fails: its crates keep the parse's paths and get the note naming the target and
 * the first line of Buck2's error; the proc macro is still served. */
Test(cli_buck2_build, a_failed_generated_source_is_a_note)
{
        char *repo = make_repo(""), *fail = pm_test_strf("%s/FAIL_GEN", repo);
        char *path = pm_test_strf("%s/gen/gen_rs", repo);
        const char *dump[] = { "dump", "--root", repo, "--no-refresh", NULL };
        struct cli_run r;
        cJSON *p;
        const cJSON *c;

        add_genrule(repo);
        cr_assert_eq(pm_test_write_file(fail, ""), 0);
        p = export_ok(repo);
        c = crate_named(p, "g1");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring, path);
        cli_fx_run(&fx, repo, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "generated source root//gen:gen_rs not built: Action failed: "
                                "root//gen:gen_rs (prelude//platforms:default#524f8da68ea2a374) "
                                "(genrule)"),
                  "%s", r.out);
        cli_run_release(&r);
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                crate_of(p, repo, "macros/src/lib.rs"), "proc_macro_dylib_path")));
        cJSON_Delete(p);
        pm_free(path);
        pm_free(fail);
        pm_free(repo);
}
