/* SPDX-License-Identifier: MIT */
/* What `cargo check --message-format=json` (the Cargo plan's build step) says about the crates
 * of `cargo metadata`: each build script's cfgs, env and OUT_DIR, each proc macro's dylib, and the
 * notes for what did not run (docs/build-integration.md). Reads bytes; runs nothing. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"
#include "adapters/cargo/cargo-internal.h"

#define NOTE_SCRIPT_CAPTURED \
        "build script not run by projmodel: OUT_DIR and cfgs it would emit are missing"
#define NOTE_MACRO_CAPTURED \
        "proc macro not built by projmodel: its macros are not expanded until a dylib is provided"
#define NOTE_SCRIPT_OFF \
        "build script not run (build_proc_macros is false): OUT_DIR and cfgs it would emit are missing"
#define NOTE_MACRO_OFF \
        "proc macro not built (build_proc_macros is false): its macros are not expanded"
#define NOTE_ERROR_MAX 300 /* bytes of a tool's error line quoted in a note */

enum msg_type {
        MSG_SCRIPT_BUILT, /* compiler-artifact of a custom-build target: the script compiled */
        MSG_SCRIPT_RAN,   /* build-script-executed */
        MSG_DYLIB,        /* compiler-artifact of a proc-macro target with a dylib */
        MSG_ERROR,        /* compiler-message of level "error" */
};

/* One message that matters, borrowed from its line's JSON (kept in docs). */
struct msg {
        const char *pkg;    /* package_id: cargo metadata's package `id` */
        const char *target; /* target name, NULL for build-script-executed */
        enum msg_type type;
        size_t seq; /* line order: the last of several runs wins, as in rust-analyzer */
        const cJSON *obj;
        const char *dylib; /* MSG_DYLIB: the file of `filenames` that is the library */
};

struct pm__cargo_check {
        enum pm__cargo_check_mode mode;
        const char *step_error; /* the step's pm_blob.error (borrowed), or NULL */
        const char *err_text;   /* its stderr (borrowed), or NULL */
        size_t err_len;
        cJSON **docs; /* the lines kept */
        size_t n_docs, cap_docs;
        struct msg *v; /* sorted by (pkg, seq) */
        size_t n, cap;
};

static const char *
str_of(const cJSON *obj, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

        return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool
kinds_have(const cJSON *target, const char *kind)
{
        const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(target, "kind"), *k;

        cJSON_ArrayForEach(k, kinds)
        {
                if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0)
                        return true;
        }
        return false;
}

/* The dylib among a compiler-artifact's `filenames` (the .rmeta beside it is not loadable). */
static const char *
dylib_of(const cJSON *obj)
{
        const cJSON *files = cJSON_GetObjectItemCaseSensitive(obj, "filenames"), *f;

        cJSON_ArrayForEach(f, files)
        {
                const char *s = cJSON_IsString(f) ? f->valuestring : NULL;
                const char *dot = s ? strrchr(s, '.') : NULL;

                if (dot && pm_path_is_absolute(s) &&
                    (strcmp(dot, ".so") == 0 || strcmp(dot, ".dylib") == 0 ||
                     strcmp(dot, ".dll") == 0))
                        return s;
        }
        return NULL;
}

static int
push_msg(struct pm__cargo_check *c, const struct msg *m)
{
        if (pm_grow(&c->v, &c->cap, c->n + 1, 16) < 0)
                return -ENOMEM;
        c->v[c->n++] = *m;
        return 0;
}

