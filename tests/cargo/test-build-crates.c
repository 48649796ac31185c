/* SPDX-License-Identifier: MIT */
/* The Cargo build step on real crates.io crates (serde, serde_json, syn, proc-macro2, ...) from
 * Debian's cargo directory registry: every crate of `projmodel export`'s JSON type-checks with
 * bare rustc, with the build scripts' cfgs, OUT_DIR and the built serde_derive. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "rustc-check.h"
#include "testlib.h"
#include "validate.h"

/* Debian 12's librust-*-dev packages (scripts/setup.sh) put the crates' sources here, as a cargo
 * directory source (docs/build-integration.md, Cargo). */
#define REGISTRY "/usr/share/cargo/registry"

TestSuite(cargo_build_crates, .timeout = 300);

/* A member using serde's derive and serde_json; crates-io replaced by the directory registry,
 * offline, so nothing is fetched. serde_json's float_roundtrip feature compiles its lexical
 * module, which needs the build script's limb_width cfg. */
static const struct {
        const char *path;
        const char *content;
} crates_ws[] = {
        { "ws/Cargo.toml", "[workspace]\nmembers = [\"app\"]\nresolver = \"2\"\n" },
        { "ws/.cargo/config.toml", "[source.crates-io]\nreplace-with = \"debian\"\n\n"
                                   "[source.debian]\ndirectory = \"" REGISTRY "\"\n\n"
                                   "[net]\noffline = true\n" },
        { "ws/app/Cargo.toml",
          "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n"
          "[dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n"
          "serde_json = { version = \"1\", features = [\"float_roundtrip\"] }\n" },
        { "ws/app/src/lib.rs", "use serde::{Deserialize, Serialize};\n\n"
                               "#[derive(Serialize, Deserialize, Debug, PartialEq)]\n"
                               "pub struct Point {\n    pub x: i32,\n    pub y: i32,\n}\n\n"
                               "pub fn round_trip(p: &Point) -> Point {\n"
                               "    let s: String = serde_json::to_string(p).unwrap();\n"
                               "    serde_json::from_str(&s).unwrap()\n}\n" },
};

static bool
has_cfg(const cJSON *crate, const char *cfg)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(crate, "cfg"))
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, cfg) == 0)
                        return true;
        }
        return false;
}

/* The crate's dependency names in the JSON's order, joined with ' ', pm_malloc'd. */
static char *
dep_names(const cJSON *crate)
{
        const cJSON *d;
        char *s = pm_test_strf("%s", "");

        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(crate, "deps"))
        {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(d, "name");
                char *next;

                cr_assert(cJSON_IsString(name));
                next = pm_test_strf("%s%s%s", s, s[0] ? " " : "", name->valuestring);
                pm_free(s);
                s = next;
        }
        return s;
}

Test(cargo_build_crates, registry_crates_type_check_with_build_script_cfgs_and_serde_derive)
{
        char *tmp, *root, *conf, *cache, *henv, *out = NULL, *err = NULL, *report = NULL, *work;
        char *deps;
        const char *args[] = { pm_test_projmodel(), "export", "--root", NULL, NULL };
        const char *env[2] = { NULL, NULL };
        const cJSON *derive, *dylib, *json_crate;
        struct stat st;
        cJSON *p;
        int rc;

        cr_assert_eq(stat(REGISTRY "/serde_json-1.0.87", &st), 0,
                     REGISTRY "/serde_json-1.0.87 is missing: scripts/setup.sh installs it "
                              "(librust-serde-json-dev)");
        tmp = pm_test_mkdtemp();
        cr_assert_not_null(tmp);
        for (size_t i = 0; i < sizeof(crates_ws) / sizeof(crates_ws[0]); i++) {
                char *path = pm_test_strf("%s/%s", tmp, crates_ws[i].path);

                cr_assert_eq(pm_test_write_file(path, crates_ws[i].content), 0, "%s", path);
                pm_free(path);
        }
        root = pm_test_strf("%s/ws", tmp);
        conf = pm_test_strf("%s/ws/.projmodel.json", tmp);
        cache = pm_test_strf("%s/cache", tmp);
        work = pm_test_strf("{\"build_system\": \"cargo\", \"cache_dir\": \"%s\"}\n", cache);
        cr_assert_eq(pm_test_write_file(conf, work), 0);
        pm_free(work);
        /* cargo's own home in the test's tree: the user's config, registry cache and credentials
         * are neither read nor written. */
        henv = pm_test_strf("CARGO_HOME=%s/cargo-home", tmp);
        env[0] = henv;
        args[3] = root;

        rc = pm_test_run(args, root, env, NULL, &out, &err);
        cr_assert_eq(rc, 0, "export failed (%d): %s", rc, err);
        p = cJSON_Parse(out);
        cr_assert_not_null(p, "not JSON: %s", out);

        /* The build scripts' cfgs: serde_json's build.rs prints limb_width_64 on 64-bit
         * targets such as x86_64 (limb_width_32 elsewhere), proc-macro2's use_proc_macro and,
         * on a stable rustc, wrap_proc_macro; neither crate compiles without them. */
        json_crate = pm_test_crate_named(p, "serde_json");
#if defined(__x86_64__) || defined(__aarch64__)
        cr_assert(has_cfg(json_crate, "limb_width_64"), "serde_json lacks limb_width_64");
#endif
        cr_assert(has_cfg(pm_test_crate_named(p, "proc_macro2"), "use_proc_macro"));
        cr_assert(has_cfg(pm_test_crate_named(p, "proc_macro2"), "wrap_proc_macro"));
        cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                          cJSON_GetObjectItemCaseSensitive(json_crate, "env"), "OUT_DIR")),
                  "serde_json has its build script's OUT_DIR");

        /* Only the dependencies cargo passes to rustc: no dev- or build-dependency edges. */
        deps = dep_names(json_crate);
        cr_assert_str_eq(deps, "itoa ryu serde");
        pm_free(deps);
        deps = dep_names(pm_test_crate_named(p, "serde"));
        cr_assert_str_eq(deps, "serde_derive");
        pm_free(deps);
        deps = dep_names(pm_test_crate_named(p, "app"));
        cr_assert_str_eq(deps, "serde serde_json");
        pm_free(deps);

        /* serde_derive was built, and its dylib is there for rust-analyzer to load. */
        derive = pm_test_crate_named(p, "serde_derive");
        cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(derive, "is_proc_macro")));
        dylib = cJSON_GetObjectItemCaseSensitive(derive, "proc_macro_dylib_path");
        cr_assert(cJSON_IsString(dylib), "serde_derive has no proc_macro_dylib_path");
        cr_assert(stat(dylib->valuestring, &st) == 0 && S_ISREG(st.st_mode), "'%s' is missing",
                  dylib->valuestring);

        /* From the JSON alone: valid, and every crate type-checks in dependency order, the
         * dependents of serde_derive loading the dylib it names. */
        cr_assert_eq(pm_test_validate_project(out, strlen(out), &report), 0, "%s",
                     report ? report : "");
        work = pm_test_strf("%s/check", tmp);
        cr_assert_eq(mkdir(work, 0755), 0);
        rc = pm_test_rustc_check_project_loading_dylibs(out, work, &report);
        cr_assert_eq(rc, 0, "%s", report ? report : "");

        cJSON_Delete(p);
        (void)pm_test_rmtree(tmp);
        pm_free(work);
        pm_free(report);
        pm_free(out);
        pm_free(err);
        pm_free(henv);
        pm_free(cache);
        pm_free(conf);
        pm_free(root);
        pm_free(tmp);
}
