/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the kitchen sink's generated commands and events through
 * the runtime: qmp_init_marshal() registration (docs/spec/qapi-language.md
 * §13.4/4), dispatch of every command and flag through qmp_dispatch()
 * (docs/spec/qmp-protocol.md §4-§6) with the handlers of
 * kitchen-sink-handlers.c, a gen: false command with its marshaller registered
 * by hand, and every event through an emitter installed with
 * qapi_event_set_emitter() (§3.6/2, §13.5), under the compatibility policy
 * (§6/3).
 */
#include "kitchen-sink-handlers.h"
#include "kitchen-sink-test-util.h"
#include "json-test-util.h"

#include <string.h>

#include "qapi-emit-events.h"
#include "qapi-events.h"
#include "qapi-init-commands.h"

/* Fixture: a registry filled by qmp_init_marshal(), default policy. */
typedef struct Fixture {
    QmpCommandList *cmds;
} Fixture;

static void policy_reset(void)
{
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    policy_reset();
    ks_handlers_reset();
    f->cmds = qmp_command_list_new();
    qmp_init_marshal(f->cmds);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    qmp_command_list_free(f->cmds);
    ks_handlers_reset();
    policy_reset();
}

/* The response to the request TEXT; NULL when there is none. */
static json_object *dispatch(Fixture *f, const char *text, bool allow_oob)
{
    json_object *request = ks_json_parse(text);
    json_object *resp = qmp_dispatch(f->cmds, request, allow_oob);

    json_object_put(request);
    return resp;
}

/* Dispatch TEXT; the response must be RESPONSE (JSON text). */
static void assert_dispatch(Fixture *f, const char *text, bool allow_oob,
                            const char *response)
{
    json_object *resp = dispatch(f, text, allow_oob);

    g_assert_nonnull(resp);
    ks_assert_json_eq(resp, response);
    json_object_put(resp);
}

/*
 * Dispatch TEXT; the response must be an error of class CLASS saying
 * DESC, with ID (JSON text) or without an id when ID is NULL.
 */
static void assert_dispatch_error(Fixture *f, const char *text, bool allow_oob,
                                  const char *error_class, const char *desc,
                                  const char *id)
{
    json_object *resp = dispatch(f, text, allow_oob);
    json_object *error, *member;

    g_assert_nonnull(resp);
    if (!json_object_object_get_ex(resp, "error", &error)) {
        g_autofree char *got = ks_json_text(resp);

        g_error("no error in %s for %s", got, text);
    }
    json_test_assert_members(resp, id ? "error,id" : "error");
    json_test_assert_members(error, "class,desc");
    g_assert_true(json_object_object_get_ex(error, "class", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, error_class);
    g_assert_true(json_object_object_get_ex(error, "desc", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, desc);
    if (id) {
        g_assert_true(json_object_object_get_ex(resp, "id", &member));
        ks_assert_json_eq(member, id);
    }
    json_object_put(resp);
}

/* Registration */

typedef struct ExpectedCommand {
    const char *name;
    QmpMarshalFunc fn;
    unsigned options;
    unsigned special_features;
} ExpectedCommand;

/*
 * Every gen'd command in QEMU's module order: the main module's, then
 * the included module's, although the include comes first.
 */
static const ExpectedCommand expected_commands[] = {
    { "ks-no-args", qmp_marshal_ks_no_args, 0, 0 },
    { "ks-inline-args", qmp_marshal_ks_inline_args, 0, 0 },
    { "ks-struct-args", qmp_marshal_ks_struct_args, 0, 0 },
    { "ks-boxed-union", qmp_marshal_ks_boxed_union, 0, 0 },
    { "ks-boxed-struct", qmp_marshal_ks_boxed_struct, 0, 0 },
    { "ks-return-int", qmp_marshal_ks_return_int, 0, 0 },
    { "ks-return-str-list", qmp_marshal_ks_return_str_list, 0, 0 },
    { "ks-return-enum", qmp_marshal_ks_return_enum, 0, 0 },
    { "ks-return-any", qmp_marshal_ks_return_any, 0, 0 },
    { "ks-return-alternate", qmp_marshal_ks_return_alternate, 0, 0 },
    /* ks-gen-false and ks-gen-no: gen false, not registered */
    { "ks-no-success-response", qmp_marshal_ks_no_success_response,
      QCO_NO_SUCCESS_RESP, 0 },
    { "ks-no-success-response-2012", qmp_marshal_ks_no_success_response_2012,
      QCO_NO_SUCCESS_RESP, 0 },
    { "ks-oob", qmp_marshal_ks_oob, QCO_ALLOW_OOB, 0 },
    { "ks-preconfig", qmp_marshal_ks_preconfig, QCO_ALLOW_PRECONFIG, 0 },
    { "ks-coroutine", qmp_marshal_ks_coroutine, QCO_COROUTINE, 0 },
    { "ks-all-flags", qmp_marshal_ks_all_flags,
      QCO_NO_SUCCESS_RESP | QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG, 0 },
    { "ks-deprecated-cmd", qmp_marshal_ks_deprecated_cmd, 0,
      1u << QAPI_DEPRECATED },
    { "ks-unstable-cmd", qmp_marshal_ks_unstable_cmd, 0, 1u << QAPI_UNSTABLE },
#if KS_HAVE_COND_STRUCT
    { "ks-conditional-cmd", qmp_marshal_ks_conditional_cmd, 0, 0 },
#endif
    { "ks_legacy_cmd", qmp_marshal_ks_legacy_cmd, 0, 0 },
    { "ks-legacy-args", qmp_marshal_ks_legacy_args, 0, 0 },
    { "x-ks-experimental", qmp_marshal_x_ks_experimental, 0, 0 },
    { "__org.example_ks-downstream", qmp_marshal___org_example_ks_downstream, 0,
      0 },
    { "ks-use-everything", qmp_marshal_ks_use_everything, 0, 0 },
    { "ks-sub-echo", qmp_marshal_ks_sub_echo, 0, 0 },
};

static void collect_command(const QmpCommandInfo *info, void *opaque)
{
    g_ptr_array_add(opaque, (gpointer)info);
}

static void test_registration(Fixture *f, gconstpointer data)
{
    g_autoptr(GPtrArray) seen = g_ptr_array_new();
    guint i;

    (void)data;
    qmp_for_each_command(f->cmds, collect_command, seen);
    for (i = 0; i < MIN(seen->len, G_N_ELEMENTS(expected_commands)); i++) {
        const QmpCommandInfo *info = g_ptr_array_index(seen, i);
        const ExpectedCommand *want = &expected_commands[i];

        g_test_message("command %u: %s", i, info->name);
        g_assert_cmpstr(info->name, ==, want->name);
        g_assert_true(info->fn == want->fn);
        g_assert_cmphex(info->options, ==, want->options);
        g_assert_cmphex(info->special_features, ==, want->special_features);
        g_assert_true(info->enabled);
        g_assert_true(qmp_find_command(f->cmds, want->name) == info);
    }
    g_assert_cmpuint(seen->len, ==, G_N_ELEMENTS(expected_commands));

    /* gen: false commands are the application's to register. */
    g_assert_null(qmp_find_command(f->cmds, "ks-gen-false"));
    g_assert_null(qmp_find_command(f->cmds, "ks-gen-no"));
    g_assert_null(qmp_find_command(f->cmds, "ks_gen_false"));
}

static void test_registration_conditional(Fixture *f, gconstpointer data)
{
    (void)data;
#if KS_HAVE_COND_STRUCT
    g_assert_nonnull(qmp_find_command(f->cmds, "ks-conditional-cmd"));
#else
    g_assert_null(qmp_find_command(f->cmds, "ks-conditional-cmd"));
#endif
#if defined(TEST_IF_A) && !defined(TEST_IF_C)
    /* This build's defines (kitchen_sink_c_args) compile it in. */
    g_assert_true(KS_HAVE_COND_STRUCT);
#endif
    /* Registering twice keeps one entry per command, in place. */
    qmp_init_marshal(f->cmds);
    {
        g_autoptr(GPtrArray) seen = g_ptr_array_new();

        qmp_for_each_command(f->cmds, collect_command, seen);
        g_assert_cmpuint(seen->len, ==, G_N_ELEMENTS(expected_commands));
    }
}

/* Commands without arguments or result, and the envelope around them */

static void test_no_args(Fixture *f, gconstpointer data)
{
    (void)data;
    assert_dispatch(f, "{\"execute\": \"ks-no-args\"}", false,
                    "{\"return\": {}}");
    assert_dispatch(f,
                    "{\"execute\": \"ks-no-args\", \"arguments\": {},"
                    " \"id\": [1, \"a\"]}",
                    false, "{\"return\": {}, \"id\": [1, \"a\"]}");
    g_assert_cmpuint(ks_handlers_calls(), ==, 2);
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-no-args");

    /* Unknown arguments of a command that takes none. */
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-no-args\", \"arguments\":"
                          " {\"x\": 1}, \"id\": 3}",
                          false, "GenericError",
                          "'x' is not an expected member", "3");
    g_assert_cmpuint(ks_handlers_calls(), ==, 2);

    /* The handler's failure, with its class. */
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICENOTACTIVE);
    assert_dispatch_error(f, "{\"execute\": \"ks-no-args\", \"id\": null}",
                          false, "DeviceNotActive",
                          "ks-no-args: failing with DeviceNotActive as asked",
                          "null");

    assert_dispatch_error(f, "{\"execute\": \"ks-gen-false\", \"id\": 1}",
                          false, "CommandNotFound",
                          "command 'ks-gen-false' does not exist", "1");
    assert_dispatch_error(f, "{\"execute\": \"ks_no_args\"}", false,
                          "CommandNotFound",
                          "command 'ks_no_args' does not exist", NULL);

    /* Disabled commands are not found. */
    g_assert_true(qmp_command_set_enabled(f->cmds, "ks-no-args", false));
    assert_dispatch_error(f, "{\"execute\": \"ks-no-args\"}", false,
                          "CommandNotFound",
                          "command 'ks-no-args' does not exist", NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);
}

