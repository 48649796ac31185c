/* SPDX-License-Identifier: MIT */
/* What a --keep_going query could not load, from Bazel's stderr: the BUILD files of the broken
 * packages and of the targets whose analysis failed (pm_graph.failed), so the apply keeps their
 * crates' last good state, and a warning per error with its file and line (docs/
 * build-integration.md, "Partial results"). Reads bytes only. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/graph.h"
#include "projmodel/path.h"

#include "adapters/bazel/bazel-internal.h"

/* The longest stderr line looked at (Bazel's are far shorter; the rest is cut). */
#define LINE_MAX_LEN 4096

static bool
is_build_file_name(const char *base)
{
        return strcmp(base, "BUILD.bazel") == 0 || strcmp(base, "BUILD") == 0;
}

/* Whether absolute @path is in the workspace through the user's bazel-<workspace> link: the
 * same file seen again, not one of the project's (pm__bazel_through_link()). */
static bool
through_link(struct pm__bazel_ctx *c, const char *path)
{
        const char *root = c->q->project->root;
        size_t n = strlen(root);

        return pm_path_is_under(path, root) && path[n] == '/' &&
               pm__bazel_through_link(&c->links, root, path + n + 1);
}

/* Add @path (absolute) to the failed files and the watch set, if it is a BUILD file outside
 * the output base (whose external repositories are not the user's to fix): the fix of that file
 * must start a query. Bazel prints the same spelling as the crates' locations (collect.c). */
static int
add_failed(struct pm__bazel_ctx *c, const char *path, bool own)
{
        char *p = pm_path_normalize(c->g->arena, NULL, path);

        if (!p)
                return pm__bazel_oom(c);
        if (!is_build_file_name(pm_path_basename(p)) || pm_path_is_under(p, c->s->output_base) ||
            through_link(c, p))
                return 0;
        if (pm_strlist_push_unique(c->g, &c->g->failed, p) < 0 ||
            pm_strlist_push(c->g, &c->g->build_files, p) < 0 ||
            (own && pm_strlist_push_unique(c->g, &c->g->failed_own, p) < 0))
                return pm__bazel_oom(c);
        return 0;
}

/* The BUILD file of main-repository package @pkg that exists (Bazel prefers BUILD.bazel), or
 * NULL: a package whose BUILD file is gone was deleted, its crates with it. */
static int
add_failed_package(struct pm__bazel_ctx *c, const char *pkg, bool own)
{
        static const char *const names[] = { "BUILD.bazel", "BUILD" };

        for (size_t i = 0; i < 2; i++) {
                char *p = pm_graph_printf(c->g, "%s/%s/%s", c->q->project->root, pkg, names[i]);

                if (!p)
                        return pm__bazel_oom(c);
                if (access(p, F_OK) == 0)
                        return add_failed(c, p, own);
                /* Looked for and missing: the input stamp records it (graph.h, inputs). */
                if (pm_strlist_push(c->g, &c->g->inputs, p) < 0)
                        return pm__bazel_oom(c);
        }
        return 0;
}

/* @text names a package ("lib/foo", "//lib/foo", "@//lib/foo") or a target in one: add the
 * package's BUILD file when it is of the main repository. */
static int
add_failed_label(struct pm__bazel_ctx *c, const char *text, bool is_target)
{
        struct pm__bazel_label l;
        const char *raw = text;
        int e;

        if (!is_target) {
                if (text[0] == '@' && strncmp(text, "@//", 3) != 0)
                        return 0;
                raw = text[0] == '@' || text[0] == '/' ? pm_graph_printf(c->g, "%s:BUILD", text)
                                                       : pm_graph_printf(c->g, "//%s:BUILD", text);
                if (!raw)
                        return pm__bazel_oom(c);
        }
        e = pm__bazel_label_parse(c, raw, NULL, "", &l);
        if (e == -ENOMEM)
                return pm__bazel_oom(c);
        if (e < 0 || l.repo)
                return 0; /* not a label, or another repository's: not the user's to fix */
        /* A package is the one that failed; a target's analysis failed with a dependency. */
        return add_failed_package(c, l.pkg, !is_target);
}

