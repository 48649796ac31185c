/* SPDX-License-Identifier: MIT */
/* The runnables of the exported rust-project.json, run exactly as rust-analyzer runs them
 * (placeholders substituted, program and cwd from the JSON): check-on-save reports a type error
 * at its file and line and nothing once fixed, testOne runs exactly one test (GN and Cargo);
 * plus the pure halves of `projmodel check` (command splitting, diagnostic paths). */
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/check.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "cli-test.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;

static void
setup_built(void)
{
        cli_fx_init(&fx, true);
}

static void
setup_plain(void)
{
        cli_fx_init(&fx, false);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

/* The exported project of @root (a valid rust-project.json), cJSON_Delete'd by the caller. */
static cJSON *
export_project(const char *root)
{
        const char *args[] = { "export", "--root", root, NULL };
        struct cli_run r;
        char *errors = NULL;
        cJSON *p;

        cli_fx_run(&fx, root, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export: %s", r.err);
        cr_assert_eq(pm_test_validate_project(r.out, strlen(r.out), &errors), 0, "%s", errors);
        p = cJSON_Parse(r.out);
        cr_assert(p);
        cli_run_release(&r);
        return p;
}

/* The runnable of @kind in @project. */
static const cJSON *
runnable(const cJSON *project, const char *kind)
{
        const cJSON *r;

        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(project, "runnables"))
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(r, "kind")->valuestring, kind) == 0)
                        return r;
        }
        cr_assert_fail("no '%s' runnable", kind);
        return NULL;
}

/* build.label of the crate whose root_module is @root_module. */
static const char *
label_of(const cJSON *project, const char *root_module)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring,
                           root_module) == 0)
                        return cJSON_GetObjectItemCaseSensitive(
                                       cJSON_GetObjectItemCaseSensitive(c, "build"), "label")
                                ->valuestring;
        }
        cr_assert_fail("no crate with root %s", root_module);
        return NULL;
}

/* @s with the first @ph replaced by @val, pm_malloc'd. */
static char *
fill(const char *s, const char *ph, const char *val)
{
        const char *p = strstr(s, ph);

        if (!p)
                return pm_test_strf("%s", s);
        return pm_test_strf("%.*s%s%s", (int)(p - s), s, val, p + strlen(ph));
}

/*
 * Run runnable @r as rust-analyzer does: each argument gets {label} (else @ph2) filled, the
 * program and cwd verbatim. Returns the exit status; *out and *err pm_malloc'd.
 */
static int
run_runnable(const cJSON *r, const char *label, const char *ph2, const char *val2, char **out,
             char **err)
{
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(r, "args"), *a;
        const char *argv[16];
        char *owned[16];
        const char *env[] = { NULL, NULL };
        char *cache = pm_test_strf("XDG_CACHE_HOME=%s", fx.cache);
        size_t n = 0;
        int status;

        argv[n] = cJSON_GetObjectItemCaseSensitive(r, "program")->valuestring;
        owned[n++] = NULL;
        cJSON_ArrayForEach(a, args)
        {
                cr_assert_lt(n, 15);
                if (strstr(a->valuestring, "{label}"))
                        owned[n] = fill(a->valuestring, "{label}", label);
                else
                        owned[n] = fill(a->valuestring, ph2, val2);
                argv[n] = owned[n];
                n++;
        }
        argv[n] = NULL;
        env[0] = cache;
        status = pm_test_run(argv, cJSON_GetObjectItemCaseSensitive(r, "cwd")->valuestring, env,
                             NULL, out, err);
        for (size_t i = 0; i < n; i++)
                pm_free(owned[i]);
        pm_free(cache);
        return status;
}

/*
 * How many error-level diagnostics in @out (JSON lines: cargo compiler-message or bare rustc)
 * have a primary span at @file, line @line (0: any line); every line must be JSON and every
 * file_name absolute.
 */
