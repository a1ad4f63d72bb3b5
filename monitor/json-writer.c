/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: server messages as 7-bit ASCII JSON lines.
 */
#include "json-writer.h"

#include <string.h>

/*
 * The code point of the well-formed UTF-8 sequence at P (at most AVAIL
 * bytes; P[0] >= 0x80), storing its length in *LEN, or -1 when it is
 * malformed (overlong, surrogate, above U+10FFFF, truncated, stray).
 */
static gint32 decode_utf8(const unsigned char *p, size_t avail, size_t *len)
{
    gint32 cp;
    size_t need, i;
    unsigned char lo = 0x80, hi = 0xBF;

    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        need = 2;
        cp = p[0] & 0x1F;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 3;
        cp = p[0] & 0x0F;
        if (p[0] == 0xE0) {
            lo = 0xA0;
        } else if (p[0] == 0xED) {
            hi = 0x9F;
        }
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 4;
        cp = p[0] & 0x07;
        if (p[0] == 0xF0) {
            lo = 0x90;
        } else if (p[0] == 0xF4) {
            hi = 0x8F;
        }
    } else {
        return -1;
    }
    if (avail < need) {
        return -1;
    }
    for (i = 1; i < need; i++) {
        unsigned char c = p[i];

        if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF)) {
            return -1;
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    *len = need;
    return cp;
}

void qmp_append_ascii(GString *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, start = 0;

    while (i < len) {
        size_t seq_len = 1;
        gint32 cp;

        if (p[i] < 0x80) {
            i++;
            continue;
        }
        g_string_append_len(out, text + start, i - start);
        cp = decode_utf8(p + i, len - i, &seq_len);
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
