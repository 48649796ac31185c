/* SPDX-License-Identifier: MIT */
/* Declarations shared by the daemon's files in server/: limits, LSP framing, the JSON-RPC
 * dispatcher, the refresh engine and the watcher; the step runner and the plan sequencer are in
 * plan-internal.h, included here. No other folder includes this header (tests/server does, to
 * unit-test the framing, the dispatcher and the sequencer). */
#ifndef PROJMODEL_SERVER_INTERNAL_H
#define PROJMODEL_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "projmodel/adapter.h"
#include "projmodel/error.h"
#include "projmodel/index.h"
#include "projmodel/strbuf.h"
#include "projmodel/tool.h"

#include "plan-internal.h"

struct cJSON;
struct pm_config;
struct pm_project;
struct pm_error;
struct pm_graph;
struct pm_progress;
struct pm_step;
struct pm_adapter_ops;
struct pm_check_request;
struct pm_check_result;
struct pm_strlist;

/*
 * Every limit on outside input the daemon enforces. Going over one is an error
 * reply or a closed connection, never a crash or unbounded memory.
 */
#define PM_RPC_MAX_FRAME        (16u << 20) /* Content-Length of one message */
#define PM_RPC_MAX_HEADER       4096        /* bytes of one header block */
#define PM_RPC_MAX_NESTING      64          /* JSON nesting depth of one message */
#define PM_RPC_MAX_PENDING_OUT  (64u << 20) /* queued, unwritten reply bytes per client */
#define PM_STOP_FLUSH_MS        2000u       /* a stop waits this long for replies to be read */
#define PM_RPC_MAX_CLIENTS      256         /* connected clients */
#define PM_RPC_MAX_PARKED       4096        /* requests waiting for a model, in all clients */
#define PM_RPC_READ_CHUNK       (64u << 10) /* bytes per read */
#define PM_RPC_BIG_REPLY        (1u << 20)  /* a reply this long asks for a bigger send buffer */
#define PM_RPC_MAX_SNDBUF       (8u << 20)  /* the send buffer asked for (the system caps it) */
#define PM_SEARCH_MAX_LIMIT     1000        /* projmodel/search "limit" */
#define PM_WATCH_MAX_AUDIT_DIRS 20000       /* directories outside the root watched for audits */
#define PM_WATCH_MAX_CHANGED    4096        /* changed build files remembered for one run */
#define PM_TOOL_MAX_STDERR      (64u << 10) /* stderr kept from one tool run (its head) */
#define PM_TOOL_KILL_GRACE_MS                                                             \
        2000                        /* after SIGTERM, before SIGKILL; and after the exit, \
                                     * for pipes held by what the tool started */
#define PM_TOOL_MSG_MAX        480  /* the tool's error line in our one-line error */
#define PM_TOOL_CMD_MAX        160  /* the command line in an error message */
#define PM_STATUS_MAX_ERROR    8192 /* bytes of tool message kept in the status */
#define PM_STATUS_MAX_WARNINGS 100  /* parse warnings listed in the status (all projects) */
#define PM_PROGRESS_MAX_QUEUED 1000 /* worker progress lines waiting for the loop */
#define PM_PROGRESS_MAX_LOG    1000 /* $/progress messages of one refresh kept for late waiters */

/* ---- LSP base framing (frame.c) ---- */

/*
 * Incremental parser for "Content-Length: N\r\n[Content-Type: ...\r\n]\r\n<N bytes>" frames.
 * Invariant: buf holds unconsumed input only; a frame returned by pm__frame_next() stays valid
 * until the next call.
 */
struct pm__frame_parser {
        struct pm_strbuf buf; /* unconsumed bytes */
        size_t consumed;      /* bytes of the last returned frame still at the front of buf */
};

void pm__frame_parser_init(struct pm__frame_parser *p);
void pm__frame_parser_release(struct pm__frame_parser *p);
/* Append received bytes. -ENOMEM, or PM_ELIMIT when a frame would exceed the limits. */
int pm__frame_feed(struct pm__frame_parser *p, const void *data, size_t len, struct pm_error *err);
/*
 * Take the next complete frame. Returns 1 with *ret_body and *ret_len set (borrowed until the next
 * call), 0 when more input is needed, PM_EPROTO for a malformed header (missing, negative or
 * non-numeric Content-Length, no "Name: value" form) and PM_ELIMIT for a frame over the limit.
 * After an error the stream cannot be resynchronised: the caller replies and closes.
 */
int pm__frame_next(struct pm__frame_parser *p, const char **ret_body, size_t *ret_len,
                   struct pm_error *err);
/* Append the framed form of @body to @out. 0 or -ENOMEM. */
int pm__frame_encode(struct pm_strbuf *out, const char *body, size_t len);
/* PM_ELIMIT when @s nests arrays/objects deeper than @max (strings are skipped), else 0. */
int pm__json_depth_check(const char *s, size_t len, int max, struct pm_error *err);

/*
 * A reply body written to several clients without a copy (the kept audit answer, audit.c):
 * reference-counted (atomically: the audit worker drops its reference on the thread pool while
 * the loop's writes hold theirs), freed with its free function when the last reference goes.
 */
struct pm__shared_text {
        _Atomic size_t refs;
        size_t len;
        char *data; /* owned, freed with free_fn */
        void (*free_fn)(void *);
};

/* A shared text owning @data (@len bytes, freed with @free_fn, even on failure), one reference;
 * NULL when out of memory. */
