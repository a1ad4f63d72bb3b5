# SPDX-License-Identifier: MIT
"""Group snapshots over QMP through the real daemon (docs/spec/qcow2-format.md
§11).

Groups of 1, 2 and 16 devices with each of the three commands; every
failure class with its reply, and after each failure: every device on
its old image, no new file, old files byte-identical, and a retry that
succeeds; writes after a snapshot land in the overlay while the old
image stays unchanged; the event reaches another client; --state
survives a restart.  qemu-img and qemu-io are the oracle when installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import (DISK_SIZE, BlockdTestCase, QmpClient,
                            dir_digest, have_qemu_img, qemu_img, sha256)



class GroupSnapshotTest(BlockdTestCase):

    def group(self, client: QmpClient, count: int, suffix: str) -> list[str]:
        files = [self.path(f"disk{i}.{suffix}.qcow2") for i in range(count)]
        client.execute("blockdev-group-snapshot-sync", devlist=[
            {"device": f"disk{i}", "snapshot-file": files[i]}
            for i in range(count)])
        return files

    def check_overlays(self, files: list[str], backing: list[str]) -> None:
        for overlay, old in zip(files, backing):
            self.assertEqual(os.path.getsize(overlay), 196616)
            if not have_qemu_img():
                continue
            check = qemu_img("check", "-U", overlay)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
            info = qemu_img("info", "-U", "--backing-chain", overlay)
            self.assertEqual(info.returncode, 0, info.stderr)
            self.assertIn(f"backing file: {old}", info.stdout)
            compare = qemu_img("compare", "-U", "-q", overlay, old)
            self.assertEqual(compare.returncode, 0, compare.stderr)

    def run_group(self, count: int) -> None:
        drives = self.make_disks(count)
        daemon = self.start(drives)
        client = daemon.client()
        watcher = daemon.client()
        files = self.group(client, count, "s1")
        tops = self.tops(client)
        for i in range(count):
            self.assertEqual(tops[f"disk{i}"], (files[i], 1))
        self.check_overlays(files, [path for _, path, _ in drives])
        event = watcher.wait_event("BLOCK_SNAPSHOT_GROUP")
        self.assertEqual(event["data"], {"devices": [
            {"device": f"disk{i}", "snapshot-file": files[i],
             "format": "qcow2"} for i in range(count)]})
        # A second group stacks another overlay on each.
        files2 = self.group(client, count, "s2")
        tops = self.tops(client)
        for i in range(count):
            self.assertEqual(tops[f"disk{i}"], (files2[i], 2))
        self.check_overlays(files2, files)

    def test_group_1(self) -> None:
        self.run_group(1)

    def test_group_2(self) -> None:
        self.run_group(2)

    def test_group_16(self) -> None:
        self.run_group(16)

    def test_single_and_transaction(self) -> None:
        daemon = self.start(self.make_disks(2))
        client = daemon.client()
        s0 = self.path("disk0.s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": s0, "format": "qcow2"})
        t0 = self.path("disk0.t1.qcow2")
        t1 = self.path("disk1.t1.qcow2")
        client.execute("transaction", actions=[
            {"type": "blockdev-snapshot-sync",
             "data": {"device": "disk0", "snapshot-file": t0}},
            {"type": "blockdev-snapshot-sync",
             "data": {"device": "disk1", "snapshot-file": t1,
                      "format": "qcow2", "mode": "absolute-paths"}}])
        self.assertEqual(self.tops(client),
                         {"disk0": (t0, 2), "disk1": (t1, 1)})
        self.assertEqual(client.execute("transaction", actions=[]), {})
        self.assertEqual(self.tops(client),
                         {"disk0": (t0, 2), "disk1": (t1, 1)})

    def test_query_block_shape(self) -> None:
        daemon = self.start(self.make_disks(1))
        client = daemon.client()
        s1 = self.path("disk0.s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": s1})
        [info] = client.execute("query-block")
        self.assertEqual(sorted(info), ["device", "inserted", "io-status",
                                        "locked", "removable", "type"])
        inserted = info["inserted"]
        self.assertEqual(inserted["backing_file"], self.path("disk0.raw"))
        self.assertEqual(inserted["cache"], {"writeback": True,
                                             "direct": False,
                                             "no-flush": False})
        image = inserted["image"]
        self.assertEqual(image["virtual-size"], DISK_SIZE)
        self.assertEqual(image["backing-filename-format"], "raw")
        self.assertEqual(image["backing-image"]["format"], "raw")
        self.assertNotIn("backing-image", image["backing-image"])


class ExistingModeTest(BlockdTestCase):

    def test_qemu_img_overlay(self) -> None:
        if not have_qemu_img():
            self.skipTest("qemu-img is not installed")
        drives = self.make_disks(2)
        daemon = self.start(drives)
        client = daemon.client()
        base = drives[0][1]
        made = self.path("made.qcow2")
        wrong = self.path("wrong.qcow2")
        for path, backing in [(made, base), (wrong, drives[1][1])]:
            result = qemu_img("create", "-q", "-f", "qcow2", "-b", backing,
                              "-F", "raw", path)
            self.assertEqual(result.returncode, 0, result.stderr)
        before = sha256(wrong)
        reply = client.request("blockdev-snapshot-sync", device="disk0",
                               mode="existing", **{"snapshot-file": wrong})
        self.assertEqual(reply["error"]["class"], "OpenFileFailed")
        self.assertIn(wrong, reply["error"]["desc"])
        self.assertEqual(sha256(wrong), before)
        self.assertTrue(os.path.exists(wrong))
        before = sha256(made)
        client.execute("blockdev-snapshot-sync", device="disk0",
                       mode="existing", **{"snapshot-file": made})
        self.assertEqual(self.tops(client)["disk0"], (made, 1))
        self.assertEqual(sha256(made), before)


class FailureTest(BlockdTestCase):
    """Each failure class; nothing changes; a retry succeeds."""

    def setUp(self) -> None:
        super().setUp()
        self.drives = self.make_disks(3)
        self.daemon = self.start(self.drives)
        self.client = self.daemon.client()
        self.watcher = self.daemon.client()
        self.existing = self.path("notes.txt")
        with open(self.existing, "w") as f:
            f.write("keep me\n" * 2000)

    def expect_failure(self, command: str, error_class: str,
                       desc_parts: list[str], **arguments: Any) -> None:
        tops = self.tops(self.client)
        digest = dir_digest(self.workdir)
        reply = self.client.request(command, **arguments)
        self.assertIn("error", reply, reply)
        self.assertEqual(reply["error"]["class"], error_class)
        for part in desc_parts:
            self.assertIn(part, reply["error"]["desc"])
        self.assertEqual(self.tops(self.client), tops)
        self.assertEqual(dir_digest(self.workdir), digest)
        # A reply to the watcher comes after any event sent before it.
        self.watcher.execute("query-block")
        self.assertEqual(self.watcher.events, [])

    def devlist(self, *entries: tuple[str, str]) -> list[dict[str, str]]:
        return [{"device": d, "snapshot-file": f} for d, f in entries]

    def retry(self) -> None:
        files = [self.path(f"disk{i}.ok.qcow2") for i in range(3)]
        self.client.execute("blockdev-group-snapshot-sync", devlist=[
            {"device": f"disk{i}", "snapshot-file": files[i]}
            for i in range(3)])
        self.assertEqual(self.tops(self.client),
                         {f"disk{i}": (files[i], 1) for i in range(3)})
        event = self.watcher.wait_event("BLOCK_SNAPSHOT_GROUP")
        self.assertEqual(len(event["data"]["devices"]), 3)

    def test_device_not_found(self) -> None:
        self.expect_failure(
            "blockdev-group-snapshot-sync", "DeviceNotFound", ["'nope'"],
            devlist=self.devlist((("disk0", self.path("a.qcow2"))),
                                 ("nope", self.path("b.qcow2"))))
        self.retry()

    def test_device_twice(self) -> None:
        self.expect_failure(
            "blockdev-group-snapshot-sync", "DeviceInUse", ["disk1"],
            devlist=self.devlist(("disk1", self.path("a.qcow2")),
                                 ("disk1", self.path("b.qcow2"))))
        self.retry()

    def test_file_twice(self) -> None:
        target = self.path("a.qcow2")
        self.expect_failure(
            "blockdev-group-snapshot-sync", "OpenFileFailed",
            ["disk1", target],
            devlist=self.devlist(("disk0", target), ("disk1", target)))
        self.retry()

    def test_format(self) -> None:
        for fmt in ["raw", "vmdk"]:
            self.expect_failure(
                "blockdev-group-snapshot-sync", "InvalidBlockFormat",
                ["disk0"],
                devlist=[{"device": "disk0", "format": fmt,
                          "snapshot-file": self.path("a.qcow2")}])
        self.retry()

    def test_existing_file_not_overwritten(self) -> None:
        self.expect_failure(
            "blockdev-group-snapshot-sync", "OpenFileFailed",
            ["disk2", self.existing, "already exists"],
            devlist=self.devlist(("disk0", self.path("a.qcow2")),
                                 ("disk2", self.existing)))
        self.retry()

    def test_image_in_use(self) -> None:
        base = self.drives[1][1]
        self.expect_failure(
            "blockdev-snapshot-sync", "OpenFileFailed", ["disk0", base],
            **{"device": "disk0", "snapshot-file": base,
               "mode": "existing"})
        self.retry()

    def test_missing_directory_last(self) -> None:
        missing = self.path("no-such-dir/c.qcow2")
        self.expect_failure(
            "blockdev-group-snapshot-sync", "OpenFileFailed",
            ["disk2", missing],
            devlist=self.devlist(("disk0", self.path("a.qcow2")),
                                 ("disk1", self.path("b.qcow2")),
                                 ("disk2", missing)))
        self.retry()

    def test_abort_after_two(self) -> None:
        self.expect_failure(
            "transaction", "GenericError", ["abort"],
            actions=[{"type": "blockdev-snapshot-sync",
                      "data": {"device": "disk0",
                               "snapshot-file": self.path("a.qcow2")}},
                     {"type": "blockdev-snapshot-sync",
                      "data": {"device": "disk1",
                               "snapshot-file": self.path("b.qcow2")}},
                     {"type": "abort", "data": {}}])
        self.retry()

    def test_unknown_action(self) -> None:
        self.expect_failure(
            "transaction", "GenericError", [],
            actions=[{"type": "blockdev-snapshot-sync",
                      "data": {"device": "disk0",
                               "snapshot-file": self.path("a.qcow2")}},
                     {"type": "drive-mirror", "data": {}}])
        self.retry()


class WriteAfterSnapshotTest(BlockdTestCase):

    def test_writes_land_in_overlay(self) -> None:
        if not shutil.which("qemu-io"):
            self.skipTest("qemu-io is not installed")
        drives = self.make_disks(2)
        daemon = self.start(drives)
        client = daemon.client()
        before = [sha256(path) for _, path, _ in drives]
        overlay = self.path("disk1.s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk1",
                       **{"snapshot-file": overlay})
        # The daemon holds the overlay for writing: qemu-io may write it
        # once the daemon has stopped.
        self.assertEqual(daemon.stop(), 0)
        io = subprocess.run(
            ["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 4096 65536",
             overlay], capture_output=True, text=True, check=False)
        self.assertEqual(io.returncode, 0, io.stderr)
        read = subprocess.run(
            ["qemu-io", "-f", "qcow2", "-c", "read -P 0x5a 4096 65536",
             "-c", "read -P 0x42 0 4096", overlay],
            capture_output=True, text=True, check=False)
        self.assertEqual(read.returncode, 0, read.stderr)
        self.assertNotIn("Pattern verification failed", read.stdout)
        self.assertEqual([sha256(path) for _, path, _ in drives], before)


# What a state directory holds (docs/snapshots.md).
STATE_FILES = ["blockd-journal", "blockd-state.json", "blockd-state.lock"]


class StateTest(BlockdTestCase):

    def test_restart_reopens_chains(self) -> None:
        drives = self.make_disks(2)
        state = self.path("state")
        daemon = self.start(drives, state=state)
        client = daemon.client()
        with self.assertRaises(AssertionError):
            self.start(drives, state=state)     # one daemon per directory
        s1 = [self.path(f"disk{i}.s1.qcow2") for i in range(2)]
        client.execute("blockdev-group-snapshot-sync", devlist=[
            {"device": f"disk{i}", "snapshot-file": s1[i]}
            for i in range(2)])
        s2 = self.path("disk0.s2.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": s2})
        tops = self.tops(client)
        self.assertEqual(tops, {"disk0": (s2, 2), "disk1": (s1[1], 1)})
        self.assertEqual(daemon.stop(), 0)
        self.daemons.remove(daemon)

        again = self.start(drives, state=state)
        self.assertEqual(self.tops(again.client()), tops)

    def test_kill_after_reply(self) -> None:
        """SIGKILL right after the reply: the state already names the
        new tops (it was durable before the reply)."""
        drives = self.make_disks(1)
        state = self.path("state")
        daemon = self.start(drives, state=state)
        client = daemon.client()
        s1 = self.path("disk0.s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": s1})
        daemon.proc.kill()
        daemon.stop()
        self.daemons.remove(daemon)
        self.assertEqual(sorted(os.listdir(state)), STATE_FILES)
        again = self.start(drives, state=state)
        self.assertEqual(self.tops(again.client()), {"disk0": (s1, 1)})

    def test_failed_group_keeps_state(self) -> None:
        drives = self.make_disks(2)
        state = self.path("state")
        daemon = self.start(drives, state=state)
        client = daemon.client()
        state_file = os.path.join(state, "blockd-state.json")
        before = sha256(state_file)
        reply = client.request("transaction", actions=[
            {"type": "blockdev-snapshot-sync",
             "data": {"device": "disk0",
                      "snapshot-file": self.path("a.qcow2")}},
            {"type": "abort", "data": {}}])
        self.assertEqual(reply["error"]["class"], "GenericError")
        self.assertEqual(sha256(state_file), before)
        self.assertEqual(sorted(os.listdir(state)), STATE_FILES)
        # The undone group's journal records are gone with its files.
        self.assertEqual(os.path.getsize(os.path.join(state,
                                                      "blockd-journal")), 0)


if __name__ == "__main__":
    harness_main()
