/* SPDX-License-Identifier: MIT */
/* What ninja is asked to build the outputs a GN graph names, and what its output means. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

/* The line after the one at @p, or NULL at the end. */
static const char *
next_line(const char *p)
{
        const char *nl = strchr(p, '\n');

        return nl ? nl + 1 : NULL;
}

/*
 * Where the output of the failed edge whose "FAILED:" line is at @failed ends: ninja prints
 * that line, the edge's command (one line), then what the command printed (stdout and stderr
 * together), until its next status line ("[N/M] ..."), another "FAILED:" or its own "ninja: ..."
 * lines. Sets *@ret_from to the start of that output (the line after the command).
 */
static const char *
edge_output(const char *failed, const char **ret_from)
{
        const char *p = next_line(failed);

        p = p ? next_line(p) : NULL;
        *ret_from = p;
        for (; p && *p; p = next_line(p))
                if (p[0] == '[' || strncmp(p, "FAILED: ", 8) == 0 || strncmp(p, "ninja: ", 7) == 0)
                        return p;
        return p ? p : failed + strlen(failed);
}

/*
 * The tool's own line for the failed edge at @failed (gn-internal.h), per the error-line rule
 * every failed step is worded by (pm_tool_error_line(): its first line starting with "error" or
 * "FATAL", e.g. rustc's "error[E0425]: ...", else its last line, e.g. a script's message) into
 * @buf; with the " --> file:line:col" rustc prints after an error line made absolute against
 * @dir. Returns whether that output had such a marked line; @buf is "" when the command printed
 * nothing.
 */
bool
pm__gn_edge_error(const char *failed, const char *dir, char *buf, size_t size)
{
        const char *from, *end = edge_output(failed, &from), *at, *loc;
        char *rel, *file;
        bool marked;
        size_t n;

        buf[0] = '\0';
        if (!from || from >= end)
                return false;
        marked = pm_tool_error_line(from, (size_t)(end - from), buf, size);
        /* The location is on the line after the one chosen, which is in the output as is unless
         * it was shortened. */
        /* Searched for within the edge's output only: the rest of ninja's can be megabytes, and
         * a line shortened or blanked (pm_tool_error_line()) is in none of it. */
        at = buf[0] ? memmem(from, (size_t)(end - from), buf, strlen(buf)) : NULL;
        loc = at ? next_line(at) : NULL;
        while (loc && *loc == ' ')
                loc++;
        if (!loc || loc >= end || strncmp(loc, "--> ", 4) != 0)
                return marked;
        rel = pm_asprintf("%.*s", line_len(loc + 4), loc + 4);
        file = rel ? pm_path_normalize(NULL, dir, rel) : NULL;
        n = strlen(buf);
        if (file && n + strlen(file) + 4 < size)
                snprintf(buf + n, size - n, " (%s)", file);
        pm_free(file);
        pm_free(rel);
        return marked;
}

/*
 * The tool's own line (pm__gn_edge_error()) for the failed edge whose "FAILED:" line names @rel;
 * else, when something it depends on failed, the first failed edge's marked line, else the first
 * failed edge's line; else (the command printed nothing) ninja's first "FAILED:" line; else
 * @fallback (ninja ran no step: its own error, in the failed step's line).
 */
static char *
build_error(const char *out, const char *dir, const char *rel, const char *fallback, bool *named)
{
        char line[PM_ERROR_MSG_MAX], first[PM_ERROR_MSG_MAX] = "";
        const char *p, *failed = NULL;
        bool first_marked = false;
        size_t rl = strlen(rel);

        for (p = out; p && *p; p = next_line(p)) {
                const char *q;
                bool marked;

                if (strncmp(p, "FAILED: ", 8) != 0)
                        continue;
                if (!failed)
                        failed = p;
                /* The outputs of the failed edge, space-separated. */
                for (q = p + 8; *q && *q != '\n'; q += strcspn(q, " \n"), q += *q == ' ') {
                        if (strncmp(q, rel, rl) == 0 && (q[rl] == ' ' || q[rl] == '\n' || !q[rl]))
                                break;
                }
                marked = pm__gn_edge_error(p, dir, line, sizeof(line));
                if (*q && *q != '\n') {
                        *named = true;
                        return line[0] ? pm_strdup(line) : pm_asprintf("%.*s", line_len(p), p);
                }
                if (line[0] && (!first[0] || (marked && !first_marked))) {
                        memcpy(first, line, sizeof(first));
                        first_marked = marked;
                }
        }
        if (first[0])
                return pm_strdup(first);
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
