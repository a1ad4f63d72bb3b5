/* SPDX-License-Identifier: MIT */
/*
 * The QMP monitor (qapikit/monitor.h) driven over socket pairs and real
 * listeners: greeting, negotiation (docs/spec/qmp-protocol.md §3), id echo
 * (§5), pipelining and splits (§1), OOB (§10), flow control (§1/13), end of
 * input (§1/12), events (§9), many sessions (§11), listeners, shutdown.
 *
 * The test's commands are registered by hand (json-c marshallers), so
 * this test needs no generated code.  A client is a plain socket; it
 * reads replies while the test iterates the main context.
 */
#include <qapikit/error.h>
#include <qapikit/event.h>
#include <qapikit/monitor.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* A safety net against a hung test, not a timing assertion. */
#define GIVE_UP_US ((gint64)30 * G_USEC_PER_SEC)

typedef struct Fixture {
    QmpCommandList *cmds;
    QmpMonitor *mon;
    GPtrArray *order; /* ids recorded by 'record' */
    unsigned echo_calls;
} Fixture;

static Fixture *current;

typedef struct Client {
    int fd;
    GString *in; /* received, not yet returned */
    bool eof;
} Client;

/* ---- the test's commands ---- */

static bool marshal_echo(json_object *args, json_object **ret, GError **errp)
{
    (void)errp;
    current->echo_calls++;
    *ret = json_object_get(args);
    return true;
}

static bool marshal_fail(json_object *args, json_object **ret, GError **errp)
{
    (void)args;
    (void)ret;
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                "device 'nope' not found");
    return false;
}

static bool marshal_emit(json_object *args, json_object **ret, GError **errp)
{
    json_object *event;

    (void)errp;
    event = qapi_event_build("TEST_EVENT", json_object_get(args));
    qapi_event_deliver("TEST_EVENT", event);
    json_object_put(event);
    *ret = json_object_new_object();
    return true;
}

static bool marshal_record(json_object *args, json_object **ret, GError **errp)
{
    json_object *tag;

    (void)errp;
    if (json_object_object_get_ex(args, "tag", &tag)) {
        g_ptr_array_add(current->order, g_strdup(json_object_get_string(tag)));
    }
    *ret = json_object_new_object();
    return true;
}

static bool marshal_big(json_object *args, json_object **ret, GError **errp)
{
    json_object *size;
    size_t len = 1024;
    g_autofree char *text = NULL;

    (void)errp;
    if (json_object_object_get_ex(args, "size", &size)) {
        len = (size_t)json_object_get_int64(size);
    }
    text = g_malloc(len + 1);
    memset(text, 'x', len);
    text[len] = 0;
    current->echo_calls++;
    *ret = json_object_new_string_len(text, (int)len);
    return true;
}

static bool marshal_bad_utf8(json_object *args, json_object **ret,
                             GError **errp)
{
    (void)args;
    (void)errp;
    *ret = json_object_new_string("a\xff"
                                  "b\xc3\xa9"
                                  "c\xf0\x9f\x98\x80"
                                  "\xed\xa0\x80");
    return true;
}

static void done_cb(QmpMonitor *mon, void *opaque)
{
    (void)mon;
    *(bool *)opaque = true;
}

static bool shutdown_done;

static bool marshal_quit(json_object *args, json_object **ret, GError **errp)
{
    json_object *data = json_object_new_object();
    json_object *event;

    (void)args;
    (void)errp;
    json_object_object_add(data, "reason", json_object_new_string("test"));
    event = qapi_event_build("SHUTDOWN", data);
    qmp_monitor_broadcast(current->mon, event);
    json_object_put(event);
    qmp_monitor_shutdown(current->mon, 0, done_cb, &shutdown_done);
    *ret = json_object_new_object();
    return true;
}

/* The client end that 'hangup' closes, as if the peer vanished. */
static int hangup_fd = -1;

static bool marshal_hangup(json_object *args, json_object **ret, GError **errp)
{
    json_object *event;

    (void)args;
    (void)errp;
    close(hangup_fd);
    hangup_fd = -1;
    /* Writing the event to the vanished peer fails: the session closes
     * while this command runs. */
    event = qapi_event_build("BYE", NULL);
    qmp_monitor_broadcast(current->mon, event);
    json_object_put(event);
    *ret = json_object_new_object();
    return true;
}

/*
 * Iterate the main context inside a command, as a handler that waits
 * for something may: the monitor must not start another command in
 * there (§11/3-4).
 */
static void client_send(Client *c, const char *text);

/* A client that 'nest' feeds requests while it runs, or NULL. */
static Client *nest_feed;

static bool marshal_nest(json_object *args, json_object **ret, GError **errp)
{
    (void)args;
    (void)errp;
    g_ptr_array_add(current->order, g_strdup("nest-in"));
    for (int i = 0; i < 100; i++) {
        g_main_context_iteration(NULL, FALSE);
    }
    if (nest_feed) {
        g_autoptr(GString) ten = g_string_new(NULL);

        /* Read in here: 10 queued, more than the 8 that pause reading. */
        for (int i = 0; i < 10; i++) {
            g_string_append_printf(ten,
                                   "{\"execute\":\"record\","
                                   "\"arguments\":{\"tag\":\"f%d\"}}",
                                   i);
        }
        client_send(nest_feed, ten->str);
        for (int i = 0; i < 1000 && g_main_context_pending(NULL); i++) {
            g_main_context_iteration(NULL, FALSE);
        }
        /* Input while paused must not keep the loop busy. */
        client_send(nest_feed,
                    "{\"execute\":\"record\","
                    "\"arguments\":{\"tag\":\"f10\"}}");
        for (int i = 0; i < 1000 && g_main_context_pending(NULL); i++) {
            g_main_context_iteration(NULL, FALSE);
        }
        g_assert_false(g_main_context_pending(NULL));
    }
    g_ptr_array_add(current->order, g_strdup("nest-out"));
    *ret = json_object_new_object();
    return true;
}

static const QLitDictEntry schema_entry[] = {
    { "name", QLIT_QSTR("echo") },
    { "meta-type", QLIT_QSTR("command") },
    { NULL, QLIT_QNULL },
};
static const QLitObject schema_list[] = {
    QLIT_QDICT(schema_entry),
    { .type = QLIT_TYPE_NONE },
};
static const QLitObject test_schema = QLIT_QLIST(schema_list);

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    current = f;
    f->order = g_ptr_array_new_with_free_func(g_free);
    f->cmds = qmp_command_list_new();
    qmp_register_command(f->cmds, "echo", marshal_echo, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "fail", marshal_fail, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "emit", marshal_emit, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "record", marshal_record, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "ping", marshal_record, QCO_ALLOW_OOB, 0);
    qmp_register_command(f->cmds, "big", marshal_big, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "bad-utf8", marshal_bad_utf8, QCO_NO_OPTIONS,
                         0);
    qmp_register_command(f->cmds, "quit", marshal_quit, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "hangup", marshal_hangup, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "nest", marshal_nest, QCO_NO_OPTIONS, 0);
    qmp_register_command(f->cmds, "disabled", marshal_echo, QCO_NO_OPTIONS, 0);
    qmp_command_set_enabled(f->cmds, "disabled", false);
    f->mon = qmp_monitor_new(f->cmds, NULL);
    qmp_monitor_set_version(f->mon, 1, 2, 3, "test-monitor 1.2.3");
    qmp_monitor_set_schema(f->mon, &test_schema);
    qapi_event_set_emitter(qmp_monitor_event_emitter, NULL);
    shutdown_done = false;
}

