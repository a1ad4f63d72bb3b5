# SPDX-License-Identifier: MIT
"""The command line of qapi-compat (docs/spec/qapi-language.md §12.5).

  qapi-compat [--compat 2012] [--old-compat 2012] [--new-compat 2012]
              [--json] OLD-SCHEMA NEW-SCHEMA

Exit status as diff(1)'s: 0 no break, 1 a break, 2 a usage or schema
error.
"""

import gc
import json
import sys
from typing import List, Optional, Sequence

from .compat import BREAK, SEVERITIES, Finding, compare, summary
from .error import QAPIError
# The argument parser whose usage errors exit 2 (qapi-gen's).
from .main import VERSION, _Parser
from .schema import QAPISchema

EXIT_OK = 0
EXIT_BREAK = 1
EXIT_ERROR = 2

# Severity -> (singular, plural) in the summary line.
_COUNT_WORDS = {'break': ('break', 'breaks'),
                'warning': ('warning', 'warnings'),
                'note': ('note', 'notes'),
                'allowed': ('allowed removal', 'allowed removals')}


def _options() -> _Parser:
    parser = _Parser(
        prog='qapi-compat',
        description='Report the changes from OLD-SCHEMA to NEW-SCHEMA that '
        'can break a QMP client.  Exit status: 0 no break, 1 a break, '
        '2 a usage or schema error.')
    parser.add_argument('--compat', choices=('2012',),
                        help="read both schemas with QEMU's 2012 rules")
    parser.add_argument('--old-compat', choices=('2012',),
                        help="read OLD-SCHEMA with QEMU's 2012 rules")
    parser.add_argument('--new-compat', choices=('2012',),
                        help="read NEW-SCHEMA with QEMU's 2012 rules")
    parser.add_argument('--json', action='store_true',
                        help='print the report as one JSON object')
    parser.add_argument('--version', action='version',
                        version='qapi-compat (qapikit) %s' % VERSION)
    parser.add_argument('old', metavar='OLD-SCHEMA',
                        help='the main schema file of the old version')
    parser.add_argument('new', metavar='NEW-SCHEMA',
                        help='the main schema file of the new version')
    return parser


def summary_line(findings: Sequence[Finding]) -> str:
    counts = summary(findings)
    return ', '.join('%d %s' % (counts[sev],
                                _COUNT_WORDS[sev][counts[sev] != 1])
                     for sev in SEVERITIES)


def text_report(findings: Sequence[Finding]) -> str:
    """One line a finding, then the summary line."""
    return ''.join('%s\n' % finding.text() for finding in findings) \
        + summary_line(findings) + '\n'


def json_report(old: str, new: str, findings: Sequence[Finding]) -> str:
    """The same report as one JSON object."""
    document = {
        'old': old,
        'new': new,
        'findings': [{'severity': f.severity, 'file': f.fname,
                      'line': f.line, 'direction': f.direction,
                      'reason': f.reason} for f in findings],
        'summary': summary(findings),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    gc.disable()                # a short-lived process, see main.main()
    args = _options().parse_args(argv)
    try:
        old = QAPISchema(args.old, compat=args.old_compat or args.compat)
        new = QAPISchema(args.new, compat=args.new_compat or args.compat)
    except QAPIError as err:
        sys.stderr.write('%s\n' % err)
        return EXIT_ERROR
    findings = compare(old, new)
    if args.json:
        sys.stdout.write(json_report(args.old, args.new, findings))
    else:
        sys.stdout.write(text_report(findings))
    return EXIT_BREAK if any(f.severity == BREAK for f in findings) \
        else EXIT_OK
