#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compile the C that qapi-gen.py writes for each given schema with each
given compiler at the project's warning level, with and without -p,
with every TEST_IF_ condition defined and with none (docs/spec/qapi-language.md
§12).  meson compiles the kitchen sink with its own compiler already;
this adds clang, and compiles schemas the build does not (QEMU's 2012
schemas, with --compat 2012).

With --skip-absent, a schema that does not exist makes the test skipped
(exit status 77) instead of failed: the 2012 seed is not in every
checkout."""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
from typing import List

FLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-Wmissing-prototypes',
         '-Wshadow', '-Wstrict-prototypes', '-fsyntax-only']
SKIP = 77


def pkg_cflags() -> List[str]:
    out = subprocess.run(['pkg-config', '--cflags', 'glib-2.0', 'json-c'],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def conditions(schema: str) -> List[str]:
    names = set()
    for path in glob.glob(os.path.join(os.path.dirname(schema), '*.json')):
        with open(path, encoding='utf-8', errors='replace') as f:
            names.update(re.findall(r"'(TEST_IF_[A-Z0-9_]*)'", f.read()))
    return ['-D' + name for name in sorted(names)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--cc', action='append', required=True,
                        help='a compiler to use (repeatable)')
    parser.add_argument('--gen', required=True)
    parser.add_argument('--include', action='append', default=[])
    parser.add_argument('--schema', action='append', default=[])
    parser.add_argument('--compat', help="qapi-gen.py's --compat")
    parser.add_argument('--skip-absent', action='store_true',
                        help='exit 77 when a schema does not exist')
    args = parser.parse_args()
    absent = [s for s in args.schema if not os.path.isfile(s)]
    if absent and args.skip_absent:
        print('SKIP: no %s' % ', '.join(absent))
        return SKIP
    cflags = pkg_cflags() + ['-I' + inc for inc in args.include]
    gen_options = ['--compat', args.compat] if args.compat else []
    failures = 0
    for schema in args.schema:
        for prefix in ('', 'test-'):
            with tempfile.TemporaryDirectory() as out:
                subprocess.run([sys.executable, args.gen, *gen_options,
                                '-p', prefix, '-o', out, schema], check=True)
                sources = sorted(glob.glob(os.path.join(out, '**', '*.c'),
                                           recursive=True))
                for cc in args.cc:
                    for defines in ([], conditions(schema)):
                        for source in sources:
                            result = subprocess.run(
                                [cc] + FLAGS + cflags + defines + [source],
                                capture_output=True, text=True, check=False)
                            what = '%s %s -p %r %s %s' % (
                                os.path.basename(cc),
                                os.path.basename(schema), prefix,
                                'with all conditions' if defines else
                                'with no condition',
                                os.path.basename(source))
                            if result.returncode != 0 or result.stderr:
                                failures += 1
                                print('FAIL %s\n%s' % (what, result.stderr))
                            else:
                                print('ok   %s' % what)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
