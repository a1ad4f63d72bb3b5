/* SPDX-License-Identifier: MIT */
/*
 * The JSON output visitor, and round trips JSON -> C -> JSON.
 */
#include <math.h>
#include <string.h>

#include "visitor-test-types.h"

static const char *plain(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
}

static void test_integers(void)
{
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = NULL;
    int8_t i8 = INT8_MIN;
    int16_t i16 = INT16_MAX;
    int32_t i32 = INT32_MIN;
    int64_t i64 = INT64_MIN;
    uint8_t u8 = UINT8_MAX;
    uint16_t u16 = UINT16_MAX;
    uint32_t u32 = UINT32_MAX;
    uint64_t u64 = UINT64_MAX;
    uint64_t sz = (uint64_t)INT64_MAX + 1;
    uint64_t small = 5;
    GError *err = NULL;
    json_object *value;

    g_assert_true(visit_start_struct(v, NULL, NULL, 0, &err));
    g_assert_true(visit_type_int8(v, "i8", &i8, &err));
    g_assert_true(visit_type_int16(v, "i16", &i16, &err));
    g_assert_true(visit_type_int32(v, "i32", &i32, &err));
    g_assert_true(visit_type_int64(v, "i64", &i64, &err));
    g_assert_true(visit_type_int(v, "i", &i64, &err));
    g_assert_true(visit_type_uint8(v, "u8", &u8, &err));
    g_assert_true(visit_type_uint16(v, "u16", &u16, &err));
    g_assert_true(visit_type_uint32(v, "u32", &u32, &err));
    g_assert_true(visit_type_uint64(v, "u64", &u64, &err));
    g_assert_true(visit_type_size(v, "sz", &sz, &err));
    g_assert_true(visit_type_uint64(v, "small", &small, &err));
    g_assert_true(visit_check_struct(v, &err));
    visit_end_struct(v, NULL);
    g_assert_no_error(err);
    visit_complete(v, &out);
    visit_free(v);

    g_assert_cmpstr(plain(out), ==,
                    "{\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,"
                    "\"i64\":-9223372036854775808,"
                    "\"i\":-9223372036854775808,\"u8\":255,\"u16\":65535,"
                    "\"u32\":4294967295,\"u64\":18446744073709551615,"
                    "\"sz\":9223372036854775808,\"small\":5}");
    g_assert_true(json_object_object_get_ex(out, "u64", &value));
    g_assert_cmpuint(json_object_get_uint64(value), ==, UINT64_MAX);
    g_assert_true(json_object_object_get_ex(out, "small", &value));
    g_assert_cmpint(json_object_get_int64(value), ==, 5);
    json_object_put(out);
}

static void test_scalars(void)
{
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = NULL;
    json_object *any = json_object_new_array();
    json_object *no_any = NULL;
    char *str = NULL;
    char *hello = (char *)"h\xc3\xa9";
    bool yes = true;
    double number = -0.25;
    QapiNull *null = qapi_null_get();
    int color = TEST_COLOR_CYAN;
    bool present = true;
    GError *err = NULL;
    GenericList *list = NULL;

    json_object_array_add(any, json_object_new_int(1));
    g_assert_true(visit_start_list(v, "l", &list, sizeof(strList), &err));
    g_assert_true(visit_type_str(v, NULL, &str, &err));
    g_assert_true(visit_type_str(v, NULL, &hello, &err));
    g_assert_true(visit_type_bool(v, NULL, &yes, &err));
    g_assert_true(visit_type_number(v, NULL, &number, &err));
    g_assert_true(visit_type_null(v, NULL, &null, &err));
    g_assert_true(visit_type_any(v, NULL, &any, &err));
    g_assert_true(visit_type_any(v, NULL, &no_any, &err));
    g_assert_true(visit_type_enum(v, NULL, &color, &TestColor_lookup, &err));
    /* Output takes presence as given. */
    g_assert_true(visit_optional(v, "x", &present));
    present = false;
    g_assert_false(visit_optional(v, "x", &present));
    g_assert_true(visit_check_list(v, &err));
    visit_end_list(v, NULL);
    g_assert_no_error(err);
    visit_complete(v, &out);
    visit_free(v);

    g_assert_cmpstr(plain(out), ==,
                    "[\"\",\"h\xc3\xa9\",true,-0.25,null,[1],null,\"cyan\"]");
    /* The any is shared, not copied. */
    g_assert_true(json_object_array_get_idx(out, 5) == any);
    json_object_put(out);
    g_assert_cmpint(json_object_put(any), ==, 1);
}

