/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: introspection literals to json-c, and query-qmp-schema's
 * filtering by the output policy (docs/spec/qapi-language.md §6/3, §13.6).
 */
#include <qapikit/introspect.h>
#include <qapikit/visitor.h>

#include <stdint.h>
#include <string.h>

/* Literals written the way generated code writes them. */
#define DICT(...) QLIT_QDICT(((const QLitDictEntry[]){ __VA_ARGS__, {} }))
#define LIST(...) QLIT_QLIST(((const QLitObject[]){ __VA_ARGS__, {} }))
#define EMPTY_DICT QLIT_QDICT(((const QLitDictEntry[]){ {} }))
#define EMPTY_LIST QLIT_QLIST(((const QLitObject[]){ {} }))
#define STR(s) QLIT_QSTR(s)

static const char *to_text(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
}

/* OBJ's JSON text equals that of the JSON TEXT (free spacing). */
static void assert_json(json_object *obj, const char *text)
{
    enum json_tokener_error jerr;
    json_object *expected = json_tokener_parse_verbose(text, &jerr);
    g_autofree char *expected_text = NULL;

    g_assert_cmpint(jerr, ==, json_tokener_success);
    expected_text = g_strdup(to_text(expected));
    g_assert_cmpstr(to_text(obj), ==, expected_text);
    json_object_put(expected);
}

/* Conversion of each literal type */

static void test_scalars(void)
{
    static const QLitObject null = QLIT_QNULL;
    static const QLitObject zero = QLIT_QNUM(0);
    static const QLitObject min = QLIT_QNUM(INT64_MIN);
    static const QLitObject max = QLIT_QNUM(INT64_MAX);
    static const QLitObject yes = QLIT_QBOOL(true);
    static const QLitObject no = QLIT_QBOOL(false);
    static const QLitObject empty_str = QLIT_QSTR("");
    static const QLitObject str = QLIT_QSTR("q\"\\/\t\xc3\xa9");
    json_object *obj;

    g_assert_null(qlit_to_json(&null));

    obj = qlit_to_json(&zero);
    g_assert_cmpint(json_object_get_type(obj), ==, json_type_int);
    g_assert_cmpint(json_object_get_int64(obj), ==, 0);
    json_object_put(obj);

    obj = qlit_to_json(&min);
    g_assert_cmpint(json_object_get_int64(obj), ==, INT64_MIN);
    g_assert_cmpstr(to_text(obj), ==, "-9223372036854775808");
    json_object_put(obj);
    obj = qlit_to_json(&max);
    g_assert_cmpint(json_object_get_int64(obj), ==, INT64_MAX);
    json_object_put(obj);

    obj = qlit_to_json(&yes);
    g_assert_cmpint(json_object_get_type(obj), ==, json_type_boolean);
    g_assert_true(json_object_get_boolean(obj));
    json_object_put(obj);
    obj = qlit_to_json(&no);
    g_assert_cmpint(json_object_get_type(obj), ==, json_type_boolean);
    g_assert_false(json_object_get_boolean(obj));
    json_object_put(obj);

    obj = qlit_to_json(&empty_str);
    g_assert_cmpint(json_object_get_type(obj), ==, json_type_string);
    g_assert_cmpstr(json_object_get_string(obj), ==, "");
    json_object_put(obj);
    obj = qlit_to_json(&str);
    g_assert_cmpstr(json_object_get_string(obj), ==, "q\"\\/\t\xc3\xa9");
    json_object_put(obj);
}

static const QLitObject nested =
    DICT({ "name", STR("top") }, { "null", QLIT_QNULL },
         { "num", QLIT_QNUM(-7) }, { "flag", QLIT_QBOOL(true) },
         { "empty-dict", EMPTY_DICT }, { "null-dict", QLIT_QDICT(NULL) },
         { "empty-list", EMPTY_LIST }, { "null-list", QLIT_QLIST(NULL) },
         { "list",
           LIST(QLIT_QNUM(1), STR("two"), QLIT_QNULL, LIST(QLIT_QBOOL(false)),
                DICT({ "z", QLIT_QNUM(26) }, { "a", QLIT_QNUM(1) })) },
         { "again", STR("first") }, { "again", STR("second") });

static void test_containers(void)
{
    json_object *obj = qlit_to_json(&nested);
    json_object *list;

    g_assert_cmpint(json_object_get_type(obj), ==, json_type_object);
    assert_json(obj,
                "{\"name\": \"top\", \"null\": null, \"num\": -7,"
                " \"flag\": true, \"empty-dict\": {}, \"null-dict\": {},"
                " \"empty-list\": [], \"null-list\": [],"
                " \"list\": [1, \"two\", null, [false],"
                " {\"z\": 26, \"a\": 1}],"
                " \"again\": \"second\"}");
    g_assert_true(json_object_object_get_ex(obj, "list", &list));
    g_assert_cmpint(json_object_get_type(list), ==, json_type_array);
    json_object_put(obj);
}