/* Arguments: inline, named struct, boxed; missing and unknown ones */

static void test_inline_args(Fixture *f, gconstpointer data)
{
    (void)data;
    assert_dispatch(f,
                    "{\"execute\": \"ks-inline-args\", \"arguments\":"
                    " {\"a\": 5, \"b\": \"bee\", \"colors\": [\"red\","
                    " \"3d\"], \"alt\": [1, 2], \"default\": true},"
                    " \"id\": \"i\"}",
                    false,
                    "{\"return\": {\"base-id\": 5, \"base-note\": \"bee\"},"
                    " \"id\": \"i\"}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-inline-args a=5 b='bee' "
                    "colors=[red,3d] alt=list:[1,2] default=true");

    /* Optional arguments absent; the keyword-named one false. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-inline-args\", \"arguments\":"
                    " {\"colors\": [], \"a\": -1, \"default\": false}}",
                    false, "{\"return\": {\"base-id\": -1}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-inline-args a=-1 b=absent "
                    "colors=[] alt=absent default=false");
    assert_dispatch(f,
                    "{\"execute\": \"ks-inline-args\", \"arguments\":"
                    " {\"a\": 0, \"colors\": [\"__org.example_ultra\"],"
                    " \"alt\": \"text\"}}",
                    false, "{\"return\": {\"base-id\": 0}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-inline-args a=0 b=absent "
                    "colors=[__org.example_ultra] alt=text:'text' "
                    "default=absent");
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* Argument errors: the handler is not called. */
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"colors\": []}, \"id\": 1}",
                          false, "GenericError", "'a' is missing", "1");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1}}",
                          false, "GenericError", "'colors' is missing", NULL);
    assert_dispatch_error(f, "{\"execute\": \"ks-inline-args\"}", false,
                          "GenericError", "'a' is missing", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"c\": 2}}",
                          false, "GenericError",
                          "'c' is not an expected member", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\":"
                          " [\"red\", 7]}}",
                          false, "GenericError",
                          "'colors[1]': expected a string, got an integer",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"alt\": {}}}",
                          false, "GenericError",
                          "'alt' has no branch for this kind of JSON value "
                          "in alternate KsAltStrArray",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"alt\": [1, \"x\"]}}",
                          false, "GenericError",
                          "'alt[1]': expected an integer, got a string", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"b\": null}}",
                          false, "GenericError",
                          "'b': expected a string, got null", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"b\": \"x\\u0000\"}}",
                          false, "GenericError",
                          "'b': the string contains a NUL character", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1.0, \"colors\": []}}",
                          false, "GenericError",
                          "'a': expected an integer, got a number", NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* The handler fails as the argument asks. */
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\","
                          " \"arguments\": {\"a\": 1, \"colors\": [],"
                          " \"b\": \"fail:DeviceNotFound\"}, \"id\": 9}",
                          false, "DeviceNotFound",
                          "ks-inline-args: failing "
                          "with DeviceNotFound as asked",
                          "9");
    g_assert_cmpuint(ks_handlers_calls(), ==, 4);
}

