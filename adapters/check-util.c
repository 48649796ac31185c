/* SPDX-License-Identifier: MIT */
/* The pure halves of `projmodel check`: splitting ninja's shell command lines without a shell,
 * and making compiler diagnostics' file names absolute for rust-analyzer. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/check-plan.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

/* Characters a shell would interpret outside quotes: a line using them is not a plain argv. */
static bool
is_shell_special(char c)
{
        return c != '\0' && strchr("|&;<>()$`*?[]{}~#\n\r", c) != NULL;
}

/* True if @w is NAME=value with NAME a shell variable name. */
static bool
is_assignment(const char *w)
{
        const char *p = w;

        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
                return false;
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
               *p == '_')
                p++;
        return *p == '=';
}

int
pm_check_split_command(const char *line, char ***ret_env, char ***ret_argv, struct pm_error *err)
{
        struct pm_strbuf w = PM_STRBUF_INIT;
        char **env = pm_argv_new(NULL, 0), **argv = pm_argv_new(NULL, 0);
        const char *p = line;
        int r = 0;

        if (!env || !argv)
                goto oom;
        for (;;) {
                bool in_word = false;

                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                pm_strbuf_reset(&w);
                while (*p && *p != ' ' && *p != '\t') {
                        in_word = true;
                        if (*p == '\'') {
                                const char *e = strchr(p + 1, '\'');

                                if (!e) {
                                        r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                                         "unmatched ' in the command");
                                        goto out;
                                }
                                if (pm_strbuf_add(&w, p + 1, (size_t)(e - p - 1)) < 0)
                                        goto oom;
                                p = e + 1;
                        } else if (*p == '"') {
                                for (p++; *p && *p != '"'; p++) {
                                        if (*p == '$' || *p == '`') {
                                                r = pm_error_set(
                                                        err, PM_EBADTOOLOUTPUT,
                                                        "'%c' inside \"...\" needs a shell", *p);
                                                goto out;
                                        }
                                        if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                                                p++;
                                        if (pm_strbuf_addch(&w, *p) < 0)
                                                goto oom;
                                }
                                if (*p != '"') {
                                        r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                                         "unmatched \" in the command");
                                        goto out;
                                }
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1] || p[1] == '\n') {
                                        r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                                         "a trailing '\\' needs a shell");
                                        goto out;
                                }
                                if (pm_strbuf_addch(&w, p[1]) < 0)
                                        goto oom;
                                p += 2;
                        } else if (is_shell_special(*p) && !(*p == '#' && w.len > 0) &&
                                   !(*p == '~' && w.len > 0)) {
                                r = pm_error_set(err, PM_EBADTOOLOUTPUT,
                                                 "'%c' needs a shell, so projmodel cannot run it",
                                                 *p == '\n' || *p == '\r' ? ' ' : *p);
                                goto out;
                        } else {
                                if (pm_strbuf_addch(&w, *p) < 0)
                                        goto oom;
                                p++;
                        }
                }
                if (!in_word)
                        continue;
                /* Assignments count only before the program name, as in a shell. */
                if (!argv[0] && w.buf && is_assignment(w.buf)) {
                        if (pm_argv_push(&env, w.buf) < 0)
                                goto oom;
                } else if (pm_argv_push(&argv, w.buf ? w.buf : "") < 0) {
                        goto oom;
                }
        }
        if (!argv[0]) {
                r = pm_error_set(err, PM_EBADTOOLOUTPUT, "the command is empty");
                goto out;
        }
        *ret_env = pm_steal_ptr(&env);
        *ret_argv = pm_steal_ptr(&argv);
        goto out;
oom:
        r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_strbuf_release(&w);
        pm_argv_free(env);
        pm_argv_free(argv);
        return r;
}

struct bases;
static int absolutize_diagnostic(cJSON *diag, const struct bases *b, bool *is_error);

/* Where to make relative file names absolute. */
struct bases {
        const char *base;
        const char *external; /* for "external/...", or NULL */
};

/* One span (and its macro expansion's spans) with an absolute file_name. */
static int
absolutize_span(cJSON *span, const struct bases *b)
{
        cJSON *f = cJSON_GetObjectItemCaseSensitive(span, "file_name");
        cJSON *exp = cJSON_GetObjectItemCaseSensitive(span, "expansion");

        if (cJSON_IsString(f) && f->valuestring[0] && !pm_path_is_absolute(f->valuestring) &&
            f->valuestring[0] != '<') {
                bool ext = b->external && strncmp(f->valuestring, "external/", 9) == 0;
                char *abs = pm_path_normalize(NULL, ext ? b->external : b->base, f->valuestring);

                if (!abs)
                        return -ENOMEM;
                if (!cJSON_ReplaceItemInObjectCaseSensitive(span, "file_name",
                                                            cJSON_CreateString(abs))) {
                        pm_free(abs);
                        return -ENOMEM;
                }
                pm_free(abs);
        }
        if (cJSON_IsObject(exp)) {
                cJSON *s = cJSON_GetObjectItemCaseSensitive(exp, "span");
                cJSON *d = cJSON_GetObjectItemCaseSensitive(exp, "def_site_span");

                if (cJSON_IsObject(s) && absolutize_span(s, b) < 0)
                        return -ENOMEM;
                if (cJSON_IsObject(d) && absolutize_span(d, b) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int
absolutize_diagnostic(cJSON *diag, const struct bases *b, bool *is_error)
{
        cJSON *spans = cJSON_GetObjectItemCaseSensitive(diag, "spans");
        cJSON *children = cJSON_GetObjectItemCaseSensitive(diag, "children");
        cJSON *level = cJSON_GetObjectItemCaseSensitive(diag, "level");
        cJSON *e;

        if (is_error && cJSON_IsString(level) && strncmp(level->valuestring, "error", 5) == 0)
                *is_error = true;
        cJSON_ArrayForEach(e, spans)
        {
                if (cJSON_IsObject(e) && absolutize_span(e, b) < 0)
                        return -ENOMEM;
        }
        cJSON_ArrayForEach(e, children)
        {
                if (cJSON_IsObject(e) && absolutize_diagnostic(e, b, NULL) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int
pm_check_diagnostic_line(const char *line, size_t len, const char *base, const char *external_base,
                         struct pm_strbuf *out, bool *ret_error)
{
        const struct bases b = { .base = base, .external = external_base };
        cJSON *root = cJSON_ParseWithLength(line, len), *diag = NULL, *reason;
        char *s = NULL;
        bool error = false;
        int r = 0;

        if (!cJSON_IsObject(root))
                goto out;
        reason = cJSON_GetObjectItemCaseSensitive(root, "reason");
        if (cJSON_IsString(reason)) {
                if (strcmp(reason->valuestring, "compiler-message") == 0)
                        diag = cJSON_GetObjectItemCaseSensitive(root, "message");
        } else if (cJSON_GetObjectItemCaseSensitive(root, "spans") &&
                   cJSON_GetObjectItemCaseSensitive(root, "message")) {
                diag = root;
        } else {
                /* JSON, but neither cargo's nor a diagnostic (an artifact notice): not ours. */
                goto out;
        }
        if (cJSON_IsObject(diag) && absolutize_diagnostic(diag, &b, &error) < 0) {
                r = -ENOMEM;
                goto out;
        }
        s = cJSON_PrintUnformatted(root);
        if (!s || pm_strbuf_adds(out, s) < 0 || pm_strbuf_addch(out, '\n') < 0) {
                r = -ENOMEM;
                goto out;
        }
        if (ret_error)
                *ret_error = error;
        r = 1;
out:
        cJSON_free(s);
        cJSON_Delete(root);
        return r;
}
