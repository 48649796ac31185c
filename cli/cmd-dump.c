/* SPDX-License-Identifier: MIT */
/* `projmodel dump`: show what the model holds for some crates, as text, JSON or a Graphviz
 * graph. Crates are chosen by label or by a file they own. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"

#include "cli-internal.h"

const char pm__cli_dump_usage[] =
        "dump [--root DIR] [--db PATH] [--no-refresh] [--format text|json|dot] [LABEL|FILE ...]";

enum {
        OPT_DB = 256,
        OPT_NO_REFRESH
};

/* dump's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt dump_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "dump --root ~/src/monorepo" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "dump --db /tmp/model.db" },
        { "format", required_argument, 'f', "FORMAT",
          "Output format: text (default), json, or dot (a Graphviz dependency graph).",
          "dump --format dot //app:main | dot -Tsvg > graph.svg" },
        { "no-refresh", no_argument, OPT_NO_REFRESH, NULL,
          "Do not run the build systems: use the model as it was last refreshed.",
          "dump --no-refresh src/lib.rs" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "dump --help" },
};

const struct pm__cli_spec pm__cli_dump_spec = PM__CLI_SPEC(
        "dump", pm__cli_dump_usage,
        "Print the crates of the model (all, or those of the given labels or files) as text, JSON or a Graphviz graph.",
        dump_opts_table);

enum dump_format {
        DUMP_TEXT,
        DUMP_JSON,
        DUMP_DOT,
};

struct dump_opts {
        const char *root;
        const char *db;
        enum dump_format format;
        bool refresh;
        char **args; /* borrowed from argv */
        size_t n_args;
};

/* The selection: which crates of the (sorted) graph to show. */
struct selection {
        bool *on; /* indexed like graph->crates */
        size_t n_on;
};

static void
select_label(const struct pm_graph *g, struct selection *sel, const char *label)
{
        struct pm_crate *c = pm_graph_lookup(g, label);
        size_t i;

        if (!c)
                return;
        i = (size_t)(c - g->crates);
        if (!sel->on[i]) {
                sel->on[i] = true;
                sel->n_on++;
        }
}

static bool
is_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Resolve one command-line argument: a label of the model, else a file some crates own. */
static int
select_arg(struct pm_index *idx, const struct pm_graph *g, struct selection *sel, const char *arg,
           struct pm_error *err)
{
        char **owners = NULL;
        char *abs = NULL;
        int r;

        if (pm_graph_lookup(g, arg)) {
                select_label(g, sel, arg);
                return 0;
        }
        abs = pm__cli_abspath(arg);
        if (!abs)
                return pm_error_set(err, -ENOMEM, "out of memory");
        if (!is_file(abs)) {
                r = pm_error_set(err, PM_ENOTFOUND, "'%s' is neither a crate label nor a file",
                                 arg);
                goto out;
        }
        r = pm_index_crates_for_file(idx, abs, &owners, err);
        if (r < 0)
                goto out;
        if (!owners[0]) {
                r = pm_error_set(err, PM_ENOTFOUND, "no crate owns '%s'", abs);
                goto out;
        }
        for (char **l = owners; *l; l++)
                select_label(g, sel, *l);
out:
        pm_labels_free(owners);
        pm_free(abs);
        return r;
}

/* The extern name @d goes by: its rename, else the dependency's crate name. */
static const char *
dep_name(const struct pm_graph *g, const struct pm_dep *d)
{
        const struct pm_crate *dc;

        if (d->name)
                return d->name;
        dc = pm_graph_lookup(g, d->label);
        return dc ? dc->crate_name : NULL;
}

/* True when @d's extern name differs from the dependency's own crate name. */
static bool
dep_renamed(const struct pm_graph *g, const struct pm_dep *d)
{
        const struct pm_crate *dc = pm_graph_lookup(g, d->label);

        if (!d->name)
                return false;
        return !dc || strcmp(d->name, dc->crate_name) != 0;
}

static int
text_list(struct pm_strbuf *sb, const char *title, const struct pm_strlist *l)
{
        int r = 0;

        if (l->n == 0)
                return 0;
        r = pm_strbuf_addf(sb, "  %s:\n", title);
        for (size_t i = 0; r == 0 && i < l->n; i++)
                r = pm_strbuf_addf(sb, "    %s\n", l->v[i]);
        return r;
}

