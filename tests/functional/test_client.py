#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tools/qapikit-qmp, the command-line client: against a scripted QMP
server written here (to see exactly what it sends) and against the real
daemon."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import unittest
from typing import Any, Callable, Optional

import qmp_harness

Handler = Callable[[dict[str, Any]], list[dict[str, Any]]]


class ScriptedServer:
    """A one-session QMP server on a unix socket.  HANDLER maps each
    request after negotiation to the messages to send back."""

    def __init__(self, path: str, handler: Handler,
                 greeting: Optional[dict[str, Any]] = None) -> None:
        self.path = path
        self.handler = handler
        self.greeting = greeting or {"QMP": {"version": {"qemu": {
            "major": 9, "minor": 8, "micro": 7}, "package": "scripted"},
            "capabilities": ["oob"]}}
        self.requests: list[dict[str, Any]] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def write(self, conn: socket.socket, message: dict[str, Any]) -> None:
        conn.sendall(json.dumps(message).encode() + b"\r\n")

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            self.write(conn, self.greeting)
            decoder = json.JSONDecoder()
            buffer = ""
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data.decode()
                while True:
                    buffer = buffer.lstrip()
                    if not buffer:
                        break
                    try:
                        request, end = decoder.raw_decode(buffer)
                    except json.JSONDecodeError:
                        break
                    buffer = buffer[end:]
                    self.requests.append(request)
                    if request.get("execute") == "qmp_capabilities":
                        reply: dict[str, Any] = {"return": {}}
                        if "id" in request:
                            reply["id"] = request["id"]
                        self.write(conn, reply)
                        continue
                    messages = self.handler(request)
                    for message in messages:
                        if message.get("close"):
                            return
                        self.write(conn, message)

    def close(self) -> None:
        self.listener.close()
        self.thread.join(qmp_harness.TIMEOUT)


def echo_arguments(request: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the request's arguments, after an event."""
    return [{"event": "SCRIPTED", "data": {"n": 1},
             "timestamp": {"seconds": 1, "microseconds": 2}},
            {"return": request.get("arguments", {}), "id": request["id"]}]


class ClientTestBase(unittest.TestCase):
    def setUp(self) -> None:
        client = qmp_harness.find_binary("QAPIKIT_QMP")
        if client is None:
            self.skipTest("QAPIKIT_QMP does not name qapikit-qmp")
        self.client = client
        self.workdir = qmp_harness.new_workdir(self)

    def run_client(self, *args: str, timeout: float = qmp_harness.TIMEOUT,
                   env: Optional[dict[str, str]] = None,
                   cwd: Optional[str] = None
                   ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.client, *args], capture_output=True,
                              text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, env=env, cwd=cwd)

    def scripted(self, handler: Handler = echo_arguments) -> ScriptedServer:
        server = ScriptedServer(os.path.join(self.workdir, "scripted.sock"), handler)
        self.addCleanup(server.close)
        return server

    def command_sent(self, server: ScriptedServer) -> dict[str, Any]:
        server.thread.join(qmp_harness.TIMEOUT)
        commands = [r for r in server.requests if r.get("execute") != "qmp_capabilities"]
        self.assertEqual(len(commands), 1, server.requests)
        return commands[0]