static int
count_errors(const char *out, const char *file, int line)
{
        int n = 0;

        for (const char *p = out; *p;) {
                const char *nl = strchr(p, '\n');
                cJSON *j = cJSON_ParseWithLength(p, nl ? (size_t)(nl - p) : strlen(p));
                const cJSON *d, *s;

                cr_assert(j, "not a JSON line: %.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
                d = cJSON_GetObjectItemCaseSensitive(j, "message");
                if (!cJSON_IsObject(d))
                        d = j;
                cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(d, "spans"))
                {
                        const char *f =
                                cJSON_GetObjectItemCaseSensitive(s, "file_name")->valuestring;

                        cr_assert(f[0] == '/', "relative file_name %s", f);
                        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "is_primary")) &&
                            strcmp(cJSON_GetObjectItemCaseSensitive(d, "level")->valuestring,
                                   "error") == 0 &&
                            strcmp(f, file) == 0 &&
                            (line == 0 ||
                             cJSON_GetObjectItemCaseSensitive(s, "line_start")->valueint == line))
                                n++;
                }
                cJSON_Delete(j);
                p = nl ? nl + 1 : p + strlen(p);
        }
        return n;
}

static int
n_lines(const char *path)
{
        char *s = pm_test_read_file(path);
        int n = 0;

        for (const char *p = s; *p; p++)
                n += *p == '\n';
        pm_free(s);
        return n;
}

static struct timespec
mtime(const char *path)
{
        struct stat st;

        cr_assert_eq(stat(path, &st), 0, "%s", path);
        return st.st_mtim;
}

/*
 * The check-on-save cycle on member file @rel of the crate rooted at @root_rel in @root: a type
 * error (on a line starting with @attr, e.g. "#[cfg(test)]") is reported, and nothing once fixed.
 */
static void
flycheck_cycle(const char *root, const char *root_rel, const char *rel, const char *attr)
{
        cJSON *p = export_project(root);
        char *root_module = pm_test_strf("%s/%s", root, root_rel);
        char *file = pm_test_strf("%s/%s", root, rel), *orig = pm_test_read_file(file);
        char *broken = pm_test_strf(
                "%s\n%s#[allow(dead_code)] fn flycheck_broken() -> u32 { \"text\" }\n", orig, attr);
        const char *label = label_of(p, root_module);
        const cJSON *fc = runnable(p, "flycheck");
        char *out = NULL, *err = NULL;
        int line;

        cr_assert_eq(pm_test_write_file(file, broken), 0);
        line = n_lines(file);
        cr_assert_eq(run_runnable(fc, label, "{saved_file}", file, &out, &err), 0, "%s", err);
        cr_assert_eq(count_errors(out, file, line), 1, "no error at %s:%d in:\n%s\n%s", file, line,
                     out, err);
        pm_free(out);
        pm_free(err);

        cr_assert_eq(pm_test_write_file(file, orig), 0);
        cr_assert_eq(run_runnable(fc, label, "{saved_file}", file, &out, &err), 0, "%s", err);
        cr_assert_eq(count_errors(out, file, 0), 0, "errors after the fix:\n%s", out);
        pm_free(out);
        pm_free(err);
        pm_free(broken);
        pm_free(orig);
        pm_free(file);
        pm_free(root_module);
        cJSON_Delete(p);
}

TestSuite(cli_flycheck, .fini = teardown);

Test(cli_flycheck, gn_flycheck_runnable_reports_a_type_error_at_its_line, .init = setup_built)
{
        char *rlib = cli_fx_path(&fx, "out/obj/lib/engine/libengine.rlib");
        struct timespec before = mtime(rlib), after;

        flycheck_cycle(fx.repo, "lib/engine/src/lib.rs", "lib/engine/src/job.rs", "");
        /* The user's build directory keeps its outputs: check wrote into projmodel's own. */
        after = mtime(rlib);
        cr_assert(before.tv_sec == after.tv_sec && before.tv_nsec == after.tv_nsec);
        pm_free(rlib);
}

/* A label with a toolchain has no ninja phony: its output comes from GN's project.json. */
Test(cli_flycheck, gn_flycheck_on_a_proc_macro_of_the_host_toolchain, .init = setup_built)
{
        flycheck_cycle(fx.repo, "lib/describe_derive/lib.rs", "lib/describe_derive/lib.rs", "");
}

