/* SPDX-License-Identifier: MIT */
/* `projmodel export`: refresh the model (or apply captured tool output) and write the whole
 * repository's rust-project.json. Unchanged input skips the parse (input stamps), an unchanged
 * model reuses the last rendering (the model's output cache), an unchanged file is not
 * rewritten. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/project.h"
#include "projmodel/refresh.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"
#include "projmodel/writer.h"

#include "cli-internal.h"

/* Bump when the writer renders the same graph and options differently within one projmodel
 * version: cached outputs then no longer match. */
#define OUTPUT_FORMAT "1"

const char pm__cli_export_usage[] =
        "export [--root DIR] [--db PATH] [--output FILE] [--pretty] [--no-refresh] "
        "[--query-output FILE [--build-system NAME]]";

enum {
        OPT_DB = 256,
        OPT_QUERY_OUTPUT,
        OPT_BUILD_SYSTEM,
        OPT_NO_REFRESH
};

/* export's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt export_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up "
          "from the working directory.",
          "export --root ~/src/monorepo" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "export --db /tmp/model.db" },
        { "output", required_argument, 'o', "FILE",
          "Write rust-project.json to FILE (atomically) instead of standard output.",
          "export --output rust-project.json" },
        { "pretty", no_argument, 'p', NULL, "Indent the JSON for reading.",
          "export --pretty | less" },
        { "no-refresh", no_argument, OPT_NO_REFRESH, NULL,
          "Do not run the build systems: write the model as it was last refreshed.",
          "export --no-refresh --output rust-project.json" },
        { "query-output", required_argument, OPT_QUERY_OUTPUT, "FILE",
          "Also save the build tool's raw query output to FILE (for bug reports and fixtures).",
          "export --query-output gn-desc.json" },
        { "build-system", required_argument, OPT_BUILD_SYSTEM, "NAME",
          "With --query-output: capture the output of this build system (gn, bazel, buck2, "
          "cargo) when the root has several.",
          "export --query-output cargo-metadata.json --build-system cargo" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "export --help" },
};

const struct pm__cli_spec pm__cli_export_spec = PM__CLI_SPEC(
        "export", pm__cli_export_usage,
        "Refresh the model from the build systems and write rust-project.json.", export_opts_table);

struct export_opts {
        const char *root;
        const char *db;
        const char *output;
        const char *query_output;
        const char *build_system;
        bool pretty;
        bool refresh;
};

/* The project --query-output describes: the root project if it uses @build_system (or any
 * build system when NULL), else the first subproject that does. */
static const struct pm_project *
captured_project(const struct pm_config *cfg, const char *build_system)
{
        if (!build_system)
                return &cfg->projects[0];
        for (size_t i = 0; i < cfg->n_projects; i++)
                if (cfg->projects[i].build_system &&
                    strcmp(cfg->projects[i].build_system, build_system) == 0)
                        return &cfg->projects[i];
        return NULL;
}

/*
 * The --query-output route: parse a file of captured tool output instead of running the tool,
 * and apply it as that project's graph (or nothing at all when the model was built from this
 * very input: pm_model_apply_outputs()). *ret_graph is the graph applied, or NULL.
 */
static int
apply_captured(const struct pm_config *cfg, struct pm_index *idx, const struct export_opts *o,
               struct pm_graph **ret_graph, struct pm_change *ret_change, struct pm_error *err)
{
        struct pm_strbuf data = PM_STRBUF_INIT;
        const struct pm_project *project;
        struct pm_query q;
        struct pm_blob blob;
        char *file = NULL;
        int r;

        if (o->build_system && !pm_adapter_find(o->build_system)) {
                r = pm_error_set(err, PM_ECONFIG, "unknown build system '%s'", o->build_system);
                goto out;
        }
        project = captured_project(cfg, o->build_system);
        if (!project) {
                r = pm_error_set_at(err, PM_ECONFIG, cfg->file ? cfg->file : cfg->root, 0, 0,
                                    "no project uses build system '%s'", o->build_system);
                goto out;
        }
        file = pm__cli_abspath(o->query_output);
        if (!file) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = pm_strbuf_read_file(&data, file, cfg->max_tool_output, err);
        if (r < 0)
                goto out;
        pm__cli_trace("read '%s'", file);
        q = (struct pm_query){ .config = cfg, .project = project, .captured = true };
        blob = (struct pm_blob){ .data = data.buf ? data.buf : "",
                                 .len = data.len,
                                 .origin = file };
        r = pm_model_apply_outputs(idx, &q, &blob, 1, ret_change, ret_graph, err);
        if (r < 0 && err && !err->file[0] && !strstr(err->msg, file))
                (void)snprintf(err->file, sizeof(err->file), "%s", file);
out:
        pm_strbuf_release(&data);
        pm_free(file);
        return r;
}

