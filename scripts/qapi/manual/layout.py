# SPDX-License-Identifier: MIT
"""What every format of the manual shares: the parts of the document,
their order and their wording.  A format (html.py, markdown.py, man.py)
subclasses Layout and supplies the primitives: escaping, inline markup,
blocks, headings, labelled lists and the document frame."""

from typing import Callable, Dict, List, Sequence, Tuple, TypeVar

from .model import (Branch, Builtin, Entry, FeatureDoc, Heading, Manual,
                    MemberDoc, Text, TocLine, TypeLink)
from .text import Block, Bullets, Inline, Literal, Para

# A row of a labelled list: its term and its body (rendered blocks).
Row = Tuple[str, str]
T = TypeVar('T')


class Layout:
    def __init__(self, manual: Manual, version: str):
        self.manual = manual
        self.version = version
        self.nesting = 0        # labelled lists around what is rendered
        self._escaped: Dict[str, str] = {}

    # Primitives, per format

    def escape(self, text: str) -> str:
        """TEXT with what the format would read as markup escaped."""
        raise NotImplementedError

    def code(self, text: str) -> str:
        raise NotImplementedError

    def link(self, markup: str, anchor: str) -> str:
        raise NotImplementedError

    def emph(self, markup: str) -> str:
        raise NotImplementedError

    def strong(self, markup: str) -> str:
        raise NotImplementedError

    def para(self, markup: str) -> str:
        raise NotImplementedError

    def literal(self, text: str) -> str:
        raise NotImplementedError

    def bullets(self, items: Sequence[str]) -> str:
        """A list of rendered blocks."""
        raise NotImplementedError

    def heading(self, level: int, markup: str, anchor: str) -> str:
        raise NotImplementedError

    def fields(self, rows: Sequence[Row]) -> str:
        """A labelled list (terms and their bodies)."""
        raise NotImplementedError

    def warning(self, label: str, body: str) -> str:
        """A block that must catch the eye (deprecated, unstable)."""
        raise NotImplementedError

    def badge(self, word: str) -> str:
        raise NotImplementedError

    def toc(self, lines: Sequence[TocLine]) -> str:
        raise NotImplementedError

    def frame(self, body: str) -> str:
        """The whole document around BODY."""
        raise NotImplementedError

    def esc(self, text: str) -> str:
        """escape(), remembered: the same short texts recur a lot."""
        escaped = self._escaped.get(text)
        if escaped is None:
            escaped = self._escaped[text] = self.escape(text)
        return escaped

    def field_list(self, row: Callable[[T], Row],
                   things: Sequence[T]) -> str:
        """The labelled list of ROW(THING) for each of THINGS."""
        self.nesting += 1
        try:
            rows = [row(thing) for thing in things]
        finally:
            self.nesting -= 1
        return self.fields(rows)

    def join(self, parts: Sequence[str]) -> str:
        return '\n'.join(part for part in parts if part)

    def kind(self, word: str) -> str:
        """What an entry is ('Command', ...), before its name."""
        return self.esc(word)

    def label(self, title: str) -> str:
        return self.para(self.strong(self.esc(title)))

    # Doc text

    def inlines(self, inlines: Sequence[Inline]) -> str:
        out = []
        for kind, text, anchor in inlines:
            if kind == 'text':
                out.append(self.esc(text))
            elif kind == 'code':
                out.append(self.code(text))
            elif kind == 'ref':
                out.append(self.link(self.code(text), anchor))
            elif kind == 'emph':
                out.append(self.emph(self.esc(text)))
            else:
                out.append(self.strong(self.esc(text)))
        return ''.join(out)

    def blocks(self, blocks: Sequence[Block]) -> str:
        out = []
        for block in blocks:
            if isinstance(block, Para):
                out.append(self.para(self.inlines(block.inlines)))
            elif isinstance(block, Literal):
                out.append(self.literal(block.text))
            elif isinstance(block, Bullets):
                out.append(self.bullets([self.blocks(item)
                                         for item in block.items]))
        return self.join(out)

    # Pieces of entries

    def type_ref(self, link: TypeLink) -> str:
        markup = self.code(link.name)
        if link.anchor:
            markup = self.link(markup, link.anchor)
        if link.array:
            return self.esc('array of ') + markup
        return markup

    def cond(self, cond: Sequence[Inline]) -> str:
        """'Only if CONDITION.'"""
        return self.emph(self.esc('Only if ') + self.inlines(cond)
                         + self.esc('.'))

    def with_cond(self, body: Sequence[str],
                  cond: Sequence[Inline]) -> List[str]:
        if cond:
            return list(body) + [self.para(self.cond(cond))]
        return list(body)

    def member_row(self, member: MemberDoc) -> Row:
        term = self.code(member.name)
        if member.type is not None:
            term += self.esc(': ') + self.type_ref(member.type)
        if member.optional:
            term += self.esc(' (optional)')
        for word in member.prominent():
            term += ' ' + self.badge(word)
        body = [self.blocks(member.description)]
        if member.features:
            body.append(self.para(self.esc('Features:')))
            body.append(self.field_list(self.feature_row,
                                        member.features))
        return term, self.join(self.with_cond(body, member.cond))

    def feature_row(self, feat: FeatureDoc) -> Row:
        term = self.code(feat.name)
        if feat.prominent:
            term += ' ' + self.badge(feat.name)
        return term, self.join(self.with_cond(
            [self.blocks(feat.description)], feat.cond))

    def branch_row(self, tag: str, branch: Branch) -> Row:
        term = self.esc('when ') + self.code(tag) + self.esc(' is ') \
            + self.code(branch.value)
        body = [self.blocks(branch.description)]
        if branch.type is not None:
            body.append(self.para(self.esc('The members of ')
                                  + self.type_ref(branch.type)
                                  + self.esc('.')))
        elif branch.members:
            body.append(self.field_list(self.member_row,
                                           branch.members))
        else:
            body.append(self.para(self.esc('No further members.')))
        return term, self.join(self.with_cond(body, branch.cond))

    def entry_head(self, entry: Entry) -> str:
        title = self.kind(entry.title()) + self.esc(' ') \
            + self.code(entry.name)
        for word in entry.prominent:
            title += ' ' + self.badge(word)
        return self.heading(entry.level, title, entry.anchor)

    def entry(self, entry: Entry) -> str:
        out = [self.entry_head(entry)]
        for feat in entry.features:
            if feat.prominent:
                out.append(self.warning(
                    feat.name.capitalize(),
                    self.join(self.with_cond([self.blocks(
                        feat.description)], feat.cond))))
        if entry.cond:
            out.append(self.para(self.cond(entry.cond)))
        out.append(self.blocks(entry.body))
        if entry.flags:
            out.append(self.para(self.esc(
                'This command %s.' % ', '.join(entry.flags))))
        if entry.members or entry.inherits is not None:
            out.append(self.label(entry.members_title))
            if entry.inherits is not None:
                out.append(self.para(
                    self.esc('The members of ')
                    + self.type_ref(entry.inherits)
                    + self.esc(', then:' if entry.members else '.')))
            out.append(self.field_list(self.member_row,
                                       entry.members))
        if entry.branches:
            out.append(self.label('Branches'))
            out.append(self.para(self.esc('Depending on the value of ')
                                 + self.code(entry.tag)
                                 + self.esc(', one of:')))
            out.append(self.field_list(
                lambda branch: self.branch_row(entry.tag, branch),
                entry.branches))
        if entry.returns is not None or entry.returns_text:
            out.append(self.label('Returns'))
            if entry.returns is not None:
                out.append(self.para(self.type_ref(entry.returns)))
            out.append(self.blocks(entry.returns_text))
        if entry.features:
            out.append(self.label('Features'))
            out.append(self.field_list(self.feature_row,
                                       entry.features))
        for section in entry.sections:
            if section.title == 'TODO':
                continue                # for the schema's authors
            blocks = section.blocks
            if section.title.startswith('Note') and blocks \
                    and isinstance(blocks[0], Para):
                # A note starts with its label: "Note: text".
                out.append(self.para(
                    self.strong(self.esc(section.title + ':')) + ' '
                    + self.inlines(blocks[0].inlines)))
                blocks = blocks[1:]
            elif section.title:
                out.append(self.label(section.title))
            out.append(self.blocks(blocks))
        if entry.since:
            out.append(self.para(self.strong(self.esc('Since:')) + ' '
                                 + self.esc(entry.since)))
        return self.join(out)

    # The document

    def builtins(self, builtins: Sequence[Builtin]) -> str:
        rows = [(self.code(b.name), self.para(self.esc(b.meaning)))
                for b in builtins]
        return self.join([
            self.heading(2, self.esc('Built-in types'), 'builtin-types'),
            self.para(self.esc('The built-in types that the definitions '
                               'above refer to.')),
            self.builtin_list(builtins, rows)])

    def builtin_list(self, builtins: Sequence[Builtin],
                     rows: Sequence[Row]) -> str:
        return self.fields(rows)

    def index(self) -> str:
        out = [self.heading(2, self.esc('Index'), 'index')]
        for initial, entries in self.manual.index():
            out.append(self.label(initial))
            out.append(self.bullets([
                self.link(self.code(entry.name), entry.anchor)
                + self.esc(' (%s)' % entry.kind) for entry in entries]))
        return self.join(out)

    def intro(self) -> str:
        """The text that comes before the table of contents."""
        return self.join([self.blocks(text.blocks)
                          for text in self.manual.intro()])

    def body(self) -> str:
        """Everything after the table of contents."""
        out = []
        for item in self.manual.sections():
            if isinstance(item, Heading):
                out.append(self.heading(item.level,
                                        self.inlines(item.title),
                                        item.anchor))
            elif isinstance(item, Text):
                out.append(self.blocks(item.blocks))
            else:
                out.append(self.entry(item))
        if self.manual.builtins:
            out.append(self.builtins(self.manual.builtins))
        out.append(self.index())
        return self.join(out)

    def render(self) -> str:
        return self.frame(self.body())


def toc_depths(lines: Sequence[TocLine]) -> List[int]:
    """The depths of LINES renumbered so that none skips a level, for
    formats whose nesting cannot (a list in a list item)."""
    out = []
    open_depths: List[int] = []         # of the lines around this one
    for line in lines:
        while open_depths and open_depths[-1] >= line.depth:
            open_depths.pop()
        out.append(len(open_depths))
        open_depths.append(line.depth)
    return out
