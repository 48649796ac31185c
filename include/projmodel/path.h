/* SPDX-License-Identifier: MIT */
/* Lexical path handling: the same normalisation rust-analyzer applies (no symlink resolution).
 * Only pm_path_cwd(), pm_path_absolute(), pm_path_exists_in(), pm_path_command_take() and
 * pm_path_self_exe() look at the file system (and the environment). */
#ifndef PROJMODEL_PATH_H
#define PROJMODEL_PATH_H

#include <stdbool.h>
#include <stddef.h>

struct pm_arena;
struct pm_error;

/*
 * Lexically normalise @path: collapse "//", drop "." components, resolve ".." against the
 * preceding component, remove a trailing "/". An absolute path stays absolute ("/.." is "/"). A
 * relative path is first joined to @base (an absolute directory) when @base is non-NULL.
 * Returns a string owned by @a (or pm_malloc'd when @a is NULL), or NULL on out of memory.
 */
char *pm_path_normalize(struct pm_arena *a, const char *base, const char *path);

/* Join @dir and @rel with exactly one '/', then normalise. Ownership as above. */
char *pm_path_join(struct pm_arena *a, const char *dir, const char *rel);

/* Directory part of @path ("/a/b/c.rs" -> "/a/b", "/x" -> "/"). Ownership as above. */
char *pm_path_dirname(struct pm_arena *a, const char *path);

/* Pointer into @path at its last component. Borrowed from @path. */
const char *pm_path_basename(const char *path);

/* True if @path equals @dir or lies below it (both normalised, absolute). */
bool pm_path_is_under(const char *path, const char *dir);

/* True if @path is absolute. */
bool pm_path_is_absolute(const char *path);

/*
 * @path (absolute) escaped as `systemd-escape --path` escapes it, the instance name of a
 * template unit for that path (data/systemd/projmodel@.socket; systemd.unit(5), "String
 * Escaping for Inclusion in Unit Names"): "//" and "." components dropped, "/" becomes "-",
 * a leading "." and every byte but ASCII letters, digits, ':', '_' and '.' become "\xNN"
 * (lowercase hex); "/" alone is "-". -EINVAL (systemd-escape refuses those too) for a relative
 * path, a ".." component, a component longer than 255 bytes or a path of PATH_MAX bytes or
 * more. *ret_escaped is pm_malloc'd.
 */
int pm_path_systemd_escape(const char *path, char **ret_escaped, struct pm_error *err);

/*
 * The current working directory, normalised, pm_malloc'd (caller frees with pm_free), or NULL
 * with errno set.
 */
char *pm_path_cwd(void);

/*
 * @path made absolute against the working directory (when relative) and normalised. pm_malloc'd
 * (caller frees with pm_free), or NULL with errno set.
 */
char *pm_path_absolute(const char *path);

/* True if @dir/@name exists (lstat(): a dangling symlink counts). False on out of memory. */
bool pm_path_exists_in(const char *dir, const char *name);

/*
 * Take $PROJMODEL_COMMAND: keep its value for pm_path_self_exe() and remove it from the
 * environment. Called once, first thing in main() (cli/main.c), before any thread or child
 * process: the front binary (cli/front.c) and a client starting a daemon (cli/client.c) set it
 * for the projmodel binary they run and for no one else, so the build tools, the programs `run`
 * and `test` start, and a daemon's children never inherit it (docs/cli.md, "Installing"). A
 * value that is not absolute or names no executable file is dropped too. Not thread-safe.
 */
void pm_path_command_take(void);

/*
 * The path of the projmodel command running: the value pm_path_command_take() kept, else the
 * running executable (/proc/self/exe resolved); normalised, pm_malloc'd (caller frees with
 * pm_free), or NULL with errno set (ENOMEM when out of memory). The runnables of
 * rust-project.json and `projmodel setup` name it, so rust-analyzer runs the same projmodel
 * that wrote them, by the path users run. Safe from any thread once pm_path_command_take()
 * has returned.
 */
char *pm_path_self_exe(void);

/* The environment variable through which one projmodel binary names the command for the next
 * one it runs (pm_path_command_take()). */
#define PM_PATH_COMMAND_ENV "PROJMODEL_COMMAND"

#endif
