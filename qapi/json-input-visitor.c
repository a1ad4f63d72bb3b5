/*
 * qapikit runtime: the JSON input visitor (json-c tree -> C values).
 */
#include "visitor-impl.h"

#include <math.h>
#include <string.h>

#include <json-c/json_object_iterator.h>

/* An object or array being visited. */
typedef struct InputFrame {
    struct InputFrame *parent;
    json_object *value;     /* borrowed: the root holds the tree */
    char *path;
    bool is_list;
    size_t index;           /* list: the element being visited */
    size_t length;          /* list */
    bool index_visited;     /* list: element INDEX has been visited */
    GHashTable *visited;    /* object: names of visited members, lazily */
} InputFrame;

typedef struct JsonInputVisitor {
    Visitor visitor;
    json_object *root;
    InputFrame *top;        /* NULL while at the root value */
} JsonInputVisitor;

static JsonInputVisitor *to_input(Visitor *v)
{
    return (JsonInputVisitor *)v;
}

static const char *json_kind(json_object *value)
{
    switch (json_object_get_type(value)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a number";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "an unknown JSON value";
}

static char *input_path(JsonInputVisitor *iv, const char *name);

static char *input_visitor_path(Visitor *v, const char *name)
{
    return input_path(to_input(v), name);
}

static char *input_path(JsonInputVisitor *iv, const char *name)
{
    InputFrame *frame = iv->top;

    if (!frame) {
        return qapi_path_append(NULL, false, 0, name);
    }
    return qapi_path_append(frame->path, frame->is_list, frame->index, name);
}

/*
 * The value NAME of the current container into *VALUE (NULL for JSON
 * null); false with an error when it is absent.  CONSUME marks it
 * visited, for the check_struct and check_list that follow.
 */
static bool input_lookup(JsonInputVisitor *iv, const char *name,
                         bool consume, json_object **value, GError **errp)
{
    InputFrame *frame = iv->top;

    if (!frame) {
        *value = iv->root;
        return true;
    }
    if (frame->is_list) {
        if (frame->index < frame->length) {
            *value = json_object_array_get_idx(frame->value, frame->index);
            frame->index_visited |= consume;
            return true;
        }
    } else {
        g_assert(name);
        if (json_object_object_get_ex(frame->value, name, value)) {
            if (consume && !frame->visited) {
                frame->visited = g_hash_table_new_full(g_str_hash,
                                                       g_str_equal, g_free,
                                                       NULL);
            }
            if (consume && !g_hash_table_contains(frame->visited, name)) {
                g_hash_table_add(frame->visited, g_strdup(name));
            }
            return true;
        }
    }
    {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, " is missing");
    }
    return false;
}

static void input_type_error(JsonInputVisitor *iv, const char *name,
                             const char *expected, json_object *value,
                             GError **errp)
{
    g_autofree char *path = input_path(iv, name);

    qapi_path_error(errp, path, ": expected %s, got %s", expected,
                    json_kind(value));
}

/* The value NAME, which must be of JSON type TYPE. */
static bool input_get(JsonInputVisitor *iv, const char *name,
                      enum json_type type, const char *expected,
                      json_object **value, GError **errp)
{
    if (!input_lookup(iv, name, true, value, errp)) {
        return false;
    }
    if (!json_object_is_type(*value, type)) {
        input_type_error(iv, name, expected, *value, errp);
        return false;
    }
    return true;
}

/*
 * The string NAME.  A C string would silently end at an embedded NUL
 * (\u0000), so a string holding one is refused.
 */
static bool input_get_string(JsonInputVisitor *iv, const char *name,
                             const char **str, GError **errp)
{
    json_object *value;

    if (!input_get(iv, name, json_type_string, "a string", &value, errp)) {
        return false;
    }
    *str = json_object_get_string(value);
    if (strlen(*str) != (size_t)json_object_get_string_len(value)) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, ": the string contains a NUL character");
        return false;
    }
    return true;
}

static InputFrame *input_push(JsonInputVisitor *iv, const char *name,
                              json_object *value)
{
    InputFrame *frame = g_new0(InputFrame, 1);

    frame->value = value;
    frame->path = input_path(iv, name);
    frame->parent = iv->top;
    iv->top = frame;
    return frame;
}

static void input_pop(JsonInputVisitor *iv)
{
    InputFrame *frame = iv->top;

    iv->top = frame->parent;
    if (frame->visited) {
        g_hash_table_destroy(frame->visited);
    }
    g_free(frame->path);
    g_free(frame);
}

static bool input_start_struct(Visitor *v, const char *name, void **obj,
                               size_t size, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    json_object *value;

    if (obj) {
        *obj = NULL;
    }
    if (!input_get(iv, name, json_type_object, "an object", &value, errp)) {
        return false;
    }
    input_push(iv, name, value);
    if (obj) {
        *obj = g_malloc0(size);
    }
    return true;
}

