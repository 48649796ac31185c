/* SPDX-License-Identifier: MIT */
/* `projmodel export` on the GN example: the output passes the strict validator, every crate
 * type-checks with bare rustc, and it equals GN's own export except where GN is wrong. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "cli-test.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;

/* @ours is a file under the cache's dylibs folder holding exactly @gns's bytes. */
static void
assert_cached_copy(const char *ours, const char *gns)
{
        char *dir = pm_test_strf("%s/projmodel/dylibs/", fx.cache);
        FILE *a = fopen(ours, "rb"), *b = fopen(gns, "rb");
        int ca, cb;

        cr_assert(strncmp(ours, dir, strlen(dir)) == 0, "'%s' is not under '%s'", ours, dir);
        cr_assert(a && b, "cannot open '%s' or '%s'", ours, gns);
        do {
                ca = fgetc(a);
                cb = fgetc(b);
                cr_assert_eq(ca, cb, "'%s' is not a copy of '%s'", ours, gns);
        } while (ca != EOF);
        (void)fclose(a);
        (void)fclose(b);
        pm_free(dir);
}

static void
setup_built(void)
{
        cli_fx_init(&fx, true);
}

static void
teardown(void)
{
        cli_fx_release(&fx);
}

TestSuite(cli_export, .init = setup_built, .fini = teardown);

Test(cli_export, validates_and_type_checks)
{
        char *json = cli_fx_export(&fx, (const char *[]){ "--pretty", NULL });
        char *report = NULL;
        char *work = pm_test_strf("%s/check", fx.tmp);
        const char *mk[] = { "mkdir", "-p", work, NULL };
        cJSON *p;

        cr_assert_eq(pm_test_validate_project(json, strlen(json), &report), 0,
                     "export is not valid:\n%s", report ? report : "");
        pm_free(report);
        report = NULL;

        p = cJSON_Parse(json);
        cr_assert(p);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "crates")), 10);
        /* Pretty output is indented; the members carry a build section with the BUILD.gn. */
        cr_assert(strstr(json, "\n  ") || strstr(json, "\n\t"));
        {
                cJSON *engine = cli_crate_by_root(&fx, p, "lib/engine/src/lib.rs");
                cJSON *build = cJSON_GetObjectItemCaseSensitive(engine, "build");
                char *bf = cli_fx_path(&fx, "lib/engine/BUILD.gn");

                cr_assert(engine);
                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(build, "build_file")->valuestring,
                                 bf);
                cr_assert(cJSON_IsTrue(
                        cJSON_GetObjectItemCaseSensitive(engine, "is_workspace_member")));
                pm_free(bf);
        }
        cJSON_Delete(p);

        cr_assert_eq(pm_test_run(mk, NULL, NULL, NULL, NULL, NULL), 0);
        cr_assert_eq(pm_test_rustc_check_project(json, work, &report), 0,
                     "a crate does not type-check:\n%s", report ? report : "");
        pm_free(report);
        pm_free(work);
        pm_free(json);
}

Test(cli_export, output_file_is_written_atomically_and_equals_stdout)
{
        char *path = pm_test_strf("%s/rust-project.json", fx.tmp);
        char *a = cli_fx_export(&fx, NULL);
        char *b = cli_fx_export(&fx, (const char *[]){ "--output", path, NULL });
        char *c;

        cr_assert_str_empty(b, "--output still wrote on stdout");
        c = pm_test_read_file(path);
        cr_assert(c);
        cr_assert_str_eq(a, c);
        /* Compact by default: one line. */
        cr_assert_eq(strchr(a, '\n'), a + strlen(a) - 1);
        pm_free(a);
        pm_free(b);
        pm_free(c);
        pm_free(path);
}

/* The label without its "(toolchain)" suffix, as GN's export writes it; pm_malloc'd. */
static char *
strip_toolchain(const char *label)
{
        const char *p = strchr(label, '(');

        return p ? pm_strndup(label, (size_t)(p - label)) : pm_strdup(label);
}

/* The crate's cfgs without test and debug_assertions (GN always adds both), as a sorted,
 * ';'-joined string; pm_malloc'd. */
static char *
cfg_key(const cJSON *crate)
{
        const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(crate, "cfg");
        const cJSON *e;
        char *v[64];
        struct pm_strbuf sb = PM_STRBUF_INIT;
        size_t n = 0;
        char *s;

        cJSON_ArrayForEach(e, cfg)
        {
                if (strcmp(e->valuestring, "test") == 0 ||
                    strcmp(e->valuestring, "debug_assertions") == 0)
                        continue;
                cr_assert_lt(n, 64);
                v[n++] = e->valuestring;
        }
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
                        char *t = v[j];

                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        for (size_t i = 0; i < n; i++)
                cr_assert_eq(pm_strbuf_addf(&sb, "%s;", v[i]), 0);
        s = pm_strbuf_detach(&sb, NULL);
        cr_assert(s);
        return s;
}

/* The name under which @crate depends on the crate rooted at @dep_root, or NULL. */
static const char *
dep_name_by_root(const cJSON *project, const cJSON *crate, const char *dep_root)
{
        const cJSON *crates = cJSON_GetObjectItemCaseSensitive(project, "crates");
        const cJSON *d;

        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(crate, "deps"))
        {
                int i = cJSON_GetObjectItemCaseSensitive(d, "crate")->valueint;
                const cJSON *target = cJSON_GetArrayItem(crates, i);

                if (strcmp(cJSON_GetObjectItemCaseSensitive(target, "root_module")->valuestring,
                           dep_root) == 0)
                        return cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring;
        }
        return NULL;
}

