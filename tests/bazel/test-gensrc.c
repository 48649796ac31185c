/* SPDX-License-Identifier: MIT */
/* Generated sources through the real bazel: a rust_library of a copy of examples/bazel-monorepo
 * whose only src is a genrule's output is served with the file Bazel built (its build events), one
 * mixing checked-in srcs with a generated one is served from a directory joining them, both
 * type-check with bare rustc from the exported JSON, and a genrule that fails gives the crate a
 * note (docs/build-integration.md, Bazel). */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "bazel-test.h"
#include "daemon.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static struct pm_bazel_ws ws;

static void
setup(void)
{
        cr_assert(pm_test_have("bazel"), "bazel is not installed");
        pm_bazel_ws_setup(&ws, "basic", NULL);
}

static void
teardown(void)
{
        pm_bazel_ws_teardown(&ws);
}

TestSuite(bazel_gensrc, .init = setup, .fini = teardown, .timeout = 600);

/* lib/gen: `generated.rs`, written by genrule gen_rs with @cmd, is the library's only src (its
 * root), and it uses the build script's crate, so the check needs the OUT_DIR too. */
static const char gen_build[] = "load(\"//rust:defs.bzl\", \"rust_library\")\n"
                                "\n"
                                "genrule(\n"
                                "    name = \"gen_rs\",\n"
                                "    outs = [\"generated.rs\"],\n"
                                "    cmd = \"%s\",\n"
                                ")\n"
                                "\n"
                                "rust_library(\n"
                                "    name = \"gen\",\n"
                                "    srcs = [\":gen_rs\"],\n"
                                "    deps = [\"//lib/build_info\"],\n"
                                ")\n";

/* lib/mixed: a checked-in root declaring `mod generated;` and `mod util;` (checked in), as
 * rules_rust compiles it from one directory of links. generated.rs comes through a chain of two
 * genrules and a tool, outside the crate's package (whose directory the daemon watches as one of
 * the crate's include dirs): //lib/gen_input:first copies the input generated.in, mixed_gen runs
 * //tools/copy:copy (a filegroup of copy.sh) on that copy. */
static const char mixed_build[] = "load(\"//rust:defs.bzl\", \"rust_library\")\n"
                                  "\n"
                                  "genrule(\n"
                                  "    name = \"mixed_gen\",\n"
                                  "    srcs = [\"//lib/gen_input:first.rs\"],\n"
                                  "    outs = [\"generated.rs\"],\n"
                                  "    tools = [\"//tools/copy\"],\n"
                                  "    cmd = \"$(location //tools/copy) $< $@\",\n"
                                  ")\n"
                                  "\n"
                                  "rust_library(\n"
                                  "    name = \"mixed\",\n"
                                  "    srcs = [\"lib.rs\", \"util/mod.rs\", \":mixed_gen\"],\n"
                                  ")\n";
static const char input_build[] = "genrule(\n"
                                  "    name = \"first\",\n"
                                  "    srcs = [\"generated.in\"],\n"
                                  "    outs = [\"first.rs\"],\n"
                                  "    cmd = \"cp $< $@\",\n"
                                  "    visibility = [\"//visibility:public\"],\n"
                                  ")\n";
static const char tool_build[] = "filegroup(\n"
                                 "    name = \"copy\",\n"
                                 "    srcs = [\"copy.sh\"],\n"
                                 "    visibility = [\"//visibility:public\"],\n"
                                 ")\n";
static const char mixed_lib[] = "mod generated;\n"
                                "mod util;\n"
                                "\n"
                                "pub fn answer() -> usize {\n"
                                "    generated::forty() + util::two()\n"
                                "}\n";

/* The files of lib/mixed, its generators and their tool (@exec: a script), under the example's
 * root. */
static const struct {
        const char *rel, *text;
        bool exec;
} mixed_files[] = {
        { "lib/mixed/BUILD.bazel", mixed_build, false },
        { "lib/mixed/lib.rs", mixed_lib, false },
        { "lib/mixed/util/mod.rs", "pub fn two() -> usize {\n    2\n}\n", false },
        { "lib/gen_input/BUILD.bazel", input_build, false },
        { "lib/gen_input/generated.in", "pub fn forty() -> usize {\n    40\n}\n", false },
        { "tools/copy/BUILD.bazel", tool_build, false },
        { "tools/copy/copy.sh", "#!/bin/sh\ncat \"$1\" > \"$2\"\n", true },
};

