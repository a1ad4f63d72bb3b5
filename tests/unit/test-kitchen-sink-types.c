/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the kitchen sink's generated types and visitors
 * (docs/spec/qapi-language.md §3, §4, §8, §11, §13.1-§13.3) through the
 * runtime's JSON input and output, dealloc and clone visitors: built-in bounds,
 * enums, structs with a base chain, optional members, lists, unions,
 * the 2012 simple union, alternates, any and null, freeing, g_autoptr
 * and QAPI_CLONE.
 */
#include "kitchen-sink-test-util.h"
#include "json-test-util.h"

#include <math.h>
#include <string.h>

/* KsColor's values in this build, for the enum's error messages. */
#if defined(TEST_IF_GREEN)
#define KS_GREEN "'green', "
#else
#define KS_GREEN ""
#endif
#if !defined(TEST_IF_NO_INT)
#define KS_INT "'int' or "
#define KS_INT_COMMA "'int', "
#else
#define KS_INT ""
#define KS_INT_COMMA ""
#endif
#define KS_COLOR_EXPECTED                                                      \
    " (expected 'red', " KS_GREEN "'blue', 'x-violet', '3d', " KS_INT          \
    "'__org.example_ultra')"

#if defined(TEST_IF_UNION_BRANCH)
#define KS_UNION_KIND_EXPECTED                                                 \
    " (expected 'plain', 'derived', 'nested', 'empty-one', 'cond-one' or "     \
    "'int')"
#else
#define KS_UNION_KIND_EXPECTED                                                 \
    " (expected 'plain', 'derived', 'nested', 'empty-one' or 'int')"
#endif

static void policy_reset(void)
{
    static const QapiCompatPolicy accept_all;

    qapi_compat_policy_set(&accept_all);
}

static const KsType *type_of(const char *name)
{
    const KsType *type = ks_type_find(name);

    g_assert_nonnull(type);
    return type;
}

/* TEXT as the object type TYPE; the test fails unless that works. */
static void *in_obj(const char *type_name, const char *text)
{
    const KsType *type = type_of(type_name);
    json_object *doc = ks_json_parse(text);
    g_autoptr(GError) err = NULL;
    void *obj = NULL;

    g_assert_true(type->is_pointer);
    if (!ks_type_input(type, doc, &obj, &err)) {
        g_error("%s refused as %s: %s", text, type_name, err->message);
    }
    json_object_put(doc);
    return obj;
}

/* TEXT as the scalar (or enum) type TYPE into *VALUE. */
static void in_scalar(const char *type_name, const char *text, void *value)
{
    const KsType *type = type_of(type_name);
    json_object *doc = ks_json_parse(text);
    g_autoptr(GError) err = NULL;

    if (!ks_type_input(type, doc, value, &err)) {
        g_error("%s refused as %s: %s", text, type_name, err->message);
    }
    json_object_put(doc);
}

/*
 * TEXT as TYPE must fail with a GenericError saying MESSAGE, leaving an
 * object type's pointer NULL.
 */
static void in_err(const char *type_name, const char *text, const char *message)
{
    const KsType *type = type_of(type_name);
    json_object *doc = ks_json_parse(text);
    g_autoptr(GError) err = NULL;
    union {
        void *ptr;
        char bytes[16];
    } value;

    memset(&value, 0, sizeof(value));
    /* A value that is not NULL, which a failed visit must clear. */
    value.ptr = &value;
    g_assert_false(ks_type_input(type, doc, &value, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==, message);
    if (type->is_pointer) {
        g_assert_null(value.ptr);
    }
    json_object_put(doc);
}

/* The JSON output of the object OBJ of type TYPE (a new reference). */
static json_object *out_obj(const char *type_name, void *obj)
{
    g_autoptr(GError) err = NULL;
    json_object *out = ks_type_output(type_of(type_name), &obj, &err);

    g_assert_no_error(err);
    return out;
}

static void assert_out(const char *type_name, void *obj, const char *expected)
{
    json_object *out = out_obj(type_name, obj);

    ks_assert_json_eq(out, expected);
    json_object_put(out);
}

/* Free the object OBJ of type TYPE with the dealloc visitor. */
static void free_obj(const char *type_name, void *obj)
{
    ks_type_free(type_of(type_name), &obj);
}

/* TEXT -> C -> JSON gives TEXT back (as JSON). */
static void assert_roundtrip(const char *type_name, const char *text)
{
    void *obj = in_obj(type_name, text);

    assert_out(type_name, obj, text);
    free_obj(type_name, obj);
}

/* Built-in types: bounds through KsAllOptional */

typedef struct IntBounds {
    const char *member;
    const char *below; /* NULL: json-c cannot hold it (it clamps) */
    const char *above;
    const char *range; /* as the message gives it */
} IntBounds;

static const IntBounds int_bounds[] = {
    { "opt-int8", "-129", "128", "int8 (-128 to 127)" },
    { "opt-int16", "-32769", "32768", "int16 (-32768 to 32767)" },
    { "opt-int32", "-2147483649", "2147483648",
      "int32 (-2147483648 to 2147483647)" },
    /*
     * One below INT64_MIN: json-c's tokener clamps it to INT64_MIN, so no
     * json-c value the input visitor can see holds it.
     */
    { "opt-int64", NULL, "9223372036854775808",
      "int64 (-9223372036854775808 to 9223372036854775807)" },
    { "opt-int", NULL, "9223372036854775808",
      "int (-9223372036854775808 to 9223372036854775807)" },
    { "opt-uint8", "-1", "256", "uint8 (0 to 255)" },
    { "opt-uint16", "-1", "65536", "uint16 (0 to 65535)" },
    { "opt-uint32", "-1", "4294967296", "uint32 (0 to 4294967295)" },
    /* One above UINT64_MAX: clamped by json-c to UINT64_MAX, as above. */
    { "opt-uint64", "-1", NULL, "uint64 (0 to 18446744073709551615)" },
    { "opt-size", "-1", NULL, "size (0 to 18446744073709551615)" },
};

static void test_builtin_int_bounds(void)
{
    static const char min_text[] =
        "{\"opt-int8\": -128, \"opt-int16\": -32768,"
        " \"opt-int32\": -2147483648, \"opt-int64\": -9223372036854775808,"
        " \"opt-int\": -9223372036854775808, \"opt-uint8\": 0,"
        " \"opt-uint16\": 0, \"opt-uint32\": 0, \"opt-uint64\": 0,"
        " \"opt-size\": 0}";
    static const char max_text[] =
        "{\"opt-int8\": 127, \"opt-int16\": 32767,"
        " \"opt-int32\": 2147483647, \"opt-int64\": 9223372036854775807,"
        " \"opt-int\": 9223372036854775807, \"opt-uint8\": 255,"
        " \"opt-uint16\": 65535, \"opt-uint32\": 4294967295,"
        " \"opt-uint64\": 18446744073709551615,"
        " \"opt-size\": 18446744073709551615}";
    KsAllOptional *o;
    size_t i;

    o = in_obj("KsAllOptional", min_text);
    g_assert_true(o->has_opt_int8 && o->has_opt_int16 && o->has_opt_int32
                  && o->has_opt_int64 && o->has_opt_int && o->has_opt_uint8
                  && o->has_opt_uint16 && o->has_opt_uint32 && o->has_opt_uint64
                  && o->has_opt_size);
    g_assert_cmpint(o->opt_int8, ==, INT8_MIN);
    g_assert_cmpint(o->opt_int16, ==, INT16_MIN);
    g_assert_cmpint(o->opt_int32, ==, INT32_MIN);
    g_assert_cmpint(o->opt_int64, ==, INT64_MIN);
    g_assert_cmpint(o->opt_int, ==, INT64_MIN);
    g_assert_cmpuint(o->opt_uint8, ==, 0);
    g_assert_cmpuint(o->opt_uint16, ==, 0);
    g_assert_cmpuint(o->opt_uint32, ==, 0);
    g_assert_cmpuint(o->opt_uint64, ==, 0);
    g_assert_cmpuint(o->opt_size, ==, 0);
    assert_out("KsAllOptional", o, min_text);
    qapi_free_KsAllOptional(o);

    o = in_obj("KsAllOptional", max_text);
    g_assert_cmpint(o->opt_int8, ==, INT8_MAX);
    g_assert_cmpint(o->opt_int16, ==, INT16_MAX);
    g_assert_cmpint(o->opt_int32, ==, INT32_MAX);
    g_assert_cmpint(o->opt_int64, ==, INT64_MAX);
    g_assert_cmpint(o->opt_int, ==, INT64_MAX);
    g_assert_cmpuint(o->opt_uint8, ==, UINT8_MAX);
    g_assert_cmpuint(o->opt_uint16, ==, UINT16_MAX);
    g_assert_cmpuint(o->opt_uint32, ==, UINT32_MAX);
    g_assert_cmpuint(o->opt_uint64, ==, UINT64_MAX);
    g_assert_cmpuint(o->opt_size, ==, UINT64_MAX);
    assert_out("KsAllOptional", o, max_text);
    qapi_free_KsAllOptional(o);

    for (i = 0; i < G_N_ELEMENTS(int_bounds); i++) {
        const IntBounds *b = &int_bounds[i];
        g_autofree char *message =
            g_strdup_printf("'%s' is out of range for %s", b->member, b->range);

        if (b->below) {
            g_autofree char *text =
                g_strdup_printf("{\"%s\": %s}", b->member, b->below);
            in_err("KsAllOptional", text, message);
        }
        if (b->above) {
            g_autofree char *text =
                g_strdup_printf("{\"%s\": %s}", b->member, b->above);
            in_err("KsAllOptional", text, message);
        }
        /* Not an integer at all. */
        {
            g_autofree char *text = g_strdup_printf("{\"%s\": 1.5}", b->member);
            g_autofree char *type_message = g_strdup_printf(
                "'%s': expected an integer, got a number", b->member);
            in_err("KsAllOptional", text, type_message);
        }
    }
}

/* 2^64-1 survives JSON -> C -> JSON for uint64 and size, in lists too. */
static void test_builtin_uint64_max_roundtrip(void)
{
    static const char text[] =
        "{\"str-list\": [], \"int-list\": [], \"int16-list\": [],"
        " \"int64-list\": [], \"uint16-list\": [],"
        " \"uint64-list\": [18446744073709551615, 9223372036854775808, 0],"
        " \"size-list\": [18446744073709551615],"
        " \"bool-list\": [], \"null-list\": [], \"color-list\": [],"
        " \"matrix\": []}";
    KsAllOptional *o = in_obj("KsAllOptional",
                              "{\"opt-uint64\": 18446744073709551615,"
                              " \"opt-size\": 18446744073709551615}");
    KsAllLists *l;
    json_object *out, *member;

    g_assert_cmpuint(o->opt_uint64, ==, UINT64_MAX);
    g_assert_cmpuint(o->opt_size, ==, UINT64_MAX);
    out = out_obj("KsAllOptional", o);
    g_assert_true(json_object_object_get_ex(out, "opt-uint64", &member));
    g_assert_true(json_object_is_type(member, json_type_int));
    g_assert_cmpuint(json_object_get_uint64(member), ==, UINT64_MAX);
    g_assert_true(json_object_object_get_ex(out, "opt-size", &member));
    g_assert_cmpuint(json_object_get_uint64(member), ==, UINT64_MAX);
    json_object_put(out);
    qapi_free_KsAllOptional(o);

    l = in_obj("KsAllLists", text);
    g_assert_cmpuint(l->uint64_list->value, ==, UINT64_MAX);
    g_assert_cmpuint(l->uint64_list->next->value, ==, (uint64_t)INT64_MAX + 1);
    g_assert_true(l->has_size_list);
    g_assert_cmpuint(l->size_list->value, ==, UINT64_MAX);
    assert_out("KsAllLists", l, text);
    qapi_free_KsAllLists(l);
}

static void test_builtin_other_scalars(void)
{
    KsAllOptional *o;
    json_object *inf;
    g_autoptr(GError) err = NULL;
    Visitor *v;
    KsAllOptional *bad = NULL;
    double number;
    bool flag;
    char *str = NULL;

    /* number: integers are accepted, and written back as doubles. */
    o = in_obj("KsAllOptional", "{\"opt-number\": -3}");
    g_assert_true(o->has_opt_number);
    g_assert_cmpfloat(o->opt_number, ==, -3.0);
    assert_out("KsAllOptional", o, "{\"opt-number\": -3.0}");
    qapi_free_KsAllOptional(o);
    o = in_obj("KsAllOptional", "{\"opt-number\": 1.5e300}");
    g_assert_cmpfloat(o->opt_number, ==, 1.5e300);
    qapi_free_KsAllOptional(o);
    in_err("KsAllOptional", "{\"opt-number\": \"1\"}",
           "'opt-number': expected a number, got a string");
    in_err("KsAllOptional", "{\"opt-number\": 1e999}",
           "'opt-number' is not a finite number");
    /* A non-finite number built in C (json-c can hold NaN too). */
    inf = json_object_new_object();
    json_object_object_add(inf, "opt-number", json_object_new_double(NAN));
    v = qapi_json_input_visitor_new(inf);
    bad = (KsAllOptional *)&inf;
    g_assert_false(visit_type_KsAllOptional(v, NULL, &bad, &err));
    g_assert_null(bad);
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==, "'opt-number' is not a finite number");
    visit_free(v);
    json_object_put(inf);

    /* bool */
    o = in_obj("KsAllOptional", "{\"opt-bool\": false}");
    g_assert_true(o->has_opt_bool);
    g_assert_false(o->opt_bool);
    qapi_free_KsAllOptional(o);
    in_err("KsAllOptional", "{\"opt-bool\": 1}",
           "'opt-bool': expected a boolean, got an integer");
    in_err("KsAllOptional", "{\"opt-bool\": \"true\"}",
           "'opt-bool': expected a boolean, got a string");

    /* str */
    o = in_obj("KsAllOptional", "{\"opt-str\": \"\\u00e9t\\u00e9 \\\"q\\\"\"}");
    g_assert_cmpstr(o->opt_str, ==, "\xc3\xa9t\xc3\xa9 \"q\"");
    qapi_free_KsAllOptional(o);
    in_err("KsAllOptional", "{\"opt-str\": 5}",
           "'opt-str': expected a string, got an integer");
    in_err("KsAllOptional", "{\"opt-str\": \"a\\u0000b\"}",
           "'opt-str': the string contains a NUL character");

    /* QType, a predefined enum */
    o = in_obj("KsAllOptional", "{\"opt-qtype\": \"qdict\"}");
    g_assert_true(o->has_opt_qtype);
    g_assert_cmpint(o->opt_qtype, ==, QTYPE_QDICT);
    qapi_free_KsAllOptional(o);
    g_assert_cmpint(QType_lookup.size, ==, QTYPE__MAX);
    g_assert_cmpstr(QType_str(QTYPE_NONE), ==, "none");
    g_assert_cmpstr(QType_str(QTYPE_QBOOL), ==, "qbool");

    /* Scalars at top level name "the value". */
    in_scalar("number", "2.25", &number);
    g_assert_cmpfloat(number, ==, 2.25);
    in_scalar("bool", "true", &flag);
    g_assert_true(flag);
    in_scalar("str", "\"top\"", &str);
    g_assert_cmpstr(str, ==, "top");
    g_free(str);
    in_err("int8", "-129", "the value is out of range for int8 (-128 to 127)");
    in_err("str", "null", "the value: expected a string, got null");
}

