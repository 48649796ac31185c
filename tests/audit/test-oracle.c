/* SPDX-License-Identifier: MIT */
/* The compiler as the oracle: `projmodel audit --format json` on the Cargo workspace in
 * tests/audit/oracle (FFI-style crates: macro-generated externs and marker impls, SIMD unsafe
 * blocks, edition-2024 unsafe extern and unsafe attributes), then each crate compiled by rustc
 * with -D unsafe_code. rustc's unsafe_code errors must point at exactly the lint sites listed
 * (file and line), apart from macro definitions, where rustc reports only expanded sites; and
 * the same with --test against the sites including test code. Then the same comparison on the
 * repository's examples and test trees, each crate compiled with its dependencies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/audit.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"

#include "oracle-tree.h"
#include "testlib.h"

/* Compare one crate of the oracle workspace, which has unsafe code, with rustc's view of it;
 * @test: with --test. */
static void
compare_crate(const char *ws, const char *out_dir, const cJSON *crate, bool test)
{
        const char *name = cJSON_GetObjectItem(crate, "crate_name")->valuestring;
        const char *edition = cJSON_GetObjectItem(crate, "edition")->valuestring;
        const cJSON *files = cJSON_GetObjectItem(crate, "files");
        const char *root = cJSON_GetObjectItem(cJSON_GetArrayItem(files, 0), "path")->valuestring;
        const char *argv[] = { "rustc",
                               "--edition",
                               edition,
                               "--crate-name",
                               name,
                               test ? "--test" : "--crate-type",
                               test ? "--cfg" : "lib",
                               test ? "pm_oracle" : "--emit=metadata",
                               "-D",
                               "unsafe_code",
                               "--error-format=json",
                               "--out-dir",
                               out_dir,
                               root,
                               NULL };
        char *err = NULL;
        int status;

        cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(files, 0), "role")->valuestring,
                         "root");
        status = pm_test_run(argv, ws, NULL, NULL, NULL, &err);
        cr_assert(status >= 0, "cannot run rustc");
        cr_assert_neq(status, 0, "rustc -D unsafe_code accepted %s", name);
        cr_assert_gt(pm_oracle_check_sites(crate, err, test), 0,
                     "rustc reported no unsafe code in %s: %s", name, err);
        pm_free(err);
}

/* No per-test .timeout here: meson's timeout (tests/audit/meson.build) bounds the executable, and
 * Criterion 2.4's runner leaks a timer record when two timed tests run at once (--jobs=2), which
 * LeakSanitizer reports against the ASan build. */
Test(audit_oracle, rustc_unsafe_code_errors_are_the_listed_sites)
{
        char *tmp, *ws, *db, *cache_env, *out_dir, *src, *out = NULL, *err = NULL;
        const cJSON *crate;
        cJSON *doc;
        size_t n = 0;
        int status;

        cr_assert(pm_test_have("rustc") && pm_test_have("cargo"),
                  "rustc and cargo are needed (see scripts/setup.sh)");
        tmp = pm_test_mkdtemp();
        ws = pm_test_strf("%s/ws", tmp);
        db = pm_test_strf("%s/model.db", tmp);
        out_dir = pm_test_strf("%s/out", tmp);
        cache_env = pm_test_strf("XDG_CACHE_HOME=%s/cache", tmp);
        src = pm_test_strf("%s/tests/audit/oracle", pm_test_source_root());
        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        {
                const char *argv[] = { pm_test_projmodel(), "audit", "--root", ws, "--db", db,
                                       "--format",          "json",  NULL };
                const char *env[] = { cache_env, NULL };

                status = pm_test_run(argv, ws, env, NULL, &out, &err);
        }
        cr_assert_eq(status, 0, "projmodel audit failed: %s", err);
        doc = cJSON_Parse(out);
        cr_assert(cJSON_IsArray(doc), "not a JSON array: %s", out);
        cJSON_ArrayForEach(crate, doc)
        {
                compare_crate(ws, out_dir, crate, false);
                compare_crate(ws, out_dir, crate, true);
                n++;
        }
        cr_assert_eq(n, 3, "the workspace has 3 crates, the audit listed %zu", n);
        cJSON_Delete(doc);
        pm_test_rmtree(tmp);
        pm_free(out);
        pm_free(err);
        pm_free(src);
        pm_free(cache_env);
        pm_free(out_dir);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
}

