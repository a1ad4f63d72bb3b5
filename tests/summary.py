#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print the one-line summary of one or more test runs.

  summary.py LOG...

Each LOG is a meson build directory, whose BUILDDIR/meson-logs/testlog.json
is read, or a test log file itself (tests/fuzz/run-fuzzers.py writes one
in the same shape): one JSON object per test, with its "result".  Prints
exactly one line on stdout, the sum over all of them:

  N passed, N failed[, N skipped]

OK and EXPECTEDFAIL count as passed; SKIP as skipped; everything else
(FAIL, ERROR, TIMEOUT, UNEXPECTEDPASS, INTERRUPT, ...) as failed.  A LOG
that does not exist counts as one failed test (that run stopped before
its tests).  The skipped count is printed only when non-zero.  Exit
status 1 when a test failed or when none ran (none at all, or all
skipped), else 0.
"""

import json
import sys
from collections import Counter
from pathlib import Path
from typing import List, Sequence

PASSED = frozenset({'OK', 'EXPECTEDFAIL'})
SKIPPED = frozenset({'SKIP'})


def classify(result: str) -> str:
    if result in PASSED:
        return 'passed'
    if result in SKIPPED:
        return 'skipped'
    return 'failed'


def read_results(log: Path) -> List[str]:
    """The result field of every test in LOG."""
    results = []
    for number, line in enumerate(log.read_text(encoding='utf-8',
                                                errors='replace')
                                  .splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            print('summary: %s:%d: not JSON, counted as a failure'
                  % (log, number), file=sys.stderr)
            results.append('ERROR')
            continue
        results.append(str(entry.get('result', 'ERROR')))
    return results


def summary_line(counts: 'Counter[str]') -> str:
    line = '%d passed, %d failed' % (counts['passed'], counts['failed'])
    if counts['skipped']:
        line += ', %d skipped' % counts['skipped']
    return line


def log_path(arg: str) -> Path:
    """The test log that ARG names: a build directory's, or ARG itself."""
    path = Path(arg)
    if path.is_dir():
        return path / 'meson-logs' / 'testlog.json'
    return path


def main(argv: Sequence[str]) -> int:
    if not argv:
        print('usage: summary.py LOG...', file=sys.stderr)
        return 2
    counts: 'Counter[str]' = Counter()
    for arg in argv:
        log = log_path(arg)
        if log.is_file():
            counts.update(classify(result) for result in read_results(log))
        else:
            print('summary: no test log %s: counted as one failure' % log,
                  file=sys.stderr)
            counts['failed'] += 1
    ran_none = not counts['passed'] and not counts['failed']
    if ran_none:
        print('summary: no test ran (all %d skipped)' % counts['skipped'],
              file=sys.stderr)
    sys.stderr.flush()
    print(summary_line(counts), flush=True)
    return 1 if counts['failed'] or ran_none else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
