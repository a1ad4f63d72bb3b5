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

import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from caselist import CASE_DIR, cases_in_dir
from runner import (HASH_SEEDS, Generator, GenRun, Suite, check_error_run,
                    describe, diff, drop_expectation, read_text, run_seeds,
                    suite_main, write_expectation)

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
    if not check_error_run(run, 1, name + '.err', expected, problems):
        return
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
    changes: List[str] = []
    write_expectation(CASE_DIR / (name + keep), content, changes)
    drop_expectation(CASE_DIR / (name + drop), changes)
    if changes:
        print('%s: %s' % (name, ', '.join(changes)))
    return None


def case_name(arg: str) -> str:
    """A case name from a command-line argument (NAME, NAME.json, path)."""
    name = Path(arg).name
    return name[:-len('.json')] if name.endswith('.json') else name


SUITE = Suite(
    description='Run generator test cases of tests/qapi-schema/.',
    prog_option='--gen',
    default_prog=DEFAULT_GEN,
    case_help='case names (NAME.json in %s)' % CASE_DIR,
    cases_in_dir=cases_in_dir,
    case_name=case_name,
    check_case=check_case,
    update_case=update_case,
    list_command='python3 tests/qapi-schema/list-cases.py --write',
)


def main(argv: Sequence[str]) -> int:
    return suite_main(SUITE, argv)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