/* The inventory follows the module tree: every file of ffi_libc is listed with its role. */
Test(audit_oracle, inventory_follows_mod_path_and_include)
{
        static const char *const want[][2] = {
                { "ffi_libc/src/lib.rs", "root" },
                { "ffi_libc/src/sys.rs", "module" },
                { "ffi_libc/src/sys/inner.rs", "module" },
                { "ffi_libc/src/platform/linux.rs", "module" },
                { "ffi_libc/src/generated.rs", "include" },
        };
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        char *src = pm_test_strf("%s/tests/audit/oracle", pm_test_source_root());
        char *out = NULL, *err = NULL;
        const cJSON *crate, *f;
        cJSON *doc;
        size_t found = 0;
        int status;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        {
                const char *argv[] = { pm_test_projmodel(),
                                       "audit",
                                       "--root",
                                       ws,
                                       "--db",
                                       db,
                                       "--format",
                                       "json",
                                       "ffi_libc/src/sys/inner.rs",
                                       NULL };
                const char *env[] = { cache_env, NULL };

                status = pm_test_run(argv, ws, env, NULL, &out, &err);
        }
        cr_assert_eq(status, 0, "%s", err);
        doc = cJSON_Parse(out);
        cr_assert_eq(cJSON_GetArraySize(doc), 1, "one crate owns the file: %s", out);
        crate = cJSON_GetArrayItem(doc, 0);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(crate, "files")), 5, "%s", out);
        cJSON_ArrayForEach(f, cJSON_GetObjectItem(crate, "files"))
        {
                for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
                        if (strcmp(cJSON_GetObjectItem(f, "path")->valuestring, want[i][0]) == 0 &&
                            strcmp(cJSON_GetObjectItem(f, "role")->valuestring, want[i][1]) == 0)
                                found++;
                cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(f, "missing")));
        }
        cr_assert_eq(found, 5, "%s", out);
        cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(crate, "test_counts"), "unsafe_block")
                             ->valueint,
                     1, "the #[cfg(test)] block is counted apart");
        cJSON_Delete(doc);
        pm_test_rmtree(tmp);
        pm_free(out);
        pm_free(err);
        pm_free(src);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
}

/* Run `projmodel audit --format FORMAT` on a copy of @example_rel (under the source root) and
 * return the parsed output; *@ret_tmp is the temporary directory (the copy is tmp/ws). */
static cJSON *
audit_copy(const char *example_rel, const char *format, char **ret_tmp)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        char *src = pm_test_strf("%s/%s", pm_test_source_root(), example_rel);
        const char *argv[] = { pm_test_projmodel(), "audit", "--root", ws, "--db", db,
                               "--format",          format,  NULL };
        const char *env[] = { cache_env, NULL };
        char *out = NULL, *err = NULL;
        cJSON *doc;
        int status;

        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "projmodel audit on %s failed: %s", example_rel, err);
        doc = cJSON_Parse(out);
        cr_assert_not_null(doc, "not JSON: %s", out);
        pm_free(out);
        pm_free(err);
        pm_free(src);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        *ret_tmp = tmp;
        return doc;
}

/* A tree of the repository, copied; its crates and the unsafe_code sites rustc reports there. */
struct tree {
        const char *rel;
        size_t crates, sites, test_sites; /* as pm_oracle_compare_tree() counts them */
};

/* Export and audit a copy of each of @trees (a Buck2 tree from its targets.json through
 * --query-output), then compile its crates in dependency order (oracle-tree.c). */