static void test_root_values(void)
{
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = (json_object *)&v;
    QapiNull *null = qapi_null_get();
    int64_t num = 3;

    /* Nothing visited, or null: JSON null is NULL. */
    visit_complete(v, &out);
    g_assert_null(out);
    visit_free(v);

    v = qapi_json_output_visitor_new();
    g_assert_true(visit_type_null(v, NULL, &null, NULL));
    out = (json_object *)&v;
    visit_complete(v, &out);
    g_assert_null(out);
    visit_free(v);

    v = qapi_json_output_visitor_new();
    g_assert_true(visit_type_int(v, "ignored", &num, NULL));
    visit_complete(v, &out);
    visit_free(v);
    /* A reference of its own: the visitor is gone. */
    g_assert_cmpstr(plain(out), ==, "3");
    g_assert_cmpint(json_object_put(out), ==, 1);
}

static void test_enum_out_of_range(void)
{
    TestDev dev0 = { .device = (char *)"d0" };
    TestDev dev1 = { .device = (char *)"d1",
                     .has_format = true,
                     .format = (TestColor)42 };
    TestDevList node1 = { .value = &dev1 };
    TestDevList node0 = { .next = &node1, .value = &dev0 };
    TestArgs args = { .devlist = &node0 };
    TestArgs *ptr = &args;
    Visitor *v = qapi_json_output_visitor_new();
    GError *err = NULL;
    int val = -1;

    g_assert_false(visit_type_TestArgs(v, NULL, &ptr, &err));
    test_assert_error(err,
                      "'devlist[1].format': 42 is not a value of the "
                      "enum");
    g_clear_error(&err);
    visit_free(v);

    v = qapi_json_output_visitor_new();
    g_assert_false(visit_type_enum(v, NULL, &val, &TestColor_lookup, &err));
    test_assert_error(err, "the value: -1 is not a value of the enum");
    g_clear_error(&err);
    visit_free(v);

    v = qapi_json_output_visitor_new();
    val = TEST_COLOR__MAX;
    g_assert_false(visit_type_enum(v, "c", &val, &TestColor_lookup, &err));
    test_assert_error(err, "'c': 4 is not a value of the enum");
    g_clear_error(&err);
    visit_free(v);
}

static TestAll *make_all(void)
{
    void *obj;
    GError *err = NULL;

    g_assert_true(test_input(
        "{\"i\": 1, \"i8\": 2, \"i16\": 3, \"i32\": 4, \"i64\": 5, "
        "\"u8\": 6, \"u16\": 7, \"u32\": 8, \"u64\": 9, \"sz\": 10, "
        "\"b\": false, \"n\": 1.5, \"s\": \"s\", \"color\": \"blue\", "
        "\"any\": null, \"old\": 11}",
        TEST_VISIT(TestAll), &obj, &err));
    g_assert_no_error(err);
    return obj;
}

static void test_non_finite(void)
{
    TestAll *all = make_all();
    Visitor *v = qapi_json_output_visitor_new();
    GError *err = NULL;

    all->n = NAN;
    g_assert_false(visit_type_TestAll(v, NULL, &all, &err));
    test_assert_error(err, "'n' is not a finite number");
    g_clear_error(&err);
    visit_free(v);

    v = qapi_json_output_visitor_new();
    all->n = -INFINITY;
    g_assert_false(visit_type_TestAll(v, "x", &all, &err));
    test_assert_error(err, "'x.n' is not a finite number");
    g_clear_error(&err);
    visit_free(v);
    qapi_free_TestAll(all);
}

static void test_policy(void)
{
    TestAll *all = make_all();
    QapiCompatPolicy hide = { .deprecated_output = QAPI_OUTPUT_HIDE };
    QapiCompatPolicy accept = { 0 };
    json_object *out;

    out = test_output(all, TEST_VISIT(TestAll));
    g_assert_true(json_object_object_get_ex(out, "old", NULL));
    json_object_put(out);

    qapi_compat_policy_set(&hide);
    out = test_output(all, TEST_VISIT(TestAll));
    g_assert_false(json_object_object_get_ex(out, "old", NULL));
    /* Enum values are written whatever their features. */
    g_assert_cmpstr(
        json_object_get_string(json_object_object_get(out, "color")), ==,
        "blue");
    json_object_put(out);
    qapi_compat_policy_set(&accept);
    qapi_free_TestAll(all);
}

