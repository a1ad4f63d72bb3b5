#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every C source and header of the tree is formatted as the project's
.clang-format says (docs/spec/style.md): `clang-format --dry-run
--Werror` prints nothing and succeeds on each.  Test data and build
trees are left out, as for the SPDX check.

  clang-format-check.py CLANG_FORMAT [ROOT]
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spdx import sources  # noqa: E402


def main(argv: list) -> int:
    clang_format = argv[1]
    root = argv[2] if len(argv) > 2 else os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))
    files = [os.path.join(root, rel) for rel in sources(root)
             if rel.endswith(('.c', '.h'))]
    result = subprocess.run([clang_format, '--dry-run', '--Werror',
                             '--style=file', *files],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0 or result.stderr:
        sys.stdout.write(result.stderr)
        print('%d files checked: not formatted as .clang-format says; '
              'run clang-format -i on them' % len(files))
        return 1
    print('%d files checked, all formatted' % len(files))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
