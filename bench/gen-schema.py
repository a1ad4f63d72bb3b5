#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a large synthetic QAPI schema for benchmarking the generator.

  gen-schema.py [--structs N] [--members N] [--enums N] [--commands N]
                [--events N] [--unions N] [--alternates N] [--modules N]
                [--scale X] [--seed N] -o DIR

writes DIR/schema.json, which includes DIR/mod-NN.json, with the
definitions spread over the modules in shuffled order.  The schema is valid
per docs/spec/qapi-language.md and uses the language the way real schemas
do: built-in, enum, struct, array, union and alternate member types,
optional members, references forward and backward, struct bases, flat
unions with an inline or named base, alternates, commands with inline or
named (boxed) arguments and struct, list or union results, events, doc
comments with member, feature, Returns and Since sections, `if` conditions
and features.  --scale multiplies the number of definitions of every kind;
members per struct and the number of modules stay as given.  The same
options and seed give the same bytes.
"""

import argparse
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

# A schema value: what a definition's expression is made of.
Value = Union[str, bool, List['Value'], Dict[str, 'Value']]
Expr = Dict[str, Value]

QUALIFIERS = ('Backing', 'Overlay', 'Remote', 'Local', 'Virtual', 'Dirty',
              'Shared', 'Primary', 'Secondary', 'Guest', 'Host', 'Raw',
              'Qcow', 'Io', 'Async', 'Zoned', 'Encrypted', 'Replica',
              'Block', 'Char', 'Net', 'Cpu')
NOUNS = ('Disk', 'Image', 'Node', 'Device', 'Cache', 'Job', 'Snapshot',
         'Backup', 'Mirror', 'Stream', 'Socket', 'Memory', 'Thread', 'Queue',
         'Port', 'Bus', 'Bitmap', 'Cluster', 'Volume', 'Export', 'Migration',
         'Throttle', 'Quota', 'Secret', 'Display', 'Watchdog', 'Balloon',
         'Timer', 'Trace', 'Chain', 'Extent', 'Table')
STRUCT_SUFFIXES = ('Info', 'Options', 'Stats', 'Config', 'Params', 'Status',
                   'Entry', 'Desc', 'Spec', 'Props')
ENUM_SUFFIXES = ('Mode', 'State', 'Format', 'Policy', 'Action', 'Type',
                 'Level', 'Reason')
UNION_SUFFIXES = ('Source', 'Target', 'Variant', 'Backend', 'Location')
ALTERNATE_SUFFIXES = ('Ref', 'OrName', 'Value', 'Choice')
VERBS = ('query', 'set', 'get', 'add', 'del', 'change', 'reset', 'block-job',
         'blockdev', 'x-debug', 'trace', 'migrate', 'dump', 'start', 'stop')
EVENT_VERBS = ('COMPLETED', 'CANCELLED', 'READY', 'ERROR', 'CHANGED',
               'CREATED', 'DELETED', 'PAUSED', 'RESUMED', 'FAILED')

# Member names.  Never 'u' or 'has-*' (reserved), and never the members of
# union bases below, so that no union branch can clash with its base.
MEMBER_WORDS = (
    'device', 'node-name', 'file', 'filename', 'format', 'size', 'offset',
    'length', 'speed', 'granularity', 'buf-size', 'mode', 'sync', 'target',
    'backing', 'backing-file', 'read-only', 'auto-dismiss', 'id', 'name',
    'path', 'host', 'port', 'timeout', 'count', 'enabled', 'status',
    'reason', 'bytes', 'limit', 'iops', 'iops-rd', 'iops-wr', 'bps',
    'cluster-size', 'refcount-bits', 'lazy-refcounts', 'compat', 'encrypt',
    'key-secret', 'tls-creds', 'index', 'level', 'threshold', 'interval',
    'delay', 'priority', 'label', 'description', 'parent', 'child',
    'children', 'bitmap', 'persistent', 'recording', 'busy', 'paused',
    'ready', 'error', 'errors', 'total', 'used', 'free', 'type', 'default',
    'unix', 'cache', 'direct', 'no-flush', 'discard', 'detect-zeroes',
    'copy-on-read', 'locking', 'version', 'sector', 'bus', 'unit', 'slot',
    'function', 'vendor', 'model', 'serial', 'removable', 'locked',
    'tray-open', 'io-status', 'job-id', 'pattern', 'verbose', 'force',
    'compress', 'on-error', 'on-source-error', 'on-target-error')
UNION_TAG = 'kind'
UNION_BASE_EXTRA = 'node-id'
ENUM_WORDS = (
    'none', 'off', 'on', 'auto', 'ignore', 'report', 'stop', 'enospc', 'raw',
    'qcow2', 'vmdk', 'vdi', 'writeback', 'writethrough', 'unsafe',
    'directsync', 'top', 'full', 'incremental', 'bitmap', 'existing',
    'absolute-paths', 'relative', 'created', 'running', 'paused', 'ready',
    'standby', 'waiting', 'pending', 'aborting', 'concluded', 'null',
    'debug', 'info', 'warn', 'error', 'low', 'normal', 'high', 'read',
    'write', 'flush', 'discard', 'zero', 'v2', 'v3', '1g', '2m', 'x-legacy')
BUILTINS = ('str', 'str', 'str', 'int', 'int', 'bool', 'bool', 'size',
            'uint64', 'int32', 'uint32', 'number')
CONDITIONS: Tuple[Value, ...] = (
    'CONFIG_BENCH_A', 'CONFIG_BENCH_B', 'CONFIG_LINUX', 'CONFIG_POSIX',
    {'not': 'CONFIG_BENCH_C'},
    {'all': ['CONFIG_LINUX', 'CONFIG_BENCH_A']},
    {'any': ['CONFIG_BENCH_B', {'not': 'CONFIG_WIN32'}]},
)
TYPE_FEATURES = ('fast-path', 'bench-extra')
COMMAND_FEATURES = ('deprecated', 'unstable', 'allow-write-only-overlay')
MEMBER_FEATURES = ('deprecated', 'unstable')
PHRASES = ('the device this applies to', 'how much to use, in bytes',
           'whether the operation may proceed', 'the name as given by the '
           'user', 'what to do when an error happens', 'the current value',
           'an identifier, unique within its kind', 'the new setting; '
           'left as it is when absent', 'the node whose state is reported')
LINE_WIDTH = 78


@dataclass(frozen=True)
class Counts:
    """How many definitions of each kind to write."""
    structs: int = 2000
    members: int = 10
    enums: int = 500
    commands: int = 1000
    events: int = 200
    unions: int = 20
    alternates: int = 10
    modules: int = 20

    def scaled(self, scale: float) -> 'Counts':
        def times(count: int) -> int:
            return max(0, int(round(count * scale)))
        return Counts(structs=max(1, times(self.structs)),
                      members=self.members,
                      enums=max(1, times(self.enums)),
                      commands=times(self.commands),
                      events=times(self.events),
                      unions=times(self.unions),
                      alternates=times(self.alternates),
                      modules=max(1, self.modules))


@dataclass
class Definition:
    """One top-level definition, with what its doc comment needs."""
    meta: str
    name: str
    expr: Expr
    documented: bool = False


@dataclass
class StructInfo:
    """What later definitions need to know about a struct."""
    name: str
    members: Set[str]          # own and inherited member names
    depth: int                 # length of the base chain
    conditional: bool          # has a conditional member, own or inherited


@dataclass
class Stats:
    """What was written."""
    definitions: int = 0
    by_meta: Dict[str, int] = field(default_factory=dict)
    files: int = 0
    lines: int = 0


class SchemaBuilder:
    """Builds the definitions, deterministically from a seed."""

    def __init__(self, counts: Counts, seed: int):
        self.counts = counts
        self.rng = random.Random(seed)
        self.taken: Set[str] = set()
        self.structs: List[StructInfo] = []
        self.enums: List[str] = []
        self.complex_types: List[str] = []     # unions, alternates
        self.unions: List[str] = []
        self.planned_struct_names: List[str] = []
        # Units keep a union next to its enum and base; each unit is a
        # list of definitions written together.
        self.units: List[List[Definition]] = []

    # Names

    def unique(self, maker: 'NameMaker') -> str:
        serial = -1 if maker.kind == 'derived' else len(self.taken)
        while True:
            name = maker.make(self.rng, serial)
            serial = len(self.taken) + 1
            if name not in self.taken:
                self.taken.add(name)
                return name

    def type_name(self, suffixes: Sequence[str]) -> str:
        return self.unique(NameMaker('type', tuple(suffixes)))

    # Pieces

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def condition(self) -> Value:
        return self.rng.choice(CONDITIONS)

    def member_name(self, used: Set[str]) -> str:
        name = self.rng.choice(MEMBER_WORDS)
        if name in used:
            name = '%s-%s' % (name, self.rng.choice(MEMBER_WORDS))
        suffix = 2
        base = name
        while name in used:
            name = '%s-%d' % (base, suffix)
            suffix += 1
        used.add(name)
        return name

    def type_ref(self, allow_complex: bool = True) -> Value:
        roll = self.rng.random()
        if roll < 0.45:
            return self.rng.choice(BUILTINS)
        if roll < 0.60:
            return self.rng.choice(self.enums)
        if roll < 0.80:
            return self.struct_ref()
        if roll < 0.94:
            element = self.rng.choice(
                ('str', 'int', self.rng.choice(self.enums),
                 self.struct_ref(), self.struct_ref()))
            return [element]
        if allow_complex and self.complex_types and roll < 0.98:
            return self.rng.choice(self.complex_types)
        return 'any'

    def struct_ref(self) -> str:
        """Any struct, defined before or after the referring definition."""
        return self.planned_struct_names[
            self.rng.randrange(len(self.planned_struct_names))]

    def members(self, count: int, used: Set[str], conditional_ok: bool,
                features_ok: bool = True) -> Tuple[Dict[str, Value], bool]:
        """COUNT members named apart from USED; also whether one of them
        is conditional."""
        data: Dict[str, Value] = {}
        conditional = False
        for _ in range(count):
            name = self.member_name(used)
            key = ('*' + name) if self.chance(0.35) else name
            ref = self.type_ref()
            if conditional_ok and self.chance(0.04):
                data[key] = {'type': ref, 'if': self.condition()}
                conditional = True
            elif features_ok and self.chance(0.03):
                data[key] = {'type': ref,
                             'features': [self.rng.choice(MEMBER_FEATURES)]}
            else:
                data[key] = ref
        return data, conditional

    def common_keys(self, expr: Expr, features: Sequence[str],
                    if_chance: float = 0.05) -> None:
        if self.chance(if_chance):
            expr['if'] = self.condition()
        if self.chance(0.05):
            expr['features'] = [self.rng.choice(features)]

    def add(self, *definitions: Definition) -> None:
        for definition in definitions:
            definition.documented = self.chance(0.3)
        self.units.append(list(definitions))

    # Definitions

    def enum_values(self, count: int, plain: bool) -> List[Value]:
        """COUNT distinct values; PLAIN ones (union tags) are all short
        form and start with a letter, as they double as branch names."""
        pool = [word for word in ENUM_WORDS
                if not plain or word[0].isalpha()]
        words = self.rng.sample(pool, min(count, len(pool)))
        values: List[Value] = []
        for word in words:
            if not plain and self.chance(0.05):
                values.append({'name': word, 'if': self.condition()})
            elif not plain and self.chance(0.03):
                values.append({'name': word, 'features': ['deprecated']})
            else:
                values.append(word)
        return values

    def build_enum(self, index: int) -> None:
        name = self.enums[index]
        expr: Expr = {'enum': name,
                      'data': self.enum_values(self.rng.randint(2, 8),
                                               plain=False)}
        if self.chance(0.02):
            expr['prefix'] = 'BENCH_E%d' % index
        self.common_keys(expr, TYPE_FEATURES)
        self.add(Definition('enum', name, expr))

    def build_struct(self, index: int) -> None:
        name = self.planned_struct_names[index]
        expr: Expr = {'struct': name}
        used: Set[str] = set()
        depth = 0
        conditional = False
        if index > 10 and self.chance(0.12):
            base = self.structs[self.rng.randrange(index)]
            if base.depth < 3:
                expr['base'] = base.name
                used |= base.members
                depth = base.depth + 1
                conditional = base.conditional
        count = self.rng.randint(max(0, self.counts.members - 3),
                                 self.counts.members + 3)
        data, own_conditional = self.members(count, used,
                                             conditional_ok=True)
        expr['data'] = data
        self.common_keys(expr, TYPE_FEATURES)
        self.structs.append(StructInfo(name, used, depth,
                                       conditional or own_conditional))
        self.add(Definition('struct', name, expr))

    def build_union(self, name: str) -> None:
        tag_enum = self.unique(NameMaker('derived', (name, 'Driver')))
        values = self.enum_values(self.rng.randint(2, 6), plain=True)
        enum_def = Definition('enum', tag_enum,
                              {'enum': tag_enum, 'data': values})
        base_members: Dict[str, Value] = {UNION_TAG: tag_enum,
                                          '*' + UNION_BASE_EXTRA: 'str'}
        definitions = [enum_def]
        base: Value
        if self.chance(0.5):
            base_name = self.unique(NameMaker('derived', (name, 'Base')))
            definitions.append(Definition(
                'struct', base_name,
                {'struct': base_name, 'data': base_members}))
            base = base_name
        else:
            base = base_members
        branches: Dict[str, Value] = {}
        for value in values:
            if self.chance(0.25):
                continue            # implicit empty branch
            branch: Value = self.struct_ref()
            if self.chance(0.1):
                branch = {'type': branch, 'if': self.condition()}
            branches[str(value)] = branch
        expr: Expr = {'union': name, 'base': base,
                      'discriminator': UNION_TAG, 'data': branches}
        self.common_keys(expr, TYPE_FEATURES)
        definitions.append(Definition('union', name, expr))
        self.add(*definitions)

    def build_alternate(self, name: str) -> None:
        shape = self.rng.randrange(3)
        data: Dict[str, Value]
        if shape == 0:
            data = {'inline': self.struct_ref(), 'name': 'str'}
        elif shape == 1:
            data = {'num': 'int', 'enabled': 'bool',
                    'obj': self.struct_ref()}
        else:
            data = {'items': [self.struct_ref()], 'absent': 'null',
                    'name': 'str'}
        expr: Expr = {'alternate': name, 'data': data}
        self.common_keys(expr, TYPE_FEATURES)
        self.add(Definition('alternate', name, expr))

    def arguments(self, expr: Expr) -> None:
        """Inline, named (boxed where needed) or no arguments."""
        roll = self.rng.random()
        if roll < 0.6:
            data, _ = self.members(self.rng.randint(1, 6), set(),
                                   conditional_ok=False)
            expr['data'] = data
        elif roll < 0.75:
            struct = self.rng.choice(self.structs)
            expr['data'] = struct.name
            if struct.conditional:
                expr['boxed'] = True
        elif roll < 0.8 and self.unions:
            expr['data'] = self.rng.choice(self.unions)
            expr['boxed'] = True

    def build_command(self, index: int) -> None:
        name = self.unique(NameMaker('command'))
        expr: Expr = {'command': name}
        self.arguments(expr)
        roll = self.rng.random()
        if roll < 0.35:
            expr['returns'] = self.struct_ref()
        elif roll < 0.6:
            expr['returns'] = [self.struct_ref()]
        elif roll < 0.65 and self.unions:
            expr['returns'] = self.rng.choice(self.unions)
        if self.chance(0.05):
            expr['allow-oob'] = True
        elif self.chance(0.02):
            expr['coroutine'] = True
        if self.chance(0.05):
            expr['allow-preconfig'] = True
        if 'returns' not in expr and self.chance(0.03):
            expr['success-response'] = False
        if index % 97 == 5:
            expr['gen'] = False
        self.common_keys(expr, COMMAND_FEATURES)
        self.add(Definition('command', name, expr))

    def build_event(self) -> None:
        name = self.unique(NameMaker('event'))
        expr: Expr = {'event': name}
        self.arguments(expr)
        self.common_keys(expr, COMMAND_FEATURES)
        self.add(Definition('event', name, expr))

    def build(self) -> None:
        counts = self.counts
        self.planned_struct_names = [self.type_name(STRUCT_SUFFIXES)
                                     for _ in range(counts.structs)]
        self.enums = [self.type_name(ENUM_SUFFIXES)
                      for _ in range(counts.enums)]
        self.unions = [self.type_name(UNION_SUFFIXES)
                       for _ in range(counts.unions)]
        alternates = [self.type_name(ALTERNATE_SUFFIXES)
                      for _ in range(counts.alternates)]
        self.complex_types = self.unions + alternates
        for index in range(counts.enums):
            self.build_enum(index)
        for index in range(counts.structs):
            self.build_struct(index)
        for name in self.unions:
            self.build_union(name)
        for name in alternates:
            self.build_alternate(name)
        for index in range(counts.commands):
            self.build_command(index)
        for _ in range(counts.events):
            self.build_event()
        # One command returning a built-in, allowed by the pragma.
        self.add(Definition('command', 'x-bench-echo',
                            {'command': 'x-bench-echo',
                             'data': {'text': 'str'}, 'returns': 'str'}))
        self.taken.add('x-bench-echo')


@dataclass(frozen=True)
class NameMaker:
    """Makes a candidate name of one kind; the builder keeps it unique.
    The serial number makes a name that is new whatever words it got."""
    kind: str
    suffixes: Tuple[str, ...] = ()

    def make(self, rng: random.Random, serial: int) -> str:
        if self.kind == 'derived':
            # The union's name, then what the type is to it.
            return '%s%s' % (self.suffixes[0], self.suffixes[1]) \
                if serial < 0 else \
                '%s%s%d' % (self.suffixes[0], self.suffixes[1], serial)
        if self.kind == 'command':
            return '%s-%s-%s-%d' % (rng.choice(VERBS),
                                    rng.choice(QUALIFIERS).lower(),
                                    rng.choice(NOUNS).lower(), serial)
        if self.kind == 'event':
            return '%s_%s_%d' % (rng.choice(NOUNS).upper(),
                                 rng.choice(EVENT_VERBS), serial)
        return '%s%s%s%d' % (rng.choice(QUALIFIERS), rng.choice(NOUNS),
                             rng.choice(self.suffixes), serial)


# Rendering

def render_value(value: Value, column: int) -> str:
    """VALUE in schema syntax, starting at COLUMN; wraps long objects and
    lists, one entry a line, aligned the way hand-written schemas are."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return "'%s'" % value
    flat = render_flat(value)
    if column + len(flat) <= LINE_WIDTH:
        return flat
    indent = ' ' * (column + 2)
    if isinstance(value, list):
        items = [render_value(item, column + 2) for item in value]
        return '[ ' + (',\n' + indent).join(items) + ' ]'
    entries = []
    for key, item in value.items():
        head = "'%s': " % key
        entries.append(head + render_value(item, column + 2 + len(head)))
    return '{ ' + (',\n' + indent).join(entries) + ' }'


