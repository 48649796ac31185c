/* SPDX-License-Identifier: MIT */
/* Tests for the gn adapter's incremental parsing (gn-incremental.c): the span scanner, the
 * fingerprints, and partial graphs checked against a full parse of the same output. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"

#include "adapters/gn/gn-internal.h"
#include "gn-test.h"
#include "testlib.h"

/* ---- the scanner ---- */

static int
scan(const char *doc, struct pm__gn_scan *ret)
{
        size_t off = 0;

        return pm__gn_scan(doc, strlen(doc), ret, &off);
}

static bool
span_is(const char *p, size_t len, const char *want)
{
        return p && len == strlen(want) && memcmp(p, want, len) == 0;
}

Test(gn_incremental, scanner_finds_each_target_span_across_escapes_and_nesting)
{
        static const char doc[] =
                "\xEF\xBB\xBF {\"toolchains\": {\"targets\": 1},\n"
                " \"build_settings\": {\"build_dir\": \"//out/\", \"x\": [1, -2.5e+3, true, null]},\n"
                " \"targets\": {\n"
                "  \"//a:a\": {\"type\": \"rust_library\", \"q\": \"}{\\\"][\\\\\",\n"
                "   \"metadata\": {\"m\": [{\"deps\": \"not these\"}, \"\\u00e9\\ud83d\\ude00\"]},\n"
                "   \"deps\": [\"//b:b\"], \"deps\": [\"//second:ignored\"]},\n"
                "  \"//b:b\": {}\n"
                " }, \"targets\": {\"//c:c\": {}}}\n";
        struct pm__gn_scan s;

        cr_assert_eq(scan(doc, &s), 0);
        cr_assert(s.ide);
        cr_assert_not(s.unsure);
        cr_assert_eq(s.n, 2, "only the first 'targets' counts, as for cJSON");
        cr_assert(span_is(s.v[0].key, s.v[0].key_len, "//a:a"));
        cr_assert_eq(s.v[0].value[0], '{');
        cr_assert_eq(s.v[0].value[s.v[0].value_len - 1], '}');
        cr_assert(span_is(s.v[0].prop[PM__GN_PROP_TYPE], s.v[0].prop_len[PM__GN_PROP_TYPE],
                          "\"rust_library\""));
        cr_assert(span_is(s.v[0].prop[PM__GN_PROP_DEPS], s.v[0].prop_len[PM__GN_PROP_DEPS],
                          "[\"//b:b\"]"),
                  "the first top-level 'deps', not a nested or later one");
        cr_assert_null(s.v[0].prop[PM__GN_PROP_OUTPUTS]);
        cr_assert(span_is(s.v[1].key, s.v[1].key_len, "//b:b"));
        cr_assert(span_is(s.v[1].value, s.v[1].value_len, "{}"));
        cr_assert(span_is(s.build_dir, s.build_dir_len, "\"//out/\""));
        cr_assert_not_null(s.settings);
        cr_assert_eq(s.settings[0], '{');
        pm__gn_scan_release(&s);
}

Test(gn_incremental, scanner_marks_what_it_does_not_model_as_unsure)
{
        struct pm__gn_scan s;

        /* An escaped key could spell a property name cJSON would match. */
        cr_assert_eq(scan("{\"targets\": {\"//a:a\": {\"d\\u0065ps\": []}}}", &s), 0);
        cr_assert(s.unsure);
        pm__gn_scan_release(&s);
        cr_assert_eq(scan("{\"targets\": {\"//a\\u003ab\": {}}}", &s), 0);
        cr_assert(s.unsure);
        pm__gn_scan_release(&s);
        cr_assert_eq(scan("{\"targets\": {\"//a:a\": []}}", &s), 0);
        cr_assert(s.unsure, "a target that is not an object");
        pm__gn_scan_release(&s);
        cr_assert_eq(scan("{\"targets\": []}", &s), 0);
        cr_assert(s.unsure);
        cr_assert_not(s.ide);
        pm__gn_scan_release(&s);
        /* gn desc output: no target map. */
        cr_assert_eq(scan("{\"//a:a\": {\"type\": \"group\"}}", &s), 0);
        cr_assert_not(s.ide);
        pm__gn_scan_release(&s);
}