static int
text_crate(struct pm_strbuf *sb, struct pm_index *idx, const struct pm_graph *g,
           const struct pm_crate *c, struct pm_error *err)
{
        char *source = NULL;
        int r;

        if (pm_index_crate_source(idx, c->label, &source, err) < 0)
                source = NULL;
        r = pm_strbuf_addf(sb, "%s\n", c->label);
        if (r == 0)
                r = pm_strbuf_addf(sb,
                                   "  build system: %s\n  source: %s\n  kind: %s\n  edition: %s\n"
                                   "  crate name: %s\n",
                                   c->build_system, source ? source : "?",
                                   pm_crate_kind_name(c->kind), c->edition, c->crate_name);
        if (r == 0 && c->display_name)
                r = pm_strbuf_addf(sb, "  display name: %s\n", c->display_name);
        if (r == 0)
                r = pm_strbuf_addf(sb, "  root module: %s\n  workspace member: %s\n",
                                   c->root_module, c->is_workspace_member ? "yes" : "no");
        if (r == 0 && c->target)
                r = pm_strbuf_addf(sb, "  target: %s\n", c->target);
        if (r == 0)
                r = text_list(sb, "cfgs", &c->cfgs);
        if (r == 0 && c->env.n > 0) {
                r = pm_strbuf_adds(sb, "  env:\n");
                for (size_t i = 0; r == 0 && i < c->env.n; i++)
                        r = pm_strbuf_addf(sb, "    %s=%s\n", c->env.v[i].key, c->env.v[i].value);
        }
        if (r == 0 && c->n_deps > 0) {
                r = pm_strbuf_adds(sb, "  deps:\n");
                for (size_t i = 0; r == 0 && i < c->n_deps; i++) {
                        const struct pm_dep *d = &c->deps[i];

                        if (dep_renamed(g, d))
                                r = pm_strbuf_addf(sb, "    %s -> %s\n", d->name, d->label);
                        else
                                r = pm_strbuf_addf(sb, "    %s\n", d->label);
                }
        }
        if (r == 0)
                r = text_list(sb, "include dirs", &c->include_dirs);
        if (r == 0 && c->build_file)
                r = pm_strbuf_addf(sb, "  build file: %s\n", c->build_file);
        if (r == 0 && c->proc_macro_dylib)
                r = pm_strbuf_addf(sb, "  proc-macro dylib: %s\n", c->proc_macro_dylib);
        if (r == 0)
                r = text_list(sb, "test targets", &c->test_targets);
        if (r == 0 && c->note)
                r = pm_strbuf_addf(sb, "  note: %s\n", c->note);
        pm_free(source);
        return r;
}

/* Add @v (a string or null) to @o under @key. */
static bool
json_add_str(cJSON *o, const char *key, const char *v)
{
        return v ? cJSON_AddStringToObject(o, key, v) != NULL
                 : cJSON_AddNullToObject(o, key) != NULL;
}

static cJSON *
json_crate(struct pm_index *idx, const struct pm_graph *g, const struct pm_crate *c)
{
        cJSON *o = cJSON_CreateObject(), *deps = NULL;
        char *source = NULL;
        bool ok;

        if (!o)
                return NULL;
        if (pm_index_crate_source(idx, c->label, &source, NULL) < 0)
                source = NULL;
        ok = pm_json_crate_fields(o, c, PM_JSON_CRATE_SNAKE) && json_add_str(o, "source", source);
        pm_free(source);
        if (ok) {
                deps = cJSON_AddArrayToObject(o, "deps");
                ok = deps != NULL;
        }
        for (size_t i = 0; ok && i < c->n_deps; i++) {
                cJSON *d = cJSON_CreateObject();

                ok = d && cJSON_AddItemToArray(deps, d);
                if (!ok) {
                        cJSON_Delete(d);
                        break;
                }
                ok = json_add_str(d, "label", c->deps[i].label) &&
                     json_add_str(d, "name", dep_name(g, &c->deps[i])) &&
                     cJSON_AddBoolToObject(d, "renamed", dep_renamed(g, &c->deps[i]));
        }
        if (!ok) {
                cJSON_Delete(o);
                return NULL;
        }
        return o;
}

