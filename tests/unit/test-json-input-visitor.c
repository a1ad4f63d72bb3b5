/* SPDX-License-Identifier: MIT */
/*
 * The JSON input visitor: strictness and the paths in its messages.
 */
#include <math.h>
#include <string.h>

#include "visitor-test-types.h"

/*
 * Visit the value of member "n" of the document {"n": VALUE} as the
 * scalar TYPE (a schema type name); *TEXT gets what was read, printed.
 * The document is visited like a command's arguments: the object
 * entered without allocating, then the member, then the check.
 */
static bool visit_scalar(Visitor *v, const char *type, const char *name,
                         char **text, GError **errp)
{
    bool ok = false;
    union {
        int64_t i64;
        int8_t i8;
        int16_t i16;
        int32_t i32;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        bool b;
        double n;
        char *s;
        json_object *any;
        QapiNull *null;
        int e;
    } val;

    memset(&val, 0, sizeof(val));
    *text = NULL;
#define SCALAR(tname, fn, field, fmt, ...)                                     \
    if (!strcmp(type, tname)) {                                                \
        ok = fn(v, name, &val.field, errp);                                    \
        if (ok) {                                                              \
            *text = g_strdup_printf(fmt, __VA_ARGS__);                         \
        }                                                                      \
    } else
    SCALAR("int", visit_type_int, i64, "%" PRId64, val.i64)
    SCALAR("int8", visit_type_int8, i8, "%d", val.i8)
    SCALAR("int16", visit_type_int16, i16, "%d", val.i16)
    SCALAR("int32", visit_type_int32, i32, "%" PRId32, val.i32)
    SCALAR("int64", visit_type_int64, i64, "%" PRId64, val.i64)
    SCALAR("uint8", visit_type_uint8, u8, "%u", val.u8)
    SCALAR("uint16", visit_type_uint16, u16, "%u", val.u16)
    SCALAR("uint32", visit_type_uint32, u32, "%" PRIu32, val.u32)
    SCALAR("uint64", visit_type_uint64, u64, "%" PRIu64, val.u64)
    SCALAR("size", visit_type_size, u64, "%" PRIu64, val.u64)
    SCALAR("bool", visit_type_bool, b, "%s", val.b ? "true" : "false")
    SCALAR("number", visit_type_number, n, "%g", val.n)
    SCALAR("str", visit_type_str, s, "%s", val.s)
    SCALAR("null", visit_type_null, null, "%s",
           val.null == qapi_null_get() ? "null" : "?")
    SCALAR("any", visit_type_any, any, "%s",
           json_object_to_json_string(val.any))
    if (!strcmp(type, "enum")) {
        ok = visit_type_enum(v, name, &val.e, &TestColor_lookup, errp);
        if (ok) {
            *text = g_strdup(TestColor_lookup.array[val.e]);
        }
    } else {
        g_assert_not_reached();
    }
#undef SCALAR
    if (!strcmp(type, "str")) {
        g_free(val.s);
    } else if (!strcmp(type, "any")) {
        json_object_put(val.any);
    }
    return ok;
}

/* Read member "n" of DOC as TYPE. */
static bool read_member(const char *type, json_object *doc, char **text,
                        GError **errp)
{
    Visitor *v = qapi_json_input_visitor_new(doc);
    bool ok = false;

    if (visit_start_struct(v, NULL, NULL, 0, errp)) {
        ok = visit_scalar(v, type, "n", text, errp)
            && visit_check_struct(v, errp);
        visit_end_struct(v, NULL);
    }
    visit_free(v);
    return ok;
}

/* Read {"n": VALUE} as TYPE: expect TEXT back, or the error MESSAGE. */
static void check_member(const char *type, const char *value,
                         const char *expect_text, const char *message)
{
    g_autofree char *doc_text = g_strdup_printf("{\"n\": %s}", value);
    json_object *doc = test_parse(doc_text);
    g_autofree char *text = NULL;
    GError *err = NULL;
    bool ok = read_member(type, doc, &text, &err);

    json_object_put(doc);
    if (message) {
        g_assert_false(ok);
        test_assert_error(err, message);
        g_error_free(err);
        g_assert_null(text);
    } else {
        g_assert_no_error(err);
        g_assert_true(ok);
        g_assert_cmpstr(text, ==, expect_text);
    }
}

