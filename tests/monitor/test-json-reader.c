/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the monitor's incremental JSON reader against
 * docs/spec/qmp-protocol.md §7 (both tables), §8 (the recovery table), §5/3
 * (numbers keep their source text), §1/5 and §1/12 (top-level numbers, end of
 * input).  Every table input is also fed byte by byte and in random
 * splits (fixed seeds), which must give the same callbacks.
 */
#include "json-reader.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <qapikit/error.h>

/* What the callbacks saw, in order: values, or errors ("!" + message). */
typedef struct Events {
    GPtrArray *values; /* json_object *, NULL entries for JSON null */
    GPtrArray *texts;  /* char *: "!msg" or the value's plain JSON */
    unsigned n_values, n_errors;
} Events;

static void put_value(gpointer value)
{
    json_object_put(value);
}

static void events_init(Events *ev)
{
    ev->values = g_ptr_array_new_with_free_func(put_value);
    ev->texts = g_ptr_array_new_with_free_func(g_free);
    ev->n_values = ev->n_errors = 0;
}

static void events_clear(Events *ev)
{
    g_ptr_array_unref(ev->values);
    g_ptr_array_unref(ev->texts);
}

static void on_value(json_object *value, size_t charge, void *opaque)
{
    Events *ev = opaque;

    g_assert_cmpuint(charge, ==, 0); /* no budget */
    g_ptr_array_add(ev->values, value);
    g_ptr_array_add(ev->texts,
                    g_strdup(json_object_to_json_string_ext(
                        value, JSON_C_TO_STRING_PLAIN)));
    ev->n_values++;
}

static void on_error(const GError *err, void *opaque)
{
    Events *ev = opaque;

    g_assert_true(err->domain == QAPI_ERROR);
    g_assert_cmpint(err->code, ==, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_true(g_str_has_prefix(err->message, "invalid JSON: "));
    g_ptr_array_add(ev->values, NULL);
    g_ptr_array_add(ev->texts, g_strconcat("!", err->message, NULL));
    ev->n_errors++;
}

typedef enum {
    FEED_WHOLE,
    FEED_BYTES,
    FEED_RANDOM
} FeedMode;

/* Feed INPUT to a fresh reader as MODE says, then end it. */
static void run(Events *ev, const JsonReaderLimits *limits, const char *input,
                size_t len, FeedMode mode, guint32 seed)
{
    g_autoptr(JsonReader) r = json_reader_new(limits, on_value, on_error, ev);
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);

    events_init(ev);
    switch (mode) {
    case FEED_WHOLE:
        json_reader_feed(r, input, len);
        break;
    case FEED_BYTES:
        for (size_t i = 0; i < len; i++) {
            json_reader_feed(r, input + i, 1);
        }
        break;
    case FEED_RANDOM:
        for (size_t i = 0; i < len;) {
            size_t n = (size_t)g_rand_int_range(rand, 0, 9);
            n = MIN(n, len - i);
            json_reader_feed(r, input + i, n);
            i += n;
        }
        break;
    }
    json_reader_end(r);
}

static char *events_join(const Events *ev)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < ev->texts->len; i++) {
        g_string_append(s, g_ptr_array_index(ev->texts, i));
        g_string_append_c(s, '\n');
    }
    return g_string_free(s, FALSE);
}

/*
 * Feed INPUT whole and check the callbacks against EXPECT (NULL-ended):
 * "!MSG" is an error with message "invalid JSON: MSG", "!" alone any
 * error; anything else is the JSON text of a value, compared with
 * json_object_equal().  Then check that every split gives the same.
 */
static void check_input(const JsonReaderLimits *limits, const char *input,
                        size_t len, const char *const *expect)
{
    Events whole, split;
    g_autofree char *whole_text = NULL;
    guint n = 0;

    run(&whole, limits, input, len, FEED_WHOLE, 0);
    for (; expect[n]; n++) {
        g_assert_cmpuint(n, <, whole.texts->len);
        const char *got = g_ptr_array_index(whole.texts, n);
        if (expect[n][0] == '!') {
            g_assert_cmpint(got[0], ==, '!');
            if (expect[n][1]) {
                g_autofree char *msg =
                    g_strconcat("!invalid JSON: ", expect[n] + 1, NULL);
                g_assert_cmpstr(got, ==, msg);
            }
        } else {
            enum json_tokener_error jerr;
            json_object *want = json_tokener_parse_verbose(expect[n], &jerr);
            g_assert_cmpint(jerr, ==, json_tokener_success);
            g_assert_cmpint(got[0], !=, '!');
            if (!json_object_equal(want, g_ptr_array_index(whole.values, n))) {
                g_error("value %u: got %s, want %s", n, got, expect[n]);
            }
            json_object_put(want);
        }
    }
    g_assert_cmpuint(n, ==, whole.texts->len);

    whole_text = events_join(&whole);
    for (int mode = FEED_BYTES; mode <= FEED_RANDOM; mode++) {
        for (guint32 seed = 1; seed <= (mode == FEED_RANDOM ? 4u : 1u);
             seed++) {
            g_autofree char *split_text = NULL;
            run(&split, limits, input, len, (FeedMode)mode, seed);
            split_text = events_join(&split);
            g_assert_cmpstr(split_text, ==, whole_text);
            events_clear(&split);
        }
    }
    events_clear(&whole);
}

typedef struct Case {
    const char *name;
    const char *input;
    size_t len; /* 0: strlen(input) */
    const char *expect[6];
} Case;

/* Inputs holding NUL bytes give their length. */
#define BIN(s) s, sizeof(s) - 1

