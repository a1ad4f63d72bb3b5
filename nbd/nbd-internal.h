/* SPDX-License-Identifier: MIT */
/*
 * The NBD server's insides, shared by server.c (the server, its thread,
 * listeners, exports and worker pool) and connection.c (one client:
 * handshake, requests, replies).  Private to nbd/.
 *
 * Threads (see <qapikit/nbd.h>): "main" is the embedder's main loop,
 * "nbd" the server's own thread, "worker" a thread of the pool.  Each
 * field says who may touch it.
 */
#ifndef QAPIKIT_NBD_INTERNAL_H
#define QAPIKIT_NBD_INTERNAL_H

#include <qapikit/listener.h>
#include <qapikit/nbd.h>

#include "nbd-protocol.h"

/* Limits of the server (docs/qapikit-blockd.md, "NBD"). */
#define NBD_MAX_REQUEST (32u * 1024 * 1024) /* BLOCK_SIZE maximum */
#define NBD_PREFERRED_BLOCK 4096u
#define NBD_MAX_NAME 4096u    /* export names and descriptions */
#define NBD_MAX_OPTION 65536u /* option data kept in memory */
#define NBD_MAX_IN_FLIGHT 64u /* requests per connection */
#define NBD_MAX_IN_FLIGHT_BYTES (64u * 1024 * 1024)
#define NBD_MAX_OUTPUT (64u * 1024 * 1024) /* queued replies per connection */
#define NBD_MAX_EXTENTS 1024u     /* descriptors per block status reply */
#define NBD_HANDSHAKE_SECONDS 10u /* from connect to transmission */
/*
 * Threads of the I/O pool: two per processor, 4 to 16.  More only queue
 * on the node locks and cost thread switches (measured on 2 processors:
 * 16 workers did 4 KiB random writes at 24-43k IOPS where 4 did 33-71k).
 */
#define NBD_WORKERS_PER_CPU 2
#define NBD_WORKERS_MIN 4
#define NBD_WORKERS_MAX 16
#define NBD_NOWAIT_MAX (256 * 1024) /* reads tried in the nbd thread first */

typedef struct NbdConn NbdConn;

typedef struct NbdExport {
    gint refcnt; /* atomic: the server's table, connections, callbacks */
    NbdServer *srv;
    char *id;
    char *name;
    char *description; /* or NULL */
    char *node_name;
    BlockDevice *dev;
    uint64_t size; /* the device's; devices never resize */
    bool writable;
    gint deleting; /* atomic bool: being deleted, not found any more */
    gint clients;  /* atomic: connections using it */
    GQueue parked; /* nbd: NbdRequest waiting for a drain to end */
} NbdExport;

/* One request of a client, from its header to its reply. */
typedef struct NbdRequest {
    NbdConn *conn; /* nbd: holds a reference */
    NbdExport *exp;
    uint64_t cookie;
    uint16_t flags;
    uint16_t type;
    uint64_t offset;
    uint32_t len;
    uint8_t *buf;            /* READ: the data read; WRITE: the data to write */
    GArray *extents;         /* BLOCK_STATUS: uint32_t length, flags pairs */
    uint32_t error;          /* an NBD error number, 0: success */
    char *message;           /* for a structured error chunk, or NULL */
    struct NbdRequest *next; /* in the server's completion list */
} NbdRequest;

struct NbdServer {
    BlockDeviceRegistry *reg;   /* main */
    GMainContext *main_context; /* callbacks run here */
    GMainContext *context;      /* the nbd thread's */
    int stopping;               /* atomic: the thread ends its loop */
    GThread *thread;
    GThreadPool *pool;

    QmpListener *listener; /* main; NULL: not running */
    uint32_t max_connections;
    NbdAddress address; /* where it listens (strings owned), for the state */
    gint connections;   /* atomic: open connections */

    GMutex lock;          /* guards the fields below */
    GPtrArray *exports;   /* NbdExport, add order (their table ref) */
    GCond idle;           /* signalled when connections drops to 0 */
    NbdRequest *done;     /* completed by workers, newest first */
    GSource *done_source; /* nbd: dispatches DONE */
    GPtrArray *gone;      /* exports whose last ref dropped */
    GSource *reap_source; /* main: finishes GONE */

    GQueue conns;       /* nbd: NbdConn, open ones */
    GPtrArray *replied; /* nbd: connections with replies queued by a batch */
    NbdExportDeletedFunc deleted_fn;
    void *deleted_opaque;
};

/* server.c */

/* Any thread: take and drop a reference on EXP. */
NbdExport *nbd_export_ref(NbdExport *exp);
void nbd_export_unref(NbdExport *exp);

/* nbd: the live export called NAME (a new reference), or NULL. */
NbdExport *nbd_export_lookup(NbdServer *srv, const char *name, size_t len);

/*
 * nbd: call FN(EXP, OPAQUE) for every live export, in add order, under
 * no lock (each is referenced for the call).
 */
void nbd_export_foreach(NbdServer *srv,
                        void (*fn)(NbdExport *exp, void *opaque), void *opaque);

/*
 * nbd: hand REQ to a worker; a small read the page cache can serve at
 * once is done here instead and completed (nbd_conn_complete()): the
 * caller then calls nbd_conn_send_replies().
 */
void nbd_request_submit(NbdRequest *req);

/* connection.c */

/* main: serve a new client on SOCKET (taken over) in SRV's thread. */
void nbd_conn_start(NbdServer *srv, GSocket *socket);

/*
 * nbd: REQ is done (by a worker, or at once); queue its reply, written by
 * nbd_conn_send_replies() once the batch of completions is queued.
 */
void nbd_conn_complete(NbdRequest *req);

/* nbd: write the replies nbd_conn_complete() queued, one call per client. */
void nbd_conn_send_replies(NbdServer *srv);

/* nbd: close CONN now (a hard delete, the server stopping). */
void nbd_conn_close(NbdConn *conn);

/* nbd: the export CONN serves, or NULL during the handshake. */
NbdExport *nbd_conn_export(const NbdConn *conn);

/*
 * nbd: whether CONN's client has gone: it closed its end of the socket
 * and left nothing unread (its requests, if any, may still be running).
 */
bool nbd_conn_client_gone(const NbdConn *conn);

/* worker: carry out REQ on its export's device. */
void nbd_request_run(NbdRequest *req);

#endif /* QAPIKIT_NBD_INTERNAL_H */
