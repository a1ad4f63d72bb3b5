/* SPDX-License-Identifier: MIT */
/*
 * qapi_clone(): equal, and independent of the original.
 */
#include <string.h>

#include "visitor-test-types.h"

static const char full_doc[] =
    "{\"i\": -1, \"i8\": -8, \"i16\": -16, \"i32\": -32, "
    "\"i64\": -9223372036854775808, \"u8\": 8, \"u16\": 16, \"u32\": 32, "
    "\"u64\": 18446744073709551615, \"sz\": 1, "
    "\"b\": true, \"n\": 0.5, \"s\": \"str\", \"color\": \"cyan\", "
    "\"any\": {\"x\": [1, \"two\", null]}, \"nul\": null, \"opt\": 42, "
    "\"old\": 7, \"strs\": [\"a\", \"b\"], "
    "\"alts\": [\"name\", {\"device\": \"dev\", \"size\": 1}], "
    "\"args\": {\"devlist\": [{\"device\": \"d0\"}, "
    "{\"device\": \"d1\", \"format\": \"red\", \"size\": 2}], "
    "\"tag\": \"t\"}}";

static TestAll *make_all(void)
{
    void *obj;
    GError *err = NULL;

    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    g_assert_no_error(err);
    return obj;
}

static void assert_same_json(const void *a, const void *b,
                             bool (*visit_type)(Visitor *, const char *,
                                                void **, GError **))
{
    json_object *ja = test_output(a, visit_type);
    json_object *jb = test_output(b, visit_type);

    g_assert_true(json_object_equal(ja, jb));
    json_object_put(ja);
    json_object_put(jb);
}

static void test_null(void)
{
    g_assert_null(QAPI_CLONE(TestAll, NULL));
    g_assert_null(QAPI_CLONE(TestStrList, NULL));
}

static void test_equal_and_deep(void)
{
    TestAll *orig = make_all();
    TestAll *copy = QAPI_CLONE(TestAll, orig);

    assert_same_json(orig, copy, TEST_VISIT(TestAll));
    /* Every pointer is a copy's, except the shared null and the any. */
    g_assert_true(copy != orig);
    g_assert_true(copy->s != orig->s);
    g_assert_true(copy->strs != orig->strs);
    g_assert_true(copy->strs->value != orig->strs->value);
    g_assert_true(copy->strs->next != orig->strs->next);
    g_assert_true(copy->strs->next->value != orig->strs->next->value);
    g_assert_true(copy->alts != orig->alts);
    g_assert_true(copy->alts->value != orig->alts->value);
    g_assert_true(copy->alts->value->u.name != orig->alts->value->u.name);
    g_assert_true(copy->alts->next->value != orig->alts->next->value);
    g_assert_true(copy->alts->next->value->u.dev.device
                  != orig->alts->next->value->u.dev.device);
    g_assert_true(copy->args != orig->args);
    g_assert_true(copy->args->tag != orig->args->tag);
    g_assert_true(copy->args->devlist != orig->args->devlist);
    g_assert_true(copy->args->devlist->next->value
                  != orig->args->devlist->next->value);
    g_assert_true(copy->args->devlist->next->value->device
                  != orig->args->devlist->next->value->device);
    g_assert_true(copy->nul == qapi_null_get());
    /* json-c values are shared by reference: one more reference. */
    g_assert_true(copy->any == orig->any);
    /* Scalars came along. */
    g_assert_cmpint(copy->i64, ==, INT64_MIN);
    g_assert_cmpuint(copy->u64, ==, UINT64_MAX);
    g_assert_true(copy->has_old);
    g_assert_cmpint(copy->args->devlist->next->value->format, ==,
                    TEST_COLOR_RED);

    /* Free the original first: the copy stands alone. */
    qapi_free_TestAll(orig);
    g_assert_cmpstr(copy->s, ==, "str");
    g_assert_cmpstr(copy->args->devlist->next->value->device, ==, "d1");
    g_assert_true(json_object_is_type(copy->any, json_type_object));
    qapi_free_TestAll(copy);
}

