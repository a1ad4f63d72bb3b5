/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the QMP server (docs/spec/qmp-protocol.md §1-§5, §9-§11).
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
 */

#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit-monitor"
#endif

#include <qapikit/error.h>
#include <qapikit/monitor.h>
#include <qapikit/visitor.h>

#include "json-reader.h"
#include "json-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gfiledescriptorbased.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>

#define READ_CHUNK ((gssize)64 * 1024)
/* Work items run per turn of the main loop, over all sessions. */
#define ITEMS_PER_TURN 32
/* A busy session's output is written once this much has piled up. */
#define FLUSH_THRESHOLD ((size_t)64 * 1024)

typedef struct QmpSession QmpSession;

/* A queued request (REQUEST, NULL being JSON null) or bad input (ERROR). */
typedef struct QueuedItem {
    json_object *request;
    GError *error;
} QueuedItem;

struct QmpSession {
    int refs;
    QmpMonitor *mon;
    GIOStream *stream;
    GInputStream *in;
    GOutputStream *out;
    bool in_pollable;           /* else always ready (a regular file) */
    bool out_pollable;
    int in_fd;                  /* polled by the monitor's source, or -1 */
    int out_fd;                 /* likewise */
    gpointer in_tag;            /* IN_FD polled for G_IO_IN */
    gpointer out_tag;           /* OUT_FD polled for G_IO_OUT */
    GSource *read_source;       /* pollable streams with no fd only */
    GSource *write_source;      /* likewise */
    bool reading;               /* input wanted (see session_update_reading) */
    bool writing;               /* output waits for the stream */
    JsonReader *reader;
    GQueue inband;              /* of QueuedItem */
    GQueue oob;                 /* of QueuedItem */
    GString *outbuf;            /* queued output; OUT_OFF bytes sent */
    size_t out_off;
    bool oob_offered;
    bool negotiated;
    bool oob_enabled;
    bool eof;                   /* input ended */
    bool dead;                  /* closed or closing: no more I/O */
    bool scheduled;             /* in mon->runnable */
    bool is_stdio;
    bool busy;                  /* one of its requests is running */
};

typedef struct QmpListener {
    QmpMonitor *mon;
    GSocket *socket;
    GSource *source;
    char *unix_path;            /* a socket file to remove, or NULL */
    dev_t dev;
    ino_t ino;
} QmpListener;

struct QmpMonitor {
    QmpCommandList *cmds;
    GMainContext *context;
    int64_t version[3];
    char *package;
    bool offer_oob;
    const QLitObject *schema;
    JsonReaderLimits limits;
    size_t max_queued;
    size_t pause_bytes;
    size_t drop_bytes;
    GPtrArray *listeners;       /* of QmpListener */
    GQueue sessions;            /* of QmpSession, each holding a ref */
    GQueue runnable;            /* sessions with queued work, no ref */
    GPtrArray *dead;            /* closed sessions awaiting the reaper */
    GSource *source;            /* the MonitorSource, for the monitor's life */
    unsigned idle_readers;      /* reading sessions with non-pollable input */
    bool in_turn;               /* a turn of queued work is running */
    GSource *reap_source;
    bool shutting_down;
    GSource *shutdown_timer;
    GSource *shutdown_source;
    QmpMonitorDoneFunc done;
    void *done_opaque;
    GSource *done_source;
    QmpMonitorClosedFunc closed;
    void *closed_opaque;
    char *read_buf;             /* READ_CHUNK bytes, shared by sessions */
};

/* The session whose request runs now, for the built-in commands. */
static _Thread_local QmpSession *running_session;
/* Whether this process's stdio serves a session. */
static bool stdio_taken;

static void session_close(QmpSession *s);
static void session_flush(QmpSession *s);
static void session_read(QmpSession *s);
static void session_update_reading(QmpSession *s);
static void session_set_writing(QmpSession *s, bool want);
static void monitor_schedule(QmpMonitor *mon, QmpSession *s);
static void monitor_check_done(QmpMonitor *mon);

/* ---- sessions: lifetime ---- */

static void queued_item_free(gpointer data)
{
    QueuedItem *item = data;

    json_object_put(item->request);
    if (item->error) {
        g_error_free(item->error);
    }
    g_free(item);
}

static QmpSession *session_ref(QmpSession *s)
{
    s->refs++;
    return s;
}

static void session_unref(QmpSession *s)
{
    if (--s->refs) {
        return;
    }
    g_queue_clear_full(&s->inband, queued_item_free);
    g_queue_clear_full(&s->oob, queued_item_free);
    json_reader_free(s->reader);
    if (s->outbuf) {
        g_string_free(s->outbuf, TRUE);
    }
    g_clear_object(&s->stream);
    g_free(s);
}

