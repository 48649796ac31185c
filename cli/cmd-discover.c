/* SPDX-License-Identifier: MIT */
/* `projmodel discover ARG`: rust-analyzer's workspace.discoverConfig command.
 * JSON lines on stdout, exactly one terminal message, written last;
 * nothing ever on stderr (older rust-analyzer parses stderr as messages too). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "projmodel/error.h"
#include "projmodel/json.h"
#include "projmodel/mem.h"

#include "cli-internal.h"

const char pm__cli_discover_usage[] =
        "discover [--root DIR] [--db PATH] [--log FILE] [--no-refresh] "
        "'{\"path\"|\"buildfile\"|\"label\": ...}'";

enum {
        OPT_DB = 256,
        OPT_LOG,
        OPT_NO_REFRESH
};

/* discover's options: getopt_long, --help and the man page all come from here. */
static const struct pm__cli_opt discover_opts_table[] = {
        { "root", required_argument, 'r', "DIR",
          "The monorepo root (the directory holding .projmodel.json); default: found walking up from the working directory.",
          "discover --root ~/src/monorepo '{\"path\": \"src/lib.rs\"}'" },
        { "db", required_argument, OPT_DB, "PATH",
          "The model database to use instead of the default one under $XDG_CACHE_HOME/projmodel.",
          "discover --db /tmp/model.db '{\"path\": \"src/lib.rs\"}'" },
        { "log", required_argument, OPT_LOG, "FILE",
          "Append error and progress lines to FILE (stderr stays silent).",
          "discover --log /tmp/discover.log '{\"path\": \"src/lib.rs\"}'" },
        { "no-refresh", no_argument, OPT_NO_REFRESH, NULL,
          "Do not run the build systems: use the model as it was last refreshed.",
          "discover --no-refresh '{\"label\": \"//app:main\"}'" },
        { "help", no_argument, 'h', NULL, "Describe the options and exit.", "discover --help" },
};

const struct pm__cli_spec pm__cli_discover_spec = PM__CLI_SPEC(
        "discover", pm__cli_discover_usage,
        "rust-analyzer's discover command: answer one request with the project of a file, build file or label (protocol lines on stdout; docs/cli.md).",
        discover_opts_table);

/* The argument is one small JSON object; anything bigger is not from rust-analyzer. */
#define DISCOVER_ARG_MAX 8192

/* Write one protocol message as a compact line and flush, so it is out before we exit. */
static void
emit(cJSON *msg)
{
        char *s = cJSON_PrintUnformatted(msg);

        if (s) {
                (void)fputs(s, stdout);
                (void)fputc('\n', stdout);
                cJSON_free(s);
        } else {
                /* Out of memory while printing: still end the job. */
                (void)fputs("{\"kind\":\"error\",\"error\":\"out of memory\",\"source\":null}\n",
                            stdout);
        }
        (void)fflush(stdout);
}

static void
emit_progress(const char *message, void *userdata)
{
        cJSON *msg = cJSON_CreateObject();

        if (!msg)
                return;
        if (cJSON_AddStringToObject(msg, "kind", "progress") &&
            cJSON_AddStringToObject(msg, "message", message))
                emit(msg);
        cJSON_Delete(msg);
        (void)fprintf(stderr, "projmodel discover: %s\n", message);
}

static int
emit_error(const struct pm_error *err)
{
        char line[PM_ERROR_MSG_MAX + PM_ERROR_FILE_MAX + 32];
        const char *text;
        cJSON *msg = cJSON_CreateObject();

        if (err->file[0] && err->line == 0 && strstr(err->msg, err->file))
                text = err->msg;
        else
                text = pm_error_format(err, line, sizeof(line));
        if (!text[0])
                text = pm_strerror(err->code);
        (void)fprintf(stderr, "projmodel discover: error: %s\n", text);
        if (msg && cJSON_AddStringToObject(msg, "kind", "error") &&
            cJSON_AddStringToObject(msg, "error", text) && cJSON_AddNullToObject(msg, "source"))
                emit(msg);
        else
                emit(NULL);
        cJSON_Delete(msg);
        return PM_CLI_EXIT_ERROR;
}

char *
pm__cli_discover_line(const char *buildfile, cJSON *project)
{
        cJSON *msg = pm_json_discover_finished(buildfile, project);
        char *line = msg ? cJSON_PrintUnformatted(msg) : NULL;

        cJSON_Delete(msg);
        return line;
}

