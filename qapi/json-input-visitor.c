/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the JSON input visitor (json-c tree -> C values).
 *
 * Speed (the visitor runs on every QMP request): a frame costs no
 * allocation once the visitor has been as deep before (popped frames are
 * kept for reuse), and paths for messages are built only when a message
 * is, by walking the frames up to the root.
 *
 * json-c internals: which members of an object were visited is one bit
 * per slot of the object's hash table.  The slot of a member is its
 * struct lh_entry's index in the table's entry array,
 * lh_table_lookup_entry() - json_object_get_object()->table, bounded by
 * ->size.  All of it is declared in json-c's public headers (json-c
 * 0.16: json_object.h, linkhash.h), but linkhash.h marks the fields
 * size and table "do not use outside of linkhash.c": a json-c that
 * stops storing entries in one array of ->size slots breaks this file,
 * and the range asserts below catch that.  Nothing else of json-c's is
 * used beyond its documented API; the tree is never modified.
 */
#include "visitor-impl.h"

#include <math.h>
#include <string.h>

#include <json-c/linkhash.h>

/* Frames that come with the visitor: most documents need no more. */
#define INLINE_FRAMES 4

/* Slots whose visited bits live in the frame itself. */
#define INLINE_SLOTS 128
#define BITS_PER_WORD 64

/* An object or array being visited. */
typedef struct InputFrame {
    struct InputFrame *parent; /* also: the next spare frame */
    json_object *value;        /* borrowed: the root holds the tree */
    /*
     * The member name of VALUE in the parent object (the key string in
     * the tree, so it lives as long as the tree); NULL in a list and at
     * the root (whose name is JsonInputVisitor.root_name).
     */
    const char *name;
    bool on_heap; /* not one of the visitor's inline_frames */
    bool is_list;
    size_t index;       /* list: the element being visited */
    size_t length;      /* list */
    bool index_visited; /* list: element INDEX has been visited */
    /* object: */
    struct lh_table *table; /* json_object_get_object(value) */
    size_t slots;           /* table->size, for the range asserts */
    size_t visited;         /* members visited (bits set) */
    uint64_t *bits;         /* visited bits by slot: inline_bits or heap */
    uint64_t *heap_bits;    /* kept across reuse of the frame */
    size_t heap_words;
    /*
     * The member found by the last lookup that did not consume it
     * (visit_optional(), visit_policy_reject(), visit_start_alternate()),
     * checked against the name of the next lookup, which then needs no
     * second hash lookup.
     */
    struct lh_entry *found;
    uint64_t inline_bits[INLINE_SLOTS / BITS_PER_WORD];
} InputFrame;

