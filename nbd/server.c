/* SPDX-License-Identifier: MIT */
/*
 * The NBD server (<qapikit/nbd.h>): its thread, its listener, the
 * exports and the worker pool.  One client's protocol is connection.c.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <qapikit/error.h>

#include "nbd-internal.h"

/* ---- a source another thread makes ready ---- */

static gboolean wake_dispatch(GSource *source, GSourceFunc fn, gpointer data)
{
    g_source_set_ready_time(source, -1);
    return fn(data);
}

static GSourceFuncs wake_funcs = {
    .dispatch = wake_dispatch,
};

/* A source of CONTEXT that runs FN(DATA) each time it is woken. */
static GSource *wake_source_new(GMainContext *context, GSourceFunc fn,
                                gpointer data)
{
    GSource *source = g_source_new(&wake_funcs, sizeof(GSource));

    g_source_set_callback(source, fn, data, NULL);
    g_source_attach(source, context);
    return source;
}

/* Any thread: make SOURCE run once more. */
static void wake(GSource *source)
{
    g_source_set_ready_time(source, 0);
}

/*
 * Run FN(DATA) in SRV's thread, later (never in the caller's thread,
 * even before the thread's loop runs); NOTIFY(DATA) after.
 */
static void run_in_thread(NbdServer *srv, GSourceFunc fn, gpointer data,
                          GDestroyNotify notify)
{
    GSource *source = g_idle_source_new();

    g_source_set_callback(source, fn, data, notify);
    g_source_attach(source, srv->context);
    g_source_unref(source);
}

/* ---- exports ---- */

NbdExport *nbd_export_ref(NbdExport *exp)
{
    g_atomic_int_inc(&exp->refcnt);
    return exp;
}

void nbd_export_unref(NbdExport *exp)
{
    NbdServer *srv = exp->srv;

    if (!g_atomic_int_dec_and_test(&exp->refcnt)) {
        return;
    }
    /* Finished in the main loop, which owns the device's notifiers. */
    g_mutex_lock(&srv->lock);
    g_ptr_array_add(srv->gone, exp);
    g_mutex_unlock(&srv->lock);
    wake(srv->reap_source);
}

static void export_free(NbdExport *exp)
{
    g_free(exp->id);
    g_free(exp->name);
    g_free(exp->description);
    g_free(exp->node_name);
    g_free(exp);
}

/* nbd: resubmit what waited for a drain of EXP's device to end. */
static gboolean export_resume_in_thread(gpointer opaque)
{
    NbdExport *exp = opaque;
    GQueue parked = exp->parked;

    g_queue_init(&exp->parked);
    for (GList *l = parked.head; l; l = l->next) {
        nbd_request_submit(l->data);
    }
    g_list_free(parked.head);
    nbd_conn_send_replies(exp->srv);
    return G_SOURCE_REMOVE;
}

/* main: a drain of EXP's device ended. */
static void export_resume(BlockDevice *dev, void *opaque)
{
    NbdExport *exp = opaque;

    (void)dev;
    run_in_thread(exp->srv, export_resume_in_thread, nbd_export_ref(exp),
                  (GDestroyNotify)nbd_export_unref);
}

/* main: EXP is gone; leave the table, tell the embedder, free it. */
static void export_finish(NbdServer *srv, NbdExport *exp, bool notify)
{
    g_mutex_lock(&srv->lock);
    g_ptr_array_remove(srv->exports, exp);
    g_mutex_unlock(&srv->lock);
    block_device_remove_resume_notifier(exp->dev, export_resume, exp);
    block_device_unuse(exp->dev);
    if (notify && srv->deleted_fn) {
        srv->deleted_fn(exp->id, srv->deleted_opaque);
    }
    export_free(exp);
}

static gboolean reap_cb(gpointer opaque)
{
    NbdServer *srv = opaque;
    g_autoptr(GPtrArray) gone = NULL;

    g_mutex_lock(&srv->lock);
    gone = srv->gone;
    srv->gone = g_ptr_array_new();
    g_mutex_unlock(&srv->lock);
    for (guint i = 0; i < gone->len; i++) {
        export_finish(srv, gone->pdata[i], true);
    }
    return G_SOURCE_CONTINUE;
}

NbdExport *nbd_export_lookup(NbdServer *srv, const char *name, size_t len)
{
    NbdExport *found = NULL;

    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];

        if (!g_atomic_int_get(&exp->deleting) && strlen(exp->name) == len
            && memcmp(exp->name, name, len) == 0) {
            found = nbd_export_ref(exp);
            break;
        }
    }
    g_mutex_unlock(&srv->lock);
    return found;
}

