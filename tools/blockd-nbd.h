/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd's NBD options: --nbd, --nbd-server (qemu-storage-daemon's
 * spelling) and --export, parsed, then applied to the daemon's NbdServer.
 */
#ifndef QAPIKIT_BLOCKD_NBD_H
#define QAPIKIT_BLOCKD_NBD_H

#include <stdio.h>

#include <qapikit/nbd.h>

/* One --export. */
typedef struct BlockdExport {
    char *id;
    char *node_name;
    char *name;        /* or NULL */
    char *description; /* or NULL */
    bool writable;
} BlockdExport;

/* The NBD part of a command line. */
typedef struct BlockdNbdArgs {
    bool have_server; /* --nbd or --nbd-server given */
    NbdAddressKind kind;
    char *path; /* unix */
    char *host; /* tcp */
    guint16 port;
    guint64 max_connections;
    GArray *exports; /* BlockdExport, in order */
} BlockdNbdArgs;

void blockd_nbd_args_init(BlockdNbdArgs *args);
void blockd_nbd_args_clear(BlockdNbdArgs *args);

/* --nbd unix:PATH | tcp:HOST:PORT */
bool blockd_nbd_parse_address(BlockdNbdArgs *args, const char *text,
                              GError **errp);

/*
 * --nbd-server addr.type=unix,addr.path=PATH |
 * addr.type=inet,addr.host=H,addr.port=P [,max-connections=N]
 */
bool blockd_nbd_parse_server(BlockdNbdArgs *args, const char *text,
                             GError **errp);

/* --export [type=]nbd,id=ID,node-name=NODE[,name=N][,description=D]
 * [,writable=on|off] */
bool blockd_nbd_parse_export(BlockdNbdArgs *args, const char *text,
                             GError **errp);

/*
 * Start SRV as ARGS say (nothing without --nbd or --nbd-server; an
 * --export without them is an error).
 */
bool blockd_nbd_apply(const BlockdNbdArgs *args, NbdServer *srv, GError **errp);

#endif /* QAPIKIT_BLOCKD_NBD_H */