/* The output cache key: everything the rendering depends on besides the model. */
static char *
output_key(const struct pm_writer_options *w)
{
        return pm_asprintf(
                "rust-project.json " PM_VERSION " " OUTPUT_FORMAT
                "\npretty=%d\nsysroot=%s\nsysroot_src=%s\nproc_macro_cwd=%s\nrunnables=%s"
                "\nno_flycheck=%d",
                w->pretty ? 1 : 0, w->sysroot ? w->sysroot : "",
                w->sysroot_src ? w->sysroot_src : "", w->proc_macro_cwd ? w->proc_macro_cwd : "",
                w->runnables_program ? w->runnables_program : "", w->no_flycheck ? 1 : 0);
}

/*
 * True when the model is exactly @g (just applied as the only project): every crate of the
 * model is one of @g's, so @g renders as the model would, without loading it back.
 */
static bool
graph_is_model(const struct pm_config *cfg, struct pm_index *idx, const struct pm_graph *g)
{
        size_t n;

        return g && cfg->n_projects == 1 && pm_index_count(idx, &n, NULL) == 0 && n == g->n_crates;
}

/* The record of a written output file: "<size> <hash>" of its contents. */
static char *
file_record(const void *data, size_t len)
{
        return pm_asprintf("%zu %016" PRIx64, len, pm_hash64(data, len, 0));
}

/*
 * Map @path (a regular file) read-only: *ret_data (NULL for an empty file) and *ret_len.
 * Returns false when it cannot be mapped; unmap with munmap(*ret_data, *ret_len).
 */
static bool
map_file(const char *path, void **ret_data, size_t *ret_len)
{
        struct stat st;
        void *p = NULL;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                (void)close(fd);
                return false;
        }
        if (st.st_size > 0) {
                p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
                if (p == MAP_FAILED) {
                        (void)close(fd);
                        return false;
                }
        }
        (void)close(fd);
        *ret_data = p;
        *ret_len = (size_t)st.st_size;
        return true;
}

/*
 * True when @path still holds what the record @rec says was written there. The file is read
 * and hashed: its times could lie, its contents cannot.
 */
static bool
file_matches(const char *path, const char *rec)
{
        void *data;
        size_t len;
        char *mine;
        bool same;

        if (!map_file(path, &data, &len))
                return false;
        mine = file_record(data, len);
        same = mine && strcmp(mine, rec) == 0;
        pm_free(mine);
        if (data)
                (void)munmap(data, len);
        return same;
}

/* True when @path holds exactly @sb's bytes (then it is not rewritten: an editor watching it
 * does not reload for nothing). */
static bool
same_contents(const char *path, const struct pm_strbuf *sb)
{
        void *data;
        size_t len;
        bool same;

        if (!map_file(path, &data, &len))
                return false;
        same = len == sb->len && (len == 0 || memcmp(data, sb->buf, len) == 0);
        if (data)
                (void)munmap(data, len);
        return same;
}

static int
write_stdout(const struct pm_strbuf *sb, struct pm_error *err)
{
        if (sb->len > 0 && fwrite(sb->buf, 1, sb->len, stdout) != sb->len)
                return pm_error_set(err, -EIO, "cannot write to standard output");
        if (fflush(stdout) != 0)
                return pm_error_set(err, -errno, "cannot write to standard output: %s",
                                    strerror(errno));
        return 0;
}

/* What one export produces, and how. */
struct export_run {
        const struct pm_config *cfg;
        struct pm_index *idx;
        struct pm_writer_options w;
        char *key;  /* output_key() */
        char *path; /* absolute output file, or NULL for standard output */
        char *fkey; /* key of the output file's record, or NULL */
        char *self; /* this binary, named by the runnables (pm_path_self_exe()), or NULL */
        const struct pm_progress *progress; /* pm__cli_progress(): phases on a terminal only */
};

/* "written" on a terminal: how many crates went where; @kept: the file was already current. */
static void
report_written(const struct export_run *x, bool kept)
{
        size_t n = 0;

        if (!x->progress->cb || pm_index_count(x->idx, &n, NULL) < 0)
                return;
        if (kept)
                pm_progress_report(x->progress, "'%s' is up to date (%zu crate%s)", x->path, n,
                                   n == 1 ? "" : "s");
        else
                pm_progress_report(x->progress, "wrote %zu crate%s to %s%s%s", n, n == 1 ? "" : "s",
                                   x->path ? "'" : "", x->path ? x->path : "standard output",
                                   x->path ? "'" : "");
}

