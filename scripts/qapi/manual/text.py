# SPDX-License-Identifier: MIT
"""The markup of doc text (docs/spec/qapi-language.md §12.4/4), parsed
into a tiny tree that every renderer walks the same way.

Blocks: a paragraph (inlines), a literal block (verbatim text: the
indented lines after a paragraph ending in '::', or a QMP transcript of
'->' / '<-' lines) and a bullet list ('- ' or '* ' items, each a list
of blocks).  Inlines: text, code (``code``, `code`, or an @name that
names no definition), a reference (an @name that names a definition or
a built-in type), *emphasis* and **strong**.
"""

import re
from typing import Callable, List, Optional, Sequence, Tuple, Union

# (kind, text, anchor): kind is 'text', 'code', 'ref', 'emph' or
# 'strong'; anchor is the link target of a 'ref', '' otherwise.
Inline = Tuple[str, str, str]

# Where an @name leads: its anchor, or None when it names no entry.
Resolver = Callable[[str], Optional[str]]


class Para:
    __slots__ = ('inlines',)

    def __init__(self, inlines: List[Inline]):
        self.inlines = inlines


class Literal:
    __slots__ = ('text',)

    def __init__(self, text: str):
        self.text = text


class Bullets:
    __slots__ = ('items',)

    def __init__(self, items: List[List['Block']]):
        self.items = items


Block = Union[Para, Literal, Bullets]

_INLINE = re.compile(
    r'``(?P<code2>.+?)``'
    r'|`(?P<code1>[^`]+)`'
    r'|@(?P<ref>[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)'
    r'|\*\*(?P<strong>[^\s*](?:.*?[^\s*])?)\*\*'
    r'|\*(?P<emph>[^\s*](?:[^*]*?[^\s*])?)\*')
_BULLET = re.compile(r'( *)[-*] +(?=\S)')
_TRANSCRIPT = ('->', '<-')
# What makes a line of text more than one plain paragraph.
_MARKUP = re.compile(r'[\n@*`]|::|->|<-|^\s*- ')


def parse_inlines(text: str, resolve: Resolver) -> List[Inline]:
    """The inlines of TEXT, a paragraph's text on one line."""
    out: List[Inline] = []
    pos = 0
    for match in _INLINE.finditer(text):
        start = match.start()
        if match.lastgroup == 'ref' and start and text[start - 1].isalnum():
            continue                    # an address like a@b.c
        if start > pos:
            out.append(('text', text[pos:start], ''))
        kind = match.lastgroup
        value = match.group(kind or 0)
        if kind == 'ref':
            anchor = resolve(value)
            out.append(('ref', value, anchor) if anchor is not None
                       else ('code', value, ''))
        elif kind in ('code1', 'code2'):
            out.append(('code', value, ''))
        else:
            assert kind is not None
            out.append((kind, value, ''))
        pos = match.end()
    if pos < len(text):
        out.append(('text', text[pos:], ''))
    return out


def parse_blocks(text: str, resolve: Resolver) -> List[Block]:
    """The blocks of TEXT, a doc section's text without its indentation."""
    if not text:
        return []
    if not _MARKUP.search(text):
        return [Para([('text', text.strip(), '')])]
    return _Blocks(text.split('\n'), resolve).parse()


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(' '))


def _dedent(lines: Sequence[str]) -> List[str]:
    """LINES without their common indentation or blank edges."""
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    while lines and not lines[0].strip():
        lines = lines[1:]
    margin = min((_indent(line) for line in lines if line.strip()),
                 default=0)
    return [line[margin:].rstrip() for line in lines]


class _Blocks:
    def __init__(self, lines: List[str], resolve: Resolver):
        self.lines = lines
        self.resolve = resolve
        self.blocks: List[Block] = []
        self.para: List[str] = []

    def flush(self) -> None:
        if self.para:
            text = ' '.join(self.para)
            self.blocks.append(Para(parse_inlines(text, self.resolve)))
            self.para = []

    def parse(self) -> List[Block]:
        lines = self.lines
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            if not stripped:
                self.flush()
                i += 1
            elif stripped.startswith(_TRANSCRIPT):
                self.flush()
                i = self.transcript(i)
            elif _BULLET.match(line):
                self.flush()
                i = self.bullets(i)
            elif stripped.endswith('::'):
                head = stripped[:-2].rstrip()
                if head:
                    self.para.append(head + ':')
                self.flush()
                i = self.literal(i + 1, _indent(line))
            else:
                self.para.append(stripped)
                i += 1
        self.flush()
        return self.blocks

    def _extent(self, start: int, inside: Callable[[str], bool]) -> int:
        """The end of the lines from START that INSIDE accepts, blank
        lines included when a line it accepts follows them."""
        end = start
        i = start
        while i < len(self.lines):
            line = self.lines[i]
            if line.strip():
                if not inside(line):
                    break
                end = i + 1
            i += 1
        return end

    def transcript(self, start: int) -> int:
        margin = _indent(self.lines[start])

        def inside(line: str) -> bool:
            indent = _indent(line)
            return indent > margin or (
                indent == margin and line.lstrip().startswith(_TRANSCRIPT))
        end = self._extent(start + 1, inside)
        end = max(end, start + 1)
        self.blocks.append(Literal('\n'.join(_dedent(
            self.lines[start:end]))))
        return end

    def literal(self, start: int, margin: int) -> int:
        end = self._extent(start, lambda line: _indent(line) > margin)
        body = _dedent(self.lines[start:end])
        if body:
            self.blocks.append(Literal('\n'.join(body)))
        return end

    def bullets(self, start: int) -> int:
        items: List[List[Block]] = []
        i = start
        match = _BULLET.match(self.lines[start])
        assert match is not None
        margin = len(match.group(1))
        while i < len(self.lines):
            match = _BULLET.match(self.lines[i])
            if not match or len(match.group(1)) != margin:
                break
            first = ' ' * match.end() + self.lines[i][match.end():]
            end = self._extent(i + 1, lambda line: _indent(line) > margin)
            body = _dedent([first] + self.lines[i + 1:end])
            items.append(_Blocks(body, self.resolve).parse())
            i = end
            while i < len(self.lines) and not self.lines[i].strip():
                nxt = i + 1
                if nxt < len(self.lines) and _BULLET.match(self.lines[nxt]):
                    i = nxt
                    break
                i += 1
            else:
                continue
        self.blocks.append(Bullets(items))
        # Blank lines consumed past the list are harmless: they only
        # end a paragraph, and none is open.
        return i


def plain(inlines: Sequence[Inline]) -> str:
    """INLINES as plain text (titles of a table of contents)."""
    return ''.join(text for _, text, _ in inlines)
