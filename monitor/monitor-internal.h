/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor, internal: what its files share (docs/spec/qmp-protocol.md
 * §1-§5, §9-§11).
 *
 * Sessions, listeners and the scheduler.  A session reads into its JSON
 * reader, which queues requests (in-band, or out-of-band once
 * negotiated) and bad-input errors; replies and events are appended to a
 * session's output buffer and written by the turn that made them, or
 * when its stream polls writable if the write would block.  Sessions are
 * reference counted and closed lazily (a reaper in the main loop), so a
 * write failure noticed in the middle of a command never frees what the
 * command's caller still uses.
 *
 * One long-lived GSource per monitor (MonitorSource) does the work of a
 * main loop iteration: it polls the file descriptor of every session that
 * may be read (G_IO_IN) and of every session whose output would block
 * (G_IO_OUT), and when dispatched it first does the I/O of the sessions
 * that polled ready, then runs one turn of queued work, round robin over
 * the sessions (§11/3): a request is read and run in the same dispatch.
 * Its prepare function reports "work queued", so work left for the next
 * turn needs no wake-up either.  The source is never destroyed while the
 * monitor lives, and a session's descriptor is added to it or removed
 * only at the end of input, at shutdown, while output is held back
 * (§1/13), or when its output blocks or drains (session_update_reading(),
 * session_set_writing()): in the steady state one request costs one
 * poll, one read and one write.  GLib wakes its context up (an eventfd
 * write, then a read) whenever a descriptor is added or removed, and
 * around each dispatch of a source that may not recurse, whose
 * descriptors it removes and adds back: hence one source that may
 * recurse, with the turn itself guarded against nesting.  Streams with
 * no file descriptor (a GPollableInputStream of the embedder's) fall
 * back to a pollable source of their own, created and destroyed as
 * needed.
 *
 * The monitor's files: session.c (a session's lifetime, output and
 * input), scheduler.c (running queued requests and the monitor's
 * GSource), listeners.c (the monitor's unix, TCP and fd listeners, made
 * with listener.c (<qapikit/listener.h>), and the streams handed over),
 * builtins.c (the built-in commands) and monitor.c (the
 * monitor's lifetime, settings, events and shutdown).  Every function
 * declared here is private to libqapikit (hidden visibility).
 */
#ifndef QAPIKIT_MONITOR_INTERNAL_H
#define QAPIKIT_MONITOR_INTERNAL_H

#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit-monitor"
#endif

#include <qapikit/error.h>
#include <qapikit/listener.h>
#include <qapikit/monitor.h>
#include <qapikit/visitor.h>

#include "json-reader.h"
#include "json-writer.h"

#include <sys/types.h>

#define READ_CHUNK ((gssize)64 * 1024)
/* Work items run per turn of the main loop, over all sessions. */
#define ITEMS_PER_TURN 32
/*
 * Out-of-band requests that may wait per session: its input is not read
 * while this many do (§10/3).  Like the in-band limit it applies between
 * reads: what one read brought in is queued whole, and the session's
 * memory budget bounds what that holds.
 */
#define MAX_QUEUED_OOB ((guint)QMP_MONITOR_DEFAULT_MAX_QUEUED_OOB)
/* A busy session's output is written once this much has piled up. */
#define FLUSH_THRESHOLD ((size_t)64 * 1024)

typedef struct QmpSession QmpSession;

/*
 * A queued request (REQUEST, NULL being JSON null) or bad input (ERROR).
 * The request holds CHARGE bytes of BUDGET (its session's) until it is
 * freed: after it ran.
 */
typedef struct QueuedItem {
    json_object *request;
    GError *error;
    JsonBudget *budget;
    size_t charge;
} QueuedItem;

struct QmpSession {
    int refs;
    QmpMonitor *mon;
    GIOStream *stream;
    GInputStream *in;
    GOutputStream *out;
    bool in_pollable; /* else always ready (a regular file) */
    bool out_pollable;
    int in_fd;             /* polled by the monitor's source, or -1 */
    int out_fd;            /* likewise */
    gpointer in_tag;       /* IN_FD polled for G_IO_IN */
    gpointer out_tag;      /* OUT_FD polled for G_IO_OUT */
    GSource *read_source;  /* pollable streams with no fd only */
    GSource *write_source; /* likewise */
    bool reading;          /* input wanted (see session_update_reading) */
    bool writing;          /* output waits for the stream */
    JsonReader *reader;
    JsonBudget budget; /* of its requests, within mon->budget */
    GQueue inband;     /* of QueuedItem */
    GQueue oob;        /* of QueuedItem */
    GString *outbuf;   /* queued output; OUT_OFF bytes sent */
    size_t out_off;
    bool oob_offered;
    bool negotiated;
    bool oob_enabled;
    bool eof;       /* input ended */
    bool dead;      /* closed or closing: no more I/O */
    bool scheduled; /* in mon->runnable */
    bool is_stdio;
    bool busy; /* one of its requests is running */
};

struct QmpMonitor {
    QmpCommandList *cmds;
    GThread *thread; /* the one that created it (events) */
    GMainContext *context;
    int64_t version[3];
    char *package;
    bool offer_oob;
    const QLitObject *schema;
    /*
     * query-qmp-schema's reply, kept for the next one while SCHEMA and the
     * policy it was made under (SCHEMA_REPLY_POLICY) stay the same.
     */
    json_object *schema_reply;
    QapiCompatPolicy schema_reply_policy;
    JsonReaderLimits limits;
    JsonBudget budget;     /* of every session's requests */
    size_t session_memory; /* each session's budget */
    size_t max_queued;
    size_t pause_bytes;
    size_t drop_bytes;
    GPtrArray *listeners;  /* of QmpListener, owned */
    GQueue sessions;       /* of QmpSession, each holding a ref */
    GQueue runnable;       /* sessions with queued work, no ref */
    GPtrArray *dead;       /* closed sessions awaiting the reaper */
    GSource *source;       /* the MonitorSource, for the monitor's life */
    unsigned idle_readers; /* reading sessions with non-pollable input */
    bool in_turn;          /* a turn of queued work is running */
    GSource *reap_source;
    bool shutting_down;
    GSource *shutdown_timer;
    GSource *shutdown_source;
    QmpMonitorDoneFunc done;
    void *done_opaque;
    GSource *done_source;
    QmpMonitorClosedFunc closed;
    void *closed_opaque;
    char *read_buf; /* READ_CHUNK bytes, shared by sessions */
};

/* Whether this process's stdio serves a session. */
extern bool qmp_stdio_taken;

/*
 * §4 check 9 for the session OPAQUE: what the negotiation state allows
 * (§3).  Passed to qmp_dispatch_checked(), it also tells the built-in
 * commands that the session in their qmp_command_context() is one of
 * ours.
 */
bool monitor_session_check(const char *name, void *opaque, GError **errp);

/* Register the built-in commands into MON's command list. */
void monitor_register_builtins(QmpMonitor *mon);

/* Forget MON's cached query-qmp-schema reply (its schema changed). */
void monitor_forget_schema_reply(QmpMonitor *mon);

/* Free a QueuedItem (a GDestroyNotify). */
void queued_item_free(gpointer data);

/*
 * Sessions are reference counted: the monitor's list holds one, a
 * running command another.
 */
QmpSession *session_ref(QmpSession *s);
void session_unref(QmpSession *s);

/* Destroy and unref *SOURCE if set, and clear it. */
void monitor_destroy_source(GSource **source);

/* Bytes of output S has queued and not yet written. */
size_t session_unsent(const QmpSession *s);

/* Whether S has a request or a bad-input error queued. */
bool session_has_work(const QmpSession *s);

/*
 * End the session: no more input, output or commands.  Its memory goes
 * when the last reference does (the reaper's, or a running command's).
 */
void session_close(QmpSession *s);

/* Close S if it has nothing left to do after the end of its input. */
void session_maybe_finish(QmpSession *s);

/* Queue MSG (lent) for S, then apply the backlog rules of §1/13. */
void session_send(QmpSession *s, json_object *msg);

/*
 * Write what S has queued until the stream would block (then wait for it
 * to poll writable) or the queue is empty.  A write error closes S.
 */
void session_flush(QmpSession *s);

/* Read S once (it is readable, or its input cannot be polled). */
void session_read(QmpSession *s);

/*
 * Read S while it may: not after end of input, while too many in-band
 * or out-of-band requests wait (§10/3) or too much output is unsent
 * (§1/13).
 *
 * A session whose descriptor the monitor's source polls stays polled
 * while only the first of these holds (a "soft" pause): its queue is
 * being worked off, so the main loop does not sleep anyway and a
 * readable descriptor costs nothing, whereas removing and adding it
 * again would wake the context up twice per batch of pipelined
 * requests.  It is removed at the end of input, at shutdown and while
 * output is held back (nothing may be queued then: a peer that hung up
 * would make every poll return at once), and by a nested loop
 * (monitor_source_dispatch()).
 */
void session_update_reading(QmpSession *s);

/*
 * Wait for S's output stream to poll writable (WANT), or stop waiting.
 * Only pollable output streams ever wait.
 */
void session_set_writing(QmpSession *s, bool want);

/* The 'version' of MON's greeting and of query-version (a new object). */
json_object *monitor_version_object(const QmpMonitor *mon);

/*
 * Open a session of MON on STREAM (IS_STDIO: this process's stdio) and
 * greet it.
 */
bool session_open(QmpMonitor *mon, GIOStream *stream, bool is_stdio,
                  GError **errp);

/* Put S, which has work queued, in the round robin (§11/3). */
void monitor_schedule(QmpMonitor *mon, QmpSession *s);

/* MON's GSource, attached to its context for the monitor's life. */
GSource *monitor_source_new(QmpMonitor *mon);

/* During shutdown: call the done callback once no session is left. */
void monitor_check_done(QmpMonitor *mon);

#endif /* QAPIKIT_MONITOR_INTERNAL_H */
