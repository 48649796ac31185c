/* SPDX-License-Identifier: MIT */
/* `buck2 targets --keep-going` past packages it could not load: their "buck.error" entries as
 * warnings at Buck2's file and line, the last good state of their crates and of the crates that
 * depend on them, and which exits are its partial list (pm__buck2_keep_going_output()): exit 0
 * always, 1, 2 or 3 only with one complete JSON array naming a package it could not load;
 * anything else is buck2's failure, reported with its error line. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"

#include "adapters/buck2/buck2-internal.h"
#include "buck2-test.h"
#include "testlib.h"

/* Buck2's --keep-going output (docs/build-integration.md, "Partial results"): the packages it
 * loaded, and a "buck.error" entry per package it could not. */
static const char PARTIAL[] =
        "[{\"buck.type\": \"prelude//rules.bzl:rust_library\", \"buck.package\": "
        "\"root//lib/foo\", \"name\": \"foo\", \"srcs\": [\"src/lib.rs\"]},\n"
        " {\"buck.package\": \"root//lib/util\", \"buck.error\": \"Error parsing: "
        "`root//lib/util:TARGETS`\\n\\nCaused by:\\n    error: Parse error: unexpected new line "
        "here\\n     --> lib/util/TARGETS:3:20\\n\"}]\n";

/* What the step runners (server/query.c) give parse for a step that exited @status. */
static struct pm_blob
blob(const char *out, int status, const char *stderr_text)
{
        static char line[256];

        (void)snprintf(line, sizeof(line), "'buck2 targets --json' exited with status %d: %s",
                       status, stderr_text ? stderr_text : "");
        return (struct pm_blob){ .data = out,
                                 .len = strlen(out),
                                 .origin = "buck2",
                                 .error = status ? line : NULL,
                                 .err_text = stderr_text,
                                 .err_len = stderr_text ? strlen(stderr_text) : 0,
                                 .exit_status = status };
}

/* The check of @b on its output as parse parses it (NULL when not JSON). */
static int
check_blob(const struct pm_blob *b, struct pm_error *err)
{
        cJSON *json = cJSON_ParseWithLength(b->data, b->len);
        int r;

        pm_error_init(err);
        r = pm__buck2_keep_going_output(b, json, err);
        cJSON_Delete(json);
        return r;
}

static int
check(const char *out, int status, const char *stderr_text, struct pm_error *err)
{
        struct pm_blob b = blob(out, status, stderr_text);

        return check_blob(&b, err);
}

Test(buck2_keep_going, exit_0_is_the_list_whatever_it_holds)
{
        struct pm_error err;

        cr_assert_eq(check(PARTIAL, 0, NULL, &err), 0, "%s", err.msg);
        cr_assert_eq(check("[]", 0, NULL, &err), 0, "%s", err.msg);
        /* Not this check's to judge: parse reports bad JSON naming the file. */
        cr_assert_eq(check("[{", 0, NULL, &err), 0, "%s", err.msg);
}

Test(buck2_keep_going, exits_1_2_3_with_a_failed_package_are_the_partial_list)
{
        struct pm_error err;

        for (int status = 1; status <= 3; status++)
                cr_assert_eq(check(PARTIAL, status, "Error: 1 package failed to load", &err), 0,
                             "exit %d: %s", status, err.msg);
}

Test(buck2_keep_going, a_truncated_list_is_a_failure)
{
        struct pm_error err;
        char cut[121];

        memcpy(cut, PARTIAL, 120);
        cut[120] = '\0';
        cr_assert_eq(check(cut, 1, "Error: buck2 daemon was killed", &err), PM_ETOOL);
        cr_assert_str_eq(err.msg,
                         "'buck2 targets --json' exited with status 1: Error: buck2 daemon was "
                         "killed (not --keep-going's partial list: its output is not complete "
                         "JSON)");
}

