/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: introspection literals to json-c (docs/spec/qapi-language.md
 * §13.6), with the output policy applied for query-qmp-schema.
 */

/* The runtime logs in its own domain; the unit tests expect it. */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit"
#endif

#include <qapikit/introspect.h>
#include <qapikit/visitor.h>

#include "visitor-impl.h"

#include <string.h>

/*
 * FILTER: the policy whose output side drops dictionaries, NULL for
 * none.
 */
static json_object *convert(const QLitObject *obj,
                            const QapiCompatPolicy *filter);

/* DICT's value for KEY, or NULL; the last one wins, as in the output. */
static const QLitObject *dict_get(const QLitDictEntry *dict, const char *key)
{
    const QLitObject *found = NULL;

    for (; dict && dict->key; dict++) {
        if (!strcmp(dict->key, key)) {
            found = &dict->value;
        }
    }
    return found;
}

static const char *dict_get_str(const QLitDictEntry *dict, const char *key)
{
    const QLitObject *value = dict_get(dict, key);

    return value && value->type == QLIT_TYPE_STR ? value->value.str : NULL;
}

/* Whether OBJ is a dictionary POLICY's output side hides by its features. */
static bool hidden_by_policy(const QLitObject *obj,
                             const QapiCompatPolicy *policy)
{
    const QLitObject *features, *feature;
    unsigned mask = 0;

    if (obj->type != QLIT_TYPE_DICT) {
        return false;
    }
    features = dict_get(obj->value.dict, "features");
    if (!features || features->type != QLIT_TYPE_LIST) {
        return false;
    }
    for (feature = features->value.list;
         feature && feature->type != QLIT_TYPE_NONE; feature++) {
        if (feature->type != QLIT_TYPE_STR || !feature->value.str) {
            continue;
        }
        if (!strcmp(feature->value.str, "deprecated")) {
            mask |= 1u << QAPI_DEPRECATED;
        } else if (!strcmp(feature->value.str, "unstable")) {
            mask |= 1u << QAPI_UNSTABLE;
        }
    }
    return mask && qapi_policy_hides(policy, mask);
}

/*
 * LIST less, when filtering, the dictionaries the policy hides and the
 * strings in DROPPED (names of hidden enum members, for "values").
 */
static json_object *convert_list(const QLitObject *list,
                                 const QapiCompatPolicy *filter,
                                 GHashTable *dropped)
{
    json_object *array = json_object_new_array();

    for (; list && list->type != QLIT_TYPE_NONE; list++) {
        if (filter && hidden_by_policy(list, filter)) {
            continue;
        }
        if (dropped && list->type == QLIT_TYPE_STR && list->value.str
            && g_hash_table_contains(dropped, list->value.str)) {
            continue;
        }
        json_object_array_add(array, convert(list, filter));
    }
    return array;
}

/* The names of the members of the enum entry DICT that the policy hides. */
static GHashTable *hidden_enum_members(const QLitDictEntry *dict,
                                       const QapiCompatPolicy *policy)
{
    const char *meta_type = dict_get_str(dict, "meta-type");
    const QLitObject *members = dict_get(dict, "members");
    const QLitObject *member;
    GHashTable *names = NULL;

    if (!meta_type || strcmp(meta_type, "enum") || !members
        || members->type != QLIT_TYPE_LIST) {
        return NULL;
    }
    for (member = members->value.list; member && member->type != QLIT_TYPE_NONE;
         member++) {
        const char *name;

        if (!hidden_by_policy(member, policy)) {
            continue;
        }
        name = dict_get_str(member->value.dict, "name");
        if (name) {
            if (!names) {
                names = g_hash_table_new(g_str_hash, g_str_equal);
            }
            /* The literal outlives the table: no copies. */
            g_hash_table_add(names, (char *)name);
        }
    }
    return names;
}

static json_object *convert_dict(const QLitDictEntry *dict,
                                 const QapiCompatPolicy *filter)
{
    g_autoptr(GHashTable) dropped =
        filter ? hidden_enum_members(dict, filter) : NULL;
    json_object *object = json_object_new_object();

    for (; dict && dict->key; dict++) {
        json_object *value;

        if (dropped && dict->value.type == QLIT_TYPE_LIST
            && !strcmp(dict->key, "values")) {
            value = convert_list(dict->value.value.list, filter, dropped);
        } else {
            value = convert(&dict->value, filter);
        }
        json_object_object_add(object, dict->key, value);
    }
    return object;
}

static json_object *convert(const QLitObject *obj,
                            const QapiCompatPolicy *filter)
{
    switch (obj->type) {
    case QLIT_TYPE_NULL:
        return NULL;
    case QLIT_TYPE_INT:
        return json_object_new_int64(obj->value.num);
    case QLIT_TYPE_BOOL:
        return json_object_new_boolean(obj->value.boolean);
    case QLIT_TYPE_STR:
        g_return_val_if_fail(obj->value.str != NULL, NULL);
        return json_object_new_string(obj->value.str);
    case QLIT_TYPE_DICT:
        return convert_dict(obj->value.dict, filter);
    case QLIT_TYPE_LIST:
        return convert_list(obj->value.list, filter, NULL);
    case QLIT_TYPE_NONE:
        break;
    }
    g_critical("a QLitObject of type %d is not a value", (int)obj->type);
    return NULL;
}

json_object *qlit_to_json(const QLitObject *obj)
{
    g_return_val_if_fail(obj != NULL, NULL);

    return convert(obj, NULL);
}

json_object *qapi_introspect_schema(const QLitObject *schema,
                                    const QapiCompatPolicy *policy)
{
    g_return_val_if_fail(schema != NULL, NULL);

    return convert(schema, policy ? policy : qapi_compat_policy_get());
}
