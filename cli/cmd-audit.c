/* SPDX-License-Identifier: MIT */
/* `projmodel audit`: the unsafe-code inventory of some crates of the model (all by default), as
 * text, JSON or SARIF 2.1.0, rendered by audit/render.c: by the running daemon when there is one
 * (projmodel/audit), else in this process on the model; --check, --diff and --privileged always
 * here. Over 800 lines because the policy check, the diff against git and the privileged-code
 * report each need the inventory and the graph together, and share its selection. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/audit.h"
#include "projmodel/client.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/refresh.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "cli-internal.h"

const char pm__cli_audit_usage[] =
        "audit [--root DIR] [--db PATH] [--socket PATH] [--no-refresh] "
        "[--format text|json|sarif] [--check | --diff REV | --privileged] "
        "[--closure] [LABEL|FILE ...]";

enum {
        OPT_DB = 256,
        OPT_NO_REFRESH,
        OPT_CHECK,
        OPT_DIFF,
        OPT_PRIVILEGED,
        OPT_SOCKET,
        OPT_CLOSURE
};

/* audit's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt audit_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "audit --root ~/src/monorepo" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "audit --db /tmp/model.db" },
        { "socket", required_argument, OPT_SOCKET, "PATH",
          "The socket of the daemon that answers the inventory when it runs; default: derived "
          "from the root (docs/protocol.md).",
          "audit --socket /tmp/pm.sock --format sarif" },
        { "format", required_argument, 'f', "FORMAT",
          "Output format: text (default), json, or sarif (for code scanning tools).",
          "audit --format sarif > audit.sarif" },
        { "no-refresh", no_argument, OPT_NO_REFRESH, NULL,
          "Do not run the build systems: use the model as it was last refreshed.",
          "audit --no-refresh" },
        { "check", no_argument, OPT_CHECK, NULL,
          "Apply the audit policy of .projmodel.json to the chosen crates: one line per "
          "violation, exit 1 when there is any.",
          "audit --check //app:main" },
        { "diff", required_argument, OPT_DIFF, "REV",
          "List the unsafe sites added, changed or removed since the git revision REV (working "
          "tree against REV), each with its crate and its reviewers from the policy's owners.",
          "audit --diff origin/main --format json" },
        { "privileged", no_argument, OPT_PRIVILEGED, NULL,
          "List the privileged code among the chosen crates instead: crates with build scripts "
          "and proc macros, each with the first-party crates that reach it.",
          "audit --privileged --format json" },
        { "closure", no_argument, OPT_CLOSURE, NULL,
          "Also choose every crate the given LABEL or FILE crates depend on, transitively (their "
          "dependency closure).",
          "audit --closure //app:main" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "audit --help" },
};

const struct pm__cli_spec pm__cli_audit_spec = PM__CLI_SPEC(
        "audit", pm__cli_audit_usage,
        "The unsafe-code inventory of the chosen crates (all without arguments): each file scanned once.",
        audit_opts_table);

struct audit_opts {
        const char *root;
        const char *db;
        const char *socket; /* --socket PATH, or NULL: the default one */
        enum pm_audit_format format;
        bool refresh;
        bool closure;     /* --closure: the chosen crates and their dependency closure */
        bool check;       /* --check: apply the policy, print violations, exit 1 on any */
        bool privileged;  /* --privileged: build scripts and proc macros */
        const char *diff; /* --diff REV: the sites changed since REV (borrowed from argv) */
        char **args;      /* borrowed from argv */
        size_t n_args;
};

struct report {
        const struct pm_config *cfg;
        const struct pm_audit_crate **crates;
        size_t n;
        bool subset; /* not every crate of the model is chosen */
};

