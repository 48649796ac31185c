/* SPDX-License-Identifier: MIT */
/* A blocking JSON-RPC client for the daemon's socket: what `projmodel query/status/stop/
 * discover` and the tests use. Owned by server/. */
#ifndef PROJMODEL_CLIENT_H
#define PROJMODEL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cJSON;
struct pm_error;

/* One connection. Not thread-safe; one per thread. */
struct pm_client;

/*
 * Connect to @socket_path. -ENOENT or -ECONNREFUSED when no daemon listens there (the caller
 * may start one), other -errno otherwise. *ret is owned by the caller (pm_client_free()).
 */
int pm_client_connect(const char *socket_path, struct pm_client **ret, struct pm_error *err);
/* Close and free. NULL is a no-op. Returns NULL. */
struct pm_client *pm_client_free(struct pm_client *c);

/*
 * Check that the process listening on @c's socket runs as this user (SO_PEERCRED), as the
 * daemon checks its clients (docs/protocol.md, "Access"): -EPERM naming @socket_path (borrowed,
 * for the message) when it does not, -errno when the check cannot be made.
 */
int pm_client_check_peer(const struct pm_client *c, const char *socket_path, struct pm_error *err);

/*
 * The pid of the process listening on @c's socket (SO_PEERCRED), as this process's pid
 * namespace numbers it: 0 when it has none there (a daemon in another namespace).
 */
int pm_client_peer_pid(const struct pm_client *c, pid_t *ret_pid, struct pm_error *err);

/*
 * Send a request (@notification false: *ret_id, when non-NULL, is its id) or a notification.
 * @params is consumed (may be NULL).
 */
int pm_client_send(struct pm_client *c, const char *method, struct cJSON *params, bool notification,
                   int64_t *ret_id, struct pm_error *err);

/* Send raw bytes as they are (tests of malformed input). */
int pm_client_send_raw(struct pm_client *c, const void *data, unsigned long len,
                       struct pm_error *err);

/*
 * Read the next message, waiting at most @timeout_ms (< 0: forever). *ret is owned by the
 * caller (cJSON_Delete). PM_ETIMEOUT when nothing came, -ECONNRESET when the daemon closed the
 * connection, PM_EPROTO for a malformed frame.
 */
int pm_client_recv(struct pm_client *c, int timeout_ms, struct cJSON **ret, struct pm_error *err);

/*
 * pm_client_recv() without the parse: the next message's body as the daemon sent it, for a
 * client that copies an answer's bytes (`projmodel discover`, cli/client.c). *ret_body is
 * borrowed from @c until its next call; it is not NUL-terminated.
 */
int pm_client_recv_body(struct pm_client *c, int timeout_ms, const char **ret_body, size_t *ret_len,
                        struct pm_error *err);

/* Called for every notification received while waiting for a reply. @msg is borrowed. */
typedef void (*pm_client_notify_cb)(void *userdata, const struct cJSON *msg);

/*
 * One message @msg (consumed) read while waiting for the reply to request @id: 1 when it is
 * that reply's result (*ret_result, owned by the caller); 0 for a notification (passed to @cb,
 * may be NULL) or another request's reply; on an error reply, the code and message as
 * pm_client_call() returns them. pm_client_call()'s loop, for a client that reads bodies itself.
 */
int pm_client_reply(struct cJSON *msg, int64_t id, pm_client_notify_cb cb, void *userdata,
                    struct cJSON **ret_result, struct pm_error *err);

/*
 * Send a request and wait (at most @timeout_ms, < 0 forever) for its reply, passing
 * notifications to @cb (may be NULL). On a result, *ret_result is owned by the caller. On an
 * error reply, returns the projmodel code named in error.data.name (else PM_EPROTO) with the
 * daemon's message in @err. @params is consumed.
 */
int pm_client_call(struct pm_client *c, const char *method, struct cJSON *params, int timeout_ms,
                   pm_client_notify_cb cb, void *userdata, struct cJSON **ret_result,
                   struct pm_error *err);

#endif
