/* SPDX-License-Identifier: MIT */
/*
 * The dealloc visitor: whole, empty and half-built objects.  Leaks show
 * under valgrind or ASan; the assertions check what can be seen.
 */
#include "visitor-test-types.h"

static const char full_doc[] =
    "{\"i\": -1, \"i8\": -8, \"i16\": -16, \"i32\": -32, \"i64\": 64, "
    "\"u8\": 8, \"u16\": 16, \"u32\": 32, \"u64\": 64, \"sz\": 1, "
    "\"b\": true, \"n\": 0.5, \"s\": \"str\", \"color\": \"cyan\", "
    "\"any\": {\"x\": [1, \"two\", null]}, \"nul\": null, \"opt\": 42, "
    "\"old\": 7, \"strs\": [\"a\", \"b\"], "
    "\"alts\": [\"name\", {\"device\": \"dev\", \"size\": 1}], "
    "\"args\": {\"devlist\": [{\"device\": \"d0\"}, "
    "{\"device\": \"d1\", \"format\": \"red\", \"size\": 2}], "
    "\"tag\": \"t\"}}";

static void test_null(void)
{
    qapi_free_TestAll(NULL);
    qapi_free_TestAlt(NULL);
    qapi_free_TestAltList(NULL);
    qapi_free_TestStrList(NULL);
    qapi_free_TestOuter(NULL);
}

static void test_whole(void)
{
    void *obj;
    GError *err = NULL;

    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    g_assert_no_error(err);
    qapi_free_TestAll(obj);
}

static void test_autoptr(void)
{
    void *obj;
    GError *err = NULL;

    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    {
        g_autoptr(TestAll) all = obj;

        g_assert_cmpstr(all->s, ==, "str");
    }
}

/* Input that fails at the last member of the last element of a nested
 * list: everything before it was built, and must go. */
static void test_fail_last_member(void)
{
    void *obj;
    GError *err = NULL;

    /* full_doc with the last "size" a string. */
    g_assert_false(test_input(
        "{\"i\": -1, \"i8\": -8, \"i16\": -16, \"i32\": -32, \"i64\": 64, "
        "\"u8\": 8, \"u16\": 16, \"u32\": 32, \"u64\": 64, \"sz\": 1, "
        "\"b\": true, \"n\": 0.5, \"s\": \"str\", \"color\": \"cyan\", "
        "\"any\": {\"x\": [1, \"two\", null]}, \"nul\": null, \"opt\": 42, "
        "\"old\": 7, \"strs\": [\"a\", \"b\"], "
        "\"alts\": [\"name\", {\"device\": \"dev\", \"size\": 1}], "
        "\"args\": {\"devlist\": [{\"device\": \"d0\"}, "
        "{\"device\": \"d1\", \"format\": \"red\", \"size\": \"2\"}], "
        "\"tag\": \"t\"}}",
        TEST_VISIT(TestAll), &obj, &err));
    test_assert_error(err,
                      "'args.devlist[1].size': expected an integer, got "
                      "a string");
    g_clear_error(&err);

    /* The same, failing on the unknown-member check instead. */
    g_assert_false(test_input(
        "{\"a\": {\"b\": [{\"c\": 1}, {\"c\": 2}, {\"c\": 3, \"x\": 0}]}}",
        TEST_VISIT(TestOuter), &obj, &err));
    test_assert_error(err, "'a.b[2].x' is not an expected member");
    g_clear_error(&err);
}

/* Parse DOC and visit it; a failure must leave NULL (test_input checks)
 * and nothing allocated.  Returns whether it failed. */
static bool run_input(json_object *doc)
{
    const char *text = json_object_to_json_string(doc);
    void *obj;
    GError *err = NULL;

    if (test_input(text, TEST_VISIT(TestAll), &obj, &err)) {
        g_assert_no_error(err);
        qapi_free_TestAll(obj);
        return false;
    }
    g_assert_nonnull(err);
    g_error_free(err);
    return true;
}

static json_object *bad_value_for(json_object *value)
{
    if (json_object_is_type(value, json_type_string)) {
        return json_object_new_int(1);
    }
    return json_object_new_string("bad");
}

/*
 * Inject a failure at every place of NODE in turn (a mistyped value, a
 * deleted member, an unknown member) and run the whole document.
 */
