/* SPDX-License-Identifier: MIT */
/*
 * embedded-monitor: a complete program that embeds qapikit's QMP monitor.
 *
 *   embedded-monitor [SOCKET]      (default: ./embedded-monitor.sock)
 *
 * It serves the schema embedded-monitor.json (the command 'count', the
 * event COUNTED, and the monitor's built-in commands) on a unix socket
 * until SIGINT or SIGTERM.  On start it prints one line,
 * "embedded-monitor: QMP on unix:PATH", and flushes it.  Try it:
 *
 *   $ ./embedded-monitor /tmp/em.sock &
 *   $ socat - UNIX:/tmp/em.sock
 *   {"execute": "qmp_capabilities"}
 *   {"execute": "count", "arguments": {"name": "sheep"}}
 *
 * Build: generate C from the schema with qapi-gen, compile it with this
 * file, link with `pkg-config --cflags --libs qapikit` (see
 * examples/meson.build and docs/embedding.md).
 */
#include <qapikit/error.h>
#include <qapikit/event.h>
#include <qapikit/monitor.h>

#include "qapi-commands.h"
#include "qapi-events.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

/* The application's own state: a total per name. */
static GHashTable *totals;

/* The handler of 'count', declared by the generated qapi-commands.h. */
CountResult *qmp_count(const char *name, bool has_step, uint32_t step,
                       GError **errp)
{
    CountResult *result;
    guint64 total;

    if (!*name) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'name' must not be empty");
        return NULL;
    }
    if (has_step && step == 0) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'step' must be at least 1");
        return NULL;
    }
    total = GPOINTER_TO_SIZE(g_hash_table_lookup(totals, name))
        + (has_step ? step : 1);
    g_hash_table_insert(totals, g_strdup(name), GSIZE_TO_POINTER(total));

    /* Sent to every client in command mode, before this reply. */
    qapi_event_send_counted(name, total);

    result = g_new0(CountResult, 1);
    result->name = g_strdup(name);
    result->total = total;
    return result;
}

static gboolean on_signal(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "embedded-monitor.sock";
    g_autoptr(GError) err = NULL;
    g_autofree char *address = NULL;
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autoptr(QmpCommandList) cmds = qmp_command_list_new();
    g_autoptr(QmpMonitor) mon = NULL;

    signal(SIGPIPE, SIG_IGN);
    totals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    /* The generated commands, then the monitor with its built-ins. */
    qmp_init_marshal(cmds);
    mon = qmp_monitor_new(cmds, NULL);
    qmp_monitor_set_version(mon, 0, 1, 0, "embedded-monitor 0.1.0");
    qmp_monitor_set_schema(mon, &qmp_schema_qlit);
    /* Generated qapi_event_send_*() go to every session. */
    qapi_event_set_emitter(qmp_monitor_event_emitter, NULL);

    if (!qmp_monitor_listen_unix(mon, path, 0600, &address, &err)) {
        fprintf(stderr, "embedded-monitor: %s\n", err->message);
        return 1;
    }
    printf("embedded-monitor: QMP on %s\n", address);
    fflush(stdout);

    g_unix_signal_add(SIGINT, on_signal, loop);
    g_unix_signal_add(SIGTERM, on_signal, loop);
    g_main_loop_run(loop);

    qapi_event_set_emitter(NULL, NULL);
    g_clear_pointer(&mon, qmp_monitor_free); /* removes the socket */
    g_hash_table_destroy(totals);
    return 0;
}
