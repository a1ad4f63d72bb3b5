/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the generic side of the Visitor interface.
 */
#include "visitor-impl.h"

void visit_complete(Visitor *v, void *opaque)
{
    if (v->complete) {
        v->complete(v, opaque);
    }
}

void visit_free(Visitor *v)
{
    if (v) {
        v->free(v);
    }
}

bool visit_is_input(Visitor *v)
{
    return v->kind == VISITOR_INPUT;
}

bool visit_is_dealloc(Visitor *v)
{
    return v->kind == VISITOR_DEALLOC;
}

bool visit_start_struct(Visitor *v, const char *name, void **obj, size_t size,
                        GError **errp)
{
    return !v->start_struct || v->start_struct(v, name, obj, size, errp);
}

bool visit_check_struct(Visitor *v, GError **errp)
{
    return !v->check_struct || v->check_struct(v, errp);
}

void visit_end_struct(Visitor *v, void **obj)
{
    if (v->end_struct) {
        v->end_struct(v, obj);
    }
}

bool visit_start_list(Visitor *v, const char *name, GenericList **list,
                      size_t size, GError **errp)
{
    return !v->start_list || v->start_list(v, name, list, size, errp);
}

GenericList *visit_next_list(Visitor *v, GenericList *tail, size_t size)
{
    g_assert(tail);
    return v->next_list ? v->next_list(v, tail, size) : tail->next;
}

bool visit_check_list(Visitor *v, GError **errp)
{
    return !v->check_list || v->check_list(v, errp);
}

void visit_end_list(Visitor *v, void **list)
{
    if (v->end_list) {
        v->end_list(v, list);
    }
}

bool visit_start_alternate(Visitor *v, const char *name, GenericAlternate **obj,
                           size_t size, GError **errp)
{
    g_assert(obj && size >= sizeof(GenericAlternate));
    return !v->start_alternate || v->start_alternate(v, name, obj, size, errp);
}

void visit_end_alternate(Visitor *v, void **obj)
{
    if (v->end_alternate) {
        v->end_alternate(v, obj);
    }
}

bool visit_optional(Visitor *v, const char *name, bool *present)
{
    return v->optional ? v->optional(v, name, present) : *present;
}

bool visit_policy_reject(Visitor *v, const char *name,
                         unsigned special_features, GError **errp)
{
    return special_features && v->policy_reject
        && v->policy_reject(v, name, special_features, errp);
}

bool visit_policy_skip(Visitor *v, const char *name, unsigned special_features)
{
    return special_features && v->policy_skip
        && v->policy_skip(v, name, special_features);
}

bool visit_type_enum(Visitor *v, const char *name, int *obj,
                     const QEnumLookup *lookup, GError **errp)
{
    return !v->type_enum || v->type_enum(v, name, obj, lookup, errp);
}

/*
 * The sized integer types widen to 64 bits for the implementation,
 * which checks the bounds on input; input never reads *obj (it may be
 * uninitialized).
 */
static bool visit_signed(Visitor *v, const char *name, int64_t *value,
                         int64_t min, int64_t max, const char *type_name,
                         GError **errp)
{
    return !v->type_int
        || v->type_int(v, name, value, min, max, type_name, errp);
}

static bool visit_unsigned(Visitor *v, const char *name, uint64_t *value,
                           uint64_t max, const char *type_name, GError **errp)
{
    return !v->type_uint || v->type_uint(v, name, value, max, type_name, errp);
}

#define DEFINE_VISIT_SIGNED(fn, ctype, min, max, type_name)                    \
    bool fn(Visitor *v, const char *name, ctype *obj, GError **errp)           \
    {                                                                          \
        int64_t value = visit_is_input(v) ? 0 : *obj;                          \
                                                                               \
        if (!visit_signed(v, name, &value, min, max, type_name, errp)) {       \
            return false;                                                      \
        }                                                                      \
        *obj = (ctype)value;                                                   \
        return true;                                                           \
    }