def render_flat(value: Value) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return "'%s'" % value
    if isinstance(value, list):
        return '[ ' + ', '.join(render_flat(item) for item in value) + ' ]'
    if not value:
        return '{}'
    return '{ ' + ', '.join("'%s': %s" % (key, render_flat(item))
                            for key, item in value.items()) + ' }'


def features_of(expr: Expr) -> List[str]:
    """Every feature of a definition, its members and its values."""
    found: List[str] = []

    def collect(value: Value) -> None:
        if isinstance(value, dict):
            for feature in value.get('features', []):   # type: ignore
                if feature not in found:
                    found.append(str(feature))
    collect(expr)
    for key in ('data', 'base'):
        value = expr.get(key)
        if isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)
    return found


def documented_names(definition: Definition) -> List[str]:
    """The names a definition doc may describe with @name: lines."""
    expr = definition.expr
    if definition.meta == 'union':
        base = expr.get('base')
        return [key.lstrip('*') for key in base] \
            if isinstance(base, dict) else []
    data = expr.get('data')
    if isinstance(data, dict):
        return [key.lstrip('*') for key in data]
    if isinstance(data, list):
        return [item if isinstance(item, str) else str(item['name'])
                for item in data if isinstance(item, (str, dict))]
    return []


def render_doc(definition: Definition, rng: random.Random) -> List[str]:
    """A definition doc comment: body, descriptions, features, sections."""
    lines = ['##', '# @%s:' % definition.name, '#']
    lines.append('# %s %s.' % (rng.choice(('Describes', 'Configures',
                                             'Reports', 'Controls')),
                               rng.choice(('one object', 'a block node',
                                           'the device state',
                                           'a background job'))))
    for name in documented_names(definition):
        if rng.random() < 0.15:
            continue                    # undescribed members are allowed
        lines.append('#')
        phrase = rng.choice(PHRASES)
        if rng.random() < 0.2:
            lines.append('# @%s: %s;' % (name, phrase))
            lines.append('#     see the manual for the details')
        else:
            lines.append('# @%s: %s' % (name, phrase))
    features = features_of(definition.expr)
    if features:
        lines += ['#', '# Features:']
        for feature in features:
            lines += ['#', '# @%s: %s' % (feature, rng.choice((
                'This is going away; see the replacement.',
                'Not yet a stable interface.',
                'Marks an optional capability.')))]
    if definition.meta == 'command' and 'returns' in definition.expr:
        lines += ['#', '# Returns: what the command found']
    lines += ['#', '# Since: %d.%d' % (rng.randint(0, 9), rng.randint(0, 2)),
              '##']
    return lines


