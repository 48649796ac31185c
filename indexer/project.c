/* SPDX-License-Identifier: MIT */
/* Which project answers a request (projmodel/project.h): a file, build file or crate maps to
 * its key, and a key to the dependency closure of every crate it keys. Reads the model through
 * its public queries, all in one read transaction; rendering is the writer's. */
#include "projmodel/project.h"

#include <errno.h>
#include <string.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/index.h"
#include "projmodel/mem.h"
#include "projmodel/writer.h"

#include "indexer-internal.h"

static int
oom(struct pm_error *err)
{
        return pm_error_set(err, -ENOMEM, "out of memory");
}

/* The key of @c: the file that declares it, else its root module. */
static const char *
key_of(const struct pm_crate *c)
{
        return c->build_file ? c->build_file : c->root_module;
}

/*
 * Of the crates owning a file, the one whose key answers: a workspace member with a build file
 * first (the file the editor edits), then any crate with a build file, then a member, then any;
 * ties go to the first label. @g holds the owners, sorted by label.
 */
static const struct pm_crate *
keying_crate(const struct pm_graph *g)
{
        const struct pm_crate *best = NULL;
        int best_rank = 4;

        for (size_t i = 0; i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];
                int rank = (c->build_file ? 0 : 2) + (c->is_workspace_member ? 0 : 1);

                if (rank < best_rank) {
                        best = c;
                        best_rank = rank;
                }
        }
        return best;
}

/* The key of the crate @label (pm_malloc'd), PM_ENOTFOUND when the model has no such crate. */
static int
key_for_label(struct pm_index *idx, const char *label, char **ret, struct pm_error *err)
{
        struct pm_graph *g = NULL;
        int r;

        r = pm_index_load(idx, &label, 1, &g, err);
        if (r == PM_ENOTFOUND)
                r = pm_error_set(err, PM_ENOTFOUND, "no crate '%s' in the model", label);
        if (r < 0)
                goto out;
        if (g->n_crates != 1) {
                r = pm_error_set(err, PM_ENOTFOUND, "no crate '%s' in the model", label);
                goto out;
        }
        *ret = pm_strdup(key_of(&g->crates[0]));
        if (!*ret)
                r = oom(err);
out:
        pm_graph_free(g);
        return r;
}

/* The key answering for file @path (pm_malloc'd), PM_ENOTFOUND when no crate owns it. */
static int
key_for_path(struct pm_index *idx, const char *path, char **ret, struct pm_error *err)
{
        struct pm_graph *g = NULL;
        const struct pm_crate *c;
        char **owners = NULL;
        int r;

        r = pm_index_crates_for_file(idx, path, &owners, err);
        if (r < 0)
                goto out;
        if (!owners[0]) {
                r = pm_error_set(err, PM_ENOTFOUND, "no crate owns '%s'", path);
                goto out;
        }
        r = pm_index_load(idx, (const char *const *)owners, pm_labels_count(owners), &g, err);
        if (r < 0)
                goto out;
        c = keying_crate(g);
        if (!c) {
                r = pm_error_set(err, PM_ENOTFOUND, "no crate owns '%s'", path);
                goto out;
        }
        *ret = pm_strdup(key_of(c));
        if (!*ret)
                r = oom(err);
out:
        pm_graph_free(g);
        pm_labels_free(owners);
        return r;
}

/*
 * The crates keyed by @key (sorted labels, pm_labels_free()): those its build file declares,
 * else the crates without a build file whose root module it is. PM_ENOTFOUND when none.
 */
