/* SPDX-License-Identifier: MIT */
/*
 * What the kitchen-sink unit tests share; see kitchen-sink-test-util.h.
 */
#include "kitchen-sink-test-util.h"

#include <string.h>

json_object *ks_json_parse(const char *text)
{
    json_tokener *tok = json_tokener_new();
    json_object *obj;
    enum json_tokener_error jerr;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, text, -1);
    jerr = json_tokener_get_error(tok);
    if (jerr != json_tokener_success) {
        g_error("not JSON (%s): %s", json_tokener_error_desc(jerr), text);
    }
    /* Nothing but white space may follow the value. */
    {
        const char *rest = text + json_tokener_get_parse_end(tok);

        while (g_ascii_isspace(*rest)) {
            rest++;
        }
        if (*rest) {
            g_error("text after the JSON value: %s", rest);
        }
    }
    json_tokener_free(tok);
    return obj;
}

char *ks_json_text(json_object *obj)
{
    return g_strdup(json_object_to_json_string_ext(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void ks_assert_json_eq(json_object *actual, const char *expected)
{
    json_object *want = ks_json_parse(expected);

    if (!json_object_equal(actual, want)) {
        g_autofree char *got = ks_json_text(actual);
        g_autofree char *exp = ks_json_text(want);

        json_object_put(want);
        g_assert_cmpstr(got, ==, exp);
        g_assert_not_reached();
    }
    json_object_put(want);
}

/*
 * Adapters from the generated visit_type_X (typed) to KsType.visit
 * (void *), so that no function is called through a pointer of another
 * type.
 */
#define KS_ADAPT(T)                                                            \
    static bool ks_visit_##T(Visitor *v, const char *name, void *value,        \
                             GError **errp)                                    \
    {                                                                          \
        return visit_type_##T(v, name, (T *)value, errp);                      \
    }
#define KS_ADAPT_PTR(T)                                                        \
    static bool ks_visit_##T(Visitor *v, const char *name, void *value,        \
                             GError **errp)                                    \
    {                                                                          \
        return visit_type_##T(v, name, (T **)value, errp);                     \
    }                                                                          \
    static void *ks_clone_##T(const void *src)                                 \
    {                                                                          \
        return QAPI_CLONE(T, src);                                             \
    }

/* Built-in scalars: visit_type_int8 takes an int8_t *, and so on. */
#define KS_ADAPT_BUILTIN(fn, ctype)                                            \
    static bool ks_visit_##fn(Visitor *v, const char *name, void *value,       \
                              GError **errp)                                   \
    {                                                                          \
        return visit_type_##fn(v, name, (ctype *)value, errp);                 \
    }

KS_ADAPT_BUILTIN(str, char *)
KS_ADAPT_BUILTIN(number, double)
KS_ADAPT_BUILTIN(int, int64_t)
KS_ADAPT_BUILTIN(int8, int8_t)
KS_ADAPT_BUILTIN(int16, int16_t)
KS_ADAPT_BUILTIN(int32, int32_t)
KS_ADAPT_BUILTIN(int64, int64_t)
KS_ADAPT_BUILTIN(uint8, uint8_t)
KS_ADAPT_BUILTIN(uint16, uint16_t)
KS_ADAPT_BUILTIN(uint32, uint32_t)
KS_ADAPT_BUILTIN(uint64, uint64_t)
KS_ADAPT_BUILTIN(size, uint64_t)
KS_ADAPT_BUILTIN(bool, bool)
KS_ADAPT_BUILTIN(any, json_object *)
KS_ADAPT_BUILTIN(null, QapiNull *)
KS_ADAPT(QType)
KS_ADAPT_PTR(strList)
KS_ADAPT_PTR(numberList)
KS_ADAPT_PTR(intList)
KS_ADAPT_PTR(int8List)
KS_ADAPT_PTR(int16List)
KS_ADAPT_PTR(int32List)
KS_ADAPT_PTR(int64List)
KS_ADAPT_PTR(uint8List)
KS_ADAPT_PTR(uint16List)
KS_ADAPT_PTR(uint32List)
KS_ADAPT_PTR(uint64List)
KS_ADAPT_PTR(sizeList)
KS_ADAPT_PTR(boolList)
KS_ADAPT_PTR(anyList)
KS_ADAPT_PTR(nullList)
KS_ADAPT_PTR(QTypeList)

