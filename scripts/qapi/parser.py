# SPDX-License-Identifier: MIT
"""Reading schema files: text -> top-level expressions and doc blocks.

This is step 1 of docs/spec/qapi-language.md §9.1: lexical and grammar errors,
include and pragma directives, doc block framing and syntax, in file
order.  The result is a ParsedSchema: every definition as a plain dict
(keys in schema order) with its position and doc block, the free-form
doc blocks, the modules and the pragmas.
"""

import os
import re
from typing import Dict, List, Optional, Set, Tuple, Union

from .doc import QAPIDoc, parse_doc
from .common import quoted_list
from .error import QAPIError
from .source import QAPISourceInfo

Value = Union[str, bool, list, dict]

_WHITESPACE = re.compile(r'[ \t\r\n]+')
# A well-formed string: printable ASCII except quote and backslash, or
# the escape \\.  Anything else takes the slow path in _string_error().
_STRING = re.compile(r"'((?:[\x20-\x26\x28-\x5b\x5d-\x7e]|\\\\)*)'")
# A run of stray text ends at whitespace, a structural character or a
# quote (§1/2).
_STRAY = re.compile(r"[^ \t\r\n{}\[\]:,']+")
_STRUCTURAL = '{}[]:,'
# The common case in one match: whitespace, then a structural character
# or a well-formed string (group 2 its content).  Anything else (a
# comment, a doc block, a boolean, an error, the end) takes next()'s
# general path.
_FAST_TOKEN = re.compile(r"[ \t\r\n]*([{}\[\]:,]|"
                         r"'((?:[\x20-\x26\x28-\x5b\x5d-\x7e]|\\\\)*)')")

# A token inside an expression, after whitespace and comments: group 1
# a structural character, 2 a well-formed string's content, 3 a
# boolean, 4 anything else (an error or the end of the text).
_EXPR_TOKEN = re.compile(r"(?:[ \t\r\n]+|#[^\n]*)*"
                         r"(?:([{}\[\]:,])"
                         r"|'((?:[\x20-\x26\x28-\x5b\x5d-\x7e]|\\\\)*)'"
                         r"|(true|false)(?![^ \t\r\n{}\[\]:,'])"
                         r"|(.|\Z))", re.DOTALL)

# Nesting deeper than this is refused with an error; no real schema
# comes close, and it keeps the recursive parser within Python's stack.
MAX_DEPTH = 64


