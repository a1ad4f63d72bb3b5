# SPDX-License-Identifier: MIT
"""The introspection backend (docs/spec/qapi-language.md §13.6): the SchemaInfo
list of query-qmp-schema as a static QLitObject tree."""

from typing import Dict, List, Optional, Tuple, Union

from . import ctypes
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      Entity, EnumType, Event, Feature, IfCond, ObjectType,
                      QAPISchema, SchemaVisitor, Type, UnionType)

# A literal: a string, a bool, None (JSON null), a type name (Ref,
# numbered under -m), a list of nodes or a dict (key order kept) of
# nodes.  A node is a literal, or an Annotated literal when it is
# compiled under a condition or carries a comment.
Lit = Union[str, bool, None, 'Ref', List['Node'], Dict[str, 'Node']]
Node = Union[Lit, 'Annotated']


class Ref:
    """A type name, as clients see it (numbered under -m)."""
    __slots__ = ('name',)

    def __init__(self, name: str):
        self.name = name


class Annotated:
    """A literal with the condition it is compiled under, or a comment."""
    __slots__ = ('value', 'ifcond', 'comment')

    def __init__(self, value: Lit, ifcond: IfCond,
                 comment: Optional[str] = None):
        self.value = value
        self.ifcond = ifcond
        self.comment = comment


def _under(value: Lit, ifcond: IfCond) -> Node:
    """VALUE compiled under IFCOND."""
    if ifcond.cond is None:
        return value
    return Annotated(value, ifcond)


def _features(features: List[Feature]) -> List[Node]:
    return [_under(feat.name, feat.ifcond) for feat in features]


class Introspection(SchemaVisitor):
    """Collects the entries in the order of §13.6/2: a walk of the
    schema lists the commands and events, then each type they use, in
    the order of first use, lists itself through _TypeEntries."""

    def __init__(self, schema: QAPISchema, mask: bool):
        self.schema = schema
        self.mask = mask
        # (entity, its SchemaInfo object, its condition)
        self.entries: List[Tuple[Entity, Dict[str, Node], IfCond]] = []
        self.used: Dict[str, Type] = {}
        self.queue: List[Type] = []
        self.names: Dict[str, str] = {}
        schema.visit(self)
        types = _TypeEntries(self)
        done = 0
        while done < len(self.queue):
            entity = self.queue[done]
            done += 1
            entity.visit(types)
        if mask:
            self._assign_numbers()

    # Names

    def _assign_numbers(self) -> None:
        order = {id(e): i
                 for i, e in enumerate(self.schema.in_output_order())}
        listed = sorted((t for t in self.used.values()
                         if not isinstance(t, (BuiltinType, ArrayType))),
                        key=lambda t: order[id(t)])
        for number, entity in enumerate(listed):
            self.names[entity.name] = str(number)

    def use(self, entity: Optional[Type]) -> str:
        """The introspection name of ENTITY, listing it if new."""
        if entity is None:
            entity = self.schema.lookup_type('q_empty')
            assert entity is not None
        if isinstance(entity, BuiltinType) and entity.json_type == 'int':
            entity = self.schema.lookup_type('int')
            assert entity is not None
        if isinstance(entity, ArrayType):
            assert entity.element_type is not None
            element = self.use(entity.element_type)
            name = '[%s]' % element
        else:
            name = entity.name
        if name not in self.used:
            self.used[name] = entity
            self.queue.append(entity)
        return name

    # Entries

    def entry(self, entity: Entity, name: str, meta: str,
              fields: Dict[str, Node], features: List[Feature],
              ifcond: IfCond) -> None:
        obj: Dict[str, Node] = {'name': Ref(name), 'meta-type': meta}
        obj.update(fields)
        if features:
            obj['features'] = _features(features)
        self.entries.append((entity, obj, ifcond))

    def visit_command(self, entity: Command) -> None:
        if entity.unchecked:                # (its types are unknown)
            return
        fields: Dict[str, Node] = {
            'arg-type': Ref(self.use(entity.arg_type)),
            'ret-type': Ref(self.use(entity.ret_type))}
        if entity.allow_oob:
            fields['allow-oob'] = True
        self.entry(entity, entity.name, 'command', fields, entity.features,
                   entity.ifcond)

    def visit_event(self, entity: Event) -> None:
        self.entry(entity, entity.name, 'event',
                   {'arg-type': Ref(self.use(entity.arg_type))},
                   entity.features, entity.ifcond)


