/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd's command-line helpers (blockd-args.h).
 */
#include <string.h>

#include <qapikit/error.h>

#include "blockd-args.h"

bool blockd_parse_key_values(const char *text,
                             bool (*fn)(const char *key, const char *value,
                                        void *opaque, GError **errp),
                             void *opaque, GError **errp)
{
    g_autoptr(GString) pair = g_string_new(NULL);
    const char *p = text;

    for (;;) {
        if (*p == ',' && p[1] == ',') {
            g_string_append_c(pair, ',');
            p += 2;
            continue;
        }
        if (*p && *p != ',') {
            g_string_append_c(pair, *p++);
            continue;
        }
        if (pair->len) {
            char *eq = strchr(pair->str, '=');

            if (!eq) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "'%s' is not KEY=VALUE", pair->str);
                return false;
            }
            *eq = 0;
            if (!fn(pair->str, eq + 1, opaque, errp)) {
                return false;
            }
        }
        g_string_truncate(pair, 0);
        if (!*p) {
            return true;
        }
        p++;
    }
}

bool blockd_parse_on_off(const char *key, const char *value, bool *out,
                         GError **errp)
{
    if (!strcmp(value, "on")) {
        *out = true;
    } else if (!strcmp(value, "off")) {
        *out = false;
    } else {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' takes 'on' or 'off', not '%s'", key, value);
        return false;
    }
    return true;
}

bool blockd_parse_number(const char *key, const char *text, guint64 max,
                         guint64 *value, GError **errp)
{
    if (!g_ascii_string_to_unsigned(text, 10, 0, max, value, NULL)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' takes a number from 0 to %" G_GUINT64_FORMAT
                    ", not '%s'",
                    key, max, text);
        return false;
    }
    return true;
}

bool blockd_parse_host_port(const char *text, const char *what, char **host,
                            guint16 *port, GError **errp)
{
    const char *colon = strrchr(text, ':');
    guint64 n;

    if (!colon) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: expected tcp:HOST:PORT", what);
        return false;
    }
    if (!g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &n, NULL)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: '%s' is not a port number", what, colon + 1);
        return false;
    }
    *port = (guint16)n;
    /* [::1] for IPv6 addresses. */
    if (colon - text >= 2 && text[0] == '[' && colon[-1] == ']') {
        *host = g_strndup(text + 1, (gsize)(colon - text - 2));
    } else {
        *host = g_strndup(text, (gsize)(colon - text));
    }
    return true;
}
