/* SPDX-License-Identifier: MIT */
/* Building a Buck2 project's proc macros, OUT_DIRs and generated sources: `buck2 build
 * --build-report=FILE` of exactly those targets, and reading each dylib path, directory and
 * generated file from Buck2's build report (docs/build-integration.md).
 * Names the report file; runs and writes nothing. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/buck2/buck2-internal.h"

#define ERROR_LINE_MAX 300 /* bytes of Buck2's error line kept for a note */

static const char flags_sub[] = "[rustc_flags]", out_dir_sub[] = "[out_dir]";

/* Whether @l (@len bytes) ends with @sub. */
static bool
ends_with(const char *l, size_t len, const char *sub)
{
        size_t n = strlen(sub);

        return len > n && memcmp(l + len - n, sub, n) == 0;
}

/* The target name of label @l (`cell//pkg:name[sub]` or `:name[sub]`): its bytes after the last
 * ':' up to the first '[' (*ret_len of them). */
static const char *
target_name(const char *l, size_t *ret_len)
{
        const char *colon = strrchr(l, ':'), *name = colon ? colon + 1 : l;

        *ret_len = strcspn(name, "[");
        return name;
}

/*
 * Whether a crate of @graph whose OUT_DIR target is @label (`T[out_dir]`) takes the build
 * script's flags as reindeer writes them, `rustc_flags = ["@$(location :T[rustc_flags])"]`:
 * buildscript_run writes the script's `cargo:rustc-cfg` and `cargo:rustc-env` to that file, which
 * rustc_action.py expands (prelude/rust/cargo_buildscript.bzl), so it is built too.
 */
static bool
wants_flags(const struct pm_graph *graph, const char *label)
{
        static const char macro[] = "@$(location ";
        size_t tlen, flen;
        const char *t = target_name(label, &tlen);

        if (!graph || !ends_with(label, strlen(label), out_dir_sub))
                return false;
        for (size_t i = 0; i < graph->n_crates; i++) {
                const struct pm_crate *c = &graph->crates[i];

                if (!c->out_dir_target || strcmp(c->out_dir_target, label) != 0)
                        continue;
                for (size_t j = 0; j < c->flags.n; j++) {
                        const char *f = c->flags.v[j], *name;
                        size_t n = strlen(f);

                        if (strncmp(f, macro, sizeof(macro) - 1) != 0 || f[n - 1] != ')' ||
                            !ends_with(f, n - 1, flags_sub))
                                continue;
                        name = target_name(f + sizeof(macro) - 1, &flen);
                        if (flen == tlen && memcmp(name, t, tlen) == 0)
                                return true;
                }
        }
        return false;
}

int
pm__buck2_build_plan(const struct pm_query *q, const struct pm_graph *graph,
                     const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                     struct pm_error *err)
{
        struct pm__buck2_settings s = { 0 };
        char **argv = NULL;
        char *report = NULL, *opt = NULL;
        int r;

        if (n_labels == 0)
                return 0;
        r = pm__buck2_settings_load(q, &s, err);
        if (r < 0)
                return r;
        r = -ENOMEM;
        /* The query's command and isolation dir: the IDE's builds never invalidate the user's
         * buck2 daemon. */
        argv = pm__buck2_argv_new(&s);
        report = pm__adapter_cache_file(q, "buck2-build-report");
        if (!argv || !report)
                goto out;
        opt = pm_asprintf("--build-report=%s", report);
        if (!opt)
                goto out;
        if (pm_argv_push(&argv, "build") < 0 || pm_argv_push(&argv, "--keep-going") < 0 ||
            pm_argv_push(&argv, opt) < 0 || pm_argv_push(&argv, "--show-full-json-output") < 0)
                goto out;
        for (size_t i = 0; i < n_labels; i++) {
                char *flags = NULL;

                if (pm_argv_push(&argv, labels[i]) < 0)
                        goto out;
                /* T[rustc_flags] beside T[out_dir]: the same run of the same build script. */
                if (wants_flags(graph, labels[i])) {
                        flags = pm_asprintf("%.*s%s",
                                            (int)(strlen(labels[i]) - strlen(out_dir_sub)),
                                            labels[i], flags_sub);
                        if (!flags || pm_argv_push(&argv, flags) < 0) {
                                pm_free(flags);
                                goto out;
                        }
                        pm_free(flags);
                }
        }
        /* With --keep-going a failed target still leaves a report naming what did build, whatever
         * failure code Buck2 exits with (1 unknown, 2 infra, 3 user error). */
        r = pm__adapter_report_step(q, &argv, &report, (const int[]){ 1, 2, 3 }, 3, ret_plan);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(opt);
        pm_free(report);
        pm_argv_free(argv);
        pm__buck2_settings_release(&s);
        return r;
}

