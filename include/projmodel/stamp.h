/* SPDX-License-Identifier: MIT */
/* Input stamps: a record of exactly what one adapter run read (a hash of the tool's output plus
 * the identity of every other file the parse read), so an unchanged input can skip the parse and
 * the model update. Touches the file system only to stat() the recorded files. */
#ifndef PROJMODEL_STAMP_H
#define PROJMODEL_STAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "projmodel/hash.h" /* stamps are keyed by pm_hash64() */

struct pm_error;
struct pm_strlist;

/*
 * The clock a parse must read before it opens any input (CLOCK_REALTIME_COARSE, in ns). File
 * times are taken from the same coarse clock, so a file whose mtime or ctime is below this
 * value cannot change again without its times changing too; one at or above it may have been
 * written in the same clock tick as it was read ("racy", as git calls it) and is not trusted.
 */
int64_t pm_stamp_clock(void);

/*
 * The one monotonic clock for durations and deadlines (CLOCK_MONOTONIC), in milliseconds with
 * a fraction; only differences mean anything.
 */
double pm_clock_ms(void);

/*
 * Make a stamp for @key (the hash of everything the parse saw besides @inputs: tool output,
 * settings, version) and the files @inputs (absolute paths; missing files are recorded as
 * missing), read after @since (a pm_stamp_clock() value). *ret is a pm_malloc'd string owned by
 * the caller, or NULL when the inputs cannot be trusted: a file changed at or after @since, or
 * a path holds a newline. Fails only with -ENOMEM.
 */
int pm_stamp_make(uint64_t key, const struct pm_strlist *inputs, int64_t since, char **ret,
                  struct pm_error *err);

/*
 * What a stamp records of one input file, taken by the parse itself as it read the file: fstat()
 * of the descriptor it read (which names the same file a later stat() of the path would, unless
 * the file is replaced, which the next check then sees), or missing when opening it failed with
 * ENOENT or ENOTDIR. Saves pm_stamp_make() a second walk of every path.
 */
struct pm_stamp_file {
        int64_t mtime_ns;
        int64_t ctime_ns;
        int64_t size;
        uint64_t ino;
        bool missing;
        /* When not 0: the pm_stamp_clock() value read just before this record was taken, which
         * the racy check compares its times with instead of the parse's @since (a file the
         * refresh itself wrote after the parse, a built proc-macro dylib, is recorded as it was
         * left). */
        int64_t since_ns;
};

/* What a stamp records of @path now, by stat(): missing on ENOENT or ENOTDIR. 0, or -errno for
 * any other error (the file cannot be trusted). */
int pm_stamp_file_stat(const char *path, struct pm_stamp_file *ret);

/*
 * As pm_stamp_make(), with @files (NULL, or one entry per path of @inputs) saying what the parse
 * saw of each input instead of asking stat() again.
 */
int pm_stamp_make_known(uint64_t key, const struct pm_strlist *inputs,
                        const struct pm_stamp_file *files, int64_t since, char **ret,
                        struct pm_error *err);

/*
 * True when @stamp (from pm_stamp_make(), may be NULL) was made for @key and every file it
 * records is still in the recorded state (same mtime, ctime, size, inode; or still missing).
 * Anything unreadable or malformed is simply "not fresh".
 */
bool pm_stamp_fresh(const char *stamp, uint64_t key);

/*
 * What a snapshot records of a build-system input (projmodel snapshot, serve --seed): the file's
 * content, independent of the machine and checkout that hold it. @out receives 16 hex digits of
 * pm_hash64() of the bytes, "missing" when the file does not exist, or "unreadable" when it
 * cannot be read (so it matches no content). Always succeeds.
 */
#define PM_FINGERPRINT_MAX 17
void pm_file_fingerprint(const char *path, char out[PM_FINGERPRINT_MAX]);

#endif
