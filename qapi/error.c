/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the QAPI error domain.
 */
#include <qapikit/error.h>

GQuark qapi_error_quark(void)
{
    return g_quark_from_static_string("qapi-error-quark");
}

QapiErrorClass qapi_error_class(const GError *err)
{
    if (err && err->domain == QAPI_ERROR && err->code >= 0
        && err->code < QAPI_ERROR_CLASS__MAX) {
        return (QapiErrorClass)err->code;
    }
    return QAPI_ERROR_CLASS_GENERICERROR;
}
