# SPDX-License-Identifier: MIT
"""Rendering: the files of each module and the schema-wide files, from
the templates and the views, in one process or, for a large schema, in
two: this one and a forked worker of a process pool."""

import os
import sys
import traceback
from typing import Any, Dict, List, Optional, Tuple

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
# as a share of the cost of all modules' files, by their weight.  It
# counts against the worker's part, whose files also cost sending back
# (its results reach this process while it may still render, competing
# for the GIL): so this process gets more than half of the modules.
# Fastest on bench/gen-bench's schemas at 1x and 4x between 0.6 and 0.75.
SCHEMA_WIDE_WEIGHT = 0.65


def _cpus() -> int:
    """How many CPUs this process may run on."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _can_fork() -> bool:
    """Whether there is the fork start method.  Workers must be forked:
    they take the model from this process's memory.  (Pickling the model
    of a large schema to start them would cost more than they save, and
    it does not even pickle: too deep.)"""
    # multiprocessing and concurrent.futures are imported only for a
    # pool: importing them takes about 25 ms, a sixth of the whole run
    # on the kitchen-sink schema.
    import multiprocessing
    return 'fork' in multiprocessing.get_all_start_methods()


def generate(schema: QAPISchema, prefix: str = '', builtins: bool = False,
             mask: bool = False, jobs: Optional[int] = None) -> OutputFiles:
    """Render every file for SCHEMA (docs/spec/qapi-language.md §12.2).

    JOBS is how many processes render: by default 2 for a large schema
    when this process may run on two CPUs or more, else 1; always 1
    where processes cannot be forked.  The files are the same either
    way."""
    gen = _Generator(schema, prefix, builtins, mask)
    if jobs is None:
        jobs = 2 if (len(schema.entities) >= PARALLEL_MIN_ENTITIES
                     and _cpus() >= 2) else 1
    if jobs >= 2 and _can_fork():
        _render_in_pool(gen, _split(gen.modules, jobs))
    else:
        for module in gen.modules:
            gen.render_module(module)
        gen.render_schema_wide()
    return gen.files


def _split(modules: List[ModuleEntities],
           parts: int) -> List[List[ModuleEntities]]:
    """MODULES in PARTS parts of about the same work, the schema-wide
    files counted in the second: each module, heaviest first, goes to
    the part with the least work so far (the first of those)."""
    loads = [0.0] * parts
    loads[1] = sum(m.weight for m in modules) * SCHEMA_WIDE_WEIGHT
    result: List[List[ModuleEntities]] = [[] for _ in range(parts)]
    for module in sorted(modules, key=lambda m: -m.weight):
        lightest = loads.index(min(loads))
        result[lightest].append(module)
        loads[lightest] += module.weight
    return result


def _render_in_pool(gen: _Generator,
                    parts: List[List[ModuleEntities]]) -> None:
    """Render PARTS[0] here while a pool of forked workers renders the
    other parts, the second with the schema-wide files, then add their
    files to GEN.FILES.  When any process fails, its exception (a
    worker's as a RuntimeError with the worker's traceback) is raised
    here once every worker is done, and the pool is gone."""
    import concurrent.futures
    import multiprocessing
    index = {id(module): i for i, module in enumerate(gen.modules)}
    # A forked worker would flush, at exit, what it inherited unflushed.
    sys.stdout.flush()
    sys.stderr.flush()
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=len(parts) - 1,
            mp_context=multiprocessing.get_context('fork'),
            initializer=_start_worker, initargs=(gen,)) as pool:
        futures = [pool.submit(_render_in_worker,
                               [index[id(module)] for module in part],
                               number == 1)
                   for number, part in enumerate(parts) if number > 0]
        for module in parts[0]:
            gen.render_module(module)
        results = [future.result() for future in futures]
    for files, error in results:
        if error:
            raise RuntimeError('rendering failed in a worker process:\n'
                               + error)
        for path, text in files.items():
            gen.files.add(path, text)


# In a worker process: the generator it renders with, forked from the
# parent's by _render_in_pool().
_worker_gen: Optional[_Generator] = None


def _start_worker(gen: _Generator) -> None:
    """The pool's initializer: GEN renders here."""
    global _worker_gen
    _worker_gen = gen


def _render_in_worker(modules: List[int],
                      schema_wide: bool) -> Tuple[Dict[str, str], str]:
    """In a worker process: render the modules at indexes MODULES of
    GEN.MODULES, and the schema-wide files if SCHEMA_WIDE.  The files
    and '', or no files and the traceback of what failed."""
    gen = _worker_gen
    assert gen is not None
    # The pool may give one worker several parts, one after the other:
    # each returns its own files only.
    gen.files = OutputFiles()
    try:
        for number in modules:
            gen.render_module(gen.modules[number])
        if schema_wide:
            gen.render_schema_wide()
    except BaseException:       # noqa: B902 (sent to the parent)
        return {}, traceback.format_exc()
    return gen.files.files, ''