static bool input_check_struct(Visitor *v, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    InputFrame *frame = iv->top;
    unsigned visited;
    struct json_object_iterator it, end;

    g_assert(frame && !frame->is_list);
    visited = frame->visited ? g_hash_table_size(frame->visited) : 0;
    if (visited == (unsigned)json_object_object_length(frame->value)) {
        return true;
    }
    /* Name the first unknown member, in the order of the document. */
    end = json_object_iter_end(frame->value);
    for (it = json_object_iter_begin(frame->value);
         !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char *key = json_object_iter_peek_name(&it);

        if (!frame->visited || !g_hash_table_contains(frame->visited, key)) {
            g_autofree char *path = qapi_path_append(frame->path, false, 0,
                                                     key);
            qapi_path_error(errp, path, " is not an expected member");
            return false;
        }
    }
    g_assert_not_reached(); /* only members present are counted */
    return true;
}

static void input_end_struct(Visitor *v, void **obj)
{
    JsonInputVisitor *iv = to_input(v);

    (void)obj;
    g_assert(iv->top && !iv->top->is_list);
    input_pop(iv);
}

static bool input_start_list(Visitor *v, const char *name, GenericList **list,
                             size_t size, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    json_object *value;
    InputFrame *frame;

    g_assert(size >= sizeof(GenericList));
    if (list) {
        *list = NULL;
    }
    if (!input_get(iv, name, json_type_array, "an array", &value, errp)) {
        return false;
    }
    frame = input_push(iv, name, value);
    frame->is_list = true;
    frame->length = json_object_array_length(value);
    if (list && frame->length) {
        *list = g_malloc0(size);
    }
    return true;
}

static GenericList *input_next_list(Visitor *v, GenericList *tail,
                                    size_t size)
{
    InputFrame *frame = to_input(v)->top;

    g_assert(frame && frame->is_list);
    frame->index++;
    frame->index_visited = false;
    if (frame->index >= frame->length) {
        return NULL;
    }
    tail->next = g_malloc0(size);
    return tail->next;
}

static bool input_check_list(Visitor *v, GError **errp)
{
    InputFrame *frame = to_input(v)->top;
    size_t unvisited;

    g_assert(frame && frame->is_list);
    unvisited = frame->index + frame->index_visited;
    if (unvisited < frame->length) {
        g_autofree char *path = qapi_path_append(frame->path, true,
                                                 unvisited, NULL);
        qapi_path_error(errp, path, " is not an expected element");
        return false;
    }
    return true;
}

static void input_end_list(Visitor *v, void **list)
{
    JsonInputVisitor *iv = to_input(v);

    (void)list;
    g_assert(iv->top && iv->top->is_list);
    input_pop(iv);
}

static bool input_start_alternate(Visitor *v, const char *name,
                                  GenericAlternate **obj, size_t size,
                                  GError **errp)
{
    json_object *value;
    QType type = QTYPE_NONE;

    *obj = NULL;
    /* The branch's visit consumes the member. */
    if (!input_lookup(to_input(v), name, false, &value, errp)) {
        return false;
    }
    switch (json_object_get_type(value)) {
    case json_type_null:
        type = QTYPE_QNULL;
        break;
    case json_type_boolean:
        type = QTYPE_QBOOL;
        break;
    case json_type_double:
    case json_type_int:
        type = QTYPE_QNUM;
        break;
    case json_type_object:
        type = QTYPE_QDICT;
        break;
    case json_type_array:
        type = QTYPE_QLIST;
        break;
    case json_type_string:
        type = QTYPE_QSTRING;
        break;
    }
    *obj = g_malloc0(size);
    (*obj)->type = type;
    return true;
}

static bool input_optional(Visitor *v, const char *name, bool *present)
{
    InputFrame *frame = to_input(v)->top;

    if (!frame) {
        *present = true;
    } else if (frame->is_list) {
        *present = frame->index < frame->length;
    } else {
        g_assert(name);
        *present = json_object_object_get_ex(frame->value, name, NULL);
    }
    return *present;
}

static bool input_policy_reject(Visitor *v, const char *name,
                                unsigned special_features, GError **errp)
{
    const char *refused = qapi_compat_policy_refused(special_features);
    bool present = true;
    g_autofree char *path = NULL;

    /* Only what the client sent is refused; an absent member is not. */
    if (!refused || !input_optional(v, name, &present)) {
        return false;
    }
    path = input_path(to_input(v), name);
    qapi_path_error(errp, path, " is %s and refused by the compatibility "
                    "policy", refused);
    return true;
}

static bool input_type_enum(Visitor *v, const char *name, int *obj,
                            const QEnumLookup *lookup, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    const char *str;
    const char *refused;
    int val;

    if (!input_get_string(iv, name, &str, errp)) {
        return false;
    }
    val = qapi_enum_find(lookup, str);
    if (val < 0) {
        g_autofree char *path = input_path(iv, name);
        g_autofree char *expected = qapi_enum_expected(lookup);
        qapi_path_error(errp, path, ": '%s' is not a value of the enum%s",
                        str, expected);
        return false;
    }
    /* The input policy of visit_policy_reject(), applied to the value. */
    refused = lookup->special_features
        ? qapi_compat_policy_refused(lookup->special_features[val]) : NULL;
    if (refused) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, ": '%s' is %s and refused by the "
                        "compatibility policy", str, refused);
        return false;
    }
    *obj = val;
    return true;
}

