#!/usr/bin/env python3
"""Run one generator test case of tests/qapi-schema/ and judge it.

A case is NAME.json in this directory with exactly one expectation:

  NAME.out  the generator accepts the schema; `--dump-model` prints
            exactly this on stdout, nothing on stderr, exit status 0.
  NAME.err  the generator rejects it: exit status 1, nothing on stdout,
            exactly this on stderr, no traceback; and run with `-o DIR`
            it writes nothing into DIR.

A case whose name starts with `compat-2012-` is run with `--compat 2012`
(docs/spec/qapi-language.md §11/7), every other one without it.

The generator runs with this directory as working directory, so messages
name files as `NAME.json:3: ...`.  It runs twice, with PYTHONHASHSEED 0 and
1, and both runs must agree (the output is deterministic).

  run-case.py [--gen GEN] NAME...          check cases
  run-case.py [--gen GEN] --update NAME... rewrite their NAME.out/NAME.err
  run-case.py [--gen GEN] --update-all     rewrite every case's expectation
  run-case.py --check-listed MESON_BUILD   every case is listed there

Exit status 0 when everything passed, 1 otherwise.
"""

import argparse
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from caselist import CASE_DIR, cases_in_dir, cases_in_meson
from runner import (HASH_SEEDS, Generator, GenRun, describe, diff, read_text,
                    run_seeds)

DEFAULT_GEN = CASE_DIR.parent.parent / 'scripts' / 'qapi-gen.py'
COMPAT_2012_PREFIX = 'compat-2012-'


def options(name: str) -> List[str]:
    """The generator options of case NAME, beside its schema."""
    return ['--compat', '2012'] if name.startswith(COMPAT_2012_PREFIX) \
        else []


def dump_model(gen: Generator, name: str, problems: List[str]) -> GenRun:
    """Run `--dump-model NAME.json` once per hash seed; a difference
    between the runs is added to PROBLEMS.  Returns the first run."""
    return run_seeds(gen, [*options(name), '--dump-model', name + '.json'],
                     CASE_DIR, problems)


def check_accepted(name: str, expected: str, run: GenRun,
                   problems: List[str]) -> None:
    out_file = name + '.out'
    if run.returncode != 0:
        problems.append('expected exit status 0 (%s exists), got %s'
                        % (out_file, describe(run)))
        return
    if run.stderr:
        problems.append('expected nothing on stderr, got:\n' + run.stderr)
    if run.stdout != expected:
        problems.append('stdout differs from %s:\n' % out_file
                        + diff(expected, run.stdout, out_file + ' (expected)',
                               out_file + ' (actual)'))


def check_rejected(gen: Generator, name: str, expected: str, run: GenRun,
                   problems: List[str]) -> None:
    err_file = name + '.err'
    if 'Traceback' in run.stderr:
        problems.append('the generator crashed:\n' + run.stderr)
        return
    if run.returncode != 1:
        problems.append('expected exit status 1 (%s exists), got %s'
                        % (err_file, describe(run)))
        return
    if run.stdout:
        problems.append('expected nothing on stdout, got:\n' + run.stdout)
    if run.stderr != expected:
        problems.append('stderr differs from %s:\n' % err_file
                        + diff(expected, run.stderr, err_file + ' (expected)',
                               err_file + ' (actual)'))
    # Generating C from a bad schema must fail the same way and write
    # nothing at all.
    with tempfile.TemporaryDirectory(prefix='qapi-case-') as out_dir:
        gen_run = gen.run([*options(name), '-o', out_dir, name + '.json'],
                          CASE_DIR, HASH_SEEDS[0])
        written = sorted(str(path.relative_to(out_dir))
                         for path in Path(out_dir).rglob('*'))
    if 'Traceback' in gen_run.stderr:
        problems.append('with -o DIR, the generator crashed:\n'
                        + gen_run.stderr)
    elif gen_run.returncode != 1:
        problems.append('with -o DIR, expected exit status 1, got '
                        + describe(gen_run))
    if written:
        problems.append('with -o DIR, files were written despite the '
                        'error: ' + ', '.join(written))


def check_case(gen: Generator, name: str) -> List[str]:
    """Problems found with case NAME; empty when it passes."""
    problems: List[str] = []
    schema = CASE_DIR / (name + '.json')
    out_path = CASE_DIR / (name + '.out')
    err_path = CASE_DIR / (name + '.err')
    if not schema.is_file():
        return ['%s does not exist' % schema.name]
    if out_path.exists() and err_path.exists():
        return ['both %s and %s exist; keep the one that applies'
                % (out_path.name, err_path.name)]
    if not out_path.exists() and not err_path.exists():
        return ['neither %s nor %s exists; run `make check-update` and '
                'review the result with git diff'
                % (out_path.name, err_path.name)]
    run = dump_model(gen, name, problems)
    if out_path.exists():
        check_accepted(name, read_text(out_path), run, problems)
    else:
        check_rejected(gen, name, read_text(err_path), run, problems)
    return problems


