/* SPDX-License-Identifier: MIT */
/* Tests for the byte buffer, reading files under a limit, and atomic file replacement. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "testlib.h"

Test(common_strbuf, add_and_detach)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        size_t len;
        char *s;

        cr_assert_eq(pm_strbuf_adds(&sb, "abc"), 0);
        cr_assert_eq(pm_strbuf_addch(&sb, '-'), 0);
        cr_assert_eq(pm_strbuf_addf(&sb, "%d/%s", 42, "x"), 0);
        cr_assert_eq(pm_strbuf_add(&sb, "\0z", 2), 0);
        cr_assert_eq(sb.len, 10);
        cr_assert_str_eq(sb.buf, "abc-42/x");
        cr_assert_eq(sb.buf[sb.len], '\0');
        s = pm_strbuf_detach(&sb, &len);
        cr_assert_eq(len, 10);
        cr_assert_eq(s[9], 'z');
        cr_assert_null(sb.buf);
        cr_assert_eq(sb.len, 0);
        pm_free(s);
}

Test(common_strbuf, detach_empty_gives_empty_string)
{
        struct pm_strbuf sb;
        size_t len = 99;
        char *s;

        pm_strbuf_init(&sb);
        s = pm_strbuf_detach(&sb, &len);
        cr_assert_str_eq(s, "");
        cr_assert_eq(len, 0);
        pm_free(s);
}

Test(common_strbuf, grows_over_many_appends)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        for (int i = 0; i < 10000; i++)
                cr_assert_eq(pm_strbuf_addf(&sb, "%04d", i % 10000), 0);
        cr_assert_eq(sb.len, 40000);
        cr_assert(strncmp(sb.buf + 4 * 9999, "9999", 4) == 0);
        cr_assert_gt(sb.alloc, sb.len);
        pm_strbuf_release(&sb);
        cr_assert_null(sb.buf);
}

Test(common_strbuf, consume_and_reset)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;

        pm_strbuf_adds(&sb, "header\r\nbody");
        pm_strbuf_consume(&sb, 8);
        cr_assert_str_eq(sb.buf, "body");
        cr_assert_eq(sb.len, 4);
        pm_strbuf_consume(&sb, 100);
        cr_assert_str_eq(sb.buf, "");
        pm_strbuf_adds(&sb, "again");
        pm_strbuf_reset(&sb);
        cr_assert_eq(sb.len, 0);
        cr_assert_str_eq(sb.buf, "");
        pm_strbuf_release(&sb);
}

Test(common_strbuf, oom_leaves_buffer_unchanged)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char big[200];

        memset(big, 'q', sizeof(big));
        pm_strbuf_adds(&sb, "keep");
        pm_mem_fail_at(1);
        cr_assert_eq(pm_strbuf_add(&sb, big, sizeof(big)), -ENOMEM);
        pm_mem_fail_at(0);
        cr_assert_str_eq(sb.buf, "keep");
        cr_assert_eq(sb.len, 4);
        pm_strbuf_release(&sb);
}

Test(common_strbuf, read_file_appends)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/f.txt", dir);
        struct pm_error err;

        cr_assert_eq(pm_test_write_file(path, "contents\n"), 0);
        pm_strbuf_adds(&sb, ">");
        cr_assert_eq(pm_strbuf_read_file(&sb, path, 0, &err), 0);
        cr_assert_str_eq(sb.buf, ">contents\n");
        pm_strbuf_release(&sb);
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

Test(common_strbuf, read_file_limit)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/f.txt", dir);
        struct pm_error err;

        cr_assert_eq(pm_test_write_file(path, "0123456789"), 0);
        cr_assert_eq(pm_strbuf_read_file(&sb, path, 10, &err), 0);
        cr_assert_eq(sb.len, 10);
        pm_strbuf_reset(&sb);
        pm_strbuf_adds(&sb, "old");
        cr_assert_eq(pm_strbuf_read_file(&sb, path, 9, &err), PM_ELIMIT);
        cr_assert_eq(err.code, PM_ELIMIT);
        cr_assert(strstr(err.msg, path), "message names the file: %s", err.msg);
        cr_assert_str_eq(sb.buf, "old", "a failed read leaves the buffer as it was");
        pm_strbuf_release(&sb);
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

Test(common_strbuf, read_missing_file)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err;

        cr_assert_eq(pm_strbuf_read_file(&sb, "/nonexistent/pm-file", 0, &err), -ENOENT);
        cr_assert(strstr(err.msg, "'/nonexistent/pm-file'"), "%s", err.msg);
        pm_strbuf_release(&sb);
}

static int
count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        cr_assert_not_null(d);
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

Test(common_strbuf, atomic_write_replaces)
{
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/out.json", dir), *got;
        struct pm_error err;

        cr_assert_eq(pm_write_file_atomic(path, "first", 5, &err), 0);
        got = pm_test_read_file(path);
        cr_assert_str_eq(got, "first");
        pm_free(got);
        cr_assert_eq(pm_write_file_atomic(path, "second!", 7, &err), 0);
        got = pm_test_read_file(path);
        cr_assert_str_eq(got, "second!");
        pm_free(got);
        cr_assert_eq(count_entries(dir), 1, "no temporary file is left behind");
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

Test(common_strbuf, atomic_write_failure_leaves_no_temp)
{
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/target", dir), *inner, *got;
        struct pm_error err;

        /* rename() onto a non-empty directory fails after the temporary file was written. */
        inner = pm_test_strf("%s/target/x", dir);
        cr_assert_eq(pm_test_write_file(inner, "x"), 0);
        cr_assert_lt(pm_write_file_atomic(path, "data", 4, &err), 0);
        cr_assert(strstr(err.msg, path), "%s", err.msg);
        cr_assert_eq(count_entries(dir), 1, "the temporary file was removed");
        got = pm_test_read_file(inner);
        cr_assert_str_eq(got, "x");
        pm_free(got);
        pm_test_rmtree(dir);
        pm_free(inner);
        pm_free(path);
        pm_free(dir);
}

