/* SPDX-License-Identifier: MIT */
/* The daemon's sysroot: from the configuration, or `rustc --print sysroot` under uv_spawn once
 * at startup; parked requests resume when it is known. */
#include <string.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"
#include "projmodel/tool.h"

#include "server-internal.h"

static void
on_sysroot(void *data, int code, struct pm_tool_result *res, const struct pm_error *err)
{
        struct pm_server *srv = data;
        char *s, *raw;
        size_t n;

        if (code < 0 || !res->out.buf) {
                pm__log("cannot resolve the sysroot, writing projects without it: %s", err->msg);
                goto out;
        }
        n = res->out.len;
        while (n && (res->out.buf[n - 1] == '\n' || res->out.buf[n - 1] == '\r'))
                n--;
        raw = pm_strndup(res->out.buf, n);
        s = raw ? pm_path_normalize(NULL, NULL, raw) : NULL;
        pm_free(raw);
        if (s && pm_path_is_absolute(s)) {
                pm_free(srv->sysroot);
                pm_free(srv->sysroot_src);
                srv->sysroot = s;
                srv->sysroot_src = pm_path_join(NULL, s, "lib/rustlib/src/rust/library");
        } else {
                pm_free(s);
        }
out:
        srv->sysroot_done = true;
        if (!srv->stopping)
                pm__server_resume_list(srv, &srv->parked_model);
}

int
pm__sysroot_start(struct pm_server *srv, struct pm_error *err)
{
        struct pm_step step;
        char *argv[4];
        int r;

        if (srv->cfg->sysroot) {
                pm_free(srv->sysroot);
                pm_free(srv->sysroot_src);
                srv->sysroot = pm_strdup(srv->cfg->sysroot);
                srv->sysroot_src = srv->cfg->sysroot_src
                                           ? pm_strdup(srv->cfg->sysroot_src)
                                           : pm_path_join(NULL, srv->cfg->sysroot,
                                                          "lib/rustlib/src/rust/library");
                srv->sysroot_done = true;
                return 0;
        }
        argv[0] = srv->cfg->rustc ? srv->cfg->rustc : (char *)"rustc";
        argv[1] = (char *)"--print";
        argv[2] = (char *)"sysroot";
        argv[3] = NULL;
        memset(&step, 0, sizeof(step));
        step.argv = argv;
        step.cwd = srv->cfg->root;
        r = pm__spawn_start(&srv->loop, &step, 60000, 1 << 20, PM__SPAWN_OWN_GROUP, on_sysroot, srv,
                            NULL, err);
        if (r < 0)
                srv->sysroot_done = true;
        return r;
}
