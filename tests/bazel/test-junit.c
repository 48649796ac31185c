/* SPDX-License-Identifier: MIT */
/* Unit tests: the JUnit XML reader (adapters/bazel/junit.c) on test.xml files captured from the
 * real bazel 4.2.3 (tests/bazel/data/junit/: a passing and a failing rust_test of
 * examples/bazel-monorepo), on the rest of the subset it accepts and on malformed input; and the
 * adapter's test_parse, from a build event file naming a captured test.xml. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "adapters/bazel/bazel-internal.h"
#include "testlib.h"

#define MAX_CASES 16

/* What the reader handed over, copied. */
struct seen {
        size_t n;

        struct {
                char *suite, *name, *classname, *message;
                enum pm__junit_outcome outcome;
        } c[MAX_CASES];
};

static int
collect(void *ud, const struct pm__junit_case *c)
{
        struct seen *s = ud;

        cr_assert_lt(s->n, MAX_CASES);
        cr_assert(c->suite && c->name);
        s->c[s->n].suite = pm_strdup(c->suite);
        s->c[s->n].name = pm_strdup(c->name);
        s->c[s->n].classname = c->classname ? pm_strdup(c->classname) : NULL;
        s->c[s->n].message = c->message ? pm_strdup(c->message) : NULL;
        s->c[s->n].outcome = c->outcome;
        s->n++;
        return 0;
}

static void
seen_free(struct seen *s)
{
        for (size_t i = 0; i < s->n; i++) {
                pm_free(s->c[i].suite);
                pm_free(s->c[i].name);
                pm_free(s->c[i].classname);
                pm_free(s->c[i].message);
        }
        s->n = 0;
}

static int
read_text(const char *xml, struct seen *s, struct pm_error *err)
{
        pm_error_init(err);
        return pm__junit_read(xml, strlen(xml), "test.xml", collect, s, err);
}

static char *
data_file(const char *name)
{
        return pm_test_strf("%s/tests/bazel/data/junit/%s", pm_test_source_root(), name);
}

/* Read the captured test.xml @name (tests/bazel/data/junit/) into @s; asserts it is accepted. */
static void
read_captured(const char *name, struct seen *s)
{
        char *path = data_file(name);
        char *xml = pm_test_read_file(path);
        struct pm_error err;

        cr_assert(xml, "cannot read %s", path);
        pm_error_init(&err);
        cr_assert_eq(pm__junit_read(xml, strlen(xml), path, collect, s, &err), 0, "%s", err.msg);
        pm_free(xml);
        pm_free(path);
}

Test(junit, bazel_passed_test_xml)
{
        struct seen s = { 0 };

        read_captured("passed.xml", &s);
        cr_assert_eq(s.n, 1);
        cr_assert_str_eq(s.c[0].suite, "lib/engine/engine_test");
        cr_assert_str_eq(s.c[0].name, "lib/engine/engine_test");
        cr_assert_null(s.c[0].classname);
        cr_assert_eq(s.c[0].outcome, PM__JUNIT_OK);
        cr_assert_null(s.c[0].message);
        seen_free(&s);
}

Test(junit, bazel_failed_test_xml)
{
        struct seen s = { 0 };

        read_captured("failed.xml", &s);
        cr_assert_eq(s.n, 1);
        cr_assert_str_eq(s.c[0].name, "tests/integration/integration");
        cr_assert_eq(s.c[0].outcome, PM__JUNIT_FAILED);
        cr_assert_str_eq(s.c[0].message, "exited with error code 101");
        seen_free(&s);
}

