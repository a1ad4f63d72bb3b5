# SPDX-License-Identifier: MIT
"""The qapi-compat backend: what changed between two checked models that
can break a client (docs/spec/qapi-language.md §12.5).

compare(OLD, NEW) walks every command and event of OLD together with its
counterpart in NEW, and the types they reach, pairwise and structurally:
the wire has no type names, so a renamed type that carries the same
values is no change.  Each type is reached in a direction:

  input   a command's arguments: the server must still accept every
          request OLD accepted;
  output  a command's return value, an event's data: the client must
          still understand everything NEW can send.

A type reached both ways is compared under both rule sets.  The result
is a list of Findings, each with a severity: break, warning, note or
allowed (the removal of something OLD had marked deprecated).
"""

from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from .jsonschema import INT_RANGES
from .schema import (AlternateType, ArrayType, BuiltinType, Command,
                     EnumMember, EnumType, Event, Feature, IfCond,
                     ObjectMember, ObjectType, QAPISchema, Type, UnionType,
                     Variant)
from .source import QAPISourceInfo

BREAK = 'break'
WARNING = 'warning'
NOTE = 'note'
ALLOWED = 'allowed'
SEVERITIES = (BREAK, WARNING, NOTE, ALLOWED)

INPUT = 'input'
OUTPUT = 'output'


@dataclass(frozen=True)
class Finding:
    """One change: where (FNAME:LINE of NEW's definition, or OLD's for a
    removal), how bad, a one-line REASON, and the direction of the types
    involved (None for what concerns a command or event as a whole)."""
    severity: str
    fname: str
    line: int
    reason: str
    direction: Optional[str] = None

    def text(self) -> str:
        suffix = ' (%s)' % self.direction if self.direction else ''
        return '%s:%d: %s: %s%s' % (self.fname, self.line, self.severity,
                                    self.reason, suffix)


def _deprecated(features: Sequence[Feature]) -> bool:
    return any(feat.name == 'deprecated' for feat in features)


def _removal(features: Sequence[Feature]) -> str:
    """The severity of removing something with FEATURES."""
    return ALLOWED if _deprecated(features) else BREAK


def _label_text(label: Sequence[Tuple[str, str]]) -> str:
    return ', '.join('%s=%s' % pair for pair in label)


@dataclass(frozen=True)
class Where:
    """A place in a request, reply or event: ROOT ("command 'foo'"),
    PART ('arguments', 'returns' or 'data'), PATH inside it as written
    in the reasons ('devlist[].format', 'opts(driver=qcow2).cache'), the
    DIRECTION, and the definitions that hold it in NEW and OLD (for
    positions)."""
    root: str
    part: str
    direction: str
    new_info: Optional[QAPISourceInfo]
    old_info: Optional[QAPISourceInfo]
    path: str = ''

    def member(self, name: str, label: Sequence[Tuple[str, str]],
               new_info: Optional[QAPISourceInfo],
               old_info: Optional[QAPISourceInfo]) -> 'Where':
        path = self.path
        if label:
            path += '(%s)' % _label_text(label)
        if path:
            path += '.'
        return replace(self, path=path + name,
                       new_info=new_info or self.new_info,
                       old_info=old_info or self.old_info)

    def element(self) -> 'Where':
        return replace(self, path=self.path + '[]')

    def at(self, new_info: Optional[QAPISourceInfo],
           old_info: Optional[QAPISourceInfo]) -> 'Where':
        """The same place, positioned at other definitions (a named
        type's, for what belongs to the type itself)."""
        return replace(self, new_info=new_info or self.new_info,
                       old_info=old_info or self.old_info)

    def subject(self) -> str:
        """The place in words: "argument 'a.b' of command 'foo'"."""
        owner = {'arguments': self.root,
                 'returns': 'the return value of %s' % self.root,
                 'data': self.root}[self.part]
        if not self.path:
            if self.part == 'returns':
                return owner
            return 'the %s of %s' % (self.part, self.root)
        word = 'argument' if self.part == 'arguments' else 'member'
        return "%s '%s' of %s" % (word, self.path, owner)


