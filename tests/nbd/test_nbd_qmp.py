# SPDX-License-Identifier: MIT
"""The NBD server's QMP commands in QEMU's shapes (docs/spec/data-path.md
§2): nbd-server-start/stop, block-export-add/del, query-block-exports and
BLOCK_EXPORT_DELETED, with a raw NBD client (nbd_wire.py) connected where
it matters; the unix socket's mode; the command line's --nbd-server and
--export spellings; a clean exit on SIGTERM after NBD traffic.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import sys
import time
from typing import Any, Callable, TypeVar

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "blockdev"))

import nbd_wire as w  # noqa: E402
from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import (DISK_SIZE, TIMEOUT, BlockdTestCase,  # noqa: E402
                            Daemon, QmpClient, QmpError)

DELETED = "BLOCK_EXPORT_DELETED"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class QmpNbdTest(BlockdTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conns: list[w.NbdClient] = []

    def tearDown(self) -> None:
        for conn in self.conns:
            conn.close()
        super().tearDown()

    def daemon_with_disks(self, extra: tuple[str, ...] = ()) -> Daemon:
        ro = self.make_raw("ro.raw", 0x52)
        return self.start(self.make_disks(3)
                          + [("ro", ro, "raw,read-only=on")],
                          extra_args=list(extra))

    def nbd_start(self, qmp: QmpClient, name: str = "nbd.sock") -> str:
        path = self.path(name)
        qmp.execute("nbd-server-start",
                    addr={"type": "unix", "data": {"path": path}})
        return path

    def add(self, qmp: QmpClient, **args: Any) -> None:
        qmp.execute("block-export-add", type="nbd", **args)

    def assert_error(self, qmp: QmpClient, command: str,
                     **args: Any) -> str:
        with self.assertRaises(QmpError) as ctx:
            qmp.execute(command, **args)
        self.assertEqual(ctx.exception.error_class, "GenericError")
        return ctx.exception.desc

    def connect(self, address: str, name: str) -> w.NbdClient:
        """A raw client in transmission on export NAME."""
        conn = w.NbdClient(address)
        self.conns.append(conn)
        conn.open(name)
        reply = conn.read(0, 1)
        self.assertEqual(reply.error, 0)
        return conn

    def exports(self, qmp: QmpClient) -> dict[str, dict[str, Any]]:
        return {e["id"]: e for e in qmp.execute("query-block-exports")}

    def once_noticed(self, attempt: Callable[[], T],
                     refused: type[Exception]) -> T:
        """ATTEMPT's result once it is no longer REFUSED: a client that
        has gone is noticed by the server on its own thread, a moment
        later (bounded by TIMEOUT)."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                return attempt()
            except refused:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)

    def assert_no_event_yet(self, qmp: QmpClient) -> None:
        self.assertNotIn(DELETED, [e["event"] for e in qmp.events])

    # nbd-server-start / stop

    def test_start_stop(self) -> None:
        qmp = self.daemon_with_disks().client()
        desc = self.assert_error(qmp, "nbd-server-stop")
        self.assertIn("not running", desc)
        path = self.nbd_start(qmp)
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
        desc = self.assert_error(
            qmp, "nbd-server-start",
            addr={"type": "unix", "data": {"path": self.path("other.sock")}})
        self.assertIn("already running", desc)
        self.add(qmp, id="e0", **{"node-name": "disk0"})
        with w.NbdClient(f"unix:{path}") as conn:
            self.assertEqual(conn.open("disk0")[0], DISK_SIZE)
        qmp.execute("nbd-server-stop")
        self.assert_error(qmp, "nbd-server-stop")
        # It starts again, on TCP this time, with max-connections.
        port = free_port()
        qmp.execute("nbd-server-start",
                    addr={"type": "inet",
                          "data": {"host": "127.0.0.1", "port": str(port)}},
                    **{"max-connections": 4})
        self.add(qmp, id="e1", **{"node-name": "disk1"})
        with w.NbdClient(f"tcp:127.0.0.1:{port}") as conn:
            self.assertEqual(conn.open("disk1")[0], DISK_SIZE)
            self.assertEqual(conn.read(0, 3).data, b"BBB")
        qmp.execute("nbd-server-stop")

    def test_tls_creds_refused(self) -> None:
        qmp = self.daemon_with_disks().client()
        self.assert_error(
            qmp, "nbd-server-start",
            addr={"type": "unix", "data": {"path": self.path("t.sock")}},
            **{"tls-creds": "tls0"})
        self.assertFalse(os.path.exists(self.path("t.sock")))
        # Nothing was started.
        self.assert_error(qmp, "nbd-server-stop")
        self.nbd_start(qmp)

    # block-export-add / query-block-exports

    def test_export_add_errors(self) -> None:
        qmp = self.daemon_with_disks().client()
        self.assert_error(qmp, "block-export-add", type="nbd", id="e0",
                          **{"node-name": "disk0"})    # no server yet
        self.nbd_start(qmp)
        desc = self.assert_error(qmp, "block-export-add", type="nbd",
                                 id="e0", **{"node-name": "nosuch"})
        self.assertIn("nosuch", desc)
        self.add(qmp, id="e0", **{"node-name": "disk0"})
        desc = self.assert_error(qmp, "block-export-add", type="nbd",
                                 id="e0", **{"node-name": "disk1"})
        self.assertIn("e0", desc)
        # The same name under another id: refused; disk0 again under
        # another name: fine.
        self.assert_error(qmp, "block-export-add", type="nbd", id="e1",
                          name="disk0", **{"node-name": "disk1"})
        self.add(qmp, id="e1", name="second", **{"node-name": "disk0"})
        desc = self.assert_error(qmp, "block-export-add", type="nbd",
                                 id="e2", writable=True,
                                 **{"node-name": "ro"})
        self.assertIn("read-only", desc)
        self.add(qmp, id="e2", writable=False, **{"node-name": "ro"})
        self.assertEqual(set(self.exports(qmp)), {"e0", "e1", "e2"})

    def test_query_block_exports(self) -> None:
        qmp = self.daemon_with_disks().client()
        self.assertEqual(qmp.execute("query-block-exports"), [])
        self.nbd_start(qmp)
        self.add(qmp, id="a", **{"node-name": "disk0"})
        self.add(qmp, id="b", name="bee", writable=True,
                 description="the b disk", **{"node-name": "disk2"})
        self.assertEqual(
            sorted(qmp.execute("query-block-exports"),
                   key=lambda e: e["id"]),
            [{"id": "a", "type": "nbd", "node-name": "disk0",
              "shutting-down": False},
             {"id": "b", "type": "nbd", "node-name": "disk2",
              "shutting-down": False}])
        # The exports behind them, as a client sees them.
        address = f"unix:{self.path('nbd.sock')}"
        conn = w.NbdClient(address)
        self.conns.append(conn)
        conn.handshake()
        listed = {}
        for reply in conn.option(w.OPT_LIST)[:-1]:
            length = int.from_bytes(reply.data[:4], "big")
            listed[reply.data[4:4 + length]] = reply.data[4 + length:]
        self.assertEqual(listed, {b"bee": b"the b disk", b"disk0": b""})
        size, flags = conn.go("bee")
        self.assertEqual(size, DISK_SIZE)
        self.assertFalse(flags & w.TF_READ_ONLY)
        conn = self.connect(address, "disk0")
        self.assertEqual(conn.write(0, b"x").error, w.EPERM)

    # block-export-del

    def test_export_del_safe_then_hard(self) -> None:
        qmp = self.daemon_with_disks().client()
        address = f"unix:{self.nbd_start(qmp)}"
        self.add(qmp, id="e0", writable=True, **{"node-name": "disk0"})
        self.add(qmp, id="e1", **{"node-name": "disk1"})
        self.assert_error(qmp, "block-export-del", id="nosuch")
        conn = self.connect(address, "disk0")
        desc = self.assert_error(qmp, "block-export-del", id="e0")
        self.assertIn("e0", desc)
        desc = self.assert_error(qmp, "block-export-del", id="e0",
                                 mode="safe")
        self.assert_no_event_yet(qmp)
        self.assertEqual(self.exports(qmp)["e0"]["shutting-down"], False)
        # The client is still served.
        self.assertEqual(conn.write(0, b"still").error, 0)
        self.assertEqual(conn.read(0, 5).data, b"still")
        qmp.execute("block-export-del", id="e0", mode="hard")
        self.assert_no_event_yet(qmp)     # the reply comes first
        event = qmp.wait_event(DELETED)
        self.assertEqual(event["data"], {"id": "e0"})
        self.assertTrue(conn.wait_closed())
        self.assertEqual(set(self.exports(qmp)), {"e1"})
        # Gone for new clients too; the other export unaffected.
        probe = w.NbdClient(address)
        self.conns.append(probe)
        probe.handshake()
        replies = probe.option(w.OPT_GO, probe.info_request("disk0"))
        self.assertEqual(replies[-1].type, w.REP_ERR_UNKNOWN)
        self.assertEqual(probe.go("disk1")[0], DISK_SIZE)
        # Safe once the client has closed its socket, even before the
        # server has read that end: deleted, event after the reply.
        probe.close()
        qmp.execute("block-export-del", id="e1")
        self.assertEqual(qmp.wait_event(DELETED)["data"], {"id": "e1"})
        self.assertEqual(self.exports(qmp), {})
        # The id is free again, the write through e0 is on disk.
        self.add(qmp, id="e0", **{"node-name": "disk0"})
        with open(self.path("disk0.raw"), "rb") as f:
            self.assertEqual(f.read(5), b"still")

    def test_server_stop_deletes_every_export(self) -> None:
        qmp = self.daemon_with_disks().client()
        address = f"unix:{self.nbd_start(qmp)}"
        ids = {"x0", "x1", "x2"}
        for i, export_id in enumerate(sorted(ids)):
            self.add(qmp, id=export_id, **{"node-name": f"disk{i}"})
        conn = self.connect(address, "disk1")
        qmp.execute("nbd-server-stop")
        seen = set()
        for _ in ids:
            seen.add(qmp.wait_event(DELETED)["data"]["id"])
        self.assertEqual(seen, ids)
        self.assertEqual(self.exports(qmp), {})
        self.assertTrue(conn.wait_closed())
        with self.assertRaises(OSError):
            w.NbdClient(address)
        self.assertFalse([e for e in qmp.events if e["event"] == DELETED])

    # The command line.

    def test_command_line_nbd_server_and_export(self) -> None:
        nbd = self.path("cl.sock")
        daemon = self.daemon_with_disks((
            "--nbd-server", f"addr.type=unix,addr.path={nbd}",
            "--export", "type=nbd,id=c0,node-name=disk0,name=first,"
            "description=first disk,writable=on",
            "--export", "nbd,id=c1,node-name=ro"))
        self.assertEqual(daemon.nbd_address, f"unix:{nbd}")
        self.assertEqual(stat.S_IMODE(os.stat(nbd).st_mode), 0o600)
        qmp = daemon.client()
        self.assertEqual(
            {e["id"]: e["node-name"] for e in qmp.execute(
                "query-block-exports")},
            {"c0": "disk0", "c1": "ro"})
        conn = self.connect(daemon.nbd_address, "first")
        self.assertEqual(conn.write(1, b"AB").error, 0)
        info = w.NbdClient(daemon.nbd_address)
        self.conns.append(info)
        info.handshake()
        replies = info.option(w.OPT_INFO, info.info_request(
            "first", (w.INFO_DESCRIPTION,)))
        descriptions = [r.data[2:] for r in replies
                        if r.type == w.REP_INFO
                        and r.data[:2] == b"\0\x02"]
        self.assertIn(descriptions, ([], [b"first disk"]))
        ro = self.connect(daemon.nbd_address, "ro")
        self.assertEqual(ro.write(0, b"x").error, w.EPERM)
        # Already running from the command line.
        self.assert_error(qmp, "nbd-server-start",
                          addr={"type": "unix",
                                "data": {"path": self.path("x.sock")}})

    def test_command_line_inet(self) -> None:
        daemon = self.daemon_with_disks((
            "--nbd-server",
            "addr.type=inet,addr.host=127.0.0.1,addr.port=0,"
            "max-connections=8",
            "--export", "nbd,id=t0,node-name=disk2"))
        assert daemon.nbd_address is not None
        self.assertRegex(daemon.nbd_address, r"^tcp:127\.0\.0\.1:[1-9]\d*$")
        conn = self.connect(daemon.nbd_address, "disk2")
        self.assertEqual(conn.read(0, 4).data, b"CCCC")

    def test_max_connections(self) -> None:
        """max-connections=1: a second client is closed before the greeting
        while the first is connected; once it has gone, one is served."""
        daemon = self.daemon_with_disks((
            "--nbd-server", f"addr.type=unix,addr.path={self.path('m.sock')},"
            "max-connections=1",
            "--export", "nbd,id=m0,node-name=disk0"))
        assert daemon.nbd_address is not None
        first = self.connect(daemon.nbd_address, "disk0")
        with self.assertRaises(w.Closed):
            w.NbdClient(daemon.nbd_address).close()
        first.disconnect()
        self.assertTrue(first.wait_closed())
        address = daemon.nbd_address
        conn = self.once_noticed(lambda: self.connect(address, "disk0"),
                                 w.Closed)
        self.assertEqual(conn.read(0, 2).data, b"AA")

    def test_command_line_nbd_tcp(self) -> None:
        daemon = self.daemon_with_disks((
            "--nbd", "tcp:127.0.0.1:0",
            "--export", "nbd,id=t0,node-name=disk1,writable=on"))
        assert daemon.nbd_address is not None
        self.assertRegex(daemon.nbd_address, r"^tcp:127\.0\.0\.1:[1-9]\d*$")
        conn = self.connect(daemon.nbd_address, "disk1")
        self.assertEqual(conn.write(0, b"tcp").error, 0)
        self.assertEqual(conn.read(0, 3).data, b"tcp")

    def test_sigterm_after_nbd_traffic_exits_cleanly(self) -> None:
        """Regression: the NBD server's thread once had SIGTERM unblocked,
        so the signal killed the daemon instead of stopping it."""
        daemon = self.daemon_with_disks((
            "--nbd", f"unix:{self.path('s.sock')}",
            "--export", "nbd,id=s0,node-name=disk0,writable=on"))
        assert daemon.nbd_address is not None
        conn = self.connect(daemon.nbd_address, "disk0")
        for i in range(16):
            self.assertEqual(conn.write(i * 4096, b"q" * 4096).error, 0)
        daemon.proc.send_signal(signal.SIGTERM)
        _, err = daemon.proc.communicate(timeout=TIMEOUT)
        self.assertEqual(daemon.proc.returncode, 0, err)
        with open(self.path("disk0.raw"), "rb") as f:
            self.assertEqual(f.read(4096 * 16), b"q" * 4096 * 16)


if __name__ == "__main__":
    harness_main()
