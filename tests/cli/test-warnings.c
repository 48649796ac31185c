/* SPDX-License-Identifier: MIT */
/* Parse warnings (docs/cli.md "Warnings") of the commands that refresh the model in process
 * besides export and dump (tests/cli/test-discover.c): audit, snapshot and check print
 * "projmodel <cmd>: warning: <text>" on stderr, and their exit status and output are what they
 * are without the warning. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;

/* The example (unbuilt: these commands need no build outputs) with one GN target more, whose
 * rustenv entry lacks '=': the GN adapter warns and ignores the entry. */
static void
setup(void)
{
        char *build, *old, *bad;

        cli_fx_init(&fx, false);
        build = cli_fx_path(&fx, "lib/util/BUILD.gn");
        old = pm_test_read_file(build);
        cr_assert_not_null(old);
        bad = pm_test_strf("%s\nrust_library(\"noenv\") {\n  crate_root = \"src/lib.rs\"\n"
                           "  sources = [ \"src/lib.rs\" ]\n  rustenv = [ \"NOEQ\" ]\n}\n",
                           old);
        cr_assert_eq(pm_test_write_file(build, bad), 0);
        pm_free(bad);
        pm_free(old);
        pm_free(build);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_warnings, .init = setup, .fini = teardown);

#define WARNING \
        "warning: target '//lib/util:noenv': rustenv entry 'NOEQ' is not KEY=VALUE, ignoring"

/* True if @err holds the line "projmodel @cmd: " WARNING exactly once. */
static bool
warned_once(const char *err, const char *cmd)
{
        char *line = pm_test_strf("projmodel %s: %s\n", cmd, WARNING);
        const char *at = strstr(err, line);
        bool once = at && (at == err || at[-1] == '\n') && !strstr(at + 1, line);

        pm_free(line);
        return once;
}

Test(cli_warnings, audit_prints_the_warning_and_its_inventory)
{
        char *db = pm_test_strf("%s/audit.db", fx.tmp), *first;
        const char *json[] = { "audit", "--db", db, "--format", "json", "//lib/util:util", NULL };
        const char *again[] = { "audit",           "--db", db, "--no-refresh", "--format", "json",
                                "//lib/util:util", NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, json, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(warned_once(r.err, "audit"), "stderr: %s", r.err);
        cr_assert(strstr(r.out, "\"//lib/util:util\""), "stdout: %s", r.out);
        first = pm_test_strf("%s", r.out);
        cli_run_release(&r);

        /* Without a refresh nothing is parsed, nothing warned: the same inventory. */
        cli_fx_run(&fx, NULL, NULL, again, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_empty(r.err);
        cr_assert_str_eq(r.out, first);
        cli_run_release(&r);
        pm_free(first);
        pm_free(db);
}

Test(cli_warnings, snapshot_prints_the_warning_and_writes_the_snapshot)
{
        char *db = pm_test_strf("%s/snap.db", fx.tmp), *out = pm_test_strf("%s/copy.db", fx.tmp);
        const char *snap[] = { "snapshot", "--db", db, "--output", out, NULL };
        const char *dump[] = { "dump", "--db", out, "--no-refresh", "--format", "json", NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, snap, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(warned_once(r.err, "snapshot"), "stderr: %s", r.err);
        cli_run_release(&r);

        /* The snapshot holds the model, the warned-about crate included. */
        cli_fx_run(&fx, NULL, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "//lib/util:noenv"), "dump of the snapshot: %s", r.out);
        cr_assert_str_empty(r.err, "no refresh, no parse, no warning: %s", r.err);
        cli_run_release(&r);
        pm_free(out);
        pm_free(db);
}

/* check refreshes when its model lacks the crate: the warning, then the check's own answer
 * (util type-checks: no diagnostics, exit 0). */
Test(cli_warnings, check_prints_the_warning_when_it_refreshes)
{
        char *db = pm_test_strf("%s/check.db", fx.tmp);
        const char *check[] = { "check", "--db", db, "//lib/util:util", NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, check, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(warned_once(r.err, "check"), "stderr: %s", r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);

        /* The model now has the crate: no refresh, no warning. */
        cli_fx_run(&fx, NULL, NULL, check, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_str_empty(r.err);
        cli_run_release(&r);
        pm_free(db);
}