/*
 * Produce the rendering into @out and the generation it shows in *ret_gen: the cached
 * rendering when the model and options are as last time, else a rendering of the graph just
 * applied when it is the whole model, else of a fresh load (then stored for next time).
 */
static int
render_model(struct export_run *x, const struct pm_graph *applied, const struct pm_change *change,
             struct pm_strbuf *out, uint64_t *ret_gen, struct pm_error *err)
{
        const struct pm_project_request whole = { .form = PM_PROJECT_REPO };
        struct pm_project_answer loaded = { 0 };
        uint64_t gen;
        bool hit = false;
        int r;

        r = pm_index_generation(x->idx, &gen, err);
        if (r >= 0)
                r = pm_index_output_get(x->idx, x->key, out, &hit, err);
        if (r < 0 || hit) {
                if (hit)
                        pm__cli_trace("output cache hit");
                goto out;
        }
        if (graph_is_model(x->cfg, x->idx, applied)) {
                /* The generation @applied produced: if anything moved since, records made for
                 * it are refused. */
                gen = change->generation;
                r = pm_writer_render(applied, &x->w, out, err);
                pm__cli_trace("render the parsed graph");
                /* Not stored: the output file's record makes the next export cheap, and the
                 * cold path stays short. */
                goto out;
        }
        /* The whole repository's project, as projmodel/rustProject answers it. */
        r = pm_project_answer(x->idx, &whole, &loaded, err);
        if (r < 0)
                goto out;
        pm__cli_trace("load");
        r = pm_writer_render(loaded.graph, &x->w, out, err);
        if (r < 0)
                goto out;
        pm__cli_trace("render");
        /* Only a cache: failing to store it does not fail the export. */
        (void)pm_index_output_put(x->idx, x->key, gen, out->buf ? out->buf : "", out->len, NULL);
        pm__cli_trace("store the rendering");
out:
        pm_project_answer_release(&loaded);
        if (r >= 0)
                *ret_gen = gen;
        return r;
}

/* Render (or reuse) the output and write it where it goes, unless it is already there. */
static int
produce_output(struct export_run *x, const struct pm_graph *applied, const struct pm_change *change,
               struct pm_error *err)
{
        struct pm_strbuf out = PM_STRBUF_INIT;
        char *rec = NULL;
        uint64_t gen;
        bool hit = false;
        int r;

        if (x->fkey) {
                r = pm_index_output_get(x->idx, x->fkey, &out, &hit, err);
                if (r < 0)
                        goto out;
                if (hit && file_matches(x->path, out.buf)) {
                        pm__cli_trace("'%s' is up to date (output cache hit)", x->path);
                        report_written(x, true);
                        goto out;
                }
                pm_strbuf_reset(&out);
        }
        r = render_model(x, applied, change, &out, &gen, err);
        if (r < 0)
                goto out;
        if (!x->path) {
                r = write_stdout(&out, err);
                if (r >= 0)
                        report_written(x, false);
                goto out;
        }
        if (same_contents(x->path, &out)) {
                pm__cli_trace("'%s' is up to date", x->path);
                report_written(x, true);
        } else {
                r = pm_write_file_atomic(x->path, out.buf ? out.buf : "", out.len, err);
                if (r < 0)
                        goto out;
                pm__cli_trace("write");
                report_written(x, false);
        }
        rec = file_record(out.buf ? out.buf : "", out.len);
        if (rec)
                (void)pm_index_output_put(x->idx, x->fkey, gen, rec, strlen(rec), NULL);
        pm__cli_trace("record the output file");
out:
        pm_free(rec);
        pm_strbuf_release(&out);
        return r;
}