/* §7, first table: one or more rows per line of the table. */
static const Case cases[] = {
    /* whitespace */
    { "ws/all",
      " \t\r\n{}\r\n[ \t\r\n1 \t\r\n,\r\n2\n]\t",
      0,
      { "{}", "[1,2]" } },
    { "ws/formfeed", "\f{}", 0, { "!unexpected byte 0x0C", "{}" } },
    { "ws/vtab-inside", "[1,\v2]", 0, { "!unexpected byte 0x0B" } },
    { "ws/nbsp", "\xC2\xA0[]", 0, { "!unexpected byte 0xC2", "[]" } },
    /* literals */
    { "literal/true", "true", 0, { "true" } },
    { "literal/all", "[true,false,null]", 0, { "[true,false,null]" } },
    { "literal/null-top", "null", 0, { "null" } },
    { "literal/True", "[True]", 0, { "!unexpected 'T'" } },
    { "literal/nul", "[nul]", 0, { "!bad literal 'nul' followed by ']'" } },
    { "literal/truex", "[truex]", 0, { "!unexpected 'x'" } },
    { "literal/unfinished", "nul", 0, { NULL } },
    /* numbers, valid */
    { "number/valid",
      "[0,-0,1,-1,10,1.5,-1.5,1e5,1E+5,1e-5,0.0e0,-0.0]",
      0,
      { "[0,0,1,-1,10,1.5,-1.5,1e5,1e5,1e-5,0.0,-0.0]" } },
    { "number/int64",
      "[9223372036854775807,-9223372036854775808]",
      0,
      { "[9223372036854775807,-9223372036854775808]" } },
    { "number/uint64",
      "[9223372036854775808,18446744073709551615]",
      0,
      { "[9223372036854775808,18446744073709551615]" } },
    { "number/top-level", "1 2\n3\r-4\t5", 0, { "1", "2", "3", "-4", "5" } },
    { "number/top-level-then-token", "1[2]3{}", 0, { "1", "[2]", "3", "{}" } },
    /* numbers, invalid */
    { "number/00", "[00]", 0, { "!bad number '00'" } },
    { "number/01", "[01]", 0, { "!bad number '01'" } },
    { "number/plus", "[+1]", 0, { "!unexpected '+'" } },
    { "number/dot5", "[.5]", 0, { "!unexpected '.'" } },
    { "number/1dot", "[1.]", 0, { "!bad number '1.' followed by ']'" } },
    { "number/minus", "[-]", 0, { "!bad number '-' followed by ']'" } },
    { "number/hex", "[0x10]", 0, { "!unexpected 'x'" } },
    { "number/1e+", "[1e+]", 0, { "!bad number '1e+' followed by ']'" } },
    { "number/1e", "[1e]", 0, { "!bad number '1e' followed by ']'" } },
    { "number/minus-minus", "[--1]", 0, { "!bad number '--'" } },
    { "number/NaN", "[NaN]", 0, { "!unexpected 'N'" } },
    { "number/Infinity", "[Infinity]", 0, { "!unexpected 'I'" } },
    { "number/-Infinity",
      "[-Infinity]",
      0,
      { "!bad number '-' followed by 'I'" } },
    { "number/1.e5", "[1.e5]", 0, { "!bad number '1.e'" } },
    /* strings */
    { "string/double", "[\"a'b\"]", 0, { "[\"a'b\"]" } },
    { "string/single", "['a\"b']", 0, { "[\"a\\\"b\"]" } },
    { "string/single-escape",
      "['a\\'b', \"a\\'b\"]",
      0,
      { "[\"a'b\",\"a'b\"]" } },
    { "string/single-key", "{'a': 'b'}", 0, { "{\"a\":\"b\"}" } },
    { "string/top-level", "\"x\"'y'", 0, { "\"x\"", "\"y\"" } },
    { "string/del", "[\"\x7F\"]", 0, { "[\"\x7F\"]" } },
    { "string/unterminated", "\"abc", 0, { NULL } },
    /* escapes */
    { "escape/all",
      "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u00E9\\u20AC\"]",
      0,
      { "[\"\\\"\\\\/\\b\\f\\n\\r\\tA\xC3\xA9\xC3\xA9\xE2\x82\xAC\"]" } },
    { "escape/z", "[\"\\z\"]", 0, { "!bad escape '\\z'" } },
    { "escape/ux", "[\"\\ux\"]", 0, { "!bad escape '\\ux'" } },
    { "escape/u12x", "[\"\\u12x\"]", 0, { "!bad escape '\\u12x'" } },
    { "escape/U", "[\"\\U0041\"]", 0, { "!bad escape '\\U'" } },
    { "escape/x", "[\"\\x41\"]", 0, { "!bad escape '\\x'" } },
    { "escape/0", "[\"\\0\"]", 0, { "!bad escape '\\0'" } },
    { "escape/u-short", "[\"\\u12\"]", 0, { "!bad escape '\\u12\"'" } },
    { "escape/newline",
      "[\"\\\n\"]",
      0,
      { "!bad escape: '\\' followed by byte 0x0A" } },
    /* raw control bytes */
    { "control/nul",
      BIN("[\"a\0b\"]"),
      { "!control character 0x00 in string" } },
    { "control/01", "[\"a\x01\"]", 0, { "!control character 0x01 in string" } },
    { "control/tab", "[\"a\tb\"]", 0, { "!control character 0x09 in string" } },
    /* the LF ends the bad line: "b" starts a new run of bad input */
    { "control/lf",
      "[\"a\nb\"]",
      0,
      { "!control character 0x0A in string", "!unexpected 'b'" } },
    { "control/1f", "[\"\x1F\"]", 0, { "!control character 0x1F in string" } },
    /* surrogates */
    { "surrogate/pair",
      "[\"\\ud83d\\ude00\",\"\\uDBFF\\uDFFD\"]",
      0,
      { "[\"\xF0\x9F\x98\x80\",\"\xF4\x8F\xBF\xBD\"]" } },
    { "surrogate/lone-high",
      "[\"\\ud800\"]",
      0,
      { "!high surrogate '\\uD800' not followed by a low one" } },
    { "surrogate/high-then-char",
      "[\"\\ud800x\"]",
      0,
      { "!high surrogate '\\uD800' not followed by a low one" } },
    { "surrogate/high-then-n",
      "[\"\\ud800\\n\"]",
      0,
      { "!high surrogate '\\uD800' not followed by a low one" } },
    { "surrogate/high-high",
      "[\"\\ud800\\ud800\"]",
      0,
      { "!high surrogate '\\uD800' followed by '\\uD800'" } },
    { "surrogate/lone-low",
      "[\"\\udc00\"]",
      0,
      { "!low surrogate '\\uDC00' without a high one" } },
    { "surrogate/reversed",
      "[\"\\ude00\\ud83d\"]",
      0,
      { "!low surrogate '\\uDE00' without a high one" } },
    /* noncharacters */
    { "nonchar/boundaries",
      "[\"\\ufdcf\\ufdf0\\ufffd\"]",
      0,
      { "[\"\xEF\xB7\x8F\xEF\xB7\xB0\xEF\xBF\xBD\"]" } },
    { "nonchar/fdd0",
      "[\"\\ufdd0\"]",
      0,
      { "!noncharacter U+FDD0 in string" } },
    { "nonchar/fdef",
      "[\"\\uFDEF\"]",
      0,
      { "!noncharacter U+FDEF in string" } },
    { "nonchar/fffe",
      "[\"\\ufffe\"]",
      0,
      { "!noncharacter U+FFFE in string" } },
    { "nonchar/ffff",
      "[\"\\uffff\"]",
      0,
      { "!noncharacter U+FFFF in string" } },
    { "nonchar/1fffe",
      "[\"\\ud83f\\udffe\"]",
      0,
      { "!noncharacter U+1FFFE in string" } },
    { "nonchar/10ffff",
      "[\"\\udbff\\udfff\"]",
      0,
      { "!noncharacter U+10FFFF in string" } },
    { "nonchar/raw-fdd0",
      "[\"\xEF\xB7\x90\"]",
      0,
      { "!noncharacter U+FDD0 in string" } },
    { "nonchar/raw-fffe",
      "[\"\xEF\xBF\xBE\"]",
      0,
      { "!noncharacter U+FFFE in string" } },
    { "nonchar/raw-1ffff",
      "[\"\xF0\x9F\xBF\xBF\"]",
      0,
      { "!noncharacter U+1FFFF in string" } },
    { "nonchar/raw-10ffff",
      "[\"\xF4\x8F\xBF\xBF\"]",
      0,
      { "!noncharacter U+10FFFF in string" } },
    /* \u0000 */
    { "nul/escaped", "[\"a\\u0000b\"]", 0, { "[\"a\\u0000b\"]" } },
    { "nul/in-key",
      "{\"a\\u0000b\": 1}",
      0,
      { "!object key 'a\\u0000...' contains U+0000" } },
    /* raw UTF-8, valid: the boundaries of each form */
    { "utf8/valid",
      "[\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBD"
      "\xF0\x90\x80\x80\xF4\x8F\xBF\xBD\xC3\xA9\xE2\x82\xAC\"]",
      0,
      { "[\"\\u0080\\u07ff\\u0800\\ud7ff\\ue000\\ufffd\\ud800\\udc00\\udbff\\ud"
        "ffd\\u00e9\\u20ac\"]" } },
    /* raw UTF-8, invalid */
    { "utf8/c080",
      "[\"\xC0\x80\"]",
      0,
      { "!overlong UTF-8 sequence (byte 0xC0) in string" } },
    { "utf8/c1bf",
      "[\"\xC1\xBF\"]",
      0,
      { "!overlong UTF-8 sequence (byte 0xC1) in string" } },
    { "utf8/e08080",
      "[\"\xE0\x80\x80\"]",
      0,
      { "!overlong UTF-8 sequence in string" } },
    { "utf8/e09fbf",
      "[\"\xE0\x9F\xBF\"]",
      0,
      { "!overlong UTF-8 sequence in string" } },
    { "utf8/f08f",
      "[\"\xF0\x8F\xBF\xBF\"]",
      0,
      { "!overlong UTF-8 sequence in string" } },
    { "utf8/eda080",
      "[\"\xED\xA0\x80\"]",
      0,
      { "!UTF-8 encoded surrogate in string" } },
    { "utf8/edbfbf",
      "[\"\xED\xBF\xBF\"]",
      0,
      { "!UTF-8 encoded surrogate in string" } },
    { "utf8/f49080",
      "[\"\xF4\x90\x80\x80\"]",
      0,
      { "!UTF-8 sequence above U+10FFFF in string" } },
    { "utf8/f5",
      "[\"\xF5\x80\x80\x80\"]",
      0,
      { "!UTF-8 sequence above U+10FFFF (byte 0xF5) in string" } },
    { "utf8/5byte",
      "[\"\xF8\x88\x80\x80\x80\"]",
      0,
      { "!5- or 6-byte UTF-8 sequence (byte 0xF8) in string" } },
    { "utf8/6byte",
      "[\"\xFC\x84\x80\x80\x80\x80\"]",
      0,
      { "!5- or 6-byte UTF-8 sequence (byte 0xFC) in string" } },
    { "utf8/stray-80",
      "[\"\x80\"]",
      0,
      { "!stray UTF-8 continuation byte 0x80 in string" } },
    { "utf8/stray-bf",
      "[\"a\xBF\"]",
      0,
      { "!stray UTF-8 continuation byte 0xBF in string" } },
    { "utf8/truncated-2",
      "[\"\xC3\"]",
      0,
      { "!truncated UTF-8 sequence in string" } },
    { "utf8/truncated-3",
      "[\"\xE2\x82\"]",
      0,
      { "!truncated UTF-8 sequence in string" } },
    { "utf8/truncated-4",
      "[\"\xF0\x9F\x98x\"]",
      0,
      { "!truncated UTF-8 sequence in string" } },
    { "utf8/fe", "[\"\xFE\"]", 0, { "!invalid UTF-8 byte 0xFE in string" } },
    { "utf8/ff", "[\"\xFF\"]", 0, { "!invalid UTF-8 byte 0xFF in string" } },
    /* object keys */
    { "key/duplicate", "{\"id\": 1, \"id\": 2}", 0, { "!duplicate key 'id'" } },
    { "key/duplicate-quotes",
      "{\"a\": 1, 'a': 2}",
      0,
      { "!duplicate key 'a'" } },
    { "key/duplicate-nested",
      "{\"x\": [{\"a\": 1, \"b\": {\"a\": 2, \"a\": 3}}]}",
      0,
      { "!duplicate key 'a'" } },
    { "key/same-in-siblings",
      "{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}]}",
      0,
      { "{\"a\": {\"a\": 1}, \"b\": [{\"a\": 1}, {\"a\": 2}]}" } },
    { "key/order", "{\"b\": 1, \"a\": 2}", 0, { "{\"b\": 1, \"a\": 2}" } },
    { "key/number",
      "{1: 2}",
      0,
      { "!unexpected number (expecting a key or '}')" } },
    { "key/missing-colon",
      "{\"a\" 1}",
      0,
      { "!unexpected number (expecting ':')" } },
    { "key/missing-value",
      "{\"a\": }",
      0,
      { "!unexpected '}' (expecting a value)" } },
    /* comments, trailing commas, BOM */
    { "comment/line", "{} // x\n{}", 0, { "{}", "!unexpected '/'", "{}" } },
    { "comment/block", "{/* x */}", 0, { "!unexpected '/'" } },
    { "comma/array", "[1,]", 0, { "!unexpected ']' (expecting a value)" } },
    { "comma/object",
      "{\"a\":1,}",
      0,
      { "!unexpected '}' (expecting a key)" } },
    { "comma/leading",
      "[,1]",
      0,
      { "!unexpected ',' (expecting a value or ']')" } },
    { "comma/double", "[1,,2]", 0, { "!unexpected ',' (expecting a value)" } },
    { "bom",
      "\xEF\xBB\xBF{\"execute\": \"x\"}",
      0,
      { "!unexpected byte 0xEF", "{\"execute\": \"x\"}" } },
    /* any other byte outside a string */
    { "byte/at", "@", 0, { "!unexpected '@'" } },
    { "byte/nul", BIN("\0"), { "!unexpected byte 0x00" } },
    { "byte/del", "[\x7F]", 0, { "!unexpected byte 0x7F" } },
    { "byte/ff", "\xFF", 0, { "!unexpected byte 0xFF" } },
    { "byte/close", "}", 0, { "!unexpected '}' (expecting a value)" } },
    { "byte/colon-in-array",
      "[1:2]",
      0,
      { "!unexpected ':' (expecting ',' or ']')" } },
    { "byte/string-after-value",
      "[1 \"a\"]",
      0,
      { "!unexpected string (expecting ',' or ']')" } },
    /* §8 recovery, with inputs small enough for the table */
    { "recovery/at-sign",
      "{\"execute\":\"query-version\",\"id\":\"i1\"}@{\"execute\":\"query-"
      "version\",\"id\":\"i2\"}",
      0,
      { "{\"execute\":\"query-version\",\"id\":\"i1\"}", "!unexpected '@'",
        "{\"execute\":\"query-version\",\"id\":\"i2\"}" } },
    { "recovery/missing-value", "{\"execute\": }", 0, { "!" } },
    { "recovery/two-bad-one-line",
      "{\"execute\": }{\"execute\" \"x\"}",
      0,
      { "!" } },
    { "recovery/two-bad-two-lines",
      "{\"execute\": }\n{\"execute\" \"x\"}",
      0,
      { "!", "!" } },
    { "recovery/crlf-lines", "@\r\n@\r\n{}", 0, { "!", "!", "{}" } },
    { "recovery/skip-scalars", "@ 1 \"x\" true {}", 0, { "!", "{}" } },
    { "recovery/tentative-fails-silently",
      "@{\"a\" 1}[}{\"b\": 2}",
      0,
      { "!", "{\"b\": 2}" } },
    /* The rest of a broken value is skipped whole, strings and brackets
     * followed: none of its parts is taken for a request. */
    { "recovery/error-at-bracket",
      "[1 {\"a\": 1}] {}",
      0,
      { "!unexpected '{' (expecting ',' or ']')", "{}" } },
    { "recovery/inner-request-not-run",
      "{\"execute\":\"x\",\"arguments\":{\"a\":1,\"a\":{\"execute\":\"quit\"}}"
      "}",
      0,
      { "!duplicate key 'a'" } },
    { "recovery/inner-object-one-error",
      "{\"execute\":\"q\" {}}{\"execute\":\"q\" {}}",
      0,
      { "!" } },
    { "recovery/inner-object-two-lines",
      "{\"execute\":\"q\" {}}\n{\"execute\":\"q\" {}}\n",
      0,
      { "!", "!" } },
    { "recovery/brackets-in-skipped-string",
      "{\"a\" \"}]{\" 1} {\"b\": 2}",
      0,
      { "!", "{\"b\": 2}" } },
    { "recovery/bad-escape-then-request",
      "{\"id\":\"a\\{\"}{\"id\":3}",
      0,
      { "!", "{\"id\":3}" } },
    { "recovery/next-line-runs",
      "{\"a\" [\n{\"id\":\"next\"}\n",
      0,
      { "!", "{\"id\":\"next\"}" } },
    { "recovery/bad-lines-each-one-error",
      "{\"a\" [\n{\"b\" [\n",
      0,
      { "!", "!" } },
    { "recovery/open-brackets-then-line", "{\"a\" [[[[\n{}", 0, { "!", "{}" } },
    { "recovery/resync-inside-broken-value",
      "{\"a\" [{\"x\x01{\"b\": 2}",
      0,
      { "!", "{\"b\": 2}" } },
    { "recovery/error-at-lf",
      "[\"a\n@\n",
      0,
      { "!control character 0x0A in string", "!unexpected '@'" } },
    { "recovery/control-byte-resync",
      "{\"execute\": \"x\x01{\"execute\": \"y\"}",
      0,
      { "!control character 0x01 in string", "{\"execute\": \"y\"}" } },
    /* a bad escape after a high surrogate leaves nothing pending */
    { "recovery/surrogate-then-bad-escape",
      "{\"id\":\"\\ud83d\\ude0+\"}{\"id\":\"\\u00e9\"}",
      0,
      { "!bad escape '\\ude0+'", "{\"id\":\"\xC3\xA9\"}" } },
};

