/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: server messages on the wire (docs/spec/qmp-protocol.md
 * §1/6-8).
 *
 * json-c writes raw UTF-8 and passes invalid bytes through; QMP output is
 * 7-bit ASCII.  qmp_append_message() serialises a message with json-c
 * (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) and rewrites
 * every byte from 0x80 up, all of which lie inside strings: a well-formed
 * UTF-8 sequence becomes \uXXXX (a surrogate pair above U+FFFF), each
 * byte of a malformed one \ufffd.  Private to the monitor.
 */
#ifndef QAPIKIT_MONITOR_JSON_WRITER_H
#define QAPIKIT_MONITOR_JSON_WRITER_H

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/*
 * Append TEXT (LEN bytes of json-c output) to OUT with every byte from
 * 0x80 up escaped as described above.
 */
void qmp_append_ascii(GString *out, const char *text, size_t len);

/*
 * Append MSG (lent; NULL is JSON null) as one line of 7-bit ASCII JSON
 * followed by CR LF.
 */
void qmp_append_message(GString *out, json_object *msg);

G_END_DECLS

#endif /* QAPIKIT_MONITOR_JSON_WRITER_H */