/* Let the monitor finish what it can do now. */
static void spin(void)
{
    for (int i = 0; i < 1000 && g_main_context_pending(NULL); i++) {
        g_main_context_iteration(NULL, FALSE);
    }
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    qapi_event_set_emitter(NULL, NULL);
    qmp_monitor_free(f->mon);
    qmp_command_list_free(f->cmds);
    g_ptr_array_free(f->order, TRUE);
    /* Sources the monitor removed must not linger in the context. */
    spin();
    current = NULL;
}

/* ---- clients ---- */

/* A session over a socket pair; returns the client's end. */
static Client *client_new(Fixture *f)
{
    int fds[2];
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketConnection) conn = NULL;
    Client *c = g_new0(Client, 1);

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==,
                    0);
    sock = g_socket_new_from_fd(fds[0], &err);
    g_assert_no_error(err);
    conn = g_socket_connection_factory_create_connection(sock);
    g_assert_true(qmp_monitor_add_stream(f->mon, G_IO_STREAM(conn), &err));
    g_assert_no_error(err);
    c->fd = fds[1];
    c->in = g_string_new(NULL);
    return c;
}

static Client *client_connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    Client *c = g_new0(Client, 1);

    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)), ==,
                    0);
    c->in = g_string_new(NULL);
    return c;
}

static void client_free(Client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    g_string_free(c->in, TRUE);
    g_free(c);
}

static void client_send_len(Client *c, const char *text, size_t len)
{
    while (len) {
        ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            g_main_context_iteration(NULL, FALSE);
            continue;
        }
        g_assert_cmpint(n, >, 0);
        text += n;
        len -= (size_t)n;
    }
}

static void client_send(Client *c, const char *text)
{
    client_send_len(c, text, strlen(text));
}

/* Take what the socket has now, without blocking. */
static void client_pull(Client *c)
{
    char buf[65536];
    ssize_t n;

    while ((n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
        g_string_append_len(c->in, buf, n);
    }
    if (n == 0) {
        c->eof = true;
    }
}

/*
 * The next line the server sent, without its CR LF (checked), running
 * the main loop until it comes; NULL at end of stream.
 */
static char *client_line(Client *c)
{
    gint64 give_up = g_get_monotonic_time() + GIVE_UP_US;

    for (;;) {
        char *nl;
        struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

        client_pull(c);
        nl = memchr(c->in->str, '\n', c->in->len);
        if (nl) {
            size_t len = (size_t)(nl - c->in->str);
            char *line;

            g_assert_cmpint(len, >, 0);
            g_assert_cmpint(nl[-1], ==, '\r');
            line = g_strndup(c->in->str, len - 1);
            g_string_erase(c->in, 0, (gssize)len + 1);
            g_assert_null(strchr(line, '\r'));
            return line;
        }
        if (c->eof) {
            g_assert_cmpuint(c->in->len, ==, 0);
            return NULL;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, give_up);
        if (g_main_context_pending(NULL)) {
            g_main_context_iteration(NULL, FALSE);
        } else {
            poll(&pfd, 1, 10);
            g_main_context_iteration(NULL, FALSE);
        }
    }
}

/* Read the greeting (tests that check it do so elsewhere). */
static void skip_greeting(Client *c)
{
    g_autofree char *greeting = client_line(c);

    g_assert_nonnull(greeting);
    g_assert_true(g_str_has_prefix(greeting, "{\"QMP\":"));
}

/* The next message as JSON; every byte is 7-bit ASCII (§1/7). */
static json_object *client_message(Client *c)
{
    g_autofree char *line = client_line(c);
    json_object *msg;

    g_assert_nonnull(line);
    for (const char *p = line; *p; p++) {
        g_assert_cmpint((unsigned char)*p, <, 0x80);
    }
    msg = json_tokener_parse(line);
    g_assert_nonnull(msg);
    g_assert_true(json_object_is_type(msg, json_type_object));
    return msg;
}

/* The next message serialised by json-c (compact), for comparisons. */
static char *client_message_text(Client *c)
{
    g_autofree char *line = client_line(c);

    g_assert_nonnull(line);
    return g_steal_pointer(&line);
}

static void expect_message(Client *c, const char *expected)
{
    g_autofree char *line = client_message_text(c);

    g_assert_cmpstr(line, ==, expected);
}

/* Read the greeting and negotiate (with OOB if asked). */
static void client_negotiate(Client *c, bool oob)
{
    skip_greeting(c);
    client_send(c,
                oob ? "{\"execute\":\"qmp_capabilities\","
                      "\"arguments\":{\"enable\":[\"oob\"]}}"
                    : "{\"execute\":\"qmp_capabilities\"}");
    expect_message(c, "{\"return\":{}}");
}

static void assert_error(json_object *msg, const char *cls,
                         const char *desc_part)
{
    json_object *error, *value;

    g_assert_true(json_object_object_get_ex(msg, "error", &error));
    g_assert_true(json_object_object_get_ex(error, "class", &value));
    g_assert_cmpstr(json_object_get_string(value), ==, cls);
    g_assert_true(json_object_object_get_ex(error, "desc", &value));
    if (desc_part) {
        g_assert_nonnull(strstr(json_object_get_string(value), desc_part));
    }
}

static void expect_error(Client *c, const char *cls, const char *desc_part,
                         const char *id)
{
    json_object *msg = client_message(c);
    json_object *value;

    assert_error(msg, cls, desc_part);
    if (id) {
        g_assert_true(json_object_object_get_ex(msg, "id", &value));
        g_assert_cmpstr(json_object_get_string(value), ==, id);
    } else {
        g_assert_false(json_object_object_get_ex(msg, "id", NULL));
    }
    json_object_put(msg);
}

/* ---- tests ---- */

static void test_greeting(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f), *d;

    (void)data;
    expect_message(c,
                   "{\"QMP\":{\"version\":{\"qemu\":{\"major\":1,"
                   "\"minor\":2,\"micro\":3},\"package\":"
                   "\"test-monitor 1.2.3\"},\"capabilities\":"
                   "[\"oob\"]}}");
    qmp_monitor_set_oob(f->mon, false);
    d = client_new(f);
    expect_message(d,
                   "{\"QMP\":{\"version\":{\"qemu\":{\"major\":1,"
                   "\"minor\":2,\"micro\":3},\"package\":"
                   "\"test-monitor 1.2.3\"},\"capabilities\":[]}}");
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 2);
    client_free(c);
    client_free(d);
}

