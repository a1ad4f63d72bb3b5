/* SPDX-License-Identifier: MIT */
/*
 * Unit tests: the command registry and qmp_dispatch()
 * (docs/spec/qmp-protocol.md §4, §5), with hand-written marshallers registered
 * by hand.
 */
#include "json-test-util.h"
#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/visitor.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

/* What the marshallers saw, reset by each test's fixture. */
static struct {
    int calls;
    json_object *args; /* the last arguments, a reference */
} seen;

static void seen_args(json_object *args)
{
    seen.calls++;
    g_assert_true(json_object_is_type(args, json_type_object));
    json_object_put(seen.args);
    seen.args = json_object_get(args);
}

static bool marshal_no_result(json_object *args, json_object **ret,
                              GError **errp)
{
    (void)errp;
    seen_args(args);
    *ret = json_object_new_object();
    return true;
}

static bool marshal_object(json_object *args, json_object **ret, GError **errp)
{
    json_object *info = json_object_new_object();

    (void)errp;
    seen_args(args);
    json_object_object_add(info, "device", json_object_new_string("disk0"));
    json_object_object_add(info, "size", json_object_new_int64(42));
    *ret = info;
    return true;
}

static bool marshal_null_result(json_object *args, json_object **ret,
                                GError **errp)
{
    (void)errp;
    seen_args(args);
    *ret = NULL;
    return true;
}

static bool marshal_device_not_found(json_object *args, json_object **ret,
                                     GError **errp)
{
    (void)ret;
    seen_args(args);
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                "device 'disk9' not found");
    return false;
}

static bool marshal_foreign_error(json_object *args, json_object **ret,
                                  GError **errp)
{
    (void)ret;
    seen_args(args);
    g_set_error(errp, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "file '/nonexistent' not found");
    return false;
}

/* Succeeds silently unless the arguments say {"fail": true}. */
static bool marshal_silent(json_object *args, json_object **ret, GError **errp)
{
    json_object *fail;

    seen_args(args);
    if (json_object_object_get_ex(args, "fail", &fail)
        && json_object_get_boolean(fail)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "silent failed as asked");
        return false;
    }
    *ret = json_object_new_object();
    return true;
}

static bool marshal_false_without_error(json_object *args, json_object **ret,
                                        GError **errp)
{
    (void)ret;
    (void)errp;
    seen_args(args);
    return false;
}

static bool marshal_true_with_error(json_object *args, json_object **ret,
                                    GError **errp)
{
    seen_args(args);
    *ret = json_object_new_string("leaked unless freed");
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICEINUSE, "both at once");
    return true;
}

static bool marshal_other(json_object *args, json_object **ret, GError **errp)
{
    (void)errp;
    seen_args(args);
    *ret = json_object_new_string("other");
    return true;
}

#define DEPRECATED (1u << QAPI_DEPRECATED)
#define UNSTABLE (1u << QAPI_UNSTABLE)

typedef struct Fixture {
    QmpCommandList *cmds;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    memset(&seen, 0, sizeof(seen));
    f->cmds = qmp_command_list_new();
    qmp_register_command(f->cmds, "no-result", marshal_no_result, 0, 0);
    qmp_register_command(f->cmds, "object", marshal_object, 0, 0);
    qmp_register_command(f->cmds, "null-result", marshal_null_result, 0, 0);
    qmp_register_command(f->cmds, "device-not-found", marshal_device_not_found,
                         0, 0);
    qmp_register_command(f->cmds, "foreign-error", marshal_foreign_error, 0, 0);
    qmp_register_command(f->cmds, "silent", marshal_silent, QCO_NO_SUCCESS_RESP,
                         0);
    qmp_register_command(f->cmds, "oob", marshal_no_result,
                         QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG, 0);
    qmp_register_command(f->cmds, "false-without-error",
                         marshal_false_without_error, 0, 0);
    qmp_register_command(f->cmds, "true-with-error", marshal_true_with_error, 0,
                         0);
    qmp_register_command(f->cmds, "old", marshal_no_result, 0, DEPRECATED);
    qmp_register_command(f->cmds, "new", marshal_no_result, 0, UNSTABLE);
    qmp_register_command(f->cmds, "disabled", marshal_no_result, 0, 0);
    g_assert_true(qmp_command_set_enabled(f->cmds, "disabled", false));
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    static const QapiCompatPolicy accept_all;

    (void)data;
    qmp_command_list_free(f->cmds);
    json_object_put(seen.args);
    seen.args = NULL;
    /* A failed test aborts; the others must not inherit its policy. */
    qapi_compat_policy_set(&accept_all);
}

/* Helpers */

