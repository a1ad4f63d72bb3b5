#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qapikit-blockd as a program: listeners (unix socket modes, stale and
foreign files, TCP, stdio, several at once), exit on SIGTERM, SIGINT and
quit, --help and --version.  Each test runs a daemon of its own."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import unittest

import qmp_harness
from qmp_harness import Daemon


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DaemonTest(unittest.TestCase):
    def binary(self) -> str:
        binary = qmp_harness.find_binary("QAPIKIT_BLOCKD")
        if binary is None:
            self.skipTest("QAPIKIT_BLOCKD does not name the daemon")
        return binary

    def run_daemon(self, *args: str, workdir: str) -> subprocess.CompletedProcess[bytes]:
        """Run the daemon expecting it to exit by itself."""
        return subprocess.run([self.binary(), *args], cwd=workdir,
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=qmp_harness.TIMEOUT)

    def stop_cleanly(self, daemon: Daemon, sig: int = signal.SIGTERM) -> None:
        status = daemon.stop(sig)
        self.assertEqual(status, 0, daemon.stderr())

    # -- command line --

    def test_help(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        result = self.run_daemon("--help", workdir=workdir)
        self.assertEqual(result.returncode, 0, result.stderr)
        for option in [b"--qmp", b"--drive", b"--help", b"--version"]:
            self.assertIn(option, result.stdout)

    def test_version(self) -> None:
        # §2/2: the greeting's package is the daemon's own release.
        workdir = qmp_harness.new_workdir(self)
        result = self.run_daemon("--version", workdir=workdir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"qapikit-blockd", result.stdout)
        daemon = qmp_harness.start_daemon(self)
        with daemon.connect(negotiate=False) as client:
            assert client.greeting is not None
            package = client.greeting["QMP"]["version"]["package"]
        self.assertEqual(package, result.stdout.decode().strip())
        self.stop_cleanly(daemon)

    def test_invalid_utf8_file_name(self) -> None:
        # §1/7: a C string that is not UTF-8 (here the backing file name
        # recorded in a qcow2 image) has each bad byte written as \ufffd.
        qemu_img = shutil.which("qemu-img")
        if qemu_img is None:
            self.skipTest("no qemu-img")
        workdir = qmp_harness.new_workdir(self)
        base = os.path.join(workdir.encode(), b"base-\xff\xfe.raw")
        with open(base, "wb") as f:
            f.truncate(1 << 20)
        top = os.path.join(workdir, "top.qcow2")
        subprocess.run([qemu_img.encode(), b"create", b"-q", b"-f", b"qcow2",
                        b"-b", base, b"-F", b"raw", top.encode(), b"1M"],
                       check=True, timeout=qmp_harness.TIMEOUT)
        daemon = qmp_harness.start_daemon(
            self, extra_args=["--drive", f"id=d0,file={top}"], workdir=workdir)
        with daemon.connect() as client:
            commands = {e["name"] for e in client.command("query-commands")}
            if "query-block" not in commands:
                self.skipTest("the daemon has no query-block yet")
            client.send_json({"execute": "query-block", "id": 1})
            line = client.recv_line()
        qmp_harness.parse_server_message(line)  # ASCII, valid JSON
        expected = os.path.join(workdir, "base-\ufffd\ufffd.raw")
        self.assertIn(json.dumps(expected).encode().lower(), line.lower())
        self.stop_cleanly(daemon)

    def test_bad_usage(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        for args in [["--no-such-option"], ["--qmp", "bogus:x"],
                     ["--qmp", f"unix:{workdir}/s,mode=banana"],
                     ["--drive", "nonsense"]]:
            with self.subTest(args=args):
                result = self.run_daemon(*args, workdir=workdir)
                self.assertNotEqual(result.returncode, 0)
                self.assertTrue(result.stderr.strip())

    # -- unix sockets --

    def test_socket_mode_default(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        info = os.stat(daemon.socket_path)
        self.assertTrue(stat.S_ISSOCK(info.st_mode))
        self.assertEqual(stat.S_IMODE(info.st_mode), 0o600)
        self.assertEqual(daemon.address, f"unix:{daemon.socket_path}")
        daemon.check_alive()
        self.stop_cleanly(daemon)

    def test_socket_mode_0660(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "group.sock")
        old_umask = os.umask(0o077)  # the umask must not apply
        try:
            daemon = qmp_harness.start_daemon(
                self, [f"unix:{path},mode=0660"], workdir=workdir)
        finally:
            os.umask(old_umask)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o660)
        self.assertEqual(daemon.address, f"unix:{path}")
        daemon.check_alive()
        self.stop_cleanly(daemon)

    def test_stale_socket_replaced(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "qmp.sock")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()  # the file stays; nobody listens
        self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
        daemon = qmp_harness.start_daemon(self, workdir=workdir)
        daemon.check_alive()
        self.stop_cleanly(daemon)

    def test_live_socket_refused(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "qmp.sock")
        live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(live.close)
        live.bind(path)
        live.listen(1)
        result = self.run_daemon("--qmp", f"unix:{path}", workdir=workdir)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(path.encode(), result.stderr)
        # The other server's socket is untouched.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(path)

    def test_regular_file_refused(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "precious")
        with open(path, "w") as f:
            f.write("not a socket\n")
        result = self.run_daemon("--qmp", f"unix:{path}", workdir=workdir)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(path.encode(), result.stderr)
        with open(path) as f:
            self.assertEqual(f.read(), "not a socket\n")

    def test_directory_refused(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "adir")
        os.mkdir(path)
        result = self.run_daemon("--qmp", f"unix:{path}", workdir=workdir)
        self.assertNotEqual(result.returncode, 0)
        self.assertTrue(os.path.isdir(path))

    def test_failed_start_prints_no_address(self) -> None:
        # The QMP and NBD listeners open, then an export fails: no address
        # line (a script waiting for one would connect to nothing), exit
        # status 1, both sockets removed.
        workdir = qmp_harness.new_workdir(self)
        qmp = os.path.join(workdir, "qmp.sock")
        nbd = os.path.join(workdir, "nbd.sock")
        result = self.run_daemon("--qmp", f"unix:{qmp}",
                                 "--nbd", f"unix:{nbd}",
                                 "--export", "nbd,id=e0,node-name=nosuch",
                                 workdir=workdir)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(result.stdout, b"")
        self.assertIn(b"nosuch", result.stderr)
        self.assertFalse(os.path.exists(qmp))
        self.assertFalse(os.path.exists(nbd))

    def test_missing_directory_refused(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        path = os.path.join(workdir, "no", "such", "dir", "qmp.sock")
        result = self.run_daemon("--qmp", f"unix:{path}", workdir=workdir)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(path.encode(), result.stderr)

    def test_socket_removed_at_exit(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        self.stop_cleanly(daemon)
        self.assertFalse(os.path.exists(daemon.socket_path))

    # -- TCP, several listeners, stdio --

    def test_tcp_listener(self) -> None:
        port = free_tcp_port()
        daemon = qmp_harness.start_daemon(self, [f"tcp:127.0.0.1:{port}"])
        self.assertEqual(daemon.address, f"tcp:127.0.0.1:{port}")
        daemon.check_alive()
        self.stop_cleanly(daemon)

    def test_tcp_port_zero(self) -> None:
        # The printed address carries the port the kernel chose.
        daemon = qmp_harness.start_daemon(self, ["tcp:127.0.0.1:0"])
        self.assertTrue(daemon.address.startswith("tcp:127.0.0.1:"))
        self.assertNotEqual(daemon.address, "tcp:127.0.0.1:0")
        daemon.check_alive()
        self.stop_cleanly(daemon)

    def test_several_listeners(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        port = free_tcp_port()
        daemon = qmp_harness.start_daemon(
            self, [f"unix:{workdir}/a.sock", f"tcp:127.0.0.1:{port}",
                   f"unix:{workdir}/b.sock,mode=0660"], workdir=workdir)
        self.assertEqual(sorted(daemon.addresses),
                         sorted([f"unix:{workdir}/a.sock",
                                 f"tcp:127.0.0.1:{port}",
                                 f"unix:{workdir}/b.sock"]))
        clients = [daemon.connect(address=address) for address in daemon.addresses]
        for client in clients:
            self.addCleanup(client.close)
            client.command("query-version")
        daemon.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        for client in clients:
            messages = client.expect_eof()
            self.assertEqual([m.get("event") for m in messages], ["SHUTDOWN"])
        self.assertEqual(daemon.wait(), 0)

    def test_stdio(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        process = subprocess.Popen(
            [self.binary(), "--qmp", "stdio"], cwd=workdir,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b'{"execute": "qmp_capabilities", "id": 1}\n'
                            b'{"execute": "query-version", "id": 2}\n')
        process.stdin.flush()
        messages = []
        buffer = b""
        while len(messages) < 3:
            ready, _, _ = select.select([process.stdout], [], [],
                                        qmp_harness.TIMEOUT)
            self.assertTrue(ready, "no output on stdout")
            data = os.read(process.stdout.fileno(), 65536)
            self.assertTrue(data, f"stdout ended after {messages}")
            buffer += data
            while b"\r\n" in buffer:
                line, buffer = buffer.split(b"\r\n", 1)
                messages.append(qmp_harness.parse_server_message(line))
        qmp_harness.check_greeting(messages[0])
        self.assertEqual(messages[1], {"return": {}, "id": 1})
        self.assertEqual(messages[2]["id"], 2)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(qmp_harness.TIMEOUT), 0)
        process.stdout.close()
        process.stdin.close()
        assert process.stderr is not None
        process.stderr.close()

    # -- exit --

    def test_sigterm(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        client = daemon.connect()
        self.addCleanup(client.close)
        daemon.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        messages = client.expect_eof()
        self.assertEqual(len(messages), 1)
        self.assertEqual(messages[0]["event"], "SHUTDOWN")
        self.assertEqual(messages[0]["data"], {"guest": False, "reason": "host-signal"})
        self.assertEqual(daemon.wait(), 0, daemon.stderr())

    def test_sigint(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        client = daemon.connect()
        self.addCleanup(client.close)
        daemon.process.send_signal(signal.SIGINT)  # type: ignore[union-attr]
        messages = client.expect_eof()
        self.assertEqual([m["data"]["reason"] for m in messages], ["host-signal"])
        self.assertEqual(daemon.wait(), 0, daemon.stderr())

    def test_sigterm_without_clients(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        self.stop_cleanly(daemon)

    def test_quit(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        client = daemon.connect()
        self.addCleanup(client.close)
        client.send_json({"execute": "quit", "id": "bye"})
        event = client.recv_event()
        self.assertEqual(event["event"], "SHUTDOWN")
        self.assertEqual(event["data"], {"guest": False, "reason": "host-qmp-quit"})
        self.assertEqual(client.recv_reply(), {"return": {}, "id": "bye"})
        self.assertEqual(client.expect_eof(), [])
        self.assertEqual(daemon.wait(), 0, daemon.stderr())
        self.assertFalse(os.path.exists(daemon.socket_path))

    def test_quit_with_pipelined_requests(self) -> None:
        # Requests after quit in the same write are not run.
        daemon = qmp_harness.start_daemon(self)
        client = daemon.connect()
        self.addCleanup(client.close)
        client.send(b'{"execute": "query-version", "id": 1}'
                    b'{"execute": "quit", "id": 2}'
                    b'{"execute": "query-version", "id": 3}')
        messages = client.expect_eof()
        self.assertEqual(messages[0].get("id"), 1)
        self.assertEqual(messages[1].get("event"), "SHUTDOWN")
        self.assertEqual(messages[2], {"return": {}, "id": 2})
        self.assertEqual(len(messages), 3, messages)
        self.assertEqual(daemon.wait(), 0, daemon.stderr())

    def test_quit_with_stalled_client(self) -> None:
        # A session that does not read cannot keep the daemon from exiting.
        daemon = qmp_harness.start_daemon(self)
        stalled = daemon.connect()
        self.addCleanup(stalled.close)
        stalled.send(b'{"execute": "query-qmp-schema"}' * 300)
        quitter = daemon.connect()
        self.addCleanup(quitter.close)
        quitter.send_json({"execute": "quit"})
        self.assertEqual(daemon.wait(), 0, daemon.stderr())

    def test_no_leftover_process(self) -> None:
        workdir = qmp_harness.new_workdir(self)
        daemon = qmp_harness.start_daemon(self, workdir=workdir)
        pid = daemon.pid
        self.stop_cleanly(daemon)
        self.assertEqual(qmp_harness.processes_mentioning(workdir), [])
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)


if __name__ == "__main__":
    qmp_harness.main()
