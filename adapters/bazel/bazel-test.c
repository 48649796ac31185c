/* SPDX-License-Identifier: MIT */
/* The per-test results of `bazel test` (docs/cli.md, `projmodel test --results`): the test.xml
 * each testResult build event names, read with the JUnit reader (junit.c), or libtest's lines in
 * its test.log (libtest-log.c), one JSON line per test case. Reads files; runs nothing. */
#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"
#include "adapters/bazel/bazel-internal.h"

/* Most bytes of a test.xml read (Bazel's generated one holds the whole test log). */
#define MAX_XML ((size_t)64 << 20)
/* Most bytes of a message in a line. */
#define MAX_MESSAGE 4000

/* One line being written: the target's label for every case of its test.xml; cases counted. */
struct lines {
        const char *target;
        struct pm_strbuf *out;
        size_t n;
};

/* One result line: {"type":"test","target","suite","name","event"[,"message"]}. */
static int
add_line(struct pm_strbuf *out, const char *target, const char *suite, const char *name,
         const char *event, const char *message)
{
        cJSON *o = cJSON_CreateObject();
        char *msg = message ? pm_utf8_clip(message, MAX_MESSAGE) : NULL;
        char *s_target = pm_utf8_clip(target, PM_BAZEL_MAX_LABEL);
        char *s_suite = pm_utf8_clip(suite, PM_BAZEL_MAX_LABEL);
        char *s_name = pm_utf8_clip(name, PM_BAZEL_MAX_LABEL);
        char *text = NULL;
        int r = -ENOMEM;

        if (!o || (message && !msg) || !s_target || !s_suite || !s_name)
                goto out;
        if (!cJSON_AddStringToObject(o, "type", "test") ||
            !cJSON_AddStringToObject(o, "target", s_target) ||
            !cJSON_AddStringToObject(o, "suite", s_suite) ||
            !cJSON_AddStringToObject(o, "name", s_name) ||
            !cJSON_AddStringToObject(o, "event", event) ||
            (msg && !cJSON_AddStringToObject(o, "message", msg)))
                goto out;
        text = cJSON_PrintUnformatted(o);
        if (text && pm_strbuf_adds(out, text) == 0 && pm_strbuf_addch(out, '\n') == 0)
                r = 0;
out:
        cJSON_free(text);
        cJSON_Delete(o);
        pm_free(msg);
        pm_free(s_target);
        pm_free(s_suite);
        pm_free(s_name);
        return r;
}

static int
on_case(void *ud, const struct pm__junit_case *c)
{
        struct lines *l = ud;
        const char *event = c->outcome == PM__JUNIT_OK       ? "ok"
                            : c->outcome == PM__JUNIT_FAILED ? "failed"
                                                             : "ignored";
        char *name = NULL;
        int r;

        l->n++;
        /* JUnit's class and method, as "Class.method" (Bazel's own test.xml has no class). */
        if (c->classname && *c->classname) {
                name = pm_asprintf("%s.%s", c->classname, c->name);
                if (!name)
                        return -ENOMEM;
        }
        r = add_line(l->out, l->target, c->suite, name ? name : c->name, event, c->message);
        pm_free(name);
        return r;
}

static const cJSON *
get(const cJSON *o, const char *key)
{
        return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* The output @name (test.xml, test.log) of a testResult event, as an absolute path (borrowed),
 * or NULL. */
static const char *
output_of(const cJSON *result, const char *name)
{
        const cJSON *out;

        cJSON_ArrayForEach(out, get(result, "testActionOutput"))
        {
                const cJSON *n = get(out, "name"), *uri = get(out, "uri");

                if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsString(uri) &&
                    strncmp(uri->valuestring, "file://", 7) == 0 &&
                    pm_path_is_absolute(uri->valuestring + 7))
                        return uri->valuestring + 7;
        }
        return NULL;
}

/*
 * The lines of one target: its test.xml's cases, unless that has at most one case (rules_rust's:
 * one for the whole target) and the test log @log (or NULL) holds libtest's result lines, one per
 * #[test]: then those, each of the target. Bazel writes both files; an unreadable log is no log.
 */
static int
per_test(struct lines *l, const char *xml, size_t xml_len, const char *xml_path, const char *log,
         struct pm_error *err)
{
        struct pm_strbuf from_xml = PM_STRBUF_INIT, text = PM_STRBUF_INIT;
        struct pm_strbuf *out = l->out;
        size_t n_log = 0;
        int r;

        l->n = 0;
        l->out = &from_xml;
        r = pm__junit_read(xml, xml_len, xml_path, on_case, l, err);
        l->out = out;
        if (r < 0)
                goto out;
        if (l->n <= 1 && log && pm_strbuf_read_file(&text, log, MAX_XML, NULL) == 0) {
                r = pm__libtest_log_read(text.buf ? text.buf : "", text.len, on_case, l, &n_log);
                if (r < 0) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                if (n_log > 0)
                        goto out; /* libtest's cases are in @out; the xml's one is not */
        }
        if (from_xml.len && pm_strbuf_add(out, from_xml.buf, from_xml.len) < 0)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_strbuf_release(&text);
        pm_strbuf_release(&from_xml);
        return r;
}

int
pm__bazel_test_parse(const struct pm_query *q, const struct pm_blob *outputs, size_t n_outputs,
                     struct pm_strbuf *ret_lines, struct pm_error *err)
{
        struct pm_strbuf xml = PM_STRBUF_INIT;
        cJSON **ev = NULL;
        size_t n = 0;
        int r;

        (void)q;
        if (n_outputs < 1)
                return pm_error_set(err, PM_EBADTOOLOUTPUT, "bazel test: no build event file");
        r = pm__bazel_events_read(&outputs[0], &ev, &n, err);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const cJSON *id = get(get(ev[i], "id"), "testResult");
                const cJSON *label = get(id, "label");
                const cJSON *result = get(ev[i], "testResult");
                const cJSON *status = get(result, "status");
                struct lines l;
                const char *path;

                if (!cJSON_IsString(label) || !cJSON_IsObject(result))
                        continue;
                l.target = label->valuestring;
                l.out = ret_lines;
                path = output_of(result, "test.xml");
                pm_strbuf_reset(&xml);
                /* No test.xml (a test that did not run to the end): Bazel's status alone. */
                if (!path || pm_strbuf_read_file(&xml, path, MAX_XML, NULL) < 0) {
                        bool passed = cJSON_IsString(status) &&
                                      strcmp(status->valuestring, "PASSED") == 0;
                        char *why = pm_asprintf("bazel reported %s and no readable test.xml",
                                                cJSON_IsString(status) ? status->valuestring
                                                                       : "no status");

                        r = why ? add_line(ret_lines, l.target, "", l.target,
                                           passed ? "ok" : "failed", passed ? NULL : why)
                                : -ENOMEM;
                        pm_free(why);
                        if (r < 0)
                                r = pm_error_set(err, -ENOMEM, "out of memory");
                        continue;
                }
                r = per_test(&l, xml.buf ? xml.buf : "", xml.len, path,
                             output_of(result, "test.log"), err);
        }
        for (size_t i = 0; i < n; i++)
                cJSON_Delete(ev[i]);
        pm_free(ev);
        pm_strbuf_release(&xml);
        return r;
}
