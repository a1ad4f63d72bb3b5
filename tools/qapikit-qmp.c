/* SPDX-License-Identifier: MIT */
/*
 * qapikit-qmp: send one QMP command to a server and print the reply,
 * follow the server's events, or, on a terminal without a command, an
 * interactive prompt.  Works against qapikit-blockd and any other QMP
 * server (QEMU's included).  docs/qapikit-qmp.md is the manual.
 *
 *   qapikit-qmp [-s SOCKET] COMMAND [KEY=VALUE ...]
 *   qapikit-qmp [-s SOCKET] COMMAND '{"json": "arguments"}'
 *   qapikit-qmp [-s SOCKET] --events [COMMAND ...]
 *   qapikit-qmp [-s SOCKET]                 (interactive, on a terminal)
 *
 * This file is the command line; tools/qmp-client.h the session and the
 * output, tools/qmp-shell.h the interactive mode.
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blockd-socket.h"
#include "qmp-client.h"
#include "qmp-shell.h"

#ifndef QAPIKIT_VERSION
#error "build with -DQAPIKIT_VERSION=\"X.Y.Z\" (tools/meson.build does)"
#endif

/*
 * Parses the options of @argv (@argc words) wherever they stand before a
 * "--"; *@words (the caller's; the strings are @argv's) gets the other
 * words in order, all those after "--" included.  Returns false with
 * @errp set on a usage error.
 */
static bool parse_command_line(GOptionContext *context, int argc, char **argv,
                               GPtrArray **words, GError **errp)
{
    int end = 1;
    int option_count;
    g_autofree char **options = NULL;
    char **option_argv;

    while (end < argc && strcmp(argv[end], "--") != 0) {
        end++;
    }
    options = g_new0(char *, end + 1);
    memcpy(options, argv, sizeof(char *) * end);
    option_count = end;
    option_argv = options;
    if (!g_option_context_parse(context, &option_count, &option_argv, errp)) {
        return false;
    }
    *words = g_ptr_array_new();
    for (int i = 1; i < option_count; i++) {
        g_ptr_array_add(*words, option_argv[i]);
    }
    for (int i = end + 1; i < argc; i++) {
        g_ptr_array_add(*words, argv[i]);
    }
    return true;
}

/* One command (NULL: none) and, with @events, the events until the
 * server closes the connection.  Returns the exit status. */
static int run_command(QmpClient *client, const char *address,
                       const char *command, json_object *arguments,
                       bool compact, bool events)
{
    g_autoptr(GError) error = NULL;

    if (command) {
        g_autoptr(json_object) reply =
            qmp_client_execute(client, command, arguments, &error);
        int status;

        if (!reply) {
            g_printerr("qapikit-qmp: %s: %s: %s\n", address, command,
                       error->message);
            return STATUS_USAGE;
        }
        status = qmp_print_reply(reply, compact);
        if (status != STATUS_OK) {
            return status;
        }
    }
    if (events && !qmp_client_follow_events(client, &error)) {
        g_printerr("qapikit-qmp: %s: %s\n", address, error->message);
        return STATUS_USAGE;
    }
    return STATUS_OK;
}

int main(int argc, char **argv)
{
    g_autofree char *address = NULL;
    gboolean events = FALSE;
    gboolean raw = FALSE;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        /* A file name: bytes, used as given whatever the locale. */
        { "socket", 's', 0, G_OPTION_ARG_FILENAME, &address,
          "The server: a unix socket PATH, unix:PATH or tcp:HOST:PORT "
          "(default: qapikit-blockd's, "
          "unix:$XDG_RUNTIME_DIR/" BLOCKD_SOCKET_NAME
          ", or ./" BLOCKD_SOCKET_NAME " without XDG_RUNTIME_DIR)",
          "SOCKET" },
        { "events", 'e', 0, G_OPTION_ARG_NONE, &events,
          "Print the server's events, one JSON object per line, until the "
          "server closes the connection (after COMMAND's reply, if one is "
          "given)",
          NULL },
        { "raw", 'r', 0, G_OPTION_ARG_NONE, &raw,
          "Print the value a command returns as compact JSON on one line",
          NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version,
          "Print the version and exit", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("[COMMAND [KEY=VALUE ... | JSON-OBJECT]]");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) words = NULL;
    g_autoptr(json_object) arguments = NULL;
    QmpClient client = { 0 };
    const char *command = NULL;
    bool interactive;
    int status;

    g_option_context_set_summary(
        context,
        "Send one QMP command to a QMP server and print the value it returns, "
        "pretty-printed.\n"
        "Without COMMAND, on a terminal: an interactive prompt, with history "
        "and\ncompletion of command and argument names.\n\n"
        "Arguments are KEY=VALUE words, read as qmp-shell reads them: an "
        "integer,\ntrue or false, JSON when VALUE starts with '{' or '[', "
        "else a string;\n'a.b=1' makes {\"a\": {\"b\": 1}}. Or give one JSON "
        "object instead.\nOptions may come anywhere; words after '--' are "
        "never options.");
    g_option_context_set_description(
        context,
        "Examples:\n"
        "  qapikit-qmp query-block\n"
        "  qapikit-qmp -s /run/qapikit.sock query-version\n"
        "  qapikit-qmp blockdev-snapshot-sync device=disk0 "
        "snapshot-file=/srv/s1.qcow2\n"
        "  qapikit-qmp -s tcp:127.0.0.1:4444 --events\n\n"
        "Exit status: 0 success; 1 the server answered with an error "
        "(\"CLASS: desc\"\non stderr); 2 usage, connection or protocol "
        "error.\n");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!parse_command_line(context, argc, argv, &words, &error)) {
        g_printerr("qapikit-qmp: %s (try --help)\n", error->message);
        return STATUS_USAGE;
    }
    if (version) {
        printf("qapikit-qmp %s\n", QAPIKIT_VERSION);
        return STATUS_OK;
    }
    if (words->len > 0) {
        command = words->pdata[0];
        if (!qmp_build_arguments((char *const *)words->pdata + 1,
                                 (int)words->len - 1, &arguments, &error)) {
            g_printerr("qapikit-qmp: %s\n", error->message);
            return STATUS_USAGE;
        }
    }
    interactive = !command && !events && isatty(STDIN_FILENO);
    if (!command && !events && !interactive) {
        g_printerr("qapikit-qmp: no COMMAND given (try --help; on a "
                   "terminal, no COMMAND starts the interactive mode)\n");
        return STATUS_USAGE;
    }
    if (!address) {
        g_autofree char *path = blockd_default_socket_path();

        address = g_strconcat("unix:", path, NULL);
    }

    client.print_events = events;
    if (!qmp_client_open(&client, address, &error)) {
        g_printerr("qapikit-qmp: %s\n", error->message);
        status = STATUS_USAGE;
    } else if (interactive) {
        status = qmp_shell_run(&client, address, raw);
    } else {
        status = run_command(&client, address, command, arguments, raw, events);
    }
    qmp_client_close(&client);
    return status;
}