/* Enumerations */

static void test_enum_values(void)
{
    int i;
    KsColor color;
    KsLegacyEnum legacy;
    KsSimpleUnionKind kind;
    g_autoptr(GError) err = NULL;

    /* Every value of the lookup table reads as its constant. */
    g_assert_cmpint(KsColor_lookup.size, ==, KS_COL__MAX);
    for (i = 0; i < KsColor_lookup.size; i++) {
        g_autofree char *text =
            g_strdup_printf("\"%s\"", KsColor_lookup.array[i]);
        json_object *out;

        color = KS_COL__MAX;
        in_scalar("KsColor", text, &color);
        g_assert_cmpint(color, ==, i);
        out = ks_type_output(type_of("KsColor"), &color, &err);
        g_assert_no_error(err);
        ks_assert_json_eq(out, text);
        json_object_put(out);
    }
    g_assert_cmpstr(KsColor_str(KS_COL_RED), ==, "red");
    g_assert_cmpstr(KsColor_str(KS_COL_BLUE), ==, "blue");
    g_assert_cmpstr(KsColor_str(KS_COL_X_VIOLET), ==, "x-violet");
    g_assert_cmpstr(KsColor_str(KS_COL_3D), ==, "3d");
    g_assert_cmpstr(KsColor_str(KS_COL___ORG_EXAMPLE_ULTRA), ==,
                    "__org.example_ultra");
    g_assert_null(KsColor_str(KS_COL__MAX));
    g_assert_null(KsColor_str(-1));
    g_assert_cmpint(qapi_enum_parse(&KsColor_lookup, "3d", -1, &err), ==,
                    KS_COL_3D);
    g_assert_no_error(err);
    g_assert_cmpint(qapi_enum_parse(&KsColor_lookup, NULL, KS_COL_RED, &err),
                    ==, KS_COL_RED);
    g_assert_cmpint(
        qapi_enum_parse(&KsColor_lookup, "purple", KS_COL_RED, &err), ==, -1);
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==,
                    "'purple' is not a value of the enum" KS_COLOR_EXPECTED);

    in_err("KsColor", "\"purple\"",
           "the value: 'purple' is not a value of the enum" KS_COLOR_EXPECTED);
    in_err("KsColor", "\"RED\"",
           "the value: 'RED' is not a value of the enum" KS_COLOR_EXPECTED);
    in_err(
        "KsColor", "\"x_violet\"",
        "the value: 'x_violet' is not a value of the enum" KS_COLOR_EXPECTED);
    in_err("KsColor", "0", "the value: expected a string, got an integer");

    /* member-name-exceptions: upper case and '_' kept as written. */
    in_scalar("KsLegacyEnum", "\"Value_One\"", &legacy);
    g_assert_cmpint(legacy, ==, KS_LEGACY_ENUM_VALUE_ONE);
    in_scalar("KsLegacyEnum", "\"value-two\"", &legacy);
    g_assert_cmpint(legacy, ==, KS_LEGACY_ENUM_VALUE_TWO);
    in_err("KsLegacyEnum", "\"value-one\"",
           "the value: 'value-one' is not a value of the enum (expected "
           "'Value_One' or 'value-two')");

    /* The implicit enum of the simple union. */
    g_assert_cmpint(KsSimpleUnionKind_lookup.size, ==,
                    KS_SIMPLE_UNION_KIND__MAX);
    in_scalar("KsSimpleUnionKind", "\"colors\"", &kind);
    g_assert_cmpint(kind, ==, KS_SIMPLE_UNION_KIND_COLORS);
#if defined(TEST_IF_SIMPLE)
    in_scalar("KsSimpleUnionKind", "\"cond\"", &kind);
    g_assert_cmpint(kind, ==, KS_SIMPLE_UNION_KIND_COND);
#endif

    /* An enum of the included module. */
    g_assert_cmpint(KS_SUB_ENUM__MAX, ==, 2);
    g_assert_cmpstr(KsSubEnum_str(KS_SUB_ENUM_BETA), ==, "beta");
}

/* Conditional values are present or compiled out as the defines say. */
static void test_enum_conditional(void)
{
    KsColor color;
    KsUnionKind kind;
    KsSimpleUnionKind simple;
    int expected_colors = 5;

#if defined(TEST_IF_GREEN)
    expected_colors++;
    in_scalar("KsColor", "\"green\"", &color);
    g_assert_cmpint(color, ==, KS_COL_GREEN);
    g_assert_cmpstr(KsColor_str(KS_COL_GREEN), ==, "green");
#else
    in_err("KsColor", "\"green\"",
           "the value: 'green' is not a value of the enum" KS_COLOR_EXPECTED);
#endif
#if !defined(TEST_IF_NO_INT)
    expected_colors++;
    in_scalar("KsColor", "\"int\"", &color);
    g_assert_cmpint(color, ==, KS_COL_INT);
#else
    in_err("KsColor", "\"int\"",
           "the value: 'int' is not a value of the enum" KS_COLOR_EXPECTED);
#endif
    g_assert_cmpint(KS_COL__MAX, ==, expected_colors);
    /* Constants follow the values in order, whatever is compiled in. */
    g_assert_cmpint(KS_COL_RED, ==, 0);
    g_assert_cmpint(KS_COL___ORG_EXAMPLE_ULTRA, ==, KS_COL__MAX - 1);

#if defined(TEST_IF_UNION_BRANCH)
    in_scalar("KsUnionKind", "\"cond-one\"", &kind);
    g_assert_cmpint(kind, ==, KS_UNION_KIND_COND_ONE);
    g_assert_cmpint(KS_UNION_KIND__MAX, ==, 6);
#else
    in_err("KsUnionKind", "\"cond-one\"",
           "the value: 'cond-one' is not a value of the "
           "enum" KS_UNION_KIND_EXPECTED);
    g_assert_cmpint(KS_UNION_KIND__MAX, ==, 5);
#endif
    in_scalar("KsUnionKind", "\"int\"", &kind);
    g_assert_cmpint(kind, ==, KS_UNION_KIND_INT);

#if defined(TEST_IF_SIMPLE)
    g_assert_cmpint(KS_SIMPLE_UNION_KIND__MAX, ==, 6);
#else
    g_assert_cmpint(KS_SIMPLE_UNION_KIND__MAX, ==, 5);
    simple = KS_SIMPLE_UNION_KIND_TEXT;
    in_err("KsSimpleUnionKind", "\"cond\"",
           "the value: 'cond' is not a value of the enum (expected 'text', "
           "'count', 'flag', 'colors' or 'sub')");
#endif
    in_scalar("KsSimpleUnionKind", "\"sub\"", &simple);
    g_assert_cmpint(simple, ==, KS_SIMPLE_UNION_KIND_SUB);
}

