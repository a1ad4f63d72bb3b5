/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the Visitor interface that every generated
 * visit_type_X() function drives.
 *
 * One walk over a value of a generated type, in schema order, drives
 * one visitor:
 *   - the JSON input visitor builds C values from a json-c tree
 *     (strict: wrong JSON types, missing or unknown members, integers out
 *     of range and non-finite numbers are errors naming the member's
 *     path, e.g. 'devlist[1].device');
 *   - the JSON output visitor builds a json-c tree from C values;
 *   - the dealloc visitor frees C values (qapi_free_X uses it);
 *   - the clone visitor makes a deep copy (QAPI_CLONE).
 *
 * Errors follow the convention of qapikit/base.h.  NAME is the member
 * name inside a struct, NULL inside a list and at top level.  On input
 * failure, the generated visit_type_X() frees what it built and sets
 * *obj to NULL.
 *
 * Messages name a value by its path from the root: member names joined
 * by '.', [N] for array elements, starting with the NAME given at top
 * level if any ('args.devlist[1].device'); the unnamed root itself is
 * "the value".  Their code is QAPI_ERROR_CLASS_GENERICERROR.
 */
#ifndef QAPIKIT_VISITOR_H
#define QAPIKIT_VISITOR_H

#include <qapikit/base.h>
#include <qapikit/qapi-builtin-types.h>

G_BEGIN_DECLS

typedef struct Visitor Visitor;

/* What every generated alternate starts with. */
typedef struct GenericAlternate {
    QType type;
    char padding[];
} GenericAlternate;

/* Creating, finishing and freeing visitors */

/*
 * A visitor that reads OBJ (a json-c value; NULL reads as JSON null).
 * The visitor takes a reference of its own.
 */
QAPIKIT_API Visitor *qapi_json_input_visitor_new(json_object *obj);

/*
 * A visitor that writes one value; after the visit, visit_complete(v,
 * &result) stores a new reference to the json-c tree in result (a
 * json_object *), or NULL for JSON null.
 *
 * Member names are not copied: the tree's objects point to the NAME
 * strings the visit passed, which must stay valid and unchanged as long
 * as the tree lives (string literals, which generated visitors pass, do),
 * and a struct's visit passes each NAME at most once.
 */
QAPIKIT_API Visitor *qapi_json_output_visitor_new(void);

/* A visitor that frees what it visits.  Never fails. */
QAPIKIT_API Visitor *qapi_dealloc_visitor_new(void);

/*
 * Copy the finished output into *OPAQUE (output visitor: json_object **;
 * clone visitor: not used).  Call at most once, after a successful visit.
 */
QAPIKIT_API void visit_complete(Visitor *v, void *opaque);

/* Free V (not what it visited).  NULL is fine. */
QAPIKIT_API void visit_free(Visitor *v);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Visitor, visit_free)

/*
 * A deep copy of SRC made by visiting it with VISIT_TYPE (a generated
 * visit_type_X).  NULL gives NULL.
 */
QAPIKIT_API void *qapi_clone(const void *src,
                             bool (*visit_type)(Visitor *, const char *,
                                                void **, GError **));

