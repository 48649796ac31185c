/* SPDX-License-Identifier: MIT */
/* A package `buck2 targets --keep-going` could not load (its "buck.error" entry): a warning at
 * the file, line and column Buck2 names, and the package's build file listed as failed so the
 * model keeps its crates' last good state (docs/build-integration.md, "Partial results"); and
 * whether a non-zero exit of `buck2 targets --keep-going` is such a partial list.
 * Reads bytes and stats build files; runs nothing. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/buck2/buck2-internal.h"

/* Where Buck2's error text points: the file as printed, its line and column, and the message
 * of the "error: " line above it. Pointers into the error text, with lengths. */
struct loc {
        const char *file, *msg;
        size_t file_len, msg_len;
        unsigned long line, col;
};

static const char *
skip_blank(const char *s, const char *end)
{
        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        return s;
}

static const char *
trim_end(const char *s, const char *end)
{
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        return end;
}

/* The digits in [@s, @end) as a number >= 1, or 0 when they are not all digits. */
static unsigned long
number(const char *s, const char *end)
{
        unsigned long n = 0;

        if (s == end || end - s > 9)
                return 0;
        for (; s < end; s++) {
                if (*s < '0' || *s > '9')
                        return 0;
                n = n * 10 + (unsigned long)(*s - '0');
        }
        return n;
}

/* "PATH:LINE:COL" in [@s, @end): the path is everything before the last two colons. */
static bool
parse_position(const char *s, const char *end, struct loc *l)
{
        const char *c2 = NULL, *c1 = NULL;

        for (const char *p = end; p > s; p--) {
                if (p[-1] != ':')
                        continue;
                if (!c2) {
                        c2 = p - 1;
                } else {
                        c1 = p - 1;
                        break;
                }
        }
        if (!c1 || c1 == s)
                return false;
        l->line = number(c1 + 1, c2);
        l->col = number(c2 + 1, end);
        l->file = s;
        l->file_len = (size_t)(c1 - s);
        return l->line > 0 && l->col > 0;
}

/*
 * The first " --> PATH:LINE:COL" line of @text that follows an "error: MESSAGE" line. That is
 * how starlark prints a diagnostic (starlark-rust/starlark_syntax/src/diagnostic.rs in
 * facebook/buck2), and Buck2 prints its error chain with anyhow's Debug form: under "Caused
 * by:" each cause indented, numbered "N: " when there are several (app/buck2_error/src/
 * format.rs), so both lines are matched after their indentation and such a number.
 */
static bool
find_location(const char *text, struct loc *l)
{
        const char *msg = NULL, *msg_end = NULL;

        for (const char *s = text; *s;) {
                const char *nl = strchr(s, '\n');
                const char *line_end = nl ? nl : s + strlen(s), *b = skip_blank(s, line_end);
                const char *end = trim_end(b, line_end), *d = b;

                while (d < end && *d >= '0' && *d <= '9')
                        d++;
                if (d > b && end - d >= 2 && d[0] == ':' && d[1] == ' ')
                        b = skip_blank(d + 1, end);
                if (end - b > 7 && strncmp(b, "error: ", 7) == 0) {
                        msg = skip_blank(b + 7, end);
                        msg_end = end;
                } else if (msg && end - b > 4 && strncmp(b, "--> ", 4) == 0 &&
                           parse_position(skip_blank(b + 4, end), end, l)) {
                        l->msg = msg;
                        l->msg_len = (size_t)(msg_end - msg);
                        return true;
                }
                s = nl ? nl + 1 : line_end;
        }
        return false;
}

/*
 * The absolute file of @l. Buck2 names the file by its path relative to the project root (the
 * directory of the root .buckconfig, where projmodel runs it), whatever the file's cell: its
 * interpreter parses every build file under that name (InterpreterForDir::parse in
 * app/buck2_interpreter_for_build/src/interpreter/interpreter_for_dir.rs, facebook/buck2), so
 * a nested package's is "lib/foo/BUCK" and a file of the cell third-party = third-party/rust is
 * "third-party/rust/vendor/BUCK". A "cell//path" (a cell path, as Buck2 names build files in
 * its own messages) goes through the cell map; an absolute path is kept.
 */
