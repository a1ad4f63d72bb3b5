/* SPDX-License-Identifier: MIT */
/*
 * The QMP client of qapikit-qmp: one session with a QMP server
 * (docs/spec/qmp-protocol.md), the KEY=VALUE argument words, and how
 * replies and events are printed.  docs/qapikit-qmp.md is the manual.
 *
 * Errors follow the project's convention (docs/spec/style.md): GError
 * last, false/NULL exactly when it is set.  Nothing here aborts on what a
 * server or a user sends.
 */
#ifndef QAPIKIT_TOOLS_QMP_CLIENT_H
#define QAPIKIT_TOOLS_QMP_CLIENT_H

#include <stdbool.h>

#include <gio/gio.h>
#include <json-c/json.h>

/* The exit statuses of qapikit-qmp (--help, docs/qapikit-qmp.md). */
enum {
    STATUS_OK = 0,
    STATUS_ERROR_REPLY = 1,
    STATUS_USAGE = 2,
};

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_object, json_object_put)

/* One session.  Zero-initialize, qmp_client_open(), qmp_client_close(). */
typedef struct QmpClient {
    GSocketConnection *connection;
    GDataInputStream *input;
    GOutputStream *output; /* the connection's; not a reference */
    bool print_events;     /* print events read on the way to replies */
} QmpClient;

/*
 * Connects to @address ("tcp:HOST:PORT", "unix:PATH" or a plain PATH of a
 * unix socket), reads the greeting and negotiates (qmp_capabilities,
 * without OOB).  On failure @errp says what failed ("cannot connect to
 * ADDRESS: ...", "ADDRESS: not a QMP server ...", "ADDRESS: negotiation
 * refused: CLASS: desc"); qmp_client_close() is still needed then.
 */
bool qmp_client_open(QmpClient *client, const char *address, GError **errp);

/* Drops the connection; @client may be half-opened, or closed already. */
void qmp_client_close(QmpClient *client);

/*
 * Sends @command with @arguments (borrowed; NULL: no "arguments" member)
 * and waits for its reply; events read on the way are printed if
 * client->print_events.  Returns the reply (the caller's), a success or
 * an error reply, or NULL with @errp set if the connection ends or breaks
 * first (G_IO_ERROR_CLOSED when the server closed it).
 */
json_object *qmp_client_execute(QmpClient *client, const char *command,
                                json_object *arguments, GError **errp);

/*
 * Reads the messages that have arrived and can be read without waiting
 * (the rest of one cut short is waited for: servers write whole lines);
 * any reply is dropped (none is awaited).  The events among them are
 * appended to @held (an array of json_object, which then owns them) if it
 * is not NULL, else printed if client->print_events.  Returns false with
 * @errp set when the connection has ended (G_IO_ERROR_CLOSED) or broken.
 */
bool qmp_client_read_pending(QmpClient *client, GPtrArray *held, GError **errp);

/* Prints @event: compact JSON on one line of stdout, flushed. */
void qmp_print_event(json_object *event);

/*
 * Prints every event until the server closes the connection; other
 * messages are dropped.  Returns true when the connection ended (closed or
 * reset by the server), false with @errp set when it broke otherwise or
 * the server sent something that is not a JSON object.
 */
bool qmp_client_follow_events(QmpClient *client, GError **errp);

/*
 * Prints @reply: its return value on stdout (pretty-printed, or compact
 * on one line if @compact) and returns STATUS_OK; or, for an error reply,
 * "CLASS: desc" on stderr and returns STATUS_ERROR_REPLY.
 */
int qmp_print_reply(json_object *reply, bool compact);

/*
 * The "arguments" object from the words after COMMAND (@count of them):
 * one JSON object, or KEY=VALUE words read as qmp-shell reads them
 * (docs/qapikit-qmp.md, "Arguments").  On success *@out is the caller's,
 * NULL when @count is 0; a usage error returns false with @errp set.
 */
bool qmp_build_arguments(char *const *words, int count, json_object **out,
                         GError **errp);

#endif /* QAPIKIT_TOOLS_QMP_CLIENT_H */
