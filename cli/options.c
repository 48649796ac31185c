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

/* @s as roff text: backslashes and dashes escaped, a leading '.' or '\'' kept literal. */
static void
roff_text(const char *s)
{
        if (*s == '.' || *s == '\'')
                (void)fputs("\\&", stdout);
        for (; *s; s++) {
                if (*s == '\\')
                        (void)fputs("\\e", stdout);
                else if (*s == '-')
                        (void)fputs("\\-", stdout);
                else if (*s == '\n')
                        (void)fputs("\n.br\n", stdout);
                else
                        (void)putchar(*s);
        }
}

int
pm__cli_print_man(const struct pm__cli_command *cmds, size_t n_cmds)
{
        (void)printf(".TH PROJMODEL 1 \"\" \"projmodel %s\" \"User Commands\"\n", PM_VERSION);
        (void)printf(".SH NAME\nprojmodel \\- project-model server: GN, Bazel, Buck2 and Cargo "
                     "build graphs as rust\\-analyzer's rust\\-project.json\n");
        (void)printf(".SH SYNOPSIS\n.B projmodel\n[\\-\\-root \\fIDIR\\fR] \\fIcommand\\fR "
                     "[\\fIoptions\\fR]\n.br\n.B projmodel\n\\-\\-help | \\-\\-version\n");
        (void)printf(".SH GLOBAL OPTIONS\n.TP\n.BI \\-\\-root \" DIR\"\nThe monorepo root; "
                     "without it, found from the working directory.\n"
                     ".TP\n.B \\-\\-help\nList the commands.\n"
                     ".TP\n.B \\-\\-version\nPrint the version.\n");
        (void)printf(".SH COMMANDS\n");
        for (size_t i = 0; i < n_cmds; i++) {
                const struct pm__cli_spec *spec = cmds[i].spec;

                (void)printf(".SS %s\n.nf\nprojmodel ", cmds[i].name);
                roff_text(spec->usage);
                (void)printf("\n.fi\n");
                roff_text(spec->summary);
                (void)putchar('\n');
                for (size_t j = 0; j < spec->n_opts; j++) {
                        const struct pm__cli_opt *o = &spec->opts[j];

                        (void)printf(".TP\n.B \\-\\-");
                        roff_text(o->name);
                        if (o->arg) {
                                (void)printf(" \\fI");
                                roff_text(o->arg);
                                (void)printf("\\fR");
                        }
                        (void)putchar('\n');
                        roff_text(o->help);
                        (void)putchar('\n');
                        if (o->example) {
                                (void)printf(".br\nExample: \\fBprojmodel ");
                                roff_text(o->example);
                                (void)printf("\\fR\n");
                        }
                }
        }
        (void)printf(".SH FILES\n.TP\n.I projmodel.toml\nThe monorepo's configuration "
                     "(docs/configuration.md).\n");
        (void)printf(".SH SEE ALSO\nThe documentation under docs/ in the source tree: cli.md, "
                     "configuration.md, protocol.md.\n");
        return PM_CLI_EXIT_OK;
}

/* The options of @spec as "--a --b" (with @sep between them). */
static void
print_opt_words(const struct pm__cli_spec *spec, const char *sep)
{
        for (size_t j = 0; j < spec->n_opts; j++)
                (void)printf("%s--%s", j ? sep : "", spec->opts[j].name);
}

static void
print_bash(const struct pm__cli_command *cmds, size_t n_cmds)
{
        (void)printf("# bash completion for projmodel (generated by `projmodel --completions "
                     "bash`)\n_projmodel()\n{\n"
                     "        local cur=${COMP_WORDS[COMP_CWORD]} cmd= i\n"
                     "        for ((i = 1; i < COMP_CWORD; i++)); do\n"
                     "                case ${COMP_WORDS[i]} in\n"
                     "                --root) ((i++)) ;;\n"
                     "                -*) ;;\n"
                     "                *) cmd=${COMP_WORDS[i]}; break ;;\n"
                     "                esac\n"
                     "        done\n"
                     "        local words\n        case $cmd in\n");
        (void)printf("        '') words='--root --help --version");
        for (size_t i = 0; i < n_cmds; i++)
                (void)printf(" %s", cmds[i].name);
        (void)printf("' ;;\n");
        for (size_t i = 0; i < n_cmds; i++) {
                (void)printf("        %s) words='", cmds[i].name);
                print_opt_words(cmds[i].spec, " ");
                (void)printf("' ;;\n");
        }
        (void)printf("        esac\n"
                     "        if [[ $cur == -* || -z $cmd ]]; then\n"
                     "                COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
                     "        else\n"
                     "                COMPREPLY=($(compgen -f -- \"$cur\"))\n"
                     "        fi\n}\ncomplete -F _projmodel projmodel\n");
}

