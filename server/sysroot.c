/* SPDX-License-Identifier: MIT */
/* Finding the Rust toolchain root for rust-project.json: the configuration's, or what
 * `rustc --print sysroot` says. sysroot_src is always returned (rust-analyzer.md §2). */
#include <errno.h>
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

/* `rustc --print sysroot` prints one path; anything longer is not a sysroot. */
#define SYSROOT_OUTPUT_MAX (64 * 1024)
/* rustup may have to set up the toolchain on first use, so be generous. */
#define SYSROOT_TIMEOUT_MS (120 * 1000)

static int
ask_rustc(const struct pm_config *cfg, char **ret, struct pm_error *err)
{
        const char *rustc = cfg->rustc && cfg->rustc[0] ? cfg->rustc : "rustc";
        char *argv[] = { (char *)rustc, (char *)"--print", (char *)"sysroot", NULL };
        struct pm_step step = { .argv = argv, .cwd = cfg->root, .output_file = NULL };
        struct pm_tool_result res = { 0 };
        char *s = NULL, *start, *end;
        int r;

        r = pm_tool_run_sync(&step, SYSROOT_TIMEOUT_MS, SYSROOT_OUTPUT_MAX, &res, err);
        if (r < 0)
                goto out;
        start = res.out.buf ? res.out.buf : "";
        while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
                start++;
        end = start + strlen(start);
        while (end > start &&
               (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
                end--;
        if (end == start || memchr(start, '\n', (size_t)(end - start))) {
                r = pm_error_set(err, PM_ETOOL,
                                 "'%s --print sysroot' printed no single path, set \"sysroot\" in "
                                 "the configuration",
                                 rustc);
                goto out;
        }
        s = pm_strndup(start, (size_t)(end - start));
        if (!s) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        if (!pm_path_is_absolute(s)) {
                r = pm_error_set(err, PM_ETOOL, "'%s --print sysroot' printed a relative path '%s'",
                                 rustc, s);
                goto out;
        }
        *ret = pm_path_normalize(NULL, NULL, s);
        if (!*ret)
                r = pm_error_set(err, -ENOMEM, "out of memory");
out:
        pm_free(s);
        pm_tool_result_release(&res);
        return r;
}

int
pm_sysroot_resolve(const struct pm_config *cfg, char **ret_sysroot, char **ret_sysroot_src,
                   struct pm_error *err)
{
        char *sysroot = NULL, *src = NULL;
        int r;

        if (cfg->sysroot) {
                sysroot = pm_path_normalize(NULL, cfg->root, cfg->sysroot);
                if (!sysroot) {
                        r = pm_error_set(err, -ENOMEM, "out of memory");
                        goto out;
                }
        } else {
                r = ask_rustc(cfg, &sysroot, err);
                if (r < 0)
                        goto out;
        }
        if (cfg->sysroot_src)
                src = pm_path_normalize(NULL, cfg->root, cfg->sysroot_src);
        else
                src = pm_path_join(NULL, sysroot, "lib/rustlib/src/rust/library");
        if (!src) {
                r = pm_error_set(err, -ENOMEM, "out of memory");
                goto out;
        }
        *ret_sysroot = pm_steal_ptr(&sysroot);
        *ret_sysroot_src = pm_steal_ptr(&src);
        r = 0;
out:
        pm_free(sysroot);
        pm_free(src);
        return r;
}
