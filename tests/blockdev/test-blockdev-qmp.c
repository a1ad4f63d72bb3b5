/* SPDX-License-Identifier: MIT */
/*
 * The QMP handlers of qapi/block.json through qmp_dispatch(), as
 * clients use them: query-block's shape (docs/spec/block-qmp.md), the three
 * snapshot commands with their error classes on the wire, transaction
 * (abort, empty, unknown action types), and the BLOCK_SNAPSHOT_GROUP
 * event.
 */
#include <string.h>

#include <json-c/json.h>

#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/event.h>
#include <qapikit/visitor.h>

#include "blockdev-test-util.h"
#include "qapi-commands-block.h"
#include "qapi-visit-block.h"

typedef struct Fixture {
    TestDisks disks;
    QmpCommandList *cmds;
    GPtrArray *events; /* the event objects, as JSON text */
} Fixture;

static void record_event(const char *name, json_object *event, void *opaque)
{
    Fixture *f = opaque;

    (void)name;
    g_ptr_array_add(
        f->events,
        g_strdup(json_object_to_json_string_ext(
            json_object_object_get(event, "data"),
            JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
}

static void fixture_init(Fixture *f, size_t n)
{
    test_disks_init(&f->disks, n, true);
    f->cmds = qmp_command_list_new();
    qmp_command_list_set_opaque(f->cmds, f->disks.reg);
    qmp_register_command(f->cmds, "query-block", qmp_marshal_query_block, 0, 0);
    qmp_register_command(f->cmds, "blockdev-snapshot-sync",
                         qmp_marshal_blockdev_snapshot_sync, 0, 0);
    qmp_register_command(f->cmds, "blockdev-group-snapshot-sync",
                         qmp_marshal_blockdev_group_snapshot_sync, 0, 0);
    qmp_register_command(f->cmds, "transaction", qmp_marshal_transaction, 0, 0);
    f->events = g_ptr_array_new_with_free_func(g_free);
    qapi_event_set_emitter(record_event, f);
}

static void fixture_cleanup(Fixture *f)
{
    qapi_event_set_emitter(NULL, NULL);
    g_ptr_array_free(f->events, true);
    qmp_command_list_free(f->cmds);
    test_disks_cleanup(&f->disks);
}

/* Dispatch the request TEXT (printf format, JSON with ' for "). */
static json_object *G_GNUC_PRINTF(2, 3)
    execute(Fixture *f, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *text = NULL;
    json_object *request, *response;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_strdelimit(text, "'", '"');
    request = json_tokener_parse(text);
    g_assert_nonnull(request);
    response = qmp_dispatch(f->cmds, request, false);
    json_object_put(request);
    g_assert_nonnull(response);
    return response;
}

static void assert_success(json_object *response)
{
    json_object *ret;

    if (!json_object_object_get_ex(response, "return", &ret)) {
        g_error("expected success: %s", json_object_to_json_string(response));
    }
    g_assert_true(json_object_is_type(ret, json_type_object));
    g_assert_cmpint(json_object_object_length(ret), ==, 0);
    json_object_put(response);
}

/* An error reply of CLASS whose desc starts with DESC_PREFIX. */
static void assert_error(json_object *response, const char *class_name,
                         const char *desc_prefix)
{
    json_object *error, *member;

    if (!json_object_object_get_ex(response, "error", &error)) {
        g_error("expected an error: %s", json_object_to_json_string(response));
    }
    g_assert_true(json_object_object_get_ex(error, "class", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, class_name);
    g_assert_true(json_object_object_get_ex(error, "desc", &member));
    if (!g_str_has_prefix(json_object_get_string(member), desc_prefix)) {
        g_error("desc '%s' does not start with '%s'",
                json_object_get_string(member), desc_prefix);
    }
    json_object_put(response);
}

static int compare_str_ptr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *sorted_keys(json_object *obj)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    GString *out = g_string_new(NULL);

    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        g_ptr_array_add(keys, key);
    }
    g_ptr_array_sort(keys, compare_str_ptr);
    for (guint i = 0; i < keys->len; i++) {
        g_string_append_printf(out, "%s%s", i ? "," : "",
                               (char *)keys->pdata[i]);
    }
    return g_string_free(out, false);
}

static const char *str_member(json_object *obj, const char *key)
{
    json_object *value;

    g_assert_true(json_object_object_get_ex(obj, key, &value));
    return json_object_get_string(value);
}

static int64_t int_member(json_object *obj, const char *key)
{
    json_object *value;

    g_assert_true(json_object_object_get_ex(obj, key, &value));
    g_assert_true(json_object_is_type(value, json_type_int));
    return json_object_get_int64(value);
}

static void test_query_block(void)
{
    Fixture f;
    json_object *response, *ret, *info, *inserted, *image, *backing;
    g_autofree char *overlay = NULL, *base = NULL;
    g_autofree char *keys = NULL;
    g_autoptr(GError) err = NULL;
    BlockInfoList *list = NULL;
    Visitor *v;

    fixture_init(&f, 2);
    overlay = test_path(&f.disks, "disk1.s1.qcow2");
    base = test_path(&f.disks, "disk1.raw");
    assert_success(execute(&f,
                           "{'execute': 'blockdev-snapshot-sync', "
                           "'arguments': {'device': 'disk1', "
                           "'snapshot-file': '%s', "
                           "'snapshot-node-name': 'top1'}}",
                           overlay));

    response = execute(&f, "{'execute': 'query-block'}");
    g_assert_true(json_object_object_get_ex(response, "return", &ret));
    g_assert_cmpint(json_object_array_length(ret), ==, 2);

    /* disk0: a qcow2 image on its own. */
    info = json_object_array_get_idx(ret, 0);
    keys = sorted_keys(info);
    g_assert_cmpstr(keys, ==,
                    "device,inserted,io-status,locked,removable,type");
    g_clear_pointer(&keys, g_free);
    g_assert_cmpstr(str_member(info, "device"), ==, "disk0");
    g_assert_cmpstr(str_member(info, "type"), ==, "unknown");
    g_assert_cmpstr(str_member(info, "io-status"), ==, "ok");
    inserted = json_object_object_get(info, "inserted");
    keys = sorted_keys(inserted);
    g_assert_cmpstr(keys, ==,
                    "backing_file_depth,bps,bps_rd,bps_wr,cache,"
                    "detect_zeroes,drv,encrypted,file,image,iops,iops_rd,"
                    "iops_wr,ro,write_threshold");
    g_clear_pointer(&keys, g_free);
    g_assert_cmpstr(str_member(inserted, "drv"), ==, "qcow2");
    g_assert_cmpint(int_member(inserted, "backing_file_depth"), ==, 0);
    g_assert_cmpstr(str_member(inserted, "detect_zeroes"), ==, "off");
    keys = sorted_keys(json_object_object_get(inserted, "cache"));
    g_assert_cmpstr(keys, ==, "direct,no-flush,writeback");
    g_clear_pointer(&keys, g_free);
    image = json_object_object_get(inserted, "image");
    keys = sorted_keys(image);
    g_assert_cmpstr(keys, ==,
                    "actual-size,cluster-size,dirty-flag,filename,"
                    "format,virtual-size");
    g_clear_pointer(&keys, g_free);
    g_assert_cmpint(int_member(image, "virtual-size"), ==, TEST_DISK_SIZE);
    g_assert_cmpint(int_member(image, "cluster-size"), ==, 65536);

    /* disk1: the overlay over the raw image. */
    info = json_object_array_get_idx(ret, 1);
    inserted = json_object_object_get(info, "inserted");
    g_assert_cmpstr(str_member(inserted, "file"), ==, overlay);
    g_assert_cmpstr(str_member(inserted, "node-name"), ==, "top1");
    g_assert_cmpstr(str_member(inserted, "backing_file"), ==, base);
    g_assert_cmpint(int_member(inserted, "backing_file_depth"), ==, 1);
    image = json_object_object_get(inserted, "image");
    keys = sorted_keys(image);
    g_assert_cmpstr(keys, ==,
                    "actual-size,backing-filename,"
                    "backing-filename-format,backing-image,cluster-size,"
                    "dirty-flag,filename,format,full-backing-filename,"
                    "virtual-size");
    g_clear_pointer(&keys, g_free);
    g_assert_cmpstr(str_member(image, "backing-filename"), ==, base);
    g_assert_cmpstr(str_member(image, "full-backing-filename"), ==, base);
    g_assert_cmpstr(str_member(image, "backing-filename-format"), ==, "raw");
    backing = json_object_object_get(image, "backing-image");
    keys = sorted_keys(backing);
    g_assert_cmpstr(keys, ==, "actual-size,filename,format,virtual-size");
    g_assert_cmpstr(str_member(backing, "format"), ==, "raw");
    g_assert_cmpstr(str_member(backing, "filename"), ==, base);

    /* The reply reads back strictly as the schema's BlockInfo list. */
    v = qapi_json_input_visitor_new(ret);
    g_assert_true(visit_type_BlockInfoList(v, NULL, &list, &err));
    g_assert_no_error(err);
    visit_free(v);
    g_assert_nonnull(list->next);
    g_assert_true(list->next->value->inserted->image->backing_image != NULL);
    qapi_free_BlockInfoList(list);
    json_object_put(response);
    fixture_cleanup(&f);
}

static void test_group_command(void)
{
    Fixture f;
    g_autofree char *f0 = NULL, *f1 = NULL, *expected = NULL;

    fixture_init(&f, 2);
    f0 = test_path(&f.disks, "disk0.s1.qcow2");
    f1 = test_path(&f.disks, "disk1.s1.qcow2");

    assert_error(execute(&f,
                         "{'execute': 'blockdev-group-snapshot-sync', "
                         "'arguments': {'devlist': ["
                         "{'device': 'disk0', 'snapshot-file': '%s'}, "
                         "{'device': 'nope', 'snapshot-file': '%s'}]}}",
                         f0, f1),
                 "DeviceNotFound", "device 'nope' not found");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-group-snapshot-sync', "
                         "'arguments': {'devlist': ["
                         "{'device': 'disk0', 'snapshot-file': '%s'}, "
                         "{'device': 'disk0', 'snapshot-file': '%s'}]}}",
                         f0, f1),
                 "DeviceInUse", "disk0: ");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-group-snapshot-sync', "
                         "'arguments': {'devlist': ["
                         "{'device': 'disk0', 'snapshot-file': '%s'}, "
                         "{'device': 'disk1', 'snapshot-file': '%s'}]}}",
                         f0, f0),
                 "OpenFileFailed", "disk1: ");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-group-snapshot-sync', "
                         "'arguments': {'devlist': ["
                         "{'device': 'disk0', 'snapshot-file': '%s', "
                         "'format': 'raw'}]}}",
                         f0),
                 "InvalidBlockFormat", "disk0: ");
    g_assert_cmpuint(f.events->len, ==, 0);
    g_assert_false(g_file_test(f0, G_FILE_TEST_EXISTS));

    assert_success(execute(&f,
                           "{'execute': 'blockdev-group-snapshot-sync', "
                           "'arguments': {'devlist': ["
                           "{'device': 'disk1', 'snapshot-file': '%s'}, "
                           "{'device': 'disk0', 'snapshot-file': '%s', "
                           "'format': 'qcow2'}]}}",
                           f1, f0));
    g_assert_cmpuint(f.events->len, ==, 1);
    expected = g_strdup_printf(
        "{\"devices\":[{\"device\":\"disk1\",\"snapshot-file\":\"%s\","
        "\"format\":\"qcow2\"},{\"device\":\"disk0\",\"snapshot-file\":"
        "\"%s\",\"format\":\"qcow2\"}]}",
        f1, f0);
    g_assert_cmpstr(f.events->pdata[0], ==, expected);
    fixture_cleanup(&f);
}

