/* SPDX-License-Identifier: MIT */
/* Building the proc-macro dylibs a model names, through the build system that declares them.
 * Owned by server/ (it runs processes). */
#ifndef PROJMODEL_PROCMACRO_H
#define PROJMODEL_PROCMACRO_H

#include <stdbool.h>
#include <stddef.h>

struct pm_adapter_ops;
struct pm_config;
struct pm_error;
struct pm_graph;
struct pm_progress;

/*
 * Build what the crates of @g (a graph just parsed, before it is applied) of @ops's build system
 * name but is missing, through @ops->outputs (projmodel/adapter.h; nothing when it is NULL):
 * root modules, declared sources and generated include dirs (the tool's own outputs in them),
 * and, when @dylibs, each proc macro's dylib (the output path the parse gave) that is missing or
 * older than its root module, declared sources or build file. One build step per build directory
 * and class (generated files first; GN: `ninja -C <build dir> -k 0 <outputs relative to it>`,
 * the build directory being the nearest directory above the output holding build.ninja).
 * Nothing is started when everything exists and is current (a stat per file).
 * *ret_built (may be NULL) counts the dylibs asked for.
 *
 * @g is changed: a proc macro whose dylib was not built loses its proc_macro_dylib and gets a
 * note "proc macro LABEL not built: LINE", LINE being rustc's first error line for that target in
 * the tool's output (with its location, absolute), else the tool's own reason; a generated file not
 * built gives its crate a note too. With @dylibs, each proc macro's root module, sources and
 * dylib join g->inputs (the input stamp then sees an edit of them): the sources as they were
 * before the build, the dylib as the build left it (so the next refresh of an unchanged tree
 * skips the parse). A failing tool never fails
 * the call: -ENOMEM only. @progress (may be NULL, projmodel/refresh.h) hears "building N proc
 * macros in '<dir>'" before each build run of proc macros (and of generated sources) and
 * "built N proc macros" (with the failures) after it.
 */
int pm_procmacro_build_sync(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                            struct pm_graph *g, bool dylibs, const struct pm_progress *progress,
                            size_t *ret_built, struct pm_error *err);

#endif
