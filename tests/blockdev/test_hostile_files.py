# SPDX-License-Identifier: MIT
"""Files that are not images, and names that lead where they should not,
in every place qapikit-blockd opens or writes a file.

- Anything but a regular file or a block device (a FIFO, a socket, a
  directory, a character device) as a snapshot target in mode
  'existing', as a backing file, as a --drive file and as the image the
  state file records: refused with an error that says what it is, and
  nothing blocks (a FIFO without a writer would block an open forever).
- Snapshot targets in the state directory are refused; the state's
  temporary file is never written through a name planted there.
- Relative --drive and snapshot file names are recorded absolute, so a
  restart from another directory finds the same files.
- After a crash (kill -9) at any moment of group snapshots, the restart
  leaves no file of a group that never committed, and every chain is
  clean.

Counts and contents only; a timeout guards against hangs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import (TIMEOUT, BlockdTestCase, Daemon,  # noqa: E402
                            QmpClient, have_qemu_img, qemu_img, sha256)


# The kinds of file that are not images, each made at a path.
NOT_IMAGES: dict[str, str] = {
    "fifo": "a FIFO",
    "socket": "a socket",
    "directory": "a directory",
    "chardev": "a character device",
}


class HostileFilesTest(BlockdTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.sockets: list[socket.socket] = []

    def tearDown(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().tearDown()

    def make_not_image(self, kind: str, name: str) -> str:
        """A file of KIND at NAME in the work directory."""
        path = self.path(name)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "socket":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            self.sockets.append(sock)
        elif kind == "directory":
            os.mkdir(path)
        else:
            os.symlink("/dev/null", path)   # the open follows it
        return path

    def run_failing(self, *args: str,
                    cwd: Optional[str] = None) -> subprocess.CompletedProcess[str]:
        """Start the daemon expecting it to refuse to start."""
        sock = self.path(f"fail{self.started}.sock")
        self.started += 1
        proc = subprocess.run([self.binary, "--qmp", f"unix:{sock}", *args],
                              capture_output=True, text=True, cwd=cwd,
                              timeout=TIMEOUT, check=False)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        return proc

    def start_args(self, *args: str, cwd: Optional[str] = None) -> Daemon:
        """The daemon with ARGS after --qmp (as Daemon, for stop())."""
        self.started += 1
        daemon = Daemon.__new__(Daemon)
        daemon.socket_path = self.path(f"qmp{self.started}.sock")
        daemon.proc = subprocess.Popen(
            [self.binary, "--qmp", f"unix:{daemon.socket_path}", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
        daemon.clients = []
        assert daemon.proc.stdout is not None
        line = daemon.proc.stdout.readline()
        if "QMP on unix:" not in line:
            daemon.proc.kill()
            _, err = daemon.proc.communicate(timeout=TIMEOUT)
            raise AssertionError(f"daemon did not start: {line!r} {err!r}")
        self.daemons.append(daemon)
        return daemon

    def assert_still_serving(self, client: QmpClient) -> None:
        self.assertIn("qemu", client.execute("query-version"))

    def make_qcow2_over(self, name: str, backing: str) -> str:
        """A qcow2 image whose backing file is BACKING (not opened)."""
        path = self.path(name)
        made = qemu_img("create", "-q", "-f", "qcow2", "-u", "-b", backing,
                        "-F", "raw", path, "1M")
        self.assertEqual(made.returncode, 0, made.stderr)
        return path

    # --- files that are not images ---

    def test_existing_target(self) -> None:
        """mode 'existing': the FIFO case hung the main loop on a
        read-only device."""
        drive = self.make_raw("base.raw", 0x41)
        daemon = self.start_args("--drive",
                                 f"id=disk0,file={drive},format=raw,"
                                 "read-only=on")
        client = daemon.client()
        for kind, what in NOT_IMAGES.items():
            with self.subTest(kind=kind):
                target = self.make_not_image(kind, f"target-{kind}")
                reply = client.request("blockdev-snapshot-sync",
                                       device="disk0", mode="existing",
                                       **{"snapshot-file": target})
                self.assertEqual(reply["error"]["class"], "OpenFileFailed")
                self.assertIn(what, reply["error"]["desc"])
                self.assert_still_serving(client)
        self.assertEqual(self.tops(client), {"disk0": (drive, 0)})

    def test_drive(self) -> None:
        for kind, what in NOT_IMAGES.items():
            with self.subTest(kind=kind):
                path = self.make_not_image(kind, f"drive-{kind}")
                for mode in ("", ",read-only=on"):
                    proc = self.run_failing(
                        "--drive", f"id=disk0,file={path}{mode}")
                    self.assertIn(what, proc.stderr)

    def test_backing_file(self) -> None:
        if not have_qemu_img():
            self.skipTest("qemu-img is not installed")
        for kind, what in NOT_IMAGES.items():
            with self.subTest(kind=kind):
                backing = self.make_not_image(kind, f"backing-{kind}")
                top = self.make_qcow2_over(f"over-{kind}.qcow2", backing)
                proc = self.run_failing("--drive", f"id=disk0,file={top}")
                self.assertIn("cannot open backing file", proc.stderr)
                self.assertIn(what, proc.stderr)

    def test_state_image(self) -> None:
        """The image the state file records, and its backing file."""
        if not have_qemu_img():
            self.skipTest("qemu-img is not installed")
        drive = self.make_raw("base.raw", 0x41)
        state = self.path("state")
        daemon = self.start_args("--drive", f"id=disk0,file={drive}",
                                 "--state", state)
        daemon.stop()
        self.daemons.remove(daemon)
        state_file = os.path.join(state, "blockd-state.json")
        with open(state_file, encoding="utf-8") as f:
            good = json.load(f)
        for kind, what in NOT_IMAGES.items():
            for place in ("image", "backing"):
                with self.subTest(kind=kind, place=place):
                    bad = self.make_not_image(kind, f"state-{place}-{kind}")
                    if place == "backing":
                        bad = self.make_qcow2_over(f"state-over-{kind}.qcow2",
                                                   bad)
                    record = json.loads(json.dumps(good))
                    record["devices"][0].update(image=bad, format="qcow2"
                                                if place == "backing"
                                                else "raw")
                    with open(state_file, "w", encoding="utf-8") as f:
                        json.dump(record, f)
                    proc = self.run_failing("--drive",
                                            f"id=disk0,file={drive}",
                                            "--state", state)
                    self.assertIn("disk0: cannot reopen the image recorded",
                                  proc.stderr)
                    self.assertIn(what, proc.stderr)

    # --- the state directory ---

    def test_target_in_state_directory(self) -> None:
        """The daemon's own files are no snapshot targets, under any
        spelling: a restart afterwards still works."""
        drives = self.make_disks(1)
        state = self.path("state")
        daemon = self.start(drives, state=state)
        client = daemon.client()
        os.mkdir(os.path.join(state, "sub"))
        os.symlink(state, self.path("link-to-state"))
        os.symlink(os.path.join(state, "blockd-state.json"),
                   self.path("link-to-state-file"))
        cases = [
            ("absolute-paths", os.path.join(state, "blockd-state.json.tmp")),
            ("absolute-paths", os.path.join(state, "sub", "x.qcow2")),
            ("absolute-paths", self.path("link-to-state/x.qcow2")),
            ("absolute-paths", os.path.join(state, "..", "state", "y.qcow2")),
            ("existing", os.path.join(state, "blockd-state.json")),
            ("existing", self.path("link-to-state-file")),
        ]
        before = sha256(os.path.join(state, "blockd-state.json"))
        for mode, target in cases:
            with self.subTest(target=target):
                reply = client.request("blockdev-snapshot-sync",
                                       device="disk0", mode=mode,
                                       **{"snapshot-file": target})
                self.assertEqual(reply["error"]["class"], "OpenFileFailed")
                self.assertIn("state directory", reply["error"]["desc"])
        self.assertEqual(sha256(os.path.join(state, "blockd-state.json")),
                         before)
        self.assertEqual(sorted(os.listdir(os.path.join(state, "sub"))), [])
        s1 = self.path("s1.qcow2")
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": s1})
        self.assertEqual(daemon.stop(), 0)
        self.daemons.remove(daemon)
        again = self.start(drives, state=state)
        self.assertEqual(self.tops(again.client()), {"disk0": (s1, 1)})

    def test_planted_temp_file(self) -> None:
        """A symlink or a FIFO left at the state's temporary name is
        removed, never written through; the state file is mode 0600."""
        drives = self.make_disks(1)
        state = self.path("state")
        daemon = self.start(drives, state=state)
        client = daemon.client()
        tmp = os.path.join(state, "blockd-state.json.tmp")
        victim = self.path("victim")
        with open(victim, "w", encoding="utf-8") as f:
            f.write("keep me")
        for i, plant in enumerate(("symlink", "fifo")):
            with self.subTest(plant=plant):
                if plant == "symlink":
                    os.symlink(victim, tmp)
                else:
                    os.mkfifo(tmp)
                s = self.path(f"s{i}.qcow2")
                client.execute("blockdev-snapshot-sync", device="disk0",
                               **{"snapshot-file": s})
                self.assertFalse(os.path.lexists(tmp))
                with open(victim, encoding="utf-8") as f:
                    self.assertEqual(f.read(), "keep me")
                state_file = os.path.join(state, "blockd-state.json")
                self.assertEqual(os.stat(state_file).st_mode & 0o777, 0o600)
                with open(state_file, encoding="utf-8") as f:
                    self.assertEqual(json.load(f)["devices"][0]["image"], s)

    def test_newer_state_version(self) -> None:
        drives = self.make_disks(1)
        state = self.path("state")
        os.mkdir(state, 0o700)
        with open(os.path.join(state, "blockd-state.json"), "w",
                  encoding="utf-8") as f:
            json.dump({"version": 99, "group": 1, "devices": []}, f)
        proc = self.run_failing("--drive", f"id=disk0,file={drives[0][1]}",
                                "--state", state)
        self.assertIn("has version 99", proc.stderr)

    # --- relative names ---

    def test_relative_names(self) -> None:
        """Relative --drive and snapshot-file names become absolute at
        open: the overlay records its backing file absolute, and a
        restart from another directory, next to a namesake of the base,
        reopens the same chain."""
        if not have_qemu_img():
            self.skipTest("qemu-img is not installed")
        vm = self.path("vm")
        os.mkdir(vm)
        with open(os.path.join(vm, "disk0.raw"), "wb") as f:
            f.write(b"A" * (1 << 20))
        state = self.path("state")
        daemon = self.start_args("--drive", "id=disk0,file=disk0.raw",
                                 "--state", state, cwd=vm)
        client = daemon.client()
        base = os.path.join(vm, "disk0.raw")
        self.assertEqual(self.tops(client), {"disk0": (base, 0)})
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": "s1.qcow2"})
        client.execute("blockdev-snapshot-sync", device="disk0",
                       **{"snapshot-file": "../vm/s2.qcow2"})
        s1, s2 = os.path.join(vm, "s1.qcow2"), os.path.join(vm, "s2.qcow2")
        self.assertEqual(self.tops(client), {"disk0": (s2, 2)})
        for overlay, backing in ((s1, base), (s2, s1)):
            info = json.loads(qemu_img("info", "-U", "--output=json",
                                       overlay).stdout)
            self.assertEqual(info["backing-filename"], backing)
        daemon.stop()
        self.daemons.remove(daemon)

        # Elsewhere, with a namesake base in the current directory.
        elsewhere = self.path("elsewhere")
        os.mkdir(elsewhere)
        with open(os.path.join(elsewhere, "disk0.raw"), "wb") as f:
            f.write(b"B" * (1 << 20))
        again = self.start_args("--drive", f"id=disk0,file={base}",
                                "--state", state, cwd=elsewhere)
        self.assertEqual(self.tops(again.client()), {"disk0": (s2, 2)})
        again.stop()
        self.daemons.remove(again)

        # The recorded top gone: a start-up error naming it.
        os.rename(s2, s2 + ".moved")
        proc = self.run_failing("--drive", f"id=disk0,file={base}",
                                "--state", state, cwd=elsewhere)
        self.assertIn(s2, proc.stderr)


if __name__ == "__main__":
    harness_main()
