# SPDX-License-Identifier: MIT
"""The --json-schema backend: the wire as one JSON Schema (draft 2020-12).

One document, qapi-schema.json, from the checked model
(docs/spec/qapi-language.md §12.3):

  $defs/TYPE          every named type, built-ins included, as the input
                      visitor takes it: objects strict (an unknown member
                      is refused: additionalProperties for a struct,
                      unevaluatedProperties for a union)
  $defs/TYPE:members  an object type's members without the strictness,
                      for composing: a union's base with a branch, a
                      branch that is itself a union
  $defs/request:NAME  a command's request (execute, arguments, id; an
                      allow-oob command's may say exec-oob instead)
  $defs/reply:NAME    its success reply (return, id)
  $defs/event:NAME    an event (event, data, timestamp)

and the root accepts exactly the requests of the schema's commands: a
oneOf keyed by "execute".  Strictness survives composition because a
union says unevaluatedProperties: false at its top, and what it composes
(its branches' TYPE:members) says nothing about other members.  'if' conditions are not evaluated: what
they guard is described, with the condition in a $comment.
"""

import json
from typing import Any, Dict, List, Optional, Sequence, Union

from .schema import (AlternateType, ArrayType, BuiltinType, Command,
                     EnumType, Event, Feature, IfCond, ObjectMember,
                     ObjectType, QAPISchema, SchemaVisitor, Type, UnionType)

Schema = Dict[str, Any]

DIALECT = 'https://json-schema.org/draft/2020-12/schema'

# The integers each built-in takes (the input visitor refuses the rest).
INT_RANGES = {
    'int': (-2**63, 2**63 - 1),
    'int8': (-2**7, 2**7 - 1),
    'int16': (-2**15, 2**15 - 1),
    'int32': (-2**31, 2**31 - 1),
    'int64': (-2**63, 2**63 - 1),
    'uint8': (0, 2**8 - 1),
    'uint16': (0, 2**16 - 1),
    'uint32': (0, 2**32 - 1),
    'uint64': (0, 2**64 - 1),
    'size': (0, 2**64 - 1),
}

# A C string ends at its first NUL: the visitor refuses strings with one.
NO_NUL = '^[^\\u0000]*$'


def _ref(name: str) -> Schema:
    return {'$ref': '#/$defs/%s' % name}


def _annotate(schema: Schema, ifcond: IfCond,
              features: Sequence[Feature]) -> Schema:
    """SCHEMA with its condition (a $comment) and deprecated flag."""
    if ifcond.is_present():
        schema['$comment'] = 'only if %s' % ifcond.cgen()
    if any(feat.name == 'deprecated' for feat in features):
        schema['deprecated'] = True
    return schema


def _builtin(entity: BuiltinType) -> Schema:
    if entity.name in INT_RANGES:
        low, high = INT_RANGES[entity.name]
        return {'type': 'integer', 'minimum': low, 'maximum': high}
    others: Dict[str, Schema] = {
        'str': {'type': 'string', 'pattern': NO_NUL},
        'number': {'type': 'number'},
        'bool': {'type': 'boolean'},
        'null': {'type': 'null'},
        'any': {},
    }
    return others[entity.name]


