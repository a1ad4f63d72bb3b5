# SPDX-License-Identifier: MIT
"""Shared harness of the functional tests: the real daemon on real sockets.

The tests are black-box: they start the qapikit-blockd binary named by the
environment variable QAPIKIT_BLOCKD (meson passes it), talk to it over
unix or TCP sockets with a raw client that checks every byte the server
writes against docs/spec/qmp-protocol.md §1 (one JSON object per message, CR LF
after it, 7-bit ASCII, valid JSON), and stop it at the end, checking its
exit status and that no process is left behind.

A test module defines DaemonTestCase subclasses and ends with
`qmp_harness.main()`, which exits 77 (meson's "skipped") when the daemon
binary is not given or every test was skipped.

Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from typing import Any, Iterable, Optional, Sequence

from wire_check import SessionState, wire_check

# Ids nest up to 1024 levels; Python's decoder recurses once per level.
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

# A guard against hangs only: no test asserts anything about time.
TIMEOUT = float(os.environ.get("QAPIKIT_TEST_TIMEOUT", "60"))

SKIP_EXIT_STATUS = 77

ADDRESS_LINE = re.compile(r"^qapikit-blockd: QMP on (\S+)$")


# assert_error(): the reply must carry no id.
NO_ID = object()


class ProtocolViolation(AssertionError):
    """The server wrote something docs/spec/qmp-protocol.md does not allow."""


class JsonInt(int):
    """An integer from the server, with its source text (§5/3)."""

    text: str

    def __new__(cls, text: str) -> "JsonInt":
        value = super().__new__(cls, int(text))
        value.text = text
        return value


class JsonFloat(float):
    """A number with a fraction or exponent, with its source text."""

    text: str

    def __new__(cls, text: str) -> "JsonFloat":
        value = super().__new__(cls, float(text))
        value.text = text
        return value


def _refuse_constant(name: str) -> Any:
    raise ProtocolViolation(f"server wrote the non-JSON constant {name}")


def _object_no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ProtocolViolation(f"server repeated the key {key!r}")
        result[key] = value
    return result


def parse_server_message(line: bytes) -> dict[str, Any]:
    """One server message (without its CR LF), checked against §1/6-7.

    Numbers keep their source text (JsonInt, JsonFloat); NaN, Infinity,
    duplicate keys, non-ASCII bytes, CR or LF inside, or a value that is not
    an object raise ProtocolViolation.
    """
    if b"\r" in line or b"\n" in line:
        raise ProtocolViolation(f"CR or LF inside a message: {line[:200]!r}")
    if any(byte >= 0x80 for byte in line):
        raise ProtocolViolation(f"non-ASCII byte in a message: {line[:200]!r}")
    try:
        message = json.loads(
            line.decode("ascii"),
            parse_int=JsonInt,
            parse_float=JsonFloat,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_no_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise ProtocolViolation(f"invalid JSON ({exc}): {line[:200]!r}") from exc
    if not isinstance(message, dict):
        raise ProtocolViolation(f"a message that is not an object: {line[:200]!r}")
    return message


def is_event(message: dict[str, Any]) -> bool:
    return "event" in message


def is_reply(message: dict[str, Any]) -> bool:
    return "return" in message or "error" in message


def check_error_shape(reply: dict[str, Any]) -> None:
    """An error reply: {"error": {"class": str, "desc": str}[, "id": ...]}."""
    if set(reply) - {"error", "id"}:
        raise ProtocolViolation(f"unexpected members in an error reply: {reply}")
    error = reply["error"]
    if not isinstance(error, dict) or set(error) != {"class", "desc"}:
        raise ProtocolViolation(f"bad error object: {reply}")
    if not isinstance(error["class"], str) or not isinstance(error["desc"], str):
        raise ProtocolViolation(f"bad error object: {reply}")
    if not error["desc"]:
        raise ProtocolViolation(f"empty desc: {reply}")


class RawClient:
    """A QMP client on a raw socket, reading CR LF separated messages."""

    def __init__(self, sock: socket.socket, timeout: float = TIMEOUT) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buffer = b""
        self.eof = False
        self.events: list[dict[str, Any]] = []
        self.greeting: Optional[dict[str, Any]] = None
        self._next_id = 0
        # Requests sent with an id, by id, until their reply comes: each
        # pair goes to the wire schema check (wire_check.py).
        self.session = SessionState()
        self._unanswered: dict[str, Optional[dict[str, Any]]] = {}

    # -- connecting --

    @classmethod
    def connect(cls, address: str, timeout: float = TIMEOUT) -> "RawClient":
        """Connect to "unix:PATH" or "tcp:HOST:PORT" (no greeting read)."""
        if address.startswith("unix:"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = address[len("unix:"):]
        elif address.startswith("tcp:"):
            host, _, port = address[len("tcp:"):].rpartition(":")
            host = host.strip("[]")
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (host, int(port))
        else:
            raise ValueError(f"unknown address {address!r}")
        sock.settimeout(timeout)
        # A unix socket with a timeout is non-blocking: while the listen
        # backlog is full, connect() fails with EAGAIN instead of waiting.
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock.connect(target)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    sock.close()
                    raise
                time.sleep(0.01)
        return cls(sock, timeout)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending --

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._expect_replies(data)
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def send_json(self, request: Any, terminator: bytes = b"") -> None:
        self.send(json.dumps(request).encode("utf-8") + terminator)

    def _expect_replies(self, data: bytes) -> None:
        """Note each whole request in DATA that has an id, one per line,
        for the wire schema check (wire_check.py); fragments, and text
        that is not JSON, are left to the tests that send them."""
        if wire_check() is None:
            return
        for line in data.splitlines():
            try:
                request = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(request, dict) and "id" in request:
                key = json.dumps(request["id"], sort_keys=True)
                # An id sent twice before its reply pairs with neither.
                self._unanswered[key] = (None if key in self._unanswered
                                         else request)

    def _answered(self, reply: dict[str, Any]) -> None:
        """REPLY came: check its request against the wire schema."""
        if "id" not in reply:
            return
        request = self._unanswered.pop(json.dumps(reply["id"], sort_keys=True),
                                       None)
        if request is None:
            return
        check = wire_check()
        if check is not None:
            check.check(request, reply, self.session)
        self.session.update(request, reply)

    def new_id(self) -> str:
        self._next_id += 1
        return f"harness-{self._next_id}"

    # -- receiving --

    def _fill(self, timeout: float) -> bool:
        """Read more bytes; False at end of input."""
        if self.eof:
            return False
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 16)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def recv_line(self, timeout: Optional[float] = None) -> bytes:
        """The next message's bytes, without the CR LF.

        Raises EOFError at end of input (ProtocolViolation if the input ends
        inside a message) and socket.timeout when nothing comes.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            end = self.buffer.find(b"\r\n")
            if end >= 0:
                line = self.buffer[:end]
                self.buffer = self.buffer[end + 2:]
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no complete message from the server")
            if not self._fill(remaining):
                if self.buffer:
                    raise ProtocolViolation(
                        f"input ended inside a message: {self.buffer[:200]!r}")
                raise EOFError("the server closed the connection")

    def recv(self, timeout: Optional[float] = None) -> dict[str, Any]:
        """The next message, checked (see parse_server_message)."""
        return parse_server_message(self.recv_line(timeout))

    def recv_reply(self, timeout: Optional[float] = None) -> dict[str, Any]:
        """The next reply; events on the way are kept in self.events."""
        while True:
            message = self.recv(timeout)
            if is_event(message):
                self.check_event(message)
                self.events.append(message)
                continue
            if not is_reply(message):
                raise ProtocolViolation(f"neither reply nor event: {message}")
            if "error" in message:
                check_error_shape(message)
            elif set(message) - {"return", "id"}:
                raise ProtocolViolation(f"unexpected members in a reply: {message}")
            self._answered(message)
            return message

    def recv_event(self, timeout: Optional[float] = None) -> dict[str, Any]:
        """The next event (kept ones first); a reply on the way is a violation."""
        if self.events:
            return self.events.pop(0)
        message = self.recv(timeout)
        if not is_event(message):
            raise ProtocolViolation(f"expected an event, got {message}")
        self.check_event(message)
        return message

    @staticmethod
    def check_event(event: dict[str, Any]) -> None:
        """§9: name, optional data object, timestamp, no id."""
        if set(event) - {"event", "data", "timestamp"}:
            raise ProtocolViolation(f"unexpected members in an event: {event}")
        if not isinstance(event["event"], str):
            raise ProtocolViolation(f"bad event name: {event}")
        if "data" in event and not isinstance(event["data"], dict):
            raise ProtocolViolation(f"event data is not an object: {event}")
        stamp = event.get("timestamp")
        if not isinstance(stamp, dict) or set(stamp) != {"seconds", "microseconds"}:
            raise ProtocolViolation(f"bad timestamp: {event}")
        seconds, micro = stamp["seconds"], stamp["microseconds"]
        if not isinstance(seconds, int) or not isinstance(micro, int):
            raise ProtocolViolation(f"bad timestamp: {event}")
        if not ((seconds == -1 and micro == -1)
                or (seconds >= 0 and 0 <= micro <= 999_999)):
            raise ProtocolViolation(f"bad timestamp: {event}")
        check = wire_check()
        if check is not None:
            check.check_event(event)

    def expect_eof(self, timeout: Optional[float] = None) -> list[dict[str, Any]]:
        """Read until the server closes; returns what came before."""
        messages = []
        while True:
            try:
                messages.append(self.recv(timeout))
            except EOFError:
                return messages

    def expect_nothing(self, wait: float = 0.3) -> None:
        """Check that no message is pending after a short wait.

        Used only after a marker request whose reply proves ordering, so it
        asserts nothing about timing; it catches extra replies."""
        if self.buffer:
            raise ProtocolViolation(f"unexpected output: {self.buffer[:200]!r}")
        ready, _, _ = select.select([self.sock], [], [], wait)
        if ready and self._fill(wait) and self.buffer:
            raise ProtocolViolation(f"unexpected output: {self.buffer[:200]!r}")

    # -- QMP --

    def read_greeting(self) -> dict[str, Any]:
        greeting = self.recv()
        self.greeting = greeting
        return greeting

    def negotiate(self, enable: Optional[Sequence[str]] = None) -> None:
        request: dict[str, Any] = {"execute": "qmp_capabilities",
                                   "id": self.new_id()}
        if enable is not None:
            request["arguments"] = {"enable": list(enable)}
        reply = self.execute_request(request)
        if reply != {"return": {}, "id": request["id"]}:
            raise AssertionError(f"negotiation failed: {reply}")

    def execute_request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send REQUEST (an id is added if it has none); its reply."""
        if "id" not in request:
            request = dict(request, id=self.new_id())
        self.send_json(request)
        reply = self.recv_reply()
        if reply.get("id") != request["id"]:
            raise ProtocolViolation(f"reply to {request} has another id: {reply}")
        return reply

    def command(self, name: str, **arguments: Any) -> Any:
        """Run NAME; its return value, or AssertionError with the error."""
        request: dict[str, Any] = {"execute": name}
        if arguments:
            request["arguments"] = arguments
        reply = self.execute_request(request)
        if "error" in reply:
            raise AssertionError(f"{name} failed: {reply['error']}")
        return reply["return"]


def find_binary(variable: str) -> Optional[str]:
    path = os.environ.get(variable)
    if path and os.access(path, os.X_OK):
        return path
    return None


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains TEXT."""
    pids = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmdline and state != b"Z":
            pids.append(int(entry))
    return pids