struct pm__shared_text *pm__shared_text_new(char *data, size_t len, void (*free_fn)(void *));
/* Take one more reference to @t; returns @t. */
struct pm__shared_text *pm__shared_text_ref(struct pm__shared_text *t);
/* Drop one reference (NULL is a no-op); the last one frees @t. Returns NULL. */
struct pm__shared_text *pm__shared_text_unref(struct pm__shared_text *t);

/*
 * A reply body made of shared texts and static bytes (the kept audit answer, audit.c: one text
 * per crate, so that an edit renders one crate again and the others are written as they are):
 * @bufs in order, each pointing into one of the texts it holds a reference to, or into static
 * storage. Reference-counted as pm__shared_text is; a write of the reply holds one reference
 * until it ends (daemon.c, pm__client_send_shared_result()).
 */
struct pm__shared_reply {
        _Atomic size_t refs;
        size_t len;     /* bytes of all @bufs */
        uv_buf_t *bufs; /* owned */
        size_t n_bufs, cap_bufs;
        struct pm__shared_text **texts; /* owned references */
        size_t n_texts, cap_texts;
};

/* An empty reply, one reference; NULL when out of memory. */
struct pm__shared_reply *pm__shared_reply_new(void);
/* Append @t's bytes after the first @skip (one more reference to @t taken), or @len static
 * bytes at @s. 0 or -ENOMEM (@r unchanged). */
int pm__shared_reply_add_text(struct pm__shared_reply *r, struct pm__shared_text *t, size_t skip);
int pm__shared_reply_add_static(struct pm__shared_reply *r, const char *s, size_t len);
struct pm__shared_reply *pm__shared_reply_ref(struct pm__shared_reply *r);
/* Drop one reference (NULL is a no-op); the last one drops the texts' and frees @r. NULL. */
struct pm__shared_reply *pm__shared_reply_unref(struct pm__shared_reply *r);

/*
 * Append to @out what comes before a result of @result_len bytes in its framed JSON-RPC reply to
 * @id (NULL: null): the Content-Length header and `{"jsonrpc":"2.0","id":<id>,"result":`; the
 * reply ends with PM__FRAME_RESULT_TAIL. The bytes are those pm__rpc_result() printed by
 * cJSON_PrintUnformatted() and framed by pm__frame_encode() would give. 0 or -ENOMEM.
 */
int pm__frame_result_head(struct pm_strbuf *out, const struct cJSON *id, size_t result_len);
#define PM__FRAME_RESULT_TAIL "}"

/* ---- JSON-RPC dispatcher (dispatch.c) ---- */

enum pm__rpc_flags {
        PM_RPC_NEEDS_MODEL = 1 << 0,    /* parked until a model is loaded (first refresh) */
        PM_RPC_MUTATES = 1 << 1,        /* changes the model or the daemon's state */
        PM_RPC_NOTIFICATION = 1 << 2,   /* a notification: never replied to, id ignored */
        PM_RPC_AFTER_SHUTDOWN = 1 << 3, /* allowed after "shutdown" (only "exit") */
        /* params {"discover": true} make the client hear $/progress as "initialize" does, from
         * before the request may wait for a model: `projmodel discover`'s one round trip
         * (docs/protocol.md, projmodel/rustProject) */
        PM_RPC_DISCOVER_PARAM = 1 << 4,
};

struct pm__rpc_call;

/*
 * A method handler. Returns 0 with *ret_result set (owned by the caller; cJSON null is fine),
 * a negative code with @err filled (the reply is an error), or PM__RPC_PARKED when the handler
 * took @call (see pm__rpc_call_take) to reply later with pm__rpc_reply_*.
 */
typedef int (*pm__rpc_handler_cb)(void *ctx, struct pm__rpc_call *call, struct cJSON **ret_result,
                                  struct pm_error *err);

#define PM__RPC_PARKED 1

struct pm__rpc_method {
        const char *name;
        pm__rpc_handler_cb handler;
        unsigned flags; /* enum pm__rpc_flags */
};

/* One decoded request or notification. Owns its parsed JSON. */
struct pm__rpc_call {
        struct cJSON *root;             /* the whole message */
        const struct cJSON *id;         /* borrowed from root, NULL for notifications */
        const char *method;             /* borrowed from root */
        const struct cJSON *params;     /* borrowed from root, or NULL */
        const struct pm__rpc_method *m; /* the table entry */
        void *owner;                    /* the client (daemon.c), borrowed */
        struct pm__rpc_call *next;      /* parking lists */
        bool resumed;                   /* re-run after a refresh: must not park again */
};

struct pm__rpc_call *pm__rpc_call_free(struct pm__rpc_call *call);

/*
 * Decode one message body against @table (n entries). On success *ret_call is owned by the
 * caller. On failure returns the error code and *ret_reply holds the JSON-RPC error reply to
 * send (owned by the caller), or NULL when nothing must be sent (a bad notification).
 */
int pm__rpc_decode(const struct pm__rpc_method *table, size_t n, const char *body, size_t len,
                   struct pm__rpc_call **ret_call, struct cJSON **ret_reply);
/*
 * Run @call's handler with @ctx. Returns 0 with *ret_reply set to the reply (owned by the
 * caller) or NULL for notifications; returns PM__RPC_PARKED when the handler kept the call (it
 * is then no longer the caller's). Otherwise the call stays the caller's.
 */
