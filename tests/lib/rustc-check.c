/* SPDX-License-Identifier: MIT */
/* The rustc type-check harness: proves a rust-project.json describes a graph that compiles.
 * It runs rustc through pm_test_run() (fork/exec, no shell) and touches only its workdir. */
#include "rustc-check.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "testlib.h"
#include "validate.h"

/* Upper bound on what one check handles; far above any test project. */
#define MAX_CRATES 20000
/* rustc's stderr is cut to this much per crate in the report. */
#define MAX_STDERR 8192

enum crate_kind {
        KIND_LIB,
        KIND_BIN,
        KIND_TEST,
        KIND_PROC_MACRO,
};

enum crate_state {
        STATE_PENDING,
        STATE_OK,
        STATE_FAILED,
        STATE_ACCEPTED, /* failed, as the callback expects: no output, not a failure itself */
};

/* What the check needs from one crate object; strings are borrowed from the cJSON tree except
 * name and output, which are owned. */
struct rcrate {
        const cJSON *obj;
        char *name;   /* rustc crate name, owned */
        char *output; /* the file dependents pass to --extern, owned */
        enum crate_kind kind;
        enum crate_state state;
        int ndeps_left; /* for the topological sort */
};

/* A growable NULL-terminated array of owned strings. */
struct strv {
        char **v;
        size_t n, alloc;
};

static void
strv_release(struct strv *s)
{
        for (size_t i = 0; i < s->n; i++)
                pm_free(s->v[i]);
        pm_free(s->v);
        s->v = NULL;
        s->n = s->alloc = 0;
}

/* Takes ownership of @str (NULL means out of memory). */
static int
strv_push(struct strv *s, char *str)
{
        if (!str)
                return -ENOMEM;
        if (s->n + 2 > s->alloc) {
                size_t na = s->alloc ? s->alloc * 2 : 32;
                char **nv = pm_realloc(s->v, na * sizeof(*nv));
                if (!nv) {
                        pm_free(str);
                        return -ENOMEM;
                }
                s->v = nv;
                s->alloc = na;
        }
        s->v[s->n++] = str;
        s->v[s->n] = NULL;
        return 0;
}

static int
strv_add(struct strv *s, const char *str)
{
        return strv_push(s, pm_strdup(str));
}

static const char *
get_string(const cJSON *obj, const char *key)
{
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, key);

        return cJSON_IsString(e) ? e->valuestring : NULL;
}

/* The index a dep points at, or -1 when it is not a valid index. */
static int
dep_index(const cJSON *dep, int n)
{
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(dep, "crate");

        if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble >= n ||
            c->valuedouble != (double)(int)c->valuedouble)
                return -1;
        return (int)c->valuedouble;
}

static char *
crate_name_for(const cJSON *crates, int idx, int n)
{
        const char *dn = get_string(cJSON_GetArrayItem(crates, idx), "display_name");
        const cJSON *c, *d;
        char *name;

        if (dn) {
                name = pm_strdup(dn);
                for (char *p = name; p && *p; p++) {
                        if (*p == '-')
                                *p = '_';
                }
                return name;
        }
        /* No display_name: any name a dependent uses works, the crate name is internal. */
        cJSON_ArrayForEach(c, crates)
        {
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "deps"))
                {
                        const char *dname = get_string(d, "name");
                        if (dep_index(d, n) == idx && dname)
                                return pm_strdup(dname);
                }
        }
        return pm_asprintf("crate_%d", idx);
}

static enum crate_kind
crate_kind_of(const cJSON *c)
{
        const cJSON *build = cJSON_GetObjectItemCaseSensitive(c, "build");
        const char *tk = get_string(build, "target_kind");

        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "is_proc_macro")))
                return KIND_PROC_MACRO;
        if (tk && strcmp(tk, "bin") == 0)
                return KIND_BIN;
        if (tk && strcmp(tk, "test") == 0)
                return KIND_TEST;
        return KIND_LIB;
}

