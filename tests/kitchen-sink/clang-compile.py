#!/usr/bin/env python3
"""Compile the C that qapi-gen.py writes for each given schema with clang
at the project's warning level, with and without -p, with every TEST_IF_
condition defined and with none (qapi-language.md §12; issue: generated
C compiles with gcc and clang).  meson compiles it with gcc already."""

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
    parser.add_argument('--clang', required=True)
    parser.add_argument('--gen', required=True)
    parser.add_argument('--include', action='append', default=[])
    parser.add_argument('--schema', action='append', default=[])
    args = parser.parse_args()
    cflags = pkg_cflags() + ['-I' + inc for inc in args.include]
    failures = 0
    for schema in args.schema:
        for prefix in ('', 'test-'):
            with tempfile.TemporaryDirectory() as out:
                subprocess.run([sys.executable, args.gen, '-p', prefix,
                                '-o', out, schema], check=True)
                sources = sorted(glob.glob(os.path.join(out, '**', '*.c'),
                                           recursive=True))
                for defines in ([], conditions(schema)):
                    for source in sources:
                        result = subprocess.run(
                            [args.clang] + FLAGS + cflags + defines
                            + [source], capture_output=True, text=True,
                            check=False)
                        what = '%s -p %r %s %s' % (
                            os.path.basename(schema), prefix,
                            'with all conditions' if defines else
                            'with no condition', os.path.basename(source))
                        if result.returncode != 0 or result.stderr:
                            failures += 1
                            print('FAIL %s\n%s' % (what, result.stderr))
                        else:
                            print('ok   %s' % what)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