static void test_negotiation(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);

    (void)data;
    skip_greeting(c);
    client_send(c, "{\"execute\":\"query-version\",\"id\":\"r1\"}");
    expect_error(c, "CommandNotFound", "qmp_capabilities", "r1");
    client_send(c, "{\"execute\":\"nonexistent\",\"id\":\"r1b\"}");
    expect_error(c, "CommandNotFound", "qmp_capabilities", "r1b");
    /* An unknown capability names enable[N] and keeps negotiating. */
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r2\","
                "\"arguments\":{\"enable\":[\"oob\",\"foo\"]}}");
    expect_error(c, "GenericError", "enable[1]", "r2");
    client_send(c, "{\"execute\":\"echo\",\"id\":\"r3\"}");
    expect_error(c, "CommandNotFound", "qmp_capabilities", "r3");
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r4\","
                "\"arguments\":{\"enable\":\"oob\"}}");
    expect_error(c, "GenericError", "enable", "r4");
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r5\","
                "\"arguments\":{\"enable\":[1]}}");
    expect_error(c, "GenericError", "enable[0]", "r5");
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r6\","
                "\"arguments\":{\"foo\":true}}");
    expect_error(c, "GenericError", "foo", "r6");
    /* Envelope checks come first, with the id (§4). */
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r7\","
                "\"foo\":1}");
    expect_error(c, "GenericError", "foo", "r7");
    /* exec-oob is not allowed before OOB is negotiated. */
    client_send(c, "{\"exec-oob\":\"qmp_capabilities\",\"id\":\"r8\"}");
    expect_error(c, "GenericError", "exec-oob", "r8");
    /* Twice the same capability is once; then command mode. */
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"id\":\"r9\","
                "\"arguments\":{\"enable\":[\"oob\",\"oob\"]}}");
    expect_message(c, "{\"return\":{},\"id\":\"r9\"}");
    client_send(c, "{\"execute\":\"qmp_capabilities\",\"id\":\"r10\"}");
    expect_error(c, "CommandNotFound", "already negotiated", "r10");
    client_send(c, "{\"execute\":\"query-version\",\"id\":\"r11\"}");
    expect_message(c,
                   "{\"return\":{\"qemu\":{\"major\":1,\"minor\":2,"
                   "\"micro\":3},\"package\":\"test-monitor 1.2.3\"},"
                   "\"id\":\"r11\"}");
    client_send(c, "{\"execute\":\"nonexistent\",\"id\":\"r12\"}");
    expect_error(c, "CommandNotFound", "nonexistent", "r12");
    client_send(c, "{\"execute\":\"disabled\",\"id\":\"r13\"}");
    expect_error(c, "CommandNotFound", "disabled", "r13");
    client_send(c, "{\"execute\":\"fail\",\"id\":\"r14\"}");
    expect_error(c, "DeviceNotFound", "nope", "r14");
    client_send(c,
                "{\"execute\":\"query-version\",\"id\":\"r15\","
                "\"arguments\":{\"x\":1}}");
    expect_error(c, "GenericError", "'x'", "r15");
    client_free(c);
}

static void test_negotiation_variants(Fixture *f, gconstpointer data)
{
    static const char *const accepted[] = {
        "{\"execute\":\"qmp_capabilities\"}",
        "{\"execute\":\"qmp_capabilities\",\"arguments\":{}}",
        "{\"execute\":\"qmp_capabilities\",\"arguments\":{\"enable\":[]}}",
    };
    Client *c;

    (void)data;
    for (size_t i = 0; i < G_N_ELEMENTS(accepted); i++) {
        c = client_new(f);
        skip_greeting(c);
        client_send(c, accepted[i]);
        expect_message(c, "{\"return\":{}}");
        /* OOB stays off: exec-oob is an unexpected member. */
        client_send(c, "{\"exec-oob\":\"ping\",\"id\":\"x\"}");
        expect_error(c, "GenericError", "exec-oob", "x");
        client_free(c);
    }

    /* 'oob' not offered: enable[0] refused, still negotiating. */
    qmp_monitor_set_oob(f->mon, false);
    c = client_new(f);
    skip_greeting(c);
    client_send(c,
                "{\"execute\":\"qmp_capabilities\",\"arguments\":"
                "{\"enable\":[\"oob\"]},\"id\":0}");
    expect_message(c,
                   "{\"error\":{\"class\":\"GenericError\",\"desc\":"
                   "\"'enable[0]': capability 'oob' is not offered "
                   "by this server\"},\"id\":0}");
    client_send(c, "{\"execute\":\"qmp_capabilities\"}");
    expect_message(c, "{\"return\":{}}");
    client_free(c);
}

static void test_id_echo(Fixture *f, gconstpointer data)
{
    static const struct {
        const char *sent, *echoed;
    } cases[] = {
        { "\"s\"", "\"s\"" },
        { "true", "true" },
        { "null", "null" },
        { "-0", "0" },
        { "42", "42" },
        { "18446744073709551615", "18446744073709551615" },
        { "123456789012345678901234567890", "123456789012345678901234567890" },
        { "1.0", "1.0" },
        { "1E2", "1E2" },
        { "-0.0", "-0.0" },
        { "[1,{\"a\":\"\\u00e9\",\"b\":[]}]",
          "[1,{\"a\":\"\\u00e9\",\"b\":[]}]" },
        { "{\"z\":1,\"a\":2}", "{\"z\":1,\"a\":2}" },
        { "\"\\ud83d\\ude00\\u0000\"", "\"\\ud83d\\ude00\\u0000\"" },
    };
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *req =
            g_strdup_printf("{\"execute\":\"echo\",\"id\":%s}", cases[i].sent);
        g_autofree char *want =
            g_strdup_printf("{\"return\":{},\"id\":%s}", cases[i].echoed);

        client_send(c, req);
        expect_message(c, want);
    }
    /* A non-finite id: refused, no id in the reply (§5/3). */
    client_send(c, "{\"execute\":\"echo\",\"id\":[1e999]}");
    expect_error(c, "GenericError", "'id'", NULL);
    client_free(c);
}

static void test_output_ascii(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    client_send(c,
                "{\"execute\":\"echo\",\"arguments\":{\"s\":"
                "\"\xc3\xa9\xf0\x9f\x98\x80\\u0001\\t/\"}}");
    expect_message(c,
                   "{\"return\":{\"s\":\"\\u00e9\\ud83d\\ude00"
                   "\\u0001\\t/\"}}");
    client_send(c, "{\"execute\":\"bad-utf8\"}");
    expect_message(c,
                   "{\"return\":\"a\\ufffdb\\u00e9c\\ud83d\\ude00"
                   "\\ufffd\\ufffd\\ufffd\"}");
    client_free(c);
}

static void test_pipelining(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) batch = g_string_new(NULL);
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    for (int i = 0; i < 1000; i++) {
        g_string_append_printf(batch, "{\"execute\":\"echo\",\"id\":%d}", i);
        if (i % 3 == 0) {
            g_string_append(batch, "\r\n");
        }
    }
    client_send_len(c, batch->str, batch->len);
    for (int i = 0; i < 1000; i++) {
        g_autofree char *want = g_strdup_printf("{\"return\":{},\"id\":%d}", i);

        expect_message(c, want);
    }
    client_free(c);
}

