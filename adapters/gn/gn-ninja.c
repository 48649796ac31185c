/* SPDX-License-Identifier: MIT */
/* Reads the `externs` line of a GN-generated <target>.ninja file: the only place GN records
 * `aliased_deps` renames (neither `gn desc` nor the IDE JSON shows them). Reads files only. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/stamp.h"
#include "projmodel/strbuf.h"

#include "adapters/gn/gn-internal.h"

#define MAX_EXTERNS 100000
/* A parse reads one ninja file per Rust target (10,000 in a large tree), nearly all of a few KiB:
 * they are read into a stack buffer, and only a larger one into the heap. */
#define NINJA_STACK_BUF (64 * 1024)

/*
 * Split a ninja variable value into words. Ninja escapes are `$ ` (space), `$:` (colon), `$$`
 * (dollar) and `$` + newline (continuation, leading blanks of the next line dropped). Words are
 * appended to @words (allocated from @a, up to @max).
 */
static int
split_words(struct pm_arena *a, const char *value, size_t len, char **words, size_t max,
            size_t *ret_n, const char *origin, struct pm_error *err)
{
        char *word = pm_arena_alloc(a, len + 1);
        size_t n = 0, wl = 0, i;
        bool in_word = false;

        if (!word)
                return pm_error_set(err, -ENOMEM, "out of memory");

        for (i = 0; i <= len; i++) {
                char c = i < len ? value[i] : ' ';

                if (c == '$' && i + 1 < len) {
                        char e = value[++i];

                        if (e == '\n') {
                                while (i + 1 < len && (value[i + 1] == ' ' || value[i + 1] == '\t'))
                                        i++;
                                c = ' ';
                        } else {
                                word[wl++] = e;
                                in_word = true;
                                continue;
                        }
                }
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                        if (!in_word)
                                continue;
                        if (n == max)
                                return pm_error_set_at(err, PM_ELIMIT, origin, 0, 0,
                                                       "cannot read '%s': more than %zu externs",
                                                       origin, max / 2);
                        words[n] = pm_arena_strndup(a, word, wl);
                        if (!words[n])
                                return pm_error_set(err, -ENOMEM, "out of memory");
                        n++;
                        wl = 0;
                        in_word = false;
                        continue;
                }
                word[wl++] = c;
                in_word = true;
        }
        *ret_n = n;
        return 0;
}

int
pm__gn_parse_externs(struct pm_arena *a, const char *value, size_t len, const char *origin,
                     struct pm__gn_extern **ret_v, size_t *ret_n, struct pm_error *err)
{
        struct pm__gn_extern *v = NULL;
        char **words;
        size_t n_words = 0, max_words, n = 0, i;
        int r;

        /* Every word takes at least two bytes (a character and a separator). */
        max_words = len / 2 + 1;
        if (max_words > 2 * MAX_EXTERNS)
                max_words = 2 * MAX_EXTERNS;
        words = pm_arena_alloc(a, max_words * sizeof(char *));
        if (!words)
                return pm_error_set(err, -ENOMEM, "out of memory");
        r = split_words(a, value, len, words, max_words, &n_words, origin, err);
        if (r < 0)
                return r;
        if (n_words) {
                v = pm_arena_alloc(a, n_words * sizeof(*v));
                if (!v)
                        return pm_error_set(err, -ENOMEM, "out of memory");
        }

        for (i = 0; i < n_words; i++) {
                const char *spec, *eq;

                if (strcmp(words[i], "--extern") == 0) {
                        if (i + 1 == n_words)
                                return pm_error_set_at(err, PM_EBADTOOLOUTPUT, origin, 0, 0,
                                                       "cannot parse '%s': '--extern' without a "
                                                       "value on the externs line",
                                                       origin);
                        spec = words[++i];
                } else if (strncmp(words[i], "--extern=", 9) == 0) {
                        spec = words[i] + 9;
                } else {
                        /* Other flags a toolchain may put there: not ours to judge. */
                        continue;
                }
                eq = strchr(spec, '=');
                if (!eq || eq == spec || !eq[1]) {
                        /* `--extern NAME` alone (sysroot crates): no path to match. */
                        continue;
                }
                v[n].name = pm_arena_strndup(a, spec, (size_t)(eq - spec));
                v[n].path = pm_arena_strdup(a, eq + 1);
                if (!v[n].name || !v[n].path)
                        return pm_error_set(err, -ENOMEM, "out of memory");
                /* It becomes a dep name, which must be an identifier (rustc insists too). */
                if (!pm_crate_name_valid(v[n].name, false))
                        return pm_error_set_at(err, PM_EBADTOOLOUTPUT, origin, 0, 0,
                                               "cannot parse '%s': '--extern' name '%.200s' is "
                                               "not an identifier",
                                               origin, v[n].name);
                n++;
        }

        *ret_v = n ? v : NULL;
        *ret_n = n;
        return 0;
}

static bool
odd_dollars(const char *start, const char *end)
{
        size_t n = 0;

        while (end > start && end[-1] == '$') {
                end--;
                n++;
        }
        return n % 2 == 1;
}