typedef struct JsonInputVisitor {
    Visitor visitor;
    json_object *root;
    InputFrame *top;       /* NULL while at the root value */
    InputFrame *spare;     /* frames not in use: inline_frames, popped */
    char *root_name;       /* the NAME of the root frame's visit */
    const char *found_key; /* the tree's key of the last object lookup */
    InputFrame inline_frames[INLINE_FRAMES];
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

/* The path of the value FRAME visits (a new string). */
static char *frame_path(JsonInputVisitor *iv, InputFrame *frame)
{
    g_autofree char *parent_path = NULL;
    InputFrame *parent = frame->parent;

    if (!parent) {
        return qapi_path_append(NULL, false, 0, iv->root_name);
    }
    /* PARENT is still at the element or member that FRAME visits. */
    parent_path = frame_path(iv, parent);
    return qapi_path_append(parent_path, parent->is_list, parent->index,
                            frame->name);
}

static char *input_path(JsonInputVisitor *iv, const char *name)
{
    InputFrame *frame = iv->top;
    g_autofree char *path = NULL;

    if (!frame) {
        return qapi_path_append(NULL, false, 0, name);
    }
    path = frame_path(iv, frame);
    return qapi_path_append(path, frame->is_list, frame->index, name);
}

/* The slot of ENTRY in FRAME's table (see the top of the file). */
static size_t frame_slot(InputFrame *frame, struct lh_entry *entry)
{
    size_t slot;

    g_assert(entry >= frame->table->table);
    slot = (size_t)(entry - frame->table->table);
    g_assert(slot < frame->slots);
    return slot;
}

static bool frame_visited(InputFrame *frame, struct lh_entry *entry)
{
    size_t slot = frame_slot(frame, entry);

    return frame->bits[slot / BITS_PER_WORD]
        & (UINT64_C(1) << (slot % BITS_PER_WORD));
}

static void frame_visit(InputFrame *frame, struct lh_entry *entry)
{
    size_t slot = frame_slot(frame, entry);
    uint64_t *word = &frame->bits[slot / BITS_PER_WORD];
    uint64_t bit = UINT64_C(1) << (slot % BITS_PER_WORD);

    if (!(*word & bit)) {
        *word |= bit;
        frame->visited++;
    }
}

/* The member NAME of FRAME's object, or NULL. */
static struct lh_entry *frame_member(InputFrame *frame, const char *name)
{
    struct lh_entry *entry = frame->found;

    frame->found = NULL;
    if (entry && !strcmp(lh_entry_k(entry), name)) {
        return entry;
    }
    return lh_table_lookup_entry(frame->table, name);
}

/*
 * The value NAME of the current container into *VALUE (NULL for JSON
 * null); false with an error when it is absent.  CONSUME marks it
 * visited, for the check_struct and check_list that follow; else the
 * member is remembered for the lookup that will consume it.
 * iv->found_key is the tree's copy of NAME (NULL when not in an object).
 */
static bool input_lookup(JsonInputVisitor *iv, const char *name, bool consume,
                         json_object **value, GError **errp)
{
    InputFrame *frame = iv->top;

    iv->found_key = NULL;
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
        struct lh_entry *entry;

        g_assert(name);
        entry = frame_member(frame, name);
        if (entry) {
            *value = (json_object *)lh_entry_v(entry);
            iv->found_key = lh_entry_k(entry);
            if (consume) {
                frame_visit(frame, entry);
            } else {
                frame->found = entry;
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
 * The string NAME, and its length into *LEN.  A C string would silently
 * end at an embedded NUL (\u0000), so a string holding one is refused.
 */
static bool input_get_string(JsonInputVisitor *iv, const char *name,
                             const char **str, size_t *len, GError **errp)
{
    json_object *value;

    if (!input_get(iv, name, json_type_string, "a string", &value, errp)) {
        return false;
    }
    *str = json_object_get_string(value);
    *len = (size_t)json_object_get_string_len(value);
    if (strlen(*str) != *len) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path, ": the string contains a NUL character");
        return false;
    }
    return true;
}

/*
 * Enter VALUE, which input_lookup() just found: its name in the parent
 * is iv->found_key, or NAME at the root.
 */
static InputFrame *input_push(JsonInputVisitor *iv, const char *name,
                              json_object *value)
{
    InputFrame *frame = iv->spare;

    if (frame) {
        iv->spare = frame->parent;
    } else {
        frame = g_new0(InputFrame, 1);
        frame->on_heap = true;
    }
    frame->parent = iv->top;
    frame->value = value;
    if (frame->parent) {
        frame->name = iv->found_key;
    } else {
        frame->name = NULL;
        g_free(iv->root_name);
        iv->root_name = g_strdup(name);
    }
    frame->is_list = false;
    frame->index = 0;
    frame->length = 0;
    frame->index_visited = false;
    frame->table = NULL;
    frame->found = NULL;
    iv->top = frame;
    return frame;
}

/* input_push() for an object: the visited bits, all clear. */
static void input_push_object(JsonInputVisitor *iv, const char *name,
                              json_object *value)
{
    InputFrame *frame = input_push(iv, name, value);
    size_t words;

    frame->table = json_object_get_object(value);
    g_assert(frame->table && frame->table->size > 0);
    frame->slots = (size_t)frame->table->size;
    frame->visited = 0;
    words = (frame->slots + BITS_PER_WORD - 1) / BITS_PER_WORD;
    if (words <= G_N_ELEMENTS(frame->inline_bits)) {
        frame->bits = frame->inline_bits;
    } else {
        if (frame->heap_words < words) {
            g_free(frame->heap_bits);
            frame->heap_bits = g_new(uint64_t, words);
            frame->heap_words = words;
        }
        frame->bits = frame->heap_bits;
    }
    memset(frame->bits, 0, words * sizeof(*frame->bits));
}

static void input_pop(JsonInputVisitor *iv)
{
    InputFrame *frame = iv->top;

    iv->top = frame->parent;
    frame->parent = iv->spare;
    iv->spare = frame;
    if (!iv->top) {
        g_free(iv->root_name);
        iv->root_name = NULL;
    }
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
    input_push_object(iv, name, value);
    if (obj) {
        *obj = g_malloc0(size);
    }
    return true;
}

static bool input_check_struct(Visitor *v, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    InputFrame *frame = iv->top;
    struct lh_entry *entry;

    g_assert(frame && !frame->is_list);
    if (frame->visited == (size_t)lh_table_length(frame->table)) {
        return true;
    }
    /* Name the first unknown member, in the order of the document. */
    lh_foreach(frame->table, entry)
    {
        if (!frame_visited(frame, entry)) {
            g_autofree char *frame_where = frame_path(iv, frame);
            g_autofree char *path =
                qapi_path_append(frame_where, false, 0, lh_entry_k(entry));
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

static GenericList *input_next_list(Visitor *v, GenericList *tail, size_t size)
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
    JsonInputVisitor *iv = to_input(v);
    InputFrame *frame = iv->top;
    size_t unvisited;

    g_assert(frame && frame->is_list);
    unvisited = frame->index + frame->index_visited;
    if (unvisited < frame->length) {
        g_autofree char *frame_where = frame_path(iv, frame);
        g_autofree char *path =
            qapi_path_append(frame_where, true, unvisited, NULL);
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
        /* Remembered for the visit of the member that usually follows. */
        frame->found = frame_member(frame, name);
        *present = frame->found != NULL;
    }
    return *present;
}

static bool input_policy_reject(Visitor *v, const char *name,
                                unsigned special_features, GError **errp)
{
    const char *refused = qapi_policy_refused(v->policy, special_features);
    bool present = true;
    g_autofree char *path = NULL;

    /* Only what the client sent is refused; an absent member is not. */
    if (!refused || !input_optional(v, name, &present)) {
        return false;
    }
    path = input_path(to_input(v), name);
    qapi_path_error(errp, path,
                    " is %s and refused by the compatibility "
                    "policy",
                    refused);
    return true;
}

static bool input_type_enum(Visitor *v, const char *name, int *obj,
                            const QEnumLookup *lookup, GError **errp)
{
    JsonInputVisitor *iv = to_input(v);
    const char *str;
    size_t len;
    const char *refused;
    int val;

    if (!input_get_string(iv, name, &str, &len, errp)) {
        return false;
    }
    val = qapi_enum_find(lookup, str);
    if (val < 0) {
        g_autofree char *path = input_path(iv, name);
        g_autofree char *expected = qapi_enum_expected(lookup);
        qapi_path_error(errp, path, ": '%s' is not a value of the enum%s", str,
                        expected);
        return false;
    }
    /* The input policy of visit_policy_reject(), applied to the value. */
    refused = lookup->special_features
        ? qapi_policy_refused(v->policy, lookup->special_features[val])
        : NULL;
    if (refused) {
        g_autofree char *path = input_path(iv, name);
        qapi_path_error(errp, path,
                        ": '%s' is %s and refused by the "
                        "compatibility policy",
                        str, refused);
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
        qapi_path_error(errp, path,
                        " is out of range for %s (%" PRId64 " to %" PRId64 ")",
                        type_name, min, max);
        return false;
    }
    *obj = i64;
    return true;
}

static bool input_type_uint(Visitor *v, const char *name, uint64_t *obj,
                            uint64_t max, const char *type_name, GError **errp)
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
        qapi_path_error(errp, path,
                        " is out of range for %s (0 to %" PRIu64 ")", type_name,
                        max);
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
    size_t len;

    *obj = NULL;
    if (!input_get_string(to_input(v), name, &str, &len, errp)) {
        return false;
    }
    /* g_strdup() without its strlen(): the length is known */
    *obj = g_malloc(len + 1);
    memcpy(*obj, str, len + 1);
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
    if (!input_get(to_input(v), name, json_type_null, "null", &value, errp)) {
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
    while (iv->spare) {
        InputFrame *frame = iv->spare;

        iv->spare = frame->parent;
        g_free(frame->heap_bits);
        if (frame->on_heap) {
            g_free(frame);
        }
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
    for (size_t i = 0; i < INLINE_FRAMES; i++) {
        iv->inline_frames[i].parent = iv->spare;
        iv->spare = &iv->inline_frames[i];
    }
    iv->root = json_object_get(obj);
    return &iv->visitor;
}
