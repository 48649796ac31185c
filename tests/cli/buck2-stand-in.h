/* SPDX-License-Identifier: MIT */
/* The Buck2 fixture of the command tests (test-buck2-build.c, test-buck2-gensrc.c): a copy of
 * tests/buck2/fixtures/repo whose buck2 is a stand-in writing Buck2's build report (Buck2 cannot
 * run here; buck2-stand-in.c says what it does), and reading what it was run with. */
#ifndef PROJMODEL_TESTS_CLI_BUCK2_STAND_IN_H
#define PROJMODEL_TESTS_CLI_BUCK2_STAND_IN_H

#include "cli-test.h"

struct cJSON;

/* The fixture's proc macro, and the bytes of each dylib the stand-in builds. */
#define CLI_B2_LABEL       "root//macros:derive_it"
#define CLI_B2_DYLIB_BYTES "not really ELF, but the bytes the cache must copy"

/* A copy of the fixture at fx->tmp/b2 using the stand-in (fx->tmp/fake-buck2), with @extra
 * settings appended to the "buck2" object of its .projmodel.json; pm_malloc'd. */
char *cli_b2_make_repo(const struct cli_fx *fx, const char *extra);

/* `projmodel export --root @repo`; asserts success, returns the parsed output (cJSON_Delete). */
struct cJSON *cli_b2_export_ok(const struct cli_fx *fx, const char *repo);

/* The crate of @p whose root_module is @repo/@rel; asserts there is one. Borrowed from @p. */
const struct cJSON *cli_b2_crate_of(const struct cJSON *p, const char *repo, const char *rel);

/* Every argv the stand-in was run with, one JSON array a line (pm_malloc'd); asserts it ran. */
char *cli_b2_read_log(const struct cli_fx *fx);

/* Assert that no build report is left in projmodel's cache directory once it was read. */
void cli_b2_assert_no_report_left(const struct cli_fx *fx);

#endif
