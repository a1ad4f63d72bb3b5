# SPDX-License-Identifier: MIT
"""The checked model of a schema (steps 3 and 4 of docs/spec/qapi-language.md
§9.1).

QAPISchema builds one entity per definition, plus the predefined and
implicit ones, then checks every entity in definition order.  Entities
check themselves; an entity first completes the checks of what it is
built from (base, branch types, argument type).  Backends walk the
result through SchemaVisitor (QAPISchema.visit() for the whole schema,
ENTITY.visit() for one entity) and never see a raw expression.
"""

import os
from typing import (Any, Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple, Union)

from .check import SPECIAL_FEATURES, check_shapes, is_inline_struct
from .common import c_enum_const, c_name, cgen_ifcond, Cond
from .doc import QAPIDoc
from .error import QAPIError
from .parser import Pragmas, TopExpr, Value, read_schema
from .source import QAPISourceInfo


class IfCond:
    """A condition (§5); absent when COND is None."""

    def __init__(self, cond: Optional[Cond] = None):
        self.cond = cond

    def cgen(self) -> str:
        return cgen_ifcond(self.cond)

    def is_present(self) -> bool:
        return self.cond is not None


class Feature:
    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 ifcond: IfCond):
        self.name = name
        self.info = info
        self.ifcond = ifcond

    def is_special(self) -> bool:
        return self.name in SPECIAL_FEATURES


def special_mask(features: Sequence[Feature]) -> List[str]:
    """The special features among FEATURES, in a fixed order."""
    names = {feat.name for feat in features}
    return [name for name in SPECIAL_FEATURES if name in names]


class Module:
    """One schema file.  NAME is its path relative to the main schema's
    directory ('./builtin' for the built-in module)."""

    def __init__(self, name: str, is_main: bool = False):
        self.name = name
        self.is_main = is_main
        self.includes: List['Module'] = []
        self.entities: List['Entity'] = []

    def is_builtin(self) -> bool:
        return self.name == './builtin'


# Entities

class Entity:
    meta = ''

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 doc: Optional[QAPIDoc] = None,
                 ifcond: Optional[IfCond] = None,
                 features: Optional[List[Feature]] = None):
        self.name = name
        self.info = info
        self.doc = doc
        self.ifcond = ifcond or IfCond()
        self.features = features or []
        self.module: Optional[Module] = None
        self._state = 'new'             # 'checking', 'checked'

    def c_name(self) -> str:
        return c_name(self.name)

    def is_implicit(self) -> bool:
        return False

    def describe(self) -> str:
        return "%s '%s'" % (self.meta, self.name)

    def check(self, schema: 'QAPISchema') -> None:
        if self._state == 'new':
            self._state = 'checking'
            self._check(schema)
            self._state = 'checked'

    def _check(self, schema: 'QAPISchema') -> None:
        pass

    def check_doc(self) -> None:
        """The doc cross-checks of §10.3/5-6."""
        doc = self.doc
        if doc is None or doc.legacy:
            return
        features = self.doc_features()
        doc.check_described(self.doc_members(), features, self.describe())
        undescribed = doc.undescribed_features(features)
        if undescribed:
            raise QAPIError(self.info, "feature '%s' is not described in "
                            'the doc block' % undescribed[0])

    def doc_members(self) -> List[str]:
        return []

    def doc_features(self) -> List[str]:
        return [feat.name for feat in self.features]

    def visit(self, visitor: 'SchemaVisitor') -> None:
        pass


class Type(Entity):
    def json_kind(self) -> str:
        """The JSON kind of the type's values, for alternates (§3.4/2):
        'object', 'array', 'string', 'number', 'boolean', 'null' or
        'value' (anything)."""
        raise NotImplementedError

    def _check_no_special_features(self) -> None:
        for feat in self.features:
            if feat.is_special():
                raise QAPIError(self.info, "feature '%s' is not allowed on "
                                "%s: special features mark commands, "
                                'events, members and enum values'
                                % (feat.name, self.describe()))


class BuiltinType(Type):
    meta = 'built-in'

    def __init__(self, name: str, json_type: str, c_type: str):
        super().__init__(name, None)
        self.json_type = json_type
        self.c_type = c_type

    def json_kind(self) -> str:
        return {'string': 'string', 'int': 'number', 'number': 'number',
                'boolean': 'boolean', 'null': 'null',
                'value': 'value'}[self.json_type]

    def describe(self) -> str:
        return "built-in type '%s'" % self.name

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_builtin_type(self)


class Member:
    """A named part of a type: enum value, object member or branch.
    OWNER is the entity it belongs to."""
    word = 'member'

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 ifcond: IfCond, features: Optional[List[Feature]] = None):
        self.name = name
        self.info = info
        self.ifcond = ifcond
        self.features = features or []
        self.owner: Optional[Entity] = None

    def c_name(self) -> str:
        return c_name(self.name)

    def role(self) -> str:
        """What the member is, for messages inside its definition."""
        word = self.word
        if isinstance(self.owner, ObjectType) and self.owner.member_word:
            word = self.owner.member_word
        return "%s '%s'" % (word, self.name)

    def describe(self) -> str:
        owner = self.owner
        assert owner is not None
        where = (owner.implicit_of if isinstance(owner, ObjectType)
                 and owner.implicit_of else owner.describe())
        return '%s of %s' % (self.role(), where)


