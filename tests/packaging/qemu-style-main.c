/* SPDX-License-Identifier: MIT */
/*
 * The handlers of tests/packaging/qemu-style.json and a main() that
 * drives the generated code through the installed libqapikit: it is
 * compiled and linked by check-install.py against the installed headers
 * and library only (pkg-config qapikit), then run.  Exit status 0 when
 * every request got the expected answer.
 */
#include <stdio.h>
#include <string.h>

#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/event.h>
#include <qapikit/introspect.h>

#include "qapi-commands.h"
#include "qapi-events.h"
#include "qapi-init-commands.h"
#include "qapi-introspect.h"
#include "qapi-visit.h"

static int failures;

/* The handlers: enough behaviour to see arguments arrive. */

BlockInfoList *qmp_query_block(GError **errp)
{
    (void)errp;
    BlockInfoList *list = g_new0(BlockInfoList, 1);
    list->value = g_new0(BlockInfo, 1);
    list->value->device = g_strdup("ide0-hd0");
    list->value->type = g_strdup("unknown");
    return list;
}

BlockDeviceInfoList *qmp_query_named_block_nodes(bool has_flat, bool flat,
                                                 GError **errp)
{
    (void)has_flat;
    (void)flat;
    (void)errp;
    return NULL;
}

bool qmp_blockdev_add(BlockdevOptions *arg, GError **errp)
{
    if (arg->driver != BLOCKDEV_DRIVER_QCOW2) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "only qcow2 here");
        return false;
    }
    /* backing: null, file: a reference */
    if (!arg->u.qcow2.backing || arg->u.qcow2.backing->type != QTYPE_QNULL
        || arg->u.qcow2.file->type != QTYPE_QSTRING) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "unexpected qcow2 options");
        return false;
    }
    return true;
}

bool qmp_blockdev_del(const char *node_name, GError **errp)
{
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                "Failed to find node with node-name='%s'", node_name);
    return false;
}

bool qmp_block_resize(const char *device, const char *node_name, int64_t size,
                      GError **errp)
{
    (void)device;
    (void)node_name;
    (void)size;
    (void)errp;
    return true;
}

XDbgBlockGraph *qmp_x_debug_query_block_graph(GError **errp)
{
    (void)errp;
    return g_new0(XDbgBlockGraph, 1);
}

bool qmp_qmp_capabilities(bool has_enable, QMPCapabilityList *enable,
                          GError **errp)
{
    (void)has_enable;
    (void)enable;
    (void)errp;
    return true;
}

VersionInfo *qmp_query_version(GError **errp)
{
    (void)errp;
    VersionInfo *info = g_new0(VersionInfo, 1);
    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = 8;
    info->qemu->minor = 2;
    info->package = g_strdup("");
    return info;
}

char *qmp_human_monitor_command(const char *command_line, bool has_cpu_index,
                                int64_t cpu_index, GError **errp)
{
    (void)has_cpu_index;
    (void)cpu_index;
    (void)errp;
    return g_strdup_printf("ran %s", command_line);
}

json_object *qmp_qom_get(const char *path, const char *property, GError **errp)
{
    (void)path;
    (void)property;
    (void)errp;
    return json_object_new_int(42);
}

bool qmp_migrate_pause(GError **errp)
{
    (void)errp;
    return true;
}

bool qmp_x_exit_preconfig(GError **errp)
{
    (void)errp;
    return true;
}

bool qmp_system_halt(const char *mode, GError **errp)
{
    (void)mode;
    (void)errp;
    return true;
}

#if defined(TARGET_I386)
SevInfo *qmp_query_sev(GError **errp)
{
    (void)errp;
    return g_new0(SevInfo, 1);
}
#endif

#if defined(TARGET_S390X) || defined(TARGET_I386)
VersionInfo *qmp_query_cpu_model_baseline(const char *modela,
                                          const char *modelb, GError **errp)
{
    (void)modela;
    (void)modelb;
    return qmp_query_version(errp);
}
#endif

SocketAddressList *qmp___com_example_x_frob(double __com_example_x_speed,
                                            SocketAddress *address,
                                            bool has_policy,
                                            HostMemPolicy policy, GError **errp)
{
    (void)__com_example_x_speed;
    (void)has_policy;
    (void)policy;
    (void)errp;
    SocketAddressList *list = NULL;
    if (address) {
        list = g_new0(SocketAddressList, 1);
        list->value = QAPI_CLONE(SocketAddress, address);
    }
    return list;
}

