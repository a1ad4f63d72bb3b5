/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd: the block daemon.  QMP (the monitor of libqapikit) in
 * front of the block layer (named devices, group snapshots).
 *
 *   qapikit-blockd [--qmp ADDRESS]... [--drive OPTIONS]... [--state DIR]
 *
 * The manual, with the exit codes and what the daemon prints, is
 * docs/qapikit-blockd.md.  This file wires things together: options,
 * listeners, the drives (one isolated function, blockd_open_drives()),
 * signals, and the daemon's own command 'quit'.
 */

#include <qapikit/block-device.h>
#include <qapikit/error.h>
#include <qapikit/event.h>
#include <qapikit/monitor.h>
#include <qapikit/nbd.h>

#include "qapi-commands-daemon.h"
#include "qapi-events-daemon.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <glib-unix.h>

#include "blockd-args.h"
#include "blockd-nbd.h"
#include "blockd-socket.h"

#ifndef QAPIKIT_VERSION
#error "build with -DQAPIKIT_VERSION=\"X.Y.Z\" (tools/meson.build does)"
#endif

/* Exit codes (docs/qapikit-blockd.md). */
enum {
    EXIT_OK = 0,      /* quit, SIGTERM or SIGINT */
    EXIT_STARTUP = 1, /* a drive, the state or a listener failed */
    EXIT_USAGE = 2,   /* bad command line */
};

/* How long a client that does not read may delay the exit. */
#define SHUTDOWN_TIMEOUT_MS 5000

/* One --drive. */
typedef struct DriveOptions {
    char *id;
    char *file;
    char *format; /* NULL: detect */
    bool read_only;
} DriveOptions;

/* The daemon: one per process. */
typedef struct Daemon {
    GMainLoop *loop;
    QmpMonitor *mon;
    QmpCommandList *cmds;
    BlockDeviceRegistry *registry;
    NbdServer *nbd;
    bool shutting_down;
    int signal_fd; /* SIGTERM and SIGINT, or -1 */
    guint signal_watch;
} Daemon;

/* ---- command line ---- */

static void drive_options_clear(DriveOptions *drive)
{
    g_free(drive->id);
    g_free(drive->file);
    g_free(drive->format);
}

static bool drive_key(const char *key, const char *value, void *opaque,
                      GError **errp)
{
    DriveOptions *drive = opaque;
    char **slot = NULL;

    if (!strcmp(key, "id")) {
        slot = &drive->id;
    } else if (!strcmp(key, "file")) {
        slot = &drive->file;
    } else if (!strcmp(key, "format")) {
        if (strcmp(value, "raw") && strcmp(value, "qcow2")) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "format '%s' is not 'raw' or 'qcow2'", value);
            return false;
        }
        slot = &drive->format;
    } else if (!strcmp(key, "read-only")) {
        return blockd_parse_on_off(key, value, &drive->read_only, errp);
    } else {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unknown key '%s' (expected id, file, format or "
                    "read-only)",
                    key);
        return false;
    }
    if (*slot) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is given twice", key);
        return false;
    }
    *slot = g_strdup(value);
    return true;
}

static bool parse_drive(const char *text, DriveOptions *drive, GError **errp)
{
    memset(drive, 0, sizeof(*drive));
    if (!blockd_parse_key_values(text, drive_key, drive, errp)) {
        g_prefix_error(errp, "--drive '%s': ", text);
        return false;
    }
    if (!drive->id || !*drive->id || !drive->file || !*drive->file) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "--drive '%s': both id= and file= are required", text);
        return false;
    }
    return true;
}

/* A parsed --qmp. */
typedef struct QmpAddress {
    enum {
        QMP_UNIX,
        QMP_TCP,
        QMP_STDIO
    } kind;
    char *path;    /* unix */
    unsigned mode; /* unix */
    char *host;    /* tcp */
    guint16 port;  /* tcp */
} QmpAddress;

static bool unix_key(const char *key, const char *value, void *opaque,
                     GError **errp)
{
    QmpAddress *addr = opaque;
    char *end = NULL;
    guint64 mode;

    if (strcmp(key, "mode")) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unknown key '%s' (expected mode)", key);
        return false;
    }
    mode = g_ascii_strtoull(value, &end, 8);
    if (!*value || *end || mode > 0777) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "mode '%s' is not an octal permission mode like 0660",
                    value);
        return false;
    }
    addr->mode = (unsigned)mode;
    return true;
}