static json_object *parse(const char *text)
{
    enum json_tokener_error jerr;
    json_object *obj = json_tokener_parse_verbose(text, &jerr);

    g_assert_cmpint(jerr, ==, json_tokener_success);
    return obj;
}

static const char *to_text(json_object *obj)
{
    return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
}

/* Dispatch the request TEXT and return the response. */
static json_object *dispatch_text(Fixture *f, const char *text, bool allow_oob)
{
    json_object *request = parse(text);
    json_object *resp = qmp_dispatch(f->cmds, request, allow_oob);

    json_object_put(request);
    return resp;
}

/*
 * RESP is an error reply of class ERROR_CLASS whose desc holds each
 * string of the NULL-terminated list that follows; it carries an id iff
 * HAS_ID.
 */
static G_GNUC_NULL_TERMINATED void assert_error(json_object *resp, bool has_id,
                                                const char *error_class, ...)
{
    json_object *error, *member;
    const char *desc, *part;
    va_list ap;

    g_assert_nonnull(resp);
    json_test_assert_members(resp, has_id ? "error,id" : "error");
    g_assert_true(json_object_object_get_ex(resp, "error", &error));
    json_test_assert_members(error, "class,desc");
    g_assert_true(json_object_object_get_ex(error, "class", &member));
    g_assert_cmpstr(json_object_get_string(member), ==, error_class);
    g_assert_true(json_object_object_get_ex(error, "desc", &member));
    g_assert_true(json_object_is_type(member, json_type_string));
    desc = json_object_get_string(member);
    va_start(ap, error_class);
    while ((part = va_arg(ap, const char *))) {
        if (!strstr(desc, part)) {
            g_error("desc \"%s\" does not contain \"%s\"", desc, part);
        }
    }
    va_end(ap);
}

/* Dispatch TEXT and check the error reply as assert_error() does. */
#define ASSERT_DISPATCH_ERROR(f, text, allow_oob, error_class, has_id, ...)    \
    do {                                                                       \
        json_object *resp_ = dispatch_text((f), (text), (allow_oob));          \
        assert_error(resp_, (has_id), (error_class), __VA_ARGS__, NULL);       \
        json_object_put(resp_);                                                \
    } while (0)

/* RESP is {"return": RET_TEXT} (plus "id" when HAS_ID). */
static void assert_return(json_object *resp, const char *ret_text, bool has_id)
{
    json_object *ret;

    g_assert_nonnull(resp);
    json_test_assert_members(resp, has_id ? "return,id" : "return");
    g_assert_true(json_object_object_get_ex(resp, "return", &ret));
    g_assert_cmpstr(to_text(ret), ==, ret_text);
}

/* Registry */

static void count_command(const QmpCommandInfo *info, void *opaque)
{
    g_ptr_array_add(opaque, (char *)info->name);
}

static char *command_names(const QmpCommandList *cmds)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    qmp_for_each_command(cmds, count_command, names);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(",", (char **)names->pdata);
}

static void test_registry(void)
{
    g_autoptr(QmpCommandList) cmds = qmp_command_list_new();
    const QmpCommandInfo *info, *again;
    g_autofree char *names = NULL, *names2 = NULL, *empty = NULL;

    empty = command_names(cmds);
    g_assert_cmpstr(empty, ==, "");
    g_assert_null(qmp_find_command(cmds, "a"));
    g_assert_false(qmp_command_set_enabled(cmds, "a", false));

    qmp_register_command(cmds, "zeta", marshal_no_result, 0, 0);
    qmp_register_command(cmds, "alpha", marshal_object, QCO_ALLOW_OOB,
                         DEPRECATED);
    qmp_register_command(cmds, "mid", marshal_no_result, 0, 0);
    names = command_names(cmds);
    g_assert_cmpstr(names, ==, "zeta,alpha,mid");

    info = qmp_find_command(cmds, "alpha");
    g_assert_nonnull(info);
    g_assert_cmpstr(info->name, ==, "alpha");
    g_assert_true(info->fn == marshal_object);
    g_assert_cmpuint(info->options, ==, QCO_ALLOW_OOB);
    g_assert_cmpuint(info->special_features, ==, DEPRECATED);
    g_assert_true(info->enabled);

    g_assert_true(qmp_command_set_enabled(cmds, "alpha", false));
    g_assert_false(info->enabled);
    g_assert_true(qmp_command_set_enabled(cmds, "alpha", true));
    g_assert_true(info->enabled);
    g_assert_true(qmp_command_set_enabled(cmds, "alpha", false));

    /* Re-registration: same place, same entry, new values, enabled. */
    qmp_register_command(cmds, "alpha", marshal_other, QCO_NO_SUCCESS_RESP,
                         UNSTABLE);
    again = qmp_find_command(cmds, "alpha");
    g_assert_true(again == info);
    g_assert_true(info->fn == marshal_other);
    g_assert_cmpuint(info->options, ==, QCO_NO_SUCCESS_RESP);
    g_assert_cmpuint(info->special_features, ==, UNSTABLE);
    g_assert_true(info->enabled);
    names2 = command_names(cmds);
    g_assert_cmpstr(names2, ==, "zeta,alpha,mid");

    /* The name is copied. */
    {
        char name[] = "copied";

        qmp_register_command(cmds, name, marshal_no_result, 0, 0);
        name[0] = 'X';
        g_assert_nonnull(qmp_find_command(cmds, "copied"));
        g_assert_null(qmp_find_command(cmds, "Xopied"));
    }

    qmp_command_list_free(NULL);
}