def process_memory_kib(pid: int, field: str = "VmRSS") -> int:
    """FIELD of /proc/PID/status (VmRSS, VmHWM: the peak of VmRSS), in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name == field:
                return int(value.split()[0])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def built_with_asan(binary: str) -> bool:
    """Whether BINARY is built with AddressSanitizer, whose allocator keeps
    freed memory (quarantine): its resident size says little then."""
    with open(binary, "rb") as f:
        return b"__asan_init" in f.read()


class Daemon:
    """One qapikit-blockd process with its own temporary directory.

    QMP lists the --qmp addresses (default: WORKDIR/qmp.sock); an empty
    list gives none, so the daemon listens on its default socket.  ENV
    adds to the environment it runs in."""

    def __init__(self, binary: str, workdir: str,
                 qmp: Optional[Sequence[str]] = None,
                 extra_args: Iterable[str] = (),
                 env: Optional[dict[str, str]] = None) -> None:
        self.binary = binary
        self.workdir = workdir
        self.socket_path = os.path.join(workdir, "qmp.sock")
        self.qmp = list(qmp) if qmp is not None else [f"unix:{self.socket_path}"]
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **(env or {}))
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.addresses: list[str] = []
        self.stdout_lines: list[str] = []
        self.stderr_path = os.path.join(workdir, "daemon.stderr")
        self._reader: Optional[threading.Thread] = None
        self._lines_ready = threading.Condition()

    @property
    def argv(self) -> list[str]:
        args = [self.binary]
        for address in self.qmp:
            args += ["--qmp", address]
        return args + self.extra_args

    def start(self) -> None:
        """Start the daemon and wait for one address line per listener."""
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=stderr, cwd=self.workdir, env=self.env)
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + TIMEOUT
        listeners = max(len(self.qmp), 1)  # none given: the default one
        with self._lines_ready:
            while len(self.addresses) < listeners:
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(
                        f"the daemon exited with status {self.process.returncode} "
                        f"before listening; stderr: {self.stderr()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"the daemon printed no address line; stdout "
                        f"{self.stdout_lines}, stderr: {self.stderr()}")
                self._lines_ready.wait(min(remaining, 0.2))

    def _read_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            with self._lines_ready:
                self.stdout_lines.append(line)
                match = ADDRESS_LINE.match(line)
                if match:
                    self.addresses.append(match.group(1))
                self._lines_ready.notify_all()
        with self._lines_ready:
            self._lines_ready.notify_all()

    def stderr(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @property
    def address(self) -> str:
        return self.addresses[0]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def connect(self, negotiate: bool = True, enable: Optional[Sequence[str]] = None,
                address: Optional[str] = None) -> RawClient:
        """A new session: greeting read and checked, negotiated if asked."""
        client = RawClient.connect(address or self.address)
        try:
            check_greeting(client.read_greeting())
            if negotiate:
                client.negotiate(enable)
        except BaseException:
            client.close()
            raise
        return client

    def check_alive(self) -> None:
        """The daemon runs and answers query-version on a fresh session."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"the daemon exited with status {self.process.returncode}; "
                f"stderr: {self.stderr()}")
        with self.connect() as client:
            version = client.command("query-version")
            assert client.greeting is not None
            if version != client.greeting["QMP"]["version"]:
                raise AssertionError(
                    f"query-version {version} differs from the greeting "
                    f"{client.greeting}")

    def wait(self, timeout: float = TIMEOUT) -> int:
        assert self.process is not None
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("the daemon did not exit; killed") from None
        if self._reader is not None:
            self._reader.join(TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return status

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send SIG (if still running) and return the exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.wait()


def check_greeting(greeting: dict[str, Any]) -> None:
    """§2: {"QMP": {"version": VersionInfo, "capabilities": [str...]}}."""
    if set(greeting) != {"QMP"}:
        raise ProtocolViolation(f"greeting members: {greeting}")
    qmp = greeting["QMP"]
    if not isinstance(qmp, dict) or set(qmp) != {"version", "capabilities"}:
        raise ProtocolViolation(f"greeting QMP: {greeting}")
    check_version_info(qmp["version"])
    capabilities = qmp["capabilities"]
    if not isinstance(capabilities, list) or \
            not all(isinstance(c, str) for c in capabilities):
        raise ProtocolViolation(f"greeting capabilities: {greeting}")


def check_version_info(version: Any) -> None:
    if not isinstance(version, dict) or set(version) != {"qemu", "package"}:
        raise ProtocolViolation(f"VersionInfo: {version}")
    triple = version["qemu"]
    if not isinstance(triple, dict) or set(triple) != {"major", "minor", "micro"}:
        raise ProtocolViolation(f"VersionInfo.qemu: {version}")
    if not all(isinstance(triple[k], int) and not isinstance(triple[k], bool)
               for k in triple):
        raise ProtocolViolation(f"VersionInfo.qemu: {version}")
    if not isinstance(version["package"], str):
        raise ProtocolViolation(f"VersionInfo.package: {version}")


class DaemonTestCase(unittest.TestCase):
    """Tests sharing one daemon; after each test it must still answer.

    Subclasses may set QMP (listener specs, formatted with {dir}) and
    EXTRA_ARGS.
    """

    QMP: Optional[Sequence[str]] = None
    EXTRA_ARGS: Sequence[str] = ()

    binary: str
    tmpdir: tempfile.TemporaryDirectory[str]
    daemon: Daemon

    @classmethod
    def setUpClass(cls) -> None:
        binary = find_binary("QAPIKIT_BLOCKD")
        if binary is None:
            raise unittest.SkipTest("QAPIKIT_BLOCKD does not name the daemon")
        cls.binary = binary
        cls.tmpdir = tempfile.TemporaryDirectory(prefix="qapikit-functional-")
        qmp = None
        if cls.QMP is not None:
            qmp = [spec.format(dir=cls.tmpdir.name) for spec in cls.QMP]
        try:
            extra_args = cls.daemon_args(cls.tmpdir.name)
        except BaseException:
            cls.tmpdir.cleanup()
            raise
        cls.daemon = Daemon(binary, cls.tmpdir.name, qmp, extra_args)
        try:
            cls.daemon.start()
        except BaseException:
            cls.daemon.kill()
            cls.tmpdir.cleanup()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            if cls.daemon.process is not None and cls.daemon.process.poll() is None:
                status = cls.daemon.stop(signal.SIGTERM)
                if status != 0:
                    raise AssertionError(
                        f"daemon exit status {status} after SIGTERM; "
                        f"stderr: {cls.daemon.stderr()}")
            check_no_leftovers(cls.tmpdir.name)
        finally:
            cls.daemon.kill()
            cls.tmpdir.cleanup()

    @classmethod
    def daemon_args(cls, workdir: str) -> list[str]:
        """The daemon's arguments after --qmp; may create files in WORKDIR
        (the daemon's directory) first."""
        return list(cls.EXTRA_ARGS)

    def tearDown(self) -> None:
        self.daemon.check_alive()

    def connect(self, negotiate: bool = True,
                enable: Optional[Sequence[str]] = None) -> RawClient:
        client = self.daemon.connect(negotiate, enable)
        self.addCleanup(client.close)
        return client

    def assert_error(self, reply: dict[str, Any], error_class: str,
                     request_id: Any = NO_ID, mentions: Iterable[str] = ()) -> None:
        """REPLY is an error of ERROR_CLASS; with id REQUEST_ID, or without id
        if REQUEST_ID is NO_ID; its desc contains each of MENTIONS."""
        self.assertIn("error", reply, f"expected an error, got {reply}")
        check_error_shape(reply)
        self.assertEqual(reply["error"]["class"], error_class, reply)
        if request_id is NO_ID:
            self.assertNotIn("id", reply, reply)
        else:
            self.assertIn("id", reply, reply)
            self.assertEqual(reply["id"], request_id)
        for text in mentions:
            self.assertIn(text, reply["error"]["desc"], reply)


def check_no_leftovers(workdir: str) -> None:
    """No live process still has WORKDIR (each daemon's home) in its argv."""
    leftovers = processes_mentioning(workdir)
    if leftovers:
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        raise AssertionError(f"processes left behind: {leftovers}")


def new_workdir(test: unittest.TestCase) -> str:
    """A temporary directory removed after TEST, checked for leftovers."""
    tmp = tempfile.TemporaryDirectory(prefix="qapikit-functional-")
    test.addCleanup(tmp.cleanup)
    test.addCleanup(check_no_leftovers, tmp.name)
    return tmp.name


def start_daemon(test: unittest.TestCase, qmp: Optional[Sequence[str]] = None,
                 extra_args: Iterable[str] = (),
                 workdir: Optional[str] = None,
                 env: Optional[dict[str, str]] = None) -> Daemon:
    """A daemon of TEST's own, killed at cleanup if still running."""
    binary = find_binary("QAPIKIT_BLOCKD")
    if binary is None:
        raise unittest.SkipTest("QAPIKIT_BLOCKD does not name the daemon")
    daemon = Daemon(binary, workdir or new_workdir(test), qmp, extra_args,
                    env)
    test.addCleanup(daemon.kill)
    daemon.start()
    return daemon


def main(requires: Sequence[str] = ("QAPIKIT_BLOCKD",)) -> None:
    """Run the calling module's tests; exit 0, 1, or 77 if all skipped
    (or a program named in REQUIRES is missing)."""
    for variable in requires:
        if find_binary(variable) is None:
            print(f"SKIP: {variable} does not name an executable")
            sys.exit(SKIP_EXIT_STATUS)
    module = sys.modules["__main__"]
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    if len(sys.argv) > 1:
        names = sys.argv[1:]
        suite = unittest.TestSuite(
            test for test in _flatten(suite)
            if any(name in test.id() for name in names))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if not result.wasSuccessful():
        sys.exit(1)
    if result.testsRun - len(result.skipped) <= 0:
        sys.exit(SKIP_EXIT_STATUS)
    sys.exit(0)


def _flatten(suite: unittest.TestSuite) -> Iterable[unittest.TestCase]:
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from _flatten(item)
        else:
            yield item