static bool parse_qmp(const char *text, QmpAddress *addr, GError **errp)
{
    memset(addr, 0, sizeof(*addr));
    if (!strcmp(text, "stdio")) {
        addr->kind = QMP_STDIO;
        return true;
    }
    if (g_str_has_prefix(text, "unix:")) {
        const char *rest = text + 5;
        g_autoptr(GString) path = g_string_new(NULL);

        /* The path runs to the first single comma (",," is a comma). */
        while (*rest && !(*rest == ',' && rest[1] != ',')) {
            if (*rest == ',') {
                rest++;
            }
            g_string_append_c(path, *rest++);
        }
        addr->kind = QMP_UNIX;
        addr->mode = 0600;
        if (!path->len) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "--qmp '%s': no socket path", text);
            return false;
        }
        addr->path = g_string_free(g_steal_pointer(&path), FALSE);
        if (*rest && !blockd_parse_key_values(rest + 1, unix_key, addr, errp)) {
            g_prefix_error(errp, "--qmp '%s': ", text);
            return false;
        }
        return true;
    }
    if (g_str_has_prefix(text, "tcp:")) {
        g_autofree char *what = g_strdup_printf("--qmp '%s'", text);

        addr->kind = QMP_TCP;
        return blockd_parse_host_port(text + 4, what, &addr->host, &addr->port,
                                      errp);
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "--qmp '%s': expected unix:PATH[,mode=MODE], tcp:HOST:PORT "
                "or stdio",
                text);
    return false;
}

static void qmp_address_clear(QmpAddress *addr)
{
    g_free(addr->path);
    g_free(addr->host);
}

/* ---- the block layer: the one place that knows about drives ---- */

/*
 * Open every drive of DRIVES (N of them) into a new registry, load the
 * state directory STATE (NULL: none), and hand the registry to the QMP
 * handlers of qapi/block.json.  Returns the registry, or NULL with
 * *ERRP set and nothing left open.
 */
static BlockDeviceRegistry *blockd_open_drives(const DriveOptions *drives,
                                               size_t n, const char *state,
                                               GError **errp)
{
    g_autoptr(BlockDeviceRegistry) reg = block_registry_new();

    for (size_t i = 0; i < n; i++) {
        if (!block_registry_add_drive(reg, drives[i].id, drives[i].file,
                                      drives[i].format, drives[i].read_only,
                                      errp)) {
            g_prefix_error(errp, "drive '%s': ", drives[i].id);
            return NULL;
        }
    }
    if (state && !block_registry_load_state(reg, state, errp)) {
        g_prefix_error(errp, "state directory '%s': ", state);
        return NULL;
    }
    return g_steal_pointer(&reg);
}

/* ---- life cycle ---- */

static void shutdown_done(QmpMonitor *mon, void *opaque)
{
    Daemon *d = opaque;

    (void)mon;
    g_main_loop_quit(d->loop);
}

/*
 * The SHUTDOWN event to every session in command mode, then the
 * monitor's orderly end (queued output written, sessions closed), then
 * the main loop ends.
 */
static void daemon_shutdown(Daemon *d, ShutdownCause reason)
{
    if (d->shutting_down) {
        return;
    }
    d->shutting_down = true;
    qapi_event_send_shutdown(false, reason);
    qmp_monitor_shutdown(d->mon, SHUTDOWN_TIMEOUT_MS, shutdown_done, d);
}

static void daemon_signalled(Daemon *d)
{
    if (d->shutting_down) {
        /* A second signal: stop waiting for slow clients. */
        g_main_loop_quit(d->loop);
        return;
    }
    daemon_shutdown(d, SHUTDOWN_CAUSE_HOST_SIGNAL);
}

static gboolean signalfd_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    struct signalfd_siginfo info;

    (void)cond;
    while (read(fd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
        daemon_signalled(opaque);
    }
    return G_SOURCE_CONTINUE;
}

/*
 * SIGTERM and SIGINT, blocked, arrive on a signalfd polled by the main
 * loop.  (g_unix_signal_add() would do, but starts GLib's worker thread
 * for it: a thread's stack and malloc arena for two signals.)  Call
 * before any thread exists (the block layer's snapshot workers start
 * later and inherit the mask), so that no thread takes them with the
 * default action.  The daemon starts no program: nothing inherits the
 * mask.  Returns false with errno set on failure.
 */