int pm__rpc_invoke(struct pm__rpc_call *call, void *ctx, struct cJSON **ret_reply);
/* Build replies: a result (consumed) or an error for @call's id (id may be NULL: null id). */
struct cJSON *pm__rpc_result(const struct cJSON *id, struct cJSON *result);
struct cJSON *pm__rpc_error(const struct cJSON *id, const struct pm_error *err);
/* A notification message (params consumed). */
struct cJSON *pm__rpc_notification(const char *method, struct cJSON *params);

/* Parameter helpers: PM_EPARAMS naming @key when of the wrong type. A missing key gives *ret
 * = @def (or NULL); for required keys pass required = true. */
int pm__param_string(const struct cJSON *params, const char *key, bool required, const char **ret,
                     struct pm_error *err);
int pm__param_bool(const struct cJSON *params, const char *key, bool def, bool *ret,
                   struct pm_error *err);
int pm__param_uint(const struct cJSON *params, const char *key, unsigned long def,
                   unsigned long max, unsigned long *ret, struct pm_error *err);

/* True if @a and @b are the same JSON-RPC id (numbers or strings; NULL matches nothing). */
bool pm__rpc_same_id(const struct cJSON *a, const struct cJSON *b);

/* The daemon's method table (methods.c). */
extern const struct pm__rpc_method pm__methods[];
extern const size_t pm__n_methods;

/* ---- model refresh helpers shared by the one-shot refresh and the daemon (refresh.c) ---- */

struct pm_change;

/*
 * The one change merger: add @src's counts to @dst's, move @src's labels and build files onto
 * the end of @dst's lists (@src's lists are left empty), and take @src's generation. On
 * -ENOMEM the counts are left alone (a list may have moved already).
 */
int pm__change_merge(struct pm_change *dst, struct pm_change *src);

/* ---- proc macros, dylibs and the one parse and apply (dylibs.c, build.c, procmacro*.c,
 * parse-apply.c) ---- */

/*
 * When @g->dylibs_built, replace every crate's proc_macro_dylib by its copy in the
 * content-addressed dylib cache under @cfg's cache directory (pm_dylib_cache_put()); a dylib
 * that cannot be copied keeps its path and gets a note saying why. Before the graph is
 * applied, in both the one-shot refresh and the daemon's worker. -ENOMEM only.
 */
int pm__dylibs_cache(const struct pm_config *cfg, struct pm_graph *g, struct pm_error *err);

/*
 * pm__dylibs_cache() for one crate @c of @g, whatever g->dylibs_built says (for a build that
 * produced only some of the graph's dylibs, GN's). *@cache is the cache directory, found on
 * first use (pm_malloc'd, the caller frees it; NULL to start). -ENOMEM only.
 */
int pm__dylib_cache_crate(const struct pm_config *cfg, struct pm_graph *g, struct pm_crate *c,
                          char **cache, struct pm_error *err);

/*
 * Build the proc macros of @g (the graph just parsed for @q) that name no dylib yet, through
 * their adapter's build_plan/build_parse, unless the project sets "build_proc_macros": false or
 * the adapter has no build step. Each built dylib is set from the tool's report and
 * g->dylibs_built is set (pm__dylibs_cache() then copies them); a target that failed or was
 * missing from the report keeps no dylib and gets a note naming it and the first error line
 * (either replaces the note the parse left on the crate, which said it was not built).
 * Before pm__dylibs_cache(), in both the one-shot refresh and the daemon's worker (on its
 * thread-pool thread, never the loop's). A graph whose adapter has an output builder (GN)
 * instead gets its missing files and proc macros built through it (pm_procmacro_build_sync(),
 * generated files even with "build_proc_macros": false), its dylibs copied to the cache there.
 * PM_ECONFIG or -ENOMEM only: a failing tool never fails the answer. @progress (may be NULL) hears
 * "building N proc macros" before each build and "built N proc macros" (with the failures) after
 * it; nothing when nothing is built.
 */
int pm__build_proc_macros(const struct pm_query *q, struct pm_graph *g,
                          const struct pm_progress *progress, struct pm_error *err);

/* The line announcing a build of @n_pm proc macros, @n_od OUT_DIRs and @n_gen generated sources
 * by @tool ("building 2 proc macros and 1 OUT_DIR with cargo", docs/cli.md, Progress) into @buf
 * (@size bytes, cut to fit), for build.c and query.c; false (@buf empty) when all counts are 0. */
bool pm__build_line(char *buf, size_t size, size_t n_pm, size_t n_od, size_t n_gen,
                    const char *tool);

/* query.c: the line announcing step @step of @q's plan when its adapter builds in it (ops
 * query_builds), counted from @blobs[0, @step) (pm__query_builds_blobs(): borrowed from @res),
 * into *@ret_line (pm_malloc'd), or NULL (its command line announces it); for the one-shot
 * query and the daemon (update.c, on the thread pool: counting parses). -ENOMEM. */
void pm__query_builds_blobs(const struct pm__plan_result *res, size_t step, struct pm_blob *blobs);
int pm__query_builds_line(const struct pm_query *q, size_t step, const struct pm_blob *blobs,
                          char **ret_line, struct pm_error *err);

/*
 * procmacro.c: as pm_procmacro_build_sync() with dylibs, for the crates of @g flagged in @only
 * (one flag per crate) alone, each flagged proc macro's dylib (proc_macro_dylib: the output the
 * last query named) handed to @ops's output builder whatever its time (GN's ninja rebuilds only
 * what its depfile says changed), then copied to the dylib cache. -ENOMEM only.
 */
int pm__procmacro_build_only(const struct pm_config *cfg, const struct pm_adapter_ops *ops,
                             struct pm_graph *g, const bool *only,
                             const struct pm_progress *progress, size_t *ret_built,
                             struct pm_error *err);