static void
compare_trees(const struct tree *trees, size_t n_trees)
{
        for (size_t i = 0; i < n_trees; i++) {
                char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
                char *out_dir = pm_test_strf("%s/out", tmp);
                char *src = pm_test_strf("%s/%s", pm_test_source_root(), trees[i].rel);
                char *targets = pm_test_strf("%s/targets.json", ws), *err = NULL;
                const char *buck2[] = { "--query-output", targets, "--build-system", "buck2",
                                        NULL };
                cJSON *audit, *project;
                size_t n, sites = 0, test_sites = 0;
                int status;

                cr_assert_eq(pm_test_copy_tree(src, ws), 0);
                status = pm_oracle_model(ws, tmp, strstr(trees[i].rel, "buck2") ? buck2 : NULL,
                                         &audit, &project, &err);
                cr_assert_eq(status, 0, "projmodel on %s: %s", trees[i].rel, err);
                n = pm_oracle_compare_tree(ws, out_dir, audit, project, NULL, 0, &sites,
                                           &test_sites);
                cr_assert_eq(n, trees[i].crates, "%s: %zu crates compared", trees[i].rel, n);
                cr_assert_eq(sites, trees[i].sites, "%s: rustc reported %zu sites", trees[i].rel,
                             sites);
                cr_assert_eq(test_sites, trees[i].test_sites,
                             "%s: rustc reported %zu sites with --test", trees[i].rel, test_sites);
                cJSON_Delete(audit);
                cJSON_Delete(project);
                pm_test_rmtree(tmp);
                pm_free(err);
                pm_free(targets);
                pm_free(src);
                pm_free(out_dir);
                pm_free(ws);
                pm_free(tmp);
        }
}

/* The repository's own examples, crate by crate (GN, and GN with a vendored Cargo workspace);
 * examples/bazel-monorepo is in test-oracle-bazel.c. */
Test(audit_oracle, examples_agree_with_rustc)
{
        static const struct tree trees[] = { { "examples/gn-monorepo", 10, 2, 2 },
                                             { "examples/mixed-monorepo", 4, 0, 0 } };

        cr_assert(pm_test_have("rustc") && pm_test_have("gn") && pm_test_have("cargo"),
                  "rustc, gn and cargo are needed (see scripts/setup.sh)");
        compare_trees(trees, sizeof(trees) / sizeof(trees[0]));
}

/*
 * The test trees that a crate graph names and that need no build system server:
 * tests/audit/policy (Cargo, a vendored dependency with unsafe code) and
 * tests/buck2/fixtures/repo (no buck2 here: its targets.json is `buck2 targets --json` output).
 * tests/bazel/ws is in test-oracle-bazel.c; tests/audit/corpus and tests/fuzz/corpus/audit hold
 * loose files that no crate graph names (test-scan.c compares the corpus with its annotations).
 */
Test(audit_oracle, test_trees_agree_with_rustc)
{
        static const struct tree trees[] = { { "tests/audit/policy", 3, 2, 1 },
                                             { "tests/buck2/fixtures/repo", 8, 0, 0 } };

        cr_assert(pm_test_have("rustc") && pm_test_have("cargo"),
                  "rustc and cargo are needed (see scripts/setup.sh)");
        compare_trees(trees, sizeof(trees) / sizeof(trees[0]));
}

static const cJSON *
get(const cJSON *o, const char *key)
{
        return cJSON_GetObjectItem(o, key);
}

/*
 * The part of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) a result log of ours must
 * satisfy, written down here since the schema cannot be downloaded: sarifLog requires version
 * "2.1.0" and runs; run requires tool; tool requires driver; toolComponent requires name;
 * reportingDescriptor requires id; result requires message; message has text; result.level is
 * one of none/note/warning/error; ruleIndex >= 0 and, with tool rules, names the rule of ruleId;
 * location.physicalLocation has artifactLocation (uri, uriBaseId naming an
 * originalUriBaseIds entry) and region (startLine >= 1, startColumn >= 1); a logicalLocation's
 * fullyQualifiedName is a string; property bags are objects.
 */
