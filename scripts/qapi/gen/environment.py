# SPDX-License-Identifier: MIT
"""The Jinja2 environment the C backends render with: its templates
(scripts/qapi/templates/), its filters and globals, and the cache of
compiled templates kept between runs."""

import hashlib
import os
from typing import Any, List, Optional

import jinja2
import jinja2.bccache

from ..schema import Module
from . import ctypes

# Must equal QAPIKIT_GEN_ABI in qapi/include/qapikit/base.h.
GEN_ABI = 1

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'templates')


class _Environment(jinja2.Environment):
    """Templates read attributes of views and entities only: 'x.y' is
    getattr(x, 'y') (an unknown attribute is an error), without Jinja's
    fallback to x['y'] and its cost on every lookup."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        # The built-in itself, not a method calling it: compiled
        # templates call environment.getattr() for every 'x.y'.
        # Jinja2's stubs declare a method there, which mypy does not let
        # an instance attribute replace ('method-assign' from mypy 1.1).
        self.getattr = getattr  # type: ignore[assignment,method-assign]


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs: loading one takes a tenth of
    the time of compiling it.  Jinja checks each entry against the
    template's source and the Python version.  One entry per template
    name, whichever copy of the generator wrote it (so the cache does
    not grow with every installed copy; another copy's entry is
    replaced).  A cache that cannot be read or written works as no
    cache."""

    def get_cache_key(self, name: str,
                      filename: Optional[str] = None) -> str:
        return hashlib.sha1(name.encode('utf-8')).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache() -> Optional[jinja2.BytecodeCache]:
    """The cache of compiled templates: in the user's cache directory
    ($XDG_CACHE_HOME/qapikit/templates, by default under ~/.cache),
    never in the source tree; None when there is no such directory."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
        os.path.expanduser('~'), '.cache')
    if not os.path.isabs(base):
        return None                 # no home, or a relative path
    directory = os.path.join(base, 'qapikit', 'templates')
    package = os.path.dirname(TEMPLATES)
    if os.path.commonpath([directory, package]) == package:
        return None
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(directory)


def environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        auto_reload=False, cache_size=-1, bytecode_cache=_bytecode_cache())
    env.filters['wrap'] = ctypes.wrap
    env.filters['signature'] = signature_lines
    env.globals.update({
        'module_label': _module_label,
        'abi': GEN_ABI,
    })
    return env


def signature(head: str, params: List[str], tail: str = '') -> str:
    """HEAD(PARAMS)TAIL within 80 columns: the parameters wrapped and
    aligned after the parenthesis, or, when HEAD is too long for that,
    on the following lines indented by four."""
    line = head + '(' + ', '.join(params) + ')' + tail
    if len(line) <= 80:
        return line
    return _wrap_params(head, params, tail)


def _wrap_params(head: str, params: List[str], tail: str) -> str:
    """signature() for a line too long."""
    if len(head) < 40:
        current, indent = head + '(' + params[0], ' ' * (len(head) + 1)
        width = len(current)            # of the last line
    else:
        current, indent = head + '(\n    ' + params[0], '    '
        width = 4 + len(params[0])
    lines: List[str] = []
    last = len(params) - 1
    for i in range(1, last + 1):
        param = params[i]
        room = 80 - len(tail) - 1 if i == last else 80
        if width + len(param) + 2 > room:
            lines.append(current + ',')
            current = indent + param
            width = len(current)
        else:
            current += ', ' + param
            width += len(param) + 2
    lines.append(current + ')' + tail)
    return '\n'.join(lines)


def signature_lines(text: str) -> str:
    """The 'signature' filter: each line of TEXT, a function declaration,
    definition head or call 'HEAD(PARAM, ...)TAIL' written on one line,
    wrapped within 80 columns by signature()."""
    if len(text) <= 80 or len(text) == 81 and text[80] == '\n':
        return text                     # (one line that fits)
    out = []
    for line in text.split('\n'):
        if len(line) <= 80:
            out.append(line)
            continue
        open_paren = line.index('(')
        close_paren = line.rindex(')')
        inner = line[open_paren + 1:close_paren]
        out.append(_wrap_params(line[:open_paren],
                                inner.split(', ') if inner else [],
                                line[close_paren + 1:]))
    return '\n'.join(out)


def _module_label(module: Module) -> str:
    if module.is_builtin():
        return 'the built-in module'
    return 'module %s' % module.name
