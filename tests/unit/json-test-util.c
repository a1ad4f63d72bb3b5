/* SPDX-License-Identifier: MIT */
#include "json-test-util.h"

#include <glib.h>

char *json_test_member_names(json_object *obj)
{
    GString *names = g_string_new(NULL);

    g_assert_true(json_object_is_type(obj, json_type_object));
    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        g_string_append_printf(names, "%s%s", names->len ? "," : "", key);
    }
    return g_string_free(names, FALSE);
}

void json_test_assert_members(json_object *obj, const char *expected)
{
    g_autofree char *names = json_test_member_names(obj);

    g_assert_cmpstr(names, ==, expected);
}
