# SPDX-License-Identifier: MIT
"""The command line of qapi-gen.py (docs/spec/qapi-language.md §12.1)."""

import argparse
import gc
import os
import re
import sys
from typing import List, NoReturn, Optional

from .error import QAPIError
from .manual import FORMATS
from .schema import QAPISchema

VERSION = '0.1.0'

_PREFIX = re.compile(r'[A-Za-z_.-][A-Za-z0-9_.-]*')


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors exit 2 with a usage line, as §12.1
    asks, and never print a traceback."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write('%s: error: %s\n' % (self.prog, message))
        sys.exit(2)


def _options() -> _Parser:
    parser = _Parser(
        prog='qapi-gen.py',
        description='Compile a QAPI schema into C for the qapikit runtime.')
    parser.add_argument('-o', '--output-dir', default='.', metavar='DIR',
                        help='where to write the files (default: .)')
    parser.add_argument('-p', '--prefix', default='', metavar='PREFIX',
                        help='prefix of file names and schema-wide symbols')
    parser.add_argument('-b', '--builtins', action='store_true',
                        help='also write the built-in module')
    masking = parser.add_mutually_exclusive_group()
    masking.add_argument('-m', '--mask', action='store_true',
                         help='number type names in introspection')
    masking.add_argument('-u', '--unmask-non-abi-names', action='store_true',
                         help='keep real type names (the default)')
    parser.add_argument('--suppress-tracing', action='store_true',
                        help='accepted and ignored: no trace files are '
                        'generated (for QEMU build rules)')
    parser.add_argument('--compat', choices=('2012',),
                        help="read the schema with QEMU's 2012 rules")
    parser.add_argument('--all-commands', action='store_true',
                        help="generate 'gen': false commands too (for the "
                        'program that implements a module others include)')
    parser.add_argument('--dump-model', action='store_true',
                        help='print the checked model and write nothing')
    parser.add_argument('--json-schema', action='store_true',
                        help='write the wire as a JSON Schema document, '
                        'qapi-schema.json, instead of C')
    parser.add_argument('--doc', choices=FORMATS, metavar='FORMAT',
                        help='write the reference manual from the doc '
                        'comments instead of C: FORMAT is html, markdown '
                        'or man')
    parser.add_argument('--version', action='version',
                        version='qapi-gen.py (qapikit) %s' % VERSION)
    parser.add_argument('schema', metavar='SCHEMA',
                        help='the main schema file')
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    # The compiler is a short-lived process that builds one large object
    # graph and drops it at exit: the cyclic garbage collector only costs
    # time here (15% of the front end's time on bench/gen-bench's schema,
    # and it made the time grow faster than the schema).
    gc.disable()
    parser = _options()
    args = parser.parse_args(argv)
    if not _PREFIX.fullmatch(args.prefix) and args.prefix != '':
        parser.error("invalid prefix '%s': it must match "
                     "[A-Za-z_.-][A-Za-z0-9_.-]*" % args.prefix)
    modes = [option for option, on in (
        ('--dump-model', args.dump_model),
        ('--json-schema', args.json_schema),
        ('--doc', args.doc is not None)) if on]
    if len(modes) > 1:
        parser.error('%s exclude each other' % ' and '.join(modes))
    if args.doc is not None and args.compat == '2012':
        parser.error('--doc needs doc comments, which --compat 2012 does '
                     'not read (its # lines are plain comments)')
    try:
        schema = QAPISchema(args.schema, compat=args.compat,
                            all_commands=args.all_commands)
    except QAPIError as err:
        sys.stderr.write('%s\n' % err)
        return 1
    if args.dump_model:
        from .dump import dump_model
        sys.stdout.write(dump_model(schema))
        return 0
    from .gen import OutputFiles, generate
    if args.doc is not None:
        from .manual import file_name, render
        files = OutputFiles()
        files.add(file_name(args.schema, args.doc, args.prefix),
                  render(schema, args.doc, args.schema, VERSION,
                         args.prefix))
    elif args.json_schema:
        from .jsonschema import json_schema
        files = OutputFiles()
        files.add('qapi-schema.json',
                  json_schema(schema, os.path.basename(args.schema)))
    else:
        files = generate(schema, args.prefix, args.builtins, args.mask)
    try:
        files.write(args.output_dir)
    except QAPIError as err:
        sys.stderr.write('%s\n' % err)
        return 1
    return 0
