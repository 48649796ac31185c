/* SPDX-License-Identifier: MIT */
/* What `projmodel export` skips when nothing changed, and that it never skips too much: an
 * unchanged input is not parsed again, an unchanged model is not rendered again, rustc is not
 * asked again; a dependency rename that changes only a ninja file (not GN's JSON) is still
 * seen, and cached renderings follow the model and the options. PROJMODEL_TRACE tells which
 * path each run took. */
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "cli-test.h"
#include "testlib.h"

static struct cli_fx fx;
static char *captured; /* tmp/project.json: GN's output, captured once per test */

static const char *const trace_env[] = { "PROJMODEL_TRACE=1", NULL };

/* `gn gen out --ide=json` in the repo, then copy out/project.json to @captured. */
static void
gn_gen(void)
{
        const char *gen[] = { "gn", "gen", "out", "--ide=json", NULL };
        char *o = NULL, *e = NULL, *src, *json;
        int st = pm_test_run(gen, fx.repo, NULL, NULL, &o, &e);

        cr_assert_eq(st, 0, "gn gen failed: %s%s", o, e);
        pm_free(o);
        pm_free(e);
        src = cli_fx_path(&fx, "out/project.json");
        json = pm_test_read_file(src);
        cr_assert(json);
        cr_assert_eq(pm_test_write_file(captured, json), 0);
        pm_free(json);
        pm_free(src);
}

static void
setup(void)
{
        cli_fx_init(&fx, false);
        captured = pm_test_strf("%s/project.json", fx.tmp);
        gn_gen();
}

static void
teardown(void)
{
        pm_free(captured);
        captured = NULL;
        cli_fx_release(&fx);
}

TestSuite(cli_cache, .init = setup, .fini = teardown, .timeout = 600);

/*
 * `export` with @args (the first @n) then @extra (NULL-terminated, may be NULL), with tracing;
 * asserts success. Returns stdout (pm_malloc'd) and the trace in *ret_trace (pm_malloc'd).
 */
static char *
export_traced(const char **args, size_t n, const char *const *extra, char **ret_trace)
{
        struct cli_run r;
        char *out;

        for (; extra && *extra; extra++)
                args[n++] = *extra;
        args[n] = NULL;
        cli_fx_run(&fx, NULL, trace_env, args, &r);
        cr_assert_eq(r.status, 0, "export failed: %s", r.err);
        out = pm_steal_ptr(&r.out);
        *ret_trace = pm_steal_ptr(&r.err);
        cli_run_release(&r);
        return out;
}

/* `export --query-output <captured> [extra...]`, as export_traced(). */
static char *
export_captured(const char *db, const char *const *extra, char **ret_trace)
{
        const char *args[24] = { "export",         "--root", fx.repo,          "--db",  db,
                                 "--build-system", "gn",     "--query-output", captured };

        return export_traced(args, 9, extra, ret_trace);
}

/* `export --no-refresh [extra...]`, as export_traced(). */
static char *
export_model(const char *const *extra, char **ret_trace)
{
        const char *args[24] = { "export", "--root", fx.repo, "--db", fx.db, "--no-refresh" };

        return export_traced(args, 6, extra, ret_trace);
}

/* The name under which the crate rooted at @from depends on the one rooted at @to, or NULL. */
static char *
dep_name(const char *json, const char *from, const char *to)
{
        cJSON *p = cJSON_Parse(json), *crates, *c, *d;
        char *from_abs = cli_fx_path(&fx, from), *to_abs = cli_fx_path(&fx, to);
        char *name = NULL;

        cr_assert(p, "not JSON: %.200s", json);
        crates = cJSON_GetObjectItemCaseSensitive(p, "crates");
        cJSON_ArrayForEach(c, crates)
        {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring,
                           from_abs) != 0)
                        continue;
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "deps"))
                {
                        cJSON *t = cJSON_GetArrayItem(
                                crates, cJSON_GetObjectItemCaseSensitive(d, "crate")->valueint);

                        if (strcmp(cJSON_GetObjectItemCaseSensitive(t, "root_module")->valuestring,
                                   to_abs) == 0)
                                name = pm_strdup(
                                        cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring);
                }
        }
        cJSON_Delete(p);
        pm_free(from_abs);
        pm_free(to_abs);
        return name;
}

/* Replace the first @from in the repo file @rel by @to. */
static void
edit(const char *rel, const char *from, const char *to)
{
        char *path = cli_fx_path(&fx, rel);

        pm_test_edit_file(path, from, to);
        pm_free(path);
}