Test(cli_flycheck, gn_test_one_runs_exactly_the_named_test, .init = setup_built)
{
        cJSON *p = export_project(fx.repo);
        char *root = cli_fx_path(&fx, "lib/engine/tests/engine_test.rs");
        char *out = NULL, *err = NULL;
        int st = run_runnable(runnable(p, "testOne"), label_of(p, root), "{test_id}",
                              "greeting_comes_from_rustenv", &out, &err);

        cr_assert_eq(st, 0, "%s%s", out, err);
        cr_assert(strstr(out, "test greeting_comes_from_rustenv ... ok"), "%s", out);
        cr_assert(strstr(out, "1 passed"), "%s", out);
        cr_assert_null(strstr(out, "fast_feature_is_enabled"), "%s", out);
        pm_free(out);
        pm_free(err);
        pm_free(root);
        cJSON_Delete(p);
}

Test(cli_flycheck, gn_run_runs_the_binary, .init = setup_built)
{
        cJSON *p = export_project(fx.repo);
        char *root = cli_fx_path(&fx, "app/server/src/main.rs");
        char *out = NULL, *err = NULL;
        int st = run_runnable(runnable(p, "run"), label_of(p, root), "", "", &out, &err);

        cr_assert_eq(st, 0, "%s%s", out, err);
        cr_assert(strstr(out, "workers:"), "%s", out);
        pm_free(out);
        pm_free(err);
        pm_free(root);
        cJSON_Delete(p);
}

Test(cli_flycheck, check_on_what_no_crate_owns_is_one_line_and_fails, .init = setup_plain)
{
        char *stray = cli_fx_path(&fx, "stray.rs");
        struct cli_run r;

        cr_assert_eq(pm_test_write_file(stray, "fn main() {}\n"), 0);
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "check", stray, NULL }, &r);
        cr_assert_neq(r.status, 0);
        cr_assert(cli_one_error_line(r.err, "no crate owns"), "%s", r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "check", "//no/such:crate", stray, NULL },
                   &r);
        cr_assert_neq(r.status, 0);
        cr_assert(cli_one_error_line(r.err, "'//no/such:crate'"), "%s", r.err);
        cli_run_release(&r);
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "test", "//lib/config:config", "x", NULL },
                   &r);
        cr_assert_neq(r.status, 0);
        cr_assert(cli_one_error_line(r.err, "not a test target"), "%s", r.err);
        cli_run_release(&r);
        pm_free(stray);
}

/* ninja's command for a crate is a shell line: what needs a shell, or is not rustc, is refused. */
Test(cli_flycheck, gn_commands_that_need_a_shell_are_refused_in_one_line, .init = setup_plain)
{
        char *tc = cli_fx_path(&fx, "build/toolchain/BUILD.gn");
        struct cli_run r;

        pm_test_edit_file(tc, "\"{{rustenv}} rustc --crate-name",
                          "\"cd . && {{rustenv}} rustc --crate-name");
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "check", "//lib/util:util", NULL }, &r);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(cli_one_error_line(r.err, "'&' needs a shell"), "%s", r.err);
        cr_assert(strstr(r.err, "//lib/util:util"), "%s", r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);

        pm_test_edit_file(tc, "cd . && {{rustenv}} rustc", "{{rustenv}} nice rustc");
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "check", "//lib/util:util", NULL }, &r);
        cr_assert_eq(r.status, 1, "%s", r.err);
        cr_assert(cli_one_error_line(r.err, "is 'nice', not rustc"), "%s", r.err);
        cli_run_release(&r);
        pm_free(tc);
}

/* The crate's own command may name the user's incremental directory: check drops it (ninja,
 * building the dependencies, still uses it for theirs). */
