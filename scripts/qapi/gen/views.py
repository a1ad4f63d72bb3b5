# SPDX-License-Identifier: MIT
"""Views: what the templates print of an entity, computed once in
Python, so that templates look up attributes instead of calling helpers
from Jinja, whose per-call cost dominated the rendering time.  Views
hold names and C fragments only; the shape of the C is in the
templates.

SchemaEntities walks the schema once (a SchemaVisitor) and sorts each
module's entities by what its files do with them; ModuleView makes the
views of one module from them."""

from typing import Dict, List, Optional, Sequence, Tuple, Union

from ..common import c_name
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      EnumType, Event, Feature, IfCond, Module, ObjectMember,
                      ObjectType, QAPISchema, SchemaVisitor, Type, UnionType,
                      Variant, special_mask)
from . import callables, ctypes


def feature_mask(features: List[Feature]) -> str:
    """The C mask of the special features among FEATURES, or ''."""
    if not features:
        return ''
    return ' | '.join('1u << QAPI_%s' % name.upper()
                      for name in special_mask(features))


class MemberView:
    """What the templates print of an object member.  ACCESS is the
    member in C ('obj->x', or 'obj->dict.x' in an inline struct, whose
    visitors take the pointer to the named type holding it); REF is what
    its visit function takes: '&obj->x', or 'obj' when the member is
    itself an inline struct, whose view is then INLINE."""
    __slots__ = ('name', 'cname', 'optional', 'flag', 'field_decl', 'visit',
                 'mask', 'ifcond', 'access', 'ref', 'presence', 'pad',
                 'inner_pad', 'inline')

    def __init__(self, member: ObjectMember, views: 'Views'):
        mtype = member.type
        assert mtype is not None
        self.name = member.name
        self.cname = views.c_name(member.name)
        self.optional = member.optional
        c_type, self.visit, flagged = views.type_c(mtype)
        self.flag = member.optional and flagged
        self.field_decl = ctypes.decl(c_type, self.cname)
        self.mask = feature_mask(member.features)
        self.ifcond = member.ifcond
        owner = member.owner
        path = 'obj->'
        if isinstance(owner, ObjectType) and owner.is_inline():
            path += owner.inline_path + '.'
        self.access = path + self.cname
        self.inline: Optional['TypeView'] = None
        if isinstance(mtype, ObjectType) and mtype.is_inline():
            self.inline = views.type(mtype)
            self.ref = 'obj'
        else:
            self.ref = '&' + self.access
        self.presence = (path + 'has_' if self.flag else 'has_') + self.cname
        self.pad = '    ' * (2 if member.optional else 1)
        self.inner_pad = self.pad + ('    ' if self.mask else '')


class EnumValueView:
    """An enum value: its name, C constant, condition and the mask of
    its special features ('' for none)."""
    __slots__ = ('name', 'const', 'ifcond', 'mask')

    def __init__(self, name: str, const: str, ifcond: IfCond, mask: str):
        self.name = name
        self.const = const
        self.ifcond = ifcond
        self.mask = mask


class VariantView:
    """A union or alternate branch."""
    __slots__ = ('name', 'cname', 'ifcond', 'const', 'tn', 'has_fields',
                 'field_decl', 'qtype', 'is_object', 'visit')

    def __init__(self, variant: Variant, tag_type: Optional[EnumType]):
        vtype = variant.type
        assert vtype is not None
        self.name = variant.name
        self.cname = c_name(variant.name)
        self.ifcond = variant.ifcond
        self.tn = ctypes.type_name(vtype)
        self.visit = ctypes.visit_fn(vtype)
        self.is_object = isinstance(vtype, ObjectType)
        self.has_fields = ctypes.has_fields(vtype)
        if tag_type is not None:        # a union's
            self.const = tag_type.const(variant.name)
            self.qtype = ''
            self.field_decl = self.tn + ' ' + self.cname
        else:                           # an alternate's: objects by value
            self.const = ''
            self.qtype = ctypes.alternate_qtype(vtype)
            self.field_decl = (self.tn + ' ' + self.cname if self.is_object
                               else ctypes.decl(ctypes.c_type(vtype),
                                                self.cname))


