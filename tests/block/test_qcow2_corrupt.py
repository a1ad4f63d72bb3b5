#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Corrupt and unsupported qcow2 images: a generated corpus, each case an
error with a clear message and never a crash; plus what must be kept or
cleared when an image with unknown fields is written (§2, §3, §7.4)."""

from __future__ import annotations

import os
import random
import struct
import sys
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocktest  # noqa: E402

MiB = 1024 * 1024
CS = 65536


class Image:
    """An image file's bytes, patched in memory and written back."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, 'rb') as f:
            self.data = bytearray(f.read())

    def u32(self, off: int) -> int:
        return int(struct.unpack_from('>I', self.data, off)[0])

    def u64(self, off: int) -> int:
        return int(struct.unpack_from('>Q', self.data, off)[0])

    def set_u32(self, off: int, value: int) -> Image:
        struct.pack_into('>I', self.data, off, value)
        return self

    def set_u64(self, off: int, value: int) -> Image:
        struct.pack_into('>Q', self.data, off, value)
        return self

    def save(self) -> None:
        with open(self.path, 'wb') as f:
            f.write(self.data)

    @property
    def l1_offset(self) -> int:
        return self.u64(40)

    @property
    def rt_offset(self) -> int:
        return self.u64(48)

    def l2_offset(self, index: int = 0) -> int:
        return self.u64(self.l1_offset + 8 * index) & 0x00fffffffffffe00


def cluster0(header_length: int, extra: bytes,
             extensions: list[tuple[int, bytes]], backing: bytes,
             base_header: bytes) -> bytes:
    """Rebuild cluster 0: the first 104 bytes of BASE_HEADER, fields up to
    HEADER_LENGTH (compression type 0, then EXTRA), EXTENSIONS, the end
    marker and the backing name."""
    out = bytearray(base_header[:104])
    struct.pack_into('>I', out, 100, header_length)
    out += bytes(8) + extra
    out = out[:header_length]
    for ext_type, payload in extensions:
        out += struct.pack('>II', ext_type, len(payload)) + payload
        out += bytes(-len(payload) % 8)
    out += bytes(8)
    if backing:
        struct.pack_into('>QI', out, 8, len(out), len(backing))
        out += backing
    return bytes(out)


