/* SPDX-License-Identifier: MIT */
/* Building argv arrays and releasing plans, build and check reports for the adapters, the
 * entries of their watch_skip() lists, the one step of a plan that reports through a file (and
 * the dylib test build_parse() applies), and finding repeated strings and strings by value. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "projmodel/adapter.h"
#include "projmodel/config.h"
#include "projmodel/error.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

#include "adapters/adapters-internal.h"

char **
pm_argv_free(char **argv)
{
        if (!argv)
                return NULL;
        for (char **a = argv; *a; a++)
                pm_free(*a);
        pm_free(argv);
        return NULL;
}

/* Whether @entry of @extra ("NAME=value" or "NAME") names the variable of environ's @var, whose
 * name is its first @len bytes. */
static bool
names_var(const char *entry, const char *var, size_t len)
{
        return strncmp(entry, var, len) == 0 && (entry[len] == '=' || entry[len] == '\0');
}

char **
pm_env_merge(char *const *extra)
{
        size_t n = 0, n_extra = 0, k = 0;
        char **env;

        while (environ && environ[n])
                n++;
        while (extra[n_extra])
                n_extra++;
        env = pm_calloc(n + n_extra + 1, sizeof(*env));
        if (!env)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                size_t len = strcspn(environ[i], "=");
                bool replaced = false;

                for (size_t j = 0; j < n_extra && !replaced; j++)
                        replaced = names_var(extra[j], environ[i], len);
                if (!replaced)
                        env[k++] = environ[i];
        }
        for (size_t j = 0; j < n_extra; j++)
                if (strchr(extra[j], '='))
                        env[k++] = extra[j];
        env[k] = NULL;
        return env;
}

char **
pm_argv_new(const char *const *parts, size_t n)
{
        char **argv = pm_calloc(n + 1, sizeof(char *));

        if (!argv)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                argv[i] = pm_strdup(parts[i]);
                if (!argv[i])
                        return pm_argv_free(argv);
        }
        return argv;
}

/* One string of pm_strv_repeats() and where it was. */
struct at_string {
        const char *s;
        size_t at;
};

/* By string, then by place: the first occurrence of each string leads its run. */
static int
at_string_cmp(const void *a, const void *b)
{
        const struct at_string *x = a, *y = b;
        int c = strcmp(x->s, y->s);

        return c ? c : (x->at > y->at) - (x->at < y->at);
}

