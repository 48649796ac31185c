/* SPDX-License-Identifier: MIT */
/* Command options from one table per command: the getopt_long array, --help and the "did you
 * mean" message for an unknown option (docs/cli.md). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "projmodel/mem.h"

#include "cli-internal.h"

void
pm__cli_longopts(const struct pm__cli_spec *spec, struct option *out)
{
        for (size_t i = 0; i < spec->n_opts; i++)
                out[i] = (struct option){ spec->opts[i].name, spec->opts[i].has_arg, NULL,
                                          spec->opts[i].val };
        out[spec->n_opts] = (struct option){ NULL, 0, NULL, 0 };
}

int
pm__cli_help_spec(const struct pm__cli_spec *spec)
{
        (void)printf("usage: projmodel %s\n\n%s\n\noptions:\n", spec->usage, spec->summary);
        for (size_t i = 0; i < spec->n_opts; i++) {
                const struct pm__cli_opt *o = &spec->opts[i];

                (void)printf("  --%s%s%s\n      %s\n", o->name, o->arg ? " " : "",
                             o->arg ? o->arg : "", o->help);
                if (o->example)
                        (void)printf("      example: projmodel %s\n", o->example);
        }
        return PM_CLI_EXIT_OK;
}

/* Levenshtein distance of @a (its first @na bytes) and @b, capped at 64 bytes each. */
static size_t
edit_distance(const char *a, size_t na, const char *b)
{
        size_t nb = strlen(b), row[65];

        if (na > 64 || nb > 64)
                return (size_t)-1;
        for (size_t j = 0; j <= nb; j++)
                row[j] = j;
        for (size_t i = 1; i <= na; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= nb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        diag = up;
                        row[j] = best;
                }
        }
        return row[nb];
}

/* @word without its leading dashes; *len stops before any "=value". */
static const char *
bare_name(const char *word, size_t *len)
{
        while (*word == '-')
                word++;
        *len = strcspn(word, "=");
        return word;
}

const struct pm__cli_opt *
pm__cli_nearest_option(const struct pm__cli_spec *spec, const char *word)
{
        const struct pm__cli_opt *best = NULL;
        size_t len, best_d = (size_t)-1;
        const char *w = bare_name(word, &len);

        if (len < 3) /* "-x": too short to guess from */
                return NULL;

        for (size_t i = 0; i < spec->n_opts; i++) {
                size_t d = edit_distance(w, len, spec->opts[i].name);
                size_t limit = strlen(spec->opts[i].name) / 3;

                if (limit < 2)
                        limit = 2;
                /* A prefix ("--out" for "--output" when ambiguous) is close too. */
                if (len > 0 && strncmp(w, spec->opts[i].name, len) == 0)
                        d = 1;
                if (d <= limit && d < best_d) {
                        best = &spec->opts[i];
                        best_d = d;
                }
        }
        return best;
}

int
pm__cli_bad_option(const struct pm__cli_spec *spec, int argc, char **argv, char **msg_ret)
{
        const char *word = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
        const struct pm__cli_opt *exact = NULL, *near;
        char shortopt[3] = { '-', (char)optopt, '\0' };
        char *msg;
        size_t len;
        const char *name = bare_name(word, &len);

        /* A short option: getopt_long advanced past its word only when it was the last letter;
         * optopt names it either way. */
        if (optopt > 0 && optopt < 256)
                word = shortopt;
        if (word[0] == '-' && word[1] == '-') {
                for (size_t i = 0; i < spec->n_opts; i++)
                        if (strlen(spec->opts[i].name) == len &&
                            strncmp(spec->opts[i].name, name, len) == 0)
                                exact = &spec->opts[i];
        } else {
                for (size_t i = 0; i < spec->n_opts; i++)
                        if (spec->opts[i].val == optopt && optopt > 0)
                                exact = &spec->opts[i];
        }
        if (exact && exact->has_arg == required_argument)
                msg = pm_asprintf("option '--%s' needs an argument %s", exact->name,
                                  exact->arg ? exact->arg : "");
        else if (exact)
                msg = pm_asprintf("option '--%s' takes no argument", exact->name);
        else if ((near = pm__cli_nearest_option(spec, word)))
                msg = pm_asprintf("unknown option '%s' (did you mean '--%s'?)", word, near->name);
        else
                msg = pm_asprintf("unknown option '%s'", word);
        if (msg_ret) {
                *msg_ret = msg;
                return PM_CLI_EXIT_USAGE;
        }
        (void)fprintf(stderr, "projmodel %s: %s\nusage: projmodel %s\n", spec->name,
                      msg ? msg : "unknown option", spec->usage);
        pm_free(msg);
        return PM_CLI_EXIT_USAGE;
}
