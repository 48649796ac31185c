/* SPDX-License-Identifier: MIT */
/* libtest's result lines in a test log (`test NAME ... ok|FAILED|ignored`): the per-#[test]
 * results of a rules_rust test, whose test.xml has one case for the whole target. */
#include <errno.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"

#include "adapters/bazel/bazel-internal.h"

/* The text libtest printed for failed test @name ("---- NAME stdout ----" up to the next blank
 * line), pm_malloc'd, or NULL when there is none (or no memory: the case goes without). */
static char *
failure_text(const char *data, size_t len, const char *name, size_t name_n)
{
        static const char pre[] = "---- ", post[] = " stdout ----\n";
        const char *end = data + len;

        for (const char *p = data; p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl + 1 : end;

                if ((size_t)(line_end - p) == sizeof(pre) - 1 + name_n + sizeof(post) - 1 &&
                    memcmp(p, pre, sizeof(pre) - 1) == 0 &&
                    memcmp(p + sizeof(pre) - 1, name, name_n) == 0 &&
                    memcmp(p + sizeof(pre) - 1 + name_n, post, sizeof(post) - 1) == 0) {
                        const char *t = line_end, *stop;

                        while (t < end && *t == '\n') /* libtest leaves a blank line first */
                                t++;
                        stop = t;
                        while (stop < end && !(stop[0] == '\n' && (stop == t || stop[-1] == '\n')))
                                stop++;
                        while (stop > t && stop[-1] == '\n')
                                stop--;
                        return stop > t ? pm_strndup(t, (size_t)(stop - t)) : NULL;
                }
                p = line_end;
        }
        return NULL;
}

int
pm__libtest_log_read(const char *data, size_t len, pm__junit_cb cb, void *ud, size_t *ret_n)
{
        static const char sep[] = " ... ";
        const char *end = data + len;
        size_t n = 0;
        int r = 0;

        for (const char *p = data; r >= 0 && p < end;) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;
                const char *name = p + 5, *dots = NULL, *res;
                struct pm__junit_case c = { .suite = "" };
                char *s_name = NULL, *reason = NULL;

                if (line_end - p > 5 && memcmp(p, "test ", 5) == 0) {
                        for (const char *q = name; q + sizeof(sep) - 1 <= line_end && !dots; q++)
                                if (memcmp(q, sep, sizeof(sep) - 1) == 0)
                                        dots = q;
                }
                p = nl ? nl + 1 : end;
                if (!dots || dots == name)
                        continue;
                res = dots + sizeof(sep) - 1;
                if ((size_t)(line_end - res) == 2 && memcmp(res, "ok", 2) == 0) {
                        c.outcome = PM__JUNIT_OK;
                } else if ((size_t)(line_end - res) == 6 && memcmp(res, "FAILED", 6) == 0) {
                        c.outcome = PM__JUNIT_FAILED;
                        reason = failure_text(data, len, name, (size_t)(dots - name));
                } else if ((size_t)(line_end - res) >= 7 && memcmp(res, "ignored", 7) == 0 &&
                           (line_end - res == 7 ||
                            (line_end - res >= 9 && memcmp(res + 7, ", ", 2) == 0))) {
                        c.outcome = PM__JUNIT_SKIPPED;
                        if (line_end - res > 9)
                                reason = pm_strndup(res + 9, (size_t)(line_end - res - 9));
                } else {
                        continue; /* a benchmark's line, or output that merely looks alike */
                }
                s_name = pm_strndup(name, (size_t)(dots - name));
                if (!s_name) {
                        r = -ENOMEM;
                } else {
                        c.name = s_name;
                        c.message = reason;
                        r = cb(ud, &c);
                        n++;
                }
                pm_free(reason);
                pm_free(s_name);
        }
        *ret_n = n;
        return r;
}