Test(buck2_keep_going, a_list_without_a_failed_package_is_a_failure)
{
        struct pm_error err;

        cr_assert_eq(check("[{\"buck.type\": \"rust_library\", \"buck.package\": \"root//a\", "
                           "\"name\": \"a\"}]",
                           1, "error: unexpected argument '--bogus' found", &err),
                     PM_ETOOL);
        cr_assert(strstr(err.msg, "unexpected argument '--bogus' found"), "%s", err.msg);
        cr_assert(strstr(err.msg, "names no package it could not load"), "%s", err.msg);
        cr_assert_eq(check("[]", 2, NULL, &err), PM_ETOOL);
        cr_assert_eq(check("{\"buck.error\": \"x\"}", 2, NULL, &err), PM_ETOOL);
        cr_assert(strstr(err.msg, "not a JSON array"), "%s", err.msg);
        cr_assert_eq(check("", 3, NULL, &err), PM_ETOOL);
        cr_assert(strstr(err.msg, "no output"), "%s", err.msg);
        cr_assert_eq(check("garbage", 1, NULL, &err), PM_ETOOL);
}

Test(buck2_keep_going, other_exits_are_failures)
{
        struct pm_error err;

        cr_assert_eq(check(PARTIAL, 4, "Error: internal error", &err), PM_ETOOL);
        cr_assert(strstr(err.msg, "exited with status 4: Error: internal error"), "%s", err.msg);
        cr_assert_eq(check(PARTIAL, -1, NULL, &err), PM_ETOOL);
}

/* Without the runner's line (a parse of another origin): stderr's error line, picked as the
 * runner picks it. */
Test(buck2_keep_going, the_error_without_the_runners_line)
{
        struct pm_blob b = blob("oops", 1, NULL);
        struct pm_error err;

        b.error = NULL;
        b.err_text = "\n  Command failed: \n  last line\n";
        b.err_len = strlen(b.err_text);
        cr_assert_eq(check_blob(&b, &err), PM_ETOOL);
        cr_assert_str_eq(err.msg, "'buck2' exited with status 1: last line (not --keep-going's "
                                  "partial list: its output is not complete JSON)");
        b.err_text = "Starting new buck2 daemon...\nError: the daemon died\nCommand failed: \n";
        b.err_len = strlen(b.err_text);
        cr_assert_eq(check_blob(&b, &err), PM_ETOOL);
        cr_assert_str_eq(err.msg, "'buck2' exited with status 1: Error: the daemon died (not "
                                  "--keep-going's partial list: its output is not complete JSON)");
}

Test(buck2_keep_going, keep_going_errors_become_warnings)
{
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_buck2_fx_parse_text(
                             &fx, "[{\"buck.package\": \"root//broken\", \"buck.error\": "
                                  "\"Error evaluating build file\"}, {\"buck.type\": "
                                  "\"rust_library\", \"buck.package\": \"root//lib/foo\", "
                                  "\"name\": \"foo\", \"srcs\": [\"src/lib.rs\"]}]"),
                     0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->n_crates, 1);
        cr_assert_eq(fx.g->warnings.n, 1);
        cr_assert(strstr(fx.g->warnings.v[0], "root//broken") != NULL);
        pm_buck2_fx_release(&fx);
}

/*
 * "buck.error" is Buck2's error chain in anyhow's Debug form (app/buck2_error/src/format.rs in
 * facebook/buck2): the context, then under "Caused by:" the causes indented, numbered when there
 * are several, and starlark's "error: MESSAGE" and " --> FILE:LINE:COL" (starlark-rust/
 * starlark_syntax/src/diagnostic.rs). FILE is relative to the project root for every cell: Buck2
 * parses each file under that name (interpreter_for_dir.rs); the build file's context names it
 * as a cell path, `CELL//PKG:BUCK` (app/buck2_core/src/build_file_path.rs). The root package's
 * text is the one a real buck2 printed (editors/vscode/test/tool-errors.test.js); the nested
 * package's and the other cell's follow the same sources (Buck2 cannot run here).
 */
