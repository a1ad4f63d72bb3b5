#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""qapi-compat.py: report the changes between two versions of a QAPI
schema that can break a client.

See docs/schema-compiler.md and docs/spec/qapi-language.md §12.5.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from qapi.compat_main import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