/* What pm__procmacro_rebuild() did. Owned by the caller: pm__rebuild_release(). */
struct pm__rebuild {
        size_t n_proc_macros;    /* the proc macros rebuilt (0: nothing to do) */
        bool applied;            /* the model was written: change is its change */
        struct pm_change change; /* the apply's change */
        bool have_gen_before;    /* gen_before was read, just before the apply */
        uint64_t gen_before;
        double build_ms; /* reading the model and the last query's outputs, the build and the
                          * dylib cache */
        double apply_ms; /* the apply */
        /* The build files (NULL-terminated, pm_labels_free()) of touched proc macros this path
         * cannot rebuild (no dylib in the model, no output the last query wrote): they need a
         * query. */
        char **fallback;
        /* The build's notes about proc macros it could not build, as warnings of their build
         * files (pm_procmacro_build_sync()): partial and covering nothing, so that storing them
         * adds them to the project's (their fix takes the query, whose parse replaces them:
         * docs/build-integration.md). pm_malloc'd, or NULL when there are none. */
        struct pm__warnings *warnings;
};

void pm__rebuild_release(struct pm__rebuild *rb);

/*
 * procmacro-rebuild.c: the daemon's update of project @p after only proc-macro sources changed
 * (@paths: the files written, under the directories pm_index_proc_macro_dirs() lists): the proc
 * macros of @p in @idx whose root-module directory or include dirs hold one of them are rebuilt
 * through its adapter's output builder (their output paths from its current_dylibs(); GN: ninja,
 * the last `gn gen`'s project.json), copied to the dylib cache, and applied to @idx as a partial
 * graph of their build files' crates as the model holds them (fingerprints kept, input stamp
 * forgotten). No query, no parse. Nothing happens with "build_proc_macros": false. A failing
 * build is a note, as in procmacro.c. PM_E* from the model or -ENOMEM.
 */
/* Whether pm__procmacro_rebuild() serves @p's build system: its adapter's output builder can
 * tell the current dylibs (GN). */
bool pm__procmacro_can_rebuild(const struct pm_project *p);
int pm__procmacro_rebuild(struct pm_index *idx, const struct pm_config *cfg,
                          const struct pm_project *p, char *const *paths, size_t n_paths,
                          const struct pm_progress *progress, struct pm__rebuild *rb,
                          struct pm_error *err);

/* What pm__parse_apply() is asked, and what it reports. */
struct pm__parse_apply {
        /* in: the query's scope lists every build file changed since the model's last apply of
         * the project (the daemon's watcher saw them all), so the stored fingerprints may be
         * used for a partial parse */
        bool scope_complete;
        /* in: fingerprint the graph, to store with the apply (the daemon: only a watcher's scope
         * can use them, and computing them costs the one-shot commands time) */
        bool want_fingerprints;
        bool want_gen_before; /* in: read the model's generation just before the apply */
        const struct pm_progress *progress; /* in: crates parsed, proc macros built; NULL:
                                             * silent (projmodel/refresh.h) */
        bool have_gen_before;               /* out: gen_before was read */
        uint64_t gen_before;
        double parse_ms; /* out: the stamp check and the adapter's parse; 0 when skipped */
        double build_ms; /* out: proc macros (ninja) and the dylib cache; 0 when skipped */
        bool skipped;    /* out: the input stamp was fresh: nothing parsed or applied */
};

/*
 * The one parse and apply (parse-apply.c) of both refresh paths, the one-shot commands
 * (pm_model_apply_outputs()) and the daemon's worker (update-worker.c), with their one change
 * detection: when @idx's input stamp for the project is fresh for @outputs, nothing is parsed
 * (only sources the configuration dropped are pruned); else @q's adapter parses @outputs (with
 * the stored fingerprints when @pa->scope_complete and @q has a scope: maybe a partial graph),
 * pm__build_proc_macros() and pm__dylibs_cache() follow, then pm_index_apply_stamped() writes
 * the graph, its new stamp and its fingerprints to @idx as a diff, in one transaction.
 * @ret_change (may be NULL) is the apply's change; *@ret_graph (may be NULL) the graph applied,
 * caller-owned, NULL when the stamp skipped it.
 */
int pm__parse_apply(struct pm_index *idx, const struct pm_query *q, const struct pm_blob *outputs,
                    size_t n_outputs, struct pm__parse_apply *pa, struct pm_change *ret_change,
                    struct pm_graph **ret_graph, struct pm_error *err);

/*
 * The warning after the apply of @g with build files @tool could not load (pm_graph.failed;
 * parse-apply.c): whether the model kept the last good state of @kept crates of theirs, and which
 * failed of their own (pm_graph.failed_own) or only with something they depend on, or, when the
 * adapter cannot tell (failed_own_known false), that it is one or the other. In @g's arena;
 * NULL when out of memory, or when nothing failed.
 */
char *pm__kept_warning(struct pm_graph *g, const char *tool, size_t kept);

/* ---- the daemon (daemon.c, socket.c, update.c, watch.c, methods.c) ---- */

/* One message in a client's output queue (daemon.c). */
struct pm__write_req;

/*
 * One connected client. Invariant: freed only from the pipe's close callback; while closing
 * it is off the server's list and owns no parked call.
 */
