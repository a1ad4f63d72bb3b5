# SPDX-License-Identifier: MIT
"""The C backends: render every output file of docs/spec/qapi-language.md §12.2.

generate() renders each module's files from the Jinja2 templates in
scripts/qapi/templates/ and returns them, unwritten; main.py writes them
once everything rendered (gen/output.py).

Templates get views (the classes *View below): what they print of an
entity, computed once in Python, so that templates look up attributes
instead of calling helpers from Jinja, whose per-call cost dominated the
rendering time.  Views hold names and C fragments only; the shape of the
C is in the templates.
"""

import hashlib
import os
import pickle
import traceback
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import jinja2
import jinja2.bccache

from ..common import c_name
from ..schema import (AlternateType, ArrayType, BuiltinType, Command,
                      ObjectMember,
                      Entity, EnumType, Event, Feature, IfCond, Module,
                      ObjectType, QAPISchema, Type, UnionType, Variant,
                      special_mask)
from . import callables, ctypes, introspect
from .output import OutputFiles

# Must equal QAPIKIT_GEN_ABI in qapi/include/qapikit/base.h.
GEN_ABI = 1

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'templates')


class _Environment(jinja2.Environment):
    """Templates read attributes of views and entities only: 'x.y' is
    getattr(x, 'y') (an unknown attribute is an error), without Jinja's
    fallback to x['y'] and its cost on every lookup."""

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.getattr = getattr      # type: ignore[method-assign]