Test(gn_incremental, scanner_rejects_malformed_json)
{
        static const char *const bad[] = {
                "",
                "{",
                "{\"targets\": {\"//a:a\": {\"type\": \"group\"}}",
                "{\"targets\": {\"//a:a\": {\"type\": \"gr\toup\"}}}",
                "{\"targets\": {\"//a:a\": {\"type\": \"\\x\"}}}",
                "{\"targets\": {\"//a:a\": {\"type\": \"\\ud800\"}}}",
                "{\"targets\": {\"//a:a\": {\"n\": 01}}}",
                "{\"targets\": {\"//a:a\": {\"n\": tru}}}",
                "{\"targets\": {\"//a:a\" {}}}",
                "{\"targets\": {\"//a:a\": {},}}",
                "{\"targets\": {}} {}",
                "{\"targets\": {}} x",
                "{\"targets\":",
                "{\"targets\": {\"//a:a\":",
                "{\"build_settings\":",
                "{\"targets\": {\"//a:a\": {\"deps\": [\"//b",
        };
        struct pm__gn_scan s;
        size_t off;
        char *deep;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                size_t len = strlen(bad[i]);
                /* Exactly the bytes, no NUL after them: ASan sees any read past the end. */
                char *copy = pm_malloc(len ? len : 1);

                cr_assert_not_null(copy);
                memcpy(copy, bad[i], len);
                off = 0;
                cr_assert_eq(pm__gn_scan(copy, len, &s, &off), PM_EBADTOOLOUTPUT, "accepted '%s'",
                             bad[i]);
                cr_assert_leq(off, len);
                pm__gn_scan_release(&s);
                pm_free(copy);
        }
        deep = pm_malloc(2 * 300 + 1);
        cr_assert_not_null(deep);
        memset(deep, '[', 300);
        memset(deep + 300, ']', 300);
        deep[600] = '\0';
        cr_assert_eq(pm__gn_scan(deep, 600, &s, &off), PM_ELIMIT);
        pm__gn_scan_release(&s);
        pm_free(deep);
}

/* ---- partial graphs against full parses ---- */

struct doc_opts {
        const char *p_flags; /* //p:p's rustflags */
        const char *grp_deps;
        bool with_c;
        bool with_e;
        const char *gen_inputs; /* build_settings.gen_input_files */
        bool a_public_b;        /* //b:b re-exports //p:p (its ninja file is the tell) */
};

static char *
make_doc(const struct doc_opts *o)
{
        return pm_test_strf(
                "{\"build_settings\": {\"build_dir\": \"//out/\",\n"
                "  \"default_toolchain\": \"//tc:rustc\",\n"
                "  \"gen_input_files\": [%s],\n"
                "  \"root_path\": \"@ROOT@\"},\n"
                " \"targets\": {\n"
                "  \"//:grp\": {\"type\": \"group\", \"deps\": [%s]},\n"
                "  \"//a:a\": {\"type\": \"rust_library\", \"crate_name\": \"a\",\n"
                "    \"crate_root\": \"//a/lib.rs\", \"sources\": [\"//a/lib.rs\"],\n"
                "    \"deps\": [\"//b:b\"], \"outputs\": [\"//out/obj/a/liba.rlib\"]},\n"
                "  \"//a:a_test\": {\"type\": \"executable\", \"crate_name\": \"a_test\",\n"
                "    \"crate_root\": \"//a/lib.rs\", \"rustflags\": [\"--test\"],\n"
                "    \"deps\": [\"//b:b\"], \"outputs\": [\"//out/a_test\"]},\n"
                "  \"//b:b\": {\"type\": \"rust_library\", \"crate_name\": \"b\",\n"
                "    \"crate_root\": \"//b/lib.rs\",\n"
                "    \"deps\": [\"//p:p\"], \"outputs\": [\"//out/obj/b/libb.rlib\"]},\n"
                "%s"
                "  \"//d:d\": {\"type\": \"executable\", \"crate_name\": \"d\",\n"
                "    \"crate_root\": \"//d/main.rs\", \"deps\": [\"//a:a\"],\n"
                "    \"outputs\": [\"//out/d\"]},\n"
                "%s"
                "  \"//p:p\": {\"type\": \"rust_library\", \"crate_name\": \"p\",\n"
                "    \"crate_root\": \"//p/lib.rs\", \"rustflags\": [%s],\n"
                "    \"outputs\": [\"//out/obj/p/libp.rlib\"]}\n"
                " }}\n",
                o->gen_inputs ? o->gen_inputs : "\"//.gn\", \"//BUILD.gn\"",
                o->grp_deps ? o->grp_deps : "\"//p:p\"",
                o->with_c ? "  \"//c:c\": {\"type\": \"rust_library\", \"crate_name\": \"c\",\n"
                            "    \"crate_root\": \"//c/lib.rs\", \"deps\": [\"//:grp\"],\n"
                            "    \"outputs\": [\"//out/obj/c/libc.rlib\"]},\n"
                          : "",
                o->with_e ? "  \"//e:e\": {\"type\": \"rust_library\", \"crate_name\": \"e\",\n"
                            "    \"crate_root\": \"//e/lib.rs\", \"deps\": [\"//a:a\"],\n"
                            "    \"outputs\": [\"//out/obj/e/libe.rlib\"]},\n"
                          : "",
                o->p_flags ? o->p_flags : "");
}