static void test_misuse(void)
{
    static const QLitObject none = { .type = QLIT_TYPE_NONE };
    static const QLitObject null_str = QLIT_QSTR(NULL);

    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL, "*");
    g_assert_null(qlit_to_json(&none));
    g_test_assert_expected_messages();
    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL, "*");
    g_assert_null(qlit_to_json(&null_str));
    g_test_assert_expected_messages();
}

/* Filtering: a schema shaped like docs/spec/qapi-language.md §13.6's example */

static const QLitObject schema = LIST(
    DICT({ "name", STR("blockdev-group-snapshot-sync") },
         { "meta-type", STR("command") },
         { "arg-type", STR("q_obj_blockdev-group-snapshot-sync-arg") },
         { "ret-type", STR("q_empty") }),
    DICT({ "name", STR("blockdev-snapshot-old") },
         { "meta-type", STR("command") }, { "arg-type", STR("q_empty") },
         { "ret-type", STR("q_empty") },
         { "features", LIST(STR("deprecated")) }),
    DICT({ "name", STR("x-probe") }, { "meta-type", STR("command") },
         { "arg-type", STR("q_empty") }, { "ret-type", STR("q_empty") },
         { "allow-oob", QLIT_QBOOL(true) },
         { "features", LIST(STR("unstable")) }),
    DICT({ "name", STR("SNAPSHOT_DONE") }, { "meta-type", STR("event") },
         { "arg-type", STR("q_empty") }, { "features", LIST(STR("custom")) }),
    DICT({ "name", STR("q_obj_blockdev-group-snapshot-sync-arg") },
         { "meta-type", STR("object") },
         { "members",
           LIST(DICT({ "name", STR("devlist") },
                     { "type", STR("[SnapshotDev]") }),
                DICT({ "name", STR("legacy") }, { "type", STR("str") },
                     { "default", QLIT_QNULL },
                     { "features", LIST(STR("deprecated")) })) }),
    DICT({ "name", STR("q_empty") }, { "meta-type", STR("object") },
         { "members", EMPTY_LIST }),
    DICT({ "name", STR("[SnapshotDev]") }, { "meta-type", STR("array") },
         { "element-type", STR("SnapshotDev") }),
    DICT({ "name", STR("SnapshotDev") }, { "meta-type", STR("object") },
         { "members",
           LIST(DICT({ "name", STR("device") }, { "type", STR("str") }),
                DICT({ "name", STR("snapshot-file") }, { "type", STR("str") }),
                DICT({ "name", STR("format") }, { "type", STR("ImageFormat") },
                     { "default", QLIT_QNULL }),
                DICT({ "name", STR("x-hint") }, { "type", STR("int") },
                     { "default", QLIT_QNULL },
                     { "features", LIST(STR("custom"), STR("unstable")) })) }),
    DICT({ "name", STR("ImageFormat") }, { "meta-type", STR("enum") },
         { "members",
           LIST(DICT({ "name", STR("raw") }), DICT({ "name", STR("qcow2") }),
                DICT({ "name", STR("qed") },
                     { "features", LIST(STR("deprecated")) }),
                DICT({ "name", STR("x-vmdk") },
                     { "features", LIST(STR("unstable")) })) },
         { "values",
           LIST(STR("raw"), STR("qcow2"), STR("qed"), STR("x-vmdk")) }),
    DICT({ "name", STR("ImageOptions") }, { "meta-type", STR("object") },
         { "members",
           LIST(DICT({ "name", STR("driver") },
                     { "type", STR("ImageFormat") })) },
         { "tag", STR("driver") },
         { "variants",
           LIST(DICT({ "case", STR("raw") }, { "type", STR("q_empty") }),
                DICT({ "case", STR("qcow2") }, { "type", STR("q_empty") }),
                DICT({ "case", STR("qed") }, { "type", STR("q_empty") },
                     { "features", LIST(STR("deprecated")) }),
                DICT({ "case", STR("x-vmdk") }, { "type", STR("q_empty") },
                     { "features", LIST(STR("unstable")) })) }),
    /* Not an enum: "values" here is only a member name. */
    DICT({ "name", STR("Oddity") }, { "meta-type", STR("object") },
         { "members",
           LIST(DICT({ "name", STR("qed") }, { "type", STR("str") },
                     { "features", LIST(STR("deprecated")) })) },
         { "values", LIST(STR("qed")) }),
    DICT({ "name", STR("str") }, { "meta-type", STR("builtin") },
         { "json-type", STR("string") }),
    DICT({ "name", STR("int") }, { "meta-type", STR("builtin") },
         { "json-type", STR("int") }));

