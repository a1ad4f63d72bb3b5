/* SPDX-License-Identifier: MIT */
/*
 * The default QMP socket of qapikit-blockd: where the daemon listens
 * without --qmp, and where qapikit-qmp connects without -s
 * (docs/qapikit-blockd.md, "Options"; docs/qapikit-qmp.md).
 */
#ifndef QAPIKIT_TOOLS_BLOCKD_SOCKET_H
#define QAPIKIT_TOOLS_BLOCKD_SOCKET_H

/* The socket's file name in its directory. */
#define BLOCKD_SOCKET_NAME "qapikit-blockd.sock"

/*
 * The default socket's path: $XDG_RUNTIME_DIR/qapikit-blockd.sock when
 * XDG_RUNTIME_DIR is set to an absolute path, else "qapikit-blockd.sock"
 * (relative: in the current directory).  The path is a file name (bytes),
 * without a "unix:" prefix.  Never fails; the caller frees it with
 * g_free().
 */
char *blockd_default_socket_path(void);

#endif /* QAPIKIT_TOOLS_BLOCKD_SOCKET_H */
