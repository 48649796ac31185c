/* SPDX-License-Identifier: MIT */
/* Test fixture: a real `projmodel serve --foreground` on a private copy of an example tree, with
 * its own runtime and cache directories, and helpers for JSON-RPC calls and notifications. */
#ifndef PROJMODEL_TEST_DAEMON_H
#define PROJMODEL_TEST_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

struct cJSON;
struct pm_client;

/* One spawned daemon. Strings are pm_malloc'd and freed by pm_test_daemon_destroy(). */
struct pm_test_daemon {
        char *tmp;     /* private directory holding everything below */
        char *root;    /* the copied example tree */
        char *runtime; /* XDG_RUNTIME_DIR given to the daemon and to clients */
        char *cache;   /* XDG_CACHE_HOME */
        char *socket;  /* the daemon's socket */
        char *db;      /* the model database */
        char *log;     /* the daemon's stderr */
        char *seed;    /* when set: `--seed` given to the next pm_test_daemon_start() */
        pid_t pid;     /* running daemon, or -1 */
};

/* Copy examples/@example to a fresh directory and start a daemon on it; asserts on failure and
 * waits (bounded) until the socket accepts connections. */
void pm_test_daemon_setup(struct pm_test_daemon *d, const char *example);
/* The first half of pm_test_daemon_setup(): the copy and the directories, no daemon yet (for a
 * test that changes the tree before the daemon first sees it; pm_test_daemon_start() next). */
void pm_test_daemon_copy(struct pm_test_daemon *d, const char *example);
/* A daemon on the tree @root as it is (not copied, nor removed after), with its runtime and
 * cache directories, socket, database and log in @dir (created; removed with everything in it by
 * pm_test_daemon_destroy()), started: for a tree a test prepared itself (a Bazel workspace with
 * its warm server). Asserts on failure. */
void pm_test_daemon_setup_at(struct pm_test_daemon *d, const char *root, const char *dir);
/* (Re)start the daemon on the same tree and database. */
void pm_test_daemon_start(struct pm_test_daemon *d);
/* Send @sig and reap the daemon; one still running PM_TEST_DAEMON_STOP_MS later is killed
 * with SIGKILL (its wait status says so). Returns its wait status. */
int pm_test_daemon_kill(struct pm_test_daemon *d, int sig);
/* Stop the daemon (SIGTERM) if running and remove everything. */
void pm_test_daemon_destroy(struct pm_test_daemon *d);

/* The environment for a command run against this daemon ("K=V", NULL-terminated, static). */
const char *const *pm_test_daemon_env(const struct pm_test_daemon *d);

/* A new connection (asserted). */
struct pm_client *pm_test_daemon_connect(const struct pm_test_daemon *d);

/* Call @method with @params_json (NULL for none); asserts success; result owned by the caller. */
struct cJSON *pm_test_call(struct pm_client *c, const char *method, const char *params_json);
/* Call expecting an error reply: returns the projmodel code (asserts it failed). */
int pm_test_call_error(struct pm_client *c, const char *method, const char *params_json);
/* Wait (bounded by @timeout_ms) for a notification named @method, dropping others. NULL on
 * timeout; else owned by the caller. */
struct cJSON *pm_test_wait_notification(struct pm_client *c, const char *method, int timeout_ms);

/* A generous deadline for anything that runs a build tool. */
#define PM_TEST_DAEMON_TIMEOUT_MS 60000
/* How long pm_test_daemon_kill() waits for the daemon to stop before SIGKILL. */
#define PM_TEST_DAEMON_STOP_MS 30000

/* True if the JSON array @a holds the string @s. */
bool pm_test_json_array_has(const struct cJSON *a, const char *s);
/* The entry of projmodel/status @status's "warnings" whose "message" contains @needle, or NULL;
 * borrowed from @status. */
const struct cJSON *pm_test_status_warning(const struct cJSON *status, const char *needle);

/*
 * The fixture of a Criterion suite whose every test gets its own daemon on a fresh copy of
 * examples/@example: defines `static struct pm_test_daemon @var`, set up before each test and
 * destroyed after it (Criterion's .init and .fini take no arguments, hence a macro).
 */
#define PM_TEST_DAEMON_SUITE(suite, var, example)    \
        static struct pm_test_daemon var;            \
        static void suite##_setup(void)              \
        {                                            \
                pm_test_daemon_setup(&var, example); \
        }                                            \
        static void suite##_teardown(void)           \
        {                                            \
                pm_test_daemon_destroy(&var);        \
        }                                            \
        TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown, .timeout = 300)

#endif
