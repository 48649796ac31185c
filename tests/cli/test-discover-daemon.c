/* SPDX-License-Identifier: MIT */
/* `projmodel discover` gives one answer whoever computes it: every form (path, buildfile,
 * label) for every crate of the GN example prints the same terminal line through a daemon and
 * in-process (PROJMODEL_NO_DAEMON=1, its own model), and a file maps to the project of its
 * crate's build file: all the crates that file declares and their closure (docs/protocol.md);
 * a discover waiting for the daemon's refresh prints its parse warnings and proc-macro builds as
 * the in-process one does. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "cli-test.h"
#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

static struct cli_fx fx;
static char *runtime_env; /* XDG_RUNTIME_DIR=<tmp>/run: the daemon's socket directory */
static char *cache2_env;  /* XDG_CACHE_HOME=<tmp>/cache2: the in-process runs' own model */

static void
setup(void)
{
        cli_fx_init(&fx, true);
        cli_fx_daemon_env(&fx, &runtime_env, &cache2_env);
}

static void
teardown(void)
{
        /* The daemon the first discover started. */
        cli_fx_stop_daemon(&fx, runtime_env, fx.repo);
        pm_free(runtime_env);
        pm_free(cache2_env);
        runtime_env = cache2_env = NULL;
        cli_fx_release(&fx);
}

TestSuite(cli_discover_daemon, .init = setup, .fini = teardown, .timeout = 600);

/* The terminal (last) line of `discover @arg`, run from the repository: through the daemon
 * (started on first use) or in-process. Asserts which of the two answered, an empty stderr and
 * the exit status matching the terminal kind. */
static char *
discover_line(const char *arg, bool daemon)
{
        const char *argv[] = { "discover", arg, NULL };
        const char *env_daemon[] = { runtime_env, NULL };
        const char *env_local[] = { runtime_env, cache2_env, "PROJMODEL_NO_DAEMON=1", NULL };
        const char *marker = daemon ? "asking the projmodel daemon" : "loading the model of";
        struct cli_run r;
        char *line, *end;

        cli_fx_run(&fx, NULL, daemon ? env_daemon : env_local, argv, &r);
        cr_assert_str_empty(r.err, "discover wrote on stderr: %s", r.err);
        cr_assert(strstr(r.out, marker), "not answered %s:\n%s",
                  daemon ? "by the daemon" : "in-process", r.out);
        end = r.out + strlen(r.out);
        cr_assert(end > r.out && end[-1] == '\n', "stdout: '%s'", r.out);
        end[-1] = '\0';
        line = strrchr(r.out, '\n');
        line = pm_test_strf("%s", line ? line + 1 : r.out);
        cr_assert_eq(r.status, strstr(line, "\"kind\":\"finished\"") == line + 1 ? 0 : 1,
                     "exit %d after %s", r.status, line);
        cli_run_release(&r);
        return line;
}

/* Every discover argument for the example: each crate's root module, build file and label,
 * plus requests nothing answers. NULL-terminated, pm_malloc'd strings. */
static char **
all_args(void)
{
        char *json = cli_fx_export(&fx, NULL);
        cJSON *p = cJSON_Parse(json);
        const cJSON *c;
        char **args = pm_calloc(64, sizeof(*args));
        size_t n = 0;

        cr_assert(p && args);
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(p, "crates"))
        {
                const cJSON *build = cJSON_GetObjectItemCaseSensitive(c, "build");

                cr_assert_lt(n, 60);
                args[n++] = pm_test_strf(
                        "{\"path\":\"%s\"}",
                        cJSON_GetObjectItemCaseSensitive(c, "root_module")->valuestring);
                cr_assert(build, "every crate of the example has a build section");
                args[n++] = pm_test_strf(
                        "{\"buildfile\":\"%s\"}",
                        cJSON_GetObjectItemCaseSensitive(build, "build_file")->valuestring);
                args[n++] =
                        pm_test_strf("{\"label\":\"%s\"}",
                                     cJSON_GetObjectItemCaseSensitive(build, "label")->valuestring);
        }
        cr_assert_eq(n, 30, "the example has 10 crates");
        /* A second source file, and requests nothing answers. */
        args[n++] = pm_test_strf("{\"path\":\"%s/lib/engine/src/job.rs\"}", fx.repo);
        args[n++] = pm_test_strf("{\"path\":\"%s/docs/orphan.rs\"}", fx.repo);
        args[n++] = pm_test_strf("{\"buildfile\":\"%s/.gn\"}", fx.repo);
        args[n++] = pm_test_strf("{\"label\":\"//nowhere:nothing\"}");
        cJSON_Delete(p);
        pm_free(json);
        return args;
}