static bool
is_file(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* Mark the crates one argument names: a label of the model, else the owners of a file. */
static int
select_arg(struct pm_index *idx, const struct pm_graph *g, bool *on, const char *arg,
           struct pm_error *err)
{
        const struct pm_crate *c = pm_graph_lookup(g, arg);
        char **owners = NULL;
        char *abs = NULL;
        int r;

        if (c) {
                on[c - g->crates] = true;
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
                if ((c = pm_graph_lookup(g, *l)))
                        on[c - g->crates] = true;
out:
        pm_labels_free(owners);
        pm_free(abs);
        return r;
}

/* @path relative to the root when under it, else as is. Borrowed from @path. */
static const char *
rel(const struct report *rp, const char *path)
{
        size_t n = strlen(rp->cfg->root);

        if (pm_path_is_under(path, rp->cfg->root) && path[n] == '/')
                return path + n + 1;
        return path;
}

static bool
add_str(cJSON *o, const char *key, const char *v)
{
        return cJSON_AddStringToObject(o, key, v) != NULL;
}

/* ---- --check ---- */

static int
add_owners(struct pm_strbuf *sb, const struct pm_audit_policy *pol, const char *label)
{
        const char *const *who = pm_audit_policy_owners(pol, label);
        int r = 0;

        for (size_t i = 0; r == 0 && who && who[i]; i++)
                r = pm_strbuf_addf(sb, "%s%s", i ? ", " : "; reviewers: ", who[i]);
        return r;
}

/* The first non-test site of @ac, for naming it in a violation. */
static int
first_site(struct pm_strbuf *sb, const struct report *rp, const struct pm_audit_crate *ac)
{
        for (size_t i = 0; i < ac->n_sources; i++) {
                const struct pm_audit_source *src = &ac->sources[i];

                for (size_t k = 0; src->scan && k < src->scan->n_sites; k++) {
                        const struct pm_audit_site *s = &src->scan->sites[k];

                        if (!pm_audit_site_in_test(src, s))
                                return pm_strbuf_addf(sb, " (first: %s:%u: %s)", rel(rp, src->path),
                                                      s->line, pm_audit_kind_description(s->kind));
                }
        }
        return 0;
}

/* The crate's version as its build states it (Cargo's CARGO_PKG_VERSION, also set by GN's and
 * Bazel's rules for vendored crates), or NULL when absent or empty. */
static const char *
version_of(const struct pm_crate *c)
{
        const char *v = pm_kvlist_get(&c->env, "CARGO_PKG_VERSION");

        return v && v[0] ? v : NULL;
}

static bool
is_audited(const struct pm_audit_policy *pol, const struct pm_crate *c)
{
        const char *v = version_of(c);

        return pm_audit_policy_audited(pol, c->crate_name, v) ||
               (c->display_name && pm_audit_policy_audited(pol, c->display_name, v));
}

/*
 * Every violation of @pol by the selected crates (@on), one line each into @sb; *@ret_n counts
 * them. @by_index holds the inventory of every crate of @g (by index).
 */
static int
check_policy(struct pm_strbuf *sb, const struct report *rp, const struct pm_graph *g,
             const bool *on, const struct pm_audit_crate *const *by_index,
             const struct pm_audit_policy *pol, size_t *ret_n)
{
        size_t *parent = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*parent));
        size_t *queue = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*queue));
        size_t n = 0;
        int r = 0;

        if (!parent || !queue) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];
                const struct pm_audit_crate *ac = by_index[i];
                bool allowed = pm_audit_policy_allows_unsafe(pol, c->label);
                size_t head = 0, tail = 0;

                if (!on[i])
                        continue;
                if (!allowed && ac->n_sites > 0) {
                        r = pm_strbuf_addf(
                                sb, "%s: %zu unsafe site%s where the policy does not allow unsafe",
                                c->label, ac->n_sites, ac->n_sites == 1 ? "" : "s");
                        if (r == 0)
                                r = first_site(sb, rp, ac);
                        if (r == 0)
                                r = add_owners(sb, pol, c->label);
                        if (r == 0)
                                r = pm_strbuf_addch(sb, '\n');
                        n++;
                }
                if (r == 0 && !allowed && pm_audit_policy_requires_forbid(pol) &&
                    !ac->root_forbids && ac->build_lint != PM_AUDIT_LINT_FORBID) {
                        r = pm_strbuf_addf(
                                sb,
                                "%s: does not forbid unsafe_code (no #![forbid(unsafe_code)] in "
                                "'%s', no -F unsafe_code in its flags)\n",
                                c->label, rel(rp, c->root_module));
                        n++;
                }
                if (r < 0 || !c->is_workspace_member)
                        continue;
                /* Breadth first from this first-party crate: shortest paths to what it reaches. */
                for (size_t k = 0; k < g->n_crates; k++)
                        parent[k] = SIZE_MAX;
                parent[i] = i;
                queue[tail++] = i;
                while (r == 0 && head < tail) {
                        size_t x = queue[head++];
                        const struct pm_crate *xc = &g->crates[x];

                        for (size_t d = 0; d < xc->n_deps; d++) {
                                const struct pm_crate *dc = pm_graph_lookup(g, xc->deps[d].label);
                                size_t y;

                                if (!dc)
                                        continue;
                                y = (size_t)(dc - g->crates);
                                if (parent[y] != SIZE_MAX)
                                        continue;
                                parent[y] = x;
                                queue[tail++] = y;
                        }
                        if (x == i || xc->is_workspace_member || by_index[x]->n_sites == 0 ||
                            is_audited(pol, xc))
                                continue;
                        r = pm_strbuf_addf(
                                sb,
                                "%s: reaches third-party crate %s with unsafe code not audited "
                                "for %s: ",
                                c->label, xc->label, pm_audit_policy_criteria(pol));
                        {
                                size_t path[64], np = 0;

                                for (size_t z = x; np < 64; z = parent[z]) {
                                        path[np++] = z;
                                        if (z == i)
                                                break;
                                }
                                while (r == 0 && np > 0) {
                                        np--;
                                        r = pm_strbuf_addf(sb, "%s%s", g->crates[path[np]].label,
                                                           np ? " -> " : "");
                                }
                        }
                        if (r == 0)
                                r = add_owners(sb, pol, xc->label);
                        if (r == 0)
                                r = pm_strbuf_addch(sb, '\n');
                        n++;
                }
        }
out:
        pm_free(parent);
        pm_free(queue);
        *ret_n = n;
        return r;
}

/* ---- --privileged ---- */

/*
 * Whether @c has a build script: its build declares OUT_DIR (GN's and Bazel's build-script
 * rules set it for the crate), or the Cargo adapter noted an unrun build script (docs/model.md,
 * `note`). The model holds no other trace of one.
 */
static bool
has_build_script(const struct pm_crate *c)
{
        for (size_t i = 0; i < c->env.n; i++)
                if (strcmp(c->env.v[i].key, "OUT_DIR") == 0)
                        return true;
        return c->note && strncmp(c->note, "build script", 12) == 0;
}

static bool
is_privileged(const struct pm_crate *c)
{
        return c->kind == PM_CRATE_PROC_MACRO || has_build_script(c);
}

#define NOTE_NOT_RUN   "not known: the build script has not run (no output file next to its OUT_DIR)"
#define NOTE_NOT_CARGO "not known: only Cargo records what a build script declares it reads"

/* Append @v to array @a unless it is there already. */
static bool
add_unique(cJSON *a, const char *v)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, a) if (strcmp(e->valuestring, v) == 0) return true;
        return cJSON_AddItemToArray(a, cJSON_CreateString(v));
}

/*
 * What Cargo build script of @c declared it reads, once it has run: Cargo keeps the script's
 * stdout in the file `output` next to its OUT_DIR (target/<profile>/build/<pkg>-<hash>/), where
 * `cargo:rerun-if-changed=PATH` (PATH relative to the package) and `cargo:rerun-if-env-changed=
 * VAR` lines (also written `cargo::`) are the files and variables whose change reruns it.
 * *@ret is {"files": [...], "env": [...]} (paths relative to the root when under it), or NULL
 * with *@ret_note saying why it is not known. 0 or -ENOMEM.
 */