static void test_struct_args(Fixture *f, gconstpointer data)
{
    (void)data;
    /* The members of KsDerived, base first, are the arguments. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-struct-args\", \"arguments\":"
                    " {\"base-id\": 2, \"base-note\": \"n\", \"middle\": true,"
                    " \"leaf\": 0.5, \"sub\": {\"count\": 1}}}",
                    false,
                    "{\"return\": [{\"base-id\": 0, \"base-note\": \"n\"},"
                    " {\"base-id\": 1, \"base-note\": \"n\"}]}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-struct-args base-id=2 "
                    "base-note='n' middle=true leaf=0.5 "
                    "sub={count=1 label=absent}");
    /* An empty list is a NULL list: []. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-struct-args\", \"arguments\":"
                    " {\"base-id\": 0, \"middle\": false, \"leaf\": -1}}",
                    false, "{\"return\": []}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-struct-args base-id=0 "
                    "base-note=absent middle=false leaf=-1 sub=absent");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-struct-args\", \"arguments\":"
                          " {\"base-id\": 17, \"middle\": false,"
                          " \"leaf\": 1.0}}",
                          false, "GenericError",
                          "ks-struct-args: 'base-id' must be 0 to 16", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-struct-args\", \"arguments\":"
                          " {\"base-id\": 1, \"middle\": false}}",
                          false, "GenericError", "'leaf' is missing", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-struct-args\", \"arguments\":"
                          " {\"base-id\": 1, \"middle\": false, \"leaf\": 1.0,"
                          " \"sub\": {\"count\": 1, \"bogus\": true}}}",
                          false, "GenericError",
                          "'sub.bogus' is not an expected member", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-struct-args\", \"arguments\":"
                          " {\"base-id\": 1, \"middle\": false, \"leaf\": 1.0,"
                          " \"base-note\": \"fail:InvalidBlockFormat\"}}",
                          false, "InvalidBlockFormat",
                          "ks-struct-args: "
                          "failing with InvalidBlockFormat as asked",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 4);
}

static void test_boxed(Fixture *f, gconstpointer data)
{
    (void)data;
    /* A union, whole. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-boxed-union\", \"arguments\":"
                    " {\"kind\": \"derived\", \"note\": \"in\", \"base-id\": 3,"
                    " \"middle\": true, \"leaf\": 2.5}}",
                    false,
                    "{\"return\": {\"kind\": \"derived\", \"note\": \"echo\","
                    " \"base-id\": 3, \"middle\": true, \"leaf\": 2.5}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-boxed-union kind=derived note='in'");
    assert_dispatch(
        f,
        "{\"execute\": \"ks-boxed-union\", \"arguments\":"
        " {\"kind\": \"empty-one\"}}",
        false, "{\"return\": {\"kind\": \"empty-one\", \"note\": \"echo\"}}");
    assert_dispatch(
        f,
        "{\"execute\": \"ks-boxed-union\", \"arguments\":"
        " {\"kind\": \"nested\", \"tag\": \"alpha\", \"common\": 1,"
        " \"alpha-value\": \"a\", \"alpha-list\": []}}",
        false,
        "{\"return\": {\"kind\": \"nested\", \"note\": \"echo\","
        " \"tag\": \"alpha\", \"common\": 1, \"alpha-value\": \"a\","
        " \"alpha-list\": []}}");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-union\", \"arguments\":"
                          " {\"kind\": \"nope\"}}",
                          false, "GenericError",
                          "'kind': 'nope' is not a value of the enum"
#if defined(TEST_IF_UNION_BRANCH)
                          " (expected 'plain', 'derived', 'nested', "
                          "'empty-one', 'cond-one' or 'int')",
#else
                          " (expected 'plain', 'derived', 'nested', "
                          "'empty-one' or 'int')",
#endif
                          NULL);
    assert_dispatch_error(f, "{\"execute\": \"ks-boxed-union\"}", false,
                          "GenericError", "'kind' is missing", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-union\", \"arguments\":"
                          " {\"kind\": \"int\", \"int-value\": 1,"
                          " \"note\": \"fail:DeviceInUse\"}}",
                          false, "DeviceInUse",
                          "ks-boxed-union: failing with "
                          "DeviceInUse as asked",
                          NULL);

    /* A struct with conditional and special-featured members. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-boxed-struct\", \"arguments\":"
                    " {\"plain\": 1, \"old\": 2, \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
                    ", \"cond\": 3"
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
                    ", \"both\": \"blue\""
#endif
                    ", \"default\": true}}",
                    false, "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-boxed-struct plain=1 old=2 "
                    "experimental='e'"
#if defined(TEST_IF_MEMBER)
                    " cond=3"
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
                    " both=blue"
#endif
                    " default=true");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-struct\", \"arguments\":"
                          " {\"plain\": 1, \"old\": 2"
#if defined(TEST_IF_MEMBER)
                          ", \"cond\": 3"
#endif
                          ", \"default\": true,"
                          " \"experimental\": \"fail:OpenFileFailed\"}}",
                          false, "OpenFileFailed",
                          "ks-boxed-struct: failing "
                          "with OpenFileFailed as asked",
                          NULL);
#if defined(TEST_IF_MEMBER)
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-struct\", \"arguments\":"
                          " {\"plain\": 1, \"old\": 2, \"default\": true}}",
                          false, "GenericError", "'cond' is missing", NULL);
#endif
    g_assert_cmpuint(ks_handlers_calls(), ==, 6);
}

/* Returns of each shape */

static void test_returns(Fixture *f, gconstpointer data)
{
    (void)data;
    /* A built-in int. */
    assert_dispatch(f, "{\"execute\": \"ks-return-int\"}", false,
                    "{\"return\": 42}");
    ks_handler_config.return_int = INT64_MIN;
    assert_dispatch(f, "{\"execute\": \"ks-return-int\"}", false,
                    "{\"return\": -9223372036854775808}");

    /* A list of str; the empty list. */
    assert_dispatch(f, "{\"execute\": \"ks-return-str-list\"}", false,
                    "{\"return\": [\"s0\", \"s1\", \"s2\"]}");
    ks_handler_config.str_list_length = 0;
    assert_dispatch(f, "{\"execute\": \"ks-return-str-list\"}", false,
                    "{\"return\": []}");

    /* An enum, also a value with a special feature. */
    assert_dispatch(f, "{\"execute\": \"ks-return-enum\"}", false,
                    "{\"return\": \"3d\"}");
    ks_handler_config.return_enum = KS_COL_BLUE;
    ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_HIDE, QAPI_INPUT_REJECT,
                  QAPI_OUTPUT_HIDE);
    assert_dispatch(f, "{\"execute\": \"ks-return-enum\"}", false,
                    "{\"return\": \"blue\"}");
    policy_reset();
    /* any: JSON null, then a tree. */
    assert_dispatch(f, "{\"execute\": \"ks-return-any\"}", false,
                    "{\"return\": null}");
    ks_handler_config.return_any = ks_json_parse("{\"a\": [1, {\"b\": null}]}");
    assert_dispatch(f, "{\"execute\": \"ks-return-any\"}", false,
                    "{\"return\": {\"a\": [1, {\"b\": null}]}}");
    /* The handler handed over a reference of its own. */
    ks_assert_json_eq(ks_handler_config.return_any,
                      "{\"a\": [1, {\"b\": null}]}");

    /* An alternate, each branch. */
    assert_dispatch(f, "{\"execute\": \"ks-return-alternate\"}", false,
                    "{\"return\": \"alt-text\"}");
    ks_handler_config.return_alt_list = true;
    assert_dispatch(f, "{\"execute\": \"ks-return-alternate\"}", false,
                    "{\"return\": [1, 2, 3]}");

    /* A struct, a list of structs, a union: see the other tests; here a
     * union with a named base. */
    assert_dispatch(f, "{\"execute\": \"ks-unstable-cmd\"}", false,
                    "{\"return\": {\"tag\": \"alpha\", \"common\": 7,"
                    " \"alpha-value\": \"unstable\", \"alpha-list\": [1, 2]}}");

    /* A failing handler of each return shape answers its error. */
    ks_handlers_fail_next(QAPI_ERROR_CLASS_KVMMISSINGCAP);
    assert_dispatch_error(f, "{\"execute\": \"ks-return-int\"}", false,
                          "KVMMissingCap",
                          "ks-return-int: failing with "
                          "KVMMissingCap as asked",
                          NULL);
    ks_handlers_fail_next(QAPI_ERROR_CLASS_GENERICERROR);
    assert_dispatch_error(f, "{\"execute\": \"ks-return-str-list\"}", false,
                          "GenericError",
                          "ks-return-str-list: failing with "
                          "GenericError as asked",
                          NULL);
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICENOTFOUND);
    assert_dispatch_error(f, "{\"execute\": \"ks-return-alternate\"}", false,
                          "DeviceNotFound",
                          "ks-return-alternate: failing "
                          "with DeviceNotFound as asked",
                          NULL);
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICENOTFOUND);
    assert_dispatch_error(f, "{\"execute\": \"ks-return-any\"}", false,
                          "DeviceNotFound",
                          "ks-return-any: failing "
                          "with DeviceNotFound as asked",
                          NULL);
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICENOTFOUND);
    assert_dispatch_error(f, "{\"execute\": \"ks-return-enum\"}", false,
                          "DeviceNotFound",
                          "ks-return-enum: failing "
                          "with DeviceNotFound as asked",
                          NULL);
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICEINUSE);
    assert_dispatch_error(f, "{\"execute\": \"ks-unstable-cmd\"}", false,
                          "DeviceInUse",
                          "ks-unstable-cmd: failing "
                          "with DeviceInUse as asked",
                          NULL);
}