class EnumMember(Member):
    word = 'value'


class EnumType(Type):
    meta = 'enum'

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], members: List[EnumMember],
                 prefix: Optional[str]):
        super().__init__(name, info, doc, ifcond, features)
        self.members = members
        for member in members:
            member.owner = self
        self.prefix = prefix
        self._const_prefix: Optional[str] = None

    def json_kind(self) -> str:
        return 'string'

    def member_names(self) -> List[str]:
        return [member.name for member in self.members]

    def const(self, value: str) -> str:
        """common.c_enum_const(), with the part before the value's name
        computed once."""
        if self._const_prefix is None:
            self._const_prefix = c_enum_const(self.name, '', self.prefix)
        return self._const_prefix + c_name(value, False).upper()

    def _check(self, schema: 'QAPISchema') -> None:
        seen: Dict[str, EnumMember] = {}
        for member in self.members:
            const = self.const(member.name)
            if const in seen and seen[const].name == member.name:
                raise QAPIError(self.info, "value '%s' is listed twice"
                                % member.name)
            if const in seen:
                raise QAPIError(self.info, "value '%s' clashes with value "
                                "'%s': both give the C constant %s"
                                % (member.name, seen[const].name, const))
            seen[const] = member
        self._check_no_special_features()

    def doc_members(self) -> List[str]:
        return self.member_names()

    def doc_features(self) -> List[str]:
        return super().doc_features() + [
            feat.name for member in self.members for feat in member.features]

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_enum_type(self)


class ArrayType(Type):
    meta = 'array'

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 element_type_name: str):
        super().__init__(name, info)
        self.element_type_name = element_type_name
        self.element_type: Optional[Type] = None

    def is_implicit(self) -> bool:
        return True

    def json_kind(self) -> str:
        return 'array'

    def describe(self) -> str:
        return "array type '%s'" % self.name

    def _check(self, schema: 'QAPISchema') -> None:
        element = schema.lookup_type(self.element_type_name)
        assert element is not None     # resolve() reported it otherwise
        self.element_type = element
        self.ifcond = element.ifcond

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_array_type(self)


class TypeRef:
    """A type reference as written: NAME, or ['ELEMENT'] with NAME the
    implicit array type's name."""

    def __init__(self, name: str, element: Optional[str] = None,
                 inline: bool = False):
        self.name = name
        self.element = element
        self.inline = inline            # NAME is an inline struct's

    def written(self) -> str:
        return "['%s']" % self.element if self.element else self.name


class ObjectMember(Member):
    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 ifcond: IfCond, features: List[Feature], ref: TypeRef,
                 optional: bool, role: Optional[str] = None):
        super().__init__(name, info, ifcond, features)
        self.ref = ref
        self.optional = optional
        self.type: Optional[Type] = None
        # How messages name a member the model made up, as the schema
        # author wrote it (the 'data' of a 2012 branch wrapper).
        self._role = role

    def role(self) -> str:
        return self._role or super().role()

    def check(self, schema: 'QAPISchema') -> None:
        self.type = schema.resolve(self.ref, self.info, self.role,
                                   allow_implicit=self.ref.inline)


class Variant:
    """A branch: of a union (its tag value NAME) or an alternate."""

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 ref: TypeRef, ifcond: IfCond, implicit: bool = False):
        self.name = name
        self.info = info
        self.ref = ref
        self.ifcond = ifcond
        self.implicit = implicit        # an implicit empty branch
        self.type: Optional[Type] = None

    def role(self) -> str:
        return "branch '%s'" % self.name