class TypeView:
    """A type the templates define or visit.  KIND is 'enum', 'array',
    'struct' (a struct or an implicit q_obj_* type), 'union' or
    'alternate'; the attributes of other kinds are empty."""
    __slots__ = ('kind', 'name', 'tn', 'ifcond', 'public', 'has_members_fn',
                 'values', 'masked', 'max', 'element_decl', 'element_visit',
                 'members', 'local_members', 'flagless', 'base_tn',
                 'base_public', 'tag_name', 'tag_cname', 'variants',
                 'branches', 'empty', 'members_may_vanish', 'root_tn',
                 'inlines')

    def __init__(self, entity: Type, views: 'Views'):
        self.name = entity.name
        self.tn = ctypes.type_name(entity)
        self.ifcond = entity.ifcond
        # A public type has a free function and a visit_type_T().
        self.public = not entity.is_implicit() or isinstance(entity,
                                                            ArrayType)
        self.has_members_fn = isinstance(entity, ObjectType)
        self.values: List[EnumValueView] = []
        self.masked: List[EnumValueView] = []
        self.max = ''
        self.element_decl = self.element_visit = ''
        self.members: List[MemberView] = []
        self.local_members: List[MemberView] = []
        self.flagless: List[MemberView] = []
        self.base_tn = ''
        self.base_public = False
        self.tag_name = self.tag_cname = ''
        self.variants: List[VariantView] = []
        self.branches: List[VariantView] = []
        self.empty = False
        # An inline struct: the C type of the named struct holding it,
        # whose pointer its visitors take.  Any struct: its inline
        # structs, innermost first, whose visitors come before its own.
        self.root_tn = ''
        self.inlines: List[TypeView] = []
        # A struct's _members visitor may use none of its parameters: no
        # base, no variants, and no member that is always compiled in.
        self.members_may_vanish = False
        if isinstance(entity, EnumType):
            self.kind = 'enum'
            self.values = [EnumValueView(value.name, entity.const(value.name),
                                         value.ifcond,
                                         feature_mask(value.features))
                           for value in entity.members]
            self.masked = [value for value in self.values if value.mask]
            self.max = entity.const('_MAX')
        elif isinstance(entity, ArrayType):
            self.kind = 'array'
            element = entity.element_type
            assert element is not None
            self.element_decl = ctypes.decl(ctypes.c_type(element), 'value')
            self.element_visit = ctypes.visit_fn(element)
        elif isinstance(entity, AlternateType):
            self.kind = 'alternate'
            self.variants = [VariantView(v, None) for v in entity.variants]
        else:
            assert isinstance(entity, ObjectType)
            self.kind = 'union' if isinstance(entity, UnionType) else 'struct'
            self.members = views.members(entity.members)
            self.local_members = views.members(entity.local_members)
            self.flagless = [view for view in self.local_members
                             if view.optional and not view.flag]
            if entity.is_inline():
                self.root_tn = c_name(entity.inline_root, False)
            for view in self.local_members:
                if view.inline is not None:
                    self.inlines += view.inline.inlines + [view.inline]
            if entity.base is not None:
                self.base_tn = ctypes.type_name(entity.base)
                self.base_public = not entity.base.is_implicit()
            if isinstance(entity, UnionType):
                tag = entity.tag_member
                assert tag is not None and isinstance(tag.type, EnumType)
                self.tag_name = tag.name
                self.tag_cname = tag.c_name()
                self.variants = [VariantView(v, tag.type)
                                 for v in entity.variants]
                self.branches = [v for v in self.variants if v.has_fields]
            self.empty = not entity.members and not self.branches
            self.members_may_vanish = (
                self.kind == 'struct' and not self.base_tn
                and all(view.ifcond.is_present()
                        for view in self.local_members))


