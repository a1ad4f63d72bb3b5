/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the introspection literal (docs/spec/qapi-language.md
 * §13.6).
 *
 * The generated qmp_schema_qlit is a static tree of QLitObject; the
 * runtime turns it into the json-c value of query-qmp-schema.
 */
#ifndef QAPIKIT_INTROSPECT_H
#define QAPIKIT_INTROSPECT_H

#include <qapikit/base.h>

G_BEGIN_DECLS

typedef enum QLitType {
    QLIT_TYPE_NONE, /* ends a list or dictionary */
    QLIT_TYPE_NULL,
    QLIT_TYPE_INT,
    QLIT_TYPE_BOOL,
    QLIT_TYPE_STR,
    QLIT_TYPE_DICT,
    QLIT_TYPE_LIST,
} QLitType;

typedef struct QLitObject QLitObject;
typedef struct QLitDictEntry QLitDictEntry;

struct QLitObject {
    QLitType type;
    union {
        int64_t num;
        bool boolean;
        const char *str;
        const QLitDictEntry *dict; /* ends with an entry whose key is NULL */
        const QLitObject *list;    /* ends with a QLIT_TYPE_NONE object */
    } value;
};

struct QLitDictEntry {
    const char *key;
    QLitObject value;
};

#define QLIT_QNULL                                                             \
    {                                                                          \
        .type = QLIT_TYPE_NULL                                                 \
    }
#define QLIT_QNUM(val)                                                         \
    {                                                                          \
        .type = QLIT_TYPE_INT, .value.num = (val)                              \
    }
#define QLIT_QBOOL(val)                                                        \
    {                                                                          \
        .type = QLIT_TYPE_BOOL, .value.boolean = (val)                         \
    }
#define QLIT_QSTR(val)                                                         \
    {                                                                          \
        .type = QLIT_TYPE_STR, .value.str = (val)                              \
    }
#define QLIT_QDICT(val)                                                        \
    {                                                                          \
        .type = QLIT_TYPE_DICT, .value.dict = (val)                            \
    }
#define QLIT_QLIST(val)                                                        \
    {                                                                          \
        .type = QLIT_TYPE_LIST, .value.list = (val)                            \
    }

/*
 * OBJ as a new json-c value (NULL for QLIT_QNULL, json-c's JSON null).
 * A NULL dict or list pointer is an empty dictionary or list; in a
 * dictionary, a later key replaces an earlier one.
 */
QAPIKIT_API json_object *qlit_to_json(const QLitObject *obj);

/*
 * The reply of query-qmp-schema for SCHEMA (a generated qmp_schema_qlit):
 * qlit_to_json(), less every dictionary inside a list (entry, member,
 * enum value, variant) whose "features" list holds "deprecated" or
 * "unstable" while POLICY's output side hides that feature (NULL: the
 * process default, qapi_compat_policy_get()); an enum entry also loses
 * the names of its dropped members from its "values".  A new json-c
 * value (an array for a generated schema).
 */
QAPIKIT_API json_object *qapi_introspect_schema(const QLitObject *schema,
                                                const QapiCompatPolicy *policy);

G_END_DECLS

#endif /* QAPIKIT_INTROSPECT_H */
