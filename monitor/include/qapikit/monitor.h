/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: a QMP server on GIO (docs/spec/qmp-protocol.md).
 *
 * A QmpMonitor serves the commands of one QmpCommandList to any number
 * of sessions, each one connection: accepted from unix or TCP listeners,
 * or handed over as a connected GIOStream (a socket pair, stdio, ...).
 * Everything runs on one GMainContext, chosen at creation, and nothing
 * that serves sessions blocks it: input is read in 64 KiB chunks when the
 * stream polls readable, output is queued per session, written by the
 * turn that made it and, what the stream does not take, when it polls
 * writable.  One
 * GSource per monitor, attached for the monitor's life, polls the
 * sessions and runs their commands (docs/embedding.md, "The main loop").
 * (Setting up may block: qmp_monitor_listen_tcp() resolves a host name
 * synchronously.)
 *
 * Per session the monitor sends the greeting (§2), runs the negotiation
 * (§3), frames requests with its strict incremental JSON reader (§1, §7,
 * §8), runs commands in order through qmp_dispatch_checked() (§4, §5),
 * lets 'exec-oob' requests jump the queue once negotiated (§10), and
 * writes every message as 7-bit ASCII JSON followed by CR LF (§1/6-8).
 * Commands of all sessions run one at a time, round robin over the
 * sessions that have one pending (§11).  Events go to every session in
 * command mode (§9).
 *
 * Built-in commands.  qmp_monitor_new() registers four commands into the
 * embedder's QmpCommandList, implemented by the monitor because they
 * need its session state: qmp_capabilities, query-version,
 * query-commands and query-qmp-schema.  Their schema module,
 * control.json, is compiled into the library privately (nothing of it
 * is exported), and query-qmp-schema describes them after the
 * embedder's schema: the embedder's schema need not include it, and may
 * (DATADIR/qapikit/schema/control.json, 'gen': false on the four
 * commands) to use its types.  Do not implement them yourself.
 *
 * Limits and their defaults (qmp_monitor_set_request_limits() for
 * sessions opened afterwards, qmp_monitor_set_memory_limits() and
 * qmp_monitor_set_flow_limits() at once):
 *   one request                16 MiB of input, 1024 levels of nesting,
 *                              2,097,152 tokens; past any: a GenericError
 *                              reply, the session goes on (§8);
 *   memory of requests         64 MiB per session, 512 MiB per monitor,
 *                              of which every session may take its first
 *                              1 MiB whatever the others hold; a request
 *                              that would take more is refused like one
 *                              past the input limit (§7, §8);
 *   queued in-band requests    8: the session's input is not read while
 *                              8 wait (§10/3);
 *   queued out-of-band         64 (not settable): likewise;
 *   requests
 *   unsent output per session  above 1 MiB the session's input is not
 *                              read and none of its requests runs,
 *                              out-of-band ones included; above 64 MiB
 *                              the session is closed and a warning
 *                              logged (§1/13).
 *
 * Threads: a monitor and everything it creates belong to the thread that
 * runs its GMainContext; call these functions (and emit events) from that
 * thread only: the monitor never wakes its context up, since nothing
 * else may touch it while the context is polled.  Several monitors may
 * coexist (on different contexts, or the same).  A command handler may
 * iterate the context (a nested loop): sessions are read and written
 * meanwhile, but no other command starts before the handler returns.
 *
 * Errors follow qapikit/base.h: GError **errp last, false or NULL
 * exactly when the error is set.  Socket errors are in the G_IO_ERROR
 * domain, bad arguments in the QAPI_ERROR domain.
 */
#ifndef QAPIKIT_MONITOR_H
#define QAPIKIT_MONITOR_H

#include <qapikit/base.h>
#include <qapikit/dispatch.h>
#include <qapikit/introspect.h>

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct QmpMonitor QmpMonitor;

#define QMP_MONITOR_DEFAULT_MAX_REQUEST_BYTES ((size_t)16 * 1024 * 1024)
#define QMP_MONITOR_DEFAULT_MAX_DEPTH ((size_t)1024)
#define QMP_MONITOR_DEFAULT_MAX_TOKENS ((size_t)2097152)
#define QMP_MONITOR_DEFAULT_SESSION_MEMORY ((size_t)64 * 1024 * 1024)
#define QMP_MONITOR_DEFAULT_MONITOR_MEMORY ((size_t)512 * 1024 * 1024)
#define QMP_MONITOR_GUARANTEED_SESSION_MEMORY ((size_t)1024 * 1024)
#define QMP_MONITOR_DEFAULT_MAX_QUEUED ((size_t)8)
#define QMP_MONITOR_DEFAULT_MAX_QUEUED_OOB ((size_t)64)
#define QMP_MONITOR_DEFAULT_OUTPUT_PAUSE ((size_t)1024 * 1024)
#define QMP_MONITOR_DEFAULT_OUTPUT_DROP ((size_t)64 * 1024 * 1024)