static void test_transaction(void)
{
    Fixture f;
    g_autofree char *f0 = NULL, *f1 = NULL, *list = NULL, *list2 = NULL;

    fixture_init(&f, 2);
    f0 = test_path(&f.disks, "disk0.s1.qcow2");
    f1 = test_path(&f.disks, "disk1.s1.qcow2");
    list = test_list_dir(f.disks.dir);

    /* Empty: success, nothing happens, no event. */
    assert_success(execute(&f,
                           "{'execute': 'transaction', "
                           "'arguments': {'actions': []}}"));
    /* Unknown action type: refused by the schema. */
    assert_error(execute(&f,
                         "{'execute': 'transaction', 'arguments': "
                         "{'actions': [{'type': 'blockdev-snapshot-sync', "
                         "'data': {'device': 'disk0', 'snapshot-file': '%s'}},"
                         " {'type': 'drive-backup', 'data': {}}]}}",
                         f0),
                 "GenericError", "");
    /* abort after two snapshots: rolled back. */
    assert_error(execute(&f,
                         "{'execute': 'transaction', 'arguments': "
                         "{'actions': [{'type': 'blockdev-snapshot-sync', "
                         "'data': {'device': 'disk0', 'snapshot-file': '%s'}},"
                         " {'type': 'blockdev-snapshot-sync', "
                         "'data': {'device': 'disk1', 'snapshot-file': '%s'}},"
                         " {'type': 'abort', 'data': {}}]}}",
                         f0, f1),
                 "GenericError", "action 2 is 'abort'");
    list2 = test_list_dir(f.disks.dir);
    g_assert_cmpstr(list, ==, list2);
    g_assert_cmpuint(f.events->len, ==, 0);
    /* abort before an entry that fails its checks: the abort is the
     * first failure in request order. */
    assert_error(execute(&f,
                         "{'execute': 'transaction', 'arguments': "
                         "{'actions': [{'type': 'blockdev-snapshot-sync', "
                         "'data': {'device': 'disk0', 'snapshot-file': '%s'}},"
                         " {'type': 'abort', 'data': {}},"
                         " {'type': 'blockdev-snapshot-sync', "
                         "'data': {'device': 'nope', 'snapshot-file': '%s'}}"
                         "]}}",
                         f0, f1),
                 "GenericError", "action 1 is 'abort': transaction aborted");
    g_free(list2);
    list2 = test_list_dir(f.disks.dir);
    g_assert_cmpstr(list, ==, list2);
    g_assert_cmpuint(f.events->len, ==, 0);

    assert_success(execute(&f,
                           "{'execute': 'transaction', 'arguments': "
                           "{'actions': [{'type': 'blockdev-snapshot-sync', "
                           "'data': {'device': 'disk0', "
                           "'snapshot-file': '%s', 'format': 'qcow2'}}, "
                           "{'type': 'blockdev-snapshot-sync', "
                           "'data': {'device': 'disk1', "
                           "'snapshot-file': '%s', "
                           "'mode': 'absolute-paths'}}], "
                           "'properties': {'completion-mode': 'grouped'}}}",
                           f0, f1));
    g_assert_cmpuint(f.events->len, ==, 1);
    g_assert_cmpstr(block_node_filename(
                        block_device_top(block_registry_nth(f.disks.reg, 1))),
                    ==, f1);
    fixture_cleanup(&f);
}

