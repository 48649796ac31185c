/* SPDX-License-Identifier: MIT */
/* Test fixtures shared by every suite: temporary trees, files, running commands, paths, and a
 * few assertions several suites make (argv, dependencies). */
#ifndef PROJMODEL_TESTLIB_H
#define PROJMODEL_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

struct pm_crate;

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
/* The name of the first entry of directory @dir that starts with @prefix, pm_malloc'd, or NULL
 * (none, or no such directory). */
char *pm_test_find_prefix(const char *dir, const char *prefix);
/*
 * The GN warning that is past PM_WARNING_MAX (include/projmodel/graph.h) where a plain cut would
 * split a character: into the caller's (empty) @name, @entry and @want, a target name "noenv_"
 * and 300 'x', a rustenv entry "NOEQ" and 100 3-byte characters, and the warning the GN adapter
 * prints for them in //lib/util (43 whole characters of the entry, then "...": 479 bytes).
 * Returns 0 or -ENOMEM.
 */
struct pm_strbuf;
int pm_test_long_gn_warning(struct pm_strbuf *name, struct pm_strbuf *entry,
                            struct pm_strbuf *want);
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

/* Replace the first @from in the file @path by @to and write it back; asserts that the file
 * reads, holds @from, and writes. */
void pm_test_edit_file(const char *path, const char *from, const char *to);

/* Append @text to the file @path; asserts that it reads and writes. */
void pm_test_append_file(const char *path, const char *text);

/* Set the access and modification times of @path (not followed when a link) to @seconds ago;
 * asserts that it can. */
void pm_test_age_path(const char *path, long seconds);

/* True if @c has a dependency on @label under the extern name @name (NULL: no rename). */
bool pm_test_crate_has_dep(const struct pm_crate *c, const char *label, const char *name);

/* Assert that the NULL-terminated @argv equals @expected (NULL-terminated), naming the first
 * difference. */
void pm_test_assert_argv(char *const *argv, const char *const *expected);

struct cJSON;
/* The crate of the rust-project.json object @project whose display_name is @name (owned by
 * @project); asserts that there is one. */
const struct cJSON *pm_test_crate_named(const struct cJSON *project, const char *name);

#endif
