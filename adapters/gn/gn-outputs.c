/* SPDX-License-Identifier: MIT */
/* What ninja is asked to build the outputs a GN graph names, and what its output means. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "gn-internal.h"

/* Largest project.json read (GN's JSON of a 10,000-target tree is tens of MB). */
#define PROJECT_JSON_MAX ((size_t)1 << 30)

/* The nearest directory above @path holding build.ninja, pm_malloc'd, or NULL. */
static char *
build_dir(const char *path)
{
        char *dir = pm_strdup(path);
        char *slash;

        while (dir && (slash = strrchr(dir, '/')) && slash != dir) {
                *slash = '\0';
                if (pm_path_exists_in(dir, "build.ninja"))
                        return dir;
        }
        pm_free(dir);
        return NULL;
}

static char *
no_build_dir(const char *path)
{
        return pm_asprintf("no build.ninja above '%s' (run gn gen first)", path);
}

/* One step of `ninja -C @dir` then @args, in @dir. */
static int
ninja_plan(const char *dir, const char *const *args, size_t n_args, struct pm_plan *ret_plan,
           struct pm_error *err)
{
        struct pm_step *step = &ret_plan->steps[0];
        char **argv = pm_argv_new((const char *const[]){ "ninja", "-C", dir }, 3);

        for (size_t i = 0; argv && i < n_args; i++)
                if (pm_argv_push(&argv, args[i]) < 0)
                        argv = pm_argv_free(argv);
        step->argv = argv;
        step->cwd = argv ? pm_strdup(dir) : NULL;
        ret_plan->n_steps = 1;
        if (!step->cwd)
                return pm_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* `ninja -t targets all`: ninja's own list of the outputs of its build directory. */
static int
list_plan(const char *dir, struct pm_plan *ret_plan, struct pm_error *err)
{
        return ninja_plan(dir, (const char *const[]){ "-t", "targets", "all" }, 3, ret_plan, err);
}

/* Its lines are "OUTPUT: RULE", OUTPUT relative to the build directory (@out->data is
 * NUL-terminated). */
static int
list_parse(const char *dir, const struct pm_blob *out, char ***ret_paths, struct pm_error *err)
{
        for (const char *line = out->data; line && *line;) {
                size_t n = strcspn(line, "\n");
                const char *colon = strstr(line, ": ");
                char *abs;
                int r;

                if (colon && colon < line + n) {
                        abs = pm_asprintf("%s/%.*s", dir, (int)(colon - line), line);
                        r = abs ? pm_argv_push(ret_paths, abs) : -ENOMEM;
                        pm_free(abs);
                        if (r < 0)
                                return pm_error_set(err, -ENOMEM, "out of memory");
                }
                line += n + (line[n] == '\n');
        }
        return 0;
}

/* `ninja -k 0 OUTPUT...`: every output it can, past failures. */
static int
build_plan(const char *dir, const char *const *outputs, size_t n_outputs, struct pm_plan *ret_plan,
           struct pm_error *err)
{
        int r = ninja_plan(dir, (const char *const[]){ "-k", "0" }, 2, ret_plan, err);

