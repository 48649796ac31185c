/* SPDX-License-Identifier: MIT */
/* The compiler as the oracle (see oracle-tree.h): rustc's JSON diagnostics read, site sets
 * compared, and a tree's crates compiled in dependency order as its export describes them. */
#include "oracle-tree.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "projmodel/audit.h"
#include "projmodel/mem.h"

#include "rustc-check.h"
#include "testlib.h"

struct set {
        char **v;
        size_t n;
};

static void
set_add(struct set *s, char *key)
{
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->v[i], key) == 0) {
                        pm_free(key);
                        return;
                }
        }
        s->v = realloc(s->v, (s->n + 1) * sizeof(*s->v));
        cr_assert_not_null(s->v);
        s->v[s->n++] = key;
}

static bool
set_has(const struct set *s, const char *key)
{
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], key) == 0)
                        return true;
        return false;
}

static void
set_free(struct set *s)
{
        for (size_t i = 0; i < s->n; i++)
                pm_free(s->v[i]);
        free(s->v);
        memset(s, 0, sizeof(*s));
}

static const char *
str(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItem(o, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "file:line" of each unsafe_code diagnostic's primary span in rustc's JSON @stderr_text (a file
 * under @ws, when not NULL, relative to it, as the audit names it); with @other, the other
 * errors too ("CODE: message", rustc's closing "aborting due to" aside). */
static void
rustc_sites(const char *stderr_text, const char *ws, struct set *out, struct set *other)
{
        size_t ws_len = ws ? strlen(ws) : 0;

        char *copy = pm_strdup(stderr_text), *save = NULL;

        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                cJSON *d = cJSON_Parse(l);
                const char *code = str(cJSON_GetObjectItem(d, "code"), "code");
                const char *level = str(d, "level"), *msg = str(d, "message");
                cJSON *sp;

                if (code && strcmp(code, "unsafe_code") == 0) {
                        cJSON_ArrayForEach(sp, cJSON_GetObjectItem(d, "spans"))
                        {
                                const char *file = str(sp, "file_name");

                                if (!cJSON_IsTrue(cJSON_GetObjectItem(sp, "is_primary")))
                                        continue;
                                if (ws && strncmp(file, ws, ws_len) == 0 && file[ws_len] == '/')
                                        file += ws_len + 1;
                                set_add(out,
                                        pm_test_strf(
                                                "%s:%d", file,
                                                cJSON_GetObjectItem(sp, "line_start")->valueint));
                        }
                } else if (other && level && strcmp(level, "error") == 0 && msg &&
                           strncmp(msg, "aborting due to", 15) != 0) {
                        set_add(other, pm_test_strf("%s: %s", code ? code : "-", msg));
                }
                cJSON_Delete(d);
        }
        pm_free(copy);
}

/* pm_oracle_check_sites(), rustc's files under @ws (or NULL) read relative to it. */
static size_t
check_sites(const cJSON *crate, const char *rustc_stderr, bool test, const char *ws)
{
        const char *name = str(crate, "crate_name");
        struct set rustc = { 0 }, listed = { 0 }, in_macro = { 0 };
        const cJSON *s;
        size_t n;

        rustc_sites(rustc_stderr, ws, &rustc, NULL);
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(crate, "sites"))
        {
                enum pm_audit_kind kind;
                char *key;

                cr_assert_eq(pm_audit_kind_parse(str(s, "kind"), &kind), 0);
                if (!pm_audit_kind_is_lint(kind) ||
                    (!test && cJSON_IsTrue(cJSON_GetObjectItem(s, "test"))))
                        continue;
                key = pm_test_strf("%s:%d", str(s, "file"),
                                   cJSON_GetObjectItem(s, "line")->valueint);
                set_add(cJSON_IsTrue(cJSON_GetObjectItem(s, "macro_definition")) ? &in_macro
                                                                                 : &listed,
                        key);
        }
        for (size_t i = 0; i < rustc.n; i++)
                cr_expect(set_has(&listed, rustc.v[i]) || set_has(&in_macro, rustc.v[i]),
                          "%s%s: rustc reports unsafe code at %s, projmodel does not list it", name,
                          test ? " (--test)" : "", rustc.v[i]);
        for (size_t i = 0; i < listed.n; i++)
                cr_expect(set_has(&rustc, listed.v[i]),
                          "%s%s: projmodel lists %s, rustc reports nothing there", name,
                          test ? " (--test)" : "", listed.v[i]);
        n = rustc.n;
        set_free(&rustc);
        set_free(&listed);
        set_free(&in_macro);
        return n;
}

size_t
pm_oracle_check_sites(const cJSON *crate, const char *rustc_stderr, bool test)
{
        return check_sites(crate, rustc_stderr, test, NULL);
}

int
pm_oracle_model(const char *ws, const char *tmp, const char *const *extra_args, cJSON **ret_audit,
                cJSON **ret_project, char **ret_err)
{
        char *db = pm_test_strf("%s/model.db", tmp), *pj = pm_test_strf("%s/project.json", tmp);
        char *cache_env = pm_test_strf("XDG_CACHE_HOME=%s/cache", tmp), *out = NULL, *text;
        const char *env[] = { cache_env, NULL };
        const char *argv[24] = { pm_test_projmodel(), "export", "--root", ws, "--db", db,
                                 "--output",          pj };
        const char *audit[] = { pm_test_projmodel(), "audit",    "--root", ws,  "--db", db,
                                "--no-refresh",      "--format", "json",   NULL };
        size_t n = 8;
        int status;

        *ret_audit = *ret_project = NULL;
        *ret_err = NULL;
        for (size_t i = 0; extra_args && extra_args[i]; i++) {
                cr_assert_lt(n, sizeof(argv) / sizeof(argv[0]) - 1);
                argv[n++] = extra_args[i];
        }
        argv[n] = NULL;
        status = pm_test_run(argv, ws, env, NULL, NULL, ret_err);
        if (status != 0)
                goto exit;
        pm_free(*ret_err);
        *ret_err = NULL;
        status = pm_test_run(audit, ws, env, NULL, &out, ret_err);
        if (status != 0)
                goto exit;
        text = pm_test_read_file(pj);
        *ret_project = cJSON_Parse(text);
        *ret_audit = cJSON_Parse(out);
        pm_free(text);
exit:
        pm_free(out);
        pm_free(cache_env);
        pm_free(pj);
        pm_free(db);
        return status;
}

/* What compare_tree knows of one crate of the export. */
struct node {
        const cJSON *audit;    /* the audit's crate of the same label */
        const char *stub_code; /* the error code it is known to fail with, or NULL */
        const char *stub_why;
};

struct tree {
        const char *ws;
        struct node *nodes;
        size_t n;
        size_t sites, test_sites;
};

/*
 * The checker's callback (tests/lib/rustc-check.c) for each crate's run with -D unsafe_code:
 * rustc must fail for unsafe code only (a stub with only its error code), and its sites must be
 * the audit's, the test code's too in a --test run. A stub's failure is accepted without a
 * rebuild (nothing depends on one); another crate refused for its unsafe code is built again
 * with -A unsafe_code, since its dependents need its metadata.
 */
static int
on_crate(void *ctx, const struct pm_test_rustc_run *run)
{
        struct tree *t = ctx;
        struct node *nd = &t->nodes[run->index];
        const char *label = str(nd->audit, "label");
        bool test = run->test || strcmp(str(nd->audit, "kind"), "test") == 0;
        const char *how = run->test ? " (--test)" : "";
        struct set rustc = { 0 }, other = { 0 };
        size_t n;

        rustc_sites(run->stderr_text, t->ws, &rustc, &other);
        if (nd->stub_code) {
                bool seen = false;

                for (size_t k = 0; k < other.n; k++) {
                        cr_expect(strncmp(other.v[k], nd->stub_code, strlen(nd->stub_code)) == 0 &&
                                          other.v[k][strlen(nd->stub_code)] == ':',
                                  "%s%s (%s) fails with %s, not only %s", label, how, nd->stub_why,
                                  other.v[k], nd->stub_code);
                        seen = true;
                }
                cr_assert(seen, "%s%s compiles: it is no longer a stub failing with %s (%s)", label,
                          how, nd->stub_code, nd->stub_why);
        } else {
                for (size_t k = 0; k < other.n; k++)
                        cr_expect_fail("%s%s does not compile: %s", label, how, other.v[k]);
                cr_assert_eq(other.n, 0, "%s%s: rustc's output:\n%s", label, how, run->stderr_text);
                cr_assert((run->status == 0) == (rustc.n == 0),
                          "%s%s: rustc exit %d with %zu unsafe_code errors", label, how,
                          run->status, rustc.n);
        }
        n = check_sites(nd->audit, run->stderr_text, test, t->ws);
        if (run->test)
                t->test_sites += n;
        else
                t->sites += n;
        set_free(&rustc);
        set_free(&other);
        return nd->stub_code ? 1 : 0;
}

/* Whether the export's crate @pj is the audit's crate @a: the same label where the export has
 * one (Bazel, Buck2, GN), else (Cargo) the same root module and crate name. */
static bool
same_crate(const char *ws, const cJSON *pj, const cJSON *a)
{
        const char *label = str(cJSON_GetObjectItem(pj, "build"), "label");
        const char *root = str(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "files"), 0), "path");
        char *path, *name;
        bool same;

        if (label)
                return strcmp(label, str(a, "label")) == 0;
        path = root[0] == '/' ? pm_strdup(root) : pm_test_strf("%s/%s", ws, root);
        name = pm_strdup(str(pj, "display_name"));
        for (char *p = name; *p; p++)
                if (*p == '-')
                        *p = '_';
        same = strcmp(path, str(pj, "root_module")) == 0 && strcmp(name, str(a, "crate_name")) == 0;
        pm_free(name);
        pm_free(path);
        return same;
}

