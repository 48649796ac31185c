/* SPDX-License-Identifier: MIT */
/* The crate schema (PM_CRATE_FIELDS): every field, changed alone on one crate, makes apply
 * rewrite exactly that crate, and the model gives the new value back. The fields come from the
 * run-time table, so a field added to the list is covered without touching this test. */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"

#include "graph-fixture.h"
#include "testlib.h"

/* Three crates with every field set, so that each can be changed (and set to NULL). */
static struct pm_graph *
full_graph(void)
{
        static const char *const names[] = { "a", "b", "c" };
        struct pm_graph *g = pm_graph_new();

        cr_assert_not_null(g);
        for (size_t i = 0; i < 3; i++) {
                char label[16];
                struct pm_crate *c;

                (void)snprintf(label, sizeof(label), "//%s:%s", names[i], names[i]);
                c = pm_fx_crate(g, "/r", label, names[i]);
                cr_assert_not_null(c);
                c->target = pm_graph_strdup(g, "x86_64-unknown-linux-gnu");
                c->proc_macro_dylib = pm_graph_printf(g, "/r/out/lib%s.so", names[i]);
                c->note = pm_graph_strdup(g, "a note");
                cr_assert_eq(pm_strlist_push(g, &c->cfgs, "unix"), 0);
                cr_assert_eq(pm_strlist_push(g, &c->cfgs, "feature=\"std\""), 0);
                cr_assert_eq(pm_kvlist_set(g, &c->env, "CARGO_PKG_NAME", names[i]), 0);
                cr_assert_eq(pm_strlist_push(g, &c->flags, "--edition=2021"), 0);
                cr_assert_eq(pm_strlist_push(g, &c->sources, c->root_module), 0);
                cr_assert_eq(pm_strlist_push(g, &c->include_dirs, "/r/gen"), 0);
        }
        cr_assert_eq(pm_fx_dep(g, "//b:b", "//a:a", NULL), 0);
        cr_assert_eq(pm_fx_dep(g, "//c:c", "//b:b", "b2"), 0);
        return g;
}

/* Change field @f of @c to another valid value. */
static void
mutate(struct pm_graph *g, struct pm_crate *c, const struct pm_crate_field *f)
{
        char **s;

        switch (f->type) {
        case PM_FIELD_STR:
        case PM_FIELD_PATH:
                s = &PM_CRATE_AT(c, f, char *);
                if (strcmp(f->name, "edition") == 0)
                        *s = pm_graph_strdup(g, "2018");
                else
                        *s = pm_graph_printf(g, "%s_x", *s);
                break;
        case PM_FIELD_KIND:
                PM_CRATE_AT(c, f, enum pm_crate_kind) = PM_CRATE_BIN;
                break;
        case PM_FIELD_BOOL:
                PM_CRATE_AT(c, f, bool) = !PM_CRATE_AT(c, f, bool);
                break;
        case PM_FIELD_LIST:
                cr_assert_eq(pm_strlist_push(g, &PM_CRATE_AT(c, f, struct pm_strlist), "extra"), 0);
                break;
        case PM_FIELD_PATHS:
                cr_assert_eq(pm_strlist_push(g, &PM_CRATE_AT(c, f, struct pm_strlist), "/r/x"), 0);
                break;
        case PM_FIELD_ENV:
                cr_assert_eq(pm_kvlist_set(g, &PM_CRATE_AT(c, f, struct pm_kvlist), "EXTRA", "1"),
                             0);
                break;
        }
}

static void
apply(struct pm_index *idx, const struct pm_graph *g, struct pm_change *ch)
{
        struct pm_error err = { 0 };

        cr_assert_eq(pm_index_apply(idx, "gn", g, ch, &err), 0, "apply: %s", err.msg);
}

/* Load crate @label from the model and assert it equals @want field by field. */
static void
assert_stored(struct pm_index *idx, const struct pm_crate *want, const char *field)
{
        struct pm_error err = { 0 };
        const char *labels[] = { want->label };
        struct pm_graph *back = NULL;

        cr_assert_eq(pm_index_load(idx, labels, 1, &back, &err), 0, "load: %s", err.msg);
        cr_assert_eq(back->n_crates, 1);
        cr_assert(pm_crate_equal(&back->crates[0], want),
                  "after changing '%s', the model gives back another crate", field);
        pm_graph_free(back);
}