static void test_registry_misuse(void)
{
    g_autoptr(QmpCommandList) cmds = qmp_command_list_new();
    g_autofree char *names = NULL;

    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL, "*name*");
    qmp_register_command(cmds, "", marshal_no_result, 0, 0);
    g_test_assert_expected_messages();
    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL, "*fn*");
    qmp_register_command(cmds, "nofn", NULL, 0, 0);
    g_test_assert_expected_messages();
    names = command_names(cmds);
    g_assert_cmpstr(names, ==, "");
}

/* Successful commands */

static void test_success(Fixture *f, gconstpointer data)
{
    json_object *resp;

    (void)data;
    resp = dispatch_text(f, "{\"execute\": \"no-result\", \"id\": 1}", false);
    assert_return(resp, "{}", true);
    json_object_put(resp);

    resp = dispatch_text(f, "{\"id\": \"x\", \"execute\": \"object\"}", false);
    assert_return(resp, "{\"device\":\"disk0\",\"size\":42}", true);
    json_object_put(resp);

    /* No id in the request, none in the reply. */
    resp = dispatch_text(f, "{\"execute\": \"object\"}", false);
    assert_return(resp, "{\"device\":\"disk0\",\"size\":42}", false);
    json_object_put(resp);

    resp = dispatch_text(f, "{\"execute\": \"null-result\", \"id\": 2}", false);
    assert_return(resp, "null", true);
    json_object_put(resp);

    g_assert_cmpint(seen.calls, ==, 4);
}

static void test_arguments(Fixture *f, gconstpointer data)
{
    json_object *request, *args, *resp;

    (void)data;
    /* Absent: an empty object, not shared with the request. */
    resp = dispatch_text(f, "{\"execute\": \"no-result\"}", false);
    assert_return(resp, "{}", false);
    json_object_put(resp);
    g_assert_cmpstr(to_text(seen.args), ==, "{}");

    /* Present: the request's own object, lent. */
    request = parse("{\"execute\": \"no-result\","
                    " \"arguments\": {\"a\": [1, 2], \"b\": null}}");
    g_assert_true(json_object_object_get_ex(request, "arguments", &args));
    resp = qmp_dispatch(f->cmds, request, false);
    assert_return(resp, "{}", false);
    g_assert_true(seen.args == args);
    g_assert_cmpstr(to_text(request), ==,
                    "{\"execute\":\"no-result\","
                    "\"arguments\":{\"a\":[1,2],\"b\":null}}");
    json_object_put(resp);
    json_object_put(request);
    g_assert_cmpint(seen.calls, ==, 2);
}

static void test_command_error(Fixture *f, gconstpointer data)
{
    (void)data;
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"device-not-found\", \"id\": 7}",
                          false, "DeviceNotFound", true, "disk9");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"device-not-found\"}", false,
                          "DeviceNotFound", false, "disk9");
    /* An error outside the QAPI domain is a GenericError. */
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"foreign-error\", \"id\": 7}",
                          false, "GenericError", true, "/nonexistent");
    g_assert_cmpint(seen.calls, ==, 3);
}

static void test_no_success_response(Fixture *f, gconstpointer data)
{
    json_object *resp;

    (void)data;
    resp = dispatch_text(f, "{\"execute\": \"silent\", \"id\": 1}", false);
    g_assert_null(resp);
    g_assert_cmpint(seen.calls, ==, 1);

    /* Errors are still answered, with the id. */
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": \"silent\", \"id\": 1,"
                          " \"arguments\": {\"fail\": true}}",
                          false, "GenericError", true, "silent");
    g_assert_cmpint(seen.calls, ==, 2);

    /* So are errors found before it runs. */
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"silent\", \"arguments\": 1}",
                          false, "GenericError", false, "'arguments'");
    g_assert_cmpint(seen.calls, ==, 2);
}