static void test_case(gconstpointer data)
{
    const Case *c = data;

    check_input(NULL, c->input, c->len ? c->len : strlen(c->input), c->expect);
}

/* §8: 64 KiB of NUL bytes, then a valid request: one error, one value. */
static void test_recovery_nul_flood(void)
{
    static const char req[] = "{\"execute\":\"query-version\"}";
    size_t n = 65536;
    g_autofree char *input = g_malloc0(n + sizeof(req));
    const char *expect[] = { "!unexpected byte 0x00", req, NULL };

    memcpy(input + n, req, sizeof(req));
    check_input(NULL, input, n + sizeof(req) - 1, expect);
}

/* §8: 100,000 x '[' is one error, and the stack never passes the limit. */
static void test_recovery_bracket_flood(void)
{
    Events ev;
    JsonReader *r;
    char chunk[1000];
    size_t n = 100000;
    g_autofree char *input = g_malloc(n);
    const char *expect[] = { "!nesting deeper than 1024 levels", NULL };

    memset(chunk, '[', sizeof(chunk));
    events_init(&ev);
    r = json_reader_new(NULL, on_value, on_error, &ev);
    for (size_t i = 0; i < n; i += sizeof(chunk)) {
        json_reader_feed(r, chunk, sizeof(chunk));
        g_assert_cmpuint(json_reader_depth(r), <=, 1024);
    }
    json_reader_free(r);
    g_assert_cmpuint(ev.n_errors, ==, 1);
    g_assert_cmpuint(ev.n_values, ==, 0);
    events_clear(&ev);

    memset(input, '[', n);
    check_input(NULL, input, n, expect);
}

