/* SPDX-License-Identifier: MIT */
/* Unit tests of the daemon's per-project parse warnings (server/update-warnings.c): a partial
 * run's warnings replace those of the build files it covered, and the same note again replaces
 * itself instead of piling up. */
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "projmodel/config.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "server/server-internal.h"

/* A partial run's warnings: @msg about @file, covering no build file (as the daemon's proc-macro
 * rebuild reports a dylib it could not build). */
static void
store_partial(struct pm_server *srv, const char *msg, const char *file)
{
        struct pm__warnings w = { .partial = true, .n = 1, .total = 1 };

        cr_assert_eq(pm_argv_push(&w.v, msg), 0);
        cr_assert_eq(pm_argv_push(&w.files, file), 0);
        pm__warnings_store(srv, 0, &w);
}

Test(server_warnings, a_partial_runs_repeated_note_replaces_itself)
{
        struct pm_project project = { .id = "gn:." };
        struct pm_config cfg = { .projects = &project, .n_projects = 1 };
        struct pm_server srv = { .cfg = &cfg };
        cJSON *o = cJSON_CreateObject();

        store_partial(&srv, "proc macro //a not built: error[E0308]", "/r/a/BUILD.gn");
        store_partial(&srv, "proc macro //a not built: error[E0308]", "/r/a/BUILD.gn");
        store_partial(&srv, "proc macro //b not built: error[E0425]", "/r/b/BUILD.gn");
        cr_assert(pm__warnings_status(&srv, o));
        cr_expect_eq(cJSON_GetObjectItem(o, "warningsTotal")->valueint, 2);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(o, "warnings")), 2);
        cr_expect_str_eq(
                cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "warnings"), 1),
                                    "message")
                        ->valuestring,
                "proc macro //b not built: error[E0425]");
        cJSON_Delete(o);
        pm__warnings_free(&srv);
}