class ObjectType(Type):
    """A struct, a union, or an implicit struct (q_obj_*, q_empty)."""
    meta = 'struct'

    def __init__(self, name: str, info: Optional[QAPISourceInfo],
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], base: Optional[str],
                 members: List[ObjectMember], *,
                 implicit_of: Optional[str] = None,
                 member_word: Optional[str] = None,
                 inline_base: bool = False,
                 inline_in: Optional[Tuple[str, str]] = None):
        super().__init__(name, info, doc, ifcond, features)
        self.base_name = base
        self.inline_base = inline_base  # base is our implicit q_obj_*-base
        self.base: Optional['ObjectType'] = None
        self.local_members = members
        for member in members:
            member.owner = self
        # For implicit types: what they are, e.g. "the arguments of
        # command 'frob'"; and the word for their members.
        self.implicit_of = implicit_of
        self.member_word = member_word
        self.members: List[ObjectMember] = []
        # An inline anonymous struct of the 2012 form (§11/7) has no C
        # type of its own: it is held by value in its parent, at C path
        # INLINE_PATH ('dict.dict2') of the named type INLINE_ROOT.
        self.inline_root, self.inline_path = inline_in or ('', '')

    def is_inline(self) -> bool:
        return bool(self.inline_root)

    def is_implicit(self) -> bool:
        return self.implicit_of is not None

    def json_kind(self) -> str:
        return 'object'

    def is_union(self) -> bool:
        return False

    def _check_base(self, schema: 'QAPISchema') -> None:
        """Resolve the base; refuse anything but a struct, and cycles."""
        if self.base_name is None:
            return
        base = schema.resolve(TypeRef(self.base_name), self.info, "'base'",
                              allow_implicit=self.inline_base)
        if not isinstance(base, ObjectType) or base.is_union() \
           or base.is_implicit() and not self.inline_base:
            raise QAPIError(self.info, "'base' must name a struct, not %s"
                            % base.describe())
        chain = [self.name]
        walk: Optional[ObjectType] = base
        while walk is not None and walk.name not in chain:
            chain.append(walk.name)
            nxt = walk.base_name and schema.lookup_type(walk.base_name)
            walk = nxt if isinstance(nxt, ObjectType) else None
        if walk is not None and walk.name == self.name:
            raise QAPIError(self.info, "'%s' is its own base: %s"
                            % (self.name, ' -> '.join(chain + [self.name])))
        base.check(schema)
        self.base = base

    def _check_members(self, schema: 'QAPISchema') -> None:
        for member in self.local_members:
            member.check(schema)
        self._check_base(schema)
        self.members = (list(self.base.members) if self.base else []) \
            + self.local_members
        self._check_member_clash(self.info, {})

    def _check_member_clash(self, info: Optional[QAPISourceInfo],
                            seen: Dict[str, Member]) -> None:
        for member in self.members:
            key = c_name(member.name)
            other = seen.get(key)
            if other is None:
                seen[key] = member
            elif other.owner is member.owner and other.name == member.name:
                raise QAPIError(info, '%s is listed twice (once optional)'
                                % member.describe())
            else:
                raise QAPIError(info, '%s clashes with %s'
                                % (member.describe(), other.describe()))

    def check_clash(self, info: Optional[QAPISourceInfo],
                    seen: Dict[str, Member]) -> None:
        """Add our members to SEEN (C name -> member), and for a union
        each branch's in turn; raise at INFO on a clash."""
        self._check_member_clash(info, seen)

    def _check(self, schema: 'QAPISchema') -> None:
        self._check_members(schema)
        self._check_no_special_features()

    def doc_members(self) -> List[str]:
        return [member.name for member in self.local_members]

    def doc_features(self) -> List[str]:
        return super().doc_features() + [
            feat.name for member in self.local_members
            for feat in member.features]

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_object_type(self)


class UnionType(ObjectType):
    meta = 'union'

    def __init__(self, name: str, info: QAPISourceInfo,
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], base: str, tag_name: str,
                 variants: List[Variant], simple: bool, inline_base: bool):
        super().__init__(name, info, doc, ifcond, features, base, [],
                         inline_base=inline_base)
        self.tag_name = tag_name
        self.tag_member: Optional[ObjectMember] = None
        self.variants = variants
        self.simple = simple            # written in the 2012 form

    def is_union(self) -> bool:
        return True

    def _check(self, schema: 'QAPISchema') -> None:
        for variant in self.variants:
            variant.type = schema.resolve(variant.ref, self.info,
                                          variant.role(),
                                          allow_implicit=self.simple)
        self._check_members(schema)
        assert self.base is not None
        tag = next((m for m in self.base.members
                    if m.name == self.tag_name), None)
        if tag is None:
            raise QAPIError(self.info, "discriminator '%s' is not a member "
                            'of %s' % (self.tag_name, self._base_what()))
        if tag.optional:
            raise QAPIError(self.info, "discriminator '%s' must be a "
                            'mandatory member' % self.tag_name)
        if tag.ifcond.is_present():
            raise QAPIError(self.info, "discriminator '%s' must not be "
                            'conditional' % self.tag_name)
        enum = tag.type
        if not isinstance(enum, EnumType):
            assert enum is not None
            raise QAPIError(self.info, "discriminator '%s' must be of an "
                            'enum type, not %s'
                            % (self.tag_name, enum.describe()))
        if not enum.members:
            raise QAPIError(self.info, "the discriminator's %s has no "
                            'values' % enum.describe())
        self.tag_member = tag
        values = enum.member_names()
        for variant in self.variants:
            if variant.name not in values:
                raise QAPIError(self.info, "branch '%s' is not a value of "
                                '%s' % (variant.name, enum.describe()))
            vtype = variant.type
            assert vtype is not None
            if not isinstance(vtype, ObjectType):
                raise QAPIError(self.info, "branch '%s' must be a struct "
                                'or union, not %s'
                                % (variant.name, vtype.describe()))
            if vtype._state == 'checking':
                raise QAPIError(self.info, "branch '%s': %s contains "
                                'itself' % (variant.name, vtype.describe()))
            vtype.check(schema)
        named = {variant.name for variant in self.variants}
        empty = schema.lookup_entity('q_empty')
        assert isinstance(empty, ObjectType)
        for value in enum.members:
            if value.name not in named:
                variant = Variant(value.name, self.info, TypeRef('q_empty'),
                                  value.ifcond, implicit=True)
                variant.type = empty
                self.variants.append(variant)
        for variant in self.variants:
            assert isinstance(variant.type, ObjectType)
            variant.type.check_clash(self.info, dict(
                (c_name(m.name), m) for m in self.members))
        self._check_no_special_features()

    def _base_what(self) -> str:
        assert self.base is not None
        return ('the base' if self.base.is_implicit()
                else 'the base, ' + self.base.describe())

    def check_clash(self, info: Optional[QAPISourceInfo],
                    seen: Dict[str, Member]) -> None:
        super().check_clash(info, seen)
        for variant in self.variants:
            assert isinstance(variant.type, ObjectType)
            variant.type.check_clash(info, dict(seen))

    def doc_members(self) -> List[str]:
        names = []
        if self.base is not None and self.base.is_implicit():
            names = [member.name for member in self.base.local_members]
        if self.simple:
            names += [variant.name for variant in self.variants]
        return names

    def doc_features(self) -> List[str]:
        feats = [feat.name for feat in self.features]
        if self.base is not None and self.base.is_implicit():
            feats += [feat.name for member in self.base.local_members
                      for feat in member.features]
        return feats