class _BytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs: loading one takes a tenth of
    the time of compiling it.  Jinja checks each entry against the
    template's source and the Python version.  One entry per template
    name, whichever copy of the generator wrote it (so the cache does
    not grow with every installed copy; another copy's entry is
    replaced).  A cache that cannot be read or written works as no
    cache."""

    def get_cache_key(self, name: str,
                      filename: Optional[str] = None) -> str:
        return hashlib.sha1(name.encode('utf-8')).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache() -> Optional[jinja2.BytecodeCache]:
    """The cache of compiled templates: in the user's cache directory
    ($XDG_CACHE_HOME/qapikit/templates, by default under ~/.cache),
    never in the source tree; None when there is no such directory."""
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
        os.path.expanduser('~'), '.cache')
    if not os.path.isabs(base):
        return None                 # no home, or a relative path
    directory = os.path.join(base, 'qapikit', 'templates')
    package = os.path.dirname(TEMPLATES)
    if os.path.commonpath([directory, package]) == package:
        return None
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return _BytecodeCache(directory)


def _environment() -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined, autoescape=False,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        auto_reload=False, cache_size=-1, bytecode_cache=_bytecode_cache())
    env.filters['wrap'] = ctypes.wrap
    env.filters['signature'] = signature_lines
    env.globals.update({
        'module_label': _module_label,
        'abi': GEN_ABI,
    })
    return env


def signature(head: str, params: List[str], tail: str = '') -> str:
    """HEAD(PARAMS)TAIL within 80 columns: the parameters wrapped and
    aligned after the parenthesis, or, when HEAD is too long for that,
    on the following lines indented by four."""
    line = head + '(' + ', '.join(params) + ')' + tail
    if len(line) <= 80:
        return line
    return _wrap_params(head, params, tail)


def _wrap_params(head: str, params: List[str], tail: str) -> str:
    """signature() for a line too long."""
    if len(head) < 40:
        current, indent = head + '(' + params[0], ' ' * (len(head) + 1)
        width = len(current)            # of the last line
    else:
        current, indent = head + '(\n    ' + params[0], '    '
        width = 4 + len(params[0])
    lines: List[str] = []
    last = len(params) - 1
    for i in range(1, last + 1):
        param = params[i]
        room = 80 - len(tail) - 1 if i == last else 80
        if width + len(param) + 2 > room:
            lines.append(current + ',')
            current = indent + param
            width = len(current)
        else:
            current += ', ' + param
            width += len(param) + 2
    lines.append(current + ')' + tail)
    return '\n'.join(lines)


def signature_lines(text: str) -> str:
    """The 'signature' filter: each line of TEXT, a function declaration,
    definition head or call 'HEAD(PARAM, ...)TAIL' written on one line,
    wrapped within 80 columns by signature()."""
    if len(text) <= 80 or len(text) == 81 and text[80] == '\n':
        return text                     # (one line that fits)
    out = []
    for line in text.split('\n'):
        if len(line) <= 80:
            out.append(line)
            continue
        open_paren = line.index('(')
        close_paren = line.rindex(')')
        inner = line[open_paren + 1:close_paren]
        out.append(_wrap_params(line[:open_paren],
                                inner.split(', ') if inner else [],
                                line[close_paren + 1:]))
    return '\n'.join(out)


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


class MemberView:
    """What the templates print of an object member.  ACCESS is the
    member in C ('obj->x', or 'obj->dict.x' in an inline struct, whose
    visitors take the pointer to the named type holding it); REF is what
    its visit function takes: '&obj->x', or 'obj' when the member is
    itself an inline struct, whose view is then INLINE."""
    __slots__ = ('name', 'cname', 'optional', 'flag', 'field_decl', 'visit',
                 'mask', 'ifcond', 'access', 'ref', 'presence', 'pad',
                 'inner_pad', 'inline')

    def __init__(self, member: ObjectMember, views: '_Views'):
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

    def __init__(self, entity: Type, views: '_Views'):
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


class _Views:
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

    def types(self, entities: Sequence[Entity]) -> List[TypeView]:
        return [self.type(e) for e in entities]     # type: ignore[arg-type]

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

    def __init__(self, module: Module, prefix: str, views: _Views):
        self.module = module
        self.prefix = prefix
        entities = [e for e in module.entities
                    if not isinstance(e, BuiltinType)]
        self.enums = views.types([e for e in entities
                                  if isinstance(e, EnumType)])
        # Inline structs have no C type: their parents hold them.
        compound = [e for e in entities
                    if isinstance(e, (ObjectType, AlternateType, ArrayType))
                    and e.name != 'q_empty'
                    and not (isinstance(e, ObjectType) and e.is_inline())]
        self.structs = views.types(_definition_order(compound))
        self.typedefs = views.types(compound)
        self.freeable = views.types(
            [e for e in compound
             if isinstance(e, ArrayType) or not e.is_implicit()])
        in_compound = {id(e) for e in compound}
        self.visited = views.types(
            [e for e in entities
             if isinstance(e, EnumType) or id(e) in in_compound])
        commands = [e for e in entities if isinstance(e, Command) and e.gen]
        self.commands = views.callables(commands)
        self.events = views.callables([e for e in entities
                                       if isinstance(e, Event)])
        outputs: Dict[str, Type] = {}
        for cmd in commands:
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


class _Generator:
    """Renders the files of one schema into FILES: render_module() those
    of a module, render_schema_wide() the schema-wide ones."""

    def __init__(self, schema: QAPISchema, prefix: str, builtins: bool,
                 mask: bool):
        self.schema = schema
        self.prefix = prefix
        self.mask = mask
        self.env = _environment()
        c_prefix = c_name(prefix, False)
        upper_prefix = c_prefix.upper()
        self.views = _Views(upper_prefix)
        self.files = OutputFiles()
        self.common = {
            'api': 'QAPIKIT_API ' if builtins else '',
            'c_prefix': c_prefix, 'upper_prefix': upper_prefix,
        }

    def render(self, template: str, path: str, **context: Any) -> None:
        self.files.add(path, self.env.get_template(template).render(
            guard=ctypes.header_guard(path), **self.common, **context))

    def render_module(self, module: Module) -> None:
        prefix = self.prefix
        view = _ModuleView(module, prefix, self.views)
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
            }
            for name in ('types', 'visit', 'commands', 'events'):
                if name in paths:
                    context[name + '_h'] = rel(paths[name] + '.h')
            context['emit_h'] = rel(prefix + 'qapi-emit-events.h')
            for ext in ('h', 'c'):
                self.render('%s.%s.j2' % (family, ext),
                            '%s.%s' % (base, ext), **context)

    def render_schema_wide(self) -> None:
        schema, prefix, views = self.schema, self.prefix, self.views
        main = next(m for m in schema.modules if m.is_main)
        entities = list(schema.in_output_order())
        commands = views.callables([e for e in entities
                                    if isinstance(e, Command) and e.gen])
        events = views.callables([e for e in entities
                                  if isinstance(e, Event)])
        init = prefix + 'qapi-init-commands'
        emit = prefix + 'qapi-emit-events'
        intro = prefix + 'qapi-introspect'
        schema_wide = {
            'module': main, 'all_commands': commands,
            'all_events': events,
            'init_h': init + '.h', 'emit_h': emit + '.h',
            'introspect_h': intro + '.h',
            'commands_h': ctypes.module_files(main, 'commands', prefix)
            + '.h',
        }
        for ext in ('h', 'c'):
            self.render('init-commands.%s.j2' % ext, '%s.%s' % (init, ext),
                        **schema_wide)
            self.render('emit-events.%s.j2' % ext, '%s.%s' % (emit, ext),
                        **schema_wide)
        qlit = introspect.render(introspect.Introspection(schema, self.mask))
        for ext in ('h', 'c'):
            self.render('introspect.%s.j2' % ext, '%s.%s' % (intro, ext),
                        qlit=qlit, **schema_wide)


# Below this many definitions, rendering in two processes saves less
# than starting the second one costs.
PARALLEL_MIN_ENTITIES = 1000

# The cost of the schema-wide files (the introspection literal, mostly)
# as a share of the cost of all modules' files, by _module_weight().
SCHEMA_WIDE_WEIGHT = 0.45


def _cpus() -> int:
    """How many CPUs this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _module_weight(module: Module) -> int:
    """About how long MODULE's files take to render, in members."""
    weight = 0
    for entity in module.entities:
        weight += 1 + len(getattr(entity, 'members', ()))
    return weight