/* The ninja files GN writes next to project.json (the externs lines the parser reads). */
static void
write_ninja(struct gn_fx *fx, const char *a_extern_b, bool b_public_p)
{
        char *a = pm_test_strf("build obj/a/liba.rlib: rust_rlib ../a/lib.rs\n"
                               "  externs = --extern %s=obj/b/libb.rlib%s\n",
                               a_extern_b, b_public_p ? " --extern p=obj/p/libp.rlib" : "");

        gn_fx_write(fx, "out/obj/a/a.ninja", a);
        gn_fx_write(fx, "out/obj/b/b.ninja",
                    "build obj/b/libb.rlib: rust_rlib ../b/lib.rs\n"
                    "  externs = --extern p=obj/p/libp.rlib\n");
        pm_free(a);
}

/* Run the adapter's parse on @tmpl with incremental inputs. */
static int
parse_inc(struct gn_fx *fx, const char *tmpl, const char *const *scope_rel, size_t n_scope,
          const struct pm_kvlist *prev, struct pm_graph **ret)
{
        const struct pm_adapter_ops *ops = pm_adapter_find("gn");
        struct pm_query q = { 0 };
        char *scope[8] = { 0 };
        struct pm_blob blob;
        char *doc = gn_fx_subst(fx, tmpl);
        int r;

        cr_assert_leq(n_scope, 8);
        for (size_t i = 0; i < n_scope; i++)
                scope[i] = gn_fx_path(fx, scope_rel[i]);
        q.config = fx->cfg;
        q.project = &fx->cfg->projects[0];
        q.scope = n_scope ? (const char *const *)scope : NULL;
        q.n_scope = n_scope;
        q.want_fingerprints = true;
        q.previous_fingerprints = prev;
        blob = (struct pm_blob){ .data = doc, .len = strlen(doc), .origin = fx->origin };
        pm_error_init(&fx->err);
        *ret = NULL;
        r = ops->parse(&q, &blob, 1, ret, &fx->err);
        for (size_t i = 0; i < n_scope; i++)
                pm_free(scope[i]);
        pm_free(doc);
        return r;
}

static bool
covers(const struct pm_graph *partial, const char *build_file)
{
        return build_file && pm_strlist_contains(&partial->covered, build_file);
}

/*
 * The partial graph, applied over @old as pm_index_apply() does (crates of covered build files
 * replaced, others kept), must give exactly @full.
 */
static void
check_same_as_full(const struct pm_graph *old, const struct pm_graph *partial,
                   const struct pm_graph *full)
{
        size_t from_partial = 0;

        cr_assert(partial->partial);
        for (size_t i = 0; i < full->n_crates; i++) {
                const struct pm_crate *want = &full->crates[i];
                const struct pm_crate *got = covers(partial, want->build_file)
                                                     ? pm_graph_find(partial, want->label)
                                                     : pm_graph_find(old, want->label);

                cr_assert_not_null(got, "crate '%s' missing after the partial update", want->label);
                cr_assert(pm_crate_equal(got, want), "crate '%s' differs from a full parse",
                          want->label);
                from_partial += covers(partial, want->build_file);
        }
        cr_assert_eq(partial->n_crates, from_partial, "the partial graph has stray crates");
        for (size_t i = 0; i < old->n_crates; i++) {
                const struct pm_crate *c = &old->crates[i];

                if (!pm_graph_find(full, c->label))
                        cr_assert(covers(partial, c->build_file),
                                  "removed crate '%s' is not covered", c->label);
        }
        /* Fingerprints always describe the whole output (the settings entry ends with the
         * parse's start time, which differs). */
        cr_assert_eq(partial->fingerprints.n, full->fingerprints.n);
        for (size_t i = 0; i < full->fingerprints.n; i++) {
                const char *k = full->fingerprints.v[i].key;

                cr_assert_str_eq(partial->fingerprints.v[i].key, k);
                if (strcmp(k, "build_settings") == 0)
                        cr_assert_eq(memcmp(partial->fingerprints.v[i].value,
                                            full->fingerprints.v[i].value, 32),
                                     0);
                else
                        cr_assert_str_eq(partial->fingerprints.v[i].value,
                                         full->fingerprints.v[i].value);
        }
}