/* Append @s as a DOT double-quoted string. */
static int
dot_quote(struct pm_strbuf *sb, const char *s)
{
        int r = pm_strbuf_addch(sb, '"');

        for (; r == 0 && *s; s++) {
                if (*s == '"' || *s == '\\')
                        r = pm_strbuf_addch(sb, '\\');
                if (r == 0)
                        r = pm_strbuf_addch(sb, *s == '\n' ? ' ' : *s);
        }
        if (r == 0)
                r = pm_strbuf_addch(sb, '"');
        return r;
}

static const char *const dot_shape[_PM_CRATE_KIND_MAX] = {
        [PM_CRATE_LIB] = "box",
        [PM_CRATE_BIN] = "ellipse",
        [PM_CRATE_TEST] = "note",
        [PM_CRATE_PROC_MACRO] = "hexagon",
};

static const char *const dot_color[_PM_CRATE_KIND_MAX] = {
        [PM_CRATE_LIB] = "lightblue",
        [PM_CRATE_BIN] = "palegreen",
        [PM_CRATE_TEST] = "khaki",
        [PM_CRATE_PROC_MACRO] = "plum",
};

static int
dot_node(struct pm_strbuf *sb, const struct pm_crate *c, bool selected)
{
        int k = c->kind < _PM_CRATE_KIND_MAX ? (int)c->kind : PM_CRATE_LIB;
        int r;

        r = pm_strbuf_adds(sb, "  ");
        if (r == 0)
                r = dot_quote(sb, c->label);
        if (r == 0)
                r = pm_strbuf_addf(sb,
                                   " [shape=%s, style=\"%s\", fillcolor=%s, label=", dot_shape[k],
                                   selected ? "filled" : "filled,dashed", dot_color[k]);
        /* Two lines: the label, then kind and edition. DOT's own "\n" escape. */
        if (r == 0)
                r = pm_strbuf_addch(sb, '"');
        for (const char *s = c->label; r == 0 && *s; s++) {
                if (*s == '"' || *s == '\\')
                        r = pm_strbuf_addch(sb, '\\');
                if (r == 0)
                        r = pm_strbuf_addch(sb, *s);
        }
        if (r == 0)
                r = pm_strbuf_addf(sb, "\\n%s, %s\"];\n", pm_crate_kind_name(c->kind), c->edition);
        return r;
}

static int
render_dot(struct pm_strbuf *sb, const struct pm_graph *g, const struct selection *sel)
{
        bool *drawn = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*drawn));
        int r;

        if (!drawn)
                return -ENOMEM;
        r = pm_strbuf_adds(sb, "digraph projmodel {\n  rankdir=LR;\n"
                               "  node [fontname=\"Helvetica\", fontsize=10];\n"
                               "  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                if (!sel->on[i])
                        continue;
                drawn[i] = true;
                r = dot_node(sb, &g->crates[i], true);
        }
        /* Dependencies outside the selection are drawn dashed, so every edge has both ends. */
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];

                if (!sel->on[i])
                        continue;
                for (size_t j = 0; r == 0 && j < c->n_deps; j++) {
                        const struct pm_crate *dc = pm_graph_lookup(g, c->deps[j].label);
                        size_t k;

                        if (!dc)
                                continue;
                        k = (size_t)(dc - g->crates);
                        if (!drawn[k]) {
                                drawn[k] = true;
                                r = dot_node(sb, dc, false);
                        }
                }
        }
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];

                if (!sel->on[i])
                        continue;
                for (size_t j = 0; r == 0 && j < c->n_deps; j++) {
                        const struct pm_dep *d = &c->deps[j];

                        r = pm_strbuf_adds(sb, "  ");
                        if (r == 0)
                                r = dot_quote(sb, c->label);
                        if (r == 0)
                                r = pm_strbuf_adds(sb, " -> ");
                        if (r == 0)
                                r = dot_quote(sb, d->label);
                        if (r == 0 && dep_renamed(g, d)) {
                                r = pm_strbuf_adds(sb, " [label=");
                                if (r == 0)
                                        r = dot_quote(sb, d->name);
                                if (r == 0)
                                        r = pm_strbuf_adds(sb, ", style=bold]");
                        }
                        if (r == 0)
                                r = pm_strbuf_adds(sb, ";\n");
                }
        }
        if (r == 0)
                r = pm_strbuf_adds(sb, "}\n");
        pm_free(drawn);
        return r;
}

