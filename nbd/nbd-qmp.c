/* SPDX-License-Identifier: MIT */
/*
 * The QMP commands of qapi/block-export.json: nbd-server-start,
 * nbd-server-stop, block-export-add, block-export-del,
 * query-block-exports, and the event BLOCK_EXPORT_DELETED.
 */
#include <netdb.h>
#include <string.h>

#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/nbd.h>

#include "qapi-commands-block-export.h"
#include "qapi-events-block-export.h"

/*
 * The server the running command was registered with (the command
 * list's opaque pointer), or NULL with *ERRP set.
 */
static NbdServer *command_server(GError **errp)
{
    const QmpCommandContext *ctx = qmp_command_context();

    if (!ctx || !ctx->opaque) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "this program has no NBD server");
        return NULL;
    }
    return ctx->opaque;
}

/* PORT, a number or a service name, as a TCP port. */
static bool parse_port(const char *port, guint16 *value, GError **errp)
{
    guint64 n;
    struct servent *service;

    if (g_ascii_string_to_unsigned(port, 10, 0, 65535, &n, NULL)) {
        *value = (guint16)n;
        return true;
    }
    service = *port ? getservbyname(port, "tcp") : NULL;
    if (!service) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "port '%s' is neither a number from 0 to 65535 nor a "
                    "TCP service name",
                    port);
        return false;
    }
    *value = g_ntohs((guint16)service->s_port);
    return true;
}

static bool unsupported(bool given, const char *what, GError **errp)
{
    if (given) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s is not supported", what);
    }
    return !given;
}

bool qmp_nbd_server_start(SocketAddressLegacy *addr, const char *tls_creds,
                          const char *tls_authz, bool has_max_connections,
                          uint32_t max_connections, GError **errp)
{
    NbdServer *srv = command_server(errp);
    NbdAddress where = { 0 };

    if (!srv || !unsupported(tls_creds || tls_authz, "TLS", errp)) {
        return false;
    }
    switch (addr->type) {
    case SOCKET_ADDRESS_TYPE_UNIX: {
        UnixSocketAddress *u = addr->u.q_unix.data;

        if (!unsupported(u->has_abstract && u->abstract,
                         "an abstract unix socket", errp)) {
            return false;
        }
        where.kind = NBD_ADDRESS_UNIX;
        where.path = u->path;
        break;
    }
    case SOCKET_ADDRESS_TYPE_INET: {
        InetSocketAddress *in = addr->u.inet.data;

        if (!unsupported(in->has_to, "a port range ('to')", errp)
            || !unsupported(in->has_ipv4 && !in->ipv4, "'ipv4': false", errp)
            || !unsupported(in->has_keep_alive && in->keep_alive,
                            "'keep-alive': true", errp)
            || !parse_port(in->port, &where.port, errp)) {
            return false;
        }
        where.kind = NBD_ADDRESS_TCP;
        where.host = in->host;
        break;
    }
    default:
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unsupported socket address type");
        return false;
    }
    return nbd_server_start(
        srv, &where, has_max_connections ? max_connections : 0, NULL, errp);
}

bool qmp_nbd_server_stop(GError **errp)
{
    NbdServer *srv = command_server(errp);

    return srv && nbd_server_stop(srv, errp);
}

bool qmp_block_export_add(BlockExportOptions *arg, GError **errp)
{
    NbdServer *srv = command_server(errp);
    BlockExportOptionsNbd *nbd = &arg->u.nbd;
    NbdExportOptions opts = {
        .id = arg->id,
        .node_name = arg->node_name,
        .name = nbd->name,
        .description = nbd->description,
        .writable = arg->has_writable && arg->writable,
    };

    if (!srv || !unsupported(arg->iothread != NULL, "'iothread'", errp)
        || !unsupported(nbd->bitmaps != NULL, "exporting bitmaps", errp)
        || !unsupported(nbd->has_allocation_depth && nbd->allocation_depth,
                        "'allocation-depth'", errp)) {
        return false;
    }
    return nbd_export_add(srv, &opts, errp);
}

bool qmp_block_export_del(const char *id, bool has_mode,
                          BlockExportRemoveMode mode, GError **errp)
{
    NbdServer *srv = command_server(errp);

    return srv
        && nbd_export_del(srv, id,
                          has_mode && mode == BLOCK_EXPORT_REMOVE_MODE_HARD,
                          errp);
}

BlockExportInfoList *qmp_query_block_exports(GError **errp)
{
    NbdServer *srv = command_server(errp);
    g_autoptr(GArray) exports = NULL;
    BlockExportInfoList *list = NULL;

    if (!srv) {
        return NULL;
    }
    exports = nbd_server_query_exports(srv);
    for (guint i = exports->len; i-- > 0;) {
        NbdExportInfo *e = &g_array_index(exports, NbdExportInfo, i);
        BlockExportInfo *info = g_new0(BlockExportInfo, 1);
        BlockExportInfoList *node = g_new0(BlockExportInfoList, 1);

        info->id = g_strdup(e->id);
        info->type = BLOCK_EXPORT_TYPE_NBD;
        info->node_name = g_strdup(e->node_name);
        info->shutting_down = e->shutting_down;
        node->value = info;
        node->next = list;
        list = node;
    }
    return list;
}

static void export_deleted(const char *id, void *opaque)
{
    (void)opaque;
    qapi_event_send_block_export_deleted(id);
}

void nbd_qmp_connect_events(NbdServer *srv)
{
    nbd_server_set_deleted_func(srv, export_deleted, NULL);
}