Test(junit, the_subset)
{
        struct seen s = { 0 };
        struct pm_error err;
        const char *xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE testsuites>\n<!-- a <comment> -->\n"
                          "<testsuites name='all'>\n"
                          " <testsuite name=\"a &amp; b\" tests=\"5\">\n"
                          "  <properties><property name=\"k\" value=\"v\"/></properties>\n"
                          "  <testcase classname=\"mod::tests\" name=\"it &lt;works&gt;\"/>\n"
                          "  <testcase name=\"fails\" time='0.1'>\n"
                          "   <failure message=\"left &quot;1&quot; &apos;2&apos; &#233; "
                          "&#x1F600;\" type=\"panic\">trace</failure>\n"
                          "   <system-out><![CDATA[a </testcase> in CDATA]]></system-out>\n"
                          "  </testcase>\n"
                          "  <testcase name=\"errs\"><error><![CDATA[  line <1>\n]]>&amp; "
                          "more </error></testcase>\n"
                          "  <testcase name=\"skip\"><skipped/></testcase>\n"
                          "  <testcase name=\"both\"><skipped message=\"later\"/>"
                          "<failure message=\"first failure\"/><failure message=\"second\"/>"
                          "</testcase>\n"
                          " </testsuite>\n"
                          " <testsuite name=\"second\"><testcase name=\"x\"></testcase>"
                          "</testsuite>\n"
                          "</testsuites>\n";

        cr_assert_eq(read_text(xml, &s, &err), 0, "%s", err.msg);
        cr_assert_eq(s.n, 6);
        cr_assert_str_eq(s.c[0].suite, "a & b");
        cr_assert_str_eq(s.c[0].classname, "mod::tests");
        cr_assert_str_eq(s.c[0].name, "it <works>");
        cr_assert_eq(s.c[0].outcome, PM__JUNIT_OK);
        cr_assert_str_eq(s.c[1].name, "fails");
        cr_assert_eq(s.c[1].outcome, PM__JUNIT_FAILED);
        cr_assert_str_eq(s.c[1].message, "left \"1\" '2' \xc3\xa9 \xf0\x9f\x98\x80");
        cr_assert_null(s.c[1].classname);
        /* No message attribute: the text, CDATA and entities, trimmed. */
        cr_assert_eq(s.c[2].outcome, PM__JUNIT_FAILED);
        cr_assert_str_eq(s.c[2].message, "line <1>\n& more");
        cr_assert_eq(s.c[3].outcome, PM__JUNIT_SKIPPED);
        cr_assert_null(s.c[3].message);
        /* A failure outranks a skip; the first failure's message stays. */
        cr_assert_eq(s.c[4].outcome, PM__JUNIT_FAILED);
        cr_assert_str_eq(s.c[4].message, "first failure");
        cr_assert_str_eq(s.c[5].suite, "second");
        cr_assert_str_eq(s.c[5].name, "x");
        seen_free(&s);
}

Test(junit, malformed_input_names_the_file)
{
        static const char *const bad[] = {
                "",
                "   ",
                "<testsuites><testcase name=\"a &nbsp; b\"/></testsuites>",
                "<testsuites><testcase name=\"&#0;\"/></testsuites>",
                "<testsuites><testcase name=\"&#xD800;\"/></testsuites>",
                "<testsuites><testcase name=\"&#99999999999;\"/></testsuites>",
                "<testsuites><testcase name=\"&amp\"/></testsuites>",
                "<testsuites><testsuite></testcase></testsuites>",
                "<testsuites><testsuite>",
                "<testsuites><![CDATA[never closed</testsuites>",
                "<testsuites><!-- never closed </testsuites>",
                "<testsuites name=unquoted/>",
                "<testsuites name=\"a<b\"/>",
                "<testsuites name/>",
                "<testsuites/><testsuites/>",
                "text<testsuites/>",
                "<testsuites/>text",
                "<testsuites/><![CDATA[x]]>",
                "< testsuites/>",
                "<testsuites><testcase name=\"x\"",
                "<testsuites>&unknown;</testsuites>",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct seen s = { 0 };
                struct pm_error err;
                int r = read_text(bad[i], &s, &err);

                cr_assert_eq(r, PM_EBADTOOLOUTPUT, "'%s' gave %d", bad[i], r);
                cr_assert_str_eq(err.file, "test.xml", "'%s'", bad[i]);
                cr_assert(strstr(err.msg, "not a JUnit XML file: "), "'%s': %s", bad[i], err.msg);
                seen_free(&s);
        }
}