@dataclass
class _Shape:
    """One shape an object takes on the wire: for a union, one per
    branch (nested unions flattened), selected by LABEL, the (tag,
    value) pairs; a struct has one, with an empty label.  MEMBERS maps
    each member's name to the member and how many pairs of LABEL its
    path names (0 for the members of the outermost base)."""
    label: Tuple[Tuple[str, str], ...]
    members: Dict[str, Tuple[ObjectMember, int]]
    variants: Tuple[Variant, ...] = ()
    tag_values: Tuple[Optional[EnumMember], ...] = ()
    info: Optional[QAPISourceInfo] = None

    def tags(self) -> Set[str]:
        return {tag for tag, _ in self.label}

    def matches(self, other: '_Shape') -> bool:
        """Whether both can describe the same object: no tag they share
        has different values."""
        mine = dict(self.label)
        return all(mine.get(tag, value) == value for tag, value in
                   other.label)

    def features(self) -> List[Feature]:
        return [feat for value in self.tag_values if value is not None
                for feat in value.features]

    def ifcond(self) -> IfCond:
        """The condition of the innermost conditional branch."""
        for variant in reversed(self.variants):
            if variant.ifcond.is_present():
                return variant.ifcond
        return IfCond()


def _shapes(obj: ObjectType) -> List[_Shape]:
    def walk(typ: ObjectType, outer: _Shape) -> List[_Shape]:
        depth = len(outer.label)
        members = dict(outer.members)
        for member in typ.members:
            members[member.name] = (member, depth)
        if not isinstance(typ, UnionType):
            return [replace(outer, members=members)]
        tag = next((m for m in typ.members if m.name == typ.tag_name), None)
        tag_type = tag.type if tag is not None else None
        result = []
        for variant in typ.variants:
            assert isinstance(variant.type, ObjectType)
            value = None
            if isinstance(tag_type, EnumType):
                value = next((m for m in tag_type.members
                              if m.name == variant.name), None)
            result += walk(variant.type, _Shape(
                outer.label + ((typ.tag_name, variant.name),), members,
                outer.variants + (variant,), outer.tag_values + (value,),
                variant.info or typ.info))
        return result
    return walk(obj, _Shape((), {}, info=obj.info))


def _kind(typ: Type) -> str:
    """What a type is, for comparing: 'int' for the integer built-ins,
    the name of the other built-ins, else its sort of type."""
    if isinstance(typ, BuiltinType):
        return 'int' if typ.name in INT_RANGES else typ.name
    if isinstance(typ, EnumType):
        return 'enum'
    if isinstance(typ, ArrayType):
        return 'array'
    if isinstance(typ, AlternateType):
        return 'alternate'
    return 'object'


def _describe(typ: Type) -> str:
    """A type in a reason: by name, but for what has no name of its own
    on the wire."""
    if isinstance(typ, BuiltinType):
        return typ.name
    if isinstance(typ, ArrayType):
        assert typ.element_type is not None
        return 'a list of %s' % _describe(typ.element_type)
    if isinstance(typ, ObjectType) and typ.is_implicit():
        return 'an object'
    return "%s '%s'" % (typ.meta, typ.name)


# What a JSON value of each kind is called in a reason.
_JSON_KIND_WORDS = {'object': 'an object', 'array': 'a list',
                    'string': 'a string', 'number': 'a number',
                    'boolean': 'a boolean', 'null': 'null',
                    'value': 'any value'}


def _value_sets(old: Type, new: Type) -> Tuple[bool, bool]:
    """(narrows, widens) for two types of which neither is an alternate
    and that are not both enums, lists or objects: whether some value
    of OLD is no value of NEW, and whether some value of NEW is no value
    of OLD."""
    old_kind, new_kind = _kind(old), _kind(new)
    if old_kind == new_kind == 'int':
        low, high = INT_RANGES[old.name]
        new_low, new_high = INT_RANGES[new.name]
        return (low < new_low or high > new_high,
                new_low < low or new_high > high)
    if old_kind == new_kind:
        return False, False
    # One holds the other's values: every integer is a number, every
    # enum value a string, and anything is an 'any'.
    wider_of = {('int', 'number'), ('enum', 'str')}
    if (old_kind, new_kind) in wider_of or new_kind == 'any':
        return False, True
    if (new_kind, old_kind) in wider_of or old_kind == 'any':
        return True, False
    return True, True