/* Classify one parsed line; 1 when kept (c now owns @doc), 0 when not of interest. */
static int
classify(struct pm__cargo_check *c, cJSON *doc, size_t seq)
{
        const char *reason = str_of(doc, "reason"), *pkg = str_of(doc, "package_id");
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(doc, "target");
        const cJSON *message;
        struct msg m = { .pkg = pkg, .target = str_of(target, "name"), .seq = seq, .obj = doc };
        const char *level;

        if (!reason || !pkg)
                return 0;
        if (strcmp(reason, "build-script-executed") == 0) {
                m.type = MSG_SCRIPT_RAN;
                m.target = NULL;
        } else if (strcmp(reason, "compiler-artifact") == 0 && m.target &&
                   kinds_have(target, "custom-build")) {
                m.type = MSG_SCRIPT_BUILT;
        } else if (strcmp(reason, "compiler-artifact") == 0 && m.target &&
                   kinds_have(target, "proc-macro") && (m.dylib = dylib_of(doc))) {
                m.type = MSG_DYLIB;
        } else if (strcmp(reason, "compiler-message") == 0 && m.target) {
                message = cJSON_GetObjectItemCaseSensitive(doc, "message");
                level = str_of(message, "level");
                if (!level || strcmp(level, "error") != 0)
                        return 0;
                m.type = MSG_ERROR;
        } else {
                return 0;
        }
        if (pm_grow(&c->docs, &c->cap_docs, c->n_docs + 1, 16) < 0)
                return -ENOMEM;
        if (push_msg(c, &m) < 0)
                return -ENOMEM;
        c->docs[c->n_docs++] = doc;
        return 1;
}

static int
msg_cmp(const void *a, const void *b)
{
        const struct msg *x = a, *y = b;
        int r = strcmp(x->pkg, y->pkg);

        if (r)
                return r;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
pm__cargo_check_free(struct pm__cargo_check *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_docs; i++)
                cJSON_Delete(c->docs[i]);
        pm_free(c->docs);
        pm_free(c->v);
        pm_free(c);
}

int
pm__cargo_check_read(enum pm__cargo_check_mode mode, const struct pm_blob *blob,
                     struct pm__cargo_check **ret, struct pm_error *err)
{
        struct pm__cargo_check *c = pm_calloc(1, sizeof(*c));
        const char *p, *end;
        size_t seq = 0;
        int r = 0;

        if (!c)
                return pm_error_set(err, -ENOMEM, "out of memory");
        c->mode = mode;
        if (mode == PM__CARGO_CHECK_RAN && blob) {
                c->step_error = blob->error;
                c->err_text = blob->err_text;
                c->err_len = blob->err_text ? blob->err_len : 0;
                p = blob->data;
                end = blob->data + blob->len;
                while (p < end && r >= 0) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        size_t len = (size_t)((nl ? nl : end) - p), off = 0;
                        cJSON *doc;

                        /* Cargo passes through text that tools print beside its messages: only
                         * lines that are JSON objects are messages. */
                        if (len > 0 && *p == '{' && pm__json_check(p, len, &off) == 0) {
                                doc = cJSON_ParseWithLength(p, len);
                                if (!doc) {
                                        r = -ENOMEM;
                                        break;
                                }
                                r = classify(c, doc, seq++);
                                if (r <= 0)
                                        cJSON_Delete(doc);
                        }
                        p += len + 1;
                }
                if (r < 0) {
                        pm__cargo_check_free(c);
                        return pm_error_set(err, -ENOMEM, "out of memory");
                }
                if (c->n > 1)
                        qsort(c->v, c->n, sizeof(*c->v), msg_cmp);
        }
        *ret = c;
        return 0;
}

/* The messages of package @id: [*ret_first, *ret_end) of c->v. */
static void
messages_of(const struct pm__cargo_check *c, const char *id, size_t *ret_first, size_t *ret_end)
{
        size_t lo = 0, hi = c->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(c->v[mid].pkg, id) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *ret_first = lo;
        while (hi < c->n && strcmp(c->v[hi].pkg, id) == 0)
                hi++;
        *ret_end = hi;
}

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

/*
 * A build script's cfg as rust-project.json wants it: `name` or `name="value"`. Cargo passes
 * what the script printed (`cargo:rustc-cfg=k="v"`, spaces allowed around '='). Returns 0 with
 * *ret NULL when it is no cfg rustc would accept (skipped), -ENOMEM.
 */