size_t
pm_oracle_compare_tree(const char *ws, const char *out_dir, const cJSON *audit,
                       const cJSON *project, const struct pm_oracle_stub *stubs, size_t n_stubs,
                       size_t *ret_sites, size_t *ret_test_sites)
{
        static const char *const deny[] = { "-D", "unsafe_code", "--error-format=json", NULL };
        static const char *const allow[] = { "-A", "unsafe_code", NULL };
        const cJSON *crates = cJSON_GetObjectItem(project, "crates"), *c, *a;
        struct tree t = { .ws = ws };
        struct pm_test_rustc_opts opts = { .extra_args = deny,
                                           .lints = true,
                                           .test_libs = true,
                                           .rebuild_args = allow,
                                           .on_crate = on_crate,
                                           .ctx = &t };
        char *json, *report = NULL;
        size_t matched = 0;
        int r;

        cr_assert(cJSON_IsArray(audit) && cJSON_IsArray(crates));
        t.n = (size_t)cJSON_GetArraySize(crates);
        t.nodes = calloc(t.n ? t.n : 1, sizeof(*t.nodes));
        cr_assert_not_null(t.nodes);
        cr_assert_eq(mkdir(out_dir, 0755), 0, "mkdir %s", out_dir);
        cr_assert_eq(t.n, (size_t)cJSON_GetArraySize(audit),
                     "the export has %zu crates, the audit %d", t.n, cJSON_GetArraySize(audit));
        for (size_t i = 0; i < t.n; i++) {
                const char *label;

                c = cJSON_GetArrayItem(crates, (int)i);
                cJSON_ArrayForEach(a, audit)
                {
                        if (same_crate(ws, c, a)) {
                                cr_assert_null(t.nodes[i].audit, "%s twice in the audit",
                                               str(a, "label"));
                                t.nodes[i].audit = a;
                        }
                }
                cr_assert_not_null(t.nodes[i].audit, "%s of the export is not in the audit",
                                   str(c, "root_module"));
                label = str(t.nodes[i].audit, "label");
                for (size_t s = 0; s < n_stubs; s++) {
                        if (strcmp(stubs[s].label, label) == 0) {
                                t.nodes[i].stub_code = stubs[s].code;
                                t.nodes[i].stub_why = stubs[s].why;
                        }
                }
                matched++;
        }
        for (size_t s = 0; s < n_stubs; s++) {
                bool found = false;

                for (size_t i = 0; i < t.n; i++)
                        found = found ||
                                strcmp(str(t.nodes[i].audit, "label"), stubs[s].label) == 0;
                cr_assert(found, "no crate %s in the tree", stubs[s].label);
        }
        /* Every crate as the export describes it (tests/lib/rustc-check.c), each library also
         * with --test, so its cfg(test) code is compared too. */
        json = cJSON_PrintUnformatted(project);
        cr_assert_not_null(json);
        r = pm_test_rustc_check_project_with(json, out_dir, &opts, &report);
        cr_assert_eq(r, 0, "%s", report ? report : "");
        pm_free(report);
        cJSON_free(json);
        free(t.nodes);
        *ret_sites = t.sites;
        *ret_test_sites = t.test_sites;
        return matched;
}