static void test_oob(Fixture *f, gconstpointer data)
{
    json_object *resp;

    (void)data;
    resp = dispatch_text(f, "{\"exec-oob\": \"oob\", \"id\": \"o1\"}", true);
    assert_return(resp, "{}", true);
    json_object_put(resp);

    /* An allow-oob command runs in-band too. */
    resp = dispatch_text(f, "{\"execute\": \"oob\", \"id\": \"o2\"}", true);
    assert_return(resp, "{}", true);
    json_object_put(resp);
    resp = dispatch_text(f, "{\"execute\": \"oob\"}", false);
    assert_return(resp, "{}", false);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 3);

    /* Check 11. */
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": \"no-result\", \"id\": \"o3\"}",
                          true, "GenericError", true, "'no-result'",
                          "out of band");
    /* Check 4 while OOB is off. */
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": \"oob\", \"id\": \"o4\"}", false,
                          "GenericError", true, "'exec-oob'");
    g_assert_cmpint(seen.calls, ==, 3);
}

static void test_is_oob(void)
{
    static const struct {
        const char *text;
        bool oob;
    } cases[] = {
        { "{\"exec-oob\": \"x\"}", true },
        { "{\"exec-oob\": \"x\", \"id\": [1], \"arguments\": {}}", true },
        { "{\"exec-oob\": \"\"}", true },
        { "{\"execute\": \"x\"}", false },
        { "{\"execute\": \"x\", \"exec-oob\": \"x\"}", false },
        { "{\"exec-oob\": \"x\", \"foo\": 1}", false },
        { "{\"exec-oob\": 1}", false },
        { "{\"exec-oob\": \"x\", \"arguments\": []}", false },
        { "{\"exec-oob\": \"x\", \"id\": 1e999}", false },
        { "{}", false },
        { "[]", false },
        { "\"exec-oob\"", false },
        { "null", false },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_object *request = parse(cases[i].text);

        if (qmp_is_oob(request) != cases[i].oob) {
            g_error("qmp_is_oob(%s) is not %d", cases[i].text, cases[i].oob);
        }
        json_object_put(request);
    }
    g_assert_false(qmp_is_oob(NULL));
}

/* The checks of §4, one by one, and their order */

static void test_check2_not_object(Fixture *f, gconstpointer data)
{
    static const char *const requests[] = {
        "[]",   "[{\"execute\": \"no-result\", \"id\": 1}]",
        "42",   "\"x\"",
        "null", "true",
        "1.5",
    };
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(requests); i++) {
        ASSERT_DISPATCH_ERROR(f, requests[i], true, "GenericError", false,
                              "JSON object");
    }
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check3_id_not_finite(Fixture *f, gconstpointer data)
{
    static const char *const requests[] = {
        "{\"execute\": \"no-result\", \"id\": 1e999}",
        "{\"execute\": \"no-result\", \"id\": -1e400}",
        "{\"execute\": \"no-result\", \"id\": [1, \"a\", [{\"x\": 1e999}]]}",
        "{\"execute\": \"no-result\", \"id\": {\"a\": {\"b\": [-1e999]}}}",
        /* Check 3 comes before checks 4 to 8. */
        "{\"foo\": 1, \"id\": 1e999}",
        "{\"id\": 1e999, \"execute\": 1, \"exec-oob\": 2}",
        "{\"id\": 1e999}",
        "{\"id\": [1e999], \"execute\": \"nope\", \"arguments\": 1}",
    };
    json_object *request, *id, *resp;
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(requests); i++) {
        ASSERT_DISPATCH_ERROR(f, requests[i], false, "GenericError", false,
                              "'id'");
    }

    /* NaN, which no reader makes, is refused alike. */
    request = parse("{\"execute\": \"no-result\"}");
    id = json_object_new_array();
    json_object_array_add(id, json_object_new_double(NAN));
    json_object_object_add(request, "id", id);
    resp = qmp_dispatch(f->cmds, request, false);
    assert_error(resp, false, "GenericError", "'id'", NULL);
    json_object_put(resp);
    json_object_put(request);

    /* A number anywhere else does not matter to the dispatcher. */
    resp = dispatch_text(f,
                         "{\"execute\": \"no-result\", \"id\": 1e308,"
                         " \"arguments\": {\"x\": 1e999}}",
                         false);
    assert_return(resp, "{}", true);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 1);
}