static int
cfg_of(struct pm_graph *g, const char *s, char **ret)
{
        const char *eq = strchr(s, '='), *ne, *v, *ve;

        *ret = NULL;
        while (*s == ' ')
                s++;
        ne = eq ? eq : s + strlen(s);
        while (ne > s && ne[-1] == ' ')
                ne--;
        if (ne == s || memchr(s, '"', (size_t)(ne - s)) || memchr(s, ' ', (size_t)(ne - s)))
                return 0;
        if (!eq) {
                *ret = pm_graph_printf(g, "%.*s", (int)(ne - s), s);
                return *ret ? 0 : -ENOMEM;
        }
        v = eq + 1;
        while (*v == ' ')
                v++;
        ve = v + strlen(v);
        while (ve > v && ve[-1] == ' ')
                ve--;
        if (ve - v < 2 || *v != '"' || ve[-1] != '"' || memchr(v + 1, '"', (size_t)(ve - v - 2)))
                return 0;
        *ret = pm_graph_printf(g, "%.*s=%.*s", (int)(ne - s), s, (int)(ve - v), v);
        return *ret ? 0 : -ENOMEM;
}

/* Apply one build-script-executed message to crate @cr. */
static int
apply_script(struct pm_graph *g, struct pm_crate *cr, const cJSON *obj, struct pm_error *err)
{
        const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(obj, "cfgs");
        const cJSON *env = cJSON_GetObjectItemCaseSensitive(obj, "env"), *e;
        const char *out_dir = str_of(obj, "out_dir");
        char *dir, *cfg;

        cJSON_ArrayForEach(e, cfgs)
        {
                if (!cJSON_IsString(e))
                        continue;
                if (cfg_of(g, e->valuestring, &cfg) < 0)
                        return oom(err);
                if (cfg && pm_strlist_push_unique(g, &cr->cfgs, cfg) < 0)
                        return oom(err);
        }
        cJSON_ArrayForEach(e, env)
        {
                const cJSON *k = cJSON_GetArrayItem(e, 0), *v = cJSON_GetArrayItem(e, 1);

                if (cJSON_IsArray(e) && cJSON_IsString(k) && cJSON_IsString(v) &&
                    k->valuestring[0] &&
                    pm_kvlist_set(g, &cr->env, k->valuestring, v->valuestring) < 0)
                        return oom(err);
        }
        if (out_dir && pm_path_is_absolute(out_dir)) {
                /* include!(concat!(env!("OUT_DIR"), "/x.rs")): the directory must be in the
                 * crate's source root for rust-analyzer to load the file. */
                dir = pm_path_normalize(g->arena, NULL, out_dir);
                if (!dir || pm_kvlist_set(g, &cr->env, "OUT_DIR", dir) < 0 ||
                    pm_strlist_push_unique(g, &cr->include_dirs, dir) < 0)
                        return oom(err);
        }
        return 0;
}

/* "<message> at <file>:<line>" of a compiler-message, shortened for a note. */
static char *
error_text(struct pm_graph *g, const cJSON *obj)
{
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(obj, "message");
        const cJSON *spans = cJSON_GetObjectItemCaseSensitive(message, "spans"), *s;
        const char *text = str_of(message, "message");

        cJSON_ArrayForEach(s, spans)
        {
                const cJSON *primary = cJSON_GetObjectItemCaseSensitive(s, "is_primary");
                const cJSON *line = cJSON_GetObjectItemCaseSensitive(s, "line_start");
                const char *file = str_of(s, "file_name");

                if (cJSON_IsTrue(primary) && file && cJSON_IsNumber(line))
                        return pm_graph_printf(g, "error: %.*s at %.*s:%d", NOTE_ERROR_MAX,
                                               text ? text : "?", NOTE_ERROR_MAX, file,
                                               line->valueint);
        }
        return pm_graph_printf(g, "error: %.*s", NOTE_ERROR_MAX, text ? text : "?");
}