static void destroy_source(GSource **source)
{
    if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

static size_t session_unsent(const QmpSession *s)
{
    return s->outbuf->len - s->out_off;
}

static bool session_has_work(const QmpSession *s)
{
    return s->oob.length || s->inband.length;
}

static gboolean reap_cb(gpointer opaque)
{
    QmpMonitor *mon = opaque;
    g_autoptr(GPtrArray) dead = mon->dead;

    mon->dead = g_ptr_array_new();
    g_source_unref(mon->reap_source);
    mon->reap_source = NULL;
    for (guint i = 0; i < dead->len; i++) {
        QmpSession *s = dead->pdata[i];

        if (!s->is_stdio) {
            g_io_stream_close(s->stream, NULL, NULL);
        }
        session_unref(s);
    }
    if (mon->closed) {
        mon->closed(mon, mon->sessions.length, mon->closed_opaque);
    }
    monitor_check_done(mon);
    return G_SOURCE_REMOVE;
}

/*
 * End the session: no more input, output or commands.  Its memory goes
 * when the last reference does (the reaper's, or a running command's).
 */
static void session_close(QmpSession *s)
{
    QmpMonitor *mon = s->mon;

    if (s->dead) {
        return;
    }
    s->dead = true;
    /* No descriptor of S stays polled: the reaper closes them. */
    session_update_reading(s);
    session_set_writing(s, false);
    g_queue_clear_full(&s->inband, queued_item_free);
    g_queue_clear_full(&s->oob, queued_item_free);
    g_string_truncate(s->outbuf, 0);
    s->out_off = 0;
    if (s->scheduled) {
        g_queue_remove(&mon->runnable, s);
        s->scheduled = false;
    }
    if (s->is_stdio) {
        stdio_taken = false;
    }
    g_queue_remove(&mon->sessions, s);
    /* The sessions queue's reference passes to the reaper. */
    g_ptr_array_add(mon->dead, s);
    if (!mon->reap_source) {
        mon->reap_source = g_idle_source_new();
        g_source_set_priority(mon->reap_source, G_PRIORITY_DEFAULT);
        g_source_set_callback(mon->reap_source, reap_cb, mon, NULL);
        g_source_attach(mon->reap_source, mon->context);
    }
}

/* Close S if it has nothing left to do after the end of its input. */
static void session_maybe_finish(QmpSession *s)
{
    if (!s->dead && !s->busy && (s->eof || s->mon->shutting_down)
        && !session_has_work(s) && !session_unsent(s)) {
        session_close(s);
    }
}

/* ---- sessions: output ---- */

/* Queue MSG (lent) for S, then apply the backlog rules of §1/13. */
static void session_send(QmpSession *s, json_object *msg)
{
    size_t unsent;

    if (s->dead) {
        return;
    }
    qmp_append_message(s->outbuf, msg);
    unsent = session_unsent(s);
    if (unsent > s->mon->drop_bytes) {
        g_warning("closing a QMP session: %zu bytes of output unsent "
                  "(limit %zu); the client does not read", unsent,
                  s->mon->drop_bytes);
        session_close(s);
        return;
    }
    if (unsent > s->mon->pause_bytes) {
        session_update_reading(s);
    }
}

static gboolean write_ready_cb(GObject *stream, gpointer opaque)
{
    QmpSession *s = opaque;

    (void)stream;
    session_ref(s);
    session_flush(s);
    session_unref(s);
    return G_SOURCE_CONTINUE;
}

/*
 * Wait for S's output stream to poll writable (WANT), or stop waiting.
 * Only pollable output streams ever wait.
 */
static void session_set_writing(QmpSession *s, bool want)
{
    QmpMonitor *mon = s->mon;

    if (want == s->writing) {
        return;
    }
    s->writing = want;
    if (s->out_fd >= 0) {
        if (want) {
            s->out_tag = g_source_add_unix_fd(mon->source, s->out_fd,
                                              G_IO_OUT);
        } else {
            g_source_remove_unix_fd(mon->source, s->out_tag);
            s->out_tag = NULL;
        }
    } else if (want) {
        s->write_source = g_pollable_output_stream_create_source(
            G_POLLABLE_OUTPUT_STREAM(s->out), NULL);
        g_source_set_callback(s->write_source,
                              (GSourceFunc)(void (*)(void))write_ready_cb,
                              s, NULL);
        g_source_attach(s->write_source, mon->context);
    } else {
        destroy_source(&s->write_source);
    }
}

/*
 * Write what S has queued until the stream would block (then wait for it
 * to poll writable) or the queue is empty.  A write error closes S.
 */
static void session_flush(QmpSession *s)
{
    while (!s->dead && session_unsent(s)) {
        g_autoptr(GError) err = NULL;
        gssize n = s->out_pollable
            ? g_pollable_output_stream_write_nonblocking(
                  G_POLLABLE_OUTPUT_STREAM(s->out),
                  s->outbuf->str + s->out_off, session_unsent(s), NULL, &err)
            : g_output_stream_write(s->out, s->outbuf->str + s->out_off,
                                    session_unsent(s), NULL, &err);

        if (n < 0) {
            if (s->out_pollable
                && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                /* Keep the buffer from growing with what was sent. */
                if (s->out_off >= FLUSH_THRESHOLD
                    && s->out_off >= session_unsent(s)) {
                    g_string_erase(s->outbuf, 0, (gssize)s->out_off);
                    s->out_off = 0;
                }
                session_set_writing(s, true);
                return;
            }
            g_debug("QMP session: write failed: %s", err->message);
            session_close(s);
            return;
        }
        s->out_off += (size_t)n;
    }
    if (s->dead) {
        return;
    }
    g_string_truncate(s->outbuf, 0);
    s->out_off = 0;
    session_set_writing(s, false);
    if (session_has_work(s)) {
        monitor_schedule(s->mon, s); /* held by the output backlog */
    }
    session_update_reading(s);
    session_maybe_finish(s);
}

/* ---- sessions: input ---- */

static void queue_item(QmpSession *s, GQueue *queue, json_object *request,
                       const GError *error)
{
    QueuedItem *item = g_new0(QueuedItem, 1);

    item->request = request;
    item->error = error ? g_error_copy(error) : NULL;
    g_queue_push_tail(queue, item);
    monitor_schedule(s->mon, s);
}

static void reader_value_cb(json_object *value, void *opaque)
{
    QmpSession *s = opaque;

    if (s->dead || s->mon->shutting_down) {
        json_object_put(value);
        return;
    }
    if (s->oob_enabled && qmp_is_oob(value)) {
        queue_item(s, &s->oob, value, NULL);
    } else {
        queue_item(s, &s->inband, value, NULL);
    }
}

static void reader_error_cb(const GError *err, void *opaque)
{
    QmpSession *s = opaque;

    if (!s->dead && !s->mon->shutting_down) {
        queue_item(s, &s->inband, NULL, err);
    }
}

/* Read S once (it is readable, or its input cannot be polled). */
static void session_read(QmpSession *s)
{
    g_autoptr(GError) err = NULL;
    char *buf = s->mon->read_buf;
    gssize n;

    n = s->in_pollable
        ? g_pollable_input_stream_read_nonblocking(
              G_POLLABLE_INPUT_STREAM(s->in), buf, READ_CHUNK, NULL, &err)
        : g_input_stream_read(s->in, buf, READ_CHUNK, NULL, &err);
    if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
        return;
    }
    session_ref(s);
    if (n > 0) {
        json_reader_feed(s->reader, buf, (size_t)n);
    } else {
        if (n < 0) {
            g_debug("QMP session: read failed: %s", err->message);
        }
        /* §1/12: complete requests still run, the rest is dropped. */
        json_reader_end(s->reader);
        s->eof = true;
    }
    session_update_reading(s);
    session_maybe_finish(s);
    session_unref(s);
}

