# SPDX-License-Identifier: MIT
"""The daemon attacked as a hostile client, and an unlucky operator,
would: many clients with mixed and malformed requests, connection
cycles, slowloris, a client that never reads.

Every reply is checked against the request it answers (by id, and by
position for errors that have none); resources are compared before and
after (descriptors, RSS).  Latencies are printed, never asserted.  The
attacks on files and on the state directory are in tests/blockdev/
(test_hostile_files, test_crash_orphans), and those on descriptors and
memory in tests/functional/test_resources.py; meson runs them in this
suite too.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import statistics
import sys
import threading
import time
from typing import Any, Callable, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "functional"))

import qmp_harness  # noqa: E402
from qmp_harness import TIMEOUT, Daemon, DaemonTestCase  # noqa: E402

CLIENTS = 64
REQUESTS_PER_CLIENT = 300
WINDOW = 16               # requests in flight per client
CYCLES = 2000
SLOWLORIS = 50


def rss_kib(pid: int) -> int:
    return qmp_harness.process_memory_kib(pid)


def fd_count(pid: int) -> int:
    """The daemon's open descriptors, once sessions that just closed are
    gone (the daemon sees their end of input a moment later)."""
    count = len(os.listdir(f"/proc/{pid}/fd"))
    for _ in range(100):
        time.sleep(0.02)
        again = len(os.listdir(f"/proc/{pid}/fd"))
        if again == count:
            break
        count = again
    return count


# One request of the mix: the bytes to send, and a check of its reply
# (None: an error without id is expected).
Check = Callable[[dict[str, Any]], Optional[str]]


def expect_return(key: Optional[str]) -> Check:
    def check(reply: dict[str, Any]) -> Optional[str]:
        if "return" not in reply:
            return f"expected a return, got {reply}"
        if key is not None and key not in reply["return"]:
            return f"expected '{key}' in the return, got {reply}"
        return None
    return check


def expect_error(error_class: str, mentions: str = "") -> Check:
    def check(reply: dict[str, Any]) -> Optional[str]:
        error = reply.get("error")
        if not error or error.get("class") != error_class:
            return f"expected {error_class}, got {reply}"
        if mentions not in error.get("desc", ""):
            return f"expected '{mentions}' in {reply}"
        return None
    return check


def mixed_request(client: int, n: int) -> tuple[bytes, Optional[str], Check]:
    """Request N of CLIENT: bytes, the id its reply carries, its check."""
    rid = f"c{client}-{n}"
    kind = (client * 7 + n) % 8
    if kind == 0:
        request: Any = {"execute": "query-version", "id": rid}
        return json.dumps(request).encode(), rid, expect_return("qemu")
    if kind == 1:
        request = {"execute": "query-block", "id": rid}
        return json.dumps(request).encode(), rid, expect_return(None)
    if kind == 2:
        request = {"execute": "no-such-command", "id": rid}
        return (json.dumps(request).encode(), rid,
                expect_error("CommandNotFound", "no-such-command"))
    if kind == 3:
        request = {"execute": "query-version", "id": rid,
                   "arguments": {"bogus": 1}}
        return (json.dumps(request).encode(), rid,
                expect_error("GenericError", "bogus"))
    if kind == 4:
        request = {"execute": "blockdev-snapshot-sync", "id": rid,
                   "arguments": {"device": 5, "snapshot-file": "x"}}
        return (json.dumps(request).encode(), rid,
                expect_error("GenericError", "device"))
    if kind == 5:
        # Broken JSON: one error without id, the rest of the value skipped.
        text = '{"execute": "query-version", "id": "%s", @@ [1, {}]}' % rid
        return text.encode(), None, expect_error("GenericError", "JSON")
    if kind == 6:
        request = {"execute": "query-commands", "id": rid}
        return json.dumps(request).encode(), rid, expect_return(None)
    request = {"exec": "query-version", "id": rid}
    return (json.dumps(request).encode(), rid,
            expect_error("GenericError", "'exec'"))


class MixedClient:
    """One session driven by the selector loop of test_mixed_clients."""

    def __init__(self, daemon: Daemon, index: int) -> None:
        self.index = index
        self.raw = daemon.connect()
        self.raw.sock.setblocking(False)
        self.next = 0
        self.pending: list[tuple[Optional[str], Check]] = []
        self.outbuf = b""
        self.inbuf = self.raw.buffer
        self.done = 0
        self.errors: list[str] = []

    def fill(self) -> None:
        while len(self.pending) < WINDOW and self.next < REQUESTS_PER_CLIENT:
            data, rid, check = mixed_request(self.index, self.next)
            self.next += 1
            self.outbuf += data + b"\r\n"
            self.pending.append((rid, check))

    def finished(self) -> bool:
        return self.done == REQUESTS_PER_CLIENT

    def on_readable(self) -> None:
        chunk = self.raw.sock.recv(1 << 16)
        if not chunk:
            raise AssertionError(f"client {self.index}: connection closed")
        self.inbuf += chunk
        while b"\r\n" in self.inbuf:
            line, self.inbuf = self.inbuf.split(b"\r\n", 1)
            message = qmp_harness.parse_server_message(line)
            if qmp_harness.is_event(message):
                continue
            rid, check = self.pending.pop(0)
            if rid is None and "id" in message:
                self.errors.append(f"an id where none was sent: {message}")
            elif rid is not None and message.get("id") != rid:
                self.errors.append(f"reply {message} where {rid} was due")
            problem = check(message)
            if problem:
                self.errors.append(problem)
            self.done += 1

    def on_writable(self) -> None:
        if self.outbuf:
            sent = self.raw.sock.send(self.outbuf)
            self.outbuf = self.outbuf[sent:]


class AttackTest(DaemonTestCase):

    def test_mixed_clients(self) -> None:
        """64 sessions at once, each with 300 requests of eight kinds,
        a sixteen-request window: every reply is the one due."""
        clients = [MixedClient(self.daemon, i) for i in range(CLIENTS)]
        selector = selectors.DefaultSelector()
        for client in clients:
            self.addCleanup(client.raw.close)
            selector.register(client.raw.sock,
                              selectors.EVENT_READ | selectors.EVENT_WRITE,
                              client)
        deadline = time.monotonic() + TIMEOUT * 4
        while not all(client.finished() for client in clients):
            self.assertLess(time.monotonic(), deadline, "no progress")
            for client in clients:
                client.fill()
                events = selectors.EVENT_READ
                if client.outbuf:
                    events |= selectors.EVENT_WRITE
                selector.modify(client.raw.sock, events, client)
            for key, mask in selector.select(timeout=1.0):
                client = key.data
                if mask & selectors.EVENT_WRITE:
                    client.on_writable()
                if mask & selectors.EVENT_READ:
                    client.on_readable()
        selector.close()
        errors = [e for client in clients for e in client.errors]
        self.assertEqual(errors[:5], [])
        total = sum(client.done for client in clients)
        print(f"{total} replies checked over {CLIENTS} sessions", flush=True)
        self.assertEqual(total, CLIENTS * REQUESTS_PER_CLIENT)

    def test_connect_cycles(self) -> None:
        """Sessions that come and go, politely or in the middle of a
        request: descriptors come back, RSS stays where it was."""
        pid = self.daemon.pid
        self.daemon.check_alive()
        fds_before, rss_before = fd_count(pid), rss_kib(pid)
        for cycle in range(CYCLES):
            client = self.daemon.connect(negotiate=cycle % 3 != 0)
            if cycle % 3 == 1:
                client.command("query-version")
            elif cycle % 3 == 2:
                client.send(b'{"execute": "query-version", "id": [1, 2, ')
            client.close()
        self.daemon.check_alive()
        fds_after, rss_after = fd_count(pid), rss_kib(pid)
        print(f"{CYCLES} cycles: descriptors {fds_before} -> {fds_after}, "
              f"RSS {rss_before} -> {rss_after} KiB", flush=True)
        self.assertEqual(fds_after, fds_before)
        if not qmp_harness.built_with_asan(self.daemon.binary):
            # ASan's allocator keeps freed memory in quarantine.
            self.assertLess(rss_after, rss_before + 2048)

    def test_slowloris(self) -> None:
        """50 sessions trickle unfinished requests; a well-behaved one is
        served in full meanwhile (its latency printed)."""
        slow = [self.daemon.connect() for _ in range(SLOWLORIS)]
        for client in slow:
            self.addCleanup(client.close)
            client.send(b'{"execute": "query-version", "id": "')
        good = self.daemon.connect()
        self.addCleanup(good.close)
        latencies = []
        for n in range(500):
            if n % 25 == 0:
                for client in slow:
                    client.send(b"x")          # one more byte each
            start = time.monotonic()
            reply = good.execute_request({"execute": "query-version",
                                          "id": n})
            latencies.append(time.monotonic() - start)
            self.assertEqual(reply.get("id"), n)
            self.assertIn("return", reply)
        latencies.sort()
        print(f"with {SLOWLORIS} slowloris sessions: 500 round trips, "
              f"median {statistics.median(latencies) * 1e6:.0f} us, "
              f"p99 {latencies[494] * 1e6:.0f} us, "
              f"max {latencies[-1] * 1e6:.0f} us", flush=True)
        # The slow sessions are still there, and still unanswered.
        for client in slow:
            client.send(b'"}')
            reply = client.recv_reply()
            self.assertIn("return", reply)

    def test_non_reading_client(self) -> None:
        """A session that sends without reading is paused, not fed: RSS
        stays bounded, others are served, and once it reads it gets every
        reply, in order."""
        pid = self.daemon.pid
        rss_before = rss_kib(pid)
        hog = self.daemon.connect()
        self.addCleanup(hog.close)
        hog.sock.settimeout(1.0)
        # Fixed-width ids: every request has the same length.
        one = b'{"execute": "query-version", "id": "%06d"}\r\n'
        chunk = b"".join(one % i for i in range(1000))
        sent = 0
        while sent < 64 * 1024 * 1024:
            try:
                sent += hog.sock.send(chunk[sent % len(chunk):])
            except (socket.timeout, BlockingIOError):
                break                          # the daemon stopped reading
        complete = sent // len(one % 0)
        rss_paused = rss_kib(pid)
        other = self.daemon.connect()
        self.addCleanup(other.close)
        self.assertIn("qemu", other.command("query-version"))
        print(f"non-reading session: {complete} requests ({sent} bytes) sent "
              f"before the daemon stopped reading; RSS {rss_before} -> "
              f"{rss_paused} KiB", flush=True)
        if not qmp_harness.built_with_asan(self.daemon.binary):
            self.assertLess(rss_paused, rss_before + 96 * 1024)
        # Now read: one reply per complete request, in order; the cut one
        # is dropped at the end of input.
        hog.sock.settimeout(TIMEOUT)
        count = 0
        hog.sock.shutdown(socket.SHUT_WR)
        while True:
            try:
                reply = hog.recv_reply()
            except EOFError:
                break
            self.assertEqual(reply.get("id"), "%06d" % (count % 1000), reply)
            count += 1
        self.assertEqual(count, complete)
        self.daemon.check_alive()


if __name__ == "__main__":
    qmp_harness.main()
