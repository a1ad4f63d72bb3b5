# SPDX-License-Identifier: MIT
"""qapi-gen.py's command line (docs/spec/qapi-language.md §12.1): exit statuses,
usage errors, unreadable schemas, and that errors never leave files or
tracebacks behind."""

import os
import subprocess
import sys
import tempfile
import unittest
from typing import List

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(ROOT, 'scripts', 'qapi-gen.py')
GOOD = "{ 'struct': 'Point', 'data': { 'x': 'int', 'y': 'int' } }\n"


class CommandLine(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        self.schema = self.write('good.json', GOOD)

    def write(self, name: str, text: str) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
        return path

    def run_gen(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, GEN, *args], cwd=self.tmp,
                              capture_output=True, text=True, check=False)

    def assert_usage_error(self, args: List[str]) -> None:
        result = self.run_gen(*args)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn('usage:', result.stderr)
        self.assertNotIn('Traceback', result.stderr)
        self.assertEqual(result.stdout, '')

    def test_help_and_version_exit_0_on_stdout(self) -> None:
        for flag in ('--help', '--version'):
            result = self.run_gen(flag)
            self.assertEqual(result.returncode, 0)
            self.assertTrue(result.stdout)
            self.assertEqual(result.stderr, '')

    def test_usage_errors_exit_2(self) -> None:
        self.assert_usage_error([])                         # no SCHEMA
        self.assert_usage_error(['a.json', 'b.json'])       # two
        self.assert_usage_error(['--frobnicate', 'good.json'])
        self.assert_usage_error(['-m', '-u', 'good.json'])
        self.assert_usage_error(['-p', '9 bad', 'good.json'])
        self.assert_usage_error(['-p', 'a/b', 'good.json'])
        self.assert_usage_error(['--dump-model', '--json-schema',
                                 'good.json'])

    def test_suppress_tracing_is_accepted_and_ignored(self) -> None:
        plain = os.path.join(self.tmp, 'plain')
        traced = os.path.join(self.tmp, 'traced')
        self.assertEqual(self.run_gen('-o', plain, 'good.json').returncode, 0)
        result = self.run_gen('--suppress-tracing', '-o', traced,
                              'good.json')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(os.listdir(plain)), sorted(os.listdir(traced)))

    def test_compat_takes_only_2012(self) -> None:
        self.assert_usage_error(['--compat', '2013', 'good.json'])
        self.assert_usage_error(['--compat'])
        result = self.run_gen('--compat', '2012', '--dump-model', 'good.json')
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_all_commands_generates_gen_false(self) -> None:
        self.write('cmds.json', "{ 'command': 'served-elsewhere', "
                   "'gen': false }\n{ 'command': 'ordinary' }\n")
        plain = os.path.join(self.tmp, 'plain')
        every = os.path.join(self.tmp, 'every')
        self.assertEqual(self.run_gen('-o', plain, 'cmds.json').returncode, 0)
        result = self.run_gen('--all-commands', '-o', every, 'cmds.json')
        self.assertEqual(result.returncode, 0, result.stderr)
        for out, has in ((plain, False), (every, True)):
            with open(os.path.join(out, 'qapi-commands.h')) as f:
                header = f.read()
            with open(os.path.join(out, 'qapi-init-commands.c')) as f:
                init = f.read()
            self.assertIn('qmp_ordinary(GError **errp)', header)
            self.assertEqual('qmp_served_elsewhere(GError **errp)' in header,
                             has)
            self.assertEqual('"served-elsewhere"' in init, has)

    def test_valid_prefixes_are_accepted(self) -> None:
        for prefix in ('test-', 'x_', '.a', 'Q9.-_'):
            result = self.run_gen('-p', prefix, '--dump-model', 'good.json')
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_missing_schema_is_error_1_without_location(self) -> None:
        result = self.run_gen('--dump-model', 'nosuch.json')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, 'nosuch.json: cannot read schema: '
                         'No such file or directory\n')

    def test_directory_as_schema_is_error_1(self) -> None:
        os.mkdir(os.path.join(self.tmp, 'dir.json'))
        result = self.run_gen('dir.json')
        self.assertEqual(result.returncode, 1)
        self.assertTrue(result.stderr.startswith('dir.json: cannot read '
                                                 'schema: '))
        self.assertNotIn('Traceback', result.stderr)

    def test_error_writes_nothing_even_into_a_new_output_dir(self) -> None:
        self.write('bad.json', "{ 'struct': 'Point', 'data': 'x' }\n")
        out = os.path.join(self.tmp, 'out')
        result = self.run_gen('-o', out, 'bad.json')
        self.assertEqual(result.returncode, 1)
        self.assertFalse(os.path.exists(out) and os.listdir(out))

    def test_c_output_is_rewritten_only_when_it_changes(self) -> None:
        out = os.path.join(self.tmp, 'out')
        self.assertEqual(self.run_gen('-o', out, 'good.json').returncode, 0)
        header = os.path.join(out, 'qapi-types.h')
        old = os.stat(header)
        os.utime(header, ns=(old.st_atime_ns, old.st_mtime_ns - 10**9))
        before = os.stat(header).st_mtime_ns
        self.assertEqual(self.run_gen('-o', out, 'good.json').returncode, 0)
        self.assertEqual(os.stat(header).st_mtime_ns, before)
        self.write('good.json', GOOD.replace("'y': 'int'", "'z': 'int'"))
        self.assertEqual(self.run_gen('-o', out, 'good.json').returncode, 0)
        self.assertNotEqual(os.stat(header).st_mtime_ns, before)
        self.assertEqual(sorted(os.listdir(out)), sorted(
            'qapi-%s.%s' % (family, ext)
            for family in ('types', 'visit', 'commands', 'events',
                           'init-commands', 'emit-events', 'introspect')
            for ext in ('c', 'h')))

    def test_c_output_is_the_same_whatever_the_hash_seed(self) -> None:
        texts = set()
        for seed in ('0', '7'):
            out = os.path.join(self.tmp, 'out' + seed)
            env = dict(os.environ, PYTHONHASHSEED=seed)
            result = subprocess.run(
                [sys.executable, GEN, '-b', '-o', out, 'good.json'],
                cwd=self.tmp, capture_output=True, text=True, env=env,
                check=False)
            self.assertEqual(result.returncode, 0, result.stderr)
            texts.add(tuple(
                (name, open(os.path.join(out, name), encoding='utf-8').read())
                for name in sorted(os.listdir(out))))
        self.assertEqual(len(texts), 1)

    def test_mask_numbers_type_names_in_introspection(self) -> None:
        self.write('cmd.json', GOOD + "{ 'command': 'get-point', "
                   "'returns': 'Point', 'data': { 'near': ['Point'] } }\n")
        plain = os.path.join(self.tmp, 'plain')
        masked = os.path.join(self.tmp, 'masked')
        self.assertEqual(self.run_gen('-o', plain, 'cmd.json').returncode, 0)
        self.assertEqual(self.run_gen('-m', '-o', masked,
                                      'cmd.json').returncode, 0)
        with open(os.path.join(plain, 'qapi-introspect.c')) as f:
            plain_text = f.read()
        with open(os.path.join(masked, 'qapi-introspect.c')) as f:
            masked_text = f.read()
        self.assertIn('QLIT_QSTR("Point")', plain_text)
        self.assertIn('QLIT_QSTR("[Point]")', plain_text)
        # Listed types are numbered in definition order (Point, then the
        # command's implicit argument type); commands and built-ins keep
        # their names; a comment keeps each real name.
        self.assertNotIn('QLIT_QSTR("Point")', masked_text)
        self.assertIn('/* real name: Point */', masked_text)
        self.assertIn('QLIT_QSTR("[0]")', masked_text)
        self.assertIn('/* real name: q_obj_get-point-arg */', masked_text)
        self.assertIn('QLIT_QSTR("get-point")', masked_text)
        self.assertIn('QLIT_QSTR("int")', masked_text)

    def test_unwritable_output_is_error_1(self) -> None:
        blocker = self.write('blocker', 'a file, not a directory\n')
        result = self.run_gen('-o', blocker, 'good.json')
        self.assertEqual(result.returncode, 1)
        self.assertIn('cannot write', result.stderr)
        self.assertNotIn('Traceback', result.stderr)

    def test_dump_is_deterministic_across_hash_seeds(self) -> None:
        self.write('many.json', ''.join(
            "{ 'struct': 'Shape%d', 'data': { 'm%d': 'int', '*n': ['str'] },"
            " 'features': [ 'f%d', 'g' ], 'if': { 'any': [ 'A', 'B%d' ] } }\n"
            % (i, i, i, i) for i in range(50)))
        outputs = set()
        for seed in ('0', '1', '12345'):
            env = dict(os.environ, PYTHONHASHSEED=seed)
            result = subprocess.run(
                [sys.executable, GEN, '--dump-model', 'many.json'],
                cwd=self.tmp, capture_output=True, text=True, env=env,
                check=False)
            self.assertEqual(result.returncode, 0, result.stderr)
            outputs.add(result.stdout)
        self.assertEqual(len(outputs), 1)


if __name__ == '__main__':
    unittest.main()