static void test_splits(Fixture *f, gconstpointer data)
{
    const char *req = "{'execute': \"echo\", \"arguments\": {\"s\": "
                      "\"\xc3\xa9\\u00e9\", \"n\": -12.5e3}, \"id\": 7}"
                      "{\"execute\":\"echo\",\"id\":8}";
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    for (const char *p = req; *p; p++) {
        client_send_len(c, p, 1);
        spin();
    }
    expect_message(c,
                   "{\"return\":{\"s\":\"\\u00e9\\u00e9\",\"n\":-12.5e3},"
                   "\"id\":7}");
    expect_message(c, "{\"return\":{},\"id\":8}");
    client_free(c);
}

static void test_bad_input(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    client_send(c,
                "{\"execute\":\"echo\",\"id\":\"i1\"}@"
                "{\"execute\":\"echo\",\"id\":\"i2\"}");
    expect_message(c, "{\"return\":{},\"id\":\"i1\"}");
    expect_error(c, "GenericError", "invalid JSON", NULL);
    expect_message(c, "{\"return\":{},\"id\":\"i2\"}");
    client_send(c, "[]\n42\n");
    expect_error(c, "GenericError", "JSON object", NULL);
    expect_error(c, "GenericError", "JSON object", NULL);
    client_free(c);
}

static void test_request_limit(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) big = g_string_new("{\"execute\":\"echo\",\"arguments\""
                                          ":{\"s\":\"");
    Client *c;

    (void)data;
    qmp_monitor_set_request_limits(f->mon, 4096, 8, 0);
    c = client_new(f);
    client_negotiate(c, false);
    for (int i = 0; i < 10000; i++) {
        g_string_append_c(big, 'x');
    }
    g_string_append(big, "\"},\"id\":1}\n");
    client_send_len(c, big->str, big->len);
    expect_error(c, "GenericError", "invalid JSON", NULL);
    /* The bracket past the limit starts a tentative value (§8): a control
     * byte ends it silently. */
    client_send(c, "[[[[[[[[[[[[[[[[[[[[\x01\n");
    expect_error(c, "GenericError", "invalid JSON", NULL);
    client_send(c, "{\"execute\":\"echo\",\"id\":2}");
    expect_message(c, "{\"return\":{},\"id\":2}");
    client_free(c);
}

/* A request to 'echo' whose argument holds N empty objects, unfinished. */
static GString *echo_objects(unsigned n)
{
    GString *s = g_string_new("{\"execute\":\"echo\",\"arguments\":{\"l\":[");

    for (unsigned i = 0; i < n; i++) {
        g_string_append(s, "{},");
    }
    return s;
}

/*
 * §7: memory budgets of requests, per session and for the monitor,
 * applied at once; every session gets its first 1 MiB whatever the others
 * hold.  An empty object costs json-c some 800 bytes.
 */
static void test_memory_limits(Fixture *f, gconstpointer data)
{
    g_autoptr(GString) huge = echo_objects(3800);  /* ~2.9 MiB */
    g_autoptr(GString) large = echo_objects(2400); /* ~1.8 MiB */
    g_autoptr(GString) more = echo_objects(1800);  /* ~1.4 MiB */
    g_autofree char *reply = NULL;
    Client *a, *b;

    (void)data;
    a = client_new(f);
    b = client_new(f);
    client_negotiate(a, false);
    client_negotiate(b, false);
    qmp_monitor_set_memory_limits(f->mon, 2 * 1024 * 1024, 3 * 1024 * 1024);

    /* Past the session's budget: refused at once, the session goes on. */
    client_send_len(a, huge->str, huge->len);
    expect_error(a, "GenericError", "the session's budget of 2097152 bytes",
                 NULL);
    client_send(a, "{}]}}\n{\"execute\":\"echo\",\"id\":\"a\"}");
    expect_message(a, "{\"return\":{},\"id\":\"a\"}");

    /* A holds 1.8 MiB of the monitor's 3 with an unfinished request. */
    client_send_len(a, large->str, large->len);
    spin();
    /* B's requests beyond its first 1 MiB do not fit... */
    client_send_len(b, more->str, more->len);
    expect_error(b, "GenericError", "the monitor's budget of 3145728 bytes",
                 NULL);
    /* ...but its small ones do. */
    client_send(b, "{}]}}\n{\"execute\":\"echo\",\"id\":\"b\"}");
    expect_message(b, "{\"return\":{},\"id\":\"b\"}");
    /* A's request completes and runs; then B's large one fits. */
    client_send(a, "{}]},\"id\":\"a2\"}");
    reply = client_message_text(a);
    g_assert_true(g_str_has_suffix(reply, "{}]},\"id\":\"a2\"}"));
    g_string_append(more, "{}]},\"id\":\"b2\"}");
    client_send_len(b, more->str, more->len);
    g_free(reply);
    reply = client_message_text(b);
    g_assert_true(g_str_has_suffix(reply, "{}]},\"id\":\"b2\"}"));
    client_free(a);
    client_free(b);
}

static void test_oob(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, true);
    /* One write: all three are queued before any runs. */
    client_send(c,
                "{\"execute\":\"record\",\"arguments\":{\"tag\":\"a\"},"
                "\"id\":\"a\"}"
                "{\"execute\":\"record\",\"arguments\":{\"tag\":\"b\"},"
                "\"id\":\"b\"}"
                "{\"exec-oob\":\"ping\",\"arguments\":{\"tag\":\"p\"},"
                "\"id\":\"p\"}");
    expect_message(c, "{\"return\":{},\"id\":\"p\"}");
    expect_message(c, "{\"return\":{},\"id\":\"a\"}");
    expect_message(c, "{\"return\":{},\"id\":\"b\"}");
    g_assert_cmpuint(f->order->len, ==, 3);
    g_assert_cmpstr(f->order->pdata[0], ==, "p");
    /* A command without allow-oob cannot run out of band (check 11). */
    client_send(c, "{\"exec-oob\":\"record\",\"id\":\"x\"}");
    expect_error(c, "GenericError", "out of band", "x");
    /* The monitor's query-version may. */
    client_send(c, "{\"exec-oob\":\"query-version\",\"id\":\"v\"}");
    {
        json_object *msg = client_message(c);

        g_assert_true(json_object_object_get_ex(msg, "return", NULL));
        json_object_put(msg);
    }
    client_free(c);
}

static void test_round_robin(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f);
    g_autoptr(GString) batch_a = g_string_new(NULL);
    g_autoptr(GString) batch_b = g_string_new(NULL);

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, false);
    for (int i = 0; i < 4; i++) {
        g_string_append_printf(batch_a,
                               "{\"execute\":\"record\","
                               "\"arguments\":{\"tag\":\"a%d\"}}",
                               i);
        g_string_append_printf(batch_b,
                               "{\"execute\":\"record\","
                               "\"arguments\":{\"tag\":\"b%d\"}}",
                               i);
    }
    client_send_len(a, batch_a->str, batch_a->len);
    client_send_len(b, batch_b->str, batch_b->len);
    for (int i = 0; i < 4; i++) {
        expect_message(a, "{\"return\":{}}");
        expect_message(b, "{\"return\":{}}");
    }
    g_assert_cmpuint(f->order->len, ==, 8);
    /* Both sessions were read in one turn: their commands alternate. */
    for (guint i = 0; i < 8; i++) {
        g_autofree char *want =
            g_strdup_printf("%c%u", i % 2 ? 'b' : 'a', i / 2);

        g_assert_cmpstr(f->order->pdata[i], ==, want);
    }
    client_free(a);
    client_free(b);
}