def generate(schema: QAPISchema, prefix: str = '', builtins: bool = False,
             mask: bool = False, jobs: Optional[int] = None) -> OutputFiles:
    """Render every file for SCHEMA (docs/spec/qapi-language.md §12.2).

    JOBS is how many processes render: by default 2 for a large schema
    when this process may run on two CPUs or more, else 1.  The files
    are the same either way."""
    gen = _Generator(schema, prefix, builtins, mask)
    modules = [m for m in schema.modules if builtins or not m.is_builtin()]
    if jobs is None:
        jobs = 2 if (len(schema.entities) >= PARALLEL_MIN_ENTITIES
                     and _cpus() >= 2 and hasattr(os, 'fork')) else 1
    if jobs < 2:
        for module in modules:
            gen.render_module(module)
        gen.render_schema_wide()
        return gen.files
    # The child renders the schema-wide files, and modules until both
    # processes have about the same work; heaviest modules placed first.
    weights = {id(m): _module_weight(m) for m in modules}
    parent_load = 0.0
    child_load = sum(weights.values()) * SCHEMA_WIDE_WEIGHT
    in_parent: List[Module] = []
    in_child: List[Module] = []
    for module in sorted(modules, key=lambda m: -weights[id(m)]):
        if parent_load <= child_load:
            in_parent.append(module)
            parent_load += weights[id(module)]
        else:
            in_child.append(module)
            child_load += weights[id(module)]
    _render_forked(gen, in_parent, in_child)
    return gen.files


def _render_forked(gen: _Generator, in_parent: List[Module],
                   in_child: List[Module]) -> None:
    """Render IN_PARENT here while a forked child renders IN_CHILD and
    the schema-wide files, then add the child's files to GEN.FILES.  An
    exception in either process is raised here, once both are done."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        # The child: never returns into the caller's code.
        status = 1
        try:
            os.close(read_fd)
            try:
                for module in in_child:
                    gen.render_module(module)
                gen.render_schema_wide()
                payload = pickle.dumps((True, gen.files.files), protocol=4)
                status = 0
            except BaseException:       # noqa: B902 (sent to the parent)
                payload = pickle.dumps((False, traceback.format_exc()))
            with os.fdopen(write_fd, 'wb') as out:
                out.write(payload)
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        for module in in_parent:
            gen.render_module(module)
    finally:
        with os.fdopen(read_fd, 'rb') as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
    if not data:
        raise RuntimeError('the process rendering the other files died')
    ok, result = pickle.loads(data)
    if not ok:
        raise RuntimeError('rendering failed in the process rendering the '
                           'other files:\n' + result)
    for path, text in result.items():
        gen.files.add(path, text)