static void test_check4_unexpected_member(Fixture *f, gconstpointer data)
{
    (void)data;
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": \"no-result\", \"foo\": 1,"
                          " \"id\": \"a\"}",
                          true, "GenericError", true, "'foo'");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"no-result\", \"control\": {}}",
                          true, "GenericError", false, "'control'");
    ASSERT_DISPATCH_ERROR(f, "{\"EXECUTE\": \"no-result\", \"id\": 1}", true,
                          "GenericError", true, "'EXECUTE'");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"no-result\", \"\": 1}", true,
                          "GenericError", false, "''");
    /* The first in the request's order. */
    ASSERT_DISPATCH_ERROR(f, "{\"zz\": 1, \"aa\": 2, \"id\": 1}", true,
                          "GenericError", true, "'zz'");
    /* Check 4 comes before checks 5 to 8. */
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": 1, \"exec-oob\": 2, \"arguments\": 3,"
                          " \"bar\": 4, \"id\": null}",
                          true, "GenericError", true, "'bar'");
    /* exec-oob while OOB is off, even next to execute. */
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": \"no-result\", \"exec-oob\": \"oob\","
                          " \"id\": 1}",
                          false, "GenericError", true, "'exec-oob'");
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": 1, \"id\": 1}", false,
                          "GenericError", true, "'exec-oob'");
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check5_both(Fixture *f, gconstpointer data)
{
    (void)data;
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": \"no-result\", \"exec-oob\": \"oob\","
                          " \"id\": 5}",
                          true, "GenericError", true, "'execute'",
                          "'exec-oob'");
    /* Check 5 comes before checks 7 and 8. */
    ASSERT_DISPATCH_ERROR(f,
                          "{\"execute\": 1, \"exec-oob\": null,"
                          " \"arguments\": 1}",
                          true, "GenericError", false, "'execute'",
                          "'exec-oob'");
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check6_neither(Fixture *f, gconstpointer data)
{
    (void)data;
    ASSERT_DISPATCH_ERROR(f, "{}", false, "GenericError", false, "'execute'");
    ASSERT_DISPATCH_ERROR(f, "{\"id\": 6}", false, "GenericError", true,
                          "'execute'");
    ASSERT_DISPATCH_ERROR(f, "{\"id\": 6}", true, "GenericError", true,
                          "'execute'", "'exec-oob'");
    /* Check 6 comes before check 8. */
    ASSERT_DISPATCH_ERROR(f, "{\"arguments\": 1, \"id\": 6}", false,
                          "GenericError", true, "'execute'");
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check7_name_not_string(Fixture *f, gconstpointer data)
{
    static const char *const names[] = {
        "1", "null", "true", "[\"no-result\"]", "{\"no-result\": 1}", "1.5",
    };
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *execute =
            g_strdup_printf("{\"execute\": %s, \"id\": 7}", names[i]);
        g_autofree char *exec_oob =
            g_strdup_printf("{\"exec-oob\": %s, \"id\": 7}", names[i]);

        ASSERT_DISPATCH_ERROR(f, execute, false, "GenericError", true,
                              "'execute'", "string");
        ASSERT_DISPATCH_ERROR(f, exec_oob, true, "GenericError", true,
                              "'exec-oob'", "string");
    }
    /* Check 7 comes before check 8. */
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": 1, \"arguments\": 1}", false,
                          "GenericError", false, "'execute'", "string");
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check8_arguments_not_object(Fixture *f, gconstpointer data)
{
    static const char *const args[] = {
        "[]", "[{}]", "1", "\"x\"", "null", "false",
    };
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(args); i++) {
        g_autofree char *request = g_strdup_printf(
            "{\"execute\": \"no-result\", \"arguments\": %s, \"id\": 8}",
            args[i]);

        ASSERT_DISPATCH_ERROR(f, request, false, "GenericError", true,
                              "'arguments'", "object");
    }
    /* Check 8 comes before checks 10 and 11. */
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"nope\", \"arguments\": []}",
                          false, "GenericError", false, "'arguments'");
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": \"no-result\", \"arguments\": 1}",
                          true, "GenericError", false, "'arguments'");
    g_assert_cmpint(seen.calls, ==, 0);
}

static void test_check10_not_found(Fixture *f, gconstpointer data)
{
    (void)data;
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"nope\", \"id\": 10}", false,
                          "CommandNotFound", true, "'nope'");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"nope\"}", false,
                          "CommandNotFound", false, "'nope'");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"\", \"id\": 10}", false,
                          "CommandNotFound", true, "''");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"NO-RESULT\", \"id\": 10}", false,
                          "CommandNotFound", true, "'NO-RESULT'");
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"disabled\", \"id\": 10}", false,
                          "CommandNotFound", true, "'disabled'");
    /* A NUL cuts no name short. */
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"no-result\\u0000x\", \"id\": 1}",
                          false, "CommandNotFound", true,
                          "'no-result\\u0000x'");
    /* Check 10 comes before check 11. */
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": \"nope\", \"id\": 10}", true,
                          "CommandNotFound", true, "'nope'");
    ASSERT_DISPATCH_ERROR(f, "{\"exec-oob\": \"disabled\", \"id\": 10}", true,
                          "CommandNotFound", true, "'disabled'");
    g_assert_cmpint(seen.calls, ==, 0);

    /* Enabled again, it runs. */
    g_assert_true(qmp_command_set_enabled(f->cmds, "disabled", true));
    {
        json_object *resp =
            dispatch_text(f, "{\"execute\": \"disabled\", \"id\": 10}", false);

        assert_return(resp, "{}", true);
        json_object_put(resp);
    }
    g_assert_cmpint(seen.calls, ==, 1);
}