static void test_events(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f), *c = client_new(f);
    json_object *msg, *value, *ts;

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, true);
    skip_greeting(c); /* C stays in negotiation */
    client_send(a,
                "{\"execute\":\"emit\",\"arguments\":{\"n\":1},"
                "\"id\":\"e\"}");
    /* The event comes before the reply of the command that emitted it. */
    msg = client_message(a);
    g_assert_true(json_object_object_get_ex(msg, "event", &value));
    g_assert_cmpstr(json_object_get_string(value), ==, "TEST_EVENT");
    g_assert_false(json_object_object_get_ex(msg, "id", NULL));
    g_assert_true(json_object_object_get_ex(msg, "timestamp", &ts));
    g_assert_true(json_object_object_get_ex(ts, "seconds", NULL));
    g_assert_true(json_object_object_get_ex(ts, "microseconds", NULL));
    json_object_put(msg);
    expect_message(a, "{\"return\":{},\"id\":\"e\"}");
    msg = client_message(b);
    g_assert_true(json_object_object_get_ex(msg, "event", NULL));
    json_object_put(msg);
    /* C got nothing, and gets nothing later either (§9/3). */
    client_send(c, "{\"execute\":\"qmp_capabilities\"}");
    expect_message(c, "{\"return\":{}}");
    client_send(c, "{\"execute\":\"echo\"}");
    expect_message(c, "{\"return\":{}}");
    client_free(a);
    client_free(b);
    client_free(c);
}

/*
 * One emitter per process: an event reaches the command-mode sessions of
 * every monitor of the thread, each with its own command list.
 */
static void test_events_every_monitor(Fixture *f, gconstpointer data)
{
    Fixture g = { .cmds = qmp_command_list_new() };
    Client *a = client_new(f), *b;
    json_object *event;

    (void)data;
    g.mon = qmp_monitor_new(g.cmds, NULL);
    b = client_new(&g);
    client_negotiate(a, false);
    client_negotiate(b, false);
    event = qapi_event_build("EVERYWHERE", NULL);
    qapi_event_deliver("EVERYWHERE", event);
    json_object_put(event);
    spin();
    for (int i = 0; i < 2; i++) {
        json_object *msg = client_message(i ? b : a), *name;

        g_assert_true(json_object_object_get_ex(msg, "event", &name));
        g_assert_cmpstr(json_object_get_string(name), ==, "EVERYWHERE");
        json_object_put(msg);
    }
    /* A freed monitor gets nothing more; the other one still does. */
    client_free(b);
    qmp_monitor_free(g.mon);
    event = qapi_event_build("AFTER", NULL);
    qapi_event_deliver("AFTER", event);
    json_object_put(event);
    {
        json_object *msg = client_message(a), *name;

        g_assert_true(json_object_object_get_ex(msg, "event", &name));
        g_assert_cmpstr(json_object_get_string(name), ==, "AFTER");
        json_object_put(msg);
    }
    client_free(a);
    qmp_command_list_free(g.cmds);
}

static void test_end_of_input(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);

    (void)data;
    client_negotiate(c, false);
    client_send(c,
                "{\"execute\":\"echo\",\"id\":1}"
                "{\"execute\":\"echo\",\"id\":2}{\"execute\":");
    shutdown(c->fd, SHUT_WR);
    expect_message(c, "{\"return\":{},\"id\":1}");
    expect_message(c, "{\"return\":{},\"id\":2}");
    g_assert_null(client_line(c));
    spin();
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 0);
    client_free(c);
}

static void test_disconnect(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f);

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, false);
    /* A leaves in the middle of a request, B in the middle of commands. */
    client_send(a, "{\"execute\":\"echo\",\"argu");
    spin();
    client_free(a);
    client_send(b,
                "{\"execute\":\"big\",\"arguments\":{\"size\":100000}}"
                "{\"execute\":\"big\",\"arguments\":{\"size\":100000}}"
                "{\"execute\":\"big\",\"arguments\":{\"size\":100000}}");
    client_free(b);
    spin();
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 0);
    /* Others are not affected. */
    a = client_new(f);
    client_negotiate(a, false);
    client_send(a, "{\"execute\":\"echo\",\"id\":\"ok\"}");
    expect_message(a, "{\"return\":{},\"id\":\"ok\"}");
    client_free(a);
}

static void test_close_during_command(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f);
    json_object *msg;

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, false);
    hangup_fd = a->fd;
    a->fd = -1;
    /* Written with a duplicate: 'hangup' closes the original. */
    {
        int dup_fd = dup(hangup_fd);

        g_assert_cmpint(write(dup_fd,
                              "{\"execute\":\"hangup\"}"
                              "{\"execute\":\"echo\"}",
                              38),
                        ==, 38);
        close(dup_fd);
    }
    /* B, in command mode, gets the event; A's reply was dropped. */
    msg = client_message(b);
    g_assert_true(json_object_object_get_ex(msg, "event", NULL));
    json_object_put(msg);
    client_send(b, "{\"execute\":\"echo\",\"id\":\"b\"}");
    expect_message(b, "{\"return\":{},\"id\":\"b\"}");
    spin();
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 1);
    client_free(a);
    client_free(b);
}

static void test_shutdown_timeout(Fixture *f, gconstpointer data)
{
    Client *c;
    bool done = false;

    (void)data;
    qmp_monitor_set_flow_limits(f->mon, 8, 1024 * 1024, 256 * 1024 * 1024);
    c = client_new(f);
    client_negotiate(c, false);
    /* Megabytes of reply the client never reads. */
    client_send(c,
                "{\"execute\":\"big\",\"arguments\":"
                "{\"size\":8388608}}");
    while (f->echo_calls < 1) {
        g_main_context_iteration(NULL, TRUE);
    }
    qmp_monitor_shutdown(f->mon, 50, done_cb, &done);
    while (!done) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 0);
    client_free(c);
}

