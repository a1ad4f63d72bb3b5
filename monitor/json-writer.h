/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: server messages on the wire (docs/spec/qmp-protocol.md
 * §1/6-8).
 *
 * QMP output is 7-bit ASCII.  qmp_append_message() writes a json-c tree
 * as compact JSON (no white space; members in the object's order) and
 * escapes in every string what JSON requires (", \, control characters:
 * \b \f \n \r \t, others \u00XX) and every byte from 0x80 up: a
 * well-formed UTF-8 sequence becomes \uXXXX (a surrogate pair above
 * U+FFFF), each byte of a malformed one \ufffd.  Integers are written
 * in full (above INT64_MAX too), doubles as json-c writes them.  The
 * tree's custom serialisers (json_object_set_serializer) are not called,
 * except json-c's own for doubles.  Private to the monitor.
 */
#ifndef QAPIKIT_MONITOR_JSON_WRITER_H
#define QAPIKIT_MONITOR_JSON_WRITER_H

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/*
 * Append TEXT (LEN bytes, NULs included) as a JSON string literal,
 * escaped as described above.
 */
void qmp_append_string(GString *out, const char *text, size_t len);

/*
 * Append MSG (lent; NULL is JSON null) as one line of 7-bit ASCII JSON
 * followed by CR LF.
 */
void qmp_append_message(GString *out, json_object *msg);

G_END_DECLS

#endif /* QAPIKIT_MONITOR_JSON_WRITER_H */