static int
build_script_reads(const struct report *rp, const struct pm_crate *c, cJSON **ret,
                   const char **ret_note)
{
        const char *out_dir = pm_kvlist_get(&c->env, "OUT_DIR"),
                   *pkg = pm_kvlist_get(&c->env, "CARGO_MANIFEST_DIR");
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error e;
        cJSON *o = NULL, *files = NULL, *env = NULL;
        char *dir = NULL, *path = NULL;
        int r = 0;

        *ret = NULL;
        *ret_note = NOTE_NOT_CARGO;
        if (strcmp(c->build_system, "cargo") != 0)
                goto out;
        *ret_note = NOTE_NOT_RUN;
        if (!out_dir || !out_dir[0])
                goto out;
        dir = pm_path_dirname(NULL, out_dir);
        path = dir ? pm_path_join(NULL, dir, "output") : NULL;
        if (!path) {
                r = -ENOMEM;
                goto out;
        }
        pm_error_init(&e);
        if (pm_strbuf_read_file(&sb, path, (size_t)16 << 20, &e) < 0)
                goto out; /* not run (or not readable): not known */
        if (!(o = cJSON_CreateObject()) || !(files = cJSON_AddArrayToObject(o, "files")) ||
            !(env = cJSON_AddArrayToObject(o, "env"))) {
                r = -ENOMEM;
                goto out;
        }
        for (char *l = sb.buf; r == 0 && l && *l;) {
                char *eol = strchr(l, '\n'), *v;

                if (eol)
                        *eol = '\0';
                if (eol > l && eol[-1] == '\r')
                        eol[-1] = '\0';
                v = strncmp(l, "cargo::", 7) == 0  ? l + 7
                    : strncmp(l, "cargo:", 6) == 0 ? l + 6
                                                   : NULL;
                if (v && strncmp(v, "rerun-if-env-changed=", 21) == 0 && v[21]) {
                        if (!add_unique(env, v + 21))
                                r = -ENOMEM;
                } else if (v && strncmp(v, "rerun-if-changed=", 17) == 0 && v[17]) {
                        char *f = pkg && pkg[0] ? pm_path_normalize(NULL, pkg, v + 17) : NULL;

                        if (!add_unique(files, f ? rel(rp, f) : v + 17))
                                r = -ENOMEM;
                        pm_free(f);
                }
                l = eol ? eol + 1 : NULL;
        }
        if (r == 0) {
                *ret = o;
                o = NULL;
        }
out:
        cJSON_Delete(o);
        pm_strbuf_release(&sb);
        pm_free(path);
        pm_free(dir);
        return r;
}

/* "  build script reads: ..." of @reads (build_script_reads()'s) or @note. */
static int
text_reads(struct pm_strbuf *sb, const cJSON *reads, const char *note)
{
        const cJSON *files = cJSON_GetObjectItem(reads, "files"),
                    *env = cJSON_GetObjectItem(reads, "env"), *e;
        int r;

        if (!reads)
                return pm_strbuf_addf(sb, "  build script reads: %s\n", note);
        r = pm_strbuf_adds(sb, "  build script reads: files ");
        if (r == 0 && cJSON_GetArraySize(files) == 0)
                r = pm_strbuf_adds(
                        sb, "none declared (Cargo then reruns it on any change in its package)");
        cJSON_ArrayForEach(e, files) if (r == 0) r =
                pm_strbuf_addf(sb, "%s%s", e == files->child ? "" : ", ", e->valuestring);
        if (r == 0)
                r = pm_strbuf_adds(sb, "; env ");
        if (r == 0 && cJSON_GetArraySize(env) == 0)
                r = pm_strbuf_adds(sb, "none declared");
        cJSON_ArrayForEach(e, env) if (r == 0) r =
                pm_strbuf_addf(sb, "%s%s", e == env->child ? "" : ", ", e->valuestring);
        return r == 0 ? pm_strbuf_addch(sb, '\n') : r;
}

/*
 * The reverse edges of @g in compressed form: the crates depending on crate y are
 * rev[off[y] .. off[y + 1]). Both pm_malloc'd, owned by the caller.
 */
static int
reverse_edges(const struct pm_graph *g, size_t **ret_off, size_t **ret_rev)
{
        size_t n = g->n_crates, m = 0;
        size_t *off = pm_calloc(n + 1, sizeof(*off)), *fill = pm_calloc(n + 1, sizeof(*fill));
        size_t *rev = NULL;
        int r = 0;

        if (!off || !fill) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t x = 0; x < n; x++)
                for (size_t d = 0; d < g->crates[x].n_deps; d++) {
                        const struct pm_crate *dc = pm_graph_lookup(g, g->crates[x].deps[d].label);

                        if (dc) {
                                off[dc - g->crates + 1]++;
                                m++;
                        }
                }
        for (size_t y = 0; y < n; y++)
                off[y + 1] += off[y];
        rev = pm_calloc(m ? m : 1, sizeof(*rev));
        if (!rev) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t x = 0; x < n; x++)
                for (size_t d = 0; d < g->crates[x].n_deps; d++) {
                        const struct pm_crate *dc = pm_graph_lookup(g, g->crates[x].deps[d].label);
                        size_t y;

                        if (dc) {
                                y = (size_t)(dc - g->crates);
                                rev[off[y] + fill[y]++] = x;
                        }
                }
        *ret_off = off;
        *ret_rev = rev;
        off = rev = NULL;
out:
        pm_free(off);
        pm_free(rev);
        pm_free(fill);
        return r;
}

/* Mark in @seen (zeroed by the caller, n bools) every crate whose closure holds crate @x. */
static void
reached_by(size_t n, const size_t *off, const size_t *rev, size_t x, bool *seen, size_t *stack)
{
        size_t top = 0;

        stack[top++] = x;
        while (top > 0) {
                size_t y = stack[--top];

                for (size_t i = off[y]; i < off[y + 1]; i++)
                        if (!seen[rev[i]] && rev[i] != x) {
                                seen[rev[i]] = true;
                                stack[top++] = rev[i];
                        }
        }
        (void)n;
}

/* The privileged crates among the chosen ones (@on): build scripts and proc macros, each with
 * the first-party crates that reach it. */
