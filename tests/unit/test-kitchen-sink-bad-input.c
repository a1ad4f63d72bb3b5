/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: bad input to the kitchen sink's generated visitors, over
 * the corpus tests/unit/corpus/bad-input/ ($KS_CORPUS_DIR/bad-input at
 * run time).  Each corpus file is one case:
 *
 *   {"type": "KsDerived", "doc": ..., "class": "GenericError",
 *    "message": "'base-id' is missing", "comment": "why"}
 *
 * "type" as in the round-trip corpus; "doc" the document visited at top
 * level (name NULL); "class" the QapiErrorClass name of the expected
 * error and "message" its exact text.  Optional "requires" lists
 * TEST_IF_* conditions the case needs ("!NAME": NAME undefined).
 *
 * Every case must fail with the message, leave the output pointer NULL
 * (for types held by pointer), and leak nothing (valgrind and ASan runs
 * check that).
 */
#include "kitchen-sink-test-util.h"

#include <string.h>

static void test_bad_input_case(gconstpointer data)
{
    const char *path = data;
    json_object *kase = ks_corpus_load(path);
    const char *class_name = ks_corpus_string(kase, "class", true);
    const char *message = ks_corpus_string(kase, "message", true);
    json_object *doc;
    const KsType *type;
    g_autoptr(GError) err = NULL;
    g_autofree void *value = NULL;
    int error_class;

    if (!ks_corpus_case_begin(kase, path, &type, &doc)) {
        return;
    }
    error_class = qapi_enum_parse(&QapiErrorClass_lookup, class_name, -1, NULL);
    g_assert_cmpint(error_class, >=, 0);

    value = g_malloc0(MAX(type->size, sizeof(void *)));
    if (type->is_pointer) {
        /* Not NULL: a failed visit must clear it. */
        *(void **)value = value;
    }
    if (ks_type_input(type, doc, value, &err)) {
        g_autofree char *text = ks_json_text(doc);

        ks_type_free(type, value);
        g_error("%s: the input visitor accepted %s", path, text);
    }
    g_assert_nonnull(err);
    g_assert_true(err->domain == QAPI_ERROR);
    g_assert_cmpstr(QapiErrorClass_str(qapi_error_class(err)), ==, class_name);
    g_assert_cmpint(err->code, ==, error_class);
    if (type->is_pointer) {
        g_assert_null(*(void **)value);
    }
    g_assert_cmpstr(err->message, ==, message);
    json_object_put(kase);
}

/* The corpus covers every kind of bad input it promises. */
static void test_corpus_coverage(void)
{
    g_autoptr(GPtrArray) files = ks_corpus_files("bad-input");
    g_autoptr(GString) messages = g_string_new(NULL);
    static const char *const must_say[] = {
        "expected a string, got",
        "expected an integer, got",
        "expected a number, got",
        "expected a boolean, got",
        "expected null, got",
        "expected an object, got",
        "expected an array, got",
        " is missing",
        " is not an expected member",
        " is out of range for int8",
        " is out of range for int16",
        " is out of range for int32",
        " is out of range for int64",
        " is out of range for int (",
        " is out of range for uint8",
        " is out of range for uint16",
        " is out of range for uint32",
        " is out of range for uint64",
        " is out of range for size",
        " is not a value of the enum",
        "has no branch for this kind of JSON value in alternate",
        "contains a NUL character",
        "is not a finite number",
        "got null",
        "'kind': ",
    };
    guint i;

    g_assert_cmpuint(files->len, >=, 40);
    for (i = 0; i < files->len; i++) {
        json_object *kase = ks_corpus_load(g_ptr_array_index(files, i));

        g_string_append_printf(messages, "%s\n",
                               ks_corpus_string(kase, "message", true));
        json_object_put(kase);
    }
    for (i = 0; i < G_N_ELEMENTS(must_say); i++) {
        if (!strstr(messages->str, must_say[i])) {
            g_error("no bad-input case says \"%s\"", must_say[i]);
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ks_corpus_add_tests("bad-input", test_bad_input_case);
    g_test_add_func("/kitchen-sink/bad-input/corpus-coverage",
                    test_corpus_coverage);

    return g_test_run();
}