/* §7 limits at their defaults: 1024 levels parse, 1025 do not. */
static void test_limit_depth_default(void)
{
    g_autofree char *ok = g_malloc(2048);
    g_autofree char *deep = g_malloc(2050);
    const char *expect_deep[] = { "!nesting deeper than 1024 levels", NULL };
    Events ev;

    memset(ok, '[', 1024);
    memset(ok + 1024, ']', 1024);
    run(&ev, NULL, ok, 2048, FEED_WHOLE, 0);
    g_assert_cmpuint(ev.n_values, ==, 1);
    g_assert_cmpuint(ev.n_errors, ==, 0);
    events_clear(&ev);

    memset(deep, '[', 1025);
    check_input(NULL, deep, 1025, expect_deep);
}

static void test_limit_depth_lowered(void)
{
    JsonReaderLimits limits = { .max_depth = 3 };
    const char *ok[] = { "[[{}]]", NULL };
    /*
     * The offending '[' and the rest of the broken value are skipped
     * whole: one error, and no part of it is read as a value of its own.
     */
    const char *deep[] = { "!nesting deeper than 3 levels", "{}", NULL };

    check_input(&limits, "[[{}]]", 6, ok);
    check_input(&limits, "[[[[]]]] {}", 11, deep);
}

static void test_limit_bytes(void)
{
    JsonReaderLimits limits = { .max_bytes = 10 };
    const char *ok[] = { "[1,2,3,4]", "[1,2,3,4]", "1234567890", "[\"abcdef\"]",
                         NULL };
    const char *big[] = { "!value larger than 10 bytes", NULL };
    const char *big_string[] = { "!value larger than 10 bytes", "[]", NULL };
    Events ev;
    JsonReader *r;

    /* whitespace between top-level values does not count */
    static const char spaced[] =
        "  [1,2,3,4]  \n [1,2,3,4] 1234567890 [\"abcdef\"]";

    check_input(&limits, spaced, strlen(spaced), ok);
    check_input(&limits, "[1,2,3,4,5]", 11, big);
    check_input(&limits, "[\"abcdefghijklmnop\"]\n[]", 23, big_string);

    /* the limit falls inside a UTF-8 sequence and inside an escape */
    for (size_t max = 2; max <= 12; max++) {
        JsonReaderLimits small = { .max_bytes = max };
        static const char utf8[] = "[\"\xE2\x82\xAC\\n\xC3\xA9\"]\n{}";
        const char *fits[] = { "[\"\xE2\x82\xAC\\n\xC3\xA9\"]", "{}", NULL };
        const char *too_big[] = { "!", "{}", NULL };

        check_input(&small, utf8, strlen(utf8), max >= 11 ? fits : too_big);
    }

    /* refused at the byte that crosses the limit, without an end */
    events_init(&ev);
    r = json_reader_new(&limits, on_value, on_error, &ev);
    json_reader_feed(r, "\"abcdefgh", 9);
    g_assert_cmpuint(ev.n_errors, ==, 0);
    json_reader_feed(r, "ij", 2);
    g_assert_cmpuint(ev.n_errors, ==, 1);
    json_reader_free(r);
    events_clear(&ev);
}