class _Comparator:
    def __init__(self, old: QAPISchema, new: QAPISchema):
        self.old = old
        self.new = new
        self.findings: List[Finding] = []
        self._reported: Set[Finding] = set()
        # (old type, new type, direction) of the named types compared or
        # being compared: each pair is compared once (this also ends the
        # walk through recursive types).
        self._compared: Set[Tuple[str, str, str]] = set()

    # Reporting

    def add(self, severity: str, info: Optional[QAPISourceInfo],
            reason: str, direction: Optional[str] = None) -> None:
        fname, line = (info.fname, info.line) if info else ('-', 0)
        finding = Finding(severity, fname, line, reason, direction)
        if finding not in self._reported:
            self._reported.add(finding)
            self.findings.append(finding)

    def removed(self, severity: Optional[str], info: Optional[QAPISourceInfo],
                subject: str, direction: Optional[str] = None) -> None:
        """SUBJECT was removed; SEVERITY None when that is fine."""
        if severity == ALLOWED:
            self.add(ALLOWED, info, '%s was removed; it was deprecated'
                     % subject, direction)
        elif severity is not None:
            self.add(severity, info, '%s was removed' % subject, direction)

    def kept(self, removal: Optional[str], old_cond: IfCond,
             new_cond: IfCond, old_features: Sequence[Feature],
             new_features: Sequence[Feature],
             info: Optional[QAPISourceInfo], subject: str,
             direction: Optional[str] = None) -> None:
        """What to say about SUBJECT, present in both: its condition
        (a warning where removing it would matter, REMOVAL: a build may
        compile it out) and its deprecation (a note)."""
        if removal in (BREAK, WARNING) and new_cond.is_present() \
           and new_cond.cgen() != old_cond.cgen():
            if old_cond.is_present():
                self.add(WARNING, info, '%s changed its condition from %s '
                         'to %s' % (subject, old_cond.cgen(),
                                    new_cond.cgen()), direction)
            else:
                self.add(WARNING, info, '%s became conditional (%s): a '
                         'build may leave it out' % (subject,
                                                     new_cond.cgen()),
                         direction)
        if _deprecated(new_features):
            self.add(NOTE, info, '%s %s deprecated' % (
                subject, 'is still' if _deprecated(old_features)
                else 'was made'), direction)

    def narrowed(self, where: Where, what: str,
                 removal: bool = False) -> None:
        """Some value a client could send is refused now: a break of an
        input, positioned at OLD's definition for a REMOVAL."""
        if where.direction == INPUT:
            self.add(BREAK, where.old_info if removal else where.new_info,
                     '%s %s' % (where.subject(), what), INPUT)

    def widened(self, where: Where, what: str,
                severity: str = BREAK) -> None:
        """A client may receive a value it could not before: a break of
        an output (SEVERITY: a warning for a new enum value)."""
        if where.direction == OUTPUT:
            self.add(severity, where.new_info, '%s %s' % (where.subject(),
                                                           what), OUTPUT)

    # Types

    def compare(self, old: Type, new: Type, where: Where) -> None:
        # What a change of built-in type says is about the member that
        # has it, not about the type: never once per pair.
        if not any(t.is_implicit() or isinstance(t, BuiltinType)
                   for t in (old, new)):
            key = (old.name, new.name, where.direction)
            if key in self._compared:
                return
            self._compared.add(key)
        # What is inside a type is positioned at the type's definitions.
        inside = where.at(new.info, old.info)
        old_kind, new_kind = _kind(old), _kind(new)
        if 'any' not in (old_kind, new_kind) \
           and 'alternate' in (old_kind, new_kind):
            self._alternates(old, new, inside)
        elif old_kind == new_kind == 'enum':
            assert isinstance(old, EnumType) and isinstance(new, EnumType)
            self._enums(old, new, inside)
        elif old_kind == new_kind == 'array':
            assert isinstance(old, ArrayType) and isinstance(new, ArrayType)
            assert old.element_type and new.element_type
            self.compare(old.element_type, new.element_type,
                         where.element())
        elif old_kind == new_kind == 'object':
            assert isinstance(old, ObjectType) \
                and isinstance(new, ObjectType)
            self._objects(old, new, inside)
        else:
            narrows, widens = _value_sets(old, new)
            change = 'changed from %s to %s' % (_describe(old),
                                                _describe(new))
            if narrows and widens:
                self.narrowed(where, change)
                self.widened(where, change)
            elif narrows:
                self.narrowed(where, 'was narrowed: ' + change)
            elif widens:
                self.widened(where, 'was widened: ' + change)

    def _enums(self, old: EnumType, new: EnumType, where: Where) -> None:
        old_values = {m.name: m for m in old.members}
        new_values = {m.name: m for m in new.members}
        for value in old.members:
            subject = "value '%s' of %s" % (value.name, where.subject())
            if value.name not in new_values:
                self.removed(_removal(value.features)
                             if where.direction == INPUT else None,
                             where.old_info, subject, where.direction)
                continue
            other = new_values[value.name]
            self.kept(BREAK if where.direction == INPUT else None,
                      value.ifcond, other.ifcond, value.features,
                      other.features, where.new_info, subject,
                      where.direction)
        for value in new.members:
            if value.name not in old_values:
                self.widened(where, "gained value '%s': a client may "
                             'receive it' % value.name, WARNING)

    def _alternates(self, old: Type, new: Type, where: Where) -> None:
        """Two types of which one at least is an alternate: branches are
        told apart on the wire by their JSON kind, so they are paired by
        kind; a type that is not an alternate is its only branch."""
        def branches(typ: Type) -> List[Tuple[str, Type]]:
            if isinstance(typ, AlternateType):
                return [(v.name, v.type) for v in typ.variants
                        if v.type is not None]
            return [('', typ)]
        new_branches = branches(new)
        matched: Set[str] = set()
        for name, old_type in branches(old):
            kind = old_type.json_kind()
            other = next((t for n, t in new_branches
                          if t.json_kind() == kind), None)
            if other is None:
                what = ("lost branch '%s': it no longer takes %s" % (
                    name, _JSON_KIND_WORDS[kind]) if name
                    else 'changed from %s to %s, which does not take %s'
                    % (_describe(old), _describe(new),
                       _JSON_KIND_WORDS[kind]))
                self.narrowed(where, what, removal=bool(name))
                continue
            matched.add(kind)
            self.compare(old_type, other, where)
        for name, new_type in new_branches:
            kind = new_type.json_kind()
            if kind not in matched:
                what = ("gained branch '%s': it may now be %s"
                        % (name, _JSON_KIND_WORDS[kind]) if name
                        else 'changed from %s to %s' % (_describe(old),
                                                        _describe(new)))
                self.widened(where, what)

    def _objects(self, old: ObjectType, new: ObjectType,
                 where: Where) -> None:
        old_shapes, new_shapes = _shapes(old), _shapes(new)
        matched: Set[int] = set()
        for old_shape in old_shapes:
            pairs = [(i, s) for i, s in enumerate(new_shapes)
                     if old_shape.matches(s)]
            if not pairs:
                self._branch_removed(old_shape, where)
                continue
            for i, new_shape in pairs:
                matched.add(i)
                self._members(old_shape, new_shape, new_shapes, where)
                if old_shape.label and old_shape.label == new_shape.label:
                    self.kept(BREAK if where.direction == INPUT else None,
                              old_shape.ifcond(), new_shape.ifcond(),
                              old_shape.features(), new_shape.features(),
                              new_shape.info,
                              "branch '%s' of %s" % (
                                  _label_text(new_shape.label),
                                  where.subject()), where.direction)
        for i, new_shape in enumerate(new_shapes):
            if i not in matched:
                self.widened(where.at(new_shape.info, None),
                             "gained branch '%s': a client may receive it"
                             % _label_text(new_shape.label), WARNING)

    def _branch_removed(self, shape: _Shape, where: Where) -> None:
        if where.direction == INPUT:
            self.removed(_removal(shape.features()), shape.info,
                         "branch '%s' of %s" % (_label_text(shape.label),
                                                where.subject()), INPUT)

    def _members(self, old: _Shape, new: _Shape,
                 new_shapes: Sequence[_Shape], where: Where) -> None:
        input_ = where.direction == INPUT
        # A tag both shapes are selected by was compared as branches.
        tags = old.tags() & new.tags()
        for name, (member, depth) in old.members.items():
            if name not in new.members:
                # Gone from NEW's branch NEW.LABEL only, or everywhere.
                label = new.label if any(name in shape.members
                                         for shape in new_shapes) \
                    else old.label[:depth]
                at = where.member(name, label, None, member.info)
                removal = _removal(member.features) \
                    if input_ or not member.optional else None
                self.removed(removal, at.old_info, at.subject(),
                             where.direction)
                continue
            other, new_depth = new.members[name]
            at = where.member(name, new.label[:new_depth], other.info,
                              member.info)
            if member.optional and not other.optional:
                self.narrowed(at, 'was made mandatory')
            elif not member.optional and other.optional:
                self.widened(at, 'was made optional: a client may not '
                             'receive it')
            self.kept(BREAK if input_ or not member.optional else None,
                      member.ifcond, other.ifcond, member.features,
                      other.features, at.new_info, at.subject(),
                      where.direction)
            if name not in tags:
                assert member.type is not None and other.type is not None
                self.compare(member.type, other.type, at)
        for name, (other, new_depth) in new.members.items():
            if name not in old.members and not other.optional:
                at = where.member(name, new.label[:new_depth], other.info,
                                  None)
                self.narrowed(at, 'was added as mandatory')

    # Commands and events

    def _empty(self, schema: QAPISchema) -> ObjectType:
        empty = schema.lookup_type('q_empty')
        assert isinstance(empty, ObjectType)
        return empty

    def _data(self, old: Union[Command, Event], new: Union[Command, Event],
              part: str, direction: str) -> None:
        where = Where(old.describe(), part, direction, new.info, old.info)
        self.compare(old.arg_type or self._empty(self.old),
                     new.arg_type or self._empty(self.new), where)

    def command(self, old: Command, new: Optional[Command]) -> None:
        subject = old.describe()
        if new is None:
            self.removed(_removal(old.features), old.info, subject)
            return
        self.kept(BREAK, old.ifcond, new.ifcond, old.features, new.features,
                  new.info, subject)
        for flag, what in (('allow_oob', "'allow-oob'"),
                           ('allow_preconfig', "'allow-preconfig'")):
            if getattr(old, flag) and not getattr(new, flag):
                self.add(BREAK, new.info, '%s dropped %s' % (subject, what))
        if old.success_response != new.success_response:
            self.add(BREAK, new.info, '%s %s' % (
                subject, 'no longer sends a success response'
                if old.success_response else 'now sends a success response'))
        if old.unchecked or new.unchecked:
            self.add(NOTE, old.info if old.unchecked else new.info,
                     "%s: arguments and return value not compared: its "
                     "'gen': 'no' definition is not type-checked under "
                     '--compat 2012' % subject)
            return
        self._data(old, new, 'arguments', INPUT)
        if (old.ret_type is None) != (new.ret_type is None):
            self.add(NOTE, new.info, '%s %s' % (
                subject, 'lost its return value: it returns {}'
                if new.ret_type is None else
                "gained a return value: it returned {}"))
        where = Where(subject, 'returns', OUTPUT, new.info, old.info)
        self.compare(old.ret_type or self._empty(self.old),
                     new.ret_type or self._empty(self.new), where)

    def event(self, old: Event, new: Optional[Event]) -> None:
        if new is None:
            self.removed(_removal(old.features), old.info, old.describe())
            return
        self.kept(BREAK, old.ifcond, new.ifcond, old.features, new.features,
                  new.info, old.describe())
        self._data(old, new, 'data', OUTPUT)

    def run(self) -> List[Finding]:
        for entity in self.old.entities:
            other = self.new.lookup_entity(entity.name)
            if isinstance(entity, Command):
                self.command(entity, other if isinstance(other, Command)
                             else None)
            elif isinstance(entity, Event):
                self.event(entity, other if isinstance(other, Event)
                           else None)
        return self.findings


def compare(old: QAPISchema, new: QAPISchema) -> List[Finding]:
    """What changed from OLD to NEW that matters to a client, in the
    order of OLD's commands and events."""
    return _Comparator(old, new).run()


def summary(findings: Sequence[Finding]) -> Dict[str, int]:
    """How many findings of each severity."""
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in findings:
        counts[finding.severity] += 1
    return counts