static void test_backlog_pause(Fixture *f, gconstpointer data)
{
    Client *c;
    g_autoptr(GString) batch = g_string_new(NULL);
    const unsigned total = 5000;
    unsigned got = 0;

    (void)data;
    qmp_monitor_set_flow_limits(f->mon, 8, 64 * 1024, 256 * 1024 * 1024);
    c = client_new(f);
    client_negotiate(c, false);
    f->echo_calls = 0;
    for (unsigned i = 0; i < total; i++) {
        g_string_append(batch,
                        "{\"execute\":\"big\",\"arguments\":"
                        "{\"size\":1024}}");
    }
    /* 5 MiB of replies to 250 KB of requests (more than one read); the
     * client reads nothing for now. */
    size_t off = 0;

    while (off < batch->len) {
        ssize_t n = send(c->fd, batch->str + off, batch->len - off,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (!g_main_context_pending(NULL)) {
            break; /* the server stopped reading */
        }
        g_main_context_iteration(NULL, FALSE);
    }
    g_string_erase(batch, 0, (gssize)off);
    spin();
    /* Reading stopped before every request was even read. */
    g_assert_cmpuint(f->echo_calls, <, total);
    /* Reading the replies resumes everything. */
    for (;;) {
        g_autofree char *line = NULL;

        if (batch->len) {
            ssize_t n = send(c->fd, batch->str, batch->len,
                             MSG_DONTWAIT | MSG_NOSIGNAL);

            if (n > 0) {
                g_string_erase(batch, 0, n);
            }
        }
        if (got == total) {
            break;
        }
        client_pull(c);
        if (!memchr(c->in->str, '\n', c->in->len)) {
            struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

            poll(&pfd, 1, 10);
            g_main_context_iteration(NULL, FALSE);
            continue;
        }
        line = client_line(c);
        g_assert_cmpuint(strlen(line), ==, 1024 + 13);
        got++;
    }
    g_assert_cmpuint(f->echo_calls, ==, total);
    client_free(c);
}

static void test_backlog_drop(Fixture *f, gconstpointer data)
{
    Client *c, *d;

    (void)data;
    qmp_monitor_set_flow_limits(f->mon, 8, 1024 * 1024, 2 * 1024 * 1024);
    c = client_new(f);
    d = client_new(f);
    client_negotiate(c, false);
    client_negotiate(d, false);
    g_test_expect_message("qapikit-monitor", G_LOG_LEVEL_WARNING,
                          "*closing a QMP session*does not read*");
    /*
     * Pipelined requests wait while the output backlog is above the
     * pause (test_backlog_hold), so what passes the drop limit is one
     * reply bigger than it, to a client that never reads.
     */
    client_send(c,
                "{\"execute\":\"big\",\"arguments\":"
                "{\"size\":3145728}}");
    while (qmp_monitor_session_count(f->mon) == 2) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_test_assert_expected_messages();
    /* The other session is not affected. */
    client_send(d, "{\"execute\":\"echo\",\"id\":\"d\"}");
    expect_message(d, "{\"return\":{},\"id\":\"d\"}");
    client_free(c);
    client_free(d);
}

/*
 * §1/13: a client that pipelines more requests than one read holds, and
 * reads their replies only later, is paused, not dropped: its in-band
 * requests wait while its output backlog is above the pause, so the
 * backlog never passes the drop limit however many requests one read
 * brought.
 */
static void test_backlog_hold(Fixture *f, gconstpointer data)
{
    Client *c;
    g_autoptr(GString) batch = g_string_new(NULL);
    const unsigned total = 200;

    (void)data;
    qmp_monitor_set_flow_limits(f->mon, 8, 64 * 1024, 256 * 1024);
    c = client_new(f);
    client_negotiate(c, false);
    f->echo_calls = 0;
    for (unsigned i = 0; i < total; i++) {
        g_string_append(batch,
                        "{\"execute\":\"big\",\"arguments\":"
                        "{\"size\":16384}}");
    }
    /* 3.2 MB of replies, 12 times the drop limit, to 8 KB of requests
     * sent in one write; the client reads nothing for now. */
    client_send_len(c, batch->str, batch->len);
    spin();
    g_assert_cmpuint(f->echo_calls, <, total);
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 1);
    for (unsigned got = 0; got < total; got++) {
        g_autofree char *line = client_line(c);

        g_assert_nonnull(line);
        g_assert_cmpuint(strlen(line), ==, 16384 + 13);
    }
    g_assert_cmpuint(f->echo_calls, ==, total);
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 1);
    client_free(c);
}

/* Field FIELD (a string) of the entry NAME of a query-qmp-schema reply. */
static const char *schema_entry_field(json_object *schema, const char *name,
                                      const char *field)
{
    for (size_t i = 0; i < json_object_array_length(schema); i++) {
        json_object *entry = json_object_array_get_idx(schema, i);

        if (!strcmp(
                json_object_get_string(json_object_object_get(entry, "name")),
                name)) {
            return json_object_get_string(json_object_object_get(entry, field));
        }
    }
    return NULL;
}

static void test_builtins(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);
    json_object *msg, *ret;
    bool saw_echo = false, saw_caps = false, saw_disabled = false;

    (void)data;
    client_negotiate(c, false);
    client_send(c, "{\"execute\":\"query-commands\"}");
    msg = client_message(c);
    g_assert_true(json_object_object_get_ex(msg, "return", &ret));
    for (size_t i = 0; i < json_object_array_length(ret); i++) {
        json_object *name;
        const char *text;

        g_assert_true(json_object_object_get_ex(
            json_object_array_get_idx(ret, i), "name", &name));
        text = json_object_get_string(name);
        saw_echo |= !strcmp(text, "echo");
        saw_caps |= !strcmp(text, "qmp_capabilities");
        saw_disabled |= !strcmp(text, "disabled");
    }
    g_assert_true(saw_echo);
    g_assert_true(saw_caps); /* listed, as QEMU lists it */
    g_assert_false(saw_disabled);
    json_object_put(msg);
    /* The embedder's schema, then the built-ins' (control.json). */
    client_send(c, "{\"execute\":\"query-qmp-schema\"}");
    msg = client_message(c);
    g_assert_true(json_object_object_get_ex(msg, "return", &ret));
    g_assert_cmpstr(
        json_object_to_json_string_ext(json_object_array_get_idx(ret, 0),
                                       JSON_C_TO_STRING_PLAIN),
        ==, "{\"name\":\"echo\",\"meta-type\":\"command\"}");
    g_assert_cmpstr(schema_entry_field(ret, "query-version", "ret-type"), ==,
                    "VersionInfo");
    g_assert_cmpstr(schema_entry_field(ret, "VersionInfo", "meta-type"), ==,
                    "object");
    g_assert_cmpstr(schema_entry_field(ret, "qmp_capabilities", "arg-type"), ==,
                    "q_obj_qmp_capabilities-arg");
    json_object_put(msg);
    client_free(c);
}

/*
 * An embedder's schema that describes a built-in type differently (a
 * VersionInfo of its own): the built-in one is listed under another
 * name, so that query-version's result type still says what it is.
 */
static const QLitDictEntry own_version_entry[] = {
    { "name", QLIT_QSTR("VersionInfo") },
    { "meta-type", QLIT_QSTR("object") },
    { "members",
      QLIT_QLIST(((const QLitObject[]){ { .type = QLIT_TYPE_NONE } })) },
    { NULL, { .type = QLIT_TYPE_NONE } },
};
static const QLitObject own_version_list[] = {
    QLIT_QDICT(own_version_entry),
    { .type = QLIT_TYPE_NONE },
};
static const QLitObject own_version_schema = QLIT_QLIST(own_version_list);

