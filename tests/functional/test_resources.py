#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The daemon's resources against hostile clients, on real sockets: out of
file descriptors, memory budgets of requests (docs/spec/qmp-protocol.md
§7), out-of-band requests sent without reading the replies (§10/3, §1/13).

Nothing here measures time: the tests count system calls, log lines and
replies, and compare resident sizes (/proc/PID/status).
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
from typing import Callable, Optional

import qmp_harness
from qmp_harness import Daemon, RawClient

MIB = 1024 * 1024

# Runs the rest of its command line with RLIMIT_NOFILE set to its first
# argument (soft and hard).
WITH_NOFILE = (
    "import os, resource, sys\n"
    "limit = int(sys.argv[1])\n"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def strace_usable() -> Optional[str]:
    """strace's path if it is installed and may trace here, else None."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    probe = subprocess.run([strace, "-qq", "-o", os.devnull, "true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           check=False)
    return strace if probe.returncode == 0 else None


def accept_calls(trace: str) -> list[str]:
    """The accept() and accept4() calls strace wrote to TRACE so far."""
    with open(trace, encoding="utf-8", errors="replace") as f:
        return [line for line in f if re.search(r"\baccept4?\(", line)]


def starved_calls(trace: str) -> int:
    """How many of them failed for want of descriptors."""
    return sum(1 for line in accept_calls(trace)
               if "EMFILE" in line or "ENFILE" in line)


def wait_for(condition: Callable[[], bool], failure: str) -> None:
    """Wait until CONDITION holds (guarded by the harness's timeout)."""
    deadline = time.monotonic() + qmp_harness.TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.05)


class TracedDaemon(Daemon):
    """The daemon with RLIMIT_NOFILE NOFILE, its accept() calls written to
    TRACE by strace.  Signals go to the daemon itself, not to strace.
    LeakSanitizer cannot run under ptrace: an AddressSanitizer build checks
    its leaks in the other tests."""

    def __init__(self, binary: str, workdir: str, strace: str, nofile: int,
                 trace: str) -> None:
        asan = os.environ.get("ASAN_OPTIONS", "")
        super().__init__(binary, workdir, env={
            "ASAN_OPTIONS": f"{asan}:detect_leaks=0" if asan
            else "detect_leaks=0"})
        self.prefix = [sys.executable, "-c", WITH_NOFILE, str(nofile),
                       strace, "-f", "-qq", "-o", trace,
                       "-e", "trace=accept,accept4", "--"]

    @property
    def argv(self) -> list[str]:
        return self.prefix + super().argv

    def traced_pid(self) -> Optional[int]:
        """The daemon's pid (strace's child), None once it has gone."""
        assert self.process is not None
        tracer = self.process.pid
        try:
            with open(f"/proc/{tracer}/task/{tracer}/children",
                      encoding="ascii") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        pid = self.traced_pid()
        if pid is not None:
            os.kill(pid, sig)
        return self.wait()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pid = self.traced_pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
        super().kill()


class DescriptorsTest(unittest.TestCase):
    def test_out_of_descriptors(self) -> None:
        # 200 connections to a daemon that may open 64 descriptors: once
        # accept() fails with EMFILE, the listener backs off (100 ms,
        # doubling up to 1 s) instead of polling the pending connections
        # in a loop, logs the episode once (and its end), and serves new
        # clients once descriptors are free again.
        binary = qmp_harness.find_binary("QAPIKIT_BLOCKD")
        if binary is None:
            self.skipTest("QAPIKIT_BLOCKD does not name the daemon")
        strace = strace_usable()
        if strace is None:
            self.skipTest("strace is missing or may not trace here "
                          "(Debian package strace)")
        workdir = qmp_harness.new_workdir(self)
        trace = os.path.join(workdir, "accept.trace")
        daemon = TracedDaemon(binary, workdir, strace, 64, trace)
        self.addCleanup(daemon.kill)
        daemon.start()
        first = daemon.connect()
        self.addCleanup(first.close)
        clients = []
        try:
            for _ in range(200):
                clients.append(RawClient.connect(daemon.address))
            wait_for(lambda: starved_calls(trace) > 0,
                     "no accept() failed for want of descriptors")
            # The sessions it has are served meanwhile.  Each round trip
            # is at least one iteration of the daemon's main loop, in
            # which a listener that is polled while its connections
            # cannot be accepted would call accept() again.
            for i in range(500):
                first.send_json({"execute": "query-version", "id": i})
                self.assertEqual(first.recv_reply()["id"], i)
        finally:
            for client in clients:
                client.close()
        with daemon.connect() as client:
            client.command("query-version")
        self.assertEqual(daemon.stop(), 0, daemon.stderr())

        calls = accept_calls(trace)
        starved = starved_calls(trace)
        # accept() ran a few times per second while descriptors lacked,
        # not once per iteration of the main loop.
        self.assertLess(starved, 100,
                        f"{starved} accept() calls failed for want of "
                        f"descriptors")
        # Apart from those, each connection was accepted once: the 200
        # and the new client.
        self.assertLessEqual(len(calls) - starved, 201 + 10)
        log = [line for line in daemon.stderr().splitlines() if line.strip()]
        self.assertLessEqual(len(log), 3, log)


class MemoryTest(unittest.TestCase):
    def test_amplified_requests(self) -> None:
        # Eight clients each send 2.1 MB of a request that never ends,
        # {"execute": "query-version", "id": [{}, {}, ...: 2 bytes of input
        # per empty object, which costs json-c some 800 bytes of heap
        # (540 MB per client before the budgets).  Each is refused when it
        # passes its session's budget (64 MiB), with one error and no id;
        # after the next newline the session goes on (§8).  The daemon's
        # peak stays under 600 MiB, and the memory goes back to the system
        # once the requests are gone.
        daemon = qmp_harness.start_daemon(self)
        if qmp_harness.built_with_asan(daemon.binary):
            self.skipTest("AddressSanitizer's allocator keeps freed memory")
        clients = [daemon.connect() for _ in range(8)]
        for client in clients:
            self.addCleanup(client.close)
        request = (b'{"execute": "query-version", "id": [' + b"{}," * 699000
                   + b'\n{"execute": "query-version", "id": "after"}')
        senders = [threading.Thread(target=client.send, args=(request,))
                   for client in clients]
        for sender in senders:
            sender.start()
        for client in clients:
            reply = client.recv_reply()
            self.assertEqual(reply.get("error", {}).get("class"),
                             "GenericError", reply)
            self.assertNotIn("id", reply)
            self.assertIn("the session's budget", reply["error"]["desc"])
            self.assertEqual(client.recv_reply()["id"], "after")
        for sender in senders:
            sender.join()
        peak = qmp_harness.process_memory_kib(daemon.pid, "VmHWM")
        self.assertLess(peak, 600 * 1024, f"VmHWM {peak} KiB")
        for client in clients:
            client.close()
        daemon.check_alive()
        # The daemon sees the clients leave when it next reads them: wait
        # for that (a bounded while) rather than race it.
        deadline = time.monotonic() + 10
        while True:
            with daemon.connect() as client:
                client.command("query-version")
            after = qmp_harness.process_memory_kib(daemon.pid)
            if after < 16 * 1024 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertLess(after, 16 * 1024, f"VmRSS {after} KiB after a peak "
                        f"of {peak} KiB")


class OobFloodTest(unittest.TestCase):
    def test_oob_requests_without_reading(self) -> None:
        # A client sends 100,000 exec-oob requests and reads nothing: the
        # daemon stops reading it (at most 64 OOB requests wait, and none
        # runs while more than 1 MiB of its output is unsent), so its
        # resident size stays put; once the client reads, every reply
        # comes, in order.
        daemon = qmp_harness.start_daemon(self)
        asan = qmp_harness.built_with_asan(daemon.binary)
        client = daemon.connect(enable=["oob"])
        self.addCleanup(client.close)
        # Warm up the allocator with the same traffic, read as it comes.
        for i in range(2000):
            client.send_json({"exec-oob": "query-version", "id": i})
        for i in range(2000):
            self.assertEqual(client.recv_reply()["id"], i)
        baseline = qmp_harness.process_memory_kib(daemon.pid)

        total = 100_000
        data = b"".join(b'{"exec-oob": "query-version", "id": %d}' % i
                        for i in range(total))
        sock = client.sock
        sock.setblocking(False)
        sent = 0
        # Send until the daemon stops reading.  The wait for the socket to
        # become writable only ends this phase: whenever it ends, what
        # follows must hold.
        while sent < len(data):
            try:
                sent += sock.send(data[sent:sent + 65536])
            except BlockingIOError:
                if not select.select([], [sock], [], 1.0)[1]:
                    break
        self.assertLess(sent, len(data), "the daemon read every request "
                        "while its replies went unread")
        paused = qmp_harness.process_memory_kib(daemon.pid)

        buffer = b""
        received = 0
        while received < total:
            readable, writable, _ = select.select(
                [sock], [sock] if sent < len(data) else [], [],
                qmp_harness.TIMEOUT)
            if not readable and not writable:
                raise AssertionError(f"no reply after {received}")
            if writable:
                sent += sock.send(data[sent:sent + 65536])
            if readable:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    raise AssertionError(f"the daemon closed the session "
                                         f"after {received} replies")
                buffer += chunk
                *lines, buffer = buffer.split(b"\r\n")
                for line in lines:
                    reply = qmp_harness.parse_server_message(line)
                    self.assertEqual(reply.get("id"), received, reply)
                    self.assertIn("return", reply)
                    received += 1
        self.assertEqual(buffer, b"")
        peak = qmp_harness.process_memory_kib(daemon.pid, "VmHWM")
        if not asan:
            # 100,000 queued requests would take ~100 MiB.
            self.assertLess(paused - baseline, 32 * 1024,
                            f"VmRSS {baseline} KiB, then {paused} KiB")
            self.assertLess(peak - baseline, 32 * 1024,
                            f"VmRSS {baseline} KiB, VmHWM {peak} KiB")


if __name__ == "__main__":
    qmp_harness.main()