void nbd_export_foreach(NbdServer *srv,
                        void (*fn)(NbdExport *exp, void *opaque), void *opaque)
{
    g_autoptr(GPtrArray) live = g_ptr_array_new();

    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];

        if (!g_atomic_int_get(&exp->deleting)) {
            g_ptr_array_add(live, nbd_export_ref(exp));
        }
    }
    g_mutex_unlock(&srv->lock);
    for (guint i = 0; i < live->len; i++) {
        fn(live->pdata[i], opaque);
        nbd_export_unref(live->pdata[i]);
    }
}

/* ---- the worker pool ---- */

static void pool_run(gpointer data, gpointer opaque)
{
    NbdRequest *req = data;
    NbdServer *srv = opaque;

    nbd_request_run(req);
    block_device_io_end(req->exp->dev);
    g_mutex_lock(&srv->lock);
    req->next = srv->done;
    srv->done = req;
    g_mutex_unlock(&srv->lock);
    wake(srv->done_source);
}

/*
 * nbd: a small read whose data the page cache holds is done here, at
 * once, and its reply joins the others of this round (a worker would
 * cost two thread switches for a copy); true when REQ is complete.
 */
static bool read_at_once(NbdRequest *req)
{
    BlockDevice *dev = req->exp->dev;

    if (req->type != NBD_CMD_READ || req->len > NBD_NOWAIT_MAX) {
        return false;
    }
    req->buf = g_try_malloc(req->len);
    if (!req->buf
        || !block_device_pread_nowait(dev, req->offset, req->buf, req->len)) {
        return false; /* the worker reads it (into BUF, if there is one) */
    }
    block_device_io_end(dev);
    nbd_conn_complete(req);
    return true;
}

void nbd_request_submit(NbdRequest *req)
{
    NbdExport *exp = req->exp;

    if (!block_device_io_begin(exp->dev)) {
        /* Drained: wait for export_resume(). */
        g_queue_push_tail(&exp->parked, req);
        return;
    }
    if (!read_at_once(req)) {
        g_thread_pool_push(exp->srv->pool, req, NULL);
    }
}

/* nbd: reply to what the workers finished, oldest first. */
static gboolean done_cb(gpointer opaque)
{
    NbdServer *srv = opaque;
    NbdRequest *list, *reversed = NULL;

    g_mutex_lock(&srv->lock);
    list = srv->done;
    srv->done = NULL;
    g_mutex_unlock(&srv->lock);
    while (list) {
        NbdRequest *next = list->next;

        list->next = reversed;
        reversed = list;
        list = next;
    }
    while (reversed) {
        NbdRequest *next = reversed->next;

        nbd_conn_complete(reversed);
        reversed = next;
    }
    nbd_conn_send_replies(srv);
    return G_SOURCE_CONTINUE;
}

/* ---- the state file's part ("nbd") ---- */

static void address_clear(NbdAddress *addr)
{
    g_free((char *)addr->path);
    g_free((char *)addr->host);
    memset(addr, 0, sizeof(*addr));
}

/* main: where SRV listens and its exports, as JSON (a new string). */
static char *state_json(void *opaque)
{
    NbdServer *srv = opaque;
    json_object *root = json_object_new_object();
    json_object *exports = json_object_new_array();
    char *text;

    if (srv->listener) {
        json_object *server = json_object_new_object();

        if (srv->address.kind == NBD_ADDRESS_UNIX) {
            json_object_object_add(server, "type",
                                   json_object_new_string("unix"));
            json_object_object_add(server, "path",
                                   json_object_new_string(srv->address.path));
        } else {
            json_object_object_add(server, "type",
                                   json_object_new_string("inet"));
            json_object_object_add(
                server, "host",
                json_object_new_string(srv->address.host ? srv->address.host
                                                         : ""));
            json_object_object_add(server, "port",
                                   json_object_new_int(srv->address.port));
        }
        json_object_object_add(server, "max-connections",
                               json_object_new_int64(srv->max_connections));
        json_object_object_add(root, "server", server);
    }
    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];
        json_object *entry;

        if (g_atomic_int_get(&exp->deleting)) {
            continue;
        }
        entry = json_object_new_object();
        json_object_object_add(entry, "id", json_object_new_string(exp->id));
        json_object_object_add(entry, "node-name",
                               json_object_new_string(exp->node_name));
        json_object_object_add(entry, "name",
                               json_object_new_string(exp->name));
        if (exp->description) {
            json_object_object_add(entry, "description",
                                   json_object_new_string(exp->description));
        }
        json_object_object_add(entry, "writable",
                               json_object_new_boolean(exp->writable));
        json_object_array_add(exports, entry);
    }
    g_mutex_unlock(&srv->lock);
    json_object_object_add(root, "exports", exports);
    text = g_strdup(json_object_to_json_string(root));
    json_object_put(root);
    return text;
}

