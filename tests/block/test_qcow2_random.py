#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Randomized: random patterns at random offsets and lengths, written
through our qcow2 driver and into an in-memory model of the disk, across
several snapshot layers (each a new overlay whose backing is the previous
top).  After each layer every layer is compared with its model (through
our reads and through qemu-img compare) and passes qemu-img check.

The seed is printed; QAPIKIT_BLOCK_SEED=N replays one."""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blocktest  # noqa: E402

MiB = 1024 * 1024


class Randomized(blocktest.BlockTestCase):
    def run_seed(self, seed: int, cluster_size: int, base_opts: str,
                 size: int, layers: int, writes: int) -> None:
        print(f'seed {seed}, cluster size {cluster_size}, base {base_opts}',
              flush=True)
        rng = random.Random(seed)
        base = self.path(f's{seed}-layer0.qcow2')
        self.qemu_img('create', '-q', '-f', 'qcow2', '-o',
                      f'{base_opts},cluster_size={cluster_size}', base,
                      str(size))
        model = bytearray(size)
        # the base gets a few qemu-io writes of its own
        cmds = []
        for _ in range(8):
            off = rng.randrange(size)
            n = rng.randint(1, min(size - off, 2 * MiB))
            pat = rng.randrange(1, 256)
            cmds.append(f'write -P {pat} {off} {n}')
            model[off:off + n] = bytes([pat]) * n
        self.qemu_io(base, *cmds, read_only=False)
        images = [base]
        models = [bytes(model)]

        for layer in range(1, layers + 1):
            top = self.path(f's{seed}-layer{layer}.qcow2')
            self.create(top, size, cluster_size=cluster_size,
                        backing=images[-1])
            # two sessions per layer: the second reopens the image
            for _session in range(2):
                cmds = []
                for _ in range(writes):
                    if rng.random() < 0.15:
                        # a sequential burst: the deferred copy-on-write
                        off = rng.randrange(size - 64 * 1024)
                        pat = rng.randrange(256)
                        for _ in range(rng.randint(2, 40)):
                            n = min(rng.randint(1, 3000), size - off)
                            if n <= 0:
                                break
                            cmds.append(f'write -P {pat} {off} {n}')
                            model[off:off + n] = bytes([pat]) * n
                            off += n
                            pat = (pat + 1) % 256
                        continue
                    kind = rng.random()
                    if kind < 0.3:
                        n = rng.randint(1, 700)
                    elif kind < 0.6:
                        n = rng.randint(1, 4) * cluster_size
                    elif kind < 0.9:
                        n = rng.randint(1, 3 * cluster_size + 1000)
                    else:
                        n = rng.randint(1, 4 * MiB)
                    n = min(n, size)
                    if rng.random() < 0.4:
                        off = rng.randrange(0, size - n + 1, 512)
                    else:
                        off = rng.randrange(0, size - n + 1)
                    pat = rng.randrange(256)
                    cmds.append(f'write -P {pat} {off} {n}')
                    model[off:off + n] = bytes([pat]) * n
                    if rng.random() < 0.1:
                        cmds.append('flush')
                self.blockio(top, *cmds)
            images.append(top)
            models.append(bytes(model))
            self.verify(images, models, seed)

    def verify(self, images: list[str], models: list[bytes],
               seed: int) -> None:
        for i, (img, expected) in enumerate(zip(images, models)):
            got = self.read_guest(img, 0, len(expected))
            if got != expected:
                first = next(k for k in range(len(got))
                             if got[k] != expected[k])
                self.fail(f'seed {seed}: layer {i} differs from the model at '
                          f'{first}: {got[first]:#x} != {expected[first]:#x}')
            ref = self.path(f'model{i}.raw')
            with open(ref, 'wb') as f:
                f.write(expected)
            self.compare(img, ref, fmt_b='raw')
            self.check_image(img)
        chain = self.qemu_info(images[-1])
        self.assertEqual([c['filename'] for c in chain], images[::-1])

    def test_random_layers(self) -> None:
        forced = os.environ.get('QAPIKIT_BLOCK_SEED')
        seeds = ([int(forced)] if forced
                 else [random.SystemRandom().randrange(1 << 30)
                       for _ in range(3)])
        configs = [(65536, 'compat=1.1', 24 * MiB, 3, 40),
                   (4096, 'compat=0.10', 12 * MiB, 3, 60),
                   (512, 'compat=1.1,refcount_bits=1', 6 * MiB, 3, 60)]
        for seed, config in zip(seeds * 3, configs):
            with self.subTest(seed=seed, cluster_size=config[0]):
                self.run_seed(seed, *config)


if __name__ == '__main__':
    blocktest.main()