# Why two JSON kinds cannot share an alternate (§3.4/2), beyond being
# the same kind.
def _ambiguity(first: Variant, second: Variant) -> Optional[str]:
    kinds = []
    for variant in (first, second):
        vtype = variant.type
        assert isinstance(vtype, Type)
        kinds.append(vtype.json_kind())
    if kinds[0] == kinds[1]:
        return 'both take a JSON %s' % kinds[0]
    for one, other in ((first, second), (second, first)):
        otype = other.type
        assert isinstance(otype, Type)
        okind = otype.json_kind()
        if one.type is not None and one.type.name == 'str' \
           and isinstance(one.type, BuiltinType) \
           and okind in ('number', 'boolean'):
            return ("a 'str' branch takes %ss written as strings"
                    % okind)
        if isinstance(one.type, EnumType):
            values = one.type.member_names()
            if okind == 'boolean':
                clash = [v for v in values if v in ('on', 'off')]
                if clash:
                    return ("%s has value '%s', which reads as a boolean"
                            % (one.type.describe(), clash[0]))
            if okind == 'number':
                clash = [v for v in values if v[:1] in '0123456789+-.']
                if clash:
                    return ("%s has value '%s', which reads as a number"
                            % (one.type.describe(), clash[0]))
    return None


class AlternateType(Type):
    meta = 'alternate'

    def __init__(self, name: str, info: QAPISourceInfo,
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], variants: List[Variant]):
        super().__init__(name, info, doc, ifcond, features)
        self.variants = variants
        self.tag_member: Optional[ObjectMember] = None

    def json_kind(self) -> str:
        return 'value'

    def _check(self, schema: 'QAPISchema') -> None:
        for variant in self.variants:
            variant.type = schema.resolve(variant.ref, self.info,
                                          variant.role())
        qtype = schema.lookup_type('QType')
        self.tag_member = ObjectMember('type', None, IfCond(), [],
                                       TypeRef('QType'), False)
        self.tag_member.owner = self
        self.tag_member.type = qtype
        seen: Dict[str, Variant] = {}
        for variant in self.variants:
            vtype = variant.type
            assert vtype is not None
            if isinstance(vtype, AlternateType):
                raise QAPIError(self.info, "branch '%s' cannot be an "
                                'alternate (%s)'
                                % (variant.name, vtype.describe()))
            if vtype.json_kind() == 'value':
                raise QAPIError(self.info, "branch '%s' cannot be of type "
                                "'any'" % variant.name)
            key = c_name(variant.name)
            if key in seen:
                raise QAPIError(self.info, "branch '%s' clashes with branch "
                                "'%s'" % (variant.name, seen[key].name))
            seen[key] = variant
        for i, variant in enumerate(self.variants):
            for earlier in self.variants[:i]:
                why = _ambiguity(earlier, variant)
                if why:
                    raise QAPIError(
                        self.info, "branch '%s' (%s) and branch '%s' (%s) "
                        'cannot be told apart: %s'
                        % (earlier.name, earlier.ref.written(), variant.name,
                           variant.ref.written(), why))
        self._check_no_special_features()

    def doc_members(self) -> List[str]:
        return [variant.name for variant in self.variants]

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_alternate_type(self)


class _Callable(Entity):
    """What commands and events share: arguments, possibly boxed."""

    def __init__(self, name: str, info: QAPISourceInfo,
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], arg_type: Optional[str],
                 boxed: bool, inline_args: bool):
        super().__init__(name, info, doc, ifcond, features)
        self.arg_type_name = arg_type
        self.inline_args = inline_args  # arg_type is our q_obj_*-arg
        self.arg_type: Optional[ObjectType] = None
        self.boxed = boxed

    def _check_args(self, schema: 'QAPISchema') -> None:
        if self.arg_type_name is not None:
            arg_type = schema.resolve(TypeRef(self.arg_type_name),
                                      self.info, "'data'",
                                      allow_implicit=self.inline_args)
            if not isinstance(arg_type, ObjectType):
                assert arg_type is not None
                raise QAPIError(self.info, "'data' must name a struct%s, "
                                'not %s' % (' or union' if self.boxed
                                            else '', arg_type.describe()))
            if arg_type.is_union() and not self.boxed:
                raise QAPIError(self.info, "'data' names %s, which needs "
                                "'boxed': true" % arg_type.describe())
            arg_type.check(schema)
            self.arg_type = arg_type
        if self.boxed and (self.arg_type is None or self.inline_args):
            raise QAPIError(self.info, "'boxed': true needs 'data' naming "
                            'a type')
        if self.arg_type is not None and not self.boxed:
            for member in self.arg_type.members:
                if isinstance(member.type, ObjectType) \
                   and member.type.is_inline():
                    raise QAPIError(self.info, "argument '%s' is an inline "
                                    "struct, which a C function cannot "
                                    "take; name the struct, or use "
                                    "'boxed': true" % member.name)
                if member.ifcond.is_present():
                    raise QAPIError(self.info, "argument '%s' is "
                                    "conditional, which needs 'boxed': "
                                    'true' % member.name)

    def check_doc(self) -> None:
        doc = self.doc
        if doc is not None and not doc.legacy and doc.args \
           and self.arg_type is not None and not self.arg_type.is_implicit():
            raise QAPIError(doc.info, "the doc block describes arguments of "
                            "%s, but they are those of %s and documented "
                            'there' % (self.describe(),
                                       self.arg_type.describe()),
                            with_context=False)
        super().check_doc()

    def _implicit_args(self) -> List[ObjectMember]:
        if self.arg_type is not None and self.arg_type.is_implicit():
            return self.arg_type.local_members
        return []

    def doc_members(self) -> List[str]:
        return [member.name for member in self._implicit_args()]

    def doc_features(self) -> List[str]:
        return super().doc_features() + [
            feat.name for member in self._implicit_args()
            for feat in member.features]