Test(cli_cache, unchanged_input_skips_the_parse)
{
        char *trace, *a, *b, *c;

        a = export_captured(fx.db, NULL, &trace);
        cr_assert(strstr(trace, "parse and apply"), "%s", trace);
        pm_free(trace);
        /* The first run may not trust ninja files written in its own clock tick; a later one
         * does, and then the next skips the parse. */
        b = export_captured(fx.db, NULL, &trace);
        pm_free(trace);
        c = export_captured(fx.db, NULL, &trace);
        cr_assert(strstr(trace, "input unchanged: parse skipped"), "%s", trace);
        pm_free(trace);
        cr_assert_str_eq(a, b);
        cr_assert_str_eq(a, c);
        pm_free(a);
        pm_free(b);
        pm_free(c);
}

Test(cli_cache, a_rename_seen_only_in_the_ninja_file_is_picked_up)
{
        char *trace, *before, *after, *name, *json_before, *json_after;

        before = export_captured(fx.db, NULL, &trace);
        pm_free(trace);
        pm_free(export_captured(fx.db, NULL, &trace));
        pm_free(trace);
        name = dep_name(before, "lib/engine/src/lib.rs", "lib/util/src/lib.rs");
        cr_assert_str_eq(name, "utils2");
        pm_free(name);

        /* aliased_deps is not in GN's JSON: only engine.ninja's externs line changes. */
        json_before = pm_test_read_file(captured);
        edit("lib/engine/BUILD.gn", "utils2 = \"//lib/util\"", "utils9 = \"//lib/util\"");
        gn_gen();
        json_after = pm_test_read_file(captured);
        cr_assert_str_eq(json_before, json_after, "GN's JSON changed: the test lost its point");

        after = export_captured(fx.db, NULL, &trace);
        cr_assert(strstr(trace, "parse and apply"), "the changed ninja file was missed:\n%s",
                  trace);
        pm_free(trace);
        name = dep_name(after, "lib/engine/src/lib.rs", "lib/util/src/lib.rs");
        cr_assert_str_eq(name, "utils9");
        pm_free(name);
        pm_free(json_before);
        pm_free(json_after);
        pm_free(before);
        pm_free(after);
}

Test(cli_cache, a_cache_hit_equals_a_fresh_render)
{
        char *fresh_db = pm_test_strf("%s/fresh.db", fx.tmp);
        char *trace, *a, *b, *fresh;

        pm_free(export_captured(fx.db, NULL, &trace));
        pm_free(trace);
        /* The model now holds the project; render it, then again from the cache. */
        a = export_model(NULL, &trace);
        pm_free(trace);
        b = export_model(NULL, &trace);
        cr_assert(strstr(trace, "output cache hit"), "%s", trace);
        pm_free(trace);
        fresh = export_captured(fresh_db, NULL, &trace);
        cr_assert_not(strstr(trace, "output cache hit"), "%s", trace);
        pm_free(trace);
        cr_assert_str_eq(a, fresh);
        cr_assert_str_eq(b, fresh);

        /* The same through the output file's record: untouched when already up to date. */
        {
                char *path = pm_test_strf("%s/rust-project.json", fx.tmp);
                const char *o[] = { "--output", path, NULL };
                struct stat st1, st2;
                char *text;

                pm_free(export_model(o, &trace));
                pm_free(trace);
                cr_assert_eq(stat(path, &st1), 0);
                pm_free(export_model(o, &trace));
                cr_assert(strstr(trace, "up to date (output cache hit)"), "%s", trace);
                pm_free(trace);
                cr_assert_eq(stat(path, &st2), 0);
                cr_assert_eq(st1.st_ino, st2.st_ino, "an up-to-date file was rewritten");
                text = pm_test_read_file(path);
                cr_assert_str_eq(text, fresh);
                pm_free(text);
                /* Edited behind our back: written again, whatever the record says. */
                cr_assert_eq(pm_test_write_file(path, "{}\n"), 0);
                pm_free(export_model(o, &trace));
                cr_assert_not(strstr(trace, "(output cache hit)"), "%s", trace);
                pm_free(trace);
                text = pm_test_read_file(path);
                cr_assert_str_eq(text, fresh);
                pm_free(text);
                pm_free(path);
        }
        pm_free(a);
        pm_free(b);
        pm_free(fresh);
        pm_free(fresh_db);
}