/* Append --cfg arguments for @cfgs (an array of cfg strings) to @argv, noting
 * debug_assertions. */
static int
add_cfgs(struct strv *argv, const cJSON *cfgs, bool *debug_assertions)
{
        const cJSON *e;
        int r;

        cJSON_ArrayForEach(e, cfgs)
        {
                if (!cJSON_IsString(e))
                        continue;
                if (strcmp(e->valuestring, "debug_assertions") == 0) {
                        *debug_assertions = true;
                        continue;
                }
                /* rustc --test sets cfg(test) itself; other crates are built without it. */
                if (strcmp(e->valuestring, "test") == 0)
                        continue;
                r = strv_add(argv, "--cfg");
                if (r == 0)
                        r = strv_add(argv, e->valuestring);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void
report_argv(struct pm_strbuf *rep, const struct strv *env, const struct strv *argv)
{
        for (size_t i = 0; i < env->n; i++)
                (void)pm_strbuf_addf(rep, "%s ", env->v[i]);
        for (size_t i = 0; i < argv->n; i++)
                (void)pm_strbuf_addf(rep, "%s%s", i ? " " : "", argv->v[i]);
        (void)pm_strbuf_addch(rep, '\n');
}

/* Append the NULL-terminated @args (may be NULL) to @argv. */
static int
add_args(struct strv *argv, const char *const *args)
{
        int r = 0;

        for (size_t i = 0; r == 0 && args && args[i]; i++)
                r = strv_add(argv, args[i]);
        return r;
}

/*
 * The command line of crate @idx into @argv and its environment into @env: with --test (@test,
 * writing a file of its own), then @extra (NULL-terminated, may be NULL). 0 or -ENOMEM.
 */
static int
crate_command(const cJSON *root, struct rcrate *cr, int n, int idx, const char *rustc,
              const char *outdir, bool test, bool lints, const char *const *extra,
              struct strv *argv, struct strv *env)
{
        struct rcrate *c = &cr[idx];
        const char *edition = get_string(c->obj, "edition");
        const char *root_module = get_string(c->obj, "root_module");
        const char *target = get_string(c->obj, "target");
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "cfg_groups");
        const cJSON *e, *g;
        bool debug_assertions = false;
        int r;

        r = strv_add(argv, rustc);
        if (r == 0)
                r = strv_push(argv, pm_asprintf("--crate-name=%s", c->name));
        if (r == 0 && edition)
                r = strv_push(argv, pm_asprintf("--edition=%s", edition));
        if (r < 0)
                return r;
        switch (test ? KIND_TEST : c->kind) {
        case KIND_LIB:
                r = strv_add(argv, "--crate-type=lib");
                if (r == 0)
                        r = strv_add(argv, "--emit=metadata");
                break;
        case KIND_BIN:
                r = strv_add(argv, "--crate-type=bin");
                if (r == 0)
                        r = strv_add(argv, "--emit=metadata");
                break;
        case KIND_TEST:
                r = strv_add(argv, "--test");
                if (r == 0)
                        r = strv_add(argv, "--emit=metadata");
                break;
        case KIND_PROC_MACRO:
                /* Dependents load it, so it must be a real host dylib. */
                r = strv_add(argv, "--crate-type=proc-macro");
                if (r == 0)
                        r = strv_add(argv, "--emit=link");
                break;
        }
        if (r < 0)
                return r;
        r = strv_add(argv, root_module);
        if (r == 0)
                r = strv_add(argv, "--out-dir");
        if (r == 0)
                r = strv_add(argv, outdir);
        /* A library's --test run writes a file of its own, not the metadata its dependents
         * read. */
        if (r == 0)
                r = strv_push(argv, pm_asprintf("-Cmetadata=%d%s", idx, test ? "-test" : ""));
        if (r == 0)
                r = strv_push(argv,
                              pm_asprintf("-Cextra-filename=-%d%s", idx, test ? "-test" : ""));
        if (r == 0)
                r = strv_push(argv, pm_asprintf("-Ldependency=%s", outdir));
        /* Dylibs loaded where the JSON names them: transitive dependents find them there. */
        for (int k = 0; r == 0 && k < n; k++) {
                const char *o = cr[k].output;
                const char *slash = o ? strrchr(o, '/') : NULL;

                if (cr[k].kind == KIND_PROC_MACRO && slash && slash != o &&
                    strncmp(o, outdir, strlen(outdir)) != 0)
                        r = strv_push(argv, pm_asprintf("-Ldependency=%.*s", (int)(slash - o), o));
        }
        if (r == 0 && !lints)
                r = strv_add(argv, "--cap-lints=allow");
        if (r == 0)
                r = strv_add(argv, "--color=never");
        if (r == 0 && target)
                r = strv_push(argv, pm_asprintf("--target=%s", target));
        if (r < 0)
                return r;
        /* Group cfgs come first, as rust-analyzer adds them before the crate's own. */
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(c->obj, "cfg_groups"))
        {
                if (cJSON_IsString(g)) {
                        r = add_cfgs(argv, cJSON_GetObjectItemCaseSensitive(groups, g->valuestring),
                                     &debug_assertions);
                        if (r < 0)
                                return r;
                }
        }
        r = add_cfgs(argv, cJSON_GetObjectItemCaseSensitive(c->obj, "cfg"), &debug_assertions);
        if (r == 0)
                r = strv_add(argv,
                             debug_assertions ? "-Cdebug-assertions=on" : "-Cdebug-assertions=off");
        if (r < 0)
                return r;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->obj, "deps"))
        {
                int j = dep_index(e, n);
                const char *dname = get_string(e, "name");

                if (j < 0 || !dname)
                        continue;
                r = strv_add(argv, "--extern");
                if (r == 0)
                        r = strv_push(argv, pm_asprintf("%s=%s", dname, cr[j].output));
                if (r < 0)
                        return r;
        }
        r = add_args(argv, extra);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->obj, "env"))
        {
                if (r == 0 && cJSON_IsString(e))
                        r = strv_push(env, pm_asprintf("%s=%s", e->string, e->valuestring));
        }
        return r;
}

