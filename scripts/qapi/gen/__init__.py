"""The C backends: render every output file of qapi-language.md §12.2.

generate() renders each module's files from the Jinja2 templates in
scripts/qapi/templates/ and returns them, unwritten; main.py writes them
once everything rendered (gen/output.py).
"""

import os
from typing import Any, Dict, List, Sequence

import jinja2

from ..common import c_name
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      ObjectMember,
                      Entity, EnumType, Event, Feature, Module, ObjectType,
                      QAPISchema, Type, UnionType, Variant, special_mask)
from . import callables, ctypes, introspect
from .output import OutputFiles

# Must equal QAPIKIT_GEN_ABI in qapi/include/qapikit/base.h.
GEN_ABI = 1

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'templates')


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        auto_reload=False)
    env.filters['wrap'] = ctypes.wrap
    helpers: Dict[str, Any] = {
        'c_name': c_name,
        'type_name': ctypes.type_name,
        'c_type': ctypes.c_type,
        'decl': ctypes.decl,
        'needs_flag': ctypes.needs_flag,
        'visit_fn': ctypes.visit_fn,
        'has_fields': ctypes.has_fields,
        'alternate_qtype': ctypes.alternate_qtype,
        'is_array': lambda t: isinstance(t, ArrayType),
        'is_enum': lambda t: isinstance(t, EnumType),
        'is_alternate': lambda t: isinstance(t, AlternateType),
        'is_union': lambda t: isinstance(t, UnionType),
        'is_object': lambda t: isinstance(t, ObjectType),
        'branches_with_fields': _branches_with_fields,
        'branch_decl': _branch_decl,
        'feature_mask': feature_mask,
        'enum_masks': _enum_masks,
        'has_members_fn': lambda t: isinstance(t, ObjectType),
        'module_label': _module_label,
        'abi': GEN_ABI,
        'signature': signature,
    }
    env.globals.update(helpers)
    return env


def signature(head: str, params: List[str], tail: str = '') -> str:
    """HEAD(PARAMS)TAIL within 80 columns: the parameters wrapped and
    aligned after the parenthesis, or, when HEAD is too long for that,
    on the following lines indented by four."""
    line = head + '(' + ', '.join(params) + ')' + tail
    if len(line) <= 80:
        return line
    if len(head) < 40:
        first, indent = head + '(', ' ' * (len(head) + 1)
    else:
        first, indent = head + '(\n    ', '    '
    lines: List[str] = []
    current = first + params[0]
    for param in params[1:]:
        room = 80 - (len(tail) + 1 if param is params[-1] else 0)
        if len(current.split('\n')[-1]) + len(param) + 2 > room:
            lines.append(current + ',')
            current = indent + param
        else:
            current += ', ' + param
    lines.append(current + ')' + tail)
    return '\n'.join(lines)


def _module_label(module: Module) -> str:
    if module.is_builtin():
        return 'the built-in module'
    return 'module %s' % module.name


def feature_mask(features: List[Feature]) -> str:
    """The C mask of the special features among FEATURES, or ''."""
    if not features:
        return ''
    return ' | '.join('1u << QAPI_%s' % name.upper()
                      for name in special_mask(features))


def _enum_masks(enum: EnumType) -> List[Any]:
    masks = [(value, feature_mask(value.features)) for value in enum.members]
    return [(value, mask) for value, mask in masks if mask]


def _branches_with_fields(union: UnionType) -> List[Variant]:
    return [v for v in union.variants if ctypes.has_fields(v.type)]


def _branch_decl(variant: Variant) -> str:
    """An alternate branch's field: objects by value, others as in §8."""
    assert variant.type is not None
    name = c_name(variant.name)
    if isinstance(variant.type, ObjectType):
        return '%s %s' % (ctypes.type_name(variant.type), name)
    return ctypes.decl(ctypes.c_type(variant.type), name)


class MemberView:
    """What the templates print of an object member, computed once:
    templates look up attributes instead of calling helpers per use."""
    __slots__ = ('name', 'cname', 'optional', 'flag', 'field_decl', 'visit',
                 'mask', 'ifcond', 'presence', 'pad', 'inner_pad')

    def __init__(self, member: ObjectMember):
        assert member.type is not None
        self.name = member.name
        self.cname = member.c_name()
        self.optional = member.optional
        self.flag = ctypes.needs_flag(member)
        self.field_decl = ctypes.decl(ctypes.c_type(member.type), self.cname)
        self.visit = ctypes.visit_fn(member.type)
        self.mask = feature_mask(member.features)
        self.ifcond = member.ifcond
        self.presence = ('obj->has_' if self.flag else 'has_') + self.cname
        self.pad = '    ' * (2 if member.optional else 1)
        self.inner_pad = self.pad + ('    ' if self.mask else '')


class _Views:
    """MemberViews of each object type, made on first use."""

    def __init__(self) -> None:
        self.cache: Dict[int, MemberView] = {}

    def of(self, members: List[ObjectMember]) -> List[MemberView]:
        result = []
        for member in members:
            view = self.cache.get(id(member))
            if view is None:
                view = self.cache[id(member)] = MemberView(member)
            result.append(view)
        return result


def _by_value_deps(entity: Entity) -> List[Entity]:
    """Types whose complete definition ENTITY's C struct needs."""
    if isinstance(entity, UnionType):
        return [v.type for v in entity.variants
                if v.type is not None and ctypes.has_fields(v.type)]
    if isinstance(entity, AlternateType):
        return [v.type for v in entity.variants
                if isinstance(v.type, ObjectType)]
    return []


def _definition_order(entities: Sequence[Entity]) -> List[Entity]:
    """ENTITIES in definition order, moved only where C needs a type
    defined before a struct that holds it by value."""
    present = {id(e) for e in entities}
    done: Dict[int, bool] = {}
    result: List[Entity] = []

    def place(entity: Entity) -> None:
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