Test(cli_cache, cached_renderings_follow_the_model_and_the_options)
{
        char *path = pm_test_strf("%s/rust-project.json", fx.tmp);
        const char *to_file[] = { "--output", path, NULL };
        const char *to_file_pretty[] = { "--output", path, "--pretty", NULL };
        const char *pretty[] = { "--pretty", NULL };
        char *trace, *a, *b, *text;

        pm_free(export_captured(fx.db, to_file, &trace));
        pm_free(trace);
        a = export_model(NULL, &trace);
        pm_free(trace);
        b = export_model(NULL, &trace);
        cr_assert(strstr(trace, "output cache hit"), "%s", trace);
        pm_free(trace);
        pm_free(b);

        /* Another option: another rendering, on stdout and in the file. */
        b = export_model(pretty, &trace);
        cr_assert_not(strstr(trace, "output cache hit"), "%s", trace);
        pm_free(trace);
        cr_assert(strstr(b, "\n\t"), "not pretty");
        pm_free(b);
        /* (The pretty rendering just cached serves the file.) */
        pm_free(export_model(to_file_pretty, &trace));
        pm_free(trace);
        text = pm_test_read_file(path);
        cr_assert(strstr(text, "\n\t"), "the file is not pretty");
        pm_free(text);
        pm_free(export_model(to_file, &trace));
        pm_free(trace);
        text = pm_test_read_file(path);
        cr_assert_str_eq(text, a, "compact again");
        pm_free(text);

        /* A model change (a new cfg: GN's JSON changes) moves the generation. */
        edit("lib/engine/BUILD.gn", "\"--edition=2021\",\n    \"--cfg\",",
             "\"--edition=2021\",\n    \"--cfg=brand_new\",\n    \"--cfg\",");
        gn_gen();
        pm_free(export_captured(fx.db, to_file, &trace));
        pm_free(trace);
        text = pm_test_read_file(path);
        cr_assert(strstr(text, "\"brand_new\""), "the file kept the old model");
        pm_free(text);
        b = export_model(NULL, &trace);
        cr_assert_not(strstr(trace, "output cache hit"), "a stale rendering was used:\n%s", trace);
        pm_free(trace);
        cr_assert(strstr(b, "\"brand_new\""));
        pm_free(b);

        /* Another sysroot (a configuration key): another rendering. */
        {
                char *cfgpath = cli_fx_path(&fx, ".projmodel.json");
                char *cfg =
                        pm_test_strf("{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"},"
                                     " \"sysroot\": \"%s/toolchain\"}",
                                     fx.tmp);
                char *want = pm_test_strf("\"sysroot\":\"%s/toolchain\"", fx.tmp);

                cr_assert_eq(pm_test_write_file(cfgpath, cfg), 0);
                b = export_model(NULL, &trace);
                cr_assert_not(strstr(trace, "output cache hit"), "%s", trace);
                pm_free(trace);
                cr_assert(strstr(b, want), "sysroot not changed: %.300s", b);
                pm_free(b);
                pm_free(export_captured(fx.db, to_file, &trace));
                pm_free(trace);
                text = pm_test_read_file(path);
                cr_assert(strstr(text, want), "the file kept the old sysroot");
                pm_free(text);
                pm_free(want);
                pm_free(cfg);
                pm_free(cfgpath);
        }
        pm_free(a);
        pm_free(path);
}

Test(cli_cache, rustc_is_asked_once_until_the_toolchain_setup_changes)
{
        char *wrapper = pm_test_strf("%s/rustc-wrapper", fx.tmp);
        char *log = pm_test_strf("%s/rustc.log", fx.tmp);
        char *script = pm_test_strf("#!/bin/sh\necho run >> '%s'\nexec rustc \"$@\"\n", log);
        char *cfgpath = cli_fx_path(&fx, ".projmodel.json");
        char *cfg = pm_test_strf(
                "{\"build_system\": \"gn\", \"gn\": {\"out_dir\": \"out\"}, \"rustc\": \"%s\"}",
                wrapper);
        char *trace, *text, *first, *toolchain, *fresh_db;

        cr_assert_eq(pm_test_write_file(wrapper, script), 0);
        cr_assert_eq(chmod(wrapper, 0755), 0);
        cr_assert_eq(pm_test_write_file(cfgpath, cfg), 0);

        first = export_captured(fx.db, NULL, &trace);
        pm_free(trace);
        pm_free(export_captured(fx.db, NULL, &trace));
        pm_free(trace);
        pm_free(export_model(NULL, &trace));
        pm_free(trace);
        text = pm_test_read_file(log);
        cr_assert_str_eq(text, "run\n", "rustc asked more than once");
        pm_free(text);
        cr_assert(strstr(first, "\"sysroot\":\"/"));

        /* A rust-toolchain file may select another toolchain: ask again. */
        toolchain = cli_fx_path(&fx, "rust-toolchain.toml");
        cr_assert_eq(pm_test_write_file(toolchain, "[toolchain]\nchannel = \"stable\"\n"), 0);
        pm_free(export_model(NULL, &trace));
        pm_free(trace);
        text = pm_test_read_file(log);
        cr_assert_str_eq(text, "run\nrun\n");
        pm_free(text);

        /* A fresh model (a new checkout, a deleted model) finds the answer in the cache dir. */
        fresh_db = pm_test_strf("%s/fresh.db", fx.tmp);
        pm_free(export_captured(fresh_db, NULL, &trace));
        pm_free(trace);
        text = pm_test_read_file(log);
        cr_assert_str_eq(text, "run\nrun\n", "a fresh model asked rustc again");
        pm_free(text);
        pm_free(fresh_db);
        pm_free(toolchain);
        pm_free(first);
        pm_free(cfg);
        pm_free(cfgpath);
        pm_free(script);
        pm_free(log);
        pm_free(wrapper);
}
