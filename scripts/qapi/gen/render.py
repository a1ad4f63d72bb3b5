# SPDX-License-Identifier: MIT
"""Rendering: the files of each module and the schema-wide files, from
the templates and the views, in one process or, for a large schema, in
two."""

import os
import pickle
import traceback
from typing import Any, List, Optional

from ..common import c_name
from ..schema import QAPISchema
from . import ctypes, introspect
from .environment import environment
from .output import OutputFiles
from .views import ModuleEntities, ModuleView, SchemaEntities, Views


class _Generator:
    """Renders the files of one schema into FILES: render_module() those
    of a module (one of MODULES, the modules to render), and
    render_schema_wide() the schema-wide ones."""

    def __init__(self, schema: QAPISchema, prefix: str, builtins: bool,
                 mask: bool):
        self.schema = schema
        self.entities = SchemaEntities(schema)
        self.modules = [entities for entities in self.entities.modules
                        if builtins or not entities.module.is_builtin()]
        self.prefix = prefix
        self.mask = mask
        self.env = environment()
        c_prefix = c_name(prefix, False)
        upper_prefix = c_prefix.upper()
        self.views = Views(upper_prefix)
        self.files = OutputFiles()
        self.common = {
            'api': 'QAPIKIT_API ' if builtins else '',
            'c_prefix': c_prefix, 'upper_prefix': upper_prefix,
        }

    def render(self, template: str, path: str, **context: Any) -> None:
        self.files.add(path, self.env.get_template(template).render(
            guard=ctypes.header_guard(path), **self.common, **context))

    def render_module(self, entities: ModuleEntities) -> None:
        prefix = self.prefix
        module = entities.module
        view = ModuleView(entities, prefix, self.views)
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
        modules = self.entities.modules
        commands = views.callables([cmd for entities in modules
                                    for cmd in entities.commands])
        events = views.callables([event for entities in modules
                                  for event in entities.events])
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
# as a share of the cost of all modules' files, by their weight.
SCHEMA_WIDE_WEIGHT = 0.45


def _cpus() -> int:
    """How many CPUs this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def generate(schema: QAPISchema, prefix: str = '', builtins: bool = False,
             mask: bool = False, jobs: Optional[int] = None) -> OutputFiles:
    """Render every file for SCHEMA (docs/spec/qapi-language.md §12.2).

    JOBS is how many processes render: by default 2 for a large schema
    when this process may run on two CPUs or more, else 1.  The files
    are the same either way."""
    gen = _Generator(schema, prefix, builtins, mask)
    modules = gen.modules
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
    parent_load = 0.0
    child_load = sum(m.weight for m in modules) * SCHEMA_WIDE_WEIGHT
    in_parent: List[ModuleEntities] = []
    in_child: List[ModuleEntities] = []
    for module in sorted(modules, key=lambda m: -m.weight):
        if parent_load <= child_load:
            in_parent.append(module)
            parent_load += module.weight
        else:
            in_child.append(module)
            child_load += module.weight
    _render_forked(gen, in_parent, in_child)
    return gen.files


def _render_forked(gen: _Generator, in_parent: List[ModuleEntities],
                   in_child: List[ModuleEntities]) -> None:
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
