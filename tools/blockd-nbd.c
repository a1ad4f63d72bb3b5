/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd's NBD options (blockd-nbd.h).
 */
#include <string.h>

#include <qapikit/error.h>

#include "blockd-args.h"
#include "blockd-nbd.h"

static void export_clear(gpointer data)
{
    BlockdExport *e = data;

    g_free(e->id);
    g_free(e->node_name);
    g_free(e->name);
    g_free(e->description);
}

void blockd_nbd_args_init(BlockdNbdArgs *args)
{
    memset(args, 0, sizeof(*args));
    args->exports = g_array_new(FALSE, TRUE, sizeof(BlockdExport));
    g_array_set_clear_func(args->exports, export_clear);
}

void blockd_nbd_args_clear(BlockdNbdArgs *args)
{
    g_free(args->path);
    g_free(args->host);
    g_array_unref(args->exports);
}

static bool server_once(BlockdNbdArgs *args, GError **errp)
{
    if (args->have_server) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "one NBD server only: --nbd or --nbd-server given twice");
        return false;
    }
    args->have_server = true;
    return true;
}

bool blockd_nbd_parse_address(BlockdNbdArgs *args, const char *text,
                              GError **errp)
{
    g_autofree char *what = g_strdup_printf("--nbd '%s'", text);

    if (!server_once(args, errp)) {
        return false;
    }
    if (g_str_has_prefix(text, "unix:") && text[5]) {
        args->kind = NBD_ADDRESS_UNIX;
        args->path = g_strdup(text + 5);
        return true;
    }
    if (g_str_has_prefix(text, "tcp:")) {
        args->kind = NBD_ADDRESS_TCP;
        return blockd_parse_host_port(text + 4, what, &args->host, &args->port,
                                      errp);
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "%s: expected unix:PATH or tcp:HOST:PORT", what);
    return false;
}

/* Set *SLOT to VALUE unless KEY was given already. */
static bool set_once(char **slot, const char *key, const char *value,
                     GError **errp)
{
    if (*slot) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is given twice", key);
        return false;
    }
    *slot = g_strdup(value);
    return true;
}

/* What --nbd-server's keys say, before they are checked together. */
typedef struct ServerKeys {
    char *type;
    char *path;
    char *host;
    char *port;
    char *max_connections;
} ServerKeys;

static bool server_key(const char *key, const char *value, void *opaque,
                       GError **errp)
{
    ServerKeys *k = opaque;

    if (!strcmp(key, "addr.type")) {
        return set_once(&k->type, key, value, errp);
    } else if (!strcmp(key, "addr.path")) {
        return set_once(&k->path, key, value, errp);
    } else if (!strcmp(key, "addr.host")) {
        return set_once(&k->host, key, value, errp);
    } else if (!strcmp(key, "addr.port")) {
        return set_once(&k->port, key, value, errp);
    } else if (!strcmp(key, "max-connections")) {
        return set_once(&k->max_connections, key, value, errp);
    } else if (!strcmp(key, "tls-creds") || !strcmp(key, "tls-authz")) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s': TLS is not supported", key);
        return false;
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "unknown key '%s' (expected addr.type, addr.path, addr.host, "
                "addr.port or max-connections)",
                key);
    return false;
}

static bool server_keys_apply(BlockdNbdArgs *args, const ServerKeys *k,
                              GError **errp)
{
    guint64 port;

    if (k->max_connections
        && !blockd_parse_number("max-connections", k->max_connections,
                                G_MAXUINT32, &args->max_connections, errp)) {
        return false;
    }
    if (k->type && !strcmp(k->type, "unix")) {
        if (!k->path || !*k->path || k->host || k->port) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "addr.type=unix takes addr.path (only)");
            return false;
        }
        args->kind = NBD_ADDRESS_UNIX;
        args->path = g_strdup(k->path);
        return true;
    }
    if (k->type && !strcmp(k->type, "inet")) {
        if (!k->host || !k->port || k->path) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "addr.type=inet takes addr.host and addr.port");
            return false;
        }
        if (!blockd_parse_number("addr.port", k->port, 65535, &port, errp)) {
            return false;
        }
        args->kind = NBD_ADDRESS_TCP;
        args->host = g_strdup(k->host);
        args->port = (guint16)port;
        return true;
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "addr.type must be 'unix' or 'inet'");
    return false;
}

