/* SPDX-License-Identifier: MIT */
/* What every fuzz target shares: the libFuzzer entry point and a per-process scratch tree. */
#ifndef PROJMODEL_TESTS_FUZZ_H
#define PROJMODEL_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pm_config;

/* The libFuzzer entry point each fuzz-<target>.c defines; fuzz-main.c replays files into it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when $PM_FUZZ_VERBOSE is set (not "0"): targets then say what each input did, for
 * checking that a seed reaches the code it was written for. */
bool pm_fuzz_verbose(void);

/*
 * A temporary directory created on first use and removed at exit, one per process (every input
 * of a run shares it). pm_malloc'd once, borrowed by the caller. Aborts when it cannot be made:
 * a fuzz target has no other way to report a broken environment.
 */
const char *pm_fuzz_tmpdir(void);

/* Write @content to @dir/@rel, creating parent directories. Aborts on failure. */
void pm_fuzz_write(const char *dir, const char *rel, const void *content, size_t len);

/* As pm_fuzz_write() with a NUL-terminated @content. */
void pm_fuzz_write_str(const char *dir, const char *rel, const char *content);

/*
 * A NUL-terminated copy of @data with every "@ROOT@" replaced by @root, so seed inputs can name
 * absolute paths inside the per-process directory. pm_malloc'd; *ret_len gets its length.
 * Aborts on out of memory.
 */
char *pm_fuzz_subst_root(const uint8_t *data, size_t size, const char *root, size_t *ret_len);

/*
 * Load and resolve the configuration of the directory @rel of pm_fuzz_tmpdir(), after writing
 * @projmodel_json as its .projmodel.json. Aborts on failure (the caller's fixed input must load).
 * The result is cached per @rel and freed at exit; borrowed.
 */
const struct pm_config *pm_fuzz_config(const char *rel, const char *projmodel_json);

/* Files written by pm_fuzz_extract_files(), removed by pm_fuzz_files_remove(). */
#define PM_FUZZ_MAX_FILES 16

struct pm_fuzz_files {
        char *paths[PM_FUZZ_MAX_FILES]; /* absolute, pm_malloc'd */
        size_t n;
        char *dirs[PM_FUZZ_MAX_FILES * 8]; /* directories created for them, outermost first */
        size_t n_dirs;
};

/*
 * Inputs may carry extra files after the main document, each introduced by a line
 * "@@FILE <relative path>" (the main document ends at the newline before the first one). Write
 * them under @dir as new files (names with "..", odd bytes or naming an existing file are
 * skipped) and return the main length.
 */
size_t pm_fuzz_extract_files(const char *text, size_t len, const char *dir,
                             struct pm_fuzz_files *files);
void pm_fuzz_files_remove(struct pm_fuzz_files *files);

/*
 * Run the adapter of @cfg's root project on @data (after pm_fuzz_subst_root() and
 * pm_fuzz_extract_files()) as captured output named @origin_rel, and abort if the result breaks
 * the adapter contract: a failure must fill the error and return no graph, a success must return
 * a graph that passes pm_graph_validate() (dangling deps allowed).
 */
void pm_fuzz_adapter(const struct pm_config *cfg, const char *origin_rel, const uint8_t *data,
                     size_t size);

/* The absolute path of @rel inside pm_fuzz_tmpdir(), pm_malloc'd. */
char *pm_fuzz_path(const char *rel);

#endif