def column(line_text: str, index: int) -> int:
    """1-based column of LINE_TEXT[INDEX]; a tab moves to the next stop
    of 1, 9, 17, ..."""
    col = 1
    for ch in line_text[:index]:
        col = ((col - 1) // 8 + 1) * 8 + 1 if ch == '\t' else col + 1
    return col


def _printable(text: str) -> str:
    """TEXT for a message: non-printable characters as escapes."""
    return ''.join(ch if ' ' <= ch <= '~' else
                   '\\x%02x' % ord(ch) if ord(ch) < 0x100 else
                   '\\u%04x' % ord(ch) if ord(ch) < 0x10000 else
                   '\\U%08x' % ord(ch) for ch in text)


class DocLine:
    """One line of a doc block: its text after '# ', and where that
    text starts in the file."""
    __slots__ = ('line', 'col', 'text')

    def __init__(self, line: int, col: int, text: str):
        self.line = line
        self.col = col
        self.text = text


class Lexer:
    """Tokens of one schema file.  After next(), TOK is one of
    '{', '}', '[', ']', ':', ',', 'str', 'bool', 'doc', 'eof'."""

    def __init__(self, text: str, info: QAPISourceInfo,
                 compat: bool = False):
        self.text = text
        self.info = info            # the file, at line 1
        # --compat 2012 (§11/7): '##' opens no doc block, and a string
        # may hold any escape '\C', which stands for C.
        self.compat = compat
        self.pos = 0
        self.line = 1
        self.tok = ''
        self.val: Value = ''
        self.doc_lines: List[DocLine] = []
        self.tok_pos = 0
        self.tok_line = 1

    # Positions

    def _col(self, pos: int) -> int:
        start = self.text.rfind('\n', 0, pos) + 1
        return column(self.text[start:pos], pos - start)

    def error(self, msg: str, pos: Optional[int] = None) -> QAPIError:
        """An error at POS (default: the current token) of this file."""
        if pos is None:
            pos = self.tok_pos
        line = self.text.count('\n', 0, pos) + 1
        return QAPIError(self.info.at_line(line), msg, col=self._col(pos),
                         with_context=False)

    def eof_error(self, msg: str) -> QAPIError:
        """An error at end of file: just after the last character of the
        last line."""
        text = self.text
        end = len(text)
        if text.endswith('\n'):
            end -= 1
            if text.endswith('\r\n'):
                end -= 1
        return self.error(msg, end)

    # Scanning

    def _skip_space(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        if not match:
            return pos
        end = match.end()
        newlines = self.text.count('\n', pos, end)
        if newlines:
            self.line += newlines
        return end

    def next(self, top: bool = False) -> None:
        """Advance to the next token.  TOP is true between top-level
        expressions, where a '##' comment opens a doc block."""
        text = self.text
        pos = self.pos
        match = _FAST_TOKEN.match(text, pos)
        if match is not None:
            start = match.start(1)
            newlines = text.count('\n', pos, start)
            if newlines:
                self.line += newlines
            self.tok_pos = start
            self.tok_line = self.line
            self.pos = match.end()
            string = match.group(2)
            if string is None:
                self.tok = text[start]
            else:
                self.tok = 'str'
                self.val = string.replace('\\\\', '\\')
            return
        while True:
            pos = self._skip_space(pos)
            if pos < len(text) and text[pos] == '#':
                if top and text.startswith('##', pos) and not self.compat:
                    self.tok_pos = pos
                    self.tok_line = self.line
                    self.pos = self._doc_block(pos)
                    self.tok = 'doc'
                    return
                end = text.find('\n', pos)
                pos = len(text) if end < 0 else end
                continue
            break
        self.tok_pos = pos
        self.tok_line = self.line
        if pos >= len(text):
            self.tok = 'eof'
            self.pos = pos
            return
        ch = text[pos]
        if ch in _STRUCTURAL:
            self.tok = ch
            self.pos = pos + 1
        elif ch == "'":
            match = _STRING.match(text, pos)
            if match:
                self.tok = 'str'
                self.val = match.group(1).replace('\\\\', '\\')
                self.pos = match.end()
            elif self.compat:
                self.tok = 'str'
                self.val, self.pos = self._compat_string(pos)
            else:
                raise self._string_error(pos)
        else:
            match = _STRAY.match(text, pos)
            assert match            # ch is none of the terminators
            word = match.group(0)
            if word in ('true', 'false'):
                self.tok = 'bool'
                self.val = word == 'true'
                self.pos = match.end()
            else:
                raise self.error("stray '%s'" % _printable(word), pos)

    def _compat_string(self, start: int) -> Tuple[str, int]:
        """The string opening at START as the 2012 generator read it:
        '\\C' is C, whatever C is.  Its value and the position after it."""
        text = self.text
        chars: List[str] = []
        pos = start + 1
        while pos < len(text):
            ch = text[pos]
            if ch == "'":
                return ''.join(chars), pos + 1
            if ch == '\\':
                pos += 1
                ch = text[pos:pos + 1]
            if not ' ' <= ch <= '~':
                break
            chars.append(ch)
            pos += 1
        raise self._string_error(start)

    def _string_error(self, start: int) -> QAPIError:
        """The error for the faulty string opening at START."""
        text = self.text
        pos = start + 1
        while pos < len(text):
            ch = text[pos]
            if ch == "'":
                break           # not reached: the regexp would have matched
            if ch == '\n' or ch == '\r':
                return self.error('string is not closed on its line', start)
            if ch == '\\':
                nxt = text[pos + 1:pos + 2]
                if nxt in ('', '\n', '\r'):
                    return self.error('string is not closed on its line',
                                      start)
                if nxt != '\\' and not self.compat:
                    return self.error(
                        "invalid escape '\\%s' in string (only '\\\\' is "
                        "allowed; --compat 2012 accepts any)"
                        % _printable(nxt), start)
                pos += 2
                continue
            if not ' ' <= ch <= '~':
                return self.error(
                    "string contains character '%s' (only printable ASCII "
                    "is allowed)" % _printable(ch), start)
            pos += 1
        return self.error('string is not closed on its line', start)

    def _doc_block(self, pos: int) -> int:
        """Read the doc block opening at POS; return where it ends."""
        text = self.text
        self.doc_lines = []
        eol = text.find('\n', pos)
        if eol < 0:
            eol = len(text)
        opening = text[pos:eol].rstrip()
        if opening != '##':
            raise self.error("text after the '##' that opens a doc block",
                             pos + 2)
        line = self.line
        while eol < len(text):
            line += 1
            start = eol + 1
            eol = text.find('\n', start)
            if eol < 0:
                eol = len(text)
            raw = text[start:eol].rstrip()
            content = raw.lstrip(' \t')
            if not content:
                continue
            hash_pos = start + len(raw) - len(content)
            self.line = line
            if content.startswith('##'):
                if content != '##':
                    raise self.error(
                        "text after the '##' that closes a doc block",
                        hash_pos + 2)
                return eol
            if not content.startswith('#'):
                raise self.error("doc block is not closed: '##' expected "
                                 "before this line", hash_pos)
            if content == '#':
                self.doc_lines.append(DocLine(line, 0, ''))
            elif content[1] == ' ':
                col = column(text[start:eol], hash_pos - start + 2)
                self.doc_lines.append(DocLine(line, col, content[2:]))
            else:
                raise self.error("doc comment line must be '#' alone or "
                                 "'#' and a space", hash_pos)
        self.line = line
        raise self.eof_error("doc block is not closed: '##' expected "
                             "before end of file")


class TopExpr:
    """A top-level expression: a definition or a directive."""

    def __init__(self, expr: Dict[str, Value], info: QAPISourceInfo,
                 doc: Optional[QAPIDoc]):
        self.expr = expr
        self.info = info
        self.doc = doc


class Pragmas:
    """The schema-wide pragma settings (§2.2)."""

    LISTS = ('command-name-exceptions', 'command-returns-exceptions',
             'member-name-exceptions')

    def __init__(self) -> None:
        self.doc_required = False
        self.lists: Dict[str, List[str]] = {name: [] for name in self.LISTS}

    def allows(self, pragma: str, name: str) -> bool:
        return name in self.lists[pragma]


class ParsedSchema:
    """Everything step 1 reads: definitions in order (includes expanded
    in place), doc blocks, modules and pragmas."""

    def __init__(self, main_fname: str, compat: bool = False):
        self.main_fname = main_fname
        self.compat = compat            # --compat 2012
        self.definitions: List[TopExpr] = []
        self.free_docs: List[QAPIDoc] = []
        # Module files as opened, in order of first reading, and for
        # each the modules it includes.
        self.modules: List[str] = []
        self.includes: Dict[str, List[str]] = {}
        self.pragmas = Pragmas()


def read_schema(fname: str, compat: bool = False) -> ParsedSchema:
    """Read FNAME and every file it includes, with the rules of
    --compat 2012 when COMPAT.  Raises QAPIError."""
    parsed = ParsedSchema(fname, compat)
    _FileParser(parsed, fname, None, set()).parse()
    return parsed


def _read_text(fname: str, at: Optional[QAPISourceInfo]) -> str:
    """The text of FNAME; AT is the include directive asking for it."""
    try:
        with open(fname, 'rb') as file:
            data = file.read()
    except OSError as err:
        reason = err.strerror or str(err)
        if at is None:
            raise QAPIError(None, '%s: cannot read schema: %s'
                            % (fname, reason)) from err
        raise QAPIError(at, "cannot include '%s': %s" % (fname, reason),
                        with_context=False) from err
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as err:
        good = data[:err.start].decode('utf-8')
        line = good.count('\n') + 1
        col = column(good[good.rfind('\n') + 1:], len(good)
                     - good.rfind('\n') - 1)
        info = QAPISourceInfo(fname, line, at)
        raise QAPIError(info, 'invalid UTF-8 (byte 0x%02x)'
                        % data[err.start], col=col,
                        with_context=False) from err


class _FileParser:
    """Parses one file into PARSED, recursing into its includes."""

    def __init__(self, parsed: ParsedSchema, fname: str,
                 parent: Optional[QAPISourceInfo], seen: Set[str]):
        self.parsed = parsed
        self.fname = fname
        self.parent = parent
        self.seen = seen            # normalised paths of files read
        self.lex = Lexer(_read_text(fname, parent),
                         QAPISourceInfo(fname, 1, parent), parsed.compat)

    def parse(self) -> None:
        parsed = self.parsed
        parsed.modules.append(self.fname)
        parsed.includes[self.fname] = []
        self.seen.add(os.path.abspath(self.fname))
        lex = self.lex
        pending: Optional[QAPIDoc] = None      # doc awaiting a definition
        lex.next(top=True)
        while lex.tok != 'eof':
            if lex.tok == 'doc':
                self._unattached(pending)
                info = lex.info.at_line(lex.tok_line)
                pending = parse_doc(info, lex.doc_lines)
                if pending.symbol is None:
                    parsed.free_docs.append(pending)
                lex.next(top=True)
                continue
            if lex.tok != '{':
                raise QAPIError(lex.info.at_line(lex.tok_line),
                                'expected an object at top level',
                                with_context=False)
            info = lex.info.at_line(lex.tok_line)
            expr = self._fast_object()
            if expr is None:
                expr = self._object(0)
            if 'include' in expr or 'pragma' in expr:
                self._unattached(pending)
                pending = None
                if 'include' in expr:
                    self._include(expr, info)
                else:
                    self._pragma(expr, info)
            else:
                if pending is not None and pending.symbol is None:
                    raise QAPIError(
                        pending.info, "a free-form doc block may not stand "
                        "right before a definition; document the "
                        "definition with '# @NAME:'", with_context=False)
                parsed.definitions.append(TopExpr(expr, info, pending))
                pending = None
            lex.next(top=True)
        self._unattached(pending)

    @staticmethod
    def _unattached(doc: Optional[QAPIDoc]) -> None:
        """A definition doc must be followed by its definition."""
        if doc is not None and doc.symbol is not None:
            raise QAPIError(doc.info, "doc block for '%s' is not followed "
                            "by its definition" % doc.symbol,
                            with_context=False)

    # Grammar (§1/5).  Each method is entered on the first token of its
    # value and returns with the last token of it current.

    def _value(self, depth: int) -> Value:
        lex = self.lex
        if depth >= MAX_DEPTH:
            raise lex.error('nesting is deeper than %d levels' % MAX_DEPTH)
        if lex.tok == '{':
            return self._object(depth)
        if lex.tok == '[':
            return self._array(depth)
        if lex.tok in ('str', 'bool'):
            return lex.val
        raise self._expected('a value (string, true, false, object or '
                             'array)')

    def _expected(self, what: str) -> QAPIError:
        if self.lex.tok == 'eof':
            return self.lex.eof_error('expected %s before end of file' % what)
        return self.lex.error('expected %s' % what)

    def _fast_object(self) -> Optional[Dict[str, Value]]:
        """The top-level object opening at the current token, read in
        one pass over its tokens; None when it has anything unusual (an
        error, deep nesting), and then nothing was consumed: _object()
        reads it again and reports what is wrong."""
        lex = self.lex
        text = lex.text
        start = lex.tok_pos
        # The open containers, and for each open object its pending key.
        stack: List[Union[Dict[str, Value], List[Value]]] = []
        keys: List[str] = []
        # What may come next: a value, a value or ']' (after '['), a key,
        # a key or '}' (after '{'), ':', or ',' or the closing bracket.
        value, value_or_end, key, key_or_end, colon, after = range(6)
        expect = value
        for match in _EXPR_TOKEN.finditer(text, start):
            kind = match.lastindex
            if kind == 1:
                tok = match[1]
                if expect == colon:         # (the most frequent cases first)
                    if tok != ':':
                        return None
                    expect = value
                    continue
                if expect == after:
                    top = stack[-1]
                    if tok == ',':
                        expect = key if type(top) is dict else value
                        continue
                    if tok != ('}' if type(top) is dict else ']'):
                        return None
                elif tok == '}' and expect == key_or_end \
                        or tok == ']' and expect == value_or_end:
                    top = stack[-1]
                elif tok in '{[' and expect <= value_or_end:
                    if len(stack) >= MAX_DEPTH // 2:
                        return None
                    if tok == '{':
                        stack.append({})
                        expect = key_or_end
                    else:
                        stack.append([])
                        expect = value_or_end
                    continue
                else:
                    return None
                # TOP is complete
                stack.pop()
                if not stack:
                    end = match.end()
                    lex.line += text.count('\n', start, end)
                    lex.pos = end
                    lex.tok = '}'
                    lex.tok_pos = end - 1
                    lex.tok_line = lex.line
                    assert type(top) is dict
                    return top
                item: Value = top
                expect = value      # TOP is the value its parent awaited
            elif kind == 2:
                item = match[2]
                if '\\' in item:
                    item = item.replace('\\\\', '\\')
                if expect >= key:       # key or key_or_end (not colon, after)
                    if expect > key_or_end or item in stack[-1]:
                        return None
                    keys.append(item)
                    expect = colon
                    continue
            elif kind == 3:
                item = match[3] == 'true'
            else:
                return None
            if expect > value_or_end:
                return None
            parent = stack[-1]
            if isinstance(parent, dict):
                parent[keys.pop()] = item
            else:
                parent.append(item)
            expect = after
        return None

    def _object(self, depth: int) -> Dict[str, Value]:
        lex = self.lex
        result: Dict[str, Value] = {}
        lex.next()
        if lex.tok == '}':
            return result
        while True:
            if lex.tok != 'str':
                raise self._expected("a string (a key)" if result
                                     else "a string (a key) or '}'")
            key = lex.val
            assert isinstance(key, str)
            lex.next()
            if lex.tok != ':':
                raise self._expected("':'")
            lex.next()
            if key in result:
                raise lex.error("duplicate key '%s'" % key)
            result[key] = self._value(depth + 1)
            lex.next()
            if lex.tok == '}':
                return result
            if lex.tok != ',':
                raise self._expected("',' or '}'")
            lex.next()

    def _array(self, depth: int) -> List[Value]:
        lex = self.lex
        result: List[Value] = []
        lex.next()
        if lex.tok == ']':
            return result
        if lex.tok not in ('{', '[', 'str', 'bool'):
            raise self._expected("a value (string, true, false, object or "
                                 "array) or ']'")
        while True:
            result.append(self._value(depth + 1))
            lex.next()
            if lex.tok == ']':
                return result
            if lex.tok != ',':
                raise self._expected("',' or ']'")
            lex.next()

    # Directives (§2)

    def _include(self, expr: Dict[str, Value], info: QAPISourceInfo) -> None:
        if len(expr) != 1:
            raise QAPIError(info, "an include directive has only the key "
                            "'include'; unexpected %s"
                            % quoted_list([k for k in expr if k != 'include']),
                            with_context=False)
        path = expr['include']
        if not isinstance(path, str):
            raise QAPIError(info, "'include' takes a string (a file name)",
                            with_context=False)
        fname = os.path.join(os.path.dirname(self.fname), path)
        normalised = os.path.abspath(fname)
        # A file of the include chain (this one or one including it)
        # would include itself.
        chain: List[str] = [self.fname]
        parent = self.parent
        while parent is not None:
            chain.append(parent.fname)
            parent = parent.parent
        for name in chain:
            if os.path.abspath(name) == normalised:
                raise QAPIError(info, "include loop: '%s' is already being "
                                "read (it includes this file)" % fname
                                if name != self.fname else
                                "include loop: '%s' includes itself" % fname,
                                with_context=False)
        self.parsed.includes[self.fname].append(fname)
        if normalised in self.seen:
            return
        _FileParser(self.parsed, fname, info, self.seen).parse()

    def _pragma(self, expr: Dict[str, Value], info: QAPISourceInfo) -> None:
        if len(expr) != 1:
            raise QAPIError(info, "a pragma directive has only the key "
                            "'pragma'; unexpected %s"
                            % quoted_list([k for k in expr if k != 'pragma']),
                            with_context=False)
        body = expr['pragma']
        if not isinstance(body, dict):
            raise QAPIError(info, "'pragma' takes an object of pragmas",
                            with_context=False)
        pragmas = self.parsed.pragmas
        valid = sorted(('doc-required',) + Pragmas.LISTS)
        for name, value in body.items():
            if name == 'doc-required':
                if not isinstance(value, bool):
                    raise QAPIError(info, "pragma 'doc-required' takes true "
                                    "or false", with_context=False)
                pragmas.doc_required = value
            elif name in Pragmas.LISTS:
                if not isinstance(value, list) or not all(
                        isinstance(item, str) for item in value):
                    raise QAPIError(info, "pragma '%s' takes a list of "
                                    "strings" % name, with_context=False)
                pragmas.lists[name].extend(value)
            else:
                raise QAPIError(info, "unknown pragma '%s'; valid pragmas "
                                "are %s" % (name, quoted_list(valid)),
                                with_context=False)