class ClientArgumentsTest(ClientTestBase):
    def arguments_for(self, *words: str) -> Any:
        server = self.scripted()
        result = self.run_client("-s", server.path, "cmd", *words)
        self.assertEqual(result.returncode, 0, result.stderr)
        sent = self.command_sent(server)
        self.assertEqual(sent["execute"], "cmd")
        self.assertEqual(json.loads(result.stdout), sent.get("arguments", {}))
        return sent.get("arguments")

    def test_no_arguments(self) -> None:
        self.assertIsNone(self.arguments_for())

    def test_value_types(self) -> None:
        self.assertEqual(
            self.arguments_for("i=42", "neg=-7", "plus=+3", "big=18446744073709551615",
                               "t=true", "f=FALSE", "s=hello", "e=", "sp=a b",
                               "list=[1, \"x\", null]", "obj={\"k\": {\"n\": 1}}",
                               "badjson={nope", "eq=a=b", "num=1.5"),
            {"i": 42, "neg": -7, "plus": 3, "big": 18446744073709551615,
             "t": True, "f": False, "s": "hello", "e": "", "sp": "a b",
             "list": [1, "x", None], "obj": {"k": {"n": 1}},
             "badjson": "{nope", "eq": "a=b", "num": "1.5"})

    def test_huge_integer_kept(self) -> None:
        server = self.scripted()
        result = self.run_client("-s", server.path, "cmd",
                                 "n=123456789012345678901234567890")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.command_sent(server)["arguments"],
                         {"n": 123456789012345678901234567890})

    def test_dotted_keys(self) -> None:
        self.assertEqual(
            self.arguments_for("a.b=1", "a.c.d=x", "top=2"),
            {"a": {"b": 1, "c": {"d": "x"}}, "top": 2})

    def test_json_object_argument(self) -> None:
        self.assertEqual(
            self.arguments_for('{"devlist": [{"device": "d0", "x": 1.5e3}]}'),
            {"devlist": [{"device": "d0", "x": 1500.0}]})

    def test_unicode(self) -> None:
        self.assertEqual(self.arguments_for("name=\u00e9\u2603\U0001f600"),
                         {"name": "\u00e9\u2603\U0001f600"})

    def test_options_anywhere(self) -> None:
        # Options after COMMAND and between the argument words.
        server = self.scripted()
        result = self.run_client("cmd", "a=1", "-s", server.path, "b.c=x",
                                 "--raw")
        self.assertEqual(result.returncode, 0, result.stderr)
        sent = self.command_sent(server)
        self.assertEqual(sent["execute"], "cmd")
        self.assertEqual(sent["arguments"], {"a": 1, "b": {"c": "x"}})
        self.assertEqual(result.stdout, '{"a":1,"b":{"c":"x"}}\n')

    def test_double_dash_ends_options(self) -> None:
        # After "--" a word that starts with '-' is an argument word.
        server = self.scripted()
        result = self.run_client("-s", server.path, "cmd", "--", "-k=-1",
                                 "--raw=x")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.command_sent(server)["arguments"],
                         {"-k": -1, "--raw": "x"})
        result = self.run_client("--", "cmd", "-s",
                                 os.path.join(self.workdir, "none.sock"))
        self.assertEqual(result.returncode, 2)
        self.assertIn("'-s' is not KEY=VALUE", result.stderr)

    def test_usage_errors(self) -> None:
        server_path = os.path.join(self.workdir, "none.sock")
        for args in [[], ["-s", server_path],
                     ["query-version", "-s"],
                     ["-s", server_path, "cmd", "-x"],
                     ["-s", server_path, "cmd", "novalue"],
                     ["-s", server_path, "cmd", "a=1", "a=2"],
                     ["-s", server_path, "cmd", "a=1", "a.b=2"],
                     ["-s", server_path, "cmd", ".a=1"],
                     ["-s", server_path, "cmd", "{not json"],
                     ["-s", server_path, "cmd", "[1]", ],
                     ["--bogus-option"]]:
            with self.subTest(args=args):
                result = self.run_client(*args)
                self.assertEqual(result.returncode, 2, result)
                self.assertTrue(result.stderr.strip())
                self.assertEqual(result.stdout, "")

    def test_help(self) -> None:
        result = self.run_client("--help")
        self.assertEqual(result.returncode, 0)
        self.assertIn("-s", result.stdout)
        self.assertIn("--events", result.stdout)

    def test_version(self) -> None:
        result = self.run_client("--version")
        self.assertEqual(result.returncode, 0)
        self.assertTrue(result.stdout.startswith("qapikit-qmp "))