        for (size_t i = 0; r == 0 && i < n_outputs; i++)
                if (pm_argv_push(&ret_plan->steps[0].argv, outputs[i]) < 0)
                        r = pm_error_set(err, -ENOMEM, "out of memory");
        return r;
}

/* The length of the line starting at @p, without its newline or trailing blanks (ninja ends its
 * "FAILED: OUTPUT " line with a space), for "%.*s". */
static int
line_len(const char *p)
{
        size_t n = strcspn(p, "\n");

        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r' || p[n - 1] == '\t'))
                n--;
        return (int)n;
}

/*
 * The first rustc "error" line after the "FAILED:" line naming @rel, with the
 * " --> file:line:col" that follows it made absolute against @dir; else the first "error" line
 * of the whole run (a dependency failed); else the first "FAILED:" line; else @fallback.
 */
static char *
build_error(const char *out, const char *dir, const char *rel, const char *fallback, bool *named)
{
        const char *from = NULL, *p, *err = NULL, *failed = NULL;
        size_t rl = strlen(rel);

        for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                const char *q;

                if (strncmp(p, "FAILED: ", 8) != 0)
                        continue;
                if (!failed)
                        failed = p;
                /* The outputs of the failed edge, space-separated. */
                for (q = p + 8; *q && *q != '\n'; q += strcspn(q, " \n"), q += *q == ' ') {
                        if (strncmp(q, rel, rl) == 0 && (q[rl] == ' ' || q[rl] == '\n' || !q[rl]))
                                break;
                }
                if (*q && *q != '\n') {
                        from = p;
                        *named = true;
                        break;
                }
        }
        for (int pass = 0; pass < 2 && !err; pass++) {
                for (p = pass == 0 ? from : out; p && *p;
                     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
                        if (strncmp(p, "error", 5) == 0 && (p[5] == ':' || p[5] == '[')) {
                                err = p;
                                break;
                        }
                }
        }
        if (err) {
                const char *loc = strchr(err, '\n');
                char *file = NULL, *res;

                loc = loc ? loc + 1 : NULL;
                while (loc && *loc == ' ')
                        loc++;
                if (loc && strncmp(loc, "--> ", 4) == 0) {
                        char *rel_loc = pm_asprintf("%.*s", line_len(loc + 4), loc + 4);

                        if (!rel_loc)
                                return NULL;
                        file = pm_path_normalize(NULL, dir, rel_loc);
                        pm_free(rel_loc);
                        if (!file)
                                return NULL;
                }
                res = file ? pm_asprintf("%.*s (%s)", line_len(err), err, file)
                           : pm_asprintf("%.*s", line_len(err), err);
                pm_free(file);
                return res;
        }
        if (failed)
                return pm_asprintf("%.*s", line_len(failed), failed);
        return pm_strdup(fallback);
}

/*
 * Each flagged crate's output as the last `gn gen` wrote it in <out_dir>/project.json (the
 * target's first output: the path parse() serves, never guessed).
 */
static int
current_dylibs(const struct pm_query *q, struct pm_graph *g, bool *only, struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error ferr;
        const char *out_dir;
        char *dir = NULL, *path = NULL;
        const cJSON *targets = NULL, *rp = NULL;
        cJSON *root = NULL;
        int r;

        pm_error_init(&ferr);
        r = pm_config_get_string(q->config, q->project->settings, "out_dir", "out", &out_dir,
                                 &ferr);
        if (r == 0) {
                dir = pm_path_normalize(NULL, q->project->root, out_dir);
                path = dir ? pm_path_join(NULL, dir, "project.json") : NULL;
                if (!path) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                r = pm_strbuf_read_file(&sb, path, PROJECT_JSON_MAX, &ferr);
        }
        if (r == -ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (r == 0) {
                root = cJSON_ParseWithLength(sb.buf, sb.len);
                targets = cJSON_GetObjectItemCaseSensitive(root, "targets");
                rp = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(root, "build_settings"), "root_path");
        }
        r = 0;
        for (size_t i = 0; i < g->n_crates; i++) {
                struct pm_crate *c = &g->crates[i];
                const cJSON *outs = cJSON_GetObjectItemCaseSensitive(
                        cJSON_GetObjectItemCaseSensitive(targets, c->label), "outputs");
                const cJSON *o = cJSON_GetArrayItem(outs, 0);
                char *abs;

                if (!only[i])
                        continue;
                if (!cJSON_IsString(rp) || !cJSON_IsString(o) ||
                    strncmp(o->valuestring, "//", 2) != 0) {
                        only[i] = false;
                        continue;
                }
                abs = pm_path_normalize(NULL, rp->valuestring, o->valuestring + 2);
                c->proc_macro_dylib = abs ? pm_graph_strdup(g, abs) : NULL;
                pm_free(abs);
                if (!c->proc_macro_dylib) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        }
out:
        cJSON_Delete(root);
        pm_strbuf_release(&sb);
        pm_free(path);
        pm_free(dir);
        return r;
}

const struct pm_output_builder pm__gn_outputs = {
        .tool = "ninja",
        .build_dir = build_dir,
        .no_build_dir = no_build_dir,
        .list_plan = list_plan,
        .list_parse = list_parse,
        .build_plan = build_plan,
        .build_error = build_error,
        .current_dylibs = current_dylibs,
};
