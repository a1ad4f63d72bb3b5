# SPDX-License-Identifier: MIT
"""Running a program of the schema compiler for a golden test case, and
comparing what it printed with what the case expects: shared by
run-case.py here and tests/qapi-compat/run-case.py.

A program runs with PYTHONHASHSEED set to each of HASH_SEEDS, and the
runs must agree: the output is deterministic.
"""

import difflib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

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