static void test_check10_policy(Fixture *f, gconstpointer data)
{
    QapiCompatPolicy policy = { 0 };
    json_object *resp;

    (void)data;
    /* Accepted by default. */
    resp = dispatch_text(f, "{\"execute\": \"old\", \"id\": 1}", false);
    assert_return(resp, "{}", true);
    json_object_put(resp);

    /* Hiding output is not refusing input. */
    policy.deprecated_output = QAPI_OUTPUT_HIDE;
    policy.unstable_output = QAPI_OUTPUT_HIDE;
    qapi_compat_policy_set(&policy);
    resp = dispatch_text(f, "{\"execute\": \"old\", \"id\": 1}", false);
    assert_return(resp, "{}", true);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 2);

    policy.deprecated_input = QAPI_INPUT_REJECT;
    qapi_compat_policy_set(&policy);
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"old\", \"id\": 1}", false,
                          "CommandNotFound", true, "'old'", "deprecated",
                          "policy");
    resp = dispatch_text(f, "{\"execute\": \"new\", \"id\": 1}", false);
    assert_return(resp, "{}", true);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 3);

    policy.deprecated_input = QAPI_INPUT_ACCEPT;
    policy.unstable_input = QAPI_INPUT_REJECT;
    qapi_compat_policy_set(&policy);
    ASSERT_DISPATCH_ERROR(f, "{\"execute\": \"new\", \"id\": 1}", false,
                          "CommandNotFound", true, "'new'", "unstable",
                          "policy");
    resp = dispatch_text(f, "{\"execute\": \"old\"}", false);
    assert_return(resp, "{}", false);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 4);

    /* Reset, so that nothing after this test sees the policy. */
    memset(&policy, 0, sizeof(policy));
    qapi_compat_policy_set(&policy);
    resp = dispatch_text(f, "{\"execute\": \"new\"}", false);
    assert_return(resp, "{}", false);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 5);
}

/* Check 9 through the session hook */

static bool negotiating_check(const char *name, void *opaque, GError **errp)
{
    GPtrArray *names = opaque;

    g_ptr_array_add(names, g_strdup(name));
    if (strcmp(name, "no-result")) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                    "command '%s': send 'no-result' first", name);
        return false;
    }
    return true;
}

static void test_check9_session(Fixture *f, gconstpointer data)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    static const char *const refused[] = {
        "{\"execute\": \"object\", \"id\": 9}",
        /* Check 9 comes before checks 10 and 11. */
        "{\"execute\": \"nope\", \"id\": 9}",
        "{\"execute\": \"disabled\", \"id\": 9}",
        "{\"exec-oob\": \"oob\", \"id\": 9}",
    };
    json_object *request, *resp;
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(refused); i++) {
        request = parse(refused[i]);
        resp = qmp_dispatch_checked(f->cmds, request, true, negotiating_check,
                                    names);
        assert_error(resp, true, "CommandNotFound", "send 'no-result' first",
                     NULL);
        json_object_put(resp);
        json_object_put(request);
    }
    g_assert_cmpuint(names->len, ==, 4);
    g_assert_cmpstr(g_ptr_array_index(names, 1), ==, "nope");

    /* Checks 2 to 8 come first: the hook is not asked. */
    request = parse("{\"execute\": \"object\", \"arguments\": 1, \"id\": 9}");
    resp =
        qmp_dispatch_checked(f->cmds, request, true, negotiating_check, names);
    assert_error(resp, true, "GenericError", "'arguments'", NULL);
    json_object_put(resp);
    json_object_put(request);
    g_assert_cmpuint(names->len, ==, 4);

    /* NULs reach it escaped. */
    request = parse("{\"execute\": \"a\\u0000b\", \"id\": 9}");
    resp =
        qmp_dispatch_checked(f->cmds, request, false, negotiating_check, names);
    assert_error(resp, true, "CommandNotFound", "'a\\u0000b'", NULL);
    json_object_put(resp);
    json_object_put(request);
    g_assert_cmpstr(g_ptr_array_index(names, 4), ==, "a\\u0000b");

    /* Accepted: the command runs. */
    request = parse("{\"execute\": \"no-result\", \"id\": 9}");
    resp =
        qmp_dispatch_checked(f->cmds, request, false, negotiating_check, names);
    assert_return(resp, "{}", true);
    json_object_put(resp);
    json_object_put(request);
    g_assert_cmpint(seen.calls, ==, 1);
}