/*
 * A result the output visitor cannot write (an enum value out of range)
 * fails the marshaller, not the process: GenericError, the handler's
 * result freed.  The message should name the value as the runtime does
 * at top level ("the value: 7 is not ..."), not by the marshaller's
 * internal visitor name.
 */
static void test_returns_invalid_enum(Fixture *f, gconstpointer data)
{
    g_autofree char *expected = g_strdup_printf(
        "the value: %d is not a value of the enum", (int)KS_COL__MAX);
    json_object *resp, *error, *member;
    const char *desc;

    (void)data;
    ks_handler_config.return_enum = KS_COL__MAX;
    resp = dispatch(f, "{\"execute\": \"ks-return-enum\", \"id\": 2}", false);
    g_assert_nonnull(resp);
    json_test_assert_members(resp, "error,id");
    g_assert_true(json_object_object_get_ex(resp, "error", &error));
    g_assert_true(json_object_object_get_ex(error, "class", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, "GenericError");
    g_assert_true(json_object_object_get_ex(error, "desc", &member));
    desc = json_object_get_string(member);
    g_assert_cmpstr(desc, ==, expected);
    json_object_put(resp);
    g_assert_cmpuint(ks_handlers_calls(), ==, 1);
}

/* Flags */

static void test_no_success_response(Fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_null(dispatch(f,
                           "{\"execute\": \"ks-no-success-response\","
                           " \"arguments\": {\"delay\": 5}, \"id\": 1}",
                           false));
    g_assert_cmpuint(ks_handlers_calls(), ==, 1);
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-no-success-response delay=5");
    g_assert_null(dispatch(f,
                           "{\"execute\": \"ks-no-success-response\","
                           " \"arguments\": {\"delay\": 18446744073709551615}}",
                           false));
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-no-success-response delay=18446744073709551615");

    /* Errors are still answered: the handler's, and the arguments'. */
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-no-success-response\","
                          " \"arguments\": {\"delay\": 0}, \"id\": \"z\"}",
                          false, "GenericError",
                          "ks-no-success-response: "
                          "'delay' must not be 0",
                          "\"z\"");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-no-success-response\","
                          " \"id\": 2}",
                          false, "GenericError", "'delay' is missing", "2");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-no-success-response\","
                          " \"arguments\": {\"delay\": -1}}",
                          false, "GenericError",
                          "'delay' is out of range for "
                          "uint64 (0 to 18446744073709551615)",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* The 2012 spelling 'no'. */
    g_assert_null(dispatch(f,
                           "{\"execute\": "
                           "\"ks-no-success-response-2012\"}",
                           false));
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-no-success-response-2012");
    ks_handlers_fail_next(QAPI_ERROR_CLASS_GENERICERROR);
    assert_dispatch_error(f, "{\"execute\": \"ks-no-success-response-2012\"}",
                          false, "GenericError",
                          "ks-no-success-response-2012: "
                          "failing with GenericError as asked",
                          NULL);
    g_assert_null(dispatch(f, "{\"execute\": \"ks-all-flags\"}", false));
    g_assert_cmpuint(ks_handlers_calls(), ==, 6);
}

static void test_oob(Fixture *f, gconstpointer data)
{
    json_object *request;

    (void)data;
    assert_dispatch(f, "{\"exec-oob\": \"ks-oob\", \"id\": 1}", true,
                    "{\"return\": {}, \"id\": 1}");
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-oob");
    /* In band too. */
    assert_dispatch(f, "{\"execute\": \"ks-oob\"}", true, "{\"return\": {}}");
    assert_dispatch(f, "{\"execute\": \"ks-oob\"}", false, "{\"return\": {}}");
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* Refused when the session did not enable OOB. */
    assert_dispatch_error(f, "{\"exec-oob\": \"ks-oob\", \"id\": 2}", false,
                          "GenericError",
                          "request member 'exec-oob' is not "
                          "allowed: out-of-band execution is not enabled",
                          "2");
    /* Refused for a command without allow-oob. */
    assert_dispatch_error(f, "{\"exec-oob\": \"ks-no-args\", \"id\": 3}", true,
                          "GenericError",
                          "command 'ks-no-args' cannot run out of band", "3");
    assert_dispatch_error(
        f, "{\"exec-oob\": \"ks-preconfig\"}", true, "GenericError",
        "command 'ks-preconfig' cannot run out of band", NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* allow-oob with success-response false: silent out of band. */
    g_assert_null(
        dispatch(f, "{\"exec-oob\": \"ks-all-flags\", \"id\": 4}", true));
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-all-flags");

    request = ks_json_parse("{\"exec-oob\": \"ks-oob\"}");
    g_assert_true(qmp_is_oob(request));
    json_object_put(request);
    request = ks_json_parse("{\"execute\": \"ks-oob\"}");
    g_assert_false(qmp_is_oob(request));
    json_object_put(request);
}

static void test_preconfig_coroutine(Fixture *f, gconstpointer data)
{
    (void)data;
    /* Registration flags only: they run as any command does. */
    assert_dispatch(f, "{\"execute\": \"ks-preconfig\"}", false,
                    "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-preconfig");
    assert_dispatch(f, "{\"execute\": \"ks-coroutine\", \"id\": {\"c\": 1}}",
                    false, "{\"return\": {}, \"id\": {\"c\": 1}}");
    g_assert_cmpstr(ks_handlers_last(), ==, "ks-coroutine");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-coroutine\", \"arguments\":"
                          " {\"co\": true}}",
                          false, "GenericError",
                          "'co' is not an expected member", NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 2);
}

/* Special features: the input policy */

