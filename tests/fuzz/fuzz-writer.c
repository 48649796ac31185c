/* SPDX-License-Identifier: MIT */
/* Fuzz target: the rust-project.json round trip. The input bytes describe a small crate graph
 * (counts, names, paths, cfgs, deps drawn from pools of good and bad values, or spelled out by
 * the input); a graph pm_graph_validate() accepts must render to JSON that keeps the schema's
 * invariants, renders the same printed and as an object, and survives the model unchanged. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"
#include "projmodel/writer.h"

#include "fuzz.h"

#define MAX_CRATES 8
#define N(a)       (sizeof(a) / sizeof((a)[0]))

/* The input, read a byte at a time; zeros once it runs out. */
struct reader {
        const uint8_t *p;
        size_t n;
        char raw[4][64]; /* the last strings spelled out by the input */
        unsigned next_raw;
};

static const char *const names[] = { "a",   "b",    "foo", "foo_bar", "foo-bar", "r#type",
                                     "_",   "",     "1x",  "self",    "héllo",   "a b",
                                     "std", "x\"y", "c_2", "r#self",  "__" };
static const char *const editions[] = { "2021", "2018", "2015", "2024", "2027", "", NULL, "21" };
static const char *const paths[] = {
        "/repo/a/src/lib.rs", "/repo/b/lib.rs", "/repo/c/main.rs",  "rel/lib.rs", "/repo/../x.rs",
        "/repo/./a/lib.rs",   "/r\"q/lib.rs",   "/repo/a b/lib.rs", "/",          "",
        "/repo//d/lib.rs",    "/repo/e/\xff.rs"
};
static const char *const cfgs[] = { "unix",
                                    "test",
                                    "feature=\"std\"",
                                    "feature=std",
                                    "feature=\"a\\\"b\"",
                                    "k=\"\"",
                                    "=\"x\"",
                                    "a b",
                                    "feature=\"x",
                                    "target_os=\"linux\"",
                                    "debug_assertions",
                                    "x=\"y\"z\"",
                                    "\"q\"",
                                    "feature=\"a=b\"",
                                    "",
                                    "r#x" };
static const char *const renames[] = { NULL, "bee", "b-e", "r#x", "", "_", "b", "a-b-c" };
static const char *const env_keys[] = { "OUT_DIR", "CARGO_PKG_NAME", "", "A=B", "K\"", "\n" };
static const char *const env_values[] = { "", "/x", "v\"q", "\n", "\\", "/repo/out" };
static const char *const flags[] = { "--cfg", "feature=\"x\"", "-O", "--edition=2018", "" };
static const char *const targets[] = { NULL, "x86_64-unknown-linux-gnu", "wasm32-unknown-unknown",
                                       "" };
static const char *const build_systems[] = { "gn", "bazel", "buck2", "cargo", NULL, "make" };
static const char *const sysroots[] = { NULL, "/sysroot", "/sys\"root", "" };

static struct pm_index *idx;

static void fail(const char *what, const char *detail) __attribute__((noreturn));

