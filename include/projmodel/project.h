/* SPDX-License-Identifier: MIT */
/* The one answer to "which project for this file, build file, crate or repository": the rule
 * behind `discover` (in-process and through the daemon), projmodel/rustProject and `export`
 * (docs/protocol.md, "Which project answers a request"). Owned by indexer/. */
#ifndef PROJMODEL_PROJECT_H
#define PROJMODEL_PROJECT_H

struct cJSON;
struct pm_error;
struct pm_graph;
struct pm_index;
struct pm_writer_options;

/*
 * The rule. Every crate has a key: its build file, or its root module when it has none. The
 * project of key K is the dependency closure of every crate whose key is K, keyed by K. So one
 * build file gives one project whichever of its files, crates or itself is asked about, and
 * rust-analyzer (which keys discovered projects by `buildfile`) never sees two versions of it.
 */
enum pm_project_form {
        PM_PROJECT_PATH,      /* a source file: the project of its owning crate's key */
        PM_PROJECT_BUILDFILE, /* a key: the crates it declares (or roots, for crates without one) */
        PM_PROJECT_LABEL,     /* a crate: the project of its key */
        PM_PROJECT_REPO,      /* every crate of the model */
};

/* One request. Strings are borrowed for the call. */
struct pm_project_request {
        enum pm_project_form form;
        const char *value;          /* absolute normalised path, or the label; unused for REPO */
        const char *repo_buildfile; /* REPO only: its key (absolute), or NULL */
};

/* One answer: owned by the caller, release with pm_project_answer_release(). */
struct pm_project_answer {
        char *buildfile;        /* the key: absolute, pm_malloc'd (NULL for REPO without one) */
        struct pm_graph *graph; /* the project's crates: a closed graph (every dep is in it) */
};

void pm_project_answer_release(struct pm_project_answer *a);

/*
 * Resolve @req against the model. PM_ENOTFOUND with "no crate owns '<path>'", "no crate is
 * declared in '<file>'" or "no crate '<label>' in the model" when nothing answers; *ret is
 * written only on success.
 */
int pm_project_answer(struct pm_index *idx, const struct pm_project_request *req,
                      struct pm_project_answer *ret, struct pm_error *err);

/*
 * pm_project_answer() rendered with pm_writer_project() and @opts: *ret_buildfile (as the
 * answer's, pm_malloc'd) and *ret_project (cJSON_Delete), both owned by the caller.
 */
int pm_project_json(struct pm_index *idx, const struct pm_project_request *req,
                    const struct pm_writer_options *opts, char **ret_buildfile,
                    struct cJSON **ret_project, struct pm_error *err);

#endif
