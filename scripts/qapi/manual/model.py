# SPDX-License-Identifier: MIT
"""The reference manual of a checked schema, whatever the format: its
parts in reading order, each entry with what a reader needs, the links,
the table of contents and the index (docs/spec/qapi-language.md §12.4).

The renderers (html.py, markdown.py, man.py) only lay this out.
"""

import re
import textwrap
from typing import Collection, Dict, List, Optional, Sequence, Tuple, Union

from ..common import Cond
from ..doc import QAPIDoc
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      EnumType, Entity, Event, Feature, IfCond, ObjectMember,
                      ObjectType, QAPISchema, Type, UnionType, _Callable)
from ..source import QAPISourceInfo
from .text import Block, Inline, parse_blocks, parse_inlines, plain

# Features shown as a warning at the top of what they mark.
PROMINENT = ('deprecated', 'unstable')

# What a reader should know of each built-in type.
BUILTIN_MEANING = {
    'str': 'a JSON string',
    'number': 'a JSON number (a double)',
    'int': 'a JSON integer, signed 64-bit',
    'int8': 'a JSON integer, signed 8-bit',
    'int16': 'a JSON integer, signed 16-bit',
    'int32': 'a JSON integer, signed 32-bit',
    'int64': 'a JSON integer, signed 64-bit',
    'uint8': 'a JSON integer, unsigned 8-bit',
    'uint16': 'a JSON integer, unsigned 16-bit',
    'uint32': 'a JSON integer, unsigned 32-bit',
    'uint64': 'a JSON integer, unsigned 64-bit',
    'size': 'a JSON integer, unsigned 64-bit (a size in bytes)',
    'bool': 'JSON true or false',
    'null': 'JSON null',
    'any': 'any JSON value',
    'QType': 'the JSON type of a value, as a string',
}

# The deepest heading level (HTML's h6); entries go one below headings.
MAX_LEVEL = 6

# The anchors of the parts around the entries (§12.4/5).
FIXED_ANCHORS = ('top', 'contents', 'builtin-types', 'index')

KIND_TITLE = {
    'command': 'Command', 'event': 'Event', 'struct': 'Struct',
    'union': 'Union', 'alternate': 'Alternate', 'enum': 'Enum',
}

_LEGACY_TAG = re.compile(r'(Returns|Since|Notes?|Examples?|TODO):\s*(.*)')
_LEGACY_ARG = re.compile(r'@([^\s:]+):\s*(.*)')


def cond_inlines(cond: Cond, top: bool = True) -> List[Inline]:
    """A condition (§5) for readers: CONFIG_A and not CONFIG_B, the
    names as code."""
    if isinstance(cond, str):
        return [('code', cond, '')]
    (op, arg), = cond.items()
    if op == 'not':
        return [('text', 'not ', '')] + cond_inlines(arg, top=False)
    out: List[Inline] = [] if top else [('text', '(', '')]
    for i, operand in enumerate(arg):
        if i:
            out.append(('text', ' and ' if op == 'all' else ' or ', ''))
        out += cond_inlines(operand, top=False)
    return out if top else out + [('text', ')', '')]


def only_if(ifcond: IfCond) -> List[Inline]:
    """The condition for 'Only if ...', empty when there is none."""
    if ifcond.cond is None:
        return []
    return cond_inlines(ifcond.cond)


class TypeLink:
    """A type as a member, branch or result names it.  ANCHOR is where
    its entry is ('' for none); ARRAY: a list of NAME."""
    __slots__ = ('name', 'anchor', 'array')

    def __init__(self, name: str, anchor: str, array: bool = False):
        self.name = name
        self.anchor = anchor
        self.array = array


class FeatureDoc:
    __slots__ = ('name', 'description', 'cond', 'prominent')

    def __init__(self, name: str, description: List[Block],
                 cond: List[Inline]):
        self.name = name
        self.description = description
        self.cond = cond
        self.prominent = name in PROMINENT


class MemberDoc:
    """A member, argument, enum value, alternate branch or union branch
    wrapper; TYPE is None for an enum value."""
    __slots__ = ('name', 'type', 'optional', 'description', 'cond',
                 'features')

    def __init__(self, name: str, type_: Optional[TypeLink],
                 optional: bool, description: List[Block],
                 cond: List[Inline], features: List[FeatureDoc]):
        self.name = name
        self.type = type_
        self.optional = optional
        self.description = description
        self.cond = cond
        self.features = features

    def prominent(self) -> List[str]:
        return [feat.name for feat in self.features if feat.prominent]


