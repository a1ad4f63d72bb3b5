/* SPDX-License-Identifier: MIT */
/*
 * The C generated with --compat 2012 (docs/spec/qapi-language.md §11/7) for
 * disks-2012.json: inline anonymous structs are nested C structs held by
 * value, visited as nested JSON objects with the same strictness as any
 * struct, and errors name their path ('geometry.layout.sectors').
 */
#include <string.h>

#include <json-c/json.h>
#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/visitor.h>

#include "qapi-commands.h"
#include "qapi-init-commands.h"
#include "qapi-types.h"
#include "qapi-visit.h"

/* Two slots: a disk with every member, and one with none optional. */
static const char full_rack[] =
    "{\"slots\": ["
    "{\"position\": {\"row\": 1, \"column\": 2},"
    " \"disk\": {\"name\": \"sda\","
    "  \"geometry\": {\"cylinders\": 1024, \"heads\": 16,"
    "   \"layout\": {\"sectors\": 63, \"shade\": \"dark\"}},"
    "  \"cache\": {\"size\": 4096, \"label\": {\"text\": \"fast\"},"
    "   \"writeback\": true},"
    "  \"tags\": [\"boot\", \"ssd\"]}},"
    "{\"position\": {\"row\": 3, \"column\": 0},"
    " \"disk\": {\"name\": \"sdb\","
    "  \"geometry\": {\"cylinders\": 8, \"heads\": 2,"
    "   \"layout\": {\"sectors\": 32, \"shade\": \"light\"}}}}"
    "]}";

static json_object *parse(const char *text)
{
    json_object *obj = json_tokener_parse(text);

    g_assert_nonnull(obj);
    return obj;
}

/* TEXT read as a RackInfo; NULL with *ERRP set on failure. */
static RackInfo *rack_from_text(const char *text, GError **errp)
{
    json_object *doc = parse(text);
    Visitor *v = qapi_json_input_visitor_new(doc);
    RackInfo *rack = NULL;

    if (!visit_type_RackInfo(v, NULL, &rack, errp)) {
        g_assert_null(rack);
    }
    visit_free(v);
    json_object_put(doc);
    return rack;
}

static json_object *rack_to_json(RackInfo *rack)
{
    g_autoptr(GError) err = NULL;
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = NULL;

    g_assert_true(visit_type_RackInfo(v, NULL, &rack, &err));
    g_assert_no_error(err);
    visit_complete(v, &out);
    visit_free(v);
    return out;
}

static void assert_json_equal(json_object *actual, const char *expected)
{
    json_object *want = parse(expected);

    if (!json_object_equal(actual, want)) {
        g_error("got %s\nexpected %s",
                json_object_to_json_string_ext(actual, JSON_C_TO_STRING_PLAIN),
                json_object_to_json_string_ext(want, JSON_C_TO_STRING_PLAIN));
    }
    json_object_put(want);
}

/* Every member lands in its nested C struct, and goes back out unchanged. */
static void test_round_trip(void)
{
    g_autoptr(GError) err = NULL;
    RackInfo *rack = rack_from_text(full_rack, &err);
    RackSlot *first, *second;
    json_object *out;

    g_assert_no_error(err);
    g_assert_nonnull(rack);
    first = rack->slots->value;
    second = rack->slots->next->value;
    g_assert_null(rack->slots->next->next);

    /* an inline struct inside a list element */
    g_assert_cmpint(first->position.row, ==, 1);
    g_assert_cmpint(first->position.column, ==, 2);
    /* two levels deep */
    g_assert_cmpstr(first->disk->name, ==, "sda");
    g_assert_cmpint(first->disk->geometry.cylinders, ==, 1024);
    g_assert_cmpint(first->disk->geometry.heads, ==, 16);
    g_assert_cmpint(first->disk->geometry.layout.sectors, ==, 63);
    g_assert_cmpint(first->disk->geometry.layout.shade, ==, DISK_SHADE_DARK);
    /* an optional inline struct, present, with optional members */
    g_assert_true(first->disk->has_cache);
    g_assert_cmpuint(first->disk->cache.size, ==, 4096);
    g_assert_cmpstr(first->disk->cache.label->text, ==, "fast");
    g_assert_true(first->disk->cache.has_writeback);
    g_assert_true(first->disk->cache.writeback);
    g_assert_cmpstr(first->disk->tags->next->value, ==, "ssd");
    /* ... and absent */
    g_assert_cmpint(second->position.row, ==, 3);
    g_assert_false(second->disk->has_cache);
    g_assert_null(second->disk->cache.label);
    g_assert_null(second->disk->tags);

    out = rack_to_json(rack);
    assert_json_equal(out, full_rack);
    json_object_put(out);
    qapi_free_RackInfo(rack);
}