/* Values with special features: their masks, and the input policy. */
static void test_enum_special_features(void)
{
    KsColor color;
    int i;
    json_object *out;
    g_autoptr(GError) err = NULL;

    policy_reset();
    g_assert_nonnull(KsColor_lookup.special_features);
    for (i = 0; i < KS_COL__MAX; i++) {
        unsigned expected = i == KS_COL_BLUE ? 1u << QAPI_DEPRECATED
            : i == KS_COL_X_VIOLET           ? 1u << QAPI_UNSTABLE
                                             : 0;

        g_assert_cmpuint(KsColor_lookup.special_features[i], ==, expected);
    }
    /* Enums without special values carry no mask table. */
    g_assert_null(KsLegacyEnum_lookup.special_features);
    g_assert_null(KsSubEnum_lookup.special_features);

    /* Accepted by default. */
    in_scalar("KsColor", "\"blue\"", &color);
    g_assert_cmpint(color, ==, KS_COL_BLUE);
    in_scalar("KsColor", "\"x-violet\"", &color);
    g_assert_cmpint(color, ==, KS_COL_X_VIOLET);

    ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    in_err("KsColor", "\"blue\"",
           "the value: 'blue' is deprecated and "
           "refused by the compatibility policy");
    in_scalar("KsColor", "\"x-violet\"", &color);
    g_assert_cmpint(color, ==, KS_COL_X_VIOLET);
    in_err("KsFeatured", "{\"plain\": 1, \"old\": 2, \"default\": true}",
           "'old' is deprecated and refused by the compatibility policy");

    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT,
                  QAPI_OUTPUT_ACCEPT);
    in_err("KsColor", "\"x-violet\"",
           "the value: 'x-violet' is unstable "
           "and refused by the compatibility policy");
    in_scalar("KsColor", "\"blue\"", &color);
    in_err("[KsColor]", "[\"red\", \"x-violet\"]",
           "'[1]': 'x-violet' is "
           "unstable and refused by the compatibility policy");

    /* The output policy hides no enum value (docs/spec/qapi-language.md §6/3).
     * */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    color = KS_COL_BLUE;
    out = ks_type_output(type_of("KsColor"), &color, &err);
    g_assert_no_error(err);
    ks_assert_json_eq(out, "\"blue\"");
    json_object_put(out);
    policy_reset();
}