Test(cli_discover_daemon, every_form_gives_the_same_line_with_and_without_a_daemon)
{
        char *orphan = cli_fx_path(&fx, "docs/orphan.rs");
        char **args, **with;
        size_t n, errors = 0;

        cr_assert_eq(pm_test_write_file(orphan, "fn main() {}\n"), 0);
        args = all_args();
        n = pm_labels_count(args);
        with = pm_calloc(n + 1, sizeof(*with));
        cr_assert(with);
        /* All daemon runs first: the daemon then stays up between them. */
        for (size_t i = 0; i < n; i++)
                with[i] = discover_line(args[i], true);
        for (size_t i = 0; i < n; i++) {
                char *without = discover_line(args[i], false);

                cr_assert_str_eq(with[i], without,
                                 "discover '%s' differs:\ndaemon:     %s\n"
                                 "in-process: %s",
                                 args[i], with[i], without);
                if (strstr(without, "\"kind\":\"error\""))
                        errors++;
                pm_free(without);
        }
        cr_assert_eq(errors, 3, "only the last three requests fail");
        pm_labels_free(with);
        pm_labels_free(args);
        pm_free(orphan);
}

/* The build file's project: lib/engine/BUILD.gn declares engine and engine_tests. */
static void
assert_engine_project(const char *line)
{
        cJSON *m = cJSON_Parse(line);
        const cJSON *project = cJSON_GetObjectItemCaseSensitive(m, "project");
        char *bf = cli_fx_path(&fx, "lib/engine/BUILD.gn");
        char *report = NULL, *text = pm_test_strf("%s\n", line);

        cr_assert(m, "not JSON: %s", line);
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "kind")->valuestring, "finished");
        cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(m, "buildfile")->valuestring, bf);
        /* engine, engine_tests, and their closure: config, util, fnv, itoa_lite,
         * describe_derive, tables (not server nor inspect). */
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(project, "crates")), 8,
                     "%s", line);
        cr_assert(cli_crate_by_root(&fx, project, "lib/engine/src/lib.rs"));
        cr_assert(cli_crate_by_root(&fx, project, "lib/engine/tests/engine_test.rs"));
        cr_assert(cli_crate_by_root(&fx, project, "lib/describe_derive/lib.rs"));
        cr_assert_null(cli_crate_by_root(&fx, project, "app/server/src/main.rs"));
        cr_assert_eq(pm_test_validate_discover_output(text, &report), 0, "%s", report);
        pm_free(report);
        pm_free(text);
        pm_free(bf);
        cJSON_Delete(m);
}

Test(cli_discover_daemon, a_file_gets_every_crate_of_its_build_file)
{
        char *arg = pm_test_strf("{\"path\":\"%s/lib/engine/src/lib.rs\"}", fx.repo);
        char *with = discover_line(arg, true), *without = discover_line(arg, false);
        char *work = pm_test_strf("%s/check", fx.tmp);
        cJSON *m;
        char *project;

        assert_engine_project(with);
        assert_engine_project(without);
        cr_assert_str_eq(with, without);
        /* What discover writes type-checks, the test crate included. */
        m = cJSON_Parse(with);
        project = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m, "project"));
        cr_assert(project);
        pm_test_assert_project_checks(project, strlen(project), work);
        cJSON_free(project);
        cJSON_Delete(m);
        pm_free(work);
        pm_free(with);
        pm_free(without);
        pm_free(arg);
}

/* The progress messages of `discover @arg` (run from the repository, through the daemon or
 * in-process as in discover_line()), which must exit 0 with valid protocol output. */
static char **
discover_messages(const char *arg, bool daemon)
{
        const char *argv[] = { "discover", arg, NULL };
        const char *env_daemon[] = { runtime_env, NULL };
        const char *env_local[] = { runtime_env, cache2_env, "PROJMODEL_NO_DAEMON=1", NULL };
        char **messages = NULL, *report = NULL;
        struct cli_run r;
        cJSON *finished;

        cli_fx_run(&fx, NULL, daemon ? env_daemon : env_local, argv, &r);
        cr_assert_eq(r.status, 0, "discover %s failed:\n%s", arg, r.out);
        cr_assert_str_empty(r.err, "discover wrote on stderr: %s", r.err);
        cr_assert_eq(pm_test_validate_discover_output(r.out, &report), 0, "%s", report);
        finished = cli_discover_lines(r.out, &messages);
        cr_assert(cli_message_index(messages, daemon ? "asking the projmodel daemon"
                                                     : "loading the model of") >= 0,
                  "not answered %s:\n%s", daemon ? "by the daemon" : "in-process", r.out);
        cJSON_Delete(finished);
        pm_free(report);
        cli_run_release(&r);
        return messages;
}