/* main: record SRV's change in the state file (if there is one). */
static bool persist(NbdServer *srv, GError **errp)
{
    return block_registry_save_state(srv->reg, errp);
}

/*
 * main: record a change that happened whatever the state file says (a
 * deletion); a failure is only logged.
 */
static void log_persist_failure(NbdServer *srv)
{
    g_autoptr(GError) err = NULL;

    if (!persist(srv, &err)) {
        g_message("NBD: %s", err->message);
    }
}

/* ---- the server ---- */

static gpointer server_thread(gpointer opaque)
{
    NbdServer *srv = opaque;

    g_main_context_push_thread_default(srv->context);
    /*
     * Not a GMainLoop: its quit is lost when it comes before the loop
     * has started running, as when the server is freed right away.
     */
    while (!g_atomic_int_get(&srv->stopping)) {
        g_main_context_iteration(srv->context, TRUE);
    }
    g_main_context_pop_thread_default(srv->context);
    return NULL;
}

NbdServer *nbd_server_new(BlockDeviceRegistry *reg)
{
    NbdServer *srv = g_new0(NbdServer, 1);
    sigset_t all, old;

    srv->reg = reg;
    srv->main_context = g_main_context_ref_thread_default();
    srv->context = g_main_context_new();
    g_mutex_init(&srv->lock);
    g_cond_init(&srv->idle);
    srv->exports = g_ptr_array_new();
    srv->gone = g_ptr_array_new();
    g_queue_init(&srv->conns);
    srv->replied = g_ptr_array_new();
    srv->done_source = wake_source_new(srv->context, done_cb, srv);
    srv->reap_source = wake_source_new(srv->main_context, reap_cb, srv);
    /*
     * Our threads (and the pool's workers, started from ours) take no
     * signal: the process's SIGTERM and SIGINT belong to whoever waits
     * for them (the daemon's signalfd), whatever the caller's mask is
     * now.  Otherwise the kernel may hand one to a thread that has it
     * unblocked, whose default action kills the process.
     */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    srv->pool =
        g_thread_pool_new(pool_run, srv,
                          CLAMP(g_get_num_processors() * NBD_WORKERS_PER_CPU,
                                NBD_WORKERS_MIN, NBD_WORKERS_MAX),
                          FALSE, NULL);
    srv->thread = g_thread_new("nbd-server", server_thread, srv);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    block_registry_set_state_extension(reg, "nbd", state_json, srv);
    return srv;
}

/* nbd: close the connections of EXP (every one when EXP is NULL). */
static gboolean close_conns_in_thread(gpointer opaque)
{
    NbdExport *exp = opaque;
    NbdServer *srv = exp->srv;
    GList *l = srv->conns.head;

    while (l) {
        GList *next = l->next;
        NbdConn *conn = l->data;

        if (exp->id == NULL || nbd_conn_export(conn) == exp) {
            nbd_conn_close(conn);
        }
        l = next;
    }
    return G_SOURCE_REMOVE;
}

/* main: stop new clients of EXP, disconnect the others; drop the table's ref. */
static void export_delete(NbdExport *exp)
{
    g_atomic_int_set(&exp->deleting, 1);
    run_in_thread(exp->srv, close_conns_in_thread, nbd_export_ref(exp),
                  (GDestroyNotify)nbd_export_unref);
    nbd_export_unref(exp);
}