/* Like check_member(), with a json-c value built by hand. */
static void check_member_value(const char *type, json_object *value,
                               const char *message)
{
    json_object *doc = json_object_new_object();
    g_autofree char *text = NULL;
    GError *err = NULL;

    json_object_object_add(doc, "n", value);
    g_assert_false(read_member(type, doc, &text, &err));
    json_object_put(doc);
    test_assert_error(err, message);
    g_error_free(err);
}

static const struct {
    const char *type;
    const char *min, *max;
    const char *below, *above; /* NULL: no json-c value is there */
    const char *range;
} int_cases[] = {
    { "int8", "-128", "127", "-129", "128", "-128 to 127" },
    { "int16", "-32768", "32767", "-32769", "32768", "-32768 to 32767" },
    { "int32", "-2147483648", "2147483647", "-2147483649", "2147483648",
      "-2147483648 to 2147483647" },
    { "int64", "-9223372036854775808", "9223372036854775807", NULL,
      "9223372036854775808", "-9223372036854775808 to 9223372036854775807" },
    { "int", "-9223372036854775808", "9223372036854775807", NULL,
      "9223372036854775808", "-9223372036854775808 to 9223372036854775807" },
    { "uint8", "0", "255", "-1", "256", "0 to 255" },
    { "uint16", "0", "65535", "-1", "65536", "0 to 65535" },
    { "uint32", "0", "4294967295", "-1", "4294967296", "0 to 4294967295" },
    { "uint64", "0", "18446744073709551615", "-1", NULL,
      "0 to 18446744073709551615" },
    { "size", "0", "18446744073709551615", "-1", NULL,
      "0 to 18446744073709551615" },
};

static void test_int_bounds(void)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(int_cases); i++) {
        const char *type = int_cases[i].type;
        g_autofree char *message = g_strdup_printf(
            "'n' is out of range for %s (%s)", type, int_cases[i].range);

        check_member(type, int_cases[i].min, int_cases[i].min, NULL);
        check_member(type, int_cases[i].max, int_cases[i].max, NULL);
        check_member(type, "0", "0", NULL);
        if (int_cases[i].below) {
            check_member(type, int_cases[i].below, NULL, message);
        }
        if (int_cases[i].above) {
            check_member(type, int_cases[i].above, NULL, message);
        }
        /* The extremes of what json-c holds, at both ends. */
        if (strcmp(int_cases[i].max, "18446744073709551615")) {
            check_member(type, "18446744073709551615", NULL, message);
        }
        if (strcmp(int_cases[i].min, "-9223372036854775808")) {
            check_member(type, "-9223372036854775808", NULL, message);
        }
    }
}

