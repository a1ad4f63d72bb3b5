/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: server messages as 7-bit ASCII JSON lines.
 *
 * The tree is written here rather than by json-c's serialiser, which
 * formats every integer through snprintf, escapes into a buffer of its
 * own and leaves non-ASCII bytes for a second pass: writing straight
 * into the session's output buffer roughly halves the cost of a small
 * reply.
 */
#include "json-writer.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* The characters with a two-character escape, and its letter. */
static const char named[] = "\"\\\b\f\n\r\t";
static const char letters[] = "\"\\bfnrt";

/* Append \uXXXX for the UTF-16 code unit UNIT. */
static void append_unit(GString *out, unsigned unit)
{
    char esc[6] = { '\\',
                    'u',
                    hex_digits[(unit >> 12) & 0xF],
                    hex_digits[(unit >> 8) & 0xF],
                    hex_digits[(unit >> 4) & 0xF],
                    hex_digits[unit & 0xF] };

    g_string_append_len(out, esc, sizeof(esc));
}

/*
 * Append the escape of the character at P (AVAIL bytes readable, P[0]
 * needs one); returns how many bytes it took.
 */
static size_t append_escape(GString *out, const unsigned char *p, size_t avail)
{
    size_t seq_len = 1;
    int32_t cp;
    const char *hit = p[0] ? memchr(named, p[0], sizeof(named) - 1) : NULL;

    if (hit) {
        char esc[2] = { '\\', letters[hit - named] };

        g_string_append_len(out, esc, 2);
        return 1;
    }
    if (p[0] < 0x80) {
        append_unit(out, p[0]); /* another control character */
        return 1;
    }
    cp = qmp_utf8_decode(p, avail, &seq_len);
    if (cp < 0) {
        append_unit(out, 0xFFFD);
        return 1;
    }
    if (cp >= 0x10000) {
        cp -= 0x10000;
        append_unit(out, 0xD800 + ((unsigned)cp >> 10));
        append_unit(out, 0xDC00 + ((unsigned)cp & 0x3FF));
    } else {
        append_unit(out, (unsigned)cp);
    }
    return seq_len;
}

static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c >= 0x80 || c == '"' || c == '\\';
}

void qmp_append_string(GString *out, const char *text, size_t len)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, start = 0;

    g_string_append_c(out, '"');
    while (i < len) {
        if (!needs_escape(p[i])) {
            i++;
            continue;
        }
        g_string_append_len(out, text + start, i - start);
        i += append_escape(out, p + i, len - i);
        start = i;
    }
    g_string_append_len(out, text + start, len - start);
    g_string_append_c(out, '"');
}

/* json-c keeps integers above INT64_MAX apart and clamps them here. */
static void append_int(GString *out, json_object *value)
{
    char digits[24];
    char *end = digits + sizeof(digits), *p = end;
    int64_t n = json_object_get_int64(value);
    uint64_t magnitude;

    if (n == INT64_MAX) {
        magnitude = json_object_get_uint64(value);
    } else {
        magnitude = n < 0 ? -(uint64_t)n : (uint64_t)n;
    }
    do {
        *--p = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (n < 0) {
        *--p = '-';
    }
    g_string_append_len(out, p, end - p);
}

static void append_value(GString *out, json_object *value)
{
    bool first = true;

    switch (json_object_get_type(value)) {
    case json_type_null:
        g_string_append_len(out, "null", 4);
        break;
    case json_type_boolean:
        if (json_object_get_boolean(value)) {
            g_string_append_len(out, "true", 4);
        } else {
            g_string_append_len(out, "false", 5);
        }
        break;
    case json_type_int:
        append_int(out, value);
        break;
    case json_type_double:
        /* json-c's form, which keeps a number's source text (_s). */
        g_string_append(
            out, json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
        break;
    case json_type_string:
        qmp_append_string(out, json_object_get_string(value),
                          (size_t)json_object_get_string_len(value));
        break;
    case json_type_array:
        g_string_append_c(out, '[');
        for (size_t i = 0, n = json_object_array_length(value); i < n; i++) {
            if (i) {
                g_string_append_c(out, ',');
            }
            append_value(out, json_object_array_get_idx(value, i));
        }
        g_string_append_c(out, ']');
        break;
    case json_type_object:
        g_string_append_c(out, '{');
        json_object_object_foreach(value, key, member)
        {
            if (!first) {
                g_string_append_c(out, ',');
            }
            first = false;
            qmp_append_string(out, key, strlen(key));
            g_string_append_c(out, ':');
            append_value(out, member);
        }
        g_string_append_c(out, '}');
        break;
    }
}

void qmp_append_message(GString *out, json_object *msg)
{
    append_value(out, msg);
    g_string_append_len(out, "\r\n", 2);
}