static gboolean read_ready_cb(GObject *stream, gpointer opaque)
{
    (void)stream;
    session_read(opaque);
    return G_SOURCE_CONTINUE;
}

/*
 * Read S while it may: not after end of input, while too many in-band
 * requests wait (§10/3) or too much output is unsent (§1/13).
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
static void session_update_reading(QmpSession *s)
{
    QmpMonitor *mon = s->mon;
    bool may = !s->dead && !s->eof && !mon->shutting_down
        && session_unsent(s) <= mon->pause_bytes;
    bool want = may && g_queue_get_length(&s->inband) < mon->max_queued;

    if (s->in_fd >= 0) {
        s->reading = want;
        if (want && !s->in_tag) {
            s->in_tag = g_source_add_unix_fd(mon->source, s->in_fd, G_IO_IN);
        } else if (!may && s->in_tag) {
            g_source_remove_unix_fd(mon->source, s->in_tag);
            s->in_tag = NULL;
        }
        return;
    }
    if (want == s->reading) {
        return;
    }
    s->reading = want;
    if (!s->in_pollable) {
        /* Always ready: the monitor's source reads it every iteration. */
        if (want) {
            mon->idle_readers++;
        } else {
            mon->idle_readers--;
        }
    } else if (want) {
        s->read_source = g_pollable_input_stream_create_source(
            G_POLLABLE_INPUT_STREAM(s->in), NULL);
        g_source_set_callback(s->read_source,
                              (GSourceFunc)(void (*)(void))read_ready_cb, s,
                              NULL);
        g_source_attach(s->read_source, mon->context);
    } else {
        destroy_source(&s->read_source);
    }
}

static json_object *version_object(const QmpMonitor *mon)
{
    json_object *version = json_object_new_object();
    json_object *qemu = json_object_new_object();

    json_object_object_add(qemu, "micro",
                           json_object_new_int64(mon->version[2]));
    json_object_object_add(qemu, "minor",
                           json_object_new_int64(mon->version[1]));
    json_object_object_add(qemu, "major",
                           json_object_new_int64(mon->version[0]));
    json_object_object_add(version, "qemu", qemu);
    json_object_object_add(version, "package",
                           json_object_new_string(mon->package));
    return version;
}

static void session_greet(QmpSession *s)
{
    json_object *greeting = json_object_new_object();
    json_object *qmp = json_object_new_object();
    json_object *caps = json_object_new_array();

    if (s->oob_offered) {
        json_object_array_add(caps, json_object_new_string("oob"));
    }
    json_object_object_add(qmp, "version", version_object(s->mon));
    json_object_object_add(qmp, "capabilities", caps);
    json_object_object_add(greeting, "QMP", qmp);
    session_send(s, greeting);
    json_object_put(greeting);
}

/* The file descriptor under STREAM, or -1 if it has none. */
static int stream_fd(gpointer stream)
{
    return G_IS_FILE_DESCRIPTOR_BASED(stream)
        ? g_file_descriptor_based_get_fd(G_FILE_DESCRIPTOR_BASED(stream))
        : -1;
}

static bool session_open(QmpMonitor *mon, GIOStream *stream, bool is_stdio,
                         GError **errp)
{
    GInputStream *in = g_io_stream_get_input_stream(stream);
    GOutputStream *out = g_io_stream_get_output_stream(stream);
    QmpSession *s;

    if (mon->shutting_down) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "the monitor is shutting down");
        return false;
    }
    s = g_new0(QmpSession, 1);
    s->refs = 1;
    s->mon = mon;
    s->stream = g_object_ref(stream);
    s->in = in;
    s->out = out;
    s->in_pollable = G_IS_POLLABLE_INPUT_STREAM(in)
        && g_pollable_input_stream_can_poll(G_POLLABLE_INPUT_STREAM(in));
    s->out_pollable = G_IS_POLLABLE_OUTPUT_STREAM(out)
        && g_pollable_output_stream_can_poll(G_POLLABLE_OUTPUT_STREAM(out));
    s->in_fd = s->in_pollable ? stream_fd(in) : -1;
    s->out_fd = s->out_pollable ? stream_fd(out) : -1;
    s->reader = json_reader_new(&mon->limits, reader_value_cb,
                                reader_error_cb, s);
    g_queue_init(&s->inband);
    g_queue_init(&s->oob);
    s->outbuf = g_string_sized_new(256);
    s->oob_offered = mon->offer_oob;
    s->is_stdio = is_stdio;
    g_queue_push_tail(&mon->sessions, s);
    session_greet(s);
    session_flush(s);
    session_update_reading(s);
    return true;
}