static void test_deprecated_unstable(Fixture *f, gconstpointer data)
{
    (void)data;
    /* Accepted by default, special-featured arguments too. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-deprecated-cmd\", \"arguments\":"
                    " {\"old-arg\": 1, \"new-arg\": \"n\"}}",
                    false, "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-deprecated-cmd old-arg=1 new-arg='n'");
    assert_dispatch(f, "{\"execute\": \"ks-unstable-cmd\"}", false,
                    "{\"return\": {\"tag\": \"alpha\", \"common\": 7,"
                    " \"alpha-value\": \"unstable\", \"alpha-list\": [1, 2]}}");

    /* Input reject deprecated: the command is refused before it runs. */
    ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    assert_dispatch_error(f, "{\"execute\": \"ks-deprecated-cmd\", \"id\": 5}",
                          false, "CommandNotFound",
                          "command "
                          "'ks-deprecated-cmd' is deprecated and disabled by "
                          "policy",
                          "5");
    assert_dispatch(f, "{\"execute\": \"ks-unstable-cmd\"}", false,
                    "{\"return\": {\"tag\": \"alpha\", \"common\": 7,"
                    " \"alpha-value\": \"unstable\", \"alpha-list\": [1, 2]}}");
    /* ... and so are deprecated members and enum values. */
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-struct\", \"arguments\":"
                          " {\"plain\": 1, \"old\": 2, \"default\": true}}",
                          false, "GenericError",
                          "'old' is deprecated and "
                          "refused by the compatibility policy",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\", \"arguments\":"
                          " {\"a\": 1, \"colors\": [\"red\", \"blue\"]}}",
                          false, "GenericError",
                          "'colors[1]': 'blue' is "
                          "deprecated and refused by the compatibility "
                          "policy",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);

    /* Input reject unstable. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT,
                  QAPI_OUTPUT_ACCEPT);
    assert_dispatch_error(f, "{\"execute\": \"ks-unstable-cmd\"}", false,
                          "CommandNotFound",
                          "command 'ks-unstable-cmd' is "
                          "unstable and disabled by policy",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-deprecated-cmd\", \"arguments\":"
                          " {\"old-arg\": 1, \"new-arg\": \"n\"}}",
                          false, "GenericError",
                          "'new-arg' is unstable and refused "
                          "by the compatibility policy",
                          NULL);
    /* An absent unstable argument is not refused. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-deprecated-cmd\", \"arguments\":"
                    " {\"old-arg\": 2}}",
                    false, "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-deprecated-cmd old-arg=2 new-arg=absent");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-boxed-struct\", \"arguments\":"
                          " {\"plain\": 1, \"old\": 2, \"experimental\": \"x\""
#if defined(TEST_IF_MEMBER)
                          ", \"cond\": 3"
#endif
                          ", \"default\": true}}",
                          false, "GenericError",
                          "'experimental' is unstable and refused by the "
                          "compatibility policy",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-inline-args\", \"arguments\":"
                          " {\"a\": 1, \"colors\": [\"x-violet\"]}}",
                          false, "GenericError",
                          "'colors[0]': 'x-violet' is unstable "
                          "and refused by the compatibility policy",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 4);

    /* Output hide does not refuse anything. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    assert_dispatch(f,
                    "{\"execute\": \"ks-deprecated-cmd\", \"arguments\":"
                    " {\"old-arg\": 3}}",
                    false, "{\"return\": {}}");
    ks_handlers_fail_next(QAPI_ERROR_CLASS_DEVICEINUSE);
    assert_dispatch_error(f, "{\"execute\": \"ks-deprecated-cmd\"}", false,
                          "DeviceInUse",
                          "ks-deprecated-cmd: failing with "
                          "DeviceInUse as asked",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-deprecated-cmd\", \"arguments\":"
                          " {\"new-arg\": \"fail:GenericError\"}}",
                          false, "GenericError",
                          "ks-deprecated-cmd: failing with "
                          "GenericError as asked",
                          NULL);
}

/*
 * A command list's own policy: it applies to its commands and their
 * arguments, while another list (and the process default) accept all.
 */
static void test_policy_per_list(Fixture *f, gconstpointer data)
{
    static const QapiCompatPolicy strict = {
        .deprecated_input = QAPI_INPUT_REJECT,
        .deprecated_output = QAPI_OUTPUT_HIDE,
    };
    Fixture g = { .cmds = qmp_command_list_new() };

    (void)data;
    qmp_init_marshal(g.cmds);
    qmp_command_list_set_policy(g.cmds, &strict);
    g_assert_true(qmp_command_list_get_policy(g.cmds) != &strict);
    g_assert_cmpint(qmp_command_list_get_policy(g.cmds)->deprecated_input, ==,
                    QAPI_INPUT_REJECT);
    g_assert_null(qmp_command_list_get_policy(f->cmds));

    assert_dispatch_error(&g, "{\"execute\": \"ks-deprecated-cmd\"}", false,
                          "CommandNotFound",
                          "command 'ks-deprecated-cmd' is "
                          "deprecated and disabled by policy",
                          NULL);
    assert_dispatch(f, "{\"execute\": \"ks-deprecated-cmd\"}", false,
                    "{\"return\": {}}");
    assert_dispatch_error(&g,
                          "{\"execute\": \"ks-inline-args\", "
                          "\"arguments\": {\"a\": 1, \"colors\": [\"blue\"]}}",
                          false, "GenericError",
                          "'colors[0]': 'blue' is "
                          "deprecated and refused by the compatibility "
                          "policy",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 1);
    {
        json_object *resp = dispatch(f,
                                     "{\"execute\": \"ks-inline-args\","
                                     " \"arguments\": {\"a\": 1,"
                                     " \"colors\": [\"blue\"]}}",
                                     false);

        g_assert_true(json_object_object_get_ex(resp, "return", NULL));
        json_object_put(resp);
    }
    g_assert_true(g_str_has_prefix(ks_handlers_last(), "ks-inline-args a=1"));

    /* Without a policy of its own, a list follows the process default. */
    qmp_command_list_set_policy(g.cmds, NULL);
    g_assert_null(qmp_command_list_get_policy(g.cmds));
    assert_dispatch(&g, "{\"execute\": \"ks-deprecated-cmd\"}", false,
                    "{\"return\": {}}");
    qmp_command_list_free(g.cmds);
}

/* Conditional, legacy, downstream and x- commands; the included module */

static void test_conditional(Fixture *f, gconstpointer data)
{
    (void)data;
#if KS_HAVE_COND_STRUCT
    assert_dispatch(f,
                    "{\"execute\": \"ks-conditional-cmd\", \"arguments\":"
                    " {\"value\": 21"
#if defined(TEST_IF_ARG)
                    ", \"extra\": \"e\""
#endif
                    "}}",
                    false, "{\"return\": {\"value\": 42}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-conditional-cmd value=21"
#if defined(TEST_IF_ARG)
                    " extra='e'"
#endif
    );
#if defined(TEST_IF_ARG)
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-conditional-cmd\","
                          " \"arguments\": {\"value\": 1,"
                          " \"extra\": \"fail:DeviceNotActive\"}}",
                          false, "DeviceNotActive",
                          "ks-conditional-cmd: failing "
                          "with DeviceNotActive as asked",
                          NULL);
#else
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-conditional-cmd\","
                          " \"arguments\": {\"value\": 1, \"extra\": \"e\"}}",
                          false, "GenericError",
                          "'extra' is not an expected member", NULL);
#endif
    assert_dispatch_error(f, "{\"execute\": \"ks-conditional-cmd\"}", false,
                          "GenericError", "'value' is missing", NULL);
#else
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-conditional-cmd\","
                          " \"arguments\": {\"value\": 1}}",
                          false, "CommandNotFound",
                          "command 'ks-conditional-cmd' does not exist", NULL);
#endif
}

