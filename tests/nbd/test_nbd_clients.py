# SPDX-License-Identifier: MIT
"""qapikit-blockd's NBD exports through real clients: qemu-io, qemu-img
(convert, map, info, check), nbdinfo and nbdcopy, over a unix socket and
over TCP.  Images: a qcow2 over a qcow2 backing file with clusters written
in each layer (and a zero cluster), a sparse raw file with holes, and
scratch images written through NBD and checked afterwards with the daemon
stopped.  Everything compared byte for byte with what QEMU itself reads
from the files.  docs/spec/data-path.md §1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any, Optional

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "blockdev"))

from blockd_harness import main as harness_main  # noqa: E402
from blockd_harness import TIMEOUT, BlockdTestCase, Daemon  # noqa: E402

MiB = 1 << 20
SIZE = 8 * MiB

# (offset, length) of the numbered patterns written through NBD: aligned,
# unaligned, across a cluster boundary, at the very end.
PATTERNS = [(0, 65536), (MiB + 512, 4096), (2 * MiB - 1000, 3000),
            (5 * MiB, 131072), (SIZE - 4096, 4096)]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


Extent = tuple[int, int, bool, bool]        # start, length, data, zero


def merged(extents: list[dict[str, Any]]) -> list[Extent]:
    """qemu-img map's JSON as (start, length, data, zero), adjacent ranges
    with the same flags merged (depth, presence and offsets dropped: NBD's
    base:allocation does not carry them)."""
    out: list[Extent] = []
    for e in extents:
        item = (int(e["start"]), int(e["length"]), bool(e["data"]),
                bool(e["zero"]))
        if out and out[-1][2:] == item[2:] \
                and out[-1][0] + out[-1][1] == item[0]:
            last = out.pop()
            item = (last[0], last[1] + item[1], item[2], item[3])
        out.append(item)
    return out


class ClientsTest(BlockdTestCase):

    def setUp(self) -> None:
        super().setUp()
        for tool in ("qemu-io", "qemu-img", "nbdinfo", "nbdcopy"):
            if not shutil.which(tool):
                self.skipTest(f"{tool} is not installed "
                              "(make deps: qemu-utils, libnbd-bin)")
        # base.qcow2 <- top.qcow2, clusters in each layer.
        self.base = self.path("base.qcow2")
        self.top = self.path("top.qcow2")
        self.qemu_img("create", "-q", "-f", "qcow2", self.base, str(SIZE))
        self.qemu_io("-f", "qcow2", self.base,
                     "-c", "write -P 1 0 128k",
                     "-c", "write -P 2 1M 64k",
                     "-c", "write -P 3 2M 192k",
                     "-c", "write -P 6 6M 64k")
        self.qemu_img("create", "-q", "-f", "qcow2", "-b", self.base,
                      "-F", "qcow2", self.top)
        self.qemu_io("-f", "qcow2", self.top,
                     "-c", "write -P 4 64k 128k",
                     "-c", "write -z 1M 64k",          # zero over base data
                     "-c", "write -P 5 3M 64k",
                     "-c", "write -P 0 3584k 64k",     # data that is zeroes
                     "-c", "write -P 7 8128k 64k")     # the last cluster
        # A sparse raw file with holes.
        self.holes = self.path("holes.raw")
        with open(self.holes, "wb") as f:
            f.truncate(SIZE)
            f.seek(512 * 1024)
            f.write(b"x" * 65536)
            f.seek(3 * MiB)
            f.write(b"y" * 8192)
            f.seek(SIZE - 4096)
            f.write(b"z" * 4096)
        # Scratch images for writes.
        self.scratch = self.path("scratch.qcow2")
        self.qemu_img("create", "-q", "-f", "qcow2", self.scratch, str(SIZE))
        self.scratch_raw = self.path("scratch.raw")
        with open(self.scratch_raw, "wb") as f:
            f.truncate(SIZE)
        self.daemon: Optional[Daemon] = None

    def qemu_img(self, *args: str) -> str:
        proc = run("qemu-img", *args)
        self.assertEqual(proc.returncode, 0,
                         f"qemu-img {args}: {proc.stdout} {proc.stderr}")
        return proc.stdout

    def qemu_io(self, *args: str) -> str:
        proc = run("qemu-io", *args)
        self.assertEqual(proc.returncode, 0,
                         f"qemu-io {args}: {proc.stdout} {proc.stderr}")
        # qemu-io reports failed commands on stdout with rc 0.
        for word in ("failed", "Pattern verification", "error"):
            self.assertNotIn(word, proc.stdout + proc.stderr,
                             f"qemu-io {args}")
        return proc.stdout

    def serve(self, tcp: bool = False, top_writable: bool = False) -> Daemon:
        nbd = "tcp:127.0.0.1:0" if tcp else f"unix:{self.path('nbd.sock')}"
        writable = "on" if top_writable else "off"
        self.daemon = self.start(
            [("top", self.top, "qcow2"), ("holes", self.holes, "raw"),
             ("scratch", self.scratch, "qcow2"),
             ("scratchraw", self.scratch_raw, "raw")],
            extra_args=[
                "--nbd", nbd,
                "--export", f"nbd,id=e0,node-name=top,writable={writable}",
                "--export", "nbd,id=e1,node-name=holes",
                "--export", "nbd,id=e2,node-name=scratch,writable=on",
                "--export", "nbd,id=e3,node-name=scratchraw,writable=on,"
                "name=raw-scratch"])
        return self.daemon

    def url(self, name: str) -> str:
        assert self.daemon is not None and self.daemon.nbd_address
        address = self.daemon.nbd_address
        if address.startswith("unix:"):
            return f"nbd+unix:///{name}?socket={address[len('unix:'):]}"
        host_port = address[len("tcp:"):]
        return f"nbd://{host_port}/{name}"

    def stop_daemon(self) -> None:
        assert self.daemon is not None
        self.assertEqual(self.daemon.stop(), 0)
        self.daemons.remove(self.daemon)
        self.daemon = None

    def write_patterns(self, url: str) -> None:
        cmds: list[str] = []
        for i, (offset, length) in enumerate(PATTERNS):
            cmds += ["-c", f"write -P {i + 0x10} {offset} {length}"]
        for i, (offset, length) in enumerate(PATTERNS):
            cmds += ["-c", f"read -P {i + 0x10} {offset} {length}"]
        self.qemu_io("-f", "raw", url, *cmds)

    def read_patterns(self, *target: str) -> None:
        cmds: list[str] = []
        for i, (offset, length) in enumerate(PATTERNS):
            cmds += ["-c", f"read -P {i + 0x10} {offset} {length}"]
        # Around the patterns: still zero.
        cmds += ["-c", f"read -P 0 {65536} {65536}",
                 "-c", f"read -P 0 {MiB} 512"]
        self.qemu_io(*target, *cmds)

    def reference_raw(self, image: str, fmt: str) -> str:
        out = self.path(f"ref-{os.path.basename(image)}.raw")
        self.qemu_img("convert", "-U", "-f", fmt, "-O", "raw", image, out)
        return out

    def assert_same_file(self, a: str, b: str) -> None:
        self.assertEqual(os.path.getsize(a), os.path.getsize(b))
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                block_a, block_b = fa.read(MiB), fb.read(MiB)
                self.assertTrue(block_a == block_b,
                                f"{a} and {b} differ near {fa.tell()}")
                if not block_a:
                    break

    # qemu-io

    def test_qemu_io_patterns_unix(self) -> None:
        self.serve()
        for name in ("scratch", "raw-scratch"):
            self.write_patterns(self.url(name))
            self.read_patterns("-f", "raw", self.url(name))  # a second one
        # Two clients at once: one reads while the other writes.
        reader = subprocess.Popen(
            ["qemu-io", "-f", "raw", self.url("scratch"),
             "-c", "read -P 0x10 0 64k", "-c", "read -P 0x14 8188k 4k"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.qemu_io("-f", "raw", self.url("scratch"),
                     "-c", "write -P 0x33 7M 64k")
        out, err = reader.communicate(timeout=TIMEOUT)
        self.assertEqual(reader.returncode, 0, err)
        self.assertNotIn("Pattern verification", out + err)
        self.qemu_io("-f", "raw", self.url("scratch"),
                     "-c", "read -P 0x33 7M 64k")

    def test_qemu_io_patterns_tcp(self) -> None:
        daemon = self.serve(tcp=True)
        assert daemon.nbd_address is not None
        self.assertRegex(daemon.nbd_address, r"^tcp:127\.0\.0\.1:[1-9]\d*$")
        for name in ("scratch", "raw-scratch"):
            self.assertTrue(self.url(name).startswith("nbd://127.0.0.1:"))
            self.write_patterns(self.url(name))
            self.read_patterns("-f", "raw", self.url(name))
        self.stop_daemon()
        self.read_patterns("-f", "qcow2", self.scratch)
        self.read_patterns("-f", "raw", self.scratch_raw)

    def test_qemu_io_read_only_export_refuses_writes(self) -> None:
        self.serve()
        proc = run("qemu-io", "-f", "raw", self.url("holes"),
                   "-c", "write -P 9 0 4k")
        self.assertNotIn("wrote 4096/4096", proc.stdout)
        self.qemu_io("-f", "raw", "-r", self.url("holes"),
                     "-c", "read -P 0x78 512k 64k")

    # qemu-img

    def test_convert_whole_export(self) -> None:
        self.serve()
        for name, image, fmt in (("top", self.top, "qcow2"),
                                 ("holes", self.holes, "raw")):
            out = self.path(f"{name}.out")
            self.qemu_img("convert", "-f", "raw", "-O", "raw",
                          self.url(name), out)
            self.assert_same_file(out, self.reference_raw(image, fmt))

    def test_map_matches_the_files(self) -> None:
        self.serve()
        for name, image, fmt in (("top", self.top, "qcow2"),
                                 ("holes", self.holes, "raw")):
            over_nbd = json.loads(self.qemu_img(
                "map", "--output=json", "-f", "raw", self.url(name)))
            local = json.loads(self.qemu_img(
                "map", "-U", "--output=json", "-f", fmt, image))
            nbd_extents, local_extents = merged(over_nbd), merged(local)
            self.assertEqual(nbd_extents, local_extents, name)
            # And the map says something: data and holes both present.
            self.assertIn(True, [e[2] for e in nbd_extents])
            self.assertIn(False, [e[2] for e in nbd_extents])
            self.assertEqual(sum(e[1] for e in nbd_extents), SIZE)

    def test_qemu_img_info(self) -> None:
        self.serve()
        for name in ("top", "holes", "raw-scratch"):
            info = json.loads(self.qemu_img(
                "info", "--output=json", "-f", "raw", self.url(name)))
            self.assertEqual(info["virtual-size"], SIZE)

    def test_check_and_read_back_after_writes(self) -> None:
        self.serve(top_writable=True)
        self.write_patterns(self.url("scratch"))
        self.qemu_io("-f", "raw", self.url("scratch"),
                     "-c", "write -z 5M 64k",           # zero a written range
                     "-c", "discard 0 64k",
                     "-c", "write -P 0x44 6M 4k",
                     "-c", "flush")
        # On the qcow2 with a backing file: overwrite, zero, discard.
        self.qemu_io("-f", "raw", self.url("top"),
                     "-c", "write -P 0x55 2M 4k",       # over base data
                     "-c", "write -z 6M 64k",           # zero base data
                     "-c", "write -P 0x66 4M 100k")     # unallocated before
        self.stop_daemon()
        for image in (self.scratch, self.top, self.base):
            out = self.qemu_img("check", image)
            self.assertIn("No errors were found", out)
        self.qemu_io("-f", "qcow2", self.scratch,
                     "-c", f"read -P 0x11 {MiB + 512} 4096",
                     "-c", f"read -P 0x12 {2 * MiB - 1000} 3000",
                     "-c", f"read -P 0x14 {SIZE - 4096} 4096",
                     "-c", "read -P 0 5M 64k",
                     "-c", "read -P 0x13 5184k 64k",
                     "-c", "read -P 0x44 6M 4k")
        self.qemu_io("-f", "qcow2", self.top,
                     "-c", "read -P 0x55 2M 4k",
                     "-c", "read -P 3 2052k 188k",
                     "-c", "read -P 0 6M 64k",
                     "-c", "read -P 0x66 4M 100k",
                     "-c", "read -P 4 64k 128k",
                     "-c", "read -P 1 0 64k")
        # The backing file is untouched.
        self.qemu_io("-f", "qcow2", self.base,
                     "-c", "read -P 3 2M 192k", "-c", "read -P 6 6M 64k",
                     "-c", "read -P 0 4M 100k")

    # libnbd tools

    def test_nbdinfo_list_and_size(self) -> None:
        self.serve()
        socket_path = self.path("nbd.sock")
        proc = run("nbdinfo", "--list", "--json",
                   f"nbd+unix:///?socket={socket_path}")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        listing = json.loads(proc.stdout)
        names = sorted(e["export-name"] for e in listing["exports"])
        self.assertEqual(names, ["holes", "raw-scratch", "scratch", "top"])
        read_only = {e["export-name"]: e["is_read_only"]
                     for e in listing["exports"]}
        self.assertEqual(read_only, {"holes": True, "raw-scratch": False,
                                     "scratch": False, "top": True})
        for name in names:
            proc = run("nbdinfo", "--size", self.url(name))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(int(proc.stdout.strip()), SIZE)

    def test_nbdcopy_whole_export(self) -> None:
        self.serve()
        for name, image, fmt in (("top", self.top, "qcow2"),
                                 ("holes", self.holes, "raw")):
            out = self.path(f"{name}.copy")
            proc = run("nbdcopy", self.url(name), out)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assert_same_file(out, self.reference_raw(image, fmt))

    def test_nbdcopy_into_export(self) -> None:
        """nbdcopy writes a whole export (zeroes, trims, data); the qcow2
        then holds exactly the source."""
        self.serve()
        source = self.reference_raw(self.top, "qcow2")
        proc = run("nbdcopy", source, self.url("scratch"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.stop_daemon()
        self.assertIn("No errors were found",
                      self.qemu_img("check", self.scratch))
        self.qemu_img("compare", "-f", "raw", "-F", "qcow2", source,
                      self.scratch)


if __name__ == "__main__":
    harness_main()