/*
 * The expected reply, piece by piece: D_ pieces go when deprecated
 * things are hidden, U_ pieces when unstable ones are.
 */
#define CMD_SYNC                                                               \
    "{\"name\": \"blockdev-group-snapshot-sync\","                             \
    " \"meta-type\": \"command\","                                             \
    " \"arg-type\": \"q_obj_blockdev-group-snapshot-sync-arg\","               \
    " \"ret-type\": \"q_empty\"}"
#define D_CMD_OLD                                                              \
    ", {\"name\": \"blockdev-snapshot-old\", \"meta-type\": \"command\","      \
    " \"arg-type\": \"q_empty\", \"ret-type\": \"q_empty\","                   \
    " \"features\": [\"deprecated\"]}"
#define U_CMD_PROBE                                                            \
    ", {\"name\": \"x-probe\", \"meta-type\": \"command\","                    \
    " \"arg-type\": \"q_empty\", \"ret-type\": \"q_empty\","                   \
    " \"allow-oob\": true, \"features\": [\"unstable\"]}"
#define EVENT                                                                  \
    ", {\"name\": \"SNAPSHOT_DONE\", \"meta-type\": \"event\","                \
    " \"arg-type\": \"q_empty\", \"features\": [\"custom\"]}"
#define ARG_START                                                              \
    ", {\"name\": \"q_obj_blockdev-group-snapshot-sync-arg\","                 \
    " \"meta-type\": \"object\", \"members\": ["                               \
    "{\"name\": \"devlist\", \"type\": \"[SnapshotDev]\"}"
#define D_ARG_LEGACY                                                           \
    ", {\"name\": \"legacy\", \"type\": \"str\", \"default\": null,"           \
    " \"features\": [\"deprecated\"]}"
#define ARG_END "]}"
#define EMPTY_AND_ARRAY                                                        \
    ", {\"name\": \"q_empty\", \"meta-type\": \"object\", \"members\": []}"    \
    ", {\"name\": \"[SnapshotDev]\", \"meta-type\": \"array\","                \
    " \"element-type\": \"SnapshotDev\"}"
#define DEV_START                                                              \
    ", {\"name\": \"SnapshotDev\", \"meta-type\": \"object\", \"members\": ["  \
    "{\"name\": \"device\", \"type\": \"str\"},"                               \
    " {\"name\": \"snapshot-file\", \"type\": \"str\"},"                       \
    " {\"name\": \"format\", \"type\": \"ImageFormat\", \"default\": null}"
#define U_DEV_HINT                                                             \
    ", {\"name\": \"x-hint\", \"type\": \"int\", \"default\": null,"           \
    " \"features\": [\"custom\", \"unstable\"]}"
#define DEV_END "]}"
#define ENUM_START                                                             \
    ", {\"name\": \"ImageFormat\", \"meta-type\": \"enum\", \"members\": ["    \
    "{\"name\": \"raw\"}, {\"name\": \"qcow2\"}"
#define D_ENUM_QED ", {\"name\": \"qed\", \"features\": [\"deprecated\"]}"
#define U_ENUM_VMDK ", {\"name\": \"x-vmdk\", \"features\": [\"unstable\"]}"
#define ENUM_VALUES "], \"values\": [\"raw\", \"qcow2\""
#define D_VALUE_QED ", \"qed\""
#define U_VALUE_VMDK ", \"x-vmdk\""
#define ENUM_END "]}"
#define UNION_START                                                            \
    ", {\"name\": \"ImageOptions\", \"meta-type\": \"object\","                \
    " \"members\": [{\"name\": \"driver\", \"type\": \"ImageFormat\"}],"       \
    " \"tag\": \"driver\", \"variants\": ["                                    \
    "{\"case\": \"raw\", \"type\": \"q_empty\"},"                              \
    " {\"case\": \"qcow2\", \"type\": \"q_empty\"}"
#define D_VARIANT_QED                                                          \
    ", {\"case\": \"qed\", \"type\": \"q_empty\","                             \
    " \"features\": [\"deprecated\"]}"
#define U_VARIANT_VMDK                                                         \
    ", {\"case\": \"x-vmdk\", \"type\": \"q_empty\","                          \
    " \"features\": [\"unstable\"]}"
#define UNION_END "]}"
#define ODDITY_START                                                           \
    ", {\"name\": \"Oddity\", \"meta-type\": \"object\", \"members\": ["