#define DEFINE_VISIT_UNSIGNED(fn, ctype, max, type_name)                       \
    bool fn(Visitor *v, const char *name, ctype *obj, GError **errp)           \
    {                                                                          \
        uint64_t value = visit_is_input(v) ? 0 : *obj;                         \
                                                                               \
        if (!visit_unsigned(v, name, &value, max, type_name, errp)) {          \
            return false;                                                      \
        }                                                                      \
        *obj = (ctype)value;                                                   \
        return true;                                                           \
    }

DEFINE_VISIT_SIGNED(visit_type_int, int64_t, INT64_MIN, INT64_MAX, "int")
DEFINE_VISIT_SIGNED(visit_type_int8, int8_t, INT8_MIN, INT8_MAX, "int8")
DEFINE_VISIT_SIGNED(visit_type_int16, int16_t, INT16_MIN, INT16_MAX, "int16")
DEFINE_VISIT_SIGNED(visit_type_int32, int32_t, INT32_MIN, INT32_MAX, "int32")
DEFINE_VISIT_SIGNED(visit_type_int64, int64_t, INT64_MIN, INT64_MAX, "int64")
DEFINE_VISIT_UNSIGNED(visit_type_uint8, uint8_t, UINT8_MAX, "uint8")
DEFINE_VISIT_UNSIGNED(visit_type_uint16, uint16_t, UINT16_MAX, "uint16")
DEFINE_VISIT_UNSIGNED(visit_type_uint32, uint32_t, UINT32_MAX, "uint32")
DEFINE_VISIT_UNSIGNED(visit_type_uint64, uint64_t, UINT64_MAX, "uint64")
DEFINE_VISIT_UNSIGNED(visit_type_size, uint64_t, UINT64_MAX, "size")

bool visit_type_bool(Visitor *v, const char *name, bool *obj, GError **errp)
{
    return !v->type_bool || v->type_bool(v, name, obj, errp);
}

bool visit_type_str(Visitor *v, const char *name, char **obj, GError **errp)
{
    return !v->type_str || v->type_str(v, name, obj, errp);
}

bool visit_type_number(Visitor *v, const char *name, double *obj, GError **errp)
{
    return !v->type_number || v->type_number(v, name, obj, errp);
}

bool visit_type_any(Visitor *v, const char *name, json_object **obj,
                    GError **errp)
{
    return !v->type_any || v->type_any(v, name, obj, errp);
}

bool visit_type_null(Visitor *v, const char *name, QapiNull **obj,
                     GError **errp)
{
    return !v->type_null || v->type_null(v, name, obj, errp);
}

void *qapi_clone(const void *src,
                 bool (*visit_type)(Visitor *, const char *, void **,
                                    GError **))
{
    Visitor *v;
    /* The clone visitor replaces what it walks by copies, in place. */
    void *dst = (void *)src;

    if (!src) {
        return NULL;
    }
    v = qapi_clone_visitor_new();
    if (!visit_type(v, NULL, &dst, NULL)) {
        g_assert_not_reached(); /* the clone visitor cannot fail */
    }
    visit_free(v);
    return dst;
}

char *qapi_path_append(const char *parent_path, bool in_list, size_t index,
                       const char *name)
{
    if (!parent_path) {
        return g_strdup(name ? name : "");
    }
    if (in_list) {
        return g_strdup_printf("%s[%zu]", parent_path, index);
    }
    g_assert(name);
    if (!*parent_path) {
        return g_strdup(name);
    }
    return g_strconcat(parent_path, ".", name, NULL);
}

char *qapi_path_describe(const char *path)
{
    return *path ? g_strdup_printf("'%s'", path) : g_strdup("the value");
}

void qapi_path_error(GError **errp, const char *path, const char *fmt, ...)
{
    g_autofree char *where = NULL;
    g_autofree char *what = NULL;
    va_list ap;

    if (!errp) {
        return;
    }
    where = qapi_path_describe(path);
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR, "%s%s", where,
                what);
}

void visit_error(Visitor *v, const char *name, GError **errp, const char *fmt,
                 ...)
{
    g_autofree char *path = NULL;
    g_autofree char *what = NULL;
    va_list ap;

    if (!errp) {
        return;
    }
    path = v->path ? v->path(v, name) : g_strdup(name ? name : "");
    va_start(ap, fmt);
    what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qapi_path_error(errp, path, "%s", what);
}
