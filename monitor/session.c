/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: a session's lifetime, its output and its input (§1, §7, §8,
 * §1/13).
 */
#include "monitor-internal.h"

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

/* ---- sessions: lifetime ---- */

void queued_item_free(gpointer data)
{
    QueuedItem *item = data;

    json_object_put(item->request);
    if (item->charge) {
        json_budget_release(item->budget, item->charge);
    }
    if (item->error) {
        g_error_free(item->error);
    }
    g_free(item);
}

QmpSession *session_ref(QmpSession *s)
{
    s->refs++;
    return s;
}

void session_unref(QmpSession *s)
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
    json_budget_retire(&s->budget);
    g_free(s);
}

void monitor_destroy_source(GSource **source)
{
    if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

size_t session_unsent(const QmpSession *s)
{
    return s->outbuf->len - s->out_off;
}

bool session_has_work(const QmpSession *s)
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
void session_close(QmpSession *s)
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
        qmp_stdio_taken = false;
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
void session_maybe_finish(QmpSession *s)
{
    if (!s->dead && !s->busy && (s->eof || s->mon->shutting_down)
        && !session_has_work(s) && !session_unsent(s)) {
        session_close(s);
    }
}

/* ---- sessions: output ---- */

/* Queue MSG (lent) for S, then apply the backlog rules of §1/13. */
void session_send(QmpSession *s, json_object *msg)
{
    size_t unsent;

    if (s->dead) {
        return;
    }
    qmp_append_message(s->outbuf, msg);
    unsent = session_unsent(s);
    if (unsent > s->mon->drop_bytes) {
        g_warning("closing a QMP session: %zu bytes of output unsent "
                  "(limit %zu); the client does not read",
                  unsent, s->mon->drop_bytes);
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
void session_set_writing(QmpSession *s, bool want)
{
    QmpMonitor *mon = s->mon;

    if (want == s->writing) {
        return;
    }
    s->writing = want;
    if (s->out_fd >= 0) {
        if (want) {
            s->out_tag = g_source_add_unix_fd(mon->source, s->out_fd, G_IO_OUT);
        } else {
            g_source_remove_unix_fd(mon->source, s->out_tag);
            s->out_tag = NULL;
        }
    } else if (want) {
        s->write_source = g_pollable_output_stream_create_source(
            G_POLLABLE_OUTPUT_STREAM(s->out), NULL);
        g_source_set_callback(s->write_source,
                              (GSourceFunc)(void (*)(void))write_ready_cb, s,
                              NULL);
        g_source_attach(s->write_source, mon->context);
    } else {
        monitor_destroy_source(&s->write_source);
    }
}

/*
 * Write what S has queued until the stream would block (then wait for it
 * to poll writable) or the queue is empty.  A write error closes S.
 */
void session_flush(QmpSession *s)
{
    while (!s->dead && session_unsent(s)) {
        g_autoptr(GError) err = NULL;
        gssize n = s->out_pollable
            ? g_pollable_output_stream_write_nonblocking(
                G_POLLABLE_OUTPUT_STREAM(s->out), s->outbuf->str + s->out_off,
                session_unsent(s), NULL, &err)
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
                       size_t charge, const GError *error)
{
    QueuedItem *item = g_new0(QueuedItem, 1);

    item->request = request;
    item->budget = &s->budget;
    item->charge = charge;
    item->error = error ? g_error_copy(error) : NULL;
    g_queue_push_tail(queue, item);
    monitor_schedule(s->mon, s);
}

/*
 * A request: it holds CHARGE bytes of the session's budget until it has
 * run (queued_item_free()).
 */
static void reader_value_cb(json_object *value, size_t charge, void *opaque)
{
    QmpSession *s = opaque;

    if (s->dead || s->mon->shutting_down) {
        json_object_put(value);
        json_budget_release(&s->budget, charge);
        return;
    }
    if (s->oob_enabled && qmp_is_oob(value)) {
        queue_item(s, &s->oob, value, charge, NULL);
    } else {
        queue_item(s, &s->inband, value, charge, NULL);
    }
}

static void reader_error_cb(const GError *err, void *opaque)
{
    QmpSession *s = opaque;

    if (!s->dead && !s->mon->shutting_down) {
        queue_item(s, &s->inband, NULL, 0, err);
    }
}

/* Read S once (it is readable, or its input cannot be polled). */
void session_read(QmpSession *s)
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
void session_update_reading(QmpSession *s)
{
    QmpMonitor *mon = s->mon;
    bool may = !s->dead && !s->eof && !mon->shutting_down
        && session_unsent(s) <= mon->pause_bytes;
    bool want = may && s->inband.length < mon->max_queued
        && s->oob.length < MAX_QUEUED_OOB;

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
        monitor_destroy_source(&s->read_source);
    }
}

static void session_greet(QmpSession *s)
{
    json_object *greeting = json_object_new_object();
    json_object *qmp = json_object_new_object();
    json_object *caps = json_object_new_array();

    if (s->oob_offered) {
        json_object_array_add(caps, json_object_new_string("oob"));
    }
    json_object_object_add(qmp, "version", monitor_version_object(s->mon));
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

bool session_open(QmpMonitor *mon, GIOStream *stream, bool is_stdio,
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
    s->budget.name = "session";
    s->budget.limit = mon->session_memory;
    s->budget.guaranteed = QMP_MONITOR_GUARANTEED_SESSION_MEMORY;
    s->budget.parent = &mon->budget;
    s->reader =
        json_reader_new(&mon->limits, reader_value_cb, reader_error_cb, s);
    json_reader_set_budget(s->reader, &s->budget);
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

/* Whether this process's stdio serves a session. */
bool qmp_stdio_taken;
