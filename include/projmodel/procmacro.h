/* SPDX-License-Identifier: MIT */
/* Building the proc-macro dylibs a model names, through the build system that declares them.
 * Owned by server/ (it runs processes). */
#ifndef PROJMODEL_PROCMACRO_H
#define PROJMODEL_PROCMACRO_H

#include <stddef.h>

struct pm_config;
struct pm_error;
struct pm_graph;

/*
 * Build, for every GN proc-macro crate of @g whose proc_macro_dylib does not exist yet, exactly
 * that output: `ninja -C <build dir> <output relative to it>`, one ninja run per build directory,
 * where the build directory is the nearest directory above the output holding build.ninja (the
 * output path itself is GN's, from its project JSON). Nothing is started when every dylib
 * exists. A dylib older than its root module, declared sources or build file is rebuilt the
 * same way (a stat per file: an unchanged tree starts no process). *ret_built (may be NULL)
 * counts the dylibs asked for. A proc macro whose GN project sets "build_proc_macros": false
 * is not built (its path, GN's own output, is still served for the user's own ninja to fill);
 * generated sources still are. PM_ECONFIG for a malformed setting. A failed build returns PM_ETOOL
 * naming the targets and ninja's first error line; the graph is never changed. @g is borrowed.
 */
int pm_procmacro_build_sync(const struct pm_config *cfg, const struct pm_graph *g,
                            size_t *ret_built, struct pm_error *err);

#endif
