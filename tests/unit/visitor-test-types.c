/* SPDX-License-Identifier: MIT */
/*
 * Hand-written types and visitors for the runtime's unit tests, in the
 * shape the schema compiler generates (see visitor-test-types.h).
 */
#include "visitor-test-types.h"

static const char *const TestColor_names[] = {
    [TEST_COLOR_RED] = "red",
    [TEST_COLOR_GREEN] = "green",
    [TEST_COLOR_BLUE] = "blue",
    [TEST_COLOR_CYAN] = "cyan",
};

static const unsigned char TestColor_special_features[TEST_COLOR__MAX] = {
    [TEST_COLOR_BLUE] = 1u << QAPI_DEPRECATED,
    [TEST_COLOR_CYAN] = 1u << QAPI_UNSTABLE,
};

const QEnumLookup TestColor_lookup = {
    .array = TestColor_names,
    .special_features = TestColor_special_features,
    .size = TEST_COLOR__MAX,
};

static const char *const TestBig_names[] = {
    "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9",
};

const QEnumLookup TestBig_lookup = {
    .array = TestBig_names,
    .size = TEST_BIG__MAX,
};

bool visit_type_TestColor(Visitor *v, const char *name, TestColor *obj,
                          GError **errp)
{
    int value = *obj;

    if (!visit_type_enum(v, name, &value, &TestColor_lookup, errp)) {
        return false;
    }
    *obj = value;
    return true;
}

/*
 * A struct's visit: the same for every struct type, as generated code
 * would spell it out for each.
 */
#define DEFINE_VISIT_STRUCT(T)                                                 \
    bool visit_type_##T(Visitor *v, const char *name, T **obj, GError **errp)  \
    {                                                                          \
        bool ok = false;                                                       \
                                                                               \
        if (!visit_start_struct(v, name, (void **)obj, sizeof(T), errp)) {     \
            return false;                                                      \
        }                                                                      \
        if (!*obj) {                                                           \
            /* a half-built parent: only freeing meets that */                 \
            g_assert(visit_is_dealloc(v));                                     \
            ok = true;                                                         \
            goto out;                                                          \
        }                                                                      \
        ok = visit_type_##T##_members(v, *obj, errp)                           \
            && visit_check_struct(v, errp);                                    \
out:                                                                           \
        visit_end_struct(v, (void **)obj);                                     \
        if (!ok && visit_is_input(v)) {                                        \
            qapi_free_##T(*obj);                                               \
            *obj = NULL;                                                       \
        }                                                                      \
        return ok;                                                             \
    }

#define DEFINE_VISIT_LIST(L, visit_elt)                                        \
    bool visit_type_##L(Visitor *v, const char *name, L **obj, GError **errp)  \
    {                                                                          \
        bool ok = false;                                                       \
        L *tail;                                                               \
        size_t size = sizeof(**obj);                                           \
                                                                               \
        if (!visit_start_list(v, name, (GenericList **)obj, size, errp)) {     \
            return false;                                                      \
        }                                                                      \
        for (tail = *obj; tail;                                                \
             tail = (L *)visit_next_list(v, (GenericList *)tail, size)) {      \
            if (!visit_elt(v, NULL, &tail->value, errp)) {                     \
                goto out;                                                      \
            }                                                                  \
        }                                                                      \
        ok = visit_check_list(v, errp);                                        \
out:                                                                           \
        visit_end_list(v, (void **)obj);                                       \
        if (!ok && visit_is_input(v)) {                                        \
            qapi_free_##L(*obj);                                               \
            *obj = NULL;                                                       \
        }                                                                      \
        return ok;                                                             \
    }

#define DEFINE_FREE(T)                                                         \
    void qapi_free_##T(T *obj)                                                 \
    {                                                                          \
        Visitor *v;                                                            \
                                                                               \
        if (!obj) {                                                            \
            return;                                                            \
        }                                                                      \
        v = qapi_dealloc_visitor_new();                                        \
        visit_type_##T(v, NULL, &obj, NULL);                                   \
        visit_free(v);                                                         \
    }

