/* SPDX-License-Identifier: MIT */
#include "blockd-socket.h"

#include <glib.h>

char *blockd_default_socket_path(void)
{
    const char *runtime = g_getenv("XDG_RUNTIME_DIR");

    /* A relative XDG_RUNTIME_DIR is invalid (XDG Base Directory spec). */
    if (runtime && *runtime && g_path_is_absolute(runtime)) {
        return g_build_filename(runtime, BLOCKD_SOCKET_NAME, NULL);
    }
    return g_strdup(BLOCKD_SOCKET_NAME);
}