static void test_names(Fixture *f, gconstpointer data)
{
    (void)data;
    assert_dispatch(f, "{\"execute\": \"ks_legacy_cmd\"}", false,
                    "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==, "ks_legacy_cmd");
    assert_dispatch_error(f, "{\"execute\": \"ks-legacy-cmd\"}", false,
                          "CommandNotFound",
                          "command 'ks-legacy-cmd' does not exist", NULL);

    assert_dispatch(f,
                    "{\"execute\": \"ks-legacy-args\", \"arguments\":"
                    " {\"Legacy_Arg\": \"Value_One\"}}",
                    false, "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-legacy-args Legacy_Arg=Value_One");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-legacy-args\", \"arguments\":"
                          " {\"legacy-arg\": \"Value_One\"}}",
                          false, "GenericError", "'Legacy_Arg' is missing",
                          NULL);

    assert_dispatch(f,
                    "{\"execute\": \"x-ks-experimental\", \"arguments\":"
                    " {\"arg\": {\"value\": 127}}}",
                    false, "{\"return\": {}}");
    g_assert_cmpstr(ks_handlers_last(), ==, "x-ks-experimental arg.value=127");
    assert_dispatch_error(f,
                          "{\"execute\": \"x-ks-experimental\", \"arguments\":"
                          " {\"arg\": {\"value\": 128}}}",
                          false, "GenericError",
                          "'arg.value' is out of range for "
                          "int8 (-128 to 127)",
                          NULL);

    assert_dispatch(f,
                    "{\"execute\": \"__org.example_ks-downstream\","
                    " \"arguments\": {\"arg\": {\"__org.example_member\":"
                    " \"abc\"}}}",
                    false,
                    "{\"return\": {"
                    "\"__org.example_member\": \"abc\", \"x-member\": 3}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "__org.example_ks-downstream "
                    "arg.__org.example_member='abc' arg.x-member=absent");
    assert_dispatch_error(f,
                          "{\"execute\": \"__org.example_ks-downstream\","
                          " \"arguments\": {\"arg\": {\"__org.example_member\":"
                          " \"fail:DeviceNotFound\", \"x-member\": 1}}}",
                          false, "DeviceNotFound",
                          "__org.example_ks-downstream:"
                          " failing with DeviceNotFound as asked",
                          NULL);

    /* The command of the included module. */
    assert_dispatch(f,
                    "{\"execute\": \"ks-sub-echo\", \"arguments\":"
                    " {\"arg\": {\"count\": 4294967295, \"label\": \"l\"}}}",
                    false,
                    "{\"return\": {\"count\": 4294967295,"
                    " \"label\": \"l\"}}");
    g_assert_cmpstr(ks_handlers_last(), ==,
                    "ks-sub-echo count=4294967295 label='l'");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-sub-echo\", \"arguments\":"
                          " {\"arg\": {\"count\": 1, \"bogus\": 2}}}",
                          false, "GenericError",
                          "'arg.bogus' is not an expected member", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-sub-echo\", \"arguments\":"
                          " {\"arg\": {\"count\": 1, \"label\":"
                          " \"fail:OpenFileFailed\"}}}",
                          false, "OpenFileFailed",
                          "ks-sub-echo: failing with "
                          "OpenFileFailed as asked",
                          NULL);
    assert_dispatch_error(f, "{\"execute\": \"ks-sub-echo\"}", false,
                          "GenericError", "'arg' is missing", NULL);
}

static void test_use_everything(Fixture *f, gconstpointer data)
{
    (void)data;
    assert_dispatch(f, "{\"execute\": \"ks-use-everything\"}", false,
                    "{\"return\": []}");
    assert_dispatch(
        f,
        "{\"execute\": \"ks-use-everything\", \"arguments\": {"
        " \"all-optional\": {\"opt-size\": 1},"
        " \"all-lists\": {\"str-list\": [], \"int-list\": [],"
        " \"int16-list\": [], \"int64-list\": [],"
        " \"uint16-list\": [], \"uint64-list\": [],"
        " \"bool-list\": [], \"null-list\": [null],"
        " \"color-list\": [], \"matrix\": [{\"cells\": [1]}]},"
        " \"any-null\": {\"value\": 1, \"nothing\": null},"
        " \"legacy\": {}, \"names\": {\"Upper_Case\": 1,"
        " \"snake_case\": \"s\"},"
        " \"simple\": {\"type\": \"colors\", \"data\": [\"red\"]},"
        " \"alt1\": false, \"alt2\": \"beta\"}}",
        false,
        "{\"return\": [{\"type\": \"text\", \"data\": \"all-optional\"},"
        " {\"type\": \"text\", \"data\": \"all-lists\"},"
        " {\"type\": \"text\", \"data\": \"any-null\"},"
        " {\"type\": \"text\", \"data\": \"legacy\"},"
        " {\"type\": \"text\", \"data\": \"names\"},"
        " {\"type\": \"text\", \"data\": \"simple\"},"
        " {\"type\": \"text\", \"data\": \"alt1\"},"
        " {\"type\": \"text\", \"data\": \"alt2\"},"
        " {\"type\": \"colors\", \"data\": [\"red\"]}]}");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-use-everything\", \"arguments\":"
                          " {\"alt1\": null}}",
                          false, "GenericError",
                          "'alt1' has no branch for this kind of JSON value in "
                          "alternate KsAltObjNumBoolNull",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-use-everything\", \"arguments\":"
                          " {\"alt2\": {\"kind\": \"plain\"}}}",
                          false, "GenericError", "'alt2.base-id' is missing",
                          NULL);
    assert_dispatch_error(
        f,
        "{\"execute\": \"ks-use-everything\", \"arguments\":"
        " {\"all-lists\": {\"str-list\": [], \"int-list\": [],"
        " \"int16-list\": [], \"int64-list\": [],"
        " \"uint16-list\": [], \"uint64-list\": [],"
        " \"bool-list\": [], \"null-list\": [],"
        " \"color-list\": [], \"matrix\": [{\"cells\": [1]},"
        " {\"cells\": [true]}]}}}",
        false, "GenericError",
        "'all-lists.matrix[1].cells[0]': expected an "
        "integer, got a boolean",
        NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-use-everything\", \"arguments\":"
                          " {\"simple\": {\"type\": \"sub\", \"data\":"
                          " {\"count\": -1}}}}",
                          false, "GenericError",
                          "'simple.data.count' is out of range for uint32 "
                          "(0 to 4294967295)",
                          NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-use-everything\", \"arguments\":"
                          " {\"names\": {\"Upper_Case\": 1, \"snake_case\":"
                          " \"fail:DeviceInUse\"}}}",
                          false, "DeviceInUse",
                          "ks-use-everything: failing with DeviceInUse as "
                          "asked",
                          NULL);
    g_assert_cmpuint(ks_handlers_calls(), ==, 3);
}

/* gen: false: the application's own marshallers */

/*
 * The marshaller of ks-gen-false, written as an application would: it
 * visits the generated argument type strictly, and answers the 'raw'
 * argument: as a KsFeatured (through the generated visitors, so the
 * output policy applies) when it is an object with "plain", else as is.
 */
static bool marshal_ks_gen_false(json_object *args, json_object **ret,
                                 GError **errp)
{
    Visitor *v = qapi_json_input_visitor_new(args);
    q_obj_ks_gen_false_arg arg = { 0 };
    bool ok = false;

    if (visit_start_struct(v, NULL, NULL, 0, errp)) {
        if (visit_type_q_obj_ks_gen_false_arg_members(v, &arg, errp)) {
            ok = visit_check_struct(v, errp);
        }
        visit_end_struct(v, NULL);
    }
    visit_free(v);
    if (ok && arg.raw && json_object_object_get_ex(arg.raw, "plain", NULL)) {
        KsFeatured *featured = NULL;

        v = qapi_json_input_visitor_new(arg.raw);
        ok = visit_type_KsFeatured(v, "raw", &featured, errp);
        visit_free(v);
        if (ok) {
            v = qapi_json_output_visitor_new();
            ok = visit_type_KsFeatured(v, NULL, &featured, errp);
            if (ok) {
                visit_complete(v, ret);
            }
            visit_free(v);
        }
        qapi_free_KsFeatured(featured);
    } else if (ok) {
        *ret = json_object_new_object();
        if (arg.raw) {
            json_object_object_add(*ret, "raw", json_object_get(arg.raw));
        }
    }
    json_object_put(arg.raw);
    return ok;
}

static bool marshal_ks_gen_no(json_object *args, json_object **ret,
                              GError **errp)
{
    if (json_object_object_length(args)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "ks-gen-no takes no arguments");
        return false;
    }
    *ret = json_object_new_string("gen-no");
    return true;
}