/* @s with single quotes and brackets made safe inside a zsh _arguments spec's '[...]'. */
static void
zsh_help(const char *s)
{
        for (; *s; s++) {
                if (*s == '\'')
                        (void)fputs("'\\''", stdout);
                else if (*s == '[' || *s == ']' || *s == ':' || *s == '\\')
                        (void)printf("\\%c", *s);
                else
                        (void)putchar(*s);
        }
}

static void
print_zsh(const struct pm__cli_command *cmds, size_t n_cmds)
{
        (void)printf("#compdef projmodel\n# zsh completion for projmodel (generated by "
                     "`projmodel --completions zsh`)\n_projmodel() {\n"
                     "        local -a cmds\n        cmds=(");
        for (size_t i = 0; i < n_cmds; i++)
                (void)printf(" %s", cmds[i].name);
        (void)printf(" )\n"
                     "        local i cmd=\n"
                     "        for ((i = 2; i < CURRENT; i++)); do\n"
                     "                case ${words[i]} in\n"
                     "                --root) ((i++)) ;;\n"
                     "                -*) ;;\n"
                     "                *) cmd=${words[i]}; break ;;\n"
                     "                esac\n"
                     "        done\n"
                     "        case $cmd in\n"
                     "        '') _arguments '--root[monorepo root]:dir:_files -/' "
                     "'--help[list the commands]' '--version[print the version]' "
                     "'*::command:compadd -a cmds' ;;\n");
        for (size_t i = 0; i < n_cmds; i++) {
                const struct pm__cli_spec *spec = cmds[i].spec;

                (void)printf("        %s) _arguments '*::file:_files'", cmds[i].name);
                for (size_t j = 0; j < spec->n_opts; j++) {
                        (void)printf(" '--%s[", spec->opts[j].name);
                        zsh_help(spec->opts[j].help);
                        (void)printf("]%s'", spec->opts[j].arg ? ":value:_files" : "");
                }
                (void)printf(" ;;\n");
        }
        (void)printf("        esac\n}\n_projmodel \"$@\"\n");
}

/* @s inside a fish double-quoted string. */
static void
fish_text(const char *s)
{
        for (; *s; s++) {
                if (*s == '"' || *s == '\\' || *s == '$')
                        (void)putchar('\\');
                (void)putchar(*s);
        }
}

static void
print_fish(const struct pm__cli_command *cmds, size_t n_cmds)
{
        (void)printf("# fish completion for projmodel (generated by `projmodel --completions "
                     "fish`)\nset -l pm_cmds");
        for (size_t i = 0; i < n_cmds; i++)
                (void)printf(" %s", cmds[i].name);
        (void)printf("\ncomplete -c projmodel -f\n"
                     "complete -c projmodel -n \"not __fish_seen_subcommand_from $pm_cmds\" "
                     "-l root -r -d \"The monorepo root\"\n"
                     "complete -c projmodel -n \"not __fish_seen_subcommand_from $pm_cmds\" "
                     "-l version -d \"Print the version\"\n");
        for (size_t i = 0; i < n_cmds; i++) {
                const struct pm__cli_spec *spec = cmds[i].spec;

                (void)printf("complete -c projmodel -n \"not __fish_seen_subcommand_from "
                             "$pm_cmds\" -a %s -d \"",
                             cmds[i].name);
                fish_text(spec->summary);
                (void)printf("\"\n");
                for (size_t j = 0; j < spec->n_opts; j++) {
                        (void)printf("complete -c projmodel -n \"__fish_seen_subcommand_from "
                                     "%s\" -l %s%s -d \"",
                                     cmds[i].name, spec->opts[j].name,
                                     spec->opts[j].arg ? " -r -F" : "");
                        fish_text(spec->opts[j].help);
                        (void)printf("\"\n");
                }
        }
}

int
pm__cli_print_completions(const char *shell, const struct pm__cli_command *cmds, size_t n_cmds)
{
        if (strcmp(shell, "bash") == 0)
                print_bash(cmds, n_cmds);
        else if (strcmp(shell, "zsh") == 0)
                print_zsh(cmds, n_cmds);
        else if (strcmp(shell, "fish") == 0)
                print_fish(cmds, n_cmds);
        else {
                (void)fprintf(stderr,
                              "projmodel: --completions takes bash, zsh or fish, not '%s'\n",
                              shell);
                return PM_CLI_EXIT_USAGE;
        }
        return PM_CLI_EXIT_OK;
}