/* ---- the scheduler ---- */

/* §4 check 9: what the negotiation state allows (§3). */
static bool session_check(const char *name, void *opaque, GError **errp)
{
    QmpSession *s = opaque;
    bool is_caps = !strcmp(name, "qmp_capabilities");

    if (!s->negotiated && !is_caps) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                    "command '%s' is not available yet: send "
                    "'qmp_capabilities' first", name);
        return false;
    }
    if (s->negotiated && is_caps) {
        g_set_error_literal(errp, QAPI_ERROR,
                            QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                            "command 'qmp_capabilities': capabilities were "
                            "already negotiated");
        return false;
    }
    return true;
}

/* Run S's next item: out-of-band first (§10/3). */
static void session_run_one(QmpSession *s)
{
    QmpMonitor *mon = s->mon;
    QueuedItem *item = g_queue_pop_head(&s->oob);
    json_object *resp;

    if (!item) {
        item = g_queue_pop_head(&s->inband);
    }
    if (!item) {
        return;
    }
    session_ref(s);
    if (item->error) {
        resp = qmp_error_response(item->error, NULL);
    } else {
        QmpSession *outer = running_session;

        running_session = s;
        s->busy = true;
        resp = qmp_dispatch_checked(mon->cmds, item->request, s->oob_enabled,
                                    session_check, s);
        s->busy = false;
        running_session = outer;
    }
    queued_item_free(item);
    if (resp) {
        /* §11/6: a session that closed meanwhile drops the reply. */
        session_send(s, resp);
        json_object_put(resp);
    }
    if (!s->dead) {
        if (!session_has_work(s) || session_unsent(s) >= FLUSH_THRESHOLD) {
            session_flush(s);
        }
        session_update_reading(s);
        session_maybe_finish(s);
    }
    session_unref(s);
}

/* Whether a turn of queued work may run now. */
static bool monitor_has_turn(const QmpMonitor *mon)
{
    return !mon->shutting_down && !mon->in_turn && mon->runnable.length;
}

/*
 * Run up to ITEMS_PER_TURN queued items, one at a time, round robin over
 * the sessions that have one (§11/3).  A command handler that iterates
 * the main context (a nested loop) gets no turn inside it: commands
 * never run concurrently (§11/4).
 */
static void monitor_run_turn(QmpMonitor *mon)
{
    if (!monitor_has_turn(mon)) {
        return;
    }
    mon->in_turn = true;
    for (int i = 0; i < ITEMS_PER_TURN && !mon->shutting_down
                    && !g_queue_is_empty(&mon->runnable);
         i++) {
        QmpSession *s = g_queue_pop_head(&mon->runnable);

        s->scheduled = false;
        if (!s->oob.length && session_unsent(s) > mon->pause_bytes) {
            /*
             * §1/13: while more than pause_bytes of S's output is unsent,
             * its in-band requests wait too, not only its input: one
             * read may hold thousands of them.  session_flush()
             * schedules S again once its output has drained.
             */
            continue;
        }
        session_run_one(s);
        if (!s->dead && session_has_work(s) && !s->scheduled) {
            s->scheduled = true;
            g_queue_push_tail(&mon->runnable, s);
        }
    }
    mon->in_turn = false;
}

/* Put S, which has work queued, in the round robin (§11/3). */
static void monitor_schedule(QmpMonitor *mon, QmpSession *s)
{
    if (mon->shutting_down) {
        return;
    }
    if (!s->scheduled && !s->dead) {
        s->scheduled = true;
        g_queue_push_tail(&mon->runnable, s);
    }
}

/* ---- the monitor's source ---- */

typedef struct MonitorSource {
    GSource base;
    QmpMonitor *mon;
} MonitorSource;

/*
 * Ready without polling when work is queued, or a session with an input
 * that cannot be polled (a regular file) wants reading; else GLib polls
 * the descriptors and dispatches the source when one of them is ready.
 */
static gboolean monitor_source_prepare(GSource *source, gint *timeout)
{
    QmpMonitor *mon = ((MonitorSource *)source)->mon;

    *timeout = -1;
    return monitor_has_turn(mon) || mon->idle_readers;
}

