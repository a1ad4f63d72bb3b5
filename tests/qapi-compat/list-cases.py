#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print or rewrite the list of compatibility test cases in meson.build.

  list-cases.py            print the case names, one a line
  list-cases.py --write    rewrite the list in tests/qapi-compat/meson.build

A case is every NAME-old.json directly in tests/qapi-compat/.
"""

import argparse
import sys

from casedir import MESON_BUILD, cases_in_dir
from caselist import rewrite_meson


def main() -> int:
    parser = argparse.ArgumentParser(
        description='List the compatibility test cases of '
        'tests/qapi-compat/.')
    parser.add_argument('--write', action='store_true',
                        help='rewrite the list in meson.build in place')
    args = parser.parse_args()
    cases = cases_in_dir()
    if not args.write:
        for name in cases:
            print(name)
        return 0
    return rewrite_meson(MESON_BUILD, cases)


if __name__ == '__main__':
    sys.exit(main())