struct scenario {
        struct gn_fx fx;
        struct pm_graph *old;     /* full parse of the old output */
        struct pm_graph *full;    /* full parse of the new output */
        struct pm_graph *partial; /* incremental parse of the new output */
};

/* Parse @before fully, then @after both ways, with @scope (relative) as the changed files. */
static void
run_scenario(struct scenario *s, const struct doc_opts *before, const struct doc_opts *after,
             const char *const *scope, size_t n_scope)
{
        char *d0 = make_doc(before), *d1 = make_doc(after);

        cr_assert_eq(parse_inc(&s->fx, d0, NULL, 0, NULL, &s->old), 0, "%s", s->fx.err.msg);
        cr_assert_not(s->old->partial);
        cr_assert_gt(s->old->fingerprints.n, 0);
        cr_assert_eq(parse_inc(&s->fx, d1, NULL, 0, NULL, &s->full), 0, "%s", s->fx.err.msg);
        cr_assert_eq(parse_inc(&s->fx, d1, scope, n_scope, &s->old->fingerprints, &s->partial), 0,
                     "%s", s->fx.err.msg);
        pm_free(d0);
        pm_free(d1);
}

static void
scenario_init(struct scenario *s, const char *a_extern_b, bool b_public_p)
{
        memset(s, 0, sizeof(*s));
        gn_fx_init(&s->fx, NULL);
        write_ninja(&s->fx, a_extern_b, b_public_p);
}

static void
scenario_release(struct scenario *s)
{
        pm_graph_free(s->old);
        pm_graph_free(s->full);
        pm_graph_free(s->partial);
        gn_fx_release(&s->fx);
}

static bool
covered_rel(struct scenario *s, const char *rel)
{
        char *p = gn_fx_path(&s->fx, rel);
        bool found = pm_strlist_contains(&s->partial->covered, p);

        pm_free(p);
        return found;
}

Test(gn_incremental, fingerprints_cover_every_target_sorted_with_the_settings)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true };
        char *doc;
        const struct pm_kvlist *fp;

        scenario_init(&s, "b", false);
        doc = make_doc(&o);
        cr_assert_eq(parse_inc(&s.fx, doc, NULL, 0, NULL, &s.old), 0, "%s", s.fx.err.msg);
        fp = &s.old->fingerprints;
        /* 7 targets and the settings. */
        cr_assert_eq(fp->n, 8);
        for (size_t i = 1; i < fp->n; i++)
                cr_assert_lt(strcmp(fp->v[i - 1].key, fp->v[i].key), 0);
        cr_assert_not_null(pm_kvlist_get(fp, "//:grp"), "groups too");
        cr_assert_not_null(pm_kvlist_get(fp, "//a:a_test"));
        cr_assert_not_null(pm_kvlist_get(fp, "build_settings"));
        cr_assert_eq(strlen(pm_kvlist_get(fp, "//a:a")), 32);
        /* Without want_fingerprints (the one-shot export) nothing is computed. */
        cr_assert_eq(gn_fx_parse(&s.fx, doc, false), 0, "%s", s.fx.err.msg);
        cr_assert_eq(s.fx.g->fingerprints.n, 0);
        pm_free(doc);
        scenario_release(&s);
}