/* The I/O of the sessions that are ready, then one turn of work. */
static gboolean monitor_source_dispatch(GSource *source, GSourceFunc cb,
                                        gpointer data)
{
    QmpMonitor *mon = ((MonitorSource *)source)->mon;

    (void)cb;
    (void)data;
    for (GList *link = mon->sessions.head; link;) {
        QmpSession *s = link->data;
        GIOCondition out = s->out_tag
            ? g_source_query_unix_fd(source, s->out_tag) : 0;
        GIOCondition in = s->in_tag
            ? g_source_query_unix_fd(source, s->in_tag) : 0;

        /*
         * Only S may close here (no command runs), and a closed session
         * leaves the list: take the next one first.
         */
        link = link->next;
        if (in && !s->reading && mon->in_turn) {
            /*
             * Soft-paused (session_update_reading()) in a nested loop,
             * where no command runs: stop polling it, or the loop would
             * spin.  Reading resumes when the queue has room.
             */
            g_source_remove_unix_fd(source, s->in_tag);
            s->in_tag = NULL;
            in = 0;
        }
        if (!out && !in && (s->in_pollable || !s->reading)) {
            continue;
        }
        session_ref(s);
        if (out) {
            session_flush(s);
        }
        if (!s->dead && s->reading && (in || !s->in_pollable)) {
            session_read(s);
        }
        session_unref(s);
    }
    monitor_run_turn(mon);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs monitor_source_funcs = {
    .prepare = monitor_source_prepare,
    .dispatch = monitor_source_dispatch,
};

static GSource *monitor_source_new(QmpMonitor *mon)
{
    GSource *source = g_source_new(&monitor_source_funcs,
                                   sizeof(MonitorSource));

    ((MonitorSource *)source)->mon = mon;
    g_source_set_name(source, "qapikit-monitor");
    /*
     * Dispatched without being blocked, i.e. without GLib removing and
     * re-adding its descriptors (and waking the context up twice) around
     * every dispatch.  Recursion (a nested loop in a command handler)
     * only does I/O: monitor_run_turn() refuses to nest.
     */
    g_source_set_can_recurse(source, TRUE);
    g_source_attach(source, mon->context);
    return source;
}

/* ---- the built-in commands (§3) ---- */

/* ARGS must be empty: name its first member. */
static bool check_no_arguments(json_object *args, GError **errp)
{
    json_object_object_foreach(args, key, value) {
        (void)value;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is not an expected member", key);
        return false;
    }
    return true;
}

static QmpSession *builtin_session(const char *command, GError **errp)
{
    if (!running_session) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "command '%s' runs only in a QMP monitor session",
                    command);
    }
    return running_session;
}

static bool marshal_qmp_capabilities(json_object *args, json_object **ret,
                                     GError **errp)
{
    QmpSession *s = builtin_session("qmp_capabilities", errp);
    json_object *enable = NULL;
    bool want_oob = false;

    if (!s) {
        return false;
    }
    json_object_object_foreach(args, key, value) {
        if (strcmp(key, "enable")) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "'%s' is not an expected member", key);
            return false;
        }
        enable = value;
    }
    if (json_object_object_get_ex(args, "enable", NULL)) {
        size_t i, len;

        if (!json_object_is_type(enable, json_type_array)) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "'enable': expected array, got %s",
                        enable ? json_type_to_name(json_object_get_type(
                                     enable))
                               : "null");
            return false;
        }
        len = json_object_array_length(enable);
        for (i = 0; i < len; i++) {
            json_object *cap = json_object_array_get_idx(enable, i);
            const char *name;

            if (!json_object_is_type(cap, json_type_string)) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': expected string, got %s", i,
                            cap ? json_type_to_name(json_object_get_type(
                                      cap))
                                : "null");
                return false;
            }
            name = json_object_get_string(cap);
            if (strcmp(name, "oob")
                || strlen(name) != (size_t)json_object_get_string_len(cap)) {
                g_autofree char *shown = NULL;
                g_autoptr(GString) ascii = g_string_new(NULL);

                /* The name may hold anything: show it escaped. */
                shown = g_strescape(name, NULL);
                qmp_append_ascii(ascii, shown, strlen(shown));
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': '%s' is not a value of the enum "
                            "(expected 'oob')", i, ascii->str);
                return false;
            }
            if (!s->oob_offered) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': capability 'oob' is not offered "
                            "by this server", i);
                return false;
            }
            want_oob = true;
        }
    }
    s->negotiated = true;
    s->oob_enabled = want_oob;
    *ret = json_object_new_object();
    return true;
}

static bool marshal_query_version(json_object *args, json_object **ret,
                                  GError **errp)
{
    QmpSession *s = builtin_session("query-version", errp);

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    *ret = version_object(s->mon);
    return true;
}

static void add_command_info(const QmpCommandInfo *info, void *opaque)
{
    json_object *list = opaque;
    json_object *entry;

    /* qmp_capabilities included, as QEMU lists it (docs/spec/qmp-protocol.md
     * §3/2) */
    if (!info->enabled
        || qapi_compat_policy_refuses(info->special_features)) {
        return;
    }
    entry = json_object_new_object();
    json_object_object_add(entry, "name", json_object_new_string(info->name));
    json_object_array_add(list, entry);
}

static bool marshal_query_commands(json_object *args, json_object **ret,
                                   GError **errp)
{
    QmpSession *s = builtin_session("query-commands", errp);
    json_object *list;

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    list = json_object_new_array();
    qmp_for_each_command(s->mon->cmds, add_command_info, list);
    *ret = list;
    return true;
}

static bool marshal_query_qmp_schema(json_object *args, json_object **ret,
                                     GError **errp)
{
    QmpSession *s = builtin_session("query-qmp-schema", errp);

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    *ret = s->mon->schema ? qapi_introspect_schema(s->mon->schema)
                          : json_object_new_array();
    return true;
}

/* ---- the monitor ---- */

QmpMonitor *qmp_monitor_new(QmpCommandList *commands, GMainContext *context)
{
    QmpMonitor *mon;

    g_return_val_if_fail(commands != NULL, NULL);

    mon = g_new0(QmpMonitor, 1);
    mon->cmds = commands;
    mon->context = context ? g_main_context_ref(context)
                           : g_main_context_ref_thread_default();
    mon->package = g_strdup("");
    mon->offer_oob = true;
    mon->limits.max_bytes = QMP_MONITOR_DEFAULT_MAX_REQUEST_BYTES;
    mon->limits.max_depth = QMP_MONITOR_DEFAULT_MAX_DEPTH;
    mon->limits.max_tokens = QMP_MONITOR_DEFAULT_MAX_TOKENS;
    mon->max_queued = QMP_MONITOR_DEFAULT_MAX_QUEUED;
    mon->pause_bytes = QMP_MONITOR_DEFAULT_OUTPUT_PAUSE;
    mon->drop_bytes = QMP_MONITOR_DEFAULT_OUTPUT_DROP;
    mon->listeners = g_ptr_array_new();
    g_queue_init(&mon->sessions);
    g_queue_init(&mon->runnable);
    mon->dead = g_ptr_array_new();
    mon->read_buf = g_malloc(READ_CHUNK);
    mon->source = monitor_source_new(mon);

    qmp_register_command(commands, "qmp_capabilities",
                         marshal_qmp_capabilities, QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-version", marshal_query_version,
                         QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-commands", marshal_query_commands,
                         QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-qmp-schema",
                         marshal_query_qmp_schema, QCO_ALLOW_PRECONFIG, 0);
    return mon;
}

