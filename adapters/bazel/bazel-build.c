/* SPDX-License-Identifier: MIT */
/* Building a Bazel project's proc macros, build scripts and generated sources: `bazel build` of
 * exactly those targets with the query's output base, and reading each dylib path, out_dir and
 * generated file from the build event JSON file (docs/build-integration.md). Names the event
 * file; runs and writes nothing. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

#define ERROR_LINE_MAX 300 /* bytes of an error line kept for a note */

int
pm__bazel_build_argv(const struct pm_query *q, const struct pm__bazel_settings *s, const char *verb,
                     const char *prefix, char **ret_events, char ***ret_argv)
{
        char **argv = pm_argv_new(NULL, 0);
        char *events = prefix ? pm__adapter_cache_file(q, prefix) : NULL, *opt = NULL, *ob = NULL;
        int r = -ENOMEM;

        if ((prefix && !events) || !argv)
                goto out;
        opt = events ? pm_asprintf("--build_event_json_file=%s", events) : NULL;
        ob = pm_asprintf("--output_base=%s", s->output_base);
        if ((events && !opt) || !ob || pm_argv_push(&argv, s->command) < 0 ||
            pm_argv_push(&argv, ob) < 0)
                goto out;
        /* The query's output base and startup flags: one Bazel server for all IDE traffic, never
         * the user's. */
        for (size_t i = 0; i < s->n_startup_flags; i++)
                if (pm_argv_push(&argv, s->startup_flags[i]) < 0)
                        goto out;
        if (pm_argv_push(&argv, verb) < 0)
                goto out;
        /* A build goes as far as it can (the proc macros that do compile, the check's report);
         * run and test stop at the first failure, as the user's own bazel run/test do. */
        if (strcmp(verb, "build") == 0 && pm_argv_push(&argv, "--keep_going") < 0)
                goto out;
        /* A build, run or test in the workspace would point the user's convenience symlinks
         * (bazel-bin, bazel-out, bazel-testlogs, bazel-<workspace>) into projmodel's output
         * base; "ignore" leaves them as they are (docs/build-integration.md). projmodel reads
         * every output from the build events, never through those links. */
        if (pm_argv_push(&argv, "--color=no") < 0 || pm_argv_push(&argv, "--curses=no") < 0 ||
            pm_argv_push(&argv, "--experimental_convenience_symlinks=ignore") < 0 ||
            (opt && pm_argv_push(&argv, opt) < 0))
                goto out;
        for (size_t i = 0; i < s->n_flags; i++)
                if (pm_argv_push(&argv, s->flags[i]) < 0)
                        goto out;
        if (ret_events)
                *ret_events = pm_steal_ptr(&events);
        *ret_argv = pm_steal_ptr(&argv);
        r = 0;
out:
        pm_free(ob);
        pm_free(opt);
        pm_free(events);
        pm_argv_free(argv);
        return r;
}

/* Whether one of @labels is the out_dir_target of a crate of @graph (NULL: none is), into
 * *@ret: each crate's looked up among the labels indexed, not compared with every one of them.
 * -ENOMEM only. */
static int
wants_out_dir(const struct pm_graph *graph, const char *const *labels, size_t n_labels, bool *ret)
{
        struct pm_strv_index *ix = NULL;
        size_t at;

        *ret = false;
        if (!graph)
                return 0;
        if (pm_strv_index_new(labels, n_labels, &ix) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < graph->n_crates && !*ret; i++) {
                const char *t = graph->crates[i].out_dir_target;

                *ret = t && pm_strv_index_find(ix, t, strlen(t), &at);
        }
        pm_strv_index_free(ix);
        return 0;
}

int
pm__bazel_build_plan(const struct pm_query *q, const struct pm_graph *graph,
                     const char *const *labels, size_t n_labels, struct pm_plan *ret_plan,
                     struct pm_error *err)
{
        struct pm__bazel_settings s = { 0 };
        char **argv = NULL;
        char *events = NULL;
        bool out_dir;
        int r;

