/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the JSON output visitor (C values -> json-c tree).
 *
 * Speed: a frame costs no allocation once the visitor has been as deep
 * before (popped frames are kept for reuse), and paths for messages are
 * built only when a message is, by walking the frames up to the root.
 */
#include "visitor-impl.h"

#include <limits.h>
#include <math.h>

#include <json-c/json_object_iterator.h>

/* Frames that come with the visitor: most values need no more. */
#define INLINE_FRAMES 4

/* An object or array being built. */
typedef struct OutputFrame {
    struct OutputFrame *parent; /* also: the next spare frame */
    json_object *value;         /* borrowed: its parent (or root) owns it */
    bool is_list;               /* VALUE is an array, else an object */
    bool on_heap;               /* not one of the visitor's inline_frames */
} OutputFrame;

typedef struct JsonOutputVisitor {
    Visitor visitor;
    json_object *root;
    bool root_set;
    OutputFrame *top;   /* NULL while at the root value */
    OutputFrame *spare; /* frames not in use: inline_frames, popped */
    char *root_name;    /* the NAME of the root frame's visit */
    OutputFrame inline_frames[INLINE_FRAMES];
} JsonOutputVisitor;

static JsonOutputVisitor *to_output(Visitor *v)
{
    return (JsonOutputVisitor *)v;
}

/*
 * The member name of CHILD in the object PARENT: the tree's copy of the
 * name it was added with.  Only messages need it, so a search is fine.
 */
static const char *member_name(json_object *parent, json_object *child)
{
    struct json_object_iterator it = json_object_iter_begin(parent);
    struct json_object_iterator end = json_object_iter_end(parent);

    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        if (json_object_iter_peek_value(&it) == child) {
            return json_object_iter_peek_name(&it);
        }
    }
    g_assert_not_reached(); /* output_push() added it */
    return NULL;
}

/* The path of the value FRAME builds (a new string). */
static char *frame_path(JsonOutputVisitor *ov, OutputFrame *frame)
{
    g_autofree char *parent_path = NULL;
    OutputFrame *parent = frame->parent;

    if (!parent) {
        return qapi_path_append(NULL, false, 0, ov->root_name);
    }
    parent_path = frame_path(ov, parent);
    if (parent->is_list) {
        /* FRAME's value is the last element added so far. */
        return qapi_path_append(parent_path, true,
                                json_object_array_length(parent->value) - 1,
                                NULL);
    }
    return qapi_path_append(parent_path, false, 0,
                            member_name(parent->value, frame->value));
}

static char *output_path(JsonOutputVisitor *ov, const char *name)
{
    OutputFrame *frame = ov->top;
    g_autofree char *path = NULL;

    if (!frame) {
        return qapi_path_append(NULL, false, 0, name);
    }
    path = frame_path(ov, frame);
    if (frame->is_list) {
        /* The element being visited is the next one. */
        return qapi_path_append(path, true,
                                json_object_array_length(frame->value), NULL);
    }
    return qapi_path_append(path, false, 0, name);
}

static char *output_visitor_path(Visitor *v, const char *name)
{
    return output_path(to_output(v), name);
}

/*
 * Store VALUE (a reference handed over; NULL is JSON null) as NAME.
 * Member names go into the tree by reference, not copied, and without a
 * search for an earlier member of the same name: visitor.h makes both
 * the caller's promise (NAME outlives the tree, and is visited once per
 * object).  That saves an allocation, a copy, a hash lookup and a free
 * per member.
 */
static void output_add(JsonOutputVisitor *ov, const char *name,
                       json_object *value)
{
    OutputFrame *frame = ov->top;

    if (!frame) {
        g_assert(!ov->root_set);
        ov->root = value;
        ov->root_set = true;
    } else if (frame->is_list) {
        json_object_array_add(frame->value, value);
    } else {
        g_assert(name);
        json_object_object_add_ex(frame->value, name, value,
                                  JSON_C_OBJECT_ADD_KEY_IS_NEW
                                      | JSON_C_OBJECT_KEY_IS_CONSTANT);
    }
}

static void output_push(JsonOutputVisitor *ov, const char *name,
                        json_object *value, bool is_list)
{
    OutputFrame *frame = ov->spare;

    if (frame) {
        ov->spare = frame->parent;
    } else {
        frame = g_new(OutputFrame, 1);
        frame->on_heap = true;
    }
    if (!ov->top) {
        g_free(ov->root_name);
        ov->root_name = g_strdup(name);
    }
    output_add(ov, name, value);
    frame->value = value;
    frame->is_list = is_list;
    frame->parent = ov->top;
    ov->top = frame;
}

static void output_pop(JsonOutputVisitor *ov)
{
    OutputFrame *frame = ov->top;

    g_assert(frame);
    ov->top = frame->parent;
    frame->parent = ov->spare;
    ov->spare = frame;
    if (!ov->top) {
        g_free(ov->root_name);
        ov->root_name = NULL;
    }
}

static bool output_start_struct(Visitor *v, const char *name, void **obj,
                                size_t size, GError **errp)
{
    (void)obj;
    (void)size;
    (void)errp;
    output_push(to_output(v), name, json_object_new_object(), false);
    return true;
}

static void output_end_struct(Visitor *v, void **obj)
{
    JsonOutputVisitor *ov = to_output(v);

    (void)obj;
    g_assert(ov->top && !ov->top->is_list);
    output_pop(ov);
}

static bool output_start_list(Visitor *v, const char *name, GenericList **list,
                              size_t size, GError **errp)
{
    int length = 0;

    (void)size;
    (void)errp;
    /*
     * An array of the list's length from the start: json-c's default
     * (32 slots, doubled when full) is too big for most lists and needs
     * copies for long ones.
     */
    for (GenericList *node = list ? *list : NULL; node && length < INT_MAX;
         node = node->next) {
        length++;
    }
    output_push(to_output(v), name, json_object_new_array_ext(MAX(length, 1)),
                true);
    return true;
}

static void output_end_list(Visitor *v, void **list)
{
    JsonOutputVisitor *ov = to_output(v);

    (void)list;
    g_assert(ov->top && ov->top->is_list);
    output_pop(ov);
}

static bool output_policy_skip(Visitor *v, const char *name,
                               unsigned special_features)
{
    (void)name;
    return qapi_policy_hides(v->policy, special_features);
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
                             uint64_t max, const char *type_name, GError **errp)
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
    while (ov->spare) {
        OutputFrame *frame = ov->spare;

        ov->spare = frame->parent;
        if (frame->on_heap) {
            g_free(frame);
        }
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
    for (size_t i = 0; i < INLINE_FRAMES; i++) {
        ov->inline_frames[i].parent = ov->spare;
        ov->spare = &ov->inline_frames[i];
    }
    return &ov->visitor;
}