static void listener_free(QmpListener *l)
{
    struct stat st;

    destroy_source(&l->source);
    if (l->socket) {
        g_socket_close(l->socket, NULL);
        g_object_unref(l->socket);
    }
    /* Remove the socket file only if it is still the one we made. */
    if (l->unix_path && lstat(l->unix_path, &st) == 0
        && st.st_dev == l->dev && st.st_ino == l->ino) {
        unlink(l->unix_path);
    }
    g_free(l->unix_path);
    g_free(l);
}

void qmp_monitor_free(QmpMonitor *mon)
{
    if (!mon) {
        return;
    }
    while (!g_queue_is_empty(&mon->sessions)) {
        session_close(g_queue_peek_head(&mon->sessions));
    }
    for (guint i = 0; i < mon->dead->len; i++) {
        QmpSession *s = mon->dead->pdata[i];

        if (!s->is_stdio) {
            g_io_stream_close(s->stream, NULL, NULL);
        }
        session_unref(s);
    }
    g_ptr_array_free(mon->dead, TRUE);
    destroy_source(&mon->reap_source);
    destroy_source(&mon->source);
    destroy_source(&mon->shutdown_timer);
    destroy_source(&mon->shutdown_source);
    destroy_source(&mon->done_source);
    g_queue_clear(&mon->runnable);
    for (guint i = 0; i < mon->listeners->len; i++) {
        listener_free(mon->listeners->pdata[i]);
    }
    g_ptr_array_free(mon->listeners, TRUE);
    g_main_context_unref(mon->context);
    g_free(mon->package);
    g_free(mon->read_buf);
    g_free(mon);
}

void qmp_monitor_set_version(QmpMonitor *mon, int64_t major, int64_t minor,
                             int64_t micro, const char *package)
{
    g_return_if_fail(mon != NULL);

    mon->version[0] = major;
    mon->version[1] = minor;
    mon->version[2] = micro;
    g_free(mon->package);
    mon->package = g_strdup(package ? package : "");
}

void qmp_monitor_set_schema(QmpMonitor *mon, const QLitObject *schema)
{
    g_return_if_fail(mon != NULL);
    mon->schema = schema;
}

void qmp_monitor_set_oob(QmpMonitor *mon, bool offer)
{
    g_return_if_fail(mon != NULL);
    mon->offer_oob = offer;
}

void qmp_monitor_set_request_limits(QmpMonitor *mon, size_t max_bytes,
                                    size_t max_depth, size_t max_tokens)
{
    g_return_if_fail(mon != NULL);
    if (max_bytes) {
        mon->limits.max_bytes = max_bytes;
    }
    if (max_depth) {
        mon->limits.max_depth = max_depth;
    }
    if (max_tokens) {
        mon->limits.max_tokens = max_tokens;
    }
}

void qmp_monitor_set_flow_limits(QmpMonitor *mon, size_t max_queued,
                                 size_t pause_bytes, size_t drop_bytes)
{
    g_return_if_fail(mon != NULL);
    if (max_queued) {
        mon->max_queued = max_queued;
    }
    if (pause_bytes) {
        mon->pause_bytes = pause_bytes;
    }
    if (drop_bytes) {
        mon->drop_bytes = drop_bytes;
    }
    if (mon->drop_bytes < mon->pause_bytes) {
        mon->drop_bytes = mon->pause_bytes;
    }
}

void qmp_monitor_set_closed_func(QmpMonitor *mon, QmpMonitorClosedFunc fn,
                                 void *opaque)
{
    g_return_if_fail(mon != NULL);
    mon->closed = fn;
    mon->closed_opaque = opaque;
}

unsigned qmp_monitor_session_count(const QmpMonitor *mon)
{
    g_return_val_if_fail(mon != NULL, 0);
    return mon->sessions.length;
}

bool qmp_monitor_add_stream(QmpMonitor *mon, GIOStream *stream,
                            GError **errp)
{
    g_return_val_if_fail(mon != NULL, false);
    g_return_val_if_fail(G_IS_IO_STREAM(stream), false);

    return session_open(mon, stream, false, errp);
}

bool qmp_monitor_add_stdio(QmpMonitor *mon, GError **errp)
{
    g_autoptr(GInputStream) in = NULL;
    g_autoptr(GOutputStream) out = NULL;
    g_autoptr(GIOStream) stream = NULL;

    g_return_val_if_fail(mon != NULL, false);

    if (stdio_taken) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "standard input and output already serve a QMP "
                            "session");
        return false;
    }
    if (!g_unix_set_fd_nonblocking(STDIN_FILENO, TRUE, errp)
        || !g_unix_set_fd_nonblocking(STDOUT_FILENO, TRUE, errp)) {
        g_prefix_error(errp, "stdio: ");
        return false;
    }
    in = g_unix_input_stream_new(STDIN_FILENO, FALSE);
    out = g_unix_output_stream_new(STDOUT_FILENO, FALSE);
    stream = g_simple_io_stream_new(in, out);
    if (!session_open(mon, stream, true, errp)) {
        return false;
    }
    stdio_taken = true;
    return true;
}