class Branch:
    """A union branch: when the tag is VALUE, the members of TYPE (None
    when the branch adds none), or MEMBERS shown inline."""
    __slots__ = ('value', 'type', 'members', 'description', 'cond')

    def __init__(self, value: str, type_: Optional[TypeLink],
                 members: List[MemberDoc], description: List[Block],
                 cond: List[Inline]):
        self.value = value
        self.type = type_
        self.members = members
        self.description = description
        self.cond = cond


class Section:
    """A tagged or untitled section of a definition doc: TITLE is
    'Note', 'Notes', 'Example', 'Examples', 'TODO' or '' (untitled)."""
    __slots__ = ('title', 'blocks')

    def __init__(self, title: str, blocks: List[Block]):
        self.title = title
        self.blocks = blocks


class Heading:
    __slots__ = ('level', 'title', 'anchor')

    def __init__(self, level: int, title: List[Inline], anchor: str):
        self.level = level
        self.title = title
        self.anchor = anchor


class Text:
    """Free-form text between headings and entries."""
    __slots__ = ('blocks',)

    def __init__(self, blocks: List[Block]):
        self.blocks = blocks


class Entry:
    """One definition.  MEMBERS are listed under MEMBERS_TITLE
    ('Arguments', 'Members', 'Values', 'Branches', 'Data'); INHERITS
    names a type whose members come first (a struct's base, a union's
    named base, a command's or event's named argument type)."""

    def __init__(self, kind: str, name: str, anchor: str, level: int):
        self.kind = kind
        self.name = name
        self.anchor = anchor
        self.level = level              # its heading level
        self.cond: List[Inline] = []
        self.prominent: List[str] = []
        self.since = ''
        self.flags: List[str] = []
        self.body: List[Block] = []
        self.members_title = 'Members'
        self.inherits: Optional[TypeLink] = None
        self.members: List[MemberDoc] = []
        self.tag = ''
        self.branches: List[Branch] = []
        self.features: List[FeatureDoc] = []
        self.returns: Optional[TypeLink] = None
        self.returns_text: List[Block] = []
        self.sections: List[Section] = []

    def title(self) -> str:
        return KIND_TITLE[self.kind]


Item = Union[Heading, Text, Entry]


class Builtin:
    __slots__ = ('name', 'anchor', 'meaning')

    def __init__(self, name: str, anchor: str, meaning: str):
        self.name = name
        self.anchor = anchor
        self.meaning = meaning


class TocLine:
    __slots__ = ('depth', 'title', 'anchor', 'kind')

    def __init__(self, depth: int, title: str, anchor: str, kind: str):
        self.depth = depth              # 0 for the outermost
        self.title = title
        self.anchor = anchor
        self.kind = kind                # '' for a heading


class Manual:
    """TITLE, NAME (the schema file's base name without '.json'),
    SOURCE (its file name), ITEMS in reading order, BUILTINS the
    built-in types the entries refer to."""

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source
        self.title = ''
        self.title_in_items = False     # ITEMS[0] is the title heading
        self.items: List[Item] = []
        self.builtins: List[Builtin] = []

    def entries(self) -> List[Entry]:
        return [item for item in self.items if isinstance(item, Entry)]

    def intro(self) -> List[Text]:
        """The text before the first heading or entry (the title's)."""
        out = []
        for item in self.items[1 if self.title_in_items else 0:]:
            if not isinstance(item, Text):
                break
            out.append(item)
        return out

    def sections(self) -> List[Item]:
        """The items after the title and the intro."""
        start = (1 if self.title_in_items else 0) + len(self.intro())
        return self.items[start:]

    def toc(self) -> List[TocLine]:
        """Headings and entries, nested under the headings above them."""
        lines = []
        for item in self.sections():
            if isinstance(item, Heading):
                lines.append(TocLine(item.level - 2, plain(item.title),
                                     item.anchor, ''))
            elif isinstance(item, Entry):
                lines.append(TocLine(item.level - 2, item.name, item.anchor,
                                     item.kind))
        if self.builtins:
            lines.append(TocLine(0, 'Built-in types', 'builtin-types', ''))
        lines.append(TocLine(0, 'Index', 'index', ''))
        return lines

    def index(self) -> List[Tuple[str, List[Entry]]]:
        """The entries by name, grouped by initial (upper-cased)."""
        groups: Dict[str, List[Entry]] = {}
        for entry in sorted(self.entries(),
                            key=lambda e: (e.name.lower(), e.name)):
            initial = entry.name[0].upper()
            if not initial.isalpha():
                initial = '#'
            groups.setdefault(initial, []).append(entry)
        return sorted(groups.items())