static void test_snapshot_sync_args(void)
{
    Fixture f;
    g_autofree char *f0 = NULL;

    fixture_init(&f, 1);
    f0 = test_path(&f.disks, "disk0.s1.qcow2");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-snapshot-sync', "
                         "'arguments': {'snapshot-file': '%s'}}",
                         f0),
                 "GenericError", "snapshot 0: give exactly one");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-snapshot-sync', "
                         "'arguments': {'device': 'disk0', "
                         "'snapshot-file': '%s', 'mode': 'existing'}}",
                         f0),
                 "OpenFileFailed", "disk0: ");
    assert_error(execute(&f,
                         "{'execute': 'blockdev-snapshot-sync', "
                         "'arguments': {'device': 'disk0', "
                         "'snapshot-file': '%s', 'mode': 'bogus'}}",
                         f0),
                 "GenericError", "");
    assert_success(execute(&f,
                           "{'execute': 'blockdev-snapshot-sync', "
                           "'arguments': {'device': 'disk0', "
                           "'snapshot-file': '%s'}}",
                           f0));
    g_assert_cmpuint(f.events->len, ==, 1);
    fixture_cleanup(&f);
}

/* BLOCK_SNAPSHOT_GROUP names the device of an entry given by node-name,
 * although the pivot moved (or dropped) that node name. */