/* The value of the first `externs = ...` assignment in @text (indented or not), or NULL. */
static const char *
find_externs(const char *text, size_t len, size_t *ret_len)
{
        const char *p = text, *end = text + len;

        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *q = p;

                if (!eol)
                        eol = end;
                while (q < eol && (*q == ' ' || *q == '\t'))
                        q++;
                if ((size_t)(eol - q) >= 7 && memcmp(q, "externs", 7) == 0) {
                        q += 7;
                        while (q < eol && (*q == ' ' || *q == '\t'))
                                q++;
                        if (q < eol && *q == '=') {
                                const char *v = q + 1, *vend = eol;

                                /* An odd run of `$` before the newline continues the value
                                 * on the next line (`$$` is an escaped dollar). */
                                while (vend < end && odd_dollars(v, vend)) {
                                        const char *next =
                                                memchr(vend + 1, '\n', (size_t)(end - vend - 1));

                                        vend = next ? next : end;
                                }
                                *ret_len = (size_t)(vend - v);
                                return v;
                        }
                }
                p = eol + 1;
        }
        return NULL;
}

static int64_t
ns(const struct timespec *ts)
{
        return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/*
 * Read @path (when @dirfd >= 0, as @rel under @dirfd: a shorter walk) whole: into @stack
 * (@stack_size bytes) when it fits, else into @heap. *ret_text and *ret_len describe the contents
 * (NUL-terminated), *ret_file what fstat() said of the file read (for its stamp), or missing when
 * there is none. Errors as pm_strbuf_read_file()'s.
 */
static int
read_ninja(int dirfd, const char *rel, const char *path, char *stack, size_t stack_size,
           struct pm_strbuf *heap, const char **ret_text, size_t *ret_len,
           struct pm_stamp_file *ret_file, struct pm_error *err)
{
        struct stat st;
        size_t len = 0;
        ssize_t n;
        int fd, r = 0;

        if (dirfd >= 0)
                fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        else
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        *ret_file = (struct pm_stamp_file){ .missing = true };
                return pm_error_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
        }
        /* Before the read: a write after this changes the times the stamp records. */
        if (fstat(fd, &st) < 0) {
                r = pm_error_set(err, -errno, "cannot read '%s': %s", path, strerror(errno));
                goto out;
        }
        *ret_file = (struct pm_stamp_file){ .mtime_ns = ns(&st.st_mtim),
                                            .ctime_ns = ns(&st.st_ctim),
                                            .size = (int64_t)st.st_size,
                                            .ino = (uint64_t)st.st_ino };
        for (;;) {
                /* All of a regular file that fits: no second read() to see the end. */
                if (S_ISREG(st.st_mode) && len == (size_t)st.st_size && len > 0)
                        break;
                n = read(fd, stack + len, stack_size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = pm_error_set(err, -errno, "cannot read '%s': %s", path,
                                         strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len == stack_size - 1)
                        break;
        }
        if (len < stack_size - 1) {
                stack[len] = '\0';
                *ret_text = stack;
                *ret_len = len;
                goto out;
        }
        /* Larger than the stack buffer: continue in the heap. */
        if (pm_strbuf_add(heap, stack, len) < 0) {
                r = pm_error_set(err, -ENOMEM, "cannot read '%s': out of memory", path);
                goto out;
        }
        for (;;) {
                if (pm_strbuf_grow(heap, 64 * 1024) < 0) {
                        r = pm_error_set(err, -ENOMEM, "cannot read '%s': out of memory", path);
                        goto out;
                }
                n = read(fd, heap->buf + heap->len, heap->alloc - heap->len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = pm_error_set(err, -errno, "cannot read '%s': %s", path,
                                         strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                heap->len += (size_t)n;
                heap->buf[heap->len] = '\0';
                if (heap->len > PM_GN_MAX_NINJA_BYTES) {
                        r = pm_error_set(err, PM_ELIMIT,
                                         "cannot read '%s': larger than the limit of %zu bytes",
                                         path, (size_t)PM_GN_MAX_NINJA_BYTES);
                        goto out;
                }
        }
        *ret_text = heap->buf;
        *ret_len = heap->len;
out:
        (void)close(fd);
        return r;
}

int
pm__gn_ninja_read_externs(struct pm_arena *a, const char *path, struct pm__gn_extern **ret_v,
                          size_t *ret_n, struct pm_error *err)
{
        struct pm_stamp_file f;

        return pm__gn_ninja_read_externs_at(a, -1, NULL, path, &f, ret_v, ret_n, err);
}

int
pm__gn_ninja_read_externs_at(struct pm_arena *a, int dirfd, const char *rel, const char *path,
                             struct pm_stamp_file *ret_file, struct pm__gn_extern **ret_v,
                             size_t *ret_n, struct pm_error *err)
{
        char stack[NINJA_STACK_BUF];
        struct pm_strbuf heap = PM_STRBUF_INIT;
        const char *text = NULL, *value;
        size_t len = 0, text_len = 0;
        int r;

        *ret_file = (struct pm_stamp_file){ .missing = true };
        r = read_ninja(dirfd, rel, path, stack, sizeof(stack), &heap, &text, &text_len, ret_file,
                       err);
        if (r < 0)
                goto out;
        value = find_externs(text, text_len, &len);
        if (!value) {
                *ret_v = NULL;
                *ret_n = 0;
                r = 0;
                goto out;
        }
        r = pm__gn_parse_externs(a, value, len, path, ret_v, ret_n, err);
        if (r == 0)
                r = 1;
out:
        pm_strbuf_release(&heap);
        return r;
}