bool visit_type_TestDev_members(Visitor *v, TestDev *obj, GError **errp)
{
    if (!visit_type_str(v, "device", &obj->device, errp)) {
        return false;
    }
    if (visit_optional(v, "format", &obj->has_format)
        && !visit_type_TestColor(v, "format", &obj->format, errp)) {
        return false;
    }
    if (visit_optional(v, "size", &obj->has_size)
        && !visit_type_size(v, "size", &obj->size, errp)) {
        return false;
    }
    return true;
}

static bool visit_type_TestArgs_members(Visitor *v, TestArgs *obj,
                                        GError **errp)
{
    bool has_tag = !!obj->tag;

    if (!visit_type_TestDevList(v, "devlist", &obj->devlist, errp)) {
        return false;
    }
    if (visit_optional(v, "tag", &has_tag)
        && !visit_type_str(v, "tag", &obj->tag, errp)) {
        return false;
    }
    return true;
}

static bool visit_type_TestC_members(Visitor *v, TestC *obj, GError **errp)
{
    return visit_type_int(v, "c", &obj->c, errp);
}

static bool visit_type_TestB_members(Visitor *v, TestB *obj, GError **errp)
{
    return visit_type_TestCList(v, "b", &obj->b, errp);
}

static bool visit_type_TestOuter_members(Visitor *v, TestOuter *obj,
                                         GError **errp)
{
    return visit_type_TestB(v, "a", &obj->a, errp);
}

static bool visit_type_TestAll_members(Visitor *v, TestAll *obj, GError **errp)
{
    bool has_nul = !!obj->nul;
    bool has_args = !!obj->args;

    if (!visit_type_int(v, "i", &obj->i, errp)
        || !visit_type_int8(v, "i8", &obj->i8, errp)
        || !visit_type_int16(v, "i16", &obj->i16, errp)
        || !visit_type_int32(v, "i32", &obj->i32, errp)
        || !visit_type_int64(v, "i64", &obj->i64, errp)
        || !visit_type_uint8(v, "u8", &obj->u8, errp)
        || !visit_type_uint16(v, "u16", &obj->u16, errp)
        || !visit_type_uint32(v, "u32", &obj->u32, errp)
        || !visit_type_uint64(v, "u64", &obj->u64, errp)
        || !visit_type_size(v, "sz", &obj->sz, errp)
        || !visit_type_bool(v, "b", &obj->b, errp)
        || !visit_type_number(v, "n", &obj->n, errp)
        || !visit_type_str(v, "s", &obj->s, errp)
        || !visit_type_TestColor(v, "color", &obj->color, errp)
        || !visit_type_any(v, "any", &obj->any, errp)) {
        return false;
    }
    if (visit_optional(v, "nul", &has_nul)
        && !visit_type_null(v, "nul", &obj->nul, errp)) {
        return false;
    }
    if (visit_optional(v, "opt", &obj->has_opt)
        && !visit_type_int(v, "opt", &obj->opt, errp)) {
        return false;
    }
    if (visit_optional(v, "old", &obj->has_old)) {
        if (visit_policy_reject(v, "old", 1u << QAPI_DEPRECATED, errp)) {
            return false;
        }
        if (!visit_policy_skip(v, "old", 1u << QAPI_DEPRECATED)
            && !visit_type_int(v, "old", &obj->old, errp)) {
            return false;
        }
    }
    if (visit_optional(v, "strs", &obj->has_strs)
        && !visit_type_TestStrList(v, "strs", &obj->strs, errp)) {
        return false;
    }
    if (visit_optional(v, "alts", &obj->has_alts)
        && !visit_type_TestAltList(v, "alts", &obj->alts, errp)) {
        return false;
    }
    if (visit_optional(v, "args", &has_args)
        && !visit_type_TestArgs(v, "args", &obj->args, errp)) {
        return false;
    }
    return true;
}

