/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the dealloc visitor, which frees what it visits.
 *
 * Containers are freed on the way out, after their contents; scalars
 * need nothing, they live in their container.  Every pointer may be
 * NULL: after an input error, objects are only partly built.
 */
#include "visitor-impl.h"

static void dealloc_end_struct(Visitor *v, void **obj)
{
    (void)v;
    if (obj) {
        g_clear_pointer(obj, g_free);
    }
}

static GenericList *dealloc_next_list(Visitor *v, GenericList *tail,
                                      size_t size)
{
    (void)v;
    (void)size;
    return tail->next;
}

static void dealloc_end_list(Visitor *v, void **list)
{
    GenericList *node = *list;

    (void)v;
    while (node) {
        GenericList *next = node->next;

        g_free(node);
        node = next;
    }
    *list = NULL;
}

static void dealloc_end_alternate(Visitor *v, void **obj)
{
    (void)v;
    g_clear_pointer(obj, g_free);
}

static bool dealloc_type_str(Visitor *v, const char *name, char **obj,
                             GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    g_clear_pointer(obj, g_free);
    return true;
}

static bool dealloc_type_any(Visitor *v, const char *name, json_object **obj,
                             GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    json_object_put(*obj);
    *obj = NULL;
    return true;
}

static bool dealloc_type_null(Visitor *v, const char *name, QapiNull **obj,
                              GError **errp)
{
    (void)v;
    (void)name;
    (void)errp;
    *obj = NULL; /* the shared instance is never freed */
    return true;
}

static void dealloc_free(Visitor *v)
{
    (void)v; /* the one shared instance */
}

/*
 * The dealloc visitor keeps no state, so one instance serves every
 * caller, on every thread: freeing a value costs no allocation of its
 * own.  Nothing writes to it (visit_set_policy() leaves it alone).
 */
static Visitor dealloc_visitor = {
    .kind = VISITOR_DEALLOC,
    .next_list = dealloc_next_list,
    .end_struct = dealloc_end_struct,
    .end_list = dealloc_end_list,
    .end_alternate = dealloc_end_alternate,
    .type_str = dealloc_type_str,
    .type_any = dealloc_type_any,
    .type_null = dealloc_type_null,
    .free = dealloc_free,
};

Visitor *qapi_dealloc_visitor_new(void)
{
    return &dealloc_visitor;
}
