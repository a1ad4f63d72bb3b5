/* SPDX-License-Identifier: MIT */
/*
 * The QMP client of qapikit-qmp (tools/qmp-client.h): the session, the
 * argument words, the output.
 */
#include "qmp-client.h"

#include <stdio.h>
#include <string.h>

#include <gio/gunixsocketaddress.h>

/* Nesting accepted in server messages (the server's own limit is 1024). */
#define MESSAGE_MAX_DEPTH 2048

/* The ids of our requests; the server echoes them.  Commands go one at a
 * time, so one id serves them all. */
#define ID_CAPABILITIES "qapikit-qmp-capabilities"
#define ID_COMMAND "qapikit-qmp-command"

/* Compact JSON with UTF-8 text: events, and scalars in pretty output. */
static const int print_flags_compact =
    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

/*
 * Appends @value to @out, indented by two spaces per level, with empty
 * objects and arrays written "{}" and "[]" (json-c's own pretty printer
 * splits them over two lines).
 */
static void append_pretty(GString *out, json_object *value, int level)
{
    if (json_object_is_type(value, json_type_object)
        && json_object_object_length(value) > 0) {
        bool first = true;

        g_string_append(out, "{\n");
        json_object_object_foreach(value, key, member)
        {
            json_object *name = json_object_new_string(key);

            if (!first) {
                g_string_append(out, ",\n");
            }
            first = false;
            g_string_append_printf(
                out, "%*s%s: ", 2 * (level + 1), "",
                json_object_to_json_string_ext(name, print_flags_compact));
            json_object_put(name);
            append_pretty(out, member, level + 1);
        }
        g_string_append_printf(out, "\n%*s}", 2 * level, "");
    } else if (json_object_is_type(value, json_type_array)
               && json_object_array_length(value) > 0) {
        size_t length = json_object_array_length(value);

        g_string_append(out, "[\n");
        for (size_t i = 0; i < length; i++) {
            g_string_append_printf(out, "%s%*s", i ? ",\n" : "",
                                   2 * (level + 1), "");
            append_pretty(out, json_object_array_get_idx(value, i), level + 1);
        }
        g_string_append_printf(out, "\n%*s]", 2 * level, "");
    } else if (json_object_is_type(value, json_type_object)) {
        g_string_append(out, "{}");
    } else if (json_object_is_type(value, json_type_array)) {
        g_string_append(out, "[]");
    } else {
        g_string_append(
            out, json_object_to_json_string_ext(value, print_flags_compact));
    }
}

/* ---- building the arguments ---- */

/* An integer as Python's int() reads it in qmp-shell: [+-]?[0-9]+. */
static bool looks_like_integer(const char *text)
{
    const char *p = text;

    if (*p == '+' || *p == '-') {
        p++;
    }
    if (!g_ascii_isdigit(*p)) {
        return false;
    }
    while (g_ascii_isdigit(*p)) {
        p++;
    }
    return *p == '\0';
}

/*
 * Parses @text as one complete JSON value (json-c's lenient reader, which
 * also takes single-quoted strings).  Returns NULL if it is not exactly one
 * value.
 */
static json_object *parse_json_text(const char *text)
{
    json_tokener *tok = json_tokener_new_ex(MESSAGE_MAX_DEPTH);
    size_t len = strlen(text);
    json_object *value;

    if (!tok || len >= G_MAXINT) {
        if (tok) {
            json_tokener_free(tok);
        }
        return NULL;
    }
    /* The terminating NUL is passed too: it ends a top-level number. */
    value = json_tokener_parse_ex(tok, text, (int)len + 1);
    if (value && json_tokener_get_error(tok) == json_tokener_success) {
        size_t end = json_tokener_get_parse_end(tok);

        while (end < len && g_ascii_isspace(text[end])) {
            end++;
        }
        if (end < len) {
            json_object_put(value);
            value = NULL;
        }
    } else {
        json_object_put(value);
        value = NULL;
    }
    json_tokener_free(tok);
    return value;
}

/*
 * The value of KEY=VALUE, read as qmp-shell reads it: an integer, then
 * true/false (any case), then JSON if it starts with '{' or '[', and a
 * string otherwise (a '{' or '[' that is not valid JSON stays a string,
 * as in qmp-shell).  Never fails; the caller owns the result.
 */