def render_definition(definition: Definition, rng: random.Random) -> str:
    text = ''
    if definition.documented:
        text = '\n'.join(render_doc(definition, rng)) + '\n'
    return text + render_value(definition.expr, 0) + '\n'


def module_text(number: int, units: List[List[Definition]],
                rng: random.Random) -> str:
    parts = ['# -*- Mode: Python -*-\n'
             '# vim: filetype=python\n'
             '#\n'
             '# Synthetic module %02d, written by bench/gen-schema.py for\n'
             '# the front-end benchmark.  Do not edit.\n' % number]
    definitions = [definition for unit in units for definition in unit]
    if definitions:
        # A free-form doc must be followed by a definition doc, not by a
        # bare definition.
        definitions[0].documented = True
        parts.append('##\n# = Module %02d\n#\n# Generated definitions.\n##\n'
                     % number)
    for definition in definitions:
        parts.append(render_definition(definition, rng))
    return '\n'.join(parts)


def main_text(modules: int, counts: Counts) -> str:
    includes = ''.join("{ 'include': 'mod-%02d.json' }\n" % number
                       for number in range(modules))
    return ('# -*- Mode: Python -*-\n'
            '# vim: filetype=python\n'
            '#\n'
            '# Synthetic schema written by bench/gen-schema.py: about\n'
            '# %d structs of %d members, %d enums, %d unions, %d alternates,\n'
            '# %d commands and %d events in %d modules.  Do not edit.\n\n'
            "{ 'pragma': { 'command-returns-exceptions': "
            "[ 'x-bench-echo' ] } }\n\n%s"
            % (counts.structs, counts.members, counts.enums, counts.unions,
               counts.alternates, counts.commands, counts.events, modules,
               includes))