static bool check_without_error(const char *name, void *opaque, GError **errp)
{
    (void)name;
    (void)opaque;
    (void)errp;
    return false;
}

static void test_check9_misuse(Fixture *f, gconstpointer data)
{
    json_object *request = parse("{\"execute\": \"no-result\", \"id\": 9}");
    json_object *resp;

    (void)data;
    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL,
                          "*session check*'no-result'*");
    resp = qmp_dispatch_checked(f->cmds, request, false, check_without_error,
                                NULL);
    g_test_assert_expected_messages();
    assert_error(resp, true, "GenericError", "'no-result'", NULL);
    json_object_put(resp);
    json_object_put(request);
    g_assert_cmpint(seen.calls, ==, 0);
}

/* Marshallers that break their contract */

static void test_marshaller_misuse(Fixture *f, gconstpointer data)
{
    json_object *resp;

    (void)data;
    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL,
                          "*'false-without-error'*without*error*");
    resp = dispatch_text(f, "{\"execute\": \"false-without-error\", \"id\": 1}",
                         false);
    g_test_assert_expected_messages();
    assert_error(resp, true, "GenericError", "'false-without-error'", NULL);
    json_object_put(resp);

    g_test_expect_message("qapikit", G_LOG_LEVEL_CRITICAL,
                          "*'true-with-error'*both at once*");
    resp = dispatch_text(f, "{\"execute\": \"true-with-error\"}", false);
    g_test_assert_expected_messages();
    assert_error(resp, false, "GenericError", "'true-with-error'", NULL);
    json_object_put(resp);
    g_assert_cmpint(seen.calls, ==, 2);
}

/* The id */

/*
 * Dispatch requests reaching various checks with ID as their id (no id
 * member unless HAS_ID_MEMBER): the reply's id is ID itself, last.
 */
static void assert_id_echoed(Fixture *f, json_object *id, bool has_id_member)
{
    static const char *const requests[] = {
        "{\"execute\": \"object\"}",                /* success */
        "{\"execute\": \"device-not-found\"}",      /* check 13 */
        "{\"execute\": \"nope\"}",                  /* check 10 */
        "{\"execute\": 1}",                         /* check 7 */
        "{\"execute\": \"no-result\", \"foo\": 1}", /* check 4 */
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(requests); i++) {
        json_object *request = parse(requests[i]);
        g_autofree char *id_text = NULL;
        json_object *resp, *echo;

        if (has_id_member) {
            json_object_object_add(request, "id", json_object_get(id));
        }
        resp = qmp_dispatch(f->cmds, request, false);
        g_assert_nonnull(resp);
        g_assert_cmpint(json_object_object_get_ex(resp, "id", &echo), ==,
                        has_id_member);
        if (has_id_member) {
            g_autofree char *names = json_test_member_names(resp);

            g_assert_true(echo == id);
            g_assert_true(g_str_has_suffix(names, ",id"));
            id_text = g_strdup(to_text(id));
            g_assert_cmpstr(to_text(echo), ==, id_text);
        }
        json_object_put(resp);
        json_object_put(request);
    }
}

static void test_id_echo(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *text;
        const char *echo; /* NULL: the same text */
    } ids[] = {
        { "\"abc\"", NULL },
        { "\"\"", NULL },
        { "\"__qmp#00001\"", NULL },
        { "\"a\\u0000b\"", NULL },
        { "true", NULL },
        { "false", NULL },
        { "null", NULL },
        { "0", NULL },
        { "-0", "0" },
        { "-42", NULL },
        { "9223372036854775807", NULL },
        { "-9223372036854775808", NULL },
        { "9223372036854775808", NULL },
        { "18446744073709551615", NULL },
        { "1.0", NULL },
        { "1E2", NULL },
        { "-0.0", NULL },
        { "1e-999", NULL },
        { "[]", NULL },
        { "{}", NULL },
        { "[1,\"two\",[3,{\"four\":null}],true]", NULL },
        { "{\"z\":1,\"a\":{\"m\":[1,2],\"b\":\"x\"},\"k\":null}", NULL },
    };
    json_object *id;
    size_t i;

    (void)data;
    for (i = 0; i < G_N_ELEMENTS(ids); i++) {
        id = parse(ids[i].text);
        g_assert_cmpstr(to_text(id), ==,
                        ids[i].echo ? ids[i].echo : ids[i].text);
        assert_id_echoed(f, id, true);
        json_object_put(id);
    }

    /* 2^64-1 is a json-c uint64, and comes back as one. */
    id = parse("18446744073709551615");
    g_assert_cmpint(json_object_get_type(id), ==, json_type_int);
    g_assert_cmpuint(json_object_get_uint64(id), ==, UINT64_MAX);
    assert_id_echoed(f, id, true);
    json_object_put(id);

    /* Beyond every integer type: a double keeping its digits. */
    id = json_object_new_double_s(1.2345678901234568e+29,
                                  "123456789012345678901234567890");
    assert_id_echoed(f, id, true);
    g_assert_cmpstr(to_text(id), ==, "123456789012345678901234567890");
    json_object_put(id);

    /* The largest finite double is fine. */
    id = parse("-1.7976931348623157e308");
    assert_id_echoed(f, id, true);
    json_object_put(id);

    /* No id member, no id: */
    assert_id_echoed(f, NULL, false);
}