void nbd_server_free(NbdServer *srv)
{
    /* A stand-in export whose NULL id means "every connection". */
    NbdExport all = { .srv = srv, .refcnt = 1 };

    if (!srv) {
        return;
    }
    block_registry_set_state_extension(srv->reg, "nbd", NULL, NULL);
    qmp_listener_free(srv->listener);
    srv->listener = NULL;
    address_clear(&srv->address);
    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];

        g_atomic_int_set(&exp->deleting, 1);
    }
    g_mutex_unlock(&srv->lock);
    run_in_thread(srv, close_conns_in_thread, &all, NULL);
    g_mutex_lock(&srv->lock);
    while (g_atomic_int_get(&srv->connections) > 0) {
        g_cond_wait(&srv->idle, &srv->lock);
    }
    g_mutex_unlock(&srv->lock);
    g_atomic_int_set(&srv->stopping, 1);
    g_main_context_wakeup(srv->context);
    g_thread_join(srv->thread);
    g_thread_pool_free(srv->pool, FALSE, TRUE);
    g_source_destroy(srv->done_source);
    g_source_unref(srv->done_source);
    /* Pending callbacks of the thread drop their references now. */
    g_main_context_unref(srv->context);
    g_source_destroy(srv->reap_source);
    g_source_unref(srv->reap_source);
    while (srv->exports->len) {
        export_finish(srv, srv->exports->pdata[0], false);
    }
    g_ptr_array_free(srv->exports, TRUE);
    g_ptr_array_free(srv->gone, TRUE);
    g_ptr_array_free(srv->replied, TRUE);
    g_main_context_unref(srv->main_context);
    g_mutex_clear(&srv->lock);
    g_cond_clear(&srv->idle);
    g_free(srv);
}

static void accept_cb(GSocket *socket, void *opaque)
{
    NbdServer *srv = opaque;

    if (srv->max_connections
        && (uint32_t)g_atomic_int_get(&srv->connections)
            >= srv->max_connections) {
        g_debug("NBD: a client refused: %u connections already",
                srv->max_connections);
        g_socket_close(socket, NULL);
        g_object_unref(socket);
        return;
    }
    nbd_conn_start(srv, socket);
}

bool nbd_server_start(NbdServer *srv, const NbdAddress *addr,
                      uint32_t max_connections, char **where, GError **errp)
{
    QmpListener *l = NULL;

    if (srv->listener) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "NBD server already running");
        return false;
    }
    switch (addr->kind) {
    case NBD_ADDRESS_UNIX:
        l = qmp_listener_new_unix(srv->main_context, "NBD", addr->path, 0600,
                                  accept_cb, srv, errp);
        break;
    case NBD_ADDRESS_TCP:
        l = qmp_listener_new_tcp(srv->main_context, "NBD", addr->host,
                                 addr->port, accept_cb, srv, errp);
        break;
    }
    if (!l) {
        return false;
    }
    srv->listener = l;
    srv->max_connections = max_connections;
    srv->address.kind = addr->kind;
    srv->address.path = g_strdup(addr->path);
    srv->address.host = g_strdup(addr->host);
    srv->address.port = addr->port;
    if (addr->kind == NBD_ADDRESS_TCP && addr->port == 0) {
        /* The port it got, so that a restart listens there again. */
        const char *colon = strrchr(qmp_listener_address(l), ':');

        srv->address.port = colon ? (guint16)atoi(colon + 1) : 0;
    }
    if (!persist(srv, errp)) {
        qmp_listener_free(srv->listener);
        srv->listener = NULL;
        address_clear(&srv->address);
        return false;
    }
    if (where) {
        *where = g_strdup(qmp_listener_address(l));
    }
    return true;
}

bool nbd_server_is_running(const NbdServer *srv)
{
    return srv->listener != NULL;
}

const char *nbd_server_address(const NbdServer *srv)
{
    return srv->listener ? qmp_listener_address(srv->listener) : NULL;
}

bool nbd_server_stop(NbdServer *srv, GError **errp)
{
    g_autoptr(GPtrArray) live = g_ptr_array_new();

    if (!srv->listener) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "NBD server not running");
        return false;
    }
    qmp_listener_free(srv->listener);
    srv->listener = NULL;
    address_clear(&srv->address);
    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];

        if (!g_atomic_int_get(&exp->deleting)) {
            g_ptr_array_add(live, exp);
        }
    }
    g_mutex_unlock(&srv->lock);
    for (guint i = 0; i < live->len; i++) {
        export_delete(live->pdata[i]);
    }
    log_persist_failure(srv);
    return true;
}

/* main: the export with id ID (deleting or not), or NULL. */
static NbdExport *export_by_id(NbdServer *srv, const char *id)
{
    NbdExport *found = NULL;

    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len && !found; i++) {
        NbdExport *exp = srv->exports->pdata[i];

        if (strcmp(exp->id, id) == 0) {
            found = exp;
        }
    }
    g_mutex_unlock(&srv->lock);
    return found;
}

