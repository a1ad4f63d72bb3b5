# SPDX-License-Identifier: MIT
"""What the commands and events backends need to know of a command or
event: its C parameters and how the generated code passes them."""

from typing import List, Tuple

from ..schema import Command, Event, ObjectMember
from . import ctypes


def arg_members(entity: 'Command | Event') -> List[ObjectMember]:
    """The arguments, base members first; none when boxed."""
    if entity.arg_type is None or entity.boxed:
        return []
    return list(entity.arg_type.members)


def params(entity: 'Command | Event') -> List[str]:
    """The C parameters of the handler or send function, errp excluded
    (docs/spec/qapi-language.md §13.4/1)."""
    if entity.arg_type is not None and entity.boxed:
        return ['%s *arg' % ctypes.type_name(entity.arg_type)]
    result = []
    for member in arg_members(entity):
        assert member.type is not None
        if ctypes.needs_flag(member):
            result.append('bool has_' + member.c_name())
        result.append(ctypes.decl(ctypes.c_param_type(member.type),
                                  member.c_name()))
    return result


def call_args(entity: 'Command | Event', holder: str) -> List[str]:
    """The arguments of a handler call, taken from struct HOLDER."""
    if entity.arg_type is not None and entity.boxed:
        return ['&' + holder]
    result = []
    for member in arg_members(entity):
        if ctypes.needs_flag(member):
            result.append('%s.has_%s' % (holder, member.c_name()))
        result.append('%s.%s' % (holder, member.c_name()))
    return result


def field_inits(entity: 'Command | Event') -> List[Tuple[str, str]]:
    """(field, value) pairs filling the argument struct from the send
    function's parameters (const char * parameters cast back)."""
    result = []
    for member in arg_members(entity):
        assert member.type is not None
        name = member.c_name()
        if ctypes.needs_flag(member):
            result.append(('has_' + name, 'has_' + name))
        cast = ''
        if ctypes.c_param_type(member.type) != ctypes.c_type(member.type):
            cast = '(%s)' % ctypes.c_type(member.type).rstrip()
        result.append((name, cast + name))
    return result

