/* SPDX-License-Identifier: MIT */
/*
 * What the kitchen-sink unit tests share: JSON parsing, a table of the
 * kitchen-sink types (and the built-ins) that a corpus file can name,
 * and the corpus directories.
 *
 * The kitchen sink is tests/qapi-schema/qapi-schema-test.json, compiled
 * to C by tests/kitchen-sink/meson.build with the TEST_IF_* defines of
 * kitchen_sink_c_args.
 */
#ifndef KITCHEN_SINK_TEST_UTIL_H
#define KITCHEN_SINK_TEST_UTIL_H

#include <qapikit/error.h>
#include <qapikit/visitor.h>

#include "qapi-types.h"
#include "qapi-visit.h"

/* Whether the conditions of the kitchen sink hold in this build. */
#if defined(TEST_IF_A) && (defined(TEST_IF_B) || !defined(TEST_IF_C))
#define KS_HAVE_COND_STRUCT 1 /* KsCondStruct, KsCondArgs, ks-conditional-cmd */
#else
#define KS_HAVE_COND_STRUCT 0
#endif
#if defined(TEST_IF_EVENT) || (defined(TEST_IF_A) && defined(TEST_IF_B))
#define KS_HAVE_COND_EVENT 1 /* KS_EVENT_CONDITIONAL */
#else
#define KS_HAVE_COND_EVENT 0
#endif

/*
 * TEXT parsed strictly (JSON_TOKENER_STRICT, the whole text).  Fails the
 * test when TEXT is not JSON.  A new reference; NULL is JSON null.
 */
json_object *ks_json_parse(const char *text);

/* OBJ as compact JSON text (a new string); "null" for NULL. */
char *ks_json_text(json_object *obj);

/* Assert that ACTUAL equals the JSON text EXPECTED (json_object_equal). */
void ks_assert_json_eq(json_object *actual, const char *expected);

/*
 * A type a corpus names: its schema name ("KsBase", "[KsBase]", "int8",
 * "x-KsExperimental"), the size of its C value (a pointer for objects,
 * lists and alternates; the scalar itself otherwise) and the generated
 * visitor, called on a pointer to that C value.
 */
typedef struct KsType {
    const char *name;
    size_t size;
    bool is_pointer;
    bool (*visit)(Visitor *v, const char *name, void *value, GError **errp);
    /* QAPI_CLONE of the type, for objects, lists and alternates. */
    void *(*clone)(const void *src);
} KsType;

/* The type called NAME, or NULL. */
const KsType *ks_type_find(const char *name);

/* Every type of the table, NULL-terminated by name. */
extern const KsType ks_types[];

/*
 * Visit DOC (lent) as TYPE with the JSON input visitor into *VALUE (SIZE
 * bytes of storage), at top level (name NULL).
 */
bool ks_type_input(const KsType *type, json_object *doc, void *value,
                   GError **errp);

/* VALUE through the JSON output visitor; a new reference, NULL on error. */
json_object *ks_type_output(const KsType *type, void *value, GError **errp);

/* Free what VALUE holds with the dealloc visitor. */
void ks_type_free(const KsType *type, void *value);

/*
 * The corpus directory SUB (e.g. "roundtrip") under $KS_CORPUS_DIR, or
 * under the source tree's tests/unit/corpus when that is unset.  The
 * sorted paths of its *.json files (a GPtrArray of strings, owned).
 */
GPtrArray *ks_corpus_files(const char *sub);

/* The corpus file PATH parsed (fails the test when it is not JSON). */
json_object *ks_corpus_load(const char *path);

/* A member of a corpus case that must be a string. */
const char *ks_corpus_string(json_object *kase, const char *member,
                             bool required);

/*
 * The first condition of a corpus case's "requires" (a list of TEST_IF_*
 * names, "!NAME" for NAME undefined) that this build does not meet, or
 * NULL when it meets them all (or there is no "requires").
 */
const char *ks_corpus_unmet_condition(json_object *kase);

/* Whether the condition NAME ("TEST_IF_X" or "!TEST_IF_X") holds. */
bool ks_condition_holds(const char *name);

/*
 * Add one test per file of corpus SUB, named "/kitchen-sink/SUB/NAME"
 * (NAME the file name without .json), each calling FN with the path.
 */
void ks_corpus_add_tests(const char *sub, GTestDataFunc fn);

/* Set the process-wide compatibility policy (qapikit/visitor.h). */
void ks_policy_set(QapiInputPolicy deprecated_input,
                   QapiOutputPolicy deprecated_output,
                   QapiInputPolicy unstable_input,
                   QapiOutputPolicy unstable_output);

/*
 * The common start of a corpus case KASE (from file PATH): when its
 * conditions do not hold in this build, mark the test skipped, free KASE
 * and return false; else store its type and its document (borrowed from
 * KASE) and return true.  An unknown type is a fatal error.
 */
bool ks_corpus_case_begin(json_object *kase, const char *path,
                          const KsType **type, json_object **doc);

#endif /* KITCHEN_SINK_TEST_UTIL_H */
