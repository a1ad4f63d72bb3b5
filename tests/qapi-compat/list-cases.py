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
from caselist import replace_in_meson


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
    old = MESON_BUILD.read_text(encoding='utf-8')
    try:
        new = replace_in_meson(old, cases, str(MESON_BUILD))
    except ValueError as err:
        print('list-cases.py: %s' % err, file=sys.stderr)
        return 1
    if new != old:
        MESON_BUILD.write_text(new, encoding='utf-8')
    print('%s: %s, %d cases' % (MESON_BUILD, 'rewritten' if new != old
                                else 'unchanged', len(cases)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