/*
 * Whether the inotify descriptor @fd has an event for the file @name in its watched directory
 * (read without waiting: the events are queued by then).
 */
static bool
saw_event(int fd, const char *name)
{
        char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool seen = false;
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                for (char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        seen |= ev->len > 0 && strcmp(ev->name, name) == 0;
                        p += sizeof(*ev) + ev->len;
                }
        }
        return seen;
}

/*
 * Write @text to @file under @root, then wait for the refresh the edit starts on daemon
 * connection @c (its $/progress ends: its build rewrites generated.rs before the end), and check
 * that @generated holds @want, and that its directory (an include dir of the crate, which
 * rust-analyzer watches) had an event for it: a link whose target changed would have none. NULL
 * when so, else what went wrong (pm_malloc'd).
 */
static char *
edit_rebuilds(struct pm_client *c, const char *root, const char *file, const char *text,
              const char *generated, const char *want)
{
        char *path = pm_test_strf("%s/%s", root, file), *now = NULL, *what = NULL;
        char *dir = pm_test_strf("%.*s", (int)(strrchr(generated, '/') - generated), generated);
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        bool ended = false;
        cJSON *n;

        if (fd < 0 || inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
                what = pm_test_strf("cannot watch %s: %s", dir, strerror(errno));
                goto out;
        }
        if (pm_test_write_file(path, text) != 0) {
                what = pm_test_strf("cannot write %s", path);
                goto out;
        }
        while (!ended && (n = pm_test_wait_notification(c, "$/progress",
                                                        PM_TEST_DAEMON_TIMEOUT_MS)) != NULL) {
                const cJSON *kind = cJSON_GetObjectItem(
                        cJSON_GetObjectItem(cJSON_GetObjectItem(n, "params"), "value"), "kind");

                ended = cJSON_IsString(kind) && strcmp(kind->valuestring, "end") == 0;
                cJSON_Delete(n);
        }
        now = pm_test_read_file(generated);
        if (!ended)
                what = pm_test_strf("no refresh ended after the edit of %s", file);
        else if (!now || !strstr(now, want))
                what = pm_test_strf("%s after the edit of %s: %s", generated, file,
                                    now ? now : "(none)");
        else if (!saw_event(fd, "generated.rs"))
                what = pm_test_strf("no event in %s for generated.rs after the edit of %s", dir,
                                    file);
out:
        if (fd >= 0)
                close(fd);
        pm_free(dir);
        pm_free(path);
        pm_free(now);
        return what;
}

/*
 * A real daemon on the exported example @root (its warm Bazel server, a model of its own under
 * @tmp) watches what the generator of lib/mixed's generated.rs reads: the input at the start of
 * the chain of genrules, then the tool's script. Each edited, it refreshes without being asked
 * and @generated (the served generated.rs, a copy in the crate's joined directory) then holds
 * the new text, rewritten there.
 * NULL when so, else what went wrong (pm_malloc'd).
 */
static char *
daemon_rebuilds_generated(const char *tmp, const char *root, const char *generated)
{
        struct pm_test_daemon d = { .pid = -1 };
        struct pm_client *c;
        char *dir = pm_test_strf("%s/daemon", tmp), *what;

        pm_test_daemon_setup_at(&d, root, dir);
        pm_free(dir);
        c = pm_test_daemon_connect(&d);
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        what = edit_rebuilds(c, root, "lib/gen_input/generated.in",
                             "pub fn forty() -> usize {\n    41\n}\n", generated, "41");
        if (!what)
                what = edit_rebuilds(c, root, "tools/copy/copy.sh",
                                     "#!/bin/sh\nsed s/41/43/ \"$1\" > \"$2\"\n", generated, "43");
        pm_client_free(c);
        pm_test_daemon_destroy(&d);
        return what;
}

/* The crate labelled @label of rust-project.json @project (asserted). */
static const cJSON *
crate_labelled(const cJSON *project, const char *label)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "build");
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(b, "label");

                if (cJSON_IsString(l) && strcmp(l->valuestring, label) == 0)
                        return c;
        }
        cr_assert_fail("no crate '%s'", label);
        return NULL;
}

/* The generated.rs beside //lib/mixed:mixed's root module (its link) in rust-project.json @text,
 * pm_malloc'd ("" when there is no such crate). */