class ClientScriptedTest(ClientTestBase):
    def test_error_reply(self) -> None:
        server = self.scripted(lambda r: [{"error": {"class": "DeviceNotFound",
                                                     "desc": "no disk 'x'"},
                                           "id": r["id"]}])
        result = self.run_client("-s", server.path, "cmd")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, "DeviceNotFound: no disk 'x'\n")
        self.assertEqual(result.stdout, "")

    def test_pretty_output(self) -> None:
        value = {"a": [1, {"b": []}, {}], "c": "\u00e9", "d": None}
        server = self.scripted(lambda r: [{"return": value, "id": r["id"]}])
        result = self.run_client("-s", server.path, "cmd")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), value)
        self.assertEqual(result.stdout,
                         '{\n  "a": [\n    1,\n    {\n      "b": []\n    },\n'
                         '    {}\n  ],\n  "c": "\u00e9",\n  "d": null\n}\n')

    def test_raw_output(self) -> None:
        value = {"a": [1, {"b": []}, {}], "c": "\u00e9/x", "d": None}
        server = self.scripted(lambda r: [{"return": value, "id": r["id"]}])
        result = self.run_client("-s", server.path, "--raw", "cmd")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout,
                         '{"a":[1,{"b":[]},{}],"c":"\u00e9/x","d":null}\n')

    def test_raw_error_reply(self) -> None:
        server = self.scripted(lambda r: [{"error": {"class": "X", "desc": "y"},
                                           "id": r["id"]}])
        result = self.run_client("-r", "-s", server.path, "cmd")
        self.assertEqual((result.returncode, result.stdout, result.stderr),
                         (1, "", "X: y\n"))

    def test_scalar_return(self) -> None:
        server = self.scripted(lambda r: [{"return": 5, "id": r["id"]}])
        result = self.run_client("-s", server.path, "cmd")
        self.assertEqual((result.returncode, result.stdout), (0, "5\n"))

    def test_ignores_foreign_replies_and_events(self) -> None:
        server = self.scripted(lambda r: [
            {"return": "not mine", "id": "other"},
            {"event": "X", "timestamp": {"seconds": 0, "microseconds": 0}},
            {"return": "mine", "id": r["id"]}])
        result = self.run_client("-s", server.path, "cmd")
        self.assertEqual((result.returncode, result.stdout), (0, '"mine"\n'))

    def test_events_after_reply(self) -> None:
        server = self.scripted(lambda r: [
            {"event": "BEFORE", "timestamp": {"seconds": 0, "microseconds": 0}},
            {"return": {}, "id": r["id"]},
            {"event": "AFTER", "data": {"x": "\u00e9"},
             "timestamp": {"seconds": 1, "microseconds": 2}},
            {"close": True}])
        result = self.run_client("-s", server.path, "--events", "cmd")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 3, lines)
        self.assertEqual(json.loads(lines[0])["event"], "BEFORE")
        self.assertEqual(lines[1], "{}")
        self.assertEqual(json.loads(lines[2])["data"], {"x": "\u00e9"})

    def test_connection_closed_before_reply(self) -> None:
        server = self.scripted(lambda r: [{"close": True}])
        result = self.run_client("-s", server.path, "cmd")
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.strip())

    def test_not_a_qmp_server(self) -> None:
        path = os.path.join(self.workdir, "http.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.listen(1)

        def answer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.sendall(b'{"hello": "world"}\r\n')

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        result = self.run_client("-s", path, "cmd")
        thread.join(qmp_harness.TIMEOUT)
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a QMP server", result.stderr)

    def test_no_server(self) -> None:
        result = self.run_client("-s", os.path.join(self.workdir, "absent"), "x")
        self.assertEqual(result.returncode, 2)
        self.assertIn("absent", result.stderr)


class ClientDaemonTest(ClientTestBase):
    """Against the real daemon."""

    def setUp(self) -> None:
        super().setUp()
        self.daemon = qmp_harness.start_daemon(self)
        self.socket = self.daemon.socket_path

    def tearDown(self) -> None:
        if self.daemon.process is not None and self.daemon.process.poll() is None:
            self.daemon.check_alive()
            self.assertEqual(self.daemon.stop(), 0)

    def test_query_version(self) -> None:
        result = self.run_client("-s", self.socket, "query-version")
        self.assertEqual(result.returncode, 0, result.stderr)
        version = json.loads(result.stdout)
        with self.daemon.connect() as client:
            assert client.greeting is not None
            self.assertEqual(version, client.greeting["QMP"]["version"])
        self.assertGreater(len(result.stdout.splitlines()), 1)  # pretty

    def test_options_after_command(self) -> None:
        result = self.run_client("query-version", "-s", self.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["package"],
                         "qapikit-blockd 0.1.0")
        result = self.run_client("query-block", "--socket", self.socket,
                                 "--raw")
        self.assertEqual((result.returncode, result.stdout), (0, "[]\n"),
                         result.stderr)

    def test_raw(self) -> None:
        result = self.run_client("-s", self.socket, "--raw", "query-version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(result.stdout.splitlines()), 1, result.stdout)
        self.assertNotIn(": ", result.stdout)  # compact: no padding
        with self.daemon.connect() as client:
            assert client.greeting is not None
            self.assertEqual(json.loads(result.stdout),
                             client.greeting["QMP"]["version"])

    def test_unix_prefix_and_tcp(self) -> None:
        result = self.run_client("-s", "unix:" + self.socket, "query-version")
        self.assertEqual(result.returncode, 0, result.stderr)
        daemon = qmp_harness.start_daemon(self, ["tcp:127.0.0.1:0"])
        result = self.run_client("-s", daemon.address, "query-commands")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn({"name": "query-version"}, json.loads(result.stdout))
        self.assertEqual(daemon.stop(), 0)

    def test_error_classes(self) -> None:
        result = self.run_client("-s", self.socket, "no-such-command")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("CommandNotFound: "), result.stderr)
        self.assertIn("no-such-command", result.stderr)
        result = self.run_client("-s", self.socket, "query-version", "bogus=1")
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith("GenericError: "), result.stderr)
        self.assertIn("bogus", result.stderr)
        result = self.run_client("-s", self.socket, "query-version", '{"x": [1]}')
        self.assertEqual(result.returncode, 1)
        self.assertIn("x", result.stderr)

    def test_query_qmp_schema(self) -> None:
        result = self.run_client("-s", self.socket, "query-qmp-schema")
        self.assertEqual(result.returncode, 0, result.stderr)
        schema = json.loads(result.stdout)
        self.assertIn("query-version", [e["name"] for e in schema])

    def test_quit_with_events(self) -> None:
        result = self.run_client("-s", self.socket, "--events", "quit")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 2, lines)
        event = json.loads(lines[0])
        self.assertEqual(event["event"], "SHUTDOWN")
        self.assertEqual(event["data"]["reason"], "host-qmp-quit")
        self.assertEqual(lines[1], "{}")
        self.assertEqual(self.daemon.wait(), 0)

    def test_follow_events(self) -> None:
        # The follower goes through a relay that tells when the daemon's
        # reply to qmp_capabilities has passed: from then on the follower's
        # session is in command mode and must get SHUTDOWN.
        relay = Relay(os.path.join(self.workdir, "relay.sock"), self.socket)
        self.addCleanup(relay.close)
        follower = subprocess.Popen(
            [self.client, "-s", relay.path, "--events"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: follower.poll() is None and follower.kill())
        self.assertTrue(relay.negotiated.wait(qmp_harness.TIMEOUT))
        self.daemon.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        out, err = follower.communicate(timeout=qmp_harness.TIMEOUT)
        self.assertEqual(follower.returncode, 0, err)
        self.assertEqual(self.daemon.wait(), 0)
        lines = out.splitlines()
        self.assertEqual(len(lines), 1, lines)
        event = json.loads(lines[0])
        self.assertEqual(event["event"], "SHUTDOWN")
        self.assertEqual(event["data"], {"guest": False, "reason": "host-signal"})


class ClientDefaultSocketTest(ClientTestBase):
    """Without -s, the client finds the daemon started without --qmp."""

    def environment(self, runtime_dir: Optional[str]) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("XDG_RUNTIME_DIR", None)
        if runtime_dir is not None:
            env["XDG_RUNTIME_DIR"] = runtime_dir
        return env

    def test_xdg_runtime_dir(self) -> None:
        runtime_dir = os.path.join(self.workdir, "runtime")
        os.mkdir(runtime_dir, 0o700)
        env = self.environment(runtime_dir)
        daemon = qmp_harness.start_daemon(self, [], env=env)
        socket_path = os.path.join(runtime_dir, "qapikit-blockd.sock")
        self.assertEqual(daemon.address, "unix:" + socket_path)
        # From another directory: the path is absolute.
        result = self.run_client("query-version", env=env, cwd=self.workdir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["package"],
                         "qapikit-blockd 0.1.0")
        result = self.run_client("quit", env=env)
        self.assertEqual((result.returncode, result.stdout), (0, "{}\n"))
        self.assertEqual(daemon.wait(), 0)
        # Nobody listens any more: the message names the default socket.
        result = self.run_client("query-version", env=env)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unix:" + socket_path, result.stderr)

    def test_current_directory(self) -> None:
        # Without XDG_RUNTIME_DIR (or with a relative one), both use
        # ./qapikit-blockd.sock.
        daemon_dir = os.path.join(self.workdir, "here")
        os.mkdir(daemon_dir)
        daemon = qmp_harness.start_daemon(self, [], workdir=daemon_dir,
                                          env=self.environment(None))
        self.assertEqual(daemon.address, "unix:qapikit-blockd.sock")
        for runtime_dir in (None, "relative/dir"):
            with self.subTest(XDG_RUNTIME_DIR=runtime_dir):
                result = self.run_client("query-block", "--raw",
                                         env=self.environment(runtime_dir),
                                         cwd=daemon_dir)
                self.assertEqual((result.returncode, result.stdout),
                                 (0, "[]\n"), result.stderr)
        self.assertEqual(daemon.stop(), 0)
        self.assertFalse(os.path.exists(
            os.path.join(daemon_dir, "qapikit-blockd.sock")))


class Relay:
    """Relays one unix-socket session to TARGET; sets `negotiated` once a
    second message (the reply after the greeting) came from the server."""

    def __init__(self, path: str, target: str) -> None:
        self.path = path
        self.target = target
        self.negotiated = threading.Event()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(1)
        self.threads = [threading.Thread(target=self.serve, daemon=True)]
        self.threads[0].start()

    def serve(self) -> None:
        client, _ = self.listener.accept()
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(self.target)
        upstream = threading.Thread(target=self.pump, args=(client, server, False),
                                    daemon=True)
        upstream.start()
        self.threads.append(upstream)
        self.pump(server, client, True)

    def pump(self, source: socket.socket, sink: socket.socket,
             from_server: bool) -> None:
        lines = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
                if from_server:
                    lines += data.count(b"\r\n")
                    if lines >= 2:
                        self.negotiated.set()
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        for thread in self.threads:
            thread.join(qmp_harness.TIMEOUT)

if __name__ == "__main__":
    qmp_harness.main(requires=("QAPIKIT_QMP",))