KS_ADAPT(KsSubEnum)
KS_ADAPT_PTR(KsSubStruct)
KS_ADAPT(KsColor)
KS_ADAPT(KsLegacyEnum)
KS_ADAPT(KsUnionKind)
KS_ADAPT(KsSimpleUnionKind)
KS_ADAPT_PTR(KsBase)
KS_ADAPT_PTR(KsMiddle)
KS_ADAPT_PTR(KsDerived)
KS_ADAPT_PTR(KsAllOptional)
KS_ADAPT_PTR(KsIntRow)
KS_ADAPT_PTR(KsAllLists)
KS_ADAPT_PTR(KsAnyNull)
KS_ADAPT_PTR(KsFeatured)
#if KS_HAVE_COND_STRUCT
KS_ADAPT_PTR(KsCondStruct)
KS_ADAPT_PTR(KsCondArgs)
#endif
KS_ADAPT_PTR(KsLegacyNames)
KS_ADAPT_PTR(__org_example_KsDownstream)
KS_ADAPT_PTR(x_KsExperimental)
KS_ADAPT_PTR(KsLegacyType)
#if defined(TEST_IF_UNION_BRANCH)
KS_ADAPT_PTR(KsCondBranch)
#endif
KS_ADAPT_PTR(KsIntBranch)
KS_ADAPT_PTR(KsUnionBase)
KS_ADAPT_PTR(KsAlphaBranch)
KS_ADAPT_PTR(KsNamedBaseUnion)
KS_ADAPT_PTR(KsFlatUnion)
KS_ADAPT_PTR(KsSimpleUnion)
KS_ADAPT_PTR(KsAltObjNumBoolNull)
KS_ADAPT_PTR(KsAltStrArray)
KS_ADAPT_PTR(KsAltEnumInt)
KS_ADAPT_PTR(KsEventArgs)
KS_ADAPT_PTR(KsColorList)
KS_ADAPT_PTR(KsBaseList)
KS_ADAPT_PTR(KsIntRowList)
KS_ADAPT_PTR(KsSimpleUnionList)

#define SCALAR(name, fn, ctype)                                                \
    {                                                                          \
        name, sizeof(ctype), false, ks_visit_##fn, NULL                        \
    }
#define POINTER(name, fn, ctype)                                               \
    {                                                                          \
        name, sizeof(ctype), true, ks_visit_##fn, NULL                         \
    }
#define VALUE_TYPE(name, T)                                                    \
    {                                                                          \
        name, sizeof(T), false, ks_visit_##T, NULL                             \
    }
#define OBJECT_TYPE(name, T)                                                   \
    {                                                                          \
        name, sizeof(T *), true, ks_visit_##T, ks_clone_##T                    \
    }

