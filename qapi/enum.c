/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: enum names.
 */
#include "visitor-impl.h"

#include <string.h>

/* More values than this make a message too long to be useful. */
#define ENUM_LIST_MAX 8

const char *qapi_enum_lookup(const QEnumLookup *lookup, int val)
{
    if (val < 0 || val >= lookup->size) {
        return NULL;
    }
    return lookup->array[val];
}

int qapi_enum_find(const QEnumLookup *lookup, const char *name)
{
    int i;

    for (i = 0; i < lookup->size; i++) {
        if (lookup->array[i] && !strcmp(lookup->array[i], name)) {
            return i;
        }
    }
    return -1;
}

char *qapi_enum_expected(const QEnumLookup *lookup)
{
    GString *text;
    int i;

    if (lookup->size <= 0 || lookup->size > ENUM_LIST_MAX) {
        return g_strdup("");
    }
    text = g_string_new(" (expected ");
    for (i = 0; i < lookup->size; i++) {
        if (i > 0) {
            g_string_append(text, i == lookup->size - 1 ? " or " : ", ");
        }
        g_string_append_printf(text, "'%s'", lookup->array[i]);
    }
    g_string_append_c(text, ')');
    return g_string_free(text, FALSE);
}

int qapi_enum_parse(const QEnumLookup *lookup, const char *name,
                    int default_value, GError **errp)
{
    g_autofree char *expected = NULL;
    int val;

    if (!name) {
        return default_value;
    }
    val = qapi_enum_find(lookup, name);
    if (val < 0) {
        expected = qapi_enum_expected(lookup);
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is not a value of the enum%s", name, expected);
    }
    return val;
}