bool nbd_export_add(NbdServer *srv, const NbdExportOptions *opts, GError **errp)
{
    const char *name = opts->name ? opts->name : opts->node_name;
    BlockDevice *dev;
    NbdExport *exp;

    if (!srv->listener) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "NBD server not running");
        return false;
    }
    if (!*opts->id) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "an export id must not be empty");
        return false;
    }
    if (export_by_id(srv, opts->id)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Block export id '%s' is already in use", opts->id);
        return false;
    }
    if (strlen(name) > NBD_MAX_NAME) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "export name '%.32s...' too long (at most %u bytes)", name,
                    NBD_MAX_NAME);
        return false;
    }
    if (opts->description && strlen(opts->description) > NBD_MAX_NAME) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "export description too long (at most %u bytes)",
                    NBD_MAX_NAME);
        return false;
    }
    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *other = srv->exports->pdata[i];

        if (!g_atomic_int_get(&other->deleting)
            && strcmp(other->name, name) == 0) {
            g_mutex_unlock(&srv->lock);
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "NBD server already has export named '%s'", name);
            return false;
        }
    }
    g_mutex_unlock(&srv->lock);
    dev = block_registry_find_node(srv->reg, opts->node_name);
    if (!dev) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Cannot find device=\"%s\" nor node-name=\"%s\"",
                    opts->node_name, opts->node_name);
        return false;
    }
    if (opts->writable && block_device_is_read_only(dev)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: the device is read-only: it cannot be exported "
                    "writable",
                    block_device_id(dev));
        return false;
    }

    exp = g_new0(NbdExport, 1);
    exp->refcnt = 1;
    exp->srv = srv;
    exp->id = g_strdup(opts->id);
    exp->name = g_strdup(name);
    exp->description = g_strdup(opts->description);
    exp->node_name = g_strdup(opts->node_name);
    exp->dev = dev;
    exp->size = block_device_length(dev);
    exp->writable = opts->writable;
    g_queue_init(&exp->parked);
    block_device_add_resume_notifier(dev, export_resume, exp);
    block_device_use(dev);
    g_mutex_lock(&srv->lock);
    g_ptr_array_add(srv->exports, exp);
    g_mutex_unlock(&srv->lock);
    if (!persist(srv, errp)) {
        export_delete(exp);
        return false;
    }
    return true;
}

typedef struct GoneSweep {
    NbdExport *exp;
    bool done; /* under the server's lock */
} GoneSweep;

/* nbd: close the connections of the sweep's export whose client has gone. */
static gboolean sweep_gone_in_thread(gpointer opaque)
{
    GoneSweep *sweep = opaque;
    NbdServer *srv = sweep->exp->srv;
    GList *l = srv->conns.head;

    while (l) {
        GList *next = l->next;
        NbdConn *conn = l->data;

        if (nbd_conn_export(conn) == sweep->exp && nbd_conn_client_gone(conn)) {
            nbd_conn_close(conn);
        }
        l = next;
    }
    g_mutex_lock(&srv->lock);
    sweep->done = true;
    g_cond_broadcast(&srv->idle);
    g_mutex_unlock(&srv->lock);
    return G_SOURCE_REMOVE;
}

/*
 * main: a client that closed its socket just before a safe deletion is
 * not using EXP any more, even if the nbd thread has not read that end
 * yet: have it look now, and wait (it never waits for main).
 */
static void sweep_gone_clients(NbdExport *exp)
{
    NbdServer *srv = exp->srv;
    GoneSweep sweep = { .exp = exp };

    run_in_thread(srv, sweep_gone_in_thread, &sweep, NULL);
    g_mutex_lock(&srv->lock);
    while (!sweep.done) {
        g_cond_wait(&srv->idle, &srv->lock);
    }
    g_mutex_unlock(&srv->lock);
}

bool nbd_export_del(NbdServer *srv, const char *id, bool hard, GError **errp)
{
    NbdExport *exp = export_by_id(srv, id);
    int clients;

    if (!exp) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Export '%s' is not found", id);
        return false;
    }
    if (g_atomic_int_get(&exp->deleting)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Block export '%s' is already shutting down", id);
        return false;
    }
    if (!hard && g_atomic_int_get(&exp->clients) > 0) {
        sweep_gone_clients(exp);
    }
    clients = g_atomic_int_get(&exp->clients);
    if (!hard && clients > 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "export '%s' still in use: %d client%s connected (use "
                    "mode 'hard' to disconnect them)",
                    id, clients, clients == 1 ? "" : "s");
        return false;
    }
    export_delete(exp);
    log_persist_failure(srv);
    return true;
}