static char *
mixed_generated(const char *text)
{
        cJSON *project = cJSON_Parse(text);
        const cJSON *c;
        char *path = NULL;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(c, "build"), "label");
                const cJSON *rm = cJSON_GetObjectItemCaseSensitive(c, "root_module");

                if (!path && cJSON_IsString(l) &&
                    strcmp(l->valuestring, "//lib/mixed:mixed") == 0 && cJSON_IsString(rm) &&
                    strrchr(rm->valuestring, '/'))
                        path = pm_test_strf("%.*s/generated.rs",
                                            (int)(strrchr(rm->valuestring, '/') - rm->valuestring),
                                            rm->valuestring);
        }
        cJSON_Delete(project);
        return path ? path : pm_test_strf("%s", "");
}

/* The root_module of //lib/gen:gen in rust-project.json @text, or "" (static). */
static const char *
built_root(const char *text)
{
        static char path[4096];
        cJSON *project = cJSON_Parse(text);
        const cJSON *c, *rm = NULL;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(c, "build"), "label");

                if (cJSON_IsString(l) && strcmp(l->valuestring, "//lib/gen:gen") == 0)
                        rm = cJSON_GetObjectItemCaseSensitive(c, "root_module");
        }
        (void)snprintf(path, sizeof(path), "%s", cJSON_IsString(rm) ? rm->valuestring : "");
        cJSON_Delete(project);
        return path;
}