class _DocParts:
    """A doc block's texts by role, whether written in today's form or
    the 2012 form (§11/5), which the parser keeps as one body."""

    def __init__(self, doc: Optional[QAPIDoc],
                 args: Collection[str] = (),
                 features: Collection[str] = ()):
        """ARGS and FEATURES: the names an entry can describe, which
        split a 2012 block (any name of today's form is checked)."""
        self.body = ''
        self.args: Dict[str, str] = {}
        self.features: Dict[str, str] = {}
        self.sections: List[Tuple[str, str]] = []
        if doc is None:
            return
        if doc.legacy:
            self._legacy(doc.body.lines, doc.symbol, args, features)
            return
        self.body = doc.body.text()
        self.args = {name: sec.text() for name, sec in doc.args.items()}
        self.features = {name: sec.text()
                         for name, sec in doc.features.items()}
        self.sections = [(sec.tag or '', sec.text())
                         for sec in doc.sections]

    def _legacy(self, lines: List[str], symbol: Optional[str],
                args: Collection[str], features: Collection[str]) -> None:
        """Split a 2012 block: '@name: text' descriptions of ARGS and
        FEATURES and 'Tag:' sections, each running to the next one; the
        rest is body.  Nothing is lost: '@SYMBOL: text' (the definition
        itself) is body text, an '@name:' of another name stays as text
        where it is, and a second description of a name adds to the
        first."""
        body: List[str] = []
        current = body
        parts: List[Tuple[str, str, List[str]]] = []
        for line in lines:
            stripped = line.strip()
            arg = _LEGACY_ARG.fullmatch(stripped)
            tag = _LEGACY_TAG.fullmatch(stripped)
            indented = line.startswith(' ')
            if arg and not indented and arg.group(1) == symbol \
                    and arg.group(1) not in args:
                current = body
                body.append(arg.group(2))
            elif arg and not indented and (arg.group(1) in args
                                           or arg.group(1) in features):
                text = arg.group(2)
                if text.startswith('#optional'):
                    text = text[len('#optional'):].strip()
                current = [text]
                parts.append(('@', arg.group(1), current))
            elif tag and not indented:
                current = [tag.group(2)]
                parts.append((tag.group(1), '', current))
            elif not stripped and current is not body \
                    and parts[-1][0] == '@':
                current.append('')
                current = body
            else:
                current.append(line)
        self.body = '\n'.join(body).strip('\n')
        for kind, name, text_lines in parts:
            text = (text_lines[0] + '\n' + textwrap.dedent(
                '\n'.join(text_lines[1:]))).strip()
            if kind != '@':
                self.sections.append((kind, text))
                continue
            described = self.args if name in args else self.features
            if described.get(name):
                text = described[name] + '\n\n' + text
            described[name] = text.strip()


def _describable(entity: Entity) -> Tuple[List[str], List[str]]:
    """The member and feature names that ENTITY's doc block may
    describe; the entry also shows a description of each branch of a
    union."""
    names = entity.doc_members()
    if isinstance(entity, UnionType):
        names += [variant.name for variant in entity.variants
                  if variant.name not in names]
    return names, entity.doc_features()


def _source_key(info: Optional[QAPISourceInfo]) -> Tuple[int, ...]:
    """Reading order: a file's text stands at its (first) include."""
    lines: List[int] = []
    while info is not None:
        lines.append(info.line)
        info = info.parent
    return tuple(reversed(lines))