Test(common_strbuf, atomic_write_missing_dir)
{
        struct pm_error err;

        cr_assert_eq(pm_write_file_atomic("/nonexistent-dir/pm/x", "a", 1, &err), -ENOENT);
        cr_assert(strstr(err.msg, "/nonexistent-dir/pm/x"), "%s", err.msg);
}

/* `-o /dev/null` or a FIFO: written in place, never renamed over (as root that would replace a
 * device node). */
Test(common_strbuf, atomic_write_to_fifo_keeps_it)
{
        char *dir = pm_test_mkdtemp(), *path = pm_test_strf("%s/fifo", dir), buf[16] = { 0 };
        struct pm_error err;
        struct stat st;
        int rfd;

        cr_assert_eq(mkfifo(path, 0600), 0);
        /* A reader must exist for the writer's open; the bytes fit the pipe buffer. */
        rfd = open(path, O_RDONLY | O_NONBLOCK);
        cr_assert_geq(rfd, 0);
        cr_assert_eq(pm_write_file_atomic(path, "piped", 5, &err), 0, "%s", err.msg);
        cr_assert_eq(read(rfd, buf, sizeof(buf) - 1), 5);
        cr_assert_str_eq(buf, "piped");
        close(rfd);
        cr_assert_eq(stat(path, &st), 0);
        cr_assert(S_ISFIFO(st.st_mode), "the FIFO is still a FIFO");
        cr_assert_eq(count_entries(dir), 1, "no temporary file beside it");
        cr_assert_eq(stat("/dev/null", &st), 0);
        cr_assert_eq(pm_write_file_atomic("/dev/null", "x", 1, &err), 0, "%s", err.msg);
        cr_assert_eq(stat("/dev/null", &st), 0);
        cr_assert(S_ISCHR(st.st_mode), "/dev/null is still a character device");
        pm_test_rmtree(dir);
        pm_free(path);
        pm_free(dir);
}

/* @s is well-formed UTF-8: decoded here independently of common/strbuf.c's table (no overlong
 * forms, surrogates or code points past U+10FFFF). */
static bool
utf8_ok(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;

        while (*p) {
                unsigned cp;
                size_t n;

                if (*p < 0x80) {
                        p++;
                        continue;
                }
                n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
                if (n == 0 || *p > 0xf4)
                        return false;
                cp = *p & (0x7f >> n);
                for (size_t i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i] & 0x3f);
                }
                if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
                    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                p += n;
        }
        return true;
}