/* A deep copy copies what the nested structs point to. */
static void test_clone(void)
{
    g_autoptr(GError) err = NULL;
    RackInfo *rack = rack_from_text(full_rack, &err);
    RackInfo *copy;
    json_object *out;

    g_assert_no_error(err);
    copy = QAPI_CLONE(RackInfo, rack);
    g_assert_true(copy->slots->value->disk->cache.label
                  != rack->slots->value->disk->cache.label);
    qapi_free_RackInfo(rack);
    out = rack_to_json(copy);
    assert_json_equal(out, full_rack);
    json_object_put(out);
    qapi_free_RackInfo(copy);
}

/* Built in C: an optional inline struct is sent only when has_ is set. */
static void test_output_from_c(void)
{
    DiskInfo disk = {
        .name = (char *)"hd0",
        .geometry = { .cylinders = 1,
                      .heads = 2,
                      .layout = { .sectors = 3, .shade = DISK_SHADE_LIGHT } },
        .cache = { .size = 99 }, /* has_cache false: not sent */
    };
    RackSlot slot = { .position = { .row = 7, .column = 8 }, .disk = &disk };
    RackSlotList slots = { .value = &slot };
    RackInfo rack = { .slots = &slots };
    json_object *out = rack_to_json(&rack);

    assert_json_equal(
        out,
        "{\"slots\": [{\"position\": {\"row\": 7, \"column\": 8},"
        " \"disk\": {\"name\": \"hd0\", \"geometry\": {\"cylinders\": 1,"
        " \"heads\": 2, \"layout\": {\"sectors\": 3, \"shade\": "
        "\"light\"}}}}]}");
    json_object_put(out);

    disk.has_cache = true;
    out = rack_to_json(&rack);
    g_assert_cmpint(json_object_get_int(json_object_object_get(
                        json_object_object_get(
                            json_object_object_get(
                                json_object_array_get_idx(
                                    json_object_object_get(out, "slots"), 0),
                                "disk"),
                            "cache"),
                        "size")),
                    ==, 99);
    json_object_put(out);
}

typedef struct BadCase {
    const char *what;
    const char *text;
    const char *message;
} BadCase;

/* Nested members are checked like any struct's, and errors name the path. */
static const BadCase bad_cases[] = {
    { "missing-two-levels-deep",
      "{\"slots\": [{\"position\": {\"row\": 1, \"column\": 2},"
      " \"disk\": {\"name\": \"a\", \"geometry\": {\"cylinders\": 1,"
      " \"heads\": 1, \"layout\": {\"shade\": \"dark\"}}}}]}",
      "'slots[0].disk.geometry.layout.sectors' is missing" },
    { "unknown-in-optional",
      "{\"slots\": [{\"position\": {\"row\": 1, \"column\": 2},"
      " \"disk\": {\"name\": \"a\", \"geometry\": {\"cylinders\": 1,"
      " \"heads\": 1, \"layout\": {\"sectors\": 1, \"shade\": \"dark\"}},"
      " \"cache\": {\"size\": 1, \"colour\": \"red\"}}}]}",
      "'slots[0].disk.cache.colour' is not an expected member" },
    { "missing-in-list-element",
      "{\"slots\": [{\"position\": {\"column\": 2}, \"disk\": {}}]}",
      "'slots[0].position.row' is missing" },
    { "unknown-in-list-element",
      "{\"slots\": [{\"position\": {\"row\": 1, \"column\": 2, \"x\": 0},"
      " \"disk\": {}}]}",
      "'slots[0].position.x' is not an expected member" },
    { "not-an-object", "{\"slots\": [{\"position\": [1, 2], \"disk\": {}}]}",
      "'slots[0].position': expected an object, got an array" },
    { "wrong-type-nested",
      "{\"slots\": [{\"position\": {\"row\": \"one\", \"column\": 2},"
      " \"disk\": {}}]}",
      "'slots[0].position.row': expected an integer, got a string" },
};

static void test_bad_input(gconstpointer data)
{
    const BadCase *kase = data;
    g_autoptr(GError) err = NULL;
    RackInfo *rack = rack_from_text(kase->text, &err);

    g_assert_null(rack);
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_cmpstr(err->message, ==, kase->message);
}

/* The handlers of disks-2012.json's generated commands. */

RackInfo *qmp_query_rack(GError **errp)
{
    return rack_from_text(full_rack, errp);
}

int64_t qmp_add_disk(RackSlot *slot, GError **errp)
{
    if (slot->disk->geometry.layout.sectors == 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "a disk needs sectors");
        return 0;
    }
    return slot->position.row * 10 + slot->position.column;
}