static void mutate_all(json_object *root, json_object *node, unsigned *runs,
                       unsigned *failures)
{
    if (json_object_is_type(node, json_type_object)) {
        GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
        struct json_object_iterator it = json_object_iter_begin(node);
        struct json_object_iterator end = json_object_iter_end(node);
        guint i;

        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
            g_ptr_array_add(keys, g_strdup(json_object_iter_peek_name(&it)));
        }
        for (i = 0; i < keys->len; i++) {
            const char *key = keys->pdata[i];
            json_object *child =
                json_object_get(json_object_object_get(node, key));

            json_object_object_add(node, key, bad_value_for(child));
            *failures += run_input(root);
            json_object_object_del(node, key);
            *failures += run_input(root);
            json_object_object_add(node, key, child);
            (*runs) += 2;
            mutate_all(root, child, runs, failures);
        }
        json_object_object_add(node, "unknown", json_object_new_int(0));
        *failures += run_input(root);
        (*runs)++;
        json_object_object_del(node, "unknown");
        g_ptr_array_free(keys, TRUE);
    } else if (json_object_is_type(node, json_type_array)) {
        size_t i;

        for (i = 0; i < json_object_array_length(node); i++) {
            json_object *child =
                json_object_get(json_object_array_get_idx(node, i));

            json_object_array_put_idx(node, i, bad_value_for(child));
            *failures += run_input(root);
            (*runs)++;
            json_object_array_put_idx(node, i, child);
            mutate_all(root, child, runs, failures);
        }
    }
}

static void test_fail_everywhere(void)
{
    json_object *doc = test_parse(full_doc);
    unsigned runs = 0, failures = 0;

    g_assert_false(run_input(doc));
    mutate_all(doc, doc, &runs, &failures);
    g_assert_false(run_input(doc)); /* restored */
    json_object_put(doc);
    /*
     * 18 changes are valid: deleting one of the 10 optional members, the
     * 7 changes to or inside 'any', and "bad" for the alternate alts[1].
     */
    g_test_message("%u runs, %u failures", runs, failures);
    g_assert_cmpuint(runs, ==, 75);
    g_assert_cmpuint(failures, ==, 75 - 18);
}

/* Objects built by hand with holes, as generated code can leave them. */
static void test_half_built(void)
{
    TestAll *all = g_new0(TestAll, 1);
    TestDevList *devs = g_new0(TestDevList, 1);
    TestAltList *alts = g_new0(TestAltList, 1);
    json_object *any = json_object_new_array();

    all->s = NULL;
    all->any = json_object_get(any);
    all->has_strs = true;
    all->strs = g_new0(TestStrList, 1);
    all->strs->next = g_new0(TestStrList, 1);
    all->strs->next->value = g_strdup("only the second");
    all->has_alts = true;
    all->alts = alts;
    alts->next = g_new0(TestAltList, 1);
    alts->next->value = g_new0(TestAlt, 1);
    alts->next->value->type = QTYPE_QSTRING; /* its string not yet set */
    all->args = g_new0(TestArgs, 1);
    all->args->devlist = devs;
    devs->next = g_new0(TestDevList, 1);
    devs->next->value = g_new0(TestDev, 1);
    qapi_free_TestAll(all);
    /* The any's reference was dropped, ours is the last. */
    g_assert_cmpint(json_object_put(any), ==, 1);
}

static void test_never_fails(void)
{
    QapiCompatPolicy strict = {
        .deprecated_input = QAPI_INPUT_REJECT,
        .deprecated_output = QAPI_OUTPUT_HIDE,
        .unstable_input = QAPI_INPUT_REJECT,
        .unstable_output = QAPI_OUTPUT_HIDE,
    };
    QapiCompatPolicy accept = { 0 };
    Visitor *v = qapi_dealloc_visitor_new();
    GError *err = NULL;
    int bad_enum = 99;
    void *obj;

    g_assert_true(visit_is_dealloc(v));
    g_assert_false(visit_is_input(v));
    qapi_compat_policy_set(&strict);
    g_assert_false(visit_policy_reject(v, "x", 3, &err));
    g_assert_false(visit_policy_skip(v, "x", 3));
    g_assert_true(visit_type_enum(v, "x", &bad_enum, &TestColor_lookup, &err));
    g_assert_no_error(err);
    visit_free(v);

    /* 'old' is deprecated: freeing must not skip it (nor anything). */
    qapi_compat_policy_set(&accept);
    g_assert_true(test_input(full_doc, TEST_VISIT(TestAll), &obj, &err));
    qapi_compat_policy_set(&strict);
    qapi_free_TestAll(obj);
    qapi_compat_policy_set(&accept);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dealloc/null", test_null);
    g_test_add_func("/dealloc/whole", test_whole);
    g_test_add_func("/dealloc/autoptr", test_autoptr);
    g_test_add_func("/dealloc/fail-last-member", test_fail_last_member);
    g_test_add_func("/dealloc/fail-everywhere", test_fail_everywhere);
    g_test_add_func("/dealloc/half-built", test_half_built);
    g_test_add_func("/dealloc/never-fails", test_never_fails);
    return g_test_run();
}