/* The text between @open (which must occur in @line) and the next quote, or "". */
static void
quoted_after(const char *line, const char *open, char *buf, size_t size)
{
        const char *p = strstr(line, open), *q;

        buf[0] = '\0';
        if (!p)
                return;
        p += strlen(open);
        q = strchr(p, '\'');
        if (q && (size_t)(q - p) < size)
                (void)snprintf(buf, size, "%.*s", (int)(q - p), p);
}

/* One stderr line: the file or package it blames, if any. */
static int
scan_line(struct pm__bazel_ctx *c, const char *line, const char **ret_first)
{
        const char *m = strstr(line, "ERROR: /");
        char buf[LINE_MAX_LEN];

        if (m) {
                /* "ERROR: /abs/pkg/BUILD.bazel:6:5: what": the path ends at ":<line>:". */
                const char *p = m + strlen("ERROR: "), *e = p;

                while ((e = strchr(e, ':')) && !(e[1] >= '0' && e[1] <= '9'))
                        e++;
                if (e && (size_t)(e - p) < sizeof(buf)) {
                        (void)snprintf(buf, sizeof(buf), "%.*s", (int)(e - p), p);
                        if (!*ret_first)
                                *ret_first = p;
                        /* Its own error or another package's echo: warn_located() says. */
                        return add_failed(c, buf, false);
                }
                return 0;
        }
        m = strstr(line, "package contains errors: ");
        if (m) {
                (void)snprintf(buf, sizeof(buf), "%s", m + strlen("package contains errors: "));
                buf[strcspn(buf, " \t\r")] = '\0';
                return *buf ? add_failed_label(c, buf, false) : 0;
        }
        quoted_after(line, "errors encountered while analyzing target '", buf, sizeof(buf));
        if (*buf)
                return add_failed_label(c, buf, true);
        quoted_after(line, "no such package '", buf, sizeof(buf));
        if (*buf)
                return add_failed_label(c, buf, false);
        return 0;
}

/* The text of @line after "ERROR: " when it names a file of the main repository as
 * "/abs/file:LINE:COL: what" (NULL otherwise); the file's spelling, as Bazel printed it, goes
 * to @file. */
static const char *
located_error(struct pm__bazel_ctx *c, const char *line, char *file, size_t size)
{
        const char *m = strstr(line, "ERROR: /"), *p, *e;

        if (!m)
                return NULL;
        p = m + strlen("ERROR: ");
        e = p;
        while ((e = strchr(e, ':')) && !(e[1] >= '0' && e[1] <= '9'))
                e++;
        if (!e || (size_t)(e - p) >= size)
                return NULL;
        (void)snprintf(file, size, "%.*s", (int)(e - p), p);
        return pm_path_is_under(file, c->s->output_base) || through_link(c, file) ? NULL : p;
}

/* True when the error is another package's failure seen from @text's file: Bazel's "no such
 * target" or "no such package" about a package whose own file has an error in @own ("... defined
 * by /repo/lib/config/BUILD.bazel"). A dependency on a target that does not exist in a package
 * that loaded (a typo) is the user's to fix where it is written, so it stays. */
static bool
is_consequence(const char *text, const struct pm_strlist *own)
{
        if (!strstr(text, "no such target '") && !strstr(text, "no such package '"))
                return false;
        for (size_t i = 0; i < own->n; i++)
                if (strstr(text, own->v[i]) && strncmp(text, own->v[i], strlen(own->v[i])) != 0)
                        return true;
        return false;
}

/* One warning per main-repository file Bazel blamed with a line and column ("FILE:L:C: what
 * (bazel could not load it with --keep_going)"), its own errors only, not their echo in the
 * packages that depend on it: editors show each at its line (editors/vscode/tool-errors.js).
 * @ret_n: how many were added. */
