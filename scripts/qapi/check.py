# SPDX-License-Identifier: MIT
"""Shape checks on raw definitions: step 2 of docs/spec/qapi-language.md §9.1.

Each definition is checked in order: meta key, name, doc, missing keys,
unknown keys, the shape of its kind, 'if', 'features', flags.  What
needs other definitions (types exist, bases, clashes) is schema.py's.
"""

import re
from typing import Dict, List, Optional, Sequence, Set, Tuple

from .common import c_name, quoted_list, schema_repr
from .error import QAPIError
from .parser import ParsedSchema, Pragmas, TopExpr, Value
from .source import QAPISourceInfo

META_KEYS = ('alternate', 'command', 'enum', 'event', 'struct', 'type',
             'union')

# Required and optional keys of each kind, beside the meta key, 'if'
# and 'features'.
KIND_KEYS = {
    'enum': (('data',), ('prefix',)),
    'struct': (('data',), ('base',)),
    'union': (('data',), ('base', 'discriminator')),
    'alternate': (('data',), ()),
    'command': ((), ('data', 'returns', 'boxed', 'gen', 'success-response',
                     'allow-oob', 'allow-preconfig', 'coroutine')),
    'event': ((), ('data', 'boxed')),
}

_NAME = re.compile(r'(__[A-Za-z0-9.-]+_)?([xX]-)?(.*)', re.DOTALL)
_STEM = re.compile(r'[A-Za-z][A-Za-z0-9_-]*')
_VALUE_STEM = re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]*')
_IDENT = re.compile(r'[A-Z][A-Z0-9_]*')

# Case rules of §7.2, checked on the stem: (pattern, description).
_CASE = {
    'type': (re.compile(r'[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*'),
             'CamelCase (a capital, then letters and digits, with at '
             'least one lower-case letter)'),
    'command': (re.compile(r'[a-z][a-z0-9-]*'),
                "lower-case letters, digits and '-'"),
    'command+': (re.compile(r'[a-z][a-z0-9_-]*'),
                 "lower-case letters, digits, '-' and '_'"),
    'event': (re.compile(r'[A-Z][A-Z0-9_]*'),
              "upper-case letters, digits and '_'"),
    'member': (re.compile(r'[a-z][a-z0-9-]*'),
               "lower-case letters, digits and '-'"),
    'member+': (re.compile(r'[A-Za-z][A-Za-z0-9_-]*'),
                "letters, digits, '-' and '_'"),
    'value': (re.compile(r'[a-z0-9][a-z0-9-]*'),
              "lower-case letters, digits and '-'"),
    'value+': (re.compile(r'[A-Za-z0-9][A-Za-z0-9_-]*'),
               "letters, digits, '-' and '_'"),
    'lower': (re.compile(r'[a-z][a-z0-9-]*'),
              "lower-case letters, digits and '-'"),
}

SPECIAL_FEATURES = ('deprecated', 'unstable')

_LONG_FORM_KEYS = frozenset(('type', 'if', 'features'))


def is_inline_struct(value: Value, compat: bool) -> bool:
    """Whether VALUE, a member's type, is an inline anonymous struct:
    under --compat 2012, an object that is not the long form of a member
    (§4: a 'type' naming a type, with 'if' and 'features' at most)."""
    if not compat or not isinstance(value, dict):
        return False
    ref = value.get('type')
    is_ref = isinstance(ref, str) or (
        isinstance(ref, list) and len(ref) == 1 and isinstance(ref[0], str))
    return not is_ref or not _LONG_FORM_KEYS.issuperset(value)