class Corpus(blocktest.BlockTestCase):
    def fresh(self, name: str = 'img.qcow2', data: bool = False,
              backing: bool = False) -> str:
        path = self.path(name)
        if os.path.exists(path):
            os.unlink(path)
        base = self.path('base.qcow2')
        if backing and not os.path.exists(base):
            self.create(base, '64M')
        self.create(path, '64M', backing=base if backing else None)
        if data:
            self.blockio(path, 'write -P 0x11 0 192k')
        return path

    def expect_error(self, path: str, needle: str, *cmds: str,
                     fmt: str = 'qcow2', read_only: bool = True) -> str:
        if not cmds:
            cmds = ('read 0 64M',)
        proc = self.blockio(path, *cmds, fmt=fmt, read_only=read_only,
                            check=False)
        err = proc.stderr.decode(errors='replace')
        self.assertEqual(proc.returncode, 1, f'{path}: {err}')
        self.assertTrue(err.startswith('blockio: '), err)
        self.assertNotIn('Sanitizer', err)
        self.assertIn(needle, err)
        self.assertIn(path, err)
        return err

    def patched(self, patch: Callable[[Image], object], **kw: bool) -> str:
        path = self.fresh(**kw)
        img = Image(path)
        patch(img)
        img.save()
        return path

    # header fields
    def test_bad_magic(self) -> None:
        path = self.patched(lambda i: i.set_u32(0, 0x51464900))
        self.expect_error(path, 'bad magic')

    def test_bad_version(self) -> None:
        for version in (1, 4, 0xffffffff):
            path = self.patched(lambda i: i.set_u32(4, version))
            self.expect_error(path, 'version')

    def test_cluster_bits(self) -> None:
        for bits in (8, 22, 63):
            path = self.patched(lambda i: i.set_u32(20, bits))
            self.expect_error(path, 'cluster_bits')

    def test_header_length(self) -> None:
        for length in (100, 108, 105, 0x20000):
            path = self.patched(lambda i: i.set_u32(100, length))
            self.expect_error(path, 'header_length')

    def test_backing_name_1024(self) -> None:
        def patch(img: Image) -> None:
            img.set_u64(8, 0x400).set_u32(16, 1024)
            img.data[0x400:0x800] = b'a' * 1024
        self.expect_error(self.patched(patch), 'backing file name too long')

    def test_backing_name_outside_cluster0(self) -> None:
        path = self.patched(lambda i: i.set_u64(8, CS - 4).set_u32(16, 10),
                            backing=True)
        self.expect_error(path, 'outside cluster 0')

    def test_unknown_incompatible_bit(self) -> None:
        path = self.patched(lambda i: i.set_u64(72, 1 << 10))
        self.expect_error(path, 'incompatible_features bit 10')
        # named from the feature name table when it has the bit
        def named(img: Image) -> None:
            img.set_u64(72, 1 << 9)
            entry = 0x78 + 48 * 7   # the last entry of our table
            img.data[entry:entry + 48] = (bytes([0, 9]) + b'shiny'
                                          + bytes(41))
        self.expect_error(self.patched(named), 'shiny')

    def test_external_data_file_and_extended_l2(self) -> None:
        for bit, needle in ((2, 'external data file'), (4, 'extended L2'),
                            (3, 'compression type')):
            path = self.patched(lambda i: i.set_u64(72, 1 << bit))
            self.expect_error(path, needle)

    def test_compression_type_without_bit(self) -> None:
        def patch(img: Image) -> None:
            img.data[104] = 1
        self.expect_error(self.patched(patch), 'compression_type')

    def test_encrypted(self) -> None:
        path = self.patched(lambda i: i.set_u32(32, 1))
        self.expect_error(path, 'encrypted')
        luks = self.path('luks.qcow2')
        proc = self.qemu_img('create', '-q', '-f', 'qcow2', '--object',
                             'secret,id=sec0,data=123456', '-o',
                             'encrypt.format=luks,encrypt.key-secret=sec0',
                             luks, '1M', check=False)
        if proc.returncode == 0:
            self.expect_error(luks, 'encrypted', 'read 0 1M')

    def test_refcount_order(self) -> None:
        path = self.patched(lambda i: i.set_u32(96, 7))
        self.expect_error(path, 'refcount_order')

    def test_l1_size(self) -> None:
        path = self.patched(lambda i: i.set_u32(36, 0))
        self.expect_error(path, 'l1_size')
        path = self.patched(lambda i: i.set_u32(36, 4 * MiB + 1))
        self.expect_error(path, 'l1_size')
        path = self.patched(lambda i: i.set_u64(24, 1 << 40))
        self.expect_error(path, 'l1_size')

    def test_table_offsets(self) -> None:
        cases: list[tuple[Callable[[Image], object], str]] = [
            (lambda i: i.set_u64(40, 0x30001), 'l1_table_offset'),
            (lambda i: i.set_u64(40, 1 << 57), 'l1_table_offset'),
            (lambda i: i.set_u64(40, 0x4000000), 'past the end'),
            (lambda i: i.set_u64(48, 0), 'refcount_table_offset'),
            (lambda i: i.set_u64(48, 0x10200), 'refcount_table_offset'),
            (lambda i: i.set_u64(48, 0x4000000), 'past the end'),
            (lambda i: i.set_u32(56, 0), 'refcount_table_clusters'),
            (lambda i: i.set_u32(56, 129), 'refcount_table_clusters'),
            (lambda i: i.set_u32(60, 1).set_u64(64, 0x123), 'snapshots_offset'),
        ]
        for patch, needle in cases:
            with self.subTest(needle=needle):
                self.expect_error(self.patched(patch), needle)

    def test_overlapping_tables(self) -> None:
        cases: list[tuple[Callable[[Image], object], str]] = [
            (lambda i: i.set_u64(40, 0x10000), 'overlaps'),
            (lambda i: i.set_u64(40, 0).set_u32(36, 1), 'overlaps'),
            (lambda i: i.set_u32(56, 3), 'overlaps'),
            (lambda i: i.set_u32(60, 1).set_u64(64, 0x20000).set_u32(56, 2),
             'overlaps'),
        ]
        for patch, needle in cases:
            with self.subTest():
                self.expect_error(self.patched(patch), needle)

    def test_entries_pointing_at_metadata(self) -> None:
        # an L1 entry naming the refcount table as its L2 table
        path = self.patched(lambda i: i.set_u64(i.l1_offset,
                                                (1 << 63) | i.rt_offset),
                            data=True)
        self.expect_error(path, 'overlaps the refcount table')
        # a data cluster that is the L1 table: reads are harmless, an
        # in-place write would destroy the L1 table and is refused
        def data_on_l1(img: Image) -> None:
            img.set_u64(img.l2_offset(), (1 << 63) | img.l1_offset)
        path = self.patched(data_on_l1, data=True)
        self.expect_error(path, 'overlaps the L1 table', 'write -P 1 0 10',
                          read_only=False)
        # a data cluster that is its own L2 table
        def data_on_l2(img: Image) -> None:
            img.set_u64(img.l2_offset() + 8, (1 << 63) | img.l2_offset())
        path = self.patched(data_on_l2, data=True)
        self.expect_error(path, 'also an L2 table', 'write -P 1 0 10',
                          read_only=False)

    def test_extensions(self) -> None:
        def too_long(img: Image) -> None:
            img.set_u32(0x70 + 4, 0x20000)
        def twice(img: Image) -> None:
            # the feature table's type on the backing format extension
            img.set_u32(0x70, 0x6803f857)
        def unterminated(img: Image) -> None:
            # distinct types, empty payloads, no end marker
            for n, pos in enumerate(range(0x70, CS, 8)):
                struct.pack_into('>II', img.data, pos, n + 1, 0)
        self.expect_error(self.patched(too_long, backing=True),
                          'runs past')
        self.expect_error(self.patched(twice, backing=True), 'twice')
        self.expect_error(self.patched(unterminated), 'run past')

    def test_truncated(self) -> None:
        for size, needle in ((0x30000, 'L1 table'),
                             (0x10000, 'past the end'), (40, 'too short')):
            with self.subTest(size=size):
                path = self.fresh()
                os.truncate(path, size)
                self.expect_error(path, needle)
        # an L2 table cut off by the end of the file
        path = self.fresh(data=True)
        l2 = Image(path).l2_offset()
        os.truncate(path, l2)
        self.expect_error(path, 'past the end')

    # table entries
    def test_entries_past_eof(self) -> None:
        path = self.patched(lambda i: i.set_u64(i.l1_offset,
                                                (1 << 63) | 0x7000000),
                            data=True)
        self.expect_error(path, 'L2 table offset')
        def l2_entry(img: Image) -> None:
            img.set_u64(img.l2_offset(), (1 << 63) | 0x7000000)
        self.expect_error(self.patched(l2_entry, data=True),
                          'data cluster offset')
        def rt_entry(img: Image) -> None:
            img.set_u64(img.rt_offset, 0x7000000)
        self.expect_error(self.patched(rt_entry), 'refcount block',
                          'write -P 1 0 1', read_only=False)

    def test_reserved_bits(self) -> None:
        def l2_entry(img: Image) -> None:
            img.set_u64(img.l2_offset(), img.u64(img.l2_offset()) | 0x2)
        self.expect_error(self.patched(l2_entry, data=True), 'reserved')
        def l1_entry(img: Image) -> None:
            img.set_u64(img.l1_offset, img.u64(img.l1_offset) | (1 << 60))
        self.expect_error(self.patched(l1_entry, data=True), 'reserved')
        def unaligned(img: Image) -> None:
            img.set_u64(img.l2_offset(), img.u64(img.l2_offset()) + 0x200)
        self.expect_error(self.patched(unaligned, data=True),
                          'not cluster-aligned')

    def test_refcount_zero_for_used_clusters(self) -> None:
        # a data cluster: reads work, a write in place is refused and the
        # image is marked corrupt
        path = self.fresh(data=True)
        img = Image(path)
        data = img.u64(img.l2_offset()) & 0x00fffffffffffe00
        block = img.u64(img.rt_offset)
        img.set_u32(block + 2 * (data // CS) - 2, 0)   # no-op guard
        struct.pack_into('>H', img.data, block + 2 * (data // CS), 0)
        img.save()
        self.blockio(path, 'read -P 0x11 0 192k', read_only=True)
        self.expect_error(path, 'refcount 0', 'write -P 0x22 0 4k',
                          read_only=False)
        info = self.qemu_info(path)[0]
        self.assertTrue(info['format-specific']['data']['corrupt'])
        self.expect_error(path, 'marked corrupt', read_only=False)
        self.blockio(path, 'read -P 0x11 0 192k', read_only=True)
        # the header cluster: refused for writing at open
        path = self.patched(lambda i: struct.pack_into(
            '>H', i.data, i.u64(i.rt_offset), 0), name='hdr.qcow2')
        self.expect_error(path, 'header cluster', 'flush', read_only=False)

    def test_compressed_clusters(self) -> None:
        src = self.path('src.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', src, '4M')
        self.qemu_io(src, 'write -P 0x42 0 1M', read_only=False)
        comp = self.path('comp.qcow2')
        self.qemu_img('convert', '-c', '-f', 'qcow2', '-O', 'qcow2', src,
                      comp)
        self.expect_error(comp, 'compressed', 'read 0 4M')
        self.expect_error(comp, 'compressed', 'write -P 1 0 512',
                          read_only=False)
        # clusters it never stored read fine
        self.blockio(comp, 'read -P 0 2M 2M', read_only=True)

    def test_dirty_and_corrupt_bits(self) -> None:
        for bit, needle in ((0, 'dirty'), (1, 'corrupt')):
            path = self.patched(lambda i: i.set_u64(72, 1 << bit), data=True)
            self.expect_error(path, needle, 'flush', read_only=False)
            self.blockio(path, 'read -P 0x11 0 192k', read_only=True)
        dirty = self.patched(lambda i: i.set_u64(72, 1), name='d.qcow2')
        self.assertEqual(self.info(dirty)[0]['dirty'], 'true')

    def test_internal_snapshots_read_only(self) -> None:
        path = self.fresh(data=True)
        self.qemu_img('snapshot', '-c', 'snap1', path)
        self.blockio(path, 'read -P 0x11 0 192k', read_only=True)
        self.expect_error(path, 'internal snapshots', 'flush',
                          read_only=False)

    def test_v2_zero_flag_is_reserved(self) -> None:
        path = self.path('v2.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o', 'compat=0.10',
                      path, '4M')
        self.qemu_io(path, 'write -P 0x11 0 64k', read_only=False)
        img = Image(path)
        img.set_u64(img.l2_offset(), img.u64(img.l2_offset()) | 1)
        img.save()
        self.expect_error(path, 'reserved', 'read 0 4M')

    def test_random_damage_never_crashes(self) -> None:
        """Flip bytes of cluster 0, the tables and L2; every run must end
        with 0 or 1 and a clean message."""
        rng = random.Random(int(os.environ.get('QAPIKIT_BLOCK_SEED', '5')))
        pristine = Image(self.fresh(name='pristine.qcow2', data=True))
        l2 = pristine.l2_offset()
        regions = [(0, 0x230), (pristine.rt_offset, 64),
                   (pristine.u64(pristine.rt_offset), 64),
                   (pristine.l1_offset, 8), (l2, 64)]
        path = self.path('fuzz.qcow2')
        rounds = int(os.environ.get('QAPIKIT_BLOCK_FUZZ_ROUNDS', '150'))
        for round_no in range(rounds):
            data = bytearray(pristine.data)
            for _ in range(rng.randint(1, 4)):
                start, length = rng.choice(regions)
                pos = start + rng.randrange(length)
                data[pos] ^= 1 << rng.randrange(8)
            with open(path, 'wb') as f:
                f.write(data)
            ro = round_no % 2 == 0
            cmds = ['read 0 256k'] if ro else ['write -P 0x33 4k 70k',
                                                'read 0 256k']
            proc = self.blockio(path, *cmds, read_only=ro, check=False)
            err = proc.stderr.decode(errors='replace')
            self.assertIn(proc.returncode, (0, 1), err)
            self.assertNotIn('Sanitizer', err)
            self.assertNotIn('runtime error', err)
            if proc.returncode == 1:
                self.assertTrue(err.startswith('blockio: '), err)


class KeepAndClear(blocktest.BlockTestCase):
    def test_unknown_fields_kept_autoclear_cleared(self) -> None:
        base = self.path('base.qcow2')
        self.create(base, '8M')
        path = self.path('img.qcow2')
        self.create(path, '8M', backing=base)
        img = Image(path)
        extra = b'\xde\xad\xbe\xef\x01\x02\x03\x04'
        unknown_ext = (0x12345678, b'hello')
        c0 = cluster0(120, extra,
                      [(0xe2792aca, b'qcow2'), unknown_ext],
                      base.encode(), bytes(img.data[:112]))
        img.data[0:len(c0)] = c0
        img.data[len(c0):0x800] = bytes(0x800 - len(c0))
        img.set_u64(80, (1 << 0) | (1 << 7))          # compatible bits
        img.set_u64(88, (1 << 0) | (1 << 5))          # autoclear bits
        img.save()
        before = bytes(Image(path).data[:CS])
        self.blockio(path, 'read -P 0 0 8M', read_only=True)
        self.assertEqual(Image(path).u64(88), (1 << 0) | (1 << 5))
        self.blockio(path, 'write -P 0x66 1M 100k')
        after = Image(path)
        self.assertEqual(after.u64(88), 0)
        self.assertEqual(after.u64(80), (1 << 0) | (1 << 7))
        # everything else in cluster 0 is as it was
        expect = bytearray(before)
        struct.pack_into('>Q', expect, 88, 0)
        self.assertEqual(bytes(after.data[:CS]), bytes(expect))
        self.check_image(path)
        self.qemu_io(path, 'read -P 0x66 1M 100k', 'read -P 0 0 1M')


if __name__ == '__main__':
    blocktest.main()
