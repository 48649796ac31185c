/* SPDX-License-Identifier: MIT */
/* The rust-project.json writer: a crate graph in, rust-analyzer's exact schema out. */
#ifndef PROJMODEL_WRITER_H
#define PROJMODEL_WRITER_H

#include <stdbool.h>

struct cJSON;
struct pm_error;
struct pm_graph;
struct pm_strbuf;

struct pm_writer_options {
        const char *sysroot;           /* absolute toolchain root, or NULL to omit */
        const char *sysroot_src;       /* absolute .../lib/rustlib/src/rust/library; written
                                        * whenever sysroot is */
        const char *proc_macro_cwd;    /* absolute monorepo root, written on every crate so
                                        * crates dedupe across discovered projects */
        const char *runnables_program; /* absolute path of the projmodel binary: when set
                                        * (and proc_macro_cwd), the project carries `runnables`
                                        * flycheck/run/testOne = `check|run|test {label} ...`
                                        * with cwd proc_macro_cwd; export and both discover
                                        * paths set it (pm_path_self_exe()) */
        bool no_flycheck;              /* leave the flycheck runnable out (config
                                        * "flycheck_runnable": false) */
        bool pretty;                   /* indent the output (export only; discover is compact) */
};

/*
 * Build the rust-project.json object for every crate of @g. Every dep must name a crate of @g
 * (load a closure); a dangling dep is PM_ESCHEMA naming both labels. Crates come out in
 * dependency order, ties broken by label, and each crate's object depends only on that crate
 * and the labels of its deps, so it renders byte-identically in any closure (modulo the
 * `crate` indices). *ret is owned by the caller (cJSON_Delete).
 */
int pm_writer_project(const struct pm_graph *g, const struct pm_writer_options *opts,
                      struct cJSON **ret, struct pm_error *err);

/* As pm_writer_project(), printed into @out (appended, with a trailing newline). */
int pm_writer_render(const struct pm_graph *g, const struct pm_writer_options *opts,
                     struct pm_strbuf *out, struct pm_error *err);

#endif