static size_t
check_sarif(const cJSON *log)
{
        const cJSON *run, *rules, *res, *bases;
        size_t n = 0;

        cr_assert_str_eq(get(log, "version")->valuestring, "2.1.0");
        cr_assert(cJSON_IsString(get(log, "$schema")));
        cr_assert(cJSON_IsArray(get(log, "runs")) && cJSON_GetArraySize(get(log, "runs")) == 1);
        run = cJSON_GetArrayItem(get(log, "runs"), 0);
        cr_assert(cJSON_IsString(get(get(get(run, "tool"), "driver"), "name")));
        rules = get(get(get(run, "tool"), "driver"), "rules");
        cr_assert(cJSON_IsArray(rules));
        bases = get(run, "originalUriBaseIds");
        cr_assert(cJSON_IsString(get(get(bases, "SRCROOT"), "uri")));
        cr_assert(strncmp(get(get(bases, "SRCROOT"), "uri")->valuestring, "file:///", 8) == 0);
        cJSON_ArrayForEach(res, get(run, "results"))
        {
                const cJSON *loc, *art, *reg, *rule;
                const char *level = get(res, "level")->valuestring;
                int idx = get(res, "ruleIndex")->valueint;

                cr_assert(cJSON_IsString(get(get(res, "message"), "text")));
                cr_assert(strcmp(level, "none") == 0 || strcmp(level, "note") == 0 ||
                          strcmp(level, "warning") == 0 || strcmp(level, "error") == 0);
                cr_assert(idx >= 0 && idx < cJSON_GetArraySize(rules));
                rule = cJSON_GetArrayItem(rules, idx);
                cr_assert_str_eq(get(rule, "id")->valuestring, get(res, "ruleId")->valuestring);
                cr_assert(cJSON_IsString(get(get(rule, "shortDescription"), "text")));
                loc = cJSON_GetArrayItem(get(res, "locations"), 0);
                art = get(get(loc, "physicalLocation"), "artifactLocation");
                reg = get(get(loc, "physicalLocation"), "region");
                cr_assert(cJSON_IsString(get(art, "uri")));
                cr_assert(get(bases, get(art, "uriBaseId")->valuestring) != NULL);
                cr_assert(get(reg, "startLine")->valueint >= 1);
                cr_assert(get(reg, "startColumn")->valueint >= 1);
                if (get(loc, "logicalLocations"))
                        cr_assert(cJSON_IsString(
                                get(cJSON_GetArrayItem(get(loc, "logicalLocations"), 0),
                                    "fullyQualifiedName")));
                cr_assert(cJSON_IsObject(get(res, "properties")));
                n++;
        }
        return n;
}

Test(audit_oracle, sarif_is_valid_and_lists_every_site)
{
        char *tmp = NULL, *tmp2 = NULL;
        cJSON *sarif, *json;
        const cJSON *c, *res;
        size_t sites = 0, results;
        bool seen_send = false;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        sarif = audit_copy("tests/audit/oracle", "sarif", &tmp);
        json = audit_copy("tests/audit/oracle", "json", &tmp2);
        results = check_sarif(sarif);
        cJSON_ArrayForEach(c, json) sites += (size_t)cJSON_GetArraySize(get(c, "sites"));
        cr_assert_eq(results, sites, "one SARIF result per site (%zu, %zu)", results, sites);
        cJSON_ArrayForEach(res, get(cJSON_GetArrayItem(get(sarif, "runs"), 0), "results"))
        {
                const cJSON *loc = cJSON_GetArrayItem(get(res, "locations"), 0);

                if (strcmp(get(res, "ruleId")->valuestring, "unsafe_impl") == 0 &&
                    strcmp(get(get(get(loc, "physicalLocation"), "artifactLocation"), "uri")
                                   ->valuestring,
                           "ffi_libc/src/platform/linux.rs") == 0) {
                        cr_assert_eq(get(get(get(loc, "physicalLocation"), "region"), "startLine")
                                             ->valueint,
                                     4);
                        seen_send = true;
                }
        }
        cr_assert(seen_send, "the unsafe impl Send of platform/linux.rs is a result");
        cJSON_Delete(sarif);
        cJSON_Delete(json);
        pm_test_rmtree(tmp);
        pm_test_rmtree(tmp2);
        pm_free(tmp);
        pm_free(tmp2);
}

