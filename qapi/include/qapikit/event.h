/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: events (docs/spec/qapi-language.md §3.6/2, §13.5).
 *
 * A generated qapi_event_send_NAME() builds the event object with
 * qapi_event_build() and hands it to the schema's qapi_event_emit(),
 * which calls the emitter the application installed here.
 */
#ifndef QAPIKIT_EVENT_H
#define QAPIKIT_EVENT_H

#include <qapikit/base.h>

G_BEGIN_DECLS

/*
 * An application's event hook: NAME is the event's name, EVENT the whole
 * event object {"event", "data"?, "timestamp"}, lent for the call.
 */
typedef void (*QapiEventEmitter)(const char *name, json_object *event,
                                 void *opaque);

/* Install EMITTER (NULL: drop events).  Process-wide. */
QAPIKIT_API void qapi_event_set_emitter(QapiEventEmitter emitter, void *opaque);

/*
 * {"event": NAME, "data": DATA, "timestamp": {"seconds": S,
 * "microseconds": U}}, members in that order, with the wall-clock time
 * of g_get_real_time(): S is floor(time in µs / 10^6), U the remainder in
 * 0..999999.  "data" is left out when DATA is NULL or an empty object.
 * Takes DATA's reference.  A new json-c object.
 */
QAPIKIT_API json_object *qapi_event_build(const char *name, json_object *data);

/* Pass EVENT (lent) to the installed emitter, if any. */
QAPIKIT_API void qapi_event_deliver(const char *name, json_object *event);

G_END_DECLS

#endif /* QAPIKIT_EVENT_H */
