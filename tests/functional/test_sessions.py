#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Many sessions (docs/spec/qmp-protocol.md §11), events to every negotiated
session (§9) and a client that stops reading (§1/13); against the real
daemon."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import unittest

import qmp_harness
from qmp_harness import DaemonTestCase, RawClient


class ManySessionsTest(DaemonTestCase):
    def test_greeting_for_every_session_at_once(self) -> None:
        # §11/1: every session gets its greeting at once, even while the
        # others are connected and idle (QEMU serves one at a time).
        clients = []
        for _ in range(32):
            client = RawClient.connect(self.daemon.address)
            self.addCleanup(client.close)
            clients.append(client)
        for client in clients:
            qmp_harness.check_greeting(client.read_greeting())
        for index, client in enumerate(clients):
            client.negotiate()
        for index, client in enumerate(clients):
            client.send_json({"execute": "query-version", "id": index})
        for index, client in enumerate(clients):
            self.assertEqual(client.recv_reply()["id"], index)

    def test_replies_only_to_requester(self) -> None:
        first = self.connect()
        second = self.connect()
        first.send_json({"execute": "query-version", "id": "first"})
        self.assertEqual(first.recv_reply()["id"], "first")
        # The second session's next message is the reply to its own request.
        second.send_json({"execute": "query-version", "id": "second"})
        self.assertEqual(second.recv_reply()["id"], "second")
        second.expect_nothing()

    def test_interleaved_pipelines(self) -> None:
        clients = [self.connect() for _ in range(4)]
        for round_number in range(10):
            for index, client in enumerate(clients):
                client.send(b"".join(
                    b'{"execute": "query-version", "id": [%d, %d, %d]}' %
                    (index, round_number, i) for i in range(50)))
        for index, client in enumerate(clients):
            for round_number in range(10):
                for i in range(50):
                    self.assertEqual(client.recv_reply()["id"],
                                     [index, round_number, i])


class SlowReaderTest(DaemonTestCase):
    def test_stalled_client_does_not_block_others(self) -> None:
        """A client that sends without reading: the daemon keeps serving
        others; the stalled session either gets every reply once it reads
        again (its input was paused, §1/13) or is closed with the event
        logged (its backlog passed the bound)."""
        stalled = self.connect()
        request = b'{"execute": "query-qmp-schema", "id": %d}'
        sent = 0
        dropped = blocked = False
        stalled.sock.settimeout(2.0)
        # Send until the daemon stops reading (our writes block for 2 s) or
        # drops us.  20,000 schemas are far more than the 1 MiB of unsent
        # output at which it must stop reading, and than the 64 MiB at which
        # it must drop us: one or the other has to happen.
        try:
            while sent < 20_000:
                stalled.sock.sendall(b"".join(request % (sent + i)
                                              for i in range(100)))
                sent += 100
        except socket.timeout:
            blocked = True
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.ECONNRESET):
                raise
            dropped = True
        self.assertTrue(blocked or dropped,
                        "the daemon read 20,000 requests from a client that "
                        "does not read its replies")
        # Meanwhile other sessions are served.
        for _ in range(3):
            self.daemon.check_alive()
        other = self.connect()
        for i in range(100):
            other.send_json({"execute": "query-version", "id": i})
        for i in range(100):
            self.assertEqual(other.recv_reply()["id"], i)
        # The stalled client reads again: complete replies, in order, no gap.
        received = 0
        try:
            while received < sent:
                reply = stalled.recv_reply(timeout=qmp_harness.TIMEOUT)
                self.assertEqual(reply.get("id"), received)
                self.assertIn("return", reply)
                received += 1
        except (EOFError, ConnectionResetError):
            dropped = True
        except socket.timeout:
            # Requests that were sent but never read (the daemon paused
            # our input) are read now that we drain: they must be answered.
            self.fail(f"no reply after {received} of {sent} requests")
        if dropped:
            self.assertTrue(self.daemon.stderr().strip(),
                            "the daemon closed a session without logging it")
            print(f"stalled session closed by the daemon after {received} "
                  f"replies of {sent} requests")
        else:
            print(f"stalled session: all {sent} replies arrived")


