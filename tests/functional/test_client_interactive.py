#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The interactive mode of tools/qapikit-qmp, on a pseudo-terminal,
against the real daemon: commands typed at the prompt, the history (up
arrow, and kept across sessions), tab completion of command names,
argument names and enum values from query-qmp-schema, events, --raw."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

import qmp_harness
from test_client import ClientTestBase

PROMPT = "qmp> "
UP = "\x1b[A"
TAB = "\t"
ENTER = "\r"
CTRL_D = "\x04"

VERSION_REPLY = r'"package": "qapikit-blockd 0\.1\.0"\r\n\}\r\n'


class Terminal:
    """qapikit-qmp on a pseudo-terminal (its stdin, stdout and stderr)
    of 24 x 100 characters: keys are typed on the master side, and what
    it writes is read from there."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        try:
            self.process = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                cwd=cwd, start_new_session=True)
        except BaseException:
            os.close(master)
            raise
        finally:
            os.close(slave)
        self.master = master
        self.output = ""    # everything it wrote
        self.consumed = 0   # how much of it expect() has matched past

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def _read(self, timeout: float) -> bool:
        """Read what is there; False at the terminal's end."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: no process has the terminal open any more
            data = b""
        if not data:
            return False
        self.output += data.decode("utf-8", "replace")
        return True

    def expect(self, pattern: str) -> re.Match[str]:
        """Waits for PATTERN (a regex) in the output after the last match;
        the match."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + qmp_harness.TIMEOUT
        while True:
            match = regex.search(self.output, self.consumed)
            if match:
                self.consumed = match.end()
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._read(min(remaining, 1.0)):
                match = regex.search(self.output, self.consumed)
                if match:
                    self.consumed = match.end()
                    return match
                raise AssertionError(
                    f"no {pattern!r} in the terminal; after the last match it "
                    f"shows {self.output[self.consumed:]!r}")

    def editing(self) -> bool:
        """Whether the terminal is in the line editor's mode: keys go to
        the program one by one, and the terminal does not echo them.
        (Linux: the terminal modes read on the master side are those of
        the pseudo-terminal.)"""
        lflag = termios.tcgetattr(self.master)[3]
        return not lflag & (termios.ICANON | termios.ECHO)

    def wait(self) -> int:
        """The exit status, once the output is read to its end."""
        deadline = time.monotonic() + qmp_harness.TIMEOUT
        while self._read(0.2) and time.monotonic() < deadline:
            pass
        return self.process.wait(qmp_harness.TIMEOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


class InteractiveTest(ClientTestBase):
    def setUp(self) -> None:
        super().setUp()
        self.daemon = qmp_harness.start_daemon(self)
        # The history goes to $XDG_STATE_HOME; no ~/.editrc applies.
        self.state_dir = os.path.join(self.workdir, "state")
        self.env = dict(os.environ, TERM="xterm", LC_ALL="C.UTF-8",
                        HOME=self.workdir, XDG_STATE_HOME=self.state_dir)
        self.env.pop("EDITRC", None)

    def tearDown(self) -> None:
        if self.daemon.process is not None and self.daemon.process.poll() is None:
            self.daemon.check_alive()
            self.assertEqual(self.daemon.stop(), 0)

    def terminal(self, *options: str) -> Terminal:
        terminal = Terminal([self.client, "-s", self.daemon.socket_path, *options],
                            self.env, self.workdir)
        self.addCleanup(terminal.close)
        terminal.expect(re.escape(PROMPT))
        return terminal

    def run_line(self, terminal: Terminal, keys: str, reply: str) -> None:
        """Types KEYS, then waits for REPLY (a regex) and the next prompt."""
        terminal.type(keys)
        terminal.expect(reply)
        terminal.expect(re.escape(PROMPT))

    def history_file(self) -> str:
        return os.path.join(self.state_dir, "qapikit-qmp", "history")

    def test_command_history_completion(self) -> None:
        terminal = self.terminal()
        # A command, typed, and its pretty-printed reply.
        self.run_line(terminal, "query-version" + ENTER, VERSION_REPLY)
        # Up arrow: the same line again.
        self.run_line(terminal, UP + ENTER, VERSION_REPLY)
        # A prefix shared by several commands lists them; one more letter
        # and Tab completes the name.
        # (The listing's columns follow the terminal's width.)
        terminal.type("query-" + TAB)
        listing = terminal.expect(r"((?:query-[a-z-]+\s+)+)[^\n]*?" +
                                  re.escape(PROMPT))
        names = set(listing.group(1).split())
        self.assertLessEqual({"query-block", "query-commands",
                              "query-qmp-schema", "query-version"}, names)
        self.run_line(terminal, "vers" + TAB + ENTER, VERSION_REPLY)
        # Command name, argument names and an enum value, each from a
        # prefix: the device error proves that every argument arrived
        # well-formed (a bad 'mode' or a missing 'snapshot-file' would
        # be refused before the device is looked up).
        snapshot = os.path.join(self.workdir, "s1.qcow2")
        self.run_line(terminal,
                      "blockdev-snapshot-s" + TAB + "dev" + TAB + "nodisk "
                      "snapshot-f" + TAB + snapshot + " mode=abs" + TAB + ENTER,
                      r"DeviceNotFound: device 'nodisk' not found\r\n")
        # Arguments given already are not offered again: with
        # snapshot-file given, "snapshot-" can only be snapshot-node-name
        # (else Tab would list both and the line would have a word
        # "snapshot-n", a usage error).
        self.run_line(terminal,
                      "blockdev-snapshot-sync device=x snapshot-file=y "
                      "snapshot-" + TAB + "n" + ENTER,
                      r"DeviceNotFound: device 'x' not found\r\n")
        # Ctrl-D at an empty prompt ends the session.
        terminal.type(CTRL_D)
        self.assertEqual(terminal.wait(), 0, terminal.output)

        with open(self.history_file(), encoding="utf-8") as f:
            history = f.read()
        self.assertIn("query-version", history)
        self.assertIn("mode=absolute-paths", history)
        self.assertFalse(os.path.exists(snapshot))

        # The next session starts with that history.
        terminal = self.terminal()
        self.run_line(terminal, UP + UP + ENTER,
                      r"DeviceNotFound: device 'nodisk' not found\r\n")
        terminal.type(CTRL_D)
        self.assertEqual(terminal.wait(), 0, terminal.output)

    def test_keys_right_after_the_prompt(self) -> None:
        # Keys may come as soon as the prompt shows, and then the
        # terminal must already be in the editor's mode: keys that the
        # terminal took in its line mode were echoed twice, and a Ctrl-D
        # there became a NUL byte, so the session went on.  Each Enter
        # (an empty line: a new prompt) is typed the moment the prompt
        # is read, and so is the Ctrl-D that ends the session.
        terminal = self.terminal()
        for _ in range(50):
            self.assertTrue(terminal.editing(), terminal.output)
            self.run_line(terminal, ENTER, r"\r\n")
        self.assertTrue(terminal.editing(), terminal.output)
        terminal.type(CTRL_D)
        self.assertEqual(terminal.wait(), 0, terminal.output)
        # The terminal echoed nothing: every line is a prompt, alone.
        lines = terminal.output.split("\r\n")
        self.assertEqual(lines[-52:], [PROMPT] * 50 + [PROMPT + "^D", ""],
                         terminal.output)

    def test_server_ends_at_the_prompt(self) -> None:
        # The connection is watched while a line is edited: a server that
        # goes away ends the session then, without a key pressed.  The
        # SHUTDOWN event that came first is printed, the line typed so
        # far dropped.
        terminal = self.terminal()
        terminal.type("query-")
        terminal.expect(re.escape("query-"))
        self.assertEqual(self.daemon.stop(), 0)
        terminal.expect(r'\r\n\{"event":"SHUTDOWN","data":\{"guest":false,'
                        r'"reason":"host-signal"\}')
        terminal.expect(r"the server closed the connection")
        self.assertEqual(terminal.wait(), 0, terminal.output)

    def until_editing(self, terminal: Terminal) -> None:
        """Waits until the terminal is in the editor's mode."""
        deadline = time.monotonic() + qmp_harness.TIMEOUT
        while not terminal.editing():
            if time.monotonic() > deadline:
                self.fail(f"the terminal is not in the editor's mode; it "
                          f"shows {terminal.output!r}")
            time.sleep(0.01)

    def test_signals_at_the_prompt(self) -> None:
        terminal = self.terminal()
        pid = terminal.process.pid
        # Window changes, more than one in a line, and the line goes on.
        terminal.type("query-")
        terminal.expect(re.escape("query-"))
        for _ in range(3):
            os.kill(pid, signal.SIGWINCH)
        # Stopped and continued (SIGSTOP: the client leads a session of
        # its own, an orphaned process group, which SIGTSTP does not
        # stop), with the terminal put back in its line mode meanwhile, as
        # a shell does: continued, the client sets its mode again.
        os.kill(pid, signal.SIGSTOP)
        attributes = termios.tcgetattr(terminal.master)
        attributes[3] |= termios.ICANON | termios.ECHO
        termios.tcsetattr(terminal.master, termios.TCSANOW, attributes)
        os.kill(pid, signal.SIGCONT)
        self.until_editing(terminal)
        # SIGTSTP: the terminal in its line mode, then the signal's own
        # action (none here: no stop outside the foreground), then the
        # editor's mode again; keys typed meanwhile are kept.
        os.kill(pid, signal.SIGTSTP)
        self.run_line(terminal, "version" + ENTER, VERSION_REPLY)
        self.assertTrue(terminal.editing(), terminal.output)
        # SIGTERM at the prompt ends the client, the terminal back in
        # its line mode.
        os.kill(pid, signal.SIGTERM)
        self.assertEqual(terminal.wait(), -signal.SIGTERM, terminal.output)
        self.assertFalse(terminal.editing())

    def test_line_syntax_raw_events_quit(self) -> None:
        terminal = self.terminal("--raw")
        # --raw: one compact line.
        self.run_line(terminal, "query-block" + ENTER, r"\r\n\[\]\r\n")
        # A JSON value with spaces needs no quotes; quotes and
        # backslashes work as in the shell.
        self.run_line(terminal,
                      'blockdev-group-snapshot-sync devlist=[{"device": '
                      '"no disk", "snapshot-file": "/x"}]' + ENTER,
                      r"DeviceNotFound: device 'no disk' not found\r\n")
        self.run_line(terminal,
                      "blockdev-snapshot-sync 'device=a b' "
                      "snapshot-file=\"/x\" format=q\\ cow" + ENTER,
                      r"DeviceNotFound: device 'a b' not found\r\n")
        self.run_line(terminal,
                      'transaction {"actions": []}' + ENTER, r"\r\n\{\}\r\n")
        # Errors in a line end that line only.
        self.run_line(terminal, "query-version 'open" + ENTER,
                      r"qapikit-qmp: the line ends inside a quote or a JSON "
                      r"value\r\n")
        self.run_line(terminal, "query-version novalue" + ENTER,
                      r"qapikit-qmp: argument 'novalue' is not KEY=VALUE")
        self.run_line(terminal, "no-such-command" + ENTER,
                      r"CommandNotFound: ")
        # quit: the event, the reply, then the server's end ends the
        # session (status 0).
        terminal.type("quit" + ENTER)
        terminal.expect(r'\{"event":"SHUTDOWN","data":\{"guest":false,'
                        r'"reason":"host-qmp-quit"\}')
        terminal.expect(r"\r\n\{\}\r\n")
        terminal.expect(r"the server closed the connection")
        self.assertEqual(terminal.wait(), 0, terminal.output)
        self.assertEqual(self.daemon.wait(), 0)

    def test_not_a_terminal(self) -> None:
        # Without a terminal and without COMMAND: a usage error, as always.
        result = subprocess.run([self.client, "-s", self.daemon.socket_path],
                                stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=qmp_harness.TIMEOUT,
                                env=self.env)
        self.assertEqual(result.returncode, 2)
        self.assertIn("no COMMAND given", result.stderr)
        self.assertFalse(os.path.exists(self.history_file()))


if __name__ == "__main__":
    qmp_harness.main(requires=("QAPIKIT_BLOCKD", "QAPIKIT_QMP"))