Test(junit, deep_nesting_is_refused)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct seen s = { 0 };
        struct pm_error err;

        for (int i = 0; i < 100; i++)
                cr_assert_eq(pm_strbuf_adds(&sb, "<a>"), 0);
        cr_assert_eq(read_text(sb.buf, &s, &err), PM_EBADTOOLOUTPUT);
        cr_assert(strstr(err.msg, "nested too deep"), "%s", err.msg);
        pm_strbuf_release(&sb);
}

/* The bazel adapter's test_parse of the build events @events gives exactly the lines @want. */
static void
assert_test_parse(const char *events, const char *want)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("bazel");
        struct pm_blob blob = { .data = events, .len = strlen(events), .origin = "events.json" };
        struct pm_strbuf lines = PM_STRBUF_INIT;
        struct pm_error err;

        cr_assert(ops && ops->test_parse);
        pm_error_init(&err);
        cr_assert_eq(ops->test_parse(NULL, &blob, 1, &lines, &err), 0, "%s", err.msg);
        cr_assert_str_eq(lines.buf, want);
        pm_strbuf_release(&lines);
}

/* The adapter's test_parse: the build events name the test.xml of each test target. */
Test(junit, test_parse_reads_the_test_xml_the_build_events_name)
{
        char *passed = data_file("passed.xml"), *failed = data_file("failed.xml");
        char *events = pm_test_strf(
                "{\"id\":{\"started\":{}},\"started\":{}}\n"
                "{\"id\":{\"testResult\":{\"label\":\"//lib/engine:engine_test\",\"run\":1}},"
                "\"testResult\":{\"testActionOutput\":[{\"name\":\"test.log\",\"uri\":"
                "\"file:///nonexistent/test.log\"},{\"name\":\"test.xml\",\"uri\":\"file://%s\"}],"
                "\"status\":\"PASSED\"}}\n"
                "{\"id\":{\"testResult\":{\"label\":\"//tests/integration:integration\"}},"
                "\"testResult\":{\"testActionOutput\":[{\"name\":\"test.xml\",\"uri\":\"file://%s\"}],"
                "\"status\":\"FAILED\"}}\n"
                "{\"id\":{\"testResult\":{\"label\":\"//t:timed_out\"}},"
                "\"testResult\":{\"status\":\"TIMEOUT\"}}\n",
                passed, failed);

        assert_test_parse(
                events,
                "{\"type\":\"test\",\"target\":\"//lib/engine:engine_test\",\"suite\":"
                "\"lib/engine/engine_test\",\"name\":\"lib/engine/engine_test\",\"event\":\"ok\"}\n"
                "{\"type\":\"test\",\"target\":\"//tests/integration:integration\",\"suite\":"
                "\"tests/integration/integration\",\"name\":\"tests/integration/integration\","
                "\"event\":\"failed\",\"message\":\"exited with error code 101\"}\n"
                "{\"type\":\"test\",\"target\":\"//t:timed_out\",\"suite\":\"\",\"name\":"
                "\"//t:timed_out\",\"event\":\"failed\",\"message\":\"bazel reported TIMEOUT and no "
                "readable test.xml\"}\n");
        pm_free(events);
        pm_free(passed);
        pm_free(failed);
}

/* libtest's lines in a test log: one case per #[test], a failure's own output as its message;
 * the summary, benchmark and look-alike lines are not cases. */
