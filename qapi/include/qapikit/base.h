/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: what generated code and the runtime share.
 *
 * Error convention, for every qapikit function that can fail: the last
 * parameter is GError **errp (may be NULL to ignore the error); the
 * function returns false (or NULL) exactly when it sets *errp; it leaves
 * *errp untouched on success and never sets it twice.  Errors are in the
 * QAPI_ERROR domain (qapikit/error.h); their code is a QapiErrorClass.
 */
#ifndef QAPIKIT_BASE_H
#define QAPIKIT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/*
 * The generation of the interface between generated code and the
 * runtime.  Every generated header compares it with the value its
 * generator was built for and stops the build when they differ.
 */
#define QAPIKIT_GEN_ABI 1

#if defined(QAPIKIT_BUILDING_LIBRARY)
#define QAPIKIT_API __attribute__((visibility("default")))
#else
#define QAPIKIT_API
#endif

/* The special features of docs/spec/qapi-language.md §6 (bit numbers of masks).
 * */
typedef enum QapiSpecialFeature {
    QAPI_DEPRECATED,
    QAPI_UNSTABLE,
    QAPI_SPECIAL_FEATURE__MAX,
} QapiSpecialFeature;

/*
 * An enum's names, indexed by value.  SPECIAL_FEATURES is NULL or holds
 * a mask (1u << QapiSpecialFeature) per value.  Generated as X_lookup.
 */
typedef struct QEnumLookup {
    const char *const *array;
    const unsigned char *special_features;
    int size;
} QEnumLookup;

/* The name of VAL, or NULL when VAL is out of range. */
QAPIKIT_API const char *qapi_enum_lookup(const QEnumLookup *lookup, int val);

/*
 * The value named NAME.  NAME NULL gives DEFAULT_VALUE; an unknown name
 * is a GenericError naming it, and returns -1.
 */
QAPIKIT_API int qapi_enum_parse(const QEnumLookup *lookup, const char *name,
                                int default_value, GError **errp);

/*
 * The C value of the schema type 'null': a single shared instance;
 * non-NULL means "null present".  qapi_null_free() does nothing.
 */
typedef struct QapiNull QapiNull;
QAPIKIT_API QapiNull *qapi_null_get(void);

/* What every generated list node starts with. */
typedef struct GenericList {
    struct GenericList *next;
    char padding[];
} GenericList;

/*
 * Building generated lists (FooList: next, value).  QAPI_LIST_PREPEND
 * puts ELEMENT (the value, owned by the list from now on) in a new node
 * at the head of LIST, a FooList * variable.  QAPI_LIST_APPEND adds it at
 * the end, through TAIL, a FooList ** that starts at &head and moves on
 * with each node:
 *
 *     CommandInfoList *head = NULL, **tail = &head;
 *     QAPI_LIST_APPEND(tail, info);      (in list order)
 */
#define QAPI_LIST_PREPEND(list, element)                                       \
    do {                                                                       \
        __typeof__(list) qapi_list_node_ = g_new0(__typeof__(*(list)), 1);     \
        qapi_list_node_->value = (element);                                    \
        qapi_list_node_->next = (list);                                        \
        (list) = qapi_list_node_;                                              \
    } while (0)

#define QAPI_LIST_APPEND(tail, element)                                        \
    do {                                                                       \
        *(tail) = g_new0(__typeof__(**(tail)), 1);                             \
        (*(tail))->value = (element);                                          \
        (tail) = &(*(tail))->next;                                             \
    } while (0)

/*
 * A compatibility policy for the special features
 * (docs/spec/qapi-language.md §6/3): whether input that uses something
 * deprecated or unstable is accepted, and whether output shows it.  All
 * zero: accept and show everything.  Where policies apply:
 * <qapikit/visitor.h>.
 */
typedef enum QapiInputPolicy {
    QAPI_INPUT_ACCEPT,
    QAPI_INPUT_REJECT,
} QapiInputPolicy;

typedef enum QapiOutputPolicy {
    QAPI_OUTPUT_ACCEPT,
    QAPI_OUTPUT_HIDE,
} QapiOutputPolicy;

typedef struct QapiCompatPolicy {
    QapiInputPolicy deprecated_input;
    QapiOutputPolicy deprecated_output;
    QapiInputPolicy unstable_input;
    QapiOutputPolicy unstable_output;
} QapiCompatPolicy;

G_END_DECLS

#endif /* QAPIKIT_BASE_H */