/* QAPI_CLONE(Foo, foo) is a deep copy of the Foo *foo. */
#define QAPI_CLONE(type, src)                                                  \
    ((type *)qapi_clone((src),                                                 \
                        (bool (*)(Visitor *, const char *, void **,            \
                                  GError **))visit_type_##type))

/* What kind of visitor V is */

QAPIKIT_API bool visit_is_input(Visitor *v);
QAPIKIT_API bool visit_is_dealloc(Visitor *v);

/*
 * Structs.  visit_start_struct() enters the object NAME: input allocates
 * a zeroed SIZE bytes into *obj (OBJ NULL: only enter, as alternates'
 * object branches do); then the members are visited; visit_check_struct()
 * (input: any member not visited is an error naming it); always
 * visit_end_struct() with the same OBJ, also after a failure.
 */
QAPIKIT_API bool visit_start_struct(Visitor *v, const char *name, void **obj,
                                    size_t size, GError **errp);
QAPIKIT_API bool visit_check_struct(Visitor *v, GError **errp);
QAPIKIT_API void visit_end_struct(Visitor *v, void **obj);

/*
 * Lists.  visit_start_list() enters the array NAME; input allocates the
 * first node (SIZE bytes, zeroed) into *list, or sets it NULL for [].
 * Then, while the current node is not NULL, visit its value (name NULL)
 * and move on with visit_next_list(), which (input) allocates the next
 * node or returns NULL at the end.  visit_check_list(), then always
 * visit_end_list() with the same LIST.
 */
QAPIKIT_API bool visit_start_list(Visitor *v, const char *name,
                                  GenericList **list, size_t size,
                                  GError **errp);
QAPIKIT_API GenericList *visit_next_list(Visitor *v, GenericList *tail,
                                         size_t size);
QAPIKIT_API bool visit_check_list(Visitor *v, GError **errp);
QAPIKIT_API void visit_end_list(Visitor *v, void **list);

/*
 * Alternates.  Input allocates SIZE zeroed bytes into *obj and sets
 * (*obj)->type to the JSON kind of the value (QTYPE_QDICT, QTYPE_QLIST,
 * QTYPE_QSTRING, QTYPE_QNUM, QTYPE_QBOOL or QTYPE_QNULL); the generated
 * code then visits the branch for that kind, and reports an error naming
 * the alternate when it has none.  Always visit_end_alternate().
 */
QAPIKIT_API bool visit_start_alternate(Visitor *v, const char *name,
                                       GenericAlternate **obj, size_t size,
                                       GError **errp);
QAPIKIT_API void visit_end_alternate(Visitor *v, void **obj);

/*
 * Optional members.  Input: whether NAME is present, stored in *present.
 * Other visitors: *present as given.  Visit the member when this returns
 * true.
 */
QAPIKIT_API bool visit_optional(Visitor *v, const char *name, bool *present);

/*
 * Special features (docs/spec/qapi-language.md §6/3), asked before visiting a
 * member or enum value that has some.  visit_policy_reject(): true, with
 * an error naming NAME, when input policy refuses them (the caller fails);
 * a member that is absent from the input is not refused (visiting it
 * then reports it missing, if it is mandatory).
 * visit_policy_skip(): true when output policy hides them (the caller
 * leaves the member out).
 */
QAPIKIT_API bool visit_policy_reject(Visitor *v, const char *name,
                                     unsigned special_features, GError **errp);
QAPIKIT_API bool visit_policy_skip(Visitor *v, const char *name,
                                   unsigned special_features);

/*
 * Fail the visit of the value NAME with a GenericError whose message is
 * the value's path as every visitor error names it ("'devlist[1].x'", or
 * "the value" at top level) followed by FMT (" has no branch for ...").
 * For checks in generated code; visitors report their own errors.
 */
QAPIKIT_API void visit_error(Visitor *v, const char *name, GError **errp,
                             const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Scalars */

QAPIKIT_API bool visit_type_enum(Visitor *v, const char *name, int *obj,
                                 const QEnumLookup *lookup, GError **errp);
QAPIKIT_API bool visit_type_int(Visitor *v, const char *name, int64_t *obj,
                                GError **errp);
QAPIKIT_API bool visit_type_int8(Visitor *v, const char *name, int8_t *obj,
                                 GError **errp);
QAPIKIT_API bool visit_type_int16(Visitor *v, const char *name, int16_t *obj,
                                  GError **errp);
QAPIKIT_API bool visit_type_int32(Visitor *v, const char *name, int32_t *obj,
                                  GError **errp);
QAPIKIT_API bool visit_type_int64(Visitor *v, const char *name, int64_t *obj,
                                  GError **errp);
QAPIKIT_API bool visit_type_uint8(Visitor *v, const char *name, uint8_t *obj,
                                  GError **errp);
QAPIKIT_API bool visit_type_uint16(Visitor *v, const char *name, uint16_t *obj,
                                   GError **errp);
QAPIKIT_API bool visit_type_uint32(Visitor *v, const char *name, uint32_t *obj,
                                   GError **errp);
QAPIKIT_API bool visit_type_uint64(Visitor *v, const char *name, uint64_t *obj,
                                   GError **errp);
QAPIKIT_API bool visit_type_size(Visitor *v, const char *name, uint64_t *obj,
                                 GError **errp);
QAPIKIT_API bool visit_type_bool(Visitor *v, const char *name, bool *obj,
                                 GError **errp);
/*
 * Input: a new g_malloc'ed string (a string holding a NUL is an error);
 * output: *obj NULL is written as "".
 */
QAPIKIT_API bool visit_type_str(Visitor *v, const char *name, char **obj,
                                GError **errp);
/* Any finite number; input accepts integers too; output fails on NaN/Inf. */
QAPIKIT_API bool visit_type_number(Visitor *v, const char *name, double *obj,
                                   GError **errp);
/* Any JSON value: *obj holds one json-c reference (NULL is JSON null). */
QAPIKIT_API bool visit_type_any(Visitor *v, const char *name, json_object **obj,
                                GError **errp);
QAPIKIT_API bool visit_type_null(Visitor *v, const char *name, QapiNull **obj,
                                 GError **errp);

/*
 * The compatibility policy (QapiCompatPolicy, <qapikit/base.h>).  A command list has its own
 * (qmp_command_list_set_policy() in <qapikit/dispatch.h>), which the
 * generated marshallers give their visitors; the process default
 * (qapi_compat_policy_set(); accept and show everything until set)
 * applies to events, to command lists that were given none, and to
 * visitors the application creates.
 */
QAPIKIT_API void qapi_compat_policy_set(const QapiCompatPolicy *policy);
QAPIKIT_API const QapiCompatPolicy *qapi_compat_policy_get(void);

/*
 * Whether POLICY (NULL: the process default) hides, in output, or
 * refuses, in input, something with SPECIAL_FEATURES; the same for the
 * process default.
 */
QAPIKIT_API bool qapi_policy_hides(const QapiCompatPolicy *policy,
                                   unsigned special_features);
QAPIKIT_API bool qapi_policy_refuses(const QapiCompatPolicy *policy,
                                     unsigned special_features);
QAPIKIT_API bool qapi_compat_policy_hides(unsigned special_features);
QAPIKIT_API bool qapi_compat_policy_refuses(unsigned special_features);

/*
 * The policy V applies from now on (lent: it must outlive V's use); NULL,
 * as for a new visitor: the process default, read at each check.
 */
QAPIKIT_API void visit_set_policy(Visitor *v, const QapiCompatPolicy *policy);

G_END_DECLS

#endif /* QAPIKIT_VISITOR_H */
