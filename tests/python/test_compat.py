# SPDX-License-Identifier: MIT
"""qapi-compat (docs/spec/qapi-language.md §12.5) beyond the golden cases
of tests/qapi-compat/: its command line (usage errors, unreadable files,
--json against the text report), the comparison on every schema the
compiler's own tests accept, recursion, and QEMU's 2012 schema from the
seed folder (skipped where it is absent)."""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
from typing import List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

from qapi.compat import (BREAK, WARNING, Finding,  # noqa: E402
                         compare)
from qapi.schema import QAPISchema  # noqa: E402

COMPAT = os.path.join(ROOT, 'scripts', 'qapi-compat.py')
SEED = os.path.join(os.environ.get('QAPIKIT_SEED_DIR')
                    or os.path.join(ROOT, '..', 'shared', 'seed'),
                    'qapi-schema-2012.json')


class Files(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def run_compat(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, COMPAT, *args], cwd=self.tmp,
                              capture_output=True, text=True, check=False)

    def findings(self, old: str, new: str,
                 compat: Optional[str] = None) -> List[Finding]:
        return compare(QAPISchema(self.write('old.json', old), compat),
                       QAPISchema(self.write('new.json', new), compat))


class CommandLine(Files):
    def test_help_and_version_exit_0_on_stdout(self) -> None:
        for flag in ('--help', '--version'):
            result = self.run_compat(flag)
            self.assertEqual(result.returncode, 0)
            self.assertTrue(result.stdout)
            self.assertEqual(result.stderr, '')

    def test_usage_errors_exit_2(self) -> None:
        self.write('a.json', "{ 'command': 'frob' }\n")
        for args in ([], ['a.json'], ['a.json', 'a.json', 'a.json'],
                     ['--frobnicate', 'a.json', 'a.json'],
                     ['--compat', '1999', 'a.json', 'a.json'],
                     ['--old-compat', '--json', 'a.json', 'a.json']):
            result = self.run_compat(*args)
            self.assertEqual(result.returncode, 2, args)
            self.assertIn('usage:', result.stderr)
            self.assertNotIn('Traceback', result.stderr)
            self.assertEqual(result.stdout, '')

    def test_unreadable_schema_exits_2(self) -> None:
        self.write('a.json', "{ 'command': 'frob' }\n")
        for args in (['missing.json', 'a.json'], ['a.json', 'missing.json'],
                     ['a.json', self.tmp]):
            result = self.run_compat(*args)
            self.assertEqual(result.returncode, 2, args)
            self.assertEqual(result.stdout, '')
            self.assertNotIn('Traceback', result.stderr)
            self.assertTrue(result.stderr.strip())

    def test_json_is_the_text_report(self) -> None:
        old = ("{ 'enum': 'Mode', 'data': [ 'a', 'b' ] }\n"
               "{ 'struct': 'Info', 'data': { 'mode': 'Mode' } }\n"
               "{ 'command': 'frob', 'data': { 'mode': 'Mode' },\n"
               "  'returns': 'Info',\n"
               "  'features': [ 'deprecated' ] }\n"
               "{ 'event': 'GONE' }\n")
        self.write('old.json', old)
        self.write('new.json', old.replace("'b'", "'c'").replace(
            "{ 'event': 'GONE' }\n", ''))
        text = self.run_compat('old.json', 'new.json')
        as_json = self.run_compat('--json', 'old.json', 'new.json')
        self.assertEqual(text.returncode, 1)
        self.assertEqual(as_json.returncode, 1)
        report = json.loads(as_json.stdout)
        lines = ['%s:%d: %s: %s%s' % (
            f['file'], f['line'], f['severity'], f['reason'],
            ' (%s)' % f['direction'] if f['direction'] else '')
            for f in report['findings']]
        self.assertEqual(text.stdout.splitlines()[:-1], lines)
        self.assertEqual(report['summary'],
                         {'break': 2, 'warning': 1, 'note': 1, 'allowed': 0})
        self.assertEqual(text.stdout.splitlines()[-1],
                         '2 breaks, 1 warning, 1 note, 0 allowed removals')


