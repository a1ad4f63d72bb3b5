#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kill -9 while NBD clients write with FLUSH and FUA
(docs/spec/data-path.md §5).

RUNS times (QAPIKIT_CRASH_RUNS, default 50; QAPIKIT_CRASH_SEED replays
one): the daemon starts on the same drives and state directory, two
clients write fresh numbered 4 KiB blocks to two qcow2 devices (one in
four with FUA, a FLUSH every eight requests), a group snapshot of both
devices is sometimes sent, and the daemon is killed with SIGKILL at a
random moment.  Then every qcow2 file passes `qemu-img check`, and after
the restart every write that was durable (acknowledged with FUA, or
acknowledged before a FLUSH whose reply came) reads back through NBD.

`qemu-img check` passes with exit 0, or 3 when the only findings are
leaked clusters: a crash between a cluster's allocation and the write
that references it leaves the cluster counted but unused
(docs/spec/qcow2-format.md §5: harmless, `qemu-img check -r leaks`
reclaims it); corruption (exit 2) or anything else fails.
"""

from __future__ import annotations

import os
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nbd"))

from blockd_harness import QmpClient, BlockdTestCase, TIMEOUT, main  # noqa: E402
from nbd_wire import CMD_FLUSH, NbdClient  # noqa: E402

BLOCK = 4096
DEVICES = 2
DISK_SIZE = 64 << 20
FLAG_FUA = 1
LINE = re.compile(r"^qapikit-blockd: (QMP|NBD) on unix:(\S+)$")


def pattern(device: int, seq: int) -> bytes:
    return struct.pack(">II", device + 1, seq + 1) * (BLOCK // 8)


class Writer(threading.Thread):
    """Writes fresh blocks FIRST, FIRST+1, ... of one device."""

    def __init__(self, nbd: str, device: int, first: int, limit: int,
                 rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.nbd = nbd
        self.device = device
        self.next = first
        self.limit = limit
        self.rng = rng
        self.durable: list[int] = []   # block numbers known durable
        self.acked: list[int] = []     # acknowledged, not yet flushed

    def run(self) -> None:
        client: Optional[NbdClient] = None
        try:
            client = NbdClient(f"unix:{self.nbd}")
            client.open(f"disk{self.device}", structured=False)
            count = 0
            while self.next < self.limit:
                count += 1
                if count % 8 == 0:
                    if client.call(CMD_FLUSH).error == 0:
                        self.durable += self.acked
                        self.acked = []
                    continue
                block = self.next
                fua = self.rng.random() < 0.25
                reply = client.write(block * BLOCK, pattern(self.device, block),
                                     FLAG_FUA if fua else 0)
                self.next += 1
                if reply.error:
                    return
                (self.durable if fua else self.acked).append(block)
        except Exception:
            # The daemon was killed under us: what was durable stays so.
            return
        finally:
            if client:
                client.close()


class NbdCrashTest(BlockdTestCase):
    def start_daemon(self, images: list[str], state: str
                     ) -> tuple[subprocess.Popen[str], str, str]:
        qmp = self.path("qmp.sock")
        nbd = self.path("nbd.sock")
        args = [self.binary, "--qmp", f"unix:{qmp}", "--nbd", f"unix:{nbd}",
                "--state", state]
        for i, image in enumerate(images):
            args += ["--drive", f"id=disk{i},file={image},format=qcow2",
                     "--export", f"nbd,id=e{i},node-name=disk{i},writable=on"]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for _ in range(2):
            line = proc.stdout.readline()
            if not LINE.match(line.strip()):
                proc.kill()
                raise AssertionError(f"daemon did not start: {line!r} "
                                     f"{proc.communicate(timeout=TIMEOUT)!r}")
        return proc, qmp, nbd

    def check_images(self) -> tuple[int, int]:
        """qemu-img check every qcow2 file: (checked, with leaks only)."""
        checked = leaky = 0
        for name in sorted(os.listdir(self.workdir)):
            if not name.endswith(".qcow2"):
                continue
            result = subprocess.run(["qemu-img", "check", self.path(name)],
                                    capture_output=True, text=True,
                                    timeout=TIMEOUT)
            self.assertIn(result.returncode, (0, 3),
                          f"{name}: {result.stdout}{result.stderr}")
            checked += 1
            leaky += result.returncode == 3
        return checked, leaky

    def test_kill_during_writes(self) -> None:
        runs = int(os.environ.get("QAPIKIT_CRASH_RUNS", "50"))
        seed = int(os.environ.get("QAPIKIT_CRASH_SEED",
                                  str(random.randrange(1 << 30))))
        print(f"seed {seed} (QAPIKIT_CRASH_SEED replays it), {runs} runs")
        rng = random.Random(seed)
        images = []
        for i in range(DEVICES):
            image = self.path(f"disk{i}.qcow2")
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", image,
                            str(DISK_SIZE)], check=True, timeout=TIMEOUT)
            images.append(image)
        state = self.path("state")
        per_run = DISK_SIZE // BLOCK // runs
        durable: list[list[int]] = [[] for _ in range(DEVICES)]
        snapshots = checked_images = leaky_images = verified = 0
        proc: Optional[subprocess.Popen[str]] = None
        for run in range(runs):
            proc, qmp_path, nbd_path = self.start_daemon(images, state)
            # What earlier runs made durable reads back after the restart.
            for d in range(DEVICES):
                if not durable[d]:
                    continue
                client = NbdClient(f"unix:{nbd_path}")
                client.open(f"disk{d}", structured=False)
                sample = durable[d][-per_run:] + rng.sample(
                    durable[d], min(20, len(durable[d])))
                for block in sample:
                    reply = client.read(block * BLOCK, BLOCK)
                    self.assertEqual(reply.error, 0)
                    self.assertEqual(reply.data, pattern(d, block),
                                     f"run {run}: disk{d} block {block}, "
                                     "durable before the kill, is lost")
                    verified += 1
                client.disconnect()
                client.close()
            writers = [Writer(nbd_path, d, run * per_run,
                              (run + 1) * per_run, random.Random(rng.random()))
                       for d in range(DEVICES)]
            for w in writers:
                w.start()
            time.sleep(rng.uniform(0.01, 0.2))
            if rng.random() < 0.4:
                qmp = QmpClient(qmp_path)
                devlist = [{"device": f"disk{d}",
                            "snapshot-file": self.path(f"disk{d}.r{run}.qcow2")}
                           for d in range(DEVICES)]
                qmp.sock.sendall(
                    b'{"execute": "blockdev-group-snapshot-sync", '
                    b'"arguments": {"devlist": ' + repr(devlist).replace(
                        "'", '"').encode() + b"}}\r\n")
                snapshots += 1
                time.sleep(rng.uniform(0, 0.01))
                qmp.close()
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=TIMEOUT)
            for w in writers:
                w.join(TIMEOUT)
                durable[w.device] += w.durable
            checked, leaky = self.check_images()
            checked_images += checked
            leaky_images += leaky
        total = sum(len(d) for d in durable)
        print(f"{runs} kills, {snapshots} with a group snapshot sent; "
              f"{total} durable writes, {verified} read back after restarts; "
              f"{checked_images} qemu-img checks without corruption "
              f"({leaky_images} with leaked clusters only)")


if __name__ == "__main__":
    main()
