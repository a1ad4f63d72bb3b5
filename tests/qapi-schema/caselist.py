"""The list of generator test cases, on disk and in meson.build.

A case is a file NAME.json directly in tests/qapi-schema/ (files in
subdirectories are helpers that cases include).  meson.build names every
case in one list between two marker lines; list-cases.py rewrites that
list and run-case.py --check-listed compares it with the directory.
"""

import re
import sys
from pathlib import Path
from typing import List, Tuple

CASE_DIR = Path(__file__).resolve().parent
MESON_BUILD = CASE_DIR / 'meson.build'
BEGIN_MARKER = '# BEGIN CASES'
END_MARKER = '# END CASES'
_QUOTED = re.compile(r"'([^'\\]*)'")


def cases_in_dir(directory: Path = CASE_DIR) -> List[str]:
    """Names (without .json) of the cases in DIRECTORY, sorted."""
    return sorted(path.stem for path in directory.glob('*.json')
                  if path.is_file())


def _block_bounds(lines: List[str], where: str) -> Tuple[int, int]:
    """Indices of the BEGIN and END marker lines in LINES."""
    begin = end = -1
    for index, line in enumerate(lines):
        if line.strip().startswith(BEGIN_MARKER) and begin < 0:
            begin = index
        elif line.strip().startswith(END_MARKER) and begin >= 0:
            end = index
            break
    if begin < 0 or end < 0:
        raise ValueError("%s: no '%s' ... '%s' block"
                         % (where, BEGIN_MARKER, END_MARKER))
    return begin, end


def cases_in_meson(text: str, where: str = 'meson.build') -> List[str]:
    """The case names listed between the markers of a meson.build TEXT."""
    lines = text.splitlines()
    begin, end = _block_bounds(lines, where)
    names: List[str] = []
    for line in lines[begin + 1:end]:
        code = line.split('#', 1)[0]
        names.extend(_QUOTED.findall(code))
    return names


def format_meson(cases: List[str]) -> str:
    """The 'cases = [...]' assignment for CASES, one name a line."""
    if not cases:
        return 'cases = []\n'
    body = ''.join("  '%s',\n" % name for name in cases)
    return 'cases = [\n' + body + ']\n'


def replace_in_meson(text: str, cases: List[str],
                     where: str = 'meson.build') -> str:
    """TEXT with the list between its markers replaced by CASES."""
    lines = text.splitlines(keepends=True)
    begin, end = _block_bounds([line.rstrip('\n') for line in lines], where)
    return (''.join(lines[:begin + 1]) + format_meson(cases)
            + ''.join(lines[end:]))


def rewrite_meson(meson_file: Path, cases: List[str]) -> int:
    """Rewrite the list of MESON_FILE to CASES (list-cases.py --write),
    saying what was done; the exit status."""
    old = meson_file.read_text(encoding='utf-8')
    try:
        new = replace_in_meson(old, cases, str(meson_file))
    except ValueError as err:
        print('list-cases.py: %s' % err, file=sys.stderr)
        return 1
    if new != old:
        meson_file.write_text(new, encoding='utf-8')
    print('%s: %s, %d cases' % (meson_file, 'rewritten' if new != old
                                else 'unchanged', len(cases)))
    return 0


def check_listed(meson_file: Path, present: List[str],
                 regenerate: str) -> List[str]:
    """Differences between the cases listed in MESON_FILE and PRESENT,
    those on disk; REGENERATE is the command that rewrites the list."""
    try:
        text = meson_file.read_bytes().decode('utf-8', errors='replace')
        listed = cases_in_meson(text, str(meson_file))
    except (OSError, ValueError) as err:
        return [str(err)]
    problems = []
    unlisted = sorted(set(present) - set(listed))
    missing = sorted(set(listed) - set(present))
    duplicates = sorted({case for case in listed if listed.count(case) > 1})
    if unlisted:
        problems.append('not listed in %s: %s' % (meson_file,
                                                   ', '.join(unlisted)))
    if missing:
        problems.append('listed in %s but not on disk: %s'
                        % (meson_file, ', '.join(missing)))
    if duplicates:
        problems.append('listed twice: ' + ', '.join(duplicates))
    if problems:
        problems.append('regenerate the list with: ' + regenerate)
    return problems