static void test_enum_output_out_of_range(void)
{
    KsColor color = KS_COL__MAX;
    g_autoptr(GError) err = NULL;
    g_autofree char *message = g_strdup_printf(
        "the value: %d is not a value of the enum", (int)KS_COL__MAX);

    g_assert_null(ks_type_output(type_of("KsColor"), &color, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==, message);
}

/* Structs */

static void test_struct_base_chain(void)
{
    static const char text[] =
        "{\"base-id\": 7, \"base-note\": \"n\", \"middle\": true,"
        " \"leaf\": 2.5, \"sub\": {\"count\": 4294967295, \"label\": \"l\"}}";
    KsDerived *d = in_obj("KsDerived", text);
    KsMiddle *m;
    KsBase *b;
    json_object *out;

    g_assert_cmpint(d->base_id, ==, 7);
    g_assert_cmpstr(d->base_note, ==, "n");
    g_assert_true(d->middle);
    g_assert_cmpfloat(d->leaf, ==, 2.5);
    g_assert_nonnull(d->sub);
    g_assert_cmpuint(d->sub->count, ==, UINT32_MAX);
    g_assert_cmpstr(d->sub->label, ==, "l");

    /* The upcasts see the same members at the same place. */
    m = qapi_KsDerived_base(d);
    g_assert_true((void *)m == (void *)d);
    g_assert_true(m->middle);
    b = qapi_KsMiddle_base(m);
    g_assert_cmpint(b->base_id, ==, 7);
    g_assert_cmpstr(b->base_note, ==, "n");
    g_assert_cmpuint(offsetof(KsDerived, base_id), ==,
                     offsetof(KsBase, base_id));
    g_assert_cmpuint(offsetof(KsDerived, base_note), ==,
                     offsetof(KsBase, base_note));
    g_assert_cmpuint(offsetof(KsDerived, middle), ==,
                     offsetof(KsMiddle, middle));

    /* Base members first, the base's base first, then own members. */
    out = out_obj("KsDerived", d);
    json_test_assert_members(out, "base-id,base-note,middle,leaf,sub");
    ks_assert_json_eq(out, text);
    json_object_put(out);

    /* The base alone, through the upcast. */
    assert_out("KsBase", b, "{\"base-id\": 7, \"base-note\": \"n\"}");
    assert_out("KsMiddle", m,
               "{\"base-id\": 7, \"base-note\": \"n\", \"middle\": true}");
    qapi_free_KsDerived(d);

    /* Members may come in any order; optional ones may be absent. */
    d = in_obj("KsDerived",
               "{\"leaf\": 0.5, \"middle\": false, "
               "\"base-id\": -1}");
    g_assert_null(d->base_note);
    g_assert_null(d->sub);
    out = out_obj("KsDerived", d);
    json_test_assert_members(out, "base-id,middle,leaf");
    json_object_put(out);
    qapi_free_KsDerived(d);

    in_err("KsDerived", "{\"leaf\": 0.5, \"middle\": false}",
           "'base-id' is missing");
    in_err("KsDerived", "{\"base-id\": 1, \"leaf\": 0.5}",
           "'middle' is missing");
    in_err("KsDerived", "{\"base-id\": 1, \"middle\": true}",
           "'leaf' is missing");
    in_err("KsDerived",
           "{\"base-id\": 1, \"middle\": true, \"leaf\": 1.0,"
           " \"size\": 1}",
           "'size' is not an expected member");
    in_err("KsDerived",
           "{\"base-id\": 1, \"middle\": true, \"leaf\": 1.0,"
           " \"sub\": {\"count\": 1, \"labels\": \"x\"}}",
           "'sub.labels' is not an expected member");
    in_err("KsDerived",
           "{\"base-id\": 1, \"middle\": true, \"leaf\": 1.0,"
           " \"sub\": {\"count\": -1}}",
           "'sub.count' is out of range for uint32 (0 to 4294967295)");
    in_err("KsDerived", "[]", "the value: expected an object, got an array");
}

static void test_struct_names(void)
{
    KsLegacyNames *names =
        in_obj("KsLegacyNames", "{\"Upper_Case\": 1, \"snake_case\": \"s\"}");
    __org_example_KsDownstream *down;
    x_KsExperimental *x;
    KsLegacyType *legacy;

    g_assert_cmpint(names->Upper_Case, ==, 1);
    g_assert_cmpstr(names->snake_case, ==, "s");
    qapi_free_KsLegacyNames(names);
    in_err("KsLegacyNames", "{\"upper-case\": 1, \"snake_case\": \"s\"}",
           "'Upper_Case' is missing");

    down = in_obj("__org.example_KsDownstream",
                  "{\"__org.example_member\": \"m\", \"x-member\": 3}");
    g_assert_cmpstr(down->__org_example_member, ==, "m");
    g_assert_true(down->has_x_member);
    g_assert_cmpint(down->x_member, ==, 3);
    qapi_free___org_example_KsDownstream(down);

    x = in_obj("x-KsExperimental", "{\"value\": -128}");
    g_assert_cmpint(x->value, ==, -128);
    qapi_free_x_KsExperimental(x);

    /* The 2012 spelling 'type' makes an ordinary struct. */
    legacy = in_obj("KsLegacyType", "{\"size\": 0}");
    g_assert_null(legacy->name);
    g_assert_true(legacy->has_size);
    g_assert_cmpuint(legacy->size, ==, 0);
    assert_out("KsLegacyType", legacy, "{\"size\": 0}");
    qapi_free_KsLegacyType(legacy);

#if KS_HAVE_COND_STRUCT
    {
        KsCondStruct *c = in_obj("KsCondStruct", "{\"value\": 5}");

        g_assert_cmpint(c->value, ==, 5);
        qapi_free_KsCondStruct(c);
    }
#endif
}

/* Optional members: absent, present, has_ flags */

static void test_optional_members(void)
{
    static const char all_text[] =
        "{\"opt-str\": \"s\", \"opt-number\": 0.25, \"opt-int\": -1,"
        " \"opt-int8\": -8, \"opt-int16\": -16, \"opt-int32\": -32,"
        " \"opt-int64\": -64, \"opt-uint8\": 8, \"opt-uint16\": 16,"
        " \"opt-uint32\": 32, \"opt-uint64\": 64, \"opt-size\": 4096,"
        " \"opt-bool\": false, \"opt-any\": [1, {\"a\": null}],"
        " \"opt-null\": null, \"opt-qtype\": \"qlist\"}";
    KsAllOptional *o = in_obj("KsAllOptional", "{}");
    KsAllOptional c = { 0 };
    json_object *out;

    g_assert_null(o->opt_str);
    g_assert_false(o->has_opt_number);
    g_assert_false(o->has_opt_int);
    g_assert_false(o->has_opt_int8);
    g_assert_false(o->has_opt_int16);
    g_assert_false(o->has_opt_int32);
    g_assert_false(o->has_opt_int64);
    g_assert_false(o->has_opt_uint8);
    g_assert_false(o->has_opt_uint16);
    g_assert_false(o->has_opt_uint32);
    g_assert_false(o->has_opt_uint64);
    g_assert_false(o->has_opt_size);
    g_assert_false(o->has_opt_bool);
    g_assert_null(o->opt_any);
    g_assert_null(o->opt_null);
    g_assert_false(o->has_opt_qtype);
    assert_out("KsAllOptional", o, "{}");
    qapi_free_KsAllOptional(o);

    o = in_obj("KsAllOptional", all_text);
    g_assert_cmpstr(o->opt_str, ==, "s");
    g_assert_true(o->has_opt_number && o->has_opt_int && o->has_opt_int8
                  && o->has_opt_int16 && o->has_opt_int32 && o->has_opt_int64
                  && o->has_opt_uint8 && o->has_opt_uint16 && o->has_opt_uint32
                  && o->has_opt_uint64 && o->has_opt_size && o->has_opt_bool
                  && o->has_opt_qtype);
    g_assert_cmpfloat(o->opt_number, ==, 0.25);
    g_assert_cmpint(o->opt_int32, ==, -32);
    g_assert_cmpuint(o->opt_size, ==, 4096);
    g_assert_false(o->opt_bool);
    g_assert_true(json_object_is_type(o->opt_any, json_type_array));
    g_assert_true(o->opt_null == qapi_null_get());
    g_assert_cmpint(o->opt_qtype, ==, QTYPE_QLIST);
    out = out_obj("KsAllOptional", o);
    /* Written in schema order. */
    json_test_assert_members(out,
                             "opt-str,opt-number,opt-int,opt-int8,"
                             "opt-int16,opt-int32,opt-int64,opt-uint8,"
                             "opt-uint16,opt-uint32,opt-uint64,opt-size,"
                             "opt-bool,opt-any,opt-null,opt-qtype");
    ks_assert_json_eq(out, all_text);
    json_object_put(out);
    qapi_free_KsAllOptional(o);

    /* Built in C: a false has_ flag leaves the member out, whatever the
     * value beside it; a NULL pointer leaves a pointer member out. */
    c.has_opt_int = false;
    c.opt_int = 5;
    c.has_opt_uint8 = true;
    c.opt_uint8 = 0;
    c.has_opt_bool = true;
    c.opt_bool = false;
    c.opt_null = qapi_null_get();
    assert_out("KsAllOptional", &c,
               "{\"opt-uint8\": 0, \"opt-bool\": false, \"opt-null\": null}");

    in_err("KsAllOptional", "{\"opt-null\": false}",
           "'opt-null': expected null, got a boolean");
    in_err("KsAllOptional", "{\"opt-qtype\": \"qfloat\"}",
           "'opt-qtype': 'qfloat' is not a value of the enum (expected "
           "'none', 'qnull', 'qnum', 'qstring', 'qdict', 'qlist' or 'qbool')");
    /* null is a value, not absence. */
    in_err("KsAllOptional", "{\"opt-int\": null}",
           "'opt-int': expected an integer, got null");
    in_err("KsAllOptional", "{\"opt-str\": null}",
           "'opt-str': expected a string, got null");
}

static void test_featured_members(void)
{
    static const char text[] =
        "{\"plain\": 1, \"old\": 2, \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
        ", \"cond\": 3"
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
        ", \"both\": \"red\""
#endif
        ", \"default\": true}";
    KsFeatured *f;
    json_object *out;

    policy_reset();
    f = in_obj("KsFeatured", text);
    g_assert_cmpint(f->plain, ==, 1);
    g_assert_cmpint(f->old, ==, 2);
    g_assert_cmpstr(f->experimental, ==, "e");
#if defined(TEST_IF_MEMBER)
    g_assert_cmpint(f->cond, ==, 3);
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
    g_assert_true(f->has_both);
    g_assert_cmpint(f->both, ==, KS_COL_RED);
#endif
    g_assert_true(f->q_default);
    assert_out("KsFeatured", f, text);

    /* Output hide: special-featured members are left out. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    out = out_obj("KsFeatured", f);
    g_assert_false(json_object_object_get_ex(out, "old", NULL));
    g_assert_true(json_object_object_get_ex(out, "experimental", NULL));
    json_object_put(out);
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    out = out_obj("KsFeatured", f);
    g_assert_true(json_object_object_get_ex(out, "old", NULL));
    g_assert_false(json_object_object_get_ex(out, "experimental", NULL));
    json_object_put(out);
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    out = out_obj("KsFeatured", f);
    json_test_assert_members(out,
                             "plain"
#if defined(TEST_IF_MEMBER)
                             ",cond"
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
                             ",both"
#endif
                             ",default");
    json_object_put(out);
    qapi_free_KsFeatured(f);

    /* Input reject: refused when sent, not when absent. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT,
                  QAPI_OUTPUT_ACCEPT);
    in_err("KsFeatured", text,
           "'experimental' is unstable and refused by "
           "the compatibility policy");
    f = in_obj("KsFeatured",
               "{\"plain\": 1, \"old\": 2"
#if defined(TEST_IF_MEMBER)
               ", \"cond\": 3"
#endif
               ", \"default\": false}");
    g_assert_null(f->experimental);
    qapi_free_KsFeatured(f);
    ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    in_err("KsFeatured", text,
           "'old' is deprecated and refused by the "
           "compatibility policy");
    /* A mandatory deprecated member that is absent is reported missing. */
    in_err("KsFeatured", "{\"plain\": 1, \"default\": false}",
           "'old' is missing");
    policy_reset();

#if defined(TEST_IF_MEMBER)
    in_err("KsFeatured", "{\"plain\": 1, \"old\": 2, \"default\": true}",
           "'cond' is missing");
#else
    in_err("KsFeatured",
           "{\"plain\": 1, \"old\": 2, \"cond\": 3, "
           "\"default\": true}",
           "'cond' is not an expected member");
#endif
#if !defined(TEST_IF_A) && !defined(TEST_IF_B)
    in_err("KsFeatured",
           "{\"plain\": 1, \"old\": 2, \"both\": \"red\", "
           "\"default\": true}",
           "'both' is not an expected member");
#endif
}

/* Lists */

static void test_lists_empty(void)
{
    static const char text[] =
        "{\"str-list\": [], \"int-list\": [], \"int16-list\": [],"
        " \"int64-list\": [], \"uint16-list\": [], \"uint64-list\": [],"
        " \"bool-list\": [], \"null-list\": [], \"color-list\": [],"
        " \"matrix\": []}";
    static const char optional_text[] =
        "{\"str-list\": [], \"number-list\": [], \"int-list\": [],"
        " \"int8-list\": [], \"int16-list\": [], \"int32-list\": [],"
        " \"int64-list\": [], \"uint8-list\": [], \"uint16-list\": [],"
        " \"uint32-list\": [], \"uint64-list\": [], \"size-list\": [],"
        " \"bool-list\": [], \"any-list\": [], \"null-list\": [],"
        " \"qtype-list\": [], \"color-list\": [], \"base-list\": [],"
        " \"matrix\": []}";
    KsAllLists *l = in_obj("KsAllLists", text);

    g_assert_null(l->str_list);
    g_assert_null(l->int_list);
    g_assert_null(l->matrix);
    g_assert_null(l->color_list);
    g_assert_false(l->has_number_list);
    g_assert_false(l->has_base_list);
    g_assert_false(l->has_any_list);
    assert_out("KsAllLists", l, text);
    qapi_free_KsAllLists(l);

    /* An optional empty list is present: its flag tells it from absent. */
    l = in_obj("KsAllLists", optional_text);
    g_assert_true(l->has_number_list && l->has_int8_list && l->has_int32_list
                  && l->has_uint8_list && l->has_uint32_list && l->has_size_list
                  && l->has_any_list && l->has_qtype_list && l->has_base_list);
    g_assert_null(l->number_list);
    g_assert_null(l->base_list);
    assert_out("KsAllLists", l, optional_text);
    qapi_free_KsAllLists(l);

    in_err("KsAllLists", "{}", "'str-list' is missing");
    in_err("KsAllLists", "{\"str-list\": {}}",
           "'str-list': expected an array, got an object");
    in_err("KsAllLists", "{\"str-list\": null}",
           "'str-list': expected an array, got null");
}

static void test_lists_values(void)
{
    static const char text[] =
        "{\"str-list\": [\"a\", \"\"], \"number-list\": [0.5, -2.0],"
        " \"int-list\": [-9223372036854775808, 9223372036854775807],"
        " \"int8-list\": [-128, 127], \"int16-list\": [-32768, 32767],"
        " \"int32-list\": [-2147483648, 2147483647],"
        " \"int64-list\": [0], \"uint8-list\": [0, 255],"
        " \"uint16-list\": [65535], \"uint32-list\": [4294967295],"
        " \"uint64-list\": [18446744073709551615],"
        " \"size-list\": [1, 2, 3], \"bool-list\": [true, false],"
        " \"any-list\": [1, \"a\", null, {\"k\": [true]}, [], 2.5],"
        " \"null-list\": [null, null],"
        " \"qtype-list\": [\"qnull\", \"qnum\", \"qbool\"],"
        " \"color-list\": [\"3d\", \"red\", \"__org.example_ultra\"],"
        " \"base-list\": [{\"base-id\": 1}, {\"base-id\": 2,"
        " \"base-note\": \"two\"}],"
        " \"matrix\": [{\"cells\": [1, 2]}, {\"cells\": []}, {\"cells\": "
        "[3]}]}";
    KsAllLists *l = in_obj("KsAllLists", text);
    KsIntRowList *row;
    anyList *any;
    int n;

    g_assert_cmpstr(l->str_list->value, ==, "a");
    g_assert_cmpstr(l->str_list->next->value, ==, "");
    g_assert_null(l->str_list->next->next);
    g_assert_cmpfloat(l->number_list->next->value, ==, -2.0);
    g_assert_cmpint(l->int_list->value, ==, INT64_MIN);
    g_assert_cmpint(l->int8_list->next->value, ==, 127);
    g_assert_cmpuint(l->uint32_list->value, ==, UINT32_MAX);
    g_assert_false(l->bool_list->next->value);
    g_assert_true(l->null_list->value == qapi_null_get());
    g_assert_true(l->null_list->next->value == qapi_null_get());
    g_assert_cmpint(l->qtype_list->next->next->value, ==, QTYPE_QBOOL);
    g_assert_cmpint(l->color_list->value, ==, KS_COL_3D);
    g_assert_cmpint(l->color_list->next->next->value, ==,
                    KS_COL___ORG_EXAMPLE_ULTRA);
    g_assert_cmpint(l->base_list->next->value->base_id, ==, 2);
    g_assert_cmpstr(l->base_list->next->value->base_note, ==, "two");
    for (any = l->any_list, n = 0; any; any = any->next, n++) {
        if (n == 2) {
            g_assert_null(any->value); /* JSON null */
        }
    }
    g_assert_cmpint(n, ==, 6);

    /* Nested lists through a struct. */
    row = l->matrix;
    g_assert_cmpint(row->value->cells->value, ==, 1);
    g_assert_cmpint(row->value->cells->next->value, ==, 2);
    g_assert_null(row->next->value->cells);
    g_assert_cmpint(row->next->next->value->cells->value, ==, 3);
    g_assert_null(row->next->next->next);

    assert_out("KsAllLists", l, text);
    qapi_free_KsAllLists(l);

    in_err("KsAllLists",
           "{\"str-list\": [], \"int-list\": [],"
           " \"int16-list\": [], \"int64-list\": [], \"uint16-list\": [],"
           " \"uint64-list\": [], \"bool-list\": [], \"null-list\": [],"
           " \"color-list\": [], \"matrix\": [{\"cells\": [1]}, [2]]}",
           "'matrix[1]': expected an object, got an array");
    in_err("[KsIntRow]", "[{\"cells\": [1]}, {\"cells\": [2, \"x\"]}]",
           "'[1].cells[1]': expected an integer, got a string");
    in_err("[KsBase]", "[{\"base-id\": 1}, {}]", "'[1].base-id' is missing");
    in_err("[int8]", "[1, 2, 300]",
           "'[2]' is out of range for int8 (-128 to 127)");
    in_err("[null]", "[null, 0]", "'[1]': expected null, got an integer");
    in_err("[str]", "\"a\"", "the value: expected an array, got a string");
}

/* Unions */

static void test_flat_union_branches(void)
{
    KsFlatUnion *u;
    KsNamedBaseUnion *n;
    json_object *out;

    u = in_obj("KsFlatUnion", "{\"kind\": \"plain\", \"base-id\": 5}");
    g_assert_cmpint(u->kind, ==, KS_UNION_KIND_PLAIN);
    g_assert_null(u->note);
    g_assert_cmpint(u->u.plain.base_id, ==, 5);
    g_assert_null(u->u.plain.base_note);
    qapi_free_KsFlatUnion(u);

    u = in_obj("KsFlatUnion",
               "{\"note\": \"n\", \"kind\": \"derived\","
               " \"base-id\": 1, \"middle\": false, \"leaf\": 0.5,"
               " \"sub\": {\"count\": 2}}");
    g_assert_cmpint(u->kind, ==, KS_UNION_KIND_DERIVED);
    g_assert_cmpstr(u->note, ==, "n");
    g_assert_cmpfloat(u->u.derived.leaf, ==, 0.5);
    g_assert_cmpuint(u->u.derived.sub->count, ==, 2);
    out = out_obj("KsFlatUnion", u);
    /* The base (discriminator first), then the branch's members. */
    json_test_assert_members(out, "kind,note,base-id,middle,leaf,sub");
    json_object_put(out);
    qapi_free_KsFlatUnion(u);

    /* A union as a branch. */
    u = in_obj("KsFlatUnion",
               "{\"kind\": \"nested\", \"tag\": \"alpha\","
               " \"common\": 3, \"alpha-value\": \"v\","
               " \"alpha-list\": [1]}");
    g_assert_cmpint(u->u.nested.tag, ==, KS_SUB_ENUM_ALPHA);
    g_assert_cmpint(u->u.nested.common, ==, 3);
    g_assert_cmpstr(u->u.nested.u.alpha.alpha_value, ==, "v");
    g_assert_true(u->u.nested.u.alpha.has_alpha_list);
    g_assert_cmpint(u->u.nested.u.alpha.alpha_list->value, ==, 1);
    qapi_free_KsFlatUnion(u);
    u = in_obj("KsFlatUnion",
               "{\"kind\": \"nested\", \"tag\": \"beta\","
               " \"common\": 4}");
    g_assert_cmpint(u->u.nested.tag, ==, KS_SUB_ENUM_BETA);
    qapi_free_KsFlatUnion(u);

    /* Implicitly empty branch. */
    u = in_obj("KsFlatUnion", "{\"kind\": \"empty-one\", \"note\": \"e\"}");
    g_assert_cmpint(u->kind, ==, KS_UNION_KIND_EMPTY_ONE);
    assert_out("KsFlatUnion", u, "{\"kind\": \"empty-one\", \"note\": \"e\"}");
    qapi_free_KsFlatUnion(u);

#if defined(TEST_IF_UNION_BRANCH)
    u = in_obj("KsFlatUnion",
               "{\"kind\": \"cond-one\", \"cond-value\": \"c\"}");
    g_assert_cmpint(u->kind, ==, KS_UNION_KIND_COND_ONE);
    g_assert_cmpstr(u->u.cond_one.cond_value, ==, "c");
    qapi_free_KsFlatUnion(u);
#else
    in_err(
        "KsFlatUnion", "{\"kind\": \"cond-one\", \"cond-value\": \"c\"}",
        "'kind': 'cond-one' is not a value of the enum" KS_UNION_KIND_EXPECTED);
#endif

    /* A branch whose C field needs the q_ prefix. */
    u = in_obj("KsFlatUnion", "{\"kind\": \"int\", \"int-value\": -9}");
    g_assert_cmpint(u->kind, ==, KS_UNION_KIND_INT);
    g_assert_cmpint(u->u.q_int.int_value, ==, -9);
    qapi_free_KsFlatUnion(u);

    n = in_obj("KsNamedBaseUnion", "{\"tag\": \"beta\", \"common\": 1}");
    g_assert_cmpint(qapi_KsNamedBaseUnion_base(n)->common, ==, 1);
    assert_out("KsNamedBaseUnion", n, "{\"tag\": \"beta\", \"common\": 1}");
    qapi_free_KsNamedBaseUnion(n);
}

static void test_flat_union_errors(void)
{
    in_err("KsFlatUnion", "{\"kind\": \"bogus\"}",
           "'kind': 'bogus' is not a value of the enum" KS_UNION_KIND_EXPECTED);
    in_err("KsFlatUnion", "{\"note\": \"n\"}", "'kind' is missing");
    in_err("KsFlatUnion", "{\"kind\": 1}",
           "'kind': expected a string, got an integer");
    in_err("KsFlatUnion", "{\"kind\": \"plain\"}", "'base-id' is missing");
    /* A member of another branch is unknown to this one. */
    in_err("KsFlatUnion",
           "{\"kind\": \"plain\", \"base-id\": 1,"
           " \"leaf\": 1.0}",
           "'leaf' is not an expected member");
    in_err("KsFlatUnion", "{\"kind\": \"empty-one\", \"base-id\": 1}",
           "'base-id' is not an expected member");
    in_err("KsFlatUnion",
           "{\"kind\": \"nested\", \"tag\": \"beta\","
           " \"common\": 1, \"alpha-value\": \"v\"}",
           "'alpha-value' is not an expected member");
    in_err("KsFlatUnion",
           "{\"kind\": \"nested\", \"tag\": \"gamma\","
           " \"common\": 1}",
           "'tag': 'gamma' is not a value of the enum "
           "(expected 'alpha' or 'beta')");
}

/* The 2012 simple union: {"type": BRANCH, "data": VALUE} on the wire. */
static void test_simple_union(void)
{
    KsSimpleUnion *s;
    KsSimpleUnion c = { 0 };
    KsSubStruct sub = { .count = 9, .label = (char *)"nine" };

    s = in_obj("KsSimpleUnion", "{\"type\": \"text\", \"data\": \"hello\"}");
    g_assert_cmpint(s->type, ==, KS_SIMPLE_UNION_KIND_TEXT);
    g_assert_cmpstr(s->u.text.data, ==, "hello");
    qapi_free_KsSimpleUnion(s);

    s = in_obj("KsSimpleUnion", "{\"data\": -5, \"type\": \"count\"}");
    g_assert_cmpint(s->type, ==, KS_SIMPLE_UNION_KIND_COUNT);
    g_assert_cmpint(s->u.count.data, ==, -5);
    assert_out("KsSimpleUnion", s, "{\"type\": \"count\", \"data\": -5}");
    qapi_free_KsSimpleUnion(s);

    s = in_obj("KsSimpleUnion", "{\"type\": \"flag\", \"data\": true}");
    g_assert_true(s->u.flag.data);
    qapi_free_KsSimpleUnion(s);

    s = in_obj("KsSimpleUnion",
               "{\"type\": \"colors\","
               " \"data\": [\"red\", \"3d\"]}");
    g_assert_cmpint(s->u.colors.data->value, ==, KS_COL_RED);
    g_assert_cmpint(s->u.colors.data->next->value, ==, KS_COL_3D);
    qapi_free_KsSimpleUnion(s);

    s = in_obj("KsSimpleUnion",
               "{\"type\": \"sub\","
               " \"data\": {\"count\": 1, \"label\": \"l\"}}");
    g_assert_cmpuint(s->u.sub.data->count, ==, 1);
    g_assert_cmpstr(s->u.sub.data->label, ==, "l");
    qapi_free_KsSimpleUnion(s);

#if defined(TEST_IF_SIMPLE)
    s = in_obj("KsSimpleUnion",
               "{\"type\": \"cond\","
               " \"data\": {\"base-id\": 3}}");
    g_assert_cmpint(s->type, ==, KS_SIMPLE_UNION_KIND_COND);
    g_assert_cmpint(s->u.cond.data->base_id, ==, 3);
    qapi_free_KsSimpleUnion(s);
#endif

    /* Built in C, written on the wire. */
    c.type = KS_SIMPLE_UNION_KIND_TEXT;
    c.u.text.data = (char *)"/srv/a.img";
    assert_out("KsSimpleUnion", &c,
               "{\"type\": \"text\", \"data\": \"/srv/a.img\"}");
    c.type = KS_SIMPLE_UNION_KIND_SUB;
    c.u.sub.data = &sub;
    assert_out("KsSimpleUnion", &c,
               "{\"type\": \"sub\", \"data\":"
               " {\"count\": 9, \"label\": \"nine\"}}");

    in_err("KsSimpleUnion", "{\"type\": \"text\"}", "'data' is missing");
    in_err("KsSimpleUnion", "{\"data\": 1}", "'type' is missing");
    in_err("KsSimpleUnion", "{\"type\": \"text\", \"data\": 1}",
           "'data': expected a string, got an integer");
    in_err("KsSimpleUnion", "{\"type\": \"file\", \"data\": \"x\"}",
           "'type': 'file' is not a value of the enum (expected 'text', "
           "'count', 'flag', 'colors', 'sub'"
#if defined(TEST_IF_SIMPLE)
           " or 'cond')"
#else
           ")"
#endif
    );
    in_err("KsSimpleUnion",
           "{\"type\": \"sub\", \"data\": {\"count\": 1},"
           " \"extra\": 0}",
           "'extra' is not an expected member");
    in_err("KsSimpleUnion", "{\"type\": \"sub\", \"data\": {}}",
           "'data.count' is missing");
}

/* Alternates */

static void test_alternate_obj_num_bool_null(void)
{
    KsAltObjNumBoolNull *a;
    KsAltObjNumBoolNull c = { .type = QTYPE_QBOOL, .u.flag = true };

    a = in_obj("KsAltObjNumBoolNull", "{\"base-id\": 1, \"base-note\": \"o\"}");
    g_assert_cmpint(a->type, ==, QTYPE_QDICT);
    g_assert_cmpint(a->u.obj.base_id, ==, 1);
    g_assert_cmpstr(a->u.obj.base_note, ==, "o");
    assert_out("KsAltObjNumBoolNull", a,
               "{\"base-id\": 1, \"base-note\": \"o\"}");
    qapi_free_KsAltObjNumBoolNull(a);

    a = in_obj("KsAltObjNumBoolNull", "1.5");
    g_assert_cmpint(a->type, ==, QTYPE_QNUM);
    g_assert_cmpfloat(a->u.num, ==, 1.5);
    qapi_free_KsAltObjNumBoolNull(a);
    /* An integer takes the number branch too. */
    a = in_obj("KsAltObjNumBoolNull", "7");
    g_assert_cmpint(a->type, ==, QTYPE_QNUM);
    g_assert_cmpfloat(a->u.num, ==, 7.0);
    assert_out("KsAltObjNumBoolNull", a, "7.0");
    qapi_free_KsAltObjNumBoolNull(a);

    a = in_obj("KsAltObjNumBoolNull", "false");
    g_assert_cmpint(a->type, ==, QTYPE_QBOOL);
    g_assert_false(a->u.flag);
    qapi_free_KsAltObjNumBoolNull(a);
    assert_out("KsAltObjNumBoolNull", &c, "true");

    in_err("KsAltObjNumBoolNull", "{\"base-note\": \"o\"}",
           "'base-id' is missing");
}

static void test_alternate_str_array(void)
{
    KsAltStrArray *a;

    a = in_obj("KsAltStrArray", "\"t\"");
    g_assert_cmpint(a->type, ==, QTYPE_QSTRING);
    g_assert_cmpstr(a->u.text, ==, "t");
    qapi_free_KsAltStrArray(a);

    a = in_obj("KsAltStrArray", "[1, 2]");
    g_assert_cmpint(a->type, ==, QTYPE_QLIST);
    g_assert_cmpint(a->u.list->next->value, ==, 2);
    assert_out("KsAltStrArray", a, "[1, 2]");
    qapi_free_KsAltStrArray(a);

    a = in_obj("KsAltStrArray", "[]");
    g_assert_cmpint(a->type, ==, QTYPE_QLIST);
    g_assert_null(a->u.list);
    assert_out("KsAltStrArray", a, "[]");
    qapi_free_KsAltStrArray(a);

    in_err("KsAltStrArray", "[1, \"2\"]",
           "'[1]': expected an integer, got a string");
    in_err("KsAltStrArray", "\"a\\u0000\"",
           "the value: the string contains a NUL character");
}

static void test_alternate_enum_int(void)
{
    KsAltEnumInt *a;

    a = in_obj("KsAltEnumInt", "\"alpha\"");
    g_assert_cmpint(a->type, ==, QTYPE_QSTRING);
    g_assert_cmpint(a->u.color, ==, KS_SUB_ENUM_ALPHA);
    assert_out("KsAltEnumInt", a, "\"alpha\"");
    qapi_free_KsAltEnumInt(a);

    a = in_obj("KsAltEnumInt", "-5");
    g_assert_cmpint(a->type, ==, QTYPE_QNUM);
    g_assert_cmpint(a->u.count, ==, -5);
    assert_out("KsAltEnumInt", a, "-5");
    qapi_free_KsAltEnumInt(a);

    a = in_obj("KsAltEnumInt",
               "{\"kind\": \"nested\", \"tag\": \"alpha\","
               " \"common\": 2, \"alpha-value\": \"x\"}");
    g_assert_cmpint(a->type, ==, QTYPE_QDICT);
    g_assert_cmpint(a->u.q_union.kind, ==, KS_UNION_KIND_NESTED);
    g_assert_cmpstr(a->u.q_union.u.nested.u.alpha.alpha_value, ==, "x");
    assert_out("KsAltEnumInt", a,
               "{\"kind\": \"nested\", \"tag\": \"alpha\","
               " \"common\": 2, \"alpha-value\": \"x\"}");
    qapi_free_KsAltEnumInt(a);

    in_err("KsAltEnumInt", "\"gamma\"",
           "the value: 'gamma' is not a value "
           "of the enum (expected 'alpha' or 'beta')");
    in_err("KsAltEnumInt", "1.5",
           "the value: expected an integer, got a "
           "number");
    in_err("KsAltEnumInt", "18446744073709551615",
           "the value is out of "
           "range for int (-9223372036854775808 to 9223372036854775807)");
    in_err("KsAltEnumInt", "{\"kind\": \"plain\"}", "'base-id' is missing");
    in_err("KsAltEnumInt", "{\"kind\": \"plain\", \"base-id\": 1, \"x\": 1}",
           "'x' is not an expected member");
}

typedef struct AltKindCase {
    const char *type;
    const char *text;
} AltKindCase;

/*
 * Kinds of JSON value without a branch: an error naming the alternate.
 * At top level the value has no name; the runtime calls it "the value",
 * unquoted (qapikit/visitor.h), and the generated message should too.
 */
static void test_alternate_no_branch(void)
{
    static const AltKindCase cases[] = {
        { "KsAltObjNumBoolNull", "\"s\"" },
        { "KsAltObjNumBoolNull", "[1]" },
#if !defined(TEST_IF_ALT_NULL)
        { "KsAltObjNumBoolNull", "null" },
#endif
        { "KsAltStrArray", "1" },
        { "KsAltStrArray", "2.5" },
        { "KsAltStrArray", "true" },
        { "KsAltStrArray", "{}" },
        { "KsAltStrArray", "null" },
        { "KsAltEnumInt", "true" },
        { "KsAltEnumInt", "[]" },
        { "KsAltEnumInt", "null" },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        const KsType *type = type_of(cases[i].type);
        json_object *doc = ks_json_parse(cases[i].text);
        g_autoptr(GError) err = NULL;
        g_autofree char *expected = g_strdup_printf(
            "the value has no branch for this kind of JSON value in "
            "alternate %s",
            cases[i].type);
        void *obj = &doc;

        g_assert_false(ks_type_input(type, doc, &obj, &err));
        g_assert_null(obj);
        g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
        g_assert_cmpstr(err->message, ==, expected);
        json_object_put(doc);
    }
#if defined(TEST_IF_ALT_NULL)
    {
        KsAltObjNumBoolNull *a = in_obj("KsAltObjNumBoolNull", "null");

        g_assert_cmpint(a->type, ==, QTYPE_QNULL);
        g_assert_true(a->u.nothing == qapi_null_get());
        qapi_free_KsAltObjNumBoolNull(a);
    }
#endif
}

/* A list of alternates, in the shape of a generated list type. */
typedef struct AltList {
    struct AltList *next;
    KsAltStrArray *value;
} AltList;

/* An alternate as a member names the member; as an element, its path. */
static void test_alternate_no_branch_path(void)
{
    json_object *doc = ks_json_parse("{\"a\": 1, \"colors\": [],"
                                     " \"alt\": true}");
    Visitor *v = qapi_json_input_visitor_new(doc);
    q_obj_ks_inline_args_arg arg = { 0 };
    AltList *head = NULL, *tail;
    g_autoptr(GError) err = NULL;
    bool ok;

    /* As a command's marshaller visits its arguments. */
    g_assert_true(visit_start_struct(v, NULL, NULL, 0, &err));
    ok = visit_type_q_obj_ks_inline_args_arg_members(v, &arg, &err);
    visit_end_struct(v, NULL);
    visit_free(v);
    g_assert_false(ok);
    g_assert_null(arg.alt);
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==,
                    "'alt' has no branch for this kind of "
                    "JSON value in alternate KsAltStrArray");
    g_clear_error(&err);
    v = qapi_dealloc_visitor_new();
    visit_type_q_obj_ks_inline_args_arg_members(v, &arg, NULL);
    visit_free(v);
    json_object_put(doc);

    /*
     * As the element of an array, visited the way a generated list
     * visitor visits its elements (name NULL).  The schema has no array
     * of alternates, so the loop is written here as the generator writes
     * it.
     */
    doc = ks_json_parse("[\"a\", false]");
    v = qapi_json_input_visitor_new(doc);
    ok =
        visit_start_list(v, NULL, (GenericList **)&head, sizeof(AltList), &err);
    g_assert_true(ok);
    for (tail = head; tail; tail = (AltList *)visit_next_list(
                                v, (GenericList *)tail, sizeof(AltList))) {
        ok = visit_type_KsAltStrArray(v, NULL, &tail->value, &err);
        if (!ok) {
            g_assert_null(tail->value);
            break;
        }
        g_assert_cmpstr(tail->value->u.text, ==, "a");
    }
    g_assert_false(ok);
    visit_end_list(v, (void **)&head);
    visit_free(v);
    json_object_put(doc);
    while (head) {
        tail = head->next;
        qapi_free_KsAltStrArray(head->value);
        g_free(head);
        head = tail;
    }
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==,
                    "'[1]' has no branch for this kind of JSON value "
                    "in alternate KsAltStrArray");
}

