/* SPDX-License-Identifier: MIT */
/* Strict rust-project.json and discover-output validator used by every suite that checks output.
 * It reads files only to check that paths exist; it never runs anything. Over 800 lines because
 * it checks every field of rust-analyzer's schema (crates, sources, cfgs, deps, env, build,
 * runnables, sysroot) and each check is a few lines; one file keeps the whole schema in view. */
#include "validate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

/* Problems listed in one report before the rest are only counted. */
#define MAX_REPORTED 200
/* JSON paths in messages are truncated beyond this. */
#define WHERE_MAX 256

/* One validation run: the growing report plus what the crate checks need from the top level. */
struct vctx {
        struct pm_strbuf out;    /* the report, one problem per line */
        unsigned long nerrors;   /* problems found, reported or not */
        bool oom;                /* an allocation failed; the result is -ENOMEM */
        const char *prefix;      /* prepended to every JSON path ("" or "line 3: project.") */
        const cJSON *cfg_groups; /* top-level cfg_groups object, or NULL */
        const char *sysroot_src; /* top-level sysroot_src string, or NULL */
        bool nested;             /* inside sysroot_project: relative paths, no file checks */
};

static void verr(struct vctx *v, const char *where, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void
verr(struct vctx *v, const char *where, const char *fmt, ...)
{
        va_list ap;
        int r;

        v->nerrors++;
        if (v->nerrors > MAX_REPORTED || v->oom)
                return;
        r = pm_strbuf_addf(&v->out, "%s%s: ", v->prefix, where);
        if (r == 0) {
                va_start(ap, fmt);
                r = pm_strbuf_vaddf(&v->out, fmt, ap);
                va_end(ap);
        }
        if (r == 0)
                r = pm_strbuf_addch(&v->out, '\n');
        if (r < 0)
                v->oom = true;
}

/* Format a JSON path into @w (WHERE_MAX bytes); long paths are truncated, which only shortens
 * the message. */
static void wfmt(char *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wfmt(char *w, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(w, WHERE_MAX, fmt, ap);
        va_end(ap);
}

static const char *
type_name(const cJSON *j)
{
        if (cJSON_IsNull(j))
                return "null";
        if (cJSON_IsBool(j))
                return "a boolean";
        if (cJSON_IsNumber(j))
                return "a number";
        if (cJSON_IsString(j))
                return "a string";
        if (cJSON_IsArray(j))
                return "an array";
        if (cJSON_IsObject(j))
                return "an object";
        return "invalid";
}

static bool
in_list(const char *s, const char *const *list)
{
        for (size_t i = 0; list[i]; i++) {
                if (strcmp(s, list[i]) == 0)
                        return true;
        }
        return false;
}

/* Unknown keys are ignored by rust-analyzer, so a typo silently drops data: reject them, and
 * reject duplicates, which serde resolves differently from cJSON. */
static void
check_keys(struct vctx *v, const cJSON *obj, const char *where, const char *const *known)
{
        const cJSON *a, *b;

        for (a = obj->child; a; a = a->next) {
                if (!in_list(a->string, known))
                        verr(v, where, "unknown key '%s'", a->string);
                for (b = a->next; b; b = b->next) {
                        if (strcmp(a->string, b->string) == 0)
                                verr(v, where, "duplicate key '%s'", a->string);
                }
        }
}

static bool
expect_type(struct vctx *v, const cJSON *j, const char *where, int type, const char *what)
{
        if ((j->type & 0xff) == type)
                return true;
        verr(v, where, "expected %s, got %s", what, type_name(j));
        return false;
}

static bool
expect_string(struct vctx *v, const cJSON *j, const char *where)
{
        return expect_type(v, j, where, cJSON_String, "a string");
}

static bool
expect_bool(struct vctx *v, const cJSON *j, const char *where)
{
        if (cJSON_IsBool(j))
                return true;
        verr(v, where, "expected a boolean, got %s", type_name(j));
        return false;
}

static bool
is_ident(const char *s)
{
        /* Identifiers that can never be an extern crate name in any edition. */
        static const char *const reserved[] = {
                "_",     "as",   "async",  "await",  "break", "const",  "continue", "crate",
                "dyn",   "else", "enum",   "extern", "false", "fn",     "for",      "if",
                "impl",  "in",   "let",    "loop",   "match", "mod",    "move",     "mut",
                "pub",   "ref",  "return", "self",   "Self",  "static", "struct",   "super",
                "trait", "true", "type",   "unsafe", "use",   "where",  "while",    NULL,
        };

        if (!s[0] || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (const char *p = s + 1; *p; p++) {
                if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9')))
                        return false;
        }
        return !in_list(s, reserved);
}

/* A cfg identifier: like a Rust identifier, keywords allowed (`cfg(test)`, `cfg(r#true)`). */
static bool
is_cfg_ident(const char *s, size_t n)
{
        if (n == 0 ||
            !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
                return false;
        for (size_t i = 1; i < n; i++) {
                char c = s[i];
                if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9')))
                        return false;
        }
        return true;
}

/* §3.3: `flag` or `key="value"`, split at the first '=', value quoted, nothing trimmed. */
static void
check_cfg_string(struct vctx *v, const char *s, const char *where)
{
        const char *eq = strchr(s, '='), *val;
        size_t vlen;

        if (!eq) {
                if (!is_cfg_ident(s, strlen(s)))
                        verr(v, where, "cfg '%s' is not an identifier", s);
                return;
        }
        if (!is_cfg_ident(s, (size_t)(eq - s))) {
                verr(v, where, "cfg '%s' has an invalid key (whitespace around '=' is not trimmed)",
                     s);
                return;
        }
        val = eq + 1;
        vlen = strlen(val);
        if (vlen < 2 || val[0] != '"' || val[vlen - 1] != '"') {
                verr(v, where, "cfg '%s': value should be in double quotes", s);
                return;
        }
        for (size_t i = 1; i + 1 < vlen; i++) {
                if (val[i] == '"' || val[i] == '\\') {
                        verr(v, where, "cfg '%s': value contains a quote or backslash", s);
                        return;
                }
        }
}

static void
check_cfg_array(struct vctx *v, const cJSON *arr, const char *where)
{
        char w[WHERE_MAX];
        const cJSON *e;
        int i = 0;

        if (!expect_type(v, arr, where, cJSON_Array, "an array of cfg strings"))
                return;
        cJSON_ArrayForEach(e, arr)
        {
                wfmt(w, "%s[%d]", where, i++);
                if (expect_string(v, e, w))
                        check_cfg_string(v, e->valuestring, w);
        }
}

/* Numeric identifier of semver: digits, no leading zero unless exactly "0". */
static const char *
semver_num(const char *p)
{
        const char *s = p;

        while (*p >= '0' && *p <= '9')
                p++;
        if (p == s || (p - s > 1 && *s == '0'))
                return NULL;
        return p;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty; numeric ones without leading zeros
 * in the pre-release part (@strict_num). */
static const char *
semver_idents(const char *p, bool strict_num)
{
        for (;;) {
                const char *s = p;
                bool numeric = true;

                while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                       (*p >= 'A' && *p <= 'Z') || *p == '-') {
                        if (!(*p >= '0' && *p <= '9'))
                                numeric = false;
                        p++;
                }
                if (p == s)
                        return NULL;
                if (strict_num && numeric && p - s > 1 && *s == '0')
                        return NULL;
                if (*p != '.')
                        return p;
                p++;
        }
}

static bool
is_semver(const char *s)
{
        const char *p = s;

        for (int i = 0; i < 3; i++) {
                p = semver_num(p);
                if (!p)
                        return false;
                if (i < 2) {
                        if (*p != '.')
                                return false;
                        p++;
                }
        }
        if (*p == '-') {
                p = semver_idents(p + 1, true);
                if (!p)
                        return false;
        }
        if (*p == '+') {
                p = semver_idents(p + 1, false);
                if (!p)
                        return false;
        }
        return *p == '\0';
}

enum path_kind {
        PATH_ANY,
        PATH_FILE,
        PATH_DIR,
};

/* §9.2: absolute, lexically normalised and (outside sysroot_project) existing. */
static bool
check_path(struct vctx *v, const cJSON *j, const char *where, enum path_kind kind)
{
        struct stat st;
        char *norm;
        const char *s;

        if (!expect_string(v, j, where))
                return false;
        s = j->valuestring;
        if (!s[0]) {
                verr(v, where, "empty path");
                return false;
        }
        if (v->nested)
                return true;
        if (!pm_path_is_absolute(s)) {
                verr(v, where, "path '%s' is not absolute", s);
                return false;
        }
        norm = pm_path_normalize(NULL, NULL, s);
        if (!norm) {
                v->oom = true;
                return false;
        }
        if (strcmp(norm, s) != 0) {
                verr(v, where, "path '%s' is not normalised (expected '%s')", s, norm);
                pm_free(norm);
                return false;
        }
        pm_free(norm);
        if (kind == PATH_ANY)
                return true;
        if (stat(s, &st) < 0) {
                verr(v, where, "'%s' does not exist: %s", s, strerror(errno));
                return false;
        }
        if (kind == PATH_FILE && !S_ISREG(st.st_mode)) {
                verr(v, where, "'%s' is not a regular file", s);
                return false;
        }
        if (kind == PATH_DIR && !S_ISDIR(st.st_mode)) {
                verr(v, where, "'%s' is not a directory", s);
                return false;
        }
        return true;
}

static bool
has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);

        return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void
check_string_array(struct vctx *v, const cJSON *arr, const char *where, bool nonempty_items)
{
        char w[WHERE_MAX];
        const cJSON *e;
        int i = 0;

        if (!expect_type(v, arr, where, cJSON_Array, "an array of strings"))
                return;
        cJSON_ArrayForEach(e, arr)
        {
                wfmt(w, "%s[%d]", where, i++);
                if (expect_string(v, e, w) && nonempty_items && !e->valuestring[0])
                        verr(v, w, "empty string");
        }
}

/* §3.4 source: both arrays required; root_module must be under an include dir and not under
 * an exclude dir, or rust-analyzer never loads it. */
static void
check_source(struct vctx *v, const cJSON *src, const char *where, const char *root_module)
{
        static const char *const keys[] = { "include_dirs", "exclude_dirs", NULL };
        const cJSON *inc, *exc, *e;
        char w[WHERE_MAX];
        bool covered = false, all_valid = true;
        int i;

        if (!expect_type(v, src, where, cJSON_Object, "an object"))
                return;
        check_keys(v, src, where, keys);
        inc = cJSON_GetObjectItemCaseSensitive(src, "include_dirs");
        exc = cJSON_GetObjectItemCaseSensitive(src, "exclude_dirs");
        wfmt(w, "%s.include_dirs", where);
        if (!inc) {
                verr(v, where, "missing required 'include_dirs'");
        } else if (expect_type(v, inc, w, cJSON_Array, "an array of paths")) {
                if (cJSON_GetArraySize(inc) == 0)
                        verr(v, w, "empty: the crate's files would not be loaded");
                i = 0;
                cJSON_ArrayForEach(e, inc)
                {
                        wfmt(w, "%s.include_dirs[%d]", where, i++);
                        if (!check_path(v, e, w, PATH_DIR))
                                all_valid = false;
                        else if (root_module && pm_path_is_under(root_module, e->valuestring))
                                covered = true;
                }
                /* A bad include dir is reported already; do not add a consequential error. */
                if (root_module && !v->nested && !covered && all_valid)
                        verr(v, where, "root_module '%s' is under none of include_dirs",
                             root_module);
        }
        wfmt(w, "%s.exclude_dirs", where);
        if (!exc) {
                verr(v, where, "missing required 'exclude_dirs'");
        } else if (expect_type(v, exc, w, cJSON_Array, "an array of paths")) {
                i = 0;
                cJSON_ArrayForEach(e, exc)
                {
                        wfmt(w, "%s.exclude_dirs[%d]", where, i++);
                        if (check_path(v, e, w, PATH_ANY) && root_module && !v->nested &&
                            pm_path_is_under(root_module, e->valuestring))
                                verr(v, w, "excludes root_module '%s'", root_module);
                }
        }
}

static void
check_build(struct vctx *v, const cJSON *b, const char *where)
{
        static const char *const keys[] = { "label", "build_file", "target_kind", NULL };
        static const char *const kinds[] = { "bin", "lib", "test", NULL };
        const cJSON *e;
        char w[WHERE_MAX];

        if (!expect_type(v, b, where, cJSON_Object, "an object"))
                return;
        check_keys(v, b, where, keys);
        e = cJSON_GetObjectItemCaseSensitive(b, "label");
        wfmt(w, "%s.label", where);
        if (!e)
                verr(v, where, "missing required 'label'");
        else if (expect_string(v, e, w) && !e->valuestring[0])
                verr(v, w, "empty label");
        e = cJSON_GetObjectItemCaseSensitive(b, "build_file");
        wfmt(w, "%s.build_file", where);
        if (!e)
                verr(v, where, "missing required 'build_file'");
        else
                check_path(v, e, w, PATH_FILE);
        e = cJSON_GetObjectItemCaseSensitive(b, "target_kind");
        wfmt(w, "%s.target_kind", where);
        if (!e)
                verr(v, where, "missing required 'target_kind'");
        else if (expect_string(v, e, w) && !in_list(e->valuestring, kinds))
                verr(v, w, "'%s' is not one of bin, lib, test", e->valuestring);
}

/* For free-form objects (env, cfg_groups) only duplicate keys matter. */
static void
check_dup_keys(struct vctx *v, const cJSON *obj, const char *where)
{
        for (const cJSON *a = obj->child; a; a = a->next) {
                for (const cJSON *b = a->next; b; b = b->next) {
                        if (strcmp(a->string, b->string) == 0)
                                verr(v, where, "duplicate key '%s'", a->string);
                }
        }
}

static void
check_env(struct vctx *v, const cJSON *env, const char *where)
{
        char w[WHERE_MAX];
        const cJSON *e;

        if (!expect_type(v, env, where, cJSON_Object, "an object of strings"))
                return;
        cJSON_ArrayForEach(e, env)
        {
                wfmt(w, "%s.%s", where, e->string);
                if (!e->string[0] || strchr(e->string, '='))
                        verr(v, w, "invalid environment variable name '%s'", e->string);
                expect_string(v, e, w);
        }
        check_dup_keys(v, env, where);
}

static const char *const sysroot_crates[] = { "core", "alloc", "std", "proc_macro", NULL };

static void
check_deps(struct vctx *v, const cJSON *deps, const char *where, int self, int ncrates)
{
        static const char *const keys[] = { "crate", "name", NULL };
        char w[WHERE_MAX], wn[WHERE_MAX];
        const cJSON *d, *c, *n, *d2;
        int i = 0;

        if (!expect_type(v, deps, where, cJSON_Array, "an array of deps"))
                return;
        cJSON_ArrayForEach(d, deps)
        {
                wfmt(w, "%s[%d]", where, i++);
                if (!expect_type(v, d, w, cJSON_Object, "an object"))
                        continue;
                check_keys(v, d, w, keys);
                c = cJSON_GetObjectItemCaseSensitive(d, "crate");
                wfmt(wn, "%s.crate", w);
                if (!c) {
                        verr(v, w, "missing required 'crate'");
                } else if (!cJSON_IsNumber(c)) {
                        verr(v, wn, "expected an integer index, got %s", type_name(c));
                } else if (c->valuedouble < 0 || c->valuedouble >= ncrates ||
                           c->valuedouble != (double)(int)c->valuedouble) {
                        verr(v, wn, "index %g is not an integer in [0, %d)", c->valuedouble,
                             ncrates);
                } else if ((int)c->valuedouble == self) {
                        verr(v, wn, "crate depends on itself");
                }
                n = cJSON_GetObjectItemCaseSensitive(d, "name");
                wfmt(wn, "%s.name", w);
                if (!n) {
                        verr(v, w, "missing required 'name'");
                        continue;
                }
                if (!expect_string(v, n, wn))
                        continue;
                if (strchr(n->valuestring, '-'))
                        verr(v, wn, "invalid crate name '%s': contains '-'", n->valuestring);
                else if (!is_ident(n->valuestring))
                        verr(v, wn, "invalid crate name '%s': not an identifier", n->valuestring);
                if (v->sysroot_src && !v->nested && in_list(n->valuestring, sysroot_crates))
                        verr(v, wn, "'%s' is a sysroot crate: rust-analyzer adds it itself",
                             n->valuestring);
                for (d2 = d->next; d2; d2 = d2->next) {
                        const cJSON *n2 = cJSON_GetObjectItemCaseSensitive(d2, "name");
                        if (cJSON_IsString(n2) && strcmp(n2->valuestring, n->valuestring) == 0)
                                verr(v, wn, "dependency name '%s' is used twice", n->valuestring);
                }
        }
}

static const char *const crate_keys[] = {
        "display_name",
        "root_module",
        "edition",
        "version",
        "deps",
        "cfg_groups",
        "cfg",
        "target",
        "env",
        "crate_attrs",
        "is_proc_macro",
        "proc_macro_dylib_path",
        "is_workspace_member",
        "source",
        "repository",
        "build",
        "proc_macro_cwd",
        NULL,
};

static void
check_crate(struct vctx *v, const cJSON *c, int idx, int ncrates)
{
        static const char *const editions[] = { "2015", "2018", "2021", "2024", NULL };
        char where[WHERE_MAX], w[WHERE_MAX];
        const cJSON *e, *rm, *ipm;
        const char *root = NULL;
        bool is_pm = false;

        wfmt(where, "crates[%d]", idx);
        if (!expect_type(v, c, where, cJSON_Object, "a crate object"))
                return;
        check_keys(v, c, where, crate_keys);

        e = cJSON_GetObjectItemCaseSensitive(c, "display_name");
        wfmt(w, "%s.display_name", where);
        if (e && expect_string(v, e, w)) {
                char *name = pm_strdup(e->valuestring);
                if (!name) {
                        v->oom = true;
                } else {
                        for (char *p = name; *p; p++) {
                                if (*p == '-')
                                        *p = '_';
                        }
                        if (!is_ident(name))
                                verr(v, w, "'%s' does not give a valid crate name", e->valuestring);
                        if (v->sysroot_src && !v->nested && in_list(name, sysroot_crates))
                                verr(v, w, "sysroot crate '%s' listed although sysroot_src is set",
                                     e->valuestring);
                        pm_free(name);
                }
        }

        rm = cJSON_GetObjectItemCaseSensitive(c, "root_module");
        wfmt(w, "%s.root_module", where);
        if (!rm) {
                verr(v, where, "missing required 'root_module'");
        } else if (check_path(v, rm, w, PATH_FILE)) {
                root = rm->valuestring;
                if (!has_suffix(root, ".rs"))
                        verr(v, w, "'%s' is not a .rs file: rust-analyzer would not load it", root);
                if (v->sysroot_src && !v->nested && pm_path_is_under(root, v->sysroot_src))
                        verr(v, w, "sysroot crate '%s' listed although sysroot_src is set", root);
        }

        e = cJSON_GetObjectItemCaseSensitive(c, "edition");
        wfmt(w, "%s.edition", where);
        if (!e)
                verr(v, where, "missing required 'edition'");
        else if (expect_string(v, e, w) && !in_list(e->valuestring, editions))
                verr(v, w, "'%s' is not one of 2015, 2018, 2021, 2024", e->valuestring);

        e = cJSON_GetObjectItemCaseSensitive(c, "version");
        wfmt(w, "%s.version", where);
        if (e && expect_string(v, e, w) && !is_semver(e->valuestring))
                verr(v, w, "'%s' is not full semver (MAJOR.MINOR.PATCH)", e->valuestring);

        e = cJSON_GetObjectItemCaseSensitive(c, "deps");
        wfmt(w, "%s.deps", where);
        if (!e)
                verr(v, where, "missing required 'deps'");
        else
                check_deps(v, e, w, idx, ncrates);

        e = cJSON_GetObjectItemCaseSensitive(c, "cfg_groups");
        wfmt(w, "%s.cfg_groups", where);
        if (e) {
                const cJSON *g;
                int i = 0;

                check_string_array(v, e, w, true);
                if (cJSON_IsArray(e)) {
                        cJSON_ArrayForEach(g, e)
                        {
                                char wg[WHERE_MAX];

                                wfmt(wg, "%s[%d]", w, i++);
                                if (cJSON_IsString(g) && !cJSON_GetObjectItemCaseSensitive(
                                                                 v->cfg_groups, g->valuestring))
                                        verr(v, wg, "no top-level cfg group '%s'", g->valuestring);
                        }
                }
        }

        e = cJSON_GetObjectItemCaseSensitive(c, "cfg");
        wfmt(w, "%s.cfg", where);
        if (e)
                check_cfg_array(v, e, w);

        e = cJSON_GetObjectItemCaseSensitive(c, "target");
        wfmt(w, "%s.target", where);
        if (e && expect_string(v, e, w) && (!e->valuestring[0] || strpbrk(e->valuestring, " \t\n")))
                verr(v, w, "'%s' is not a target triple", e->valuestring);

        e = cJSON_GetObjectItemCaseSensitive(c, "env");
        wfmt(w, "%s.env", where);
        if (e)
                check_env(v, e, w);

        e = cJSON_GetObjectItemCaseSensitive(c, "crate_attrs");
        wfmt(w, "%s.crate_attrs", where);
        if (e) {
                const cJSON *a;
                int i = 0;

                check_string_array(v, e, w, true);
                if (cJSON_IsArray(e)) {
                        cJSON_ArrayForEach(a, e)
                        {
                                char wa[WHERE_MAX];

                                wfmt(wa, "%s[%d]", w, i++);
                                if (cJSON_IsString(a) && (strncmp(a->valuestring, "#", 1) == 0))
                                        verr(v, wa, "'%s' must not include the #![...] wrapper",
                                             a->valuestring);
                        }
                }
        }

        ipm = cJSON_GetObjectItemCaseSensitive(c, "is_proc_macro");
        wfmt(w, "%s.is_proc_macro", where);
        if (ipm && expect_bool(v, ipm, w))
                is_pm = cJSON_IsTrue(ipm);

        e = cJSON_GetObjectItemCaseSensitive(c, "proc_macro_dylib_path");
        wfmt(w, "%s.proc_macro_dylib_path", where);
        if (e) {
                if (!is_pm)
                        verr(v, w, "given but is_proc_macro is not true");
                check_path(v, e, w, is_pm ? PATH_FILE : PATH_ANY);
        }

        e = cJSON_GetObjectItemCaseSensitive(c, "is_workspace_member");
        wfmt(w, "%s.is_workspace_member", where);
        if (e)
                expect_bool(v, e, w);
        else if (!v->nested)
                verr(v, where, "missing 'is_workspace_member' (projmodel always sets it)");

        e = cJSON_GetObjectItemCaseSensitive(c, "source");
        wfmt(w, "%s.source", where);
        if (e)
                check_source(v, e, w, root);

        e = cJSON_GetObjectItemCaseSensitive(c, "repository");
        wfmt(w, "%s.repository", where);
        if (e)
                expect_string(v, e, w);

        e = cJSON_GetObjectItemCaseSensitive(c, "build");
        wfmt(w, "%s.build", where);
        if (e)
                check_build(v, e, w);

        e = cJSON_GetObjectItemCaseSensitive(c, "proc_macro_cwd");
        wfmt(w, "%s.proc_macro_cwd", where);
        if (e)
                check_path(v, e, w, PATH_DIR);
}

/*
 * Report each dependency cycle once (rust-analyzer drops cycle edges one by one with only a
 * warning, which hides broken graphs). Iterative DFS with white/grey/black colours, so a deep
 * chain cannot overflow the stack. Only well-formed edges are followed.
 */
static void
check_cycles(struct vctx *v, const cJSON *crates, int n)
{
        const cJSON **items = NULL;
        unsigned char *color = NULL;
        int *stack = NULL, *pos = NULL;

        items = pm_calloc((size_t)n + 1, sizeof(*items));
        color = pm_calloc((size_t)n + 1, 1);
        stack = pm_calloc((size_t)n + 1, sizeof(*stack));
        pos = pm_calloc((size_t)n + 1, sizeof(*pos));
        if (!items || !color || !stack || !pos) {
                v->oom = true;
                goto out;
        }
        for (int i = 0; i < n; i++)
                items[i] = cJSON_GetArrayItem(crates, i);
        for (int s = 0; s < n; s++) {
                int sp = 0;

                if (color[s])
                        continue;
                stack[sp] = s;
                pos[sp++] = 0;
                color[s] = 1;
                while (sp > 0) {
                        int u = stack[sp - 1];
                        const cJSON *deps = cJSON_GetObjectItemCaseSensitive(items[u], "deps");
                        const cJSON *d =
                                cJSON_IsArray(deps) ? cJSON_GetArrayItem(deps, pos[sp - 1]) : NULL;
                        const cJSON *ci;
                        int t;

                        if (!d) {
                                color[u] = 2;
                                sp--;
                                continue;
                        }
                        pos[sp - 1]++;
                        ci = cJSON_GetObjectItemCaseSensitive(d, "crate");
                        if (!cJSON_IsNumber(ci) || ci->valuedouble < 0 || ci->valuedouble >= n ||
                            ci->valuedouble != (double)(int)ci->valuedouble)
                                continue;
                        t = (int)ci->valuedouble;
                        if (t == u)
                                continue; /* reported as a self-dependency */
                        if (color[t] == 1) {
                                char where[WHERE_MAX];

                                wfmt(where, "crates[%d].deps", u);
                                verr(v, where, "dependency cycle through crates[%d]", t);
                        } else if (color[t] == 0) {
                                color[t] = 1;
                                stack[sp] = t;
                                pos[sp++] = 0;
                        }
                }
        }
out:
        pm_free(items);
        pm_free(color);
        pm_free(stack);
        pm_free(pos);
}

/*
 * The placeholders rust-analyzer fills for @kind (run {label}; testOne {label} {test_id};
 * flycheck {label} {saved_file}); any other `{...}` reaches the program verbatim.
 */
static bool
placeholder_ok(const char *kind, const char *name, size_t len)
{
        static const struct {
                const char *kind;
                const char *names[3];
        } table[] = {
                { "run", { "label", NULL } },
                { "check", { "label", NULL } },
                { "testOne", { "label", "test_id", NULL } },
                { "flycheck", { "label", "saved_file", NULL } },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                if (strcmp(table[i].kind, kind) != 0)
                        continue;
                for (size_t k = 0; table[i].names[k]; k++)
                        if (strlen(table[i].names[k]) == len &&
                            memcmp(table[i].names[k], name, len) == 0)
                                return true;
        }
        return false;
}

/* Each `{name}` of @arg is one rust-analyzer fills for @kind; flycheck fills one per argument. */
static void
check_placeholders(struct vctx *v, const char *arg, const char *kind, const char *where)
{
        unsigned n = 0;

        for (const char *p = strchr(arg, '{'); p; p = strchr(p + 1, '{')) {
                const char *end = strchr(p, '}');

                if (!end)
                        break;
                n++;
                if (!placeholder_ok(kind, p + 1, (size_t)(end - p - 1)))
                        verr(v, where, "placeholder '%.*s' is not filled for kind '%s'",
                             (int)(end - p + 1), p, kind);
        }
        if (n > 1 && strcmp(kind, "flycheck") == 0)
                verr(v, where, "flycheck fills only the first placeholder of an argument");
}

static void
check_runnable(struct vctx *v, const cJSON *r, const char *where, unsigned *seen)
{
        static const char *const keys[] = { "program", "args", "cwd", "kind", NULL };
        /* Every rust-analyzer since the field exists (2024) accepts these four. */
        static const char *const kinds[] = { "run", "testOne", "flycheck", "check", NULL };
        static const char *const newer[] = { "testMod", "docTestOne", "benchOne", NULL };
        const cJSON *e, *args, *a;
        const char *kind = NULL;
        char w[WHERE_MAX];
        int i;

        if (!expect_type(v, r, where, cJSON_Object, "a runnable object"))
                return;
        check_keys(v, r, where, keys);
        e = cJSON_GetObjectItemCaseSensitive(r, "kind");
        wfmt(w, "%s.kind", where);
        if (!e)
                verr(v, where, "missing required 'kind'");
        else if (expect_string(v, e, w) && in_list(e->valuestring, newer))
                verr(v, w, "kind '%s' is rejected by rust-analyzer before 2026 (whole file fails)",
                     e->valuestring);
        else if (cJSON_IsString(e) && !in_list(e->valuestring, kinds))
                verr(v, w, "unknown kind '%s' (older rust-analyzer rejects the file)",
                     e->valuestring);
        else if (cJSON_IsString(e)) {
                kind = e->valuestring;
                for (i = 0; kinds[i]; i++)
                        if (strcmp(kinds[i], kind) == 0)
                                break;
                if (*seen & (1u << i))
                        verr(v, w, "second '%s' runnable: rust-analyzer uses only the first", kind);
                *seen |= 1u << i;
        }
        e = cJSON_GetObjectItemCaseSensitive(r, "program");
        wfmt(w, "%s.program", where);
        if (!e)
                verr(v, where, "missing required 'program'");
        else if (expect_string(v, e, w) && !e->valuestring[0])
                verr(v, w, "empty program");
        else if (cJSON_IsString(e) && strchr(e->valuestring, '/')) {
                /* A path (not a PATH lookup) must be absolute: cwd varies by kind. */
                if (e->valuestring[0] != '/')
                        verr(v, w, "program '%s' is a relative path", e->valuestring);
                else if (access(e->valuestring, X_OK) != 0)
                        verr(v, w, "program '%s' is not an executable file", e->valuestring);
        }
        args = cJSON_GetObjectItemCaseSensitive(r, "args");
        wfmt(w, "%s.args", where);
        if (!args)
                verr(v, where, "missing required 'args'");
        else
                check_string_array(v, args, w, false);
        if (cJSON_IsArray(args) && kind) {
                i = 0;
                cJSON_ArrayForEach(a, args)
                {
                        wfmt(w, "%s.args[%d]", where, i++);
                        if (cJSON_IsString(a))
                                check_placeholders(v, a->valuestring, kind, w);
                }
        }
        e = cJSON_GetObjectItemCaseSensitive(r, "cwd");
        wfmt(w, "%s.cwd", where);
        if (!e)
                verr(v, where, "missing required 'cwd'");
        else
                check_path(v, e, w, PATH_DIR);
}

static void check_project(struct vctx *v, const cJSON *root);

static void
check_sysroot_project(struct vctx *v, const cJSON *sp)
{
        struct vctx inner = *v;
        const char *saved_prefix = v->prefix;
        char *prefix;

        if (!v->sysroot_src)
                verr(v, "sysroot_project", "ignored by rust-analyzer without sysroot_src");
        prefix = pm_asprintf("%ssysroot_project.", saved_prefix);
        if (!prefix) {
                v->oom = true;
                return;
        }
        /* Paths inside are relative to sysroot_src, which may not be installed: structure only. */
        inner.prefix = prefix;
        inner.nested = true;
        inner.cfg_groups = NULL;
        inner.sysroot_src = NULL;
        check_project(&inner, sp);
        v->out = inner.out;
        v->nerrors = inner.nerrors;
        v->oom = inner.oom;
        pm_free(prefix);
}

static void
check_project(struct vctx *v, const cJSON *root)
{
        static const char *const keys[] = { "sysroot",    "sysroot_src", "sysroot_project",
                                            "cfg_groups", "crates",      "runnables",
                                            NULL };
        const cJSON *sysroot, *src, *sp, *groups, *crates, *runnables, *e;
        char w[WHERE_MAX];
        int n, i;

        if (!cJSON_IsObject(root)) {
                verr(v, "(top level)", "expected an object, got %s", type_name(root));
                return;
        }
        check_keys(v, root, "(top level)", keys);

        sysroot = cJSON_GetObjectItemCaseSensitive(root, "sysroot");
        if (sysroot && !cJSON_IsNull(sysroot))
                check_path(v, sysroot, "sysroot", v->nested ? PATH_ANY : PATH_DIR);
        src = cJSON_GetObjectItemCaseSensitive(root, "sysroot_src");
        if (src && !cJSON_IsNull(src)) {
                /* rust-src is often not installed, so its existence is not required. */
                if (check_path(v, src, "sysroot_src", PATH_ANY))
                        v->sysroot_src = src->valuestring;
        }
        if (sysroot && !cJSON_IsNull(sysroot) && (!src || cJSON_IsNull(src)))
                verr(v, "sysroot", "given without 'sysroot_src': no std sources are loaded");
        sp = cJSON_GetObjectItemCaseSensitive(root, "sysroot_project");
        if (sp && !cJSON_IsNull(sp)) {
                if (v->nested)
                        verr(v, "sysroot_project", "nested sysroot_project");
                else if (expect_type(v, sp, "sysroot_project", cJSON_Object, "an object"))
                        check_sysroot_project(v, sp);
        }

        groups = cJSON_GetObjectItemCaseSensitive(root, "cfg_groups");
        if (groups && expect_type(v, groups, "cfg_groups", cJSON_Object, "an object")) {
                check_dup_keys(v, groups, "cfg_groups");
                cJSON_ArrayForEach(e, groups)
                {
                        wfmt(w, "cfg_groups.%s", e->string);
                        check_cfg_array(v, e, w);
                }
                v->cfg_groups = groups;
        }

        runnables = cJSON_GetObjectItemCaseSensitive(root, "runnables");
        if (runnables && expect_type(v, runnables, "runnables", cJSON_Array, "an array")) {
                unsigned seen = 0;

                i = 0;
                cJSON_ArrayForEach(e, runnables)
                {
                        wfmt(w, "runnables[%d]", i++);
                        check_runnable(v, e, w, &seen);
                }
        }

        crates = cJSON_GetObjectItemCaseSensitive(root, "crates");
        if (!crates) {
                verr(v, "(top level)", "missing required 'crates'");
                return;
        }
        if (!expect_type(v, crates, "crates", cJSON_Array, "an array"))
                return;
        n = cJSON_GetArraySize(crates);
        i = 0;
        cJSON_ArrayForEach(e, crates)
        {
                check_crate(v, e, i++, n);
        }
        check_cycles(v, crates, n);
}

/* Start @v; finish() turns it into the result. */
static void
vctx_init(struct vctx *v, const char *prefix)
{
        memset(v, 0, sizeof(*v));
        pm_strbuf_init(&v->out);
        v->prefix = prefix;
}

static int
vctx_finish(struct vctx *v, char **ret_errors)
{
        int r = 0;

        if (v->oom) {
                r = -ENOMEM;
        } else if (v->nerrors > 0) {
                if (v->nerrors > MAX_REPORTED &&
                    pm_strbuf_addf(&v->out, "... and %lu more problems\n",
                                   v->nerrors - MAX_REPORTED) < 0) {
                        r = -ENOMEM;
                } else {
                        r = PM_ESCHEMA;
                        if (ret_errors) {
                                *ret_errors = pm_strbuf_detach(&v->out, NULL);
                                if (!*ret_errors)
                                        r = -ENOMEM;
                        }
                }
        }
        pm_strbuf_release(&v->out);
        return r;
}

/* Parse exactly @len bytes as one JSON value; trailing garbage is an error. */
static cJSON *
parse_exact(struct vctx *v, const char *json, size_t len, const char *where)
{
        const char *end = NULL;
        cJSON *root;

        root = cJSON_ParseWithLengthOpts(json, len, &end, false);
        if (!root) {
                const char *at = cJSON_GetErrorPtr();
                size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
                verr(v, where, "not valid JSON (error near byte %zu)", off);
                return NULL;
        }
        while (end && end < json + len &&
               (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
                end++;
        if (end && end < json + len && *end) {
                verr(v, where, "trailing data after the JSON value at byte %zu",
                     (size_t)(end - json));
                cJSON_Delete(root);
                return NULL;
        }
        return root;
}

int
pm_test_validate_project(const char *json, size_t len, char **ret_errors)
{
        struct vctx v;
        cJSON *root;

        vctx_init(&v, "");
        root = parse_exact(&v, json, len, "(document)");
        if (root)
                check_project(&v, root);
        cJSON_Delete(root);
        return vctx_finish(&v, ret_errors);
}

/* Compact means no whitespace between tokens; whitespace inside strings is data. */
static bool
is_compact(const char *s, size_t n)
{
        bool in_str = false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (in_str) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_str = false;
                } else if (c == '"') {
                        in_str = true;
                } else if (c == ' ' || c == '\t' || c == '\r') {
                        return false;
                }
        }
        return true;
}

static bool
check_discover_line(struct vctx *v, const cJSON *m, const char *where, char *prefix_buf,
                    size_t prefix_size)
{
        static const char *const progress_keys[] = { "kind", "message", NULL };
        static const char *const error_keys[] = { "kind", "error", "source", NULL };
        static const char *const finished_keys[] = { "kind", "buildfile", "project", NULL };
        const cJSON *kind, *e;
        char w[WHERE_MAX];
        const char *saved;

        if (!cJSON_IsObject(m)) {
                verr(v, where, "expected a JSON object, got %s", type_name(m));
                return false;
        }
        kind = cJSON_GetObjectItemCaseSensitive(m, "kind");
        if (!kind || !cJSON_IsString(kind)) {
                verr(v, where, "missing string 'kind'");
                return false;
        }
        if (strcmp(kind->valuestring, "progress") == 0) {
                check_keys(v, m, where, progress_keys);
                e = cJSON_GetObjectItemCaseSensitive(m, "message");
                wfmt(w, "%s.message", where);
                if (!e)
                        verr(v, where, "progress without 'message'");
                else
                        expect_string(v, e, w);
                return false;
        }
        if (strcmp(kind->valuestring, "error") == 0) {
                check_keys(v, m, where, error_keys);
                e = cJSON_GetObjectItemCaseSensitive(m, "error");
                wfmt(w, "%s.error", where);
                if (!e)
                        verr(v, where, "error without 'error'");
                else if (expect_string(v, e, w) && !e->valuestring[0])
                        verr(v, w, "empty error message");
                e = cJSON_GetObjectItemCaseSensitive(m, "source");
                wfmt(w, "%s.source", where);
                if (e && !cJSON_IsNull(e))
                        expect_string(v, e, w);
                return true;
        }
        if (strcmp(kind->valuestring, "finished") == 0) {
                check_keys(v, m, where, finished_keys);
                e = cJSON_GetObjectItemCaseSensitive(m, "buildfile");
                wfmt(w, "%s.buildfile", where);
                if (!e)
                        verr(v, where, "finished without 'buildfile'");
                else
                        check_path(v, e, w, PATH_FILE);
                e = cJSON_GetObjectItemCaseSensitive(m, "project");
                if (!e) {
                        verr(v, where, "finished without 'project'");
                } else {
                        snprintf(prefix_buf, prefix_size, "%s: project.", where);
                        saved = v->prefix;
                        v->prefix = prefix_buf;
                        v->cfg_groups = NULL;
                        v->sysroot_src = NULL;
                        check_project(v, e);
                        v->prefix = saved;
                }
                return true;
        }
        verr(v, where, "unknown kind '%s' (expected progress, error or finished)",
             kind->valuestring);
        return false;
}

int
pm_test_validate_discover_output(const char *stdout_text, char **ret_errors)
{
        char where[WHERE_MAX], prefix[WHERE_MAX + 16];
        const char *p = stdout_text, *nl;
        unsigned long lineno = 0, terminals = 0, last_terminal = 0;
        struct vctx v;

        vctx_init(&v, "");
        if (!*p)
                verr(&v, "(stdout)", "empty: no terminal message, rust-analyzer never finishes");
        while (*p) {
                size_t n;
                cJSON *m;

                lineno++;
                wfmt(where, "line %lu", lineno);
                nl = strchr(p, '\n');
                if (!nl) {
                        verr(&v, where, "not terminated by a newline");
                        n = strlen(p);
                } else {
                        n = (size_t)(nl - p);
                }
                if (n == 0) {
                        verr(&v, where, "blank line (rust-analyzer reports it as an error)");
                } else if (!is_compact(p, n)) {
                        verr(&v, where, "not compact JSON (whitespace between tokens)");
                }
                if (n > 0) {
                        m = parse_exact(&v, p, n, where);
                        if (m && check_discover_line(&v, m, where, prefix, sizeof(prefix))) {
                                terminals++;
                                last_terminal = lineno;
                        }
                        cJSON_Delete(m);
                }
                p = nl ? nl + 1 : p + n;
        }
        if (lineno > 0 && terminals == 0)
                verr(&v, "(stdout)", "no terminal message (finished or error)");
        else if (terminals > 1)
                verr(&v, "(stdout)", "%lu terminal messages, expected exactly one", terminals);
        if (terminals > 0 && last_terminal != lineno)
                verr(&v, "(stdout)", "terminal message on line %lu is not the last line",
                     last_terminal);
        return vctx_finish(&v, ret_errors);
}