static json_object *parse_value(const char *text)
{
    if (looks_like_integer(text)) {
        gint64 signed_value;
        guint64 unsigned_value;
        const char *digits = text[0] == '+' ? text + 1 : text;

        if (g_ascii_string_to_signed(digits, 10, G_MININT64, G_MAXINT64,
                                     &signed_value, NULL)) {
            return json_object_new_int64(signed_value);
        }
        if (digits[0] != '-'
            && g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT64,
                                          &unsigned_value, NULL)) {
            return json_object_new_uint64(unsigned_value);
        }
        /* Beyond 64 bits: keep the digits exactly, as a JSON number. */
        return json_object_new_double_s(g_ascii_strtod(digits, NULL), digits);
    }
    if (g_ascii_strcasecmp(text, "true") == 0) {
        return json_object_new_boolean(1);
    }
    if (g_ascii_strcasecmp(text, "false") == 0) {
        return json_object_new_boolean(0);
    }
    if (text[0] == '{' || text[0] == '[') {
        json_object *value = parse_json_text(text);
        if (value) {
            return value;
        }
    }
    return json_object_new_string(text);
}

/*
 * Stores @value (taken over, freed on failure) in @root under the dotted
 * path @key: "a.b=1" makes {"a": {"b": 1}}.  Fails, with @errp set, when
 * a path component is empty, when a key is given twice, or when a path
 * goes through a member that is not an object.
 */
static bool set_dotted(json_object *root, const char *key, json_object *value,
                       GError **errp)
{
    g_auto(GStrv) parts = g_strsplit(key, ".", -1);
    json_object *parent = root;
    guint count = g_strv_length(parts);

    for (guint i = 0; i < count; i++) {
        json_object *child = NULL;

        if (parts[i][0] == '\0') {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "argument '%s': empty key", key);
            json_object_put(value);
            return false;
        }
        json_object_object_get_ex(parent, parts[i], &child);
        if (i + 1 == count) {
            if (child) {
                g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "argument '%s' is given twice", key);
                json_object_put(value);
                return false;
            }
            json_object_object_add(parent, parts[i], value);
            return true;
        }
        if (!child) {
            child = json_object_new_object();
            json_object_object_add(parent, parts[i], child);
        } else if (!json_object_is_type(child, json_type_object)) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "argument '%s': '%s' is already set to a value "
                        "that is not an object",
                        key, parts[i]);
            json_object_put(value);
            return false;
        }
        parent = child;
    }
    g_assert_not_reached();
}

/* The contract is in the header. */
bool qmp_build_arguments(char *const *words, int count, json_object **out,
                         GError **errp)
{
    g_autoptr(json_object) arguments = NULL;

    *out = NULL;
    if (count == 0) {
        return true;
    }
    if (count == 1 && words[0][0] == '{') {
        arguments = parse_json_text(words[0]);
        if (!arguments || !json_object_is_type(arguments, json_type_object)) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "the arguments '%s' are not a JSON object", words[0]);
            return false;
        }
        *out = g_steal_pointer(&arguments);
        return true;
    }
    arguments = json_object_new_object();
    for (int i = 0; i < count; i++) {
        const char *equals = strchr(words[i], '=');
        g_autofree char *key = NULL;

        if (!equals) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "argument '%s' is not KEY=VALUE (or give one JSON "
                        "object)",
                        words[i]);
            return false;
        }
        key = g_strndup(words[i], equals - words[i]);
        if (!set_dotted(arguments, key, parse_value(equals + 1), errp)) {
            return false;
        }
    }
    *out = g_steal_pointer(&arguments);
    return true;
}

/* ---- the connection ---- */

/*
 * Connects to @address: "tcp:HOST:PORT", "unix:PATH", or a plain PATH of a
 * unix socket.
 */