Test(cli_flycheck, gn_check_leaves_the_users_incremental_directory_alone, .init = setup_plain)
{
        char *tc = cli_fx_path(&fx, "build/toolchain/BUILD.gn"),
             *inc = cli_fx_path(&fx, "out/incr");
        struct cli_run r;
        struct dirent *e;
        DIR *d;

        pm_test_edit_file(tc, "-o {{output}}", "-C incremental=incr -o {{output}}");
        cli_fx_run(&fx, NULL, NULL, (const char *[]){ "check", "//lib/util:util", NULL }, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_empty(r.out);
        d = opendir(inc);
        while (d && (e = readdir(d)))
                cr_assert_neq(strncmp(e->d_name, "util-", 5), 0, "check wrote %s/%s", inc,
                              e->d_name);
        if (d)
                closedir(d);
        cli_run_release(&r);
        pm_free(inc);
        pm_free(tc);
}

Test(cli_flycheck, cargo_flycheck_and_test_one_through_cargo, .init = setup_plain)
{
        char *ws = cli_fx_cargo_workspace(&fx);
        char *lib = pm_test_strf("%s/calc/src/lib.rs", ws), *main_rs;
        char *out = NULL, *err = NULL;
        cJSON *p;
        int st;

        flycheck_cycle(ws, "calc/src/lib.rs", "calc/src/lib.rs", "");
        /* rust-analyzer sees member crates with cfg(test): so does their check. */
        flycheck_cycle(ws, "calc/src/lib.rs", "calc/src/lib.rs", "#[cfg(test)]");

        p = export_project(ws);
        st = run_runnable(runnable(p, "testOne"), label_of(p, lib), "{test_id}", "tests::adds",
                          &out, &err);
        cr_assert_eq(st, 0, "%s%s", out, err);
        cr_assert(strstr(out, "test tests::adds ... ok"), "%s", out);
        cr_assert(strstr(out, "1 passed"), "%s", out);
        cr_assert_null(strstr(out, "adds_more"), "%s", out);
        pm_free(out);
        pm_free(err);

        main_rs = pm_test_strf("%s/app/src/main.rs", ws);
        st = run_runnable(runnable(p, "run"), label_of(p, main_rs), "", "", &out, &err);
        cr_assert_eq(st, 0, "%s%s", out, err);
        cr_assert_str_eq(out, "sum 5\n");
        pm_free(out);
        pm_free(err);
        pm_free(main_rs);
        pm_free(lib);
        pm_free(ws);
        cJSON_Delete(p);
}

/*
 * A stand-in for buck2 (it cannot run here), answering in its documented formats: `targets
 * --json` with the fixture's targets, `build X[diag.json] --show-full-json-output` with
 * {"X[diag.json]": "<absolute path>"} and a diag.json of rustc JSON diagnostics (paths relative to
 * the project root, a type error at lib/foo/src/parse.rs:2), `run` printing its arguments, `test`
 * printing what its runner got and exiting 3 (a failed test); with a file `fail` beside it,
 * `build` fails with exit status 2. Every argv is appended to argv.log beside it.
 */
static const char fake_buck2[] =
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        "here = os.path.dirname(os.path.abspath(__file__))\n"
        "with open(os.path.join(here, 'argv.log'), 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "args = [a for a in sys.argv[1:] if not a.startswith('-')]\n"
        "if 'targets' in args:\n"
        "    sys.stdout.write(open(os.path.join(os.getcwd(), 'targets.json')).read())\n"
        "elif 'build' in args and os.path.exists(os.path.join(here, 'fail')):\n"
        "    sys.stderr.write('Starting build\\nERROR: no such target\\n')\n"
        "    sys.exit(2)\n"
        "elif 'build' in args:\n"
        "    target = args[-1]\n"
        "    out = os.path.join(os.getcwd(), 'buck-out', 'diag.json')\n"
        "    os.makedirs(os.path.dirname(out), exist_ok=True)\n"
        "    span = {'file_name': 'lib/foo/src/parse.rs', 'line_start': 2, 'line_end': 2,\n"
        "            'is_primary': True, 'expansion': None}\n"
        "    d = {'$message_type': 'diagnostic', 'message': 'mismatched types',\n"
        "         'level': 'error', 'spans': [span], 'children': [], 'rendered': 'error'}\n"
        "    open(out, 'w').write(json.dumps(d) + '\\n')\n"
        "    print(json.dumps({target: out}))\n"
        "elif 'run' in args:\n"
        "    print('ran', ' '.join(sys.argv[sys.argv.index('--') + 1:]))\n"
        "elif 'test' in args:\n"
        "    print('tested', ' '.join(sys.argv[sys.argv.index('--') + 1:]))\n"
        "    sys.exit(3)\n";

Test(cli_flycheck, buck2_runnables_build_diag_json_run_and_test_one, .init = setup_plain)
{
        char *repo = pm_test_strf("%s/b2", fx.tmp),
             *src = pm_test_strf("%s/tests/buck2/fixtures/repo", pm_test_source_root());
        char *fake = pm_test_strf("%s/fake-buck2", fx.tmp),
             *log = pm_test_strf("%s/argv.log", fx.tmp);
        char *conf = pm_test_strf("%s/.projmodel.json", repo), *text;
        char *file = pm_test_strf("%s/lib/foo/src/parse.rs", repo),
             *root = pm_test_strf("%s/lib/foo/src/lib.rs", repo);
        char *main_rs = pm_test_strf("%s/app/src/main.rs", repo);
        char *out = NULL, *err = NULL, *expect, *targs;
        cJSON *p;
        const cJSON *tone;
        const char *label;

        cr_assert_eq(pm_test_copy_tree(src, repo), 0);
        cr_assert_eq(pm_test_write_file(fake, fake_buck2), 0);
        cr_assert_eq(chmod(fake, 0755), 0);
        text = pm_test_strf("{\"build_system\": \"buck2\", \"buck2\": {\"command\": [\"%s\"]}}\n",
                            fake);
        cr_assert_eq(pm_test_write_file(conf, text), 0);

        p = export_project(repo);
        label = label_of(p, root);
        cr_assert_eq(run_runnable(runnable(p, "flycheck"), label, "{saved_file}", file, &out, &err),
                     0, "%s", err);
        cr_assert_eq(count_errors(out, file, 2), 1, "%s", out);
        pm_free(text);
        text = pm_test_read_file(log);
        expect = pm_test_strf(
                "[\"--isolation-dir\", \".projmodel\", \"build\", \"%s[diag.json]\", \"--show-full-json-output\"]\n",
                label);
        cr_assert(strstr(text, expect), "%s", text);
        pm_free(out);
        pm_free(err);

        /* A failed build is one line, worded as every failed build step (docs/protocol.md). */
        pm_free(expect);
        expect = pm_test_strf("'%s --isolation-dir .projmodel build %s[diag.json] "
                              "--show-full-json-output' failed with exit status 2: ERROR: no such "
                              "target",
                              fake, label);
        pm_free(text);
        text = pm_test_strf("%s/fail", fx.tmp);
        cr_assert_eq(pm_test_write_file(text, ""), 0);
        cr_assert_eq(run_runnable(runnable(p, "flycheck"), label, "{saved_file}", file, &out, &err),
                     1, "%s", err);
        cr_assert(cli_one_error_line(err, expect), "%s", err);
        cr_assert_str_empty(out);
        cr_assert_eq(unlink(text), 0);
        pm_free(out);
        pm_free(err);

        cr_assert_eq(run_runnable(runnable(p, "run"), label_of(p, main_rs), "", "", &out, &err), 0,
                     "%s", err);
        cr_assert_str_eq(out, "ran \n");
        pm_free(out);
        pm_free(err);

        /* testOne as rust-analyzer runs it: `buck2 test` in the isolation dir, the test runner
         * told to run exactly the one test; the test's exit status is the command's. */
        tone = runnable(p, "testOne");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tone, "program")->valuestring,
                         pm_test_projmodel());
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(tone, "cwd")->valuestring, repo);
        targs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tone, "args"));
        cr_assert_str_eq(targs, "[\"test\",\"{label}\",\"{test_id}\"]");
        cr_assert_eq(run_runnable(tone, label, "{test_id}", "parse::tests::reads", &out, &err), 3,
                     "%s", err);
        cr_assert_str_eq(out, "tested --test-arg parse::tests::reads --exact\n");
        pm_free(text);
        text = pm_test_read_file(log);
        pm_free(expect);
        expect = pm_test_strf("[\"--isolation-dir\", \".projmodel\", \"test\", \"%s\", \"--\", "
                              "\"--test-arg\", \"parse::tests::reads\", \"--exact\"]\n",
                              label);
        cr_assert(strstr(text, expect), "%s", text);
        pm_free(out);
        pm_free(err);
        pm_free(text);
        /* Another test runner: its own arguments, {test_id} filled. */
        text = pm_test_strf("{\"build_system\": \"buck2\", \"buck2\": {\"command\": [\"%s\"], "
                            "\"test_runner_args\": [\"--filter={test_id}\", \"--x\"]}}\n",
                            fake);
        cr_assert_eq(pm_test_write_file(conf, text), 0);
        cr_assert_eq(run_runnable(tone, label, "{test_id}", "t::one", &out, &err), 3, "%s", err);
        cr_assert_str_eq(out, "tested --filter=t::one --x\n");
        pm_free(out);
        pm_free(err);
        cJSON_free(targs);
        pm_free(expect);
        pm_free(text);
        pm_free(main_rs);
        pm_free(root);
        pm_free(file);
        pm_free(conf);
        pm_free(log);
        pm_free(fake);
        pm_free(src);
        pm_free(repo);
        cJSON_Delete(p);
}