class _ModuleView:
    """What the per-module templates get for one module."""

    def __init__(self, module: Module, prefix: str):
        self.module = module
        self.prefix = prefix
        entities = [e for e in module.entities
                    if not isinstance(e, BuiltinType)]
        self.enums = [e for e in entities if isinstance(e, EnumType)]
        compound = [e for e in entities
                    if isinstance(e, (ObjectType, AlternateType, ArrayType))
                    and e.name != 'q_empty']
        self.structs = _definition_order(compound)
        self.typedefs = compound
        self.freeable = [e for e in compound
                         if isinstance(e, ArrayType) or not e.is_implicit()]
        self.visited = [e for e in entities
                        if isinstance(e, (EnumType, ObjectType,
                                          AlternateType, ArrayType))
                        and e.name != 'q_empty']
        self.commands = [e for e in entities
                         if isinstance(e, Command) and e.gen]
        self.events = [e for e in entities if isinstance(e, Event)]
        outputs: Dict[str, Type] = {}
        for cmd in self.commands:
            if cmd.ret_type is not None:
                outputs.setdefault(_output_name(cmd.ret_type), cmd.ret_type)
        self.output_types = list(outputs.values())

    def path(self, family: str) -> str:
        return ctypes.module_files(self.module, family, self.prefix)


def _output_name(entity: Type) -> str:
    return ctypes.type_name(entity)


def _handler_ret(cmd: Command) -> str:
    ret = ctypes.c_type(cmd.ret_type) if cmd.ret_type else 'bool'
    return ret if ret.endswith('*') else ret + ' '


def _command_options(cmd: Command) -> str:
    options = [name for name, on in (
        ('QCO_NO_SUCCESS_RESP', not cmd.success_response),
        ('QCO_ALLOW_OOB', cmd.allow_oob),
        ('QCO_ALLOW_PRECONFIG', cmd.allow_preconfig),
        ('QCO_COROUTINE', cmd.coroutine)) if on]
    return ' | '.join(options) or 'QCO_NO_OPTIONS'


def generate(schema: QAPISchema, prefix: str = '', builtins: bool = False,
             mask: bool = False) -> OutputFiles:
    """Render every file for SCHEMA (qapi-language.md §12.2)."""
    env = _environment()
    views = _Views()
    env.globals.update({
        'all_members': lambda t: views.of(t.members),
        'local_members': lambda t: views.of(t.local_members),
        'flagless_optionals': lambda t: [
            view for view in views.of(t.local_members)
            if view.optional and not view.flag],
    })
    c_prefix = c_name(prefix, False)
    upper_prefix = c_prefix.upper()
    files = OutputFiles()
    common = {
        'api': 'QAPIKIT_API ' if builtins else '',
        'c_prefix': c_prefix, 'upper_prefix': upper_prefix,
        'event_const': lambda e: '%sQAPI_EVENT_%s' % (
            upper_prefix, c_name(e.name, False).upper()),
    }

    def render(template: str, path: str, **context: Any) -> None:
        files.add(path, env.get_template(template).render(
            guard=ctypes.header_guard(path), **common, **context))

    main = next(m for m in schema.modules if m.is_main)
    for module in schema.modules:
        if module.is_builtin() and not builtins:
            continue
        view = _ModuleView(module, prefix)
        families = ['types', 'visit']
        if not module.is_builtin():
            families += ['commands', 'events']
        paths = {family: view.path(family) for family in families}
        for family in families:
            base = paths[family]

            def rel(path: str, base: str = base) -> str:
                return ctypes.include_path(base, path)

            includes = [rel(ctypes.module_files(inc, family, prefix) + '.h')
                        for inc in module.includes]
            context = {
                'module': module, 'includes': includes,
                'enums': view.enums, 'structs': view.structs,
                'typedefs': view.typedefs, 'freeable': view.freeable,
                'visited': view.visited, 'commands': view.commands,
                'events': view.events, 'output_types': view.output_types,
                'output_name': _output_name, 'handler_ret': _handler_ret,
                'params': callables.params,
                'call_args': callables.call_args,
                'field_inits': callables.field_inits,
            }
            for name in ('types', 'visit', 'commands', 'events'):
                if name in paths:
                    context[name + '_h'] = rel(paths[name] + '.h')
            context['emit_h'] = rel(prefix + 'qapi-emit-events.h')
            for ext in ('h', 'c'):
                render('%s.%s.j2' % (family, ext), '%s.%s' % (base, ext),
                       **context)

    commands = [e for e in schema.entities
                if isinstance(e, Command) and e.gen]
    events = [e for e in schema.entities if isinstance(e, Event)]
    init = prefix + 'qapi-init-commands'
    emit = prefix + 'qapi-emit-events'
    intro = prefix + 'qapi-introspect'
    schema_wide = {
        'module': main, 'all_commands': commands, 'all_events': events,
        'command_options': _command_options,
        'init_h': init + '.h', 'emit_h': emit + '.h',
        'introspect_h': intro + '.h',
        'commands_h': ctypes.module_files(main, 'commands', prefix) + '.h',
    }
    for ext in ('h', 'c'):
        render('init-commands.%s.j2' % ext, '%s.%s' % (init, ext),
               **schema_wide)
        render('emit-events.%s.j2' % ext, '%s.%s' % (emit, ext),
               **schema_wide)
    qlit = introspect.render(introspect.Introspection(schema, mask))
    for ext in ('h', 'c'):
        render('introspect.%s.j2' % ext, '%s.%s' % (intro, ext),
               qlit=qlit, **schema_wide)
    return files
