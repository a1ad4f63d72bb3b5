# SPDX-License-Identifier: MIT
"""Running a program of the schema compiler for a golden test case, and
comparing what it printed with what the case expects: shared by
run-case.py here and tests/qapi-compat/run-case.py.

A program runs with PYTHONHASHSEED set to each of HASH_SEEDS, and the
runs must agree: the output is deterministic.
"""

import argparse
import difflib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from caselist import check_listed

HASH_SEEDS = ('0', '1')
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class GenRun:
    """What one generator run did."""
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Generator:
    """How to start the generator."""
    python: str
    script: Path

    def run(self, args: Sequence[str], cwd: Path, hash_seed: str) -> GenRun:
        env = dict(os.environ)
        env['PYTHONHASHSEED'] = hash_seed
        try:
            proc = subprocess.run(
                [self.python, str(self.script), *args], cwd=str(cwd),
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, timeout=TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired:
            return GenRun(-1, '', 'run-case.py: generator timed out after '
                          '%d s\n' % TIMEOUT_SECONDS)
        return GenRun(proc.returncode,
                      proc.stdout.decode('utf-8', errors='replace'),
                      proc.stderr.decode('utf-8', errors='replace'))


def diff(expected: str, actual: str, fromfile: str, tofile: str) -> str:
    """A unified diff of two texts; exact about final newlines."""
    def lines(text: str) -> List[str]:
        result = text.splitlines(keepends=True)
        if result and not result[-1].endswith('\n'):
            result[-1] += '\n\\ No newline at end of file\n'
        return result
    return ''.join(difflib.unified_diff(lines(expected), lines(actual),
                                        fromfile=fromfile, tofile=tofile))


def describe(run: GenRun) -> str:
    """RUN's exit status and output, for a failure message."""
    text = 'exit status %d\n' % run.returncode
    for stream, content in (('stdout', run.stdout), ('stderr', run.stderr)):
        if content:
            text += '--- %s:\n%s' % (stream, content)
            if not content.endswith('\n'):
                text += '\n'
    return text


def read_text(path: Path) -> str:
    return path.read_bytes().decode('utf-8', errors='replace')


def run_seeds(gen: Generator, args: Sequence[str], cwd: Path,
              problems: List[str]) -> GenRun:
    """Run GEN with ARGS once per hash seed; a difference between the
    runs is added to PROBLEMS.  Returns the first run."""
    runs = [gen.run(args, cwd, seed) for seed in HASH_SEEDS]
    first = runs[0]
    for seed, other in zip(HASH_SEEDS[1:], runs[1:]):
        if other == first:
            continue
        problems.append(
            'output depends on PYTHONHASHSEED (%s vs %s):\n'
            % (HASH_SEEDS[0], seed)
            + diff(describe(first), describe(other),
                   'PYTHONHASHSEED=' + HASH_SEEDS[0],
                   'PYTHONHASHSEED=' + seed))
    return first


@dataclass(frozen=True)
class Suite:
    """A golden suite, for suite_main(): its cases, how to judge one and
    how to rewrite its expectations."""
    description: str
    prog_option: str            # the option naming the program: --gen
    default_prog: Path
    case_help: str              # what a NAME argument is
    cases_in_dir: Callable[[], List[str]]
    case_name: Callable[[str], str]
    check_case: Callable[[Generator, str], List[str]]
    update_case: Callable[[Generator, str], Optional[str]]
    list_command: str           # what rewrites the list in meson.build


def _parse_args(suite: Suite, argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=suite.description)
    parser.add_argument('--python', default=sys.executable,
                        help='interpreter for the program '
                        '(default: the one running this script)')
    parser.add_argument(suite.prog_option, dest='prog', type=Path,
                        default=suite.default_prog,
                        help='the program (default: %(default)s)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--update', action='store_true',
                      help="rewrite the named cases' expectations")
    mode.add_argument('--update-all', action='store_true',
                      help="rewrite every case's expectation")
    mode.add_argument('--check-listed', metavar='MESON_BUILD', type=Path,
                      help='check that MESON_BUILD lists every case')
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help=suite.case_help)
    args = parser.parse_args(argv)
    if args.update_all or args.check_listed:
        if args.names:
            parser.error('no NAME with --update-all or --check-listed')
    elif not args.names:
        parser.error('name at least one case')
    return args


def suite_main(suite: Suite, argv: Sequence[str]) -> int:
    """The command line of a suite's run-case.py: check the named cases,
    rewrite expectations, or check the list in meson.build.  Exit status
    0 when everything passed, 1 otherwise."""
    args = _parse_args(suite, argv)
    if args.check_listed:
        problems = check_listed(args.check_listed.resolve(),
                                suite.cases_in_dir(), suite.list_command)
        for problem in problems:
            print('FAIL: ' + problem)
        return 1 if problems else 0

    prog = Generator(args.python, args.prog.resolve())
    if not prog.script.is_file():
        print('run-case.py: %s not found' % prog.script, file=sys.stderr)
        return 1
    failed = 0
    if args.update or args.update_all:
        names = suite.cases_in_dir() if args.update_all else \
            [suite.case_name(arg) for arg in args.names]
        for name in names:
            error = suite.update_case(prog, name)
            if error:
                failed += 1
                print('%s: NOT UPDATED: %s' % (name, error.rstrip('\n')))
        print('%d cases, %d not updated' % (len(names), failed))
        return 1 if failed else 0

    for name in (suite.case_name(arg) for arg in args.names):
        problems = suite.check_case(prog, name)
        if problems:
            failed += 1
            for problem in problems:
                print('%s: FAIL: %s' % (name, problem.rstrip('\n')))
        else:
            print('%s: ok' % name)
    return 1 if failed else 0


def check_error_run(run: GenRun, status: int, err_file: str, expected: str,
                    problems: List[str]) -> bool:
    """RUN failed as the expectation ERR_FILE says: exit status STATUS,
    nothing on stdout, exactly EXPECTED on stderr, no traceback.  Adds
    what differs to PROBLEMS; False when the run is too far off to say
    more (a crash, another exit status)."""
    if 'Traceback' in run.stderr:
        problems.append('the program crashed:\n' + run.stderr)
        return False
    if run.returncode != status:
        problems.append('expected exit status %d (%s exists), got %s'
                        % (status, err_file, describe(run)))
        return False
    if run.stdout:
        problems.append('expected nothing on stdout, got:\n' + run.stdout)
    if run.stderr != expected:
        problems.append('stderr differs from %s:\n' % err_file
                        + diff(expected, run.stderr, err_file + ' (expected)',
                               err_file + ' (actual)'))
    return True


def write_expectation(path: Path, content: str, changes: List[str]) -> None:
    """Write CONTENT to PATH unless it holds it already; say so in
    CHANGES."""
    if not path.exists():
        changes.append('created ' + path.name)
    elif read_text(path) != content:
        changes.append('updated ' + path.name)
    else:
        return
    path.write_bytes(content.encode('utf-8'))


def drop_expectation(path: Path, changes: List[str]) -> None:
    if path.exists():
        path.unlink()
        changes.append('removed ' + path.name)
