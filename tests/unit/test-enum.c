/* SPDX-License-Identifier: MIT */
/*
 * Enum lookups, and the runtime's small pieces: the error domain, the
 * null value, the compatibility policy, the kinds of visitors.
 */
#include "visitor-test-types.h"

static void test_lookup(void)
{
    g_assert_cmpstr(qapi_enum_lookup(&TestColor_lookup, TEST_COLOR_RED), ==,
                    "red");
    g_assert_cmpstr(qapi_enum_lookup(&TestColor_lookup, TEST_COLOR_CYAN), ==,
                    "cyan");
    g_assert_null(qapi_enum_lookup(&TestColor_lookup, -1));
    g_assert_null(qapi_enum_lookup(&TestColor_lookup, TEST_COLOR__MAX));
    g_assert_null(qapi_enum_lookup(&TestColor_lookup, G_MAXINT));
    g_assert_null(qapi_enum_lookup(&TestColor_lookup, G_MININT));
    g_assert_cmpstr(qapi_enum_lookup(&TestBig_lookup, 9), ==, "v9");
}

static void test_enum_parse(void)
{
    GError *err = NULL;

    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, "green", -7, &err), ==,
                    TEST_COLOR_GREEN);
    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, "red", -7, &err), ==,
                    TEST_COLOR_RED);
    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, NULL, -7, &err), ==, -7);
    g_assert_cmpint(
        qapi_enum_parse(&TestColor_lookup, NULL, TEST_COLOR_BLUE, &err), ==,
        TEST_COLOR_BLUE);
    g_assert_no_error(err);

    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, "purple", 0, &err), ==,
                    -1);
    test_assert_error(err,
                      "'purple' is not a value of the enum (expected "
                      "'red', 'green', 'blue' or 'cyan')");
    g_clear_error(&err);
    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, "", 0, &err), ==, -1);
    g_clear_error(&err);
    /* Errors may be ignored. */
    g_assert_cmpint(qapi_enum_parse(&TestColor_lookup, "Red", 0, NULL), ==, -1);

    g_assert_cmpint(qapi_enum_parse(&TestBig_lookup, "v3", 0, &err), ==, 3);
    g_assert_cmpint(qapi_enum_parse(&TestBig_lookup, "v10", 0, &err), ==, -1);
    test_assert_error(err, "'v10' is not a value of the enum");
    g_clear_error(&err);
}

static void test_small_enums(void)
{
    static const char *const one_names[] = { "only" };
    static const char *const two_names[] = { "yes", "no" };
    const QEnumLookup one = { .array = one_names, .size = 1 };
    const QEnumLookup two = { .array = two_names, .size = 2 };
    const QEnumLookup none = { .array = NULL, .size = 0 };
    GError *err = NULL;

    g_assert_cmpint(qapi_enum_parse(&one, "x", 0, &err), ==, -1);
    test_assert_error(err,
                      "'x' is not a value of the enum (expected "
                      "'only')");
    g_clear_error(&err);
    g_assert_cmpint(qapi_enum_parse(&two, "x", 0, &err), ==, -1);
    test_assert_error(err,
                      "'x' is not a value of the enum (expected "
                      "'yes' or 'no')");
    g_clear_error(&err);
    g_assert_cmpint(qapi_enum_parse(&none, "x", 0, &err), ==, -1);
    test_assert_error(err, "'x' is not a value of the enum");
    g_clear_error(&err);
    g_assert_null(qapi_enum_lookup(&none, 0));
}

static void test_error_class(void)
{
    GError *err = NULL;

    g_assert_cmpstr(g_quark_to_string(QAPI_ERROR), ==, "qapi-error-quark");
    g_assert_cmpint(qapi_error_class(NULL), ==, QAPI_ERROR_CLASS_GENERICERROR);

    g_set_error(&err, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND, "x");
    g_assert_cmpint(qapi_error_class(err), ==, QAPI_ERROR_CLASS_DEVICENOTFOUND);
    g_clear_error(&err);
    g_set_error(&err, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT, "x");
    g_assert_cmpint(qapi_error_class(err), ==,
                    QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT);
    g_clear_error(&err);

    /* Out of range codes and foreign domains are generic. */
    g_set_error(&err, QAPI_ERROR, QAPI_ERROR_CLASS__MAX, "x");
    g_assert_cmpint(qapi_error_class(err), ==, QAPI_ERROR_CLASS_GENERICERROR);
    g_clear_error(&err);
    g_set_error(&err, QAPI_ERROR, -1, "x");
    g_assert_cmpint(qapi_error_class(err), ==, QAPI_ERROR_CLASS_GENERICERROR);
    g_clear_error(&err);
    g_set_error(&err, G_FILE_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND, "x");
    g_assert_cmpint(qapi_error_class(err), ==, QAPI_ERROR_CLASS_GENERICERROR);
    g_clear_error(&err);
}