/* Validate the JSON document @doc against tests/audit/sarif/sarif-2.1.0-subset.schema.json with
 * python3's jsonschema (Draft 7, as the SARIF schema is written); returns its exit status and
 * the first error in *@ret_err. */
static int
schema_check(const cJSON *doc, char **ret_err)
{
        static const char script[] =
                "import json, sys, jsonschema\n"
                "schema = json.load(open(sys.argv[1]))\n"
                "jsonschema.Draft7Validator.check_schema(schema)\n"
                "errors = list(jsonschema.Draft7Validator(schema).iter_errors("
                "json.load(open(sys.argv[2]))))\n"
                "for e in errors[:1]:\n"
                "    print(list(e.absolute_path), e.message, file=sys.stderr)\n"
                "sys.exit(1 if errors else 0)\n";
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/log.sarif", dir);
        char *schema = pm_test_strf("%s/tests/audit/sarif/sarif-2.1.0-subset.schema.json",
                                    pm_test_source_root());
        char *text = cJSON_Print(doc);
        const char *argv[] = { "python3", "-c", script, schema, path, NULL };
        int status;

        cr_assert_not_null(text);
        cr_assert_eq(pm_test_write_file(path, text), 0);
        status = pm_test_run(argv, NULL, NULL, NULL, NULL, ret_err);
        pm_test_rmtree(dir);
        cJSON_free(text);
        pm_free(schema);
        pm_free(path);
        pm_free(dir);
        return status;
}

/* The SARIF log validates against the SARIF 2.1.0 schema's definitions of what it holds (written
 * down in tests/audit/sarif/, with additionalProperties false as there: GitHub code scanning
 * refuses a log with a property the schema does not know); the same validator refuses a log with
 * an unknown property, a result without a message and a level outside the schema's enum. */
Test(audit_oracle, sarif_validates_against_the_sarif_2_1_0_schema)
{
        char *tmp = NULL, *err = NULL;
        cJSON *sarif, *res;
        int status;

        cr_assert(pm_test_have("cargo") && pm_test_have("python3"),
                  "cargo and python3 are needed (see scripts/setup.sh)");
        sarif = audit_copy("tests/audit/oracle", "sarif", &tmp);
        status = schema_check(sarif, &err);
        cr_assert_eq(status, 0, "projmodel's SARIF is not valid: %s", err);
        pm_free(err);
        res = cJSON_GetArrayItem(get(cJSON_GetArrayItem(get(sarif, "runs"), 0), "results"), 0);
        cr_assert_not_null(res);
        cJSON_AddNumberToObject(res, "unknownProperty", 1);
        cr_assert_eq(schema_check(sarif, &err), 1, "an unknown property was accepted");
        cr_expect_not_null(strstr(err, "unknownProperty"), "%s", err);
        pm_free(err);
        cJSON_DeleteItemFromObject(res, "unknownProperty");
        cJSON_ReplaceItemInObject(res, "level", cJSON_CreateString("fatal"));
        cr_assert_eq(schema_check(sarif, &err), 1, "level 'fatal' was accepted");
        pm_free(err);
        cJSON_ReplaceItemInObject(res, "level", cJSON_CreateString("warning"));
        cJSON_DeleteItemFromObject(res, "message");
        cr_assert_eq(schema_check(sarif, &err), 1, "a result without a message was accepted");
        pm_free(err);
        cJSON_Delete(sarif);
        pm_test_rmtree(tmp);
        pm_free(tmp);
}