/* The "warning: " messages of @messages, one per line, pm_malloc'd ("" for none). */
static char *
warning_lines(char *const *messages)
{
        char *s = pm_test_strf("%s", ""), *t;

        for (size_t i = 0; messages[i]; i++) {
                if (strncmp(messages[i], "warning: ", 9) != 0)
                        continue;
                t = pm_test_strf("%s%s\n", s, messages[i]);
                pm_free(s);
                s = t;
        }
        return s;
}

/* Append @text to REPO/@rel. */
static void
append_to(const char *rel, const char *text)
{
        char *path = cli_fx_path(&fx, rel);

        pm_test_append_file(path, text);
        pm_free(path);
}

/* Replace the first @from in REPO/@rel with @to. */
static void
replace_in(const char *rel, const char *from, const char *to)
{
        char *path = cli_fx_path(&fx, rel), *old = pm_test_read_file(path), *at, *now;

        cr_assert_not_null(old, "cannot read %s", path);
        at = strstr(old, from);
        cr_assert_not_null(at, "no '%s' in %s", from, path);
        now = pm_test_strf("%.*s%s%s", (int)(at - old), old, to, at + strlen(from));
        cr_assert_eq(pm_test_write_file(path, now), 0);
        pm_free(now);
        pm_free(old);
        pm_free(path);
}

/*
 * What the daemon's refresh says reaches the discover waiting for it, as the in-process discover
 * prints it: the parse warnings ('warning: ...' lines, docs/cli.md "Warnings") and the proc-macro
 * build, before `finished`; a fresh answer adds the warnings of the model it comes from and
 * nothing else. The two edited directories are not watched, so that the discover's own
 * {"buildfile"} request starts the refresh (after the daemon's client asked): no race with the
 * watcher.
 */
