/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the QAPI error domain.
 */
#include <qapikit/error.h>

GQuark qapi_error_quark(void)
{
    return g_quark_from_static_string("qapi-error-quark");
}

void qapi_error_setg(GError **errp, QapiErrorClass cls, const char *fmt, ...)
{
    va_list ap;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    g_propagate_error(errp, g_error_new_valist(QAPI_ERROR, (gint)cls, fmt, ap));
    va_end(ap);
}

QapiErrorClass qapi_error_class(const GError *err)
{
    if (err && err->domain == QAPI_ERROR && err->code >= 0
        && err->code < QAPI_ERROR_CLASS__MAX) {
        return (QapiErrorClass)err->code;
    }
    return QAPI_ERROR_CLASS_GENERICERROR;
}