/* One audit of @ws with PROJMODEL_TRACE: how many files it read; *@ret_json gets the output. */
static int
audit_reads(const char *ws, const char *db, const char *cache_env, char **ret_json)
{
        const char *argv[] = { pm_test_projmodel(), "audit", "--root", ws, "--db", db,
                               "--format",          "json",  NULL };
        const char *env[] = { cache_env, "PROJMODEL_TRACE=1", NULL };
        char *out = NULL, *err = NULL;
        const char *p;
        unsigned crates = 0, files = 0, read = 0;
        int status;

        status = pm_test_run(argv, ws, env, NULL, &out, &err);
        cr_assert_eq(status, 0, "%s", err);
        p = strstr(err, "trace: audit: ");
        cr_assert_not_null(p, "no audit trace in %s", err);
        cr_assert_eq(
                sscanf(p, "trace: audit: %u crates, %u files, %u read", &crates, &files, &read), 3,
                "%s", p);
        cr_assert_eq(crates, 3);
        cr_assert_eq(files, 7);
        pm_free(err);
        *ret_json = out;
        return (int)read;
}

static void
set_mtime(const char *path, const char *when)
{
        const char *argv[] = { "find", path, "-type", "f", "-exec", "touch",
                               "-d",   when, "{}",    "+", NULL };

        cr_assert_eq(pm_test_run(argv, NULL, NULL, NULL, NULL, NULL), 0);
}

/* The model keeps each file's scan with its size, mtime and hash (audit_files): a second audit
 * reads nothing, an edited file is read again and its new site listed, a touched but unchanged
 * file is read (hash compared) but not scanned. */
Test(audit_model, second_audit_reads_only_changed_files)
{
        char *tmp = pm_test_mkdtemp(), *ws = pm_test_strf("%s/ws", tmp);
        char *db = pm_test_strf("%s/model.db", tmp),
             *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/c", tmp);
        char *src = pm_test_strf("%s/tests/audit/oracle", pm_test_source_root());
        char *sys = pm_test_strf("%s/ffi_libc/src/sys.rs", ws), *text, *edited, *json;

        cr_assert(pm_test_have("cargo"), "cargo is needed (see scripts/setup.sh)");
        cr_assert_eq(pm_test_copy_tree(src, ws), 0);
        set_mtime(ws, "@1600000000");
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 7, "the first audit reads every file");
        cr_assert_null(strstr(json, "\"file\":\t\"ffi_libc/src/sys.rs\",\n\t\t\t\t\"line\":\t9"),
                       "no site at line 9 yet");
        pm_free(json);
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 0, "nothing changed, nothing read");
        pm_free(json);

        text = pm_test_read_file(sys);
        edited = pm_test_strf("%s\npub fn more() {\n        unsafe {}\n}\n", text);
        cr_assert_eq(pm_test_write_file(sys, edited), 0);
        set_mtime(sys, "@1600000100");
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 1, "only the edited file is read");
        cr_assert_not_null(
                strstr(json, "\"file\":\t\"ffi_libc/src/sys.rs\",\n\t\t\t\t\"line\":\t9"),
                "the new unsafe block is listed: %s", json);
        pm_free(json);
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 0);
        pm_free(json);

        set_mtime(ws, "@1600000200");
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 7, "touched files are read again");
        cr_assert_not_null(
                strstr(json, "\"file\":\t\"ffi_libc/src/sys.rs\",\n\t\t\t\t\"line\":\t9"));
        pm_free(json);
        cr_assert_eq(audit_reads(ws, db, cache_env, &json), 0);
        pm_free(json);

        pm_test_rmtree(tmp);
        pm_free(edited);
        pm_free(text);
        pm_free(sys);
        pm_free(src);
        pm_free(cache_env);
        pm_free(db);
        pm_free(ws);
        pm_free(tmp);
}

/* The unsafe_code level the build's flags give (-F/-D/-A/-W in their spellings, --cap-lints,
 * --force-warn), against rustc compiling a file with an unsafe block under the same flags:
 * the inventory says "forbid" or "deny" exactly when rustc refuses it. */