Test(junit, libtest_log_lines_are_the_cases)
{
        static const char log[] =
                "running 5 tests\n"
                "test a::passes ... ok\n"
                "test a::fails ... FAILED\n"
                "test a::skipped ... ignored\n"
                "test a::slow ... ignored, needs the network\n"
                "test a::bench ... bench:         12 ns/iter (+/- 1)\n"
                "test of nothing\n"
                "\nfailures:\n\n---- a::fails stdout ----\n\nthread 'a::fails' panicked at x.rs:3:5:\n"
                "boom\n\n\nfailures:\n    a::fails\n\n"
                "test result: FAILED. 1 passed; 1 failed; 2 ignored; 0 measured; 0 filtered out\n";
        struct seen s = { 0 };
        size_t n = 99;

        cr_assert_eq(pm__libtest_log_read(log, strlen(log), collect, &s, &n), 0);
        cr_assert_eq(n, 4);
        cr_assert_eq(s.n, 4);
        cr_assert_str_eq(s.c[0].name, "a::passes");
        cr_assert_eq(s.c[0].outcome, PM__JUNIT_OK);
        cr_assert_null(s.c[0].message);
        cr_assert_str_eq(s.c[1].name, "a::fails");
        cr_assert_eq(s.c[1].outcome, PM__JUNIT_FAILED);
        cr_assert_str_eq(s.c[1].message, "thread 'a::fails' panicked at x.rs:3:5:\nboom");
        cr_assert_str_eq(s.c[2].name, "a::skipped");
        cr_assert_eq(s.c[2].outcome, PM__JUNIT_SKIPPED);
        cr_assert_null(s.c[2].message);
        cr_assert_str_eq(s.c[3].message, "needs the network");
        for (size_t i = 0; i < s.n; i++)
                cr_assert_str_eq(s.c[i].suite, "");
        seen_free(&s);
        /* A last line cut after "ignored,", in a copy with no terminator: the reader stays
         * inside the buffer (GCC inlines the 2-byte memcmp, so ASan cannot see a read past
         * it), and the line is not a case. */
        {
                static const char cut[] = "test a::x ... ignored,";
                char *buf = malloc(sizeof(cut) - 1);

                cr_assert_not_null(buf);
                memcpy(buf, cut, sizeof(cut) - 1);
                cr_assert_eq(pm__libtest_log_read(buf, sizeof(cut) - 1, collect, &s, &n), 0);
                cr_assert_eq(n, 0);
                free(buf);
        }
        /* Nothing of libtest's: no case. */
        cr_assert_eq(pm__libtest_log_read("test result: ok.\n", 17, collect, &s, &n), 0);
        cr_assert_eq(n, 0);
        cr_assert_eq(s.n, 0);
}

/*
 * rules_rust's test.xml has one case for the whole target: the test.log the build events name
 * beside it gives one line per #[test] instead (captured from the example's real bazel test).
 */
Test(junit, test_parse_reads_each_test_of_the_test_log)
{
        char *passed = data_file("passed.xml"), *failed = data_file("failed.xml");
        char *passed_log = data_file("passed.log"), *failed_log = data_file("failed.log");
        char *events = pm_test_strf(
                "{\"id\":{\"testResult\":{\"label\":\"//lib/engine:engine_test\",\"run\":1}},"
                "\"testResult\":{\"testActionOutput\":[{\"name\":\"test.log\",\"uri\":"
                "\"file://%s\"},{\"name\":\"test.xml\",\"uri\":\"file://%s\"}],"
                "\"status\":\"PASSED\"}}\n"
                "{\"id\":{\"testResult\":{\"label\":\"//tests/integration:integration\"}},"
                "\"testResult\":{\"testActionOutput\":[{\"name\":\"test.xml\",\"uri\":\"file://%s\"},"
                "{\"name\":\"test.log\",\"uri\":\"file://%s\"}],\"status\":\"FAILED\"}}\n",
                passed_log, passed, failed, failed_log);

        assert_test_parse(
                events,
                "{\"type\":\"test\",\"target\":\"//lib/engine:engine_test\",\"suite\":\"\","
                "\"name\":\"tests::describes_itself\",\"event\":\"ok\"}\n"
                "{\"type\":\"test\",\"target\":\"//lib/engine:engine_test\",\"suite\":\"\","
                "\"name\":\"tests::same_job_same_worker\",\"event\":\"ok\"}\n"
                "{\"type\":\"test\",\"target\":\"//tests/integration:integration\",\"suite\":\"\","
                "\"name\":\"fails\",\"event\":\"failed\",\"message\":\"thread 'fails' (16) "
                "panicked at tests/integration/lib.rs:8:5:\\nassertion `left == right` failed: a "
                "<b> & \\\"c\\\"\\n  left: 1\\n right: 2\\nnote: run with `RUST_BACKTRACE=1` "
                "environment variable to display a backtrace\"}\n");
        pm_free(events);
        pm_free(failed_log);
        pm_free(passed_log);
        pm_free(passed);
        pm_free(failed);
}