Test(gn_incremental, a_rustflags_change_reparses_only_that_build_file)
{
        struct scenario s;
        struct doc_opts before = { .with_c = true }, after = before;
        const char *scope[] = { "p/BUILD.gn" };

        /* //p:p has no deps of its own: nothing its dependents see can have changed. */
        after.p_flags = "\"--cfg=feature=\\\"x\\\"\", \"--edition=2021\"";
        scenario_init(&s, "b", false);
        run_scenario(&s, &before, &after, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert_eq(s.partial->covered.n, 1);
        cr_assert(covered_rel(&s, "p/BUILD.gn"));
        cr_assert_eq(s.partial->n_crates, 1);
        cr_assert_str_eq(s.partial->crates[0].edition, "2021");
        cr_assert(gn_crate_has_cfg(&s.partial->crates[0], "feature=\"x\""));
        scenario_release(&s);
}

Test(gn_incremental, an_aliased_deps_change_shows_through_the_ninja_file)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true };
        const char *scope[] = { "a/BUILD.gn" };

        scenario_init(&s, "b", false);
        {
                char *d0 = make_doc(&o);

                cr_assert_eq(parse_inc(&s.fx, d0, NULL, 0, NULL, &s.old), 0, "%s", s.fx.err.msg);
                cr_assert(pm_test_crate_has_dep(pm_graph_find(s.old, "//a:a"), "//b:b", NULL));
                /* The JSON stays the same; only the ninja file has the rename. */
                write_ninja(&s.fx, "bee", false);
                cr_assert_eq(parse_inc(&s.fx, d0, NULL, 0, NULL, &s.full), 0, "%s", s.fx.err.msg);
                cr_assert_eq(parse_inc(&s.fx, d0, scope, 1, &s.old->fingerprints, &s.partial), 0,
                             "%s", s.fx.err.msg);
                pm_free(d0);
        }
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(pm_test_crate_has_dep(pm_graph_find(s.partial, "//a:a"), "//b:b", "bee"));
        cr_assert_not_null(pm_graph_find(s.partial, "//a:a_test"), "its whole build file");
        cr_assert(covered_rel(&s, "a/BUILD.gn"));
        scenario_release(&s);
}

Test(gn_incremental, public_deps_changes_reach_dependents_in_other_build_files)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true };
        const char *scope[] = { "b/BUILD.gn" };

        /*
         * //b:b's deps on //p:p turn public: the JSON does not say so, only //a:a's externs
         * (in a/BUILD.gn, unchanged) gain p. The changed b/BUILD.gn has deps, so its dependents
         * are re-parsed.
         */
        scenario_init(&s, "b", false);
        {
                char *d0 = make_doc(&o);

                cr_assert_eq(parse_inc(&s.fx, d0, NULL, 0, NULL, &s.old), 0, "%s", s.fx.err.msg);
                write_ninja(&s.fx, "b", true);
                cr_assert_eq(parse_inc(&s.fx, d0, NULL, 0, NULL, &s.full), 0, "%s", s.fx.err.msg);
                cr_assert_eq(parse_inc(&s.fx, d0, scope, 1, &s.old->fingerprints, &s.partial), 0,
                             "%s", s.fx.err.msg);
                pm_free(d0);
        }
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(pm_test_crate_has_dep(pm_graph_find(s.partial, "//a:a"), "//p:p", NULL));
        cr_assert(covered_rel(&s, "a/BUILD.gn"));
        cr_assert(covered_rel(&s, "d/BUILD.gn"), "transitively");
        cr_assert_not(covered_rel(&s, "c/BUILD.gn"), "c does not depend on b");
        scenario_release(&s);
}

/* Wait until the stamp clock is past the times of the ninja files written so far, so that a
 * parse from now on sees them as older than itself (projmodel/stamp.h). */
static void
let_ninja_files_age(struct scenario *s)
{
        static const char *const rel[] = { "out/obj/a/a.ninja", "out/obj/b/b.ninja",
                                           "out/obj/a/a_test.ninja", "out/obj/d/d.ninja",
                                           "out/obj/e/e.ninja" };
        const struct timespec ms = { 0, 1000000 };
        int64_t newest = 0;

        for (size_t i = 0; i < sizeof(rel) / sizeof(*rel); i++) {
                char *p = gn_fx_path(&s->fx, rel[i]);
                struct pm_stamp_file f;

                cr_assert_eq(pm_stamp_file_stat(p, &f), 0);
                newest = f.mtime_ns > newest ? f.mtime_ns : newest;
                newest = f.ctime_ns > newest ? f.ctime_ns : newest;
                pm_free(p);
        }
        while (pm_stamp_clock() <= newest)
                (void)nanosleep(&ms, NULL);
}

