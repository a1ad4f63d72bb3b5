#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run one compatibility test case of tests/qapi-compat/ and judge it.

A case is the pair NAME-old.json, NAME-new.json in this directory with
exactly one expectation:

  NAME.out       qapi-compat reads both schemas; the file's first line is
                 `exit status N` (0: no break, 1: a break), the rest is
                 exactly what `qapi-compat NAME-old.json NAME-new.json`
                 prints on stdout; nothing on stderr.
  NAME.err       one of the schemas is invalid: exit status 2, nothing on
                 stdout, exactly this on stderr, no traceback.

and, beside NAME.out, optionally NAME.json-out: exactly what the same
run prints with --json, with the same exit status.

A case whose name starts with `compat-2012-` runs with `--compat 2012`,
one that starts with `old-2012-` with `--old-compat 2012` (only the old
schema is in the 2012 form); every other one without either.

For a NAME.out case, each schema is also compared with itself, which
must give exit status 0 and neither a break nor a warning.

qapi-compat runs with this directory as working directory, so reports
name files as `NAME-new.json:3`.  Each run is made twice, with
PYTHONHASHSEED 0 and 1, and both must agree.

  run-case.py [--compat PROG] NAME...           check cases
  run-case.py [--compat PROG] --update NAME...  rewrite their expectations
  run-case.py [--compat PROG] --update-all      rewrite every expectation
  run-case.py --check-listed MESON_BUILD        every case is listed there

