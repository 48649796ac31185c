/* SPDX-License-Identifier: MIT */
/* The Cargo build step through the daemon's own runner (server/update.c): a build script added to
 * the vendored Cargo workspace of examples/mixed-monorepo reaches projmodel/rustProject, with
 * CARGO naming the cargo that ran, and an edit of the script is watched and runs it again. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/client.h"
#include "projmodel/mem.h"

#include "daemon.h"
#include "testlib.h"

PM_TEST_DAEMON_SUITE(cargo_build_daemon, d, "mixed-monorepo");

static const cJSON *
crate_named(const cJSON *project, const char *name)
{
        const cJSON *c;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *n = cJSON_GetObjectItemCaseSensitive(c, "display_name");

                if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
                        return c;
        }
        cr_assert_fail("no crate '%s'", name);
        return NULL;
}

static const char *
env_of(const cJSON *crate, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(crate, "env"), key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

Test(cargo_build_daemon, a_build_script_reaches_the_daemons_answer)
{
        char *build_rs = pm_test_strf("%s/third_party/rust/ansi/build.rs", d.root);
        struct pm_client *c = pm_test_daemon_connect(&d);
        const cJSON *ansi, *cfg, *inc;
        const char *out_dir, *cargo;
        cJSON *r;

        cr_assert_eq(pm_test_write_file(build_rs, "fn main() {\n"
                                                  "    println!(\"cargo:rustc-cfg=ansi_gen\");\n"
                                                  "    println!(\"cargo:rustc-env=ANSI_GEN=1\");\n"
                                                  "}\n"),
                     0);
        /* A build.rs beside Cargo.toml changes no build file: ask for the refresh. */
        cJSON_Delete(pm_test_call(c, "projmodel/refresh", NULL));
        r = pm_test_call(c, "projmodel/rustProject", NULL);
        ansi = crate_named(cJSON_GetObjectItemCaseSensitive(r, "project"), "ansi");
        cfg = cJSON_GetObjectItemCaseSensitive(ansi, "cfg");
        inc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ansi, "source"),
                                               "include_dirs");
        cr_assert(pm_test_json_array_has(cfg, "ansi_gen"));
        cr_assert(pm_test_json_array_has(cfg, "feature=\"color\""), "the features stay");
        cr_assert_str_eq(env_of(ansi, "ANSI_GEN"), "1");
        out_dir = env_of(ansi, "OUT_DIR");
        cr_assert(out_dir && strncmp(out_dir, d.cache, strlen(d.cache)) == 0,
                  "OUT_DIR '%s' is in the daemon's cache directory '%s'", out_dir, d.cache);
        cr_assert(pm_test_json_array_has(inc, out_dir));
        cargo = env_of(ansi, "CARGO");
        cr_assert(cargo && cargo[0] == '/', "CARGO '%s'", cargo ? cargo : "(none)");
        cJSON_Delete(r);

        /* The build script is watched now: editing it runs it again, without being asked. */
        cJSON_Delete(pm_test_call(c, "projmodel/subscribe", NULL));
        cr_assert_eq(pm_test_write_file(build_rs, "fn main() {\n"
                                                  "    println!(\"cargo:rustc-cfg=ansi_gen2\");\n"
                                                  "}\n"),
                     0);
        r = pm_test_wait_notification(c, "projmodel/modelChanged", PM_TEST_DAEMON_TIMEOUT_MS);
        cr_assert_not_null(r, "no modelChanged after the build script changed");
        cJSON_Delete(r);
        r = pm_test_call(c, "projmodel/rustProject", NULL);
        ansi = crate_named(cJSON_GetObjectItemCaseSensitive(r, "project"), "ansi");
        cfg = cJSON_GetObjectItemCaseSensitive(ansi, "cfg");
        cr_assert(pm_test_json_array_has(cfg, "ansi_gen2"));
        cr_assert_not(pm_test_json_array_has(cfg, "ansi_gen"));
        cr_assert_null(env_of(ansi, "ANSI_GEN"));
        cJSON_Delete(r);
        pm_client_free(c);
        pm_free(build_rs);
}