static void test_limit_tokens(void)
{
    JsonReaderLimits limits = { .max_tokens = 5 };
    const char *ok[] = { "[1,2]", "{\"a\":1}", "7", NULL };
    const char *many[] = { "!more than 5 tokens in one value", NULL };

    check_input(&limits, "[1,2] {\"a\":1} 7", 15, ok);
    check_input(&limits, "[1,2,3]", 7, many);
}

/* §5/3: numbers re-serialise to their source text. */
static void test_number_text(void)
{
    static const struct {
        const char *in, *out;
        json_type type;
    } numbers[] = {
        { "0", "0", json_type_int },
        { "-0", "0", json_type_int },
        { "42", "42", json_type_int },
        { "9223372036854775807", "9223372036854775807", json_type_int },
        { "-9223372036854775808", "-9223372036854775808", json_type_int },
        { "9223372036854775808", "9223372036854775808", json_type_int },
        { "18446744073709551615", "18446744073709551615", json_type_int },
        { "18446744073709551616", "18446744073709551616", json_type_double },
        { "-9223372036854775809", "-9223372036854775809", json_type_double },
        { "123456789012345678901234567890", "123456789012345678901234567890",
          json_type_double },
        { "1.0", "1.0", json_type_double },
        { "1E2", "1E2", json_type_double },
        { "-0.0", "-0.0", json_type_double },
        { "1e-999", "1e-999", json_type_double },
        { "1e999", "1e999", json_type_double },
        { "-1e400", "-1e400", json_type_double },
        { "0.1", "0.1", json_type_double },
        { "2.50e+10", "2.50e+10", json_type_double },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++) {
        g_autofree char *top = g_strdup_printf("%s\n", numbers[i].in);
        g_autofree char *arr = g_strdup_printf("[%s]", numbers[i].in);
        g_autofree char *arr_out = g_strdup_printf("[%s]", numbers[i].out);
        Events ev;

        run(&ev, NULL, top, strlen(top), FEED_BYTES, 0);
        g_assert_cmpuint(ev.n_values, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(ev.texts, 0), ==, numbers[i].out);
        g_assert_cmpint(json_object_get_type(g_ptr_array_index(ev.values, 0)),
                        ==, numbers[i].type);
        events_clear(&ev);

        run(&ev, NULL, arr, strlen(arr), FEED_RANDOM, 7);
        g_assert_cmpuint(ev.n_values, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(ev.texts, 0), ==, arr_out);
        events_clear(&ev);
    }
}

/* Integers of the two ranges keep their json-c integer kind. */
static void test_number_kinds(void)
{
    Events ev;
    json_object *v;

    static const char input[] =
        "[9223372036854775808, -9223372036854775808, 1e999]";

    run(&ev, NULL, input, strlen(input), FEED_WHOLE, 0);
    g_assert_cmpuint(ev.n_values, ==, 1);
    v = g_ptr_array_index(ev.values, 0);
    g_assert_cmpuint(json_object_get_uint64(json_object_array_get_idx(v, 0)),
                     ==, G_GUINT64_CONSTANT(9223372036854775808));
    g_assert_cmpint(json_object_get_int64(json_object_array_get_idx(v, 1)), ==,
                    G_MININT64);
    g_assert_true(
        isinf(json_object_get_double(json_object_array_get_idx(v, 2))));
    events_clear(&ev);
}