static void
fail(const char *what, const char *detail)
{
        fprintf(stderr, "fuzz-writer: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
        abort();
}

static unsigned
u8(struct reader *rd)
{
        if (rd->n == 0)
                return 0;
        rd->n--;
        return *rd->p++;
}

/* A value from @pool, or (for bytes >= 0xe0) one spelled out by the input. */
static const char *
pick(struct reader *rd, const char *const *pool, size_t n)
{
        unsigned b = u8(rd);
        char *s;
        size_t len;

        if (b < 0xe0)
                return pool[b % n];
        s = rd->raw[rd->next_raw++ % N(rd->raw)];
        len = u8(rd) % (sizeof(rd->raw[0]) - 1);
        for (size_t i = 0; i < len; i++) {
                s[i] = (char)u8(rd);
                if (!s[i])
                        break;
        }
        s[len] = '\0';
        return s;
}

#define PICK(rd, pool) pick((rd), (pool), N(pool))

static void
oom_check(int r)
{
        if (r < 0)
                fail("out of memory", NULL);
}

static struct pm_graph *
build_graph(struct reader *rd)
{
        struct pm_graph *g = pm_graph_new();
        size_t n;

        if (!g)
                fail("out of memory", NULL);
        n = u8(rd) % (MAX_CRATES + 1);
        for (size_t i = 0; i < n; i++) {
                struct pm_crate *c = pm_graph_add_crate(g);
                unsigned bits = u8(rd), k;

                if (!c)
                        fail("out of memory", NULL);
                /* Mostly unique labels; sometimes a pool name, which may repeat. */
                if (bits & 1)
                        c->label = pm_graph_printf(g, "//c%zu:%s", i, PICK(rd, names));
                else
                        c->label = pm_graph_printf(g, "//c%zu:c%zu", i, i);
                c->build_system = pm_graph_strdup(g, PICK(rd, build_systems));
                c->crate_name = pm_graph_strdup(g, PICK(rd, names));
                c->display_name = pm_graph_strdup(g, bits & 2 ? PICK(rd, names) : NULL);
                c->edition = pm_graph_strdup(g, PICK(rd, editions));
                c->kind = (enum pm_crate_kind)(u8(rd) % (_PM_CRATE_KIND_MAX + 1));
                c->root_module = pm_graph_strdup(g, PICK(rd, paths));
                c->target = pm_graph_strdup(g, PICK(rd, targets));
                c->is_workspace_member = bits & 4;
                if (bits & 8)
                        c->build_file = pm_graph_strdup(g, PICK(rd, paths));
                if (bits & 16)
                        c->proc_macro_dylib = pm_graph_strdup(g, PICK(rd, paths));
                if (bits & 32)
                        c->note = pm_graph_strdup(g, PICK(rd, names));
                k = u8(rd) % 5;
                for (unsigned j = 0; j < k; j++)
                        oom_check(pm_strlist_push(g, &c->cfgs, PICK(rd, cfgs)));
                if (bits & 64) {
                        k = u8(rd) % 4;
                        for (unsigned j = 0; j < k; j++) {
                                const char *key = PICK(rd, env_keys);

                                oom_check(pm_kvlist_set(g, &c->env, key, PICK(rd, env_values)));
                        }
                        k = u8(rd) % 4;
                        for (unsigned j = 0; j < k; j++)
                                oom_check(pm_strlist_push(g, &c->flags, PICK(rd, flags)));
                }
                if (bits & 128) {
                        k = u8(rd) % 3;
                        for (unsigned j = 0; j < k; j++)
                                oom_check(pm_strlist_push(g, &c->sources, PICK(rd, paths)));
                        k = u8(rd) % 3;
                        for (unsigned j = 0; j < k; j++)
                                oom_check(pm_strlist_push(g, &c->include_dirs, PICK(rd, paths)));
                }
        }
        /* Deps once every label exists: index n names a crate outside the graph. */
        for (size_t i = 0; i < n; i++) {
                unsigned k = u8(rd) % 4;

                for (unsigned j = 0; j < k; j++) {
                        size_t t = u8(rd) % (n + 1);
                        const char *label = t < n ? g->crates[t].label : "//missing:x";

                        oom_check(pm_crate_add_dep(g, &g->crates[i], label, PICK(rd, renames)));
                }
        }
        return g;
}

/* `name` or `name="value"`: after the first '=', a quoted string. */
static bool
cfg_ok(const char *s)
{
        const char *eq = strchr(s, '=');
        size_t n;

        if (!eq)
                return true;
        n = strlen(eq + 1);
        return n >= 2 && eq[1] == '"' && eq[n] == '"';
}

static const char *
str_item(const cJSON *o, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (!cJSON_IsString(v))
                fail("a crate field is not a string", key);
        return v->valuestring;
}

static void
check_project(const struct pm_graph *g, const cJSON *project)
{
        const cJSON *crates = cJSON_GetObjectItemCaseSensitive(project, "crates"), *c;
        size_t n_deps = 0, out_deps = 0, pos = 0;

        if (!cJSON_IsArray(crates) || (size_t)cJSON_GetArraySize(crates) != g->n_crates)
                fail("the crate count changed", NULL);
        for (size_t i = 0; i < g->n_crates; i++)
                n_deps += g->crates[i].n_deps;
        cJSON_ArrayForEach(c, crates)
        {
                const cJSON *deps = cJSON_GetObjectItemCaseSensitive(c, "deps"), *d;
                const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(c, "cfg"), *s;

                if (!pm_path_is_absolute(str_item(c, "root_module")))
                        fail("a relative root_module", NULL);
                if (!pm_edition_valid(str_item(c, "edition")))
                        fail("an invalid edition", NULL);
                (void)str_item(c, "display_name");
                if (!cJSON_IsArray(deps) || !cJSON_IsArray(cfg))
                        fail("deps or cfg is not an array", NULL);
                cJSON_ArrayForEach(d, deps)
                {
                        const cJSON *idxv = cJSON_GetObjectItemCaseSensitive(d, "crate");
                        const char *name = str_item(d, "name");

                        if (!cJSON_IsNumber(idxv) || idxv->valuedouble < 0 ||
                            idxv->valuedouble != floor(idxv->valuedouble) ||
                            idxv->valuedouble >= (double)g->n_crates)
                                fail("a dep index out of range", NULL);
                        /* Dependency order: every dep comes before its dependent. */
                        if ((size_t)idxv->valuedouble >= pos)
                                fail("a dep that does not come first", NULL);
                        if (strchr(name, '-') || !name[0])
                                fail("a dep name rust-analyzer cannot use", name);
                        out_deps++;
                }
                cJSON_ArrayForEach(s, cfg)
                {
                        if (!cJSON_IsString(s) || !cfg_ok(s->valuestring))
                                fail("a cfg without a quoted value",
                                     cJSON_IsString(s) ? s->valuestring : NULL);
                }
                pos++;
        }
        if (out_deps != n_deps)
                fail("the dep count changed", NULL);
}

/* The printed form must parse back to the same document. */
static void
check_render(const struct pm_graph *g, struct pm_writer_options *opts, const cJSON *project)
{
        for (int pretty = 0; pretty < 2; pretty++) {
                struct pm_strbuf out = PM_STRBUF_INIT;
                struct pm_error err;
                cJSON *back;

                opts->pretty = pretty;
                pm_error_init(&err);
                if (pm_writer_render(g, opts, &out, &err) < 0)
                        fail("render failed where pm_writer_project succeeded", err.msg);
                if (out.len == 0 || out.buf[out.len - 1] != '\n')
                        fail("render without a trailing newline", NULL);
                back = cJSON_ParseWithLength(out.buf, out.len);
                if (!back || !cJSON_Compare(back, project, true))
                        fail("the rendered JSON differs from the object", NULL);
                cJSON_Delete(back);
                pm_strbuf_release(&out);
        }
}

/* Store the graph in an in-memory model and load it back: every crate must come back equal. */
static void
check_model(const struct pm_graph *g)
{
        struct pm_change change = { 0 };
        struct pm_graph *back = NULL, *empty;
        struct pm_error err;

        pm_error_init(&err);
        if (!idx && pm_index_open(":memory:", &idx, &err) < 0)
                fail("cannot open an in-memory model", err.msg);
        if (pm_index_apply(idx, "gn:.", g, &change, &err) < 0)
                fail("a valid graph does not apply", err.msg);
        pm_change_release(&change);
        if (pm_index_load(idx, NULL, 0, &back, &err) < 0)
                fail("the model does not load", err.msg);
        if (back->n_crates != g->n_crates)
                fail("the model lost crates", NULL);
        for (size_t i = 0; i < g->n_crates; i++) {
                const struct pm_crate *c = pm_graph_find(back, g->crates[i].label);

                if (!c || !pm_crate_equal(c, &g->crates[i]))
                        fail("a crate changed in the model", g->crates[i].label);
        }
        pm_graph_free(back);
        /* Empty the model again, so inputs do not depend on each other. */
        empty = pm_graph_new();
        if (!empty || pm_index_apply(idx, "gn:.", empty, &change, &err) < 0)
                fail("cannot empty the model", err.msg);
        pm_change_release(&change);
        pm_graph_free(empty);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct reader rd = { .p = data, .n = size };
        struct pm_writer_options opts = { 0 };
        struct pm_graph *g;
        struct pm_error err;
        cJSON *project = NULL;
        int r;

        pm_mem_install_hooks();
        opts.sysroot = PICK(&rd, sysroots);
        if (opts.sysroot)
                opts.sysroot_src = "/sysroot/lib/rustlib/src/rust/library";
        opts.proc_macro_cwd = u8(&rd) & 1 ? "/repo" : NULL;
        g = build_graph(&rd);

        pm_error_init(&err);
        r = pm_graph_validate(g, false, &err);
        if (r < 0 && (err.code != r || !err.msg[0]))
                fail("validate failed without its report", NULL);
        if (r == 0) {
                r = pm_writer_project(g, &opts, &project, &err);
                if (r < 0 && (err.code != r || !err.msg[0]))
                        fail("the writer failed without its report", NULL);
                /* A valid graph may still have a dependency cycle; nothing else may fail. */
                if (r < 0 && (r != PM_ESCHEMA || !strstr(err.msg, "cycle")))
                        fail("the writer rejected a valid graph", err.msg);
        }
        if (pm_fuzz_verbose())
                fprintf(stderr, "  %zu crates: %s\n", g->n_crates, r < 0 ? err.msg : "written");
        if (project) {
                check_project(g, project);
                check_render(g, &opts, project);
                check_model(g);
        }
        cJSON_Delete(project);
        pm_graph_free(g);
        return 0;
}
