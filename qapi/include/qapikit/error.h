/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the QAPI error domain.
 *
 * Errors travel as GError in the QAPI_ERROR domain; the code is the QMP
 * error class (QapiErrorClass, generated from qapi/runtime/error.json; the constants
 * are QAPI_ERROR_CLASS_GENERICERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND, ...),
 * so a dispatcher turns any error into {"class": ..., "desc": ...}.
 * The convention for functions that fail is in qapikit/base.h.
 */
#ifndef QAPIKIT_ERROR_H
#define QAPIKIT_ERROR_H

#include <qapikit/base.h>
#include <qapikit/qapikit-qapi-types-error.h>

G_BEGIN_DECLS

#define QAPI_ERROR (qapi_error_quark())
QAPIKIT_API GQuark qapi_error_quark(void);

/*
 * The class of ERR for the wire: its code when ERR is in the QAPI domain
 * and the code is a valid class, else QAPI_ERROR_CLASS_GENERICERROR.
 */
QAPIKIT_API QapiErrorClass qapi_error_class(const GError *err);

/*
 * Set *ERRP (as g_set_error(): ERRP may be NULL, *ERRP must be NULL) to
 * an error of class CLS in the QAPI domain, its message FMT formatted:
 *
 *     qapi_error_setg(errp, QAPI_ERROR_CLASS_DEVICENOTFOUND,
 *                     "device '%s' not found", name);
 */
QAPIKIT_API void qapi_error_setg(GError **errp, QapiErrorClass cls,
                                 const char *fmt, ...) G_GNUC_PRINTF(3, 4);

G_END_DECLS

#endif /* QAPIKIT_ERROR_H */
