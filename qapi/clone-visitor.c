/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the clone visitor, for qapi_clone().
 *
 * The generated code walks the copy while it is being made: each
 * struct, list node and alternate is duplicated when entered, in place
 * of the pointer to the original, so the members visited next are the
 * copy's, still pointing into the original until their turn comes.
 * Scalars came along with their container.
 */
#include "visitor-impl.h"

static bool clone_start_struct(Visitor *v, const char *name, void **obj,
                               size_t size, GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    /* OBJ NULL: an alternate's object branch, copied with it. */
    if (obj && *obj) {
        *obj = g_memdup2(*obj, size);
    }
    return true;
}

static bool clone_start_list(Visitor *v, const char *name, GenericList **list,
                             size_t size, GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    if (*list) {
        *list = g_memdup2(*list, size);
    }
    return true;
}

static GenericList *clone_next_list(Visitor *v, GenericList *tail, size_t size)
{
    (void)v;
    if (tail->next) {
        tail->next = g_memdup2(tail->next, size);
    }
    return tail->next;
}

static bool clone_start_alternate(Visitor *v, const char *name,
                                  GenericAlternate **obj, size_t size,
                                  GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    if (*obj) {
        *obj = g_memdup2(*obj, size);
    }
    return true;
}

static bool clone_type_str(Visitor *v, const char *name, char **obj,
                           GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    *obj = g_strdup(*obj);
    return true;
}

static bool clone_type_any(Visitor *v, const char *name, json_object **obj,
                           GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    /* A reference of its own to the same tree (json-c values are shared
     * by reference counting, like any 'any' handed around). */
    *obj = json_object_get(*obj);
    return true;
}

static void clone_free(Visitor *v)
{
    g_free(v);
}

Visitor *qapi_clone_visitor_new(void)
{
    Visitor *v = g_new0(Visitor, 1);

    *v = (Visitor){
        .kind = VISITOR_CLONE,
        .start_struct = clone_start_struct,
        .start_list = clone_start_list,
        .next_list = clone_next_list,
        .start_alternate = clone_start_alternate,
        .type_str = clone_type_str,
        .type_any = clone_type_any,
        .free = clone_free,
    };
    return v;
}