/* Decode the JSON argument into @req (strings owned by @ret_value). */
static int
parse_arg(const char *arg, struct pm__cli_discover_req *req, char **ret_value, struct pm_error *err)
{
        static const struct {
                const char *key;
                enum pm__cli_discover_kind kind;
        } forms[] = {
                { "path", PM__CLI_DISCOVER_PATH },
                { "buildfile", PM__CLI_DISCOVER_BUILDFILE },
                { "label", PM__CLI_DISCOVER_LABEL },
        };

        cJSON *j = NULL;
        const cJSON *item;
        const char *found = NULL;
        int r = 0;

        if (strlen(arg) > DISCOVER_ARG_MAX)
                return pm_error_set(err, PM_ELIMIT, "discover argument longer than %d bytes",
                                    DISCOVER_ARG_MAX);
        j = cJSON_Parse(arg);
        if (!cJSON_IsObject(j)) {
                r = pm_error_set(err, PM_EPARAMS,
                                 "invalid discover argument '%s': expected {\"path\": ...}, "
                                 "{\"buildfile\": ...} or {\"label\": ...}",
                                 arg);
                goto out;
        }
        for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
                item = cJSON_GetObjectItemCaseSensitive(j, forms[i].key);
                if (!item)
                        continue;
                if (found || !cJSON_IsString(item) || !item->valuestring[0]) {
                        r = pm_error_set(err, PM_EPARAMS,
                                         "invalid discover argument '%s': expected one "
                                         "non-empty string among \"path\", \"buildfile\" and "
                                         "\"label\"",
                                         arg);
                        goto out;
                }
                found = item->valuestring;
                req->kind = forms[i].kind;
        }
        if (!found) {
                r = pm_error_set(err, PM_EPARAMS,
                                 "invalid discover argument '%s': expected {\"path\": ...}, "
                                 "{\"buildfile\": ...} or {\"label\": ...}",
                                 arg);
                goto out;
        }
        *ret_value =
                req->kind == PM__CLI_DISCOVER_LABEL ? pm_strdup(found) : pm__cli_abspath(found);
        if (!*ret_value)
                r = pm_error_set(err, -ENOMEM, "out of memory");
        req->value = *ret_value;
out:
        cJSON_Delete(j);
        return r;
}

/* Point fd 2 at @log (appending) or /dev/null, so no library or child can write to the
 * stderr rust-analyzer reads. */
static void
silence_stderr(const char *log)
{
        int fd = -1;

        if (log)
                fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0)
                fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        (void)fflush(stderr);
        if (fd != STDERR_FILENO) {
                (void)dup2(fd, STDERR_FILENO);
                (void)close(fd);
        }
}

int
pm__cli_cmd_discover(const struct pm__cli_globals *gl, int argc, char **argv)
{
        struct option longopts[sizeof(discover_opts_table) / sizeof(discover_opts_table[0]) + 1];
        struct pm__cli_discover_req req = { .root = gl->root, .refresh = true };
        struct pm_error err;
        const char *log = NULL;
        char *value = NULL, *buildfile = NULL, *line = NULL;
        cJSON *project = NULL;
        char *bad_option = NULL;
        int c, code, r;

        /* Until --log is known, and for getopt's own messages: nothing on stderr. */
        silence_stderr(NULL);
        opterr = 0;
        pm_error_init(&err);
        pm__cli_longopts(&pm__cli_discover_spec, longopts);
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        req.root = optarg;
                        break;
                case OPT_DB:
                        req.db = optarg;
                        break;
                case OPT_LOG:
                        log = optarg;
                        break;
                case OPT_NO_REFRESH:
                        req.refresh = false;
                        break;
                case 'h':
                        pm_free(bad_option);
                        return pm__cli_help_spec(&pm__cli_discover_spec);
                default:
                        if (!bad_option)
                                (void)pm__cli_bad_option(&pm__cli_discover_spec, argc, argv,
                                                         &bad_option);
                        break;
                }
        }
        if (log)
                silence_stderr(log);
        if (bad_option) {
                (void)pm_error_set(&err, PM_EPARAMS, "%s; usage: projmodel %s", bad_option,
                                   pm__cli_discover_usage);
                pm_free(bad_option);
                return emit_error(&err);
        }
        if (argc - optind != 1) {
                (void)pm_error_set(&err, PM_EPARAMS, "expected one argument; usage: projmodel %s",
                                   pm__cli_discover_usage);
                return emit_error(&err);
        }
        if (parse_arg(argv[optind], &req, &value, &err) < 0)
                return emit_error(&err);

        /* The daemon answers (started when none runs); --db or --no-refresh mean a one-shot
         * resolution in this process, as does PROJMODEL_NO_DAEMON=1 (the front binary never
         * gets here with those: cli/front.c). */
        if (req.db || !req.refresh || getenv("PROJMODEL_NO_DAEMON")) {
                r = gl->discover_local
                            ? gl->discover_local(&req, emit_progress, NULL, &buildfile, &project,
                                                 &err)
                            : pm_error_set(&err, -ENOSYS, "no in-process discover in this binary");
                if (r == 0) {
                        line = pm__cli_discover_line(buildfile, pm_steal_ptr(&project));
                        if (!line)
                                r = pm_error_set(&err, -ENOMEM, "out of memory");
                }
        } else {
                r = pm__cli_discover_via_daemon(&req, NULL, emit_progress, NULL, &buildfile, &line,
                                                &err);
        }
        if (r < 0) {
                code = emit_error(&err);
                goto out;
        }
        (void)fprintf(stderr, "projmodel discover: finished: %s\n", buildfile);
        (void)fflush(stderr);
        /* The line as it is: from the daemon, its bytes (cli/client.c). */
        (void)fputs(line, stdout);
        (void)fputc('\n', stdout);
        (void)fflush(stdout);
        code = PM_CLI_EXIT_OK;
out:
        cJSON_Delete(project);
        pm_free(line);
        pm_free(buildfile);
        pm_free(value);
        return code;
}
