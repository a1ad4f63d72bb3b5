/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: running queued requests, one turn at a time, round
 * robin over the sessions (§4, §10, §11), and the monitor's GSource.
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

/* ---- the scheduler ---- */

/* §4 check 9: what the negotiation state allows (§3). */
bool monitor_session_check(const char *name, void *opaque, GError **errp)
{
    QmpSession *s = opaque;
    bool is_caps = !strcmp(name, "qmp_capabilities");

    if (!s->negotiated && !is_caps) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                    "command '%s' is not available yet: send "
                    "'qmp_capabilities' first",
                    name);
        return false;
    }
    if (s->negotiated && is_caps) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
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
        s->busy = true;
        resp = qmp_dispatch_checked(mon->cmds, item->request, s->oob_enabled,
                                    monitor_session_check, s);
        s->busy = false;
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
        if (session_unsent(s) > mon->pause_bytes) {
            /*
             * §1/13, §10/3: while more than pause_bytes of S's output is
             * unsent, its requests wait too, out-of-band ones included,
             * not only its input: one read may hold thousands of them,
             * and a reply nobody reads is memory.  session_flush()
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
void monitor_schedule(QmpMonitor *mon, QmpSession *s)
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
        GIOCondition out =
            s->out_tag ? g_source_query_unix_fd(source, s->out_tag) : 0;
        GIOCondition in =
            s->in_tag ? g_source_query_unix_fd(source, s->in_tag) : 0;

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

GSource *monitor_source_new(QmpMonitor *mon)
{
    GSource *source =
        g_source_new(&monitor_source_funcs, sizeof(MonitorSource));

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
