# SPDX-License-Identifier: MIT
"""Tests of the C backends' machinery (qapi.gen): rendering in several
processes gives the same files as in one, and fails cleanly; the
'signature' filter; the cache of compiled templates.

    PYTHONPATH=scripts python3 -m unittest -v tests/python/test_gen.py
"""

import gc
import os
import stat
import sys
import tempfile
import unittest
from typing import Dict, Iterator, List
from contextlib import contextmanager
from unittest import mock

_SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        os.pardir, os.pardir, 'scripts')
if os.path.normpath(_SCRIPTS) not in map(os.path.normpath, sys.path):
    sys.path.insert(0, os.path.normpath(_SCRIPTS))

import qapi.gen as gen  # noqa: E402
from qapi.gen import environment, render  # noqa: E402
from qapi.main import main  # noqa: E402
from qapi.schema import QAPISchema  # noqa: E402

_KITCHEN_SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             os.pardir, 'qapi-schema',
                             'qapi-schema-test.json')


@contextmanager
def _cache_home(path: str) -> Iterator[None]:
    """XDG_CACHE_HOME set to PATH for the duration."""
    with mock.patch.dict(os.environ, {'XDG_CACHE_HOME': path}):
        yield


def _no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork')
class ParallelTest(unittest.TestCase):
    """generate(jobs=N): a pool of N - 1 forked workers renders part of
    the files; the same files, and any failure fails the whole run."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.schema = QAPISchema(_KITCHEN_SINK)

    def files(self, jobs: int, **options: object) -> Dict[str, str]:
        return gen.generate(self.schema, jobs=jobs,     # type: ignore
                            **options).files

    def test_same_files(self) -> None:
        for options in ({}, {'prefix': 'test-'},
                        {'builtins': True, 'mask': True}):
            with self.subTest(**options):
                one = self.files(1, **options)
                self.assertEqual(self.files(2, **options), one)
                self.assertEqual(self.files(3, **options), one)
                self.assertTrue(any(path.endswith('qapi-introspect.c')
                                    for path in one))
        self.assertTrue(_no_child_left())

    def test_without_fork(self) -> None:
        one = self.files(1)
        with mock.patch.object(render, '_can_fork', return_value=False):
            self.assertEqual(self.files(2), one)

    def test_one_worker_two_parts(self) -> None:
        # The pool may hand a worker a second part before another worker
        # has started: each part's result has that part's files only.
        one = self.files(1)
        worker = render._Generator(self.schema, '', False, False)
        parts = render._split(worker.modules, 3)
        index = {id(module): i for i, module in enumerate(worker.modules)}
        with mock.patch.object(render, '_worker_gen', None):
            render._start_worker(worker)
            first, error1 = render._render_in_worker(
                [index[id(m)] for m in parts[1]], True)
            second, error2 = render._render_in_worker(
                [index[id(m)] for m in parts[2]], False)
        self.assertEqual((error1, error2), ('', ''))
        self.assertTrue(second)
        self.assertEqual(set(first) & set(second), set())
        for path, text in {**first, **second}.items():
            self.assertEqual(text, one[path])

    def test_worker_fails(self) -> None:
        # The first worker renders the schema-wide files.
        with mock.patch.object(render._Generator, 'render_schema_wide',
                               side_effect=ValueError('broken template')):
            with self.assertRaises(RuntimeError) as caught:
                self.files(2)
        message = str(caught.exception)
        self.assertIn('Traceback (most recent call last)', message)
        self.assertIn('render_schema_wide', message)
        self.assertIn('ValueError: broken template', message)
        self.assertTrue(_no_child_left())

    def test_worker_dies(self) -> None:
        def die(self: render._Generator) -> None:
            os._exit(3)

        with mock.patch.object(render._Generator, 'render_schema_wide',
                               die):
            with self.assertRaises(RuntimeError):
                self.files(2)
        self.assertTrue(_no_child_left())

    def test_parent_fails(self) -> None:
        calls = []
        real = render._Generator.render_module

        def render_module(self: render._Generator, module: object) -> None:
            if os.getpid() == parent:
                calls.append(module)
                raise KeyError('parent')
            real(self, module)              # type: ignore[arg-type]

        parent = os.getpid()
        with mock.patch.object(render._Generator, 'render_module',
                               render_module):
            with self.assertRaises(KeyError):
                self.files(2)
        self.assertTrue(calls)
        self.assertTrue(_no_child_left())

    def test_nothing_written(self) -> None:
        # qapi-gen.py as run on a schema large enough for two processes.
        self.addCleanup(gc.enable)          # (main() disables it)
        with tempfile.TemporaryDirectory() as out, \
                mock.patch.object(render, 'PARALLEL_MIN_ENTITIES', 0), \
                mock.patch.object(render, '_cpus', return_value=2), \
                mock.patch.object(render._Generator, 'render_schema_wide',
                                  side_effect=ValueError('broken')):
            with self.assertRaises(RuntimeError):
                main(['-o', out, _KITCHEN_SINK])
            self.assertEqual(os.listdir(out), [])
        self.assertTrue(_no_child_left())


class OutputOrderTest(unittest.TestCase):
    """QEMU's module order (docs/spec/qapi-language.md §3.0/3) in the
    schema-wide files: the main module's definitions, also those after an
    include, then each module in the order of its first inclusion."""

    FILES = {
        'main.json': "{ 'event': 'MAIN_FIRST' }\n"
                     "{ 'include': 'outer.json' }\n"
                     "{ 'command': 'main-cmd' }\n"
                     "{ 'event': 'MAIN_LAST' }\n"
                     "{ 'include': 'other.json' }\n",
        'outer.json': "{ 'event': 'OUTER' }\n"
                      "{ 'include': 'inner.json' }\n"
                      "{ 'command': 'outer-cmd' }\n",
        'inner.json': "{ 'event': 'INNER' }\n"
                      "{ 'command': 'inner-cmd' }\n",
        'other.json': "{ 'include': 'inner.json' }\n"
                      "{ 'event': 'OTHER' }\n",
    }
    EVENTS = ['MAIN_FIRST', 'MAIN_LAST', 'OUTER', 'INNER', 'OTHER']
    COMMANDS = ['main-cmd', 'outer-cmd', 'inner-cmd']

    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        for name, text in self.FILES.items():
            with open(os.path.join(tmp.name, name), 'w') as f:
                f.write(text)
        self.files = gen.generate(QAPISchema(os.path.join(
            tmp.name, 'main.json'))).files         # type: ignore

    def order(self, path: str, names: List[str], pattern: str) -> List[str]:
        text = self.files[path]
        found = [(text.index(pattern % name), name) for name in names]
        return [name for _, name in sorted(found)]

    def test_events(self) -> None:
        self.assertEqual(self.order('qapi-emit-events.h', self.EVENTS,
                                    'QAPI_EVENT_%s,'), self.EVENTS)

    def test_registration(self) -> None:
        self.assertEqual(self.order('qapi-init-commands.c', self.COMMANDS,
                                    '"%s"'), self.COMMANDS)

    def test_introspection(self) -> None:
        entries = ['MAIN_FIRST', 'main-cmd', 'MAIN_LAST', 'OUTER',
                   'outer-cmd', 'INNER', 'inner-cmd', 'OTHER']
        self.assertEqual(self.order('qapi-introspect.c', entries,
                                    'QLIT_QSTR("%s")'), entries)


class SignatureTest(unittest.TestCase):
    """The 'signature' filter wraps like signature()."""

    def test_short_line_kept(self) -> None:
        text = 'bool f(int a, int b);\n'
        self.assertIs(environment.signature_lines(text), text)

    def test_wrapped(self) -> None:
        params = ['Visitor *v', 'const char *name',
                  'SomeRatherLongTypeNameForTesting **obj', 'GError **errp']
        head = 'bool visit_type_SomeRatherLongTypeNameForTesting'
        line = head + '(' + ', '.join(params) + ')'
        self.assertGreater(len(line), 80)
        wrapped = environment.signature_lines(line + '\nint x;\n')
        self.assertEqual(wrapped,
                         environment.signature(head, params) + '\nint x;\n')
        self.assertTrue(all(len(part) <= 80
                            for part in wrapped.split('\n')))

    def test_tail(self) -> None:
        params = ['cmds', '"a-rather-long-command-name"',
                  'qmp_marshal_a_rather_long_command_name',
                  'QCO_ALLOW_OOB | QCO_ALLOW_PRECONFIG', '0']
        head = '    qmp_register_command'
        line = head + '(' + ', '.join(params) + ');'
        self.assertEqual(environment.signature_lines(line),
                         environment.signature(head, params, ';'))


class CacheTest(unittest.TestCase):
    """Compiled templates kept in $XDG_CACHE_HOME/qapikit/templates."""

    def setUp(self) -> None:
        self.schema = QAPISchema(_KITCHEN_SINK)
        self.expected = gen.generate(self.schema, jobs=1).files

    def test_cache_filled_and_used(self) -> None:
        with tempfile.TemporaryDirectory() as home, _cache_home(home):
            self.assertEqual(gen.generate(self.schema, jobs=1).files,
                             self.expected)
            cache = os.path.join(home, 'qapikit', 'templates')
            entries = os.listdir(cache)
            self.assertTrue(entries)
            # A second run loads them; the same files.
            self.assertEqual(gen.generate(self.schema, jobs=1).files,
                             self.expected)
            self.assertEqual(sorted(os.listdir(cache)), sorted(entries))

    def test_corrupt_cache(self) -> None:
        with tempfile.TemporaryDirectory() as home, _cache_home(home):
            gen.generate(self.schema, jobs=1)
            cache = os.path.join(home, 'qapikit', 'templates')
            for entry in os.listdir(cache):
                with open(os.path.join(cache, entry), 'r+b') as file:
                    data = file.read()
                    file.seek(0)
                    file.write(data[:len(data) // 2])
                    file.truncate()
            self.assertEqual(gen.generate(self.schema, jobs=1).files,
                             self.expected)

    @unittest.skipIf(hasattr(os, 'geteuid') and os.geteuid() == 0,
                     'root writes to read-only directories')
    def test_read_only_cache(self) -> None:
        with tempfile.TemporaryDirectory() as home, _cache_home(home):
            cache = os.path.join(home, 'qapikit', 'templates')
            os.makedirs(cache)
            os.chmod(cache, stat.S_IRUSR | stat.S_IXUSR)
            try:
                self.assertEqual(gen.generate(self.schema, jobs=1).files,
                                 self.expected)
                self.assertEqual(os.listdir(cache), [])
            finally:
                os.chmod(cache, stat.S_IRWXU)

    def test_no_cache(self) -> None:
        with tempfile.TemporaryDirectory() as home:
            blocked = os.path.join(home, 'file')
            with open(blocked, 'w', encoding='utf-8'):
                pass
            for where in ('relative/dir', blocked,
                          os.path.join(environment.TEMPLATES, 'cache')):
                with self.subTest(where=where), _cache_home(where):
                    self.assertIsNone(environment._bytecode_cache())
                    self.assertEqual(
                        gen.generate(self.schema, jobs=1).files,
                        self.expected)
        self.assertFalse(os.path.exists(os.path.join(environment.TEMPLATES,
                                                     'cache')))


if __name__ == '__main__':
    unittest.main()
