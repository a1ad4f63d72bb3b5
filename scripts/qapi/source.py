# SPDX-License-Identifier: MIT
"""Source positions: which file, which line, and how we got there."""

from typing import List, Optional


class QAPISourceInfo:
    """A place in a schema file.

    PARENT is the position of the include directive that brought this
    file in (None for the main file).  DEFN_META and DEFN_NAME name the
    definition being checked, for the 'In struct 'Foo':' context line.
    """

    def __init__(self, fname: str, line: int,
                 parent: Optional['QAPISourceInfo']):
        self.fname = fname
        self.line = line
        self.parent = parent
        self.defn_meta: Optional[str] = None
        self.defn_name: Optional[str] = None

    def at_line(self, line: int) -> 'QAPISourceInfo':
        """A copy of this position moved to LINE of the same file."""
        return QAPISourceInfo(self.fname, line, self.parent)

    def set_defn(self, meta: str, name: str) -> None:
        self.defn_meta = meta
        self.defn_name = name

    def loc(self, col: Optional[int] = None) -> str:
        if col is None:
            return '%s:%d' % (self.fname, self.line)
        return '%s:%d:%d' % (self.fname, self.line, col)

    def include_chain(self) -> List[str]:
        """'In file included from ...' lines, outermost first."""
        lines = []
        parent = self.parent
        while parent:
            lines.append('In file included from %s:' % parent.loc())
            parent = parent.parent
        lines.reverse()
        return lines

    def context(self) -> Optional[str]:
        if self.defn_meta is None:
            return None
        return "%s: In %s '%s':" % (self.fname, self.defn_meta,
                                     self.defn_name)