#define D_ODDITY_QED                                                           \
    "{\"name\": \"qed\", \"type\": \"str\", \"features\": [\"deprecated\"]}"
#define ODDITY_END "], \"values\": [\"qed\"]}"
#define BUILTINS                                                               \
    ", {\"name\": \"str\", \"meta-type\": \"builtin\","                        \
    " \"json-type\": \"string\"}"                                              \
    ", {\"name\": \"int\", \"meta-type\": \"builtin\", \"json-type\": "        \
    "\"int\"}"

#define SCHEMA_JSON(D, U)                                                      \
    "[" CMD_SYNC D(D_CMD_OLD) U(U_CMD_PROBE) EVENT ARG_START D(D_ARG_LEGACY)   \
    ARG_END EMPTY_AND_ARRAY DEV_START U(U_DEV_HINT)                            \
    DEV_END                                                                    \
    ENUM_START D(D_ENUM_QED) U(U_ENUM_VMDK) ENUM_VALUES D(D_VALUE_QED)         \
        U(U_VALUE_VMDK) ENUM_END UNION_START                                   \
        D(D_VARIANT_QED) U(U_VARIANT_VMDK) UNION_END ODDITY_START              \
        D(D_ODDITY_QED)                                                        \
    ODDITY_END BUILTINS "]"
#define SHOW(piece) piece
#define HIDE(piece)

static void set_policy(QapiOutputPolicy deprecated, QapiOutputPolicy unstable,
                       QapiInputPolicy input)
{
    QapiCompatPolicy policy = {
        .deprecated_input = input,
        .deprecated_output = deprecated,
        .unstable_input = input,
        .unstable_output = unstable,
    };

    qapi_compat_policy_set(&policy);
}

static void assert_schema(const char *expected)
{
    json_object *reply = qapi_introspect_schema(&schema, NULL);

    g_assert_cmpint(json_object_get_type(reply), ==, json_type_array);
    assert_json(reply, expected);
    json_object_put(reply);
}

static void test_schema_unfiltered(void)
{
    json_object *all = qlit_to_json(&schema);

    assert_json(all, SCHEMA_JSON(SHOW, SHOW));
    json_object_put(all);

    /* Accept-all policy: the schema whole. */
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
    assert_schema(SCHEMA_JSON(SHOW, SHOW));

    /* Input policy does not hide anything. */
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT);
    assert_schema(SCHEMA_JSON(SHOW, SHOW));
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
}

static void test_schema_hide_deprecated(void)
{
    set_policy(QAPI_OUTPUT_HIDE, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
    assert_schema(SCHEMA_JSON(HIDE, SHOW));

    /* qlit_to_json() never filters. */
    {
        json_object *all = qlit_to_json(&schema);

        assert_json(all, SCHEMA_JSON(SHOW, SHOW));
        json_object_put(all);
    }
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
}

static void test_schema_hide_unstable(void)
{
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT);
    assert_schema(SCHEMA_JSON(SHOW, HIDE));
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
}

static void test_schema_hide_both(void)
{
    set_policy(QAPI_OUTPUT_HIDE, QAPI_OUTPUT_HIDE, QAPI_INPUT_REJECT);
    assert_schema(SCHEMA_JSON(HIDE, HIDE));
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
    assert_schema(SCHEMA_JSON(SHOW, SHOW));
}

/* A repeated key: the filter reads the value the output shows, the last. */
static const QLitObject repeated =
    LIST(DICT({ "name", STR("shown") }, { "features", LIST(STR("deprecated")) },
              { "features", LIST(STR("custom")) }),
         DICT({ "name", STR("hidden") }, { "features", LIST(STR("custom")) },
              { "features", LIST(STR("deprecated")) }));

static void test_schema_repeated_key(void)
{
    json_object *reply;

    set_policy(QAPI_OUTPUT_HIDE, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
    reply = qapi_introspect_schema(&repeated, NULL);
    assert_json(reply, "[{\"name\": \"shown\", \"features\": [\"custom\"]}]");
    json_object_put(reply);
    set_policy(QAPI_OUTPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/qlit/scalars", test_scalars);
    g_test_add_func("/qlit/containers", test_containers);
    g_test_add_func("/qlit/misuse", test_misuse);
    g_test_add_func("/qlit/schema/unfiltered", test_schema_unfiltered);
    g_test_add_func("/qlit/schema/hide-deprecated",
                    test_schema_hide_deprecated);
    g_test_add_func("/qlit/schema/hide-unstable", test_schema_hide_unstable);
    g_test_add_func("/qlit/schema/hide-both", test_schema_hide_both);
    g_test_add_func("/qlit/schema/repeated-key", test_schema_repeated_key);

    return g_test_run();
}