Test(gn_incremental, a_hub_edit_reparses_only_dependents_whose_ninja_file_changed)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true, .with_e = true };
        const char *scope[] = { "b/BUILD.gn" };

        /*
         * b/BUILD.gn changes (say, a comment or a new target elsewhere in it) but GN rewrites
         * no dependent's ninja file: //b:b's deps kept their visibility, so a, d and e (its
         * dependents, transitively) keep their crates and only b/BUILD.gn is re-parsed.
         */
        scenario_init(&s, "b", false);
        gn_fx_write(&s.fx, "out/obj/a/a_test.ninja",
                    "build a_test: rust_bin ../a/lib.rs\n  externs = --extern b=obj/b/libb.rlib\n");
        gn_fx_write(&s.fx, "out/obj/d/d.ninja",
                    "build d: rust_bin ../d/main.rs\n  externs = --extern a=obj/a/liba.rlib\n");
        gn_fx_write(&s.fx, "out/obj/e/e.ninja",
                    "build obj/e/libe.rlib: rust_rlib ../e/lib.rs\n"
                    "  externs = --extern a=obj/a/liba.rlib\n");
        let_ninja_files_age(&s);
        run_scenario(&s, &o, &o, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(covered_rel(&s, "b/BUILD.gn"));
        cr_assert_not(covered_rel(&s, "a/BUILD.gn"), "a's ninja file did not change");
        cr_assert_not(covered_rel(&s, "d/BUILD.gn"));
        cr_assert_not(covered_rel(&s, "e/BUILD.gn"));
        cr_assert_eq(s.partial->n_crates, 1, "only //b:b is re-parsed");
        /* Once a's ninja file is rewritten (b's deps turned public), a is re-parsed; d and e,
         * whose ninja files GN left alone, are not. */
        pm_graph_free(s.partial);
        pm_graph_free(s.full);
        write_ninja(&s.fx, "b", true);
        {
                char *d0 = make_doc(&o);

                cr_assert_eq(parse_inc(&s.fx, d0, NULL, 0, NULL, &s.full), 0, "%s", s.fx.err.msg);
                cr_assert_eq(parse_inc(&s.fx, d0, scope, 1, &s.old->fingerprints, &s.partial), 0,
                             "%s", s.fx.err.msg);
                pm_free(d0);
        }
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(covered_rel(&s, "a/BUILD.gn"));
        cr_assert(pm_test_crate_has_dep(pm_graph_find(s.partial, "//a:a"), "//p:p", NULL));
        cr_assert_not(covered_rel(&s, "d/BUILD.gn"));
        cr_assert_not(covered_rel(&s, "e/BUILD.gn"));
        scenario_release(&s);
}

