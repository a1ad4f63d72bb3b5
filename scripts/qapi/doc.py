# SPDX-License-Identifier: MIT
"""Doc blocks (docs/spec/qapi-language.md §10): their sections and their checks.

parse_doc() runs while reading (step 1 of §9.1) and raises the syntax
errors; the cross-checks against the model run in schema.py through
QAPIDoc.check_described().
"""

import re
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Sequence

from .error import QAPIError
from .source import QAPISourceInfo

if TYPE_CHECKING:
    from .parser import DocLine

_SYMBOL = re.compile(r'@([^\s:]+):')
_LEGACY_SYMBOL = re.compile(r'@([^\s:]+)')
_DESCRIPTION = re.compile(r'@([^\s:]*):(.*)')
_TAG = re.compile(r'(Returns|Since|Notes?|Examples?|TODO):(.*)')
_HEADING = re.compile(r'(=+)(?: +(.*))?')
_UNIQUE_TAGS = ('Returns', 'Since')


class Section:
    """Text of a doc block part.  TAG is None for the body and untitled
    sections, 'Returns', 'Since', ... for tagged ones, '@NAME' for a
    description, '=' * N for a heading of a free-form doc."""

    def __init__(self, info: QAPISourceInfo, tag: Optional[str],
                 name: Optional[str] = None, indent_rule: bool = False,
                 col: Optional[int] = None):
        self.info = info
        self.col = col                  # where its opening line starts
        self.tag = tag
        self.name = name
        self.lines: List[str] = []
        # Descriptions and tagged sections: the first non-blank line
        # after the opening one sets the indentation (§10.3/4).
        self.indent_rule = indent_rule
        self.indent: Optional[int] = None

    def add(self, line: 'DocLine') -> None:
        text = line.text
        if self.indent_rule and text.strip():
            indent = len(text) - len(text.lstrip(' '))
            if self.indent is None:
                self.indent = indent
            elif indent < self.indent:
                raise QAPIError(
                    self.info.at_line(line.line),
                    'line is indented by %d, expected at least %d as the '
                    'first line after %s' % (indent, self.indent,
                                             self.describe()),
                    col=line.col + indent, with_context=False)
        self.lines.append(text[self.indent or 0:])

    def text(self) -> str:
        """The text, without its indentation and blank edges."""
        return '\n'.join(self.lines).strip('\n').rstrip()

    def describe(self) -> str:
        if self.name is not None:
            return "'@%s:'" % self.name
        if self.tag is not None:
            return "'%s:'" % self.tag
        return 'the untitled section'


class QAPIDoc:
    """A doc block.  SYMBOL is the documented definition's name, None
    for a free-form block.  LEGACY marks a 2012 block (§11/5), whose
    text is kept in BODY unchecked."""

    def __init__(self, info: QAPISourceInfo, symbol: Optional[str],
                 legacy: bool = False):
        self.info = info
        self.symbol = symbol
        self.legacy = legacy
        self.body = Section(info, None)
        self.args: Dict[str, Section] = {}
        self.features: Dict[str, Section] = {}
        self.has_features_line = False
        self.sections: List[Section] = []      # tagged and untitled

    def section_tags(self) -> List[str]:
        return [s.tag for s in self.sections if s.tag is not None]

    # Cross-checks against the model (§10.3/5-6)

    def check_described(self, members: Sequence[str],
                        features: Sequence[str], what: str) -> None:
        """Every described member and feature must exist in WHAT."""
        if self.legacy:
            return
        missing = [name for name in self.args if name not in members]
        missing += [name for name in self.features if name not in features]
        if missing:
            raise QAPIError(
                self.info, '%s %s not exist in %s'
                % ('described names' if len(missing) > 1 else
                   'described name', _names(missing) + (
                       ' do' if len(missing) > 1 else ' does'), what),
                with_context=False)

    def undescribed_features(self, features: Iterable[str]) -> List[str]:
        if self.legacy:
            return []
        return [name for name in features if name not in self.features]


def _names(names: Sequence[str]) -> str:
    return ', '.join("'@%s'" % name for name in names)


def parse_doc(info: QAPISourceInfo, lines: List['DocLine']) -> QAPIDoc:
    """Build the QAPIDoc of the block whose '##' is at INFO."""
    first = next((i for i, line in enumerate(lines) if line.text.strip()),
                 None)
    if first is None or not lines[first].text.startswith('@'):
        return _parse_free_form(info, lines)
    symbol_line = lines[first]
    text = symbol_line.text.rstrip()
    match = _SYMBOL.fullmatch(text)
    if match:
        doc = QAPIDoc(info, match.group(1))
        _parse_definition_doc(doc, lines[first + 1:])
        return doc
    match = _LEGACY_SYMBOL.fullmatch(text)
    if match:
        doc = QAPIDoc(info, match.group(1), legacy=True)
        for line in lines[first + 1:]:
            doc.body.lines.append(line.text)
        return doc
    raise QAPIError(info.at_line(symbol_line.line),
                    "a doc block's symbol line must be '@NAME:' alone "
                    "(or, in the 2012 form, '@NAME')", col=symbol_line.col,
                    with_context=False)