static int
run_export(const struct export_opts *o, struct pm_error *err)
{
        struct pm_sysroot_job *job = NULL;
        struct export_run x = { 0 };
        struct pm_change change = { 0 };
        struct pm_config *cfg = NULL;
        struct pm_index *idx = NULL;
        struct pm_graph *g = NULL;
        char *sysroot = NULL, *sysroot_src = NULL;
        int r;

        pm__cli_trace("start");
        x.progress = pm__cli_progress("export");
        r = pm__cli_load_config(o->root, NULL, &cfg, err);
        if (r < 0)
                goto out;
        r = pm__cli_open_model(cfg, o->db, &idx, err);
        if (r < 0)
                goto out;
        pm__cli_trace("open the model");
        if (o->query_output) {
                /* On a fresh model, rustc is asked on a second thread while this one parses and
                 * writes the model. */
                if (!pm_sysroot_lookup_cached(cfg, idx, &sysroot, &sysroot_src))
                        job = pm_sysroot_job_start(cfg);
                r = apply_captured(cfg, idx, o, &g, &change, err);
                for (size_t i = 0; r >= 0 && g && i < g->warnings.n; i++)
                        pm_progress_warn(x.progress, g->warnings.v[i]);
                if (r >= 0)
                        pm__cli_trace(g ? "parse and apply" : "input unchanged: parse skipped");
        } else if (o->refresh) {
                /* The graph comes back so that a one-project model renders without a load. */
                r = pm_model_refresh_sync_graph(cfg, idx, &change, &g, x.progress, err);
                if (r >= 0)
                        pm__cli_trace(g ? "refresh" : "refresh: parse skipped");
        }
        if (job) {
                struct pm_error jerr;

                pm_error_init(&jerr);
                if (pm_sysroot_job_finish(pm_steal_ptr(&job), &sysroot, &sysroot_src, &jerr) == 0)
                        pm_sysroot_remember(cfg, idx, sysroot);
        }
        if (r < 0)
                goto out;
        if (!sysroot) {
                /* The model's stored one (a refresh's), or asked now (with its error). */
                r = pm__cli_sysroot(cfg, idx, true, &sysroot, &sysroot_src, err);
                if (r < 0)
                        goto out;
        }
        pm__cli_trace("sysroot");

        x.cfg = cfg;
        x.idx = idx;
        x.w.sysroot = sysroot;
        x.w.sysroot_src = sysroot_src;
        x.w.proc_macro_cwd = cfg->root;
        /* The runnables name this binary (docs/cli.md "check, test, run"). */
        errno = 0;
        x.self = pm_path_self_exe();
        if (!x.self && errno == ENOMEM) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        x.w.runnables_program = x.self;
        x.w.no_flycheck = cfg->no_flycheck_runnable;
        x.w.pretty = o->pretty;
        x.key = output_key(&x.w);
        if (o->output && strcmp(o->output, "-") != 0) {
                x.path = pm__cli_abspath(o->output);
                x.fkey = x.key && x.path ? pm_asprintf("%s\nfile=%s", x.key, x.path) : NULL;
        }
        if (!x.key || (o->output && strcmp(o->output, "-") != 0 && !x.fkey)) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        r = produce_output(&x, g, &change, err);
out:
        pm_free(x.key);
        pm_free(x.self);
        pm_free(x.path);
        pm_free(x.fkey);
        pm_change_release(&change);
        pm_graph_free(g);
        pm_free(sysroot);
        pm_free(sysroot_src);
        pm_index_close(idx);
        pm_config_free(cfg);
        if (r >= 0)
                pm__cli_trace("done");
        return r;
}

int
pm__cli_cmd_export(const struct pm__cli_globals *gl, int argc, char **argv)
{
        struct option longopts[sizeof(export_opts_table) / sizeof(export_opts_table[0]) + 1];
        struct export_opts o = { .root = gl->root, .refresh = true };
        struct pm_error err;
        int c;

        pm__cli_longopts(&pm__cli_export_spec, longopts);
        while ((c = getopt_long(argc, argv, "ho:p", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        o.root = optarg;
                        break;
                case OPT_DB:
                        o.db = optarg;
                        break;
                case 'o':
                        o.output = optarg;
                        break;
                case 'p':
                        o.pretty = true;
                        break;
                case OPT_NO_REFRESH:
                        o.refresh = false;
                        break;
                case OPT_QUERY_OUTPUT:
                        o.query_output = optarg;
                        break;
                case OPT_BUILD_SYSTEM:
                        o.build_system = optarg;
                        break;
                case 'h':
                        return pm__cli_help_spec(&pm__cli_export_spec);
                default:
                        return pm__cli_bad_option(&pm__cli_export_spec, argc, argv, NULL);
                }
        }
        if (optind < argc)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "unexpected argument '%s'", argv[optind]);
        if (o.build_system && !o.query_output)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "--build-system needs --query-output");
        if (o.query_output && !o.refresh)
                return pm__cli_usage_error("export", pm__cli_export_usage,
                                           "--query-output and --no-refresh exclude each other");

        pm_error_init(&err);
        if (run_export(&o, &err) < 0) {
                pm__cli_print_error(&err);
                return PM_CLI_EXIT_ERROR;
        }
        return PM_CLI_EXIT_OK;
}
