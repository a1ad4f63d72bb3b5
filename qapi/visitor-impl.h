/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime, private: what a visitor implementation provides.
 *
 * visitor.c dispatches every visit_* call to these hooks.  A NULL hook
 * means "nothing to do": structural hooks succeed, next_list follows
 * tail->next, optional returns *present, policy hooks neither reject
 * nor skip, scalar hooks succeed and leave the value alone (the dealloc
 * and clone visitors need no scalar hooks: scalars live inside the
 * nodes they free or copy).
 */
#ifndef QAPIKIT_VISITOR_IMPL_H
#define QAPIKIT_VISITOR_IMPL_H

#include <qapikit/error.h>
#include <qapikit/visitor.h>

typedef enum VisitorKind {
    VISITOR_INPUT,
    VISITOR_OUTPUT,
    VISITOR_DEALLOC,
    VISITOR_CLONE,
} VisitorKind;

struct Visitor {
    VisitorKind kind;
    /* visit_set_policy()'s; NULL: the process default */
    const QapiCompatPolicy *policy;

    bool (*start_struct)(Visitor *v, const char *name, void **obj, size_t size,
                         GError **errp);
    bool (*check_struct)(Visitor *v, GError **errp);
    void (*end_struct)(Visitor *v, void **obj);

    bool (*start_list)(Visitor *v, const char *name, GenericList **list,
                       size_t size, GError **errp);
    GenericList *(*next_list)(Visitor *v, GenericList *tail, size_t size);
    bool (*check_list)(Visitor *v, GError **errp);
    void (*end_list)(Visitor *v, void **list);

    bool (*start_alternate)(Visitor *v, const char *name,
                            GenericAlternate **obj, size_t size, GError **errp);
    void (*end_alternate)(Visitor *v, void **obj);

    bool (*optional)(Visitor *v, const char *name, bool *present);
    bool (*policy_reject)(Visitor *v, const char *name,
                          unsigned special_features, GError **errp);
    bool (*policy_skip)(Visitor *v, const char *name,
                        unsigned special_features);

    bool (*type_enum)(Visitor *v, const char *name, int *obj,
                      const QEnumLookup *lookup, GError **errp);
    /*
     * Every signed integer type goes through type_int with its bounds and
     * schema name (for messages), every unsigned one through type_uint.
     */
    bool (*type_int)(Visitor *v, const char *name, int64_t *obj, int64_t min,
                     int64_t max, const char *type_name, GError **errp);
    bool (*type_uint)(Visitor *v, const char *name, uint64_t *obj, uint64_t max,
                      const char *type_name, GError **errp);
    bool (*type_bool)(Visitor *v, const char *name, bool *obj, GError **errp);
    bool (*type_str)(Visitor *v, const char *name, char **obj, GError **errp);
    bool (*type_number)(Visitor *v, const char *name, double *obj,
                        GError **errp);
    bool (*type_any)(Visitor *v, const char *name, json_object **obj,
                     GError **errp);
    bool (*type_null)(Visitor *v, const char *name, QapiNull **obj,
                      GError **errp);

    /* The path of the value NAME in the current container (a new
     * string; see qapi_path_append()).  NULL: the path is NAME. */
    char *(*path)(Visitor *v, const char *name);

    void (*complete)(Visitor *v, void *opaque);
    void (*free)(Visitor *v);
};

/* The clone visitor, for qapi_clone(). */
Visitor *qapi_clone_visitor_new(void);

/*
 * Paths of values, for messages.  The path of the value NAME inside a
 * container whose path is PARENT_PATH: PARENT_PATH NULL means top level
 * (the path is NAME, or "" when NAME is NULL); IN_LIST means the value
 * is element INDEX of an array.  Returns a new string.
 */
char *qapi_path_append(const char *parent_path, bool in_list, size_t index,
                       const char *name);

/* How messages name PATH: 'PATH' quoted, or "the value" for "". */
char *qapi_path_describe(const char *path);

/* Set a GenericError in the QAPI domain whose message is WHERE + FMT. */
void qapi_path_error(GError **errp, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

/*
 * The values of LOOKUP for a message: " (expected 'a', 'b' or 'c')", or
 * "" when there are too many to list.  Returns a new string.
 */
char *qapi_enum_expected(const QEnumLookup *lookup);

/* The index of NAME in LOOKUP, or -1. */
int qapi_enum_find(const QEnumLookup *lookup, const char *name);

/*
 * The special feature of SPECIAL_FEATURES that POLICY's input side
 * refuses ("deprecated", "unstable"), or NULL when it accepts them all.
 * POLICY NULL is the process default (qapi_compat_policy_get()).
 */
const char *qapi_policy_refused(const QapiCompatPolicy *policy,
                                unsigned special_features);

#endif /* QAPIKIT_VISITOR_IMPL_H */