static int
privileged_report(struct pm_strbuf *sb, const struct report *rp, const struct pm_graph *g,
                  const bool *on, enum pm_audit_format format)
{
        size_t n = g->n_crates, found = 0;
        size_t *off = NULL, *rev = NULL, *stack = pm_calloc(n ? n : 1, sizeof(*stack));
        bool *reach = pm_calloc(n ? n : 1, sizeof(*reach));
        cJSON *doc = NULL, *results = NULL, *reads = NULL;
        int r = stack && reach ? reverse_edges(g, &off, &rev) : -ENOMEM;

        if (r < 0)
                goto out;
        if (format == PM_AUDIT_FORMAT_JSON) {
                if (!(doc = cJSON_CreateArray()))
                        r = -ENOMEM;
        } else if (format == PM_AUDIT_FORMAT_SARIF) {
                cJSON *run = NULL, *driver = NULL, *rules = NULL, *rule = NULL, *base = NULL;
                char *root_uri = pm_asprintf("file://%s/", rp->cfg->root);
                bool ok =
                        root_uri && (doc = cJSON_CreateObject()) &&
                        add_str(doc, "$schema", "https://json.schemastore.org/sarif-2.1.0.json") &&
                        add_str(doc, "version", "2.1.0") && (run = cJSON_CreateObject()) &&
                        cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "runs"), run) &&
                        (driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"),
                                                          "driver")) &&
                        add_str(driver, "name", "projmodel") &&
                        add_str(driver, "version", PM_VERSION) &&
                        (rules = cJSON_AddArrayToObject(driver, "rules"));

                for (int k = 0; ok && k < 2; k++)
                        ok = (rule = cJSON_CreateObject()) && cJSON_AddItemToArray(rules, rule) &&
                             add_str(rule, "id", k ? "proc_macro" : "build_script") &&
                             add_str(cJSON_AddObjectToObject(rule, "shortDescription"), "text",
                                     k ? "proc macro (runs in the compiler)"
                                       : "build script (runs at build time)");
                ok = ok && (base = cJSON_AddObjectToObject(run, "originalUriBaseIds")) &&
                     add_str(cJSON_AddObjectToObject(base, "SRCROOT"), "uri", root_uri) &&
                     (results = cJSON_AddArrayToObject(run, "results"));
                pm_free(root_uri);
                if (!ok)
                        r = -ENOMEM;
        }
        for (size_t x = 0; r == 0 && x < n; x++) {
                const struct pm_crate *c = &g->crates[x];
                bool bs = has_build_script(c), pmac = c->kind == PM_CRATE_PROC_MACRO;
                size_t n_by = 0;
                const char *note = NULL;

                if (!on[x] || !is_privileged(c))
                        continue;
                cJSON_Delete(reads);
                reads = NULL;
                if (bs && (r = build_script_reads(rp, c, &reads, &note)) < 0)
                        break;
                found++;
                memset(reach, 0, n * sizeof(*reach));
                reached_by(n, off, rev, x, reach, stack);
                for (size_t f = 0; f < n; f++)
                        reach[f] = reach[f] && g->crates[f].is_workspace_member;
                for (size_t f = 0; f < n; f++)
                        n_by += reach[f];
                if (format == PM_AUDIT_FORMAT_TEXT) {
                        r = pm_strbuf_addf(
                                sb, "%s%s (%s, %s): %s%s%s; reached by %zu first-party crate%s\n",
                                found > 1 ? "\n" : "", c->label, pm_crate_kind_name(c->kind),
                                c->is_workspace_member ? "first-party" : "third-party",
                                bs ? "build script" : "", bs && pmac ? ", " : "",
                                pmac ? "proc macro" : "", n_by, n_by == 1 ? "" : "s");
                        for (size_t f = 0; r == 0 && f < n; f++)
                                if (reach[f])
                                        r = pm_strbuf_addf(sb, "  reached by %s\n",
                                                           g->crates[f].label);
                        if (r == 0 && bs)
                                r = text_reads(sb, reads, note);
                } else if (format == PM_AUDIT_FORMAT_JSON) {
                        cJSON *o = cJSON_CreateObject(), *by = NULL;
                        bool ok = o && add_str(o, "label", c->label) &&
                                  add_str(o, "kind", pm_crate_kind_name(c->kind)) &&
                                  cJSON_AddBoolToObject(o, "first_party", c->is_workspace_member) &&
                                  cJSON_AddBoolToObject(o, "build_script", bs) &&
                                  cJSON_AddBoolToObject(o, "proc_macro", pmac) &&
                                  (by = cJSON_AddArrayToObject(o, "reached_by")) &&
                                  (!bs || reads ||
                                   (cJSON_AddNullToObject(o, "build_script_reads") &&
                                    add_str(o, "build_script_reads_note", note)));

                        if (ok && bs && reads) {
                                ok = cJSON_AddItemToObject(o, "build_script_reads", reads);
                                if (ok)
                                        reads = NULL;
                        }

                        for (size_t f = 0; ok && f < n; f++)
                                if (reach[f])
                                        ok = cJSON_AddItemToArray(
                                                by, cJSON_CreateString(g->crates[f].label));
                        if (!ok || !cJSON_AddItemToArray(doc, o)) {
                                cJSON_Delete(o);
                                r = -ENOMEM;
                        }
                } else {
                        char *msg =
                                pm_asprintf("%s %s is privileged code (%s%s%s), reached by "
                                            "%zu first-party crate%s",
                                            pmac && !bs ? "proc macro" : "crate", c->label,
                                            bs ? "build script" : "", bs && pmac ? ", " : "",
                                            pmac ? "proc macro" : "", n_by, n_by == 1 ? "" : "s");
                        const char *file = rel(rp, c->root_module);
                        bool under = file != c->root_module;
                        cJSON *o = cJSON_CreateObject(), *phys = NULL, *art = NULL, *loc = NULL;
                        bool ok = msg && o &&
                                  add_str(o, "ruleId", bs ? "build_script" : "proc_macro") &&
                                  cJSON_AddNumberToObject(o, "ruleIndex", bs ? 0 : 1) &&
                                  add_str(o, "level", "note") &&
                                  add_str(cJSON_AddObjectToObject(o, "message"), "text", msg) &&
                                  (loc = cJSON_AddArrayToObject(o, "locations")) &&
                                  (phys = cJSON_CreateObject()) &&
                                  cJSON_AddItemToArray(loc, phys) &&
                                  (art = cJSON_AddObjectToObject(phys, "physicalLocation")) &&
                                  (art = cJSON_AddObjectToObject(art, "artifactLocation")) &&
                                  add_str(art, "uri", file) &&
                                  (!under || add_str(art, "uriBaseId", "SRCROOT")) &&
                                  add_str(cJSON_AddObjectToObject(o, "properties"), "crate",
                                          c->label);

                        pm_free(msg);
                        if (!ok || !cJSON_AddItemToArray(results, o)) {
                                cJSON_Delete(o);
                                r = -ENOMEM;
                        }
                }
        }
        if (r == 0 && doc) {
                char *s = cJSON_Print(doc);

                r = s ? pm_strbuf_adds(sb, s) : -ENOMEM;
                if (r == 0)
                        r = pm_strbuf_addch(sb, '\n');
                cJSON_free(s);
        } else if (r == 0 && found == 0) {
                r = pm_strbuf_adds(sb, "no build scripts or proc macros\n");
        }
out:
        cJSON_Delete(reads);
        cJSON_Delete(doc);
        pm_free(reach);
        pm_free(stack);
        pm_free(off);
        pm_free(rev);
        return r;
}

/* ---- --diff REV ---- */

/* What --diff compares one file against: the file as it was at the revision. */
struct diff_ctx {
        const struct report *rp;
        const struct pm_audit_policy *pol;
        const char *rev;
        char **changed; /* NULL-terminated relative paths git lists as changed or untracked */
        size_t n_changed;
        bool *seen;  /* changed[i] is a source of a chosen crate */
        cJSON *json; /* array, --format json */
        struct pm_strbuf *text;
        size_t n_added, n_changed_sites, n_removed;
};