static void test_gen_false(Fixture *f, gconstpointer data)
{
    const QmpCommandInfo *info;

    (void)data;
    assert_dispatch_error(f, "{\"execute\": \"ks-gen-false\"}", false,
                          "CommandNotFound",
                          "command 'ks-gen-false' does not exist", NULL);
    qmp_register_command(f->cmds, "ks-gen-false", marshal_ks_gen_false,
                         QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "ks-gen-no", marshal_ks_gen_no,
                         QCO_ALLOW_PRECONFIG, 0);
    info = qmp_find_command(f->cmds, "ks-gen-false");
    g_assert_nonnull(info);
    g_assert_true(info->fn == marshal_ks_gen_false);

    assert_dispatch(f, "{\"execute\": \"ks-gen-false\"}", false,
                    "{\"return\": {}}");
    assert_dispatch(f,
                    "{\"execute\": \"ks-gen-false\", \"arguments\":"
                    " {\"raw\": [1, {\"two\": 2}]}, \"id\": 1}",
                    false,
                    "{\"return\": {\"raw\": [1, {\"two\": 2}]}, \"id\": 1}");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-gen-false\", \"arguments\":"
                          " {\"cooked\": 1}}",
                          false, "GenericError",
                          "'cooked' is not an expected member", NULL);
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-gen-false\", \"arguments\":"
                          " {\"raw\": {\"plain\": \"p\"}}}",
                          false, "GenericError",
                          "'raw.plain': expected an integer, "
                          "got a string",
                          NULL);
    assert_dispatch(f, "{\"execute\": \"ks-gen-no\"}", false,
                    "{\"return\": \"gen-no\"}");
    assert_dispatch_error(f,
                          "{\"execute\": \"ks-gen-no\", \"arguments\":"
                          " {\"a\": 1}}",
                          false, "GenericError", "ks-gen-no takes no arguments",
                          NULL);
    /* No generated handler ran. */
    g_assert_cmpuint(ks_handlers_calls(), ==, 0);
}

/*
 * Command returns hide special-featured members when the output policy
 * says so.  No generated command of the kitchen sink returns a type with
 * such members, so this goes through the hand-written marshaller of
 * ks-gen-false, which writes a KsFeatured with the generated visitor,
 * the way generated marshallers write their results.
 */
static void test_returns_hide_members(Fixture *f, gconstpointer data)
{
    static const char request[] =
        "{\"execute\": \"ks-gen-false\", \"arguments\": {\"raw\":"
        " {\"plain\": 1, \"old\": 2, \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
        ", \"cond\": 3"
#endif
        ", \"default\": false}}}";

    (void)data;
    qmp_register_command(f->cmds, "ks-gen-false", marshal_ks_gen_false,
                         QCO_NO_OPTIONS, 0);
    assert_dispatch(f, request, false,
                    "{\"return\": {\"plain\": 1,"
                    " \"old\": 2, \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
                    ", \"cond\": 3"
#endif
                    ", \"default\": false}}");
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    assert_dispatch(f, request, false,
                    "{\"return\": {\"plain\": 1,"
                    " \"experimental\": \"e\""
#if defined(TEST_IF_MEMBER)
                    ", \"cond\": 3"
#endif
                    ", \"default\": false}}");
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    assert_dispatch(f, request, false,
                    "{\"return\": {\"plain\": 1"
#if defined(TEST_IF_MEMBER)
                    ", \"cond\": 3"
#endif
                    ", \"default\": false}}");
}

/* Events */

typedef struct EmittedEvent {
    char *name;
    json_object *event; /* a reference of our own */
} EmittedEvent;

static GPtrArray *emitted;

static void emitted_free(gpointer data)
{
    EmittedEvent *e = data;

    g_free(e->name);
    json_object_put(e->event);
    g_free(e);
}

static void record_event(const char *name, json_object *event, void *opaque)
{
    EmittedEvent *e = g_new0(EmittedEvent, 1);

    g_assert_true(opaque == &emitted);
    e->name = g_strdup(name);
    e->event = json_object_get(event);
    g_ptr_array_add(emitted, e);
}

static void events_setup(void)
{
    policy_reset();
    emitted = g_ptr_array_new_with_free_func(emitted_free);
    qapi_event_set_emitter(record_event, &emitted);
}

static void events_teardown(void)
{
    qapi_event_set_emitter(NULL, NULL);
    g_ptr_array_unref(emitted);
    emitted = NULL;
    policy_reset();
}

/*
 * The I-th event emitted is NAME with DATA (JSON text; NULL: no "data"
 * member), and a timestamp of the wall clock between BEFORE and AFTER
 * (g_get_real_time()).
 */
static void assert_event(guint i, const char *name, const char *data,
                         gint64 before, gint64 after)
{
    EmittedEvent *e;
    json_object *member, *ts, *seconds, *micro;
    gint64 when;

    g_assert_cmpuint(i, <, emitted->len);
    e = g_ptr_array_index(emitted, i);
    g_assert_cmpstr(e->name, ==, name);
    json_test_assert_members(e->event,
                             data ? "event,data,timestamp" : "event,timestamp");
    g_assert_true(json_object_object_get_ex(e->event, "event", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, name);
    if (data) {
        g_assert_true(json_object_object_get_ex(e->event, "data", &member));
        ks_assert_json_eq(member, data);
    }
    g_assert_true(json_object_object_get_ex(e->event, "timestamp", &ts));
    json_test_assert_members(ts, "seconds,microseconds");
    g_assert_true(json_object_object_get_ex(ts, "seconds", &seconds));
    g_assert_true(json_object_object_get_ex(ts, "microseconds", &micro));
    g_assert_true(json_object_is_type(seconds, json_type_int));
    g_assert_true(json_object_is_type(micro, json_type_int));
    g_assert_cmpint(json_object_get_int64(micro), >=, 0);
    g_assert_cmpint(json_object_get_int64(micro), <=, 999999);
    when = json_object_get_int64(seconds) * G_USEC_PER_SEC
        + json_object_get_int64(micro);
    g_assert_cmpint(when, >=, before);
    g_assert_cmpint(when, <=, after);
}

static void test_events_each(void)
{
    KsSubStruct sub = { .count = 3, .label = (char *)"s" };
    KsFlatUnion boxed = {
        .kind = KS_UNION_KIND_INT,
        .note = (char *)"boxed",
        .u.q_int.int_value = -4,
    };
    __org_example_KsDownstream down = {
        .__org_example_member = (char *)"m",
        .has_x_member = true,
        .x_member = 1,
    };
    gint64 before, after;
    guint n = 0;

    events_setup();
    before = g_get_real_time();
    qapi_event_send_ks_sub_event(KS_SUB_ENUM_BETA);
    qapi_event_send_ks_event_no_data();
    qapi_event_send_ks_event_inline(1, false, KS_COL_RED);
    qapi_event_send_ks_event_inline(-2, true, KS_COL___ORG_EXAMPLE_ULTRA);
    qapi_event_send_ks_event_struct(7, "note", true, 0.5, &sub);
    qapi_event_send_ks_event_struct(8, NULL, false, -1.0, NULL);
    qapi_event_send_ks_event_boxed(&boxed);
#if KS_HAVE_COND_EVENT
    {
        KsEventArgs args = { .value = 5 };

        qapi_event_send_ks_event_conditional(&args);
    }
#endif
    qapi_event_send_ks_event_deprecated("old");
    qapi_event_send_ks_event_deprecated(NULL);
    qapi_event_send_ks_event_unstable();
    qapi_event_send___org_example_ks_event(&down);
    qapi_event_send___org_qemu_x_event(true, 3);
    after = g_get_real_time();

    assert_event(n++, "KS_SUB_EVENT", "{\"which\": \"beta\"}", before, after);
    assert_event(n++, "KS_EVENT_NO_DATA", NULL, before, after);
    assert_event(n++, "KS_EVENT_INLINE", "{\"a\": 1}", before, after);
    assert_event(n++, "KS_EVENT_INLINE",
                 "{\"a\": -2, \"b\": \"__org.example_ultra\"}", before, after);
    assert_event(n++, "KS_EVENT_STRUCT",
                 "{\"base-id\": 7, \"base-note\":"
                 " \"note\", \"middle\": true, \"leaf\": 0.5, \"sub\":"
                 " {\"count\": 3, \"label\": \"s\"}}",
                 before, after);
    json_test_assert_members(
        json_object_object_get(
            ((EmittedEvent *)g_ptr_array_index(emitted, n - 1))->event, "data"),
        "base-id,base-note,middle,leaf,sub");
    assert_event(n++, "KS_EVENT_STRUCT",
                 "{\"base-id\": 8, \"middle\": false,"
                 " \"leaf\": -1.0}",
                 before, after);
    assert_event(n++, "KS_EVENT_BOXED",
                 "{\"kind\": \"int\", \"note\":"
                 " \"boxed\", \"int-value\": -4}",
                 before, after);
#if KS_HAVE_COND_EVENT
    assert_event(n++, "KS_EVENT_CONDITIONAL", "{\"value\": 5}", before, after);
#endif
    assert_event(n++, "KS_EVENT_DEPRECATED", "{\"old\": \"old\"}", before,
                 after);
    /* Its only member absent: data is {} and left out. */
    assert_event(n++, "KS_EVENT_DEPRECATED", NULL, before, after);
    assert_event(n++, "KS_EVENT_UNSTABLE", NULL, before, after);
    assert_event(n++, "__org.example_KS_EVENT",
                 "{\"value\":"
                 " {\"__org.example_member\": \"m\", \"x-member\": 1}}",
                 before, after);
    assert_event(n++, "__ORG.QEMU_X-EVENT", "{\"X-level\": 3}", before, after);
    g_assert_cmpuint(emitted->len, ==, n);
    events_teardown();
}

/* Events hidden by the output policy are not emitted. */
static void test_events_policy(void)
{
    gint64 before, after;

    events_setup();
    before = g_get_real_time();

    /* Output hide deprecated: the deprecated event (and with it its
     * deprecated member) is not sent; the others are. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_ACCEPT);
    qapi_event_send_ks_event_deprecated("old");
    qapi_event_send_ks_event_unstable();
    qapi_event_send_ks_event_no_data();
    g_assert_cmpuint(emitted->len, ==, 2);
    assert_event(0, "KS_EVENT_UNSTABLE", NULL, before, G_MAXINT64);
    assert_event(1, "KS_EVENT_NO_DATA", NULL, before, G_MAXINT64);

    /* Output hide unstable. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    qapi_event_send_ks_event_unstable();
    qapi_event_send_ks_event_deprecated("old");
    g_assert_cmpuint(emitted->len, ==, 3);
    after = g_get_real_time();
    /* The deprecated member is shown while deprecated output is. */
    assert_event(2, "KS_EVENT_DEPRECATED", "{\"old\": \"old\"}", before, after);

    /* Both hidden. */
    ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_HIDE, QAPI_INPUT_ACCEPT,
                  QAPI_OUTPUT_HIDE);
    qapi_event_send_ks_event_unstable();
    qapi_event_send_ks_event_deprecated(NULL);
    g_assert_cmpuint(emitted->len, ==, 3);

    /* The input policy does not hide events. */
    ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT,
                  QAPI_OUTPUT_ACCEPT);
    qapi_event_send_ks_event_unstable();
    qapi_event_send_ks_event_deprecated(NULL);
    g_assert_cmpuint(emitted->len, ==, 5);
    events_teardown();
}

