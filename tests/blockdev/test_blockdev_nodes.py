#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Nodes at run time over QMP (docs/spec/data-path.md §3): blockdev-add in
QEMU's shapes, blockdev-del, query-named-block-nodes, exports and
snapshots of nodes by node name, and all of it back after a restart
with --state.  qemu-io and qemu-img are the oracles.
"""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blockd_harness import (BlockdTestCase, QmpError, TIMEOUT,  # noqa: E402
                            main)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=TIMEOUT)


class BlockdevNodesTest(BlockdTestCase):
    def qcow2(self, name: str, backing: str = "") -> str:
        path = self.path(name)
        args = ["qemu-img", "create", "-q", "-f", "qcow2"]
        if backing:
            args += ["-b", backing, "-F", "qcow2"]
        result = run(*args, path, "16M")
        self.assertEqual(result.returncode, 0, result.stderr)
        return path

    def qemu_io(self, target: str, *commands: str, fmt: str = "raw",
                read_only: bool = False) -> subprocess.CompletedProcess[str]:
        args = ["qemu-io", "-f", fmt] + (["-r"] if read_only else [])
        for command in commands:
            args += ["-c", command]
        return run(*args, target)

    def add(self, client, **arguments) -> None:  # type: ignore[no-untyped-def]
        client.execute("blockdev-add", **arguments)

    def error(self, client, command: str, **arguments) -> str:  # type: ignore[no-untyped-def]
        with self.assertRaises(QmpError) as cm:
            client.execute(command, **arguments)
        err = cm.exception
        self.assertEqual(err.error_class, "GenericError", err.desc)
        return err.desc

    def test_add_query_del(self) -> None:
        base = self.qcow2("base.qcow2")
        self.assertEqual(self.qemu_io(base, "write -P 0x11 0 64k",
                                      fmt="qcow2").returncode, 0)
        top = self.qcow2("top.qcow2", base)
        other = self.qcow2("other.qcow2")
        client = self.start([]).client()
        self.add(client, driver="qcow2", **{"node-name": "n0"},
                 file={"driver": "file", "filename": top})
        # A file node by name, and an image opened without its backing.
        self.add(client, driver="file", **{"node-name": "f1"}, filename=top)
        self.assertIn("already the active image", self.error(
            client, "blockdev-add", driver="qcow2", **{"node-name": "n1"},
            file="f1"))  # top.qcow2 is n0's image
        self.add(client, driver="file", **{"node-name": "f2"}, filename=other)
        self.add(client, driver="qcow2", **{"node-name": "n2"}, file="f2",
                 backing=None)
        self.assertIn("in use", self.error(client, "blockdev-del",
                                           **{"node-name": "f2"}))
        # Mistakes get GenericError naming what is wrong.
        self.assertIn("Duplicate", self.error(
            client, "blockdev-add", driver="raw", **{"node-name": "n0"},
            file={"driver": "file", "filename": other}))
        self.assertIn("vmdk", self.error(
            client, "blockdev-add", driver="vmdk", **{"node-name": "x"},
            file="f2"))
        self.assertIn("bogus", self.error(
            client, "blockdev-add", driver="qcow2", **{"node-name": "x"},
            file="f2", bogus=1))
        self.assertIn("node-name", self.error(
            client, "blockdev-add", driver="qcow2",
            file={"driver": "file", "filename": other}))
        self.assertIn("detect-zeroes", self.error(
            client, "blockdev-add", driver="qcow2", **{"node-name": "x"},
            file="f2", **{"detect-zeroes": "on"}))
        nodes = {n["node-name"]: n for n in
                 client.execute("query-named-block-nodes")}
        self.assertEqual(set(nodes), {"n0", "n2"})
        self.assertEqual(nodes["n0"]["image"]["backing-image"]["filename"],
                         base)
        self.assertNotIn("backing-image", nodes["n2"]["image"])
        flat = client.execute("query-named-block-nodes", flat=True)
        self.assertTrue(all("backing-image" not in n["image"] for n in flat))
        self.assertEqual(client.execute("query-block"), [])
        # The image is held as QEMU would hold it, until blockdev-del.
        self.assertNotEqual(run("qemu-img", "info", top).returncode, 0)
        client.execute("blockdev-del", **{"node-name": "n0"})
        client.execute("blockdev-del", **{"node-name": "n2"})
        client.execute("blockdev-del", **{"node-name": "f2"})
        self.assertEqual(run("qemu-img", "info", top).returncode, 0)
        self.assertIn("Failed to find", self.error(
            client, "blockdev-del", **{"node-name": "n0"}))

    def test_backing_node(self) -> None:
        base = self.qcow2("base.qcow2")
        self.assertEqual(self.qemu_io(base, "write -P 0x22 0 64k",
                                      fmt="qcow2").returncode, 0)
        over = self.qcow2("over.qcow2")  # records no backing file
        daemon = self.start([], extra_args=["--nbd",
                                            f"unix:{self.path('nbd.sock')}"])
        client = daemon.client()
        self.add(client, driver="qcow2", **{"node-name": "b0"},
                 file={"driver": "file", "filename": base})
        self.add(client, driver="qcow2", **{"node-name": "o0"},
                 file={"driver": "file", "filename": over}, backing="b0")
        self.assertIn("in use", self.error(client, "blockdev-del",
                                           **{"node-name": "b0"}))
        client.execute("block-export-add", type="nbd", id="e0",
                       **{"node-name": "o0"})
        uri = f"nbd+unix:///o0?socket={self.path('nbd.sock')}"
        result = self.qemu_io(uri, "read -P 0x22 0 64k", "read -P 0 64k 64k",
                              read_only=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_export_snapshot_restart(self) -> None:
        image = self.qcow2("n0.qcow2")
        state = self.path("state")
        nbd = self.path("nbd.sock")
        uri = f"nbd+unix:///n0?socket={nbd}"
        daemon = self.start([], state=state)
        client = daemon.client()
        self.add(client, driver="qcow2", **{"node-name": "n0"},
                 file={"driver": "file", "filename": image})
        client.execute("nbd-server-start",
                       addr={"type": "unix", "data": {"path": nbd}})
        client.execute("block-export-add", type="nbd", id="e0",
                       **{"node-name": "n0"}, writable=True)
        self.assertIn("in use", self.error(client, "blockdev-del",
                                           **{"node-name": "n0"}))
        self.assertEqual(self.qemu_io(uri, "write -P 0x31 0 64k").returncode,
                         0)
        s1 = self.path("n0.s1.qcow2")
        client.execute("blockdev-snapshot-sync", **{
            "node-name": "n0", "snapshot-file": s1,
            "snapshot-node-name": "s1", "format": "qcow2"})
        event = client.wait_event("BLOCK_SNAPSHOT_GROUP")
        self.assertEqual(event["data"]["devices"][0]["node-name"], "n0")
        self.assertNotIn("device", event["data"]["devices"][0])
        # The export follows the node onto its overlay.
        self.assertEqual(self.qemu_io(uri, "write -P 0x32 64k 64k").returncode,
                         0)
        s2 = self.path("n0.s2.qcow2")
        client.execute("blockdev-group-snapshot-sync", devlist=[
            {"device": "n0", "snapshot-file": s2}])
        self.assertEqual(self.qemu_io(uri, "write -P 0x33 128k 64k")
                         .returncode, 0)
        names = {n["node-name"] for n in
                 client.execute("query-named-block-nodes")}
        self.assertEqual(names, {"n0", "s1"})
        self.assertEqual(daemon.stop(), 0)

        # Everything comes back from the state directory alone.
        daemon = self.start([], state=state)
        client = daemon.client()
        self.assertEqual(client.execute("query-block-exports"), [
            {"id": "e0", "type": "nbd", "node-name": "n0",
             "shutting-down": False}])
        result = self.qemu_io(uri, "read -P 0x31 0 64k",
                              "read -P 0x32 64k 64k", "read -P 0x33 128k 64k")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        names = {n["node-name"] for n in
                 client.execute("query-named-block-nodes")}
        self.assertEqual(names, {"n0", "s1"})
        client.execute("block-export-del", id="e0")
        client.wait_event("BLOCK_EXPORT_DELETED")
        self.assertEqual(daemon.stop(), 0)
        daemon = self.start([], state=state)
        client = daemon.client()
        self.assertEqual(client.execute("query-block-exports"), [])
        self.assertEqual(daemon.stop(), 0)
        for path in (image, s1, s2):
            check = run("qemu-img", "check", path)
            self.assertEqual(check.returncode, 0, check.stdout)


if __name__ == "__main__":
    main()