/* Newlines and other control characters would break `dump`'s one-line notes. */
static void
one_line(char *s)
{
        for (; s && *s; s++)
                if ((unsigned char)*s < 0x20)
                        *s = ' ';
}

/* Add @text (NULL: out of memory making it) to @cr's note ("; "-separated). */
static int
add_note(struct pm_graph *g, struct pm_crate *cr, const char *text, struct pm_error *err)
{
        char *n;

        if (!text)
                return oom(err);
        n = cr->note ? pm_graph_printf(g, "%s; %s", cr->note, text) : pm_graph_strdup(g, text);

        if (!n)
                return oom(err);
        one_line(n);
        cr->note = n;
        return 0;
}

/*
 * What the failed build script printed, from cargo's report that starts at @line ("error:
 * failed to run custom build command for ..."): its first two non-empty lines after `---
 * stderr` (a panic: "thread 'main' panicked at build.rs:1:13:" and the message), joined; ""
 * when the report has none before the next error. NULL: out of memory.
 */
static char *
script_stderr(struct pm_graph *g, const struct pm__cargo_check *c, const char *line)
{
        const char *end = c->err_text + c->err_len, *p = line, *text[2] = { NULL, NULL };
        int len[2] = { 0, 0 }, n = 0;
        bool in_stderr = false;
        char *out, *tid;

        p = memchr(p, '\n', (size_t)(end - p));
        while (p && ++p < end && n < 2) {
                const char *nl = memchr(p, '\n', (size_t)(end - p)), *b = p;
                const char *e = nl ? nl : end;

                if (strncmp(p, "error", 5) == 0 || strncmp(p, "warning: build failed", 21) == 0)
                        break; /* cargo's next report */
                while (b < e && (*b == ' ' || *b == '\t'))
                        b++;
                if (!in_stderr) {
                        in_stderr = (size_t)(e - b) >= 10 && strncmp(b, "--- stderr", 10) == 0;
                } else if (e > b && strncmp(b, "stack backtrace:", 16) != 0 &&
                           strncmp(b, "note: ", 6) != 0) {
                        text[n] = b;
                        len[n++] = (int)(e - b) < NOTE_ERROR_MAX ? (int)(e - b) : NOTE_ERROR_MAX;
                }
                p = nl;
        }
        out = pm_graph_printf(g, "%.*s%s%.*s", len[0], text[0] ? text[0] : "", n > 1 ? " " : "",
                              len[1], text[1] ? text[1] : "");
        /* "thread 'main' (12345) panicked": the thread id differs on every run, and a note that
         * changes would make the crate look changed on every refresh. */
        tid = out ? strstr(out, "' (") : NULL;
        if (tid) {
                size_t digits = strspn(tid + 3, "0123456789");

                if (digits > 0 && strncmp(tid + 3 + digits, ") panicked", 10) == 0)
                        memmove(tid + 1, tid + 3 + digits + 1, strlen(tid + 3 + digits + 1) + 1);
        }
        return out;
}

