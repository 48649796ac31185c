/* SPDX-License-Identifier: MIT */
/* `projmodel audit`'s reports beyond the inventory, against the real command on trees the tests
 * copy or write: the policy check (--check on tests/audit/policy), the diff against a git
 * revision (--diff) and the privileged-code report (--privileged: build scripts and proc macros,
 * with who reaches them). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "testlib.h"

/* `projmodel audit --check` on tests/audit/policy with @policy_json as its .projmodel.json and
 * @vet (when not NULL) as its supply-chain/audits.toml. */
static int
check_policy_tree_vet(const char *policy_json, const char *vet, char **ret_out, char **ret_err)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        char *src = pm_test_strf("%s/tests/audit/policy", pm_test_source_root());
        char *cfg = pm_test_strf("%s/.projmodel.json", ws),
             *vet_path = pm_test_strf("%s/supply-chain/audits.toml", ws);
        const char *argv[] = { pm_test_projmodel(), "audit", "--root", ws, "--db", db,
                               "--check",           NULL };
        const char *env[] = { cache_env, NULL };
        int status;

        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        if (policy_json)
                cr_assert_eq(pm_test_write_file(cfg, policy_json), 0);
        if (vet)
                cr_assert_eq(pm_test_write_file(vet_path, vet), 0);
        status = pm_test_run(argv, ws, env, NULL, ret_out, ret_err);
        pm_test_rmtree(tmp);
        pm_free(vet_path);
        pm_free(cfg);
        pm_free(src);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
        return status;
}

static int
check_policy_tree(const char *policy_json, char **ret_out, char **ret_err)
{
        return check_policy_tree_vet(policy_json, NULL, ret_out, ret_err);
}

/* check_policy_tree() of @policy_json exits 1 and its stdout (@on_stderr: its stderr) has @want. */
static void
policy_fails_with(const char *policy_json, bool on_stderr, const char *want)
{
        char *out = NULL, *err = NULL;
        const char *text;

        cr_assert_eq(check_policy_tree(policy_json, &out, &err), 1, "%s%s", out, err);
        text = on_stderr ? err : out;
        cr_assert_not_null(strstr(text, want), "%s", text);
        pm_free(out);
        pm_free(err);
}

Test(audit_policy, every_violation_named_and_exit_1)
{
        static const char *const want[] = {
                "cargo:.#app@0.1.0:bin:app: 1 unsafe site where the policy does not allow unsafe "
                "(first: app/src/main.rs:3: unsafe block); reviewers: rust-owners@example.com\n",
                "cargo:.#app@0.1.0:bin:app: does not forbid unsafe_code (no #![forbid(unsafe_code)] in "
                "'app/src/main.rs', no -F unsafe_code in its flags)\n",
                "cargo:.#app@0.1.0:bin:app: reaches third-party crate cargo:.#ffi_dep@1.2.0 with unsafe "
                "code not audited for safe-to-deploy: cargo:.#app@0.1.0:bin:app -> "
                "cargo:.#safe_lib@0.1.0 -> cargo:.#ffi_dep@1.2.0; reviewers: "
                "vendor-owners@example.com\n",
                "cargo:.#safe_lib@0.1.0: reaches third-party crate cargo:.#ffi_dep@1.2.0 with unsafe "
                "code not audited for safe-to-deploy: cargo:.#safe_lib@0.1.0 -> "
                "cargo:.#ffi_dep@1.2.0; reviewers: vendor-owners@example.com\n",
        };
        char *out = NULL, *err = NULL;
        size_t lines = 0;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        cr_assert_eq(check_policy_tree(NULL, &out, &err), 1, "%s%s", out, err);
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                cr_expect_not_null(strstr(out, want[i]), "missing violation %s in:\n%s", want[i],
                                   out);
        for (const char *p = out; (p = strchr(p, '\n')); p++)
                lines++;
        cr_assert_eq(lines, 4, "exactly four violations:\n%s", out);
        cr_assert_str_eq(err, "projmodel: 4 audit policy violations\n");
        pm_free(out);
        pm_free(err);
}