/* Run git (argv, never a shell) in the root; *@out gets its stdout. */
static int
git_run(const struct report *rp, char **argv, bool optional, struct pm_strbuf *out, bool *ret_ok,
        struct pm_error *err)
{
        struct pm_step step = { .argv = argv, .cwd = (char *)rp->cfg->root };
        struct pm_tool_result res = { 0 };
        struct pm_error local;
        int r = pm_tool_run_sync(&step, 120000, (size_t)1 << 30, &res, optional ? &local : err);

        if (ret_ok)
                *ret_ok = r == 0;
        if (r == 0)
                r = pm_strbuf_add(out, res.out.buf ? res.out.buf : "", res.out.len);
        else if (optional && r == PM_ETOOL)
                r = 0;
        else if (optional)
                r = pm_error_set(err, r, "%s", local.msg);
        pm_tool_result_release(&res);
        return r;
}

/* Split NUL-separated @sb into @c->changed (appending). */
static int
add_changed(struct diff_ctx *c, const struct pm_strbuf *sb)
{
        for (size_t i = 0; i < sb->len;) {
                const char *p = sb->buf + i;
                size_t n = strnlen(p, sb->len - i);
                char **nc;

                if (n > 0) {
                        nc = pm_realloc(c->changed, (c->n_changed + 2) * sizeof(*nc));
                        if (!nc)
                                return -ENOMEM;
                        c->changed = nc;
                        if (!(nc[c->n_changed] = pm_strndup(p, n)))
                                return -ENOMEM;
                        nc[++c->n_changed] = NULL;
                }
                i += n + 1;
        }
        return 0;
}

static bool
is_changed(const struct diff_ctx *c, const char *relpath)
{
        for (size_t i = 0; i < c->n_changed; i++)
                if (strcmp(c->changed[i], relpath) == 0) {
                        c->seen[i] = true;
                        return true;
                }
        return false;
}

/*
 * A hash of the tokens (whitespace aside, comments included) of the code site @s of @src
 * covers: from its position to the end of what it qualifies, the first `;` outside brackets or
 * the `}` closing the first `{` (an unsafe block, a fn with its body, an impl, an extern block,
 * an attribute with its item, an asm! call). Two versions of a site differ when these differ,
 * whatever line they start on.
 */
static uint64_t
site_extent_hash(const char *src, size_t len, const struct pm_audit_site *s)
{
        struct pm_rust_lexer lx;
        struct pm_rust_token t;
        uint64_t h = 0;
        size_t off = 0;
        long depth = 0;

        for (unsigned l = 1; l < s->line && off < len; off++)
                if (src[off] == '\n')
                        l++;
        off += s->column > 0 ? s->column - 1 : 0;
        if (off > len)
                return 0;
        pm_rust_lexer_init(&lx, src + off, len - off);
        for (;;) {
                char c;

                pm_rust_lexer_next(&lx, &t);
                if (t.kind == PM_RUST_TOK_EOF)
                        break;
                h = pm_hash64(src + off + t.start, t.len, h ^ (uint64_t)t.kind);
                if (t.kind != PM_RUST_TOK_PUNCT || t.len != 1)
                        continue;
                c = src[off + t.start];
                if (c == '(' || c == '[' || c == '{')
                        depth++;
                else if ((c == ')' || c == ']' || c == '}') && --depth <= 0 && c == '}')
                        break;
                else if (c == ';' && depth <= 0)
                        break;
        }
        return h;
}

/* Which occurrence (0-based) of its kind and enclosing item site @k of @f is. */
static size_t
site_nth(const struct pm_audit_file *f, size_t k)
{
        size_t n = 0;

        for (size_t i = 0; i < k; i++)
                if (f->sites[i].kind == f->sites[k].kind &&
                    strcmp(f->sites[i].item, f->sites[k].item) == 0)
                        n++;
        return n;
}

/* The site of @f with @kind, @item and occurrence @nth, or SIZE_MAX. */
static size_t
site_find(const struct pm_audit_file *f, enum pm_audit_kind kind, const char *item, size_t nth)
{
        for (size_t i = 0; i < f->n_sites; i++)
                if (f->sites[i].kind == kind && strcmp(f->sites[i].item, item) == 0 && nth-- == 0)
                        return i;
        return SIZE_MAX;
}

static int
diff_emit(struct diff_ctx *c, const char *change, const struct pm_audit_crate *ac, const char *file,
          const struct pm_audit_site *s, const struct pm_audit_site *old)
{
        const char *const *who = pm_audit_policy_owners(c->pol, ac->crate->label);
        int r = 0;

        if (c->json) {
                cJSON *o = cJSON_CreateObject(), *rv;
                bool ok = o && add_str(o, "change", change) &&
                          add_str(o, "kind", pm_audit_kind_name(s->kind)) &&
                          add_str(o, "file", file) && cJSON_AddNumberToObject(o, "line", s->line) &&
                          cJSON_AddNumberToObject(o, "column", s->column) &&
                          add_str(o, "item", s->item) && add_str(o, "crate", ac->crate->label) &&
                          (!old || cJSON_AddNumberToObject(o, "old_line", old->line)) &&
                          (rv = cJSON_AddArrayToObject(o, "reviewers"));

                for (size_t i = 0; ok && who && who[i]; i++)
                        ok = cJSON_AddItemToArray(rv, cJSON_CreateString(who[i]));
                if (!ok || !cJSON_AddItemToArray(c->json, o)) {
                        cJSON_Delete(o);
                        return -ENOMEM;
                }
                return 0;
        }
        r = pm_strbuf_addf(c->text, "%s %s:%u:%u: %s%s%s (crate %s", change, file, s->line,
                           s->column, pm_audit_kind_description(s->kind), s->item[0] ? " in " : "",
                           s->item, ac->crate->label);
        for (size_t i = 0; r == 0 && who && who[i]; i++)
                r = pm_strbuf_addf(c->text, "%s%s", i ? ", " : "; reviewers: ", who[i]);
        if (r == 0)
                r = pm_strbuf_adds(c->text, ")\n");
        return r;
}