static const char KEEP_GOING_ERRORS[] =
        "[{\"buck.package\": \"root//\", \"buck.error\": \"Error evaluating build file: "
        "`root//:BUCK`\\n\\nCaused by:\\n    Traceback (most recent call last):\\n      * "
        "BUCK:8, in <module>\\n          rust_binary(\\n    error: Attempted to register target "
        "root//:hello_world twice\\n      --> BUCK:8:1\\n       |\\n     8 | / rust_binary(\\n\"},"
        " {\"buck.package\": \"root//lib/util\", \"buck.error\": \"Error parsing: "
        "`root//lib/util:TARGETS`\\n\\nCaused by:\\n    error: Parse error: unexpected string "
        "literal \\\"src/lib.rs\\\" here, expected one of \\\",\\\" or \\\"]\\\"\\n     --> "
        "lib/util/TARGETS:5:9\\n      |\\n    5 |         \\\"src/lib.rs\\\",\\n      |         "
        "^^^^^^^^^^^^\\n      |\\n\"},"
        " {\"buck.package\": \"third-party//\", \"buck.error\": \"Error evaluating build file: "
        "`third-party//:BUCK`\\n\\nCaused by:\\n    0: From load at third-party/rust/BUCK:1\\n"
        "    1: Error evaluating module: `third-party//defs.bzl`\\n    2: error: Variable "
        "`rust_libary` not found\\n          --> third-party/rust/defs.bzl:4:5\\n           |\\n"
        "\"},"
        " {\"buck.package\": \"root//broken\", \"buck.error\": \"Tabs are not allowed in Buck "
        "files: `root//broken:BUCK`\"},"
        " {\"buck.type\": \"rust_library\", \"buck.package\": \"root//lib/foo\", \"name\": "
        "\"foo\", \"srcs\": [\"src/lib.rs\"]}]";

/* A package Buck2 could not load, a crate that depends on its target (through a package-relative
 * label) and one that depends on that crate, and one that depends on neither. */
static const char DEPENDENTS[] =
        "[{\"buck.package\": \"root//lib/util\", \"buck.error\": \"boom\"},"
        " {\"buck.type\": \"rust_library\", \"buck.package\": \"root//lib/foo\", \"name\": "
        "\"foo\", \"srcs\": [\"src/lib.rs\"], \"deps\": [\"//lib/util:util\"]},"
        " {\"buck.type\": \"rust_binary\", \"buck.package\": \"root//app\", \"name\": "
        "\"app\", \"srcs\": [\"main.rs\"], \"deps\": [\"root//lib/foo:foo\"]},"
        " {\"buck.type\": \"rust_library\", \"buck.package\": \"root//lib/x\", \"name\": "
        "\"x\", \"srcs\": [\"lib.rs\"]}]";

Test(buck2_keep_going, keep_going_errors_at_their_file_and_line)
{
        static const char *const want[][2] = {
                { "BUCK", ":8:1: Attempted to register target root//:hello_world twice" },
                { "lib/util/TARGETS", ":5:9: Parse error: unexpected string literal "
                                      "\"src/lib.rs\" here, expected one of \",\" or \"]\"" },
                { "third-party/rust/defs.bzl", ":4:5: Variable `rust_libary` not found" },
        };
        static const char *const failed[] = { "BUCK", "lib/util/TARGETS", "third-party/rust/BUCK",
                                              "broken/BUCK" };
        struct pm_buck2_fx fx;
        char *p;

        pm_buck2_fx_init(&fx, NULL);
        p = pm_buck2_fx_path(&fx, ".buckconfig");
        cr_assert_eq(pm_test_write_file(p, "[cells]\nroot = .\nprelude = prelude\n"
                                           "third-party = third-party/rust\n"),
                     0);
        pm_free(p);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, KEEP_GOING_ERRORS), 0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->n_crates, 1);
        cr_assert_eq(fx.g->warnings.n, 4);
        for (size_t i = 0; i < 3; i++) {
                char *w = pm_test_strf("%s/%s%s (buck2 could not load it with --keep-going)",
                                       fx.root, want[i][0], want[i][1]);

                cr_assert_str_eq(fx.g->warnings.v[i], w);
                pm_free(w);
        }
        cr_assert_str_eq(fx.g->warnings.v[3],
                         "package 'root//broken': buck2 could not load it with "
                         "--keep-going: Tabs are not allowed in Buck files: "
                         "`root//broken:BUCK`");
        /* Each package's build file (TARGETS where that is the one that exists) is failed: the
         * apply keeps its crates' last good state. */
        cr_assert_eq(fx.g->failed.n, 4);
        for (size_t i = 0; i < 4; i++)
                pm_buck2_fx_assert_path(&fx, fx.g->failed.v[i], failed[i]);

        /* Should a Buck2 name the file by its cell path, the cell map finds it. */
        cr_assert_eq(pm_buck2_fx_parse_text(
                             &fx, "[{\"buck.package\": \"third-party//vendor\", "
                                  "\"buck.error\": \"Caused by:\\n    error: x\\n     --> "
                                  "third-party//vendor/BUCK:2:3\\n\"}]"),
                     0, "%s", fx.err.msg);
        p = pm_test_strf("%s/third-party/rust/vendor/BUCK:2:3: x (buck2 could not load it with "
                         "--keep-going)",
                         fx.root);
        cr_assert_str_eq(fx.g->warnings.v[0], p);
        pm_free(p);
        pm_buck2_fx_release(&fx);
}

