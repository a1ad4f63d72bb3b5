# SPDX-License-Identifier: MIT
"""Name mangling and C condition printing, shared by every layer."""

import re
from typing import Optional, Sequence, Union

# A condition as written in the schema: 'IDENT', {'all': [...]},
# {'any': [...]} or {'not': COND}.  Shape-checked in check.py.
Cond = Union[str, dict]

# Words that may not be used as C identifiers: C11 and GNU C keywords,
# C++ keywords and alternative tokens (generated headers may be included
# from C++), and macros that compilers predefine.
C_RESERVED = frozenset('''
    _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn
    _Static_assert _Thread_local and and_eq asm auto bitand bitor bool break
    case catch char class compl const const_cast continue default delete do
    double dynamic_cast else enum errno explicit extern false float for friend
    goto i386 if inline int linux long mips mutable namespace new not not_eq
    operator or or_eq private protected public register reinterpret_cast
    restrict return short signed sizeof sparc static static_cast struct switch
    template this throw true try typedef typeid typename typeof union unix
    unsigned using virtual void volatile wchar_t while xor xor_eq
'''.split())

_NON_C_CHAR = re.compile(r'[^A-Za-z0-9_]')


def c_name(name: str, protect: bool = True) -> str:
    """The C identifier for schema name NAME.

    Every character outside [A-Za-z0-9_] becomes '_'.  With PROTECT, a
    result that starts with a digit or is a reserved word gets a 'q_'
    prefix, so it can be used alone as a field or parameter name.
    """
    result = _NON_C_CHAR.sub('_', name)
    if protect and (result[:1].isdigit() or result in C_RESERVED):
        return 'q_' + result
    return result


def camel_to_upper(name: str) -> str:
    """CamelCase type name -> UPPER_CASE prefix of its enum constants."""
    if not any(ch.islower() for ch in name):
        return c_name(name, False)
    text = c_name(name, False)
    out = []
    for i, ch in enumerate(text):
        if ch.isupper() and i > 0 and text[i - 1] != '_':
            nxt = text[i + 1] if i + 1 < len(text) else ''
            if nxt.islower() or text[i - 1].isdigit():
                out.append('_')
        out.append(ch)
    return ''.join(out).lstrip('_').upper()


def c_enum_const(type_name: str, value: str,
                 prefix: Optional[str] = None) -> str:
    """The C constant for VALUE of enum TYPE_NAME (or its PREFIX)."""
    return camel_to_upper(prefix or type_name) + '_' + c_name(value, False).upper()


def cgen_ifcond(cond: Optional[Cond]) -> str:
    """The C preprocessor expression for a schema condition ('' if none)."""
    if cond is None:
        return ''
    return _cgen(cond, top=True)


def _cgen(cond: Cond, top: bool) -> str:
    if isinstance(cond, str):
        return 'defined(%s)' % cond
    (op, arg), = cond.items()
    if op == 'not':
        return '!' + _cgen(arg, top=False)
    operands: Sequence[Cond] = arg
    joined = (' && ' if op == 'all' else ' || ').join(
        _cgen(operand, top=False) for operand in operands)
    if top:
        return joined
    return '(' + joined + ')'


def schema_repr(value: object) -> str:
    """VALUE written back in schema syntax (single quotes), for messages."""
    if isinstance(value, str):
        return "'" + value.replace('\\', '\\\\') + "'"
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, list):
        return '[' + ', '.join(schema_repr(v) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join('%s: %s' % (schema_repr(k), schema_repr(v))
                               for k, v in value.items()) + '}'
    return str(value)


def quoted_list(names: Sequence[str]) -> str:
    """'a', 'b' and 'c' -> "'a', 'b', 'c'" (for messages)."""
    return ', '.join("'%s'" % n for n in names)