/* Compare one source file of @ac with what it was at the revision. */
static int
diff_source(struct diff_ctx *c, const struct pm_audit_crate *ac, const struct pm_audit_source *src,
            bool untracked, struct pm_error *err)
{
        static const struct pm_audit_file empty = { 0 };
        const char *file = rel(c->rp, src->path);
        struct pm_strbuf old_src = PM_STRBUF_INIT, new_src = PM_STRBUF_INIT;
        struct pm_audit_file old = { 0 };
        const struct pm_audit_file *now = src->scan ? src->scan : &empty;
        char *spec = NULL;
        int r = 0;

        if (!untracked) {
                char *argv[] = { "git", "show", NULL, NULL };

                spec = pm_asprintf("%s:./%s", c->rev, file);
                if (!spec) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                argv[2] = spec;
                /* Fails when the file did not exist at the revision: then every site is new. */
                r = git_run(c->rp, argv, true, &old_src, NULL, err);
                if (r < 0)
                        goto out;
        }
        r = pm_audit_scan(old_src.buf ? old_src.buf : "", old_src.len, &old, err);
        if (r < 0)
                goto out;
        if (src->scan) {
                r = pm_strbuf_read_file(&new_src, src->path, PM_AUDIT_MAX_FILE_BYTES, err);
                if (r < 0)
                        goto out;
        }
        for (size_t k = 0; r == 0 && k < now->n_sites; k++) {
                const struct pm_audit_site *s = &now->sites[k];
                size_t o = site_find(&old, s->kind, s->item, site_nth(now, k));

                if (o == SIZE_MAX) {
                        c->n_added++;
                        r = diff_emit(c, "added", ac, file, s, NULL);
                        continue;
                }
                if (site_extent_hash(new_src.buf ? new_src.buf : "", new_src.len, s) !=
                    site_extent_hash(old_src.buf ? old_src.buf : "", old_src.len, &old.sites[o])) {
                        c->n_changed_sites++;
                        r = diff_emit(c, "changed", ac, file, s, &old.sites[o]);
                }
        }
        for (size_t k = 0; r == 0 && k < old.n_sites; k++) {
                const struct pm_audit_site *s = &old.sites[k];

                if (site_find(now, s->kind, s->item, site_nth(&old, k)) != SIZE_MAX)
                        continue;
                c->n_removed++;
                r = diff_emit(c, "removed", ac, file, s, NULL);
        }
        if (r < 0 && r == -ENOMEM)
                r = pm_error_set(err, r, "out of memory");
out:
        pm_audit_file_release(&old);
        pm_strbuf_release(&old_src);
        pm_strbuf_release(&new_src);
        pm_free(spec);
        return r;
}

/* The chosen crate whose root module's directory holds @relpath most closely, or NULL. */
static const struct pm_audit_crate *
owner_of(const struct report *rp, const char *relpath)
{
        const struct pm_audit_crate *best = NULL;
        size_t best_len = 0;

        for (size_t i = 0; i < rp->n; i++) {
                const char *root = rel(rp, rp->crates[i]->crate->root_module);
                const char *slash = strrchr(root, '/');
                size_t n = slash ? (size_t)(slash - root) : 0;

                if (root == rp->crates[i]->crate->root_module)
                        continue;
                if ((n == 0 || (strncmp(relpath, root, n) == 0 && relpath[n] == '/')) &&
                    (!best || n > best_len)) {
                        best = rp->crates[i];
                        best_len = n;
                }
        }
        return best;
}

/*
 * A changed .rs file no chosen crate holds now (deleted, or, when every crate is chosen, its
 * `mod` gone): its sites at the revision are removed, in the chosen crate whose directory holds
 * it.
 */
static int
diff_gone(struct diff_ctx *c, const char *file, struct pm_error *err)
{
        const struct pm_audit_crate *ac = owner_of(c->rp, file);
        struct pm_strbuf old_src = PM_STRBUF_INIT;
        struct pm_audit_file old = { 0 };
        char *spec = pm_asprintf("%s:./%s", c->rev, file);
        char *argv[] = { "git", "show", spec, NULL };
        int r = 0;

        if (!spec) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!ac)
                goto out;
        /* A file still there may be a source of a crate that was not chosen. */
        if (c->rp->subset) {
                char *abs = pm_path_join(NULL, c->rp->cfg->root, file);
                bool there = abs && is_file(abs);

                if (!abs) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
                pm_free(abs);
                if (there)
                        goto out;
        }
        r = git_run(c->rp, argv, true, &old_src, NULL, err);
        if (r == 0 && old_src.len > 0)
                r = pm_audit_scan(old_src.buf, old_src.len, &old, err);
        for (size_t k = 0; r == 0 && k < old.n_sites; k++) {
                c->n_removed++;
                r = diff_emit(c, "removed", ac, file, &old.sites[k], NULL);
                if (r < 0)
                        r = pm_error_set(err, r, "out of memory");
        }
out:
        pm_audit_file_release(&old);
        pm_strbuf_release(&old_src);
        pm_free(spec);
        return r;
}