struct pm__client {
        uv_pipe_t pipe;          /* first member: container_of from callbacks */
        struct pm_server *srv;   /* borrowed */
        struct pm__client *prev; /* server's client list */
        struct pm__client *next;
        struct pm__frame_parser parser;
        uv_shutdown_t shutdown_req;     /* used by close-after-flush */
        size_t pending_out;             /* bytes queued in out_head, not yet written */
        struct pm__write_req *out_head; /* owned: messages to write, in order (daemon.c) */
        struct pm__write_req *out_tail;
        uint64_t serial;         /* connection number, for logs */
        bool closing;            /* uv_close called or scheduled */
        bool flushing;           /* on the server's flushing list */
        bool initialized;        /* sent "initialize": receives $/progress */
        bool subscribed;         /* receives projmodel/modelChanged and refreshFailed */
        bool shutdown;           /* sent "shutdown" */
        bool out_busy;           /* a uv_write() of out_head waits for the socket */
        bool shutdown_after_out; /* closing after a flush: uv_shutdown() once out_head is
                                  * written */
        bool progress_held;      /* joined during a refresh: hears it only if it waits for
                                  * it, from its beginning (update-progress.c) */
};

struct pm__refresh; /* one refresh in flight (update-internal.h) */
/* One projmodel/audit request, waiting or running (audit.c). */
struct pm__audit_job;
/* A worker progress line on its way to the loop, a logged $/progress (update-progress.c). */
struct pm__progress_line;
struct pm__progress_entry;

/* A sorted set of strings (the build-file watch set), owned. */
struct pm__strset {
        char **v; /* sorted, pm_malloc'd strings */
        size_t n;
};

void pm__strset_release(struct pm__strset *s);
bool pm__strset_contains(const struct pm__strset *s, const char *str);

/*
 * One project's parse warnings (pm_graph.warnings), as the status lists them; owned. Every
 * warning is kept with its build file, so that a partial parse replaces only the warnings of the
 * build files it re-read (the status lists the first PM_STATUS_MAX_WARNINGS).
 */
struct pm__warnings {
        char **v;       /* each at most PM_WARNING_MAX bytes of UTF-8 (pm_utf8_clip),
                         * pm_argv_push'd; or NULL */
        char **files;   /* the build file each is about (pm_graph.warning_files), "" for the
                         * whole output; pm_argv_push'd, or NULL */
        size_t n;       /* entries of v and files */
        size_t total;   /* the warnings (v holds the first n: fewer only when out of memory) */
        bool partial;   /* from the worker: a partial graph's, covering these build files */
        char **covered; /* pm_argv_push'd, or NULL */
};

/*
 * The daemon. Everything is touched from the loop thread only, except widx (used only inside
 * refresh work callbacks, which never overlap), aidx (the same for audit work) and what a work
 * callback's own struct holds.
 */
struct pm_server {
        uv_loop_t loop;
        uv_pipe_t listener;
        bool listener_inherited; /* fd 3 from systemd socket activation (docs/protocol.md) */
        uv_signal_t sigterm;
        uv_signal_t sigint;
        uv_timer_t debounce;    /* armed while changes wait to be re-queried */
        uv_poll_t inotify_poll; /* libinotifytools' fd */
        bool poll_started;

        struct pm_config *cfg; /* owned, immutable while running (workers read it) */
        char *socket_path;     /* owned */
        char *db_path;         /* owned */
        int lock_fd;           /* the flock'd <socket>.lock */
        int ready_fd;          /* startup report pipe, or -1 */
        struct pm_index *idx;  /* read handle, loop thread only */
        struct pm_index *widx; /* write handle, refresh workers only */

        struct pm__client *clients; /* connected, not closing */
        size_t n_clients;
        /* Closing once their replies are written (prev/next): a stop closes what is left of
         * them after PM_STOP_FLUSH_MS, so a client that reads nothing cannot hold it. */
        struct pm__client *flushing;
        uv_timer_t stop_timer;
        bool stop_timer_open; /* started by the stop, not closed yet */
        uint64_t next_serial;
        char *read_buf; /* PM_RPC_READ_CHUNK bytes shared by all reads */
        bool read_buf_busy;

        struct pm__rpc_call *parked_model; /* waiting for a first model */
        struct pm__rpc_call *parked_fresh; /* waiting for the next refresh to end */
        size_t n_parked;

        /* The model as served. */
        uint64_t generation;
        size_t n_crates;
        bool have_model; /* a stored or fresh model can be served */
        char *sysroot;   /* for the writer, or NULL */
        char *sysroot_src;
        bool sysroot_done;           /* resolution ended (sysroot may still be NULL) */
        struct pm__strset watch_set; /* build files of the model */
        /* The directories holding them (pm__watch_dirs_of()), read by the walks (a directory
         * holding one is watched first, never evicted: watch.c). Replaced on the loop only while
         * no walk runs; one coming meanwhile waits in watch_dirs_next (pm__watch_dirs_changed()).
         */
        struct pm__strset watch_dirs;
        struct pm__strset watch_dirs_next;
        bool have_watch_dirs_next;
        /* Where the model's proc macros' sources are, each directory followed by its crate's
         * build file (pm_index_proc_macro_dirs()): a write there rebuilds them (watch.c). */
        char **proc_macro_dirs;
        char **watch_skip; /* the adapters' output directories (pm_adapter_ops.watch_skip),
                            * NULL-terminated; set before the walk, then read-only */