static void test_event_node_name(void)
{
    Fixture f;
    g_autofree char *f1 = NULL, *f2 = NULL, *f3 = NULL, *g1 = NULL;
    g_autofree char *expected = NULL;

    fixture_init(&f, 2);
    f1 = test_path(&f.disks, "disk0.s1.qcow2");
    f2 = test_path(&f.disks, "disk0.s2.qcow2");
    f3 = test_path(&f.disks, "disk0.s3.qcow2");
    g1 = test_path(&f.disks, "disk1.s1.qcow2");
    assert_success(execute(&f,
                           "{'execute': 'blockdev-snapshot-sync', "
                           "'arguments': {'device': 'disk0', "
                           "'snapshot-file': '%s', "
                           "'snapshot-node-name': 'n1'}}",
                           f1));
    /* By node name, onto a new node name. */
    assert_success(execute(&f,
                           "{'execute': 'blockdev-snapshot-sync', "
                           "'arguments': {'node-name': 'n1', "
                           "'snapshot-file': '%s', "
                           "'snapshot-node-name': 'n2'}}",
                           f2));
    /* By node name, the new top unnamed, in a transaction. */
    assert_success(execute(&f,
                           "{'execute': 'transaction', 'arguments': "
                           "{'actions': [{'type': 'blockdev-snapshot-sync', "
                           "'data': {'node-name': 'n2', "
                           "'snapshot-file': '%s'}}, "
                           "{'type': 'blockdev-snapshot-sync', "
                           "'data': {'device': 'disk1', "
                           "'snapshot-file': '%s'}}]}}",
                           f3, g1));
    g_assert_cmpuint(f.events->len, ==, 3);
    expected = g_strdup_printf(
        "{\"devices\":[{\"device\":\"disk0\",\"snapshot-file\":\"%s\","
        "\"format\":\"qcow2\"}]}",
        f2);
    g_assert_cmpstr(f.events->pdata[1], ==, expected);
    g_free(expected);
    expected = g_strdup_printf(
        "{\"devices\":[{\"device\":\"disk0\",\"snapshot-file\":\"%s\","
        "\"format\":\"qcow2\"},{\"device\":\"disk1\",\"snapshot-file\":"
        "\"%s\",\"format\":\"qcow2\"}]}",
        f3, g1);
    g_assert_cmpstr(f.events->pdata[2], ==, expected);
    fixture_cleanup(&f);
}

