#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Failure paths: a writer that dies, or whose I/O fails, at each pwrite or
fdatasync in turn (tests/block/faultshim.c, loaded with LD_PRELOAD).

After each run the image must pass `qemu-img check` (exit 0, or 3 for
leaks only: never 2) and every guest byte must be either its old value or
a value a write put there: never stale file content or zeros from a
cluster whose data was not written (docs/spec/qcow2-format.md §7.2)."""

from __future__ import annotations

import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocktest  # noqa: E402

MiB = 1024 * 1024
SIZE = 12 * MiB
CRASH_STATUS = 99


class Faults(blocktest.BlockTestCase):
    shim: str = ''

    # (pattern, offset, length), non-overlapping; 'flush' in between
    SCRIPT: list[tuple[int, int, int] | str] = [
        (0x22, 1000, 5000),             # partial: head and tail COW
        (0x33, 3 * MiB, MiB + 4096),    # several clusters, one L2 table
        'flush',
        (0x44, 100 * 1024, 300 * 1024),
        (0x55, 5 * MiB + 512, 8192),    # another L2 table
        (0x66, 9 * MiB, 2 * MiB),       # new refcount blocks
        (0x77, 7 * MiB, 4096),
        (0x78, 7 * MiB + 4096, 4096),   # sequential: deferred COW
        (0x79, 7 * MiB + 8192, 100),
    ]

    def commands(self) -> list[str]:
        return [s if isinstance(s, str) else f'write -P {s[0]} {s[1]} {s[2]}'
                for s in self.SCRIPT]

    def prepare(self, cluster_size: int) -> str:
        base = self.path('base.qcow2')
        if not os.path.exists(base):
            self.qemu_img('create', '-q', '-f', 'qcow2', base, str(SIZE))
            self.qemu_io(base, f'write -P 0x11 0 {SIZE}', read_only=False)
        top = self.path('top.qcow2')
        if os.path.exists(top):
            os.unlink(top)
        self.create(top, SIZE, cluster_size=cluster_size, backing=base)
        return top

    def run_faulted(self, top: str, at: int | None, mode: str
                    ) -> tuple[int, int]:
        env = dict(os.environ)
        env['LD_PRELOAD'] = self.shim
        env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') +
                               ':verify_asan_link_order=0').lstrip(':')
        count_file = self.path('count')
        env['QAPIKIT_FAULT_COUNT'] = count_file
        env['QAPIKIT_FAULT_MODE'] = mode
        if at is not None:
            env['QAPIKIT_FAULT_AT'] = str(at)
        args = [self.tools.blockio, top]
        for cmd in self.commands():
            args += ['-c', cmd]
        proc = subprocess.run(args, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        err = proc.stderr.decode(errors='replace')
        self.assertNotIn('Sanitizer', err)
        with open(count_file) as f:
            calls = int(f.read())
        return proc.returncode, calls

    def verify(self, top: str, label: str) -> None:
        proc = self.qemu_img('check', '-U', top, check=False)
        self.assertIn(proc.returncode, (0, 3),
                      f'{label}: qemu-img check exit {proc.returncode}\n'
                      f'{proc.stdout.decode()}')
        data = self.read_guest(top, 0, SIZE)
        written = bytearray(SIZE)   # pattern per byte, 0 = never written
        for step in self.SCRIPT:
            if isinstance(step, str):
                continue
            pat, off, n = step
            written[off:off + n] = bytes([pat]) * n
        old = b'\x11' * 65536
        bad = None
        for start in range(0, SIZE, 65536):
            chunk = data[start:start + 65536]
            if chunk == old or chunk == written[start:start + 65536]:
                continue
            bad = next((i for i in range(start, start + len(chunk))
                        if data[i] != 0x11 and data[i] != written[i]), None)
            if bad is not None:
                break
        if bad is not None:
            self.fail(f'{label}: byte {bad} is {data[bad]:#x}, neither old '
                      f'(0x11) nor written ({written[bad]:#x})')

    def sweep(self, cluster_size: int, mode: str) -> None:
        top = self.prepare(cluster_size)
        status, total = self.run_faulted(top, None, mode)
        print(f'{total} pwrite/fdatasync calls', flush=True)
        self.assertEqual(status, 0)
        self.verify(top, 'no fault')
        # every call among the first 60, then a sample of the rest
        points = list(range(1, min(total, 60) + 1))
        rng = random.Random(cluster_size)
        if total > 60:
            points += sorted(rng.sample(range(61, total + 1),
                                        min(40, total - 60)))
        for at in points:
            top = self.prepare(cluster_size)
            status, _ = self.run_faulted(top, at, mode)
            expected = CRASH_STATUS if mode == 'crash' else 1
            self.assertEqual(status, expected, f'{mode} at call {at}')
            self.verify(top, f'{mode} at call {at} of {total}')

    def test_crash_64k_clusters(self) -> None:
        self.sweep(65536, 'crash')

    def test_crash_4k_clusters(self) -> None:
        self.sweep(4096, 'crash')

    def test_crash_512_byte_clusters(self) -> None:
        self.sweep(512, 'crash')

    def test_io_errors_64k_clusters(self) -> None:
        self.sweep(65536, 'fail')

    def test_io_errors_512_byte_clusters(self) -> None:
        self.sweep(512, 'fail')


if __name__ == '__main__':
    if len(sys.argv) < 3:
        print('usage: test_qcow2_faults.py BLOCKIO FAULTSHIM', file=sys.stderr)
        sys.exit(2)
    Faults.shim = os.path.abspath(sys.argv.pop(2))
    blocktest.main()