/*
 * A new monitor serving COMMANDS on CONTEXT (NULL: the thread-default
 * context of the caller, g_main_context_ref_thread_default()).
 * COMMANDS is lent: it must outlive the monitor, and the monitor
 * registers its four built-in commands into it now (replacing entries of
 * the same names).  Commands the embedder registers later are served
 * too.  The monitor starts with no listener and no session, version
 * 0.0.0 with an empty package, OOB offered, no schema (query-qmp-schema
 * answers an empty list) and the default limits.  Free with
 * qmp_monitor_free().
 */
QAPIKIT_API QmpMonitor *qmp_monitor_new(QmpCommandList *commands,
                                        GMainContext *context);

/*
 * Close every session and listener at once, queued output unsent, remove
 * the unix sockets the monitor created, and free MON.  NULL is fine.
 * Never call it from a command handler (use qmp_monitor_shutdown()).
 */
QAPIKIT_API void qmp_monitor_free(QmpMonitor *mon);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpMonitor, qmp_monitor_free)

/*
 * The version of the greeting and of query-version (§2/2): the three
 * numbers, and PACKAGE (copied; NULL means "").
 */
QAPIKIT_API void qmp_monitor_set_version(QmpMonitor *mon, int64_t major,
                                         int64_t minor, int64_t micro,
                                         const char *package);

/*
 * The introspection literal of the embedder's schema (its generated
 * qmp_schema_qlit), lent for the monitor's life; query-qmp-schema
 * answers qapi_introspect_schema(SCHEMA) with its command list's policy.
 * NULL: an empty list.
 */
QAPIKIT_API void qmp_monitor_set_schema(QmpMonitor *mon,
                                        const QLitObject *schema);

/*
 * Whether the greeting offers out-of-band execution (default true).
 * Applies to sessions that open afterwards.
 */
QAPIKIT_API void qmp_monitor_set_oob(QmpMonitor *mon, bool offer);

/*
 * Input limits of one request, for sessions that open afterwards: input
 * bytes, nesting depth and tokens of one top-level value.  0 keeps the
 * current value.
 */
QAPIKIT_API void qmp_monitor_set_request_limits(QmpMonitor *mon,
                                                size_t max_bytes,
                                                size_t max_depth,
                                                size_t max_tokens);

/*
 * Memory budgets of requests, at once: SESSION_BYTES for each session,
 * MONITOR_BYTES for all of them together.  0 keeps the current value.
 *
 * A session's budget holds an estimate of the heap its requests take as
 * json-c trees (§7): the one being read, and those read and waiting to
 * run, each until it has run and its tree is freed.  The reader charges
 * the request being read as it grows; when a charge would take the
 * session past SESSION_BYTES, or, beyond the session's first
 * QMP_MONITOR_GUARANTEED_SESSION_MEMORY bytes, all sessions past
 * MONITOR_BYTES, the request is refused at once: a GenericError reply
 * without id, the partial tree freed, the rest of the request skipped,
 * the session goes on (§8), as with the input size limit (whichever is
 * reached first).  So one client's small requests are never refused
 * because others hold the rest.  After a large request (the memory held
 * fell to half its peak, by 8 MiB or more) the free heap is given back
 * to the system (glibc's malloc_trim()).
 */
QAPIKIT_API void qmp_monitor_set_memory_limits(QmpMonitor *mon,
                                               size_t session_bytes,
                                               size_t monitor_bytes);

/*
 * Flow control of every session: MAX_QUEUED in-band requests waiting
 * stop reading a session (as QMP_MONITOR_DEFAULT_MAX_QUEUED_OOB
 * out-of-band ones do); more than PAUSE_BYTES of unsent output stop
 * reading it and running its requests; more than DROP_BYTES close it
 * (logged with g_warning).
 * 0 keeps the current value.  DROP_BYTES is raised to PAUSE_BYTES if
 * lower.
 */
QAPIKIT_API void qmp_monitor_set_flow_limits(QmpMonitor *mon, size_t max_queued,
                                             size_t pause_bytes,
                                             size_t drop_bytes);

/*
 * Listen on the unix stream socket PATH (bytes, any but 0; at most 107),
 * with the system's largest listen backlog (SOMAXCONN), created with
 * permissions MODE (e.g. 0600; the umask does not apply).  An existing
 * PATH is replaced only if it is a socket nobody listens on; any other
 * file, or a live socket, is an error and left alone.  On success, and
 * if ADDRESS is not NULL, *ADDRESS is a new string "unix:PATH".  The
 * socket file is removed when the monitor is freed (if it is still the
 * one created here).  After failure nothing was created.
 */
QAPIKIT_API bool qmp_monitor_listen_unix(QmpMonitor *mon, const char *path,
                                         unsigned mode, char **address,
                                         GError **errp);

