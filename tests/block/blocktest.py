# SPDX-License-Identifier: MIT
"""Helpers shared by the image-node tests: running blockio, qemu-img and
qemu-io, and skipping (exit 77) when QEMU's tools are missing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from typing import Any, Sequence

SKIP = 77


class Tools:
    """Paths of the programs a test runs."""

    def __init__(self, blockio: str) -> None:
        self.blockio = blockio
        self.qemu_img = shutil.which('qemu-img') or ''
        self.qemu_io = shutil.which('qemu-io') or ''

    def have_qemu(self) -> bool:
        return bool(self.qemu_img and self.qemu_io)


def run(args: Sequence[str], check: bool = True,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(list(args), input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{" ".join(args)} exited {proc.returncode}\n'
            f'stdout: {proc.stdout.decode(errors="replace")}\n'
            f'stderr: {proc.stderr.decode(errors="replace")}')
    return proc


class BlockTestCase(unittest.TestCase):
    """A test case with a scratch directory and the tools."""

    tools: Tools

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix='qapikit-block-')
        self.dir = self._tmp.name

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    # blockio
    def blockio(self, image: str, *cmds: str, fmt: str | None = None,
                read_only: bool = False, check: bool = True
                ) -> subprocess.CompletedProcess[bytes]:
        args = [self.tools.blockio]
        if fmt:
            args += ['-f', fmt]
        if read_only:
            args.append('-r')
        args.append(image)
        for cmd in cmds:
            args += ['-c', cmd]
        return run(args, check=check)

    def create(self, image: str, size: int | str, cluster_size: int = 0,
               backing: str | None = None, backing_fmt: str = 'qcow2'
               ) -> None:
        args = [self.tools.blockio, 'create']
        if cluster_size:
            args += ['-s', str(cluster_size)]
        if backing:
            args += ['-b', backing, '-F', backing_fmt]
        run(args + [image, str(size)])

    def info(self, image: str, fmt: str | None = None) -> list[dict[str, str]]:
        out = self.blockio(image, 'info', fmt=fmt,
                           read_only=True).stdout.decode()
        nodes: list[dict[str, str]] = []
        for line in out.splitlines():
            if line.startswith('['):
                nodes.append({})
            else:
                key, _, value = line.partition('=')
                nodes[-1][key] = value
        return nodes

    def read_guest(self, image: str, offset: int, length: int) -> bytes:
        out = self.path('guest.bin')
        self.blockio(image, f'save {offset} {length} {out}', read_only=True)
        with open(out, 'rb') as f:
            return f.read()

    def write_guest(self, image: str, offset: int, data: bytes) -> None:
        src = self.path('data.bin')
        with open(src, 'wb') as f:
            f.write(data)
        self.blockio(image, f'load {offset} {src}')

    # QEMU's tools
    def qemu_img(self, *args: str, check: bool = True
                 ) -> subprocess.CompletedProcess[bytes]:
        return run([self.tools.qemu_img, *args], check=check)

    def qemu_io(self, image: str, *cmds: str, fmt: str = 'qcow2',
                read_only: bool = True, check: bool = True
                ) -> subprocess.CompletedProcess[bytes]:
        args = [self.tools.qemu_io, '-f', fmt]
        if read_only:
            args += ['-r', '-U']
        for cmd in cmds:
            args += ['-c', cmd]
        proc = run(args + [image], check=check)
        # qemu-io reports a failed pattern check on stdout with exit 1,
        # but older versions exit 0: look for the message too.
        if check and b'Pattern verification failed' in proc.stdout:
            raise AssertionError(proc.stdout.decode())
        return proc

    def check_image(self, image: str) -> dict[str, Any]:
        proc = self.qemu_img('check', '-U', '--output=json', image,
                             check=False)
        self.assertEqual(proc.returncode, 0,
                         f'qemu-img check {image}: {proc.returncode}\n'
                         f'{proc.stdout.decode()}{proc.stderr.decode()}')
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    def qemu_info(self, image: str) -> list[dict[str, Any]]:
        proc = self.qemu_img('info', '-U', '--backing-chain',
                             '--output=json', image)
        result: list[dict[str, Any]] = json.loads(proc.stdout)
        return result

    def compare(self, a: str, b: str, fmt_a: str = 'qcow2',
                fmt_b: str = 'qcow2') -> None:
        proc = self.qemu_img('compare', '-U', '-f', fmt_a, '-F', fmt_b, a, b,
                             check=False)
        self.assertEqual(proc.returncode, 0,
                         f'qemu-img compare {a} {b}: {proc.stdout.decode()}'
                         f'{proc.stderr.decode()}')


def main(tools_needed: bool = True) -> None:
    """Run the unittest cases of __main__: argv[1] is blockio."""
    if len(sys.argv) < 2:
        print('usage: TEST BLOCKIO [unittest args]', file=sys.stderr)
        sys.exit(2)
    tools = Tools(os.path.abspath(sys.argv[1]))
    if tools_needed and not tools.have_qemu():
        print('qemu-img or qemu-io not found: skipped')
        sys.exit(SKIP)
    BlockTestCase.tools = tools
    unittest.main(argv=[sys.argv[0], *sys.argv[2:]], verbosity=2)