/*
 * Run rustc for crate @idx (@test: its --test run) with @extra after the crate's arguments, and
 * judge the run: with @opts' callback when there is one (*@verdict gets what it returns), else
 * by rustc's status (0, or -1 when it failed). A failure is reported in @rep with the command
 * line and stderr. *@status gets rustc's exit status. 0, or negative on errors of our own.
 */
static int
run_one(const cJSON *root, struct rcrate *cr, int n, int idx, const char *rustc, const char *outdir,
        const char *workdir, const struct pm_test_rustc_opts *opts, bool test,
        const char *const *extra, bool judge, int *status, int *verdict, struct pm_strbuf *rep)
{
        struct rcrate *c = &cr[idx];
        struct strv argv = { 0 }, env = { 0 };
        char *err_text = NULL;
        int r;

        r = crate_command(root, cr, n, idx, rustc, outdir, test, opts && opts->lints, extra, &argv,
                          &env);
        if (r < 0)
                goto out;
        *status = pm_test_run((const char *const *)argv.v, workdir,
                              env.n ? (const char *const *)env.v : NULL, NULL, NULL, &err_text);
        if (*status < 0) {
                (void)pm_strbuf_addf(rep, "crates[%d] '%s': cannot run '%s': %s\n", idx, c->name,
                                     rustc, strerror(-*status));
                *verdict = -1;
                goto out;
        }
        if (judge && opts && opts->on_crate) {
                struct pm_test_rustc_run run = { .crate = c->obj,
                                                 .index = idx,
                                                 .name = c->name,
                                                 .test = test,
                                                 .status = *status,
                                                 .stderr_text = err_text ? err_text : "" };

                *verdict = opts->on_crate(opts->ctx, &run);
        } else {
                *verdict = *status == 0 ? 0 : -1;
        }
        if (*verdict < 0) {
                size_t elen = err_text ? strlen(err_text) : 0;

                (void)pm_strbuf_addf(rep, "crates[%d] '%s' (%s)%s: rustc exited with %d\n  $ ", idx,
                                     c->name, get_string(c->obj, "root_module"),
                                     test ? " with --test" : "", *status);
                report_argv(rep, &env, &argv);
                (void)pm_strbuf_add(rep, err_text ? err_text : "",
                                    elen > MAX_STDERR ? MAX_STDERR : elen);
                (void)pm_strbuf_adds(rep, elen > MAX_STDERR ? "\n  [stderr truncated]\n" : "\n");
        }
out:
        pm_free(err_text);
        strv_release(&argv);
        strv_release(&env);
        return r;
}

