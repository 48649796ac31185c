/* SPDX-License-Identifier: MIT */
/* The growable byte buffer, reading whole files under a limit, atomic file and link replacement,
 * and cutting text on UTF-8 character boundaries, and the line of a tool's output that explains
 * its failure. */
#include "projmodel/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/path.h"

void
pm_strbuf_init(struct pm_strbuf *sb)
{
        sb->buf = NULL;
        sb->len = 0;
        sb->alloc = 0;
}

void
pm_strbuf_release(struct pm_strbuf *sb)
{
        pm_free(sb->buf);
        pm_strbuf_init(sb);
}

char *
pm_strbuf_detach(struct pm_strbuf *sb, size_t *ret_len)
{
        size_t len = sb->len;
        char *r;

        if (!sb->buf) {
                r = pm_strdup("");
                if (!r)
                        return NULL;
        } else {
                r = sb->buf;
        }
        pm_strbuf_init(sb);
        if (ret_len)
                *ret_len = len;
        return r;
}

int
pm_strbuf_grow(struct pm_strbuf *sb, size_t extra)
{
        size_t need, cap;
        char *nb;

        if (extra > SIZE_MAX - sb->len - 1)
                return -ENOMEM;
        need = sb->len + extra + 1;
        if (need <= sb->alloc)
                return 0;
        cap = sb->alloc ? sb->alloc : 64;
        while (cap < need)
                cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        nb = pm_realloc(sb->buf, cap);
        if (!nb)
                return -ENOMEM;
        if (!sb->buf)
                nb[0] = '\0';
        sb->buf = nb;
        sb->alloc = cap;
        return 0;
}

int
pm_strbuf_add(struct pm_strbuf *sb, const void *data, size_t len)
{
        int r = pm_strbuf_grow(sb, len);

        if (r < 0)
                return r;
        if (len)
                memcpy(sb->buf + sb->len, data, len);
        sb->len += len;
        sb->buf[sb->len] = '\0';
        return 0;
}

int
pm_strbuf_adds(struct pm_strbuf *sb, const char *s)
{
        return pm_strbuf_add(sb, s, strlen(s));
}

int
pm_strbuf_add_utf8(struct pm_strbuf *sb, uint32_t cp)
{
        char b[4];
        size_t n;

        if (cp < 0x80) {
                b[0] = (char)cp;
                n = 1;
        } else if (cp < 0x800) {
                b[0] = (char)(0xc0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3f));
                n = 2;
        } else if (cp < 0x10000) {
                b[0] = (char)(0xe0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[2] = (char)(0x80 | (cp & 0x3f));
                n = 3;
        } else {
                b[0] = (char)(0xf0 | (cp >> 18));
                b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
                b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
                b[3] = (char)(0x80 | (cp & 0x3f));
                n = 4;
        }
        return pm_strbuf_add(sb, b, n);
}

int
pm_strbuf_addch(struct pm_strbuf *sb, char c)
{
        return pm_strbuf_add(sb, &c, 1);
}

int
pm_strbuf_vaddf(struct pm_strbuf *sb, const char *fmt, va_list ap)
{
        va_list aq;
        int n, r;

        va_copy(aq, ap);
        n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        r = pm_strbuf_grow(sb, (size_t)n);
        if (r < 0)
                return r;
        (void)vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        sb->len += (size_t)n;
        return 0;
}

int
pm_strbuf_addf(struct pm_strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = pm_strbuf_vaddf(sb, fmt, ap);
        va_end(ap);
        return r;
}

void
pm_strbuf_reset(struct pm_strbuf *sb)
{
        sb->len = 0;
        if (sb->buf)
                sb->buf[0] = '\0';
}

void
pm_strbuf_consume(struct pm_strbuf *sb, size_t n)
{
        if (n >= sb->len) {
                pm_strbuf_reset(sb);
                return;
        }
        memmove(sb->buf, sb->buf + n, sb->len - n);
        sb->len -= n;
        sb->buf[sb->len] = '\0';
}

