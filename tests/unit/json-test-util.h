/* SPDX-License-Identifier: MIT */
/* Helpers the unit tests share for looking at json-c values. */
#ifndef JSON_TEST_UTIL_H
#define JSON_TEST_UTIL_H

#include <json-c/json.h>

/* OBJ's member names in order, comma-separated (a new string). */
char *json_test_member_names(json_object *obj);

/* Assert that OBJ's member names, in order, are EXPECTED ("a,b,c"). */
void json_test_assert_members(json_object *obj, const char *expected);

#endif /* JSON_TEST_UTIL_H */