TestSuite(check_util);

static void
assert_split(const char *line, const char *const *env, const char *const *argv)
{
        char **e = NULL, **a = NULL;
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(pm_check_split_command(line, &e, &a, &err), 0, "%s: %s", line, err.msg);
        pm_test_assert_argv(e, env);
        pm_test_assert_argv(a, argv);
        pm_argv_free(e);
        pm_argv_free(a);
}

Test(check_util, ninja_command_lines_split_like_sh_without_one)
{
        assert_split("OUT_DIR=/o/gen rustc --crate-name x ../a.rs --cfg feature=\\\"extra\\\"  -o "
                     "obj/x.rlib",
                     (const char *[]){ "OUT_DIR=/o/gen", NULL },
                     (const char *[]){ "rustc", "--crate-name", "x", "../a.rs", "--cfg",
                                       "feature=\"extra\"", "-o", "obj/x.rlib", NULL });
        assert_split(" rustc 'a b' \"c\\\"d\" e\\ f g#h X=1", (const char *[]){ NULL },
                     (const char *[]){ "rustc", "a b", "c\"d", "e f", "g#h", "X=1", NULL });
}

Test(check_util, shell_syntax_is_refused_with_what_needs_a_shell)
{
        static const char *const bad[] = { "cd out && rustc x",
                                           "rustc x | tee log",
                                           "rustc $(cat args)",
                                           "rustc \"$HOME\"",
                                           "rustc 'unterminated",
                                           "rustc *.rs",
                                           "rustc x > log",
                                           "A=1",
                                           "" };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char **e = NULL, **a = NULL;
                struct pm_error err;

                pm_error_init(&err);
                cr_assert_lt(pm_check_split_command(bad[i], &e, &a, &err), 0, "%s", bad[i]);
                cr_assert_eq(err.code, PM_EBADTOOLOUTPUT, "%s", bad[i]);
                cr_assert_null(a);
        }
}