/* True if @l (NULL-terminated) has @s. */
static bool
has(char **l, const char *s)
{
        for (; l && *l; l++)
                if (strcmp(*l, s) == 0)
                        return true;
        return false;
}

/*
 * The model keeps the last good state of a package Buck2 could not load, and of the crates that
 * depend on its targets (directly: foo and bar-core on util; through them: server and
 * integration), their edges included, each named in a warning with what it depends on.
 */
Test(buck2_keep_going, keep_going_keeps_the_broken_packages_crates)
{
        static const char *const kept[] = { "root//lib/util:util", "root//lib/foo:foo",
                                            "root//lib/bar:bar-core", "root//app:server",
                                            "root//app:integration" };
        struct pm_change change = { 0 };
        struct pm_index *idx = NULL;
        cJSON *arr, *obj, *next;
        char *p, *text, *broken, **deps = NULL;
        struct pm_buck2_fx fx;

        pm_buck2_fx_init(&fx, NULL);
        cr_assert_eq(pm_index_open(":memory:", &idx, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_eq(pm_buck2_fx_parse_fixture(&fx), 0, "%s", fx.err.msg);
        cr_assert_eq(pm_index_apply(idx, "buck2:.", fx.g, &change, &fx.err), 0, "%s", fx.err.msg);
        pm_change_release(&change);

        p = pm_buck2_fx_path(&fx, "targets.json");
        text = pm_test_read_file(p);
        arr = cJSON_Parse(text);
        cr_assert_not_null(arr);
        for (obj = arr->child; obj; obj = next) {
                next = obj->next;
                if (strcmp(cJSON_GetObjectItem(obj, "buck.package")->valuestring,
                           "root//lib/util") == 0)
                        cJSON_Delete(cJSON_DetachItemViaPointer(arr, obj));
        }
        obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "buck.package", "root//lib/util");
        cJSON_AddStringToObject(obj, "buck.error",
                                "Error parsing: `root//lib/util:TARGETS`\n\nCaused by:\n    "
                                "error: Parse error: unexpected new line here\n     --> "
                                "lib/util/TARGETS:3:20\n");
        cJSON_AddItemToArray(arr, obj);
        broken = cJSON_PrintUnformatted(arr);
        cr_assert_eq(pm_buck2_fx_parse_text(&fx, broken), 0, "%s", fx.err.msg);
        for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
                cr_assert_null(pm_graph_find(fx.g, kept[i]), "%s", kept[i]);
        cr_assert_not_null(pm_graph_find(fx.g, "root//lib/testutil:testutil"));
        cr_assert(pm_strlist_contains(&fx.g->warnings,
                                      "crate 'root//lib/foo:foo' depends on 'root//lib/util:util' "
                                      "of package 'root//lib/util' (buck2 could not load it with "
                                      "--keep-going): its last good state is kept"));
        cr_assert(pm_strlist_contains(&fx.g->warnings,
                                      "crate 'root//lib/bar:bar-core' depends on "
                                      "'root//lib/util:util' of package 'root//lib/util' (buck2 "
                                      "could not load it with --keep-going): its last good state "
                                      "is kept"));
        cr_assert(pm_strlist_contains(&fx.g->warnings,
                                      "crate 'root//app:server' depends on 'root//lib/foo:foo', "
                                      "whose last good state is kept: so is its own"));
        cr_assert_eq(pm_index_apply(idx, "buck2:.", fx.g, &change, &fx.err), 0, "%s", fx.err.msg);
        cr_assert_eq(change.kept, 5, "kept %zu, removed %zu", change.kept, change.removed);
        cr_assert_eq(change.removed, 0);
        pm_change_release(&change);
        /* Their edges to the broken package's crates are kept too. */
        cr_assert_eq(pm_index_deps(idx, "root//lib/foo:foo", false, &deps, &fx.err), 0, "%s",
                     fx.err.msg);
        cr_assert(has(deps, "root//lib/util:util"));
        pm_argv_free(deps);
        cr_assert_eq(pm_index_deps(idx, "root//lib/bar:bar-core", false, &deps, &fx.err), 0, "%s",
                     fx.err.msg);
        cr_assert(has(deps, "root//lib/util:util"));
        pm_argv_free(deps);
        free(broken);
        cJSON_Delete(arr);
        pm_free(text);
        pm_free(p);
        pm_index_close(idx);
        pm_buck2_fx_release(&fx);
}

/* Parse @text as the output of a `buck2 targets` of the fixture that exited @status (a
 * step's, not captured: pm__buck2_parse() directly) into fx->g (fx->err). @origin is the
 * fixture's targets.json, made before: this allocates nothing else of its own. */
static int
parse_exited(struct pm_buck2_fx *fx, const char *text, int status, const char *origin)
{
        struct pm_query q = { .config = fx->cfg, .project = &fx->cfg->projects[0] };
        struct pm_blob b = blob(text, status, "Error: 1 package failed to load");

        b.origin = origin;
        pm_graph_free(fx->g);
        fx->g = NULL;
        pm_error_init(&fx->err);
        return pm__buck2_parse(&q, &b, 1, &fx->g, &fx->err);
}

/* Fail each allocation of a parse of @text (exit @status) in turn: each is -ENOMEM, not read
 * as buck2's failure, and leaves no graph, until the parse ends (fx->g then holds its graph). */
static void
parse_failing_each_allocation(struct pm_buck2_fx *fx, const char *text, int status,
                              const char *origin)
{
        for (unsigned long n = 1;; n++) {
                int r;

                (void)pm_mem_fail_at(n);
                r = parse_exited(fx, text, status, origin);
                (void)pm_mem_fail_at(0);
                if (r == 0)
                        break;
                cr_assert_eq(r, -ENOMEM, "allocation %lu: %s", n, fx->err.msg);
                cr_assert_null(fx->g);
                cr_assert(n < 100000);
        }
}

Test(buck2_keep_going, out_of_memory_in_the_failed_packages_and_their_dependents)
{
        struct pm_buck2_fx fx;
        char *p;

        pm_mem_install_hooks();
        pm_buck2_fx_init(&fx, NULL);
        p = pm_buck2_fx_path(&fx, "targets.json");
        parse_failing_each_allocation(&fx, KEEP_GOING_ERRORS, 0, p);
        cr_assert_eq(fx.g->warnings.n, 4);
        /* The same list from an exit 2: its one parse also decides that it is the list. */
        parse_failing_each_allocation(&fx, KEEP_GOING_ERRORS, 2, p);
        cr_assert_eq(fx.g->warnings.n, 4);
        /* And the crates that depend on one of them, directly or not (buck2-parse.c). */
        parse_failing_each_allocation(&fx, DEPENDENTS, 0, p);
        cr_assert_eq(fx.g->n_crates, 1);
        cr_assert_eq(fx.g->warnings.n, 3);
        cr_assert_eq(fx.g->failed.n, 3);
        pm_free(p);
        pm_buck2_fx_release(&fx);
}

/* The output of an exit 1, 2 or 3 is parsed once, as that of an exit 0 is: telling the partial
 * list from buck2's failure (pm__buck2_keep_going_output()) reads the tree parse made. Counted
 * in allocations, so that the same graph from a second parse cannot hide it. */
Test(buck2_keep_going, a_partial_list_is_parsed_once)
{
        struct pm_buck2_fx fx;
        unsigned long exit0, exit1;
        char *p;

        pm_mem_install_hooks();
        pm_buck2_fx_init(&fx, NULL);
        p = pm_buck2_fx_path(&fx, "targets.json");
        (void)pm_mem_fail_at(0);
        cr_assert_eq(parse_exited(&fx, KEEP_GOING_ERRORS, 0, p), 0, "%s", fx.err.msg);
        exit0 = pm_mem_fail_at(0);
        cr_assert_eq(parse_exited(&fx, KEEP_GOING_ERRORS, 1, p), 0, "%s", fx.err.msg);
        exit1 = pm_mem_fail_at(0);
        cr_assert_eq(fx.g->warnings.n, 4);
        cr_assert_eq(exit1, exit0, "exit 1: %lu allocations, exit 0: %lu", exit1, exit0);
        pm_free(p);
        pm_buck2_fx_release(&fx);
}