class Comparison(Files):
    def test_recursion_through_alternates_and_lists_ends(self) -> None:
        old = ("{ 'struct': 'Node', 'data': { 'name': 'str',\n"
               "  '*kids': [ 'Ref' ] } }\n"
               "{ 'alternate': 'Ref', 'data': { 'node': 'Node',"
               " 'id': 'int' } }\n"
               "{ 'command': 'set', 'data': { 'root': 'Ref' },"
               " 'returns': 'Node' }\n")
        self.assertEqual(self.findings(old, old), [])
        new = old.replace("'id': 'int'", "'id': 'int8'")
        found = self.findings(old, new)
        self.assertEqual([(f.severity, f.direction, f.reason)
                          for f in found],
                         [(BREAK, 'input', "argument 'root' of command "
                           "'set' was narrowed: changed from int to int8")])

    def test_every_accepted_test_schema_matches_itself(self) -> None:
        """Any schema the compiler accepts can be compared: each valid
        case of tests/qapi-schema/ and the project's schemas, with
        itself (no break, no warning) and with the kitchen sink both
        ways (no crash)."""
        cases = sorted(glob.glob(os.path.join(ROOT, 'tests', 'qapi-schema',
                                              '*.out')))
        schemas = [(path[:-len('.out')] + '.json',
                    '2012' if os.path.basename(path).startswith(
                        'compat-2012-') else None) for path in cases]
        schemas += [(os.path.join(ROOT, 'qapi', name), None)
                    for name in ('qapi-schema.json', 'qmp-wire.json')]
        self.assertGreater(len(schemas), 100)
        sink = QAPISchema(os.path.join(ROOT, 'tests', 'qapi-schema',
                                       'qapi-schema-test.json'))
        for path, compat in schemas:
            with self.subTest(schema=os.path.basename(path)):
                schema = QAPISchema(path, compat)
                bad = [f.text() for f in compare(schema, schema)
                       if f.severity in (BREAK, WARNING)]
                self.assertEqual(bad, [])
                compare(schema, sink)
                compare(sink, schema)

    def test_output_is_deterministic(self) -> None:
        old = "".join("{ 'command': 'c%d', 'data': { 'a%d': 'int' } }\n"
                      % (i, i) for i in range(30))
        new = old.replace("'int'", "'int8'")
        texts = set()
        for seed in ('0', '1', '99'):
            self.write('old.json', old)
            self.write('new.json', new)
            result = subprocess.run(
                [sys.executable, COMPAT, 'old.json', 'new.json'],
                cwd=self.tmp, capture_output=True, text=True, check=False,
                env=dict(os.environ, PYTHONHASHSEED=seed))
            texts.add(result.stdout)
        self.assertEqual(len(texts), 1)
        self.assertEqual(len(next(iter(texts)).splitlines()), 31)


class DocsExample(Files):
    """The example of docs/schema-compiler.md prints what it shows."""

    def test_example_as_printed(self) -> None:
        with open(os.path.join(ROOT, 'docs', 'schema-compiler.md'),
                  encoding='utf-8') as f:
            text = f.read()
        section = text[text.index('## Did I break a client?'):]
        section = section[:section.index('\n## ')]
        blocks = re.findall(r'```\n(.*?)```', section, re.S)
        old, new, run = blocks[1], blocks[2], blocks[3]
        self.write('old.json', old)
        self.write('new.json', new)
        command, *lines = run.splitlines()
        self.assertEqual(command, '$ scripts/qapi-compat.py old.json '
                         'new.json')
        expected_status = lines[-1]
        self.assertEqual(lines[-2], '$ echo $?')
        result = self.run_compat('old.json', 'new.json')
        self.assertEqual(result.stdout.splitlines(), lines[:-2])
        self.assertEqual(str(result.returncode), expected_status)


@unittest.skipUnless(os.path.exists(SEED), 'no seed folder: %s' % SEED)
class Seed2012(Files):
    """QEMU's whole 2012 schema, read with --compat 2012."""

    def test_against_itself(self) -> None:
        result = self.run_compat('--compat', '2012', SEED, SEED)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertNotIn(': break: ', result.stdout)
        self.assertNotIn(': warning: ', result.stdout)

    def test_against_an_edited_copy(self) -> None:
        with open(SEED, encoding='utf-8') as f:
            text = f.read()
        edits = [
            ("'data': {'device': 'str', 'snapshot-file': 'str', "
             "'*format': 'str' } }",
             "'data': {'device': 'str', 'snapshot-file': 'str', "
             "'format': 'str' } }"),
            ("{ 'command': 'system_reset' }", ''),
        ]
        for old, new in edits:
            self.assertIn(old, text)
            text = text.replace(old, new)
        edited = self.write('edited.json', text)
        result = self.run_compat('--compat', '2012', SEED, edited)
        self.assertEqual(result.returncode, 1)
        breaks = [line.split(': ', 2)[2] for line in
                  result.stdout.splitlines() if ': break: ' in line]
        self.assertEqual(breaks, [
            "command 'system_reset' was removed",
            "argument 'devlist[].format' of command "
            "'blockdev-group-snapshot-sync' was made mandatory (input)"])

    def test_the_project_schema_keeps_the_seed_command(self) -> None:
        """The project's schema, in today's form, against QEMU's 2012
        one (--old-compat 2012): blockdev-group-snapshot-sync, the
        project's origin, is still compatible."""
        result = self.run_compat('--old-compat', '2012', SEED,
                                 os.path.join(ROOT, 'qapi',
                                              'qapi-schema.json'))
        self.assertIn(result.returncode, (0, 1), result.stderr)
        self.assertEqual(result.stderr, '')
        self.assertNotIn('blockdev-group-snapshot-sync', result.stdout)
        self.assertIn("break: command 'system_reset' was removed",
                      result.stdout)


if __name__ == '__main__':
    unittest.main()
