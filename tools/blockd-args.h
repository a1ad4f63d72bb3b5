/* SPDX-License-Identifier: MIT */
/*
 * qapikit-blockd's command-line helpers, shared by the daemon's options
 * (qapikit-blockd.c) and its NBD options (blockd-nbd.c).
 */
#ifndef QAPIKIT_BLOCKD_ARGS_H
#define QAPIKIT_BLOCKD_ARGS_H

#include <stdbool.h>

#include <glib.h>

/*
 * Split TEXT at single commas into key=value pairs (",," is a literal
 * comma, as in QEMU), calling FN for each.  Returns false with *ERRP
 * set when a pair has no '=' or FN fails.
 */
bool blockd_parse_key_values(const char *text,
                             bool (*fn)(const char *key, const char *value,
                                        void *opaque, GError **errp),
                             void *opaque, GError **errp);

/* VALUE "on" or "off" of KEY as *OUT. */
bool blockd_parse_on_off(const char *key, const char *value, bool *out,
                         GError **errp);

/*
 * TEXT "HOST:PORT" ("[IPV6]:PORT" too) as a new *HOST and *PORT; errors
 * name WHAT (the option and its text).
 */
bool blockd_parse_host_port(const char *text, const char *what, char **host,
                            guint16 *port, GError **errp);

/* TEXT a decimal number from 0 to MAX. */
bool blockd_parse_number(const char *key, const char *text, guint64 max,
                         guint64 *value, GError **errp);

#endif /* QAPIKIT_BLOCKD_ARGS_H */
