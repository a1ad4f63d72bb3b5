/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: events (docs/spec/qmp-protocol.md §9).
 */

/* The runtime logs in its own domain; the unit tests expect it. */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit"
#endif

#include <qapikit/event.h>

/* Everything runs on one GMainContext (docs/spec/architecture.md): no lock. */
static QapiEventEmitter event_emitter;
static void *event_emitter_opaque;

void qapi_event_set_emitter(QapiEventEmitter emitter, void *opaque)
{
    event_emitter = emitter;
    event_emitter_opaque = opaque;
}

static json_object *timestamp_now(void)
{
    gint64 now = g_get_real_time();
    /* Floor division keeps the microseconds in 0..999999 before 1970. */
    gint64 seconds = now / G_USEC_PER_SEC;
    gint64 micro = now % G_USEC_PER_SEC;
    json_object *timestamp = json_object_new_object();

    if (micro < 0) {
        micro += G_USEC_PER_SEC;
        seconds--;
    }
    json_object_object_add(timestamp, "seconds",
                           json_object_new_int64(seconds));
    json_object_object_add(timestamp, "microseconds",
                           json_object_new_int64(micro));
    return timestamp;
}

json_object *qapi_event_build(const char *name, json_object *data)
{
    json_object *event;

    if (!name) {
        json_object_put(data);
        g_return_val_if_reached(NULL);
    }

    event = json_object_new_object();
    json_object_object_add(event, "event", json_object_new_string(name));
    if (data
        && !(json_object_is_type(data, json_type_object)
             && json_object_object_length(data) == 0)) {
        json_object_object_add(event, "data", data);
    } else {
        json_object_put(data);
    }
    json_object_object_add(event, "timestamp", timestamp_now());
    return event;
}

void qapi_event_deliver(const char *name, json_object *event)
{
    if (event_emitter) {
        event_emitter(name, event, event_emitter_opaque);
    }
}
