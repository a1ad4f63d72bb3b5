/* SPDX-License-Identifier: MIT */
/*
 * The interactive mode of qapikit-qmp (docs/qapikit-qmp.md, "Interactive
 * mode"): a prompt on the terminal with line editing and history
 * (libedit), and completion of command names, argument names and enum
 * values from the server's query-qmp-schema.
 */
#ifndef QAPIKIT_TOOLS_QMP_SHELL_H
#define QAPIKIT_TOOLS_QMP_SHELL_H

#include <stdbool.h>

#include "qmp-client.h"

/*
 * Runs the interactive mode on @client (open and negotiated, borrowed)
 * with stdin as the terminal, until the input ends (Ctrl-D) or the
 * server closes the connection between two commands, a line being typed
 * or not (STATUS_OK), or the connection breaks (STATUS_USAGE, a message on
 * stderr).  A line is a command as on the command line; its reply is
 * printed as qmp_print_reply(@compact) prints it, events as they are read
 * while a command runs, and before the next prompt those read while a
 * line was typed.  Signals while a line is typed: as libedit's EL_SIGNAL
 * handles them (the terminal restored before the signal's own action).
 * @address names the server in messages.  History is kept in
 * $XDG_STATE_HOME/qapikit-qmp/history.
 */
int qmp_shell_run(QmpClient *client, const char *address, bool compact);

#endif /* QAPIKIT_TOOLS_QMP_SHELL_H */
