/* SPDX-License-Identifier: MIT */
/* `projmodel dump` on the GN example: text, JSON and Graphviz output, crates chosen by label
 * and by file. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

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

TestSuite(cli_dump, .init = setup, .fini = teardown);

/* Run `dump --root REPO --db DB @args...` in @cwd (NULL = repo) and assert success. */
static void
dump(const char *cwd, const char *const *args, struct cli_run *r)
{
        const char *argv[24] = { "dump", "--root", fx.repo, "--db", fx.db };
        size_t n = 5;

        for (; args && *args; args++)
                argv[n++] = *args;
        argv[n] = NULL;
        cli_fx_run(&fx, cwd, NULL, argv, r);
        cr_assert_eq(r->status, 0, "dump failed (%d): %s", r->status, r->err);
        cr_assert_str_empty(r->err);
}

/* The number of lines of @s that are exactly a crate heading (start with "//"). */
static int
count_headings(const char *s)
{
        int n = 0;

        for (const char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, "//", 2) == 0)
                        n++;
        return n;
}

Test(cli_dump, text_shows_every_crate_with_renames_cfgs_and_env)
{
        struct cli_run r;
        char *engine_build = cli_fx_path(&fx, "lib/engine/BUILD.gn");
        const char *engine;

        dump(NULL, NULL, &r);
        cr_assert_eq(count_headings(r.out), 10, "%s", r.out);
        engine = strstr(r.out, "//lib/engine:engine\n");
        cr_assert(engine, "%s", r.out);
        cr_assert(strstr(engine, "kind: lib"));
        cr_assert(strstr(engine, "edition: 2021"));
        cr_assert(strstr(engine, "build system: gn"));
        cr_assert(strstr(engine, "feature=\"extra\""));
        cr_assert(strstr(engine, "utils2 -> //lib/util:util"), "%s", engine);
        cr_assert(strstr(engine, engine_build));
        cr_assert(strstr(r.out, "GREETING=hello"));
        cr_assert(strstr(r.out, "proc-macro dylib: "));
        cli_run_release(&r);
        pm_free(engine_build);
}

Test(cli_dump, json_has_all_model_fields)
{
        struct cli_run r;
        cJSON *a;
        const cJSON *c;
        bool saw_rename = false;

        dump(NULL, (const char *[]){ "--format", "json", NULL }, &r);
        a = cJSON_Parse(r.out);
        cr_assert(cJSON_IsArray(a), "%s", r.out);
        cr_assert_eq(cJSON_GetArraySize(a), 10);
        cJSON_ArrayForEach(c, a)
        {
                static const char *const keys[] = {
                        "label",
                        "build_system",
                        "crate_name",
                        "kind",
                        "edition",
                        "root_module",
                        "cfgs",
                        "env",
                        "flags",
                        "sources",
                        "include_dirs",
                        "build_file",
                        "is_workspace_member",
                        "deps",
                };
                const cJSON *d;

                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        cr_assert(cJSON_HasObjectItem(c, keys[i]), "crate lacks '%s'", keys[i]);
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "deps"))
                {
                        const cJSON *name = cJSON_GetObjectItemCaseSensitive(d, "name");

                        if (cJSON_IsString(name) && strcmp(name->valuestring, "utils2") == 0)
                                saw_rename = true;
                }
        }
        cr_assert(saw_rename);
        cJSON_Delete(a);
        cli_run_release(&r);
}

Test(cli_dump, dot_renders_with_graphviz)
{
        const char *argv[] = { "dot", "-Tsvg", NULL };
        struct cli_run r;
        char *svg = NULL, *err = NULL;
        int st;

        dump(NULL, (const char *[]){ "--format", "dot", NULL }, &r);
        cr_assert(strncmp(r.out, "digraph", 7) == 0, "%s", r.out);
        cr_assert(strstr(r.out, "label=\"utils2\""), "%s", r.out);
        st = pm_test_run(argv, NULL, NULL, r.out, &svg, &err);
        cr_assert_eq(st, 0, "dot failed: %s", err);
        cr_assert(svg && strstr(svg, "<svg"));
        /* Every crate is a node: its label shows up in the drawing. */
        cr_assert(strstr(svg, "//lib/describe_derive:describe_derive"));
        cr_assert(strstr(svg, "//app/server:server"));
        pm_free(svg);
        pm_free(err);
        cli_run_release(&r);
}

Test(cli_dump, by_file_shows_exactly_the_owning_crate)
{
        struct cli_run r;
        char *abs = cli_fx_path(&fx, "lib/engine/src/job.rs");

        /* Relative to the working directory... */
        dump(NULL, (const char *[]){ "lib/engine/src/job.rs", NULL }, &r);
        cr_assert_eq(count_headings(r.out), 1, "%s", r.out);
        cr_assert(strncmp(r.out, "//lib/engine:engine\n", 20) == 0, "%s", r.out);
        cli_run_release(&r);

        /* ...absolute, and from the stored model. */
        dump("/", (const char *[]){ "--no-refresh", abs, NULL }, &r);
        cr_assert_eq(count_headings(r.out), 1, "%s", r.out);
        cr_assert(strncmp(r.out, "//lib/engine:engine\n", 20) == 0, "%s", r.out);
        cli_run_release(&r);

        /* A label and a dot graph of one crate still draws its deps' edges. */
        dump(NULL, (const char *[]){ "--no-refresh", "--format", "dot", "//lib/util:util", NULL },
             &r);
        cr_assert(strstr(r.out, "\"//lib/util:util\" -> \"//third_party/fnv:fnv\""), "%s", r.out);
        cr_assert_null(strstr(r.out, "\"//lib/engine:engine\" ->"));
        cli_run_release(&r);
        pm_free(abs);
}

Test(cli_dump, unknown_argument_is_one_error_line)
{
        const char *argv[] = { "dump", "--root", fx.repo, "--db", fx.db, "//no/such:crate", NULL };
        struct cli_run r;

        cli_fx_run(&fx, NULL, NULL, argv, &r);
        cr_assert_eq(r.status, 1);
        cr_assert(cli_one_error_line(r.err, "//no/such:crate"), "%s", r.err);
        cr_assert_str_empty(r.out);
        cli_run_release(&r);
}
