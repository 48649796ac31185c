/* SPDX-License-Identifier: MIT */
/* Tests for the error report: setting, truncation, prefixing, formatting and the code tables. */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "projmodel/error.h"

Test(common_error, set_returns_code_and_formats)
{
        struct pm_error err;

        pm_error_init(&err);
        cr_assert_eq(err.code, 0);
        cr_assert_eq(pm_error_set(&err, PM_ECONFIG, "key '%s' is %d", "x", 3), PM_ECONFIG);
        cr_assert_eq(err.code, PM_ECONFIG);
        cr_assert_str_eq(err.msg, "key 'x' is 3");
        cr_assert_str_eq(err.file, "");
        cr_assert_eq(err.line, 0);
}

Test(common_error, set_accepts_null)
{
        cr_assert_eq(pm_error_set(NULL, -ENOENT, "nothing %s", "here"), -ENOENT);
        pm_error_init(NULL);
        cr_assert_eq(pm_error_prefix(NULL, "x"), 0);
}

Test(common_error, long_message_is_truncated_with_dots)
{
        static char big[3 * PM_ERROR_MSG_MAX];
        struct pm_error err;

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        pm_error_set(&err, PM_ELIMIT, "%s", big);
        cr_assert_eq(strlen(err.msg), PM_ERROR_MSG_MAX - 1);
        cr_assert_str_eq(err.msg + PM_ERROR_MSG_MAX - 4, "...");
        cr_assert_eq(err.msg[0], 'a');

        pm_error_set_at(&err, PM_ELIMIT, big, 1, 1, "short");
        cr_assert_eq(strlen(err.file), PM_ERROR_FILE_MAX - 1);
        cr_assert_str_eq(err.file + PM_ERROR_FILE_MAX - 4, "...");
        cr_assert_str_eq(err.msg, "short");
}

Test(common_error, message_that_just_fits_is_not_truncated)
{
        static char fits[PM_ERROR_MSG_MAX];
        struct pm_error err;

        memset(fits, 'b', sizeof(fits) - 1);
        fits[sizeof(fits) - 1] = '\0';
        pm_error_set(&err, PM_ELIMIT, "%s", fits);
        cr_assert_str_eq(err.msg, fits);
}

Test(common_error, prefix_prepends)
{
        struct pm_error err;

        pm_error_set(&err, PM_ETOOL, "exit status 1");
        cr_assert_eq(pm_error_prefix(&err, "cannot query '%s'", "gn"), PM_ETOOL);
        cr_assert_str_eq(err.msg, "cannot query 'gn': exit status 1");
}

Test(common_error, prefix_truncates)
{
        static char big[PM_ERROR_MSG_MAX];
        struct pm_error err;

        memset(big, 'c', sizeof(big) - 10);
        big[sizeof(big) - 10] = '\0';
        pm_error_set(&err, PM_ETOOL, "%s", big);
        pm_error_prefix(&err, "prefix that is long enough");
        cr_assert_eq(strlen(err.msg), PM_ERROR_MSG_MAX - 1);
        cr_assert(strncmp(err.msg, "prefix that is long enough: ccc", 31) == 0);
        cr_assert_str_eq(err.msg + PM_ERROR_MSG_MAX - 4, "...");
}

Test(common_error, format_forms)
{
        struct pm_error err;
        char buf[256];

        pm_error_set_at(&err, PM_ECONFIG, "/r/.projmodel.json", 3, 7, "invalid JSON");
        cr_assert_str_eq(pm_error_format(&err, buf, sizeof(buf)),
                         "/r/.projmodel.json:3:7: invalid JSON");
        pm_error_set_at(&err, PM_ECONFIG, "/r/BUILD.gn", 3, 0, "bad");
        cr_assert_str_eq(pm_error_format(&err, buf, sizeof(buf)), "/r/BUILD.gn:3: bad");
        pm_error_set_at(&err, PM_ECONFIG, "/r/x.json", 0, 0, "bad key");
        cr_assert_str_eq(pm_error_format(&err, buf, sizeof(buf)), "/r/x.json: bad key");
        pm_error_set(&err, PM_ECONFIG, "plain");
        cr_assert_str_eq(pm_error_format(&err, buf, sizeof(buf)), "plain");
}

Test(common_error, format_truncates_to_buffer)
{
        struct pm_error err;
        char buf[10];

        pm_error_set(&err, PM_ECONFIG, "a message longer than ten bytes");
        pm_error_format(&err, buf, sizeof(buf));
        cr_assert_str_eq(buf, "a mess...");
}

Test(common_error, strerror_and_names)
{
        cr_assert_str_eq(pm_strerror(PM_ECONFIG), "invalid configuration");
        cr_assert_str_eq(pm_strerror(-ENOENT), strerror(ENOENT));
        cr_assert_str_eq(pm_error_name(PM_ESCHEMA), "PM_ESCHEMA");
        cr_assert_str_eq(pm_error_name(PM_EEXISTS), "PM_EEXISTS");
        cr_assert_str_eq(pm_error_name(-ENOENT), "ENOENT");
        cr_assert_str_eq(pm_error_name(-ENOMEM), "ENOMEM");
        cr_assert_not_null(pm_strerror(-5000));
        cr_assert_not_null(pm_error_name(12345));
}

Test(common_error, rpc_mapping)
{
        cr_assert_eq(pm_error_rpc_code(PM_EPARSE), -32700);
        cr_assert_eq(pm_error_rpc_code(PM_EMETHOD), -32601);
        cr_assert_eq(pm_error_rpc_code(PM_EPARAMS), -32602);
        cr_assert_eq(pm_error_rpc_code(PM_EPROTO), -32600);
        cr_assert_eq(pm_error_rpc_code(PM_ECANCELLED), -32800);
        cr_assert_eq(pm_error_rpc_code(PM_ENOMODEL), -32008);
        cr_assert_eq(pm_error_rpc_code(-ENOMEM), -32603);
        cr_assert_eq(pm_error_rpc_code(0), -32603);
}

/* Every code of the X-macro list has its own name, message and RPC code: no table drifted. */
Test(common_error, every_code_is_mapped)
{
#define CHECK(name, value, rpc, msg)                             \
        cr_assert_str_eq(pm_error_name(PM_##name), "PM_" #name); \
        cr_assert_str_eq(pm_strerror(PM_##name), msg);           \
        cr_assert_eq(pm_error_rpc_code(PM_##name), rpc);         \
        cr_assert_lt(PM_##name, -4000);
        PM_ERRNO_MAP(CHECK)
#undef CHECK
}