class CallableView:
    """A command or event, as its handler, marshaller or send function
    declares and calls it."""
    __slots__ = ('name', 'cname', 'ifcond', 'params', 'arg_tn', 'boxed',
                 'call_args', 'field_inits', 'mask', 'ret_decl', 'ret_tn',
                 'handler_ret', 'options', 'send', 'event_const')

    def __init__(self, entity: Union[Command, Event], upper_prefix: str):
        self.name = entity.name
        self.cname = entity.c_name()
        self.ifcond = entity.ifcond
        self.params = callables.params(entity)
        self.arg_tn = (ctypes.type_name(entity.arg_type)
                       if entity.arg_type is not None else '')
        self.boxed = entity.boxed
        self.call_args = callables.call_args(entity, 'arg')
        self.field_inits = callables.field_inits(entity)
        self.mask = feature_mask(entity.features)
        self.send = 'qapi_event_send_' + c_name(entity.name).lower()
        self.event_const = '%sQAPI_EVENT_%s' % (
            upper_prefix, c_name(entity.name, False).upper())
        ret = entity.ret_type if isinstance(entity, Command) else None
        self.ret_decl = ctypes.decl(ctypes.c_type(ret), 'retval') \
            if ret is not None else ''
        self.ret_tn = ctypes.type_name(ret) if ret is not None else ''
        self.handler_ret = _handler_ret(ret)
        self.options = (_command_options(entity)
                        if isinstance(entity, Command) else '')


class OutputTypeView:
    """A command's return type, which gets a qmp_marshal_output_T()."""
    __slots__ = ('tn', 'ifcond', 'decl', 'visit')

    def __init__(self, entity: Type):
        self.tn = ctypes.type_name(entity)
        self.ifcond = entity.ifcond
        self.decl = ctypes.decl(ctypes.c_type(entity), 'ret_in')
        self.visit = ctypes.visit_fn(entity)


class Views:
    """The views of one generate() call, each made on first use."""

    def __init__(self, upper_prefix: str) -> None:
        self.upper_prefix = upper_prefix
        self.member_cache: Dict[int, MemberView] = {}
        self.type_cache: Dict[int, TypeView] = {}
        self.callable_cache: Dict[int, CallableView] = {}
        self.c_names: Dict[str, str] = {}
        self.type_c_cache: Dict[int, Tuple[str, str, bool]] = {}

    def c_name(self, name: str) -> str:
        """common.c_name(NAME), computed once per name."""
        result = self.c_names.get(name)
        if result is None:
            result = self.c_names[name] = c_name(name)
        return result

    def type_c(self, entity: Type) -> Tuple[str, str, bool]:
        """ENTITY's C type, its visit function, and whether an optional
        member of the type has a has_ flag (ctypes.needs_flag())."""
        result = self.type_c_cache.get(id(entity))
        if result is None:
            result = self.type_c_cache[id(entity)] = (
                ctypes.c_type(entity), ctypes.visit_fn(entity),
                not ctypes.is_pointer(entity)
                or isinstance(entity, ArrayType))
        return result

    def members(self, members: List[ObjectMember]) -> List[MemberView]:
        cache = self.member_cache
        result = []
        for member in members:
            view = cache.get(id(member))
            if view is None:
                view = cache[id(member)] = MemberView(member, self)
            result.append(view)
        return result

    def type(self, entity: Type) -> TypeView:
        view = self.type_cache.get(id(entity))
        if view is None:
            view = self.type_cache[id(entity)] = TypeView(entity, self)
        return view

    def types(self, entities: Sequence[Type]) -> List[TypeView]:
        return [self.type(e) for e in entities]

    def callables(self, entities: Sequence[Union[Command, Event]]
                  ) -> List[CallableView]:
        result = []
        for entity in entities:
            view = self.callable_cache.get(id(entity))
            if view is None:
                view = self.callable_cache[id(entity)] = \
                    CallableView(entity, self.upper_prefix)
            result.append(view)
        return result


def _by_value_deps(entity: Type) -> List[Type]:
    """Types whose complete definition ENTITY's C struct needs."""
    if isinstance(entity, UnionType):
        return [v.type for v in entity.variants
                if v.type is not None and ctypes.has_fields(v.type)]
    if isinstance(entity, AlternateType):
        return [v.type for v in entity.variants
                if isinstance(v.type, ObjectType)]
    return []


def _definition_order(entities: Sequence[Type]) -> List[Type]:
    """ENTITIES in definition order, moved only where C needs a type
    defined before a struct that holds it by value."""
    present = {id(e) for e in entities}
    done: Dict[int, bool] = {}
    result: List[Type] = []

    def place(entity: Type) -> None:
        if id(entity) in done:
            return
        done[id(entity)] = True
        for dep in _by_value_deps(entity):
            if id(dep) in present:
                place(dep)
        result.append(entity)

    for entity in entities:
        place(entity)
    return result