class EventTest(unittest.TestCase):
    """Events with a daemon of the test's own: SHUTDOWN is the one event
    the daemon can emit without devices."""

    def test_shutdown_event_to_every_negotiated_session(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        watchers = [daemon.connect() for _ in range(2)]
        oob_watcher = daemon.connect(enable=["oob"])
        negotiating = daemon.connect(negotiate=False)
        quitter = daemon.connect()
        for client in watchers + [oob_watcher, negotiating, quitter]:
            self.addCleanup(client.close)
        quitter.send_json({"execute": "quit", "id": "q"})
        # §9/8: SHUTDOWN before quit's reply, then the session closes.
        event = quitter.recv_event()
        self.assert_shutdown(event, "host-qmp-quit")
        self.assertEqual(quitter.recv_reply(), {"return": {}, "id": "q"})
        self.assertEqual(quitter.expect_eof(), [])
        for client in watchers + [oob_watcher]:
            messages = client.expect_eof()
            self.assertEqual(len(messages), 1, messages)
            self.assert_shutdown(messages[0], "host-qmp-quit")
        # §9/3: a session still negotiating gets no event.
        self.assertEqual(negotiating.expect_eof(), [])
        self.assertEqual(daemon.wait(), 0)

    def test_event_between_messages_of_pipelined_sessions(self) -> None:
        # Sessions busy with pipelined requests get SHUTDOWN whole, between
        # messages (§9/4), and after it only the end of the session.
        daemon = qmp_harness.start_daemon(self)
        busy = daemon.connect()
        self.addCleanup(busy.close)
        busy.send(b'{"execute": "query-qmp-schema"}' * 30)
        quitter = daemon.connect()
        self.addCleanup(quitter.close)
        quitter.send_json({"execute": "quit"})
        messages = busy.expect_eof()
        events = [m for m in messages if qmp_harness.is_event(m)]
        self.assertEqual(len(events), 1, [m for m in messages if "event" in m])
        self.assert_shutdown(events[0], "host-qmp-quit")
        for message in messages:
            if message is not events[0]:
                self.assertIn("return", message)
        self.assertEqual(daemon.wait(), 0)

    def test_sigterm_event(self) -> None:
        daemon = qmp_harness.start_daemon(self)
        watcher = daemon.connect()
        negotiating = daemon.connect(negotiate=False)
        self.addCleanup(watcher.close)
        self.addCleanup(negotiating.close)
        daemon.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        messages = watcher.expect_eof()
        self.assertEqual(len(messages), 1, messages)
        self.assert_shutdown(messages[0], "host-signal")
        self.assertEqual(negotiating.expect_eof(), [])
        self.assertEqual(daemon.wait(), 0)

    def test_snapshot_event_to_every_negotiated_session(self) -> None:
        # An event a command causes (§9/3-5): every session in command mode
        # gets it, the requester before the command's reply; a session
        # still negotiating never gets it, not even after negotiating.
        workdir = qmp_harness.new_workdir(self)
        image = os.path.join(workdir, "d1.raw")
        with open(image, "wb") as f:
            f.truncate(1 << 20)
        daemon = qmp_harness.start_daemon(
            self, extra_args=["--drive", f"id=d1,file={image},format=raw"],
            workdir=workdir)
        requester = daemon.connect()
        self.addCleanup(requester.close)
        commands = {e["name"] for e in requester.command("query-commands")}
        if "blockdev-snapshot-sync" not in commands:
            self.skipTest("the daemon has no blockdev-snapshot-sync yet")
        events = {e["name"] for e in requester.command("query-qmp-schema")
                  if e["meta-type"] == "event"}
        watchers = [daemon.connect(), daemon.connect(enable=["oob"])]
        negotiating = daemon.connect(negotiate=False)
        for client in watchers + [negotiating]:
            self.addCleanup(client.close)
        overlay = os.path.join(workdir, "d1.s1.qcow2")
        requester.send_json({"execute": "blockdev-snapshot-sync", "id": "snap",
                             "arguments": {"device": "d1",
                                           "snapshot-file": overlay}})
        event = requester.recv_event()
        self.assertEqual(requester.recv_reply(), {"return": {}, "id": "snap"})
        self.assertIn(event["event"], events)
        self.assertIn("d1", json.dumps(event["data"]))
        self.assertIn(overlay, json.dumps(event["data"]))
        for watcher in watchers:
            self.assertEqual(watcher.recv_event(), event)
        negotiating.negotiate()
        reply = negotiating.execute_request({"execute": "query-version", "id": 1})
        self.assertIn("return", reply)
        self.assertEqual(negotiating.events, [])
        self.assertEqual(daemon.stop(), 0)

    def assert_shutdown(self, event: dict, reason: str) -> None:
        RawClient.check_event(event)
        self.assertEqual(event["event"], "SHUTDOWN")
        self.assertEqual(event["data"], {"guest": False, "reason": reason})


if __name__ == "__main__":
    qmp_harness.main()