static char *
location_file(struct pm__buck2_ctx *x, const struct loc *l)
{
        char *raw = pm_arena_strndup(x->a, l->file, l->file_len), *sl;

        if (!raw)
                return NULL;
        sl = strstr(raw, "//");
        if (raw[0] != '/' && sl) {
                const char *dir =
                        sl == raw ? x->root : pm__buck2_cell_dir(x, raw, (size_t)(sl - raw));

                return pm_path_normalize(x->g->arena, dir, sl[2] ? sl + 2 : ".");
        }
        return pm_path_normalize(x->g->arena, x->root, raw);
}

int
pm__buck2_error_entry(struct pm__buck2_ctx *x, const cJSON *obj)
{
        const cJSON *pkg = cJSON_GetObjectItemCaseSensitive(obj, "buck.package");
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(obj, "buck.error");
        const char *label = cJSON_IsString(pkg) ? pkg->valuestring : NULL;
        const char *text = cJSON_IsString(e) ? e->valuestring : NULL;
        struct loc l = { 0 };
        char *w;

        /* The package's build file, as its crates name it: their last good state is kept. */
        if (label && strstr(label, "//") && !strchr(label, ':')) {
                const char *sl = strstr(label, "//");
                const char *dir =
                        sl == label ? x->root : pm__buck2_cell_dir(x, label, (size_t)(sl - label));
                char *pkg_dir = pm_path_join(x->a, dir, sl + 2), *bf;

                if (!pkg_dir || pm__buck2_build_file_of(x, pkg_dir, &bf) < 0)
                        return pm__buck2_oom(x);
                /* x->failed_pkgs: for the crates that depend on its targets (buck2-parse.c). */
                if (pm_strlist_push_unique(x->g, &x->g->failed, bf) < 0 ||
                    pm_strlist_push_unique(x->g, &x->g->failed_own, bf) < 0 ||
                    pm_strlist_push_unique(x->g, &x->g->build_files, bf) < 0 ||
                    pm_strlist_push_unique(x->g, &x->failed_pkgs, label) < 0)
                        return pm__buck2_oom(x);
        }
        if (text && find_location(text, &l)) {
                char *file = location_file(x, &l);

                w = file ? pm_graph_printf(x->g, "%s:%lu:%lu: %.*s (%s)", file, l.line, l.col,
                                           (int)l.msg_len, l.msg, PM__BUCK2_KEEP_GOING)
                         : NULL;
        } else {
                /* No line to point at (an error of the package as a whole): its text. */
                w = pm_graph_printf(x->g, "package '%s': %s: %s", label ? label : "?",
                                    PM__BUCK2_KEEP_GOING, text ? text : "no message");
        }
        return !w || pm_strlist_push(x->g, &x->g->warnings, w) < 0 ? pm__buck2_oom(x) : 0;
}

/* True if @json is an array with a "buck.error" entry: a package --keep-going went past. */
static bool
lists_a_failed_package(const cJSON *json)
{
        const cJSON *obj;

        if (!cJSON_IsArray(json))
                return false;
        cJSON_ArrayForEach(obj, json)
        {
                if (cJSON_IsObject(obj) && cJSON_GetObjectItemCaseSensitive(obj, "buck.error"))
                        return true;
        }
        return false;
}

int
pm__buck2_keep_going_output(const struct pm_blob *out, const cJSON *json, struct pm_error *err)
{
        char line[PM_ERROR_MSG_MAX / 2]; /* room for the rest of the message */
        const char *why = NULL;
        int st = out->exit_status;

        if (st == 0)
                return 0;
        if (st < 1 || st > 3)
                why = "an exit status --keep-going does not give";
        else if (!out->data || out->len == 0)
                why = "no output";
        else if (!json)
                why = "its output is not complete JSON";
        else if (!cJSON_IsArray(json))
                why = "its output is not a JSON array";
        else if (!lists_a_failed_package(json))
                why = "its output names no package it could not load (\"buck.error\")";
        if (!why)
                return 0;
        /* The runner's line ("'CMD' exited with status N: <stderr's error line>") when there is
         * one, as every failed step is reported (docs/protocol.md). */
        if (out->error)
                return pm_error_set(err, PM_ETOOL, "%s (not --keep-going's partial list: %s)",
                                    out->error, why);
        /* Its error line as every failed step's is picked (include/projmodel/strbuf.h). */
        (void)pm_tool_error_line(out->err_text, out->err_len, line, sizeof(line));
        return pm_error_set(err, PM_ETOOL,
                            "'%s' exited with status %d%s%s (not --keep-going's partial list: %s)",
                            out->origin ? out->origin : "buck2", st, line[0] ? ": " : "", line,
                            why);
}