class _Builder:
    def __init__(self, schema: QAPISchema, manual: Manual):
        self.schema = schema
        self.manual = manual
        self.anchors: Dict[str, str] = {}       # definition -> anchor
        self.builtins: Dict[str, Builtin] = {}
        # Every anchor given or reserved, for headings to avoid.
        self.taken = set(FIXED_ANCHORS)
        for entity in schema.definitions:
            prefix = ('command' if isinstance(entity, Command) else
                      'event' if isinstance(entity, Event) else 'type')
            self.anchors[entity.name] = '%s-%s' % (prefix, entity.name)
        self.taken.update(self.anchors.values())
        self.taken.update('builtin-' + name for name in BUILTIN_MEANING)

    # Links

    def resolve(self, name: str) -> Optional[str]:
        """The anchor of definition or built-in type NAME, if any."""
        anchor = self.anchors.get(name)
        if anchor is not None:
            return anchor
        entity = self.schema.lookup_entity(name)
        if isinstance(entity, BuiltinType) or (
                isinstance(entity, EnumType) and entity.name == 'QType'):
            return self._builtin(entity.name)
        return None

    def _builtin(self, name: str) -> str:
        builtin = self.builtins.get(name)
        if builtin is None:
            builtin = Builtin(name, 'builtin-' + name,
                              BUILTIN_MEANING.get(name, ''))
            self.builtins[name] = builtin
        return builtin.anchor

    def type_link(self, typ: Optional[Type]) -> Optional[TypeLink]:
        if typ is None:
            return None
        if isinstance(typ, ArrayType):
            element = self.type_link(typ.element_type)
            assert element is not None
            return TypeLink(element.name, element.anchor, True)
        if isinstance(typ, ObjectType) and typ.is_implicit():
            return TypeLink('object', '')
        return TypeLink(typ.name, self.resolve(typ.name) or '')

    def blocks(self, text: str) -> List[Block]:
        return parse_blocks(text, self.resolve)

    # Pieces

    def features(self, features: Sequence[Feature],
                 parts: _DocParts) -> List[FeatureDoc]:
        return [FeatureDoc(feat.name,
                           self.blocks(parts.features.get(feat.name, '')),
                           only_if(feat.ifcond))
                for feat in features]

    def member(self, member: ObjectMember, parts: _DocParts) -> MemberDoc:
        return MemberDoc(member.name, self.type_link(member.type),
                         member.optional,
                         self.blocks(parts.args.get(member.name, '')),
                         only_if(member.ifcond),
                         self.features(member.features, parts))

    def object_members(self, entry: Entry, typ: ObjectType,
                       parts: _DocParts) -> None:
        """TYP's members into ENTRY: a named base by reference, an
        implicit (inline) base's members in line."""
        base = typ.base
        if base is not None and base.is_implicit():
            entry.members += [self.member(m, parts)
                              for m in base.local_members]
        elif base is not None:
            entry.inherits = self.type_link(base)
        entry.members += [self.member(m, parts) for m in typ.local_members]

    # Entries

    def entry(self, entity: Entity) -> Entry:
        if isinstance(entity, Command):
            kind = 'command'
        elif isinstance(entity, Event):
            kind = 'event'
        else:
            kind = entity.meta
        # Its level is set once every heading is known.
        entry = Entry(kind, entity.name, self.anchors[entity.name], 2)
        parts = _DocParts(entity.doc, *_describable(entity))
        entry.cond = only_if(entity.ifcond)
        entry.body = self.blocks(parts.body)
        if isinstance(entity, EnumType):
            entry.members_title = 'Values'
            entry.members = [
                MemberDoc(v.name, None, False,
                          self.blocks(parts.args.get(v.name, '')),
                          only_if(v.ifcond), self.features(v.features, parts))
                for v in entity.members]
        elif isinstance(entity, UnionType):
            self.union(entry, entity, parts)
        elif isinstance(entity, ObjectType):
            self.object_members(entry, entity, parts)
        elif isinstance(entity, AlternateType):
            entry.members_title = 'Branches (one of)'
            entry.members = [
                MemberDoc(v.name, self.type_link(v.type), False,
                          self.blocks(parts.args.get(v.name, '')),
                          only_if(v.ifcond), [])
                for v in entity.variants]
        elif isinstance(entity, _Callable):
            self.callable(entry, entity, parts)
        entry.features = self.features(entity.features, parts)
        entry.prominent = [feat.name for feat in entry.features
                           if feat.prominent]
        for tag, text in parts.sections:
            # A tag given twice (2012 form) keeps both texts.
            if tag == 'Since':
                entry.since = '; '.join(filter(None, [entry.since, text]))
            elif tag == 'Returns':
                entry.returns_text += self.blocks(text)
            else:
                entry.sections.append(Section(tag, self.blocks(text)))
        return entry

    def union(self, entry: Entry, entity: UnionType,
              parts: _DocParts) -> None:
        self.object_members(entry, entity, parts)
        entry.tag = entity.tag_name
        if entity.simple:
            # The 2012 form's tag: its type is the implicit enum of the
            # branch names, which has no entry of its own.
            for member in entry.members:
                if member.name == entity.tag_name and not member.description:
                    member.type = TypeLink('str', self.resolve('str') or '')
                    member.description = self.blocks(
                        'the branch: one of the values below')
        for variant in entity.variants:
            vtype = variant.type
            cond = only_if(variant.ifcond)
            described = self.blocks(parts.args.get(variant.name, ''))
            if isinstance(vtype, ObjectType) and vtype.is_implicit():
                # An implicitly empty branch, or a 2012 simple union's
                # wrapper: its one member 'data' shown here.
                members = [self.member(m, _DocParts(None))
                           for m in vtype.members]
                entry.branches.append(Branch(variant.name, None, members,
                                             described, cond))
            else:
                entry.branches.append(Branch(variant.name,
                                             self.type_link(vtype), [],
                                             described, cond))

    def callable(self, entry: Entry, entity: _Callable,
                 parts: _DocParts) -> None:
        entry.members_title = ('Arguments' if isinstance(entity, Command)
                               else 'Data')
        arg_type = entity.arg_type
        if arg_type is not None and arg_type.is_implicit():
            entry.members = [self.member(m, parts)
                             for m in arg_type.local_members]
        elif arg_type is not None:
            entry.inherits = self.type_link(arg_type)
        if isinstance(entity, Command):
            entry.returns = self.type_link(entity.ret_type)
            if entity.allow_oob:
                entry.flags.append('may be executed out of band')
            if entity.allow_preconfig:
                entry.flags.append('available before configuration')
            if not entity.success_response:
                entry.flags.append('sends no success response')

    # Free-form docs

    def free(self, doc: QAPIDoc) -> None:
        items = self.manual.items
        body = self.blocks(doc.body.text())
        if body:
            items.append(Text(body))
        for section in doc.sections:
            if section.tag and section.tag.startswith('='):
                title = section.lines[0]
                items.append(Heading(len(section.tag),
                                     parse_inlines(title, self.resolve),
                                     self.heading_anchor(title)))
                text = '\n'.join(section.lines[1:]).strip('\n')
            else:
                text = section.text()
            blocks = self.blocks(text)
            if blocks:
                items.append(Text(blocks))

    def heading_anchor(self, title: str) -> str:
        slug = re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-') \
            or 'section'
        anchor = 'sec-' + slug
        count = 1
        while anchor in self.taken:
            count += 1
            anchor = 'sec-%s-%d' % (slug, count)
        self.taken.add(anchor)
        return anchor

    def build(self) -> None:
        schema = self.schema
        parts: List[Tuple[Tuple[int, ...], int, Union[QAPIDoc, Entity]]]
        parts = [(_source_key(doc.info), i, doc)
                 for i, doc in enumerate(schema.free_docs)]
        parts += [(_source_key(entity.info), len(parts) + i, entity)
                  for i, entity in enumerate(schema.definitions)]
        parts.sort(key=lambda part: part[:2])
        for _, _, part in parts:
            if isinstance(part, QAPIDoc):
                self.free(part)
            else:
                self.manual.items.append(self.entry(part))
        manual = self.manual
        first = manual.items[0] if manual.items else None
        if isinstance(first, Heading) and first.level == 1:
            manual.title = plain(first.title)
            manual.title_in_items = True
        else:
            manual.title = 'Reference of %s' % manual.source
        self.normalise_levels()
        manual.builtins = sorted(self.builtins.values(),
                                 key=lambda b: b.name)


    def normalise_levels(self) -> None:
        """The title alone at level 1: the outermost other headings at
        level 2, a heading at most one below the one before it, an
        entry one below the heading it follows (at 2 before any)."""
        rest = self.manual.sections()
        top = min((item.level for item in rest if isinstance(item, Heading)),
                  default=2)
        last = 1                        # the level of the last heading
        for item in rest:
            if isinstance(item, Heading):
                last = max(2, min(item.level - top + 2, last + 1,
                                  MAX_LEVEL - 1))
                item.level = last
            elif isinstance(item, Entry):
                item.level = last + 1


def build_manual(schema: QAPISchema, name: str, source: str) -> Manual:
    """The manual of SCHEMA, read from file SOURCE, named NAME."""
    manual = Manual(name, source)
    _Builder(schema, manual).build()
    return manual