static void test_builtins_schema_clash(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);
    json_object *msg, *ret;
    size_t versions = 0;

    (void)data;
    qmp_monitor_set_schema(f->mon, &own_version_schema);
    client_negotiate(c, false);
    client_send(c, "{\"execute\":\"query-qmp-schema\"}");
    msg = client_message(c);
    g_assert_true(json_object_object_get_ex(msg, "return", &ret));
    for (size_t i = 0; i < json_object_array_length(ret); i++) {
        const char *name = json_object_get_string(
            json_object_object_get(json_object_array_get_idx(ret, i), "name"));

        versions += !strcmp(name, "VersionInfo");
    }
    g_assert_cmpuint(versions, ==, 1);
    g_assert_cmpstr(schema_entry_field(ret, "query-version", "ret-type"), ==,
                    "VersionInfo-qapikit-control");
    g_assert_cmpstr(
        schema_entry_field(ret, "VersionInfo-qapikit-control", "meta-type"), ==,
        "object");
    json_object_put(msg);
    client_free(c);
}

static void test_shutdown(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f);
    json_object *msg;

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, false);
    /* quit's reply comes after its event; what follows quit never runs. */
    client_send(a,
                "{\"execute\":\"quit\",\"id\":\"q\"}"
                "{\"execute\":\"record\",\"arguments\":{\"tag\":\"no\"}}");
    msg = client_message(a);
    g_assert_true(json_object_object_get_ex(msg, "event", NULL));
    json_object_put(msg);
    expect_message(a, "{\"return\":{},\"id\":\"q\"}");
    g_assert_null(client_line(a));
    msg = client_message(b);
    g_assert_true(json_object_object_get_ex(msg, "event", NULL));
    json_object_put(msg);
    g_assert_null(client_line(b));
    while (!shutdown_done) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_assert_cmpuint(f->order->len, ==, 0);
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, 0);
    client_free(a);
    client_free(b);
}

static void test_unix_listener(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qapikit-monitor-XXXXXX", &err);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    g_autofree char *file = g_build_filename(dir, "plain", NULL);
    g_autofree char *address = NULL;
    struct stat st;
    Client *c;
    QmpMonitor *other;

    (void)data;
    g_assert_no_error(err);
    g_assert_true(qmp_monitor_listen_unix(f->mon, path, 0600, &address, &err));
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(address, "unix:"));
    g_assert_cmpstr(address + 5, ==, path);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_true(S_ISSOCK(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    c = client_connect_unix(path);
    skip_greeting(c);
    client_send(c, "{\"execute\":\"qmp_capabilities\"}");
    expect_message(c, "{\"return\":{}}");
    client_free(c);

    /* A live socket is not replaced. */
    other = qmp_monitor_new(f->cmds, NULL);
    g_assert_false(qmp_monitor_listen_unix(other, path, 0600, NULL, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
    g_clear_error(&err);
    /* A file that is not a socket is an error, and left alone. */
    g_assert_true(g_file_set_contents(file, "keep", -1, NULL));
    g_assert_false(qmp_monitor_listen_unix(other, file, 0600, NULL, &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_EXISTS);
    g_clear_error(&err);
    g_assert_cmpint(stat(file, &st), ==, 0);
    g_assert_true(S_ISREG(st.st_mode));
    qmp_monitor_free(other);

    /* Freeing the monitor removes its socket; a stale one is replaced. */
    qmp_monitor_free(f->mon);
    g_assert_cmpint(lstat(path, &st), <, 0);
    {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
        g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==,
                        0);
        close(fd); /* stale: nobody listens */
    }
    f->mon = qmp_monitor_new(f->cmds, NULL);
    g_assert_true(qmp_monitor_listen_unix(f->mon, path, 0660, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0660);
    qmp_monitor_free(f->mon);
    f->mon = qmp_monitor_new(f->cmds, NULL);
    g_unlink(file);
    g_rmdir(dir);
}

static void test_tcp_listener(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *address = NULL;
    unsigned port = 0;
    Client *c = g_new0(Client, 1);

    (void)data;
    g_assert_true(qmp_monitor_listen_tcp(f->mon, NULL, 0, &address, &err));
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(address, "tcp:127.0.0.1:"));
    port = (unsigned)g_ascii_strtoull(address + strlen("tcp:127.0.0.1:"), NULL,
                                      10);
    g_assert_cmpuint(port, >, 0);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    {
        GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
        g_autoptr(GSocketAddress) sa = g_inet_socket_address_new(lo, port);
        struct sockaddr_storage ss;

        g_object_unref(lo);
        g_socket_address_to_native(sa, &ss, sizeof(ss), NULL);
        g_assert_cmpint(connect(c->fd, (struct sockaddr *)&ss,
                                g_socket_address_get_native_size(sa)),
                        ==, 0);
    }
    c->in = g_string_new(NULL);
    client_negotiate(c, true);
    client_send(c, "{\"execute\":\"echo\",\"id\":\"t\"}\r\n");
    expect_message(c, "{\"return\":{},\"id\":\"t\"}");
    client_free(c);
}

static void test_fd_listener(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qapikit-monitor-XXXXXX", &err);
    g_autofree char *path = g_build_filename(dir, "fd.sock", NULL);
    g_autofree char *address = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int plain = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    Client *c;

    (void)data;
    g_assert_no_error(err);
    /* A socket that does not listen is refused (and closed). */
    g_assert_false(qmp_monitor_listen_fd(f->mon, plain, NULL, &err));
    g_assert_nonnull(err);
    g_clear_error(&err);

    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(fd, 4), ==, 0);
    g_assert_true(qmp_monitor_listen_fd(f->mon, fd, &address, &err));
    g_assert_no_error(err);
    g_assert_true(g_str_has_prefix(address, "unix:"));
    c = client_connect_unix(path);
    client_negotiate(c, false);
    client_send(c, "{\"execute\":\"echo\",\"id\":\"fd\"}");
    expect_message(c, "{\"return\":{},\"id\":\"fd\"}");
    client_free(c);
    g_unlink(path);
    g_rmdir(dir);
}

/*
 * A burst of connections made before the main loop runs: every one is
 * queued by the kernel (the listen backlog is the system's maximum, not
 * GLib's default of 10) and then served.
 */
static void test_listen_burst(Fixture *f, gconstpointer data)
{
    enum {
        N = 64
    };
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("qapikit-monitor-XXXXXX", &err);
    g_autofree char *path = g_build_filename(dir, "qmp.sock", NULL);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    Client *clients[N];

    (void)data;
    g_assert_no_error(err);
    g_assert_true(qmp_monitor_listen_unix(f->mon, path, 0600, NULL, &err));
    g_assert_no_error(err);
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    for (int i = 0; i < N; i++) {
        Client *c = g_new0(Client, 1);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        g_assert_cmpint(c->fd, >=, 0);
        /* EAGAIN here: the backlog is full. */
        if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
            g_error("connection %d of %d refused: %s", i + 1, N,
                    g_strerror(errno));
        }
        c->in = g_string_new(NULL);
        clients[i] = c;
    }
    for (int i = 0; i < N; i++) {
        client_negotiate(clients[i], false);
    }
    g_assert_cmpuint(qmp_monitor_session_count(f->mon), ==, N);
    for (int i = 0; i < N; i++) {
        client_send(clients[i], "{\"execute\":\"echo\"}");
    }
    for (int i = 0; i < N; i++) {
        expect_message(clients[i], "{\"return\":{}}");
        client_free(clients[i]);
    }
    qmp_monitor_free(f->mon);
    f->mon = NULL;
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/*
 * A session on streams that poll but have no file descriptor (memory
 * streams): served through their own pollable sources.
 */
static void test_stream_without_fd(Fixture *f, gconstpointer data)
{
    static const char input[] =
        "{\"execute\":\"qmp_capabilities\"}\r\n"
        "{\"execute\":\"echo\",\"arguments\":{\"n\":1},\"id\":1}"
        "{\"execute\":\"fail\",\"id\":2}";
    g_autoptr(GInputStream) in =
        g_memory_input_stream_new_from_data(input, sizeof(input) - 1, NULL);
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    g_autoptr(GIOStream) stream = g_simple_io_stream_new(in, out);
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *text = NULL;
    gint64 give_up = g_get_monotonic_time() + GIVE_UP_US;

    (void)data;
    g_assert_true(qmp_monitor_add_stream(f->mon, stream, &err));
    g_assert_no_error(err);
    /* End of input ends the session once its replies are written. */
    while (qmp_monitor_session_count(f->mon)) {
        g_assert_cmpint(g_get_monotonic_time(), <, give_up);
        g_main_context_iteration(NULL, TRUE);
    }
    text = g_strndup(
        g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)),
        g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out)));
    lines = g_strsplit(text, "\r\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 5);
    g_assert_true(g_str_has_prefix(lines[0], "{\"QMP\":"));
    g_assert_cmpstr(lines[1], ==, "{\"return\":{}}");
    g_assert_cmpstr(lines[2], ==, "{\"return\":{\"n\":1},\"id\":1}");
    g_assert_true(g_str_has_prefix(lines[3], "{\"error\":"));
    g_assert_nonnull(strstr(lines[3], "\"id\":2"));
    g_assert_cmpstr(lines[4], ==, "");
}

