#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test man-pages: each manual page renders without a warning, reads as a
manual, and documents every option of its program.

  check-man-pages.py --man MAN [--page NAME PAGE PROGRAM]...

For each page NAME (the built file PAGE):

  1. `MAN --warnings -l PAGE` exits 0 and writes nothing on stderr;
  2. the rendered text has the sections NAME, SYNOPSIS, DESCRIPTION,
     OPTIONS, EXIT STATUS, EXAMPLES and SEE ALSO, in that order; its NAME
     section reads "NAME - summary" (the line whatis(1) and apropos(1)
     index); no @VARIABLE@ is left unconfigured;
  3. every option, long and short, in the option list that
     `PROGRAM --help` prints appears in the OPTIONS section.  PROGRAM ''
     (not built) skips this step, with a note.

Exit status 0 when all of it holds; every failure is printed.
"""

import argparse
import os
import re
import subprocess
import sys
from typing import Dict, List, Optional

REQUIRED_SECTIONS = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS',
                     'EXIT STATUS', 'EXAMPLES', 'SEE ALSO']

# An option word: -x or --long-name, not inside a longer word.
OPTION = re.compile(r'(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)')

failures: List[str] = []


def fail(page: str, message: str) -> None:
    failures.append('%s: %s' % (page, message))
    print('FAIL: %s: %s' % (page, message))


def render(man: str, page: str) -> Optional[str]:
    """The page as man prints it, 80 columns wide; None on a failure."""
    env = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80', MANPAGER='cat',
               PAGER='cat')
    for variable in ('MANOPT', 'MAN_KEEP_FORMATTING', 'MANROFFOPT'):
        env.pop(variable, None)
    proc = subprocess.run([man, '--warnings', '-l', page], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        fail(page, 'man exited with %d: %s' % (proc.returncode, proc.stderr))
        return None
    if proc.stderr:
        fail(page, 'man --warnings printed:\n' + proc.stderr)
    # Overstrikes (if a pager setting kept them), typographic hyphens and
    # words broken after a hyphen at the end of a line (--output-dir as
    # "--output-" and "dir") would hide options from the search below.
    text = re.sub(r'.\x08', '', proc.stdout)
    text = text.translate({0x2010: '-', 0x2011: '-', 0x2212: '-'})
    return re.sub(r'-\n[ \t]+', '-', text)


def sections(text: str) -> Dict[str, str]:
    """Section heading -> its text; headings are the lines at column 0
    between the header and the footer lines."""
    result: Dict[str, str] = {}
    current: Optional[str] = None
    lines = text.splitlines()
    for line in lines[1:-1]:
        if line and not line[0].isspace():
            current = line.strip()
            result[current] = ''
        elif current is not None:
            result[current] += line + '\n'
    return result


def help_options(program: str) -> List[str]:
    """The options in the option list of PROGRAM --help, in order."""
    proc = subprocess.run([program, '--help'], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError('%s --help exited with %d: %s'
                           % (program, proc.returncode, proc.stderr))
    options: List[str] = []
    for line in proc.stdout.splitlines():
        # "  -s, --socket=SOCKET   text" (GOption) or "  -o DIR, --output-dir
        # DIR   text" (argparse): the option part ends at two spaces.
        match = re.match(r'^ {1,8}(-\S.*)$', line)
        if not match:
            continue
        spec = re.split(r' {2,}', match.group(1))[0]
        for option in OPTION.findall(spec):
            if option not in options:
                options.append(option)
    return options


def check_page(man: str, name: str, page: str, program: str) -> None:
    failed_before = len(failures)
    text = render(man, page)
    if text is None:
        return
    if '@' in text and re.search(r'@[A-Z_]+@', text):
        fail(page, 'an unconfigured @VARIABLE@ is left')
    found = sections(text)
    missing = [s for s in REQUIRED_SECTIONS if s not in found]
    if missing:
        fail(page, 'no section %s (sections: %s)'
             % (', '.join(missing), ', '.join(found)))
    else:
        order = [list(found).index(s) for s in REQUIRED_SECTIONS]
        if order != sorted(order):
            fail(page, 'the sections are not in the order %s'
                 % ', '.join(REQUIRED_SECTIONS))
        if not re.match(r'\s*%s - \S' % re.escape(name), found['NAME']):
            fail(page, 'NAME does not read "%s - summary": %r'
                 % (name, found['NAME']))
    if not program:
        print('note: %s is not built here; its options are not checked'
              % name)
        return
    try:
        options = help_options(program)
    except (OSError, RuntimeError) as err:
        fail(page, str(err))
        return
    if len(options) < 2:
        fail(page, '%s --help lists no options: %r' % (program, options))
    documented = found.get('OPTIONS', '')
    for option in options:
        if not re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(option),
                         documented):
            fail(page, '%s --help lists %s, the OPTIONS section does not'
                 % (name, option))
    if len(failures) == failed_before:
        print('ok: %s: %d options of --help documented'
              % (name, len(options)))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--man', required=True)
    parser.add_argument('--page', nargs=3, action='append', default=[],
                        metavar=('NAME', 'PAGE', 'PROGRAM'))
    args = parser.parse_args(argv)
    if not args.page:
        parser.error('no --page')
    for name, page, program in args.page:
        check_page(args.man, name, page, program)
    if failures:
        print('%d failure(s)' % len(failures))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
