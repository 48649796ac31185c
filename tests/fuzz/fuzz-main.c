/* SPDX-License-Identifier: MIT */
/* The fuzz targets' driver without libFuzzer: replay every file of the directories (or the
 * files) named on the command line through LLVMFuzzerTestOneInput, in name order, so the
 * corpora run as ordinary tests (and under the sanitizers) and a crash found once stays fixed.
 * Arguments starting with '-' are libFuzzer options and are ignored. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "projmodel/error.h"
#include "projmodel/mem.h"
#include "projmodel/strbuf.h"

#include "fuzz.h"

#define FUZZ_MAX_INPUT (16u << 20)

static int
run_file(const char *path)
{
        struct pm_strbuf sb = PM_STRBUF_INIT;
        struct pm_error err;
        uint8_t *copy;
        size_t len;
        int r;

        r = pm_strbuf_read_file(&sb, path, FUZZ_MAX_INPUT, &err);
        if (r < 0) {
                fprintf(stderr, "fuzz-main: cannot read '%s': %s\n", path, err.msg);
                return r;
        }
        fprintf(stderr, "fuzz-main: %s (%zu bytes)\n", path, sb.len);
        /* An exact-size copy, as libFuzzer passes it, so ASan sees a read past the end. */
        copy = malloc(sb.len ? sb.len : 1);
        if (!copy) {
                pm_strbuf_release(&sb);
                return -ENOMEM;
        }
        if (sb.len)
                memcpy(copy, sb.buf, sb.len);
        len = sb.len;
        pm_strbuf_release(&sb);
        (void)LLVMFuzzerTestOneInput(copy, len);
        free(copy);
        return 0;
}

static int
filter(const struct dirent *d)
{
        return d->d_name[0] != '.';
}

/* Replay @dir's regular files; returns how many, or a negative errno. */
static int
run_dir(const char *dir)
{
        struct dirent **list = NULL;
        int n, count = 0, r = 0;

        n = scandir(dir, &list, filter, alphasort);
        if (n < 0) {
                fprintf(stderr, "fuzz-main: cannot read '%s': %s\n", dir, strerror(errno));
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                char *p = pm_asprintf("%s/%s", dir, list[i]->d_name);
                struct stat st;

                if (!p) {
                        r = -ENOMEM;
                } else if (r == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
                        r = run_file(p);
                        count++;
                }
                pm_free(p);
                free(list[i]);
        }
        free(list);
        return r < 0 ? r : count;
}

int
main(int argc, char **argv)
{
        int total = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int r;

                if (argv[i][0] == '-')
                        continue;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "fuzz-main: cannot read '%s': %s\n", argv[i],
                                strerror(errno));
                        return EXIT_FAILURE;
                }
                r = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) == 0 ? 1 : -1;
                if (r < 0)
                        return EXIT_FAILURE;
                total += r;
        }
        if (total == 0) {
                fprintf(stderr, "fuzz-main: no input given (usage: %s DIR|FILE...)\n", argv[0]);
                return EXIT_FAILURE;
        }
        printf("fuzz-main: %d inputs replayed\n", total);
        return EXIT_SUCCESS;
}
