/* SPDX-License-Identifier: MIT */
/* Error codes and the caller-owned error report every pm_ function fills on failure. */
#ifndef PROJMODEL_ERROR_H
#define PROJMODEL_ERROR_H

/*
 * Domain errors live below -4000 so they never collide with -errno values. This one list
 * generates the enum, pm_strerror(), pm_error_name() and the JSON-RPC code mapping, so they
 * cannot drift. Columns: name, value, JSON-RPC code, message.
 */
#define PM_ERRNO_MAP(X)                                                 \
        X(EBADTOOLOUTPUT, -4001, -32001, "malformed build tool output") \
        X(ESCHEMA, -4002, -32002, "invalid rust-project data")          \
        X(ECONFIG, -4003, -32003, "invalid configuration")              \
        X(ENOTFOUND, -4004, -32004, "not found")                        \
        X(ETOOL, -4005, -32005, "build tool failed")                    \
        X(ENOROOT, -4006, -32006, "no build system root")               \
        X(ELIMIT, -4007, -32007, "limit exceeded")                      \
        X(EPROTO, -4008, -32600, "protocol error")                      \
        X(EMETHOD, -4009, -32601, "method not found")                   \
        X(EPARAMS, -4010, -32602, "invalid params")                     \
        X(EPARSE, -4011, -32700, "parse error")                         \
        X(ENOMODEL, -4012, -32008, "model not ready")                   \
        X(EBUSY, -4013, -32009, "busy")                                 \
        X(ECANCELLED, -4014, -32800, "request cancelled")               \
        X(ETIMEOUT, -4015, -32010, "timed out")                         \
        X(EDB, -4016, -32011, "model database error")                   \
        X(EUNSUPPORTED, -4017, -32012, "not supported")                 \
        X(EEXISTS, -4018, -32013, "already exists")

enum pm_errno {
#define PM__ERRNO_ENUM(name, value, rpc, msg) PM_##name = (value),
        PM_ERRNO_MAP(PM__ERRNO_ENUM)
#undef PM__ERRNO_ENUM
};

#define PM_ERROR_MSG_MAX  1024
#define PM_ERROR_FILE_MAX 1024

/*
 * A failure report. Owned by the caller (usually on the stack), filled only on failure, never
 * allocates, so out-of-memory can still be reported. Invariant: code == 0 means "no error";
 * msg and file are always NUL-terminated (truncated with "..." when too long).
 */
struct pm_error {
        int code;                     /* 0, -errno, or a PM_E* value */
        char msg[PM_ERROR_MSG_MAX];   /* one line, lowercase, no trailing full stop */
        char file[PM_ERROR_FILE_MAX]; /* offending file, or "" */
        int line;                     /* 1-based line in file, or 0 */
        int column;                   /* 1-based column, or 0 */
};

/* Reset @err to "no error". @err may be NULL. */
void pm_error_init(struct pm_error *err);

/*
 * Record a failure and return @code, so that `return pm_error_set(err, ...)` is one line.
 * @err may be NULL (the code is still returned). The message is formatted with printf rules.
 */
int pm_error_set(struct pm_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* As pm_error_set(), naming the offending file (and line/column when > 0). */
int pm_error_set_at(struct pm_error *err, int code, const char *file, int line, int column,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prefix the existing message with "PREFIX: ". Returns err->code. */
int pm_error_prefix(struct pm_error *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Static description of @code: a PM_E* message or strerror(-code). Never NULL. */
const char *pm_strerror(int code);

/* Static symbolic name, e.g. "PM_ECONFIG" or "ENOENT". Never NULL. */
const char *pm_error_name(int code);

/* The JSON-RPC error code for @code (-32603 internal error for anything unmapped). */
int pm_error_rpc_code(int code);

/*
 * Format "file:line:col: msg" (or just msg) into @buf of @size bytes. Returns @buf. This is the
 * one-line form the command prints on stderr and the daemon puts in its status.
 */
const char *pm_error_format(const struct pm_error *err, char *buf, unsigned long size);

#endif
