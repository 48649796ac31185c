/* SPDX-License-Identifier: MIT */
/* Refreshing a model with several projects (GN at the root, a Cargo subproject): a project whose
 * build tool fails keeps its previous crates, the others are still refreshed, and the error
 * names the failing project. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;

static const char cargo_toml[] = "[package]\nname = \"hello-cargo\"\nversion = \"0.1.0\"\n"
                                 "edition = \"%s\"\n\n[workspace]\n%s";

static void
write_rel(const char *rel, const char *content)
{
        char *path = cli_fx_path(&fx, rel);

        cr_assert_eq(pm_test_write_file(path, content), 0, "cannot write '%s'", path);
        pm_free(path);
}

static void
write_cargo(const char *edition, const char *extra)
{
        char *text = pm_test_strf(cargo_toml, edition, extra);

        write_rel("cargo_ws/Cargo.toml", text);
        pm_free(text);
}

/* GN's //lib/util with its edition flag set to @edition. */
static void
write_util_build(const char *edition)
{
        char *text = pm_test_strf(
                "rust_library(\"util\") {\n  crate_name = \"util\"\n  crate_root = \"src/lib.rs\"\n"
                "  sources = [ \"src/lib.rs\", \"src/text.rs\" ]\n"
                "  rustflags = [ \"--edition\", \"%s\" ]\n"
                "  deps = [ \"//third_party/fnv\" ]\n}\n",
                edition);

        write_rel("lib/util/BUILD.gn", text);
        pm_free(text);
}

static void
setup(void)
{
        cli_fx_init(&fx, false);
        write_rel(".projmodel.json",
                  "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"}, \"subprojects\": "
                  "[{\"root\": \"cargo_ws\", \"build_system\": \"cargo\"}]}\n");
        write_rel("cargo_ws/src/lib.rs", "pub fn hi() {}\n");
        write_cargo("2021", "");
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_refresh, .init = setup, .fini = teardown);

/* The edition of the crate rooted at REPO/@rel in @json. */
static char *
edition_of(const char *json, const char *rel)
{
        cJSON *p = cJSON_Parse(json);
        cJSON *c;
        char *e;

        cr_assert(p);
        c = cli_crate_by_root(&fx, p, rel);
        cr_assert(c, "no crate rooted at '%s'", rel);
        e = pm_strdup(cJSON_GetObjectItemCaseSensitive(c, "edition")->valuestring);
        cJSON_Delete(p);
        return e;
}

static void
assert_editions(const char *util, const char *cargo)
{
        char *json = cli_fx_export(&fx, (const char *[]){ "--no-refresh", NULL });
        char *u = edition_of(json, "lib/util/src/lib.rs");
        char *c = edition_of(json, "cargo_ws/src/lib.rs");

        cr_assert_str_eq(u, util, "//lib/util's edition");
        cr_assert_str_eq(c, cargo, "the cargo crate's edition");
        pm_free(u);
        pm_free(c);
        pm_free(json);
}

static void
export_fails(const char *needle1, const char *needle2)
{
        const char *argv[] = { "export", "--root", fx.repo, "--db", fx.db, NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, argv, &r);
        cr_assert_eq(r.status, 1, "exit %d: %s", r.status, r.err);
        cr_assert(cli_one_error_line(r.err, needle1), "'%s' not in: %s", needle1, r.err);
        cr_assert(cli_one_error_line(r.err, needle2), "'%s' not in: %s", needle2, r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);
}

Test(cli_refresh, a_failing_project_keeps_its_crates_and_the_others_refresh)
{
        char *json = cli_fx_export(&fx, NULL);
        cJSON *p = cJSON_Parse(json);

        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 11);
        cJSON_Delete(p);
        pm_free(json);
        assert_editions("2018", "2021");

        /* GN breaks while the Cargo crate changes: the Cargo change lands, GN's part stays. */
        write_rel("lib/util/BUILD.gn", "rust_library(\"util\") {\n  crate_name =\n}\n");
        write_cargo("2018", "");
        export_fails("project 'gn:.'", "lib/util/BUILD.gn");
        assert_editions("2018", "2018");

        /* And the other way round. */
        write_util_build("2021");
        write_cargo("2018", "garbage [\n");
        export_fails("project 'cargo:cargo_ws'", "cargo_ws/Cargo.toml");
        assert_editions("2021", "2018");

        /* Both fixed: both refresh. */
        write_cargo("2015", "");
        json = cli_fx_export(&fx, NULL);
        pm_free(json);
        assert_editions("2021", "2015");
}