Test(common_strbuf, utf8_clip_keeps_short_text_and_cuts_long_text_on_a_character)
{
        /* "aé€😀" repeated: 1, 2, 3 and 4 byte characters, so every cut position is tried. */
        const char *unit = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
        char text[64 + 1] = "";
        char *c;

        for (int i = 0; i < 6; i++)
                strcat(text, unit);
        c = pm_utf8_clip(text, strlen(text));
        cr_assert_str_eq(c, text);
        pm_free(c);
        for (size_t max = 4; max < strlen(text); max++) {
                c = pm_utf8_clip(text, max);
                cr_assert_not_null(c);
                cr_assert_leq(strlen(c), max);
                cr_assert_geq(strlen(c) + 3 + 3, max, "max %zu: '%s'", max, c);
                cr_assert(utf8_ok(c), "max %zu: '%s'", max, c);
                cr_assert_str_eq(c + strlen(c) - 3, "...");
                cr_assert_eq(strncmp(c, text, strlen(c) - 3), 0);
                pm_free(c);
        }
        c = pm_utf8_clip("abcdef", 3); /* below the "..." marker: a plain cut */
        cr_assert_str_eq(c, "abc");
        pm_free(c);
}

Test(common_strbuf, utf8_clip_replaces_what_is_not_utf8)
{
        /* A lone continuation byte, a cut-off sequence, an overlong '/', a surrogate, past
         * U+10FFFF, and 0xff: each bad byte becomes '?', good characters stay. */
        const char *bad = "x\x80y\xe2\x82z\xc0\xafw\xed\xa0\x80v\xf4\x90\x80\x80u\xff\xc3\xa9";
        char *c = pm_utf8_clip(bad, 100);

        cr_assert_str_eq(c, "x?y??z??w???v????u?\xc3\xa9");
        cr_assert(utf8_ok(c));
        pm_free(c);
        c = pm_utf8_clip("", 10);
        cr_assert_str_eq(c, "");
        pm_free(c);
}

Test(common_strbuf, utf8_prefix_len_never_splits_a_character)
{
        const char *s = "ab\xe2\x82\xac"
                        "c";

        cr_assert_eq(pm_utf8_prefix_len(s, 6, 10), 6);
        cr_assert_eq(pm_utf8_prefix_len(s, 6, 2), 2);
        cr_assert_eq(pm_utf8_prefix_len(s, 6, 3), 2);
        cr_assert_eq(pm_utf8_prefix_len(s, 6, 4), 2);
        cr_assert_eq(pm_utf8_prefix_len(s, 6, 5), 5);
        /* Stray continuation bytes: nothing to keep whole. */
        cr_assert_eq(pm_utf8_prefix_len("a\x80\x80\x80\x80", 5, 3), 3);
}

/* pm_symlink_replace(): made, kept when it points there already, replaced in one rename over a
 * link or a file, no temporary left; a missing folder is an error. */
Test(common_strbuf, symlink_replace)
{
        char *tmp = pm_test_mkdtemp(), *link = pm_test_strf("%s/l", tmp), buf[64];
        char *missing = pm_test_strf("%s/no/l", tmp);
        struct stat st, st2;
        ssize_t n;
        DIR *d;
        struct dirent *de;
        int entries = 0;

        cr_assert_eq(pm_symlink_replace(link, "/a"), 0);
        cr_assert_eq(lstat(link, &st), 0);
        cr_assert_eq(pm_symlink_replace(link, "/a"), 0);
        cr_assert_eq(lstat(link, &st2), 0);
        cr_assert_eq(st.st_ino, st2.st_ino, "an equal link is kept");
        cr_assert_eq(pm_symlink_replace(link, "/b"), 0);
        n = readlink(link, buf, sizeof(buf) - 1);
        cr_assert_eq(n, 2);
        buf[n] = '\0';
        cr_assert_str_eq(buf, "/b");
        cr_assert_eq(unlink(link), 0);
        cr_assert_eq(pm_test_write_file(link, "x"), 0);
        cr_assert_eq(pm_symlink_replace(link, "/c"), 0, "a file is replaced");
        cr_assert_eq(lstat(link, &st), 0);
        cr_assert(S_ISLNK(st.st_mode));
        d = opendir(tmp);
        cr_assert_not_null(d);
        while ((de = readdir(d)))
                entries += de->d_name[0] != '.';
        closedir(d);
        cr_assert_eq(entries, 1, "no temporary link left");
        cr_assert_eq(pm_symlink_replace(missing, "/a"), -ENOENT);
        pm_test_rmtree(tmp);
        pm_free(missing);
        pm_free(link);
        pm_free(tmp);
}
