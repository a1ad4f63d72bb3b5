"""The introspection backend (qapi-language.md §13.6): the SchemaInfo
list of query-qmp-schema as a static QLitObject tree."""

from typing import Dict, List, Optional, Tuple, Union

from . import ctypes
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      Entity, EnumType, Event, Feature, IfCond, ObjectType,
                      QAPISchema, Type, UnionType)

# A literal: a string, a bool, None (JSON null), a list of annotated
# literals or a dict (key order kept) of annotated literals.  An
# annotated literal carries the condition it is compiled under.
Lit = Union[str, bool, None, List['Annotated'], Dict[str, 'Annotated']]


class Annotated:
    def __init__(self, value: Lit, ifcond: Optional[IfCond] = None,
                 comment: Optional[str] = None, type_ref: bool = False):
        self.value = value
        self.type_ref = type_ref        # a type name, numbered under -m
        self.ifcond = ifcond or IfCond()
        self.comment = comment


class Introspection:
    """Collects the entries in the order of §13.6/2."""

    def __init__(self, schema: QAPISchema, mask: bool):
        self.schema = schema
        self.mask = mask
        self.entries: List[Tuple[Entity, Annotated]] = []
        self.used: Dict[str, Type] = {}
        self.queue: List[Type] = []
        self.names: Dict[str, str] = {}
        for entity in schema.entities:
            if isinstance(entity, Command):
                self.entries.append((entity, self._command(entity)))
            elif isinstance(entity, Event):
                self.entries.append((entity, self._event(entity)))
        while self.queue:
            entity = self.queue.pop(0)
            self.entries.append((entity, self._type(entity)))
        if mask:
            self._assign_numbers()

    # Names

    def _assign_numbers(self) -> None:
        order = {id(e): i for i, e in enumerate(self.schema.entities)}
        listed = sorted((t for t in self.used.values()
                         if not isinstance(t, (BuiltinType, ArrayType))),
                        key=lambda t: order[id(t)])
        for number, entity in enumerate(listed):
            self.names[entity.name] = str(number)

    def use(self, entity: Optional[Type]) -> str:
        """The introspection name of ENTITY, listing it if new."""
        if entity is None:
            entity = self.schema.lookup_entity('q_empty')  # type: ignore
            assert isinstance(entity, Type)
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

    def display(self, name: str) -> str:
        """NAME as clients see it: numbered under -m."""
        if name.startswith('['):
            return '[%s]' % self.display(name[1:-1])
        return self.names.get(name, name)

    @staticmethod
    def _ref(name: str) -> Annotated:
        return Annotated(name, type_ref=True)

    # Entries

    @staticmethod
    def _features(features: List[Feature]) -> List[Annotated]:
        return [Annotated(feat.name, feat.ifcond) for feat in features]

    def _entry(self, name: str, meta: str, fields: Dict[str, Annotated],
               features: List[Feature], ifcond: IfCond) -> Annotated:
        obj: Dict[str, Annotated] = {'name': Annotated(name, type_ref=True),
                                     'meta-type': Annotated(meta)}
        obj.update(fields)
        if features:
            obj['features'] = Annotated(self._features(features))
        return Annotated(obj, ifcond)

    def _command(self, cmd: Command) -> Annotated:
        fields = {'arg-type': self._ref(self.use(cmd.arg_type)),
                  'ret-type': self._ref(self.use(cmd.ret_type))}
        if cmd.allow_oob:
            fields['allow-oob'] = Annotated(True)
        return self._entry(cmd.name, 'command', fields, cmd.features,
                           cmd.ifcond)

    def _event(self, event: Event) -> Annotated:
        return self._entry(event.name, 'event',
                           {'arg-type': self._ref(self.use(event.arg_type))},
                           event.features, event.ifcond)

    def _type(self, entity: Type) -> Annotated:
        name = self.use(entity)
        if isinstance(entity, BuiltinType):
            return self._entry(name, 'builtin',
                               {'json-type': Annotated(entity.json_type)},
                               [], IfCond())
        if isinstance(entity, EnumType):
            members = []
            for value in entity.members:
                member: Dict[str, Annotated] = {'name': Annotated(value.name)}
                if value.features:
                    member['features'] = Annotated(
                        self._features(value.features))
                members.append(Annotated(member, value.ifcond))
            values = [Annotated(value.name, value.ifcond)
                      for value in entity.members]
            # (a list of plain names, for clients older than 'members')
            return self._entry(name, 'enum', {
                'members': Annotated(members),
                'values': Annotated(values)}, entity.features,
                entity.ifcond)
        if isinstance(entity, ArrayType):
            assert entity.element_type is not None
            return self._entry(name, 'array', {
                'element-type': self._ref(self.use(entity.element_type))},
                [], entity.ifcond)
        if isinstance(entity, ObjectType):
            members = []
            for obj_member in entity.members:
                member = {'name': Annotated(obj_member.name),
                          'type': self._ref(self.use(obj_member.type))}
                if obj_member.optional:
                    member['default'] = Annotated(None)
                if obj_member.features:
                    member['features'] = Annotated(
                        self._features(obj_member.features))
                members.append(Annotated(member, obj_member.ifcond))
            fields = {'members': Annotated(members)}
            if isinstance(entity, UnionType):
                assert entity.tag_member is not None
                fields['tag'] = Annotated(entity.tag_member.name)
                fields['variants'] = Annotated([
                    Annotated({'case': Annotated(v.name),
                               'type': self._ref(self.use(v.type))},
                              v.ifcond)
                    for v in entity.variants])
            return self._entry(name, 'object', fields, entity.features,
                               entity.ifcond)
        assert isinstance(entity, AlternateType)
        return self._entry(name, 'alternate', {'members': Annotated([
            Annotated({'type': self._ref(self.use(v.type))}, v.ifcond)
            for v in entity.variants])}, entity.features, entity.ifcond)


