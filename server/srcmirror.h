/* SPDX-License-Identifier: MIT */
/* Serving a crate that mixes checked-in and generated sources from one directory of links
 * (server/srcmirror.c), for server/build.c. */
#ifndef PROJMODEL_SERVER_SRCMIRROR_H
#define PROJMODEL_SERVER_SRCMIRROR_H

#include <stddef.h>

struct pm_crate;
struct pm_error;
struct pm_graph;
struct pm_query;

/*
 * After its generated sources are served (pm_crate.gen_srcs), join crate @c's sources in one
 * directory of links, `<cache>/srcs/<hash>/`, when it mixes checked-in files of its package
 * directory (its build file's) with built files under one of the @n_dirs directories @dirs (the
 * package output directories the build reported, pm_built.pkg_dir; an entry may be NULL): each
 * at its path relative to its directory, as rules_rust compiles such a crate; the root module
 * becomes its link and the directory one of the crate's include dirs, the sources stay the
 * user's files. *@cache is the cache directory, found on first use (pm_malloc'd, the caller
 * frees it; NULL to start). A link that cannot be made leaves the crate as it was, with a note.
 * -ENOMEM only.
 */
int pm__mirror_sources(const struct pm_query *q, struct pm_graph *g, struct pm_crate *c,
                       const char *const *dirs, size_t n_dirs, char **cache, struct pm_error *err);

#endif