int
pm_strv_repeats(const char *const *v, size_t n, bool *ret_repeat)
{
        struct at_string *sorted;

        if (n == 0)
                return 0;
        sorted = pm_calloc(n, sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                sorted[i] = (struct at_string){ .s = v[i], .at = i };
        qsort(sorted, n, sizeof(*sorted), at_string_cmp);
        for (size_t i = 0; i < n; i++)
                ret_repeat[sorted[i].at] = i > 0 && strcmp(sorted[i - 1].s, sorted[i].s) == 0;
        pm_free(sorted);
        return 0;
}

struct pm_strv_index {
        size_t n;
        struct at_string sorted[]; /* the non-NULL strings, at_string_cmp() order */
};

int
pm_strv_index_new(const char *const *v, size_t n, struct pm_strv_index **ret_index)
{
        struct pm_strv_index *ix;

        if (n > (SIZE_MAX - sizeof(*ix)) / sizeof(ix->sorted[0]))
                return -ENOMEM;
        ix = pm_malloc(sizeof(*ix) + n * sizeof(ix->sorted[0]));
        if (!ix)
                return -ENOMEM;
        ix->n = 0;
        for (size_t i = 0; i < n; i++)
                if (v[i])
                        ix->sorted[ix->n++] = (struct at_string){ .s = v[i], .at = i };
        qsort(ix->sorted, ix->n, sizeof(ix->sorted[0]), at_string_cmp);
        *ret_index = ix;
        return 0;
}

/* @key's @len bytes against @s, as strcmp() would order the string they make. */
static int
key_cmp(const char *key, size_t len, const char *s)
{
        int c = strncmp(key, s, len);

        return c ? c : s[len] ? -1 : 0;
}

bool
pm_strv_index_find(const struct pm_strv_index *index, const char *key, size_t len, size_t *ret_at)
{
        size_t lo = 0, hi = index->n;

        /* The first string not below @key: a run of equal strings starts with its first
         * occurrence (at_string_cmp()). */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (key_cmp(key, len, index->sorted[mid].s) > 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        if (lo == index->n || key_cmp(key, len, index->sorted[lo].s) != 0)
                return false;
        *ret_at = index->sorted[lo].at;
        return true;
}

struct pm_strv_index *
pm_strv_index_free(struct pm_strv_index *index)
{
        pm_free(index);
        return NULL;
}

int
pm_argv_push(char ***argv, const char *arg)
{
        size_t n = 0;
        char **nv, *copy;

        if (*argv)
                while ((*argv)[n])
                        n++;
        copy = pm_strdup(arg);
        if (!copy)
                return -ENOMEM;
        nv = pm_realloc(*argv, (n + 2) * sizeof(char *));
        if (!nv) {
                pm_free(copy);
                return -ENOMEM;
        }
        nv[n] = copy;
        nv[n + 1] = NULL;
        *argv = nv;
        return 0;
}

void
pm_plan_release(struct pm_plan *plan)
{
        /* Every slot, not just n_steps: a plan() that failed half-way may have filled one more. */
        for (size_t i = 0; i < PM_PLAN_MAX_STEPS; i++) {
                pm_argv_free(plan->steps[i].argv);
                pm_argv_free(plan->steps[i].env);
                pm_free(plan->steps[i].cwd);
                pm_free(plan->steps[i].output_file);
        }
        memset(plan, 0, sizeof(*plan));
}

bool
pm_step_exit_ok(const struct pm_step *step, int exit_status, size_t output_len)
{
        size_t i;

        if (exit_status == 0 || step->any_exit)
                return true;
        if (output_len == 0 && !step->output_file)
                return false;
        for (i = 0; i < sizeof(step->ok_exit_codes) / sizeof(step->ok_exit_codes[0]); i++)
                if (step->ok_exit_codes[i] != 0 && step->ok_exit_codes[i] == exit_status)
                        return true;
        return false;
}

int
pm__watch_skip_push(char ***dirs, const char *project_root, const char *rel, struct pm_error *err)
{
        char *path = pm_path_normalize(NULL, project_root, rel);
        int r = path ? pm_argv_push(dirs, path) : -ENOMEM;

        pm_free(path);
        if (r < 0)
                return pm_error_set(err, r, "out of memory");
        return 0;
}

void
pm_build_report_release(struct pm_build_report *report)
{
        if (!report)
                return;
        for (size_t i = 0; i < report->n; i++) {
                pm_free(report->items[i].label);
                pm_free(report->items[i].dylib_path);
                pm_free(report->items[i].out_dir);
                pm_free(report->items[i].error);
                pm_argv_free(report->items[i].cfgs);
                pm_argv_free(report->items[i].env);
                pm_argv_free(report->items[i].files);
                pm_free(report->items[i].pkg_dir);
        }
        pm_free(report->items);
        report->items = NULL;
        report->n = 0;
}

/* Runs named by this process so far: with the pid, one report file name per run. */
static atomic_ulong report_runs;

char *
pm__adapter_cache_file(const struct pm_query *q, const char *prefix)
{
        char *dir = pm_config_cache_dir(q->config);
        char *name, *path;

        if (!dir)
                return NULL;
        name = pm_asprintf("%s-%016llx-%ld-%lu.json", prefix,
                           (unsigned long long)pm_hash64_str(q->project->root, 0), (long)getpid(),
                           atomic_fetch_add(&report_runs, 1));
        path = name ? pm_path_join(NULL, dir, name) : NULL;
        pm_free(name);
        pm_free(dir);
        return path;
}

int
pm__adapter_report_step(const struct pm_query *q, char ***argv, char **report,
                        const int *ok_exit_codes, size_t n_ok, struct pm_plan *ret_plan)
{
        struct pm_step *s = &ret_plan->steps[0];
        char *cwd = pm_strdup(q->project->root);

        if (!cwd)
                return -ENOMEM;
        s->argv = pm_steal_ptr(argv);
        s->cwd = cwd;
        s->output_file = pm_steal_ptr(report);
        for (size_t i = 0; i < n_ok && i < sizeof(s->ok_exit_codes) / sizeof(s->ok_exit_codes[0]);
             i++)
                s->ok_exit_codes[i] = ok_exit_codes[i];
        ret_plan->n_steps = 1;
        return 0;
}

bool
pm__adapter_is_dylib(const char *path)
{
        size_t n = strlen(path);

        return (n > 3 && strcmp(path + n - 3, ".so") == 0) ||
               (n > 6 && strcmp(path + n - 6, ".dylib") == 0) ||
               (n > 4 && strcmp(path + n - 4, ".dll") == 0);
}

void
pm_check_report_release(struct pm_check_report *report)
{
        if (!report)
                return;
        pm_argv_free(report->files);
        pm_free(report->base);
        pm_free(report->external_base);
        pm_free(report->error);
        memset(report, 0, sizeof(*report));
}
