/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the built-in commands (§3).
 */
#include "monitor-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gfiledescriptorbased.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>

/* ---- the built-in commands (§3) ---- */

/* ARGS must be empty: name its first member. */
static bool check_no_arguments(json_object *args, GError **errp)
{
    json_object_object_foreach(args, key, value) {
        (void)value;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is not an expected member", key);
        return false;
    }
    return true;
}

/* The monitor session that sent the running COMMAND, or an error. */
static QmpSession *builtin_session(const char *command, GError **errp)
{
    const QmpCommandContext *ctx = qmp_command_context();

    if (!ctx || ctx->check != monitor_session_check) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "command '%s' runs only in a QMP monitor session",
                    command);
        return NULL;
    }
    return ctx->session;
}

static bool marshal_qmp_capabilities(json_object *args, json_object **ret,
                                     GError **errp)
{
    QmpSession *s = builtin_session("qmp_capabilities", errp);
    json_object *enable = NULL;
    bool want_oob = false;

    if (!s) {
        return false;
    }
    json_object_object_foreach(args, key, value) {
        if (strcmp(key, "enable")) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "'%s' is not an expected member", key);
            return false;
        }
        enable = value;
    }
    if (json_object_object_get_ex(args, "enable", NULL)) {
        size_t i, len;

        if (!json_object_is_type(enable, json_type_array)) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "'enable': expected array, got %s",
                        enable ? json_type_to_name(json_object_get_type(
                                     enable))
                               : "null");
            return false;
        }
        len = json_object_array_length(enable);
        for (i = 0; i < len; i++) {
            json_object *cap = json_object_array_get_idx(enable, i);
            const char *name;

            if (!json_object_is_type(cap, json_type_string)) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': expected string, got %s", i,
                            cap ? json_type_to_name(json_object_get_type(
                                      cap))
                                : "null");
                return false;
            }
            name = json_object_get_string(cap);
            if (strcmp(name, "oob")
                || strlen(name) != (size_t)json_object_get_string_len(cap)) {
                g_autofree char *shown = NULL;
                g_autoptr(GString) ascii = g_string_new(NULL);

                /* The name may hold anything: show it escaped. */
                shown = g_strescape(name, NULL);
                qmp_append_ascii(ascii, shown, strlen(shown));
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': '%s' is not a value of the enum "
                            "(expected 'oob')", i, ascii->str);
                return false;
            }
            if (!s->oob_offered) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': capability 'oob' is not offered "
                            "by this server", i);
                return false;
            }
            want_oob = true;
        }
    }
    s->negotiated = true;
    s->oob_enabled = want_oob;
    *ret = json_object_new_object();
    return true;
}

static bool marshal_query_version(json_object *args, json_object **ret,
                                  GError **errp)
{
    QmpSession *s = builtin_session("query-version", errp);

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    *ret = monitor_version_object(s->mon);
    return true;
}

static void add_command_info(const QmpCommandInfo *info, void *opaque)
{
    json_object *list = opaque;
    json_object *entry;

    /* qmp_capabilities included, as QEMU lists it (docs/spec/qmp-protocol.md
     * §3/2) */
    if (!info->enabled
        || qapi_policy_refuses(qmp_command_policy(), info->special_features)) {
        return;
    }
    entry = json_object_new_object();
    json_object_object_add(entry, "name", json_object_new_string(info->name));
    json_object_array_add(list, entry);
}

static bool marshal_query_commands(json_object *args, json_object **ret,
                                   GError **errp)
{
    QmpSession *s = builtin_session("query-commands", errp);
    json_object *list;

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    list = json_object_new_array();
    qmp_for_each_command(s->mon->cmds, add_command_info, list);
    *ret = list;
    return true;
}

static bool marshal_query_qmp_schema(json_object *args, json_object **ret,
                                     GError **errp)
{
    QmpSession *s = builtin_session("query-qmp-schema", errp);

    if (!s || !check_no_arguments(args, errp)) {
        return false;
    }
    *ret = s->mon->schema ? qapi_introspect_schema(s->mon->schema,
                                                   qmp_command_policy())
                          : json_object_new_array();
    return true;
}

void monitor_register_builtins(QmpMonitor *mon)
{
    QmpCommandList *commands = mon->cmds;

    qmp_register_command(commands, "qmp_capabilities",
                         marshal_qmp_capabilities, QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-version", marshal_query_version,
                         QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-commands", marshal_query_commands,
                         QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(commands, "query-qmp-schema",
                         marshal_query_qmp_schema, QCO_ALLOW_PRECONFIG, 0);
}
