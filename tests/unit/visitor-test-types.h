/* SPDX-License-Identifier: MIT */
/*
 * Hand-written types and visitors for the runtime's unit tests, in the
 * shape the schema compiler generates (docs/spec/qapi-language.md §13), so that
 * the tests need no generated code.  The schema they stand for:
 *
 * { 'enum': 'TestColor', 'data': [ 'red', 'green',
 *     { 'name': 'blue', 'features': [ 'deprecated' ] },
 *     { 'name': 'cyan', 'features': [ 'unstable' ] } ] }
 * { 'enum': 'TestBig', 'data': [ 'v0', ..., 'v9' ] }
 * { 'struct': 'TestDev',
 *   'data': { 'device': 'str', '*format': 'TestColor', '*size': 'size' } }
 * { 'struct': 'TestArgs', 'data': { 'devlist': [ 'TestDev' ], '*tag': 'str' } }
 * { 'struct': 'TestC', 'data': { 'c': 'int' } }
 * { 'struct': 'TestB', 'data': { 'b': [ 'TestC' ] } }
 * { 'struct': 'TestOuter', 'data': { 'a': 'TestB' } }
 * { 'alternate': 'TestAlt', 'data': { 'name': 'str', 'dev': 'TestDev' } }
 * { 'struct': 'TestAll',
 *   'data': { 'i': 'int', 'i8': 'int8', 'i16': 'int16', 'i32': 'int32',
 *             'i64': 'int64', 'u8': 'uint8', 'u16': 'uint16',
 *             'u32': 'uint32', 'u64': 'uint64', 'sz': 'size',
 *             'b': 'bool', 'n': 'number', 's': 'str', 'color': 'TestColor',
 *             'any': 'any', '*nul': 'null', '*opt': 'int',
 *             '*old': { 'type': 'int', 'features': [ 'deprecated' ] },
 *             '*strs': [ 'str' ], '*alts': [ 'TestAlt' ],
 *             '*args': 'TestArgs' } }
 */
#ifndef VISITOR_TEST_TYPES_H
#define VISITOR_TEST_TYPES_H

#include <qapikit/error.h>
#include <qapikit/visitor.h>

typedef struct TestDev TestDev;
typedef struct TestDevList TestDevList;
typedef struct TestArgs TestArgs;
typedef struct TestC TestC;
typedef struct TestCList TestCList;
typedef struct TestB TestB;
typedef struct TestOuter TestOuter;
typedef struct TestAlt TestAlt;
typedef struct TestAltList TestAltList;
typedef struct TestStrList TestStrList;
typedef struct TestAll TestAll;

typedef enum TestColor {
    TEST_COLOR_RED,
    TEST_COLOR_GREEN,
    TEST_COLOR_BLUE,
    TEST_COLOR_CYAN,
    TEST_COLOR__MAX,
} TestColor;

extern const QEnumLookup TestColor_lookup;

typedef enum TestBig {
    TEST_BIG_V0,
    TEST_BIG__MAX = 10,
} TestBig;

extern const QEnumLookup TestBig_lookup;

struct TestDev {
    char *device;
    bool has_format;
    TestColor format;
    bool has_size;
    uint64_t size;
};

struct TestDevList {
    TestDevList *next;
    TestDev *value;
};

struct TestArgs {
    TestDevList *devlist;
    char *tag;
};

struct TestC {
    int64_t c;
};

struct TestCList {
    TestCList *next;
    TestC *value;
};

struct TestB {
    TestCList *b;
};

struct TestOuter {
    TestB *a;
};

struct TestAlt {
    QType type;
    union {
        char *name;
        TestDev dev;
    } u;
};

struct TestAltList {
    TestAltList *next;
    TestAlt *value;
};

struct TestStrList {
    TestStrList *next;
    char *value;
};

struct TestAll {
    int64_t i;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    uint64_t sz;
    bool b;
    double n;
    char *s;
    TestColor color;
    json_object *any;
    QapiNull *nul;
    bool has_opt;
    int64_t opt;
    bool has_old;
    int64_t old;
    bool has_strs;
    TestStrList *strs;
    bool has_alts;
    TestAltList *alts;
    TestArgs *args;
};

bool visit_type_TestColor(Visitor *v, const char *name, TestColor *obj,
                          GError **errp);
bool visit_type_TestDev_members(Visitor *v, TestDev *obj, GError **errp);
bool visit_type_TestDev(Visitor *v, const char *name, TestDev **obj,
                        GError **errp);
bool visit_type_TestDevList(Visitor *v, const char *name, TestDevList **obj,
                            GError **errp);
bool visit_type_TestArgs(Visitor *v, const char *name, TestArgs **obj,
                         GError **errp);
bool visit_type_TestC(Visitor *v, const char *name, TestC **obj, GError **errp);
bool visit_type_TestCList(Visitor *v, const char *name, TestCList **obj,
                          GError **errp);
bool visit_type_TestB(Visitor *v, const char *name, TestB **obj, GError **errp);
bool visit_type_TestOuter(Visitor *v, const char *name, TestOuter **obj,
                          GError **errp);
bool visit_type_TestAlt(Visitor *v, const char *name, TestAlt **obj,
                        GError **errp);
bool visit_type_TestAltList(Visitor *v, const char *name, TestAltList **obj,
                            GError **errp);
bool visit_type_TestStrList(Visitor *v, const char *name, TestStrList **obj,
                            GError **errp);
bool visit_type_TestAll(Visitor *v, const char *name, TestAll **obj,
                        GError **errp);

void qapi_free_TestDev(TestDev *obj);
void qapi_free_TestDevList(TestDevList *obj);
void qapi_free_TestArgs(TestArgs *obj);
void qapi_free_TestC(TestC *obj);
void qapi_free_TestCList(TestCList *obj);
void qapi_free_TestB(TestB *obj);
void qapi_free_TestOuter(TestOuter *obj);
void qapi_free_TestAlt(TestAlt *obj);
void qapi_free_TestAltList(TestAltList *obj);
void qapi_free_TestStrList(TestStrList *obj);
void qapi_free_TestAll(TestAll *obj);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestAll, qapi_free_TestAll)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestArgs, qapi_free_TestArgs)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestOuter, qapi_free_TestOuter)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestAlt, qapi_free_TestAlt)

/* Helpers for the tests. */

/* Parse TEXT (valid JSON; the test fails otherwise). */
json_object *test_parse(const char *text);

/* Assert that ERR is a GenericError in the QAPI domain saying MESSAGE. */
void test_assert_error(GError *err, const char *message);

/*
 * Run VISIT_TYPE on the JSON TEXT with the input visitor; on success
 * store the result in *OBJ, on failure check that *OBJ is NULL and
 * return the error.
 */
bool test_input(const char *text,
                bool (*visit_type)(Visitor *, const char *, void **, GError **),
                void **obj, GError **errp);

/* The JSON the output visitor makes of OBJ (a new reference). */
json_object *test_output(const void *obj,
                         bool (*visit_type)(Visitor *, const char *, void **,
                                            GError **));

#define TEST_VISIT(type)                                                       \
    ((bool (*)(Visitor *, const char *, void **, GError **))visit_type_##type)

#endif /* VISITOR_TEST_TYPES_H */