/*
 * The first line of the first error of @entry, or NULL. Buck2 stores each message once in the
 * report's `strings` and puts its key in `errors[].message_content`; a message_content that is no
 * key is taken as the message itself.
 */
static const char *
first_error(const cJSON *entry, const cJSON *strings, size_t *ret_len)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(entry, "errors"))
        {
                const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message_content");
                const cJSON *text;

                if (!cJSON_IsString(m))
                        continue;
                text = cJSON_GetObjectItemCaseSensitive(strings, m->valuestring);
                if (cJSON_IsString(text))
                        m = text;
                if (m->valuestring[0]) {
                        *ret_len = strcspn(m->valuestring, "\n");
                        return m->valuestring;
                }
        }
        return NULL;
}

/* A new zeroed item at the end of @rep (its array has room for @cap items). NULL on OOM. */
static struct pm_built *
push_item(struct pm_build_report *rep, size_t *cap)
{
        if (rep->n == *cap) {
                size_t ncap = *cap ? *cap * 2 : 8;
                struct pm_built *v = pm_realloc(rep->items, ncap * sizeof(*v));

                if (!v)
                        return NULL;
                rep->items = v;
                *cap = ncap;
        }
        memset(&rep->items[rep->n], 0, sizeof(rep->items[0]));
        return &rep->items[rep->n++];
}

/*
 * The paths of @outs (a JSON array of paths relative to @project_root), absolute, in *@ret: a
 * NULL-terminated argv (pm_argv_free()) allocated once for the count of its strings, or NULL when
 * it has none. -ENOMEM on out of memory.
 */
