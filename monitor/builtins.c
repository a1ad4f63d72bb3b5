/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the built-in commands (docs/spec/qmp-protocol.md §3/2),
 * the handlers of monitor/control.json.  The library compiles that schema
 * module privately with its marshallers (monitor/meson.build), so the
 * arguments and results are visited by generated code; the handlers reach
 * the session that sent the request through qmp_command_context().
 */
#include "monitor-internal.h"

#include "qapikit-control-qapi-commands.h"
#include "qapikit-control-qapi-init-commands.h"
#include "qapikit-control-qapi-introspect.h"
#include "qapikit-control-qapi-visit.h"

/* The monitor session that sent the running COMMAND, or an error. */
static QmpSession *builtin_session(const char *command, GError **errp)
{
    const QmpCommandContext *ctx = qmp_command_context();

    if (!ctx || ctx->check != monitor_session_check) {
        qapi_error_setg(errp, QAPI_ERROR_CLASS_GENERICERROR,
                        "command '%s' runs only in a QMP monitor session",
                        command);
        return NULL;
    }
    return ctx->session;
}

bool qmp_qmp_capabilities(bool has_enable, QMPCapabilityList *enable,
                          GError **errp)
{
    QmpSession *s = builtin_session("qmp_capabilities", errp);
    bool want_oob = false;
    size_t i = 0;

    if (!s) {
        return false;
    }
    /* The visitor took only values of QMPCapability: 'oob' alone. */
    for (QMPCapabilityList *cap = has_enable ? enable : NULL; cap;
         cap = cap->next, i++) {
        if (!s->oob_offered) {
            qapi_error_setg(errp, QAPI_ERROR_CLASS_GENERICERROR,
                            "'enable[%zu]': capability 'oob' is not offered "
                            "by this server",
                            i);
            return false;
        }
        want_oob = true;
    }
    s->negotiated = true;
    s->oob_enabled = want_oob;
    return true;
}

/* MON's version, as query-version and the greeting give it. */
static VersionInfo *version_info(const QmpMonitor *mon)
{
    VersionInfo *info = g_new0(VersionInfo, 1);

    info->qemu = g_new0(VersionTriple, 1);
    info->qemu->major = mon->version[0];
    info->qemu->minor = mon->version[1];
    info->qemu->micro = mon->version[2];
    info->package = g_strdup(mon->package);
    return info;
}

json_object *monitor_version_object(const QmpMonitor *mon)
{
    g_autoptr(VersionInfo) info = version_info(mon);
    Visitor *v = qapi_json_output_visitor_new();
    json_object *out = NULL;

    /* A VersionInfo of ours cannot fail to visit. */
    if (visit_type_VersionInfo(v, NULL, &info, NULL)) {
        visit_complete(v, &out);
    }
    visit_free(v);
    return out;
}

VersionInfo *qmp_query_version(GError **errp)
{
    QmpSession *s = builtin_session("query-version", errp);

    return s ? version_info(s->mon) : NULL;
}

/* A QmpCommandInfo's entry of query-commands, through TAIL. */
static void add_command_info(const QmpCommandInfo *info, void *opaque)
{
    CommandInfoList ***tail = opaque;
    CommandInfo *entry;

    /* qmp_capabilities included, as QEMU lists it (§3/2) */
    if (!info->enabled
        || qapi_policy_refuses(qmp_command_policy(), info->special_features)) {
        return;
    }
    entry = g_new0(CommandInfo, 1);
    entry->name = g_strdup(info->name);
    QAPI_LIST_APPEND(*tail, entry);
}

CommandInfoList *qmp_query_commands(GError **errp)
{
    QmpSession *s = builtin_session("query-commands", errp);
    CommandInfoList *head = NULL, **tail = &head;

    if (s) {
        qmp_for_each_command(s->mon->cmds, add_command_info, &tail);
    }
    return head;
}

/* The entries of SCHEMA (an array of SchemaInfo objects) by name. */
static GHashTable *entries_by_name(json_object *schema)
{
    GHashTable *entries = g_hash_table_new(g_str_hash, g_str_equal);

    for (size_t i = 0; i < json_object_array_length(schema); i++) {
        json_object *entry = json_object_array_get_idx(schema, i);
        json_object *name = json_object_object_get(entry, "name");

        if (json_object_is_type(name, json_type_string)) {
            g_hash_table_insert(entries, (char *)json_object_get_string(name),
                                entry);
        }
    }
    return entries;
}

/* The name NAME (a type name, or "[ELEMENT]") has after RENAMES. */
static const char *renamed(GHashTable *renames, const char *name,
                           GPtrArray *keep)
{
    const char *to;

    if (!name) {
        return NULL;
    }
    if ((to = g_hash_table_lookup(renames, name))) {
        return to;
    }
    if (name[0] == '[' && g_str_has_suffix(name, "]")) {
        g_autofree char *element = g_strndup(name + 1, strlen(name) - 2);

        if ((to = g_hash_table_lookup(renames, element))) {
            char *array = g_strdup_printf("[%s]", to);

            g_ptr_array_add(keep, array);
            return array;
        }
    }
    return NULL;
}

