/* SPDX-License-Identifier: MIT */
/* The projmodel binary on PATH: `discover` through the daemon is answered here, in a binary
 * that loads only libc and cJSON; every other command line runs the full binary (execv). */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "cli-internal.h"

/*
 * rust-analyzer runs `projmodel discover` as a new process for every file it opens, and with a
 * warm daemon most of that process's time was the dynamic loader mapping and relocating
 * SQLite, libuv and libinotifytools, which the daemon's client never calls (README, "Figures").
 * So the command users run is this small binary, and the full one lives under libexecdir
 * (docs/architecture.md).
 */

static char self_exe[PATH_MAX]; /* this binary, or "" */
static char full_exe[PATH_MAX]; /* the full binary, or "" when not found */

/* The full binary: installed, PM_FULL_EXE_REL from this one's directory (meson computes it from
 * bindir and libexecdir; absolute when they are); in the build tree, beside this one. */
static void
find_full(void)
{
        static const char *const rel[] = { PM_FULL_EXE_REL, "projmodel-full" };
        ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
        const char *slash;

        if (n <= 0 || (size_t)n >= sizeof(self_exe) - 1) {
                self_exe[0] = '\0';
                return;
        }
        self_exe[n] = '\0';
        slash = strrchr(self_exe, '/');
        for (size_t i = 0; slash && i < sizeof(rel) / sizeof(rel[0]); i++) {
                int len = rel[i][0] == '/' ? snprintf(full_exe, sizeof(full_exe), "%s", rel[i])
                                           : snprintf(full_exe, sizeof(full_exe), "%.*s/%s",
                                                      (int)(slash - self_exe), self_exe, rel[i]);

                if (len > 0 && (size_t)len < sizeof(full_exe) && access(full_exe, X_OK) == 0)
                        return;
        }
        full_exe[0] = '\0';
}

const char *
pm__cli_full_exe(void)
{
        return full_exe[0] ? full_exe : NULL;
}

/*
 * Whether @argv is `[--root DIR] discover [--root DIR] [--log FILE] ARG` and
 * PROJMODEL_NO_DAEMON is unset: the command line answered here, by the same code as in the full
 * binary (cmd-discover.c, through the daemon). Anything else -- other commands, --help, --db,
 * --no-refresh, abbreviated or wrong options -- goes to the full binary, which parses it as it
 * always has. *ret_cmd: the index of "discover", or 0 when it is not the command.
 */
static bool
daemon_discover(int argc, char **argv, struct pm__cli_globals *g, int *ret_cmd)
{
        int i = 1, args = 0;

        *ret_cmd = 0;
        if (i + 1 < argc && strcmp(argv[i], "--root") == 0) {
                g->root = argv[i + 1];
                i += 2;
        } else if (i < argc && strncmp(argv[i], "--root=", 7) == 0) {
                g->root = argv[i] + 7;
                i++;
        }
        if (i >= argc || strcmp(argv[i], "discover") != 0)
                return false;
        *ret_cmd = i;
        if (getenv("PROJMODEL_NO_DAEMON"))
                return false;
        for (i++; i < argc; i++) {
                if (strcmp(argv[i], "--root") == 0 || strcmp(argv[i], "--log") == 0) {
                        if (++i >= argc)
                                return false;
                } else if (strncmp(argv[i], "--root=", 7) != 0 &&
                           strncmp(argv[i], "--log=", 6) != 0) {
                        if (argv[i][0] == '-')
                                return false;
                        args++;
                }
        }
        return args == 1;
}

/* The full binary is missing: say so where the command reports errors (discover: a protocol
 * line on stdout, stderr silent; cmd-discover.c). */
static int
cannot_run(bool discover)
{
        char msg[PATH_MAX + 128];
        cJSON *line = NULL;
        char *text = NULL;

        (void)snprintf(msg, sizeof(msg), "cannot find the full projmodel binary %s from '%s'",
                       PM_FULL_EXE_REL, self_exe);
        if (!discover) {
                (void)fprintf(stderr, "projmodel: %s\n", msg);
                return PM_CLI_EXIT_ERROR;
        }
        line = cJSON_CreateObject();
        if (line && cJSON_AddStringToObject(line, "kind", "error") &&
            cJSON_AddStringToObject(line, "error", msg) && cJSON_AddNullToObject(line, "source"))
                text = cJSON_PrintUnformatted(line);
        (void)printf("%s\n",
                     text ? text
                          : "{\"kind\":\"error\",\"error\":\"out of memory\",\"source\":null}");
        cJSON_free(text);
        cJSON_Delete(line);
        return PM_CLI_EXIT_ERROR;
}

/*
 * Give the full binary's heap transparent huge pages (glibc's malloc tunable, read as the full
 * binary starts) for every command but `serve`. A one-shot command on a large workspace touches
 * hundreds of MB once: an export of 19,000 Bazel crates took 40,600 page faults with 4 KiB
 * pages and 6,600 with huge pages, and a quarter less CPU (docs/cli.md, "Memory"). A daemon
 * runs for weeks, and a huge page it frees in part stays resident, so it keeps the default. A
 * user's own GLIBC_TUNABLES is left as it is.
 */
static void
huge_heap(int argc, char **argv)
{
        int i = 1;

        if (getenv("GLIBC_TUNABLES"))
                return;
        while (i < argc && argv[i][0] == '-')
                i += strcmp(argv[i], "--root") == 0 ? 2 : 1;
        if (i < argc && strcmp(argv[i], "serve") == 0)
                return;
        if (setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1) == 0)
                (void)setenv(PM_CLI_TUNABLES_ENV, "1", 1);
}

int
main(int argc, char **argv)
{
        struct pm__cli_globals g = { .root = NULL, .discover_local = NULL };
        int cmd;

        pm_mem_install_hooks();
        find_full();
        /* A daemon started from here gets this binary's path from the client (cli/client.c),
         * which reads /proc/self/exe here: the environment is not trusted for it. */
        if (daemon_discover(argc, argv, &g, &cmd)) {
                optind = 0;
                opterr = 0;
                return pm__cli_cmd_discover(&g, argc - cmd, argv + cmd);
        }
        /* The path `setup` and the runnables name: this one, not the full binary. The full
         * binary takes it out of its environment at once (pm_path_command_take()). */
        if (self_exe[0])
                (void)setenv(PM_PATH_COMMAND_ENV, self_exe, 1);
        else
                (void)unsetenv(PM_PATH_COMMAND_ENV);
        if (full_exe[0]) {
                huge_heap(argc, argv);
                (void)execv(full_exe, argv);
        }
        return cannot_run(cmd > 0);
}
