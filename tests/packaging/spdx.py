#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source file of the tree carries an SPDX line naming the
project's license, in its first lines (after a '#!' line, if any):
C and headers, Python, shell and Makefiles, meson files, Jinja2
templates, linker scripts and the project's own schemas.  Test data
(generator and compatibility cases, JSON corpora, expected
outputs) and prose do not.

  spdx.py [--fix] [ROOT]    list the files without it (exit 1 if any);
                            --fix adds it to them
"""

import argparse
import os
import sys
from typing import Iterator, List, Optional

LICENSE = 'MIT'
TAG = 'SPDX-License-Identifier: ' + LICENSE
# Folders that hold no source: build trees, and test data.
SKIP_DIRS = {'.git', 'build', 'build-asan', '__pycache__'}
SKIP_PREFIXES = ('tests/qapi-schema/', 'tests/qapi-compat/',
                 'tests/unit/corpus/', 'tests/fuzz/corpus/',
                 'tests/fuzz/regressions/')
# Executable scripts without an extension, by path.
SCRIPTS = ('.ci/run', 'bench/gen-bench', 'bench/qcow2-bench',
           'bench/qmp-bench', 'bench/snapshot-bench')


def comment(path: str) -> Optional[str]:
    """The SPDX line for PATH in its own comment syntax, or None when
    PATH is not a source file."""
    name = os.path.basename(path)
    ext = os.path.splitext(name)[1]
    if ext in ('.c', '.h', '.map'):
        return '/* %s */' % TAG
    if ext == '.j2':
        return '{# %s #}' % TAG
    if ext in ('.py', '.json', '.in', '.sh') or name in (
            'meson.build', 'meson_options.txt', 'Makefile') \
            or path in SCRIPTS:
        return '# %s' % TAG
    return None


def sources(root: str) -> Iterator[str]:
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root)
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                         and not d.startswith('build'))
        for name in sorted(files):
            rel = os.path.normpath(os.path.join(rel_top, name))
            if rel.startswith(SKIP_PREFIXES):
                continue
            if comment(rel) is not None:
                yield rel


def has_tag(text: str) -> bool:
    return any(TAG in line for line in text.split('\n')[:3])


def fix(path: str, line: str) -> None:
    with open(path, encoding='utf-8') as f:
        text = f.read()
    if text.startswith('#!'):
        first, _, rest = text.partition('\n')
        text = first + '\n' + line + '\n' + rest
    else:
        text = line + '\n' + text
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--fix', action='store_true')
    parser.add_argument('root', nargs='?', default=os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    args = parser.parse_args(argv)
    missing = []
    count = 0
    for rel in sources(args.root):
        count += 1
        path = os.path.join(args.root, rel)
        with open(path, encoding='utf-8') as f:
            if has_tag(f.read()):
                continue
        if args.fix:
            fix(path, comment(rel) or '')
        else:
            missing.append(rel)
    for rel in missing:
        print('no "%s" line: %s' % (TAG, rel))
    print('%d source files, %d without the SPDX line' % (count, len(missing)))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