static bool qmp_client_connect(QmpClient *client, const char *address,
                               GError **errp)
{
    g_autoptr(GSocketClient) socket_client = g_socket_client_new();
    GSocketConnection *connection;

    if (g_str_has_prefix(address, "tcp:")) {
        connection = g_socket_client_connect_to_host(
            socket_client, address + strlen("tcp:"), 0, NULL, errp);
    } else {
        const char *path = g_str_has_prefix(address, "unix:")
            ? address + strlen("unix:")
            : address;
        g_autoptr(GSocketAddress) socket_address =
            g_unix_socket_address_new(path);

        connection = g_socket_client_connect(
            socket_client, G_SOCKET_CONNECTABLE(socket_address), NULL, errp);
    }
    if (!connection) {
        return false;
    }
    client->connection = connection;
    client->input = g_data_input_stream_new(
        g_io_stream_get_input_stream(G_IO_STREAM(connection)));
    g_data_input_stream_set_newline_type(client->input,
                                         G_DATA_STREAM_NEWLINE_TYPE_LF);
    client->output = g_io_stream_get_output_stream(G_IO_STREAM(connection));
    return true;
}

/*
 * Reads the next server message (one JSON object per line).  Returns NULL
 * with @errp set at end of input (G_IO_ERROR_CLOSED), on an I/O error or
 * when the line is not a JSON object.
 */
static json_object *qmp_client_read(QmpClient *client, GError **errp)
{
    for (;;) {
        gsize length = 0;
        g_autofree char *line =
            g_data_input_stream_read_line(client->input, &length, NULL, errp);
        json_object *message;

        if (!line) {
            if (errp && *errp) {
                return NULL;
            }
            g_set_error_literal(errp, G_IO_ERROR, G_IO_ERROR_CLOSED,
                                "the server closed the connection");
            return NULL;
        }
        while (length > 0
               && (line[length - 1] == '\r' || line[length - 1] == ' ')) {
            line[--length] = '\0';
        }
        if (length == 0) {
            continue;
        }
        message = parse_json_text(line);
        if (!message || !json_object_is_type(message, json_type_object)) {
            json_object_put(message);
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "the server sent a line that is not a JSON object: "
                        "%.200s",
                        line);
            return NULL;
        }
        return message;
    }
}

static bool qmp_client_send(QmpClient *client, json_object *request,
                            GError **errp)
{
    size_t length;
    const char *text = json_object_to_json_string_length(
        request, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
        &length);
    g_autofree char *line = g_strdup_printf("%s\r\n", text);

    return g_output_stream_write_all(client->output, line, length + 2, NULL,
                                     NULL, errp)
        && g_output_stream_flush(client->output, NULL, errp);
}

/* The contract is in the header. */
void qmp_print_event(json_object *event)
{
    printf("%s\n", json_object_to_json_string_ext(event, print_flags_compact));
    fflush(stdout);
}

/*
 * Reads messages until the reply to the request with id @id; events read
 * on the way are printed if the client follows them.  A reply without id
 * (the server could not read the request) also counts as the reply.
 * Returns NULL with @errp set if the input ends or breaks first.
 */
static json_object *qmp_client_wait_reply(QmpClient *client, const char *id,
                                          GError **errp)
{
    for (;;) {
        g_autoptr(json_object) message = qmp_client_read(client, errp);
        json_object *reply_id = NULL;

        if (!message) {
            return NULL;
        }
        if (json_object_object_get_ex(message, "event", NULL)) {
            if (client->print_events) {
                qmp_print_event(message);
            }
            continue;
        }
        if (!json_object_object_get_ex(message, "return", NULL)
            && !json_object_object_get_ex(message, "error", NULL)) {
            continue; /* neither a reply nor an event: ignore, as qemu.qmp */
        }
        if (!json_object_object_get_ex(message, "id", &reply_id)
            || (json_object_is_type(reply_id, json_type_string)
                && strcmp(json_object_get_string(reply_id), id) == 0)) {
            return g_steal_pointer(&message);
        }
    }
}

/* "CLASS: desc" of an error reply. */
static char *describe_error(json_object *reply)
{
    json_object *error = NULL, *class_name = NULL, *desc = NULL;

    json_object_object_get_ex(reply, "error", &error);
    json_object_object_get_ex(error, "class", &class_name);
    json_object_object_get_ex(error, "desc", &desc);
    return g_strdup_printf(
        "%s: %s",
        class_name ? json_object_get_string(class_name) : "(no class)",
        desc ? json_object_get_string(desc) : "(no description)");
}

/* A request {"execute": @command[, "arguments": @arguments], "id": @id}. */
static json_object *new_request(const char *command, json_object *arguments,
                                const char *id)
{
    json_object *request = json_object_new_object();

    json_object_object_add(request, "execute", json_object_new_string(command));
    if (arguments) {
        json_object_object_add(request, "arguments",
                               json_object_get(arguments));
    }
    json_object_object_add(request, "id", json_object_new_string(id));
    return request;
}