        if (n_labels == 0)
                return 0;
        r = pm__bazel_settings_load(q, &s, err);
        if (r < 0)
                return r;
        r = pm__bazel_build_argv(q, &s, "build", "bazel-build-events", &events, &argv);
        if (r < 0)
                goto out;
        r = -ENOMEM;
        /* rules_rust's cargo_build_script gives its out_dir in an output group of that name, not
         * in its default outputs: asked for only when a build script is among @labels, so the
         * proc-macro build's argv is otherwise the one it always was. */
        if (wants_out_dir(graph, labels, n_labels, &out_dir) < 0 ||
            (out_dir && pm_argv_push(&argv, "--output_groups=+out_dir") < 0))
                goto out;
        if (pm_argv_push(&argv, "--") < 0)
                goto out;
        for (size_t i = 0; i < n_labels; i++)
                if (pm_argv_push(&argv, labels[i]) < 0)
                        goto out;
        /* With --keep_going a failed target still leaves the events of what did build: Bazel
         * exits 1 (build failed) with the file written. */
        r = pm__adapter_report_step(q, &argv, &events, (const int[]){ 1 }, 1, ret_plan);
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        pm_free(events);
        pm_argv_free(argv);
        pm__bazel_settings_release(&s);
        return r;
}

const char *
pm__bazel_plain_label(const char *l)
{
        if (strncmp(l, "@@//", 4) == 0)
                return l + 2;
        if (strncmp(l, "@//", 3) == 0)
                return l + 1;
        return l;
}

/* The events of one file: each line is one BuildEvent object. A file set is found by its id
 * once per target and file set that names it: indexed, not searched for among all events. */
struct events {
        cJSON **ev;
        size_t n;
        struct pm_strv_index *sets; /* the namedSet events' ids, found at their event's index */
        const char *root;           /* exec_root(), found once */
};

static const cJSON *
id_of(const cJSON *ev, const char *kind)
{
        return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "id"), kind);
}

/* The id of event @ev when it is a namedSet, else NULL. */
static const char *
set_id(const cJSON *ev)
{
        const cJSON *nid = cJSON_GetObjectItemCaseSensitive(id_of(ev, "namedSet"), "id");

        return cJSON_IsString(nid) ? nid->valuestring : NULL;
}

/* The namedSetOfFiles of the first namedSet event with @id, or NULL. */
static const cJSON *
named_set(const struct events *e, const char *id)
{
        size_t at;

        if (!pm_strv_index_find(e->sets, id, strlen(id), &at))
                return NULL;
        return cJSON_GetObjectItemCaseSensitive(e->ev[at], "namedSetOfFiles");
}

/* The first dylib of the file set @id and the sets it includes (depth-bounded), or NULL. */
static const char *
set_dylib(const struct events *e, const char *id, int depth)
{
        const cJSON *set = named_set(e, id), *f;

        if (!set || depth > 64)
                return NULL;
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(set, "files"))
        {
                const cJSON *uri = cJSON_GetObjectItemCaseSensitive(f, "uri");

                if (cJSON_IsString(uri) && strncmp(uri->valuestring, "file://", 7) == 0 &&
                    pm_path_is_absolute(uri->valuestring + 7) &&
                    pm__adapter_is_dylib(uri->valuestring))
                        return uri->valuestring + 7;
        }
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(set, "fileSets"))
        {
                const cJSON *sid = cJSON_GetObjectItemCaseSensitive(f, "id");
                const char *p =
                        cJSON_IsString(sid) ? set_dylib(e, sid->valuestring, depth + 1) : NULL;

                if (p)
                        return p;
        }
        return NULL;
}

/*
 * The directory of package @pkg's outputs that file @path, named @name (its path below the
 * configuration's bin directory, as the event says), is in: @path less @name's part below
 * "@pkg/". NULL (and *@ret_oom false) when @name is not in @pkg or @path does not end in it.
 */
static char *
package_dir(const char *path, const char *name, const char *pkg, bool *ret_oom)
{
        size_t lp = strlen(path), ln = strlen(name), lk = strlen(pkg);
        char *d;

        *ret_oom = false;
        if (lk && (strncmp(name, pkg, lk) != 0 || name[lk] != '/'))
                return NULL;
        if (ln >= lp || strcmp(path + lp - ln, name) != 0 || path[lp - ln - 1] != '/')
                return NULL;
        d = pm_strndup(path, lp - ln + lk - (lk == 0));
        *ret_oom = !d;
        return d;
}

/* The files of a generating target, as they are found (repeats included). */
struct files {
        char **v; /* pm_malloc'd paths */
        size_t n, cap;
};

/* Append the file:// paths of the file set @id and the sets it includes (depth-bounded) to @f,
 * normalised; the first file of package @pkg (of the main repository, or NULL) sets *@pkg_dir
 * (package_dir()). -ENOMEM only. */