int
pm_strbuf_read_file(struct pm_strbuf *sb, const char *path, size_t max, struct pm_error *err)
{
        size_t start = sb->len, total = 0;
        int fd = -1, r = 0;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                r = pm_error_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
                goto out;
        }
        /* One allocation for a regular file (a project.json is megabytes): no copy per doubling. */
        {
                struct stat st;

                if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                    (!max || (uint64_t)st.st_size <= max)) {
                        r = pm_strbuf_grow(sb, (size_t)st.st_size + 64 * 1024);
                        if (r < 0) {
                                r = pm_error_set(err, r, "cannot read '%s': out of memory", path);
                                goto out;
                        }
                }
        }
        for (;;) {
                r = pm_strbuf_grow(sb, 64 * 1024);
                if (r < 0) {
                        r = pm_error_set(err, r, "cannot read '%s': out of memory", path);
                        goto out;
                }
                n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = pm_error_set(err, -errno, "cannot read '%s': %s", path,
                                         strerror(errno));
                        goto out;
                }
                if (n == 0)
                        break;
                total += (size_t)n;
                sb->len += (size_t)n;
                sb->buf[sb->len] = '\0';
                if (max && total > max) {
                        r = pm_error_set(err, PM_ELIMIT,
                                         "cannot read '%s': larger than the limit of %zu bytes",
                                         path, max);
                        goto out;
                }
        }
out:
        if (r < 0 && sb->buf) {
                sb->len = start;
                sb->buf[start] = '\0';
        }
        if (fd >= 0)
                (void)close(fd);
        return r;
}

static int
write_all(int fd, const char *data, size_t len)
{
        ssize_t n;

        while (len > 0) {
                n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

/*
 * Write to an existing non-regular file (/dev/null, /dev/stdout, a FIFO) in place: renaming
 * over it would replace the device node itself, which root can do.
 */
static int
write_special(const char *path, const void *data, size_t len, struct pm_error *err)
{
        int fd, r;

        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return pm_error_set(err, -errno, "cannot open '%s': %s", path, strerror(errno));
        r = write_all(fd, data, len);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                return pm_error_set(err, r, "cannot write '%s': %s", path, strerror(-r));
        return 0;
}

int
pm_write_file_atomic(const char *path, const void *data, size_t len, struct pm_error *err)
{
        char *tmp = NULL, *dir = NULL;
        int fd = -1, r = 0, dfd;
        struct stat st;

        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                return write_special(path, data, len, err);
        dir = pm_path_dirname(NULL, path);
        tmp = pm_asprintf("%s.tmp-XXXXXX", path);
        if (!dir || !tmp) {
                r = pm_error_set(err, -ENOMEM, "cannot write '%s': out of memory", path);
                goto out;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = pm_error_set(err, -errno, "cannot create a temporary file for '%s': %s", path,
                                 strerror(errno));
                pm_free(tmp);
                tmp = NULL;
                goto out;
        }
        /* mkostemp creates 0600; a model file or rust-project.json is as readable as any file. */
        (void)fchmod(fd, 0644 & ~0022);
        r = write_all(fd, data, len);
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r < 0) {
                r = pm_error_set(err, r, "cannot write '%s': %s", path, strerror(-r));
                goto out;
        }
        if (close(pm_steal_fd(&fd)) < 0) {
                r = pm_error_set(err, -errno, "cannot write '%s': %s", path, strerror(errno));
                goto out;
        }
        if (rename(tmp, path) < 0) {
                r = pm_error_set(err, -errno, "cannot rename '%s' to '%s': %s", tmp, path,
                                 strerror(errno));
                goto out;
        }
        pm_free(pm_steal_ptr(&tmp));
        /* Make the rename itself durable; failing that is not worth failing the write. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                (void)fsync(dfd);
                (void)close(dfd);
        }
out:
        if (fd >= 0)
                (void)close(fd);
        if (tmp) {
                (void)unlink(tmp);
                pm_free(tmp);
        }
        pm_free(dir);
        return r;
}

int
pm_symlink_replace(const char *path, const char *target)
{
        char buf[PATH_MAX + 1], *tmp;
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        int r = 0;

        if (n >= 0 && (buf[n] = '\0', strcmp(buf, target) == 0))
                return 0;
        tmp = pm_asprintf("%s.tmp%ld", path, (long)getpid());
        if (!tmp)
                return -ENOMEM;
        (void)unlink(tmp);
        if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
                r = -errno;
                (void)unlink(tmp);
        }
        pm_free(tmp);
        return r;
}

int
pm_mkdir_p(const char *dir, struct pm_error *err)
{
        char *p = pm_strdup(dir);
        int r = 0;

        if (!p)
                return pm_error_set(err, -ENOMEM, "out of memory");
        for (char *s = p + 1;; s++) {
                if (*s == '/' || *s == '\0') {
                        char c = *s;

                        *s = '\0';
                        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
                                r = pm_error_set(err, -errno, "cannot create '%s': %s", p,
                                                 strerror(errno));
                                break;
                        }
                        *s = c;
                        if (c == '\0')
                                break;
                }
        }
        pm_free(p);
        return r;
}

/* The length of the well-formed UTF-8 sequence at @p (@avail bytes), 0 if there is none (the
 * Unicode Standard's table "Well-Formed UTF-8 Byte Sequences": no overlong forms, surrogates or
 * code points past U+10FFFF). */
static size_t
utf8_seq_len(const unsigned char *p, size_t avail)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4;
        else
                return 0;
        if (avail < n)
                return 0;
        if (p[0] == 0xe0)
                lo = 0xa0;
        else if (p[0] == 0xed)
                hi = 0x9f;
        else if (p[0] == 0xf0)
                lo = 0x90;
        else if (p[0] == 0xf4)
                hi = 0x8f;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return n;
}

char *
pm_utf8_clip(const char *s, size_t max)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t len = strlen(s), limit, i = 0, o = 0;
        bool cut = len > max, dots = cut && max >= 4;
        char *out;

        /* Each byte becomes one byte: the copy is as long as @s up to the cut. */
        limit = !cut ? len : dots ? max - 3 : max;
        out = pm_malloc(limit + (dots ? 3 : 0) + 1);
        if (!out)
                return NULL;
        while (i < len) {
                size_t n = utf8_seq_len(p + i, len - i);

                if (o + (n ? n : 1) > limit)
                        break;
                if (n) {
                        memcpy(out + o, p + i, n);
                        o += n;
                        i += n;
                } else {
                        out[o++] = '?';
                        i++;
                }
        }
        if (dots) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

size_t
pm_utf8_prefix_len(const char *s, size_t len, size_t max)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t n = len < max ? len : max;

        if (n == len || (p[n] & 0xc0) != 0x80)
                return n;
        /* @p[n] continues a sequence: cut before its lead byte, at most 3 bytes back (stray
         * continuation bytes are not UTF-8 anyway: cutting among them splits nothing). */
        for (size_t k = 1; k <= 3 && k <= n; k++) {
                if ((p[n - k] & 0xc0) == 0x80)
                        continue;
                return p[n - k] >= 0xc0 ? n - k : n;
        }
        return n;
}