/* §1/5 and §1/12: top-level numbers wait; end drops unfinished values. */
static void test_end(void)
{
    Events ev;
    JsonReader *r;

    events_init(&ev);
    r = json_reader_new(NULL, on_value, on_error, &ev);

    json_reader_feed(r, "4", 1);
    json_reader_feed(r, "2", 1);
    g_assert_cmpuint(ev.n_values, ==, 0);
    json_reader_end(r);
    g_assert_cmpuint(ev.n_values, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(ev.texts, 0), ==, "42");

    /* unfinished values of every kind vanish without an error */
    static const char *const unfinished[] = {
        "{\"a\":", "[1,",  "-",       "1.",        "1e",         "1e-", "tru",
        "\"abc",   "'a\\", "\"\\u12", "\"\\ud800", "\"\xE2\x82", "[[[",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(unfinished); i++) {
        json_reader_feed(r, unfinished[i], strlen(unfinished[i]));
        json_reader_end(r);
    }
    g_assert_cmpuint(ev.n_values, ==, 1);
    g_assert_cmpuint(ev.n_errors, ==, 0);

    /* the reader is ready again after end, even if it was skipping */
    json_reader_feed(r, "@ 1 ", 4);
    g_assert_cmpuint(ev.n_errors, ==, 1);
    g_assert_cmpuint(ev.n_values, ==, 1);
    json_reader_end(r);
    json_reader_feed(r, "1 {}", 4);
    g_assert_cmpuint(ev.n_values, ==, 3);

    /* a complete value needs no end; a number after one still waits */
    json_reader_feed(r, "{\"a\": [1]} 7", 12);
    g_assert_cmpuint(ev.n_values, ==, 4);
    json_reader_end(r);
    g_assert_cmpuint(ev.n_values, ==, 5);

    json_reader_free(r);
    events_clear(&ev);
    json_reader_free(NULL);
}

/* Values larger than one feed, and many values in one feed. */
static void test_large_and_many(void)
{
    GString *big = g_string_new("{\"data\": \"");
    GString *many = g_string_new(NULL);
    Events ev;

    for (int i = 0; i < 100000; i++) {
        g_string_append(big, "abcdefgh\\n\xC3\xA9");
    }
    g_string_append(big, "\", \"list\": [");
    for (int i = 0; i < 10000; i++) {
        g_string_append_printf(big, "%s%d.5", i ? "," : "", i);
    }
    g_string_append(big, "]}");
    run(&ev, NULL, big->str, big->len, FEED_RANDOM, 3);
    g_assert_cmpuint(ev.n_values, ==, 1);
    g_assert_cmpuint(ev.n_errors, ==, 0);
    json_object *data =
        json_object_object_get(g_ptr_array_index(ev.values, 0), "data");
    g_assert_cmpint(json_object_get_string_len(data), ==, 100000 * 11);
    events_clear(&ev);

    for (int i = 0; i < 1000; i++) {
        g_string_append_printf(many, "{\"execute\":\"x\",\"id\":%d}", i);
    }
    run(&ev, NULL, many->str, many->len, FEED_WHOLE, 0);
    g_assert_cmpuint(ev.n_values, ==, 1000);
    events_clear(&ev);

    g_string_free(big, TRUE);
    g_string_free(many, TRUE);
}

/* ---- memory budgets ---- */

/* Heap use is glibc's to measure, when its allocator serves malloc. */
#ifdef JSON_BUDGET_GIVES_BACK
#include <malloc.h>
#define MEASURE_HEAP 1
#endif

/* What the budget tests' callbacks saw: values, kept with their charge. */
typedef struct Held {
    JsonBudget *budget;
    GPtrArray *values;
    size_t charge; /* of the values held */
    unsigned n_errors;
    char *last_error;
} Held;

static void held_value(json_object *value, size_t charge, void *opaque)
{
    Held *h = opaque;

    g_ptr_array_add(h->values, value);
    h->charge += charge;
}

static void held_error(const GError *err, void *opaque)
{
    Held *h = opaque;

    h->n_errors++;
    g_free(h->last_error);
    h->last_error = g_strdup(err->message);
}

static void held_init(Held *h, JsonBudget *budget)
{
    h->budget = budget;
    h->values = g_ptr_array_sized_new(16);
    h->charge = 0;
    h->n_errors = 0;
    h->last_error = NULL;
}

/* Free the values held, then release their charge (as a callee must). */
static void held_release(Held *h)
{
    for (guint i = 0; i < h->values->len; i++) {
        json_object_put(h->values->pdata[i]);
    }
    g_ptr_array_set_size(h->values, 0);
    json_budget_release(h->budget, h->charge);
    h->charge = 0;
}

static void held_clear(Held *h)
{
    held_release(h);
    g_ptr_array_free(h->values, TRUE);
    g_free(h->last_error);
}

/* A reader with the default limits whose values H holds, charging BUDGET. */
static JsonReader *held_reader_new(Held *h, JsonBudget *budget)
{
    JsonReader *r;

    held_init(h, budget);
    r = json_reader_new(NULL, held_value, held_error, h);
    json_reader_set_budget(r, budget);
    return r;
}

static void feed_text(JsonReader *r, const char *text)
{
    json_reader_feed(r, text, strlen(text));
}

/* "[" HEAD, then N times ITEM (printf with I), then TAIL. */
static GString *repeat(const char *head, const char *item, const char *tail,
                       unsigned n)
{
    GString *s = g_string_new(head);

    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(s, item, i, i, i);
    }
    g_string_append(s, tail);
    return s;
}

/*
 * A string whose text the budget refused leaves no buffer behind that
 * the budget did not grant: the next value, with a string of its own,
 * is read.
 */
static void test_budget_refused_buffer(void)
{
    JsonBudget budget = { .name = "session", .limit = 4096 };
    g_autoptr(GString) input = repeat("[\"", "x", "\"] [\"ok\"]", 3000);
    Held h;
    JsonReader *r = held_reader_new(&h, &budget);

    json_reader_feed(r, input->str, input->len);
    g_assert_cmpuint(h.n_errors, ==, 1);
    g_assert_nonnull(strstr(h.last_error, "session's budget"));
    g_assert_cmpuint(h.values->len, ==, 1);
    held_clear(&h);
    json_reader_free(r);
    g_assert_cmpuint(budget.used, ==, 0);
}

/*
 * §8: a string refused by the budget where a run of its text ends with
 * an escaped quote: the rest of the string is skipped as string, so the
 * next value is read, whole or byte by byte.
 */
