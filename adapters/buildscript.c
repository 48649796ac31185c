/* SPDX-License-Identifier: MIT */
/* Reading what a build script told rustc, as Bazel's and Buck2's build-script runners record it
 * (rules_rust's `<name>.flags` and `<name>.env`, Buck2's `[rustc_flags]` file): the cfgs and env
 * a Cargo build of the crate would get (docs/build-integration.md). Bytes in, lists out. */
#include <errno.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"

#include "adapters/adapters-internal.h"

/* Append "NAME=value" (@key, @klen bytes; @value) to *@env. */
static int
push_env(char ***env, const char *key, size_t klen, const char *value)
{
        char *kv = pm_asprintf("%.*s=%s", (int)klen, key, value);
        int r = kv ? pm_argv_push(env, kv) : -ENOMEM;

        pm_free(kv);
        return r;
}

/* @value with Buck2's `$(abspath REL)` made @base/REL (buildscript_run.py writes it for a path
 * under the script's working directory, which is the project root's relative base). */
static char *
abspath_value(const char *value, size_t len, const char *base)
{
        static const char open[] = "$(abspath ";

        if (base && len > sizeof(open) && strncmp(value, open, sizeof(open) - 1) == 0 &&
            value[len - 1] == ')') {
                char *rel = pm_strndup(value + sizeof(open) - 1, len - sizeof(open));
                char *abs = rel ? pm_path_normalize(NULL, base, rel) : NULL;

                pm_free(rel);
                return abs;
        }
        return pm_strndup(value, len);
}

int
pm__buildscript_flags(const char *data, size_t len, const char *base, char ***cfgs, char ***env)
{
        const char *p = data, *end = data + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                int r = 0;

                if (n && p[n - 1] == '\r')
                        n--;
                /* rules_rust and Buck2 write `cargo:rustc-cfg=X` as `--cfg=X`; `-L`, `-l`,
                 * `-Clink-arg=`, `--check-cfg` say nothing rust-analyzer uses. */
                if (n > 6 && strncmp(p, "--cfg=", 6) == 0) {
                        char *cfg = pm_strndup(p + 6, n - 6);

                        r = cfg ? pm_argv_push(cfgs, cfg) : -ENOMEM;
                        pm_free(cfg);
                } else if (env && n > 10 && strncmp(p, "--env-set=", 10) == 0) {
                        /* Buck2's rustc_action.py sets NAME=value for rustc. */
                        const char *kv = p + 10, *eq = memchr(kv, '=', n - 10);
                        char *value;

                        if (eq && eq > kv) {
                                value = abspath_value(eq + 1, (size_t)(p + n - eq - 1), base);
                                r = value ? push_env(env, kv, (size_t)(eq - kv), value) : -ENOMEM;
                                pm_free(value);
                        }
                }
                if (r < 0)
                        return r;
                p = nl ? nl + 1 : end;
        }
        return 0;
}

/* @value with rules_rust's placeholders replaced: `${pwd}` is the execroot the build ran in,
 * `${out_dir}` the build script's out_dir (its runner redacts both). */
static char *
expand_value(const char *value, const char *exec_root, const char *out_dir)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        int r = 0;

        for (const char *p = value; *p && r == 0;) {
                if (exec_root && strncmp(p, "${pwd}", 6) == 0) {
                        r = pm_strbuf_adds(&sb, exec_root);
                        p += 6;
                } else if (out_dir && strncmp(p, "${out_dir}", 10) == 0) {
                        r = pm_strbuf_adds(&sb, out_dir);
                        p += 10;
                } else {
                        r = pm_strbuf_addf(&sb, "%c", *p++);
                }
        }
        if (r == 0 && !sb.buf)
                r = pm_strbuf_adds(&sb, "");
        if (r < 0) {
                pm_strbuf_release(&sb);
                return NULL;
        }
        return sb.buf;
}

int
pm__buildscript_env(const char *data, size_t len, const char *exec_root, const char *out_dir,
                    char ***env)
{
        const char *p = data, *end = data + len;
        struct pm_strbuf line = PM_STRBUF_INIT;
        int r = 0;

        while (p < end && r == 0) {
                bool more = true;

                pm_strbuf_reset(&line);
                /* One variable a line; a line ending in a single backslash goes on with a newline
                 * (a value ending in a backslash is written with two), as rules_rust's
                 * process_wrapper reads it. */
                while (more && p < end && r == 0) {
                        const char *nl = memchr(p, '\n', (size_t)(end - p));
                        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                        size_t bs = 0;

                        while (bs < n && p[n - 1 - bs] == '\\')
                                bs++;
                        more = bs % 2 == 1 && nl;
                        r = pm_strbuf_addf(&line, "%.*s%s", (int)(n - (bs % 2 ? 1 : 0)), p,
                                           more ? "\n" : "");
                        if (r == 0 && bs % 2 == 0 && bs > 0) {
                                /* The escaped trailing backslash: keep one of the two. */
                                line.len--;
                                line.buf[line.len] = '\0';
                        }
                        p = nl ? nl + 1 : end;
                }
                if (r == 0 && line.len) {
                        const char *eq = strchr(line.buf, '=');
                        char *value;

                        if (!eq || eq == line.buf)
                                continue;
                        value = expand_value(eq + 1, exec_root, out_dir);
                        r = value ? push_env(env, line.buf, (size_t)(eq - line.buf), value)
                                  : -ENOMEM;
                        pm_free(value);
                }
        }
        pm_strbuf_release(&line);
        return r;
}