/*
 * Build and run rustc for crate @idx (and its --test run, with @opts' test_libs). Returns 0 when
 * it checked, 1 when rustc failed (reported in @rep), 2 when the callback accepted a failure
 * that left no output, negative on errors of our own.
 */
static int
check_one(const cJSON *root, struct rcrate *cr, int n, int idx, const char *rustc,
          const char *outdir, const char *workdir, const struct pm_test_rustc_opts *opts,
          struct pm_strbuf *rep)
{
        struct rcrate *c = &cr[idx];
        const char *const *extra = opts ? opts->extra_args : NULL;
        bool needed = c->kind == KIND_LIB || c->kind == KIND_PROC_MACRO;
        int r, status, verdict, ret;
        struct stat st;

        r = run_one(root, cr, n, idx, rustc, outdir, workdir, opts, false, extra, true, &status,
                    &verdict, rep);
        if (r < 0)
                return r;
        if (verdict < 0)
                return 1;
        ret = 0;
        if (status != 0 && (verdict == 1 || !needed || !opts->rebuild_args)) {
                ret = 2;
        } else if (status != 0) {
                /* Its dependents need its output: built again, this time it must succeed. */
                r = run_one(root, cr, n, idx, rustc, outdir, workdir, opts, false,
                            opts->rebuild_args, false, &status, &verdict, rep);
                if (r < 0)
                        return r;
                if (verdict < 0)
                        return 1;
        }
        if (ret == 0 && stat(c->output, &st) < 0) {
                (void)pm_strbuf_addf(rep, "crates[%d] '%s': rustc succeeded but wrote no '%s'\n",
                                     idx, c->name, c->output);
                return 1;
        }
        if (opts && opts->test_libs && c->kind == KIND_LIB) {
                r = run_one(root, cr, n, idx, rustc, outdir, workdir, opts, true, extra, true,
                            &status, &verdict, rep);
                if (r < 0)
                        return r;
                if (verdict < 0)
                        return 1;
        }
        return ret;
}

/* Problems that make a crate uncheckable before rustc runs; 0 if none (reported in @rep). */
static int
precheck(const cJSON *c, int idx, int n, struct rcrate *cr, struct pm_strbuf *rep)
{
        const cJSON *d;
        int bad = 0;

        if (!get_string(c, "root_module")) {
                (void)pm_strbuf_addf(rep, "crates[%d]: no root_module\n", idx);
                bad = 1;
        }
        cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c, "deps"))
        {
                int j = dep_index(d, n);

                if (j < 0 || !get_string(d, "name")) {
                        (void)pm_strbuf_addf(rep, "crates[%d]: malformed dep\n", idx);
                        bad = 1;
                } else if (cr[j].kind == KIND_BIN || cr[j].kind == KIND_TEST) {
                        (void)pm_strbuf_addf(rep,
                                             "crates[%d]: depends on crates[%d] '%s', which is "
                                             "not a library\n",
                                             idx, j, cr[j].name);
                        bad = 1;
                }
        }
        return bad;
}