/* any and null */

static void test_any_and_null(void)
{
    static const char *const values[] = {
        "1",
        "-1.5",
        "\"s\"",
        "true",
        "null",
        "[]",
        "{}",
        "[1, [2, [3]], {\"a\": {\"b\": null}}]",
        "{\"k\": \"\\u0000 is fine in any\"}",
        "18446744073709551615",
    };
    size_t i;
    json_object *doc;
    KsAnyNull *an;
    json_object *kept;

    for (i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autofree char *text =
            g_strdup_printf("{\"value\": %s, \"nothing\": null}", values[i]);

        assert_roundtrip("KsAnyNull", text);
    }

    /* The any member holds a reference of its own. */
    doc = ks_json_parse("{\"value\": {\"deep\": [1, 2]}, \"nothing\": null}");
    {
        Visitor *v = qapi_json_input_visitor_new(doc);
        g_autoptr(GError) err = NULL;

        an = NULL;
        g_assert_true(visit_type_KsAnyNull(v, NULL, &an, &err));
        visit_free(v);
    }
    json_object_put(doc); /* the document is gone, the member is not */
    g_assert_true(an->nothing == qapi_null_get());
    g_assert_true(json_object_is_type(an->value, json_type_object));
    kept = json_object_get(an->value);
    qapi_free_KsAnyNull(an);
    ks_assert_json_eq(kept, "{\"deep\": [1, 2]}");
    json_object_put(kept);

    /* JSON null in a mandatory any is the NULL pointer, written back. */
    an = in_obj("KsAnyNull", "{\"value\": null, \"nothing\": null}");
    g_assert_null(an->value);
    assert_out("KsAnyNull", an, "{\"value\": null, \"nothing\": null}");
    qapi_free_KsAnyNull(an);

    in_err("KsAnyNull", "{\"nothing\": null}", "'value' is missing");
    in_err("KsAnyNull", "{\"value\": 1}", "'nothing' is missing");
    in_err("KsAnyNull", "{\"value\": 1, \"nothing\": 0}",
           "'nothing': expected null, got an integer");
    in_err("KsAnyNull", "{\"value\": 1, \"nothing\": {}}",
           "'nothing': expected null, got an object");
}

