/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: its listeners (unix, TCP, an fd) and the streams handed
 * over (any GIOStream, stdio).
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

/* ---- listeners ---- */

/* A connection accepted by one of MON's listeners. */
static void session_accept(GSocket *socket, void *opaque)
{
    QmpMonitor *mon = opaque;
    g_autoptr(GSocket) conn = socket;
    g_autoptr(GSocketConnection) stream =
        g_socket_connection_factory_create_connection(conn);
    g_autoptr(GError) err = NULL;

    if (!session_open(mon, G_IO_STREAM(stream), false, &err)) {
        g_warning("QMP: %s", err->message);
    }
}

/* Keep L (or fail with NULL); *ADDRESS as the header says. */
static bool listener_add(QmpMonitor *mon, QmpListener *l, char **address)
{
    if (!l) {
        return false;
    }
    if (mon->shutting_down) {
        qmp_listener_pause(l);
    }
    g_ptr_array_add(mon->listeners, l);
    if (address) {
        *address = g_strdup(qmp_listener_address(l));
    }
    return true;
}

bool qmp_monitor_listen_unix(QmpMonitor *mon, const char *path, unsigned mode,
                             char **address, GError **errp)
{
    g_return_val_if_fail(mon != NULL, false);

    return listener_add(mon,
                        qmp_listener_new_unix(mon->context, "QMP", path, mode,
                                              session_accept, mon, errp),
                        address);
}

bool qmp_monitor_listen_tcp(QmpMonitor *mon, const char *host, guint16 port,
                            char **address, GError **errp)
{
    g_return_val_if_fail(mon != NULL, false);

    return listener_add(mon,
                        qmp_listener_new_tcp(mon->context, "QMP", host, port,
                                             session_accept, mon, errp),
                        address);
}

bool qmp_monitor_listen_fd(QmpMonitor *mon, int fd, char **address,
                           GError **errp)
{
    g_return_val_if_fail(mon != NULL, false);

    return listener_add(
        mon,
        qmp_listener_new_fd(mon->context, "QMP", fd, session_accept, mon, errp),
        address);
}