const KsType ks_types[] = {
    POINTER("str", str, char *),
    SCALAR("number", number, double),
    SCALAR("int", int, int64_t),
    SCALAR("int8", int8, int8_t),
    SCALAR("int16", int16, int16_t),
    SCALAR("int32", int32, int32_t),
    SCALAR("int64", int64, int64_t),
    SCALAR("uint8", uint8, uint8_t),
    SCALAR("uint16", uint16, uint16_t),
    SCALAR("uint32", uint32, uint32_t),
    SCALAR("uint64", uint64, uint64_t),
    SCALAR("size", size, uint64_t),
    SCALAR("bool", bool, bool),
    POINTER("any", any, json_object *),
    POINTER("null", null, QapiNull *),
    VALUE_TYPE("QType", QType),
    OBJECT_TYPE("[str]", strList),
    OBJECT_TYPE("[number]", numberList),
    OBJECT_TYPE("[int]", intList),
    OBJECT_TYPE("[int8]", int8List),
    OBJECT_TYPE("[int16]", int16List),
    OBJECT_TYPE("[int32]", int32List),
    OBJECT_TYPE("[int64]", int64List),
    OBJECT_TYPE("[uint8]", uint8List),
    OBJECT_TYPE("[uint16]", uint16List),
    OBJECT_TYPE("[uint32]", uint32List),
    OBJECT_TYPE("[uint64]", uint64List),
    OBJECT_TYPE("[size]", sizeList),
    OBJECT_TYPE("[bool]", boolList),
    OBJECT_TYPE("[any]", anyList),
    OBJECT_TYPE("[null]", nullList),
    OBJECT_TYPE("[QType]", QTypeList),

    VALUE_TYPE("KsSubEnum", KsSubEnum),
    OBJECT_TYPE("KsSubStruct", KsSubStruct),
    VALUE_TYPE("KsColor", KsColor),
    VALUE_TYPE("KsLegacyEnum", KsLegacyEnum),
    VALUE_TYPE("KsUnionKind", KsUnionKind),
    VALUE_TYPE("KsSimpleUnionKind", KsSimpleUnionKind),
    OBJECT_TYPE("KsBase", KsBase),
    OBJECT_TYPE("KsMiddle", KsMiddle),
    OBJECT_TYPE("KsDerived", KsDerived),
    OBJECT_TYPE("KsAllOptional", KsAllOptional),
    OBJECT_TYPE("KsIntRow", KsIntRow),
    OBJECT_TYPE("KsAllLists", KsAllLists),
    OBJECT_TYPE("KsAnyNull", KsAnyNull),
    OBJECT_TYPE("KsFeatured", KsFeatured),
#if KS_HAVE_COND_STRUCT
    OBJECT_TYPE("KsCondStruct", KsCondStruct),
    OBJECT_TYPE("KsCondArgs", KsCondArgs),
#endif
    OBJECT_TYPE("KsLegacyNames", KsLegacyNames),
    OBJECT_TYPE("__org.example_KsDownstream", __org_example_KsDownstream),
    OBJECT_TYPE("x-KsExperimental", x_KsExperimental),
    OBJECT_TYPE("KsLegacyType", KsLegacyType),
#if defined(TEST_IF_UNION_BRANCH)
    OBJECT_TYPE("KsCondBranch", KsCondBranch),
#endif
    OBJECT_TYPE("KsIntBranch", KsIntBranch),
    OBJECT_TYPE("KsUnionBase", KsUnionBase),
    OBJECT_TYPE("KsAlphaBranch", KsAlphaBranch),
    OBJECT_TYPE("KsNamedBaseUnion", KsNamedBaseUnion),
    OBJECT_TYPE("KsFlatUnion", KsFlatUnion),
    OBJECT_TYPE("KsSimpleUnion", KsSimpleUnion),
    OBJECT_TYPE("KsAltObjNumBoolNull", KsAltObjNumBoolNull),
    OBJECT_TYPE("KsAltStrArray", KsAltStrArray),
    OBJECT_TYPE("KsAltEnumInt", KsAltEnumInt),
    OBJECT_TYPE("KsEventArgs", KsEventArgs),
    OBJECT_TYPE("[KsColor]", KsColorList),
    OBJECT_TYPE("[KsBase]", KsBaseList),
    OBJECT_TYPE("[KsIntRow]", KsIntRowList),
    OBJECT_TYPE("[KsSimpleUnion]", KsSimpleUnionList),
    { NULL, 0, false, NULL, NULL },
};

const KsType *ks_type_find(const char *name)
{
    const KsType *type;

    for (type = ks_types; type->name; type++) {
        if (!strcmp(type->name, name)) {
            return type;
        }
    }
    return NULL;
}

bool ks_type_input(const KsType *type, json_object *doc, void *value,
                   GError **errp)
{
    Visitor *v = qapi_json_input_visitor_new(doc);
    bool ok = type->visit(v, NULL, value, errp);

    visit_free(v);
    return ok;
}

json_object *ks_type_output(const KsType *type, void *value, GError **errp)
{
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = NULL;

    if (type->visit(v, NULL, value, errp)) {
        visit_complete(v, &out);
    }
    visit_free(v);
    return out;
}

void ks_type_free(const KsType *type, void *value)
{
    Visitor *v = qapi_dealloc_visitor_new();

    g_assert_true(type->visit(v, NULL, value, NULL));
    visit_free(v);
}

/* For g_ptr_array_sort(), which passes pointers to the elements. */
static gint compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ks_corpus_files(const char *sub)
{
    const char *root = g_getenv("KS_CORPUS_DIR");
    g_autofree char *dir_path = NULL;
    g_autoptr(GError) err = NULL;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    GDir *dir;
    const char *entry;

    if (!root) {
        root = KS_CORPUS_SOURCE_DIR;
    }
    dir_path = g_build_filename(root, sub, NULL);
    dir = g_dir_open(dir_path, 0, &err);
    g_assert_no_error(err);
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".json")) {
            g_ptr_array_add(files, g_build_filename(dir_path, entry, NULL));
        }
    }
    g_dir_close(dir);
    g_ptr_array_sort(files, compare_paths);
    return files;
}

json_object *ks_corpus_load(const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;

    g_file_get_contents(path, &text, NULL, &err);
    g_assert_no_error(err);
    return ks_json_parse(text);
}