/* A revision git may be given as an argument: not an option, no blanks or control bytes. */
static bool
rev_ok(const char *rev)
{
        if (!rev[0] || rev[0] == '-')
                return false;
        for (const unsigned char *p = (const unsigned char *)rev; *p; p++)
                if (*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/*
 * Every unsafe site of the chosen crates added, changed or removed since @rev, with its crate
 * and reviewers (the policy's owners), into @sb.
 */
static int
diff_report(struct pm_strbuf *sb, const struct report *rp, const struct pm_audit_policy *pol,
            const char *rev, enum pm_audit_format format, struct pm_error *err)
{
        struct diff_ctx c = { .rp = rp, .pol = pol, .rev = rev, .text = sb };
        struct pm_strbuf out = PM_STRBUF_INIT;
        char *commit = pm_asprintf("%s^{commit}", rev);
        char *verify[] = { "git", "rev-parse", "--verify", "--quiet", commit, NULL };
        char *names[] = { "git",        "diff",      "--name-only", "-z", "--no-renames",
                          "--relative", (char *)rev, "--",          NULL };
        char *untracked[] = { "git", "ls-files", "-z", "--others", "--exclude-standard", NULL };
        bool ok = false;
        int r;

        if (!commit) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = git_run(rp, verify, true, &out, &ok, err);
        if (r == 0 && !ok)
                r = pm_error_set(err, PM_ENOTFOUND, "--diff: '%s' is not a git revision in %s", rev,
                                 rp->cfg->root);
        pm_strbuf_reset(&out);
        if (r == 0)
                r = git_run(rp, names, false, &out, NULL, err);
        if (r == 0 && ((r = add_changed(&c, &out)) < 0 ||
                       !(c.seen = pm_calloc(c.n_changed + 1, sizeof(*c.seen)))))
                r = pm_error_set(err, r < 0 ? r : -ENOMEM, "out of memory");
        if (r < 0)
                goto out;
        pm_strbuf_reset(&out);
        r = git_run(rp, untracked, false, &out, NULL, err);
        if (r < 0)
                goto out;
        if (format == PM_AUDIT_FORMAT_JSON && !(c.json = cJSON_CreateArray())) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; r == 0 && i < rp->n; i++) {
                const struct pm_audit_crate *ac = rp->crates[i];

                for (size_t k = 0; r == 0 && k < ac->n_sources; k++) {
                        const char *file = rel(rp, ac->sources[k].path);
                        bool is_new = false;

                        if (file == ac->sources[k].path)
                                continue; /* outside the root: not in this repository's diff */
                        /* An untracked file is new; ls-files lists paths relative to the root. */
                        for (size_t j = 0; j < out.len; j += strlen(out.buf + j) + 1)
                                if (strcmp(out.buf + j, file) == 0)
                                        is_new = true;
                        if (is_changed(&c, file) || is_new)
                                r = diff_source(&c, ac, &ac->sources[k], is_new, err);
                }
        }
        for (size_t i = 0; r == 0 && i < c.n_changed; i++) {
                size_t n = strlen(c.changed[i]);

                if (!c.seen[i] && n > 3 && strcmp(c.changed[i] + n - 3, ".rs") == 0)
                        r = diff_gone(&c, c.changed[i], err);
        }
        if (r < 0)
                goto out;
        if (c.json) {
                char *s = cJSON_Print(c.json);

                r = s ? pm_strbuf_adds(sb, s) : -ENOMEM;
                if (r == 0)
                        r = pm_strbuf_addch(sb, '\n');
                cJSON_free(s);
        } else {
                r = pm_strbuf_addf(sb, "audit --diff %s: %zu added, %zu changed, %zu removed\n",
                                   rev, c.n_added, c.n_changed_sites, c.n_removed);
        }
        if (r < 0)
                r = pm_error_set(err, r, "out of memory");
out:
        cJSON_Delete(c.json);
        for (size_t i = 0; i < c.n_changed; i++)
                pm_free(c.changed[i]);
        pm_free(c.changed);
        pm_free(c.seen);
        pm_strbuf_release(&out);
        pm_free(commit);
        return r;
}

static int
run_audit(const struct audit_opts *o, struct pm_error *err)
{
        struct pm_strbuf out = PM_STRBUF_INIT;
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        struct pm_graph *g = NULL;
        struct pm_audit *a = NULL;
        struct pm_audit_store store;
        struct report rp = { 0 };
        struct pm_audit_policy *pol = NULL;
        const struct pm_audit_crate **by_index = NULL;
        size_t violations = 0;
        bool *on = NULL;
        int r;

        r = pm__cli_load_config(o->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        if (o->check || o->diff) {
                r = pm_audit_policy_load(cfg, &pol, err);
                if (r < 0)
                        goto out;
        }
        r = pm__cli_open_model(cfg, o->db, &idx, err);
        if (r < 0)
                goto out;
        if (o->refresh) {
                r = pm_model_refresh_sync(cfg, idx, NULL, pm__cli_progress("audit"), err);
                if (r < 0)
                        goto out;
        }
        r = pm_index_load(idx, NULL, 0, &g, err);
        if (r < 0)
                goto out;
        pm_graph_sort(g);
        on = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*on));
        rp.crates = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*rp.crates));
        rp.cfg = cfg;
        if (!on || !rp.crates) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        for (size_t i = 0; i < g->n_crates; i++)
                on[i] = o->n_args == 0;
        for (size_t i = 0; i < o->n_args; i++) {
                r = select_arg(idx, g, on, o->args[i], err);
                if (r < 0)
                        goto out;
        }
        if (o->closure) {
                r = pm_index_mark_audit(idx, g, NULL, true, on, err);
                if (r < 0)
                        goto out;
        }
        if (o->privileged) {
                r = privileged_report(&out, &rp, g, on, o->format);
                if (r < 0) {
                        r = pm_error_set(err, r, "out of memory");
                        goto out;
                }
                if (out.len > 0 && fwrite(out.buf, 1, out.len, stdout) != out.len)
                        r = pm_error_set(err, -EIO, "cannot write to standard output");
                goto out;
        }
        r = pm_audit_new(&a, err);
        if (r < 0)
                goto out;
        pm_index_audit_store(idx, &store);
        pm_audit_set_store(a, &store);
        r = pm_index_audit_begin(idx, err);
        if (r < 0)
                goto out;
        by_index = pm_calloc(g->n_crates ? g->n_crates : 1, sizeof(*by_index));
        if (!by_index)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        /* --check needs every crate: what the selected ones reach counts too. */
        for (size_t i = 0; r == 0 && i < g->n_crates; i++) {
                if (!on[i] && !o->check)
                        continue;
                r = pm_audit_add_crate(a, &g->crates[i], &by_index[i], err);
                if (r == 0 && on[i])
                        rp.crates[rp.n++] = by_index[i];
        }
        rp.subset = rp.n < g->n_crates;
        if (r < 0) {
                struct pm_error ignored;

                (void)pm_index_audit_end(idx, false, &ignored);
                goto out;
        }
        r = pm_index_audit_end(idx, true, err);
        if (r < 0)
                goto out;
        pm__cli_trace("audit: %zu crates, %zu files, %zu read, %zu bytes", rp.n,
                      pm_audit_files_scanned(a), pm_audit_files_read(a), pm_audit_bytes_read(a));
        if (o->diff) {
                r = diff_report(&out, &rp, pol, o->diff, o->format, err);
                if (r < 0)
                        goto out;
        } else if (o->check)
                r = check_policy(&out, &rp, g, on, by_index, pol, &violations);
        else
                r = pm_audit_render(&out, o->format, cfg->root, rp.crates, rp.n);
        if (r < 0) {
                r = pm_error_set(err, r, "out of memory");
                goto out;
        }
        if (out.len > 0 && fwrite(out.buf, 1, out.len, stdout) != out.len) {
                r = pm_error_set(err, -EIO, "cannot write to standard output");
                goto out;
        }
        if (fflush(stdout) != 0) {
                r = pm_error_set(err, -EIO, "cannot write to standard output");
                goto out;
        }
        if (o->check && !pm_audit_policy_present(pol)) {
                r = pm_error_set(err, PM_ECONFIG, "--check needs an \"audit\" policy in %s",
                                 cfg->file ? cfg->file : "the root's .projmodel.json");
        } else if (violations > 0) {
                r = pm_error_set(err, PM_ENOTFOUND, "%zu audit policy violation%s", violations,
                                 violations == 1 ? "" : "s");
        } else if (o->check) {
                (void)printf("audit: %zu crate%s checked, no violations\n", rp.n,
                             rp.n == 1 ? "" : "s");
        }
