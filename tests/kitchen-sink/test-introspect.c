/* SPDX-License-Identifier: MIT */
/*
 * query-qmp-schema's reply, checked by reading it back with the runtime's
 * own SchemaInfo types (qapi/runtime/introspect.json) through the strict
 * JSON input visitor, and by the rules of docs/spec/qapi-language.md §13.6:
 * every name listed once, every type that is referred to listed, commands and
 * events first, integer types as 'int', arrays as '[T]'.
 */
#include <qapikit/introspect.h>
#include <qapikit/qapikit-qapi-visit-introspect.h>
#include <qapikit/visitor.h>

#include <string.h>

#include "test-qapi-introspect.h"

/* The project schema's literal (build/generated/qapi-introspect.c). */
extern const QLitObject qmp_schema_qlit;

static SchemaInfoList *read_back(json_object *json)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(Visitor) v = qapi_json_input_visitor_new(json);
    SchemaInfoList *list = NULL;

    g_assert_true(visit_type_SchemaInfoList(v, NULL, &list, &err));
    g_assert_no_error(err);
    return list;
}

static void check_referenced(GHashTable *names, const char *type)
{
    if (!g_hash_table_contains(names, type)) {
        g_error("type '%s' is referred to but not listed", type);
    }
}

/* The rules every query-qmp-schema reply follows. */
static SchemaInfoList *check_schema(const QLitObject *qlit)
{
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    json_object *json = qapi_introspect_schema(qlit, NULL);
    SchemaInfoList *list = read_back(json);
    bool types_started = false;

    json_object_put(json);
    for (SchemaInfoList *node = list; node; node = node->next) {
        SchemaInfo *info = node->value;
        bool is_type = info->meta_type != SCHEMA_META_TYPE_COMMAND
            && info->meta_type != SCHEMA_META_TYPE_EVENT;

        g_assert_false(g_hash_table_contains(names, info->name));
        g_hash_table_add(names, info->name);
        /* Commands and events first, then the types they use. */
        g_assert_true(is_type || !types_started);
        types_started |= is_type;
        if (info->meta_type == SCHEMA_META_TYPE_BUILTIN) {
            g_assert_false(g_str_has_prefix(info->name, "int")
                           && strcmp(info->name, "int") != 0);
            g_assert_false(g_str_has_prefix(info->name, "uint"));
            g_assert_cmpstr(info->name, !=, "size");
        }
        if (info->meta_type == SCHEMA_META_TYPE_ARRAY) {
            g_autofree char *expected =
                g_strdup_printf("[%s]", info->u.array.element_type);
            g_assert_cmpstr(info->name, ==, expected);
        }
    }
    for (SchemaInfoList *node = list; node; node = node->next) {
        SchemaInfo *info = node->value;

        switch (info->meta_type) {
        case SCHEMA_META_TYPE_COMMAND:
            check_referenced(names, info->u.command.arg_type);
            check_referenced(names, info->u.command.ret_type);
            break;
        case SCHEMA_META_TYPE_EVENT:
            check_referenced(names, info->u.event.arg_type);
            break;
        case SCHEMA_META_TYPE_ARRAY:
            check_referenced(names, info->u.array.element_type);
            break;
        case SCHEMA_META_TYPE_OBJECT:
            for (SchemaInfoObjectMemberList *m = info->u.object.members; m;
                 m = m->next) {
                check_referenced(names, m->value->type);
            }
            for (SchemaInfoObjectVariantList *v = info->u.object.variants; v;
                 v = v->next) {
                check_referenced(names, v->value->type);
            }
            break;
        case SCHEMA_META_TYPE_ALTERNATE:
            for (SchemaInfoAlternateMemberList *m = info->u.alternate.members;
                 m; m = m->next) {
                check_referenced(names, m->value->type);
            }
            break;
        default:
            break;
        }
    }
    return list;
}

static SchemaInfo *find(SchemaInfoList *list, const char *name)
{
    for (; list; list = list->next) {
        if (!strcmp(list->value->name, name)) {
            return list->value;
        }
    }
    return NULL;
}

static void test_kitchen_sink(void)
{
    g_autoptr(SchemaInfoList) list = check_schema(&test_qmp_schema_qlit);
    SchemaInfo *empty = find(list, "q_empty");

    g_assert_nonnull(empty);
    g_assert_cmpint(empty->meta_type, ==, SCHEMA_META_TYPE_OBJECT);
    g_assert_null(empty->u.object.members);
    g_assert_nonnull(find(list, "int"));
    g_assert_null(find(list, "int8"));
}

/* The seed's command looks as docs/spec/qapi-language.md §13.6 shows it. */
static void test_project_schema(void)
{
    g_autoptr(SchemaInfoList) list = check_schema(&qmp_schema_qlit);
    SchemaInfo *cmd = find(list, "blockdev-group-snapshot-sync");
    SchemaInfo *arg, *dev;
    SchemaInfoObjectMemberList *m;

    g_assert_nonnull(cmd);
    g_assert_cmpstr(cmd->u.command.arg_type, ==,
                    "q_obj_blockdev-group-snapshot-sync-arg");
    g_assert_cmpstr(cmd->u.command.ret_type, ==, "q_empty");
    arg = find(list, cmd->u.command.arg_type);
    g_assert_nonnull(arg);
    g_assert_cmpstr(arg->u.object.members->value->name, ==, "devlist");
    g_assert_cmpstr(arg->u.object.members->value->type, ==, "[SnapshotDev]");
    dev = find(list, "SnapshotDev");
    g_assert_nonnull(dev);
    m = dev->u.object.members;
    g_assert_cmpstr(m->value->name, ==, "device");
    g_assert_null(m->value->q_default);
    m = m->next->next;
    g_assert_cmpstr(m->value->name, ==, "format");
    g_assert_cmpstr(m->value->type, ==, "str");
    g_assert_nonnull(m->value->q_default);
}

/* What the output policy hides is not listed. */
static void test_policy_hides_deprecated(void)
{
    QapiCompatPolicy hide = { .deprecated_output = QAPI_OUTPUT_HIDE };
    QapiCompatPolicy saved = *qapi_compat_policy_get();
    g_autoptr(SchemaInfoList) shown = check_schema(&test_qmp_schema_qlit);
    g_autoptr(SchemaInfoList) hidden = NULL;

    g_assert_nonnull(find(shown, "ks-deprecated-cmd"));
    qapi_compat_policy_set(&hide);
    hidden = check_schema(&test_qmp_schema_qlit);
    qapi_compat_policy_set(&saved);
    g_assert_null(find(hidden, "ks-deprecated-cmd"));
    g_assert_nonnull(find(hidden, "ks-unstable-cmd"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/introspect/kitchen-sink", test_kitchen_sink);
    g_test_add_func("/introspect/project-schema", test_project_schema);
    g_test_add_func("/introspect/policy", test_policy_hides_deprecated);
    return g_test_run();
}