static void test_events_no_emitter(void)
{
    KsFlatUnion boxed = { .kind = KS_UNION_KIND_EMPTY_ONE };

    /* Dropped: nothing to check but that nothing breaks or leaks. */
    qapi_event_set_emitter(NULL, NULL);
    qapi_event_send_ks_event_no_data();
    qapi_event_send_ks_event_inline(1, true, KS_COL_3D);
    qapi_event_send_ks_event_boxed(&boxed);
    qapi_event_send_ks_sub_event(KS_SUB_ENUM_ALPHA);
}

static void test_events_lookup(void)
{
    /*
     * Every event, unconditionally, in QEMU's module order: the main
     * module's, then those of the included module, although the include
     * comes before the main module's definitions.
     */
    static const char *const names[] = {
        "KS_EVENT_NO_DATA",  "KS_EVENT_INLINE",        "KS_EVENT_STRUCT",
        "KS_EVENT_BOXED",    "KS_EVENT_CONDITIONAL",   "KS_EVENT_DEPRECATED",
        "KS_EVENT_UNSTABLE", "__org.example_KS_EVENT", "__ORG.QEMU_X-EVENT",
        "KS_SUB_EVENT",
    };
    int i;

    g_assert_cmpint(QAPI_EVENT__MAX, ==, G_N_ELEMENTS(names));
    g_assert_cmpint(QAPIEvent_lookup.size, ==, QAPI_EVENT__MAX);
    for (i = 0; i < QAPI_EVENT__MAX; i++) {
        g_assert_cmpstr(QAPIEvent_lookup.array[i], ==, names[i]);
        g_assert_cmpstr(QAPIEvent_str(i), ==, names[i]);
    }
    g_assert_cmpint(QAPI_EVENT_KS_EVENT_CONDITIONAL, ==, 4);
    g_assert_cmpint(QAPI_EVENT___ORG_EXAMPLE_KS_EVENT, ==, 7);
    /* An experimental prefix in upper case: the name is unchanged. */
    g_assert_cmpint(QAPI_EVENT___ORG_QEMU_X_EVENT, ==, 8);
    g_assert_cmpint(QAPI_EVENT_KS_SUB_EVENT, ==, 9);

    /* qapi_event_emit() hands the event to the emitter by its name. */
    events_setup();
    {
        json_object *ev = qapi_event_build("KS_EVENT_UNSTABLE", NULL);

        qapi_event_emit(QAPI_EVENT_KS_EVENT_UNSTABLE, ev);
        json_object_put(ev);
    }
    g_assert_cmpuint(emitted->len, ==, 1);
    g_assert_cmpstr(((EmittedEvent *)g_ptr_array_index(emitted, 0))->name, ==,
                    "KS_EVENT_UNSTABLE");
    events_teardown();
}

#define ADD_FIXTURE_TEST(path, fn)                                             \
    g_test_add((path), Fixture, NULL, fixture_setup, (fn), fixture_teardown)

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    ks_handlers_reset();

    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/registration", test_registration);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/registration-conditional",
                     test_registration_conditional);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/no-args", test_no_args);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/inline-args", test_inline_args);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/struct-args", test_struct_args);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/boxed", test_boxed);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/returns", test_returns);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/returns-invalid-enum",
                     test_returns_invalid_enum);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/no-success-response",
                     test_no_success_response);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/oob", test_oob);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/preconfig-coroutine",
                     test_preconfig_coroutine);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/policy-per-list",
                     test_policy_per_list);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/deprecated-unstable",
                     test_deprecated_unstable);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/conditional", test_conditional);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/names", test_names);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/use-everything",
                     test_use_everything);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/gen-false", test_gen_false);
    ADD_FIXTURE_TEST("/kitchen-sink/dispatch/returns-hide-members",
                     test_returns_hide_members);
    g_test_add_func("/kitchen-sink/events/each", test_events_each);
    g_test_add_func("/kitchen-sink/events/policy", test_events_policy);
    g_test_add_func("/kitchen-sink/events/no-emitter", test_events_no_emitter);
    g_test_add_func("/kitchen-sink/events/lookup", test_events_lookup);

    ret = g_test_run();
    ks_handlers_reset();
    return ret;
}