Exit status 0 when everything passed, 1 otherwise.
"""

import re
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from casedir import CASE_DIR, NEW_SUFFIX, OLD_SUFFIX, cases_in_dir
from runner import (Generator, GenRun, Suite, check_error_run, describe,
                    diff, drop_expectation, read_text, run_seeds, suite_main,
                    write_expectation)

DEFAULT_COMPAT = CASE_DIR.parent.parent / 'scripts' / 'qapi-compat.py'
STATUS_LINE = re.compile(r'exit status (\d+)\n')
# A finding that a schema compared with itself must not have.
SELF_FINDING = re.compile(r'^[^\n]*: (break|warning): ', re.M)


def options(name: str) -> List[str]:
    if name.startswith('compat-2012-'):
        return ['--compat', '2012']
    if name.startswith('old-2012-'):
        return ['--old-compat', '2012']
    return []


def compat_run(prog: Generator, name: str, problems: List[str],
               json: bool = False) -> GenRun:
    args = [*options(name), *(['--json'] if json else []),
            name + OLD_SUFFIX, name + NEW_SUFFIX]
    return run_seeds(prog, args, CASE_DIR, problems)


def check_self(prog: Generator, name: str, problems: List[str]) -> None:
    """Each schema of case NAME against itself: no break, no warning."""
    for suffix, compat in ((OLD_SUFFIX, ('old-2012-', 'compat-2012-')),
                           (NEW_SUFFIX, ('compat-2012-',))):
        args = (['--compat', '2012'] if name.startswith(compat) else []) \
            + [name + suffix] * 2
        run = prog.run(args, CASE_DIR, '0')
        if run.returncode != 0 or run.stderr \
           or SELF_FINDING.search(run.stdout):
            problems.append('%s compared with itself: %s'
                            % (name + suffix, describe(run)))


def check_report(name: str, out_file: str, expected: str, run: GenRun,
                 problems: List[str]) -> None:
    """RUN printed the report EXPECTED holds: `exit status N`, stdout."""
    match = STATUS_LINE.match(expected)
    if match is None:
        problems.append("%s does not start with 'exit status N'" % out_file)
        return
    if 'Traceback' in run.stderr:
        problems.append('qapi-compat crashed:\n' + run.stderr)
        return
    status = int(match.group(1))
    if run.returncode != status:
        problems.append('expected exit status %d (%s), got %s'
                        % (status, out_file, describe(run)))
    if run.stderr:
        problems.append('expected nothing on stderr, got:\n' + run.stderr)
    stdout = expected[match.end():]
    if run.stdout != stdout:
        problems.append('stdout differs from %s:\n' % out_file
                        + diff(stdout, run.stdout, out_file + ' (expected)',
                               out_file + ' (actual)'))


def check_case(prog: Generator, name: str) -> List[str]:
    """Problems found with case NAME; empty when it passes."""
    for suffix in (OLD_SUFFIX, NEW_SUFFIX):
        if not (CASE_DIR / (name + suffix)).is_file():
            return ['%s does not exist' % (name + suffix)]
    out_path = CASE_DIR / (name + '.out')
    err_path = CASE_DIR / (name + '.err')
    json_path = CASE_DIR / (name + '.json-out')
    if out_path.exists() == err_path.exists():
        return ['there must be exactly one of %s and %s; run `make '
                'check-update` and review the result with git diff'
                % (out_path.name, err_path.name)]
    if json_path.exists() and not out_path.exists():
        return ['%s without %s' % (json_path.name, out_path.name)]
    problems: List[str] = []
    run = compat_run(prog, name, problems)
    if err_path.exists():
        check_error_run(run, 2, err_path.name, read_text(err_path), problems)
        return problems
    expected = read_text(out_path)
    check_report(name, out_path.name, expected, run, problems)
    if json_path.exists():
        json_run = compat_run(prog, name, problems, json=True)
        status = expected.split('\n', 1)[0]
        check_report(name, json_path.name, status + '\n'
                     + read_text(json_path), json_run, problems)
    check_self(prog, name, problems)
    return problems


def update_case(prog: Generator, name: str) -> Optional[str]:
    """Rewrite the expectations of case NAME from what qapi-compat prints
    now (NAME.json-out only where it exists).  Returns an error message,
    or None after reporting what changed."""
    problems: List[str] = []
    run = compat_run(prog, name, problems)
    if problems:
        return '\n'.join(problems)
    if 'Traceback' in run.stderr:
        return 'qapi-compat crashed, not updating:\n' + run.stderr
    changes: List[str] = []
    out_path = CASE_DIR / (name + '.out')
    err_path = CASE_DIR / (name + '.err')
    json_path = CASE_DIR / (name + '.json-out')
    if run.returncode in (0, 1) and not run.stderr:
        write_expectation(out_path, 'exit status %d\n' % run.returncode
                         + run.stdout, changes)
        drop = err_path
        if json_path.exists():
            json_run = compat_run(prog, name, problems, json=True)
            if problems or json_run.returncode != run.returncode:
                return 'the --json run differs, not updating it: ' \
                    + '\n'.join(problems) + describe(json_run)
            write_expectation(json_path, json_run.stdout, changes)
    elif run.returncode == 2 and not run.stdout:
        write_expectation(err_path, run.stderr, changes)
        drop = out_path
    else:
        return ('neither a report nor a clean schema error, not updating: '
                + describe(run))
    drop_expectation(drop, changes)
    if changes:
        print('%s: %s' % (name, ', '.join(changes)))
    return None


def case_name(arg: str) -> str:
    """A case name from a command-line argument (NAME, NAME-old.json)."""
    name = Path(arg).name
    for suffix in (OLD_SUFFIX, NEW_SUFFIX, '.out', '.err', '.json-out'):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


SUITE = Suite(
    description='Run compatibility test cases of tests/qapi-compat/.',
    prog_option='--compat',
    default_prog=DEFAULT_COMPAT,
    case_help='case names (NAME-old.json, NAME-new.json in %s)' % CASE_DIR,
    cases_in_dir=cases_in_dir,
    case_name=case_name,
    check_case=check_case,
    update_case=update_case,
    list_command='python3 tests/qapi-compat/list-cases.py --write',
)


def main(argv: Sequence[str]) -> int:
    return suite_main(SUITE, argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