/*
 * Apply RENAMES to the type names ENTRY (a SchemaInfo object, or what
 * it holds) uses: its own name, and "type", "arg-type", "ret-type" and
 * "element-type" everywhere inside.
 */
static void rename_types(json_object *obj, GHashTable *renames, GPtrArray *keep)
{
    static const char *const keys[] = {
        "name", "type", "arg-type", "ret-type", "element-type",
    };

    if (json_object_is_type(obj, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(obj); i++) {
            rename_types(json_object_array_get_idx(obj, i), renames, keep);
        }
        return;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        return;
    }
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
        json_object *value = json_object_object_get(obj, keys[k]);
        const char *to = renamed(renames, json_object_get_string(value), keep);

        /* A member's "name" is no type name: only entries are renamed. */
        if (to && (k != 0 || json_object_object_get(obj, "meta-type"))) {
            json_object_object_add(obj, keys[k], json_object_new_string(to));
        }
    }
    json_object_object_foreach(obj, key, value)
    {
        (void)key;
        if (json_object_is_type(value, json_type_array)) {
            rename_types(value, renames, keep);
        }
    }
}

/*
 * query-qmp-schema: the embedder's schema, then the entries of
 * control.json it does not have.  A schema that includes control.json,
 * or defines the same type (QEMU's VersionInfo), has them already: an
 * equal entry of the same name is not repeated; a built-in command the
 * schema declares too is the embedder's; a built-in type whose name the
 * schema uses for something else is listed as NAME-qapikit-control, so
 * that every reference still names what it means.
 */
static json_object *schema_reply(const QmpMonitor *mon,
                                 const QapiCompatPolicy *policy)
{
    g_autoptr(GHashTable) entries = NULL;
    g_autoptr(GHashTable) renames = NULL;
    g_autoptr(GPtrArray) keep = NULL;
    json_object *schema, *builtins;

    schema = mon->schema ? qapi_introspect_schema(mon->schema, policy)
                         : json_object_new_array();
    builtins = qapi_introspect_schema(&qapikit_control_qmp_schema_qlit, policy);
    entries = entries_by_name(schema);
    /* Keys copied: renaming an entry frees the name it had. */
    renames = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    keep = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < json_object_array_length(builtins); i++) {
        json_object *entry = json_object_array_get_idx(builtins, i);
        const char *name =
            json_object_get_string(json_object_object_get(entry, "name"));
        const char *meta =
            json_object_get_string(json_object_object_get(entry, "meta-type"));
        json_object *theirs = g_hash_table_lookup(entries, name);

        if (theirs && strcmp(meta, "command") && strcmp(meta, "event")
            && strcmp(meta, "builtin") && !json_object_equal(entry, theirs)) {
            char *to = g_strdup_printf("%s-qapikit-control", name);

            g_ptr_array_add(keep, to);
            g_hash_table_insert(renames, g_strdup(name), to);
        }
    }
    for (size_t i = 0; i < json_object_array_length(builtins); i++) {
        json_object *entry = json_object_array_get_idx(builtins, i);
        const char *name =
            json_object_get_string(json_object_object_get(entry, "name"));

        if (g_hash_table_contains(entries, name)
            && !g_hash_table_contains(renames, name)) {
            continue; /* the embedder's, or the same */
        }
        entry = json_object_get(entry);
        rename_types(entry, renames, keep);
        json_object_array_add(schema, entry);
    }
    json_object_put(builtins);
    return schema;
}

void monitor_forget_schema_reply(QmpMonitor *mon)
{
    g_clear_pointer(&mon->schema_reply, json_object_put);
}

anyList *qmp_query_qmp_schema(GError **errp)
{
    QmpSession *s = builtin_session("query-qmp-schema", errp);
    const QapiCompatPolicy *policy = qmp_command_policy();
    anyList *head = NULL, **tail = &head;
    QmpMonitor *mon;

    if (!s) {
        return NULL;
    }
    mon = s->mon;
    if (!policy) {
        policy = qapi_compat_policy_get();
    }
    /* The same schema and policy give the same reply: made once. */
    if (!mon->schema_reply
        || memcmp(&mon->schema_reply_policy, policy, sizeof(*policy))) {
        monitor_forget_schema_reply(mon);
        mon->schema_reply = schema_reply(mon, policy);
        mon->schema_reply_policy = *policy;
    }
    for (size_t i = 0; i < json_object_array_length(mon->schema_reply); i++) {
        QAPI_LIST_APPEND(
            tail,
            json_object_get(json_object_array_get_idx(mon->schema_reply, i)));
    }
    return head;
}

void monitor_register_builtins(QmpMonitor *mon)
{
    qapikit_control_qmp_init_marshal(mon->cmds);
}