/* qmp_error_response() */

static void test_error_response(void)
{
    g_autoptr(GError) err =
        g_error_new(QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "file '%s' exists", "/tmp/x");
    g_autoptr(GError) other =
        g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_EXIST, "bad file");
    g_autoptr(GError) out_of_range =
        g_error_new_literal(QAPI_ERROR, 99, "odd code");
    json_object *id = parse("[\"r\", 1]");
    json_object *resp, *echo;

    resp = qmp_error_response(err, NULL);
    assert_error(resp, false, "OpenFileFailed", "'/tmp/x'", NULL);
    json_object_put(resp);

    resp = qmp_error_response(err, id);
    assert_error(resp, true, "OpenFileFailed", "'/tmp/x'", NULL);
    g_assert_true(json_object_object_get_ex(resp, "id", &echo));
    g_assert_true(echo == id);
    json_object_put(resp);
    g_assert_cmpstr(to_text(id), ==, "[\"r\",1]");
    json_object_put(id);

    resp = qmp_error_response(other, NULL);
    assert_error(resp, false, "GenericError", "bad file", NULL);
    json_object_put(resp);
    resp = qmp_error_response(out_of_range, NULL);
    assert_error(resp, false, "GenericError", "odd code", NULL);
    json_object_put(resp);
}

#define ADD_FIXTURE_TEST(path, fn)                                             \
    g_test_add((path), Fixture, NULL, fixture_setup, (fn), fixture_teardown)

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/qmp-dispatch/registry", test_registry);
    g_test_add_func("/qmp-dispatch/registry-misuse", test_registry_misuse);
    ADD_FIXTURE_TEST("/qmp-dispatch/success", test_success);
    ADD_FIXTURE_TEST("/qmp-dispatch/arguments", test_arguments);
    ADD_FIXTURE_TEST("/qmp-dispatch/command-error", test_command_error);
    ADD_FIXTURE_TEST("/qmp-dispatch/no-success-response",
                     test_no_success_response);
    ADD_FIXTURE_TEST("/qmp-dispatch/oob", test_oob);
    g_test_add_func("/qmp-dispatch/is-oob", test_is_oob);
    ADD_FIXTURE_TEST("/qmp-dispatch/check2-not-object", test_check2_not_object);
    ADD_FIXTURE_TEST("/qmp-dispatch/check3-id-not-finite",
                     test_check3_id_not_finite);
    ADD_FIXTURE_TEST("/qmp-dispatch/check4-unexpected-member",
                     test_check4_unexpected_member);
    ADD_FIXTURE_TEST("/qmp-dispatch/check5-both", test_check5_both);
    ADD_FIXTURE_TEST("/qmp-dispatch/check6-neither", test_check6_neither);
    ADD_FIXTURE_TEST("/qmp-dispatch/check7-name-not-string",
                     test_check7_name_not_string);
    ADD_FIXTURE_TEST("/qmp-dispatch/check8-arguments-not-object",
                     test_check8_arguments_not_object);
    ADD_FIXTURE_TEST("/qmp-dispatch/check9-session", test_check9_session);
    ADD_FIXTURE_TEST("/qmp-dispatch/check9-misuse", test_check9_misuse);
    ADD_FIXTURE_TEST("/qmp-dispatch/check10-not-found", test_check10_not_found);
    ADD_FIXTURE_TEST("/qmp-dispatch/check10-policy", test_check10_policy);
    ADD_FIXTURE_TEST("/qmp-dispatch/marshaller-misuse", test_marshaller_misuse);
    ADD_FIXTURE_TEST("/qmp-dispatch/id-echo", test_id_echo);
    g_test_add_func("/qmp-dispatch/error-response", test_error_response);

    return g_test_run();
}