        /* Refreshing. */
        struct pm__refresh *running; /* NULL when idle */
        bool *dirty_projects;        /* per cfg project: re-query needed */
        bool reload_config;          /* .projmodel.json changed: re-read before the next run */
        bool dirty;                  /* any of them */
        bool dirty_full;             /* a full (unscoped) query is needed */
        char **changed;              /* changed build files since the last start */
        size_t n_changed;
        bool changed_overflow; /* more than PM_WATCH_MAX_CHANGED: unscoped */
        /* Per cfg project: only proc-macro sources changed (GN), so ninja rebuilds them without a
         * query (procmacro-rebuild.c), unless the project is queried anyway (dirty_projects):
         * then their build files join the scope. The files written, and those build files. */
        bool *rebuild_projects;
        char **rebuild_paths;
        size_t n_rebuild_paths;
        char **rebuild_files;
        size_t n_rebuild_files;
        uint64_t refreshes;       /* completed runs */
        uint64_t last_start_ns;   /* CLOCK_REALTIME when the last run started */
        double last_refresh_time; /* unix seconds of the last completed run, 0 = never */
        double last_refresh_ms;   /* its duration */
        double last_own_ms;       /* its read + parse + apply share */
        /* Where its milliseconds went (docs/protocol.md, status): the build tool's runs, reading
         * their output files, parsing, building proc macros and build-script outputs, applying
         * to the model, sending modelChanged. */
        double last_tool_ms, last_read_ms, last_parse_ms, last_build_ms, last_apply_ms,
                last_notify_ms;
        bool last_partial;   /* it applied partial graphs only (incremental parses) */
        size_t last_queried; /* the projects whose build tool it queried */
        /*
         * Per cfg project: true when the watcher saw every build-file write since the model's
         * last apply of the project (this daemon's own last successful run of it), so a scoped
         * query may re-parse from the fingerprints stored with that apply (parse-apply.c).
         * Valid while the model is at scope_generation (no other writer); false after a failed
         * run of the project. NULL before any run. Touched by refresh work callbacks and the
         * loop between them, never both at once.
         */
        bool *scope_complete;
        uint64_t scope_generation;
        /* A step output file's buffer kept from the last run for the next read: megabytes of
         * fresh memory cost milliseconds of page faults on every update. Same rule. */
        struct pm_strbuf output_spare;
        bool last_ok;
        char *last_error;        /* one line with the tool's message, or NULL */
        char *last_error_output; /* the tool's output (bounded), or NULL */
        /* Per cfg project: the warnings of its last successful parse (update-warnings.c), or
         * NULL before any. Same rule as scope_complete. */
        struct pm__warnings *warnings;
        bool first_done; /* the first refresh since start ended */

        /* Seeding (serve --seed): the snapshot, and what came of it at startup. */
        char *seed_file;     /* owned, or NULL: none configured */
        bool seeded;         /* the model was replaced by the snapshot */
        size_t seed_changed; /* its build files this tree holds differently */
        char *seed_error;    /* why the snapshot was not used, or NULL */

        /* Watching. */
        bool watching;
        size_t n_watches;
        size_t n_unwatched; /* directories left unwatched past watch_max_dirs (watch.c) */
        uint64_t overflows;
        char *watch_error; /* the last watch failure, or NULL */

        /* projmodel/audit (audit.c): one scan at a time on the thread pool, the others wait. */
        struct pm__audit_job *audit_running; /* NULL when none */
        struct pm__audit_job *audit_queue;   /* waiting, in arrival order (counted in n_parked) */
        struct pm_index *aidx;               /* the audit worker's handle, audit work only */
        /*
         * What the audits keep between requests (audit-keep.c): the scans, the graph and the
         * crates inventoried, used only by audit work and by the loop while none runs; NULL
         * until the first audit and after audit_idle_ms without one. While it exists, watch
         * events of files go to audit_changed, directories watched for it since the last audit
         * to audit_fresh, and a lost watch sets audit_distrust; the next audit takes all three.
         */
        struct pm__audit_state *audit_state;
        char **audit_changed; /* pm_argv_push'd paths, or NULL */
        size_t n_audit_changed;
        char **audit_fresh; /* pm_argv_push'd directories, or NULL */
        size_t n_audit_fresh;
        bool audit_distrust;
        char **audit_watches; /* directories outside the root watched for the audit (watch.c) */
        size_t n_audit_watches;
        uv_timer_t audit_idle; /* drops the state and its watches after audit_idle_ms */
        bool audit_idle_init;
        /* The last audit's figures for the status (docs/protocol.md). */
        size_t audit_files, audit_checked, audit_read, audit_trusted, audit_rendered;
        double audit_ms;
        struct pm__collect *collect; /* the cache directory's collection (cache-collect.h) */

        /*
         * The refresh's $/progress (update-progress.c). The worker queues its lines under
         * progress_lock and wakes progress_async; the loop drains them. progress_ready is set
         * before any worker runs and cleared after the loop ended.
         */
        uv_async_t progress_async;
        uv_mutex_t progress_lock;
        bool progress_ready;
        bool progress_closed;                     /* under progress_lock: drop new lines */
        struct pm__progress_line *progress_queue; /* under progress_lock */
        struct pm__progress_line **progress_tail; /* under progress_lock */
        size_t n_progress_queued;                 /* under progress_lock */
        struct pm__progress_entry *progress_log;  /* the running refresh's messages, loop only */
        size_t n_progress_log;

        bool stopping;
        bool shutdown_requested;
};

/* daemon.c: one log line on stderr (the log file of a daemonized server), with a timestamp. */
void pm__log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* socket.c: take the root's lock (<socket>.lock). PM_EBUSY when another daemon holds it. */
int pm__server_lock(const char *socket_path, int *ret_fd, struct pm_error *err);

