#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/adding-a-command.md works exactly as written.

Takes the tutorial's schema (the ```json block), its C file (the ```c
block that starts with '/* greet.c'), its shell commands (every ```sh
block) and its expected output (the ``` block after "It prints"), lays
them out in a scratch directory beside links to scripts/ and to the build
tree, runs the shell commands as written, then ./greet, and compares.
"""

import os
import re
import subprocess
import sys
import tempfile


def blocks(text: str):
    return re.findall(r'```([a-z]*)\n(.*?)```', text, re.S)


def main() -> int:
    source_root, build_root = sys.argv[1], sys.argv[2]
    sanitize = sys.argv[3] if len(sys.argv) > 3 else 'none'
    with open(os.path.join(source_root, 'docs', 'adding-a-command.md'),
              encoding='utf-8') as f:
        text = f.read()
    found = blocks(text)
    schema = next(body for lang, body in found if lang == 'json')
    program = next(body for lang, body in found
                   if lang == 'c' and body.startswith('/* greet.c'))
    commands = [body for lang, body in found if lang == 'sh']
    after = text[text.index('It prints one response per request'):]
    expected = blocks(after)[0][1]

    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(os.path.join(source_root, 'scripts'),
                   os.path.join(tmp, 'scripts'))
        os.symlink(build_root, os.path.join(tmp, 'build'))
        with open(os.path.join(tmp, 'greet.json'), 'w') as f:
            f.write(schema)
        with open(os.path.join(tmp, 'greet.c'), 'w') as f:
            f.write(program)
        env = dict(os.environ)
        if sanitize != 'none':
            # The library was built with sanitizers: so must the program
            # be, or the sanitizer runtime refuses to start.  The
            # tutorial says 'cc'; a 'cc' first in PATH adds the flag.
            bindir = os.path.join(tmp, 'bin')
            os.mkdir(bindir)
            with open(os.path.join(bindir, 'cc'), 'w') as f:
                f.write('#!/bin/sh\nexec /usr/bin/cc -fsanitize=%s "$@"\n'
                        % sanitize)
            os.chmod(os.path.join(bindir, 'cc'), 0o755)
            env['PATH'] = bindir + os.pathsep + env['PATH']
        for command in commands:
            result = subprocess.run(['sh', '-e', '-c', command], cwd=tmp,
                                    env=env,
                                    capture_output=True, text=True,
                                    check=False)
            if result.returncode != 0:
                print('FAIL: the tutorial command failed:\n%s\n%s%s'
                      % (command, result.stdout, result.stderr))
                return 1
        result = subprocess.run(
            ['./greet'], cwd=tmp, capture_output=True, text=True,
            env=dict(os.environ, LD_LIBRARY_PATH=os.path.join(
                build_root, 'lib')), check=False)
        if result.returncode != 0 or result.stdout != expected:
            print('FAIL: ./greet printed (status %d):\n%s%s\nexpected:\n%s'
                  % (result.returncode, result.stdout, result.stderr,
                     expected))
            return 1
    print('ok: the tutorial builds and prints what it says')
    return 0


if __name__ == '__main__':
    sys.exit(main())