/*
 * An integer VALUE as a sign and a magnitude.  json-c stores integers
 * above INT64_MAX as uint64 and clamps them to INT64_MAX when read as
 * int64, so INT64_MAX needs a second look.
 */
static bool json_integer(json_object *value, int64_t *i64, uint64_t *u64)
{
    *i64 = json_object_get_int64(value);
    *u64 = *i64 == INT64_MAX ? json_object_get_uint64(value) : (uint64_t)*i64;
    return *i64 < 0;
}

static bool input_type_int(Visitor *v, const char *name, int64_t *obj,
                           int64_t min, int64_t max, const char *type_name,
                           GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    json_object *value;
    int64_t i64;
    uint64_t u64;

    if (!input_get(iv, name, json_type_int, "an integer", &value, errp)) {
        return false;
    }
    /* Above INT64_MAX (only unsigned there) fits no signed type. */
    if ((!json_integer(value, &i64, &u64) && u64 > (uint64_t)INT64_MAX)
        || i64 < min || i64 > max) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, " is out of range for %s (%" PRId64
                        " to %" PRId64 ")", type_name, min, max);
        return false;
    }
    *obj = i64;
    return true;
}

static bool input_type_uint(Visitor *v, const char *name, uint64_t *obj,
                            uint64_t max, const char *type_name,
                            GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    json_object *value;
    int64_t i64;
    uint64_t u64;

    if (!input_get(iv, name, json_type_int, "an integer", &value, errp)) {
        return false;
    }
    if (json_integer(value, &i64, &u64) || u64 > max) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, " is out of range for %s (0 to %" PRIu64
                        ")", type_name, max);
        return false;
    }
    *obj = u64;
    return true;
}

static bool input_type_bool(Visitor *v, const char *name, bool *obj,
                            GError **errp)
{
    json_object *value;

    if (!input_get(to_input(v), name, json_type_boolean, "a boolean", &value,
                   errp)) {
        return false;
    }
    *obj = json_object_get_boolean(value);
    return true;
}

static bool input_type_str(Visitor *v, const char *name, char **obj,
                           GError **errp)
{
    const char *str;

    *obj = NULL;
    if (!input_get_string(to_input(v), name, &str, errp)) {
        return false;
    }
    *obj = g_strdup(str);
    return true;
}

static bool input_type_number(Visitor *v, const char *name, double *obj,
                              GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    json_object *value;
    double number;
    int64_t i64;
    uint64_t u64;

    if (!input_lookup(iv, name, true, &value, errp)) {
        return false;
    }
    if (json_object_is_type(value, json_type_int)) {
        number = json_integer(value, &i64, &u64) ? (double)i64 : (double)u64;
    } else if (json_object_is_type(value, json_type_double)) {
        number = json_object_get_double(value);
    } else {
        input_type_error(iv, name, "a number", value, errp);
        return false;
    }
    if (!isfinite(number)) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, " is not a finite number");
        return false;
    }
    *obj = number;
    return true;
}

static bool input_type_any(Visitor *v, const char *name, json_object **obj,
                           GError **errp)
{
    json_object *value;

    *obj = NULL;
    if (!input_lookup(to_input(v), name, true, &value, errp)) {
        return false;
    }
    *obj = json_object_get(value);
    return true;
}

static bool input_type_null(Visitor *v, const char *name, QapiNull **obj,
                            GError **errp)
{
    json_object *value;

    *obj = NULL;
    if (!input_get(to_input(v), name, json_type_null, "null", &value,
                   errp)) {
        return false;
    }
    *obj = qapi_null_get();
    return true;
}

static void input_free(Visitor *v)
{
    JsonInputVisitor *iv = to_input(v);

    while (iv->top) {
        input_pop(iv);
    }
    json_object_put(iv->root);
    g_free(iv);
}

Visitor *qapi_json_input_visitor_new(json_object *obj)
{
    JsonInputVisitor *iv = g_new0(JsonInputVisitor, 1);

    iv->visitor = (Visitor){
        .kind = VISITOR_INPUT,
        .start_struct = input_start_struct,
        .check_struct = input_check_struct,
        .end_struct = input_end_struct,
        .start_list = input_start_list,
        .next_list = input_next_list,
        .check_list = input_check_list,
        .end_list = input_end_list,
        .start_alternate = input_start_alternate,
        .optional = input_optional,
        .policy_reject = input_policy_reject,
        .type_enum = input_type_enum,
        .type_int = input_type_int,
        .type_uint = input_type_uint,
        .type_bool = input_type_bool,
        .type_str = input_type_str,
        .type_number = input_type_number,
        .type_any = input_type_any,
        .type_null = input_type_null,
        .path = input_visitor_path,
        .free = input_free,
    };
    iv->root = json_object_get(obj);
    return &iv->visitor;
}