static void test_null_value(void)
{
    QapiNull *null = qapi_null_get();

    g_assert_nonnull(null);
    g_assert_true(null == qapi_null_get());
}

static void test_policy(void)
{
    const QapiCompatPolicy *policy = qapi_compat_policy_get();
    QapiCompatPolicy set = {
        .deprecated_input = QAPI_INPUT_REJECT,
        .unstable_output = QAPI_OUTPUT_HIDE,
    };
    QapiCompatPolicy accept = { 0 };
    unsigned deprecated = 1u << QAPI_DEPRECATED;
    unsigned unstable = 1u << QAPI_UNSTABLE;

    /* Accept and show everything by default. */
    g_assert_cmpint(policy->deprecated_input, ==, QAPI_INPUT_ACCEPT);
    g_assert_cmpint(policy->deprecated_output, ==, QAPI_OUTPUT_ACCEPT);
    g_assert_cmpint(policy->unstable_input, ==, QAPI_INPUT_ACCEPT);
    g_assert_cmpint(policy->unstable_output, ==, QAPI_OUTPUT_ACCEPT);
    g_assert_false(qapi_compat_policy_hides(deprecated | unstable));
    g_assert_false(qapi_compat_policy_refuses(deprecated | unstable));

    qapi_compat_policy_set(&set);
    policy = qapi_compat_policy_get();
    g_assert_cmpint(policy->deprecated_input, ==, QAPI_INPUT_REJECT);
    g_assert_cmpint(policy->unstable_output, ==, QAPI_OUTPUT_HIDE);
    g_assert_true(qapi_compat_policy_refuses(deprecated));
    g_assert_false(qapi_compat_policy_refuses(unstable));
    g_assert_true(qapi_compat_policy_refuses(deprecated | unstable));
    g_assert_false(qapi_compat_policy_refuses(0));
    g_assert_true(qapi_compat_policy_hides(unstable));
    g_assert_false(qapi_compat_policy_hides(deprecated));
    g_assert_false(qapi_compat_policy_hides(0));

    qapi_compat_policy_set(&accept);
    g_assert_false(qapi_compat_policy_refuses(deprecated));
}

static void test_visitor_kinds(void)
{
    json_object *doc = json_object_new_object();
    Visitor *input = qapi_json_input_visitor_new(doc);
    Visitor *output = qapi_json_output_visitor_new();
    Visitor *dealloc = qapi_dealloc_visitor_new();
    QapiCompatPolicy strict = {
        .deprecated_input = QAPI_INPUT_REJECT,
        .deprecated_output = QAPI_OUTPUT_HIDE,
    };
    QapiCompatPolicy accept = { 0 };
    GError *err = NULL;

    json_object_put(doc);
    g_assert_true(visit_is_input(input));
    g_assert_false(visit_is_dealloc(input));
    g_assert_false(visit_is_input(output));
    g_assert_false(visit_is_dealloc(output));
    g_assert_false(visit_is_input(dealloc));
    g_assert_true(visit_is_dealloc(dealloc));

    /* Each visitor asks the policy for its own direction only. */
    qapi_compat_policy_set(&strict);
    g_assert_false(visit_policy_skip(input, "m", 1u << QAPI_DEPRECATED));
    g_assert_false(
        visit_policy_reject(output, "m", 1u << QAPI_DEPRECATED, &err));
    g_assert_true(visit_policy_skip(output, "m", 1u << QAPI_DEPRECATED));
    g_assert_false(visit_policy_skip(output, "m", 1u << QAPI_UNSTABLE));
    g_assert_false(visit_policy_skip(output, "m", 0));
    g_assert_true(visit_start_struct(input, NULL, NULL, 0, &err));
    /* Absent from the input: nothing to refuse. */
    g_assert_false(
        visit_policy_reject(input, "m", 1u << QAPI_DEPRECATED, &err));
    g_assert_no_error(err);
    visit_end_struct(input, NULL);
    g_assert_true(
        visit_policy_reject(input, NULL, 1u << QAPI_DEPRECATED, &err));
    test_assert_error(err,
                      "the value is deprecated and refused by the "
                      "compatibility policy");
    g_clear_error(&err);
    qapi_compat_policy_set(&accept);

    visit_free(input);
    visit_free(output);
    visit_free(dealloc);
    visit_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/enum/lookup", test_lookup);
    g_test_add_func("/enum/parse", test_enum_parse);
    g_test_add_func("/enum/small", test_small_enums);
    g_test_add_func("/runtime/error-class", test_error_class);
    g_test_add_func("/runtime/null", test_null_value);
    g_test_add_func("/runtime/policy", test_policy);
    g_test_add_func("/runtime/visitor-kinds", test_visitor_kinds);
    return g_test_run();
}
