# SPDX-License-Identifier: MIT
"""The compatibility test cases of tests/qapi-compat/, on disk.

A case NAME is the pair NAME-old.json and NAME-new.json directly in
this directory; meson.build lists the cases between the markers that
tests/qapi-schema/caselist.py reads and rewrites.
"""

import sys
from pathlib import Path
from typing import List

CASE_DIR = Path(__file__).resolve().parent
MESON_BUILD = CASE_DIR / 'meson.build'
OLD_SUFFIX = '-old.json'
NEW_SUFFIX = '-new.json'

# The helpers shared with the generator's golden suite.
sys.path.insert(0, str(CASE_DIR.parent / 'qapi-schema'))


def cases_in_dir() -> List[str]:
    """The names of the cases, sorted: every NAME-old.json."""
    return sorted(path.name[:-len(OLD_SUFFIX)]
                  for path in CASE_DIR.glob('*' + OLD_SUFFIX)
                  if path.is_file())
