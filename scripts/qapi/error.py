# SPDX-License-Identifier: MIT
"""QAPIError: the one kind of diagnostic the compiler produces."""

from typing import List, Optional, Tuple

from .source import QAPISourceInfo


class QAPIError(Exception):
    """A schema error, printed as

        In file included from main.json:3:
        sub.json: In struct 'Foo':
        sub.json:12: what is wrong
        sub.json:4: a note, e.g. where something was defined first

    INFO None means the error has no position (an unreadable main file):
    MSG then stands alone.  WITH_CONTEXT False leaves out the context
    line (errors about a doc block as a whole, directives).
    """

    def __init__(self, info: Optional[QAPISourceInfo], msg: str,
                 col: Optional[int] = None,
                 notes: Optional[List[Tuple[QAPISourceInfo, str]]] = None,
                 with_context: bool = True):
        super().__init__(msg)
        self.info = info
        self.msg = msg
        self.col = col
        self.notes = notes or []
        self.with_context = with_context

    def __str__(self) -> str:
        if self.info is None:
            return self.msg
        lines = self.info.include_chain()
        context = self.info.context() if self.with_context else None
        if context:
            lines.append(context)
        lines.append('%s: %s' % (self.info.loc(self.col), self.msg))
        for info, note in self.notes:
            lines.append('%s: %s' % (info.loc(), note))
        return '\n'.join(lines)