static int
check_project(const char *json, const char *workdir, bool load_dylibs,
              const struct pm_test_rustc_opts *opts, char **ret_report)
{
        struct pm_strbuf rep = PM_STRBUF_INIT;
        struct rcrate *cr = NULL;
        cJSON *root = NULL;
        const cJSON *crates, *e, *d;
        char *outdir = NULL, *rustc = NULL;
        const char *sysroot;
        int *queue = NULL, qhead = 0, qtail = 0;
        int n = 0, r, failed = 0;

        root = cJSON_Parse(json);
        if (!root) {
                r = PM_ESCHEMA;
                (void)pm_strbuf_adds(&rep, "not valid JSON\n");
                goto out;
        }
        crates = cJSON_GetObjectItemCaseSensitive(root, "crates");
        if (!cJSON_IsArray(crates) || cJSON_GetArraySize(crates) > MAX_CRATES) {
                r = PM_ESCHEMA;
                (void)pm_strbuf_adds(&rep, "no usable 'crates' array\n");
                goto out;
        }
        n = cJSON_GetArraySize(crates);
        cr = pm_calloc((size_t)n + 1, sizeof(*cr));
        queue = pm_calloc((size_t)n + 1, sizeof(*queue));
        outdir = pm_asprintf("%s/rustc-out", workdir);
        sysroot = get_string(root, "sysroot");
        rustc = sysroot ? pm_asprintf("%s/bin/rustc", sysroot) : pm_strdup("rustc");
        if (!cr || !queue || !outdir || !rustc) {
                r = -ENOMEM;
                goto out;
        }
        if (sysroot && access(rustc, X_OK) < 0) {
                pm_free(rustc);
                rustc = pm_strdup("rustc");
                if (!rustc) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                (void)pm_strbuf_addf(&rep, "cannot create '%s': %s\n", outdir, strerror(errno));
                goto out;
        }

        for (int i = 0; i < n; i++) {
                struct rcrate *c = &cr[i];

                c->obj = cJSON_GetArrayItem(crates, i);
                c->kind = crate_kind_of(c->obj);
                c->name = crate_name_for(crates, i, n);
                if (!c->name) {
                        r = -ENOMEM;
                        goto out;
                }
                if (load_dylibs && c->kind == KIND_PROC_MACRO) {
                        const char *dylib = get_string(c->obj, "proc_macro_dylib_path");

                        /* Not compiled here: dependents load the very file the JSON names. */
                        c->output = pm_strdup(dylib ? dylib : "");
                        if (!c->output) {
                                r = -ENOMEM;
                                goto out;
                        }
                        continue;
                }
                c->output = c->kind == KIND_PROC_MACRO
                                    ? pm_asprintf("%s/lib%s-%d.so", outdir, c->name, i)
                                    : pm_asprintf("%s/lib%s-%d.rmeta", outdir, c->name, i);
                if (!c->output) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        /* Kahn's algorithm: a crate runs once all crates it depends on have been handled. */
        for (int i = 0; i < n; i++) {
                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(cr[i].obj, "deps"))
                {
                        if (dep_index(d, n) >= 0)
                                cr[i].ndeps_left++;
                }
                if (cr[i].ndeps_left == 0)
                        queue[qtail++] = i;
        }
        while (qhead < qtail) {
                int i = queue[qhead++];
                struct rcrate *c = &cr[i];
                int blocked = -1;

                cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(c->obj, "deps"))
                {
                        int j = dep_index(d, n);
                        if (j >= 0 && cr[j].state != STATE_OK)
                                blocked = j;
                }
                if (blocked >= 0) {
                        (void)pm_strbuf_addf(&rep,
                                             "crates[%d] '%s': not checked, dependency "
                                             "crates[%d] '%s' failed\n",
                                             i, c->name, blocked, cr[blocked].name);
                        c->state = STATE_FAILED;
                } else if (precheck(c->obj, i, n, cr, &rep)) {
                        c->state = STATE_FAILED;
                } else if (load_dylibs && c->kind == KIND_PROC_MACRO) {
                        struct stat st;

                        c->state = stat(c->output, &st) == 0 && S_ISREG(st.st_mode) ? STATE_OK
                                                                                    : STATE_FAILED;
                        if (c->state == STATE_FAILED) {
                                (void)pm_strbuf_addf(&rep,
                                                     "crates[%d] '%s': proc_macro_dylib_path '%s' "
                                                     "is not a file\n",
                                                     i, c->name, c->output);
                        } else {
                                /* A content-addressed name (lib<hash>.so) is not found by
                                 * rustc's search for a transitive dependency: a link under the
                                 * crate's own name in -Ldependency points at the same file. */
                                char *link = pm_asprintf("%s/lib%s-%d.so", outdir, c->name, i);

                                if (!link) {
                                        r = -ENOMEM;
                                        goto out;
                                }
                                (void)unlink(link);
                                if (symlink(c->output, link) < 0)
                                        (void)pm_strbuf_addf(&rep,
                                                             "crates[%d] '%s': cannot link %s\n", i,
                                                             c->name, link);
                                pm_free(link);
                        }
                } else {
                        r = check_one(root, cr, n, i, rustc, outdir, workdir, opts, &rep);
                        if (r < 0)
                                goto out;
                        c->state = r == 0 ? STATE_OK : r == 2 ? STATE_ACCEPTED : STATE_FAILED;
                }
                if (c->state == STATE_FAILED)
                        failed++;
                /* Release dependents (a crate listing the same dep twice counts it twice). */
                for (int k = 0; k < n; k++) {
                        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(cr[k].obj, "deps"))
                        {
                                if (dep_index(e, n) == i && --cr[k].ndeps_left == 0)
                                        queue[qtail++] = k;
                        }
                }
        }
        for (int i = 0; i < n; i++) {
                if (cr[i].state == STATE_PENDING) {
                        (void)pm_strbuf_addf(&rep,
                                             "crates[%d] '%s': not checked, it is on a "
                                             "dependency cycle\n",
                                             i, cr[i].name);
                        failed++;
                }
        }
        r = failed ? PM_ETOOL : 0;