/*
 * A handler without result returns false exactly when it sets an error;
 * this one breaks the contract on request, for test_handler_contract().
 */
bool qmp_eject_disk(const char *name, GError **errp)
{
    if (!strcmp(name, "false-without-error")) {
        return false;
    }
    if (!strcmp(name, "true-with-error")) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "ejected anyway");
        return true;
    }
    if (!strcmp(name, "busy")) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICEINUSE,
                    "disk '%s' is busy", name);
        return false;
    }
    return true;
}

static json_object *dispatch(QmpCommandList *cmds, const char *request)
{
    json_object *req = parse(request);
    json_object *resp = qmp_dispatch(cmds, req, false);

    json_object_put(req);
    return resp;
}

/* The commands, through the generated marshallers. */
static void test_dispatch(void)
{
    QmpCommandList *cmds = qmp_command_list_new();
    json_object *resp;

    qmp_init_marshal(cmds);
    /* 'gen': 'no' and unchecked: never registered */
    g_assert_null(qmp_find_command(cmds, "disk-property"));

    resp = dispatch(cmds, "{\"execute\": \"query_rack\"}");
    assert_json_equal(json_object_object_get(resp, "return"), full_rack);
    json_object_put(resp);

    resp = dispatch(cmds,
                    "{\"execute\": \"add_disk\", \"arguments\":"
                    " {\"slot\": {\"position\": {\"row\": 4, \"column\": 5},"
                    " \"disk\": {\"name\": \"c\", \"geometry\":"
                    " {\"cylinders\": 1, \"heads\": 1, \"layout\":"
                    " {\"sectors\": 9, \"shade\": \"light\"}}}}}}");
    assert_json_equal(resp, "{\"return\": 45}");
    json_object_put(resp);

    resp = dispatch(cmds,
                    "{\"execute\": \"add_disk\", \"arguments\":"
                    " {\"slot\": {\"position\": {\"row\": 4},"
                    " \"disk\": {}}}}");
    assert_json_equal(resp,
                      "{\"error\": {\"class\": \"GenericError\","
                      " \"desc\": \"'slot.position.column' is missing\"}}");
    json_object_put(resp);
    qmp_command_list_free(cmds);
}

/* The marshaller honours a bool handler's result (§13.4/2). */
static void test_handler_contract(void)
{
    static const char internal[] =
        "{\"error\": {\"class\": \"GenericError\", \"desc\": \"internal "
        "error: the handler of command 'eject_disk' broke the error "
        "convention\"}}";
    QmpCommandList *cmds = qmp_command_list_new();
    json_object *resp;

    qmp_init_marshal(cmds);
    resp = dispatch(cmds,
                    "{\"execute\": \"eject_disk\", \"arguments\":"
                    " {\"name\": \"sda\"}}");
    assert_json_equal(resp, "{\"return\": {}}");
    json_object_put(resp);
    resp = dispatch(cmds,
                    "{\"execute\": \"eject_disk\", \"arguments\":"
                    " {\"name\": \"busy\"}}");
    assert_json_equal(resp,
                      "{\"error\": {\"class\": \"DeviceInUse\","
                      " \"desc\": \"disk 'busy' is busy\"}}");
    json_object_put(resp);

    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL,
                          "*handler of command 'eject_disk' returned false "
                          "without setting an error*");
    resp = dispatch(cmds,
                    "{\"execute\": \"eject_disk\", \"arguments\":"
                    " {\"name\": \"false-without-error\"}}");
    g_test_assert_expected_messages();
    assert_json_equal(resp, internal);
    json_object_put(resp);

    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL,
                          "*handler of command 'eject_disk' returned true "
                          "but set an error: ejected anyway*");
    resp = dispatch(cmds,
                    "{\"execute\": \"eject_disk\", \"arguments\":"
                    " {\"name\": \"true-with-error\"}}");
    g_test_assert_expected_messages();
    assert_json_equal(resp, internal);
    json_object_put(resp);
    qmp_command_list_free(cmds);
}

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/compat-2012/round-trip", test_round_trip);
    g_test_add_func("/compat-2012/clone", test_clone);
    g_test_add_func("/compat-2012/output-from-c", test_output_from_c);
    for (i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/compat-2012/bad-input/%s", bad_cases[i].what);

        g_test_add_data_func(path, &bad_cases[i], test_bad_input);
    }
    g_test_add_func("/compat-2012/dispatch", test_dispatch);
    g_test_add_func("/compat-2012/handler-contract", test_handler_contract);
    return g_test_run();
}