Test(audit_policy, clean_tree_exits_0_with_cargo_vet_audits)
{
        char *out = NULL, *err = NULL;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        cr_assert_eq(
                check_policy_tree("{\"build_system\": \"cargo\", \"audit\": {"
                                  "\"allow_unsafe\": [\"cargo:.#ffi_dep@*\", \"cargo:.#app@\"],"
                                  " \"require_forbid\": true,"
                                  " \"cargo_vet_audits\": \"supply-chain/audits.toml\"}}\n",
                                  &out, &err),
                0, "%s%s", out, err);
        cr_assert_str_eq(out, "audit: 3 crates checked, no violations\n");
        pm_free(out);
        pm_free(err);
        /* The audit is to safe-to-deploy; requiring crypto-safe (which it also has) passes too,
         * requiring another criterion does not. */
        policy_fails_with("{\"build_system\": \"cargo\", \"audit\": {"
                          "\"allow_unsafe\": [\"cargo:\"], \"criteria\": \"ub-risk-1\","
                          " \"cargo_vet_audits\": [\"supply-chain/audits.toml\"]}}\n",
                          false, "not audited for ub-risk-1");
}

/* The policy tree's ffi_dep is version 1.2.0 (its Cargo.toml): the model's version decides
 * which cargo-vet entries certify it. */
Test(audit_policy, cargo_vet_versions_deltas_and_violations_of_the_models_crate)
{
        static const char policy[] = "{\"build_system\": \"cargo\", \"audit\": {"
                                     "\"allow_unsafe\": [\"cargo:\"],"
                                     " \"cargo_vet_audits\": \"supply-chain/audits.toml\"}}\n";
        static const char not_this_version[] =
                "[[audits.ffi_dep]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.1.0\"\n";
        static const char delta_to_it[] =
                "[[audits.ffi_dep]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.1.0\"\n\n"
                "[[audits.ffi_dep]]\ncriteria = \"safe-to-deploy\"\ndelta = \"1.1.0 -> 1.2.0\"\n";
        static const char violation[] =
                "[[audits.ffi_dep]]\ncriteria = \"safe-to-deploy\"\nversion = \"1.2.0\"\n\n"
                "[[audits.ffi_dep]]\ncriteria = \"safe-to-run\"\nviolation = \">=1.2.0, <1.3\"\n";
        char *out = NULL, *err = NULL;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        cr_assert_eq(check_policy_tree_vet(policy, not_this_version, &out, &err), 1, "%s%s", out,
                     err);
        cr_expect_not_null(strstr(out, "reaches third-party crate cargo:.#ffi_dep@1.2.0 with "
                                       "unsafe code not audited for safe-to-deploy"),
                           "%s", out);
        pm_free(out);
        pm_free(err);
        cr_assert_eq(check_policy_tree_vet(policy, delta_to_it, &out, &err), 0, "%s%s", out, err);
        cr_expect_str_eq(out, "audit: 3 crates checked, no violations\n");
        pm_free(out);
        pm_free(err);
        cr_assert_eq(check_policy_tree_vet(policy, violation, &out, &err), 1, "%s%s", out, err);
        cr_expect_not_null(strstr(out, "not audited for safe-to-deploy"), "%s", out);
        pm_free(out);
        pm_free(err);
        /* A file cargo-vet would not write is the command's error, naming it. */
        cr_assert_eq(check_policy_tree_vet(policy, "[[audits.ffi_dep]]\nversion = \"1.2.0\"\n",
                                           &out, &err),
                     1, "%s%s", out, err);
        cr_expect_str_eq(out, "");
        cr_expect_not_null(strstr(err, "supply-chain/audits.toml:1: [[audits.ffi_dep]] entry 1 "
                                       "has no 'criteria'"),
                           "%s", err);
        pm_free(out);
        pm_free(err);
        /* A violation that is not a version requirement matched nothing, and the full audit
         * passed the check: it is the command's error, naming the file, line, entry and text. */
        cr_assert_eq(check_policy_tree_vet(policy,
                                           "[[audits.ffi_dep]]\ncriteria = \"safe-to-deploy\"\n"
                                           "version = \"1.2.0\"\n\n[[audits.ffi_dep]]\n"
                                           "criteria = \"safe-to-run\"\nviolation = \"garbage\"\n",
                                           &out, &err),
                     1, "%s%s", out, err);
        cr_expect_str_eq(out, "");
        cr_expect_not_null(strstr(err, "supply-chain/audits.toml:7: [[audits.ffi_dep]] entry 2: "
                                       "violation 'garbage' is not a Cargo version requirement"),
                           "%s", err);
        pm_free(out);
        pm_free(err);
        cr_assert_eq(check_policy_tree_vet(policy, "[[audits.ffi_dep]\n", &out, &err), 1, "%s%s",
                     out, err);
        cr_expect_not_null(strstr(err, "supply-chain/audits.toml:1:"), "%s", err);
        pm_free(out);
        pm_free(err);
}