static int
render(struct pm_strbuf *sb, struct pm_index *idx, const struct pm_graph *g,
       const struct selection *sel, enum dump_format format, struct pm_error *err)
{
        cJSON *arr = NULL;
        char *s = NULL;
        int r = 0;

        switch (format) {
        case DUMP_TEXT:
                for (size_t i = 0, shown = 0; r == 0 && i < g->n_crates; i++) {
                        if (!sel->on[i])
                                continue;
                        if (shown++ > 0)
                                r = pm_strbuf_addch(sb, '\n');
                        if (r == 0)
                                r = text_crate(sb, idx, g, &g->crates[i], err);
                }
                break;
        case DUMP_JSON:
                arr = cJSON_CreateArray();
                if (!arr) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                        cJSON *o;

                        if (!sel->on[i])
                                continue;
                        o = json_crate(idx, g, &g->crates[i]);
                        if (!o || !cJSON_AddItemToArray(arr, o)) {
                                cJSON_Delete(o);
                                r = -ENOMEM;
                        }
                }
                if (r == 0) {
                        s = cJSON_Print(arr);
                        r = s ? pm_strbuf_adds(sb, s) : -ENOMEM;
                }
                if (r == 0)
                        r = pm_strbuf_addch(sb, '\n');
                break;
        case DUMP_DOT:
                r = render_dot(sb, g, sel);
                break;
        }
        cJSON_free(s);
        cJSON_Delete(arr);
        if (r == -ENOMEM)
                r = pm_error_set(err, r, "out of memory");
        return r;
}

static int
run_dump(const struct dump_opts *o, struct pm_error *err)
{
        struct pm_strbuf out = PM_STRBUF_INIT;
        struct selection sel = { NULL, 0 };
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        struct pm_graph *g = NULL;
        int r;

        r = pm__cli_load_config(o->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        r = pm__cli_open_model(cfg, o->db, &idx, err);
        if (r < 0)
                goto out;
        if (o->refresh) {
                r = pm_model_refresh_sync(cfg, idx, NULL, pm__cli_progress("dump"), err);
                if (r < 0)
                        goto out;
        }
        r = pm_index_load(idx, NULL, 0, &g, err);
        if (r < 0)
                goto out;
        pm_graph_sort(g);
        sel.on = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*sel.on));
        if (!sel.on) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (o->n_args == 0) {
                for (size_t i = 0; i < g->n_crates; i++)
                        sel.on[i] = true;
                sel.n_on = g->n_crates;
        }
        for (size_t i = 0; i < o->n_args; i++) {
                r = select_arg(idx, g, &sel, o->args[i], err);
                if (r < 0)
                        goto out;
        }
        r = render(&out, idx, g, &sel, o->format, err);
        if (r < 0)
                goto out;
        if (out.len > 0 && fwrite(out.buf, 1, out.len, stdout) != out.len) {
                r = pm_error_set(err, -EIO, "cannot write to standard output");
                goto out;
        }
        if (fflush(stdout) != 0)
                r = pm_error_set(err, -EIO, "cannot write to standard output");
out:
        pm_free(sel.on);
        pm_strbuf_release(&out);
        pm_graph_free(g);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}

int
pm__cli_cmd_dump(const struct pm__cli_globals *gl, int argc, char **argv)
{
        struct option longopts[sizeof(dump_opts_table) / sizeof(dump_opts_table[0]) + 1];
        struct dump_opts o = { .root = gl->root, .format = DUMP_TEXT, .refresh = true };
        struct pm_error err;
        int c;

        pm__cli_longopts(&pm__cli_dump_spec, longopts);

        while ((c = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        o.root = optarg;
                        break;
                case OPT_DB:
                        o.db = optarg;
                        break;
                case 'f':
                        if (strcmp(optarg, "text") == 0)
                                o.format = DUMP_TEXT;
                        else if (strcmp(optarg, "json") == 0)
                                o.format = DUMP_JSON;
                        else if (strcmp(optarg, "dot") == 0)
                                o.format = DUMP_DOT;
                        else
                                return pm__cli_usage_error("dump", pm__cli_dump_usage,
                                                           "unknown format '%s'", optarg);
                        break;
                case OPT_NO_REFRESH:
                        o.refresh = false;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_dump_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_dump_spec, argc, argv, NULL);
                }
        }
        o.args = argv + optind;
        o.n_args = (size_t)(argc - optind);

        pm_error_init(&err);
        if (run_dump(&o, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