static void test_uint64_constructed(void)
{
    json_object *doc = json_object_new_object();
    g_autofree char *text = NULL;
    g_autofree char *text2 = NULL;
    GError *err = NULL;

    json_object_object_add(doc, "n", json_object_new_uint64(UINT64_MAX));
    g_assert_true(read_member("size", doc, &text, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(text, ==, "18446744073709551615");
    /* Small values stored as uint64 by json-c read as any other. */
    json_object_object_add(doc, "n", json_object_new_uint64(7));
    g_assert_true(read_member("int8", doc, &text2, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(text2, ==, "7");
    json_object_put(doc);
}

static const struct {
    const char *json;
    const char *kind;
} json_kinds[] = {
    { "null", "null" },    { "true", "a boolean" },   { "1.5", "a number" },
    { "1", "an integer" }, { "\"red\"", "a string" }, { "{}", "an object" },
    { "[]", "an array" },
};

static const struct {
    const char *type;
    const char *expected;
    const char *accepted[3]; /* the kinds of json_kinds it takes */
} scalar_types[] = {
    { "int", "an integer", { "an integer" } },
    { "int8", "an integer", { "an integer" } },
    { "int16", "an integer", { "an integer" } },
    { "int32", "an integer", { "an integer" } },
    { "int64", "an integer", { "an integer" } },
    { "uint8", "an integer", { "an integer" } },
    { "uint16", "an integer", { "an integer" } },
    { "uint32", "an integer", { "an integer" } },
    { "uint64", "an integer", { "an integer" } },
    { "size", "an integer", { "an integer" } },
    { "bool", "a boolean", { "a boolean" } },
    { "number", "a number", { "a number", "an integer" } },
    { "str", "a string", { "a string" } },
    { "enum", "a string", { "a string" } },
    { "null", "null", { "null" } },
};

static bool accepts(size_t type, const char *kind)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(scalar_types[type].accepted); i++) {
        if (scalar_types[type].accepted[i]
            && !strcmp(scalar_types[type].accepted[i], kind)) {
            return true;
        }
    }
    return false;
}

static void test_wrong_types(void)
{
    size_t t, k;

    for (t = 0; t < G_N_ELEMENTS(scalar_types); t++) {
        for (k = 0; k < G_N_ELEMENTS(json_kinds); k++) {
            g_autofree char *message = NULL;
            g_autofree char *text = NULL;
            g_autofree char *doc_text =
                g_strdup_printf("{\"n\": %s}", json_kinds[k].json);
            json_object *doc = test_parse(doc_text);
            GError *err = NULL;
            bool ok = read_member(scalar_types[t].type, doc, &text, &err);

            json_object_put(doc);
            if (accepts(t, json_kinds[k].kind)) {
                g_assert_no_error(err);
                g_assert_true(ok);
                continue;
            }
            message =
                g_strdup_printf("'n': expected %s, got %s",
                                scalar_types[t].expected, json_kinds[k].kind);
            g_assert_false(ok);
            test_assert_error(err, message);
            g_error_free(err);
        }
    }
}

static void test_any_takes_everything(void)
{
    size_t k;

    for (k = 0; k < G_N_ELEMENTS(json_kinds); k++) {
        g_autofree char *doc_text =
            g_strdup_printf("{\"n\": %s}", json_kinds[k].json);
        json_object *doc = test_parse(doc_text);
        g_autofree char *text = NULL;
        GError *err = NULL;

        g_assert_true(read_member("any", doc, &text, &err));
        g_assert_no_error(err);
        json_object_put(doc);
    }
}

static void test_integers_are_not_doubles(void)
{
    check_member("int", "1.0", NULL, "'n': expected an integer, got a number");
    check_member("uint64", "1e3", NULL,
                 "'n': expected an integer, got a number");
    check_member("size", "-0.0", NULL,
                 "'n': expected an integer, got a number");
    check_member("number", "1e3", "1000", NULL);
    check_member("number", "-7", "-7", NULL);
    check_member("number", "18446744073709551615", "1.84467e+19", NULL);
    check_member("number", "-9223372036854775808", "-9.22337e+18", NULL);
}

static void test_non_finite(void)
{
    check_member_value("number", json_object_new_double(NAN),
                       "'n' is not a finite number");
    check_member_value("number", json_object_new_double(INFINITY),
                       "'n' is not a finite number");
    check_member_value("number", json_object_new_double(-INFINITY),
                       "'n' is not a finite number");
    check_member_value("int", json_object_new_double(NAN),
                       "'n': expected an integer, got a number");
    /* json-c's parser takes NaN and Infinity unless it is strict. */
    check_member("number", "NaN", NULL, "'n' is not a finite number");
    check_member("number", "-Infinity", NULL, "'n' is not a finite number");
}

static void test_bool_and_str(void)
{
    check_member("bool", "true", "true", NULL);
    check_member("bool", "false", "false", NULL);
    check_member("str", "\"\"", "", NULL);
    check_member("str", "\"h\\u00e9\"", "h\xc3\xa9", NULL);
    check_member("str", "\"a\\u0000b\"", NULL,
                 "'n': the string contains a NUL character");
}

static void test_root(void)
{
    json_object *doc = test_parse("1");
    Visitor *v = qapi_json_input_visitor_new(doc);
    GError *err = NULL;
    char *str = (char *)"garbage";
    int64_t num = 0;

    json_object_put(doc);
    g_assert_false(visit_type_str(v, NULL, &str, &err));
    g_assert_null(str);
    test_assert_error(err, "the value: expected a string, got an integer");
    g_clear_error(&err);
    g_assert_false(visit_type_str(v, "arg", &str, &err));
    test_assert_error(err, "'arg': expected a string, got an integer");
    g_clear_error(&err);
    g_assert_true(visit_type_int(v, "arg", &num, &err));
    g_assert_cmpint(num, ==, 1);
    visit_free(v);

    /* A JSON null root, given as NULL. */
    v = qapi_json_input_visitor_new(NULL);
    {
        QapiNull *null = NULL;
        TestArgs *args = NULL;

        g_assert_true(visit_type_null(v, NULL, &null, &err));
        g_assert_true(null == qapi_null_get());
        g_assert_false(visit_type_TestArgs(v, NULL, &args, &err));
        g_assert_null(args);
        test_assert_error(err, "the value: expected an object, got null");
        g_clear_error(&err);
    }
    visit_free(v);

    /* A named root prefixes every path. */
    doc = test_parse("{\"devlist\": [{\"device\": 1}]}");
    v = qapi_json_input_visitor_new(doc);
    json_object_put(doc);
    {
        TestArgs *args = NULL;

        g_assert_false(visit_type_TestArgs(v, "args", &args, &err));
        test_assert_error(err,
                          "'args.devlist[0].device': expected a string, "
                          "got an integer");
        g_clear_error(&err);
    }
    visit_free(v);
}

static void check_args_error(const char *text, const char *message)
{
    void *obj;
    GError *err = NULL;

    g_assert_false(test_input(text, TEST_VISIT(TestArgs), &obj, &err));
    test_assert_error(err, message);
    g_error_free(err);
}

static void test_missing(void)
{
    check_args_error("{}", "'devlist' is missing");
    check_args_error("{\"devlist\": [{\"device\": \"a\"}, {}]}",
                     "'devlist[1].device' is missing");
    check_args_error("{\"devlist\": [{\"device\": \"a\"}, "
                     "{\"format\": \"red\"}]}",
                     "'devlist[1].device' is missing");
}

static void test_unknown(void)
{
    check_args_error("{\"devlist\": [], \"zz\": 1, \"aa\": 2}",
                     "'zz' is not an expected member");
    check_args_error("{\"devlist\": [{\"device\": \"a\"}, "
                     "{\"device\": \"b\", \"bogus\": null}]}",
                     "'devlist[1].bogus' is not an expected member");
    /* An optional member's name in the wrong case is unknown. */
    check_args_error("{\"devlist\": [], \"Tag\": \"x\"}",
                     "'Tag' is not an expected member");
}

static void test_nested_paths(void)
{
    void *obj;
    GError *err = NULL;
    TestOuter *outer;

    g_assert_false(
        test_input("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}, {\"c\": \"x\"}]}}",
                   TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a.b[2].c': expected an integer, got a string");
    g_clear_error(&err);

    g_assert_false(
        test_input("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}, {\"d\": 3}]}}",
                   TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a.b[2].c' is missing");
    g_clear_error(&err);

    g_assert_false(
        test_input("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2, \"d\": 3}]}}",
                   TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a.b[1].d' is not an expected member");
    g_clear_error(&err);

    g_assert_false(
        test_input("{\"a\": {\"b\": {}}}", TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a.b': expected an array, got an object");
    g_clear_error(&err);

    g_assert_false(
        test_input("{\"a\": []}", TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a': expected an object, got an array");
    g_clear_error(&err);

    g_assert_true(
        test_input("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": -2}, {\"c\": 3}]}}",
                   TEST_VISIT(TestOuter), &obj, &err));
    g_assert_no_error(err);
    outer = obj;
    g_assert_cmpint(outer->a->b->value->c, ==, 1);
    g_assert_cmpint(outer->a->b->next->value->c, ==, -2);
    g_assert_cmpint(outer->a->b->next->next->value->c, ==, 3);
    g_assert_null(outer->a->b->next->next->next);
    qapi_free_TestOuter(outer);
}

static void test_optional(void)
{
    void *obj;
    GError *err = NULL;
    TestArgs *args;
    TestDev *dev;

    g_assert_true(
        test_input("{\"devlist\": [{\"device\": \"d0\"}, "
                   "{\"device\": \"d1\", \"format\": \"green\", \"size\": 5}], "
                   "\"tag\": \"t\"}",
                   TEST_VISIT(TestArgs), &obj, &err));
    args = obj;
    dev = args->devlist->value;
    g_assert_cmpstr(dev->device, ==, "d0");
    g_assert_false(dev->has_format);
    g_assert_false(dev->has_size);
    dev = args->devlist->next->value;
    g_assert_cmpstr(dev->device, ==, "d1");
    g_assert_true(dev->has_format);
    g_assert_cmpint(dev->format, ==, TEST_COLOR_GREEN);
    g_assert_true(dev->has_size);
    g_assert_cmpuint(dev->size, ==, 5);
    g_assert_cmpstr(args->tag, ==, "t");
    qapi_free_TestArgs(args);

    g_assert_true(
        test_input("{\"devlist\": []}", TEST_VISIT(TestArgs), &obj, &err));
    args = obj;
    g_assert_null(args->devlist);
    g_assert_null(args->tag);
    qapi_free_TestArgs(args);

    /* Present as null is present: the type check then fails. */
    check_args_error("{\"devlist\": [{\"device\": \"d\", \"size\": null}]}",
                     "'devlist[0].size': expected an integer, got null");
    check_args_error("{\"devlist\": [], \"tag\": null}",
                     "'tag': expected a string, got null");
}

static const char full_doc[] =
    "{\"i\": -1, \"i8\": -8, \"i16\": -16, \"i32\": -32, "
    "\"i64\": -9223372036854775808, \"u8\": 255, \"u16\": 65535, "
    "\"u32\": 4294967295, \"u64\": 18446744073709551615, "
    "\"sz\": 9223372036854775808, \"b\": true, \"n\": 0.5, "
    "\"s\": \"str\", \"color\": \"cyan\", "
    "\"any\": {\"x\": [1, \"two\", null, {\"y\": false}]}, "
    "\"nul\": null, \"opt\": 42, \"old\": 7, "
    "\"strs\": [\"a\", \"b\"], "
    "\"alts\": [\"name\", {\"device\": \"dev\", \"size\": 1}], "
    "\"args\": {\"devlist\": [{\"device\": \"d\"}], \"tag\": \"t\"}}";

static void test_full_document(void)
{
    void *obj;
    GError *err = NULL;
    TestAll *all;
    json_object *expected_any =
        test_parse("{\"x\": [1, \"two\", null, {\"y\": false}]}");

    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    g_assert_no_error(err);
    all = obj;
    g_assert_cmpint(all->i, ==, -1);
    g_assert_cmpint(all->i8, ==, -8);
    g_assert_cmpint(all->i16, ==, -16);
    g_assert_cmpint(all->i32, ==, -32);
    g_assert_cmpint(all->i64, ==, INT64_MIN);
    g_assert_cmpuint(all->u8, ==, 255);
    g_assert_cmpuint(all->u16, ==, 65535);
    g_assert_cmpuint(all->u32, ==, UINT32_MAX);
    g_assert_cmpuint(all->u64, ==, UINT64_MAX);
    g_assert_cmpuint(all->sz, ==, (uint64_t)INT64_MAX + 1);
    g_assert_true(all->b);
    g_assert_cmpfloat(all->n, ==, 0.5);
    g_assert_cmpstr(all->s, ==, "str");
    g_assert_cmpint(all->color, ==, TEST_COLOR_CYAN);
    /* The visitor and the document are gone: the any holds its own. */
    g_assert_true(json_object_equal(all->any, expected_any));
    g_assert_true(all->nul == qapi_null_get());
    g_assert_true(all->has_opt);
    g_assert_cmpint(all->opt, ==, 42);
    g_assert_true(all->has_old);
    g_assert_cmpint(all->old, ==, 7);
    g_assert_true(all->has_strs);
    g_assert_cmpstr(all->strs->value, ==, "a");
    g_assert_cmpstr(all->strs->next->value, ==, "b");
    g_assert_null(all->strs->next->next);
    g_assert_true(all->has_alts);
    g_assert_cmpint(all->alts->value->type, ==, QTYPE_QSTRING);
    g_assert_cmpstr(all->alts->value->u.name, ==, "name");
    g_assert_cmpint(all->alts->next->value->type, ==, QTYPE_QDICT);
    g_assert_cmpstr(all->alts->next->value->u.dev.device, ==, "dev");
    g_assert_true(all->alts->next->value->u.dev.has_size);
    g_assert_cmpstr(all->args->devlist->value->device, ==, "d");
    g_assert_cmpstr(all->args->tag, ==, "t");
    qapi_free_TestAll(all);
    json_object_put(expected_any);
}

static void free_nodes(GenericList *list)
{
    while (list) {
        GenericList *next = list->next;

        g_free(list);
        list = next;
    }
}

static void test_any_and_null(void)
{
    json_object *doc = test_parse("[{\"k\": [1]}, null, 3]");
    json_object *first = json_object_array_get_idx(doc, 0);
    Visitor *v = qapi_json_input_visitor_new(doc);
    GenericList *list = NULL;
    GenericList *tail;
    json_object *any = (json_object *)&doc;
    QapiNull *null = NULL;
    GError *err = NULL;

    g_assert_true(visit_start_list(v, NULL, &list, sizeof(strList), &err));
    g_assert_nonnull(list);
    g_assert_true(visit_type_any(v, NULL, &any, &err));
    /* The same json-c value, with a reference of its own. */
    g_assert_true(any == first);
    tail = visit_next_list(v, list, sizeof(strList));
    g_assert_true(visit_type_any(v, NULL, &any, &err));
    g_assert_null(any);
    g_assert_true(visit_type_null(v, NULL, &null, &err));
    g_assert_true(null == qapi_null_get());
    tail = visit_next_list(v, tail, sizeof(strList));
    g_assert_false(visit_type_null(v, NULL, &null, &err));
    g_assert_null(null);
    test_assert_error(err, "'[2]': expected null, got an integer");
    g_clear_error(&err);
    g_assert_null(visit_next_list(v, tail, sizeof(strList)));
    g_assert_true(visit_check_list(v, &err));
    visit_end_list(v, NULL);
    visit_free(v);
    free_nodes(list);
    /* FIRST outlives the document: the any's reference keeps it. */
    json_object_put(doc);
    g_assert_true(json_object_is_type(first, json_type_object));
    g_assert_cmpint(json_object_put(first), ==, 1);
}

static void test_enum(void)
{
    check_member("enum", "\"red\"", "red", NULL);
    check_member("enum", "\"blue\"", "blue", NULL);
    check_member("enum", "\"purple\"", NULL,
                 "'n': 'purple' is not a value of the enum "
                 "(expected 'red', 'green', 'blue' or 'cyan')");
    check_member("enum", "\"RED\"", NULL,
                 "'n': 'RED' is not a value of the enum "
                 "(expected 'red', 'green', 'blue' or 'cyan')");
    check_member("enum", "0", NULL, "'n': expected a string, got an integer");
    check_member("enum", "\"red\\u0000x\"", NULL,
                 "'n': the string contains a NUL character");

    {
        json_object *doc = test_parse("[\"v9\", \"v10\"]");
        Visitor *v = qapi_json_input_visitor_new(doc);
        GenericList *list = NULL;
        GError *err = NULL;
        int val = -1;

        json_object_put(doc);
        g_assert_true(visit_start_list(v, "e", &list, sizeof(intList), &err));
        g_assert_true(visit_type_enum(v, NULL, &val, &TestBig_lookup, &err));
        g_assert_cmpint(val, ==, 9);
        list->next = visit_next_list(v, list, sizeof(intList));
        g_assert_false(visit_type_enum(v, NULL, &val, &TestBig_lookup, &err));
        /* Too many values to list. */
        test_assert_error(err, "'e[1]': 'v10' is not a value of the enum");
        g_clear_error(&err);
        visit_end_list(v, NULL);
        visit_free(v);
        g_free(list->next);
        g_free(list);
    }
}

static void test_policy(void)
{
    QapiCompatPolicy reject = {
        .deprecated_input = QAPI_INPUT_REJECT,
    };
    QapiCompatPolicy accept = { 0 };
    void *obj;
    GError *err = NULL;

    /* Accepted by default. */
    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    qapi_free_TestAll(obj);
    check_member("enum", "\"blue\"", "blue", NULL);

    qapi_compat_policy_set(&reject);
    g_assert_false(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    test_assert_error(err,
                      "'old' is deprecated and refused by the "
                      "compatibility policy");
    g_clear_error(&err);
    check_member("enum", "\"blue\"", NULL,
                 "'n': 'blue' is deprecated and refused by the "
                 "compatibility policy");
    check_member("enum", "\"cyan\"", "cyan", NULL);
    check_args_error("{\"devlist\": [{\"device\": \"d\", "
                     "\"format\": \"blue\"}]}",
                     "'devlist[0].format': 'blue' is deprecated and refused "
                     "by the compatibility policy");
    /* Not sent, not refused. */
    {
        g_autofree char *no_old = g_strdup(full_doc);
        char *old = strstr(no_old, "\"old\": 7, ");

        memmove(old, old + strlen("\"old\": 7, "),
                strlen(old + strlen("\"old\": 7, ")) + 1);
        g_assert_true(test_input(no_old, TEST_VISIT(TestAll), &obj, &err));
        g_assert_no_error(err);
        g_assert_false(((TestAll *)obj)->has_old);
        qapi_free_TestAll(obj);
    }

    reject.deprecated_input = QAPI_INPUT_ACCEPT;
    reject.unstable_input = QAPI_INPUT_REJECT;
    qapi_compat_policy_set(&reject);
    check_member("enum", "\"blue\"", "blue", NULL);
    check_member("enum", "\"cyan\"", NULL,
                 "'n': 'cyan' is unstable and refused by the "
                 "compatibility policy");
    /* Output policy has no say on input. */
    reject.unstable_input = QAPI_INPUT_ACCEPT;
    reject.deprecated_output = QAPI_OUTPUT_HIDE;
    qapi_compat_policy_set(&reject);
    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    g_assert_true(((TestAll *)obj)->has_old);
    qapi_free_TestAll(obj);

    qapi_compat_policy_set(&accept);
}

static void test_alternate(void)
{
    static const struct {
        const char *json;
        QType type;
    } kinds[] = {
        { "null", QTYPE_QNULL },
        { "false", QTYPE_QBOOL },
        { "2", QTYPE_QNUM },
        { "2.5", QTYPE_QNUM },
        { "18446744073709551615", QTYPE_QNUM },
        { "\"s\"", QTYPE_QSTRING },
        { "{}", QTYPE_QDICT },
        { "[]", QTYPE_QLIST },
    };
    size_t i;
    void *obj;
    GError *err = NULL;
    TestAlt *alt;

    for (i = 0; i < G_N_ELEMENTS(kinds); i++) {
        json_object *doc = test_parse(kinds[i].json);
        Visitor *v = qapi_json_input_visitor_new(doc);
        GenericAlternate *generic = NULL;

        json_object_put(doc);
        g_assert_true(
            visit_start_alternate(v, NULL, &generic, sizeof(TestAlt), &err));
        g_assert_cmpint(generic->type, ==, kinds[i].type);
        visit_end_alternate(v, (void **)&generic);
        g_free(generic);
        visit_free(v);
    }

    g_assert_true(test_input("\"x\"", TEST_VISIT(TestAlt), &obj, &err));
    alt = obj;
    g_assert_cmpint(alt->type, ==, QTYPE_QSTRING);
    g_assert_cmpstr(alt->u.name, ==, "x");
    qapi_free_TestAlt(alt);

    g_assert_true(test_input("{\"device\": \"d\", \"format\": \"red\"}",
                             TEST_VISIT(TestAlt), &obj, &err));
    alt = obj;
    g_assert_cmpint(alt->type, ==, QTYPE_QDICT);
    g_assert_cmpstr(alt->u.dev.device, ==, "d");
    g_assert_true(alt->u.dev.has_format);
    qapi_free_TestAlt(alt);

    g_assert_false(test_input("{\"device\": \"d\", \"x\": 1}",
                              TEST_VISIT(TestAlt), &obj, &err));
    test_assert_error(err, "'x' is not an expected member");
    g_clear_error(&err);

    g_assert_false(test_input("[1]", TEST_VISIT(TestAlt), &obj, &err));
    test_assert_error(err, "expected TestAlt (a string or an object)");
    g_clear_error(&err);

    /* Inside a list: the branch's errors carry the element's path. */
    g_assert_false(
        test_input("{\"i\": 0, \"i8\": 0, \"i16\": 0, \"i32\": 0, \"i64\": 0, "
                   "\"u8\": 0, \"u16\": 0, \"u32\": 0, \"u64\": 0, \"sz\": 0, "
                   "\"b\": false, \"n\": 0, \"s\": \"\", \"color\": \"red\", "
                   "\"any\": null, \"alts\": [\"a\", {\"device\": 5}]}",
                   TEST_VISIT(TestAll), &obj, &err));
    test_assert_error(err,
                      "'alts[1].device': expected a string, got an "
                      "integer");
    g_clear_error(&err);
}

static void test_lists(void)
{
    void *obj;
    GError *err = NULL;
    json_object *doc;
    Visitor *v;
    GenericList *list = NULL;
    char *str = NULL;

    g_assert_false(test_input("\"abc\"", TEST_VISIT(TestStrList), &obj, &err));
    test_assert_error(err, "the value: expected an array, got a string");
    g_clear_error(&err);

    g_assert_true(test_input("[]", TEST_VISIT(TestStrList), &obj, &err));
    g_assert_null(obj);

    g_assert_false(
        test_input("[\"a\", \"b\", 3]", TEST_VISIT(TestStrList), &obj, &err));
    test_assert_error(err, "'[2]': expected a string, got an integer");
    g_clear_error(&err);

    /* Nodes come zeroed; stopping early leaves elements unvisited. */
    doc = test_parse("[\"a\", \"b\"]");
    v = qapi_json_input_visitor_new(doc);
    json_object_put(doc);
    g_assert_true(visit_start_list(v, "l", &list, sizeof(strList), &err));
    g_assert_null(((strList *)list)->next);
    g_assert_null(((strList *)list)->value);
    g_assert_true(visit_type_str(v, NULL, &str, &err));
    g_assert_cmpstr(str, ==, "a");
    g_free(str);
    g_assert_false(visit_check_list(v, &err));
    test_assert_error(err, "'l[1]' is not an expected element");
    g_clear_error(&err);
    visit_end_list(v, NULL);
    visit_free(v);
    g_free(list);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-input/int/bounds", test_int_bounds);
    g_test_add_func("/json-input/int/uint64-constructed",
                    test_uint64_constructed);
    g_test_add_func("/json-input/int/not-doubles",
                    test_integers_are_not_doubles);
    g_test_add_func("/json-input/scalar/wrong-types", test_wrong_types);
    g_test_add_func("/json-input/scalar/any", test_any_takes_everything);
    g_test_add_func("/json-input/scalar/non-finite", test_non_finite);
    g_test_add_func("/json-input/scalar/bool-str", test_bool_and_str);
    g_test_add_func("/json-input/scalar/any-null", test_any_and_null);
    g_test_add_func("/json-input/enum", test_enum);
    g_test_add_func("/json-input/policy", test_policy);
    g_test_add_func("/json-input/root", test_root);
    g_test_add_func("/json-input/struct/missing", test_missing);
    g_test_add_func("/json-input/struct/unknown", test_unknown);
    g_test_add_func("/json-input/struct/nested-paths", test_nested_paths);
    g_test_add_func("/json-input/struct/optional", test_optional);
    g_test_add_func("/json-input/struct/full", test_full_document);
    g_test_add_func("/json-input/alternate", test_alternate);
    g_test_add_func("/json-input/list", test_lists);
    return g_test_run();
}
