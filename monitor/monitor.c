/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: a monitor's lifetime and settings, events and shutdown.
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

/* ---- the monitor ---- */

/*
 * Every live monitor, for the process's event emitter: events are the
 * process's (qmp_monitor_event_emitter()).  Monitors of other threads
 * are skipped; the lock is for the list itself.
 */
static GList *live_monitors;
G_LOCK_DEFINE_STATIC(live_monitors);

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
    mon->budget.name = "monitor";
    mon->budget.limit = QMP_MONITOR_DEFAULT_MONITOR_MEMORY;
    mon->session_memory = QMP_MONITOR_DEFAULT_SESSION_MEMORY;
    mon->max_queued = QMP_MONITOR_DEFAULT_MAX_QUEUED;
    mon->pause_bytes = QMP_MONITOR_DEFAULT_OUTPUT_PAUSE;
    mon->drop_bytes = QMP_MONITOR_DEFAULT_OUTPUT_DROP;
    mon->listeners = g_ptr_array_new();
    g_queue_init(&mon->sessions);
    g_queue_init(&mon->runnable);
    mon->dead = g_ptr_array_new();
    mon->read_buf = g_malloc(READ_CHUNK);
    mon->source = monitor_source_new(mon);

    mon->thread = g_thread_self();
    G_LOCK(live_monitors);
    live_monitors = g_list_prepend(live_monitors, mon);
    G_UNLOCK(live_monitors);
    monitor_register_builtins(mon);
    return mon;
}

void qmp_monitor_free(QmpMonitor *mon)
{
    if (!mon) {
        return;
    }
    monitor_forget_schema_reply(mon);
    G_LOCK(live_monitors);
    live_monitors = g_list_remove(live_monitors, mon);
    G_UNLOCK(live_monitors);
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
    monitor_destroy_source(&mon->reap_source);
    monitor_destroy_source(&mon->source);
    monitor_destroy_source(&mon->shutdown_timer);
    monitor_destroy_source(&mon->shutdown_source);
    monitor_destroy_source(&mon->done_source);
    g_queue_clear(&mon->runnable);
    for (guint i = 0; i < mon->listeners->len; i++) {
        qmp_listener_free(mon->listeners->pdata[i]);
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
    monitor_forget_schema_reply(mon);
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

void qmp_monitor_set_memory_limits(QmpMonitor *mon, size_t session_bytes,
                                   size_t monitor_bytes)
{
    g_return_if_fail(mon != NULL);
    if (session_bytes) {
        mon->session_memory = session_bytes;
        for (GList *link = mon->sessions.head; link; link = link->next) {
            ((QmpSession *)link->data)->budget.limit = session_bytes;
        }
    }
    if (monitor_bytes) {
        mon->budget.limit = monitor_bytes;
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

bool qmp_monitor_add_stream(QmpMonitor *mon, GIOStream *stream, GError **errp)
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

    if (qmp_stdio_taken) {
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
    qmp_stdio_taken = true;
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
    GThread *self = g_thread_self();
    GPtrArray *targets = g_ptr_array_new();

    (void)name;
    (void)opaque;
    /* Sent outside the lock: the list may change meanwhile. */
    G_LOCK(live_monitors);
    for (GList *link = live_monitors; link; link = link->next) {
        QmpMonitor *mon = link->data;

        if (mon->thread == self) {
            g_ptr_array_add(targets, mon);
        }
    }
    G_UNLOCK(live_monitors);
    for (guint i = 0; i < targets->len; i++) {
        qmp_monitor_broadcast(targets->pdata[i], event);
    }
    g_ptr_array_free(targets, TRUE);
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

void monitor_check_done(QmpMonitor *mon)
{
    if (!mon->shutting_down || mon->done_source || !mon->done
        || !g_queue_is_empty(&mon->sessions) || mon->dead->len) {
        return;
    }
    monitor_destroy_source(&mon->shutdown_timer);
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
        qmp_listener_pause(mon->listeners->pdata[i]);
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