Test(audit_policy, malformed_policy_is_a_config_error)
{
        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        policy_fails_with("{\"build_system\": \"cargo\", \"audit\": {\"allow_unsafe\": 3}}", true,
                          "'audit.allow_unsafe' must be an array");
        policy_fails_with("{\"build_system\": \"cargo\", \"audit\": {\"alow_unsafe\": []}}", true,
                          "audit.alow_unsafe");
}

/* Run git with @argv (after "git") in @ws; asserts it succeeded. */
static void
git_in(const char *ws, const char *const *args)
{
        const char *argv[16] = { "git", "-c", "user.name=t", "-c", "user.email=t@example.com" };
        size_t n = 5;

        for (size_t i = 0; args[i] && n < 15; i++)
                argv[n++] = args[i];
        argv[n] = NULL;
        cr_assert_eq(pm_test_run(argv, ws, NULL, NULL, NULL, NULL), 0, "git %s failed", args[0]);
}

Test(audit_diff, sites_added_changed_removed_since_a_git_revision)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        char *src = pm_test_strf("%s/tests/audit/policy", pm_test_source_root());
        char *app = pm_test_strf("%s/app/src/main.rs", ws),
             *ffi = pm_test_strf("%s/vendor/ffi_dep/src/lib.rs", ws),
             *extra = pm_test_strf("%s/app/src/extra.rs", ws),
             *tool = pm_test_strf("%s/app/src/bin/tool.rs", ws);
        const char *argv[] = { pm_test_projmodel(),
                               "audit",
                               "--root",
                               ws,
                               "--db",
                               db,
                               "--diff",
                               "HEAD",
                               NULL,
                               NULL,
                               NULL };
        const char *env[] = { cache_env, NULL };
        char *out = NULL, *err = NULL;
        cJSON *doc;
        int status;

        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        git_in(ws, (const char *[]){ "init", "-q", NULL });
        git_in(ws, (const char *[]){ "add", "-A", NULL });
        git_in(ws, (const char *[]){ "commit", "-q", "-m", "base", NULL });

        /* Nothing changed: nothing to review. */
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(out, "audit --diff HEAD: 0 added, 0 changed, 0 removed\n");
        pm_free(out);
        pm_free(err);

        /* The app's block changes, a new module (untracked) adds an unsafe fn, the vendored
         * crate's block goes away. */
        pm_test_edit_file(app, "*(&x as *const u8)", "*(&x as *const u8).add(0)");
        pm_test_edit_file(app, "fn main() {", "mod extra;\nfn main() {");
        cr_assert_eq(pm_test_write_file(extra, "pub unsafe fn f() {\n        let _ = 1;\n}\n"), 0);
        pm_test_edit_file(ffi, "unsafe { core::mem::transmute::<[u8; 4], u32>([x, 0, 0, 0]) }",
                          "u32::from(x)");
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(
                out,
                "changed app/src/main.rs:4:17: unsafe block in main (crate cargo:.#app@0.1.0:bin:app; "
                "reviewers: rust-owners@example.com)\n"
                "added app/src/extra.rs:1:1: unsafe fn in f (crate cargo:.#app@0.1.0:bin:app; "
                "reviewers: rust-owners@example.com)\n"
                "removed vendor/ffi_dep/src/lib.rs:2:9: unsafe block in widen (crate "
                "cargo:.#ffi_dep@1.2.0; reviewers: vendor-owners@example.com)\n"
                "audit --diff HEAD: 1 added, 1 changed, 1 removed\n");
        pm_free(out);
        pm_free(err);

        /* JSON for a bot, after the changes are committed: against HEAD~1 the same three. */
        git_in(ws, (const char *[]){ "add", "-A", NULL });
        git_in(ws, (const char *[]){ "commit", "-q", "-m", "change", NULL });
        argv[7] = "HEAD~1";
        argv[8] = "--format=json";
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        doc = cJSON_Parse(out);
        cr_assert_not_null(doc, "%s", out);
        cr_assert_eq(cJSON_GetArraySize(doc), 3, "%s", out);
        {
                cJSON *s = cJSON_GetArrayItem(doc, 2);

                cr_assert_str_eq(cJSON_GetObjectItem(s, "change")->valuestring, "removed");
                cr_assert_str_eq(cJSON_GetObjectItem(s, "kind")->valuestring, "unsafe_block");
                cr_assert_str_eq(cJSON_GetObjectItem(s, "crate")->valuestring,
                                 "cargo:.#ffi_dep@1.2.0");
                cr_assert_str_eq(
                        cJSON_GetArrayItem(cJSON_GetObjectItem(s, "reviewers"), 0)->valuestring,
                        "vendor-owners@example.com");
                s = cJSON_GetArrayItem(doc, 0);
                cr_assert_str_eq(cJSON_GetObjectItem(s, "change")->valuestring, "changed");
                cr_assert_eq(cJSON_GetObjectItem(s, "old_line")->valueint, 3);
        }
        cJSON_Delete(doc);
        pm_free(out);
        pm_free(err);

        /* Only the body of the unsafe fn changes, not its first line: still changed. */
        argv[7] = "HEAD";
        argv[8] = NULL;
        pm_test_edit_file(extra, "let _ = 1;", "let _ = 2;");
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(out, "changed app/src/extra.rs:1:1: unsafe fn in f (crate "
                              "cargo:.#app@0.1.0:bin:app; reviewers: rust-owners@example.com)\n"
                              "audit --diff HEAD: 0 added, 1 changed, 0 removed\n");
        pm_free(out);
        pm_free(err);

        /* The module and its file are deleted: its sites are removed, in the crate that held
         * it (no crate holds the file any more). */
        pm_test_edit_file(app, "mod extra;\n", "");
        cr_assert_eq(unlink(extra), 0);
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(out, "removed app/src/extra.rs:1:1: unsafe fn in f (crate "
                              "cargo:.#app@0.1.0:bin:app; reviewers: rust-owners@example.com)\n"
                              "audit --diff HEAD: 0 added, 0 changed, 1 removed\n");
        pm_free(out);
        pm_free(err);

        /* Only the app's bin chosen: a changed file of another crate under its directory (a
         * second bin of the package) is that crate's, not removed from the chosen one. */
        git_in(ws, (const char *[]){ "add", "-A", NULL });
        git_in(ws, (const char *[]){ "commit", "-q", "-m", "extra gone", NULL });
        cr_assert_eq(pm_test_write_file(tool, "fn main() {\n        let x = 1u8;\n        let _ = "
                                              "unsafe { *(&x as *const u8) };\n}\n"),
                     0);
        git_in(ws, (const char *[]){ "add", "-A", NULL });
        git_in(ws, (const char *[]){ "commit", "-q", "-m", "a tool", NULL });
        pm_test_edit_file(tool, "*(&x as *const u8)", "*(&x as *const u8).add(0)");
        argv[8] = "cargo:.#app@0.1.0:bin:app";
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(out, "audit --diff HEAD: 0 added, 0 changed, 0 removed\n");
        pm_free(out);
        pm_free(err);

        /* A revision that is an option, or not a revision, is refused with one line. */
        argv[7] = "--output=/tmp/x";
        argv[8] = NULL;
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 2, "%s%s", out, err);
        cr_assert_not_null(strstr(err, "is not a revision"), "%s", err);
        pm_free(out);
        pm_free(err);
        argv[7] = "no-such-branch";
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 1, "%s%s", out, err);
        cr_assert_not_null(strstr(err, "--diff: 'no-such-branch' is not a git revision in "), "%s",
                           err);
        pm_free(out);
        pm_free(err);

        pm_test_rmtree(tmp);
        pm_free(tool);
        pm_free(extra);
        pm_free(ffi);
        pm_free(app);
        pm_free(src);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
}