static int
set_files(const struct events *e, const char *id, int depth, struct files *f, const char *pkg,
          char **pkg_dir)
{
        const cJSON *set = named_set(e, id), *it;

        if (!set || depth > 64)
                return 0;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(set, "files"))
        {
                const cJSON *uri = cJSON_GetObjectItemCaseSensitive(it, "uri");
                char *p;

                if (!cJSON_IsString(uri) || strncmp(uri->valuestring, "file://", 7) != 0 ||
                    !pm_path_is_absolute(uri->valuestring + 7))
                        continue;
                if (pm_grow(&f->v, &f->cap, f->n + 1, 16) < 0)
                        return -ENOMEM;
                p = pm_path_normalize(NULL, "/", uri->valuestring + 7);
                if (!p)
                        return -ENOMEM;
                f->v[f->n++] = p;
                if (pkg && !*pkg_dir) {
                        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
                        bool oom = false;

                        if (cJSON_IsString(name))
                                *pkg_dir = package_dir(p, name->valuestring, pkg, &oom);
                        if (oom)
                                return -ENOMEM;
                }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(set, "fileSets"))
        {
                const cJSON *sid = cJSON_GetObjectItemCaseSensitive(it, "id");

                if (cJSON_IsString(sid) &&
                    set_files(e, sid->valuestring, depth + 1, f, pkg, pkg_dir) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/*
 * Call @cb with each file set id of a targetCompleted event's "default" output group, in order,
 * until it returns non-zero; returns that, or 0.
 */
static int
each_default_set(const cJSON *completed, int (*cb)(const char *id, void *data), void *data)
{
        const cJSON *g, *fs;
        int r;

        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(completed, "outputGroup"))
        {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");

                if (!cJSON_IsString(name) || strcmp(name->valuestring, "default") != 0)
                        continue;
                cJSON_ArrayForEach(fs, cJSON_GetObjectItemCaseSensitive(g, "fileSets"))
                {
                        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(fs, "id");

                        if (cJSON_IsString(sid) && (r = cb(sid->valuestring, data)) != 0)
                                return r;
                }
        }
        return 0;
}

/* completed_files()'s and completed_dylib()'s walk (each_default_set()). */
struct default_walk {
        const struct events *e;
        struct files files;
        const char *pkg; /* completed_files(): the package, or NULL */
        char **pkg_dir;
        const char *dylib;
};

static int
add_set_files(const char *id, void *data)
{
        struct default_walk *w = data;

        return set_files(w->e, id, 0, &w->files, w->pkg, w->pkg_dir);
}

static int
find_set_dylib(const char *id, void *data)
{
        struct default_walk *w = data;

        w->dylib = set_dylib(w->e, id, 0);
        return w->dylib != NULL;
}

/*
 * The files of a targetCompleted event's "default" output group into *@files (NULL-terminated,
 * pm_argv_free(); NULL when none), each once, in the order found: what a target that generates a
 * crate's sources (a genrule, or one of its output files) built, where Bazel wrote them
 * (docs/build-integration.md); and into *@pkg_dir the directory of the outputs of @label's
 * package (main repository only), where rules_rust links the checked-in srcs of a crate that
 * has generated ones. -ENOMEM only.
 */
static int
completed_files(const struct events *e, const cJSON *completed, const char *label, char ***files,
                char **pkg_dir)
{
        struct default_walk w = { .e = e, .pkg_dir = pkg_dir };
        char *pkg = NULL;
        bool *repeat = NULL;
        size_t n = 0;
        int r;

        /* "//a/b:c" -> "a/b"; another repository's outputs are under external/, not joined. */
        if (strncmp(label, "//", 2) == 0 && strchr(label, ':')) {
                pkg = pm_strndup(label + 2, (size_t)(strchr(label, ':') - label - 2));
                if (!pkg)
                        return -ENOMEM;
                w.pkg = pkg;
        }
        r = each_default_set(completed, add_set_files, &w);
        if (r == 0 && w.files.n > 0) {
                repeat = pm_calloc(w.files.n, sizeof(*repeat));
                *files = pm_calloc(w.files.n + 1, sizeof(**files));
                if (!repeat || !*files ||
                    pm_strv_repeats((const char *const *)w.files.v, w.files.n, repeat) < 0)
                        r = -ENOMEM;
        }
        for (size_t i = 0; i < w.files.n; i++) {
                if (r == 0 && !repeat[i])
                        (*files)[n++] = pm_steal_ptr(&w.files.v[i]);
                pm_free(w.files.v[i]);
        }
        if (r < 0)
                *files = pm_argv_free(*files);
        pm_free(w.files.v);
        pm_free(repeat);
        pm_free(pkg);
        return r;
}

/* The dylib of a targetCompleted event's "default" output group, or NULL. */
static const char *
completed_dylib(const struct events *e, const cJSON *completed)
{
        struct default_walk w = { .e = e };

        (void)each_default_set(completed, find_set_dylib, &w);
        return w.dylib;
}

char *
pm__bazel_progress_error(cJSON *const *ev, size_t n, const char *label)
{
        const char *bazel_line = NULL;
        size_t bazel_len = 0;

        for (size_t i = 0; i < n; i++) {
                const cJSON *err = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(ev[i], "progress"), "stderr");
                const char *p;

                if (!cJSON_IsString(err))
                        continue;
                for (p = err->valuestring; *p; p += strcspn(p, "\n"), p += *p == '\n') {
                        size_t len = strcspn(p, "\n");

                        if (!bazel_line) {
                                if (strncmp(p, "ERROR: ", 7) == 0 && len < 4096) {
                                        char *line = pm_strndup(p, len);
                                        bool names;

                                        if (!line)
                                                return NULL;
                                        names = strstr(line, label) != NULL;
                                        pm_free(line);
                                        if (names) {
                                                bazel_line = p;
                                                bazel_len = len;
                                        }
                                }
                        } else if (strncmp(p, "error", 5) == 0) {
                                return pm_strndup(p, len > ERROR_LINE_MAX ? ERROR_LINE_MAX : len);
                        }
                }
        }
        if (bazel_line)
                return pm_strndup(bazel_line,
                                  bazel_len > ERROR_LINE_MAX ? ERROR_LINE_MAX : bazel_len);
        return NULL;
}