Test(audit_oracle, build_flags_lint_level_is_rustcs)
{
        static const struct {
                const char *flags[5];
                enum pm_audit_lint_level want;
        } cases[] = {
                { { "-D", "unsafe_code" }, PM_AUDIT_LINT_DENY },
                { { "-Funsafe_code" }, PM_AUDIT_LINT_FORBID },
                { { "--forbid=unsafe_code" }, PM_AUDIT_LINT_FORBID },
                { { "--deny", "unsafe_code" }, PM_AUDIT_LINT_DENY },
                { { "-D", "unsafe_code", "-A", "unsafe_code" }, PM_AUDIT_LINT_NONE },
                { { "-Dunsafe_code", "--warn=unsafe_code" }, PM_AUDIT_LINT_NONE },
                { { "-A", "unsafe_code", "-D", "unsafe_code" }, PM_AUDIT_LINT_DENY },
                { { "-F", "unsafe_code", "-A", "unsafe_code" }, PM_AUDIT_LINT_FORBID },
                { { "-Funsafe_code", "-Dunsafe_code" }, PM_AUDIT_LINT_FORBID },
                { { "-F", "unsafe_code", "--cap-lints", "allow" }, PM_AUDIT_LINT_NONE },
                { { "-Dunsafe_code", "--cap-lints=warn" }, PM_AUDIT_LINT_NONE },
                { { "-Funsafe_code", "--force-warn", "unsafe_code" }, PM_AUDIT_LINT_FORBID },
                { { "--force-warn", "unsafe_code", "-Funsafe_code" }, PM_AUDIT_LINT_NONE },
                { { "-Dunsafe_code", "--force-warn=unsafe_code" }, PM_AUDIT_LINT_NONE },
                { { "-Dwarnings" }, PM_AUDIT_LINT_NONE },
        };

        char *tmp = pm_test_mkdtemp(), *lib = pm_test_strf("%s/l.rs", tmp);
        char *out_file = pm_test_strf("%s/l.rmeta", tmp);

        cr_assert(pm_test_have("rustc"), "rustc is needed (see scripts/setup.sh)");
        cr_assert_eq(pm_test_write_file(lib, "pub fn f(p: *const u8) -> u8 {\n"
                                             "    unsafe { *p }\n}\n"),
                     0);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *argv[16] = { "rustc",  "--crate-type", "lib", "--edition", "2021",
                                         "--emit", "metadata",     "-o",  out_file };
                size_t n = 9;
                struct pm_graph *g = pm_graph_new();
                const struct pm_audit_crate *inv = NULL;
                struct pm_audit *a = NULL;
                struct pm_crate *c;
                struct pm_error err;
                int status;

                pm_error_init(&err);
                cr_assert(g && (c = pm_graph_add_crate(g)));
                c->label = pm_graph_strdup(g, "//l:l");
                c->root_module = pm_graph_strdup(g, lib);
                for (size_t k = 0; cases[i].flags[k]; k++) {
                        cr_assert_eq(pm_strlist_push(g, &c->flags, cases[i].flags[k]), 0);
                        argv[n++] = cases[i].flags[k];
                }
                argv[n++] = lib;
                argv[n] = NULL;
                cr_assert_eq(pm_audit_new(&a, &err), 0);
                cr_assert_eq(pm_audit_add_crate(a, c, &inv, &err), 0, "%s", err.msg);
                status = pm_test_run(argv, tmp, NULL, NULL, NULL, NULL);
                cr_expect_eq(inv->build_lint, cases[i].want, "case %zu: level %d, want %d", i,
                             (int)inv->build_lint, (int)cases[i].want);
                cr_expect_eq(status != 0, cases[i].want != PM_AUDIT_LINT_NONE,
                             "case %zu: rustc exit %d, level %d", i, status, (int)cases[i].want);
                pm_audit_free(a);
                pm_graph_free(g);
        }
        pm_test_rmtree(tmp);
        pm_free(out_file);
        pm_free(lib);
        pm_free(tmp);
}
