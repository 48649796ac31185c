/* SPDX-License-Identifier: MIT */
/* Reading ninja's output costs what is read: a check reads only the last line of `ninja -t
 * commands` (pm__gn_last_line()), and a failed edge's error line is looked for only in that
 * edge's output (pm__gn_edge_error()). Each is shown by putting the bytes it must not read in a
 * page that cannot be read (PROT_NONE): reading one of them is a crash, not a slower test. */
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "projmodel/mem.h"

#include "adapters/gn/gn-internal.h"

/* Two readable pages filled with @fill; *ret_page is the page size. */
static char *
two_pages(char fill, size_t *ret_page)
{
        long page = sysconf(_SC_PAGESIZE);
        char *p;

        cr_assert_gt(page, 0);
        p = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                 0);
        cr_assert_neq(p, MAP_FAILED);
        memset(p, fill, 2 * (size_t)page);
        *ret_page = (size_t)page;
        return p;
}

/* `-t commands` of a deep target: the dependencies' commands fill the first page, which is then
 * sealed; the second begins with the newline that ends them, then the crate's own command. */
Test(gn_ninja_output, only_the_last_command_line_is_read)
{
        static const char last[] = "rustc --crate-name lib ../../lib/src/lib.rs\n";
        size_t page, len;
        char *p, *line = NULL;

        p = two_pages('c', &page);
        for (size_t i = 63; i < page; i += 64)
                p[i] = '\n';
        p[page] = '\n';
        memcpy(p + page + 1, last, sizeof(last));
        len = page + 1 + strlen(last);
        cr_assert_eq(mprotect(p, page, PROT_NONE), 0);
        cr_assert_eq(pm__gn_last_line(p, len, &line), 0);
        cr_assert_str_eq(line, "rustc --crate-name lib ../../lib/src/lib.rs");
        pm_free(line);
        /* Only newlines: no command. */
        cr_assert_eq(pm__gn_last_line(p + page, 1, &line), 0);
        cr_assert_null(line);
        (void)munmap(p, 2 * page);
}

/* A failed edge whose error line holds a tab, which the error-line rule blanks, so the line as
 * chosen is nowhere in the output: the search for it ends at the edge's end (ninja's next status
 * line), the last readable byte; what follows is sealed. */
Test(gn_ninja_output, a_failed_edge_is_searched_only_to_its_end)
{
        static const char edge[] = "FAILED: obj/lib/liblib.rlib\n"
                                   "rustc --crate-name lib ../../lib/src/lib.rs\n"
                                   "error[E0425]: cannot find value\t`x` in this scope\n"
                                   "[";
        char buf[256];
        size_t page;
        char *p = two_pages('x', &page), *at = p + page - strlen(edge);
        bool marked;

        memcpy(at, edge, strlen(edge));
        cr_assert_eq(mprotect(p + page, page, PROT_NONE), 0);
        marked = pm__gn_edge_error(at, "/tmp/out", buf, sizeof(buf));
        cr_assert(marked);
        cr_assert_str_eq(buf, "error[E0425]: cannot find value `x` in this scope");
        (void)munmap(p, 2 * page);
}