/* Whether path @p (@len bytes) ends with a component named "<something>.out_dir". */
static bool
is_out_dir(const char *p, size_t len)
{
        static const char suffix[] = ".out_dir";
        size_t n = sizeof(suffix) - 1;

        return len > n && memcmp(p + len - n, suffix, n) == 0 && p[len - n - 1] != '/';
}

/* The execroot Bazel ran the build in: the `workspaceInfo` event's localExecRoot, or NULL. */
static const char *
exec_root(const struct events *e)
{
        for (size_t i = 0; i < e->n; i++) {
                const cJSON *root = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(e->ev[i], "workspaceInfo"),
                        "localExecRoot");

                if (cJSON_IsString(root) && pm_path_is_absolute(root->valuestring))
                        return root->valuestring;
        }
        return NULL;
}

/*
 * The out_dir directory of a completed cargo_build_script (rules_rust declares it as
 * `<name>.out_dir` and returns it in its `out_dir` output group), pm_malloc'd, or NULL (*ret_err
 * -ENOMEM on OOM). Bazel lists a directory output in `directoryOutput` (name and pathPrefix
 * relative to the execroot, no URI) and its files in the output group's file sets: the directory
 * is the execroot of the `workspaceInfo` event joined with the first, else the part of a file's
 * URI up to its `.out_dir` component (a Bazel that no longer sends directoryOutput).
 */