static int
warn_located(struct pm__bazel_ctx *c, const struct pm_blob *blob, size_t *ret_n)
{
        struct pm_strlist own = { 0 };
        char line[LINE_MAX_LEN], file[LINE_MAX_LEN];

        *ret_n = 0;
        for (int pass = 0; pass < 2; pass++) {
                for (const char *p = blob->err_text; p && *p;) {
                        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
                        size_t n = (size_t)(end - p) < sizeof(line) ? (size_t)(end - p)
                                                                    : sizeof(line) - 1;
                        const char *text;

                        memcpy(line, p, n);
                        line[n] = '\0';
                        line[strcspn(line, "\r")] = '\0';
                        p = nl ? nl + 1 : end;
                        text = located_error(c, line, file, sizeof(file));
                        if (!text)
                                continue;
                        if (pass == 0) {
                                if (!strstr(text, "no such target '") &&
                                    !strstr(text, "no such package '") &&
                                    pm_strlist_push_unique(c->g, &own, file) < 0)
                                        return pm__bazel_oom(c);
                                continue;
                        }
                        if (is_consequence(text, &own))
                                continue;
                        /* An error of the file's own: it is one of the files that failed. */
                        {
                                char *bf = pm_path_normalize(c->g->arena, NULL, file);

                                if (!bf)
                                        return pm__bazel_oom(c);
                                if (pm_strlist_contains(&c->g->failed, bf) &&
                                    pm_strlist_push_unique(c->g, &c->g->failed_own, bf) < 0)
                                        return pm__bazel_oom(c);
                        }
                        {
                                size_t len = strlen(text);
                                char *w = pm_graph_printf(
                                        c->g, "%.*s (bazel could not load it with --keep_going)",
                                        (int)(len > 500 ? 500 : len), text);
                                size_t before = c->g->warnings.n;

                                if (!w || pm_strlist_push_unique(c->g, &c->g->warnings, w) < 0)
                                        return pm__bazel_oom(c);
                                *ret_n += c->g->warnings.n - before;
                        }
                }
        }
        return 0;
}

int
pm__bazel_failures(struct pm__bazel_ctx *c, const struct pm_blob *blob)
{
        size_t located = 0;
        const char *first = NULL, *first_end = NULL;
        char line[LINE_MAX_LEN];
        char *w;
        int e;

        if (!blob->error)
                return 0;
        /* Each blamed file is its own error or a dependency's (scan_line(), warn_located()). */
        c->g->failed_own_known = true;
        for (const char *p = blob->err_text; p && *p;) {
                const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
                const char *was = first;
                size_t n = (size_t)(end - p) < sizeof(line) ? (size_t)(end - p) : sizeof(line) - 1;

                memcpy(line, p, n);
                line[n] = '\0';
                e = scan_line(c, line, &first);
                if (e < 0)
                        return e;
                if (!was && first) {
                        /* Point into the blob, not the line buffer. */
                        first = p + (first - line);
                        first_end = end;
                }
                p = nl ? nl + 1 : end;
        }
        if (first && first_end > first && first_end[-1] == '\r')
                first_end--;
        /* Each error names the file and line to fix; the apply says what it kept. */
        e = warn_located(c, blob, &located);
        if (e < 0)
                return e;
        if (located)
                return 0;
        if (first)
                w = pm_graph_printf(c->g, "%.*s (bazel could not load it with --keep_going)",
                                    (int)(first_end - first > 500 ? 500 : first_end - first),
                                    first);
        else if (c->g->failed.n)
                w = pm_graph_printf(c->g, "%s (bazel could not load %s with --keep_going)",
                                    blob->error, c->g->failed.v[0]);
        else
                w = pm_graph_printf(c->g,
                                    "%s (bazel printed partial output with --keep_going: the "
                                    "crates of the broken packages are missing)",
                                    blob->error);
        if (!w || pm_strlist_push(c->g, &c->g->warnings, w) < 0)
                return pm__bazel_oom(c);
        return 0;
}

bool
pm__bazel_label_failed(struct pm__bazel_ctx *c, const struct pm__bazel_label *l)
{
        static const char *const names[] = { "BUILD.bazel", "BUILD" };

        if (l->repo || c->g->failed.n == 0)
                return false;
        for (size_t i = 0; i < 2; i++) {
                char *p = pm_graph_printf(c->g, "%s/%s/%s", c->q->project->root, l->pkg, names[i]);
                char *n = p ? pm_path_normalize(c->g->arena, NULL, p) : NULL;

                if (n && pm_strlist_contains(&c->g->failed, n))
                        return true;
        }
        return false;
}
