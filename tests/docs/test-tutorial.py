#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/adding-a-command.md works exactly as written.

Takes the tutorial's files out of the page: the schema (the ```json
block), the program (the ```c block that starts with '/* greet.c'), the
requests (the ```text block) and the meson project (the ```meson block).
Lays them out in a scratch directory beside links to scripts/ and to the
build tree, runs the ```sh blocks in order as written (the meson one in
a directory of its own holding the project), and compares what the
program printed with the block that follows "It prints", timestamps
aside.

  test-tutorial.py SOURCE_ROOT BUILD_ROOT [SANITIZE]
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Tuple

TIMESTAMP = re.compile(r'"timestamp":\{"seconds":-?\d+,"microseconds":-?\d+\}')


def blocks(text: str) -> List[Tuple[str, str]]:
    return re.findall(r'```([a-z]*)\n(.*?)```', text, re.S)


def without_times(output: str) -> str:
    return TIMESTAMP.sub('"timestamp":{...}', output)


def sanitized_env(tmp: str, sanitize: str) -> Dict[str, str]:
    """The environment of the commands.  With a sanitized library, what
    links it must be sanitized too: the tutorial says 'cc', so a 'cc'
    first in PATH adds the flag, and meson takes it from CFLAGS."""
    env = dict(os.environ)
    if sanitize == 'none':
        return env
    bindir = os.path.join(tmp, 'bin')
    os.mkdir(bindir)
    with open(os.path.join(bindir, 'cc'), 'w') as f:
        f.write('#!/bin/sh\nexec /usr/bin/cc -fsanitize=%s "$@"\n' % sanitize)
    os.chmod(os.path.join(bindir, 'cc'), 0o755)
    env['PATH'] = bindir + os.pathsep + env['PATH']
    env['CFLAGS'] = env['LDFLAGS'] = '-fsanitize=' + sanitize
    return env


def main() -> int:
    source_root, build_root = sys.argv[1], sys.argv[2]
    sanitize = sys.argv[3] if len(sys.argv) > 3 else 'none'
    with open(os.path.join(source_root, 'docs', 'adding-a-command.md'),
              encoding='utf-8') as f:
        text = f.read()
    found = blocks(text)
    files = {
        'greet.json': next(body for lang, body in found if lang == 'json'),
        'greet.c': next(body for lang, body in found
                        if lang == 'c' and body.startswith('/* greet.c')),
        'requests.txt': next(body for lang, body in found if lang == 'text'),
    }
    project = next(body for lang, body in found if lang == 'meson')
    commands = [body for lang, body in found if lang == 'sh']
    after = text[text.index('It prints the greeting'):]
    expected = blocks(after)[0][1]

    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(source_root, 'scripts'),
                   os.path.join(tmp, 'scripts'))
        os.symlink(build_root, os.path.join(tmp, 'build'))
        for name, body in files.items():
            with open(os.path.join(tmp, name), 'w') as f:
                f.write(body)
        meson_dir = os.path.join(tmp, 'meson-project')
        os.mkdir(meson_dir)
        for name in ('greet.json', 'greet.c'):
            shutil.copy(os.path.join(tmp, name), meson_dir)
        with open(os.path.join(meson_dir, 'meson.build'), 'w') as f:
            f.write(project)
        env = sanitized_env(tmp, sanitize)
        env['PKG_CONFIG_PATH'] = os.path.join(build_root,
                                              'meson-uninstalled')
        printed = None
        for command in commands:
            cwd = meson_dir if command.startswith('meson ') else tmp
            result = subprocess.run(['sh', '-e', '-c', command], cwd=cwd,
                                    env=env, capture_output=True, text=True,
                                    check=False)
            if result.returncode != 0:
                print('FAIL: the tutorial command failed:\n%s\n%s%s'
                      % (command, result.stdout, result.stderr))
                return 1
            if './greet' in command:
                printed = result.stdout.replace('\r\n', '\n')
        if printed is None:
            print('FAIL: no command of the tutorial runs ./greet')
            return 1
        if without_times(printed) != without_times(expected):
            print('FAIL: ./greet printed:\n%s\nexpected:\n%s'
                  % (printed, expected))
            return 1
        if not os.access(os.path.join(meson_dir, 'builddir', 'greet'),
                         os.X_OK):
            print('FAIL: the meson project built no greet')
            return 1
    print('ok: the tutorial builds (shell and meson) and prints what it says')
    return 0


if __name__ == '__main__':
    sys.exit(main())
