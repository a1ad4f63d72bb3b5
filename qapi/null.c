/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the C value of the schema type 'null'.
 */
#include <qapikit/base.h>

/* Only its address matters. */
struct QapiNull {
    char unused;
};

static QapiNull qapi_null_instance;

QapiNull *qapi_null_get(void)
{
    return &qapi_null_instance;
}