static bool signals_start(Daemon *d)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        return false;
    }
    d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->signal_fd < 0) {
        return false;
    }
    d->signal_watch = g_unix_fd_add(d->signal_fd, G_IO_IN, signalfd_cb, d);
    return true;
}

static void signals_stop(Daemon *d)
{
    if (d->signal_watch) {
        g_source_remove(d->signal_watch);
        d->signal_watch = 0;
    }
    if (d->signal_fd >= 0) {
        close(d->signal_fd);
        d->signal_fd = -1;
    }
}

/*
 * With stdio as the only QMP channel, its end leaves nobody who could
 * talk to the daemon: exit (status 0) rather than wait for a signal.
 */
static void sessions_closed(QmpMonitor *mon, unsigned open, void *opaque)
{
    Daemon *d = opaque;

    (void)mon;
    if (!open && !d->shutting_down) {
        d->shutting_down = true;
        g_main_loop_quit(d->loop);
    }
}

/* The command 'quit' (qapi/daemon.json), registered with the daemon. */
bool qmp_quit(GError **errp)
{
    Daemon *d = qmp_command_context()->opaque;

    (void)errp;
    /* SHUTDOWN goes out now, before quit's reply (§9/8). */
    daemon_shutdown(d, SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    return true;
}

/* Register NAME of CMDS again, to act on OPAQUE. */
static void register_again(QmpCommandList *cmds, const char *name, void *opaque)
{
    const QmpCommandInfo *cmd = qmp_find_command(cmds, name);

    qmp_command_list_set_opaque(cmds, opaque);
    qmp_register_command(cmds, cmd->name, cmd->fn, cmd->options,
                         cmd->special_features);
}

/*
 * D's commands: the schema's, which act on D's devices, the NBD
 * server's, which act on D's server, and quit, which acts on D
 * (<qapikit/dispatch.h>, qmp_command_list_set_opaque()).
 */
static QmpCommandList *daemon_commands(Daemon *d)
{
    static const char *const nbd_commands[] = {
        "nbd-server-start", "nbd-server-stop",     "block-export-add",
        "block-export-del", "query-block-exports",
    };
    QmpCommandList *cmds = qmp_command_list_new();

    qmp_command_list_set_opaque(cmds, d->registry);
    qmp_init_marshal(cmds);
    register_again(cmds, "quit", d);
    for (size_t i = 0; i < G_N_ELEMENTS(nbd_commands); i++) {
        register_again(cmds, nbd_commands[i], d->nbd);
    }
    qmp_command_list_set_opaque(cmds, NULL);
    return cmds;
}

/* Listen on ADDR and append the line saying where to LINES. */
static bool start_listener(QmpMonitor *mon, const QmpAddress *addr,
                           GString *lines, GError **errp)
{
    g_autofree char *where = NULL;

    switch (addr->kind) {
    case QMP_UNIX:
        if (!qmp_monitor_listen_unix(mon, addr->path, addr->mode, &where,
                                     errp)) {
            return false;
        }
        break;
    case QMP_TCP:
        if (!qmp_monitor_listen_tcp(mon, addr->host, addr->port, &where,
                                    errp)) {
            return false;
        }
        break;
    case QMP_STDIO:
        if (!qmp_monitor_add_stdio(mon, errp)) {
            return false;
        }
        where = g_strdup("stdio");
        break;
    }
    g_string_append_printf(lines, "qapikit-blockd: QMP on %s\n", where);
    return true;
}

/* The NBD options into *NBD. */
static bool parse_nbd_args(BlockdNbdArgs *nbd, char **nbd_args,
                           char **nbd_server_args, char **export_args,
                           GError **errp)
{
    for (guint i = 0; nbd_args && nbd_args[i]; i++) {
        if (!blockd_nbd_parse_address(nbd, nbd_args[i], errp)) {
            return false;
        }
    }
    for (guint i = 0; nbd_server_args && nbd_server_args[i]; i++) {
        if (!blockd_nbd_parse_server(nbd, nbd_server_args[i], errp)) {
            return false;
        }
    }
    for (guint i = 0; export_args && export_args[i]; i++) {
        if (!blockd_nbd_parse_export(nbd, export_args[i], errp)) {
            return false;
        }
    }
    return true;
}

static void version_numbers(int64_t numbers[3])
{
    g_auto(GStrv) parts = g_strsplit(QAPIKIT_VERSION, ".", 3);

    for (int i = 0; i < 3; i++) {
        numbers[i] = parts[0] && i < (int)g_strv_length(parts)
            ? g_ascii_strtoll(parts[i], NULL, 10)
            : 0;
    }
}

int main(int argc, char **argv)
{
    g_auto(GStrv) qmp_args = NULL;
    g_auto(GStrv) drive_args = NULL;
    g_autofree char *state_dir = NULL;
    g_auto(GStrv) nbd_args = NULL;
    g_auto(GStrv) nbd_server_args = NULL;
    g_auto(GStrv) export_args = NULL;
    g_autoptr(GString) lines = g_string_new(NULL); /* the address lines */
    gboolean show_version = FALSE;
    GOptionEntry entries[] = {
        /*
         * File names (PATH of unix:, file= of --drive) are bytes, not
         * text: taken as given, never converted from the locale's
         * charset, so that a name that is not valid in it (any byte but
         * 0) still works.  The other parts are checked for what they
         * are (a device id by the block layer, a TCP host by GIO).
         */
        { "qmp", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &qmp_args,
          "Serve QMP on ADDRESS: unix:PATH[,mode=0660], tcp:HOST:PORT or "
          "stdio (repeatable; default: "
          "unix:$XDG_RUNTIME_DIR/" BLOCKD_SOCKET_NAME
          ", or ./" BLOCKD_SOCKET_NAME " without XDG_RUNTIME_DIR)",
          "ADDRESS" },
        { "drive", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &drive_args,
          "Open a device: id=NAME,file=PATH[,format=raw|qcow2]"
          "[,read-only=on] (repeatable)",
          "OPTIONS" },
        { "state", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
          "Record each device's current image in DIR, and reopen the "
          "devices from it on start",
          "DIR" },
        { "nbd", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &nbd_args,
          "Serve NBD on ADDRESS: unix:PATH (mode 0600) or tcp:HOST:PORT "
          "(NBD has no authentication: keep TCP on loopback)",
          "ADDRESS" },
        { "nbd-server", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &nbd_server_args,
          "The same as qemu-storage-daemon spells it: "
          "addr.type=unix,addr.path=PATH or "
          "addr.type=inet,addr.host=HOST,addr.port=PORT"
          "[,max-connections=N]",
          "OPTIONS" },
        { "export", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &export_args,
          "Export a device over NBD: [type=]nbd,id=ID,node-name=DEVICE"
          "[,name=NAME][,description=TEXT][,writable=on|off] (repeatable)",
          "OPTIONS" },
        { "version", 0, 0, G_OPTION_ARG_NONE, &show_version,
          "Print the version and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) drives = g_array_new(FALSE, TRUE, sizeof(DriveOptions));
    g_autoptr(GArray) addresses = g_array_new(FALSE, TRUE, sizeof(QmpAddress));
    Daemon daemon = { .signal_fd = -1 };
    BlockdNbdArgs nbd;
    Daemon *d = &daemon;
    bool uses_stdio = false;
    int64_t version[3];
    int status = EXIT_STARTUP;

    g_option_context_set_summary(
        ctx,
        "The qapikit block daemon: QMP over named block devices (raw and "
        "qcow2\nimages) with atomic group snapshots.  Exit status: 0 after "
        "quit, SIGTERM\nor SIGINT; 1 when it cannot start; 2 on a bad "
        "command line.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "qapikit-blockd: %s\n(try --help)\n", err->message);
        return EXIT_USAGE;
    }
    if (show_version) {
        printf("qapikit-blockd %s\n", QAPIKIT_VERSION);
        return EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr,
                "qapikit-blockd: unexpected argument '%s' "
                "(try --help)\n",
                argv[1]);
        return EXIT_USAGE;
    }
    blockd_nbd_args_init(&nbd);
    for (guint i = 0; drive_args && drive_args[i]; i++) {
        DriveOptions drive;

        if (!parse_drive(drive_args[i], &drive, &err)) {
            fprintf(stderr, "qapikit-blockd: %s\n", err->message);
            drive_options_clear(&drive);
            status = EXIT_USAGE;
            goto out_args;
        }
        g_array_append_val(drives, drive);
    }
    if (!parse_nbd_args(&nbd, nbd_args, nbd_server_args, export_args, &err)) {
        fprintf(stderr, "qapikit-blockd: %s\n", err->message);
        status = EXIT_USAGE;
        goto out_args;
    }
    for (guint i = 0; qmp_args && qmp_args[i]; i++) {
        QmpAddress addr;

        if (!parse_qmp(qmp_args[i], &addr, &err)) {
            fprintf(stderr, "qapikit-blockd: %s\n", err->message);
            qmp_address_clear(&addr);
            status = EXIT_USAGE;
            goto out_args;
        }
        if (addr.kind == QMP_STDIO && uses_stdio) {
            fprintf(stderr, "qapikit-blockd: --qmp stdio given twice\n");
            status = EXIT_USAGE;
            goto out_args;
        }
        uses_stdio |= addr.kind == QMP_STDIO;
        g_array_append_val(addresses, addr);
    }
    if (!addresses->len) {
        QmpAddress addr = { .kind = QMP_UNIX,
                            .mode = 0600,
                            .path = blockd_default_socket_path() };

        g_array_append_val(addresses, addr);
    }

    /* A peer that hangs up must not kill the daemon (stdio is a pipe). */
    signal(SIGPIPE, SIG_IGN);

    d->registry = blockd_open_drives((DriveOptions *)(void *)drives->data,
                                     drives->len, state_dir, &err);
    if (!d->registry) {
        fprintf(stderr, "qapikit-blockd: %s\n", err->message);
        goto out_args;
    }

    d->loop = g_main_loop_new(NULL, FALSE);
    /*
     * Before the address lines: a client may signal as soon as it sees
     * them.  And before any thread starts (the NBD server's): threads
     * inherit the blocked signals, so that SIGTERM reaches the signalfd
     * and not a thread that would take the default action.
     */
    if (!signals_start(d)) {
        fprintf(stderr, "qapikit-blockd: cannot handle signals: %s\n",
                g_strerror(errno));
        goto out_monitor;
    }
    d->nbd = nbd_server_new(d->registry);
    nbd_qmp_connect_events(d->nbd);
    d->cmds = daemon_commands(d);
    d->mon = qmp_monitor_new(d->cmds, NULL);
    version_numbers(version);
    qmp_monitor_set_version(d->mon, version[0], version[1], version[2],
                            "qapikit-blockd " QAPIKIT_VERSION);
    qmp_monitor_set_schema(d->mon, &qmp_schema_qlit);
    qapi_event_set_emitter(qmp_monitor_event_emitter, NULL);

    /*
     * The address lines go out once everything has started, so that a
     * start that fails prints none.
     */
    for (guint i = 0; i < addresses->len; i++) {
        if (!start_listener(d->mon, &g_array_index(addresses, QmpAddress, i),
                            lines, &err)) {
            fprintf(stderr, "qapikit-blockd: %s\n", err->message);
            goto out_monitor;
        }
    }

    if (!blockd_nbd_apply(&nbd, d->nbd, &err)) {
        fprintf(stderr, "qapikit-blockd: %s\n", err->message);
        goto out_monitor;
    }
    /* What the state file recorded, besides the command line's. */
    if (!nbd_server_restore(d->nbd, &err)) {
        fprintf(stderr, "qapikit-blockd: state directory '%s': %s\n", state_dir,
                err->message);
        goto out_monitor;
    }
    /* From the command line or the state file. */
    if (nbd_server_address(d->nbd)) {
        g_string_append_printf(lines, "qapikit-blockd: NBD on %s\n",
                               nbd_server_address(d->nbd));
    }
    /* With a stdio session, stdout carries QMP: report on stderr. */
    fputs(lines->str, uses_stdio ? stderr : stdout);
    fflush(uses_stdio ? stderr : stdout);

    if (uses_stdio && addresses->len == 1) {
        qmp_monitor_set_closed_func(d->mon, sessions_closed, d);
    }
    g_main_loop_run(d->loop);
    status = EXIT_OK;

out_monitor:
    signals_stop(d);
    qapi_event_set_emitter(NULL, NULL);
    qmp_monitor_free(d->mon);
    nbd_server_free(d->nbd);
    qmp_command_list_free(d->cmds);
    g_main_loop_unref(d->loop);
    block_registry_free(d->registry);
out_args:
    blockd_nbd_args_clear(&nbd);
    for (guint i = 0; i < drives->len; i++) {
        drive_options_clear(&g_array_index(drives, DriveOptions, i));
    }
    for (guint i = 0; i < addresses->len; i++) {
        qmp_address_clear(&g_array_index(addresses, QmpAddress, i));
    }
    return status;
}