out:
        if (r != 0 && ret_report) {
                if (rep.len == 0)
                        (void)pm_strbuf_addf(&rep, "rustc check failed: %s\n", pm_strerror(r));
                *ret_report = pm_strbuf_detach(&rep, NULL);
        }
        pm_strbuf_release(&rep);
        for (int i = 0; cr && i < n; i++) {
                pm_free(cr[i].name);
                pm_free(cr[i].output);
        }
        pm_free(cr);
        pm_free(queue);
        pm_free(outdir);
        pm_free(rustc);
        cJSON_Delete(root);
        return r;
}

int
pm_test_rustc_check_project(const char *json, const char *workdir, char **ret_report)
{
        return check_project(json, workdir, false, NULL, ret_report);
}

int
pm_test_rustc_check_project_with(const char *json, const char *workdir,
                                 const struct pm_test_rustc_opts *opts, char **ret_report)
{
        return check_project(json, workdir, false, opts, ret_report);
}

int
pm_test_rustc_check_project_loading_dylibs(const char *json, const char *workdir, char **ret_report)
{
        return check_project(json, workdir, true, NULL, ret_report);
}

void
pm_test_assert_project_checks(const char *json, size_t len, const char *workdir)
{
        char *report = NULL, *keep;
        int r;

        r = pm_test_validate_project(json, len, &report);
        cr_assert_eq(r, 0, "validator: %s\n%s", report ? report : "", json);
        pm_free(report);
        report = NULL;
        keep = pm_test_strf("%s/.keep", workdir);
        cr_assert_eq(pm_test_write_file(keep, ""), 0);
        pm_free(keep);
        r = pm_test_rustc_check_project(json, workdir, &report);
        cr_assert_eq(r, 0, "rustc check: %s", report ? report : "");
        pm_free(report);
}