def update_case(gen: Generator, name: str) -> Optional[str]:
    """Rewrite NAME.out or NAME.err from what the generator prints now.
    Returns an error message, or None after reporting what changed."""
    if not (CASE_DIR / (name + '.json')).is_file():
        return '%s.json does not exist' % name
    problems: List[str] = []
    run = dump_model(gen, name, problems)
    if problems:
        return '\n'.join(problems)
    if 'Traceback' in run.stderr:
        return 'the generator crashed, not updating:\n' + run.stderr
    if run.returncode == 0 and not run.stderr:
        keep, drop, content = '.out', '.err', run.stdout
    elif run.returncode == 1 and not run.stdout:
        keep, drop, content = '.err', '.out', run.stderr
    else:
        return ('neither a clean success nor a clean schema error, not '
                'updating: ' + describe(run))
    keep_path = CASE_DIR / (name + keep)
    drop_path = CASE_DIR / (name + drop)
    changes = []
    if not keep_path.exists():
        changes.append('created ' + keep_path.name)
    elif read_text(keep_path) != content:
        changes.append('updated ' + keep_path.name)
    if changes:
        keep_path.write_bytes(content.encode('utf-8'))
    if drop_path.exists():
        drop_path.unlink()
        changes.append('removed ' + drop_path.name)
    if changes:
        print('%s: %s' % (name, ', '.join(changes)))
    return None


def check_listed(meson_file: Path) -> List[str]:
    """Differences between the cases in MESON_FILE and the directory."""
    try:
        listed = cases_in_meson(read_text(meson_file), str(meson_file))
    except (OSError, ValueError) as err:
        return [str(err)]
    present = cases_in_dir()
    problems = []
    unlisted = sorted(set(present) - set(listed))
    missing = sorted(set(listed) - set(present))
    duplicates = sorted({case for case in listed if listed.count(case) > 1})
    if unlisted:
        problems.append('not listed in %s: %s' % (meson_file,
                                                   ', '.join(unlisted)))
    if missing:
        problems.append('listed in %s but no .json file: %s'
                        % (meson_file, ', '.join(missing)))
    if duplicates:
        problems.append('listed twice: ' + ', '.join(duplicates))
    if problems:
        problems.append('regenerate the list with: '
                        'python3 tests/qapi-schema/list-cases.py --write')
    return problems


def case_name(arg: str) -> str:
    """A case name from a command-line argument (NAME, NAME.json, path)."""
    name = Path(arg).name
    return name[:-len('.json')] if name.endswith('.json') else name


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Run generator test cases of tests/qapi-schema/.')
    parser.add_argument('--python', default=sys.executable,
                        help='interpreter for the generator '
                        '(default: the one running this script)')
    parser.add_argument('--gen', type=Path, default=DEFAULT_GEN,
                        help='the generator script (default: %(default)s)')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--update', action='store_true',
                      help="rewrite the named cases' expectations")
    mode.add_argument('--update-all', action='store_true',
                      help="rewrite every case's expectation")
    mode.add_argument('--check-listed', metavar='MESON_BUILD', type=Path,
                      help='check that MESON_BUILD lists every case')
    parser.add_argument('names', nargs='*', metavar='NAME',
                        help='case names (NAME.json in %s)' % CASE_DIR)
    args = parser.parse_args(argv)
    if args.update_all or args.check_listed:
        if args.names:
            parser.error('no NAME with --update-all or --check-listed')
    elif not args.names:
        parser.error('name at least one case')
    return args


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    if args.check_listed:
        problems = check_listed(args.check_listed.resolve())
        for problem in problems:
            print('FAIL: ' + problem)
        return 1 if problems else 0

    gen = Generator(args.python, args.gen.resolve())
    if not gen.script.is_file():
        print('run-case.py: generator %s not found' % gen.script,
              file=sys.stderr)
        return 1

    failed = 0
    if args.update or args.update_all:
        names = cases_in_dir() if args.update_all else \
            [case_name(arg) for arg in args.names]
        for name in names:
            error = update_case(gen, name)
            if error:
                failed += 1
                print('%s: NOT UPDATED: %s' % (name, error.rstrip('\n')))
        print('%d cases, %d not updated' % (len(names), failed))
        return 1 if failed else 0

    for name in (case_name(arg) for arg in args.names):
        problems = check_case(gen, name)
        if problems:
            failed += 1
            for problem in problems:
                print('%s: FAIL: %s' % (name, problem.rstrip('\n')))
        else:
            print('%s: ok' % name)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
