/* SPDX-License-Identifier: MIT */
/* Fixtures for the projmodel command tests (see cli-test.h). */
#include "cli-test.h"

#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "testlib.h"

void
cli_fx_init(struct cli_fx *fx, bool build)
{
        char *src;
        int st;

        memset(fx, 0, sizeof(*fx));
        fx->tmp = pm_test_mkdtemp();
        cr_assert(fx->tmp, "cannot create a temporary directory");
        fx->repo = pm_test_strf("%s/repo", fx->tmp);
        fx->db = pm_test_strf("%s/model.db", fx->tmp);
        fx->cache = pm_test_strf("%s/cache", fx->tmp);
        src = pm_test_strf("%s/examples/gn-monorepo", pm_test_source_root());
        cr_assert_eq(pm_test_copy_tree(src, fx->repo), 0, "cannot copy '%s'", src);
        pm_free(src);
        /* A copy of a built checkout must not bring its out/ along. */
        {
                char *out = pm_test_strf("%s/out", fx->repo);

                (void)pm_test_rmtree(out);
                pm_free(out);
        }
        if (!build)
                return;
        {
                const char *gen[] = { "gn", "gen", "out", NULL };
                const char *ninja[] = { "ninja", "-C", "out", NULL };
                char *o = NULL, *e = NULL;

                st = pm_test_run(gen, fx->repo, NULL, NULL, &o, &e);
                cr_assert_eq(st, 0, "gn gen failed: %s%s", o, e);
                pm_free(o);
                pm_free(e);
                o = e = NULL;
                st = pm_test_run(ninja, fx->repo, NULL, NULL, &o, &e);
                cr_assert_eq(st, 0, "ninja failed: %s%s", o, e);
                pm_free(o);
                pm_free(e);
        }
}

void
cli_fx_release(struct cli_fx *fx)
{
        if (fx->tmp)
                (void)pm_test_rmtree(fx->tmp);
        pm_free(fx->tmp);
        pm_free(fx->repo);
        pm_free(fx->db);
        pm_free(fx->cache);
        memset(fx, 0, sizeof(*fx));
}

char *
cli_fx_path(const struct cli_fx *fx, const char *rel)
{
        return pm_test_strf("%s/%s", fx->repo, rel);
}

void
cli_run_release(struct cli_run *r)
{
        pm_free(r->out);
        pm_free(r->err);
        memset(r, 0, sizeof(*r));
}

void
cli_fx_run(const struct cli_fx *fx, const char *cwd, const char *const *env,
           const char *const *args, struct cli_run *ret)
{
        const char *argv[32];
        const char *envv[16];
        char *cache_env = pm_test_strf("XDG_CACHE_HOME=%s", fx->cache);
        size_t n = 0, m = 0;

        argv[n++] = pm_test_projmodel();
        for (; args && *args; args++) {
                cr_assert_lt(n, sizeof(argv) / sizeof(argv[0]) - 1);
                argv[n++] = *args;
        }
        argv[n] = NULL;
        envv[m++] = cache_env;
        for (; env && *env; env++) {
                cr_assert_lt(m, sizeof(envv) / sizeof(envv[0]) - 1);
                envv[m++] = *env;
        }
        envv[m] = NULL;
        memset(ret, 0, sizeof(*ret));
        ret->status = pm_test_run(argv, cwd ? cwd : fx->repo, envv, NULL, &ret->out, &ret->err);
        cr_assert_geq(ret->status, 0, "cannot run '%s'", argv[0]);
        if (!ret->out)
                ret->out = pm_test_strf("%s", "");
        if (!ret->err)
                ret->err = pm_test_strf("%s", "");
        pm_free(cache_env);
}

void
cli_fx_daemon_env(const struct cli_fx *fx, char **ret_runtime_env, char **ret_cache2_env)
{
        char *run = pm_test_strf("%s/run", fx->tmp);

        cr_assert_eq(mkdir(run, 0700), 0, "%s", run);
        *ret_runtime_env = pm_test_strf("XDG_RUNTIME_DIR=%s", run);
        if (ret_cache2_env)
                *ret_cache2_env = pm_test_strf("XDG_CACHE_HOME=%s/cache2", fx->tmp);
        pm_free(run);
}

void
cli_fx_stop_daemon(const struct cli_fx *fx, const char *runtime_env, const char *root)
{
        const char *argv[] = { "stop", "--root", root, NULL };
        const char *env[] = { runtime_env, NULL };
        struct cli_run r;

        cli_fx_run(fx, NULL, env, argv, &r);
        cli_run_release(&r);
}

char *
cli_fx_export(const struct cli_fx *fx, const char *const *extra)
{
        const char *args[24] = { "export", "--root", fx->repo, "--db", fx->db };
        size_t n = 5;
        struct cli_run r;
        char *out;

        for (; extra && *extra; extra++) {
                cr_assert_lt(n, sizeof(args) / sizeof(args[0]) - 1);
                args[n++] = *extra;
        }
        args[n] = NULL;
        cli_fx_run(fx, NULL, NULL, args, &r);
        cr_assert_eq(r.status, 0, "export failed (%d): %s", r.status, r.err);
        cr_assert_str_empty(r.err, "export wrote on stderr: %s", r.err);
        out = pm_steal_ptr(&r.out);
        cli_run_release(&r);
        return out;
}

bool
cli_one_error_line(const char *s, const char *needle)
{
        const char *nl = strchr(s, '\n');

        return strncmp(s, "projmodel: ", 11) == 0 && nl && nl[1] == '\0' && strstr(s, needle) &&
               strstr(s, needle) < nl;
}

