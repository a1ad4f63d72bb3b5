/* SPDX-License-Identifier: MIT */
/*
 * The monitor's output writer (monitor/json-writer.c): 7-bit ASCII JSON
 * (docs/spec/qmp-protocol.md §1/6-8), every escape and every kind of
 * malformed UTF-8, integers at their limits, and the same text as json-c's
 * own serialiser wherever that one is already ASCII.
 */
#include "json-writer.h"

#include <stdint.h>
#include <string.h>

/* TEXT (LEN bytes) as a string literal is "EXPECTED", all ASCII. */
static void check_ascii(const char *input, size_t len, const char *expected)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *quoted = g_strdup_printf("\"%s\"", expected);

    qmp_append_string(out, input, len);
    g_assert_cmpstr(out->str, ==, quoted);
    for (size_t i = 0; i < out->len; i++) {
        g_assert_cmpint((unsigned char)out->str[i], <, 0x80);
    }
}

#define CHECK(lit, expected) check_ascii(lit, sizeof(lit) - 1, expected)

static void test_ascii_passes(void)
{
    CHECK("", "");
    CHECK("a b/c~{}[]:,'", "a b/c~{}[]:,'");
    CHECK("\x7f", "\x7f");
}

static void test_escapes(void)
{
    CHECK("\"\\", "\\\"\\\\");
    CHECK("\b\f\n\r\t", "\\b\\f\\n\\r\\t");
    CHECK("\x01\x1f", "\\u0001\\u001f");
    check_ascii("a\0b", 3, "a\\u0000b");
}

static void test_well_formed(void)
{
    CHECK("\xc2\x80", "\\u0080");
    CHECK("\xc3\xa9", "\\u00e9");
    CHECK("\xdf\xbf", "\\u07ff");
    CHECK("\xe0\xa0\x80", "\\u0800");
    CHECK("\xe2\x82\xac", "\\u20ac");
    CHECK("\xed\x9f\xbf", "\\ud7ff");
    CHECK("\xee\x80\x80", "\\ue000");
    CHECK("\xef\xbf\xbd", "\\ufffd");
    CHECK("\xef\xbf\xbf", "\\uffff");
    CHECK("\xf0\x90\x80\x80", "\\ud800\\udc00");
    CHECK("\xf0\x9f\x98\x80", "\\ud83d\\ude00");
    CHECK("\xf4\x8f\xbf\xbf", "\\udbff\\udfff");
    CHECK("a\xc3\xa9z", "a\\u00e9z");
}

static void test_malformed(void)
{
    /* Stray continuation bytes, FE, FF. */
    CHECK("\x80", "\\ufffd");
    CHECK("\xbf\xbf", "\\ufffd\\ufffd");
    CHECK("\xfe\xff", "\\ufffd\\ufffd");
    /* Overlong forms, C0 80 included. */
    CHECK("\xc0\x80", "\\ufffd\\ufffd");
    CHECK("\xc1\xbf", "\\ufffd\\ufffd");
    CHECK("\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd");
    CHECK("\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd");
    /* Encoded surrogates, and code points above U+10FFFF. */
    CHECK("\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
    CHECK("\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd");
    CHECK("\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
    CHECK("\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd");
    /* 5- and 6-byte forms. */
    CHECK("\xf8\x88\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
    CHECK("\xfc\x84\x80\x80\x80\x80",
          "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd");
    /* Truncated sequences, at the end and before ASCII. */
    CHECK("\xc3", "\\ufffd");
    CHECK("\xe2\x82", "\\ufffd\\ufffd");
    CHECK("\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd");
    CHECK("\xe2\x82z", "\\ufffd\\ufffdz");
    CHECK("\xc3\xc3\xa9", "\\ufffd\\u00e9");
}

/*
 * Strings are scanned for escapes in runs: a non-ASCII character at every
 * offset from 0 to 24, with ASCII of every length after it.
 */
static void test_every_offset(void)
{
    for (size_t before = 0; before <= 24; before++) {
        for (size_t after = 0; after <= 17; after++) {
            g_autoptr(GString) input = g_string_new(NULL);
            g_autoptr(GString) expected = g_string_new(NULL);

            for (size_t i = 0; i < before; i++) {
                g_string_append_c(input, (char)('a' + i % 26));
            }
            g_string_append(expected, input->str);
            g_string_append(input, "\xe2\x82\xac");
            g_string_append(expected, "\\u20ac");
            for (size_t i = 0; i < after; i++) {
                g_string_append_c(input, (char)('A' + i % 26));
                g_string_append_c(expected, (char)('A' + i % 26));
            }
            check_ascii(input->str, input->len, expected->str);
        }
    }
}

static void check_message(json_object *msg, const char *expected)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *line = g_strconcat(expected, "\r\n", NULL);

    qmp_append_message(out, msg);
    g_assert_cmpstr(out->str, ==, line);
    json_object_put(msg);
}

static void test_integers(void)
{
    check_message(json_object_new_int64(0), "0");
    check_message(json_object_new_int64(-1), "-1");
    check_message(json_object_new_int64(INT64_MAX), "9223372036854775807");
    check_message(json_object_new_int64(INT64_MIN), "-9223372036854775808");
    check_message(json_object_new_uint64((uint64_t)INT64_MAX + 1),
                  "9223372036854775808");
    check_message(json_object_new_uint64(UINT64_MAX), "18446744073709551615");
}

/*
 * Wherever json-c's own text is ASCII, ours is the same: every kind of
 * value, nested, with empty containers and a double with its source text.
 */
static void test_same_as_json_c(void)
{
    static const char *const texts[] = {
        "null",
        "true",
        "[]",
        "{}",
        "[[],{},[{}],{\"\":[]}]",
        "{\"return\":{\"qemu\":{\"major\":9,\"minor\":-2,\"micro\":0},"
        "\"package\":\"a\\\"b\\\\c/d\\n\"},\"id\":[1,\"x\",null,false]}",
        "{\"timestamp\":{\"seconds\":1700000000,\"microseconds\":999999},"
        "\"event\":\"X\",\"data\":{\"d\":2.5,\"e\":1e300,\"f\":-0.0}}",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        enum json_tokener_error err;
        json_object *msg = json_tokener_parse_verbose(texts[i], &err);
        g_autofree char *expected = g_strdup(json_object_to_json_string_ext(
            msg, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

        g_assert_cmpint(err, ==, json_tokener_success);
        check_message(msg, expected);
    }
}

static void test_message(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    json_object *msg = json_object_new_object();

    json_object_object_add(
        msg, "s", json_object_new_string_len("\xc3\xa9/\n\x01\0\xff", 7));
    json_object_object_add(msg, "n", json_object_new_int64(-5));
    qmp_append_message(out, msg);
    g_assert_cmpstr(out->str, ==,
                    "{\"s\":\"\\u00e9/\\n\\u0001\\u0000\\ufffd\","
                    "\"n\":-5}\r\n");
    json_object_put(msg);

    /* JSON null, and a message appended after another. */
    qmp_append_message(out, NULL);
    g_assert_true(g_str_has_suffix(out->str, "\r\nnull\r\n"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-writer/ascii-passes", test_ascii_passes);
    g_test_add_func("/json-writer/well-formed", test_well_formed);
    g_test_add_func("/json-writer/malformed", test_malformed);
    g_test_add_func("/json-writer/escapes", test_escapes);
    g_test_add_func("/json-writer/every-offset", test_every_offset);
    g_test_add_func("/json-writer/integers", test_integers);
    g_test_add_func("/json-writer/same-as-json-c", test_same_as_json_c);
    g_test_add_func("/json-writer/message", test_message);
    return g_test_run();
}
