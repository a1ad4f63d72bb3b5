# SPDX-License-Identifier: MIT
"""No schema text makes the front end crash.

Mutates the generator test cases (random insertions of schema tokens,
deletions, copies; fixed seeds, so every run tries the same inputs) and
requires that every mutant is either accepted or rejected with a
QAPIError whose text has the file:line shape: never another exception.
"""

import glob
import os
import random
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

from qapi.error import QAPIError  # noqa: E402
from qapi.schema import QAPISchema  # noqa: E402

TOKENS = ["{", "}", "[", "]", ":", ",", "'", "'x'", "'str'", "'int'",
          "true", "##\n", "#", "\n", "\t", "'data'", "'base'", "'if'",
          "{'all': []}", "'*a'", "['Foo']", "'features'", "'deprecated'",
          "'union'", "'discriminator'", "'type'", "'boxed'", "'returns'",
          "'q_empty'", "'QType'", "'any'", "'null'", "# @x:\n", "'include'",
          "'pragma'", "\\", "\xe9", "Since:", "@a:", "Features:"]
MUTANTS = 5000


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(text) + 1)
        choice = rng.random()
        if choice < 0.4:
            text = text[:pos] + rng.choice(TOKENS) + text[pos:]
        elif choice < 0.8:
            text = text[:pos] + text[pos + rng.randint(1, 8):]
        else:
            src = rng.randrange(len(text) + 1)
            text = text[:pos] + text[src:src + rng.randint(1, 30)] \
                + text[pos:]
    return text


class Fuzz(unittest.TestCase):
    def test_mutated_cases_never_crash(self) -> None:
        cases = []
        for path in sorted(glob.glob(os.path.join(ROOT, 'tests',
                                                  'qapi-schema', '*.json'))):
            with open(path, encoding='utf-8', errors='replace') as f:
                cases.append(f.read())
        rng = random.Random(20261125)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'mutant.json')
            for i in range(MUTANTS):
                text = _mutate(rng, rng.choice(cases))
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(text)
                try:
                    QAPISchema(path)
                except QAPIError as err:
                    message = str(err)
                    self.assertIn('mutant.json', message, text)
                except Exception as err:    # pylint: disable=broad-except
                    self.fail('mutant %d crashed the front end with %r:\n%s'
                              % (i, err, text))


if __name__ == '__main__':
    unittest.main()
