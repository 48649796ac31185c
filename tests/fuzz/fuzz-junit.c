/* SPDX-License-Identifier: MIT */
/* Fuzz target: the JUnit XML reader of Bazel's test.xml (adapters/bazel/junit.c): any input is
 * read to the end or refused with an error naming the file, and every case it hands over has its
 * strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "projmodel/error.h"

#include "adapters/bazel/bazel-internal.h"
#include "fuzz.h"

static int
on_case(void *ud, const struct pm__junit_case *c)
{
        size_t *n = ud;
        /* Touch every string: a dangling one shows under ASan. */
        volatile size_t len = strlen(c->suite) + strlen(c->name) +
                              (c->classname ? strlen(c->classname) : 0) +
                              (c->message ? strlen(c->message) : 0);

        (void)len;
        /* Only a failed or skipped case has a message. */
        if (c->outcome == PM__JUNIT_OK && c->message)
                abort();
        (*n)++;
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct pm_error err;
        size_t n = 0;
        int r;

        pm_error_init(&err);
        r = pm__junit_read((const char *)data, size, "test.xml", on_case, &n, &err);
        if (r < 0 && (r != PM_EBADTOOLOUTPUT || !err.msg[0]))
                abort();
        if (pm_fuzz_verbose())
                fprintf(stderr, "junit: %d, %zu cases%s%s\n", r, n, r < 0 ? ": " : "",
                        r < 0 ? err.msg : "");
        return 0;
}