class ShapeChecker:
    """Checks one definition after another against §9.1 step 2."""

    def __init__(self, pragmas: Pragmas, compat: bool = False):
        self.pragmas = pragmas
        # --compat 2012 (§11/7): no case rules, no docs, inline structs.
        self.compat = compat
        # (name, rule) pairs check_name() accepted: the same names recur
        # in many definitions.
        self.good_names: Set[Tuple[str, str]] = set()
        # The same for check_member_name().
        self.good_member_names: Set[Tuple[str, str]] = set()

    # Names (§7)

    def check_name(self, name: Value, info: QAPISourceInfo, role: str,
                   rule: str, where: Optional[str] = None) -> str:
        """Check NAME, a ROLE ('member', 'command name', ...) of WHERE
        (e.g. "struct 'Foo'", if that helps), following case RULE;
        return it."""
        if not isinstance(name, str):
            raise QAPIError(info, '%s%s must be a string, not %s'
                            % (role, ' of ' + where if where else '',
                               schema_repr(name)))
        if (name, rule) in self.good_names:
            return name
        role_of = ' of ' + where if where else ''
        match = _NAME.fullmatch(name)
        assert match
        stem = match.group(3)
        stem_rule = _VALUE_STEM if rule.startswith('value') else _STEM
        if not stem_rule.fullmatch(stem):
            raise QAPIError(
                info, "%s '%s'%s is not a valid name: after an optional "
                "'__RFQDN_' and 'x-' it must start with a letter%s and "
                "continue with letters, digits, '-' and '_'"
                % (role, name, role_of,
                   ' or digit' if rule.startswith('value') else ''))
        if c_name(name, False).startswith('q_'):
            raise QAPIError(info, "%s '%s'%s is reserved: names whose C "
                            "name starts with 'q_' belong to the generator"
                            % (role, name, role_of))
        pattern, what = _CASE[rule]
        if not self.compat and not pattern.fullmatch(stem):
            hint = ''
            if rule + '+' in _CASE and _CASE[rule + '+'][0].fullmatch(stem):
                hint = (" (or %s, with the definition listed in pragma "
                        "'%s')" % (_CASE[rule + '+'][1],
                                   'command-name-exceptions'
                                   if rule == 'command' else
                                   'member-name-exceptions'))
            raise QAPIError(info, "%s '%s'%s must use %s%s"
                            % (role, name, role_of, what, hint))
        if rule == 'type' and name.endswith('List'):
            raise QAPIError(info, "%s '%s' must not end in 'List': such "
                            "names are for array types" % (role, name))
        self.good_names.add((name, rule))
        return name

    def check_member_name(self, name: Value, info: QAPISourceInfo,
                          role: str, defn: str) -> str:
        rule = ('member+' if self.pragmas.allows('member-name-exceptions',
                                                 defn) else 'member')
        if isinstance(name, str) and (name, rule) in self.good_member_names:
            return name
        self.check_name(name, info, role, rule)
        assert isinstance(name, str)
        if name == 'u' or c_name(name).startswith('has_'):
            raise QAPIError(info, "%s '%s' is reserved: 'u' and names "
                            "starting with 'has-' or 'has_' are used in "
                            "the generated C" % (role, name))
        self.good_member_names.add((name, rule))
        return name

    # Conditions (§5) and features (§6)

    def check_if(self, cond: Value, info: QAPISourceInfo, where: str) -> None:
        def bad(why: str) -> QAPIError:
            return QAPIError(info, "'if' of %s: condition %s %s"
                             % (where, schema_repr(cond), why))

        def walk(node: Value) -> None:
            if isinstance(node, str):
                if not _IDENT.fullmatch(node):
                    raise bad("is invalid: '%s' must be an identifier of "
                              "upper-case letters, digits and '_', "
                              "starting with a letter" % node)
                return
            if not isinstance(node, dict):
                raise bad('is invalid: %s is neither a string nor an '
                          "object with one key 'all', 'any' or 'not'"
                          % schema_repr(node))
            if len(node) != 1:
                raise bad("is invalid: %s must have exactly one key, "
                          "'all', 'any' or 'not'" % schema_repr(node))
            (op, arg), = node.items()
            if op == 'not':
                walk(arg)
            elif op in ('all', 'any'):
                if not isinstance(arg, list) or not arg:
                    raise bad("is invalid: '%s' takes a non-empty list of "
                              "conditions" % op)
                for operand in arg:
                    walk(operand)
            else:
                raise bad("is invalid: unknown operator '%s'; valid "
                          "operators are 'all', 'any', 'not'" % op)

        walk(cond)

    def check_features(self, features: Value, info: QAPISourceInfo,
                       where: str) -> None:
        if not isinstance(features, list):
            raise QAPIError(info, "'features' of %s must be a list, not %s"
                            % (where, schema_repr(features)))
        seen: Dict[str, str] = {}
        for feat in features:
            if isinstance(feat, dict):
                self.check_keys(feat, info, 'a feature of %s' % where,
                                ('name',), ('if',))
                name = feat['name']
            else:
                name = feat
            self.check_name(name, info, 'feature', 'lower', where)
            assert isinstance(name, str)
            if isinstance(feat, dict) and 'if' in feat:
                self.check_if(feat['if'], info, "feature '%s'" % name)
            key = c_name(name, False)
            if key in seen:
                what = ('is listed twice' if seen[key] == name else
                        "clashes with feature '%s'" % seen[key])
                raise QAPIError(info, "feature '%s' of %s %s"
                                % (name, where, what))
            seen[key] = name

    # Keys

    @staticmethod
    def check_keys(obj: Dict[str, Value], info: QAPISourceInfo, what: str,
                   required: Sequence[str], optional: Sequence[str]) -> None:
        missing = [key for key in required if key not in obj]
        if missing:
            raise QAPIError(info, '%s lacks %s %s'
                            % (what, 'keys' if len(missing) > 1 else 'key',
                               quoted_list(missing)))
        valid = set(required) | set(optional)
        unknown = [key for key in obj if key not in valid]
        if unknown:
            raise QAPIError(info, '%s has unknown %s %s; valid keys are %s'
                            % (what, 'keys' if len(unknown) > 1 else 'key',
                               quoted_list(unknown),
                               quoted_list(sorted(valid))))

    # Type references and members (§4)

    @staticmethod
    def check_typeref(ref: Value, info: QAPISourceInfo, role: str,
                      allow_array: bool = True) -> None:
        if isinstance(ref, str):
            return
        if isinstance(ref, list) and allow_array:
            if len(ref) == 1 and isinstance(ref[0], str):
                return
            raise QAPIError(info, "%s: an array type is written as a list "
                            "of exactly one type name, not %s"
                            % (role, schema_repr(ref)))
        raise QAPIError(info, '%s must name a type%s, not %s'
                        % (role, " or be ['TYPE']" if allow_array else '',
                           schema_repr(ref)))

    def check_members(self, data: Value, info: QAPISourceInfo, role: str,
                      defn: str, member_role: str = 'member') -> None:
        """DATA, an object of members (§4) of definition DEFN."""
        if not isinstance(data, dict):
            raise QAPIError(info, '%s must be an object of members, not %s'
                            % (role, schema_repr(data)))
        for key, value in data.items():
            name = key[1:] if key.startswith('*') else key
            self.check_member_name(name, info, member_role, defn)
            what = "%s '%s'" % (member_role, name)
            if is_inline_struct(value, self.compat):
                self.check_members(value, info, what, defn, member_role)
            elif isinstance(value, dict):
                if 'type' not in value:
                    raise QAPIError(info, "%s has no 'type': a member's "
                                    "object form is {'type': TYPE, 'if': "
                                    "COND, 'features': [...]}; there are "
                                    "no inline anonymous structs (--compat "
                                    "2012 accepts them)" % what)
                self.check_keys(value, info, what, ('type',),
                                ('if', 'features'))
                self.check_typeref(value['type'], info, what)
                if 'if' in value:
                    self.check_if(value['if'], info, what)
                if 'features' in value:
                    self.check_features(value['features'], info, what)
            else:
                self.check_typeref(value, info, what)

    def check_branches(self, data: Value, info: QAPISourceInfo,
                       kind: str, defn: str) -> None:
        """DATA, the branches of a union (KIND 'union' or 'simple') or
        an alternate (KIND 'alternate')."""
        if not isinstance(data, dict):
            raise QAPIError(info, "'data' must be an object of branches, "
                            'not %s' % schema_repr(data))
        if kind == 'alternate' and not data:
            raise QAPIError(info, "'data' of an alternate needs at least "
                            "one branch")
        for name, value in data.items():
            if kind == 'alternate':
                self.check_name(name, info, 'branch', 'lower')
            elif kind == 'simple':
                rule = ('member+' if self.pragmas.allows(
                    'member-name-exceptions', defn) else 'member')
                self.check_name(name, info, 'branch', rule)
            # A flat union's branch has no case rule of its own: it must
            # be a value of the discriminator enum (schema.py), which
            # was checked with that enum's exception (§7.2).
            what = "branch '%s'" % name
            arrays = kind != 'union'
            if isinstance(value, dict):
                self.check_keys(value, info, what, ('type',), ('if',))
                self.check_typeref(value['type'], info, what, arrays)
                if 'if' in value:
                    self.check_if(value['if'], info, what)
            else:
                self.check_typeref(value, info, what, arrays)

    # Definitions

    def check_definition(self, top: TopExpr) -> str:
        """Check TOP's shape; return its kind ('type' becomes 'struct')."""
        expr, info, doc = top.expr, top.info, top.doc
        metas = [key for key in META_KEYS if key in expr]
        if len(metas) != 1:
            raise QAPIError(info, 'a definition needs exactly one of the '
                            'keys %s; %s' % (
                                quoted_list(META_KEYS),
                                'it has none' if not metas else
                                'it has ' + quoted_list(metas)))
        meta = metas[0]
        kind = 'struct' if meta == 'type' else meta
        name = expr[meta]
        if not isinstance(name, str):
            raise QAPIError(info, "the name of a definition ('%s') must be "
                            'a string, not %s' % (meta, schema_repr(name)))
        info.set_defn(kind, name)

        if kind == 'command':
            rule = ('command+' if self.pragmas.allows(
                'command-name-exceptions', name) else 'command')
        elif kind == 'event':
            rule = 'event'
        else:
            rule = 'type'
        self.check_name(name, info, '%s name' % kind, rule)

        if doc is not None:
            if doc.symbol != name:
                raise QAPIError(info, "the doc block before this definition "
                                "is for '%s'" % doc.symbol)
            if kind != 'command' and 'Returns' in doc.section_tags():
                raise QAPIError(doc.info, "'Returns:' is only for commands, "
                                "not for %s '%s'" % (kind, name),
                                with_context=False)
        elif self.pragmas.doc_required and not self.compat:
            raise QAPIError(info, "a doc block is required (pragma "
                            "'doc-required'); document '%s' with "
                            "'# @%s:'" % (name, name))

        required, optional = KIND_KEYS[kind]
        if kind == 'union' and ('base' in expr or 'discriminator' in expr):
            required = ('data', 'base', 'discriminator')
            optional = ()
        self.check_keys(expr, info, '%s' % kind, (meta,) + required,
                        optional + ('if', 'features'))

        getattr(self, '_check_' + kind)(expr, info, name)

        if 'if' in expr:
            self.check_if(expr['if'], info, "%s '%s'" % (kind, name))
        if 'features' in expr:
            self.check_features(expr['features'], info,
                                "%s '%s'" % (kind, name))
        if kind in ('command', 'event'):
            self._check_flags(expr, info)
        return kind

    def _check_enum(self, expr: Dict[str, Value], info: QAPISourceInfo,
                    name: str) -> None:
        data = expr['data']
        if not isinstance(data, list):
            raise QAPIError(info, "'data' of an enum must be a list of "
                            'values, not %s' % schema_repr(data))
        rule = ('value+' if self.pragmas.allows('member-name-exceptions',
                                                name) else 'value')
        for value in data:
            if isinstance(value, dict):
                self.check_keys(value, info, 'an enum value', ('name',),
                                ('if', 'features'))
                vname = self.check_name(value['name'], info, 'value', rule)
                if 'if' in value:
                    self.check_if(value['if'], info, "value '%s'" % vname)
                if 'features' in value:
                    self.check_features(value['features'], info,
                                        "value '%s'" % vname)
            else:
                self.check_name(value, info, 'value', rule)
        if 'prefix' in expr and not isinstance(expr['prefix'], str):
            raise QAPIError(info, "'prefix' must be a string, not %s"
                            % schema_repr(expr['prefix']))

    def _check_struct(self, expr: Dict[str, Value], info: QAPISourceInfo,
                      name: str) -> None:
        self.check_members(expr['data'], info, "'data'", name)
        if 'base' in expr and not isinstance(expr['base'], str):
            raise QAPIError(info, "'base' must name a struct, not %s"
                            % schema_repr(expr['base']))

    def _check_union(self, expr: Dict[str, Value], info: QAPISourceInfo,
                     name: str) -> None:
        if 'discriminator' not in expr:     # the 2012 simple union
            self.check_branches(expr['data'], info, 'simple', name)
            return
        base = expr['base']
        if isinstance(base, dict):
            self.check_members(base, info, "'base'", name)
        elif not isinstance(base, str):
            raise QAPIError(info, "'base' must name a struct or be an "
                            'object of members, not %s' % schema_repr(base))
        if not isinstance(expr['discriminator'], str):
            raise QAPIError(info, "'discriminator' must be a string naming "
                            'a member of the base, not %s'
                            % schema_repr(expr['discriminator']))
        self.check_branches(expr['data'], info, 'union', name)

    def _check_alternate(self, expr: Dict[str, Value], info: QAPISourceInfo,
                         name: str) -> None:
        self.check_branches(expr['data'], info, 'alternate', name)

    def _check_command(self, expr: Dict[str, Value], info: QAPISourceInfo,
                       name: str) -> None:
        self._check_args(expr, info, name)
        if 'returns' in expr:
            returns = expr['returns']
            if isinstance(returns, dict):
                raise QAPIError(info, "'returns' must name a type or be "
                                "['TYPE'], not an inline object")
            self.check_typeref(returns, info, "'returns'")

    def _check_event(self, expr: Dict[str, Value], info: QAPISourceInfo,
                     name: str) -> None:
        self._check_args(expr, info, name)

    def _check_args(self, expr: Dict[str, Value], info: QAPISourceInfo,
                    name: str) -> None:
        if 'data' not in expr:
            return
        data = expr['data']
        if isinstance(data, dict):
            self.check_members(data, info, "'data'", name, 'argument')
        elif not isinstance(data, str):
            raise QAPIError(info, "'data' must name a type or be an object "
                            'of arguments, not %s' % schema_repr(data))

    @staticmethod
    def _check_flags(expr: Dict[str, Value], info: QAPISourceInfo) -> None:
        for flag in ('gen', 'success-response'):
            if flag in expr and expr[flag] not in (False, 'no'):
                raise QAPIError(info, "flag '%s' may only be false (or, in "
                                "the 2012 form, 'no'), not %s"
                                % (flag, schema_repr(expr[flag])))
        for flag in ('boxed', 'allow-oob', 'allow-preconfig', 'coroutine'):
            if flag in expr and expr[flag] is not True:
                raise QAPIError(info, "flag '%s' may only be true, not %s"
                                % (flag, schema_repr(expr[flag])))
        if expr.get('coroutine') and expr.get('allow-oob'):
            raise QAPIError(info, "flags 'coroutine' and 'allow-oob' "
                            'exclude each other')


def check_shapes(parsed: ParsedSchema) -> List[str]:
    """Shape-check every definition; return their kinds, in order."""
    checker = ShapeChecker(parsed.pragmas, parsed.compat)
    return [checker.check_definition(top) for top in parsed.definitions]