out:
        pm_free(by_index);
        pm_audit_policy_free(pol);
        pm_audit_free(a);
        pm_free(rp.crates);
        pm_free(on);
        pm_strbuf_release(&out);
        pm_graph_free(g);
        pm_index_close(idx);
        pm_config_free(cfg);
        return r;
}

/* projmodel/audit's "format" parameter, by enum pm_audit_format. */
static const char *const format_names[] = { "text", "json", "sarif" };

/*
 * The inventory from the running daemon (projmodel/audit, docs/protocol.md): the same bytes as
 * this process would print in o->format (one renderer, audit/render.c), from the daemon's
 * current model. *ret_used is false, and nothing printed, when no daemon serves the root.
 */
static int
audit_via_daemon(const struct audit_opts *o, bool *ret_used, struct pm_error *err)
{
        struct pm_client *c = NULL;
        cJSON *params = NULL, *result = NULL;
        char *s = NULL;
        int r;

        *ret_used = false;
        r = pm__cli_daemon_attach(o->root, o->socket, NULL, &c, err);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                pm_error_init(err);
                return 0;
        }
        if (r < 0)
                goto out;
        *ret_used = true;
        params = cJSON_CreateObject();
        r = pm_client_call(c, "initialize", pm_steal_ptr(&params), -1, NULL, NULL, &result, err);
        if (r < 0)
                goto out;
        cJSON_Delete(result);
        result = NULL;
        params = cJSON_CreateObject();
        if (!params || (o->n_args == 1 && !cJSON_AddStringToObject(params, "label", o->args[0])) ||
            (o->closure && !cJSON_AddBoolToObject(params, "closure", true)) ||
            !cJSON_AddStringToObject(params, "format", format_names[o->format])) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_client_call(c, "projmodel/audit", pm_steal_ptr(&params), -1, NULL, NULL, &result,
                           err);
        if (r < 0)
                goto out;
        if (o->format == PM_AUDIT_FORMAT_TEXT    ? !cJSON_IsString(result)
            : o->format == PM_AUDIT_FORMAT_SARIF ? !cJSON_IsObject(result)
                                                 : !cJSON_IsArray(result)) {
                r = pm_error_set(err, PM_EPROTO, "daemon reply to projmodel/audit is not %s",
                                 o->format == PM_AUDIT_FORMAT_TEXT    ? "a string"
                                 : o->format == PM_AUDIT_FORMAT_SARIF ? "a SARIF object"
                                                                      : "an array");
                goto out;
        }
        /* What pm_audit_render() prints: the text as it is, a document by cJSON_Print. */
        s = o->format == PM_AUDIT_FORMAT_TEXT ? NULL : cJSON_Print(result);
        if (o->format != PM_AUDIT_FORMAT_TEXT && !s) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        pm__cli_trace("audit: answered by the daemon");
        if ((s ? printf("%s\n", s) : fputs(result->valuestring, stdout)) < 0 || fflush(stdout) != 0)
                r = pm_error_set(err, -EIO, "cannot write to standard output");
out:
        cJSON_free(s);
        cJSON_Delete(params);
        cJSON_Delete(result);
        pm_client_free(c);
        return r;
}

int
pm__cli_cmd_audit(const struct pm__cli_globals *gl, int argc, char **argv)
{
        struct option longopts[sizeof(audit_opts_table) / sizeof(audit_opts_table[0]) + 1];
        struct audit_opts o = { .root = gl->root, .format = PM_AUDIT_FORMAT_TEXT, .refresh = true };
        struct pm_error err;
        int c;

        pm__cli_longopts(&pm__cli_audit_spec, longopts);

        while ((c = getopt_long(argc, argv, "hf:", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        o.root = optarg;
                        break;
                case OPT_DB:
                        o.db = optarg;
                        break;
                case OPT_SOCKET:
                        o.socket = optarg;
                        break;
                case 'f':
                        if (pm_audit_format_parse(optarg, &o.format) < 0)
                                return pm__cli_usage_error("audit", pm__cli_audit_usage,
                                                           "unknown format '%s'", optarg);
                        break;
                case OPT_NO_REFRESH:
                        o.refresh = false;
                        break;
                case OPT_CHECK:
                        o.check = true;
                        break;
                case OPT_PRIVILEGED:
                        o.privileged = true;
                        break;
                case OPT_CLOSURE:
                        o.closure = true;
                        break;
                case OPT_DIFF:
                        if (!rev_ok(optarg))
                                return pm__cli_usage_error("audit", pm__cli_audit_usage,
                                                           "--diff: '%s' is not a revision",
                                                           optarg);
                        o.diff = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_audit_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_audit_spec, argc, argv, NULL);
                }
        }
        o.args = argv + optind;
        o.n_args = (size_t)(argc - optind);
        if ((o.check && o.diff) || (o.privileged && (o.check || o.diff)))
                return pm__cli_usage_error("audit", pm__cli_audit_usage,
                                           "--check, --diff and --privileged cannot be combined");
        if (o.closure && o.n_args == 0)
                return pm__cli_usage_error("audit", pm__cli_audit_usage,
                                           "--closure needs a LABEL or FILE");
        if (o.diff && o.format == PM_AUDIT_FORMAT_SARIF)
                return pm__cli_usage_error("audit", pm__cli_audit_usage,
                                           "--diff writes text or json, not sarif");

        pm_error_init(&err);
        /* A running daemon answers the inventory of everything or of one crate, in any format
         * (kept current there); --db, --no-refresh and PROJMODEL_NO_DAEMON=1 keep it in this
         * process. */
        if (!o.check && !o.diff && !o.privileged && !o.db && o.refresh &&
            !getenv("PROJMODEL_NO_DAEMON") &&
            (o.n_args == 0 || (o.n_args == 1 && !is_file(o.args[0])))) {
                bool used;

                if (audit_via_daemon(&o, &used, &err) < 0) {
                        pm__cli_print_error(&err);
                        return PM_CLI_EXIT_ERROR;
                }
                if (used)
                        return PM_CLI_EXIT_OK;
        }
        if (run_audit(&o, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
