/* SPDX-License-Identifier: MIT */
/* The error report: filling struct pm_error without allocating, and the PM_ERRNO_MAP tables. */
#include "projmodel/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copy @src into @dst of @size bytes, ending in "..." when it does not fit. */
static void
copy_truncated(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);

        if (n < size) {
                memcpy(dst, src, n + 1);
                return;
        }
        memcpy(dst, src, size - 4);
        memcpy(dst + size - 4, "...", 4);
}

/* vsnprintf into @dst, marking truncation with "..." (vsnprintf itself never allocates). */
static void __attribute__((format(printf, 3, 0)))
format_truncated(char *dst, size_t size, const char *fmt, va_list ap)
{
        int n = vsnprintf(dst, size, fmt, ap);

        if (n < 0) {
                copy_truncated(dst, size, "(unformattable message)");
                return;
        }
        if ((size_t)n >= size)
                memcpy(dst + size - 4, "...", 4);
}

void
pm_error_init(struct pm_error *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
        err->file[0] = '\0';
        err->line = 0;
        err->column = 0;
}

static int __attribute__((format(printf, 6, 0)))
error_vset(struct pm_error *err, int code, const char *file, int line, int column, const char *fmt,
           va_list ap)
{
        if (!err)
                return code;
        err->code = code;
        format_truncated(err->msg, sizeof(err->msg), fmt, ap);
        copy_truncated(err->file, sizeof(err->file), file ? file : "");
        err->line = line > 0 ? line : 0;
        err->column = column > 0 ? column : 0;
        return code;
}

int
pm_error_set(struct pm_error *err, int code, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_vset(err, code, NULL, 0, 0, fmt, ap);
        va_end(ap);
        return code;
}

int
pm_error_set_at(struct pm_error *err, int code, const char *file, int line, int column,
                const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        error_vset(err, code, file, line, column, fmt, ap);
        va_end(ap);
        return code;
}

int
pm_error_prefix(struct pm_error *err, const char *fmt, ...)
{
        char prefix[PM_ERROR_MSG_MAX];
        char old[PM_ERROR_MSG_MAX];
        size_t plen, olen;
        va_list ap;

        if (!err)
                return 0;
        va_start(ap, fmt);
        format_truncated(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);

        memcpy(old, err->msg, sizeof(old));
        plen = strlen(prefix);
        olen = strlen(old);
        if (plen + 2 + olen < sizeof(err->msg)) {
                memcpy(err->msg, prefix, plen);
                memcpy(err->msg + plen, ": ", 2);
                memcpy(err->msg + plen + 2, old, olen + 1);
                return err->code;
        }
        /* Too long: keep as much of "PREFIX: old" as fits, ending in "...". */
        if (plen > sizeof(err->msg) - 4)
                plen = sizeof(err->msg) - 4;
        memcpy(err->msg, prefix, plen);
        if (plen + 2 <= sizeof(err->msg) - 4) {
                memcpy(err->msg + plen, ": ", 2);
                plen += 2;
                memcpy(err->msg + plen, old, sizeof(err->msg) - 4 - plen);
        } else if (plen < sizeof(err->msg) - 4) {
                err->msg[plen] = ':';
        }
        memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
        return err->code;
}

const char *
pm_strerror(int code)
{
        switch (code) {
#define PM__ERRNO_STR(name, value, rpc, msg) \
        case PM_##name:                      \
                return msg;
                PM_ERRNO_MAP(PM__ERRNO_STR)
#undef PM__ERRNO_STR
        case 0:
                return "success";
        default:
                break;
        }
        if (code < 0 && code > -4000)
                return strerror(-code);
        return "unknown error";
}

const char *
pm_error_name(int code)
{
        const char *name;

        switch (code) {
#define PM__ERRNO_NAME(name, value, rpc, msg) \
        case PM_##name:                       \
                return "PM_" #name;
                PM_ERRNO_MAP(PM__ERRNO_NAME)
#undef PM__ERRNO_NAME
        case 0:
                return "OK";
        default:
                break;
        }
        if (code < 0 && code > -4000) {
                name = strerrorname_np(-code);
                if (name)
                        return name;
        }
        return "UNKNOWN";
}

int
pm_error_rpc_code(int code)
{
        switch (code) {
#define PM__ERRNO_RPC(name, value, rpc, msg) \
        case PM_##name:                      \
                return rpc;
                PM_ERRNO_MAP(PM__ERRNO_RPC)
#undef PM__ERRNO_RPC
        default:
                return -32603;
        }
}

const char *
pm_error_format(const struct pm_error *err, char *buf, unsigned long size)
{
        const char *msg;
        int n;

        if (!buf || size == 0)
                return buf;
        if (!err) {
                buf[0] = '\0';
                return buf;
        }
        msg = err->msg[0] ? err->msg : pm_strerror(err->code);
        if (err->file[0] && err->line > 0 && err->column > 0)
                n = snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, msg);
        else if (err->file[0] && err->line > 0)
                n = snprintf(buf, size, "%s:%d: %s", err->file, err->line, msg);
        else if (err->file[0])
                n = snprintf(buf, size, "%s: %s", err->file, msg);
        else
                n = snprintf(buf, size, "%s", msg);
        if (n >= 0 && (unsigned long)n >= size && size >= 4)
                memcpy(buf + size - 4, "...", 4);
        return buf;
}
