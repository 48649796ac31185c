/* SPDX-License-Identifier: MIT */
/* Test fixtures shared by every suite: temporary trees, files, running commands, paths. */
#ifndef PROJMODEL_TESTLIB_H
#define PROJMODEL_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/* $PM_SOURCE_ROOT, $PM_BUILD_ROOT, the built projmodel executable ($PM_TEST_PROJMODEL if set,
 * else $PM_PROJMODEL). Borrowed. */
const char *pm_test_source_root(void);
const char *pm_test_build_root(void);
const char *pm_test_projmodel(void);

/* A fresh directory under $TMPDIR (or /tmp), pm_malloc'd; removed by pm_test_rmtree(). */
char *pm_test_mkdtemp(void);
/* rm -rf @path (no shell). Returns 0 or -errno. */
int pm_test_rmtree(const char *path);
/* cp -a @src @dst (directory tree, no shell). */
int pm_test_copy_tree(const char *src, const char *dst);
/* Write @content to @path, creating parent directories. */
int pm_test_write_file(const char *path, const char *content);
/* Whole file, pm_malloc'd NUL-terminated, or NULL. */
char *pm_test_read_file(const char *path);
/* pm_malloc'd printf. */
char *pm_test_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Run @argv (NULL-terminated, PATH lookup, no shell) in @cwd (NULL = current) with extra
 * environment @env ("K=V" strings, NULL-terminated, may be NULL), stdin from /dev/null @stdin_data
 * when NULL, else fed to stdin. Captures stdout and stderr into pm_malloc'd strings (either ret
 * may be NULL to discard). Returns the exit status (0-255), 128+signal for a signal, or -errno
 * when it cannot start.
 */
int pm_test_run(const char *const *argv, const char *cwd, const char *const *env,
                const char *stdin_data, char **ret_out, char **ret_err);

/* True if the program @name is found in PATH. */
bool pm_test_have(const char *name);

#endif
