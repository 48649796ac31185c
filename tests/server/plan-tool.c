/* SPDX-License-Identifier: MIT */
/* A stand-in build tool for tests/server/test-plan.c: `fail STATUS MESSAGE` (an error on stderr,
 * then that exit status), `hang` (waits for a signal), `print N` (N bytes on stdout), `mark FILE`
 * (creates FILE: the step ran). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
        if (argc == 4 && strcmp(argv[1], "fail") == 0) {
                fprintf(stderr, "note: some context\nerror: %s\nmore context\n", argv[3]);
                return atoi(argv[2]);
        }
        if (argc == 2 && strcmp(argv[1], "hang") == 0) {
                for (;;)
                        pause();
        }
        if (argc == 3 && strcmp(argv[1], "print") == 0) {
                for (long n = atol(argv[2]); n > 0; n--)
                        if (putchar('x') == EOF)
                                return 1;
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "mark") == 0) {
                int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);

                return fd < 0 || close(fd) < 0;
        }
        fprintf(stderr, "usage: plan-tool fail STATUS MESSAGE | hang | print N | mark FILE\n");
        return 2;
}