# A type with a C struct or typedef of its own.
Compound = Union[ObjectType, AlternateType, ArrayType]


class ModuleEntities:
    """The entities of one module, sorted by what its C files do with
    them, each list in definition order."""
    __slots__ = ('module', 'enums', 'compound', 'visited', 'commands',
                 'events', 'weight')

    def __init__(self, module: Module) -> None:
        self.module = module
        self.enums: List[EnumType] = []
        # Inline structs are not among them: their parents hold them.
        self.compound: List[Compound] = []
        self.visited: List[Type] = []       # enums and compound types
        self.commands: List[Command] = []   # those generated ('gen')
        self.events: List[Event] = []
        # About how long the module's files take to render, in members.
        self.weight = 0


class SchemaEntities(SchemaVisitor):
    """Every module's entities (MODULES, in output order), sorted in
    one walk of SCHEMA."""

    def __init__(self, schema: QAPISchema) -> None:
        self.modules: List[ModuleEntities] = []
        schema.visit(self)

    def visit_module(self, module: Module) -> None:
        self.modules.append(ModuleEntities(module))

    def visit_builtin_type(self, entity: BuiltinType) -> None:
        self.modules[-1].weight += 1

    def visit_enum_type(self, entity: EnumType) -> None:
        current = self.modules[-1]
        current.enums.append(entity)
        current.visited.append(entity)
        current.weight += 1 + len(entity.members)

    def visit_array_type(self, entity: ArrayType) -> None:
        self._compound(entity, 1)

    def visit_object_type(self, entity: ObjectType) -> None:
        weight = 1 + len(entity.members)
        if entity.name == 'q_empty' or entity.is_inline():
            self.modules[-1].weight += weight
        else:
            self._compound(entity, weight)

    def visit_alternate_type(self, entity: AlternateType) -> None:
        self._compound(entity, 1)

    def _compound(self, entity: Compound, weight: int) -> None:
        current = self.modules[-1]
        current.compound.append(entity)
        current.visited.append(entity)
        current.weight += weight

    def visit_command(self, entity: Command) -> None:
        current = self.modules[-1]
        if entity.gen:
            current.commands.append(entity)
        current.weight += 1

    def visit_event(self, entity: Event) -> None:
        current = self.modules[-1]
        current.events.append(entity)
        current.weight += 1


class ModuleView:
    """What the per-module templates get for one module."""

    def __init__(self, entities: ModuleEntities, prefix: str, views: Views):
        self.module = entities.module
        self.prefix = prefix
        self.enums = views.types(entities.enums)
        compound = entities.compound
        self.structs = views.types(_definition_order(compound))
        self.typedefs = views.types(compound)
        self.freeable = views.types(
            [e for e in compound
             if isinstance(e, ArrayType) or not e.is_implicit()])
        self.visited = views.types(entities.visited)
        self.commands = views.callables(entities.commands)
        self.events = views.callables(entities.events)
        outputs: Dict[str, Type] = {}
        for cmd in entities.commands:
            if cmd.ret_type is not None:
                outputs.setdefault(ctypes.type_name(cmd.ret_type),
                                   cmd.ret_type)
        self.output_types = [OutputTypeView(t) for t in outputs.values()]

    def path(self, family: str) -> str:
        return ctypes.module_files(self.module, family, self.prefix)


def _handler_ret(ret_type: Optional[Type]) -> str:
    ret = ctypes.c_type(ret_type) if ret_type else 'bool'
    return ret if ret.endswith('*') else ret + ' '


def _command_options(cmd: Command) -> str:
    options = [name for name, on in (
        ('QCO_NO_SUCCESS_RESP', not cmd.success_response),
        ('QCO_ALLOW_OOB', cmd.allow_oob),
        ('QCO_ALLOW_PRECONFIG', cmd.allow_preconfig),
        ('QCO_COROUTINE', cmd.coroutine)) if on]
    return ' | '.join(options) or 'QCO_NO_OPTIONS'