static char *
completed_out_dir(const struct events *e, const cJSON *completed, int *ret_err)
{
        const char *root = e->root;
        const cJSON *d, *g, *fs, *f;

        *ret_err = 0;
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(completed, "directoryOutput"))
        {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(d, "name"), *pp;
                struct pm_strbuf sb = PM_STRBUF_INIT;
                char *dir;
                int r;

                if (!root || !cJSON_IsString(name) ||
                    !is_out_dir(name->valuestring, strlen(name->valuestring)))
                        continue;
                r = pm_strbuf_adds(&sb, root);
                cJSON_ArrayForEach(pp, cJSON_GetObjectItemCaseSensitive(d, "pathPrefix"))
                {
                        if (r == 0 && cJSON_IsString(pp))
                                r = pm_strbuf_addf(&sb, "/%s", pp->valuestring);
                }
                if (r == 0)
                        r = pm_strbuf_addf(&sb, "/%s", name->valuestring);
                dir = r == 0 ? pm_path_normalize(NULL, "/", sb.buf) : NULL;
                pm_strbuf_release(&sb);
                if (!dir)
                        *ret_err = -ENOMEM;
                return dir;
        }
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(completed, "outputGroup"))
        {
                const cJSON *gname = cJSON_GetObjectItemCaseSensitive(g, "name");

                if (!cJSON_IsString(gname) || strcmp(gname->valuestring, "out_dir") != 0)
                        continue;
                cJSON_ArrayForEach(fs, cJSON_GetObjectItemCaseSensitive(g, "fileSets"))
                {
                        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(fs, "id");
                        const cJSON *set =
                                cJSON_IsString(sid) ? named_set(e, sid->valuestring) : NULL;

                        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(set, "files"))
                        {
                                const cJSON *uri = cJSON_GetObjectItemCaseSensitive(f, "uri");
                                const char *p, *slash;

                                if (!cJSON_IsString(uri) ||
                                    strncmp(uri->valuestring, "file:///", 8) != 0)
                                        continue;
                                p = uri->valuestring + 7;
                                for (slash = strchr(p + 1, '/'); slash;
                                     slash = strchr(slash + 1, '/')) {
                                        char *dir, *norm;

                                        if (!is_out_dir(p, (size_t)(slash - p)))
                                                continue;
                                        dir = pm_strndup(p, (size_t)(slash - p));
                                        norm = dir ? pm_path_normalize(NULL, "/", dir) : NULL;
                                        pm_free(dir);
                                        if (!norm)
                                                *ret_err = -ENOMEM;
                                        return norm;
                                }
                        }
                }
        }
        return NULL;
}

/*
 * The cfgs and env of the build script whose out_dir @b names, into @b: rules_rust's runner
 * writes them in the same action as the out_dir, to the files `<name>.flags` (one rustc flag a
 * line) and `<name>.env` ("NAME=value" lines with `${pwd}` for the execroot) that its
 * cargo_build_script declares beside `<name>.out_dir` and hands to the crate's rustc in
 * BuildInfo. No output group names them, so they are read beside the directory the events named
 * (docs/build-integration.md). A file that cannot be read (a rule with an out_dir and no such
 * files) gives nothing.
 */
static int
read_build_info(const struct events *e, struct pm_built *b)
{
        static const char *const kinds[] = { ".flags", ".env" };
        size_t stem = strlen(b->out_dir) - strlen(".out_dir");
        const char *root = e->root, *bo;
        char *derived = NULL;
        int r = 0;

        /* No workspaceInfo: the execroot is what comes before the out_dir's bazel-out. */
        if (!root && (bo = strstr(b->out_dir, "/bazel-out/")) != NULL) {
                derived = pm_strndup(b->out_dir, (size_t)(bo - b->out_dir));
                if (!derived)
                        return -ENOMEM;
                root = derived;
        }
        for (size_t k = 0; k < 2 && r == 0; k++) {
                struct pm_strbuf sb = PM_STRBUF_INIT;
                struct pm_error ignored;
                char *path = pm_asprintf("%.*s%s", (int)stem, b->out_dir, kinds[k]);

                pm_error_init(&ignored);
                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                r = pm_strbuf_read_file(&sb, path, 1 << 20, &ignored);
                if (r == -ENOMEM)
                        ;
                else if (r < 0)
                        r = 0;
                else if (k == 0)
                        r = pm__buildscript_flags(sb.buf ? sb.buf : "", sb.len, NULL, &b->cfgs,
                                                  NULL);
                else
                        r = pm__buildscript_env(sb.buf ? sb.buf : "", sb.len, root, b->out_dir,
                                                &b->env);
                pm_strbuf_release(&sb);
                pm_free(path);
        }
        pm_free(derived);
        return r;
}