static int
crates_for_key(struct pm_index *idx, const char *key, char ***ret, struct pm_error *err)
{
        struct pm_graph *g = NULL;
        char **labels = NULL, **keyed = NULL;
        size_t n = 0;
        int r;

        r = pm_index_crates_for_build_file(idx, key, &labels, err);
        if (r < 0 || labels[0])
                goto done;
        labels = pm_labels_free(labels);
        r = pm_index_crates_for_file(idx, key, &labels, err);
        if (r < 0)
                goto out;
        if (labels[0]) {
                r = pm_index_load(idx, (const char *const *)labels, pm_labels_count(labels), &g,
                                  err);
                if (r < 0)
                        goto out;
        }
        keyed = pm_calloc(pm_labels_count(labels) + 1, sizeof(*keyed));
        if (!keyed) {
                r = oom(err);
                goto out;
        }
        for (size_t i = 0; g && i < g->n_crates; i++) {
                const struct pm_crate *c = &g->crates[i];

                if (c->build_file || strcmp(c->root_module, key) != 0)
                        continue;
                keyed[n] = pm_strdup(c->label);
                if (!keyed[n++]) {
                        r = oom(err);
                        goto out;
                }
        }
        pm_labels_free(labels);
        labels = pm_steal_ptr(&keyed);
done:
        if (r >= 0 && !labels[0])
                r = pm_error_set(err, PM_ENOTFOUND, "no crate is declared in '%s'", key);
        if (r < 0)
                goto out;
        *ret = pm_steal_ptr(&labels);
out:
        pm_graph_free(g);
        pm_labels_free(keyed);
        pm_labels_free(labels);
        return r;
}

void
pm_project_answer_release(struct pm_project_answer *a)
{
        if (!a)
                return;
        pm_free(a->buildfile);
        pm_graph_free(a->graph);
        a->buildfile = NULL;
        a->graph = NULL;
}

int
pm_project_answer(struct pm_index *idx, const struct pm_project_request *req,
                  struct pm_project_answer *ret, struct pm_error *err)
{
        struct pm_graph *g = NULL;
        char *key = NULL, **crates = NULL, **closure = NULL;
        bool in_tx = false;
        int r;

        /* One snapshot: an apply committing between the queries cannot tear the answer (a
         * closure naming a crate the load no longer finds). */
        r = pm__index_exec(idx, PM__STMT_BEGIN_READ, err);
        if (r < 0)
                goto out;
        in_tx = true;
        switch (req->form) {
        case PM_PROJECT_REPO:
                if (req->repo_buildfile) {
                        key = pm_strdup(req->repo_buildfile);
                        if (!key) {
                                r = oom(err);
                                goto out;
                        }
                }
                r = pm_index_load(idx, NULL, 0, &g, err);
                goto done;
        case PM_PROJECT_PATH:
                r = key_for_path(idx, req->value, &key, err);
                break;
        case PM_PROJECT_LABEL:
                r = key_for_label(idx, req->value, &key, err);
                break;
        case PM_PROJECT_BUILDFILE:
        default:
                key = pm_strdup(req->value);
                r = key ? 0 : oom(err);
                break;
        }
        if (r < 0)
                goto out;
        r = crates_for_key(idx, key, &crates, err);
        if (r < 0)
                goto out;
        r = pm_index_closure(idx, (const char *const *)crates, pm_labels_count(crates), &closure,
                             err);
        if (r < 0)
                goto out;
        r = pm_index_load(idx, (const char *const *)closure, pm_labels_count(closure), &g, err);
done:
        if (r < 0)
                goto out;
        in_tx = false;
        r = pm__index_exec(idx, PM__STMT_COMMIT, err);
        if (r < 0)
                goto out;
        ret->buildfile = pm_steal_ptr(&key);
        ret->graph = pm_steal_ptr(&g);
out:
        if (in_tx)
                (void)pm__index_exec(idx, PM__STMT_ROLLBACK, NULL);
        pm_graph_free(g);
        pm_labels_free(closure);
        pm_labels_free(crates);
        pm_free(key);
        return r;
}

int
pm_project_json(struct pm_index *idx, const struct pm_project_request *req,
                const struct pm_writer_options *opts, char **ret_buildfile,
                struct cJSON **ret_project, struct pm_error *err)
{
        struct pm_project_answer a = { 0 };
        int r;

        r = pm_project_answer(idx, req, &a, err);
        if (r < 0)
                goto out;
        r = pm_writer_project(a.graph, opts, ret_project, err);
        if (r < 0)
                goto out;
        *ret_buildfile = pm_steal_ptr(&a.buildfile);
out:
        pm_project_answer_release(&a);
        return r;
}
