/* SPDX-License-Identifier: MIT */
/*
 * Listening sockets (<qapikit/listener.h>): unix, TCP and inherited
 * ones, accept() with a back-off while resources are short.
 */
#define _GNU_SOURCE /* accept4 */

#include <qapikit/error.h>
#include <qapikit/listener.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>

/*
 * While accept() fails for want of a resource (descriptors, memory), the
 * listener is not polled for a while: its pending connections would make
 * every poll return at once.  The pause starts at ACCEPT_BACKOFF_MIN_MS
 * and doubles up to ACCEPT_BACKOFF_MAX_MS while the failures go on.
 */
#define ACCEPT_BACKOFF_MIN_MS 100u
#define ACCEPT_BACKOFF_MAX_MS 1000u

struct QmpListener {
    GMainContext *context;
    char *name; /* prefix of log lines */
    GSocket *socket;
    char *address;
    QmpListenerAcceptFunc fn;
    void *opaque;
    bool paused;
    GSource *source;       /* polls SOCKET, or NULL */
    GSource *retry_source; /* ends the back-off, or NULL */
    unsigned backoff_ms;   /* the current back-off; 0: accept() works */
    guint64 refused;       /* accept() failures in this back-off episode */
    char *unix_path;       /* a socket file to remove, or NULL */
    dev_t dev;
    ino_t ino;
};

static void destroy_source(GSource **source)
{
    if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

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
    g_source_attach(l->source, l->context);
}

static gboolean accept_retry_cb(gpointer opaque)
{
    QmpListener *l = opaque;

    g_source_unref(l->retry_source);
    l->retry_source = NULL;
    if (!l->paused) {
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
        l->backoff_ms = ACCEPT_BACKOFF_MIN_MS;
        g_warning("%s: cannot accept connections on %s: %s; trying again "
                  "every %u to %u ms until it can",
                  l->name, l->address, g_strerror(err), ACCEPT_BACKOFF_MIN_MS,
                  ACCEPT_BACKOFF_MAX_MS);
    } else {
        l->backoff_ms = MIN(l->backoff_ms * 2, ACCEPT_BACKOFF_MAX_MS);
    }
    destroy_source(&l->source);
    l->retry_source = g_timeout_source_new(l->backoff_ms);
    g_source_set_callback(l->retry_source, accept_retry_cb, l, NULL);
    g_source_attach(l->retry_source, l->context);
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
    GSocket *conn;
    int fd;

    (void)socket;
    (void)cond;
    fd = accept4(g_socket_get_fd(l->socket), NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        int saved = errno;

        if (accept_error_is_transient(saved)) {
            if (saved != EAGAIN && saved != EWOULDBLOCK && saved != EINTR) {
                g_debug("%s: a connection failed before it was accepted: %s",
                        l->name, g_strerror(saved));
            }
            return G_SOURCE_CONTINUE;
        }
        /* EMFILE, ENFILE, ENOBUFS, ENOMEM, or the listener broke. */
        listener_back_off(l, saved);
        return G_SOURCE_REMOVE;
    }
    if (l->backoff_ms) {
        g_message("%s: accepting connections on %s again (%" G_GUINT64_FORMAT
                  " attempts failed meanwhile)",
                  l->name, l->address, l->refused);
        l->backoff_ms = 0;
        l->refused = 0;
    }
    conn = g_socket_new_from_fd(fd, &err);
    if (!conn) {
        close(fd);
        g_warning("%s: accepting a connection failed: %s", l->name,
                  err->message);
        return G_SOURCE_CONTINUE;
    }
    g_socket_set_blocking(conn, FALSE);
    l->fn(conn, l->opaque);
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
static QmpListener *listener_start(GMainContext *context, const char *name,
                                   GSocket *socket, const char *fallback,
                                   QmpListenerAcceptFunc fn, void *opaque)
{
    QmpListener *l = g_new0(QmpListener, 1);

    l->context = context ? g_main_context_ref(context)
                         : g_main_context_ref_thread_default();
    l->name = g_strdup(name);
    l->socket = socket;
    l->address = socket_address_text(socket, fallback);
    l->fn = fn;
    l->opaque = opaque;
    g_socket_set_blocking(socket, FALSE);
    listener_poll(l);
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

QmpListener *qmp_listener_new_unix(GMainContext *context, const char *name,
                                   const char *path, unsigned mode,
                                   QmpListenerAcceptFunc fn, void *opaque,
                                   GError **errp)
{
    g_autoptr(GSocket) socket = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autofree char *fallback = NULL;
    QmpListener *l;
    struct stat st;

    g_return_val_if_fail(path != NULL, NULL);

    if (!*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unix socket path '%s' is empty or too long (at most "
                    "%zu bytes)",
                    path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return NULL;
    }
    if (mode & ~0777u) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unix socket '%s': mode %o is not a permission mode", path,
                    mode);
        return NULL;
    }
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        "'%s' exists and is not a socket: not replaced", path);
            return NULL;
        }
        if (unix_socket_is_live(path)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                        "'%s': another server listens on this socket", path);
            return NULL;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            int saved = errno;

            g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(saved),
                        "cannot remove the stale socket '%s': %s", path,
                        g_strerror(saved));
            return NULL;
        }
    }
    socket = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                          G_SOCKET_PROTOCOL_DEFAULT, errp);
    if (!socket) {
        return NULL;
    }
    /*
     * Linux creates the file with the socket's inode mode less the umask:
     * start no wider than MODE, then set MODE exactly.
     */
    (void)fchmod(g_socket_get_fd(socket), mode);
    addr = g_unix_socket_address_new(path);
    if (!g_socket_bind(socket, addr, FALSE, errp)) {
        g_prefix_error(errp, "unix socket '%s': ", path);
        return NULL;
    }
    if (chmod(path, mode) < 0 || lstat(path, &st) < 0) {
        int saved = errno;

        unlink(path);
        g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(saved),
                    "unix socket '%s': cannot set its mode: %s", path,
                    g_strerror(saved));
        return NULL;
    }
    if (!socket_listen(socket, errp)) {
        unlink(path);
        g_prefix_error(errp, "unix socket '%s': ", path);
        return NULL;
    }
    fallback = g_strdup_printf("unix:%s", path);
    l = listener_start(context, name, g_steal_pointer(&socket), fallback, fn,
                       opaque);
    /* The path as given, not as the system spells it back. */
    g_free(l->address);
    l->address = g_steal_pointer(&fallback);
    l->unix_path = g_strdup(path);
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    return l;
}