/* Write @content to @ws/@rel. */
static void
put(const char *ws, const char *rel, const char *content)
{
        char *p = pm_test_strf("%s/%s", ws, rel);

        cr_assert_eq(pm_test_write_file(p, content), 0, "%s", p);
        pm_free(p);
}

Test(audit_privileged, build_scripts_and_proc_macros_with_who_reaches_them)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        const char *argv[] = { pm_test_projmodel(), "audit", "--root", ws, "--db", db,
                               "--privileged",      NULL };
        const char *env[] = { cache_env, NULL };
        char *out = NULL, *err = NULL;
        cJSON *doc, *results;
        int status;

        /* app -> sys (build script) -> macros (proc macro); macros is reached through sys. */
        put(ws, "Cargo.toml",
            "[workspace]\nmembers = [\"app\", \"macros\", \"sys\"]\nresolver = \"2\"\n");
        put(ws, ".projmodel.json", "{\"build_system\": \"cargo\"}\n");
        put(ws, "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
            "[dependencies]\nsys = { path = \"../sys\" }\n");
        put(ws, "app/src/main.rs", "fn main() {}\n");
        put(ws, "macros/Cargo.toml",
            "[package]\nname = \"macros\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
            "[lib]\nproc-macro = true\n");
        put(ws, "macros/src/lib.rs", "extern crate proc_macro;\n");
        put(ws, "sys/Cargo.toml",
            "[package]\nname = \"sys\"\nversion = \"0.1.0\"\nedition = \"2021\"\nbuild = \"build.rs\"\n\n"
            "[dependencies]\nmacros = { path = \"../macros\" }\n");
        put(ws, "sys/src/lib.rs", "\n");
        /* Both spellings Cargo reads, a repeat, and a line that is not a declaration. */
        put(ws, "sys/build.rs",
            "fn main() {\n"
            "    println!(\"cargo:rerun-if-changed=build.rs\");\n"
            "    println!(\"cargo::rerun-if-changed=include/wrapper.h\");\n"
            "    println!(\"cargo:rerun-if-changed=build.rs\");\n"
            "    println!(\"cargo:rerun-if-env-changed=SYS_LIB_DIR\");\n"
            "    println!(\"cargo::rerun-if-env-changed=CC\");\n"
            "    println!(\"cargo:rustc-cfg=has_sys\");\n"
            "}\n");
        put(ws, "sys/include/wrapper.h", "\n");

        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_str_eq(out,
                         "cargo:.#macros@0.1.0 (proc-macro, first-party): proc macro; reached by 2 "
                         "first-party crates\n"
                         "  reached by cargo:.#app@0.1.0:bin:app\n"
                         "  reached by cargo:.#sys@0.1.0\n"
                         "\n"
                         "cargo:.#sys@0.1.0 (lib, first-party): build script; reached by 1 "
                         "first-party crate\n"
                         "  reached by cargo:.#app@0.1.0:bin:app\n"
                         "  build script reads: files sys/build.rs, sys/include/wrapper.h; env "
                         "SYS_LIB_DIR, CC\n");
        pm_free(out);
        pm_free(err);

        /* One crate chosen: only it; JSON says what the model cannot. */
        {
                const char *jargv[] = { pm_test_projmodel(),
                                        "audit",
                                        "--root",
                                        ws,
                                        "--db",
                                        db,
                                        "--privileged",
                                        "--format=json",
                                        "--no-refresh",
                                        "cargo:.#sys@0.1.0",
                                        NULL };

                status = pm_test_run(jargv, ws, env, NULL, &out, &err);
        }
        cr_assert_eq(status, 0, "%s%s", out, err);
        doc = cJSON_Parse(out);
        cr_assert_eq(cJSON_GetArraySize(doc), 1, "%s", out);
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "build_script")));
        {
                cJSON *reads =
                        cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "build_script_reads");
                char *got = cJSON_PrintUnformatted(reads);

                cr_assert_str_eq(got, "{\"files\":[\"sys/build.rs\",\"sys/include/wrapper.h\"],"
                                      "\"env\":[\"SYS_LIB_DIR\",\"CC\"]}");
                cJSON_free(got);
        }
        cJSON_Delete(doc);
        pm_free(out);
        pm_free(err);

        /* SARIF: one result per privileged crate, at its root module. */
        {
                const char *sargv[] = {
                        pm_test_projmodel(), "audit",          "--root",       ws,  "--db", db,
                        "--privileged",      "--format=sarif", "--no-refresh", NULL
                };

                status = pm_test_run(sargv, ws, env, NULL, &out, &err);
        }
        cr_assert_eq(status, 0, "%s%s", out, err);
        doc = cJSON_Parse(out);
        results = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "runs"), 0),
                                      "results");
        cr_assert_eq(cJSON_GetArraySize(results), 2, "%s", out);
        cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(results, 0), "ruleId")->valuestring,
                         "proc_macro");
        cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(results, 1), "ruleId")->valuestring,
                         "build_script");
        cJSON_Delete(doc);
        pm_free(out);
        pm_free(err);

        /* Build scripts not run (build_proc_macros false): what they read is not known. */
        put(ws, ".projmodel.json",
            "{\"build_system\": \"cargo\", \"cargo\": {\"build_proc_macros\": false}}\n");
        {
                const char *targv[] = {
                        pm_test_projmodel(), "audit", "--root", ws, "--db", db, "--privileged",
                        "cargo:.#sys@0.1.0", NULL
                };

                status = pm_test_run(targv, ws, env, NULL, &out, &err);
        }
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert_not_null(strstr(out, "  build script reads: not known: the build script has not "
                                       "run (no output file next to its OUT_DIR)\n"),
                           "%s", out);
        pm_free(out);
        pm_free(err);

        pm_test_rmtree(tmp);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
}