DEFINE_VISIT_STRUCT(TestDev)
DEFINE_VISIT_STRUCT(TestArgs)
DEFINE_VISIT_STRUCT(TestC)
DEFINE_VISIT_STRUCT(TestB)
DEFINE_VISIT_STRUCT(TestOuter)
DEFINE_VISIT_STRUCT(TestAll)
DEFINE_VISIT_LIST(TestDevList, visit_type_TestDev)
DEFINE_VISIT_LIST(TestCList, visit_type_TestC)
DEFINE_VISIT_LIST(TestAltList, visit_type_TestAlt)
DEFINE_VISIT_LIST(TestStrList, visit_type_str)

bool visit_type_TestAlt(Visitor *v, const char *name, TestAlt **obj,
                        GError **errp)
{
    bool ok = false;

    if (!visit_start_alternate(v, name, (GenericAlternate **)obj, sizeof(**obj),
                               errp)) {
        return false;
    }
    if (!*obj) {
        g_assert(visit_is_dealloc(v));
        ok = true;
        goto out;
    }
    switch ((*obj)->type) {
    case QTYPE_QSTRING:
        ok = visit_type_str(v, name, &(*obj)->u.name, errp);
        break;
    case QTYPE_QDICT:
        if (!visit_start_struct(v, name, NULL, 0, errp)) {
            break;
        }
        ok = visit_type_TestDev_members(v, &(*obj)->u.dev, errp)
            && visit_check_struct(v, errp);
        visit_end_struct(v, NULL);
        break;
    default:
        /* Only input meets a JSON kind without a branch. */
        g_assert(visit_is_input(v));
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "expected TestAlt (a string or an object)");
        /* No branch was built: the dealloc visitor need not see it. */
        g_clear_pointer(obj, g_free);
        break;
    }
out:
    visit_end_alternate(v, (void **)obj);
    if (!ok && visit_is_input(v)) {
        qapi_free_TestAlt(*obj);
        *obj = NULL;
    }
    return ok;
}

DEFINE_FREE(TestDev)
DEFINE_FREE(TestDevList)
DEFINE_FREE(TestArgs)
DEFINE_FREE(TestC)
DEFINE_FREE(TestCList)
DEFINE_FREE(TestB)
DEFINE_FREE(TestOuter)
DEFINE_FREE(TestAlt)
DEFINE_FREE(TestAltList)
DEFINE_FREE(TestStrList)
DEFINE_FREE(TestAll)

json_object *test_parse(const char *text)
{
    enum json_tokener_error jerr = json_tokener_success;
    json_object *obj = json_tokener_parse_verbose(text, &jerr);

    if (jerr != json_tokener_success) {
        g_error("bad JSON in a test: %s: %s", text,
                json_tokener_error_desc(jerr));
    }
    return obj;
}

void test_assert_error(GError *err, const char *message)
{
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, message);
    g_assert_true(err->domain == QAPI_ERROR);
    g_assert_cmpint(err->code, ==, QAPI_ERROR_CLASS_GENERICERROR);
}

bool test_input(const char *text,
                bool (*visit_type)(Visitor *, const char *, void **, GError **),
                void **obj, GError **errp)
{
    json_object *json = test_parse(text);
    Visitor *v = qapi_json_input_visitor_new(json);
    bool ok;

    /* The visitor holds its own reference. */
    json_object_put(json);
    *obj = (void *)&text; /* garbage that failure must overwrite */
    ok = visit_type(v, NULL, obj, errp);
    visit_free(v);
    if (!ok) {
        g_assert_null(*obj);
    }
    return ok;
}

json_object *test_output(const void *obj,
                         bool (*visit_type)(Visitor *, const char *, void **,
                                            GError **))
{
    Visitor *v = qapi_json_output_visitor_new();
    void *ptr = (void *)obj;
    json_object *result = NULL;
    GError *err = NULL;

    g_assert_true(visit_type(v, NULL, &ptr, &err));
    g_assert_no_error(err);
    visit_complete(v, &result);
    visit_free(v);
    return result;
}