/*
 * An optional 'any' member sent as JSON null: the member is present, but
 * the C value of JSON null is the NULL pointer (§8), which is also what
 * "absent" is for optional pointer members (§13.1/3).  The null is lost:
 * the member comes back absent, and a handler cannot tell {"raw": null}
 * from {}.  Arrays, which have the same problem with empty lists, get a
 * has_ flag (§13.1/3); optional 'any' does not.
 */
static void test_optional_any_null(void)
{
    KsAllOptional *o = in_obj("KsAllOptional", "{\"opt-any\": null}");
    json_object *out = out_obj("KsAllOptional", o);

    /* Documented in docs/schema-compiler.md: use the type 'null' where
     * a null must be told from absence. */
    g_assert_null(o->opt_any);
    qapi_free_KsAllOptional(o);
    ks_assert_json_eq(out, "{}");
    json_object_put(out);
}

/* Freeing */

static void test_free_null(void)
{
    qapi_free_KsSubStruct(NULL);
    qapi_free_KsBase(NULL);
    qapi_free_KsMiddle(NULL);
    qapi_free_KsDerived(NULL);
    qapi_free_KsAllOptional(NULL);
    qapi_free_KsIntRow(NULL);
    qapi_free_KsAllLists(NULL);
    qapi_free_KsAnyNull(NULL);
    qapi_free_KsFeatured(NULL);
#if KS_HAVE_COND_STRUCT
    qapi_free_KsCondStruct(NULL);
    qapi_free_KsCondArgs(NULL);
#endif
    qapi_free_KsLegacyNames(NULL);
    qapi_free___org_example_KsDownstream(NULL);
    qapi_free_x_KsExperimental(NULL);
    qapi_free_KsLegacyType(NULL);
#if defined(TEST_IF_UNION_BRANCH)
    qapi_free_KsCondBranch(NULL);
#endif
    qapi_free_KsIntBranch(NULL);
    qapi_free_KsUnionBase(NULL);
    qapi_free_KsAlphaBranch(NULL);
    qapi_free_KsNamedBaseUnion(NULL);
    qapi_free_KsFlatUnion(NULL);
    qapi_free_KsSimpleUnion(NULL);
    qapi_free_KsAltObjNumBoolNull(NULL);
    qapi_free_KsAltStrArray(NULL);
    qapi_free_KsAltEnumInt(NULL);
    qapi_free_KsEventArgs(NULL);
    qapi_free_KsColorList(NULL);
    qapi_free_KsBaseList(NULL);
    qapi_free_KsIntRowList(NULL);
    qapi_free_KsSimpleUnionList(NULL);
    qapi_free_strList(NULL);
    qapi_free_intList(NULL);
}

/*
 * Every type built full from JSON, then freed with its qapi_free_X;
 * valgrind and ASan runs check that nothing leaks.
 */
