#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test exported-symbols: libqapikit exports exactly the list of
lib/libqapikit.map, and that list is what the headers declare public.

    check-exports.py --nm NM --map MAP --library LIB HEADER...

Three sets, compared pairwise; any difference fails the test and is
printed:
  map      the names under 'global:' in the version script MAP;
  library  `NM -D --defined-only LIB`: every defined dynamic symbol
           (version suffixes '@@NODE' dropped, version node names
           themselves ignored);
  headers  every name declared QAPIKIT_API in the HEADERs (the public
           headers and the runtime's generated ones).
map vs library catches a symbol that leaks or fails to be exported (the
version script not applied, or a name spelled wrong); headers vs map
catches a public declaration nobody added to the list (it would be
hidden by 'local: *' and fail to link for users) or a listed name no
header declares any more.
"""

import argparse
import re
import subprocess
import sys
from typing import Dict, List, Set, Tuple


def map_symbols(path: str) -> Tuple[Set[str], Set[str]]:
    """The global names of the version script, and its version nodes."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'#[^\n]*', ' ', text)
    names: Set[str] = set()
    nodes: Set[str] = set()
    for node in re.finditer(r'([A-Za-z_][\w.]*)\s*\{(.*?)\}', text, re.S):
        nodes.add(node.group(1))
        body = node.group(2)
        body = re.split(r'\blocal\s*:', body)[0]
        body = re.sub(r'\bglobal\s*:', ' ', body)
        for entry in body.split(';'):
            entry = entry.strip()
            if not entry:
                continue
            if not re.fullmatch(r'[A-Za-z_]\w*', entry):
                sys.exit('%s: not a plain symbol name: %r' % (path, entry))
            if entry in names:
                sys.exit('%s: %s listed twice' % (path, entry))
            names.add(entry)
    if not names:
        sys.exit('%s: no global symbols found' % path)
    return names, nodes


def library_symbols(nm: str, library: str, nodes: Set[str]) -> Set[str]:
    out = subprocess.run([nm, '-D', '--defined-only', library],
                         check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    names: Set[str] = set()
    for line in out.splitlines():
        fields = line.split()
        if not fields:
            continue
        name = fields[-1].split('@')[0]
        kind = fields[-2] if len(fields) >= 2 else ''
        # The version node is an absolute symbol of its own (older
        # toolchains show it).
        if kind == 'A' and name in nodes:
            continue
        names.add(name)
    return names


def header_symbols(headers: List[str]) -> Dict[str, str]:
    """Name -> header, for every QAPIKIT_API declaration."""
    names: Dict[str, str] = {}
    for path in headers:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
        text = re.sub(r'//[^\n]*', ' ', text)
        # Preprocessor lines (with continuations), e.g. the definition
        # of QAPIKIT_API itself.
        text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', ' ', text,
                      flags=re.M)
        for decl in re.finditer(r'\bQAPIKIT_API\b([^;{]*)', text):
            body = decl.group(1)
            function = re.search(r'(\w+)\s*\(', body)
            if function:
                name = function.group(1)
            else:
                words = re.findall(r'\w+', re.sub(r'\[.*', '', body))
                if not words:
                    continue
                name = words[-1]
            names[name] = path
    return names


def report(title: str, names: Set[str]) -> None:
    print('%s (%d):' % (title, len(names)))
    for name in sorted(names):
        print('    ' + name)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument('--nm', default='nm')
    parser.add_argument('--map', required=True)
    parser.add_argument('--library', required=True)
    parser.add_argument('headers', nargs='+')
    args = parser.parse_args()

    listed, nodes = map_symbols(args.map)
    exported = library_symbols(args.nm, args.library, nodes)
    declared = header_symbols(args.headers)

    ok = True
    for title, names in [
            ('exported by %s but not listed in %s' % (args.library, args.map),
             exported - listed),
            ('listed in %s but not exported by %s' % (args.map, args.library),
             listed - exported),
            ('declared QAPIKIT_API in a header but not listed in %s'
             % args.map, set(declared) - listed),
            ('listed in %s but declared QAPIKIT_API in no header' % args.map,
             listed - set(declared))]:
        if names:
            ok = False
            report(title, names)
    if not ok:
        print('exported-symbols: FAILED.  Public symbols are the '
              'QAPIKIT_API declarations of the headers, each listed in '
              '%s; see its header comment.' % args.map)
        return 1
    print('exported-symbols: %d symbols: map, library and headers agree'
          % len(listed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