bool blockd_nbd_parse_server(BlockdNbdArgs *args, const char *text,
                             GError **errp)
{
    ServerKeys k = { 0 };
    bool ok = server_once(args, errp)
        && blockd_parse_key_values(text, server_key, &k, errp)
        && server_keys_apply(args, &k, errp);

    g_free(k.type);
    g_free(k.path);
    g_free(k.host);
    g_free(k.port);
    g_free(k.max_connections);
    if (!ok) {
        g_prefix_error(errp, "--nbd-server '%s': ", text);
    }
    return ok;
}

/* One --export being parsed. */
typedef struct ExportKeys {
    BlockdExport e;
} ExportKeys;

static bool export_key(const char *key, const char *value, void *opaque,
                       GError **errp)
{
    ExportKeys *k = opaque;

    if (!strcmp(key, "type")) {
        if (strcmp(value, "nbd")) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "export type '%s' is not supported (only nbd)", value);
            return false;
        }
        return true;
    } else if (!strcmp(key, "id")) {
        return set_once(&k->e.id, key, value, errp);
    } else if (!strcmp(key, "node-name")) {
        return set_once(&k->e.node_name, key, value, errp);
    } else if (!strcmp(key, "name")) {
        return set_once(&k->e.name, key, value, errp);
    } else if (!strcmp(key, "description")) {
        return set_once(&k->e.description, key, value, errp);
    } else if (!strcmp(key, "writable")) {
        return blockd_parse_on_off(key, value, &k->e.writable, errp);
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "unknown key '%s' (expected type, id, node-name, name, "
                "description or writable)",
                key);
    return false;
}

bool blockd_nbd_parse_export(BlockdNbdArgs *args, const char *text,
                             GError **errp)
{
    ExportKeys k = { 0 };
    /* "nbd,id=..." as qemu-storage-daemon writes it: type first, bare. */
    g_autofree char *keyed =
        g_str_has_prefix(text, "nbd,") || !strcmp(text, "nbd")
        ? g_strconcat("type=", text, NULL)
        : g_strdup(text);

    if (!blockd_parse_key_values(keyed, export_key, &k, errp)) {
        export_clear(&k.e);
        g_prefix_error(errp, "--export '%s': ", text);
        return false;
    }
    if (!k.e.id || !k.e.node_name) {
        export_clear(&k.e);
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "--export '%s': id= and node-name= are required", text);
        return false;
    }
    g_array_append_val(args->exports, k.e);
    return true;
}

bool blockd_nbd_apply(const BlockdNbdArgs *args, NbdServer *srv, GError **errp)
{
    NbdAddress addr = {
        .kind = args->kind,
        .path = args->path,
        .host = args->host,
        .port = args->port,
    };

    if (!args->have_server) {
        if (args->exports->len) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "--export needs --nbd or --nbd-server");
            return false;
        }
        return true;
    }
    if (!nbd_server_start(srv, &addr, (uint32_t)args->max_connections, NULL,
                          errp)) {
        g_prefix_error(errp, "NBD server: ");
        return false;
    }
    for (guint i = 0; i < args->exports->len; i++) {
        const BlockdExport *e = &g_array_index(args->exports, BlockdExport, i);
        NbdExportOptions opts = {
            .id = e->id,
            .node_name = e->node_name,
            .name = e->name,
            .description = e->description,
            .writable = e->writable,
        };

        if (!nbd_export_add(srv, &opts, errp)) {
            g_prefix_error(errp, "export '%s': ", e->id);
            return false;
        }
    }
    return true;
}