static void test_budget_escaped_quote(void)
{
    g_autoptr(GString) input =
        repeat("[\"", "x", "\\\"\\u0041\"] [\"ok\"]", 1000);

    for (int bytewise = 0; bytewise < 2; bytewise++) {
        JsonBudget budget = { .name = "session", .limit = 1024 };
        JsonReader *r;
        Held h;

        r = held_reader_new(&h, &budget);
        for (size_t i = 0; i < input->len; i += bytewise ? 1 : input->len) {
            json_reader_feed(r, input->str + i, bytewise ? 1 : input->len);
        }
        g_assert_cmpuint(h.n_errors, ==, 1);
        g_assert_nonnull(strstr(h.last_error, "session's budget"));
        g_assert_cmpuint(h.values->len, ==, 1);
        held_clear(&h);
        json_reader_free(r);
    }
}

/*
 * A reader that has read a value, or ended, holds what a new one holds:
 * the token buffers that a long string grew are given back with their
 * charge, so that what a value may use never depends on the values
 * before it.
 */
static void test_budget_end_gives_back(void)
{
    JsonBudget budget = { .name = "session", .limit = 64 * 1024 };
    g_autoptr(GString) string = repeat("[\"", "x", "\"]", 3000);
    JsonReader *r;
    size_t idle;
    Held h;

    r = held_reader_new(&h, &budget);
    idle = budget.used;
    for (int round = 0; round < 2; round++) {
        json_reader_feed(r, string->str, string->len);
        g_assert_cmpuint(h.n_errors, ==, 0);
        g_assert_cmpuint(h.values->len, ==, 1);
        held_release(&h);
        /* Already after the value, not only after the end of input. */
        g_assert_cmpuint(budget.used, ==, idle);
        json_reader_end(r);
        g_assert_cmpuint(budget.used, ==, idle);
    }
    held_clear(&h);
    json_reader_free(r);
    g_assert_cmpuint(budget.used, ==, 0);
}

/*
 * §7: a value whose memory would pass the budget is refused at once, as
 * one past the size limit: one error, its tree freed, the rest of it
 * skipped, the next one read; the charge of a delivered value goes to
 * the callee.
 */
static void test_budget_refuses(void)
{
    JsonBudget budget = { .name = "session", .limit = 64 * 1024 };
    g_autoptr(GString) objects =
        repeat("{\"execute\":\"x\",\"id\":[", "{},", "{}]}\n", 1000);
    g_autoptr(GString) string = repeat("[\"", "x", "\"]\n", 100000);
    JsonReader *r;
    size_t idle;
    Held h;

    r = held_reader_new(&h, &budget);
    idle = budget.used; /* the token buffers */
    g_assert_cmpuint(idle, >, 0);

    /* 1000 empty objects take about 780 KiB: refused on the way. */
    json_reader_feed(r, objects->str, 2000);
    g_assert_cmpuint(h.n_errors, ==, 1);
    g_assert_nonnull(strstr(h.last_error,
                            "invalid JSON: value needs more "
                            "memory than the session's budget "
                            "of 65536 bytes"));
    g_assert_cmpuint(budget.used, ==, idle);
    g_assert_cmpuint(budget.peak, <=, budget.limit);
    json_reader_feed(r, objects->str + 2000, objects->len - 2000);
    feed_text(r, "{\"execute\":\"y\"}");
    g_assert_cmpuint(h.n_errors, ==, 1);
    g_assert_cmpuint(h.values->len, ==, 1);
    /* the object, the key "execute", the string "y" */
    g_assert_cmpuint(h.charge, ==, 784 + 32 + 80);
    g_assert_cmpuint(budget.used, ==, idle + h.charge);
    held_release(&h);
    g_assert_cmpuint(budget.used, ==, idle);

    /* A string's text counts as it is read. */
    json_reader_feed(r, string->str, string->len);
    g_assert_cmpuint(h.n_errors, ==, 2);
    g_assert_nonnull(strstr(h.last_error, "session's budget"));
    g_assert_cmpuint(budget.used, ==, idle);
    feed_text(r, "[\"short\"]");
    g_assert_cmpuint(h.values->len, ==, 1);
    held_clear(&h);

    json_reader_free(r);
    g_assert_cmpuint(budget.used, ==, 0);
}

/*
 * A session's first GUARANTEED bytes are its own whatever the others
 * hold of the monitor's budget; beyond them the monitor's limit counts.
 */
static void test_budget_guaranteed(void)
{
    JsonBudget monitor = { .name = "monitor", .limit = 256 * 1024 };
    JsonBudget a = { .name = "session",
                     .guaranteed = 32 * 1024,
                     .parent = &monitor };
    JsonBudget b = a;
    g_autoptr(GString) hog = repeat("[", "{},", "", 300);
    g_autoptr(GString) small = repeat("[", "{},", "{}]", 20);
    g_autoptr(GString) large = repeat("[", "{},", "{}]", 100);
    JsonReader *ra, *rb;
    Held ha, hb;

    held_init(&ha, &a);
    held_init(&hb, &b);
    ra = json_reader_new(NULL, held_value, held_error, &ha);
    rb = json_reader_new(NULL, held_value, held_error, &hb);
    json_reader_set_budget(ra, &a);
    json_reader_set_budget(rb, &b);

    /* A holds most of the monitor's budget with an unfinished value. */
    json_reader_feed(ra, hog->str, hog->len);
    g_assert_cmpuint(ha.n_errors, ==, 0);
    g_assert_cmpuint(monitor.used, ==, a.used + b.used);
    g_assert_cmpuint(monitor.limit - monitor.used, <, 32 * 1024);

    /* B still reads a value within its guaranteed part... */
    json_reader_feed(rb, small->str, small->len);
    g_assert_cmpuint(hb.n_errors, ==, 0);
    g_assert_cmpuint(hb.values->len, ==, 1);
    held_release(&hb);
    /* ...but not one beyond it: the monitor's budget is spent. */
    json_reader_feed(rb, large->str, large->len);
    g_assert_cmpuint(hb.n_errors, ==, 1);
    g_assert_nonnull(strstr(hb.last_error,
                            "the monitor's budget of "
                            "262144 bytes"));
    /* Once A's value is gone, it is read. */
    json_reader_end(ra);
    g_assert_cmpuint(monitor.used, ==, a.used + b.used);
    json_reader_feed(rb, "\n", 1);
    json_reader_feed(rb, large->str, large->len);
    g_assert_cmpuint(hb.n_errors, ==, 1);
    g_assert_cmpuint(hb.values->len, ==, 1);

    held_clear(&ha);
    held_clear(&hb);
    json_reader_free(ra);
    json_reader_free(rb);
    g_assert_cmpuint(a.used, ==, 0);
    g_assert_cmpuint(b.used, ==, 0);
    g_assert_cmpuint(monitor.used, ==, 0);
}