/* ---- the session: the contracts are in the header ---- */

bool qmp_client_open(QmpClient *client, const char *address, GError **errp)
{
    g_autoptr(json_object) greeting = NULL;
    g_autoptr(json_object) negotiate = NULL;
    g_autoptr(json_object) negotiated = NULL;
    json_object *qmp = NULL;

    if (!qmp_client_connect(client, address, errp)) {
        g_prefix_error(errp, "cannot connect to %s: ", address);
        return false;
    }
    greeting = qmp_client_read(client, errp);
    if (!greeting) {
        g_prefix_error(errp, "%s: no greeting: ", address);
        return false;
    }
    if (!json_object_object_get_ex(greeting, "QMP", &qmp)
        || !json_object_is_type(qmp, json_type_object)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not a QMP server (greeting %s)", address,
                    json_object_to_json_string(greeting));
        return false;
    }

    negotiate = new_request("qmp_capabilities", NULL, ID_CAPABILITIES);
    if (!qmp_client_send(client, negotiate, errp)
        || !(negotiated =
                 qmp_client_wait_reply(client, ID_CAPABILITIES, errp))) {
        g_prefix_error(errp, "%s: negotiation failed: ", address);
        return false;
    }
    if (!json_object_object_get_ex(negotiated, "return", NULL)) {
        g_autofree char *text = describe_error(negotiated);

        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    "%s: negotiation refused: %s", address, text);
        return false;
    }
    return true;
}

void qmp_client_close(QmpClient *client)
{
    g_clear_object(&client->input);
    g_clear_object(&client->connection);
    client->output = NULL;
}

json_object *qmp_client_execute(QmpClient *client, const char *command,
                                json_object *arguments, GError **errp)
{
    g_autoptr(json_object) request =
        new_request(command, arguments, ID_COMMAND);

    if (!qmp_client_send(client, request, errp)) {
        return NULL;
    }
    return qmp_client_wait_reply(client, ID_COMMAND, errp);
}

bool qmp_client_read_pending(QmpClient *client, GPtrArray *held, GError **errp)
{
    GSocket *socket = g_socket_connection_get_socket(client->connection);

    /* What is buffered already, then what the socket holds; a message cut
     * short by the socket is waited for (the server writes whole lines). */
    while (g_buffered_input_stream_get_available(
               G_BUFFERED_INPUT_STREAM(client->input))
               > 0
           || g_socket_condition_check(socket, G_IO_IN | G_IO_HUP | G_IO_ERR)) {
        g_autoptr(json_object) message = qmp_client_read(client, errp);

        if (!message) {
            return false;
        }
        if (!json_object_object_get_ex(message, "event", NULL)) {
            continue;
        }
        if (held) {
            g_ptr_array_add(held, g_steal_pointer(&message));
        } else if (client->print_events) {
            qmp_print_event(message);
        }
    }
    return true;
}

int qmp_print_reply(json_object *reply, bool compact)
{
    json_object *value = NULL;
    g_autoptr(GString) text = g_string_new(NULL);

    if (!json_object_object_get_ex(reply, "return", &value)) {
        g_autofree char *description = describe_error(reply);

        fflush(stdout);
        fprintf(stderr, "%s\n", description);
        fflush(stderr);
        return STATUS_ERROR_REPLY;
    }
    if (compact) {
        g_string_append(
            text, json_object_to_json_string_ext(value, print_flags_compact));
    } else {
        append_pretty(text, value, 0);
    }
    printf("%s\n", text->str);
    fflush(stdout);
    return STATUS_OK;
}

bool qmp_client_follow_events(QmpClient *client, GError **errp)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autoptr(json_object) message = qmp_client_read(client, &error);

        if (!message) {
            /* The end of the input, or a reset from a server that closed
             * the connection with data unread. */
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)
                || g_error_matches(error, G_IO_ERROR,
                                   G_IO_ERROR_CONNECTION_CLOSED)) {
                return true;
            }
            g_propagate_error(errp, g_steal_pointer(&error));
            return false;
        }
        if (json_object_object_get_ex(message, "event", NULL)) {
            qmp_print_event(message);
        }
    }
}
