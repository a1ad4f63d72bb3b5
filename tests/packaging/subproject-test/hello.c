/* SPDX-License-Identifier: MIT */
/*
 * The parent project's program: the handler of its one command, and a
 * main() that dispatches a request through libqapikit and checks the
 * response.  Exit status 0 when it matches.
 */
#include <stdio.h>
#include <string.h>

#include <qapikit/dispatch.h>

#include "qapi-commands.h"
#include "qapi-init-commands.h"

Greeting *qmp_hello(const char *name, GError **errp)
{
    static int64_t count;
    Greeting *greeting = g_new0(Greeting, 1);

    (void)errp;
    greeting->text = g_strdup_printf("Hello, %s!", name ? name : "world");
    greeting->count = ++count;
    return greeting;
}

int main(void)
{
    static const char expected[] =
        "{\"return\":{\"text\":\"Hello, parent!\",\"count\":1}}";
    g_autoptr(QmpCommandList) cmds = qmp_command_list_new();
    json_object *request = json_tokener_parse(
        "{\"execute\": \"hello\", \"arguments\": {\"name\": \"parent\"}}");
    json_object *response;
    const char *text;
    int status;

    qmp_init_marshal(cmds);
    response = qmp_dispatch(cmds, request, false);
    text = json_object_to_json_string_ext(response, JSON_C_TO_STRING_PLAIN);
    status = strcmp(text, expected) == 0 ? 0 : 1;
    printf("%s\n%s\n", text, status ? "FAILED" : "ok");
    json_object_put(response);
    json_object_put(request);
    return status;
}
