/* SPDX-License-Identifier: MIT */
/* A growable byte buffer (git strbuf style) used for tool output, frames and file contents. */
#ifndef PROJMODEL_STRBUF_H
#define PROJMODEL_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pm_error;

/*
 * Invariant: buf is NULL only when alloc == 0; otherwise buf[len] == '\0'. Contents belong to
 * the struct; pm_strbuf_release() frees them, pm_strbuf_detach() hands them to the caller.
 */
struct pm_strbuf {
        char *buf;    /* bytes, NUL-terminated when non-NULL */
        size_t len;   /* bytes used, excluding the NUL */
        size_t alloc; /* bytes allocated */
};

#define PM_STRBUF_INIT     \
        {                  \
                NULL, 0, 0 \
        }

void pm_strbuf_init(struct pm_strbuf *sb);
void pm_strbuf_release(struct pm_strbuf *sb);
/* Returns the buffer (owned by the caller, free with pm_free; never NULL on success, "" when
 * empty) and re-initializes @sb. Returns NULL on out of memory. */
char *pm_strbuf_detach(struct pm_strbuf *sb, size_t *ret_len);
/* Each returns 0 or -ENOMEM (the buffer is unchanged on failure). */
int pm_strbuf_grow(struct pm_strbuf *sb, size_t extra);
int pm_strbuf_add(struct pm_strbuf *sb, const void *data, size_t len);
int pm_strbuf_adds(struct pm_strbuf *sb, const char *s);
int pm_strbuf_addch(struct pm_strbuf *sb, char c);
/* Append the UTF-8 encoding of code point @cp (at most U+10FFFF; the caller checks). */
int pm_strbuf_add_utf8(struct pm_strbuf *sb, uint32_t cp);
int pm_strbuf_addf(struct pm_strbuf *sb, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
int pm_strbuf_vaddf(struct pm_strbuf *sb, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));
void pm_strbuf_reset(struct pm_strbuf *sb);
/* Drop the first @n bytes. */
void pm_strbuf_consume(struct pm_strbuf *sb, size_t n);

/*
 * Read all of @path into @sb (appending), failing with PM_ELIMIT beyond @max bytes (0 = no
 * limit) and -errno on I/O errors, naming the file in @err.
 */
int pm_strbuf_read_file(struct pm_strbuf *sb, const char *path, size_t max, struct pm_error *err);

/*
 * Write @len bytes atomically to @path: a temporary file in the same directory, fsync, rename.
 * A reader sees the old file or the new one, never a half-written one. An existing path that is
 * not a regular file or directory (/dev/null, /dev/stdout, a FIFO) is written in place.
 */
int pm_write_file_atomic(const char *path, const void *data, size_t len, struct pm_error *err);

/*
 * mkdir -p: create the directory @dir and its missing parents, each with mode 0700 (projmodel's
 * directories hold its private model, logs and sockets). An existing directory is fine; its
 * mode is left alone (callers that must check it do). Errors are -errno naming the directory
 * that could not be made.
 */
int pm_mkdir_p(const char *dir, struct pm_error *err);

/*
 * Make @path a symbolic link to @target: kept when it is one already, else made beside it
 * ("<path>.tmp<pid>") and renamed over it, so a reader never sees @path missing. Returns 0 or a
 * negative errno (-ENOMEM included).
 */
int pm_symlink_replace(const char *path, const char *target);

/*
 * A copy of @s for JSON text (which must be UTF-8; cJSON copies the bytes as they are): at most
 * @max bytes (@max >= 4) of well-formed UTF-8. A byte that does not begin a well-formed sequence
 * becomes '?'; a longer text is cut before a whole character and ends with "...". Returns the
 * copy (the caller frees it with pm_free) or NULL when out of memory.
 */
char *pm_utf8_clip(const char *s, size_t max);

/* The length of the longest prefix of @s (@len bytes) of at most @max bytes that does not end
 * inside a UTF-8 sequence (only continuation bytes are stepped back over). */
size_t pm_utf8_prefix_len(const char *s, size_t len, size_t max);

/*
 * The error-line rule: the line of @text that best explains a failure, the first starting with
 * "error" (any case) or "FATAL" (GN prints "ERROR at //x/BUILD.gn:3:1: ..." and then context
 * lines), else the last non-empty one; whitespace-trimmed, control characters blanked,
 * shortened with "..." to fit @buf (cut before a whole UTF-8 character); "" when @text has
 * none. Returns whether the line is such an error-marked one. The one rule for every failed
 * step (server/spawn.c) and for the output builders reading a build tool's output.
 */
bool pm_tool_error_line(const char *text, size_t len, char *buf, size_t size);

#endif
