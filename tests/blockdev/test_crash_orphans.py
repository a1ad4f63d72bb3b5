# SPDX-License-Identifier: MIT
"""kill -9 during group snapshots, many times: after every restart no
overlay is left that no chain uses (an orphan of a group that never
committed), and every chain passes `qemu-img check`.

Each run starts qapikit-blockd with --state on the same drives, sends
blockdev-group-snapshot-sync of every device back to back, and kills
the daemon at a random moment (seeded; the seed is printed, and
QAPIKIT_CRASH_SEED replays it).  The restart reads the journal and
removes what the interrupted group created.  Every EPOCH runs the disks
start afresh, so that chains stay shorter than the depth limit.
QAPIKIT_CRASH_RUNS sets the number of runs (default 100).

Counts only: nothing here depends on how long anything takes.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import socket
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import (TIMEOUT, BlockdTestCase,  # noqa: E402
                            have_qemu_img, qemu_img)


RUNS = int(os.environ.get("QAPIKIT_CRASH_RUNS", "100"))
EPOCH = 20
DEVICES = 4
# The kill comes this long after the first request, at most.
MAX_DELAY = 0.03


class Snapshotter:
    """Group snapshots back to back on a raw socket, without waiting in
    Python for anything but the daemon's replies."""

    def __init__(self, path: str, workdir: str, tag: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buffer = b""
        self.workdir = workdir
        self.tag = tag
        self.sent = 0
        self.committed = 0
        self._read_line()                       # greeting
        self.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
        self._read_line()

    def _read_line(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def send_group(self) -> None:
        self.sent += 1
        devlist = [{"device": f"disk{d}",
                    "snapshot-file": os.path.join(
                        self.workdir, f"{self.tag}-g{self.sent}-d{d}.qcow2")}
                   for d in range(DEVICES)]
        request = {"execute": "blockdev-group-snapshot-sync",
                   "arguments": {"devlist": devlist}, "id": self.sent}
        self.sock.sendall(json.dumps(request).encode() + b"\n")

    def run_until(self, deadline: float) -> None:
        """Keep one group in flight until DEADLINE (monotonic)."""
        self.send_group()
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [],
                                        max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            self.buffer += chunk
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                message = json.loads(line)
                if "event" in message:
                    continue
                if "error" in message:
                    raise AssertionError(f"group failed: {message}")
                self.committed += 1
                self.send_group()

    def close(self) -> None:
        self.sock.close()


class CrashTest(BlockdTestCase):

    def chain(self, top: str) -> list[str]:
        info = qemu_img("info", "-U", "--backing-chain", "--output=json", top)
        self.assertEqual(info.returncode, 0, info.stderr)
        return [image["filename"] for image in json.loads(info.stdout)]

    def check_epoch(self, client_tops: dict[str, tuple[str, int]],
                    workdir: str) -> int:
        """Every overlay in WORKDIR is in a chain, every chain is clean;
        returns how many overlays the chains hold."""
        in_chains: set[str] = set()
        for device, (top, depth) in client_tops.items():
            chain = self.chain(top)
            self.assertEqual(len(chain), depth + 1, device)
            in_chains.update(chain)
            if not depth:
                continue                        # the raw drive itself
            check = qemu_img("check", "-U", top)
            self.assertEqual(check.returncode, 0,
                             f"{device}: {check.stdout}{check.stderr}")
        overlays = {os.path.join(workdir, name)
                    for name in os.listdir(workdir) if name.endswith(".qcow2")}
        self.assertEqual(sorted(overlays - in_chains), [],
                         "orphans: overlays that no chain uses")
        return len(overlays)

    def test_kill_during_groups(self) -> None:
        if not have_qemu_img():
            self.skipTest("qemu-img is not installed")
        seed = int(os.environ.get("QAPIKIT_CRASH_SEED",
                                  str(random.randrange(1 << 32))))
        print(f"seed {seed} (QAPIKIT_CRASH_SEED replays it), {RUNS} runs",
              flush=True)
        rng = random.Random(seed)
        committed = overlays = interrupted = 0
        for epoch in range(0, RUNS, EPOCH):
            workdir = self.path(f"epoch{epoch}")
            os.mkdir(workdir)
            drives = []
            for d in range(DEVICES):
                path = os.path.join(workdir, f"disk{d}.raw")
                with open(path, "wb") as f:
                    f.write(bytes([0x41 + d]) * (1 << 20))
                drives.append((f"disk{d}", path, "raw"))
            state = os.path.join(workdir, "state")
            for run in range(epoch, min(epoch + EPOCH, RUNS)):
                daemon = self.start(drives, state=state)
                # The restart cleaned up after the previous kill.
                tops = self.tops(daemon.client())
                self.check_epoch(tops, workdir)
                snapshotter = Snapshotter(daemon.socket_path, workdir,
                                          f"r{run}")
                snapshotter.run_until(time.monotonic()
                                      + rng.uniform(0, MAX_DELAY))
                daemon.proc.send_signal(signal.SIGKILL)
                daemon.stop()
                self.daemons.remove(daemon)
                snapshotter.close()
                committed += snapshotter.committed
                interrupted += snapshotter.sent > snapshotter.committed
            daemon = self.start(drives, state=state)
            overlays += self.check_epoch(self.tops(daemon.client()), workdir)
            daemon.stop()
            self.daemons.remove(daemon)
        print(f"{RUNS} kills, {interrupted} with a group in flight; "
              f"{committed} groups replied; {overlays} overlays in chains; "
              f"0 orphans", flush=True)
        self.assertGreater(interrupted, 0)


if __name__ == "__main__":
    harness_main()