class Command(_Callable):
    meta = 'command'

    def __init__(self, name: str, info: QAPISourceInfo,
                 doc: Optional[QAPIDoc], ifcond: IfCond,
                 features: List[Feature], arg_type: Optional[str],
                 ret_ref: Optional[TypeRef], flags: Dict[str, bool]):
        super().__init__(name, info, doc, ifcond, features, arg_type,
                         flags['boxed'], flags['inline-args'])
        self.ret_ref = ret_ref
        self.ret_type: Optional[Type] = None
        self.gen = flags['gen']
        self.success_response = flags['success-response']
        self.allow_oob = flags['allow-oob']
        self.allow_preconfig = flags['allow-preconfig']
        self.coroutine = flags['coroutine']
        # Its types were never looked at (--compat 2012, 'gen': 'no'):
        # nothing is generated for it, not even introspection.
        self.unchecked = flags['unchecked']

    def _check(self, schema: 'QAPISchema') -> None:
        if self.ret_ref is not None:
            self.ret_type = schema.resolve(self.ret_ref, self.info,
                                           "'returns'")
        self._check_args(schema)
        ret = self.ret_type
        if ret is not None and not schema.compat \
           and not schema.pragmas.allows('command-returns-exceptions',
                                         self.name):
            target = ret.element_type if isinstance(ret, ArrayType) else ret
            if not isinstance(target, ObjectType):
                assert self.ret_ref is not None
                raise QAPIError(
                    self.info, "'returns' must be a struct or union, or a "
                    "list of one, not %s; list the command in pragma "
                    "'command-returns-exceptions' to allow it (--compat "
                    "2012 allows any)"
                    % (ret.describe() if self.ret_ref.element is None
                       else self.ret_ref.written()))

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_command(self)


class Event(_Callable):
    meta = 'event'

    def _check(self, schema: 'QAPISchema') -> None:
        self._check_args(schema)

    def visit(self, visitor: 'SchemaVisitor') -> None:
        visitor.visit_event(self)


class SchemaVisitor:
    """What a backend implements; QAPISchema.visit() calls these for
    every module and entity, ENTITY.visit() the one for ENTITY."""

    def visit_begin(self, schema: 'QAPISchema') -> None:
        pass

    def visit_end(self) -> None:
        pass

    def visit_module(self, module: Module) -> None:
        pass

    def visit_builtin_type(self, entity: BuiltinType) -> None:
        pass

    def visit_enum_type(self, entity: EnumType) -> None:
        pass

    def visit_array_type(self, entity: ArrayType) -> None:
        pass

    def visit_object_type(self, entity: ObjectType) -> None:
        pass

    def visit_alternate_type(self, entity: AlternateType) -> None:
        pass

    def visit_command(self, entity: Command) -> None:
        pass

    def visit_event(self, entity: Event) -> None:
        pass


# The built-in types (§8): name, JSON type, C type.
BUILTINS = (
    ('str', 'string', 'char *'),
    ('number', 'number', 'double'),
    ('int', 'int', 'int64_t'),
    ('int8', 'int', 'int8_t'),
    ('int16', 'int', 'int16_t'),
    ('int32', 'int', 'int32_t'),
    ('int64', 'int', 'int64_t'),
    ('uint8', 'int', 'uint8_t'),
    ('uint16', 'int', 'uint16_t'),
    ('uint32', 'int', 'uint32_t'),
    ('uint64', 'int', 'uint64_t'),
    ('size', 'int', 'uint64_t'),
    ('bool', 'boolean', 'bool'),
    ('any', 'value', 'json_object *'),
    ('null', 'null', 'QapiNull *'),
)
QTYPE_VALUES = ('none', 'qnull', 'qnum', 'qstring', 'qdict', 'qlist',
                'qbool')


# Members of raw expressions, which check.py has shape-checked: these
# say which shape a member has.

def _str(obj: Dict[str, Value], key: str) -> str:
    value = obj[key]
    assert isinstance(value, str)
    return value


def _optional_str(obj: Dict[str, Value], key: str) -> Optional[str]:
    value = obj.get(key)
    assert value is None or isinstance(value, str)
    return value


def _dict(obj: Dict[str, Value], key: str) -> Dict[str, Value]:
    value = obj[key]
    assert isinstance(value, dict)
    return value