static void test_member_order(void)
{
    TestAll *all = make_all();
    json_object *out = test_output(all, TEST_VISIT(TestAll));

    /* Schema order, optional members only when present. */
    g_assert_cmpstr(plain(out), ==,
                    "{\"i\":1,\"i8\":2,\"i16\":3,\"i32\":4,\"i64\":5,"
                    "\"u8\":6,\"u16\":7,\"u32\":8,\"u64\":9,\"sz\":10,"
                    "\"b\":false,\"n\":1.5,\"s\":\"s\",\"color\":\"blue\","
                    "\"any\":null,\"old\":11}");
    json_object_put(out);
    qapi_free_TestAll(all);
}

static void round_trip(const char *text,
                       bool (*visit_type)(Visitor *, const char *, void **,
                                          GError **),
                       void (*free_fn)(void *))
{
    json_object *in = test_parse(text);
    json_object *out;
    void *obj;
    GError *err = NULL;

    g_assert_true(test_input(text, visit_type, &obj, &err));
    g_assert_no_error(err);
    out = test_output(obj, visit_type);
    if (!json_object_equal(in, out)) {
        g_error("round trip of %s gave %s", text, plain(out));
    }
    json_object_put(in);
    json_object_put(out);
    free_fn(obj);
}

static void test_round_trip(void)
{
    /*
     * 'number' is written as a JSON double: 0.0 for 0, and json-c's
     * json_object_equal() tells 0 from 0.0, so the documents spell
     * their numbers as doubles.
     */
    static const char *const all_docs[] = {
        "{\"i\": -1, \"i8\": -128, \"i16\": -32768, \"i32\": -2147483648, "
        "\"i64\": -9223372036854775808, \"u8\": 255, \"u16\": 65535, "
        "\"u32\": 4294967295, \"u64\": 18446744073709551615, "
        "\"sz\": 9223372036854775808, \"b\": true, \"n\": 0.5, "
        "\"s\": \"str \\\"quoted\\\" \\u00e9\", \"color\": \"cyan\", "
        "\"any\": {\"x\": [1, \"two\", null, {\"y\": false}], \"z\": 2.5}, "
        "\"nul\": null, \"opt\": 42, \"old\": 7, "
        "\"strs\": [\"a\", \"\", \"b\"], "
        "\"alts\": [\"name\", {\"device\": \"dev\", \"size\": 1}, "
        "{\"device\": \"dev2\", \"format\": \"green\"}], "
        "\"args\": {\"devlist\": [{\"device\": \"d\"}], \"tag\": \"t\"}}",
        /* Optional arrays present but empty stay present. */
        "{\"i\": 0, \"i8\": 0, \"i16\": 0, \"i32\": 0, \"i64\": 0, "
        "\"u8\": 0, \"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
        "\"b\": false, \"n\": 0.0, \"s\": \"\", \"color\": \"red\", "
        "\"any\": [], \"strs\": [], \"alts\": [], "
        "\"args\": {\"devlist\": []}}",
        "{\"i\": 0, \"i8\": 0, \"i16\": 0, \"i32\": 0, \"i64\": 0, "
        "\"u8\": 0, \"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
        "\"b\": false, \"n\": -1e300, \"s\": \"\", \"color\": \"red\", "
        "\"any\": \"text\"}",
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(all_docs); i++) {
        round_trip(all_docs[i], TEST_VISIT(TestAll),
                   (void (*)(void *))qapi_free_TestAll);
    }
    round_trip("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": -2}, {\"c\": 3}]}}",
               TEST_VISIT(TestOuter), (void (*)(void *))qapi_free_TestOuter);
    round_trip("{\"devlist\": [{\"device\": \"x\", \"format\": \"blue\", "
               "\"size\": 18446744073709551615}], \"tag\": \"\"}",
               TEST_VISIT(TestArgs), (void (*)(void *))qapi_free_TestArgs);
    round_trip("[\"x\", {\"device\": \"y\"}]", TEST_VISIT(TestAltList),
               (void (*)(void *))qapi_free_TestAltList);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-output/integers", test_integers);
    g_test_add_func("/json-output/scalars", test_scalars);
    g_test_add_func("/json-output/root", test_root_values);
    g_test_add_func("/json-output/enum-out-of-range", test_enum_out_of_range);
    g_test_add_func("/json-output/non-finite", test_non_finite);
    g_test_add_func("/json-output/policy", test_policy);
    g_test_add_func("/json-output/member-order", test_member_order);
    g_test_add_func("/json-output/round-trip", test_round_trip);
    return g_test_run();
}
