/* SPDX-License-Identifier: MIT */
/*
 * The monitor's output writer (monitor/json-writer.c): json-c's text made
 * 7-bit ASCII (docs/spec/qmp-protocol.md §1/6-8), every escape and every kind
 * of malformed UTF-8.
 */
#include "json-writer.h"

#include <string.h>

static void check_ascii(const char *input, size_t len, const char *expected)
{
    g_autoptr(GString) out = g_string_new(NULL);

    qmp_append_ascii(out, input, len);
    g_assert_cmpstr(out->str, ==, expected);
    for (size_t i = 0; i < out->len; i++) {
        g_assert_cmpint((unsigned char)out->str[i], <, 0x80);
    }
}

#define CHECK(lit, expected) check_ascii(lit, sizeof(lit) - 1, expected)

static void test_ascii_passes(void)
{
    CHECK("", "");
    CHECK("{\"a\":[1,2.5,true,null]}", "{\"a\":[1,2.5,true,null]}");
    CHECK("\x7f", "\x7f");
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
    g_test_add_func("/json-writer/message", test_message);
    return g_test_run();
}
