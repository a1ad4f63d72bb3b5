#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Group snapshots of devices that NBD clients are writing
(docs/spec/data-path.md §5).

Several clients write numbered 4 KiB blocks through NBD onto several
devices without pause, each block once, while group snapshots of all the
devices are taken over QMP (every third one made to fail).  Afterwards,
with qemu-img as the oracle:

  - a write acknowledged before a snapshot command was sent is in that
    snapshot's old images; a write sent after its reply is not;
  - the old images of each snapshot are a consistent cut: no write is in
    them while a write acknowledged before it was issued, on any device,
    is missing;
  - the final chains hold every acknowledged write, and every image
    passes `qemu-img check`;
  - a failed group changes nothing (tops and files).

Times are taken from one monotonic clock in this process; nothing is
asserted about durations.
"""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import threading
import time
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nbd"))

from blockd_harness import (QmpClient, BlockdTestCase,  # noqa: E402
                            TIMEOUT, main)
from nbd_wire import NbdClient  # noqa: E402

BLOCK = 4096
DEVICES = 3
# (device index) of each writer: two writers share device 0.
WRITERS = [0, 0, 1, 2]
SNAPSHOTS = 8
DISK_SIZE = 64 << 20

LINE = re.compile(r"^qapikit-blockd: (QMP|NBD) on unix:(\S+)$")


def pattern(writer: int, seq: int) -> bytes:
    return struct.pack(">II", writer + 1, seq + 1) * (BLOCK // 8)


class Write:
    __slots__ = ("writer", "seq", "device", "offset", "issued", "acked")

    def __init__(self, writer: int, seq: int, device: int,
                 offset: int) -> None:
        self.writer = writer
        self.seq = seq
        self.device = device
        self.offset = offset
        self.issued = 0
        self.acked = 0


class Writer(threading.Thread):
    def __init__(self, index: int, device: int, slot: int, slots: int,
                 nbd: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.index = index
        self.device = device
        self.slot = slot
        self.slots = slots
        self.nbd = nbd
        self.stop_event = stop
        self.writes: list[Write] = []
        self.error: Optional[BaseException] = None

    def run(self) -> None:
        try:
            client = NbdClient(f"unix:{self.nbd}")
            client.open(f"disk{self.device}", structured=False)
            seq = 0
            while not self.stop_event.is_set():
                offset = (seq * self.slots + self.slot) * BLOCK
                if offset + BLOCK > client.size:
                    break
                w = Write(self.index, seq, self.device, offset)
                w.issued = time.monotonic_ns()
                reply = client.write(offset, pattern(self.index, seq))
                if reply.error:
                    raise AssertionError(f"write failed: {reply.error}")
                w.acked = time.monotonic_ns()
                self.writes.append(w)
                seq += 1
            client.disconnect()
            client.close()
        except BaseException as e:  # reported by the test
            self.error = e


def start_daemon(binary: str, workdir: str, images: list[str]
                 ) -> tuple[subprocess.Popen[str], str, str]:
    qmp = os.path.join(workdir, "qmp.sock")
    nbd = os.path.join(workdir, "nbd.sock")
    args = [binary, "--qmp", f"unix:{qmp}", "--nbd", f"unix:{nbd}"]
    for i, image in enumerate(images):
        args += ["--drive", f"id=disk{i},file={image},format=qcow2",
                 "--export", f"nbd,id=e{i},node-name=disk{i},writable=on"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen = set()
    while len(seen) < 2:
        line = proc.stdout.readline()
        match = LINE.match(line.strip())
        if not match:
            proc.kill()
            raise AssertionError(f"daemon did not start: {line!r} "
                                 f"{proc.communicate(timeout=TIMEOUT)!r}")
        seen.add(match.group(1))
    return proc, qmp, nbd


def stop_daemon(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return proc.returncode


def qemu_img(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qemu-img", *args], capture_output=True,
                          text=True, timeout=TIMEOUT)


class SnapshotUnderIoTest(BlockdTestCase):
    def image_bytes(self, top: str) -> bytes:
        """The guest data of the chain whose top is TOP."""
        out = self.path("read.raw")
        result = qemu_img("convert", "-O", "raw", top, out)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(out, "rb") as f:
            data = f.read()
        os.unlink(out)
        return data

    def test_snapshots_under_writes(self) -> None:
        images = []
        for i in range(DEVICES):
            image = self.path(f"disk{i}.qcow2")
            result = qemu_img("create", "-q", "-f", "qcow2", image,
                              str(DISK_SIZE))
            self.assertEqual(result.returncode, 0, result.stderr)
            images.append(image)
        proc, qmp_path, nbd_path = start_daemon(self.binary, self.workdir,
                                                images)
        stop = threading.Event()
        writers = []
        for index, device in enumerate(WRITERS):
            sharing = [i for i, d in enumerate(WRITERS) if d == device]
            writers.append(Writer(index, device, sharing.index(index),
                                  len(sharing), nbd_path, stop))
        qmp = QmpClient(qmp_path)
        tops = {f"disk{i}": images[i] for i in range(DEVICES)}
        snapshots: list[dict[str, Any]] = []
        failed = 0
        taken: set[str] = set()
        try:
            for w in writers:
                w.start()
            attempt = 0
            while len(snapshots) < SNAPSHOTS:
                attempt += 1
                time.sleep(0.05)
                devlist = [{"device": dev,
                            "snapshot-file": self.path(f"{dev}.s{attempt}.qcow2")}
                           for dev in tops]
                failing = attempt % 3 == 0
                if failing:
                    # The last target exists: the whole group fails.
                    with open(devlist[-1]["snapshot-file"], "wb") as f:
                        f.write(b"not mine")
                    taken.add(devlist[-1]["snapshot-file"])
                sent = time.monotonic_ns()
                reply = qmp.request("blockdev-group-snapshot-sync",
                                    devlist=devlist)
                replied = time.monotonic_ns()
                if failing:
                    self.assertIn("error", reply)
                    failed += 1
                    for entry in devlist[:-1]:
                        self.assertFalse(os.path.exists(entry["snapshot-file"]))
                    with open(devlist[-1]["snapshot-file"], "rb") as f:
                        self.assertEqual(f.read(), b"not mine")
                    now = {info["device"]: info["inserted"]["file"]
                           for info in qmp.execute("query-block")}
                    self.assertEqual(now, tops)
                    continue
                self.assertIn("return", reply, reply)
                snapshots.append({"sent": sent, "replied": replied,
                                  "old": dict(tops)})
                for entry in devlist:
                    tops[entry["device"]] = entry["snapshot-file"]
            time.sleep(0.05)
        finally:
            stop.set()
            for w in writers:
                w.join(TIMEOUT)
            qmp.close()
            status = stop_daemon(proc)
        for w in writers:
            self.assertIsNone(w.error, f"writer {w.index}: {w.error!r}")
        self.assertEqual(status, 0)
        writes = [x for w in writers for x in w.writes]
        self.assertGreater(len(writes), 0)

        def present(data: bytes, w: Write) -> bool:
            return data[w.offset:w.offset + BLOCK] == pattern(w.writer, w.seq)

        checked_before = checked_after = 0
        for k, snap in enumerate(snapshots):
            old = {d: self.image_bytes(snap["old"][f"disk{d}"])
                   for d in range(DEVICES)}
            inside = {id(w): present(old[w.device], w) for w in writes}
            for w in writes:
                if w.acked < snap["sent"]:
                    checked_before += 1
                    self.assertTrue(inside[id(w)],
                                    f"snapshot {k}: write {w.writer}/{w.seq} "
                                    "acknowledged before the command is not "
                                    "in the old image")
                if w.issued > snap["replied"]:
                    checked_after += 1
                    self.assertFalse(inside[id(w)],
                                     f"snapshot {k}: write {w.writer}/{w.seq} "
                                     "sent after the reply is in the old image")
            # A consistent cut: nothing in while something acknowledged
            # before it was issued is out.
            outside_acks = [w.acked for w in writes if not inside[id(w)]]
            if outside_acks:
                first_out = min(outside_acks)
                late = [w for w in writes
                        if inside[id(w)] and w.issued > first_out]
                self.assertEqual(late, [], f"snapshot {k}: not a consistent "
                                 "cut across the devices")
        # Every chain holds everything.
        for d in range(DEVICES):
            final = self.image_bytes(tops[f"disk{d}"])
            for w in writes:
                if w.device == d:
                    self.assertTrue(present(final, w),
                                    f"write {w.writer}/{w.seq} lost")
        for name in sorted(os.listdir(self.workdir)):
            if name.endswith(".qcow2") and self.path(name) not in taken:
                result = qemu_img("check", self.path(name))
                self.assertEqual(result.returncode, 0,
                                 f"{name}: {result.stdout}{result.stderr}")
        print(f"{len(writes)} writes by {len(writers)} clients on {DEVICES} "
              f"devices, {len(snapshots)} group snapshots and {failed} "
              f"failed ones; {checked_before} before-checks, "
              f"{checked_after} after-checks")


if __name__ == "__main__":
    main()