/* Why a step that ran produced nothing for package @p's build script (NULL: out of memory). */
static const char *
script_note(struct pm_graph *g, const struct pm__cargo_check *c, const struct pm__cargo_pkg *p,
            bool built)
{
        char *said;
        const char *line;

        if (c->n == 0 && c->step_error)
                return pm_graph_printf(g,
                                       "build script not run: %.*s; OUT_DIR and cfgs it would emit "
                                       "are missing",
                                       NOTE_ERROR_MAX, c->step_error);
        if (!built)
                return "build script did not run in `cargo check` (a build dependency failed, or "
                       "the package is not built for this target): OUT_DIR and cfgs it would "
                       "emit are missing";
        /* Cargo's own line about this package on stderr: "error: failed to run custom build
         * command for `bad v0.1.0 (/ws/bad)`". */
        said = pm_graph_printf(g, "error: failed to run custom build command for `%s v%s ", p->name,
                               p->version);
        if (!said)
                return NULL;
        line = c->err_text ? memmem(c->err_text, c->err_len, said, strlen(said)) : NULL;
        if (line) {
                char *why = script_stderr(g, c, line);
                int n = (int)strcspn(line, "\n");

                return why ? pm_graph_printf(g,
                                             "build script failed in `cargo check`: %.*s%s%s; "
                                             "OUT_DIR and cfgs it would emit are missing",
                                             n < NOTE_ERROR_MAX ? n : NOTE_ERROR_MAX, line,
                                             *why ? ": " : "", why)
                           : NULL;
        }
        return "build script failed in `cargo check` (projmodel's target directory): OUT_DIR and "
               "cfgs it would emit are missing";
}

int
pm__cargo_check_apply(const struct pm__cargo_check *c, struct pm_graph *g,
                      const struct pm__cargo_pkg *p, struct pm_error *err)
{
        const struct msg *ran = NULL;
        size_t first = 0, end = 0;
        bool built = false;
        int r;

        if (c->mode == PM__CARGO_CHECK_RAN)
                messages_of(c, p->id, &first, &end);
        for (size_t i = first; i < end; i++) {
                if (c->v[i].type == MSG_SCRIPT_RAN)
                        ran = &c->v[i];
                built = built || c->v[i].type == MSG_SCRIPT_BUILT;
        }
        for (size_t k = p->first; k < p->end; k++) {
                struct pm_crate *cr = &g->crates[k];
                const struct msg *dylib = NULL, *error = NULL;

                if (p->build_script) {
                        if (ran)
                                r = apply_script(g, cr, ran->obj, err);
                        else if (c->mode == PM__CARGO_CHECK_CAPTURED)
                                r = add_note(g, cr, NOTE_SCRIPT_CAPTURED, err);
                        else if (c->mode == PM__CARGO_CHECK_OFF)
                                r = add_note(g, cr, NOTE_SCRIPT_OFF, err);
                        else
                                r = add_note(g, cr, script_note(g, c, p, built), err);
                        if (r < 0)
                                return r;
                }
                if (cr->kind != PM_CRATE_PROC_MACRO)
                        continue;
                for (size_t i = first; i < end; i++) {
                        const struct msg *m = &c->v[i];

                        if (!m->target || strcmp(m->target, cr->display_name) != 0)
                                continue;
                        if (m->type == MSG_DYLIB)
                                dylib = m;
                        else if (m->type == MSG_ERROR && !error)
                                error = m;
                }
                if (dylib) {
                        /* As cargo reported it; the server copies it into the content-addressed
                         * dylib cache before rust-analyzer sees it (docs/build-integration.md). */
                        cr->proc_macro_dylib = pm_path_normalize(g->arena, NULL, dylib->dylib);
                        r = cr->proc_macro_dylib ? 0 : oom(err);
                } else if (c->mode == PM__CARGO_CHECK_CAPTURED) {
                        r = add_note(g, cr, NOTE_MACRO_CAPTURED, err);
                } else if (c->mode == PM__CARGO_CHECK_OFF) {
                        r = add_note(g, cr, NOTE_MACRO_OFF, err);
                } else if (error) {
                        char *t = error_text(g, error->obj);

                        r = add_note(g, cr,
                                     t ? pm_graph_printf(g, "proc macro not built: %s", t) : NULL,
                                     err);
                } else if (c->n == 0 && c->step_error) {
                        r = add_note(g, cr,
                                     pm_graph_printf(g, "proc macro not built: %.*s",
                                                     NOTE_ERROR_MAX, c->step_error),
                                     err);
                } else {
                        r = add_note(g, cr,
                                     "proc macro not built by `cargo check`: nothing in the "
                                     "workspace uses it, or a dependency failed to build",
                                     err);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}