QmpListener *qmp_listener_new_tcp(GMainContext *context, const char *name,
                                  const char *host, guint16 port,
                                  QmpListenerAcceptFunc fn, void *opaque,
                                  GError **errp)
{
    g_autoptr(GInetAddress) inet = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GSocket) socket = NULL;

    if (!host || !*host) {
        host = "127.0.0.1";
    }
    inet = g_inet_address_new_from_string(host);
    if (!inet) {
        g_autoptr(GResolver) resolver = g_resolver_get_default();
        GList *found = g_resolver_lookup_by_name(resolver, host, NULL, errp);

        if (!found) {
            g_prefix_error(errp, "tcp host '%s': ", host);
            return NULL;
        }
        inet = g_object_ref(found->data);
        g_resolver_free_addresses(found);
    }
    addr = g_inet_socket_address_new(inet, port);
    socket = g_socket_new(g_inet_address_get_family(inet), G_SOCKET_TYPE_STREAM,
                          G_SOCKET_PROTOCOL_TCP, errp);
    if (!socket) {
        return NULL;
    }
    if (!g_socket_bind(socket, addr, TRUE, errp)
        || !socket_listen(socket, errp)) {
        g_prefix_error(errp, "tcp %s:%u: ", host, port);
        return NULL;
    }
    return listener_start(context, name, g_steal_pointer(&socket), "tcp:?", fn,
                          opaque);
}

QmpListener *qmp_listener_new_fd(GMainContext *context, const char *name,
                                 int fd, QmpListenerAcceptFunc fn, void *opaque,
                                 GError **errp)
{
    g_autoptr(GSocket) socket = NULL;
    g_autofree char *fallback = NULL;
    int listening = 0;
    socklen_t len = sizeof(listening);

    socket = g_socket_new_from_fd(fd, errp);
    if (!socket) {
        g_prefix_error(errp, "fd %d: ", fd);
        close(fd);
        return NULL;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0
        || !listening) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "fd %d is not a listening socket", fd);
        return NULL;
    }
    fallback = g_strdup_printf("fd:%d", fd);
    return listener_start(context, name, g_steal_pointer(&socket), fallback, fn,
                          opaque);
}

const char *qmp_listener_address(const QmpListener *l)
{
    return l->address;
}

void qmp_listener_pause(QmpListener *l)
{
    l->paused = true;
    destroy_source(&l->source);
    destroy_source(&l->retry_source);
    l->backoff_ms = 0;
}

void qmp_listener_resume(QmpListener *l)
{
    if (l->paused) {
        l->paused = false;
        listener_poll(l);
    }
}

void qmp_listener_free(QmpListener *l)
{
    struct stat st;

    if (!l) {
        return;
    }
    destroy_source(&l->source);
    destroy_source(&l->retry_source);
    g_socket_close(l->socket, NULL);
    g_object_unref(l->socket);
    /* Remove the socket file only if it is still the one we made. */
    if (l->unix_path && lstat(l->unix_path, &st) == 0 && st.st_dev == l->dev
        && st.st_ino == l->ino) {
        unlink(l->unix_path);
    }
    g_main_context_unref(l->context);
    g_free(l->unix_path);
    g_free(l->address);
    g_free(l->name);
    g_free(l);
}
