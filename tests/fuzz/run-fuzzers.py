#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the libFuzzer targets of tests/fuzz/ for a while each (`make fuzz`).

  run-fuzzers.py --build BUILD_FUZZ --seconds N [TARGET...]

BUILD_FUZZ is a build directory configured with -Dfuzzing=true, whose
tests/fuzz/fuzz-TARGET binaries are built.  No TARGET: every target of
tests/fuzz/corpus/.  For each target, one after the other:

  BUILD_FUZZ/fuzz-run/TARGET/corpus/   a scratch copy of the checked-in
                                       corpus/TARGET/ and regressions/TARGET/
                                       (never modified), which the run grows
  BUILD_FUZZ/fuzz-run/TARGET/log.txt   libFuzzer's output
  BUILD_FUZZ/fuzz-run/TARGET/crash-*   what libFuzzer writes for a finding
                                       (also leak-*, timeout-*, oom-*,
                                       slow-unit-* is only a hint)

The directory of a target is emptied when it starts.  Prints one line per
target: executions, coverage (cov: and ft: of libFuzzer's last status
line), the corpus size at the end, and the findings with their files.
Writes BUILD_FUZZ/fuzz-logs/testlog.json, one line per target in the
shape of meson's test log ("result" OK or FAIL), for tests/summary.py.
Exit status 1 when a target found something or did not run, else 0.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
FINDING_PREFIXES = ('crash-', 'leak-', 'timeout-', 'oom-')
STATUS_RE = re.compile(r'^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+)'
                       r'(?: corp: (\d+)/)?')
EXECUTED_RE = re.compile(r'^stat::number_of_executed_units: (\d+)')

# One input that takes longer than this many seconds is a finding.
INPUT_TIMEOUT = 25
RSS_LIMIT_MB = 2048


def targets_of(corpus_root: Path) -> List[str]:
    return sorted(p.name for p in corpus_root.iterdir() if p.is_dir())


def copy_inputs(src: Path, dst: Path) -> int:
    """Copy the inputs of SRC (if it exists) into DST; how many."""
    count = 0
    if not src.is_dir():
        return 0
    for path in sorted(src.iterdir()):
        if path.is_file() and not path.name.startswith(('.', 'README')):
            shutil.copyfile(path, dst / path.name)
            count += 1
    return count


def parse_log(text: str) -> Dict[str, Optional[int]]:
    stats: Dict[str, Optional[int]] = {'executions': None, 'cov': None,
                                       'ft': None, 'corpus': None}
    for line in text.splitlines():
        match = STATUS_RE.match(line)
        if match:
            stats['cov'] = int(match.group(2))
            stats['ft'] = int(match.group(3))
            if match.group(4):
                stats['corpus'] = int(match.group(4))
            if stats['executions'] is None or \
                    int(match.group(1)) > stats['executions']:
                stats['executions'] = int(match.group(1))
        match = EXECUTED_RE.match(line)
        if match:
            stats['executions'] = int(match.group(1))
    return stats


def show(value: Optional[int]) -> str:
    return '?' if value is None else str(value)


def run_target(build: Path, name: str, seconds: int) -> Dict[str, object]:
    binary = build / 'tests' / 'fuzz' / ('fuzz-' + name)
    out = build / 'fuzz-run' / name
    corpus = out / 'corpus'
    if out.exists():
        shutil.rmtree(out)
    corpus.mkdir(parents=True)
    seeds = copy_inputs(HERE / 'corpus' / name, corpus)
    seeds += copy_inputs(HERE / 'regressions' / name, corpus)
    log = out / 'log.txt'
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:abort_on_error=0')
    env.setdefault('UBSAN_OPTIONS', 'print_stacktrace=1:halt_on_error=1')
    cmd = [str(binary), '-max_total_time=%d' % seconds,
           '-print_final_stats=1', '-timeout=%d' % INPUT_TIMEOUT,
           '-rss_limit_mb=%d' % RSS_LIMIT_MB,
           '-artifact_prefix=%s/' % out, str(corpus)]
    start = time.monotonic()
    if not binary.is_file():
        log.write_text('fuzz: %s was not built\n' % binary)
        status = 127
    else:
        with open(log, 'w') as f:
            status = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    check=False).returncode
    duration = time.monotonic() - start
    stats = parse_log(log.read_text(errors='replace'))
    findings = sorted(str(p) for p in out.iterdir()
                      if p.name.startswith(FINDING_PREFIXES))
    ok = status == 0 and not findings
    print('fuzz: %s: %s executions in %ds, cov %s, ft %s, corpus %s '
          '(%d seeds), %d crashes%s'
          % (name, show(stats['executions']), round(duration),
             show(stats['cov']), show(stats['ft']), show(stats['corpus']),
             seeds, len(findings), '' if ok else ': FAILED'), flush=True)
    if not ok:
        print('fuzz: %s: exit status %d; log %s' % (name, status, log))
        for path in findings:
            print('fuzz: %s: finding %s' % (name, path))
        # The end of the log says what went wrong.
        tail = log.read_text(errors='replace').splitlines()[-40:]
        for line in tail:
            print('  | ' + line)
        sys.stdout.flush()
    return {'name': 'fuzz-' + name, 'result': 'OK' if ok else 'FAIL',
            'duration': round(duration, 2), 'returncode': status,
            'executions': stats['executions'], 'cov': stats['cov'],
            'ft': stats['ft'], 'findings': findings, 'log': str(log)}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--build', required=True, type=Path)
    parser.add_argument('--seconds', required=True, type=int)
    parser.add_argument('targets', nargs='*')
    args = parser.parse_args(argv)
    targets = args.targets or targets_of(HERE / 'corpus')
    logs = args.build / 'fuzz-logs'
    logs.mkdir(parents=True, exist_ok=True)
    testlog = logs / 'testlog.json'
    testlog.unlink(missing_ok=True)
    failed = 0
    for name in targets:
        entry = run_target(args.build, name, args.seconds)
        with open(testlog, 'a') as f:
            f.write(json.dumps(entry) + '\n')
        failed += entry['result'] != 'OK'
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
