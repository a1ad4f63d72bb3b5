# SPDX-License-Identifier: MIT
"""The README's "Write your first schema" example works as printed.

The test takes the schema and both printed outputs from README.md, runs
scripts/qapi-gen.py on the schema as given and with the misspelling the
README describes, and compares with what the README shows.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(ROOT, 'scripts', 'qapi-gen.py')


def _blocks(text: str) -> list:
    return re.findall(r'```[a-z]*\n(.*?)```', text, re.S)


class ReadmeExample(unittest.TestCase):
    def setUp(self) -> None:
        with open(os.path.join(ROOT, 'README.md'), encoding='utf-8') as f:
            text = f.read()
        section = text[text.index('## Write your first schema'):]
        blocks = _blocks(section)
        self.schema = next(b for b in blocks if b.startswith('# my.json'))
        self.model = next(b for b in blocks if b.startswith('module my.json'))
        self.error = next(b for b in blocks if b.startswith('my.json: In'))

    def _run(self, schema: str) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, 'my.json'), 'w',
                      encoding='utf-8') as f:
                f.write(schema)
            return subprocess.run(
                [sys.executable, GEN, '--dump-model', 'my.json'], cwd=tmp,
                capture_output=True, text=True, check=False)

    def test_valid_schema_prints_the_readme_model(self) -> None:
        result = self._run(self.schema)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.model)

    def test_misspelt_type_prints_the_readme_error(self) -> None:
        bad = self.schema.replace("'format': 'ImageFormat'",
                                  "'format': 'ImageFmt'")
        self.assertNotEqual(bad, self.schema)
        result = self._run(bad)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertEqual(result.stderr, self.error)


if __name__ == '__main__':
    unittest.main()