/* daemon.c: send a message (consumed) to one client; a client over its output limit is closed. */
void pm__client_send(struct pm__client *c, struct cJSON *msg);
/* daemon.c: send the result @result (its printed JSON, borrowed: the write takes its own
 * reference until it ends) to @id as pm__client_send() would, without copying it. */
void pm__client_send_shared_result(struct pm__client *c, const struct cJSON *id,
                                   struct pm__shared_reply *result);
/* To every client with @subscribed (or initialized when !subscribed). @msg is consumed. */
void pm__server_broadcast(struct pm_server *srv, bool subscribed, struct cJSON *msg);
/* Run or re-run a parked call now (replying to its client). */
void pm__server_resume(struct pm_server *srv, struct pm__rpc_call *call);
/* Park @call on @list (PM_ELIMIT when too many are parked). */
int pm__server_park(struct pm_server *srv, struct pm__rpc_call **list, struct pm__rpc_call *call,
                    struct pm_error *err);
/* Begin stopping: close the listener and clients, stop watching, kill a running tool. */
void pm__server_stop(struct pm_server *srv);
/*
 * update-progress.c: the refresh's $/progress between the worker and the clients. init creates
 * the queue's lock and async handle on srv->loop (pm_server_run()); close stops taking lines
 * and closes the handle (pm__server_stop()); release frees what is left, after the loop ended.
 */
int pm__progress_init(struct pm_server *srv, struct pm_error *err);
void pm__progress_close(struct pm_server *srv);
void pm__progress_release(struct pm_server *srv);
/* @c is about to receive $/progress (initialize, subscribe). Joining during a refresh, it is held:
 * that refresh's reports are not sent to it (its end is). */
void pm__progress_join(struct pm_server *srv, struct pm__client *c);
/* @c receives $/progress from now on, as after "initialize" (pm__progress_join(), then marked). */
void pm__progress_hear(struct pm_server *srv, struct pm__client *c);
/* A request of held @c starts waiting for the running refresh: send it that refresh's messages
 * so far, in order, then the rest live. */
void pm__progress_replay(struct pm_server *srv, struct pm__client *c);
/* Re-run every call parked on @list (the list is emptied first: re-entry safe). */
void pm__server_resume_list(struct pm_server *srv, struct pm__rpc_call **list);

/* update*.c: the refresh engine. */
/* watch.c: true while a walk (the startup one, or a new tree's) runs on the thread pool (it
 * reads srv->cfg). */
bool pm__watch_walk_running(void);

/* Mark @project (NULL = every project) dirty; @build_file (may be NULL) narrows the query.
 * Arms the debounce (@immediate: start as soon as the loop is idle). */
void pm__refresh_request(struct pm_server *srv, const struct pm_project *project,
                         const char *build_file, bool immediate);
/* Only the sources of the proc macro of @build_file (under @project) changed, at @path: a GN
 * project rebuilds it without a query (procmacro-rebuild.c), any other is re-queried as
 * pm__refresh_request() does. Arms the debounce. */
void pm__refresh_request_proc_macro(struct pm_server *srv, const struct pm_project *project,
                                    const char *build_file, const char *path);
/* Free the proc-macro rebuild requests (teardown). */
void pm__refresh_forget_rebuilds(struct pm_server *srv);
/* True while a run is going or one is scheduled. */
bool pm__refresh_pending(const struct pm_server *srv);
/* Start resolving the sysroot (once, at startup). */
int pm__sysroot_start(struct pm_server *srv, struct pm_error *err);
/* Kill the running tool, if any (stopping). */
void pm__refresh_cancel(struct pm_server *srv);
/* Free what the refresh engine keeps between runs (scope_complete); at teardown. */
void pm__refresh_release(struct pm_server *srv);
/* update-warnings.c: the parse warnings per project (docs/protocol.md, status). */
/* Fill empty @w from @g's warnings (the worker); out of memory lists fewer. */
void pm__warnings_copy(struct pm__warnings *w, const struct pm_graph *g);
void pm__warnings_release(struct pm__warnings *w);
/* Project @project's warnings become @w (moved; @w is left empty): all of them replaced, or for
 * a partial graph only those about the build files it covered. */
void pm__warnings_store(struct pm_server *srv, size_t project, struct pm__warnings *w);
/* Project @project has a warning a partial parse could not replace: one about no build file
 * (the whole output), or one lost to out of memory. */
bool pm__warnings_global(const struct pm_server *srv, size_t project);
/* srv->cfg is about to become @cfg: the projects that stay (by id) keep their warnings. */
void pm__warnings_config_changed(struct pm_server *srv, const struct pm_config *cfg);
/* Free every project's warnings (teardown). */
void pm__warnings_free(struct pm_server *srv);
/* Add "warnings" (at most PM_STATUS_MAX_WARNINGS, project by project) and "warningsTotal" to
 * @o; false when out of memory. */
bool pm__warnings_status(const struct pm_server *srv, struct cJSON *o);
/* The status object (projmodel/status). NULL on OOM. */
struct cJSON *pm__server_status(struct pm_server *srv);

/*
 * watch-dirs.c: the records behind the watcher's counts (watch.c, "Counting"). Owned by the
 * table (pm__wdirs_clear() frees them); touched by one thread at a time, as libinotifytools.
 * The counting functions take the counters to change (the loop's srv fields, or a walk's own).
 */
struct pm__wdir {
        char *path; /* without a trailing slash */
        struct pm__wdir *parent, *child, *prev, *next;
        size_t unwatched;          /* an unwatched top: the directories it stands for */
        size_t n_watched_children; /* recorded children with a watch */
        int wd;                    /* > 0 watched, 0 the top of an unwatched subtree */
        bool needed;               /* holds a build file (or a file of the watch set, one in
                                    * pm_server.watch_dirs) or is above one */
};