static int
output_paths(const cJSON *outs, const char *project_root, char ***ret)
{
        const cJSON *o;
        size_t n = 0;
        char **v;

        *ret = NULL;
        cJSON_ArrayForEach(o, outs) n += cJSON_IsString(o);
        if (n == 0)
                return 0;
        v = pm_calloc(n + 1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        n = 0;
        cJSON_ArrayForEach(o, outs)
        {
                if (!cJSON_IsString(o))
                        continue;
                v[n] = pm_path_normalize(NULL, project_root, o->valuestring);
                if (!v[n++]) {
                        pm_argv_free(v);
                        return -ENOMEM;
                }
        }
        *ret = v;
        return 0;
}

/*
 * The sub-target outputs of one successful configuration: Buck2 keys `outputs` by the requested
 * providers, "DEFAULT" for the target itself and the sub-target names joined by '|' for
 * `T[a][b]` (so "out_dir" for reindeer's `T[out_dir]`, "foo.rs" for a genrule's named output
 * `T[foo.rs]`). Each becomes an item labelled as it was requested, `T[out_dir]`, whose files are
 * its outputs made absolute against the project root and whose out_dir is the first of them: the
 * report does not say whether it is an OUT_DIR or a generated source (server/build.c reads the
 * field its crate needs).
 */
static int
read_sub_targets(const char *label, const cJSON *outputs, const char *project_root,
                 struct pm_build_report *rep, size_t *cap, bool *ret_any)
{
        const cJSON *o;

        cJSON_ArrayForEach(o, outputs)
        {
                const cJSON *first = cJSON_GetArrayItem(o, 0);
                struct pm_strbuf lb = PM_STRBUF_INIT;
                struct pm_built *b;
                int r;

                if (!o->string || strcmp(o->string, "DEFAULT") == 0 || !cJSON_IsString(first))
                        continue;
                /* "a|b" was requested as T[a][b]. */
                r = pm_strbuf_addf(&lb, "%s[", label);
                for (const char *p = o->string; r == 0 && *p; p++)
                        r = *p == '|' ? pm_strbuf_adds(&lb, "][") : pm_strbuf_addch(&lb, *p);
                if (r == 0)
                        r = pm_strbuf_addch(&lb, ']');
                b = r == 0 ? push_item(rep, cap) : NULL;
                if (!b) {
                        pm_strbuf_release(&lb);
                        return -ENOMEM;
                }
                b->label = pm_strbuf_detach(&lb, NULL);
                if (!b->label || output_paths(o, project_root, &b->files) < 0 ||
                    !(b->out_dir = pm_strdup(b->files[0])))
                        return -ENOMEM;
                *ret_any = true;
        }
        return 0;
}

/*
 * One `results` entry: the dylib of its (first successful) configuration and its sub-targets'
 * outputs, or why there is no dylib. Buck2 leaves out of `outputs` a provider that has no
 * output, so a target that built nothing (a genrule whose DefaultInfo lists no file) has no
 * "DEFAULT" key: its error says so, naming it, rather than that it has no dylib.
 */
static int
read_entry(const char *label, const cJSON *entry, const cJSON *strings, const char *project_root,
           struct pm_build_report *rep, size_t *cap)
{
        const cJSON *conf, *failed = NULL, *built = NULL;
        const char *msg = NULL;
        char *why = NULL;
        struct pm_built *b;
        bool ok = false, any = false, dylib = false;
        size_t len = 0;
        int r;

        cJSON_ArrayForEach(conf, cJSON_GetObjectItemCaseSensitive(entry, "configured"))
        {
                const cJSON *success = cJSON_GetObjectItemCaseSensitive(conf, "success");
                const cJSON *outputs = cJSON_GetObjectItemCaseSensitive(conf, "outputs");
                const cJSON *outs = cJSON_GetObjectItemCaseSensitive(outputs, "DEFAULT");
                const cJSON *o;

                if (!cJSON_IsString(success) || strcmp(success->valuestring, "SUCCESS") != 0) {
                        if (!failed)
                                failed = conf;
                        continue;
                }
                ok = true;
                if (!built && cJSON_IsArray(outs) && cJSON_GetArraySize(outs) > 0)
                        built = outs;
                if (!any) {
                        r = read_sub_targets(label, outputs, project_root, rep, cap, &any);
                        if (r < 0)
                                return r;
                }
                cJSON_ArrayForEach(o, outs)
                {
                        if (dylib || !cJSON_IsString(o) || !pm__adapter_is_dylib(o->valuestring))
                                continue;
                        b = push_item(rep, cap);
                        if (!b || !(b->label = pm_strdup(label)))
                                return -ENOMEM;
                        b->dylib_path = pm_path_normalize(NULL, project_root, o->valuestring);
                        if (!b->dylib_path)
                                return -ENOMEM;
                        dylib = true;
                }
        }
        /* Only sub-targets were asked for: their items say what was built. */
        if (dylib || (any && !built))
                return 0;
        if (failed)
                msg = first_error(failed, strings, &len);
        if (!msg)
                msg = first_error(entry, strings, &len);
        if (!msg) {
                msg = failed  ? "build failed"
                      : built ? "no dylib among the target's outputs"
                      : !ok   ? "no configuration of the target was built"
                              : (why = pm_asprintf("%s produced no output", label));
                if (!msg)
                        return -ENOMEM;
                len = strlen(msg);
        }
        if (len > ERROR_LINE_MAX)
                len = ERROR_LINE_MAX;
        /* A failed configuration has no outputs, so nothing says which sub-target was asked
         * for: the item is the target's own (include/projmodel/adapter.h). */
        b = push_item(rep, cap);
        r = b && (b->label = pm_strdup(label)) && (b->error = pm_strndup(msg, len)) ? 0 : -ENOMEM;
        pm_free(why);
        /* A target generating a crate's sources (a genrule) built no dylib: its files, absolute,
         * are what server/build.c serves in place of the parse's paths. */
        if (r == 0 && built)
                r = output_paths(built, project_root, &b->files);
        return r;
}

/*
 * Give each built `T[out_dir]` item of @rep the cfgs and env of the `T[rustc_flags]` file the
 * same report names (read_sub_targets() put its path in that item's out_dir): one flag a line,
 * `--cfg=X` and `--env-set=NAME=value` (a `$(abspath REL)` value relative to @project_root, where
 * Buck2 runs rustc), as prelude/rust/tools/buildscript_run.py writes them. A file that cannot be
 * read gives nothing.
 */
static int
attach_flags(struct pm_build_report *rep, const char *project_root)
{
        for (size_t i = 0; i < rep->n; i++) {
                const struct pm_built *f = &rep->items[i];
                size_t base = f->label ? strlen(f->label) : 0;
                struct pm_strbuf sb = PM_STRBUF_INIT;
                struct pm_error ignored;
                int r;

                if (!f->out_dir || !ends_with(f->label, base, flags_sub))
                        continue;
                base -= strlen(flags_sub);
                for (size_t j = 0; j < rep->n; j++) {
                        struct pm_built *o = &rep->items[j];

                        if (!o->out_dir || o->cfgs || o->env || strncmp(o->label, f->label, base) ||
                            strcmp(o->label + base, out_dir_sub) != 0)
                                continue;
                        pm_error_init(&ignored);
                        r = pm_strbuf_read_file(&sb, f->out_dir, 1 << 20, &ignored);
                        if (r == 0)
                                r = pm__buildscript_flags(sb.buf ? sb.buf : "", sb.len,
                                                          project_root, &o->cfgs, &o->env);
                        pm_strbuf_release(&sb);
                        if (r == -ENOMEM)
                                return r;
                        break;
                }
        }
        return 0;
}

int
pm__buck2_build_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                      struct pm_build_report *ret_report, struct pm_error *err)
{
        cJSON *doc = NULL;
        const cJSON *results, *strings, *root, *e;
        const char *project_root;
        size_t cap = 0;
        int r;

        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "buck2 build: no build report");
        r = pm__json_parse(&outputs[0], outputs[0].origin, "a Buck2 build report", &doc, err);
        if (r < 0)
                return r;
        results = cJSON_GetObjectItemCaseSensitive(doc, "results");
        strings = cJSON_GetObjectItemCaseSensitive(doc, "strings");
        root = cJSON_GetObjectItemCaseSensitive(doc, "project_root");
        if (!cJSON_IsObject(doc) || !cJSON_IsObject(results)) {
                r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                 "%s: not a Buck2 build report (no \"results\" object)",
                                 outputs[0].origin);
                goto out;
        }
        project_root = cJSON_IsString(root) && pm_path_is_absolute(root->valuestring)
                               ? root->valuestring
                               : q->project->root;
        r = 0;
        cJSON_ArrayForEach(e, results)
        {
                if (!cJSON_IsObject(e))
                        continue;
                r = read_entry(e->string, e, strings, project_root, ret_report, &cap);
                if (r < 0)
                        goto out;
        }
        r = attach_flags(ret_report, project_root);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0)
                pm_build_report_release(ret_report);
        cJSON_Delete(doc);
        return r;
}
