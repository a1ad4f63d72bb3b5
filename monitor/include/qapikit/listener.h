/* SPDX-License-Identifier: MIT */
/*
 * qapikit: listening sockets on a GMainContext, as the QMP monitor and
 * the NBD server use them.
 *
 * A QmpListener accepts connections on a unix, TCP or inherited socket
 * and hands each one to a callback, in the GMainContext it was created
 * for.  It never spins: while accept() fails for want of a resource
 * (descriptors, memory) it stops polling for a back-off period (100 ms,
 * doubling up to 1 s) and logs once per episode, prefixed with the name
 * given at creation.
 *
 * Not thread-safe: create, pause, resume and free a listener in the
 * thread that runs its context (or while that context is not running).
 */
#ifndef QAPIKIT_LISTENER_H
#define QAPIKIT_LISTENER_H

#include <stdbool.h>

#include <gio/gio.h>

#include <qapikit/base.h>

G_BEGIN_DECLS

typedef struct QmpListener QmpListener;

/*
 * A new connection: SOCKET is connected, non-blocking, close-on-exec,
 * and the callee's (one reference).
 */
typedef void (*QmpListenerAcceptFunc)(GSocket *socket, void *opaque);

/*
 * Listen on the unix stream socket PATH (bytes, any but 0; at most 107),
 * with the system's largest listen backlog (SOMAXCONN), created with
 * permissions MODE (e.g. 0600; the umask does not apply).  An existing
 * PATH is replaced only if it is a socket nobody listens on; any other
 * file, or a live socket, is an error and left alone.  The socket file
 * is removed by qmp_listener_free() if it is still the one created here.
 * NAME prefixes the log lines ("QMP", "NBD").  After failure nothing was
 * created.
 */
QAPIKIT_API QmpListener *qmp_listener_new_unix(GMainContext *context,
                                               const char *name,
                                               const char *path, unsigned mode,
                                               QmpListenerAcceptFunc fn,
                                               void *opaque, GError **errp);

/*
 * Listen on TCP HOST:PORT.  HOST NULL or "" means 127.0.0.1; a host
 * name is resolved (blocking, once, here) and its first address used.
 * PORT 0 picks a free port.
 */
QAPIKIT_API QmpListener *qmp_listener_new_tcp(GMainContext *context,
                                              const char *name,
                                              const char *host, guint16 port,
                                              QmpListenerAcceptFunc fn,
                                              void *opaque, GError **errp);

/*
 * Accept on FD, an already-open listening stream socket (socket
 * activation).  The listener takes FD over, even after failure.
 */
QAPIKIT_API QmpListener *qmp_listener_new_fd(GMainContext *context,
                                             const char *name, int fd,
                                             QmpListenerAcceptFunc fn,
                                             void *opaque, GError **errp);

/*
 * Where L listens, owned by L: "unix:PATH", "tcp:IP:PORT" (the actual
 * port; "tcp:[IP6]:PORT"), or "fd:N" when the system does not say.
 */
QAPIKIT_API const char *qmp_listener_address(const QmpListener *l);

/* Stop accepting (connections wait in the backlog) and start again. */
QAPIKIT_API void qmp_listener_pause(QmpListener *l);
QAPIKIT_API void qmp_listener_resume(QmpListener *l);

/* Close L (and remove its socket file, see above).  NULL is fine. */
QAPIKIT_API void qmp_listener_free(QmpListener *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpListener, qmp_listener_free)

G_END_DECLS

#endif /* QAPIKIT_LISTENER_H */