def _list(obj: Dict[str, Value], key: str) -> List[Any]:
    """OBJ[KEY], or [] when absent."""
    value = obj.get(key, [])
    assert isinstance(value, list)
    return value


class QAPISchema:
    """The checked model of the schema in file FNAME.  Raises QAPIError
    on the first error, in the order of docs/spec/qapi-language.md §9.1."""

    def __init__(self, fname: str, compat: Optional[str] = None,
                 all_commands: bool = False):
        # --compat 2012 (§11/7): QEMU's 2012 rules.
        self.compat = compat == '2012'
        # --all-commands (§12.1): 'gen': false is generated too.
        self.all_commands = all_commands
        parsed = read_schema(fname, self.compat)
        kinds = check_shapes(parsed)
        self.fname = fname
        self.pragmas: Pragmas = parsed.pragmas
        self.free_docs: List[QAPIDoc] = parsed.free_docs
        self._main_dir = os.path.dirname(os.path.abspath(fname))
        self.entities: List[Entity] = []
        self._by_name: Dict[str, Entity] = {}
        self._c_names: Dict[Tuple[str, str], Entity] = {}
        self.builtin_module = Module('./builtin')
        self.modules: List[Module] = [self.builtin_module]
        self._modules: Dict[str, Module] = {}
        for mod_fname in parsed.modules:
            module = Module(self.module_name(mod_fname),
                            is_main=mod_fname == parsed.modules[0])
            self._modules[os.path.abspath(mod_fname)] = module
            self.modules.append(module)
        for mod_fname, included in parsed.includes.items():
            module = self._modules[os.path.abspath(mod_fname)]
            for inc in included:
                inc_module = self._modules[os.path.abspath(inc)]
                if inc_module not in module.includes:
                    module.includes.append(inc_module)
        self._define_predefined()
        self.definitions: List[Entity] = []
        for top, kind in zip(parsed.definitions, kinds):
            self.definitions.append(getattr(self, '_define_' + kind)(top))
        # Arrays are checked through the references to them, so that an
        # unknown element type is reported with the referring member.
        for entity in self.entities:
            if not isinstance(entity, ArrayType):
                entity.check(self)
                entity.check_doc()
        for entity in self.entities:
            if isinstance(entity, ArrayType):
                entity.check(self)
                assert entity.element_type is not None
                entity.module = entity.element_type.module
                assert entity.module is not None
                entity.module.entities.append(entity)

    def in_output_order(self) -> Iterator[Entity]:
        """Every entity in the order of the generated files (§3.0/3),
        which is QEMU's: module by module (the built-in one, the main
        one, then each in the order of its first inclusion), each
        module's definitions in source order.  ENTITIES is the order of
        the checks instead, where an include's definitions stand at the
        include."""
        for module in self.modules:
            yield from module.entities

    def module_name(self, fname: str) -> str:
        return os.path.relpath(os.path.abspath(fname), self._main_dir)

    # Lookup and resolution

    def lookup_entity(self, name: str) -> Optional[Entity]:
        return self._by_name.get(name)

    def lookup_type(self, name: str) -> Optional[Type]:
        entity = self._by_name.get(name)
        return entity if isinstance(entity, Type) else None

    def resolve(self, ref: TypeRef, info: Optional[QAPISourceInfo],
                role: Union[str, Callable[[], str]],
                allow_implicit: bool = False) -> Type:
        """The type REF names; ROLE says who refers to it, for errors
        (or is a function that says it, called only for an error).
        Schemas cannot name implicit types; ALLOW_IMPLICIT is for the
        references the model itself made up."""
        written = ref.element or ref.name
        found = self._by_name.get(written)
        if not isinstance(found, Type) \
           or found.is_implicit() and not allow_implicit:
            if not isinstance(role, str):
                role = role()
            if isinstance(found, (Command, Event)):
                raise QAPIError(info, "%s refers to %s, which is not a type"
                                % (role, found.describe()))
            hint = ''
            if isinstance(found, ArrayType):
                hint = " (an array type is written ['%s'])" \
                    % found.element_type_name
            raise QAPIError(info, "%s refers to unknown type '%s'%s"
                            % (role, written, hint))
        if ref.element is None:
            return found
        array = self._by_name[ref.name]
        assert isinstance(array, ArrayType)
        array.check(self)
        return array

    # Building (§9.1 step 3)

    def _add(self, entity: Entity, module: Optional[Module]) -> None:
        other = self._by_name.get(entity.name)
        if other is not None:
            if other.info is None:
                raise QAPIError(entity.info, "'%s' is already defined: it "
                                'is predefined' % entity.name)
            raise QAPIError(entity.info, "'%s' is already defined"
                            % entity.name,
                            notes=[(other.info, 'previous definition of '
                                    "'%s'" % entity.name)])
        if isinstance(entity, Command):
            key = ('command', 'qmp_' + entity.c_name())
        elif isinstance(entity, Event):
            key = ('event', 'QAPI_EVENT_' + entity.c_name().upper())
        else:
            key = ('type', c_name(entity.name, False))
        other = self._c_names.get(key)
        if other is not None and other.info is not None:
            raise QAPIError(entity.info, '%s clashes with %s: both are %s in '
                            'C' % (entity.describe(), other.describe(),
                                   key[1]),
                            notes=[(other.info, 'previous definition of '
                                    "'%s'" % other.name)])
        self._c_names[key] = entity
        self._by_name[entity.name] = entity
        self.entities.append(entity)
        entity.module = module
        if module is not None and not isinstance(entity, ArrayType):
            module.entities.append(entity)

    def _module_of(self, info: QAPISourceInfo) -> Module:
        return self._modules[os.path.abspath(info.fname)]

    def _define_predefined(self) -> None:
        module = self.builtin_module
        for name, json_type, c_type in BUILTINS:
            self._add(BuiltinType(name, json_type, c_type), module)
        qtype = EnumType('QType', None, None, IfCond(), [],
                         [EnumMember(value, None, IfCond())
                          for value in QTYPE_VALUES], 'QTYPE')
        self._add(qtype, module)
        self._add(ObjectType('q_empty', None, None, IfCond(), [], None, [],
                             implicit_of='the empty struct'), module)
        for name, _, _ in BUILTINS:
            self._array(name, None)
        self._array('QType', None)

    def _array(self, element: str, info: Optional[QAPISourceInfo]) -> str:
        name = element + 'List'
        if name not in self._by_name:
            self._add(ArrayType(name, info, element), None)
        return name

    def _typeref(self, ref: Value, info: QAPISourceInfo) -> TypeRef:
        if isinstance(ref, list):
            element = ref[0]
            assert isinstance(element, str)
            return TypeRef(self._array(element, info), element)
        assert isinstance(ref, str)
        return TypeRef(ref)

    @staticmethod
    def _ifcond(obj: Dict[str, Value]) -> IfCond:
        cond = obj.get('if')
        assert cond is None or isinstance(cond, (str, dict))
        return IfCond(cond)

    @staticmethod
    def _features(obj: Dict[str, Value],
                  info: QAPISourceInfo) -> List[Feature]:
        result = []
        for feat in _list(obj, 'features'):
            if isinstance(feat, dict):
                result.append(Feature(feat['name'], info,
                                      QAPISchema._ifcond(feat)))
            else:
                result.append(Feature(feat, info, IfCond()))
        return result

    def _members(self, data: Dict[str, Value], info: QAPISourceInfo,
                 owner: str, ifcond: IfCond,
                 inline_in: Optional[Tuple[str, str]] = None
                 ) -> List[ObjectMember]:
        """The members DATA of type OWNER, compiled under IFCOND; for an
        inline struct, INLINE_IN is (root type, C path) of OWNER."""
        members = []
        for key, value in data.items():
            optional = key.startswith('*')
            name = key[1:] if optional else key
            if is_inline_struct(value, self.compat):
                assert isinstance(value, dict)
                members.append(ObjectMember(
                    name, info, IfCond(), [],
                    self._inline_struct(value, info, owner, name, ifcond,
                                        inline_in), optional))
            elif isinstance(value, dict):
                members.append(ObjectMember(
                    name, info, self._ifcond(value),
                    self._features(value, info),
                    self._typeref(value['type'], info), optional))
            else:
                members.append(ObjectMember(name, info, IfCond(), [],
                                            self._typeref(value, info),
                                            optional))
        return members

    def _inline_struct(self, data: Dict[str, Value], info: QAPISourceInfo,
                       owner: str, member: str, ifcond: IfCond,
                       inline_in: Optional[Tuple[str, str]]) -> TypeRef:
        """Define the inline struct DATA, the type of member MEMBER of
        OWNER: 'q_obj_OWNER-MEMBER' (OWNER without its own 'q_obj_')."""
        stem = owner[len('q_obj_'):] if owner.startswith('q_obj_') \
            else owner
        name = 'q_obj_%s-%s' % (stem, member)
        root, path = inline_in or (owner, '')
        where = (root, path + c_name(member))
        members = self._members(data, info, name, ifcond,
                                (root, where[1] + '.'))
        self._add(ObjectType(name, info, None, ifcond, [], None, members,
                             implicit_of="the inline struct of member '%s' of "
                             "'%s'" % (member, owner), inline_in=where),
                  self._module_of(info))
        return TypeRef(name, inline=True)

    def _implicit_struct(self, name: str, info: QAPISourceInfo,
                         ifcond: IfCond, members: List[ObjectMember],
                         what: str, word: Optional[str] = None) -> str:
        self._add(ObjectType(name, info, None, ifcond, [], None, members,
                             implicit_of=what, member_word=word),
                  self._module_of(info))
        return name

    def _define_enum(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        values = []
        for value in _list(expr, 'data'):
            if isinstance(value, dict):
                values.append(EnumMember(value['name'], info,
                                         self._ifcond(value),
                                         self._features(value, info)))
            else:
                values.append(EnumMember(value, info, IfCond()))
        entity = EnumType(_str(expr, 'enum'), info, top.doc,
                          self._ifcond(expr), self._features(expr, info),
                          values, _optional_str(expr, 'prefix'))
        self._add(entity, self._module_of(info))
        return entity

    def _define_struct(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        name = _str(expr, 'struct' if 'struct' in expr else 'type')
        members = self._members(_dict(expr, 'data'), info,
                                name, self._ifcond(expr))
        entity = ObjectType(name, info, top.doc, self._ifcond(expr),
                            self._features(expr, info),
                            _optional_str(expr, 'base'), members)
        self._add(entity, self._module_of(info))
        return entity

    def _define_union(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        name = _str(expr, 'union')
        ifcond = self._ifcond(expr)
        data = _dict(expr, 'data')
        variants = []
        implicit = []
        simple = 'discriminator' not in expr
        if simple:
            kind_values = []
            for branch, value in data.items():
                vcond = self._ifcond(value) if isinstance(value, dict) \
                    else IfCond()
                ref = value['type'] if isinstance(value, dict) else value
                wrapper = 'q_obj_%s-%s-wrapper' % (name, branch)
                implicit.append((wrapper, [ObjectMember(
                    'data', info, IfCond(), [], self._typeref(ref, info),
                    False, role="branch '%s'" % branch)],
                                 "the wrapper of branch '%s' of union '%s'"
                                 % (branch, name)))
                variants.append(Variant(branch, info, TypeRef(wrapper),
                                        vcond))
                kind_values.append(EnumMember(branch, info, vcond))
            kind = EnumType(name + 'Kind', info, None, ifcond, [],
                            kind_values, None)
            base: str = 'q_obj_%s-base' % name
            base_members = [ObjectMember('type', info, IfCond(), [],
                                         TypeRef(kind.name), False)]
            tag = 'type'
        else:
            for branch, value in data.items():
                vcond = self._ifcond(value) if isinstance(value, dict) \
                    else IfCond()
                ref = value['type'] if isinstance(value, dict) else value
                variants.append(Variant(branch, info,
                                        self._typeref(ref, info), vcond))
            raw_base = expr['base']
            if isinstance(raw_base, dict):
                base = 'q_obj_%s-base' % name
                base_members = self._members(raw_base, info, base, ifcond)
            else:
                assert isinstance(raw_base, str)
                base = raw_base
                base_members = []
            tag = _str(expr, 'discriminator')
        entity = UnionType(name, info, top.doc, ifcond,
                           self._features(expr, info), base, tag, variants,
                           simple, base.startswith('q_obj_'))
        self._add(entity, self._module_of(info))
        if simple:
            self._add(kind, self._module_of(info))
        if base.startswith('q_obj_'):
            self._implicit_struct(base, info, ifcond, base_members,
                                  "the base of union '%s'" % name)
        for wrapper, members, what in implicit:
            self._implicit_struct(wrapper, info, ifcond, members, what)
        return entity

    def _define_alternate(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        variants = []
        for branch, value in _dict(expr, 'data').items():
            vcond = self._ifcond(value) if isinstance(value, dict) \
                else IfCond()
            ref = value['type'] if isinstance(value, dict) else value
            variants.append(Variant(branch, info, self._typeref(ref, info),
                                    vcond))
        entity = AlternateType(_str(expr, 'alternate'), info,
                               top.doc, self._ifcond(expr),
                               self._features(expr, info), variants)
        self._add(entity, self._module_of(info))
        return entity

    def _args(self, top: TopExpr,
              name: str) -> Tuple[Optional[str], Optional[List[ObjectMember]]]:
        data = top.expr.get('data')
        if isinstance(data, dict):
            if not data:
                return None, None
            arg_name = 'q_obj_%s-arg' % name
            return arg_name, self._members(data, top.info, arg_name,
                                           self._ifcond(top.expr))
        assert data is None or isinstance(data, str)
        return data, None

    def _define_command(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        name = _str(expr, 'command')
        # --compat 2012: a command with 'gen': 'no' is not type-checked;
        # its types may not exist (§11/7).  The model keeps its name only.
        unchecked = self.compat and 'gen' in expr
        arg_name, arg_members = (None, None) if unchecked \
            else self._args(top, name)
        flags = {
            'boxed': expr.get('boxed') is True,
            'gen': ('gen' not in expr
                    or (self.all_commands and not unchecked)),
            'success-response': 'success-response' not in expr,
            'allow-oob': expr.get('allow-oob') is True,
            'allow-preconfig': expr.get('allow-preconfig') is True,
            'coroutine': expr.get('coroutine') is True,
            'inline-args': arg_members is not None,
            'unchecked': unchecked,
        }
        ret = None if unchecked else expr.get('returns')
        ret_ref = self._typeref(ret, info) if ret is not None else None
        ifcond = self._ifcond(expr)
        entity = Command(name, info, top.doc, ifcond,
                         self._features(expr, info), arg_name, ret_ref, flags)
        self._add(entity, self._module_of(info))
        if arg_members is not None:
            assert arg_name is not None
            self._implicit_struct(arg_name, info, ifcond, arg_members,
                                  "command '%s'" % name, 'argument')
        return entity

    def _define_event(self, top: TopExpr) -> Entity:
        expr, info = top.expr, top.info
        name = _str(expr, 'event')
        arg_name, arg_members = self._args(top, name)
        ifcond = self._ifcond(expr)
        entity = Event(name, info, top.doc, ifcond,
                       self._features(expr, info), arg_name,
                       expr.get('boxed') is True, arg_members is not None)
        self._add(entity, self._module_of(info))
        if arg_members is not None:
            assert arg_name is not None
            self._implicit_struct(arg_name, info, ifcond, arg_members,
                                  "event '%s'" % name, 'argument')
        return entity

    # Walking

    def visit(self, visitor: SchemaVisitor) -> None:
        visitor.visit_begin(self)
        for module in self.modules:       # as in_output_order()
            visitor.visit_module(module)
            for entity in module.entities:
                entity.visit(visitor)
        visitor.visit_end()