const char *ks_corpus_string(json_object *kase, const char *member,
                             bool required)
{
    json_object *value;

    if (!json_object_object_get_ex(kase, member, &value)) {
        if (required) {
            g_error("corpus case lacks member '%s'", member);
        }
        return NULL;
    }
    if (!json_object_is_type(value, json_type_string)) {
        g_error("corpus member '%s' is not a string", member);
    }
    return json_object_get_string(value);
}

/* Whether the condition NAME is defined in this build. */
bool ks_condition_holds(const char *name)
{
    static const char *const defined[] = {
#if defined(TEST_IF_A)
        "TEST_IF_A",
#endif
#if defined(TEST_IF_B)
        "TEST_IF_B",
#endif
#if defined(TEST_IF_C)
        "TEST_IF_C",
#endif
#if defined(TEST_IF_GREEN)
        "TEST_IF_GREEN",
#endif
#if defined(TEST_IF_MEMBER)
        "TEST_IF_MEMBER",
#endif
#if defined(TEST_IF_ARG)
        "TEST_IF_ARG",
#endif
#if defined(TEST_IF_UNION_BRANCH)
        "TEST_IF_UNION_BRANCH",
#endif
#if defined(TEST_IF_SIMPLE)
        "TEST_IF_SIMPLE",
#endif
#if defined(TEST_IF_EVENT)
        "TEST_IF_EVENT",
#endif
#if defined(TEST_IF_FEAT)
        "TEST_IF_FEAT",
#endif
#if defined(TEST_IF_ALT_NULL)
        "TEST_IF_ALT_NULL",
#endif
#if defined(TEST_IF_EVENT_ARG)
        "TEST_IF_EVENT_ARG",
#endif
#if defined(TEST_IF_NO_INT)
        "TEST_IF_NO_INT",
#endif
        NULL,
    };
    size_t i;

    /* "!NAME": NAME must be undefined. */
    if (name[0] == '!') {
        return !ks_condition_holds(name + 1);
    }
    for (i = 0; defined[i]; i++) {
        if (!strcmp(defined[i], name)) {
            return true;
        }
    }
    return false;
}

const char *ks_corpus_unmet_condition(json_object *kase)
{
    json_object *requires;
    size_t i;

    if (!json_object_object_get_ex(kase, "requires", &requires)) {
        return NULL;
    }
    g_assert_true(json_object_is_type(requires, json_type_array));
    for (i = 0; i < json_object_array_length(requires); i++) {
        const char *cond =
            json_object_get_string(json_object_array_get_idx(requires, i));

        if (!ks_condition_holds(cond)) {
            return cond;
        }
    }
    return NULL;
}

void ks_corpus_add_tests(const char *sub, GTestDataFunc fn)
{
    g_autoptr(GPtrArray) files = ks_corpus_files(sub);

    for (guint i = 0; i < files->len; i++) {
        const char *path = g_ptr_array_index(files, i);
        g_autofree char *base = g_path_get_basename(path);
        g_autofree char *test_path = NULL;

        base[strlen(base) - strlen(".json")] = '\0';
        test_path = g_strdup_printf("/kitchen-sink/%s/%s", sub, base);
        g_test_add_data_func_full(test_path, g_strdup(path), fn, g_free);
    }
}

void ks_policy_set(QapiInputPolicy deprecated_input,
                   QapiOutputPolicy deprecated_output,
                   QapiInputPolicy unstable_input,
                   QapiOutputPolicy unstable_output)
{
    QapiCompatPolicy policy = {
        .deprecated_input = deprecated_input,
        .deprecated_output = deprecated_output,
        .unstable_input = unstable_input,
        .unstable_output = unstable_output,
    };

    qapi_compat_policy_set(&policy);
}

bool ks_corpus_case_begin(json_object *kase, const char *path,
                          const KsType **type, json_object **doc)
{
    const char *type_name = ks_corpus_string(kase, "type", true);
    const char *unmet = ks_corpus_unmet_condition(kase);

    if (unmet) {
        g_autofree char *why = g_strdup_printf("%s does not hold in this "
                                               "build",
                                               unmet);
        g_test_skip(why);
        json_object_put(kase);
        return false;
    }
    *type = ks_type_find(type_name);
    if (!*type) {
        g_error("%s: unknown type '%s'", path, type_name);
    }
    g_assert_true(json_object_object_get_ex(kase, "doc", doc));
    return true;
}