Test(cli_discover_daemon, a_waiting_discover_prints_the_refresh_warnings_and_proc_macro_builds)
{
        char *config = cli_fx_path(&fx, ".projmodel.json");
        char *util = pm_test_strf("{\"buildfile\":\"%s/lib/util/BUILD.gn\"}", fx.repo);
        char *derive = pm_test_strf("{\"buildfile\":\"%s/lib/describe_derive/BUILD.gn\"}", fx.repo);
        char *building = pm_test_strf("building 1 proc macro in '%s/out'", fx.repo);
        const char *want = "warning: target '//lib/util:noenv': rustenv entry 'NOEQ' is not "
                           "KEY=VALUE, ignoring\n";
        const char *refresh[] = { "query", "projmodel/refresh", NULL };
        const char *env_daemon[] = { runtime_env, NULL };
        char **with, **without, *w_with, *w_without;
        struct cli_run r;
        int i_build, i_built;

        cr_assert_eq(pm_test_write_file(config, "{\"watch_exclude\": [\"lib/util\", "
                                                "\"lib/describe_derive\"]}\n"),
                     0);
        /* A cold daemon; then one more refresh, so that none runs when the files change. */
        pm_labels_free(discover_messages(util, true));
        cli_fx_run(&fx, NULL, env_daemon, refresh, &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cli_run_release(&r);

        append_to("lib/util/BUILD.gn",
                  "\nrust_library(\"noenv\") {\n  crate_root = \"src/lib.rs\"\n"
                  "  sources = [ \"src/lib.rs\" ]\n  rustenv = [ \"NOEQ\" ]\n}\n");
        with = discover_messages(util, true);
        without = discover_messages(util, false);
        w_with = warning_lines(with);
        w_without = warning_lines(without);
        cr_assert_str_eq(w_with, want, "through the daemon:\n%s", w_with);
        cr_assert_str_eq(w_without, want, "in-process:\n%s", w_without);
        cr_assert(cli_message_index(with, "gn: parsed") >= 0, "the daemon did not refresh");
        pm_labels_free(with);
        pm_free(w_with);

        /* Fresh: answered at once, with the model's warning and nothing else. */
        with = discover_messages(util, true);
        w_with = warning_lines(with);
        cr_assert_str_eq(w_with, want);
        cr_assert_eq(pm_labels_count(with), 2, "more than the daemon line and the warning: %s",
                     with[1]);
        pm_labels_free(with);
        pm_free(w_with);

        /* A changed proc macro target: its dylib is older than its BUILD.gn, ninja rebuilds it
         * in the daemon's worker. */
        replace_in("lib/describe_derive/BUILD.gn", "  sources = [ \"lib.rs\" ]\n",
                   "  sources = [ \"lib.rs\" ]\n  rustenv = [ \"PM_TEST=1\" ]\n");
        with = discover_messages(derive, true);
        i_build = cli_message_index(with, building);
        i_built = cli_message_index(with, "built 1 proc macro");
        cr_assert_geq(i_build, 0, "no '%s' line", building);
        cr_assert_gt(i_built, i_build, "no 'built 1 proc macro' after it");
        /* And util's warning still, once: that project's warnings stay until it is parsed again. */
        w_with = warning_lines(with);
        cr_assert_str_eq(w_with, want);
        pm_free(w_with);
        pm_labels_free(with);

        pm_labels_free(without);
        pm_free(w_without);
        pm_free(building);
        pm_free(derive);
        pm_free(util);
        pm_free(config);
}

/*
 * One limit for a warning wherever it is printed (PM_WARNING_MAX, graph.h, cut by
 * pm_utf8_clip()): a parse warning longer than that reads the same through the daemon, in-process
 * and in `projmodel status`, which prints the count and each warning: the target's 306-byte
 * name, then "NOEQ" and 43 whole 3-byte characters of the entry, then "..." (479 bytes). Before,
 * the in-process discover printed it whole, and status printed no warnings.
 */
Test(cli_discover_daemon, a_long_warning_reads_the_same_everywhere)
{
        char *config = cli_fx_path(&fx, ".projmodel.json");
        char *util = pm_test_strf("{\"buildfile\":\"%s/lib/util/BUILD.gn\"}", fx.repo);
        const char *refresh[] = { "query", "projmodel/refresh", NULL };
        const char *status[] = { "status", NULL };
        const char *env_daemon[] = { runtime_env, NULL };
        struct pm_strbuf name = PM_STRBUF_INIT, entry = PM_STRBUF_INIT, want = PM_STRBUF_INIT;
        char **with, **without, *w_with, *w_without, *target, *line, *listed;
        struct cli_run r;

        cr_assert_eq(pm_test_long_gn_warning(&name, &entry, &want), 0);
        cr_assert_eq(want.len, PM_WARNING_MAX - 1);
        line = pm_test_strf("warning: %s\n", want.buf);
        listed = pm_test_strf("\nwarnings:      1\n  gn:.: %s\n", want.buf);

        /* Not watched: the discover's own {"buildfile"} request starts the refresh. */
        cr_assert_eq(pm_test_write_file(config, "{\"watch_exclude\": [\"lib/util\"]}\n"), 0);
        pm_labels_free(discover_messages(util, true));
        cli_fx_run(&fx, NULL, env_daemon, refresh, &r);
        cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
        cli_run_release(&r);
        cli_fx_run(&fx, NULL, env_daemon, status, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, "\nwarnings:      0\n"), "status:\n%s", r.out);
        cli_run_release(&r);

        target = pm_test_strf("\nrust_library(\"%s\") {\n  crate_root = \"src/lib.rs\"\n"
                              "  sources = [ \"src/lib.rs\" ]\n  rustenv = [ \"%s\" ]\n}\n",
                              name.buf, entry.buf);
        append_to("lib/util/BUILD.gn", target);
        with = discover_messages(util, true);
        without = discover_messages(util, false);
        w_with = warning_lines(with);
        w_without = warning_lines(without);
        cr_assert_str_eq(w_with, line, "through the daemon:\n%s", w_with);
        cr_assert_str_eq(w_without, line, "in-process:\n%s", w_without);
        cli_fx_run(&fx, NULL, env_daemon, status, &r);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.out, listed), "status:\n%s", r.out);
        cli_run_release(&r);

        pm_labels_free(with);
        pm_labels_free(without);
        pm_free(w_with);
        pm_free(w_without);
        pm_free(target);
        pm_free(line);
        pm_free(listed);
        pm_strbuf_release(&name);
        pm_strbuf_release(&entry);
        pm_strbuf_release(&want);
        pm_free(util);
        pm_free(config);
}