static void test_free_everything(void)
{
    qapi_free_KsSubStruct(
        in_obj("KsSubStruct", "{\"count\": 1, \"label\": \"l\"}"));
    qapi_free_KsBase(
        in_obj("KsBase", "{\"base-id\": 1, \"base-note\": \"n\"}"));
    qapi_free_KsMiddle(in_obj("KsMiddle",
                              "{\"base-id\": 1, \"base-note\":"
                              " \"n\", \"middle\": true}"));
    qapi_free_KsDerived(in_obj("KsDerived",
                               "{\"base-id\": 1, \"base-note\":"
                               " \"n\", \"middle\": true, \"leaf\": 1.0,"
                               " \"sub\": {\"count\": 1, \"label\": \"l\"}}"));
    qapi_free_KsAllOptional(in_obj("KsAllOptional",
                                   "{\"opt-str\": \"s\","
                                   " \"opt-any\": {\"a\": [1]},"
                                   " \"opt-null\": null}"));
    qapi_free_KsIntRow(in_obj("KsIntRow", "{\"cells\": [1, 2, 3]}"));
    qapi_free_KsAllLists(in_obj(
        "KsAllLists",
        "{\"str-list\": [\"a\", \"b\"], \"number-list\": [1.0],"
        " \"int-list\": [1], \"int8-list\": [1], \"int16-list\": [1],"
        " \"int32-list\": [1], \"int64-list\": [1], \"uint8-list\": [1],"
        " \"uint16-list\": [1], \"uint32-list\": [1], \"uint64-list\": [1],"
        " \"size-list\": [1], \"bool-list\": [true],"
        " \"any-list\": [{\"x\": \"y\"}, null], \"null-list\": [null],"
        " \"qtype-list\": [\"qdict\"], \"color-list\": [\"red\"],"
        " \"base-list\": [{\"base-id\": 1, \"base-note\": \"n\"}],"
        " \"matrix\": [{\"cells\": [1]}, {\"cells\": [2, 3]}]}"));
    qapi_free_KsAnyNull(in_obj("KsAnyNull",
                               "{\"value\": [\"v\"],"
                               " \"nothing\": null}"));
    qapi_free_KsFeatured(in_obj("KsFeatured",
                                "{\"plain\": 1, \"old\": 2,"
                                " \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
                                ", \"cond\": 3"
#endif
                                ", \"default\": true}"));
#if KS_HAVE_COND_STRUCT
    qapi_free_KsCondStruct(in_obj("KsCondStruct", "{\"value\": 1}"));
    qapi_free_KsCondArgs(in_obj("KsCondArgs",
                                "{\"value\": 1"
#if defined(TEST_IF_ARG)
                                ", \"extra\": \"e\""
#endif
                                "}"));
#endif
    qapi_free_KsLegacyNames(in_obj("KsLegacyNames",
                                   "{\"Upper_Case\": 1,"
                                   " \"snake_case\": \"s\"}"));
    qapi_free___org_example_KsDownstream(
        in_obj("__org.example_KsDownstream",
               "{\"__org.example_member\": \"m\", \"x-member\": 1}"));
    qapi_free_x_KsExperimental(in_obj("x-KsExperimental", "{\"value\": 1}"));
    qapi_free_KsLegacyType(in_obj("KsLegacyType",
                                  "{\"name\": \"n\","
                                  " \"size\": 1}"));
#if defined(TEST_IF_UNION_BRANCH)
    qapi_free_KsCondBranch(in_obj("KsCondBranch", "{\"cond-value\": \"c\"}"));
#endif
    qapi_free_KsIntBranch(in_obj("KsIntBranch", "{\"int-value\": 1}"));
    qapi_free_KsUnionBase(in_obj("KsUnionBase",
                                 "{\"tag\": \"beta\","
                                 " \"common\": 1}"));
    qapi_free_KsAlphaBranch(in_obj("KsAlphaBranch",
                                   "{\"alpha-value\": \"a\","
                                   " \"alpha-list\": [1, 2]}"));
    qapi_free_KsNamedBaseUnion(in_obj("KsNamedBaseUnion",
                                      "{\"tag\": \"alpha\","
                                      " \"common\": 1, \"alpha-value\": \"a\","
                                      " \"alpha-list\": [1]}"));
    qapi_free_KsFlatUnion(in_obj("KsFlatUnion",
                                 "{\"kind\": \"derived\","
                                 " \"note\": \"n\", \"base-id\": 1,"
                                 " \"base-note\": \"b\", \"middle\": true,"
                                 " \"leaf\": 1.0, \"sub\": {\"count\": 1,"
                                 " \"label\": \"l\"}}"));
    qapi_free_KsFlatUnion(in_obj("KsFlatUnion",
                                 "{\"kind\": \"nested\","
                                 " \"note\": \"n\", \"tag\": \"alpha\","
                                 " \"common\": 1, \"alpha-value\": \"a\","
                                 " \"alpha-list\": [1]}"));
    qapi_free_KsSimpleUnion(in_obj("KsSimpleUnion",
                                   "{\"type\": \"colors\","
                                   " \"data\": [\"red\", \"blue\"]}"));
    qapi_free_KsSimpleUnion(
        in_obj("KsSimpleUnion",
               "{\"type\": \"sub\","
               " \"data\": {\"count\": 1, \"label\": \"l\"}}"));
    qapi_free_KsAltObjNumBoolNull(in_obj(
        "KsAltObjNumBoolNull", "{\"base-id\": 1, \"base-note\": \"n\"}"));
    qapi_free_KsAltStrArray(in_obj("KsAltStrArray", "\"s\""));
    qapi_free_KsAltStrArray(in_obj("KsAltStrArray", "[1, 2, 3]"));
    qapi_free_KsAltEnumInt(in_obj("KsAltEnumInt",
                                  "{\"kind\": \"plain\","
                                  " \"note\": \"n\", \"base-id\": 1,"
                                  " \"base-note\": \"b\"}"));
    qapi_free_KsEventArgs(in_obj("KsEventArgs", "{\"value\": 1}"));
    qapi_free_KsColorList(in_obj("[KsColor]", "[\"red\", \"3d\"]"));
    qapi_free_KsBaseList(in_obj("[KsBase]",
                                "[{\"base-id\": 1,"
                                " \"base-note\": \"n\"}, {\"base-id\": 2}]"));
    qapi_free_KsIntRowList(in_obj("[KsIntRow]",
                                  "[{\"cells\": [1]},"
                                  " {\"cells\": []}]"));
    qapi_free_KsSimpleUnionList(in_obj("[KsSimpleUnion]",
                                       "[{\"type\": \"text\", \"data\": \"t\"},"
                                       " {\"type\": \"sub\", \"data\":"
                                       " {\"count\": 1, \"label\": \"l\"}}]"));
    qapi_free_strList(in_obj("[str]", "[\"a\", \"b\"]"));
    qapi_free_anyList(in_obj("[any]", "[{\"a\": 1}, [2], null]"));
}

/* Values built by hand in C are freed whole by qapi_free_X. */
static void test_free_built_in_c(void)
{
    KsFlatUnion *u = g_new0(KsFlatUnion, 1);
    KsSimpleUnionList *list = g_new0(KsSimpleUnionList, 1);
    KsAltStrArray *alt = g_new0(KsAltStrArray, 1);

    u->kind = KS_UNION_KIND_DERIVED;
    u->note = g_strdup("note");
    u->u.derived.base_note = g_strdup("base");
    u->u.derived.sub = g_new0(KsSubStruct, 1);
    u->u.derived.sub->label = g_strdup("label");
    qapi_free_KsFlatUnion(u);

    list->value = g_new0(KsSimpleUnion, 1);
    list->value->type = KS_SIMPLE_UNION_KIND_COLORS;
    list->value->u.colors.data = g_new0(KsColorList, 1);
    list->next = g_new0(KsSimpleUnionList, 1);
    list->next->value = g_new0(KsSimpleUnion, 1);
    list->next->value->type = KS_SIMPLE_UNION_KIND_TEXT;
    list->next->value->u.text.data = g_strdup("text");
    qapi_free_KsSimpleUnionList(list);

    alt->type = QTYPE_QLIST;
    alt->u.list = g_new0(intList, 1);
    alt->u.list->next = g_new0(intList, 1);
    qapi_free_KsAltStrArray(alt);
}

/* g_autoptr frees at the end of the scope (valgrind and ASan check). */
static void test_autoptr(void)
{
    {
        g_autoptr(KsDerived) d = in_obj("KsDerived",
                                        "{\"base-id\": 1,"
                                        " \"base-note\": \"n\","
                                        " \"middle\": true, \"leaf\": 1.0,"
                                        " \"sub\": {\"count\": 2}}");
        g_autoptr(KsFlatUnion) u = in_obj("KsFlatUnion",
                                          "{\"kind\": \"int\","
                                          " \"note\": \"n\","
                                          " \"int-value\": 1}");
        g_autoptr(KsSimpleUnion) s = in_obj("KsSimpleUnion",
                                            "{\"type\": \"text\","
                                            " \"data\": \"t\"}");
        g_autoptr(KsAltEnumInt) a = in_obj("KsAltEnumInt",
                                           "{\"kind\":"
                                           " \"plain\", \"base-id\": 1,"
                                           " \"base-note\": \"b\"}");
        g_autoptr(KsAltStrArray) as = in_obj("KsAltStrArray", "[1]");
        g_autoptr(KsAnyNull) an = in_obj("KsAnyNull",
                                         "{\"value\": [1],"
                                         " \"nothing\": null}");
        g_autoptr(KsColorList) colors = in_obj("[KsColor]", "[\"red\"]");
        g_autoptr(KsSimpleUnionList) sl = in_obj("[KsSimpleUnion]",
                                                 "[{\"type\": \"count\","
                                                 " \"data\": 1}]");
        g_autoptr(KsSubStruct) sub = in_obj("KsSubStruct",
                                            "{\"count\": 1,"
                                            " \"label\": \"l\"}");
        g_autoptr(strList) strs = in_obj("[str]", "[\"x\"]");
        g_autoptr(KsDerived) none = NULL;

        g_assert_nonnull(d);
        g_assert_nonnull(u);
        g_assert_nonnull(s);
        g_assert_nonnull(a);
        g_assert_nonnull(as);
        g_assert_nonnull(an);
        g_assert_nonnull(colors);
        g_assert_nonnull(sl);
        g_assert_nonnull(sub);
        g_assert_nonnull(strs);
        g_assert_null(none);
    }
}

/* QAPI_CLONE: equal, and independent of the original */

typedef struct CloneCase {
    const char *type;
    const char *text;
} CloneCase;

static const CloneCase clone_cases[] = {
    { "KsDerived",
      "{\"base-id\": 1, \"base-note\": \"n\", \"middle\": true,"
      " \"leaf\": 1.5, \"sub\": {\"count\": 2, \"label\": \"l\"}}" },
    { "KsAllOptional",
      "{\"opt-str\": \"s\", \"opt-number\": 0.5,"
      " \"opt-int8\": -1, \"opt-uint64\": 18446744073709551615,"
      " \"opt-bool\": true, \"opt-any\": {\"a\": [1]}, \"opt-null\": null,"
      " \"opt-qtype\": \"qnum\"}" },
    { "KsAllLists",
      "{\"str-list\": [\"a\", \"b\"], \"int-list\": [1],"
      " \"int16-list\": [], \"int64-list\": [1], \"uint16-list\": [1],"
      " \"uint64-list\": [1], \"bool-list\": [false], \"null-list\": [null],"
      " \"any-list\": [1, \"x\"], \"color-list\": [\"blue\"],"
      " \"base-list\": [{\"base-id\": 1}], \"matrix\":"
      " [{\"cells\": [1]}, {\"cells\": []}, {\"cells\": [2, 3]}]}" },
    { "KsFeatured",
      "{\"plain\": 1, \"old\": 2, \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
      ", \"cond\": 3"
#endif
      ", \"default\": false}" },
    { "KsFlatUnion",
      "{\"kind\": \"plain\", \"base-id\": 1,"
      " \"base-note\": \"p\"}" },
    { "KsFlatUnion",
      "{\"kind\": \"derived\", \"note\": \"n\","
      " \"base-id\": 1, \"middle\": true, \"leaf\": 0.5,"
      " \"sub\": {\"count\": 1}}" },
    { "KsFlatUnion",
      "{\"kind\": \"nested\", \"tag\": \"alpha\","
      " \"common\": 1, \"alpha-value\": \"a\", \"alpha-list\": [1, 2]}" },
    { "KsFlatUnion", "{\"kind\": \"empty-one\"}" },
    { "KsFlatUnion", "{\"kind\": \"int\", \"int-value\": 3}" },
    { "KsSimpleUnion", "{\"type\": \"text\", \"data\": \"t\"}" },
    { "KsSimpleUnion", "{\"type\": \"colors\", \"data\": [\"red\"]}" },
    { "KsSimpleUnion",
      "{\"type\": \"sub\", \"data\": {\"count\": 1,"
      " \"label\": \"l\"}}" },
    { "KsAltObjNumBoolNull", "{\"base-id\": 1, \"base-note\": \"n\"}" },
    { "KsAltObjNumBoolNull", "2.5" },
    { "KsAltStrArray", "\"s\"" },
    { "KsAltStrArray", "[1, 2]" },
    { "KsAltEnumInt", "\"beta\"" },
    { "KsAltEnumInt",
      "{\"kind\": \"int\", \"note\": \"u\","
      " \"int-value\": 1}" },
    { "KsAnyNull", "{\"value\": {\"a\": [1, 2]}, \"nothing\": null}" },
    { "[KsSimpleUnion]",
      "[{\"type\": \"text\", \"data\": \"a\"},"
      " {\"type\": \"flag\", \"data\": true}]" },
    { "[KsBase]",
      "[{\"base-id\": 1, \"base-note\": \"a\"},"
      " {\"base-id\": 2}]" },
    { "[str]", "[\"a\", \"b\"]" },
};

