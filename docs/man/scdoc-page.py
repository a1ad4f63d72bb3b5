#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build one manual page: scdoc-page.py SCDOC SOURCE PAGE.

Runs SCDOC on SOURCE and writes its roff to PAGE, with one fix: scdoc
(1.11) asks for no hyphenation (.nh) before the .TH line, and the man
macros' .TH turns hyphenation on again, so that groff breaks option names
such as --suppress-tracing at the end of a line.  The .nh goes after .TH.
"""

import subprocess
import sys


def main(argv: list) -> int:
    if len(argv) != 3:
        sys.stderr.write('usage: scdoc-page.py SCDOC SOURCE PAGE\n')
        return 2
    scdoc, source, page = argv
    with open(source, 'rb') as f:
        proc = subprocess.run([scdoc], stdin=f, stdout=subprocess.PIPE)
    if proc.returncode != 0:
        return proc.returncode
    lines = proc.stdout.decode('utf-8').split('\n')
    if '.nh' in lines:
        lines.remove('.nh')
        th = next(i for i, line in enumerate(lines) if line.startswith('.TH '))
        lines.insert(th + 1, '.nh')
    with open(page, 'w', encoding='utf-8') as f:
        f.write('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
