/* SPDX-License-Identifier: MIT */
/* Malformed GN output: each case fails with PM_EBADTOOLOUTPUT (or PM_ELIMIT) and a one-line
 * message naming the file and, where there is one, the target. */
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "gn-test.h"
#include "testlib.h"

/* A project.json whose target //x:y has the properties @props. */
static void
expect_bad(const char *props, const char *label, const char *what)
{
        struct gn_fx fx;
        char *doc;
        int r;

        gn_fx_init(&fx, NULL);
        doc = pm_test_strf("{\"build_settings\": {\"build_dir\": \"//out/\"},"
                           " \"targets\": {\"//ok:ok\": {\"type\": \"rust_library\","
                           " \"crate_name\": \"ok\", \"crate_root\": \"//ok/lib.rs\"},"
                           " \"%s\": {%s}}}",
                           label, props);
        r = gn_fx_parse(&fx, doc, true);
        cr_assert_eq(r, PM_EBADTOOLOUTPUT, "%s: got %d (%s)", props, r, fx.err.msg);
        cr_assert(strstr(fx.err.msg, fx.origin), "no file in '%s'", fx.err.msg);
        cr_assert_str_eq(fx.err.file, fx.origin);
        if (label[0] == '/')
                cr_assert(strstr(fx.err.msg, label), "no label in '%s'", fx.err.msg);
        cr_assert(strstr(fx.err.msg, what), "'%s' not in '%s'", what, fx.err.msg);
        cr_assert_null(strchr(fx.err.msg, '\n'));
        cr_assert_null(fx.g);
        pm_free(doc);
        gn_fx_release(&fx);
}

#define LIB "\"type\": \"rust_library\", \"crate_name\": \"y\", "

Test(gn_bad_input, deps_not_an_array)
{
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"deps\": \"//ok:ok\"", "//x:y", "deps");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"deps\": [3]", "//x:y", "deps");
        expect_bad("\"type\": \"group\", \"deps\": {}", "//x:y", "deps");
}

Test(gn_bad_input, crate_root_not_a_string)
{
        expect_bad(LIB "\"crate_root\": 7", "//x:y", "crate_root");
        expect_bad("\"type\": \"executable\", \"crate_name\": \"y\", \"crate_root\": [\"//a\"]",
                   "//x:y", "crate_root");
}

Test(gn_bad_input, rust_target_without_crate_root)
{
        expect_bad(LIB "\"sources\": [\"//x/lib.rs\"]", "//x:y", "crate_root");
        expect_bad(
                "\"type\": \"rust_proc_macro\", \"crate_name\": \"y\", \"outputs\": [\"//o/y.so\"]",
                "//x:y", "crate_root");
}

Test(gn_bad_input, crate_root_not_source_absolute)
{
        expect_bad(LIB "\"crate_root\": \"x/lib.rs\"", "//x:y", "crate_root");
        expect_bad(LIB "\"crate_root\": \"\"", "//x:y", "crate_root");
}

Test(gn_bad_input, other_properties_of_the_wrong_type)
{
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"sources\": [\"lib.rs\"]", "//x:y",
                   "sources");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"rustflags\": \"--cfg=a\"", "//x:y",
                   "rustflags");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"rustenv\": [1]", "//x:y", "rustenv");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"outputs\": {}", "//x:y", "outputs");
        expect_bad("\"type\": \"rust_library\", \"crate_root\": \"//x/lib.rs\"", "//x:y",
                   "crate_name");
        expect_bad("\"type\": 1", "//x:y", "type");
        expect_bad("\"type\": \"rust_proc_macro\", \"crate_name\": \"y\","
                   " \"crate_root\": \"//x/lib.rs\"",
                   "//x:y", "outputs");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"rustflags\": [\"--edition=2027\"]",
                   "//x:y", "2027");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\", \"rustflags\": [\"--cfg\"]", "//x:y",
                   "--cfg");
}

Test(gn_bad_input, labels_that_are_not_labels)
{
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\"", "x:y", "x:y");
        expect_bad(LIB "\"crate_root\": \"//x/lib.rs\"", "", "label");
}

static void
expect_bad_doc(const char *doc, const char *what)
{
        struct gn_fx fx;
        int r;

        gn_fx_init(&fx, NULL);
        r = gn_fx_parse(&fx, doc, true);
        cr_assert_eq(r, PM_EBADTOOLOUTPUT, "%s: got %d (%s)", doc, r, fx.err.msg);
        cr_assert(strstr(fx.err.msg, fx.origin), "no file in '%s'", fx.err.msg);
        cr_assert(strstr(fx.err.msg, what), "'%s' not in '%s'", what, fx.err.msg);
        gn_fx_release(&fx);
}

Test(gn_bad_input, broken_documents)
{
        expect_bad_doc("{\"targets\": {\"//a:a\": {\"type\": \"rust_lib", "invalid JSON");
        expect_bad_doc("", "empty");
        expect_bad_doc("[1, 2]", "not a JSON object");
        expect_bad_doc("{\"targets\": []}", "targets");
        expect_bad_doc("{\"build_settings\": {}}", "targets");
        expect_bad_doc("{\"build_settings\": [], \"targets\": {}}", "build_settings");
        expect_bad_doc("{\"build_settings\": {\"build_dir\": \"out\"}, \"targets\": {}}",
                       "build_dir");
        expect_bad_doc("{\"build_settings\": {\"gen_input_files\": [\"BUILD.gn\"]},"
                       " \"targets\": {}}",
                       "gen_input_files");
        expect_bad_doc("{\"targets\": {}} trailing", "trailing");
        expect_bad_doc("{\"targets\": {\"//a:a\": {\"type\": \"group\"},"
                       " \"//a:a\": {\"type\": \"group\"}}}",
                       "twice");
}