Test(cli_export, equals_gn_export_except_where_gn_is_wrong)
{
        const char *gen[] = { "gn", "gen", "out", "--export-rust-project", NULL };
        const char *dump[] = { "dump",         "--root",   fx.repo, "--db", fx.db,
                               "--no-refresh", "--format", "json",  NULL };
        char *json = cli_fx_export(&fx, NULL), *gn_text, *path;
        char *engine_root = cli_fx_path(&fx, "lib/engine/src/lib.rs");
        char *util_root = cli_fx_path(&fx, "lib/util/src/lib.rs");
        cJSON *ours, *gn, *labels;
        const cJSON *gc, *c;
        struct cli_run r;
        int cfg_diffs = 0, name_diffs = 0;

        cr_assert_eq(pm_test_run(gen, fx.repo, NULL, NULL, NULL, NULL), 0);
        path = cli_fx_path(&fx, "out/rust-project.json");
        gn_text = pm_test_read_file(path);
        cr_assert(gn_text, "gn wrote no '%s'", path);
        ours = cJSON_Parse(json);
        gn = cJSON_Parse(gn_text);
        cr_assert(ours && gn);
        cli_fx_run(&fx, NULL, NULL, dump, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        labels = cJSON_Parse(r.out);
        cr_assert(cJSON_IsArray(labels));

        /* Same crate set: as many crates, each of GN's found by root module, with GN's label
         * equal to ours minus the toolchain suffix. */
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ours, "crates")),
                     cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(gn, "crates")));
        cr_assert_eq(cJSON_GetArraySize(labels), 10);
        cJSON_ArrayForEach(gc, cJSON_GetObjectItemCaseSensitive(gn, "crates"))
        {
                const char *root = cJSON_GetObjectItemCaseSensitive(gc, "root_module")->valuestring;
                const char *gl = cJSON_GetObjectItemCaseSensitive(gc, "label")->valuestring;
                cJSON *oc = NULL;
                bool label_found = false;
                char *gk, *ok;

                cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ours, "crates"))
                {
                        if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring,
                                   root) == 0)
                                oc = (cJSON *)c;
                }
                cr_assert(oc, "GN's crate '%s' (%s) is missing from ours", gl, root);
                cJSON_ArrayForEach(c, labels)
                {
                        char *stripped;

                        if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring,
                                   root) != 0)
                                continue;
                        stripped = strip_toolchain(
                                cJSON_GetObjectItemCaseSensitive(c, "label")->valuestring);
                        label_found = strcmp(stripped, gl) == 0;
                        pm_free(stripped);
                }
                cr_assert(label_found, "no crate of ours has GN's label '%s'", gl);

                /* Editions: GN gets every one right in this example. */
                cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(oc, "edition")->valuestring,
                                 cJSON_GetObjectItemCaseSensitive(gc, "edition")->valuestring,
                                 "edition of '%s'", gl);
                cr_assert_eq(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(oc, "is_proc_macro")),
                             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(gc, "is_proc_macro")));
                /* Ours is a content-addressed copy of GN's dylib (docs/build-integration.md). */
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(gc, "is_proc_macro")))
                        assert_cached_copy(
                                cJSON_GetObjectItemCaseSensitive(oc, "proc_macro_dylib_path")
                                        ->valuestring,
                                cJSON_GetObjectItemCaseSensitive(gc, "proc_macro_dylib_path")
                                        ->valuestring);

                /* cfgs: equal but for GN dropping the two-token --cfg of //lib/engine. */
                gk = cfg_key(gc);
                ok = cfg_key(oc);
                if (strcmp(root, engine_root) == 0) {
                        cr_assert_str_eq(gk, "", "GN's engine cfgs: %s", gk);
                        cr_assert_str_eq(ok, "feature=\"extra\";", "our engine cfgs: %s", ok);
                        cfg_diffs++;
                } else {
                        cr_assert_str_eq(ok, gk, "cfgs of '%s'", gl);
                }
                pm_free(gk);
                pm_free(ok);

                /* Edges by the dependency's root module: the same set, with the same names but
                 * for the renamed dependency GN ignores. */
                cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(oc, "deps")),
                             cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(gc, "deps")),
                             "deps of '%s'", gl);
                cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(gc, "deps"))
                {
                        int i = cJSON_GetObjectItemCaseSensitive(c, "crate")->valueint;
                        const cJSON *t = cJSON_GetArrayItem(
                                cJSON_GetObjectItemCaseSensitive(gn, "crates"), i);
                        const char *dep_root =
                                cJSON_GetObjectItemCaseSensitive(t, "root_module")->valuestring;
                        const char *gname =
                                cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
                        const char *oname = dep_name_by_root(ours, oc, dep_root);

                        cr_assert(oname, "'%s' lacks the dep on '%s'", gl, dep_root);
                        if (strcmp(root, engine_root) == 0 && strcmp(dep_root, util_root) == 0) {
                                cr_assert_str_eq(gname, "util");
                                cr_assert_str_eq(oname, "utils2");
                                name_diffs++;
                        } else {
                                cr_assert_str_eq(oname, gname, "'%s' -> '%s'", gl, dep_root);
                        }
                }
        }
        cr_assert_eq(cfg_diffs, 1);
        cr_assert_eq(name_diffs, 1);

        cli_run_release(&r);
        cJSON_Delete(labels);
        cJSON_Delete(ours);
        cJSON_Delete(gn);
        pm_free(engine_root);
        pm_free(util_root);
        pm_free(gn_text);
        pm_free(path);
        pm_free(json);
}