/* ---- listeners ---- */

static gboolean accept_cb(GSocket *socket, GIOCondition cond,
                          gpointer opaque)
{
    QmpListener *l = opaque;
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocket) conn = NULL;
    g_autoptr(GSocketConnection) stream = NULL;

    (void)socket;
    (void)cond;
    conn = g_socket_accept(l->socket, NULL, &err);
    if (!conn) {
        if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_warning("QMP: accepting a connection failed: %s",
                      err->message);
        }
        return G_SOURCE_CONTINUE;
    }
    g_socket_set_blocking(conn, FALSE);
    stream = g_socket_connection_factory_create_connection(conn);
    if (!session_open(l->mon, G_IO_STREAM(stream), false, &err)) {
        g_warning("QMP: %s", err->message);
    }
    return G_SOURCE_CONTINUE;
}

/*
 * Listen on SOCKET (bound) with the largest backlog the system allows:
 * GLib's default of 10 refuses the 12th of a burst of connections made
 * before the main loop runs (EAGAIN for a non-blocking unix connect).
 */
static bool socket_listen(GSocket *socket, GError **errp)
{
    g_socket_set_listen_backlog(socket, SOMAXCONN);
    return g_socket_listen(socket, errp);
}

/* Start accepting on SOCKET (a listening socket; the listener takes it). */
static QmpListener *listener_start(QmpMonitor *mon, GSocket *socket)
{
    QmpListener *l = g_new0(QmpListener, 1);

    l->mon = mon;
    l->socket = socket;
    g_socket_set_blocking(socket, FALSE);
    if (!mon->shutting_down) {
        l->source = g_socket_create_source(socket, G_IO_IN, NULL);
        g_source_set_callback(l->source,
                              (GSourceFunc)(void (*)(void))accept_cb, l,
                              NULL);
        g_source_attach(l->source, mon->context);
    }
    g_ptr_array_add(mon->listeners, l);
    return l;
}

/*
 * Whether a server listens on the unix socket PATH: a connect() that
 * succeeds says so.
 */
static bool unix_socket_is_live(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool live;

    if (fd < 0) {
        return false;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    /* EAGAIN: a full backlog, so someone listens. */
    live = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0
        || errno == EAGAIN;
    close(fd);
    return live;
}

bool qmp_monitor_listen_unix(QmpMonitor *mon, const char *path,
                             unsigned mode, char **address, GError **errp)
{
    g_autoptr(GSocket) socket = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    QmpListener *l;
    struct stat st;

    g_return_val_if_fail(mon != NULL, false);
    g_return_val_if_fail(path != NULL, false);

    if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unix socket path '%s' is empty or too long (at most "
                    "%zu bytes)", path,
                    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return false;
    }
    if (mode & ~0777u) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unix socket '%s': mode %o is not a permission mode",
                    path, mode);
        return false;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "'%s' exists and is not a socket: not replaced",
                        path);
            return false;
        }
        if (unix_socket_is_live(path)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                        "'%s': another server listens on this socket",
                        path);
            return false;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            int saved = errno;

            g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(saved),
                        "cannot remove the stale socket '%s': %s", path,
                        g_strerror(saved));
            return false;
        }
    }
    socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                          G_SOCKET_PROTOCOL_DEFAULT, errp);
    if (!socket) {
        return false;
    }
    /*
     * Linux creates the file with the socket's inode mode less the umask:
     * start no wider than MODE, then set MODE exactly.
     */
    (void)fchmod(g_socket_get_fd(socket), mode);
    addr = g_unix_socket_address_new(path);
    if (!g_socket_bind(socket, addr, FALSE, errp)) {
        g_prefix_error(errp, "unix socket '%s': ", path);
        return false;
    }
    if (chmod(path, mode) < 0 || lstat(path, &st) < 0) {
        int saved = errno;

        unlink(path);
        g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(saved),
                    "unix socket '%s': cannot set its mode: %s", path,
                    g_strerror(saved));
        return false;
    }
    if (!socket_listen(socket, errp)) {
        unlink(path);
        g_prefix_error(errp, "unix socket '%s': ", path);
        return false;
    }
    l = listener_start(mon, g_steal_pointer(&socket));
    l->unix_path = g_strdup(path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    if (address) {
        *address = g_strdup_printf("unix:%s", path);
    }
    return true;
}

/* The address of the listening SOCKET as "tcp:IP:PORT", "unix:PATH"... */
static char *socket_address_text(GSocket *socket, const char *fallback)
{
    g_autoptr(GSocketAddress) addr = g_socket_get_local_address(socket, NULL);

    if (G_IS_INET_SOCKET_ADDRESS(addr)) {
        GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(addr);
        g_autofree char *ip = g_inet_address_to_string(
            g_inet_socket_address_get_address(inet));
        guint16 port = g_inet_socket_address_get_port(inet);

        return strchr(ip, ':') ? g_strdup_printf("tcp:[%s]:%u", ip, port)
                               : g_strdup_printf("tcp:%s:%u", ip, port);
    }
    if (G_IS_UNIX_SOCKET_ADDRESS(addr)) {
        return g_strdup_printf("unix:%s", g_unix_socket_address_get_path(
                                              G_UNIX_SOCKET_ADDRESS(addr)));
    }
    return g_strdup(fallback);
}

