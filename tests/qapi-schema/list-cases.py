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
                      replace_in_meson)


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
        old = MESON_BUILD.read_text(encoding='utf-8')
        try:
            new = replace_in_meson(old, cases, str(MESON_BUILD))
        except ValueError as err:
            print('list-cases.py: %s' % err, file=sys.stderr)
            return 1
        if new == old:
            print('%s: unchanged, %d cases' % (MESON_BUILD, len(cases)))
        else:
            MESON_BUILD.write_text(new, encoding='utf-8')
            print('%s: rewritten, %d cases' % (MESON_BUILD, len(cases)))
    else:
        for name in cases:
            print(name)
    return 0


if __name__ == '__main__':
    sys.exit(main())