Test(schema, each_field_alone_rewrites_its_crate)
{
        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++) {
                const struct pm_crate_field *f = &pm_crate_fields[k];
                struct pm_graph *g1 = full_graph(), *g2 = full_graph();
                struct pm_change ch = { 0 };
                struct pm_index *idx = NULL;
                struct pm_error err = { 0 };
                struct pm_crate *b;
                bool is_label = k == PM_CRATE_FIELD_label;

                cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
                apply(idx, g1, &ch);
                cr_assert_eq(ch.added, 3);
                pm_change_release(&ch);

                b = pm_graph_find(g2, "//b:b");
                mutate(g2, b, f);
                cr_assert_not(pm_crate_equal(b, pm_graph_find(g1, "//b:b")), "%s", f->name);
                apply(idx, g2, &ch);
                if (is_label) {
                        /* A new label is another crate: the old one goes, the new one comes. */
                        cr_assert_eq(ch.added, 1, "%s", f->name);
                        cr_assert_eq(ch.removed, 1, "%s", f->name);
                        cr_assert_eq(ch.modified, 0, "%s", f->name);
                        cr_assert_eq(ch.n_labels, 2, "%s", f->name);
                } else {
                        cr_assert_eq(ch.modified, 1, "changing '%s' alone rewrites the crate",
                                     f->name);
                        cr_assert_eq(ch.added + ch.removed, 0, "%s", f->name);
                        cr_assert_eq(ch.n_labels, 1, "%s", f->name);
                        cr_assert_str_eq(ch.labels[0], "//b:b", "%s", f->name);
                }
                cr_assert_eq(ch.unchanged, 2, "changing '%s' of b leaves a and c alone", f->name);
                pm_change_release(&ch);
                assert_stored(idx, b, f->name);

                /* The same graph again is a no-op. */
                apply(idx, g2, &ch);
                cr_assert_eq(ch.unchanged, 3, "%s", f->name);
                cr_assert_eq(ch.n_labels, 0, "%s", f->name);
                pm_change_release(&ch);

                /* Optional values can go back to NULL, and that too is a rewrite. */
                if (!f->required && (f->type == PM_FIELD_STR || f->type == PM_FIELD_PATH)) {
                        PM_CRATE_AT(b, f, char *) = NULL;
                        apply(idx, g2, &ch);
                        cr_assert_eq(ch.modified, 1, "clearing '%s' rewrites the crate", f->name);
                        pm_change_release(&ch);
                        assert_stored(idx, b, f->name);
                }
                pm_index_close(idx);
                pm_graph_free(g1);
                pm_graph_free(g2);
        }
}

Test(schema, a_dependency_rename_alone_rewrites_its_crate)
{
        struct pm_graph *g1 = full_graph(), *g2 = full_graph();
        struct pm_change ch = { 0 };
        struct pm_index *idx = NULL;
        struct pm_error err = { 0 };
        struct pm_crate *c;

        cr_assert_eq(pm_index_open(":memory:", &idx, &err), 0, "%s", err.msg);
        apply(idx, g1, &ch);
        pm_change_release(&ch);
        c = pm_graph_find(g2, "//c:c");
        c->deps[0].name = pm_graph_strdup(g2, "b3");
        apply(idx, g2, &ch);
        cr_assert_eq(ch.modified, 1);
        cr_assert_eq(ch.unchanged, 2);
        cr_assert_str_eq(ch.labels[0], "//c:c");
        pm_change_release(&ch);
        assert_stored(idx, c, "deps");
        pm_index_close(idx);
        pm_graph_free(g1);
        pm_graph_free(g2);
}

/* pm_graph_copy_crate() and both JSON forms cover every field of the list. */
Test(schema, copy_and_json_cover_every_field)
{
        struct pm_graph *g = full_graph(), *h = pm_graph_new();
        const struct pm_crate *b = pm_graph_find(g, "//b:b");
        cJSON *camel = cJSON_CreateObject(), *snake = cJSON_CreateObject();

        cr_assert_not_null(pm_graph_copy_crate(h, b));
        cr_assert(pm_crate_equal(&h->crates[0], b));
        cr_assert(pm_json_crate_fields(camel, b, 0));
        cr_assert(pm_json_crate_fields(snake, b, PM_JSON_CRATE_SNAKE));
        cr_assert_eq(cJSON_GetArraySize(camel), PM_CRATE_N_FIELDS);
        cr_assert_eq(cJSON_GetArraySize(snake), PM_CRATE_N_FIELDS);
        for (size_t k = 0; k < PM_CRATE_N_FIELDS; k++) {
                cr_assert(cJSON_HasObjectItem(camel, pm_crate_fields[k].json), "%s",
                          pm_crate_fields[k].json);
                cr_assert(cJSON_HasObjectItem(snake, pm_crate_fields[k].name), "%s",
                          pm_crate_fields[k].name);
        }
        cr_assert_str_eq(cJSON_GetObjectItem(camel, "rootModule")->valuestring, b->root_module);
        cr_assert_str_eq(cJSON_GetObjectItem(snake, "kind")->valuestring, "lib");
        cJSON_Delete(camel);
        cJSON_Delete(snake);
        pm_graph_free(g);
        pm_graph_free(h);
}