Test(gn_bad_input, sizes_over_the_limits)
{
        struct gn_fx fx;
        char *label, *doc;

        /* a label longer than any path */
        gn_fx_init(&fx, NULL);
        label = pm_calloc(1, 5000);
        memset(label, 'a', 4999);
        memcpy(label, "//", 2);
        doc = pm_test_strf("{\"targets\": {\"%s\": {\"type\": \"group\"}}}", label);
        cr_assert_eq(gn_fx_parse(&fx, doc, true), PM_EBADTOOLOUTPUT);
        pm_free(doc);
        pm_free(label);
        gn_fx_release(&fx);

        /* more bytes than max_tool_output */
        gn_fx_init(&fx, NULL);
        fx.cfg->max_tool_output = 16;
        cr_assert_eq(gn_fx_parse(&fx, "{\"targets\": {}, \"build_settings\": {}}", true),
                     PM_ELIMIT);
        cr_assert(strstr(fx.err.msg, fx.origin));
        gn_fx_release(&fx);
}

Test(gn_bad_input, unknown_dependency_is_a_warning_not_an_error)
{
        struct gn_fx fx;

        gn_fx_init(&fx, NULL);
        cr_assert_eq(gn_fx_parse(&fx,
                                 "{\"targets\": {\"//a:a\": {\"type\": \"rust_library\","
                                 " \"crate_name\": \"a\", \"crate_root\": \"//a/lib.rs\","
                                 " \"deps\": [\"//gone:gone\"], \"rustenv\": [\"NOEQ\"]}}}",
                                 true),
                     0, "%s", fx.err.msg);
        cr_assert_eq(gn_fx_crate(&fx, "//a:a")->n_deps, 0);
        cr_assert(gn_graph_has_warning(fx.g, "//gone:gone"));
        cr_assert(gn_graph_has_warning(fx.g, "NOEQ"));
        gn_fx_release(&fx);
}

/*
 * A warning never ends inside a UTF-8 character: a rustenv entry quoted up to 200 bytes keeps
 * its whole characters only ("NOEQ" and 65 three-byte ones, where a plain cut split the 66th),
 * and a warning longer than PM_WARNING_MAX (graph.h) is cut before a whole character with
 * "...", as every command prints it (a plain 1024-byte buffer split the 2-byte characters).
 */
Test(gn_bad_input, a_warning_is_cut_on_a_character)
{
        struct pm_strbuf entry = PM_STRBUF_INIT, want = PM_STRBUF_INIT, label = PM_STRBUF_INIT;
        struct gn_fx fx;
        char *doc;

        cr_assert_eq(pm_strbuf_adds(&entry, "NOEQ"), 0);
        for (int i = 0; i < 100; i++)
                cr_assert_eq(pm_strbuf_adds(&entry, "\xe2\x82\xac"), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "target '//a:a': rustenv entry 'NOEQ"), 0);
        for (int i = 0; i < 65; i++)
                cr_assert_eq(pm_strbuf_adds(&want, "\xe2\x82\xac"), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "' is not KEY=VALUE, ignoring"), 0);
        gn_fx_init(&fx, NULL);
        doc = pm_test_strf("{\"targets\": {\"//a:a\": {\"type\": \"rust_library\", \"crate_name\":"
                           " \"a\", \"crate_root\": \"//a/lib.rs\", \"rustenv\": [\"%s\"]}}}",
                           entry.buf);
        cr_assert_eq(gn_fx_parse(&fx, doc, true), 0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->warnings.n, 1);
        cr_assert_str_eq(fx.g->warnings.v[0], want.buf);
        pm_free(doc);
        gn_fx_release(&fx);

        /* 600 bytes of 2-byte characters in the target's name: 479 bytes, 232 of them. */
        pm_strbuf_reset(&label);
        cr_assert_eq(pm_strbuf_adds(&label, "//a:"), 0);
        for (int i = 0; i < 300; i++)
                cr_assert_eq(pm_strbuf_adds(&label, "\xc3\xa9"), 0);
        pm_strbuf_reset(&want);
        cr_assert_eq(pm_strbuf_adds(&want, "target '//a:"), 0);
        for (int i = 0; i < 232; i++)
                cr_assert_eq(pm_strbuf_adds(&want, "\xc3\xa9"), 0);
        cr_assert_eq(pm_strbuf_adds(&want, "..."), 0);
        cr_assert_eq(want.len, PM_WARNING_MAX - 1);
        gn_fx_init(&fx, NULL);
        doc = pm_test_strf("{\"targets\": {\"%s\": {\"type\": \"rust_library\", \"crate_name\":"
                           " \"a\", \"crate_root\": \"//a/lib.rs\", \"deps\": [\"//gone:gone\"]}}}",
                           label.buf);
        cr_assert_eq(gn_fx_parse(&fx, doc, true), 0, "%s", fx.err.msg);
        cr_assert_eq(fx.g->warnings.n, 1);
        cr_assert_str_eq(fx.g->warnings.v[0], want.buf);
        pm_free(doc);
        gn_fx_release(&fx);
        pm_strbuf_release(&entry);
        pm_strbuf_release(&want);
        pm_strbuf_release(&label);
}
