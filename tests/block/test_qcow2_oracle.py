#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The qcow2 driver against QEMU's tools: layout of new overlays, chains in
qemu-img info, data written by us read by qemu-io and qemu-img compare,
images written by qemu-img/qemu-io read by us, refcount table growth."""

from __future__ import annotations

import hashlib
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocktest  # noqa: E402

MiB = 1024 * 1024


def sha256(path: str) -> str:
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


class OverlayLayout(blocktest.BlockTestCase):
    def test_same_bytes_as_qemu_img(self) -> None:
        for size, expected in (('64M', 196616), ('1G', 196624),
                               ('100G', 198208)):
            with self.subTest(size=size):
                base = self.path(f'base-{size}.qcow2')
                self.qemu_img('create', '-q', '-f', 'qcow2', base, size)
                ours = self.path(f'ours-{size}.qcow2')
                theirs = self.path(f'theirs-{size}.qcow2')
                self.create(ours, size, backing=base)
                self.qemu_img('create', '-q', '-f', 'qcow2', '-b', base,
                              '-F', 'qcow2', theirs, size)
                self.assertEqual(os.path.getsize(ours), expected)
                with open(ours, 'rb') as a, open(theirs, 'rb') as b:
                    self.assertEqual(a.read(), b.read())
                result = self.check_image(ours)
                self.assertEqual(result['image-end-offset'], 262144)

    def test_without_backing_and_cluster_sizes(self) -> None:
        for cs in (512, 4096, 65536, 2 * MiB):
            with self.subTest(cluster_size=cs):
                ours = self.path(f'ours-{cs}.qcow2')
                theirs = self.path(f'theirs-{cs}.qcow2')
                self.create(ours, '64M', cluster_size=cs)
                self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                              f'cluster_size={cs}', theirs, '64M')
                with open(ours, 'rb') as a, open(theirs, 'rb') as b:
                    self.assertEqual(a.read(), b.read())
                self.check_image(ours)

    def test_small_cluster_overlay_with_backing(self) -> None:
        base = self.path('base.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', base, '64M')
        ours = self.path('ours.qcow2')
        theirs = self.path('theirs.qcow2')
        self.create(ours, '64M', cluster_size=512, backing=base)
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o', 'cluster_size=512',
                      '-b', base, '-F', 'qcow2', theirs, '64M')
        with open(ours, 'rb') as a, open(theirs, 'rb') as b:
            self.assertEqual(a.read(), b.read())

    def test_existing_file_refused(self) -> None:
        path = self.path('exists')
        with open(path, 'w') as f:
            f.write('keep me')
        proc = blocktest.run([self.tools.blockio, 'create', path, '64M'],
                             check=False)
        self.assertEqual(proc.returncode, 1)
        with open(path) as f:
            self.assertEqual(f.read(), 'keep me')
        link = self.path('link')
        os.symlink(self.path('nowhere'), link)
        proc = blocktest.run([self.tools.blockio, 'create', link, '64M'],
                             check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertFalse(os.path.exists(self.path('nowhere')))


class Chain(blocktest.BlockTestCase):
    def test_info_backing_chain(self) -> None:
        base = self.path('base.raw')
        with open(base, 'wb') as f:
            f.truncate(64 * MiB)
        mid = self.path('mid.qcow2')
        top = self.path('top.qcow2')
        self.create(mid, 64 * MiB, backing=base, backing_fmt='raw')
        self.create(top, 64 * MiB, backing=mid)
        chain = self.qemu_info(top)
        self.assertEqual([c['filename'] for c in chain], [top, mid, base])
        self.assertEqual([c['format'] for c in chain],
                         ['qcow2', 'qcow2', 'raw'])
        self.assertEqual(chain[0]['backing-filename-format'], 'qcow2')
        self.assertEqual(chain[1]['backing-filename-format'], 'raw')
        data = chain[0]['format-specific']['data']
        self.assertEqual(data['compat'], '1.1')
        self.assertEqual(data['refcount-bits'], 16)
        self.assertFalse(data['corrupt'])
        self.assertFalse(chain[0]['dirty-flag'])
        ours = self.info(top)
        self.assertEqual([n['format'] for n in ours],
                         ['qcow2', 'qcow2', 'raw'])
        self.assertEqual(ours[0]['backing-depth'], '2')
        self.assertEqual(ours[1]['full-backing-filename'], base)

    def test_relative_backing_resolved_against_image_dir(self) -> None:
        sub = self.path('sub')
        os.mkdir(sub)
        base = os.path.join(sub, 'base.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', base, '1M')
        self.qemu_io(base, 'write -P 0x11 0 1M', read_only=False)
        top = os.path.join(sub, 'top.qcow2')
        self.create(top, '1M', backing='base.qcow2')
        self.blockio(top, 'read -P 0x11 0 1M', read_only=True)
        self.assertEqual(self.info(top)[0]['full-backing-filename'], base)

    def test_loop_refused(self) -> None:
        a = self.path('a.qcow2')
        b = self.path('b.qcow2')
        self.create(a, '1M', backing=b)
        self.create(b, '1M', backing=a)
        proc = self.blockio(a, 'info', check=False, read_only=True)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(b'twice', proc.stderr)


class WriteRoundTrip(blocktest.BlockTestCase):
    def test_cow_keeps_head_and_tail(self) -> None:
        base = self.path('base.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', base, '64M')
        self.qemu_io(base, 'write -P 0xa5 0 1M', read_only=False)
        before = sha256(base)
        top = self.path('top.qcow2')
        self.create(top, '64M', backing=base)
        self.blockio(top, 'write -P 0x5a 4k 4k')
        self.qemu_io(top, 'read -P 0x5a 4k 4k', 'read -P 0xa5 0 4k',
                     'read -P 0xa5 8k 56k', 'read -P 0xa5 64k 960k',
                     'read -P 0 1M 63M')
        self.check_image(top)
        self.assertEqual(sha256(base), before)

    def test_patterns_everywhere(self) -> None:
        for cs in (512, 4096, 65536, 2 * MiB):
            with self.subTest(cluster_size=cs):
                base = self.path(f'base-{cs}.qcow2')
                self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                              f'cluster_size={cs}', base, '48M')
                self.qemu_io(base, 'write -P 0x11 0 48M', read_only=False)
                top = self.path(f'top-{cs}.qcow2')
                self.create(top, '48M', cluster_size=cs, backing=base)
                # unaligned, cross-cluster, cross-L2 and end-of-disk writes
                writes = [(0x22, 1, 1), (0x33, cs - 3, 7),
                          (0x44, 3 * cs + 100, 5 * cs),
                          (0x66, 48 * MiB - 4096, 4096),
                          (0x77, 20 * MiB + 17, 3 * MiB)]
                if (cs // 8) * cs < 40 * MiB:
                    # across the boundary of two L2 tables
                    writes.append((0x55, (cs // 8) * cs - 512, 1024))
                self.blockio(top, *[f'write -P {p:#x} {o} {n}'
                                    for p, o, n in writes])
                model = bytearray(b'\x11' * (48 * MiB))
                for p, o, n in writes:
                    model[o:o + n] = bytes([p]) * n
                ref = self.path(f'ref-{cs}.raw')
                with open(ref, 'wb') as f:
                    f.write(model)
                self.check_image(top)
                self.compare(top, ref, fmt_b='raw')
                self.qemu_io(top, *[f'read -P {p:#x} {o} {n}'
                                    for p, o, n in writes])

    def test_write_into_qemu_images(self) -> None:
        cases = [('compat=0.10', 65536), ('refcount_bits=1', 4096),
                 ('refcount_bits=64', 512), ('refcount_bits=8', 65536),
                 ('refcount_bits=2', 2 * MiB), ('refcount_bits=32', 4096),
                 ('refcount_bits=4', 512)]
        for opt, cs in cases:
            with self.subTest(opt=opt, cluster_size=cs):
                img = self.path('img.qcow2')
                if os.path.exists(img):
                    os.unlink(img)
                self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                              f'{opt},cluster_size={cs}', img, '16M')
                self.qemu_io(img, 'write -P 0x10 0 1M', read_only=False)
                self.blockio(img, 'write -P 0x20 100k 2M',
                             'write -P 0x30 15M 1M', 'write -P 0x40 5 10')
                self.check_image(img)
                self.qemu_io(img, 'read -P 0x10 0 5', 'read -P 0x40 5 10',
                             'read -P 0x10 15 102385',
                             'read -P 0x20 100k 2M', 'read -P 0 2148k 13212k',
                             'read -P 0x30 15M 1M')


class ReadQemuImages(blocktest.BlockTestCase):
    def test_matrix(self) -> None:
        cases = []
        for cs in (512, 4096, 65536, 2 * MiB):
            cases.append((cs, 'compat=1.1'))
            cases.append((cs, 'compat=0.10'))
        cases += [(4096, 'refcount_bits=1'), (65536, 'refcount_bits=64')]
        for cs, opt in cases:
            for with_backing in (False, True):
                with self.subTest(cs=cs, opt=opt, backing=with_backing):
                    self._one(cs, opt, with_backing)

    def _one(self, cs: int, opt: str, with_backing: bool) -> None:
        tag = f'{cs}-{opt}-{with_backing}'.replace('=', '')
        base = self.path(f'base-{tag}.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                      f'{opt},cluster_size={cs}', base, '8M')
        self.qemu_io(base, 'write -P 0x61 0 8M', read_only=False)
        img = base
        cmds = ['write -P 0x62 1000 3000', 'write -P 0x63 1M 1M',
                'write -P 0x64 7M 123']
        expect = ['read -P 0x62 1000 3000', 'read -P 0x63 1M 1M',
                  'read -P 0x64 7M 123']
        if with_backing:
            img = self.path(f'top-{tag}.qcow2')
            self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                          f'{opt},cluster_size={cs}', '-b', base, '-F',
                          'qcow2', img, '8M')
            expect += ['read -P 0x61 0 1000', 'read -P 0x61 2M 1M',
                       'read -P 0x61 4M 3M']
        if opt == 'compat=1.1':
            cmds.append('write -z 3M 1M')
            expect.append('read -P 0 3M 1M')
        self.qemu_io(img, *cmds, read_only=False)
        self.blockio(img, *expect, read_only=True)
        # the whole disk, byte for byte, against qemu-img convert
        raw = self.path(f'ref-{tag}.raw')
        self.qemu_img('convert', '-U', '-f', 'qcow2', '-O', 'raw', img, raw)
        with open(raw, 'rb') as f:
            self.assertEqual(self.read_guest(img, 0, 8 * MiB), f.read())

    def test_zero_clusters_hide_backing(self) -> None:
        base = self.path('base.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', base, '4M')
        self.qemu_io(base, 'write -P 0x77 0 4M', read_only=False)
        top = self.path('top.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-b', base, '-F',
                      'qcow2', top, '4M')
        self.qemu_io(top, 'write -z 0 1M', read_only=False)
        self.blockio(top, 'read -P 0 0 1M', 'read -P 0x77 1M 3M',
                     read_only=True)
        # a partial write into a ZERO cluster copies zeros, not backing
        self.blockio(top, 'write -P 0x12 70000 10')
        self.qemu_io(top, 'read -P 0 0 70000', 'read -P 0x12 70000 10',
                     'read -P 0 70010 978566', 'read -P 0x77 1M 3M')
        self.check_image(top)

    def test_preallocated_and_zero_clusters(self) -> None:
        img = self.path('prealloc.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                      'preallocation=metadata', img, '4M')
        self.qemu_io(img, 'write -P 0x21 0 4M', 'write -z 1M 1M',
                     read_only=False)
        self.blockio(img, 'read -P 0x21 0 1M', 'read -P 0 1M 1M',
                     'read -P 0x21 2M 2M', read_only=True)
        # into a ZERO cluster (preallocated or not), and in place
        self.blockio(img, 'write -P 0x31 1100k 10', 'write -P 0x32 10 10')
        self.check_image(img)
        self.qemu_io(img, 'read -P 0x21 0 10', 'read -P 0x32 10 10',
                     'read -P 0x21 20 1048556', 'read -P 0 1M 76k',
                     'read -P 0x31 1100k 10', 'read -P 0 1126410 970742',
                     'read -P 0x21 2M 2M')

    def test_backing_shorter_than_overlay(self) -> None:
        base = self.path('base.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', base, '100000')
        self.qemu_io(base, 'write -P 0x33 0 99840', read_only=False)
        top = self.path('top.qcow2')
        self.create(top, '1M', backing=base)
        self.blockio(top, 'read -P 0x33 0 99840', 'read -P 0 100000 948576',
                     read_only=True)
        self.blockio(top, 'write -P 0x44 98304 4096')
        self.qemu_io(top, 'read -P 0x33 0 98304', 'read -P 0x44 98304 4096',
                     'read -P 0 102400 946176')
        self.check_image(top)


class RefcountGrowth(blocktest.BlockTestCase):
    def _rt_clusters(self, img: str) -> int:
        with open(img, 'rb') as f:
            header = f.read(64)
        return int(struct.unpack('>I', header[56:60])[0])

    def test_table_grows_512_byte_clusters(self) -> None:
        img = self.path('small.qcow2')
        self.create(img, '64M', cluster_size=512)
        self.assertEqual(self._rt_clusters(img), 1)
        # one table cluster: 64 blocks of 256 clusters = 8 MiB of file
        self.blockio(img, 'write -P 0x5c 0 12M', 'write -P 0x5d 30M 1000')
        self.assertGreater(self._rt_clusters(img), 1)
        result = self.check_image(img)
        self.assertNotIn('leaks', result)
        self.qemu_io(img, 'read -P 0x5c 0 12M', 'read -P 0x5d 30M 1000',
                     'read -P 0 12M 18M')
        # and again, through several flushes and a reopen
        self.blockio(img, 'write -P 0x5e 40M 6M', 'flush',
                     'write -P 0x5f 50M 6M')
        self.check_image(img)
        self.qemu_io(img, 'read -P 0x5e 40M 6M', 'read -P 0x5f 50M 6M',
                     'read -P 0x5c 0 12M')

    def test_table_grows_64_bit_refcounts(self) -> None:
        img = self.path('wide.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                      'refcount_bits=64,cluster_size=512', img, '16M')
        self.blockio(img, 'write -P 0x71 0 6M')
        self.assertGreater(self._rt_clusters(img), 1)
        self.check_image(img)
        self.qemu_io(img, 'read -P 0x71 0 6M', 'read -P 0 6M 10M')


if __name__ == '__main__':
    blocktest.main()
