#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test subproject: qapikit used as a subproject by a parent meson
project (tests/packaging/subproject-test/), which gets the generator and
the runtime through meson.override_find_program('qapi-gen') and
meson.override_dependency('qapikit').

    check-subproject.py --meson MESON --ninja NINJA SOURCE_ROOT PARENT_DIR

In a temporary directory: a copy of PARENT_DIR, SOURCE_ROOT linked as
its subprojects/qapikit, `meson setup --force-fallback-for=qapikit`,
`ninja` (everything: the parent and all of qapikit that builds by
default, as a parent project's build does), then the parent's program
`hello`, which dispatches its one command through libqapikit.  Nothing
is written to SOURCE_ROOT.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from typing import List


def run(cmd: List[str], cwd: str) -> bool:
    print('$ ' + ' '.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    print(proc.stdout, end='', flush=True)
    if proc.returncode != 0:
        print('FAIL: %s exited with %d' % (cmd[0], proc.returncode))
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--meson', required=True)
    parser.add_argument('--ninja', required=True)
    parser.add_argument('--keep', action='store_true',
                        help='keep the temporary directory')
    parser.add_argument('source_root')
    parser.add_argument('parent_dir')
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix='qapikit-subproject-')
    try:
        parent = os.path.join(tmp, 'parent')
        shutil.copytree(args.parent_dir, parent)
        os.makedirs(os.path.join(parent, 'subprojects'))
        os.symlink(os.path.abspath(args.source_root),
                   os.path.join(parent, 'subprojects', 'qapikit'))
        build = os.path.join(tmp, 'build')
        ok = (run([args.meson, 'setup', '--force-fallback-for=qapikit',
                   build, parent], cwd=tmp)
              and run([args.ninja, '-C', build], cwd=tmp)
              and run([os.path.join(build, 'hello')], cwd=tmp))
    finally:
        if args.keep:
            print('kept ' + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print('subproject: ' + ('ok' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
