/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: server messages as 7-bit ASCII JSON lines.
 */
#include "json-writer.h"
#include "utf8.h"

#include <string.h>

void qmp_append_ascii(GString *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, start = 0;

    while (i < len) {
        size_t seq_len = 1;
        int32_t cp;

        if (p[i] < 0x80) {
            i++;
            continue;
        }
        g_string_append_len(out, text + start, i - start);
        cp = qmp_utf8_decode(p + i, len - i, &seq_len);
        if (cp < 0) {
            g_string_append(out, "\\ufffd");
            seq_len = 1;
        } else if (cp >= 0x10000) {
            cp -= 0x10000;
            g_string_append_printf(out, "\\u%04x\\u%04x",
                                   (unsigned)(0xD800 + (cp >> 10)),
                                   (unsigned)(0xDC00 + (cp & 0x3FF)));
        } else {
            g_string_append_printf(out, "\\u%04x", (unsigned)cp);
        }
        i += seq_len;
        start = i;
    }
    g_string_append_len(out, text + start, len - start);
}

void qmp_append_message(GString *out, json_object *msg)
{
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

    qmp_append_ascii(out, text, len);
    g_string_append_len(out, "\r\n", 2);
}