bool qmp_set_iothread(const char *id, StrOrNull *iothread, bool has_mode,
                      OnOffAuto mode, GError **errp)
{
    (void)id;
    (void)iothread;
    (void)has_mode;
    (void)mode;
    (void)errp;
    return true;
}

/* The driver. */

/* EXPECTED is the whole response, or its start followed by '*'. */
static void expect(QmpCommandList *cmds, const char *request,
                   const char *expected)
{
    size_t len = strlen(expected);
    bool prefix = len > 0 && expected[len - 1] == '*';
    json_object *req = json_tokener_parse(request);
    json_object *resp = qmp_dispatch(cmds, req, false);
    const char *got = resp
        ? json_object_to_json_string_ext(
            resp, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
        : "(no response)";
    if (prefix ? strncmp(got, expected, len - 1) != 0
               : strcmp(got, expected) != 0) {
        fprintf(stderr, "FAIL %s\n  got      %s\n  expected %s\n", request, got,
                expected);
        failures++;
    }
    json_object_put(resp);
    json_object_put(req);
}

static void on_event(const char *name, json_object *event, void *opaque)
{
    (void)event;
    g_string_append_printf(opaque, "%s;", name);
}

int main(void)
{
    g_autoptr(QmpCommandList) cmds = qmp_command_list_new();
    qmp_init_marshal(cmds);

    expect(cmds, "{\"execute\": \"query-version\"}",
           "{\"return\":{\"qemu\":{\"major\":8,\"minor\":2,\"micro\":0},"
           "\"package\":\"\"}}");
    expect(cmds, "{\"execute\": \"query-block\"}",
           "{\"return\":[{\"device\":\"ide0-hd0\",\"type\":\"unknown\","
           "\"removable\":false,\"locked\":false}]}");
    expect(cmds,
           "{\"execute\": \"blockdev-add\", \"arguments\": {\"driver\": "
           "\"qcow2\", \"node-name\": \"n0\", \"file\": \"f0\", "
           "\"backing\": null}}",
           "{\"return\":{}}");
    expect(cmds,
           "{\"execute\": \"blockdev-del\", \"arguments\": {\"node-name\": "
           "\"n1\"}, \"id\": 7}",
           "{\"error\":{\"class\":\"DeviceNotFound\",\"desc\":\"Failed to "
           "find node with node-name='n1'\"},\"id\":7}");
    expect(cmds,
           "{\"execute\": \"human-monitor-command\", \"arguments\": "
           "{\"command-line\": \"info block\"}}",
           "{\"return\":\"ran info block\"}");
    expect(cmds,
           "{\"execute\": \"qom-get\", \"arguments\": {\"path\": "
           "\"/machine\", \"property\": \"type\"}}",
           "{\"return\":42}");
    expect(cmds,
           "{\"execute\": \"__com.example_x-frob\", \"arguments\": "
           "{\"__com.example_x-speed\": 1.5, \"address\": {\"type\": "
           "\"unix\", \"path\": \"/run/s\"}}}",
           "{\"return\":[{\"type\":\"unix\",\"path\":\"/run/s\"}]}");
    expect(cmds, "{\"execute\": \"system-halt\"}", "(no response)");
    expect(cmds, "{\"execute\": \"device_add\"}",
           "{\"error\":{\"class\":\"CommandNotFound\",*");

    GString *events = g_string_new("");
    qapi_event_set_emitter(on_event, events);
    qapi_event_send_shutdown(false, SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    qapi_event_send_block_io_error("ide0-hd0", IO_OPERATION_TYPE_WRITE, true,
                                   true, "No space left on device");
    if (strcmp(events->str, "SHUTDOWN;BLOCK_IO_ERROR;") != 0) {
        fprintf(stderr, "FAIL events: %s\n", events->str);
        failures++;
    }
    qapi_event_set_emitter(NULL, NULL);
    g_string_free(events, TRUE);

    json_object *schema = qapi_introspect_schema(&qmp_schema_qlit, NULL);
    if (!json_object_is_type(schema, json_type_array)
        || json_object_array_length(schema) < 20) {
        fprintf(stderr, "FAIL introspection\n");
        failures++;
    }
    json_object_put(schema);

    printf("qemu-style: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