bool qmp_monitor_listen_tcp(QmpMonitor *mon, const char *host, guint16 port,
                            char **address, GError **errp)
{
    g_autoptr(GInetAddress) inet = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocket) socket = NULL;
    QmpListener *l;

    g_return_val_if_fail(mon != NULL, false);

    if (!host || !*host) {
        host = "127.0.0.1";
    }
    inet = g_inet_address_new_from_string(host);
    if (!inet) {
        g_autoptr(GResolver) resolver = g_resolver_get_default();
        GList *found = g_resolver_lookup_by_name(resolver, host, NULL, errp);

        if (!found) {
            g_prefix_error(errp, "tcp host '%s': ", host);
            return false;
        }
        inet = g_object_ref(found->data);
        g_resolver_free_addresses(found);
    }
    addr = g_inet_socket_address_new(inet, port);
    socket = g_socket_new(g_inet_address_get_family(inet),
                          G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, errp);
    if (!socket) {
        return false;
    }
    if (!g_socket_bind(socket, addr, TRUE, errp)
        || !socket_listen(socket, errp)) {
        g_prefix_error(errp, "tcp %s:%u: ", host, port);
        return false;
    }
    l = listener_start(mon, g_steal_pointer(&socket));
    if (address) {
        *address = socket_address_text(l->socket, "tcp:?");
    }
    return true;
}

bool qmp_monitor_listen_fd(QmpMonitor *mon, int fd, char **address,
                           GError **errp)
{
    g_autoptr(GSocket) socket = NULL;
    QmpListener *l;
    int listening = 0;
    socklen_t len = sizeof(listening);

    g_return_val_if_fail(mon != NULL, false);

    socket = g_socket_new_from_fd(fd, errp);
    if (!socket) {
        g_prefix_error(errp, "fd %d: ", fd);
        close(fd);
        return false;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0
        || !listening) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "fd %d is not a listening socket", fd);
        return false;
    }
    l = listener_start(mon, g_steal_pointer(&socket));
    if (address) {
        g_autofree char *fallback = g_strdup_printf("fd:%d", fd);

        *address = socket_address_text(l->socket, fallback);
    }
    return true;
}

/* ---- events ---- */

void qmp_monitor_broadcast(QmpMonitor *mon, json_object *event)
{
    g_return_if_fail(mon != NULL);

    for (GList *link = mon->sessions.head; link;) {
        QmpSession *s = link->data;

        /* session_send() may close S, which unlinks it. */
        link = link->next;
        if (!s->negotiated || s->dead) {
            continue;
        }
        session_send(s, event);
        if (!s->dead && !s->scheduled) {
            session_flush(s);
        }
    }
}

void qmp_monitor_event_emitter(const char *name, json_object *event,
                               void *opaque)
{
    (void)name;
    qmp_monitor_broadcast(opaque, event);
}

/* ---- shutdown ---- */

static gboolean done_cb(gpointer opaque)
{
    QmpMonitor *mon = opaque;
    QmpMonitorDoneFunc done = mon->done;

    g_source_unref(mon->done_source);
    mon->done_source = NULL;
    mon->done = NULL;
    if (done) {
        done(mon, mon->done_opaque);
    }
    return G_SOURCE_REMOVE;
}

static void monitor_check_done(QmpMonitor *mon)
{
    if (!mon->shutting_down || mon->done_source || !mon->done
        || !g_queue_is_empty(&mon->sessions) || mon->dead->len) {
        return;
    }
    destroy_source(&mon->shutdown_timer);
    mon->done_source = g_idle_source_new();
    g_source_set_callback(mon->done_source, done_cb, mon, NULL);
    g_source_attach(mon->done_source, mon->context);
}

static gboolean shutdown_timeout_cb(gpointer opaque)
{
    QmpMonitor *mon = opaque;

    g_source_unref(mon->shutdown_timer);
    mon->shutdown_timer = NULL;
    while (!g_queue_is_empty(&mon->sessions)) {
        session_close(g_queue_peek_head(&mon->sessions));
    }
    return G_SOURCE_REMOVE;
}

static gboolean shutdown_start_cb(gpointer opaque)
{
    QmpMonitor *mon = opaque;

    g_source_unref(mon->shutdown_source);
    mon->shutdown_source = NULL;

    for (GList *link = mon->sessions.head; link;) {
        QmpSession *s = link->data;

        link = link->next;
        g_queue_clear_full(&s->inband, queued_item_free);
        g_queue_clear_full(&s->oob, queued_item_free);
        if (s->scheduled) {
            g_queue_remove(&mon->runnable, s);
            s->scheduled = false;
        }
        session_update_reading(s);
        session_flush(s);
        session_maybe_finish(s);
    }
    monitor_check_done(mon);
    return G_SOURCE_REMOVE;
}

void qmp_monitor_shutdown(QmpMonitor *mon, unsigned timeout_ms,
                          QmpMonitorDoneFunc done, void *opaque)
{
    g_return_if_fail(mon != NULL);

    if (mon->shutting_down) {
        return;
    }
    mon->shutting_down = true;
    mon->done = done;
    mon->done_opaque = opaque;
    for (guint i = 0; i < mon->listeners->len; i++) {
        QmpListener *l = mon->listeners->pdata[i];

        destroy_source(&l->source);
    }
    if (timeout_ms) {
        mon->shutdown_timer = g_timeout_source_new(timeout_ms);
        g_source_set_callback(mon->shutdown_timer, shutdown_timeout_cb, mon,
                              NULL);
        g_source_attach(mon->shutdown_timer, mon->context);
    }
    /*
     * The rest runs from the main loop, after the command that may be
     * calling this has had its reply queued.
     */
    mon->shutdown_source = g_idle_source_new();
    g_source_set_priority(mon->shutdown_source, G_PRIORITY_HIGH);
    g_source_set_callback(mon->shutdown_source, shutdown_start_cb, mon, NULL);
    g_source_attach(mon->shutdown_source, mon->context);
}