/* One targetCompleted (or aborted) event into @b. */
static int
read_target(const struct events *e, const cJSON *ev, const char *label, struct pm_built *b)
{
        const cJSON *completed = cJSON_GetObjectItemCaseSensitive(ev, "completed");
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(completed, "success");
        const char *dylib = NULL;
        int r;

        b->label = pm_strdup(label);
        if (!b->label)
                return -ENOMEM;
        if (cJSON_IsTrue(ok)) {
                b->out_dir = completed_out_dir(e, completed, &r);
                if (r < 0)
                        return r;
                if (b->out_dir)
                        return read_build_info(e, b);
                /* A target generating sources has no dylib: its files are what it built. */
                if (completed_files(e, completed, label, &b->files, &b->pkg_dir) < 0)
                        return -ENOMEM;
                dylib = completed_dylib(e, completed);
                if (dylib) {
                        b->dylib_path = pm_path_normalize(NULL, "/", dylib);
                        return b->dylib_path ? 0 : -ENOMEM;
                }
                b->error = pm_strdup("no dylib among the target's outputs");
                return b->error ? 0 : -ENOMEM;
        }
        b->error = pm__bazel_progress_error(e->ev, e->n, label);
        if (!b->error)
                b->error = pm_strdup("build failed");
        return b->error ? 0 : -ENOMEM;
}

int
pm__bazel_events_read(const struct pm_blob *blob, cJSON ***ret_events, size_t *ret_n,
                      struct pm_error *err)
{
        const char *p, *end = blob->data + blob->len;
        cJSON **ev = NULL;
        size_t n = 0, line_no = 0;
        int r = 0;

        for (p = blob->data; p < end; p = memchr(p, '\n', (size_t)(end - p)), p = p ? p + 1 : end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                cJSON *one, **grown;

                line_no++;
                if (len == 0)
                        continue;
                one = cJSON_ParseWithLength(p, len);
                if (!one || !cJSON_IsObject(one)) {
                        cJSON_Delete(one);
                        r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                         "%s:%zu: not a build event (one JSON object a line)",
                                         blob->origin, line_no);
                        goto out;
                }
                grown = pm_realloc(ev, (n + 1) * sizeof(*ev));
                if (!grown) {
                        cJSON_Delete(one);
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                ev = grown;
                ev[n++] = one;
                if (!nl)
                        break;
        }
        *ret_events = pm_steal_ptr(&ev);
        *ret_n = n;
        n = 0;
out:
        for (size_t i = 0; i < n; i++)
                cJSON_Delete(ev[i]);
        pm_free(ev);
        return r;
}

int
pm__bazel_build_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                      struct pm_build_report *ret_report, struct pm_error *err)
{
        struct events e = { 0 };
        const char **ids = NULL, **labels = NULL;
        size_t *at = NULL, n_labels = 0, n = 0;
        bool *repeat = NULL;
        int r;

        (void)q;
        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "bazel build: no build event file");
        r = pm__bazel_events_read(&outputs[0], &e.ev, &e.n, err);
        if (r < 0)
                return r;
        r = -ENOMEM;
        ret_report->items = pm_calloc(e.n + 1, sizeof(*ret_report->items));
        ids = pm_calloc(e.n + 1, sizeof(*ids));
        labels = pm_calloc(e.n + 1, sizeof(*labels));
        at = pm_calloc(e.n + 1, sizeof(*at));
        repeat = pm_calloc(e.n + 1, sizeof(*repeat));
        if (!ret_report->items || !ids || !labels || !at || !repeat)
                goto out;
        /* The completed targets in order, each label's first only (a repeat is sorted out, not
         * searched for among the ones before), and the file sets by id. */
        for (size_t i = 0; i < e.n; i++) {
                const cJSON *label = cJSON_GetObjectItemCaseSensitive(
                        id_of(e.ev[i], "targetCompleted"), "label");

                ids[i] = set_id(e.ev[i]);
                if (!cJSON_IsString(label))
                        continue;
                labels[n_labels] = pm__bazel_plain_label(label->valuestring);
                at[n_labels++] = i;
        }
        if (pm_strv_index_new(ids, e.n, &e.sets) < 0 ||
            pm_strv_repeats(labels, n_labels, repeat) < 0)
                goto out;
        e.root = exec_root(&e);
        for (size_t k = 0; k < n_labels; k++) {
                if (repeat[k])
                        continue;
                n++;
                ret_report->n = n;
                if (read_target(&e, e.ev[at[k]], labels[k], &ret_report->items[n - 1]) < 0)
                        goto out;
        }
        r = 0;
out:
        if (r == -ENOMEM)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        if (r < 0)
                pm_build_report_release(ret_report);
        pm_strv_index_free(e.sets);
        pm_free(ids);
        pm_free(labels);
        pm_free(at);
        pm_free(repeat);
        for (size_t i = 0; i < e.n; i++)
                cJSON_Delete(e.ev[i]);
        pm_free(e.ev);
        return r;
}