/*
 * Listen on TCP HOST:PORT.  HOST NULL or "" means 127.0.0.1 (loopback:
 * QMP has no authentication; listen elsewhere on purpose only); a host
 * name is resolved (blocking, once, here) and its first address used.
 * PORT 0 picks a free port.  The listen backlog is SOMAXCONN.  On
 * success *ADDRESS (if ADDRESS is not NULL) is a new string
 * "tcp:IP:PORT" with the actual port.
 */
QAPIKIT_API bool qmp_monitor_listen_tcp(QmpMonitor *mon, const char *host,
                                        guint16 port, char **address,
                                        GError **errp);

/*
 * Accept sessions on FD, an already-open listening stream socket (unix
 * or TCP, e.g. from socket activation).  The monitor takes FD over and
 * closes it when freed, even after failure.  *ADDRESS as above
 * ("fd:N").
 */
QAPIKIT_API bool qmp_monitor_listen_fd(QmpMonitor *mon, int fd, char **address,
                                       GError **errp);

/*
 * Serve one session on STREAM, a connected GIOStream (GSocketConnection,
 * GUnixInputStream and GUnixOutputStream in a GSimpleIOStream, ...).
 * Its input and output streams should be pollable (GPollableInputStream,
 * GPollableOutputStream, can_poll true); one that is not is taken to be
 * always ready, as a regular file is, and used with plain blocking
 * calls: do not pass anything else that may block.  The monitor takes a
 * reference, sends the greeting at once, and closes the stream when the
 * session ends.  Fails only while the monitor shuts down.
 */
QAPIKIT_API bool qmp_monitor_add_stream(QmpMonitor *mon, GIOStream *stream,
                                        GError **errp);

/*
 * Serve one session on the process's standard input and output (file
 * descriptors 0 and 1, made non-blocking; they are not closed; regular
 * files work too).  At most one stdio session per process.  End of input
 * ends the session once its replies are written (§1/12).  Writing to a
 * closed pipe raises SIGPIPE: ignore it in the process
 * (signal(SIGPIPE, SIG_IGN)) to see a write error instead.
 */
QAPIKIT_API bool qmp_monitor_add_stdio(QmpMonitor *mon, GError **errp);

/* The number of open sessions. */
QAPIKIT_API unsigned qmp_monitor_session_count(const QmpMonitor *mon);

/*
 * Called from the main loop after one or more sessions have closed,
 * with the number of sessions still open.  It must not free MON (quit
 * the main loop and free it afterwards).
 */
typedef void (*QmpMonitorClosedFunc)(QmpMonitor *mon, unsigned open,
                                     void *opaque);

/* Install FN (NULL: none) with OPAQUE, replacing any earlier one. */
QAPIKIT_API void qmp_monitor_set_closed_func(QmpMonitor *mon,
                                             QmpMonitorClosedFunc fn,
                                             void *opaque);

/*
 * Send EVENT (lent; a whole event object as qapi_event_build() makes
 * it) to every session in command mode, after what is already queued
 * for it.  Safe from command handlers: an event emitted while a command
 * runs is written before that command's reply (§9/5).
 */
QAPIKIT_API void qmp_monitor_broadcast(QmpMonitor *mon, json_object *event);

/*
 * The QapiEventEmitter of a process that serves QMP:
 * qapi_event_set_emitter(qmp_monitor_event_emitter, NULL).  Events are
 * the process's, as in QEMU (SHUTDOWN fires outside any request), so
 * there is one emitter, and it broadcasts every event to every monitor
 * that lives on the calling thread (qmp_monitor_broadcast()): each
 * sends it to its sessions in command mode.  OPAQUE is not used.
 * Monitors created or freed later are included or left out at once.
 */
QAPIKIT_API void qmp_monitor_event_emitter(const char *name, json_object *event,
                                           void *opaque);

/* Called once the monitor has shut down (qmp_monitor_shutdown()). */
typedef void (*QmpMonitorDoneFunc)(QmpMonitor *mon, void *opaque);

/*
 * Begin an orderly end: stop accepting sessions and reading requests,
 * drop requests not yet started, let each session write what is queued
 * for it (a session whose peer does not read is closed anyway after
 * TIMEOUT_MS milliseconds; 0 means no limit), close every session, then
 * call DONE (if not NULL) with OPAQUE from the main loop.  Safe from
 * command handlers: the running command's reply is still sent (a handler
 * of 'quit' emits SHUTDOWN, calls this and returns).  A second call
 * does nothing.  Free the monitor afterwards, from DONE or later.
 */
QAPIKIT_API void qmp_monitor_shutdown(QmpMonitor *mon, unsigned timeout_ms,
                                      QmpMonitorDoneFunc done, void *opaque);

G_END_DECLS

#endif /* QAPIKIT_MONITOR_H */