def _parse_free_form(info: QAPISourceInfo,
                     lines: List['DocLine']) -> QAPIDoc:
    doc = QAPIDoc(info, None)
    section = doc.body
    for line in lines:
        text = line.text
        if _DESCRIPTION.match(text):
            raise QAPIError(info.at_line(line.line),
                            "'%s' describes a member, but this is a "
                            "free-form doc block" % text.split(':')[0],
                            col=line.col, with_context=False)
        heading = _HEADING.fullmatch(text.rstrip())
        if heading and text.startswith('='):
            if not heading.group(2):
                raise QAPIError(info.at_line(line.line),
                                'heading without a title', col=line.col,
                                with_context=False)
            section = Section(info.at_line(line.line), heading.group(1))
            section.lines.append(heading.group(2))
            doc.sections.append(section)
            continue
        section.lines.append(text)
    return doc


def _parse_definition_doc(doc: QAPIDoc, lines: List['DocLine']) -> None:
    """Fill DOC from the lines after its symbol line (§10.2)."""
    state = 'body'          # then 'args', 'features', 'sections'
    current: Optional[Section] = doc.body
    after_blank = False
    opened: List[Section] = []

    def at(line: 'DocLine') -> QAPISourceInfo:
        return doc.info.at_line(line.line)

    for line in lines:
        text = line.text
        if not text.strip():
            if current is not None:
                current.lines.append('')
            after_blank = True
            continue
        description = _DESCRIPTION.fullmatch(text.rstrip())
        tag = _TAG.fullmatch(text.rstrip())
        heading = _HEADING.fullmatch(text.rstrip())
        if description:
            name, rest = description.group(1), description.group(2).strip()
            if not name:
                raise QAPIError(at(line), "'@:' describes nothing: a name "
                                "is missing", col=line.col,
                                with_context=False)
            if state == 'sections':
                raise QAPIError(at(line), "'@%s:' comes after %s; "
                                "descriptions come first"
                                % (name, opened[-1].describe()),
                                col=line.col, with_context=False)
            table = doc.features if state == 'features' else doc.args
            if state == 'body':
                state = 'args'
            if name in table:
                raise QAPIError(at(line), "'@%s' is described twice (first "
                                "at line %d)" % (name, table[name].info.line),
                                col=line.col, with_context=False)
            if table is doc.args and rest.startswith('#optional'):
                rest = rest[len('#optional'):].strip()
            current = Section(at(line), None, name, indent_rule=True,
                              col=line.col)
            if rest:
                current.lines.append(rest)
            table[name] = current
            opened.append(current)
        elif text.rstrip() == 'Features:':
            if doc.has_features_line:
                raise QAPIError(at(line), "a second 'Features:' line",
                                col=line.col, with_context=False)
            if state == 'sections':
                raise QAPIError(at(line), "'Features:' comes after %s; "
                                "feature descriptions come before tagged "
                                "sections" % opened[-1].describe(),
                                col=line.col, with_context=False)
            doc.has_features_line = True
            state = 'features'
            current = None
        elif tag:
            name, rest = tag.group(1), tag.group(2).strip()
            if name in _UNIQUE_TAGS and name in doc.section_tags():
                raise QAPIError(at(line), "a second '%s:' section" % name,
                                col=line.col, with_context=False)
            current = Section(at(line), name, indent_rule=True,
                              col=line.col)
            if rest:
                current.lines.append(rest)
            doc.sections.append(current)
            opened.append(current)
            state = 'sections'
        elif heading and text.startswith('='):
            raise QAPIError(at(line), 'a heading belongs in a free-form doc '
                            'block, not in the doc of a definition',
                            col=line.col, with_context=False)
        elif current is None:
            raise QAPIError(at(line), "'Features:' must be followed by "
                            "'@feature:' descriptions", col=line.col,
                            with_context=False)
        elif state in ('args', 'features') and after_blank \
                and not text.startswith(' '):
            # Inside a tagged or untitled section, such a line continues
            # it: only a tag opens another (§10.2/5).
            current = Section(at(line), None)
            current.lines.append(text)
            doc.sections.append(current)
            opened.append(current)
            state = 'sections'
        else:
            current.add(line)
        after_blank = False

    for section in opened:
        if not section.text():
            raise QAPIError(section.info, '%s has no text'
                            % section.describe(), col=section.col,
                            with_context=False)