def write_schema(out_dir: Path, counts: Counts, seed: int = 1) -> Stats:
    """Write DIR/schema.json and its modules; return what was written."""
    builder = SchemaBuilder(counts, seed)
    builder.build()
    units = builder.units
    builder.rng.shuffle(units)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = Stats()
    per_module = -(-len(units) // counts.modules)
    texts: List[Tuple[str, str]] = []
    for number in range(counts.modules):
        chunk = units[number * per_module:(number + 1) * per_module]
        texts.append(('mod-%02d.json' % number,
                      module_text(number, chunk, builder.rng)))
        for unit in chunk:
            for definition in unit:
                stats.definitions += 1
                stats.by_meta[definition.meta] = \
                    stats.by_meta.get(definition.meta, 0) + 1
    texts.append(('schema.json', main_text(counts.modules, counts)))
    for file_name, text in texts:
        (out_dir / file_name).write_text(text, encoding='utf-8')
        stats.files += 1
        stats.lines += text.count('\n')
    return stats


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    defaults = Counts()
    parser = argparse.ArgumentParser(
        description='Write a synthetic QAPI schema for benchmarks.')
    for option in ('structs', 'members', 'enums', 'commands', 'events',
                   'unions', 'alternates', 'modules'):
        parser.add_argument('--' + option, type=int,
                            default=getattr(defaults, option),
                            help='default: %(default)s')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='multiply the number of definitions '
                        '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=1,
                        help='random seed (default: %(default)s)')
    parser.add_argument('-o', '--output-dir', type=Path, required=True,
                        help='directory to write schema.json and modules to')
    args = parser.parse_args(argv)
    for option in ('structs', 'members', 'enums', 'commands', 'events',
                   'unions', 'alternates'):
        if getattr(args, option) < 0:
            parser.error('--%s must not be negative' % option)
    if args.modules < 1 or args.scale <= 0:
        parser.error('--modules must be at least 1 and --scale positive')
    return args


def counts_from_args(args: argparse.Namespace) -> Counts:
    return Counts(structs=args.structs, members=args.members,
                  enums=args.enums, commands=args.commands,
                  events=args.events, unions=args.unions,
                  alternates=args.alternates,
                  modules=args.modules).scaled(args.scale)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stats = write_schema(args.output_dir, counts_from_args(args), args.seed)
    kinds = ', '.join('%d %ss' % (count, meta)
                      for meta, count in sorted(stats.by_meta.items()))
    print('%s: %d definitions (%s), %d files, %d lines'
          % (args.output_dir / 'schema.json', stats.definitions, kinds,
             stats.files, stats.lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