/*
 * The estimate is honest: what a value is charged is within 25% of the
 * heap it takes, as glibc counts it (mallinfo2), for every kind of node.
 * glibc's allocator only, not AddressSanitizer's.
 */
static void test_budget_estimate(void)
{
#ifdef MEASURE_HEAP
    static const struct {
        const char *head, *item, *tail;
        unsigned n;
    } shapes[] = {
        { "[", "{},", "{}]", 20000 },
        { "[", "[],", "[]]", 20000 },
        { "[", "[%u,%u],", "[]]", 20000 },
        { "{", "\"member%u\":%u,", "\"last\":0}", 20000 },
        { "[", "{\"a\":%u,\"b\":%u},", "{}]", 10000 },
        { "[", "\"s%u\",", "\"\"]", 20000 },
        { "[",
          "\"a string of some hundred bytes, as a file name or "
          "a description might be; this one is %u, then padding "
          ".......................\",",
          "\"\"]", 10000 },
        { "[", "%u,", "0]", 20000 },
        { "[", "%u.5,", "0]", 20000 },
        { "[", "true,false,null,", "0]", 10000 },
        { "[",
          "{\"execute\":\"blockdev-snapshot-sync\",\"arguments\":"
          "{\"device\":\"disk%u\",\"snapshot-file\":\"/var/lib/"
          "images/disk%u-snap.qcow2\",\"format\":\"qcow2\"},"
          "\"id\":%u},",
          "{}]", 5000 },
        { "", "[", "", 1000 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        JsonBudget budget = { .name = "test" };
        g_autoptr(GString) in =
            repeat(shapes[i].head, shapes[i].item, shapes[i].tail, shapes[i].n);
        JsonReader *r;
        size_t before, used, heap;
        double ratio;
        Held h;

        if (!shapes[i].tail[0]) { /* the nested arrays: close them */
            for (unsigned k = 0; k < shapes[i].n; k++) {
                g_string_append_c(in, ']');
            }
        }
        held_init(&h, &budget);
        r = json_reader_new(NULL, held_value, held_error, &h);
        json_reader_set_budget(r, &budget);
        malloc_trim(0);
        before = mallinfo2().uordblks;
        used = budget.used;
        json_reader_feed(r, in->str, in->len);
        heap = mallinfo2().uordblks - before;
        used = budget.used - used;
        g_assert_cmpuint(h.values->len, ==, 1);
        ratio = (double)used / (double)heap;
        g_test_message("%.40s...: charged %zu bytes for %zu of heap (%.3f)",
                       in->str, used, heap, ratio);
        g_assert_cmpfloat(ratio, >=, 0.9);
        g_assert_cmpfloat(ratio, <=, 1.25);
        held_clear(&h);
        json_reader_free(r);
        g_assert_cmpuint(budget.used, ==, 0);
    }
#else
    g_test_skip("the heap is glibc's only without AddressSanitizer");
#endif
}

#ifdef MEASURE_HEAP
/* This process's resident memory, in bytes. */
static size_t resident_bytes(void)
{
    g_autofree char *statm = NULL;
    unsigned long size = 0, resident = 0;

    g_assert_true(g_file_get_contents("/proc/self/statm", &statm, NULL, NULL));
    g_assert_cmpint(sscanf(statm, "%lu %lu", &size, &resident), ==, 2);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}
#endif

/*
 * A session's budget held a megabyte; what the session kept beside it
 * (32 MiB of small buffers, never charged) is freed after the last
 * release, so no release gives it back: retiring the budget does.
 */
static void test_budget_retire_gives_back(void)
{
#ifdef MEASURE_HEAP
    JsonBudget top = { .name = "monitor" };
    JsonBudget session = { .name = "session", .parent = &top };
    enum {
        N = 32 * 1024,
        SIZE = 1024
    };
    char **chunks = g_new(char *, N + 1);
    size_t before;

    g_assert_true(json_budget_charge(&session, 1024 * 1024, NULL));
    for (size_t i = 0; i <= N; i++) {
        chunks[i] = g_malloc(SIZE);
        memset(chunks[i], 1, SIZE);
    }
    json_budget_release(&session, 1024 * 1024);
    /* All but the last: the heap's top stays in use, no automatic trim. */
    for (size_t i = 0; i < N; i++) {
        g_free(chunks[i]);
    }
    before = resident_bytes();
    g_assert_cmpuint(session.peak, ==, 1024 * 1024);
    json_budget_retire(&session);
    g_assert_cmpuint(session.peak, ==, 0);
    g_test_message("resident %zu KiB before retiring, %zu KiB after",
                   before / 1024, resident_bytes() / 1024);
    g_assert_cmpuint(resident_bytes() + 16 * 1024 * 1024, <, before);
    g_free(chunks[N]);
    g_free(chunks);
#else
    g_test_skip("the heap is glibc's only without AddressSanitizer");
#endif
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/json-reader/input/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/json-reader/recovery/nul-flood", test_recovery_nul_flood);
    g_test_add_func("/json-reader/recovery/bracket-flood",
                    test_recovery_bracket_flood);
    g_test_add_func("/json-reader/limit/depth-default",
                    test_limit_depth_default);
    g_test_add_func("/json-reader/limit/depth-lowered",
                    test_limit_depth_lowered);
    g_test_add_func("/json-reader/limit/bytes", test_limit_bytes);
    g_test_add_func("/json-reader/limit/tokens", test_limit_tokens);
    g_test_add_func("/json-reader/number/text", test_number_text);
    g_test_add_func("/json-reader/number/kinds", test_number_kinds);
    g_test_add_func("/json-reader/end", test_end);
    g_test_add_func("/json-reader/large-and-many", test_large_and_many);
    g_test_add_func("/json-reader/budget/refuses", test_budget_refuses);
    g_test_add_func("/json-reader/budget/end-gives-back",
                    test_budget_end_gives_back);
    g_test_add_func("/json-reader/budget/refused-buffer",
                    test_budget_refused_buffer);
    g_test_add_func("/json-reader/budget/escaped-quote",
                    test_budget_escaped_quote);
    g_test_add_func("/json-reader/budget/guaranteed", test_budget_guaranteed);
    g_test_add_func("/json-reader/budget/retire-gives-back",
                    test_budget_retire_gives_back);
    g_test_add_func("/json-reader/budget/estimate", test_budget_estimate);
    return g_test_run();
}