cJSON *
cli_crate_by_root(const struct cli_fx *fx, const cJSON *project, const char *rel)
{
        char *want = cli_fx_path(fx, rel);
        const cJSON *c;
        cJSON *found = NULL;

        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(project, "crates"))
        {
                const cJSON *rm = cJSON_GetObjectItemCaseSensitive(c, "root_module");

                if (cJSON_IsString(rm) && strcmp(rm->valuestring, want) == 0) {
                        found = (cJSON *)c;
                        break;
                }
        }
        pm_free(want);
        return found;
}

bool
cli_strarr_has(const cJSON *arr, const char *s)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, arr)
        {
                if (cJSON_IsString(e) && strcmp(e->valuestring, s) == 0)
                        return true;
        }
        return false;
}

cJSON *
cli_discover_lines(const char *out, char ***ret_messages)
{
        char **msgs = pm_calloc(1, sizeof(*msgs));
        size_t n = 0;
        cJSON *finished = NULL;
        const char *line = out, *nl;

        cr_assert(msgs);
        cr_assert(out && out[0], "discover wrote nothing");
        for (; *line; line = nl + 1) {
                char *text;
                cJSON *m;
                const cJSON *kind, *v;

                nl = strchr(line, '\n');
                cr_assert(nl, "a line without its newline: %s", line);
                cr_assert_null(finished, "a line after the finished message: %.*s",
                               (int)(nl - line), line);
                text = pm_test_strf("%.*s", (int)(nl - line), line);
                m = cJSON_Parse(text);
                cr_assert(cJSON_IsObject(m), "not a JSON object: %s", text);
                kind = cJSON_GetObjectItemCaseSensitive(m, "kind");
                cr_assert(cJSON_IsString(kind), "no kind: %s", text);
                if (strcmp(kind->valuestring, "progress") == 0) {
                        v = cJSON_GetObjectItemCaseSensitive(m, "message");
                        cr_assert(cJSON_IsString(v) && v->valuestring[0], "%s", text);
                        cr_assert_eq(cJSON_GetArraySize(m), 2, "extra keys: %s", text);
                        msgs = pm_realloc(msgs, (n + 2) * sizeof(*msgs));
                        cr_assert(msgs);
                        msgs[n++] = pm_strdup(v->valuestring);
                        msgs[n] = NULL;
                        cJSON_Delete(m);
                } else {
                        cr_assert_str_eq(kind->valuestring, "finished", "%s", text);
                        v = cJSON_GetObjectItemCaseSensitive(m, "buildfile");
                        cr_assert(cJSON_IsString(v) && v->valuestring[0] == '/', "%s", text);
                        cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "project")),
                                  "%.200s", text);
                        finished = m;
                }
                cr_assert_null(strchr(text, '\r'), "%s", text);
                pm_free(text);
        }
        cr_assert(finished, "no finished message:\n%s", out);
        *ret_messages = msgs;
        return finished;
}

int
cli_message_index(char *const *messages, const char *needle)
{
        for (int i = 0; messages[i]; i++)
                if (strstr(messages[i], needle))
                        return i;
        return -1;
}

char *
cli_fx_cargo_workspace(const struct cli_fx *fx)
{
        char *ws = pm_test_strf("%s/ws", fx->tmp);

        static const struct {
                const char *rel, *text;
        } files[] = {
                { "Cargo.toml", "[workspace]\nmembers = [\"calc\", \"app\"]\nresolver = \"2\"\n" },
                { "calc/Cargo.toml",
                  "[package]\nname = \"calc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n" },
                { "calc/src/lib.rs",
                  "pub fn add(x: u32, y: u32) -> u32 {\n    x + y\n}\n\n#[cfg(test)]\nmod tests "
                  "{\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(1, 2), 3);\n    "
                  "}\n\n    #[test]\n    fn adds_more() {\n        assert_eq!(super::add(2, 2), "
                  "4);\n    }\n}\n" },
                { "app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = "
                                    "\"2021\"\n\n[dependencies]\ncalc = { path = \"../calc\" }\n" },
                { "app/src/main.rs",
                  "fn main() {\n    println!(\"sum {}\", calc::add(2, 3));\n}\n" },
                { ".projmodel.json",
                  "{\"build_system\": \"cargo\", \"cargo\": {\"offline\": true}}\n" },
        };

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                char *path = pm_test_strf("%s/%s", ws, files[i].rel),
                     *dir = pm_test_strf("%s", path);

                *strrchr(dir, '/') = '\0';
                cr_assert_eq(pm_test_run((const char *[]){ "mkdir", "-p", dir, NULL }, NULL, NULL,
                                         NULL, NULL, NULL),
                             0);
                cr_assert_eq(pm_test_write_file(path, files[i].text), 0);
                pm_free(path);
                pm_free(dir);
        }
        return ws;
}

void
cli_cargo_package(const char *root, const char *name, const char *config)
{
        char *f = pm_test_strf("%s/Cargo.toml", root);
        char *m = pm_test_strf("%s/src/main.rs", root);
        char *toml = pm_test_strf("[package]\nname = \"%s\"\nversion = \"0.1.0\"\n"
                                  "edition = \"2021\"\n",
                                  name);

        cr_assert_eq(pm_test_write_file(f, toml), 0);
        cr_assert_eq(pm_test_write_file(m, "fn main() {}\n"), 0);
        if (config) {
                char *cfg = pm_test_strf("%s/.projmodel.json", root);

                cr_assert_eq(pm_test_write_file(cfg, config), 0);
                pm_free(cfg);
        }
        pm_free(toml);
        pm_free(m);
        pm_free(f);
}

void
cli_write_script(const char *path, const char *text)
{
        cr_assert_eq(pm_test_write_file(path, text), 0);
        cr_assert_eq(chmod(path, 0755), 0, "chmod '%s'", path);
}