class _TypeEntries(SchemaVisitor):
    """ENTITY.visit(self) adds the entry of the type ENTITY to INTRO."""

    def __init__(self, intro: Introspection):
        self.intro = intro

    def visit_builtin_type(self, entity: BuiltinType) -> None:
        self.intro.entry(entity, self.intro.use(entity), 'builtin',
                         {'json-type': entity.json_type}, [], IfCond())

    def visit_enum_type(self, entity: EnumType) -> None:
        members: List[Node] = []
        for value in entity.members:
            member: Dict[str, Node] = {'name': value.name}
            if value.features:
                member['features'] = _features(value.features)
            members.append(_under(member, value.ifcond))
        values = [_under(value.name, value.ifcond)
                  for value in entity.members]
        # (a list of plain names, for clients older than 'members')
        self.intro.entry(entity, self.intro.use(entity), 'enum',
                         {'members': members, 'values': values},
                         entity.features, entity.ifcond)

    def visit_array_type(self, entity: ArrayType) -> None:
        intro = self.intro
        assert entity.element_type is not None
        intro.entry(entity, intro.use(entity), 'array', {
            'element-type': Ref(intro.use(entity.element_type))},
            [], entity.ifcond)

    def visit_object_type(self, entity: ObjectType) -> None:
        intro = self.intro
        name = intro.use(entity)
        members: List[Node] = []
        for obj_member in entity.members:
            member: Dict[str, Node] = {
                'name': obj_member.name,
                'type': Ref(intro.use(obj_member.type))}
            if obj_member.optional:
                member['default'] = None
            if obj_member.features:
                member['features'] = _features(obj_member.features)
            members.append(_under(member, obj_member.ifcond))
        fields: Dict[str, Node] = {'members': members}
        if isinstance(entity, UnionType):
            assert entity.tag_member is not None
            fields['tag'] = entity.tag_member.name
            fields['variants'] = [
                _under({'case': v.name, 'type': Ref(intro.use(v.type))},
                       v.ifcond)
                for v in entity.variants]
        intro.entry(entity, name, 'object', fields, entity.features,
                    entity.ifcond)

    def visit_alternate_type(self, entity: AlternateType) -> None:
        intro = self.intro
        intro.entry(entity, intro.use(entity), 'alternate', {'members': [
            _under({'type': Ref(intro.use(v.type))}, v.ifcond)
            for v in entity.variants]}, entity.features, entity.ifcond)


def _c_string(text: str) -> str:
    if '\\' not in text and '"' not in text:
        return '"' + text + '"'
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


class _Renderer:
    """Writes the literal's lines: each value's first line after a head
    (its indentation, and its key in a dict), its last before a tail."""

    def __init__(self, intro: Introspection):
        self.names = intro.names
        self.lines: List[str] = []
        # Per depth, the start of a dict entry's line for each key.
        self.key_heads: Dict[int, Dict[str, str]] = {}

    def display(self, name: str) -> str:
        """NAME as clients see it: numbered under -m."""
        if name.startswith('['):
            return '[%s]' % self.display(name[1:-1])
        return self.names.get(name, name)

    def node(self, node: Node, depth: int, head: str, tail: str) -> None:
        """NODE at nesting DEPTH, in its condition, after its comment."""
        if not isinstance(node, Annotated):
            self.value(node, depth, head, tail)
            return
        lines = self.lines
        start = len(lines)
        if node.comment:
            lines.append('    ' * depth + '/* %s */' % node.comment)
        self.value(node.value, depth, head, tail)
        if node.ifcond.is_present():
            text = ctypes.wrap(''.join(line + '\n' for line in lines[start:]),
                               node.ifcond)
            lines[start:] = text.rstrip('\n').split('\n')

    def value(self, value: Lit, depth: int, head: str, tail: str) -> None:
        lines = self.lines
        if type(value) is dict:             # (the most frequent first)
            heads = self.key_heads.get(depth)
            if heads is None:
                heads = self.key_heads[depth] = {}
            pad = '    ' * (depth + 1)
            lines.append(head + 'QLIT_QDICT(((const QLitDictEntry[]) {')
            for key, item in value.items():
                key_head = heads.get(key)
                if key_head is None:
                    key_head = heads[key] = \
                        pad + '{ ' + _c_string(key) + ', '
                if type(item) is str:
                    lines.append(key_head + 'QLIT_QSTR(' + _c_string(item)
                                 + ') },')
                elif type(item) is Ref and not self.names:
                    lines.append(key_head + 'QLIT_QSTR('
                                 + _c_string(item.name) + ') },')
                elif item is None:
                    lines.append(key_head + 'QLIT_QNULL },')
                else:
                    self.node(item, depth + 1, key_head, ' },')
            lines.append(pad + '{ .key = NULL },')
            lines.append('    ' * depth + '}))' + tail)
        elif type(value) is list:
            pad = '    ' * (depth + 1)
            lines.append(head + 'QLIT_QLIST(((const QLitObject[]) {')
            for item in value:
                if type(item) is str:
                    lines.append(pad + 'QLIT_QSTR(' + _c_string(item) + '),')
                elif type(item) is dict:
                    self.value(item, depth + 1, pad, ',')
                else:
                    self.node(item, depth + 1, pad, ',')
            lines.append(pad + '{ .type = QLIT_TYPE_NONE },')
            lines.append('    ' * depth + '}))' + tail)
        elif type(value) is str:
            lines.append(head + 'QLIT_QSTR(' + _c_string(value) + ')' + tail)
        elif type(value) is Ref:
            name = value.name
            if self.names:
                name = self.display(name)
            lines.append(head + 'QLIT_QSTR(' + _c_string(name) + ')' + tail)
        elif value is None:
            lines.append(head + 'QLIT_QNULL' + tail)
        else:                               # a bool
            lines.append(head + ('QLIT_QBOOL(true)' if value
                                 else 'QLIT_QBOOL(false)') + tail)


def render(intro: Introspection) -> str:
    """The C initializer of the whole list, indented for file scope."""
    items: List[Node] = []
    for entity, obj, ifcond in intro.entries:
        comment = ('real name: %s' % entity.name
                   if intro.mask and entity.name in intro.names else None)
        items.append(Annotated(obj, ifcond, comment)
                     if comment or ifcond.is_present() else obj)
    renderer = _Renderer(intro)
    renderer.value(items, 0, '', '')
    return '\n'.join(renderer.lines)