Test(check_util, diagnostic_paths_become_absolute_at_every_depth)
{
        struct pm_strbuf out = PM_STRBUF_INIT;
        bool is_error = false;
        const char *line =
                "{\"message\":\"m\",\"level\":\"error\",\"spans\":[{\"file_name\":\"../src/"
                "a.rs\",\"expansion\":{\"span\":{\"file_name\":\"b.rs\"},\"def_site_span\":{"
                "\"file_name\":\"/abs/c.rs\"}}}],\"children\":[{\"message\":\"n\",\"level\":"
                "\"note\",\"spans\":[{\"file_name\":\"d.rs\"}],\"children\":[]}]}";
        cJSON *j;

        cr_assert_eq(pm_check_diagnostic_line(line, strlen(line), "/r/out", NULL, &out, &is_error),
                     1);
        cr_assert(is_error);
        j = cJSON_Parse(out.buf);
        cr_assert(j);
        cr_assert(strstr(out.buf, "\"/r/src/a.rs\"") && strstr(out.buf, "\"/r/out/b.rs\"") &&
                          strstr(out.buf, "\"/abs/c.rs\"") && strstr(out.buf, "\"/r/out/d.rs\""),
                  "%s", out.buf);
        cJSON_Delete(j);
        pm_strbuf_reset(&out);
        cr_assert_eq(pm_check_diagnostic_line("warning: plain text", 19, "/r", NULL, &out, NULL),
                     0);
        cr_assert_eq(out.len, 0);
        /* Bazel: "external/..." lives under the output base, everything else under the root. */
        line = "{\"message\":\"m\",\"level\":\"error\",\"spans\":[{\"file_name\":\"external/"
               "x/lib.rs\"},{\"file_name\":\"a/b.rs\"}],\"children\":[]}";
        cr_assert_eq(pm_check_diagnostic_line(line, strlen(line), "/ws", "/ob", &out, NULL), 1);
        cr_assert(strstr(out.buf, "\"/ob/external/x/lib.rs\"") && strstr(out.buf, "\"/ws/a/b.rs\""),
                  "%s", out.buf);
        pm_strbuf_release(&out);
}
