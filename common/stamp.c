/* SPDX-License-Identifier: MIT */
/* Input stamps (projmodel/stamp.h): the text form of a stamp (keys are pm_hash64()). A stamp reads
 *   projmodel-stamp 1 <key, 16 hex digits>
 *   <mtime ns> <ctime ns> <size> <inode> <path>     one line per input file
 *   - <path>                                        an input that did not exist
 * Only stat() is called; file contents are never read here. */
#include "projmodel/stamp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "projmodel/error.h"
#include "projmodel/graph.h"
#include "projmodel/hash.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#define STAMP_MAGIC "projmodel-stamp 1 "

int64_t
pm_stamp_clock(void)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) < 0)
                return INT64_MAX; /* then every file counts as racy: no stamp, never wrong */
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double
pm_clock_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t
ns(const struct timespec *ts)
{
        return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int
pm_stamp_make(uint64_t key, const struct pm_strlist *inputs, int64_t since, char **ret,
              struct pm_error *err)
{
        return pm_stamp_make_known(key, inputs, NULL, since, ret, err);
}

int
pm_stamp_file_stat(const char *path, struct pm_stamp_file *ret)
{
        struct stat st;

        if (stat(path, &st) < 0) {
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                *ret = (struct pm_stamp_file){ .missing = true };
                return 0;
        }
        *ret = (struct pm_stamp_file){ .mtime_ns = ns(&st.st_mtim),
                                       .ctime_ns = ns(&st.st_ctim),
                                       .size = (int64_t)st.st_size,
                                       .ino = (uint64_t)st.st_ino };
        return 0;
}

int
pm_stamp_make_known(uint64_t key, const struct pm_strlist *inputs,
                    const struct pm_stamp_file *files, int64_t since, char **ret,
                    struct pm_error *err)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        bool trusted = true;
        int r;

        r = pm_strbuf_addf(&sb, STAMP_MAGIC "%016" PRIx64 "\n", key);
        for (size_t i = 0; r >= 0 && trusted && inputs && i < inputs->n; i++) {
                const char *path = inputs->v[i];
                struct pm_stamp_file f;

                if (strchr(path, '\n')) {
                        trusted = false;
                        break;
                }
                if (files) {
                        f = files[i];
                } else if (pm_stamp_file_stat(path, &f) < 0) {
                        trusted = false;
                        break;
                }
                if (f.missing) {
                        r = pm_strbuf_addf(&sb, "- %s\n", path);
                        continue;
                }
                if (f.mtime_ns >= (f.since_ns ? f.since_ns : since) ||
                    f.ctime_ns >= (f.since_ns ? f.since_ns : since)) {
                        trusted = false;
                        break;
                }
                r = pm_strbuf_addf(&sb, "%" PRId64 " %" PRId64 " %jd %ju %s\n", f.mtime_ns,
                                   f.ctime_ns, (intmax_t)f.size, (uintmax_t)f.ino, path);
        }
        if (r < 0) {
                pm_strbuf_release(&sb);
                return pm_error_set(err, -ENOMEM, "out of memory");
        }
        if (!trusted) {
                pm_strbuf_release(&sb);
                *ret = NULL;
                return 0;
        }
        *ret = pm_strbuf_detach(&sb, NULL);
        if (!*ret)
                return pm_error_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* Parse a decimal integer (with optional '-') ending at a space; advances *p past the space. */
static bool
field(const char **p, intmax_t *ret)
{
        char *end;

        errno = 0;
        *ret = strtoimax(*p, &end, 10);
        if (errno || end == *p || *end != ' ')
                return false;
        *p = end + 1;
        return true;
}

/* Check one input line (without its newline; @line is NUL-terminated in a scratch copy). */
static bool
line_fresh(char *line)
{
        const char *p = line;
        intmax_t mt, ct, size, ino;
        struct stat st;

        if (line[0] == '-' && line[1] == ' ')
                return stat(line + 2, &st) < 0 && (errno == ENOENT || errno == ENOTDIR);
        if (!field(&p, &mt) || !field(&p, &ct) || !field(&p, &size) || !field(&p, &ino) ||
            *p != '/')
                return false;
        if (stat(p, &st) < 0)
                return false;
        return ns(&st.st_mtim) == mt && ns(&st.st_ctim) == ct && st.st_size == size &&
               (intmax_t)st.st_ino == ino;
}

bool
pm_stamp_fresh(const char *stamp, uint64_t key)
{
        char head[sizeof(STAMP_MAGIC) + 32];
        const char *p;
        char *line = NULL;
        size_t cap = 0;
        bool fresh = true;

        if (!stamp)
                return false;
        (void)snprintf(head, sizeof(head), STAMP_MAGIC "%016" PRIx64 "\n", key);
        if (strncmp(stamp, head, strlen(head)) != 0)
                return false;
        p = stamp + strlen(head);
        while (*p && fresh) {
                const char *eol = strchr(p, '\n');
                size_t len;

                if (!eol) {
                        fresh = false;
                        break;
                }
                len = (size_t)(eol - p);
                if (len + 1 > cap) {
                        char *n = pm_realloc(line, len + 1);

                        if (!n) {
                                fresh = false;
                                break;
                        }
                        line = n;
                        cap = len + 1;
                }
                memcpy(line, p, len);
                line[len] = '\0';
                fresh = line_fresh(line);
                p = eol + 1;
        }
        pm_free(line);
        return fresh;
}

void
pm_file_fingerprint(const char *path, char out[PM_FINGERPRINT_MAX])
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err;
        int r;

        pm_error_init(&err);
        r = pm_strbuf_read_file(&sb, path, (size_t)1 << 30, &err);
        if (r == -ENOENT || r == -ENOTDIR)
                (void)snprintf(out, PM_FINGERPRINT_MAX, "missing");
        else if (r < 0)
                (void)snprintf(out, PM_FINGERPRINT_MAX, "unreadable");
        else
                (void)snprintf(out, PM_FINGERPRINT_MAX, "%016" PRIx64,
                               pm_hash64(sb.buf ? sb.buf : "", sb.len, 0));
        pm_strbuf_release(&sb);
}