/*
 * Whether the first device of query-block on F, which lists N devices,
 * has a backing image.
 */
static bool first_device_has_backing(Fixture *f, size_t n)
{
    json_object *response = execute(f, "{'execute': 'query-block'}");
    json_object *ret, *image;
    bool has;

    g_assert_true(json_object_object_get_ex(response, "return", &ret));
    g_assert_cmpint(json_object_array_length(ret), ==, n);
    image = json_object_object_get(
        json_object_object_get(json_object_array_get_idx(ret, 0), "inserted"),
        "image");
    g_assert_nonnull(image);
    has = json_object_object_get(image, "backing-image") != NULL;
    json_object_put(response);
    return has;
}

/*
 * Two registries behind two command lists in one process: each
 * command acts on the registry its list registered it with.
 */
static void test_two_registries(void)
{
    Fixture a, b;
    g_autofree char *overlay = NULL;
    json_object *response;

    fixture_init(&a, 2);
    fixture_init(&b, 1);
    overlay = test_path(&b.disks, "disk0.s1.qcow2");
    assert_success(execute(&b,
                           "{'execute': 'blockdev-snapshot-sync', "
                           "'arguments': {'device': 'disk0', "
                           "'snapshot-file': '%s'}}",
                           overlay));

    /* A's disk0 is still on its own image: B's snapshot moved B's. */
    g_assert_false(first_device_has_backing(&a, 2));
    g_assert_true(first_device_has_backing(&b, 1));

    /* A's second device is unknown to B. */
    response = execute(&b,
                       "{'execute': 'blockdev-snapshot-sync', "
                       "'arguments': {'device': 'disk1', "
                       "'snapshot-file': '%s.2'}}",
                       overlay);
    g_assert_cmpstr(
        str_member(json_object_object_get(response, "error"), "class"), ==,
        "DeviceNotFound");
    json_object_put(response);
    fixture_cleanup(&b);
    fixture_cleanup(&a);
}

static void test_no_registry(void)
{
    QmpCommandList *cmds = qmp_command_list_new();
    json_object *request, *response, *ret;

    qmp_register_command(cmds, "query-block", qmp_marshal_query_block, 0, 0);
    request = json_tokener_parse("{\"execute\": \"query-block\"}");
    response = qmp_dispatch(cmds, request, false);
    g_assert_true(json_object_object_get_ex(response, "return", &ret));
    g_assert_cmpint(json_object_array_length(ret), ==, 0);
    json_object_put(response);
    json_object_put(request);
    qmp_command_list_free(cmds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/blockdev/qmp/query-block", test_query_block);
    g_test_add_func("/blockdev/qmp/two-registries", test_two_registries);
    g_test_add_func("/blockdev/qmp/group", test_group_command);
    g_test_add_func("/blockdev/qmp/transaction", test_transaction);
    g_test_add_func("/blockdev/qmp/snapshot-sync", test_snapshot_sync_args);
    g_test_add_func("/blockdev/qmp/event-node-name", test_event_node_name);
    g_test_add_func("/blockdev/qmp/no-registry", test_no_registry);
    return g_test_run();
}
