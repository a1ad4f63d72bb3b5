/*
 * qapikit runtime: the JSON output visitor (C values -> json-c tree).
 */
#include "visitor-impl.h"

#include <math.h>

/* An object or array being built. */
typedef struct OutputFrame {
    struct OutputFrame *parent;
    json_object *value;     /* borrowed: its parent (or root) owns it */
    char *path;
} OutputFrame;

typedef struct JsonOutputVisitor {
    Visitor visitor;
    json_object *root;
    bool root_set;
    OutputFrame *top;       /* NULL while at the root value */
} JsonOutputVisitor;

static JsonOutputVisitor *to_output(Visitor *v)
{
    return (JsonOutputVisitor *)v;
}

static char *output_path(JsonOutputVisitor *ov, const char *name)
{
    OutputFrame *frame = ov->top;

    if (!frame) {
        return qapi_path_append(NULL, false, 0, name);
    }
    if (json_object_is_type(frame->value, json_type_array)) {
        /* The element being visited is the next one. */
        return qapi_path_append(frame->path, true,
                                json_object_array_length(frame->value), NULL);
    }
    return qapi_path_append(frame->path, false, 0, name);
}

static char *output_visitor_path(Visitor *v, const char *name)
{
    return output_path(to_output(v), name);
}

/* Store VALUE (a reference handed over; NULL is JSON null) as NAME. */
static void output_add(JsonOutputVisitor *ov, const char *name,
                       json_object *value)
{
    OutputFrame *frame = ov->top;

    if (!frame) {
        g_assert(!ov->root_set);
        ov->root = value;
        ov->root_set = true;
    } else if (json_object_is_type(frame->value, json_type_array)) {
        json_object_array_add(frame->value, value);
    } else {
        g_assert(name);
        json_object_object_add(frame->value, name, value);
    }
}

static void output_push(JsonOutputVisitor *ov, const char *name,
                        json_object *value)
{
    OutputFrame *frame = g_new0(OutputFrame, 1);

    frame->path = output_path(ov, name);
    frame->value = value;
    output_add(ov, name, value);
    frame->parent = ov->top;
    ov->top = frame;
}

static void output_pop(JsonOutputVisitor *ov)
{
    OutputFrame *frame = ov->top;

    g_assert(frame);
    ov->top = frame->parent;
    g_free(frame->path);
    g_free(frame);
}

static bool output_start_struct(Visitor *v, const char *name, void **obj,
                                size_t size, GError **errp)
{
    (void)obj;
    (void)size;
    (void)errp;
    output_push(to_output(v), name, json_object_new_object());
    return true;
}

static void output_end_struct(Visitor *v, void **obj)
{
    JsonOutputVisitor *ov = to_output(v);

    (void)obj;
    g_assert(ov->top && json_object_is_type(ov->top->value,
                                            json_type_object));
    output_pop(ov);
}

static bool output_start_list(Visitor *v, const char *name,
                              GenericList **list, size_t size, GError **errp)
{
    (void)list;
    (void)size;
    (void)errp;
    output_push(to_output(v), name, json_object_new_array());
    return true;
}

static void output_end_list(Visitor *v, void **list)
{
    JsonOutputVisitor *ov = to_output(v);

    (void)list;
    g_assert(ov->top && json_object_is_type(ov->top->value,
                                            json_type_array));
    output_pop(ov);
}

static bool output_policy_skip(Visitor *v, const char *name,
                               unsigned special_features)
{
    (void)v;
    (void)name;
    return qapi_compat_policy_hides(special_features);
}

static bool output_type_enum(Visitor *v, const char *name, int *obj,
                             const QEnumLookup *lookup, GError **errp)
{
    JsonOutputVisitor *ov = to_output(v);
    const char *str = qapi_enum_lookup(lookup, *obj);

    if (!str) {
        g_autofree char *path = output_path(ov, name);
        qapi_path_error(errp, path, ": %d is not a value of the enum", *obj);
        return false;
    }
    output_add(ov, name, json_object_new_string(str));
    return true;
}

static bool output_type_int(Visitor *v, const char *name, int64_t *obj,
                            int64_t min, int64_t max, const char *type_name,
                            GError **errp)
{
    (void)min;
    (void)max;
    (void)type_name;
    (void)errp;
    output_add(to_output(v), name, json_object_new_int64(*obj));
    return true;
}

static bool output_type_uint(Visitor *v, const char *name, uint64_t *obj,
                             uint64_t max, const char *type_name,
                             GError **errp)
{
    (void)max;
    (void)type_name;
    (void)errp;
    /* Keep int64 where it fits: that is what json-c's parser makes. */
    output_add(to_output(v), name,
               *obj > (uint64_t)INT64_MAX ? json_object_new_uint64(*obj)
                                          : json_object_new_int64(*obj));
    return true;
}

static bool output_type_bool(Visitor *v, const char *name, bool *obj,
                             GError **errp)
{
    (void)errp;
    output_add(to_output(v), name, json_object_new_boolean(*obj));
    return true;
}

static bool output_type_str(Visitor *v, const char *name, char **obj,
                            GError **errp)
{
    (void)errp;
    output_add(to_output(v), name, json_object_new_string(*obj ? *obj : ""));
    return true;
}

static bool output_type_number(Visitor *v, const char *name, double *obj,
                               GError **errp)
{
    JsonOutputVisitor *ov = to_output(v);

    /* JSON has no NaN or infinity; json-c would write invalid JSON. */
    if (!isfinite(*obj)) {
        g_autofree char *path = output_path(ov, name);
        qapi_path_error(errp, path, " is not a finite number");
        return false;
    }
    output_add(ov, name, json_object_new_double(*obj));
    return true;
}

static bool output_type_any(Visitor *v, const char *name, json_object **obj,
                            GError **errp)
{
    (void)errp;
    output_add(to_output(v), name, json_object_get(*obj));
    return true;
}

static bool output_type_null(Visitor *v, const char *name, QapiNull **obj,
                             GError **errp)
{
    (void)obj;
    (void)errp;
    output_add(to_output(v), name, NULL);
    return true;
}

static void output_complete(Visitor *v, void *opaque)
{
    JsonOutputVisitor *ov = to_output(v);

    g_assert(!ov->top);
    *(json_object **)opaque = json_object_get(ov->root);
}

static void output_free(Visitor *v)
{
    JsonOutputVisitor *ov = to_output(v);

    while (ov->top) {
        output_pop(ov);
    }
    json_object_put(ov->root);
    g_free(ov);
}

Visitor *qapi_json_output_visitor_new(void)
{
    JsonOutputVisitor *ov = g_new0(JsonOutputVisitor, 1);

    ov->visitor = (Visitor){
        .kind = VISITOR_OUTPUT,
        .start_struct = output_start_struct,
        .end_struct = output_end_struct,
        .start_list = output_start_list,
        .end_list = output_end_list,
        .policy_skip = output_policy_skip,
        .type_enum = output_type_enum,
        .type_int = output_type_int,
        .type_uint = output_type_uint,
        .type_bool = output_type_bool,
        .type_str = output_type_str,
        .type_number = output_type_number,
        .type_any = output_type_any,
        .type_null = output_type_null,
        .path = output_visitor_path,
        .complete = output_complete,
        .free = output_free,
    };
    return &ov->visitor;
}