static void test_independent(void)
{
    TestAll *orig = make_all();
    TestAll *copy = QAPI_CLONE(TestAll, orig);
    json_object *before = test_output(orig, TEST_VISIT(TestAll));
    json_object *after;
    TestStrList *extra = g_new0(TestStrList, 1);

    /* Change the copy everywhere it owns something. */
    g_free(copy->s);
    copy->s = g_strdup("changed");
    copy->strs->value[0] = 'Z';
    extra->value = g_strdup("new");
    extra->next = copy->strs->next;
    copy->strs->next = extra;
    copy->alts->next->value->u.dev.device[0] = 'X';
    copy->args->devlist->value->device[0] = 'Y';
    qapi_free_TestDevList(copy->args->devlist->next);
    copy->args->devlist->next = NULL;
    copy->i8 = 99;

    after = test_output(orig, TEST_VISIT(TestAll));
    g_assert_true(json_object_equal(before, after));
    json_object_put(before);
    json_object_put(after);
    qapi_free_TestAll(copy);
    qapi_free_TestAll(orig);
}

static void test_other_types(void)
{
    void *obj;
    GError *err = NULL;
    TestAlt *alt;
    TestAlt *alt_copy;
    TestStrList *strs;
    TestStrList *strs_copy;
    TestOuter *outer;
    TestOuter *outer_copy;

    g_assert_true(
        test_input("\"just a name\"", TEST_VISIT(TestAlt), &obj, &err));
    alt = obj;
    alt_copy = QAPI_CLONE(TestAlt, alt);
    g_assert_cmpint(alt_copy->type, ==, QTYPE_QSTRING);
    g_assert_cmpstr(alt_copy->u.name, ==, "just a name");
    g_assert_true(alt_copy->u.name != alt->u.name);
    qapi_free_TestAlt(alt);
    qapi_free_TestAlt(alt_copy);

    g_assert_true(test_input("{\"device\": \"d\", \"size\": 3}",
                             TEST_VISIT(TestAlt), &obj, &err));
    alt = obj;
    alt_copy = QAPI_CLONE(TestAlt, alt);
    g_assert_cmpint(alt_copy->type, ==, QTYPE_QDICT);
    g_assert_true(alt_copy->u.dev.device != alt->u.dev.device);
    assert_same_json(alt, alt_copy, TEST_VISIT(TestAlt));
    qapi_free_TestAlt(alt);
    qapi_free_TestAlt(alt_copy);

    g_assert_true(test_input("[\"x\", \"y\", \"z\"]", TEST_VISIT(TestStrList),
                             &obj, &err));
    strs = obj;
    strs_copy = QAPI_CLONE(TestStrList, strs);
    assert_same_json(strs, strs_copy, TEST_VISIT(TestStrList));
    g_assert_true(strs_copy->next->next != strs->next->next);
    qapi_free_TestStrList(strs);
    qapi_free_TestStrList(strs_copy);

    g_assert_true(test_input("{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}]}}",
                             TEST_VISIT(TestOuter), &obj, &err));
    outer = obj;
    outer_copy = QAPI_CLONE(TestOuter, outer);
    assert_same_json(outer, outer_copy, TEST_VISIT(TestOuter));
    g_assert_true(outer_copy->a->b->next->value != outer->a->b->next->value);
    qapi_free_TestOuter(outer);
    qapi_free_TestOuter(outer_copy);
    g_assert_no_error(err);
}

static void test_any_reference(void)
{
    TestAll *orig = make_all();
    json_object *any = json_object_get(orig->any);
    TestAll *copy = QAPI_CLONE(TestAll, orig);

    qapi_free_TestAll(orig);
    qapi_free_TestAll(copy);
    /* Both dropped their reference: ours is the last. */
    g_assert_cmpint(json_object_put(any), ==, 1);
}

static void test_ignores_policy(void)
{
    QapiCompatPolicy strict = {
        .deprecated_input = QAPI_INPUT_REJECT,
        .deprecated_output = QAPI_OUTPUT_HIDE,
    };
    QapiCompatPolicy accept = { 0 };
    TestAll *orig = make_all();
    TestAll *copy;

    qapi_compat_policy_set(&strict);
    copy = QAPI_CLONE(TestAll, orig);
    qapi_compat_policy_set(&accept);
    g_assert_true(copy->has_old);
    g_assert_cmpint(copy->old, ==, 7);
    g_assert_cmpint(copy->color, ==, TEST_COLOR_CYAN);
    assert_same_json(orig, copy, TEST_VISIT(TestAll));
    qapi_free_TestAll(orig);
    qapi_free_TestAll(copy);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/clone/null", test_null);
    g_test_add_func("/clone/equal-and-deep", test_equal_and_deep);
    g_test_add_func("/clone/independent", test_independent);
    g_test_add_func("/clone/other-types", test_other_types);
    g_test_add_func("/clone/any-reference", test_any_reference);
    g_test_add_func("/clone/ignores-policy", test_ignores_policy);
    return g_test_run();
}
