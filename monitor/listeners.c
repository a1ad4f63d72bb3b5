/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: listeners (unix, TCP, an fd) and the streams handed
 * over (any GIOStream, stdio).
 */
#define _GNU_SOURCE /* accept4 */

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

/*
 * While accept() fails for want of a resource (descriptors, memory), the
 * listener is not polled for a while: its pending connections would make
 * every poll return at once.  The pause starts at ACCEPT_BACKOFF_MIN_MS
 * and doubles up to ACCEPT_BACKOFF_MAX_MS while the failures go on.
 */
#define ACCEPT_BACKOFF_MIN_MS 100u
#define ACCEPT_BACKOFF_MAX_MS 1000u

/* The address of the listening SOCKET as "tcp:IP:PORT", "unix:PATH"... */
static char *socket_address_text(GSocket *socket, const char *fallback)
{
    g_autoptr(GSocketAddress) addr = g_socket_get_local_address(socket, NULL);

    if (G_IS_INET_SOCKET_ADDRESS(addr)) {
        GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS(addr);
        g_autofree char *ip =
            g_inet_address_to_string(g_inet_socket_address_get_address(inet));
        guint16 port = g_inet_socket_address_get_port(inet);

        return strchr(ip, ':') ? g_strdup_printf("tcp:[%s]:%u", ip, port)
                               : g_strdup_printf("tcp:%s:%u", ip, port);
    }
    if (G_IS_UNIX_SOCKET_ADDRESS(addr)) {
        return g_strdup_printf(
            "unix:%s",
            g_unix_socket_address_get_path(G_UNIX_SOCKET_ADDRESS(addr)));
    }
    return g_strdup(fallback);
}

static gboolean accept_cb(GSocket *socket, GIOCondition cond, gpointer opaque);

/* Poll L's socket for connections to accept. */
static void listener_poll(QmpListener *l)
{
    l->source = g_socket_create_source(l->socket, G_IO_IN, NULL);
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))accept_cb, l,
                          NULL);
    g_source_attach(l->source, l->mon->context);
}

static gboolean accept_retry_cb(gpointer opaque)
{
    QmpListener *l = opaque;

    g_source_unref(l->retry_source);
    l->retry_source = NULL;
    if (!l->mon->shutting_down) {
        listener_poll(l);
    }
    return G_SOURCE_REMOVE;
}

/*
 * accept() failed with ERR, a lack of resources that goes on until
 * something else is freed: stop polling L for a back-off period.  The
 * first failure of an episode is logged, the others only counted.
 */
static void listener_back_off(QmpListener *l, int err)
{
    l->refused++;
    if (!l->backoff_ms) {
        g_autofree char *where = socket_address_text(l->socket, "a listener");

        l->backoff_ms = ACCEPT_BACKOFF_MIN_MS;
        g_warning("QMP: cannot accept connections on %s: %s; trying again "
                  "every %u to %u ms until it can",
                  where, g_strerror(err), ACCEPT_BACKOFF_MIN_MS,
                  ACCEPT_BACKOFF_MAX_MS);
    } else {
        l->backoff_ms = MIN(l->backoff_ms * 2, ACCEPT_BACKOFF_MAX_MS);
    }
    monitor_destroy_source(&l->source);
    l->retry_source = g_timeout_source_new(l->backoff_ms);
    g_source_set_callback(l->retry_source, accept_retry_cb, l, NULL);
    g_source_attach(l->retry_source, l->mon->context);
}

/*
 * Whether ERR, from accept(), concerns one connection only (it went
 * away, or the network failed it), so that the next one may succeed:
 * accept(2) asks to retry after these.
 */
static bool accept_error_is_transient(int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENETUNREACH:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
#ifdef ENONET
    case ENONET:
#endif
        return true;
    }
    return false;
}

static gboolean accept_cb(GSocket *socket, GIOCondition cond, gpointer opaque)
{
    QmpListener *l = opaque;
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocket) conn = NULL;
    g_autoptr(GSocketConnection) stream = NULL;
    int fd;

    (void)socket;
    (void)cond;
    fd = accept4(g_socket_get_fd(l->socket), NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        int saved = errno;

        if (accept_error_is_transient(saved)) {
            if (saved != EAGAIN && saved != EWOULDBLOCK && saved != EINTR) {
                g_debug("QMP: a connection failed before it was accepted: %s",
                        g_strerror(saved));
            }
            return G_SOURCE_CONTINUE;
        }
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM, or the listener broke. */
        listener_back_off(l, saved);
        return G_SOURCE_REMOVE;
    }
    if (l->backoff_ms) {
        g_autofree char *where = socket_address_text(l->socket, "a listener");

        g_message("QMP: accepting connections on %s again (%" G_GUINT64_FORMAT
                  " attempts failed meanwhile)",
                  where, l->refused);
        l->backoff_ms = 0;
        l->refused = 0;
    }
    conn = g_socket_new_from_fd(fd, &err);
    if (!conn) {
        close(fd);
        g_warning("QMP: accepting a connection failed: %s", err->message);
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
        listener_poll(l);
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

bool qmp_monitor_listen_unix(QmpMonitor *mon, const char *path, unsigned mode,
                             char **address, GError **errp)
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
                    "%zu bytes)",
                    path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return false;
    }
    if (mode & ~0777u) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unix socket '%s': mode %o is not a permission mode", path,
                    mode);
        return false;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "'%s' exists and is not a socket: not replaced", path);
            return false;
        }
        if (unix_socket_is_live(path)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                        "'%s': another server listens on this socket", path);
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
    socket = g_socket_new(g_inet_address_get_family(inet), G_SOCKET_TYPE_STREAM,
                          G_SOCKET_PROTOCOL_TCP, errp);
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