/*
 * A command that iterates the main context (a nested loop) runs to its
 * end before any other command starts, though the monitor keeps reading
 * meanwhile.
 */
static void test_nested_loop(Fixture *f, gconstpointer data)
{
    Client *a = client_new(f), *b = client_new(f);

    (void)data;
    client_negotiate(a, false);
    client_negotiate(b, false);
    client_send(a,
                "{\"execute\":\"nest\"}{\"execute\":\"record\","
                "\"arguments\":{\"tag\":\"a\"}}");
    client_send(b, "{\"execute\":\"record\",\"arguments\":{\"tag\":\"b\"}}");
    expect_message(a, "{\"return\":{}}");
    expect_message(a, "{\"return\":{}}");
    expect_message(b, "{\"return\":{}}");
    g_assert_cmpuint(f->order->len, ==, 4);
    g_assert_cmpstr(f->order->pdata[0], ==, "nest-in");
    g_assert_cmpstr(f->order->pdata[1], ==, "nest-out");

    /* A session paused by its queue inside the nested loop. */
    g_ptr_array_set_size(f->order, 0);
    nest_feed = b;
    client_send(a, "{\"execute\":\"nest\"}");
    expect_message(a, "{\"return\":{}}");
    nest_feed = NULL;
    for (int i = 0; i <= 10; i++) {
        expect_message(b, "{\"return\":{}}");
    }
    g_assert_cmpuint(f->order->len, ==, 13);
    g_assert_cmpstr(f->order->pdata[0], ==, "nest-in");
    g_assert_cmpstr(f->order->pdata[1], ==, "nest-out");
    for (guint i = 2; i < 13; i++) {
        g_autofree char *want = g_strdup_printf("f%u", i - 2);

        g_assert_cmpstr(f->order->pdata[i], ==, want);
    }
    client_free(a);
    client_free(b);
}

/* The id the context gives the next source attached to it. */
static guint next_source_id(void)
{
    GSource *probe = g_idle_source_new();
    guint id = g_source_attach(probe, NULL);

    g_source_destroy(probe);
    g_source_unref(probe);
    return id + 1;
}

/*
 * Serving requests creates no GSource: the monitor's own source, attached
 * for its life, polls and runs everything (sequential requests, a
 * pipelined batch that pauses and resumes reading, replies).  GLib
 * numbers sources in order, so the id of the next source attached tells.
 */
static void test_long_lived_sources(Fixture *f, gconstpointer data)
{
    Client *c = client_new(f);
    g_autoptr(GString) batch = g_string_new(NULL);
    guint before;

    (void)data;
    client_negotiate(c, false);
    before = next_source_id();
    for (int i = 0; i < 50; i++) {
        client_send(c, "{\"execute\":\"query-version\"}");
        g_free(client_message_text(c));
    }
    for (int i = 0; i < 40; i++) {
        g_string_append(batch, "{\"execute\":\"echo\"}");
    }
    client_send_len(c, batch->str, batch->len);
    for (int i = 0; i < 40; i++) {
        expect_message(c, "{\"return\":{}}");
    }
    /* One id: the probe's own (next_source_id() used BEFORE). */
    g_assert_cmpuint(next_source_id(), ==, before + 1);
    client_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                          \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/monitor/greeting", test_greeting);
    ADD("/monitor/negotiation", test_negotiation);
    ADD("/monitor/negotiation-variants", test_negotiation_variants);
    ADD("/monitor/id-echo", test_id_echo);
    ADD("/monitor/output-ascii", test_output_ascii);
    ADD("/monitor/pipelining", test_pipelining);
    ADD("/monitor/splits", test_splits);
    ADD("/monitor/bad-input", test_bad_input);
    ADD("/monitor/request-limit", test_request_limit);
    ADD("/monitor/memory-limits", test_memory_limits);
    ADD("/monitor/oob", test_oob);
    ADD("/monitor/round-robin", test_round_robin);
    ADD("/monitor/events", test_events);
    ADD("/monitor/events-every-monitor", test_events_every_monitor);
    ADD("/monitor/end-of-input", test_end_of_input);
    ADD("/monitor/disconnect", test_disconnect);
    ADD("/monitor/close-during-command", test_close_during_command);
    ADD("/monitor/shutdown-timeout", test_shutdown_timeout);
    ADD("/monitor/backlog-pause", test_backlog_pause);
    ADD("/monitor/backlog-drop", test_backlog_drop);
    ADD("/monitor/backlog-hold", test_backlog_hold);
    ADD("/monitor/builtins", test_builtins);
    ADD("/monitor/builtins-schema-clash", test_builtins_schema_clash);
    ADD("/monitor/shutdown", test_shutdown);
    ADD("/monitor/unix-listener", test_unix_listener);
    ADD("/monitor/tcp-listener", test_tcp_listener);
    ADD("/monitor/fd-listener", test_fd_listener);
    ADD("/monitor/listen-burst", test_listen_burst);
    ADD("/monitor/stream-without-fd", test_stream_without_fd);
    ADD("/monitor/nested-loop", test_nested_loop);
    ADD("/monitor/long-lived-sources", test_long_lived_sources);
#undef ADD
    return g_test_run();
}
