/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: round trips of the kitchen sink's types, JSON -> C (JSON
 * input visitor) -> JSON (JSON output visitor), over the corpus
 * tests/unit/corpus/roundtrip/ ($KS_CORPUS_DIR/roundtrip at run time).
 *
 * Each corpus file is one case:
 *
 *   {"type": "KsDerived", "doc": {...}, "comment": "why"}
 *
 * "type" names a kitchen-sink or built-in type as the schema does
 * ("[KsBase]" for an array, see kitchen-sink-test-util.c); "doc" is the
 * document, which must come back equal (json_object_equal: same JSON
 * types and values, object members in any order).  The output visitor
 * writes 'number' as a double, so a corpus writes numbers as doubles
 * (1.0, not 1).  Optional "requires" lists TEST_IF_* conditions the case
 * needs ("TEST_IF_UNION_BRANCH"); a case whose condition is compiled out
 * is skipped.
 *
 * Each case also goes through QAPI_CLONE's visitor (the copy must write
 * the same JSON) and is freed with the dealloc visitor.
 */
#include "kitchen-sink-test-util.h"

#include <string.h>

static void test_roundtrip_case(gconstpointer data)
{
    const char *path = data;
    json_object *kase = ks_corpus_load(path);
    const KsType *type;
    json_object *doc, *out;
    g_autoptr(GError) err = NULL;
    g_autofree void *value = NULL;

    if (!ks_corpus_case_begin(kase, path, &type, &doc)) {
        return;
    }

    value = g_malloc0(type->size);
    if (!ks_type_input(type, doc, value, &err)) {
        g_error("%s: the input visitor refused the document: %s", path,
                err->message);
    }
    out = ks_type_output(type, value, &err);
    g_assert_no_error(err);
    if (!json_object_equal(out, doc)) {
        g_autofree char *got = ks_json_text(out);
        g_autofree char *want = ks_json_text(doc);

        g_test_message("%s: the round trip changed the document", path);
        g_assert_cmpstr(got, ==, want);
    }
    json_object_put(out);

    /* QAPI_CLONE writes the same document, and frees apart. */
    if (type->clone && *(void **)value) {
        void *copy = type->clone(*(void **)value);

        g_assert_nonnull(copy);
        g_assert_true(copy != *(void **)value);
        out = ks_type_output(type, &copy, &err);
        g_assert_no_error(err);
        g_assert_true(json_object_equal(out, doc));
        json_object_put(out);
        ks_type_free(type, &copy);
    }
    ks_type_free(type, value);
    json_object_put(kase);
}

/* The corpus is large enough, and covers every shape of type. */
static void test_corpus_coverage(void)
{
    g_autoptr(GPtrArray) files = ks_corpus_files("roundtrip");
    g_autoptr(GHashTable) types =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    static const char *const must_cover[] = {
        "KsSubStruct",
        "KsDerived",
        "KsAllOptional",
        "KsAllLists",
        "KsAnyNull",
        "KsFeatured",
        "KsLegacyNames",
        "__org.example_KsDownstream",
        "x-KsExperimental",
        "KsLegacyType",
        "KsNamedBaseUnion",
        "KsFlatUnion",
        "KsSimpleUnion",
        "KsAltObjNumBoolNull",
        "KsAltStrArray",
        "KsAltEnumInt",
        "KsColor",
        "[KsSimpleUnion]",
        "[KsIntRow]",
        "[KsBase]",
        "[KsColor]",
        "uint64",
        "size",
        "number",
        "any",
    };
    size_t i;

    g_assert_cmpuint(files->len, >=, 25);
    for (i = 0; i < files->len; i++) {
        json_object *kase = ks_corpus_load(g_ptr_array_index(files, i));

        g_hash_table_add(types, g_strdup(ks_corpus_string(kase, "type", true)));
        json_object_put(kase);
    }
    for (i = 0; i < G_N_ELEMENTS(must_cover); i++) {
        if (!g_hash_table_contains(types, must_cover[i])) {
            g_error("the round-trip corpus has no case of type %s",
                    must_cover[i]);
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ks_corpus_add_tests("roundtrip", test_roundtrip_case);
    g_test_add_func("/kitchen-sink/roundtrip/corpus-coverage",
                    test_corpus_coverage);

    return g_test_run();
}
