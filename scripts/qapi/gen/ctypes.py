# SPDX-License-Identifier: MIT
"""How schema entities look in C (docs/spec/qapi-language.md §8, §13)."""

import os
from typing import Optional

from ..common import c_name
from ..schema import (ArrayType, BuiltinType, EnumType, IfCond, Module,
                      ObjectMember, ObjectType, Type)


def type_name(entity: Type) -> str:
    """The C name of a type: 'SnapshotDev', 'q_obj_foo_arg'."""
    return c_name(entity.name, False)


def is_pointer(entity: Type) -> bool:
    """Whether values of the type are held by pointer (inline structs of
    the 2012 form are held by value)."""
    if isinstance(entity, BuiltinType):
        return entity.c_type.endswith('*')
    if isinstance(entity, ObjectType):
        return not entity.is_inline()
    return not isinstance(entity, EnumType)


def c_type(entity: Type) -> str:
    """The C type of a field or return value."""
    if isinstance(entity, BuiltinType):
        return entity.c_type
    if isinstance(entity, EnumType):
        return type_name(entity)
    return type_name(entity) + ' *'


def c_param_type(entity: Type) -> str:
    """The C type of a handler parameter ('str' is const)."""
    if isinstance(entity, BuiltinType) and entity.name == 'str':
        return 'const char *'
    return c_type(entity)


def decl(ctype: str, name: str) -> str:
    """'char *' + 'x' -> 'char *x'; 'int64_t' + 'x' -> 'int64_t x'."""
    return ctype + name if ctype.endswith('*') else ctype + ' ' + name


def needs_flag(member: ObjectMember) -> bool:
    """Whether an optional member has a has_F presence flag (§13.1/3)."""
    assert member.type is not None
    return member.optional and (not is_pointer(member.type)
                                or isinstance(member.type, ArrayType))


def visit_fn(entity: Type) -> str:
    """The visit function of a type (for builtins, the runtime's)."""
    if isinstance(entity, BuiltinType):
        return 'visit_type_' + entity.name
    return 'visit_type_' + type_name(entity)


def has_fields(entity: Optional[Type]) -> bool:
    """Whether a union branch of this type gets a field in 'u'."""
    return isinstance(entity, ObjectType) and bool(entity.members)


def alternate_qtype(entity: Type) -> str:
    """The QType constant of an alternate branch's JSON kind."""
    return {
        'object': 'QTYPE_QDICT', 'array': 'QTYPE_QLIST',
        'string': 'QTYPE_QSTRING', 'number': 'QTYPE_QNUM',
        'boolean': 'QTYPE_QBOOL', 'null': 'QTYPE_QNULL',
    }[entity.json_kind()]


def module_files(module: Module, family: str, prefix: str) -> str:
    """Output path, without .h/.c, of FAMILY ('types', 'visit', ...)
    for MODULE (§12.2)."""
    if module.is_builtin():
        return 'qapi-builtin-' + family
    base = prefix + 'qapi-' + family
    directory, fname = os.path.split(module.name)
    stem = os.path.splitext(fname)[0]
    if module.is_main:
        return base
    return os.path.join(directory, base + '-' + stem)


def header_guard(path: str) -> str:
    """'sub/qapi-types-disk.h' -> 'SUB_QAPI_TYPES_DISK_H' (§12.2/4)."""
    guard = ''.join(ch if ch.isalnum() and ch.isascii() else '_'
                    for ch in path)
    return guard.lstrip('_').upper()


def include_path(from_file: str, to_file: str) -> str:
    """TO_FILE as a quoted include from FROM_FILE (both output-relative)."""
    return os.path.relpath(to_file, os.path.dirname(from_file) or '.')


def wrap(text: str, ifcond: IfCond) -> str:
    """TEXT inside #if ... #endif when IFCOND is present: the one place
    where conditions become preprocessor lines (docs/spec/qapi-language.md
    §5/4). TEXT is whole lines, each ending in a newline."""
    if ifcond.cond is None:
        return text
    cond = ifcond.cgen()
    if not cond:
        return text
    return '#if %s\n%s#endif /* %s */\n' % (cond, text, cond)