Test(gn_incremental, a_new_target_is_added)
{
        struct scenario s;
        struct doc_opts before = { .with_c = true }, after = before;
        const char *scope[] = { "e/BUILD.gn" };

        after.with_e = true;
        scenario_init(&s, "b", false);
        run_scenario(&s, &before, &after, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(pm_test_crate_has_dep(pm_graph_find(s.partial, "//e:e"), "//a:a", NULL));
        cr_assert_eq(s.partial->n_crates, 1, "nothing depends on the new target");
        scenario_release(&s);
}

Test(gn_incremental, a_removed_target_is_covered_so_its_crate_goes)
{
        struct scenario s;
        struct doc_opts before = { .with_c = true }, after = before;
        const char *scope[] = { "c/BUILD.gn" };

        after.with_c = false;
        scenario_init(&s, "b", false);
        run_scenario(&s, &before, &after, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(covered_rel(&s, "c/BUILD.gn"));
        cr_assert_null(pm_graph_find(s.partial, "//c:c"));
        scenario_release(&s);
}

Test(gn_incremental, a_group_change_reaches_the_crates_that_flatten_it)
{
        struct scenario s;
        struct doc_opts before = { .with_c = true }, after = before;
        const char *scope[] = { "BUILD.gn" };

        after.grp_deps = "\"//b:b\"";
        scenario_init(&s, "b", false);
        run_scenario(&s, &before, &after, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert(covered_rel(&s, "c/BUILD.gn"));
        cr_assert(pm_test_crate_has_dep(pm_graph_find(s.partial, "//c:c"), "//b:b", NULL));
        cr_assert_not(pm_test_crate_has_dep(pm_graph_find(s.partial, "//c:c"), "//p:p", NULL));
        scenario_release(&s);
}

Test(gn_incremental, changes_outside_build_gn_files_parse_everything)
{
        static const char *const scopes[] = { "build/rust.gni", ".gn", "build/BUILDCONFIG.gn",
                                              "out/args.gn" };
        struct doc_opts before = { .with_c = true }, after = before;

        after.p_flags = "\"--edition=2021\"";
        for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
                struct scenario s;
                const char *scope[] = { "p/BUILD.gn", scopes[i] };

                scenario_init(&s, "b", false);
                run_scenario(&s, &before, &after, scope, 2);
                cr_assert_not(s.partial->partial, "'%s' in scope", scopes[i]);
                cr_assert_eq(s.partial->n_crates, s.full->n_crates);
                cr_assert_eq(s.partial->fingerprints.n, s.full->fingerprints.n);
                scenario_release(&s);
        }
}

Test(gn_incremental, changed_settings_or_no_history_parse_everything)
{
        struct doc_opts before = { .with_c = true }, after = before;
        const char *scope[] = { "b/BUILD.gn" };
        struct scenario s;
        char *d1;

        /* gen_input_files changes when a BUILD.gn appears or goes. */
        after.gen_inputs = "\"//.gn\", \"//BUILD.gn\", \"//b/BUILD.gn\"";
        scenario_init(&s, "b", false);
        run_scenario(&s, &before, &after, scope, 1);
        cr_assert_not(s.partial->partial);
        pm_graph_free(s.partial);

        /* No previous fingerprints, or no scope. */
        d1 = make_doc(&after);
        cr_assert_eq(parse_inc(&s.fx, d1, scope, 1, NULL, &s.partial), 0, "%s", s.fx.err.msg);
        cr_assert_not(s.partial->partial);
        pm_graph_free(s.partial);
        cr_assert_eq(parse_inc(&s.fx, d1, NULL, 0, &s.full->fingerprints, &s.partial), 0, "%s",
                     s.fx.err.msg);
        cr_assert_not(s.partial->partial);
        pm_free(d1);
        scenario_release(&s);
}

Test(gn_incremental, an_unchanged_output_gives_an_empty_partial_graph_for_its_scope)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true };
        const char *scope[] = { "d/BUILD.gn" };

        scenario_init(&s, "b", false);
        run_scenario(&s, &o, &o, scope, 1);
        check_same_as_full(s.old, s.partial, s.full);
        cr_assert_eq(s.partial->n_crates, 1, "the scope's own crates only");
        cr_assert_not_null(pm_graph_find(s.partial, "//d:d"));
        scenario_release(&s);
}

Test(gn_incremental, malformed_output_fails_as_a_full_parse_does)
{
        struct gn_fx fx;
        struct pm_graph *g = NULL;
        static const char *const bad[] = {
                "{\"targets\": {\"//a:a\": {\"type\": \"group\"}}",
                "{\"targets\": {\"//a:a\": {\"type\": 3}}}",
                "{\"targets\": {\"a\": {\"type\": \"group\"}}}",
        };

        gn_fx_init(&fx, NULL);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                cr_assert_eq(parse_inc(&fx, bad[i], NULL, 0, NULL, &g), PM_EBADTOOLOUTPUT,
                             "accepted '%s'", bad[i]);
                cr_assert_null(g);
        }
        gn_fx_release(&fx);
}

Test(gn_incremental, garbage_previous_fingerprints_parse_everything)
{
        struct scenario s;
        struct doc_opts o = { .with_c = true };
        struct pm_kv v[2] = { { (char *)"//z:z", (char *)"0" }, { (char *)"//a:a", (char *)"1" } };
        struct pm_kvlist prev = { v, 2, 2 };
        const char *scope[] = { "b/BUILD.gn" };
        char *d = make_doc(&o);

        scenario_init(&s, "b", false);
        cr_assert_eq(parse_inc(&s.fx, d, scope, 1, &prev, &s.partial), 0, "%s", s.fx.err.msg);
        cr_assert_not(s.partial->partial);
        pm_free(d);
        scenario_release(&s);
}
