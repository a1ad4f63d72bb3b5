#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qapi-gen.py: compile a QAPI schema into C for the qapikit runtime.

See docs/ and shared docs/spec/qapi-language.md §12 for the command line.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qapi.main import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