def _c_string(text: str) -> str:
    if '\\' not in text and '"' not in text:
        return '"' + text + '"'
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def render(intro: Introspection) -> str:
    """The C initializer of the whole list, indented for file scope."""
    lines: List[str] = []
    items = [Annotated(entry.value, entry.ifcond,
                       'real name: %s' % entity.name
                       if intro.mask and entity.name in intro.names else None)
             for entity, entry in intro.entries]
    _render_list(intro, items, 0, lines)
    return '\n'.join(lines)


def _wrapped(item: Annotated, depth: int, body: List[str],
             lines: List[str]) -> None:
    if not item.comment and item.ifcond.cond is None:
        lines.extend(body)
        return
    if item.comment:
        body = ['    ' * depth + '/* %s */' % item.comment] + body
    if not item.ifcond.is_present():
        lines.extend(body)
        return
    text = ctypes.wrap(''.join(line + '\n' for line in body), item.ifcond)
    lines.extend(text.rstrip('\n').split('\n'))


def _value(intro: Introspection, item: Annotated, depth: int,
           key: Optional[str]) -> List[str]:
    """Lines of one value: 'QLIT_...' possibly spanning lines."""
    value = item.value
    if isinstance(value, bool):
        return ['QLIT_QBOOL(%s)' % ('true' if value else 'false')]
    if value is None:
        return ['QLIT_QNULL']
    if isinstance(value, str):
        if item.type_ref:
            value = intro.display(value)
        return ['QLIT_QSTR(%s)' % _c_string(value)]
    out: List[str] = []
    if isinstance(value, list):
        _render_list(intro, value, depth, out)
    else:
        _render_dict(intro, value, depth, out)
    return out


def _render_list(intro: Introspection, items: List[Annotated], depth: int,
                 lines: List[str]) -> None:
    pad = '    ' * (depth + 1)
    lines.append('QLIT_QLIST(((const QLitObject[]) {')
    for item in items:
        body = _value(intro, item, depth + 1, None)
        body = [pad + body[0]] + body[1:]
        body[-1] += ','
        _wrapped(item, depth + 1, body, lines)
    lines.append(pad + '{ .type = QLIT_TYPE_NONE },')
    lines.append('    ' * depth + '}))')


def _render_dict(intro: Introspection, obj: Dict[str, Annotated],
                 depth: int, lines: List[str]) -> None:
    pad = '    ' * (depth + 1)
    lines.append('QLIT_QDICT(((const QLitDictEntry[]) {')
    for key, item in obj.items():
        body = _value(intro, item, depth + 1, key)
        body = [pad + '{ %s, %s' % (_c_string(key), body[0])] + body[1:]
        body[-1] += ' },'
        _wrapped(item, depth + 1, body, lines)
    lines.append(pad + '{ .key = NULL },')
    lines.append('    ' * depth + '}))')
