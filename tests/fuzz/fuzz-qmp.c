/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: a whole QMP session of the monitor (<qapikit/monitor.h>)
 * serving the kitchen-sink schema (tests/qapi-schema/qapi-schema-test.json)
 * with the handlers of tests/unit/kitchen-sink-handlers.c: the input is
 * the byte stream a client sends.  Framing, negotiation, dispatch
 * through the generated marshallers and their visitors, the built-in
 * commands (query-qmp-schema of the kitchen sink included), out-of-band
 * requests and the replies all run as for a real client.
 *
 * Each input gets a new monitor and one session on memory streams; the
 * main context runs until the session has ended (end of input ends it
 * once the replies are written, docs/spec/qmp-protocol.md §1/12).  The
 * request limits are lowered (4 KiB, depth 32, 512 tokens, a memory
 * budget of 24 KiB) so that the fuzzer reaches them.  Checked: what the monitor wrote is a sequence of
 * messages, each 7-bit ASCII JSON without control characters below 0x20
 * (DEL, 0x7f, is not escaped) followed by CR LF (§1/6-8),
 * each an object with exactly one of "QMP" (first, and only first),
 * "return", "error" or "event".  With FUZZ_SHOW set in the environment
 * the output is copied to stderr, to see what an input does.
 */
#include "fuzz.h"
#include "kitchen-sink-handlers.h"

#include <stdio.h>
#include <string.h>

#include <qapikit/monitor.h>

#include "qapi-init-commands.h"
#include "qapi-introspect.h"

static QmpCommandList *commands;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    ks_handlers_reset();
    commands = qmp_command_list_new();
    qmp_init_marshal(commands);
    return 0;
}

/* Which of the four message kinds OBJ is; fuzz_fail() unless one. */
static const char *message_kind(json_object *obj, const char *line)
{
    static const char *const kinds[] = { "QMP", "return", "error", "event" };
    const char *kind = NULL;

    if (!json_object_is_type(obj, json_type_object)) {
        fuzz_fail("a message that is no object: %s", line);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        if (json_object_object_get_ex(obj, kinds[i], NULL)) {
            if (kind) {
                fuzz_fail("a message both %s and %s: %s", kind, kinds[i], line);
            }
            kind = kinds[i];
        }
    }
    if (!kind) {
        fuzz_fail("a message of no known kind: %s", line);
    }
    return kind;
}

/* The monitor's output TEXT (LEN bytes) as §1 says it must be. */
static void check_output(const char *text, size_t len)
{
    size_t start = 0;
    unsigned count = 0;

    while (start < len) {
        const char *end = g_strstr_len(text + start, len - start, "\r\n");
        g_autofree char *line = NULL;
        json_tokener *tok;
        json_object *obj;
        const char *kind;

        if (!end) {
            fuzz_fail("output does not end with CR LF: %.*s",
                      (int)(len - start), text + start);
        }
        line = g_strndup(text + start, end - (text + start));
        for (const char *p = line; *p; p++) {
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7f) {
                fuzz_fail("byte 0x%02x in a message: %s",
                          (unsigned)(unsigned char)*p, line);
            }
        }
        if (strlen(line) != (size_t)(end - (text + start))) {
            fuzz_fail("NUL in a message");
        }
        tok = json_tokener_new();
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        obj = json_tokener_parse_ex(tok, line, (int)strlen(line) + 1);
        if (json_tokener_get_error(tok) != json_tokener_success) {
            fuzz_fail("a message that is no JSON (%s): %s",
                      json_tokener_error_desc(json_tokener_get_error(tok)),
                      line);
        }
        json_tokener_free(tok);
        kind = message_kind(obj, line);
        if ((count == 0) != !strcmp(kind, "QMP")) {
            fuzz_fail("message %u is a %s message: %s", count, kind, line);
        }
        json_object_put(obj);
        count++;
        start = end + 2 - text;
    }
    if (count == 0) {
        fuzz_fail("no greeting");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QmpMonitor *mon = qmp_monitor_new(commands, NULL);
    GInputStream *in =
        g_memory_input_stream_new_from_data(data, (gssize)size, NULL);
    GOutputStream *out = g_memory_output_stream_new_resizable();
    GIOStream *stream = g_simple_io_stream_new(in, out);
    GError *err = NULL;

    qmp_monitor_set_version(mon, 1, 2, 3, "fuzz");
    qmp_monitor_set_schema(mon, &qmp_schema_qlit);
    qmp_monitor_set_request_limits(mon, 4096, 32, 512);
    qmp_monitor_set_memory_limits(mon, 24 * 1024, 48 * 1024);
    if (!qmp_monitor_add_stream(mon, stream, &err)) {
        fuzz_fail("qmp_monitor_add_stream: %s", err->message);
    }
    while (qmp_monitor_session_count(mon)) {
        g_main_context_iteration(NULL, TRUE);
    }
    qmp_monitor_free(mon);
    if (g_getenv("FUZZ_SHOW")) {
        fwrite(
            g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)), 1,
            g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out)),
            stderr);
    }
    check_output(
        g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)),
        g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out)));
    g_object_unref(stream);
    g_object_unref(out);
    g_object_unref(in);
    ks_handlers_reset();
    return 0;
}