Test(bazel_gensrc, a_genrule_output_src_is_built_and_served_where_bazel_wrote_it)
{
        char *src = pm_test_strf("%s/examples/bazel-monorepo", pm_test_source_root());
        char *root = pm_test_strf("%s/example", ws.tmp);
        char *ob = pm_test_strf("%s/example-ob", ws.tmp);
        char *cache = pm_test_strf("%s/cache", ws.tmp);
        char *cfgpath = pm_test_strf("%s/.projmodel.json", root);
        char *pkg = pm_test_strf("%s/lib/gen", root);
        char *build = pm_test_strf("%s/lib/gen/BUILD.bazel", root);
        char *json = pm_test_strf("{\"build_system\": \"bazel\", \"cache_dir\": \"%s\", "
                                  "\"bazel\": {\"output_base\": \"%s\", "
                                  "\"rules_rust_settings\": \"//rust/settings\"}}\n",
                                  cache, ob);
        char *out = pm_test_strf("%s/rust-project.json", ws.tmp);
        char *shutdown_ob = pm_test_strf("--output_base=%s", ob);
        char *gen_dir = pm_test_strf("%s/execroot/bazel_monorepo/bazel-out/", ob);
        char *good = pm_test_strf(gen_build, "echo 'pub fn answer() -> usize "
                                             "{ build_info::GREETING.len() }' > $@");
        char *bad = pm_test_strf(gen_build, "echo the generator is broken >&2; exit 3");
        char *mixed_root = pm_test_strf("%s/lib/mixed/lib.rs", root);
        char *links = pm_test_strf("%s/srcs/", cache);
        char *daemon_what = NULL;
        char real[PATH_MAX], want[PATH_MAX];
        const char *argv[] = {
                pm_test_projmodel(), "export", "--root", root, "--output", out, NULL
        };
        const char *dump[] = { pm_test_projmodel(), "dump",          "--root", root,
                               "--no-refresh",      "//lib/gen:gen", NULL };
        const char *shutdown[] = { "bazel", shutdown_ob, "shutdown", NULL };
        char *errout = NULL, *errout2 = NULL, *text = NULL, *report = NULL, *dumped = NULL;
        char *vreport = NULL;
        const cJSON *gen, *rm, *inc;
        cJSON *project;
        struct stat st;
        int status, status2 = -1, dumped_status = -1, checked = -1, valid = -1;
        bool exists = false;

        cr_assert_eq(pm_test_copy_tree(src, root), 0);
        cr_assert_eq(pm_test_write_file(cfgpath, json), 0);
        cr_assert_eq(mkdir(pkg, 0755), 0);
        cr_assert_eq(pm_test_write_file(build, good), 0);
        for (size_t i = 0; i < sizeof(mixed_files) / sizeof(*mixed_files); i++) {
                char *path = pm_test_strf("%s/%s", root, mixed_files[i].rel);

                cr_assert_eq(pm_test_write_file(path, mixed_files[i].text), 0, "%s", path);
                cr_assert(!mixed_files[i].exec || chmod(path, 0755) == 0, "%s", path);
                pm_free(path);
        }
        status = pm_test_run(argv, root, NULL, NULL, NULL, &errout);
        if (status == 0)
                text = pm_test_read_file(out);
        /* What needs the built file, before the broken generator's build removes it. */
        if (text) {
                exists = stat(built_root(text), &st) == 0;
                checked = pm_test_rustc_check_project_loading_dylibs(text, ws.tmp, &report);
                valid = pm_test_validate_project(text, strlen(text), &vreport);
        }
        /* What the generator reads is watched (before the broken generator's build). */
        if (text && checked == 0) {
                char *mixed_gen = mixed_generated(text);

                daemon_what = daemon_rebuilds_generated(ws.tmp, root, mixed_gen);
                pm_free(mixed_gen);
        }
        /* The generator broken: the crate keeps the parse's path and says why. */
        if (status == 0 && pm_test_write_file(build, bad) == 0) {
                status2 = pm_test_run(argv, root, NULL, NULL, NULL, &errout2);
                if (status2 == 0)
                        dumped_status = pm_test_run(dump, root, NULL, NULL, &dumped, NULL);
        }
        (void)pm_test_run(shutdown, root, NULL, NULL, NULL, NULL);
        cr_assert_eq(status, 0, "projmodel export: %s", errout);
        cr_assert_not_null(text);
        project = cJSON_Parse(text);
        cr_assert_not_null(project);
        gen = crate_labelled(project, "//lib/gen:gen");
        rm = cJSON_GetObjectItemCaseSensitive(gen, "root_module");
        cr_assert(cJSON_IsString(rm), "no root_module");
        /* Bazel's own path for the output (the build events' file:// URI), which exists. */
        cr_assert(strncmp(rm->valuestring, gen_dir, strlen(gen_dir)) == 0 &&
                          strcmp(pm_path_basename(rm->valuestring), "generated.rs") == 0,
                  "root_module '%s' is not the built generated.rs under '%s'", rm->valuestring,
                  gen_dir);
        cr_assert(exists, "'%s' does not exist", rm->valuestring);
        inc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(gen, "source"),
                                               "include_dirs");
        cr_assert(pm_test_json_array_has(inc, pkg), "the package dir is an include dir");
        {
                char *dir =
                        pm_test_strf("%.*s", (int)(strrchr(rm->valuestring, '/') - rm->valuestring),
                                     rm->valuestring);

                cr_assert(pm_test_json_array_has(inc, dir), "'%s' is an include dir", dir);
                pm_free(dir);
        }
        cr_assert_eq(checked, 0, "%s", report);
        pm_free(report);
        report = NULL;
        /* The mixed crate: its root through the links in the cache, which lead to the user's
         * lib.rs; that directory is an include dir. */
        gen = crate_labelled(project, "//lib/mixed:mixed");
        rm = cJSON_GetObjectItemCaseSensitive(gen, "root_module");
        cr_assert(cJSON_IsString(rm), "no root_module");
        cr_assert(strncmp(rm->valuestring, links, strlen(links)) == 0,
                  "root_module '%s' is not under '%s'", rm->valuestring, links);
        cr_assert_not_null(realpath(rm->valuestring, real), "'%s'", rm->valuestring);
        cr_assert_not_null(realpath(mixed_root, want));
        cr_assert_str_eq(real, want, "the link leads to the user's lib.rs");
        inc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(gen, "source"),
                                               "include_dirs");
        {
                char *dir =
                        pm_test_strf("%.*s", (int)(strrchr(rm->valuestring, '/') - rm->valuestring),
                                     rm->valuestring);

                cr_assert(pm_test_json_array_has(inc, dir), "'%s' is an include dir", dir);
                pm_free(dir);
        }
        cr_assert_null(daemon_what, "%s", daemon_what);
        cr_assert_eq(valid, 0, "%s", vreport);
        cr_assert_eq(status2, 0, "export with a broken generator: %s", errout2);
        cr_assert_eq(dumped_status, 0);
        cr_assert(strstr(dumped, "note: generated source //lib/gen:gen_rs not built: "),
                  "the note names the genrule: %s", dumped);
        cJSON_Delete(project);
        pm_free(errout);
        pm_free(errout2);
        pm_free(text);
        pm_free(report);
        pm_free(dumped);
        pm_free(vreport);
        pm_free(src);
        pm_free(root);
        pm_free(ob);
        pm_free(cache);
        pm_free(cfgpath);
        pm_free(pkg);
        pm_free(build);
        pm_free(json);
        pm_free(out);
        pm_free(shutdown_ob);
        pm_free(gen_dir);
        pm_free(good);
        pm_free(bad);
        pm_free(mixed_root);
        pm_free(links);
}
