#!/usr/bin/env python3
"""Print or rewrite the list of generator test cases in meson.build.

  list-cases.py            print the case names, one a line
  list-cases.py --meson    print the 'cases = [...]' list in meson syntax
  list-cases.py --write    rewrite that list in tests/qapi-schema/meson.build

A case is every NAME.json directly in tests/qapi-schema/.
"""

import argparse
import sys

from caselist import (MESON_BUILD, cases_in_dir, format_meson,
                      rewrite_meson)


def main() -> int:
    parser = argparse.ArgumentParser(
        description='List the generator test cases of tests/qapi-schema/.')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--meson', action='store_true',
                       help="print the list in meson syntax")
    group.add_argument('--write', action='store_true',
                       help='rewrite the list in meson.build in place')
    args = parser.parse_args()

    cases = cases_in_dir()
    if args.meson:
        sys.stdout.write(format_meson(cases))
    elif args.write:
        return rewrite_meson(MESON_BUILD, cases)
    else:
        for name in cases:
            print(name)
    return 0


if __name__ == '__main__':
    sys.exit(main())