/* @path's record, or NULL; _slashed ignores one trailing slash. */
struct pm__wdir *pm__wdir_find(const char *path);
struct pm__wdir *pm__wdir_find_slashed(const char *path);
/* A record for @path below @parent (NULL: the root), replacing (dropping) one already there;
 * NULL when out of memory. The caller counts it. */
struct pm__wdir *pm__wdir_add(const char *path, struct pm__wdir *parent, int wd, bool needed,
                              size_t *n_watches, size_t *n_unwatched);
/* Forget @top and every record below it, taking them off the counts; @unwatch: also remove
 * their watches. */
void pm__wdir_drop(struct pm__wdir *top, bool unwatch, size_t *n_watches, size_t *n_unwatched);
/* Forget every record. */
void pm__wdirs_clear(void);
/* A build file appeared in directory @dir: it and those above it are needed. */
void pm__wdir_mark_needed(const char *dir);
/* A watched directory neither needed nor above a watched one, not the root, or NULL. */
struct pm__wdir *pm__wdir_victim(void);
/* Take @w's watch (a pm__wdir_victim()): it becomes an unwatched subtree's top. */
void pm__wdir_evict(struct pm__wdir *w, size_t *n_watches, size_t *n_unwatched);
/* Stop watching @wd; its IN_IGNORED follows. */
void pm__wdir_unwatch(int wd);
/* The directories holding @files (a watch set), sorted and unique, into empty @out (owned by
 * the caller, pm__strset_release()). 0, or -ENOMEM. Touches no record: any thread. */
int pm__watch_dirs_of(const struct pm__strset *files, struct pm__strset *out);

/* watch.c */
/* The configuration was replaced (no walk running): take the adapters' output directories
 * (pm_adapter_ops.watch_skip) from the new one; directories already watched stay watched. */
void pm__watch_config_changed(struct pm_server *srv);
/* The watch set changed: its directories are now @dirs (moved from; @dirs is left empty). The
 * watched ones among them are marked needed, now or when the walk running ends. */
void pm__watch_dirs_changed(struct pm_server *srv, struct pm__strset *dirs);
int pm__watch_start(struct pm_server *srv, struct pm_error *err);
void pm__watch_stop(struct pm_server *srv);

/* methods.c: a crate as JSON (projmodel/crate). */
struct pm_crate;
struct cJSON *pm__crate_json(const struct pm_crate *c);

#include "projmodel/banned.h"

/*
 * projmodel/audit (audit.c): check @call's params ("label", "closure", "format"), then take @call
 * and scan on the thread pool, one audit at a time; the reply (the document pm_audit_json() or
 * pm_audit_sarif() builds, the text of pm_audit_text() as a string, or the error) is sent when
 * the scan ends. Returns PM__RPC_PARKED (the call is taken), 0 for a
 * notification (nothing done), or a negative code with @err filled (the call stays the caller's).
 */
int pm__audit_request(struct pm_server *srv, struct pm__rpc_call *call, struct pm_error *err);
/* Client @c is going: its waiting audits are dropped, its running one's reply goes nowhere. */
void pm__audit_forget_client(struct pm_server *srv, const struct pm__client *c);
/* $/cancelRequest: answer @c's audit with @id as cancelled (the scan stops early). True if one
 * was found. */
bool pm__audit_cancel(struct pm_server *srv, const struct pm__client *c, const struct cJSON *id);
/* Stopping: every audit waiting or running is answered as cancelled. */
void pm__audit_stop(struct pm_server *srv);

/* audit-keep.c: what the audits keep between requests (see pm_server.audit_state). */
struct pm__audit_state;
/* A watch event for @path (@mask: inotify's): remember it for the next audit. */
void pm__audit_watch_event(struct pm_server *srv, const char *path, uint32_t mask);
/* A watch may have been lost (queue overflow): trust no directory at the next audit. */
void pm__audit_distrust(struct pm_server *srv);
/* An audit ended: watch @dirs (its unwatched directories, borrowed), arm the idle timer. */
void pm__audit_after(struct pm_server *srv, char **dirs, size_t n);
/* Before an audit starts: stop the idle timer, read pending watch events. */
void pm__audit_before(struct pm_server *srv);
/* The status' "audit" object; false when out of memory. */
bool pm__audit_status(struct pm_server *srv, struct cJSON *o);
/* Free the kept state (no audit runs): on idle and at exit. */
void pm__audit_forget(struct pm_server *srv);
/* Stopping: close the idle timer. */
void pm__audit_close(struct pm_server *srv);
/* audit.c: free the kept state (no audit runs). NULL is a no-op. */
void pm__audit_state_free(struct pm__audit_state *st);

/* watch.c, for the audit */
/* Watch each of @dirs (outside the root, canonical) unless watched already; each directory
 * that is watched now is pm_argv_push'd to *@fresh. Does nothing while the walk runs. */
void pm__watch_audit_dirs(struct pm_server *srv, char *const *dirs, size_t n, char ***fresh,
                          size_t *n_fresh);
/* Remove the audit's own watches; while a walk runs they stay listed, and its end removes them
 * if the audit state is gone by then. */
void pm__watch_audit_forget(struct pm_server *srv);
/* Read the events waiting now; false when it cannot (not watching, or the walk runs). */
bool pm__watch_drain(struct pm_server *srv);

#endif