static void *clone_of(const char *type, void *obj)
{
    if (!strcmp(type, "KsDerived")) {
        return QAPI_CLONE(KsDerived, obj);
    } else if (!strcmp(type, "KsAllOptional")) {
        return QAPI_CLONE(KsAllOptional, obj);
    } else if (!strcmp(type, "KsAllLists")) {
        return QAPI_CLONE(KsAllLists, obj);
    } else if (!strcmp(type, "KsFeatured")) {
        return QAPI_CLONE(KsFeatured, obj);
    } else if (!strcmp(type, "KsFlatUnion")) {
        return QAPI_CLONE(KsFlatUnion, obj);
    } else if (!strcmp(type, "KsSimpleUnion")) {
        return QAPI_CLONE(KsSimpleUnion, obj);
    } else if (!strcmp(type, "KsAltObjNumBoolNull")) {
        return QAPI_CLONE(KsAltObjNumBoolNull, obj);
    } else if (!strcmp(type, "KsAltStrArray")) {
        return QAPI_CLONE(KsAltStrArray, obj);
    } else if (!strcmp(type, "KsAltEnumInt")) {
        return QAPI_CLONE(KsAltEnumInt, obj);
    } else if (!strcmp(type, "KsAnyNull")) {
        return QAPI_CLONE(KsAnyNull, obj);
    } else if (!strcmp(type, "[KsSimpleUnion]")) {
        return QAPI_CLONE(KsSimpleUnionList, obj);
    } else if (!strcmp(type, "[KsBase]")) {
        return QAPI_CLONE(KsBaseList, obj);
    } else if (!strcmp(type, "[str]")) {
        return QAPI_CLONE(strList, obj);
    }
    g_assert_not_reached();
}

static void test_clone_equal(void)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(clone_cases); i++) {
        void *orig = in_obj(clone_cases[i].type, clone_cases[i].text);
        void *copy = clone_of(clone_cases[i].type, orig);

        g_assert_nonnull(copy);
        g_assert_true(copy != orig);
        assert_out(clone_cases[i].type, copy, clone_cases[i].text);
        /* Freeing the original leaves the copy whole. */
        free_obj(clone_cases[i].type, orig);
        assert_out(clone_cases[i].type, copy, clone_cases[i].text);
        free_obj(clone_cases[i].type, copy);
    }
    g_assert_null(QAPI_CLONE(KsDerived, NULL));
    g_assert_null(QAPI_CLONE(KsSimpleUnionList, NULL));
}

static void test_clone_independent(void)
{
    static const char derived_text[] =
        "{\"base-id\": 1, \"base-note\": \"n\", \"middle\": true,"
        " \"leaf\": 1.5, \"sub\": {\"count\": 2, \"label\": \"l\"}}";
    static const char lists_text[] =
        "{\"str-list\": [\"a\", \"b\"], \"int-list\": [1, 2],"
        " \"int16-list\": [], \"int64-list\": [], \"uint16-list\": [],"
        " \"uint64-list\": [], \"bool-list\": [], \"null-list\": [],"
        " \"color-list\": [\"red\"], \"matrix\":"
        " [{\"cells\": [1, 2]}]}";
    KsDerived *d = in_obj("KsDerived", derived_text);
    KsDerived *dc = QAPI_CLONE(KsDerived, d);
    KsAllLists *l = in_obj("KsAllLists", lists_text);
    KsAllLists *lc = QAPI_CLONE(KsAllLists, l);
    KsAltStrArray *a = in_obj("KsAltStrArray", "\"text\"");
    KsAltStrArray *ac = QAPI_CLONE(KsAltStrArray, a);
    KsFlatUnion *u = in_obj("KsFlatUnion",
                            "{\"kind\": \"nested\","
                            " \"tag\": \"alpha\", \"common\": 1,"
                            " \"alpha-value\": \"a\", \"alpha-list\": [5]}");
    KsFlatUnion *uc = QAPI_CLONE(KsFlatUnion, u);
    KsAnyNull *an = in_obj("KsAnyNull",
                           "{\"value\": {\"a\": 1},"
                           " \"nothing\": null}");
    KsAnyNull *anc = QAPI_CLONE(KsAnyNull, an);
    KsFeatured *f;
    KsFeatured *fc;

    /* Deep: every pointer is a copy of its own. */
    g_assert_true(dc->base_note != d->base_note);
    g_assert_true(dc->sub != d->sub);
    g_assert_true(dc->sub->label != d->sub->label);
    g_free(dc->base_note);
    dc->base_note = g_strdup("changed");
    dc->sub->count = 99;
    dc->sub->label[0] = 'X';
    dc->middle = false;
    assert_out("KsDerived", d, derived_text);

    g_assert_true(lc->str_list != l->str_list);
    g_assert_true(lc->str_list->value != l->str_list->value);
    g_assert_true(lc->matrix->value->cells != l->matrix->value->cells);
    lc->int_list->next->value = 42;
    lc->str_list->value[0] = 'Z';
    lc->matrix->value->cells->value = -1;
    lc->color_list->value = KS_COL_BLUE;
    qapi_free_intList(lc->matrix->value->cells->next);
    lc->matrix->value->cells->next = NULL;
    assert_out("KsAllLists", l, lists_text);

    g_assert_true(ac->u.text != a->u.text);
    ac->u.text[0] = 'T';
    assert_out("KsAltStrArray", a, "\"text\"");

    g_assert_true(uc->u.nested.u.alpha.alpha_value
                  != u->u.nested.u.alpha.alpha_value);
    uc->u.nested.u.alpha.alpha_list->value = 6;
    uc->u.nested.common = 2;
    assert_out("KsFlatUnion", u,
               "{\"kind\": \"nested\", \"tag\": \"alpha\","
               " \"common\": 1, \"alpha-value\": \"a\", \"alpha-list\": [5]}");

    /*
     * 'any' is a json-c value shared by reference counting: the copy
     * holds a reference of its own to the same tree.
     */
    g_assert_true(anc->value == an->value);
    qapi_free_KsAnyNull(an);
    assert_out("KsAnyNull", anc, "{\"value\": {\"a\": 1}, \"nothing\": null}");

    /* The clone copies what the output policy would hide. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    f = in_obj("KsFeatured",
               "{\"plain\": 1, \"old\": 2, \"experimental\":"
               " \"e\""
#if defined(TEST_IF_MEMBER)
               ", \"cond\": 3"
#endif
               ", \"default\": false}");
    fc = QAPI_CLONE(KsFeatured, f);
    policy_reset();
    g_assert_cmpint(fc->old, ==, 2);
    g_assert_cmpstr(fc->experimental, ==, "e");
    g_assert_true(fc->experimental != f->experimental);

    qapi_free_KsFeatured(f);
    qapi_free_KsFeatured(fc);
    qapi_free_KsAnyNull(anc);
    qapi_free_KsFlatUnion(u);
    qapi_free_KsFlatUnion(uc);
    qapi_free_KsAltStrArray(a);
    qapi_free_KsAltStrArray(ac);
    qapi_free_KsAllLists(l);
    qapi_free_KsAllLists(lc);
    qapi_free_KsDerived(d);
    qapi_free_KsDerived(dc);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/kitchen-sink/types/builtin/int-bounds",
                    test_builtin_int_bounds);
    g_test_add_func("/kitchen-sink/types/builtin/uint64-max-roundtrip",
                    test_builtin_uint64_max_roundtrip);
    g_test_add_func("/kitchen-sink/types/builtin/other-scalars",
                    test_builtin_other_scalars);
    g_test_add_func("/kitchen-sink/types/enum/values", test_enum_values);
    g_test_add_func("/kitchen-sink/types/enum/conditional",
                    test_enum_conditional);
    g_test_add_func("/kitchen-sink/types/enum/special-features",
                    test_enum_special_features);
    g_test_add_func("/kitchen-sink/types/enum/output-out-of-range",
                    test_enum_output_out_of_range);
    g_test_add_func("/kitchen-sink/types/struct/base-chain",
                    test_struct_base_chain);
    g_test_add_func("/kitchen-sink/types/struct/names", test_struct_names);
    g_test_add_func("/kitchen-sink/types/struct/optional-members",
                    test_optional_members);
    g_test_add_func("/kitchen-sink/types/struct/featured-members",
                    test_featured_members);
    g_test_add_func("/kitchen-sink/types/list/empty", test_lists_empty);
    g_test_add_func("/kitchen-sink/types/list/values", test_lists_values);
    g_test_add_func("/kitchen-sink/types/union/flat-branches",
                    test_flat_union_branches);
    g_test_add_func("/kitchen-sink/types/union/flat-errors",
                    test_flat_union_errors);
    g_test_add_func("/kitchen-sink/types/union/simple-2012", test_simple_union);
    g_test_add_func("/kitchen-sink/types/alternate/obj-num-bool-null",
                    test_alternate_obj_num_bool_null);
    g_test_add_func("/kitchen-sink/types/alternate/str-array",
                    test_alternate_str_array);
    g_test_add_func("/kitchen-sink/types/alternate/enum-int",
                    test_alternate_enum_int);
    g_test_add_func("/kitchen-sink/types/alternate/no-branch",
                    test_alternate_no_branch);
    g_test_add_func("/kitchen-sink/types/alternate/no-branch-path",
                    test_alternate_no_branch_path);
    g_test_add_func("/kitchen-sink/types/any-null/values", test_any_and_null);
    g_test_add_func("/kitchen-sink/types/any-null/optional-any-null",
                    test_optional_any_null);
    g_test_add_func("/kitchen-sink/types/free/null", test_free_null);
    g_test_add_func("/kitchen-sink/types/free/everything",
                    test_free_everything);
    g_test_add_func("/kitchen-sink/types/free/built-in-c",
                    test_free_built_in_c);
    g_test_add_func("/kitchen-sink/types/free/autoptr", test_autoptr);
    g_test_add_func("/kitchen-sink/types/clone/equal", test_clone_equal);
    g_test_add_func("/kitchen-sink/types/clone/independent",
                    test_clone_independent);

    return g_test_run();
}