static void nbd_export_info_clear(gpointer data)
{
    NbdExportInfo *info = data;

    g_free(info->id);
    g_free(info->node_name);
}

GArray *nbd_server_query_exports(NbdServer *srv)
{
    GArray *list = g_array_new(FALSE, TRUE, sizeof(NbdExportInfo));

    g_array_set_clear_func(list, nbd_export_info_clear);
    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len; i++) {
        NbdExport *exp = srv->exports->pdata[i];
        NbdExportInfo info = {
            .id = g_strdup(exp->id),
            .node_name = g_strdup(exp->node_name),
            .shutting_down = g_atomic_int_get(&exp->deleting),
        };

        g_array_append_val(list, info);
    }
    g_mutex_unlock(&srv->lock);
    return list;
}

bool nbd_server_exports_device(NbdServer *srv, const BlockDevice *dev)
{
    bool found = false;

    g_mutex_lock(&srv->lock);
    for (guint i = 0; i < srv->exports->len && !found; i++) {
        found = ((NbdExport *)srv->exports->pdata[i])->dev == dev;
    }
    g_mutex_unlock(&srv->lock);
    return found;
}

void nbd_server_set_deleted_func(NbdServer *srv, NbdExportDeletedFunc fn,
                                 void *opaque)
{
    srv->deleted_fn = fn;
    srv->deleted_opaque = opaque;
}

static const char *json_string_of(json_object *obj, const char *key)
{
    json_object *value;

    return json_object_object_get_ex(obj, key, &value)
            && json_object_is_type(value, json_type_string)
        ? json_object_get_string(value)
        : NULL;
}

static int64_t json_int_of(json_object *obj, const char *key)
{
    json_object *value;

    return json_object_object_get_ex(obj, key, &value)
        ? json_object_get_int64(value)
        : 0;
}

/* Start the server RECORD describes (the state file's "server"). */
static bool restore_server(NbdServer *srv, json_object *record, GError **errp)
{
    const char *type = json_string_of(record, "type");
    int64_t port = json_int_of(record, "port");
    int64_t max = json_int_of(record, "max-connections");
    NbdAddress addr = { 0 };

    if (type && !strcmp(type, "unix") && json_string_of(record, "path")) {
        addr.kind = NBD_ADDRESS_UNIX;
        addr.path = json_string_of(record, "path");
    } else if (type && !strcmp(type, "inet") && port > 0 && port <= 65535) {
        addr.kind = NBD_ADDRESS_TCP;
        addr.host = json_string_of(record, "host");
        addr.port = (guint16)port;
    } else {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "the recorded NBD server address is not valid");
        return false;
    }
    return nbd_server_start(srv, &addr,
                            max > 0 && max <= G_MAXUINT32 ? (uint32_t)max : 0,
                            NULL, errp);
}

bool nbd_server_restore(NbdServer *srv, GError **errp)
{
    const char *text = block_registry_state_extension(srv->reg, "nbd");
    json_object *root, *server, *exports;
    bool ok = true;

    if (!text) {
        return true;
    }
    root = json_tokener_parse(text);
    if (!root) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "the recorded NBD state is not JSON");
        return false;
    }
    if (!srv->listener && json_object_object_get_ex(root, "server", &server)) {
        ok = restore_server(srv, server, errp);
    }
    if (ok && json_object_object_get_ex(root, "exports", &exports)
        && json_object_is_type(exports, json_type_array)) {
        for (size_t i = 0; ok && i < json_object_array_length(exports); i++) {
            json_object *entry = json_object_array_get_idx(exports, i);
            json_object *writable = NULL;
            NbdExportOptions opts = {
                .id = json_string_of(entry, "id"),
                .node_name = json_string_of(entry, "node-name"),
                .name = json_string_of(entry, "name"),
                .description = json_string_of(entry, "description"),
            };

            json_object_object_get_ex(entry, "writable", &writable);
            opts.writable = writable && json_object_get_boolean(writable);
            if (!opts.id || !opts.node_name) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "recorded export %zu has no id or node-name", i);
                ok = false;
            } else if (!export_by_id(srv, opts.id)) {
                ok = nbd_export_add(srv, &opts, errp);
                if (!ok) {
                    g_prefix_error(errp, "recorded export '%s': ", opts.id);
                }
            }
        }
    }
    json_object_put(root);
    return ok;
}