class JSONSchemaBuilder(SchemaVisitor):
    def __init__(self) -> None:
        self.defs: Dict[str, Schema] = {}
        self.requests: List[str] = []

    # Where a type is used

    def use(self, typ: Optional[Type]) -> Schema:
        """The schema of a value of TYP, where a member or element is."""
        assert typ is not None
        if isinstance(typ, BuiltinType):
            return _builtin(typ)
        if isinstance(typ, ArrayType):
            return {'type': 'array', 'items': self.use(typ.element_type)}
        if isinstance(typ, ObjectType) and typ.is_implicit():
            return self.strict(typ)
        return _ref(typ.name)

    # Objects

    def _member(self, member: ObjectMember) -> Schema:
        return _annotate(self.use(member.type), member.ifcond,
                         member.features)

    def members(self, entity: ObjectType) -> Schema:
        """ENTITY's members, open: for composing (see the module doc)."""
        schema: Schema = {
            'type': 'object',
            'properties': {m.name: self._member(m) for m in entity.members},
        }
        required = [m.name for m in entity.members if not m.optional]
        if required:
            schema['required'] = required
        if isinstance(entity, UnionType):
            branches = []
            for variant in entity.variants:
                branch: Schema = {
                    'properties': {entity.tag_name: {'const': variant.name}},
                }
                assert isinstance(variant.type, ObjectType)
                if variant.type.members:
                    branch['allOf'] = [self.composable(variant.type)]
                branches.append(_annotate(branch, variant.ifcond, []))
            schema['oneOf'] = branches
        return schema

    def composable(self, entity: ObjectType) -> Schema:
        if entity.is_implicit():
            return self.members(entity)
        return _ref('%s:members' % entity.name)

    def strict(self, entity: ObjectType) -> Schema:
        """ENTITY as the input visitor takes it: no member it lacks.  A
        struct lists its members (its base's included) and closes with
        additionalProperties; a union composes its base with a branch,
        so it closes with unevaluatedProperties, over both at once.
        (Validators re-evaluate what unevaluatedProperties looks
        through: a recursive struct, such as a backing chain, would cost
        twice as much per level if every object said it.)"""
        if isinstance(entity, UnionType):
            return {'allOf': [self.composable(entity)],
                    'unevaluatedProperties': False}
        schema = self.members(entity)
        schema['additionalProperties'] = False
        return schema

    # Visitor

    def visit_builtin_type(self, entity: BuiltinType) -> None:
        self.defs[entity.name] = _builtin(entity)

    def visit_enum_type(self, entity: EnumType) -> None:
        schema: Schema = {'type': 'string'}
        values = [_annotate({'const': m.name}, m.ifcond, m.features)
                  for m in entity.members]
        if any(len(value) > 1 for value in values):
            # A value with a condition or deprecated: one const each,
            # to carry it.
            schema['oneOf'] = values
        else:
            schema['enum'] = [m.name for m in entity.members]
        self.defs[entity.name] = _annotate(schema, entity.ifcond,
                                           entity.features)

    def visit_object_type(self, entity: ObjectType) -> None:
        if entity.is_implicit():
            return
        self.defs['%s:members' % entity.name] = self.members(entity)
        self.defs[entity.name] = _annotate(self.strict(entity),
                                           entity.ifcond, entity.features)

    def visit_alternate_type(self, entity: AlternateType) -> None:
        branches = [_annotate(self.use(v.type), v.ifcond, [])
                    for v in entity.variants]
        self.defs[entity.name] = _annotate({'oneOf': branches},
                                           entity.ifcond, entity.features)

    @staticmethod
    def _data_required(entity: Union[Command, Event]) -> bool:
        """Whether ENTITY's arguments (or event data) must be there:
        when its type has a mandatory member.  Without one, a request
        may leave 'arguments' out, and an event whose data is empty has
        no 'data' (§3.6/2)."""
        arg_type = entity.arg_type
        return (not isinstance(arg_type, ObjectType)
                or any(not m.optional for m in arg_type.members))

    def _data(self, entity: Union[Command, Event]) -> Optional[Schema]:
        """The schema of ENTITY's arguments (or event data); None when
        it has none (no type, or an implicit one without members)."""
        arg_type = entity.arg_type
        if arg_type is None or (isinstance(arg_type, ObjectType)
                                and not arg_type.members
                                and arg_type.is_implicit()):
            return None
        return self.use(arg_type)

    def visit_command(self, entity: Command) -> None:
        args = self._data(entity)
        properties: Schema = {
            'execute': {'const': entity.name},
            'arguments': args if args is not None else {
                'type': 'object', 'maxProperties': 0},
            'id': {},
        }
        request: Schema = {'type': 'object', 'properties': properties,
                           'required': ['execute'],
                           'additionalProperties': False}
        if entity.allow_oob:
            # Either form names it, never both (qmp-protocol.md §4).
            properties['exec-oob'] = properties['execute']
            del request['required']
            request['oneOf'] = [{'required': ['execute']},
                                {'required': ['exec-oob']}]
        if args is not None and self._data_required(entity):
            request.setdefault('required', []).append('arguments')
        self.defs['request:%s' % entity.name] = _annotate(
            request, entity.ifcond, entity.features)
        self.requests.append(entity.name)
        if entity.success_response:
            ret = (self.use(entity.ret_type) if entity.ret_type is not None
                   else {'type': 'object', 'maxProperties': 0})
            self.defs['reply:%s' % entity.name] = {
                'type': 'object',
                'properties': {'return': ret, 'id': {}},
                'required': ['return'],
                'additionalProperties': False,
            }

    def visit_event(self, entity: Event) -> None:
        properties: Schema = {
            'event': {'const': entity.name},
            'timestamp': {
                'type': 'object',
                'properties': {'seconds': {'type': 'integer'},
                               'microseconds': {'type': 'integer'}},
                'required': ['seconds', 'microseconds'],
                'additionalProperties': False,
            },
        }
        required = ['event', 'timestamp']
        data = self._data(entity)
        if data is not None:
            properties['data'] = data
            if self._data_required(entity):
                required.append('data')
        self.defs['event:%s' % entity.name] = _annotate(
            {'type': 'object', 'properties': properties,
             'required': required, 'additionalProperties': False},
            entity.ifcond, entity.features)

    def document(self, title: str) -> Schema:
        document: Schema = {
            '$schema': DIALECT,
            'title': title,
            'description': 'The QMP requests of this schema; $defs has '
                           'every type, request, reply and event.',
        }
        if self.requests:
            document['oneOf'] = [_ref('request:%s' % name)
                                 for name in self.requests]
        else:
            # No command: no request is valid (an empty oneOf is not a
            # schema).
            document['not'] = {}
        document['$defs'] = self.defs
        return document


def json_schema(schema: QAPISchema, title: str) -> str:
    """SCHEMA's wire as a JSON Schema document, as text."""
    builder = JSONSchemaBuilder()
    schema.visit(builder)
    return json.dumps(builder.document(title), indent=2,
                      ensure_ascii=False) + '\n'
