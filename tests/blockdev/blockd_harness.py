# SPDX-License-Identifier: MIT
"""A small harness for the block tests over QMP: the real qapikit-blockd
on a real unix socket, with images in a scratch directory.

The daemon binary comes from the environment variable QAPIKIT_BLOCKD
(meson sets it).  Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Optional, Sequence

# The wire schema check shared with the functional tests.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "functional"))
from wire_check import SessionState, wire_check  # noqa: E402

# A guard against hangs only: no test asserts anything about time.
TIMEOUT = float(os.environ.get("QAPIKIT_TEST_TIMEOUT", "60"))

ADDRESS_LINE = re.compile(r"^qapikit-blockd: QMP on unix:(\S+)$")
NBD_LINE = re.compile(r"^qapikit-blockd: NBD on (\S+)$")

DISK_SIZE = 1 << 20


class QmpError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('class')}: {error.get('desc')}")
        self.error_class: str = error.get("class", "")
        self.desc: str = error.get("desc", "")


class QmpClient:
    """One negotiated QMP session on a unix socket."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.session = SessionState()
        greeting = self._read_message()
        if "QMP" not in greeting:
            raise AssertionError(f"no greeting: {greeting}")
        self.execute("qmp_capabilities")

    def close(self) -> None:
        self.sock.close()

    def _read_message(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the daemon closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        check = wire_check()
        if check is not None and "event" in message:
            check.check_event(message)
        return message

    def request(self, command: str, **arguments: Any) -> dict[str, Any]:
        """Send COMMAND and return the reply, keeping events aside."""
        request: dict[str, Any] = {"execute": command}
        if arguments:
            request["arguments"] = arguments
        self.sock.sendall(json.dumps(request).encode() + b"\r\n")
        while True:
            message = self._read_message()
            if "event" in message:
                self.events.append(message)
                continue
            check = wire_check()
            if check is not None:
                check.check(request, message, self.session)
            self.session.update(request, message)
            return message

    def execute(self, command: str, **arguments: Any) -> Any:
        reply = self.request(command, **arguments)
        if "error" in reply:
            raise QmpError(reply["error"])
        return reply["return"]

    def wait_event(self, name: str) -> dict[str, Any]:
        while True:
            for event in self.events:
                if event["event"] == name:
                    self.events.remove(event)
                    return event
            message = self._read_message()
            if "event" in message:
                self.events.append(message)


class Daemon:
    """qapikit-blockd with some drives, on a socket in WORKDIR."""

    def __init__(self, binary: str, workdir: str,
                 drives: Sequence[tuple[str, str, Optional[str]]],
                 state: Optional[str] = None, name: str = "qmp",
                 extra_args: Sequence[str] = ()) -> None:
        """EXTRA_ARGS go after the drives; with --nbd or --nbd-server among
        them, the daemon's NBD line is read too: its address ("unix:PATH"
        or "tcp:IP:PORT") is in nbd_address."""
        self.socket_path = os.path.join(workdir, f"{name}.sock")
        args = [binary, "--qmp", f"unix:{self.socket_path}"]
        for device, path, fmt in drives:
            spec = f"id={device},file={path}"
            if fmt:
                spec += f",format={fmt}"
            args += ["--drive", spec]
        if state:
            args += ["--state", state]
        args += list(extra_args)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = ADDRESS_LINE.match(line.strip())
        if not match:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=TIMEOUT)
            raise AssertionError(f"daemon did not start: {line!r} {err!r}")
        self.nbd_address: Optional[str] = None
        if any(arg.startswith(("--nbd", "--nbd-server")) for arg in extra_args):
            line = self.proc.stdout.readline()
            nbd = NBD_LINE.match(line.strip())
            if not nbd:
                self.proc.kill()
                _, err = self.proc.communicate(timeout=TIMEOUT)
                raise AssertionError(
                    f"no NBD address from the daemon: {line!r} {err!r}")
            self.nbd_address = nbd.group(1)
        self.clients: list[QmpClient] = []

    def client(self) -> QmpClient:
        client = QmpClient(self.socket_path)
        self.clients.append(client)
        return client

    def stop(self) -> int:
        for client in self.clients:
            client.close()
        self.clients.clear()
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
        return self.proc.returncode


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def dir_digest(path: str) -> dict[str, str]:
    """Every regular file of PATH with its sha256."""
    return {name: sha256(os.path.join(path, name))
            for name in sorted(os.listdir(path))
            if os.path.isfile(os.path.join(path, name))
            and not name.endswith(".sock")}


def have_qemu_img() -> bool:
    return shutil.which("qemu-img") is not None


def qemu_img(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qemu-img", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


class BlockdTestCase(unittest.TestCase):
    """A scratch directory with raw disks, and the daemon over them."""

    def setUp(self) -> None:
        binary = os.environ.get("QAPIKIT_BLOCKD")
        if not binary:
            self.skipTest("QAPIKIT_BLOCKD is not set")
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="blockd-test-")
        self.daemons: list[Daemon] = []
        self.started = 0

    def tearDown(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.workdir, name)

    def make_raw(self, name: str, fill: int) -> str:
        path = self.path(name)
        with open(path, "wb") as f:
            f.write(bytes([fill]) * DISK_SIZE)
        return path

    def make_disks(self, count: int) -> list[tuple[str, str, Optional[str]]]:
        return [(f"disk{i}", self.make_raw(f"disk{i}.raw", 0x41 + i % 26),
                 "raw") for i in range(count)]

    def start(self, drives: Sequence[tuple[str, str, Optional[str]]],
              state: Optional[str] = None,
              extra_args: Sequence[str] = ()) -> Daemon:
        self.started += 1
        daemon = Daemon(self.binary, self.workdir, drives, state,
                        name=f"qmp{self.started}", extra_args=extra_args)
        self.daemons.append(daemon)
        return daemon

    def tops(self, client: QmpClient) -> dict[str, tuple[str, int]]:
        return {info["device"]: (info["inserted"]["file"],
                                 info["inserted"]["backing_file_depth"])
                for info in client.execute("query-block")}


# meson's exit status for a test that skipped everything.
SKIP_EXIT_STATUS = 77


def main() -> None:
    """Run the test cases of __main__: exit 0, 1, or 77 if all skipped."""
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun and len(result.skipped) == result.testsRun:
        sys.exit(SKIP_EXIT_STATUS)
    sys.exit(0)
