# SPDX-License-Identifier: MIT
"""Image locks compatible with QEMU's (docs/spec/data-path.md §4), both
ways, against the real qemu-img, qemu-io and qemu-storage-daemon and a
second qapikit-blockd:

- an image qapikit-blockd writes: `qemu-img info` fails with QEMU's own
  message and works with -U; QEMU cannot open it for writing;
- its backing images: readable by QEMU, never writable;
- an image qemu-storage-daemon (or another qapikit-blockd) writes:
  qapikit-blockd refuses it as a --drive, read-only or not, and as a
  snapshot target, with OpenFileFailed naming the lock;
- locks move with the pivot: the old top becomes readable by others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import (TIMEOUT, BlockdTestCase,  # noqa: E402
                            have_qemu_img, qemu_img)

WRITE_LOCK = 'Failed to get "write" lock'
SHARED_WRITE_LOCK = 'Failed to get shared "write" lock'


def qemu_io(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["qemu-io", *args], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


class LockingTest(BlockdTestCase):

    def setUp(self) -> None:
        super().setUp()
        if not have_qemu_img() or not shutil.which("qemu-io"):
            self.skipTest("qemu-img and qemu-io are not installed")
        self.qsd: list[subprocess.Popen[str]] = []

    def tearDown(self) -> None:
        for proc in self.qsd:
            proc.kill()
            proc.communicate()
        super().tearDown()

    def start_qsd(self, image: str, fmt: str) -> None:
        """qemu-storage-daemon with IMAGE open for writing (a writable NBD
        export, so that the write permission is taken)."""
        binary = shutil.which("qemu-storage-daemon")
        if not binary:
            self.skipTest("qemu-storage-daemon is not installed "
                          "(Debian: qemu-system-common)")
        nbd = self.path(f"qsd{len(self.qsd)}.sock")
        proc = subprocess.Popen(
            [binary,
             "--blockdev", f"driver=file,node-name=file0,filename={image}",
             "--blockdev", f"driver={fmt},node-name=fmt0,file=file0",
             "--nbd-server", f"addr.type=unix,addr.path={nbd}",
             "--export", "type=nbd,id=exp0,node-name=fmt0,writable=on"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.qsd.append(proc)
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(nbd):         # listening: the image is open
            if proc.poll() is not None:
                _, err = proc.communicate()
                raise AssertionError(f"qemu-storage-daemon failed: {err}")
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)

    def failing_start(self, *args: str) -> str:
        """qapikit-blockd with ARGS must not start: its stderr."""
        proc = subprocess.run(
            [self.binary, "--qmp", f"unix:{self.path('fail.sock')}", *args],
            capture_output=True, text=True, timeout=TIMEOUT, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        return proc.stderr

    def make_qcow2(self, name: str) -> str:
        path = self.path(name)
        made = qemu_img("create", "-q", "-f", "qcow2", path, "1M")
        self.assertEqual(made.returncode, 0, made.stderr)
        return path

    def test_qemu_sees_our_locks(self) -> None:
        # qemu-img info refuses a qcow2 image in use (for raw, QEMU's own
        # readers do not mind a writer; its writers still do).
        qcow2 = self.make_qcow2("disk0.qcow2")
        raw1 = self.make_raw("disk1.raw", 0x42)
        daemon = self.start([("disk0", qcow2, "qcow2"), ("disk1", raw1, "raw")])
        client = daemon.client()

        info = qemu_img("info", qcow2)
        self.assertEqual(info.returncode, 1)
        self.assertIn(SHARED_WRITE_LOCK, info.stderr)
        self.assertEqual(qemu_img("info", "-U", qcow2).returncode, 0)
        for image, fmt in ((qcow2, "qcow2"), (raw1, "raw")):
            write = qemu_io("-f", fmt, "-c", "write 0 512", image)
            self.assertNotEqual(write.returncode, 0)
            self.assertIn(WRITE_LOCK, write.stderr + write.stdout)

        # After a snapshot the old top is a backing image: readable by
        # others, writable by nobody; the overlay is held for writing.
        overlay = self.path("disk1.s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk1",
                       **{"snapshot-file": overlay})
        self.assertEqual(qemu_img("info", raw1).returncode, 0)
        write = qemu_io("-f", "raw", "-c", "write 0 512", raw1)
        self.assertNotEqual(write.returncode, 0)
        self.assertIn(WRITE_LOCK, write.stderr + write.stdout)
        info = qemu_img("info", overlay)
        self.assertIn(SHARED_WRITE_LOCK, info.stderr)

        # qemu-storage-daemon cannot take an image we write.
        binary = shutil.which("qemu-storage-daemon")
        if binary:
            qsd = subprocess.run(
                [binary, "--blockdev",
                 f"driver=file,node-name=f,filename={qcow2}",
                 "--blockdev", "driver=qcow2,node-name=q,file=f"],
                capture_output=True, text=True, timeout=TIMEOUT, check=False)
            self.assertNotEqual(qsd.returncode, 0)
            self.assertIn(WRITE_LOCK, qsd.stderr)

        # Once the daemon is gone, so are its locks.
        self.assertEqual(daemon.stop(), 0)
        self.assertEqual(qemu_img("info", overlay).returncode, 0)

    def test_we_respect_qemu_locks(self) -> None:
        image = self.make_qcow2("held.qcow2")
        self.start_qsd(image, "qcow2")
        for options, message in (("", WRITE_LOCK),
                                 (",read-only=on", SHARED_WRITE_LOCK)):
            with self.subTest(options=options):
                stderr = self.failing_start(
                    "--drive", f"id=disk0,file={image}{options}")
                self.assertIn(message, stderr)
                self.assertIn(image, stderr)

        # As a snapshot target in mode 'existing'.
        drives = self.make_disks(1)
        daemon = self.start(drives)
        client = daemon.client()
        target = self.path("target.qcow2")
        made = qemu_img("create", "-q", "-f", "qcow2", "-b", drives[0][1],
                        "-F", "raw", target)
        self.assertEqual(made.returncode, 0, made.stderr)
        self.start_qsd(target, "qcow2")
        reply = client.request("blockdev-snapshot-sync", device="disk0",
                               mode="existing",
                               **{"snapshot-file": target})
        self.assertEqual(reply["error"]["class"], "OpenFileFailed")
        self.assertIn(WRITE_LOCK, reply["error"]["desc"])
        self.assertEqual(self.tops(client), {"disk0": (drives[0][1], 0)})

    def test_two_daemons(self) -> None:
        drives = self.make_disks(1)
        self.start(drives)
        stderr = self.failing_start("--drive", f"id=other,file={drives[0][1]}")
        self.assertIn(WRITE_LOCK, stderr)
        stderr = self.failing_start(
            "--drive", f"id=other,file={drives[0][1]},read-only=on")
        self.assertIn(SHARED_WRITE_LOCK, stderr)


if __name__ == "__main__":
    harness_main()