bool
pm_tool_error_line(const char *text, size_t len, char *buf, size_t size)
{
        const char *best = NULL, *best_end = NULL, *last = NULL, *last_end = NULL;
        const char *p = text, *end = text + len;
        bool marked;
        size_t n;

        buf[0] = '\0';
        if (!text || size == 0)
                return false;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *le = nl ? nl : end;
                const char *b = p, *e = le;

                while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
                        b++;
                while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                        e--;
                if (e > b) {
                        if (!best && (size_t)(e - b) >= 5 &&
                            (strncasecmp(b, "error", 5) == 0 || strncmp(b, "FATAL", 5) == 0)) {
                                best = b;
                                best_end = e;
                        }
                        last = b;
                        last_end = e;
                }
                p = le + 1;
        }
        marked = best != NULL;
        if (!best) {
                best = last;
                best_end = last_end;
        }
        if (!best)
                return false;
        n = (size_t)(best_end - best);
        if (n >= size && size >= 4) {
                /* Cut before a whole character, as above. */
                n = pm_utf8_prefix_len(best, n, size - 4);
                memcpy(buf, best, n);
                memcpy(buf + n, "...", 4);
        } else if (n >= size) {
                memcpy(buf, best, size - 1);
                buf[size - 1] = '\0';
        } else {
                memcpy(buf, best, n);
                buf[n] = '\0';
        }
        /* Control characters would break the one-line contract. */
        for (char *c = buf; *c; c++)
                if ((unsigned char)*c < 0x20)
                        *c = ' ';
        return marked;
}
