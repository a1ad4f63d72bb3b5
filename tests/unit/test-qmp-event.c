/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: building and delivering events (docs/spec/qmp-protocol.md §9,
 * docs/spec/qapi-language.md §3.6, §13.5).
 */
#include "json-test-util.h"
#include <qapikit/event.h>

#include <string.h>

static json_object *member(json_object *obj, const char *name)
{
    json_object *value = NULL;

    g_assert_true(json_object_object_get_ex(obj, name, &value));
    return value;
}

/*
 * EVENT's timestamp is a time between BEFORE and AFTER (µs since the
 * epoch), split as docs/spec/qmp-protocol.md §9/2 says.
 */
static void assert_timestamp(json_object *event, gint64 before, gint64 after)
{
    json_object *timestamp = member(event, "timestamp");
    json_object *seconds, *micro;
    gint64 when;

    json_test_assert_members(timestamp, "seconds,microseconds");
    seconds = member(timestamp, "seconds");
    micro = member(timestamp, "microseconds");
    g_assert_cmpint(json_object_get_type(seconds), ==, json_type_int);
    g_assert_cmpint(json_object_get_type(micro), ==, json_type_int);
    g_assert_cmpint(json_object_get_int64(micro), >=, 0);
    g_assert_cmpint(json_object_get_int64(micro), <=, 999999);
    when = json_object_get_int64(seconds) * G_USEC_PER_SEC
        + json_object_get_int64(micro);
    g_assert_cmpint(when, >=, before);
    g_assert_cmpint(when, <=, after);
    /* Sanity: after 2020-01-01, i.e. real wall-clock time. */
    g_assert_cmpint(json_object_get_int64(seconds), >, 1577836800);
}

static void test_build_with_data(void)
{
    json_object *data = json_object_new_object();
    json_object *event;
    gint64 before, after;

    json_object_object_add(data, "guest", json_object_new_boolean(false));
    json_object_object_add(data, "reason",
                           json_object_new_string("host-qmp-quit"));
    json_object_get(data); /* to watch what becomes of it */

    before = g_get_real_time();
    event = qapi_event_build("SHUTDOWN", data);
    after = g_get_real_time();

    json_test_assert_members(event, "event,data,timestamp");
    g_assert_cmpstr(json_object_get_string(member(event, "event")), ==,
                    "SHUTDOWN");
    g_assert_true(member(event, "data") == data);
    g_assert_cmpstr(
        json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), ==,
        "{\"guest\":false,\"reason\":\"host-qmp-quit\"}");
    assert_timestamp(event, before, after);

    /* The event took the caller's reference: ours is the last but one. */
    g_assert_cmpint(json_object_put(data), ==, 0);
    g_assert_cmpint(json_object_put(event), ==, 1);
}

static void test_build_without_data(void)
{
    json_object *data = json_object_new_object();
    json_object *event;
    gint64 before, after;

    before = g_get_real_time();
    event = qapi_event_build("STOP", NULL);
    after = g_get_real_time();
    json_test_assert_members(event, "event,timestamp");
    g_assert_cmpstr(json_object_get_string(member(event, "event")), ==, "STOP");
    assert_timestamp(event, before, after);
    json_object_put(event);

    /* An empty object is left out, and its reference dropped. */
    json_object_get(data);
    before = g_get_real_time();
    event = qapi_event_build("STOP", data);
    after = g_get_real_time();
    json_test_assert_members(event, "event,timestamp");
    assert_timestamp(event, before, after);
    json_object_put(event);
    g_assert_cmpint(json_object_put(data), ==, 1);

    /* An object whose members are null is not empty. */
    data = json_object_new_object();
    json_object_object_add(data, "x", NULL);
    event = qapi_event_build("X", data);
    json_test_assert_members(event, "event,data,timestamp");
    json_object_put(event);
}

static void test_build_misuse(void)
{
    json_object *data = json_object_new_object();

    json_object_object_add(data, "a", json_object_new_int(1));
    json_object_get(data);
    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL, "*");
    g_assert_null(qapi_event_build(NULL, data));
    g_test_assert_expected_messages();
    /* DATA's reference is taken even then. */
    g_assert_cmpint(json_object_put(data), ==, 1);
}

/* Every event an emitter received. */
typedef struct Received {
    GPtrArray *names;
    GPtrArray *events; /* references, taken by the emitter */
} Received;

static void record_event(const char *name, json_object *event, void *opaque)
{
    Received *received = opaque;

    g_ptr_array_add(received->names, g_strdup(name));
    g_ptr_array_add(received->events, json_object_get(event));
}

static void put_event(gpointer event)
{
    json_object_put(event);
}

static void received_init(Received *received)
{
    received->names = g_ptr_array_new_with_free_func(g_free);
    received->events = g_ptr_array_new_with_free_func(put_event);
}

static void received_clear(Received *received)
{
    g_ptr_array_unref(received->names);
    g_ptr_array_unref(received->events);
}

static void test_deliver(void)
{
    Received received, other;
    json_object *event = qapi_event_build("STOP", NULL);

    received_init(&received);
    received_init(&other);

    /* No emitter: dropped. */
    qapi_event_set_emitter(NULL, NULL);
    qapi_event_deliver("STOP", event);

    qapi_event_set_emitter(record_event, &received);
    qapi_event_deliver("STOP", event);
    qapi_event_deliver("RESUME", event);
    g_assert_cmpuint(received.names->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(received.names, 0), ==, "STOP");
    g_assert_cmpstr(g_ptr_array_index(received.names, 1), ==, "RESUME");
    g_assert_true(g_ptr_array_index(received.events, 0) == event);

    /* Another emitter replaces the first. */
    qapi_event_set_emitter(record_event, &other);
    qapi_event_deliver("STOP", event);
    g_assert_cmpuint(received.names->len, ==, 2);
    g_assert_cmpuint(other.names->len, ==, 1);

    /* And NULL drops events again. */
    qapi_event_set_emitter(NULL, NULL);
    qapi_event_deliver("STOP", event);
    g_assert_cmpuint(received.names->len, ==, 2);
    g_assert_cmpuint(other.names->len, ==, 1);

    /* The event was lent: the emitters' references are the only others. */
    received_clear(&received);
    received_clear(&other);
    g_assert_cmpint(json_object_put(event), ==, 1);
}

static int reentrant_calls;

/* An emitter that uninstalls itself while it runs. */
static void emit_once(const char *name, json_object *event, void *opaque)
{
    (void)name;
    (void)event;
    g_assert_true(opaque == &reentrant_calls);
    reentrant_calls++;
    qapi_event_set_emitter(NULL, NULL);
}

static void test_deliver_reentrant(void)
{
    json_object *event = qapi_event_build("STOP", NULL);

    qapi_event_set_emitter(emit_once, &reentrant_calls);
    qapi_event_deliver("STOP", event);
    qapi_event_deliver("STOP", event);
    g_assert_cmpint(reentrant_calls, ==, 1);
    json_object_put(event);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/qmp-event/build/with-data", test_build_with_data);
    g_test_add_func("/qmp-event/build/without-data", test_build_without_data);
    g_test_add_func("/qmp-event/build/misuse", test_build_misuse);
    g_test_add_func("/qmp-event/deliver", test_deliver);
    g_test_add_func("/qmp-event/deliver-reentrant", test_deliver_reentrant);

    return g_test_run();
}
