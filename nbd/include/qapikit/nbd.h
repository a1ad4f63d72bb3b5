/* SPDX-License-Identifier: MIT */
/*
 * qapikit NBD server: block devices exported over the Network Block
 * Device protocol (docs/spec/data-path.md §1, the NBD project's
 * doc/proto.md): fixed newstyle handshake, structured replies,
 * `base:allocation` block status, any number of clients per export.
 *
 * Threads.  The server runs its connections on a thread of its own (a
 * GMainContext and loop, started by nbd_server_new()) and their guest
 * I/O on a pool of worker threads, so neither slow clients nor slow
 * disks ever hold up the embedder's main loop, and the main loop's work
 * (a QMP command) never holds up I/O on devices it does not drain.
 * Everything in this header is called from the embedder's main loop
 * (the GMainContext that was the thread default when the server was
 * made), which also gets the callbacks.  Listeners accept in the main
 * loop and hand connections over.
 *
 * Each request is counted on its device between block_device_io_begin()
 * and block_device_io_end(): a group snapshot drains the devices of its
 * group, their new requests wait (never refused) until it is done, and
 * requests on other devices go on.
 *
 * Errors: GError in the QAPI domain (<qapikit/error.h>), GenericError
 * unless stated; functions that can fail return false/NULL exactly when
 * they set *errp.
 */
#ifndef QAPIKIT_NBD_H
#define QAPIKIT_NBD_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <qapikit/block-device.h>

G_BEGIN_DECLS

typedef struct NbdServer NbdServer;

/*
 * A server for the devices of REG (borrowed: it must outlive the
 * server), not listening yet.  Starts the server's thread.
 *
 * With a state directory (block_registry_load_state()), the server
 * records where it listens and its exports in REG's state file (the
 * extension "nbd"), rewriting it after each change;
 * nbd_server_restore() brings them back after a restart.
 */
NbdServer *nbd_server_new(BlockDeviceRegistry *reg);

/*
 * Start what REG's state file recorded: the server, unless it runs
 * already (a command line's address comes first), and each export whose
 * id is not in use.  Nothing recorded: nothing to do.
 */
bool nbd_server_restore(NbdServer *srv, GError **errp);

/*
 * Close every connection (requests in flight complete first), drop
 * every export (no callback runs), stop the thread and free SRV.  NULL
 * is fine.
 */
void nbd_server_free(NbdServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NbdServer, nbd_server_free)

/* Where the server listens (the forms of <qapikit/listener.h>). */
typedef enum NbdAddressKind {
    NBD_ADDRESS_UNIX,
    NBD_ADDRESS_TCP,
} NbdAddressKind;

typedef struct NbdAddress {
    NbdAddressKind kind;
    const char *path; /* unix: the socket, created with mode 0600 */
    const char *host; /* tcp: NULL or "" for 127.0.0.1 */
    guint16 port;     /* tcp: 0 picks a free port */
} NbdAddress;

/*
 * Start serving on ADDR (nbd-server-start).  MAX_CONNECTIONS: at most
 * this many clients at once (0: no limit); more are closed at once.
 * Fails when the server already listens ("NBD server already running")
 * or the socket cannot be made.  On success *WHERE (if not NULL) is a
 * new string such as "unix:/run/x.sock" or "tcp:127.0.0.1:10809".
 */
bool nbd_server_start(NbdServer *srv, const NbdAddress *addr,
                      uint32_t max_connections, char **where, GError **errp);

/* Whether nbd_server_start() succeeded and nbd_server_stop() did not run. */
bool nbd_server_is_running(const NbdServer *srv);

/* Where SRV listens ("unix:PATH", "tcp:IP:PORT"; borrowed), or NULL. */
const char *nbd_server_address(const NbdServer *srv);

/*
 * Stop listening and delete every export as block-export-del's hard
 * mode does (nbd-server-stop).  Fails when the server is not running.
 */
bool nbd_server_stop(NbdServer *srv, GError **errp);

/* What block-export-add asks for.  Strings are lent for the call. */
typedef struct NbdExportOptions {
    const char *id;          /* the export's id, unique among exports */
    const char *node_name;   /* a device id, or a node name of a top */
    const char *name;        /* the NBD export name; NULL: NODE_NAME */
    const char *description; /* NBD_INFO_DESCRIPTION, or NULL */
    bool writable;
} NbdExportOptions;

/*
 * Export a device (block-export-add).  Errors: the server is not
 * running; ID or the export name already used; NODE_NAME names no device
 * (DeviceNotFound... as GenericError "Cannot find device=... nor
 * node-name=...", QEMU's words); WRITABLE on a read-only device; names
 * longer than 4096 bytes (the NBD limit).
 */
bool nbd_export_add(NbdServer *srv, const NbdExportOptions *opts,
                    GError **errp);

/*
 * Delete the export ID (block-export-del).  Not HARD: refused while a
 * client is connected, the export stays.  HARD: its clients are
 * disconnected (their requests in flight complete, unanswered) and it
 * goes.  Either way new clients no longer find it at once, and the
 * deleted callback runs when it is gone (after this returns).  Fails for
 * an unknown ID, or one already being deleted.
 */
bool nbd_export_del(NbdServer *srv, const char *id, bool hard, GError **errp);

/* One export, as query-block-exports lists it. */
typedef struct NbdExportInfo {
    char *id;
    char *node_name; /* as given to nbd_export_add() */
    bool shutting_down;
} NbdExportInfo;

/*
 * The exports in the order they were added, those being deleted
 * included: a new array of NbdExportInfo, freed with g_array_unref().
 */
GArray *nbd_server_query_exports(NbdServer *srv);

/* Whether an export (one not gone yet) serves DEV. */
bool nbd_server_exports_device(NbdServer *srv, const BlockDevice *dev);

/*
 * FN(ID, OPAQUE) runs in the main loop when an export is gone, its last
 * client closed (BLOCK_EXPORT_DELETED).
 */
typedef void (*NbdExportDeletedFunc)(const char *id, void *opaque);
void nbd_server_set_deleted_func(NbdServer *srv, NbdExportDeletedFunc fn,
                                 void *opaque);

/*
 * The QMP handlers of qapi/block-export.json (nbd-server-start,
 * nbd-server-stop, block-export-add, block-export-del,
 * query-block-exports) act on the NbdServer their commands were
 * registered with (qmp_command_list_set_opaque()); registered with NULL
 * they answer that no NBD server is available.  They emit
 * BLOCK_EXPORT_DELETED through the generated
 * qapi_event_send_block_export_deleted() once nbd_qmp_connect_events()
 * connected SRV's deleted callback to it.
 */
void nbd_qmp_connect_events(NbdServer *srv);

G_END_DECLS

#endif /* QAPIKIT_NBD_H */
